// SPDX-License-Identifier: GPL-2.0-only
/*
 * pgt_codec: the selftests' CBOR encoder and decoder, frames and
 * control replies (an oracle on purpose). See pgt_codec.h.
 */
#include <stdlib.h>

#include "pgt_codec.h"
#include "pgt_runner.h"

/* ---- CBOR encoder ------------------------------------------------------- */

void pgt_buf_free(struct pgt_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void pgt_buf_reset(struct pgt_buf *b)
{
	b->len = 0;
}

/* Appends n bytes; p must not point into b (b->p may move). */
void pgt_cb_raw(struct pgt_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p) {
			pgt_diag("out of memory");
			exit(PGT_FAIL);
		}
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void pgt_cb_byte(struct pgt_buf *b, uint8_t v)
{
	pgt_cb_raw(b, &v, 1);
}

void pgt_cb_head(struct pgt_buf *b, unsigned int major, uint64_t v)
{
	uint8_t h[9];
	int n, i;

	if (v < 24) {
		pgt_cb_byte(b, major << 5 | v);
		return;
	}
	if (v <= 0xff)
		n = 1;
	else if (v <= 0xffff)
		n = 2;
	else if (v <= 0xffffffffu)
		n = 4;
	else
		n = 8;
	h[0] = major << 5 | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27);
	for (i = 0; i < n; i++)
		h[1 + i] = v >> (8 * (n - 1 - i));
	pgt_cb_raw(b, h, 1 + n);
}

void pgt_cb_uint(struct pgt_buf *b, uint64_t v)
{
	pgt_cb_head(b, 0, v);
}

void pgt_cb_textn(struct pgt_buf *b, const char *s, size_t n)
{
	pgt_cb_head(b, 3, n);
	pgt_cb_raw(b, s, n);
}

void pgt_cb_text(struct pgt_buf *b, const char *s)
{
	pgt_cb_textn(b, s, strlen(s));
}

void pgt_cb_bytes(struct pgt_buf *b, const void *p, size_t n)
{
	pgt_cb_head(b, 2, n);
	pgt_cb_raw(b, p, n);
}

void pgt_cb_array(struct pgt_buf *b, uint64_t n)
{
	pgt_cb_head(b, 4, n);
}

void pgt_cb_map(struct pgt_buf *b, uint64_t n)
{
	pgt_cb_head(b, 5, n);
}

void pgt_cb_tag(struct pgt_buf *b, uint64_t tag)
{
	pgt_cb_head(b, 6, tag);
}

void pgt_cb_null(struct pgt_buf *b)
{
	pgt_cb_byte(b, 0xf6);
}

void pgt_cb_bool(struct pgt_buf *b, bool v)
{
	pgt_cb_byte(b, v ? 0xf5 : 0xf4);
}

struct pgt_buf *pgt_map_put(struct pgt_map *m, const char *key)
{
	if (m->n >= PGT_MAP_MAX) {
		pgt_diag("pgt_map_put: too many keys");
		exit(PGT_FAIL);
	}
	memset(&m->key[m->n], 0, sizeof(m->key[0]));
	memset(&m->val[m->n], 0, sizeof(m->val[0]));
	pgt_cb_text(&m->key[m->n], key);
	return &m->val[m->n++];
}

static int buf_cmp(const struct pgt_buf *a, const struct pgt_buf *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->p, b->p, n);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

void pgt_map_emit(struct pgt_buf *out, struct pgt_map *m)
{
	int i, j;

	/* insertion sort of the entries by their encoded keys */
	for (i = 1; i < m->n; i++) {
		for (j = i; j > 0 && buf_cmp(&m->key[j - 1], &m->key[j]) > 0;
		     j--) {
			struct pgt_buf k = m->key[j], v = m->val[j];

			m->key[j] = m->key[j - 1];
			m->val[j] = m->val[j - 1];
			m->key[j - 1] = k;
			m->val[j - 1] = v;
		}
	}
	pgt_cb_map(out, m->n);
	for (i = 0; i < m->n; i++) {
		pgt_cb_raw(out, m->key[i].p, m->key[i].len);
		pgt_cb_raw(out, m->val[i].p, m->val[i].len);
		pgt_buf_free(&m->key[i]);
		pgt_buf_free(&m->val[i]);
	}
	m->n = 0;
}

