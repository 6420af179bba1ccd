// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Frames: a grid-cbor encoder over libcbor items, and the module's own
 * validator (kmod/pg_cbor.c, kmod/pg_envelope.c) to check and parse what
 * is sent and received.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pg_envelope.h"

static const uint8_t grid_tag[PG_GRID_TAG_LEN] = PG_GRID_TAG_BYTES;

int pg_put_head(struct pg_buf *b, unsigned int major, uint64_t v)
{
	uint8_t h[PG_CBOR_HEAD_MAX];

	return pg_buf_put(b, h, pg_cbor_put_head(h, (uint8_t)major, v));
}

int pg_put_text(struct pg_buf *b, const char *s)
{
	size_t n = strlen(s);

	return pg_put_head(b, 3, n) ?: pg_buf_put(b, s, n);
}

int pg_put_bytes(struct pg_buf *b, const void *p, size_t n)
{
	return pg_put_head(b, 2, n) ?: pg_buf_put(b, p, n);
}

int pg_put_cid(struct pg_buf *b, const struct pg_cid *c)
{
	static const uint8_t zero;

	return pg_put_head(b, 6, PG_CID_TAG) ?: pg_put_head(b, 2, c->len + 1) ?:
	       pg_buf_put(b, &zero, 1) ?: pg_buf_put(b, c->b, c->len);
}

int pg_frame_begin(struct pg_buf *b, const struct pg_cid *pcid, size_t nslots)
{
	return pg_buf_put(b, grid_tag, sizeof(grid_tag)) ?:
	       pg_put_head(b, 4, 1 + nslots) ?: pg_put_cid(b, pcid);
}

/* A half-precision candidate for f (truncated: checked by the caller). */
static uint16_t to_half(float f)
{
	uint32_t fb;
	uint16_t sign;
	int exp;

	memcpy(&fb, &f, 4);
	sign = (uint16_t)((fb >> 16) & 0x8000);
	exp = (int)((fb >> 23) & 0xff) - 127;
	if (isinf(f))
		return sign | 0x7c00;
	if (exp < -24)
		return sign;
	if (exp < -14)		/* subnormal half */
		return sign | (uint16_t)((0x800000 | (fb & 0x7fffff)) >> (-1 - exp));
	if (exp > 15)
		return sign | 0x7c00;
	return sign | (uint16_t)((exp + 15) << 10 | ((fb >> 13) & 0x3ff));
}

double pg_half_to_double(uint16_t h)
{
	int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	double v;

	if (exp == 0)
		v = ldexp(mant, -24);
	else if (exp == 31)
		v = mant ? NAN : INFINITY;
	else
		v = ldexp(mant + 1024, exp - 25);
	return h & 0x8000 ? -v : v;
}

/* The shortest IEEE 754 form that keeps d: 16, 32 or 64 bits. */
static int put_float(struct pg_buf *b, double d)
{
	uint8_t h[9];
	uint64_t bits;
	uint32_t fb;
	float f = (float)d;
	size_t i;

	if (isnan(d))
		return pg_buf_put(b, (uint8_t[]){ 0xf9, 0x7e, 0x00 }, 3);
	if ((double)f == d) {
		uint16_t hb = to_half(f);

		if (pg_half_to_double(hb) == d && signbit(pg_half_to_double(hb)) == signbit(d)) {
			h[0] = 0xf9; h[1] = (uint8_t)(hb >> 8); h[2] = (uint8_t)hb;
			return pg_buf_put(b, h, 3);
		}
		memcpy(&fb, &f, 4);
		h[0] = 0xfa;
		for (i = 0; i < 4; i++)
			h[1 + i] = (uint8_t)(fb >> (8 * (3 - i)));
		return pg_buf_put(b, h, 5);
	}
	memcpy(&bits, &d, 8);
	h[0] = 0xfb;
	for (i = 0; i < 8; i++)
		h[1 + i] = (uint8_t)(bits >> (8 * (7 - i)));
	return pg_buf_put(b, h, 9);
}

