// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the stats verb (docs/abi.md, pg-kernel-control-v4 "stats").
 * The reply is kept with details {"module": {...}, "endpoint": {...}},
 * maps of unsigned counters with text keys. The specs name no counter, so
 * no counter's movement is asserted (see the selftests report).
 */
#include <errno.h>

#include "pgtest.h"

/* every key text, every value a uint */
static int counters(const struct pgt_cb_item *m, const char *which)
{
	struct pgt_cb_item k, v;
	size_t i;

	for (i = 0; i < m->arg; i++) {
		CHECK_EQ(pgt_cb_child(m, 2 * i, &k), 0);
		CHECK_EQ(pgt_cb_child(m, 2 * i + 1, &v), 0);
		if (k.major != 3 || !pgt_cb_is_uint(&v)) {
			pgt_diag("%s: entry %zu is not text: uint", which, i);
			return PGT_FAIL;
		}
		pgt_diag("%s %.*s = %llu", which, (int)k.arg,
			(const char *)k.p + k.hlen, (unsigned long long)v.arg);
	}
	return PGT_PASS;
}

static int t_stats(const void *arg)
{
	struct pgt_cb_item module, endpoint;
	struct pgt_reply r = { 0 };
	struct pgt_ep a;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_stats(&a, &r, &module, &endpoint), 0);
	CHECK(pgt_reply_is(&r, PG_OUTCOME_KEPT));
	CHECK_EQ(r.details.arg, 2);
	CHECK_EQ(counters(&module, "module"), PGT_PASS);
	CHECK_EQ(counters(&endpoint, "endpoint"), PGT_PASS);
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

/* After traffic and a drop the reply has the same shape. */
static int t_stats_after_traffic(const void *arg)
{
	struct pgt_cb_item module, endpoint;
	struct pgt_reply r = { 0 };
	struct pgt_ep a, s;
	struct pgt_cid c;
	int i;

	(void)arg;
	pgt_cid_named(&c, "stats traffic");
	CHECK_EQ(pgt_param_set("queue_frames", 2), 0);
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pgt_send_msg(&s, &c, i), pgt_frame_msg_len(&c, i));
	CHECK_ERR(pgt_send_msg(&s, &c, 2), ENOBUFS);
	CHECK_EQ(pgt_stats(&s, &r, &module, &endpoint), 0);
	CHECK_EQ(counters(&module, "module"), PGT_PASS);
	CHECK_EQ(counters(&endpoint, "sender endpoint"), PGT_PASS);
	CHECK_EQ(pgt_param_set("queue_frames", 65536), 0);
	CHECK_EQ(pgt_stats(&a, &r, &module, &endpoint), 0);
	CHECK_EQ(counters(&endpoint, "receiver endpoint"), PGT_PASS);
	return PGT_PASS;
}

static const struct pgt_test tests[] = {
	PGT_TEST(t_stats, "stats: kept, module and endpoint maps of uint counters"),
	PGT_TEST(t_stats_after_traffic, "stats after traffic and a drop: same shape"),
};

int main(void)
{
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
