// SPDX-License-Identifier: GPL-2.0-only
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Host unit tests for common/pg_cbor.c and common/pg_envelope.c, TAP output.
 * Every input is copied into an exactly sized heap buffer so that the
 * sanitizers catch any read past len.
 *
 * usage: test_cbor [VECTOR_DIR]   (default: vectors/ beside the binary)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg_cbor.h"
#include "pg_envelope.h"
#include "pgt_runner.h"

#define ETRUNC		(-PG_CBOR_ETRUNC)
#define ERESERVED	(-PG_CBOR_ERESERVED)
#define EINDEF		(-PG_CBOR_EINDEF)
#define EBREAK		(-PG_CBOR_EBREAK)
#define ESIMPLE		(-PG_CBOR_ESIMPLE)
#define EDEPTH		(-PG_CBOR_EDEPTH)
#define ESIZE		(-PG_CBOR_ESIZE)
#define ETRAILING	(-PG_CBOR_ETRAILING)
#define ENONCANON	(-PG_CBOR_ENONCANON)
#define DET		PG_CBOR_DETERMINISTIC
#define ENV_ENOTGRID	(-PG_ENV_ENOTGRID)
#define ENV_ENOTARRAY	(-PG_ENV_ENOTARRAY)
#define ENV_ENOPCID	(-PG_ENV_ENOPCID)
#define ENV_EBADCID	(-PG_ENV_EBADCID)
#define ELINK		(-PG_CBOR_ELINK)
#define LINKS		PG_CBOR_LINKS

static int quiet, ntest;
static const struct pg_cbor_limits deflim = { 16, 1048576 };

/* One test's result, tallied by the selftests' runner (pgt_result()). */
static void ok(int cond, const char *fmt, const char *arg)
{
	char name[4224];	/* a path and its words */

	ntest++;
	if (quiet)
		return;
	snprintf(name, sizeof(name), fmt, arg);
	pgt_result(cond ? PGT_PASS : PGT_FAIL, name, NULL);
}

static void diag(const char *what, long long got, long long want)
{
	if (!quiet)
		printf("# %s: got %lld, want %lld\n", what, got, want);
}

/* Hex string to an exactly sized heap buffer (caller frees). */
static uint8_t *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2, i;
	uint8_t *b = malloc(n ? n : 1);
	unsigned int v;

	if (!b)
		abort();
	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			abort();
		b[i] = (uint8_t)v;
	}
	*len = n;
	return b;
}

static int item_len_hex(const char *hex, const struct pg_cbor_limits *lim,
			unsigned int flags, size_t *ilen, size_t *len)
{
	uint8_t *b = unhex(hex, len);
	int err = pg_cbor_item_len(b, *len, lim, flags, ilen);

	free(b);
	return err;
}

/* RFC 8949 Appendix A: all well-formed. */
static const char *const rfc_a[] = {
	"00", "01", "0a", "17", "1818", "1819", "1864", "1903e8", "1a000f4240",
	"1b000000e8d4a51000", "1bffffffffffffffff", "c249010000000000000000",
	"3bffffffffffffffff", "c349010000000000000000", "20", "29", "3863",
	"3903e7", "f90000", "f98000", "f93c00", "fb3ff199999999999a", "f93e00",
	"f97bff", "fa47c35000", "fa7f7fffff", "fb7e37e43c8800759c", "f90001",
	"f90400", "f9c400", "fbc010666666666666", "f97c00", "f97e00", "f9fc00",
	"fa7f800000", "fa7fc00000", "faff800000", "fb7ff0000000000000",
	"fb7ff8000000000000", "fbfff0000000000000", "f4", "f5", "f6", "f7",
	"f0", "f8ff",
	"c074323031332d30332d32315432303a30343a30305a", "c11a514b67b0",
	"c1fb41d452d9ec200000", "d74401020304", "d818456449455446",
	"d82076687474703a2f2f7777772e6578616d706c652e636f6d", "40",
	"4401020304", "60", "6161", "6449455446", "62225c", "62c3bc",
	"63e6b0b4", "64f0908591", "80", "83010203", "8301820203820405",
	"98190102030405060708090a0b0c0d0e0f101112131415161718181819", "a0",
	"a201020304", "a26161016162820203", "826161a161626163",
	"a56161614161626142616361436164614461656145", "5f42010243030405ff",
	"7f657374726561646d696e67ff", "9fff", "9f018202039f0405ffff",
	"9f01820203820405ff", "83018202039f0405ff", "83019f0203ff820405",
	"9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
	"bf61610161629f0203ffff", "826161bf61626163ff",
	"bf6346756ef563416d7421ff",
};

struct bad {
	const char *hex;
	int err;
};

