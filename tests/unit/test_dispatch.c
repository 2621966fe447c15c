/* Command tables: lookup by name, alias and unique prefix; usage and help are
 * generated from the tables; every subcommand is well-formed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bot/dispatch.h"
#include "commands/commands.h"

static void test_find_command(void **state)
{
	(void)state;
	assert_ptr_equal(dispatch_find_command("oncall"), &oncall_command);
	assert_ptr_equal(dispatch_find_command("/oncall"), &oncall_command);
	assert_ptr_equal(dispatch_find_command("who"), &oncall_command);
	assert_null(dispatch_find_command("oncal"));
	assert_null(dispatch_find_command(""));
}

static void test_find_subcommand(void **state)
{
	int amb;
	const struct subcommand *s;

	(void)state;
	s = dispatch_find_subcommand(&oncall_command, "list", &amb);
	assert_non_null(s);
	assert_string_equal(s->name, "list");
	s = dispatch_find_subcommand(&oncall_command, "li", &amb);
	assert_non_null(s);
	assert_string_equal(s->name, "list");
	s = dispatch_find_subcommand(&oncall_command, "l", &amb);
	assert_null(s);
	assert_int_equal(amb, 1);
	s = dispatch_find_subcommand(&oncall_command, "rem", &amb);
	assert_string_equal(s->name, "remove");
	s = dispatch_find_subcommand(&oncall_command, "bogus", &amb);
	assert_null(s);
	assert_int_equal(amb, 0);
}

static void test_help_generated_from_table(void **state)
{
	struct reply r;

	(void)state;
	reply_init(&r);
	dispatch_help(&oncall_command, &r);
	assert_int_equal(r.nsections, 1);
	for (const struct subcommand *s = oncall_command.subcommands; s->name; s++) {
		char needle[64];
		snprintf(needle, sizeof(needle), "`/oncall %s", s->name);
		assert_non_null(strstr(r.sections[0].text, needle));
	}
	/* owner-only subcommands say so */
	assert_non_null(strstr(r.sections[0].text, "`/oncall add @user` adds someone to the end of the rotation (owner)"));
	reply_free(&r);
}

static void test_tables_well_formed(void **state)
{
	(void)state;
	for (size_t i = 0; command_table[i]; i++) {
		const struct command *c = command_table[i];
		assert_non_null(c->summary);
		assert_non_null(c->default_sub);
		for (const struct subcommand *s = c->subcommands; s->name; s++) {
			assert_non_null(s->handler);
			assert_non_null(s->summary);
			assert_true(s->min_role >= ROLE_VIEWER && s->min_role <= ROLE_OWNER);
			assert_true(s->min_args <= s->max_args);
			int amb;
			assert_ptr_equal(dispatch_find_subcommand(c, s->name, &amb), s);
		}
	}
}

static void test_reply_escape(void **state)
{
	char out[64];

	(void)state;
	reply_escape(out, sizeof(out), "<@U123> *x* `y` <!here> a&b");
	assert_null(strchr(out, '<'));
	assert_null(strchr(out, '*'));
	assert_null(strchr(out, '`'));
	assert_non_null(strstr(out, "a&b"));	/* the adapter escapes & for its platform */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_command),
		cmocka_unit_test(test_find_subcommand),
		cmocka_unit_test(test_help_generated_from_table),
		cmocka_unit_test(test_tables_well_formed),
		cmocka_unit_test(test_reply_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
