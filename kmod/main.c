// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * PromiseGrid local grid kernel: routes CBOR frames between processes by
 * pCID through /dev/promisegrid.
 *
 * Where things live: device.c (the file operations), send.c (a write,
 * frame by frame), route.c (pCID -> receivers), endpoint.c (receive
 * queues, reads, wake-ups), control.c (the kernel's own protocol),
 * caps.c and authorize.c (rights, and the eBPF hook), quota.c (per-user
 * limits), kernel_frames.c (every frame the kernel writes: the delivery
 * envelope, the reply prelude, the notices), frame.c (frame checks, the
 * kernel's pCIDs, a frame's CID), and ../common/ (the shared validator).
 *
 * Locks, and the order they nest in (outermost first); nothing else
 * nests:
 *
 *   pg_table_mutex (route.c)   routes, groups, receives, each endpoint's
 *                              recvs list; control path only
 *   route->lock (route.c)      one route's receiver lists; the message
 *                              path holds it while queueing one frame to
 *                              all receivers, or a run of one write's
 *                              frames on the pCID (so a pCID's frames stay
 *                              in order); IOCB_NOWAIT writers only try it
 *   ep->rx_mutex (endpoint.c)  one reader of an endpoint at a time
 *   ep->rx_lock (endpoint.c)   a spinlock: the receive queue, its counts,
 *                              dead, reply_peers, the kept records;
 *                              innermost, never held across an
 *                              allocation or a user copy
 *
 *   pg_caps_mutex (caps.c)     claims, tokens, holdings; taken alone.
 *                              The message path reads holdings under RCU
 *                              (inside route->lock) and never takes it.
 *   pg_users_mutex (quota.c)   per-user endpoint counts; taken alone at
 *                              open and close
 *
 * Lock-free: endpoints are found by id in an xarray under RCU and pinned
 * by a kref; routes are found in an rhashtable under RCU and pinned by a
 * refcount; tx_cache, rx_cache and tx_error are exchanged with xchg();
 * a receiver is on at most one writer's wake-up batch (PG_EP_WAKE_QUEUED
 * bit). Functions that assume a lock say so with lockdep_assert_held();
 * the delivery paths, which may allocate, with __might_sleep() (the
 * check without a preemption point: they offer one every
 * PG_RESCHED_DELIVERIES deliveries).
 */
#include <linux/init.h>
#include <linux/module.h>
#include "caps.h"
#include "device.h"
#include "endpoint.h"
#include "frame.h"
#include "route.h"
#include "version.h"

static int __init pg_init(void)
{
	int err;

	pg_frame_init();
	err = pg_route_init();
	if (err)
		return err;
	err = pg_caps_init();
	if (err)
		goto err_route;
	err = pg_device_init();
	if (err)
		goto err_caps;
	pr_info("loaded, version %s\n", PG_VERSION);
	return 0;

err_caps:
	pg_caps_exit();
err_route:
	pg_route_exit();
	return err;
}

static void __exit pg_exit(void)
{
	/* Open files pin the module, so every endpoint is closed by now. */
	pg_device_exit();
	pg_caps_exit();
	pg_route_exit();
}

module_init(pg_init);
module_exit(pg_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("PromiseGrid local grid kernel: CBOR frames routed by pCID");
MODULE_AUTHOR("The PromiseGrid kernel module authors");
MODULE_VERSION(PG_VERSION);
