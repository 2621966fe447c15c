/* test_form.c - strict form decoding (bot/form) and UTF-8 validation (bot/utf8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bot/form.h"
#include "bot/utf8.h"

static const char fixture_body[] =
	"token=legacyTok&team_id=T0FIXTURE&team_domain=acme-oncall&enterprise_id=E0FIXTURE"
	"&channel_id=C0FIXTURE&channel_name=incidents&user_id=U0FIXTURE&user_name=alice"
	"&command=%2Foncall&text=ack+INC-42&api_app_id=A0FIXTURE&is_enterprise_install=false"
	"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0FIXTURE%2F1111%2FabcDEF"
	"&trigger_id=1111.2222.abcdef0123456789";

/*
 * Parse n bytes from an exact-size heap copy with no NUL after it, so ASan
 * reports any read past the end.
 */
static int parse_n(const char *body, size_t n, struct form *f, char *err, size_t errsz)
{
	char *copy = malloc(n ? n : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, body, n);
	r = form_parse(copy, n, f, err, errsz);
	free(copy);
	return r;
}

static int parse(const char *body, struct form *f, char *err)
{
	return parse_n(body, strlen(body), f, err, FORM_ERR_SIZE);
}

static void expect_error(const char *body, size_t n, const char *msg)
{
	char err[FORM_ERR_SIZE] = "";
	struct form f;

	if (parse_n(body, n, &f, err, sizeof(err)) != -1)
		fail_msg("accepted %s", body);
	assert_string_equal(err, msg);
	assert_int_equal(f.count, 0);
	assert_null(f.fields);
	form_free(&f);
}

#define EXPECT_ERROR(lit, msg) expect_error(lit, sizeof(lit) - 1, msg)

static void test_fixture(void **state)
{
	char err[FORM_ERR_SIZE];
	struct form f;

	(void)state;
	assert_int_equal(parse(fixture_body, &f, err), 0);
	assert_int_equal(f.count, 14);
	assert_string_equal(f.fields[0].key, "token");
	assert_string_equal(f.fields[13].key, "trigger_id");
	assert_string_equal(form_get(&f, "command"), "/oncall");
	assert_string_equal(form_get(&f, "text"), "ack INC-42");
	assert_string_equal(form_get(&f, "response_url"),
			    "https://hooks.slack.com/commands/T0FIXTURE/1111/abcDEF");
	assert_string_equal(form_get(&f, "is_enterprise_install"), "false");
	assert_string_equal(form_get(&f, "user_id"), "U0FIXTURE");
	assert_null(form_get(&f, "payload"));
	assert_null(form_get(&f, "Text"));
	assert_null(form_get(&f, "tex"));
	assert_null(form_get(&f, NULL));
	form_free(&f);
	assert_int_equal(f.count, 0);
	assert_null(f.fields);
	form_free(&f);	/* twice is harmless */
}

static void test_plus_and_percent(void **state)
{
	char err[FORM_ERR_SIZE];
	struct form f;

	(void)state;
	assert_int_equal(parse("a=x+y&b=x%2By&c=%2b%2B&d=++&e=%2f%2F%41%61", &f, err), 0);
	assert_string_equal(form_get(&f, "a"), "x y");
	assert_string_equal(form_get(&f, "b"), "x+y");
	assert_string_equal(form_get(&f, "c"), "++");
	assert_string_equal(form_get(&f, "d"), "  ");
	assert_string_equal(form_get(&f, "e"), "//Aa");
	form_free(&f);

	/* Keys decode too, and an escaped '&' or '=' is data, not syntax. */
	assert_int_equal(parse("my+key=1&k%3D=v%26w%3Dz&%C3%A9t%C3%A9=%E2%9C%93", &f, err), 0);
	assert_string_equal(form_get(&f, "my key"), "1");
	assert_string_equal(form_get(&f, "k="), "v&w=z");
	assert_string_equal(form_get(&f, "\xc3\xa9t\xc3\xa9"), "\xe2\x9c\x93");
	form_free(&f);
}

static void test_interactivity_payload(void **state)
{
	char err[FORM_ERR_SIZE];
	struct form f;

	(void)state;
	assert_int_equal(parse("payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22"
			       "%3A%5B%7B%22value%22%3A%22INC-42%22%7D%5D%7D", &f, err), 0);
	assert_int_equal(f.count, 1);
	assert_string_equal(form_get(&f, "payload"),
			    "{\"type\":\"block_actions\",\"actions\":[{\"value\":\"INC-42\"}]}");
	form_free(&f);
}

