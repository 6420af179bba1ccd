// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the memory bounds (docs/abi.md "Queues, memory and
 * back-pressure"). A sender whose frames nobody reads holds at most
 * inflight_bytes and then gets EAGAIN (or blocks until a signal); a
 * receiver's queue holds at most queue_frames and queue_bytes and the
 * sender gets ENOBUFS, the receiver a drop notice with the exact count.
 * Then one process fills queues with routed frames and with control
 * replies it never reads, in a memory cgroup of its own: what the cgroup
 * is charged must stay within the configured bounds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress.h"

#define CG_NAME		"pg-stress"
#define CG		PGT_CG_ROOT "/" CG_NAME
#define SLACK		(2u << 20)	/* page tables, stacks, slab pages */

/*
 * A sender whose only receiver never reads is never stopped: each
 * delivery is the receiver's copy, so the sender's budget (inflight_bytes,
 * writes in progress) is free after every write; the receiver drops.
 */
static int test_unread_receiver(const void *arg)
{
	const uint64_t limit = 1 << 20;
	struct pgt_buf b = { 0 };
	struct st_stats s0, s1;
	struct pgt_ep rx, tx;
	struct pgt_cid c;
	int i, ok = 0, nobufs = 0;
	ssize_t w;

	(void)arg;
	CHECK(pgt_param_set("inflight_bytes", limit) == 0);
	CHECK(pgt_param_set("queue_bytes", limit) == 0);
	pgt_cid_named(&c, "memory-unread");
	CHECK(pgt_open(&rx, O_NONBLOCK) == 0);
	CHECK(pgt_receive(&rx, &c, NULL, false) == 0);
	CHECK(pgt_open(&tx, O_NONBLOCK) == 0);
	CHECK(pgt_frame_sized(&b, &c, 8000) == 0);
	CHECK(st_stats(&tx, &s0) == 0);
	/* four times the budget, all to the one receiver that never reads */
	for (i = 0; i < (int)(4 * limit / b.len); i++) {
		w = pgt_send(&tx, &b);
		if (w == (ssize_t)b.len)
			ok++;
		else if (w == -ENOBUFS)
			nobufs++;
		else
			CHECK_EQ(w, b.len);
	}
	CHECK(st_stats(&tx, &s1) == 0);
	pgt_diag("%d queued, %d dropped, sender's inflight after: %llu", ok,
		nobufs, (unsigned long long)s1.inflight);
	CHECK(ok > 0 && nobufs > 0);
	CHECK_EQ(s1.drops - s0.drops, nobufs);
	pgt_close(&tx);
	pgt_close(&rx);
	pgt_buf_free(&b);
	return PGT_PASS;
}

static int queue_full(const char *param, uint64_t v, size_t frame, int n,
		      int fit)
{
	struct pgt_buf b = { 0 };
	struct st_ledger l;
	struct st_stats s0, s1;
	struct pgt_ep rx, tx;
	struct pgt_cid c;
	int i, ok = 0, nobufs = 0;
	ssize_t w;

	CHECK(pgt_param_set(param, v) == 0);
	pgt_cid_named(&c, param);
	CHECK(pgt_open(&rx, O_NONBLOCK) == 0);
	CHECK(pgt_receive(&rx, &c, NULL, false) == 0);
	CHECK(pgt_open(&tx, O_NONBLOCK) == 0);
	CHECK(pgt_frame_sized(&b, &c, frame) == 0);
	CHECK(st_stats(&tx, &s0) == 0);
	for (i = 0; i < n; i++) {
		w = pgt_send(&tx, &b);
		if (w == (ssize_t)b.len)
			ok++;
		else if (w == -ENOBUFS)
			nobufs++;
		else
			CHECK_ERR(w, ENOBUFS);
	}
	CHECK(st_stats(&tx, &s1) == 0);
	CHECK_EQ(ok, fit);
	CHECK_EQ(nobufs, n - fit);
	CHECK_EQ(s1.drops - s0.drops, n - fit);
	st_ledger_init(&l, &c);
	CHECK(st_ledger_drain(&l, rx.fd) > 0);
	CHECK_EQ(l.notices, 1);		/* the notice comes first, once */
	CHECK_EQ(l.dropped, n - fit);
	pgt_close(&tx);
	pgt_close(&rx);
	pgt_buf_free(&b);
	return PGT_PASS;
}

static int test_queue_frames(const void *arg)
{
	(void)arg;
	return queue_full("queue_frames", 100, 64, 150, 100);
}

static int test_queue_bytes(const void *arg)
{
	(void)arg;
	/* 900 bytes and a delivery's header take a 1 KiB allocation */
	return queue_full("queue_bytes", 4096, 900, 10, 4);
}

