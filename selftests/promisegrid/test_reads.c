// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: reads and waiting (docs/abi.md "Device and endpoints",
 * "Reads"). A read returns as many whole deliveries as fit, never a
 * truncated one (EMSGSIZE, the delivery stays queued); an empty queue
 * blocks, gives EAGAIN with O_NONBLOCK or RWF_NOWAIT, EINTR on a signal
 * without SA_RESTART and restarts with it. readv/pread/writev/pwrite work
 * and ignore offsets. poll: POLLIN iff something is queued, POLLOUT on an
 * idle endpoint. Closing the fd while another thread reads it leaves the
 * process healthy; the last close ends the endpoint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h"

#define BIG	(1 << 21)

static uint8_t rbuf[BIG];

static int setup(struct pgt_ep *r, struct pgt_ep *s, struct pgt_cid *c,
		 const char *name)
{
	pgt_cid_named(c, name);
	if (pgt_open(r, 0) || pgt_open(s, 0))
		return -1;
	return pgt_receive(r, c, NULL, false) ? -1 : 0;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int t_several(const void *arg)
{
	struct pgt_buf f[3] = { 0 };
	struct pgt_ep r, s;
	struct pgt_cid c;
	size_t l;
	int i;

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "reads several"), 0);
	for (i = 0; i < 3; i++) {
		pgt_frame_msg(&f[i], &c, i);
		CHECK_EQ(pgt_send(&s, &f[i]), f[i].len);
	}
	l = f[0].len;
	CHECK_EQ(pgt_read(r.fd, rbuf, 2 * l + l / 2), 2 * l);
	CHECK(!memcmp(rbuf, f[0].p, l) && !memcmp(rbuf + l, f[1].p, l));
	CHECK_EQ(pgt_read(r.fd, rbuf, BIG), l);
	CHECK(!memcmp(rbuf, f[2].p, l));
	CHECK(pgt_empty(&r));
	return PGT_PASS;
}

static int t_too_small(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_ep r, s;
	struct pgt_cid c;

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "reads too small"), 0);
	CHECK_EQ(pgt_frame_sized(&f, &c, 300), 0);
	CHECK_EQ(pgt_send(&s, &f), f.len);
	CHECK_ERR(pgt_read(r.fd, rbuf, f.len - 1), EMSGSIZE);
	CHECK_ERR(pgt_read(r.fd, rbuf, 1), EMSGSIZE);
	CHECK_EQ(pgt_read(r.fd, rbuf, f.len), f.len);
	CHECK(!memcmp(rbuf, f.p, f.len));
	CHECK(pgt_empty(&r));
	return PGT_PASS;
}

static int t_nonblock(const void *arg)
{
	struct pgt_ep r;

	(void)arg;
	CHECK_EQ(pgt_open(&r, O_NONBLOCK), 0);
	CHECK_ERR(pgt_read(r.fd, rbuf, BIG), EAGAIN);
	return PGT_PASS;
}

static int t_rwf_nowait(const void *arg)
{
	struct iovec iov = { rbuf, BIG };
	struct pgt_ep r;

	(void)arg;
	CHECK_EQ(pgt_open(&r, 0), 0);
	errno = 0;
	CHECK_EQ(preadv2(r.fd, &iov, 1, -1, RWF_NOWAIT), -1);
	CHECK_EQ(errno, EAGAIN);
	return PGT_PASS;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void set_alarm(int flags, int ms)
{
	struct itimerval it = { .it_value = { 0, ms * 1000 } };
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static int t_eintr(const void *arg)
{
	struct pgt_ep r;

	(void)arg;
	CHECK_EQ(pgt_open(&r, 0), 0);
	set_alarm(0, 200);
	CHECK_ERR(pgt_read(r.fd, rbuf, BIG), EINTR);
	CHECK_EQ(alarms, 1);
	return PGT_PASS;
}

struct later {
	struct pgt_ep *s;
	struct pgt_cid *c;
	int ms;
	ssize_t ret;
};

static void *send_later(void *arg)
{
	struct later *l = arg;

	msleep(l->ms);
	l->ret = pgt_send_msg(l->s, l->c, 77);
	return NULL;
}

static int t_sa_restart(const void *arg)
{
	struct later l;
	struct pgt_ep r, s;
	struct pgt_cid c;
	pthread_t th;

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "reads restart"), 0);
	l = (struct later){ &s, &c, 600, 0 };
	set_alarm(SA_RESTART, 150);
	CHECK_EQ(pthread_create(&th, NULL, send_later, &l), 0);
	CHECK_EQ(pgt_read(r.fd, rbuf, BIG), pgt_frame_msg_len(&c, 77));
	pthread_join(th, NULL);
	CHECK_EQ(alarms, 1);
	CHECK_EQ(l.ret, pgt_frame_msg_len(&c, 77));
	return PGT_PASS;
}

