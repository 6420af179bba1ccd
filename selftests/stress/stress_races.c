// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: races across threads (docs/abi.md "Device and endpoints").
 * A close() while another thread is blocked in read must not end the
 * endpoint under it: the read still gets the next frame (or EINTR on a
 * signal) and the endpoint ends afterwards. Threads then share a table
 * of descriptors that they write, read, poll, epoll, re-subscribe, carry
 * to and replace (dup2) or close under each other; receive/unreceive
 * churn on one pCID races its senders (routes created and freed under
 * them). Every call must return success or a documented errno, every read
 * whole frames, and every endpoint and route must be gone at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "stress.h"

#define SLOTS		8
#define THREADS		6
#define CHURN_PCIDS	4

static void on_signal(int sig)
{
	(void)sig;
}

static int baseline(struct st_stats *s)
{
	return st_stats_fresh(s) ? PGT_FAIL : PGT_PASS;
}

/* Endpoints and routes back where they were (closes finish async). */
static int check_baseline(const struct st_stats *base)
{
	struct st_stats now;
	int i;

	for (i = 0; i < 200; i++) {
		if (st_stats_fresh(&now))
			return PGT_FAIL;
		if (now.endpoints == base->endpoints &&
		    now.routes == base->routes)
			return PGT_PASS;
		usleep(10000);
	}
	pgt_diag("endpoints %llu routes %llu, expected %llu and %llu",
		(unsigned long long)now.endpoints,
		(unsigned long long)now.routes,
		(unsigned long long)base->endpoints,
		(unsigned long long)base->routes);
	return PGT_FAIL;
}

/* ---- close while blocked in read ---------------------------------------- */

struct blocked {
	int fd;
	volatile int started;
	ssize_t ret;
	uint8_t buf[4096];
};

static void *blocked_reader(void *arg)
{
	struct blocked *b = arg;

	b->started = 1;
	b->ret = pgt_read(b->fd, b->buf, sizeof(b->buf));
	return NULL;
}

static int test_close_blocked_read(const void *arg)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no restart */
	uint64_t dl, iter = 0, frames = 0, intr = 0, early = 0;
	struct st_stats base;
	struct pgt_buf want = { 0 };
	struct pgt_ep tx;

	(void)arg;
	sigaction(SIGUSR1, &sa, NULL);
	CHECK(baseline(&base) == PGT_PASS);
	CHECK(pgt_open(&tx, 0) == 0);
	dl = st_deadline(100);
	while (st_running(dl)) {
		struct blocked b = { 0 };
		struct pgt_cid c;
		struct pgt_ep rx;
		pthread_t t;
		char name[32];
		uint64_t id;
		int mode = iter % 3, gone;

		snprintf(name, sizeof(name), "race-blocked-%llu",
			 (unsigned long long)iter++);
		pgt_cid_named(&c, name);
		CHECK(pgt_open(&rx, 0) == 0);
		CHECK(pgt_hello(&rx, &id) == 0);
		CHECK(pgt_accept_carry(&rx, true) == 0);
		CHECK(pgt_receive(&rx, &c, NULL, false) == 0);
		b.fd = rx.fd;
		CHECK(pthread_create(&t, NULL, blocked_reader, &b) == 0);
		while (!b.started)
			usleep(100);
		usleep(2000);		/* let it sleep in the read */
		close(rx.fd);		/* the endpoint must live on */
		pgt_buf_reset(&want);
		pgt_frame_msg(&want, &c, iter);
		/*
		 * If the reader had not entered read() yet (a slow or
		 * PREEMPT_RT guest may take longer than 2 ms), the close
		 * released the endpoint: the send finds no receiver and
		 * the read must then fail with EBADF.
		 */
		gone = 0;
		if (mode == 0) {	/* a frame on its pCID */
			ssize_t sent = pgt_send(&tx, &want);

			gone = sent == -EHOSTUNREACH;
			CHECK(gone || sent == (ssize_t)want.len);
		} else if (mode == 1) {	/* a frame carried to its id */
			int ret = pgt_carry(&tx, id, &want);

			gone = ret == -ESRCH;
			CHECK(gone || ret == 0);
		} else {
			pthread_kill(t, SIGUSR1);
		}
		pthread_join(t, NULL);
		if (gone && b.ret != -EBADF) {
			pgt_diag("no receiver for the frame, yet the read"
				" returned %zd", b.ret);
			return PGT_FAIL;
		}
		if (b.ret == -EBADF) {	/* closed before it began */
			early++;
		} else if (mode == 2 && b.ret == -EINTR) {
			intr++;
		} else if (b.ret == (ssize_t)want.len &&
			   !memcmp(b.buf, want.p, want.len)) {
			frames++;
		} else if (mode == 2 && b.ret < 0) {
			pgt_diag("signalled read: %s", pgt_errname(-b.ret));
			return PGT_FAIL;
		} else {
			pgt_diag("read after close (mode %d): %zd %s", mode,
				b.ret, b.ret < 0 ? pgt_errname(-b.ret) : "");
			return PGT_FAIL;
		}
		pgt_buf_free(&rx.pend);
	}
	pgt_close(&tx);
	pgt_diag("%llu closes under a blocked read: %llu got their frame,"
		" %llu EINTR, %llu closed before the read", (unsigned long long)
		iter, (unsigned long long)frames, (unsigned long long)intr,
		(unsigned long long)early);
	CHECK(frames > 0);
	pgt_buf_free(&want);
	return check_baseline(&base);
}

