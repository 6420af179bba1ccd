// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * pg serve and pg call: functions as a service on worker groups
 * (docs/protocols/pg-function-call-v1.md). A worker joins a group with
 * attestation, so the kernel tells it who called; it runs a command per
 * call (or feeds one long-lived command a CBOR sequence of calls) and
 * carries the reply back to the caller's endpoint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pg.h"

#define STDERR_KEEP	4096	/* bytes of a command's stderr in a reply */
#define CALL_TIMEOUT_MS	10000	/* pg call's default wait */
/* Room the reply envelope and the carry request around it take. */
#define REPLY_OVERHEAD	192

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail_result(struct pg_result *res, int err, const char *reason)
{
	res->outcome = PG_NOT_PROMISED;
	res->err = err;
	free(res->reason);
	res->reason = strdup(reason);
}

/* Starts argv with pipes to its stdin and from its stdout (and stderr). */
static int spawn(char **argv, int *in, int *out, int *err, pid_t *pid)
{
	int pin[2], pout[2], perr[2] = { -1, -1 }, pexec[2], e = 0;
	ssize_t n;

	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) ||
	    (err && pipe2(perr, O_CLOEXEC)) || pipe2(pexec, O_CLOEXEC))
		return -errno;
	*pid = fork();
	if (*pid < 0)
		return -errno;
	if (*pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		if (err)
			dup2(perr[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		e = errno;
		n = write(pexec[1], &e, sizeof(e));
		(void)n;
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	if (err)
		close(perr[1]);
	close(pexec[1]);
	/* The exec pipe closes on exec, or carries exec's errno. */
	n = read(pexec[0], &e, sizeof(e));
	close(pexec[0]);
	if (n == sizeof(e)) {
		waitpid(*pid, NULL, 0);
		close(pin[1]);
		close(pout[0]);
		if (err)
			close(perr[0]);
		return -e;
	}
	*in = pin[1];
	*out = pout[0];
	if (err)
		*err = perr[0];
	return 0;
}

/* Runs argv once with body on stdin: the reply in *res. */
static void run_once(char **argv, const uint8_t *body, size_t len,
		     int timeout_ms, size_t max_out, struct pg_result *res)
{
	struct pg_buf out = { 0 }, errb = { 0 };
	int in, fo, fe, status = 0, left;
	struct pollfd p[3];
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t sent = 0;
	uint8_t chunk[65536];
	bool too_big = false, timed_out = false;
	pid_t pid;
	ssize_t n;
	int e;

	memset(res, 0, sizeof(*res));
	res->status = res->signal = -1;
	e = spawn(argv, &in, &fo, &fe, &pid);
	if (e) {
		char why[256];

		snprintf(why, sizeof(why), "cannot run %s: %s", argv[0],
			 strerror(-e));
		fail_result(res, ENOEXEC, why);
		return;
	}
	fcntl(in, F_SETFL, O_NONBLOCK);
	if (!len) {
		close(in);
		in = -1;
	}
	while (fo >= 0 || fe >= 0) {
		p[0] = (struct pollfd){ .fd = in, .events = POLLOUT };
		p[1] = (struct pollfd){ .fd = fo, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = fe, .events = POLLIN };
		left = deadline < 0 ? -1 : (int)(deadline - now_ms());
		if (deadline >= 0 && left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(p, 3, left) < 0 && errno != EINTR)
			break;
		if (in >= 0 && p[0].revents) {
			n = write(in, body + sent, len - sent);
			if (n > 0)
				sent += n;
			if ((n < 0 && errno != EAGAIN) || sent == len) {
				close(in);	/* done, or the command stopped reading */
				in = -1;
			}
		}
		if (fo >= 0 && p[1].revents) {
			n = read(fo, chunk, sizeof(chunk));
			if (n <= 0) {
				close(fo);
				fo = -1;
			} else if (out.len + n > max_out) {
				too_big = true;
				break;
			} else {
				pg_buf_put(&out, chunk, n);
			}
		}
		if (fe >= 0 && p[2].revents) {
			n = read(fe, chunk, sizeof(chunk));
			if (n <= 0) {
				close(fe);
				fe = -1;
			} else if (errb.len < STDERR_KEEP) {
				pg_buf_put(&errb, chunk, errb.len + n > STDERR_KEEP ?
					   STDERR_KEEP - errb.len : (size_t)n);
			}
		}
	}
	if (too_big || timed_out)
		kill(pid, SIGKILL);
	if (in >= 0)
		close(in);
	if (fo >= 0)
		close(fo);
	if (fe >= 0)
		close(fe);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (too_big) {
		fail_result(res, EMSGSIZE, "the output does not fit in one frame");
	} else if (timed_out) {
		fail_result(res, ETIME, "the function ran out of time");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		res->outcome = PG_KEPT;
		res->data = out.p;
		res->len = out.len;
		out = (struct pg_buf){ 0 };
	} else {
		fail_result(res, EREMOTEIO, WIFSIGNALED(status) ?
			    "the function was killed by a signal" :
			    "the function exited with an error");
		if (WIFEXITED(status))
			res->status = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			res->signal = WTERMSIG(status);
	}
	if (res->outcome != PG_KEPT && errb.len) {
		res->err_out = errb.p;
		res->err_len = errb.len;
		errb = (struct pg_buf){ 0 };
	}
	pg_buf_free(&out);
	pg_buf_free(&errb);
}

/* One long-lived command speaking CBOR on stdin and stdout. */
struct stdio_worker {
	int in, out;
	pid_t pid;
	struct pg_buf buf;	/* what it wrote and we have not used */
};

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= w;
	}
	return true;
}

