// SPDX-License-Identifier: GPL-2.0-only
/*
 * pgtest: TAP runner, CBOR encoder/decoder and /dev/promisegrid helpers
 * for the selftests. See pgtest.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h"

/* ---- TAP ---------------------------------------------------------------- */

#define PG_SKIP_MAX	200
static char *skip_reason;	/* shared with the test's child */

void pg_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

int pg_skip(const char *fmt, ...)
{
	va_list ap;

	if (skip_reason) {
		va_start(ap, fmt);
		vsnprintf(skip_reason, PG_SKIP_MAX, fmt, ap);
		va_end(ap);
	}
	return PG_SKIP;
}

const char *pg_errname(long err)
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
		{ PG_EBADREPLY, "PG_EBADREPLY(bad or missing reply)" },
	};
	size_t i;

	for (i = 0; i < PG_ARRAY_SIZE(names); i++)
		if (names[i].e == err)
			return names[i].n;
	return "errno?";
}

/* Every module parameter and its value, to restore after each test. */
#define PG_PARAMS_MAX	64
struct pg_params {
	size_t n;
	char name[PG_PARAMS_MAX][64];
	uint64_t val[PG_PARAMS_MAX];
};

static void params_save(struct pg_params *ps)
{
	struct dirent *de;
	DIR *d = opendir(PG_PARAM_DIR);

	ps->n = 0;
	if (!d)
		return;
	while ((de = readdir(d)) && ps->n < PG_PARAMS_MAX) {
		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= sizeof(ps->name[0]))
			continue;
		strcpy(ps->name[ps->n], de->d_name);
		if (pg_param_get(de->d_name, &ps->val[ps->n]) == 0)
			ps->n++;
	}
	closedir(d);
}

static void params_restore(const struct pg_params *ps)
{
	uint64_t v;
	size_t j;

	for (j = 0; j < ps->n; j++)
		if (pg_param_get(ps->name[j], &v) == 0 && v != ps->val[j])
			pg_param_set(ps->name[j], ps->val[j]);
}

/*
 * Seconds one test may take: PG_TEST_TIMEOUT, or the environment variable
 * of that name (a debug kernel with KASAN and lockdep runs several times
 * slower).
 */
static int test_timeout(void)
{
	const char *env = getenv("PG_TEST_TIMEOUT");
	int s = env ? atoi(env) : 0;

	return s > 0 ? s : PG_TEST_TIMEOUT;
}

/* Waits for the child at most test_timeout() seconds; kills it then. */
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
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return 1;
		}
		usleep(5000);
	}
}

int pg_run(const struct pg_test *tests, size_t n)
{
	static struct pg_params saved;
	size_t i, pass = 0, fail = 0, skip = 0;

	skip_reason = mmap(NULL, PG_SKIP_MAX, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (skip_reason == MAP_FAILED)
		skip_reason = NULL;
	printf("TAP version 13\n1..%zu\n", n);
	fflush(stdout);
	for (i = 0; i < n; i++) {
		int status = 0, res, timedout;
		pid_t pid;

		params_save(&saved);
		if (skip_reason)
			skip_reason[0] = 0;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			alarm(test_timeout() + 5);	/* second watchdog */
			res = tests[i].fn(tests[i].arg);
			fflush(stdout);
			exit(res);
		}
		if (pid < 0) {
			pg_diag("fork: %s", strerror(errno));
			timedout = -1;
		} else {
			timedout = wait_child(pid, &status);
		}
		params_restore(&saved);
		if (timedout > 0) {
			pg_diag("timed out after %d s", test_timeout());
			res = PG_FAIL;
		} else if (timedout < 0) {
			res = PG_FAIL;
		} else if (WIFSIGNALED(status)) {
			pg_diag("killed by signal %d (%s)", WTERMSIG(status),
				strsignal(WTERMSIG(status)));
			res = PG_FAIL;
		} else {
			res = WEXITSTATUS(status);
		}
		if (res == PG_PASS) {
			printf("ok %zu - %s\n", i + 1, tests[i].name);
			pass++;
		} else if (res == PG_SKIP) {
			printf("ok %zu - %s # SKIP %s\n", i + 1, tests[i].name,
			       skip_reason && skip_reason[0] ? skip_reason :
			       "skipped");
			skip++;
		} else {
			printf("not ok %zu - %s\n", i + 1, tests[i].name);
			fail++;
		}
		fflush(stdout);
	}
	printf("# %zu passed, %zu failed, %zu skipped\n", pass, fail, skip);
	fflush(stdout);
	if (fail)
		return 1;
	return skip == n ? 4 : 0;
}

