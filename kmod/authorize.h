/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * The authorization hook. Every routed or carried send, receive
 * registration, claim, grant, redeem and revoke asks here first: the
 * capability rules give the built-in verdict, then eBPF programs attached
 * to the writable raw tracepoint pg_authorize may add a denial (see
 * struct pg_authz in the uapi header). 0 or -EACCES.
 */
#ifndef PG_AUTHORIZE_H
#define PG_AUTHORIZE_H

#include <linux/types.h>
#include <linux/promisegrid.h>

struct pg_endpoint;

int pg_authorize(enum pg_authz_op op, struct pg_endpoint *ep, const u8 *cid,
		 u32 cid_len, u32 wanted, size_t frame_len);

#endif /* PG_AUTHORIZE_H */
