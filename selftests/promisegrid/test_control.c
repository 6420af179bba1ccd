// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the control protocol (docs/abi.md "The control protocol",
 * docs/protocols/pg-kernel-control-v4.md). Every request gets one reply on
 * the requester's queue with its id (id 0: only on failure; no uint id:
 * null); a failed request fails its write with the reply's errno;
 * malformed requests are EINVAL (EBADRQC for an unknown verb) with outcome
 * "malformed"; capability verbs without their required argument are
 * EINVAL "malformed" (test_caps.c and test_security.c test what they
 * do). hello reports the endpoint id and the limits in force;
 * receive/unreceive errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgtest.h"

static int t_hello(const void *arg)
{
	static const char *const limits[] = {
		"max_depth", "max_frame", "max_groups", "queue_bytes",
		"queue_frames", "inflight_bytes",
	};
	struct pgt_reply r = { 0 };
	uint64_t v, p;
	struct pgt_ep a;
	size_t i;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_request(&a, 7, PG_VERB_HELLO, NULL, &r), 0);
	CHECK(pgt_reply_is(&r, PG_OUTCOME_KEPT));
	CHECK(!r.id_null && r.id == 7);
	CHECK_EQ(pgt_cb_map_uint(&r.details, "version", &v), 0);
	CHECK_EQ(v, 4);
	CHECK_EQ(pgt_cb_map_uint(&r.details, "endpoint", &v), 0);
	CHECK(v >= 1);
	for (i = 0; i < PGT_ARRAY_SIZE(limits); i++) {
		CHECK_EQ(pgt_param_get(limits[i], &p), 0);
		if (pgt_cb_map_uint(&r.details, limits[i], &v)) {
			pgt_diag("hello has no %s", limits[i]);
			return PGT_FAIL;
		}
		if (v != p) {
			pgt_diag("hello %s %llu, parameter %llu", limits[i],
				(unsigned long long)v, (unsigned long long)p);
			return PGT_FAIL;
		}
	}
	CHECK_EQ(r.details.arg, 8);
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

/* hello reports the limits in force: change one at run time. */
/*
 * The promise record: the kernel protocols it serves, the limits in
 * force, what a frame nobody receives gets, and the specs it follows.
 */
static int t_promises(const void *arg)
{
	static const char *const limits[] = {
		"max_depth", "max_frame", "max_groups", "queue_bytes",
		"max_receives", "queue_frames", "inflight_bytes",
	};
	struct pgt_cb_item v, lim, serves, pcid, unrec, follows, s;
	struct pgt_reply r = { 0 };
	struct pgt_frame fr;
	struct pgt_cid got;
	uint64_t n, p;
	struct pgt_ep a;
	size_t i;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_request(&a, 3, PG_VERB_PROMISES, NULL, &r), 0);
	CHECK(pgt_reply_is(&r, PG_OUTCOME_KEPT));
	/* the whole reply is one grid frame */
	CHECK_EQ(pgt_frame_parse(r.raw.p, r.raw.len, &fr), 0);
	CHECK_EQ(pgt_cb_map_get(&r.details, "kernel", &v), 0);
	CHECK(v.major == 3 && v.arg > 12 && !memcmp(v.p + v.hlen, "promisegrid ", 12));
	CHECK_EQ(pgt_cb_map_get(&r.details, "limits", &lim), 0);
	for (i = 0; i < PGT_ARRAY_SIZE(limits); i++) {
		CHECK_EQ(pgt_param_get(limits[i], &p), 0);
		CHECK_EQ(pgt_cb_map_uint(&lim, limits[i], &n), 0);
		CHECK_EQ(n, p);
	}
	CHECK_EQ(pgt_cb_map_get(&r.details, "serves", &serves), 0);
	CHECK(serves.major == 4 && serves.arg == 2);
	for (i = 0; i < 2; i++) {
		CHECK_EQ(pgt_cb_child(&serves, i, &pcid), 0);
		CHECK_EQ(pgt_cb_child(&pcid, 0, &v), 0);	/* the tag's bytes */
		CHECK(pcid.major == 6 && pcid.arg == 42 && v.major == 2);
		got.len = v.arg - 1;
		memcpy(got.b, v.p + v.hlen + 1, got.len);
		CHECK(pgt_cid_eq(&got, i ? &pgt_cid_delivery : &pgt_cid_control));
	}
	CHECK_EQ(pgt_cb_map_get(&r.details, "unreceived", &unrec), 0);
	CHECK_EQ(pgt_cb_map_uint(&unrec, "errno", &n), 0);
	CHECK_EQ(n, EHOSTUNREACH);
	CHECK_EQ(pgt_cb_map_get(&unrec, "outcome", &v), 0);
	CHECK(pgt_cb_is_text(&v, PG_OUTCOME_NOT_PROMISED));
	CHECK_EQ(pgt_cb_map_get(&r.details, "follows", &follows), 0);
	CHECK(follows.major == 4 && follows.arg >= 1);
	for (i = 0; i < follows.arg; i++) {
		CHECK_EQ(pgt_cb_child(&follows, i, &s), 0);
		CHECK(s.major == 3 && s.arg > 12 &&
		      !memcmp(s.p + s.hlen, "promisegrid/", 12));
	}
	return PGT_PASS;
}

