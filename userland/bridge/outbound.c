// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Frames leaving for other hosts. A run of frames of one local sender on
 * one route, read together from the kernel, leaves as one NATS message
 * whose payload is their CBOR sequence (pg-grid-nats-v1, "Subjects"), so
 * NATS's cost per message is paid per run, not per frame. A run ends at
 * another sender or route, at BR_PACK_FRAMES or BR_PACK_BYTES, and when
 * the bridge has read all the kernel had for it (br_pack_flush()): a
 * lone frame leaves at once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bridge.h"

static struct {
	struct br_route *r;
	uint64_t from;			/* the sender's endpoint id */
	size_t len;
	unsigned int n;
	uint8_t buf[BR_PACK_BYTES];
} pack;

/* n frames of one sender, data its CBOR sequence, to r's subject. */
static void publish(struct bridge *b, struct br_route *r, uint64_t from,
		    const void *data, size_t len, unsigned int n)
{
	char reply[BR_SUBJECT_MAX];

	snprintf(reply, sizeof(reply), "%s.to.%s.%" PRIu64, b->prefix,
		 b->host, from);
	if (natsConnection_PublishRequest(b->nc, r->subject, reply, data,
					  (int)len) != NATS_OK) {
		b->st.publish_failed += n;
		return;
	}
	r->out += n;
	b->st.published += n;
	b->st.published_messages++;
}

void br_pack_flush(struct bridge *b)
{
	if (pack.n)
		publish(b, pack.r, pack.from, pack.buf, pack.len, pack.n);
	pack.n = 0;
	pack.len = 0;
}

void br_pack_add(struct bridge *b, struct br_route *r, uint64_t from,
		 const void *frame, size_t len)
{
	if (pack.n && (pack.r != r || pack.from != from ||
		       pack.n == BR_PACK_FRAMES ||
		       pack.len + len > sizeof(pack.buf)))
		br_pack_flush(b);
	if (len > sizeof(pack.buf)) {	/* a large frame leaves alone */
		publish(b, r, from, frame, len, 1);
		return;
	}
	memcpy(pack.buf + pack.len, frame, len);
	pack.len += len;
	pack.n++;
	pack.r = r;
	pack.from = from;
}