/* ---- a storm of operations on shared descriptors ------------------------ */

struct storm {
	int slot[SLOTS];
	uint64_t ids[SLOTS];
	int epfd;
	volatile int done;
	uint64_t ops, bad, frames;
	struct pgt_cid cid[SLOTS];
};

static bool storm_errno_ok(int err)
{
	/* a descriptor can be closed or replaced under any call */
	return err == EBADF || err == EINTR || st_write_errno_ok(err) ||
	       st_read_errno_ok(err);
}

static void storm_check(struct storm *s, const char *op, ssize_t r)
{
	if (r < 0 && !storm_errno_ok((int)-r)) {
		pgt_diag("%s: undocumented errno %s", op, pgt_errname(-r));
		__sync_fetch_and_add(&s->bad, 1);
	}
}

/* pgtest's reply helpers keep static state: one thread at a time. */
static pthread_mutex_t pgtest_lock = PTHREAD_MUTEX_INITIALIZER;

/* A fresh endpoint receiving on slot i's pCID; its id in *id. */
static int storm_open(struct storm *s, unsigned int i, uint64_t *id)
{
	struct pgt_ep ep;
	int err;

	if (pgt_open(&ep, (i & 1) ? O_NONBLOCK : 0))
		return -1;
	pthread_mutex_lock(&pgtest_lock);
	err = pgt_hello(&ep, id);
	pthread_mutex_unlock(&pgtest_lock);
	if (err || st_request0(&ep, PG_VERB_RECEIVE,
					     &s->cid[i], i & 2 ? "g" : NULL)) {
		pgt_close(&ep);
		return -1;
	}
	pgt_buf_free(&ep.pend);
	return ep.fd;
}

/*
 * Replaces slot i with a fresh endpoint, dup2 over the old one (the
 * number stays valid: a close() would let another thread's open() take
 * it). The old file goes when its last call returns.
 */
static void storm_replace(struct storm *s, unsigned int i)
{
	uint64_t id;
	int fd = storm_open(s, i, &id);

	if (fd < 0) {
		__sync_fetch_and_add(&s->bad, 1);
		return;
	}
	dup2(fd, s->slot[i]);
	close(fd);
	s->ids[i] = id;
	if (s->epfd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };

		epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->slot[i], &ev);
	}
}

