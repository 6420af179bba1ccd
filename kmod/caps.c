// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Claims, tokens and holdings.
 *
 *   claim    - one per claimed pCID, owned by the endpoint that claimed it
 *              and ended when that endpoint closes (its tokens with it).
 *   token    - minted by "grant" from a holding with the grant right; a
 *              tree per claim (a token minted from a redeemed token is its
 *              child). 32 bearer bytes: an 8-byte random index into
 *              pg_tokens and a 24-byte random secret compared in constant
 *              time.
 *   holding  - an endpoint's rights on a claim: the claimer's own, or one
 *              per redeemed token. In pg_holdings, keyed by (endpoint,
 *              claim), so a check costs one lookup whatever the numbers
 *              of pCIDs, tokens and endpoints.
 *
 * Expiry: tokens with a ttl are also in pg_expiring, ordered by expiry; a
 * delayed work revokes each when it expires (and grant, redeem and stats
 * reap first), so an expired token or redemption never counts against a
 * limit or in stats. Until it is reaped, checks treat it as absent.
 *
 * Locking: pg_caps_mutex serializes every change. The message path only
 * reads, under RCU: a revoked token is marked before its holdings leave
 * the table, so a check either misses the holding or sees the mark.
 * Everything is freed with kfree_rcu().
 */
#include <crypto/algapi.h>
#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/rbtree.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "authorize.h"
#include "caps.h"
#include "endpoint.h"
#include "params.h"
#include "pcid.h"
#include "stats.h"

#define PG_TOKEN_SECRET	(PG_TOKEN_LEN - sizeof(u64))

struct pg_claim {
	struct rhash_head node;		/* pg_claims */
	struct pg_cid_ref key;		/* points at cid[] */
	u8 cid[PG_CID_MAX];
	struct pg_endpoint *owner;	/* no reference: ends at its close */
	struct list_head owner_node;	/* owner->claims */
	struct pg_holding *own;		/* the claimer's holding */
	struct list_head tokens;	/* tokens minted from the claim */
	u32 ntokens;			/* every token of the claim */
	struct rcu_head rcu;
};

struct pg_token {
	struct rhash_head node;		/* pg_tokens, keyed by id */
	u64 id;
	u8 secret[PG_TOKEN_SECRET];
	struct pg_claim *claim;
	struct list_head sibling;	/* parent->children or claim->tokens */
	struct list_head children;	/* tokens minted from this one */
	struct list_head holdings;	/* its redemptions */
	u64 minter;			/* endpoint id: may revoke it */
	u64 expires;			/* boottime ns; 0: never */
	struct rb_node expiry_node;	/* in pg_expiring if expires */
	u32 rights;
	u32 depth;			/* 1: minted from the claim */
	bool revoked;			/* READ_ONCE() on the message path */
	struct rcu_head rcu;
};

struct pg_holding_key {
	struct pg_endpoint *ep;
	struct pg_claim *claim;
};

struct pg_holding {
	struct rhlist_head node;	/* pg_holdings */
	struct pg_holding_key key;
	struct pg_token *token;		/* NULL: the claim itself */
	u32 rights;
	struct list_head ep_node;	/* ep->holdings */
	struct list_head token_node;	/* token->holdings */
	struct rcu_head rcu;
};

static DEFINE_MUTEX(pg_caps_mutex);
atomic_t pg_nclaims = ATOMIC_INIT(0);		/* 0: skip all lookups */
static struct rhashtable pg_claims;
static struct rhashtable pg_tokens;
static struct rhltable pg_holdings;
static struct rb_root_cached pg_expiring = RB_ROOT_CACHED;	/* by expiry */

static void pg_caps_reap_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(pg_reap_dwork, pg_caps_reap_work);

static u32 pg_cid_obj_hash_pg_claim(const void *obj, u32 len, u32 seed)
{
	return pg_cid_ref_hash(&((const struct pg_claim *)obj)->key, len, seed);
}

static int pg_cid_obj_cmp_pg_claim(struct rhashtable_compare_arg *arg,
				   const void *obj)
{
	return !pg_cid_ref_eq(arg->key, &((const struct pg_claim *)obj)->key);
}

static const struct rhashtable_params pg_claim_params =
	PG_CID_TABLE_PARAMS(pg_claim, key, node);

static const struct rhashtable_params pg_token_params = {
	.key_len = sizeof(u64),
	.key_offset = offsetof(struct pg_token, id),
	.head_offset = offsetof(struct pg_token, node),
	.automatic_shrinking = true,
};

