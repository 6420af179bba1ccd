// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: what a frame is (docs/abi.md "Frames"). A valid frame is
 * delivered byte-exact; every malformed one fails the write with the
 * documented errno (EBADMSG, EILSEQ, EPROTO, EMSGSIZE, E2BIG, EPERM,
 * EHOSTUNREACH) and is delivered nowhere: a receiver of its pCID stays
 * empty. Limits are tested at their boundary (max_frame, max_depth, CID
 * length 4..96). Every tag 42 in any slot, nested or not, must be a CID
 * link (0x00 and a CIDv1 or CIDv0), else EPROTO.
 */
#include <errno.h>
#include <stdlib.h>

#include "pgtest.h"

struct fcase {
	const char *name;
	/* builds the frame; 0, or -1 when it cannot be built */
	int (*build)(struct pgt_buf *b, const struct pgt_cid *c);
	int err;		/* 0: accepted and delivered */
	void (*cid)(struct pgt_cid *c);	/* the pCID, if not a named one */
	bool no_receiver;	/* nobody receives on c */
};

static const uint8_t grid[] = PG_GRID_TAG_BYTES;

/* grid([42(c), raw]) */
static void frame_raw_slot(struct pgt_buf *b, const struct pgt_cid *c,
			   const void *raw, size_t n)
{
	pgt_frame_begin(b, c, 1);
	pgt_cb_raw(b, raw, n);
}

#define RAW_SLOT(fn, ...)						\
static int fn(struct pgt_buf *b, const struct pgt_cid *c)			\
{									\
	static const uint8_t s[] = { __VA_ARGS__ };			\
	frame_raw_slot(b, c, s, sizeof(s));				\
	return 0;							\
}

static int b_valid(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 4);
	pgt_cb_uint(b, 1735551332ull);
	pgt_cb_text(b, "x");
	pgt_cb_map(b, 2);
	pgt_cb_text(b, "b");
	pgt_cb_null(b);
	pgt_cb_text(b, "aa");
	pgt_cb_bool(b, true);
	pgt_cb_byte(b, 0xf9);	/* f16 1.5 */
	pgt_cb_byte(b, 0x3e);
	pgt_cb_byte(b, 0x00);
	return 0;
}

/* ---- EBADMSG ------------------------------------------------------------ */

static int b_truncated(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_msg(b, c, 7);
	b->len--;
	return 0;
}

static int b_short_array(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 3);	/* says 4 elements, has 2 */
	pgt_cb_uint(b, 1);
	return 0;
}

static int b_short_bytes(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 1);
	pgt_cb_head(b, 2, 10);		/* 10 bytes announced, 3 given */
	pgt_cb_raw(b, "abc", 3);
	return 0;
}

RAW_SLOT(b_reserved_ai, 0x1c)
RAW_SLOT(b_break_alone, 0xff)
RAW_SLOT(b_simple_24_small, 0xf8, 0x10)

static int b_lone_break(struct pgt_buf *b, const struct pgt_cid *c)
{
	(void)c;
	pgt_cb_byte(b, 0xff);
	return 0;
}

/* ---- EILSEQ ------------------------------------------------------------- */

RAW_SLOT(b_long_uint, 0x18, 0x01)
RAW_SLOT(b_long_bytes, 0x58, 0x02, 0xaa, 0xbb)
RAW_SLOT(b_long_tag, 0xd8, 0x01, 0x00)
RAW_SLOT(b_indef_array, 0x9f, 0x01, 0xff)
RAW_SLOT(b_indef_text, 0x7f, 0x61, 0x61, 0xff)
RAW_SLOT(b_map_unsorted, 0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02)
RAW_SLOT(b_map_longer_first, 0xa2, 0x62, 0x61, 0x61, 0x01, 0x61, 0x62, 0x02)
RAW_SLOT(b_map_duplicate, 0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02)
RAW_SLOT(b_f64_fits_f16, 0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0)
RAW_SLOT(b_f32_fits_f16, 0xfa, 0x3f, 0x80, 0, 0)

