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

ssize_t pg_send(struct pg_endpoint *ep, struct iov_iter *from, bool nonblock,
		bool nowait)
{
	size_t count = iov_iter_count(from);
	struct pg_wakeups wakeups = PG_WAKEUPS_INIT(wakeups);
	struct pg_route_hold hold = PG_ROUTE_HOLD_INIT;
	struct pg_envelope env;
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
			trace_pg_send(ep->id, pg_cid_hash(buf->data + off +
							  env.cid_off,
							  env.cid_len),
				      env.frame_len, 0);
		off += env.frame_len;
		atomic64_inc(&ep->sent);
		pg_stat_inc(PG_STAT_FRAMES_SENT);
	}
	pg_route_release(&hold);
	if (err == PG_SEND_MORE)
		err = 0;
	if (err && trace_pg_send_enabled())
		trace_pg_send(ep->id, 0, size - off, err);
	/* Busy is not refused: nothing was wrong with the frame. */
	if (err && err != -EAGAIN)
		pg_stat_inc(PG_STAT_REJECTED);
	/* A later frame's error waits for the next write. */
	if (off && err)
		WRITE_ONCE(ep->tx_error, err);
	iov_iter_revert(from, size - off);
	/* Receivers run once the whole write is queued. */
	pg_wakeups_flush(&wakeups);
out:
	pg_buf_put(buf);
	return off ? (ssize_t)off : err;
}
