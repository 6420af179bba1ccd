/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * A minimal grid-cbor encoder for the frames the kernel writes itself
 * (replies, notices, attestation headers). It writes shortest heads only,
 * so its output is deterministic as long as callers emit map keys in
 * order. Writing past the end sets ->overflow instead.
 */
#ifndef PG_CBOR_ENC_H
#define PG_CBOR_ENC_H

#include <linux/types.h>

struct pg_enc {
	u8 *p;
	size_t cap;
	size_t len;
	bool overflow;
};

static inline void pg_enc_init(struct pg_enc *e, u8 *p, size_t cap)
{
	e->p = p;
	e->cap = cap;
	e->len = 0;
	e->overflow = false;
}

/* An encoder that writes nothing: the reply it would build is not sent. */
static inline void pg_enc_discard(struct pg_enc *e)
{
	pg_enc_init(e, NULL, 0);
	e->overflow = true;
}

void pg_enc_raw(struct pg_enc *e, const void *p, size_t n);
void pg_enc_head(struct pg_enc *e, u8 major, u64 arg);
void pg_enc_text(struct pg_enc *e, const char *s);
/* @n bytes of text at @s, which need not end in NUL. */
void pg_enc_text_n(struct pg_enc *e, const char *s, size_t n);
void pg_enc_bytes(struct pg_enc *e, const void *p, size_t n);
void pg_enc_null(struct pg_enc *e);
void pg_enc_bool(struct pg_enc *e, bool v);
/* 42(h'00' || cid): a CID link, as pCIDs and parents are written. */
void pg_enc_pcid(struct pg_enc *e, const u8 *cid, size_t len);
void pg_enc_grid(struct pg_enc *e, const u8 *cid, size_t cid_len,
		 u32 nslots);

static inline void pg_enc_uint(struct pg_enc *e, u64 v)
{
	pg_enc_head(e, 0, v);
}

static inline void pg_enc_array(struct pg_enc *e, u64 n)
{
	pg_enc_head(e, 4, n);
}

static inline void pg_enc_map(struct pg_enc *e, u64 n)
{
	pg_enc_head(e, 5, n);
}

/* A map entry with a text key and an unsigned value. */
static inline void pg_enc_kv_uint(struct pg_enc *e, const char *k, u64 v)
{
	pg_enc_text(e, k);
	pg_enc_uint(e, v);
}

#endif /* PG_CBOR_ENC_H */
