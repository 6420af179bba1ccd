// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Description: libpromisegrid against the module, in the VM: send and
 * receive, batches, io_uring with registered buffers, control errors with
 * the kernel's text, capabilities, and functions served by `pg serve`
 * workers (replies, error replies, timeouts, load spread over two).
 * Needs pg on PATH. TAP from the selftests' runner (selftests/lib/pgt_runner.h):
 * each test in a process group of its own, so the workers it started die
 * with it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libpromisegrid-cbor.h"
#include "pgt_runner.h"

#define WAIT_MS		5000
/* Seconds one test may take; PG_TEST_TIMEOUT overrides (debug kernels). */
#define TEST_SECONDS	60

/* A pCID of our own for each test. */
static void cid(struct pg_cid *c, const char *name)
{
	pg_cid_of(name, strlen(name), c);
}

static int t_hello(const void *arg)
{
	struct pg_hello h;
	struct pg *pg;

	(void)arg;
	CHECK_EQ(pg_open(&pg, 0), 0);
	CHECK_EQ(pg_hello(pg, &h), 0);
	CHECK_EQ(h.version, 4);
	CHECK(h.endpoint > 0);
	CHECK(h.max_frame >= 64);
	pg_close(pg);
	return 0;
}

static int t_send_recv(const void *arg)
{
	cbor_item_t *slots[2] = { cbor_build_string("hi"), cbor_build_uint64(1) };
	struct pg_buf want = { 0 };
	struct pg *a, *b;
	struct pg_msg m;
	struct pg_cid c;
	struct pg_hello h;

	(void)arg;
	cid(&c, "t_send_recv");
	CHECK_EQ(pg_open(&a, 0), 0);
	CHECK_EQ(pg_open(&b, 0), 0);
	CHECK_EQ(pg_receive(b, &c, NULL, true), 0);
	CHECK_EQ(pg_send_slots(a, &c, slots, 2), 0);
	CHECK_EQ(pg_frame_encode(&want, &c, slots, 2), 0);
	CHECK_EQ(pg_recv(b, &m, WAIT_MS), 1);
	CHECK(m.attested);
	CHECK(m.frame_len == want.len && !memcmp(m.frame, want.p, want.len));
	CHECK_EQ(pg_hello(a, &h), 0);
	CHECK_EQ(m.from.endpoint, h.endpoint);
	CHECK_EQ(m.from.pid, getpid());
	CHECK_EQ(pg_recv(b, &m, 0), -ETIMEDOUT);
	cbor_decref(&slots[0]);
	cbor_decref(&slots[1]);
	pg_buf_free(&want);
	pg_close(a);
	pg_close(b);
	return 0;
}

static int t_batch(const void *arg)
{
	struct pg_batch batch = { 0 };
	struct pg_msg msgs[64];
	struct pg_cid c, nobody;
	struct pg *a, *b;
	size_t accepted;
	ssize_t n;
	int i;

	(void)arg;
	cid(&c, "t_batch");
	cid(&nobody, "t_batch nobody");
	CHECK_EQ(pg_open(&a, 0), 0);
	CHECK_EQ(pg_open(&b, 0), 0);
	CHECK_EQ(pg_receive(b, &c, NULL, false), 0);
	for (i = 0; i < 32; i++) {
		cbor_item_t *s = cbor_build_uint64(i);

		CHECK_EQ(pg_batch_add_slots(&batch, &c, &s, 1), 0);
		cbor_decref(&s);
	}
	CHECK_EQ(pg_batch_send(a, &batch, &accepted), 32);
	CHECK_EQ(accepted, 32);
	/* One read returns all 32, in order. */
	n = pg_recv_batch(b, msgs, 64, WAIT_MS);
	CHECK_EQ(n, 32);
	for (i = 0; i < 32; i++) {
		cbor_item_t *s = pg_msg_slot(&msgs[i], 1);

		CHECK(s && cbor_get_int(s) == (uint64_t)i);
		cbor_decref(&s);
	}
	/* A frame nobody receives in the middle: the ones before it went. */
	pg_batch_reset(&batch);
	for (i = 0; i < 3; i++) {
		cbor_item_t *s = cbor_build_uint64(i);

		CHECK_EQ(pg_batch_add_slots(&batch, i == 2 ? &nobody : &c, &s, 1), 0);
		cbor_decref(&s);
	}
	CHECK_EQ(pg_batch_send(a, &batch, &accepted), -EHOSTUNREACH);
	CHECK_EQ(accepted, 2);
	CHECK_EQ(pg_recv_batch(b, msgs, 64, WAIT_MS), 2);
	pg_batch_free(&batch);
	pg_close(a);
	pg_close(b);
	return 0;
}

