/* oncall_me.c - `/oncall me ...`: people edit their own profile. */
#include "adapters/twilio.h"
#include "bot/feeds.h"
#include "bot/member.h"
#include "bot/phone.h"
#include "commands/oncall.h"

#include <string.h>
#include <strings.h>

/* ---- /oncall me: people edit their own profile ---- */

enum cmd_result oncall_me(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct member m;
	struct reply_section *sec;
	char zone[TZ_NAME_MAX + 48];
	int got;

	(void)argc;
	(void)argv;
	got = member_get(ctx->store, ctx->org_id, ctx->req->user_id, &m);
	if (got < 0)
		return CMD_STORE_ERROR;
	if (got > 0) {
		reply_textf(r, "You have no profile here yet.");
		return CMD_OK;
	}
	reply_textf(r, "Your profile, <@%s> (*%s*):", m.id, role_name(m.role));
	sec = reply_section(r, "Change a field with `/oncall me name|email|phone|tz|incidents VALUE`.");
	reply_field(sec, "Name", m.name[0] ? m.name : "(not set)");
	reply_field(sec, "Email", m.email[0] ? m.email : "(not set)");
	reply_field(sec, "Phone", m.phone[0] ? m.phone : "(not set)");
	/* Without their own, times read in the workspace's zone: say which. */
	snprintf(zone, sizeof(zone), "(not set: times are shown in %s)", tz_name(oncall_zone_for(ctx, NULL)));
	reply_field(sec, "Time zone", m.tz[0] ? m.tz : zone);
	reply_field(sec, "Incident notifications", m.incidents ? "on" : "off (`/oncall me incidents on`)");
	return CMD_OK;
}

static enum cmd_result set_field(struct cmd_ctx *ctx, enum member_field f, const char *label,
				 const char *value, struct reply *r)
{
	char shown[300];

	if (member_set_field(ctx->store, ctx->org_id, ctx->req->user_id, f, value) < 0)
		return CMD_STORE_ERROR;
	reply_textf(r, "Your %s is now %s.", label, reply_escape(shown, sizeof(shown), value));
	return CMD_OK;
}

static enum cmd_result refuse_value(const char *field, const char *why, struct reply *r)
{
	reply_textf(r, "I did not change your %s: %s.", field, why);
	return CMD_REFUSED;
}

enum cmd_result oncall_me_name(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct buf name = BUF_INIT(512);
	char why[160];
	enum cmd_result res;

	for (int i = 0; i < argc; i++)
		buf_printf(&name, "%s%s", i ? " " : "", argv[i]);
	if (member_check_name(buf_cstr(&name), why, sizeof(why)) < 0)
		res = refuse_value("name", why, r);
	else
		res = set_field(ctx, FIELD_NAME, "name", buf_cstr(&name), r);
	buf_free(&name);
	return res;
}

enum cmd_result oncall_me_email(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char why[160];

	(void)argc;
	if (member_check_email(argv[0], why, sizeof(why)) < 0)
		return refuse_value("email", why, r);
	return set_field(ctx, FIELD_EMAIL, "email", argv[0], r);
}

enum cmd_result oncall_me_phone(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char why[300], phone[PHONE_E164_SIZE];
	struct buf typed = BUF_INIT(PHONE_INPUT_MAX);
	struct org_settings org;
	struct member m;
	enum cmd_result res;
	bool too_long = false;

	/* "+1 (555) 555-0123" arrives as three words. */
	for (int i = 0; i < argc; i++)
		if (buf_printf(&typed, "%s%s", i ? " " : "", argv[i]) < 0)
			too_long = true;
	if (org_settings_get(ctx->store, ctx->org_id, &org) < 0) {
		buf_free(&typed);
		return CMD_STORE_ERROR;
	}
	if (too_long || phone_normalize(buf_cstr(&typed), org.phone_region, phone, sizeof(phone),
					       why, sizeof(why)) < 0 ||
	    member_check_phone(phone, why, sizeof(why)) < 0) {
		if (too_long)
			snprintf(why, sizeof(why), "that is too long for a phone number");
		buf_free(&typed);
		return refuse_value("phone", why, r);
	}
	buf_free(&typed);
	if (member_get(ctx->store, ctx->org_id, ctx->req->user_id, &m) < 0)
		return CMD_STORE_ERROR;
	res = set_field(ctx, FIELD_PHONE, "phone", phone, r);
	/* SMS replies are matched to people by this index (two keys in two slots:
	 * two steps; a stale entry is ignored because the member's phone must match). */
	if (res == CMD_OK) {
		if (m.phone[0] && strcmp(m.phone, phone) != 0)
			twilio_phone_index_del(ctx->store, ctx->org_id, ctx->req->user_id, m.phone);
		twilio_phone_index_set(ctx->store, ctx->org_id, ctx->req->user_id, phone);
	}
	return res;
}

enum cmd_result oncall_me_tz(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char zone[128];

	(void)argc;
	/* "europe/berlin" means Europe/Berlin: stored in the zone's own spelling. */
	if (!tz_get(argv[0]) && tz_canonical(argv[0], zone, sizeof(zone)) < 0)
		return refuse_value("time zone", "that is not an IANA time zone; write it like "
						 "Europe/Berlin or America/Chicago", r);
	return set_field(ctx, FIELD_TZ, "time zone", tz_get(argv[0]) ? argv[0] : zone, r);
}

/* Each member's own switch, which beats every `/delegate` setting (bot/delegate.h).
 * On is the field's absence, so members who never touched it are on. */
enum cmd_result oncall_me_incidents(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	bool on = strcasecmp(argv[0], "on") == 0;

	(void)argc;
	if (!on && strcasecmp(argv[0], "off") != 0)
		return refuse_value("incident notifications", "say `on` or `off`", r);
	if (member_set_field(ctx->store, ctx->org_id, ctx->req->user_id, FIELD_INCIDENTS, on ? "" : "off") < 0)
		return CMD_STORE_ERROR;
	reply_textf(r, on ? "Incident notifications to you are *on*: incidents that reach you page you."
			  : "Incident notifications to you are *off*: no incident pages you, whatever `/delegate` "
			    "says, until `/oncall me incidents on`.");
	return CMD_OK;
}