static int b_long_array_head(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_cb_raw(b, grid, sizeof(grid));
	pgt_cb_byte(b, 0x98);	/* array of 2, in a 2-byte head */
	pgt_cb_byte(b, 0x02);
	pgt_cb_cid(b, c);
	pgt_cb_uint(b, 1);
	return 0;
}

/* ---- EPROTO ------------------------------------------------------------- */

static int b_no_grid_tag(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_cb_array(b, 2);
	pgt_cb_cid(b, c);
	pgt_cb_uint(b, 1);
	return 0;
}

static int b_other_tag(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_cb_tag(b, PG_GRID_TAG + 1);
	pgt_cb_array(b, 2);
	pgt_cb_cid(b, c);
	pgt_cb_uint(b, 1);
	return 0;
}

static int b_grid_map(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_cb_raw(b, grid, sizeof(grid));
	pgt_cb_map(b, 1);
	pgt_cb_uint(b, 0);
	pgt_cb_cid(b, c);
	return 0;
}

static int b_grid_uint(struct pgt_buf *b, const struct pgt_cid *c)
{
	(void)c;
	pgt_cb_raw(b, grid, sizeof(grid));
	pgt_cb_uint(b, 42);
	return 0;
}

static int b_grid_empty(struct pgt_buf *b, const struct pgt_cid *c)
{
	(void)c;
	pgt_cb_raw(b, grid, sizeof(grid));
	pgt_cb_array(b, 0);
	return 0;
}

/* grid([slot0, 1]) with slot 0 built from tag, major type and bytes */
static void frame_slot0(struct pgt_buf *b, bool tag42, unsigned int major,
			const void *p, size_t n)
{
	pgt_cb_raw(b, grid, sizeof(grid));
	pgt_cb_array(b, 2);
	if (tag42)
		pgt_cb_tag(b, PG_CID_TAG);
	pgt_cb_head(b, major, n);
	pgt_cb_raw(b, p, n);
	pgt_cb_uint(b, 1);
}

static int b_slot0_plain_bytes(struct pgt_buf *b, const struct pgt_cid *c)
{
	uint8_t v[PG_CID_MAX + 1] = { 0 };

	memcpy(v + 1, c->b, c->len);
	frame_slot0(b, false, 2, v, c->len + 1);
	return 0;
}

static int b_slot0_tag_text(struct pgt_buf *b, const struct pgt_cid *c)
{
	(void)c;
	frame_slot0(b, true, 3, "bafkreiabcdefgh", 15);
	return 0;
}

static int b_slot0_other_tag(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_cb_raw(b, grid, sizeof(grid));
	pgt_cb_array(b, 2);
	pgt_cb_tag(b, 43);
	pgt_cb_head(b, 2, c->len + 1);
	pgt_cb_byte(b, 0);
	pgt_cb_raw(b, c->b, c->len);
	pgt_cb_uint(b, 1);
	return 0;
}

static int b_slot0_no_prefix(struct pgt_buf *b, const struct pgt_cid *c)
{
	frame_slot0(b, true, 2, c->b, c->len);
	return 0;
}

static int b_slot0_uint(struct pgt_buf *b, const struct pgt_cid *c)
{
	(void)c;
	pgt_cb_raw(b, grid, sizeof(grid));
	pgt_cb_array(b, 2);
	pgt_cb_uint(b, 42);
	pgt_cb_uint(b, 1);
	return 0;
}

/* 0x00 then the CID c with bytes [at] replaced by v / cut to len */
static int slot0_cid_edit(struct pgt_buf *b, const struct pgt_cid *c, int at,
			  uint8_t v, size_t len)
{
	uint8_t x[PG_CID_MAX + 2] = { 0 };

	memcpy(x + 1, c->b, c->len);
	if (at >= 0)
		x[1 + at] = v;
	frame_slot0(b, true, 2, x, 1 + len);
	return 0;
}

static int b_cid_version2(struct pgt_buf *b, const struct pgt_cid *c)
{
	return slot0_cid_edit(b, c, 0, 0x02, c->len);
}