static int encode(struct pg_buf *b, const cbor_item_t *it, unsigned int depth);

/* Strings: indefinite ones are joined into one definite string. */
static int put_string(struct pg_buf *b, const cbor_item_t *it, unsigned int major)
{
	bool bytes = major == 2;
	bool indef = bytes ? cbor_bytestring_is_indefinite(it) :
			     cbor_string_is_indefinite(it);
	cbor_item_t **chunks;
	size_t n, i, total = 0;
	int err;

	if (!indef)
		return bytes ? pg_put_bytes(b, cbor_bytestring_handle(it),
					    cbor_bytestring_length(it)) :
			       (pg_put_head(b, 3, cbor_string_length(it)) ?:
				pg_buf_put(b, cbor_string_handle(it),
					   cbor_string_length(it)));
	chunks = bytes ? cbor_bytestring_chunks_handle(it) : cbor_string_chunks_handle(it);
	n = bytes ? cbor_bytestring_chunk_count(it) : cbor_string_chunk_count(it);
	for (i = 0; i < n; i++)
		total += bytes ? cbor_bytestring_length(chunks[i]) :
				 cbor_string_length(chunks[i]);
	err = pg_put_head(b, major, total);
	for (i = 0; i < n && !err; i++)
		err = bytes ? pg_buf_put(b, cbor_bytestring_handle(chunks[i]),
					 cbor_bytestring_length(chunks[i])) :
			      pg_buf_put(b, cbor_string_handle(chunks[i]),
					 cbor_string_length(chunks[i]));
	return err;
}

struct enc_pair {
	struct pg_buf key;
	const cbor_item_t *value;
};

