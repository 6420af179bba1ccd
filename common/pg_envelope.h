/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * PromiseGrid "grid" envelope: 1735551332([42(pCID), ...slots]) in core
 * deterministic CBOR, slot 0 a tag-42 byte string holding 0x00 + CIDv1.
 */
#ifndef PG_ENVELOPE_H
#define PG_ENVELOPE_H

#include "pg_cbor.h"

/* The grid tag's bytes, and slot 0's CIDv1 length: the uapi header's. */
#define PG_ENV_GRID_TAG		PG_GRID_TAG_BYTES
#define PG_ENV_GRID_TAG_LEN	PG_GRID_TAG_LEN
#define PG_ENV_CID_MIN		PG_CID_MIN
#define PG_ENV_CID_MAX		PG_CID_MAX

enum pg_env_err {	/* continue numbering after the CBOR errors, returned negated */
	PG_ENV_ENOTGRID = PG_CBOR_EMAX,	/* does not start with the grid tag da 67 72 69 64 */
	PG_ENV_ENOTARRAY,	/* grid tag content is not an array of >= 1 element */
	PG_ENV_ENOPCID,		/* slot 0 is not tag 42 over a byte string */
	PG_ENV_EBADCID,		/* slot 0 is not 0x00 + a valid binary CIDv1 within limits */
	PG_ENV_EMAX
};

struct pg_envelope {
	size_t frame_len;	/* length of the whole frame item */
	size_t cid_off;		/* offset of the CIDv1 bytes (after the 0x00) within the frame */
	size_t cid_len;		/* their length, 4..PG_ENV_CID_MAX */
	uint64_t nslots;	/* array length including slot 0 */
	size_t slots_off;	/* offset of slot 1 (== frame_len when nslots == 1) */
};

/*
 * Parse and validate the frame at buf[0] (bytes after it are allowed: a
 * write may carry a CBOR sequence).  Validates the whole item in one pass
 * in deterministic and links mode with lim.  Errors, first found first:
 * input visibly not starting with the grid tag is -PG_ENV_ENOTGRID at
 * once; then well-formedness, limits and determinism (-PG_CBOR_E*, the
 * first met from the start); then the envelope structure and slot 0
 * (-PG_ENV_E*); then -PG_CBOR_ELINK for a tag 42 anywhere that is not a
 * CID link.  Returns 0 and fills *env on success.
 */
int pg_env_parse(const uint8_t *buf, size_t len,
		 const struct pg_cbor_limits *lim, struct pg_envelope *env);

/*
 * The two halves of pg_env_parse(), for the host tests and the fuzzer,
 * which check that they agree on every input. pg_env_parse_flat() is the
 * fast path for the common frame (slots after the pCID are integers,
 * definite strings and false/true/null/undefined): 0 and *env filled for
 * a valid frame of that shape, 1 for anything else, valid or not.
 * pg_env_parse_general() is the single-pass walk that decides the rest
 * and gives every error.
 */
int pg_env_parse_flat(const uint8_t *buf, size_t len,
		      const struct pg_cbor_limits *lim, struct pg_envelope *env);
int pg_env_parse_general(const uint8_t *buf, size_t len,
			 const struct pg_cbor_limits *lim,
			 struct pg_envelope *env);

/* The content of slot 0's byte string: 0x00 and a valid CIDv1, 4..96 bytes. */
bool pg_env_pcid_ok(const uint8_t *p, size_t len);

/* Short English reason; covers CBOR and envelope codes, either sign. */
const char *pg_env_strerror(int err);

/*
 * The errno a write gives for a parse error (uapi/linux/promisegrid.h):
 * EBADMSG, EILSEQ, EPROTO, EMSGSIZE or E2BIG, negated.
 */
int pg_env_errno(int err);

#endif /* PG_ENVELOPE_H */
