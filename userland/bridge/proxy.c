// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Proxy endpoints: each remote sender (its origin bridge's reply subject,
 * which names the host and the sender's endpoint there) is represented
 * here by a local endpoint of its own, which injects that sender's frames.
 * A local receiver that answers with `carry` carries to the proxy; the
 * bridge reads what the proxy got and publishes it to the reply subject,
 * and the origin bridge carries it on to the sender. At most
 * --max-proxies are open; the least recently used is closed first (a
 * late reply to it then fails with ESRCH at the replier). The loop waits
 * on one epoll fd for all of them: polling each of up to 1024 mostly idle
 * endpoints on every turn cost the bridge more than a frame's way did.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bridge.h"

struct br_proxy {
	struct pg *pg;
	uint64_t id;		/* its endpoint id */
	uint64_t used;		/* b->tick when last used */
	char reply[BR_SUBJECT_MAX];	/* "" for a sender that gave none */
};

/*
 * The host a sender is on: HOST of its reply subject PREFIX.to.HOST.E
 * (what its bridge said; the kernel attests who said it).
 */
static const char *origin_host(const struct bridge *b, const char *reply,
			       char *host)
{
	size_t n = strlen(b->prefix);
	const char *s, *dot;

	if (strncmp(reply, b->prefix, n) || strncmp(reply + n, ".to.", 4))
		return "unknown";
	s = reply + n + 4;
	dot = strchr(s, '.');
	if (!dot || dot == s || dot - s > BR_HOST_MAX)
		return "unknown";
	memcpy(host, s, dot - s);
	host[dot - s] = '\0';
	return host;
}

/* Readiness of p's endpoint is reported by the epoll fd, keyed by its id. */
static int watch(struct bridge *b, struct br_proxy *p)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = p->id };

	if (b->proxy_epfd < 0) {
		b->proxy_epfd = epoll_create1(EPOLL_CLOEXEC);
		if (b->proxy_epfd < 0)
			return -errno;
	}
	if (epoll_ctl(b->proxy_epfd, EPOLL_CTL_ADD, pg_fd(p->pg), &ev))
		return -errno;
	return 0;
}

static void close_proxy(struct bridge *b, struct br_proxy *p)
{
	if (b->proxy_epfd >= 0)
		epoll_ctl(b->proxy_epfd, EPOLL_CTL_DEL, pg_fd(p->pg), NULL);
	pg_close(p->pg);
	p->pg = NULL;
}

static struct br_proxy *find_or_open(struct bridge *b, const char *reply)
{
	char host[BR_HOST_MAX + 1];
	struct br_proxy *p, *lru = NULL;
	struct pg_hello h;
	int i, err;

	if (!b->proxies) {
		b->proxies = calloc(b->max_proxies, sizeof(*b->proxies));
		if (!b->proxies)
			return NULL;
	}
	for (i = 0; i < b->nproxies; i++) {
		p = &b->proxies[i];
		if (!strcmp(p->reply, reply))
			goto found;
		if (!lru || p->used < lru->used)
			lru = p;
	}
	if (b->nproxies < b->max_proxies) {
		p = &b->proxies[b->nproxies];
	} else {
		p = lru;
		br_proxy_drain(b);	/* what it was carried goes out first */
		close_proxy(b, p);
		b->st.proxies_evicted++;
	}
	err = pg_open(&p->pg, O_NONBLOCK);
	if (!err)
		err = pg_hello(p->pg, &h);
	if (!err)
		err = br_gateway(b, p->pg, origin_host(b, reply, host));
	if (!err)
		err = br_redeem_all(b, p->pg);
	if (!err) {
		p->id = h.endpoint;
		err = watch(b, p);
	}
	if (err) {
		br_log(b, "cannot open a proxy endpoint: %s", strerror(-err));
		if (p->pg)
			pg_close(p->pg);
		p->pg = NULL;
		if (p != lru)
			return NULL;
		/* the evicted slot is empty now: move the last one into it */
		*p = b->proxies[--b->nproxies];
		return NULL;
	}
	if (p == &b->proxies[b->nproxies])
		b->nproxies++;
	snprintf(p->reply, sizeof(p->reply), "%s", reply);
	b->st.proxies_opened++;
	if (b->verbose)
		br_log(b, "proxy endpoint %llu for %s",
		       (unsigned long long)p->id, *reply ? reply : "(none)");
found:
	p->used = ++b->tick;
	return p;
}

