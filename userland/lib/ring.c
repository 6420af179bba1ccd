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
#include <unistd.h>

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
	struct ring_mshot *ms;	/* the armed receive, or NULL */
};

/*
 * IORING_OP_READ_MULTISHOT, Linux 6.7's uapi value. liburing has it from
 * 2.5 on (io_uring_prep_read_multishot()); bookworm's 2.3 knows neither,
 * and its opcodes are an enum, so no #ifdef can tell: the number is ABI.
 */
#define PG_OP_READ_MULTISHOT	49

/* The provided buffer group of the armed receive: one per ring. */
#define PG_MSHOT_BGID		0x7067

/*
 * A receive that stays armed (pg_ring_recv_multishot()): deliveries land
 * in buffers the kernel picks from a provided buffer ring. Each buffer a
 * completion handed out goes back to the kernel at the next pg_ring_wait().
 */
struct ring_mshot {
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	unsigned int nbufs;	/* a power of two */
	size_t size;
	unsigned int op;	/* its slot in ops[] */
	bool kernel;		/* IORING_OP_READ_MULTISHOT, else re-armed reads */
	bool armed;		/* an SQE of it is in the kernel */
	bool ended;		/* failed: no longer re-armed */
	unsigned int *lent;	/* buffer ids handed out by the last wait */
	unsigned int nlent;
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
	if (r->ms) {
		free(r->ms->br);
		free(r->ms->bufs);
		free(r->ms->lent);
		free(r->ms);
	}
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

/* Fill the SQE that (re-)arms the receive of @ms. */
static int mshot_arm(struct pg_ring *r, struct ring_mshot *ms)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	if (!sqe)
		return -EBUSY;
	if (ms->kernel) {
		/* As io_uring_prep_read_multishot(): no address, no length. */
		io_uring_prep_rw(PG_OP_READ_MULTISHOT, sqe, pg_fd(r->pg), NULL,
				 0, PG_RING_OFF);
	} else {
		io_uring_prep_read(sqe, pg_fd(r->pg), NULL, ms->size,
				   PG_RING_OFF);
	}
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = PG_MSHOT_BGID;
	io_uring_sqe_set_data64(sqe, ms->op);
	ms->armed = true;
	return 0;
}

static void mshot_give(struct ring_mshot *ms, unsigned int bid, int k)
{
	io_uring_buf_ring_add(ms->br, ms->bufs + (size_t)bid * ms->size,
			      ms->size, bid, io_uring_buf_ring_mask(ms->nbufs),
			      k);
}

PG_EXPORT int pg_ring_recv_multishot(struct pg_ring *r, unsigned int nbufs,
				     size_t size, uint64_t user_data)
{
	struct io_uring_buf_reg reg = { .bgid = PG_MSHOT_BGID };
	struct io_uring_probe *probe;
	struct ring_mshot *ms;
	unsigned int i;
	int err;

	if (r->ms)
		return -EBUSY;
	if (nbufs < 2 || nbufs > 1024 || (nbufs & (nbufs - 1)) || !size ||
	    size > PG_RBUF_MAX || size > UINT32_MAX)
		return -EINVAL;
	for (i = 0; i < r->nops && r->ops[i].busy; i++)
		;
	if (i == r->nops)
		return -EBUSY;
	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	ms->nbufs = nbufs;
	ms->size = size;
	ms->op = i;
	ms->bufs = calloc(nbufs, size);
	ms->lent = calloc(nbufs, sizeof(*ms->lent));
	err = posix_memalign((void **)&ms->br, sysconf(_SC_PAGESIZE),
			     nbufs * sizeof(struct io_uring_buf));
	if (err || !ms->bufs || !ms->lent) {
		if (err)
			ms->br = NULL;
		err = -ENOMEM;
		goto fail;
	}
	io_uring_buf_ring_init(ms->br);
	reg.ring_addr = (uintptr_t)ms->br;
	reg.ring_entries = nbufs;
	err = io_uring_register_buf_ring(&r->ring, &reg, 0);
	if (err)
		goto fail;
	for (i = 0; i < nbufs; i++)
		mshot_give(ms, i, i);
	io_uring_buf_ring_advance(ms->br, nbufs);

	probe = io_uring_get_probe_ring(&r->ring);
	ms->kernel = probe &&
		     io_uring_opcode_supported(probe, PG_OP_READ_MULTISHOT);
	io_uring_free_probe(probe);

	err = mshot_arm(r, ms);
	if (err) {
		io_uring_unregister_buf_ring(&r->ring, PG_MSHOT_BGID);
		goto fail;
	}
	r->ops[ms->op] = (struct ring_op){
		.user_data = user_data, .recv = true, .busy = true,
	};
	r->ms = ms;
	return ms->kernel;
fail:
	free(ms->br);
	free(ms->bufs);
	free(ms->lent);
	free(ms);
	return err;
}

