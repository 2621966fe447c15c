/* test_teams_text.c - adapters/teams_text: a Teams message read as a command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "adapters/chat_text.h"
#include "adapters/teams_text.h"

#define BOT "28:00000000-0000-0000-0000-0000000000b0"

static json_t *mention(const char *text, const char *id, const char *name)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s}}", "type", "mention", "text", text, "mentioned", "id", id, "name", name);
}

static void test_bot_mention_cut_and_markup_read(void **state)
{
	struct teams_mentions m = { 0 };
	json_t *ents = json_pack("[o]", mention("<at>OnCall Bot</at>", BOT, "OnCall Bot"));
	char *t;

	(void)state;
	t = teams_command_text("<p><at>OnCall Bot</at>&nbsp;oncall  schedule &amp; more</p>\n", ents, BOT, &m);
	assert_string_equal(t, "oncall  schedule & more");
	assert_int_equal(m.n, 0);
	free(t);
	json_decref(ents);
}

/* Runs of spaces as one, in place. */
static void squeeze(char *s)
{
	char *o = s;

	for (const char *p = s; *p; p++)
		if (*p != ' ' || o == s || o[-1] != ' ')
			*o++ = *p;
	*o = '\0';
}

static void test_other_mentions_marked_then_resolved(void **state)
{
	struct teams_mentions m = { 0 };
	json_t *ents = json_pack("[o,o,o]", mention("<at>OnCall Bot</at>", BOT, "OnCall Bot"),
				 mention("<at>Bob Roe</at>", "29:bob", "Bob Roe"),
				 mention("<at>Eve *X*</at>", "29:eve", "Eve *X*"));
	char *t, *r;
	const char *ids[TEAMS_MENTIONS_MAX] = { "U0BOB", NULL };

	(void)state;
	t = teams_command_text("<at>OnCall Bot</at> page <at>Bob Roe</at> and <at>Eve *X*</at> now", ents, BOT, &m);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.who[0].id, "29:bob");
	assert_string_equal(m.who[1].name, "Eve *X*");
	assert_non_null(strchr(t, TEAMS_MENTION_MARK));
	r = teams_mentions_resolve(t, &m, ids);
	/* Bob is a member; Eve's name can't forge markup. Blanks where the tags were. */
	squeeze(r);
	assert_string_equal(r, "page <@U0BOB> and @Eve 'X' now");
	free(t);
	free(r);
	json_decref(ents);
}

static void test_forged_marks_become_spaces(void **state)
{
	struct teams_mentions m = { 0 };
	const char *ids[TEAMS_MENTIONS_MAX] = { 0 };
	char *t = teams_command_text("oncall \x01" "0\x02 x", NULL, BOT, &m), *r;

	(void)state;
	assert_int_equal(m.n, 0);
	r = teams_mentions_resolve(t, &m, ids);
	assert_null(strchr(r, '<'));
	assert_null(strchr(r, TEAMS_MENTION_MARK));
	free(t);
	free(r);
}

static void test_split(void **state)
{
	struct request r;

	(void)state;
	request_init(&r, PLATFORM_TEAMS);
	chat_command_split(&r, strdup("/Incident ack 12"));
	assert_string_equal(r.command, "incident");
	assert_string_equal(r.text, "ack 12");
	chat_command_split(&r, strdup("schedule 3"));
	assert_string_equal(r.command, "oncall");
	assert_string_equal(r.text, "schedule 3");
	chat_command_split(&r, strdup("who"));	/* an alias of oncall is a command of its own name */
	assert_string_equal(r.command, "who");
	assert_string_equal(r.text, "");
	chat_command_split(&r, strdup(""));
	assert_string_equal(r.command, "oncall");
	assert_string_equal(r.text, "");
	request_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bot_mention_cut_and_markup_read),
		cmocka_unit_test(test_other_mentions_marked_then_resolved),
		cmocka_unit_test(test_forged_marks_become_spaces),
		cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
