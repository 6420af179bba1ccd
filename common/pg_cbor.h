/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Portable, non-recursive CBOR (RFC 8949) well-formedness validator with an
 * optional core deterministic encoding check (RFC 8949 section 4.2.1) and an
 * optional check that every tag 42 is a CID link (DAG-CBOR, grid-cbor).
 * The same source builds in the kernel, libpromisegrid, cbor-check and the
 * host tests and fuzzer; its limits are the uapi header's.
 */
#ifndef PG_CBOR_H
#define PG_CBOR_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#else
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdbool.h>
#endif
#include <linux/promisegrid.h>

/* The hard cap on nesting the parser can track: max_depth's highest value. */
#define PG_CBOR_DEPTH_MAX	PG_MAX_DEPTH_LIMIT

/*
 * Limits.  A NULL limits pointer means PG_CBOR_DEPTH_MAX and no size limit.
 * Whatever max_size says, items are capped at 4 GiB - 1 (offsets are kept
 * in 32 bits to keep the parser stack small); longer ones get ESIZE.
 */
struct pg_cbor_limits {
	/* 1..PG_CBOR_DEPTH_MAX: each array, map, tag and indefinite string
	 * opens one level
	 */
	uint32_t max_depth;
	size_t max_size;	/* a longer item is PG_CBOR_ESIZE */
};

/* flags */
/* also enforce RFC 8949 4.2.1 core deterministic encoding */
#define PG_CBOR_DETERMINISTIC	0x1
/*
 * also require every tag 42 the walk reaches (through arrays, maps and
 * tags; never inside a byte string) to hold a CID link: pg_cbor_link_ok()
 */
#define PG_CBOR_LINKS		0x2

/*
 * The codec's own error codes, returned NEGATED: functions return 0 or
 * -PG_CBOR_E* (and -PG_ENV_E*, pg_envelope.h). They start above every
 * errno (MAX_ERRNO is 4095), so one can never be taken for a -errno;
 * pg_env_errno() turns them into errno at the one boundary where frames
 * are refused.
 */
#define PG_CBOR_ERR_BASE	4096

enum pg_cbor_err {
	PG_CBOR_OK = 0,
	PG_CBOR_ETRUNC = PG_CBOR_ERR_BASE + 1,	/* input ends inside the item */
	PG_CBOR_ERESERVED,	/* additional information 28, 29 or 30 */
	PG_CBOR_EINDEF,		/* misused indefinite length (ai 31) */
	PG_CBOR_EBREAK,		/* 0xff where no indefinite-length item is open */
	PG_CBOR_ESIMPLE,	/* 0xf8 followed by a value below 32 */
	PG_CBOR_EDEPTH,		/* nesting deeper than lim->max_depth */
	PG_CBOR_ESIZE,		/* item longer than lim->max_size */
	PG_CBOR_ETRAILING,	/* bytes after the item (pg_cbor_check_one only) */
	PG_CBOR_ENONCANON,	/* deterministic mode: not core deterministic encoding */
	PG_CBOR_ELINK,		/* links mode: a tag 42 that is not a CID link */
	PG_CBOR_EMAX
};

/*
 * Validate the one CBOR item that starts at buf[0]; bytes after it are
 * allowed (CBOR sequences).  On success store its length in *item_len and
 * return 0.
 */
int pg_cbor_item_len(const uint8_t *buf, size_t len,
		     const struct pg_cbor_limits *lim, unsigned int flags,
		     size_t *item_len);

/*
 * Same as pg_cbor_item_len(), but *off is always set: to the item length on
 * success, else to the offset where the error was found (the offending head,
 * the end of the input for ETRUNC, the size limit for ESIZE, the first bad
 * tag 42 for ELINK).  For tools.
 *
 * Every check is made in the same single pass.  ELINK is reported only for
 * an item that is otherwise valid (well-formed, within the limits and, if
 * asked, deterministic): any other error wins over it, wherever it lies.
 */
int pg_cbor_validate(const uint8_t *buf, size_t len,
		     const struct pg_cbor_limits *lim, unsigned int flags,
		     size_t *off);

/* Exactly one item and nothing after it: -PG_CBOR_ETRAILING otherwise. */
int pg_cbor_check_one(const uint8_t *buf, size_t len,
		      const struct pg_cbor_limits *lim, unsigned int flags);

/*
 * The link rule: may a tag 42 hold the definite byte string p[0..len)?
 * Yes if it is 0x00 (the identity multibase prefix) and then a binary CID,
 * CIDv1 or CIDv0 (docs/abi.md, "Frames", says why and after which specs).
 * The single place where the rule lives.
 */
bool pg_cbor_link_ok(const uint8_t *p, size_t len);

/*
 * A binary CID (no multibase prefix) p[0..len): its version, 0 or 1, if it
 * is a well-formed CIDv0 (34 bytes: 0x12 0x20 and a sha2-256 digest) or
 * CIDv1 (version 1, codec, multihash code and digest length as minimal
 * unsigned varints of at most 9 bytes, the digest length covering exactly
 * the bytes that remain); -1 otherwise.
 */
int pg_cbor_cid_version(const uint8_t *p, size_t len);

/* Short English reason for an error code (positive or negative accepted). */
const char *pg_cbor_strerror(int err);

/*
 * Read one head (initial byte + argument) at buf.  major 0..7, *arg the
 * argument (for ai 31 sets *indef=true and arg 0), *hlen the head length.
 * For major 7 arg is the simple value or the raw float bits.  Returns 0 or
 * -PG_CBOR_ETRUNC/-PG_CBOR_ERESERVED.  Does no other validation: use it on
 * already-validated frames.
 */
int pg_cbor_read_head(const uint8_t *buf, size_t len, uint8_t *major,
		      uint64_t *arg, bool *indef, size_t *hlen);

/*
 * Core deterministic encoding's head rule, for the walk and the
 * envelope's fast path: an argument read with additional information
 * @ai (24..27) must not fit a shorter head.
 */
static inline bool pg_cbor_arg_shortest(uint8_t ai, uint64_t arg)
{
	return arg >= (ai == 24 ? 24 : (uint64_t)1 << (8 << (ai - 25)));
}

/* The longest head: the initial byte and an 8-byte argument. */
#define PG_CBOR_HEAD_MAX	9

/*
 * Write the shortest head for @major (0..7) and @arg to @out, which has
 * room for PG_CBOR_HEAD_MAX bytes; returns its length. The one CBOR head
 * encoder of C code: the kernel's replies and libpromisegrid's frames.
 */
size_t pg_cbor_put_head(uint8_t *out, uint8_t major, uint64_t arg);

#endif /* PG_CBOR_H */
