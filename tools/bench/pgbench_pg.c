// SPDX-License-Identifier: GPL-2.0-only
/*
 * pgbench: the /dev/promisegrid transports and cases (see pgbench.c).
 *
 * Frames are grid([42(pCID), h'body']) built with the selftests' encoder
 * (selftests/lib/pgt_codec.c). Endpoints subscribe with the control
 * protocol; the extra pCIDs of the scaling case are subscribed by many
 * "receive" requests with id 0 (no reply unless one fails) in one write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgbench.h"

/* ---- frames and the transport -------------------------------------------- */

void pb_pg_frame(struct pgt_buf *b, const struct pgt_cid *c, size_t body,
		 bool end)
{
	static uint8_t fill[1 << 16];
	size_t start;

	if (!fill[0])
		memset(fill, 0x5a, sizeof(fill));
	pgt_frame_begin(b, c, 1);
	pgt_cb_head(b, 2, body);
	start = b->len;
	pgt_cb_raw(b, fill, body);
	b->p[start + body - 1] = end;
}

static int pb_pg_write(struct pb_xp *x, int fd, const uint8_t *buf,
		       size_t len, int n)
{
	(void)x;
	return pb_write_all(fd, buf, len * n);
}

static ssize_t pb_pg_read(struct pb_xp *x, int fd, uint8_t *buf, size_t cap)
{
	ssize_t r = read(fd, buf, cap);

	(void)x;
	return r < 0 ? -errno : r;
}

/* One ring per process, made at first use (a forked child makes its own). */
static struct io_uring pb_ring;
static pid_t pb_ring_pid;

static int pb_ring_get(void)
{
	int r;

	if (pb_ring_pid == getpid())
		return 0;
	r = io_uring_queue_init(4 * PB_BATCH, &pb_ring, 0);
	if (r)
		return r;
	pb_ring_pid = getpid();
	return 0;
}

static int pb_ring_reap(int n, size_t want, int *res)
{
	struct io_uring_cqe *cqe;
	int i, r, err = 0;

	for (i = 0; i < n; i++) {
		do {
			r = io_uring_wait_cqe(&pb_ring, &cqe);
		} while (r == -EINTR);
		if (r)
			return r;
		if (res)
			*res = cqe->res;
		if (!err && want && cqe->res != (int)want)
			err = cqe->res < 0 ? cqe->res : -EIO;
		io_uring_cqe_seen(&pb_ring, cqe);
	}
	return err;
}

static int pb_ring_submit(int n)
{
	int r;

	do {
		r = io_uring_submit_and_wait(&pb_ring, n);
	} while (r == -EINTR && io_uring_sq_ready(&pb_ring));
	return r < 0 && r != -EINTR ? r : 0;
}

/* n write SQEs of one frame each, one io_uring_enter. */
static int pb_uring_send(struct pb_xp *x, int fd, const uint8_t *buf,
			 size_t len, int n)
{
	int i, r = pb_ring_get();

	(void)x;
	if (r)
		return r;
	for (i = 0; i < n; i++)
		io_uring_prep_write(io_uring_get_sqe(&pb_ring), fd,
				    buf + i * len, len, 0);
	r = pb_ring_submit(n);
	return r ? r : pb_ring_reap(n, len, NULL);
}

static ssize_t pb_uring_recv(struct pb_xp *x, int fd, uint8_t *buf,
			     size_t cap)
{
	int res = 0, r = pb_ring_get();

	(void)x;
	if (r)
		return r;
	io_uring_prep_read(io_uring_get_sqe(&pb_ring), fd, buf, cap, 0);
	r = pb_ring_submit(1);
	if (!r)
		r = pb_ring_reap(1, 0, &res);
	return r ? r : res;
}

/*
 * A multishot read: IORING_OP_READ_MULTISHOT (Linux 6.7; liburing 2.5's
 * io_uring_prep_read_multishot(), so the uapi number here for bookworm's
 * 2.3) with a provided buffer ring. One SQE for the whole run; each
 * completion is one buffer of deliveries, given back at the next call.
 */
