/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * PromiseGrid local grid kernel: the user-space ABI of /dev/promisegrid.
 *
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * This header is the normative copy of the ABI together with docs/abi.md.
 * There is no ioctl and no structure crosses the boundary: a process sends
 * by write() and receives by read(), each carrying CBOR frames
 *
 *	1735551332([42(pCID), ...protocol-defined slots])
 *
 * in grid-cbor (RFC 8949 section 4.2.1 deterministic) encoding. The module
 * routes each frame by its pCID and forwards its exact bytes. Requests to
 * the module itself are frames of the control protocol whose pCID is below
 * (docs/protocols/pg-kernel-control-v4.md).
 */
#ifndef _UAPI_LINUX_PROMISEGRID_H
#define _UAPI_LINUX_PROMISEGRID_H

#include <linux/types.h>

#define PG_DEVICE_NAME		"promisegrid"
#define PG_DEVICE_PATH		"/dev/promisegrid"

/* The grid tag: 1735551332 == 0x67726964 ("grid"), always in 4-byte form. */
#define PG_GRID_TAG		1735551332u
#define PG_GRID_TAG_BYTES	{ 0xda, 0x67, 0x72, 0x69, 0x64 }
#define PG_GRID_TAG_LEN		5
/* Slot 0 is tag 42 (IPLD CID) over a byte string: 0x00 then a CIDv1. */
#define PG_CID_TAG		42
#define PG_CID_MIN		4	/* shortest CIDv1 the module accepts */
#define PG_CID_MAX		96	/* longest CIDv1 the module accepts */

/*
 * The module's own protocols. Each pCID is the binary CIDv1 (raw, sha2-256)
 * of the protocol's spec text; tools/maint/pg-cid recomputes them and a host test
 * checks these bytes against docs/protocols/.
 */
#define PG_KERNEL_PCID_LEN	36
/* How such a CIDv1 begins: version 1, codec raw, sha2-256, 32 bytes. */
#define PG_CID_RAW_SHA256_PREFIX	{ 0x01, 0x55, 0x12, 0x20 }
/* docs/protocols/pg-kernel-control-v4.md */
#define PG_PCID_CONTROL { \
	0x01, 0x55, 0x12, 0x20, 0x77, 0x2d, 0x88, 0x91, 0xa2, 0x4d, 0x4b, 0x97, \
	0x8c, 0x89, 0x0a, 0xa2, 0xa3, 0xaf, 0xd8, 0x1a, 0x14, 0x62, 0x65, 0xa9, \
	0x65, 0x88, 0x1b, 0x41, 0x17, 0x27, 0xa7, 0x49, 0xc1, 0x15, 0x40, 0x47 }
/* docs/protocols/pg-kernel-delivery-v3.md */
#define PG_PCID_DELIVERY { \
	0x01, 0x55, 0x12, 0x20, 0x72, 0x22, 0x2f, 0x3e, 0x05, 0xa2, 0x53, 0x7a, \
	0x4d, 0x54, 0x46, 0x42, 0xb0, 0x3a, 0xde, 0x8f, 0xea, 0xe4, 0xea, 0x39, \
	0xea, 0xd3, 0xe1, 0xb9, 0x36, 0x57, 0xd0, 0x46, 0xb3, 0x5d, 0x17, 0x20 }

/*
 * Retired: the kernel's earlier protocols. Frames on these fail with
 * EPROTONOSUPPORT and nobody may receive on them, so no process answers
 * an older client in the kernel's name.
 */
/* docs/protocols/pg-kernel-control-v1.md */
#define PG_PCID_CONTROL_V1 { \
	0x01, 0x55, 0x12, 0x20, 0x75, 0x42, 0xf9, 0x4c, 0x12, 0x0a, 0x9e, 0x20, \
	0xff, 0x89, 0x9f, 0xcd, 0x0b, 0x04, 0xa3, 0x26, 0x00, 0x3b, 0x7c, 0x4c, \
	0xf0, 0x8d, 0xeb, 0xac, 0xb6, 0x6a, 0x12, 0x9e, 0x5f, 0xf2, 0x04, 0x7b }
