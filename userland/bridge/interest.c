// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Interest between bridges: every bridge announces, every --interest-ms,
 * the pCIDs it takes from NATS on PREFIX.interest: its --export fan-out
 * pCIDs and its --serve groups, each while the kernel's route watch
 * (pg-kernel-control-v4) reports a local receive of it, or always where
 * the bridge could not become a gateway and has no watch. A bridge
 * receives a pCID locally (so that local frames leave the host) only
 * while another host announced taking it within --interest-ttl-ms, and
 * stops at once on that host's "bye" or when the host withdraws it.
 */
#include <stdlib.h>
#include <string.h>

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

void br_interest_announce(struct bridge *b, bool bye)
{
	char body[BR_MAX_ROUTES * (BR_SUBJECT_MAX / 2) + 128];
	size_t off;
	int i, n;

	off = snprintf(body, sizeof(body), PROTO " %s %s\n", b->host,
		       bye ? "bye" : "alive");
	for (i = 0; i < b->nroutes && !bye; i++) {
		const struct br_route *r = &b->routes[i];

		if (b->watching && !r->local_interest)
			continue;	/* nobody here receives it now */

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
		br_evloop_flush(b, 1000);
	last_announce_ms = br_now_ms();
}

static void forget(int i)
{
	free(hosts[i].body);
	hosts[i] = hosts[--nhosts];
}

/* n bytes from 2n hex digits (a group name's, as announced). */
static bool unhex(const char *s, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			return false;
	return true;
}

/*
 * --export-open: the routes another host's announcement names that this
 * bridge has none for: fan-out it takes too, groups it calls.
 */
static void open_heard(struct bridge *b, const char *body)
{
	/* One byte longer than allowed: an over-long one fails, not shrinks. */
	char one[BR_SUBJECT_MAX], p[2 * PG_CID_MAX + 2];
	char g[2 * PG_GROUP_NAME_MAX + 2], group[PG_GROUP_NAME_MAX + 1];
	const char *line, *end;
	struct pg_cid c;
	size_t gn;
	int n;

	for (line = body; *line; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if ((size_t)(end - line) >= sizeof(one))
			continue;
		memcpy(one, line, end - line);	/* one line, terminated */
		one[end - line] = 0;
		n = sscanf(one, "%*1[fs] %193[0-9a-f] %129[0-9a-f]", p, g);
		/* The pCID's hex, as --export takes it: a valid CIDv1. */
		if (n < 1 || pg_cid_parse(p, &c))
			continue;
		if (one[0] == 'f' && n == 1) {
			br_route_open(b, BR_FANOUT, &c, NULL);
		} else if (one[0] == 's' && n == 2) {
			gn = strlen(g);
			if (!gn || gn % 2 || gn > 2 * PG_GROUP_NAME_MAX ||
			    !unhex(g, gn / 2, (uint8_t *)group) ||
			    memchr(group, 0, gn / 2))
				continue;
			group[gn / 2] = 0;
			br_route_open(b, BR_CALL, &c, group);
		}
	}
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
		if (br_now_ms() - last_announce_ms > 200)
			br_interest_announce(b, false);
	}
	hosts[i].seen_ms = br_now_ms();
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
		if (b->export_open)
			open_heard(b, copy);
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

/*
 * A served group takes its share of NATS's queue group only while it
 * has local members (always, without a watch): a host whose last worker
 * left stops getting calls it could only refuse.
 */
static void serve_subscription(struct bridge *b, struct br_route *r)
{
	bool want = !b->watching || r->local_interest;
	natsStatus s;

	if (want == (r->sub != NULL) || !b->nc)
		return;
	if (want) {
		s = br_subscribe(b, &r->sub, r->subject, "pg", BR_IN_FRAME, r);
	} else {
		s = natsSubscription_Unsubscribe(r->sub);
		natsSubscription_Destroy(r->sub);
		r->sub = NULL;
	}
	if (s != NATS_OK)
		br_log(b, "serve %s %s: %s", r->hex, r->group,
		       natsStatus_GetText(s));
	else
		br_log(b, "serve %c %s %s", want ? '+' : '-', r->hex, r->group);
}

int br_interest_watch(struct bridge *b)
{
	cbor_item_t *d = NULL;
	uint64_t n = 0;
	int err;

	if (!b->gateway)
		return 0;
	err = pg_request(b->local, PG_VERB_WATCH, NULL, &d);
	if (err) {
		br_log(b, "watch: %s", pg_reason(b->local));
		return err;
	}
	pg_map_uint(d, "routes", &n);
	cbor_decref(&d);
	b->watching = true;
	br_log(b, "route watch: %llu local routes", (unsigned long long)n);
	return 0;
}

void br_interest_route(struct bridge *b, const struct pg_msg *m)
{
	cbor_item_t *d = pg_msg_slot(m, 3), *g, *up;
	char group[PG_GROUP_NAME_MAX + 1] = "";
	bool changed = false, on;
	struct pg_cid c;
	size_t n;
	int i;

	b->st.route_notices++;
	up = d ? pg_map_get(d, "up") : NULL;
	if (!up || !cbor_isa_float_ctrl(up) || !cbor_float_ctrl_is_ctrl(up) ||
	    !pg_cid_from_link(pg_map_get(d, "pcid"), &c))
		goto out;
	on = cbor_get_bool(up);
	g = pg_map_get(d, "group");
	if (g && cbor_isa_string(g) && cbor_string_is_definite(g) &&
	    (n = cbor_string_length(g)) <= PG_GROUP_NAME_MAX) {
		memcpy(group, cbor_string_handle(g), n);
		group[n] = 0;
	}
	for (i = 0; i < b->nroutes; i++) {
		struct br_route *r = &b->routes[i];

		if (!pg_cid_eq(&r->pcid, &c) || r->local_interest == on ||
		    (r->kind == BR_FANOUT) != !g ||
		    (g && (r->kind != BR_SERVE || strcmp(r->group, group))))
			continue;
		r->local_interest = on;
		changed = true;
	}
	/* --export-open: a receive here is what the other hosts learn of. */
	if (!changed && on && b->export_open) {
		struct br_route *r = br_route_open(b, g ? BR_SERVE : BR_FANOUT,
						   &c, g ? group : NULL);

		if (r) {
			r->local_interest = true;
			changed = true;
		}
	}
	if (changed) {
		br_interest_reconcile(b);
		br_interest_announce(b, false);	/* other hosts learn it now */
	}
out:
	if (d)
		cbor_decref(&d);	/* up and g are borrowed from it */
}

void br_interest_reconcile(struct bridge *b)
{
	int64_t now = br_now_ms();
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

		if (r->kind == BR_SERVE) {
			/* served groups take, they do not send */
			serve_subscription(b, r);
			continue;
		}
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
