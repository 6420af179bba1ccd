// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Range-checked module parameters. An out-of-range value is refused with
 * -EINVAL, at insmod and at run time alike.
 */
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>
#include "params.h"

unsigned int pg_max_frame = PG_MAX_FRAME_DEFAULT;
unsigned int pg_max_depth = PG_MAX_DEPTH_DEFAULT;
unsigned int pg_queue_frames = PG_QUEUE_FRAMES_DEFAULT;
unsigned int pg_queue_bytes = PG_QUEUE_BYTES_DEFAULT;
unsigned int pg_inflight_bytes = PG_INFLIGHT_BYTES_DEFAULT;
unsigned int pg_max_receives = PG_MAX_RECEIVES_DEFAULT;
unsigned int pg_enforcing;
unsigned int pg_max_endpoints_per_user = PG_MAX_ENDPOINTS_PER_USER_DEFAULT;
unsigned int pg_max_claims = PG_MAX_CLAIMS_DEFAULT;
unsigned int pg_max_tokens = PG_MAX_TOKENS_DEFAULT;
unsigned int pg_max_holdings = PG_MAX_HOLDINGS_DEFAULT;
unsigned int pg_max_token_depth = PG_MAX_TOKEN_DEPTH_DEFAULT;
unsigned int pg_max_groups = PG_MAX_GROUPS_DEFAULT;

struct pg_param_range {
	unsigned int *val;
	unsigned int min;
	unsigned int max;
};

static int pg_param_set(const char *arg, const struct kernel_param *kp)
{
	const struct pg_param_range *r = kp->arg;
	unsigned int v;
	int err;

	err = kstrtouint(arg, 0, &v);
	if (err)
		return err;
	if (v < r->min || v > r->max)
		return -EINVAL;
	WRITE_ONCE(*r->val, v);
	return 0;
}

static int pg_param_get(char *buf, const struct kernel_param *kp)
{
	const struct pg_param_range *r = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*r->val));
}

static const struct kernel_param_ops pg_param_ops = {
	.set = pg_param_set,
	.get = pg_param_get,
};

#define PG_PARAM(name, lo, hi, desc)					\
	static struct pg_param_range pg_range_##name = {		\
		.val = &pg_##name, .min = (lo), .max = (hi),		\
	};								\
	module_param_cb(name, &pg_param_ops, &pg_range_##name, 0644);	\
	MODULE_PARM_DESC(name, desc " [" #lo ".." #hi "]")

PG_PARAM(max_frame, 64, PG_MAX_FRAME_LIMIT, "Largest frame in bytes");
PG_PARAM(max_depth, 3, PG_MAX_DEPTH_LIMIT, "Deepest CBOR nesting of a frame");
PG_PARAM(queue_frames, 1, 1 << 24, "Deliveries queued per receiver");
PG_PARAM(queue_bytes, 4096, 1 << 30, "Bytes queued per receiver");
PG_PARAM(inflight_bytes, PG_MAX_FRAME_LIMIT, 1 << 30,
	 "Bytes per sender not yet read by every receiver");
PG_PARAM(max_receives, 1, 1 << 20, "Receives per endpoint");
PG_PARAM(max_endpoints_per_user, 1, 1 << 20, "Open endpoints per user");
PG_PARAM(enforcing, 0, 1,
	 "Deny what no eBPF policy program stamped (fail closed)");
PG_PARAM(max_claims, 1, 1 << 20, "Claims per endpoint");
PG_PARAM(max_tokens, 1, 1 << 20, "Tokens per claim");
PG_PARAM(max_holdings, 1, 1 << 20, "Claims and redeemed tokens per endpoint");
PG_PARAM(max_token_depth, 1, 64, "Grants from grants, at most");
PG_PARAM(max_groups, 1, 1 << 16, "Worker groups per pCID");
