/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Fallback version for builds from a tarball or by DKMS; a build from git
 * passes -DPG_VERSION from `git describe` (see kmod/Kbuild).
 */
#ifndef PG_VERSION
#define PG_VERSION "0.2.0"
#endif
