// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * pg-policy: load, inspect and unload the eBPF policies of the
 * promisegrid module.
 *
 *   pg-policy load [default|uid-allow]   attach and pin under
 *                                        /sys/fs/bpf/promisegrid/NAME/
 *   pg-policy unload [NAME|all]          unpin: the link goes away
 *   pg-policy status                     which policies are attached
 *   pg-policy audit [--count N] [--timeout MS]
 *                                        print denials from pg_audit
 *   pg-policy allow PCIDHEX UID          uid-allow: allow UID on the pCID
 *                                        (and list the pCID)
 *
 * Loader order as in libbpf-bootstrap: open, load, attach, pin. The pinned
 * link keeps the program attached (and the module pinned) after we exit.
 * Exit: 0 done, 1 failed, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/promisegrid.h>

#include "pg_policy.h"
#include "pg_policy.skel.h"
#include "pg_uid_allow.skel.h"

#define PIN_ROOT	"/sys/fs/bpf/promisegrid"
#define BPF_FS_MAGIC_	0xcafe4a11

static int usage(void)
{
	fprintf(stderr,
		"usage: pg-policy load [default|uid-allow]\n"
		"       pg-policy unload [default|uid-allow|all]\n"
		"       pg-policy status\n"
		"       pg-policy audit [--count N] [--timeout MS]\n"
		"       pg-policy allow PCIDHEX UID\n");
	return 2;
}

/* Say why an attach or load failed, in the terms a user can act on. */
static int explain(const char *what, int err)
{
	err = err < 0 ? -err : err;
	if (err == EPERM || err == EACCES)
		fprintf(stderr, "pg-policy: %s: no BPF permission (run as root, or with CAP_BPF and CAP_PERFMON)\n", what);
	else if (err == ENOENT || err == EINVAL)
		fprintf(stderr, "pg-policy: %s: tracepoint pg_authorize not found: is the promisegrid module loaded?\n", what);
	else if (err == ENOTSUP || err == EOPNOTSUPP || err == ENOSYS)
		fprintf(stderr, "pg-policy: %s: this kernel has no writable raw tracepoints for BPF (too old?)\n", what);
	else
		fprintf(stderr, "pg-policy: %s: %s\n", what, strerror(err));
	return 1;
}

static int check_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC_) {
		fprintf(stderr, "pg-policy: bpffs is not mounted on /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)\n");
		return 1;
	}
	if (mkdir(PIN_ROOT, 0700) && errno != EEXIST)
		return explain("mkdir " PIN_ROOT, errno);
	return 0;
}

static int pin_dir(const char *name, char *dir, size_t n)
{
	snprintf(dir, n, PIN_ROOT "/%s", name);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return explain(dir, errno);
	return 0;
}

static int pin_link(struct bpf_link *link, const char *dir)
{
	char path[256];
	int err;

	snprintf(path, sizeof(path), "%s/link", dir);
	err = bpf_link__pin(link, path);
	if (err)
		return explain(path, err);
	/* Leave it attached when we exit: the pin holds it. */
	bpf_link__disconnect(link);
	return 0;
}

static int pin_map(struct bpf_map *map, const char *dir)
{
	char path[256];
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
	err = bpf_map__pin(map, path);
	return err ? explain(path, err) : 0;
}

/* Attach through a link we own, so that it can be pinned. */
static int attach_pin(struct bpf_program *prog, const char *dir)
{
	struct bpf_link *link = bpf_program__attach(prog);
	int err;

	if (!link)
		return explain("attach", errno);
	err = pin_link(link, dir);
	bpf_link__destroy(link);
	return err;
}

static int load(const char *name)
{
	char dir[128];
	int err;

	err = check_bpffs();
	if (err)
		return err;
	err = pin_dir(name, dir, sizeof(dir));
	if (err)
		return err;
	if (!strcmp(name, "default")) {
		struct pg_policy_bpf *s = pg_policy_bpf__open_and_load();

		if (!s)
			return explain("load pg_policy", errno);
		err = attach_pin(s->progs.pg_policy, dir);
		err = err ?: pin_map(s->maps.pg_audit, dir);
		err = err ?: pin_map(s->maps.pg_counts, dir);
		pg_policy_bpf__destroy(s);
	} else if (!strcmp(name, "uid-allow")) {
		struct pg_uid_allow_bpf *s = pg_uid_allow_bpf__open_and_load();

		if (!s)
			return explain("load pg_uid_allow", errno);
		err = attach_pin(s->progs.pg_uid_allow_policy, dir);
		err = err ?: pin_map(s->maps.pg_uid_listed, dir);
		err = err ?: pin_map(s->maps.pg_uid_allow, dir);
		pg_uid_allow_bpf__destroy(s);
	} else {
		return usage();
	}
	if (!err)
		printf("pg-policy: %s attached, pinned under %s\n", name, dir);
	return err;
}

static const char *const policies[] = { "default", "uid-allow" };
static const char *const pinned[] = {
	"link", "pg_audit", "pg_counts", "pg_uid_listed", "pg_uid_allow",
};

