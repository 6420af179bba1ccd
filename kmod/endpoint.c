// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Endpoints: ids, the receive queue and the send budget.
 */
#include <linux/cred.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>
#include "attest.h"
#include "buf.h"
#include "caps.h"
#include "control.h"
#include "endpoint.h"
#include "params.h"
#include "quota.h"
#include "route.h"
#include "stats.h"
#include "trace.h"

/* id -> endpoint, for "carry". Readers use RCU and kref_get_unless_zero(). */
static DEFINE_XARRAY(pg_endpoints);
static atomic64_t pg_next_id = ATOMIC64_INIT(0);
static struct kmem_cache *pg_delivery_cache;

int pg_endpoint_init(void)
{
	pg_delivery_cache = KMEM_CACHE(pg_delivery, SLAB_ACCOUNT);
	return pg_delivery_cache ? 0 : -ENOMEM;
}

void pg_endpoint_exit(void)
{
	/* Endpoints are freed by kfree_rcu(); let those finish first. */
	rcu_barrier();
	kmem_cache_destroy(pg_delivery_cache);
}

struct pg_endpoint *pg_ep_create(void)
{
	struct pg_endpoint *ep;
	struct pg_user *user;
	int err;

	user = pg_user_charge(current_euid());
	if (IS_ERR(user))
		return ERR_CAST(user);
	ep = kzalloc(sizeof(*ep), GFP_KERNEL_ACCOUNT);
	if (!ep) {
		pg_user_uncharge(user);
		return ERR_PTR(-ENOMEM);
	}
	ep->user = user;
	kref_init(&ep->ref);
	spin_lock_init(&ep->rx_lock);
	INIT_LIST_HEAD(&ep->rx_queue);
	mutex_init(&ep->rx_mutex);
	init_waitqueue_head(&ep->rx_wait);
	init_waitqueue_head(&ep->tx_wait);
	INIT_LIST_HEAD(&ep->recvs);
	INIT_LIST_HEAD(&ep->holdings);
	INIT_LIST_HEAD(&ep->claims);
	ep->user_ns = get_user_ns(current_user_ns());
	ep->pid_ns = get_pid_ns(task_active_pid_ns(current));
	ep->id = atomic64_inc_return(&pg_next_id);

	err = xa_err(xa_store(&pg_endpoints, ep->id, ep, GFP_KERNEL_ACCOUNT));
	if (err) {
		pg_user_uncharge(user);
		pg_ep_put(ep);
		return ERR_PTR(err);
	}
	pg_stat_inc(PG_STAT_ENDPOINTS);
	return ep;
}

static void pg_ep_free(struct kref *ref)
{
	struct pg_endpoint *ep = container_of(ref, struct pg_endpoint, ref);

	/* No buffer of ours is alive: none can be kept after this. */
	pg_buf_cache_drop(ep);
	put_user_ns(ep->user_ns);
	put_pid_ns(ep->pid_ns);
	kfree_rcu(ep, rcu);
}

void pg_ep_put(struct pg_endpoint *ep)
{
	kref_put(&ep->ref, pg_ep_free);
}

struct pg_endpoint *pg_ep_lookup(u64 id)
{
	struct pg_endpoint *ep;

	rcu_read_lock();
	ep = xa_load(&pg_endpoints, id);
	if (ep && !kref_get_unless_zero(&ep->ref))
		ep = NULL;
	rcu_read_unlock();
	return ep;
}

static void pg_delivery_free(struct pg_delivery *d)
{
	pg_buf_put(d->buf);
	if (d->hdr_len)
		kfree(d);
	else
		kmem_cache_free(pg_delivery_cache, d);
}

/* Called once, when the last reference to the file goes. */
void pg_ep_close(struct pg_endpoint *ep)
{
	struct pg_delivery *d, *tmp;
	LIST_HEAD(purge);

	xa_erase(&pg_endpoints, ep->id);
	pg_route_forget(ep);
	pg_caps_forget(ep);

	spin_lock(&ep->rx_lock);
	ep->dead = true;
	list_splice_init(&ep->rx_queue, &purge);
	WRITE_ONCE(ep->rx_frames, 0);
	ep->rx_bytes = 0;
	spin_unlock(&ep->rx_lock);

	list_for_each_entry_safe(d, tmp, &purge, node)
		pg_delivery_free(d);
	pg_user_uncharge(ep->user);
	pg_stat_add(PG_STAT_ENDPOINTS, -1);
	pg_ep_put(ep);
}

static bool pg_ep_full(struct pg_endpoint *ep, size_t size)
{
	return READ_ONCE(ep->rx_frames) >= READ_ONCE(pg_queue_frames) ||
	       ep->rx_bytes + size > READ_ONCE(pg_queue_bytes);
}

static int pg_ep_drop(struct pg_endpoint *ep, u64 trace_tag, u32 len)
{
	trace_pg_drop(ep->id, trace_tag, len);
	atomic_inc(&ep->rx_unreported);
	atomic64_inc(&ep->dropped);
	pg_stat_inc(PG_STAT_DROPS);
	/* The drop notice makes the endpoint readable. */
	if (wq_has_sleeper(&ep->rx_wait))
		wake_up_interruptible_poll(&ep->rx_wait, EPOLLIN | EPOLLRDNORM);
	return -ENOBUFS;
}

