/* oncall_org.c - `/oncall org`: the workspace's own settings (its time zone
 * for people without one, its phone region for national numbers). */
#include "bot/org.h"
#include "bot/org_link.h"
#include "bot/phone.h"
#include "bot/tz.h"
#include "bot/util.h"
#include "commands/oncall.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum cmd_result oncall_org(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct org_settings o;
	struct reply_section *sec;
	const struct phone_region *reg;
	char zone[96], region[96];

	(void)argc;
	(void)argv;
	if (org_settings_get(ctx->store, ctx->org_id, &o) < 0)
		return CMD_STORE_ERROR;
	if (o.tz[0])
		snprintf(zone, sizeof(zone), "%s", o.tz);
	else
		snprintf(zone, sizeof(zone), "%s (the configured default)", ctx->cfg->rotation_timezone);
	reg = phone_region_find(o.phone_region);
	if (reg)
		snprintf(region, sizeof(region), "%s (%s, +%s)", reg->code, reg->name, reg->calling);
	else
		snprintf(region, sizeof(region), "(not set: numbers need + and the country code)");
	reply_textf(r, "This workspace's settings (%s mode):", ctx->team_mode ? "team" : "solo");
	sec = reply_section(r, "Admins change them with `/oncall org tz ZONE` and `/oncall org "
			       "phone_region CODE` (`default` / `off` clears).");
	reply_field(sec, "Time zone (for people without their own)", zone);
	reply_field(sec, "Phone region (for numbers without +)", region);
	return CMD_OK;
}

static enum cmd_result set_setting(struct cmd_ctx *ctx, enum org_setting which, const char *value,
				   const char *what, const char *shown, struct reply *r)
{
	int rc = org_setting_set(ctx->store, ctx->org_id, which, value, ctx->req->user_id,
				 platform_name(ctx->req->platform), ctx->now_ms);

	if (rc < 0)
		return CMD_STORE_ERROR;
	reply_textf(r, rc == 1 ? "The workspace's %s is already %s." : "The workspace's %s is now %s.",
		    what, shown);
	return CMD_OK;
}

enum cmd_result oncall_org_tz(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char zone[TZ_NAME_MAX + 1], shown[TZ_NAME_MAX + 48];

	(void)argc;
	if (strcasecmp(argv[0], "default") == 0) {
		snprintf(shown, sizeof(shown), "the configured default, %s", ctx->cfg->rotation_timezone);
		return set_setting(ctx, ORG_SETTING_TZ, "", "time zone", shown, r);
	}
	/* "america/new_york" means America/New_York, as for `/oncall me tz`. */
	if (tz_get(argv[0]))
		wk_strlcpy(zone, argv[0], sizeof(zone));
	else if (tz_canonical(argv[0], zone, sizeof(zone)) < 0) {
		char typed[48];
		reply_textf(r, "I did not change the workspace's time zone: `%s` is not an IANA time zone; "
			       "write it like Europe/Berlin or America/Chicago (or `default`).",
			    reply_escape(typed, sizeof(typed), argv[0]));
		return CMD_REFUSED;
	}
	return set_setting(ctx, ORG_SETTING_TZ, zone, "time zone", zone, r);
}

enum cmd_result oncall_org_phone_region(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	const struct phone_region *reg;
	char shown[96], codes[200];

	(void)argc;
	if (strcasecmp(argv[0], "off") == 0 || strcasecmp(argv[0], "default") == 0)
		return set_setting(ctx, ORG_SETTING_PHONE_REGION, "", "phone region",
				   "not set (numbers need + and the country code)", r);
	if (!(reg = phone_region_find(argv[0]))) {
		char typed[16];
		reply_textf(r, "I did not change the phone region: `%s` is not one I know. Regions: %s "
			       "(or `off`). Numbers with + and the country code work everywhere.",
			    reply_escape(typed, sizeof(typed), argv[0]), phone_region_codes(codes, sizeof(codes)));
		return CMD_REFUSED;
	}
	snprintf(shown, sizeof(shown), "%s (%s, +%s)", reg->code, reg->name, reg->calling);
	return set_setting(ctx, ORG_SETTING_PHONE_REGION, reg->code, "phone region", shown, r);
}

/* Mint a code where the org lives; redeem it in the Teams tenant that joins. */
enum cmd_result oncall_org_link(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char code[INVITE_CODE_LEN + 1], typed[48], target[96];
	int rc;

	if (argc == 0) {
		rc = org_link_mint(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
				   ctx->now_ms, code);
		if (rc < 0)
			return CMD_STORE_ERROR;
		if (rc == 1) {
			reply_textf(r, "Only an *owner* can link a Teams tenant to this workspace.");
			return CMD_REFUSED;
		}
		if (rc == 2) {
			reply_textf(r, "This workspace is linked with a Teams tenant already.");
			return CMD_REFUSED;
		}
		r->personal = true;
		reply_textf(r, "Link code `%s` (works once, for %d minutes).", code, LINK_CODE_TTL_S / 60);
		reply_section(r, "In Microsoft Teams, in the tenant to link, the first person to talk to Watchkeeper "
				 "types `oncall org link %s` in a chat with the bot. From then on that tenant's people "
				 "use this workspace's on-call: someone whose Teams email is a member's email here is "
				 "that member; an admin maps anyone else with `%s map @teams-user @member`.",
			      code, dispatch_typed_name(ctx, "invite", typed, sizeof(typed)));
		return CMD_OK;
	}
	if (ctx->req->platform != PLATFORM_TEAMS) {
		reply_textf(r, "Type that in Microsoft Teams, in a chat with the bot: the code links the Teams "
			       "tenant it is typed in to the workspace that made it.");
		return CMD_REFUSED;
	}
	if (invite_code_normalize(argv[0], code) < 0) {
		reply_textf(r, "`%s` is not a link code. Codes are 32 letters and digits, from `/oncall org link` "
			       "in the workspace to join.", reply_escape(typed, sizeof(typed), argv[0]));
		return CMD_REFUSED;
	}
	rc = org_link_redeem(ctx->store, ctx->org_id, ctx->req->user_id, code, ctx->now_ms, target, sizeof(target));
	switch (rc) {
	case LINK_DONE:
		reply_textf(r, "Linked: this Teams tenant now uses the on-call of `%s`, and you are the owner who "
			       "made the code. Others are matched by email when they first write to me.", target);
		return CMD_OK;
	case LINK_BAD_CODE:
		reply_textf(r, "That link code is unknown, used or expired; make a new one with `/oncall org link`.");
		return CMD_REFUSED;
	case LINK_NOT_EMPTY:
		reply_textf(r, "This tenant already has on-call data of its own (rotations, incidents or other "
			       "members), and two workspaces with data are never merged. Link a tenant before "
			       "anyone uses Watchkeeper there.");
		return CMD_REFUSED;
	case LINK_SAME:
		reply_textf(r, "That code is for a Teams tenant; link a Teams tenant to a Slack workspace's on-call.");
		return CMD_REFUSED;
	case LINK_TAKEN:
		reply_textf(r, "That workspace has a Teams tenant linked already.");
		return CMD_REFUSED;
	default:
		return CMD_STORE_ERROR;
	}
}
