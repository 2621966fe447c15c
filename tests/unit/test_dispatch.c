/* Command tables: lookup by name, alias and unique prefix; usage and help are
 * generated from the tables; every subcommand is well-formed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
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

static const struct subcommand *find(const struct command *c, const char *text, size_t *used,
				     int *amb)
{
	static char buf[128];
	static char *argv[8];
	size_t argc = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *tok = strtok(buf, " "); tok && argc < 8; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	return dispatch_find_subcommand(c, argc, argv, used, amb);
}

static void test_find_subcommand(void **state)
{
	int amb;
	size_t used;
	const struct subcommand *s;

	(void)state;
	s = find(&oncall_command, "list", &used, &amb);
	assert_non_null(s);
	assert_string_equal(s->name, "list");
	assert_int_equal(used, 1);
	s = find(&oncall_command, "li", &used, &amb);
	assert_string_equal(s->name, "list");
	s = find(&oncall_command, "LIST", &used, &amb);
	assert_string_equal(s->name, "list");
	s = find(&oncall_command, "l", &used, &amb);
	assert_null(s);
	assert_int_equal(amb, 1);
	s = find(&oncall_command, "remo", &used, &amb);
	assert_string_equal(s->name, "remove");
	s = find(&oncall_command, "rem", &used, &amb);	/* remove or reminder */
	assert_null(s);
	assert_int_equal(amb, 1);
	s = find(&oncall_command, "bogus", &used, &amb);
	assert_null(s);
	assert_int_equal(amb, 0);
}

static void test_two_word_subcommands(void **state)
{
	int amb;
	size_t used;
	const struct subcommand *s;

	(void)state;
	s = find(&oncall_command, "me", &used, &amb);
	assert_string_equal(s->name, "me");
	assert_int_equal(used, 1);
	s = find(&oncall_command, "me phone +15555550123", &used, &amb);
	assert_string_equal(s->name, "me phone");
	assert_int_equal(used, 2);
	s = find(&oncall_command, "me ph +15555550123", &used, &amb);
	assert_string_equal(s->name, "me phone");
	s = find(&invite_command, "team create ops", &used, &amb);
	assert_string_equal(s->name, "team create");
	assert_int_equal(used, 2);
	s = find(&invite_command, "team re ops", &used, &amb);	/* rename or remove */
	assert_null(s);
	assert_int_equal(amb, 1);
	s = find(&invite_command, "team", &used, &amb);
	assert_null(s);
}

/* Issue 10 item 10: a unique prefix works for both words of a two-word row. */
static void test_two_word_prefixes(void **state)
{
	int amb;
	size_t used;
	const struct subcommand *s;

	(void)state;
	s = find(&oncall_command, "rot li", &used, &amb);
	assert_non_null(s);
	assert_string_equal(s->name, "rotation list");
	assert_int_equal(used, 2);
	s = find(&invite_command, "te li", &used, &amb);	/* not team-mode */
	assert_non_null(s);
	assert_string_equal(s->name, "team list");
	s = find(&oncall_command, "me n", &used, &amb);	/* me name or me notify */
	assert_null(s);
	assert_int_equal(amb, 1);
	s = find(&oncall_command, "me na Alice", &used, &amb);
	assert_string_equal(s->name, "me name");
	s = find(&oncall_command, "ov rem o3", &used, &amb);
	assert_string_equal(s->name, "override remove");
	/* swap takes arguments: its second word must be a row's exactly */
	s = find(&oncall_command, "swap cancel s1", &used, &amb);
	assert_string_equal(s->name, "swap cancel");
	s = find(&oncall_command, "swap c with @bob", &used, &amb);
	assert_string_equal(s->name, "swap");
	assert_int_equal(used, 1);
	/* another command is no subcommand of the table (dispatch nests it) */
	s = find(&oncall_command, "invite link", &used, &amb);
	assert_null(s);
}

/* Issue 10 item 11: commands are named as people type them where they are. */
static void test_typed_names(void **state)
{
	struct config cfg;
	struct request req;
	struct cmd_ctx ctx = { 0 };
	char out[80];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&req, 0, sizeof(req));
	ctx.cfg = &cfg;
	ctx.req = &req;
	assert_string_equal(dispatch_typed(NULL, &invite_command, out, sizeof(out)), "/oncall invite");
	assert_string_equal(dispatch_typed(NULL, &oncall_command, out, sizeof(out)), "/oncall");
	req.platform = PLATFORM_CONSOLE;	/* the console keeps the plain words */
	assert_string_equal(dispatch_typed(&ctx, &invite_command, out, sizeof(out)), "/invite");
	req.platform = PLATFORM_SLACK;
	cfg.slack_ncommands = 1;
	snprintf(cfg.slack_command[0].name, sizeof(cfg.slack_command[0].name), "oncall-prod");
	snprintf(cfg.slack_command[0].command, sizeof(cfg.slack_command[0].command), "oncall");
	assert_string_equal(dispatch_typed(&ctx, &oncall_command, out, sizeof(out)), "/oncall-prod");
	assert_string_equal(dispatch_typed(&ctx, &invite_command, out, sizeof(out)), "/oncall-prod invite");
	cfg.slack_ncommands = 2;
	snprintf(cfg.slack_command[1].name, sizeof(cfg.slack_command[1].name), "invite-prod");
	snprintf(cfg.slack_command[1].command, sizeof(cfg.slack_command[1].command), "invite");
	assert_string_equal(dispatch_typed(&ctx, &invite_command, out, sizeof(out)), "/invite-prod");
	assert_string_equal(dispatch_typed_name(&ctx, "invite", out, sizeof(out)), "/invite-prod");
	assert_false(dispatch_nested(&oncall_command));
	assert_false(dispatch_nested(&help_command));
	assert_true(dispatch_nested(&invite_command));
}

