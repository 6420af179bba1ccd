// SPDX-License-Identifier: GPL-2.0-only
/*
 * pgbench --count: the repeatable figures.
 *
 * Under QEMU's -icount (tools/testing/vm/run.sh --icount, as tools/bench/icount.sh
 * boots it) the guest's clock advances one nanosecond per guest
 * instruction and skips idle time, so CLOCK_MONOTONIC counts the
 * instructions the guest executed (every process, interrupt and kernel
 * thread on the one vCPU), whatever the host's speed. A case here sends
 * a fixed number of messages instead of running for a fixed time, twice:
 * with n1 and with n2 messages. Its figure is the marginal cost,
 *
 *	(T(n2) - T(n1)) / (n2 - n1)	virtual ns = guest instructions
 *
 * per message (per delivery for fan-out), which leaves out the fixed
 * costs of a case (fork, first-touch page faults, the end marker, exit).
 * The harnesses are the timed ones (pb_run_tput, pb_run_pingpong,
 * pb_pg_fan, pb_pg_policy) with pb_count set; a round trip's T is the sum
 * of its measured iterations.
 *
 * Output: a Markdown table of the costs, one of the issue's ratios with
 * their targets, and both as CSV (icount.sh compares two runs' CSV).
 * Nothing is printed while cases run: console output under -icount is
 * the one thing whose timing depends on the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgbench.h"

enum pb_c_kind { PB_C_ONEWAY, PB_C_RTT, PB_C_FAN, PB_C_POLICY };

struct pb_ccase {
	char name[64];
	enum pb_c_kind kind;
	int which;		/* base transport, pg mode, receivers, side */
	bool pg;		/* which is a pb_pg_open mode */
	size_t body;
	uint64_t n1, n2;	/* messages (frames for fan-out) */
	int reps;		/* (n1, n2) pairs; the figure is their median */
	double lo, hi;		/* the range of the pairs' costs */
	double csw;		/* receiver's context switches per message */
	double ns;		/* per message or delivery; <0: failed */
	char err[48];
};

#define PB_C_MAX	64
static struct pb_ccase pb_cc[PB_C_MAX];
static int pb_ncc;

/*
 * Counts: 32 | n (batched writes), n2 - n1 large against a timer tick.
 * A one-way case's cost per message depends on how many messages a
 * reader finds queued when it runs, which depends on where the
 * scheduler's tick and wake-up preemption fall: it settles only after
 * some thousand messages, and differs from boot to boot by a few percent.
 * So one-way cases of small messages measure from message 2048 on and
 * repeat the pair PB_REPS_ONEWAY times (the figure is the median); round
 * trips and 16 KiB messages repeat to 0.1 % with short counts. Fan-out
 * is one-way too: since receivers keep the records of what they read
 * together, 64 receivers' cost moved by 3.7 % between two boots with
 * 256 / 1280 frames and one pair, so it runs longer and three times.
 */
#define PB_N1_ONEWAY	2048
#define PB_N2_ONEWAY	10240
#define PB_REPS_ONEWAY	3
#define PB_N1_LARGE	256
#define PB_N2_LARGE	1280
#define PB_N1_RTT	256
#define PB_N2_RTT	1280
#define PB_N1_FAN	1024
#define PB_N2_FAN	5120

static double pb_c_csw;

static int pb_cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Start on the scheduler tick's grid: sleep until the next multiple of
 * 20 ms of CLOCK_MONOTONIC (a multiple of the tick at HZ 100, 250 and
 * 1000). Under -icount the sleep costs no instructions and ends on the
 * exact virtual ns, so every run meets the ticks at the same points of
 * its loop. Without it, a one-way case's cost moved between levels 7 %
 * apart (11 250, 11 600 and 12 050 for one frame per write at 64 B),
 * with where the ticks fell.
 */
#define PB_C_GRID_NS	20000000ull

