// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Locking, outermost first:
 *   pg_table_mutex  - adding and removing routes, groups and receives, and
 *                     every endpoint's recvs list. Control path only.
 *   route->lock     - a mutex: the route's receiver lists. The message path
 *                     holds it while it queues one frame to every receiver,
 *                     or a run of one write's frames on the pCID (at most
 *                     PG_ROUTE_HOLD_FRAMES), so one pCID's frames are
 *                     queued in order. Different pCIDs share no lock.
 *                     IOCB_NOWAIT writers only try it (-EAGAIN), as
 *                     pipes do with their mutex. A route has at most
 *                     max_groups groups and each receiver is one entry,
 *                     so the work under it per frame is bounded by the
 *                     receives on the pCID.
 *   endpoint rx_lock (endpoint.c)
 * The message path finds a route under RCU and pins it with a reference.
 *
 * Gateways (control v4): a gateway's receives never get a frame a gateway
 * sent, and are not interest; watchers (pg_watchers, under pg_table_mutex)
 * get a notice when a pCID or group gains its first receive of an
 * ordinary endpoint or loses its last. A receive's kind is fixed: an
 * endpoint becomes a gateway only while it receives nothing.
 *
 * The table: pCID -> fan-out receivers and worker groups, and the choice
 * of a group member. Senders' rights are checked by the send path
 * (send.c, and control.c for carries), the right to register a receive by
 * control.c. One check stays in the walk on purpose: each receiver's right
 * at delivery (pg_may_receive()), because a group must pick among the
 * members that may receive, and a revoked right must stop the next frame.
 */
#include <linux/mutex.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/promisegrid.h>
#include "authorize.h"
#include "endpoint.h"
#include "kernel_frames.h"
#include "params.h"
#include "pcid.h"
#include "route.h"
#include "stats.h"
#include "trace.h"

struct pg_route {
	struct rhash_head node;
	struct pg_cid_ref key;		/* points at cid[] */
	u8 cid[PG_CID_MAX];		/* zero after key.len */
	u64 cid_hash;			/* pg_cid_hash(cid): set at creation */
	refcount_t ref;			/* the table's, plus senders' */
	struct mutex lock;
	struct list_head fanout;	/* struct pg_recv.route_node */
	struct list_head groups;	/* struct pg_group.node */
	u32 ngroups;
	u32 nlocal;			/* fan-out receives of non-gateways */
	struct list_head all;		/* in pg_route_list, pg_table_mutex */
	struct rcu_head rcu;
};

struct pg_group {
	struct list_head node;		/* in route->groups, route->ngroups */
	struct list_head members;	/* struct pg_recv.route_node */
	u32 nmembers;
	u32 nlocal;			/* members that are not gateways */
	u32 rotor;			/* round-robin among equally loaded */
	u32 name_len;
	char name[PG_GROUP_NAME_MAX];
};

/* One receive held by an endpoint: a fan-out entry or a group member. */
struct pg_recv {
	struct list_head route_node;	/* route->fanout or group->members */
	struct list_head ep_node;	/* endpoint->recvs */
	struct pg_endpoint *ep;		/* no reference: removed at close */
	struct pg_route *route;
	struct pg_group *group;		/* NULL for fan-out */
	bool attest;
	bool gateway;			/* held by a gateway endpoint */
};

static DEFINE_MUTEX(pg_table_mutex);
static struct rhashtable pg_routes;
static LIST_HEAD(pg_route_list);	/* every route, for watch's list */
static LIST_HEAD(pg_watchers);		/* pg_endpoint.watch_node */
static unsigned int pg_nwatchers;
#define PG_MAX_WATCHERS		16

static u32 pg_cid_obj_hash_pg_route(const void *obj, u32 len, u32 seed)
{
	return pg_cid_ref_hash(&((const struct pg_route *)obj)->key, len, seed);
}

static int pg_cid_obj_cmp_pg_route(struct rhashtable_compare_arg *arg,
				   const void *obj)
{
	return !pg_cid_ref_eq(arg->key, &((const struct pg_route *)obj)->key);
}

static const struct rhashtable_params pg_route_params =
	PG_CID_TABLE_PARAMS(pg_route, key, node);

int pg_route_init(void)
{
	return rhashtable_init(&pg_routes, &pg_route_params);
}

void pg_route_exit(void)
{
	/* Every endpoint is closed by now, so every route is gone. */
	rhashtable_destroy(&pg_routes);
}

