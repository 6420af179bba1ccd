// SPDX-License-Identifier: GPL-2.0-only
/*
 * stress: helpers shared by the stress and fuzz programs. See stress.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

unsigned int st_seconds;
unsigned int st_seed;

void st_init(int argc, char **argv, unsigned int default_seconds)
{
	const char *env = getenv("PG_STRESS_SECONDS");
	int opt;

	st_seconds = env && atoi(env) > 0 ? (unsigned int)atoi(env) :
		     default_seconds;
	st_seed = (unsigned int)time(NULL);
	while ((opt = getopt(argc, argv, "d:s:h")) != -1) {
		switch (opt) {
		case 'd':
			st_seconds = (unsigned int)atoi(optarg);
			break;
		case 's':
			st_seed = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-d SECONDS] [-s SEED]\n"
				"  -d  load phase of each test (default %u,"
				" or $PG_STRESS_SECONDS)\n"
				"  -s  random seed\n", argv[0],
				default_seconds);
			exit(opt == 'h' ? 0 : 2);
		}
	}
	if (st_seconds < 1)
		st_seconds = 1;
	/* pgtest kills a test after PGT_TEST_TIMEOUT s: leave room to check. */
	if (st_seconds > PGT_TEST_TIMEOUT / 2)
		st_seconds = PGT_TEST_TIMEOUT / 2;
	printf("# %s: %u s per test, seed %u\n", argv[0], st_seconds, st_seed);
}

uint64_t st_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

uint64_t st_deadline(unsigned int pct)
{
	return st_now_ms() + (uint64_t)st_seconds * 10 * pct;
}

bool st_running(uint64_t deadline)
{
	return st_now_ms() < deadline;
}

uint64_t st_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

uint64_t st_rand_seed(unsigned int salt)
{
	uint64_t s = ((uint64_t)st_seed << 20) ^ (salt * 0x9e3779b97f4a7c15ull)
		     ^ (uint64_t)getpid();

	return s ? s : 1;
}

void *st_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		pgt_diag("mmap %zu: %s", size, strerror(errno));
		exit(PGT_FAIL);
	}
	return p;
}

int st_nofile(unsigned long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= n)
		return 0;
	rl.rlim_cur = n;
	if (rl.rlim_max < n)
		rl.rlim_max = n;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

int st_wait_children(const pid_t *pids, int n)
{
	int i, status, res = PGT_PASS;

	for (i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		if (waitpid(pids[i], &status, 0) != pids[i]) {
			pgt_diag("waitpid %d: %s", pids[i], strerror(errno));
			res = PGT_FAIL;
		} else if (WIFSIGNALED(status)) {
			pgt_diag("child %d killed by signal %d", pids[i],
				WTERMSIG(status));
			res = PGT_FAIL;
		} else if (WEXITSTATUS(status) != PGT_PASS) {
			pgt_diag("child %d failed", pids[i]);
			res = PGT_FAIL;
		}
	}
	return res;
}

/* ---- errno sets --------------------------------------------------------- */

bool st_write_errno_ok(int err)
{
	switch (err) {
	/* frames */
	case EBADMSG: case EILSEQ: case EPROTO: case EMSGSIZE: case E2BIG:
	case EHOSTUNREACH: case ENOBUFS: case EPERM: case EACCES:
	case EAGAIN: case EPROTONOSUPPORT:
	/* control requests */
	case EINVAL: case EBADRQC: case EEXIST: case ENOENT: case ENOSPC:
	case ESRCH: case EMLINK:
		return true;
	default:
		return false;
	}
}

bool st_read_errno_ok(int err)
{
	return err == EAGAIN || err == EMSGSIZE;
}

/* ---- sequence-numbered frames ------------------------------------------- */

void st_batch(struct pgt_buf *b, const struct pgt_cid *c, unsigned int sender,
	      uint64_t seq0, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		pgt_frame_msg(b, c, ST_TAG(sender, seq0 + i));
}

int st_send_seq(int fd, const struct pgt_cid *c, unsigned int sender,
		struct st_tx *tx, unsigned int n)
{
	static __thread struct pgt_buf b;
	ssize_t w;
	long k;
	int err;

	pgt_buf_reset(&b);
	st_batch(&b, c, sender, tx->next, n);
	tx->writes++;
	w = pgt_write(fd, b.p, b.len);
	if (w == (ssize_t)b.len) {
		tx->accepted += n;
		tx->next += n;
		return 0;
	}
	if (w > 0) {
		k = st_count_items(b.p, w);
		if (k < 0 || k >= n) {
			pgt_diag("short write of %zd bytes: not whole frames", w);
			return -EPROTO;
		}
		tx->accepted += k;
		tx->next += k;
		w = pgt_write(fd, b.p, 0);	/* the kept error */
		if (w >= 0) {
			pgt_diag("short write without a kept error");
			return -EPROTO;
		}
	}
	err = (int)-w;
	switch (err) {
	case EAGAIN:
		tx->eagain++;
		return -EAGAIN;
	case ENOBUFS:
		tx->enobufs++;
		tx->next++;
		return 0;
	case EHOSTUNREACH:
		tx->unreachable++;
		tx->next++;
		return 0;
	default:
		pgt_diag("write of seq %llu: %s", (unsigned long long)tx->next,
			pgt_errname(err));
		return -err;
	}
}

