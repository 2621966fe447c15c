/* incident_card.h - the incident's message in a channel: INC-n, state,
 * severity, summary, service, who acknowledged / resolved and when, the
 * escalation step, and the buttons that still apply. Posted once, then edited
 * in place (chat.update) so the channel always shows the current state.
 *
 * The path, none of it on a worker or the engine thread waiting for Slack:
 *   1. Every change of an incident with a card channel (`card_ch`, set when
 *      it opens: the channel it was opened in, else its service's channel,
 *      else its team's announce channel) arms the timer "inc_card:<org>:<n>"
 *      in the same atomic step, only if none is waiting (wk_card in
 *      INCIDENT_LUA): a burst of changes is one update. Escalation steps,
 *      which write their timeline outside a script, call
 *      incident_card_schedule().
 *   2. The timer (incident_card_fire, engine thread) queues one outbox
 *      notification on channel "slack_card" for the card channel, text "<n>",
 *      deduplicated by the timer's due instant (a re-fired timer queues
 *      nothing new), and notes when it fired (card_last_ms): the next one is
 *      due at least INCIDENT_CARD_GAP_MS later, so a card changes at most
 *      once a second.
 *   3. An outbox sender (incident_card_send) renders the incident as it is
 *      *then*, and posts it (chat.postMessage with the outbox's metadata, so
 *      an attempt with an unknown outcome is looked up, not posted twice) or,
 *      once the card's ts is recorded, updates it (chat.update). An update
 *      renders the whole current state, so doing one twice is harmless: the
 *      outbox's at-least-once retries are fine for updates. A card deleted in
 *      Slack (message_not_found) is posted anew.
 *   A post's answer may be lost (a timeout, kill -9) after Slack posted it:
 *   the card's notification is then looked up by the outbox and counted sent,
 *   but its ts is unknown. So each post first records its attempt on the
 *   incident (card_ref: the outbox's reference and the notification id, both
 *   in the message's metadata), and a send that has no ts but such an attempt
 *   finds that message (slack_find_note) and updates it instead of posting a
 *   second card.
 *   Console orgs get no card: their requests come from no Slack channel.
 *
 * Thread: incident_card_fire on the engine; incident_card_send on an outbox
 * sender (it waits for Slack); the others from any thread with its own store. */
#ifndef WK_INCIDENT_CARD_H
#define WK_INCIDENT_CARD_H

#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/incident.h"
#include "bot/reply.h"
#include "bot/store.h"

struct tz;
struct engine_ctx;

/* The card of inc as people see it, times in zone z: its headline, a section
 * with who acknowledged / resolved and when and where the escalation is, and
 * Acknowledge / Escalate (triggered), Resolve (not resolved) buttons with the
 * actions incident.ack / incident.escalate / incident.resolve, value = n.
 * now_ms: the year is shown only when it is not now's (when_format_at). */
void incident_card_render(const struct incident *inc, const struct tz *z, int64_t now_ms, struct reply *r);

/* The buttons of inc alone (the DM of a paged person carries them too). */
void incident_card_buttons(const struct incident *inc, struct reply *r);

/* Arm the card timer of incident n as a change would (no-op without a card
 * channel or when one is waiting). 0 or -1. */
int incident_card_schedule(struct store *s, const char *org_id, int64_t n);

/* Timer kind "inc_card". */
int incident_card_fire(struct engine_ctx *ctx);

/* Post or update the card of incident n (decimal text) in channel ch. Slack
 * results as slack_channel_post (0 sent, 1 permanent, -1 retry, 2 unknown: only
 * a post's; *retry_after seconds of a 429). note: the outbox's metadata for a
 * post. A card the app may not post (not in the channel) says so on the
 * incident's timeline, once. */
struct slack_note;
int incident_card_send(const struct config *cfg, struct store *s, const char *org_id, const char *ch,
		       const char *n, const struct slack_note *note, long *retry_after, char *why,
		       size_t whysize);

/* The card of incident n_text (decimal) as it is now into r, for the
 * console's preview. 0, 1 no such incident, -1 the store failed. */
int incident_card_reply(const struct config *cfg, struct store *s, const char *org_id, const char *n_text,
			struct reply *r);

/* Was a card of this org refused in channel ch because the app is not in it
 * (remembered for a day)? For the open reply: "invite me first". 1 yes, 0 no. */
int incident_card_not_in_channel(struct store *s, const char *org_id, const char *ch);

#endif
