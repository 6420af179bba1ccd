// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: eBPF enforcement (docs/abi.md "eBPF enforcement"), with the
 * policies and loader of tools/policy. The default policy attaches to the
 * writable raw tracepoint pg_authorize and bpftool shows its program, link
 * and maps; enforcing=1 fails closed without a policy and works with one;
 * detaching it fails closed again; a denial reaches the audit ring buffer
 * and the pg_deny trace event; stacked policies only add denials (the
 * uid-allow example denies an unlisted uid that the capability rules
 * allow, and cannot lift a capability denial); rmmod is refused while a
 * policy holds the module. Needs pg-policy and bpftool on PATH.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgtest.h"

#define TRACE	"/sys/kernel/tracing/"

/* Runs a shell command; its output (up to cap bytes) into out. */
static int run(const char *cmd, char *out, size_t cap)
{
	size_t n = 0;
	FILE *p;
	int st;

	pgt_diag("$ %s", cmd);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out) {
		n = fread(out, 1, cap - 1, p);
		out[n] = 0;
	} else {
		char sink[256];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void unload_all(void)
{
	run("pg-policy unload all 2>&1", NULL, 0);
}

/*
 * Unpinning drops the last reference to a link, but newer kernels free
 * (and detach) it from a deferred context: wait until bpftool lists
 * neither a link on pg_authorize nor a policy program, 5 s at most. On
 * 7.3 the link leaves "bpftool link show" before its program leaves
 * "bpftool prog show", and a send in between is still judged by it.
 */
static int wait_detached(void)
{
	char out[16384];
	int i;

	for (i = 0; i < 50; i++) {
		if (run("bpftool link show 2>&1", out, sizeof(out)) == 0 &&
		    !strstr(out, "pg_authorize") &&
		    run("bpftool prog show 2>&1", out, sizeof(out)) == 0 &&
		    !strstr(out, "pg_policy") && !strstr(out, "pg_uid_allow"))
			return 0;
		usleep(100000);
	}
	return -1;
}

static int sh_write(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -errno;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -EIO;
}

static int claim(struct pgt_ep *ep, const struct pgt_cid *c)
{
	struct pgt_reply r = { 0 };
	struct pgt_buf args = { 0 };
	int err;

	pgt_args_pcid(&args, c, NULL, false);
	err = pgt_request(ep, pgt_next_id(), PG_VERB_CLAIM, &args, &r);
	pgt_buf_free(&args);
	return err;
}

/* Send one frame on c as uid 65534 in a child; the write's result. */
static int send_as_nobody(const struct pgt_cid *c)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct pgt_ep k;
		ssize_t r;

		if (setgid(65534) || setuid(65534) || pgt_open(&k, 0))
			_exit(100);
		r = pgt_send_msg(&k, c, 1);
		_exit(r > 0 ? 0 : r == -EACCES ? 1 : 2);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -ECHILD;
	switch (WEXITSTATUS(st)) {
	case 0:
		return 0;
	case 1:
		return -EACCES;
	default:
		return -EPROTO;
	}
}

static int t_load_bpftool(const void *arg)
{
	char out[16384];

	(void)arg;
	unload_all();
	CHECK_EQ(run("pg-policy load default 2>&1", out, sizeof(out)), 0);
	CHECK_EQ(run("bpftool prog show 2>&1", out, sizeof(out)), 0);
	CHECK(strstr(out, "raw_tracepoint_writable") &&
	      strstr(out, "name pg_policy"));
	CHECK_EQ(run("bpftool link show 2>&1", out, sizeof(out)), 0);
	CHECK(strstr(out, "raw_tracepoint") && strstr(out, "pg_authorize"));
	CHECK_EQ(run("bpftool map dump pinned /sys/fs/bpf/promisegrid/default/pg_counts 2>&1",
		     out, sizeof(out)), 0);
	CHECK(strstr(out, "\"denied\"") && strstr(out, "\"allowed\""));
	CHECK_EQ(run("bpftool map show pinned /sys/fs/bpf/promisegrid/default/pg_audit 2>&1",
		     out, sizeof(out)), 0);
	CHECK(strstr(out, "ringbuf"));
	unload_all();
	return PGT_PASS;
}

static int t_enforcing(const void *arg)
{
	struct pgt_ep a, b;
	struct pgt_cid c, closed;
	int ret = PGT_FAIL;

	(void)arg;
	pgt_cid_named(&c, "policy enforcing");
	pgt_cid_named(&closed, "policy enforcing claimed");
	unload_all();
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_param_set("enforcing", 1), 0);
	/* no policy: nothing passes, even on an open pCID */
	if (pgt_receive(&a, &c, NULL, false) != -EACCES ||
	    pgt_send_msg(&b, &c, 1) != -EACCES) {
		pgt_diag("enforcing without a policy did not fail closed");
		goto out;
	}
	/* with the default policy: the capability rules apply */
	if (run("pg-policy load default 2>&1", NULL, 0) ||
	    pgt_receive(&a, &c, NULL, false) || pgt_send_msg(&b, &c, 1) <= 0 ||
	    pgt_expect_msg(&a, &c, 1) || claim(&a, &closed) ||
	    pgt_send_msg(&b, &closed, 2) != -EACCES) {
		pgt_diag("enforcing with the default policy misbehaved");
		goto out;
	}
	/* detached: closed again */
	unload_all();
	if (wait_detached() || pgt_send_msg(&b, &c, 3) != -EACCES ||
	    !pgt_empty(&a)) {
		pgt_diag("detaching the policy did not fail closed");
		goto out;
	}
	ret = PGT_PASS;
