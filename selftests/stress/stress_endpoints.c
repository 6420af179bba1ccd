// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: scale and accounting under load (docs/abi.md "Routing",
 * "Queues, memory and back-pressure"). Thousands of open endpoints all
 * subscribed to one pCID; one endpoint receiving on 100 000+ pCIDs; a
 * fan-out to many subscribers in several processes with queues small
 * enough to drop; a worker group whose members come and go while a
 * sender runs. Every frame is numbered and counted: each receiver owes
 * received + dropped (drop notices) == frames that reached routing, and a
 * worker group owes it summed over its members, each frame to one member.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress.h"

#define MANY_ENDPOINTS	2000
#define MANY_PCIDS	100000
#define FANOUT_PROCS	4
#define FANOUT_PER_PROC	16
#define WORKER_SLOTS	4

static void cid_nth(struct pgt_cid *c, const char *prefix, unsigned int i)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-%u", prefix, i);
	pgt_cid_named(c, name);
}

static int open_checked(struct pgt_ep *ep, int flags)
{
	return pgt_open(ep, flags) ? PGT_FAIL : PGT_PASS;
}

/* ---- many endpoints ----------------------------------------------------- */

static int test_many_endpoints(const void *arg)
{
	const unsigned int n = MANY_ENDPOINTS, frames = 8;
	struct st_stats base, now;
	struct pgt_ep *eps, tx;
	struct pgt_cid c;
	struct pgt_buf b = { 0 };
	uint64_t t0 = st_now_ms(), id, prev = 0;
	unsigned int i;

	(void)arg;
	CHECK(st_nofile(n + 64) == 0);
	CHECK(st_stats_fresh(&base) == 0);
	pgt_cid_named(&c, "stress-many-endpoints");
	eps = calloc(n, sizeof(*eps));
	CHECK(eps);
	for (i = 0; i < n; i++) {
		CHECK(open_checked(&eps[i], O_NONBLOCK) == PGT_PASS);
		CHECK(pgt_hello(&eps[i], &id) == 0);
		CHECK(id > prev);	/* ids count up, never reused */
		prev = id;
		CHECK(pgt_receive(&eps[i], &c, NULL, false) == 0);
	}
	CHECK(st_stats_fresh(&now) == 0);
	CHECK_EQ(now.endpoints, base.endpoints + n);
	CHECK_EQ(now.routes, base.routes + 1);

	CHECK(open_checked(&tx, 0) == PGT_PASS);
	st_batch(&b, &c, 0, 0, frames);
	CHECK_EQ(pgt_send(&tx, &b), b.len);
	for (i = 0; i < n; i++) {
		struct st_ledger l;

		st_ledger_init(&l, &c);
		CHECK(st_ledger_drain(&l, eps[i].fd) >= 0);
		if (l.frames != frames || l.dropped || l.errors) {
			pgt_diag("endpoint %u: %llu frames, %llu dropped", i,
				(unsigned long long)l.frames,
				(unsigned long long)l.dropped);
			return PGT_FAIL;
		}
	}
	for (i = 0; i < n; i++)
		pgt_close(&eps[i]);
	pgt_close(&tx);
	CHECK(st_stats_fresh(&now) == 0);
	CHECK_EQ(now.endpoints, base.endpoints);
	CHECK_EQ(now.routes, base.routes);
	pgt_diag("%u endpoints, %u frames each by fan-out, in %llu ms", n,
		frames, (unsigned long long)(st_now_ms() - t0));
	free(eps);
	pgt_buf_free(&b);
	return PGT_PASS;
}

/* ---- many pCIDs --------------------------------------------------------- */

static void receive_args(unsigned int i, struct pgt_buf *out, void *ctx)
{
	struct pgt_cid c;

	cid_nth(&c, ctx, i);
	pgt_args_pcid(out, &c, NULL, false);
}

