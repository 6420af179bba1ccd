// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/cred.h>
#include <linux/pid_namespace.h>
#include <linux/uidgid.h>
#include "authorize.h"
#include "caps.h"
#include "endpoint.h"
#include "params.h"
#include "pcid.h"
#include "stats.h"
#include "trace.h"

u64 pg_authz_frame_hash(struct pg_authz_frame *fr)
{
	if (!fr->hashed) {
		fr->hash = pg_cid_hash(fr->cid, fr->cid_len);
		fr->hashed = true;
	}
	return fr->hash;
}

/* The layout has no holes and no tail: every byte is a field's. */
#define PG_AUTHZ_FIELD_BYTES						\
	(sizeof_field(struct pg_authz, op) +				\
	 sizeof_field(struct pg_authz, builtin) +			\
	 sizeof_field(struct pg_authz, verdict) +			\
	 sizeof_field(struct pg_authz, stamp) +				\
	 sizeof_field(struct pg_authz, endpoint) +			\
	 sizeof_field(struct pg_authz, cgroup_id) +			\
	 sizeof_field(struct pg_authz, pid) +				\
	 sizeof_field(struct pg_authz, uid) +				\
	 sizeof_field(struct pg_authz, gid) +				\
	 sizeof_field(struct pg_authz, rights) +			\
	 sizeof_field(struct pg_authz, source) +			\
	 sizeof_field(struct pg_authz, token_depth) +			\
	 sizeof_field(struct pg_authz, token_expires_ns) +		\
	 sizeof_field(struct pg_authz, rights_wanted) +			\
	 sizeof_field(struct pg_authz, frame_len) +			\
	 sizeof_field(struct pg_authz, pcid_hash) +			\
	 sizeof_field(struct pg_authz, pcid_len) +			\
	 sizeof_field(struct pg_authz, pcid) +				\
	 sizeof_field(struct pg_authz, claimed))
static_assert(sizeof(struct pg_authz) == PG_AUTHZ_FIELD_BYTES);

/*
 * Every byte of @a is written here, none twice: the contexts are built on
 * the message path (two a frame under a policy), so neither a memset()
 * nor the stack's automatic zeroing (the callers' __uninitialized) comes
 * first, and no byte of the kernel's stack reaches a program unwritten.
 * @fr may be NULL: a refusal that names no pCID.
 */
static __always_inline void pg_authz_fill(struct pg_authz *a,
					  enum pg_authz_op op,
					  struct pg_endpoint *ep,
					  struct pg_authz_frame *fr,
					  const struct pg_rights *r,
					  u32 wanted, u32 builtin)
{
	u32 n = fr ? min_t(u32, fr->cid_len, sizeof(a->pcid)) : 0;

	a->op = op;
	a->builtin = builtin;
	a->verdict = PG_VERDICT_ALLOW;
	a->stamp = 0;
	/* The endpoint's opener is the principal, not the writing task. */
	a->endpoint = ep->id;
	a->cgroup_id = ep->cgroup_id;
	/* Its number, kept from open, while it lives (as pg_ep_opener_pid()). */
	a->pid = pid_has_task(ep->opener, PIDTYPE_TGID) ? ep->opener_nr : 0;
	a->uid = ep->uid;
	a->gid = ep->gid;
	a->rights = r->rights;
	a->source = r->source;
	a->token_depth = r->depth;
	a->token_expires_ns = r->expires;
	a->rights_wanted = wanted;
	a->frame_len = fr ? fr->len : 0;
	a->pcid_hash = fr ? pg_authz_frame_hash(fr) : 0;
	a->pcid_len = fr ? fr->cid_len : 0;
	if (fr && fr->padded) {
		BUILD_BUG_ON(sizeof(a->pcid) > PG_CID_MAX);
		memcpy(a->pcid, fr->cid, sizeof(a->pcid));
	} else {
		if (n)
			memcpy(a->pcid, fr->cid, n);
		memset(a->pcid + n, 0, sizeof(a->pcid) - n);
	}
	a->claimed = r->claimed;
}

/* Count and trace a denial; the context's builtin is the rules' verdict. */
static int pg_authz_denied(struct pg_authz *a, u32 builtin)
{
	pg_stat_inc(PG_STAT_DENIED);
	if (a && trace_pg_deny_enabled()) {
		a->builtin = builtin;
		trace_pg_deny(a);
	}
	return -EACCES;
}

static bool pg_authz_listening(void)
{
	return READ_ONCE(pg_enforcing) || trace_pg_authorize_enabled() ||
	       trace_pg_deny_enabled();
}

int pg_authorize_frame(enum pg_authz_op op, struct pg_endpoint *ep,
		       struct pg_authz_frame *fr, u32 wanted)
{
	bool enforcing = READ_ONCE(pg_enforcing);
	struct pg_authz a __uninitialized;	/* pg_authz_fill() writes all */
	struct pg_rights r;
	u32 builtin;
	bool deny;

	pg_caps_rights(ep, fr->cid, fr->cid_len, &r);
	builtin = !r.claimed || (r.rights & wanted) == wanted ?
		  PG_VERDICT_ALLOW : PG_VERDICT_DENY;
	/* Nobody to ask: the rules alone decide, without building a context. */
	if (!pg_authz_listening()) {
		if (builtin == PG_VERDICT_ALLOW)
			return 0;
		return pg_authz_denied(NULL, builtin);
	}

	pg_authz_fill(&a, op, ep, fr, &r, wanted, builtin);
	trace_pg_authorize(&a);
	/*
	 * Programs only add denials: our own copy of the built-in verdict
	 * counts, whatever a program wrote into the context.
	 */
	deny = builtin == PG_VERDICT_DENY || a.verdict == PG_VERDICT_DENY ||
	       (enforcing && a.stamp != PG_POLICY_STAMP);
	if (!deny)
		return 0;
	return pg_authz_denied(&a, builtin);
}

int pg_authorize(enum pg_authz_op op, struct pg_endpoint *ep, const u8 *cid,
		 u32 cid_len, u32 wanted, size_t frame_len)
{
	struct pg_authz_frame fr = PG_AUTHZ_FRAME(cid, cid_len, frame_len);

	return pg_authorize_frame(op, ep, &fr, wanted);
}

int pg_authz_refuse(enum pg_authz_op op, struct pg_endpoint *ep,
		    const u8 *cid, u32 cid_len, u32 wanted)
{
	struct pg_authz_frame fr = PG_AUTHZ_FRAME(cid, cid_len, 0);
	struct pg_rights r = { .source = PG_SRC_NONE };
	struct pg_authz a __uninitialized;	/* pg_authz_fill() writes all */

	if (!trace_pg_deny_enabled())
		return pg_authz_denied(NULL, PG_VERDICT_DENY);
	if (cid)
		pg_caps_rights(ep, cid, cid_len, &r);
	pg_authz_fill(&a, op, ep, cid ? &fr : NULL, &r, wanted,
		      PG_VERDICT_DENY);
	return pg_authz_denied(&a, PG_VERDICT_DENY);
}

bool pg_authorize_deliveries(const u8 *cid, u32 cid_len)
{
	return pg_authz_listening() || pg_caps_claimed(cid, cid_len);
}
