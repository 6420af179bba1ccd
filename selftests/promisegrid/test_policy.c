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
#include <linux/bpf.h>
#include <stddef.h>
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

/* ---- the context a program sees, byte by byte --------------------------- */

static struct bpf_insn insn(__u8 code, __u8 dst, __u8 src, __s16 off,
			    __s32 imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst,
				  .src_reg = src, .off = off, .imm = imm };
}

#define REC_SLOTS	16	/* key: op, + 8 when the pCID is claimed */

/*
 * A program that copies every context it is given into an array map,
 * at op + 8 * claimed, and writes nothing into the context. Written as
 * instructions, so the test needs no BPF compiler in the guest.
 */
static int recorder_attach(int *map, int *prog, int *link)
{
	struct bpf_insn p[64];
	static char log[8192];
	union bpf_attr a;
	int n = 0, i, exit_at, err;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = sizeof(__u32);
	a.value_size = sizeof(struct pg_authz);
	a.max_entries = REC_SLOTS;
	*map = pgt_bpf(BPF_MAP_CREATE, &a);
	if (*map < 0)
		return -errno;

	p[n++] = insn(BPF_LDX | BPF_MEM | BPF_DW, 6, 1, 0, 0);
	p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, 2, 6,
		      offsetof(struct pg_authz, op), 0);
	p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, 3, 6,
		      offsetof(struct pg_authz, claimed), 0);
	p[n++] = insn(BPF_ALU64 | BPF_LSH | BPF_K, 3, 0, 0, 3);
	p[n++] = insn(BPF_ALU64 | BPF_ADD | BPF_X, 2, 3, 0, 0);
	p[n++] = insn(BPF_STX | BPF_MEM | BPF_W, 10, 2, -4, 0);
	p[n++] = insn(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0,
		      *map);
	p[n++] = insn(0, 0, 0, 0, 0);
	p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0);
	p[n++] = insn(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4);
	p[n++] = insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	exit_at = n;
	p[n++] = insn(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0, 0);
	for (i = 0; i < (int)sizeof(struct pg_authz); i += 8) {
		p[n++] = insn(BPF_LDX | BPF_MEM | BPF_DW, 3, 6, i, 0);
		p[n++] = insn(BPF_STX | BPF_MEM | BPF_DW, 0, 3, i, 0);
	}
	p[exit_at].off = n - exit_at - 1;
	p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

	err = pgt_authz_attach(p, n, prog, link, log, sizeof(log));
	if (err && *prog < 0)
		pgt_diag("verifier: %s", log);
	return err;
}

static int recorded(int map, __u32 op, bool claimed, struct pg_authz *out)
{
	__u32 key = op + (claimed ? 8 : 0);
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = map;
	a.key = (uintptr_t)&key;
	a.value = (uintptr_t)out;
	return pgt_bpf(BPF_MAP_LOOKUP_ELEM, &a) ? -errno : 0;
}

