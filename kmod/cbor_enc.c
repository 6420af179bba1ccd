// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/string.h>
#include <linux/promisegrid.h>
#include "cbor_enc.h"
#include "pg_cbor.h"

void pg_enc_raw(struct pg_enc *e, const void *p, size_t n)
{
	if (e->overflow || n > e->cap - e->len) {
		e->overflow = true;
		return;
	}
	memcpy(e->p + e->len, p, n);
	e->len += n;
}

void pg_enc_head(struct pg_enc *e, u8 major, u64 arg)
{
	u8 h[PG_CBOR_HEAD_MAX];

	pg_enc_raw(e, h, pg_cbor_put_head(h, major, arg));
}

void pg_enc_pcid(struct pg_enc *e, const u8 *cid, size_t len)
{
	static const u8 zero;

	pg_enc_head(e, 6, PG_CID_TAG);
	pg_enc_head(e, 2, len + 1);
	pg_enc_raw(e, &zero, 1);
	pg_enc_raw(e, cid, len);
}

void pg_enc_text_n(struct pg_enc *e, const char *s, size_t n)
{
	pg_enc_head(e, 3, n);
	pg_enc_raw(e, s, n);
}

void pg_enc_text(struct pg_enc *e, const char *s)
{
	pg_enc_text_n(e, s, strlen(s));
}

void pg_enc_bytes(struct pg_enc *e, const void *p, size_t n)
{
	pg_enc_head(e, 2, n);
	pg_enc_raw(e, p, n);
}

void pg_enc_null(struct pg_enc *e)
{
	static const u8 null = 0xf6;

	pg_enc_raw(e, &null, 1);
}

void pg_enc_bool(struct pg_enc *e, bool v)
{
	u8 b = v ? 0xf5 : 0xf4;

	pg_enc_raw(e, &b, 1);
}

/* grid([42(h'00' cid), then nslots - 1 slots the caller writes */
void pg_enc_grid(struct pg_enc *e, const u8 *cid, size_t cid_len,
		 u32 nslots)
{
	static const u8 grid_tag[] = PG_GRID_TAG_BYTES;
	static const u8 zero;

	pg_enc_raw(e, grid_tag, sizeof(grid_tag));
	pg_enc_array(e, nslots);
	pg_enc_head(e, 6, PG_CID_TAG);
	pg_enc_head(e, 2, cid_len + 1);
	pg_enc_raw(e, &zero, 1);
	pg_enc_raw(e, cid, cid_len);
}
