// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * grid-bench: one-way frames through the bridges against raw NATS, for
 * check-grid (selftests/grid). Four modes:
 *
 *   grid-bench pg-send PCID N SIZE START  frames grid([42(PCID), i, h'..']),
 *                                         i from START to START + N - 1
 *   grid-bench pg-recv PCID N FIRST_MS IDLE_MS ROUNDS
 *   grid-bench nats-pub URLS SUBJECT N SIZE START
 *   grid-bench nats-sub URLS SUBJECT N FIRST_MS IDLE_MS ROUNDS
 *   grid-bench pg-echo PCID GROUP SECONDS   a worker: replies with the body
 *   grid-bench pg-rtt PCID N SIZE           N calls, one at a time
 *   grid-bench nats-echo URLS SUBJECT SECONDS  responds with the payload
 *   grid-bench nats-rtt URLS SUBJECT N SIZE N requests, one at a time
 *
 * The round trips print "RTT <pg|nats> n=<answered> size=<bytes>
 * median_us=<..> p90_us=<..> min_us=<..> p10_us=<..>": a call through
 * the bridges (pg call's path: kernel, bridge, NATS, bridge, kernel,
 * worker and back) against a NATS request to a cnats responder on the
 * same guests, same body size.
 *
 * A receiver expects ROUNDS rounds of N (round r: indices r * N to
 * r * N + N - 1). It prints "ready" once receiving, then, when all came
 * or nothing came for IDLE_MS (FIRST_MS for the first), one line:
 * "BENCH <pg|nats> n=<received> dup=<repeated> missing=<not received>
 * bytes=<payload bytes> us=<first to last arrival, each round, summed>
 * rounds=<us of round 1>,...". A raw NATS message carries as many bytes
 * as a frame, so both paths move about equal sizes.
 *
 * Every mode pins itself to CPU 0, and guest-grid.sh pins the bridges
 * there too: the guests' two vCPUs share one TCG thread, so a wake-up
 * across them waits for QEMU's round robin, by a delay that neither path
 * chose. One vCPU per guest for both paths, as pgbench does locally.
 */
#define _GNU_SOURCE		/* sched_setaffinity */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpromisegrid-cbor.h>
#include <nats/nats.h>

#define MAX_ROUNDS	16

struct tally {
	uint64_t n, dup, bytes;
	uint8_t *seen;
	size_t max, per_round;
	int rounds;
	int64_t first_us[MAX_ROUNDS], last_us[MAX_ROUNDS];
};

static bool tally_init(struct tally *t, uint64_t n, int rounds)
{
	if (rounds < 1 || rounds > MAX_ROUNDS || !n)
		return false;
	memset(t, 0, sizeof(*t));
	t->per_round = n;
	t->rounds = rounds;
	t->max = n * rounds;
	t->seen = calloc(t->max, 1);
	return t->seen;
}

static int64_t clock_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

/* CPU time of every thread of this process (cnats' included). */
static int64_t cpu_us(void)
{
	return clock_us(CLOCK_PROCESS_CPUTIME_ID);
}

static void count(struct tally *t, uint64_t i, size_t len)
{
	int64_t now = now_us();
	int r;

	if (i >= t->max) {
		t->dup++;	/* not ours: counted as wrong */
		return;
	}
	r = i / t->per_round;
	if (!t->first_us[r])
		t->first_us[r] = now;
	t->last_us[r] = now;
	if (t->seen[i]) {
		t->dup++;
		return;
	}
	t->seen[i] = 1;
	t->n++;
	t->bytes += len;
}

static int report(const char *what, const struct tally *t)
{
	uint64_t missing = t->max > t->n ? t->max - t->n : 0;
	int64_t sum = 0;
	char rounds[16 * MAX_ROUNDS] = "";
	size_t off = 0;
	int r;

	for (r = 0; r < t->rounds; r++) {
		int64_t us = t->last_us[r] - t->first_us[r];

		sum += us;
		off += snprintf(rounds + off, sizeof(rounds) - off, "%s%lld",
				r ? "," : "", (long long)us);
	}
	printf("BENCH %s n=%llu dup=%llu missing=%llu bytes=%llu us=%lld rounds=%s\n",
	       what, (unsigned long long)t->n, (unsigned long long)t->dup,
	       (unsigned long long)missing, (unsigned long long)t->bytes,
	       (long long)sum, rounds);
	return t->n == t->max && !t->dup ? 0 : 1;
}

