// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the promises of docs/abi.md "Security model" against a
 * hostile local user. Rights are checked where they are used: a receive
 * registered while a pCID was open, or by a token later revoked or
 * expired, gets nothing once the right is gone. Deliveries are charged to
 * the receiver's memory cgroup. Expired tokens and redemptions do not
 * count against limits. No writer delays another writer's wake-up. A
 * receiver that never reads cannot block a sender. Every denial is
 * counted. carry needs the target's consent. Attestation and checks use
 * the opener's credentials, not the writer's. Per-pCID work is bounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h"

#define NOBODY	65534

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- 1: receive rights are checked at delivery ------------------------ */

static int t_claim_stops_receive(const void *arg)
{
	struct pgt_ep s, a, w;
	struct pgt_token t;
	struct pgt_cid c;
	int i, got_w = 0;

	(void)arg;
	pgt_cid_named(&c, "security claim stops receive");
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&w, 0), 0);
	/* a receives while the pCID is open, fan-out and in a group */
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);
	CHECK_EQ(pgt_receive(&a, &c, "workers", false), 0);
	CHECK_EQ(pgt_claim(&s, &c), 0);
	/* w joins the group with a receive token */
	CHECK_EQ(pgt_grant(&s, &c, PG_RIGHT_RECEIVE, 0, &t), 0);
	CHECK_EQ(pgt_redeem(&w, &t), 0);
	CHECK_EQ(pgt_receive(&w, &c, "workers", false), 0);
	for (i = 1; i <= 10; i++)
		CHECK_EQ(pgt_send_msg(&s, &c, i), pgt_frame_msg_len(&c, i));
	for (i = 1; i <= 10; i++) {
		CHECK(pgt_expect_msg(&w, &c, i) == 0);
		got_w++;
	}
	CHECK_EQ(got_w, 10);
	/* a kept neither its fan-out copy nor a share of the group */
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

static int t_revoke_stops_receive(const void *arg)
{
	uint64_t tokens, holders;
	struct pgt_ep s, b;
	struct pgt_token t;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "security revoke stops receive");
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_claim(&s, &c), 0);
	CHECK_EQ(pgt_receive(&s, &c, NULL, false), 0);
	CHECK_EQ(pgt_grant(&s, &c, PG_RIGHT_RECEIVE, 0, &t), 0);
	CHECK_EQ(pgt_redeem(&b, &t), 0);
	CHECK_EQ(pgt_receive(&b, &c, NULL, false), 0);
	CHECK(pgt_send_msg(&s, &c, 1) > 0);
	CHECK(pgt_expect_msg(&b, &c, 1) == 0);
	CHECK_EQ(pgt_revoke(&s, &t, &tokens, &holders), 0);
	CHECK(pgt_send_msg(&s, &c, 2) > 0);
	CHECK(pgt_expect_msg(&s, &c, 1) == 0);
	CHECK(pgt_expect_msg(&s, &c, 2) == 0);
	CHECK(pgt_empty(&b));
	return PGT_PASS;
}

static int t_expiry_stops_receive(const void *arg)
{
	struct pgt_ep s, b;
	struct pgt_token t;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "security expiry stops receive");
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_claim(&s, &c), 0);
	CHECK_EQ(pgt_grant(&s, &c, PG_RIGHT_RECEIVE, PGT_TOKEN_TTL_MS, &t), 0);
	CHECK_EQ(pgt_redeem(&b, &t), 0);
	CHECK_EQ(pgt_receive(&b, &c, NULL, false), 0);
	CHECK(pgt_send_msg(&s, &c, 1) > 0);
	CHECK(pgt_expect_msg(&b, &c, 1) == 0);
	sleep_ms(PGT_TOKEN_TTL_MS + 600);
	/* b was the only receiver: now nobody may receive */
	CHECK_ERR(pgt_send_msg(&s, &c, 2), EHOSTUNREACH);
	CHECK(pgt_empty(&b));
	return PGT_PASS;
}

