// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: routing (docs/abi.md "Routing", "Reads", the verbs receive
 * and carry). Every fan-out receiver gets every frame; each worker group
 * gets one copy, given to its least loaded member, ties in turn; carry
 * delivers an exact frame to an endpoint id; attesting receivers get the
 * pg-kernel-delivery-v3 envelope with the sender's endpoint, pid, euid and
 * egid; the last close of a receiver ends its receives, while frames it
 * sent stay deliverable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "pgtest.h"

static int open_n(struct pgt_ep *ep, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (pgt_open(&ep[i], 0))
			return -1;
	return 0;
}

/*
 * One write: 150 frames on one pCID (more than a route is held for at a
 * time), the writer's own request to receive on that pCID (the table's
 * lock, then the route's: the route held for the write's frames must be
 * let go first, or the write deadlocks), a frame on another pCID, then
 * three more on the first. Every frame arrives in order at every receiver it
 * had when it was sent, the writer's receive included, and the pCID's
 * receive ends at once after the write.
 */
static int t_write_runs(const void *arg)
{
	struct pgt_buf b = { 0 }, args = { 0 };
	struct pgt_reply rep = { 0 };
	struct pgt_ep r1, r2, s;
	struct pgt_cid c1, c2;
	uint64_t id = pgt_next_id();
	int i;

	(void)arg;
	pgt_cid_named(&c1, "routing write runs 1");
	pgt_cid_named(&c2, "routing write runs 2");
	CHECK_EQ(pgt_open(&r1, 0), 0);
	CHECK_EQ(pgt_open(&r2, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&r1, &c1, NULL, false), 0);
	CHECK_EQ(pgt_receive(&r2, &c2, NULL, false), 0);
	for (i = 0; i < 150; i++)
		pgt_frame_msg(&b, &c1, i);
	pgt_args_pcid(&args, &c1, NULL, false);
	pgt_request_begin(&b, id, PG_VERB_RECEIVE);
	pgt_cb_raw(&b, args.p, args.len);
	pgt_buf_free(&args);
	pgt_frame_msg(&b, &c2, 0);
	for (i = 150; i < 153; i++)
		pgt_frame_msg(&b, &c1, i);
	CHECK_EQ(pgt_send(&s, &b), b.len);
	pgt_buf_free(&b);
	for (i = 0; i < 153; i++)
		CHECK(pgt_expect_msg(&r1, &c1, i) == 0);
	CHECK(pgt_expect_msg(&r2, &c2, 0) == 0);
	CHECK(pgt_empty(&r1));
	CHECK(pgt_empty(&r2));
	CHECK_EQ(pgt_await_reply(&s, false, id, &rep, 2000), 0);
	CHECK(pgt_reply_is(&rep, PG_OUTCOME_KEPT));
	for (i = 150; i < 153; i++)
		CHECK(pgt_expect_msg(&s, &c1, i) == 0);
	CHECK(pgt_empty(&s));
	CHECK_EQ(pgt_unreceive(&r1, &c1, NULL), 0);
	CHECK_EQ(pgt_unreceive(&s, &c1, NULL), 0);
	CHECK_ERR(pgt_send_msg(&s, &c1, 153), EHOSTUNREACH);
	return PGT_PASS;
}

