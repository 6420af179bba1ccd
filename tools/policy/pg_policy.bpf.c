/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * The default policy: the capability rules as an eBPF program on the
 * module's writable raw tracepoint pg_authorize. On a claimed pCID, an
 * operation needs the rights it asks for (rights_wanted among the rights
 * held); this program re-derives that from the context. It follows the
 * composition rule: it only ever writes PG_VERDICT_DENY, never ALLOW. It
 * stamps every context it sees (enforcing mode needs a stamp), counts
 * each op's verdicts in pg_counts and reports every denial, its own or the
 * built-in one, to the pg_audit ring buffer.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/promisegrid.h>
#include "pg_policy.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} pg_audit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PG_POLICY_OPS);
	__type(key, __u32);
	__type(value, struct pg_op_counts);
} pg_counts SEC(".maps");

static void pg_audit_deny(const struct pg_authz *a)
{
	struct pg_audit_event *ev;

	ev = bpf_ringbuf_reserve(&pg_audit, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->endpoint = a->endpoint;
	ev->pcid_hash = a->pcid_hash;
	ev->op = a->op;
	ev->pid = a->pid;
	ev->uid = a->uid;
	ev->rights = a->rights;
	ev->wanted = a->rights_wanted;
	ev->builtin = a->builtin;
	bpf_ringbuf_submit(ev, 0);
}

SEC("raw_tp.w/pg_authorize")
int pg_policy(struct bpf_raw_tracepoint_args *ctx)
{
	struct pg_authz *a = (struct pg_authz *)ctx->args[0];
	struct pg_op_counts *c;
	__u32 op = a->op;
	int deny = a->builtin == PG_VERDICT_DENY;

	/* The capability rule: a claimed pCID needs the rights wanted. */
	if (a->claimed && (op == PG_OP_SEND || op == PG_OP_RECEIVE ||
			   op == PG_OP_DELIVER || op == PG_OP_GRANT) &&
	    (a->rights & a->rights_wanted) != a->rights_wanted)
		deny = 1;

	a->stamp = PG_POLICY_STAMP;
	if (deny) {
		a->verdict = PG_VERDICT_DENY;
		pg_audit_deny(a);
	}
	c = bpf_map_lookup_elem(&pg_counts, &op);
	if (c) {
		if (deny)
			__sync_fetch_and_add(&c->denied, 1);
		else
			__sync_fetch_and_add(&c->allowed, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