/* ---- 2: what a receiver holds is charged to the receiver -------------- */

/* The cgroup exists, with a memory controller. */
static int cg_setup(const char *cg)
{
	char path[128];

	snprintf(path, sizeof(path), PGT_CG_ROOT "/%s", cg);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return pgt_cg_current(cg) < 0 ? -ENOENT : 0;
}

#define MEMCG_RECEIVERS	32
#define MEMCG_FRAMES	1000
#define MEMCG_FRAME_LEN	900

/*
 * An attacker (nobody, cgroup A) has 32 attested receivers that never
 * read; a victim (cgroup V) sends 1000 frames on the open pCID. What the
 * receivers hold must show up in A, not in V.
 */
static int t_memcg_receiver_pays(const void *arg)
{
	int ready[2], done[2], status;
	long long a0, a1, v0, v1;
	struct pgt_buf f = { 0 };
	struct pgt_ep v;
	struct pgt_cid c;
	pid_t pid;
	char x;
	int i;

	(void)arg;
	if (pgt_cg_write(PGT_CG_ROOT "/cgroup.subtree_control", "+memory") ||
	    cg_setup("pgsec-a") || cg_setup("pgsec-v"))
		return pgt_skip("no cgroup v2 memory controller");
	pgt_cid_named(&c, "security memcg");
	CHECK_EQ(pipe(ready), 0);
	CHECK_EQ(pipe(done), 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct pgt_ep r[MEMCG_RECEIVERS];

		if (pgt_cg_enter("pgsec-a") || setgid(NOBODY) || setuid(NOBODY))
			_exit(10);
		for (i = 0; i < MEMCG_RECEIVERS; i++)
			if (pgt_open(&r[i], 0) || pgt_receive(&r[i], &c, NULL, true))
				_exit(11);
		if (write(ready[1], "r", 1) != 1 || read(done[0], &x, 1) != 1)
			_exit(12);
		_exit(0);
	}
	CHECK_EQ(read(ready[0], &x, 1), 1);
	CHECK_EQ(pgt_cg_enter("pgsec-v"), 0);
	CHECK_EQ(pgt_open(&v, 0), 0);
	CHECK_EQ(pgt_frame_sized(&f, &c, MEMCG_FRAME_LEN), 0);
	CHECK_EQ(pgt_send(&v, &f), f.len);	/* warm up: the write buffer */
	a0 = pgt_cg_current("pgsec-a");
	v0 = pgt_cg_current("pgsec-v");
	for (i = 1; i < MEMCG_FRAMES; i++)
		CHECK_EQ(pgt_send(&v, &f), f.len);
	a1 = pgt_cg_current("pgsec-a");
	v1 = pgt_cg_current("pgsec-v");
	CHECK_EQ(write(done[1], "d", 1), 1);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	pgt_diag("victim +%lld KiB, attacker +%lld KiB", (v1 - v0) >> 10,
		(a1 - a0) >> 10);
	/* the victim pays for its own write buffer at most */
	CHECK(v1 - v0 < (1 << 20));
	/* the receivers' cgroup holds at least the bytes delivered */
	CHECK(a1 - a0 >= (long long)MEMCG_RECEIVERS * (MEMCG_FRAMES - 1) *
			  MEMCG_FRAME_LEN);
	return PGT_PASS;
}

#define KEPT_FRAMES	2048
#define KEPT_FRAME_LEN	1024
#define KEPT_READ	(8 << 20)

/*
 * A reader keeps the records of its last read for the next frames, but
 * only up to a bound (PG_RX_FREE_CAP, 256 KiB): after reading a burst of
 * 2048 frames of 1 KiB (4 MiB of records) in one read, what its cgroup
 * still holds must be near that bound, not the burst.
 */
