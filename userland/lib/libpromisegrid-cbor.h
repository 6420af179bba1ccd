/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * libpromisegrid's libcbor-facing calls: frames built from libcbor items,
 * slots decoded into them, control requests with libcbor arguments and
 * details. The rest of the library is in <libpromisegrid.h>, which this
 * header includes.
 */
#ifndef LIBPROMISEGRID_CBOR_H
#define LIBPROMISEGRID_CBOR_H

#include <cbor.h>
#include "libpromisegrid.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Encodes grid([42(pcid), slots[0], ..., slots[n-1]]) in grid-cbor and
 * appends it to out. The slots are libcbor items (not consumed): integers
 * get their shortest form whatever their libcbor width, maps are sorted,
 * floats take the shortest width that keeps their value. 0, -EINVAL (an
 * indefinite item, or deeper than PG_MAX_DEPTH_LIMIT), -ENOMEM.
 */
int pg_frame_encode(struct pg_buf *out, const struct pg_cid *pcid,
		    cbor_item_t *const *slots, size_t n);
/* Appends one libcbor item in grid-cbor. */
int pg_cbor_encode(struct pg_buf *out, const cbor_item_t *item);

/* Decodes slot i (1 is the first after the pCID) with libcbor; NULL if none. */
cbor_item_t *pg_msg_slot(const struct pg_msg *m, size_t i);

/* Encodes grid([42(pcid), slots...]) and sends it; 0 or -errno. */
int pg_send_slots(struct pg *pg, const struct pg_cid *pcid,
		  cbor_item_t *const *slots, size_t n);
/* Encodes grid([42(pcid), slots...]) into the batch; 0 or -errno. */
int pg_batch_add_slots(struct pg_batch *b, const struct pg_cid *pcid,
		       cbor_item_t *const *slots, size_t n);

/*
 * Sends grid([42(control), id, verb, args]) with a fresh id and waits for
 * its reply, the control frame whose parent link names the request
 * (deliveries that come first are kept for pg_recv). args is a libcbor
 * map or NULL for {}. On "kept" returns 0 and, if details is not NULL,
 * the reply's details map (cbor_decref it); otherwise -errno, with the
 * kernel's reason in pg_reason().
 */
int pg_request(struct pg *pg, const char *verb, cbor_item_t *args,
	       cbor_item_t **details);

/*
 * The CID in a link, the libcbor item 42(h'00' || CIDv1) that slot 0 and
 * the kernel's parent and "pcid" links are (LIBPROMISEGRID_1.2): true and
 * *c, or false if it is not one (another tag, not a definite byte string,
 * no 0x00 prefix, not a CIDv1 of 4..PG_CID_MAX bytes).
 */
bool pg_cid_from_link(const cbor_item_t *link, struct pg_cid *c);

/* Looks up a text key in a libcbor map; a borrowed item or NULL. */
cbor_item_t *pg_map_get(const cbor_item_t *map, const char *key);
/* The unsigned integer under key, or -ENOENT/-EINVAL. */
int pg_map_uint(const cbor_item_t *map, const char *key, uint64_t *v);

/* The "module" and "endpoint" counter maps (cbor_decref both). */
int pg_stats(struct pg *pg, cbor_item_t **module, cbor_item_t **endpoint);

#ifdef __cplusplus
}
#endif

#endif /* LIBPROMISEGRID_CBOR_H */
