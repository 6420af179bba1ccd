// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * pg: the grid kernel from the shell.
 *
 *	pg VERB [OPTIONS] ARGS      pg VERB --help      pg help
 *
 * Every verb opens its own endpoint, unless --fd N names one the shell
 * opened (exec 3<>/dev/promisegrid): then several commands share it, and
 * what it receives, claims or redeems outlives each of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg.h"

const char *pg_verb_name = "pg";

const char *pg_errno_name(int err)
{
	static const struct { int err; const char *name; } names[] = {
		{ EBADMSG, "EBADMSG" }, { EILSEQ, "EILSEQ" }, { EPROTO, "EPROTO" },
		{ EMSGSIZE, "EMSGSIZE" }, { E2BIG, "E2BIG" },
		{ EHOSTUNREACH, "EHOSTUNREACH" }, { ENOBUFS, "ENOBUFS" },
		{ EPERM, "EPERM" }, { EACCES, "EACCES" }, { EAGAIN, "EAGAIN" },
		{ EINVAL, "EINVAL" }, { EBADRQC, "EBADRQC" }, { EEXIST, "EEXIST" },
		{ ENOENT, "ENOENT" }, { ENOSPC, "ENOSPC" }, { ESRCH, "ESRCH" },
		{ EMLINK, "EMLINK" }, { ETIMEDOUT, "ETIMEDOUT" }, { ETIME, "ETIME" },
		{ EREMOTEIO, "EREMOTEIO" }, { ENOEXEC, "ENOEXEC" },
		{ EMFILE, "EMFILE" }, { ENODEV, "ENODEV" }, { ENXIO, "ENXIO" },
		{ EBADF, "EBADF" }, { EFBIG, "EFBIG" }, { EINTR, "EINTR" },
		{ ENOMEM, "ENOMEM" }, { EPIPE, "EPIPE" },
		{ EPROTONOSUPPORT, "EPROTONOSUPPORT" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	return "errno";
}

int pg_error(const char *what, int err, const char *reason)
{
	if (err < 0)
		err = -err;
	fprintf(stderr, "pg %s: %s: %s (%s)", pg_verb_name, what,
		pg_errno_name(err), strerror(err));
	if (reason && *reason && strcmp(reason, strerror(err)))
		fprintf(stderr, ": %s", reason);
	fputc('\n', stderr);
	if (err == ENOENT && !strcmp(what, "open " PG_DEVICE_PATH))
		fputs("pg: is the module loaded? (insmod promisegrid.ko)\n", stderr);
	return err == ETIMEDOUT ? PG_EXIT_TIMEOUT : PG_EXIT_FAIL;
}

int pg_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pg %s: ", pg_verb_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see pg %s --help)\n", pg_verb_name);
	return PG_EXIT_USAGE;
}

int pg_endpoint(const struct pg_opts *o, struct pg **pg)
{
	int err = o->fd >= 0 ? pg_attach(pg, o->fd) : pg_open(pg, 0);

	if (err)
		return pg_error(o->fd >= 0 ? "--fd" : "open " PG_DEVICE_PATH,
				err, NULL);
	return 0;
}

int pg_pcid_arg(const char *s, struct pg_cid *c)
{
	struct stat st;

	if (!pg_cid_parse(s, c))
		return 0;
	if (!stat(s, &st) && S_ISREG(st.st_mode) && !pg_cid_of_file(s, c))
		return 0;
	return pg_usage("%s is not a CID or a spec file", s);
}

int pg_endpoint_noargs(const struct pg_opts *o, int argc, struct pg **pg)
{
	return argc ? pg_usage("takes no arguments") : pg_endpoint(o, pg);
}

int pg_read_all(int fd, struct pg_buf *b, size_t max)
{
	uint8_t chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (b->len + n > max)
			return -EFBIG;
		if (pg_buf_put(b, chunk, n))
			return -ENOMEM;
	}
	return 0;
}