/* Team names must never shadow a subcommand: `/oncall TEAM`. */
static void test_word_taken(void **state)
{
	char meaning[40];

	(void)state;
	assert_true(dispatch_word_taken("rotation", meaning, sizeof(meaning)));
	assert_string_equal(meaning, "rotation");
	assert_true(dispatch_word_taken("rot", meaning, sizeof(meaning)));
	assert_true(dispatch_word_taken("invite", meaning, sizeof(meaning)));
	assert_true(dispatch_word_taken("help", meaning, sizeof(meaning)));
	assert_true(dispatch_word_taken("Schedule", meaning, sizeof(meaning)));
	assert_false(dispatch_word_taken("ops", meaning, sizeof(meaning)));
	assert_false(dispatch_word_taken("platform", meaning, sizeof(meaning)));
	assert_false(dispatch_word_taken("rotations", meaning, sizeof(meaning)));
}

static void test_help_generated_from_table(void **state)
{
	struct reply r;

	(void)state;
	reply_init(&r);
	dispatch_help(NULL, &oncall_command, &r);
	assert_int_equal(r.nsections, 1);
	for (const struct subcommand *s = oncall_command.subcommands; s->name; s++) {
		char needle[64];
		snprintf(needle, sizeof(needle), "`/oncall %s", s->name);	/* every row, in order */
		assert_non_null(strstr(r.sections[0].text, needle));
	}
	/* admin-only subcommands say so */
	assert_non_null(strstr(r.sections[0].text, "`/oncall add @user [rotation]` adds someone to the end of a rotation (admin)"));
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
			assert_true(s->min_role >= ROLE_NONE && s->min_role <= ROLE_OWNER);
			assert_non_null(s->example);
			assert_true(s->min_args <= s->max_args);
			int amb;
			size_t used;
			assert_ptr_equal(find(c, s->name, &used, &amb), s);
		}
	}
}

/* Every "check with ..." advice names a real subcommand or action of its command, and the
 * advice is a command that exists and that whoever may run the change may run too. */
static void test_checks_name_real_commands(void **state)
{
	(void)state;
	for (size_t i = 0; command_table[i]; i++) {
		const struct command *c = command_table[i];
		for (const struct command_check *k = c->checks; k && k->name; k++) {
			bool found = false;
			enum role need = ROLE_OWNER;
			for (const struct subcommand *s = c->subcommands; s->name; s++)
				if (strcmp(s->name, k->name) == 0) {
					found = true;
					need = s->min_role < need ? s->min_role : need;
				}
			for (const struct command_action *a = c->actions; a && a->name; a++)
				if (strcmp(a->name, k->name) == 0) {
					found = true;
					need = a->min_role < need ? a->min_role : need;
				}
			if (!found)
				fail_msg("/%s check entry \"%s\" names no subcommand or action", c->name, k->name);

			char text[64], *argv[4];
			size_t argc = 0, used = 0;
			int ambiguous = 0;
			assert_true(k->check[0] == '/');
			snprintf(text, sizeof(text), "%s", k->check + 1);
			for (char *tok = strtok(text, " "); tok && argc < 4; tok = strtok(NULL, " "))
				argv[argc++] = tok;
			const struct command *rc = dispatch_find_command(argv[0]);
			assert_non_null(rc);
			const struct subcommand *rs = argc > 1
				? dispatch_find_subcommand(rc, argc - 1, argv + 1, &used, &ambiguous)
				: rc->default_sub;
			if (!rs || (argc > 1 && used != argc - 1))
				fail_msg("check \"%s\" for /%s %s is not a command", k->check, c->name, k->name);
			if (rs->min_role > need)
				fail_msg("check \"%s\" needs %s; /%s %s only %s", k->check,
					 role_name(rs->min_role), c->name, k->name, role_name(need));
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
		cmocka_unit_test(test_two_word_subcommands),
		cmocka_unit_test(test_two_word_prefixes),
		cmocka_unit_test(test_word_taken),
		cmocka_unit_test(test_typed_names),
		cmocka_unit_test(test_help_generated_from_table),
		cmocka_unit_test(test_tables_well_formed),
		cmocka_unit_test(test_reply_escape),
		cmocka_unit_test(test_checks_name_real_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