void pg_wakeups_flush(struct pg_wakeups *w)
{
	struct pg_endpoint *ep, *tmp;

	list_for_each_entry_safe(ep, tmp, &w->list, wake_node) {
		list_del(&ep->wake_node);
		clear_bit(PG_EP_WAKE_QUEUED, &ep->flags);
		/*
		 * Order the clear before the wake-up's look at the wait
		 * queue: a writer that queues after this sees the bit clear
		 * and wakes the reader itself.
		 */
		smp_mb__after_atomic();
		wake_up_interruptible_poll(&ep->rx_wait, EPOLLIN | EPOLLRDNORM);
		pg_ep_put(ep);
	}
}

/* Wake @ep now, or when the writer's batch @w is flushed. */
static void pg_ep_wake(struct pg_endpoint *ep, struct pg_wakeups *w)
{
	if (!wq_has_sleeper(&ep->rx_wait))
		return;
	if (!w) {
		wake_up_interruptible_poll(&ep->rx_wait, EPOLLIN | EPOLLRDNORM);
		return;
	}
	if (!test_and_set_bit(PG_EP_WAKE_QUEUED, &ep->flags))
		list_add_tail(&pg_ep_get(ep)->wake_node, &w->list);
}

/*
 * Queue @len bytes of @buf at @off for @ep; with @attest_from, wrapped in
 * the kernel's delivery envelope naming that sender. A full queue drops
 * the delivery, counts it and owes the reader a notice: -ENOBUFS.
 * @trace_tag is the pCID hash the tracepoints show (0 when not tracing).
 * A sleeping reader is woken now, or with @w when the caller batches.
 * Called in process context, possibly under a route's mutex.
 */
int pg_ep_deliver(struct pg_endpoint *ep, struct pg_buf *buf, u32 off,
		  u32 len, struct pg_endpoint *attest_from, u64 trace_tag,
		  struct pg_wakeups *w)
{
	u8 hdr[PG_ATTEST_HDR_MAX];
	struct pg_delivery *d;
	size_t hdr_len = 0;
	size_t size;

	if (attest_from)
		hdr_len = pg_attest_header(hdr, sizeof(hdr), ep, attest_from);
	size = hdr_len + len;

	/* Unlocked peek: a full receiver costs no allocation. */
	if (pg_ep_full(ep, size))
		return pg_ep_drop(ep, trace_tag, len);

	if (hdr_len) {
		d = kmalloc(struct_size(d, hdr, hdr_len), GFP_KERNEL_ACCOUNT);
		if (d)
			memcpy(d->hdr, hdr, hdr_len);
	} else {
		d = kmem_cache_alloc(pg_delivery_cache, GFP_KERNEL_ACCOUNT);
	}
	if (!d)
		return pg_ep_drop(ep, trace_tag, len);
	d->buf = pg_buf_get(buf);
	d->off = off;
	d->len = len;
	d->hdr_len = hdr_len;

	spin_lock(&ep->rx_lock);
	if (ep->dead || pg_ep_full(ep, size)) {
		bool dead = ep->dead;

		spin_unlock(&ep->rx_lock);
		pg_delivery_free(d);
		return dead ? -ESRCH : pg_ep_drop(ep, trace_tag, len);
	}
	list_add_tail(&d->node, &ep->rx_queue);
	WRITE_ONCE(ep->rx_frames, ep->rx_frames + 1);
	ep->rx_bytes += size;
	spin_unlock(&ep->rx_lock);

	pg_stat_inc(PG_STAT_DELIVERIES);
	trace_pg_deliver(ep->id, trace_tag, len);
	pg_ep_wake(ep, w);
	return 0;
}

static bool pg_ep_readable(struct pg_endpoint *ep)
{
	return READ_ONCE(ep->rx_frames) || atomic_read(&ep->rx_unreported);
}

static int pg_ep_lock_reader(struct pg_endpoint *ep, bool nonblock)
{
	int err;

	for (;;) {
		if (nonblock) {
			if (!mutex_trylock(&ep->rx_mutex))
				return -EAGAIN;
		} else if (mutex_lock_interruptible(&ep->rx_mutex)) {
			return -ERESTARTSYS;
		}
		if (pg_ep_readable(ep))
			return 0;
		mutex_unlock(&ep->rx_mutex);
		if (nonblock)
			return -EAGAIN;
		err = wait_event_interruptible(ep->rx_wait,
					       pg_ep_readable(ep));
		if (err)
			return err;
	}
}

/* The drop notice, if one is owed; returns bytes written or an error. */
static ssize_t pg_ep_read_notice(struct pg_endpoint *ep, struct iov_iter *to)
{
	u8 notice[PG_NOTICE_MAX];
	int dropped = atomic_read(&ep->rx_unreported);
	size_t n;

	if (!dropped)
		return 0;
	n = pg_control_drop_notice(notice, sizeof(notice), dropped);
	if (n > iov_iter_count(to))
		return -EMSGSIZE;
	if (copy_to_iter(notice, n, to) != n)
		return -EFAULT;
	atomic_sub(dropped, &ep->rx_unreported);
	return n;
}

