// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pg-demo: the README's demo exchange, one role per process.
 *
 *   pg-demo recv PCID NAME COUNT [GROUP|-] [attest]
 *	receive COUNT frames on PCID (fan-out, or as a member of worker
 *	group GROUP) and print each in CBOR diagnostic notation
 *   pg-demo send PCID COUNT
 *	send COUNT frames grid([42(PCID), "hello", n]) in one write
 *
 * PCID is the hex of the CIDv1 bytes (tools/maint/pg-cid prints it, after the
 * 00 that prefixes it in slot 0). Frames are built and printed with
 * libcbor; the module checks them and forwards their exact bytes.
 *
 * Build: cc -o pg-demo pg-demo.c -I../../uapi -lcbor
 */
#include <cbor.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/promisegrid.h>

static const unsigned char control_pcid[] = PG_PCID_CONTROL;

static void die(const char *what)
{
	fprintf(stderr, "pg-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = 0;
	unsigned int b;

	while (hex[0] && hex[1] && n < cap && sscanf(hex, "%2x", &b) == 1) {
		out[n++] = b;
		hex += 2;
	}
	return n;
}

/*
 * libcbor 0.10 (Debian 13) declares these warn_unused_result; they fail
 * only when out of memory.
 */
static void push(cbor_item_t *arr, cbor_item_t *it)
{
	if (!cbor_array_push(arr, it)) {
		errno = ENOMEM;
		die("cbor_array_push");
	}
}

static void put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
	if (!cbor_map_add(map, (struct cbor_pair){ key, value })) {
		errno = ENOMEM;
		die("cbor_map_add");
	}
}

/* 42(h'00' || cid) */
static cbor_item_t *pcid_item(const unsigned char *cid, size_t len)
{
	unsigned char buf[1 + PG_CID_MAX] = { 0 };

	memcpy(buf + 1, cid, len);
	return cbor_build_tag(PG_CID_TAG, cbor_move(cbor_build_bytestring(buf, len + 1)));
}

/* grid([42(pcid), slots...]): takes the slot references. */
static size_t frame(const unsigned char *cid, size_t len, cbor_item_t **slots,
		    size_t nslots, unsigned char **out)
{
	cbor_item_t *arr = cbor_new_definite_array(nslots + 1);
	cbor_item_t *grid;
	size_t cap, n, i;

	push(arr, cbor_move(pcid_item(cid, len)));
	for (i = 0; i < nslots; i++)
		push(arr, cbor_move(slots[i]));
	grid = cbor_build_tag(PG_GRID_TAG, cbor_move(arr));
	n = cbor_serialize_alloc(grid, out, &cap);
	cbor_decref(&grid);
	return n;
}

static cbor_item_t *uint_item(uint64_t v)
{
	if (v < 256)
		return cbor_build_uint8(v);
	if (v < 65536)
		return cbor_build_uint16(v);
	if (v < (1ull << 32))
		return cbor_build_uint32(v);
	return cbor_build_uint64(v);
}

/* Diagnostic notation, enough for the demo's frames. */
static void diag(const cbor_item_t *it)
{
	size_t i;

	switch (cbor_typeof(it)) {
	case CBOR_TYPE_UINT:
		printf("%" PRIu64, cbor_get_int(it));
		break;
	case CBOR_TYPE_NEGINT:
		printf("-%" PRIu64, cbor_get_int(it) + 1);
		break;
	case CBOR_TYPE_BYTESTRING:
		printf("h'");
		for (i = 0; i < cbor_bytestring_length(it); i++)
			printf("%02x", cbor_bytestring_handle(it)[i]);
		printf("'");
		break;
	case CBOR_TYPE_STRING:
		printf("\"%.*s\"", (int)cbor_string_length(it),
		       (const char *)cbor_string_handle(it));
		break;
	case CBOR_TYPE_ARRAY:
		printf("[");
		for (i = 0; i < cbor_array_size(it); i++) {
			printf(i ? ", " : "");
			diag(cbor_array_handle(it)[i]);
		}
		printf("]");
		break;
	case CBOR_TYPE_MAP:
		printf("{");
		for (i = 0; i < cbor_map_size(it); i++) {
			printf(i ? ", " : "");
			diag(cbor_map_handle(it)[i].key);
			printf(": ");
			diag(cbor_map_handle(it)[i].value);
		}
		printf("}");
		break;
	case CBOR_TYPE_TAG:
		if (cbor_tag_value(it) == PG_GRID_TAG)
			printf("grid(");
		else
			printf("%" PRIu64 "(", cbor_tag_value(it));
		diag(cbor_tag_item(it));
		printf(")");
		break;
	default:
		if (cbor_is_bool(it))
			printf(cbor_get_bool(it) ? "true" : "false");
		else if (cbor_is_null(it))
			printf("null");
		else
			printf("simple");
	}
}