static int t_control_errors(const void *arg)
{
	struct pg_cid c;
	struct pg *pg;

	(void)arg;
	cid(&c, "t_control_errors");
	CHECK_EQ(pg_open(&pg, 0), 0);
	CHECK_EQ(pg_request(pg, "frobnicate", NULL, NULL), -EBADRQC);
	CHECK(!strcmp(pg_reason(pg), "unknown verb"));
	CHECK_EQ(pg_receive(pg, &c, NULL, false), 0);
	CHECK_EQ(pg_receive(pg, &c, NULL, false), -EEXIST);
	CHECK(strlen(pg_reason(pg)) > 0);
	CHECK_EQ(pg_unreceive(pg, &c, "nogroup"), -ENOENT);
	CHECK_EQ(pg_receive(pg, &pg_pcid_control, NULL, false), -EPERM);
	/* carry: the frame is checked first, then the target. */
	CHECK_EQ(pg_carry(pg, 1, "x", 1), -EPROTO);
	{
		struct pg_buf f = { 0 };

		CHECK_EQ(pg_call_frame(&f, &c, 1, "", 0, NULL), 0);
		CHECK_EQ(pg_carry(pg, 0xffffffffffull, f.p, f.len), -ESRCH);
		pg_buf_free(&f);
	}
	pg_close(pg);
	return 0;
}

static int t_uring(const void *arg)
{
	struct pg_completion comp[16];
	struct pg_ring *ring;
	struct pg_buf f = { 0 };
	struct pg *a, *b;
	struct pg_cid c;
	struct pg_msg m;
	int i, sends = 0, frames = 0, n, k;
	size_t off;
	cbor_item_t *s = cbor_build_string("ring");

	(void)arg;
	cid(&c, "t_uring");
	CHECK_EQ(pg_open(&a, 0), 0);
	CHECK_EQ(pg_open(&b, 0), 0);
	CHECK_EQ(pg_receive(b, &c, NULL, false), 0);
	CHECK_EQ(pg_frame_encode(&f, &c, &s, 1), 0);
	CHECK_EQ(pg_ring_open(&ring, a, 16), 0);
	CHECK_EQ(pg_ring_register_buffers(ring, 4, 4096), 0);
	memcpy(pg_ring_buf(ring, 0), f.p, f.len);
	for (i = 0; i < 4; i++)
		CHECK_EQ(pg_ring_send(ring, f.p, f.len, 100 + i), 0);
	for (i = 0; i < 4; i++)
		CHECK_EQ(pg_ring_send_fixed(ring, 0, f.len, 200 + i), 0);
	CHECK_EQ(pg_ring_submit(ring), 8);
	while (sends < 8) {
		n = pg_ring_wait(ring, comp, 16, WAIT_MS);
		CHECK(n > 0);
		for (k = 0; k < n; k++) {
			CHECK(!comp[k].recv);
			CHECK_EQ(comp[k].res, f.len);
			sends++;
		}
	}
	pg_ring_close(ring);
	/* Receive the 8 through a ring on b, into a registered buffer. */
	CHECK_EQ(pg_ring_open(&ring, b, 4), 0);
	CHECK_EQ(pg_ring_register_buffers(ring, 1, 65536), 0);
	while (frames < 8) {
		CHECK_EQ(pg_ring_recv_fixed(ring, 0, 7), 0);
		CHECK_EQ(pg_ring_submit(ring), 1);
		CHECK_EQ(pg_ring_wait(ring, comp, 1, WAIT_MS), 1);
		CHECK(comp[0].recv && comp[0].user_data == 7 && comp[0].res > 0);
		off = 0;
		while (pg_completion_next(&comp[0], &off, &m) == 1) {
			CHECK(m.frame_len == f.len && !memcmp(m.frame, f.p, f.len));
			frames++;
		}
	}
	CHECK_EQ(frames, 8);
	pg_ring_close(ring);
	cbor_decref(&s);
	pg_buf_free(&f);
	pg_close(a);
	pg_close(b);
	return 0;
}

