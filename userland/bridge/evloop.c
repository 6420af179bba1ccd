// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * cnats driven from the bridge's own poll loop, through cnats' event-loop
 * adapter (natsOptions_SetEventLoop): the thread that owns the kernel
 * endpoints also reads and writes the NATS socket. A message from NATS is
 * parsed into its (synchronous) subscription and injected by that one
 * thread, and a publication is written by the thread that made it
 * (send-asap, so no flusher thread): no hand-off between threads on the
 * way in or out, which a round trip would pay four times.
 *
 * cnats keeps threads of its own (reconnect, ping timer, callbacks), and
 * they may attach a new socket or ask for write events: what they touch
 * here is atomic, and they wake the loop through an eventfd.
 *
 * Not with TLS: cnats' TLS read, given a socket that is readable but no
 * whole record (a TLS 1.3 session ticket after the handshake, or half a
 * record), waits in poll() for the rest, event loop or not, which here
 * would stop the whole bridge until the server next writes. A TLS
 * connection keeps cnats' threads, and its messages come through
 * inbound.c; the functions below then stand in for that mode.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bridge.h"

struct br_evloop {
	_Atomic(natsConnection *) nc;	/* from attach: set before b->nc is */
	atomic_int fd;			/* the connection's socket, or -1 */
	atomic_bool want_read, want_write;
	int wake;			/* eventfd: another thread changed them */
	pthread_t owner;		/* the poll loop's thread */
};

/* Called by cnats: from the loop's thread, or another of its own. */
static void kick(struct br_evloop *ev)
{
	uint64_t one = 1;

	if (!pthread_equal(pthread_self(), ev->owner) &&
	    write(ev->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		abort();
}

static natsStatus ev_attach(void **user, void *loop, natsConnection *nc,
			    natsSock fd)
{
	struct br_evloop *ev = loop;

	*user = ev;
	atomic_store(&ev->nc, nc);
	atomic_store(&ev->fd, (int)fd);
	atomic_store(&ev->want_read, true);
	kick(ev);
	return NATS_OK;
}

static natsStatus ev_read(void *user, bool add)
{
	struct br_evloop *ev = user;

	atomic_store(&ev->want_read, add);
	kick(ev);
	return NATS_OK;
}

static natsStatus ev_write(void *user, bool add)
{
	struct br_evloop *ev = user;

	atomic_store(&ev->want_write, add);
	kick(ev);
	return NATS_OK;
}

static natsStatus ev_detach(void *user)
{
	struct br_evloop *ev = user;

	atomic_store(&ev->want_read, false);
	atomic_store(&ev->want_write, false);
	atomic_store(&ev->fd, -1);
	kick(ev);
	return NATS_OK;
}

int br_evloop_init(struct bridge *b, natsOptions *o)
{
	struct br_evloop *ev = calloc(1, sizeof(*ev));
	natsStatus s;

	if (!ev)
		return -ENOMEM;
	atomic_init(&ev->fd, -1);
	ev->owner = pthread_self();
	ev->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ev->wake < 0) {
		free(ev);
		return -errno;
	}
	b->evloop = ev;
	s = natsOptions_SetEventLoop(o, ev, ev_attach, ev_read, ev_write,
				     ev_detach);
	if (s == NATS_OK)
		s = natsOptions_SetSendAsap(o, true);
	return s == NATS_OK ? 0 : -EINVAL;
}

int br_evloop_pollfds(const struct bridge *b, struct pollfd *pfd)
{
	struct br_evloop *ev = b->evloop;
	bool rd, wr;

	if (!ev) {		/* TLS: the inbound queue's wake-up */
		pfd[0].fd = br_inbound_fd(b);
		pfd[0].events = POLLIN;
		pfd[1].fd = -1;
		pfd[1].events = 0;
		return 2;
	}
	rd = atomic_load(&ev->want_read);
	wr = atomic_load(&ev->want_write);
	pfd[0].fd = ev->wake;
	pfd[0].events = POLLIN;
	/*
	 * A socket nobody polls may be closed by cnats and its number
	 * reused by another file: poll it only while cnats wants events.
	 */
	pfd[1].fd = rd || wr ? atomic_load(&ev->fd) : -1;
	pfd[1].events = (rd ? POLLIN : 0) | (wr ? POLLOUT : 0);
	return 2;
}

void br_evloop_ready(struct bridge *b, const struct pollfd *pfd)
{
	struct br_evloop *ev = b->evloop;
	natsConnection *nc;
	uint64_t v;

	if (!ev)
		return;	/* TLS: the queue's reader reads its eventfd */
	nc = atomic_load(&ev->nc);
	if ((pfd[0].revents & POLLIN) && read(ev->wake, &v, sizeof(v)) < 0) {
		/* EAGAIN: another wake-up took it */
	}
	if (!nc || pfd[1].fd < 0)
		return;
	/* cnats finds out about an error or hang-up by reading. */
	if (pfd[1].revents & (POLLIN | POLLERR | POLLHUP))
		natsConnection_ProcessReadEvent(nc);
	if ((pfd[1].revents & POLLOUT) && atomic_load(&ev->want_write))
		natsConnection_ProcessWriteEvent(nc);
}

void br_evloop_write(struct bridge *b)
{
	struct br_evloop *ev = b->evloop;
	natsConnection *nc = ev ? atomic_load(&ev->nc) : NULL;

	/* Usually writable: save the poll that would say so. */
	if (nc && atomic_load(&ev->want_write))
		natsConnection_ProcessWriteEvent(nc);
}

bool br_evloop_backlog(const struct bridge *b)
{
	return b->nc && natsConnection_Buffered(b->nc) > BR_OUT_BYTES;
}

void br_evloop_flush(struct bridge *b, int ms)
{
	struct br_evloop *ev = b->evloop;
	int64_t end = br_now_ms() + ms, left;
	struct pollfd pfd;

	if (!ev) {		/* TLS: cnats' flusher writes; wait for it */
		if (b->nc)
			natsConnection_FlushTimeout(b->nc, ms);
		return;
	}
	while (b->nc && natsConnection_Buffered(b->nc) > 0 &&
	       atomic_load(&ev->want_write) &&
	       (left = end - br_now_ms()) > 0) {
		pfd.fd = atomic_load(&ev->fd);
		pfd.events = POLLOUT;
		if (pfd.fd < 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		natsConnection_ProcessWriteEvent(b->nc);
	}
}

void br_evloop_free(struct bridge *b)
{
	if (!b->evloop)
		return;
	close(b->evloop->wake);
	free(b->evloop);
	b->evloop = NULL;
}