static int test_many_pcids(const void *arg)
{
	const unsigned int n = MANY_PCIDS, per_write = 2000, every = 10;
	struct st_stats base, now;
	struct st_ledger l;
	struct pgt_ep rx, tx;
	struct pgt_buf b = { 0 };
	struct pgt_cid c, any = { 0 };
	uint64_t t0 = st_now_ms(), t1;
	unsigned int i, j;

	(void)arg;
	CHECK(pgt_param_set("max_receives", n + 16) == 0);
	CHECK(st_stats_fresh(&base) == 0);
	CHECK(open_checked(&rx, 0) == PGT_PASS);
	CHECK(open_checked(&tx, 0) == PGT_PASS);
	CHECK(st_request_batch(&rx, PG_VERB_RECEIVE, n, receive_args,
			       "stress-pcid") == 0);
	t1 = st_now_ms();
	CHECK(st_stats(&rx, &now) == 0);
	CHECK_EQ(now.routes, base.routes + n);
	CHECK_EQ(now.receives, n);

	/* a frame on every tenth pCID, in order, all to rx */
	st_ledger_init(&l, &any);
	for (i = 0; i < n; i += per_write * every) {
		pgt_buf_reset(&b);
		for (j = i; j < i + per_write * every && j < n; j += every) {
			cid_nth(&c, "stress-pcid", j);
			pgt_frame_msg(&b, &c, ST_TAG(0, j));
		}
		CHECK_EQ(pgt_send(&tx, &b), b.len);
		CHECK(st_ledger_drain(&l, rx.fd) >= 0);
	}
	CHECK(st_ledger_settle(&l, rx.fd, 200) == 0);
	CHECK_EQ(l.frames, n / every);
	CHECK_EQ(l.dropped, 0);
	CHECK_EQ(l.errors, 0);
	/* nearby names nobody receives on */
	for (i = 0; i < 100; i++) {
		cid_nth(&c, "stress-pcid-not", i);
		CHECK_ERR(pgt_send_msg(&tx, &c, i), EHOSTUNREACH);
	}
	/* a quarter unreceived, then the close takes back the rest */
	CHECK(st_request_batch(&rx, PG_VERB_UNRECEIVE, n / 4, receive_args,
			       "stress-pcid") == 0);
	CHECK(st_stats(&rx, &now) == 0);
	CHECK_EQ(now.routes, base.routes + n - n / 4);
	pgt_close(&rx);
	CHECK(st_stats(&tx, &now) == 0);
	CHECK_EQ(now.routes, base.routes);
	pgt_close(&tx);
	pgt_diag("%u pCIDs: receives in %llu ms; a frame on every %uth and"
		" the unreceives in %llu ms", n, (unsigned long long)(t1 - t0),
		every, (unsigned long long)(st_now_ms() - t1));
	pgt_buf_free(&b);
	return PGT_PASS;
}

/* ---- fan-out to many subscribers, with drops ---------------------------- */

struct fan_shared {
	volatile int ready, done;
	struct st_tx tx;			/* the sender's, when done */
	uint64_t frames[FANOUT_PROCS * FANOUT_PER_PROC];
	uint64_t dropped[FANOUT_PROCS * FANOUT_PER_PROC];
	uint64_t errors;
};

static int fan_subscriber(struct fan_shared *sh, const struct pgt_cid *c,
			  unsigned int p)
{
	struct st_ledger l[FANOUT_PER_PROC];
	struct pgt_ep ep[FANOUT_PER_PROC];
	struct pollfd pfd[FANOUT_PER_PROC];
	unsigned int i, k = p * FANOUT_PER_PROC;

	for (i = 0; i < FANOUT_PER_PROC; i++) {
		if (pgt_open(&ep[i], 0) || pgt_receive(&ep[i], c, NULL, i & 1))
			return PGT_FAIL;
		st_ledger_init(&l[i], c);
		pfd[i].fd = ep[i].fd;
		pfd[i].events = POLLIN;
	}
	__sync_fetch_and_add(&sh->ready, 1);
	while (!sh->done) {
		poll(pfd, FANOUT_PER_PROC, 20);
		/* read slowly: queues fill and drop */
		for (i = 0; i < FANOUT_PER_PROC; i++)
			if ((pfd[i].revents & POLLIN) && (i + p) % 3)
				st_ledger_drain(&l[i], ep[i].fd);
		usleep(1000);
	}
	for (i = 0; i < FANOUT_PER_PROC; i++) {
		if (st_ledger_settle(&l[i], ep[i].fd, 300))
			return PGT_FAIL;
		sh->frames[k + i] = l[i].frames;
		sh->dropped[k + i] = l[i].dropped;
		__sync_fetch_and_add(&sh->errors, l[i].errors);
		pgt_close(&ep[i]);
	}
	return PGT_PASS;
}