/* docs/protocols/pg-kernel-control-v2.md */
#define PG_PCID_CONTROL_V2 { \
	0x01, 0x55, 0x12, 0x20, 0x73, 0x4d, 0x38, 0x2b, 0x16, 0xe7, 0x4c, 0xd1, \
	0xfe, 0x2d, 0xa6, 0x1b, 0x7c, 0x20, 0x0c, 0x40, 0x66, 0xb2, 0xea, 0x51, \
	0x25, 0xbb, 0x00, 0x95, 0x1b, 0x7a, 0x8c, 0x1c, 0x03, 0xff, 0x26, 0xef }
/* docs/protocols/pg-kernel-control-v3.md */
#define PG_PCID_CONTROL_V3 { \
	0x01, 0x55, 0x12, 0x20, 0x6e, 0xce, 0x0e, 0x65, 0x63, 0x1b, 0xe4, 0x3e, \
	0xfa, 0x5c, 0x46, 0xf7, 0x82, 0xab, 0x56, 0x28, 0x8f, 0xe5, 0x8f, 0x9e, \
	0xdc, 0xce, 0xd3, 0x5c, 0xe6, 0x51, 0x2e, 0x65, 0x4e, 0x53, 0x69, 0x81 }
/* docs/protocols/pg-kernel-delivery-v1.md */
#define PG_PCID_DELIVERY_V1 { \
	0x01, 0x55, 0x12, 0x20, 0x39, 0xfc, 0xa9, 0x4d, 0xd5, 0xc6, 0x06, 0xd3, \
	0x34, 0xd6, 0x3b, 0x26, 0x32, 0x2a, 0x26, 0xbb, 0xd4, 0x89, 0x13, 0x0d, \
	0x66, 0x2a, 0xf9, 0x5e, 0x24, 0xf5, 0x22, 0x7e, 0xf5, 0x06, 0x64, 0xdb }
/* docs/protocols/pg-kernel-delivery-v2.md */
#define PG_PCID_DELIVERY_V2 { \
	0x01, 0x55, 0x12, 0x20, 0x50, 0x69, 0x56, 0x9a, 0x39, 0xfa, 0x5b, 0x5f, \
	0x38, 0xae, 0x74, 0x6e, 0x27, 0x4e, 0x31, 0x50, 0x47, 0xe0, 0xb0, 0xb2, \
	0xc1, 0x29, 0x73, 0x6c, 0x98, 0x07, 0x22, 0x75, 0xaf, 0x07, 0xfb, 0xda }

/*
 * Control requests: grid([42(PG_PCID_CONTROL), id, verb, {args}]).
 * Replies: grid([42(PG_PCID_CONTROL), id, outcome, {details}, 42(parent)])
 * on the requester's own queue, parent the CID of the request's bytes.
 * id 0: reply only on failure.
 */
#define PG_VERB_HELLO		"hello"
#define PG_VERB_RECEIVE		"receive"	/* {"pcid", "group"?, "attest"?} */
#define PG_VERB_UNRECEIVE	"unreceive"	/* {"pcid", "group"?} */
#define PG_VERB_CARRY		"carry"		/* {"to", "frame", "host"?} */
#define PG_VERB_STATS		"stats"
#define PG_VERB_CLAIM		"claim"		/* {"pcid"} */
#define PG_VERB_GRANT		"grant"		/* {"pcid", "rights"?, "ttl_ms"?} */
#define PG_VERB_REDEEM		"redeem"	/* {"token"} */
#define PG_VERB_REVOKE		"revoke"	/* {"token"} */
#define PG_VERB_ACCEPT		"accept"	/* {"attest"?, "carry"?, "unread"?} */
#define PG_VERB_PROMISES	"promises"	/* {}: the promise record */
#define PG_VERB_GATEWAY		"gateway"	/* {"host"}: CAP_NET_ADMIN */
#define PG_VERB_WATCH		"watch"		/* {}: gateways only */