void pg_print_msg(const struct pg_opts *o, const struct pg_msg *m)
{
	if (o->raw) {
		fwrite(m->raw, 1, m->raw_len, stdout);
	} else {
		pg_fprint(stdout, m->raw, m->raw_len,
			  o->json ? PG_PRINT_JSON : PG_PRINT_DIAG);
		fputc('\n', stdout);
	}
	fflush(stdout);
}

/* ---- hello, stats, cid ---------------------------------------------------- */

static int cmd_hello(struct pg_opts *o, int argc, char **argv)
{
	struct pg_hello h;
	struct pg *pg;
	int r;

	(void)argv;
	r = pg_endpoint_noargs(o, argc, &pg);
	if (r)
		return r;
	r = pg_hello(pg, &h);
	if (r) {
		r = pg_error("hello", r, pg_reason(pg));
	} else {
		const struct { const char *name; uint64_t v; } f[] = {
			{ "version", h.version }, { "endpoint", h.endpoint },
			{ "max_frame", h.max_frame }, { "max_depth", h.max_depth },
			{ "queue_frames", h.queue_frames },
			{ "queue_bytes", h.queue_bytes },
			{ "inflight_bytes", h.inflight_bytes },
		};
		size_t i, n = sizeof(f) / sizeof(f[0]);

		if (o->json)
			putchar('{');
		for (i = 0; i < n; i++) {
			if (o->json)
				printf("%s\"%s\": %" PRIu64, i ? ", " : "",
				       f[i].name, f[i].v);
			else
				printf("%s %" PRIu64 "\n", f[i].name, f[i].v);
		}
		if (o->json)
			puts("}");
	}
	pg_close(pg);
	return r;
}

static void print_counters(const char *prefix, const cbor_item_t *map)
{
	struct cbor_pair *p = cbor_map_handle(map);
	size_t i;

	for (i = 0; i < cbor_map_size(map); i++) {
		if (!cbor_isa_string(p[i].key) || !cbor_isa_uint(p[i].value))
			continue;
		printf("%s.%.*s %" PRIu64 "\n", prefix,
		       (int)cbor_string_length(p[i].key),
		       (const char *)cbor_string_handle(p[i].key),
		       cbor_get_int(p[i].value));
	}
}

static int cmd_stats(struct pg_opts *o, int argc, char **argv)
{
	cbor_item_t *mod, *ep;
	struct pg_buf b = { 0 };
	struct pg *pg;
	int r;

	(void)argv;
	r = pg_endpoint_noargs(o, argc, &pg);
	if (r)
		return r;
	r = pg_stats(pg, &mod, &ep);
	if (r) {
		r = pg_error("stats", r, pg_reason(pg));
		goto out;
	}
	if (o->json) {
		fputs("{\"module\": ", stdout);
		pg_cbor_encode(&b, mod);
		pg_fprint(stdout, b.p, b.len, PG_PRINT_JSON);
		b.len = 0;
		fputs(", \"endpoint\": ", stdout);
		pg_cbor_encode(&b, ep);
		pg_fprint(stdout, b.p, b.len, PG_PRINT_JSON);
		fputs("}\n", stdout);
		pg_buf_free(&b);
	} else {
		print_counters("module", mod);
		print_counters("endpoint", ep);
	}
	cbor_decref(&mod);
	cbor_decref(&ep);
out:
	pg_close(pg);
	return r;
}

static int cmd_cid(struct pg_opts *o, int argc, char **argv)
{
	char s[PG_CID_STR_MAX];
	struct pg_cid c;
	size_t i;
	int k, r;

	if (!argc)
		return pg_usage("needs a FILE");
	for (k = 0; k < argc; k++) {
		r = pg_cid_of_file(argv[k], &c);
		if (r)
			return pg_error(argv[k], r, NULL);
		if (o->raw) {	/* --hex: the hex of slot 0's bytes */
			printf("00");
			for (i = 0; i < c.len; i++)
				printf("%02x", c.b[i]);
		} else {
			pg_cid_format(&c, s, sizeof(s));
			fputs(s, stdout);
		}
		printf(argc > 1 ? "  %s\n" : "\n", argv[k]);
	}
	return 0;
}