static int b_cid_digest_short(struct pgt_buf *b, const struct pgt_cid *c)
{
	return slot0_cid_edit(b, c, -1, 0, c->len - 1);
}

static int b_cid_digest_long(struct pgt_buf *b, const struct pgt_cid *c)
{
	return slot0_cid_edit(b, c, -1, 0, c->len + 1);
}

static int b_cid_empty(struct pgt_buf *b, const struct pgt_cid *c)
{
	return slot0_cid_edit(b, c, -1, 0, 0);
}

static int b_cid_three(struct pgt_buf *b, const struct pgt_cid *c)
{
	static const uint8_t x[] = { 0x00, 0x01, 0x55, 0x00 };

	(void)c;
	frame_slot0(b, true, 2, x, sizeof(x));
	return 0;
}

static int b_cid_varint_long(struct pgt_buf *b, const struct pgt_cid *c)
{
	uint8_t x[PG_CID_MAX + 2] = { 0x00, 0x81, 0x00 };	/* version 1 */

	memcpy(x + 3, c->b + 1, c->len - 1);
	frame_slot0(b, true, 2, x, c->len + 2);
	return 0;
}

/* CIDv1 raw, multihash 0x12 with a digest making it len bytes long */
static void cid_of_len(struct pgt_cid *c, size_t len)
{
	size_t i;

	c->len = len;
	c->b[0] = 0x01;
	c->b[1] = 0x55;
	c->b[2] = 0x12;
	c->b[3] = len - 4;
	for (i = 4; i < len; i++)
		c->b[i] = i * 13 + len;
}

static void cid_96(struct pgt_cid *c)
{
	cid_of_len(c, PG_CID_MAX);
}

static void cid_4(struct pgt_cid *c)
{
	cid_of_len(c, PG_CID_MIN);
}

static int b_cid_97(struct pgt_buf *b, const struct pgt_cid *c)
{
	struct pgt_cid big;

	(void)c;
	cid_of_len(&big, PG_CID_MAX + 1);
	return slot0_cid_edit(b, &big, -1, 0, big.len);
}

/* ---- tag-42 links after slot 0 ----------------------------------------- */

/* 42(h'00' + cid) */
static void cb_link(struct pgt_buf *b, const void *cid, size_t n)
{
	pgt_cb_tag(b, PG_CID_TAG);
	pgt_cb_head(b, 2, n + 1);
	pgt_cb_byte(b, 0);
	pgt_cb_raw(b, cid, n);
}

/* a CIDv0: 12 20 and 32 digest bytes */
static void cb_link_v0(struct pgt_buf *b)
{
	uint8_t v0[34] = { 0x12, 0x20 };

	memset(v0 + 2, 0x5a, 32);
	cb_link(b, v0, sizeof(v0));
}

/*
 * grid([42(c), 42(c), [1, {"a": 42(CIDv0)}], 1000(42(4-byte CIDv1)),
 *       {42(c): true}, h'd82a40'])
 */
static int b_links_valid(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 5);
	cb_link(b, c->b, c->len);
	pgt_cb_array(b, 2);
	pgt_cb_uint(b, 1);
	pgt_cb_map(b, 1);
	pgt_cb_text(b, "a");
	cb_link_v0(b);
	pgt_cb_tag(b, 1000);
	cb_link(b, "\x01\x55\x00\x00", 4);
	pgt_cb_map(b, 1);
	cb_link(b, c->b, c->len);
	pgt_cb_bool(b, true);
	pgt_cb_bytes(b, "\xd8\x2a\x40", 3);	/* not visible in a byte string */
	return 0;
}

/* grid([42(c), 42(h'')]) */
static int b_link_empty(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 1);
	pgt_cb_tag(b, PG_CID_TAG);
	pgt_cb_bytes(b, "", 0);
	return 0;
}

/* grid([42(c), 1, "x", 42(1)]) */
static int b_link_uint_slot3(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 3);
	pgt_cb_uint(b, 1);
	pgt_cb_text(b, "x");
	pgt_cb_tag(b, PG_CID_TAG);
	pgt_cb_uint(b, 1);
	return 0;
}

