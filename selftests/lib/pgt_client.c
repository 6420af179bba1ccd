// SPDX-License-Identifier: GPL-2.0-only
/*
 * pgt_client: /dev/promisegrid helpers of the selftests. See
 * pgt_client.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pgt_client.h"

/* ---- endpoints ---------------------------------------------------------- */

#define PGT_RBUF		((2 << 20) + 4096)

int pgt_open(struct pgt_ep *ep, int flags)
{
	memset(ep, 0, sizeof(*ep));
	ep->fd = open(PG_DEVICE_PATH, O_RDWR | O_CLOEXEC | flags);
	if (ep->fd < 0) {
		int e = errno;

		pgt_diag("open %s: %s", PG_DEVICE_PATH, strerror(e));
		return -e;
	}
	return 0;
}

void pgt_close(struct pgt_ep *ep)
{
	if (ep->fd >= 0)
		close(ep->fd);
	ep->fd = -1;
	pgt_buf_free(&ep->pend);
}

ssize_t pgt_write(int fd, const void *p, size_t n)
{
	ssize_t r = write(fd, p, n);

	return r < 0 ? -errno : r;
}

ssize_t pgt_read(int fd, void *p, size_t n)
{
	ssize_t r = read(fd, p, n);

	return r < 0 ? -errno : r;
}

ssize_t pgt_send(struct pgt_ep *ep, const struct pgt_buf *b)
{
	return pgt_write(ep->fd, b->p, b->len);
}

ssize_t pgt_send_msg(struct pgt_ep *ep, const struct pgt_cid *c, uint64_t seq)
{
	struct pgt_buf b = { 0 };
	ssize_t r;

	pgt_frame_msg(&b, c, seq);
	r = pgt_send(ep, &b);
	pgt_buf_free(&b);
	return r;
}

int pgt_wait_in(int fd, int ms)
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
static ssize_t ep_fill(struct pgt_ep *ep, int ms)
{
	static uint8_t *tmp;
	ssize_t r;

	if (!tmp)
		tmp = malloc(PGT_RBUF);
	if (!tmp)
		return -ENOMEM;
	r = pgt_wait_in(ep->fd, ms);
	if (r <= 0)
		return r ? r : -ETIMEDOUT;
	r = pgt_read(ep->fd, tmp, PGT_RBUF);
	if (r > 0)
		pgt_cb_raw(&ep->pend, tmp, r);
	return r == 0 ? -ENODATA : r;
}

ssize_t pgt_recv(struct pgt_ep *ep, struct pgt_buf *out, int ms)
{
	struct pgt_cb_item it;

	if (!ep->pend.len) {
		ssize_t r = ep_fill(ep, ms);

		if (r < 0)
			return r;
	}
	if (pgt_cb_item(ep->pend.p, ep->pend.len, &it)) {
		pgt_diag("read returned bytes that are not a CBOR sequence");
		return -EBADMSG;
	}
	pgt_buf_reset(out);
	pgt_cb_raw(out, it.p, it.len);
	memmove(ep->pend.p, ep->pend.p + it.len, ep->pend.len - it.len);
	ep->pend.len -= it.len;
	return it.len;
}

static void diag_bytes(const char *what, const struct pgt_buf *b)
{
	char hex[3 * 64 + 1];
	size_t i, n = b->len < 64 ? b->len : 64;

	for (i = 0; i < n; i++)
		sprintf(hex + 3 * i, "%02x ", b->p[i]);
	hex[3 * n] = 0;
	pgt_diag("%s (%zu bytes): %s%s", what, b->len, hex,
		b->len > n ? "..." : "");
}

