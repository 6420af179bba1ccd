// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target over the very sources the module compiles:
 * common/pg_cbor.c (well-formedness, determinism) and common/pg_envelope.c.
 *
 * Each input is checked four ways and any disagreement aborts:
 *  - self-consistency: deterministic acceptance implies plain acceptance;
 *    an accepted item's length never exceeds the input and does not change
 *    when bytes are appended; links mode gives deterministic mode's answer,
 *    or ELINK only for an item deterministic mode accepts; a parsed
 *    envelope lies inside its item and has no bad link;
 *  - differential: libcbor's decoder (cbor_load) must agree on "exactly one
 *    well-formed item", except for the documented differences in README.md
 *    (filtered in libcbor_comparable() below);
 *  - links: walking libcbor's tree for tag 42 (recursively, unlike the
 *    single pass under test) must find a bad link exactly when links mode
 *    reports ELINK;
 *  - the envelope's fast path (pg_env_parse_flat()) accepts only what the
 *    general walk accepts, with the same envelope.
 */
#include <cbor.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_cbor.h"
#include "pg_envelope.h"

#define MAX_INPUT	65536

static const struct pg_cbor_limits lim = {
	.max_depth = PG_CBOR_DEPTH_MAX,
	.max_size = MAX_INPUT,
};

static void fail(const char *what, const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(stderr, "fuzz_cbor: %s; input (%zu bytes):", what, n);
	for (i = 0; i < n && i < 64; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, "\n");
	abort();
}

/*
 * Inputs whose verdicts may differ for documented reasons: nesting past
 * our depth limit, and the RFC 8949 rules libcbor 0.8 does not enforce
 * (two-byte simple values below 32, indefinite-length string chunks of
 * another type or themselves indefinite). Unassigned simple values are
 * the third difference, filtered after decoding. Truncated input is not
 * compared: libcbor allocates what a head declares before it finds the
 * input too short (an array of 2^31 items runs it out of memory), and
 * truncation is covered by the unit tests at every prefix.
 */
