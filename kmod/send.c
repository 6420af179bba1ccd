// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * The send path: one write is copied once into a pg_buf, then each frame
 * of the CBOR sequence in it is checked and routed (or handled as a
 * control request) in order. Each delivery is its own copy, charged to
 * its receiver; the buffer is the writer's and ends with the write.
 */
#include <linux/errno.h>
#include <linux/uio.h>
#include "authorize.h"
#include "buf.h"
#include "control.h"
#include "endpoint.h"
#include "frame.h"
#include "params.h"
#include "pcid.h"
#include "route.h"
#include "send.h"
#include "stats.h"
#include "trace.h"

static int pg_send_frame(struct pg_endpoint *ep, struct pg_buf *buf, u32 off,
			 const struct pg_envelope *env, bool nowait,
			 struct pg_wakeups *w, struct pg_route_hold *hold)
{
	const u8 *cid = buf->data + off + env->cid_off;
	struct pg_authz_frame fr;

	switch (pg_kernel_pcid(cid, env->cid_len)) {
	case PG_KPCID_CONTROL:
		/* A request may take the route table's lock: no route held. */
		pg_route_release(hold);
		return pg_control(ep, buf, off, env);
	case PG_KPCID_DELIVERY:
		return -EPERM;
	case PG_KPCID_RETIRED:
		return -EPROTONOSUPPORT;
	default:
		fr = PG_AUTHZ_FRAME(cid, env->cid_len, env->frame_len);
		return pg_route_send(ep, buf->data + off, &fr, nowait, w,
				     hold);
	}
}

/* Not an error: the write goes on past the bytes this call looked at. */
#define PG_SEND_MORE	1
/* Not an error: the write takes the general path (pg_send_lent()). */
#define PG_SEND_GENERAL	2

/* Frames smaller than this gain less from lending than it costs. */
#define PG_LEND_MIN	256

/*
 * A one-frame write of @size bytes to the receiver that took this
 * endpoint's last frame alone (tx_peer) is copied straight into a record
 * that receiver lends (pg_ep_lend_record()): if the frame still has that
 * one receiver, its queue takes the record as it is. The bytes are
 * checked in the record, as in a pg_buf. 0 if the frame was sent, an
 * error, or PG_SEND_GENERAL with nothing consumed of @from.
 */
static noinline int pg_send_lent(struct pg_endpoint *ep, struct iov_iter *from,
				 size_t size, u64 peer, bool nowait,
				 struct pg_wakeups *w, u64 *trace_tag)
{
	struct pg_route_hold hold = PG_ROUTE_HOLD_INIT;
	struct pg_authz_frame fr;
	struct pg_envelope env;
	struct pg_endpoint *to;
	const u8 *cid;
	u8 *data;
	int err;

	to = pg_ep_lookup(peer);
	if (!to)
		return PG_SEND_GENERAL;
	w->lent = pg_ep_lend_record(to, size);
	if (!w->lent) {
		pg_ep_put(to);
		return PG_SEND_GENERAL;
	}
	w->lent_to = to;
	data = w->lent->data;
	err = PG_SEND_GENERAL;
	if (!copy_from_iter_full(data, size, from))
		goto out;
	/* Anything else (a control request, more frames) as in general. */
	if (pg_frame_scan(data, size, &env) || env.frame_len != size)
		goto revert;
	cid = data + env.cid_off;
	if (pg_kernel_pcid(cid, env.cid_len) != PG_KPCID_NONE)
		goto revert;
	/* The record may be the receiver's, and read, once routed. */
	if (trace_pg_send_enabled())
		*trace_tag = pg_cid_hash(cid, env.cid_len);
	fr = PG_AUTHZ_FRAME(cid, env.cid_len, size);
	err = pg_route_send(ep, data, &fr, nowait, w, &hold);
	pg_route_release(&hold);
	if (!err)
		goto out;
revert:
	iov_iter_revert(from, size);
out:
	if (w->lent)
		pg_ep_return_record(to, w->lent);
	w->lent = NULL;
	w->lent_to = NULL;
	w->sole = false;
	pg_ep_put(to);
	return err;
}

/*
 * Check the frame at @off. A frame cut off by the end of a chunk shorter
 * than the write is too large if it is the first (the chunk holds at
 * least max_frame bytes), and otherwise left for the next write.
 */
static int pg_send_parse(struct pg_buf *buf, u32 off, size_t count,
			 struct pg_envelope *env)
{
	int err = pg_frame_scan(buf->data + off, buf->size - off, env);

