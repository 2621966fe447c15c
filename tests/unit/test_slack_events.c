/* test_slack_events.c - the pure parts of the Events API: the event_callback
 * reader and the @mention text (adapters/slack_event), questions in words
 * (adapters/chat_text), the Home view's limits (adapters/slack_home), and the
 * manifest carrying every event type and scope the code uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "adapters/chat_text.h"
#include "adapters/slack_event.h"
#include "adapters/slack_events.h"
#include "adapters/slack_home.h"
#include "adapters/slack_manifest.h"
#include "bot/config.h"
#include "bot/reply.h"
#include "bot/tz.h"

/* slack.md 1.4's fixture. */
static const char fixture[] =
	"{\"token\":\"legacyTok\",\"team_id\":\"T0FIXTURE\",\"api_app_id\":\"A0FIXTURE\",\"type\":\"event_callback\","
	"\"event\":{\"type\":\"app_mention\",\"user\":\"U0FIXTURE\",\"text\":\"<@U0BOT> who is on call?\","
	"\"ts\":\"1700000010.000200\",\"channel\":\"C0FIXTURE\",\"event_ts\":\"1700000010.000200\"},"
	"\"event_id\":\"Ev0FIXTURE\",\"event_time\":1700000010,"
	"\"authorizations\":[{\"enterprise_id\":null,\"team_id\":\"T0FIXTURE\",\"user_id\":\"U0BOT\",\"is_bot\":true,"
	"\"is_enterprise_install\":false}],\"is_ext_shared_channel\":false}";

static int parse(const char *json, struct slack_event *ev)
{
	json_error_t err;
	json_t *p = json_loads(json, 0, &err);
	char why[160] = "";
	int rc;

	assert_non_null(p);
	rc = slack_event_parse(p, ev, why, sizeof(why));
	if (rc < 0)
		assert_true(why[0] != '\0');
	json_decref(p);
	return rc;
}

/* fixture with one replacement of what by with. */
static int parse_changed(const char *what, const char *with, struct slack_event *ev)
{
	char buf[2048];
	const char *at = strstr(fixture, what);

	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - fixture), fixture, with, at + strlen(what));
	return parse(buf, ev);
}

static void test_parse_fixture(void **state)
{
	struct slack_event ev;

	(void)state;
	assert_int_equal(parse(fixture, &ev), 0);
	assert_string_equal(ev.event_id, "Ev0FIXTURE");
	assert_string_equal(ev.team_id, "T0FIXTURE");
	assert_string_equal(ev.type, "app_mention");
	assert_string_equal(ev.user, "U0FIXTURE");
	assert_string_equal(ev.channel, "C0FIXTURE");
	assert_string_equal(ev.ts, "1700000010.000200");
	assert_string_equal(ev.thread_ts, "");
	assert_string_equal(ev.bot_user, "U0BOT");
	assert_string_equal(ev.text, "<@U0BOT> who is on call?");
	assert_false(ev.from_bot);
	slack_event_free(&ev);
}

static void test_parse_refuses(void **state)
{
	static const struct {
		const char *what, *with;
	} cases[] = {
		{ "\"type\":\"event_callback\"", "\"type\":\"url_verification\"" },
		{ "\"event_id\":\"Ev0FIXTURE\"", "\"event_idx\":\"Ev0FIXTURE\"" },
		{ "\"event_id\":\"Ev0FIXTURE\"", "\"event_id\":\"Ev0 FIX\"" },
		{ "\"event_id\":\"Ev0FIXTURE\"", "\"event_id\":\"Ev0FIXTUREEv0FIXTUREEv0FIXTUREEv0FIXTUREEv0FIXTUREEv0FIXTUREEv0FIXTURE\"" },
		{ "\"event_id\":\"Ev0FIXTURE\"", "\"event_id\":7" },
		{ "\"team_id\":\"T0FIXTURE\",\"api", "\"team_id\":\"T0/../x\",\"api" },
		{ "\"team_id\":\"T0FIXTURE\",\"api", "\"api" },
		{ "{\"type\":\"app_mention\",", "{\"kind\":\"app_mention\"," },
		{ "{\"type\":\"app_mention\",", "{\"type\":\"App Mention\"," },
		{ "\"event\":{", "\"event\":[],\"x\":{" },
	};
	struct slack_event ev;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse_changed(cases[i].what, cases[i].with, &ev) != -1)
			fail_msg("case %zu (%s) was accepted", i, cases[i].with);
		slack_event_free(&ev);
	}
	assert_int_equal(parse("[1]", &ev), -1);
	assert_int_equal(parse("{\"type\":\"event_callback\"}", &ev), -1);
}