/* Odd subscribers ask for attestation: the ledger unwraps the envelope. */
static int test_fanout(const void *arg)
{
	struct fan_shared *sh = st_shared(sizeof(*sh));
	pid_t pids[FANOUT_PROCS];
	struct pgt_cid c;
	struct pgt_ep tx;
	uint64_t dl, attempts;
	unsigned int p, i;
	int res, bad = 0;

	(void)arg;
	pgt_cid_named(&c, "stress-fanout");
	CHECK(pgt_param_set("queue_frames", 32) == 0);
	for (p = 0; p < FANOUT_PROCS; p++) {
		pids[p] = fork();
		if (pids[p] == 0)
			exit(fan_subscriber(sh, &c, p));
	}
	while (sh->ready < FANOUT_PROCS)
		usleep(1000);
	CHECK(open_checked(&tx, 0) == PGT_PASS);
	dl = st_deadline(100);
	while (st_running(dl)) {
		int err = st_send_seq(tx.fd, &c, 0, &sh->tx, 8);

		if (err == -EAGAIN)
			pgt_wait_in(tx.fd, 1);
		else if (err)
			bad = 1;
		if (err && err != -EAGAIN)
			break;
	}
	sh->done = 1;
	res = st_wait_children(pids, FANOUT_PROCS);
	attempts = sh->tx.accepted + sh->tx.enobufs;
	pgt_diag("fan-out to %d subscribers: %llu frames accepted, %llu ENOBUFS,"
		" %llu EAGAIN", FANOUT_PROCS * FANOUT_PER_PROC,
		(unsigned long long)sh->tx.accepted,
		(unsigned long long)sh->tx.enobufs,
		(unsigned long long)sh->tx.eagain);
	CHECK(!bad && res == PGT_PASS);
	CHECK_EQ(sh->errors, 0);
	for (i = 0; i < FANOUT_PROCS * FANOUT_PER_PROC; i++) {
		if (sh->frames[i] + sh->dropped[i] != attempts) {
			pgt_diag("subscriber %u: %llu delivered + %llu dropped"
				" != %llu sent: frames lost", i,
				(unsigned long long)sh->frames[i],
				(unsigned long long)sh->dropped[i],
				(unsigned long long)attempts);
			bad = 1;
		}
	}
	pgt_diag("subscriber 0: %llu delivered, %llu dropped",
		(unsigned long long)sh->frames[0],
		(unsigned long long)sh->dropped[0]);
	pgt_close(&tx);
	return bad ? PGT_FAIL : PGT_PASS;
}

/* ---- worker groups: members come and go --------------------------------- */

#define SEEN_BITS	(1u << 24)

struct work_shared {
	volatile int done;
	volatile int anchor_ready;
	struct st_tx tx;
	uint64_t frames, dropped, errors, workers, killed;
	uint8_t seen[SEEN_BITS / 8];
};

/*
 * A member of group "w" for life_ms (forever for the anchor). A graceful
 * one unreceives, then reads what is left: nothing can be queued to it
 * after the unreceive returns. An abrupt one is killed with its queue.
 */
static int worker(struct work_shared *sh, const struct pgt_cid *c,
		  int life_ms, bool anchor)
{
	struct st_ledger l;
	struct pgt_ep ep;
	uint64_t end = st_now_ms() + life_ms;

	if (pgt_open(&ep, 0) || st_request0(&ep, PG_VERB_RECEIVE, c, "w"))
		return PGT_FAIL;
	if (anchor)
		sh->anchor_ready = 1;
	st_ledger_init(&l, c);
	l.seen = sh->seen;
	l.seen_bits = SEEN_BITS;
	while (anchor ? !sh->done : st_now_ms() < end) {
		pgt_wait_in(ep.fd, 10);
		if (st_ledger_drain(&l, ep.fd) < 0)
			return PGT_FAIL;
	}
	if (!anchor && st_request0(&ep, PG_VERB_UNRECEIVE, c, "w"))
		return PGT_FAIL;
	if (st_ledger_settle(&l, ep.fd, anchor ? 300 : 0))
		return PGT_FAIL;
	__sync_fetch_and_add(&sh->frames, l.frames);
	__sync_fetch_and_add(&sh->dropped, l.dropped);
	__sync_fetch_and_add(&sh->errors, l.errors + l.dups);
	__sync_fetch_and_add(&sh->workers, 1);
	return PGT_PASS;
}

