/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stress: helpers shared by the stress and fuzz programs, on top of pgtest
 * (TAP runner, CBOR encoder/decoder, control helpers).
 *
 * - the run's time budget: -d SECONDS per test (or $PG_STRESS_SECONDS),
 *   -s SEED; every test loops until st_running() says stop;
 * - sequence-numbered frames: grid([42(pcid), tag, "pgtest"]) where the
 *   tag packs a sender number and a sequence number (pgtest's
 *   pgt_frame_msg), and a receiver-side ledger that counts every delivery
 *   and every drop notice's "dropped", and checks per-sender order;
 * - the "stats" counters as plain numbers;
 * - the errno sets the ABI documents, to check every write and read.
 */
#ifndef PG_STRESS_H
#define PG_STRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pgtest.h"

/* ---- the time budget ---------------------------------------------------- */

/* Seconds each test's load phase runs: -d, $PG_STRESS_SECONDS, default. */
extern unsigned int st_seconds;
extern unsigned int st_seed;

/* Parses -d SECONDS and -s SEED (default_seconds if neither -d nor env). */
void st_init(int argc, char **argv, unsigned int default_seconds);
uint64_t st_now_ms(void);
/* Starts a load phase of st_seconds (scaled by pct percent). */
uint64_t st_deadline(unsigned int pct);
bool st_running(uint64_t deadline);
/* xorshift64*, per caller state (seed it with st_rand_seed). */
uint64_t st_rand(uint64_t *state);
uint64_t st_rand_seed(unsigned int salt);

/* MAP_SHARED anonymous memory (zeroed), for counters across fork(). */
void *st_shared(size_t size);
/* Raises RLIMIT_NOFILE to at least n; 0 or -errno. */
int st_nofile(unsigned long n);
/* Waits for every child in pids[0..n); PGT_FAIL if one failed. */
int st_wait_children(const pid_t *pids, int n);

/* ---- errno sets --------------------------------------------------------- */

/* What a write of arbitrary bytes may fail with (docs/abi.md). */
bool st_write_errno_ok(int err);
/* What a read may fail with. */
bool st_read_errno_ok(int err);

/* ---- sequence-numbered frames ------------------------------------------- */

#define ST_SENDERS	64		/* sender numbers 0..63 */
#define ST_TAG(sender, seq)	(((uint64_t)(sender) << 40) | (seq))
#define ST_TAG_SENDER(tag)	((unsigned int)((tag) >> 40))
#define ST_TAG_SEQ(tag)		((tag) & ((1ull << 40) - 1))

/* Appends frames for seq0..seq0+n-1 of sender to b. */
void st_batch(struct pgt_buf *b, const struct pgt_cid *c, unsigned int sender,
	      uint64_t seq0, unsigned int n);
/*
 * What a sender did with sequence-numbered frames. attempts are frames
 * that reached routing: accepted, or refused with ENOBUFS (every receiver
 * full: each counted a drop). Receivers of a fan-out then owe
 * received + dropped == attempts, a worker group the same summed over
 * its members.
 */
struct st_tx {
	uint64_t next;			/* next seq to send */
	uint64_t accepted, enobufs, unreachable, eagain, writes;
};

/*
 * Sends up to n frames from tx->next on fd in one write, then fetches a
 * short write's kept error with a zero-length write. EAGAIN (in-flight
 * budget) consumes nothing; ENOBUFS and EHOSTUNREACH consume the frame
 * (its seq is skipped). Returns 0, -EAGAIN, or -errno of anything else.
 */
int st_send_seq(int fd, const struct pgt_cid *c, unsigned int sender,
		struct st_tx *tx, unsigned int n);
/* Frames in the first len bytes of a CBOR sequence; -1 if not whole. */
long st_count_items(const uint8_t *p, size_t len);

/*
 * A receiver's ledger. Every delivery on the watched pCID is counted
 * (and checked to come after the same sender's previous one), every drop
 * notice adds its "dropped", control replies are counted apart, anything
 * else is an error.
 */
struct st_ledger {
	struct pgt_cid cid;
	uint64_t frames;		/* deliveries of cid */
	uint64_t dropped;		/* sum of drop notices' "dropped" */
	uint64_t notices;
	uint64_t replies;		/* other control frames */
	uint64_t next[ST_SENDERS];	/* per sender: lowest seq still due */
	uint64_t errors;		/* order violations, garbage */
	uint8_t *seen;			/* optional: a bit per seq of sender 0 */
	uint64_t seen_bits;
	uint64_t dups;
};
/* A ledger for a zero-length cid (cid.len == 0) takes any pCID. */

void st_ledger_init(struct st_ledger *l, const struct pgt_cid *c);
/* Accounts a read's bytes; 0, or -1 (and a diagnostic) on garbage. */
int st_ledger_take(struct st_ledger *l, const uint8_t *p, size_t n);
/* Reads all that is readable now (non-blocking); bytes read or -errno. */
ssize_t st_ledger_drain(struct st_ledger *l, int fd);
/* Reads until nothing arrives for quiet_ms. */
int st_ledger_settle(struct st_ledger *l, int fd, int quiet_ms);

/* ---- stats -------------------------------------------------------------- */

struct st_stats {
	/* module */
	uint64_t frames_sent, deliveries, drops, rejected, no_receiver;
	uint64_t control, endpoints, routes, denied, claims, tokens;
	/* endpoint */
	uint64_t sent, received, dropped, queued_frames, queued_bytes;
	uint64_t inflight, receives;
};

/* One "stats" request on ep (replies to other requests are kept). */
int st_stats(struct pgt_ep *ep, struct st_stats *s);
/* The same on a fresh endpoint of its own. */
int st_stats_fresh(struct st_stats *s);
/* Module counters that must never go down and gauges that must be sane. */
int st_stats_check_monotonic(const struct st_stats *a,
			     const struct st_stats *b);
void st_stats_diag(const char *what, const struct st_stats *s);

/*
 * One request with id 0 (a reply only if it fails, so nothing to read
 * when it works, even if the queue is full): the write's 0 or -errno.
 */
int st_request0(struct pgt_ep *ep, const char *verb, const struct pgt_cid *c,
		const char *group);
/* Writes a batch of id-0 requests; each args map from fn(i, out). */
int st_request_batch(struct pgt_ep *ep, const char *verb, unsigned int n,
		     void (*args)(unsigned int i, struct pgt_buf *out, void *),
		     void *ctx);

#endif /* PG_STRESS_H */