static void storm_op(struct storm *s, uint64_t *r, uint8_t *buf)
{
	unsigned int i = st_rand(r) % SLOTS;
	int fd = s->slot[i];
	struct pgt_buf b = { 0 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
	struct epoll_event ev[SLOTS];
	ssize_t n;

	switch (st_rand(r) % 12) {
	case 0: case 1: case 2:
		st_batch(&b, &s->cid[st_rand(r) % SLOTS], 0, st_rand(r) % 1000,
			 1 + st_rand(r) % 8);
		n = pgt_write(fd, b.p, b.len);
		if (n == -EAGAIN || n == -ENOBUFS)
			break;
		storm_check(s, "write", n);
		break;
	case 3: case 4: {
		struct iovec iov = { buf, 65536 };

		n = preadv2(fd, &iov, 1, -1, st_rand(r) % 4 ? RWF_NOWAIT : 0);
		n = n < 0 ? -errno : n;
		if (n > 0) {
			if (st_count_items(buf, n) < 0)
				__sync_fetch_and_add(&s->bad, 1);
			__sync_fetch_and_add(&s->frames, 1);
		}
		storm_check(s, "read", n);
		break;
	}
	case 5:
		poll(&pfd, 1, st_rand(r) % 3);
		break;
	case 6:
		if (s->epfd >= 0)
			epoll_wait(s->epfd, ev, SLOTS, st_rand(r) % 3);
		break;
	case 7:
		storm_replace(s, i);
		break;
	case 8:
		pgt_request_begin(&b, 0, st_rand(r) & 1 ? PG_VERB_RECEIVE :
				 PG_VERB_UNRECEIVE);
		pgt_args_pcid(&b, &s->cid[st_rand(r) % SLOTS], NULL,
			     st_rand(r) & 1);
		storm_check(s, "receive", pgt_write(fd, b.p, b.len));
		break;
	case 9: {	/* carry, id 0: a reply only if it fails */
		struct pgt_map m = { 0 };
		struct pgt_buf f = { 0 };

		pgt_frame_msg(&f, &s->cid[i], 1);
		pgt_cb_uint(pgt_map_put(&m, "to"), s->ids[st_rand(r) % SLOTS]);
		pgt_cb_bytes(pgt_map_put(&m, "frame"), f.p, f.len);
		pgt_request_begin(&b, 0, PG_VERB_CARRY);
		pgt_map_emit(&b, &m);
		n = pgt_write(fd, b.p, b.len);
		if (n != -ENOBUFS && n != -EAGAIN)
			storm_check(s, "carry", n);
		pgt_buf_free(&f);
		break;
	}
	case 10: {	/* a dup held for a moment, then closed */
		int d = dup(fd);

		if (d >= 0) {
			n = pgt_write(d, NULL, 0);
			close(d);
		}
		break;
	}
	default:
		n = pgt_write(fd, NULL, 0);	/* a kept error, or 0 */
		storm_check(s, "empty write", n);
	}
	pgt_buf_free(&b);
	__sync_fetch_and_add(&s->ops, 1);
}

static void *storm_thread(void *arg)
{
	struct storm *s = arg;
	uint64_t r = st_rand_seed((unsigned int)(uintptr_t)&r);
	uint8_t *buf = malloc(65536);

	while (buf && !s->done)
		storm_op(s, &r, buf);
	free(buf);
	return NULL;
}

/* Keeps frames flowing so that blocking reads return. */
static void *storm_waker(void *arg)
{
	struct storm *s = arg;
	struct pgt_ep tx;
	unsigned int i;

	if (pgt_open(&tx, O_NONBLOCK))
		return NULL;
	while (!s->done) {
		for (i = 0; i < SLOTS; i++)
			pgt_send_msg(&tx, &s->cid[i], 0);
		usleep(1000);
	}
	/* and wake whoever still sleeps in a read */
	for (i = 0; i < 50 * SLOTS; i++) {
		pgt_send_msg(&tx, &s->cid[i % SLOTS], 0);
		if (i % SLOTS == 0)
			usleep(2000);
	}
	pgt_close(&tx);
	return NULL;
}

static int test_storm(const void *arg)
{
	struct sigaction sa = { .sa_handler = on_signal };
	pthread_t t[THREADS + 1];
	struct st_stats base;
	struct storm *s = calloc(1, sizeof(*s));
	unsigned int i;
	uint64_t dl;

	(void)arg;
	CHECK(s);
	sigaction(SIGUSR1, &sa, NULL);
	CHECK(baseline(&base) == PGT_PASS);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; i < SLOTS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "race-storm-%u", i);
		pgt_cid_named(&s->cid[i], name);
		s->slot[i] = storm_open(s, i, &s->ids[i]);
		CHECK(s->slot[i] >= 0);
	}
	for (i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, storm_thread, s) == 0);
	CHECK(pthread_create(&t[THREADS], NULL, storm_waker, s) == 0);
	dl = st_deadline(100);
	while (st_running(dl)) {	/* blocked calls end with EINTR */
		usleep(10000);
		for (i = 0; i < THREADS; i++)
			pthread_kill(t[i], SIGUSR1);
	}
	s->done = 1;
	/* a read on a slot that stopped receiving waits for a signal */
	for (i = 0; i <= THREADS; i++) {
		while (pthread_tryjoin_np(t[i], NULL) == EBUSY) {
			pthread_kill(t[i], SIGUSR1);
			usleep(10000);
		}
	}
	for (i = 0; i < SLOTS; i++)
		close(s->slot[i]);
	close(s->epfd);
	pgt_diag("%llu operations by %d threads on %d shared descriptors,"
		" %llu reads with data", (unsigned long long)s->ops, THREADS,
		SLOTS, (unsigned long long)s->frames);
	CHECK_EQ(s->bad, 0);
	free(s);
	return check_baseline(&base);
}

