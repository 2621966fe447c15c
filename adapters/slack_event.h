/* slack_event.h - one Events API event_callback read into a struct, pure.
 *
 * The envelope (slack.md 1.4) is hostile input even after its signature
 * checked out (a Socket Mode payload is not signed at all): every field is
 * bounded, ids keep to their alphabet, and what doesn't fit is left out
 * rather than cut, so a handler sees either a valid value or "".
 *
 * Pure functions of their arguments; any thread. */
#ifndef WK_SLACK_EVENT_H
#define WK_SLACK_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The longest event.text kept: Slack's own message limit (40,000
 * characters) in bytes, with room for entities. */
#define SLACK_EVENT_TEXT_MAX 65536

struct slack_event {
	char event_id[64];	/* the dedupe key: [A-Za-z0-9._-] */
	char team_id[40];	/* the workspace: the envelope's team_id */
	char type[48];		/* event.type: [a-z0-9_.] */
	/* event fields, "" when absent or malformed */
	char user[40];		/* a Slack user id (app_mention, app_home_opened) */
	char channel[40];	/* a Slack channel id (app_mention) */
	char ts[32];		/* the message's ts, "1700000010.000200" */
	char thread_ts[32];	/* the thread it is in, when it is */
	char tab[16];		/* app_home_opened: "home" or "messages" */
	char bot_user[40];	/* the app's bot user (authorizations[].user_id with is_bot) */
	bool from_bot;		/* event.bot_id is set: another app wrote it */
	bool bot_tokens;	/* tokens_revoked: tokens.bot names at least one */
	char *text;		/* event.text as sent (malloc'd), NULL when absent or too long */
};

/* payload (borrowed) into ev. 0, or -1 with one sentence in why: not an
 * object, not type event_callback, no event_id, team_id or event object with a
 * type (or one of them malformed). ev is always safe to slack_event_free(). */
int slack_event_parse(json_t *payload, struct slack_event *ev, char *why, size_t whysize);
void slack_event_free(struct slack_event *ev);

/* Slack's text escaping undone: its three entities (&amp; &lt; &gt;) decoded,
 * nothing else touched (malloc'd). Slash command text and event text alike. */
char *slack_text_unescape(const char *in);

/* What an @mention asks, as plain text (malloc'd): the bot's own mentions
 * (<@bot_user> or <@bot_user|name>; with bot_user "" the mention the message
 * starts with) cut out, other people's kept as <@U...> for the command to
 * read, Slack's three entities (&amp; &lt; &gt;) decoded, control bytes and
 * no-break spaces as spaces, blanks trimmed. */
char *slack_mention_text(const char *text, const char *bot_user);

#endif
