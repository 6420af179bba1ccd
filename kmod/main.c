// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * PromiseGrid local grid kernel: routes CBOR frames between processes by
 * pCID through /dev/promisegrid.
 */
#include <linux/init.h>
#include <linux/module.h>
#include "caps.h"
#include "device.h"
#include "endpoint.h"
#include "route.h"
#include "version.h"

static int __init pg_init(void)
{
	int err;

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