/* Keeps WORKER_SLOTS short-lived workers going until done. */
static int spawner(struct work_shared *sh, const struct pgt_cid *c,
		   bool abrupt)
{
	pid_t slot[WORKER_SLOTS] = { 0 };
	uint64_t rnd = st_rand_seed(7);
	unsigned int i;
	int status, res = PGT_PASS;

	while (!sh->done) {
		for (i = 0; i < WORKER_SLOTS; i++) {
			int life = 20 + st_rand(&rnd) % 200;

			if (slot[i] > 0 &&
			    waitpid(slot[i], &status, WNOHANG) == 0) {
				if (abrupt && st_rand(&rnd) % 4 == 0) {
					kill(slot[i], SIGKILL);
					__sync_fetch_and_add(&sh->killed, 1);
				}
				continue;
			}
			if (slot[i] > 0 && !abrupt &&
			    (!WIFEXITED(status) || WEXITSTATUS(status)))
				res = PGT_FAIL;
			slot[i] = fork();
			if (slot[i] == 0)
				exit(worker(sh, c, life, false));
		}
		usleep(5000);
	}
	for (i = 0; i < WORKER_SLOTS; i++) {
		if (slot[i] <= 0)
			continue;
		waitpid(slot[i], &status, 0);
		if (!abrupt && (!WIFEXITED(status) || WEXITSTATUS(status)))
			res = PGT_FAIL;
	}
	return res;
}

static int run_workers(bool abrupt)
{
	struct work_shared *sh = st_shared(sizeof(*sh));
	pid_t pids[2];
	struct pgt_cid c;
	struct pgt_ep tx;
	uint64_t dl, attempts, got;
	int res, bad = 0;

	pgt_cid_named(&c, abrupt ? "stress-workers-abrupt" : "stress-workers");
	CHECK(pgt_param_set("queue_frames", 64) == 0);
	pids[0] = fork();
	if (pids[0] == 0)
		exit(worker(sh, &c, 0, true));
	while (!sh->anchor_ready)
		usleep(1000);
	pids[1] = fork();
	if (pids[1] == 0)
		exit(spawner(sh, &c, abrupt));
	CHECK(open_checked(&tx, 0) == PGT_PASS);
	dl = st_deadline(100);
	while (st_running(dl) && sh->tx.next + 16 < SEEN_BITS) {
		int err = st_send_seq(tx.fd, &c, 0, &sh->tx, 4);

		if (err == -EAGAIN) {
			pgt_wait_in(tx.fd, 1);
		} else if (err) {
			bad = 1;
			break;
		}
	}
	sh->done = 1;
	res = st_wait_children(pids, 2);
	attempts = sh->tx.accepted + sh->tx.enobufs;
	got = sh->frames + sh->dropped;
	pgt_diag("worker group (%s exits): %llu workers (%llu killed), %llu"
		" frames sent, %llu delivered, %llu dropped, %llu ENOBUFS",
		abrupt ? "abrupt" : "graceful",
		(unsigned long long)sh->workers, (unsigned long long)sh->killed,
		(unsigned long long)attempts, (unsigned long long)sh->frames,
		(unsigned long long)sh->dropped,
		(unsigned long long)sh->tx.enobufs);
	pgt_close(&tx);
	CHECK(!bad && res == PGT_PASS);
	CHECK_EQ(sh->errors, 0);	/* order, duplicates, garbage */
	CHECK_EQ(sh->tx.unreachable, 0);	/* the anchor never left */
	if (abrupt)
		CHECK(got <= attempts);	/* killed workers' queues are gone */
	else
		CHECK_EQ(got, attempts);
	return PGT_PASS;
}

static int test_workers_graceful(const void *arg)
{
	(void)arg;
	return run_workers(false);
}

static int test_workers_abrupt(const void *arg)
{
	(void)arg;
	return run_workers(true);
}

static const struct pgt_test tests[] = {
	PGT_TEST(test_many_endpoints, "2000 endpoints open, fan-out to all"),
	PGT_TEST(test_many_pcids, "100000 pCIDs on one endpoint"),
	PGT_TEST(test_fanout, "fan-out to 64 slow subscribers: delivered + dropped == sent"),
	PGT_TEST(test_workers_graceful, "worker group, members leaving gracefully: no frame lost"),
	PGT_TEST(test_workers_abrupt, "worker group, members killed mid-flight"),
};

int main(int argc, char **argv)
{
	st_init(argc, argv, 4);
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
