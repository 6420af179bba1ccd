/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Per-user limits: how many endpoints one user may have open. With the
 * per-endpoint queue and in-flight limits this bounds what one user can
 * make the module hold (and all of it is charged to the memory cgroup).
 */
#ifndef PG_QUOTA_H
#define PG_QUOTA_H

#include <linux/uidgid.h>

struct pg_user;

struct pg_user *pg_user_charge(kuid_t uid);
void pg_user_uncharge(struct pg_user *user);

#endif /* PG_QUOTA_H */
