// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * The bridge's counters as one JSON object a line (SIGUSR1, and at exit),
 * and the loop's stage timing when PG_BRIDGE_TIMING=1 asks for it.
 */
#include <time.h>

#include "bridge.h"

#define U(x)	((unsigned long long)(x))

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t br_time_start(const struct bridge *b)
{
	return b->timing ? now_ns() : 0;
}

void br_time_end(struct bridge *b, enum br_stage s, uint64_t t)
{
	if (!b->timing)
		return;
	b->timing->ns[s] += now_ns() - t;
	b->timing->n[s]++;
}

void br_stats_print(const struct bridge *b, FILE *f)
{
	const struct br_stats *s = &b->st;
	static const char *const kinds[] = { "fanout", "serve", "call" };
	int i;

	fprintf(f, "{\"host\":\"%s\",\"gateway\":%s,\"watching\":%s,"
		"\"route_notices\":%llu,", b->host,
		b->gateway ? "true" : "false", b->watching ? "true" : "false",
		U(s->route_notices));
	fprintf(f, "\"published\":%llu,\"published_messages\":%llu,"
		"\"injected\":%llu,"
		"\"replies_out\":%llu,\"carried_back\":%llu,"
		"\"own_skipped\":%llu,\"reconnects\":%llu,\"disconnects\":%llu,"
		"\"proxies\":%d,\"proxies_opened\":%llu,"
		"\"proxies_evicted\":%llu,\"dropped\":{\"inbound_queue\":%llu,"
		"\"slow_consumer\":%llu,\"kernel\":%llu,\"inject\":%llu,"
		"\"carry\":%llu,\"publish\":%llu,\"mismatched\":%llu,"
		"\"no_reply_to\":%llu},\"routes\":[",
		U(s->published), U(s->published_messages), U(s->injected),
		U(s->replies_out),
		U(s->carried_back), U(s->own_skipped), U(s->reconnects),
		U(s->disconnects), b->nproxies, U(s->proxies_opened),
		U(s->proxies_evicted), U(s->inbound_dropped),
		U(s->slow_consumer), U(s->kernel_dropped), U(s->inject_failed),
		U(s->carry_failed), U(s->publish_failed), U(s->mismatched),
		U(s->no_reply_to));
	for (i = 0; i < b->nroutes; i++) {
		const struct br_route *r = &b->routes[i];

		fprintf(f, "%s{\"kind\":\"%s\",\"pcid\":\"%s\",\"group\":\"%s\","
			"\"receiving\":%s,\"local_interest\":%s,\"out\":%llu,"
			"\"in\":%llu,\"inject_failed\":%llu}", i ? "," : "",
			kinds[r->kind], r->hex, r->ghex,
			r->receiving ? "true" : "false",
			r->local_interest ? "true" : "false",
			U(r->out), U(r->in), U(r->inject_failed));
	}
	fprintf(f, "]");
	if (b->timing) {
		static const char *const stages[BR_T_N] = {
			"nats_io", "from_nats", "carry", "from_kernel",
			"proxies",
		};

		fprintf(f, ",\"timing\":{");
		for (i = 0; i < BR_T_N; i++)
			fprintf(f, "%s\"%s\":{\"n\":%llu,\"us\":%llu}",
				i ? "," : "", stages[i], U(b->timing->n[i]),
				U(b->timing->ns[i] / 1000));
		fprintf(f, "}");
	}
	fprintf(f, "}\n");
	fflush(f);
}
