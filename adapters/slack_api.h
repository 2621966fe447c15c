/* slack_api.h - calls to the Slack Web API that an outbox sender waits for
 * (users.info, which a command needs, is asynchronous: slack_users.h).
 *
 * Requests go through courier_call() (bot/courier.h) to cfg->slack_api_url
 * with the workspace's bot token as "Authorization: Bearer xoxb-...": the one
 * its install stored, else slack.bot_token (adapters/slack_tokens.h; the
 * workspace is the org's, "slack:<team>"); conversations.history
 * takes its arguments in the query string and conversations.open as a form
 * body, as the official SDK sends them; chat.postMessage takes JSON. Slack answers HTTP 200
 * for most errors, so the `ok` field decides, not the status; 429 carries
 * Retry-After. ok:false answers are logged with the method and Slack's code.
 *
 * Rate limits, in process, per workspace: after a 429 a method is not called
 * again until its Retry-After has passed (callers get "retry later" with the
 * seconds left at once, no call made); chat.postMessage into a channel (C..,
 * G..) goes out about once a second per channel (a post waits up to a second
 * for its turn, one further behind is "retry later" with the seconds to its
 * turn); a DM channel is one person's, and the outbox paces each person.
 *
 * Thread: a thread that may block (the outbox senders; never a worker, the
 * loop or the courier), up to 10 s per Slack call. cfg is only read. why gets one
 * sentence for logs or chat, never the token. */
#ifndef WK_SLACK_API_H
#define WK_SLACK_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bot/config.h"
#include "bot/store.h"

/* A Slack id (user, channel, team): [A-Za-z0-9]{1,32}. */
bool slack_id_valid(const char *id);
/* Slack's error code into out with only [a-z0-9_.] kept, so a hostile answer
 * can't put markup or control bytes into chat text or logs; "unknown_error"
 * when nothing is left. */
void slack_error_code(const char *in, char *out, size_t size);

/* What marks a notification's message in Slack: message metadata (not shown to
 * people) of event type SLACK_NOTE_EVENT with the org, the attempt's reference
 * and the notification ids it carries, so that after an attempt with an
 * unknown outcome the outbox can look for the message instead of posting it
 * twice (slack_find_posted()). All three strings are borrowed. */
#define SLACK_NOTE_EVENT "wk_notification"
struct slack_note {
	const char *org;
	const char *ref;	/* the attempt's, e.g. "r12-3fa9" */
	const char *ids;	/* "n12,n13" */
};

/* A direct message from the bot to one Slack user of org_id: a neutral reply
 * rendered as Block Kit (the same as slash-command replies), buttons included
 * (swap requests, approvals, pages with an Acknowledge button), carrying note
 * as metadata when note is not NULL. The outbox (bot/outbox.h) is the only
 * caller: everything else queues notifications.
 *
 * conversations.open (form users=<user_id>) gives the DM channel id, cached in
 * wk:{org}:dm:<user_id> (no expiry: a DM channel id does not change); then
 * chat.postMessage. When Slack says channel_not_found, the cached id is
 * dropped and the open + post tried once more.
 *   0   posted (ok:true).
 *   1   not posted, and retrying will not help: no bot token configured, an
 *       invalid user id, or a refusal for this user or text (user_not_found,
 *       user_disabled, cannot_dm_bot, msg_too_long, ...); why names it.
 *  -1   not posted, try again later: transport failure before the post left,
 *       429, a malformed answer, other ok:false codes (invalid_auth, ...),
 *       or Redis failed. *retry_after (if not NULL) gets a 429's Retry-After
 *       seconds, else -1.
 *   2   unknown: chat.postMessage went out but no answer came (timeout, a
 *       dropped connection, shutdown) or the answer was a 5xx: Slack may have
 *       posted it. Look with slack_find_posted() before posting again.
 * s is the caller's store (channel cache). */
struct reply;
int slack_dm_reply(const struct config *cfg, struct store *s, const char *org_id,
		   const char *user_id, const struct reply *r, const struct slack_note *note,
		   long *retry_after, char *why, size_t whysize);

/* The same, posted into a channel of org_id's workspace the bot is a member
 * of (C.., G..): no conversations.open. Results as above; not_in_channel, channel_not_found and
 * is_archived are permanent (1), and why says to invite the app. On 0 the
 * message's ts goes into ts (NULL: not wanted), for a later chat.update. */
