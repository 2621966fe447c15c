/* slack_users.h - users.info without a waiting worker.
 *
 * slack_users_info_start_in() starts GET <api>/users.info?user=<id> through
 * courier_call_async() (bot/courier.h) with the workspace's bot token; done(arg, resp)
 * runs once when Slack answered or the call failed (10 s at most), on the
 * courier's completion thread: it must only hand resp to a worker.
 * slack_users_info_email() then reads the answer on the worker (the email-invite
 * claim):
 *   0   email holds a valid address (bot/mail.h mail_address_valid()).
 *   1   no usable email: none or an invalid one on the profile, or ok:false
 *       with user_not_found, user_not_visible or missing_scope.
 *  -1   nothing known: transport failure, 429, no ok field, other ok:false.
 * why gets one sentence for logs (never the token).
 *
 * Thread: start from any thread but the loop's; email from any thread. */
#ifndef WK_SLACK_USERS_H
#define WK_SLACK_USERS_H

#include <stddef.h>

#include "bot/config.h"
#include "bot/courier.h"
#include "bot/store.h"

/* users.info for user_id of workspace team_id with that workspace's token
 * (adapters/slack_tokens.h; s is the caller's store, for the token). -1
 * (done not called) when the call can't be made at all: no token, Redis
 * failed, or a user id that is not a Slack id; 0 started. While Slack's 429
 * for users.info is in force (slack_api_limited()) no call is made: done runs
 * at once, on this thread, with a 429 answer and the seconds left. */
int slack_users_info_start_in(const struct config *cfg, struct store *s, const char *team_id,
			      const char *user_id, courier_done_fn done, void *arg);
int slack_users_info_email(const struct courier_response *resp, char *email, size_t size, char *why,
			   size_t whysize);

#endif