static void pg_route_put(struct pg_route *r)
{
	if (refcount_dec_and_test(&r->ref))
		kfree_rcu(r, rcu);
}

static struct pg_route *pg_route_find(const u8 *cid, u32 len)
{
	struct pg_cid_ref key = { .p = cid, .len = len };
	struct pg_route *r;

	rcu_read_lock();
	r = rhashtable_lookup(&pg_routes, &key, pg_route_params);
	if (r && !refcount_inc_not_zero(&r->ref))
		r = NULL;
	rcu_read_unlock();
	return r;
}

/*
 * A batch of frames on one pCID looks its route up and locks it once per
 * PG_ROUTE_HOLD_FRAMES frames instead of once a frame. A route is held
 * only after a frame went out to a receiver, so while it is held it has
 * receivers and is in the table (removing a receive takes its lock), and
 * the next frame on the pCID may use it as a lookup would. Bounded, so
 * that other writers on the pCID wait no longer than that many frames.
 */
#define PG_ROUTE_HOLD_FRAMES	64

void pg_route_release(struct pg_route_hold *h)
{
	if (!h->r)
		return;
	mutex_unlock(&h->r->lock);
	pg_route_put(h->r);
	h->r = NULL;
	h->frames = 0;
}

/* The held route, if it is the frame's pCID's; released otherwise. */
static struct pg_route *pg_route_held(struct pg_route_hold *h,
				      const struct pg_authz_frame *fr)
{
	struct pg_cid_ref key = { .p = fr->cid, .len = fr->cid_len };
	struct pg_route *r = h->r;

	if (r && pg_cid_ref_eq(&key, &r->key)) {
		lockdep_assert_held(&r->lock);
		return r;
	}
	pg_route_release(h);
	return NULL;
}

struct pg_fanout {
	struct pg_endpoint *src;
	const u8 *frame;
	struct pg_authz_frame *fr;	/* its pCID and length */
	bool authorize;			/* ask at each delivery */
	bool from_gateway;		/* not for gateways' receives */
	u64 trace_tag;
	struct pg_wakeups *wakeups;
	unsigned int targets;
	unsigned int delivered;
};

/*
 * Rights are checked where they are used: a receive registered while the
 * pCID was open, or with a token since revoked or expired, gets nothing.
 */
static bool pg_may_receive(struct pg_recv *rc, const struct pg_fanout *f)
{
	/* A frame from another host never goes back out: no loops. */
	if (f->from_gateway && rc->gateway)
		return false;
	return !f->authorize ||
	       !pg_authorize_frame(PG_OP_DELIVER, rc->ep, f->fr,
				   PG_RIGHT_RECEIVE);
}

/*
 * Least-loaded member that may receive; among equals, the first at or
 * after the rotor. NULL if no member may.
 */
static struct pg_recv *pg_group_pick(struct pg_group *g,
				     const struct pg_fanout *f)
{
	struct pg_recv *rc, *best = NULL;
	u32 best_load = U32_MAX, best_dist = U32_MAX, best_i = 0, i = 0;

	list_for_each_entry(rc, &g->members, route_node) {
		u32 load = READ_ONCE(rc->ep->rx_frames);
		u32 dist = (i + g->nmembers - g->rotor) % g->nmembers;

		if ((load < best_load ||
		     (load == best_load && dist < best_dist)) &&
		    pg_may_receive(rc, f)) {
			best = rc;
			best_load = load;
			best_dist = dist;
			best_i = i;
		}
		i++;
	}
	g->rotor = (best_i + 1) % g->nmembers;
	return best;
}

static void pg_route_one(struct pg_recv *rc, struct pg_fanout *f)
{
	f->targets++;
	if (!pg_ep_deliver(rc->ep, f->frame, f->fr->len, f->src, rc->attest,
			   f->trace_tag, f->wakeups))
		f->delivered++;
}

/* Has the route one possible receiver (a lent record may go to it)? */
static bool pg_route_sole(const struct pg_route *r)
{
	const struct pg_group *g;

	lockdep_assert_held(&r->lock);
	if (list_empty(&r->groups))
		return list_is_singular(&r->fanout);
	if (!list_empty(&r->fanout) || !list_is_singular(&r->groups))
		return false;
	g = list_first_entry(&r->groups, struct pg_group, node);
	return g->nmembers == 1;
}