/* RFC 8949 Appendix F.1: not well-formed, with the expected error. */
static const struct bad rfc_f[] = {
	/* end of input in a head */
	{ "18", ETRUNC }, { "19", ETRUNC }, { "1a", ETRUNC }, { "1b", ETRUNC },
	{ "1901", ETRUNC }, { "1a0102", ETRUNC },
	{ "1b01020304050607", ETRUNC }, { "38", ETRUNC }, { "58", ETRUNC },
	{ "78", ETRUNC }, { "98", ETRUNC }, { "9a01ff00", ETRUNC },
	{ "b8", ETRUNC }, { "d8", ETRUNC }, { "f8", ETRUNC },
	{ "f900", ETRUNC }, { "fa0000", ETRUNC }, { "fb000000", ETRUNC },
	/* definite-length strings with short data */
	{ "41", ETRUNC }, { "61", ETRUNC }, { "5affffffff00", ETRUNC },
	{ "5bffffffffffffffff010203", ETRUNC }, { "7affffffff00", ETRUNC },
	{ "7b7fffffffffffffff010203", ETRUNC },
	/* definite-length maps and arrays not closed with enough items */
	{ "81", ETRUNC }, { "818181818181818181", ETRUNC }, { "8200", ETRUNC },
	{ "a1", ETRUNC }, { "a20102", ETRUNC }, { "a100", ETRUNC },
	{ "a2000000", ETRUNC },
	/* tag number not followed by tag content */
	{ "c0", ETRUNC },
	/* indefinite-length strings not closed by a break */
	{ "5f4100", ETRUNC }, { "7f6100", ETRUNC },
	/* indefinite-length maps and arrays not closed by a break */
	{ "9f", ETRUNC }, { "9f0102", ETRUNC }, { "bf", ETRUNC },
	{ "bf01020102", ETRUNC }, { "819f", ETRUNC }, { "9f8000", ETRUNC },
	{ "9f9f9f9f9fffffffff", ETRUNC }, { "9f819f819f9fffffff", ETRUNC },
	/* reserved two-byte simple values */
	{ "f800", ESIMPLE }, { "f801", ESIMPLE }, { "f818", ESIMPLE },
	{ "f81f", ESIMPLE },
	/* indefinite string chunks not of the correct type */
	{ "5f00ff", EINDEF }, { "5f21ff", EINDEF }, { "5f6100ff", EINDEF },
	{ "5f80ff", EINDEF }, { "5fa0ff", EINDEF }, { "5fc000ff", EINDEF },
	{ "5fe0ff", EINDEF }, { "7f4100ff", EINDEF },
	/* indefinite string chunks not definite length */
	{ "5f5f4100ffff", EINDEF }, { "7f7f6100ffff", EINDEF },
	/* break occurring on its own outside of an indefinite-length item */
	{ "ff", EBREAK },
	/* break in a definite-length array, map or tag */
	{ "81ff", EBREAK }, { "8200ff", EBREAK }, { "a1ff00", EBREAK },
	{ "a100ff", EBREAK }, { "a2000000ff", EBREAK },
	/*
	 * Counts are bounded by the remaining input first (2 bytes per map
	 * pair), so these two are already short of bytes at the map head.
	 */
	{ "a1ff", ETRUNC }, { "a20000ff", ETRUNC }, { "9f81ff", EBREAK },
	{ "9f829f819f9fffffffff", EBREAK }, { "c0ff", EBREAK },
	/* break in an indefinite map that would leave an odd item count */
	{ "bf00ff", EINDEF }, { "bf000000ff", EINDEF },
	/* major types 0, 1 and 6 with additional information 31 */
	{ "1f", EINDEF }, { "3f", EINDEF }, { "df", EINDEF },
	/* huge lengths and counts must not wrap around */
	{ "5bffffffffffffffff00", ETRUNC }, { "9bffffffffffffffff", ETRUNC },
	{ "bbffffffffffffffff", ETRUNC }, { "bb800000000000000000", ETRUNC },
	{ "7bffffffffffffffff", ETRUNC }, { "9b000000010000000000", ETRUNC },
	{ "", ETRUNC },
};

static void test_rfc(void)
{
	size_t i, n, len, ilen;
	uint8_t *b, ib[1];
	char name[8];
	int err, err2;

	/* additional information 28..30 is reserved in every major type */
	for (i = 0; i < 24; i++) {
		ib[0] = (uint8_t)((i / 3) << 5 | (28 + i % 3));
		snprintf(name, sizeof(name), "%02x", ib[0]);
		ok(pg_cbor_item_len(ib, 1, &deflim, 0, &ilen) == ERESERVED,
		   "not well-formed rejected: %s", name);
	}

	for (i = 0; i < sizeof(rfc_a) / sizeof(rfc_a[0]); i++) {
		ilen = 0;
		err = item_len_hex(rfc_a[i], NULL, 0, &ilen, &len);
		/* the same item with one trailing byte */
		b = unhex(rfc_a[i], &n);
		b = realloc(b, n + 1);
		b[n] = 0x00;
		err2 = pg_cbor_check_one(b, n + 1, &deflim, 0);
		free(b);
		ok(!err && ilen == len && err2 == ETRAILING,
		   "Appendix A accepted: %s", rfc_a[i]);
		if (err || ilen != len || err2 != ETRAILING)
			diag("err, with a trailing byte", err, err2);
	}
	for (i = 0; i < sizeof(rfc_f) / sizeof(rfc_f[0]); i++) {
		err = item_len_hex(rfc_f[i].hex, &deflim, 0, &ilen, &len);
		ok(err == rfc_f[i].err, "not well-formed rejected: %s",
		   rfc_f[i].hex);
		if (err != rfc_f[i].err)
			diag("err", err, rfc_f[i].err);
	}
}