static int cmp_keys(const void *a, const void *b)
{
	const struct pg_buf *x = &((const struct enc_pair *)a)->key;
	const struct pg_buf *y = &((const struct enc_pair *)b)->key;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Maps: entries sorted by the bytes of their encoded keys, no duplicates. */
static int put_map(struct pg_buf *b, const cbor_item_t *it, unsigned int depth)
{
	size_t n = cbor_map_size(it), i;
	struct cbor_pair *pairs = cbor_map_handle(it);
	struct enc_pair *e;
	int err = 0;

	e = calloc(n ? n : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		err = encode(&e[i].key, pairs[i].key, depth + 1);
		e[i].value = pairs[i].value;
	}
	if (!err) {
		qsort(e, n, sizeof(*e), cmp_keys);
		for (i = 1; i < n && !err; i++)
			if (!cmp_keys(&e[i - 1], &e[i]))
				err = -EINVAL;
	}
	if (!err)
		err = pg_put_head(b, 5, n);
	for (i = 0; i < n && !err; i++)
		err = pg_buf_put(b, e[i].key.p, e[i].key.len) ?:
		      encode(b, e[i].value, depth + 1);
	for (i = 0; i < n; i++)
		pg_buf_free(&e[i].key);
	free(e);
	return err;
}

static int encode(struct pg_buf *b, const cbor_item_t *it, unsigned int depth)
{
	size_t i;
	int err = 0;

	if (depth > PG_MAX_DEPTH_LIMIT)
		return -EINVAL;
	switch (cbor_typeof(it)) {
	case CBOR_TYPE_UINT:
		return pg_put_head(b, 0, cbor_get_int(it));
	case CBOR_TYPE_NEGINT:
		return pg_put_head(b, 1, cbor_get_int(it));
	case CBOR_TYPE_BYTESTRING:
		return put_string(b, it, 2);
	case CBOR_TYPE_STRING:
		return put_string(b, it, 3);
	case CBOR_TYPE_ARRAY:
		err = pg_put_head(b, 4, cbor_array_size(it));
		for (i = 0; i < cbor_array_size(it) && !err; i++)
			err = encode(b, cbor_array_handle(it)[i], depth + 1);
		return err;
	case CBOR_TYPE_MAP:
		return put_map(b, it, depth);
	case CBOR_TYPE_TAG: {
		cbor_item_t *inner = cbor_tag_item(it);

		err = pg_put_head(b, 6, cbor_tag_value(it)) ?:
		      encode(b, inner, depth + 1);
		cbor_decref(&inner);
		return err;
	}
	case CBOR_TYPE_FLOAT_CTRL:
		if (cbor_float_ctrl_is_ctrl(it)) {
			uint8_t v = cbor_ctrl_value(it);

			if (v >= 24 && v < 32)
				return -EINVAL;
			return v < 24 ? pg_put_head(b, 7, v) :
			       pg_buf_put(b, (uint8_t[]){ 0xf8, v }, 2);
		}
		return put_float(b, cbor_float_get_float(it));
	}
	return -EINVAL;
}

PG_EXPORT int pg_cbor_encode(struct pg_buf *out, const cbor_item_t *item)
{
	size_t len = out->len;
	int err = encode(out, item, 1);

	if (err)
		out->len = len;
	return err;
}

PG_EXPORT int pg_frame_encode(struct pg_buf *out, const struct pg_cid *pcid,
			      cbor_item_t *const *slots, size_t n)
{
	size_t len = out->len, i;
	int err = pg_frame_begin(out, pcid, n);

	for (i = 0; i < n && !err; i++)
		err = encode(out, slots[i], 4);
	if (err)
		out->len = len;
	return err;
}

PG_EXPORT int pg_frame_wrap(struct pg_buf *out, const struct pg_cid *pcid,
			    const void *slots, size_t len, size_t n)
{
	size_t start = out->len;
	int err = pg_frame_begin(out, pcid, n) ?: pg_buf_put(out, slots, len);

	if (err)
		out->len = start;
	return err;
}

static const struct pg_cbor_limits default_limits = {
	.max_depth = PG_MAX_DEPTH_DEFAULT,
	.max_size = PG_MAX_FRAME_DEFAULT,
};

PG_EXPORT int pg_frame_check(const void *p, size_t n)
{
	struct pg_envelope env;
	int err = pg_env_parse(p, n, &default_limits, &env);

	if (err)
		return pg_env_errno(err);
	return env.frame_len == n ? 0 : -EBADMSG;
}

PG_EXPORT const char *pg_frame_strerror(const void *p, size_t n)
{
	struct pg_envelope env;
	int err = pg_env_parse(p, n, &default_limits, &env);

	if (err)
		return pg_env_strerror(err);
	return env.frame_len == n ? "ok" : "bytes after the frame";
}

PG_EXPORT ssize_t pg_frame_len(const void *p, size_t n)
{
	static const struct pg_cbor_limits lim = {
		.max_depth = PG_MAX_DEPTH_LIMIT, .max_size = PG_MAX_FRAME_LIMIT,
	};
	struct pg_envelope env;
	int err = pg_env_parse(p, n, &lim, &env);

	return err ? pg_env_errno(err) : (ssize_t)env.frame_len;
}

PG_EXPORT ssize_t pg_item_len(const void *p, size_t n, bool grid_cbor)
{
	size_t len;
	int err = pg_cbor_item_len(p, n, NULL,
				   grid_cbor ? PG_CBOR_DETERMINISTIC : 0, &len);

	if (err == -PG_CBOR_ETRUNC)
		return -EAGAIN;
	return err ? pg_env_errno(err) : (ssize_t)len;
}

/* An unsigned integer at *off, which moves past it. */
static bool read_uint(const uint8_t *p, size_t n, size_t *off, uint64_t *v)
{
	uint8_t major;
	bool indef;
	size_t hlen;

	if (pg_cbor_read_head(p + *off, n - *off, &major, v, &indef, &hlen) ||
	    major != 0)
		return false;
	*off += hlen;
	return true;
}

/* The host slot of an attestation: null, or text (*s, *n) if asked. */
static bool read_host(const uint8_t *p, size_t n, size_t *off,
		      const char **s, size_t *len)
{
	uint8_t major;
	uint64_t v;
	bool indef;
	size_t hlen;

	if (*off < n && p[*off] == 0xf6) {	/* null: from this host */
		(*off)++;
		if (s)
			*s = NULL;
		return true;
	}
	if (pg_cbor_read_head(p + *off, n - *off, &major, &v, &indef, &hlen) ||
	    major != 3 || indef || v > n - *off - hlen)
		return false;
	if (s) {
		*s = (const char *)p + *off + hlen;
		*len = v;
	}
	*off += hlen + v;
	return true;
}

/* Fills m's frame fields from the frame at p; its length or -errno. */
static ssize_t parse_frame(const uint8_t *p, size_t n, struct pg_msg *m)
{
	const struct pg_cbor_limits lim = {
		.max_depth = PG_MAX_DEPTH_LIMIT, .max_size = n,
	};
	struct pg_envelope env;
	int err = pg_env_parse(p, n, &lim, &env);

	if (err)
		return pg_env_errno(err);
	m->frame = p;
	m->frame_len = env.frame_len;
	m->pcid.len = env.cid_len;
	memcpy(m->pcid.b, p + env.cid_off, env.cid_len);
	m->nslots = env.nslots - 1;
	m->slots_off = env.slots_off;
	return env.frame_len;
}

PG_EXPORT ssize_t pg_msg_parse(const uint8_t *p, size_t n, struct pg_msg *m)
{
	uint64_t v[4];
	size_t off;
	ssize_t len, inner;
	int i;

	memset(m, 0, sizeof(*m));
	len = parse_frame(p, n, m);
	if (len < 0)
		return len;
	m->raw = p;
	m->raw_len = len;
	if (!pg_cid_eq(&m->pcid, &pg_pcid_delivery))
		return len;
	/* grid([42(delivery), [endpoint, pid, uid, gid, host], frame]) */
	off = m->slots_off;
	if (m->nslots != 2 || p[off] != 0x85)	/* an array of 5 */
		return -EPROTO;
	off++;
	for (i = 0; i < 4; i++)
		if (!read_uint(p, len, &off, &v[i]))
			return -EPROTO;
	if (!read_host(p, len, &off, NULL, NULL))
		return -EPROTO;
	inner = parse_frame(p + off, len - off, m);
	if (inner < 0 || off + inner != (size_t)len)
		return -EPROTO;
	m->attested = true;
	m->from.endpoint = v[0];
	m->from.pid = (uint32_t)v[1];
	m->from.uid = (uint32_t)v[2];
	m->from.gid = (uint32_t)v[3];
	return len;
}

PG_EXPORT const char *pg_msg_host(const struct pg_msg *m, size_t *len)
{
	const struct pg_cbor_limits lim = {
		.max_depth = PG_MAX_DEPTH_LIMIT, .max_size = m->raw_len,
	};
	struct pg_envelope env;
	const char *host = NULL;
	uint64_t v;
	size_t off;
	int i;

	*len = 0;
	if (!m->attested || pg_env_parse(m->raw, m->raw_len, &lim, &env))
		return NULL;
	off = env.slots_off + 1;	/* past the array's head */
	for (i = 0; i < 4; i++)
		if (!read_uint(m->raw, m->raw_len, &off, &v))
			return NULL;
	if (!read_host(m->raw, m->raw_len, &off, &host, len))
		return NULL;
	return host;
}

PG_EXPORT cbor_item_t *pg_msg_slot(const struct pg_msg *m, size_t i)
{
	struct cbor_load_result res;
	size_t off = m->slots_off, len;

	if (i < 1 || i > m->nslots)
		return NULL;
	for (;;) {
		if (pg_cbor_item_len(m->frame + off, m->frame_len - off, NULL, 0, &len))
			return NULL;
		if (--i == 0)
			break;
		off += len;
	}
	return cbor_load(m->frame + off, len, &res);
}

PG_EXPORT bool pg_msg_is_control(const struct pg_msg *m)
{
	return pg_cid_eq(&m->pcid, &pg_pcid_control);
}
