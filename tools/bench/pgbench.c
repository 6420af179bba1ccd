// SPDX-License-Identifier: GPL-2.0-only
/*
 * pgbench: /dev/promisegrid against the kernel's own local IPC.
 *
 * Every case runs for a fixed time (--secs, 2 s; --quick 0.3 s), with the
 * same message bodies (64 B, 1 KiB, 16 KiB) for every transport. A
 * promisegrid message is grid([42(pCID), h'body']); the others carry the
 * body alone. Every process is pinned to CPU 0 (sched_setaffinity before
 * any fork): in a VM, cross-vCPU wake-ups would dominate everything else.
 *
 * - one-way throughput, one sender process and one receiver process:
 *   AF_UNIX SOCK_SEQPACKET (the reference of every ratio), SOCK_DGRAM, a
 *   pipe and a POSIX message queue, one message per syscall on each side;
 *   promisegrid one frame per write (and one per read); batched, 32 frames
 *   per write (reads of up to 32 frames); io_uring, 32 write SQEs per
 *   io_uring_enter (reads through io_uring too, up to 32 frames each).
 *   Figure: messages received per second, from the sender's start to the
 *   receiver's reading of the end marker.
 * - round trip (ping-pong, one message in flight): median and p99.
 * - fan-out 1 -> N subscribers (N = 1, 8, 64) and a worker group of 4:
 *   batched sender, deliveries read per second over all receivers.
 * - cost per frame (batched) with 1, 1 000 and 100 000 pCIDs in use: the
 *   extra pCIDs are receives held by idle endpoints.
 * - the capability / eBPF path: open pCID, claimed pCID (send right from
 *   a token), and enforcing=1 with a stamping raw_tp.w program attached.
 *
 * Output: a Markdown table (every figure with its ratio to SEQPACKET at
 * the same size, measured in this run) and the same rows as CSV. Module
 * parameters are restored at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgbench.h"

const size_t pb_sizes[PB_NSIZES] = { 64, 1024, 16384 };
double pb_secs = 2.0;
bool pb_quick;
uint64_t pb_count;
double pb_elapsed;

/* ---- helpers ------------------------------------------------------------ */

double pb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void *pb_shared(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	memset(p, 0, n);
	return p;
}

void pb_usage(struct pb_side *s)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	s->vcsw = ru.ru_nvcsw;
	s->ivcsw = ru.ru_nivcsw;
}

int pb_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= r;
	}
	return 0;
}

void pb_acc_feed(struct pb_acc *a, const struct pb_xp *x, const uint8_t *p,
		 size_t n)
{
	size_t len = x->msg_len;

	while (n) {
		size_t take = len - a->pos;

		if (take > n)
			take = n;
		if (a->pos == 0 && p[0] != x->msg_a[0]) {
			a->bad = true;
			return;
		}
		if (a->pos + take == len) {
			if (p[take - 1])
				a->end = true;
			else
				a->msgs++;
			a->pos = 0;
		} else {
			a->pos += take;
		}
		p += take;
		n -= take;
	}
}

volatile sig_atomic_t pb_stop;

static void pb_on_alarm(int sig)
{
	(void)sig;
	pb_stop = 1;
}

