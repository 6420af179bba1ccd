// SPDX-License-Identifier: GPL-2.0-only
/*
 * pgt_runner: the TAP runner of the selftests. See pgt_runner.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgt_runner.h"

/* ---- TAP ---------------------------------------------------------------- */

#define PGT_SKIP_MAX	200
static char *skip_reason;	/* shared with the test's child */

void pgt_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

int pgt_skip(const char *fmt, ...)
{
	va_list ap;

	if (skip_reason) {
		va_start(ap, fmt);
		vsnprintf(skip_reason, PGT_SKIP_MAX, fmt, ap);
		va_end(ap);
	}
	return PGT_SKIP;
}

const char *pgt_errname(long err)
{
	static const struct { int e; const char *n; } names[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
		{ EINTR, "EINTR" }, { EBADF, "EBADF" }, { E2BIG, "E2BIG" },
		{ EAGAIN, "EAGAIN" }, { EFAULT, "EFAULT" }, { EACCES, "EACCES" },
		{ ENOMEM, "ENOMEM" }, { EMFILE, "EMFILE" }, { EMLINK, "EMLINK" },
		{ EEXIST, "EEXIST" }, { EINVAL, "EINVAL" },
		{ ENOSPC, "ENOSPC" }, { ENOSYS, "ENOSYS" },
		{ EBADMSG, "EBADMSG" }, { EILSEQ, "EILSEQ" },
		{ EPROTO, "EPROTO" }, { EMSGSIZE, "EMSGSIZE" },
		{ EHOSTUNREACH, "EHOSTUNREACH" }, { ENOBUFS, "ENOBUFS" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { EBADRQC, "EBADRQC" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EBUSY, "EBUSY" },
		{ EPIPE, "EPIPE" }, { EPROTONOSUPPORT, "EPROTONOSUPPORT" },
		{ PGT_EBADREPLY, "PGT_EBADREPLY(bad or missing reply)" },
	};
	size_t i;

	for (i = 0; i < PGT_ARRAY_SIZE(names); i++)
		if (names[i].e == err)
			return names[i].n;
	return "errno?";
}

/* Every module parameter and its value, to restore after each test. */
#define PGT_PARAMS_MAX	64
struct pgt_params {
	size_t n;
	char name[PGT_PARAMS_MAX][64];
	uint64_t val[PGT_PARAMS_MAX];
};

static void params_save(struct pgt_params *ps)
{
	struct dirent *de;
	DIR *d = opendir(PGT_PARAM_DIR);

	ps->n = 0;
	if (!d)
		return;
	while ((de = readdir(d)) && ps->n < PGT_PARAMS_MAX) {
		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= sizeof(ps->name[0]))
			continue;
		strcpy(ps->name[ps->n], de->d_name);
		if (pgt_param_get(de->d_name, &ps->val[ps->n]) == 0)
			ps->n++;
	}
	closedir(d);
}

static void params_restore(const struct pgt_params *ps)
{
	uint64_t v;
	size_t j;

	for (j = 0; j < ps->n; j++)
		if (pgt_param_get(ps->name[j], &v) == 0 && v != ps->val[j])
			pgt_param_set(ps->name[j], ps->val[j]);
}

static int default_timeout = PGT_TEST_TIMEOUT;

void pgt_set_timeout(int seconds)
{
	if (seconds > 0)
		default_timeout = seconds;
}

/*
 * Seconds one test may take: the environment variable PG_TEST_TIMEOUT (a
 * debug kernel with KASAN and lockdep runs several times slower), else
 * PGT_TEST_TIMEOUT or what pgt_set_timeout() set.
 */
static int test_timeout(void)
{
	const char *env = getenv("PG_TEST_TIMEOUT");
	int s = env ? atoi(env) : 0;

	return s > 0 ? s : default_timeout;
}

/*
 * Waits for the child at most test_timeout() seconds; kills it (its
 * process group) then.
 */
static int wait_child(pid_t pid, int *status)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= test_timeout()) {
			kill(-pid, SIGKILL);
			waitpid(pid, status, 0);
			return 1;
		}
		usleep(5000);
	}
}

/* ---- the tally ---------------------------------------------------------- */

static size_t tally_n, tally_pass, tally_fail, tally_skip;

void pgt_plan(size_t n)
{
	tally_n = n;
	tally_pass = tally_fail = tally_skip = 0;
	printf("TAP version 13\n1..%zu\n", n);
	fflush(stdout);
}

void pgt_result(int res, const char *name, const char *skip)
{
	size_t i = tally_pass + tally_fail + tally_skip + 1;

	if (res == PGT_PASS) {
		printf("ok %zu - %s\n", i, name);
		tally_pass++;
	} else if (res == PGT_SKIP) {
		printf("ok %zu - %s # SKIP %s\n", i, name,
		       skip && skip[0] ? skip : "skipped");
		tally_skip++;
	} else {
		printf("not ok %zu - %s\n", i, name);
		tally_fail++;
	}
	fflush(stdout);
}

/* The end line: as a TAP comment (comment) or as the program's result. */
static int tally_end(bool comment)
{
	if (comment)
		printf("# %zu passed, %zu failed, %zu skipped\n", tally_pass,
		       tally_fail, tally_skip);
	else if (tally_skip)
		printf("%zu passed, %zu failed, %zu skipped\n", tally_pass,
		       tally_fail, tally_skip);
	else
		printf("%zu passed, %zu failed\n", tally_pass, tally_fail);
	fflush(stdout);
	if (tally_fail)
		return 1;
	return tally_skip == tally_n ? 4 : 0;
}

int pgt_end(void)
{
	return tally_end(false);
}

int pgt_run(const struct pgt_test *tests, size_t n)
{
	static struct pgt_params saved;
	size_t i;

	skip_reason = mmap(NULL, PGT_SKIP_MAX, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (skip_reason == MAP_FAILED)
		skip_reason = NULL;
	pgt_plan(n);
	for (i = 0; i < n; i++) {
		int status = 0, res, timedout;
		pid_t pid;

		params_save(&saved);
		if (skip_reason)
			skip_reason[0] = 0;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			setpgid(0, 0);	/* what it starts dies with it */
			alarm(test_timeout() + 5);	/* second watchdog */
			res = tests[i].fn(tests[i].arg);
			fflush(stdout);
			exit(res);
		}
		if (pid < 0) {
			pgt_diag("fork: %s", strerror(errno));
			timedout = -1;
		} else {
			setpgid(pid, 0);	/* as the child does: no race */
			timedout = wait_child(pid, &status);
			kill(-pid, SIGKILL);	/* processes it left */
		}
		params_restore(&saved);
		if (timedout > 0) {
			pgt_diag("timed out after %d s", test_timeout());
			res = PGT_FAIL;
		} else if (timedout < 0) {
			res = PGT_FAIL;
		} else if (WIFSIGNALED(status)) {
			pgt_diag("killed by signal %d (%s)", WTERMSIG(status),
				strsignal(WTERMSIG(status)));
			res = PGT_FAIL;
		} else {
			res = WEXITSTATUS(status);
		}
		pgt_result(res, tests[i].name, skip_reason);
	}
	return tally_end(true);
}

/* ---- module parameters -------------------------------------------------- */

int pgt_param_get(const char *name, uint64_t *v)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PGT_PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	*v = strtoull(buf, NULL, 10);
	return 0;
}

int pgt_param_set(const char *name, uint64_t v)
{
	char path[128], buf[32];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), PGT_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	if (write(fd, buf, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}
