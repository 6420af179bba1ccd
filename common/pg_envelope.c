// SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * PromiseGrid envelope parser.  The frame is first validated as one core
 * deterministic CBOR item, so the structural walk below can rely on
 * shortest-form heads and on every length lying inside the frame.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#else
#include <errno.h>
#endif
#include "pg_envelope.h"

#define PG_ENV_TAG_CID		42

/* da 67 72 69 64: tag 1735551332 ("grid"), 4-byte argument form */
static const uint8_t pg_env_grid_tag[PG_ENV_GRID_TAG_LEN] = PG_ENV_GRID_TAG;

static const char *const pg_env_msgs[PG_ENV_EMAX - PG_CBOR_EMAX] = {
	[PG_ENV_ENOTGRID - PG_CBOR_EMAX]	= "not a grid frame (missing grid tag)",
	[PG_ENV_ENOTARRAY - PG_CBOR_EMAX]	= "grid tag content is not a non-empty array",
	[PG_ENV_ENOPCID - PG_CBOR_EMAX]		= "slot 0 is not a tag-42 byte string",
	[PG_ENV_EBADCID - PG_CBOR_EMAX]		= "slot 0 is not a valid CIDv1",
};

const char *pg_env_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err < PG_CBOR_EMAX)
		return pg_cbor_strerror(err);
	if (err >= PG_ENV_EMAX)
		return "unknown error";
	return pg_env_msgs[err - PG_CBOR_EMAX];
}

/* Each kind of bad frame has its own errno. */
int pg_env_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case PG_CBOR_EDEPTH:
		return -E2BIG;
	case PG_CBOR_ESIZE:
		return -EMSGSIZE;
	case PG_CBOR_ENONCANON:
		return -EILSEQ;
	case PG_CBOR_ELINK:
	case PG_ENV_ENOTGRID:
	case PG_ENV_ENOTARRAY:
	case PG_ENV_ENOPCID:
	case PG_ENV_EBADCID:
		return -EPROTO;
	default:
		return -EBADMSG;
	}
}

/*
 * Slot 0: 0x00 and a CIDv1 of 4..PG_ENV_CID_MAX bytes.  Stricter
 * than the link rule any other tag 42 follows (pg_cbor_link_ok()): the
 * tag spec defines the pCID as a CIDv1, and the module routes by it.
 */
bool pg_env_pcid_ok(const uint8_t *p, size_t len)
{
	if (len < 1 || p[0] != 0x00)
		return false;
	p++;
	len--;
	if (len < PG_ENV_CID_MIN || len > PG_ENV_CID_MAX)
		return false;
	return pg_cbor_cid_version(p, len) == 1;
}

/*
 * pg_env_pcid_ok() of a tag 42 content that pg_cbor_validate() already
 * passed as a link (0x00 and a CIDv0 or CIDv1): the length bounds, and
 * not the CIDv0 form, decide without parsing the CID again.
 */
static bool pg_env_link_is_pcid(const uint8_t *p, size_t len)
{
	if (len - 1 < PG_ENV_CID_MIN || len - 1 > PG_ENV_CID_MAX)
		return false;
	return !(len - 1 == 34 && p[1] == 0x12 && p[2] == 0x20);
}

/*
 * The common frame, decided without the general walk: the grid tag, an
 * array of 1..23 slots, slot 0 a tag 42 over 0x00 and a CIDv1, and every
 * other slot a flat item (an integer, a byte or text string of definite
 * length, false, true, null or undefined) in its shortest head. Such a
 * frame opens three levels (grid tag, array, tag 42) and has no other
 * tag, so it is valid in deterministic and links mode exactly when these
 * checks pass. Returns 0 and fills *env, or 1 when the frame is not of
 * this shape or not valid (the general walk then decides, and gives the
 * error): it never refuses a frame itself, so it cannot change a verdict.
 * About 100 instructions for a two-slot frame where the walk takes ~1000.
 */