/* grid([42(c), [1, {"a": [42(c without the 0x00 prefix)]}]]) */
static int b_link_nested_no_prefix(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 1);
	pgt_cb_array(b, 2);
	pgt_cb_uint(b, 1);
	pgt_cb_map(b, 1);
	pgt_cb_text(b, "a");
	pgt_cb_array(b, 1);
	pgt_cb_tag(b, PG_CID_TAG);
	pgt_cb_bytes(b, c->b, c->len);
	return 0;
}

/* grid([42(c), 1000(42("x"))]) */
static int b_link_text_in_tag(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 1);
	pgt_cb_tag(b, 1000);
	pgt_cb_tag(b, PG_CID_TAG);
	pgt_cb_text(b, "x");
	return 0;
}

/* grid([42(c), {42(h'00' + c minus its last byte): 1}]) */
static int b_link_key_short(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 1);
	pgt_cb_map(b, 1);
	cb_link(b, c->b, c->len - 1);
	pgt_cb_uint(b, 1);
	return 0;
}

/* grid([42(c), 42(valid), 42(h'00')]) */
static int b_link_second_bad(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 2);
	cb_link(b, c->b, c->len);
	cb_link(b, "", 0);
	return 0;
}

/* grid([42(CIDv0), 1]): a pCID must be a CIDv1 */
static int b_pcid_v0(struct pgt_buf *b, const struct pgt_cid *c)
{
	(void)c;
	pgt_cb_raw(b, grid, sizeof(grid));
	pgt_cb_array(b, 2);
	cb_link_v0(b);
	pgt_cb_uint(b, 1);
	return 0;
}

/* grid([42(c), 42(h''), 23 in a 2-byte head]): EILSEQ comes first */
static int b_link_then_long_uint(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_begin(b, c, 2);
	pgt_cb_tag(b, PG_CID_TAG);
	pgt_cb_bytes(b, "", 0);
	pgt_cb_byte(b, 0x18);
	pgt_cb_byte(b, 0x17);
	return 0;
}

static int b_msg(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_frame_msg(b, c, 1);
	return 0;
}

/* ---- limits ------------------------------------------------------------- */

static int max_frame(void)
{
	uint64_t v;

	if (pgt_param_get("max_frame", &v)) {
		pgt_diag("cannot read " PGT_PARAM_DIR "max_frame");
		return -1;
	}
	return v;
}

static int b_max_frame(struct pgt_buf *b, const struct pgt_cid *c)
{
	int m = max_frame();

	return m < 0 ? -1 : pgt_frame_sized(b, c, m);
}

static int b_over_max_frame(struct pgt_buf *b, const struct pgt_cid *c)
{
	int m = max_frame();

	return m < 0 ? -1 : pgt_frame_sized(b, c, m + 1);
}

/* grid([42(c), x]) where x nests until the frame is depth levels deep */
static int nested(struct pgt_buf *b, const struct pgt_cid *c, int extra,
		  bool mixed)
{
	uint64_t depth;
	int i, n;

	if (pgt_param_get("max_depth", &depth)) {
		pgt_diag("cannot read " PGT_PARAM_DIR "max_depth");
		return -1;
	}
	/* grid tag and array are two levels; slot 1 is the third */
	n = depth + extra - 2;
	pgt_frame_begin(b, c, 1);
	for (i = 0; i < n - 1; i++) {
		switch (mixed ? i % 3 : 0) {
		case 0:
			pgt_cb_array(b, 1);
			break;
		case 1:
			pgt_cb_map(b, 1);
			pgt_cb_uint(b, 0);
			break;
		default:
			pgt_cb_tag(b, 1000);
			break;
		}
	}
	pgt_cb_array(b, 0);
	return 0;
}

static int b_depth_max(struct pgt_buf *b, const struct pgt_cid *c)
{
	return nested(b, c, 0, false);
}

static int b_depth_over(struct pgt_buf *b, const struct pgt_cid *c)
{
	return nested(b, c, 1, false);
}

