// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Requests are grid([42(control pCID), id, verb, {args}]) and already
 * passed the frame checks (well-formed, deterministic), so reading them
 * needs no bounds beyond the frame. Every request gets one reply on the
 * requester's own queue, except a successful one with id 0:
 * grid([42(control pCID), id, outcome, {details}, 42(parent)]), parent
 * the CID of the request's exact bytes (pg-kernel-control-v4).
 */
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/promisegrid.h>
#include "authorize.h"
#include "buf.h"
#include "caps.h"
#include "cbor_enc.h"
#include "control.h"
#include "endpoint.h"
#include "frame.h"
#include "kernel_frames.h"
#include "params.h"
#include "pcid.h"
#include "route.h"
#include "stats.h"
#include "trace.h"
#include "version.h"

enum pg_arg {
	PG_ARG_PCID,
	PG_ARG_GROUP,
	PG_ARG_ATTEST,
	PG_ARG_TO,
	PG_ARG_FRAME,
	PG_ARG_RIGHTS,
	PG_ARG_TTL,
	PG_ARG_TOKEN,
	PG_ARG_CARRY,
	PG_ARG_UNREAD,
	PG_ARG_HOST,
	PG_ARG_NR,
};

#define PG_A(a)		BIT(PG_ARG_##a)

static const char * const pg_arg_names[PG_ARG_NR] = {
	[PG_ARG_PCID] = "pcid",
	[PG_ARG_GROUP] = "group",
	[PG_ARG_ATTEST] = "attest",
	[PG_ARG_TO] = "to",
	[PG_ARG_FRAME] = "frame",
	[PG_ARG_RIGHTS] = "rights",
	[PG_ARG_TTL] = "ttl_ms",
	[PG_ARG_TOKEN] = "token",
	[PG_ARG_CARRY] = "carry",
	[PG_ARG_UNREAD] = "unread",
	[PG_ARG_HOST] = "host",
};

struct pg_args {
	unsigned long present;		/* PG_A() bits */
	const u8 *cid;
	u32 cid_len;
	const char *group;
	u32 group_len;
	bool attest;
	u64 to;
	u32 frame_off;			/* the carried frame, in the buffer */
	u32 frame_len;
	u32 rights;
	u64 ttl_ms;
	const u8 *token;
	u32 token_len;
	bool carry;
	bool unread;
	const char *host;
	u32 host_len;
};

/* A CBOR reader over one validated frame. */
struct pg_rd {
	const u8 *p;
	size_t len;
	size_t pos;
};

struct pg_ctl {
	struct pg_endpoint *ep;
	struct pg_buf *buf;		/* the request's bytes */
	u32 off;			/* where the request starts in buf */
	u64 id;
	bool has_id;
	struct pg_args args;
	struct pg_enc *out;		/* a kept reply's details go here */
	const char *reason;		/* why it failed, in words */
};

static int pg_fail(struct pg_ctl *c, int err, const char *reason)
{
	c->reason = reason;
	return err;
}

static int pg_rd_head(struct pg_rd *r, u8 *major, u64 *arg)
{
	size_t hlen;
	bool indef;

	if (pg_cbor_read_head(r->p + r->pos, r->len - r->pos, major, arg,
			      &indef, &hlen))
		return -EINVAL;
	r->pos += hlen;
	return 0;
}

static int pg_rd_skip(struct pg_rd *r)
{
	static const struct pg_cbor_limits any = {
		.max_depth = PG_CBOR_DEPTH_MAX,
		.max_size = SIZE_MAX,
	};
	size_t n;

	if (pg_cbor_item_len(r->p + r->pos, r->len - r->pos, &any, 0, &n))
		return -EINVAL;
	r->pos += n;
	return 0;
}

