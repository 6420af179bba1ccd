/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#ifndef PG_DEVICE_H
#define PG_DEVICE_H

int pg_device_init(void);
void pg_device_exit(void);

#endif /* PG_DEVICE_H */