static const struct rhashtable_params pg_holding_params = {
	.key_len = sizeof(struct pg_holding_key),
	.key_offset = offsetof(struct pg_holding, key),
	.head_offset = offsetof(struct pg_holding, node),
	.automatic_shrinking = true,
};

int pg_caps_init(void)
{
	int err;

	err = rhashtable_init(&pg_claims, &pg_claim_params);
	if (err)
		return err;
	err = rhashtable_init(&pg_tokens, &pg_token_params);
	if (err)
		goto err_claims;
	err = rhltable_init(&pg_holdings, &pg_holding_params);
	if (err)
		goto err_tokens;
	return 0;

err_tokens:
	rhashtable_destroy(&pg_tokens);
err_claims:
	rhashtable_destroy(&pg_claims);
	return err;
}

void pg_caps_exit(void)
{
	/* Every endpoint is closed, so every claim, token and holding went. */
	cancel_delayed_work_sync(&pg_reap_dwork);
	rhltable_destroy(&pg_holdings);
	rhashtable_destroy(&pg_tokens);
	rhashtable_destroy(&pg_claims);
}

static struct pg_claim *pg_claim_find(const u8 *cid, u32 len)
{
	struct pg_cid_ref key = { .p = cid, .len = len };

	return rhashtable_lookup_fast(&pg_claims, &key, pg_claim_params);
}

bool pg_caps_claimed(const u8 *cid, u32 cid_len)
{
	bool claimed;

	if (!atomic_read(&pg_nclaims))
		return false;
	rcu_read_lock();
	claimed = pg_claim_find(cid, cid_len);
	rcu_read_unlock();
	return claimed;
}

/* Reads the clock only for tokens that expire: it is not free. */
static bool pg_holding_valid(const struct pg_holding *h)
{
	const struct pg_token *t = h->token;

	return !t || (!READ_ONCE(t->revoked) &&
		      (!t->expires || ktime_get_boottime_ns() < t->expires));
}

static struct rhlist_head *pg_holdings_of(struct pg_endpoint *ep,
					  struct pg_claim *claim)
{
	struct pg_holding_key key = { .ep = ep, .claim = claim };

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "holdings looked up without RCU");
	return rhltable_lookup(&pg_holdings, &key, pg_holding_params);
}

/* Replaces the open rights in @r if the pCID is claimed. */
void __pg_caps_rights(struct pg_endpoint *ep, const u8 *cid, u32 cid_len,
		      struct pg_rights *r)
{
	struct rhlist_head *list, *pos;
	struct pg_claim *claim;
	struct pg_holding *h;

	rcu_read_lock();
	claim = pg_claim_find(cid, cid_len);
	if (!claim)
		goto out;
	*r = (struct pg_rights){ .claimed = true, .source = PG_SRC_NONE };
	list = pg_holdings_of(ep, claim);
	rhl_for_each_entry_rcu(h, pos, list, node) {
		if (!pg_holding_valid(h))
			continue;
		r->rights |= h->rights;
		if (!h->token) {
			r->source = PG_SRC_CLAIM;
		} else if (r->source != PG_SRC_CLAIM) {
			r->source = PG_SRC_TOKEN;
			r->depth = h->token->depth;
			r->expires = h->token->expires;
		}
	}
out:
	rcu_read_unlock();
}

static struct pg_holding *pg_holding_add(struct pg_endpoint *ep,
					 struct pg_claim *claim,
					 struct pg_token *token, u32 rights)
{
	struct pg_holding *h;
	int err;

	lockdep_assert_held(&pg_caps_mutex);
	if (ep->nholdings >= READ_ONCE(pg_max_holdings))
		return ERR_PTR(-ENOSPC);
	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return ERR_PTR(-ENOMEM);
	h->key.ep = ep;
	h->key.claim = claim;
	h->token = token;
	h->rights = rights;
	err = rhltable_insert(&pg_holdings, &h->node, pg_holding_params);
	if (err) {
		kfree(h);
		return ERR_PTR(err);
	}
	list_add_tail(&h->ep_node, &ep->holdings);
	ep->nholdings++;
	if (token)
		list_add_tail(&h->token_node, &token->holdings);
	else
		INIT_LIST_HEAD(&h->token_node);
	return h;
}

static void pg_holding_remove(struct pg_holding *h)
{
	lockdep_assert_held(&pg_caps_mutex);
	rhltable_remove(&pg_holdings, &h->node, pg_holding_params);
	list_del(&h->ep_node);
	list_del(&h->token_node);
	h->key.ep->nholdings--;
	kfree_rcu(h, rcu);
}