static void test_parse_fields_are_kept_only_when_valid(void **state)
{
	struct slack_event ev;
	char *big;
	size_t n = SLACK_EVENT_TEXT_MAX + 10;

	(void)state;
	/* user_change sends the user as an object: not an id, so "" */
	assert_int_equal(parse_changed("\"user\":\"U0FIXTURE\"", "\"user\":{\"id\":\"U1\"}", &ev), 0);
	assert_string_equal(ev.user, "");
	slack_event_free(&ev);
	assert_int_equal(parse_changed("\"channel\":\"C0FIXTURE\"", "\"channel\":\"C0<script>\"", &ev), 0);
	assert_string_equal(ev.channel, "");
	slack_event_free(&ev);
	assert_int_equal(parse_changed("\"ts\":\"1700000010.000200\"", "\"ts\":\"17\\n00\",\"thread_ts\":\"1.2\","
									"\"bot_id\":\"B1\"", &ev), 0);
	assert_string_equal(ev.ts, "");
	assert_string_equal(ev.thread_ts, "1.2");
	assert_true(ev.from_bot);
	slack_event_free(&ev);
	assert_int_equal(parse_changed("\"is_bot\":true", "\"is_bot\":false", &ev), 0);
	assert_string_equal(ev.bot_user, "");
	slack_event_free(&ev);
	assert_int_equal(parse_changed("{\"type\":\"app_mention\",", "{\"type\":\"tokens_revoked\","
					 "\"tokens\":{\"oauth\":[\"U1\"],\"bot\":[\"U0BOT\"]},", &ev), 0);
	assert_true(ev.bot_tokens);
	slack_event_free(&ev);
	/* a text longer than Slack allows is left out, not cut */
	big = malloc(n + 64);
	memset(big, 'a', n);
	big[n] = '\0';
	json_t *p = json_loads(fixture, 0, NULL);
	json_object_set_new(json_object_get(p, "event"), "text", json_string(big));
	char why[160];
	assert_int_equal(slack_event_parse(p, &ev, why, sizeof(why)), 0);
	assert_null(ev.text);
	json_decref(p);
	free(big);
}

static void check_mention(const char *text, const char *bot, const char *want)
{
	char *got = slack_mention_text(text, bot);

	if (strcmp(got, want) != 0)
		fail_msg("slack_mention_text(\"%s\", \"%s\") = \"%s\", want \"%s\"", text, bot, got, want);
	free(got);
}

static void test_mention_text(void **state)
{
	(void)state;
	check_mention("<@U0BOT> who is on call?", "U0BOT", "who is on call?");
	check_mention("<@U0BOT|watchkeeper>\xc2\xa0oncall &amp; more &lt;x&gt;", "U0BOT", "oncall & more <x>");
	check_mention("<@U0BOT> oncall add <@U0BOB> <@U0BOT>", "U0BOT", "oncall add <@U0BOB>");
	check_mention("hey <@U0BOT>, who is on call", "U0BOT", "hey  , who is on call");
	/* bot unknown: only the mention the message starts with */
	check_mention("  <@U0X> oncall add <@U0BOB>", "", "oncall add <@U0BOB>");
	/* typed entities are never taken for the bot's mention */
	check_mention("&lt;@U0BOT&gt; now", "U0BOT", "<@U0BOT> now");
	check_mention("<@U0BOTTY> now", "U0BOT", "<@U0BOTTY> now");
	check_mention("a\tb\x01\x7f" "c\n", "U0BOT", "a b  c");
	check_mention("<@<@<@U0BOT", "U0BOT", "<@<@<@U0BOT");
	check_mention("<@> <@U0BOT", "", "<@> <@U0BOT");
	check_mention("", "U0BOT", "");
	check_mention(NULL, "U0BOT", "");
}