#define PB_OP_READ_MULTISHOT	49
#define PB_MS_BGID		1
#define PB_MS_BUFS		16
static struct io_uring_buf_ring *pb_ms_br;
static uint8_t *pb_ms_bufs;
static size_t pb_ms_size;
static pid_t pb_ms_pid;
static int pb_ms_lent = -1;
static bool pb_ms_armed;

static bool pb_mshot_supported(void)
{
	struct io_uring_probe *p = io_uring_get_probe();
	bool ok = p && io_uring_opcode_supported(p, PB_OP_READ_MULTISHOT);

	io_uring_free_probe(p);
	return ok;
}

static void pb_mshot_give(int bid, int k)
{
	io_uring_buf_ring_add(pb_ms_br, pb_ms_bufs + (size_t)bid * pb_ms_size,
			      pb_ms_size, bid,
			      io_uring_buf_ring_mask(PB_MS_BUFS), k);
}

static int pb_mshot_setup(size_t cap)
{
	struct io_uring_buf_reg reg = {
		.ring_entries = PB_MS_BUFS, .bgid = PB_MS_BGID,
	};
	int i, r = pb_ring_get();

	if (r)
		return r;
	if (posix_memalign((void **)&pb_ms_br, 4096,
			   PB_MS_BUFS * sizeof(struct io_uring_buf)))
		return -ENOMEM;
	pb_ms_bufs = malloc(PB_MS_BUFS * cap);
	if (!pb_ms_bufs)
		return -ENOMEM;
	pb_ms_size = cap;
	io_uring_buf_ring_init(pb_ms_br);
	reg.ring_addr = (uintptr_t)pb_ms_br;
	r = io_uring_register_buf_ring(&pb_ring, &reg, 0);
	if (r)
		return r;
	for (i = 0; i < PB_MS_BUFS; i++)
		pb_mshot_give(i, i);
	io_uring_buf_ring_advance(pb_ms_br, PB_MS_BUFS);
	pb_ms_lent = -1;
	pb_ms_armed = false;
	pb_ms_pid = getpid();
	return 0;
}

static ssize_t pb_mshot_recv(struct pb_xp *x, int fd, uint8_t *buf,
			     size_t cap)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	unsigned int flags;
	int r, res;

	(void)buf;
	if (pb_ms_pid != getpid()) {
		r = pb_mshot_setup(cap);
		if (r)
			return r;
	}
	if (pb_ms_lent >= 0) {
		pb_mshot_give(pb_ms_lent, 0);
		io_uring_buf_ring_advance(pb_ms_br, 1);
		pb_ms_lent = -1;
	}
	x->rdata = NULL;
	do {
		if (!pb_ms_armed) {
			sqe = io_uring_get_sqe(&pb_ring);
			io_uring_prep_rw(PB_OP_READ_MULTISHOT, sqe, fd, NULL, 0,
					 0);
			sqe->flags |= IOSQE_BUFFER_SELECT;
			sqe->buf_group = PB_MS_BGID;
			r = pb_ring_submit(0);
			if (r)
				return r;
			pb_ms_armed = true;
		}
		do {
			r = io_uring_wait_cqe(&pb_ring, &cqe);
		} while (r == -EINTR);
		if (r)
			return r;
		res = cqe->res;
		flags = cqe->flags;
		io_uring_cqe_seen(&pb_ring, cqe);
		if (!(flags & IORING_CQE_F_MORE))
			pb_ms_armed = false;
	} while (res == -ENOBUFS);
	if (flags & IORING_CQE_F_BUFFER) {
		pb_ms_lent = flags >> IORING_CQE_BUFFER_SHIFT;
		x->rdata = pb_ms_bufs + (size_t)pb_ms_lent * pb_ms_size;
	}
	return res;
}

static void pb_pg_close(struct pb_xp *x)
{
	close(x->a_out);
	close(x->b_in);
	free(x->msg_a);
	free(x->msg_b);
}

