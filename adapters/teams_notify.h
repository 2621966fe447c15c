/* teams_notify.h - a notification to one person in Microsoft Teams: the
 * outbox's "teams" channel (bot/outbox.h), the Teams twin of slack_dm_reply().
 *
 * The person's Teams account (their 29: id, the serviceUrl of their tenant,
 * and their 1:1 chat with the bot once known) is what the Teams adapter
 * records when they write to the bot (wk:{org}:teams_user:<member>). With no
 * 1:1 chat yet, one is created (POST {serviceUrl}/v3/conversations, which
 * gives the existing chat when there is one) and remembered. The message is
 * the reply as an Adaptive Card, buttons included (a page's Acknowledge). The
 * record holds the tenant too: the org may be a Slack one the tenant is
 * linked to (bot/org_link.h).
 *
 * Exactly once: the Bot Connector has no idempotency key and a bot cannot
 * read a chat's history, so an attempt whose outcome is unknown (the POST
 * went out, no answer came) cannot be looked up: the outbox sends it again
 * (at-least-once; README says so).
 *
 * Results as teams_send(): 0 sent, 1 permanent (never wrote to the bot, the
 * user blocked or uninstalled it: the outbox falls back to the next
 * channel), -1 retry later (*retry_after seconds from a 429, else -1), 2
 * unknown outcome. Thread: an outbox sender (blocks on the Connector). */
#ifndef WK_TEAMS_NOTIFY_H
#define WK_TEAMS_NOTIFY_H

#include <stddef.h>

#include "bot/config.h"
#include "bot/reply.h"
#include "bot/store.h"

int teams_dm_reply(const struct config *cfg, struct store *s, const char *org_id, const char *member,
		   const struct reply *r, long *retry_after, char *why, size_t whysize);

/* A post for everyone in a conversation (a handoff notice, an incident
 * step), named by its handle (teams.h): results as above. */
int teams_place_post(const struct config *cfg, struct store *s, const char *org_id, const char *handle,
		     const struct reply *r, long *retry_after, char *why, size_t whysize);

/* The card of incident n_text (decimal) in the conversation handle: posted
 * the first time, then replaced in place (PUT) with the state of the moment,
 * which is harmless to repeat; a card deleted in Teams is posted anew. Its
 * activity id is kept in the incident's hash (field teams_card). Teams cannot
 * be asked whether a post whose answer was lost arrived, so such a post is
 * made again (the card may then show twice). Results as above. */
int teams_card_send(const struct config *cfg, struct store *s, const char *org_id, const char *handle,
		    const char *n_text, long *retry_after, char *why, size_t whysize);

/* The name and Teams id of a member as recorded (teams_card.h's name
 * callback); arg is a struct teams_names. */
struct teams_names {
	struct store *store;
	const char *org;
};
int teams_member_name(void *arg, const char *id, char *out, size_t size, char *teams_id, size_t idsize);
/* Names are kept a minute per process (a card naming who is on call would
 * cost a round trip per person); the adapter drops a person's entry here when
 * it records them anew. */
void teams_names_forget(const char *org, const char *id);

#endif
