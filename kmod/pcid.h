/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * A pCID as a hash table key, and its stable 64-bit hash for policies.
 */
#ifndef PG_PCID_H
#define PG_PCID_H

#include <linux/jhash.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/promisegrid.h>

/*
 * The key of the pCID hash tables: a pointer and a length, so a lookup
 * hashes the CID where it lies in the frame, copying nothing. A table
 * entry keeps the bytes itself and a pg_cid_ref to them.
 */
struct pg_cid_ref {
	const u8 *p;
	u32 len;
};

static inline u32 pg_cid_ref_hash(const void *data, u32 len, u32 seed)
{
	const struct pg_cid_ref *ref = data;

	return jhash(ref->p, ref->len, seed);
}

static inline bool pg_cid_ref_eq(const struct pg_cid_ref *a,
				 const struct pg_cid_ref *b)
{
	return a->len == b->len && !memcmp(a->p, b->p, a->len);
}

/*
 * rhashtable_params for a table of struct TAG keyed by its pg_cid_ref
 * FIELD; the file defines pg_cid_obj_hash_TAG() and pg_cid_obj_cmp_TAG().
 */
#define PG_CID_TABLE_PARAMS(tag, field, node)				\
	{								\
		.key_len = sizeof(struct pg_cid_ref),			\
		.key_offset = offsetof(struct tag, field),		\
		.head_offset = offsetof(struct tag, node),		\
		.hashfn = pg_cid_ref_hash,				\
		.obj_hashfn = pg_cid_obj_hash_##tag,			\
		.obj_cmpfn = pg_cid_obj_cmp_##tag,			\
		.automatic_shrinking = true,				\
	}

/*
 * FNV-1a 64 over the CID bytes: what struct pg_authz carries as pcid_hash,
 * easy for a policy loader to compute for its map keys.
 */
static inline u64 pg_cid_hash(const u8 *cid, u32 len)
{
	u64 h = 0xcbf29ce484222325ULL;

	while (len--) {
		h ^= *cid++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#endif /* PG_PCID_H */
