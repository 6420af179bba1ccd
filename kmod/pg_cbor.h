/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Portable, non-recursive CBOR (RFC 8949) well-formedness validator with an
 * optional core deterministic encoding check (RFC 8949 section 4.2.1).
 * The same source builds in the kernel and in userland (tests, fuzzing).
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

#define PG_CBOR_DEPTH_MAX 32	/* hard cap on nesting the parser can track */

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

enum pg_cbor_err {	/* returned NEGATED: functions return 0 or -PG_CBOR_E* */
	PG_CBOR_OK = 0,
	PG_CBOR_ETRUNC,		/* input ends inside the item */
	PG_CBOR_ERESERVED,	/* additional information 28, 29 or 30 */
	PG_CBOR_EINDEF,		/* misused indefinite length (ai 31) */
	PG_CBOR_EBREAK,		/* 0xff where no indefinite-length item is open */
	PG_CBOR_ESIMPLE,	/* 0xf8 followed by a value below 32 */
	PG_CBOR_EDEPTH,		/* nesting deeper than lim->max_depth */
	PG_CBOR_ESIZE,		/* item longer than lim->max_size */
	PG_CBOR_ETRAILING,	/* bytes after the item (pg_cbor_check_one only) */
	PG_CBOR_ENONCANON,	/* deterministic mode: not core deterministic encoding */
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
 * the end of the input for ETRUNC, the size limit for ESIZE).  For tools.
 */
int pg_cbor_validate(const uint8_t *buf, size_t len,
		     const struct pg_cbor_limits *lim, unsigned int flags,
		     size_t *off);

/* Exactly one item and nothing after it: -PG_CBOR_ETRAILING otherwise. */
int pg_cbor_check_one(const uint8_t *buf, size_t len,
		      const struct pg_cbor_limits *lim, unsigned int flags);

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

#endif /* PG_CBOR_H */
