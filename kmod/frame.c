// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/errno.h>
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

/*
 * CIDs share their first bytes (version, codec, hash type), so memcmp()
 * would walk several before telling them apart. Every frame asks about
 * the kernel's seven pCIDs: compare the digest's last 8 bytes first.
 */
static bool pg_kernel_pcid_is(const u8 *cid, const u8 *kpcid)
{
	const size_t tail = PG_KERNEL_PCID_LEN - sizeof(u64);

	return get_unaligned((const u64 *)(cid + tail)) ==
	       get_unaligned((const u64 *)(kpcid + tail)) &&
	       !memcmp(cid, kpcid, PG_KERNEL_PCID_LEN);
}

enum pg_kernel_pcid pg_kernel_pcid(const u8 *cid, size_t len)
{
	int i;

	if (len != PG_KERNEL_PCID_LEN)
		return PG_KPCID_NONE;
	if (pg_kernel_pcid_is(cid, pg_pcid_control))
		return PG_KPCID_CONTROL;
	if (pg_kernel_pcid_is(cid, pg_pcid_delivery))
		return PG_KPCID_DELIVERY;
	for (i = 0; i < ARRAY_SIZE(pg_pcids_retired); i++)
		if (pg_kernel_pcid_is(cid, pg_pcids_retired[i]))
			return PG_KPCID_RETIRED;
	return PG_KPCID_NONE;
}
