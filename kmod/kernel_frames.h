/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * The frames the kernel writes itself, in one place: the delivery
 * envelope's header (pg-kernel-delivery-v3), the control protocol's reply
 * prelude and parent link, the drop notice and the unread notice
 * (pg-kernel-control-v4). control.c fills in replies; endpoint.c queues
 * notices; neither encodes these shapes on its own.
 */
#ifndef PG_KERNEL_FRAMES_H
#define PG_KERNEL_FRAMES_H

#include <linux/types.h>

struct pg_enc;
struct pg_endpoint;
struct pg_host;

/* grid tag, array, tag 42, bstr head, 0x00, pCID, [4 x u64] */
/* The drop notice: fixed text and one u64. */
#define PG_NOTICE_MAX		128
/* The unread notice: a 96-byte pCID and a 20-digit endpoint id at most. */
#define PG_UNREAD_NOTICE_MAX	320

size_t pg_attest_header(u8 *out, size_t cap, struct pg_endpoint *rx,
			struct pg_endpoint *tx, const struct pg_host *host);

/* grid([42(control), id or null, outcome, ... (details, parent follow) */
void pg_reply_begin(struct pg_enc *e, u8 *out, size_t cap, bool has_id,
		    u64 id, const char *outcome);
/* 42(h'00' || the CID of @frame): the frame a kernel message answers. */
void pg_enc_parent(struct pg_enc *e, const u8 *frame, size_t len);

size_t pg_drop_notice(u8 *out, size_t cap, u64 dropped);
size_t pg_unread_notice(u8 *out, size_t cap, u64 closed, const u8 *frame,
			u32 len);

/* The control pCID's hash for the delivery tracepoints, 0 when off. */
/* A watch notice: the pCID (and group) gained or lost its interest. */
#define PG_ROUTE_NOTICE_MAX	256
size_t pg_route_notice(u8 *out, size_t cap, const u8 *cid, u32 cid_len,
		       const char *group, u32 group_len, bool up);
u64 pg_kernel_trace_tag(void);

#endif /* PG_KERNEL_FRAMES_H */
