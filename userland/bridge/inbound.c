// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Messages from NATS on a TLS connection, which cnats' own threads read
 * (evloop.c says why), queued for the thread that owns the kernel
 * endpoints. cnats calls the callbacks on its own threads; they only
 * append to a bounded queue and wake the main loop through an eventfd
 * when the queue was empty (the main loop reads the eventfd only when
 * it finds the queue empty, so a non-empty queue always has it set).
 * A message that finds the queue full is dropped and counted: NATS core
 * is at-most-once anyway, and a slow kernel side must not grow memory.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bridge.h"

struct br_in {
	struct br_in *next;
	natsMsg *msg;
	enum br_in_kind kind;
	struct br_route *route;
};

struct br_inbound {
	pthread_mutex_t lock;
	struct br_in *head, *tail;
	size_t frames, bytes;
	int efd;
};

int br_inbound_init(struct bridge *b)
{
	struct br_inbound *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		free(q);
		return -errno;
	}
	b->inbound = q;
	return 0;
}

int br_inbound_fd(const struct bridge *b)
{
	return b->inbound->efd;
}

static void push(struct bridge *b, natsMsg *msg, enum br_in_kind kind,
		 struct br_route *route)
{
	struct br_inbound *q = b->inbound;
	size_t len = (size_t)natsMsg_GetDataLength(msg);
	struct br_in *e = malloc(sizeof(*e));
	uint64_t one = 1;
	bool full, wake;

	pthread_mutex_lock(&q->lock);
	wake = !q->frames;	/* the reader sleeps only on an empty queue */
	full = !e || q->frames >= BR_INBOUND_FRAMES ||
	       q->bytes + len > BR_INBOUND_BYTES;
	if (full) {
		b->st.inbound_dropped++;	/* under q->lock, read racily */
	} else {
		e->next = NULL;
		e->msg = msg;
		e->kind = kind;
		e->route = route;
		if (q->tail)
			q->tail->next = e;
		else
			q->head = e;
		q->tail = e;
		q->frames++;
		q->bytes += len;
	}
	pthread_mutex_unlock(&q->lock);
	if (full) {
		free(e);
		natsMsg_Destroy(msg);
		return;
	}
	if (wake && write(q->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		abort();
}

void br_on_frame(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		 void *closure)
{
	struct br_route *r = closure;

	(void)nc;
	(void)sub;
	push(r->bridge, msg, BR_IN_FRAME, r);
}

void br_on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		 void *closure)
{
	(void)nc;
	(void)sub;
	push(closure, msg, BR_IN_REPLY, NULL);
}

void br_on_interest(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		    void *closure)
{
	(void)nc;
	(void)sub;
	push(closure, msg, BR_IN_INTEREST, NULL);
}

int br_inbound_take(struct bridge *b, natsMsg **msg, enum br_in_kind *kind,
		    struct br_route **route)
{
	struct br_inbound *q = b->inbound;
	struct br_in *e;
	uint64_t v;

	pthread_mutex_lock(&q->lock);
	e = q->head;
	if (e) {
		q->head = e->next;
		if (!q->head)
			q->tail = NULL;
		q->frames--;
		q->bytes -= (size_t)natsMsg_GetDataLength(e->msg);
	} else if (read(q->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing was signalled since the last read */
	}
	pthread_mutex_unlock(&q->lock);
	if (!e)
		return 0;
	*msg = e->msg;
	*kind = e->kind;
	*route = e->route;
	free(e);
	return 1;
}

void br_inbound_free(struct bridge *b)
{
	natsMsg *msg;
	enum br_in_kind kind;
	struct br_route *r;

	if (!b->inbound)
		return;
	while (br_inbound_take(b, &msg, &kind, &r) > 0)
		natsMsg_Destroy(msg);
	close(b->inbound->efd);
	pthread_mutex_destroy(&b->inbound->lock);
	free(b->inbound);
	b->inbound = NULL;
}
