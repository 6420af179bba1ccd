/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * An endpoint is one open file of /dev/promisegrid: a receive queue of
 * deliveries, a send budget, and the receives (routes) it holds.
 */
#ifndef PG_ENDPOINT_H
#define PG_ENDPOINT_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/promisegrid.h>

struct file;
struct pg_buf;
struct pg_wakeups;

struct cred;
struct mem_cgroup;
struct pid;
struct pid_namespace;
struct user_namespace;

/*
 * One frame queued for one receiver: its own copy, in memory charged to
 * the receiver's memory cgroup and counted in its queue_bytes, so that
 * what a receiver holds is its own cost and never pins its sender.
 */
struct pg_delivery {
	struct list_head node;		/* in pg_endpoint.rx_queue or rx_free */
	u64 from;			/* sending endpoint's id; 0: the kernel */
	u32 len;			/* bytes of data[] */
	u32 truesize;			/* the allocation, as rx_bytes counts it */
	u32 hdr_len;			/* where the sender's frame starts */
	u8 data[];			/* attestation header, then the frame */
};

#define PG_EP_WAKE_QUEUED	0	/* on some writer's pg_wakeups list */

/* The host a gateway's frames come from, as the gateway named it. */
struct pg_host {
	u32 len;
	char name[PG_HOST_NAME_MAX];
};

/*
 * Endpoints an endpoint may carry to because it read a frame of theirs:
 * a table indexed by sender id modulo its size (a power of two). Ids are
 * handed out in sequence, so senders with any 128 consecutive ids all
 * keep their entry; a later sender whose id shares the entry takes it.
 */
#define PG_REPLY_PEERS		128

struct pg_endpoint {
	u64 id;				/* never reused while loaded */
	struct kref ref;		/* the file and lookups */

	/*
	 * Receive side. rx_lock (a spinlock, taken under a route's mutex)
	 * protects rx_queue, rx_frames, rx_bytes, dead, rx_free,
	 * rx_free_bytes, rx_reused, rx_trim_armed and rx_trim_seen;
	 * readers write reply_peers under it, carriers read it with
	 * READ_ONCE().
	 * Only readers holding rx_mutex remove deliveries, so a reader may
	 * copy the head delivery to user space without rx_lock.
	 */
	spinlock_t rx_lock;
	struct list_head rx_queue;
	u32 rx_frames;			/* READ_ONCE() outside rx_lock */
	size_t rx_bytes;		/* sum of truesize */
	bool dead;			/* closed: nothing more is queued */
	struct mutex rx_mutex;		/* serializes readers */
	wait_queue_head_t rx_wait;	/* readers, EPOLLIN */
	atomic64_t rx_unreported;	/* drops not yet told to the reader */
	struct pg_delivery *rx_cache;	/* a read record kept; xchg() */
	struct list_head rx_free;	/* more of them, of one size class */
	u32 rx_free_bytes;		/* their truesize, <= PG_RX_FREE_CAP */
	u32 rx_reused;			/* records taken from rx_free, ever */
	atomic_t rx_lent;		/* kept records out to writers (lending) */
	unsigned long flags;		/* PG_EP_WAKE_QUEUED */
	struct list_head wake_node;	/* in a writer's pg_wakeups */
	struct pg_wakeups *wake_batch;	/* that writer's list, or NULL */
	u64 reply_peers[PG_REPLY_PEERS];/* senders of frames it read */
	bool accept_carry;		/* anyone may carry to it */
	bool accept_attest;		/* carried frames come attested */
	bool notify_unread;		/* wants unread notices for its frames */

	/* Send side: bytes of this endpoint's writes in progress. */
	atomic_long_t tx_inflight;
	struct pg_buf *tx_cache;	/* a free buffer to reuse; xchg() (buf.c) */
	wait_queue_head_t tx_wait;	/* writers out of budget, EPOLLOUT */
	int tx_error;			/* error after a short write; xchg() */
	u64 tx_peer;			/* sole receiver of its last write, a hint */

	/* Receives held; protected by pg_table_mutex (route.c). */
	struct list_head recvs;
	u32 nrecvs;

	/*
	 * A gateway (control "gateway"): set once, under pg_table_mutex and
	 * before the endpoint receives, never changed, freed with it; NULL
	 * for an ordinary endpoint. The message path reads it lock-free.
	 */
	struct pg_host *gateway;
	struct list_head watch_node;	/* in pg_watchers; pg_table_mutex */
	/*
	 * The open file, for capability checks with its credentials
	 * (file_ns_capable()); only used on its own write path, where the
	 * file is pinned by the writer.
	 */
	const struct file *file;