/* ---- send ----------------------------------------------------------------- */

/* Encodes a libcbor item (consumed) onto out. */
static int put_item(struct pg_buf *out, cbor_item_t *it)
{
	int r;

	if (!it)
		return -ENOMEM;
	r = pg_cbor_encode(out, it);
	cbor_decref(&it);
	return r;
}

/* h'0a1b...' into b. */
static int parse_hex(const char *s, size_t n, struct pg_buf *b)
{
	unsigned int v;
	uint8_t byte;
	size_t i;

	if (n % 2)
		return -EINVAL;
	for (i = 0; i < n; i += 2) {
		if (sscanf(s + i, "%2x", &v) != 1)
			return -EINVAL;
		byte = (uint8_t)v;
		if (pg_buf_put(b, &byte, 1))
			return -ENOMEM;
	}
	return 0;
}

/*
 * One SLOT argument, in a small part of diagnostic notation: 7, -3,
 * "text", h'00ff', true, false, null; or @FILE (a byte string of the
 * file's bytes), - (of stdin's).
 */
static int parse_slot(const char *s, struct pg_buf *out)
{
	struct pg_buf b = { 0 };
	size_t n = strlen(s);
	char *end;
	int r = 0;

	if (!strcmp(s, "true") || !strcmp(s, "false"))
		return put_item(out, cbor_build_bool(s[0] == 't'));
	if (!strcmp(s, "null"))
		return put_item(out, cbor_new_null());
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
		return put_item(out, cbor_build_stringn(s + 1, n - 2));
	if (n >= 3 && s[0] == 'h' && s[1] == '\'' && s[n - 1] == '\'') {
		r = parse_hex(s + 2, n - 3, &b);
	} else if (s[0] == '@' || !strcmp(s, "-")) {
		int fd = s[0] == '-' ? 0 : open(s + 1, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		r = pg_read_all(fd, &b, PG_MAX_FRAME_LIMIT);
		if (fd)
			close(fd);
	} else if (s[0] == '-') {
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || *end || v >= 0)
			return -EINVAL;
		return put_item(out, cbor_build_negint64((uint64_t)(-1 - v)));
	} else {
		unsigned long long v;

		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || *end || !*s)
			return -EINVAL;
		return put_item(out, cbor_build_uint64(v));
	}
	if (!r)
		r = put_item(out, cbor_build_bytestring(b.p ? b.p : (uint8_t *)"", b.len));
	pg_buf_free(&b);
	return r;
}

/* The slots of stdin: a CBOR sequence of items, each in grid-cbor. */
static int stdin_slots(struct pg_buf *slots, size_t *n)
{
	size_t off = 0;
	int r = pg_read_all(0, slots, PG_MAX_FRAME_LIMIT);
	ssize_t len;

	*n = 0;
	while (!r && off < slots->len) {
		len = pg_item_len(slots->p + off, slots->len - off, true);
		if (len < 0)
			return -EBADMSG;
		off += len;
		++*n;
	}
	return r;
}