/* One non-blocking read, whatever is queued (no loop: senders flood). */
static void read_once(int fd)
{
	static __thread uint8_t buf[1 << 16];
	struct iovec iov = { buf, sizeof(buf) };

	preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
}

/* ---- route churn against senders ---------------------------------------- */

struct churn {
	volatile int done;
	struct pgt_cid cid[CHURN_PCIDS];
	uint64_t bad, sends, delivered, receives;
};

static void *churn_sender(void *arg)
{
	struct churn *c = arg;
	uint64_t r = st_rand_seed(11);
	struct pgt_buf b = { 0 };
	struct pgt_ep tx;
	ssize_t n;

	if (pgt_open(&tx, O_NONBLOCK))
		return NULL;
	while (!c->done) {
		pgt_buf_reset(&b);
		st_batch(&b, &c->cid[st_rand(&r) % CHURN_PCIDS], 0, 0,
			 1 + st_rand(&r) % 4);
		n = pgt_write(tx.fd, b.p, b.len);
		if (n < 0 && n != -EHOSTUNREACH && n != -ENOBUFS &&
		    n != -EAGAIN) {
			pgt_diag("churn send: %s", pgt_errname(-n));
			__sync_fetch_and_add(&c->bad, 1);
		}
		if (n > 0)
			__sync_fetch_and_add(&c->delivered, 1);
		__sync_fetch_and_add(&c->sends, 1);
	}
	pgt_buf_free(&b);
	pgt_close(&tx);
	return NULL;
}

static void *churn_receiver(void *arg)
{
	struct churn *c = arg;
	uint64_t r = st_rand_seed(13);
	struct pgt_ep ep;
	int err;

	if (pgt_open(&ep, O_NONBLOCK))
		return NULL;
	while (!c->done) {
		const struct pgt_cid *cid = &c->cid[st_rand(&r) % CHURN_PCIDS];
		const char *group = st_rand(&r) & 1 ? "g" : NULL;

		err = st_request0(&ep, PG_VERB_RECEIVE, cid, group);
		if (err && err != -EEXIST)
			__sync_fetch_and_add(&c->bad, 1);
		if (st_rand(&r) & 1)
			read_once(ep.fd);
		err = st_request0(&ep, PG_VERB_UNRECEIVE, cid, group);
		if (err && err != -ENOENT)
			__sync_fetch_and_add(&c->bad, 1);
		__sync_fetch_and_add(&c->receives, 1);
		if (st_rand(&r) % 64 == 0) {	/* and a close with receives */
			st_request0(&ep, PG_VERB_RECEIVE, cid, group);
			pgt_close(&ep);
			if (pgt_open(&ep, O_NONBLOCK))
				return NULL;
		}
		read_once(ep.fd);
	}
	pgt_close(&ep);
	return NULL;
}

static int test_route_churn(const void *arg)
{
	pthread_t t[4];
	struct st_stats base;
	struct churn c = { 0 };
	unsigned int i;
	uint64_t dl;

	(void)arg;
	CHECK(baseline(&base) == PGT_PASS);
	for (i = 0; i < CHURN_PCIDS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "race-churn-%u", i);
		pgt_cid_named(&c.cid[i], name);
	}
	for (i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, i < 2 ? churn_sender :
				     churn_receiver, &c) == 0);
	dl = st_deadline(100);
	while (st_running(dl))
		usleep(20000);
	c.done = 1;
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pgt_diag("%llu sends (%llu delivered) against %llu receive/unreceive"
		" pairs", (unsigned long long)c.sends,
		(unsigned long long)c.delivered,
		(unsigned long long)c.receives);
	CHECK_EQ(c.bad, 0);
	return check_baseline(&base);
}

static const struct pgt_test tests[] = {
	PGT_TEST(test_close_blocked_read, "close while another thread is blocked in read"),
	PGT_TEST(test_storm, "read/write/poll/epoll/dup2/close races on shared descriptors"),
	PGT_TEST(test_route_churn, "receive/unreceive churn against senders"),
};

int main(int argc, char **argv)
{
	st_init(argc, argv, 4);
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
