/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * A pg_buf holds the bytes of one write (one or more frames) or of one
 * kernel-made frame. Deliveries point into it, so fan-out and batched
 * writes copy the bytes from user space once. Its size is charged to the
 * writing endpoint's in-flight budget until the last delivery is read.
 */
#ifndef PG_BUF_H
#define PG_BUF_H

#include <linux/refcount.h>
#include <linux/types.h>

struct pg_endpoint;

struct pg_buf {
	refcount_t ref;			/* writer + one per delivery */
	u32 size;			/* bytes of data[] used, charged to owner */
	u32 cap;			/* bytes of data[] allocated */
	struct pg_endpoint *owner;	/* NULL when the kernel made it */
	u8 data[];
};

/*
 * An endpoint keeps the last of its own buffers that was freed, if it is
 * at most this large, for its next write of a size that fits.
 */
#define PG_BUF_CACHE_MAX	(32u << 10)

/* Frees the endpoint's kept buffer; the endpoint is going away. */
void pg_buf_cache_drop(struct pg_endpoint *ep);

struct pg_buf *pg_buf_alloc(struct pg_endpoint *owner, size_t size);
void pg_buf_put(struct pg_buf *buf);

static inline struct pg_buf *pg_buf_get(struct pg_buf *buf)
{
	refcount_inc(&buf->ref);
	return buf;
}

#endif /* PG_BUF_H */