static bool pg_copy_delivery(struct pg_delivery *d, struct iov_iter *to)
{
	return copy_to_iter(d->hdr, d->hdr_len, to) == d->hdr_len &&
	       copy_to_iter(d->buf->data + d->off, d->len, to) == d->len;
}

/*
 * Take as many deliveries from the head of the queue as fit in @room, in
 * one rx_lock round trip. -EMSGSIZE if the first does not fit.
 */
static int pg_ep_take(struct pg_endpoint *ep, size_t room,
		      struct list_head *batch)
{
	struct pg_delivery *d, *last = NULL;
	size_t bytes = 0, size;
	bool too_big;
	u32 n = 0;

	spin_lock(&ep->rx_lock);
	list_for_each_entry(d, &ep->rx_queue, node) {
		size = d->hdr_len + d->len;
		if (size > room - bytes)
			break;
		bytes += size;
		n++;
		last = d;
	}
	if (last) {
		list_cut_position(batch, &ep->rx_queue, &last->node);
		WRITE_ONCE(ep->rx_frames, ep->rx_frames - n);
		ep->rx_bytes -= bytes;
	}
	too_big = !last && !list_empty(&ep->rx_queue);
	spin_unlock(&ep->rx_lock);
	return too_big ? -EMSGSIZE : 0;
}

/* Put back what a faulting copy did not deliver, at the head, in order. */
static void pg_ep_untake(struct pg_endpoint *ep, struct list_head *batch)
{
	struct pg_delivery *d;
	size_t bytes = 0;
	u32 n = 0;

	list_for_each_entry(d, batch, node) {
		bytes += d->hdr_len + d->len;
		n++;
	}
	spin_lock(&ep->rx_lock);
	list_splice(batch, &ep->rx_queue);
	WRITE_ONCE(ep->rx_frames, ep->rx_frames + n);
	ep->rx_bytes += bytes;
	spin_unlock(&ep->rx_lock);
}

/* As many whole deliveries as fit, at least one; never a partial one. */
ssize_t pg_ep_read(struct pg_endpoint *ep, struct iov_iter *to,
		   bool nonblock)
{
	struct pg_delivery *d, *tmp;
	LIST_HEAD(batch);
	ssize_t done, err;

	if (!iov_iter_count(to))
		return 0;
	err = pg_ep_lock_reader(ep, nonblock);
	if (err)
		return err;

	done = pg_ep_read_notice(ep, to);
	if (done < 0) {
		err = done;
		done = 0;
		goto out;
	}
	/*
	 * Only readers remove deliveries and we hold rx_mutex, so the batch
	 * is ours to copy without rx_lock; writers only append.
	 */
	err = pg_ep_take(ep, iov_iter_count(to), &batch);
	list_for_each_entry_safe(d, tmp, &batch, node) {
		if (!pg_copy_delivery(d, to)) {
			err = -EFAULT;
			break;
		}
		list_del(&d->node);
		done += d->hdr_len + d->len;
		atomic64_inc(&ep->received);
		pg_delivery_free(d);
	}
	if (!list_empty(&batch))
		pg_ep_untake(ep, &batch);
out:
	mutex_unlock(&ep->rx_mutex);
	/* An error is the call's only if nothing was read before it. */
	return done ? done : err;
}

__poll_t pg_ep_poll(struct pg_endpoint *ep, struct file *file,
		    poll_table *wait)
{
	__poll_t mask = 0;

	poll_wait(file, &ep->rx_wait, wait);
	poll_wait(file, &ep->tx_wait, wait);
	if (pg_ep_readable(ep))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (atomic_long_read(&ep->tx_inflight) + pg_write_chunk() <=
	    READ_ONCE(pg_inflight_bytes))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static bool pg_ep_tx_try_reserve(struct pg_endpoint *ep, size_t size)
{
	long limit = READ_ONCE(pg_inflight_bytes);
	long cur = atomic_long_read(&ep->tx_inflight);

	do {
		if (cur + (long)size > limit)
			return false;
	} while (!atomic_long_try_cmpxchg(&ep->tx_inflight, &cur, cur + size));
	return true;
}

/* Take @size bytes of the send budget, sleeping for it unless @nonblock. */
int pg_ep_tx_reserve(struct pg_endpoint *ep, size_t size, bool nonblock)
{
	if (pg_ep_tx_try_reserve(ep, size))
		return 0;
	if (nonblock)
		return -EAGAIN;
	return wait_event_interruptible(ep->tx_wait,
					pg_ep_tx_try_reserve(ep, size));
}

void pg_ep_tx_release(struct pg_endpoint *ep, size_t size)
{
	atomic_long_sub(size, &ep->tx_inflight);
	if (wq_has_sleeper(&ep->tx_wait))
		wake_up_interruptible_poll(&ep->tx_wait,
					   EPOLLOUT | EPOLLWRNORM);
}