static int t_caps(const void *arg)
{
	uint8_t token[PG_TOKEN_LEN];
	struct pg *owner, *other, *rx;
	struct pg_cid c, got;
	uint32_t rights;
	uint64_t tokens, holders;
	cbor_item_t *s = cbor_build_uint64(1);

	(void)arg;
	cid(&c, "t_caps");
	CHECK_EQ(pg_open(&owner, 0), 0);
	CHECK_EQ(pg_open(&other, 0), 0);
	CHECK_EQ(pg_open(&rx, 0), 0);
	CHECK_EQ(pg_claim(owner, &c, &rights), 0);
	CHECK_EQ(rights, PG_RIGHTS_ALL);
	CHECK_EQ(pg_receive(rx, &c, NULL, false), -EACCES);
	CHECK_EQ(pg_receive(owner, &c, NULL, false), 0);
	CHECK_EQ(pg_send_slots(other, &c, &s, 1), -EACCES);
	CHECK_EQ(pg_grant(owner, &c, PG_RIGHT_SEND, 0, token, &rights), 0);
	CHECK_EQ(rights, PG_RIGHT_SEND);
	CHECK_EQ(pg_redeem(other, token, &got, &rights), 0);
	CHECK(pg_cid_eq(&got, &c));
	CHECK_EQ(pg_send_slots(other, &c, &s, 1), 0);
	CHECK_EQ(pg_revoke(owner, token, &tokens, &holders), 0);
	CHECK_EQ(tokens, 1);
	CHECK_EQ(holders, 1);
	CHECK_EQ(pg_send_slots(other, &c, &s, 1), -EACCES);
	CHECK_EQ(pg_redeem(rx, token, &got, &rights), -EACCES);
	cbor_decref(&s);
	pg_close(owner);
	pg_close(other);
	pg_close(rx);
	return 0;
}

/* ---- functions served by pg serve ------------------------------------- */

static pid_t workers[8];
static int nworkers;

