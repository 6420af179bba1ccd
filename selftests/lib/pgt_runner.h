/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pgt_runner: the selftests' TAP runner (kselftest style).
 *
 * Every test runs in a forked child, in a process group of its own, under
 * a watchdog; the module's parameters (every file in PGT_PARAM_DIR) are
 * restored after each test. Prints "ok N - name", "not ok N - name" or
 * "ok N - name # SKIP reason", and ends with the tally "# N passed, N
 * failed, N skipped". This is the one TAP tally of the C tests: the
 * selftests, the stress and fuzz programs and the userland suite's C
 * client run under pgt_run(); the host tests (selftests/host/test_cbor.c,
 * userland/lib/tests/test_lib.c) use its tally alone. Only libc; its names
 * begin with pgt_ so it links beside libpromisegrid.
 */
#ifndef PGT_RUNNER_H
#define PGT_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#define PGT_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- TAP ---------------------------------------------------------------- */

enum { PGT_PASS = 0, PGT_FAIL = 1, PGT_SKIP = 4 };

struct pgt_test {
	const char *name;
	int (*fn)(const void *arg);
	const void *arg;
};

#define PGT_TEST(f, n)		{ .name = (n), .fn = (f) }
#define PGT_TEST_ARG(f, n, a)	{ .name = (n), .fn = (f), .arg = (a) }

/*
 * Seconds a single test may take before it is killed and fails; the
 * environment variable PG_TEST_TIMEOUT overrides it.
 */
#define PGT_TEST_TIMEOUT		20

/*
 * The tally alone, for programs that judge their tests themselves (the
 * host tests): pgt_plan() prints the TAP header, pgt_result() one test's
 * line (res PGT_PASS, PGT_FAIL or PGT_SKIP with its reason), pgt_end() the
 * end line "N passed, N failed[, N skipped]" and returns the exit status
 * (0, 1, or 4 when every test skipped).
 */
void pgt_plan(size_t n);
void pgt_result(int res, const char *name, const char *skip);
int pgt_end(void);

/*
 * Runs the tests, prints TAP, returns the exit status (0, 1 or 4). Its end
 * line is a TAP comment, "# N passed, N failed, N skipped": in the VM,
 * run_tests.sh prints the run's own.
 */
int pgt_run(const struct pgt_test *tests, size_t n);
void pgt_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Records the reason of a skip; returns PGT_SKIP. */
int pgt_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *pgt_errname(long err);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		pgt_diag("%s:%d: check failed: %s", __FILE__, __LINE__,	\
			#cond);						\
		return PGT_FAIL;						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		pgt_diag("%s:%d: %s == %lld, expected %s == %lld",	\
			__FILE__, __LINE__, #a, _a, #b, _b);		\
		return PGT_FAIL;						\
	}								\
} while (0)

/* expr returns a length or -errno; expects -err. */
#define CHECK_ERR(expr, err) do {					\
	long long _r = (long long)(expr);				\
	if (_r != -(long long)(err)) {					\
		pgt_diag("%s:%d: %s returned %lld (%s), expected -%s",	\
			__FILE__, __LINE__, #expr, _r,			\
			_r < 0 ? pgt_errname(-_r) : "success",		\
			pgt_errname(err));				\
		return PGT_FAIL;						\
	}								\
} while (0)

/*
 * Seconds a test may take when PG_TEST_TIMEOUT is not set in the
 * environment (default PGT_TEST_TIMEOUT).
 */
void pgt_set_timeout(int seconds);

/* Error a helper returns when a reply breaks the control protocol. */
#define PGT_EBADREPLY	4095

/* ---- module parameters -------------------------------------------------- */

#define PGT_PARAM_DIR	"/sys/module/promisegrid/parameters/"
int pgt_param_get(const char *name, uint64_t *v);
int pgt_param_set(const char *name, uint64_t v);

#endif /* PGT_RUNNER_H */