/* A string of @want major type (2 bytes, 3 text); its bytes in place. */
static int pg_rd_string(struct pg_rd *r, u8 want, const u8 **s, u32 *len)
{
	u8 major;
	u64 n;

	if (pg_rd_head(r, &major, &n) || major != want ||
	    n > r->len - r->pos)
		return -EINVAL;
	*s = r->p + r->pos;
	*len = n;
	r->pos += n;
	return 0;
}

/* false (0xf4) or true (0xf5). */
static int pg_rd_bool(struct pg_rd *r, bool *b)
{
	u8 major;
	u64 v;

	if (pg_rd_head(r, &major, &v) || major != 7 || (v != 20 && v != 21))
		return -EINVAL;
	*b = v == 21;
	return 0;
}

static bool pg_text_is(const u8 *s, u32 len, const char *word)
{
	return len == strlen(word) && !memcmp(s, word, len);
}

static int pg_arg_pcid(struct pg_ctl *c, struct pg_rd *r)
{
	const u8 *s;
	u8 major;
	u64 tag;
	u32 n;

	if (pg_rd_head(r, &major, &tag) || major != 6 || tag != PG_CID_TAG ||
	    pg_rd_string(r, 2, &s, &n))
		return pg_fail(c, -EINVAL, "pcid must be 42(bytes)");
	if (!pg_env_pcid_ok(s, n))
		return pg_fail(c, -EINVAL, "pcid is not 0x00 and a CIDv1");
	c->args.cid = s + 1;
	c->args.cid_len = n - 1;
	return 0;
}

static int pg_arg_value(struct pg_ctl *c, struct pg_rd *r, enum pg_arg a)
{
	struct pg_args *args = &c->args;
	const u8 *s;
	u8 major;
	u64 v;
	u32 n;

	switch (a) {
	case PG_ARG_PCID:
		return pg_arg_pcid(c, r);
	case PG_ARG_GROUP:
		if (pg_rd_string(r, 3, &s, &n) || !n ||
		    n > PG_GROUP_NAME_MAX)
			return pg_fail(c, -EINVAL,
				       "group must be text of 1 to 64 bytes");
		args->group = (const char *)s;
		args->group_len = n;
		return 0;
	case PG_ARG_ATTEST:
		if (pg_rd_bool(r, &args->attest))
			return pg_fail(c, -EINVAL, "attest must be a bool");
		return 0;
	case PG_ARG_CARRY:
		if (pg_rd_bool(r, &args->carry))
			return pg_fail(c, -EINVAL, "carry must be a bool");
		return 0;
	case PG_ARG_UNREAD:
		if (pg_rd_bool(r, &args->unread))
			return pg_fail(c, -EINVAL, "unread must be a bool");
		return 0;
	case PG_ARG_HOST:
		if (pg_rd_string(r, 3, &s, &n) || !n || n > PG_HOST_NAME_MAX)
			return pg_fail(c, -EINVAL,
				       "host must be text of 1 to 64 bytes");
		args->host = (const char *)s;
		args->host_len = n;
		return 0;
	case PG_ARG_TO:
		if (pg_rd_head(r, &major, &v) || major != 0)
			return pg_fail(c, -EINVAL,
				       "to must be an endpoint id");
		args->to = v;
		return 0;
	case PG_ARG_FRAME:
		if (pg_rd_string(r, 2, &s, &n))
			return pg_fail(c, -EINVAL, "frame must be bytes");
		args->frame_off = s - c->buf->data;
		args->frame_len = n;
		return 0;
	case PG_ARG_RIGHTS:
		if (pg_rd_head(r, &major, &v) || major != 0 ||
		    v & ~(u64)PG_RIGHTS_ALL)
			return pg_fail(c, -EINVAL,
				       "rights must be a subset of 7");
		args->rights = v;
		return 0;
	case PG_ARG_TTL:
		if (pg_rd_head(r, &major, &v) || major != 0 ||
		    v > PG_TTL_MS_MAX)
			return pg_fail(c, -EINVAL,
				       "ttl_ms must be an unsigned integer below 2^32");
		args->ttl_ms = v;
		return 0;
	case PG_ARG_TOKEN:
		if (pg_rd_string(r, 2, &s, &n))
			return pg_fail(c, -EINVAL, "token must be bytes");
		args->token = s;
		args->token_len = n;
		return 0;
	default:
		return -EINVAL;
	}
}