/* Write one control request and return after its reply is read. */
static void request(int fd, const char *verb, cbor_item_t *args)
{
	cbor_item_t *slots[] = { uint_item(1), cbor_build_string(verb), args };
	unsigned char *f, reply[PG_MAX_FRAME_DEFAULT];
	size_t n = frame(control_pcid, sizeof(control_pcid), slots, 3, &f);

	if (write(fd, f, n) != (ssize_t)n)
		die(verb);
	free(f);
	if (read(fd, reply, sizeof(reply)) < 0)
		die("reading the reply");
}

static int do_recv(const unsigned char *cid, size_t len, char **argv, int argc)
{
	const char *name = argv[3];
	const char *group = argc > 5 && strcmp(argv[5], "-") ? argv[5] : NULL;
	bool attest = argc > 6 && !strcmp(argv[6], "attest");
	long want = atol(argv[4]), got = 0;
	unsigned char buf[PG_MAX_FRAME_DEFAULT];
	cbor_item_t *args;
	int fd;

	fd = open(PG_DEVICE_PATH, O_RDWR);
	if (fd < 0)
		die(PG_DEVICE_PATH);
	/* {"pcid": 42(...), "group": g, "attest": b}, keys shortest first */
	args = cbor_new_definite_map(3);
	put(args, cbor_move(cbor_build_string("pcid")),
	    cbor_move(pcid_item(cid, len)));
	if (group)
		put(args, cbor_move(cbor_build_string("group")),
		    cbor_move(cbor_build_string(group)));
	if (attest)
		put(args, cbor_move(cbor_build_string("attest")),
		    cbor_move(cbor_build_bool(true)));
	request(fd, PG_VERB_RECEIVE, args);
	printf("%s: receiving%s%s%s\n", name, group ? " in group " : "",
	       group ? group : " (fan-out)", attest ? ", attested" : "");
	fflush(stdout);

	while (got < want) {
		ssize_t n = read(fd, buf, sizeof(buf)), off = 0;

		if (n < 0)
			die("read");
		while (off < n) {
			struct cbor_load_result r;
			cbor_item_t *it = cbor_load(buf + off, n - off, &r);

			if (!it)
				break;
			printf("%s got %zu bytes: ", name, r.read);
			diag(it);
			printf("\n");
			cbor_decref(&it);
			off += r.read;
			got++;
		}
		fflush(stdout);
	}
	close(fd);
	return 0;
}

static int do_send(const unsigned char *cid, size_t len, long count)
{
	unsigned char *all = NULL, *f;
	size_t total = 0, n;
	long i;
	int fd;

	fd = open(PG_DEVICE_PATH, O_RDWR);
	if (fd < 0)
		die(PG_DEVICE_PATH);
	/* One write, a CBOR sequence of count frames. */
	for (i = 1; i <= count; i++) {
		cbor_item_t *slots[] = { cbor_build_string("hello"), uint_item(i) };

		n = frame(cid, len, slots, 2, &f);
		all = realloc(all, total + n);
		memcpy(all + total, f, n);
		total += n;
		free(f);
	}
	n = write(fd, all, total);
	if (n != total)
		die("write");
	printf("sender: wrote %ld frames, %zu bytes, in one write\n", count, total);
	free(all);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char cid[PG_CID_MAX];
	size_t len;

	if (argc < 4) {
		fprintf(stderr, "usage: pg-demo recv PCID NAME COUNT [GROUP|-] [attest]\n"
				"       pg-demo send PCID COUNT\n");
		return 2;
	}
	len = unhex(argv[2], cid, sizeof(cid));
	if (!strcmp(argv[1], "recv") && argc >= 5)
		return do_recv(cid, len, argv, argc);
	if (!strcmp(argv[1], "send"))
		return do_send(cid, len, atol(argv[3]));
	fprintf(stderr, "pg-demo: unknown role %s\n", argv[1]);
	return 2;
}
