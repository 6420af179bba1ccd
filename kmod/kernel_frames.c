// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/cred.h>
#include <linux/errno.h>
#include <linux/pid_namespace.h>
#include <linux/uidgid.h>
#include <linux/promisegrid.h>
#include "cbor_enc.h"
#include "endpoint.h"
#include "frame.h"
#include "kernel_frames.h"
#include "pcid.h"
#include "trace.h"

/*
 * "from" is the sending endpoint's opener, whoever writes on its file:
 * its credentials at open (file->f_cred) and its process, seen from the
 * receiver's namespaces (pid 0 when not visible there or exited, overflow
 * ids when unmapped), and the host a gateway named (pg-kernel-delivery-v3:
 * null for a frame of this host). The header always fits
 * PG_ATTEST_HDR_MAX bytes.
 */
size_t pg_attest_header(u8 *out, size_t cap, struct pg_endpoint *rx,
			struct pg_endpoint *tx, const struct pg_host *host)
{
	struct pg_enc e;

	pg_enc_init(&e, out, cap);
	pg_enc_grid(&e, pg_pcid_delivery, sizeof(pg_pcid_delivery), 3);
	pg_enc_array(&e, 5);
	pg_enc_uint(&e, tx->id);
	pg_enc_uint(&e, pg_ep_opener_pid(tx, rx->pid_ns));
	pg_enc_uint(&e, from_kuid_munged(rx->user_ns, tx->cred->euid));
	pg_enc_uint(&e, from_kgid_munged(rx->user_ns, tx->cred->egid));
	if (host)
		pg_enc_text_n(&e, host->name, host->len);
	else
		pg_enc_null(&e);
	return e.overflow ? 0 : e.len;
}

void pg_reply_begin(struct pg_enc *e, u8 *out, size_t cap, bool has_id,
		    u64 id, const char *outcome)
{
	pg_enc_init(e, out, cap);
	pg_enc_grid(e, pg_pcid_control, sizeof(pg_pcid_control), 5);
	if (has_id)
		pg_enc_uint(e, id);
	else
		pg_enc_null(e);
	pg_enc_text(e, outcome);
}

void pg_enc_parent(struct pg_enc *e, const u8 *frame, size_t len)
{
	u8 cid[PG_FRAME_CID_LEN];

	pg_frame_cid(frame, len, cid);
	pg_enc_pcid(e, cid, sizeof(cid));
}

size_t pg_drop_notice(u8 *out, size_t cap, u64 dropped)
{
	struct pg_enc e;

	pg_enc_init(&e, out, cap);
	pg_enc_grid(&e, pg_pcid_control, sizeof(pg_pcid_control), 4);
	pg_enc_null(&e);
	/* The receive promised these frames; the queue could not keep them. */
	pg_enc_text(&e, PG_OUTCOME_BROKEN);
	pg_enc_map(&e, 3);
	pg_enc_kv_uint(&e, "errno", ENOBUFS);
	pg_enc_text(&e, "reason");
	pg_enc_text(&e, "receive queue full");
	pg_enc_kv_uint(&e, "dropped", dropped);
	return e.overflow ? 0 : e.len;
}

/*
 * Endpoint @closed closed with @frame unread: the notice for its sender.
 * 0 if @frame is not a grid frame (it passed at its write; the limits
 * may have been lowered since, so it is parsed with the widest).
 */
size_t pg_unread_notice(u8 *out, size_t cap, u64 closed, const u8 *frame,
			u32 len)
{
	static const struct pg_cbor_limits any = {
		.max_depth = PG_CBOR_DEPTH_MAX,
		.max_size = SIZE_MAX,
	};
	struct pg_envelope env;
	struct pg_enc e;

	if (pg_env_parse(frame, len, &any, &env))
		return 0;
	pg_reply_begin(&e, out, cap, false, 0, PG_OUTCOME_BROKEN);
	/* Keys in bytewise order of their encodings (grid-cbor). */
	pg_enc_map(&e, 4);
	pg_enc_kv_uint(&e, "to", closed);
	pg_enc_text(&e, "pcid");
	pg_enc_pcid(&e, frame + env.cid_off, env.cid_len);
	pg_enc_kv_uint(&e, "errno", EPIPE);
	pg_enc_text(&e, "reason");
	pg_enc_text(&e, "the receiver closed with the frame unread");
	pg_enc_parent(&e, frame, len);
	return e.overflow ? 0 : e.len;
}

size_t pg_route_notice(u8 *out, size_t cap, const u8 *cid, u32 cid_len,
		       const char *group, u32 group_len, bool up)
{
	struct pg_enc e;

	pg_enc_init(&e, out, cap);
	pg_enc_grid(&e, pg_pcid_control, sizeof(pg_pcid_control), 4);
	pg_enc_null(&e);
	pg_enc_text(&e, PG_NOTICE_ROUTE);
	/* Keys in bytewise order of their encodings (grid-cbor). */
	pg_enc_map(&e, group ? 3 : 2);
	pg_enc_text(&e, "up");
	pg_enc_bool(&e, up);
	pg_enc_text(&e, "pcid");
	pg_enc_pcid(&e, cid, cid_len);
	if (group) {
		pg_enc_text(&e, "group");
		pg_enc_text_n(&e, group, group_len);
	}
	return e.overflow ? 0 : e.len;
}

u64 pg_kernel_trace_tag(void)
{
	if (!trace_pg_deliver_enabled() && !trace_pg_drop_enabled())
		return 0;
	return pg_cid_hash(pg_pcid_control, sizeof(pg_pcid_control));
}