	/* Capabilities; protected by pg_caps_mutex (caps.c). */
	struct list_head holdings;	/* claims and redeemed tokens */
	u32 nholdings;
	struct list_head claims;	/* pCIDs this endpoint claimed */
	u32 nclaims;

	struct pg_user *user;		/* the opener, charged until close */

	/*
	 * The opener, the principal for every check and attestation: its
	 * credentials (file->f_cred), its process, its cgroup and memory
	 * cgroup at open, and the namespaces attestation is written in.
	 */
	const struct cred *cred;
	u32 uid, gid;			/* cred's effective ids, initial ns */
	struct pid *opener;
	u32 opener_nr;			/* its number in the initial pid ns */
	u64 cgroup_id;
	struct mem_cgroup *memcg;	/* pays for what it receives */
	struct user_namespace *user_ns;
	struct pid_namespace *pid_ns;

	atomic64_t sent;		/* frames accepted from this endpoint */
	atomic64_t received;		/* deliveries read */
	atomic64_t dropped;		/* deliveries lost: queue full */

	/*
	 * Gives back the kept records above PG_RX_FREE_MAX once the reader
	 * stopped: armed under rx_lock while not dead, cancelled at close.
	 */
	struct delayed_work rx_trim;
	bool rx_trim_armed;		/* queued or running */
	u32 rx_trim_seen;		/* rx_reused when it last looked */

	struct rcu_head rcu;
};

/*
 * Receivers to wake once a write has queued everything it carries: waking
 * each at its own delivery would let it run (and read one frame) at the
 * writer's next allocation, two context switches per delivery. An
 * endpoint is on at most one writer's list (PG_EP_WAKE_QUEUED, with
 * wake_batch naming the list); a writer that finds it on another writer's
 * list wakes it at once, so no writer's wake-up waits for another's.
 */
struct pg_wakeups {
	struct list_head list;		/* pg_endpoint.wake_node, referenced */
	unsigned int deliveries;	/* queued by this write so far */
	u64 last_to;			/* the last receiver queued to */
	/*
	 * A one-frame write copied into a record lent by @lent_to (see
	 * pg_ep_lend_record()); the route sets @sole when the frame has
	 * one possible receiver, and only then may that receiver take the
	 * record as it is.
	 */
	struct pg_delivery *lent;
	struct pg_endpoint *lent_to;
	bool sole;
};

#define PG_WAKEUPS_INIT(name)	{ .list = LIST_HEAD_INIT((name).list) }

void pg_wakeups_flush(struct pg_wakeups *w);

struct pg_endpoint *pg_ep_create(const struct file *file);
void pg_ep_close(struct pg_endpoint *ep);
struct pg_endpoint *pg_ep_lookup(u64 id);
u32 pg_ep_opener_pid(const struct pg_endpoint *ep, struct pid_namespace *ns);

static inline struct pg_endpoint *pg_ep_get(struct pg_endpoint *ep)
{
	kref_get(&ep->ref);
	return ep;
}

void pg_ep_put(struct pg_endpoint *ep);

int pg_ep_deliver_via(struct pg_endpoint *ep, const u8 *frame, u32 len,
		      struct pg_endpoint *from, const struct pg_host *host,
		      bool attest, u64 trace_tag, struct pg_wakeups *w);

/* A gateway's frame is attested with the host it named. */
static inline const struct pg_host *pg_ep_gateway(const struct pg_endpoint *ep)
{
	return ep ? READ_ONCE(ep->gateway) : NULL;
}

static inline int pg_ep_deliver(struct pg_endpoint *ep, const u8 *frame,
				u32 len, struct pg_endpoint *from, bool attest,
				u64 trace_tag, struct pg_wakeups *w)
{
	return pg_ep_deliver_via(ep, frame, len, from, pg_ep_gateway(from),
				 attest, trace_tag, w);
}

bool pg_ep_may_carry_to(struct pg_endpoint *ep, struct pg_endpoint *to);
ssize_t pg_ep_read(struct pg_endpoint *ep, struct iov_iter *to,
		   bool nonblock);
__poll_t pg_ep_poll(struct pg_endpoint *ep, struct file *file,
		    poll_table *wait);

struct pg_delivery *pg_ep_lend_record(struct pg_endpoint *ep, size_t len);
void pg_ep_return_record(struct pg_endpoint *ep, struct pg_delivery *d);

int pg_ep_tx_reserve(struct pg_endpoint *ep, size_t size, bool nonblock);
void pg_ep_tx_release(struct pg_endpoint *ep, size_t size);

#endif /* PG_ENDPOINT_H */