static int t_hello_follows_params(const void *arg)
{
	struct pgt_reply r = { 0 };
	struct pgt_ep a;
	uint64_t v;

	(void)arg;
	CHECK_EQ(pgt_param_set("queue_frames", 1234), 0);
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_request(&a, 8, PG_VERB_HELLO, NULL, &r), 0);
	CHECK_EQ(pgt_cb_map_uint(&r.details, "queue_frames", &v), 0);
	CHECK_EQ(v, 1234);
	return PGT_PASS;
}

static int t_ids(const void *arg)
{
	uint64_t a_id, b_id, c_id;
	struct pgt_ep a, b, c;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_hello(&a, &a_id), 0);
	CHECK_EQ(pgt_hello(&b, &b_id), 0);
	CHECK(b_id > a_id);
	pgt_close(&a);
	CHECK_EQ(pgt_open(&c, 0), 0);
	CHECK_EQ(pgt_hello(&c, &c_id), 0);
	CHECK(c_id > b_id);
	return PGT_PASS;
}

/* The open file is the endpoint: dup() and fork() share it. */
static int t_shared(const void *arg)
{
	struct pgt_ep a, d;
	uint64_t id, did;
	int status;
	pid_t pid;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_hello(&a, &id), 0);
	d = a;
	memset(&d.pend, 0, sizeof(d.pend));
	d.fd = dup(a.fd);
	CHECK(d.fd >= 0);
	CHECK_EQ(pgt_hello(&d, &did), 0);
	CHECK_EQ(did, id);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		uint64_t cid = 0;

		_exit(pgt_hello(&a, &cid) || cid != id);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return PGT_PASS;
}

static int t_unknown_verb(const void *arg)
{
	struct pgt_reply r = { 0 };
	struct pgt_ep a;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_ERR(pgt_request(&a, 9, "frobnicate", NULL, &r), EBADRQC);
	CHECK(pgt_reply_failed(&r, EBADRQC, PG_OUTCOME_MALFORMED));
	CHECK(!r.id_null && r.id == 9);
	return PGT_PASS;
}

static int t_cap_verbs_need_args(const void *arg)
{
	static const char *const verbs[] = {
		PG_VERB_CLAIM, PG_VERB_GRANT, PG_VERB_REDEEM, PG_VERB_REVOKE,
	};
	struct pgt_reply r = { 0 };
	struct pgt_ep a;
	size_t i;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	for (i = 0; i < PGT_ARRAY_SIZE(verbs); i++) {
		pgt_diag("verb %s", verbs[i]);
		CHECK_ERR(pgt_request(&a, 10 + i, verbs[i], NULL, &r), EINVAL);
		CHECK(pgt_reply_failed(&r, EINVAL, PG_OUTCOME_MALFORMED));
	}
	return PGT_PASS;
}

/* ---- malformed requests: EINVAL, outcome malformed ---------------------- */

struct bad_req {
	const char *name;
	void (*build)(struct pgt_buf *b);
};

static const char g65[] =
	"0123456789012345678901234567890123456789012345678901234567890123x";

static void args1(struct pgt_buf *b, const char *verb, const char *key)
{
	pgt_request_begin(b, 21, verb);
	pgt_cb_map(b, 1);
	pgt_cb_text(b, key);
}

static void r_missing_pcid(struct pgt_buf *b)
{
	pgt_request_begin(b, 21, PG_VERB_RECEIVE);
	pgt_cb_map(b, 0);
}

