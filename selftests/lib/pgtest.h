/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pgtest: the selftests' own helpers for /dev/promisegrid, in three parts
 * (build/libpgt.a, see Makefile):
 *
 * - pgt_runner.h: the TAP runner (each test forked, under a watchdog,
 *   module parameters restored after it), CHECK macros, the tally;
 * - pgt_codec.h: a deterministic CBOR encoder (grid-cbor), a small
 *   decoder, frames and control replies: an oracle on purpose, apart from
 *   the kernel's and the library's shared codec;
 * - pgt_client.h: endpoints, the control protocol, capabilities, cgroups.
 *
 * Its names begin with pgt_ (PGT_ for macros) so that a program can link
 * it beside libpromisegrid. Only libc, and the library's SHA-256
 * (userland/lib/sha256.c): the tests must not depend on the userland
 * library's client code.
 */
#ifndef PGTEST_H
#define PGTEST_H

#include "pgt_runner.h"
#include "pgt_codec.h"
#include "pgt_client.h"

#endif /* PGTEST_H */
