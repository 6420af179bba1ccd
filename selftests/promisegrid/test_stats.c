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
static int counters(const struct cb_item *m, const char *which)
{
	struct cb_item k, v;
	size_t i;

	for (i = 0; i < m->arg; i++) {
		CHECK_EQ(cb_child(m, 2 * i, &k), 0);
		CHECK_EQ(cb_child(m, 2 * i + 1, &v), 0);
		if (k.major != 3 || !cb_is_uint(&v)) {
			pg_diag("%s: entry %zu is not text: uint", which, i);
			return PG_FAIL;
		}
		pg_diag("%s %.*s = %llu", which, (int)k.arg,
			(const char *)k.p + k.hlen, (unsigned long long)v.arg);
	}
	return PG_PASS;
}

static int t_stats(const void *arg)
{
	struct cb_item module, endpoint;
	struct pg_reply r = { 0 };
	struct pg_ep a;

	(void)arg;
	CHECK_EQ(pg_open(&a, 0), 0);
	CHECK_EQ(pg_stats(&a, &r, &module, &endpoint), 0);
	CHECK(pg_reply_is(&r, PG_OUTCOME_KEPT));
	CHECK_EQ(r.details.arg, 2);
	CHECK_EQ(counters(&module, "module"), PG_PASS);
	CHECK_EQ(counters(&endpoint, "endpoint"), PG_PASS);
	CHECK(pg_empty(&a));
	return PG_PASS;
}

/* After traffic and a drop the reply has the same shape. */
static int t_stats_after_traffic(const void *arg)
{
	struct cb_item module, endpoint;
	struct pg_reply r = { 0 };
	struct pg_ep a, s;
	struct pg_cid c;
	int i;

	(void)arg;
	pg_cid_named(&c, "stats traffic");
	CHECK_EQ(pg_param_set("queue_frames", 2), 0);
	CHECK_EQ(pg_open(&a, 0), 0);
	CHECK_EQ(pg_open(&s, 0), 0);
	CHECK_EQ(pg_receive(&a, &c, NULL, false), 0);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pg_send_msg(&s, &c, i), pg_frame_msg_len(&c, i));
	CHECK_ERR(pg_send_msg(&s, &c, 2), ENOBUFS);
	CHECK_EQ(pg_stats(&s, &r, &module, &endpoint), 0);
	CHECK_EQ(counters(&module, "module"), PG_PASS);
	CHECK_EQ(counters(&endpoint, "sender endpoint"), PG_PASS);
	CHECK_EQ(pg_param_set("queue_frames", 65536), 0);
	CHECK_EQ(pg_stats(&a, &r, &module, &endpoint), 0);
	CHECK_EQ(counters(&endpoint, "receiver endpoint"), PG_PASS);
	return PG_PASS;
}

static const struct pg_test tests[] = {
	PG_TEST(t_stats, "stats: kept, module and endpoint maps of uint counters"),
	PG_TEST(t_stats_after_traffic, "stats after traffic and a drop: same shape"),
};

int main(void)
{
	return pg_run(tests, PG_ARRAY_SIZE(tests));
}
