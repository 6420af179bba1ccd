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

#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/promisegrid.h>

struct pg_endpoint;

/*
 * A frame as the check of its send and the checks of its deliveries see
 * it. The context's pcid_hash is computed on the first check that builds
 * a context and kept for the others: one hash per frame, not per check.
 * Once the frame's route is found, cid points at the route's copy of the
 * pCID, zero-padded, and its hash is the route's.
 */
struct pg_authz_frame {
	const u8 *cid;
	u32 cid_len;
	u32 len;		/* the frame's bytes */
	bool hashed;
	bool padded;		/* cid[] has PG_CID_MAX bytes, zero after */
	u64 hash;		/* pg_cid_hash(cid), once hashed */
};

#define PG_AUTHZ_FRAME(c, clen, flen) \
	((struct pg_authz_frame){ .cid = (c), .cid_len = (clen), .len = (flen) })

/* pg_cid_hash() of the frame's pCID, computed once. */
u64 pg_authz_frame_hash(struct pg_authz_frame *fr);

int pg_authorize_frame(enum pg_authz_op op, struct pg_endpoint *ep,
		       struct pg_authz_frame *fr, u32 wanted);

/* The same for a request that names a pCID but carries no frame. */
int pg_authorize(enum pg_authz_op op, struct pg_endpoint *ep, const u8 *cid,
		 u32 cid_len, u32 wanted, size_t frame_len);

/*
 * A refusal the capability rules decided before any pCID right could be
 * asked about (a forged, expired or revoked token, a revoke by someone
 * who did not mint the token): counted and traced like any denial. @cid
 * may be NULL when the request names no pCID. Always -EACCES.
 */
int pg_authz_refuse(enum pg_authz_op op, struct pg_endpoint *ep,
		    const u8 *cid, u32 cid_len, u32 wanted);

/*
 * Whether each delivery of a frame on @cid must be authorized: when the
 * pCID is claimed (rights can end), or a policy or tracer listens. Asked
 * once per frame; unclaimed pCIDs with nobody listening cost nothing.
 */
bool pg_authorize_deliveries(const u8 *cid, u32 cid_len);

#endif /* PG_AUTHORIZE_H */
