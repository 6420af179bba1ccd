// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: frame fuzzing (docs/abi.md "Frames", "Writes", "The control
 * protocol"). Several processes write random bytes, mutated valid frames,
 * random control requests and sequences of them to the device for a
 * bounded time, while receivers drain and a checker polls "stats". Every
 * write must succeed (in whole or in part) or fail with a documented
 * errno; every read must give whole grid frames; the module's counters
 * must never go down, and at the end must equal what the writers counted:
 * frames_sent the frames in accepted prefixes, rejected the failed writes
 * and short writes, and endpoints, routes, claims and tokens their values
 * from before. The guest runner checks the kernel log afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "stress.h"

#define FUZZERS		4
#define FUZZ_PCIDS	8
#define MAX_INPUT	(96 << 10)

struct fuzz_count {
	uint64_t writes, accepted_frames, accepted_bytes, rejected, deferred;
	uint64_t eagain, efault, short_writes, short_busy, reads, read_bytes;
	uint64_t bad, ep_sent;
	uint64_t by_errno[160];
};

struct fuzz_shared {
	volatile int done;
	uint64_t drain_ids[FUZZ_PCIDS];
	struct fuzz_count c[FUZZERS];
	uint64_t drained, drain_bad;
};

static struct pgt_cid fuzz_cid(unsigned int i)
{
	char name[32];
	struct pgt_cid c;

	snprintf(name, sizeof(name), "fuzz-%u", i % FUZZ_PCIDS);
	pgt_cid_named(&c, name);
	return c;
}

/* ---- generators --------------------------------------------------------- */

static const char *const verbs[] = {
	"hello", "receive", "unreceive", "carry", "stats", "claim", "grant",
	"redeem", "revoke", "accept", "promises", "frobnicate", "",
};
static const char *const keys[] = {
	"pcid", "group", "attest", "to", "frame", "rights", "ttl_ms", "token",
	"carry", "unread", "x",
};

static void gen_value(struct pgt_buf *b, uint64_t *r, int depth);

static void gen_cid(struct pgt_buf *b, uint64_t *r)
{
	struct pgt_cid c;

	static const uint8_t retired[PG_KERNEL_PCID_LEN] = PG_PCID_CONTROL_V2;

	switch (st_rand(r) % 5) {
	case 0:
		c = pgt_cid_control;
		break;
	case 1:
		c = pgt_cid_delivery;
		break;
	case 2:
		c.len = sizeof(retired);
		memcpy(c.b, retired, c.len);
		break;
	default:
		c = fuzz_cid(st_rand(r));
	}
	if (st_rand(r) % 8 == 0)
		c.len = st_rand(r) % (PG_CID_MAX + 4);	/* bad lengths */
	pgt_cb_cid(b, &c);
}

static void gen_value(struct pgt_buf *b, uint64_t *r, int depth)
{
	uint8_t bytes[40];
	unsigned int i, n;

	switch (st_rand(r) % (depth > 3 ? 6 : 9)) {
	case 0:
		pgt_cb_uint(b, st_rand(r) >> (st_rand(r) % 64));
		break;
	case 1:
		pgt_cb_head(b, 1, st_rand(r) % 1000);	/* negative */
		break;
	case 2:
		for (i = 0; i < sizeof(bytes); i++)
			bytes[i] = st_rand(r);
		pgt_cb_bytes(b, bytes, st_rand(r) % sizeof(bytes));
		break;
	case 3:
		pgt_cb_text(b, keys[st_rand(r) % PGT_ARRAY_SIZE(keys)]);
		break;
	case 4:
		pgt_cb_bool(b, st_rand(r) & 1);
		break;
	case 5:
		gen_cid(b, r);
		break;
	case 6:
		n = st_rand(r) % 4;
		pgt_cb_array(b, n);
		for (i = 0; i < n; i++)
			gen_value(b, r, depth + 1);
		break;
	case 7:
		pgt_cb_null(b);
		break;
	default:
		n = st_rand(r) % 3;
		pgt_cb_map(b, n);
		for (i = 0; i < n; i++) {
			pgt_cb_text(b, keys[i]);
			gen_value(b, r, depth + 1);
		}
	}
}