/* Deterministic mode: 0 means accepted. */
static const struct bad det[] = {
	{ "00", 0 }, { "17", 0 }, { "1818", 0 }, { "18ff", 0 }, { "190100", 0 },
	{ "1a00010000", 0 }, { "1b0000000100000000", 0 }, { "f97e00", 0 },
	{ "f93c00", 0 }, { "fa47c35000", 0 }, { "a2616101616202", 0 },
	{ "a261620162616102", 0 }, { "f90001", 0 }, { "f97c00", 0 },
	{ "f9fc00", 0 }, { "f98000", 0 }, { "fb3ff199999999999a", 0 },
	{ "fa7f7fffff", 0 }, { "fa47800000", 0 }, { "fa33c00000", 0 },
	{ "fb3690000000000000", 0 }, { "f8ff", 0 }, { "f820", 0 },
	{ "d8186161", 0 }, { "a281010082000000", 0 },
	{ "a1a2616101616202f6", 0 }, { "c11a514b67b0", 0 },
	{ "1817", ENONCANON }, { "190017", ENONCANON }, { "1900ff", ENONCANON },
	{ "1a0000ffff", ENONCANON }, { "1b00000000ffffffff", ENONCANON },
	{ "3817", ENONCANON }, { "580100", ENONCANON }, { "d80000", ENONCANON },
	{ "98020000", ENONCANON }, { "b8010000", ENONCANON },
	{ "5f4100ff", ENONCANON }, { "7fff", ENONCANON }, { "9fff", ENONCANON },
	{ "bfff", ENONCANON }, { "fb3ff0000000000000", ENONCANON },
	{ "fa3f800000", ENONCANON }, { "fb7ff8000000000000", ENONCANON },
	{ "fa7fc00000", ENONCANON }, { "f97e01", ENONCANON },
	{ "f9fe00", ENONCANON }, { "fa7f800000", ENONCANON },
	{ "fb7ff0000000000000", ENONCANON }, { "fa00000000", ENONCANON },
	{ "fb8000000000000000", ENONCANON }, { "fa33800000", ENONCANON },
	{ "fa477fe000", ENONCANON }, { "fb3e70000000000000", ENONCANON },
	{ "fb36a0000000000000", ENONCANON },
	{ "fb40f86a0000000000", ENONCANON }, { "a2616201616102", ENONCANON },
	{ "a2616101616102", ENONCANON }, { "a262616101616202", ENONCANON },
	{ "a282000000810100", ENONCANON }, { "a1a2616201616102f6", ENONCANON },
	{ "a2810100810100", ENONCANON }, { "a2190100002000", 0 },
	{ "a2200019010000", ENONCANON }, { "a3000001000000", ENONCANON },
	{ "f818", ESIMPLE }, { "1f", EINDEF }, { "ff", EBREAK },
};

static void test_det(void)
{
	size_t i, len, ilen;
	int err;

	for (i = 0; i < sizeof(det) / sizeof(det[0]); i++) {
		ilen = 0;
		err = item_len_hex(det[i].hex, &deflim, DET, &ilen, &len);
		ok(err == det[i].err && (err || ilen == len),
		   det[i].err ? "deterministic rejects %s" :
		   "deterministic accepts %s", det[i].hex);
		if (err != det[i].err)
			diag("err", err, det[i].err);
	}
}

/* Depth and size limits: hex, max_depth, max_size, expected, name. */
static const struct {
	const char *hex;
	uint32_t depth;
	size_t size;
	int err;
	const char *name;
} lim_cases[] = {
	{ "8181818100", 4, 99, 0, "4 nested arrays at max_depth 4" },
	{ "818181818100", 4, 99, EDEPTH, "5 nested arrays: EDEPTH" },
	{ "c1c1c1c100", 4, 99, 0, "4 nested tags at max_depth 4" },
	{ "c1c1c1c1c100", 4, 99, EDEPTH, "5 nested tags: EDEPTH" },
	{ "81c181c100", 4, 99, 0, "arrays and tags mixed at max_depth 4" },
	{ "a100a100a100a100a1000000000000", 4, 99, EDEPTH,
	  "5 nested maps: EDEPTH" },
	{ "8100", 0, 99, EDEPTH, "max_depth 0: no containers" },
	{ "8180", 1, 99, EDEPTH, "an empty array counts as a level" },
	{ "5f4100ff", 1, 99, 0, "indefinite string at max_depth 1" },
	{ "815fff", 1, 99, EDEPTH, "an indefinite string opens a level" },
	{ "1903e8", 16, 3, 0, "3-byte item at max_size 3" },
	{ "1903e800", 16, 3, 0, "max_size bounds the item, not the input" },
	{ "1a000f4240", 16, 3, ESIZE, "5-byte int at max_size 3: ESIZE" },
	{ "83010203", 16, 3, ESIZE, "4-byte array at max_size 3: ESIZE" },
	{ "43010203", 16, 3, ESIZE, "4-byte string at max_size 3: ESIZE" },
	{ "430102", 16, 3, ETRUNC, "truncated within max_size: ETRUNC" },
	{ "00", 16, 0, ESIZE, "max_size 0: ESIZE" },
};

static int nested(unsigned int n, uint32_t depth)
{
	struct pg_cbor_limits lim = { depth, 1 << 20 };
	uint8_t b[64];
	size_t ilen;

	memset(b, 0x81, n);
	b[n] = 0x00;
	return pg_cbor_item_len(b, n + 1, &lim, 0, &ilen);
}

static void test_limits(void)
{
	struct pg_cbor_limits lim;
	size_t i, len, ilen;
	int err;

	for (i = 0; i < sizeof(lim_cases) / sizeof(lim_cases[0]); i++) {
		lim.max_depth = lim_cases[i].depth;
		lim.max_size = lim_cases[i].size;
		ilen = 0;
		err = item_len_hex(lim_cases[i].hex, &lim, 0, &ilen, &len);
		ok(err == lim_cases[i].err &&
		   (err || ilen == (lim.max_size < len ? lim.max_size : len)),
		   "%s", lim_cases[i].name);
	}
	ok(nested(32, 32) == 0, "%s", "32 nested arrays at max_depth 32");
	ok(nested(33, 32) == EDEPTH, "%s", "33 nested arrays: EDEPTH");
	ok(nested(33, 1000) == EDEPTH, "%s",
	   "max_depth clamped to PG_CBOR_DEPTH_MAX");
}