static int t_blocking_wakes(const void *arg)
{
	struct later l;
	struct pgt_ep r, s;
	struct pgt_cid c;
	pthread_t th;

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "reads blocking"), 0);
	l = (struct later){ &s, &c, 200, 0 };
	CHECK_EQ(pthread_create(&th, NULL, send_later, &l), 0);
	CHECK_EQ(pgt_read(r.fd, rbuf, BIG), pgt_frame_msg_len(&c, 77));
	pthread_join(th, NULL);
	CHECK_EQ(l.ret, pgt_frame_msg_len(&c, 77));
	return PGT_PASS;
}

static int t_vectors(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_ep r, s;
	struct iovec iov[2];
	struct pgt_cid c;
	uint8_t a[8];

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "reads vectors"), 0);
	pgt_frame_msg(&f, &c, 5);
	/* writev: the frame split across two buffers */
	iov[0] = (struct iovec){ f.p, 3 };
	iov[1] = (struct iovec){ f.p + 3, f.len - 3 };
	CHECK_EQ(writev(s.fd, iov, 2), f.len);
	/* readv: the delivery spread over two buffers */
	iov[0] = (struct iovec){ a, sizeof(a) };
	iov[1] = (struct iovec){ rbuf, BIG };
	CHECK_EQ(readv(r.fd, iov, 2), f.len);
	CHECK(!memcmp(a, f.p, sizeof(a)));
	CHECK(!memcmp(rbuf, f.p + sizeof(a), f.len - sizeof(a)));
	CHECK(pgt_empty(&r));
	return PGT_PASS;
}

static int t_positional(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_ep r, s;
	struct pgt_cid c;
	ssize_t n;

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "reads positional"), 0);
	pgt_frame_msg(&f, &c, 6);
	/* A stream, like a pipe: positional I/O is refused, nothing sent. */
	n = pwrite(s.fd, f.p, f.len, 12345);
	CHECK_EQ(n < 0 ? -errno : n, -ESPIPE);
	CHECK(pgt_empty(&r));
	CHECK_EQ(write(s.fd, f.p, f.len), (ssize_t)f.len);
	n = pread(r.fd, rbuf, BIG, 0);
	CHECK_EQ(n < 0 ? -errno : n, -ESPIPE);
	n = lseek(r.fd, 0, SEEK_SET);
	CHECK_EQ(n < 0 ? -errno : n, -ESPIPE);
	/* ... and the frame is still there for read(). */
	CHECK_EQ(read(r.fd, rbuf, BIG), (ssize_t)f.len);
	CHECK(!memcmp(rbuf, f.p, f.len));
	return PGT_PASS;
}

static short revents(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

static int t_poll(const void *arg)
{
	struct pgt_ep r, s;
	struct pgt_cid c;

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "reads poll"), 0);
	CHECK_EQ(revents(r.fd), POLLOUT);
	CHECK_EQ(revents(s.fd), POLLOUT);
	CHECK_EQ(pgt_send_msg(&s, &c, 1), pgt_frame_msg_len(&c, 1));
	CHECK_EQ(revents(r.fd), POLLIN | POLLOUT);
	CHECK_EQ(pgt_read(r.fd, rbuf, BIG), pgt_frame_msg_len(&c, 1));
	CHECK_EQ(revents(r.fd), POLLOUT);
	return PGT_PASS;
}

struct reader {
	int fd;
	volatile int done;
	ssize_t ret;
};

static void *blocked_read(void *arg)
{
	struct reader *rd = arg;

	rd->ret = pgt_read(rd->fd, rbuf, BIG);
	rd->done = 1;
	return NULL;
}

/*
 * Thread A blocks in read(); the main thread closes the fd. The read holds
 * the file, so the endpoint lives until it returns: a frame sent then wakes
 * A with that frame. (If the module ends the endpoint at close() instead,
 * the send finds nobody and A must return EBADF or EINTR; either way A must
 * return.) After A returned, the last reference is gone: the receive is.
 */
/*
 * A receiver keeps the record of the last frame it read for the next one
 * that fits: frames that shrink and grow must still arrive exactly.
 */
static int t_sizes_vary(const void *arg)
{
	static const size_t sizes[] = {
		16384, 64, 16000, 1024, 65, 8000, 16384, 300, 12000, 16383,
	};
	struct pgt_ep a, b;
	struct pgt_cid c;
	size_t i;

	(void)arg;
	pgt_cid_named(&c, "reads sizes vary");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_receive(&b, &c, NULL, false), 0);
	for (i = 0; i < PGT_ARRAY_SIZE(sizes); i++) {
		struct pgt_buf f = { 0 };
		int ok;

		CHECK_EQ(pgt_frame_sized(&f, &c, sizes[i]), 0);
		f.p[f.len - 1] ^= (uint8_t)(i + 1);	/* no two alike */
		ok = pgt_send(&a, &f) == (ssize_t)f.len && !pgt_expect(&b, &f);
		pgt_buf_free(&f);
		CHECK(ok);
	}
	CHECK(pgt_empty(&b));
	return PGT_PASS;
}

