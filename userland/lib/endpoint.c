// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Endpoints: one open file of /dev/promisegrid. Sending is write();
 * receiving is read() into a buffer that one call splits into deliveries.
 * Deliveries that arrive while a call waits for something else (a control
 * reply, a function's reply) are kept in a stash, served first later.
 */
#define _GNU_SOURCE		/* preadv2, RWF_NOWAIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int64_t pg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pg_left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - pg_now_ms();
	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : pg_now_ms() + timeout_ms;
}

int pg_fail(struct pg *pg, int err, const char *reason)
{
	pg->last_err = err;
	snprintf(pg->reason, sizeof(pg->reason), "%s",
		 reason ? reason : strerror(err));
	return -err;
}

PG_EXPORT int pg_attach(struct pg **out, int fd)
{
	struct pg *pg = calloc(1, sizeof(*pg));

	if (!pg)
		return -ENOMEM;
	pg->fd = fd;
	pg->next_id = 1;
	pg->next_nonce = ((uint64_t)getpid() << 32) ^ (uint64_t)pg_now_ms() << 8;
	*out = pg;
	return 0;
}

PG_EXPORT int pg_open(struct pg **out, int flags)
{
	int fd = open(PG_DEVICE_PATH, O_RDWR | O_CLOEXEC | flags);
	int err;

	if (fd < 0)
		return -errno;
	err = pg_attach(out, fd);
	if (err) {
		close(fd);
		return err;
	}
	(*out)->own_fd = true;
	return 0;
}

PG_EXPORT void pg_close(struct pg *pg)
{
	if (!pg)
		return;
	if (pg->own_fd)
		close(pg->fd);
	pg_buf_free(&pg->rbuf);
	pg_buf_free(&pg->stash);
	pg_buf_free(&pg->held);
	free(pg);
}

PG_EXPORT int pg_fd(const struct pg *pg)
{
	return pg->fd;
}

PG_EXPORT const char *pg_reason(const struct pg *pg)
{
	return pg->last_err ? pg->reason : "no error";
}