/* Every proper prefix of an Appendix A item is truncated. */
static void test_prefixes(void)
{
	size_t i, k, len, ilen;
	uint8_t *b, *p;
	int bad;

	for (i = 0; i < sizeof(rfc_a) / sizeof(rfc_a[0]); i++) {
		b = unhex(rfc_a[i], &len);
		bad = 0;
		for (k = 0; k < len; k++) {
			p = malloc(k ? k : 1);
			memcpy(p, b, k);
			if (pg_cbor_item_len(p, k, &deflim, 0, &ilen) != ETRUNC)
				bad++;
			free(p);
		}
		free(b);
		ok(!bad, "every prefix truncated: %s", rfc_a[i]);
	}
}

static void test_read_head(void)
{
	uint8_t major = 0xee;
	uint64_t arg = 1;
	bool indef = true;
	size_t hlen = 0, len;
	uint8_t *b;
	int err;

#define HEAD(hex, e, mj, a, ind, hl) do {				\
		b = unhex(hex, &len);					\
		err = pg_cbor_read_head(b, len, &major, &arg, &indef, &hlen); \
		free(b);						\
		ok(err == (e) && (err || (major == (mj) && arg == (a) &&	\
			indef == (ind) && hlen == (hl))),		\
		   "read_head %s", hex);				\
	} while (0)

	HEAD("00", 0, 0, 0, false, 1);
	HEAD("1903e8", 0, 0, 1000, false, 3);
	HEAD("3bffffffffffffffff", 0, 1, UINT64_MAX, false, 9);
	HEAD("5f", 0, 2, 0, true, 1);
	HEAD("ff", 0, 7, 0, true, 1);
	HEAD("f8ff", 0, 7, 255, false, 2);
	HEAD("fb3ff199999999999a", 0, 7, 0x3ff199999999999aULL, false, 9);
	HEAD("da67726964", 0, 6, 1735551332, false, 5);
	HEAD("d82a", 0, 6, 42, false, 2);
	HEAD("1c", ERESERVED, 0, 0, false, 0);
	HEAD("1a0001", ETRUNC, 0, 0, false, 0);
	HEAD("", ETRUNC, 0, 0, false, 0);
#undef HEAD
}

/* Build a frame: grid tag, array, tag 42 over 0x00 + cid, then tail. */
static size_t frame(uint8_t *out, unsigned int nslots, const uint8_t *cid,
		    size_t cid_len, const char *tail)
{
	size_t n = 5, tlen, i;
	uint8_t *t;

	memcpy(out, "\xda\x67\x72\x69\x64", 5);
	out[n++] = 0x80 | nslots;
	out[n++] = 0xd8;
	out[n++] = 0x2a;
	out[n++] = 0x58;		/* callers' CIDs are 24..254 bytes */
	out[n++] = (uint8_t)(cid_len + 1);
	out[n++] = 0x00;
	memcpy(out + n, cid, cid_len);
	n += cid_len;
	t = unhex(tail, &tlen);
	for (i = 0; i < tlen; i++)
		out[n++] = t[i];
	free(t);
	return n;
}

static int env_parse(const uint8_t *f, size_t n, const struct pg_cbor_limits
		     *lim, struct pg_envelope *env)
{
	uint8_t *b = malloc(n ? n : 1);
	int err;

	memcpy(b, f, n);
	err = pg_env_parse(b, n, lim, env);
	free(b);
	return err;
}

static int env_hex(const char *hex)
{
	struct pg_envelope env;
	size_t len;
	uint8_t *b = unhex(hex, &len);
	int err = env_parse(b, len, &deflim, &env);

	free(b);
	return err;
}

/* Envelope inputs built by hand: hex, expected result, name. */
#define G1 "da6772696481d82a"	/* grid tag, array of 1, tag 42 */
static const struct {
	const char *hex;
	int err;
	const char *name;
} env_cases[] = {
	{ "d82a4700015512030102", ENV_ENOTGRID, "tag 42 instead of grid tag" },
	{ "00", ENV_ENOTGRID, "integer" },
	{ "da67726965", ENV_ENOTGRID, "other 4-byte tag" },
	{ "da6772", ETRUNC, "grid tag prefix" },
	{ "", ETRUNC, "empty" },
	{ "da67726964a0", ENV_ENOTARRAY, "grid tag over a map" },
	{ "da6772696480", ENV_ENOTARRAY, "grid tag over an empty array" },
	{ "da6772696400", ENV_ENOTARRAY, "grid tag over an integer" },
	{ "da677269649fff", ENONCANON, "indefinite array: CBOR error first" },
	{ "da67726964814700015512030102", ENV_ENOPCID,
	  "slot 0 a plain byte string" },
	{ G1 "63616263", ENV_ENOPCID, "slot 0 tag 42 over text" },
	{ "da6772696481d82b4700015512030102", ENV_ENOPCID, "slot 0 tag 43" },
	{ G1 "480001551203010203", 0, "small CID with 3-byte digest" },
	{ G1 "450001550000", 0, "4-byte CID with empty identity digest" },
	{ G1 "4401015500", ENV_EBADCID, "3-byte CID" },
	{ G1 "480101551203010203", ENV_EBADCID, "no leading 0x00" },
	{ G1 "480000551203010203", ENV_EBADCID, "CID version 0" },
	{ G1 "480002551203010203", ENV_EBADCID, "CID version 2" },
	{ G1 "480001551204010203", ENV_EBADCID, "digest length too long" },
	{ G1 "480001551202010203", ENV_EBADCID, "digest length too short" },
	{ G1 "490001d5001203010203", ENV_EBADCID, "non-minimal varint" },
	{ G1 "49000180041203010203", 0, "minimal two-byte varint accepted" },
	{ G1 "450001551283", ENV_EBADCID,
	  "digest length varint running off the end" },
	{ G1 "4f0001ffffffffffffffffff01000200", ENV_EBADCID,
	  "10-byte varint" },
};

