/* test_buf.c - bot/buf: the JSON string writer the reply renderers use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bot/buf.h"

/* s[0..n) written as a JSON string and read back by jansson: must be valid
 * JSON; returns the decoded text (caller frees) and its length. */
static char *round_trip(const char *s, size_t n, size_t *out_len)
{
	struct buf b = BUF_INIT(0);
	json_error_t err;
	json_t *j;
	char *text;

	assert_int_equal(buf_add_json_string(&b, s, n), 0);
	j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!j)
		fail_msg("not valid JSON: %s: %s", err.text, b.data);
	assert_true(json_is_string(j));
	*out_len = json_string_length(j);
	text = malloc(*out_len + 1);
	memcpy(text, json_string_value(j), *out_len + 1);
	json_decref(j);
	buf_free(&b);
	return text;
}

static void test_every_ascii_byte_round_trips(void **state)
{
	char in[128];
	size_t n;

	(void)state;
	for (int i = 0; i < 128; i++)
		in[i] = (char)i;
	char *out = round_trip(in, sizeof(in), &n);
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	free(out);
}

static void test_utf8_kept(void **state)
{
	const char *in = "On call now: <@U1> \xc3\xa9t\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x9a\xa8 \"quoted\" \\ back";
	size_t n;

	(void)state;
	char *out = round_trip(in, strlen(in), &n);
	assert_string_equal(out, in);
	free(out);
}

static void test_invalid_utf8_becomes_replacement(void **state)
{
	const char in[] = "a\xff" "b\xc3" "c\xed\xa0\x80";	/* stray byte, cut sequence, surrogate */
	size_t n;

	(void)state;
	char *out = round_trip(in, sizeof(in) - 1, &n);
	assert_non_null(strstr(out, "\xef\xbf\xbd"));
	assert_int_equal(out[0], 'a');
	assert_null(strchr(out, '\xff'));
	free(out);
}

static void test_full_buffer_fails_and_keeps_contents(void **state)
{
	struct buf b = BUF_INIT(8);

	(void)state;
	assert_int_equal(buf_adds(&b, "ab"), 0);
	assert_int_equal(buf_add_json_string(&b, "0123456789", 10), -1);
	assert_true(b.len <= 8);
	assert_memory_equal(b.data, "ab", 2);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_ascii_byte_round_trips),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_invalid_utf8_becomes_replacement),
		cmocka_unit_test(test_full_buffer_fails_and_keeps_contents),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