int pb_pg_open(struct pb_xp *x, const char *name, size_t body, int mode)
{
	struct pgt_buf fa = { 0 }, fb = { 0 };
	struct pgt_cid ping, pong;
	struct pgt_ep a, b;
	int err;

	memset(x, 0, sizeof(*x));
	x->name = name;
	x->body = body;
	pgt_cid_named(&ping, "pgbench-ping");
	pgt_cid_named(&pong, "pgbench-pong");
	err = pgt_open(&a, 0);
	if (err)
		return err;
	err = pgt_open(&b, 0);
	if (err) {
		pgt_close(&a);
		return err;
	}
	err = pgt_receive(&b, &ping, NULL, false);
	if (!err && (mode & PB_PG_PONG))
		err = pgt_receive(&a, &pong, NULL, false);
	pgt_buf_free(&a.pend);
	pgt_buf_free(&b.pend);
	x->a_out = x->a_in = a.fd;
	x->b_out = x->b_in = b.fd;
	pb_pg_frame(&fa, &ping, body, false);
	pb_pg_frame(&fb, &pong, body, false);
	x->msg_a = fa.p;
	x->msg_b = fb.p;
	x->msg_len = fa.len;
	x->close = pb_pg_close;
	x->send = pb_pg_write;
	x->recv = pb_pg_read;
	x->batch = PB_BATCH;
	x->rcap = PB_BATCH * x->msg_len;
	switch (mode & 0xf) {
	case PB_PG_SINGLE:
		x->batch = 1;
		x->rcap = x->msg_len;
		break;
	case PB_PG_URING:
		x->send = pb_uring_send;
		x->recv = pb_uring_recv;
		break;
	case PB_PG_MSHOT:
		x->batch = 1;
		x->recv = pb_mshot_recv;
		if (!err && !pb_mshot_supported())
			err = -EOPNOTSUPP;
		break;
	}
	return err;
}

/* ---- module parameters ------------------------------------------------- */

static const char *const pb_params[] = {
	"max_frame", "queue_frames", "queue_bytes", "inflight_bytes",
	"max_receives", "enforcing",
};
static uint64_t pb_saved[PGT_ARRAY_SIZE(pb_params)];
static bool pb_have[PGT_ARRAY_SIZE(pb_params)];

void pb_pg_save_params(void)
{
	size_t i;

	for (i = 0; i < PGT_ARRAY_SIZE(pb_params); i++)
		pb_have[i] = !pgt_param_get(pb_params[i], &pb_saved[i]);
}

void pb_pg_restore_params(void)
{
	size_t i;
	uint64_t v;

	for (i = 0; i < PGT_ARRAY_SIZE(pb_params); i++)
		if (pb_have[i] && !pgt_param_get(pb_params[i], &v) &&
		    v != pb_saved[i])
			pgt_param_set(pb_params[i], pb_saved[i]);
}

/* ---- fan-out and worker group ------------------------------------------- */

struct pb_fan_shm {
	double t0;
	struct pb_side side[PB_MAX_RCV];
};

/*
 * One batched sender, nrcv receivers: fan-out subscribers, or members of
 * one worker group (who also subscribe to an end pCID, since a group
 * frame reaches only one of them). Result: deliveries read per second.
 */