PG_EXPORT ssize_t pg_send(struct pg *pg, const void *frames, size_t len)
{
	ssize_t n;

	do
		n = write(pg->fd, frames, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? pg_fail(pg, errno, NULL) : n;
}

PG_EXPORT int pg_send_slots(struct pg *pg, const struct pg_cid *pcid,
			    cbor_item_t *const *slots, size_t n)
{
	struct pg_buf b = { 0 };
	ssize_t r = pg_frame_encode(&b, pcid, slots, n);

	if (!r)
		r = pg_send(pg, b.p, b.len);
	pg_buf_free(&b);
	return r < 0 ? (int)r : 0;
}

/* A read that does not wait: -1 with errno EAGAIN if nothing is there. */
static ssize_t read_nowait(struct pg *pg, struct pollfd *pfd)
{
	struct iovec iov = { .iov_base = pg->rbuf.p, .iov_len = pg->rbuf.cap };
	ssize_t n;
	int r;

	/*
	 * One system call, not a poll and a read, whatever the file's
	 * O_NONBLOCK: the device honours RWF_NOWAIT (io_uring needs it).
	 */
	if (!pg->no_rwf_nowait) {
		n = preadv2(pg->fd, &iov, 1, -1, RWF_NOWAIT);
		if (n >= 0 || errno != EOPNOTSUPP)
			return n;
		pg->no_rwf_nowait = true;	/* a file that is not the device */
	}
	r = poll(pfd, 1, 0);
	if (r <= 0) {
		if (!r)
			errno = EAGAIN;
		return -1;
	}
	return read(pg->fd, pg->rbuf.p, pg->rbuf.cap);
}

int pg_fill(struct pg *pg, int timeout_ms)
{
	struct pollfd pfd = { .fd = pg->fd, .events = POLLIN };
	size_t cap = pg->rbuf.cap;
	ssize_t n;
	int r;

	if (cap < PG_RBUF_MIN)
		cap = PG_RBUF_MIN;
	for (;;) {
		if (pg->rbuf.cap < cap) {
			uint8_t *p = realloc(pg->rbuf.p, cap);

			if (!p)
				return -ENOMEM;
			pg->rbuf.p = p;
			pg->rbuf.cap = cap;
		}
		pg->rbuf.len = pg->roff = 0;
		if (!timeout_ms) {
			n = read_nowait(pg, &pfd);
			if (n < 0 && errno == EAGAIN)
				return -ETIMEDOUT;
		} else {
			r = poll(&pfd, 1, timeout_ms);
			if (r < 0)
				return -errno;
			if (r == 0)
				return -ETIMEDOUT;
			n = read(pg->fd, pg->rbuf.p, pg->rbuf.cap);
		}
		if (n > 0) {
			pg->rbuf.len = n;
			return 1;
		}
		if (n == 0)
			return -EPIPE;
		if (errno == EMSGSIZE && cap < PG_RBUF_MAX) {
			cap *= 2;	/* the next delivery is larger: grow */
			continue;
		}
		if (errno != EAGAIN)
			return -errno;	/* EINTR included: the caller decides */
		/* Another reader took it: poll again. */
	}
}

/* Parses the delivery at *off in b; moves *off past it. */
static int take_from(struct pg_buf *b, size_t *off, struct pg_msg *m)
{
	ssize_t n;

	if (*off >= b->len)
		return 0;
	n = pg_msg_parse(b->p + *off, b->len - *off, m);
	if (n < 0) {
		*off = b->len;	/* the kernel sent what we cannot parse */
		return (int)n;
	}
	*off += n;
	return 1;
}

int pg_take(struct pg *pg, struct pg_msg *m)
{
	int r = take_from(&pg->stash, &pg->soff, m);

	if (r)
		return r;
	return take_from(&pg->rbuf, &pg->roff, m);
}

int pg_keep(struct pg *pg, const struct pg_msg *m)
{
	struct pg_buf *s = &pg->stash;

	if (pg->soff) {		/* drop what was served already */
		memmove(s->p, s->p + pg->soff, s->len - pg->soff);
		s->len -= pg->soff;
		pg->soff = 0;
	}
	if (s->len + m->raw_len > PG_STASH_MAX)
		return pg_fail(pg, ENOBUFS, "too many deliveries kept aside");
	return pg_buf_put(s, m->raw, m->raw_len);
}

PG_EXPORT int pg_recv(struct pg *pg, struct pg_msg *m, int timeout_ms)
{
	ssize_t r = pg_recv_batch(pg, m, 1, timeout_ms);

	return r < 0 ? (int)r : 1;
}

PG_EXPORT ssize_t pg_recv_batch(struct pg *pg, struct pg_msg *msgs, size_t max,
				int timeout_ms)
{
	size_t n = 0;
	int r;

	while (n < max) {
		r = pg_take(pg, &msgs[n]);
		if (r < 0)
			return r;
		if (r == 0) {
			if (n)
				break;
			r = pg_fill(pg, timeout_ms);
			if (r < 0)
				return r;
			continue;
		}
		n++;
	}
	return n;
}

int pg_wait_for(struct pg *pg, pg_match_fn match, const void *arg,
		int timeout_ms, struct pg_msg *out)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct pg_msg m;
	size_t off = pg->soff, at;
	int r;

	/* Kept deliveries first: a match leaves the stash, the rest stay. */
	while (at = off, take_from(&pg->stash, &off, &m) > 0) {
		if (!match(&m, arg))
			continue;
		pg->held.len = 0;
		if (pg_buf_put(&pg->held, m.raw, m.raw_len))
			return -ENOMEM;
		memmove(pg->stash.p + at, pg->stash.p + off, pg->stash.len - off);
		pg->stash.len -= off - at;
		return pg_msg_parse(pg->held.p, pg->held.len, out) < 0 ? -EPROTO : 1;
	}
	for (;;) {
		r = take_from(&pg->rbuf, &pg->roff, &m);
		if (r < 0)
			return r;
		if (r > 0) {
			if (match(&m, arg)) {
				*out = m;
				return 1;
			}
			r = pg_keep(pg, &m);
			if (r)
				return r;
			continue;
		}
		r = pg_fill(pg, pg_left_ms(deadline));
		if (r < 0)
			return r;
	}
}
