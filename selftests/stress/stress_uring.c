// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: io_uring requests in flight when the file is closed
 * (docs/abi.md "Device and endpoints"). Reads queued on an empty endpoint
 * hold the file: after close() they still complete with the frames sent
 * to its pCID; or the ring is torn down, or the process exits, with them
 * pending. Writes waiting for send budget are closed and cancelled the
 * same way. Completions must carry a frame, a documented errno or
 * -ECANCELED, and every endpoint must be gone at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress.h"

#define NREQ	8
#define RBUF	4096

static int ring_init(struct io_uring *ring)
{
	int r = io_uring_queue_init(4 * NREQ, ring, 0);

	if (r == -ENOSYS || r == -EPERM)
		return pgt_skip("io_uring unavailable: %s", pgt_errname(-r));
	return r ? PGT_FAIL : PGT_PASS;
}

static int endpoints_back(uint64_t want)
{
	struct st_stats s;
	int i;

	for (i = 0; i < 300; i++) {
		if (st_stats_fresh(&s))
			return PGT_FAIL;
		if (s.endpoints == want)
			return PGT_PASS;
		usleep(10000);
	}
	pgt_diag("endpoints %llu, expected %llu",
		(unsigned long long)s.endpoints, (unsigned long long)want);
	return PGT_FAIL;
}

/* Reaps n completions (or what comes within ms); counts them by kind. */
static int reap(struct io_uring *ring, int n, int ms, uint64_t *done,
		uint64_t *cancelled)
{
	struct __kernel_timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	struct io_uring_cqe *cqe;
	int got = 0;

	while (got < n && !io_uring_wait_cqe_timeout(ring, &cqe, &ts)) {
		int res = cqe->res;

		io_uring_cqe_seen(ring, cqe);
		got++;
		if (res > 0)
			(*done)++;
		else if (res == -ECANCELED || res == -EINTR)
			(*cancelled)++;
		else if (!st_write_errno_ok(-res) && !st_read_errno_ok(-res)) {
			pgt_diag("completion: %d (%s)", res, pgt_errname(-res));
			return -1;
		}
	}
	return got;
}

/* Opens an endpoint receiving on c with NREQ reads queued on it. */
static int queue_reads(struct io_uring *ring, const struct pgt_cid *c,
		       uint8_t (*bufs)[RBUF])
{
	struct pgt_ep ep;
	int i;

	if (pgt_open(&ep, 0) || st_request0(&ep, PG_VERB_RECEIVE, c, NULL))
		return -1;
	for (i = 0; i < NREQ; i++)
		io_uring_prep_read(io_uring_get_sqe(ring), ep.fd, bufs[i],
				   RBUF, 0);
	if (io_uring_submit(ring) != NREQ)
		return -1;
	return ep.fd;
}

static int test_reads_closed(const void *arg)
{
	static uint8_t bufs[NREQ][RBUF];
	uint64_t dl, iter = 0, done = 0, cancelled = 0;
	struct st_stats base;
	struct pgt_ep tx;
	int res;

	(void)arg;
	CHECK(st_stats_fresh(&base) == 0);
	CHECK(pgt_open(&tx, O_NONBLOCK) == 0);
	dl = st_deadline(100);
	while (st_running(dl)) {
		struct io_uring ring;
		struct pgt_cid c;
		char name[32];
		int fd, i, mode = iter % 3;
		pid_t pid;

		snprintf(name, sizeof(name), "uring-closed-%llu",
			 (unsigned long long)iter++);
		pgt_cid_named(&c, name);
		if (mode == 2) {	/* exit with the reads in flight */
			pid = fork();
			if (pid == 0) {
				if (ring_init(&ring) ||
				    queue_reads(&ring, &c, bufs) < 0)
					_exit(PGT_FAIL);
				_exit(PGT_PASS);
			}
			CHECK(st_wait_children(&pid, 1) == PGT_PASS);
			continue;
		}
		res = ring_init(&ring);
		if (res)
			return res;
		fd = queue_reads(&ring, &c, bufs);
		CHECK(fd >= 0);
		usleep(1000);
		close(fd);
		if (mode == 0) {	/* the reads still get frames */
			for (i = 0; i < NREQ; i++)
				CHECK(pgt_send_msg(&tx, &c, i) > 0);
			CHECK_EQ(reap(&ring, NREQ, 3000, &done, &cancelled),
				 NREQ);
		}
		io_uring_queue_exit(&ring);	/* mode 1: still pending */
	}
	pgt_close(&tx);
	pgt_diag("%llu rings: %llu reads completed after close, %llu"
		" cancelled", (unsigned long long)iter,
		(unsigned long long)done, (unsigned long long)cancelled);
	CHECK(done > 0);
	return endpoints_back(base.endpoints);
}

static int test_writes_closed(const void *arg)
{
	uint64_t dl, iter = 0, done = 0, cancelled = 0;
	struct pgt_buf b = { 0 };
	struct st_stats base;
	struct pgt_cid c;
	struct pgt_ep rx;
	int res;

	(void)arg;
	CHECK(st_stats_fresh(&base) == 0);
	CHECK(pgt_param_set("inflight_bytes", 1 << 20) == 0);
	pgt_cid_named(&c, "uring-writes");
	CHECK(pgt_open(&rx, O_NONBLOCK) == 0);
	CHECK(pgt_receive(&rx, &c, NULL, false) == 0);
	CHECK(pgt_frame_sized(&b, &c, 32 << 10) == 0);
	dl = st_deadline(100);
	while (st_running(dl)) {
		struct io_uring ring;
		struct pgt_ep tx;
		int i;

		res = ring_init(&ring);
		if (res)
			return res;
		CHECK(pgt_open(&tx, O_NONBLOCK) == 0);
		/* use up the budget, then queue writes that must wait */
		while (pgt_send(&tx, &b) > 0)
			;
		for (i = 0; i < NREQ; i++)
			io_uring_prep_write(io_uring_get_sqe(&ring), tx.fd,
					    b.p, b.len, 0);
		CHECK_EQ(io_uring_submit(&ring), NREQ);
		close(tx.fd);
		if (iter++ % 2 == 0) {	/* reading frees budget: they go */
			uint64_t t = st_now_ms() + 3000;
			int got = 0;

			while (got < NREQ && st_now_ms() < t) {
				pgt_drain(&rx);
				res = reap(&ring, NREQ - got, 10, &done,
					   &cancelled);
				CHECK(res >= 0);
				got += res;
			}
			CHECK_EQ(got, NREQ);
		}
		io_uring_queue_exit(&ring);
		pgt_drain(&rx);
	}
	pgt_close(&rx);
	pgt_diag("%llu rings: %llu writes completed after close, %llu"
		" cancelled", (unsigned long long)iter,
		(unsigned long long)done, (unsigned long long)cancelled);
	pgt_buf_free(&b);
	return endpoints_back(base.endpoints);
}

static const struct pgt_test tests[] = {
	PGT_TEST(test_reads_closed, "io_uring reads in flight when the file is closed"),
	PGT_TEST(test_writes_closed, "io_uring writes waiting for budget when the file is closed"),
};

int main(int argc, char **argv)
{
	st_init(argc, argv, 4);
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
