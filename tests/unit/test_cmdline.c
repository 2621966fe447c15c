/* test_cmdline.c - command text splitting and mention parsing (bot/cmdline). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bot/cmdline.h"

#define NBSP "\xc2\xa0"
#define LDQ "\xe2\x80\x9c"	/* U+201C LEFT DOUBLE QUOTATION MARK */
#define RDQ "\xe2\x80\x9d"	/* U+201D RIGHT DOUBLE QUOTATION MARK */

/* Split text and check the result is exactly the NULL-terminated list want. */
static void expect_args(const char *text, const char *const *want)
{
	char err[CMDLINE_ERR_SIZE] = "";
	struct cmdline cl;
	size_t n = 0;

	if (cmdline_split(text, &cl, err, sizeof(err)) != 0)
		fail_msg("split(\"%s\") failed: %s", text, err);
	while (want[n])
		n++;
	assert_int_equal(cl.argc, n);
	assert_non_null(cl.argv);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(cl.argv[i], want[i]);
	assert_null(cl.argv[n]);
	cmdline_free(&cl);
	assert_int_equal(cl.argc, 0);
	assert_null(cl.argv);
}

#define ARGS(text, ...) expect_args(text, (const char *const[]){ __VA_ARGS__, NULL })
#define NO_ARGS(text) expect_args(text, (const char *const[]){ NULL })

static void expect_error(const char *text, const char *msg)
{
	char err[CMDLINE_ERR_SIZE] = "";
	struct cmdline cl;

	if (cmdline_split(text, &cl, err, sizeof(err)) != -1)
		fail_msg("split(\"%.60s\") succeeded", text);
	assert_string_equal(err, msg);
	assert_int_equal(cl.argc, 0);
	assert_null(cl.argv);
	cmdline_free(&cl);
}

static void test_plain_words(void **state)
{
	(void)state;
	ARGS("ack INC-42", "ack", "INC-42");
	ARGS("who", "who");
	ARGS("  swap \t<@U123ABC>\n next-week  ", "swap", "<@U123ABC>", "next-week");
	ARGS("a\vb\fc\rd", "a", "b", "c", "d");
	ARGS("\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x92",
	     "\xc3\xa9t\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x9a\x92");
	/* No escapes, and apostrophes are letters. */
	ARGS("don't \\n it\xe2\x80\x99s", "don't", "\\n", "it\xe2\x80\x99s");
}

static void test_empty_text(void **state)
{
	(void)state;
	NO_ARGS("");
	NO_ARGS("   ");
	NO_ARGS(" \t\r\n ");
	NO_ARGS(NBSP NBSP " " NBSP);
}

static void test_no_break_space(void **state)
{
	(void)state;
	ARGS("schedule" NBSP "next", "schedule", "next");
	ARGS(NBSP "a" NBSP " " NBSP "b" NBSP, "a", "b");
	/* Other characters starting with C2 are not separators. */
	ARGS("a\xc2\xa9" "b", "a\xc2\xa9" "b");
	/* Inside quotes a no-break space is kept. */
	ARGS("\"a" NBSP "b\"", "a" NBSP "b");
}

static void test_ascii_quotes(void **state)
{
	(void)state;
	ARGS("note \"server is down\" now", "note", "server is down", "now");
	ARGS("a\"b c\"d", "ab cd");
	ARGS("\"\"", "");
	ARGS("x \"\" y", "x", "", "y");
	ARGS("\"a\"\"b\"", "ab");
	ARGS("\"  spaced  \"", "  spaced  ");
	/* Smart quotes are literal inside an ASCII-quoted group. */
	ARGS("\"say " LDQ "hi" RDQ "\"", "say " LDQ "hi" RDQ);
}

