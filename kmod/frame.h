/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * Frame checks with the limits in force, and the kernel's own pCIDs.
 */
#ifndef PG_FRAME_H
#define PG_FRAME_H

#include <linux/types.h>
#include <linux/promisegrid.h>
#include "pg_envelope.h"

enum pg_kernel_pcid {
	PG_KPCID_NONE,			/* an ordinary pCID: route it */
	PG_KPCID_CONTROL,		/* a request to the kernel */
	PG_KPCID_DELIVERY,		/* only the kernel writes these */
	PG_KPCID_RETIRED,		/* an earlier version of those */
};

extern const u8 pg_pcid_control[PG_KERNEL_PCID_LEN];
extern const u8 pg_pcid_delivery[PG_KERNEL_PCID_LEN];

/* A frame's own CID: CIDv1, raw, sha2-256, as the kernel's pCIDs are. */
#define PG_FRAME_CID_LEN	PG_KERNEL_PCID_LEN

int pg_frame_scan(const u8 *p, size_t len, struct pg_envelope *env);
int pg_frame_parse(const u8 *p, size_t len, struct pg_envelope *env);
/* Call once at load, before pg_kernel_pcid(). */
void pg_frame_init(void);
enum pg_kernel_pcid pg_kernel_pcid(const u8 *cid, size_t len);
void pg_frame_cid(const u8 *frame, size_t len, u8 *cid);

#endif /* PG_FRAME_H */