static void r_unknown_key(struct pgt_buf *b)
{
	struct pgt_cid c;
	struct pgt_map m = { 0 };

	pgt_cid_named(&c, "control unknown key");
	pgt_request_begin(b, 21, PG_VERB_RECEIVE);
	pgt_cb_cid(pgt_map_put(&m, "pcid"), &c);
	pgt_cb_uint(pgt_map_put(&m, "bogus"), 1);
	pgt_map_emit(b, &m);
}

static void r_hello_unknown_key(struct pgt_buf *b)
{
	args1(b, PG_VERB_HELLO, "x");
	pgt_cb_uint(b, 1);
}

static void r_pcid_text(struct pgt_buf *b)
{
	args1(b, PG_VERB_RECEIVE, "pcid");
	pgt_cb_text(b, "bafkrei");
}

static void r_pcid_untagged(struct pgt_buf *b)
{
	struct pgt_cid c;

	pgt_cid_named(&c, "control untagged");
	args1(b, PG_VERB_RECEIVE, "pcid");
	pgt_cb_head(b, 2, c.len + 1);
	pgt_cb_byte(b, 0);
	pgt_cb_raw(b, c.b, c.len);
}

/* {"pcid": ..., key: value} with value written by enc */
static void pcid_and(struct pgt_buf *b, const char *key,
		     void (*enc)(struct pgt_buf *v))
{
	struct pgt_map m = { 0 };
	struct pgt_cid c;

	pgt_cid_named(&c, "control pcid and");
	pgt_request_begin(b, 21, PG_VERB_RECEIVE);
	pgt_cb_cid(pgt_map_put(&m, "pcid"), &c);
	enc(pgt_map_put(&m, key));
	pgt_map_emit(b, &m);
}

static void v_uint(struct pgt_buf *v)
{
	pgt_cb_uint(v, 1);
}

static void v_g65(struct pgt_buf *v)
{
	pgt_cb_text(v, g65);
}

static void v_empty_text(struct pgt_buf *v)
{
	pgt_cb_text(v, "");
}

static void r_attest_uint(struct pgt_buf *b)
{
	pcid_and(b, "attest", v_uint);
}

static void r_group_uint(struct pgt_buf *b)
{
	pcid_and(b, "group", v_uint);
}

static void r_group_65(struct pgt_buf *b)
{
	pcid_and(b, "group", v_g65);
}

static void r_group_empty(struct pgt_buf *b)
{
	pcid_and(b, "group", v_empty_text);
}

static void r_carry_no_frame(struct pgt_buf *b)
{
	args1(b, PG_VERB_CARRY, "to");
	pgt_cb_uint(b, 1);
}

static void r_carry_to_text(struct pgt_buf *b)
{
	struct pgt_map m = { 0 };

	pgt_request_begin(b, 21, PG_VERB_CARRY);
	pgt_cb_text(pgt_map_put(&m, "to"), "1");
	pgt_cb_bytes(pgt_map_put(&m, "frame"), "x", 1);
	pgt_map_emit(b, &m);
}

static void r_args_array(struct pgt_buf *b)
{
	pgt_request_begin(b, 21, PG_VERB_HELLO);
	pgt_cb_array(b, 0);
}

static void r_three_slots(struct pgt_buf *b)
{
	pgt_frame_begin(b, &pgt_cid_control, 2);
	pgt_cb_uint(b, 21);
	pgt_cb_text(b, PG_VERB_HELLO);
}

static void r_five_slots(struct pgt_buf *b)
{
	pgt_frame_begin(b, &pgt_cid_control, 4);
	pgt_cb_uint(b, 21);
	pgt_cb_text(b, PG_VERB_HELLO);
	pgt_cb_map(b, 0);
	pgt_cb_map(b, 0);
}

static const struct bad_req bad_reqs[] = {
	{ "receive without pcid", r_missing_pcid },
	{ "receive with an unknown argument", r_unknown_key },
	{ "hello with an unknown argument", r_hello_unknown_key },
	{ "receive with pcid as text", r_pcid_text },
	{ "receive with pcid as untagged bytes", r_pcid_untagged },
	{ "receive with attest as a uint", r_attest_uint },
	{ "receive with group as a uint", r_group_uint },
	{ "receive with a group name of 65 bytes", r_group_65 },
	{ "receive with an empty group name", r_group_empty },
	{ "carry without frame", r_carry_no_frame },
	{ "carry with to as text", r_carry_to_text },
	{ "arguments an array, not a map", r_args_array },
	{ "request without its arguments slot", r_three_slots },
	{ "request with an extra slot", r_five_slots },
};