static int b_depth_max_mixed(struct pgt_buf *b, const struct pgt_cid *c)
{
	return nested(b, c, 0, true);
}

static int b_depth_over_mixed(struct pgt_buf *b, const struct pgt_cid *c)
{
	return nested(b, c, 1, true);
}

static int b_delivery(struct pgt_buf *b, const struct pgt_cid *c)
{
	(void)c;
	pgt_frame_msg(b, &pgt_cid_delivery, 1);
	return 0;
}

#define OK(n, b, c)	{ .name = (n), .build = (b), .cid = (c) }
#define ERR(n, b, e)	{ .name = (n), .build = (b), .err = (e) }

static const struct fcase cases[] = {
	OK("valid frame delivered byte-exact", b_valid, NULL),
	OK("CID of 96 bytes accepted", b_msg, cid_96),
	OK("CID of 4 bytes accepted", b_msg, cid_4),
	OK("frame of exactly max_frame bytes accepted", b_max_frame, NULL),
	OK("nesting of exactly max_depth accepted", b_depth_max, NULL),
	OK("nesting of max_depth (arrays, maps, tags) accepted",
	   b_depth_max_mixed, NULL),
	ERR("EBADMSG: truncated frame", b_truncated, EBADMSG),
	ERR("EBADMSG: array shorter than its head", b_short_array, EBADMSG),
	ERR("EBADMSG: byte string shorter than its head", b_short_bytes,
	  EBADMSG),
	ERR("EBADMSG: reserved additional info 0x1c", b_reserved_ai, EBADMSG),
	ERR("EBADMSG: break outside an indefinite item", b_break_alone,
	  EBADMSG),
	ERR("EBADMSG: two-byte simple value below 32", b_simple_24_small,
	  EBADMSG),
	/* no grid tag wins over not well-formed (docs/abi.md) */
	ERR("EPROTO: a lone break byte, no grid tag first", b_lone_break,
	    EPROTO),
	ERR("EILSEQ: uint in a longer head than needed", b_long_uint, EILSEQ),
	ERR("EILSEQ: byte string length in a longer head", b_long_bytes,
	  EILSEQ),
	ERR("EILSEQ: tag number in a longer head", b_long_tag, EILSEQ),
	ERR("EILSEQ: envelope array count in a longer head", b_long_array_head,
	  EILSEQ),
	ERR("EILSEQ: indefinite-length array", b_indef_array, EILSEQ),
	ERR("EILSEQ: indefinite-length text", b_indef_text, EILSEQ),
	ERR("EILSEQ: map keys not sorted bytewise", b_map_unsorted, EILSEQ),
	ERR("EILSEQ: map with the longer key first", b_map_longer_first,
	  EILSEQ),
	ERR("EILSEQ: map with a duplicate key", b_map_duplicate, EILSEQ),
	ERR("EILSEQ: f64 that fits f16", b_f64_fits_f16, EILSEQ),
	ERR("EILSEQ: f32 that fits f16", b_f32_fits_f16, EILSEQ),
	ERR("EPROTO: no grid tag", b_no_grid_tag, EPROTO),
	ERR("EPROTO: another tag than grid", b_other_tag, EPROTO),
	ERR("EPROTO: grid tag over a map", b_grid_map, EPROTO),
	ERR("EPROTO: grid tag over a uint", b_grid_uint, EPROTO),
	ERR("EPROTO: grid tag over an empty array", b_grid_empty, EPROTO),
	ERR("EPROTO: slot 0 a plain byte string", b_slot0_plain_bytes, EPROTO),
	ERR("EPROTO: slot 0 tag 42 over text", b_slot0_tag_text, EPROTO),
	ERR("EPROTO: slot 0 tag 43 over a CID", b_slot0_other_tag, EPROTO),
	ERR("EPROTO: slot 0 a uint", b_slot0_uint, EPROTO),
	ERR("EPROTO: CID without the 0x00 prefix", b_slot0_no_prefix, EPROTO),
	ERR("EPROTO: CID version 2", b_cid_version2, EPROTO),
	ERR("EPROTO: CID digest shorter than its length",
	  b_cid_digest_short, EPROTO),
	ERR("EPROTO: CID with bytes after the digest", b_cid_digest_long,
	  EPROTO),
	ERR("EPROTO: empty CID (0x00 alone)", b_cid_empty, EPROTO),
	ERR("EPROTO: CID of 3 bytes", b_cid_three, EPROTO),
	ERR("EPROTO: CID of 97 bytes", b_cid_97, EPROTO),
	ERR("EPROTO: CID version as a non-minimal varint", b_cid_varint_long,
	  EPROTO),
	OK("valid links (CIDv1, CIDv0; in slots, arrays, maps, keys, tags) delivered byte-exact",
	   b_links_valid, NULL),
	ERR("EPROTO: 42(h'') in slot 1", b_link_empty, EPROTO),
	ERR("EPROTO: 42(1) in slot 3", b_link_uint_slot3, EPROTO),
	ERR("EPROTO: link without the 0x00 prefix nested in array, map, array",
	    b_link_nested_no_prefix, EPROTO),
	ERR("EPROTO: 42(\"x\") under tag 1000", b_link_text_in_tag, EPROTO),
	ERR("EPROTO: map key a CID one byte short", b_link_key_short, EPROTO),
	ERR("EPROTO: a valid link then 42(h'00')", b_link_second_bad, EPROTO),
	ERR("EPROTO: slot 0 a CIDv0", b_pcid_v0, EPROTO),
	ERR("EILSEQ: not deterministic wins over an earlier bad link",
	    b_link_then_long_uint, EILSEQ),
	ERR("EMSGSIZE: frame of max_frame + 1 bytes", b_over_max_frame,
	  EMSGSIZE),
	ERR("E2BIG: arrays nested max_depth + 1 deep", b_depth_over, E2BIG),
	ERR("E2BIG: arrays, maps and tags nested max_depth + 1 deep",
	  b_depth_over_mixed, E2BIG),
	ERR("EPERM: a frame of the delivery protocol", b_delivery, EPERM),
	{ .name = "EHOSTUNREACH: nobody receives on the pCID", .build = b_msg,
	  .err = EHOSTUNREACH, .no_receiver = true },
};

