// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Instantiates the tracepoints declared in trace.h.
 */
#define CREATE_TRACE_POINTS
#include "trace.h"