int pgt_expect(struct pgt_ep *ep, const struct pgt_buf *want)
{
	struct pgt_buf got = { 0 };
	ssize_t r = pgt_recv(ep, &got, PGT_WAIT_MS);
	int ret = 0;

	if (r < 0) {
		pgt_diag("expected a delivery, got %s", pgt_errname(-r));
		ret = -1;
	} else if (got.len != want->len || memcmp(got.p, want->p, got.len)) {
		diag_bytes("expected", want);
		diag_bytes("got", &got);
		ret = -1;
	}
	pgt_buf_free(&got);
	return ret;
}

int pgt_expect_msg(struct pgt_ep *ep, const struct pgt_cid *c, uint64_t seq)
{
	struct pgt_buf want = { 0 };
	int r;

	pgt_frame_msg(&want, c, seq);
	r = pgt_expect(ep, &want);
	pgt_buf_free(&want);
	return r;
}

static ssize_t read_nonblock(struct pgt_ep *ep)
{
	static uint8_t *tmp;
	int fl = fcntl(ep->fd, F_GETFL);
	ssize_t r;

	if (!tmp)
		tmp = malloc(PGT_RBUF);
	if (!tmp)
		return -ENOMEM;
	fcntl(ep->fd, F_SETFL, fl | O_NONBLOCK);
	r = pgt_read(ep->fd, tmp, PGT_RBUF);
	fcntl(ep->fd, F_SETFL, fl);
	if (r > 0)
		pgt_cb_raw(&ep->pend, tmp, r);
	return r;
}

bool pgt_empty(struct pgt_ep *ep)
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
		pgt_diag("non-blocking read: %zd (%s), expected EAGAIN", r,
			pgt_errname(-r));
	return false;
}

int pgt_drain(struct pgt_ep *ep)
{
	struct pgt_buf b = { 0 };
	int n = 0;

	while (read_nonblock(ep) > 0)
		;
	while (pgt_recv(ep, &b, 0) > 0)
		n++;
	pgt_buf_free(&b);
	return n;
}

/* ---- the control protocol ----------------------------------------------- */

uint64_t pgt_next_id(void)
{
	static uint64_t id = 1000;

	return ++id;
}

static bool reply_matches(const struct pgt_buf *b, bool id_null, uint64_t id,
			  struct pgt_reply *r)
{
	if (pgt_reply_parse(b->p, b->len, r))
		return false;
	if (r->id_null != id_null || r->id != id) {
		r->got = false;
		return false;
	}
	return true;
}

int pgt_await_reply(struct pgt_ep *ep, bool id_null, uint64_t id,
		   struct pgt_reply *r, int ms)
{
	struct pgt_buf hold = { 0 }, item = { 0 };
	int ret = -ETIMEDOUT;
	ssize_t n;

	while ((n = pgt_recv(ep, &item, ms)) > 0) {
		if (reply_matches(&item, id_null, id, r)) {
			ret = 0;
			break;
		}
		pgt_cb_raw(&hold, item.p, item.len);
	}
	if (n < 0)
		ret = n;
	if (ret)
		r->got = false;
	/* put back what was not ours, in front of the rest */
	pgt_cb_raw(&hold, ep->pend.p, ep->pend.len);
	pgt_buf_free(&ep->pend);
	ep->pend = hold;
	pgt_buf_free(&item);
	return ret;
}

static int check_reply(int wr, struct pgt_reply *r)
{
	if (!r->got) {
		pgt_diag("request: write gave %d (%s) but no reply came", wr,
			wr < 0 ? pgt_errname(-wr) : "ok");
		return -PGT_EBADREPLY;
	}
	if (wr == 0 && pgt_reply_is(r, PG_OUTCOME_KEPT))
		return 0;
	if (wr < 0 && (pgt_reply_is(r, PG_OUTCOME_NOT_PROMISED) ||
		       pgt_reply_is(r, PG_OUTCOME_UNAVAILABLE) ||
		       pgt_reply_is(r, PG_OUTCOME_MALFORMED)) &&
	    pgt_reply_errno(r) == -wr)
		return wr;
	pgt_diag("request: write gave %d (%s) but the reply disagrees", wr,
		wr < 0 ? pgt_errname(-wr) : "ok");
	pgt_reply_diag(r);
	return -PGT_EBADREPLY;
}

