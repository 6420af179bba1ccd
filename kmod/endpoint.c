// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Endpoints: ids, the receive queue and the send budget.
 */
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>
#include "buf.h"
#include "caps.h"
#include "endpoint.h"
#include "kernel_frames.h"
#include "params.h"
#include "quota.h"
#include "route.h"
#include "stats.h"
#include "trace.h"

/* id -> endpoint, for "carry". Readers use RCU and kref_get_unless_zero(). */
static DEFINE_XARRAY(pg_endpoints);
static atomic64_t pg_next_id = ATOMIC64_INIT(0);

static void pg_ep_trim_kept(struct work_struct *work);

/*
 * Runs in open(), so current is the opener and its credentials are
 * file->f_cred: everything recorded here describes the principal.
 */
struct pg_endpoint *pg_ep_create(const struct file *file)
{
	struct pg_endpoint *ep;
	struct pg_user *user;
	int err;

	user = pg_user_charge(file->f_cred->euid);
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
	INIT_LIST_HEAD(&ep->rx_free);
	INIT_DELAYED_WORK(&ep->rx_trim, pg_ep_trim_kept);
	mutex_init(&ep->rx_mutex);
	init_waitqueue_head(&ep->rx_wait);
	init_waitqueue_head(&ep->tx_wait);
	INIT_LIST_HEAD(&ep->recvs);
	INIT_LIST_HEAD(&ep->holdings);
	INIT_LIST_HEAD(&ep->claims);
	INIT_LIST_HEAD(&ep->watch_node);
	ep->file = file;
	ep->cred = get_cred(file->f_cred);
	ep->uid = from_kuid(&init_user_ns, ep->cred->euid);
	ep->gid = from_kgid(&init_user_ns, ep->cred->egid);
	ep->opener = get_pid(task_tgid(current));
	ep->opener_nr = pid_nr(ep->opener);
#ifdef CONFIG_CGROUPS
	rcu_read_lock();
	ep->cgroup_id = cgroup_id(task_dfl_cgroup(current));
	rcu_read_unlock();
#endif
	ep->memcg = get_mem_cgroup_from_mm(current->mm);
	ep->user_ns = get_user_ns(file->f_cred->user_ns);
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

/* Free records nobody else can reach any more. */
static void pg_deliveries_drop(struct list_head *list)
{
	struct pg_delivery *d, *tmp;

	list_for_each_entry_safe(d, tmp, list, node)
		kvfree(d);
}

static void pg_ep_free(struct kref *ref)
{
	struct pg_endpoint *ep = container_of(ref, struct pg_endpoint, ref);

	/*
	 * No write of ours is in progress and nobody delivers to us: no
	 * buffer or record can be kept after this.
	 */
	pg_buf_cache_drop(ep);
	kvfree(xchg(&ep->rx_cache, NULL));
	pg_deliveries_drop(&ep->rx_free);
	put_cred(ep->cred);
	put_pid(ep->opener);
	mem_cgroup_put(ep->memcg);
	put_user_ns(ep->user_ns);
	put_pid_ns(ep->pid_ns);
	kfree(ep->gateway);
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

/* The opener's tgid as seen in @ns; 0 if not visible there or exited. */
u32 pg_ep_opener_pid(const struct pg_endpoint *ep, struct pid_namespace *ns)
{
	if (!pid_has_task(ep->opener, PIDTYPE_TGID))
		return 0;
	return pid_nr_ns(ep->opener, ns);
}

/*
 * @ep closed with @d unread: tell its sender if it asked ("accept"
 * {"unread": true}). Kernel messages (from 0) have no sender to tell.
 */
static void pg_ep_notify_unread(struct pg_endpoint *ep,
				const struct pg_delivery *d)
{
	struct pg_endpoint *sender;

	if (!d->from)
		return;
	sender = pg_ep_lookup(d->from);
	if (!sender)
		return;
	if (READ_ONCE(sender->notify_unread)) {
		u8 notice[PG_UNREAD_NOTICE_MAX];
		size_t n = pg_unread_notice(notice, sizeof(notice), ep->id,
					    d->data + d->hdr_len,
					    d->len - d->hdr_len);

		/* Like a reply: charged to the sender, within its reserve. */
		if (!WARN_ON_ONCE(!n))
			pg_ep_deliver(sender, notice, n, NULL, false,
				      pg_kernel_trace_tag(), NULL);
	}
	pg_ep_put(sender);
}

/* Called once, when the last reference to the file goes. */
void pg_ep_close(struct pg_endpoint *ep)
{
	struct pg_delivery *d, *tmp;
	LIST_HEAD(purge);
	LIST_HEAD(kept);

	xa_erase(&pg_endpoints, ep->id);
	pg_route_forget(ep);
	pg_caps_forget(ep);

	spin_lock(&ep->rx_lock);
	ep->dead = true;
	list_splice_init(&ep->rx_queue, &purge);
	WRITE_ONCE(ep->rx_frames, 0);
	ep->rx_bytes = 0;
	list_splice_init(&ep->rx_free, &kept);
	WRITE_ONCE(ep->rx_free_bytes, 0);
	spin_unlock(&ep->rx_lock);
	/* Dead: a trim that runs now finds nothing and does not re-arm. */
	cancel_delayed_work_sync(&ep->rx_trim);

	list_for_each_entry_safe(d, tmp, &purge, node) {
		pg_ep_notify_unread(ep, d);
		kvfree(d);
	}
	pg_deliveries_drop(&kept);
	pg_user_uncharge(ep->user);
	pg_stat_add(PG_STAT_ENDPOINTS, -1);
	pg_ep_put(ep);
}

/*
 * Kernel replies may exceed the queue limits by a small reserve: a queue
 * that other endpoints filled still takes the answers to its own requests.
 * The reserve is bounded too, so a requester that never reads loses them.
 */
#define PG_REPLY_RESERVE_FRAMES	64
#define PG_REPLY_RESERVE_BYTES	(64u << 10)

static bool pg_ep_full(struct pg_endpoint *ep, size_t truesize, bool kernel)
{
	size_t bytes = READ_ONCE(pg_queue_bytes);
	u32 frames = READ_ONCE(pg_queue_frames);

	if (kernel) {
		frames += PG_REPLY_RESERVE_FRAMES;
		bytes += PG_REPLY_RESERVE_BYTES;
	}
	return READ_ONCE(ep->rx_frames) >= frames ||
	       READ_ONCE(ep->rx_bytes) + truesize > bytes;
}

static int pg_ep_drop(struct pg_endpoint *ep, u64 trace_tag, u32 len)
{
	trace_pg_drop(ep->id, trace_tag, len);
	atomic64_inc(&ep->rx_unreported);
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
		WRITE_ONCE(ep->wake_batch, NULL);
		/*
		 * Release: the list and wake_batch stores above are done
		 * before another writer can take the bit and reuse the node.
		 */
		clear_bit_unlock(PG_EP_WAKE_QUEUED, &ep->flags);
		wake_up_interruptible_poll(&ep->rx_wait, EPOLLIN | EPOLLRDNORM);
		pg_ep_put(ep);
	}
}

/*
 * Wake @ep now, or when the writer's batch @w is flushed. An endpoint
 * already on another writer's batch is woken now: that writer's write may
 * go on for long, and this delivery must not wait for it.
 */
static void pg_ep_wake(struct pg_endpoint *ep, struct pg_wakeups *w)
{
	if (!wq_has_sleeper(&ep->rx_wait))
		return;
	if (w && !test_and_set_bit_lock(PG_EP_WAKE_QUEUED, &ep->flags)) {
		WRITE_ONCE(ep->wake_batch, w);
		list_add_tail(&pg_ep_get(ep)->wake_node, &w->list);
		return;
	}
	if (w && READ_ONCE(ep->wake_batch) == w)
		return;		/* ours: woken when this write ends */
	wake_up_interruptible_poll(&ep->rx_wait, EPOLLIN | EPOLLRDNORM);
}

/*
 * Kept records: each endpoint keeps the records its reader is done with,
 * for the next frames queued to it: one in rx_cache, which only xchg()
 * and cmpxchg() touch (a stream of one frame at a time takes no lock),
 * and the rest in rx_free under rx_lock, all of one size class (the
 * newest's), as many bytes as the queue held when the last read came
 * (what it took and what it left), at least PG_RX_FREE_MAX (one 16 KiB
 * frame's record, or 128 of a 64-byte frame's) and at most
 * PG_RX_FREE_CAP: the run of frames its writers queue ahead of the
 * reader finds its records kept from the last run. A record was
 * allocated charged to its receiver's memory cgroup and stays so while
 * kept: the receiver pays for it, as for its queue, which held it a
 * moment before. A stream or a batch of frames of one size class then
 * allocates (and, with init_on_alloc, zeroes) and frees no record per
 * frame. Only a record of the size class a new allocation would have
 * (@truesize) is reused, so queued_bytes counts every delivery as it
 * would count a fresh one.
 */
#define PG_RX_FREE_MAX		PG_BUF_CACHE_MAX
#define PG_RX_FREE_CAP		PG_WRITE_CHUNK

/*
 * What a burst left kept above PG_RX_FREE_MAX is given back once none of
 * it was reused for this long: an endpoint that went quiet holds no more
 * than it did before the burst, and one whose stream goes on pays one
 * look a second.
 */
#define PG_RX_TRIM_DELAY	HZ

static void pg_ep_trim_arm(struct pg_endpoint *ep)
{
	lockdep_assert_held(&ep->rx_lock);
	if (ep->rx_trim_armed || ep->dead ||
	    ep->rx_free_bytes <= PG_RX_FREE_MAX)
		return;
	ep->rx_trim_armed = true;
	ep->rx_trim_seen = ep->rx_reused;
	schedule_delayed_work(&ep->rx_trim, PG_RX_TRIM_DELAY);
}

static void pg_ep_trim_kept(struct work_struct *work)
{
	struct pg_endpoint *ep = container_of(to_delayed_work(work),
					      struct pg_endpoint, rx_trim);
	struct pg_delivery *d;
	LIST_HEAD(spill);

	spin_lock(&ep->rx_lock);
	if (ep->rx_reused != ep->rx_trim_seen && !ep->dead) {
		/* Still in use: look again later. */
		ep->rx_trim_seen = ep->rx_reused;
		schedule_delayed_work(&ep->rx_trim, PG_RX_TRIM_DELAY);
		spin_unlock(&ep->rx_lock);
		return;
	}
	while (ep->rx_free_bytes > PG_RX_FREE_MAX) {
		d = list_first_entry(&ep->rx_free, struct pg_delivery, node);
		list_move(&d->node, &spill);
		WRITE_ONCE(ep->rx_free_bytes, ep->rx_free_bytes - d->truesize);
	}
	ep->rx_trim_armed = false;
	spin_unlock(&ep->rx_lock);
	pg_deliveries_drop(&spill);
}

/* Inline in the message path: its call would cost more than its body. */
static __always_inline struct pg_delivery *
pg_delivery_reuse(struct pg_endpoint *ep, size_t truesize, bool lend)
{
	struct pg_delivery *d = xchg(&ep->rx_cache, NULL);

	if (d && d->truesize == truesize)
		return d;
	/*
	 * The stream moved to another size class, unless a writer only
	 * asks for a record to lend: the reader's stream has not.
	 */
	if (!lend || cmpxchg(&ep->rx_cache, NULL, d))
		kvfree(d);
	/* Unlocked peek: nothing kept costs no lock. */
	if (!READ_ONCE(ep->rx_free_bytes))
		return NULL;
	spin_lock(&ep->rx_lock);
	d = list_first_entry_or_null(&ep->rx_free, struct pg_delivery, node);
	if (d && d->truesize == truesize) {
		list_del(&d->node);
		WRITE_ONCE(ep->rx_free_bytes, ep->rx_free_bytes - truesize);
		ep->rx_reused++;
	} else {
		d = NULL;
	}
	spin_unlock(&ep->rx_lock);
	return d;
}

static struct pg_delivery *pg_delivery_alloc(struct pg_endpoint *ep,
					     size_t size, size_t truesize)
{
	struct pg_delivery *d = pg_delivery_reuse(ep, truesize, false);
	struct mem_cgroup *old_memcg;

	if (d)
		return d;
	/*
	 * A record that may be kept asks for all of its size class, so that
	 * any frame of the class fits it later; a larger one is never kept.
	 */
	old_memcg = set_active_memcg(ep->memcg);
	d = kvmalloc(truesize <= PG_RX_FREE_MAX ? truesize : size,
		     GFP_KERNEL_ACCOUNT);
	set_active_memcg(old_memcg);
	if (!d)
		return NULL;
	d->truesize = truesize;
	return d;
}

/*
 * Records @ep's reader is done with (@done, in the order read; @bytes:
 * their truesize and that of the deliveries still queued): kept while
 * there is room, the rest freed. Must not be called under a spinlock
 * (kvfree() may sleep).
 */
static __always_inline void pg_deliveries_free(struct pg_endpoint *ep,
					       struct list_head *done,
					       size_t bytes)
{
	size_t room = clamp_t(size_t, bytes, PG_RX_FREE_MAX, PG_RX_FREE_CAP);
	struct pg_delivery *d, *tmp, *kept;
	LIST_HEAD(spill);

	d = list_first_entry(done, struct pg_delivery, node);
	if (list_is_singular(done) && d->truesize <= PG_RX_FREE_MAX &&
	    !cmpxchg(&ep->rx_cache, NULL, d))
		return;

	spin_lock(&ep->rx_lock);
	list_for_each_entry_safe(d, tmp, done, node) {
		kept = list_first_entry_or_null(&ep->rx_free,
						struct pg_delivery, node);
		/* The stream moved to another size class: keep that one. */
		if (kept && kept->truesize != d->truesize) {
			list_splice_init(&ep->rx_free, &spill);
			WRITE_ONCE(ep->rx_free_bytes, 0);
		}
		if (ep->dead || d->truesize > PG_RX_FREE_MAX ||
		    ep->rx_free_bytes + d->truesize > room) {
			list_move(&d->node, &spill);
			continue;
		}
		list_move(&d->node, &ep->rx_free);
		WRITE_ONCE(ep->rx_free_bytes, ep->rx_free_bytes + d->truesize);
	}
	pg_ep_trim_arm(ep);
	spin_unlock(&ep->rx_lock);
	pg_deliveries_drop(&spill);
}

/* What a record for @len bytes of data takes, as rx_bytes counts it. */
static size_t pg_delivery_truesize(size_t len)
{
	struct pg_delivery *d;

	return kmalloc_size_roundup(struct_size(d, data, len));
}

/*
 * Lending: a one-frame write to the receiver its writer last reached
 * alone is copied from user space straight into one of that receiver's
 * kept records, which its queue then takes as it is (one copy of the
 * frame fewer). The record stays the receiver's memory, charged to it
 * when it was allocated. At most this many are out at a time, so writers
 * stalled in their copy (a fault on their buffer) hold a bounded part.
 */
#define PG_RX_LENT_MAX		2

/* One of @ep's kept records for a frame of @len bytes, or NULL. */
struct pg_delivery *pg_ep_lend_record(struct pg_endpoint *ep, size_t len)
{
	size_t truesize = pg_delivery_truesize(len);
	struct pg_delivery *d;