static void test_bad_percent_escapes(void **state)
{
	(void)state;
	EXPECT_ERROR("a=%", "bad percent escape at byte 2");
	EXPECT_ERROR("a=%4", "bad percent escape at byte 2");
	EXPECT_ERROR("a=%G1", "bad percent escape at byte 2");
	EXPECT_ERROR("a=%1G", "bad percent escape at byte 2");
	EXPECT_ERROR("a=%zz", "bad percent escape at byte 2");
	EXPECT_ERROR("a=% 1", "bad percent escape at byte 2");
	EXPECT_ERROR("a=%+1", "bad percent escape at byte 2");
	EXPECT_ERROR("a=%-1", "bad percent escape at byte 2");
	EXPECT_ERROR("%", "bad percent escape at byte 0");
	EXPECT_ERROR("ok=1&text=50%", "bad percent escape at byte 12");
	/* An escape may not run into the next pair or across the '='. */
	EXPECT_ERROR("a=%4&b=1", "bad percent escape at byte 2");
	EXPECT_ERROR("a%4=1", "bad percent escape at byte 1");
	EXPECT_ERROR("a%=41", "bad percent escape at byte 1");
	/* The first bad one is reported. */
	EXPECT_ERROR("a=%41%4g%zz", "bad percent escape at byte 5");
}

static void test_nul_rejected(void **state)
{
	(void)state;
	EXPECT_ERROR("a=x%00y", "NUL byte (%00) at byte 3");
	EXPECT_ERROR("%00=1", "NUL byte (%00) at byte 0");
	EXPECT_ERROR("a=x\0y", "NUL byte at byte 3");
	EXPECT_ERROR("a\0=1", "NUL byte at byte 1");
}

static void test_empty_pairs_and_values(void **state)
{
	char err[FORM_ERR_SIZE];
	struct form f;

	(void)state;
	assert_int_equal(parse("&a=1&&b=2&", &f, err), 0);
	assert_int_equal(f.count, 2);
	assert_string_equal(form_get(&f, "a"), "1");
	assert_string_equal(form_get(&f, "b"), "2");
	form_free(&f);

	assert_int_equal(parse("text=&flag&eq==&x=a=b", &f, err), 0);
	assert_int_equal(f.count, 4);
	assert_string_equal(form_get(&f, "text"), "");
	assert_string_equal(form_get(&f, "flag"), "");
	assert_string_equal(form_get(&f, "eq"), "=");
	assert_string_equal(form_get(&f, "x"), "a=b");
	form_free(&f);

	for (const char *const *b = (const char *const[]){ "", "&", "&&&", NULL }; *b; b++) {
		assert_int_equal(parse(*b, &f, err), 0);
		assert_int_equal(f.count, 0);
		assert_null(form_get(&f, "a"));
		form_free(&f);
	}
	assert_int_equal(form_parse(NULL, 0, &f, err, sizeof(err)), 0);
	assert_int_equal(f.count, 0);
	form_free(&f);
	assert_int_equal(form_parse(NULL, 5, &f, err, sizeof(err)), -1);
}

static void test_empty_name_rejected(void **state)
{
	(void)state;
	EXPECT_ERROR("=x", "empty field name at byte 0");
	EXPECT_ERROR("a=1&=", "empty field name at byte 4");
}

static void test_repeated_keys(void **state)
{
	(void)state;
	EXPECT_ERROR("text=a&text=b", "repeated field: text");
	EXPECT_ERROR("text=a&user_id=U1&text=a", "repeated field: text");
	EXPECT_ERROR("flag&flag", "repeated field: flag");
	EXPECT_ERROR("text=&text", "repeated field: text");
	/* Duplicates are found after decoding, whatever the spelling. */
	EXPECT_ERROR("text=a&te%78t=b", "repeated field: text");
	EXPECT_ERROR("a+b=1&a%20b=2", "repeated field: a b");
}

