/* slack_tokens.c - see slack_tokens.h. */
#include "adapters/slack_tokens.h"

#include "bot/util.h"

#include <stdio.h>

int slack_token_for(const struct config *cfg, struct store *s, const char *team_id, char *out, size_t size,
		    char *why, size_t whysize)
{
	(void)s;
	(void)team_id;
	out[0] = '\0';
	if (!cfg->slack_bot_token[0]) {
		snprintf(why, whysize, "sending Slack messages needs slack.bot_token (WK_SLACK_BOT_TOKEN)");
		return 1;
	}
	if (wk_strlcpy(out, cfg->slack_bot_token, size) >= size) {
		out[0] = '\0';
		snprintf(why, whysize, "slack.bot_token is too long");
		return 1;
	}
	return 0;
}

int slack_tokens_forget(const struct config *cfg, struct store *s, const char *team_id)
{
	(void)cfg;
	(void)s;
	(void)team_id;
	return 0;
}