/*
 * Check @src's right to send the frame, then queue it to every fan-out
 * receiver and one member of every group that may receive it. The right
 * is asked after the lookup only to take the pCID's hash from its route;
 * a refusal still comes first. 0 if anyone took it; -EACCES if @src may
 * not send; -EHOSTUNREACH if nobody (who may) receives on the pCID;
 * -ENOBUFS if every receiver was full (each of them counted the drop);
 * -EAGAIN if @nowait and another writer holds the pCID's receivers.
 * @hold keeps the route for the write's next frame (see
 * PG_ROUTE_HOLD_FRAMES); the caller releases it.
 */
int pg_route_send(struct pg_endpoint *src, const u8 *frame,
		  struct pg_authz_frame *fr, bool nowait, struct pg_wakeups *w,
		  struct pg_route_hold *hold)
{
	struct pg_fanout f = {
		.src = src, .frame = frame, .fr = fr, .wakeups = w,
	};
	struct pg_route *r;
	struct pg_recv *rc;
	struct pg_group *g;
	bool held;
	int err;

	/* Sleeping allowed, but no preemption point: see pg_ep_deliver_via(). */
	__might_sleep(__FILE__, __LINE__);
	r = pg_route_held(hold, fr);
	held = r;
	if (!r)
		r = pg_route_find(fr->cid, fr->cid_len);
	if (r) {
		fr->cid = r->cid;
		fr->padded = true;
		fr->hash = r->cid_hash;
		fr->hashed = true;
	}
	err = pg_authorize_frame(PG_OP_SEND, src, fr, PG_RIGHT_SEND);
	if (err || !r) {
		if (held)
			pg_route_release(hold);
		else if (r)
			pg_route_put(r);
		if (err)
			return err;
		goto none;
	}
	if (trace_pg_deliver_enabled() || trace_pg_drop_enabled())
		f.trace_tag = pg_authz_frame_hash(fr);
	f.authorize = pg_authorize_deliveries(fr->cid, fr->cid_len);
	f.from_gateway = pg_ep_gateway(src);
	/* A held route is locked since the write's last frame. */
	if (!held && nowait && !mutex_trylock(&r->lock)) {
		pg_route_put(r);
		return -EAGAIN;
	}
	if (!held && !nowait)
		mutex_lock(&r->lock);
	/* Only a lent record needs to know (pg_ep_lend_record()). */
	if (unlikely(w && w->lent))
		w->sole = pg_route_sole(r);
	list_for_each_entry(rc, &r->fanout, route_node)
		if (pg_may_receive(rc, &f))
			pg_route_one(rc, &f);
	list_for_each_entry(g, &r->groups, node) {
		rc = pg_group_pick(g, &f);
		if (rc)
			pg_route_one(rc, &f);
	}
	if (f.delivered) {
		hold->r = r;
		if (++hold->frames >= PG_ROUTE_HOLD_FRAMES)
			pg_route_release(hold);
		return 0;
	}
	if (held) {
		pg_route_release(hold);
	} else {
		mutex_unlock(&r->lock);
		pg_route_put(r);
	}
	if (f.targets)
		return -ENOBUFS;
none:
	pg_stat_inc(PG_STAT_NO_RECEIVER);
	return -EHOSTUNREACH;
}

/* The route for a pCID, created if asked. */
static struct pg_route *pg_route_get_locked(const u8 *cid, u32 len,
					    bool create)
{
	struct pg_cid_ref key = { .p = cid, .len = len };
	struct pg_route *r;
	int err;

	lockdep_assert_held(&pg_table_mutex);
	r = rhashtable_lookup_fast(&pg_routes, &key, pg_route_params);
	if (r || !create)
		return r;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return ERR_PTR(-ENOMEM);
	memcpy(r->cid, cid, len);
	r->cid_hash = pg_cid_hash(cid, len);
	r->key.p = r->cid;
	r->key.len = len;
	refcount_set(&r->ref, 1);
	mutex_init(&r->lock);
	INIT_LIST_HEAD(&r->fanout);
	INIT_LIST_HEAD(&r->groups);
	err = rhashtable_insert_fast(&pg_routes, &r->node, pg_route_params);
	if (err) {
		kfree(r);
		return ERR_PTR(err);
	}
	list_add_tail(&r->all, &pg_route_list);
	pg_stat_inc(PG_STAT_ROUTES);
	return r;
}