/*
 * Revoke @t and every token derived from it, without recursion. Returns
 * how many tokens; adds the redemptions to @holders.
 */
static u32 pg_token_revoke(struct pg_token *t, u32 *holders)
{
	struct pg_holding *h, *htmp;
	LIST_HEAD(work);
	u32 n = 0;

	lockdep_assert_held(&pg_caps_mutex);
	list_move(&t->sibling, &work);
	while (!list_empty(&work)) {
		t = list_first_entry(&work, struct pg_token, sibling);
		/* Mark first: from here on no check honours it. */
		WRITE_ONCE(t->revoked, true);
		list_splice_init(&t->children, &work);
		list_for_each_entry_safe(h, htmp, &t->holdings, token_node) {
			pg_holding_remove(h);
			(*holders)++;
		}
		rhashtable_remove_fast(&pg_tokens, &t->node, pg_token_params);
		if (t->expires)
			rb_erase_cached(&t->expiry_node, &pg_expiring);
		list_del(&t->sibling);
		t->claim->ntokens--;
		pg_stat_add(PG_STAT_TOKENS, -1);
		kfree_rcu(t, rcu);
		n++;
	}
	return n;
}

static bool pg_token_expiry_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct pg_token, expiry_node)->expires <
	       rb_entry(b, struct pg_token, expiry_node)->expires;
}

/* Run the reaper when the earliest token expires. */
static void pg_reap_arm(void)
{
	struct rb_node *first = rb_first_cached(&pg_expiring);
	u64 now = ktime_get_boottime_ns(), at;

	lockdep_assert_held(&pg_caps_mutex);
	if (!first)
		return;
	at = rb_entry(first, struct pg_token, expiry_node)->expires;
	mod_delayed_work(system_wq, &pg_reap_dwork,
			 at > now ? nsecs_to_jiffies(at - now) + 1 : 0);
}

/*
 * Revoke every expired token. Tokens derived from one expire no later
 * than it, so revoking its subtree takes nothing that is still live.
 */
static void pg_reap_expired(void)
{
	u64 now = ktime_get_boottime_ns();
	struct rb_node *first;
	struct pg_token *t;
	u32 holders = 0;

	lockdep_assert_held(&pg_caps_mutex);
	while ((first = rb_first_cached(&pg_expiring))) {
		t = rb_entry(first, struct pg_token, expiry_node);
		if (t->expires > now)
			break;
		pg_token_revoke(t, &holders);
	}
}

static void pg_caps_reap_work(struct work_struct *work)
{
	mutex_lock(&pg_caps_mutex);
	pg_reap_expired();
	pg_reap_arm();
	mutex_unlock(&pg_caps_mutex);
}

void pg_caps_reap(void)
{
	if (RB_EMPTY_ROOT(&pg_expiring.rb_root))
		return;
	mutex_lock(&pg_caps_mutex);
	pg_reap_expired();
	mutex_unlock(&pg_caps_mutex);
}

/* The claimer closed; everything of the claim goes. */
static void pg_claim_end(struct pg_claim *claim)
{
	struct pg_token *t, *tmp;
	u32 holders = 0;

	lockdep_assert_held(&pg_caps_mutex);
	list_for_each_entry_safe(t, tmp, &claim->tokens, sibling)
		pg_token_revoke(t, &holders);
	pg_holding_remove(claim->own);
	rhashtable_remove_fast(&pg_claims, &claim->node, pg_claim_params);
	list_del(&claim->owner_node);
	claim->owner->nclaims--;
	atomic_dec(&pg_nclaims);
	pg_stat_add(PG_STAT_CLAIMS, -1);
	kfree_rcu(claim, rcu);
}

