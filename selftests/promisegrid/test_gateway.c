// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: gateways (docs/protocols/pg-kernel-control-v4.md
 * "Gateways"). Only an endpoint whose opener had CAP_NET_ADMIN becomes
 * one; its frames are attested with the host it named; a gateway's
 * receive never gets a gateway's frame; watch reports the pCIDs and
 * groups with receives of ordinary endpoints, then their changes. The
 * Python conformance client checks the same rules independently; these
 * run on the debug kernel too (lockdep, KASAN, kmemleak).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgtest.h"

/* gateway {"host": host}: 0 or -errno (the reply checked against it). */
static int gateway(struct pgt_ep *ep, const char *host)
{
	struct pgt_buf args = { 0 };
	struct pgt_reply r = { 0 };
	int err;

	pgt_cb_map(&args, 1);
	pgt_cb_text(&args, "host");
	pgt_cb_text(&args, host);
	err = pgt_request(ep, pgt_next_id(), PG_VERB_GATEWAY, &args, &r);
	pgt_buf_free(&args);
	pgt_buf_free(&r.raw);
	return err;
}

/* watch {}: the number of notices it queued first, or -errno. */
static long watch(struct pgt_ep *ep)
{
	struct pgt_reply r = { 0 };
	uint64_t n = 0;
	int err;

	err = pgt_request(ep, pgt_next_id(), PG_VERB_WATCH, NULL, &r);
	if (!err && pgt_cb_map_uint(&r.details, "routes", &n))
		err = -EPROTO;
	pgt_buf_free(&r.raw);
	return err ? err : (long)n;
}

/*
 * The next delivery must be the route notice {pcid c, group?, up}.
 * Replies to the watch itself (stashed by pgt_request) come after the
 * notices it queued, so this reads the queue in order.
 */
static int expect_route(struct pgt_ep *w, const struct pgt_cid *c,
			const char *group, bool up)
{
	struct pgt_buf want = { 0 };
	int ret;

	pgt_frame_begin(&want, &pgt_cid_control, 3);
	pgt_cb_null(&want);
	pgt_cb_text(&want, PG_NOTICE_ROUTE);
	pgt_cb_map(&want, group ? 3 : 2);
	pgt_cb_text(&want, "up");
	pgt_cb_bool(&want, up);
	pgt_cb_text(&want, "pcid");
	pgt_cb_cid(&want, c);
	if (group) {
		pgt_cb_text(&want, "group");
		pgt_cb_text(&want, group);
	}
	ret = pgt_expect(w, &want);
	pgt_buf_free(&want);
	return ret;
}

/* Nobody's endpoint cannot be a gateway; root's may be, whoever writes. */
static int t_privilege(const void *arg)
{
	struct pgt_ep root_opened;
	int status;
	pid_t pid;

	(void)arg;
	CHECK_EQ(pgt_open(&root_opened, 0), 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct pgt_ep mine;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
		if (pgt_open(&mine, 0) || gateway(&mine, "nobody") != -EPERM)
			_exit(3);
		/* The opener's credentials count, not the writer's. */
		_exit(gateway(&root_opened, "root-opened") ? 4 : 0);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	CHECK_EQ(gateway(&root_opened, "again"), -EEXIST);
	return PGT_PASS;
}

/* Once receiving, an endpoint's receives keep their kind: EBUSY. */
static int t_before_receiving(const void *arg)
{
	struct pgt_ep ep;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "gateway busy");
	CHECK_EQ(pgt_open(&ep, 0), 0);
	CHECK_EQ(pgt_receive(&ep, &c, NULL, false), 0);
	CHECK_EQ(gateway(&ep, "late"), -EBUSY);
	return PGT_PASS;
}

