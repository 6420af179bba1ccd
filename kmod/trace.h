/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Tracepoints of the message path (tracefs: events/promisegrid/) and the
 * writable raw tracepoint pg_authorize that eBPF policy programs attach to
 * with SEC("raw_tp.w/pg_authorize").
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM promisegrid

#if !defined(PG_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define PG_TRACE_H

#include <linux/tracepoint.h>
#include <linux/promisegrid.h>

TRACE_EVENT(pg_send,
	TP_PROTO(u64 endpoint, u64 pcid_hash, u32 len, int err),
	TP_ARGS(endpoint, pcid_hash, len, err),
	TP_STRUCT__entry(
		__field(u64, endpoint)
		__field(u64, pcid_hash)
		__field(u32, len)
		__field(int, err)
	),
	TP_fast_assign(
		__entry->endpoint = endpoint;
		__entry->pcid_hash = pcid_hash;
		__entry->len = len;
		__entry->err = err;
	),
	TP_printk("endpoint=%llu pcid=%016llx len=%u err=%d",
		  __entry->endpoint, __entry->pcid_hash, __entry->len,
		  __entry->err)
);

DECLARE_EVENT_CLASS(pg_delivery_class,
	TP_PROTO(u64 to, u64 pcid_hash, u32 len),
	TP_ARGS(to, pcid_hash, len),
	TP_STRUCT__entry(
		__field(u64, to)
		__field(u64, pcid_hash)
		__field(u32, len)
	),
	TP_fast_assign(
		__entry->to = to;
		__entry->pcid_hash = pcid_hash;
		__entry->len = len;
	),
	TP_printk("to=%llu pcid=%016llx len=%u", __entry->to,
		  __entry->pcid_hash, __entry->len)
);

DEFINE_EVENT(pg_delivery_class, pg_deliver,
	TP_PROTO(u64 to, u64 pcid_hash, u32 len),
	TP_ARGS(to, pcid_hash, len));

DEFINE_EVENT(pg_delivery_class, pg_drop,
	TP_PROTO(u64 to, u64 pcid_hash, u32 len),
	TP_ARGS(to, pcid_hash, len));

DECLARE_EVENT_CLASS(pg_authz_class,
	TP_PROTO(struct pg_authz *a),
	TP_ARGS(a),
	TP_STRUCT__entry(
		__field(u32, op)
		__field(u64, endpoint)
		__field(u32, uid)
		__field(u64, pcid_hash)
		__field(u32, rights)
		__field(u32, wanted)
		__field(u32, builtin)
		__field(u32, verdict)
	),
	TP_fast_assign(
		__entry->op = a->op;
		__entry->endpoint = a->endpoint;
		__entry->uid = a->uid;
		__entry->pcid_hash = a->pcid_hash;
		__entry->rights = a->rights;
		__entry->wanted = a->rights_wanted;
		__entry->builtin = a->builtin;
		__entry->verdict = a->verdict;
	),
	TP_printk("op=%u endpoint=%llu uid=%u pcid=%016llx rights=%#x wanted=%#x builtin=%u verdict=%u",
		  __entry->op, __entry->endpoint, __entry->uid,
		  __entry->pcid_hash, __entry->rights, __entry->wanted,
		  __entry->builtin, __entry->verdict)
);

DEFINE_EVENT(pg_authz_class, pg_deny,
	TP_PROTO(struct pg_authz *a),
	TP_ARGS(a));

/*
 * pg_authorize is writable by raw_tp.w programs. DEFINE_EVENT_WRITABLE is
 * only defined while trace/bpf_probe.h reads this file (it records the
 * writable size there); every other pass sees a plain event.
 */
#ifdef DEFINE_EVENT_WRITABLE
#undef PG_DEFINE_EVENT_WRITABLE
#define PG_DEFINE_EVENT_WRITABLE(template, call, proto, args, size)	\
	DEFINE_EVENT_WRITABLE(template, call, PARAMS(proto),		\
			      PARAMS(args), size)
#else
#undef PG_DEFINE_EVENT_WRITABLE
#define PG_DEFINE_EVENT_WRITABLE(template, call, proto, args, size)	\
	DEFINE_EVENT(template, call, PARAMS(proto), PARAMS(args))
#endif

PG_DEFINE_EVENT_WRITABLE(pg_authz_class, pg_authorize,
	TP_PROTO(struct pg_authz *a),
	TP_ARGS(a),
	sizeof(struct pg_authz));

#endif /* PG_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