static int t_memcg_kept_bounded(const void *arg)
{
	long long r0, r1, r2;
	struct pgt_buf f = { 0 };
	struct pgt_ep r, v;
	struct pgt_cid c;
	ssize_t n, got = 0;
	uint8_t *buf;
	int i;

	(void)arg;
	if (pgt_cg_write(PGT_CG_ROOT "/cgroup.subtree_control", "+memory") ||
	    cg_setup("pgsec-r") || cg_setup("pgsec-v"))
		return pgt_skip("no cgroup v2 memory controller");
	pgt_cid_named(&c, "security kept records");
	buf = malloc(KEPT_READ);
	CHECK(buf);
	/* the endpoint is charged to the cgroup its opener was in at open */
	CHECK_EQ(pgt_cg_enter("pgsec-r"), 0);
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	CHECK_EQ(pgt_cg_enter("pgsec-v"), 0);
	CHECK_EQ(pgt_open(&v, 0), 0);
	CHECK_EQ(pgt_frame_sized(&f, &c, KEPT_FRAME_LEN), 0);
	/* warm up: one frame sent and read */
	CHECK_EQ(pgt_send(&v, &f), f.len);
	CHECK_EQ(pgt_read(r.fd, buf, KEPT_READ), f.len);
	r0 = pgt_cg_current("pgsec-r");
	for (i = 0; i < KEPT_FRAMES; i++)
		CHECK_EQ(pgt_send(&v, &f), f.len);
	r1 = pgt_cg_current("pgsec-r");
	n = pgt_read(r.fd, buf, KEPT_READ);
	CHECK(n > 0);
	got = n;
	/* a read takes every delivery that fits: one read, unless preempted */
	while (got < (ssize_t)f.len * KEPT_FRAMES &&
	       (n = pgt_read(r.fd, buf, KEPT_READ)) > 0)
		got += n;
	CHECK_EQ(got, (ssize_t)f.len * KEPT_FRAMES);
	r2 = pgt_cg_current("pgsec-r");
	free(buf);
	pgt_close(&r);
	pgt_close(&v);
	pgt_diag("receiver +%lld KiB queued, +%lld KiB after the read",
		 (r1 - r0) >> 10, (r2 - r0) >> 10);
	CHECK(r1 - r0 >= (long long)KEPT_FRAMES * KEPT_FRAME_LEN);
	/* 256 KiB kept, and the memcg's per-CPU charge batching */
	CHECK(r2 - r0 < (1 << 20));
	return PGT_PASS;
}

/*
 * What a burst left kept above 32 KiB is given back once unused, one to
 * two seconds later, and kept again by the next burst.
 */
#define TRIM_FRAMES	256
#define TRIM_KEEP_MAX	(32 << 10)
#define TRIM_KEEP_CAP	(256 << 10)

static int t_kept_given_back(const void *arg)
{
	uint64_t kept, left = 0;
	struct pgt_buf f = { 0 };
	struct pgt_ep r, v;
	struct pgt_cid c;
	ssize_t n, got;
	uint8_t *buf;
	int burst, i, ms;

	(void)arg;
	pgt_cid_named(&c, "security kept records given back");
	buf = malloc(KEPT_READ);
	CHECK(buf);
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	CHECK_EQ(pgt_open(&v, 0), 0);
	CHECK_EQ(pgt_frame_sized(&f, &c, KEPT_FRAME_LEN), 0);
	for (burst = 0; burst < 2; burst++) {
		for (i = 0; i < TRIM_FRAMES; i++)
			CHECK_EQ(pgt_send(&v, &f), f.len);
		got = 0;
		while (got < (ssize_t)f.len * TRIM_FRAMES &&
		       (n = pgt_read(r.fd, buf, KEPT_READ)) > 0)
			got += n;
		CHECK_EQ(got, (ssize_t)f.len * TRIM_FRAMES);
		kept = pgt_stat(&r, "endpoint", "kept_bytes");
		/* stats come back on r itself: that reply takes no kept record */
		for (ms = 0; ms < 4000; ms += 100) {
			sleep_ms(100);
			left = pgt_stat(&r, "endpoint", "kept_bytes");
			if (left <= TRIM_KEEP_MAX)
				break;
		}
		pgt_diag("burst %d: %llu KiB kept after the read, %llu KiB %d ms later",
			 burst, (unsigned long long)kept >> 10,
			 (unsigned long long)left >> 10, ms + 100);
		CHECK(kept > TRIM_KEEP_MAX && kept <= TRIM_KEEP_CAP);
		CHECK(left <= TRIM_KEEP_MAX);
	}
	free(buf);
	pgt_close(&r);
	pgt_close(&v);
	return PGT_PASS;
}

