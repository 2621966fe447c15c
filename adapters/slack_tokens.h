/* slack_tokens.h - which bot token a Web API call for one workspace uses.
 *
 * A workspace installed through /slack/install (adapters/slack_oauth.h) has
 * its own bot token, sealed with bot/secrets.h (AES-256-GCM under
 * secrets.key, context "slack:<team>/bot_token") in Redis; it wins over
 * slack.bot_token (WK_SLACK_BOT_TOKEN), which stays the single-workspace
 * setting and the answer for a workspace that never installed. A token never
 * sits in Redis in plain text, and never reaches a log line.
 *
 * Thread: any thread with its own store (workers, outbox senders); never the
 * loop thread or the courier's (they must not wait on Redis). Opened tokens are
 * cached in process memory, checked against the stored value's stamp so an
 * uninstall or a reinstall on another instance is seen at the next call. */
#ifndef WK_SLACK_TOKENS_H
#define WK_SLACK_TOKENS_H

#include <stddef.h>

#include "bot/config.h"
#include "bot/store.h"

/* Long enough for any xoxb- token Slack issues. */
#define SLACK_TOKEN_SIZE 256

/* The bot token for team_id (a Slack team id, "T0123") into out.
 *   0   out holds a token (the installed one, else slack.bot_token).
 *   1   none: the workspace is not installed (or was uninstalled) and
 *       slack.bot_token is empty; why says which setting or step is missing.
 *  -1   Redis failed or the stored token does not open (wrong secrets.key):
 *       try again later; why says which.
 * s may be NULL: then only slack.bot_token is considered. */
int slack_token_for(const struct config *cfg, struct store *s, const char *team_id, char *out, size_t size,
		    char *why, size_t whysize);

/* Forget team_id's installed token (app_uninstalled, tokens_revoked): the
 * sealed value goes, so the next call sees none. 0, or -1 when Redis failed. */
int slack_tokens_forget(const struct config *cfg, struct store *s, const char *team_id);

#endif