int pgt_request_raw(struct pgt_ep *ep, const struct pgt_buf *req, bool id_null,
		   uint64_t id, struct pgt_reply *r)
{
	ssize_t w = pgt_send(ep, req);
	struct pgt_cid cid;
	int wr;

	if (w >= 0 && (size_t)w != req->len) {
		pgt_diag("request: short write %zd of %zu", w, req->len);
		return -PGT_EBADREPLY;
	}
	wr = w < 0 ? (int)w : 0;
	/* every failed request gets a reply, and so does every id but 0 */
	if (!id_null && id == 0 && wr == 0) {
		r->got = false;
		return 0;
	}
	pgt_await_reply(ep, id_null, id, r, PGT_WAIT_MS);
	/* every reply names the request's exact bytes as its parent */
	pgt_frame_cid(req->p, req->len, &cid);
	if (r->got && (!r->has_parent || !pgt_cid_eq(&r->parent, &cid))) {
		pgt_diag("request: the reply's parent is not the request's CID");
		pgt_reply_diag(r);
		return -PGT_EBADREPLY;
	}
	return check_reply(wr, r);
}

int pgt_request(struct pgt_ep *ep, uint64_t id, const char *verb,
	       const struct pgt_buf *args, struct pgt_reply *r)
{
	struct pgt_buf req = { 0 };
	int ret;

	pgt_request_begin(&req, id, verb);
	if (args)
		pgt_cb_raw(&req, args->p, args->len);
	else
		pgt_cb_map(&req, 0);
	ret = pgt_request_raw(ep, &req, false, id, r);
	pgt_buf_free(&req);
	return ret;
}

bool pgt_reply_failed(const struct pgt_reply *r, long err, const char *outcome)
{
	struct pgt_cb_item reason;

	if (pgt_reply_is(r, outcome) && pgt_reply_errno(r) == err &&
	    !pgt_cb_map_get(&r->details, "reason", &reason) && reason.major == 3)
		return true;
	pgt_diag("expected a reply %s with errno %s and a reason", outcome,
		pgt_errname(err));
	pgt_reply_diag(r);
	return false;
}

void pgt_request_begin(struct pgt_buf *b, uint64_t id, const char *verb)
{
	pgt_frame_begin(b, &pgt_cid_control, 3);
	pgt_cb_uint(b, id);
	pgt_cb_text(b, verb);
}

int pgt_hello(struct pgt_ep *ep, uint64_t *endpoint)
{
	struct pgt_reply r = { 0 };
	int ret = pgt_request(ep, pgt_next_id(), PG_VERB_HELLO, NULL, &r);

	if (ret == 0 && pgt_cb_map_uint(&r.details, "endpoint", endpoint)) {
		pgt_diag("hello: no endpoint in the reply");
		pgt_reply_diag(&r);
		ret = -PGT_EBADREPLY;
	}
	pgt_buf_free(&r.raw);
	return ret;
}

void pgt_args_pcid(struct pgt_buf *out, const struct pgt_cid *c,
		  const char *group, bool attest)
{
	struct pgt_map m = { 0 };

	pgt_cb_cid(pgt_map_put(&m, "pcid"), c);
	if (group)
		pgt_cb_text(pgt_map_put(&m, "group"), group);
	if (attest)
		pgt_cb_bool(pgt_map_put(&m, "attest"), true);
	pgt_map_emit(out, &m);
}

/* A request whose kept details are {}; frees args. */
static int empty_kept(struct pgt_ep *ep, const char *verb, struct pgt_buf *args)
{
	struct pgt_reply r = { 0 };
	int ret;

	ret = pgt_request(ep, pgt_next_id(), verb, args, &r);
	if (ret == 0 && r.details.arg != 0) {
		pgt_diag("%s: kept details are not {}", verb);
		pgt_reply_diag(&r);
		ret = -PGT_EBADREPLY;
	}
	pgt_buf_free(args);
	pgt_buf_free(&r.raw);
	return ret;
}