static bool libcbor_comparable(int ours)
{
	return ours != -PG_CBOR_EDEPTH && ours != -PG_CBOR_ESIMPLE &&
	       ours != -PG_CBOR_EINDEF && ours != -PG_CBOR_ETRUNC;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0, k, more;
	uint32_t cp;

	while (i < n) {
		uint8_t c = s[i++];

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			more = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3, cp = c & 0x07;
		else
			return false;
		if (n - i < more)
			return false;
		for (k = 0; k < more; k++, i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
	}
	return true;
}

/*
 * What libcbor 0.8 refuses in a well-formed item: simple values other
 * than false, true, null and undefined; one-byte tags 6 to 20 (0xc6 to
 * 0xd4, which its decoder table leaves out); and text that is not UTF-8
 * (RFC 8949 calls that invalid, not ill-formed). Walk the heads for any.
 */
static bool libcbor_refuses(const uint8_t *p, size_t n)
{
	size_t pos = 0, hlen;
	uint64_t arg;
	uint8_t major;
	bool indef;

	while (pos < n) {
		if (pg_cbor_read_head(p + pos, n - pos, &major, &arg, &indef,
				      &hlen))
			return false;
		pos += hlen;
		if (major == 7 && !indef && (p[pos - hlen] & 0x1f) <= 24 &&
		    (arg < 20 || arg > 23))
			return true;
		if (major == 3 && !indef && !utf8_valid(p + pos, arg))
			return true;
		if (major == 6 && hlen == 1 && arg >= 6 && arg <= 20)
			return true;
		if ((major == 2 || major == 3) && !indef)
			pos += arg;
	}
	return false;
}

static void differential(const uint8_t *p, size_t n, int ours)
{
	struct cbor_load_result res;
	cbor_item_t *item;
	bool theirs;

	if (!libcbor_comparable(ours))
		return;
	item = cbor_load(p, n, &res);
	/* libcbor cannot decide what it has no memory for. */
	if (!item && res.error.code == CBOR_ERR_MEMERROR)
		return;
	theirs = item && res.read == n;
	if (item)
		cbor_decref(&item);
	if (!ours && !theirs && libcbor_refuses(p, n))
		return;
	if (theirs != !ours)
		fail(ours ? "libcbor accepts what pg_cbor rejects" :
			    "libcbor rejects what pg_cbor accepts", p, n);
}

/* Is there a visible tag 42 that is not a CID link in this tree? */
static bool tree_bad_link(cbor_item_t *it)
{
	struct cbor_pair *pairs;
	cbor_item_t *c;
	size_t i, k;
	bool bad = false;

	switch (cbor_typeof(it)) {
	case CBOR_TYPE_ARRAY:
		k = cbor_array_size(it);
		for (i = 0; i < k && !bad; i++)
			bad = tree_bad_link(cbor_array_handle(it)[i]);
		return bad;
	case CBOR_TYPE_MAP:
		pairs = cbor_map_handle(it);
		k = cbor_map_size(it);
		for (i = 0; i < k && !bad; i++)
			bad = tree_bad_link(pairs[i].key) ||
			      tree_bad_link(pairs[i].value);
		return bad;
	case CBOR_TYPE_TAG:
		c = cbor_tag_item(it);	/* a new reference */
		if (cbor_tag_value(it) == 42)
			bad = !cbor_isa_bytestring(c) ||
			      !cbor_bytestring_is_definite(c) ||
			      !pg_cbor_link_ok(cbor_bytestring_handle(c),
					       cbor_bytestring_length(c));
		bad = bad || tree_bad_link(c);
		cbor_decref(&c);
		return bad;
	default:
		return false;
	}
}

/* For exactly one deterministic item: links is 0 or -PG_CBOR_ELINK. */
static void link_oracle(const uint8_t *p, size_t n, int links)
{
	struct cbor_load_result res;
	cbor_item_t *item;

	if (libcbor_refuses(p, n))
		return;
	item = cbor_load(p, n, &res);
	if (!item)
		return;		/* out of memory: nothing to compare */
	if (res.read == n && tree_bad_link(item) != (links != 0))
		fail(links ? "ELINK but libcbor's tree has no bad link" :
			     "a bad link in libcbor's tree, not found", p, n);
	cbor_decref(&item);
}

/*
 * The envelope's fast path decides only frames the general walk accepts,
 * with the same envelope, and pg_env_parse() answers as the walk does.
 */
static void flat_vs_general(const uint8_t *p, size_t n, int env_err,
			    const struct pg_envelope *env)
{
	static const struct pg_cbor_limits shallow = { 3, MAX_INPUT };
	struct pg_envelope flat, gen;
	int f, g;

	g = pg_env_parse_general(p, n, &lim, &gen);
	if (g != env_err || (!g && memcmp(&gen, env, sizeof(gen))))
		fail("pg_env_parse differs from the general walk", p, n);
	f = pg_env_parse_flat(p, n, &lim, &flat);
	if (f != 0 && f != 1)
		fail("fast path returned an error", p, n);
	if (!f && (g || memcmp(&flat, &gen, sizeof(gen))))
		fail("fast path accepted what the walk does not", p, n);
	/* the least depth the fast path takes */
	if (!pg_env_parse_flat(p, n, &shallow, &flat) &&
	    (pg_env_parse_general(p, n, &shallow, &gen) ||
	     memcmp(&flat, &gen, sizeof(gen))))
		fail("fast path at depth 3 disagrees", p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	static uint8_t longer[MAX_INPUT + 1];
	size_t len = 0, len2 = 0, len3 = 0;
	struct pg_envelope env;
	int plain, det, links, one, env_err;

	if (n > MAX_INPUT)
		return 0;
	plain = pg_cbor_item_len(p, n, &lim, 0, &len);
	det = pg_cbor_item_len(p, n, &lim, PG_CBOR_DETERMINISTIC, &len2);
	if (!det && (plain || len != len2))
		fail("deterministic accepts what plain rejects", p, n);
	if (!plain && (len == 0 || len > n))
		fail("item length outside the input", p, n);
	if (!plain) {
		/* Bytes after an item never change the item. */
		memcpy(longer, p, n);
		longer[n] = 0xff;
		if (pg_cbor_item_len(longer, n + 1, &lim, 0, &len2) ||
		    len2 != len)
			fail("trailing byte changed the item", p, n);
	}
	links = pg_cbor_item_len(p, n, &lim,
				 PG_CBOR_DETERMINISTIC | PG_CBOR_LINKS, &len3);
	if (links == -PG_CBOR_ELINK ? det != 0 :
	    links != det || (!links && len3 != len2))
		fail("links mode disagrees with deterministic mode", p, n);
	one = pg_cbor_check_one(p, n, &lim, 0);
	if (!one != (!plain && len == n))
		fail("check_one disagrees with item_len", p, n);
	env_err = pg_env_parse(p, n, &lim, &env);
	if (!env_err) {
		if (det || links || env.frame_len != len2 ||
		    env.cid_off + env.cid_len > env.frame_len ||
		    env.slots_off > env.frame_len || !env.nslots)
			fail("envelope outside its item", p, n);
	}
	if (env_err == -PG_CBOR_ELINK && links != -PG_CBOR_ELINK)
		fail("envelope ELINK without a bad link", p, n);
	flat_vs_general(p, n, env_err, &env);
	differential(p, n, one);
	if (!det && len2 == n)
		link_oracle(p, n, links);
	return 0;
}
