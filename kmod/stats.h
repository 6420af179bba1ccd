/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Module-wide counters, reported by the "stats" control verb. Per-CPU so
 * that counting costs no shared cache line on the message path.
 */
#ifndef PG_STATS_H
#define PG_STATS_H

#include <linux/percpu.h>
#include <linux/types.h>

enum pg_stat {
	PG_STAT_FRAMES_SENT,		/* frames accepted from writers */
	PG_STAT_DELIVERIES,		/* deliveries queued to receivers */
	PG_STAT_DROPS,			/* deliveries lost: receiver full */
	PG_STAT_REJECTED,		/* frames refused by the checks */
	PG_STAT_NO_RECEIVER,		/* frames nobody received */
	PG_STAT_CONTROL,		/* control requests handled */
	PG_STAT_ENDPOINTS,		/* endpoints open (gauge) */
	PG_STAT_ROUTES,			/* pCIDs with receivers (gauge) */
	PG_STAT_DENIED,			/* operations denied (EACCES) */
	PG_STAT_CLAIMS,			/* claimed pCIDs (gauge) */
	PG_STAT_TOKENS,			/* live tokens (gauge) */
	PG_STAT_LENT,			/* deliveries queued in a lent record */
	PG_STAT_NR,
};

struct pg_stats_percpu {
	s64 v[PG_STAT_NR];
};

DECLARE_PER_CPU(struct pg_stats_percpu, pg_stats);

static inline void pg_stat_add(enum pg_stat s, s64 n)
{
	this_cpu_add(pg_stats.v[s], n);
}

static inline void pg_stat_inc(enum pg_stat s)
{
	pg_stat_add(s, 1);
}

u64 pg_stat_read(enum pg_stat s);
const char *pg_stat_name(enum pg_stat s);

#endif /* PG_STATS_H */
