// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Host unit tests of libpromisegrid's encoding, without the module: CIDs,
 * the grid-cbor encoder, frame checks (each kind of bad frame has its
 * errno), delivery and reply parsing, printing, batches. TAP output.
 * Run from this directory (it reads ../../../docs/protocols/ and
 * ../../../selftests/host/vectors/).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpromisegrid-cbor.h"
#include "pgt_runner.h"

static int current_failed;

static void check(bool ok, const char *what, int line)
{
	if (!ok) {
		printf("# line %d: check failed: %s\n", line, what);
		current_failed = 1;
	}
}

/*
 * A failed EXPECT marks the test failed and goes on (kselftest's EXPECT);
 * the runner's CHECK returns at once.
 */
#define EXPECT(c)	check((c), #c, __LINE__)
#define EXPECT_EQ(a, b)	do { long long _a = (a), _b = (b);		\
	if (_a != _b) printf("# %s == %lld, expected %lld\n", #a, _a, _b); \
	check(_a == _b, #a " == " #b, __LINE__); } while (0)

/* Ends a test: tallied by the selftests' runner (pgt_result()). */
static void done(const char *name)
{
	pgt_result(current_failed ? PGT_FAIL : PGT_PASS, name, NULL);
	current_failed = 0;
}

static bool bytes_are(const struct pg_buf *b, const char *hex)
{
	size_t n = strlen(hex) / 2, i;
	unsigned int v;

	if (b->len != n)
		return false;
	for (i = 0; i < n; i++) {
		sscanf(hex + 2 * i, "%2x", &v);
		if (b->p[i] != v)
			return false;
	}
	return true;
}

static bool encodes_as(cbor_item_t *it, const char *hex)
{
	struct pg_buf b = { 0 };
	bool ok = !pg_cbor_encode(&b, it) && bytes_are(&b, hex);

	if (!ok) {
		printf("# got ");
		for (size_t i = 0; i < b.len; i++)
			printf("%02x", b.p[i]);
		printf(", want %s\n", hex);
	}
	cbor_decref(&it);
	pg_buf_free(&b);
	return ok;
}

static void test_sha256(void)
{
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	static const uint8_t two_blocks[32] = {	/* the 448-bit FIPS vector */
		0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26,
		0x93, 0x0c, 0x3e, 0x60, 0x39, 0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff,
		0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1 };
	static const uint8_t empty[4] = { 0xe3, 0xb0, 0xc4, 0x42 };
	uint8_t d[32];
	const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	pg_sha256("abc", 3, d);
	EXPECT(!memcmp(d, abc, 32));
	pg_sha256(s, strlen(s), d);
	EXPECT(!memcmp(d, two_blocks, 32));
	pg_sha256("", 0, d);
	EXPECT(!memcmp(d, empty, 4));
	done("sha256: FIPS 180-4 vectors");
}

static void test_protocol_pcids(void)
{
	struct pg_cid c;

	EXPECT_EQ(pg_cid_of_file("../../../docs/protocols/pg-function-call-v1.md", &c), 0);
	EXPECT(pg_cid_eq(&c, &pg_pcid_fn_reply));
	EXPECT_EQ(pg_cid_of_file("../../../docs/protocols/pg-kernel-control-v4.md", &c), 0);
	EXPECT(pg_cid_eq(&c, &pg_pcid_control));
	EXPECT_EQ(pg_cid_of_file("../../../docs/protocols/pg-kernel-delivery-v3.md", &c), 0);
	EXPECT(pg_cid_eq(&c, &pg_pcid_delivery));
	EXPECT_EQ(pg_cid_of_file("/nonexistent", &c), -ENOENT);
	done("pCIDs: the library's constants are the CIDs of the spec files");
}

static void test_cid_text(void)
{
	char s[PG_CID_STR_MAX], hex[2 * PG_CID_MAX + 3];
	struct pg_cid c, d;
	size_t i;

	pg_cid_of("spec", 4, &c);
	pg_cid_format(&c, s, sizeof(s));
	EXPECT(!strncmp(s, "bafkrei", 7));
	EXPECT_EQ(pg_cid_parse(s, &d), 0);
	EXPECT(pg_cid_eq(&c, &d));
	for (i = 0; i < c.len; i++)
		sprintf(hex + 2 + 2 * i, "%02x", c.b[i]);
	EXPECT_EQ(pg_cid_parse(hex + 2, &d), 0);		/* hex */
	EXPECT(pg_cid_eq(&c, &d));
	hex[0] = hex[1] = '0';
	EXPECT_EQ(pg_cid_parse(hex, &d), 0);		/* with slot 0's 00 */
	EXPECT(pg_cid_eq(&c, &d));
	EXPECT_EQ(pg_cid_parse("015512", &d), -EINVAL);	/* truncated digest */
	EXPECT_EQ(pg_cid_parse("0155122", &d), -EINVAL);	/* odd hex */
	EXPECT_EQ(pg_cid_parse("bafk!", &d), -EINVAL);
	EXPECT_EQ(pg_cid_parse("", &d), -EINVAL);
	s[10] = '1';					/* not base32 */
	EXPECT_EQ(pg_cid_parse(s, &d), -EINVAL);
	done("CIDs: base32 and hex round trips, bad text rejected");
}

static void test_encoder(void)
{
	cbor_item_t *m = cbor_new_definite_map(3);

	/* libcbor's 8-byte width does not leak: shortest heads. */
	EXPECT(encodes_as(cbor_build_uint64(5), "05"));
	EXPECT(encodes_as(cbor_build_uint64(500), "1901f4"));
	EXPECT(encodes_as(cbor_build_uint8(24), "1818"));
	EXPECT(encodes_as(cbor_build_negint64(99), "3863"));
	EXPECT(encodes_as(cbor_build_float8(1.5), "f93e00"));
	EXPECT(encodes_as(cbor_build_float8(100000.0), "fa47c35000"));
	EXPECT(encodes_as(cbor_build_float8(1.1), "fb3ff199999999999a"));
	EXPECT(encodes_as(cbor_build_float4(-0.0f), "f98000"));
	EXPECT(encodes_as(cbor_build_float8(5.960464477539063e-8), "f90001"));
	EXPECT(encodes_as(cbor_build_float8(INFINITY), "f97c00"));
	EXPECT(encodes_as(cbor_build_float8(NAN), "f97e00"));
	EXPECT(encodes_as(cbor_build_bool(true), "f5"));
	/* Map keys sorted by their encodings: 10 < "b" < "aa". */
	/* libcbor 0.10 (Debian 13) warns if the result is unused. */
	EXPECT(cbor_map_add(m, (struct cbor_pair){
		cbor_move(cbor_build_string("aa")),
		cbor_move(cbor_build_uint8(1)) }));
	EXPECT(cbor_map_add(m, (struct cbor_pair){
		cbor_move(cbor_build_string("b")),
		cbor_move(cbor_build_uint8(2)) }));
	EXPECT(cbor_map_add(m, (struct cbor_pair){
		cbor_move(cbor_build_uint8(10)),
		cbor_move(cbor_build_uint8(3)) }));
	EXPECT(encodes_as(m, "a30a03616202626161" "01"));
	done("encoder: shortest ints and floats, sorted map keys");
}

static void test_encoder_rejects(void)
{
	struct pg_buf b = { 0 };
	cbor_item_t *m = cbor_new_definite_map(2), *deep, *t;
	int i;

	EXPECT(cbor_map_add(m, (struct cbor_pair){
		cbor_move(cbor_build_string("k")),
		cbor_move(cbor_build_uint8(1)) }));
	EXPECT(cbor_map_add(m, (struct cbor_pair){
		cbor_move(cbor_build_string("k")),
		cbor_move(cbor_build_uint8(2)) }));
	EXPECT_EQ(pg_cbor_encode(&b, m), -EINVAL);	/* duplicate key */
	EXPECT_EQ(b.len, 0);
	cbor_decref(&m);
	deep = cbor_build_uint8(0);
	for (i = 0; i < 40; i++) {
		t = cbor_new_definite_array(1);
		EXPECT(cbor_array_push(t, cbor_move(deep)));
		deep = t;
	}
	EXPECT_EQ(pg_cbor_encode(&b, deep), -EINVAL);	/* too deep */
	cbor_decref(&deep);
	pg_buf_free(&b);
	done("encoder: duplicate keys and runaway depth are EINVAL");
}

/* grid([42(c), "x", 7]) */
static void sample_frame(struct pg_buf *b, const struct pg_cid *c)
{
	cbor_item_t *slots[2] = { cbor_build_string("x"), cbor_build_uint64(7) };

	EXPECT_EQ(pg_frame_encode(b, c, slots, 2), 0);
	cbor_decref(&slots[0]);
	cbor_decref(&slots[1]);
}

static void test_frame_roundtrip(void)
{
	struct pg_buf b = { 0 };
	struct pg_msg m;
	struct pg_cid c;
	cbor_item_t *s1, *s2;

	pg_cid_of("proto", 5, &c);
	sample_frame(&b, &c);
	EXPECT(b.len > 5 && !memcmp(b.p, "\xda\x67\x72\x69\x64\x83\xd8\x2a", 8));
	EXPECT_EQ(pg_frame_check(b.p, b.len), 0);
	EXPECT_EQ(pg_frame_len(b.p, b.len), (long long)b.len);
	EXPECT_EQ(pg_msg_parse(b.p, b.len, &m), (long long)b.len);
	EXPECT(pg_cid_eq(&m.pcid, &c));
	EXPECT(!m.attested && m.frame == b.p && m.frame_len == b.len);
	EXPECT_EQ(m.nslots, 2);
	s1 = pg_msg_slot(&m, 1);
	s2 = pg_msg_slot(&m, 2);
	EXPECT(s1 && cbor_isa_string(s1) && cbor_string_length(s1) == 1);
	EXPECT(s2 && cbor_isa_uint(s2) && cbor_get_int(s2) == 7);
	EXPECT(!pg_msg_slot(&m, 3) && !pg_msg_slot(&m, 0));
	cbor_decref(&s1);
	cbor_decref(&s2);
	EXPECT(!pg_msg_is_control(&m));
	pg_buf_free(&b);
	done("frames: encode, check and parse round trip");
}

static void test_frame_errors(void)
{
	struct pg_buf b = { 0 }, big = { 0 };
	struct pg_cid c;
	uint8_t *p;
	size_t i;

	pg_cid_of("proto", 5, &c);
	sample_frame(&b, &c);
	/* truncated: EBADMSG at every cut */
	for (i = 1; i < b.len; i++)
		if (pg_frame_check(b.p, i) != -EBADMSG && pg_frame_check(b.p, i) != -EPROTO)
			break;
	EXPECT_EQ(i, b.len);
	EXPECT_EQ(pg_frame_check(b.p, b.len - 1), -EBADMSG);
	/* bytes after the frame */
	pg_buf_put(&b, "\x00", 1);
	EXPECT_EQ(pg_frame_check(b.p, b.len), -EBADMSG);
	EXPECT_EQ(pg_frame_len(b.p, b.len), (long long)b.len - 1);
	b.len--;
	/* not the grid tag */
	p = malloc(b.len);
	memcpy(p, b.p, b.len);
	p[1] = 0x66;
	EXPECT_EQ(pg_frame_check(p, b.len), -EPROTO);
	memcpy(p, b.p, b.len);
	/* the uint 7 in a two-byte head: not deterministic */
	p[b.len - 1] = 0x18;
	pg_buf_put(&b, "", 0);
	{
		struct pg_buf nc = { 0 };

		pg_buf_put(&nc, b.p, b.len - 1);
		pg_buf_put(&nc, "\x18\x07", 2);
		EXPECT_EQ(pg_frame_check(nc.p, nc.len), -EILSEQ);
		pg_buf_free(&nc);
	}
	/* slot 0 not a CID: 42(h'01') */
	{
		static const uint8_t bad[] = { 0xda, 0x67, 0x72, 0x69, 0x64, 0x81,
					       0xd8, 0x2a, 0x41, 0x01 };
		static const uint8_t notarray[] = { 0xda, 0x67, 0x72, 0x69, 0x64, 0x01 };

		EXPECT_EQ(pg_frame_check(bad, sizeof(bad)), -EPROTO);
		EXPECT_EQ(pg_frame_check(notarray, sizeof(notarray)), -EPROTO);
	}
	/* larger than the default max_frame */
	{
		uint8_t *body = calloc(1, PG_MAX_FRAME_DEFAULT);
		cbor_item_t *s = cbor_build_bytestring(body, PG_MAX_FRAME_DEFAULT);

		EXPECT_EQ(pg_frame_encode(&big, &c, &s, 1), 0);
		EXPECT_EQ(pg_frame_check(big.p, big.len), -EMSGSIZE);
		cbor_decref(&s);
		free(body);
	}
	/* deeper than the default max_depth */
	{
		cbor_item_t *deep = cbor_build_uint8(0), *t;
		struct pg_buf d = { 0 };
		int k;

		for (k = 0; k < PG_MAX_DEPTH_DEFAULT; k++) {
			t = cbor_new_definite_array(1);
			EXPECT(cbor_array_push(t, cbor_move(deep)));
			deep = t;
		}
		EXPECT_EQ(pg_frame_encode(&d, &c, &deep, 1), 0);
		EXPECT_EQ(pg_frame_check(d.p, d.len), -E2BIG);
		cbor_decref(&deep);
		pg_buf_free(&d);
	}
	free(p);
	pg_buf_free(&b);
	pg_buf_free(&big);
	done("frames: each kind of bad frame gets the module's errno");
}

/* grid([42(delivery), [ep, pid, uid, gid, host], frame]) around f */
static void attest_host(struct pg_buf *out, const struct pg_buf *f,
			uint64_t ep, const char *host)
{
	cbor_item_t *from = cbor_new_definite_array(5);
	struct pg_buf slots = { 0 };

	EXPECT(cbor_array_push(from, cbor_move(cbor_build_uint64(ep))));
	EXPECT(cbor_array_push(from, cbor_move(cbor_build_uint64(123))));
	EXPECT(cbor_array_push(from, cbor_move(cbor_build_uint64(1000))));
	EXPECT(cbor_array_push(from, cbor_move(cbor_build_uint64(100))));
	EXPECT(cbor_array_push(from, cbor_move(host ? cbor_build_string(host) :
						      cbor_new_null())));
	pg_cbor_encode(&slots, from);
	pg_buf_put(&slots, f->p, f->len);
	EXPECT_EQ(pg_frame_wrap(out, &pg_pcid_delivery, slots.p, slots.len, 2), 0);
	cbor_decref(&from);
	pg_buf_free(&slots);
}

static void attest(struct pg_buf *out, const struct pg_buf *f, uint64_t ep)
{
	attest_host(out, f, ep, NULL);
}

static void test_attested(void)
{
	struct pg_buf f = { 0 }, d = { 0 };
	struct pg_msg m;
	struct pg_cid c;

	pg_cid_of("proto", 5, &c);
	sample_frame(&f, &c);
	attest(&d, &f, 42);
	EXPECT_EQ(pg_frame_check(d.p, d.len), 0);
	EXPECT_EQ(pg_msg_parse(d.p, d.len, &m), (long long)d.len);
	EXPECT(m.attested);
	EXPECT_EQ(m.from.endpoint, 42);
	EXPECT_EQ(m.from.pid, 123);
	EXPECT_EQ(m.from.uid, 1000);
	EXPECT_EQ(m.from.gid, 100);
	EXPECT(m.frame_len == f.len && !memcmp(m.frame, f.p, f.len));
	{
		struct pg_buf g = { 0 };
		const char *host;
		size_t len;

		EXPECT(!pg_msg_host(&m, &len) && len == 0);
		attest_host(&g, &f, 43, "hostB");
		EXPECT_EQ(pg_msg_parse(g.p, g.len, &m), (long long)g.len);
		host = pg_msg_host(&m, &len);
		EXPECT(host && len == 5 && !memcmp(host, "hostB", 5));
		EXPECT(m.frame_len == f.len && !memcmp(m.frame, f.p, f.len));
		pg_buf_free(&g);
	}
	EXPECT(pg_cid_eq(&m.pcid, &c));
	EXPECT_EQ(m.nslots, 2);
	pg_buf_free(&f);
	pg_buf_free(&d);
	done("deliveries: the attested envelope gives the sender and the exact frame");
}

static void test_call_reply(void)
{
	struct pg_buf call = { 0 }, d = { 0 }, reply = { 0 };
	struct pg_result r = { .status = -1, .signal = -1 }, got;
	struct pg_cid fn, parent, p2, want;
	struct pg_call pc;
	struct pg_msg m;

	pg_cid_of("wc", 2, &fn);
	EXPECT_EQ(pg_call_frame(&call, &fn, 9, "a b c", 5, &parent), 0);
	EXPECT_EQ(pg_frame_check(call.p, call.len), 0);
	pg_cid_of(call.p, call.len, &want);
	EXPECT(pg_cid_eq(&parent, &want));
	/* The worker sees it attested and names the same parent. */
	attest(&d, &call, 5);
	pg_msg_parse(d.p, d.len, &m);
	EXPECT_EQ(pg_call_parse(&m, &pc), 0);
	EXPECT_EQ(pc.caller, 5);
	EXPECT_EQ(pc.nonce, 9);
	EXPECT(pc.len == 5 && !memcmp(pc.body, "a b c", 5));
	EXPECT(pg_cid_eq(&pc.parent, &parent));
	/* Not attested: no caller to answer. */
	pg_msg_parse(call.p, call.len, &m);
	EXPECT_EQ(pg_call_parse(&m, &pc), -EPROTO);
	/* kept */
	r.outcome = PG_KEPT;
	r.data = (uint8_t *)"3\n";
	r.len = 2;
	EXPECT_EQ(pg_reply_frame(&reply, &parent, &r), 0);
	EXPECT_EQ(pg_frame_check(reply.p, reply.len), 0);
	pg_msg_parse(reply.p, reply.len, &m);
	EXPECT_EQ(pg_reply_parse(&m, &p2, &got), 1);
	EXPECT(pg_cid_eq(&p2, &parent));
	EXPECT(got.outcome == PG_KEPT && got.len == 2 && !memcmp(got.data, "3\n", 2));
	pg_result_free(&got);
	/* not_promised with every detail: still grid-cbor (keys in order) */
	reply.len = 0;
	r = (struct pg_result){ .outcome = PG_NOT_PROMISED, .err = EREMOTEIO,
				.reason = "boom", .status = 3, .signal = 9,
				.err_out = (uint8_t *)"oops", .err_len = 4 };
	EXPECT_EQ(pg_reply_frame(&reply, &parent, &r), 0);
	EXPECT_EQ(pg_frame_check(reply.p, reply.len), 0);
	pg_msg_parse(reply.p, reply.len, &m);
	EXPECT_EQ(pg_reply_parse(&m, &p2, &got), 1);
	EXPECT_EQ(got.outcome, PG_NOT_PROMISED);
	EXPECT_EQ(got.err, EREMOTEIO);
	EXPECT(got.reason && !strcmp(got.reason, "boom"));
	EXPECT_EQ(got.status, 3);
	EXPECT_EQ(got.signal, 9);
	EXPECT(got.err_len == 4 && !memcmp(got.err_out, "oops", 4));
	pg_result_free(&got);
	/* A frame of another protocol is no reply. */
	pg_msg_parse(call.p, call.len, &m);
	EXPECT_EQ(pg_reply_parse(&m, &p2, NULL), 0);
	pg_buf_free(&call);
	pg_buf_free(&d);
	pg_buf_free(&reply);
	done("function calls: call frame, parent CID, replies round trip");
}

/* tag(bytes), a definite byte string under a tag. */
static cbor_item_t *link_of(const uint8_t *b, size_t n, uint64_t tag)
{
	return cbor_build_tag(tag, cbor_move(cbor_build_bytestring(b, n)));
}

static void test_cid_from_link(void)
{
	uint8_t raw[1 + PG_CID_MAX];
	struct pg_cid c, got;
	cbor_item_t *it;

	pg_cid_of("link", 4, &c);
	raw[0] = 0;
	memcpy(raw + 1, c.b, c.len);
	it = link_of(raw, 1 + c.len, 42);
	EXPECT(pg_cid_from_link(it, &got));
	EXPECT(pg_cid_eq(&got, &c));
	cbor_decref(&it);
	EXPECT(!pg_cid_from_link(NULL, &got));		/* no item */
	it = link_of(raw, 1 + c.len, 43);		/* another tag */
	EXPECT(!pg_cid_from_link(it, &got));
	cbor_decref(&it);
	it = link_of(raw + 1, c.len, 42);		/* no 0x00 prefix */
	EXPECT(!pg_cid_from_link(it, &got));
	cbor_decref(&it);
	it = link_of(raw, 3, 42);			/* truncated CID */
	EXPECT(!pg_cid_from_link(it, &got));
	cbor_decref(&it);
	it = cbor_build_tag(42, cbor_move(cbor_build_string("00")));
	EXPECT(!pg_cid_from_link(it, &got));		/* text, not bytes */
	cbor_decref(&it);
	it = cbor_build_bytestring(raw, 1 + c.len);	/* untagged */
	EXPECT(!pg_cid_from_link(it, &got));
	cbor_decref(&it);
	done("pg_cid_from_link: a 42(h'00' CID) link, and what is not one");
}

/*
 * pg_call_wait_msg() on an endpoint attached to a pipe (no module): the
 * reply comes back whole, attested with the host that answered, and a
 * delivery that came before it is kept for pg_recv().
 */
static void test_call_wait_msg(void)
{
	struct pg_buf call = { 0 }, reply = { 0 }, d = { 0 }, other = { 0 };
	struct pg_result r = { .outcome = PG_KEPT, .data = (uint8_t *)"ok",
			       .len = 2, .status = -1, .signal = -1 }, got;
	struct pg_cid fn, parent, p2, unknown;
	const char *host;
	struct pg_msg m;
	struct pg *pg;
	size_t hlen;
	int fds[2];

	pg_cid_of("wait", 4, &fn);
	EXPECT_EQ(pg_call_frame(&call, &fn, 1, "x", 1, &parent), 0);
	EXPECT_EQ(pg_reply_frame(&reply, &parent, &r), 0);
	attest_host(&d, &reply, 7, "B");
	EXPECT_EQ(pg_frame_wrap(&other, &fn, (const uint8_t *)"\x01", 1, 1), 0);
	if (pipe(fds)) {
		EXPECT(0);
		done("pg_call_wait_msg: no pipe");
		return;
	}
	EXPECT(write(fds[1], other.p, other.len) == (ssize_t)other.len);
	EXPECT(write(fds[1], d.p, d.len) == (ssize_t)d.len);
	EXPECT_EQ(pg_attach(&pg, fds[0]), 0);
	EXPECT_EQ(pg_call_wait_msg(pg, &parent, 1000, &m), 0);
	EXPECT(m.attested);
	EXPECT_EQ(m.from.endpoint, 7);
	host = pg_msg_host(&m, &hlen);
	EXPECT(host && hlen == 1 && host[0] == 'B');
	EXPECT(m.frame_len == reply.len && !memcmp(m.frame, reply.p, reply.len));
	EXPECT_EQ(pg_reply_parse(&m, &p2, &got), 1);
	EXPECT(pg_cid_eq(&p2, &parent));
	EXPECT(got.outcome == PG_KEPT && got.len == 2 && !memcmp(got.data, "ok", 2));
	pg_result_free(&got);
	/* The frame before the reply waits for pg_recv(). */
	EXPECT_EQ(pg_recv(pg, &m, 0), 1);
	EXPECT(m.frame_len == other.len && !memcmp(m.frame, other.p, other.len));
	/* No reply to another call: the timeout, with a reason. */
	pg_cid_of("never", 5, &unknown);
	EXPECT_EQ(pg_call_wait_msg(pg, &unknown, 50, &m), -ETIMEDOUT);
	EXPECT(strstr(pg_reason(pg), "no reply"));
	pg_close(pg);
	close(fds[0]);
	close(fds[1]);
	pg_buf_free(&call);
	pg_buf_free(&reply);
	pg_buf_free(&d);
	pg_buf_free(&other);
	done("pg_call_wait_msg: the reply whole and attested, earlier deliveries kept");
}

static bool map_put(cbor_item_t *map, const char *key, cbor_item_t *v)
{
	return cbor_map_add(map, (struct cbor_pair){
		.key = cbor_move(cbor_build_string(key)),
		.value = cbor_move(v) });
}

/*
 * pg_carry_send() writes the request pg_request() would, with id 0 (its
 * own encoder, not libcbor: compared byte for byte), and
 * pg_msg_failed_request() knows the answer to one that failed.
 */
static void test_carry_send(void)
{
	static const char *const hosts[] = { NULL, "B" };
	uint8_t got[512], link[1 + PG_CID_MAX];
	struct pg_buf want = { 0 }, f = { 0 }, ans = { 0 };
	cbor_item_t *slots[4], *args;
	struct pg_cid fn;
	struct pg_msg m;
	struct pg *pg;
	int fds[2], i, err = 0;
	ssize_t n;

	pg_cid_of("carry", 5, &fn);
	EXPECT_EQ(pg_call_frame(&f, &fn, 3, "abc", 3, NULL), 0);
	if (pipe(fds)) {
		EXPECT(0);
		done("pg_carry_send: no pipe");
		return;
	}
	EXPECT_EQ(pg_attach(&pg, fds[1]), 0);
	for (i = 0; i < 2; i++) {
		args = cbor_new_definite_map(3);
		EXPECT(map_put(args, "frame", cbor_build_bytestring(f.p, f.len)));
		EXPECT(map_put(args, "to", cbor_build_uint64(300)));
		if (hosts[i])
			EXPECT(map_put(args, "host", cbor_build_string(hosts[i])));
		slots[0] = cbor_build_uint8(0);
		slots[1] = cbor_build_string("carry");
		slots[2] = args;
		want.len = 0;
		EXPECT_EQ(pg_frame_encode(&want, &pg_pcid_control, slots, 3), 0);
		cbor_decref(&slots[0]);
		cbor_decref(&slots[1]);
		cbor_decref(&slots[2]);
		EXPECT_EQ(pg_carry_send(pg, 300, f.p, f.len, hosts[i]), 0);
		n = read(fds[0], got, sizeof(got));
		EXPECT(n == (ssize_t)want.len && !memcmp(got, want.p, want.len));
	}
	/* The answer to a failed one: id 0, an outcome, {errno, reason}. */
	args = cbor_new_definite_map(2);
	EXPECT(map_put(args, "errno", cbor_build_uint8(ESRCH)));
	EXPECT(map_put(args, "reason", cbor_build_string("no such endpoint")));
	slots[0] = cbor_build_uint8(0);
	slots[1] = cbor_build_string("unavailable");
	slots[2] = args;
	link[0] = 0;			/* 42(h'00' || CID) of some request */
	memcpy(link + 1, fn.b, fn.len);
	slots[3] = cbor_build_tag(42, cbor_move(cbor_build_bytestring(link,
							fn.len + 1)));
	EXPECT_EQ(pg_frame_encode(&ans, &pg_pcid_control, slots, 4), 0);
	EXPECT_EQ(pg_msg_parse(ans.p, ans.len, &m), (ssize_t)ans.len);
	EXPECT(pg_msg_failed_request(&m, &err));
	EXPECT_EQ(err, ESRCH);
	/* Not one: an answer to a request with an id, or any other frame. */
	cbor_decref(&slots[0]);
	slots[0] = cbor_build_uint8(9);
	ans.len = 0;
	EXPECT_EQ(pg_frame_encode(&ans, &pg_pcid_control, slots, 4), 0);
	EXPECT_EQ(pg_msg_parse(ans.p, ans.len, &m), (ssize_t)ans.len);
	EXPECT(!pg_msg_failed_request(&m, NULL));
	EXPECT_EQ(pg_msg_parse(f.p, f.len, &m), (ssize_t)f.len);
	EXPECT(!pg_msg_failed_request(&m, NULL));
	for (i = 0; i < 4; i++)
		cbor_decref(&slots[i]);
	pg_close(pg);
	close(fds[0]);
	close(fds[1]);
	pg_buf_free(&want);
	pg_buf_free(&f);
	pg_buf_free(&ans);
	done("pg_carry_send: pg_request's bytes with id 0; a failed one's answer known");
}

static void test_malformed_call(void)
{
	struct pg_buf f = { 0 }, d = { 0 };
	struct pg_call pc;
	struct pg_msg m;
	struct pg_cid fn;

	pg_cid_of("wc", 2, &fn);
	sample_frame(&f, &fn);		/* ["x", 7]: not [nonce, bytes] */
	attest(&d, &f, 5);
	pg_msg_parse(d.p, d.len, &m);
	EXPECT_EQ(pg_call_parse(&m, &pc), -EBADMSG);
	EXPECT_EQ(pc.caller, 5);		/* still known: it gets a malformed reply */
	pg_buf_free(&f);
	pg_buf_free(&d);
	done("function calls: a call of the wrong shape is EBADMSG");
}

static void test_print(void)
{
	struct pg_buf b = { 0 };
	struct pg_cid c = { .len = 4, .b = { 0x01, 0x55, 0x00, 0x00 } };
	char *s = NULL;
	size_t n = 0;
	FILE *f;

	sample_frame(&b, &c);
	f = open_memstream(&s, &n);
	pg_fprint(f, b.p, b.len, PG_PRINT_DIAG);
	fputc('|', f);
	pg_fprint(f, b.p, b.len, PG_PRINT_JSON);
	fclose(f);
	EXPECT(!strcmp(s, "1735551332([42(h'0001550000'), \"x\", 7])|"
		      "{\"tag\": 1735551332, \"value\": [{\"tag\": 42, "
		      "\"value\": \"0001550000\"}, \"x\", 7]}"));
	if (s && current_failed)
		printf("# %s\n", s);
	free(s);
	pg_buf_free(&b);
	done("printing: diagnostic notation and JSON");
}

static void test_batch(void)
{
	struct pg_batch batch = { 0 };
	struct pg_buf f = { 0 };
	struct pg_cid c;
	cbor_item_t *s = cbor_build_uint64(1);
	int i;

	pg_cid_of("p", 1, &c);
	sample_frame(&f, &c);
	for (i = 0; i < 100; i++)
		EXPECT_EQ(pg_batch_add(&batch, f.p, f.len), 0);
	EXPECT_EQ(pg_batch_add_slots(&batch, &c, &s, 1), 0);
	EXPECT_EQ(batch.n, 101);
	EXPECT_EQ(batch.ends[99], 100 * (long long)f.len);
	EXPECT_EQ(pg_frame_check(batch.buf.p + batch.ends[99],
				batch.ends[100] - batch.ends[99]), 0);
	pg_batch_reset(&batch);
	EXPECT_EQ(batch.n, 0);
	cbor_decref(&s);
	pg_batch_free(&batch);
	pg_buf_free(&f);
	done("batches: frames packed back to back with their ends");
}

/* ---- the spec vectors (selftests/host/vectors/README.md) ------------- */

static size_t vec_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2, i;
	unsigned int v;

	if (!strcmp(hex, "-"))
		return 0;
	for (i = 0; i < n && i < cap; i++) {
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return i;
}

static int vec_errno(const char *name)
{
	static const struct { const char *n; int e; } names[] = {
		{ "ok", 0 }, { "EBADMSG", EBADMSG }, { "EILSEQ", EILSEQ },
		{ "EPROTO", EPROTO }, { "EMSGSIZE", EMSGSIZE }, { "E2BIG", E2BIG },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].n))
			return -names[i].e;
	return 1;	/* never an answer */
}

