/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * libpromisegrid: talk to the local grid kernel, /dev/promisegrid.
 *
 * The device has two operations: write sends CBOR frames, read receives
 * them. A frame is 1735551332([42(pCID), ...slots]) in grid-cbor (RFC 8949
 * section 4.2.1 deterministic encoding). This library builds and checks
 * frames (with the module's own validator), sends and receives them one
 * at a time, in batches, or through io_uring, and speaks the kernel's
 * control protocol and the pg-function-call-v1 protocol for you. What
 * takes or gives libcbor items is in <libpromisegrid-cbor.h>: a program
 * that only sends and receives bytes does not compile against libcbor.
 *
 * Conventions:
 * - Functions that can fail return 0 (or a count) on success and a
 *   negative errno on failure, like the kernel. pg_reason() gives the
 *   kernel's own words for the last failed request on an endpoint.
 * - struct pg_buf is a growable byte buffer the caller owns: zero it to
 *   start, pg_buf_free() it when done.
 * - A struct pg_msg points into the endpoint's buffers: it stays valid
 *   until the next call that receives on the same endpoint.
 *
 * Build: cc prog.c $(pkg-config --cflags --libs libpromisegrid)
 * Example:
 *
 *	struct pg *pg;
 *	struct pg_cid fn;
 *	struct pg_result res = { 0 };
 *
 *	pg_cid_parse("bafkrei...", &fn);
 *	pg_open(&pg, 0);
 *	if (pg_call(pg, &fn, "hello world", 11, 5000, &res) == 0)
 *		printf("%.*s\n", (int)res.len, (char *)res.data);
 *	pg_result_free(&res);
 *	pg_close(pg);
 */
#ifndef LIBPROMISEGRID_H
#define LIBPROMISEGRID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/promisegrid.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- bytes and CIDs ------------------------------------------------------ */

struct pg_buf {
	uint8_t *p;
	size_t len, cap;
};

/* Appends n bytes; 0 or -ENOMEM. */
int pg_buf_put(struct pg_buf *b, const void *p, size_t n);
void pg_buf_free(struct pg_buf *b);

/* A binary CIDv1 (what follows the 0x00 in slot 0), 4..PG_CID_MAX bytes. */
struct pg_cid {
	size_t len;
	uint8_t b[PG_CID_MAX];
};

/* The kernel's own pCIDs (control, delivery) and pg-function-call-v1's. */
extern const struct pg_cid pg_pcid_control, pg_pcid_delivery, pg_pcid_fn_reply;

/* CIDv1, codec raw, sha2-256 of data: how PromiseGrid names a spec text. */
void pg_cid_of(const void *data, size_t len, struct pg_cid *out);
/* Reads a whole file and names it; 0 or -errno. */
int pg_cid_of_file(const char *path, struct pg_cid *out);
/*
 * Parses a CID written as multibase base32 ("bafk..."), or as hex of the
 * CIDv1 bytes, optionally with the 00 prefix of slot 0. 0 or -EINVAL.
 */
int pg_cid_parse(const char *s, struct pg_cid *out);
/* "b" + lower-case base32, NUL-terminated; needs 2 + 8 * len / 5 bytes. */
#define PG_CID_STR_MAX	(2 + (8 * PG_CID_MAX + 4) / 5)
void pg_cid_format(const struct pg_cid *c, char *s, size_t n);
bool pg_cid_eq(const struct pg_cid *a, const struct pg_cid *b);

/* SHA-256, for CIDs and parent links. */
void pg_sha256(const void *data, size_t len, uint8_t digest[32]);

/* ---- frames -------------------------------------------------------------- */

/* Appends grid([42(pcid), ...]) around n slots already in grid-cbor. */
int pg_frame_wrap(struct pg_buf *out, const struct pg_cid *pcid,
		  const void *slots, size_t len, size_t n);

/*
 * Checks that p holds exactly one frame the module would accept (with the
 * default limits): 0, or the errno the module's write would give (EBADMSG,
 * EILSEQ, EPROTO, EMSGSIZE, E2BIG), negated. Bytes after the frame are
 * EBADMSG. The same validator source as the module's.
 */
int pg_frame_check(const void *p, size_t n);
/* Length of the first whole frame of a CBOR sequence, or -errno. */
ssize_t pg_frame_len(const void *p, size_t n);
/*
 * Length of the first CBOR item at p (well-formed; in grid-cbor too if
 * grid_cbor): -EAGAIN if it is cut short (read more), else the errno a
 * frame with it would get (-EBADMSG, -EILSEQ, -E2BIG, ...).
 */
ssize_t pg_item_len(const void *p, size_t n, bool grid_cbor);
/* Short text for pg_frame_check()'s detailed reason of the last failure. */
const char *pg_frame_strerror(const void *p, size_t n);

/* Who sent an attested delivery, written by the kernel. */
struct pg_from {
	uint64_t endpoint;
	uint32_t pid, uid, gid;
};

/* One delivery as read from the device. */
struct pg_msg {
	const uint8_t *raw;	/* the delivery's bytes as read */
	size_t raw_len;
	const uint8_t *frame;	/* the sender's exact frame (inside if attested) */
	size_t frame_len;
	struct pg_cid pcid;	/* the frame's pCID */
	size_t nslots;		/* slots after the pCID */
	size_t slots_off;	/* offset of slot 1 within frame */
	bool attested;		/* wrapped in the kernel's delivery envelope */
	struct pg_from from;	/* valid if attested */
};

/*
 * Parses one delivery at p (bytes after it allowed); fills m and returns
 * its length, or -EBADMSG/-EPROTO.
 */
ssize_t pg_msg_parse(const uint8_t *p, size_t n, struct pg_msg *m);
/*
 * The host an attested delivery came from through a gateway (its bytes,
 * not NUL-terminated; *len set), or NULL for a frame of this host or an
 * unattested one.
 */
const char *pg_msg_host(const struct pg_msg *m, size_t *len);
/* A kernel control frame (a reply or a notice)? */
bool pg_msg_is_control(const struct pg_msg *m);

/*
 * Writes one item in CBOR diagnostic notation (RFC 8949 section 8), or as
 * JSON (bytes as hex strings, tags as {"tag": n, "value": v}). p must hold
 * a well-formed item, as every delivery does.
 */
enum { PG_PRINT_DIAG = 0, PG_PRINT_JSON = 1 };
int pg_fprint(FILE *f, const uint8_t *p, size_t n, int format);

/* ---- endpoints ----------------------------------------------------------- */

struct pg;

/* Opens /dev/promisegrid (flags: O_NONBLOCK, O_CLOEXEC); 0 or -errno. */
int pg_open(struct pg **out, int flags);
/* Wraps an fd already open on the device (not closed by pg_close). */
int pg_attach(struct pg **out, int fd);
void pg_close(struct pg *pg);
int pg_fd(const struct pg *pg);
/* The kernel's reason for the last failed request, else strerror(). */
const char *pg_reason(const struct pg *pg);

/* Writes frames (one, or a CBOR sequence); the bytes accepted or -errno. */
ssize_t pg_send(struct pg *pg, const void *frames, size_t len);

/*
 * Receives the next delivery, waiting up to timeout_ms (-1: forever, 0:
 * not at all). Returns 1, -ETIMEDOUT, -EINTR, or -errno.
 */
int pg_recv(struct pg *pg, struct pg_msg *m, int timeout_ms);

/* ---- batches ------------------------------------------------------------- */

/* Many frames packed into one write. */
struct pg_batch {
	struct pg_buf buf;	/* the frames back to back */
	size_t *ends;		/* end offset of each frame in buf */
	size_t n, cap;
};

int pg_batch_add(struct pg_batch *b, const void *frame, size_t len);
void pg_batch_reset(struct pg_batch *b);
void pg_batch_free(struct pg_batch *b);
/*
 * Sends the whole batch, in as few writes as the module allows. Returns
 * the number of frames accepted; if one failed, returns -errno and sets
 * *accepted to the frames before it (no frame is half-applied).
 */
ssize_t pg_batch_send(struct pg *pg, const struct pg_batch *b,
		      size_t *accepted);
/*
 * Receives up to max deliveries with one read (those already buffered
 * first), waiting up to timeout_ms for the first. Returns how many.
 */
ssize_t pg_recv_batch(struct pg *pg, struct pg_msg *msgs, size_t max,
		      int timeout_ms);

/* ---- the kernel's control protocol --------------------------------------- */


struct pg_hello {
	uint64_t version, endpoint, max_depth, max_frame;
	uint64_t queue_bytes, queue_frames, inflight_bytes;
};

int pg_hello(struct pg *pg, struct pg_hello *h);
/* Fan-out receive (group NULL) or join a worker group; attest: wrapped. */
int pg_receive(struct pg *pg, const struct pg_cid *pcid, const char *group,
	       bool attest);
int pg_unreceive(struct pg *pg, const struct pg_cid *pcid, const char *group);
/*
 * accept {what: on}: "carry" lets any endpoint carry frames to this one;
 * "unread" asks for a notice when a receiver closes with a frame of ours
 * unread (pg_call_wait() uses it to fail at once). 0 or -errno.
 */
int pg_accept(struct pg *pg, const char *what, bool on);
/* Delivers one exact frame to endpoint to (a reply). */
int pg_carry(struct pg *pg, uint64_t to, const void *frame, size_t len);
/*
 * The same without waiting for the kernel's answer: the request goes with
 * id 0, so the kernel answers only a failure. The failure also fails the
 * write, so the return value is the carry's: 0 or -errno. The answer is
 * queued all the same, as a delivery pg_msg_failed_request() recognises.
 * host: NULL, or on a gateway the host the frame came from. For a
 * process that carries many replies (a bridge) and reads anyway.
 */
int pg_carry_send(struct pg *pg, uint64_t to, const void *frame, size_t len,
		  const char *host);
/*
 * True if m is the kernel's answer to a request sent with id 0 (such as
 * pg_carry_send()'s) that failed; *err (if not NULL) its errno.
 */
bool pg_msg_failed_request(const struct pg_msg *m, int *err);
int pg_claim(struct pg *pg, const struct pg_cid *pcid, uint32_t *rights);
/* rights 0: all the granter holds; ttl_ms 0: never expires. */
int pg_grant(struct pg *pg, const struct pg_cid *pcid, uint32_t rights,
	     uint64_t ttl_ms, uint8_t token[PG_TOKEN_LEN], uint32_t *granted);
int pg_redeem(struct pg *pg, const uint8_t token[PG_TOKEN_LEN],
	      struct pg_cid *pcid, uint32_t *rights);
int pg_revoke(struct pg *pg, const uint8_t token[PG_TOKEN_LEN],
	      uint64_t *tokens, uint64_t *holders);

/* ---- functions as a service (docs/protocols/pg-function-call-v1.md) ------ */

enum pg_outcome { PG_KEPT = 0, PG_NOT_PROMISED = 1, PG_MALFORMED = 2 };

/* A function's answer: data on PG_KEPT, the rest on failure. */
struct pg_result {
	enum pg_outcome outcome;
	uint8_t *data;		/* kept: the output (malloc'd) */
	size_t len;
	int err;		/* failure: errno */
	char *reason;		/* failure: text (malloc'd) */
	int status, signal;	/* -1 if not reported */
	uint8_t *err_out;	/* stderr, if reported (malloc'd) */
	size_t err_len;
};
void pg_result_free(struct pg_result *r);

/* grid([42(fn), nonce, body]) appended to out; its CID in *parent. */
int pg_call_frame(struct pg_buf *out, const struct pg_cid *fn, uint64_t nonce,
		  const void *body, size_t len, struct pg_cid *parent);
/* Sends a call with a fresh nonce; its parent CID, to await the reply. */
int pg_call_send(struct pg *pg, const struct pg_cid *fn, const void *body,
		 size_t len, struct pg_cid *parent);
/* If m is a reply, fills parent (and r, if not NULL) and returns 1; else 0. */
int pg_reply_parse(const struct pg_msg *m, struct pg_cid *parent,
		   struct pg_result *r);
/*
 * Waits for the reply to parent (other deliveries are kept); 0 or -errno:
 * -ETIMEDOUT, or -EPIPE at once when the worker closed with the call
 * unread (pg_call_send() asked the kernel for such notices).
 */
int pg_call_wait(struct pg *pg, const struct pg_cid *parent, int timeout_ms,
		 struct pg_result *r);
/*
 * pg_call_wait() that gives the reply itself (LIBPROMISEGRID_1.2): 0 and
 * *m, the reply as delivered, valid until the next receive on pg. On an
 * endpoint that accepts attestation (pg_accept(pg, "attest", true)),
 * m->from and pg_msg_host() say who answered; pg_reply_parse() reads the
 * outcome. The same errors as pg_call_wait().
 */
int pg_call_wait_msg(struct pg *pg, const struct pg_cid *parent,
		     int timeout_ms, struct pg_msg *m);
/* pg_call_send + pg_call_wait. 0 whenever a reply came: look at r. */
int pg_call(struct pg *pg, const struct pg_cid *fn, const void *body,
	    size_t len, int timeout_ms, struct pg_result *r);

/* A call as a worker receives it (pointers into the delivery). */
struct pg_call {
	uint64_t caller;	/* the caller's endpoint, from the kernel */
	struct pg_from from;
	uint64_t nonce;
	const uint8_t *body;
	size_t len;
	const uint8_t *frame;	/* the exact call frame */
	size_t frame_len;
	struct pg_cid parent;	/* its CID, for the reply */
};

/* Joins group on fn with attestation: how a worker starts. */
int pg_serve_join(struct pg *pg, const struct pg_cid *fn, const char *group);
/*
 * Decodes an attested delivery as a call: 0, or -EBADMSG if it is not
 * [42(fn), nonce, body] (answer it with pg_serve_reply(..., PG_MALFORMED)),
 * -EPROTO if it is not attested (no caller to answer).
 */
int pg_call_parse(const struct pg_msg *m, struct pg_call *c);
/*
 * Carries the reply to call c back to its caller. r->outcome PG_KEPT sends
 * r->data; otherwise err, reason and the optional status, signal, stderr.
 */
int pg_serve_reply(struct pg *pg, const struct pg_call *c,
		   const struct pg_result *r);
/* Encodes the reply frame itself. */
int pg_reply_frame(struct pg_buf *out, const struct pg_cid *parent,
		   const struct pg_result *r);

/* ---- io_uring ------------------------------------------------------------ */

struct pg_ring;

/* A ring of `entries` submissions on pg's fd; 0 or -errno. */
int pg_ring_open(struct pg_ring **out, struct pg *pg, unsigned int entries);
void pg_ring_close(struct pg_ring *r);
/*
 * Registers nbufs buffers of size bytes each (IORING_REGISTER_BUFFERS),
 * owned by the ring; pg_ring_buf() gives buffer i.
 */
int pg_ring_register_buffers(struct pg_ring *r, unsigned int nbufs,
			     size_t size);
uint8_t *pg_ring_buf(struct pg_ring *r, unsigned int i);
/*
 * Queue a send of frames (buffer kept until its completion), or a
 * receive into buf; *_fixed use registered buffer i. -EBUSY: ring full.
 */
int pg_ring_send(struct pg_ring *r, const void *frames, size_t len,
		 uint64_t user_data);
int pg_ring_send_fixed(struct pg_ring *r, unsigned int i, size_t len,
		       uint64_t user_data);
int pg_ring_recv(struct pg_ring *r, void *buf, size_t cap, uint64_t user_data);
int pg_ring_recv_fixed(struct pg_ring *r, unsigned int i, uint64_t user_data);
/*
 * Queue a receive that stays armed (LIBPROMISEGRID_1.1): deliveries land
 * in nbufs buffers (a power of two, 2-1024) of size bytes each that the
 * ring provides to the kernel, every completion has user_data, and a
 * completion's data stays valid until the next pg_ring_wait() on r, which
 * gives its buffer back. One per ring; pg_ring_submit() starts it. With
 * IORING_OP_READ_MULTISHOT (Linux 6.7) one submission keeps receiving and
 * the call returns 1; on older kernels the library re-submits a read after
 * each completion, inside pg_ring_wait(), and the call returns 0. -errno
 * on failure. A receive that fails (res < 0) is not re-armed. A wait that
 * re-arms it submits whatever else is queued on r too.
 */
int pg_ring_recv_multishot(struct pg_ring *r, unsigned int nbufs, size_t size,
			   uint64_t user_data);
/* Submits what is queued; the number submitted or -errno. */
int pg_ring_submit(struct pg_ring *r);

struct pg_completion {
	uint64_t user_data;
	bool recv;
	int res;		/* bytes sent or received, or -errno */
	const uint8_t *data;	/* recv: the deliveries read */
};

/*
 * Waits (up to timeout_ms; -1 forever) for at least one completion and
 * returns up to max of them, or -ETIMEDOUT/-errno.
 */
int pg_ring_wait(struct pg_ring *r, struct pg_completion *c, unsigned int max,
		 int timeout_ms);
/* Iterates the deliveries of a receive completion: 1, 0 at the end. */
int pg_completion_next(const struct pg_completion *c, size_t *off,
		       struct pg_msg *m);

#ifdef __cplusplus
}
#endif

#endif /* LIBPROMISEGRID_H */