/*
 * A reader keeps the records of a batch it read, of one size class, for
 * the next batch: bursts whose sizes repeat and change from round to
 * round, each read back in one read, must still arrive byte-exact.
 */
static int t_bursts_vary(const void *arg)
{
	static const size_t sizes[] = { 64, 64, 16000, 1000, 64, 64, 70, 300 };
	struct pgt_buf f[8] = { 0 };
	struct pgt_ep r, s;
	struct pgt_cid c;
	size_t total, k, n;
	int round, ok = 1;

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "reads bursts vary"), 0);
	for (round = 0; round < 12 && ok; round++) {
		n = 1 + (round * 3) % 8;
		total = 0;
		for (k = 0; k < n && ok; k++) {
			CHECK_EQ(pgt_frame_sized(&f[k], &c,
						 sizes[(round + k) % 8]), 0);
			f[k].p[f[k].len - 1] ^= (uint8_t)(round * 8 + k + 1);
			ok = pgt_send(&s, &f[k]) == (ssize_t)f[k].len;
			total += f[k].len;
		}
		ok = ok && pgt_read(r.fd, rbuf, BIG) == (ssize_t)total;
		for (k = 0, total = 0; k < n; k++) {
			ok = ok && !memcmp(rbuf + total, f[k].p, f[k].len);
			total += f[k].len;
			pgt_buf_free(&f[k]);
		}
		if (!ok)
			pgt_diag("round %d of %zu frames differs", round, n);
	}
	CHECK(ok);
	CHECK(pgt_empty(&r));
	return PGT_PASS;
}

static int t_close_during_read(const void *arg)
{
	struct reader rd = { 0 };
	struct pgt_buf f = { 0 };
	struct pgt_ep r, s;
	struct pgt_cid c;
	pthread_t th;
	ssize_t w;
	int i;

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "reads close during read"), 0);
	rd.fd = r.fd;
	CHECK_EQ(pthread_create(&th, NULL, blocked_read, &rd), 0);
	msleep(200);
	CHECK(!rd.done);
	CHECK_EQ(close(r.fd), 0);
	r.fd = -1;
	msleep(100);
	w = pgt_send_msg(&s, &c, 9);
	for (i = 0; i < 300 && !rd.done; i++)
		msleep(10);
	CHECK(rd.done);
	pthread_join(th, NULL);
	pgt_diag("send after close: %zd, blocked read returned %zd", w, rd.ret);
	if (w >= 0) {
		CHECK_EQ(w, pgt_frame_msg_len(&c, 9));
		CHECK_EQ(rd.ret, w);
		pgt_frame_msg(&f, &c, 9);
		CHECK(!memcmp(rbuf, f.p, f.len));
	} else {
		CHECK_ERR(w, EHOSTUNREACH);
		CHECK(rd.ret == -EBADF || rd.ret == -EINTR);
	}
	msleep(50);
	CHECK_ERR(pgt_send_msg(&s, &c, 10), EHOSTUNREACH);
	return PGT_PASS;
}

static const struct pgt_test tests[] = {
	PGT_TEST(t_several, "a read returns as many whole deliveries as fit"),
	PGT_TEST(t_too_small, "buffer too small: EMSGSIZE, the delivery stays queued"),
	PGT_TEST(t_nonblock, "O_NONBLOCK read on an empty queue: EAGAIN"),
	PGT_TEST(t_rwf_nowait, "RWF_NOWAIT read on an empty queue: EAGAIN"),
	PGT_TEST(t_blocking_wakes, "a blocking read waits for a delivery"),
	PGT_TEST(t_eintr, "a signal without SA_RESTART interrupts a read: EINTR"),
	PGT_TEST(t_sa_restart, "with SA_RESTART the read restarts and gets the frame"),
	PGT_TEST(t_vectors, "writev and readv work"),
	PGT_TEST(t_positional, "pread, pwrite and lseek fail with ESPIPE (a stream)"),
	PGT_TEST(t_poll, "poll: POLLIN iff queued, POLLOUT on an idle endpoint"),
	PGT_TEST(t_sizes_vary, "frames that shrink and grow arrive byte-exact (kept records)"),
	PGT_TEST(t_bursts_vary, "bursts read whole, sizes changing, arrive byte-exact (kept records)"),
	PGT_TEST(t_close_during_read, "close while another thread reads: healthy, then gone"),
};

int main(void)
{
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