int slack_channel_post(const struct config *cfg, struct store *s, const char *org_id, const char *channel_id,
		       const struct reply *r, const struct slack_note *note, long *retry_after, char *ts,
		       size_t tssize, char *why, size_t whysize);

/* chat.update of the bot's message ts in channel_id with r (the incident
 * card, bot/incident_card.h). An update renders a whole message, so repeating
 * one is harmless: callers may retry it blindly (no metadata, no lookup).
 * 0 updated, 1 permanent (as above), -1 retry later (2 never: an unknown
 * outcome is a retry here), 4 message_not_found: the message was deleted. */
int slack_channel_update(const struct config *cfg, struct store *s, const char *org_id, const char *channel_id,
			 const char *ts, const struct reply *r, long *retry_after, char *why, size_t whysize);

/* Was a message marked with one of refs[0..n) posted since since_ms? Reads
 * conversations.history (include_all_metadata=true, oldest a minute before
 * since_ms, pages of 200 following the cursor, at most 5) of user_id's DM
 * (dm true: the cached channel, or conversations.open) or of the channel
 * `conversation`, and sets found[k] for each refs[k] named by a
 * SLACK_NOTE_EVENT message of org_id. One call covers every unknown message
 * of that conversation. Needs the im:history scope (channels:history /
 * groups:history for channels).
 *   0   looked (found[] says what is there; all false when nothing could
 *       have been posted: no token, Slack refuses that DM, channel gone)
 *  -1   could not look: transport, 429 (*retry_after seconds, else -1), 5xx,
 *       other refusals, or more pages than that; why says which. */
int slack_find_posted(const struct config *cfg, struct store *s, const char *org_id,
		      const char *conversation, bool dm, int64_t since_ms, const char *const *refs,
		      size_t n, bool *found, long *retry_after, char *why, size_t whysize);

/* The message in channel (posted since since_ms) whose SLACK_NOTE_EVENT
 * metadata is org_id's, with reference ref and id among its ids: its ts into
 * ts, so a message posted by an attempt with an unknown outcome can be
 * updated later (the incident card). Reads as slack_find_posted does.
 * 1 found, 0 not there, -1 could not look (why, *retry_after). */
int slack_find_note(const struct config *cfg, struct store *s, const char *org_id, const char *channel,
		    int64_t since_ms, const char *ref, const char *id, char *ts, size_t tssize, long *retry_after,
		    char *why, size_t whysize);

/* The in-process rate state every Web API call of ours goes through (also
 * users.info's, adapters/slack_users.c). team: the workspace ("" or NULL:
 * slack.bot_token's calls outside a Slack org). Any thread, never blocks.
 * slack_api_limited: seconds until method may be called again, 0 now.
 * slack_api_note_429: Slack said 429 with Retry-After seconds (-1: none, then
 * the SDKs' default of 30 s). */
long slack_api_limited(const char *team, const char *method);
void slack_api_note_429(const char *team, const char *method, long retry_after);

/* The Block Kit the slash-command replies use, as a chat.postMessage body
 * (without "channel"; the caller owns it). NULL with why set when it can't be
 * rendered. */
json_t *slack_message_json(const struct reply *r, char *why, size_t whysize);

/* A Web API call for a worker that must not wait for Slack (an answer in a
 * thread, the Home tab): POST msg (JSON, taken) to method with team's token
 * (slack_tokens.h), judged like every other call when the answer comes:
 * ok:false logged with method and code, a 429 remembered for that method and
 * workspace. label (may be NULL) is added to those log lines ("event=Ev1").
 * 0 started; -1 not (no token, the method limited after a 429, a URL too
 * long): why says which. Thread: workers (s is the worker's store). */
int slack_api_post_async(const struct config *cfg, struct store *s, const char *team, const char *method, json_t *msg,
			 const char *label, char *why, size_t whysize);

/* One conversations.history answer (ok:true, parsed; hostile input): sets
 * found[k] for each refs[k] a SLACK_NOTE_EVENT message of org_id names.
 * 0 the last page, 1 more pages (cursor holds the next one), -1 malformed (no
 * messages array, or more pages without a cursor that fits cursize).
 * Exposed for unit tests and the fuzz target. */
int slack_history_match(json_t *answer, const char *org_id, const char *const *refs, size_t n,
			bool *found, char *cursor, size_t cursize);

#endif