/* grid([42(pcid), slots...]) with random slots, often a valid one. */
static void gen_frame(struct pgt_buf *b, uint64_t *r)
{
	struct pgt_cid c = fuzz_cid(st_rand(r));
	unsigned int i, n;

	switch (st_rand(r) % 4) {
	case 0:
		pgt_frame_msg(b, &c, st_rand(r) % 100000);
		break;
	case 1:
		pgt_frame_sized(b, &c, 40 + st_rand(r) % 2000);
		break;
	case 2:	/* deep nesting, around max_depth */
		n = 10 + st_rand(r) % 30;
		pgt_frame_begin(b, &c, 1);
		for (i = 0; i < n; i++)
			pgt_cb_array(b, 1);
		pgt_cb_uint(b, n);
		break;
	default:
		n = st_rand(r) % 5;
		pgt_cb_tag(b, PG_GRID_TAG);
		pgt_cb_array(b, n + 1);
		gen_cid(b, r);
		for (i = 0; i < n; i++)
			gen_value(b, r, 0);
	}
}

/* grid([42(control), id, verb, {args}]) with random parts. */
static void gen_control(struct pgt_buf *b, uint64_t *r)
{
	struct pgt_map m = { 0 };
	unsigned int i, n = st_rand(r) % 4;

	pgt_cb_tag(b, PG_GRID_TAG);
	pgt_cb_array(b, st_rand(r) % 16 ? 4 : st_rand(r) % 6);
	pgt_cb_cid(b, &pgt_cid_control);
	if (st_rand(r) % 8)
		pgt_cb_uint(b, st_rand(r) % 3 ? st_rand(r) % 1000 : 0);
	else
		gen_value(b, r, 0);
	pgt_cb_text(b, verbs[st_rand(r) % PGT_ARRAY_SIZE(verbs)]);
	for (i = 0; i < n; i++) {
		const char *k = keys[st_rand(r) % PGT_ARRAY_SIZE(keys)];
		struct pgt_buf *v;
		bool dup = false;
		int j;

		for (j = 0; j < m.n; j++)
			if (m.key[j].len == strlen(k) + 1 &&
			    !memcmp(m.key[j].p + 1, k, strlen(k)))
				dup = true;
		if (dup)
			continue;
		v = pgt_map_put(&m, k);
		if (!strcmp(k, "frame") && st_rand(r) % 2) {
			struct pgt_buf f = { 0 };

			gen_frame(&f, r);
			pgt_cb_bytes(v, f.p, f.len);
			pgt_buf_free(&f);
		} else if (!strcmp(k, "to") && st_rand(r) % 2) {
			pgt_cb_uint(v, st_rand(r) % 64);
		} else if (!strcmp(k, "pcid") && st_rand(r) % 2) {
			struct pgt_cid c = fuzz_cid(st_rand(r));

			pgt_cb_cid(v, &c);
		} else {
			gen_value(v, r, 1);
		}
	}
	pgt_map_emit(b, &m);
}

static void mutate(struct pgt_buf *b, size_t start, uint64_t *r)
{
	static const uint8_t interesting[] = {
		0x00, 0xff, 0x1f, 0x3f, 0x5f, 0x7f, 0x9f, 0xbf, 0xdf, 0xff,
		0x18, 0x19, 0x1a, 0x1b, 0xda, 0xd8, 0x2a, 0xf9, 0xfa, 0xfb,
		0x80, 0xa0, 0x40, 0x60, 0xc0, 0xf4, 0xf7,
	};
	unsigned int k, n = 1 + st_rand(r) % 4;
	size_t len = b->len - start, pos;

	for (k = 0; k < n && len; k++) {
		pos = start + st_rand(r) % len;
		switch (st_rand(r) % 6) {
		case 0:
			b->p[pos] ^= 1u << (st_rand(r) % 8);
			break;
		case 1:
			b->p[pos] = interesting[st_rand(r) %
						sizeof(interesting)];
			break;
		case 2:	/* truncate */
			b->len = pos;
			len = b->len - start;
			break;
		case 3:	/* insert a byte */
			pgt_cb_byte(b, 0);
			memmove(b->p + pos + 1, b->p + pos, b->len - pos - 1);
			b->p[pos] = st_rand(r);
			len++;
			break;
		case 4:	/* delete a byte */
			memmove(b->p + pos, b->p + pos + 1, b->len - pos - 1);
			b->len--;
			len--;
			break;
		default: {	/* duplicate a slice at the end */
			/*
			 * Through a copy: pgt_cb_raw() may move b->p, and a
			 * slice of the old block would be read after free.
			 */
			uint8_t slice[64];
			size_t m = st_rand(r) % (len - (pos - start)) + 1;

			m = m > sizeof(slice) ? sizeof(slice) : m;
			memcpy(slice, b->p + pos, m);
			pgt_cb_raw(b, slice, m);
			len = b->len - start;
		}
		}
	}
}

