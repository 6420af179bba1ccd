// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/cred.h>
#include <linux/pid_namespace.h>
#include <linux/uidgid.h>
#include <linux/promisegrid.h>
#include "attest.h"
#include "cbor_enc.h"
#include "endpoint.h"
#include "frame.h"

/*
 * "from" is the sending endpoint's opener, whoever writes on its file:
 * its credentials at open (file->f_cred) and its process, seen from the
 * receiver's namespaces (pid 0 when not visible there or exited, overflow
 * ids when unmapped). The header always fits PG_ATTEST_HDR_MAX bytes.
 */
size_t pg_attest_header(u8 *out, size_t cap, struct pg_endpoint *rx,
			struct pg_endpoint *tx)
{
	struct pg_enc e;

	pg_enc_init(&e, out, cap);
	pg_enc_grid(&e, pg_pcid_delivery, sizeof(pg_pcid_delivery), 3);
	pg_enc_array(&e, 4);
	pg_enc_uint(&e, tx->id);
	pg_enc_uint(&e, pg_ep_opener_pid(tx, rx->pid_ns));
	pg_enc_uint(&e, from_kuid_munged(rx->user_ns, tx->cred->euid));
	pg_enc_uint(&e, from_kgid_munged(rx->user_ns, tx->cred->egid));
	return e.overflow ? 0 : e.len;
}