static int frame_of(struct pg_buf *out, const struct pg_cid *c, uint64_t i,
		    const uint8_t *body, size_t size)
{
	cbor_item_t *slots[2];
	int err;

	slots[0] = cbor_build_uint64(i);
	slots[1] = cbor_build_bytestring(body, size);
	err = pg_frame_encode(out, c, slots, 2);
	cbor_decref(&slots[0]);
	cbor_decref(&slots[1]);
	return err;
}

static int pg_send_mode(const char *pcid, uint64_t n, size_t size,
			uint64_t start)
{
	uint8_t *body = calloc(1, size);
	struct pg_batch b = { 0 };
	struct pg_buf f = { 0 };
	struct pg_cid c;
	struct pg *pg;
	size_t acc;
	uint64_t i;

	if (!body || pg_cid_parse(pcid, &c) || pg_open(&pg, 0))
		return 2;
	for (i = 0; i < n; i++) {
		f.len = 0;
		if (frame_of(&f, &c, start + i, body, size) ||
		    pg_batch_add(&b, f.p, f.len))
			return 2;
		if (b.n == 64 || i + 1 == n) {
			if (pg_batch_send(pg, &b, &acc) < 0) {
				fprintf(stderr, "grid-bench: send: %s\n",
					pg_reason(pg));
				return 1;
			}
			pg_batch_reset(&b);
		}
	}
	printf("SENT pg n=%llu frame=%zu\n", (unsigned long long)n, f.len);
	return 0;
}

static int pg_recv_mode(const char *pcid, uint64_t n, int first_ms,
			int idle_ms, int rounds)
{
	struct tally t;
	struct pg_msg m;
	struct pg_cid c;
	struct pg *pg;
	uint64_t i;

	if (!tally_init(&t, n, rounds) || pg_cid_parse(pcid, &c) ||
	    pg_open(&pg, 0) ||
	    pg_receive(pg, &c, NULL, false))
		return 2;
	printf("ready\n");
	fflush(stdout);
	while (t.n < t.max) {
		cbor_item_t *s;

		if (pg_recv(pg, &m, t.n || t.dup ? idle_ms : first_ms) < 0)
			break;
		if (pg_msg_is_control(&m) || !pg_cid_eq(&m.pcid, &c))
			continue;
		s = pg_msg_slot(&m, 1);
		i = s && cbor_isa_uint(s) ? cbor_get_int(s) : UINT64_MAX;
		if (s)
			cbor_decref(&s);
		count(&t, i, m.frame_len);
	}
	return report("pg", &t);
}

static natsConnection *connect_to(const char *urls)
{
	natsConnection *nc = NULL;
	natsOptions *o = NULL;
	char *copy = strdup(urls), *save, *u, url[256];
	const char *list[8];
	int k = 0;

	for (u = strtok_r(copy, ",", &save); u && k < 8;
	     u = strtok_r(NULL, ",", &save))
		list[k++] = u;
	if (natsOptions_Create(&o) != NATS_OK ||
	    natsOptions_SetServers(o, list, k) != NATS_OK ||
	    natsOptions_SetNoRandomize(o, true) != NATS_OK ||
	    natsConnection_Connect(&nc, o) != NATS_OK) {
		nats_PrintLastErrorStack(stderr);
		nc = NULL;
	}
	natsOptions_Destroy(o);
	free(copy);
	/* Which server: the bridges' may differ after a fault test. */
	if (nc && natsConnection_GetConnectedUrl(nc, url, sizeof(url)) == NATS_OK)
		fprintf(stderr, "grid-bench: on %s\n", url);
	return nc;
}