/* ---- CIDs and frames ---------------------------------------------------- */

const struct pgt_cid pgt_cid_control = {
	.len = PG_KERNEL_PCID_LEN, .b = PG_PCID_CONTROL,
};

const struct pgt_cid pgt_cid_delivery = {
	.len = PG_KERNEL_PCID_LEN, .b = PG_PCID_DELIVERY,
};

void pgt_cid_named(struct pgt_cid *c, const char *name)
{
	static const uint8_t prefix[] = PG_CID_RAW_SHA256_PREFIX;
	uint64_t h = 0xcbf29ce484222325ull;
	int i, k;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ull;
	memcpy(c->b, prefix, sizeof(prefix));
	c->len = sizeof(prefix) + 32;
	for (i = 0; i < 4; i++) {
		uint64_t z = (h += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (k = 0; k < 8; k++)
			c->b[sizeof(prefix) + 8 * i + k] = z >> (8 * k);
	}
}

bool pgt_cid_eq(const struct pgt_cid *a, const struct pgt_cid *b)
{
	return a->len == b->len && !memcmp(a->b, b->b, a->len);
}

void pgt_cb_cid(struct pgt_buf *b, const struct pgt_cid *c)
{
	pgt_cb_tag(b, PG_CID_TAG);
	pgt_cb_head(b, 2, c->len + 1);
	pgt_cb_byte(b, 0);
	pgt_cb_raw(b, c->b, c->len);
}

void pgt_frame_begin(struct pgt_buf *b, const struct pgt_cid *c, size_t nslots)
{
	static const uint8_t grid[] = PG_GRID_TAG_BYTES;

	pgt_cb_raw(b, grid, sizeof(grid));
	pgt_cb_array(b, 1 + nslots);
	pgt_cb_cid(b, c);
}

void pgt_frame_msg(struct pgt_buf *b, const struct pgt_cid *c, uint64_t seq)
{
	pgt_frame_begin(b, c, 2);
	pgt_cb_uint(b, seq);
	pgt_cb_text(b, "pgtest");
}

size_t pgt_frame_msg_len(const struct pgt_cid *c, uint64_t seq)
{
	struct pgt_buf b = { 0 };
	size_t n;

	pgt_frame_msg(&b, c, seq);
	n = b.len;
	pgt_buf_free(&b);
	return n;
}

static size_t head_len(uint64_t v)
{
	return v < 24 ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 :
	       v <= 0xffffffffu ? 5 : 9;
}

int pgt_frame_sized(struct pgt_buf *b, const struct pgt_cid *c, size_t total)
{
	static const size_t hl[] = { 1, 2, 3, 5, 9 };
	size_t start = b->len, rem, i, k;

	pgt_frame_begin(b, c, 1);
	if (total < b->len - start + 1)
		goto fail;
	rem = total - (b->len - start);
	for (i = 0; i < PGT_ARRAY_SIZE(hl); i++) {
		if (rem < hl[i])
			break;
		k = rem - hl[i];
		if (head_len(k) == hl[i]) {
			uint8_t *fill = malloc(k + 1);

			if (!fill)
				goto fail;
			for (i = 0; i < k; i++)
				fill[i] = (uint8_t)(i * 7);
			pgt_cb_bytes(b, fill, k);
			free(fill);
			return 0;
		}
	}
fail:
	b->len = start;
	return -1;
}

/* ---- CBOR decoder ------------------------------------------------------- */

static int parse_head(const uint8_t *p, size_t n, unsigned int *major,
		      unsigned int *ai, uint64_t *arg, size_t *hlen)
{
	size_t k, i;

	if (n < 1)
		return -1;
	*major = p[0] >> 5;
	*ai = p[0] & 0x1f;
	if (*ai < 24) {
		*arg = *ai;
		*hlen = 1;
		return 0;
	}
	if (*ai > 27)
		return -1;	/* reserved or indefinite */
	k = (size_t)1 << (*ai - 24);
	if (n < 1 + k)
		return -1;
	*arg = 0;
	for (i = 0; i < k; i++)
		*arg = *arg << 8 | p[1 + i];
	*hlen = 1 + k;
	return 0;
}

int pgt_cb_item(const uint8_t *p, size_t n, struct pgt_cb_item *it)
{
	uint64_t need = 1;
	size_t pos = 0;

	while (need) {
		unsigned int major, ai;
		uint64_t arg;
		size_t hlen;

		if (parse_head(p + pos, n - pos, &major, &ai, &arg, &hlen))
			return -1;
		if (pos == 0) {
			it->p = p;
			it->hlen = hlen;
			it->major = major;
			it->ai = ai;
			it->arg = arg;
		}
		pos += hlen;
		need--;
		switch (major) {
		case 2:
		case 3:
			if (arg > n - pos)
				return -1;
			pos += arg;
			break;
		case 4:
			need += arg;
			break;
		case 5:
			need += 2 * arg;
			break;
		case 6:
			need++;
			break;
		}
		if (need > n - pos)
			return -1;
	}
	it->len = pos;
	return 0;
}

int pgt_cb_child(const struct pgt_cb_item *parent, size_t idx, struct pgt_cb_item *out)
{
	const uint8_t *p = parent->p + parent->hlen;
	const uint8_t *end = parent->p + parent->len;
	uint64_t count;
	size_t i;

	if (parent->major == 4)
		count = parent->arg;
	else if (parent->major == 5)
		count = 2 * parent->arg;
	else if (parent->major == 6)
		count = 1;
	else
		return -1;
	if (idx >= count)
		return -1;
	for (i = 0;; i++) {
		if (pgt_cb_item(p, end - p, out))
			return -1;
		if (i == idx)
			return 0;
		p += out->len;
	}
}

bool pgt_cb_is_text(const struct pgt_cb_item *it, const char *s)
{
	size_t n = strlen(s);

	return it->major == 3 && it->arg == n &&
	       !memcmp(it->p + it->hlen, s, n);
}

bool pgt_cb_is_null(const struct pgt_cb_item *it)
{
	return it->p[0] == 0xf6;
}

bool pgt_cb_is_uint(const struct pgt_cb_item *it)
{
	return it->major == 0;
}

int pgt_cb_map_get(const struct pgt_cb_item *map, const char *key,
	       struct pgt_cb_item *val)
{
	struct pgt_cb_item k;
	size_t i;

	if (map->major != 5)
		return -1;
	for (i = 0; i < map->arg; i++) {
		if (pgt_cb_child(map, 2 * i, &k))
			return -1;
		if (pgt_cb_is_text(&k, key))
			return pgt_cb_child(map, 2 * i + 1, val);
	}
	return -1;
}

int pgt_cb_map_uint(const struct pgt_cb_item *map, const char *key, uint64_t *v)
{
	struct pgt_cb_item it;

	if (pgt_cb_map_get(map, key, &it) || !pgt_cb_is_uint(&it))
		return -1;
	*v = it.arg;
	return 0;
}

int pgt_frame_parse(const uint8_t *p, size_t n, struct pgt_frame *f)
{
	static const uint8_t grid[] = PG_GRID_TAG_BYTES;
	struct pgt_cb_item s0, bs;

	if (n < sizeof(grid) || memcmp(p, grid, sizeof(grid)))
		return -1;
	if (pgt_cb_item(p, n, &f->item) || f->item.len != n)
		return -1;
	if (pgt_cb_child(&f->item, 0, &f->arr) || f->arr.major != 4 ||
	    f->arr.arg < 1)
		return -1;
	if (pgt_cb_child(&f->arr, 0, &s0) || s0.major != 6 ||
	    s0.arg != PG_CID_TAG || pgt_cb_child(&s0, 0, &bs) || bs.major != 2 ||
	    bs.arg < 1 || bs.arg - 1 > PG_CID_MAX || bs.p[bs.hlen] != 0)
		return -1;
	f->cid.len = bs.arg - 1;
	memcpy(f->cid.b, bs.p + bs.hlen + 1, f->cid.len);
	f->nslots = f->arr.arg - 1;
	return 0;
}

int pgt_frame_slot(const struct pgt_frame *f, size_t i, struct pgt_cb_item *out)
{
	return pgt_cb_child(&f->arr, i, out);
}

void pgt_frame_cid(const uint8_t *p, size_t n, struct pgt_cid *c)
{
	static const uint8_t prefix[] = PG_CID_RAW_SHA256_PREFIX;

	memcpy(c->b, prefix, sizeof(prefix));
	c->len = sizeof(prefix) + 32;
	pgt_sha256(p, n, c->b + sizeof(prefix));
}

int pgt_reply_parse(const uint8_t *p, size_t n, struct pgt_reply *r)
{
	struct pgt_frame f;
	struct pgt_cb_item id;

	pgt_buf_reset(&r->raw);
	pgt_cb_raw(&r->raw, p, n);
	r->got = false;
	r->has_parent = false;
	if (pgt_frame_parse(r->raw.p, n, &f) ||
	    !pgt_cid_eq(&f.cid, &pgt_cid_control) ||
	    (f.nslots != 3 && f.nslots != 4))
		return -1;
	if (pgt_frame_slot(&f, 1, &id) || pgt_frame_slot(&f, 2, &r->outcome) ||
	    pgt_frame_slot(&f, 3, &r->details))
		return -1;
	if (r->outcome.major != 3 || r->details.major != 5)
		return -1;
	if (f.nslots == 4) {
		struct pgt_cb_item link, bs;

		if (pgt_frame_slot(&f, 4, &link) || link.major != 6 ||
		    link.arg != PG_CID_TAG || pgt_cb_child(&link, 0, &bs) ||
		    bs.major != 2 || bs.arg < 2 || bs.arg - 1 > PG_CID_MAX ||
		    bs.p[bs.hlen] != 0)
			return -1;
		r->parent.len = bs.arg - 1;
		memcpy(r->parent.b, bs.p + bs.hlen + 1, r->parent.len);
		r->has_parent = true;
	}
	if (pgt_cb_is_null(&id)) {
		r->id_null = true;
		r->id = 0;
	} else if (pgt_cb_is_uint(&id)) {
		r->id_null = false;
		r->id = id.arg;
	} else {
		return -1;
	}
	r->got = true;
	return 0;
}

bool pgt_reply_is(const struct pgt_reply *r, const char *outcome)
{
	return r->got && pgt_cb_is_text(&r->outcome, outcome);
}

long pgt_reply_errno(const struct pgt_reply *r)
{
	uint64_t v;

	if (!r->got || pgt_cb_map_uint(&r->details, "errno", &v))
		return -1;
	return v;
}

void pgt_reply_diag(const struct pgt_reply *r)
{
	char hex[3 * 96 + 1];
	size_t i, n = r->raw.len < 96 ? r->raw.len : 96;

	for (i = 0; i < n; i++)
		sprintf(hex + 3 * i, "%02x ", r->raw.p[i]);
	hex[3 * n] = 0;
	if (!r->got) {
		pgt_diag("no reply (%zu bytes: %s)", r->raw.len, hex);
		return;
	}
	pgt_diag("reply id %s%llu outcome %.*s errno %ld: %s",
		r->id_null ? "null " : "", (unsigned long long)r->id,
		(int)r->outcome.arg, (const char *)r->outcome.p +
		r->outcome.hlen, pgt_reply_errno(r), hex);
}
