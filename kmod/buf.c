// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include "buf.h"
#include "endpoint.h"

/*
 * The caller has already reserved @size bytes of @owner's in-flight budget
 * (pg_ep_tx_reserve()); the buffer gives them back when it is freed.
 * GFP_KERNEL_ACCOUNT charges the memory to the writer's memory cgroup.
 */
struct pg_buf *pg_buf_alloc(struct pg_endpoint *owner, size_t size)
{
	struct pg_buf *buf;

	buf = kvmalloc(struct_size(buf, data, size), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return NULL;
	refcount_set(&buf->ref, 1);
	buf->size = size;
	buf->owner = owner ? pg_ep_get(owner) : NULL;
	return buf;
}

/* Must not be called with a spinlock held: kvfree() may sleep. */
void pg_buf_put(struct pg_buf *buf)
{
	struct pg_endpoint *owner;

	if (!refcount_dec_and_test(&buf->ref))
		return;
	owner = buf->owner;
	if (owner) {
		pg_ep_tx_release(owner, buf->size);
		pg_ep_put(owner);
	}
	kvfree(buf);
}
