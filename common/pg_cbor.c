// SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Non-recursive CBOR (RFC 8949) well-formedness validator, see Appendix C
 * and F of the RFC, plus the core deterministic encoding rules of 4.2.1
 * and the CID link rule for tag 42.
 *
 * Builds in the kernel and in userland: no allocation, no recursion, no
 * floating point, no global mutable state.  Open containers live on a small
 * explicit stack (PG_CBOR_DEPTH_MAX levels of 16 bytes each).
 */
#include "pg_cbor.h"

/* Offsets are stored in 32 bits to keep a stack level small. */
#define PG_CBOR_OFF_MAX		0xffffffffu

#define PG_CBOR_TAG_CID		42	/* IPLD content identifier */
#define PG_CBOR_VARINT_MAX	9	/* bytes; keeps values below 2^63 */

/* Kinds of open levels. */
#define PG_CBOR_LV_ARRAY	0
#define PG_CBOR_LV_MAP		1
#define PG_CBOR_LV_TAG		2
#define PG_CBOR_LV_BSTR		3	/* indefinite-length byte string */
#define PG_CBOR_LV_TSTR		4	/* indefinite-length text string */

/* Level flags. */
#define PG_CBOR_LV_INDEF	0x1	/* closed by a break, not a count */
#define PG_CBOR_LV_ODD		0x2	/* odd number of children so far */
#define PG_CBOR_LV_PREV		0x4	/* map: prev_off holds a key */
#define PG_CBOR_LV_LINK		0x8	/* tag 42 in links mode */

/* 16 bytes: the whole stack is 512 bytes, kernel frames must stay small. */
struct pg_cbor_level {
	uint32_t left;		/* children still expected (definite only) */
	uint32_t key_off;	/* map: start of the key being parsed;
				 * tag: start of the tag's head
				 */
	uint32_t prev_off;	/* previous key of a map (deterministic mode) */
	uint8_t kind;		/* PG_CBOR_LV_* */
	uint8_t flags;		/* PG_CBOR_LV_INDEF | _ODD | _PREV */
};

static const char *const pg_cbor_msgs[PG_CBOR_EMAX - PG_CBOR_ERR_BASE] = {
	[PG_CBOR_ETRUNC - PG_CBOR_ERR_BASE]	= "truncated item",
	[PG_CBOR_ERESERVED - PG_CBOR_ERR_BASE]	= "reserved additional information (28-30)",
	[PG_CBOR_EINDEF - PG_CBOR_ERR_BASE]	= "invalid indefinite-length encoding",
	[PG_CBOR_EBREAK - PG_CBOR_ERR_BASE]	= "unexpected break (0xff)",
	[PG_CBOR_ESIMPLE - PG_CBOR_ERR_BASE]	= "two-byte simple value below 32",
	[PG_CBOR_EDEPTH - PG_CBOR_ERR_BASE]	= "nesting too deep",
	[PG_CBOR_ESIZE - PG_CBOR_ERR_BASE]	= "item too large",
	[PG_CBOR_ETRAILING - PG_CBOR_ERR_BASE]	= "trailing bytes after item",
	[PG_CBOR_ENONCANON - PG_CBOR_ERR_BASE]	= "not deterministically encoded",
	[PG_CBOR_ELINK - PG_CBOR_ERR_BASE]	= "tag 42 is not a CID link (0x00 and a CID)",
};

const char *pg_cbor_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == PG_CBOR_OK)
		return "success";
	if (err <= PG_CBOR_ERR_BASE || err >= PG_CBOR_EMAX ||
	    !pg_cbor_msgs[err - PG_CBOR_ERR_BASE])
		return "unknown error";
	return pg_cbor_msgs[err - PG_CBOR_ERR_BASE];
}

/*
 * Decode the head at p with avail bytes available.  Only the bytes of the
 * head are read; the caller bounds-checks everything after it.
 */
static inline int pg_cbor_head(const uint8_t *p, size_t avail,
			       uint8_t *major, uint8_t *ai, uint64_t *arg,
			       size_t *hlen)
{
	uint64_t v = 0;
	size_t n, i;

	if (avail < 1)
		return -PG_CBOR_ETRUNC;
	*major = p[0] >> 5;
	*ai = p[0] & 0x1f;
	if (*ai < 24 || *ai == 31) {
		*arg = *ai == 31 ? 0 : *ai;
		*hlen = 1;
		return 0;
	}
	if (*ai > 27)
		return -PG_CBOR_ERESERVED;
	n = (size_t)1 << (*ai - 24);
	if (avail - 1 < n)
		return -PG_CBOR_ETRUNC;
	for (i = 1; i <= n; i++)
		v = (v << 8) | p[i];
	*arg = v;
	*hlen = n + 1;
	return 0;
}

