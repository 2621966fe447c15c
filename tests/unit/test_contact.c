/* test_contact.c - contact rules people type and their stored form (bot/contact). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bot/contact.h"

/* Split on spaces (as the command tokenizer does for plain words) and parse. */
static int parse(const char *text, struct contact_rules *out, char *why, size_t whysize)
{
	char copy[256], *argv[32];
	int argc = 0;

	snprintf(copy, sizeof(copy), "%s", text);
	for (char *t = strtok(copy, " "); t && argc < 32; t = strtok(NULL, " "))
		argv[argc++] = t;
	return contact_rules_parse(argc, argv, out, why, whysize);
}

static void expect_stored(const char *text, const char *stored)
{
	struct contact_rules r;
	char why[200] = "", enc[128];

	if (parse(text, &r, why, sizeof(why)) != 0)
		fail_msg("parse(\"%s\") failed: %s", text, why);
	contact_rules_encode(&r, enc, sizeof(enc));
	assert_string_equal(enc, stored);
}

static void expect_refused(const char *text, const char *why_part)
{
	struct contact_rules r;
	char why[200] = "";

	assert_int_equal(parse(text, &r, why, sizeof(why)), -1);
	if (!strstr(why, why_part))
		fail_msg("parse(\"%s\"): \"%s\" does not say \"%s\"", text, why, why_part);
}

static void test_parse_forms(void **state)
{
	(void)state;
	expect_stored("chat now, sms after 2m, email after 5m", "chat:0,sms:120,email:300");
	expect_stored("slack, text 90s, mail 1h30m", "chat:0,sms:90,email:5400");
	expect_stored("email", "email:0");
	expect_stored("DM now then SMS in 2min and Email after 2min", "chat:0,sms:120,email:120");
	expect_stored("sms 10s if not acknowledged", "sms:10");
	expect_stored("chat now , sms 24h", "chat:0,sms:86400");
}

static void test_parse_refusals(void **state)
{
	(void)state;
	expect_refused("", "name at least one way");
	expect_refused("if not", "name at least one way");
	expect_refused("pigeon", "`pigeon` is not a way to reach you");
	expect_refused("sms 2x", "`2x` is not a delay");
	expect_refused("sms after", "`after` is not a delay");
	expect_refused("sms after soon", "`soon` is not a delay");
	expect_refused("sms 24h1s", "not a delay");
	expect_refused("sms 99999999999999999999s", "not a delay");
	expect_refused("email 5m sms 1m", "go in order");
	expect_refused("sms now text 2m", "sms appears twice");
	expect_refused("chat sms email slack", "appears twice");
}

static void test_stored_form(void **state)
{
	struct contact_rules r;
	char desc[160];

	(void)state;
	assert_int_equal(contact_rules_decode(CONTACT_BUILTIN, &r), 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(contact_rules_describe(&r, desc, sizeof(desc)),
			    "chat now, SMS after 2 min, email after 5 min");
	assert_int_equal(contact_rules_decode("sms:45,email:7200", &r), 0);
	assert_string_equal(contact_rules_describe(&r, desc, sizeof(desc)), "SMS after 45 s, email after 2 h");
	/* Aliases are for people; the stored form only has canonical names. */
	assert_int_equal(contact_rules_decode("slack:0", &r), -1);
	assert_int_equal(contact_rules_decode("", &r), -1);
	assert_int_equal(contact_rules_decode("chat", &r), -1);
	assert_int_equal(contact_rules_decode("chat:-1", &r), -1);
	assert_int_equal(contact_rules_decode("chat:86401", &r), -1);
	assert_int_equal(contact_rules_decode("chat:0,sms:1,email:2,chat:3", &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_stored_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
