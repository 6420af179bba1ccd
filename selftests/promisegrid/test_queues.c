// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: queues and back-pressure (docs/abi.md "Queues, memory and
 * back-pressure", the drop notice). A delivery that would exceed a
 * receiver's queue_frames or queue_bytes is dropped for it and reported by
 * a drop notice at the start of its next read; the write fails ENOBUFS
 * only if no receiver took the frame. Each delivery is the receiver's own
 * copy, counted in its queue_bytes at the size of its allocation, so a
 * receiver that does not read never blocks its sender.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "pgtest.h"

/* Expects the next delivery to be a drop notice counting dropped frames. */
static int expect_notice(struct pgt_ep *r, uint64_t dropped)
{
	struct pgt_buf b = { 0 };
	struct pgt_reply n = { 0 };
	uint64_t v;

	CHECK(pgt_recv(r, &b, PGT_WAIT_MS) > 0);
	if (pgt_reply_parse(b.p, b.len, &n)) {
		pgt_diag("the next delivery is not a control frame");
		return PGT_FAIL;
	}
	CHECK(n.id_null);
	CHECK(pgt_reply_failed(&n, ENOBUFS, PG_OUTCOME_BROKEN));
	CHECK_EQ(pgt_cb_map_uint(&n.details, "dropped", &v), 0);
	CHECK_EQ(v, dropped);
	CHECK_EQ(n.details.arg, 3);	/* errno, reason, dropped */
	pgt_buf_free(&b);
	return PGT_PASS;
}

static int t_full_single(const void *arg)
{
	struct pgt_ep r, s;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "queues full single");
	CHECK_EQ(pgt_param_set("queue_frames", 2), 0);
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	CHECK_EQ(pgt_send_msg(&s, &c, 0), pgt_frame_msg_len(&c, 0));
	CHECK_EQ(pgt_send_msg(&s, &c, 1), pgt_frame_msg_len(&c, 1));
	CHECK_ERR(pgt_send_msg(&s, &c, 2), ENOBUFS);
	CHECK_EQ(expect_notice(&r, 1), PGT_PASS);
	CHECK(pgt_expect_msg(&r, &c, 0) == 0);
	CHECK(pgt_expect_msg(&r, &c, 1) == 0);
	CHECK(pgt_empty(&r));
	return PGT_PASS;
}

/*
 * Two receivers, only r[0] full: sends succeed (r[1] takes them), r[0]'s
 * next read starts with one notice counting both drops; the notice is not
 * repeated afterwards.
 */
static int t_full_one_of_two(const void *arg)
{
	struct pgt_ep r[2], s;
	struct pgt_cid c;
	int i;

	(void)arg;
	pgt_cid_named(&c, "queues full one of two");
	CHECK_EQ(pgt_param_set("queue_frames", 2), 0);
	CHECK_EQ(pgt_open(&r[0], 0), 0);
	CHECK_EQ(pgt_open(&r[1], 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pgt_receive(&r[i], &c, NULL, false), 0);
	for (i = 0; i < 4; i++) {
		CHECK_EQ(pgt_send_msg(&s, &c, i), pgt_frame_msg_len(&c, i));
		CHECK_EQ(pgt_drain(&r[1]), 1);
	}
	CHECK_EQ(expect_notice(&r[0], 2), PGT_PASS);
	CHECK(pgt_expect_msg(&r[0], &c, 0) == 0);
	CHECK(pgt_expect_msg(&r[0], &c, 1) == 0);
	CHECK(pgt_empty(&r[0]));
	CHECK_EQ(pgt_send_msg(&s, &c, 9), pgt_frame_msg_len(&c, 9));
	CHECK(pgt_expect_msg(&r[0], &c, 9) == 0);
	CHECK(pgt_empty(&r[0]));
	return PGT_PASS;
}

/*
 * A frame larger than queue_bytes is dropped even for an empty queue: then
 * only the drop notice is queued, and it alone makes the endpoint readable.
 */
static int t_notice_pollin(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pollfd p;
	struct pgt_ep r, s;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "queues notice pollin");
	CHECK_EQ(pgt_param_set("queue_bytes", 4096), 0);
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	p = (struct pollfd){ .fd = r.fd, .events = POLLIN };
	CHECK_EQ(poll(&p, 1, 0), 0);
	CHECK_EQ(pgt_frame_sized(&f, &c, 5000), 0);
	CHECK_ERR(pgt_send(&s, &f), ENOBUFS);
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK(p.revents & POLLIN);
	CHECK_EQ(expect_notice(&r, 1), PGT_PASS);
	CHECK(pgt_empty(&r));
	return PGT_PASS;
}

