// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: queues and back-pressure (docs/abi.md "Queues, memory and
 * back-pressure", the drop notice). A delivery that would exceed a
 * receiver's queue_frames or queue_bytes is dropped for it and reported by
 * a drop notice at the start of its next read; the write fails ENOBUFS
 * only if no receiver took the frame. A sender whose unread bytes would
 * exceed inflight_bytes sleeps, or gets EAGAIN when non-blocking, with
 * POLLOUT clear; reading frees the budget.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h"

/* Expects the next delivery to be a drop notice counting dropped frames. */
static int expect_notice(struct pg_ep *r, uint64_t dropped)
{
	struct pg_buf b = { 0 };
	struct pg_reply n = { 0 };
	uint64_t v;

	CHECK(pg_recv(r, &b, PG_WAIT_MS) > 0);
	if (pg_reply_parse(b.p, b.len, &n)) {
		pg_diag("the next delivery is not a control frame");
		return PG_FAIL;
	}
	CHECK(n.id_null);
	CHECK(pg_reply_failed(&n, ENOBUFS, PG_OUTCOME_NOT_PROMISED));
	CHECK_EQ(cb_map_uint(&n.details, "dropped", &v), 0);
	CHECK_EQ(v, dropped);
	CHECK_EQ(n.details.arg, 3);	/* errno, reason, dropped */
	pg_buf_free(&b);
	return PG_PASS;
}

static int t_full_single(const void *arg)
{
	struct pg_ep r, s;
	struct pg_cid c;

	(void)arg;
	pg_cid_named(&c, "queues full single");
	CHECK_EQ(pg_param_set("queue_frames", 2), 0);
	CHECK_EQ(pg_open(&r, 0), 0);
	CHECK_EQ(pg_open(&s, 0), 0);
	CHECK_EQ(pg_receive(&r, &c, NULL, false), 0);
	CHECK_EQ(pg_send_msg(&s, &c, 0), pg_frame_msg_len(&c, 0));
	CHECK_EQ(pg_send_msg(&s, &c, 1), pg_frame_msg_len(&c, 1));
	CHECK_ERR(pg_send_msg(&s, &c, 2), ENOBUFS);
	CHECK_EQ(expect_notice(&r, 1), PG_PASS);
	CHECK(pg_expect_msg(&r, &c, 0) == 0);
	CHECK(pg_expect_msg(&r, &c, 1) == 0);
	CHECK(pg_empty(&r));
	return PG_PASS;
}

/*
 * Two receivers, only r[0] full: sends succeed (r[1] takes them), r[0]'s
 * next read starts with one notice counting both drops; the notice is not
 * repeated afterwards.
 */
static int t_full_one_of_two(const void *arg)
{
	struct pg_ep r[2], s;
	struct pg_cid c;
	int i;

	(void)arg;
	pg_cid_named(&c, "queues full one of two");
	CHECK_EQ(pg_param_set("queue_frames", 2), 0);
	CHECK_EQ(pg_open(&r[0], 0), 0);
	CHECK_EQ(pg_open(&r[1], 0), 0);
	CHECK_EQ(pg_open(&s, 0), 0);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pg_receive(&r[i], &c, NULL, false), 0);
	for (i = 0; i < 4; i++) {
		CHECK_EQ(pg_send_msg(&s, &c, i), pg_frame_msg_len(&c, i));
		CHECK_EQ(pg_drain(&r[1]), 1);
	}
	CHECK_EQ(expect_notice(&r[0], 2), PG_PASS);
	CHECK(pg_expect_msg(&r[0], &c, 0) == 0);
	CHECK(pg_expect_msg(&r[0], &c, 1) == 0);
	CHECK(pg_empty(&r[0]));
	CHECK_EQ(pg_send_msg(&s, &c, 9), pg_frame_msg_len(&c, 9));
	CHECK(pg_expect_msg(&r[0], &c, 9) == 0);
	CHECK(pg_empty(&r[0]));
	return PG_PASS;
}

/*
 * A frame larger than queue_bytes is dropped even for an empty queue: then
 * only the drop notice is queued, and it alone makes the endpoint readable.
 */
static int t_notice_pollin(const void *arg)
{
	struct pg_buf f = { 0 };
	struct pollfd p;
	struct pg_ep r, s;
	struct pg_cid c;

	(void)arg;
	pg_cid_named(&c, "queues notice pollin");
	CHECK_EQ(pg_param_set("queue_bytes", 4096), 0);
	CHECK_EQ(pg_open(&r, 0), 0);
	CHECK_EQ(pg_open(&s, 0), 0);
	CHECK_EQ(pg_receive(&r, &c, NULL, false), 0);
	p = (struct pollfd){ .fd = r.fd, .events = POLLIN };
	CHECK_EQ(poll(&p, 1, 0), 0);
	CHECK_EQ(pg_frame_sized(&f, &c, 5000), 0);
	CHECK_ERR(pg_send(&s, &f), ENOBUFS);
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK(p.revents & POLLIN);
	CHECK_EQ(expect_notice(&r, 1), PG_PASS);
	CHECK(pg_empty(&r));
	return PG_PASS;
}