static void gen_input(struct pgt_buf *b, uint64_t *r)
{
	unsigned int i, n = st_rand(r) % 8 ? 1 : 2 + st_rand(r) % 6;

	for (i = 0; i < n && b->len < MAX_INPUT; i++) {
		size_t start = b->len;

		switch (st_rand(r) % 8) {
		case 0: {	/* random bytes, sometimes behind the tag */
			unsigned int k, len = 1 + st_rand(r) % 300;
			static const uint8_t tag[] = PG_GRID_TAG_BYTES;

			if (st_rand(r) & 1)
				pgt_cb_raw(b, tag, sizeof(tag));
			for (k = 0; k < len; k++)
				pgt_cb_byte(b, st_rand(r));
			break;
		}
		case 1: case 2:
			gen_control(b, r);
			break;
		case 3: {	/* a large frame, around max_frame */
			struct pgt_cid c = fuzz_cid(st_rand(r));

			pgt_frame_sized(b, &c, PG_MAX_FRAME_DEFAULT - 64 +
				       st_rand(r) % 128);
			break;
		}
		default:
			gen_frame(b, r);
		}
		if (st_rand(r) % 3 == 0)
			mutate(b, start, r);
	}
}

/* ---- the processes ------------------------------------------------------ */

/* Every read must give whole grid frames. */
static int check_read(const uint8_t *p, size_t n)
{
	struct pgt_frame f;
	struct pgt_cb_item it;
	size_t off = 0;

	while (off < n) {
		if (pgt_cb_item(p + off, n - off, &it) ||
		    pgt_frame_parse(it.p, it.len, &f)) {
			pgt_diag("read: not a grid frame at %zu of %zu", off, n);
			return -1;
		}
		off += it.len;
	}
	return 0;
}

static void count_write(struct fuzz_count *c, int fd, ssize_t w, size_t len,
			const uint8_t *p, bool *kept)
{
	int err = w < 0 ? (int)-w : 0;

	c->writes++;
	if (w >= 0) {
		long k = st_count_items(p, w);

		if (k < 0) {
			pgt_diag("accepted prefix of %zd bytes is not whole"
				" items", w);
			c->bad++;
		} else {
			c->accepted_frames += k;
			c->accepted_bytes += w;
		}
		if ((size_t)w < len) {
			/*
			 * len < PG_WRITE_CHUNK: short on a later frame's
			 * error, kept for the next write (fetched now with
			 * an empty one), or on a busy pCID (nothing kept).
			 */
			ssize_t e = pgt_write(fd, p, 0);

			if (e < 0) {
				c->short_writes++;
				if (-e < (ssize_t)PGT_ARRAY_SIZE(c->by_errno))
					c->by_errno[-e]++;
			} else {
				c->short_busy++;
			}
		}
		return;
	}
	if (err < (int)PGT_ARRAY_SIZE(c->by_errno))
		c->by_errno[err]++;
	if (*kept) {
		c->deferred++;
		*kept = false;
	} else if (err == EAGAIN) {
		c->eagain++;
	} else if (err == EFAULT) {
		c->efault++;
	} else if (st_write_errno_ok(err)) {
		c->rejected++;
	}
	if (!st_write_errno_ok(err) && err != EFAULT) {
		pgt_diag("write of %zu bytes: undocumented errno %d (%s)", len,
			err, pgt_errname(err));
		c->bad++;
	}
}

