/* fuzz_form.c - libFuzzer target for bot/form.
 *
 * Beyond "no crash, no leak", it checks the decoder's promises on every input
 * it accepts (bounded field count, unique non-empty UTF-8 names, UTF-8 values,
 * no NUL) and that re-encoding the decoded fields and parsing again gives the
 * same fields back. Rejections must leave an empty form and a one-line message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/form.h"
#include "bot/utf8.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_form: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();					\
		}							\
	} while (0)

/* Percent-encode everything but unreserved characters; returns bytes written. */
static size_t encode(char *dst, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			dst[o++] = (char)c;
		} else if (c == ' ') {
			dst[o++] = '+';
		} else {
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	return o;
}

static void check_round_trip(const struct form *f, size_t size)
{
	/* Each decoded byte encodes to at most 3, plus '=' and '&' per field. */
	char *body = malloc(3 * size + 2 * FORM_MAX_FIELDS + 1);
	char err[FORM_ERR_SIZE];
	struct form again;
	size_t o = 0;

	CHECK(body != NULL);
	for (size_t i = 0; i < f->count; i++) {
		if (i)
			body[o++] = '&';
		o += encode(body + o, f->fields[i].key);
		body[o++] = '=';
		o += encode(body + o, f->fields[i].value);
	}
	CHECK(form_parse(body, o, &again, err, sizeof(err)) == 0);
	CHECK(again.count == f->count);
	for (size_t i = 0; i < f->count; i++) {
		CHECK(strcmp(again.fields[i].key, f->fields[i].key) == 0);
		CHECK(strcmp(again.fields[i].value, f->fields[i].value) == 0);
	}
	form_free(&again);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FORM_ERR_SIZE];
	struct form f;

	memset(err, 'X', sizeof(err));
	if (form_parse((const char *)data, size, &f, err, sizeof(err)) != 0) {
		CHECK(f.count == 0 && f.fields == NULL);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
		CHECK(utf8_valid(err, strlen(err)));
		form_free(&f);
		return 0;
	}
	CHECK(f.count <= FORM_MAX_FIELDS);
	CHECK((f.count == 0) == (f.fields == NULL));
	for (size_t i = 0; i < f.count; i++) {
		const char *k = f.fields[i].key, *v = f.fields[i].value;
		size_t kl = strlen(k), vl = strlen(v);

		CHECK(kl > 0 && kl + vl <= size);
		CHECK(utf8_valid(k, kl) && utf8_valid(v, vl));
		/* The pointer, not just the text: names are unique. */
		CHECK(form_get(&f, k) == v);
	}
	(void)form_get(&f, "text");
	(void)form_get(&f, "payload");
	(void)form_get(&f, "");
	check_round_trip(&f, size);
	form_free(&f);
	return 0;
}
