/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Routing by pCID: a hash table from pCID to its receivers, fan-out
 * receivers and worker groups.
 */
#ifndef PG_ROUTE_H
#define PG_ROUTE_H

#include <linux/types.h>

struct pg_authz_frame;
struct pg_endpoint;
struct pg_host;
struct pg_wakeups;

/* A receive request: which pCID, fan-out or which group, attested. */
struct pg_recv_spec {
	const u8 *cid;
	u32 cid_len;
	const char *group;	/* NULL: fan-out */
	u32 group_len;
	bool attest;
};

/*
 * The route a write is sending on, kept referenced and locked from one of
 * its frames to the next when they share the pCID (route.c). Released
 * with pg_route_release() before the write does anything else.
 */
struct pg_route_hold {
	struct pg_route *r;
	unsigned int frames;
};

#define PG_ROUTE_HOLD_INIT	((struct pg_route_hold){ .r = NULL })

void pg_route_release(struct pg_route_hold *h);

int pg_route_init(void);
void pg_route_exit(void);

int pg_route_send(struct pg_endpoint *src, const u8 *frame,
		  struct pg_authz_frame *fr, bool nowait, struct pg_wakeups *w,
		  struct pg_route_hold *hold);
int pg_route_receive(struct pg_endpoint *ep, const struct pg_recv_spec *spec);
int pg_route_unreceive(struct pg_endpoint *ep,
		       const struct pg_recv_spec *spec);
void pg_route_forget(struct pg_endpoint *ep);
int pg_route_set_gateway(struct pg_endpoint *ep, struct pg_host *host);
int pg_route_watch(struct pg_endpoint *ep);

#endif /* PG_ROUTE_H */
