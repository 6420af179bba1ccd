/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#ifndef PG_SEND_H
#define PG_SEND_H

#include <linux/types.h>
#include <linux/uio.h>

struct pg_endpoint;

ssize_t pg_send(struct pg_endpoint *ep, struct iov_iter *from,
		bool nonblock);

#endif /* PG_SEND_H */
