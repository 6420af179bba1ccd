// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * pg-bridge --nats URL[,URL...] --host-id NAME [--export PCID]...
 *           [--serve PCID:GROUP]... [--call PCID:GROUP]... [options]
 *
 * Joins the local /dev/promisegrid to a NATS cluster, following
 * docs/protocols/pg-grid-nats-v1.md. cnats does the connection,
 * reconnection, TLS and credentials; this program only moves exact frame
 * bytes between kernel endpoints and NATS subjects.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

static volatile sig_atomic_t stop, dump, nats_lost;

void br_log(const struct bridge *b, const char *fmt, ...)
{
	va_list ap;

	flockfile(stderr);	/* one line, whole, whatever thread logs too */
	fprintf(stderr, "pg-bridge[%s]: ", b->host ? b->host : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void br_hex(const void *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[s[i] >> 4];
		out[2 * i + 1] = digits[s[i] & 15];
	}
	out[2 * n] = 0;
}

int64_t br_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump = 1;
	else
		stop = 1;
}

/* Host ids and prefixes are NATS subject tokens: no wildcards, no spaces. */
static bool token_ok(const char *s, bool dots)
{
	if (!*s || *s == '.')
		return false;
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_')
			continue;
		if (dots && *s == '.' && s[1] && s[1] != '.')
			continue;
		return false;
	}
	return true;
}

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "pg-bridge: %s\n", why);
	fprintf(stderr,
		"usage: pg-bridge --nats URL[,URL...] --host-id NAME\n"
		"         [--export PCID[,PCID...]]... [--export-open]\n"
		"         [--serve PCID:GROUP]...\n"
		"         [--call PCID:GROUP]... [--prefix P] [--creds FILE]\n"
		"         [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]\n"
		"         [--interest-ms MS] [--interest-ttl-ms MS]\n"
		"         [--max-proxies N] [--no-randomize] [--token HEX]...\n"
		"         [--verbose]\n"
		"PCID: a CID (base32 or hex) or a spec file. SIGUSR1 prints\n"
		"the counters as JSON on stdout (also at exit).\n");
	return 2;
}

static int pcid_arg(const char *s, struct pg_cid *c)
{
	struct stat st;

	if (!stat(s, &st) && S_ISREG(st.st_mode) && !pg_cid_of_file(s, c))
		return 0;
	return pg_cid_parse(s, c);
}

static int add_route(struct bridge *b, enum br_kind kind, const char *arg)
{
	struct br_route *r;
	char cid[256];
	const char *group = NULL, *colon;
	int i;

	if (b->nroutes == BR_MAX_ROUTES)
		return usage("too many routes");
	r = &b->routes[b->nroutes];
	memset(r, 0, sizeof(*r));
	r->bridge = b;
	r->kind = kind;
	colon = strchr(arg, ':');
	if (kind != BR_FANOUT) {
		if (!colon || !colon[1])
			return usage("--serve and --call want PCID:GROUP");
		group = colon + 1;
		if (strlen(group) > PG_GROUP_NAME_MAX)
			return usage("a GROUP has 1 to 64 bytes");
	} else {
		colon = arg + strlen(arg);
	}
	if ((size_t)(colon - arg) >= sizeof(cid))
		return usage("PCID too long");
	memcpy(cid, arg, colon - arg);
	cid[colon - arg] = 0;
	if (pcid_arg(cid, &r->pcid)) {
		fprintf(stderr, "pg-bridge: %s is not a CID or a spec file\n", cid);
		return 2;
	}
	br_hex(r->pcid.b, r->pcid.len, r->hex);
	if (group) {
		snprintf(r->group, sizeof(r->group), "%s", group);
		br_hex(group, strlen(group), r->ghex);
	}
	/*
	 * One use per pCID on a host: an injected frame reaches every
	 * local receive of its pCID, and a delivery does not say which
	 * receive it came through. Serving and calling one group is the
	 * exception: the kernel keeps a gateway's frames from the bridge's
	 * own member, so the group spans this host's workers and the
	 * other hosts'.
	 */
	for (i = 0; i < b->nroutes; i++) {
		const struct br_route *o = &b->routes[i];

		if (!pg_cid_eq(&o->pcid, &r->pcid))
			continue;
		if (kind != BR_FANOUT && o->kind != BR_FANOUT &&
		    kind != o->kind && !strcmp(o->group, r->group))
			continue;
		return usage("a pCID may be named once (--export, --serve or --call), or served and called in one group");
	}
	b->nroutes++;
	return 0;
}

