// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * The kernel's control protocol (docs/protocols/pg-kernel-control-v4.md):
 * grid([42(control), id, verb, {args}]) answered on our own queue by
 * grid([42(control), id, outcome, {details}, 42(parent)]), parent the CID
 * of the request's exact bytes: replies are matched by it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pg_cbor.h"

PG_EXPORT cbor_item_t *pg_map_get(const cbor_item_t *map, const char *key)
{
	size_t n, i, klen = strlen(key);
	struct cbor_pair *pairs;

	if (!map || !cbor_isa_map(map))
		return NULL;
	n = cbor_map_size(map);
	pairs = cbor_map_handle(map);
	for (i = 0; i < n; i++) {
		cbor_item_t *k = pairs[i].key;

		if (cbor_isa_string(k) && cbor_string_is_definite(k) &&
		    cbor_string_length(k) == klen &&
		    !memcmp(cbor_string_handle(k), key, klen))
			return pairs[i].value;
	}
	return NULL;
}

PG_EXPORT int pg_map_uint(const cbor_item_t *map, const char *key, uint64_t *v)
{
	cbor_item_t *it = pg_map_get(map, key);

	if (!it)
		return -ENOENT;
	if (!cbor_isa_uint(it))
		return -EINVAL;
	*v = cbor_get_int(it);
	return 0;
}

bool pg_control_parent(const struct pg_msg *m, struct pg_cid *parent)
{
	cbor_item_t *link;
	bool ok;

	if (!pg_msg_is_control(m) || m->nslots != 4)
		return false;
	link = pg_msg_slot(m, 4);
	ok = pg_cid_from_link(link, parent);
	if (link)
		cbor_decref(&link);
	return ok;
}

/* The reply to the request whose CID is arg: a control frame naming it. */
static bool is_reply_to(const struct pg_msg *m, const void *arg)
{
	struct pg_cid parent;

	return pg_control_parent(m, &parent) && pg_cid_eq(&parent, arg);
}

/* Text of a libcbor string item, NUL-terminated into buf. */
static const char *text_of(const cbor_item_t *it, char *buf, size_t n)
{
	size_t len;

	if (!it || !cbor_isa_string(it) || !cbor_string_is_definite(it))
		return NULL;
	len = cbor_string_length(it);
	if (len >= n)
		len = n - 1;
	memcpy(buf, cbor_string_handle(it), len);
	buf[len] = '\0';
	return buf;
}

/*
 * The reply to the request whose CID is cid, sent with result w: 0 and
 * *details (if asked) when kept, else -errno with the kernel's reason.
 */
static int await_reply(struct pg *pg, const struct pg_cid *cid, ssize_t w,
		       cbor_item_t **details)
{
	struct pg_msg m;
	cbor_item_t *outcome = NULL, *det = NULL;
	char word[32], reason[sizeof(pg->reason)];
	uint64_t err;
	int r;

	/* These failures come before the module looked at the request. */
	if (w < 0 && (w == -EAGAIN || w == -EINTR || w == -EFAULT))
		return (int)w;
	r = pg_wait_for(pg, is_reply_to, cid, PG_REPLY_WAIT_MS, &m);
	if (r < 0)
		return w < 0 ? (int)w : pg_fail(pg, -r, "no reply from the kernel");
	outcome = pg_msg_slot(&m, 2);
	det = pg_msg_slot(&m, 3);
	r = 0;
	if (!text_of(outcome, word, sizeof(word)) || !det || !cbor_isa_map(det)) {
		r = pg_fail(pg, EPROTO, "the kernel's reply has the wrong shape");
	} else if (strcmp(word, PG_OUTCOME_KEPT)) {
		if (pg_map_uint(det, "errno", &err) || !err || err > 4095)
			err = w < 0 ? (uint64_t)-w : EPROTO;
		if (!text_of(pg_map_get(det, "reason"), reason, sizeof(reason)))
			snprintf(reason, sizeof(reason), "%s", strerror((int)err));
		r = pg_fail(pg, (int)err, reason);
	} else if (details) {
		*details = det;
		det = NULL;
	}
	if (outcome)
		cbor_decref(&outcome);
	if (det)
		cbor_decref(&det);
	return r;
}

