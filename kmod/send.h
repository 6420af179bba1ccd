/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#ifndef PG_SEND_H
#define PG_SEND_H

#include <linux/types.h>
#include <linux/uio.h>

struct pg_endpoint;

/*
 * @nonblock: O_NONBLOCK or IOCB_NOWAIT, never sleep for the send budget.
 * @nowait: IOCB_NOWAIT, also never wait for another writer on a pCID's
 * receivers (like a pipe's mutex: O_NONBLOCK alone waits for it).
 */
ssize_t pg_send(struct pg_endpoint *ep, struct iov_iter *from, bool nonblock,
		bool nowait);

#endif /* PG_SEND_H */
