/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pgtest: the selftests' own helpers for /dev/promisegrid.
 *
 * - a TAP runner (kselftest style): every test runs in a forked child
 *   under a watchdog, module parameters are restored after each test;
 * - a deterministic CBOR encoder (grid-cbor) and a small decoder;
 * - endpoint helpers: open, send, receive one delivery at a time, and the
 *   control protocol (pg_request, pg_hello, pg_receive, ...).
 *
 * Only libc, and the library's SHA-256 (userland/lib/sha256.c) to name
 * requests: the tests must not depend on the userland library's client
 * code. The CBOR encoder and decoder here are an oracle on purpose, apart
 * from the kernel's and the library's shared codec (common source would
 * share its bugs); the kernel hashes with its own sha256().
 */
#ifndef PGTEST_H
#define PGTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <linux/promisegrid.h>

#define PG_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- TAP ---------------------------------------------------------------- */

enum { PG_PASS = 0, PG_FAIL = 1, PG_SKIP = 4 };

struct pg_test {
	const char *name;
	int (*fn)(const void *arg);
	const void *arg;
};

#define PG_TEST(f, n)		{ .name = (n), .fn = (f) }
#define PG_TEST_ARG(f, n, a)	{ .name = (n), .fn = (f), .arg = (a) }

/* Seconds a single test may take before it is killed and fails. */
#define PG_TEST_TIMEOUT		20
/* Milliseconds helpers wait for a delivery that must come. */
#define PG_WAIT_MS		3000

/* Runs the tests, prints TAP, returns the exit status (0, 1 or 4). */
int pg_run(const struct pg_test *tests, size_t n);
void pg_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Records the reason of a skip; returns PG_SKIP. */
int pg_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *pg_errname(long err);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		pg_diag("%s:%d: check failed: %s", __FILE__, __LINE__,	\
			#cond);						\
		return PG_FAIL;						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		pg_diag("%s:%d: %s == %lld, expected %s == %lld",	\
			__FILE__, __LINE__, #a, _a, #b, _b);		\
		return PG_FAIL;						\
	}								\
} while (0)

/* expr returns a length or -errno; expects -err. */
#define CHECK_ERR(expr, err) do {					\
	long long _r = (long long)(expr);				\
	if (_r != -(long long)(err)) {					\
		pg_diag("%s:%d: %s returned %lld (%s), expected -%s",	\
			__FILE__, __LINE__, #expr, _r,			\
			_r < 0 ? pg_errname(-_r) : "success",		\
			pg_errname(err));				\
		return PG_FAIL;						\
	}								\
} while (0)

/* ---- CBOR encoder ------------------------------------------------------- */

struct pg_buf {
	uint8_t *p;
	size_t len, cap;
};

void pg_buf_free(struct pg_buf *b);
void pg_buf_reset(struct pg_buf *b);
void cb_raw(struct pg_buf *b, const void *p, size_t n);
void cb_byte(struct pg_buf *b, uint8_t v);
void cb_head(struct pg_buf *b, unsigned int major, uint64_t v);
void cb_uint(struct pg_buf *b, uint64_t v);
void cb_text(struct pg_buf *b, const char *s);
void cb_textn(struct pg_buf *b, const char *s, size_t n);
void cb_bytes(struct pg_buf *b, const void *p, size_t n);
void cb_array(struct pg_buf *b, uint64_t n);
void cb_map(struct pg_buf *b, uint64_t n);
void cb_tag(struct pg_buf *b, uint64_t tag);
void cb_null(struct pg_buf *b);
void cb_bool(struct pg_buf *b, bool v);

/* A map whose entries are sorted deterministically when emitted. */
#define PG_MAP_MAX	8
struct pg_map {
	int n;
	struct pg_buf key[PG_MAP_MAX], val[PG_MAP_MAX];
};
/* Adds a text key; returns the buffer to encode its value into. */
struct pg_buf *pg_map_put(struct pg_map *m, const char *key);
/* Appends the map, keys sorted by their encoding; frees m's entries. */
void pg_map_emit(struct pg_buf *out, struct pg_map *m);

/* ---- CIDs and frames ---------------------------------------------------- */

struct pg_cid {
	size_t len;
	uint8_t b[PG_CID_MAX + 8];	/* room for a too long one */
};

extern const struct pg_cid pg_cid_control, pg_cid_delivery;

