/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * The kernel control protocol (docs/protocols/pg-kernel-control-v4.md):
 * requests written to the device, replies queued to the requester.
 */
#ifndef PG_CONTROL_H
#define PG_CONTROL_H

#include <linux/types.h>

struct pg_buf;
struct pg_endpoint;
struct pg_envelope;

/* Largest kernel reply. */
#define PG_REPLY_MAX	1024

int pg_control(struct pg_endpoint *ep, struct pg_buf *buf, u32 off,
	       const struct pg_envelope *env);

#endif /* PG_CONTROL_H */
