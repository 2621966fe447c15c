/* oncall_announce.c - `/oncall announce` and `/oncall reminder`: the team's
 * handoff announcements and daily reminder. */
#include "bot/handoff.h"
#include "bot/overrides.h"
#include "bot/util.h"
#include "bot/when.h"
#include "commands/oncall.h"

#include <string.h>

enum cmd_result oncall_announce(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], channel[32] = "";
	const char *team_name = NULL;
	bool off = strcasecmp(argv[0], "off") == 0;

	if (argc == 3 && strcasecmp(argv[1], "team") == 0)
		team_name = argv[2];
	else if (argc != 1) {
		reply_textf(r, "Usage: `/oncall announce here|#channel|off [team NAME]`.");
		return CMD_REFUSED;
	}
	if (!off && ctx->req->platform != PLATFORM_SLACK) {
		reply_textf(r, "Handoff announcements go to a Slack channel, and there is none here: run "
			       "`/oncall announce here` in Slack. `/oncall announce off` works anywhere.");
		return CMD_REFUSED;
	}
	if (!off)
		handoff_channel_parse(argv[0], ctx->req->channel_id, channel, sizeof(channel));
	if (!off && !channel[0]) {
		reply_textf(r, "Say `here` for this channel, pick a channel with #, or `off`. Direct "
			       "messages can't hold announcements.");
		return CMD_REFUSED;
	}
	if (oncall_pick_team(ctx, team_name, team, sizeof(team), r) != 0)
		return team_name && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (handoff_set_announce(ctx->store, ctx->org_id, team, channel, ctx->req->user_id,
				 platform_name(ctx->req->platform), ctx->now_ms) < 0)
		return CMD_STORE_ERROR;
	if (off)
		reply_textf(r, "Handoffs are no longer announced in a channel.");
	else
		reply_textf(r, "Each handoff will be announced in <#%s>. If the app is not in that channel "
			       "yet, add it: `/invite @Watchkeeper`.", channel);
	return CMD_OK;
}

enum cmd_result oncall_reminder(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], value[16], zone_name[64], why[200], when[64];
	const char *tz = NULL, *team_name = NULL;
	int64_t next_ms = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcasecmp(argv[i], "tz") == 0 && i + 1 < argc)
			tz = argv[++i];
		else if (strcasecmp(argv[i], "team") == 0 && i + 1 < argc)
			team_name = argv[++i];
		else {
			reply_textf(r, "Usage: `/oncall reminder HH:MM|off [tz ZONE] [team NAME]`.");
			return CMD_REFUSED;
		}
	}
	if (oncall_pick_team(ctx, team_name, team, sizeof(team), r) != 0)
		return team_name && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	rc = handoff_set_reminder(ctx->store, ctx->cfg, ctx->org_id, team, argv[0], tz, ctx->req->user_id,
				  platform_name(ctx->req->platform), why, sizeof(why));
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 1) {
		reply_textf(r, "I did not change the reminder: %s.", why);
		return CMD_REFUSED;
	}
	if (handoff_get_reminder(ctx->store, ctx->cfg, ctx->org_id, team, value, sizeof(value), zone_name,
				 sizeof(zone_name), &next_ms) < 0)
		return CMD_STORE_ERROR;
	if (strcmp(value, "off") == 0) {
		reply_textf(r, "The daily on-call reminder is off for this team.");
	} else {
		const struct tz *z = tz_get(zone_name);
		reply_textf(r, "Whoever is on call gets a reminder every day at %s %s.", value, zone_name);
		if (next_ms && z)
			reply_section(r, "Next: %s.", when_format(z, next_ms / 1000, when, sizeof(when)));
	}
	return CMD_OK;
}