/* {args}: text keys this verb allows, each of the right type. */
static int pg_parse_args(struct pg_ctl *c, struct pg_rd *r,
			 unsigned long allowed, unsigned long required)
{
	const u8 *key;
	u32 key_len;
	u64 pairs;
	u8 major;
	int a, err;

	if (pg_rd_head(r, &major, &pairs) || major != 5)
		return pg_fail(c, -EINVAL, "arguments must be a map");
	while (pairs--) {
		if (pg_rd_string(r, 3, &key, &key_len))
			return pg_fail(c, -EINVAL, "argument keys must be text");
		for (a = 0; a < PG_ARG_NR; a++)
			if (pg_text_is(key, key_len, pg_arg_names[a]))
				break;
		if (a == PG_ARG_NR || !(allowed & BIT(a)))
			return pg_fail(c, -EINVAL, "unknown argument");
		err = pg_arg_value(c, r, a);
		if (err)
			return err;
		c->args.present |= BIT(a);
	}
	if ((c->args.present & required) != required)
		return pg_fail(c, -EINVAL, "missing argument");
	return 0;
}

static void pg_spec_from_args(const struct pg_args *a,
			      struct pg_recv_spec *spec)
{
	spec->cid = a->cid;
	spec->cid_len = a->cid_len;
	spec->group = (a->present & PG_A(GROUP)) ? a->group : NULL;
	spec->group_len = a->group_len;
	spec->attest = a->attest;
}

/*
 * The limits hello and promises report, keys in bytewise order of their
 * encodings (grid-cbor: shorter keys first). hello leaves out
 * max_receives (control v1 had none there).
 */
static const struct pg_limit {
	const char *key;
	const unsigned int *param;
	bool in_hello;
} pg_limits[] = {
	{ "max_depth", &pg_max_depth, true },
	{ "max_frame", &pg_max_frame, true },
	{ "max_groups", &pg_max_groups, true },
	{ "queue_bytes", &pg_queue_bytes, true },
	{ "max_receives", &pg_max_receives, false },
	{ "queue_frames", &pg_queue_frames, true },
	{ "inflight_bytes", &pg_inflight_bytes, true },
};

/* The limits' key-value pairs (the map head is the caller's). */
static void pg_enc_limits(struct pg_enc *e, bool hello)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pg_limits); i++)
		if (pg_limits[i].in_hello || !hello)
			pg_enc_kv_uint(e, pg_limits[i].key,
				       READ_ONCE(*pg_limits[i].param));
}

/* The version hello reports: pg-kernel-control-v4. */
#define PG_CONTROL_VERSION	4

static int pg_ctl_hello(struct pg_ctl *c)
{
	struct pg_enc *e = c->out;
	int i, n = 2;

	for (i = 0; i < ARRAY_SIZE(pg_limits); i++)
		n += pg_limits[i].in_hello;
	/* "version" and "endpoint" are shorter than every limit's key. */
	pg_enc_map(e, n);
	pg_enc_kv_uint(e, "version", PG_CONTROL_VERSION);
	pg_enc_kv_uint(e, "endpoint", c->ep->id);
	pg_enc_limits(e, true);
	return 0;
}

/*
 * The specs this kernel follows, at the commits read (docs/abi.md
 * "Frames" says what each rule takes from them).
 */
static const char * const pg_follows[] = {
	"promisegrid/promisegrid@dd73710 docs/grid-cbor-tag-spec.md",
	"promisegrid/promisegrid@2ca8801 docs/grid-cbor-multicodec-spec.md",
	"promisegrid/promisegrid@2ca8801 DR-tuzob open: shortest floats",
	"promisegrid/wire-lab@f587c11 tools/spec/cid_test.go",
};