/* FNV-1a 64, as the uapi header defines pcid_hash. */
static __u64 fnv1a64(const uint8_t *p, size_t n)
{
	__u64 h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Every field of a context the module built, @want less what varies. */
static int check_context(const char *what, const struct pg_authz *got,
			 const struct pg_authz *want)
{
	if (!memcmp(got, want, sizeof(*got)))
		return 0;
	pgt_diag("%s: op %u/%u builtin %u/%u verdict %u/%u stamp %#x/%#x endpoint %llu/%llu",
		 what, got->op, want->op, got->builtin, want->builtin,
		 got->verdict, want->verdict, got->stamp, want->stamp,
		 (unsigned long long)got->endpoint,
		 (unsigned long long)want->endpoint);
	pgt_diag("%s: cgroup %llu/%llu pid %u/%u uid %u/%u gid %u/%u rights %#x/%#x source %u/%u",
		 what, (unsigned long long)got->cgroup_id,
		 (unsigned long long)want->cgroup_id, got->pid, want->pid,
		 got->uid, want->uid, got->gid, want->gid, got->rights,
		 want->rights, got->source, want->source);
	pgt_diag("%s: depth %u/%u expires %llu/%llu wanted %#x/%#x frame_len %u/%u hash %llx/%llx pcid_len %u/%u claimed %u/%u pcid %s",
		 what, got->token_depth, want->token_depth,
		 (unsigned long long)got->token_expires_ns,
		 (unsigned long long)want->token_expires_ns,
		 got->rights_wanted, want->rights_wanted, got->frame_len,
		 want->frame_len, (unsigned long long)got->pcid_hash,
		 (unsigned long long)want->pcid_hash, got->pcid_len,
		 want->pcid_len, got->claimed, want->claimed,
		 memcmp(got->pcid, want->pcid, sizeof(got->pcid)) ?
		 "differs" : "same");
	return -1;
}

static struct pg_authz context_of(__u32 op, __u64 endpoint, __u64 cgroup_id,
				  const struct pgt_cid *c, __u32 wanted,
				  __u32 frame_len, bool claimed)
{
	struct pg_authz a;

	memset(&a, 0, sizeof(a));
	a.op = op;
	a.builtin = PG_VERDICT_ALLOW;
	a.verdict = PG_VERDICT_ALLOW;
	a.endpoint = endpoint;
	a.cgroup_id = cgroup_id;
	a.pid = getpid();
	a.uid = geteuid();
	a.gid = getegid();
	a.rights = PG_RIGHTS_ALL;
	a.source = claimed ? PG_SRC_CLAIM : PG_SRC_OPEN;
	a.rights_wanted = wanted;
	a.frame_len = frame_len;
	a.pcid_hash = fnv1a64(c->b, c->len);
	a.pcid_len = c->len;
	memcpy(a.pcid, c->b, c->len < sizeof(a.pcid) ? c->len : sizeof(a.pcid));
	a.claimed = claimed;
	return a;
}

/* The context recorded for want's op and claimed, compared with want. */
static int expect_recorded(int map, const char *what,
			   const struct pg_authz *want)
{
	struct pg_authz got;

	if (recorded(map, want->op, want->claimed, &got)) {
		pgt_diag("%s: no context recorded", what);
		return -1;
	}
	return check_context(what, &got, want);
}

/*
 * The module builds each context without zeroing it first (it is on the
 * message path): every byte must still be the module's. One program
 * records every context; the test compares each with what it must be,
 * for an open pCID (a receive, a send, its delivery: the frame's route
 * gives the pCID bytes there, the request its own), one longer than the
 * context's 40 bytes, and a claimed one.
 */
static int t_context_bytes(const void *arg)
{
	int map = -1, prog = -1, link = -1, ret = PGT_FAIL, err;
	uint64_t ida, idb, cg;
	struct pg_authz got, want;
	struct pgt_cid c, cl, lng;
	struct pgt_ep a, b;
	__u32 flen;
	size_t i;

	(void)arg;
	/* short: most of the context's 40 pCID bytes are the zero tail */
	c = (struct pgt_cid){ .len = 6, .b = { 0x01, 0x55, 0x00, 0x02, 'p', 'x' } };
	pgt_cid_named(&cl, "policy context claimed");
	/* long (sha2-512, 68 bytes): the context has its first 40 */
	lng = (struct pgt_cid){ .len = 68, .b = { 0x01, 0x55, 0x13, 0x40 } };
	for (i = 4; i < lng.len; i++)
		lng.b[i] = 0xa0 + i;
	unload_all();
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_hello(&a, &ida), 0);
	CHECK_EQ(pgt_hello(&b, &idb), 0);
	err = recorder_attach(&map, &prog, &link);
	if (err) {
		pgt_diag("attaching the recorder: %s", strerror(-err));
		goto out;
	}
	/*
	 * A long pCID's receive, then the short one's: a tail of the short
	 * one's context left unwritten shows the long one's bytes if both
	 * land on the same stack (seen once; Debian's stack zeroing and the
	 * randomized stack offset make it rare, so the static_assert and
	 * pg_authz_fill()'s store per field stay the guarantee).
	 */
	if (pgt_receive(&b, &lng, NULL, false) ||
	    pgt_receive(&b, &c, NULL, false) ||
	    recorded(map, PG_OP_RECEIVE, false, &got))
		goto out;
	/* the cgroup id is the opener's: taken from the first record */
	cg = got.cgroup_id;
	want = context_of(PG_OP_RECEIVE, idb, cg, &c, PG_RIGHT_RECEIVE, 0,
			  false);
	if (check_context("receive", &got, &want))
		goto out;
	flen = pgt_frame_msg_len(&c, 7);
	if (pgt_send_msg(&a, &c, 7) < 0 || pgt_expect_msg(&b, &c, 7))
		goto out;
	want = context_of(PG_OP_SEND, ida, cg, &c, PG_RIGHT_SEND, flen, false);
	if (expect_recorded(map, "send", &want))
		goto out;
	want = context_of(PG_OP_DELIVER, idb, cg, &c, PG_RIGHT_RECEIVE, flen,
			  false);
	if (expect_recorded(map, "deliver", &want))
		goto out;

	/* a pCID longer than the context's 40 bytes: its first 40 */
	flen = pgt_frame_msg_len(&lng, 9);
	if (pgt_send_msg(&a, &lng, 9) < 0 || pgt_expect_msg(&b, &lng, 9))
		goto out;
	want = context_of(PG_OP_SEND, ida, cg, &lng, PG_RIGHT_SEND, flen,
			  false);
	if (expect_recorded(map, "send, long pCID", &want))
		goto out;
	want = context_of(PG_OP_DELIVER, idb, cg, &lng, PG_RIGHT_RECEIVE, flen,
			  false);
	if (expect_recorded(map, "deliver, long pCID", &want))
		goto out;

	/* claimed: the claimer receives and sends on it itself */
	flen = pgt_frame_msg_len(&cl, 8);
	if (claim(&a, &cl) ||
	    pgt_receive(&a, &cl, NULL, false) ||
	    pgt_send_msg(&a, &cl, 8) < 0 || pgt_expect_msg(&a, &cl, 8))
		goto out;
	want = context_of(PG_OP_SEND, ida, cg, &cl, PG_RIGHT_SEND, flen, true);
	if (expect_recorded(map, "send, claimed", &want))
		goto out;
	want = context_of(PG_OP_DELIVER, ida, cg, &cl, PG_RIGHT_RECEIVE, flen,
			  true);
	if (expect_recorded(map, "deliver, claimed", &want))
		goto out;
	ret = PGT_PASS;
out:
	if (link >= 0)
		close(link);
	if (prog >= 0)
		close(prog);
	if (map >= 0)
		close(map);
	pgt_close(&a);
	pgt_close(&b);
	return ret;
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
		PGT_TEST(t_context_bytes, "every byte of a send's, a delivery's and a receive's context is the module's"),
		PGT_TEST(t_stacked, "stacked default + uid-allow: only added denials, none lifted"),
		PGT_TEST(t_rmmod_pinned, "rmmod is refused while a policy link holds the module"),
	};

	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