/* ---- 3: expired tokens and redemptions are freed ---------------------- */

static int t_expired_tokens_freed(const void *arg)
{
	struct pgt_ep a;
	struct pgt_token t;
	struct pgt_cid c;
	int i;

	(void)arg;
	pgt_cid_named(&c, "security expired tokens");
	CHECK_EQ(pgt_param_set("max_tokens", 4), 0);
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	for (i = 0; i < 4; i++)
		CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, PGT_TOKEN_TTL_MS, &t), 0);
	CHECK_ERR(pgt_grant(&a, &c, PG_RIGHT_SEND, PGT_TOKEN_TTL_MS, &t), ENOSPC);
	sleep_ms(PGT_TOKEN_TTL_MS + 600);
	/* stats count live tokens only */
	CHECK_EQ(pgt_stat(&a, "module", "tokens"), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, 0, &t), 0);
	CHECK_EQ(pgt_stat(&a, "module", "tokens"), 1);
	return PGT_PASS;
}

static int t_expired_holdings_freed(const void *arg)
{
	struct pgt_token t1, t2, t3;
	struct pgt_ep a, b;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "security expired holdings");
	CHECK_EQ(pgt_param_set("max_holdings", 2), 0);
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, PGT_TOKEN_TTL_MS, &t1), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, PGT_TOKEN_TTL_MS, &t2), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, 0, &t3), 0);
	CHECK_EQ(pgt_redeem(&b, &t1), 0);
	CHECK_EQ(pgt_redeem(&b, &t2), 0);
	CHECK_ERR(pgt_redeem(&b, &t3), ENOSPC);
	sleep_ms(PGT_TOKEN_TTL_MS + 600);
	CHECK_EQ(pgt_redeem(&b, &t3), 0);
	return PGT_PASS;
}

/* ---- 4: no writer delays another writer's wake-up --------------------- */

struct blocked_reader {
	struct pgt_ep *ep;
	double woke;
};

static void *read_blocking(void *arg)
{
	struct blocked_reader *br = arg;
	uint8_t buf[4096];

	if (pgt_read(br->ep->fd, buf, sizeof(buf)) > 0)
		br->woke = now_s();
	return NULL;
}

struct long_write {
	struct pgt_ep *ep;
	struct pgt_buf *b;
	double start, end;
	ssize_t ret;
};

static void *write_long(void *arg)
{
	struct long_write *lw = arg;

	lw->start = now_s();
	lw->ret = pgt_send(lw->ep, lw->b);
	lw->end = now_s();
	return NULL;
}

#define WAKE_GROUPS	4096

/*
 * The attacker's one write: a frame on P (the reader's pCID), then frames
 * on Q, which the attacker's own endpoint receives in many groups with a
 * full queue (and a second endpoint in fan-out, so every frame is taken
 * and the write goes on), so the write takes long. A legitimate frame on
 * P sent meanwhile must wake the reader at once, not when it ends.
 */
