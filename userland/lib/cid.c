// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/* Byte buffers and CIDs: naming specs, parsing and printing pCIDs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "pg_envelope.h"

PG_EXPORT const struct pg_cid pg_pcid_control = {
	.len = PG_KERNEL_PCID_LEN, .b = PG_PCID_CONTROL,
};
PG_EXPORT const struct pg_cid pg_pcid_delivery = {
	.len = PG_KERNEL_PCID_LEN, .b = PG_PCID_DELIVERY,
};
/*
 * CIDv1 of docs/protocols/pg-function-call-v1.md; the unit tests check it
 * against the file.
 */
PG_EXPORT const struct pg_cid pg_pcid_fn_reply = {
	.len = 36,
	.b = { 0x01, 0x55, 0x12, 0x20, 0xe1, 0xf2, 0x78, 0x1e, 0xc6, 0x32,
	       0xc0, 0xc5, 0x14, 0xea, 0xa7, 0x16, 0x91, 0x34, 0x77, 0xe8,
	       0xb5, 0xcf, 0x86, 0x2b, 0xb8, 0xfc, 0xcf, 0x74, 0xef, 0x95,
	       0x7f, 0x0f, 0xd8, 0x11, 0xa5, 0x20 },
};

PG_EXPORT int pg_buf_put(struct pg_buf *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *q;

		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		q = realloc(b->p, cap);
		if (!q)
			return -ENOMEM;
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

PG_EXPORT void pg_buf_free(struct pg_buf *b)
{
	free(b->p);
	*b = (struct pg_buf){ 0 };
}

PG_EXPORT void pg_cid_of(const void *data, size_t len, struct pg_cid *out)
{
	static const uint8_t prefix[] = PG_CID_RAW_SHA256_PREFIX;

	memcpy(out->b, prefix, sizeof(prefix));
	pg_sha256(data, len, out->b + sizeof(prefix));
	out->len = sizeof(prefix) + 32;
}

PG_EXPORT int pg_cid_of_file(const char *path, struct pg_cid *out)
{
	struct pg_buf b = { 0 };
	uint8_t chunk[65536];
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		err = pg_buf_put(&b, chunk, n);
		if (err)
			break;
	}
	close(fd);
	if (!err)
		pg_cid_of(b.p, b.len, out);
	pg_buf_free(&b);
	return err;
}

bool pg_cid_from_slot(const uint8_t *p, size_t n, struct pg_cid *c)
{
	if (!pg_env_pcid_ok(p, n) || n - 1 > PG_CID_MAX)
		return false;
	c->len = n - 1;
	memcpy(c->b, p + 1, c->len);
	return true;
}

PG_EXPORT bool pg_cid_from_link(const cbor_item_t *link, struct pg_cid *c)
{
	cbor_item_t *bytes;
	bool ok;

	if (!link || !cbor_isa_tag(link) || cbor_tag_value(link) != PG_CID_TAG)
		return false;
	bytes = cbor_tag_item(link);
	ok = cbor_isa_bytestring(bytes) && cbor_bytestring_is_definite(bytes) &&
	     pg_cid_from_slot(cbor_bytestring_handle(bytes),
			      cbor_bytestring_length(bytes), c);
	cbor_decref(&bytes);
	return ok;
}

static int unhex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static int parse_base32(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	uint32_t acc = 0;
	unsigned int bits = 0;
	size_t n = 0;

	for (; *s; s++) {
		const char *q = strchr(b32, *s >= 'A' && *s <= 'Z' ? *s + 32 : *s);

		if (!q)
			return -EINVAL;
		acc = (acc << 5) | (uint32_t)(q - b32);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -EINVAL;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Unpadded base32: the leftover bits must be zero padding. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)))
		return -EINVAL;
	*len = n;
	return 0;
}

PG_EXPORT int pg_cid_parse(const char *s, struct pg_cid *out)
{
	uint8_t tmp[1 + PG_CID_MAX];
	size_t n = 0, i;
	int hi, lo;

	if (s[0] == 'b') {
		if (parse_base32(s + 1, tmp + 1, sizeof(tmp) - 1, &n))
			return -EINVAL;
	} else {
		for (i = 0; s[i]; i += 2) {
			hi = unhex(s[i]);
			lo = hi < 0 ? -1 : unhex(s[i + 1]);
			if (lo < 0 || n == sizeof(tmp) - 1)
				return -EINVAL;
			tmp[1 + n++] = (uint8_t)(hi << 4 | lo);
		}
		/* The 00 that prefixes a CID in slot 0 may be written too. */
		if (n > 0 && tmp[1] == 0x00) {
			memmove(tmp + 1, tmp + 2, --n);
		}
	}
	tmp[0] = 0x00;
	return pg_cid_from_slot(tmp, n + 1, out) ? 0 : -EINVAL;
}

PG_EXPORT void pg_cid_format(const struct pg_cid *c, char *s, size_t n)
{
	uint32_t acc = 0;
	unsigned int bits = 0;
	size_t o = 0, i;

	if (!n)
		return;
	if (o + 1 < n)
		s[o++] = 'b';
	for (i = 0; i < c->len && o + 1 < n; i++) {
		acc = (acc << 8) | c->b[i];
		bits += 8;
		while (bits >= 5 && o + 1 < n) {
			bits -= 5;
			s[o++] = b32[(acc >> bits) & 31];
		}
	}
	if (bits && o + 1 < n)
		s[o++] = b32[(acc << (5 - bits)) & 31];
	s[o] = '\0';
}

PG_EXPORT bool pg_cid_eq(const struct pg_cid *a, const struct pg_cid *b)
{
	return a->len == b->len && !memcmp(a->b, b->b, a->len);
}