int pg_caps_claim(struct pg_endpoint *ep, const u8 *cid, u32 cid_len)
{
	struct pg_claim *claim;
	int err;

	err = pg_authorize(PG_OP_CLAIM, ep, cid, cid_len, 0, 0);
	if (err)
		return err;
	mutex_lock(&pg_caps_mutex);
	err = -ENOSPC;
	if (ep->nclaims >= READ_ONCE(pg_max_claims))
		goto out;
	err = -ENOMEM;
	claim = kzalloc(sizeof(*claim), GFP_KERNEL_ACCOUNT);
	if (!claim)
		goto out;
	memcpy(claim->cid, cid, cid_len);
	claim->key.p = claim->cid;
	claim->key.len = cid_len;
	claim->owner = ep;
	INIT_LIST_HEAD(&claim->tokens);
	/* _key: the table hashes objects itself (obj_hashfn). */
	err = rhashtable_lookup_insert_key(&pg_claims, &claim->key,
					   &claim->node, pg_claim_params);
	if (err) {
		kfree(claim);
		goto out;	/* -EEXIST: claimed already */
	}
	claim->own = pg_holding_add(ep, claim, NULL, PG_RIGHTS_ALL);
	if (IS_ERR(claim->own)) {
		err = PTR_ERR(claim->own);
		rhashtable_remove_fast(&pg_claims, &claim->node,
				       pg_claim_params);
		kfree_rcu(claim, rcu);
		goto out;
	}
	list_add_tail(&claim->owner_node, &ep->claims);
	ep->nclaims++;
	atomic_inc(&pg_nclaims);
	pg_stat_inc(PG_STAT_CLAIMS);
out:
	mutex_unlock(&pg_caps_mutex);
	return err;
}

/* A valid holding of @ep on @claim with @need. */
static struct pg_holding *pg_holding_with(struct pg_endpoint *ep,
					  struct pg_claim *claim, u32 need)
{
	struct pg_holding *h, *found = NULL;
	struct rhlist_head *list, *pos;