static int t_wakeup_not_delayed(const void *arg)
{
	struct pgt_buf w = { 0 }, one = { 0 };
	struct blocked_reader br = { 0 };
	struct long_write lw = { 0 };
	struct pgt_ep r, x, y, l;
	pthread_t rt, xt;
	struct pgt_cid p, q;
	double sent, delay;
	char name[16];
	int i;

	(void)arg;
	pgt_cid_named(&p, "security wake p");
	pgt_cid_named(&q, "security wake q");
	pgt_param_set("max_groups", WAKE_GROUPS);
	CHECK_EQ(pgt_param_set("queue_frames", 8192), 0);
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_open(&x, 0), 0);
	CHECK_EQ(pgt_open(&y, 0), 0);
	CHECK_EQ(pgt_open(&l, 0), 0);
	CHECK_EQ(pgt_receive(&r, &p, NULL, false), 0);
	CHECK_EQ(pgt_receive(&y, &q, NULL, false), 0);
	for (i = 0; i < WAKE_GROUPS; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		CHECK_EQ(pgt_receive(&x, &q, name, false), 0);
	}
	pgt_frame_msg(&w, &p, 1);
	while (w.len < (64 << 10))
		pgt_frame_msg(&w, &q, w.len);
	pgt_frame_msg(&one, &p, 2);

	br.ep = &r;
	CHECK_EQ(pthread_create(&rt, NULL, read_blocking, &br), 0);
	sleep_ms(100);		/* the reader sleeps in read() */
	lw = (struct long_write){ .ep = &x, .b = &w };
	CHECK_EQ(pthread_create(&xt, NULL, write_long, &lw), 0);
	sleep_ms(50);
	sent = now_s();
	CHECK_EQ(pgt_send(&l, &one), one.len);
	pthread_join(rt, NULL);
	pthread_join(xt, NULL);
	CHECK(lw.ret > 0);
	CHECK(br.woke > 0);
	delay = br.woke - sent;
	pgt_diag("attacker's write %.3f s, reader woke %.3f s after the frame",
		lw.end - lw.start, delay);
	if (lw.end - sent < 0.5)
		return pgt_skip("the attacker's write took only %.3f s",
			       lw.end - lw.start);
	CHECK(delay < 0.25 * (lw.end - sent));
	return PGT_PASS;
}

/*
 * While another writer holds a pCID's receivers for long, an RWF_NOWAIT
 * write on that pCID is EAGAIN at once (like a pipe's mutex), and an
 * O_NONBLOCK one waits for that writer's frame, not for its whole write.
 */
static int t_nowait_busy_pcid(const void *arg)
{
	struct pgt_buf w = { 0 }, one = { 0 };
	struct long_write lw = { 0 };
	struct pgt_ep x, y, l;
	struct iovec iov;
	struct pgt_cid q;
	char name[16];
	pthread_t xt;
	ssize_t n;
	int i;

	(void)arg;
	pgt_cid_named(&q, "security nowait q");
	CHECK_EQ(pgt_param_set("max_groups", WAKE_GROUPS), 0);
	CHECK_EQ(pgt_param_set("queue_frames", 8192), 0);
	CHECK_EQ(pgt_open(&x, 0), 0);
	CHECK_EQ(pgt_open(&y, 0), 0);
	CHECK_EQ(pgt_open(&l, O_NONBLOCK), 0);
	CHECK_EQ(pgt_receive(&y, &q, NULL, false), 0);
	for (i = 0; i < WAKE_GROUPS; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		CHECK_EQ(pgt_receive(&x, &q, name, false), 0);
	}
	while (w.len < (64 << 10))
		pgt_frame_msg(&w, &q, w.len);
	pgt_frame_msg(&one, &q, 1);
	lw = (struct long_write){ .ep = &x, .b = &w };
	CHECK_EQ(pthread_create(&xt, NULL, write_long, &lw), 0);
	sleep_ms(100);
	iov = (struct iovec){ one.p, one.len };
	n = pwritev2(l.fd, &iov, 1, -1, RWF_NOWAIT);
	n = n < 0 ? -errno : n;
	CHECK_EQ(pgt_send(&l, &one), one.len);
	pthread_join(xt, NULL);
	pgt_diag("the long write took %.3f s; RWF_NOWAIT during it: %s",
		lw.end - lw.start, n < 0 ? pgt_errname(-n) : "written");
	if (lw.end - lw.start < 0.3)
		return pgt_skip("the long write took only %.3f s",
			       lw.end - lw.start);
	CHECK_ERR(n, EAGAIN);
	return PGT_PASS;
}

