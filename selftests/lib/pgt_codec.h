/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pgt_codec: the selftests' own CBOR encoder (grid-cbor, deterministic)
 * and small decoder, test pCIDs, grid frames and control replies.
 *
 * An oracle on purpose: it is independent of the CBOR code the kernel
 * and libpromisegrid share (common source would share its bugs), as the
 * Python module's codec is. Only libc, and the library's
 * SHA-256 (userland/lib/sha256.c) to name frames; the kernel hashes with
 * its own sha256().
 */
#ifndef PGT_CODEC_H
#define PGT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/promisegrid.h>

/* ---- CBOR encoder ------------------------------------------------------- */

struct pgt_buf {
	uint8_t *p;
	size_t len, cap;
};

void pgt_buf_free(struct pgt_buf *b);
void pgt_buf_reset(struct pgt_buf *b);
void pgt_cb_raw(struct pgt_buf *b, const void *p, size_t n);
void pgt_cb_byte(struct pgt_buf *b, uint8_t v);
void pgt_cb_head(struct pgt_buf *b, unsigned int major, uint64_t v);
void pgt_cb_uint(struct pgt_buf *b, uint64_t v);
void pgt_cb_text(struct pgt_buf *b, const char *s);
void pgt_cb_textn(struct pgt_buf *b, const char *s, size_t n);
void pgt_cb_bytes(struct pgt_buf *b, const void *p, size_t n);
void pgt_cb_array(struct pgt_buf *b, uint64_t n);
void pgt_cb_map(struct pgt_buf *b, uint64_t n);
void pgt_cb_tag(struct pgt_buf *b, uint64_t tag);
void pgt_cb_null(struct pgt_buf *b);
void pgt_cb_bool(struct pgt_buf *b, bool v);

/* A map whose entries are sorted deterministically when emitted. */
#define PGT_MAP_MAX	8
struct pgt_map {
	int n;
	struct pgt_buf key[PGT_MAP_MAX], val[PGT_MAP_MAX];
};
/* Adds a text key; returns the buffer to encode its value into. */
struct pgt_buf *pgt_map_put(struct pgt_map *m, const char *key);
/* Appends the map, keys sorted by their encoding; frees m's entries. */
void pgt_map_emit(struct pgt_buf *out, struct pgt_map *m);

/* ---- CIDs and frames ---------------------------------------------------- */

struct pgt_cid {
	size_t len;
	uint8_t b[PG_CID_MAX + 8];	/* room for a too long one */
};

extern const struct pgt_cid pgt_cid_control, pgt_cid_delivery;

/* A test pCID: 01 55 12 20 and 32 bytes derived from name. */
void pgt_cid_named(struct pgt_cid *c, const char *name);
bool pgt_cid_eq(const struct pgt_cid *a, const struct pgt_cid *b);
/* 42(h'00' || cid) */
void pgt_cb_cid(struct pgt_buf *b, const struct pgt_cid *c);
/* The grid tag, the array head (1 + nslots) and slot 0. */
void pgt_frame_begin(struct pgt_buf *b, const struct pgt_cid *c, size_t nslots);
/* grid([42(c), seq, "pgtest"]): a small frame carrying a number. */
void pgt_frame_msg(struct pgt_buf *b, const struct pgt_cid *c, uint64_t seq);
size_t pgt_frame_msg_len(const struct pgt_cid *c, uint64_t seq);
/* grid([42(c), h'...']) of exactly total bytes; -1 if impossible. */
int pgt_frame_sized(struct pgt_buf *b, const struct pgt_cid *c, size_t total);

/* ---- CBOR decoder ------------------------------------------------------- */

struct pgt_cb_item {
	const uint8_t *p;	/* first byte */
	size_t len;		/* the whole item */
	size_t hlen;		/* its head */
	unsigned int major;
	unsigned int ai;
	uint64_t arg;
};

/* Decodes the item at p (definite lengths only); 0 or -1. */
int pgt_cb_item(const uint8_t *p, size_t n, struct pgt_cb_item *it);
/* Element idx of an array (map: key 2i, value 2i+1; tag: 0). */
int pgt_cb_child(const struct pgt_cb_item *parent, size_t idx, struct pgt_cb_item *out);
int pgt_cb_map_get(const struct pgt_cb_item *map, const char *key,
	       struct pgt_cb_item *val);
int pgt_cb_map_uint(const struct pgt_cb_item *map, const char *key, uint64_t *v);
bool pgt_cb_is_text(const struct pgt_cb_item *it, const char *s);
bool pgt_cb_is_null(const struct pgt_cb_item *it);
bool pgt_cb_is_uint(const struct pgt_cb_item *it);

struct pgt_frame {
	struct pgt_cb_item item, arr;
	struct pgt_cid cid;
	size_t nslots;		/* elements after slot 0 */
};

/* Parses a grid frame filling all of p; 0 or -1. */
int pgt_frame_parse(const uint8_t *p, size_t n, struct pgt_frame *f);
/* Slot i (1 is the first after the pCID). */
int pgt_frame_slot(const struct pgt_frame *f, size_t i, struct pgt_cb_item *out);

struct pgt_reply {
	struct pgt_buf raw;
	bool got;		/* a reply was read */
	bool id_null;
	uint64_t id;
	struct pgt_cb_item outcome, details;
	bool has_parent;	/* it answers a frame: */
	struct pgt_cid parent;	/* that frame's CID */
};

/* The CID of a frame's bytes, as kernel replies name it (raw, sha2-256). */
void pgt_frame_cid(const uint8_t *p, size_t n, struct pgt_cid *c);
/*
 * SHA-256: userland/lib/sha256.c compiled under this name (Makefile), so
 * that it links beside libpromisegrid's pg_sha256; the kernel uses its own.
 */
void pgt_sha256(const void *data, size_t len, uint8_t digest[32]);

/*
 * Parses a control frame grid([42(control), id, word, {details}]) or,
 * answering a frame, grid([42(control), id, word, {details}, 42(parent)]).
 */
int pgt_reply_parse(const uint8_t *p, size_t n, struct pgt_reply *r);
bool pgt_reply_is(const struct pgt_reply *r, const char *outcome);
/* details "errno", or -1 */
long pgt_reply_errno(const struct pgt_reply *r);
void pgt_reply_diag(const struct pgt_reply *r);

#endif /* PGT_CODEC_H */
