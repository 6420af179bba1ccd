// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/cpumask.h>
#include "stats.h"

DEFINE_PER_CPU(struct pg_stats_percpu, pg_stats);

static const char * const pg_stat_names[PG_STAT_NR] = {
	[PG_STAT_FRAMES_SENT] = "frames_sent",
	[PG_STAT_DELIVERIES] = "deliveries",
	[PG_STAT_DROPS] = "drops",
	[PG_STAT_REJECTED] = "rejected",
	[PG_STAT_NO_RECEIVER] = "no_receiver",
	[PG_STAT_CONTROL] = "control",
	[PG_STAT_ENDPOINTS] = "endpoints",
	[PG_STAT_ROUTES] = "routes",
	[PG_STAT_DENIED] = "denied",
	[PG_STAT_CLAIMS] = "claims",
	[PG_STAT_TOKENS] = "tokens",
	[PG_STAT_LENT] = "lent",
};

u64 pg_stat_read(enum pg_stat s)
{
	s64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(pg_stats, cpu).v[s];
	return sum < 0 ? 0 : sum;
}

const char *pg_stat_name(enum pg_stat s)
{
	return pg_stat_names[s];
}
