// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * wc-call: call a function once per argument, all calls in flight at
 * once, and print each reply as it is paired with its call.
 *
 *	wc-call PCID TEXT...
 *
 * Build: cc -o wc-call wc-call.c $(pkg-config --cflags --libs libpromisegrid)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpromisegrid.h>

int main(int argc, char **argv)
{
	struct pg_cid fn, *parents;
	struct pg_result res;
	struct pg *pg;
	int i, err, status = 0;

	if (argc < 3 || pg_cid_parse(argv[1], &fn)) {
		fprintf(stderr, "usage: wc-call PCID TEXT...\n");
		return 2;
	}
	err = pg_open(&pg, 0);
	if (err) {
		fprintf(stderr, "wc-call: open: %s\n", strerror(-err));
		return 1;
	}
	parents = calloc(argc, sizeof(*parents));
	if (!parents)
		return 1;
	/* Send every call first: workers of the group take them in parallel. */
	for (i = 2; i < argc; i++) {
		err = pg_call_send(pg, &fn, argv[i], strlen(argv[i]), &parents[i]);
		if (err) {
			fprintf(stderr, "wc-call: call: %s\n", pg_reason(pg));
			return 1;
		}
	}
	/* Then wait for each reply by its parent link, the call's CID. */
	for (i = 2; i < argc; i++) {
		err = pg_call_wait(pg, &parents[i], 10000, &res);
		if (err) {
			fprintf(stderr, "wc-call: reply: %s\n", pg_reason(pg));
			return 1;
		}
		if (res.outcome == PG_KEPT) {
			printf("C call \"%s\": %.*s", argv[i], (int)res.len,
			       (const char *)res.data);
		} else {
			printf("C call \"%s\" failed: %s\n", argv[i], res.reason);
			status = 1;
		}
		pg_result_free(&res);
	}
	free(parents);
	pg_close(pg);
	return status;
}