static int t_bad_req(const void *arg)
{
	const struct bad_req *br = arg;
	struct pgt_reply r = { 0 };
	struct pgt_buf b = { 0 };
	struct pgt_ep a;

	CHECK_EQ(pgt_open(&a, 0), 0);
	br->build(&b);
	CHECK_ERR(pgt_request_raw(&a, &b, false, 21, &r), EINVAL);
	CHECK(pgt_reply_failed(&r, EINVAL, PG_OUTCOME_MALFORMED));
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

/* A group name of 64 bytes is the longest allowed. */
static int t_group_64(const void *arg)
{
	char g64[PG_GROUP_NAME_MAX + 1];
	struct pgt_ep a;
	struct pgt_cid c;

	(void)arg;
	memcpy(g64, g65, PG_GROUP_NAME_MAX);
	g64[PG_GROUP_NAME_MAX] = 0;
	pgt_cid_named(&c, "control group 64");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_receive(&a, &c, g64, false), 0);
	return PGT_PASS;
}

/* Arguments with keys out of order are not grid-cbor: the frame fails. */
static int t_args_unsorted(const void *arg)
{
	struct pgt_buf b = { 0 };
	struct pgt_cid c;
	struct pgt_ep a;

	(void)arg;
	pgt_cid_named(&c, "control unsorted");
	CHECK_EQ(pgt_open(&a, 0), 0);
	pgt_request_begin(&b, 22, PG_VERB_RECEIVE);
	pgt_cb_map(&b, 2);
	pgt_cb_text(&b, "group");	/* longer key first */
	pgt_cb_text(&b, "g");
	pgt_cb_text(&b, "pcid");
	pgt_cb_cid(&b, &c);
	CHECK_ERR(pgt_send(&a, &b), EILSEQ);
	return PGT_PASS;
}

static int t_id0_success(const void *arg)
{
	struct pgt_reply r = { 0 };
	struct pgt_ep a;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_request(&a, 0, PG_VERB_HELLO, NULL, &r), 0);
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

