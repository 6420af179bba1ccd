// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * cbor-check: validate stdin as exactly one CBOR item with the module's
 * own validator (common/pg_cbor.c, common/pg_envelope.c).
 * Exit 0 if valid, 1 if not (reason on stderr), 2 on usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg_cbor.h"
#include "pg_envelope.h"

static const char usage[] =
	"usage: cbor-check [--deterministic] [--links] [--frame] [--max-depth N]\n"
	"                  [--max-size N]\n"
	"Exit 0 iff stdin is exactly one well-formed CBOR item within the limits\n"
	"(default max-depth 16, max-size 1048576).\n"
	"  --deterministic  also require RFC 8949 core deterministic encoding\n"
	"  --links          also require every tag 42 to hold 0x00 and a CID\n"
	"  --frame          also require a valid PromiseGrid grid envelope (implies\n"
	"                   both; a refusal names the errno a write would get)\n";

static int parse_num(const char *s, unsigned long long max,
		     unsigned long long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out > max)
		return -1;
	return 0;
}

/* The errno a write of a refused frame gets (pg_env_errno()'s). */
static const char *errno_name(int err)
{
	switch (-pg_env_errno(err)) {
	case E2BIG:
		return "E2BIG";
	case EMSGSIZE:
		return "EMSGSIZE";
	case EILSEQ:
		return "EILSEQ";
	case EPROTO:
		return "EPROTO";
	case EBADMSG:
		return "EBADMSG";
	default:
		return "?";
	}
}

static int fail(const char *reason, size_t off, int with_off)
{
	if (with_off)
		fprintf(stderr, "cbor-check: %s at byte %zu\n", reason, off);
	else
		fprintf(stderr, "cbor-check: %s\n", reason);
	return 1;
}

/* A refused frame: the reason, where if known, and the write's errno. */
static int fail_frame(int err, size_t off, int with_off)
{
	if (with_off)
		fprintf(stderr, "cbor-check: %s at byte %zu (%s)\n",
			pg_env_strerror(err), off, errno_name(err));
	else
		fprintf(stderr, "cbor-check: %s (%s)\n", pg_env_strerror(err),
			errno_name(err));
	return 1;
}

int main(int argc, char **argv)
{
	struct pg_cbor_limits lim = { 16, 1048576 };
	unsigned int flags = 0;
	int frame = 0, i, err;
	unsigned long long v;
	struct pg_envelope env;
	size_t cap, n = 0, got, off;
	uint8_t *buf;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--deterministic")) {
			flags |= PG_CBOR_DETERMINISTIC;
		} else if (!strcmp(argv[i], "--links")) {
			flags |= PG_CBOR_LINKS;
		} else if (!strcmp(argv[i], "--frame")) {
			frame = 1;
		} else if (!strcmp(argv[i], "--max-depth")) {
			if (parse_num(argv[++i], PG_CBOR_DEPTH_MAX, &v) || !v)
				goto usage_err;
			lim.max_depth = (uint32_t)v;
		} else if (!strcmp(argv[i], "--max-size")) {
			if (parse_num(argv[++i], (size_t)-2, &v))
				goto usage_err;
			lim.max_size = (size_t)v;
		} else {
			goto usage_err;
		}
	}

	/* read at most max-size + 1 bytes: one more proves "too large" */
	cap = lim.max_size + 1;
	got = cap < 65536 ? cap : 65536;
	buf = malloc(got);
	if (!buf)
		return fail("out of memory", 0, 0);
	while (n < cap) {
		size_t want = cap - n, r;

		if (n == got) {
			uint8_t *nb;

			got = got > cap / 2 ? cap : got * 2;
			nb = realloc(buf, got);
			if (!nb)
				return fail("out of memory", 0, 0);
			buf = nb;
		}
		if (want > got - n)
			want = got - n;
		r = fread(buf + n, 1, want, stdin);
		n += r;
		if (r < want) {
			if (ferror(stdin))
				return fail("read error", 0, 0);
			break;
		}
	}
	if (!n)
		return fail("empty input", 0, 0);

	if (frame) {
		err = pg_env_parse(buf, n, &lim, &env);
		if (err <= -PG_CBOR_EMAX)
			return fail_frame(err, 0, 0);
		if (err) {
			/* rerun the CBOR pass for the error offset */
			flags |= PG_CBOR_DETERMINISTIC | PG_CBOR_LINKS;
			if (pg_cbor_validate(buf, n, &lim, flags, &off) != err)
				return fail_frame(err, 0, 0);
			return fail_frame(err, off, 1);
		}
		off = env.frame_len;
	} else {
		err = pg_cbor_validate(buf, n, &lim, flags, &off);
		if (err)
			return fail(pg_cbor_strerror(err), off, 1);
	}
	if (off != n)
		return fail(pg_cbor_strerror(-PG_CBOR_ETRAILING), off, 1);
	free(buf);
	return 0;

usage_err:
	fputs(usage, stderr);
	return 2;
}