static int token_arg(struct bridge *b, const char *s)
{
	uint8_t *t;
	int i;

	if (b->ntokens == BR_MAX_TOKENS)
		return usage("too many --token");
	if (strlen(s) != 2 * PG_TOKEN_LEN)
		return usage("--token wants 64 hex digits (pg grant's output)");
	t = b->tokens[b->ntokens];
	for (i = 0; i < PG_TOKEN_LEN; i++)
		if (sscanf(s + 2 * i, "%2hhx", &t[i]) != 1)
			return usage("--token wants 64 hex digits");
	b->ntokens++;
	return 0;
}

int br_redeem_all(struct bridge *b, struct pg *pg)
{
	struct pg_cid c;
	uint32_t rights;
	int i, err;

	for (i = 0; i < b->ntokens; i++) {
		err = pg_redeem(pg, b->tokens[i], &c, &rights);
		if (err) {
			br_log(b, "redeem token %d: %s", i + 1, pg_reason(pg));
			return err;
		}
	}
	return 0;
}

/* The route whose kernel-side receive got a frame on c: fan-out or call. */
static struct br_route *receiving_route(struct bridge *b,
					const struct pg_cid *c)
{
	int i;

	for (i = 0; i < b->nroutes; i++)
		if (b->routes[i].receiving && pg_cid_eq(&b->routes[i].pcid, c))
			return &b->routes[i];
	return NULL;
}

static struct br_route *route_of(struct bridge *b, const struct pg_cid *c)
{
	int i;

	for (i = 0; i < b->nroutes; i++)
		if (pg_cid_eq(&b->routes[i].pcid, c))
			return &b->routes[i];
	return NULL;
}

/* "what URL": which server of the cluster the bridge is on now. */
static void log_server(struct bridge *b, natsConnection *nc, const char *what)
{
	char url[256];

	if (natsConnection_GetConnectedUrl(nc, url, sizeof(url)) != NATS_OK)
		snprintf(url, sizeof(url), "?");
	br_log(b, "%s %s", what, url);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct bridge *b = closure;

	atomic_fetch_add(&b->st.reconnects, 1);
	log_server(b, nc, "reconnected to");
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct bridge *b = closure;

	(void)nc;
	atomic_fetch_add(&b->st.disconnects, 1);
	br_log(b, "disconnected");
}

static void on_connected(natsConnection *nc, void *closure)
{
	log_server(closure, nc, "connected to");
}

/*
 * cnats closes the connection for good only when told to or when it gave
 * up (a server refused the credentials twice): then there is nothing
 * left to bridge.
 */
static void on_closed(natsConnection *nc, void *closure)
{
	const char *text = NULL;
	natsStatus s;

	if (stop)
		return;
	s = natsConnection_GetLastError(nc, &text);
	br_log(closure, "nats: connection closed: %s%s%s", natsStatus_GetText(s),
	       text && *text ? ": " : "", text ? text : "");
	nats_lost = 1;
	stop = 1;
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
		     void *closure)
{
	struct bridge *b = closure;

	(void)nc;
	(void)sub;
	if (err == NATS_SLOW_CONSUMER)
		atomic_fetch_add(&b->st.slow_consumer, 1);
	else
		br_log(b, "nats: %s", natsStatus_GetText(err));
}