int pg_env_parse_flat(const uint8_t *buf, size_t len,
		      const struct pg_cbor_limits *lim, struct pg_envelope *env)
{
	size_t end = len, pos, cid_off, cid_len, slots_off, n;
	uint64_t arg, nslots, i;
	uint8_t major, ai;

	if (lim) {
		if (lim->max_depth < 3)
			return 1;
		if (end > lim->max_size)
			end = lim->max_size;
	}
	if (end > 0xffffffffu)	/* the validator's offsets are 32-bit */
		end = 0xffffffffu;
	/* the grid tag, array, tag 42 and the head of slot 0's string */
	if (end < PG_ENV_GRID_TAG_LEN + 5 ||
	    memcmp(buf, pg_env_grid_tag, PG_ENV_GRID_TAG_LEN))
		return 1;
	pos = PG_ENV_GRID_TAG_LEN;
	if (buf[pos] < 0x81 || buf[pos] > 0x97 ||
	    buf[pos + 1] != 0xd8 || buf[pos + 2] != PG_ENV_TAG_CID)
		return 1;
	nslots = buf[pos] & 0x1f;
	pos += 3;
	if (buf[pos] >= 0x40 && buf[pos] < 0x58) {
		cid_len = buf[pos] & 0x1f;
		pos += 1;
	} else if (buf[pos] == 0x58 && buf[pos + 1] >= 24) {
		cid_len = buf[pos + 1];
		pos += 2;
	} else {
		return 1;
	}
	if (cid_len > end - pos || !pg_env_pcid_ok(buf + pos, cid_len))
		return 1;
	cid_off = pos + 1;
	pos += cid_len;
	slots_off = pos;

	/* pos <= end throughout */
	for (i = 1; i < nslots; i++) {
		if (pos == end)
			return 1;
		major = buf[pos] >> 5;
		ai = buf[pos] & 0x1f;
		pos++;
		if (major == 7) {	/* false, true, null, undefined */
			if (ai < 20 || ai > 23)
				return 1;
			continue;
		}
		if (major > 3 || ai > 27)	/* containers, tags, indefinite */
			return 1;
		arg = ai;
		if (ai >= 24) {
			/* pg_cbor_head()'s decoding, kept inline: a hot path */
			n = (size_t)1 << (ai - 24);
			if (n > end - pos)
				return 1;
			for (arg = 0; n; n--)
				arg = arg << 8 | buf[pos++];
			if (!pg_cbor_arg_shortest(ai, arg))
				return 1;
		}
		if (major >= 2) {	/* a string's bytes follow its head */
			if (arg > end - pos)
				return 1;
			pos += (size_t)arg;
		}
	}

	env->frame_len = pos;
	env->cid_off = cid_off;
	env->cid_len = cid_len - 1;
	env->nslots = nslots;
	env->slots_off = slots_off;
	return 0;
}

int pg_env_parse(const uint8_t *buf, size_t len,
		 const struct pg_cbor_limits *lim, struct pg_envelope *env)
{
	if (!pg_env_parse_flat(buf, len, lim, env))
		return 0;
	return pg_env_parse_general(buf, len, lim, env);
}

int pg_env_parse_general(const uint8_t *buf, size_t len,
			 const struct pg_cbor_limits *lim,
			 struct pg_envelope *env)
{
	size_t flen, pos, hlen;
	uint64_t nslots, arg;
	uint8_t major;
	bool indef;
	int err;

	/* cheap rejection of whatever is visibly not a frame */
	if ((len >= 1 && buf[0] != pg_env_grid_tag[0]) ||
	    (len >= sizeof(pg_env_grid_tag) &&
	     memcmp(buf, pg_env_grid_tag, sizeof(pg_env_grid_tag))))
		return -PG_ENV_ENOTGRID;

	/* one pass: well-formed, deterministic, every tag 42 a CID link */
	err = pg_cbor_validate(buf, len, lim,
			       PG_CBOR_DETERMINISTIC | PG_CBOR_LINKS, &flen);
	if (err && err != -PG_CBOR_ELINK)
		return err;
	/*
	 * From here on every head and length is known to lie within the
	 * item, which ends at flen, or (ELINK: an otherwise valid item whose
	 * length was not returned) somewhere within len.  The structure is
	 * checked first, so that a bad slot 0 has its own error.
	 */
	if (err)
		flen = len;
	pos = sizeof(pg_env_grid_tag);

	if (pg_cbor_read_head(buf + pos, flen - pos, &major, &nslots, &indef,
			      &hlen) ||
	    major != 4 || indef || nslots < 1)
		return -PG_ENV_ENOTARRAY;
	pos += hlen;

	if (pg_cbor_read_head(buf + pos, flen - pos, &major, &arg, &indef,
			      &hlen) ||
	    major != 6 || arg != PG_ENV_TAG_CID)
		return -PG_ENV_ENOPCID;
	pos += hlen;
	if (pg_cbor_read_head(buf + pos, flen - pos, &major, &arg, &indef,
			      &hlen) ||
	    major != 2 || indef || arg > flen - pos - hlen)
		return -PG_ENV_ENOPCID;
	pos += hlen;

	if (err ? !pg_env_pcid_ok(buf + pos, (size_t)arg) :
		  !pg_env_link_is_pcid(buf + pos, (size_t)arg))
		return -PG_ENV_EBADCID;
	if (err)
		return err;	/* a bad tag 42 after slot 0 */

	env->frame_len = flen;
	env->cid_off = pos + 1;
	env->cid_len = (size_t)arg - 1;
	env->nslots = nslots;
	env->slots_off = pos + (size_t)arg;
	return 0;
}
