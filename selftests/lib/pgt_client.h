/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pgt_client: the selftests' client of /dev/promisegrid: open, send,
 * receive one delivery at a time, the control protocol (pgt_request,
 * pgt_hello, pgt_receive, ...), capabilities, and cgroup v2 helpers.
 * Frames are built and parsed with pgt_codec; it does not use the
 * userland library's client code.
 */
#ifndef PGT_CLIENT_H
#define PGT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pgt_codec.h"
#include "pgt_runner.h"

/* Milliseconds helpers wait for a delivery that must come. */
#define PGT_WAIT_MS		3000
/*
 * A token that must expire during a test: long enough that the steps
 * before the wait finish first on a debug kernel under TCG (200 and
 * 400 ms did not, once: CI of 58f6e18, test_security on the debug kernel).
 */
#define PGT_TOKEN_TTL_MS	2000

/* ---- endpoints ---------------------------------------------------------- */

struct pgt_ep {
	int fd;
	struct pgt_buf pend;	/* read but not yet consumed deliveries */
};

/* Opens the device O_RDWR | flags; 0 or -errno. */
int pgt_open(struct pgt_ep *ep, int flags);
void pgt_close(struct pgt_ep *ep);
/* write/read returning the count or -errno */
ssize_t pgt_write(int fd, const void *p, size_t n);
ssize_t pgt_read(int fd, void *p, size_t n);
ssize_t pgt_send(struct pgt_ep *ep, const struct pgt_buf *b);
/* Sends pgt_frame_msg(c, seq). */
ssize_t pgt_send_msg(struct pgt_ep *ep, const struct pgt_cid *c, uint64_t seq);
/* Waits up to ms for POLLIN; 1, 0 on timeout, -errno. */
int pgt_wait_in(int fd, int ms);
/* Takes the next delivery; its length, -ETIMEDOUT or -errno. */
ssize_t pgt_recv(struct pgt_ep *ep, struct pgt_buf *out, int ms);
/* Expects the next delivery to be exactly want. */
int pgt_expect(struct pgt_ep *ep, const struct pgt_buf *want);
/* Expects the next delivery to be pgt_frame_msg(c, seq). */
int pgt_expect_msg(struct pgt_ep *ep, const struct pgt_cid *c, uint64_t seq);
/* true when nothing is pending and a non-blocking read gives EAGAIN */
bool pgt_empty(struct pgt_ep *ep);
/* Counts deliveries readable now (non-blocking), consuming them. */
int pgt_drain(struct pgt_ep *ep);

/* ---- the control protocol ----------------------------------------------- */

/* Writes grid([42(control), id, verb, args]) (args: an encoded map, NULL
 * for {}), then waits for the reply with that id (for id 0 only if the
 * write failed). Returns the write's result: 0 or -errno; -PGT_EBADREPLY if
 * the reply is missing or disagrees with the write (kept iff it worked,
 * details errno equal to the write's errno). The reply is left in *r.
 */
int pgt_request(struct pgt_ep *ep, uint64_t id, const char *verb,
	       const struct pgt_buf *args, struct pgt_reply *r);
/* Writes raw request bytes and checks the reply the same way. */
int pgt_request_raw(struct pgt_ep *ep, const struct pgt_buf *req, bool id_null,
		   uint64_t id, struct pgt_reply *r);
/* Waits for a control reply with the given id; stashes other deliveries. */
int pgt_await_reply(struct pgt_ep *ep, bool id_null, uint64_t id,
		   struct pgt_reply *r, int ms);
uint64_t pgt_next_id(void);

/* true if r is a failure reply (outcome, errno err, a text reason) */
bool pgt_reply_failed(const struct pgt_reply *r, long err, const char *outcome);
/* {"pcid": 42(c), "group": group?, "attest": true?} */
void pgt_args_pcid(struct pgt_buf *out, const struct pgt_cid *c,
		  const char *group, bool attest);
/* grid([42(control), id, verb, ... args to come]) */
void pgt_request_begin(struct pgt_buf *b, uint64_t id, const char *verb);

int pgt_hello(struct pgt_ep *ep, uint64_t *endpoint);
int pgt_receive(struct pgt_ep *ep, const struct pgt_cid *c, const char *group,
	       bool attest);
int pgt_unreceive(struct pgt_ep *ep, const struct pgt_cid *c, const char *group);
int pgt_carry(struct pgt_ep *ep, uint64_t to, const struct pgt_buf *frame);
/* accept {"carry": on}: anyone may carry to ep, or only those it read. */
int pgt_accept_carry(struct pgt_ep *ep, bool on);
/* accept {key: on}, key "carry" or "unread"; 0 or -errno. */
int pgt_accept(struct pgt_ep *ep, const char *key, bool on);
/* stats: the reply stays in *r; module and endpoint maps out. */
int pgt_stats(struct pgt_ep *ep, struct pgt_reply *r, struct pgt_cb_item *module,
	     struct pgt_cb_item *endpoint);
/* One counter of stats' @map ("module" or "endpoint"); UINT64_MAX if none. */
uint64_t pgt_stat(struct pgt_ep *ep, const char *map, const char *key);

/* ---- capabilities ------------------------------------------------------- */

struct pgt_token {
	uint8_t b[PG_TOKEN_LEN];
	size_t len;
};

/* claim {"pcid"}; checks the reply grants every right. */
int pgt_claim(struct pgt_ep *ep, const struct pgt_cid *c);
/* grant {"pcid", "rights"?, "ttl_ms"?} (0: absent); the token into *t. */
int pgt_grant(struct pgt_ep *ep, const struct pgt_cid *c, uint32_t rights,
	     uint64_t ttl_ms, struct pgt_token *t);
/* redeem or revoke {"token": bytes}; the reply stays in *r. */
int pgt_token_request(struct pgt_ep *ep, const char *verb,
		     const struct pgt_token *t, struct pgt_reply *r);
int pgt_redeem(struct pgt_ep *ep, const struct pgt_token *t);
/* revoke; *tokens and *holders from the reply. */
int pgt_revoke(struct pgt_ep *ep, const struct pgt_token *t, uint64_t *tokens,
	      uint64_t *holders);

/* ---- cgroup v2 ----------------------------------------------------------- */

#define PGT_CG_ROOT	"/sys/fs/cgroup"
/* Writes s to a file (a cgroup control file); 0 or -errno. */
int pgt_cg_write(const char *path, const char *s);
/* memory.current of cgroup name under PGT_CG_ROOT, or -1. */
long long pgt_cg_current(const char *name);
/* Creates cgroup name (if needed) and moves this process into it. */
int pgt_cg_enter(const char *name);

/* ---- the pg_authorize hook ---------------------------------------------- */

union bpf_attr;
struct bpf_insn;

/* The bpf(2) system call: its result, -1 and errno on failure. */
long pgt_bpf(int cmd, union bpf_attr *a);
/*
 * Loads @n instructions as a writable raw tracepoint program and attaches
 * it to pg_authorize: 0, or -errno. If the load failed *prog is -1 (the
 * verifier's words in @log); if the attach did, *link is -1 and *prog
 * stays open for the caller to close.
 */
int pgt_authz_attach(const struct bpf_insn *insns, unsigned int n,
		     int *prog, int *link, char *log, size_t log_size);
#endif /* PGT_CLIENT_H */
