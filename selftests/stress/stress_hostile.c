// SPDX-License-Identifier: GPL-2.0-only
/*
 * A hostile local user against a victim on the same host, for -d seconds
 * (docs/abi.md "Security model"). The attacker runs as nobody in its own
 * memory cgroup: 64 attested receivers that never read and max_groups
 * worker groups on the victim's pCID, token churn with a 20 ms ttl, and
 * carries to every endpoint id. The victim, root in another memory
 * cgroup, keeps sending on that pCID and timing its own frames to its own
 * reader. Asserted: the victim's cgroup does not pay for the attacker's
 * queues, its writes never block or fail but for ENOBUFS, its reader is
 * woken promptly, no carry reaches it, and expired tokens are all reaped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stress.h"

#define NOBODY		65534
#define RECEIVERS	64
#define VICTIM_SLACK	(4 << 20)	/* its own buffers, stacks, tables */
#define WAKE_BOUND_MS	500		/* TCG guests are slow: generous */

struct shared {
	volatile int ready, done, quit;
	uint64_t grants, redeems, carries_refused, carries_ok;
	uint64_t victim_id;
};

/* The attacker: set up, then churn tokens and carry until told to quit. */
static int attacker(struct shared *sh, const struct pgt_cid *p,
		    uint64_t groups)
{
	struct pgt_ep rx[RECEIVERS], grp, ta, tb;
	struct pgt_buf f = { 0 };
	struct pgt_token t;
	struct pgt_cid tc;
	char name[16];
	uint64_t i, to;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (pgt_cg_enter("pg-hostile-a") || setgid(NOBODY) || setuid(NOBODY))
		return 10;
	for (i = 0; i < RECEIVERS; i++)
		if (pgt_open(&rx[i], O_NONBLOCK) ||
		    pgt_receive(&rx[i], p, NULL, true))
			return 11;
	if (pgt_open(&grp, O_NONBLOCK))
		return 12;
	for (i = 0; i < groups; i++) {
		snprintf(name, sizeof(name), "h%llu", (unsigned long long)i);
		if (pgt_receive(&grp, p, name, false))
			return 13;
	}
	pgt_cid_named(&tc, "hostile tokens");
	if (pgt_open(&ta, 0) || pgt_open(&tb, 0) || pgt_claim(&ta, &tc))
		return 14;
	pgt_frame_msg(&f, p, 0);
	sh->ready = 1;
	while (!sh->quit) {
		if (!pgt_grant(&ta, &tc, PG_RIGHT_SEND, 20, &t)) {
			sh->grants++;
			if (!pgt_redeem(&tb, &t))
				sh->redeems++;
		}
		/* unsolicited replies to the endpoints around the victim's */
		to = sh->victim_id - 32 + sh->grants % 40;
		if (pgt_carry(&ta, to, &f) == -EACCES)
			sh->carries_refused++;
		else if (to == sh->victim_id)
			sh->carries_ok++;
	}
	sh->done = 1;
	while (sh->quit != 2)
		usleep(1000);
	return 0;
}

struct victim_reader {
	struct pgt_ep ep;
	struct pgt_cid q;
	volatile int stop;
	uint64_t frames, max_ms, sum_ms;
};

/* Reads the victim's own frames; each carries its send time in ms. */
static void *victim_read(void *arg)
{
	struct victim_reader *vr = arg;
	struct pgt_buf in = { 0 };
	struct pgt_frame fr;
	struct pgt_cb_item ts;
	uint64_t lat;

	while (!vr->stop) {
		if (pgt_recv(&vr->ep, &in, 200) <= 0)
			continue;
		if (pgt_frame_parse(in.p, in.len, &fr) ||
		    pgt_frame_slot(&fr, 1, &ts) || !pgt_cb_is_uint(&ts))
			continue;	/* a drop notice or a stray carry */
		lat = st_now_ms() - ts.arg;
		vr->frames++;
		vr->sum_ms += lat;
		if (lat > vr->max_ms)
			vr->max_ms = lat;
	}
	pgt_buf_free(&in);
	return NULL;
}