/* The implementation promise record (docs/protocols/pg-kernel-control-v4.md). */
static int pg_ctl_promises(struct pg_ctl *c)
{
	struct pg_enc *e = c->out;
	int i;

	/* Keys in bytewise order of their encodings. */
	pg_enc_map(e, 5);
	pg_enc_text(e, "kernel");
	pg_enc_text(e, "promisegrid " PG_VERSION);
	pg_enc_text(e, "limits");
	pg_enc_map(e, ARRAY_SIZE(pg_limits));
	pg_enc_limits(e, false);
	pg_enc_text(e, "serves");
	pg_enc_array(e, 2);
	pg_enc_pcid(e, pg_pcid_control, sizeof(pg_pcid_control));
	pg_enc_pcid(e, pg_pcid_delivery, sizeof(pg_pcid_delivery));
	pg_enc_text(e, "follows");
	pg_enc_array(e, ARRAY_SIZE(pg_follows));
	for (i = 0; i < ARRAY_SIZE(pg_follows); i++)
		pg_enc_text(e, pg_follows[i]);
	/* A frame on a pCID nobody receives on is refused, never dropped. */
	pg_enc_text(e, "unreceived");
	pg_enc_map(e, 2);
	pg_enc_kv_uint(e, "errno", EHOSTUNREACH);
	pg_enc_text(e, "outcome");
	pg_enc_text(e, PG_OUTCOME_NOT_PROMISED);
	return 0;
}

static int pg_ctl_receive(struct pg_ctl *c)
{
	struct pg_recv_spec spec;
	int err;

	if (pg_kernel_pcid(c->args.cid, c->args.cid_len) != PG_KPCID_NONE)
		return pg_fail(c, -EPERM, "the kernel's own pCIDs are not routed");
	/* The right to receive is checked here, and again at each delivery. */
	err = pg_authorize(PG_OP_RECEIVE, c->ep, c->args.cid, c->args.cid_len,
			   PG_RIGHT_RECEIVE, 0);
	if (err)
		return pg_fail(c, err, "no right to receive on this pCID");
	pg_spec_from_args(&c->args, &spec);
	err = pg_route_receive(c->ep, &spec);
	if (err == -EEXIST)
		return pg_fail(c, err, "already receiving so");
	if (err == -ENOSPC)
		return pg_fail(c, err,
			       "too many receives or groups (max_receives, max_groups)");
	if (err)
		return err;
	pg_enc_map(c->out, 0);
	return 0;
}

static int pg_ctl_unreceive(struct pg_ctl *c)
{
	struct pg_recv_spec spec;

	pg_spec_from_args(&c->args, &spec);
	if (pg_route_unreceive(c->ep, &spec))
		return pg_fail(c, -ENOENT, "not receiving so");
	pg_enc_map(c->out, 0);
	return 0;
}

