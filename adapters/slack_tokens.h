/* slack_tokens.h - which bot token a Web API call for one workspace uses.
 *
 * A workspace installed through /slack/install (adapters/slack_oauth.h) has
 * its own bot token, sealed with bot/secrets.h (AES-256-GCM under
 * secrets.key, context "slack:<team>/bot_token") in Redis; it wins over
 * slack.bot_token (WK_SLACK_BOT_TOKEN), which stays the single-workspace
 * setting and the answer for a workspace that never installed. A token never
 * sits in Redis in plain text, and never reaches a log line.
 *
 * Keys:
 *   wk:{slack:<team>}:slack_install  hash: bot_token (sealed) bot_user_id
 *                                    team_name scopes app_id installer
 *                                    installed_ms
 *   wk:slack_installs                set of installed team ids (what
 *                                    `watchkeeper secrets rotate` walks; the
 *                                    org itself is made by its first user)
 *
 * Thread: any thread with its own store (workers, outbox senders, the
 * operator tools); never the loop thread or the courier's (they must not wait
 * on Redis). Opened tokens are cached in process memory keyed by team, each
 * with the sealed text it came from: a call reads the sealed text (one HGET)
 * and reuses the opened token only while Redis still holds that same text, so
 * an uninstall or a reinstall on another instance is seen at the next call,
 * and a repeat costs no decryption. */
#ifndef WK_SLACK_TOKENS_H
#define WK_SLACK_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/store.h"

/* Long enough for any xoxb- token Slack issues. */
#define SLACK_TOKEN_SIZE 256
#define SLACK_TOKENS_INDEX "wk:slack_installs"
#define SLACK_TOKENS_FIELD "bot_token"

/* The bot token for team_id (a Slack team id, "T0123") into out.
 *   0   out holds a token (the installed one, else slack.bot_token).
 *   1   none: the workspace is not installed (or was uninstalled) and
 *       slack.bot_token is empty; why says which setting or step is missing.
 *  -1   Redis failed or the stored token does not open (wrong secrets.key):
 *       try again later; why says which.
 * s may be NULL, and team_id NULL or "" (not a Slack org): then only
 * slack.bot_token is considered. */
int slack_token_for(const struct config *cfg, struct store *s, const char *team_id, char *out, size_t size,
		    char *why, size_t whysize);

/* What an install (oauth.v2.access) told about a workspace. Strings are
 * copied; all but team_id may be "". */
struct slack_install {
	const char *team_id;
	const char *team_name;
	const char *bot_user_id;
	const char *app_id;
	const char *scopes;
	const char *installer;	/* authed_user.id */
	int64_t installed_ms;
};

/* Seal token (context slack_tokens_context()) and store it with what in
 * says, replacing any earlier install of that team, in one step. 0, or -1
 * with why: no secrets.key, an invalid team id, a token too long, Redis. */
int slack_tokens_install(const struct config *cfg, struct store *s, const struct slack_install *in,
			 const char *token, char *why, size_t whysize);

/* Forget team_id's installed token (app_uninstalled, tokens_revoked): the
 * sealed value goes, so the next call sees none. 0, or -1 when Redis failed. */
int slack_tokens_forget(const struct config *cfg, struct store *s, const char *team_id);

/* The install hash's key and the token's sealing context for team_id; -1
 * when team_id is not a Slack id (or does not fit). For `secrets rotate`. */
int slack_tokens_key(const char *team_id, char *out, size_t size);
int slack_tokens_context(const char *team_id, char *out, size_t size);

/* The team of a Slack org id ("slack:T0123" -> "T0123"), else NULL. */
const char *slack_tokens_team_of(const char *org_id);

#endif
