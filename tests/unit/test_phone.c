/* test_phone.c - bot/phone.c: what people type, into E.164, or a refusal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bot/phone.h"
#include "bot/util.h"

static const struct {
	const char *typed, *region, *e164;
} good[] = {
	{ "+15555550123", NULL, "+15555550123" },
	{ "+1 (555) 555-0123", NULL, "+15555550123" },
	{ "+1 555.555.0123", NULL, "+15555550123" },
	{ "  +49 30 1234567", "", "+49301234567" },
	{ "0049 30 1234567", NULL, "+49301234567" },
	{ "+44 (0)20 7946 0958", NULL, "+442079460958" },
	{ "0044 (0)20 7946 0958", NULL, "+442079460958" },
	{ "(555) 555-0123", "US", "+15555550123" },
	{ "1 555 555 0123", "us", "+15555550123" },
	{ "555-555-0123", "CA", "+15555550123" },
	{ "030 1234567", "DE", "+49301234567" },
	{ "020 7946 0958", "GB", "+442079460958" },
	{ "01 23 45 67 89", "FR", "+33123456789" },
	{ "06 1234 5678", "IT", "+390612345678" },	/* Italy keeps its 0 */
	{ "0049 30 1234567", "US", "+49301234567" },	/* international wins over the region */
};

static const struct {
	const char *typed, *region, *why;
} bad[] = {
	{ "5555550123", NULL, "`/oncall org phone_region US`" },
	{ "(555) 555-0123", "", "+15555550123" },
	{ "+1 555 555 0123 ext 4", NULL, "no extensions" },
	{ "+0 555 555 0123", NULL, "not an international number" },
	{ "+1234567", NULL, "8 to 15 digits" },
	{ "+1234567890123456", NULL, "8 to 15 digits" },
	{ "555-0123", "US", "numbers there have 10" },
	{ "030 1234567", "XX", "without +" },
	{ "", NULL, "not a phone number" },
	{ "+1 555 555 0123 555 555 0123 555 555 0123 5", NULL, "not a phone number" },
	{ "+1 555 555 0123; DROP", NULL, "only digits" },
};

static void test_normalises(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		char out[PHONE_E164_SIZE], why[300] = "";
		if (phone_normalize(good[i].typed, good[i].region, out, sizeof(out), why, sizeof(why)) != 0)
			fail_msg("\"%s\" (%s) refused: %s", good[i].typed, good[i].region ? good[i].region : "-", why);
		assert_string_equal(out, good[i].e164);
	}
}

static void test_refuses_with_a_sentence(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char out[PHONE_E164_SIZE] = "", why[300] = "";
		if (phone_normalize(bad[i].typed, bad[i].region, out, sizeof(out), why, sizeof(why)) == 0)
			fail_msg("\"%s\" accepted as %s", bad[i].typed, out);
		if (!strstr(why, bad[i].why))
			fail_msg("\"%s\": \"%s\" does not say \"%s\"", bad[i].typed, why, bad[i].why);
	}
}

static void test_regions(void **state)
{
	char codes[200];

	(void)state;
	assert_non_null(phone_region_find("de"));
	assert_string_equal(phone_region_find("DE")->calling, "49");
	assert_string_equal(phone_region_find("GB")->trunk, "0");
	assert_null(phone_region_find("ZZ"));
	assert_null(phone_region_find(NULL));
	assert_non_null(strstr(phone_region_codes(codes, sizeof(codes)), "US"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalises),
		cmocka_unit_test(test_refuses_with_a_sentence),
		cmocka_unit_test(test_regions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