/* Starts `pg serve [opts] PCID GROUP -- sh -c SCRIPT`; waits until it serves. */
static int start_worker(const char *pcid_hex, const char *group,
			const char *opt, const char *script)
{
	char line[512];
	int p[2];
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		if (opt)
			execlp("pg", "pg", "serve", opt, pcid_hex, group, "--",
			       "sh", "-c", script, (char *)NULL);
		else
			execlp("pg", "pg", "serve", pcid_hex, group, "--",
			       "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	/* Its first line on stderr says it joined the group. */
	while (len < sizeof(line) - 1 &&
	       (n = read(p[0], line + len, sizeof(line) - 1 - len)) > 0) {
		len += n;
		line[len] = '\0';
		if (strchr(line, '\n'))
			break;
	}
	close(p[0]);
	workers[nworkers++] = pid;
	if (!strstr(line, "serving")) {
		printf("# pg serve said: %s\n", line);
		return -1;
	}
	return 0;
}

static void stop_workers(void)
{
	while (nworkers > 0) {
		kill(workers[--nworkers], SIGKILL);
		waitpid(workers[nworkers], NULL, 0);
	}
}

static void hex_of(const struct pg_cid *c, char *s)
{
	size_t i;

	for (i = 0; i < c->len; i++)
		sprintf(s + 2 * i, "%02x", c->b[i]);
}

static int t_call_spread(const void *arg)
{
	struct pg_cid fn, parents[20];
	struct pg_result r;
	int a = 0, b = 0, i;
	char hex[2 * PG_CID_MAX + 1];
	struct pg *pg;

	(void)arg;
	cid(&fn, "t_call_spread: word count");
	hex_of(&fn, hex);
	CHECK_EQ(start_worker(hex, "wc", NULL, "printf 'A '; wc -w"), 0);
	CHECK_EQ(start_worker(hex, "wc", NULL, "printf 'B '; wc -w"), 0);
	CHECK_EQ(pg_open(&pg, 0), 0);
	/* Twenty calls in flight at once, then their replies by parent. */
	for (i = 0; i < 20; i++)
		CHECK_EQ(pg_call_send(pg, &fn, "one two three", 13, &parents[i]), 0);
	for (i = 19; i >= 0; i--) {
		CHECK_EQ(pg_call_wait(pg, &parents[i], WAIT_MS * 2, &r), 0);
		CHECK_EQ(r.outcome, PG_KEPT);
		CHECK(r.len >= 3 && !memcmp(r.data + 1, " 3", 2));
		a += r.data[0] == 'A';
		b += r.data[0] == 'B';
		pg_result_free(&r);
	}
	printf("# worker A served %d calls, worker B %d\n", a, b);
	CHECK_EQ(a + b, 20);
	CHECK(a >= 5 && b >= 5);
	pg_close(pg);
	stop_workers();
	return 0;
}

static int t_call_errors(const void *arg)
{
	struct pg_cid fn, slow, nobody;
	char hex[2 * PG_CID_MAX + 1];
	struct pg_result r = { 0 };
	struct pg *pg;

	(void)arg;
	cid(&fn, "t_call_errors: fails");
	cid(&slow, "t_call_errors: slow");
	cid(&nobody, "t_call_errors: nobody");
	hex_of(&fn, hex);
	CHECK_EQ(start_worker(hex, "g", NULL, "echo broken >&2; exit 3"), 0);
	hex_of(&slow, hex);
	CHECK_EQ(start_worker(hex, "g", "--timeout=300", "sleep 10"), 0);
	CHECK_EQ(pg_open(&pg, 0), 0);
	CHECK_EQ(pg_call(pg, &fn, "x", 1, WAIT_MS, &r), 0);
	CHECK_EQ(r.outcome, PG_NOT_PROMISED);
	CHECK_EQ(r.err, EREMOTEIO);
	CHECK_EQ(r.status, 3);
	CHECK(r.err_len == 7 && !memcmp(r.err_out, "broken\n", 7));
	pg_result_free(&r);
	CHECK_EQ(pg_call(pg, &slow, "x", 1, WAIT_MS, &r), 0);
	CHECK_EQ(r.outcome, PG_NOT_PROMISED);
	CHECK_EQ(r.err, ETIME);
	pg_result_free(&r);
	CHECK_EQ(pg_call(pg, &nobody, "x", 1, WAIT_MS, &r), -EHOSTUNREACH);
	CHECK(strstr(pg_reason(pg), "no worker"));
	pg_close(pg);
	stop_workers();
	return 0;
}

/*
 * A worker that closes with the call unread: pg_call_wait() ends at once
 * with EPIPE (the kernel's unread notice names the call), not at the
 * timeout.
 */
static int t_call_worker_died(const void *arg)
{
	struct pg_result r = { 0 };
	struct pg_cid fn, parent;
	struct timespec t0, t1;
	struct pg *pg, *w;
	double took;

	(void)arg;
	cid(&fn, "lib client: the worker dies");
	CHECK_EQ(pg_open(&pg, 0), 0);
	CHECK_EQ(pg_open(&w, 0), 0);
	CHECK_EQ(pg_serve_join(w, &fn, "g"), 0);
	CHECK_EQ(pg_call_send(pg, &fn, "x", 1, &parent), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pg_close(w);
	CHECK_EQ(pg_call_wait(pg, &parent, 30000, &r), -EPIPE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# EPIPE after %.3f s (timeout 30 s): %s\n", took, pg_reason(pg));
	CHECK(took < 5);
	CHECK(strstr(pg_reason(pg), "unread"));
	pg_close(pg);
	return 0;
}

/*
 * pg_call_wait_msg() (LIBPROMISEGRID_1.2): the reply as delivered, here
 * attested by the kernel with the worker's endpoint and pid and no host
 * (a local worker); pg_reply_parse() reads it as pg_call_wait() would.
 */
static int t_call_wait_msg(const void *arg)
{
	struct pg_result res = { .outcome = PG_KEPT, .data = (uint8_t *)"ok",
				 .len = 2, .status = -1, .signal = -1 }, got;
	struct pg_cid fn, parent, p2;
	struct pg_call c;
	struct pg_hello h;
	struct pg *pg, *w;
	struct pg_msg m;
	size_t hlen;

	(void)arg;
	cid(&fn, "lib client: who answered");
	CHECK_EQ(pg_open(&pg, 0), 0);
	CHECK_EQ(pg_open(&w, 0), 0);
	CHECK_EQ(pg_hello(w, &h), 0);
	CHECK_EQ(pg_serve_join(w, &fn, "g"), 0);
	CHECK_EQ(pg_accept(pg, "attest", true), 0);
	CHECK_EQ(pg_call_send(pg, &fn, "hi", 2, &parent), 0);
	CHECK_EQ(pg_recv(w, &m, WAIT_MS), 1);
	CHECK_EQ(pg_call_parse(&m, &c), 0);
	CHECK(c.len == 2 && !memcmp(c.body, "hi", 2));
	CHECK_EQ(pg_serve_reply(w, &c, &res), 0);
	CHECK_EQ(pg_call_wait_msg(pg, &parent, WAIT_MS, &m), 0);
	CHECK(m.attested);
	CHECK_EQ(m.from.endpoint, h.endpoint);
	CHECK_EQ(m.from.pid, getpid());
	CHECK(pg_msg_host(&m, &hlen) == NULL);
	CHECK_EQ(pg_reply_parse(&m, &p2, &got), 1);
	CHECK(pg_cid_eq(&p2, &parent));
	CHECK(got.outcome == PG_KEPT && got.len == 2 && !memcmp(got.data, "ok", 2));
	pg_result_free(&got);
	/* Nobody answers a call that was never sent: the timeout. */
	cid(&p2, "lib client: no such call");
	CHECK_EQ(pg_call_wait_msg(pg, &p2, 100, &m), -ETIMEDOUT);
	pg_close(w);
	pg_close(pg);
	return 0;
}

/*
 * pg_carry_send() (LIBPROMISEGRID_1.3): the frame arrives exact and the
 * carrier gets no answer; a carry that fails fails the write, and its
 * answer, queued all the same, is one pg_msg_failed_request() knows.
 */
static int t_carry_send(const void *arg)
{
	struct pg_buf f = { 0 };
	struct pg_hello h;
	struct pg *pg, *w;
	struct pg_cid c;
	struct pg_msg m;
	int err = 0;

	(void)arg;
	cid(&c, "lib client: carry without waiting");
	CHECK_EQ(pg_open(&pg, 0), 0);
	CHECK_EQ(pg_open(&w, 0), 0);
	CHECK_EQ(pg_hello(pg, &h), 0);
	CHECK_EQ(pg_accept(pg, "carry", true), 0);
	CHECK_EQ(pg_call_frame(&f, &c, 7, "x", 1, NULL), 0);
	CHECK_EQ(pg_carry_send(w, h.endpoint, f.p, f.len, NULL), 0);
	CHECK_EQ(pg_recv(pg, &m, WAIT_MS), 1);
	CHECK(m.frame_len == f.len && !memcmp(m.frame, f.p, f.len));
	CHECK(!pg_msg_failed_request(&m, NULL));
	CHECK_EQ(pg_recv(w, &m, 100), -ETIMEDOUT);	/* kept: no answer */
	/* No such endpoint: answered, ESRCH. */
	CHECK_EQ(pg_carry_send(w, 0xffffffffffull, f.p, f.len, NULL), -ESRCH);
	CHECK_EQ(pg_recv(w, &m, WAIT_MS), 1);
	CHECK(pg_msg_failed_request(&m, &err));
	CHECK_EQ(err, ESRCH);
	/* Naming a host is a gateway's: EPERM here. */
	CHECK_EQ(pg_carry_send(w, h.endpoint, f.p, f.len, "elsewhere"), -EPERM);
	CHECK_EQ(pg_recv(w, &m, WAIT_MS), 1);
	CHECK(pg_msg_failed_request(&m, &err));
	CHECK_EQ(err, EPERM);
	CHECK_EQ(pg_recv(pg, &m, 100), -ETIMEDOUT);
	pg_buf_free(&f);
	pg_close(w);
	pg_close(pg);
	return 0;
}

static long uring_sq_head(void)
{
	char path[300], link[64], line[128];
	struct dirent *e;
	long head = -1;
	DIR *d = opendir("/proc/self/fd");
	FILE *f;
	ssize_t n;

	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (!strstr(link, "io_uring"))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "SqHead: %ld", &head) == 1)
				break;
		if (f)
			fclose(f);
		break;
	}
	if (d)
		closedir(d);
	return head;
}