static int unload(const char *name)
{
	char path[256];
	size_t i, p;
	int found = 0;

	for (p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
		if (strcmp(name, "all") && strcmp(name, policies[p]))
			continue;
		for (i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
			snprintf(path, sizeof(path), PIN_ROOT "/%s/%s",
				 policies[p], pinned[i]);
			found |= !unlink(path);
		}
		snprintf(path, sizeof(path), PIN_ROOT "/%s", policies[p]);
		rmdir(path);
	}
	if (!found) {
		fprintf(stderr, "pg-policy: %s is not loaded\n", name);
		return 1;
	}
	printf("pg-policy: %s detached\n", name);
	return 0;
}

static int status(void)
{
	char path[256];
	size_t p;

	for (p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
		snprintf(path, sizeof(path), PIN_ROOT "/%s/link", policies[p]);
		printf("%-10s %s\n", policies[p],
		       access(path, F_OK) ? "detached" : "attached");
	}
	return 0;
}

static const char *op_name(__u32 op)
{
	static const char *const names[] = {
		"?", "send", "receive", "claim", "grant", "redeem", "revoke",
		"deliver",
	};

	return op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

static int on_event(void *ctx, void *data, size_t len)
{
	const struct pg_audit_event *ev = data;
	int *left = ctx;

	if (len < sizeof(*ev))
		return 0;
	printf("deny op=%s endpoint=%llu pid=%u uid=%u pcid=%016llx rights=%#x wanted=%#x builtin=%s\n",
	       op_name(ev->op), (unsigned long long)ev->endpoint, ev->pid,
	       ev->uid, (unsigned long long)ev->pcid_hash, ev->rights,
	       ev->wanted, ev->builtin ? "deny" : "allow");
	fflush(stdout);
	return --*left > 0 ? 0 : 1;
}

static int audit(int count, int timeout_ms)
{
	struct ring_buffer *rb;
	int fd, left = count, waited = 0, err = 0;

	fd = bpf_obj_get(PIN_ROOT "/default/pg_audit");
	if (fd < 0) {
		fprintf(stderr, "pg-policy: the default policy is not loaded\n");
		return 1;
	}
	rb = ring_buffer__new(fd, on_event, &left, NULL);
	if (!rb)
		return explain("ring buffer", errno);
	while (left > 0 && (timeout_ms < 0 || waited < timeout_ms)) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR)
			break;
		waited += 100;
		err = 0;
	}
	ring_buffer__free(rb);
	close(fd);
	if (err)
		return explain("poll", err);
	return left > 0 && count > 0 ? 1 : 0;
}

/* FNV-1a 64 over the CID bytes: the module's pcid_hash. */
static __u64 fnv1a(const unsigned char *p, size_t n)
{
	__u64 h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int allow(const char *hex, const char *uid)
{
	unsigned char cid[PG_CID_MAX];
	struct pg_uid_key key = { 0 };
	__u8 one = 1;
	unsigned int b;
	size_t n = 0;
	int lfd, afd;

	while (hex[0] && hex[1] && n < sizeof(cid) &&
	       sscanf(hex, "%2x", &b) == 1) {
		cid[n++] = b;
		hex += 2;
	}
	if (n < PG_CID_MIN || *hex)
		return usage();
	key.pcid_hash = fnv1a(cid, n);
	key.uid = strtoul(uid, NULL, 0);
	lfd = bpf_obj_get(PIN_ROOT "/uid-allow/pg_uid_listed");
	afd = bpf_obj_get(PIN_ROOT "/uid-allow/pg_uid_allow");
	if (lfd < 0 || afd < 0) {
		fprintf(stderr, "pg-policy: the uid-allow policy is not loaded\n");
		return 1;
	}
	if (bpf_map_update_elem(afd, &key, &one, BPF_ANY) ||
	    bpf_map_update_elem(lfd, &key.pcid_hash, &one, BPF_ANY))
		return explain("map update", errno);
	printf("pg-policy: uid %u allowed on pcid %016llx\n", key.uid,
	       (unsigned long long)key.pcid_hash);
	return 0;
}

int main(int argc, char **argv)
{
	int count = 1, timeout_ms = 3000, i;

	if (argc < 2)
		return usage();
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!strcmp(argv[1], "load"))
		return load(argc > 2 ? argv[2] : "default");
	if (!strcmp(argv[1], "unload"))
		return unload(argc > 2 ? argv[2] : "all");
	if (!strcmp(argv[1], "status"))
		return status();
	if (!strcmp(argv[1], "allow") && argc == 4)
		return allow(argv[2], argv[3]);
	if (!strcmp(argv[1], "audit")) {
		for (i = 2; i + 1 < argc; i += 2) {
			if (!strcmp(argv[i], "--count"))
				count = atoi(argv[i + 1]);
			else if (!strcmp(argv[i], "--timeout"))
				timeout_ms = atoi(argv[i + 1]);
			else
				return usage();
		}
		return audit(count, timeout_ms);
	}
	return usage();
}