static int fuzzer(struct fuzz_shared *sh, unsigned int idx)
{
	static uint8_t rbuf[1 << 20];
	struct fuzz_count *c = &sh->c[idx];
	struct pgt_buf b = { 0 };
	uint64_t r = st_rand_seed(idx + 1);
	struct st_stats s;
	bool kept = false;
	struct pgt_ep ep;
	ssize_t w;

	/* Non-blocking: blocked writers could wait on each other's queues. */
	if (pgt_open(&ep, O_NONBLOCK))
		return PGT_FAIL;
	while (!sh->done) {
		pgt_buf_reset(&b);
		gen_input(&b, &r);
		switch (st_rand(&r) % 16) {
		case 0: {	/* two pieces in one writev */
			size_t cut = st_rand(&r) % (b.len + 1);
			struct iovec iov[2] = {
				{ b.p, cut }, { b.p + cut, b.len - cut },
			};

			w = writev(ep.fd, iov, 2);
			w = w < 0 ? -errno : w;
			break;
		}
		case 1:	/* a bad buffer */
			w = pgt_write(ep.fd, (void *)16, b.len);
			if (w == -EFAULT)
				c->efault++;
			else
				count_write(c, ep.fd, w, b.len, b.p, &kept);
			continue;
		default:
			w = pgt_write(ep.fd, b.p, b.len);
		}
		count_write(c, ep.fd, w, b.len, b.p, &kept);
		if (st_rand(&r) % 4 == 0) {
			size_t want = st_rand(&r) % 8 ? sizeof(rbuf) :
				      st_rand(&r) % 200;
			struct iovec iov = { rbuf, want };

			w = preadv2(ep.fd, &iov, 1, -1, RWF_NOWAIT);
			if (w < 0 && !st_read_errno_ok(errno) && errno != EINTR) {
				pgt_diag("read: undocumented errno %s",
					pgt_errname(errno));
				c->bad++;
			} else if (w > 0) {
				c->reads++;
				c->read_bytes += w;
				if (check_read(rbuf, w))
					c->bad++;
			}
		}
	}
	if (kept) {	/* collect the last kept error */
		w = pgt_write(ep.fd, b.p, 0);
		count_write(c, ep.fd, w < 0 ? w : -EPROTO, 0, b.p, &kept);
	}
	/* endpoint "sent": frames this endpoint wrote that were accepted */
	pgt_buf_free(&ep.pend);
	if (st_stats(&ep, &s) == 0)
		c->ep_sent = s.sent;
	else
		c->bad++;
	pgt_close(&ep);
	pgt_buf_free(&b);
	return PGT_PASS;
}

/* Receives on the fuzz pCIDs (fan-out, attested, a group) and drains. */
static int drainer(struct fuzz_shared *sh)
{
	static uint8_t rbuf[1 << 20];
	struct pgt_ep ep[FUZZ_PCIDS];
	unsigned int i;
	ssize_t n;

	for (i = 0; i < FUZZ_PCIDS; i++) {
		struct pgt_cid c = fuzz_cid(i);

		/* the fuzzers carry to these: they accept carries */
		if (pgt_open(&ep[i], O_NONBLOCK) ||
		    pgt_hello(&ep[i], &sh->drain_ids[i]) ||
		    pgt_accept_carry(&ep[i], true) ||
		    pgt_receive(&ep[i], &c, i % 3 == 2 ? "g" : NULL, i % 3 == 1))
			return PGT_FAIL;
	}
	sh->drained = 1;
	while (!sh->done) {
		for (i = 0; i < FUZZ_PCIDS; i++) {
			while ((n = pgt_read(ep[i].fd, rbuf, sizeof(rbuf))) > 0)
				if (check_read(rbuf, n))
					__sync_fetch_and_add(&sh->drain_bad, 1);
			if (n != -EAGAIN)
				__sync_fetch_and_add(&sh->drain_bad, 1);
		}
		usleep(2000);
	}
	for (i = 0; i < FUZZ_PCIDS; i++)
		pgt_close(&ep[i]);
	return PGT_PASS;
}

