/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Capabilities: the rights to send, receive and grant on a pCID, held by
 * endpoints through a claim or redeemed tokens.
 */
#ifndef PG_CAPS_H
#define PG_CAPS_H

#include <linux/atomic.h>
#include <linux/types.h>
#include <linux/promisegrid.h>

struct pg_endpoint;

/* What an endpoint holds on one pCID, as the authorization hook sees it. */
struct pg_rights {
	bool claimed;
	u32 rights;			/* PG_RIGHT_* */
	u32 source;			/* enum pg_rights_source */
	u32 depth;			/* of the token, 0 for claim or open */
	u64 expires;			/* of the token, boottime ns, 0 never */
};

int pg_caps_init(void);
void pg_caps_exit(void);

/* Claims in force; 0 (the common case): every pCID is open. */
extern atomic_t pg_nclaims;

/* pg_caps_rights() once something is claimed; @r holds the open rights. */
void __pg_caps_rights(struct pg_endpoint *ep, const u8 *cid, u32 cid_len,
		      struct pg_rights *r);

/*
 * The union of @ep's valid holdings on the pCID: open unless claimed.
 * Inline for the check every frame makes when nothing is claimed: no
 * call, no lookup.
 */
static inline void pg_caps_rights(struct pg_endpoint *ep, const u8 *cid,
				  u32 cid_len, struct pg_rights *r)
{
	*r = (struct pg_rights){ .rights = PG_RIGHTS_ALL,
				 .source = PG_SRC_OPEN };
	if (atomic_read(&pg_nclaims))
		__pg_caps_rights(ep, cid, cid_len, r);
}

bool pg_caps_claimed(const u8 *cid, u32 cid_len);
/* Revoke expired tokens now, rather than when the reaper next runs. */
void pg_caps_reap(void);
int pg_caps_claim(struct pg_endpoint *ep, const u8 *cid, u32 cid_len);
int pg_caps_grant(struct pg_endpoint *ep, const u8 *cid, u32 cid_len,
		  u32 rights, u64 ttl_ms, u8 token[PG_TOKEN_LEN],
		  u32 *granted);
int pg_caps_redeem(struct pg_endpoint *ep, const u8 *token, u32 len,
		   u8 *cid, u32 *cid_len, u32 *rights);
int pg_caps_revoke(struct pg_endpoint *ep, const u8 *token, u32 len,
		   u32 *tokens, u32 *holders);
void pg_caps_forget(struct pg_endpoint *ep);

#endif /* PG_CAPS_H */