PG_EXPORT int pg_request(struct pg *pg, const char *verb, cbor_item_t *args,
			 cbor_item_t **details)
{
	struct pg_buf b = { 0 };
	struct pg_cid cid;
	ssize_t w;
	int r;

	r = pg_frame_begin(&b, &pg_pcid_control, 3) ?:
	    pg_put_head(&b, 0, pg->next_id++) ?: pg_put_text(&b, verb) ?:
	    (args ? pg_cbor_encode(&b, args) : pg_put_head(&b, 5, 0));
	if (r) {
		pg_buf_free(&b);
		return pg_fail(pg, -r, "cannot encode the request");
	}
	pg_cid_of(b.p, b.len, &cid);
	w = pg_send(pg, b.p, b.len);
	pg_buf_free(&b);
	return await_reply(pg, &cid, w, details);
}

/* {"pcid": 42(h'00' cid), ...}: a libcbor map with room for n entries. */
static cbor_item_t *args_pcid(const struct pg_cid *pcid, size_t n)
{
	uint8_t slot[1 + PG_CID_MAX] = { 0 };
	cbor_item_t *map = cbor_new_definite_map(n);

	memcpy(slot + 1, pcid->b, pcid->len);
	if (map && !cbor_map_add(map, (struct cbor_pair){
			.key = cbor_move(cbor_build_string("pcid")),
			.value = cbor_move(cbor_build_tag(PG_CID_TAG,
				cbor_move(cbor_build_bytestring(slot, pcid->len + 1)))),
		})) {
		cbor_decref(&map);
	}
	return map;
}

static bool put(cbor_item_t *map, const char *key, cbor_item_t *value)
{
	return cbor_map_add(map, (struct cbor_pair){
		.key = cbor_move(cbor_build_string(key)),
		.value = cbor_move(value),
	});
}

/* Sends verb with args (consumed) and drops the details. */
static int request(struct pg *pg, const char *verb, cbor_item_t *args,
		   cbor_item_t **details)
{
	int r;

	if (!args)
		return pg_fail(pg, ENOMEM, NULL);
	r = pg_request(pg, verb, args, details);
	cbor_decref(&args);
	return r;
}

PG_EXPORT int pg_hello(struct pg *pg, struct pg_hello *h)
{
	cbor_item_t *d;
	int r = pg_request(pg, PG_VERB_HELLO, NULL, &d);

	if (r)
		return r;
	memset(h, 0, sizeof(*h));
	pg_map_uint(d, "version", &h->version);
	pg_map_uint(d, "endpoint", &h->endpoint);
	pg_map_uint(d, "max_depth", &h->max_depth);
	pg_map_uint(d, "max_frame", &h->max_frame);
	pg_map_uint(d, "queue_bytes", &h->queue_bytes);
	pg_map_uint(d, "queue_frames", &h->queue_frames);
	pg_map_uint(d, "inflight_bytes", &h->inflight_bytes);
	cbor_decref(&d);
	return 0;
}

PG_EXPORT int pg_receive(struct pg *pg, const struct pg_cid *pcid,
			 const char *group, bool attest)
{
	cbor_item_t *args = args_pcid(pcid, 3);

	if (args && group && !put(args, "group", cbor_build_string(group)))
		cbor_decref(&args);
	if (args && attest && !put(args, "attest", cbor_build_bool(true)))
		cbor_decref(&args);
	return request(pg, PG_VERB_RECEIVE, args, NULL);
}

PG_EXPORT int pg_unreceive(struct pg *pg, const struct pg_cid *pcid,
			   const char *group)
{
	cbor_item_t *args = args_pcid(pcid, 2);

	if (args && group && !put(args, "group", cbor_build_string(group)))
		cbor_decref(&args);
	return request(pg, PG_VERB_UNRECEIVE, args, NULL);
}

