/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pgbench: shared declarations of the benchmark (see pgbench.c).
 */
#ifndef PGBENCH_H
#define PGBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pgtest.h"

#define PB_BATCH	32	/* frames per write / submissions per enter */
#define PB_NSIZES	3
#define PB_MAX_RCV	64	/* most receiver processes of one case */

extern const size_t pb_sizes[PB_NSIZES];
extern double pb_secs;		/* seconds per case */
extern bool pb_quick;
extern uint64_t pb_count;	/* messages per case (--count); 0: timed */
extern double pb_elapsed;	/* seconds the last case measured */

/*
 * One transport for the throughput and ping-pong harness. A message is
 * msg_len bytes; its last byte is 0 for data and 1 for the end marker,
 * its first byte is always first (a check that the stream stays framed).
 */
struct pb_xp {
	const char *name;
	size_t body;
	size_t msg_len;
	int batch;			/* messages per send call */
	size_t rcap;			/* receive buffer, >= msg_len */
	int a_out, a_in, b_out, b_in;	/* A -> B and B -> A (ping-pong) */
	uint8_t *msg_a, *msg_b;		/* data messages A and B send */
	/* one call sending n messages of len bytes from buf; 0 or -errno */
	int (*send)(struct pb_xp *x, int fd, const uint8_t *buf, size_t len,
		    int n);
	/* one call receiving at most cap bytes: count or -errno */
	ssize_t (*recv)(struct pb_xp *x, int fd, uint8_t *buf, size_t cap);
	/* set by a recv that left the bytes elsewhere than buf, else NULL */
	const uint8_t *rdata;
	void (*close)(struct pb_xp *x);
};

/* Per-process accounting a receiver or sender writes into shared memory. */
struct pb_side {
	uint64_t msgs;
	double t_end;
	long vcsw, ivcsw;
	int err;
};

/* Counts the messages in received bytes; sets *end on the end marker. */
struct pb_acc {
	size_t pos;		/* bytes of the current message seen */
	uint64_t msgs;
	bool end;
	bool bad;
};

void pb_acc_feed(struct pb_acc *a, const struct pb_xp *x, const uint8_t *p,
		 size_t n);

#include <signal.h>
extern volatile sig_atomic_t pb_stop;
/* pb_stop becomes true after secs (SIGALRM). */
void pb_arm(double secs);
double pb_now(void);
/* Starts a case: arms the timer unless pb_count sets the length. */
void pb_start(void);
/* Whether a sender that has done done messages goes on. */
bool pb_more(uint64_t done);
void *pb_shared(size_t n);
void pb_usage(struct pb_side *s);
int pb_write_all(int fd, const uint8_t *p, size_t n);

/*
 * Results. kind: throughput (msgs/s), latency (us), cost (us/frame), or
 * a ratio measured in alternating rounds against SEQPACKET (paired).
 */
enum pb_kind { PB_TPUT, PB_LAT_MED, PB_LAT_P99, PB_COST, PB_PAIRED };

void pb_result(const char *name, size_t body, enum pb_kind kind,
	       double value, const char *note);
void pb_result_na(const char *name, size_t body, const char *why);
void pb_result_csw(double snd_csw, double rcv_csw);
/* What the last harness run counted (<0: none). */
void pb_last_csw(double *snd_csw, double *rcv_csw);

/* Throughput of x, one sender (A) and one receiver (B). */
int pb_run_tput(struct pb_xp *x, double *rate);
int pb_run_pingpong(struct pb_xp *x, double *med, double *p99);

/* One measurement of side 0 or 1 of a paired comparison; 0 or -errno. */
typedef int (*pb_measure_fn)(size_t body, int side, double *v);
/* Alternating rounds of the two sides; adds the median ratio as a row. */
void pb_paired(const char *name, size_t body, pb_measure_fn measure,
	       bool invert);
#define PB_PAIRED_POLICY "paired rounds: eBPF policy on vs off, cost per frame"

/* The other transports (pgbench.c); 0 or -errno. */
enum { PB_SEQPACKET, PB_DGRAM, PB_PIPE, PB_MQ, PB_NBASE };
extern const char *const pb_base_names[PB_NBASE];
int pb_base_open(struct pb_xp *x, int which, size_t body);

/* promisegrid cases (pgbench_pg.c) */
int pb_pg_open(struct pb_xp *x, const char *name, size_t body, int mode);
enum { PB_PG_SINGLE, PB_PG_BATCH, PB_PG_URING, PB_PG_MSHOT };
#define PB_PG_PONG	0x10	/* A receives too (ping-pong) */
void pb_pg_frame(struct pgt_buf *b, const struct pgt_cid *c, size_t body,
		 bool end);
/* A batched sender, nrcv subscribers (or a worker group): deliveries/s. */
int pb_pg_fan(int nrcv, bool group, size_t body, double *rate);
/* Batched sends, side 0 no policy, side 1 enforcing=1 and a program. */
int pb_pg_policy(size_t body, int side, double *rate);
void pb_pg_cases_fanout(void);
/* Receives held by idle endpoints until level pCIDs are in use; undone. */
int pb_pg_pcids_begin(int level);
void pb_pg_pcids_end(void);
void pb_pg_cases_pcids(void);
void pb_pg_cases_caps(void);
void pb_pg_paired_policy(void);
void pb_pg_save_params(void);
void pb_pg_restore_params(void);

/* The repeatable figures (pgbench_count.c): fixed counts, virtual time. */
void pb_count_cases(const char *only);
int pb_count_profile(const char *which, size_t body, uint64_t n);

#endif /* PGBENCH_H */
