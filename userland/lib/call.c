// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Functions as a service (docs/protocols/pg-function-call-v1.md). A call
 * grid([42(fn), nonce, body]) goes to one member of each worker group on
 * fn; the worker, which received it with the kernel's attestation, carries
 * grid([42(reply), 42(parent), outcome, result]) back to the caller's
 * endpoint. parent is the CID of the call's exact bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pg_cbor.h"

PG_EXPORT void pg_result_free(struct pg_result *r)
{
	free(r->data);
	free(r->reason);
	free(r->err_out);
	memset(r, 0, sizeof(*r));
}

PG_EXPORT int pg_call_frame(struct pg_buf *out, const struct pg_cid *fn,
			    uint64_t nonce, const void *body, size_t len,
			    struct pg_cid *parent)
{
	size_t start = out->len;
	int r = pg_frame_begin(out, fn, 2) ?: pg_put_head(out, 0, nonce) ?:
		pg_put_bytes(out, body, len);

	if (r) {
		out->len = start;
		return r;
	}
	if (parent)
		pg_cid_of(out->p + start, out->len - start, parent);
	return 0;
}

PG_EXPORT int pg_call_send(struct pg *pg, const struct pg_cid *fn,
			   const void *body, size_t len, struct pg_cid *parent)
{
	struct pg_buf b = { 0 };
	ssize_t r;

	/*
	 * A worker that dies with the call unread: the kernel says so, and
	 * pg_call_wait() ends at once. Best effort: without it, the timeout.
	 */
	if (!pg->unread_asked)
		pg->unread_asked = !pg_accept(pg, "unread", true);
	r = pg_call_frame(&b, fn, pg->next_nonce++, body, len, parent);

	if (!r)
		r = pg_send(pg, b.p, b.len);
	pg_buf_free(&b);
	if (r == -EHOSTUNREACH)
		return pg_fail(pg, EHOSTUNREACH, "no worker serves this function");
	return r < 0 ? (int)r : 0;
}

static void *dup_bytes(const cbor_item_t *it, size_t *len)
{
	void *p;

	*len = cbor_bytestring_length(it);
	p = malloc(*len ? *len : 1);
	if (p)
		memcpy(p, cbor_bytestring_handle(it), *len);
	return p;
}

static bool is_bytes(const cbor_item_t *it)
{
	return it && cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it);
}

/* outcome and result of a reply into r; false if they have the wrong shape. */
static bool fill_result(const cbor_item_t *outcome, const cbor_item_t *res,
			struct pg_result *r)
{
	const char *w = (const char *)cbor_string_handle(outcome);
	size_t wl = cbor_string_length(outcome), n;
	cbor_item_t *it;
	uint64_t v;

	memset(r, 0, sizeof(*r));
	r->status = r->signal = -1;
	if (wl == 4 && !memcmp(w, PG_OUTCOME_KEPT, 4)) {
		r->outcome = PG_KEPT;
		if (!is_bytes(res))
			return false;
		r->data = dup_bytes(res, &r->len);
		return r->data;
	}
	if (wl == 12 && !memcmp(w, PG_OUTCOME_NOT_PROMISED, 12))
		r->outcome = PG_NOT_PROMISED;
	else if (wl == 9 && !memcmp(w, PG_OUTCOME_MALFORMED, 9))
		r->outcome = PG_MALFORMED;
	else
		return false;
	if (!res || !cbor_isa_map(res) || pg_map_uint(res, "errno", &v))
		return false;
	r->err = v > 4095 ? EPROTO : (int)v;
	if (!pg_map_uint(res, "status", &v))
		r->status = v > 255 ? 255 : (int)v;
	if (!pg_map_uint(res, "signal", &v))
		r->signal = v > 255 ? 255 : (int)v;
	it = pg_map_get(res, "reason");
	if (it && cbor_isa_string(it) && cbor_string_is_definite(it)) {
		n = cbor_string_length(it);
		r->reason = malloc(n + 1);
		if (r->reason) {
			memcpy(r->reason, cbor_string_handle(it), n);
			r->reason[n] = '\0';
		}
	}
	it = pg_map_get(res, "stderr");
	if (is_bytes(it))
		r->err_out = dup_bytes(it, &r->err_len);
	return true;
}