static int t_queue_bytes(const void *arg)
{
	struct pg_buf f = { 0 };
	struct pg_ep r, s;
	struct pg_cid c;
	int i;

	(void)arg;
	pg_cid_named(&c, "queues bytes");
	CHECK_EQ(pg_param_set("queue_bytes", 4096), 0);
	CHECK_EQ(pg_open(&r, 0), 0);
	CHECK_EQ(pg_open(&s, 0), 0);
	CHECK_EQ(pg_receive(&r, &c, NULL, false), 0);
	CHECK_EQ(pg_frame_sized(&f, &c, 1000), 0);
	for (i = 0; i < 4; i++)
		CHECK_EQ(pg_send(&s, &f), 1000);
	CHECK_ERR(pg_send(&s, &f), ENOBUFS);
	CHECK_EQ(expect_notice(&r, 1), PG_PASS);
	for (i = 0; i < 4; i++)
		CHECK(pg_expect(&r, &f) == 0);
	CHECK(pg_empty(&r));
	return PG_PASS;
}

static int t_carry_full(const void *arg)
{
	struct pg_buf f = { 0 };
	struct pg_ep a, b;
	struct pg_cid c;
	uint64_t bid;

	(void)arg;
	pg_cid_named(&c, "queues carry full");
	CHECK_EQ(pg_param_set("queue_frames", 1), 0);
	CHECK_EQ(pg_open(&a, 0), 0);
	CHECK_EQ(pg_open(&b, 0), 0);
	CHECK_EQ(pg_hello(&b, &bid), 0);
	pg_frame_msg(&f, &c, 1);
	CHECK_EQ(pg_carry(&a, bid, &f), 0);
	CHECK_ERR(pg_carry(&a, bid, &f), ENOBUFS);
	return PG_PASS;
}

/* inflight_bytes set to 1 MiB, frames of flen bytes, nobody reading. */
struct inflight {
	struct pg_ep r, s;
	struct pg_cid c;
	struct pg_buf f;
	uint64_t budget;
	size_t fit;		/* frames that fit in the budget */
};

static int inflight_setup(struct inflight *t, int sflags, const char *name)
{
	uint64_t max_frame;

	memset(t, 0, sizeof(*t));
	pg_cid_named(&t->c, name);
	t->budget = 1 << 20;
	CHECK_EQ(pg_param_get("max_frame", &max_frame), 0);
	CHECK_EQ(pg_param_set("inflight_bytes", t->budget), 0);
	CHECK_EQ(pg_param_set("queue_bytes", 8 << 20), 0);
	CHECK_EQ(pg_frame_sized(&t->f, &t->c,
				max_frame < 60000 ? max_frame : 60000), 0);
	t->fit = t->budget / t->f.len;
	CHECK_EQ(pg_open(&t->r, 0), 0);
	CHECK_EQ(pg_open(&t->s, sflags), 0);
	CHECK_EQ(pg_receive(&t->r, &t->c, NULL, false), 0);
	return PG_PASS;
}

static short out_events(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	poll(&p, 1, 0);
	return p.revents & POLLOUT;
}

static int t_inflight_nonblock(const void *arg)
{
	struct inflight t;
	size_t i;

	(void)arg;
	CHECK_EQ(inflight_setup(&t, O_NONBLOCK, "queues inflight"), PG_PASS);
	CHECK(out_events(t.s.fd));
	for (i = 0; i < t.fit; i++)
		CHECK_EQ(pg_send(&t.s, &t.f), t.f.len);
	CHECK_ERR(pg_send(&t.s, &t.f), EAGAIN);
	CHECK(!out_events(t.s.fd));
	for (i = 0; i < t.fit; i++)
		CHECK(pg_expect(&t.r, &t.f) == 0);
	CHECK(pg_empty(&t.r));
	CHECK(out_events(t.s.fd));
	CHECK_EQ(pg_send(&t.s, &t.f), t.f.len);
	CHECK(pg_expect(&t.r, &t.f) == 0);
	return PG_PASS;
}

struct slow_reader {
	struct inflight *t;
	volatile int started;
};

static void *read_later(void *arg)
{
	struct slow_reader *sr = arg;
	struct timespec ts = { 0, 300 * 1000000L };
	struct pg_buf b = { 0 };

	nanosleep(&ts, NULL);
	sr->started = 1;
	pg_recv(&sr->t->r, &b, PG_WAIT_MS);
	pg_buf_free(&b);
	return NULL;
}

/* A blocking write over the budget sleeps until a receiver reads. */
static int t_inflight_blocks(const void *arg)
{
	struct slow_reader sr;
	struct inflight t;
	pthread_t th;
	size_t i;

	(void)arg;
	CHECK_EQ(inflight_setup(&t, 0, "queues inflight blocking"), PG_PASS);
	for (i = 0; i < t.fit; i++)
		CHECK_EQ(pg_send(&t.s, &t.f), t.f.len);
	sr = (struct slow_reader){ &t, 0 };
	CHECK_EQ(pthread_create(&th, NULL, read_later, &sr), 0);
	CHECK_EQ(pg_send(&t.s, &t.f), t.f.len);
	CHECK(sr.started);
	pthread_join(th, NULL);
	return PG_PASS;
}

static const struct pg_test tests[] = {
	PG_TEST(t_full_single, "single receiver full: ENOBUFS, then a drop notice"),
	PG_TEST(t_full_one_of_two, "one of two receivers full: send ok, notice counts drops"),
	PG_TEST(t_notice_pollin, "a drop notice alone makes the endpoint readable"),
	PG_TEST(t_queue_bytes, "queue_bytes: a delivery that would exceed it is dropped"),
	PG_TEST(t_carry_full, "carry to a full queue: ENOBUFS"),
	PG_TEST(t_inflight_nonblock, "inflight_bytes: EAGAIN and no POLLOUT, reading frees it"),
	PG_TEST(t_inflight_blocks, "inflight_bytes: a blocking write sleeps until a read"),
};

int main(void)
{
	return pg_run(tests, PG_ARRAY_SIZE(tests));
}
