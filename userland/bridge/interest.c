// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Interest between bridges, without kernel support: every bridge
 * announces, every --interest-ms, the pCIDs it takes from NATS (its
 * --export fan-out pCIDs and its --serve groups) on PREFIX.interest. A
 * bridge receives a pCID locally (so that local frames leave the host)
 * only while another host announced taking it within --interest-ttl-ms,
 * and stops at once on that host's "bye". What is announced is the
 * bridge's configuration, not the receivers the kernel has: the kernel
 * has no route watch yet (issue 14, item 3).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"

#define PROTO	"pg-grid-nats-v1"

struct host_interest {
	char name[BR_HOST_MAX + 1];
	int64_t seen_ms;
	char *body;		/* "\n" + the announced lines, each ending "\n" */
};

static struct host_interest hosts[BR_MAX_HOSTS];
static int nhosts;
static int64_t last_announce_ms;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void br_interest_announce(struct bridge *b, bool bye)
{
	char body[BR_MAX_ROUTES * (BR_SUBJECT_MAX / 2) + 128];
	size_t off;
	int i, n;

	off = snprintf(body, sizeof(body), PROTO " %s %s\n", b->host,
		       bye ? "bye" : "alive");
	for (i = 0; i < b->nroutes && !bye; i++) {
		const struct br_route *r = &b->routes[i];

		if (r->kind == BR_FANOUT)
			n = snprintf(body + off, sizeof(body) - off, "f %s\n",
				     r->hex);
		else if (r->kind == BR_SERVE)
			n = snprintf(body + off, sizeof(body) - off,
				     "s %s %s\n", r->hex, r->ghex);
		else
			continue;
		if (n < 0 || (size_t)n >= sizeof(body) - off)
			break;
		off += n;
	}
	char subj[BR_SUBJECT_MAX];

	snprintf(subj, sizeof(subj), "%s.interest", b->prefix);
	if (natsConnection_Publish(b->nc, subj, body, (int)off) != NATS_OK)
		b->st.publish_failed++;
	if (bye)
		natsConnection_FlushTimeout(b->nc, 1000);
	last_announce_ms = now_ms();
}

static void forget(int i)
{
	free(hosts[i].body);
	hosts[i] = hosts[--nhosts];
}

void br_interest_heard(struct bridge *b, natsMsg *msg)
{
	const char *data = natsMsg_GetData(msg);
	int len = natsMsg_GetDataLength(msg);
	char name[BR_HOST_MAX + 1], state[8], first[128];
	const char *nl;
	int i;

	nl = data ? memchr(data, '\n', len) : NULL;
	if (!nl || nl - data >= (int)sizeof(first))
		return;
	memcpy(first, data, nl - data);	/* sscanf on a terminated copy */
	first[nl - data] = 0;
	if (sscanf(first, PROTO " %64s %7s", name, state) != 2)
		return;
	if (!strcmp(name, b->host))
		return;
	for (i = 0; i < nhosts; i++)
		if (!strcmp(hosts[i].name, name))
			break;
	if (!strcmp(state, "bye")) {
		if (i < nhosts) {
			br_log(b, "host %s said bye", name);
			forget(i);
			br_interest_reconcile(b);
		}
		return;
	}
	if (i == nhosts) {
		if (nhosts == BR_MAX_HOSTS)
			return;
		memset(&hosts[i], 0, sizeof(hosts[i]));
		snprintf(hosts[i].name, sizeof(hosts[i].name), "%s", name);
		nhosts++;
		br_log(b, "host %s heard", name);
		/* A newcomer learns this host now, not a period later. */
		if (now_ms() - last_announce_ms > 200)
			br_interest_announce(b, false);
	}
	hosts[i].seen_ms = now_ms();
	len -= nl - data;	/* keep the leading "\n" */
	if (!hosts[i].body || strlen(hosts[i].body) != (size_t)len ||
	    memcmp(hosts[i].body, nl, len)) {
		char *copy = malloc(len + 1);

		if (!copy)
			return;
		memcpy(copy, nl, len);
		copy[len] = 0;
		free(hosts[i].body);
		hosts[i].body = copy;
		br_interest_reconcile(b);
	}
}

/* Does another live host take route r's pCID (and group)? */
static bool wanted(const struct br_route *r)
{
	char line[BR_SUBJECT_MAX];
	int i;

	if (r->kind == BR_FANOUT)
		snprintf(line, sizeof(line), "\nf %s\n", r->hex);
	else
		snprintf(line, sizeof(line), "\ns %s %s\n", r->hex, r->ghex);
	for (i = 0; i < nhosts; i++)
		if (hosts[i].body && strstr(hosts[i].body, line))
			return true;
	return false;
}

void br_interest_reconcile(struct bridge *b)
{
	int64_t now = now_ms();
	int i, err;
	bool want;

	for (i = 0; i < nhosts; i++) {
		if (now - hosts[i].seen_ms > b->interest_ttl_ms) {
			br_log(b, "host %s gone (silent %d ms)", hosts[i].name,
			       b->interest_ttl_ms);
			forget(i--);
		}
	}
	for (i = 0; i < b->nroutes; i++) {
		struct br_route *r = &b->routes[i];

		if (r->kind == BR_SERVE)
			continue;	/* served groups take, they do not send */
		want = wanted(r);
		if (want == r->receiving)
			continue;
		if (want)
			err = pg_receive(b->local, &r->pcid,
					 r->kind == BR_CALL ? r->group : NULL,
					 true);
		else
			err = pg_unreceive(b->local, &r->pcid,
					   r->kind == BR_CALL ? r->group : NULL);
		if (err) {
			br_log(b, "%s %s: %s", want ? "receive" : "unreceive",
			       r->hex, pg_reason(b->local));
			continue;
		}
		r->receiving = want;
		br_log(b, "route %c%s %s%s%s", want ? '+' : '-',
		       r->kind == BR_CALL ? "call" : "fanout", r->hex,
		       r->kind == BR_CALL ? " " : "",
		       r->kind == BR_CALL ? r->group : "");
	}
}
