/* teams_card.h - a neutral reply (bot/reply.h) as a Microsoft Teams message:
 * an Adaptive Card 1.5 (teams.md 2.5).
 *
 *   headline, section text   TextBlocks (wrap), *bold* as **bold**
 *   fields                   a FactSet per section
 *   <@ID>                    a mention: <at>NAME</at> in the text and a
 *                            mention entity in the card's msteams.entities,
 *                            when the name is known; else "@ID" as text
 *   buttons                  Action.Execute (verb = the action id, data =
 *                            {action, value}) with an Action.Submit of the
 *                            same data as its fallback for older clients
 *
 * Both actions come back with data {action, value}, so one parser serves the
 * invoke and the message activity (teams_card_action()).
 *
 * Thread: pure functions; any thread. The name callback runs during the call. */
#ifndef WK_TEAMS_CARD_H
#define WK_TEAMS_CARD_H

#include <stddef.h>

#include <jansson.h>

#include "bot/buf.h"
#include "bot/reply.h"

/* Teams refuses messages over about 28 KB; a card past this does not render. */
#define TEAMS_CARD_MAX (26 * 1024)

/* The display name of the member with chat id id into out (size bytes), and
 * the id Teams knows them by into teams_id (an AAD object id or a 29: id);
 * 0 when known, -1 when not (then the mention is shown as "@id"). */
typedef int (*teams_name_fn)(void *arg, const char *id, char *out, size_t size, char *teams_id,
			     size_t idsize);

/* The card object alone (for an invoke response's value). 0, or -1 when it
 * would exceed TEAMS_CARD_MAX (out then holds a partial card: discard it). */
int teams_card_render(const struct reply *r, teams_name_fn names, void *arg, struct buf *out);

/* A whole message activity carrying the card, with a plain-text summary for
 * notifications. 0 or -1 as above. */
int teams_activity_render(const struct reply *r, teams_name_fn names, void *arg, struct buf *out);

/* A short plain message activity {"type":"message","text":...} (greetings,
 * notes); text is sent as is, JSON-escaped. */
int teams_text_activity(const char *text, struct buf *out);

/* The action a card sent back (an Action.Execute invoke's value.action, or an
 * Action.Submit message's value): action id ("oncall.join") and value into
 * the buffers. 0, or -1 when it is not one of ours or does not fit. */
int teams_card_action(json_t *data, const char *verb, char *action, size_t asize, char *value,
		      size_t vsize);

#endif