/*
 * Heads read in place, without libcbor: a caller matches every delivery
 * against its calls, and most replies are kept with bytes. pg_msg_parse()
 * checked the frame whole (well-formed, deterministic), so only the shape
 * is checked here.
 */

/* The link 42(h'00' || CID) at off into c; *next is the offset after it. */
static bool link_at(const struct pg_msg *m, size_t off, struct pg_cid *c,
		    size_t *next)
{
	const uint8_t *p = m->frame;
	size_t n = m->frame_len, hlen;
	uint8_t major;
	uint64_t v;
	bool indef;

	if (off > n ||
	    pg_cbor_read_head(p + off, n - off, &major, &v, &indef, &hlen) ||
	    major != 6 || v != PG_CID_TAG)
		return false;
	off += hlen;
	if (pg_cbor_read_head(p + off, n - off, &major, &v, &indef, &hlen) ||
	    major != 2 || indef || v > n - off - hlen ||
	    !pg_cid_from_slot(p + off + hlen, v, c))
		return false;
	*next = off + hlen + v;
	return true;
}

/* "kept" and a byte string from off to the end, into r: the common reply. */
static bool kept_bytes(const struct pg_msg *m, size_t off, struct pg_result *r)
{
	const uint8_t *p = m->frame;
	size_t n = m->frame_len, hlen;
	uint8_t major;
	uint64_t v;
	bool indef;

	if (pg_cbor_read_head(p + off, n - off, &major, &v, &indef, &hlen) ||
	    major != 3 || indef || v != 4 || n - off - hlen < 4 ||
	    memcmp(p + off + hlen, PG_OUTCOME_KEPT, 4))
		return false;
	off += hlen + 4;
	if (pg_cbor_read_head(p + off, n - off, &major, &v, &indef, &hlen) ||
	    major != 2 || indef || v != n - off - hlen)
		return false;
	memset(r, 0, sizeof(*r));
	r->status = r->signal = -1;
	r->outcome = PG_KEPT;
	r->data = malloc(v ? v : 1);
	if (!r->data)
		return false;
	memcpy(r->data, p + off + hlen, v);
	r->len = v;
	return true;
}

PG_EXPORT int pg_reply_parse(const struct pg_msg *m, struct pg_cid *parent,
			     struct pg_result *r)
{
	cbor_item_t *outcome = NULL, *res = NULL;
	size_t off;

	if (!pg_cid_eq(&m->pcid, &pg_pcid_fn_reply) || m->nslots != 3 ||
	    !link_at(m, m->slots_off, parent, &off))
		return 0;
	if (!r || kept_bytes(m, off, r))
		return 1;
	outcome = pg_msg_slot(m, 2);
	res = pg_msg_slot(m, 3);
	if (!outcome || !cbor_isa_string(outcome) ||
	    !cbor_string_is_definite(outcome) || !fill_result(outcome, res, r)) {
		pg_result_free(r);
		r->outcome = PG_MALFORMED;
		r->err = EPROTO;
		r->reason = strdup("the reply has the wrong shape");
	}
	if (outcome)
		cbor_decref(&outcome);
	if (res)
		cbor_decref(&res);
	return 1;
}

/* The worker's reply to the call, or the kernel's notice that it died. */
static bool is_reply_for(const struct pg_msg *m, const void *arg)
{
	struct pg_cid parent;

	return (pg_reply_parse(m, &parent, NULL) ||
		pg_control_parent(m, &parent)) && pg_cid_eq(&parent, arg);
}

PG_EXPORT int pg_call_wait_msg(struct pg *pg, const struct pg_cid *parent,
			       int timeout_ms, struct pg_msg *m)
{
	int err = pg_wait_for(pg, is_reply_for, parent, timeout_ms, m);

	if (err == -ETIMEDOUT)
		return pg_fail(pg, ETIMEDOUT, "no reply in time");
	if (err < 0)
		return err;
	if (pg_msg_is_control(m))	/* an unread notice */
		return pg_fail(pg, EPIPE, "the worker closed with the call unread");
	return 0;
}

PG_EXPORT int pg_call_wait(struct pg *pg, const struct pg_cid *parent,
			   int timeout_ms, struct pg_result *r)
{
	struct pg_cid got;
	struct pg_msg m;
	int err = pg_call_wait_msg(pg, parent, timeout_ms, &m);

	if (!err)
		pg_reply_parse(&m, &got, r);
	return err;
}