#define PG_OUTCOME_KEPT		"kept"
#define PG_OUTCOME_NOT_PROMISED	"not_promised"
#define PG_OUTCOME_MALFORMED	"malformed"
#define PG_OUTCOME_UNAVAILABLE	"unavailable"	/* short of a resource now */
#define PG_OUTCOME_BROKEN	"broken"	/* promised, then not kept */
#define PG_NOTICE_ROUTE		"route"		/* a watched route went up or down */

#define PG_GROUP_NAME_MAX	64	/* bytes of a worker group name */
#define PG_HOST_NAME_MAX	64	/* bytes of a gateway's host name */
/*
 * An attested delivery is at most this much longer than its frame
 * (pg-kernel-delivery-v3: 84 bytes of ids, up to 66 of host): size read
 * buffers by max_frame plus this.
 */
#define PG_ATTEST_HDR_MAX	160

/*
 * Rights on a pCID, held by endpoints. Unclaimed pCIDs are open to all;
 * "claim" gives the claimer all rights and from then on sending (a routed
 * frame, or a carried one) needs SEND and receiving needs RECEIVE.
 * "grant" (needs GRANT) mints a token for the same or fewer rights.
 */
#define PG_RIGHT_SEND		(1u << 0)
#define PG_RIGHT_RECEIVE	(1u << 1)
#define PG_RIGHT_GRANT		(1u << 2)
#define PG_RIGHTS_ALL		(PG_RIGHT_SEND | PG_RIGHT_RECEIVE | PG_RIGHT_GRANT)

/* A token is 32 bearer bytes: an 8-byte index and a 24-byte secret. */
#define PG_TOKEN_LEN		32

/*
 * eBPF authorization. Before every routed send, receive registration,
 * delivery to a receiver (when anyone listens or the pCID is claimed),
 * claim, grant, redeem and revoke, the module fills a struct pg_authz and
 * fires the writable raw tracepoint "pg_authorize". Programs attach with
 * libbpf SEC("raw_tp.w/pg_authorize") and read it as ctx->args[0].
 *
 * Composition rule: programs only ever add denials. A program writes
 * PG_VERDICT_DENY to ->verdict or leaves it alone; it never writes
 * PG_VERDICT_ALLOW. The module denies if ->builtin is DENY or ->verdict
 * is DENY, so no program can lift the capability rules, and the order in
 * which several programs run does not matter.
 *
 * A policy program also writes PG_POLICY_STAMP to ->stamp. With the
 * module parameter enforcing=1, an operation whose context no program
 * stamped is denied: no policy attached means nothing passes.
 */
enum pg_authz_op {
	PG_OP_SEND = 1,		/* a routed or carried frame */
	PG_OP_RECEIVE = 2,	/* a receive (fan-out or group) */
	PG_OP_CLAIM = 3,
	PG_OP_GRANT = 4,
	PG_OP_REDEEM = 5,
	PG_OP_REVOKE = 6,
	PG_OP_DELIVER = 7,	/* one delivery; endpoint: the receiver */
};

#define PG_VERDICT_ALLOW	0
#define PG_VERDICT_DENY		1
#define PG_POLICY_STAMP		0x5047504fu	/* "PGPO" */

/* Where the endpoint's rights on the pCID come from. */
enum pg_rights_source {
	PG_SRC_NONE = 0,	/* claimed, and this endpoint holds nothing */
	PG_SRC_OPEN = 1,	/* not claimed: open to all */
	PG_SRC_CLAIM = 2,	/* this endpoint claimed it */
	PG_SRC_TOKEN = 3,	/* from a redeemed token */
};

#define PG_AUTHZ_PCID_BYTES	40