/* After a first attempt failed with first: cnats tries on in the background. */
static natsStatus connect_retrying(struct bridge *b, natsOptions *o,
				   natsStatus first)
{
	natsStatus s;

	br_log(b, "nats: %s; retrying in the background",
	       natsStatus_GetText(first));
	s = natsOptions_SetTimeout(o, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(o, true, on_connected, b);
	if (s == NATS_OK)
		s = natsConnection_Connect(&b->nc, o);
	return s == NATS_NOT_YET_CONNECTED ? NATS_OK : s;
}

static bool uses_tls(const struct bridge *b)
{
	const char *u = b->servers;

	if (b->tls_ca || b->tls_cert)
		return true;
	for (; u; u = strchr(u, ','), u = u ? u + 1 : NULL)
		if (!strncmp(u, "tls://", 6))
			return true;
	return false;
}

static int nats_connect(struct bridge *b)
{
	char *urls = strdup(b->servers), *save = NULL, *u;
	const char *list[16];
	natsOptions *o = NULL;
	natsStatus s;
	char name[128];
	int n = 0;

	for (u = strtok_r(urls, ",", &save); u && n < 16;
	     u = strtok_r(NULL, ",", &save))
		list[n++] = u;
	snprintf(name, sizeof(name), "pg-bridge %s", b->host);
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, list, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, name);
	/* Our own publications never come back to us. */
	if (s == NATS_OK)
		s = natsOptions_SetNoEcho(o, true);
	if (s == NATS_OK)
		s = natsOptions_SetNoRandomize(o, b->no_randomize);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 250);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_reconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, on_disconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(o, on_error, b);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(o, on_closed, b);
	if (s == NATS_OK && b->creds)
		s = natsOptions_SetUserCredentialsFromFiles(o, b->creds, NULL);
	/* cnats' TLS reads wait for a whole record: not on our thread. */
	if (s == NATS_OK && !uses_tls(b) && br_evloop_init(b, o))
		s = NATS_ERR;
	if (s == NATS_OK && (b->tls_ca || b->tls_cert))
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK && b->tls_ca)
		s = natsOptions_LoadCATrustedCertificates(o, b->tls_ca);
	if (s == NATS_OK && b->tls_cert)
		s = natsOptions_LoadCertificatesChain(o, b->tls_cert, b->tls_key);
	/*
	 * First without retries: a server that refuses the credentials is
	 * an error to report, not to retry (cnats would only say, after its
	 * retries, that no server is available). It has time for a slow
	 * host's handshake (the creds' signature), lest a timeout hide the
	 * refusal. Anything else, such as servers not up yet, is retried in
	 * the background, each attempt within cnats' usual 2 s.
	 */
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, 10000);
	if (s == NATS_OK) {
		s = natsConnection_Connect(&b->nc, o);
		if (s != NATS_OK && s != NATS_CONNECTION_AUTH_FAILED &&
		    s != NATS_NOT_PERMITTED)
			s = connect_retrying(b, o, s);
	}
	natsOptions_Destroy(o);
	free(urls);
	if (s != NATS_OK) {
		const char *why = nats_GetLastError(NULL);

		br_log(b, "nats: %s%s%s", natsStatus_GetText(s),
		       why && *why ? ": " : "", why ? why : "");
		nats_PrintLastErrorStack(stderr);
		return -1;
	}
	return 0;
}

/* PREFIX.f.P for fan-out, PREFIX.q.P.G for a group. */
static void route_subject(const char *prefix, struct br_route *r)
{
	char subj[BR_SUBJECT_MAX];

	if (r->kind == BR_FANOUT)
		snprintf(subj, sizeof(subj), "%s.f.%s", prefix, r->hex);
	else
		snprintf(subj, sizeof(subj), "%s.q.%s.%s", prefix, r->hex,
			 r->ghex);
	memcpy(r->subject, subj, sizeof(r->subject));
}

struct br_route *br_route_open(struct bridge *b, enum br_kind kind,
			       const struct pg_cid *pcid, const char *group)
{
	struct br_route *r;
	natsStatus s;

	if (route_of(b, pcid))
		return NULL;	/* one use per pCID on a host */
	if (b->nroutes == BR_MAX_ROUTES) {
		br_log(b, "--export-open: no room for more than %d routes",
		       BR_MAX_ROUTES);
		return NULL;
	}
	r = &b->routes[b->nroutes];
	memset(r, 0, sizeof(*r));
	r->bridge = b;
	r->kind = kind;
	r->pcid = *pcid;
	br_hex(r->pcid.b, r->pcid.len, r->hex);
	if (group) {
		snprintf(r->group, sizeof(r->group), "%s", group);
		br_hex(group, strlen(group), r->ghex);
	}
	route_subject(b->prefix, r);
	if (kind == BR_FANOUT) {
		s = br_subscribe(b, &r->sub, r->subject, NULL, BR_IN_FRAME, r);
		if (s != NATS_OK) {
			br_log(b, "subscribe %s: %s", r->subject,
			       natsStatus_GetText(s));
			natsSubscription_Destroy(r->sub);
			return NULL;
		}
	}
	b->nroutes++;	/* complete before the callbacks can see it */
	br_log(b, "open route %s %s%s%s",
	       kind == BR_FANOUT ? "fanout" : kind == BR_SERVE ? "serve" : "call",
	       r->hex, group ? " " : "", group ? group : "");
	return r;
}