/* A test pCID: 01 55 12 20 and 32 bytes derived from name. */
void pg_cid_named(struct pg_cid *c, const char *name);
bool pg_cid_eq(const struct pg_cid *a, const struct pg_cid *b);
/* 42(h'00' || cid) */
void cb_cid(struct pg_buf *b, const struct pg_cid *c);
/* The grid tag, the array head (1 + nslots) and slot 0. */
void pg_frame_begin(struct pg_buf *b, const struct pg_cid *c, size_t nslots);
/* grid([42(c), seq, "pgtest"]): a small frame carrying a number. */
void pg_frame_msg(struct pg_buf *b, const struct pg_cid *c, uint64_t seq);
size_t pg_frame_msg_len(const struct pg_cid *c, uint64_t seq);
/* grid([42(c), h'...']) of exactly total bytes; -1 if impossible. */
int pg_frame_sized(struct pg_buf *b, const struct pg_cid *c, size_t total);

/* ---- CBOR decoder ------------------------------------------------------- */

struct cb_item {
	const uint8_t *p;	/* first byte */
	size_t len;		/* the whole item */
	size_t hlen;		/* its head */
	unsigned int major;
	unsigned int ai;
	uint64_t arg;
};

/* Decodes the item at p (definite lengths only); 0 or -1. */
int cb_item(const uint8_t *p, size_t n, struct cb_item *it);
/* Element idx of an array (map: key 2i, value 2i+1; tag: 0). */
int cb_child(const struct cb_item *parent, size_t idx, struct cb_item *out);
int cb_map_get(const struct cb_item *map, const char *key,
	       struct cb_item *val);
int cb_map_uint(const struct cb_item *map, const char *key, uint64_t *v);
bool cb_is_text(const struct cb_item *it, const char *s);
bool cb_is_null(const struct cb_item *it);
bool cb_is_uint(const struct cb_item *it);

struct pg_frame {
	struct cb_item item, arr;
	struct pg_cid cid;
	size_t nslots;		/* elements after slot 0 */
};

/* Parses a grid frame filling all of p; 0 or -1. */
int pg_frame_parse(const uint8_t *p, size_t n, struct pg_frame *f);
/* Slot i (1 is the first after the pCID). */
int pg_frame_slot(const struct pg_frame *f, size_t i, struct cb_item *out);

struct pg_reply {
	struct pg_buf raw;
	bool got;		/* a reply was read */
	bool id_null;
	uint64_t id;
	struct cb_item outcome, details;
	bool has_parent;	/* it answers a frame: */
	struct pg_cid parent;	/* that frame's CID */
};

/* The CID of a frame's bytes, as kernel replies name it (raw, sha2-256). */
void pg_frame_cid(const uint8_t *p, size_t n, struct pg_cid *c);
/* SHA-256, from userland/lib/sha256.c (the kernel uses its own). */
void pg_sha256(const void *data, size_t len, uint8_t digest[32]);

/*
 * Parses a control frame grid([42(control), id, word, {details}]) or,
 * answering a frame, grid([42(control), id, word, {details}, 42(parent)]).
 */
int pg_reply_parse(const uint8_t *p, size_t n, struct pg_reply *r);
bool pg_reply_is(const struct pg_reply *r, const char *outcome);
/* details "errno", or -1 */
long pg_reply_errno(const struct pg_reply *r);
void pg_reply_diag(const struct pg_reply *r);

/* ---- endpoints ---------------------------------------------------------- */

struct pg_ep {
	int fd;
	struct pg_buf pend;	/* read but not yet consumed deliveries */
};

/* Opens the device O_RDWR | flags; 0 or -errno. */
int pg_open(struct pg_ep *ep, int flags);
void pg_close(struct pg_ep *ep);
/* write/read returning the count or -errno */
ssize_t pg_write(int fd, const void *p, size_t n);
ssize_t pg_read(int fd, void *p, size_t n);
ssize_t pg_send(struct pg_ep *ep, const struct pg_buf *b);
/* Sends pg_frame_msg(c, seq). */
ssize_t pg_send_msg(struct pg_ep *ep, const struct pg_cid *c, uint64_t seq);
/* Waits up to ms for POLLIN; 1, 0 on timeout, -errno. */
int pg_wait_in(int fd, int ms);
/* Takes the next delivery; its length, -ETIMEDOUT or -errno. */
ssize_t pg_recv(struct pg_ep *ep, struct pg_buf *out, int ms);
/* Expects the next delivery to be exactly want. */
int pg_expect(struct pg_ep *ep, const struct pg_buf *want);
/* Expects the next delivery to be pg_frame_msg(c, seq). */
int pg_expect_msg(struct pg_ep *ep, const struct pg_cid *c, uint64_t seq);
/* true when nothing is pending and a non-blocking read gives EAGAIN */
bool pg_empty(struct pg_ep *ep);
/* Counts deliveries readable now (non-blocking), consuming them. */
int pg_drain(struct pg_ep *ep);

