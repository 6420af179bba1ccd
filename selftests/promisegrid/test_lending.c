// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: lent records (docs/abi.md "Memory"). A one-frame write of
 * at least 256 bytes to the endpoint that alone took its writer's last
 * one-frame write is copied straight into a record that receiver kept,
 * and queued in it when the frame still has that one receiver (stats
 * "lent"). Whatever the path, every receiver reads the writer's exact
 * bytes; frames with more than one receiver, attested deliveries, writes
 * of several frames, requests and bad frames are never lent and behave
 * as without lending.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pgtest.h"

#define LEND_LEN	1024	/* a frame that may be lent */
#define LEND_SMALL	200	/* one below PG_LEND_MIN (256): never lent */
#define LEND_FRAMES	300
#define LEND_BURST	8	/* frames written before each read */

/* Frame @seq on @c, @len bytes: the body ends with @seq, so each differs. */
static int lend_frame(struct pgt_buf *f, const struct pgt_cid *c, size_t len,
		      uint64_t seq)
{
	f->len = 0;
	if (pgt_frame_sized(f, c, len))
		return -1;
	memcpy(f->p + f->len - sizeof(seq), &seq, sizeof(seq));
	return 0;
}

static uint64_t lent_now(struct pgt_ep *ep)
{
	return pgt_stat(ep, "module", "lent");
}

/*
 * @n frames of @len bytes from @s, in bursts, each read by every one of
 * @r[0..nr) byte-exact (an attested receiver's delivery ends with them).
 */
static int lend_stream(struct pgt_ep *s, struct pgt_ep *r, int nr,
		       const struct pgt_cid *c, size_t len, int n,
		       uint64_t first)
{
	/* one delivery per read: room for the frame and a header of 64 bytes */
	size_t cap = len + 64;
	uint8_t *got = malloc(cap);
	struct pgt_buf f = { 0 };
	int i, k, j, ret = -1;
	ssize_t m;

	if (!got)
		return -1;
	for (i = 0; i < n; i += LEND_BURST) {
		for (k = i; k < n && k < i + LEND_BURST; k++) {
			if (lend_frame(&f, c, len, first + k) ||
			    pgt_send(s, &f) != (ssize_t)f.len) {
				pgt_diag("send %d: %s", k, strerror(errno));
				goto out;
			}
		}
		for (k = i; k < n && k < i + LEND_BURST; k++) {
			lend_frame(&f, c, len, first + k);
			for (j = 0; j < nr; j++) {
				m = pgt_wait_in(r[j].fd, PGT_WAIT_MS) > 0 ?
				    pgt_read(r[j].fd, got, cap) : -1;
				if (m < (ssize_t)f.len ||
				    memcmp(got + m - f.len, f.p, f.len)) {
					pgt_diag("frame %d, receiver %d: not the bytes sent (%zd bytes read)",
						 k, j, m);
					goto out;
				}
			}
		}
	}
	ret = 0;
out:
	pgt_buf_free(&f);
	free(got);
	return ret;
}

/*
 * @r receives on the pCID named @name and @s has sent it 16 frames it
 * read: @s's next one-frame writes there may be lent @r's records.
 */
static int lend_pair(struct pgt_ep *s, struct pgt_ep *r, struct pgt_cid *c,
		     const char *name)
{
	pgt_cid_named(c, name);
	if (pgt_open(r, 0) || pgt_open(s, 0) ||
	    pgt_receive(r, c, NULL, false))
		return -1;
	return lend_stream(s, r, 1, c, LEND_LEN, 16, 0);
}