/* The buffers the last wait handed out go back; the receive re-arms. */
static int mshot_refill(struct pg_ring *r)
{
	struct ring_mshot *ms = r->ms;
	unsigned int k;
	int err;

	if (!ms)
		return 0;
	for (k = 0; k < ms->nlent; k++)
		mshot_give(ms, ms->lent[k], k);
	io_uring_buf_ring_advance(ms->br, ms->nlent);
	ms->nlent = 0;
	if (ms->armed || ms->ended)
		return 0;
	err = mshot_arm(r, ms);
	if (err)
		return err;
	err = io_uring_submit(&r->ring);
	return err < 0 ? err : 0;
}

/*
 * A completion of the armed receive: the deliveries are in the buffer the
 * kernel chose. Without IORING_CQE_F_MORE the kernel dropped the request
 * (always, for a plain read): re-armed at the next wait, unless it failed.
 * -ENOBUFS (every buffer handed out) is not the caller's: no completion.
 */
static bool mshot_cqe(struct ring_mshot *ms, const struct io_uring_cqe *cqe,
		      struct ring_op *op, struct pg_completion *c)
{
	bool more = cqe->flags & IORING_CQE_F_MORE;
	unsigned int bid;

	if (!more)
		ms->armed = false;
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		if (bid < ms->nbufs) {
			ms->lent[ms->nlent++] = bid;
			op->buf = ms->bufs + (size_t)bid * ms->size;
		}
	}
	if (cqe->res == -ENOBUFS)
		return false;
	if (cqe->res < 0 && !more) {
		ms->ended = true;
		op->busy = false;
	}
	*c = (struct pg_completion){
		.user_data = op->user_data, .recv = true,
		.res = cqe->res, .data = cqe->res > 0 ? op->buf : NULL,
	};
	return true;
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
	err = mshot_refill(r);
	if (err)
		return err;
	do {
		err = io_uring_wait_cqe_timeout(&r->ring, &cqe,
						timeout_ms < 0 ? NULL : &ts);
		if (err == -ETIME)
			return -ETIMEDOUT;
		if (err)
			return err;
		while (n < max && io_uring_peek_cqe(&r->ring, &cqe) == 0) {
			uint64_t i = io_uring_cqe_get_data64(cqe);
			struct ring_op *op = i < r->nops ? &r->ops[i] : NULL;

			if (op && op->busy && r->ms && i == r->ms->op) {
				if (mshot_cqe(r->ms, cqe, op, &c[n]))
					n++;
			} else if (op && op->busy) {
				c[n++] = (struct pg_completion){
					.user_data = op->user_data,
					.recv = op->recv, .res = cqe->res,
					.data = op->buf,
				};
				op->busy = false;
			}
			io_uring_cqe_seen(&r->ring, cqe);
		}
		/* Only an -ENOBUFS came: give the buffers back, wait again. */
		if (!n) {
			err = mshot_refill(r);
			if (err)
				return err;
		}
	} while (!n);
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