static int pg_ctl_carry(struct pg_ctl *c)
{
	const u8 *frame = c->buf->data + c->args.frame_off;
	const struct pg_host *host = pg_ep_gateway(c->ep);
	struct pg_host named;
	struct pg_endpoint *to;
	struct pg_envelope env;
	int err;

	/* A gateway answers callers for every host: it names this one's. */
	if (c->args.present & PG_A(HOST)) {
		if (!host)
			return pg_fail(c, -EPERM, "only a gateway names a host");
		named.len = c->args.host_len;
		memcpy(named.name, c->args.host, named.len);
		host = &named;
	}

	err = pg_frame_parse(frame, c->args.frame_len, &env);
	if (!err && env.frame_len != c->args.frame_len)
		err = -EBADMSG;
	if (err)
		return pg_fail(c, err, "the carried frame is not one valid frame");
	if (pg_kernel_pcid(frame + env.cid_off, env.cid_len) != PG_KPCID_NONE)
		return pg_fail(c, -EPERM, "frames of the kernel's protocols cannot be carried");
	err = pg_authorize(PG_OP_SEND, c->ep, frame + env.cid_off, env.cid_len,
			   PG_RIGHT_SEND, env.frame_len);
	if (err)
		return pg_fail(c, err, "no right to send on the carried frame's pCID");
	to = pg_ep_lookup(c->args.to);
	if (!to)
		return pg_fail(c, -ESRCH, "no such endpoint");
	/* A carry answers a frame the target sent, or the target consented. */
	if (!pg_ep_may_carry_to(c->ep, to)) {
		pg_ep_put(to);
		pg_authz_refuse(PG_OP_SEND, c->ep, frame + env.cid_off,
				env.cid_len, 0);
		return pg_fail(c, -EACCES,
			       "the target sent you nothing to answer and accepts no carries");
	}
	err = pg_ep_deliver_via(to, frame, env.frame_len, c->ep, host,
				READ_ONCE(to->accept_attest),
				trace_pg_deliver_enabled() ?
				pg_cid_hash(frame + env.cid_off, env.cid_len) :
				0, NULL);
	pg_ep_put(to);
	if (err == -ENOBUFS)
		return pg_fail(c, err, "the target's receive queue is full");
	if (err)
		return pg_fail(c, -ESRCH, "no such endpoint");
	pg_enc_map(c->out, 0);
	return 0;
}

/* Module counters in grid-cbor key order (see stats.h for meanings). */
static const enum pg_stat pg_stat_order[] = {
	PG_STAT_LENT, PG_STAT_DROPS, PG_STAT_CLAIMS, PG_STAT_DENIED, PG_STAT_ROUTES,
	PG_STAT_TOKENS, PG_STAT_CONTROL, PG_STAT_REJECTED, PG_STAT_ENDPOINTS,
	PG_STAT_DELIVERIES, PG_STAT_FRAMES_SENT, PG_STAT_NO_RECEIVER,
};

static int pg_ctl_accept(struct pg_ctl *c)
{
	if (c->args.present & PG_A(CARRY))
		WRITE_ONCE(c->ep->accept_carry, c->args.carry);
	if (c->args.present & PG_A(UNREAD))
		WRITE_ONCE(c->ep->notify_unread, c->args.unread);
	if (c->args.present & PG_A(ATTEST))
		WRITE_ONCE(c->ep->accept_attest, c->args.attest);
	/* Keys in bytewise order of their encodings (grid-cbor). */
	pg_enc_map(c->out, 3);
	pg_enc_text(c->out, "carry");
	pg_enc_bool(c->out, READ_ONCE(c->ep->accept_carry));
	pg_enc_text(c->out, "attest");
	pg_enc_bool(c->out, READ_ONCE(c->ep->accept_attest));
	pg_enc_text(c->out, "unread");
	pg_enc_bool(c->out, READ_ONCE(c->ep->notify_unread));
	return 0;
}

static int pg_ctl_stats(struct pg_ctl *c)
{
	struct pg_endpoint *ep = c->ep;
	struct pg_enc *e = c->out;
	u32 frames, kept;
	size_t bytes;
	int i;

	/* Expired tokens are not live: count none of them. */
	pg_caps_reap();
	spin_lock(&ep->rx_lock);
	frames = ep->rx_frames;
	bytes = ep->rx_bytes;
	kept = ep->rx_free_bytes;
	spin_unlock(&ep->rx_lock);

	pg_enc_map(e, 2);
	pg_enc_text(e, "module");
	pg_enc_map(e, ARRAY_SIZE(pg_stat_order));
	for (i = 0; i < ARRAY_SIZE(pg_stat_order); i++)
		pg_enc_kv_uint(e, pg_stat_name(pg_stat_order[i]),
			       pg_stat_read(pg_stat_order[i]));
	pg_enc_text(e, "endpoint");
	pg_enc_map(e, 8);
	pg_enc_kv_uint(e, "sent", atomic64_read(&ep->sent));
	pg_enc_kv_uint(e, "dropped", atomic64_read(&ep->dropped));
	pg_enc_kv_uint(e, "inflight", atomic_long_read(&ep->tx_inflight));
	pg_enc_kv_uint(e, "received", atomic64_read(&ep->received));
	pg_enc_kv_uint(e, "receives", READ_ONCE(ep->nrecvs));
	pg_enc_kv_uint(e, "kept_bytes", kept);
	pg_enc_kv_uint(e, "queued_bytes", bytes);
	pg_enc_kv_uint(e, "queued_frames", frames);
	return 0;
}