void pb_arm(double secs)
{
	struct itimerval it = { 0 };

	pb_stop = 0;
	it.it_value.tv_sec = (long)secs;
	it.it_value.tv_usec = (long)((secs - (long)secs) * 1e6);
	if (!it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

void pb_start(void)
{
	if (!pb_count)
		pb_arm(pb_secs);
}

bool pb_more(uint64_t done)
{
	return pb_count ? done < pb_count : !pb_stop;
}

static uint8_t *pb_repeat(const uint8_t *m, size_t len, int n, bool end)
{
	uint8_t *b = malloc(len * n);
	int i;

	if (!b) {
		perror("malloc");
		exit(2);
	}
	for (i = 0; i < n; i++)
		memcpy(b + i * len, m, len);
	if (end)
		b[len - 1] = 1;
	return b;
}

/* ---- the two harnesses --------------------------------------------------- */

int pb_run_tput(struct pb_xp *x, double *rate)
{
	struct { double t0; struct pb_side rcv; } *sh = pb_shared(sizeof(*sh));
	uint8_t *sbuf = pb_repeat(x->msg_a, x->msg_len, x->batch, false);
	uint8_t *endm = pb_repeat(x->msg_a, x->msg_len, 1, true);
	struct pb_side snd0, snd1;
	uint64_t sent = 0;
	int err = 0, st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		uint8_t *rb = malloc(x->rcap);
		struct pb_acc a = { 0 };

		while (!a.end) {
			ssize_t n = x->recv(x, x->b_in, rb, x->rcap);

			if (n == -EINTR)
				continue;
			if (n <= 0) {
				sh->rcv.err = n ? -n : EPIPE;
				break;
			}
			pb_acc_feed(&a, x, x->rdata ? x->rdata : rb, n);
			if (a.bad) {
				sh->rcv.err = EBADMSG;
				break;
			}
		}
		sh->rcv.t_end = pb_now();
		sh->rcv.msgs = a.msgs;
		pb_usage(&sh->rcv);
		_exit(0);
	}
	pb_usage(&snd0);
	sh->t0 = pb_now();
	pb_start();
	while (pb_more(sent)) {
		err = x->send(x, x->a_out, sbuf, x->msg_len, x->batch);
		if (err)
			break;
		sent += x->batch;
	}
	pb_usage(&snd1);
	if (!err)
		err = x->send(x, x->a_out, endm, x->msg_len, 1);
	if (err) {
		fprintf(stderr, "pgbench: %s: send: %s\n", x->name,
			strerror(-err));
		kill(pid, SIGKILL);
	}
	waitpid(pid, &st, 0);
	if (!err && sh->rcv.err) {
		fprintf(stderr, "pgbench: %s: receive: %s\n", x->name,
			strerror(sh->rcv.err));
		err = -sh->rcv.err;
	}
	if (!err && sh->rcv.msgs != sent)
		fprintf(stderr, "pgbench: %s: sent %llu, received %llu\n",
			x->name, (unsigned long long)sent,
			(unsigned long long)sh->rcv.msgs);
	if (!err) {
		pb_elapsed = sh->rcv.t_end - sh->t0;
		*rate = sh->rcv.msgs / pb_elapsed;
		pb_result_csw((double)(snd1.vcsw - snd0.vcsw +
				       snd1.ivcsw - snd0.ivcsw) / sent,
			      (double)(sh->rcv.vcsw + sh->rcv.ivcsw) /
			      sh->rcv.msgs);
	}
	free(sbuf);
	free(endm);
	munmap(sh, sizeof(*sh));
	return err;
}

/* Receives until one more whole message (or the end marker) is in. */
static int pb_recv_one(struct pb_xp *x, int fd, uint8_t *rb,
		       struct pb_acc *a)
{
	uint64_t want = a->msgs + 1;

	while (a->msgs < want && !a->end) {
		ssize_t n = x->recv(x, fd, rb, x->rcap);

		if (n == -EINTR)
			continue;
		if (n <= 0)
			return n ? (int)n : -EPIPE;
		pb_acc_feed(a, x, x->rdata ? x->rdata : rb, n);
		if (a->bad)
			return -EBADMSG;
	}
	return 0;
}

static int pb_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

#define PB_MAX_SAMPLES	(1 << 20)

int pb_run_pingpong(struct pb_xp *x, double *med, double *p99)
{
	uint32_t *ns = malloc(PB_MAX_SAMPLES * sizeof(*ns));
	uint8_t *endm = pb_repeat(x->msg_a, x->msg_len, 1, true);
	uint8_t *rb = malloc(x->rcap);
	struct pb_acc a = { 0 };
	size_t n = 0, warm = 20;
	double sum = 0;
	int err = 0, st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct pb_acc b = { 0 };

		for (;;) {
			if (pb_recv_one(x, x->b_in, rb, &b) || b.end)
				break;
			if (x->send(x, x->b_out, x->msg_b, x->msg_len, 1))
				break;
		}
		_exit(0);
	}
	pb_start();
	while (pb_more(n) && n < PB_MAX_SAMPLES) {
		double t = pb_now();

		err = x->send(x, x->a_out, x->msg_a, x->msg_len, 1);
		if (!err)
			err = pb_recv_one(x, x->a_in, rb, &a);
		if (err)
			break;
		if (warm) {
			warm--;
			continue;
		}
		t = pb_now() - t;
		sum += t;
		ns[n++] = (uint32_t)(t * 1e9);
	}
	if (!err)
		err = x->send(x, x->a_out, endm, x->msg_len, 1);
	if (err) {
		fprintf(stderr, "pgbench: %s: ping-pong: %s\n", x->name,
			strerror(-err));
		kill(pid, SIGKILL);
	}
	waitpid(pid, &st, 0);
	if (!err && n) {
		qsort(ns, n, sizeof(*ns), pb_cmp_u32);
		*med = ns[n / 2] / 1e3;
		*p99 = ns[(size_t)(n * 0.99)] / 1e3;
		pb_elapsed = sum;
	} else if (!err) {
		err = -ENODATA;
	}
	free(ns);
	free(endm);
	free(rb);
	return err;
}

