/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Attestation: the kernel's delivery envelope (pg-kernel-delivery-v2),
 *	grid([42(PG_PCID_DELIVERY), [endpoint, pid, uid, gid], frame])
 * written in front of the exact frame bytes for receivers that asked.
 */
#ifndef PG_ATTEST_H
#define PG_ATTEST_H

#include <linux/types.h>

struct pg_endpoint;

/* grid tag, array, tag 42, bstr head, 0x00, pCID, [4 x u64] */
#define PG_ATTEST_HDR_MAX	96

size_t pg_attest_header(u8 *out, size_t cap, struct pg_endpoint *rx,
			struct pg_endpoint *tx);

#endif /* PG_ATTEST_H */
