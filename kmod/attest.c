// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/uidgid.h>
#include <linux/promisegrid.h>
#include "attest.h"
#include "cbor_enc.h"
#include "endpoint.h"
#include "frame.h"

/*
 * Runs in the writer's context: "from" is the current task, seen from the
 * receiver's namespaces (pid 0 when not visible there, overflow ids when
 * unmapped). The header always fits PG_ATTEST_HDR_MAX bytes.
 */
size_t pg_attest_header(u8 *out, size_t cap, struct pg_endpoint *rx,
			struct pg_endpoint *tx)
{
	struct pg_enc e;

	pg_enc_init(&e, out, cap);
	pg_enc_grid(&e, pg_pcid_delivery, sizeof(pg_pcid_delivery), 3);
	pg_enc_array(&e, 4);
	pg_enc_uint(&e, tx->id);
	pg_enc_uint(&e, pid_nr_ns(task_tgid(current), rx->pid_ns));
	pg_enc_uint(&e, from_kuid_munged(rx->user_ns, current_euid()));
	pg_enc_uint(&e, from_kgid_munged(rx->user_ns, current_egid()));
	return e.overflow ? 0 : e.len;
}