long st_count_items(const uint8_t *p, size_t len)
{
	struct pgt_cb_item it;
	size_t off = 0;
	long n = 0;

	while (off < len) {
		if (pgt_cb_item(p + off, len - off, &it))
			return -1;
		off += it.len;
		n++;
	}
	return n;
}

void st_ledger_init(struct st_ledger *l, const struct pgt_cid *c)
{
	memset(l, 0, sizeof(*l));
	l->cid = *c;
}

static int ledger_control(struct st_ledger *l, const struct pgt_cb_item *it)
{
	struct pgt_reply r = { 0 };
	uint64_t dropped;
	int ret = 0;

	if (pgt_reply_parse(it->p, it->len, &r)) {
		ret = -1;
	} else if (r.id_null && pgt_reply_is(&r, PG_OUTCOME_BROKEN) &&
		   !pgt_cb_map_uint(&r.details, "dropped", &dropped)) {
		if (pgt_reply_errno(&r) != ENOBUFS || !dropped)
			ret = -1;
		l->dropped += dropped;
		l->notices++;
	} else {
		l->replies++;
	}
	pgt_buf_free(&r.raw);
	return ret;
}

static int ledger_frame(struct st_ledger *l, const struct pgt_frame *f)
{
	struct pgt_cb_item tag;
	unsigned int s;
	uint64_t seq;

	if ((l->cid.len && !pgt_cid_eq(&f->cid, &l->cid)) ||
	    pgt_frame_slot(f, 1, &tag))
		return -1;
	if (!pgt_cb_is_uint(&tag)) {	/* not numbered: counted only */
		l->frames++;
		return 0;
	}
	s = ST_TAG_SENDER(tag.arg);
	seq = ST_TAG_SEQ(tag.arg);
	if (s >= ST_SENDERS)
		return -1;
	if (seq < l->next[s]) {
		pgt_diag("sender %u: seq %llu after %llu: out of order", s,
			(unsigned long long)seq,
			(unsigned long long)l->next[s] - 1);
		l->errors++;
	}
	l->next[s] = seq + 1;
	if (l->seen && s == 0 && seq < l->seen_bits) {
		if (l->seen[seq / 8] & (1u << (seq % 8)))
			l->dups++;
		l->seen[seq / 8] |= 1u << (seq % 8);
	}
	l->frames++;
	return 0;
}

int st_ledger_take(struct st_ledger *l, const uint8_t *p, size_t n)
{
	struct pgt_frame f;
	struct pgt_cb_item it;
	size_t off = 0;

	while (off < n) {
		if (pgt_cb_item(p + off, n - off, &it) ||
		    pgt_frame_parse(it.p, it.len, &f))
			goto bad;
		if (pgt_cid_eq(&f.cid, &pgt_cid_control)) {
			if (ledger_control(l, &it))
				goto bad;
		} else if (pgt_cid_eq(&f.cid, &pgt_cid_delivery)) {
			struct pgt_cb_item inner;
			struct pgt_frame g;

			/* attested: grid([42(delivery), [from], frame]) */
			if (pgt_frame_slot(&f, 2, &inner) ||
			    pgt_frame_parse(inner.p, inner.len, &g) ||
			    ledger_frame(l, &g))
				goto bad;
		} else if (ledger_frame(l, &f)) {
			goto bad;
		}
		off += it.len;
	}
	return 0;
bad:
	pgt_diag("read gave an unexpected item at offset %zu of %zu", off, n);
	l->errors++;
	return -1;
}

#define ST_RBUF	(1 << 20)

ssize_t st_ledger_drain(struct st_ledger *l, int fd)
{
	static __thread uint8_t *buf;
	ssize_t total = 0, r;

	if (!buf)
		buf = malloc(ST_RBUF);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct iovec iov = { buf, ST_RBUF };

		/* RWF_NOWAIT: IOCB_NOWAIT, whatever the file's O_NONBLOCK. */
		r = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? total : -errno;
		if (r == 0)
			return total;
		if (st_ledger_take(l, buf, r))
			return -EBADMSG;
		total += r;
	}
}

int st_ledger_settle(struct st_ledger *l, int fd, int quiet_ms)
{
	int r;

	for (;;) {
		ssize_t n = st_ledger_drain(l, fd);

		if (n < 0)
			return (int)n;
		if (n > 0)
			continue;
		r = pgt_wait_in(fd, quiet_ms);
		if (r < 0)
			return r;
		if (r == 0)
			return 0;
	}
}

/* ---- stats -------------------------------------------------------------- */