static void check_split(const char *text, const char *command, const char *args)
{
	struct request r;

	request_init(&r, PLATFORM_SLACK);
	chat_command_split(&r, strdup(text));
	if (strcmp(r.command, command) != 0 || strcmp(r.text, args) != 0)
		fail_msg("\"%s\" ran `%s %s`, want `%s %s`", text, r.command, r.text, command, args);
	request_free(&r);
}

static void test_questions_in_words(void **state)
{
	(void)state;
	check_split("who is on call?", "oncall", "now");
	check_split("Who's on-call right now?", "oncall", "now");
	check_split("who\xe2\x80\x99s oncall", "oncall", "now");
	check_split("hey, who is on call for Payments-EU?", "oncall", "now payments-eu");
	check_split("who is on call in ops now", "oncall", "now ops");
	check_split("When am I next?", "oncall", "when");
	check_split("when is my next shift", "oncall", "when");
	check_split("open incidents", "incident", "list");
	check_split("what can you do?", "help", "");
	/* anything else is a command as typed */
	check_split("who is on call for", "who", "is on call for");
	check_split("who is on call for a b", "who", "is on call for a b");
	check_split("who is on call for ../x", "who", "is on call for ../x");
	check_split("oncall who", "oncall", "who");
	check_split("who ops", "who", "ops");
	check_split("/Incident ack 12", "incident", "ack 12");
	check_split("schedule 3", "oncall", "schedule 3");
	check_split("my shifts and more", "oncall", "my shifts and more");
	check_split("", "oncall", "");
}

/* ---- the Home ---- */

static json_t *home_of(struct slack_home *h)
{
	json_t *v = slack_home_body(h, "U0ALICE");

	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "user_id")), "U0ALICE");
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "view"), "type")), "home");
	return v;
}

static void check_limits(json_t *v)
{
	json_t *blocks = json_object_get(json_object_get(v, "view"), "blocks"), *b;
	size_t i;

	assert_true(json_array_size(blocks) <= SLACK_HOME_BLOCKS);
	json_array_foreach(blocks, i, b) {
		const char *type = json_string_value(json_object_get(b, "type"));
		const char *text = json_string_value(json_object_get(json_object_get(b, "text"), "text"));
		assert_non_null(type);
		assert_string_not_equal(type, "actions");
		if (text && strcmp(type, "header") == 0)
			assert_true(strlen(text) <= SLACK_HOME_HEADER_MAX);
		if (text)
			assert_true(strlen(text) <= 3000);
	}
}

static void test_home_keeps_slacks_limits(void **state)
{
	struct slack_home h;
	struct reply r;
	char long_heading[400];
	json_t *v;

	(void)state;
	reply_init(&r);
	reply_textf(&r, "*On call now:* <@U0ALICE> & friends");
	reply_button(&r, "Join", "oncall.join", "", BUTTON_PRIMARY);
	slack_home_init(&h);
	slack_home_part(&h, "On call now", &r, "/oncall now");
	v = home_of(&h);
	check_limits(v);
	json_t *blocks = json_object_get(json_object_get(v, "view"), "blocks");
	assert_int_equal(json_array_size(blocks), 2);	/* a header and the text; no buttons */
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(json_array_get(blocks, 1), "text"),
								      "text")), "<@U0ALICE> &amp; friends"));
	json_decref(v);

	/* Many long parts: still within 100 blocks and 3000 characters, the rest named. */
	reply_reset(&r);
	for (int i = 0; i < REPLY_MAX_SECTIONS; i++) {
		struct reply_section *s = reply_section(&r, "%d", i);
		free(s->text);
		s->text = malloc(5001);
		memset(s->text, 'x', 5000);
		s->text[5000] = '\0';
	}
	memset(long_heading, 'H', sizeof(long_heading) - 1);
	long_heading[sizeof(long_heading) - 1] = '\0';
	for (int i = 0; i < 12; i++)
		slack_home_part(&h, long_heading, &r, "/oncall now");
	assert_true(h.dropped > 0);
	v = home_of(&h);
	check_limits(v);
	blocks = json_object_get(json_object_get(v, "view"), "blocks");
	assert_string_equal(json_string_value(json_object_get(json_array_get(blocks, json_array_size(blocks) - 1),
							      "type")), "context");	/* "there is more" */
	json_decref(v);
	slack_home_free(&h);
	reply_free(&r);
}

