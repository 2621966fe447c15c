/* oncall.c - `/oncall`: who is on call now and next, the rotation order, and
 * joining, leaving, adding and removing people.
 *
 * The foundation has one weekly rotation per org whose handoff and zone come
 * from the config (rotation.*); the rotation issue moves them into Redis per
 * team. Members are kept in order in Redis (bot/roster.h); shifts are computed
 * from the order, never stored, so a change applies from the next computation. */
#include "bot/cmdline.h"
#include "bot/member.h"
#include "bot/roster.h"
#include "bot/rotation.h"
#include "bot/tz.h"
#include "commands/commands.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* "Mon 30 Nov 09:00 CET" in the rotation's zone. */
static const char *format_when(const struct cmd_ctx *ctx, int64_t t, char *out, size_t size)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tz_local l;

	tz_to_local(ctx->cfg->rotation.zone, t, &l);
	snprintf(out, size, "%s %d %s %02d:%02d %s", wd[l.wday], l.day, mon[l.month - 1], l.hour,
		 l.minute, l.abbr);
	return out;
}

static void describe_rotation(const struct cmd_ctx *ctx, char *out, size_t size)
{
	static const char *const wd[] = { "Sunday", "Monday", "Tuesday", "Wednesday",
					  "Thursday", "Friday", "Saturday" };
	const struct rotation_spec *spec = &ctx->cfg->rotation;
	struct shift sh;
	struct tz_local l;

	/* The weekday comes from a real shift start, so it is right in any zone. */
	rotation_shift_by_index(spec, 1, 0, &sh);
	tz_to_local(spec->zone, sh.start, &l);
	snprintf(out, size, "weekly, handoff %s %02d:%02d %s", wd[l.wday], spec->handoff_hour,
		 spec->handoff_minute, ctx->cfg->rotation_timezone);
}

static void offer_join(struct cmd_ctx *ctx, const struct roster *ro, struct reply *r)
{
	if (roster_find(ro, ctx->req->user_id) < 0)
		reply_button(r, "Join the rotation", "oncall.join", "", BUTTON_PRIMARY);
}

static enum cmd_result oncall_now(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct roster ro;
	struct shift sh;
	char until[64], from[64];

	(void)argc;
	(void)argv;
	if (roster_load(ctx->store, ctx->org_id, &ro) < 0)
		return CMD_STORE_ERROR;
	if (ro.n == 0) {
		reply_textf(r, "Nobody is on call: the rotation is empty. Use `/oncall join` to take shifts, "
			       "or `/oncall add @someone`.");
		offer_join(ctx, &ro, r);
		roster_free(&ro);
		return CMD_OK;
	}
	rotation_shift_at(&ctx->cfg->rotation, ro.n, ctx->now_ms / 1000, &sh);
	format_when(ctx, sh.end, until, sizeof(until));
	reply_textf(r, "*On call now:* <@%s>, until %s", ro.ids[sh.member], until);
	if (ro.n > 1) {
		struct shift next;
		rotation_shift_by_index(&ctx->cfg->rotation, ro.n, sh.index + 1, &next);
		format_when(ctx, next.start, from, sizeof(from));
		reply_section(r, "*Next:* <@%s>, from %s", ro.ids[next.member], from);
	} else {
		reply_section(r, "Nobody else is in the rotation.");
	}
	offer_join(ctx, &ro, r);
	roster_free(&ro);
	return CMD_OK;
}

static enum cmd_result oncall_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct roster ro;
	struct shift sh;
	struct buf b = BUF_INIT(16384);
	char desc[128];

	(void)argc;
	(void)argv;
	if (roster_load(ctx->store, ctx->org_id, &ro) < 0)
		return CMD_STORE_ERROR;
	describe_rotation(ctx, desc, sizeof(desc));
	if (ro.n == 0) {
		reply_textf(r, "The rotation (%s) is empty. Use `/oncall join` to take shifts.", desc);
		offer_join(ctx, &ro, r);
		roster_free(&ro);
		return CMD_OK;
	}
	rotation_shift_at(&ctx->cfg->rotation, ro.n, ctx->now_ms / 1000, &sh);
	reply_textf(r, "Rotation (%s), %zu %s:", desc, ro.n, ro.n == 1 ? "person" : "people");
	for (size_t i = 0; i < ro.n; i++)
		buf_printf(&b, "%zu. <@%s>%s\n", i + 1, ro.ids[i], i == sh.member ? "  (on call now)" : "");
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
	offer_join(ctx, &ro, r);
	roster_free(&ro);
	return CMD_OK;
}