static void test_smart_quotes(void **state)
{
	(void)state;
	ARGS("note " LDQ "server is down" RDQ " now", "note", "server is down", "now");
	/* Either smart quote opens and either closes. */
	ARGS(RDQ "a b" LDQ, "a b");
	ARGS(LDQ "a b" LDQ, "a b");
	ARGS(RDQ "a b" RDQ, "a b");
	ARGS(LDQ RDQ, "");
	/* ASCII quotes are literal inside a smart-quoted group. */
	ARGS(LDQ "say \"hi\"" RDQ, "say \"hi\"");
	/* Mixed adjacent groups join like in a shell. */
	ARGS("\"a b\"" LDQ "c d" RDQ, "a bc d");
	/* Single smart quotes are not quotes. */
	ARGS("\xe2\x80\x98x y\xe2\x80\x99", "\xe2\x80\x98x", "y\xe2\x80\x99");
}

static void test_unterminated_quotes(void **state)
{
	(void)state;
	expect_error("note \"server is down", "unterminated quote \" in argument 2");
	expect_error("\"", "unterminated quote \" in argument 1");
	expect_error("a \"b\" \"c", "unterminated quote \" in argument 3");
	expect_error("note " LDQ "server is down", "unterminated quote " LDQ " in argument 2");
	expect_error(RDQ "x", "unterminated quote " RDQ " in argument 1");
	/* '"' does not close a smart group, nor a smart quote an ASCII one. */
	expect_error(LDQ "x\"", "unterminated quote " LDQ " in argument 1");
	expect_error("\"x" RDQ, "unterminated quote \" in argument 1");
}

static void test_arg_count_limit(void **state)
{
	char text[CMDLINE_MAX_ARGS * 2 + 16] = "";
	const char *want[CMDLINE_MAX_ARGS + 1];

	(void)state;
	for (int i = 0; i < CMDLINE_MAX_ARGS; i++) {
		strncat(text, "w ", sizeof(text) - strlen(text) - 1);
		want[i] = "w";
	}
	want[CMDLINE_MAX_ARGS] = NULL;
	expect_args(text, want);
	strncat(text, "   ", sizeof(text) - strlen(text) - 1);	/* trailing blanks are fine */
	expect_args(text, want);
	strncat(text, "w", sizeof(text) - strlen(text) - 1);
	expect_error(text, "too many arguments (limit 256)");
}

/* Issue 10 item 2: free text after the fixed arguments is one argument, as typed. */
static void test_split_max_rest(void **state)
{
	struct cmdline cl;
	char err[CMDLINE_ERR_SIZE];
	char big[CMDLINE_MAX_TEXT + 1];

	(void)state;
	assert_int_equal(cmdline_split_max("page <@U1> the  \"db\" is down  ", 3, &cl, err, sizeof(err)), 0);
	assert_int_equal(cl.argc, 3);
	assert_string_equal(cl.argv[0], "page");
	assert_string_equal(cl.argv[1], "<@U1>");
	assert_string_equal(cl.argv[2], "the  \"db\" is down");
	assert_null(cl.argv[3]);
	assert_string_equal(cmdline_rest(&cl, 1), "<@U1> the  \"db\" is down");
	assert_string_equal(cmdline_rest(&cl, 3), "");
	cmdline_free(&cl);

	/* a stray quote in the rest is text, not an error */
	assert_int_equal(cmdline_split_max("page @bob don\"t panic", 3, &cl, err, sizeof(err)), 0);
	assert_string_equal(cl.argv[2], "don\"t panic");
	cmdline_free(&cl);

	/* fewer words than max: an ordinary split */
	assert_int_equal(cmdline_split_max("a \"b c\"", 3, &cl, err, sizeof(err)), 0);
	assert_int_equal(cl.argc, 2);
	assert_string_equal(cl.argv[1], "b c");
	assert_string_equal(cmdline_rest(&cl, 1), "\"b c\"");
	cmdline_free(&cl);

	/* 300 words of message: no word limit, only the text's */
	big[0] = '\0';
	strncat(big, "page @bob", sizeof(big) - 1);
	for (int i = 0; i < 300; i++)
		strncat(big, " word", sizeof(big) - strlen(big) - 1);
	assert_int_equal(cmdline_split_max(big, 3, &cl, err, sizeof(err)), 0);
	assert_int_equal(cl.argc, 3);
	assert_int_equal(strlen(cl.argv[2]), 300 * 5 - 1);
	cmdline_free(&cl);
	assert_int_equal(cmdline_split(big, &cl, err, sizeof(err)), -1);
	assert_string_equal(err, "too many arguments (limit 256)");

	/* a trailing no-break space is a blank too */
	assert_int_equal(cmdline_split_max("x y" NBSP, 1, &cl, err, sizeof(err)), 0);
	assert_string_equal(cl.argv[0], "x y");
	cmdline_free(&cl);
}