PG_EXPORT int pg_call(struct pg *pg, const struct pg_cid *fn, const void *body,
		      size_t len, int timeout_ms, struct pg_result *r)
{
	struct pg_cid parent;
	int err = pg_call_send(pg, fn, body, len, &parent);

	return err ?: pg_call_wait(pg, &parent, timeout_ms, r);
}

PG_EXPORT int pg_serve_join(struct pg *pg, const struct pg_cid *fn,
			    const char *group)
{
	return pg_receive(pg, fn, group, true);
}

PG_EXPORT int pg_call_parse(const struct pg_msg *m, struct pg_call *c)
{
	const uint8_t *p = m->frame;
	size_t off = m->slots_off, hlen;
	uint8_t major;
	uint64_t v;
	bool indef;

	if (!m->attested)
		return -EPROTO;
	memset(c, 0, sizeof(*c));
	c->caller = m->from.endpoint;
	c->from = m->from;
	c->frame = m->frame;
	c->frame_len = m->frame_len;
	pg_cid_of(m->frame, m->frame_len, &c->parent);
	if (m->nslots != 2 ||
	    pg_cbor_read_head(p + off, m->frame_len - off, &major, &v, &indef, &hlen) ||
	    major != 0)
		return -EBADMSG;
	c->nonce = v;
	off += hlen;
	if (pg_cbor_read_head(p + off, m->frame_len - off, &major, &v, &indef, &hlen) ||
	    major != 2 || indef || off + hlen + v != m->frame_len)
		return -EBADMSG;
	c->body = p + off + hlen;
	c->len = v;
	return 0;
}

static const char *outcome_word(enum pg_outcome o)
{
	return o == PG_KEPT ? PG_OUTCOME_KEPT :
	       o == PG_MALFORMED ? PG_OUTCOME_MALFORMED : PG_OUTCOME_NOT_PROMISED;
}

PG_EXPORT int pg_reply_frame(struct pg_buf *out, const struct pg_cid *parent,
			     const struct pg_result *r)
{
	size_t start = out->len;
	const char *reason = r->reason ? r->reason : strerror(r->err);
	int n, e;

	e = pg_frame_begin(out, &pg_pcid_fn_reply, 3) ?: pg_put_cid(out, parent) ?:
	    pg_put_text(out, outcome_word(r->outcome));
	if (!e && r->outcome == PG_KEPT) {
		e = pg_put_bytes(out, r->data, r->len);
	} else if (!e) {
		/* Keys in grid-cbor order: errno, reason, signal, status, stderr. */
		n = 2 + (r->signal >= 0) + (r->status >= 0) + (r->err_out != NULL);
		e = pg_put_head(out, 5, n) ?: pg_put_text(out, "errno") ?:
		    pg_put_head(out, 0, r->err) ?: pg_put_text(out, "reason") ?:
		    pg_put_text(out, reason);
		if (!e && r->signal >= 0)
			e = pg_put_text(out, "signal") ?: pg_put_head(out, 0, r->signal);
		if (!e && r->status >= 0)
			e = pg_put_text(out, "status") ?: pg_put_head(out, 0, r->status);
		if (!e && r->err_out)
			e = pg_put_text(out, "stderr") ?:
			    pg_put_bytes(out, r->err_out, r->err_len);
	}
	if (e)
		out->len = start;
	return e;
}

PG_EXPORT int pg_serve_reply(struct pg *pg, const struct pg_call *c,
			     const struct pg_result *r)
{
	struct pg_buf b = { 0 };
	int err = pg_reply_frame(&b, &c->parent, r);

	if (!err)
		err = pg_carry(pg, c->caller, b.p, b.len);
	pg_buf_free(&b);
	if (err == -EMSGSIZE && r->outcome == PG_KEPT) {
		/* The output does not fit in a frame: say so instead. */
		struct pg_result too_big = {
			.outcome = PG_NOT_PROMISED, .err = EMSGSIZE,
			.reason = "the output does not fit in one frame",
			.status = -1, .signal = -1,
		};

		return pg_serve_reply(pg, c, &too_big);
	}
	return err;
}