	lockdep_assert_held(&pg_caps_mutex);
	/* RCU for the table walk; the mutex keeps what we return alive. */
	rcu_read_lock();
	list = pg_holdings_of(ep, claim);
	rhl_for_each_entry_rcu(h, pos, list, node) {
		if (pg_holding_valid(h) && (h->rights & need) == need) {
			found = h;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * @ep's redemption of @t, if any. Looks only at @ep's holdings on the
 * claim (at most max_holdings), not at every redemption of the token.
 */
static struct pg_holding *pg_holding_of_token(struct pg_endpoint *ep,
					      struct pg_token *t)
{
	struct pg_holding *h, *found = NULL;
	struct rhlist_head *list, *pos;

	lockdep_assert_held(&pg_caps_mutex);
	rcu_read_lock();
	list = pg_holdings_of(ep, t->claim);
	rhl_for_each_entry_rcu(h, pos, list, node) {
		if (h->token == t) {
			found = h;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

static void pg_token_bytes(const struct pg_token *t, u8 out[PG_TOKEN_LEN])
{
	put_unaligned_le64(t->id, out);
	memcpy(out + sizeof(u64), t->secret, PG_TOKEN_SECRET);
}

/* A new token, in the table under a fresh index. */
static int pg_token_insert(struct pg_token *t)
{
	int err, tries;

	lockdep_assert_held(&pg_caps_mutex);
	get_random_bytes(t->secret, sizeof(t->secret));
	for (tries = 0; tries < 8; tries++) {
		t->id = get_random_u64();
		err = rhashtable_lookup_insert_fast(&pg_tokens, &t->node,
						    pg_token_params);
		if (err != -EEXIST)
			return err;
	}
	return -EEXIST;
}

int pg_caps_grant(struct pg_endpoint *ep, const u8 *cid, u32 cid_len,
		  u32 rights, u64 ttl_ms, u8 token[PG_TOKEN_LEN],
		  u32 *granted)
{
	struct pg_token *parent, *t;
	struct pg_claim *claim;
	struct pg_holding *h;
	int err;

	mutex_lock(&pg_caps_mutex);
	err = -ENOENT;
	claim = pg_claim_find(cid, cid_len);
	if (!claim)
		goto out;
	err = pg_authorize(PG_OP_GRANT, ep, cid, cid_len,
			   PG_RIGHT_GRANT | rights, 0);
	if (err)
		goto out;
	/* The rights asked must all come from one holding with grant. */
	h = pg_holding_with(ep, claim, PG_RIGHT_GRANT | rights);
	if (!h) {
		err = pg_authz_refuse(PG_OP_GRANT, ep, cid, cid_len,
				      PG_RIGHT_GRANT | rights);
		goto out;
	}
	if (!rights)
		rights = h->rights;
	parent = h->token;
	err = -EMLINK;
	if (parent && parent->depth >= READ_ONCE(pg_max_token_depth))
		goto out;
	err = -ENOSPC;
	if (claim->ntokens >= READ_ONCE(pg_max_tokens))
		pg_reap_expired();
	if (claim->ntokens >= READ_ONCE(pg_max_tokens))
		goto out;
	err = -ENOMEM;
	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		goto out;
	t->claim = claim;
	INIT_LIST_HEAD(&t->children);
	INIT_LIST_HEAD(&t->holdings);
	t->minter = ep->id;
	t->rights = rights;
	t->depth = parent ? parent->depth + 1 : 1;
	if (ttl_ms)	/* at most PG_TTL_MS_MAX: control.c checks */
		t->expires = ktime_get_boottime_ns() + ttl_ms * NSEC_PER_MSEC;
	/* Never outlive the token it comes from. */
	if (parent && parent->expires &&
	    (!t->expires || t->expires > parent->expires))
		t->expires = parent->expires;
	err = pg_token_insert(t);
	if (err) {
		kfree(t);
		goto out;
	}
	list_add_tail(&t->sibling, parent ? &parent->children : &claim->tokens);
	if (t->expires) {
		rb_add_cached(&t->expiry_node, &pg_expiring,
			      pg_token_expiry_less);
		pg_reap_arm();
	}
	claim->ntokens++;
	pg_stat_inc(PG_STAT_TOKENS);
	pg_token_bytes(t, token);
	*granted = rights;
out:
	mutex_unlock(&pg_caps_mutex);
	return err;
}

/* The live token these bytes name, or NULL. */
static struct pg_token *pg_token_find(const u8 *bytes)
{
	u64 id = get_unaligned_le64(bytes);
	struct pg_token *t;

	lockdep_assert_held(&pg_caps_mutex);
	t = rhashtable_lookup_fast(&pg_tokens, &id, pg_token_params);
	if (!t || crypto_memneq(t->secret, bytes + sizeof(u64),
				PG_TOKEN_SECRET))
		return NULL;
	if (t->expires && ktime_get_boottime_ns() >= t->expires)
		return NULL;
	return t;
}

int pg_caps_redeem(struct pg_endpoint *ep, const u8 *token, u32 len,
		   u8 *cid, u32 *cid_len, u32 *rights)
{
	struct pg_holding *h;
	struct pg_claim *claim;
	struct pg_token *t;
	int err;

	if (len != PG_TOKEN_LEN)
		return -EINVAL;
	mutex_lock(&pg_caps_mutex);
	t = pg_token_find(token);
	if (!t) {
		err = pg_authz_refuse(PG_OP_REDEEM, ep, NULL, 0, 0);
		goto out;
	}
	claim = t->claim;
	err = pg_authorize(PG_OP_REDEEM, ep, claim->cid, claim->key.len, 0, 0);
	if (err)
		goto out;
	/* Redeeming the same token twice changes nothing. */
	if (pg_holding_of_token(ep, t))
		goto done;
	if (ep->nholdings >= READ_ONCE(pg_max_holdings))
		pg_reap_expired();
	h = pg_holding_add(ep, claim, t, t->rights);
	err = PTR_ERR_OR_ZERO(h);
	if (err)
		goto out;
done:
	memcpy(cid, claim->cid, claim->key.len);
	*cid_len = claim->key.len;
	*rights = t->rights;
	err = 0;
out:
	mutex_unlock(&pg_caps_mutex);
	return err;
}

int pg_caps_revoke(struct pg_endpoint *ep, const u8 *token, u32 len,
		   u32 *tokens, u32 *holders)
{
	struct pg_claim *claim;
	struct pg_token *t;
	int err;

	if (len != PG_TOKEN_LEN)
		return -EINVAL;
	mutex_lock(&pg_caps_mutex);
	t = pg_token_find(token);
	if (!t) {
		err = pg_authz_refuse(PG_OP_REVOKE, ep, NULL, 0, 0);
		goto out;
	}
	claim = t->claim;
	/* The minter and the claimer may revoke; a mere holder may not. */
	if (t->minter != ep->id && claim->owner != ep) {
		err = pg_authz_refuse(PG_OP_REVOKE, ep, claim->cid,
				      claim->key.len, 0);
		goto out;
	}
	err = pg_authorize(PG_OP_REVOKE, ep, claim->cid, claim->key.len, 0, 0);
	if (err)
		goto out;
	*holders = 0;
	*tokens = pg_token_revoke(t, holders);
out:
	mutex_unlock(&pg_caps_mutex);
	return err;
}

/* The endpoint is closing: its holdings and claims end. */
void pg_caps_forget(struct pg_endpoint *ep)
{
	struct pg_holding *h, *htmp;
	struct pg_claim *c, *ctmp;

	mutex_lock(&pg_caps_mutex);
	list_for_each_entry_safe(c, ctmp, &ep->claims, owner_node)
		pg_claim_end(c);
	list_for_each_entry_safe(h, htmp, &ep->holdings, ep_node)
		pg_holding_remove(h);
	mutex_unlock(&pg_caps_mutex);
}