/*
 * Receiver R on the case's pCID (unless no_receiver), sender S writes the
 * frame: either delivered byte-exact or refused with the case's errno,
 * consuming nothing and leaving R empty.
 */
static int t_case(const void *arg)
{
	const struct fcase *fc = arg;
	struct pgt_buf f = { 0 };
	struct pgt_ep r, s;
	struct pgt_cid c;

	if (fc->cid)
		fc->cid(&c);
	else
		pgt_cid_named(&c, fc->name);
	CHECK_EQ(pgt_open(&r, 0), 0);
	CHECK_EQ(pgt_open(&s, 0), 0);
	if (!fc->no_receiver)
		CHECK_EQ(pgt_receive(&r, &c, NULL, false), 0);
	CHECK_EQ(fc->build(&f, &c), 0);
	if (!fc->err) {
		CHECK_EQ(pgt_send(&s, &f), f.len);
		CHECK(pgt_expect(&r, &f) == 0);
	} else {
		CHECK_ERR(pgt_send(&s, &f), fc->err);
	}
	CHECK(pgt_empty(&r));
	CHECK(pgt_empty(&s));
	/* the refusal is not sticky: the sender can still send */
	if (!fc->no_receiver) {
		CHECK_EQ(pgt_send_msg(&s, &c, 2), pgt_frame_msg_len(&c, 2));
		CHECK(pgt_expect_msg(&r, &c, 2) == 0);
	}
	return PGT_PASS;
}

int main(void)
{
	struct pgt_test t[PGT_ARRAY_SIZE(cases)];
	size_t i;

	for (i = 0; i < PGT_ARRAY_SIZE(cases); i++) {
		t[i].name = cases[i].name;
		t[i].fn = t_case;
		t[i].arg = &cases[i];
	}
	return pgt_run(t, PGT_ARRAY_SIZE(t));
}