static int t_id0_failure(const void *arg)
{
	struct pgt_reply r = { 0 };
	struct pgt_ep a;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_ERR(pgt_request(&a, 0, "frobnicate", NULL, &r), EBADRQC);
	CHECK(!r.id_null && r.id == 0);
	CHECK(pgt_reply_failed(&r, EBADRQC, PG_OUTCOME_MALFORMED));
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

/* No unsigned integer id: the reply's id is null (whatever the outcome;
 * pgt_request_raw checks that the write agrees with it).
 */
static int t_id_null(const void *arg)
{
	struct pgt_reply r = { 0 };
	struct pgt_buf b = { 0 };
	struct pgt_ep a;
	int i, ret;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	for (i = 0; i < 3; i++) {
		pgt_buf_reset(&b);
		pgt_frame_begin(&b, &pgt_cid_control, 3);
		if (i == 0)
			pgt_cb_text(&b, "one");
		else if (i == 1)
			pgt_cb_head(&b, 1, 0);	/* -1 */
		else
			pgt_cb_null(&b);
		pgt_cb_text(&b, PG_VERB_HELLO);
		pgt_cb_map(&b, 0);
		ret = pgt_request_raw(&a, &b, true, 0, &r);
		pgt_diag("id kind %d: write %d", i, ret);
		CHECK(ret != -PGT_EBADREPLY);
		CHECK(r.got && r.id_null);
	}
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

/*
 * Several requests in one write: one reply each, in order, each naming
 * its own request's bytes (not the write's) as its parent.
 */
static int t_batch(const void *arg)
{
	struct pgt_buf b = { 0 }, got = { 0 };
	struct pgt_reply r = { 0 };
	struct pgt_cid want[3];
	struct pgt_ep a;
	size_t start;
	int i;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	for (i = 0; i < 3; i++) {
		start = b.len;
		pgt_request_begin(&b, 31 + i, PG_VERB_HELLO);
		pgt_cb_map(&b, 0);
		pgt_frame_cid(b.p + start, b.len - start, &want[i]);
	}
	CHECK_EQ(pgt_send(&a, &b), b.len);
	for (i = 0; i < 3; i++) {
		CHECK(pgt_recv(&a, &got, PGT_WAIT_MS) > 0);
		CHECK_EQ(pgt_reply_parse(got.p, got.len, &r), 0);
		CHECK_EQ(r.id, 31 + i);
		CHECK(pgt_reply_is(&r, PG_OUTCOME_KEPT));
		CHECK(r.has_parent && pgt_cid_eq(&r.parent, &want[i]));
	}
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

/* receive/unreceive failing with errno e: outcome not_promised */
static int pcid_fails(struct pgt_ep *a, const char *verb,
		      const struct pgt_cid *c, const char *group, int e)
{
	struct pgt_reply r = { 0 };
	struct pgt_buf args = { 0 };
	int ret;

	pgt_args_pcid(&args, c, group, false);
	ret = pgt_request(a, 41, verb, &args, &r);
	if (ret != -e) {
		pgt_diag("%s: %d (%s), expected -%s", verb, ret,
			pgt_errname(-ret), pgt_errname(e));
		return -1;
	}
	return pgt_reply_failed(&r, e, PG_OUTCOME_NOT_PROMISED) ? 0 : -1;
}

static int t_receive_twice(const void *arg)
{
	struct pgt_cid c;
	struct pgt_ep a;

	(void)arg;
	pgt_cid_named(&c, "control twice");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);
	CHECK_EQ(pcid_fails(&a, PG_VERB_RECEIVE, &c, NULL, EEXIST), 0);
	CHECK_EQ(pgt_receive(&a, &c, "workers", false), 0);
	CHECK_EQ(pcid_fails(&a, PG_VERB_RECEIVE, &c, "workers", EEXIST), 0);
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

static int t_unreceive_enoent(const void *arg)
{
	struct pgt_cid c;
	struct pgt_ep a;

	(void)arg;
	pgt_cid_named(&c, "control enoent");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pcid_fails(&a, PG_VERB_UNRECEIVE, &c, NULL, ENOENT), 0);
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);
	CHECK_EQ(pcid_fails(&a, PG_VERB_UNRECEIVE, &c, "workers", ENOENT), 0);
	CHECK_EQ(pgt_unreceive(&a, &c, NULL), 0);
	CHECK_EQ(pcid_fails(&a, PG_VERB_UNRECEIVE, &c, NULL, ENOENT), 0);
	return PGT_PASS;
}

static int t_kernel_pcids(const void *arg)
{
	struct pgt_ep a;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pcid_fails(&a, PG_VERB_RECEIVE, &pgt_cid_control, NULL,
			    EPERM), 0);
	CHECK_EQ(pcid_fails(&a, PG_VERB_RECEIVE, &pgt_cid_delivery, NULL,
			    EPERM), 0);
	CHECK_EQ(pcid_fails(&a, PG_VERB_RECEIVE, &pgt_cid_control, "g",
			    EPERM), 0);
	return PGT_PASS;
}

/*
 * The earlier versions' pCIDs stay the kernel's: an old client's request
 * fails EPROTONOSUPPORT with no reply, and nobody may receive on them to
 * answer it in the kernel's name.
 */
static int t_retired_pcids(const void *arg)
{
	static const uint8_t retired[][PG_KERNEL_PCID_LEN] = {
		PG_PCID_CONTROL_V1, PG_PCID_CONTROL_V2, PG_PCID_CONTROL_V3,
		PG_PCID_DELIVERY_V1, PG_PCID_DELIVERY_V2,
	};
	struct pgt_buf b = { 0 };
	struct pgt_cid c;
	struct pgt_ep a;
	size_t i;

	(void)arg;
	CHECK_EQ(pgt_open(&a, 0), 0);
	for (i = 0; i < PGT_ARRAY_SIZE(retired); i++) {
		c.len = PG_KERNEL_PCID_LEN;
		memcpy(c.b, retired[i], c.len);
		CHECK_EQ(pcid_fails(&a, PG_VERB_RECEIVE, &c, NULL, EPERM), 0);
		CHECK_EQ(pcid_fails(&a, PG_VERB_RECEIVE, &c, "g", EPERM), 0);
		pgt_buf_reset(&b);
		pgt_frame_begin(&b, &c, 3);
		pgt_cb_uint(&b, 5);
		pgt_cb_text(&b, PG_VERB_HELLO);
		pgt_cb_map(&b, 0);
		CHECK_ERR(pgt_send(&a, &b), EPROTONOSUPPORT);
		CHECK(pgt_empty(&a));
	}
	return PGT_PASS;
}