static void test_envelope(void)
{
	uint8_t cid[128], f[512], g[512];
	struct pg_envelope env;
	struct pg_cbor_limits lim = { 2, 1 << 20 };
	size_t n, m, i;
	int err;

	cid[0] = 0x01;		/* CIDv1 */
	cid[1] = 0x55;		/* raw */
	cid[2] = 0x12;		/* sha2-256 */
	cid[3] = 0x20;		/* 32 bytes */
	for (i = 0; i < 32; i++)
		cid[4 + i] = (uint8_t)(0xa0 + i);

	n = frame(f, 2, cid, 36, "63616263");
	memset(&env, 0xff, sizeof(env));
	err = env_parse(f, n, &deflim, &env);
	ok(!err && f[8] == 0x58 && f[9] == 0x25 && env.frame_len == 51 &&
	   env.cid_off == 11 && env.cid_len == 36 && env.nslots == 2 &&
	   env.slots_off == 47 && !memcmp(f + env.cid_off, cid, 36),
	   "%s", "valid frame with two slots and its offsets");
	if (err)
		diag("err", err, 0);

	m = frame(g, 1, cid, 36, "");
	err = env_parse(g, m, &deflim, &env);
	ok(!err && env.frame_len == 47 && env.nslots == 1 &&
	   env.slots_off == 47 && env.cid_len == 36, "%s",
	   "frame with only slot 0");

	memcpy(f + n, g, m);
	err = env_parse(f, n + m, &deflim, &env);
	ok(!err && env.frame_len == 51, "%s",
	   "sequence of two frames: frame_len of the first");

	err = env_parse(g, m, &lim, &env);
	ok(err == EDEPTH, "%s", "limits apply to the frame");
	n = frame(f, 2, cid, 36, "7803616263");
	ok(env_parse(f, n, &deflim, &env) == ENONCANON, "%s",
	   "non-deterministic slot: ENONCANON");
	ok(env_parse(f, 40, &deflim, &env) == ETRUNC, "%s",
	   "truncated frame: ETRUNC");

	for (i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++)
		ok(env_hex(env_cases[i].hex) == env_cases[i].err,
		   "envelope: %s", env_cases[i].name);

	cid[3] = 92;
	for (i = 36; i < 96; i++)
		cid[i] = (uint8_t)i;
	n = frame(f, 1, cid, 96, "");
	err = env_parse(f, n, &deflim, &env);
	ok(!err && env.cid_len == 96, "%s", "96-byte CID accepted");
	cid[3] = 93;
	cid[96] = 0;
	n = frame(f, 1, cid, 97, "");
	ok(env_parse(f, n, &deflim, &env) == -PG_ENV_EBADCID, "%s",
	   "97-byte CID: EBADCID");
}

/* The link rule itself, and how the single pass applies it. */
static const struct {
	const char *hex;
	unsigned int flags;
	int err;
	size_t off;		/* *off of pg_cbor_validate() */
	const char *name;
} link_cases[] = {
	{ "d82a40", DET, 0, 3, "without LINKS, 42(h'') is just a tag" },
	{ "d82a40", LINKS, ELINK, 0, "42(h'')" },
	{ "d82a450001550000", LINKS | DET, 0, 8, "42(h'00 01550000')" },
	{ "8201d82a40", LINKS | DET, ELINK, 2, "offset of the bad tag 42" },
	{ "8301d82a01d82a40", LINKS, ELINK, 2, "two bad links: the first" },
	{ "a1d82a4000", LINKS, ELINK, 1, "as a map key" },
	{ "c1d82a40", LINKS, ELINK, 1, "under another tag" },
	{ "d82ad82a450001550000", LINKS, ELINK, 0, "42(42(link))" },
	{ "d82a5f450001550000ff", LINKS, ELINK, 0,
	  "indefinite byte string (plain mode)" },
	{ "d9002a40", LINKS, ELINK, 0, "tag 42 in a longer head (plain mode)" },
	{ "d9002a40", LINKS | DET, ENONCANON, 0,
	  "tag 42 in a longer head: ENONCANON first" },
	{ "82d82a40", LINKS, ETRUNC, 4, "ETRUNC wins over an earlier link" },
	{ "82d82a401817", LINKS | DET, ENONCANON, 4,
	  "ENONCANON wins over an earlier link" },
	{ "82d82a40ff", LINKS, EBREAK, 4, "EBREAK wins over an earlier link" },
	{ "d82a4500015500", LINKS, ETRUNC, 7,
	  "link longer than the input: ETRUNC" },
	{ "8143d82a40", LINKS, 0, 5, "inside a byte string: not visible" },
	{ "5f43d82a40ff", LINKS, 0, 6, "inside a string chunk: not visible" },
};

