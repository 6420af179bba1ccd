// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/bitmap.h>
#include <linux/cache.h>
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <crypto/sha2.h>
#include <linux/promisegrid.h>
#include "compat.h"
#include "frame.h"
#include "params.h"

const u8 pg_pcid_control[PG_KERNEL_PCID_LEN] = PG_PCID_CONTROL;
const u8 pg_pcid_delivery[PG_KERNEL_PCID_LEN] = PG_PCID_DELIVERY;

/* Still the kernel's, so that nobody answers an old client in its name. */
static const u8 pg_pcids_retired[][PG_KERNEL_PCID_LEN] = {
	PG_PCID_CONTROL_V1, PG_PCID_CONTROL_V2, PG_PCID_CONTROL_V3,
	PG_PCID_DELIVERY_V1, PG_PCID_DELIVERY_V2,
};

/*
 * Check the frame at @p against the limits in force. Returns 0 or a
 * codec code (-PG_CBOR_E*, -PG_ENV_E*), not an errno: send.c needs to
 * tell a truncated frame apart; pg_frame_parse() gives the errno.
 */
int pg_frame_scan(const u8 *p, size_t len, struct pg_envelope *env)
{
	const struct pg_cbor_limits lim = {
		.max_depth = READ_ONCE(pg_max_depth),
		.max_size = READ_ONCE(pg_max_frame),
	};

	return pg_env_parse(p, len, &lim, env);
}

/* The same, as an errno. */
int pg_frame_parse(const u8 *p, size_t len, struct pg_envelope *env)
{
	int err = pg_frame_scan(p, len, env);

	return err ? pg_env_errno(err) : 0;
}

/*
 * Write the CID of the @len bytes at @frame to @cid (PG_FRAME_CID_LEN
 * bytes): how kernel replies and notices name the frame they answer.
 */
void pg_frame_cid(const u8 *frame, size_t len, u8 *cid)
{
	static const u8 prefix[] = PG_CID_RAW_SHA256_PREFIX;

	static_assert(sizeof(prefix) + SHA256_DIGEST_SIZE == PG_FRAME_CID_LEN);
	memcpy(cid, prefix, sizeof(prefix));
	sha256(frame, len, cid + sizeof(prefix));
}

/* The kernel's seven pCIDs, and what each is. */
static const struct {
	const u8 *cid;
	enum pg_kernel_pcid kind;
} pg_kernel_pcids[] = {
	{ pg_pcid_control, PG_KPCID_CONTROL },
	{ pg_pcid_delivery, PG_KPCID_DELIVERY },
	{ pg_pcids_retired[0], PG_KPCID_RETIRED },
	{ pg_pcids_retired[1], PG_KPCID_RETIRED },
	{ pg_pcids_retired[2], PG_KPCID_RETIRED },
	{ pg_pcids_retired[3], PG_KPCID_RETIRED },
	{ pg_pcids_retired[4], PG_KPCID_RETIRED },
};

static_assert(ARRAY_SIZE(pg_pcids_retired) == 5);

/*
 * The last digest byte of each, as a set: every frame asks whether its
 * pCID is one of them, and most pCIDs' last byte is not in the set, so
 * one bit test answers where seven comparisons did.
 */
static DECLARE_BITMAP(pg_kernel_pcid_last, 256) __ro_after_init;

void __init pg_frame_init(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pg_kernel_pcids); i++)
		__set_bit(pg_kernel_pcids[i].cid[PG_KERNEL_PCID_LEN - 1],
			  pg_kernel_pcid_last);
}

enum pg_kernel_pcid pg_kernel_pcid(const u8 *cid, size_t len)
{
	int i;

	if (len != PG_KERNEL_PCID_LEN ||
	    !test_bit(cid[PG_KERNEL_PCID_LEN - 1], pg_kernel_pcid_last))
		return PG_KPCID_NONE;
	for (i = 0; i < ARRAY_SIZE(pg_kernel_pcids); i++)
		if (!memcmp(cid, pg_kernel_pcids[i].cid, PG_KERNEL_PCID_LEN))
			return pg_kernel_pcids[i].kind;
	return PG_KPCID_NONE;
}