int pb_pg_fan(int nrcv, bool group, size_t body, double *rate)
{
	struct pb_fan_shm *sh = pb_shared(sizeof(*sh));
	struct pgt_buf data = { 0 }, endf = { 0 };
	struct pgt_ep snd, rcv[PB_MAX_RCV];
	uint64_t sent = 0, got = 0;
	struct pb_side s0, s1;
	long rcsw = 0;
	struct pgt_cid dc, ec;
	int i, nopen = 0, err, st;
	uint8_t *sbuf = NULL;
	pid_t pid[PB_MAX_RCV];
	struct pb_xp x = { 0 };
	double t_end = 0;

	pgt_cid_named(&dc, "pgbench-fan");
	pgt_cid_named(&ec, "pgbench-fan-end");
	err = pgt_open(&snd, 0);
	if (err)
		goto out_shm;
	for (i = 0; i < nrcv && !err; i++) {
		err = pgt_open(&rcv[i], 0);
		if (err)
			break;
		nopen++;
		err = pgt_receive(&rcv[i], &dc, group ? "workers" : NULL,
				 false);
		if (!err && group)
			err = pgt_receive(&rcv[i], &ec, NULL, false);
		pgt_buf_free(&rcv[i].pend);
	}
	if (err)
		goto out;
	pb_pg_frame(&data, &dc, body, false);
	pb_pg_frame(&endf, group ? &ec : &dc, body, true);
	x.msg_len = data.len;
	x.msg_a = data.p;
	sbuf = malloc(PB_BATCH * data.len);
	for (i = 0; i < PB_BATCH; i++)
		memcpy(sbuf + i * data.len, data.p, data.len);

	fflush(stdout);
	for (i = 0; i < nrcv; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			size_t cap = PB_BATCH * x.msg_len;
			uint8_t *rb = malloc(cap);
			struct pb_acc a = { 0 };
			int k;

			for (k = 0; k < nrcv; k++)
				if (k != i)
					close(rcv[k].fd);
			close(snd.fd);
			while (!a.end) {
				ssize_t n = read(rcv[i].fd, rb, cap);

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					sh->side[i].err = n ? errno : EPIPE;
					break;
				}
				pb_acc_feed(&a, &x, rb, n);
				if (a.bad) {
					sh->side[i].err = EBADMSG;
					break;
				}
			}
			sh->side[i].t_end = pb_now();
			sh->side[i].msgs = a.msgs;
			pb_usage(&sh->side[i]);
			_exit(0);
		}
	}
	pb_usage(&s0);
	sh->t0 = pb_now();
	pb_start();
	while (pb_more(sent)) {
		err = pb_write_all(snd.fd, sbuf, PB_BATCH * data.len);
		if (err)
			break;
		sent += PB_BATCH;
	}
	pb_usage(&s1);
	if (!err)
		err = pb_write_all(snd.fd, endf.p, endf.len);
	for (i = 0; i < nrcv; i++) {
		if (err)
			kill(pid[i], SIGKILL);
		waitpid(pid[i], &st, 0);
		if (!err && sh->side[i].err)
			err = -sh->side[i].err;
		got += sh->side[i].msgs;
		rcsw += sh->side[i].vcsw + sh->side[i].ivcsw;
		if (sh->side[i].t_end > t_end)
			t_end = sh->side[i].t_end;
	}
	if (!err) {
		uint64_t want = group ? sent : sent * nrcv;

		if (got != want)
			fprintf(stderr, "pgbench: fan-out %d: %llu deliveries, expected %llu\n",
				nrcv, (unsigned long long)got,
				(unsigned long long)want);
		pb_elapsed = t_end - sh->t0;
		*rate = got / pb_elapsed;
		/* per delivery: the sender's, and all receivers' together */
		pb_result_csw((double)(s1.vcsw - s0.vcsw + s1.ivcsw -
				       s0.ivcsw) / (got ? got : 1),
			      (double)rcsw / (got ? got : 1));
	}
out:
	for (i = 0; i < nopen; i++)
		pgt_close(&rcv[i]);
	pgt_close(&snd);
	pgt_buf_free(&data);
	pgt_buf_free(&endf);
	free(sbuf);
out_shm:
	munmap(sh, sizeof(*sh));
	return err;
}

void pb_pg_cases_fanout(void)
{
	static const int ns[] = { 1, 8, 64 };
	size_t s, k;
	char name[64];
	double rate;
	int err;

	for (s = 0; s < PB_NSIZES; s++) {
		for (k = 0; k < PGT_ARRAY_SIZE(ns); k++) {
			snprintf(name, sizeof(name),
				 "fan-out 1->%d, deliveries/s", ns[k]);
			err = pb_pg_fan(ns[k], false, pb_sizes[s], &rate);
			if (err)
				pb_result_na(name, pb_sizes[s], strerror(-err));
			else
				pb_result(name, pb_sizes[s], PB_TPUT, rate,
					  "batched sender");
		}
		snprintf(name, sizeof(name), "worker group of 4, deliveries/s");
		err = pb_pg_fan(4, true, pb_sizes[s], &rate);
		if (err)
			pb_result_na(name, pb_sizes[s], strerror(-err));
		else
			pb_result(name, pb_sizes[s], PB_TPUT, rate,
				  "batched sender");
	}
}