static int cmd_send(struct pg_opts *o, int argc, char **argv)
{
	struct pg_buf frame = { 0 }, slots = { 0 };
	struct pg_batch batch = { 0 };
	struct pg_cid pcid;
	size_t n = 0, accepted = 0, off, len;
	struct pg *pg = NULL;
	ssize_t w;
	int k, r;

	if (o->raw) {
		/* stdin: whole frames, sent as they are, in as few writes. */
		if (argc)
			return pg_usage("--raw takes no arguments: frames come on stdin");
		r = pg_read_all(0, &slots, PG_MAX_FRAME_LIMIT * 16);
		for (off = 0; !r && off < slots.len; off += len) {
			w = pg_frame_len(slots.p + off, slots.len - off);
			if (w < 0) {
				fprintf(stderr, "pg send: frame %zu: %s\n", batch.n + 1,
					pg_frame_strerror(slots.p + off, slots.len - off));
				r = (int)w;
				break;
			}
			len = w;
			r = pg_batch_add(&batch, slots.p + off, len);
		}
		if (r) {
			r = pg_error("stdin", r, NULL);
			goto out;
		}
	} else {
		if (argc < 1)
			return pg_usage("needs a PCID");
		r = pg_pcid_arg(argv[0], &pcid);
		if (r)
			return r;
		if (argc > 1) {
			for (k = 1; k < argc; k++) {
				r = parse_slot(argv[k], &slots);
				if (r) {
					pg_usage("slot %d: cannot read %s", k, argv[k]);
					r = PG_EXIT_USAGE;
					goto out;
				}
			}
			n = argc - 1;
		} else {
			r = stdin_slots(&slots, &n);
			if (r) {
				r = pg_error("stdin: a CBOR sequence of slots", r, NULL);
				goto out;
			}
		}
		r = pg_frame_wrap(&frame, &pcid, slots.p, slots.len, n) ?:
		    pg_batch_add(&batch, frame.p, frame.len);
		if (r) {
			r = pg_error("encode", r, NULL);
			goto out;
		}
	}
	r = pg_endpoint(o, &pg);
	if (r)
		goto out;
	w = pg_batch_send(pg, &batch, &accepted);
	if (w < 0)
		r = pg_error(batch.n > 1 ? "send (after the frames accepted)" : "send",
			     (int)w, pg_reason(pg));
out:
	pg_close(pg);
	pg_batch_free(&batch);
	pg_buf_free(&frame);
	pg_buf_free(&slots);
	return r;
}

/* ---- recv, sub, join ------------------------------------------------------ */

/* Prints deliveries until --count, --timeout or a signal. */
static int recv_loop(struct pg_opts *o, struct pg *pg)
{
	struct pg_msg m;
	long got = 0;
	int r;

	while (!o->count || got < o->count) {
		r = pg_recv(pg, &m, o->timeout_ms);
		if (r < 0)
			return pg_error("receive", r, r == -ETIMEDOUT ?
					"nothing arrived in time" : NULL);
		pg_print_msg(o, &m);
		got++;
	}
	return 0;
}

static int cmd_recv(struct pg_opts *o, int argc, char **argv)
{
	struct pg *pg;
	int r;

	(void)argv;
	r = pg_endpoint_noargs(o, argc, &pg);
	if (r)
		return r;
	r = recv_loop(o, pg);
	pg_close(pg);
	return r;
}

/* sub PCID and join PCID GROUP: receive, then print (without --fd). */
static int receive_on(struct pg_opts *o, const char *pcid_arg, const char *group)
{
	char s[PG_CID_STR_MAX];
	struct pg_cid pcid;
	struct pg *pg;
	int r;

	r = pg_pcid_arg(pcid_arg, &pcid);
	if (r)
		return r;
	r = pg_endpoint(o, &pg);
	if (r)
		return r;
	r = pg_receive(pg, &pcid, group, o->attest);
	if (r) {
		r = pg_error("receive", r, pg_reason(pg));
	} else if (o->fd < 0) {
		pg_cid_format(&pcid, s, sizeof(s));
		fprintf(stderr, "pg %s: receiving on %s%s%s\n", pg_verb_name, s,
			group ? " in group " : "", group ? group : "");
		r = recv_loop(o, pg);
	}
	pg_close(pg);
	return r;
}

static int cmd_sub(struct pg_opts *o, int argc, char **argv)
{
	if (argc != 1)
		return pg_usage("needs exactly one PCID");
	return receive_on(o, argv[0], NULL);
}

static int cmd_join(struct pg_opts *o, int argc, char **argv)
{
	if (argc != 2)
		return pg_usage("needs a PCID and a GROUP");
	if (!*argv[1] || strlen(argv[1]) > PG_GROUP_NAME_MAX)
		return pg_usage("a GROUP name has 1 to %d bytes", PG_GROUP_NAME_MAX);
	return receive_on(o, argv[0], argv[1]);
}

