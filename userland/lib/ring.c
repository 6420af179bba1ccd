// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * io_uring: many sends and receives in flight with one submission. The
 * device is FMODE_NOWAIT with poll, so io_uring completes each request
 * inline or on a poll wake-up, never on an io-wq worker thread.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "internal.h"

/* What a submission in flight was: the sqe's user_data is its index. */
struct ring_op {
	uint64_t user_data;
	const uint8_t *buf;	/* receive: where the deliveries land */
	bool recv, busy;
};

struct pg_ring {
	struct io_uring ring;
	struct pg *pg;
	struct ring_op *ops;
	unsigned int nops, next;
	uint8_t *bufs;		/* registered buffers, back to back */
	unsigned int nbufs;
	size_t buf_size;
};

PG_EXPORT int pg_ring_open(struct pg_ring **out, struct pg *pg,
			   unsigned int entries)
{
	struct pg_ring *r;
	int err;

	if (!entries || entries > 4096)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->nops = 2 * entries;	/* the completion queue's size */
	r->ops = calloc(r->nops, sizeof(*r->ops));
	if (!r->ops) {
		free(r);
		return -ENOMEM;
	}
	err = io_uring_queue_init(entries, &r->ring, 0);
	if (err) {
		free(r->ops);
		free(r);
		return err;
	}
	r->pg = pg;
	*out = r;
	return 0;
}

PG_EXPORT void pg_ring_close(struct pg_ring *r)
{
	if (!r)
		return;
	io_uring_queue_exit(&r->ring);
	free(r->bufs);
	free(r->ops);
	free(r);
}

PG_EXPORT int pg_ring_register_buffers(struct pg_ring *r, unsigned int nbufs,
				       size_t size)
{
	struct iovec *iov;
	unsigned int i;
	int err;

	if (r->bufs || !nbufs || nbufs > 1024 || !size || size > PG_RBUF_MAX)
		return -EINVAL;
	r->bufs = calloc(nbufs, size);
	iov = calloc(nbufs, sizeof(*iov));
	if (!r->bufs || !iov) {
		free(r->bufs);
		r->bufs = NULL;
		free(iov);
		return -ENOMEM;
	}
	for (i = 0; i < nbufs; i++) {
		iov[i].iov_base = r->bufs + i * size;
		iov[i].iov_len = size;
	}
	err = io_uring_register_buffers(&r->ring, iov, nbufs);
	free(iov);
	if (err) {
		free(r->bufs);
		r->bufs = NULL;
		return err;
	}
	r->nbufs = nbufs;
	r->buf_size = size;
	return 0;
}

PG_EXPORT uint8_t *pg_ring_buf(struct pg_ring *r, unsigned int i)
{
	return i < r->nbufs ? r->bufs + i * r->buf_size : NULL;
}

/* A free op slot and an sqe for it, or NULL when the ring is full. */
static struct io_uring_sqe *get(struct pg_ring *r, uint64_t user_data,
				bool recv, const void *buf)
{
	struct io_uring_sqe *sqe;
	unsigned int i, k;

	for (k = 0; k < r->nops; k++) {
		i = (r->next + k) % r->nops;
		if (!r->ops[i].busy)
			break;
	}
	if (k == r->nops)
		return NULL;
	sqe = io_uring_get_sqe(&r->ring);
	if (!sqe)
		return NULL;
	r->next = i + 1;
	r->ops[i] = (struct ring_op){
		.user_data = user_data, .buf = buf, .recv = recv, .busy = true,
	};
	io_uring_sqe_set_data64(sqe, i);
	return sqe;
}

/* The device is a stream: the offset is ignored; -1 says "current". */
#define PG_RING_OFF	((uint64_t)-1)

PG_EXPORT int pg_ring_send(struct pg_ring *r, const void *frames, size_t len,
			   uint64_t user_data)
{
	struct io_uring_sqe *sqe = get(r, user_data, false, frames);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_write(sqe, pg_fd(r->pg), frames, len, PG_RING_OFF);
	return 0;
}

PG_EXPORT int pg_ring_send_fixed(struct pg_ring *r, unsigned int i, size_t len,
				 uint64_t user_data)
{
	struct io_uring_sqe *sqe;

	if (i >= r->nbufs || len > r->buf_size)
		return -EINVAL;
	sqe = get(r, user_data, false, pg_ring_buf(r, i));
	if (!sqe)
		return -EBUSY;
	io_uring_prep_write_fixed(sqe, pg_fd(r->pg), pg_ring_buf(r, i), len,
				  PG_RING_OFF, i);
	return 0;
}

PG_EXPORT int pg_ring_recv(struct pg_ring *r, void *buf, size_t cap,
			   uint64_t user_data)
{
	struct io_uring_sqe *sqe = get(r, user_data, true, buf);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, pg_fd(r->pg), buf, cap, PG_RING_OFF);
	return 0;
}

PG_EXPORT int pg_ring_recv_fixed(struct pg_ring *r, unsigned int i,
				 uint64_t user_data)
{
	struct io_uring_sqe *sqe;

	if (i >= r->nbufs)
		return -EINVAL;
	sqe = get(r, user_data, true, pg_ring_buf(r, i));
	if (!sqe)
		return -EBUSY;
	io_uring_prep_read_fixed(sqe, pg_fd(r->pg), pg_ring_buf(r, i),
				 r->buf_size, PG_RING_OFF, i);
	return 0;
}

PG_EXPORT int pg_ring_submit(struct pg_ring *r)
{
	return io_uring_submit(&r->ring);
}

PG_EXPORT int pg_ring_wait(struct pg_ring *r, struct pg_completion *c,
			   unsigned int max, int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	unsigned int n = 0;
	int err;

	if (!max)
		return 0;
	err = io_uring_wait_cqe_timeout(&r->ring, &cqe,
					timeout_ms < 0 ? NULL : &ts);
	if (err == -ETIME)
		return -ETIMEDOUT;
	if (err)
		return err;
	while (n < max && io_uring_peek_cqe(&r->ring, &cqe) == 0) {
		uint64_t i = io_uring_cqe_get_data64(cqe);
		struct ring_op *op = i < r->nops ? &r->ops[i] : NULL;

		if (op && op->busy) {
			c[n++] = (struct pg_completion){
				.user_data = op->user_data, .recv = op->recv,
				.res = cqe->res, .data = op->buf,
			};
			op->busy = false;
		}
		io_uring_cqe_seen(&r->ring, cqe);
	}
	return n;
}

PG_EXPORT int pg_completion_next(const struct pg_completion *c, size_t *off,
				 struct pg_msg *m)
{
	ssize_t n;

	if (!c->recv || c->res <= 0 || *off >= (size_t)c->res)
		return 0;
	n = pg_msg_parse(c->data + *off, c->res - *off, m);
	if (n < 0)
		return (int)n;
	*off += n;
	return 1;
}