static void test_error_echo_is_sanitised(void **state)
{
	char body[512], err[FORM_ERR_SIZE];
	struct form f;
	int n;

	(void)state;
	/* A repeated 100-byte name with a newline and an escape in it. */
	n = snprintf(body, sizeof(body), "%%0A%%1B%s=1&%%0A%%1B%s=2",
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_true(n > 0 && (size_t)n < sizeof(body));
	assert_int_equal(parse(body, &f, err), -1);
	assert_non_null(strstr(err, "repeated field: ??xxx"));
	assert_null(strchr(err, '\n'));
	assert_null(strchr(err, '\x1b'));
	assert_true(strlen(err) < 64);

	/* Truncation never splits a UTF-8 character: "x" + 30 x U+00E9 is 61 bytes. */
	char name[200] = "x";
	for (int i = 0; i < 30; i++)
		strncat(name, "%C3%A9", sizeof(name) - strlen(name) - 1);
	n = snprintf(body, sizeof(body), "%s=&%s=", name, name);
	assert_true(n > 0 && (size_t)n < sizeof(body));
	assert_int_equal(parse(body, &f, err), -1);
	assert_true(utf8_valid(err, strlen(err)));
	assert_non_null(strstr(err, "repeated field: x\xc3\xa9"));
}

static void test_err_buffer_optional(void **state)
{
	struct form f;
	char tiny[8];

	(void)state;
	assert_int_equal(form_parse("a=%", 3, &f, NULL, 0), -1);
	assert_int_equal(form_parse("a=%", 3, &f, tiny, sizeof(tiny)), -1);
	assert_string_equal(tiny, "bad per");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	EXPECT_ERROR("text=%C0%AF", "field text is not valid UTF-8");	  /* overlong '/' */
	EXPECT_ERROR("text=%ED%A0%80", "field text is not valid UTF-8");  /* lone surrogate */
	EXPECT_ERROR("text=%E2%82", "field text is not valid UTF-8");	  /* truncated */
	EXPECT_ERROR("text=%E2%82&x=%AC", "field text is not valid UTF-8"); /* split by & */
	EXPECT_ERROR("text=%F4%90%80%80", "field text is not valid UTF-8"); /* > U+10FFFF */
	EXPECT_ERROR("text=%FF", "field text is not valid UTF-8");
	EXPECT_ERROR("text=\xc0\xaf", "field text is not valid UTF-8");	  /* raw bytes too */
	EXPECT_ERROR("a=1&%C0%AF=1", "field name at byte 4 is not valid UTF-8");
	EXPECT_ERROR("\xed\xa0\x80", "field name at byte 0 is not valid UTF-8");
}

static void test_valid_utf8_kept(void **state)
{
	char err[FORM_ERR_SIZE];
	struct form f;

	(void)state;
	/* Raw and escaped spellings of "é 😀" give the same bytes. */
	assert_int_equal(parse("a=\xc3\xa9+\xf0\x9f\x98\x80&b=%C3%A9%20%F0%9F%98%80", &f, err), 0);
	assert_string_equal(form_get(&f, "a"), "\xc3\xa9 \xf0\x9f\x98\x80");
	assert_string_equal(form_get(&f, "a"), form_get(&f, "b"));
	form_free(&f);
}

static void build_fields(char *body, size_t size, int count)
{
	size_t o = 0;

	for (int i = 0; i < count; i++) {
		int n = snprintf(body + o, size - o, "%sk%d=v%d", i ? "&" : "", i, i);

		assert_true(n > 0 && (size_t)n < size - o);
		o += (size_t)n;
	}
}

static void test_field_limit(void **state)
{
	char body[2048], err[FORM_ERR_SIZE];
	struct form f;

	(void)state;
	build_fields(body, sizeof(body), FORM_MAX_FIELDS);
	assert_int_equal(parse(body, &f, err), 0);
	assert_int_equal(f.count, 64);
	assert_string_equal(form_get(&f, "k0"), "v0");
	assert_string_equal(form_get(&f, "k63"), "v63");
	form_free(&f);

	/* Empty pairs do not count. */
	strncat(body, "&&&", sizeof(body) - strlen(body) - 1);
	assert_int_equal(parse(body, &f, err), 0);
	form_free(&f);

	build_fields(body, sizeof(body), FORM_MAX_FIELDS + 1);
	assert_int_equal(parse(body, &f, err), -1);
	assert_string_equal(err, "too many fields (limit 64)");
	assert_null(f.fields);

	/* The count is refused before any decoding: 65 bad pairs say "too many". */
	body[0] = '\0';
	for (int i = 0; i <= FORM_MAX_FIELDS; i++)
		strncat(body, "%&", sizeof(body) - strlen(body) - 1);
	assert_int_equal(parse(body, &f, err), -1);
	assert_string_equal(err, "too many fields (limit 64)");
}

static void test_worst_case_arena(void **state)
{
	char err[FORM_ERR_SIZE];
	struct form f;

	(void)state;
	/* Keys with no '=' and one byte each need the most NUL room per byte. */
	assert_int_equal(parse("a&b&c&d", &f, err), 0);
	assert_int_equal(f.count, 4);
	assert_string_equal(form_get(&f, "d"), "");
	form_free(&f);
	assert_int_equal(parse("a", &f, err), 0);
	assert_string_equal(form_get(&f, "a"), "");
	form_free(&f);
}

/* ---- bot/utf8 ---- */

#define VALID(lit) assert_true(utf8_valid(lit, sizeof(lit) - 1))
#define INVALID(lit) assert_false(utf8_valid(lit, sizeof(lit) - 1))

static void test_utf8_cases(void **state)
{
	(void)state;
	assert_true(utf8_valid(NULL, 0));
	VALID("");
	VALID("plain ascii \x7f");
	VALID("\0");			/* U+0000 is UTF-8; NUL policy is the caller's */
	VALID("\xc2\x80");		/* U+0080 */
	VALID("\xdf\xbf");		/* U+07FF */
	VALID("\xe0\xa0\x80");		/* U+0800 */
	VALID("\xed\x9f\xbf");		/* U+D7FF */
	VALID("\xee\x80\x80");		/* U+E000 */
	VALID("\xef\xbf\xbf");		/* U+FFFF */
	VALID("\xf0\x90\x80\x80");	/* U+10000 */
	VALID("\xf4\x8f\xbf\xbf");	/* U+10FFFF */

	INVALID("\xc0\xaf");		/* overlong '/' */
	INVALID("\xc1\xbf");
	INVALID("\xe0\x80\xaf");
	INVALID("\xe0\x9f\xbf");	/* overlong U+07FF */
	INVALID("\xf0\x80\x80\xaf");
	INVALID("\xf0\x8f\xbf\xbf");	/* overlong U+FFFF */
	INVALID("\xed\xa0\x80");	/* U+D800 */
	INVALID("\xed\xbf\xbf");	/* U+DFFF */
	INVALID("\xed\xa0\xbd\xed\xb8\x80");	/* CESU-8 surrogate pair */
	INVALID("\xf4\x90\x80\x80");	/* U+110000 */
	INVALID("\xf5\x80\x80\x80");
	INVALID("\xf8\x88\x80\x80\x80");
	INVALID("\xfe");
	INVALID("\xff");
	INVALID("\x80");		/* stray continuation */
	INVALID("a\xbf");
	INVALID("\xe2\x82");		/* truncated */
	INVALID("\xf0\x9f\x98");
	INVALID("\xc3");
	INVALID("\xe2\x28\xa1");	/* bad continuation */
	INVALID("\xe2\x82\x28");
	INVALID("\xc3\xc3\xa9");

	/* n is respected: a valid character cut by n is invalid... */
	assert_false(utf8_valid("\xc3\xa9", 1));
	assert_false(utf8_valid("\xf0\x9f\x98\x80", 3));
	/* ...and bytes after n are never looked at. */
	assert_true(utf8_valid("ab\xff", 2));
}

/*
 * Reference decoder, written the other way round from utf8.c: decode by bit
 * pattern, then refuse what the decoded value says is wrong.
 */
static int ref_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			need = 1, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3, cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i - 1 < need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000))
			return 0;
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