static int pg_ctl_claim(struct pg_ctl *c)
{
	int err;

	if (pg_kernel_pcid(c->args.cid, c->args.cid_len) != PG_KPCID_NONE)
		return pg_fail(c, -EPERM, "the kernel's own pCIDs cannot be claimed");
	err = pg_caps_claim(c->ep, c->args.cid, c->args.cid_len);
	if (err == -EEXIST)
		return pg_fail(c, err, "already claimed");
	if (err == -ENOSPC)
		return pg_fail(c, err, "too many claims (max_claims)");
	if (err == -EACCES)
		return pg_fail(c, err, "denied by policy");
	if (err)
		return err;
	pg_enc_map(c->out, 1);
	pg_enc_kv_uint(c->out, "rights", PG_RIGHTS_ALL);
	return 0;
}

static int pg_ctl_grant(struct pg_ctl *c)
{
	u8 token[PG_TOKEN_LEN];
	u32 granted;
	int err;

	err = pg_caps_grant(c->ep, c->args.cid, c->args.cid_len,
			    c->args.rights, c->args.ttl_ms, token, &granted);
	if (err == -ENOENT)
		return pg_fail(c, err, "the pCID is not claimed");
	if (err == -EACCES)
		return pg_fail(c, err, "no grant right for those rights");
	if (err == -ENOSPC)
		return pg_fail(c, err, "too many tokens (max_tokens)");
	if (err == -EMLINK)
		return pg_fail(c, err, "derived too deep (max_token_depth)");
	if (err)
		return err;
	pg_enc_map(c->out, 2);
	pg_enc_text(c->out, "token");
	pg_enc_bytes(c->out, token, sizeof(token));
	pg_enc_kv_uint(c->out, "rights", granted);
	memzero_explicit(token, sizeof(token));
	return 0;
}

static int pg_ctl_redeem(struct pg_ctl *c)
{
	u8 cid[PG_CID_MAX];
	u32 cid_len, rights;
	int err;

	err = pg_caps_redeem(c->ep, c->args.token, c->args.token_len, cid,
			     &cid_len, &rights);
	if (err == -EINVAL)
		return pg_fail(c, err, "a token is 32 bytes");
	if (err == -EACCES)
		return pg_fail(c, err, "not a valid token");
	if (err == -ENOSPC)
		return pg_fail(c, err, "too many holdings (max_holdings)");
	if (err)
		return err;
	pg_enc_map(c->out, 2);
	pg_enc_text(c->out, "pcid");
	pg_enc_pcid(c->out, cid, cid_len);
	pg_enc_kv_uint(c->out, "rights", rights);
	return 0;
}

static int pg_ctl_revoke(struct pg_ctl *c)
{
	u32 tokens, holders;
	int err;

	err = pg_caps_revoke(c->ep, c->args.token, c->args.token_len,
			     &tokens, &holders);
	if (err == -EINVAL)
		return pg_fail(c, err, "a token is 32 bytes");
	if (err == -EACCES)
		return pg_fail(c, err, "not a valid token you may revoke");
	if (err)
		return err;
	pg_enc_map(c->out, 2);
	pg_enc_kv_uint(c->out, "tokens", tokens);
	pg_enc_kv_uint(c->out, "holders", holders);
	return 0;
}