/* ---- the memory cgroup -------------------------------------------------- */

struct filler {
	volatile int ready, go, filled;
	long long before, after;
	uint64_t frames, replies, rx_queued_bytes, rx_queued_frames;
};

/* In the cgroup: fill rx with frames, then its own queue with replies. */
static int filler(struct filler *f, const struct pgt_cid *c, bool replies,
		  uint64_t qframes)
{
	struct pgt_buf b = { 0 };
	struct pgt_ep tx;
	uint64_t i;
	ssize_t w;

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive the test */
	if (pgt_open(&tx, O_NONBLOCK))
		return PGT_FAIL;
	f->ready = 1;
	while (!f->go)
		usleep(1000);
	f->before = pgt_cg_current(CG_NAME);
	if (replies) {	/* hello with an id: a reply each, never read */
		for (i = 1; i <= 2 * qframes; i++) {	/* then they drop */
			pgt_buf_reset(&b);
			pgt_request_begin(&b, i, PG_VERB_HELLO);
			pgt_cb_map(&b, 0);
			if (pgt_send(&tx, &b) < 0)
				break;
			f->replies++;
		}
	} else {
		pgt_frame_sized(&b, c, 200);
		while ((w = pgt_send(&tx, &b)) > 0)
			f->frames++;
	}
	f->after = pgt_cg_current(CG_NAME);
	f->filled = 1;
	while (f->go != 2)	/* keep it all alive until measured */
		usleep(1000);
	pgt_close(&tx);
	pgt_buf_free(&b);
	return PGT_PASS;
}

static int run_filler(bool replies)
{
	const uint64_t inflight = 1 << 20, qbytes = 1 << 20, qframes = 16384;
	struct filler *f = st_shared(sizeof(*f));
	uint64_t bound;
	struct pgt_cid c;
	struct pgt_ep rx;
	char pid_s[16];
	long long used;
	pid_t pid;

	if (access(PGT_CG_ROOT "/cgroup.controllers", F_OK))
		return pgt_skip("no cgroup v2 at " PGT_CG_ROOT);
	pgt_cg_write(PGT_CG_ROOT "/cgroup.subtree_control", "+memory");
	mkdir(CG, 0755);
	if (access(CG "/memory.current", F_OK))
		return pgt_skip("no memory controller");
	CHECK(pgt_param_set("inflight_bytes", inflight) == 0);
	CHECK(pgt_param_set("queue_bytes", qbytes) == 0);
	CHECK(pgt_param_set("queue_frames", qframes) == 0);
	pgt_cid_named(&c, "memory-cgroup");
	CHECK(pgt_open(&rx, O_NONBLOCK) == 0);
	CHECK(pgt_receive(&rx, &c, NULL, false) == 0);
	pid = fork();
	if (pid == 0)
		exit(filler(f, &c, replies, qframes));
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	CHECK(pgt_cg_write(CG "/cgroup.procs", pid_s) == 0);
	while (!f->ready)
		usleep(1000);
	f->go = 1;
	while (!f->filled)
		usleep(1000);
	used = f->after - f->before;
	/* what the bounds allow: budget, one queue, its deliveries */
	bound = inflight + qbytes + qframes * 128 + SLACK;
	pgt_diag("%s: %llu frames, %llu replies queued; the cgroup grew by"
		" %lld KiB (bound %llu KiB: inflight_bytes + queue_bytes +"
		" queue_frames deliveries + slack)",
		replies ? "replies" : "frames",
		(unsigned long long)f->frames, (unsigned long long)f->replies,
		used >> 10, (unsigned long long)bound >> 10);
	f->go = 2;
	CHECK(st_wait_children(&pid, 1) == PGT_PASS);
	pgt_close(&rx);
	rmdir(CG);
	CHECK(f->before >= 0 && f->after >= 0);
	CHECK(used <= (long long)bound);
	return PGT_PASS;
}

static int test_cgroup_frames(const void *arg)
{
	(void)arg;
	return run_filler(false);
}

static int test_cgroup_replies(const void *arg)
{
	(void)arg;
	return run_filler(true);
}

static const struct pgt_test tests[] = {
	PGT_TEST(test_unread_receiver, "a receiver that never reads never stops its sender: it drops"),
	PGT_TEST(test_queue_frames, "queue_frames: ENOBUFS and an exact drop notice"),
	PGT_TEST(test_queue_bytes, "queue_bytes: ENOBUFS and an exact drop notice"),
	PGT_TEST(test_cgroup_frames, "memory charged for unread frames stays within the bounds"),
	PGT_TEST(test_cgroup_replies, "memory charged for unread control replies stays within the bounds"),
};

int main(int argc, char **argv)
{
	st_init(argc, argv, 4);
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