/* ---- cost per frame against the number of pCIDs in use ------------------ */

#define PB_FILL_PER_EP	25000
#define PB_FILL_EPS	8

/* Adds receives on filler pCIDs until *have pCIDs are in use. */
static int pb_fill_to(struct pgt_ep *fill, int *nfill, int *have, int level)
{
	struct pgt_buf req = { 0 };
	struct pgt_cid c;
	char name[32];
	int err = 0, idx;

	while (*have < level && !err) {
		idx = (*have - 1) / PB_FILL_PER_EP;
		if (idx >= PB_FILL_EPS)
			return -ENOSPC;
		if (idx >= *nfill) {
			err = pgt_open(&fill[*nfill], 0);
			if (err)
				break;
			(*nfill)++;
		}
		snprintf(name, sizeof(name), "pgbench-fill-%d", *have);
		pgt_cid_named(&c, name);
		pgt_request_begin(&req, 0, PG_VERB_RECEIVE);
		pgt_args_pcid(&req, &c, NULL, false);
		(*have)++;
		if (req.len > (128 << 10) || *have == level ||
		    (*have - 1) / PB_FILL_PER_EP != idx) {
			err = pb_write_all(fill[idx].fd, req.p, req.len);
			pgt_buf_reset(&req);
		}
	}
	pgt_buf_free(&req);
	return err;
}

static long pb_routes(void)
{
	struct pgt_cb_item mod, ep;
	struct pgt_reply r = { 0 };
	struct pgt_ep e;
	uint64_t v = 0;

	if (pgt_open(&e, 0))
		return -1;
	if (pgt_stats(&e, &r, &mod, &ep) || pgt_cb_map_uint(&mod, "routes", &v))
		v = 0;
	pgt_buf_free(&r.raw);
	pgt_close(&e);
	return (long)v;
}

static struct pgt_ep pb_fill_eps[PB_FILL_EPS];
static int pb_fill_n, pb_fill_have = 1;

int pb_pg_pcids_begin(int level)
{
	uint64_t maxr;
	int err;

	if (!pgt_param_get("max_receives", &maxr) && maxr < PB_FILL_PER_EP)
		pgt_param_set("max_receives", PB_FILL_PER_EP);
	err = pb_fill_to(pb_fill_eps, &pb_fill_n, &pb_fill_have, level);
	/* let a deferred rhashtable resize finish before measuring */
	sleep(3);
	return err;
}

void pb_pg_pcids_end(void)
{
	while (pb_fill_n > 0)
		pgt_close(&pb_fill_eps[--pb_fill_n]);
	pb_fill_have = 1;
	pb_pg_restore_params();
}

void pb_pg_cases_pcids(void)
{
	static const int levels[] = { 1, 1000, 100000 };
	struct pgt_ep fill[PB_FILL_EPS];
	int nfill = 0, have = 1, err = 0, i;
	uint64_t maxr;
	size_t k, s;

	if (!pgt_param_get("max_receives", &maxr) && maxr < PB_FILL_PER_EP)
		pgt_param_set("max_receives", PB_FILL_PER_EP);
	for (k = 0; k < PGT_ARRAY_SIZE(levels); k++) {
		char name[64], note[64];
		double t = pb_now();

		if (levels[k] == 1)
			snprintf(name, sizeof(name), "cost/frame, 1 pCID in use");
		else
			snprintf(name, sizeof(name),
				 "cost/frame, %d %03d pCIDs in use",
				 levels[k] / 1000, levels[k] % 1000);
		if (!err)
			err = pb_fill_to(fill, &nfill, &have, levels[k]);
		fprintf(stderr, "pgbench: %d pCIDs subscribed in %.1f s\n",
			have, pb_now() - t);
		/* let a deferred rhashtable resize finish before measuring */
		if (levels[k] > 1)
			sleep(pb_quick ? 1 : 3);
		for (s = 0; s < PB_NSIZES; s++) {
			struct pb_xp x;
			double rate;
			int e = err, rep;

			if (!e)
				e = pb_pg_open(&x, name, pb_sizes[s],
					       PB_PG_BATCH);
			/* the module counts routes: the case's own is in */
			snprintf(note, sizeof(note), "routes=%ld, batched, best of 3",
				 e ? 0 : pb_routes());
			/* best of 3: the figure is a flatness comparison */
			rate = 0;
			for (rep = 0; rep < 3 && !e; rep++) {
				double r1;

				e = pb_run_tput(&x, &r1);
				if (!e && r1 > rate)
					rate = r1;
			}
			if (e)
				pb_result_na(name, pb_sizes[s], strerror(-e));
			else
				pb_result(name, pb_sizes[s], PB_COST,
					  1e6 / rate, note);
			if (x.close && !err)
				x.close(&x);
		}
	}
	for (i = 0; i < nfill; i++)
		pgt_close(&fill[i]);
	pb_pg_restore_params();
}

