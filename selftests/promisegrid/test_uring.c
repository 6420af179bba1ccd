// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: io_uring (docs/abi.md "Device and endpoints"). The file has
 * FMODE_NOWAIT and poll, so IORING_OP_READ/WRITE complete inline or on a
 * poll wake-up and are never handed to io-wq: the process must have no
 * iou-wrk-* thread. Reads submitted on an empty queue wait, then complete
 * with exact deliveries; a write's completion carries the frame errno.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <unistd.h>

#include "pgtest.h"

#define N	32

static struct io_uring ring;

static int ring_init(void)
{
	int r = io_uring_queue_init(4 * N, &ring, 0);

	if (r == -ENOSYS || r == -EPERM)
		return pgt_skip("io_uring unavailable: io_uring_queue_init %s",
			       pgt_errname(-r));
	if (r) {
		pgt_diag("io_uring_queue_init: %s", strerror(-r));
		return PGT_FAIL;
	}
	return PGT_PASS;
}

/* Number of io-wq worker threads (comm "iou-wrk-...") of this process. */
static int iou_workers(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[300], comm[64] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) &&
		    !strncmp(comm, "iou-wrk", 7)) {
			pgt_diag("io-wq worker thread %s: %s", de->d_name, comm);
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static int wait_cqe(struct io_uring_cqe **cqe, int ms)
{
	struct __kernel_timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	return io_uring_wait_cqe_timeout(&ring, cqe, &ts);
}

static void prep_read(int fd, void *buf, unsigned int len, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	io_uring_prep_read(sqe, fd, buf, len, 0);
	io_uring_sqe_set_data64(sqe, tag);
}

static void prep_write(int fd, const void *buf, unsigned int len,
		       uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	io_uring_prep_write(sqe, fd, buf, len, 0);
	io_uring_sqe_set_data64(sqe, tag);
}

#define WTAG	(1ull << 32)

/*
 * 32 reads (each buffer fits exactly one delivery) on an empty queue, then
 * 32 writes of frames 100..131 (all the same length): every write
 * completes with its length, every read with one exact frame, each frame
 * read once.
 */
static int t_batch(const void *arg)
{
	static uint8_t rb[N][128];
	struct pgt_buf f[N] = { 0 };
	struct io_uring_cqe *cqe;
	bool seen[N] = { 0 };
	int i, k, ret, reads = 0, writes = 0;
	struct pgt_ep r, s;
	struct pgt_cid c;
	size_t len;

	(void)arg;
	ret = ring_init();
	if (ret != PGT_PASS)
		return ret;
	pgt_cid_named(&c, "uring batch");
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	for (i = 0; i < N; i++)
		pgt_frame_msg(&f[i], &c, 100 + i);
	len = f[0].len;
	CHECK(len <= sizeof(rb[0]));
	for (i = 0; i < N; i++)
		prep_read(r.fd, rb[i], len, i);
	CHECK_EQ(io_uring_submit(&ring), N);
	CHECK_EQ(wait_cqe(&cqe, 100), -ETIME);
	for (i = 0; i < N; i++)
		prep_write(s.fd, f[i].p, f[i].len, WTAG | i);
	CHECK_EQ(io_uring_submit(&ring), N);
	for (k = 0; k < 2 * N; k++) {
		uint64_t tag;

		ret = wait_cqe(&cqe, PGT_WAIT_MS);
		if (ret) {
			pgt_diag("completion %d: %s (%d reads, %d writes)", k,
				strerror(-ret), reads, writes);
			return PGT_FAIL;
		}
		tag = io_uring_cqe_get_data64(cqe);
		if (tag & WTAG) {
			CHECK_EQ(cqe->res, len);
			writes++;
		} else {
			CHECK_EQ(cqe->res, len);
			i = rb[tag][len - 8] - 100;	/* the seq byte */
			CHECK(i >= 0 && i < N && !seen[i]);
			CHECK(!memcmp(rb[tag], f[i].p, len));
			seen[i] = true;
			reads++;
		}
		io_uring_cqe_seen(&ring, cqe);
	}
	CHECK_EQ(reads, N);
	CHECK_EQ(writes, N);
	CHECK(pgt_empty(&r));
	CHECK_EQ(iou_workers(), 0);
	io_uring_queue_exit(&ring);
	return PGT_PASS;
}

/* Reads wait on an empty queue; a later write(2) completes them. */
static int t_read_then_write(const void *arg)
{
	static uint8_t rb[8][128];
	struct io_uring_cqe *cqe;
	struct pgt_buf f = { 0 };
	struct pgt_ep r, s;
	struct pgt_cid c;
	int i, ret;

	(void)arg;
	ret = ring_init();
	if (ret != PGT_PASS)
		return ret;
	pgt_cid_named(&c, "uring read then write");
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	pgt_frame_msg(&f, &c, 200);
	for (i = 0; i < 8; i++)
		prep_read(r.fd, rb[i], f.len, i);
	CHECK_EQ(io_uring_submit(&ring), 8);
	usleep(200000);
	CHECK_EQ(wait_cqe(&cqe, 10), -ETIME);
	for (i = 0; i < 8; i++)
		CHECK_EQ(pgt_send(&s, &f), f.len);
	for (i = 0; i < 8; i++) {
		ret = wait_cqe(&cqe, PGT_WAIT_MS);
		if (ret) {
			pgt_diag("completion %d: %s", i, strerror(-ret));
			return PGT_FAIL;
		}
		CHECK_EQ(cqe->res, f.len);
		CHECK(!memcmp(rb[io_uring_cqe_get_data64(cqe)], f.p, f.len));
		io_uring_cqe_seen(&ring, cqe);
	}
	CHECK_EQ(iou_workers(), 0);
	io_uring_queue_exit(&ring);
	return PGT_PASS;
}

/* A refused frame: the completion's result is -errno. */
static int t_write_error(const void *arg)
{
	struct io_uring_cqe *cqe;
	struct pgt_buf f = { 0 };
	struct pgt_cid c;
	struct pgt_ep s;
	int i, ret;

	(void)arg;
	ret = ring_init();
	if (ret != PGT_PASS)
		return ret;
	pgt_cid_named(&c, "uring nobody");
	CHECK_EQ(pgt_open(&s, 0), 0);
	pgt_frame_msg(&f, &c, 1);
	prep_write(s.fd, f.p, f.len, 1);
	f.len--;
	prep_write(s.fd, f.p, f.len, 2);
	CHECK_EQ(io_uring_submit(&ring), 2);
	for (i = 0; i < 2; i++) {
		CHECK_EQ(wait_cqe(&cqe, PGT_WAIT_MS), 0);
		if (io_uring_cqe_get_data64(cqe) == 1)
			CHECK_EQ(cqe->res, -EHOSTUNREACH);
		else
			CHECK_EQ(cqe->res, -EBADMSG);
		io_uring_cqe_seen(&ring, cqe);
	}
	CHECK_EQ(iou_workers(), 0);
	io_uring_queue_exit(&ring);
	return PGT_PASS;
}

static const struct pgt_test tests[] = {
	PGT_TEST(t_batch, "32 reads then 32 writes: exact completions, no io-wq worker"),
	PGT_TEST(t_read_then_write, "reads on an empty queue complete after a later write"),
	PGT_TEST(t_write_error, "a refused frame's completion is its -errno"),
};

int main(void)
{
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