static int t_lent_exact(const void *arg)
{
	struct pgt_ep s, r;
	struct pgt_cid c;
	uint64_t l0, l1, l2;

	(void)arg;
	pgt_cid_named(&c, "lending exact");
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	l0 = lent_now(&r);
	CHECK_EQ(lend_stream(&s, &r, 1, &c, LEND_LEN, LEND_FRAMES, 0), 0);
	l1 = lent_now(&r);
	pgt_diag("%llu of %d one-frame writes of %d bytes lent",
		 (unsigned long long)(l1 - l0), LEND_FRAMES, LEND_LEN);
	/* all but the first, and the first of each burst the reader kept none for */
	CHECK(l1 - l0 >= LEND_FRAMES / 2);
	/* small frames are never lent, and read as sent all the same */
	CHECK_EQ(lend_stream(&s, &r, 1, &c, LEND_SMALL, 64, 1000), 0);
	l2 = lent_now(&r);
	CHECK_EQ(l2, l1);
	/* a stream that changes size class is lent again, exact */
	CHECK_EQ(lend_stream(&s, &r, 1, &c, 3000, 64, 2000), 0);
	CHECK(lent_now(&r) > l2);
	pgt_close(&s);
	pgt_close(&r);
	return PGT_PASS;
}

static int t_lent_sole_only(const void *arg)
{
	struct pgt_ep s, r[2];
	struct pgt_cid c;
	uint64_t l0;

	(void)arg;
	pgt_cid_named(&c, "lending sole receiver");
	CHECK_EQ(pgt_open(&r[0], 0), 0);
	CHECK_EQ(pgt_open(&r[1], 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&r[0], &c, NULL, false), 0);
	/* the sender learns r[0] as its peer and is lent its records */
	l0 = lent_now(&s);
	CHECK_EQ(lend_stream(&s, r, 1, &c, LEND_LEN, 64, 0), 0);
	CHECK(lent_now(&s) > l0);
	/* a second receiver: never lent, both read every frame exact */
	CHECK_EQ(pgt_receive(&r[1], &c, NULL, false), 0);
	l0 = lent_now(&s);
	CHECK_EQ(lend_stream(&s, r, 2, &c, LEND_LEN, 128, 100), 0);
	CHECK_EQ(lent_now(&s), l0);
	CHECK(pgt_empty(&r[0]) && pgt_empty(&r[1]));
	/* and once it goes, lent again */
	CHECK_EQ(pgt_unreceive(&r[1], &c, NULL), 0);
	CHECK_EQ(lend_stream(&s, r, 1, &c, LEND_LEN, 64, 300), 0);
	CHECK(lent_now(&s) > l0);
	CHECK(pgt_empty(&r[1]));
	pgt_close(&s);
	pgt_close(&r[0]);
	pgt_close(&r[1]);
	return PGT_PASS;
}