/* ---- the capability and eBPF path ---------------------------------------- */

static int pb_req_pcid(struct pgt_ep *ep, const char *verb,
		       const struct pgt_cid *c, int rights, struct pgt_reply *r)
{
	struct pgt_buf args = { 0 };
	struct pgt_map m = { 0 };
	int ret;

	pgt_cb_cid(pgt_map_put(&m, "pcid"), c);
	if (rights)
		pgt_cb_uint(pgt_map_put(&m, "rights"), rights);
	pgt_map_emit(&args, &m);
	ret = pgt_request(ep, pgt_next_id(), verb, &args, r);
	pgt_buf_free(&args);
	return ret;
}

/* B (the receiver) claims the pCID, A redeems a send-only token. */
static int pb_caps_setup(struct pb_xp *x)
{
	struct pgt_ep a = { .fd = x->a_out }, b = { .fd = x->b_in };
	struct pgt_buf args = { 0 };
	struct pgt_reply r = { 0 };
	struct pgt_map m = { 0 };
	struct pgt_cb_item tok;
	struct pgt_cid ping;
	int err;

	pgt_cid_named(&ping, "pgbench-ping");
	err = pb_req_pcid(&b, PG_VERB_CLAIM, &ping, 0, &r);
	if (!err)
		err = pb_req_pcid(&b, PG_VERB_GRANT, &ping, PG_RIGHT_SEND, &r);
	if (!err && (pgt_cb_map_get(&r.details, "token", &tok) || tok.major != 2))
		err = -PGT_EBADREPLY;
	if (!err) {
		pgt_cb_bytes(pgt_map_put(&m, "token"), tok.p + tok.hlen, tok.arg);
		pgt_map_emit(&args, &m);
		err = pgt_request(&a, pgt_next_id(), PG_VERB_REDEEM, &args, &r);
	}
	pgt_buf_free(&args);
	pgt_buf_free(&r.raw);
	pgt_buf_free(&a.pend);
	pgt_buf_free(&b.pend);
	return err;
}

/*
 * A policy that allows everything: it stamps the context, as enforcing=1
 * requires. r2 = ctx->args[0]; r2->stamp = PG_POLICY_STAMP; return 0.
 */
static int pb_bpf_attach(int *prog, int *link, char *why, size_t n)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 2,
		  .src_reg = 1 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 3,
		  .imm = PG_POLICY_STAMP },
		{ .code = BPF_STX | BPF_MEM | BPF_W, .dst_reg = 2, .src_reg = 3,
		  .off = offsetof(struct pg_authz, stamp) },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static char log[4096];
	int err;

	err = pgt_authz_attach(insns, PGT_ARRAY_SIZE(insns), prog, link, log,
			       sizeof(log));
	if (!err)
		return 0;
	if (*prog < 0) {
		snprintf(why, n, "BPF_PROG_LOAD: %s", strerror(-err));
		fprintf(stderr, "pgbench: verifier: %s\n", log);
		return -1;
	}
	snprintf(why, n, "BPF_RAW_TRACEPOINT_OPEN: %s", strerror(-err));
	close(*prog);
	return -1;
}