	if (err == -PG_CBOR_ETRUNC && buf->size < count)
		return off ? PG_SEND_MORE : -EMSGSIZE;
	return err ? pg_env_errno(err) : 0;
}

/* Once per frame: inline, as it was before it had two callers. */
static __always_inline void pg_sent_frame(struct pg_endpoint *ep,
					  u64 trace_tag, u32 len)
{
	if (trace_pg_send_enabled())
		trace_pg_send(ep->id, trace_tag, len, 0);
	atomic64_inc(&ep->sent);
	pg_stat_inc(PG_STAT_FRAMES_SENT);
}

/* @err ends the write with @left bytes not sent, after @some frames. */
static void pg_send_failed(struct pg_endpoint *ep, int err, size_t left,
			   bool some)
{
	if (trace_pg_send_enabled())
		trace_pg_send(ep->id, 0, left, err);
	/* Busy is not refused: nothing was wrong with the frame. */
	if (err != -EAGAIN)
		pg_stat_inc(PG_STAT_REJECTED);
	/* A later frame's error waits for the next write. */
	if (some)
		WRITE_ONCE(ep->tx_error, err);
}

/*
 * The receiver of a one-frame write that reached only it is where the
 * endpoint's next one may be lent a record. Any other write (a batch,
 * a request, a frame with no receiver or several, an error) forgets
 * it: a stale peer would only be asked for records it never gets back.
 */
static void pg_send_note_peer(struct pg_endpoint *ep, unsigned int frames,
			      const struct pg_wakeups *w)
{
	u64 peer = READ_ONCE(ep->tx_peer);
	u64 now = frames == 1 && w->deliveries == 1 ? w->last_to : 0;

	if (peer != now)
		WRITE_ONCE(ep->tx_peer, now);
}

ssize_t pg_send(struct pg_endpoint *ep, struct iov_iter *from, bool nonblock,
		bool nowait)
{
	size_t count = iov_iter_count(from);
	struct pg_wakeups wakeups = PG_WAKEUPS_INIT(wakeups);
	struct pg_route_hold hold = PG_ROUTE_HOLD_INIT;
	struct pg_envelope env;
	unsigned int frames = 0;
	u64 trace_tag = 0;
	u64 peer;
	struct pg_buf *buf;
	size_t size;
	u32 off = 0;
	int err;

	/* A frame that failed after a short write is reported now. */
	err = xchg(&ep->tx_error, 0);
	if (err)
		return err;
	if (!count)
		return 0;

	size = min(count, pg_write_chunk());
	err = pg_ep_tx_reserve(ep, size, nonblock);
	if (err)
		return err;
	/* Noinline, and asked only when it may apply: small writes pay no call. */
	peer = READ_ONCE(ep->tx_peer);
	err = size >= PG_LEND_MIN && peer ?
	      pg_send_lent(ep, from, size, peer, nowait, &wakeups, &trace_tag) :
	      PG_SEND_GENERAL;
	if (err != PG_SEND_GENERAL) {
		pg_ep_tx_release(ep, size);
		if (!err)
			pg_sent_frame(ep, trace_tag, size);
		else
			pg_send_failed(ep, err, size, false);
		pg_send_note_peer(ep, !err, &wakeups);
		pg_wakeups_flush(&wakeups);
		return err ? err : (ssize_t)size;
	}
	buf = pg_buf_alloc(ep, size);
	if (!buf) {
		pg_ep_tx_release(ep, size);
		return -ENOMEM;
	}
	if (!copy_from_iter_full(buf->data, size, from)) {
		err = -EFAULT;
		goto out;
	}

	while (off < size) {
		err = pg_send_parse(buf, off, count, &env);
		if (!err)
			err = pg_send_frame(ep, buf, off, &env, nowait,
					    &wakeups, &hold);
		/* Busy, not wrong: a later frame waits for the next write. */
		if (err == -EAGAIN && off)
			err = PG_SEND_MORE;
		if (err)
			break;
		if (trace_pg_send_enabled())
			trace_tag = pg_cid_hash(buf->data + off + env.cid_off,
						env.cid_len);
		pg_sent_frame(ep, trace_tag, env.frame_len);
		off += env.frame_len;
		frames++;
	}
	pg_route_release(&hold);
	pg_send_note_peer(ep, frames, &wakeups);
	if (err == PG_SEND_MORE)
		err = 0;
	if (err)
		pg_send_failed(ep, err, size - off, off);
	iov_iter_revert(from, size - off);
	/* Receivers run once the whole write is queued. */
	pg_wakeups_flush(&wakeups);
out:
	pg_buf_put(buf);
	return off ? (ssize_t)off : err;
}
