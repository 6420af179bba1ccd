// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Batches: many frames in one write (a CBOR sequence, RFC 8742). The
 * module takes whole frames only: a short write ends on a frame boundary,
 * and if a frame failed, the next write reports its error.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

static int grow_ends(struct pg_batch *b)
{
	size_t cap = b->cap ? 2 * b->cap : 32;
	size_t *ends;

	if (b->n < b->cap)
		return 0;
	ends = realloc(b->ends, cap * sizeof(*ends));
	if (!ends)
		return -ENOMEM;
	b->ends = ends;
	b->cap = cap;
	return 0;
}

PG_EXPORT int pg_batch_add(struct pg_batch *b, const void *frame, size_t len)
{
	int r = grow_ends(b) ?: pg_buf_put(&b->buf, frame, len);

	if (!r)
		b->ends[b->n++] = b->buf.len;
	return r;
}

PG_EXPORT int pg_batch_add_slots(struct pg_batch *b, const struct pg_cid *pcid,
				 cbor_item_t *const *slots, size_t n)
{
	int r = grow_ends(b) ?: pg_frame_encode(&b->buf, pcid, slots, n);

	if (!r)
		b->ends[b->n++] = b->buf.len;
	return r;
}

PG_EXPORT void pg_batch_reset(struct pg_batch *b)
{
	b->buf.len = 0;
	b->n = 0;
}

PG_EXPORT void pg_batch_free(struct pg_batch *b)
{
	pg_buf_free(&b->buf);
	free(b->ends);
	*b = (struct pg_batch){ 0 };
}

PG_EXPORT ssize_t pg_batch_send(struct pg *pg, const struct pg_batch *b,
				size_t *accepted)
{
	size_t off = 0, done = 0;
	ssize_t n;

	if (accepted)
		*accepted = 0;
	while (done < b->n) {
		n = pg_send(pg, b->buf.p + off, b->buf.len - off);
		if (n < 0)
			return n;
		off += n;
		while (done < b->n && b->ends[done] <= off)
			done++;
		if (accepted)
			*accepted = done;
		/* The module takes whole frames only; anything else is a bug. */
		if (n == 0 || !done || b->ends[done - 1] != off)
			return pg_fail(pg, EPROTO, "the module split a frame");
	}
	return done;
}
