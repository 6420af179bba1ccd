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
 * (docs/protocols/pg-kernel-control-v1.md).
 */
#ifndef _UAPI_LINUX_PROMISEGRID_H
#define _UAPI_LINUX_PROMISEGRID_H

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
 * of the protocol's spec text; tools/pg-cid recomputes them and a host test
 * checks these bytes against docs/protocols/.
 */
#define PG_KERNEL_PCID_LEN	36
/* docs/protocols/pg-kernel-control-v1.md */
#define PG_PCID_CONTROL { \
	0x01, 0x55, 0x12, 0x20, 0xee, 0xfc, 0x1a, 0x95, 0x3e, 0x3e, 0x43, 0x67, \
	0x59, 0x4c, 0x74, 0xd2, 0x30, 0x91, 0x19, 0xb8, 0x59, 0x72, 0x2b, 0xe8, \
	0x27, 0x1f, 0x81, 0x0e, 0x0d, 0x38, 0x34, 0xd1, 0x65, 0x1b, 0xde, 0x17 }
/* docs/protocols/pg-kernel-delivery-v1.md */
#define PG_PCID_DELIVERY { \
	0x01, 0x55, 0x12, 0x20, 0x39, 0xfc, 0xa9, 0x4d, 0xd5, 0xc6, 0x06, 0xd3, \
	0x34, 0xd6, 0x3b, 0x26, 0x32, 0x2a, 0x26, 0xbb, 0xd4, 0x89, 0x13, 0x0d, \
	0x66, 0x2a, 0xf9, 0x5e, 0x24, 0xf5, 0x22, 0x7e, 0xf5, 0x06, 0x64, 0xdb }

/*
 * Control requests: grid([42(PG_PCID_CONTROL), id, verb, {args}]).
 * Replies: grid([42(PG_PCID_CONTROL), id, outcome, {details}]) on the
 * requester's own queue. id 0: reply only on failure.
 */
#define PG_VERB_HELLO		"hello"
#define PG_VERB_RECEIVE		"receive"	/* {"pcid", "group"?, "attest"?} */
#define PG_VERB_UNRECEIVE	"unreceive"	/* {"pcid", "group"?} */
#define PG_VERB_CARRY		"carry"		/* {"to", "frame"} */
#define PG_VERB_STATS		"stats"
#define PG_VERB_CLAIM		"claim"		/* reserved: capabilities */
#define PG_VERB_GRANT		"grant"		/* reserved: capabilities */
#define PG_VERB_REDEEM		"redeem"	/* reserved: capabilities */
#define PG_VERB_REVOKE		"revoke"	/* reserved: capabilities */

#define PG_OUTCOME_KEPT		"kept"
#define PG_OUTCOME_NOT_PROMISED	"not_promised"
#define PG_OUTCOME_MALFORMED	"malformed"

#define PG_GROUP_NAME_MAX	64	/* bytes of a worker group name */

/* Rights on a pCID, held by endpoints (reserved for the capability verbs). */
#define PG_RIGHT_SEND		(1u << 0)
#define PG_RIGHT_RECEIVE	(1u << 1)
#define PG_RIGHT_GRANT		(1u << 2)

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
 *   EAGAIN       O_NONBLOCK/IOCB_NOWAIT and the sender's in-flight budget
 *                (inflight_bytes) is used up
 *   control requests: EINVAL bad arguments, EBADRQC unknown verb,
 *   EOPNOTSUPP reserved verb, EEXIST, ENOENT, ENOSPC, ESRCH, EPERM (see the
 *   control protocol); each also produces an error reply frame.
 * read():
 *   EMSGSIZE     the buffer cannot hold the next delivery (it stays queued)
 *   EAGAIN       O_NONBLOCK/IOCB_NOWAIT and nothing is queued
 */

#endif /* _UAPI_LINUX_PROMISEGRID_H */