/* ---- CBOR encoder ------------------------------------------------------- */

void pg_buf_free(struct pg_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void pg_buf_reset(struct pg_buf *b)
{
	b->len = 0;
}

/* Appends n bytes; p must not point into b (b->p may move). */
void cb_raw(struct pg_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p) {
			pg_diag("out of memory");
			exit(PG_FAIL);
		}
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void cb_byte(struct pg_buf *b, uint8_t v)
{
	cb_raw(b, &v, 1);
}

void cb_head(struct pg_buf *b, unsigned int major, uint64_t v)
{
	uint8_t h[9];
	int n, i;

	if (v < 24) {
		cb_byte(b, major << 5 | v);
		return;
	}
	if (v <= 0xff)
		n = 1;
	else if (v <= 0xffff)
		n = 2;
	else if (v <= 0xffffffffu)
		n = 4;
	else
		n = 8;
	h[0] = major << 5 | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27);
	for (i = 0; i < n; i++)
		h[1 + i] = v >> (8 * (n - 1 - i));
	cb_raw(b, h, 1 + n);
}

void cb_uint(struct pg_buf *b, uint64_t v)
{
	cb_head(b, 0, v);
}

void cb_textn(struct pg_buf *b, const char *s, size_t n)
{
	cb_head(b, 3, n);
	cb_raw(b, s, n);
}

void cb_text(struct pg_buf *b, const char *s)
{
	cb_textn(b, s, strlen(s));
}

void cb_bytes(struct pg_buf *b, const void *p, size_t n)
{
	cb_head(b, 2, n);
	cb_raw(b, p, n);
}

void cb_array(struct pg_buf *b, uint64_t n)
{
	cb_head(b, 4, n);
}

void cb_map(struct pg_buf *b, uint64_t n)
{
	cb_head(b, 5, n);
}

void cb_tag(struct pg_buf *b, uint64_t tag)
{
	cb_head(b, 6, tag);
}

void cb_null(struct pg_buf *b)
{
	cb_byte(b, 0xf6);
}

void cb_bool(struct pg_buf *b, bool v)
{
	cb_byte(b, v ? 0xf5 : 0xf4);
}

struct pg_buf *pg_map_put(struct pg_map *m, const char *key)
{
	if (m->n >= PG_MAP_MAX) {
		pg_diag("pg_map_put: too many keys");
		exit(PG_FAIL);
	}
	memset(&m->key[m->n], 0, sizeof(m->key[0]));
	memset(&m->val[m->n], 0, sizeof(m->val[0]));
	cb_text(&m->key[m->n], key);
	return &m->val[m->n++];
}

static int buf_cmp(const struct pg_buf *a, const struct pg_buf *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->p, b->p, n);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

void pg_map_emit(struct pg_buf *out, struct pg_map *m)
{
	int i, j;

	/* insertion sort of the entries by their encoded keys */
	for (i = 1; i < m->n; i++) {
		for (j = i; j > 0 && buf_cmp(&m->key[j - 1], &m->key[j]) > 0;
		     j--) {
			struct pg_buf k = m->key[j], v = m->val[j];

			m->key[j] = m->key[j - 1];
			m->val[j] = m->val[j - 1];
			m->key[j - 1] = k;
			m->val[j - 1] = v;
		}
	}
	cb_map(out, m->n);
	for (i = 0; i < m->n; i++) {
		cb_raw(out, m->key[i].p, m->key[i].len);
		cb_raw(out, m->val[i].p, m->val[i].len);
		pg_buf_free(&m->key[i]);
		pg_buf_free(&m->val[i]);
	}
	m->n = 0;
}

/* ---- CIDs and frames ---------------------------------------------------- */

const struct pg_cid pg_cid_control = {
	.len = PG_KERNEL_PCID_LEN, .b = PG_PCID_CONTROL,
};

const struct pg_cid pg_cid_delivery = {
	.len = PG_KERNEL_PCID_LEN, .b = PG_PCID_DELIVERY,
};