	if (truesize > PG_RX_FREE_MAX || READ_ONCE(ep->dead))
		return NULL;
	if (atomic_inc_return(&ep->rx_lent) <= PG_RX_LENT_MAX) {
		d = pg_delivery_reuse(ep, truesize, true);
		if (d)
			return d;
	}
	atomic_dec(&ep->rx_lent);
	return NULL;
}

/* A lent record the write did not queue to @ep goes back to it. */
void pg_ep_return_record(struct pg_endpoint *ep, struct pg_delivery *d)
{
	LIST_HEAD(done);

	atomic_dec(&ep->rx_lent);
	list_add(&d->node, &done);
	pg_deliveries_free(ep, &done, d->truesize + READ_ONCE(ep->rx_bytes));
}

/* The write's lent record, if @frame is in it and @ep may take it. */
static struct pg_delivery *pg_ep_claim_lent(struct pg_endpoint *ep,
					    const u8 *frame, size_t hdr_len,
					    size_t truesize,
					    struct pg_wakeups *w)
{
	struct pg_delivery *d = w ? w->lent : NULL;

	if (!d || !w->sole || w->lent_to != ep || frame != d->data ||
	    hdr_len || d->truesize != truesize)
		return NULL;
	w->lent = NULL;
	atomic_dec(&ep->rx_lent);
	return d;
}

/*
 * A write offers the scheduler a point to switch once per this many of
 * its deliveries (a batch of frames, a wide fan-out), not at each: with
 * one at each (might_sleep() is one), a reader the previous write woke
 * preempted the next write of an io_uring batch at its first delivery,
 * two context switches per frame. Sleeping is still allowed here.
 */
#define PG_RESCHED_DELIVERIES	64

static int pg_ep_queue(struct pg_endpoint *ep, const u8 *hdr, size_t hdr_len,
		       const u8 *frame, u32 len, struct pg_endpoint *from,
		       u64 trace_tag, struct pg_wakeups *w)
{
	struct pg_delivery *d;
	size_t size, truesize;
	bool lent;

	size = struct_size(d, data, hdr_len + len);
	/* What the allocation really takes is what the queue counts. */
	truesize = kmalloc_size_roundup(size);

	/* Unlocked peek: a full receiver costs no allocation. */
	if (pg_ep_full(ep, truesize, !from))
		return pg_ep_drop(ep, trace_tag, len);

	d = pg_ep_claim_lent(ep, frame, hdr_len, truesize, w);
	lent = d;
	if (!d)
		d = pg_delivery_alloc(ep, size, truesize);
	if (!d)
		return pg_ep_drop(ep, trace_tag, len);
	d->from = from ? from->id : 0;
	d->len = hdr_len + len;
	d->hdr_len = hdr_len;
	if (hdr_len)
		memcpy(d->data, hdr, hdr_len);
	/* A lent record holds the frame already. */
	if (!lent)
		memcpy(d->data + hdr_len, frame, len);

	spin_lock(&ep->rx_lock);
	if (ep->dead || pg_ep_full(ep, d->truesize, !from)) {
		bool dead = ep->dead;

		spin_unlock(&ep->rx_lock);
		kvfree(d);
		return dead ? -ESRCH : pg_ep_drop(ep, trace_tag, len);
	}
	list_add_tail(&d->node, &ep->rx_queue);
	WRITE_ONCE(ep->rx_frames, ep->rx_frames + 1);
	WRITE_ONCE(ep->rx_bytes, ep->rx_bytes + d->truesize);
	spin_unlock(&ep->rx_lock);

	pg_stat_inc(PG_STAT_DELIVERIES);
	if (lent)
		pg_stat_inc(PG_STAT_LENT);
	trace_pg_deliver(ep->id, trace_tag, len);
	pg_ep_wake(ep, w);
	if (!w)
		return 0;
	w->last_to = ep->id;
	if (!(++w->deliveries % PG_RESCHED_DELIVERIES))
		cond_resched();
	return 0;
}

/*
 * The attested delivery's header is built on this function's stack, so
 * a plain delivery, the common one, has no header buffer to zero.
 */
static noinline int pg_ep_queue_attested(struct pg_endpoint *ep,
					 const u8 *frame, u32 len,
					 struct pg_endpoint *from,
					 const struct pg_host *host,
					 u64 trace_tag, struct pg_wakeups *w)
{
	u8 hdr[PG_ATTEST_HDR_MAX];
	size_t hdr_len = pg_attest_header(hdr, sizeof(hdr), ep, from, host);

	return pg_ep_queue(ep, hdr, hdr_len, frame, len, from, trace_tag, w);
}

/*
 * Queue a copy of the @len bytes at @frame for @ep; when @attest, wrapped
 * in the kernel's delivery envelope naming @from (NULL: the kernel wrote
 * it, and it may use the reply reserve) and @host (NULL: this host). The
 * copy is charged to @ep's memory cgroup: the receiver pays for what it
 * holds. A full queue drops the delivery, counts it and owes the reader a
 * notice: -ENOBUFS.
 * @trace_tag is the pCID hash the tracepoints show (0 when not tracing).
 * A sleeping reader is woken now, or with @w when the caller batches.
 * Process context, possibly under a route's mutex: it may sleep.
 */
int pg_ep_deliver_via(struct pg_endpoint *ep, const u8 *frame, u32 len,
		      struct pg_endpoint *from, const struct pg_host *host,
		      bool attest, u64 trace_tag, struct pg_wakeups *w)
{
	/* Sleeping allowed, but not a preemption point at each delivery. */
	__might_sleep(__FILE__, __LINE__);
	if (attest && from)
		return pg_ep_queue_attested(ep, frame, len, from, host,
					    trace_tag, w);
	return pg_ep_queue(ep, NULL, 0, frame, len, from, trace_tag, w);
}

static_assert((PG_REPLY_PEERS & (PG_REPLY_PEERS - 1)) == 0);

/* @ep read a frame of endpoint @from, so may answer it. */
static void pg_ep_note_peer(struct pg_endpoint *ep, u64 from)
{
	lockdep_assert_held(&ep->rx_lock);
	if (from)
		WRITE_ONCE(ep->reply_peers[from % PG_REPLY_PEERS], from);
}

/*
 * May @ep carry a frame to @to? As an answer to an endpoint whose frame
 * @ep read (and whose entry no later sender took, see PG_REPLY_PEERS), or
 * to an endpoint that accepts carries from anyone ("accept" {"carry":
 * true}). One lookup, no lock.
 */
bool pg_ep_may_carry_to(struct pg_endpoint *ep, struct pg_endpoint *to)
{
	return READ_ONCE(to->accept_carry) ||
	       READ_ONCE(ep->reply_peers[to->id % PG_REPLY_PEERS]) == to->id;
}

static bool pg_ep_readable(struct pg_endpoint *ep)
{
	return READ_ONCE(ep->rx_frames) || atomic64_read(&ep->rx_unreported);
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

static noinline ssize_t pg_ep_copy_notice(struct pg_endpoint *ep,
					  struct iov_iter *to, s64 dropped)
{
	u8 notice[PG_NOTICE_MAX];
	size_t n = pg_drop_notice(notice, sizeof(notice), dropped);

	if (n > iov_iter_count(to))
		return -EMSGSIZE;
	if (copy_to_iter(notice, n, to) != n)
		return -EFAULT;
	atomic64_sub(dropped, &ep->rx_unreported);
	return n;
}

/*
 * The drop notice, if one is owed; returns bytes written or an error. Its
 * buffer is on pg_ep_copy_notice()'s stack: a read that owes none, the
 * common one, has none to zero.
 */
static ssize_t pg_ep_read_notice(struct pg_endpoint *ep, struct iov_iter *to)
{
	s64 dropped = atomic64_read(&ep->rx_unreported);

	if (!dropped)
		return 0;
	return pg_ep_copy_notice(ep, to, dropped);
}

static bool pg_copy_delivery(struct pg_delivery *d, struct iov_iter *to)
{
	return copy_to_iter(d->data, d->len, to) == d->len;
}

/*
 * Take as many deliveries from the head of the queue as fit in @room, in
 * one rx_lock round trip. -EMSGSIZE if the first does not fit.
 */
static int pg_ep_take(struct pg_endpoint *ep, size_t room,
		      struct list_head *batch)
{
	struct pg_delivery *d, *last = NULL;
	size_t bytes = 0, truesize = 0;
	bool too_big;
	u32 n = 0;

	spin_lock(&ep->rx_lock);
	list_for_each_entry(d, &ep->rx_queue, node) {
		if (d->len > room - bytes)
			break;
		bytes += d->len;
		truesize += d->truesize;
		n++;
		last = d;
		pg_ep_note_peer(ep, d->from);
	}
	if (last) {
		list_cut_position(batch, &ep->rx_queue, &last->node);
		WRITE_ONCE(ep->rx_frames, ep->rx_frames - n);
		WRITE_ONCE(ep->rx_bytes, ep->rx_bytes - truesize);
	}
	too_big = !last && !list_empty(&ep->rx_queue);
	spin_unlock(&ep->rx_lock);
	return too_big ? -EMSGSIZE : 0;
}

/* Put back what a faulting copy did not deliver, at the head, in order. */
static void pg_ep_untake(struct pg_endpoint *ep, struct list_head *batch)
{
	struct pg_delivery *d;
	size_t truesize = 0;
	u32 n = 0;

	list_for_each_entry(d, batch, node) {
		truesize += d->truesize;
		n++;
	}
	spin_lock(&ep->rx_lock);
	list_splice(batch, &ep->rx_queue);
	WRITE_ONCE(ep->rx_frames, ep->rx_frames + n);
	WRITE_ONCE(ep->rx_bytes, ep->rx_bytes + truesize);
	spin_unlock(&ep->rx_lock);
}

/* As many whole deliveries as fit, at least one; never a partial one. */
ssize_t pg_ep_read(struct pg_endpoint *ep, struct iov_iter *to,
		   bool nonblock)
{
	struct pg_delivery *d, *tmp;
	size_t copied_bytes = 0;
	LIST_HEAD(copied);
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
		list_move_tail(&d->node, &copied);
		copied_bytes += d->truesize;
		done += d->len;
		atomic64_inc(&ep->received);
	}
	if (!list_empty(&batch))
		pg_ep_untake(ep, &batch);
out:
	mutex_unlock(&ep->rx_mutex);
	if (!list_empty(&copied))
		pg_deliveries_free(ep, &copied,
				   copied_bytes + READ_ONCE(ep->rx_bytes));
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
