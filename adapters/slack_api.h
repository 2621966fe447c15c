/* slack_api.h - calls to the Slack Web API that a worker waits for.
 *
 * Requests go through courier_call() (bot/courier.h) to cfg->slack_api_url
 * with the bot token as "Authorization: Bearer xoxb-..."; arguments travel in
 * the query string, as the official SDK sends users.info. Slack answers HTTP
 * 200 for most errors, so the `ok` field decides, not the status; 429 carries
 * Retry-After.
 *
 * Thread: any worker (blocks up to 10 s). cfg is only read. why gets one
 * sentence for logs or chat, never the token. */
#ifndef WK_SLACK_API_H
#define WK_SLACK_API_H

#include <stddef.h>

#include "bot/config.h"

/* users.info?user=<user_id>: the user's profile email.
 *   0   email holds a valid address (bot/mail.h mail_address_valid()).
 *   1   no usable email: the profile has none or an invalid one, or Slack said
 *       ok:false with a per-user error (user_not_found, user_not_visible,
 *       missing_scope - the app lacks users:read.email); why names the code.
 *  -1   nothing known: not configured (slack.bot_token empty), invalid user id,
 *       transport failure, 429 (why gives Retry-After), other HTTP statuses,
 *       malformed JSON, or ok:false with any other code (invalid_auth, ...).
 * email is "" unless 0 is returned. user_id must be [A-Za-z0-9]{1,32}. */
int slack_user_email(const struct config *cfg, const char *user_id, char *email, size_t size,
		     char *why, size_t whysize);

#endif