/* Frame lines through pg_frame_check, cid and differ lines through pg_cid_of. */
static void test_vectors(void)
{
	static const char *const files[] = {
		"grid-cbor-conformance.txt", "wire-lab-cid.txt", "links.txt",
		"floats.txt",
	};
	static uint8_t a[2048], b[2048];
	char path[256], line[4096], text[128], *want, *mode, *hex, *rest;
	struct pg_cid c, d;
	int frames = 0, cids = 0;
	size_t i, n, m;
	FILE *fp;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "../../../selftests/host/vectors/%s",
			 files[i]);
		fp = fopen(path, "r");
		EXPECT(fp != NULL);
		while (fp && fgets(line, sizeof(line), fp)) {
			want = strtok(line, " \t\r\n");
			if (!want || *want == '#')
				continue;
			mode = strtok(NULL, " \t\r\n");
			hex = strtok(NULL, " \t\r\n");
			rest = strtok(NULL, " \t\r\n");
			if (!mode || !hex)
				continue;
			n = vec_unhex(hex, a, sizeof(a));
			if (!strcmp(mode, "frame")) {
				if (pg_frame_check(a, n) != vec_errno(want))
					printf("# %s: %s\n", files[i], hex);
				EXPECT_EQ(pg_frame_check(a, n), vec_errno(want));
				frames++;
			} else if (!strcmp(mode, "cid") && rest) {
				pg_cid_of(a, n, &c);
				pg_cid_format(&c, text, sizeof(text));
				EXPECT(!strcmp(text, rest));
				EXPECT(!pg_cid_parse(rest, &d) && pg_cid_eq(&c, &d));
				cids++;
			} else if (!strcmp(mode, "differ") && rest) {
				m = vec_unhex(rest, b, sizeof(b));
				pg_cid_of(a, n, &c);
				pg_cid_of(b, m, &d);
				EXPECT(!pg_cid_eq(&c, &d));
				cids++;
			}
		}
		if (fp)
			fclose(fp);
	}
	EXPECT(frames > 20 && cids >= 6);
	done("spec vectors: pg_frame_check and pg_cid_of agree with selftests/host/vectors");
}

int main(void)
{
	pgt_plan(16);
	test_sha256();
	test_protocol_pcids();
	test_cid_text();
	test_encoder();
	test_encoder_rejects();
	test_frame_roundtrip();
	test_frame_errors();
	test_attested();
	test_call_reply();
	test_cid_from_link();
	test_call_wait_msg();
	test_carry_send();
	test_malformed_call();
	test_print();
	test_batch();
	test_vectors();
	return pgt_end();
}
