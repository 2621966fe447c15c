/* slack_home.h - the app's Home tab in Slack (app_home_opened -> views.publish).
 *
 * A member sees who is on call now (each team of the org), their own next
 * shifts and the open incidents: the answers of `/oncall now [TEAM]`,
 * `/oncall when` and `/incident list`, run through the same dispatch path as
 * typed commands (so the Home can never say something the commands would
 * not) and rendered by the Slack renderer, their sections becoming Home
 * blocks; buttons are left out (a Home view has no response_url to answer a
 * click through). Anyone else gets a short Home saying how to join. Opening
 * the Home never creates an org or a member.
 *
 * Slack's limits hold: at most SLACK_HOME_BLOCKS blocks (what doesn't fit is
 * replaced by one line naming the command that shows it), section text at
 * most 3000 characters (the renderer splits longer text), headers at most 150.
 *
 * The builder (slack_home_init .. slack_home_body) is pure; slack_home_build()
 * runs the commands and needs a worker (its store). */
#ifndef WK_SLACK_HOME_H
#define WK_SLACK_HOME_H

#include <stddef.h>

#include <jansson.h>

#include "bot/reply.h"

struct worker;

#define SLACK_HOME_BLOCKS 100
#define SLACK_HOME_HEADER_MAX 150

struct slack_home {
	json_t *blocks;
	size_t dropped;		/* parts that did not fit */
};

void slack_home_init(struct slack_home *h);
void slack_home_free(struct slack_home *h);
/* One part: a header, then r's text and sections as the renderer makes them
 * (no buttons); more is what to type to see it whole when it does not fit. */
void slack_home_part(struct slack_home *h, const char *heading, const struct reply *r, const char *more);
/* The views.publish body for user_id, {"user_id":…,"view":{"type":"home",
 * "blocks":[…]}} (the caller's reference). Consumes nothing: h may be freed
 * after. NULL only when the user id can't be encoded. */
json_t *slack_home_body(const struct slack_home *h, const char *user_id);

/* The whole Home of user in Slack workspace team, as a views.publish body
 * (the caller's reference), NULL when the store failed (why says so). Worker
 * thread. */
json_t *slack_home_build(struct worker *w, const char *team, const char *user, char *why, size_t whysize);

#endif