static void test_arg_length_limit(void **state)
{
	char text[CMDLINE_MAX_ARG + 16];
	char want[CMDLINE_MAX_ARG + 1];

	(void)state;
	memset(want, 'x', CMDLINE_MAX_ARG);
	want[CMDLINE_MAX_ARG] = '\0';
	ARGS(want, want);

	/* Quotes do not count toward the length. */
	text[0] = '"';
	memcpy(text + 1, want, CMDLINE_MAX_ARG);
	memcpy(text + 1 + CMDLINE_MAX_ARG, "\"", 2);
	ARGS(text, want);

	memcpy(text, "ok ", 3);
	memset(text + 3, 'y', CMDLINE_MAX_ARG + 1);
	text[3 + CMDLINE_MAX_ARG + 1] = '\0';
	expect_error(text, "argument 2 is longer than 512 bytes");
}

static void test_text_length_limit(void **state)
{
	char *text = malloc(10 * 1024 + 1);
	const char *want[9];
	char arg[CMDLINE_MAX_ARG + 1];

	(void)state;
	assert_non_null(text);
	/* Exactly 4000 bytes: 7 args of 512, separated and padded with blanks. */
	memset(arg, 'z', CMDLINE_MAX_ARG);
	arg[CMDLINE_MAX_ARG] = '\0';
	memset(text, ' ', CMDLINE_MAX_TEXT);
	for (int i = 0; i < 7; i++) {
		memcpy(text + i * (CMDLINE_MAX_ARG + 1), arg, CMDLINE_MAX_ARG);
		want[i] = arg;
	}
	want[7] = NULL;
	text[CMDLINE_MAX_TEXT] = '\0';
	expect_args(text, want);

	text[CMDLINE_MAX_TEXT] = ' ';
	text[CMDLINE_MAX_TEXT + 1] = '\0';
	expect_error(text, "command text is longer than 4000 bytes");

	memset(text, 'a', 10 * 1024);
	text[10 * 1024] = '\0';
	expect_error(text, "command text is longer than 4000 bytes");
	free(text);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	expect_error("ack \xc0\xaf", "command text is not valid UTF-8");	 /* overlong */
	expect_error("ack \xed\xa0\x80", "command text is not valid UTF-8"); /* surrogate */
	expect_error("ack \xe2\x80", "command text is not valid UTF-8");	 /* truncated */
	expect_error("\xc2", "command text is not valid UTF-8");	/* half a NBSP */
	expect_error("\"\xff\"", "command text is not valid UTF-8");
	expect_error("\xe2\x80\x9c\xe2", "command text is not valid UTF-8");
}

static void test_error_buffer_optional(void **state)
{
	struct cmdline cl;
	char tiny[4];

	(void)state;
	assert_int_equal(cmdline_split("\"", &cl, NULL, 0), -1);
	assert_int_equal(cmdline_split("\"", &cl, tiny, sizeof(tiny)), -1);
	assert_string_equal(tiny, "unt");
	cmdline_free(&cl);
}

static int mention(const char *arg, char *id)
{
	return cmdline_mention(arg, id, CMDLINE_USER_ID_SIZE);
}

