/* Escalation policies as stored on an incident: parse, format, describe, and
 * refusing what is not a policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bot/config.h"
#include "bot/escalation.h"

static void test_round_trip(void **state)
{
	struct escalation_policy p, q;
	char text[512], again[512];

	(void)state;
	assert_int_equal(escalation_policy_parse("r2:900|0:primary|300:backup1,member:U0DAVE|600:team:ops",
						 &p), 0);
	assert_int_equal(p.repeats, 2);
	assert_int_equal(p.round_s, 900);
	assert_int_equal(p.nsteps, 3);
	assert_int_equal(p.steps[1].delay_s, 300);
	assert_int_equal(p.steps[1].ntargets, 2);
	assert_string_equal(p.steps[1].targets[1], "member:U0DAVE");
	assert_string_equal(p.steps[2].targets[0], "team:ops");
	assert_int_equal(escalation_policy_format(&p, text, sizeof(text)), 0);
	assert_string_equal(text, "r2:900|0:primary|300:backup1,member:U0DAVE|600:team:ops");
	assert_int_equal(escalation_policy_parse(text, &q), 0);
	assert_int_equal(escalation_policy_format(&q, again, sizeof(again)), 0);
	assert_string_equal(text, again);
}

static void test_refuses_what_is_no_policy(void **state)
{
	struct escalation_policy p;
	const char *bad[] = { "", "0:primary", "r0", "r0:0", "rx:0|0:primary", "r0:0|primary",
			      "r0:0|-5:primary", "r0:0|99999999:primary", "r101:0|0:primary",
			      "r0:0|0:a|0:b|0:c|0:d|0:e|0:f|0:g|0:h|0:i", NULL };

	(void)state;
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(escalation_policy_parse(bad[i], &p), -1);
}

static void test_default_and_describe(void **state)
{
	struct config cfg;
	struct escalation_policy p;
	char text[512], said[512];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.incidents_step_delays_s = "0,300,600";
	cfg.incidents_repeats = 1;
	escalation_default_policy(&cfg, &p);
	assert_int_equal(escalation_policy_format(&p, text, sizeof(text)), 0);
	/* A new round after the last step has had as long as the one before it. */
	assert_string_equal(text, "r1:900|0:primary|300:backup1|600:backup2");
	escalation_policy_describe(&p, said, sizeof(said));
	assert_string_equal(said, "1. whoever is on call, at once\n2. the 1st backup, after 5 min\n"
				  "3. the 2nd backup, after 10 min\nThen again from step 1, up to 1 more time.");
	cfg.incidents_step_delays_s = "0";
	cfg.incidents_repeats = 0;
	escalation_default_policy(&cfg, &p);
	assert_int_equal(p.nsteps, 1);
	assert_int_equal(p.round_s, 300);
}

/* Every stored target kind of bot/delegate.h reads as people say it. */
static void test_target_describe(void **state)
{
	static const char *const cases[][2] = {
		{ "primary", "whoever is on call" },
		{ "backup2", "the 2nd backup" },
		{ "member:U1", "<@U1>" },
		{ "role:developer", "everyone with role developer" },
		{ "channel:C0OPS", "<#C0OPS>" },
		{ "rotation:ops:backup1", "the 1st backup in rotation ops" },
		{ "rotation:ops:primary", "whoever is on call in rotation ops" },
		{ "owner", "the org's owner" },
		{ "rotation:ops", "rotation:ops" },
	};
	char said[96];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		escalation_target_describe(cases[i][0], said, sizeof(said));
		assert_string_equal(said, cases[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refuses_what_is_no_policy),
		cmocka_unit_test(test_default_and_describe),
		cmocka_unit_test(test_target_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