/* ---- the verbs ------------------------------------------------------------ */

static int cmd_help(struct pg_opts *o, int argc, char **argv);

#define COMMON	"  --fd N         use the endpoint open on fd N (exec 3<>/dev/promisegrid)\n"
#define PRINTING "  --json         JSON instead of CBOR diagnostic notation\n" \
		 "  --raw          the exact bytes (a CBOR sequence) instead\n"
#define RECEIVING "  --count N      stop after N deliveries\n" \
		  "  --timeout MS   give up (exit 3) if nothing comes for MS ms\n"

static const struct pg_verb verbs[] = {
	{ "hello", "[--fd N] [--json]",
	  "The endpoint's id and the limits in force.\n" COMMON
	  "  --json         as JSON\n", cmd_hello },
	{ "send", "[--fd N] PCID [SLOT...] | --raw < FRAMES",
	  "Send grid([42(PCID), SLOT...]). SLOTs: 7, -3, '\"text\"', \"h'00ff'\",\n"
	  "true, false, null, @FILE (its bytes), - (stdin's bytes). Without\n"
	  "SLOTs, stdin holds the slots as a CBOR sequence.\n" COMMON
	  "  --raw          stdin holds whole frames: send them as they are\n",
	  cmd_send },
	{ "recv", "[--fd N] [--count N] [--timeout MS] [--json|--raw]",
	  "Print what the endpoint receives, one delivery a line.\n" COMMON
	  RECEIVING PRINTING, cmd_recv },
	{ "sub", "[--fd N] [--attest] [recv options] PCID",
	  "Receive every frame sent on PCID (fan-out). Without --fd, print\n"
	  "them as recv does; with --fd, set it up on that endpoint and exit.\n"
	  COMMON "  --attest       wrap each in the kernel's delivery envelope\n"
	  RECEIVING PRINTING, cmd_sub },
	{ "join", "[--fd N] [--attest] [recv options] PCID GROUP",
	  "Join worker group GROUP on PCID: each frame goes to one member.\n"
	  COMMON "  --attest       wrap each in the kernel's delivery envelope\n"
	  RECEIVING PRINTING, cmd_join },
	{ "claim", "--fd N PCID",
	  "Claim PCID: the endpoint gets all rights; others need a token.\n"
	  COMMON, pg_cmd_claim },
	{ "grant", "--fd N [--rights srg] [--ttl MS] PCID",
	  "Mint a token (printed in hex) for rights on PCID.\n" COMMON
	  "  --rights srg   some of s(end), r(eceive), g(rant); default all held\n"
	  "  --ttl MS       the token expires after MS ms\n", pg_cmd_grant },
	{ "redeem", "--fd N TOKEN",
	  "Give the endpoint the rights of TOKEN (64 hex digits).\n" COMMON,
	  pg_cmd_redeem },
	{ "revoke", "--fd N TOKEN",
	  "Revoke TOKEN and every token derived from it, from every holder.\n"
	  COMMON, pg_cmd_revoke },
	{ "stats", "[--fd N] [--json]",
	  "The module's and the endpoint's counters.\n" COMMON
	  "  --json         as JSON\n", cmd_stats },
	{ "cid", "[--hex] FILE...",
	  "The pCID of a protocol spec: CIDv1, raw, sha2-256 of its bytes.\n"
	  "  --hex          the hex of slot 0's byte string instead of base32\n",
	  cmd_cid },
	{ "call", "[--fd N] [--timeout MS] [--attest] PCID < BODY",
	  "Call the function PCID with stdin as the body; print its output.\n"
	  "Exit 4 if the function failed (its reason and stderr on stderr).\n"
	  COMMON "  --timeout MS   wait at most MS ms for the reply (10000)\n"
	  "  --attest       say on stderr who answered, as the kernel attests\n"
	  "                 it (endpoint, pid, uid, and the host of a gateway)\n",
	  pg_cmd_call },
	{ "serve", "[--fd N] [--stdio] [--count N] [--timeout MS] PCID GROUP -- CMD [ARG...]",
	  "Serve the function PCID in worker group GROUP: run CMD for each call\n"
	  "with the body on stdin, and reply with its stdout; a non-zero exit\n"
	  "is an error reply with the status and stderr.\n" COMMON
	  "  --stdio        start CMD once: it reads the calls as a CBOR\n"
	  "                 sequence on stdin and writes one reply item per call\n"
	  "                 on stdout (a byte string, or {\"errno\", \"reason\"})\n"
	  "  --count N      exit after N calls\n"
	  "  --timeout MS   kill a call's CMD after MS ms (ETIME)\n", pg_cmd_serve },
	{ "help", "", "List the verbs.\n", cmd_help },
};

