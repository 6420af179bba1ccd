/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * pg-bridge: joins the local grid kernel to a NATS cluster
 * (docs/protocols/pg-grid-nats-v1.md). One thread runs everything that
 * touches /dev/promisegrid, and on a plain connection the NATS socket too
 * (evloop.c); cnats' own threads reconnect, ping and count, and on a TLS
 * connection read, handing messages over through inbound.c.
 */
#ifndef PG_BRIDGE_H
#define PG_BRIDGE_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include <libpromisegrid-cbor.h>
#include <nats/nats.h>

#define BR_MAX_ROUTES		256	/* --export, --serve and --call in all */
#define BR_MAX_HOSTS		64	/* other bridges' interest remembered */
#define BR_HOST_MAX		64	/* bytes of a host id */
#define BR_SUBJECT_MAX		512
#define BR_BATCH		1024	/* deliveries handled per loop, per source */
#define BR_OUT_BYTES		(1 << 20)	/* unsent to NATS: stop reading */
#define BR_INBOUND_FRAMES	4096	/* TLS: NATS messages queued for the kernel */
#define BR_INBOUND_BYTES	(64u << 20)
#define BR_MAX_TOKENS		16	/* --token */
#define BR_RUN_FRAMES		64	/* frames of one sender in one write */
#define BR_RUN_BYTES		(128u << 10)
#define BR_PACK_FRAMES		64	/* frames of one sender in one NATS message */
#define BR_PACK_BYTES		(64u << 10)

enum br_kind { BR_FANOUT, BR_SERVE, BR_CALL };

/* One pCID (and group) this bridge carries between the kernel and NATS. */
struct br_route {
	struct bridge *bridge;
	enum br_kind kind;
	struct pg_cid pcid;
	char hex[2 * PG_CID_MAX + 1];		/* the pCID's bytes in hex */
	char group[PG_GROUP_NAME_MAX + 1];	/* BR_SERVE, BR_CALL */
	char ghex[2 * PG_GROUP_NAME_MAX + 1];
	char subject[BR_SUBJECT_MAX];		/* its NATS subject */
	bool receiving;			/* the kernel-side receive is in place */
	bool local_interest;		/* the kernel's watch: a local receive */
	natsSubscription *sub;		/* BR_FANOUT, BR_SERVE */
	uint64_t out, in;		/* frames published, frames injected */
	uint64_t inject_failed;
};

/* Counters (stats.c prints them). */
struct br_stats {
	uint64_t published, injected, carried_back, replies_out;
	uint64_t published_messages;	/* NATS messages the published frames took */
	uint64_t own_skipped;		/* frames this bridge injected, seen again */
	uint64_t inject_failed, carry_failed, publish_failed;
	uint64_t inbound_dropped;	/* TLS: messages the local queue had no room for */
	uint64_t mismatched;		/* a frame whose pCID is not its subject's */
	uint64_t kernel_dropped;	/* the kernel's drop notices, summed */
	uint64_t no_reply_to;		/* a proxy got a frame but its origin is unknown */
	uint64_t proxies_opened, proxies_evicted;
	uint64_t route_notices;		/* the kernel's route watch: notices read */
	atomic_uint_fast64_t reconnects, disconnects, slow_consumer;
};

/*
 * PG_BRIDGE_TIMING=1 in the environment: the time the loop spends in each
 * of its stages, for the counters (a diagnostic: two clock reads each).
 */
enum br_stage {
	BR_T_NATS_IO,		/* reading and writing the NATS socket */
	BR_T_FROM_NATS,		/* messages to frames into the kernel */
	BR_T_CARRY,		/* of which replies carried to local callers */
	BR_T_FROM_KERNEL,	/* local frames to NATS messages */
	BR_T_PROXIES,		/* what proxies were carried, to NATS */
	BR_T_N
};

struct br_timing {
	uint64_t ns[BR_T_N], n[BR_T_N];
};

struct br_proxy;
struct br_evloop;
struct br_inbound;

struct bridge {
	/* options */
	const char *host;
	const char *prefix;
	const char *servers;
	const char *creds, *tls_ca, *tls_cert, *tls_key;
	int interest_ms, interest_ttl_ms;
	int max_proxies;
	bool verbose, no_randomize;
	/*
	 * Its endpoints are kernel gateways (pg-kernel-control-v4): frames
	 * it injects name their host and never come back to it. False when
	 * the kernel refused (no CAP_NET_ADMIN): then own_skipped filters.
	 */
	bool gateway;
	bool watching;			/* the kernel's route watch is on */
	/*
	 * --export-open: every pCID (and group) with a receive on some host
	 * crosses, as routes made when the watch or another host names
	 * them (never removed; at most BR_MAX_ROUTES in all).
	 */
	bool export_open;
	/* Tokens for claimed pCIDs, redeemed by every endpoint it opens. */
	uint8_t tokens[BR_MAX_TOKENS][PG_TOKEN_LEN];
	int ntokens;

	struct br_route routes[BR_MAX_ROUTES];
	int nroutes;

	natsConnection *nc;
	natsSubscription *sub_to, *sub_interest;
	struct br_evloop *evloop;	/* a plain connection: NULL with TLS */
	struct br_inbound *inbound;	/* a TLS connection: NULL without */

	uint32_t pid;			/* getpid(), once: a system call each time */
	struct pg *local;		/* receives what leaves, carries replies */
	uint64_t local_id;
	struct br_proxy *proxies;
	int nproxies;
	int proxy_epfd;			/* the proxies' fds, or -1 */
	uint64_t tick;			/* proxy LRU clock */

