/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * A pg_buf holds the bytes of one write (one or more frames), copied from
 * user space once and checked in place.
 * Each delivery copies its frame out of it (into memory charged to the
 * receiver), so the buffer lives only as long as the write: its size is
 * charged to the writing endpoint's in-flight budget until then.
 */
#ifndef PG_BUF_H
#define PG_BUF_H

#include <linux/refcount.h>
#include <linux/types.h>

struct pg_endpoint;

struct pg_buf {
	refcount_t ref;			/* the writer's */
	u32 size;			/* bytes of data[] used, charged to owner */
	u32 cap;			/* bytes of data[] allocated */
	struct pg_endpoint *owner;	/* the writer, referenced */
	u8 data[];
};

/*
 * An endpoint keeps the last of its own buffers that was freed, if it is
 * at most this large, for its next write of a size that fits.
 */
#define PG_BUF_CACHE_MAX	(32u << 10)

/*
 * Whether a kept allocation of @cap bytes serves a request of @size: it
 * must hold it, wasting at most as much as it uses (or 256 bytes).
 */
static inline bool pg_cache_fits(size_t cap, size_t size)
{
	return size <= cap && cap - size <= max_t(size_t, size, 256);
}

/* Frees the endpoint's kept buffer; the endpoint is going away. */
void pg_buf_cache_drop(struct pg_endpoint *ep);

struct pg_buf *pg_buf_alloc(struct pg_endpoint *owner, size_t size);
void pg_buf_put(struct pg_buf *buf);

#endif /* PG_BUF_H */