/* ---- 5: a receiver that never reads cannot block its senders ---------- */

static int t_stalled_receiver(const void *arg)
{
	struct pgt_buf big = { 0 }, batch = { 0 }, fill = { 0 };
	struct pgt_ep stalled, other, s;
	struct pgt_cid p, q;
	int i, ok = 0, dropped = 0;
	ssize_t n;

	(void)arg;
	pgt_cid_named(&p, "security stalled p");
	pgt_cid_named(&q, "security stalled q");
	CHECK_EQ(pgt_param_set("inflight_bytes", 1 << 20), 0);
	CHECK_EQ(pgt_param_set("queue_bytes", 4 << 20), 0);
	CHECK_EQ(pgt_open(&stalled, 0), 0);
	CHECK_EQ(pgt_open(&other, 0), 0);
	CHECK_EQ(pgt_open(&s, O_NONBLOCK), 0);
	CHECK_EQ(pgt_receive(&stalled, &p, NULL, false), 0);
	CHECK_EQ(pgt_receive(&other, &q, NULL, false), 0);

	/* batched writes of 240 KB, each reaching the stalled receiver once */
	CHECK_EQ(pgt_frame_sized(&fill, &q, 16000), 0);
	for (i = 0; i < 16; i++) {
		pgt_buf_reset(&batch);
		pgt_frame_msg(&batch, &p, i);
		while (batch.len + fill.len < PG_WRITE_CHUNK)
			pgt_cb_raw(&batch, fill.p, fill.len);
		n = pgt_send(&s, &batch);
		CHECK_EQ(n, batch.len);
		CHECK_EQ(pgt_drain(&other) > 0, 1);
	}
	/* 3 MB of large frames to it alone: queued, never EAGAIN */
	CHECK_EQ(pgt_frame_sized(&big, &p, 60000), 0);
	for (i = 0; i < 50; i++)
		CHECK_EQ(pgt_send(&s, &big), big.len);
	/* then its 4 MiB queue is full: it loses frames instead, counted */
	for (i = 0; i < 50; i++) {
		n = pgt_send(&s, &big);
		if (n == (ssize_t)big.len)
			ok++;
		else if (n == -ENOBUFS)
			dropped++;
		else
			CHECK_EQ(n, big.len);
	}
	CHECK(dropped >= 30);
	CHECK_EQ(ok + dropped, 50);
	/* and the sender's other traffic flows */
	CHECK_EQ(pgt_send_msg(&s, &q, 7), pgt_frame_msg_len(&q, 7));
	CHECK(pgt_expect_msg(&other, &q, 7) == 0);
	/* its own requests are still answered, from the reply reserve */
	CHECK_EQ(pgt_stat(&stalled, "endpoint", "dropped"), dropped);
	return PGT_PASS;
}

/* ---- 6: every denial is counted --------------------------------------- */

static int t_denials_counted(const void *arg)
{
	uint64_t d0, d1, tokens, holders;
	struct pgt_token t, forged, short_lived;
	struct pgt_ep a, b, m;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "security denials");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_open(&m, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, 0, &t), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, 100, &short_lived), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_RECEIVE | PG_RIGHT_GRANT, 0,
			  &forged), 0);
	CHECK_EQ(pgt_redeem(&b, &t), 0);
	CHECK_EQ(pgt_redeem(&b, &forged), 0);
	forged.b[PG_TOKEN_LEN - 1] ^= 1;
	sleep_ms(200);
	d0 = pgt_stat(&m, "module", "denied");
	CHECK_ERR(pgt_revoke(&b, &t, &tokens, &holders), EACCES);  /* not minter */
	CHECK_ERR(pgt_redeem(&m, &forged), EACCES);		 /* forged */
	CHECK_ERR(pgt_revoke(&a, &forged, &tokens, &holders), EACCES);
	CHECK_ERR(pgt_redeem(&m, &short_lived), EACCES);		 /* expired */
	/* send from one holding, grant from another: no single one has both */
	CHECK_ERR(pgt_grant(&b, &c, PG_RIGHT_SEND, 0, &t), EACCES);
	d1 = pgt_stat(&m, "module", "denied");
	CHECK_EQ(d1 - d0, 5);
	return PGT_PASS;
}