static int t_queue_bytes(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_ep r, s;
	struct pgt_cid c;
	int i;

	(void)arg;
	pgt_cid_named(&c, "queues bytes");
	CHECK_EQ(pgt_param_set("queue_bytes", 4096), 0);
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	/* a delivery of 900 bytes with its header takes 1 KiB: four fit */
	CHECK_EQ(pgt_frame_sized(&f, &c, 900), 0);
	for (i = 0; i < 4; i++)
		CHECK_EQ(pgt_send(&s, &f), 900);
	CHECK_ERR(pgt_send(&s, &f), ENOBUFS);
	CHECK_EQ(expect_notice(&r, 1), PGT_PASS);
	for (i = 0; i < 4; i++)
		CHECK(pgt_expect(&r, &f) == 0);
	CHECK(pgt_empty(&r));
	return PGT_PASS;
}

static int t_carry_full(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_ep a, b;
	struct pgt_cid c;
	uint64_t bid;

	(void)arg;
	pgt_cid_named(&c, "queues carry full");
	CHECK_EQ(pgt_param_set("queue_frames", 1), 0);
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_hello(&b, &bid), 0);
	CHECK_EQ(pgt_accept_carry(&b, true), 0);
	pgt_frame_msg(&f, &c, 1);
	CHECK_EQ(pgt_carry(&a, bid, &f), 0);
	CHECK_ERR(pgt_carry(&a, bid, &f), ENOBUFS);
	return PGT_PASS;
}

static short out_events(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	poll(&p, 1, 0);
	return p.revents & POLLOUT;
}

/*
 * A receiver that does not read costs its sender nothing: with
 * inflight_bytes at its 1 MiB minimum, a non-blocking sender writes twice
 * that to it without EAGAIN and keeps POLLOUT; the receiver holds the
 * copies (in its own queue_bytes) and reads them all later.
 */
static int t_unread_never_blocks(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_ep r, s;
	uint64_t max_frame;
	struct pgt_cid c;
	size_t i, n;

	(void)arg;
	pgt_cid_named(&c, "queues unread never blocks");
	CHECK_EQ(pgt_param_get("max_frame", &max_frame), 0);
	CHECK_EQ(pgt_param_set("inflight_bytes", 1 << 20), 0);
	CHECK_EQ(pgt_param_set("queue_bytes", 8 << 20), 0);
	CHECK_EQ(pgt_frame_sized(&f, &c, max_frame < 60000 ? max_frame : 60000),
		 0);
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_open(&s, O_NONBLOCK), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	n = 2 * (1 << 20) / f.len;
	for (i = 0; i < n; i++)
		CHECK_EQ(pgt_send(&s, &f), f.len);
	CHECK(out_events(s.fd));
	for (i = 0; i < n; i++)
		CHECK(pgt_expect(&r, &f) == 0);
	CHECK(pgt_empty(&r));
	return PGT_PASS;
}

static const struct pgt_test tests[] = {
	PGT_TEST(t_full_single, "single receiver full: ENOBUFS, then a drop notice"),
	PGT_TEST(t_full_one_of_two, "one of two receivers full: send ok, notice counts drops"),
	PGT_TEST(t_notice_pollin, "a drop notice alone makes the endpoint readable"),
	PGT_TEST(t_queue_bytes, "queue_bytes: a delivery that would exceed it is dropped"),
	PGT_TEST(t_carry_full, "carry to a full queue: ENOBUFS"),
	PGT_TEST(t_unread_never_blocks, "a receiver that does not read never blocks its sender (no EAGAIN, POLLOUT)"),
};

int main(void)
{
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
