/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * The authorization hook on the message path. Every send of a routed
 * frame and every receive registration asks here first; a non-zero
 * answer (-EACCES) refuses it before anything is queued.
 *
 * For now every operation is allowed: the capability rules (claim, grant,
 * redeem, revoke) and the writable raw tracepoint pg_authorize through
 * which eBPF policy programs give the verdict plug in here.
 */
#ifndef PG_AUTHORIZE_H
#define PG_AUTHORIZE_H

#include <linux/types.h>

struct pg_endpoint;

enum pg_auth_op {
	PG_AUTH_SEND,		/* a frame on a pCID */
	PG_AUTH_RECEIVE,	/* a receive (fan-out or group) on a pCID */
};

static inline int pg_authorize(enum pg_auth_op op, struct pg_endpoint *ep,
			       const u8 *cid, u32 cid_len, size_t frame_len)
{
	return 0;
}

#endif /* PG_AUTHORIZE_H */