/*
 * pg_ring_recv_multishot(): 32 frames, one write each, each read before
 * the next is sent, so 32 completions; with IORING_OP_READ_MULTISHOT
 * (Linux 6.7) all from the one SQE the kernel took. Then 12 frames with
 * 4 buffers. Older kernels: the library's re-armed reads deliver them,
 * then SKIP.
 */
static int t_uring_multishot(const void *arg)
{
	struct pg_completion comp[8];
	struct pg_ring *ring;
	struct pg_buf f = { 0 };
	struct pg *a, *b;
	struct pg_cid c;
	struct pg_msg m;
	int i, k, n, kernel, frames = 0, comps = 0;
	size_t off;
	cbor_item_t *s = cbor_build_string("multishot");

	(void)arg;
	cid(&c, "t_uring_multishot");
	CHECK_EQ(pg_open(&a, 0), 0);
	CHECK_EQ(pg_open(&b, 0), 0);
	CHECK_EQ(pg_receive(b, &c, NULL, false), 0);
	CHECK_EQ(pg_frame_encode(&f, &c, &s, 1), 0);
	CHECK_EQ(pg_ring_open(&ring, b, 8), 0);
	CHECK_EQ(pg_ring_recv_multishot(ring, 3, 4096, 9), -EINVAL);
	kernel = pg_ring_recv_multishot(ring, 4, 4096, 9);
	CHECK(kernel == 0 || kernel == 1);
	CHECK_EQ(pg_ring_recv_multishot(ring, 4, 4096, 9), -EBUSY);
	CHECK_EQ(pg_ring_submit(ring), 1);
	for (i = 0; i < 32; i++) {
		CHECK_EQ(pg_send(a, f.p, f.len), f.len);
		n = pg_ring_wait(ring, comp, 8, WAIT_MS);
		CHECK_EQ(n, 1);
		for (k = 0; k < n; k++) {
			CHECK(comp[k].recv && comp[k].user_data == 9);
			CHECK_EQ(comp[k].res, f.len);
			comps++;
			off = 0;
			while (pg_completion_next(&comp[k], &off, &m) == 1) {
				CHECK(m.frame_len == f.len &&
				      !memcmp(m.frame, f.p, f.len));
				frames++;
			}
		}
	}
	CHECK_EQ(frames, 32);
	CHECK_EQ(comps, 32);
	if (kernel)
		CHECK_EQ(uring_sq_head(), 1);
	/*
	 * More frames than buffers before a wait: the kernel runs out of
	 * buffers (-ENOBUFS ends a multishot read), the library re-arms it
	 * and no frame is lost.
	 */
	for (i = 0; i < 12; i++)
		CHECK_EQ(pg_send(a, f.p, f.len), f.len);
	while (frames < 44) {
		n = pg_ring_wait(ring, comp, 8, WAIT_MS);
		CHECK(n > 0);
		for (k = 0; k < n; k++) {
			CHECK(comp[k].recv && comp[k].user_data == 9 &&
			      comp[k].res > 0);
			off = 0;
			while (pg_completion_next(&comp[k], &off, &m) == 1)
				frames++;
		}
	}
	CHECK_EQ(frames, 44);
	pg_ring_close(ring);
	cbor_decref(&s);
	pg_buf_free(&f);
	pg_close(a);
	pg_close(b);
	if (!kernel)
		return pgt_skip("no IORING_OP_READ_MULTISHOT (Linux < 6.7); the re-armed reads delivered %d frames",
				frames);
	return 0;
}