/* ---- the control protocol ----------------------------------------------- */

/* Error a helper returns when a reply breaks the control protocol. */
#define PG_EBADREPLY	4095

/* Writes grid([42(control), id, verb, args]) (args: an encoded map, NULL
 * for {}), then waits for the reply with that id (for id 0 only if the
 * write failed). Returns the write's result: 0 or -errno; -PG_EBADREPLY if
 * the reply is missing or disagrees with the write (kept iff it worked,
 * details errno equal to the write's errno). The reply is left in *r.
 */
int pg_request(struct pg_ep *ep, uint64_t id, const char *verb,
	       const struct pg_buf *args, struct pg_reply *r);
/* Writes raw request bytes and checks the reply the same way. */
int pg_request_raw(struct pg_ep *ep, const struct pg_buf *req, bool id_null,
		   uint64_t id, struct pg_reply *r);
/* Waits for a control reply with the given id; stashes other deliveries. */
int pg_await_reply(struct pg_ep *ep, bool id_null, uint64_t id,
		   struct pg_reply *r, int ms);
uint64_t pg_next_id(void);

/* true if r is a failure reply (outcome, errno err, a text reason) */
bool pg_reply_failed(const struct pg_reply *r, long err, const char *outcome);
/* {"pcid": 42(c), "group": group?, "attest": true?} */
void pg_args_pcid(struct pg_buf *out, const struct pg_cid *c,
		  const char *group, bool attest);
/* grid([42(control), id, verb, ... args to come]) */
void pg_request_begin(struct pg_buf *b, uint64_t id, const char *verb);

int pg_hello(struct pg_ep *ep, uint64_t *endpoint);
int pg_receive(struct pg_ep *ep, const struct pg_cid *c, const char *group,
	       bool attest);
int pg_unreceive(struct pg_ep *ep, const struct pg_cid *c, const char *group);
int pg_carry(struct pg_ep *ep, uint64_t to, const struct pg_buf *frame);
/* accept {"carry": on}: anyone may carry to ep, or only those it read. */
int pg_accept_carry(struct pg_ep *ep, bool on);
/* accept {key: on}, key "carry" or "unread"; 0 or -errno. */
int pg_accept(struct pg_ep *ep, const char *key, bool on);
/* stats: the reply stays in *r; module and endpoint maps out. */
int pg_stats(struct pg_ep *ep, struct pg_reply *r, struct cb_item *module,
	     struct cb_item *endpoint);

/* ---- capabilities ------------------------------------------------------- */

struct pg_token {
	uint8_t b[PG_TOKEN_LEN];
	size_t len;
};

/* claim {"pcid"}; checks the reply grants every right. */
int pg_claim(struct pg_ep *ep, const struct pg_cid *c);
/* grant {"pcid", "rights"?, "ttl_ms"?} (0: absent); the token into *t. */
int pg_grant(struct pg_ep *ep, const struct pg_cid *c, uint32_t rights,
	     uint64_t ttl_ms, struct pg_token *t);
/* redeem or revoke {"token": bytes}; the reply stays in *r. */
int pg_token_request(struct pg_ep *ep, const char *verb,
		     const struct pg_token *t, struct pg_reply *r);
int pg_redeem(struct pg_ep *ep, const struct pg_token *t);
/* revoke; *tokens and *holders from the reply. */
int pg_revoke(struct pg_ep *ep, const struct pg_token *t, uint64_t *tokens,
	      uint64_t *holders);

/* ---- cgroup v2 ----------------------------------------------------------- */

#define PG_CG_ROOT	"/sys/fs/cgroup"
/* Writes s to a file (a cgroup control file); 0 or -errno. */
int pg_cg_write(const char *path, const char *s);
/* memory.current of cgroup name under PG_CG_ROOT, or -1. */
long long pg_cg_current(const char *name);
/* Creates cgroup name (if needed) and moves this process into it. */
int pg_cg_enter(const char *name);

/* ---- module parameters -------------------------------------------------- */

#define PG_PARAM_DIR	"/sys/module/promisegrid/parameters/"
int pg_param_get(const char *name, uint64_t *v);
int pg_param_set(const char *name, uint64_t v);

#endif /* PGTEST_H */