static enum cmd_result add_user(struct cmd_ctx *ctx, const char *user, bool self, struct reply *r)
{
	long pos;
	int added;

	if (roster_add(ctx->store, ctx->org_id, ctx->req->platform, ctx->req->user_id, user,
		       ctx->now_ms, &pos, &added) < 0)
		return CMD_STORE_ERROR;
	if (added < 0) {
		reply_textf(r, "<@%s> is not a member of this workspace's Watchkeeper yet. Invite them "
			       "first: `/invite link` or `/invite email`.", user);
		return CMD_REFUSED;
	}
	if (!added) {
		if (self)
			reply_textf(r, "You are already in the rotation, at position %ld.", pos);
		else
			reply_textf(r, "<@%s> is already in the rotation, at position %ld.", user, pos);
		return CMD_OK;
	}
	if (self)
		reply_textf(r, "You joined the rotation at position %ld.", pos);
	else
		reply_textf(r, "Added <@%s> to the rotation at position %ld.", user, pos);
	return CMD_OK;
}

static enum cmd_result remove_user(struct cmd_ctx *ctx, const char *user, bool self, struct reply *r)
{
	int removed;

	if (roster_remove(ctx->store, ctx->org_id, ctx->req->platform, ctx->req->user_id, user,
			  ctx->now_ms, &removed) < 0)
		return CMD_STORE_ERROR;
	if (self)
		reply_textf(r, removed ? "You left the rotation." : "You are not in the rotation.");
	else if (removed)
		reply_textf(r, "Removed <@%s> from the rotation.", user);
	else
		reply_textf(r, "<@%s> is not in the rotation.", user);
	return CMD_OK;
}

static enum cmd_result oncall_join(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	(void)argv;
	return add_user(ctx, ctx->req->user_id, true, r);
}

static enum cmd_result oncall_leave(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	(void)argv;
	return remove_user(ctx, ctx->req->user_id, true, r);
}

/* A mention as the platform sends it: Slack resolves @names into <@U123>; the
 * console has no directory, so there "@bob" is the id itself. */
static int parse_user(struct cmd_ctx *ctx, const char *arg, char *id, size_t size, struct reply *r)
{
	char shown[80];
	int rc = ctx->req->platform == PLATFORM_CONSOLE ? cmdline_plain_mention(arg, id, size)
							 : cmdline_mention(arg, id, size);

	if (rc == 0 && org_member_id_valid(id))
		return 0;
	reply_escape(shown, sizeof(shown), arg);
	if (ctx->req->platform == PLATFORM_CONSOLE)
		reply_textf(r, "`%s` is not a user. Write a name like `@bob`.", shown);
	else
		reply_textf(r, "`%s` is not a user I can see. Mention them with @ and pick the name "
			       "from the list, so Slack links it.", shown);
	return -1;
}

static enum cmd_result oncall_add(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char id[64];

	(void)argc;
	if (parse_user(ctx, argv[0], id, sizeof(id), r) < 0)
		return CMD_REFUSED;
	return add_user(ctx, id, strcmp(id, ctx->req->user_id) == 0, r);
}

static enum cmd_result oncall_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char id[64];

	(void)argc;
	if (parse_user(ctx, argv[0], id, sizeof(id), r) < 0)
		return CMD_REFUSED;
	return remove_user(ctx, id, strcmp(id, ctx->req->user_id) == 0, r);
}

static enum cmd_result action_join(struct cmd_ctx *ctx, const char *value, struct reply *r)
{
	(void)value;
	r->replace_original = true;
	return add_user(ctx, ctx->req->user_id, true, r);
}