static int pcid_request(struct pgt_ep *ep, const char *verb,
			const struct pgt_cid *c, const char *group, bool attest)
{
	struct pgt_buf args = { 0 };

	pgt_args_pcid(&args, c, group, attest);
	return empty_kept(ep, verb, &args);
}

int pgt_receive(struct pgt_ep *ep, const struct pgt_cid *c, const char *group,
	       bool attest)
{
	return pcid_request(ep, PG_VERB_RECEIVE, c, group, attest);
}

int pgt_unreceive(struct pgt_ep *ep, const struct pgt_cid *c, const char *group)
{
	return pcid_request(ep, PG_VERB_UNRECEIVE, c, group, false);
}

int pgt_carry(struct pgt_ep *ep, uint64_t to, const struct pgt_buf *frame)
{
	struct pgt_buf args = { 0 };
	struct pgt_map m = { 0 };

	pgt_cb_uint(pgt_map_put(&m, "to"), to);
	pgt_cb_bytes(pgt_map_put(&m, "frame"), frame->p, frame->len);
	pgt_map_emit(&args, &m);
	return empty_kept(ep, PG_VERB_CARRY, &args);
}

int pgt_accept_carry(struct pgt_ep *ep, bool on)
{
	return pgt_accept(ep, "carry", on);
}

int pgt_accept(struct pgt_ep *ep, const char *key, bool on)
{
	struct pgt_reply r = { 0 };
	struct pgt_buf args = { 0 };
	struct pgt_map m = { 0 };
	int err;

	pgt_cb_bool(pgt_map_put(&m, key), on);
	pgt_map_emit(&args, &m);
	err = pgt_request(ep, pgt_next_id(), PG_VERB_ACCEPT, &args, &r);
	pgt_buf_free(&args);
	return err;
}

int pgt_stats(struct pgt_ep *ep, struct pgt_reply *r, struct pgt_cb_item *module,
	     struct pgt_cb_item *endpoint)
{
	int ret = pgt_request(ep, pgt_next_id(), PG_VERB_STATS, NULL, r);

	if (ret)
		return ret;
	if (pgt_cb_map_get(&r->details, "module", module) || module->major != 5 ||
	    pgt_cb_map_get(&r->details, "endpoint", endpoint) ||
	    endpoint->major != 5) {
		pgt_diag("stats: no module and endpoint maps");
		pgt_reply_diag(r);
		return -PGT_EBADREPLY;
	}
	return 0;
}

uint64_t pgt_stat(struct pgt_ep *ep, const char *map, const char *key)
{
	struct pgt_cb_item mod, epm;
	struct pgt_reply r = { 0 };
	uint64_t v = UINT64_MAX;

	if (pgt_stats(ep, &r, &mod, &epm) == 0)
		pgt_cb_map_uint(!strcmp(map, "module") ? &mod : &epm, key, &v);
	pgt_buf_free(&r.raw);
	return v;
}

/* ---- capabilities ------------------------------------------------------- */

int pgt_claim(struct pgt_ep *ep, const struct pgt_cid *c)
{
	struct pgt_reply r = { 0 };
	struct pgt_buf args = { 0 };
	uint64_t rights = 0;
	int err;

	pgt_args_pcid(&args, c, NULL, false);
	err = pgt_request(ep, pgt_next_id(), PG_VERB_CLAIM, &args, &r);
	if (!err && (pgt_cb_map_uint(&r.details, "rights", &rights) ||
		     rights != PG_RIGHTS_ALL))
		err = -PGT_EBADREPLY;
	pgt_buf_free(&args);
	return err;
}