/* Feeds the call to the worker and reads its one reply item. */
static void run_stdio(struct stdio_worker *w, const struct pg_call *c,
		      int timeout_ms, size_t max_out, struct pg_result *res)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pollfd p = { .fd = w->out, .events = POLLIN };
	uint8_t chunk[65536];
	cbor_item_t *it;
	struct cbor_load_result lr;
	ssize_t n, len;
	uint64_t v;
	int left;

	memset(res, 0, sizeof(*res));
	res->status = res->signal = -1;
	if (!write_all(w->in, c->frame, c->frame_len)) {
		fail_result(res, EREMOTEIO, "the worker stopped reading its calls");
		return;
	}
	while ((len = pg_item_len(w->buf.p, w->buf.len, false)) < 0) {
		left = deadline < 0 ? -1 : (int)(deadline - now_ms());
		if (w->buf.len > max_out) {
			fail_result(res, EMSGSIZE, "the reply does not fit in one frame");
			return;
		}
		if ((deadline >= 0 && left <= 0) || poll(&p, 1, left) == 0) {
			fail_result(res, ETIME, "the worker did not answer in time");
			return;
		}
		n = read(w->out, chunk, sizeof(chunk));
		if (n <= 0) {
			fail_result(res, EREMOTEIO, "the worker exited");
			return;
		}
		pg_buf_put(&w->buf, chunk, n);
	}
	it = cbor_load(w->buf.p, (size_t)len, &lr);
	memmove(w->buf.p, w->buf.p + len, w->buf.len - (size_t)len);
	w->buf.len -= (size_t)len;
	if (it && cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it)) {
		res->outcome = PG_KEPT;
		res->len = cbor_bytestring_length(it);
		res->data = malloc(res->len ? res->len : 1);
		if (res->data)
			memcpy(res->data, cbor_bytestring_handle(it), res->len);
	} else if (it && cbor_isa_map(it) && !pg_map_uint(it, "errno", &v) &&
		   v && v < 4096) {
		cbor_item_t *r = pg_map_get(it, "reason");

		fail_result(res, (int)v, "the function failed");
		if (r && cbor_isa_string(r) && cbor_string_is_definite(r)) {
			free(res->reason);
			res->reason = strndup((const char *)cbor_string_handle(r),
					      cbor_string_length(r));
		}
	} else {
		fail_result(res, EPROTO, "the worker's answer is neither a byte "
			    "string nor a map with an errno");
	}
	if (it)
		cbor_decref(&it);
}