static void test_utf8_against_reference(void **state)
{
	unsigned char b[4];
	/* Byte values at every class edge, for the 4-byte sweep. */
	static const unsigned char edge[] = {
		0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
		0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3,
		0xf4, 0xf5, 0xf7, 0xf8, 0xff,
	};
	const size_t ne = sizeof(edge);
	size_t mismatches = 0, valid3 = 0;

	(void)state;
	/* Every sequence of 1 to 3 bytes. */
	for (unsigned v = 0; v < 1u << 24; v++) {
		b[0] = (unsigned char)(v >> 16);
		b[1] = (unsigned char)(v >> 8);
		b[2] = (unsigned char)v;
		if (v < 256)
			mismatches += utf8_valid((char *)b + 2, 1) != ref_valid(b + 2, 1);
		if (v < 65536)
			mismatches += utf8_valid((char *)b + 1, 2) != ref_valid(b + 1, 2);
		mismatches += utf8_valid((char *)b, 3) != ref_valid(b, 3);
		valid3 += ref_valid(b, 3) && b[0] >= 0xe0;
	}
	/* Every 4-byte sequence built from edge bytes. */
	for (size_t i = 0; i < ne * ne * ne * ne; i++) {
		b[0] = edge[i % ne];
		b[1] = edge[i / ne % ne];
		b[2] = edge[i / ne / ne % ne];
		b[3] = edge[i / ne / ne / ne];
		mismatches += utf8_valid((char *)b, 4) != ref_valid(b, 4);
	}
	assert_int_equal(mismatches, 0);
	/* The reference itself: 3-byte forms are U+0800..U+FFFF less 2048 surrogates. */
	assert_int_equal(valid3, 0x10000 - 0x800 - 0x800);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_plus_and_percent),
		cmocka_unit_test(test_interactivity_payload),
		cmocka_unit_test(test_bad_percent_escapes),
		cmocka_unit_test(test_nul_rejected),
		cmocka_unit_test(test_empty_pairs_and_values),
		cmocka_unit_test(test_empty_name_rejected),
		cmocka_unit_test(test_repeated_keys),
		cmocka_unit_test(test_error_echo_is_sanitised),
		cmocka_unit_test(test_err_buffer_optional),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_valid_utf8_kept),
		cmocka_unit_test(test_field_limit),
		cmocka_unit_test(test_worst_case_arena),
		cmocka_unit_test(test_utf8_cases),
		cmocka_unit_test(test_utf8_against_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
