// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: unread notices (docs/protocols/pg-kernel-control-v4.md
 * "Notices"). When an endpoint closes with frames still queued, each
 * sender that asked ("accept" {"unread": true}) gets one "broken" notice
 * per frame, naming the frame by its CID (the sender's bytes, whatever
 * attestation the receiver asked for), the closed endpoint and the pCID.
 * Senders that did not ask get nothing; frames read get nothing; the
 * notices are bounded by the reply reserve and charged to the sender.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgtest.h"

/* The next delivery must be an unread notice for frame (c, seq) sent to @to. */
static int expect_unread(struct pgt_ep *s, const struct pgt_cid *c,
			 uint64_t seq, uint64_t to)
{
	struct pgt_buf f = { 0 }, got = { 0 };
	struct pgt_reply r = { 0 };
	struct pgt_cid want, pc;
	struct pgt_cb_item pcid, bs;
	uint64_t v;
	int ret = -1;

	pgt_frame_msg(&f, c, seq);
	pgt_frame_cid(f.p, f.len, &want);
	if (pgt_recv(s, &got, PGT_WAIT_MS) <= 0) {
		pgt_diag("no unread notice for frame %llu",
			(unsigned long long)seq);
		goto out;
	}
	if (pgt_reply_parse(got.p, got.len, &r) || !r.id_null ||
	    !pgt_reply_is(&r, PG_OUTCOME_BROKEN) || pgt_reply_errno(&r) != EPIPE ||
	    !r.has_parent || !pgt_cid_eq(&r.parent, &want) ||
	    pgt_cb_map_uint(&r.details, "to", &v) || v != to ||
	    pgt_cb_map_get(&r.details, "pcid", &pcid) || pcid.major != 6 ||
	    pgt_cb_child(&pcid, 0, &bs) || bs.major != 2 || bs.arg < 1) {
		pgt_diag("frame %llu: not its unread notice",
			(unsigned long long)seq);
		pgt_reply_diag(&r);
		goto out;
	}
	pc.len = bs.arg - 1;
	memcpy(pc.b, bs.p + bs.hlen + 1, pc.len);
	ret = pgt_cid_eq(&pc, c) ? 0 : -1;
	if (ret)
		pgt_diag("frame %llu: the notice names another pCID",
			(unsigned long long)seq);
out:
	pgt_buf_free(&f);
	pgt_buf_free(&got);
	pgt_buf_free(&r.raw);
	return ret;
}

/* Fan-out: two of three frames unread at close, two notices, in order. */
static int t_unread_at_close(const void *arg)
{
	struct pgt_buf f = { 0 };
	struct pgt_ep s, q, rcv;
	uint8_t buf[256];
	uint64_t rid;
	struct pgt_cid c;
	int i;

	(void)arg;
	pgt_cid_named(&c, "unread at close");
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_open(&q, 0), 0);
	CHECK_EQ(pgt_open(&rcv, 0), 0);
	CHECK_EQ(pgt_hello(&rcv, &rid), 0);
	CHECK_EQ(pgt_accept(&s, "unread", true), 0);
	CHECK_EQ(pgt_receive(&rcv, &c, NULL, false), 0);
	for (i = 1; i <= 3; i++)
		CHECK_EQ(pgt_send_msg(&s, &c, i), pgt_frame_msg_len(&c, i));
	/* q did not ask: its frame goes unread without a word */
	CHECK_EQ(pgt_send_msg(&q, &c, 9), pgt_frame_msg_len(&c, 9));
	/* read exactly the first frame: the rest stay in the kernel's queue */
	pgt_frame_msg(&f, &c, 1);
	CHECK_EQ(pgt_read(rcv.fd, buf, f.len), f.len);
	CHECK(!memcmp(buf, f.p, f.len));
	pgt_close(&rcv);
	CHECK_EQ(expect_unread(&s, &c, 2, rid), 0);
	CHECK_EQ(expect_unread(&s, &c, 3, rid), 0);
	CHECK(pgt_empty(&s));
	CHECK(pgt_empty(&q));
	pgt_buf_free(&f);
	return PGT_PASS;
}

/* accept {"unread": false} turns the notices off again. */
static int t_unread_off(const void *arg)
{
	struct pgt_ep s, rcv;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "unread off");
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_open(&rcv, 0), 0);
	CHECK_EQ(pgt_accept(&s, "unread", true), 0);
	CHECK_EQ(pgt_accept(&s, "unread", false), 0);
	CHECK_EQ(pgt_receive(&rcv, &c, NULL, false), 0);
	CHECK_EQ(pgt_send_msg(&s, &c, 1), pgt_frame_msg_len(&c, 1));
	pgt_close(&rcv);
	CHECK(pgt_empty(&s));
	return PGT_PASS;
}