int pg_cmd_serve(struct pg_opts *o, int argc, char **argv)
{
	struct stdio_worker w = { .in = -1, .out = -1 };
	struct pg_buf frame = { 0 };
	char s[PG_CID_STR_MAX];
	struct pg_result res;
	struct pg_hello h;
	struct pg_call call;
	struct pg_cid fn;
	struct pg_msg m;
	struct pg *pg;
	size_t max_out;
	long served = 0;
	int r;

	if (argc < 3)
		return pg_usage("needs PCID GROUP -- CMD [ARG...]");
	r = pg_pcid_arg(argv[0], &fn);
	if (r)
		return r;
	signal(SIGPIPE, SIG_IGN);
	r = pg_endpoint(o, &pg);
	if (r)
		return r;
	r = pg_hello(pg, &h) ?: pg_serve_join(pg, &fn, argv[1]);
	if (r) {
		r = pg_error("join", r, pg_reason(pg));
		goto out;
	}
	max_out = h.max_frame > REPLY_OVERHEAD ? h.max_frame - REPLY_OVERHEAD : 0;
	if (o->stdio) {
		r = spawn(argv + 2, &w.in, &w.out, NULL, &w.pid);
		if (r) {
			r = pg_error(argv[2], r, "cannot run the worker");
			goto out;
		}
	}
	pg_cid_format(&fn, s, sizeof(s));
	fprintf(stderr, "pg serve: endpoint %llu serving %s in group %s\n",
		(unsigned long long)h.endpoint, s, argv[1]);
	while (!o->count || served < o->count) {
		r = pg_recv(pg, &m, -1);
		if (r < 0) {
			r = pg_error("receive", r, NULL);
			goto out;
		}
		r = 0;
		if (pg_msg_is_control(&m)) {
			fprintf(stderr, "pg serve: the kernel dropped calls: "
				"this worker's queue was full\n");
			continue;
		}
		/* Keep the call: replying receives, which reuses m's buffer. */
		frame.len = 0;
		if (pg_buf_put(&frame, m.raw, m.raw_len) ||
		    pg_msg_parse(frame.p, frame.len, &m) < 0)
			continue;
		r = pg_call_parse(&m, &call);
		if (r == -EPROTO)
			continue;	/* not attested: nobody to answer */
		if (r) {
			memset(&res, 0, sizeof(res));
			res.status = res.signal = -1;
			res.outcome = PG_MALFORMED;
			res.err = EBADMSG;
			res.reason = strdup("a call is [42(fn), nonce, body]");
		} else if (o->stdio) {
			run_stdio(&w, &call, o->timeout_ms, max_out, &res);
		} else {
			run_once(argv + 2, call.body, call.len, o->timeout_ms,
				 max_out, &res);
		}
		r = pg_serve_reply(pg, &call, &res);
		if (r)
			pg_error("reply", r, pg_reason(pg));
		pg_result_free(&res);
		served++;
		r = 0;
	}
out:
	if (w.pid > 0) {
		close(w.in);
		close(w.out);
		waitpid(w.pid, NULL, 0);
	}
	pg_buf_free(&w.buf);
	pg_buf_free(&frame);
	pg_close(pg);
	return r;
}

/*
 * pg call --attest: the reply comes in the kernel's envelope, and who
 * answered (the carrier, and the host a gateway named) goes to stderr.
 */
static int call_attested(struct pg *pg, const struct pg_cid *fn,
			 const struct pg_buf *body, int timeout_ms,
			 struct pg_result *res)
{
	struct pg_cid parent, got;
	const char *host;
	struct pg_msg m;
	size_t hlen;
	int r;

	r = pg_accept(pg, "attest", true) ?:
	    pg_call_send(pg, fn, body->p ? body->p : (uint8_t *)"", body->len,
			 &parent) ?:
	    pg_call_wait_msg(pg, &parent, timeout_ms, &m);
	if (r)
		return r;
	host = pg_msg_host(&m, &hlen);
	fprintf(stderr, "pg call: reply from endpoint %llu pid %u uid %u"
		" host %.*s\n", (unsigned long long)m.from.endpoint,
		m.from.pid, m.from.uid, host ? (int)hlen : 5,
		host ? host : "local");
	return pg_reply_parse(&m, &got, res) == 1 ? 0 : -EPROTO;
}

int pg_cmd_call(struct pg_opts *o, int argc, char **argv)
{
	struct pg_result res = { 0 };
	struct pg_buf body = { 0 };
	struct pg_cid fn;
	struct pg *pg;
	int r;

	if (argc != 1)
		return pg_usage("needs one PCID; the body comes on stdin");
	r = pg_pcid_arg(argv[0], &fn);
	if (r)
		return r;
	r = pg_read_all(0, &body, PG_MAX_FRAME_LIMIT);
	if (r)
		return pg_error("stdin", r, NULL);
	r = pg_endpoint(o, &pg);
	if (r)
		goto out;
	if (o->attest)
		r = call_attested(pg, &fn, &body, o->timeout_ms < 0 ?
				  CALL_TIMEOUT_MS : o->timeout_ms, &res);
	else
		r = pg_call(pg, &fn, body.p ? body.p : (uint8_t *)"", body.len,
			    o->timeout_ms < 0 ? CALL_TIMEOUT_MS : o->timeout_ms,
			    &res);
	if (r) {
		r = pg_error("call", r, pg_reason(pg));
	} else if (res.outcome == PG_KEPT) {
		fwrite(res.data, 1, res.len, stdout);
	} else {
		fprintf(stderr, "pg call: the function failed: %s (%s): %s",
			pg_errno_name(res.err), strerror(res.err),
			res.reason ? res.reason : "no reason given");
		if (res.status >= 0)
			fprintf(stderr, ", exit status %d", res.status);
		if (res.signal >= 0)
			fprintf(stderr, ", signal %d", res.signal);
		fputc('\n', stderr);
		if (res.err_len)
			fwrite(res.err_out, 1, res.err_len, stderr);
		r = PG_EXIT_REMOTE;
	}
	pg_result_free(&res);
	pg_close(pg);
out:
	pg_buf_free(&body);
	return r;
}