static int t_lent_group(const void *arg)
{
	struct pgt_ep s, r[2];
	struct pgt_cid c;
	uint64_t l0;
	int i;

	(void)arg;
	pgt_cid_named(&c, "lending group");
	CHECK_EQ(pgt_open(&r[0], 0), 0);
	CHECK_EQ(pgt_open(&r[1], 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	CHECK_EQ(pgt_receive(&r[0], &c, "workers", false), 0);
	l0 = lent_now(&s);
	CHECK_EQ(lend_stream(&s, r, 1, &c, LEND_LEN, 64, 0), 0);
	CHECK(lent_now(&s) > l0);
	/* two members: each frame to one of them, exact, none lent */
	CHECK_EQ(pgt_receive(&r[1], &c, "workers", false), 0);
	l0 = lent_now(&s);
	for (i = 0; i < 64; i++) {
		struct pgt_buf f = { 0 }, got = { 0 };
		int m;

		CHECK_EQ(lend_frame(&f, &c, LEND_LEN, 500 + i), 0);
		CHECK_EQ(pgt_send(&s, &f), (ssize_t)f.len);
		m = pgt_wait_in(r[0].fd, 0) > 0 ? 0 : 1;
		CHECK_EQ(pgt_recv(&r[m], &got, PGT_WAIT_MS), (ssize_t)f.len);
		CHECK(!memcmp(got.p, f.p, f.len));
		pgt_buf_free(&f);
		pgt_buf_free(&got);
	}
	CHECK_EQ(lent_now(&s), l0);
	pgt_close(&s);
	pgt_close(&r[0]);
	pgt_close(&r[1]);
	return PGT_PASS;
}

static int t_lent_attested(const void *arg)
{
	struct pgt_ep s, r;
	struct pgt_cid c;
	uint64_t l0;

	(void)arg;
	CHECK_EQ(lend_pair(&s, &r, &c, "lending attested"), 0);
	/* the same receiver, attested now: header and frame, none lent */
	CHECK_EQ(pgt_unreceive(&r, &c, NULL), 0);
	CHECK_EQ(pgt_receive(&r, &c, NULL, true), 0);
	l0 = lent_now(&s);
	CHECK_EQ(lend_stream(&s, &r, 1, &c, LEND_LEN, 64, 100), 0);
	CHECK_EQ(lent_now(&s), l0);
	pgt_close(&s);
	pgt_close(&r);
	return PGT_PASS;
}

/* What a write does with lending possible is what it does without. */
static int t_lent_fallbacks(const void *arg)
{
	struct pgt_buf f = { 0 }, two = { 0 }, got = { 0 };
	struct pgt_ep s, r, fresh;
	struct pgt_cid c;
	uint64_t id, l0;
	int err_fresh;

	(void)arg;
	CHECK_EQ(lend_pair(&s, &r, &c, "lending fallbacks"), 0);
	CHECK_EQ(pgt_open(&fresh, 0), 0);
	l0 = lent_now(&s);

	/* two frames in one write: both delivered, in order, not lent */
	CHECK_EQ(lend_frame(&two, &c, LEND_LEN, 100), 0);
	CHECK_EQ(lend_frame(&f, &c, LEND_LEN, 101), 0);
	pgt_cb_raw(&two, f.p, f.len);
	CHECK_EQ(pgt_send(&s, &two), (ssize_t)two.len);
	CHECK_EQ(pgt_recv(&r, &got, PGT_WAIT_MS), (ssize_t)f.len);
	CHECK(!memcmp(got.p, two.p, f.len));
	CHECK_EQ(pgt_recv(&r, &got, PGT_WAIT_MS), (ssize_t)f.len);
	CHECK(!memcmp(got.p, f.p, f.len));
	CHECK_EQ(lent_now(&s), l0);

	/* a request of 256 bytes or more still reaches the kernel */
	CHECK_EQ(pgt_hello(&r, &id), 0);
	CHECK_EQ(pgt_accept_carry(&r, true), 0);
	CHECK_EQ(lend_frame(&f, &c, LEND_LEN, 99), 0);
	CHECK_EQ(pgt_carry(&s, id, &f), 0);
	CHECK_EQ(pgt_recv(&r, &got, PGT_WAIT_MS), (ssize_t)f.len);
	CHECK(!memcmp(got.p, f.p, f.len));
	CHECK_EQ(lent_now(&s), l0);

	/* a bad frame: the errno a writer without a peer gets */
	CHECK_EQ(lend_frame(&f, &c, LEND_LEN, 102), 0);
	f.p[0] ^= 0xff;
	err_fresh = (int)pgt_send(&fresh, &f);
	CHECK(err_fresh < 0);
	CHECK_EQ(pgt_send(&s, &f), err_fresh);
	/* a frame cut short: likewise */
	CHECK_EQ(lend_frame(&f, &c, LEND_LEN, 103), 0);
	f.len -= 10;
	err_fresh = (int)pgt_send(&fresh, &f);
	CHECK(err_fresh < 0);
	CHECK_EQ(pgt_send(&s, &f), err_fresh);
	CHECK(pgt_empty(&r));

	/* still lent after all that */
	CHECK_EQ(lend_stream(&s, &r, 1, &c, LEND_LEN, 16, 200), 0);
	CHECK(lent_now(&s) > l0);

	/* the peer gone: nobody receives, as for any writer */
	pgt_close(&r);
	CHECK_EQ(lend_frame(&f, &c, LEND_LEN, 104), 0);
	CHECK_ERR(pgt_send(&s, &f), EHOSTUNREACH);
	pgt_buf_free(&f);
	pgt_buf_free(&two);
	pgt_buf_free(&got);
	pgt_close(&s);
	pgt_close(&fresh);
	return PGT_PASS;
}

struct stalled_write {
	struct pgt_ep *ep;
	const void *p;
	size_t n;
	ssize_t ret;
};

static void *stalled_write_run(void *arg)
{
	struct stalled_write *w = arg;

	w->ret = pgt_write(w->ep->fd, w->p, w->n);
	return NULL;
}

/*
 * A writer whose copy into a lent record stalls (its buffer faults, held
 * by userfaultfd) holds no lock: its receiver reads another writer's
 * frames meanwhile, and the stalled frame arrives exact once resolved.
 */
static int t_lent_stalled_writer(const void *arg)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct pgt_buf f = { 0 }, g = { 0 }, got = { 0 };
	struct stalled_write w = { 0 };
	long page = sysconf(_SC_PAGESIZE);
	struct uffd_msg msg;
	struct uffdio_copy cp;
	struct pgt_ep s, s2, r;
	struct pollfd pfd;
	struct pgt_cid c;
	pthread_t th;
	uint64_t l0;
	uint8_t *src;
	int uffd;

	(void)arg;
	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		return pgt_skip("userfaultfd: %s", strerror(errno));
	CHECK_EQ(ioctl(uffd, UFFDIO_API, &api), 0);
	src = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(src != MAP_FAILED);
	reg.range.start = (uintptr_t)src;
	reg.range.len = 2 * page;
	CHECK_EQ(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);

	CHECK_EQ(lend_pair(&s, &r, &c, "lending stalled writer"), 0);
	CHECK_EQ(pgt_open(&s2, 0), 0);
	l0 = lent_now(&r);

	/* s writes from a page that is not there yet: its copy waits */
	CHECK_EQ(lend_frame(&f, &c, LEND_LEN, 4242), 0);
	w.ep = &s;
	w.p = src;
	w.n = f.len;
	CHECK_EQ(pthread_create(&th, NULL, stalled_write_run, &w), 0);
	pfd.fd = uffd;
	pfd.events = POLLIN;
	CHECK_EQ(poll(&pfd, 1, PGT_WAIT_MS), 1);
	CHECK_EQ(read(uffd, &msg, sizeof(msg)), (ssize_t)sizeof(msg));
	CHECK_EQ(msg.event, UFFD_EVENT_PAGEFAULT);

	/* meanwhile another writer's frames reach r */
	CHECK_EQ(lend_frame(&g, &c, LEND_LEN, 7), 0);
	CHECK_EQ(pgt_send(&s2, &g), (ssize_t)g.len);
	CHECK_EQ(pgt_recv(&r, &got, PGT_WAIT_MS), (ssize_t)g.len);
	CHECK(!memcmp(got.p, g.p, g.len));

	/* the page arrives: s's write completes, r reads it exact */
	cp.dst = (uintptr_t)src;
	cp.len = page;
	cp.mode = 0;
	cp.copy = 0;
	cp.src = (uintptr_t)memcpy(calloc(1, page), f.p, f.len);
	CHECK_EQ(ioctl(uffd, UFFDIO_COPY, &cp), 0);
	free((void *)(uintptr_t)cp.src);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(w.ret, (ssize_t)f.len);
	CHECK_EQ(pgt_recv(&r, &got, PGT_WAIT_MS), (ssize_t)f.len);
	CHECK(!memcmp(got.p, f.p, f.len));
	/* s2 had no peer yet: only the stalled write can have been lent */
	CHECK(lent_now(&r) > l0);
	CHECK(pgt_empty(&r));
	pgt_buf_free(&f);
	pgt_buf_free(&g);
	pgt_buf_free(&got);
	munmap(src, 2 * page);
	close(uffd);
	pgt_close(&s);
	pgt_close(&s2);
	pgt_close(&r);
	return PGT_PASS;
}

int main(void)
{
	static const struct pgt_test tests[] = {
		PGT_TEST(t_lent_exact, "one-frame writes to one receiver are lent its records, byte-exact; small ones never"),
		PGT_TEST(t_lent_sole_only, "a frame with two receivers is never lent; both read it exact"),
		PGT_TEST(t_lent_group, "a group of one member is lent; of two, never, each frame to one member"),
		PGT_TEST(t_lent_attested, "an attested delivery is never lent and carries the exact frame"),
		PGT_TEST(t_lent_stalled_writer, "a writer stalled in its copy into a lent record delays nobody; its frame arrives exact"),
		PGT_TEST(t_lent_fallbacks, "two-frame writes, requests, bad frames and a closed peer behave as without lending"),
	};

	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