int pg_cbor_read_head(const uint8_t *buf, size_t len, uint8_t *major,
		      uint64_t *arg, bool *indef, size_t *hlen)
{
	uint8_t ai;
	int err;

	err = pg_cbor_head(buf, len, major, &ai, arg, hlen);
	if (err)
		return err;
	*indef = ai == 31;
	return 0;
}

size_t pg_cbor_put_head(uint8_t *out, uint8_t major, uint64_t arg)
{
	size_t n, i;

	if (arg < 24) {
		out[0] = (uint8_t)(major << 5 | arg);
		return 1;
	}
	if (arg <= 0xff)
		n = 1;
	else if (arg <= 0xffff)
		n = 2;
	else if (arg <= 0xffffffffu)
		n = 4;
	else
		n = 8;
	/* ai 24..27 for 1, 2, 4, 8 bytes; the argument big-endian after it */
	out[0] = (uint8_t)(major << 5 | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
	for (i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(arg >> (8 * (n - 1 - i)));
	return 1 + n;
}

/*
 * Can a finite, nonzero binary float with w stored mantissa bits m and
 * unbiased exponent e be represented exactly by a narrower format with t
 * mantissa bits and normal exponents emin..emax?  Pure integer arithmetic.
 */
static bool pg_cbor_fits(int e, uint64_t m, unsigned int w, unsigned int t,
			 int emin, int emax)
{
	unsigned int shift;

	if (e > emax)
		return false;
	if (e >= emin)
		shift = w - t;			/* normal: drop low mantissa bits */
	else if (e >= emin - (int)t)
		shift = w - t + (unsigned int)(emin - e);	/* subnormal */
	else
		return false;
	/* The bits shifted out, implicit leading 1 included, must be 0. */
	return ((m | ((uint64_t)1 << w)) & (((uint64_t)1 << shift) - 1)) == 0;
}

/*
 * The float rule of deterministic mode, and the only place it lives: a
 * float (ai 25, 26 or 27, raw bits) is accepted only in the shortest of
 * the three widths that keeps its value exactly; NaN only as f97e00
 * (so no payloads, no other width); infinities as f97c00 and f9fc00;
 * -0.0 as f98000, distinct from 0.0.
 *
 * It follows promisegrid/promisegrid docs/grid-cbor-multicodec-spec.md,
 * "Encoding Requirements" 1 and 5 (RFC 8949 4.2.1 preferred serialization),
 * the same text from commit 02a80d9 to 2ca8801324087ecad4cbcb81717ec660a3326151
 * (2026-08-17).  At that commit DR/DR-tuzob-grid-cbor-dag-cbor-superset.md
 * is open: it may instead accept DAG-CBOR's always-binary64 floats (so
 * fb3ff0000000000000, 1.0, refused here, would be valid).  If it settles
 * that way, this function is the one edit; selftests/host/vectors/floats.txt
 * holds a vector for each side of the decision.
 */
static int pg_cbor_det_float(uint8_t ai, uint64_t bits)
{
	uint64_t m;
	int e;

	switch (ai) {
	case 25:
		if ((bits & 0x7c00) == 0x7c00 && (bits & 0x3ff) && bits != 0x7e00)
			return -PG_CBOR_ENONCANON;
		return 0;
	case 26:
		e = (int)((bits >> 23) & 0xff);
		m = bits & 0x7fffff;
		if (e == 0xff)		/* inf and NaN have a float16 form */
			return -PG_CBOR_ENONCANON;
		if (e == 0)		/* zero fits float16, subnormals don't */
			return m ? 0 : -PG_CBOR_ENONCANON;
		return pg_cbor_fits(e - 127, m, 23, 10, -14, 15) ?
			-PG_CBOR_ENONCANON : 0;
	default:
		e = (int)((bits >> 52) & 0x7ff);
		m = bits & (((uint64_t)1 << 52) - 1);
		if (e == 0x7ff)
			return -PG_CBOR_ENONCANON;
		if (e == 0)
			return m ? 0 : -PG_CBOR_ENONCANON;
		/* float16 values are a subset of float32 ones */
		return pg_cbor_fits(e - 1023, m, 52, 23, -126, 127) ?
			-PG_CBOR_ENONCANON : 0;
	}
}

/*
 * Deterministic map key order: the key that ends at pos must sort after
 * the previous one.  A well-formed item is never a proper prefix of
 * another, so two distinct keys differ within the shorter one: comparing
 * klen bytes at prev_off (still inside the buffer, as prev_off < key_off)
 * decides the order without storing the previous key's length, and
 * equality means a duplicate.
 */
static int pg_cbor_key_order(const uint8_t *buf, struct pg_cbor_level *lv,
			     size_t pos)
{
	if ((lv->flags & PG_CBOR_LV_PREV) &&
	    memcmp(buf + lv->key_off, buf + lv->prev_off,
		   pos - lv->key_off) <= 0)
		return -PG_CBOR_ENONCANON;
	lv->prev_off = lv->key_off;
	lv->flags |= PG_CBOR_LV_PREV;
	return 0;
}

/*
 * Read a minimally encoded unsigned LEB128 varint (multiformats
 * unsigned-varint) of at most PG_CBOR_VARINT_MAX bytes.  Returns its
 * length, or 0 if invalid.
 */
static size_t pg_cbor_varint(const uint8_t *p, size_t len, uint64_t *val)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && i < PG_CBOR_VARINT_MAX; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			/* a zero last byte after others is padding */
			if (i && !p[i])
				return 0;
			*val = v;
			return i + 1;
		}
	}
	return 0;
}