/* ---- the manifest ---- */

static char *manifest(bool socket_mode)
{
	struct config cfg;
	char err[512], *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	setenv("WK_PUBLIC_URL", "https://wk.example/", 1);
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
	slack_manifest_write(&cfg, socket_mode, f);
	fclose(f);
	config_free(&cfg);
	return out;
}

/* The bot_events list of a manifest: each "      - name" line under it. */
static bool has_bot_event(const char *m, const char *name)
{
	char line[96];
	const char *list = strstr(m, "    bot_events:\n");

	snprintf(line, sizeof(line), "      - %s\n", name);
	return list && strstr(list, line) && strstr(list, line) < strstr(list, "  interactivity:");
}

static void test_manifest_carries_every_event_and_scope(void **state)
{
	(void)state;
	for (int socket_mode = 0; socket_mode < 2; socket_mode++) {
		char *m = manifest(socket_mode);
		const char *name;
		size_t n = 0;

		for (size_t i = 0; (name = slack_events_type(i)); i++, n++)
			if (!has_bot_event(m, name))
				fail_msg("the %s manifest lacks bot event %s", socket_mode ? "Socket Mode" : "HTTP", name);
		assert_int_equal(n, 4);
		for (size_t i = 0; (name = slack_manifest_scope(i)); i++) {
			char line[96];
			snprintf(line, sizeof(line), "      - %s\n", name);
			assert_non_null(strstr(m, line));
		}
		/* what the handled events and the Web API calls need */
		static const char *const needed[] = { "app_mentions:read", "chat:write", "im:write", "im:history",
						      "users:read", "users:read.email", "commands",
						      "channels:history", "groups:history" };
		for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
			char line[96];
			snprintf(line, sizeof(line), "      - %s\n", needed[i]);
			if (!strstr(m, line))
				fail_msg("manifest lacks scope %s", needed[i]);
		}
		assert_non_null(strstr(m, "  app_home:\n    home_tab_enabled: true\n"));
		assert_non_null(strstr(m, "  redirect_urls:\n    - https://wk.example/slack/oauth/callback\n"));
		if (socket_mode) {
			assert_non_null(strstr(m, "socket_mode_enabled: true\n"));
			assert_null(strstr(m, "request_url"));
			assert_null(strstr(m, "url: https://wk.example/slack/commands"));
		} else {
			assert_non_null(strstr(m, "socket_mode_enabled: false\n"));
			assert_non_null(strstr(m, "  event_subscriptions:\n    request_url: https://wk.example/slack/events\n"));
			assert_non_null(strstr(m, "  interactivity:\n    is_enabled: true\n    request_url: "
						  "https://wk.example/slack/actions\n"));
			assert_non_null(strstr(m, "      url: https://wk.example/slack/commands\n"));
		}
		free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fixture),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_parse_fields_are_kept_only_when_valid),
		cmocka_unit_test(test_mention_text),
		cmocka_unit_test(test_questions_in_words),
		cmocka_unit_test(test_home_keeps_slacks_limits),
		cmocka_unit_test(test_manifest_carries_every_event_and_scope),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tz_shutdown();
	return rc;
}
