// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copyright (C) 2026 The PromiseGrid kernel module authors. */
/*
 * Printing received items: CBOR diagnostic notation (RFC 8949 section 8)
 * for people, JSON for programs. Input is one well-formed definite-length
 * item, as every delivery is; nesting is bounded by PG_MAX_DEPTH_LIMIT.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pg_cbor.h"

struct printer {
	FILE *f;
	int format;
	const uint8_t *p, *end;
};

static void put_text(FILE *f, const uint8_t *s, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_float(struct printer *pr, double d)
{
	if (isnan(d))
		fputs(pr->format == PG_PRINT_JSON ? "null" : "NaN", pr->f);
	else if (isinf(d))
		fputs(pr->format == PG_PRINT_JSON ? "null" :
		      d < 0 ? "-Infinity" : "Infinity", pr->f);
	else if (d == floor(d) && fabs(d) < 1e15)
		fprintf(pr->f, "%.1f", d);
	else
		fprintf(pr->f, "%.17g", d);
}

static int item(struct printer *pr, unsigned int depth);

/* A map key in JSON must be a string: non-text keys print as diag text. */
static int json_key(struct printer *pr, unsigned int depth)
{
	struct printer sub = *pr;
	char *s = NULL;
	size_t n = 0;
	int r;

	if (pr->p < pr->end && (*pr->p >> 5) == 3)
		return item(pr, depth);
	sub.f = open_memstream(&s, &n);
	if (!sub.f)
		return -ENOMEM;
	sub.format = PG_PRINT_DIAG;
	r = item(&sub, depth);
	fclose(sub.f);
	if (!r) {
		put_text(pr->f, (const uint8_t *)s, n);
		pr->p = sub.p;
	}
	free(s);
	return r;
}

static int item(struct printer *pr, unsigned int depth)
{
	bool json = pr->format == PG_PRINT_JSON;
	uint8_t major;
	uint64_t v, i;
	size_t hlen;
	bool indef;
	int r = 0;

	if (depth > PG_MAX_DEPTH_LIMIT)
		return -E2BIG;
	if (pg_cbor_read_head(pr->p, pr->end - pr->p, &major, &v, &indef, &hlen) ||
	    indef)
		return -EBADMSG;
	pr->p += hlen;
	switch (major) {
	case 0:
		fprintf(pr->f, "%llu", (unsigned long long)v);
		break;
	case 1:
		if (v == UINT64_MAX)
			fputs("-18446744073709551616", pr->f);
		else
			fprintf(pr->f, "-%llu", (unsigned long long)v + 1);
		break;
	case 2:
	case 3:
		if (v > (uint64_t)(pr->end - pr->p))
			return -EBADMSG;
		if (major == 3) {
			put_text(pr->f, pr->p, v);
		} else {
			fputs(json ? "\"" : "h'", pr->f);
			for (i = 0; i < v; i++)
				fprintf(pr->f, "%02x", pr->p[i]);
			fputs(json ? "\"" : "'", pr->f);
		}
		pr->p += v;
		break;
	case 4:
		fputc('[', pr->f);
		for (i = 0; i < v && !r; i++) {
			if (i)
				fputs(", ", pr->f);
			r = item(pr, depth + 1);
		}
		fputc(']', pr->f);
		break;
	case 5:
		fputc('{', pr->f);
		for (i = 0; i < v && !r; i++) {
			if (i)
				fputs(", ", pr->f);
			r = json ? json_key(pr, depth + 1) : item(pr, depth + 1);
			fputs(": ", pr->f);
			r = r ?: item(pr, depth + 1);
		}
		fputc('}', pr->f);
		break;
	case 6:
		if (json)
			fprintf(pr->f, "{\"tag\": %llu, \"value\": ",
				(unsigned long long)v);
		else
			fprintf(pr->f, "%llu(", (unsigned long long)v);
		r = item(pr, depth + 1);
		fputc(json ? '}' : ')', pr->f);
		break;
	default:
		if (hlen == 3) {	/* f9: half */
			put_float(pr, pg_half_to_double((uint16_t)v));
		} else if (hlen == 5) {
			uint32_t b = (uint32_t)v;
			float f;

			memcpy(&f, &b, 4);
			put_float(pr, f);
		} else if (hlen == 9) {
			double d;

			memcpy(&d, &v, 8);
			put_float(pr, d);
		} else if (v == 20 || v == 21) {
			fputs(v == 21 ? "true" : "false", pr->f);
		} else if (v == 22) {
			fputs("null", pr->f);
		} else if (json) {
			fputs("null", pr->f);
		} else {
			fputs(v == 23 ? "undefined" : "simple(", pr->f);
			if (v != 23)
				fprintf(pr->f, "%llu)", (unsigned long long)v);
		}
	}
	return r;
}

PG_EXPORT int pg_fprint(FILE *f, const uint8_t *p, size_t n, int format)
{
	struct printer pr = { .f = f, .format = format, .p = p, .end = p + n };

	return item(&pr, 1);
}