struct pg_authz {
	__u32 op;		/* enum pg_authz_op */
	__u32 builtin;		/* the capability rules' verdict */
	__u32 verdict;		/* programs may write PG_VERDICT_DENY */
	__u32 stamp;		/* policy programs write PG_POLICY_STAMP */
	__u64 endpoint;		/* the acting endpoint's id */
	__u64 cgroup_id;	/* its opener's cgroup v2 id, at open */
	__u32 pid;		/* its opener's tgid, initial pid ns; 0: exited */
	__u32 uid;		/* its opener's effective ids (file->f_cred), */
	__u32 gid;		/* in the initial user ns */
	__u32 rights;		/* PG_RIGHT_* the endpoint holds on the pCID */
	__u32 source;		/* enum pg_rights_source */
	__u32 token_depth;	/* 0: claim or open; n: n grants from it */
	__u64 token_expires_ns;	/* CLOCK_BOOTTIME ns; 0: never */
	__u32 rights_wanted;	/* the right op needs; for grant, the rights asked */
	__u32 frame_len;	/* send: frame bytes; else 0 */
	__u64 pcid_hash;	/* FNV-1a 64 of the CID bytes */
	__u32 pcid_len;		/* CID bytes (without the 0x00 prefix) */
	__u8 pcid[PG_AUTHZ_PCID_BYTES];	/* their first bytes, zeros after */
	__u32 claimed;		/* 1 if the pCID is claimed */
};

/*
 * Limits. The module parameters of the same names (without PG_ and
 * _DEFAULT) set the limits in force; "hello" reports them.
 */
#define PG_MAX_FRAME_DEFAULT	65536	/* max_frame: bytes per frame */
#define PG_MAX_FRAME_LIMIT	(1 << 20)
#define PG_MAX_DEPTH_DEFAULT	16	/* max_depth: CBOR nesting */
#define PG_MAX_DEPTH_LIMIT	32
#define PG_QUEUE_FRAMES_DEFAULT	65536	/* queue_frames: per receiver */
#define PG_QUEUE_BYTES_DEFAULT	(8 << 20)	/* queue_bytes: per receiver */
#define PG_INFLIGHT_BYTES_DEFAULT (4 << 20)	/* inflight_bytes: per sender */
#define PG_MAX_RECEIVES_DEFAULT	65536	/* max_receives: per endpoint */
#define PG_MAX_ENDPOINTS_PER_USER_DEFAULT 4096	/* max_endpoints_per_user */
#define PG_MAX_CLAIMS_DEFAULT	1024	/* max_claims: per endpoint */
#define PG_MAX_TOKENS_DEFAULT	65536	/* max_tokens: per claim */
#define PG_MAX_HOLDINGS_DEFAULT	4096	/* max_holdings: per endpoint */
#define PG_MAX_TOKEN_DEPTH_DEFAULT 8	/* max_token_depth */
#define PG_MAX_GROUPS_DEFAULT	256	/* max_groups: worker groups per pCID */
#define PG_TTL_MS_MAX		0xffffffffu	/* grant's ttl_ms, at most */
/* One write consumes at most max(max_frame, PG_WRITE_CHUNK) bytes. */
#define PG_WRITE_CHUNK		(256 << 10)

/*
 * errno meanings. write():
 *   EBADMSG      not well-formed CBOR, or truncated
 *   EILSEQ       not grid-cbor (deterministic) encoding
 *   EPROTO       not a grid envelope with a tag-42 pCID in slot 0
 *   EMSGSIZE     frame larger than max_frame
 *   E2BIG        nested deeper than max_depth
 *   EHOSTUNREACH no endpoint receives on the frame's pCID
 *   ENOBUFS      every receiver's queue was full: nothing delivered
 *   EACCES       no right to send on a claimed pCID, or denied by a policy
 *   EAGAIN       O_NONBLOCK/IOCB_NOWAIT and the endpoint's writes in
 *                progress hold inflight_bytes already, or a receiver set
 *                is busy (another writer holds it)
 *   control requests: EINVAL bad arguments, EBADRQC unknown verb, EACCES,
 *   EEXIST, ENOENT, ENOSPC, ESRCH, EPERM, EMLINK (see the control
 *   protocol); each also produces an error reply frame.
 * read():
 *   EMSGSIZE     the buffer cannot hold the next delivery (it stays queued)
 *   EAGAIN       O_NONBLOCK/IOCB_NOWAIT and nothing is queued
 */

#endif /* _UAPI_LINUX_PROMISEGRID_H */