static int nats_pub_mode(const char *urls, const char *subj, uint64_t n,
			 size_t size, uint64_t start)
{
	natsConnection *nc = connect_to(urls);
	uint8_t *body = calloc(1, size < 8 ? 8 : size);
	uint64_t i;

	if (!nc || !body)
		return 2;
	for (i = start; i < start + n; i++) {
		memcpy(body, &i, sizeof(i));
		if (natsConnection_Publish(nc, subj, body, (int)size) != NATS_OK)
			return 1;
	}
	natsConnection_FlushTimeout(nc, 10000);
	printf("SENT nats n=%llu size=%zu\n", (unsigned long long)n, size);
	natsConnection_Destroy(nc);
	return 0;
}

static int nats_sub_mode(const char *urls, const char *subj, uint64_t n,
			 int first_ms, int idle_ms, int rounds)
{
	struct tally t;
	natsConnection *nc = connect_to(urls);
	natsSubscription *sub = NULL;
	natsMsg *msg;
	uint64_t i;

	if (!nc || !tally_init(&t, n, rounds) ||
	    natsConnection_SubscribeSync(&sub, nc, subj) != NATS_OK ||
	    natsSubscription_SetPendingLimits(sub, -1, -1) != NATS_OK ||
	    natsConnection_FlushTimeout(nc, 5000) != NATS_OK)
		return 2;
	printf("ready\n");
	fflush(stdout);
	while (t.n < t.max) {
		if (natsSubscription_NextMsg(&msg, sub,
				t.n || t.dup ? idle_ms : first_ms) != NATS_OK)
			break;
		i = UINT64_MAX;
		if (natsMsg_GetDataLength(msg) >= 8)
			memcpy(&i, natsMsg_GetData(msg), sizeof(i));
		count(&t, i, natsMsg_GetDataLength(msg));
		natsMsg_Destroy(msg);
	}
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	return report("nats", &t);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* @cpu: this process's CPU time over the calls, in us. */
static int rtt_report(const char *what, int64_t *us, uint64_t n,
		      size_t size, int64_t cpu)
{
	if (!n) {
		printf("RTT %s n=0 size=%zu\n", what, size);
		return 1;
	}
	qsort(us, n, sizeof(*us), cmp_i64);
	printf("RTT %s n=%llu size=%zu median_us=%lld p90_us=%lld min_us=%lld p10_us=%lld cpu_us_per_call=%lld\n",
	       what, (unsigned long long)n, size, (long long)us[n / 2],
	       (long long)us[n * 9 / 10], (long long)us[0],
	       (long long)us[n / 10], (long long)(cpu / (int64_t)n));
	return 0;
}

static int pg_echo_mode(const char *pcid, const char *group, int seconds)
{
	struct pg_result res = { .outcome = PG_KEPT };
	int64_t end = now_us() + (int64_t)seconds * 1000000;
	struct pg_call call;
	struct pg_cid c;
	struct pg_msg m;
	struct pg *pg;

	if (pg_cid_parse(pcid, &c) || pg_open(&pg, 0) ||
	    pg_serve_join(pg, &c, group))
		return 2;
	printf("ready\n");
	fflush(stdout);
	while (now_us() < end) {
		if (pg_recv(pg, &m, 1000) < 0 || pg_call_parse(&m, &call))
			continue;
		res.data = (uint8_t *)call.body;
		res.len = call.len;
		pg_serve_reply(pg, &call, &res);
	}
	pg_close(pg);
	return 0;
}

static int pg_rtt_mode(const char *pcid, uint64_t n, size_t size)
{
	int64_t *us = calloc(n ? n : 1, sizeof(*us)), t0, cpu;
	uint8_t *body = calloc(1, size ? size : 1);
	struct pg_result res;
	uint64_t i, done = 0;
	struct pg_cid c;
	struct pg *pg;

	if (!us || !body || pg_cid_parse(pcid, &c) || pg_open(&pg, 0))
		return 2;
	cpu = cpu_us();
	for (i = 0; i < n; i++) {
		memset(&res, 0, sizeof(res));
		t0 = now_us();
		if (!pg_call(pg, &c, body, size, 5000, &res) &&
		    res.outcome == PG_KEPT && res.len == size)
			us[done++] = now_us() - t0;
		pg_result_free(&res);
	}
	cpu = cpu_us() - cpu;
	pg_close(pg);
	return rtt_report("pg", us, done, size, cpu);
}

static void on_echo(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		    void *closure)
{
	(void)sub;
	(void)closure;
	if (natsMsg_GetReply(msg))
		natsConnection_Publish(nc, natsMsg_GetReply(msg),
				       natsMsg_GetData(msg),
				       natsMsg_GetDataLength(msg));
	natsMsg_Destroy(msg);
}

static int nats_echo_mode(const char *urls, const char *subj, int seconds)
{
	natsConnection *nc = connect_to(urls);
	natsSubscription *sub = NULL;

	if (!nc || natsConnection_Subscribe(&sub, nc, subj, on_echo, NULL) !=
	    NATS_OK || natsConnection_FlushTimeout(nc, 5000) != NATS_OK)
		return 2;
	printf("ready\n");
	fflush(stdout);
	nats_Sleep((int64_t)seconds * 1000);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	return 0;
}

static int nats_rtt_mode(const char *urls, const char *subj, uint64_t n,
			 size_t size)
{
	natsConnection *nc = connect_to(urls);
	int64_t *us = calloc(n ? n : 1, sizeof(*us)), t0, cpu;
	char *body = calloc(1, size ? size : 1);
	uint64_t i, done = 0;
	natsMsg *reply;

	if (!nc || !us || !body)
		return 2;
	cpu = cpu_us();
	for (i = 0; i < n; i++) {
		t0 = now_us();
		if (natsConnection_Request(&reply, nc, subj, body, (int)size,
					   5000) != NATS_OK)
			continue;
		if (natsMsg_GetDataLength(reply) == (int)size)
			us[done++] = now_us() - t0;
		natsMsg_Destroy(reply);
	}
	cpu = cpu_us() - cpu;
	natsConnection_Destroy(nc);
	return rtt_report("nats", us, done, size, cpu);
}

int main(int argc, char **argv)
{
	cpu_set_t cpu0;
	int rc = 2;

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0))
		perror("grid-bench: sched_setaffinity");

	if (argc == 6 && !strcmp(argv[1], "pg-send"))
		rc = pg_send_mode(argv[2], strtoull(argv[3], NULL, 0),
				  strtoul(argv[4], NULL, 0),
				  strtoull(argv[5], NULL, 0));
	else if (argc == 7 && !strcmp(argv[1], "pg-recv"))
		rc = pg_recv_mode(argv[2], strtoull(argv[3], NULL, 0),
				  atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
	else if (argc == 7 && !strcmp(argv[1], "nats-pub"))
		rc = nats_pub_mode(argv[2], argv[3], strtoull(argv[4], NULL, 0),
				   strtoul(argv[5], NULL, 0),
				   strtoull(argv[6], NULL, 0));
	else if (argc == 8 && !strcmp(argv[1], "nats-sub"))
		rc = nats_sub_mode(argv[2], argv[3], strtoull(argv[4], NULL, 0),
				   atoi(argv[5]), atoi(argv[6]), atoi(argv[7]));
	else if (argc == 5 && !strcmp(argv[1], "pg-echo"))
		rc = pg_echo_mode(argv[2], argv[3], atoi(argv[4]));
	else if (argc == 5 && !strcmp(argv[1], "pg-rtt"))
		rc = pg_rtt_mode(argv[2], strtoull(argv[3], NULL, 0),
				 strtoul(argv[4], NULL, 0));
	else if (argc == 5 && !strcmp(argv[1], "nats-echo"))
		rc = nats_echo_mode(argv[2], argv[3], atoi(argv[4]));
	else if (argc == 6 && !strcmp(argv[1], "nats-rtt"))
		rc = nats_rtt_mode(argv[2], argv[3], strtoull(argv[4], NULL, 0),
				   strtoul(argv[5], NULL, 0));
	else
		fprintf(stderr, "usage: see the comment at the top of grid-bench.c\n");
	nats_Close();
	return rc;
}