/* ---- /oncall me: people edit their own profile ---- */

static enum cmd_result oncall_me(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct member m;
	struct reply_section *sec;
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
	reply_field(sec, "Time zone", m.tz[0] ? m.tz : "(not set)");
	reply_field(sec, "Incident notifications", m.notify ? "on" : "off");
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

static enum cmd_result oncall_me_name(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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

static enum cmd_result oncall_me_email(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char why[160];

	(void)argc;
	if (member_check_email(argv[0], why, sizeof(why)) < 0)
		return refuse_value("email", why, r);
	return set_field(ctx, FIELD_EMAIL, "email", argv[0], r);
}

static enum cmd_result oncall_me_phone(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char why[200];

	(void)argc;
	if (member_check_phone(argv[0], why, sizeof(why)) < 0)
		return refuse_value("phone", why, r);
	return set_field(ctx, FIELD_PHONE, "phone", argv[0], r);
}

static enum cmd_result oncall_me_tz(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	if (!tz_get(argv[0]))
		return refuse_value("time zone", "that is not an IANA time zone; write it like "
						 "Europe/Berlin or America/Chicago", r);
	return set_field(ctx, FIELD_TZ, "time zone", argv[0], r);
}

static enum cmd_result oncall_me_incidents(struct cmd_ctx *ctx, int argc, char **argv,
					   struct reply *r)
{
	(void)argc;
	if (strcasecmp(argv[0], "on") != 0 && strcasecmp(argv[0], "off") != 0)
		return refuse_value("incident notifications", "say `on` or `off`", r);
	return set_field(ctx, FIELD_NOTIFY, "incident notifications setting",
			 strcasecmp(argv[0], "on") == 0 ? "on" : "off", r);
}

static const struct subcommand oncall_subcommands[] = {
	{ "now", "", "shows who is on call now and who is next", ROLE_VIEWER, 0, 0, oncall_now, "", 0 },
	{ "list", "", "shows the rotation in order", ROLE_VIEWER, 0, 0, oncall_list, "", 0 },
	{ "join", "", "adds you to the end of the rotation", ROLE_DEVELOPER, 0, 0, oncall_join, "", 0 },
	{ "leave", "", "takes you out of the rotation", ROLE_DEVELOPER, 0, 0, oncall_leave, "", 0 },
	{ "add", "@user", "adds someone to the end of the rotation", ROLE_ADMIN, 1, 1, oncall_add,
	  "@user", 0 },
	{ "remove", "@user", "takes someone out of the rotation", ROLE_ADMIN, 1, 1, oncall_remove,
	  "@user", 0 },
	{ "me", "", "shows your profile: name, email, phone, time zone, notifications", ROLE_VIEWER,
	  0, 0, oncall_me, "", 0 },
	{ "me name", "NAME", "sets your display name", ROLE_DEVELOPER, 1, 8, oncall_me_name,
	  "Alice Example", 0 },
	{ "me email", "ADDRESS", "sets your email address", ROLE_DEVELOPER, 1, 1, oncall_me_email,
	  "alice@example.com", 0 },
	{ "me phone", "+E164", "sets your phone number for SMS, e.g. +15555550123", ROLE_DEVELOPER,
	  1, 1, oncall_me_phone, "+15555550123", 0 },
	{ "me tz", "ZONE", "sets your time zone, e.g. Europe/Berlin", ROLE_DEVELOPER, 1, 1,
	  oncall_me_tz, "Europe/Berlin", 0 },
	{ "me incidents", "on|off", "turns incident notifications to you on or off", ROLE_DEVELOPER,
	  1, 1, oncall_me_incidents, "off", 0 },
	{ 0 }
};

static const struct command_action oncall_actions[] = {
	{ "join", ROLE_DEVELOPER, action_join },
	{ 0 }
};

static const char *const oncall_aliases[] = { "who", NULL };

const struct command oncall_command = {
	.name = "oncall",
	.aliases = oncall_aliases,
	.summary = "who is on call, and the rotation",
	.subcommands = oncall_subcommands,
	.default_sub = &oncall_subcommands[0],
	.actions = oncall_actions,
};
