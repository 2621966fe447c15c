/* oncall_org.c - `/oncall org`: the workspace's own settings (its time zone
 * for people without one, its phone region for national numbers). */
#include "bot/org.h"
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