int pgt_grant(struct pgt_ep *ep, const struct pgt_cid *c, uint32_t rights,
	     uint64_t ttl_ms, struct pgt_token *t)
{
	struct pgt_reply r = { 0 };
	struct pgt_buf args = { 0 };
	struct pgt_map m = { 0 };
	struct pgt_cb_item tok;
	uint64_t got = 0;
	int err;

	pgt_cb_cid(pgt_map_put(&m, "pcid"), c);
	if (rights)
		pgt_cb_uint(pgt_map_put(&m, "rights"), rights);
	if (ttl_ms)
		pgt_cb_uint(pgt_map_put(&m, "ttl_ms"), ttl_ms);
	pgt_map_emit(&args, &m);
	err = pgt_request(ep, pgt_next_id(), PG_VERB_GRANT, &args, &r);
	pgt_buf_free(&args);
	if (err)
		return err;
	if (pgt_cb_map_get(&r.details, "token", &tok) || tok.major != 2 ||
	    tok.arg != PG_TOKEN_LEN || pgt_cb_map_uint(&r.details, "rights", &got) ||
	    (rights && got != rights))
		return -PGT_EBADREPLY;
	memcpy(t->b, tok.p + tok.hlen, PG_TOKEN_LEN);
	t->len = PG_TOKEN_LEN;
	return 0;
}

int pgt_token_request(struct pgt_ep *ep, const char *verb,
		     const struct pgt_token *t, struct pgt_reply *r)
{
	struct pgt_buf args = { 0 };
	struct pgt_map m = { 0 };
	int err;

	pgt_cb_bytes(pgt_map_put(&m, "token"), t->b, t->len);
	pgt_map_emit(&args, &m);
	err = pgt_request(ep, pgt_next_id(), verb, &args, r);
	pgt_buf_free(&args);
	return err;
}

int pgt_redeem(struct pgt_ep *ep, const struct pgt_token *t)
{
	struct pgt_reply r = { 0 };

	return pgt_token_request(ep, PG_VERB_REDEEM, t, &r);
}

int pgt_revoke(struct pgt_ep *ep, const struct pgt_token *t, uint64_t *tokens,
	      uint64_t *holders)
{
	struct pgt_reply r = { 0 };
	int err = pgt_token_request(ep, PG_VERB_REVOKE, t, &r);

	if (err)
		return err;
	if (pgt_cb_map_uint(&r.details, "tokens", tokens) ||
	    pgt_cb_map_uint(&r.details, "holders", holders))
		return -PGT_EBADREPLY;
	return 0;
}

/* ---- cgroup v2 ----------------------------------------------------------- */

int pgt_cg_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -EIO;
	close(fd);
	return ret;
}

long long pgt_cg_current(const char *name)
{
	char path[128], buf[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PGT_CG_ROOT "/%s/memory.current", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoll(buf) : -1;
}

int pgt_cg_enter(const char *name)
{
	char path[128], pid[16];

	snprintf(path, sizeof(path), PGT_CG_ROOT "/%s", name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), PGT_CG_ROOT "/%s/cgroup.procs", name);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return pgt_cg_write(path, pid);
}

/* ---- the pg_authorize hook ---------------------------------------------- */

long pgt_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

int pgt_authz_attach(const struct bpf_insn *insns, unsigned int n,
		     int *prog, int *link, char *log, size_t log_size)
{
	union bpf_attr a;

	*link = -1;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = n;
	a.license = (uintptr_t)"GPL";
	a.log_buf = (uintptr_t)log;
	a.log_size = log_size;
	a.log_level = 1;
	*prog = pgt_bpf(BPF_PROG_LOAD, &a);
	if (*prog < 0)
		return -errno;
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = (uintptr_t)"pg_authorize";
	a.raw_tracepoint.prog_fd = *prog;
	*link = pgt_bpf(BPF_RAW_TRACEPOINT_OPEN, &a);
	return *link < 0 ? -errno : 0;
}