static void test_links(void)
{
	static const uint8_t v0[34] = { 0x12, 0x20 };
	uint8_t l[40] = { 0 }, f[64];
	struct pg_envelope env;
	size_t i, len, off;
	uint8_t *b;
	int err;

	ok(pg_cbor_cid_version(v0, 34) == 0 &&
	   pg_cbor_cid_version(v0, 33) == -1 &&
	   pg_cbor_cid_version((const uint8_t *)"\x01\x55\x00\x00", 4) == 1 &&
	   pg_cbor_cid_version((const uint8_t *)"\x02\x55\x00\x00", 4) == -1 &&
	   pg_cbor_cid_version(v0, 0) == -1,
	   "%s", "pg_cbor_cid_version: CIDv0, CIDv1, neither");
	memcpy(l + 1, v0, 34);
	ok(pg_cbor_link_ok(l, 35) && !pg_cbor_link_ok(l + 1, 34) &&
	   !pg_cbor_link_ok(l, 1) && !pg_cbor_link_ok(l, 0) &&
	   !pg_env_pcid_ok(l, 35), "%s",
	   "a CIDv0 is a link, not a pCID; the prefix is required");
	for (i = 0; i < sizeof(link_cases) / sizeof(link_cases[0]); i++) {
		b = unhex(link_cases[i].hex, &len);
		off = 999;
		err = pg_cbor_validate(b, len, &deflim, link_cases[i].flags,
				       &off);
		free(b);
		ok(err == link_cases[i].err && off == link_cases[i].off,
		   "links: %s", link_cases[i].name);
		if (err != link_cases[i].err || off != link_cases[i].off)
			diag("err, offset", err, (long long)off);
	}
	ok(pg_env_errno(ELINK) == -EPROTO, "%s", "a bad link is EPROTO");

	/* the envelope's order: structure and slot 0 first, then links */
	ok(env_hex("da67726964a101d82a40") == ENV_ENOTARRAY, "%s",
	   "envelope: grid over a map holding a bad link: ENOTARRAY");
	memcpy(f, "\xda\x67\x72\x69\x64\x82\xd8\x2a\x40\xd8\x2a\x40", 12);
	ok(env_parse(f, 12, &deflim, &env) == ENV_EBADCID, "%s",
	   "envelope: bad slot 0 and a bad link: EBADCID");
	memcpy(f, "\xda\x67\x72\x69\x64\x82\xd8\x2a\x45\x00\x01\x55\x00"
	       "\x00\xd8\x2a\x40", 17);
	ok(env_parse(f, 17, &deflim, &env) == ELINK, "%s",
	   "envelope: bad link in slot 1: ELINK");
	f[17] = 0x00;		/* a sequence: only the first item counts */
	ok(env_parse(f, 17, &deflim, &env) == ELINK &&
	   env_parse(f, 18, &deflim, &env) == ELINK, "%s",
	   "envelope: bad link, with bytes after the frame: ELINK");
}

static void test_strerror(void)
{
	int i, bad = 0;

	for (i = 0; i < PG_ENV_EMAX; i++)
		if (!pg_env_strerror(-i) || !pg_env_strerror(i) ||
		    strcmp(pg_env_strerror(i), pg_env_strerror(-i)))
			bad++;
	for (i = 0; i < PG_CBOR_EMAX; i++)
		if (strcmp(pg_cbor_strerror(-i), pg_env_strerror(-i)))
			bad++;
	ok(!bad && !strcmp(pg_cbor_strerror(999), "unknown error") &&
	   !strcmp(pg_env_strerror(-999), "unknown error"), "%s",
	   "strerror covers every code");
}

/* ---- vectors: selftests/host/vectors/README.md ------------------------- */

static const char *vec_dir = "vectors";

static const char *const vec_files[] = {
	"grid-cbor-conformance.txt", "wire-lab-cid.txt", "links.txt",
	"floats.txt",
};

/* What a write of a frame with this error gets, by name; "ok" for 0. */
static const char *verdict(int err)
{
	if (!err)
		return "ok";
	switch (-pg_env_errno(err)) {
	case EBADMSG:
		return "EBADMSG";
	case EILSEQ:
		return "EILSEQ";
	case EPROTO:
		return "EPROTO";
	case EMSGSIZE:
		return "EMSGSIZE";
	case E2BIG:
		return "E2BIG";
	default:
		return "?";
	}
}

/* Hex ("-" for none) to an exactly sized heap buffer, or NULL. */
static uint8_t *vec_unhex(const char *hex, size_t *len)
{
	size_t i, n = strlen(hex);

	if (!strcmp(hex, "-"))
		return unhex("", len);
	if (n % 2)
		return NULL;
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", hex[i]))
			return NULL;
	return unhex(hex, len);
}

/* "b" + unpadded lowercase base32 (RFC 4648) to bytes; 0 or -1. */
static int vec_base32(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned int bits = 0;
	uint32_t acc = 0;
	const char *q;

	*len = 0;
	if (*s++ != 'b')
		return -1;
	for (; *s; s++) {
		q = strchr(abc, *s);
		if (!q)
			return -1;
		acc = acc << 5 | (uint32_t)(q - abc);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (*len == cap)
				return -1;
			out[(*len)++] = (uint8_t)(acc >> bits);
		}
	}
	return acc & ((1u << bits) - 1) ? -1 : 0;
}

/* A CID from a vector: a valid pCID and link, in slot 0 and slot 1. */
static bool vec_cid_ok(const char *text)
{
	uint8_t c[PG_ENV_CID_MAX + 1], f[2 * PG_ENV_CID_MAX + 16];
	struct pg_envelope env;
	size_t n, k, i;

	if (vec_base32(text, c + 1, PG_ENV_CID_MAX, &n))
		return false;
	c[0] = 0x00;
	if (!pg_env_pcid_ok(c, n + 1) || !pg_cbor_link_ok(c, n + 1))
		return false;
	memcpy(f, "\xda\x67\x72\x69\x64\x82", 6);
	k = 6;
	for (i = 0; i < 2; i++) {
		f[k++] = 0xd8;
		f[k++] = 0x2a;
		f[k++] = 0x58;
		f[k++] = (uint8_t)(n + 1);
		memcpy(f + k, c, n + 1);
		k += n + 1;
	}
	return !env_parse(f, k, &deflim, &env) && env.frame_len == k &&
	       env.cid_len == n && !memcmp(f + env.cid_off, c + 1, n);
}