/*
 * A gateway: frames from other hosts enter here. The kernel vouches that
 * the opener may administer networking, as seen with its credentials.
 */
static int pg_ctl_gateway(struct pg_ctl *c)
{
	struct pg_host *host;
	int err;

	if (!file_ns_capable(c->ep->file, &init_user_ns, CAP_NET_ADMIN))
		return pg_fail(c, -EPERM, "a gateway needs CAP_NET_ADMIN");
	host = kzalloc(sizeof(*host), GFP_KERNEL_ACCOUNT);
	if (!host)
		return -ENOMEM;
	host->len = c->args.host_len;
	memcpy(host->name, c->args.host, host->len);
	err = pg_route_set_gateway(c->ep, host);
	if (err) {
		kfree(host);
		if (err == -EEXIST)
			return pg_fail(c, err, "already a gateway");
		return pg_fail(c, err, "the endpoint already receives");
	}
	pg_enc_map(c->out, 0);
	return 0;
}

static int pg_ctl_watch(struct pg_ctl *c)
{
	int n;

	if (!pg_ep_gateway(c->ep))
		return pg_fail(c, -EPERM, "only a gateway watches routes");
	n = pg_route_watch(c->ep);
	if (n == -ENOSPC)
		return pg_fail(c, n, "too many watchers");
	if (n < 0)
		return n;
	pg_enc_map(c->out, 1);
	pg_enc_kv_uint(c->out, "routes", n);
	return 0;
}

static const struct pg_verb {
	const char *name;
	unsigned long allowed;
	unsigned long required;
	int (*run)(struct pg_ctl *c);
} pg_verbs[] = {
	{ PG_VERB_HELLO, 0, 0, pg_ctl_hello },
	{ PG_VERB_RECEIVE, PG_A(PCID) | PG_A(GROUP) | PG_A(ATTEST), PG_A(PCID),
	  pg_ctl_receive },
	{ PG_VERB_UNRECEIVE, PG_A(PCID) | PG_A(GROUP), PG_A(PCID),
	  pg_ctl_unreceive },
	{ PG_VERB_CARRY, PG_A(TO) | PG_A(FRAME) | PG_A(HOST),
	  PG_A(TO) | PG_A(FRAME), pg_ctl_carry },
	{ PG_VERB_STATS, 0, 0, pg_ctl_stats },
	{ PG_VERB_CLAIM, PG_A(PCID), PG_A(PCID), pg_ctl_claim },
	{ PG_VERB_GRANT, PG_A(PCID) | PG_A(RIGHTS) | PG_A(TTL), PG_A(PCID),
	  pg_ctl_grant },
	{ PG_VERB_REDEEM, PG_A(TOKEN), PG_A(TOKEN), pg_ctl_redeem },
	{ PG_VERB_REVOKE, PG_A(TOKEN), PG_A(TOKEN), pg_ctl_revoke },
	{ PG_VERB_ACCEPT, PG_A(ATTEST) | PG_A(CARRY) | PG_A(UNREAD), 0,
	  pg_ctl_accept },
	{ PG_VERB_PROMISES, 0, 0, pg_ctl_promises },
	{ PG_VERB_GATEWAY, PG_A(HOST), PG_A(HOST), pg_ctl_gateway },
	{ PG_VERB_WATCH, 0, 0, pg_ctl_watch },
};

/* Slot 1: the request id, if it is an unsigned integer. */
static void pg_ctl_read_id(struct pg_ctl *c, const struct pg_envelope *env)
{
	struct pg_rd r = {
		.p = c->buf->data + c->off,
		.len = env->frame_len,
		.pos = env->slots_off,
	};
	u8 major;
	u64 id;

	if (env->nslots >= 2 && !pg_rd_head(&r, &major, &id) && major == 0) {
		c->id = id;
		c->has_id = true;
	}
}

