// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * pg claim, grant, redeem, revoke. Rights belong to an endpoint, so these
 * act on the one --fd names: a new endpoint would take them to its grave.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pg.h"

static int need_fd(const struct pg_opts *o)
{
	if (o->fd >= 0)
		return 0;
	return pg_usage("needs --fd N: rights belong to an endpoint that stays "
			"open (exec 3<>/dev/promisegrid; pg %s --fd 3 ...)",
			pg_verb_name);
}

/* One PCID argument and the --fd endpoint: 0 or an exit code. */
static int pcid_and_endpoint(const struct pg_opts *o, int argc, char **argv,
			     struct pg_cid *pcid, struct pg **pg)
{
	if (argc != 1)
		return pg_usage("needs one PCID");
	return pg_pcid_arg(argv[0], pcid) ?: need_fd(o) ?: pg_endpoint(o, pg);
}

static int parse_token(const char *s, uint8_t token[PG_TOKEN_LEN])
{
	unsigned int v;
	size_t i;

	if (strlen(s) != 2 * PG_TOKEN_LEN)
		return -EINVAL;
	for (i = 0; i < PG_TOKEN_LEN; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		token[i] = (uint8_t)v;
	}
	return 0;
}

/* One TOKEN argument and the --fd endpoint: 0 or an exit code. */
static int token_and_endpoint(const struct pg_opts *o, int argc, char **argv,
			      uint8_t token[PG_TOKEN_LEN], struct pg **pg)
{
	if (argc != 1 || parse_token(argv[0], token))
		return pg_usage("needs one TOKEN of %d hex digits",
				2 * PG_TOKEN_LEN);
	return need_fd(o) ?: pg_endpoint(o, pg);
}

static void print_rights(uint32_t rights)
{
	printf("rights %s%s%s\n", rights & PG_RIGHT_SEND ? "s" : "",
	       rights & PG_RIGHT_RECEIVE ? "r" : "",
	       rights & PG_RIGHT_GRANT ? "g" : "");
}

int pg_cmd_claim(struct pg_opts *o, int argc, char **argv)
{
	struct pg_cid pcid;
	uint32_t rights;
	struct pg *pg;
	int r;

	r = pcid_and_endpoint(o, argc, argv, &pcid, &pg);
	if (r)
		return r;
	r = pg_claim(pg, &pcid, &rights);
	if (r)
		r = pg_error("claim", r, pg_reason(pg));
	else
		print_rights(rights);
	pg_close(pg);
	return r;
}

int pg_cmd_grant(struct pg_opts *o, int argc, char **argv)
{
	uint8_t token[PG_TOKEN_LEN];
	struct pg_cid pcid;
	uint32_t rights;
	struct pg *pg;
	size_t i;
	int r;

	r = pcid_and_endpoint(o, argc, argv, &pcid, &pg);
	if (r)
		return r;
	r = pg_grant(pg, &pcid, o->rights, o->ttl_ms, token, &rights);
	if (r) {
		r = pg_error("grant", r, pg_reason(pg));
	} else {
		for (i = 0; i < PG_TOKEN_LEN; i++)
			printf("%02x", token[i]);
		putchar('\n');
	}
	pg_close(pg);
	return r;
}

int pg_cmd_redeem(struct pg_opts *o, int argc, char **argv)
{
	uint8_t token[PG_TOKEN_LEN];
	char s[PG_CID_STR_MAX];
	struct pg_cid pcid;
	uint32_t rights;
	struct pg *pg;
	int r;

	r = token_and_endpoint(o, argc, argv, token, &pg);
	if (r)
		return r;
	r = pg_redeem(pg, token, &pcid, &rights);
	if (r) {
		r = pg_error("redeem", r, pg_reason(pg));
	} else {
		pg_cid_format(&pcid, s, sizeof(s));
		printf("pcid %s\n", s);
		print_rights(rights);
	}
	pg_close(pg);
	return r;
}

int pg_cmd_revoke(struct pg_opts *o, int argc, char **argv)
{
	uint8_t token[PG_TOKEN_LEN];
	uint64_t tokens, holders;
	struct pg *pg;
	int r;

	r = token_and_endpoint(o, argc, argv, token, &pg);
	if (r)
		return r;
	r = pg_revoke(pg, token, &tokens, &holders);
	if (r)
		r = pg_error("revoke", r, pg_reason(pg));
	else
		printf("tokens %" PRIu64 "\nholders %" PRIu64 "\n", tokens, holders);
	pg_close(pg);
	return r;
}