/* ---- 8: carry is a reply, or consented to ----------------------------- */

static int t_carry_consent(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_ep a, b, c3;
	uint64_t bid, d0;
	struct pgt_cid p, q;

	(void)arg;
	pgt_cid_named(&p, "security carry p");
	pgt_cid_named(&q, "security carry q");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_open(&c3, 0), 0);
	CHECK_EQ(pgt_hello(&b, &bid), 0);
	pgt_frame_msg(&f, &q, 1);
	d0 = pgt_stat(&c3, "module", "denied");
	/* unsolicited: refused, counted, with a reply saying why */
	CHECK_ERR(pgt_carry(&a, bid, &f), EACCES);
	CHECK_EQ(pgt_stat(&c3, "module", "denied") - d0, 1);
	CHECK(pgt_empty(&b));
	/* b sends a frame that a reads: a may answer b */
	CHECK_EQ(pgt_receive(&a, &p, NULL, false), 0);
	CHECK(pgt_send_msg(&b, &p, 2) > 0);
	CHECK(pgt_expect_msg(&a, &p, 2) == 0);
	CHECK_EQ(pgt_carry(&a, bid, &f), 0);
	CHECK(pgt_expect(&b, &f) == 0);
	/* and a third endpoint still may not, until b accepts carries */
	CHECK_ERR(pgt_carry(&c3, bid, &f), EACCES);
	CHECK_EQ(pgt_accept_carry(&b, true), 0);
	CHECK_EQ(pgt_carry(&c3, bid, &f), 0);
	CHECK(pgt_expect(&b, &f) == 0);
	CHECK_EQ(pgt_accept_carry(&b, false), 0);
	CHECK_ERR(pgt_carry(&c3, bid, &f), EACCES);
	return PGT_PASS;
}

#define MANY_CALLERS	100

/* A worker that read calls from many callers may answer every one. */
static int t_carry_many_callers(const void *arg)
{
	static struct pgt_ep callers[MANY_CALLERS];
	uint64_t ids[MANY_CALLERS];
	struct pgt_buf f = { 0 };
	struct pgt_ep w;
	struct pgt_cid p;
	int i;

	(void)arg;
	pgt_cid_named(&p, "security many callers");
	CHECK_EQ(pgt_open(&w, 0), 0);
	CHECK_EQ(pgt_receive(&w, &p, "workers", false), 0);
	for (i = 0; i < MANY_CALLERS; i++) {
		CHECK_EQ(pgt_open(&callers[i], 0), 0);
		CHECK_EQ(pgt_hello(&callers[i], &ids[i]), 0);
		CHECK(pgt_send_msg(&callers[i], &p, i) > 0);
	}
	CHECK_EQ(pgt_drain(&w), MANY_CALLERS);
	pgt_frame_msg(&f, &p, 7);
	for (i = 0; i < MANY_CALLERS; i++) {
		CHECK_EQ(pgt_carry(&w, ids[i], &f), 0);
		CHECK(pgt_expect(&callers[i], &f) == 0);
	}
	return PGT_PASS;
}

/* ---- 9: the opener's credentials, not the writer's -------------------- */

