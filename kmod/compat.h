/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Force-included into every kmod/ file (see kmod/Kbuild) so the rest of
 * the code reads like upstream code. Differences between the kernels we
 * build for (Debian 12's 6.1 and 6.12) go here, tested by feature rather
 * than by version number wherever a feature macro exists.
 */
#ifndef PG_COMPAT_H
#define PG_COMPAT_H

#include <linux/version.h>

/*
 * Endpoint ids are 64-bit and index an xarray directly, so unsigned long
 * must hold them.
 */
#if !defined(CONFIG_64BIT)
#error "promisegrid needs a 64-bit kernel"
#endif

/*
 * 6.12 moved the unaligned access helpers to <linux/unaligned.h>; Kbuild
 * probes the target's headers for it.
 */
#ifdef PG_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#endif /* PG_COMPAT_H */