/* Drop the route once nobody receives on it. */
static void pg_route_maybe_remove(struct pg_route *r)
{
	lockdep_assert_held(&pg_table_mutex);
	if (!list_empty(&r->fanout) || !list_empty(&r->groups))
		return;
	rhashtable_remove_fast(&pg_routes, &r->node, pg_route_params);
	list_del(&r->all);
	pg_stat_add(PG_STAT_ROUTES, -1);
	pg_route_put(r);
}

static struct pg_group *pg_group_find(struct pg_route *r, const char *name,
				      u32 len)
{
	struct pg_group *g;

	list_for_each_entry(g, &r->groups, node)
		if (g->name_len == len && !memcmp(g->name, name, len))
			return g;
	return NULL;
}

static bool pg_recv_exists(struct list_head *list, struct pg_endpoint *ep)
{
	struct pg_recv *rc;

	list_for_each_entry(rc, list, route_node)
		if (rc->ep == ep)
			return true;
	return false;
}

/* Tell one watcher that @r (or its group @g) gained or lost interest. */
static int pg_watch_notify_one(struct pg_endpoint *w, struct pg_route *r,
			       struct pg_group *g, bool up)
{
	u8 notice[PG_ROUTE_NOTICE_MAX];
	size_t n;

	lockdep_assert_held(&pg_table_mutex);
	n = pg_route_notice(notice, sizeof(notice), r->cid, r->key.len,
			    g ? g->name : NULL, g ? g->name_len : 0, up);
	if (WARN_ON_ONCE(!n))
		return -EOVERFLOW;
	/* Like a reply: charged to the watcher, within its reserve. */
	return pg_ep_deliver(w, notice, n, NULL, false, pg_kernel_trace_tag(),
			     NULL);
}

static void pg_watch_notify(struct pg_route *r, struct pg_group *g, bool up)
{
	struct pg_endpoint *w;

	lockdep_assert_held(&pg_table_mutex);
	list_for_each_entry(w, &pg_watchers, watch_node)
		pg_watch_notify_one(w, r, g, up);
}

/* Count a receive of an ordinary endpoint in or out; tell the watchers. */
static void pg_interest_change(struct pg_route *r, struct pg_group *g,
			       int delta)
{
	u32 *n = g ? &g->nlocal : &r->nlocal;

	lockdep_assert_held(&pg_table_mutex);
	*n += delta;
	if ((delta > 0 && *n == 1) || (delta < 0 && *n == 0))
		pg_watch_notify(r, g, delta > 0);
}

static int pg_route_add_recv(struct pg_route *r, struct pg_endpoint *ep,
			     const struct pg_recv_spec *spec)
{
	struct pg_group *g = NULL, *new_group = NULL;
	struct pg_recv *rc;

	lockdep_assert_held(&pg_table_mutex);
	if (spec->group) {
		g = pg_group_find(r, spec->group, spec->group_len);
		if (!g) {
			if (r->ngroups >= READ_ONCE(pg_max_groups))
				return -ENOSPC;
			new_group = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
			if (!new_group)
				return -ENOMEM;
			g = new_group;
			INIT_LIST_HEAD(&g->members);
			g->name_len = spec->group_len;
			memcpy(g->name, spec->group, spec->group_len);
		}
	}
	if (pg_recv_exists(g ? &g->members : &r->fanout, ep))
		return -EEXIST;	/* an existing group, so new_group is NULL */

	rc = kzalloc(sizeof(*rc), GFP_KERNEL_ACCOUNT);
	if (!rc) {
		kfree(new_group);
		return -ENOMEM;
	}
	rc->ep = ep;
	rc->route = r;
	rc->group = g;
	rc->attest = spec->attest;
	rc->gateway = pg_ep_gateway(ep);

	mutex_lock(&r->lock);
	if (new_group) {
		list_add_tail(&g->node, &r->groups);
		r->ngroups++;
	}
	if (g) {
		list_add_tail(&rc->route_node, &g->members);
		g->nmembers++;
	} else {
		list_add_tail(&rc->route_node, &r->fanout);
	}
	mutex_unlock(&r->lock);

	list_add_tail(&rc->ep_node, &ep->recvs);
	ep->nrecvs++;
	if (!rc->gateway)
		pg_interest_change(r, g, 1);
	return 0;
}