struct st_field {
	const char *name;
	size_t off;
	bool endpoint;
};

#define F(n, ep) { #n, offsetof(struct st_stats, n), ep }
static const struct st_field st_fields[] = {
	F(frames_sent, false), F(deliveries, false), F(drops, false),
	F(rejected, false), F(no_receiver, false), F(control, false),
	F(endpoints, false), F(routes, false), F(denied, false),
	F(claims, false), F(tokens, false),
	F(sent, true), F(received, true), F(dropped, true),
	F(queued_frames, true), F(queued_bytes, true), F(inflight, true),
	F(receives, true),
};
#undef F

int st_stats(struct pgt_ep *ep, struct st_stats *s)
{
	struct pgt_cb_item module, endpoint;
	struct pgt_reply r = { 0 };
	size_t i;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = pgt_stats(ep, &r, &module, &endpoint);
	for (i = 0; !ret && i < PGT_ARRAY_SIZE(st_fields); i++) {
		const struct st_field *f = &st_fields[i];

		if (pgt_cb_map_uint(f->endpoint ? &endpoint : &module, f->name,
				(uint64_t *)((char *)s + f->off))) {
			pgt_diag("stats: no %s counter %s",
				f->endpoint ? "endpoint" : "module", f->name);
			ret = -PGT_EBADREPLY;
		}
	}
	pgt_buf_free(&r.raw);
	return ret;
}

int st_stats_fresh(struct st_stats *s)
{
	struct pgt_ep ep;
	int ret = pgt_open(&ep, 0);

	if (ret)
		return ret;
	ret = st_stats(&ep, s);
	pgt_close(&ep);
	return ret;
}

/* A gauge read as a huge number went below zero. */
#define ST_SANE		(1ull << 48)

int st_stats_check_monotonic(const struct st_stats *a,
			     const struct st_stats *b)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < PGT_ARRAY_SIZE(st_fields); i++) {
		const struct st_field *f = &st_fields[i];
		uint64_t va = *(const uint64_t *)((const char *)a + f->off);
		uint64_t vb = *(const uint64_t *)((const char *)b + f->off);
		bool gauge = !strcmp(f->name, "endpoints") ||
			     !strcmp(f->name, "routes") ||
			     !strcmp(f->name, "claims") ||
			     !strcmp(f->name, "tokens") || f->endpoint;

		if (vb >= ST_SANE) {
			pgt_diag("stats: %s is %llu: went below zero?", f->name,
				(unsigned long long)vb);
			ret = -1;
		}
		if (!gauge && vb < va) {
			pgt_diag("stats: counter %s went down: %llu -> %llu",
				f->name, (unsigned long long)va,
				(unsigned long long)vb);
			ret = -1;
		}
	}
	return ret;
}

void st_stats_diag(const char *what, const struct st_stats *s)
{
	pgt_diag("%s: frames_sent %llu deliveries %llu drops %llu rejected %llu"
		" no_receiver %llu control %llu endpoints %llu routes %llu",
		what, (unsigned long long)s->frames_sent,
		(unsigned long long)s->deliveries,
		(unsigned long long)s->drops, (unsigned long long)s->rejected,
		(unsigned long long)s->no_receiver,
		(unsigned long long)s->control,
		(unsigned long long)s->endpoints,
		(unsigned long long)s->routes);
}

int st_request0(struct pgt_ep *ep, const char *verb, const struct pgt_cid *c,
		const char *group)
{
	struct pgt_buf req = { 0 };
	size_t len;
	ssize_t w;

	pgt_request_begin(&req, 0, verb);
	pgt_args_pcid(&req, c, group, false);
	w = pgt_send(ep, &req);
	len = req.len;
	pgt_buf_free(&req);
	if (w < 0)
		return (int)w;
	return w == (ssize_t)len ? 0 : -EIO;
}

int st_request_batch(struct pgt_ep *ep, const char *verb, unsigned int n,
		     void (*args)(unsigned int i, struct pgt_buf *out, void *),
		     void *ctx)
{
	struct pgt_buf req = { 0 }, a = { 0 };
	unsigned int i = 0;
	ssize_t w;

	while (i < n) {
		pgt_buf_reset(&req);
		for (; i < n && req.len < PG_WRITE_CHUNK - 512; i++) {
			pgt_buf_reset(&a);
			args(i, &a, ctx);
			pgt_request_begin(&req, 0, verb);
			pgt_cb_raw(&req, a.p, a.len);
		}
		w = pgt_send(ep, &req);
		if (w != (ssize_t)req.len) {
			pgt_diag("%s batch: write %zd of %zu (%s)", verb, w,
				req.len, w < 0 ? pgt_errname(-w) : "short");
			pgt_buf_free(&req);
			pgt_buf_free(&a);
			return w < 0 ? (int)w : -EIO;
		}
	}
	pgt_buf_free(&req);
	pgt_buf_free(&a);
	return 0;
}
