/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Module parameters: the limits in force. Each is read with READ_ONCE()
 * where it is used, so a write to /sys/module/promisegrid/parameters/
 * applies to the operations that follow it.
 */
#ifndef PG_PARAMS_H
#define PG_PARAMS_H

#include <linux/compiler.h>
#include <linux/minmax.h>
#include <linux/promisegrid.h>

extern unsigned int pg_max_frame;
extern unsigned int pg_max_depth;
extern unsigned int pg_queue_frames;
extern unsigned int pg_queue_bytes;
extern unsigned int pg_inflight_bytes;
extern unsigned int pg_max_receives;
extern unsigned int pg_enforcing;
extern unsigned int pg_max_endpoints_per_user;
extern unsigned int pg_max_claims;
extern unsigned int pg_max_tokens;
extern unsigned int pg_max_holdings;
extern unsigned int pg_max_token_depth;
extern unsigned int pg_max_groups;

/* How many bytes one write looks at: whole frames within it are taken. */
static inline size_t pg_write_chunk(void)
{
	return min_t(size_t, max_t(size_t, READ_ONCE(pg_max_frame),
				   PG_WRITE_CHUNK),
		     READ_ONCE(pg_inflight_bytes));
}

#endif /* PG_PARAMS_H */