static cbor_item_t *build_uint(uint64_t v)
{
	return cbor_build_uint64(v);	/* pg_cbor_encode picks the width */
}

PG_EXPORT int pg_accept(struct pg *pg, const char *what, bool on)
{
	cbor_item_t *args = cbor_new_definite_map(1);

	if (args && !put(args, what, cbor_build_bool(on)))
		cbor_decref(&args);
	return request(pg, PG_VERB_ACCEPT, args, NULL);
}

/*
 * grid([42(control), id, "carry", {"to", "host"?, "frame"}]), encoded
 * here rather than through libcbor (a reply's path: every worker's, and a
 * bridge's for each remote one); keys in deterministic order, shorter
 * first, as pg_cbor_encode() would sort them.
 */
static int carry_encode(struct pg *pg, struct pg_buf *b, uint64_t id,
			uint64_t to, const void *frame, size_t len,
			const char *host)
{
	int r = pg_frame_begin(b, &pg_pcid_control, 3) ?:
		pg_put_head(b, 0, id) ?: pg_put_text(b, PG_VERB_CARRY) ?:
		pg_put_head(b, 5, host ? 3 : 2) ?:
		pg_put_text(b, "to") ?: pg_put_head(b, 0, to) ?:
		(host ? pg_put_text(b, "host") ?: pg_put_text(b, host) : 0) ?:
		pg_put_text(b, "frame") ?: pg_put_bytes(b, frame, len);

	if (r) {
		pg_buf_free(b);
		return pg_fail(pg, -r, "cannot encode the request");
	}
	return 0;
}

/*
 * A carry with id 0, which the kernel answers only when it fails (and
 * then the write fails too): the write's result in *w, and for a failed
 * one the request's CID in *cid (if asked), to find the answer by.
 * Returns 0, or -errno if the request could not be encoded.
 */
static int carry_write(struct pg *pg, uint64_t to, const void *frame,
		       size_t len, const char *host, struct pg_cid *cid,
		       ssize_t *w)
{
	struct pg_buf b = { 0 };
	int r = carry_encode(pg, &b, 0, to, frame, len, host);

	if (r)
		return r;
	*w = pg_send(pg, b.p, b.len);
	if (*w < 0 && cid)
		pg_cid_of(b.p, b.len, cid);
	pg_buf_free(&b);
	return 0;
}

PG_EXPORT int pg_carry(struct pg *pg, uint64_t to, const void *frame,
		       size_t len)
{
	struct pg_cid cid;
	ssize_t w;

	/*
	 * A kept carry (every worker's reply) costs no answer to hash,
	 * queue, read and parse; a failed one waits for its answer, for the
	 * kernel's reason, as any request would.
	 */
	return carry_write(pg, to, frame, len, NULL, &cid, &w) ?:
	       (w >= 0 ? 0 : await_reply(pg, &cid, w, NULL));
}

PG_EXPORT int pg_carry_send(struct pg *pg, uint64_t to, const void *frame,
			    size_t len, const char *host)
{
	ssize_t w;

	return carry_write(pg, to, frame, len, host, NULL, &w) ?:
	       (w < 0 ? (int)w : 0);
}

PG_EXPORT bool pg_msg_failed_request(const struct pg_msg *m, int *err)
{
	cbor_item_t *id, *det;
	uint64_t e = 0;
	bool failed;

	if (!pg_msg_is_control(m))
		return false;
	id = pg_msg_slot(m, 1);
	failed = id && cbor_isa_uint(id) && !cbor_get_int(id);
	if (id)
		cbor_decref(&id);
	if (!failed)
		return false;
	det = pg_msg_slot(m, 3);
	if (!det || pg_map_uint(det, "errno", &e) || !e || e > 4095)
		e = EPROTO;
	if (det)
		cbor_decref(&det);
	if (err)
		*err = (int)e;
	return true;
}