/*
 * A worker killed with calls queued: each caller learns at once, by the
 * call's CID, not the attested envelope the worker would have read.
 */
static int t_worker_killed(const void *arg)
{
	struct pgt_ep s, w;
	uint64_t wid;
	struct pgt_cid c;
	int i, status;
	pid_t pid;

	(void)arg;
	pgt_cid_named(&c, "unread worker killed");
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_accept(&s, "unread", true), 0);
	CHECK_EQ(pgt_open(&w, 0), 0);
	CHECK_EQ(pgt_hello(&w, &wid), 0);
	CHECK_EQ(pgt_receive(&w, &c, "workers", true), 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		pause();	/* holds the worker's file, never reads */
		_exit(0);
	}
	pgt_close(&w);		/* the child's copy is the last */
	for (i = 1; i <= 2; i++)
		CHECK_EQ(pgt_send_msg(&s, &c, i), pgt_frame_msg_len(&c, i));
	CHECK_EQ(kill(pid, SIGKILL), 0);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(expect_unread(&s, &c, 1, wid), 0);
	CHECK_EQ(expect_unread(&s, &c, 2, wid), 0);
	CHECK_ERR(pgt_send_msg(&s, &c, 3), EHOSTUNREACH);
	CHECK(pgt_empty(&s));
	return PGT_PASS;
}

/*
 * Bounded: a sender whose queue is full takes the notices into the reply
 * reserve (64) and loses the rest, counted in its drop notice.
 */
static int t_unread_bounded(const void *arg)
{
	const uint64_t limit = 100, reserve = 64;
	struct pgt_ep s, x, rcv;
	struct pgt_cid c, mine;
	struct pgt_buf got = { 0 };
	struct pgt_reply r = { 0 };
	uint64_t i, dropped, rid;

	(void)arg;
	CHECK_EQ(pgt_param_set("queue_frames", limit), 0);
	pgt_cid_named(&c, "unread bounded");
	pgt_cid_named(&mine, "unread bounded: the sender's own");
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_open(&x, 0), 0);
	CHECK_EQ(pgt_open(&rcv, 0), 0);
	CHECK_EQ(pgt_hello(&rcv, &rid), 0);
	CHECK_EQ(pgt_accept(&s, "unread", true), 0);
	CHECK_EQ(pgt_receive(&s, &mine, NULL, false), 0);
	CHECK_EQ(pgt_receive(&rcv, &c, NULL, false), 0);
	for (i = 1; i <= limit; i++) {
		CHECK_EQ(pgt_send_msg(&x, &mine, i), pgt_frame_msg_len(&mine, i));
		CHECK_EQ(pgt_send_msg(&s, &c, i), pgt_frame_msg_len(&c, i));
	}
	pgt_close(&rcv);
	/* first the drop notice for what the reserve could not take */
	CHECK(pgt_recv(&s, &got, PGT_WAIT_MS) > 0);
	CHECK_EQ(pgt_reply_parse(got.p, got.len, &r), 0);
	CHECK(pgt_reply_is(&r, PG_OUTCOME_BROKEN) && !r.has_parent);
	CHECK_EQ(pgt_reply_errno(&r), ENOBUFS);
	CHECK_EQ(pgt_cb_map_uint(&r.details, "dropped", &dropped), 0);
	CHECK_EQ(dropped, limit - reserve);
	for (i = 1; i <= limit; i++)
		CHECK(pgt_expect_msg(&s, &mine, i) == 0);
	for (i = 1; i <= reserve; i++)
		CHECK_EQ(expect_unread(&s, &c, i, rid), 0);
	CHECK(pgt_empty(&s));
	pgt_buf_free(&got);
	return PGT_PASS;
}

int main(void)
{
	static const struct pgt_test tests[] = {
		PGT_TEST(t_unread_at_close, "close with frames queued: an unread notice each, to senders that asked"),
		PGT_TEST(t_unread_off, "accept unread false: no notices"),
		PGT_TEST(t_worker_killed, "worker killed with calls queued: the caller learns each call's CID"),
		PGT_TEST(t_unread_bounded, "notices past the reply reserve are dropped and counted"),
	};

	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
