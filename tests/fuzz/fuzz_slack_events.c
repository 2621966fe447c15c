/* fuzz_slack_events.c - libFuzzer target for what the Events API hands over
 * (adapters/slack_event: the event_callback reader and the @mention text) and
 * for reading the rest as a command (adapters/chat_text).
 *
 * Whatever the input: no crash, no read past it (it is not NUL-terminated),
 * and the promises hold: -1 always says why; 0 gives ids in their alphabets
 * that fit, a text within SLACK_EVENT_TEXT_MAX; the mention text has no
 * control bytes and no blanks at its ends; the command is a lower-case word
 * that fits, and the text after it is never NULL. The input as a whole is
 * also read as a mention text and as a chat line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapters/chat_text.h"
#include "adapters/slack_event.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_slack_events: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();					\
		}							\
	} while (0)

static void only(const char *s, const char *allow, size_t size)
{
	CHECK(strlen(s) < size);
	CHECK(s[strspn(s, allow)] == '\0');
}

static void read_as_command(const char *text, const char *bot)
{
	struct request r;
	char *t = slack_mention_text(text, bot);
	size_t n = strlen(t);

	for (const char *p = t; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	CHECK(n == 0 || (t[0] != ' ' && t[n - 1] != ' '));
	request_init(&r, PLATFORM_SLACK);
	chat_command_split(&r, t);	/* takes t */
	CHECK(r.text != NULL);
	CHECK(strlen(r.command) < sizeof(r.command));
	request_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char id[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct slack_event ev;
	char why[160];
	json_error_t err;
	json_t *p = json_loadb((const char *)data, size, 0, &err);
	char *text = malloc(size + 1);

	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	read_as_command(text, "U0BOT");
	read_as_command(text, "");
	free(text);
	if (!p)
		return 0;
	why[0] = '\0';
	if (slack_event_parse(p, &ev, why, sizeof(why)) < 0) {
		CHECK(why[0] != '\0');
	} else {
		only(ev.event_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", sizeof(ev.event_id));
		CHECK(ev.event_id[0] && ev.team_id[0] && ev.type[0]);
		only(ev.team_id, id, sizeof(ev.team_id));
		only(ev.type, "abcdefghijklmnopqrstuvwxyz0123456789_.", sizeof(ev.type));
		only(ev.user, id, sizeof(ev.user));
		only(ev.channel, id, sizeof(ev.channel));
		only(ev.bot_user, id, sizeof(ev.bot_user));
		only(ev.ts, "0123456789.", sizeof(ev.ts));
		only(ev.thread_ts, "0123456789.", sizeof(ev.thread_ts));
		only(ev.tab, "abcdefghijklmnopqrstuvwxyz", sizeof(ev.tab));
		if (ev.text) {
			CHECK(strlen(ev.text) <= SLACK_EVENT_TEXT_MAX);
			read_as_command(ev.text, ev.bot_user);
		}
	}
	slack_event_free(&ev);
	json_decref(p);
	return 0;
}
