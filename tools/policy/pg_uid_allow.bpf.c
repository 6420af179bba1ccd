/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * An example policy that adds a rule: a uid allow-list per pCID. Once a
 * pCID is listed (pg_uid_listed, keyed by its FNV-1a hash), only the uids
 * in pg_uid_allow may send on it or receive on it, whatever capabilities
 * they hold. It only adds denials and stamps what it sees, so it stacks
 * with the default policy in any order.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/promisegrid.h>
#include "pg_policy.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} pg_uid_listed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct pg_uid_key);
	__type(value, __u8);
} pg_uid_allow SEC(".maps");

SEC("raw_tp.w/pg_authorize")
int pg_uid_allow_policy(struct bpf_raw_tracepoint_args *ctx)
{
	struct pg_authz *a = (struct pg_authz *)ctx->args[0];
	struct pg_uid_key key = {};
	__u64 hash = a->pcid_hash;

	a->stamp = PG_POLICY_STAMP;
	if (a->op != PG_OP_SEND && a->op != PG_OP_RECEIVE &&
	    a->op != PG_OP_DELIVER)
		return 0;
	if (!bpf_map_lookup_elem(&pg_uid_listed, &hash))
		return 0;
	key.pcid_hash = hash;
	key.uid = a->uid;
	if (!bpf_map_lookup_elem(&pg_uid_allow, &key))
		a->verdict = PG_VERDICT_DENY;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