int pg_route_receive(struct pg_endpoint *ep, const struct pg_recv_spec *spec)
{
	struct pg_route *r;
	int err;

	mutex_lock(&pg_table_mutex);
	if (ep->nrecvs >= READ_ONCE(pg_max_receives)) {
		err = -ENOSPC;
		goto out;
	}
	r = pg_route_get_locked(spec->cid, spec->cid_len, true);
	if (IS_ERR(r)) {
		err = PTR_ERR(r);
		goto out;
	}
	err = pg_route_add_recv(r, ep, spec);
	if (err)
		pg_route_maybe_remove(r);
out:
	mutex_unlock(&pg_table_mutex);
	return err;
}

static void pg_recv_remove(struct pg_recv *rc)
{
	struct pg_route *r = rc->route;
	struct pg_group *g = rc->group;
	bool group_empty = false;

	lockdep_assert_held(&pg_table_mutex);
	mutex_lock(&r->lock);
	list_del(&rc->route_node);
	if (g) {
		g->nmembers--;
		g->rotor = 0;
		group_empty = !g->nmembers;
		if (group_empty) {
			list_del(&g->node);
			r->ngroups--;
		}
	}
	mutex_unlock(&r->lock);

	list_del(&rc->ep_node);
	rc->ep->nrecvs--;
	if (!rc->gateway)
		pg_interest_change(r, g, -1);
	if (group_empty)
		kfree(g);
	kfree(rc);
	pg_route_maybe_remove(r);
}

int pg_route_unreceive(struct pg_endpoint *ep,
		       const struct pg_recv_spec *spec)
{
	struct pg_recv *rc;
	struct pg_route *r;
	int err = -ENOENT;

	mutex_lock(&pg_table_mutex);
	r = pg_route_get_locked(spec->cid, spec->cid_len, false);
	if (!r)
		goto out;
	list_for_each_entry(rc, &ep->recvs, ep_node) {
		if (rc->route != r || !rc->group != !spec->group)
			continue;
		if (rc->group && (rc->group->name_len != spec->group_len ||
				  memcmp(rc->group->name, spec->group,
					 spec->group_len)))
			continue;
		pg_recv_remove(rc);
		err = 0;
		break;
	}
out:
	mutex_unlock(&pg_table_mutex);
	return err;
}

/*
 * Make @ep a gateway for @host: only while it receives nothing, so that
 * every receive's kind stays what it was made as. The caller checked the
 * privilege. -EEXIST already one, -EBUSY receiving.
 */
int pg_route_set_gateway(struct pg_endpoint *ep, struct pg_host *host)
{
	int err = 0;

	mutex_lock(&pg_table_mutex);
	if (ep->gateway)
		err = -EEXIST;
	else if (ep->nrecvs)
		err = -EBUSY;
	else	/* the host's name before the pointer: pg_ep_gateway() */
		smp_store_release(&ep->gateway, host);
	mutex_unlock(&pg_table_mutex);
	return err;
}

/*
 * Start (or restart) @ep's watch: a notice for every pCID and group with
 * interest now, then one per change. Returns how many notices it queued,
 * or -errno.
 */
int pg_route_watch(struct pg_endpoint *ep)
{
	struct pg_route *r;
	struct pg_group *g;
	int n = 0;

	mutex_lock(&pg_table_mutex);
	if (list_empty(&ep->watch_node)) {
		if (pg_nwatchers >= PG_MAX_WATCHERS) {
			mutex_unlock(&pg_table_mutex);
			return -ENOSPC;
		}
		list_add_tail(&ep->watch_node, &pg_watchers);
		pg_nwatchers++;
	}
	list_for_each_entry(r, &pg_route_list, all) {
		if (r->nlocal && !pg_watch_notify_one(ep, r, NULL, true))
			n++;
		list_for_each_entry(g, &r->groups, node)
			if (g->nlocal && !pg_watch_notify_one(ep, r, g, true))
				n++;
		cond_resched();
	}
	mutex_unlock(&pg_table_mutex);
	return n;
}

/* The endpoint is closing: take back everything it receives. */
void pg_route_forget(struct pg_endpoint *ep)
{
	struct pg_recv *rc, *tmp;

	mutex_lock(&pg_table_mutex);
	if (!list_empty(&ep->watch_node)) {
		list_del_init(&ep->watch_node);
		pg_nwatchers--;
	}
	list_for_each_entry_safe(rc, tmp, &ep->recvs, ep_node)
		pg_recv_remove(rc);
	mutex_unlock(&pg_table_mutex);
}
