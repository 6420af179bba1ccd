// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: writes of CBOR sequences (docs/abi.md "Writes", "Routing").
 * One write may carry several frames; it returns the bytes of the whole
 * frames it accepted. An error on a later frame ends the write short and
 * is returned by the next write, which consumes nothing; no frame is half
 * applied. A write looks at no more than max(max_frame, 256 KiB) bytes.
 * Per sender and pCID, frames arrive in the order they were sent.
 */
#include <errno.h>
#include <stdlib.h>

#include "pgtest.h"

/* receiver r on c, sender s */
static int setup(struct pgt_ep *r, struct pgt_ep *s, struct pgt_cid *c,
		 const char *name)
{
	pgt_cid_named(c, name);
	if (pgt_open(r, 0) || pgt_open(s, 0))
		return -1;
	return pgt_receive(r, c, NULL, false) ? -1 : 0;
}

static int t_three(const void *arg)
{
	struct pgt_buf b = { 0 }, want = { 0 };
	struct pgt_ep r, s;
	struct pgt_cid c;
	int i;

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "seq three"), 0);
	for (i = 0; i < 3; i++)
		pgt_frame_msg(&b, &c, i);
	CHECK_EQ(pgt_send(&s, &b), b.len);
	for (i = 0; i < 3; i++)
		CHECK(pgt_expect_msg(&r, &c, i) == 0);
	CHECK(pgt_empty(&r));
	pgt_buf_free(&want);
	pgt_buf_free(&b);
	return PGT_PASS;
}

enum bad { BAD_MALFORMED, BAD_UNREACH, BAD_GARBAGE };

/*
 * [good1, bad, good2] in one write: returns len(good1), good1 delivered.
 * The next write (good2 alone) returns the bad frame's errno and consumes
 * nothing; then good2 goes through.
 */
static int t_good_bad_good(const void *arg)
{
	enum bad kind = (enum bad)(long)arg;
	struct pgt_buf b = { 0 }, g2 = { 0 };
	struct pgt_cid c, nobody;
	struct pgt_ep r, s;
	size_t len1;
	int err;

	CHECK_EQ(setup(&r, &s, &c, "seq good bad good"), 0);
	pgt_cid_named(&nobody, "seq nobody receives this");
	pgt_frame_msg(&b, &c, 1);
	len1 = b.len;
	switch (kind) {
	case BAD_MALFORMED:
		pgt_frame_begin(&b, &c, 1);
		pgt_cb_byte(&b, 0x1c);
		err = EBADMSG;
		break;
	case BAD_UNREACH:
		pgt_frame_msg(&b, &nobody, 2);
		err = EHOSTUNREACH;
		break;
	default:
		/* not a frame at all: no grid tag is EPROTO at once */
		pgt_cb_byte(&b, 0x1c);
		err = EPROTO;
		break;
	}
	pgt_frame_msg(&b, &c, 3);
	pgt_frame_msg(&g2, &c, 3);
	CHECK_EQ(pgt_send(&s, &b), len1);
	CHECK(pgt_expect_msg(&r, &c, 1) == 0);
	CHECK(pgt_empty(&r));
	CHECK_ERR(pgt_send(&s, &g2), err);
	CHECK(pgt_empty(&r));
	CHECK_EQ(pgt_send(&s, &g2), g2.len);
	CHECK(pgt_expect_msg(&r, &c, 3) == 0);
	CHECK(pgt_empty(&r));
	pgt_buf_free(&b);
	pgt_buf_free(&g2);
	return PGT_PASS;
}

/* An error on the first frame is the call's error, and only its. */
static int t_first_bad(const void *arg)
{
	struct pgt_buf b = { 0 };
	struct pgt_ep r, s;
	struct pgt_cid c;

	(void)arg;
	CHECK_EQ(setup(&r, &s, &c, "seq first bad"), 0);
	pgt_frame_begin(&b, &c, 1);
	pgt_cb_byte(&b, 0x1c);
	pgt_frame_msg(&b, &c, 2);
	CHECK_ERR(pgt_send(&s, &b), EBADMSG);
	CHECK(pgt_empty(&r));
	CHECK_EQ(pgt_send_msg(&s, &c, 3), pgt_frame_msg_len(&c, 3));
	CHECK(pgt_expect_msg(&r, &c, 3) == 0);
	CHECK(pgt_empty(&r));
	pgt_buf_free(&b);
	return PGT_PASS;
}

