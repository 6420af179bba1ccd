/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/* libpromisegrid's private declarations, shared by its source files. */
#ifndef PG_LIB_INTERNAL_H
#define PG_LIB_INTERNAL_H

#include "libpromisegrid-cbor.h"

#define PG_EXPORT	__attribute__((visibility("default")))
#define PG_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* How long a control request waits for its reply (they come at once). */
#define PG_REPLY_WAIT_MS	5000
/* First read buffer; it grows when a delivery does not fit. */
#define PG_RBUF_MIN		(256u << 10)
#define PG_RBUF_MAX		(4u << 20)
/* Deliveries kept aside while waiting for a reply, at most. */
#define PG_STASH_MAX		(64u << 20)

/*
 * An endpoint. Reads land in rbuf; deliveries that are not what a waiting
 * call wants move to stash, which pg_recv() serves first.
 */
struct pg {
	int fd;
	bool own_fd;
	uint64_t next_id;	/* control request ids */
	uint64_t next_nonce;	/* function call nonces */
	struct pg_buf rbuf;	/* last read; [roff, rbuf.len) not yet taken */
	size_t roff;
	struct pg_buf stash;	/* kept deliveries; [soff, stash.len) pending */
	size_t soff;
	struct pg_buf held;	/* a match taken out of the stash */
	int last_err;
	char reason[256];
	bool unread_asked;	/* accept {"unread": true} sent (call.c) */
	bool no_rwf_nowait;	/* the fd refused preadv2(RWF_NOWAIT) */
};

/* grid([42(pcid), and the array head for 1 + nslots elements. */
int pg_frame_begin(struct pg_buf *b, const struct pg_cid *pcid, size_t nslots);
/* CBOR heads and simple items, shortest form. */
int pg_put_head(struct pg_buf *b, unsigned int major, uint64_t v);
int pg_put_text(struct pg_buf *b, const char *s);
int pg_put_bytes(struct pg_buf *b, const void *p, size_t n);
/* 42(h'00' || cid) */
int pg_put_cid(struct pg_buf *b, const struct pg_cid *c);

/* An IEEE 754 half-precision value (frame.c). */
double pg_half_to_double(uint16_t h);

/*
 * Takes the 0x00-prefixed slot-0 bytes into a CID; false if not one
 * (pg_cid_from_link() reads the same from a libcbor 42(bytes) item).
 */
bool pg_cid_from_slot(const uint8_t *p, size_t n, struct pg_cid *c);

/* A kernel message's parent link (slot 4): the frame it answers. */
bool pg_control_parent(const struct pg_msg *m, struct pg_cid *parent);

/* Sets the endpoint's last error and reason; returns -err. */
int pg_fail(struct pg *pg, int err, const char *reason);

/* Raw read with a timeout into the endpoint's buffer: >0, or -errno. */
int pg_fill(struct pg *pg, int timeout_ms);
/* Next delivery from stash, then rbuf (no read): 1, or 0 if none. */
int pg_take(struct pg *pg, struct pg_msg *m);
/* Keeps m (just taken from rbuf) aside for a later pg_recv(). */
int pg_keep(struct pg *pg, const struct pg_msg *m);

/*
 * Waits for the first delivery that match() accepts; the others are kept
 * for pg_recv(). 1 and *out (valid until the next receive), or -errno.
 */
typedef bool (*pg_match_fn)(const struct pg_msg *m, const void *arg);
int pg_wait_for(struct pg *pg, pg_match_fn match, const void *arg,
		int timeout_ms, struct pg_msg *out);

/* Milliseconds left until deadline (CLOCK_MONOTONIC ms), -1 for never. */
int64_t pg_now_ms(void);
int pg_left_ms(int64_t deadline);

#endif /* PG_LIB_INTERNAL_H */