/* A gateway's frame names its host; a gateway's receive never gets it. */
static int t_host_and_no_echo(const void *arg)
{
	struct pgt_buf f = { 0 }, want = { 0 };
	struct pgt_ep g, g2, r;
	struct pgt_cid c;
	uint64_t gid;

	(void)arg;
	pgt_cid_named(&c, "gateway host");
	CHECK_EQ(pgt_open(&g, 0), 0);
	CHECK_EQ(pgt_open(&g2, 0), 0);
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(gateway(&g, "hostB"), 0);
	CHECK_EQ(gateway(&g2, "hostC"), 0);
	CHECK_EQ(pgt_hello(&g, &gid), 0);
	CHECK_EQ(pgt_receive(&g2, &c, NULL, false), 0);
	pgt_frame_msg(&f, &c, 7);
	CHECK_EQ(pgt_send(&g, &f), -EHOSTUNREACH);	/* only a gateway */
	CHECK_EQ(pgt_receive(&r, &c, NULL, true), 0);
	CHECK_EQ(pgt_send(&g, &f), (ssize_t)f.len);
	pgt_frame_begin(&want, &pgt_cid_delivery, 2);
	pgt_cb_array(&want, 5);
	pgt_cb_uint(&want, gid);
	pgt_cb_uint(&want, getpid());
	pgt_cb_uint(&want, geteuid());
	pgt_cb_uint(&want, getegid());
	pgt_cb_text(&want, "hostB");
	pgt_cb_raw(&want, f.p, f.len);
	CHECK(pgt_expect(&r, &want) == 0);
	CHECK(pgt_empty(&g2));
	pgt_buf_free(&f);
	pgt_buf_free(&want);
	return PGT_PASS;
}

/* watch: the list, then the first receive in and the last one out. */
static int t_watch(const void *arg)
{
	struct pgt_ep w, plain, a, b;
	struct pgt_cid p, q, own;

	(void)arg;
	pgt_cid_named(&p, "watch fan-out");
	pgt_cid_named(&q, "watch group");
	pgt_cid_named(&own, "watch own");
	CHECK_EQ(pgt_open(&w, 0), 0);
	CHECK_EQ(pgt_open(&plain, 0), 0);
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(watch(&plain), -EPERM);
	CHECK_EQ(pgt_receive(&a, &p, NULL, false), 0);
	CHECK_EQ(gateway(&w, "self"), 0);
	CHECK_EQ(pgt_receive(&w, &own, NULL, false), 0);
	CHECK_EQ(watch(&w), 1);
	CHECK_EQ(expect_route(&w, &p, NULL, true), 0);
	CHECK_EQ(pgt_receive(&b, &q, "w", false), 0);
	CHECK_EQ(expect_route(&w, &q, "w", true), 0);
	CHECK_EQ(pgt_receive(&a, &q, "w", false), 0);	/* no news */
	CHECK_EQ(pgt_receive(&b, &p, NULL, false), 0);	/* no news */
	pgt_close(&b);
	CHECK_EQ(pgt_unreceive(&a, &p, NULL), 0);	/* the last of p */
	CHECK_EQ(expect_route(&w, &p, NULL, false), 0);
	pgt_close(&a);
	CHECK_EQ(expect_route(&w, &q, "w", false), 0);
	CHECK(pgt_empty(&w));
	return PGT_PASS;
}

/*
 * At most 16 watchers; a watcher that closes with notices unread frees
 * them and its place (kmemleak on the debug kernel).
 */
static int t_watchers_bounded(const void *arg)
{
	struct pgt_ep w[17], r;
	struct pgt_cid c;
	int i;

	(void)arg;
	for (i = 0; i < 17; i++) {
		CHECK_EQ(pgt_open(&w[i], 0), 0);
		CHECK_EQ(gateway(&w[i], "w"), 0);
	}
	for (i = 0; i < 16; i++)
		CHECK(watch(&w[i]) >= 0);
	CHECK_EQ(watch(&w[16]), -ENOSPC);
	CHECK_EQ(pgt_open(&r, 0), 0);
	for (i = 0; i < 64; i++) {
		pgt_cid_named(&c, i % 2 ? "watch churn a" : "watch churn b");
		CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
		CHECK_EQ(pgt_unreceive(&r, &c, NULL), 0);
	}
	pgt_close(&w[0]);
	CHECK(watch(&w[16]) >= 0);
	for (i = 1; i < 17; i++)
		pgt_close(&w[i]);
	return PGT_PASS;
}

int main(void)
{
	static const struct pgt_test tests[] = {
		PGT_TEST(t_privilege, "gateway: only an opener with CAP_NET_ADMIN, whoever writes; once"),
		PGT_TEST(t_before_receiving, "gateway: EBUSY once the endpoint receives"),
		PGT_TEST(t_host_and_no_echo, "a gateway's frame names its host; gateways do not get gateways' frames"),
		PGT_TEST(t_watch, "watch: the list, then the first receive in and the last out"),
		PGT_TEST(t_watchers_bounded, "watch: at most 16 watchers; a closed one frees its place and notices"),
	};

	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