out:
	pgt_param_set("enforcing", 0);
	unload_all();
	return ret;
}

static int t_audit_trace(const void *arg)
{
	char out[65536], want[64];
	struct pgt_ep a, b;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "policy audit");
	unload_all();
	CHECK_EQ(run("pg-policy load default 2>&1", NULL, 0), 0);
	CHECK_EQ(sh_write(TRACE "trace", ""), 0);
	CHECK_EQ(sh_write(TRACE "events/promisegrid/pg_deny/enable", "1"), 0);
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(claim(&a, &c), 0);
	CHECK_ERR(pgt_send_msg(&b, &c, 1), EACCES);
	CHECK_EQ(run("pg-policy audit --count 1 --timeout 3000 2>&1", out,
		     sizeof(out)), 0);
	CHECK(strstr(out, "deny op=send") && strstr(out, "builtin=deny"));
	/* the context names b's opener: this process, its ids */
	snprintf(want, sizeof(want), " pid=%d uid=%u ", (int)getpid(),
		 (unsigned int)geteuid());
	CHECK(strstr(out, want));
	CHECK_EQ(run("cat " TRACE "trace", out, sizeof(out)), 0);
	CHECK(strstr(out, "pg_deny:") && strstr(out, "op=1"));
	sh_write(TRACE "events/promisegrid/pg_deny/enable", "0");
	unload_all();
	return PGT_PASS;
}

static int t_stacked(const void *arg)
{
	char cmd[512], hex[2 * PG_CID_MAX + 1];
	struct pgt_ep a, r;
	struct pgt_cid c, claimed;
	size_t i;

	(void)arg;
	pgt_cid_named(&c, "policy stacked");
	pgt_cid_named(&claimed, "policy stacked claimed");
	unload_all();
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	CHECK_EQ(run("pg-policy load default 2>&1", NULL, 0), 0);
	CHECK_EQ(run("pg-policy load uid-allow 2>&1", NULL, 0), 0);
	/* before the pCID is listed, both uids may send (it is open) */
	CHECK_EQ(send_as_nobody(&c), 0);
	CHECK(pgt_expect_msg(&r, &c, 1) == 0);
	for (i = 0; i < c.len; i++)
		sprintf(hex + 2 * i, "%02x", c.b[i]);
	snprintf(cmd, sizeof(cmd), "pg-policy allow %s 0 2>&1", hex);
	CHECK_EQ(run(cmd, NULL, 0), 0);
	/* listed: uid 0 passes, uid 65534 is denied by the added rule */
	CHECK(pgt_send_msg(&a, &c, 1) > 0);
	CHECK(pgt_expect_msg(&r, &c, 1) == 0);
	CHECK_EQ(send_as_nobody(&c), -EACCES);
	CHECK(pgt_empty(&r));
	/* listing a uid cannot lift a capability denial */
	CHECK_EQ(claim(&a, &claimed), 0);
	for (i = 0; i < claimed.len; i++)
		sprintf(hex + 2 * i, "%02x", claimed.b[i]);
	snprintf(cmd, sizeof(cmd), "pg-policy allow %s 65534 2>&1", hex);
	CHECK_EQ(run(cmd, NULL, 0), 0);
	CHECK_EQ(send_as_nobody(&claimed), -EACCES);
	unload_all();
	CHECK_EQ(wait_detached(), 0);
	/* detached: the added rule is gone */
	CHECK_EQ(send_as_nobody(&c), 0);
	return PGT_PASS;
}

static int t_rmmod_pinned(const void *arg)
{
	struct stat st;

	(void)arg;
	unload_all();
	CHECK_EQ(run("pg-policy load default 2>&1", NULL, 0), 0);
	CHECK(run("rmmod promisegrid 2>&1", NULL, 0) != 0);
	CHECK_EQ(stat(PG_DEVICE_PATH, &st), 0);
	unload_all();
	CHECK_EQ(run("pg-policy status", NULL, 0), 0);
	return PGT_PASS;
}

int main(void)
{
	static const struct pgt_test tests[] = {
		PGT_TEST(t_load_bpftool, "default policy: bpftool shows the program, its raw_tracepoint link and maps"),
		PGT_TEST(t_enforcing, "enforcing: fails closed without a policy, rules apply with it, closed after detach"),
		PGT_TEST(t_audit_trace, "a denial reaches the audit ring buffer and the pg_deny event"),
		PGT_TEST(t_stacked, "stacked default + uid-allow: only added denials, none lifted"),
		PGT_TEST(t_rmmod_pinned, "rmmod is refused while a policy link holds the module"),
	};

	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