static int pg_ctl_dispatch(struct pg_ctl *c, const struct pg_envelope *env)
{
	struct pg_rd r = {
		.p = c->buf->data + c->off,
		.len = env->frame_len,
		.pos = env->slots_off,
	};
	const struct pg_verb *v;
	const u8 *verb;
	u32 verb_len;
	int i, err;

	if (!c->has_id)
		return pg_fail(c, -EINVAL, "the request id must be an unsigned integer");
	if (env->nslots != 4)
		return pg_fail(c, -EINVAL, "a request is [pcid, id, verb, {args}]");
	if (pg_rd_skip(&r) || pg_rd_string(&r, 3, &verb, &verb_len))
		return pg_fail(c, -EINVAL, "the verb must be text");

	for (i = 0; i < ARRAY_SIZE(pg_verbs); i++) {
		v = &pg_verbs[i];
		if (!pg_text_is(verb, verb_len, v->name))
			continue;
		err = pg_parse_args(c, &r, v->allowed, v->required);
		if (err)
			return err;
		return v->run(c);
	}
	return pg_fail(c, -EBADRQC, "unknown verb");
}

/*
 * The outcome word of a failed request (docs/abi.md "Outcomes"): not
 * understood, short of a resource now, or understood and not promised.
 */
static const char *pg_outcome_of(int err)
{
	switch (err) {
	case -EINVAL: case -EBADRQC: case -EBADMSG: case -EILSEQ:
	case -EPROTO: case -EMSGSIZE: case -E2BIG:
		return PG_OUTCOME_MALFORMED;
	case -ENOBUFS: case -ENOMEM: case -EAGAIN:
		return PG_OUTCOME_UNAVAILABLE;
	default:
		return PG_OUTCOME_NOT_PROMISED;
	}
}

/* Queue the encoded reply; a full queue drops it and owes a notice. */
static void pg_reply_queue(struct pg_endpoint *ep, const struct pg_enc *e)
{
	pg_ep_deliver(ep, e->p, e->len, NULL, false, pg_kernel_trace_tag(),
		      NULL);
}

/*
 * Handle one request at @off in @buf; returns 0 or the errno the write
 * reports, which the error reply carries too.
 */
int pg_control(struct pg_endpoint *ep, struct pg_buf *buf, u32 off,
	       const struct pg_envelope *env)
{
	struct pg_ctl c = { .ep = ep, .buf = buf, .off = off };
	u8 *scratch = NULL;
	struct pg_enc e;
	int err;

	pg_stat_inc(PG_STAT_CONTROL);
	c.out = &e;
	pg_ctl_read_id(&c, env);
	/*
	 * Only while encoding: the queued reply is the requester's copy.
	 * A request with id 0 is answered only if it fails (a carry's
	 * usual case): it encodes nothing until then.
	 */
	if (c.id) {
		scratch = kmalloc(PG_REPLY_MAX, GFP_KERNEL);
		if (!scratch)
			return -ENOMEM;
		pg_reply_begin(&e, scratch, PG_REPLY_MAX, c.has_id, c.id,
			       PG_OUTCOME_KEPT);
	} else {
		pg_enc_discard(&e);
	}
	err = pg_ctl_dispatch(&c, env);
	if (err) {
		if (!scratch)
			scratch = kmalloc(PG_REPLY_MAX, GFP_KERNEL);
		if (!scratch)
			return err;
		pg_reply_begin(&e, scratch, PG_REPLY_MAX, c.has_id, c.id,
			       pg_outcome_of(err));
		pg_enc_map(&e, 2);
		pg_enc_kv_uint(&e, "errno", -err);
		pg_enc_text(&e, "reason");
		pg_enc_text(&e, c.reason ?: "failed");
	}
	if (err || c.id) {
		pg_enc_parent(&e, buf->data + off, env->frame_len);
		/* Replies are a few hundred bytes at most: an overflow is a bug. */
		if (!WARN_ON_ONCE(e.overflow))
			pg_reply_queue(ep, &e);
	}
	kfree(scratch);
	return err;
}