static int test_fuzz(const void *arg)
{
	struct fuzz_shared *sh = st_shared(sizeof(*sh));
	struct st_stats base, prev, now, fin;
	pid_t pids[FUZZERS + 1];
	struct fuzz_count t = { 0 };
	struct pgt_ep chk;
	uint64_t dl, polls = 0;
	unsigned int i, e;
	int res, bad = 0;

	(void)arg;
	pids[FUZZERS] = fork();
	if (pids[FUZZERS] == 0)
		exit(drainer(sh));
	while (!sh->drained)
		usleep(1000);
	CHECK(pgt_open(&chk, 0) == 0);
	CHECK(st_stats(&chk, &base) == 0);
	prev = base;
	for (i = 0; i < FUZZERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			exit(fuzzer(sh, i));
	}
	dl = st_deadline(100);
	while (st_running(dl)) {
		usleep(50000);
		if (st_stats(&chk, &now) || st_stats_check_monotonic(&prev,
								     &now))
			bad = 1;
		polls++;
		prev = now;
	}
	sh->done = 1;
	/* the drainer too: its endpoints must be closed before fin */
	res = st_wait_children(pids, FUZZERS + 1);
	CHECK(st_stats(&chk, &now) == 0);
	CHECK(st_stats_check_monotonic(&prev, &now) == 0);
	for (i = 0; i < FUZZERS; i++) {
		struct fuzz_count *c = &sh->c[i];

		t.writes += c->writes;
		t.accepted_frames += c->accepted_frames;
		t.accepted_bytes += c->accepted_bytes;
		t.rejected += c->rejected;
		t.short_writes += c->short_writes;
		t.short_busy += c->short_busy;
		t.deferred += c->deferred;
		t.eagain += c->eagain;
		t.efault += c->efault;
		t.reads += c->reads;
		t.bad += c->bad;
		for (e = 0; e < PGT_ARRAY_SIZE(c->by_errno); e++)
			t.by_errno[e] += c->by_errno[e];
		/* its final stats request does not count itself */
		if (c->ep_sent != c->accepted_frames) {
			pgt_diag("fuzzer %u: endpoint sent %llu, but %llu frames"
				" were accepted", i,
				(unsigned long long)c->ep_sent,
				(unsigned long long)c->accepted_frames);
			bad = 1;
		}
	}
	pgt_diag("%llu writes, %llu frames accepted (%llu bytes), %llu"
		" rejected, %llu short (%llu on a busy pCID), %llu kept errors,"
		" %llu EAGAIN, %llu EFAULT, %llu reads; %llu stats polls",
		(unsigned long long)t.writes,
		(unsigned long long)t.accepted_frames,
		(unsigned long long)t.accepted_bytes,
		(unsigned long long)t.rejected,
		(unsigned long long)t.short_writes,
		(unsigned long long)t.short_busy,
		(unsigned long long)t.deferred, (unsigned long long)t.eagain,
		(unsigned long long)t.efault, (unsigned long long)t.reads,
		(unsigned long long)polls);
	for (e = 0; e < PGT_ARRAY_SIZE(t.by_errno); e++)
		if (t.by_errno[e])
			pgt_diag("  errno %u %s: %llu", e, pgt_errname(e),
				(unsigned long long)t.by_errno[e]);
	st_stats_diag("before", &base);
	st_stats_diag("after", &now);
	CHECK(res == PGT_PASS && !bad);
	CHECK_EQ(t.bad, 0);
	CHECK_EQ(sh->drain_bad, 0);
	/* the checker's own requests: polls + the first and the last */
	CHECK_EQ(now.frames_sent - base.frames_sent,
		 t.accepted_frames + FUZZERS + polls + 1);
	CHECK_EQ(now.rejected - base.rejected, t.rejected + t.short_writes);
	pgt_close(&chk);
	CHECK(st_stats_fresh(&fin) == 0);
	/* the drainer's endpoints and routes are gone, chk is fin's own */
	CHECK_EQ(fin.endpoints, base.endpoints - FUZZ_PCIDS);
	CHECK_EQ(fin.routes, base.routes - FUZZ_PCIDS);
	CHECK_EQ(fin.claims, base.claims);
	CHECK_EQ(fin.tokens, base.tokens);
	return PGT_PASS;
}

static const struct pgt_test tests[] = {
	PGT_TEST(test_fuzz, "random and mutated frames and control requests from 4 processes"),
};

int main(int argc, char **argv)
{
	st_init(argc, argv, 10);
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