static void test_mentions(void **state)
{
	char id[CMDLINE_USER_ID_SIZE];

	(void)state;
	assert_int_equal(mention("<@U123ABC>", id), 0);
	assert_string_equal(id, "U123ABC");
	assert_int_equal(mention("<@U123ABC|bob>", id), 0);
	assert_string_equal(id, "U123ABC");
	assert_int_equal(mention("<@U123ABC|Bob Smith (ops)>", id), 0);
	assert_string_equal(id, "U123ABC");
	assert_int_equal(mention("<@W123>", id), 0);
	assert_string_equal(id, "W123");
	assert_int_equal(mention("<@U12>", id), 0);	/* shortest: 2 after U */
	assert_string_equal(id, "U12");
	assert_int_equal(mention("<@U0FIXTURE>", id), 0);
	assert_string_equal(id, "U0FIXTURE");
	/* Longest: 32 after U, fills CMDLINE_USER_ID_SIZE exactly. */
	assert_int_equal(mention("<@UABCDEFGHIJKLMNOPQRSTUVWXYZ012345>", id), 0);
	assert_string_equal(id, "UABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
	assert_int_equal(strlen(id) + 1, CMDLINE_USER_ID_SIZE);
}

static void test_malformed_mentions(void **state)
{
	static const char *const bad[] = {
		"<@>", "<@u12>", "<@U123", "<#C123>", "<!here>", "<!channel>", "@bob",
		"<@U1>", "<@U>", "<@W>", "<@X123>", "<@C123>", "<@U12a>", "<@U12-3>",
		"<@UABCDEFGHIJKLMNOPQRSTUVWXYZ0123456>",	/* 33 after U */
		"<@U123>x", "<@U123> ", " <@U123>", "<@U123>>", "<<@U123>", "<@ U123>",
		"<@U123|>", "<@U123|a|b>", "<@U123|a<b>", "<@U123ABC|bob", "<@U123|bob>x",
		"<#C123|general>", "<https://example.com|x>", "U123", "", "<", "<@",
		"<@U\xc3\xa9>", "<@U123\xc2\xa0>",
	};
	char id[CMDLINE_USER_ID_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(id, "junk", 5);
		if (mention(bad[i], id) != -1)
			fail_msg("accepted mention \"%s\"", bad[i]);
		assert_string_equal(id, "");
	}
}

static void test_mention_buffer_too_small(void **state)
{
	char id[4];

	(void)state;
	assert_int_equal(cmdline_mention("<@U12>", id, sizeof(id)), 0);
	assert_string_equal(id, "U12");
	assert_int_equal(cmdline_mention("<@U123>", id, sizeof(id)), -1);
	assert_string_equal(id, "");
	assert_int_equal(cmdline_mention("<@U123>", NULL, 0), -1);
}

static void test_plain_mentions(void **state)
{
	static const char *const bad[] = {
		"@", "bob", "@@bob", "@bob!", "@bob smith", "@\xc3\xa9", "<@U123>", "@bob>",
		"@bob\xc2\xa0", " @bob", "@b/c", "",
		"@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",	/* 65 */
	};
	static const char name64[] =
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	char arg[70], id[CMDLINE_NAME_SIZE];

	(void)state;
	assert_int_equal(cmdline_plain_mention("@bob", id, sizeof(id)), 0);
	assert_string_equal(id, "bob");
	assert_int_equal(cmdline_plain_mention("@alice.smith-2_X", id, sizeof(id)), 0);
	assert_string_equal(id, "alice.smith-2_X");
	assert_int_equal(cmdline_plain_mention("@a", id, sizeof(id)), 0);
	assert_string_equal(id, "a");
	arg[0] = '@';
	memcpy(arg + 1, name64, sizeof(name64));
	assert_int_equal(cmdline_plain_mention(arg, id, sizeof(id)), 0);
	assert_string_equal(id, name64);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(id, "junk", 5);
		if (cmdline_plain_mention(bad[i], id, sizeof(id)) != -1)
			fail_msg("accepted plain mention \"%s\"", bad[i]);
		assert_string_equal(id, "");
	}
	assert_int_equal(cmdline_plain_mention("@bobby", id, 5), -1);
	assert_int_equal(cmdline_plain_mention("@bobby", id, 6), 0);
	assert_string_equal(id, "bobby");
}

