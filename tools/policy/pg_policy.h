/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Shared by the policy programs (*.bpf.c) and their loader (pg-policy.c):
 * the audit event and the keys of the policy maps.
 */
#ifndef PG_POLICY_H
#define PG_POLICY_H

#include <linux/types.h>

/* One denial, as pg_audit carries it. */
struct pg_audit_event {
	__u64 endpoint;
	__u64 pcid_hash;
	__u32 op;		/* enum pg_authz_op */
	__u32 pid;
	__u32 uid;
	__u32 rights;		/* held */
	__u32 wanted;
	__u32 builtin;		/* the capability rules' own verdict */
};

/* pg_counts: per op (index = enum pg_authz_op), allowed and denied. */
struct pg_op_counts {
	__u64 allowed;
	__u64 denied;
};

#define PG_POLICY_OPS	8

/* uid-allow: (pCID hash, uid) pairs allowed on a listed pCID. */
struct pg_uid_key {
	__u64 pcid_hash;
	__u32 uid;
	__u32 pad;
};

#endif /* PG_POLICY_H */