/* One line: 1 if it was a vector, 0 if not (blank, comment, differ). */
static int vec_line(const char *file, unsigned int lineno, char *line)
{
	char *want, *mode, *hex, *rest, name[160];
	struct pg_envelope env;
	const char *got = "malformed line";
	uint8_t *b = NULL;
	size_t n;
	int err;

	want = strtok(line, " \t\r\n");
	if (!want || *want == '#')
		return 0;
	mode = strtok(NULL, " \t\r\n");
	hex = strtok(NULL, " \t\r\n");
	rest = strtok(NULL, "\r\n");
	snprintf(name, sizeof(name), "%s:%u %s", file, lineno,
		 rest ? rest : "");
	if (mode && !strcmp(mode, "differ"))
		return 0;	/* for tools/maint/pg-cid: vectors.sh */
	if (!mode || !hex)
		goto out;
	if (!strcmp(mode, "cid")) {
		/* the expected CID is the first word of rest */
		got = rest && vec_cid_ok(strtok(rest, " \t")) ? "ok" :
			"invalid CID";
		goto out;
	}
	b = vec_unhex(hex, &n);
	if (!b)
		goto out;
	if (!strcmp(mode, "item")) {
		got = verdict(pg_cbor_check_one(b, n, &deflim, DET | LINKS));
	} else if (!strcmp(mode, "frame")) {
		err = pg_env_parse(b, n, &deflim, &env);
		got = err || env.frame_len == n ? verdict(err) : "trailing";
	}
out:
	free(b);
	ok(!strcmp(got, want), "vector %s", name);
	if (strcmp(got, want) && !quiet)
		printf("# got %s, want %s\n", got, want);
	return 1;
}