void pg_cid_named(struct pg_cid *c, const char *name)
{
	static const uint8_t prefix[] = PG_CID_RAW_SHA256_PREFIX;
	uint64_t h = 0xcbf29ce484222325ull;
	int i, k;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ull;
	memcpy(c->b, prefix, sizeof(prefix));
	c->len = sizeof(prefix) + 32;
	for (i = 0; i < 4; i++) {
		uint64_t z = (h += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (k = 0; k < 8; k++)
			c->b[sizeof(prefix) + 8 * i + k] = z >> (8 * k);
	}
}

bool pg_cid_eq(const struct pg_cid *a, const struct pg_cid *b)
{
	return a->len == b->len && !memcmp(a->b, b->b, a->len);
}

void cb_cid(struct pg_buf *b, const struct pg_cid *c)
{
	cb_tag(b, PG_CID_TAG);
	cb_head(b, 2, c->len + 1);
	cb_byte(b, 0);
	cb_raw(b, c->b, c->len);
}

void pg_frame_begin(struct pg_buf *b, const struct pg_cid *c, size_t nslots)
{
	static const uint8_t grid[] = PG_GRID_TAG_BYTES;

	cb_raw(b, grid, sizeof(grid));
	cb_array(b, 1 + nslots);
	cb_cid(b, c);
}

void pg_frame_msg(struct pg_buf *b, const struct pg_cid *c, uint64_t seq)
{
	pg_frame_begin(b, c, 2);
	cb_uint(b, seq);
	cb_text(b, "pgtest");
}

size_t pg_frame_msg_len(const struct pg_cid *c, uint64_t seq)
{
	struct pg_buf b = { 0 };
	size_t n;

	pg_frame_msg(&b, c, seq);
	n = b.len;
	pg_buf_free(&b);
	return n;
}

static size_t head_len(uint64_t v)
{
	return v < 24 ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 :
	       v <= 0xffffffffu ? 5 : 9;
}

int pg_frame_sized(struct pg_buf *b, const struct pg_cid *c, size_t total)
{
	static const size_t hl[] = { 1, 2, 3, 5, 9 };
	size_t start = b->len, rem, i, k;

	pg_frame_begin(b, c, 1);
	if (total < b->len - start + 1)
		goto fail;
	rem = total - (b->len - start);
	for (i = 0; i < PG_ARRAY_SIZE(hl); i++) {
		if (rem < hl[i])
			break;
		k = rem - hl[i];
		if (head_len(k) == hl[i]) {
			uint8_t *fill = malloc(k + 1);

			if (!fill)
				goto fail;
			for (i = 0; i < k; i++)
				fill[i] = (uint8_t)(i * 7);
			cb_bytes(b, fill, k);
			free(fill);
			return 0;
		}
	}
fail:
	b->len = start;
	return -1;
}

/* ---- CBOR decoder ------------------------------------------------------- */

static int parse_head(const uint8_t *p, size_t n, unsigned int *major,
		      unsigned int *ai, uint64_t *arg, size_t *hlen)
{
	size_t k, i;

	if (n < 1)
		return -1;
	*major = p[0] >> 5;
	*ai = p[0] & 0x1f;
	if (*ai < 24) {
		*arg = *ai;
		*hlen = 1;
		return 0;
	}
	if (*ai > 27)
		return -1;	/* reserved or indefinite */
	k = (size_t)1 << (*ai - 24);
	if (n < 1 + k)
		return -1;
	*arg = 0;
	for (i = 0; i < k; i++)
		*arg = *arg << 8 | p[1 + i];
	*hlen = 1 + k;
	return 0;
}

int cb_item(const uint8_t *p, size_t n, struct cb_item *it)
{
	uint64_t need = 1;
	size_t pos = 0;

	while (need) {
		unsigned int major, ai;
		uint64_t arg;
		size_t hlen;

		if (parse_head(p + pos, n - pos, &major, &ai, &arg, &hlen))
			return -1;
		if (pos == 0) {
			it->p = p;
			it->hlen = hlen;
			it->major = major;
			it->ai = ai;
			it->arg = arg;
		}
		pos += hlen;
		need--;
		switch (major) {
		case 2:
		case 3:
			if (arg > n - pos)
				return -1;
			pos += arg;
			break;
		case 4:
			need += arg;
			break;
		case 5:
			need += 2 * arg;
			break;
		case 6:
			need++;
			break;
		}
		if (need > n - pos)
			return -1;
	}
	it->len = pos;
	return 0;
}

int cb_child(const struct cb_item *parent, size_t idx, struct cb_item *out)
{
	const uint8_t *p = parent->p + parent->hlen;
	const uint8_t *end = parent->p + parent->len;
	uint64_t count;
	size_t i;

	if (parent->major == 4)
		count = parent->arg;
	else if (parent->major == 5)
		count = 2 * parent->arg;
	else if (parent->major == 6)
		count = 1;
	else
		return -1;
	if (idx >= count)
		return -1;
	for (i = 0;; i++) {
		if (cb_item(p, end - p, out))
			return -1;
		if (i == idx)
			return 0;
		p += out->len;
	}
}

bool cb_is_text(const struct cb_item *it, const char *s)
{
	size_t n = strlen(s);

	return it->major == 3 && it->arg == n &&
	       !memcmp(it->p + it->hlen, s, n);
}

bool cb_is_null(const struct cb_item *it)
{
	return it->p[0] == 0xf6;
}

bool cb_is_uint(const struct cb_item *it)
{
	return it->major == 0;
}

int cb_map_get(const struct cb_item *map, const char *key,
	       struct cb_item *val)
{
	struct cb_item k;
	size_t i;

	if (map->major != 5)
		return -1;
	for (i = 0; i < map->arg; i++) {
		if (cb_child(map, 2 * i, &k))
			return -1;
		if (cb_is_text(&k, key))
			return cb_child(map, 2 * i + 1, val);
	}
	return -1;
}

int cb_map_uint(const struct cb_item *map, const char *key, uint64_t *v)
{
	struct cb_item it;

	if (cb_map_get(map, key, &it) || !cb_is_uint(&it))
		return -1;
	*v = it.arg;
	return 0;
}

int pg_frame_parse(const uint8_t *p, size_t n, struct pg_frame *f)
{
	static const uint8_t grid[] = PG_GRID_TAG_BYTES;
	struct cb_item s0, bs;

	if (n < sizeof(grid) || memcmp(p, grid, sizeof(grid)))
		return -1;
	if (cb_item(p, n, &f->item) || f->item.len != n)
		return -1;
	if (cb_child(&f->item, 0, &f->arr) || f->arr.major != 4 ||
	    f->arr.arg < 1)
		return -1;
	if (cb_child(&f->arr, 0, &s0) || s0.major != 6 ||
	    s0.arg != PG_CID_TAG || cb_child(&s0, 0, &bs) || bs.major != 2 ||
	    bs.arg < 1 || bs.arg - 1 > PG_CID_MAX || bs.p[bs.hlen] != 0)
		return -1;
	f->cid.len = bs.arg - 1;
	memcpy(f->cid.b, bs.p + bs.hlen + 1, f->cid.len);
	f->nslots = f->arr.arg - 1;
	return 0;
}

int pg_frame_slot(const struct pg_frame *f, size_t i, struct cb_item *out)
{
	return cb_child(&f->arr, i, out);
}

void pg_frame_cid(const uint8_t *p, size_t n, struct pg_cid *c)
{
	static const uint8_t prefix[] = PG_CID_RAW_SHA256_PREFIX;

	memcpy(c->b, prefix, sizeof(prefix));
	c->len = sizeof(prefix) + 32;
	pg_sha256(p, n, c->b + sizeof(prefix));
}

int pg_reply_parse(const uint8_t *p, size_t n, struct pg_reply *r)
{
	struct pg_frame f;
	struct cb_item id;

	pg_buf_reset(&r->raw);
	cb_raw(&r->raw, p, n);
	r->got = false;
	r->has_parent = false;
	if (pg_frame_parse(r->raw.p, n, &f) ||
	    !pg_cid_eq(&f.cid, &pg_cid_control) ||
	    (f.nslots != 3 && f.nslots != 4))
		return -1;
	if (pg_frame_slot(&f, 1, &id) || pg_frame_slot(&f, 2, &r->outcome) ||
	    pg_frame_slot(&f, 3, &r->details))
		return -1;
	if (r->outcome.major != 3 || r->details.major != 5)
		return -1;
	if (f.nslots == 4) {
		struct cb_item link, bs;

		if (pg_frame_slot(&f, 4, &link) || link.major != 6 ||
		    link.arg != PG_CID_TAG || cb_child(&link, 0, &bs) ||
		    bs.major != 2 || bs.arg < 2 || bs.arg - 1 > PG_CID_MAX ||
		    bs.p[bs.hlen] != 0)
			return -1;
		r->parent.len = bs.arg - 1;
		memcpy(r->parent.b, bs.p + bs.hlen + 1, r->parent.len);
		r->has_parent = true;
	}
	if (cb_is_null(&id)) {
		r->id_null = true;
		r->id = 0;
	} else if (cb_is_uint(&id)) {
		r->id_null = false;
		r->id = id.arg;
	} else {
		return -1;
	}
	r->got = true;
	return 0;
}

bool pg_reply_is(const struct pg_reply *r, const char *outcome)
{
	return r->got && cb_is_text(&r->outcome, outcome);
}

long pg_reply_errno(const struct pg_reply *r)
{
	uint64_t v;

	if (!r->got || cb_map_uint(&r->details, "errno", &v))
		return -1;
	return v;
}

void pg_reply_diag(const struct pg_reply *r)
{
	char hex[3 * 96 + 1];
	size_t i, n = r->raw.len < 96 ? r->raw.len : 96;

	for (i = 0; i < n; i++)
		sprintf(hex + 3 * i, "%02x ", r->raw.p[i]);
	hex[3 * n] = 0;
	if (!r->got) {
		pg_diag("no reply (%zu bytes: %s)", r->raw.len, hex);
		return;
	}
	pg_diag("reply id %s%llu outcome %.*s errno %ld: %s",
		r->id_null ? "null " : "", (unsigned long long)r->id,
		(int)r->outcome.arg, (const char *)r->outcome.p +
		r->outcome.hlen, pg_reply_errno(r), hex);
}

/* ---- endpoints ---------------------------------------------------------- */

#define PG_RBUF		((2 << 20) + 4096)

int pg_open(struct pg_ep *ep, int flags)
{
	memset(ep, 0, sizeof(*ep));
	ep->fd = open(PG_DEVICE_PATH, O_RDWR | O_CLOEXEC | flags);
	if (ep->fd < 0) {
		int e = errno;

		pg_diag("open %s: %s", PG_DEVICE_PATH, strerror(e));
		return -e;
	}
	return 0;
}

void pg_close(struct pg_ep *ep)
{
	if (ep->fd >= 0)
		close(ep->fd);
	ep->fd = -1;
	pg_buf_free(&ep->pend);
}

ssize_t pg_write(int fd, const void *p, size_t n)
{
	ssize_t r = write(fd, p, n);

	return r < 0 ? -errno : r;
}

ssize_t pg_read(int fd, void *p, size_t n)
{
	ssize_t r = read(fd, p, n);

	return r < 0 ? -errno : r;
}

ssize_t pg_send(struct pg_ep *ep, const struct pg_buf *b)
{
	return pg_write(ep->fd, b->p, b->len);
}

ssize_t pg_send_msg(struct pg_ep *ep, const struct pg_cid *c, uint64_t seq)
{
	struct pg_buf b = { 0 };
	ssize_t r;

	pg_frame_msg(&b, c, seq);
	r = pg_send(ep, &b);
	pg_buf_free(&b);
	return r;
}

int pg_wait_in(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r;

	do {
		r = poll(&pfd, 1, ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r > 0 && (pfd.revents & POLLIN);
}

/* Reads whatever is queued (waiting up to ms) onto ep->pend. */
static ssize_t ep_fill(struct pg_ep *ep, int ms)
{
	static uint8_t *tmp;
	ssize_t r;

	if (!tmp)
		tmp = malloc(PG_RBUF);
	if (!tmp)
		return -ENOMEM;
	r = pg_wait_in(ep->fd, ms);
	if (r <= 0)
		return r ? r : -ETIMEDOUT;
	r = pg_read(ep->fd, tmp, PG_RBUF);
	if (r > 0)
		cb_raw(&ep->pend, tmp, r);
	return r == 0 ? -ENODATA : r;
}

ssize_t pg_recv(struct pg_ep *ep, struct pg_buf *out, int ms)
{
	struct cb_item it;

	if (!ep->pend.len) {
		ssize_t r = ep_fill(ep, ms);

		if (r < 0)
			return r;
	}
	if (cb_item(ep->pend.p, ep->pend.len, &it)) {
		pg_diag("read returned bytes that are not a CBOR sequence");
		return -EBADMSG;
	}
	pg_buf_reset(out);
	cb_raw(out, it.p, it.len);
	memmove(ep->pend.p, ep->pend.p + it.len, ep->pend.len - it.len);
	ep->pend.len -= it.len;
	return it.len;
}

static void diag_bytes(const char *what, const struct pg_buf *b)
{
	char hex[3 * 64 + 1];
	size_t i, n = b->len < 64 ? b->len : 64;

	for (i = 0; i < n; i++)
		sprintf(hex + 3 * i, "%02x ", b->p[i]);
	hex[3 * n] = 0;
	pg_diag("%s (%zu bytes): %s%s", what, b->len, hex,
		b->len > n ? "..." : "");
}

int pg_expect(struct pg_ep *ep, const struct pg_buf *want)
{
	struct pg_buf got = { 0 };
	ssize_t r = pg_recv(ep, &got, PG_WAIT_MS);
	int ret = 0;

	if (r < 0) {
		pg_diag("expected a delivery, got %s", pg_errname(-r));
		ret = -1;
	} else if (got.len != want->len || memcmp(got.p, want->p, got.len)) {
		diag_bytes("expected", want);
		diag_bytes("got", &got);
		ret = -1;
	}
	pg_buf_free(&got);
	return ret;
}

int pg_expect_msg(struct pg_ep *ep, const struct pg_cid *c, uint64_t seq)
{
	struct pg_buf want = { 0 };
	int r;

	pg_frame_msg(&want, c, seq);
	r = pg_expect(ep, &want);
	pg_buf_free(&want);
	return r;
}

static ssize_t read_nonblock(struct pg_ep *ep)
{
	static uint8_t *tmp;
	int fl = fcntl(ep->fd, F_GETFL);
	ssize_t r;

	if (!tmp)
		tmp = malloc(PG_RBUF);
	if (!tmp)
		return -ENOMEM;
	fcntl(ep->fd, F_SETFL, fl | O_NONBLOCK);
	r = pg_read(ep->fd, tmp, PG_RBUF);
	fcntl(ep->fd, F_SETFL, fl);
	if (r > 0)
		cb_raw(&ep->pend, tmp, r);
	return r;
}

bool pg_empty(struct pg_ep *ep)
{
	ssize_t r;

	if (ep->pend.len) {
		diag_bytes("queue not empty, pending", &ep->pend);
		return false;
	}
	r = read_nonblock(ep);
	if (r == -EAGAIN)
		return true;
	if (r > 0)
		diag_bytes("queue not empty, read", &ep->pend);
	else
		pg_diag("non-blocking read: %zd (%s), expected EAGAIN", r,
			pg_errname(-r));
	return false;
}

int pg_drain(struct pg_ep *ep)
{
	struct pg_buf b = { 0 };
	int n = 0;

	while (read_nonblock(ep) > 0)
		;
	while (pg_recv(ep, &b, 0) > 0)
		n++;
	pg_buf_free(&b);
	return n;
}

/* ---- the control protocol ----------------------------------------------- */

uint64_t pg_next_id(void)
{
	static uint64_t id = 1000;

	return ++id;
}

static bool reply_matches(const struct pg_buf *b, bool id_null, uint64_t id,
			  struct pg_reply *r)
{
	if (pg_reply_parse(b->p, b->len, r))
		return false;
	if (r->id_null != id_null || r->id != id) {
		r->got = false;
		return false;
	}
	return true;
}

int pg_await_reply(struct pg_ep *ep, bool id_null, uint64_t id,
		   struct pg_reply *r, int ms)
{
	struct pg_buf hold = { 0 }, item = { 0 };
	int ret = -ETIMEDOUT;
	ssize_t n;

	while ((n = pg_recv(ep, &item, ms)) > 0) {
		if (reply_matches(&item, id_null, id, r)) {
			ret = 0;
			break;
		}
		cb_raw(&hold, item.p, item.len);
	}
	if (n < 0)
		ret = n;
	if (ret)
		r->got = false;
	/* put back what was not ours, in front of the rest */
	cb_raw(&hold, ep->pend.p, ep->pend.len);
	pg_buf_free(&ep->pend);
	ep->pend = hold;
	pg_buf_free(&item);
	return ret;
}

static int check_reply(int wr, struct pg_reply *r)
{
	if (!r->got) {
		pg_diag("request: write gave %d (%s) but no reply came", wr,
			wr < 0 ? pg_errname(-wr) : "ok");
		return -PG_EBADREPLY;
	}
	if (wr == 0 && pg_reply_is(r, PG_OUTCOME_KEPT))
		return 0;
	if (wr < 0 && (pg_reply_is(r, PG_OUTCOME_NOT_PROMISED) ||
		       pg_reply_is(r, PG_OUTCOME_UNAVAILABLE) ||
		       pg_reply_is(r, PG_OUTCOME_MALFORMED)) &&
	    pg_reply_errno(r) == -wr)
		return wr;
	pg_diag("request: write gave %d (%s) but the reply disagrees", wr,
		wr < 0 ? pg_errname(-wr) : "ok");
	pg_reply_diag(r);
	return -PG_EBADREPLY;
}

int pg_request_raw(struct pg_ep *ep, const struct pg_buf *req, bool id_null,
		   uint64_t id, struct pg_reply *r)
{
	ssize_t w = pg_send(ep, req);
	struct pg_cid cid;
	int wr;

	if (w >= 0 && (size_t)w != req->len) {
		pg_diag("request: short write %zd of %zu", w, req->len);
		return -PG_EBADREPLY;
	}
	wr = w < 0 ? (int)w : 0;
	/* every failed request gets a reply, and so does every id but 0 */
	if (!id_null && id == 0 && wr == 0) {
		r->got = false;
		return 0;
	}
	pg_await_reply(ep, id_null, id, r, PG_WAIT_MS);
	/* every reply names the request's exact bytes as its parent */
	pg_frame_cid(req->p, req->len, &cid);
	if (r->got && (!r->has_parent || !pg_cid_eq(&r->parent, &cid))) {
		pg_diag("request: the reply's parent is not the request's CID");
		pg_reply_diag(r);
		return -PG_EBADREPLY;
	}
	return check_reply(wr, r);
}

int pg_request(struct pg_ep *ep, uint64_t id, const char *verb,
	       const struct pg_buf *args, struct pg_reply *r)
{
	struct pg_buf req = { 0 };
	int ret;

	pg_request_begin(&req, id, verb);
	if (args)
		cb_raw(&req, args->p, args->len);
	else
		cb_map(&req, 0);
	ret = pg_request_raw(ep, &req, false, id, r);
	pg_buf_free(&req);
	return ret;
}

bool pg_reply_failed(const struct pg_reply *r, long err, const char *outcome)
{
	struct cb_item reason;

	if (pg_reply_is(r, outcome) && pg_reply_errno(r) == err &&
	    !cb_map_get(&r->details, "reason", &reason) && reason.major == 3)
		return true;
	pg_diag("expected a reply %s with errno %s and a reason", outcome,
		pg_errname(err));
	pg_reply_diag(r);
	return false;
}

void pg_request_begin(struct pg_buf *b, uint64_t id, const char *verb)
{
	pg_frame_begin(b, &pg_cid_control, 3);
	cb_uint(b, id);
	cb_text(b, verb);
}

int pg_hello(struct pg_ep *ep, uint64_t *endpoint)
{
	struct pg_reply r = { 0 };
	int ret = pg_request(ep, pg_next_id(), PG_VERB_HELLO, NULL, &r);

	if (ret == 0 && cb_map_uint(&r.details, "endpoint", endpoint)) {
		pg_diag("hello: no endpoint in the reply");
		pg_reply_diag(&r);
		ret = -PG_EBADREPLY;
	}
	pg_buf_free(&r.raw);
	return ret;
}

void pg_args_pcid(struct pg_buf *out, const struct pg_cid *c,
		  const char *group, bool attest)
{
	struct pg_map m = { 0 };

	cb_cid(pg_map_put(&m, "pcid"), c);
	if (group)
		cb_text(pg_map_put(&m, "group"), group);
	if (attest)
		cb_bool(pg_map_put(&m, "attest"), true);
	pg_map_emit(out, &m);
}

/* A request whose kept details are {}; frees args. */
static int empty_kept(struct pg_ep *ep, const char *verb, struct pg_buf *args)
{
	struct pg_reply r = { 0 };
	int ret;

	ret = pg_request(ep, pg_next_id(), verb, args, &r);
	if (ret == 0 && r.details.arg != 0) {
		pg_diag("%s: kept details are not {}", verb);
		pg_reply_diag(&r);
		ret = -PG_EBADREPLY;
	}
	pg_buf_free(args);
	pg_buf_free(&r.raw);
	return ret;
}

static int pcid_request(struct pg_ep *ep, const char *verb,
			const struct pg_cid *c, const char *group, bool attest)
{
	struct pg_buf args = { 0 };

	pg_args_pcid(&args, c, group, attest);
	return empty_kept(ep, verb, &args);
}

int pg_receive(struct pg_ep *ep, const struct pg_cid *c, const char *group,
	       bool attest)
{
	return pcid_request(ep, PG_VERB_RECEIVE, c, group, attest);
}

int pg_unreceive(struct pg_ep *ep, const struct pg_cid *c, const char *group)
{
	return pcid_request(ep, PG_VERB_UNRECEIVE, c, group, false);
}

int pg_carry(struct pg_ep *ep, uint64_t to, const struct pg_buf *frame)
{
	struct pg_buf args = { 0 };
	struct pg_map m = { 0 };

	cb_uint(pg_map_put(&m, "to"), to);
	cb_bytes(pg_map_put(&m, "frame"), frame->p, frame->len);
	pg_map_emit(&args, &m);
	return empty_kept(ep, PG_VERB_CARRY, &args);
}

int pg_accept_carry(struct pg_ep *ep, bool on)
{
	return pg_accept(ep, "carry", on);
}

int pg_accept(struct pg_ep *ep, const char *key, bool on)
{
	struct pg_reply r = { 0 };
	struct pg_buf args = { 0 };
	struct pg_map m = { 0 };
	int err;

	cb_bool(pg_map_put(&m, key), on);
	pg_map_emit(&args, &m);
	err = pg_request(ep, pg_next_id(), PG_VERB_ACCEPT, &args, &r);
	pg_buf_free(&args);
	return err;
}

int pg_stats(struct pg_ep *ep, struct pg_reply *r, struct cb_item *module,
	     struct cb_item *endpoint)
{
	int ret = pg_request(ep, pg_next_id(), PG_VERB_STATS, NULL, r);

	if (ret)
		return ret;
	if (cb_map_get(&r->details, "module", module) || module->major != 5 ||
	    cb_map_get(&r->details, "endpoint", endpoint) ||
	    endpoint->major != 5) {
		pg_diag("stats: no module and endpoint maps");
		pg_reply_diag(r);
		return -PG_EBADREPLY;
	}
	return 0;
}

/* ---- capabilities ------------------------------------------------------- */

int pg_claim(struct pg_ep *ep, const struct pg_cid *c)
{
	struct pg_reply r = { 0 };
	struct pg_buf args = { 0 };
	uint64_t rights = 0;
	int err;

	pg_args_pcid(&args, c, NULL, false);
	err = pg_request(ep, pg_next_id(), PG_VERB_CLAIM, &args, &r);
	if (!err && (cb_map_uint(&r.details, "rights", &rights) ||
		     rights != PG_RIGHTS_ALL))
		err = -PG_EBADREPLY;
	pg_buf_free(&args);
	return err;
}

int pg_grant(struct pg_ep *ep, const struct pg_cid *c, uint32_t rights,
	     uint64_t ttl_ms, struct pg_token *t)
{
	struct pg_reply r = { 0 };
	struct pg_buf args = { 0 };
	struct pg_map m = { 0 };
	struct cb_item tok;
	uint64_t got = 0;
	int err;

	cb_cid(pg_map_put(&m, "pcid"), c);
	if (rights)
		cb_uint(pg_map_put(&m, "rights"), rights);
	if (ttl_ms)
		cb_uint(pg_map_put(&m, "ttl_ms"), ttl_ms);
	pg_map_emit(&args, &m);
	err = pg_request(ep, pg_next_id(), PG_VERB_GRANT, &args, &r);
	pg_buf_free(&args);
	if (err)
		return err;
	if (cb_map_get(&r.details, "token", &tok) || tok.major != 2 ||
	    tok.arg != PG_TOKEN_LEN || cb_map_uint(&r.details, "rights", &got) ||
	    (rights && got != rights))
		return -PG_EBADREPLY;
	memcpy(t->b, tok.p + tok.hlen, PG_TOKEN_LEN);
	t->len = PG_TOKEN_LEN;
	return 0;
}

int pg_token_request(struct pg_ep *ep, const char *verb,
		     const struct pg_token *t, struct pg_reply *r)
{
	struct pg_buf args = { 0 };
	struct pg_map m = { 0 };
	int err;

	cb_bytes(pg_map_put(&m, "token"), t->b, t->len);
	pg_map_emit(&args, &m);
	err = pg_request(ep, pg_next_id(), verb, &args, r);
	pg_buf_free(&args);
	return err;
}

int pg_redeem(struct pg_ep *ep, const struct pg_token *t)
{
	struct pg_reply r = { 0 };

	return pg_token_request(ep, PG_VERB_REDEEM, t, &r);
}

int pg_revoke(struct pg_ep *ep, const struct pg_token *t, uint64_t *tokens,
	      uint64_t *holders)
{
	struct pg_reply r = { 0 };
	int err = pg_token_request(ep, PG_VERB_REVOKE, t, &r);

	if (err)
		return err;
	if (cb_map_uint(&r.details, "tokens", tokens) ||
	    cb_map_uint(&r.details, "holders", holders))
		return -PG_EBADREPLY;
	return 0;
}

/* ---- cgroup v2 ----------------------------------------------------------- */

int pg_cg_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -EIO;
	close(fd);
	return ret;
}

long long pg_cg_current(const char *name)
{
	char path[128], buf[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PG_CG_ROOT "/%s/memory.current", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoll(buf) : -1;
}

int pg_cg_enter(const char *name)
{
	char path[128], pid[16];

	snprintf(path, sizeof(path), PG_CG_ROOT "/%s", name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), PG_CG_ROOT "/%s/cgroup.procs", name);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return pg_cg_write(path, pid);
}

/* ---- module parameters -------------------------------------------------- */

int pg_param_get(const char *name, uint64_t *v)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PG_PARAM_DIR "%s", name);
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

int pg_param_set(const char *name, uint64_t v)
{
	char path[128], buf[32];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), PG_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	if (write(fd, buf, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}