#define ORDER_N	3000

/* Two senders write batches of 1..7 frames, interleaved: each sender's
 * frames arrive in order and none is lost or duplicated.
 */
static int t_order(const void *arg)
{
	struct pgt_buf b = { 0 }, got = { 0 };
	uint64_t next[2] = { 0, 0 };
	struct pgt_ep r, s[2];
	struct pgt_cid c;
	int i = 0, k, n = 0;

	(void)arg;
	CHECK_EQ(setup(&r, &s[0], &c, "seq order"), 0);
	CHECK_EQ(pgt_open(&s[1], 0), 0);
	for (k = 0; i < ORDER_N; k++) {
		int who = k & 1, batch = 1 + k % 7, j;

		pgt_buf_reset(&b);
		for (j = 0; j < batch && i < ORDER_N; j++, i++)
			pgt_frame_msg(&b, &c, (uint64_t)who << 32 | next[who]++);
		CHECK_EQ(pgt_send(&s[who], &b), b.len);
	}
	next[0] = next[1] = 0;
	while (n < ORDER_N) {
		struct pgt_frame f;
		struct pgt_cb_item seq;
		int who;

		CHECK(pgt_recv(&r, &got, PGT_WAIT_MS) > 0);
		CHECK_EQ(pgt_frame_parse(got.p, got.len, &f), 0);
		CHECK_EQ(pgt_frame_slot(&f, 1, &seq), 0);
		who = seq.arg >> 32;
		CHECK(who == 0 || who == 1);
		CHECK_EQ(seq.arg & 0xffffffff, next[who]);
		next[who]++;
		n++;
	}
	CHECK(pgt_empty(&r));
	pgt_buf_free(&b);
	pgt_buf_free(&got);
	return PGT_PASS;
}

/* A sequence longer than max(max_frame, 256 KiB) is accepted in part. */
static int t_chunk(const void *arg)
{
	const size_t flen = 1000;
	struct pgt_buf b = { 0 }, f = { 0 };
	uint64_t max_frame, chunk;
	size_t total, n, i;
	struct pgt_ep r, s;
	struct pgt_cid c;
	ssize_t w;

	(void)arg;
	CHECK_EQ(pgt_param_get("max_frame", &max_frame), 0);
	chunk = max_frame > PG_WRITE_CHUNK ? max_frame : PG_WRITE_CHUNK;
	CHECK_EQ(setup(&r, &s, &c, "seq chunk"), 0);
	CHECK_EQ(pgt_frame_sized(&f, &c, flen), 0);
	n = chunk / flen + 50;
	for (i = 0; i < n; i++)
		pgt_cb_raw(&b, f.p, f.len);
	total = b.len;
	w = pgt_send(&s, &b);
	pgt_diag("write of %zu bytes returned %zd (chunk %llu)", total, w,
		(unsigned long long)chunk);
	CHECK(w > 0);
	CHECK((uint64_t)w <= chunk);
	CHECK_EQ(w % flen, 0);
	for (i = 0; i < (size_t)w / flen; i++)
		CHECK(pgt_expect(&r, &f) == 0);
	CHECK(pgt_empty(&r));
	pgt_buf_free(&b);
	pgt_buf_free(&f);
	return PGT_PASS;
}

static const struct pgt_test tests[] = {
	PGT_TEST(t_three, "one write of 3 frames delivers 3, returns their length"),
	PGT_TEST_ARG(t_good_bad_good,
		    "[good, malformed, good]: short write, error kept for the next write",
		    (void *)BAD_MALFORMED),
	PGT_TEST_ARG(t_good_bad_good,
		    "[good, unreachable, good]: short write, EHOSTUNREACH kept",
		    (void *)BAD_UNREACH),
	PGT_TEST_ARG(t_good_bad_good,
		    "[good, garbage byte, good]: short write, EBADMSG/EPROTO kept",
		    (void *)BAD_GARBAGE),
	PGT_TEST(t_first_bad, "error on the first frame: nothing consumed, not kept"),
	PGT_TEST(t_order, "per-sender order kept over 3000 frames from 2 senders"),
	PGT_TEST(t_chunk, "a write looks at no more than max(max_frame, 256 KiB)"),
};

int main(void)
{
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