int br_proxy_inject(struct bridge *b, struct br_route *r, const char *reply,
		    const uint8_t *frames, const size_t *ends, int n)
{
	struct br_proxy *p = find_or_open(b, reply ? reply : "");
	size_t off = 0;
	ssize_t w;
	int i = 0;

	if (!p) {
		r->inject_failed += n;
		b->st.inject_failed += n;
		return -ENOMEM;
	}
	/*
	 * One write for the run of frames (a CBOR sequence). The kernel
	 * takes whole frames; a short write either stopped at its size
	 * limit or kept the next frame's error for the next write, which
	 * then takes nothing: that frame is counted and skipped.
	 */
	while (i < n) {
		w = pg_send(p->pg, frames + off, ends[n - 1] - off);
		if (w > 0) {
			off += w;
			while (i < n && ends[i] <= off) {
				r->in++;
				b->st.injected++;
				i++;
			}
			continue;
		}
		r->inject_failed++;
		b->st.inject_failed++;
		if (b->verbose)
			br_log(b, "inject on %.16s...: %s", r->hex,
			       pg_reason(p->pg));
		off = ends[i++];
	}
	return 0;
}

int br_proxy_pollfds(struct bridge *b, struct pollfd *pfd)
{
	if (!b->nproxies || b->proxy_epfd < 0)
		return 0;
	pfd->fd = b->proxy_epfd;
	pfd->events = POLLIN;
	pfd->revents = 0;
	return 1;
}

/* A reply, with a header naming this host for the caller's kernel. */
static natsStatus publish_reply(struct bridge *b, const char *subject,
				const uint8_t *frame, size_t len)
{
	natsMsg *msg = NULL;
	natsStatus s;

	s = natsMsg_Create(&msg, subject, NULL, (const char *)frame, (int)len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(msg, BR_HOST_HEADER, b->host);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(b->nc, msg);
	natsMsg_Destroy(msg);
	return s;
}

static void drain_one(struct bridge *b, struct br_proxy *p)
{
	struct pg_msg m;
	natsStatus s;
	uint64_t v;
	int n, r;

	for (n = 0; n < BR_BATCH; n++) {
		r = pg_recv(p->pg, &m, 0);
		if (r < 0)
			return;
		if (pg_msg_is_control(&m)) {
			cbor_item_t *d = pg_msg_slot(&m, 3);

			if (d && !pg_map_uint(d, "dropped", &v))
				b->st.kernel_dropped += v;
			if (d)
				cbor_decref(&d);
			continue;
		}
		if (!*p->reply) {
			b->st.no_reply_to++;
			continue;
		}
		s = publish_reply(b, p->reply, m.frame, m.frame_len);
		if (s != NATS_OK)
			b->st.publish_failed++;
		else
			b->st.replies_out++;
	}
}

void br_proxy_drain_ready(struct bridge *b, const struct pollfd *pfd, int n)
{
	struct epoll_event ev[64];
	int i, j, k;

	if (n < 1 || !(pfd->revents & POLLIN))
		return;
	k = epoll_wait(b->proxy_epfd, ev, 64, 0);
	for (i = 0; i < k; i++)
		for (j = 0; j < b->nproxies; j++)
			if (b->proxies[j].id == ev[i].data.u64) {
				drain_one(b, &b->proxies[j]);
				break;
			}
}

void br_proxy_drain(struct bridge *b)
{
	int i;

	for (i = 0; i < b->nproxies; i++)
		drain_one(b, &b->proxies[i]);
}

void br_proxy_free(struct bridge *b)
{
	int i;

	for (i = 0; i < b->nproxies; i++)
		pg_close(b->proxies[i].pg);
	if (b->proxy_epfd >= 0)
		close(b->proxy_epfd);
	b->proxy_epfd = -1;
	free(b->proxies);
	b->proxies = NULL;
	b->nproxies = 0;
}