/* After unreceive nobody receives; what was queued stays queued. */
static int t_unreceive(const void *arg)
{
	struct pgt_ep a, s;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "control unreceive");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);
	CHECK_EQ(pgt_send_msg(&s, &c, 1), pgt_frame_msg_len(&c, 1));
	CHECK_EQ(pgt_unreceive(&a, &c, NULL), 0);
	CHECK_ERR(pgt_send_msg(&s, &c, 2), EHOSTUNREACH);
	CHECK(pgt_expect_msg(&a, &c, 1) == 0);
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

static int t_max_receives(const void *arg)
{
	struct pgt_cid c[3];
	struct pgt_ep a;

	(void)arg;
	pgt_cid_named(&c[0], "control max_receives 0");
	pgt_cid_named(&c[1], "control max_receives 1");
	pgt_cid_named(&c[2], "control max_receives 2");
	CHECK_EQ(pgt_param_set("max_receives", 2), 0);
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_receive(&a, &c[0], NULL, false), 0);
	CHECK_EQ(pgt_receive(&a, &c[1], "g", false), 0);
	CHECK_EQ(pcid_fails(&a, PG_VERB_RECEIVE, &c[2], NULL, ENOSPC), 0);
	CHECK_EQ(pcid_fails(&a, PG_VERB_RECEIVE, &c[0], "g", ENOSPC), 0);
	CHECK_EQ(pgt_unreceive(&a, &c[0], NULL), 0);
	CHECK_EQ(pgt_receive(&a, &c[2], NULL, false), 0);
	return PGT_PASS;
}

int main(void)
{
	static const struct pgt_test fixed[] = {
		PGT_TEST(t_hello, "hello: kept, version 4, endpoint id, limits = parameters"),
		PGT_TEST(t_hello_follows_params, "hello reports a limit changed at run time"),
		PGT_TEST(t_promises, "promises: protocols served, limits in force, EHOSTUNREACH for the unreceived, specs followed"),
		PGT_TEST(t_ids, "endpoint ids increase across opens, never reused"),
		PGT_TEST(t_shared, "dup() and fork() share the endpoint"),
		PGT_TEST(t_unknown_verb, "unknown verb: EBADRQC and a malformed reply"),
		PGT_TEST(t_cap_verbs_need_args, "claim/grant/redeem/revoke with no arguments: EINVAL, malformed"),
		PGT_TEST(t_group_64, "a group name of 64 bytes is accepted"),
		PGT_TEST(t_args_unsorted, "arguments with unsorted keys: EILSEQ"),
		PGT_TEST(t_id0_success, "id 0 success: no reply"),
		PGT_TEST(t_id0_failure, "id 0 failure: a reply with id 0"),
		PGT_TEST(t_id_null, "id not a uint: the reply's id is null"),
		PGT_TEST(t_batch, "several requests in one write: replies in order"),
		PGT_TEST(t_receive_twice, "receive twice: EEXIST, not_promised"),
		PGT_TEST(t_unreceive_enoent, "unreceive when not receiving: ENOENT"),
		PGT_TEST(t_kernel_pcids, "receive on a kernel pCID: EPERM"),
		PGT_TEST(t_retired_pcids, "retired kernel pCIDs: EPROTONOSUPPORT, no receive"),
		PGT_TEST(t_unreceive, "after unreceive: EHOSTUNREACH, queued frames stay"),
		PGT_TEST(t_max_receives, "more than max_receives receives: ENOSPC"),
	};
	struct pgt_test t[PGT_ARRAY_SIZE(fixed) + PGT_ARRAY_SIZE(bad_reqs)];
	char names[PGT_ARRAY_SIZE(bad_reqs)][96];
	size_t i, n = PGT_ARRAY_SIZE(fixed);

	memcpy(t, fixed, sizeof(fixed));
	for (i = 0; i < PGT_ARRAY_SIZE(bad_reqs); i++, n++) {
		snprintf(names[i], sizeof(names[i]), "EINVAL, malformed: %s",
			 bad_reqs[i].name);
		t[n] = (struct pgt_test){ names[i], t_bad_req, &bad_reqs[i] };
	}
	return pgt_run(t, n);
}
