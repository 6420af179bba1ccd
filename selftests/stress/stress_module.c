// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: unloading the module (docs/abi.md "Security model"). With
 * files open, a reader blocked in read and an io_uring read in flight,
 * rmmod (delete_module) must be refused (EAGAIN or EBUSY) and the device must go
 * on working; once they are closed it unloads, and loads again from
 * $PG_KO. Then unload/load cycles race threads that open, write, read
 * and close: each open either works or fails because the device is gone,
 * each unload either works or is refused. Runs last: it reloads the
 * module with its default parameters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stress.h"

#define MODNAME		"promisegrid"
#define OPENERS		3

static int unload(void)
{
	return syscall(SYS_delete_module, MODNAME, O_NONBLOCK) ? -errno : 0;
}

/* A refused unload: EAGAIN (EWOULDBLOCK) with O_NONBLOCK, or EBUSY. */
static bool refused(int err)
{
	return err == -EBUSY || err == -EAGAIN;
}

/* Loads $PG_KO and waits for the device node; 0 or -errno. */
static int load(void)
{
	const char *ko = getenv("PG_KO") ? getenv("PG_KO") :
			 "/pg/promisegrid.ko";
	int fd = open(ko, O_RDONLY | O_CLOEXEC), i, ret = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		ret = errno == EEXIST ? 0 : -errno;
	close(fd);
	for (i = 0; !ret && i < 500 && access(PG_DEVICE_PATH, F_OK); i++)
		usleep(10000);
	return ret;
}

static bool loaded(void)
{
	return access("/sys/module/" MODNAME "/initstate", F_OK) == 0;
}

static void *blocked_reader(void *arg)
{
	uint8_t buf[256];

	pgt_read(*(int *)arg, buf, sizeof(buf));
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

static int test_rmmod_open(const void *arg)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct pgt_ep eps[64], tx;
	struct io_uring ring;
	struct pgt_cid c;
	uint8_t rbuf[256];
	bool uring;
	pthread_t t;
	unsigned int i;
	uint64_t id;

	(void)arg;
	if (!loaded())
		return pgt_skip("module not loaded");
	sigaction(SIGUSR1, &sa, NULL);
	pgt_cid_named(&c, "module-rmmod");
	for (i = 0; i < PGT_ARRAY_SIZE(eps); i++) {
		CHECK(pgt_open(&eps[i], 0) == 0);
		CHECK(pgt_receive(&eps[i], &c, NULL, false) == 0);
	}
	CHECK(pthread_create(&t, NULL, blocked_reader, &eps[0].fd) == 0);
	uring = io_uring_queue_init(4, &ring, 0) == 0;
	if (uring) {
		io_uring_prep_read(io_uring_get_sqe(&ring), eps[1].fd, rbuf,
				   sizeof(rbuf), 0);
		CHECK_EQ(io_uring_submit(&ring), 1);
	}
	usleep(20000);
	for (i = 0; i < PGT_ARRAY_SIZE(eps); i++)	/* the calls hold them */
		close(eps[i].fd);
	/* open files, a blocked read and a ring request: refused */
	CHECK(refused(unload()));
	CHECK(loaded());
	CHECK(pgt_open(&tx, 0) == 0);
	CHECK(pgt_hello(&tx, &id) == 0);
	pgt_close(&tx);
	CHECK(refused(unload()));
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	if (uring)
		io_uring_queue_exit(&ring);
	/* every file gone (ring teardown may finish asynchronously) */
	for (i = 0; i < 200 && refused(unload()); i++)
		usleep(10000);
	CHECK(!loaded());
	CHECK(access(PG_DEVICE_PATH, F_OK) != 0);
	CHECK(load() == 0);
	CHECK(pgt_open(&tx, 0) == 0);
	CHECK(pgt_hello(&tx, &id) == 0);
	CHECK_EQ(id, 1);	/* a new module counts from 1 */
	pgt_close(&tx);
	return PGT_PASS;
}

struct cycle {
	volatile int done;
	uint64_t opens, gone, bad;
};

static void *opener(void *arg)
{
	struct cycle *cy = arg;
	struct pgt_cid c;
	uint8_t buf[512];
	struct pgt_ep ep;
	const char *step;
	ssize_t n;

	pgt_cid_named(&c, "module-cycle");
	while (!cy->done) {
		ep.fd = open(PG_DEVICE_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (ep.fd < 0) {
			if (errno != ENOENT && errno != ENODEV &&
			    errno != ENXIO) {
				pgt_diag("open: %s", strerror(errno));
				__sync_fetch_and_add(&cy->bad, 1);
			}
			__sync_fetch_and_add(&cy->gone, 1);
			usleep(500);
			continue;
		}
		memset(&ep.pend, 0, sizeof(ep.pend));
		step = "receive";
		n = st_request0(&ep, PG_VERB_RECEIVE, &c, NULL);
		if (!n)
			step = "send";
		if (!n)
			n = pgt_send_msg(&ep, &c, 1);
		if (n > 0) {
			step = "read";
			n = pgt_read(ep.fd, buf, sizeof(buf));
		}
		if (n <= 0) {
			pgt_diag("%s: %s", step, n ? pgt_errname(-n) : "0");
			__sync_fetch_and_add(&cy->bad, 1);
		}
		close(ep.fd);
		__sync_fetch_and_add(&cy->opens, 1);
	}
	return NULL;
}

static int test_rmmod_cycles(const void *arg)
{
	uint64_t dl, unloads = 0, nrefused = 0;
	struct cycle cy = { 0 };
	pthread_t t[OPENERS];
	unsigned int i;
	int err;

	(void)arg;
	if (!loaded())
		return pgt_skip("module not loaded");
	for (i = 0; i < OPENERS; i++)
		CHECK(pthread_create(&t[i], NULL, opener, &cy) == 0);
	dl = st_deadline(100);
	while (st_running(dl)) {
		err = unload();
		if (refused(err)) {
			nrefused++;
			usleep(1000);
			continue;
		}
		CHECK_EQ(err, 0);
		unloads++;
		usleep(2000);
		CHECK(load() == 0);
		usleep(2000);
	}
	cy.done = 1;
	for (i = 0; i < OPENERS; i++)
		pthread_join(t[i], NULL);
	if (!loaded())
		CHECK(load() == 0);
	pgt_diag("%llu unloads, %llu refused; %llu opens worked, %llu found"
		" no device", (unsigned long long)unloads,
		(unsigned long long)nrefused, (unsigned long long)cy.opens,
		(unsigned long long)cy.gone);
	CHECK_EQ(cy.bad, 0);
	CHECK(unloads > 0);
	return PGT_PASS;
}

static const struct pgt_test tests[] = {
	PGT_TEST(test_rmmod_open, "rmmod refused while files, a blocked read and io_uring hold it"),
	PGT_TEST(test_rmmod_cycles, "rmmod/insmod cycles racing open/write/read/close"),
};

int main(int argc, char **argv)
{
	st_init(argc, argv, 4);
	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