/* ---- the tests, run by pgt_runner ------------------------------------- */

static const struct pgt_test tests[] = {
	PGT_TEST(t_hello, "hello through the library"),
	PGT_TEST(t_send_recv, "send and receive: exact bytes, kernel-attested sender"),
	PGT_TEST(t_batch, "batches: 32 frames in one write and one read; a failed frame ends the batch"),
	PGT_TEST(t_control_errors, "control errors: errno and the kernel's reason text"),
	PGT_TEST(t_uring, "io_uring: sends (plain and registered buffer) and a registered-buffer receive"),
	PGT_TEST(t_uring_multishot, "io_uring: one multishot read SQE receives 32 frames (Linux 6.7+)"),
	PGT_TEST(t_caps, "capabilities: claim, grant, redeem, revoke"),
	PGT_TEST(t_call_spread, "pg serve: 20 calls spread over two workers, replies by parent"),
	PGT_TEST(t_call_errors, "pg serve: error replies (exit status, stderr), timeouts, no worker"),
	PGT_TEST(t_call_worker_died, "a worker closes with the call unread: the call fails at once (EPIPE)"),
	PGT_TEST(t_call_wait_msg, "pg_call_wait_msg: the reply with the kernel's attestation of who answered"),
	PGT_TEST(t_carry_send, "pg_carry_send: a carry without waiting; a failure fails the write and is answered"),
};

int main(void)
{
	pgt_set_timeout(TEST_SECONDS);
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