static int t_opener_credentials(const void *arg)
{
	struct pgt_cb_item from, uid, pid;
	struct pgt_buf in = { 0 };
	struct pgt_frame fr;
	struct pgt_ep r, s;
	struct pgt_cid c;
	int status;
	pid_t child;

	(void)arg;
	pgt_cid_named(&c, "security opener creds");
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, true), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);	/* opened by root */
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(10);
		_exit(pgt_send_msg(&s, &c, 1) > 0 ? 0 : 11);
	}
	CHECK_EQ(waitpid(child, &status, 0), child);
	CHECK_EQ(status, 0);
	CHECK(pgt_recv(&r, &in, PGT_WAIT_MS) > 0);
	CHECK_EQ(pgt_frame_parse(in.p, in.len, &fr), 0);
	CHECK_EQ(pgt_frame_slot(&fr, 1, &from), 0);
	CHECK_EQ(pgt_cb_child(&from, 1, &pid), 0);
	CHECK_EQ(pgt_cb_child(&from, 2, &uid), 0);
	/* the opener (this process, root), not the writer (nobody) */
	CHECK_EQ(uid.arg, 0);
	CHECK_EQ(pid.arg, getpid());
	return PGT_PASS;
}

/* ---- 10 and 12: bounds ------------------------------------------------ */

static int t_groups_per_pcid(const void *arg)
{
	struct pgt_ep a, b;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "security groups per pcid");
	CHECK_EQ(pgt_param_set("max_groups", 2), 0);
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_receive(&a, &c, "one", false), 0);
	CHECK_EQ(pgt_receive(&a, &c, "two", false), 0);
	CHECK_ERR(pgt_receive(&b, &c, "three", false), ENOSPC);
	/* joining an existing group is not a new group */
	CHECK_EQ(pgt_receive(&b, &c, "two", false), 0);
	return PGT_PASS;
}

static int t_ttl_range(const void *arg)
{
	struct pgt_token t;
	struct pgt_ep a;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "security ttl range");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_ERR(pgt_grant(&a, &c, PG_RIGHT_SEND, 1ull << 32, &t), EINVAL);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, (1ull << 32) - 1, &t), 0);
	return PGT_PASS;
}

int main(void)
{
	static const struct pgt_test tests[] = {
		PGT_TEST(t_claim_stops_receive, "a claim stops receives registered while the pCID was open (fan-out and group)"),
		PGT_TEST(t_revoke_stops_receive, "a revoked receive token stops deliveries at once"),
		PGT_TEST(t_expiry_stops_receive, "an expired receive token stops deliveries"),
		PGT_TEST(t_memcg_receiver_pays, "deliveries are charged to the receiver's memory cgroup, not the sender's"),
		PGT_TEST(t_memcg_kept_bounded, "records a reader keeps for the next frames stay within their bound after a 4 MiB burst"),
		PGT_TEST(t_kept_given_back, "records kept above 32 KiB after a burst are given back once unused, and kept again by the next"),
		PGT_TEST(t_expired_tokens_freed, "expired tokens do not count against max_tokens or stats"),
		PGT_TEST(t_expired_holdings_freed, "expired redemptions do not count against max_holdings"),
		PGT_TEST(t_wakeup_not_delayed, "another writer's long write does not delay a reader's wake-up"),
		PGT_TEST(t_nowait_busy_pcid, "RWF_NOWAIT on a pCID another writer holds: EAGAIN; O_NONBLOCK waits for it"),
		PGT_TEST(t_stalled_receiver, "a receiver that never reads loses frames; its sender never blocks"),
		PGT_TEST(t_denials_counted, "every EACCES is counted: revoke, redeem, forged, expired, grant"),
		PGT_TEST(t_carry_consent, "carry only as a reply or to an endpoint that accepts carries"),
		PGT_TEST(t_carry_many_callers, "a worker that read 100 callers' calls may answer each of them"),
		PGT_TEST(t_opener_credentials, "attestation names the opener's credentials, not the writer's"),
		PGT_TEST(t_groups_per_pcid, "max_groups bounds the worker groups of one pCID"),
		PGT_TEST(t_ttl_range, "ttl_ms above 2^32-1 is EINVAL, not silently capped"),
	};

	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