/* ---- the other transports ----------------------------------------------- */

static int pb_sock_send(struct pb_xp *x, int fd, const uint8_t *buf,
			size_t len, int n)
{
	(void)x;
	(void)n;
	while (send(fd, buf, len, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static ssize_t pb_sock_recv(struct pb_xp *x, int fd, uint8_t *buf,
			    size_t cap)
{
	ssize_t r = recv(fd, buf, cap, 0);

	(void)x;
	return r < 0 ? -errno : r;
}

static int pb_pipe_send(struct pb_xp *x, int fd, const uint8_t *buf,
			size_t len, int n)
{
	(void)x;
	return pb_write_all(fd, buf, len * n);
}

static ssize_t pb_fd_read(struct pb_xp *x, int fd, uint8_t *buf, size_t cap)
{
	ssize_t r = read(fd, buf, cap);

	(void)x;
	return r < 0 ? -errno : r;
}

static int pb_mq_send(struct pb_xp *x, int fd, const uint8_t *buf,
		      size_t len, int n)
{
	(void)x;
	(void)n;
	while (mq_send(fd, (const char *)buf, len, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static ssize_t pb_mq_recv(struct pb_xp *x, int fd, uint8_t *buf, size_t cap)
{
	ssize_t r = mq_receive(fd, (char *)buf, cap, NULL);

	(void)x;
	return r < 0 ? -errno : r;
}

static void pb_close_fds(struct pb_xp *x)
{
	int fds[4] = { x->a_out, x->a_in, x->b_out, x->b_in };
	int i, j;

	for (i = 0; i < 4; i++) {
		for (j = 0; j < i; j++)
			if (fds[j] == fds[i])
				break;
		if (j == i && fds[i] >= 0)
			close(fds[i]);
	}
	free(x->msg_a);
	if (x->msg_b != x->msg_a)
		free(x->msg_b);
}

const char *const pb_base_names[PB_NBASE] = {
	"AF_UNIX SOCK_SEQPACKET", "AF_UNIX SOCK_DGRAM", "pipe", "POSIX mq",
};

static int pb_mq_raise(size_t len)
{
	static const char path[] = "/proc/sys/fs/mqueue/msgsize_max";
	char buf[32];
	long cur = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%ld", &cur) != 1)
			cur = 0;
		fclose(f);
	}
	if ((size_t)cur >= len)
		return 0;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	snprintf(buf, sizeof(buf), "%zu\n", len);
	fputs(buf, f);
	return fclose(f) ? -errno : 0;
}

int pb_base_open(struct pb_xp *x, int which, size_t body)
{
	int sv[2], sv2[2];

	memset(x, 0, sizeof(*x));
	x->name = pb_base_names[which];
	x->body = body;
	x->msg_len = body;
	x->batch = 1;
	x->rcap = body;
	x->msg_a = malloc(body);
	memset(x->msg_a, 0x5a, body);
	x->msg_a[0] = 0x42;
	x->msg_a[body - 1] = 0;
	x->msg_b = x->msg_a;
	x->close = pb_close_fds;
	x->send = pb_sock_send;
	x->recv = pb_sock_recv;
	switch (which) {
	case PB_SEQPACKET:
	case PB_DGRAM:
		if (socketpair(AF_UNIX, which == PB_DGRAM ? SOCK_DGRAM :
			       SOCK_SEQPACKET, 0, sv))
			return -errno;
		x->a_out = x->a_in = sv[0];
		x->b_out = x->b_in = sv[1];
		return 0;
	case PB_PIPE:
		if (pipe(sv))
			return -errno;
		if (pipe(sv2))
			return -errno;
		x->a_out = sv[1];
		x->b_in = sv[0];
		x->b_out = sv2[1];
		x->a_in = sv2[0];
		x->send = pb_pipe_send;
		x->recv = pb_fd_read;
		return 0;
	case PB_MQ: {
		struct mq_attr at = { .mq_maxmsg = 10, .mq_msgsize = body };
		int err = pb_mq_raise(body);

		if (err)
			return err;
		mq_unlink("/pgbench-ab");
		mq_unlink("/pgbench-ba");
		sv[0] = mq_open("/pgbench-ab", O_CREAT | O_RDWR, 0600, &at);
		sv[1] = mq_open("/pgbench-ba", O_CREAT | O_RDWR, 0600, &at);
		if (sv[0] < 0 || sv[1] < 0)
			return -errno;
		mq_unlink("/pgbench-ab");
		mq_unlink("/pgbench-ba");
		x->a_out = x->b_in = sv[0];
		x->b_out = x->a_in = sv[1];
		x->send = pb_mq_send;
		x->recv = pb_mq_recv;
		return 0;
	}
	}
	return -EINVAL;
}

/* ---- results ------------------------------------------------------------ */

struct pb_row {
	char name[64];
	size_t body;
	enum pb_kind kind;
	double value;
	bool na;
	char note[96];
	double csw_s, csw_r;	/* context switches per message; <0: none */
};

static struct pb_row pb_rows[256];
static int pb_nrows;
static double pb_csw_s = -1, pb_csw_r = -1;

void pb_last_csw(double *snd_csw, double *rcv_csw)
{
	*snd_csw = pb_csw_s;
	*rcv_csw = pb_csw_r;
}

void pb_result_csw(double snd_csw, double rcv_csw)
{
	pb_csw_s = snd_csw;
	pb_csw_r = rcv_csw;
}

static struct pb_row *pb_add(const char *name, size_t body)
{
	struct pb_row *r = &pb_rows[pb_nrows];

	if (pb_nrows + 1 >= (int)PGT_ARRAY_SIZE(pb_rows))
		return &pb_rows[pb_nrows];	/* overwrite the last */
	pb_nrows++;
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->body = body;
	r->csw_s = pb_csw_s;
	r->csw_r = pb_csw_r;
	pb_csw_s = pb_csw_r = -1;
	return r;
}

void pb_result(const char *name, size_t body, enum pb_kind kind,
	       double value, const char *note)
{
	struct pb_row *r = pb_add(name, body);

	r->kind = kind;
	r->value = value;
	if (note)
		snprintf(r->note, sizeof(r->note), "%s", note);
	fprintf(stderr, "pgbench: %-44s %6zu B %14.2f %s\n", name, body,
		value, kind == PB_TPUT ? "msg/s" :
		kind == PB_COST ? "us/frame" : kind == PB_PAIRED ? "x" : "us");
}

void pb_result_na(const char *name, size_t body, const char *why)
{
	struct pb_row *r = pb_add(name, body);

	r->na = true;
	snprintf(r->note, sizeof(r->note), "%s", why);
	fprintf(stderr, "pgbench: %-44s %6zu B n/a (%s)\n", name, body, why);
}

static const struct pb_row *pb_find(const char *name, size_t body,
				    enum pb_kind kind)
{
	int i;

	for (i = 0; i < pb_nrows; i++)
		if (!pb_rows[i].na && pb_rows[i].body == body &&
		    pb_rows[i].kind == kind && !strcmp(pb_rows[i].name, name))
			return &pb_rows[i];
	return NULL;
}

#define PB_REF		"AF_UNIX SOCK_SEQPACKET"
#define PB_RTT_REF	"round trip, AF_UNIX SOCK_SEQPACKET"
#define PB_PG_SINGLE_N	"promisegrid, 1 frame/write"
#define PB_PG_BATCH_N	"promisegrid, batched 32 frames/write"
#define PB_PG_URING_N	"promisegrid, io_uring 32 SQEs/enter"
#define PB_RTT_PG	"round trip, promisegrid"
#define PB_PCID_1	"cost/frame, 1 pCID in use"
#define PB_PCID_100K	"cost/frame, 100 000 pCIDs in use"
#define PB_PAIRED_TPUT	"paired rounds: 1 frame/write throughput"
#define PB_PAIRED_RTT	"paired rounds: round-trip median"

/* Ratio to SEQPACKET at the same size; <0 if there is none. */
static double pb_ratio(const struct pb_row *r)
{
	const struct pb_row *ref;

	if (r->na)
		return -1;
	switch (r->kind) {
	case PB_TPUT:
		ref = pb_find(PB_REF, r->body, PB_TPUT);
		return ref ? r->value / ref->value : -1;
	case PB_COST:
		ref = pb_find(PB_REF, r->body, PB_TPUT);
		return ref ? r->value / (1e6 / ref->value) : -1;
	case PB_PAIRED:
		return r->value;	/* the ratio itself */
	default:
		ref = pb_find(PB_RTT_REF, r->body, r->kind);
		return ref ? r->value / ref->value : -1;
	}
}

/* The targets: text and verdict (-1: no target on this row). */
static int pb_target(const struct pb_row *r, char *txt, size_t n)
{
	double q = pb_ratio(r);
	const struct pb_row *one;

	if (r->na || q < 0)
		return -1;
	if (r->kind == PB_TPUT && r->body == 64 &&
	    !strcmp(r->name, PB_PG_SINGLE_N)) {
		snprintf(txt, n, ">= 1.0x");
		return q >= 1.0;
	}
	if (r->kind == PB_TPUT && r->body == 64 &&
	    (!strcmp(r->name, PB_PG_BATCH_N) ||
	     !strcmp(r->name, PB_PG_URING_N))) {
		snprintf(txt, n, ">= 4.0x (either)");
		return q >= 4.0;
	}
	if (r->kind == PB_LAT_MED && !strcmp(r->name, PB_RTT_PG)) {
		snprintf(txt, n, "<= 1.0x");
		return q <= 1.0;
	}
	if (r->kind == PB_PAIRED && !strcmp(r->name, PB_PAIRED_TPUT) &&
	    r->body == 64) {
		snprintf(txt, n, ">= 1.0x");
		return q >= 1.0;
	}
	if (r->kind == PB_PAIRED && !strcmp(r->name, PB_PAIRED_RTT)) {
		snprintf(txt, n, "<= 1.0x");
		return q <= 1.0;
	}
	if (r->kind == PB_PAIRED && !strcmp(r->name, PB_PAIRED_POLICY)) {
		snprintf(txt, n, "<= 1.10x of policy off");
		return q <= 1.10;
	}
	if (r->kind == PB_COST && !strcmp(r->name, PB_PCID_100K)) {
		one = pb_find(PB_PCID_1, r->body, PB_COST);
		if (!one)
			return -1;
		snprintf(txt, n, "<= 1.10x of 1 pCID: %.3fx",
			 r->value / one->value);
		return r->value / one->value <= 1.10;
	}
	return -1;
}

static void pb_raw(const struct pb_row *r, char *s, size_t n)
{
	if (r->na) {
		snprintf(s, n, "n/a (%s)", r->note);
		return;
	}
	switch (r->kind) {
	case PB_TPUT:
		snprintf(s, n, "%.0f msg/s, %.1f MB/s", r->value,
			 r->value * r->body / 1e6);
		break;
	case PB_COST:
		snprintf(s, n, "%.2f us/frame", r->value);
		break;
	case PB_LAT_MED:
		snprintf(s, n, "median %.1f us", r->value);
		break;
	case PB_LAT_P99:
		snprintf(s, n, "p99 %.1f us", r->value);
		break;
	case PB_PAIRED:
		snprintf(s, n, "median ratio %.3fx", r->value);
		break;
	}
}

static void pb_print(void)
{
	int i, met;

	printf("\n| case | body | raw | ratio to SEQPACKET | target | result |\n");
	printf("|---|---:|---:|---:|---|---|\n");
	for (i = 0; i < pb_nrows; i++) {
		const struct pb_row *r = &pb_rows[i];
		char raw[96], tgt[64] = "";
		double q = pb_ratio(r);

		pb_raw(r, raw, sizeof(raw));
		met = pb_target(r, tgt, sizeof(tgt));
		printf("| %s%s%s | %zu B | %s | ", r->name,
		       r->note[0] && !r->na ? ", " : "",
		       r->na ? "" : r->note, r->body, raw);
		if (q >= 0)
			printf("%.2fx", q);
		else
			printf("-");
		printf(" | %s | %s |\n", tgt,
		       met < 0 ? "" : met ? "**met**" : "**missed**");
	}
	printf("\n```csv\ncase,body,kind,value,unit,ratio_seqpacket,target_met,"
	       "sender_csw_per_msg,receiver_csw_per_msg,note\n");
	for (i = 0; i < pb_nrows; i++) {
		const struct pb_row *r = &pb_rows[i];
		static const char *const kinds[] = {
			"throughput", "rtt_median", "rtt_p99", "cost",
			"paired_ratio",
		};
		static const char *const units[] = {
			"msg/s", "us", "us", "us/frame", "x",
		};
		char tgt[64];

		met = pb_target(r, tgt, sizeof(tgt));
		printf("\"%s\",%zu,%s,", r->name, r->body, kinds[r->kind]);
		if (r->na)
			printf("n/a,%s,,,", units[r->kind]);
		else
			printf("%.3f,%s,%.4f,%s,", r->value, units[r->kind],
			       pb_ratio(r), met < 0 ? "" : met ? "yes" : "no");
		if (r->csw_s >= 0)
			printf("%.4f,%.4f,", r->csw_s, r->csw_r);
		else
			printf(",,");
		printf("\"%s\"\n", r->note);
	}
	printf("```\n");
}

/* ---- main --------------------------------------------------------------- */

static void pb_tput_case(struct pb_xp *x, int err)
{
	double rate = 0;

	if (!err)
		err = pb_run_tput(x, &rate);
	if (err)
		pb_result_na(x->name ? x->name : "?", x->body, strerror(-err));
	else
		pb_result(x->name, x->body, PB_TPUT, rate, NULL);
	if (x->close)
		x->close(x);
}

static void pb_rtt_case(struct pb_xp *x, int err, const char *name)
{
	double med = 0, p99 = 0;

	if (!err)
		err = pb_run_pingpong(x, &med, &p99);
	if (err) {
		pb_result_na(name, x->body, strerror(-err));
	} else {
		pb_result(name, x->body, PB_LAT_MED, med, NULL);
		pb_result(name, x->body, PB_LAT_P99, p99, NULL);
	}
	if (x->close)
		x->close(x);
}

static int pb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define PB_ROUNDS	15
#define PB_ROUND_SHARE	5	/* each side of a round runs pb_secs / 5 */

/*
 * The targets' comparisons, made decisive under TCG: the host's speed
 * drifts over a run by more than the differences measured, so the two
 * sides alternate in PB_ROUNDS short rounds (ABBA order: which goes first
 * alternates), each round gives one ratio, side 1 / side 0 (or side 0 /
 * side 1 with invert: a cost from two throughputs), and the row is their
 * median, with the range in the note.
 */
void pb_paired(const char *name, size_t body, pb_measure_fn measure,
	       bool invert)
{
	double q[PB_ROUNDS], save = pb_secs, v[2];
	char note[96];
	int i, k, n = 0, err = 0;

	pb_secs = save / PB_ROUND_SHARE;
	for (i = 0; i < PB_ROUNDS && !err; i++) {
		for (k = 0; k < 2 && !err; k++) {
			int side = k == (i & 1);

			err = measure(body, side, &v[side]);
		}
		if (!err && v[0] > 0 && v[1] > 0)
			q[n++] = invert ? v[0] / v[1] : v[1] / v[0];
	}
	pb_secs = save;
	pb_csw_s = pb_csw_r = -1;
	if (err || !n) {
		pb_result_na(name, body, err ? strerror(-err) : "no rounds");
		return;
	}
	qsort(q, n, sizeof(q[0]), pb_cmp_double);
	snprintf(note, sizeof(note), "%d rounds, range %.2fx-%.2fx", n, q[0],
		 q[n - 1]);
	pb_result(name, body, PB_PAIRED, q[n / 2], note);
}

/* Side 0: SEQPACKET; side 1: promisegrid, one frame per write. */
static int pb_measure_vs_ref(size_t body, int side, bool rtt, double *v)
{
	struct pb_xp x;
	double p99;
	int err;

	err = side ? pb_pg_open(&x, "paired", body, PB_PG_SINGLE |
				(rtt ? PB_PG_PONG : 0)) :
		     pb_base_open(&x, PB_SEQPACKET, body);
	if (!err)
		err = rtt ? pb_run_pingpong(&x, v, &p99) : pb_run_tput(&x, v);
	if (x.close)
		x.close(&x);
	return err;
}

static int pb_measure_tput(size_t body, int side, double *v)
{
	return pb_measure_vs_ref(body, side, false, v);
}

static int pb_measure_rtt(size_t body, int side, double *v)
{
	return pb_measure_vs_ref(body, side, true, v);
}

static void pb_pin(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
}

static void pb_usage_exit(void)
{
	fprintf(stderr,
		"usage: pgbench [--quick] [--secs S] [--count] [--only SECTIONS]\n"
		"  --secs S   seconds per case (default 2, --quick 0.3)\n"
		"  --count    the repeatable figures: fixed message counts,\n"
		"             cost in virtual ns (run under QEMU -icount)\n"
		"  --only     comma list of: tput,rtt,paired,fanout,pcids,caps\n"
		"             (--count: tput,rtt,fanout,policy,pcids)\n"
		"  --profile CASE [--size B] [--count-n N]  one long fixed-count\n"
		"             case to profile: pg1, pgbatch, pguring, pgpolicy, pgrtt, mq1,\n"
		"             pipe1 (64 B, 20000 messages, a quarter of them round\n"
		"             trips)\n"
		"  --sched-batch  run as SCHED_BATCH (no wake-up preemption)\n");
	exit(2);
}

static bool pb_want(const char *only, const char *sec)
{
	return !only || strstr(only, sec);
}

int main(int argc, char **argv)
{
	static const char *const pg_names[] = {
		PB_PG_SINGLE_N, PB_PG_BATCH_N, PB_PG_URING_N,
	};
	const char *only = NULL, *profile = NULL;
	size_t psize = 64;
	uint64_t pcount = 20000;
	bool count = false, sched_batch = false;
	struct sigaction sa = { 0 };
	struct utsname u;
	struct pb_xp x;
	double t0 = pb_now();
	int i, s, m;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			pb_quick = true;
			pb_secs = 0.3;
		} else if (!strcmp(argv[i], "--secs") && i + 1 < argc) {
			pb_secs = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--count")) {
			count = true;
		} else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
			profile = argv[++i];
		} else if (!strcmp(argv[i], "--count-n") && i + 1 < argc) {
			pcount = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			psize = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "--sched-batch")) {
			sched_batch = true;
		} else {
			pb_usage_exit();
		}
	}
	sa.sa_handler = pb_on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pb_pin();
	/*
	 * A diagnostic: SCHED_BATCH tasks (every process of the run) are not
	 * preempted by a task they wake, so a reader woken by a write runs
	 * at the next tick or when the writer blocks (tools/bench/notes.md).
	 */
	if (sched_batch &&
	    sched_setscheduler(0, SCHED_BATCH, &(struct sched_param){ 0 }))
		fprintf(stderr, "pgbench: SCHED_BATCH: %s\n", strerror(errno));
	uname(&u);
	pb_pg_save_params();
	if (profile) {
		i = pb_count_profile(profile, psize, pcount);
		if (i)
			fprintf(stderr, "pgbench: --profile %s: %s\n", profile,
				strerror(-i));
		return i ? 1 : 0;
	}
	if (count) {
		printf("pgbench: kernel %s %s, fixed counts, virtual time, all processes on CPU 0\n",
		       u.release, u.machine);
		pb_count_cases(only);
		pb_pg_restore_params();
		printf("\npgbench: done in %.3f virtual s\n", pb_now() - t0);
		return 0;
	}
	printf("pgbench: kernel %s %s, %.2f s per case, all processes on CPU 0\n",
	       u.release, u.machine, pb_secs);

	for (s = 0; s < PB_NSIZES; s++) {
		size_t body = pb_sizes[s];

		/* SEQPACKET first: every ratio refers to it */
		for (m = 0; m < PB_NBASE; m++)
			pb_tput_case(&x, pb_base_open(&x, m, body));
		if (!pb_want(only, "tput"))
			continue;
		for (m = PB_PG_SINGLE; m <= PB_PG_URING; m++)
			pb_tput_case(&x, pb_pg_open(&x, pg_names[m], body, m));
	}
	for (s = 0; s < PB_NSIZES && pb_want(only, "rtt"); s++) {
		size_t body = pb_sizes[s];
		char name[64];

		for (m = 0; m < PB_NBASE; m++) {
			snprintf(name, sizeof(name), "round trip, %s",
				 pb_base_names[m]);
			pb_rtt_case(&x, pb_base_open(&x, m, body), name);
		}
		pb_rtt_case(&x, pb_pg_open(&x, "promisegrid rtt", body,
					   PB_PG_SINGLE | PB_PG_PONG),
			    PB_RTT_PG);
	}
	for (s = 0; s < PB_NSIZES && pb_want(only, "paired"); s++) {
		if (pb_sizes[s] == 64)
			pb_paired(PB_PAIRED_TPUT, 64, pb_measure_tput, false);
		pb_paired(PB_PAIRED_RTT, pb_sizes[s], pb_measure_rtt, false);
	}
	if (pb_want(only, "paired"))
		pb_pg_paired_policy();
	if (pb_want(only, "fanout"))
		pb_pg_cases_fanout();
	if (pb_want(only, "pcids"))
		pb_pg_cases_pcids();
	if (pb_want(only, "caps"))
		pb_pg_cases_caps();
	pb_pg_restore_params();
	pb_print();
	printf("\npgbench: done in %.0f s\n", pb_now() - t0);
	return 0;
}