static void test_split_then_mention(void **state)
{
	char err[CMDLINE_ERR_SIZE], id[CMDLINE_USER_ID_SIZE];
	struct cmdline cl;

	(void)state;
	assert_int_equal(cmdline_split("swap <@U0FIXTURE|alice> @bob", &cl, err, sizeof(err)), 0);
	assert_int_equal(cl.argc, 3);
	assert_int_equal(cmdline_mention(cl.argv[1], id, sizeof(id)), 0);
	assert_string_equal(id, "U0FIXTURE");
	assert_int_equal(cmdline_mention(cl.argv[2], id, sizeof(id)), -1);
	assert_int_equal(cmdline_plain_mention(cl.argv[2], id, sizeof(id)), 0);
	assert_string_equal(id, "bob");
	cmdline_free(&cl);
}

/* One entry point for every platform's way of writing a person. */
static void test_person_per_platform(void **state)
{
	char id[64];

	(void)state;
	assert_int_equal(cmdline_person(PLATFORM_SLACK, "<@U0ALICE|alice>", id, sizeof(id)), 0);
	assert_string_equal(id, "U0ALICE");
	assert_int_equal(cmdline_person(PLATFORM_SLACK, "<@00000000-0000-0000-0000-0000000000a2>", id, sizeof(id)), -1);
	assert_int_equal(cmdline_person(PLATFORM_TEAMS, "<@00000000-0000-0000-0000-0000000000a2>", id, sizeof(id)), 0);
	assert_string_equal(id, "00000000-0000-0000-0000-0000000000a2");
	assert_int_equal(cmdline_person(PLATFORM_TEAMS, "<@U0ALICE>", id, sizeof(id)), 0);
	assert_int_equal(cmdline_person(PLATFORM_TEAMS, "@bob", id, sizeof(id)), -1);
	assert_string_equal(id, "");
	assert_int_equal(cmdline_person(PLATFORM_TEAMS, "<@bob>x", id, sizeof(id)), -1);
	assert_int_equal(cmdline_person(PLATFORM_TEAMS, "<@>", id, sizeof(id)), -1);
	assert_int_equal(cmdline_person(PLATFORM_TEAMS, "<@a b>", id, sizeof(id)), -1);
	assert_int_equal(cmdline_person(PLATFORM_TEAMS, "<@0123456789012345678901234567890123456789012345678901234567890123>",
					id, sizeof(id)), -1);	/* 64 characters: one too many */
	assert_int_equal(cmdline_person(PLATFORM_CONSOLE, "@bob", id, sizeof(id)), 0);
	assert_string_equal(id, "bob");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_words),
		cmocka_unit_test(test_empty_text),
		cmocka_unit_test(test_no_break_space),
		cmocka_unit_test(test_ascii_quotes),
		cmocka_unit_test(test_smart_quotes),
		cmocka_unit_test(test_unterminated_quotes),
		cmocka_unit_test(test_arg_count_limit),
		cmocka_unit_test(test_split_max_rest),
		cmocka_unit_test(test_arg_length_limit),
		cmocka_unit_test(test_text_length_limit),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_error_buffer_optional),
		cmocka_unit_test(test_mentions),
		cmocka_unit_test(test_malformed_mentions),
		cmocka_unit_test(test_mention_buffer_too_small),
		cmocka_unit_test(test_plain_mentions),
		cmocka_unit_test(test_split_then_mention),
		cmocka_unit_test(test_person_per_platform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