static int t_fanout(const void *arg)
{
	struct pgt_ep r[3], s;
	struct pgt_cid c;
	int i, k;

	(void)arg;
	pgt_cid_named(&c, "routing fanout");
	CHECK_EQ(open_n(r, 3), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	for (k = 0; k < 3; k++)
		CHECK_EQ(pgt_receive(&r[k], &c, NULL, false), 0);
	for (i = 0; i < 10; i++)
		CHECK_EQ(pgt_send_msg(&s, &c, i), pgt_frame_msg_len(&c, i));
	for (k = 0; k < 3; k++) {
		for (i = 0; i < 10; i++)
			CHECK(pgt_expect_msg(&r[k], &c, i) == 0);
		CHECK(pgt_empty(&r[k]));
	}
	return PGT_PASS;
}

/* 30 frames to a group of 3; with drain, each member reads as it goes. */
static int group_split(bool drain)
{
	struct pgt_ep r[3], s;
	int got[3] = { 0 };
	struct pgt_cid c;
	int i, k;

	pgt_cid_named(&c, drain ? "routing group drain" : "routing group");
	CHECK_EQ(open_n(r, 3), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	for (k = 0; k < 3; k++)
		CHECK_EQ(pgt_receive(&r[k], &c, "workers", false), 0);
	for (i = 0; i < 30; i++) {
		CHECK_EQ(pgt_send_msg(&s, &c, i), pgt_frame_msg_len(&c, i));
		if (drain) {
			int n = 0;

			for (k = 0; k < 3; k++) {
				int d = pgt_drain(&r[k]);

				got[k] += d;
				n += d;
			}
			CHECK_EQ(n, 1);
		}
	}
	if (!drain)
		for (k = 0; k < 3; k++)
			got[k] = pgt_drain(&r[k]);
	pgt_diag("split %d/%d/%d", got[0], got[1], got[2]);
	for (k = 0; k < 3; k++)
		CHECK_EQ(got[k], 10);
	return PGT_PASS;
}

static int t_group_drain(const void *arg)
{
	(void)arg;
	return group_split(true);
}

static int t_group(const void *arg)
{
	(void)arg;
	return group_split(false);
}

/* The member with the fewest queued deliveries gets the frame. */
static int t_least_loaded(const void *arg)
{
	struct pgt_ep r[3], s;
	struct pgt_cid c, d;
	int got[3], i, k;

	(void)arg;
	pgt_cid_named(&c, "routing least loaded");
	pgt_cid_named(&d, "routing least loaded preload");
	CHECK_EQ(open_n(r, 3), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	for (k = 0; k < 3; k++)
		CHECK_EQ(pgt_receive(&r[k], &c, "workers", false), 0);
	/* member 0 has 4 deliveries queued already */
	CHECK_EQ(pgt_receive(&r[0], &d, NULL, false), 0);
	for (i = 0; i < 4; i++)
		CHECK_EQ(pgt_send_msg(&s, &d, i), pgt_frame_msg_len(&d, i));
	for (i = 0; i < 8; i++)
		CHECK_EQ(pgt_send_msg(&s, &c, i), pgt_frame_msg_len(&c, i));
	for (k = 0; k < 3; k++)
		got[k] = pgt_drain(&r[k]);
	pgt_diag("queued %d/%d/%d (member 0 had 4 before)", got[0], got[1],
		got[2]);
	CHECK_EQ(got[0], 4);
	CHECK_EQ(got[1], 4);
	CHECK_EQ(got[2], 4);
	return PGT_PASS;
}

static int t_fanout_and_group(const void *arg)
{
	struct pgt_ep f, g, s;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "routing fanout and group");
	CHECK_EQ(pgt_open(&f, 0), 0);
	CHECK_EQ(pgt_open(&g, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&f, &c, NULL, false), 0);
	CHECK_EQ(pgt_receive(&g, &c, "workers", false), 0);
	CHECK_EQ(pgt_send_msg(&s, &c, 1), pgt_frame_msg_len(&c, 1));
	CHECK(pgt_expect_msg(&f, &c, 1) == 0);
	CHECK(pgt_expect_msg(&g, &c, 1) == 0);
	CHECK(pgt_empty(&f));
	CHECK(pgt_empty(&g));
	return PGT_PASS;
}

static int t_two_groups(const void *arg)
{
	struct pgt_ep r[4], s;
	struct pgt_cid c;
	int n[2] = { 0 }, i, k;

	(void)arg;
	pgt_cid_named(&c, "routing two groups");
	CHECK_EQ(open_n(r, 4), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	for (k = 0; k < 4; k++)
		CHECK_EQ(pgt_receive(&r[k], &c, k < 2 ? "alpha" : "beta",
				    false), 0);
	for (i = 0; i < 6; i++) {
		CHECK_EQ(pgt_send_msg(&s, &c, i), pgt_frame_msg_len(&c, i));
		n[0] = pgt_drain(&r[0]) + pgt_drain(&r[1]);
		n[1] = pgt_drain(&r[2]) + pgt_drain(&r[3]);
		CHECK_EQ(n[0], 1);
		CHECK_EQ(n[1], 1);
	}
	return PGT_PASS;
}

static int t_carry(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_ep a, b;
	struct pgt_cid c;
	uint64_t bid;

	(void)arg;
	pgt_cid_named(&c, "routing carry (nobody receives)");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_hello(&b, &bid), 0);
	CHECK_EQ(pgt_accept_carry(&b, true), 0);
	pgt_frame_msg(&f, &c, 42);
	CHECK_EQ(pgt_carry(&a, bid, &f), 0);
	CHECK(pgt_expect(&b, &f) == 0);
	CHECK(pgt_empty(&b));
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

/* carry of a frame that cannot go: the errno, a reply, nothing delivered */
static int carry_fails(bool to_nobody, const struct pgt_buf *frame, int err)
{
	struct pgt_ep a, b;
	uint64_t bid;

	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_hello(&b, &bid), 0);
	CHECK_ERR(pgt_carry(&a, to_nobody ? 1ull << 40 : bid, frame), err);
	CHECK(pgt_empty(&b));
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

static int t_carry_esrch(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "routing carry esrch");
	pgt_frame_msg(&f, &c, 1);
	return carry_fails(true, &f, ESRCH);
}

static int t_carry_control(const void *arg)
{
	struct pgt_buf f = { 0 };

	(void)arg;
	pgt_request_begin(&f, 1, PG_VERB_HELLO);
	pgt_cb_map(&f, 0);
	return carry_fails(false, &f, EPERM);
}

static int t_carry_delivery(const void *arg)
{
	struct pgt_buf f = { 0 };

	(void)arg;
	pgt_frame_msg(&f, &pgt_cid_delivery, 1);
	return carry_fails(false, &f, EPERM);
}

static int t_carry_bad_frame(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_cid c;
	int ret;

	(void)arg;
	pgt_cid_named(&c, "routing carry bad frame");
	pgt_frame_msg(&f, &c, 1);
	f.len--;		/* truncated */
	ret = carry_fails(false, &f, EBADMSG);
	if (ret)
		return ret;
	pgt_buf_reset(&f);
	pgt_frame_begin(&f, &c, 1);
	pgt_cb_byte(&f, 0x18);	/* 1 in a two-byte head */
	pgt_cb_byte(&f, 0x01);
	return carry_fails(false, &f, EILSEQ);
}

static int t_attest(const void *arg)
{
	struct pgt_buf f = { 0 }, want = { 0 };
	struct pgt_ep plain, att, s;
	struct pgt_cid c;
	uint64_t sid;

	(void)arg;
	pgt_cid_named(&c, "routing attest");
	CHECK_EQ(pgt_open(&plain, 0), 0);
	CHECK_EQ(pgt_open(&att, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_hello(&s, &sid), 0);
	CHECK_EQ(pgt_receive(&plain, &c, NULL, false), 0);
	CHECK_EQ(pgt_receive(&att, &c, NULL, true), 0);
	pgt_frame_msg(&f, &c, 5);
	CHECK_EQ(pgt_send(&s, &f), f.len);
	pgt_frame_begin(&want, &pgt_cid_delivery, 2);
	pgt_cb_array(&want, 5);
	pgt_cb_uint(&want, sid);
	pgt_cb_uint(&want, getpid());
	pgt_cb_uint(&want, geteuid());
	pgt_cb_uint(&want, getegid());
	pgt_cb_byte(&want, 0xf6);	/* host: null, a frame of this host */
	pgt_cb_raw(&want, f.p, f.len);
	CHECK(pgt_expect(&att, &want) == 0);
	CHECK(pgt_expect(&plain, &f) == 0);
	CHECK(pgt_empty(&att));
	CHECK(pgt_empty(&plain));
	return PGT_PASS;
}

/* The last close ends the endpoint's receives; a dup keeps it alive. */
static int t_close_ends_receives(const void *arg)
{
	struct pgt_ep r, s, d = { .fd = -1 };
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "routing close");
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	d.fd = dup(r.fd);
	CHECK(d.fd >= 0);
	pgt_close(&r);
	CHECK_EQ(pgt_send_msg(&s, &c, 1), pgt_frame_msg_len(&c, 1));
	CHECK(pgt_expect_msg(&d, &c, 1) == 0);
	pgt_close(&d);
	CHECK_ERR(pgt_send_msg(&s, &c, 2), EHOSTUNREACH);
	return PGT_PASS;
}

/* Frames a closed sender sent that are still queued stay deliverable. */
static int t_sender_closed(const void *arg)
{
	struct pgt_ep r, s;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "routing sender closed");
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	CHECK_EQ(pgt_send_msg(&s, &c, 1), pgt_frame_msg_len(&c, 1));
	pgt_close(&s);
	CHECK(pgt_expect_msg(&r, &c, 1) == 0);
	CHECK(pgt_empty(&r));
	return PGT_PASS;
}

static const struct pgt_test tests[] = {
	PGT_TEST(t_fanout, "fan-out: 3 receivers each get every frame in order"),
	PGT_TEST(t_write_runs, "a write's runs of frames on two pCIDs around a receive: all in order"),
	PGT_TEST(t_group_drain, "group of 3, members draining: one member each, 10/10/10"),
	PGT_TEST(t_group, "group of 3, nobody reading: least loaded in turn, 10/10/10"),
	PGT_TEST(t_least_loaded, "group: the member with fewest queued deliveries gets it"),
	PGT_TEST(t_fanout_and_group, "fan-out receiver and a group on one pCID: both get it"),
	PGT_TEST(t_two_groups, "two groups on one pCID: one copy each"),
	PGT_TEST(t_carry, "carry: the exact frame reaches the endpoint id"),
	PGT_TEST(t_carry_esrch, "carry to an endpoint that does not exist: ESRCH"),
	PGT_TEST(t_carry_control, "carry of a control frame: EPERM"),
	PGT_TEST(t_carry_delivery, "carry of a delivery frame: EPERM"),
	PGT_TEST(t_carry_bad_frame, "carry of a bad frame: the frame's errno"),
	PGT_TEST(t_attest, "attest: delivery envelope with endpoint, pid, euid, egid, null host"),
	PGT_TEST(t_close_ends_receives, "last close ends the receives; a dup keeps them"),
	PGT_TEST(t_sender_closed, "frames of a closed sender stay deliverable"),
};

int main(void)
{
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
