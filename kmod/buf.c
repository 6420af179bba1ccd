// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include "buf.h"
#include "endpoint.h"

/*
 * The buffer cache: each endpoint's tx_cache slot holds at most one free
 * buffer of its own, and only xchg() and cmpxchg() touch the slot. A round
 * trip, or a stream of writes of one size, then allocates nothing: a
 * 16 KiB frame is an order-3 allocation otherwise. The kept buffer stays
 * charged to the memory cgroup that allocated it.
 */
static struct pg_buf *pg_buf_reuse(struct pg_endpoint *owner, size_t size)
{
	struct pg_buf *buf = xchg(&owner->tx_cache, NULL);

	if (!buf || pg_cache_fits(buf->cap, size))
		return buf;
	/* Keep it for a write it fits, unless another was kept meanwhile. */
	if (cmpxchg(&owner->tx_cache, NULL, buf))
		kvfree(buf);
	return NULL;
}

void pg_buf_cache_drop(struct pg_endpoint *ep)
{
	kvfree(xchg(&ep->tx_cache, NULL));
}

/*
 * The caller has already reserved @size bytes of @owner's in-flight budget
 * (pg_ep_tx_reserve()); the buffer gives them back when it is freed.
 * GFP_KERNEL_ACCOUNT charges the memory to the writer's memory cgroup.
 */
struct pg_buf *pg_buf_alloc(struct pg_endpoint *owner, size_t size)
{
	struct pg_buf *buf = pg_buf_reuse(owner, size);

	if (!buf) {
		buf = kvmalloc(struct_size(buf, data, size), GFP_KERNEL_ACCOUNT);
		if (!buf)
			return NULL;
		buf->cap = size;
	}
	refcount_set(&buf->ref, 1);
	buf->size = size;
	buf->owner = pg_ep_get(owner);
	return buf;
}

/* Must not be called with a spinlock held: kvfree() may sleep. */
void pg_buf_put(struct pg_buf *buf)
{
	struct pg_endpoint *owner;

	if (!refcount_dec_and_test(&buf->ref))
		return;
	owner = buf->owner;
	pg_ep_tx_release(owner, buf->size);
	/* The owner's reference keeps it alive until the buffer is kept. */
	if (buf->cap <= PG_BUF_CACHE_MAX)
		buf = xchg(&owner->tx_cache, buf);
	kvfree(buf);
	pg_ep_put(owner);
}
