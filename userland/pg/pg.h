/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/* The pg command: shared by its verbs. */
#ifndef PG_CMD_H
#define PG_CMD_H

#include <libpromisegrid-cbor.h>

/* Exit codes, for scripts. */
enum {
	PG_EXIT_OK = 0,
	PG_EXIT_FAIL = 1,	/* the operation failed: errno and reason printed */
	PG_EXIT_USAGE = 2,
	PG_EXIT_TIMEOUT = 3,	/* nothing came in time */
	PG_EXIT_REMOTE = 4,	/* a called function failed */
};

/* Options every verb may take; each verb says which it uses. */
struct pg_opts {
	int fd;			/* --fd N: an endpoint opened by the caller */
	bool json, raw, attest, stdio;
	long count;		/* --count N, 0: no limit */
	int timeout_ms;		/* --timeout MS, -1: none */
	uint32_t rights;	/* --rights */
	uint64_t ttl_ms;	/* --ttl */
};

struct pg_verb {
	const char *name;
	const char *usage;	/* after "pg NAME " */
	const char *help;	/* what it does, options */
	int (*run)(struct pg_opts *o, int argc, char **argv);
};

extern const char *pg_verb_name;

/* Prints "pg VERB: what: errno name (text): reason" and returns 1 or 3. */
int pg_error(const char *what, int err, const char *reason);
int pg_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The endpoint: --fd's, or a new one. 0 or an exit code. */
int pg_endpoint(const struct pg_opts *o, struct pg **pg);
/* The endpoint of a verb that takes no arguments. 0 or an exit code. */
int pg_endpoint_noargs(const struct pg_opts *o, int argc, struct pg **pg);
/*
 * A pCID argument: a CID in base32 or hex, or the path of a spec file.
 * 0, or PG_EXIT_USAGE after saying why.
 */
int pg_pcid_arg(const char *s, struct pg_cid *c);
/* Prints one delivery (diag, JSON, or raw bytes) and a newline. */
void pg_print_msg(const struct pg_opts *o, const struct pg_msg *m);
/* Reads all of fd into b, at most max bytes; 0 or -errno (-EFBIG). */
int pg_read_all(int fd, struct pg_buf *b, size_t max);
const char *pg_errno_name(int err);

int pg_cmd_claim(struct pg_opts *o, int argc, char **argv);
int pg_cmd_grant(struct pg_opts *o, int argc, char **argv);
int pg_cmd_redeem(struct pg_opts *o, int argc, char **argv);
int pg_cmd_revoke(struct pg_opts *o, int argc, char **argv);
int pg_cmd_call(struct pg_opts *o, int argc, char **argv);
int pg_cmd_serve(struct pg_opts *o, int argc, char **argv);

#endif /* PG_CMD_H */