static int cmd_help(struct pg_opts *o, int argc, char **argv)
{
	size_t i;

	(void)o;
	(void)argc;
	(void)argv;
	printf("usage: pg VERB [OPTIONS] ARGS; pg VERB --help\n\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		printf("  pg %s %s\n", verbs[i].name, verbs[i].usage);
	printf("\nPCID: a CID in base32 (bafk...) or hex, or a spec file's path.\n"
	       "Exit: 0 done, 1 failed, 2 usage, 3 timed out, 4 the function failed.\n");
	return 0;
}

static int parse_rights(const char *s, uint32_t *rights)
{
	*rights = 0;
	for (; *s; s++) {
		if (*s == 's')
			*rights |= PG_RIGHT_SEND;
		else if (*s == 'r')
			*rights |= PG_RIGHT_RECEIVE;
		else if (*s == 'g')
			*rights |= PG_RIGHT_GRANT;
		else
			return -EINVAL;
	}
	return *rights ? 0 : -EINVAL;
}

static bool parse_long(const char *s, long min, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return !errno && *s && !*end && *v >= min;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "raw", no_argument, NULL, 'r' },
		{ "hex", no_argument, NULL, 'r' },
		{ "attest", no_argument, NULL, 'a' },
		{ "stdio", no_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "rights", required_argument, NULL, 'R' },
		{ "ttl", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct pg_opts o = { .fd = -1, .timeout_ms = -1 };
	const struct pg_verb *v = NULL;
	long n;
	size_t i;
	int c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(&o, 0, NULL), argc < 2 ? PG_EXIT_USAGE : 0;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			v = &verbs[i];
	if (!v) {
		fprintf(stderr, "pg: no verb %s (see pg help)\n", argv[1]);
		return PG_EXIT_USAGE;
	}
	pg_verb_name = v->name;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!parse_long(optarg, 0, &n) || n > INT32_MAX)
				return pg_usage("--fd wants a file descriptor");
			o.fd = (int)n;
			break;
		case 'j':
			o.json = true;
			break;
		case 'r':
			o.raw = true;
			break;
		case 'a':
			o.attest = true;
			break;
		case 's':
			o.stdio = true;
			break;
		case 'c':
			if (!parse_long(optarg, 1, &o.count))
				return pg_usage("--count wants a positive number");
			break;
		case 't':
			if (!parse_long(optarg, 0, &n) || n > INT32_MAX)
				return pg_usage("--timeout wants milliseconds");
			o.timeout_ms = (int)n;
			break;
		case 'R':
			if (parse_rights(optarg, &o.rights))
				return pg_usage("--rights wants letters of srg");
			break;
		case 'T':
			if (!parse_long(optarg, 1, &n))
				return pg_usage("--ttl wants milliseconds");
			o.ttl_ms = (uint64_t)n;
			break;
		case 'h':
			printf("usage: pg %s %s\n\n%s", v->name, v->usage, v->help);
			return 0;
		default:
			return pg_usage("unknown option");
		}
	}
	return v->run(&o, argc - optind, argv + optind);
}