natsStatus br_subscribe(struct bridge *b, natsSubscription **sub,
			const char *subject, const char *queue,
			enum br_in_kind kind, void *closure)
{
	static natsMsgHandler const handlers[] = {
		[BR_IN_FRAME] = br_on_frame,
		[BR_IN_REPLY] = br_on_reply,
		[BR_IN_INTEREST] = br_on_interest,
	};
	natsStatus s;

	if (b->evloop)
		return queue ? natsConnection_QueueSubscribeSync(sub, b->nc,
								 subject, queue) :
			       natsConnection_SubscribeSync(sub, b->nc, subject);
	s = queue ? natsConnection_QueueSubscribe(sub, b->nc, subject, queue,
						  handlers[kind], closure) :
		    natsConnection_Subscribe(sub, b->nc, subject,
					     handlers[kind], closure);
	/* The inbound queue is the bound: cnats' would drop earlier. */
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(*sub, -1, -1);
	return s;
}

static int subscribe(struct bridge *b)
{
	char subj[BR_SUBJECT_MAX];
	natsStatus s = NATS_OK;
	int i;

	for (i = 0; i < b->nroutes && s == NATS_OK; i++) {
		struct br_route *r = &b->routes[i];

		route_subject(b->prefix, r);
		if (r->kind == BR_FANOUT)
			s = br_subscribe(b, &r->sub, r->subject, NULL,
					 BR_IN_FRAME, r);
		/* With a watch, when the first local member comes. */
		else if (r->kind == BR_SERVE && !b->watching)
			s = br_subscribe(b, &r->sub, r->subject, "pg",
					 BR_IN_FRAME, r);
	}
	if (s == NATS_OK) {
		snprintf(subj, sizeof(subj), "%s.to.%s.*", b->prefix, b->host);
		s = br_subscribe(b, &b->sub_to, subj, NULL, BR_IN_REPLY, b);
	}
	if (s == NATS_OK) {
		snprintf(subj, sizeof(subj), "%s.interest", b->prefix);
		s = br_subscribe(b, &b->sub_interest, subj, NULL,
				 BR_IN_INTEREST, b);
	}
	if (s != NATS_OK) {
		br_log(b, "subscribe: %s", natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

/* A frame some local sender wrote on a pCID that other hosts take. */
static void local_frame(struct bridge *b, const struct pg_msg *m)
{
	struct br_route *r;
	uint64_t v;

	/* A failed carry's answer: counted when its write failed. */
	if (pg_msg_failed_request(m, NULL))
		return;
	if (pg_msg_is_control(m)) {
		br_pack_flush(b);	/* what was read before it leaves first */
		cbor_item_t *word = pg_msg_slot(m, 2), *d;
		bool route = word && cbor_isa_string(word) &&
			     cbor_string_length(word) == strlen(PG_NOTICE_ROUTE) &&
			     !memcmp(cbor_string_handle(word), PG_NOTICE_ROUTE,
				     strlen(PG_NOTICE_ROUTE));

		if (word)
			cbor_decref(&word);
		if (route) {
			br_interest_route(b, m);
			return;
		}
		d = pg_msg_slot(m, 3);

		if (d && !pg_map_uint(d, "dropped", &v)) {
			b->st.kernel_dropped += v;
			br_log(b, "the kernel dropped %llu deliveries to the bridge",
			       (unsigned long long)v);
		}
		if (d)
			cbor_decref(&d);
		return;
	}
	if (!m->attested)
		return;
	/*
	 * Frames this process injected (through any of its endpoints) are
	 * never forwarded again: the kernel attests the opener's pid.
	 */
	if (m->from.pid == b->pid) {
		b->st.own_skipped++;
		return;
	}
	r = receiving_route(b, &m->pcid);
	if (r)
		br_pack_add(b, r, m->from.endpoint, m->frame, m->frame_len);
}

static void drain_local(struct bridge *b)
{
	struct pg_msg m;
	int n;

	for (n = 0; n < BR_BATCH && pg_recv(b->local, &m, 0) >= 0; n++)
		local_frame(b, &m);
	br_pack_flush(b);
}

/*
 * Frames from other hosts, injected from their senders' proxies. A run of
 * frames of one sender on one route goes in one write.
 */
struct run {
	struct br_route *r;
	char reply[BR_SUBJECT_MAX];
	struct pg_buf buf;
	size_t ends[BR_RUN_FRAMES];
	int n;
};

static void run_flush(struct bridge *b, struct run *run)
{
	if (run->n)
		br_proxy_inject(b, run->r, *run->reply ? run->reply : NULL,
				run->buf.p, run->ends, run->n);
	run->n = 0;
	run->buf.len = 0;
}

/* One frame of a message from another host, onto the run. */
static void run_add(struct bridge *b, struct br_route *r, const char *reply,
		    const uint8_t *frame, size_t len, struct run *run)
{
	if (run->n && (run->r != r || strcmp(run->reply, reply) ||
		       run->n == BR_RUN_FRAMES ||
		       run->buf.len + len > BR_RUN_BYTES))
		run_flush(b, run);
	if (pg_buf_put(&run->buf, frame, len)) {
		r->inject_failed++;
		b->st.inject_failed++;
		return;
	}
	run->r = r;
	strcpy(run->reply, reply);
	run->ends[run->n++] = run->buf.len;
}

/*
 * A message on a route's subject: one frame, or a CBOR sequence of one
 * sender's frames. Each must be a frame on the route's pCID, not
 * attested; at the first that is not, it and the rest are dropped
 * (counted once), and the frames before it still go in.
 */
static void remote_frame(struct bridge *b, struct br_route *r, natsMsg *msg,
			 struct run *run)
{
	const uint8_t *data = (const uint8_t *)natsMsg_GetData(msg);
	int len = natsMsg_GetDataLength(msg);
	const char *reply = natsMsg_GetReply(msg);
	char want[BR_SUBJECT_MAX];
	struct pg_msg m;
	size_t off = 0;
	ssize_t n;

	/* Replies go only to another bridge's reply subjects. */
	snprintf(want, sizeof(want), "%s.to.", b->prefix);
	if (!reply || strncmp(reply, want, strlen(want)) ||
	    strlen(reply) >= sizeof(run->reply))
		reply = "";
	if (len <= 0) {
		b->st.mismatched++;
		return;
	}
	while (off < (size_t)len) {
		n = pg_msg_parse(data + off, (size_t)len - off, &m);
		if (n <= 0 || m.attested || !pg_cid_eq(&m.pcid, &r->pcid)) {
			b->st.mismatched++;
			return;
		}
		run_add(b, r, reply, data + off, (size_t)n, run);
		off += (size_t)n;
	}
}

/*
 * A reply for a local sender: carry it from the endpoint that read its
 * frame (the kernel's consent for carry).
 */
/* map[key] = value (consumed); false if it could not be added. */
static bool put(cbor_item_t *map, const char *key, cbor_item_t *value)
{
	return cbor_map_add(map, (struct cbor_pair){
		.key = cbor_move(cbor_build_string(key)),
		.value = cbor_move(value) });
}

/* verb with args (consumed), built whole if ok; 0 or -errno. */
static int request(struct pg *pg, const char *verb, cbor_item_t *args,
		   bool ok)
{
	int err = ok ? pg_request(pg, verb, args, NULL) : -ENOMEM;

	if (args)
		cbor_decref(&args);
	return err;
}

int br_gateway(struct bridge *b, struct pg *pg, const char *host)
{
	cbor_item_t *args;
	int err;

	if (!b->gateway)
		return 0;
	args = cbor_new_definite_map(1);
	err = request(pg, PG_VERB_GATEWAY, args,
		      args && put(args, "host", cbor_build_string(host)));
	if (err == -EPERM) {
		br_log(b, "not a kernel gateway (%s): remote frames are "
		       "attested as this bridge's", pg_reason(pg));
		b->gateway = false;
		return 0;
	}
	if (err)
		br_log(b, "gateway: %s", pg_reason(pg));
	return err;
}

int br_carry(struct bridge *b, uint64_t to, const void *frame, size_t len,
	     const char *host)
{
	/*
	 * Without waiting for the kernel's answer: the write fails if the
	 * carry does, and nothing else needs the answer (a failure's is
	 * skipped by local_frame()).
	 */
	return pg_carry_send(b->local, to, frame, len, b->gateway ? host : NULL);
}

static void remote_reply(struct bridge *b, natsMsg *msg)
{
	char host[BR_HOST_MAX + 1];
	const char *h = NULL;
	const char *subj = natsMsg_GetSubject(msg);
	const char *dot = strrchr(subj, '.');
	char *end;
	uint64_t to;
	int err;

	to = dot ? strtoull(dot + 1, &end, 10) : 0;
	if (!dot || !dot[1] || *end || !to) {
		b->st.carry_failed++;
		return;
	}
	/* The replying bridge names its host; a bad name is not used. */
	if (natsMsgHeader_Get(msg, BR_HOST_HEADER, &h) == NATS_OK &&
	    strlen(h) <= BR_HOST_MAX && *h) {
		snprintf(host, sizeof(host), "%s", h);
		h = host;
	} else {
		h = NULL;
	}
	err = br_carry(b, to, natsMsg_GetData(msg),
		       natsMsg_GetDataLength(msg), h);
	if (err) {
		b->st.carry_failed++;
		if (b->verbose)
			br_log(b, "carry to %llu: %s", (unsigned long long)to,
			       pg_reason(b->local));
		return;
	}
	b->st.carried_back++;
}

/* One message from NATS, of its kind, into the kernel (or the interest). */
static void from_nats(struct bridge *b, natsMsg *msg, enum br_in_kind kind,
		      struct br_route *r, struct run *run)
{
	uint64_t t;

	if (kind == BR_IN_FRAME) {
		remote_frame(b, r, msg, run);
	} else {
		run_flush(b, run);	/* keep the order of arrival */
		if (kind == BR_IN_REPLY) {
			t = br_time_start(b);
			remote_reply(b, msg);
			br_time_end(b, BR_T_CARRY, t);
		} else {
			br_interest_heard(b, msg);
		}
	}
	natsMsg_Destroy(msg);
}

/*
 * Up to BR_BATCH messages NATS delivered to sub (parsed by the last read);
 * true if it has more. The subscriptions' own limits (cnats' defaults)
 * bound what one read can leave in them.
 */
static bool drain_sub(struct bridge *b, natsSubscription *sub,
		      enum br_in_kind kind, struct br_route *r,
		      struct run *run)
{
	natsMsg *msg;
	natsStatus s;
	int pending = 0, n;

	if (!sub || natsSubscription_GetPending(sub, &pending, NULL) != NATS_OK)
		return false;
	for (n = 0; n < pending && n < BR_BATCH; n++) {
		s = natsSubscription_NextMsg(&msg, sub, 0);
		if (s == NATS_SLOW_CONSUMER)
			continue;	/* said once after a drop, counted */
		if (s != NATS_OK)
			break;
		from_nats(b, msg, kind, r, run);
	}
	run_flush(b, run);
	return pending > BR_BATCH;
}

/*
 * What NATS delivered. On a plain connection, subscription by
 * subscription: order holds only within one subject, as from NATS (the
 * spec promises no more). With TLS, from the queue, in order of arrival.
 * True if there is more.
 */
static bool drain_nats(struct bridge *b)
{
	static struct run run;
	enum br_in_kind kind;
	struct br_route *r;
	natsMsg *msg;
	bool more;
	int i;

	if (b->inbound) {
		for (i = 0; i < BR_BATCH &&
			    br_inbound_take(b, &msg, &kind, &r) > 0; i++)
			from_nats(b, msg, kind, r, &run);
		run_flush(b, &run);
		return i == BR_BATCH;
	}
	more = drain_sub(b, b->sub_interest, BR_IN_INTEREST, NULL, &run);
	more |= drain_sub(b, b->sub_to, BR_IN_REPLY, NULL, &run);
	/* br_interest_heard may open routes: b->nroutes is read each time. */
	for (i = 0; i < b->nroutes; i++)
		more |= drain_sub(b, b->routes[i].sub, BR_IN_FRAME,
				  &b->routes[i], &run);
	return more;
}

static int loop(struct bridge *b)
{
	struct pollfd pfd[4];	/* wake-up, NATS, the kernel, proxies */
	int64_t next = 0, now;
	bool more = false, backlog;
	int n, i, timeout;
	uint64_t t;

	/* The watch's first list waits in the library's stash, not the fd. */
	drain_local(b);
	while (!stop) {
		now = br_now_ms();
		if (now >= next) {
			br_interest_announce(b, false);
			br_interest_reconcile(b);
			next = now + b->interest_ms;
		}
		if (dump) {
			dump = 0;
			br_stats_print(b, stdout);
		}
		t = br_time_start(b);
		br_evloop_write(b);
		br_time_end(b, BR_T_NATS_IO, t);
		/*
		 * While NATS takes less than the kernel gives, the kernel
		 * side waits: its queues fill and its drop accounting says
		 * so, rather than the bridge growing.
		 */
		backlog = br_evloop_backlog(b);
		n = br_evloop_pollfds(b, pfd);
		pfd[n].fd = pg_fd(b->local);
		pfd[n++].events = POLLIN;
		n += br_proxy_pollfds(b, pfd + n);
		for (i = 2; backlog && i < n; i++)
			pfd[i].events = 0;
		timeout = more ? 0 : (int)(next - now);
		if (poll(pfd, n, timeout < 0 ? 0 : timeout) < 0) {
			if (errno != EINTR)
				return -errno;
			continue;
		}
		t = br_time_start(b);
		br_evloop_ready(b, pfd);
		br_time_end(b, BR_T_NATS_IO, t);
		/* Proxies first: drain_nats may open or close some. */
		t = br_time_start(b);
		br_proxy_drain_ready(b, pfd + 3, n - 3);
		br_time_end(b, BR_T_PROXIES, t);
		t = br_time_start(b);
		more = drain_nats(b);
		br_time_end(b, BR_T_FROM_NATS, t);
		if (!backlog) {
			t = br_time_start(b);
			drain_local(b);	/* also what requests' replies stashed */
			br_time_end(b, BR_T_FROM_KERNEL, t);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nats", required_argument, NULL, 'n' },
		{ "host-id", required_argument, NULL, 'h' },
		{ "export", required_argument, NULL, 'e' },
		{ "export-open", no_argument, NULL, 'o' },
		{ "serve", required_argument, NULL, 's' },
		{ "call", required_argument, NULL, 'c' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "creds", required_argument, NULL, 'C' },
		{ "tls-ca", required_argument, NULL, 'A' },
		{ "tls-cert", required_argument, NULL, 'T' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "interest-ms", required_argument, NULL, 'i' },
		{ "interest-ttl-ms", required_argument, NULL, 'I' },
		{ "max-proxies", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-randomize", no_argument, NULL, 'R' },
		{ "token", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, '?' },
		{ 0 }
	};
	static struct bridge br = {
		.prefix = "pg.grid", .interest_ms = 1000,
		.interest_ttl_ms = 3500, .max_proxies = 64, .proxy_epfd = -1,
	};
	struct bridge *b = &br;
	struct sigaction sa = { .sa_handler = on_signal };
	struct pg_hello h;
	char *list, *save, *one;
	const char *timing;
	int c, err, rc = 0, i;

	b->pid = (uint32_t)getpid();
	timing = getenv("PG_BRIDGE_TIMING");
	if (timing && !strcmp(timing, "1"))
		b->timing = calloc(1, sizeof(*b->timing));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			b->servers = optarg;
			break;
		case 'h':
			b->host = optarg;
			break;
		case 'e':
			list = strdup(optarg);
			for (one = strtok_r(list, ",", &save); one;
			     one = strtok_r(NULL, ",", &save))
				if (add_route(b, BR_FANOUT, one))
					return 2;
			free(list);
			break;
		case 'o':
			b->export_open = true;
			break;
		case 's':
			if (add_route(b, BR_SERVE, optarg))
				return 2;
			break;
		case 'c':
			if (add_route(b, BR_CALL, optarg))
				return 2;
			break;
		case 'p':
			b->prefix = optarg;
			break;
		case 'C':
			b->creds = optarg;
			break;
		case 'A':
			b->tls_ca = optarg;
			break;
		case 'T':
			b->tls_cert = optarg;
			break;
		case 'K':
			b->tls_key = optarg;
			break;
		case 'i':
			b->interest_ms = atoi(optarg);
			break;
		case 'I':
			b->interest_ttl_ms = atoi(optarg);
			break;
		case 'P':
			b->max_proxies = atoi(optarg);
			break;
		case 'v':
			b->verbose = true;
			break;
		case 'R':
			b->no_randomize = true;
			break;
		case 'k':
			if (token_arg(b, optarg))
				return 2;
			break;
		default:
			return usage(NULL);
		}
	}
	if (optind != argc)
		return usage("unexpected arguments");
	if (!b->servers || !b->host)
		return usage("--nats and --host-id are required");
	if (strlen(b->host) > BR_HOST_MAX || !token_ok(b->host, false))
		return usage("--host-id: 1 to 64 of A-Z a-z 0-9 - _");
	if (strlen(b->prefix) > 64 || !token_ok(b->prefix, true))
		return usage("--prefix: tokens of A-Z a-z 0-9 - _ joined by dots");
	if (b->interest_ms < 50 || b->interest_ttl_ms <= b->interest_ms)
		return usage("--interest-ms >= 50, --interest-ttl-ms above it");
	if (b->max_proxies < 1 || b->max_proxies > 1024)
		return usage("--max-proxies: 1 to 1024");
	if (b->creds && access(b->creds, R_OK))
		return usage("--creds: no readable credentials file");
	if (!b->nroutes && !b->export_open)
		br_log(b, "warning: nothing exported (--export, --export-open, --serve, --call)");

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = pg_open(&b->local, O_NONBLOCK);
	if (!err)
		err = pg_hello(b->local, &h);
	if (err) {
		br_log(b, "open %s: %s", PG_DEVICE_PATH, strerror(-err));
		return 1;
	}
	/* A gateway before it receives: the kernel's rule. */
	b->gateway = true;
	if (br_gateway(b, b->local, b->host) || br_redeem_all(b, b->local) ||
	    br_interest_watch(b)) {
		pg_close(b->local);
		return 1;
	}
	if (b->export_open && !b->watching) {
		br_log(b, "--export-open needs the kernel's route watch "
		       "(a gateway: CAP_NET_ADMIN)");
		pg_close(b->local);
		return 1;
	}
	b->local_id = h.endpoint;
	if (nats_connect(b) || (!b->evloop && br_inbound_init(b)) ||
	    subscribe(b)) {
		rc = 1;
		goto out;
	}
	if (natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED)
		log_server(b, b->nc, "connected to");
	br_log(b, "up: endpoint %llu, %d routes, prefix %s",
	       (unsigned long long)b->local_id, b->nroutes, b->prefix);
	err = loop(b);
	if (err)
		br_log(b, "poll: %s", strerror(-err));
	if (nats_lost)
		rc = 1;
	else
		br_interest_announce(b, true);
out:
	stop = 1;	/* closing now is ours: on_closed says nothing */
	br_stats_print(b, stdout);
	for (i = 0; i < b->nroutes; i++)
		natsSubscription_Destroy(b->routes[i].sub);
	natsSubscription_Destroy(b->sub_to);
	natsSubscription_Destroy(b->sub_interest);
	if (b->nc) {
		natsConnection_Close(b->nc);
		natsConnection_Destroy(b->nc);
	}
	br_evloop_free(b);
	br_inbound_free(b);
	free(b->timing);
	br_proxy_free(b);
	pg_close(b->local);
	nats_Close();
	return rc;
}