PG_EXPORT int pg_stats(struct pg *pg, cbor_item_t **module,
		       cbor_item_t **endpoint)
{
	cbor_item_t *d, *mod, *ep;
	int r = pg_request(pg, PG_VERB_STATS, NULL, &d);

	if (r)
		return r;
	mod = pg_map_get(d, "module");
	ep = pg_map_get(d, "endpoint");
	if (!mod || !ep) {
		cbor_decref(&d);
		return pg_fail(pg, EPROTO, "stats reply without counters");
	}
	*module = cbor_incref(mod);
	*endpoint = cbor_incref(ep);
	cbor_decref(&d);
	return 0;
}

PG_EXPORT int pg_claim(struct pg *pg, const struct pg_cid *pcid,
		       uint32_t *rights)
{
	cbor_item_t *d;
	uint64_t v = 0;
	int r = request(pg, PG_VERB_CLAIM, args_pcid(pcid, 1), &d);

	if (r)
		return r;
	pg_map_uint(d, "rights", &v);
	if (rights)
		*rights = (uint32_t)v;
	cbor_decref(&d);
	return 0;
}

/* The 32 bytes under "token"; false if missing or of another size. */
static bool token_of(const cbor_item_t *d, uint8_t token[PG_TOKEN_LEN])
{
	cbor_item_t *t = pg_map_get(d, "token");

	if (!t || !cbor_isa_bytestring(t) || !cbor_bytestring_is_definite(t) ||
	    cbor_bytestring_length(t) != PG_TOKEN_LEN)
		return false;
	memcpy(token, cbor_bytestring_handle(t), PG_TOKEN_LEN);
	return true;
}

PG_EXPORT int pg_grant(struct pg *pg, const struct pg_cid *pcid,
		       uint32_t rights, uint64_t ttl_ms,
		       uint8_t token[PG_TOKEN_LEN], uint32_t *granted)
{
	cbor_item_t *args = args_pcid(pcid, 3), *d;
	uint64_t v = 0;
	int r;

	if (args && rights && !put(args, "rights", build_uint(rights)))
		cbor_decref(&args);
	if (args && ttl_ms && !put(args, "ttl_ms", build_uint(ttl_ms)))
		cbor_decref(&args);
	r = request(pg, PG_VERB_GRANT, args, &d);
	if (r)
		return r;
	if (!token_of(d, token)) {
		cbor_decref(&d);
		return pg_fail(pg, EPROTO, "grant reply without a token");
	}
	pg_map_uint(d, "rights", &v);
	if (granted)
		*granted = (uint32_t)v;
	cbor_decref(&d);
	return 0;
}

static cbor_item_t *args_token(const uint8_t token[PG_TOKEN_LEN])
{
	cbor_item_t *args = cbor_new_definite_map(1);

	if (args && !put(args, "token", cbor_build_bytestring(token, PG_TOKEN_LEN)))
		cbor_decref(&args);
	return args;
}

PG_EXPORT int pg_redeem(struct pg *pg, const uint8_t token[PG_TOKEN_LEN],
			struct pg_cid *pcid, uint32_t *rights)
{
	cbor_item_t *d, *p;
	uint64_t v = 0;
	int r = request(pg, PG_VERB_REDEEM, args_token(token), &d);

	if (r)
		return r;
	pg_map_uint(d, "rights", &v);
	if (rights)
		*rights = (uint32_t)v;
	p = pg_map_get(d, "pcid");
	if (pcid && p && cbor_isa_tag(p) && !pg_cid_from_link(p, pcid))
		r = pg_fail(pg, EPROTO, "redeem reply with a bad pcid");
	cbor_decref(&d);
	return r;
}

PG_EXPORT int pg_revoke(struct pg *pg, const uint8_t token[PG_TOKEN_LEN],
			uint64_t *tokens, uint64_t *holders)
{
	cbor_item_t *d;
	uint64_t t = 0, h = 0;
	int r = request(pg, PG_VERB_REVOKE, args_token(token), &d);

	if (r)
		return r;
	pg_map_uint(d, "tokens", &t);
	pg_map_uint(d, "holders", &h);
	if (tokens)
		*tokens = t;
	if (holders)
		*holders = h;
	cbor_decref(&d);
	return 0;
}