static int test_hostile(const void *arg)
{
	struct shared *sh = st_shared(sizeof(*sh));
	struct victim_reader vr = { 0 };
	struct pgt_buf f = { 0 }, own = { 0 };
	uint64_t deadline, groups, sends = 0, nobufs = 0, vid, max_write = 0;
	struct st_stats s;
	long long v0, v1;
	struct pgt_ep tx;
	struct pgt_cid p;
	pthread_t th;
	pid_t pid;
	ssize_t w;

	(void)arg;
	if (pgt_cg_write(PGT_CG_ROOT "/cgroup.subtree_control", "+memory") ||
	    pgt_cg_enter("pg-hostile-v") || pgt_cg_current("pg-hostile-v") < 0)
		return pgt_skip("no cgroup v2 memory controller");
	CHECK(pgt_param_set("queue_bytes", 1 << 20) == 0);
	CHECK(pgt_param_get("max_groups", &groups) == 0);
	pgt_cid_named(&p, "hostile victim's pCID");
	pgt_cid_named(&vr.q, "hostile victim's own");
	CHECK(pgt_open(&tx, 0) == 0);
	CHECK(pgt_open(&vr.ep, 0) == 0);
	CHECK(pgt_receive(&vr.ep, &vr.q, NULL, false) == 0);
	CHECK(pgt_hello(&vr.ep, &vid) == 0);
	sh->victim_id = vid;

	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(attacker(sh, &p, groups));
	while (!sh->ready) {
		CHECK(kill(pid, 0) == 0);
		usleep(1000);
	}
	CHECK(pthread_create(&th, NULL, victim_read, &vr) == 0);
	pgt_frame_sized(&f, &p, 900);
	v0 = pgt_cg_current("pg-hostile-v");
	deadline = st_deadline(100);
	while (st_running(deadline)) {
		uint64_t t0 = st_now_ms();

		w = pgt_send(&tx, &f);
		if (w == -ENOBUFS)
			nobufs++;
		else
			CHECK_EQ(w, f.len);
		pgt_buf_reset(&own);
		pgt_frame_begin(&own, &vr.q, 1);
		pgt_cb_uint(&own, st_now_ms());
		CHECK_EQ(pgt_send(&tx, &own), own.len);
		if (st_now_ms() - t0 > max_write)
			max_write = st_now_ms() - t0;
		sends++;
	}
	v1 = pgt_cg_current("pg-hostile-v");
	sh->quit = 1;
	while (!sh->done)
		usleep(1000);
	usleep(300 * 1000);	/* the last 20 ms tokens expire */
	vr.stop = 1;
	pthread_join(th, NULL);
	CHECK(st_stats(&tx, &s) == 0);
	sh->quit = 2;
	CHECK(st_wait_children(&pid, 1) == PGT_PASS);

	pgt_diag("victim: %llu rounds (%llu ENOBUFS), slowest round %llu ms,"
		" cgroup +%lld KiB", (unsigned long long)sends,
		(unsigned long long)nobufs, (unsigned long long)max_write,
		(v1 - v0) >> 10);
	pgt_diag("victim's reader: %llu frames, wake-up mean %llu ms, max %llu ms",
		(unsigned long long)vr.frames,
		(unsigned long long)(vr.frames ? vr.sum_ms / vr.frames : 0),
		(unsigned long long)vr.max_ms);
	pgt_diag("attacker: %llu grants, %llu redeems, %llu carries refused,"
		" %llu reached the victim; live tokens now %llu",
		(unsigned long long)sh->grants, (unsigned long long)sh->redeems,
		(unsigned long long)sh->carries_refused,
		(unsigned long long)sh->carries_ok,
		(unsigned long long)s.tokens);
	CHECK(sends > 0 && vr.frames > 0);
	CHECK(v1 - v0 < VICTIM_SLACK);
	CHECK(vr.max_ms < WAKE_BOUND_MS);
	CHECK(sh->grants > 0);
	CHECK_EQ(sh->carries_ok, 0);
	CHECK(sh->carries_refused > 0);
	CHECK_EQ(s.tokens, 0);
	pgt_close(&tx);
	pgt_close(&vr.ep);
	pgt_buf_free(&f);
	pgt_buf_free(&own);
	return PGT_PASS;
}

int main(int argc, char **argv)
{
	static const struct pgt_test tests[] = {
		PGT_TEST(test_hostile, "a hostile user (nobody, own memcg) cannot make the victim pay, wait or take carries"),
	};

	st_init(argc, argv, 5);
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