static void pb_c_align(void)
{
	struct timespec ts;
	uint64_t t;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	t = (t / PB_C_GRID_NS + 1) * PB_C_GRID_NS;
	ts.tv_sec = t / 1000000000ull;
	ts.tv_nsec = t % 1000000000ull;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* One run of c with n messages: its virtual time and messages moved. */
static int pb_c_run(const struct pb_ccase *c, uint64_t n, double *t,
		    uint64_t *msgs)
{
	double csw_s;
	struct pb_xp x;
	double v, p99;
	int err;

	pb_count = n;
	*msgs = n;
	pb_result_csw(-1, -1);
	pb_c_align();
	switch (c->kind) {
	case PB_C_ONEWAY:
	case PB_C_RTT:
		err = c->pg ? pb_pg_open(&x, c->name, c->body, c->which |
					 (c->kind == PB_C_RTT ? PB_PG_PONG : 0)) :
			      pb_base_open(&x, c->which, c->body);
		if (!err)
			err = c->kind == PB_C_RTT ?
			      pb_run_pingpong(&x, &v, &p99) :
			      pb_run_tput(&x, &v);
		if (x.close)
			x.close(&x);
		break;
	case PB_C_FAN:
		err = pb_pg_fan(c->which, false, c->body, &v);
		*msgs = n * c->which;
		break;
	case PB_C_POLICY:
		err = pb_pg_policy(c->body, c->which, &v);
		break;
	default:
		err = -EINVAL;
	}
	pb_count = 0;
	*t = pb_elapsed;
	pb_last_csw(&csw_s, &pb_c_csw);
	return err;
}

static void pb_c_add(const char *name, enum pb_c_kind kind, int which,
		     bool pg, size_t body)
{
	double q[PB_REPS_ONEWAY], t1, t2;
	struct pb_ccase *c;
	uint64_t m1, m2;
	int err = 0, i;

	if (pb_ncc >= PB_C_MAX)
		return;
	c = &pb_cc[pb_ncc++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->kind = kind;
	c->which = which;
	c->pg = pg;
	c->body = body;
	c->n1 = kind == PB_C_RTT ? PB_N1_RTT : kind == PB_C_FAN ? PB_N1_FAN :
		body > 1024 ? PB_N1_LARGE : PB_N1_ONEWAY;
	c->n2 = kind == PB_C_RTT ? PB_N2_RTT : kind == PB_C_FAN ? PB_N2_FAN :
		body > 1024 ? PB_N2_LARGE : PB_N2_ONEWAY;
	c->reps = (kind == PB_C_ONEWAY || kind == PB_C_POLICY ||
		   kind == PB_C_FAN) && body <= 1024 ? PB_REPS_ONEWAY : 1;
	c->ns = -1;
	for (i = 0; i < c->reps && !err; i++) {
		err = pb_c_run(c, c->n1, &t1, &m1);
		if (!err)
			err = pb_c_run(c, c->n2, &t2, &m2);
		if (!err)
			q[i] = (t2 - t1) / (double)(m2 - m1) * 1e9;
	}
	if (err) {
		snprintf(c->err, sizeof(c->err), "%s", strerror(-err));
		return;
	}
	c->csw = pb_c_csw;
	qsort(q, c->reps, sizeof(q[0]), pb_cmp_dbl);
	c->lo = q[0];
	c->hi = q[c->reps - 1];
	c->ns = q[c->reps / 2];
}

static double pb_c_get(const char *name, size_t body)
{
	int i;

	for (i = 0; i < pb_ncc; i++)
		if (pb_cc[i].body == body && !strcmp(pb_cc[i].name, name))
			return pb_cc[i].ns;
	return -1;
}

/* ---- the ratios --------------------------------------------------- */

#define PB_C_PG1	"promisegrid, 1 frame/write"
#define PB_C_PGB	"promisegrid, batched 32 frames/write"
#define PB_C_PGU	"promisegrid, io_uring 32 SQEs/enter"
#define PB_C_PGM	"promisegrid, 1 frame/write, io_uring multishot read"
#define PB_C_RTT_PG	"round trip, promisegrid"

struct pb_cratio {
	char name[96];
	size_t body;
	double q;		/* <0: not measured */
	char target[24];	/* "" when informational */
	int met;		/* -1: no target */
};

static struct pb_cratio pb_cr[64];
static int pb_ncr;

/* q = num / den; the target is q >= want (ge) or q <= want. */
static void pb_c_ratio(const char *name, size_t body, double num, double den,
		       double want, int ge)
{
	struct pb_cratio *r = &pb_cr[pb_ncr];

	if (pb_ncr >= (int)PGT_ARRAY_SIZE(pb_cr))
		return;
	pb_ncr++;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->body = body;
	r->q = num > 0 && den > 0 ? num / den : -1;
	r->met = -1;
	if (want > 0) {
		snprintf(r->target, sizeof(r->target), "%s %.2fx",
			 ge ? ">=" : "<=", want);
		if (r->q >= 0)
			r->met = ge ? r->q >= want : r->q <= want;
	}
}

static double pb_min3(double a, double b, double c)
{
	double m = a;

	if (m < 0 || (b >= 0 && b < m))
		m = b;
	if (m < 0 || (c >= 0 && c < m))
		m = c;
	return m;
}

static void pb_c_ratios(void)
{
	char nm[96];
	size_t s;

	for (s = 0; s < PB_NSIZES; s++) {
		size_t b = pb_sizes[s];
		double pg1 = pb_c_get(PB_C_PG1, b);
		double mq = pb_c_get("POSIX mq", b);
		double pipe = pb_c_get("pipe", b);
		double seq = pb_c_get("AF_UNIX SOCK_SEQPACKET", b);
		double r_pg = pb_c_get(PB_C_RTT_PG, b);
		double r_mq = pb_c_get("round trip, POSIX mq", b);
		double r_pipe = pb_c_get("round trip, pipe", b);
		double r_seq = pb_c_get("round trip, AF_UNIX SOCK_SEQPACKET", b);
		bool tgt = b <= 1024;

		/* throughput ratios: the peer's cost over ours */
		pb_c_ratio("1 frame/write throughput vs POSIX mq", b, mq, pg1,
			   tgt ? 1.0 : 0, 1);
		pb_c_ratio("1 frame/write throughput vs pipe", b, pipe, pg1,
			   0, 1);
		pb_c_ratio("1 frame/write throughput vs SEQPACKET", b, seq, pg1,
			   0, 1);
		if (b == 16384)
			pb_c_ratio("1 frame/write bandwidth vs pipe", b, pipe,
				   pg1, 0.9, 1);
		pb_c_ratio("round trip vs the fastest of SEQPACKET, pipe, mq",
			   b, r_pg, pb_min3(r_seq, r_pipe, r_mq),
			   tgt ? 1.0 : 0, 0);
		pb_c_ratio("round trip vs POSIX mq", b, r_pg, r_mq, 0, 0);
		pb_c_ratio("round trip vs pipe", b, r_pg, r_pipe, 0, 0);
		pb_c_ratio("round trip vs SEQPACKET", b, r_pg, r_seq, 0, 0);
		pb_c_ratio("batched 32 frames/write vs a pipe's 1 msg/call", b,
			   pipe, pb_c_get(PB_C_PGB, b), b == 64 ? 3.0 : 0, 1);
		pb_c_ratio("io_uring 32 SQEs/enter, cost vs batched writes", b,
			   pb_c_get(PB_C_PGU, b), pb_c_get(PB_C_PGB, b),
			   b == 64 ? 1.10 : 0, 0);
		if (b <= 1024)
			pb_c_ratio("io_uring multishot read, cost vs read() (1 frame/write)",
				   b, pb_c_get(PB_C_PGM, b), pg1, 0, 0);
	}
	for (s = 0; s < 2; s++)
		pb_c_ratio("cost per frame, 100 000 pCIDs in use vs 1 (batched)",
			   pb_sizes[s],
			   pb_c_get("batched, 100 000 pCIDs in use", pb_sizes[s]),
			   pb_c_get(PB_C_PGB, pb_sizes[s]), 1.05, 0);
	pb_c_ratio("fan-out 1->64 deliveries vs SEQPACKET 1:1 msgs", 64,
		   pb_c_get("AF_UNIX SOCK_SEQPACKET", 64),
		   pb_c_get("fan-out 1->64, per delivery", 64), 20.0, 1);
	pb_c_ratio("fan-out, cost per delivery at 64 receivers vs 1", 64,
		   pb_c_get("fan-out 1->64, per delivery", 64),
		   pb_c_get("fan-out 1->1, per delivery", 64), 1.2, 0);
	for (s = 0; s < 2; s++) {
		size_t b = pb_sizes[s];

		snprintf(nm, sizeof(nm), "eBPF policy on (enforcing=1) vs off, cost per frame");
		pb_c_ratio(nm, b, pb_c_get("batched, eBPF policy on", b),
			   pb_c_get("batched, no policy", b), 1.05, 0);
	}
}

/* ---- output ---------------------------------------------------------------- */

static const char *pb_c_fmt_csw(double csw)
{
	static char b[24];

	if (csw < 0)
		return "-";
	snprintf(b, sizeof(b), "%.3f", csw);
	return b;
}

static void pb_c_print(void)
{
	int i;

	printf("\n| case | body | virtual ns (guest instructions) per message | n1 / n2, pairs: range | receiver's context switches per message |\n");
	printf("|---|---:|---:|---:|---:|\n");
	for (i = 0; i < pb_ncc; i++) {
		const struct pb_ccase *c = &pb_cc[i];

		if (c->ns < 0)
			printf("| %s | %zu B | n/a (%s) | | |\n", c->name,
			       c->body, c->err);
		else
			printf("| %s | %zu B | %.0f | %llu / %llu, %d: %.0f-%.0f | %s |\n",
			       c->name, c->body, c->ns,
			       (unsigned long long)c->n1,
			       (unsigned long long)c->n2, c->reps, c->lo,
			       c->hi, pb_c_fmt_csw(c->csw));
	}
	printf("\n| ratio | body | value | target | result |\n");
	printf("|---|---:|---:|---|---|\n");
	for (i = 0; i < pb_ncr; i++) {
		const struct pb_cratio *r = &pb_cr[i];

		printf("| %s | %zu B | ", r->name, r->body);
		if (r->q < 0)
			printf("n/a");
		else
			printf("%.3fx", r->q);
		printf(" | %s | %s |\n", r->target, r->met < 0 ? "" :
		       r->met ? "**met**" : "**missed**");
	}
	printf("\n```csv\nrow,name,body,value,unit,target,met\n");
	for (i = 0; i < pb_ncc; i++)
		printf("cost,\"%s\",%zu,%.1f,ns,,\n", pb_cc[i].name,
		       pb_cc[i].body, pb_cc[i].ns);
	for (i = 0; i < pb_ncr; i++)
		printf("ratio,\"%s\",%zu,%.4f,x,%s,%s\n", pb_cr[i].name,
		       pb_cr[i].body, pb_cr[i].q, pb_cr[i].target,
		       pb_cr[i].met < 0 ? "" : pb_cr[i].met ? "yes" : "no");
	printf("```\n");
}

/*
 * --profile CASE: one run of one case, long enough for a profile (perf
 * record around it, tools/bench/profile.sh); prints its cost per message
 * including the fixed costs. CASE: pg1 (one frame per write, one way),
 * pgbatch (32 frames per write), pgpolicy (the same with an eBPF policy
 * and enforcing=1), pgrtt (round trip), mq1, pipe1 (the peers' one message per call), at
 * 64 B or at --size bytes; n messages (n / 4 round trips).
 */
int pb_count_profile(const char *which, size_t body, uint64_t n)
{
	struct pb_ccase c = { .body = body, .kind = PB_C_ONEWAY };
	uint64_t msgs;
	double t;
	int err;

	if (!strcmp(which, "pg1")) {
		c.pg = true;
		c.which = PB_PG_SINGLE;
	} else if (!strcmp(which, "pgbatch")) {
		c.pg = true;
		c.which = PB_PG_BATCH;
	} else if (!strcmp(which, "pguring")) {
		c.pg = true;
		c.which = PB_PG_URING;
	} else if (!strcmp(which, "pgpolicy")) {
		c.kind = PB_C_POLICY;	/* batched, a policy, enforcing=1 */
		c.which = 1;
	} else if (!strcmp(which, "pgrtt")) {
		c.pg = true;
		c.which = PB_PG_SINGLE;
		c.kind = PB_C_RTT;
		n /= 4;
	} else if (!strcmp(which, "mq1")) {
		c.which = PB_MQ;
	} else if (!strcmp(which, "pipe1")) {
		c.which = PB_PIPE;
	} else {
		return -EINVAL;
	}
	snprintf(c.name, sizeof(c.name), "profile %s", which);
	err = pb_c_run(&c, n, &t, &msgs);
	if (err)
		return err;
	printf("pgbench: profile %s, %zu B: %llu messages, %.0f virtual ns per message\n",
	       which, body, (unsigned long long)msgs, t * 1e9 / msgs);
	return 0;
}

static bool pb_c_want(const char *only, const char *sec)
{
	return !only || strstr(only, sec);
}

void pb_count_cases(const char *only)
{
	static const char *const pg_names[] = { PB_C_PG1, PB_C_PGB, PB_C_PGU };
	char nm[64];
	size_t s;
	int m;

	for (s = 0; s < PB_NSIZES; s++) {
		size_t b = pb_sizes[s];

		if (!pb_c_want(only, "tput"))
			break;
		for (m = 0; m < PB_NBASE; m++)
			if (m != PB_DGRAM)
				pb_c_add(pb_base_names[m], PB_C_ONEWAY, m,
					 false, b);
		for (m = PB_PG_SINGLE; m <= PB_PG_URING; m++)
			pb_c_add(pg_names[m], PB_C_ONEWAY, m, true, b);
		if (b <= 1024)
			pb_c_add(PB_C_PGM, PB_C_ONEWAY, PB_PG_MSHOT, true, b);
	}
	/*
	 * The policy's cases come before the round trips and fan-out: after
	 * those, in the same boot, "policy on" at 64 B sat at a level about
	 * 80 instructions higher (2 632 against 2 553, the reader switched to
	 * less often), in some boots and some pairs only, so two boots
	 * disagreed by 3.4 %. Before them it repeated in seven boots (0.1 %).
	 */
	for (s = 0; s < 2 && pb_c_want(only, "policy"); s++) {
		pb_c_add("batched, no policy", PB_C_POLICY, 0, false,
			 pb_sizes[s]);
		pb_c_add("batched, eBPF policy on", PB_C_POLICY, 1, false,
			 pb_sizes[s]);
	}
	for (s = 0; s < PB_NSIZES && pb_c_want(only, "rtt"); s++) {
		size_t b = pb_sizes[s];

		for (m = 0; m < PB_NBASE; m++) {
			if (m == PB_DGRAM)
				continue;
			snprintf(nm, sizeof(nm), "round trip, %s",
				 pb_base_names[m]);
			pb_c_add(nm, PB_C_RTT, m, false, b);
		}
		pb_c_add(PB_C_RTT_PG, PB_C_RTT, PB_PG_SINGLE, true, b);
	}
	if (pb_c_want(only, "fanout")) {
		pb_c_add("fan-out 1->1, per delivery", PB_C_FAN, 1, false, 64);
		pb_c_add("fan-out 1->64, per delivery", PB_C_FAN, 64, false,
			 64);
	}
	if (pb_c_want(only, "pcids")) {
		int err = pb_pg_pcids_begin(100000);

		for (s = 0; s < 2; s++) {
			if (!err)
				pb_c_add("batched, 100 000 pCIDs in use",
					 PB_C_ONEWAY, PB_PG_BATCH, true,
					 pb_sizes[s]);
		}
		pb_pg_pcids_end();
	}
	pb_c_ratios();
	pb_c_print();
}