int pg_cbor_cid_version(const uint8_t *p, size_t len)
{
	uint64_t v = 0;
	size_t n, i;

	/* multiformats/cid: 34 bytes starting 0x12 0x20 are a CIDv0 */
	if (len == 34 && p[0] == 0x12 && p[1] == 0x20)
		return 0;
	/* CIDv1: version, codec, multihash code, digest length, digest */
	for (i = 0; i < 4; i++) {
		if (len && p[0] < 0x80) {
			v = p[0];	/* one byte, the usual case */
			n = 1;
		} else {
			n = pg_cbor_varint(p, len, &v);
		}
		if (!n || (i == 0 && v != 1))
			return -1;
		p += n;
		len -= n;
	}
	/* v is the digest length: it must cover exactly the rest */
	return v == len ? 1 : -1;
}

bool pg_cbor_link_ok(const uint8_t *p, size_t len)
{
	return len >= 1 && p[0] == 0x00 &&
	       pg_cbor_cid_version(p + 1, len - 1) >= 0;
}

int pg_cbor_validate(const uint8_t *buf, size_t len,
		     const struct pg_cbor_limits *lim, unsigned int flags,
		     size_t *off)
{
	struct pg_cbor_level st[PG_CBOR_DEPTH_MAX];
	struct pg_cbor_level *top;
	bool det = flags & PG_CBOR_DETERMINISTIC;
	bool links = flags & PG_CBOR_LINKS, bad_link = false;
	uint32_t maxd = PG_CBOR_DEPTH_MAX, sp = 0;
	size_t end = len, pos = 0, hpos = 0, hlen, room, link_off = 0;
	uint8_t major, ai;
	uint64_t arg;
	int err;

	/*
	 * Parse only up to end: running out of bytes before len means the
	 * item is longer than the limit (ESIZE), at len it is truncated.
	 */
	if (lim) {
		if (lim->max_depth < maxd)
			maxd = lim->max_depth;
		if (end > lim->max_size)
			end = lim->max_size;
	}
	if (end > PG_CBOR_OFF_MAX)
		end = PG_CBOR_OFF_MAX;
	if (!end)		/* also keeps a NULL buf out of pointer arithmetic */
		goto short_input;

	for (;;) {
		hpos = pos;
		top = sp ? &st[sp - 1] : NULL;
		if (top && top->kind == PG_CBOR_LV_MAP &&
		    !(top->flags & PG_CBOR_LV_ODD))
			top->key_off = (uint32_t)pos;

		err = pg_cbor_head(buf + pos, end - pos, &major, &ai, &arg,
				   &hlen);
		if (err == -PG_CBOR_ETRUNC)
			goto short_input;
		if (err)
			goto fail;

		if (buf[pos] == 0xff) {
			if (!top || !(top->flags & PG_CBOR_LV_INDEF)) {
				err = -PG_CBOR_EBREAK;
				goto fail;
			}
			/* a break where a map value is due */
			if (top->kind == PG_CBOR_LV_MAP &&
			    (top->flags & PG_CBOR_LV_ODD)) {
				err = -PG_CBOR_EINDEF;
				goto fail;
			}
			pos++;
			sp--;
			goto item_done;
		}
		/* chunks: definite strings of the same major type only */
		if (top && top->kind >= PG_CBOR_LV_BSTR &&
		    (major != top->kind - PG_CBOR_LV_BSTR + 2 || ai == 31)) {
			err = -PG_CBOR_EINDEF;
			goto fail;
		}
		if (ai == 31 && (major < 2 || major == 6)) {
			err = -PG_CBOR_EINDEF;
			goto fail;
		}
		if (det && major != 7 && ai >= 24 &&
		    (ai == 31 || !pg_cbor_arg_shortest(ai, arg))) {
			err = -PG_CBOR_ENONCANON;
			goto fail;
		}

		pos += hlen;
		room = end - pos;
		/*
		 * The content of a tag 42 in links mode: the first bad one is
		 * remembered and reported once the item is otherwise valid.
		 * A string longer than the input is truncation, found below.
		 */
		if (top && (top->flags & PG_CBOR_LV_LINK) && !bad_link &&
		    (major != 2 || ai == 31 ||
		     (arg <= room && !pg_cbor_link_ok(buf + pos, (size_t)arg)))) {
			bad_link = true;
			link_off = top->key_off;
		}
		switch (major) {
		case 2:
		case 3:
			if (ai != 31) {
				/* compare before adding: arg may be ~2^64 */
				if (arg > room)
					goto short_input;
				pos += (size_t)arg;
				break;
			}
			if (sp >= maxd)
				goto too_deep;
			top = &st[sp++];
			top->kind = PG_CBOR_LV_BSTR + major - 2;
			top->flags = PG_CBOR_LV_INDEF;
			continue;
		case 4:
		case 5:
			/* each item needs a byte: bound counts by the input */
			if (ai != 31 && (major == 5 ? arg > room / 2 : arg > room))
				goto short_input;
			if (sp >= maxd)
				goto too_deep;
			if (ai != 31 && arg == 0)
				break;
			top = &st[sp++];
			top->kind = major == 4 ? PG_CBOR_LV_ARRAY : PG_CBOR_LV_MAP;
			top->flags = ai == 31 ? PG_CBOR_LV_INDEF : 0;
			top->left = (uint32_t)(major == 5 ? arg * 2 : arg);
			continue;
		case 6:
			if (sp >= maxd)
				goto too_deep;
			top = &st[sp++];
			top->kind = PG_CBOR_LV_TAG;
			top->flags = links && arg == PG_CBOR_TAG_CID ?
				PG_CBOR_LV_LINK : 0;
			top->key_off = (uint32_t)hpos;
			top->left = 1;
			continue;
		default:
			if (major != 7)
				break;
			if (ai == 24 && arg < 32) {
				err = -PG_CBOR_ESIMPLE;
				goto fail;
			}
			if (det && ai >= 25) {
				err = pg_cbor_det_float(ai, arg);
				if (err)
					goto fail;
			}
			break;
		}

item_done:
		/* An item ended at pos: account for it in the open levels. */
		while (sp) {
			top = &st[sp - 1];
			if (det && top->kind == PG_CBOR_LV_MAP &&
			    !(top->flags & PG_CBOR_LV_ODD)) {
				err = pg_cbor_key_order(buf, top, pos);
				if (err) {
					*off = top->key_off;
					return err;
				}
			}
			top->flags ^= PG_CBOR_LV_ODD;
			if ((top->flags & PG_CBOR_LV_INDEF) || --top->left)
				break;
			sp--;
		}
		if (!sp) {
			if (bad_link) {
				*off = link_off;
				return -PG_CBOR_ELINK;
			}
			*off = pos;
			return 0;
		}
	}

short_input:
	*off = end;
	return end < len ? -PG_CBOR_ESIZE : -PG_CBOR_ETRUNC;
too_deep:
	err = -PG_CBOR_EDEPTH;
fail:
	*off = hpos;
	return err;
}

int pg_cbor_item_len(const uint8_t *buf, size_t len,
		     const struct pg_cbor_limits *lim, unsigned int flags,
		     size_t *item_len)
{
	size_t off;
	int err;

	err = pg_cbor_validate(buf, len, lim, flags, &off);
	if (!err)
		*item_len = off;
	return err;
}

int pg_cbor_check_one(const uint8_t *buf, size_t len,
		      const struct pg_cbor_limits *lim, unsigned int flags)
{
	size_t n;
	int err;

	err = pg_cbor_item_len(buf, len, lim, flags, &n);
	if (err)
		return err;
	return n == len ? 0 : -PG_CBOR_ETRAILING;
}