static void test_vectors(void)
{
	char path[4096], line[4096];
	unsigned int lineno, count;
	size_t i;
	FILE *fp;

	for (i = 0; i < sizeof(vec_files) / sizeof(vec_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", vec_dir, vec_files[i]);
		fp = fopen(path, "r");
		lineno = count = 0;
		while (fp && fgets(line, sizeof(line), fp))
			count += vec_line(vec_files[i], ++lineno, line);
		if (fp)
			fclose(fp);
		ok(fp && count > 0, "vectors read from %s", path);
	}
}

/*
 * Random inputs (fixed seed): no crash or over-read, and the answers agree
 * with each other: a deterministic item is well-formed with the same
 * length, an accepted item is accepted alone and its prefixes truncated,
 * links mode gives plain mode's answer or ELINK for a well-formed item.
 */
static void test_random(void)
{
	/* bytes likely to start interesting items */
	static const uint8_t pick[39] = "\x00\x18\x19\x1a\x1b\x1f\x20\x38\x41"
		"\x58\x5f\x61\x78\x7f\x81\x82\x98\x9f\xa1\xa2\xb8\xbf\xc0\xd8"
		"\xf4\xf8\xf9\xfa\xfb\xff\x60\x80\xa0\x01\x02\x7e\x2a\x40";
	uint32_t seed = 12345;
	size_t len, ilen, ilen2, ilen3, k, k2;
	int iter, bad = 0, accepted = 0, err, err2, err3;
	uint8_t *b;

	for (iter = 0; iter < 20000; iter++) {
		seed = seed * 1103515245 + 12345;
		len = (seed >> 16) % 24;
		b = malloc(len ? len : 1);
		for (k = 0; k < len; k++) {
			seed = seed * 1103515245 + 12345;
			k2 = (seed >> 8) % (sizeof(pick) - 1);
			b[k] = (seed >> 20) & 1 ? pick[k2] : (uint8_t)(seed >> 8);
		}
		err = pg_cbor_item_len(b, len, &deflim, 0, &ilen);
		err2 = pg_cbor_item_len(b, len, &deflim, DET, &ilen2);
		if (err > 0 || err <= -PG_CBOR_EMAX || err == ETRAILING)
			bad++;
		if (!err2 && (err || ilen2 != ilen))
			bad++;
		err3 = pg_cbor_item_len(b, len, &deflim, LINKS, &ilen3);
		if (err3 == ELINK ? err != 0 : err3 != err ||
		    (!err3 && ilen3 != ilen))
			bad++;
		if (!err) {
			accepted++;
			if (ilen < 1 || ilen > len ||
			    pg_cbor_check_one(b, ilen, &deflim, 0) ||
			    pg_cbor_item_len(b, ilen - 1, &deflim, 0, &ilen2)
			    != ETRUNC)
				bad++;
		}
		free(b);
	}
	ok(!bad && accepted > 100, "%s", "random inputs: consistent answers");
	if (bad || accepted <= 100)
		diag("inconsistencies", bad, 0);
}

/*
 * The envelope's fast path for the common frame (pg_env_parse_flat())
 * against the general walk (pg_env_parse_general()): templates of the
 * common shape are taken by the fast path, and for each template, each
 * prefix of it, each byte replaced by each of a set of heads, and
 * random multi-byte mutations (fixed seed), under four limits, the fast
 * path accepts only what the walk accepts, with the same envelope, and
 * pg_env_parse() gives the walk's answer.
 */
#define FLAT_G	"da67726964"
#define FLAT_P	"d82a58250001711220" \
	"30373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb0209"
#define FLAT_64	"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
static const char *const flat_frames[] = {
	FLAT_G "82" FLAT_P "5840" FLAT_64 FLAT_64 FLAT_64 FLAT_64,
	FLAT_G "81" FLAT_P,
	FLAT_G "88" FLAT_P "0017181819010019ffff1a000100001b0000000100000000",
	FLAT_G "89" FLAT_P "2038ff636162636a30313233343536373839f4f5f6f7",
	FLAT_G "86" FLAT_P "405818" FLAT_64 "5a5a5a5a5a5a5a5a" "41ff60f6",
	FLAT_G "82" "d82a450001550000" "01",	/* a short pCID, 1-byte head */
};

/* Near misses, each refused or left to the walk; mutated like the above. */
static const char *const flat_near[] = {
	FLAT_G "82" "d82a58050001550000" "01",	/* pCID head not shortest */
	FLAT_G "82" "d82a5823001220" FLAT_64 FLAT_64 "01", /* a CIDv0 */
	FLAT_G "83" FLAT_P "1817f818",		/* int head, simple 24 */
	FLAT_G "84" FLAT_P "f93c00fa3fc00000f7",	/* floats */
	FLAT_G "83" FLAT_P "f7",		/* a slot missing */
	FLAT_G "83" FLAT_P "8101a0",		/* containers */
	FLAT_G "82" FLAT_P "d82a450001550000",	/* a link in a slot */
	FLAT_G "98" "18" FLAT_P,		/* 24 slots */
};

#define NFLAT	(sizeof(flat_frames) / sizeof(flat_frames[0]))

static int flat_compare(const uint8_t *f, size_t n,
			const struct pg_cbor_limits *lim, int *fast)
{
	struct pg_envelope e1, e2, e3;
	uint8_t *b = malloc(n ? n : 1);
	int flat, gen, all, bad = 0;

	memcpy(b, f, n);
	memset(&e1, 0xaa, sizeof(e1));
	memset(&e2, 0x55, sizeof(e2));
	memset(&e3, 0x33, sizeof(e3));
	flat = pg_env_parse_flat(b, n, lim, &e1);
	gen = pg_env_parse_general(b, n, lim, &e2);
	all = pg_env_parse(b, n, lim, &e3);
	if (flat != 0 && flat != 1)
		bad = 1;
	if (!flat && (gen || memcmp(&e1, &e2, sizeof(e1))))
		bad = 1;
	if (all != gen || (!gen && memcmp(&e2, &e3, sizeof(e2))))
		bad = 1;
	*fast += !flat;
	free(b);
	return bad;
}

static void test_flat_path(void)
{
	static const uint8_t heads[] = {
		0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20,
		0x37, 0x38, 0x3f, 0x40, 0x41, 0x57, 0x58, 0x59, 0x5a, 0x5b,
		0x5f, 0x60, 0x77, 0x78, 0x7f, 0x80, 0x81, 0x82, 0x97, 0x98,
		0x9f, 0xa0, 0xa1, 0xc0, 0xd8, 0x2a, 0xe0, 0xf3, 0xf4, 0xf7,
		0xf8, 0xf9, 0xfa, 0xfb, 0xff, 0x25, 0x24, 0x26, 0x71, 0x55,
	};
	struct pg_cbor_limits lims[4] = {
		{ 16, 1048576 }, { 3, 1048576 }, { 2, 1048576 }, { 16, 0 },
	};
	uint8_t *f, g[512];
	uint32_t seed = 4242;
	size_t n, i, k, j, l, r;
	int bad = 0, fast = 0, taken = 0, sum;
	const int want = 2 * NFLAT;

	for (i = 0; i < NFLAT + sizeof(flat_near) / sizeof(flat_near[0]); i++) {
		f = unhex(i < NFLAT ? flat_frames[i] : flat_near[i - NFLAT],
			  &n);
		sum = 0;
		bad += flat_compare(f, n, &lims[0], &sum);
		taken += i < NFLAT ? sum : -sum;
		/* max_size just below and at the frame's length */
		lims[3].max_size = n - 1;
		bad += flat_compare(f, n, &lims[3], &fast);
		lims[3].max_size = n;
		sum = 0;
		bad += flat_compare(f, n, &lims[3], &sum);
		taken += i < NFLAT ? sum : -sum;
		for (l = 0; l < 4; l++) {
			for (k = 0; k <= n; k++)
				bad += flat_compare(f, k, &lims[l], &fast);
			for (k = 0; k < n; k++) {
				for (j = 0; j < sizeof(heads); j++) {
					memcpy(g, f, n);
					g[k] = heads[j];
					bad += flat_compare(g, n, &lims[l], &fast);
				}
			}
		}
		for (r = 0; r < 20000; r++) {
			memcpy(g, f, n);
			for (j = 0; j < 3; j++) {
				seed = seed * 1103515245 + 12345;
				k = (seed >> 8) % n;
				seed = seed * 1103515245 + 12345;
				g[k] = (seed >> 20) & 1 ?
					heads[(seed >> 8) % sizeof(heads)] :
					(uint8_t)(seed >> 8);
			}
			bad += flat_compare(g, n, &lims[r & 1], &fast);
		}
		free(f);
	}
	ok(taken == want, "%s",
	   "fast path: the common frame shapes take it, near misses do not");
	if (taken != want)
		diag("templates taken", taken, want);
	ok(!bad && fast > 1000, "%s",
	   "fast path: agrees with the general walk on every mutation");
	if (bad || fast <= 1000)
		diag("disagreements", bad, 0);
	if (!quiet)
		printf("# fast path took %d of the mutated inputs\n", fast);
}

static void run_all(void)
{
	ntest = 0;
	test_rfc();
	test_det();
	test_limits();
	test_prefixes();
	test_read_head();
	test_envelope();
	test_links();
	test_strerror();
	test_random();
	test_flat_path();
	test_vectors();
}

int main(int argc, char **argv)
{
	static char dir[4096];
	const char *slash;
	int total;

	/* vectors/ beside the binary, unless named */
	slash = strrchr(argv[0], '/');
	if (argc > 1)
		vec_dir = argv[1];
	if (argc <= 1 && slash) {
		snprintf(dir, sizeof(dir), "%.*s/vectors",
			 (int)(slash - argv[0]), argv[0]);
		vec_dir = dir;
	}

	/* first pass only counts, so the plan can come first */
	quiet = 1;
	run_all();
	total = ntest;
	quiet = 0;
	pgt_plan(total);
	run_all();
	return pgt_end();
}
