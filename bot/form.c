/* form.c - see form.h */
#include "bot/form.h"
#include "bot/buf.h"
#include "bot/utf8.h"
#include "bot/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How much of an attacker-chosen field name an error message may repeat. */
#define ERR_NAME_MAX 40

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Field names go back to the client in the 400 reply and into logs: cut them
 * on a character boundary and mask control characters so an error message
 * stays one short printable line.
 */
static void err_name(char *dst, size_t size, const char *name)
{
	size_t n = strlen(name);
	size_t i;

	if (n > size - 1) {
		n = size - 1;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* Decode body[start..end) into dst, NUL-terminated; the decoded length is
 * stored in *dlen. dst has room for end - start + 1 bytes. */
static int decode(const char *body, size_t start, size_t end, char *dst, size_t *dlen,
		  char *err, size_t errsz)
{
	size_t o = 0;

	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (end - i < 3 || (hi = hexval((unsigned char)body[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)body[i + 2])) < 0) {
				snprintf(err, errsz, "bad percent escape at byte %zu", i);
				return -1;
			}
			c = (unsigned char)(hi << 4 | lo);
			if (c == 0) {
				snprintf(err, errsz, "NUL byte (%%00) at byte %zu", i);
				return -1;
			}
			i += 2;
		} else if (c == 0) {
			snprintf(err, errsz, "NUL byte at byte %zu", i);
			return -1;
		}
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	*dlen = o;
	return 0;
}

static int parse_pair(const struct form *f, const char *body, size_t start, size_t end,
		      struct form_field *field, char **arena, char *err, size_t errsz)
{
	const char *eq = memchr(body + start, '=', end - start);
	size_t split = eq ? (size_t)(eq - body) : end;
	char name[ERR_NAME_MAX + 1];
	char *key = *arena, *value;
	size_t klen, vlen;

	if (decode(body, start, split, key, &klen, err, errsz) < 0)
		return -1;
	if (klen == 0) {
		snprintf(err, errsz, "empty field name at byte %zu", start);
		return -1;
	}
	if (!utf8_valid(key, klen)) {
		snprintf(err, errsz, "field name at byte %zu is not valid UTF-8", start);
		return -1;
	}
	value = key + klen + 1;
	vlen = 0;
	if (eq && decode(body, split + 1, end, value, &vlen, err, errsz) < 0)
		return -1;
	value[vlen] = '\0';
	if (!utf8_valid(value, vlen)) {
		err_name(name, sizeof(name), key);
		snprintf(err, errsz, "field %s is not valid UTF-8", name);
		return -1;
	}
	/* At most 64 fields, so the quadratic scan costs at most ~2k compares. */
	for (size_t i = 0; i < f->count; i++) {
		if (strcmp(f->fields[i].key, key) == 0) {
			err_name(name, sizeof(name), key);
			snprintf(err, errsz, "repeated field: %s", name);
			return -1;
		}
	}
	field->key = key;
	field->value = value;
	*arena = value + vlen + 1;
	return 0;
}

int form_parse(const char *body, size_t len, struct form *out, char *err, size_t errsz)
{
	size_t pairs = 0, start, end;
	const char *amp;
	char *arena;

	out->count = 0;
	out->fields = NULL;
	if (!body && len) {
		snprintf(err, errsz, "no body");
		return -1;
	}
	/*
	 * Count first, so a body of a million '&'-separated pairs costs one
	 * memchr pass and no allocation before it is refused.
	 */
	for (start = 0; start < len; start = end + 1) {
		amp = memchr(body + start, '&', len - start);
		end = amp ? (size_t)(amp - body) : len;
		if (end > start && ++pairs > FORM_MAX_FIELDS) {
			snprintf(err, errsz, "too many fields (limit %d)", FORM_MAX_FIELDS);
			return -1;
		}
	}
	if (pairs == 0)
		return 0;
	if (len > SIZE_MAX / 2) {
		snprintf(err, errsz, "body too large");
		return -1;
	}
	/*
	 * One block: the field array, then every decoded string. Decoding
	 * never grows a pair, and each pair needs two NULs where its bytes
	 * held at most one '=', so len + 2 * pairs bytes always suffice.
	 */
	out->fields = xmalloc(pairs * sizeof(struct form_field) + len + 2 * pairs);
	arena = (char *)(out->fields + pairs);
	for (start = 0; start < len; start = end + 1) {
		amp = memchr(body + start, '&', len - start);
		end = amp ? (size_t)(amp - body) : len;
		if (end == start)
			continue;
		if (parse_pair(out, body, start, end, &out->fields[out->count], &arena, err,
			       errsz) < 0) {
			form_free(out);
			return -1;
		}
		out->count++;
	}
	return 0;
}

const char *form_get(const struct form *f, const char *key)
{
	if (!f || !key)
		return NULL;
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->fields[i].key, key) == 0)
			return f->fields[i].value;
	return NULL;
}

void form_free(struct form *f)
{
	free(f->fields);
	f->fields = NULL;
	f->count = 0;
}

void form_encode_pair(struct buf *b, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	if (b->len)
		buf_addc(b, '&');
	buf_adds(b, name);
	buf_addc(b, '=');
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_addc(b, (char)c);
		} else if (c == ' ') {
			buf_addc(b, '+');
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
	}
}