	struct br_stats st;
	struct br_timing *timing;	/* NULL unless PG_BRIDGE_TIMING=1 */
};

/* Stage timing (stats.c): t = br_time_start(b); ...; br_time_end(b, s, t). */
uint64_t br_time_start(const struct bridge *b);
void br_time_end(struct bridge *b, enum br_stage s, uint64_t t);

/* main.c */
void br_log(const struct bridge *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void br_hex(const void *p, size_t n, char *out);
int64_t br_now_ms(void);		/* CLOCK_MONOTONIC, in ms */

/* outbound.c: runs of one sender's frames, one NATS message each */
void br_pack_add(struct bridge *b, struct br_route *r, uint64_t from,
		 const void *frame, size_t len);
void br_pack_flush(struct bridge *b);

/*
 * How messages from NATS reach the loop, by kind of subscription: frames
 * on a route, replies to this host's senders, other bridges' interest.
 */
enum br_in_kind { BR_IN_FRAME, BR_IN_REPLY, BR_IN_INTEREST };
/*
 * Subscribes to subject (in queue group queue, if not NULL): synchronous
 * on a plain connection, else with a callback into inbound.c (closure:
 * the route for BR_IN_FRAME, else the bridge).
 */
natsStatus br_subscribe(struct bridge *b, natsSubscription **sub,
			const char *subject, const char *queue,
			enum br_in_kind kind, void *closure);

/* inbound.c: on a TLS connection, NATS messages waiting for the loop */
int br_inbound_init(struct bridge *b);
int br_inbound_fd(const struct bridge *b);
/* The subscription callbacks (closure: the route, or the bridge). */
void br_on_frame(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		 void *closure);
void br_on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		 void *closure);
void br_on_interest(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		    void *closure);
/* Takes the next message: 1 (*msg, *kind, *route), 0 if none. */
int br_inbound_take(struct bridge *b, natsMsg **msg, enum br_in_kind *kind,
		    struct br_route **route);
void br_inbound_free(struct bridge *b);

/*
 * evloop.c: cnats on the bridge's poll loop, for a plain connection.
 * Subscriptions are synchronous: the loop takes their messages after
 * each read.
 */
int br_evloop_init(struct bridge *b, natsOptions *o);
/* Fills pfd[0] (a wake-up) and pfd[1] (the socket); returns 2. */
int br_evloop_pollfds(const struct bridge *b, struct pollfd *pfd);
/* After poll: reads (into the subscriptions) and writes what is ready. */
void br_evloop_ready(struct bridge *b, const struct pollfd *pfd);
/* Writes what was published since, without waiting for poll. */
void br_evloop_write(struct bridge *b);
/* More than BR_OUT_BYTES wait for NATS: take no more from the kernel. */
bool br_evloop_backlog(const struct bridge *b);
/* Writes what is buffered, for at most ms (at exit; either mode). */
void br_evloop_flush(struct bridge *b, int ms);
void br_evloop_free(struct bridge *b);

/*
 * Makes pg a gateway for frames from host (once b->gateway is known
 * false, does nothing); 0 or -errno other than EPERM (logged).
 */
int br_gateway(struct bridge *b, struct pg *pg, const char *host);
/* Carries a reply to endpoint to, naming the host it came from if known. */
int br_carry(struct bridge *b, uint64_t to, const void *frame, size_t len,
	     const char *host);
/* The NATS header naming the host a reply comes from. */
#define BR_HOST_HEADER	"Pg-Host"

/*
 * A route made at run time (--export-open): kind BR_FANOUT, BR_SERVE or
 * BR_CALL, group NULL for fan-out; subscribed when it is fan-out. NULL
 * if the pCID has a route already or there is no room.
 */
struct br_route *br_route_open(struct bridge *b, enum br_kind kind,
			       const struct pg_cid *pcid, const char *group);

/* Redeems the --token's on pg; 0 or -errno (logged). */
int br_redeem_all(struct bridge *b, struct pg *pg);

/* proxy.c: one local endpoint per remote sender, for replies */
/*
 * Injects n frames (back to back, ends[i] the end of frame i) of one
 * sender, from its proxy; failures are counted.
 */
int br_proxy_inject(struct bridge *b, struct br_route *r, const char *reply,
		    const uint8_t *frames, const size_t *ends, int n);
/*
 * Adds what tells that a proxy has something to pfd: one epoll fd for
 * all of them, or nothing while there are none; returns how many.
 */
int br_proxy_pollfds(struct bridge *b, struct pollfd *pfd);
/*
 * Forwards what was carried to proxies back to their origins: all of
 * them, or those that are ready if pfd (from br_proxy_pollfds) says so.
 */
void br_proxy_drain(struct bridge *b);
void br_proxy_drain_ready(struct bridge *b, const struct pollfd *pfd, int n);
void br_proxy_free(struct bridge *b);

/* interest.c: which pCIDs other bridges take */
void br_interest_announce(struct bridge *b, bool bye);
void br_interest_heard(struct bridge *b, natsMsg *msg);
/*
 * Starts or stops kernel-side receives to match remote interest, and the
 * served groups' NATS subscriptions to match local members.
 */
void br_interest_reconcile(struct bridge *b);
/* Starts the kernel's route watch on the local endpoint (a gateway's). */
int br_interest_watch(struct bridge *b);
/* A route notice from the watch: a local receive came or went. */
void br_interest_route(struct bridge *b, const struct pg_msg *m);

/* stats.c */
void br_stats_print(const struct bridge *b, FILE *f);

#endif /* PG_BRIDGE_H */