enum { PB_CAPS_OFF, PB_CAPS_ON, PB_CAPS_BPF };

void pb_pg_cases_caps(void)
{
	static const char *const names[] = {
		"capabilities off (open pCID)",
		"capabilities on (claimed, token)",
		"eBPF policy on (enforcing=1)",
	};
	struct pgt_reply r = { 0 };
	struct pgt_cid probe;
	char why[96] = "";
	struct pgt_ep e;
	size_t s;
	int m, err;

	/* Has the capabilities issue landed? */
	pgt_cid_named(&probe, "pgbench-probe");
	err = pgt_open(&e, 0);
	if (!err)
		err = pb_req_pcid(&e, PG_VERB_CLAIM, &probe, 0, &r);
	pgt_buf_free(&r.raw);
	pgt_close(&e);
	if (err == -EOPNOTSUPP || err == -EBADRQC)
		snprintf(why, sizeof(why), "capabilities not landed");
	else if (err)
		snprintf(why, sizeof(why), "claim: %s", pgt_errname(-err));

	for (s = 0; s < PB_NSIZES; s++) {
		for (m = PB_CAPS_OFF; m <= PB_CAPS_BPF; m++) {
			int prog = -1, link = -1, e2;
			struct pb_xp x;
			double rate;
			char w2[96];

			if (why[0]) {
				pb_result_na(names[m], pb_sizes[s], why);
				continue;
			}
			e2 = pb_pg_open(&x, names[m], pb_sizes[s], PB_PG_BATCH);
			snprintf(w2, sizeof(w2), "%s", e2 ? strerror(-e2) : "");
			if (!e2 && m == PB_CAPS_ON) {
				e2 = pb_caps_setup(&x);
				if (e2)
					snprintf(w2, sizeof(w2), "claim/grant/redeem: %s",
						 pgt_errname(-e2));
			}
			if (!e2 && m == PB_CAPS_BPF) {
				e2 = pb_bpf_attach(&prog, &link, w2,
						   sizeof(w2));
				if (!e2 && pgt_param_set("enforcing", 1)) {
					snprintf(w2, sizeof(w2), "enforcing=1 refused");
					e2 = -1;
				}
			}
			if (!e2) {
				e2 = pb_run_tput(&x, &rate);
				if (e2)
					snprintf(w2, sizeof(w2), "%s",
						 strerror(-e2));
			}
			if (m == PB_CAPS_BPF)
				pgt_param_set("enforcing", 0);
			if (link >= 0)
				close(link);
			if (prog >= 0)
				close(prog);
			if (e2)
				pb_result_na(names[m], pb_sizes[s], w2);
			else
				pb_result(names[m], pb_sizes[s], PB_TPUT, rate,
					  "batched");
			if (x.close)
				x.close(&x);
		}
	}
}

/*
 * Side 0: batched sends on an open pCID, no program; side 1: the same
 * with enforcing=1 and a stamping program on pg_authorize.
 */
int pb_pg_policy(size_t body, int side, double *v)
{
	int prog = -1, link = -1, err;
	struct pb_xp x;
	char why[96];

	err = pb_pg_open(&x, PB_PAIRED_POLICY, body, PB_PG_BATCH);
	if (!err && side) {
		err = pb_bpf_attach(&prog, &link, why, sizeof(why)) ? -EPERM : 0;
		if (!err && pgt_param_set("enforcing", 1))
			err = -EPERM;
	}
	if (!err)
		err = pb_run_tput(&x, v);
	if (side)
		pgt_param_set("enforcing", 0);
	if (link >= 0)
		close(link);
	if (prog >= 0)
		close(prog);
	if (x.close)
		x.close(&x);
	return err;
}

void pb_pg_paired_policy(void)
{
	/* cost = time per frame on / off = throughput off / on */
	pb_paired(PB_PAIRED_POLICY, 64, pb_pg_policy, true);
	pb_paired(PB_PAIRED_POLICY, 1024, pb_pg_policy, true);
}
