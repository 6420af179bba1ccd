/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * A pCID as a hash table key, and its stable 64-bit hash for policies.
 */
#ifndef PG_PCID_H
#define PG_PCID_H

#include <linux/string.h>
#include <linux/types.h>
#include <linux/promisegrid.h>

struct pg_cid_key {
	u8 len;
	u8 bytes[PG_CID_MAX];		/* zero past len: memcmp()-able */
};

static inline void pg_cid_key_set(struct pg_cid_key *key, const u8 *cid,
				  u32 len)
{
	memset(key, 0, sizeof(*key));
	key->len = len;
	memcpy(key->bytes, cid, len);
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
