/* invite.c - `/invite`: who is in the org and with which role. Here: switching a
 * solo org to team mode, invite codes and links, email invites, joining,
 * listing and revoking, the audit log, and the tables of every `/invite` row
 * (GitHub sync, members and roles, and teams live in commands/invite_*.c).
 *
 * Handlers check only what the tables can't express; membership, roles and
 * team mode are checked by the dispatcher before they run. */
#include "adapters/adapter.h"
#include "bot/audit.h"
#include "bot/invite.h"
#include "bot/mail.h"
#include "bot/member.h"
#include "bot/util.h"
#include "bot/when.h"
#include "commands/invite.h"

#include <openssl/crypto.h>
#include <string.h>

/* In the reader's zone (their own, else the org's), like every time shown. */
static const char *format_time(const struct cmd_ctx *ctx, int64_t ms, char *out, size_t size)
{
	return when_format(when_zone(ctx->tz, ctx->cfg->rotation.zone), ms / 1000, out, size);
}

int invite_role(const char *word, enum role *role, struct reply *r)
{
	enum role x = role_parse(word);

	if (x == ROLE_OWNER) {
		reply_textf(r, "Invites can't make owners. Invite them as *admin*, then an owner can "
			       "run `%s role @user owner`.", INV(NULL));
		return -1;
	}
	if (x == ROLE_NONE) {
		char shown[40];
		reply_textf(r, "`%s` is not a role. Roles: admin, developer, viewer.",
			    reply_escape(shown, sizeof(shown), word));
		return -1;
	}
	*role = x;
	return 0;
}

/* "7d", "24h", "30m", "2w" -> ms; 1 minute .. 90 days. */
static int parse_duration(const char *s, int64_t *ms)
{
	int64_t n, unit;
	size_t len = strlen(s);
	char num[16];

	if (len < 2 || len >= sizeof(num))
		return -1;
	switch (s[len - 1]) {
	case 'm': unit = 60000; break;
	case 'h': unit = 3600000; break;
	case 'd': unit = DAY_MS; break;
	case 'w': unit = 7 * DAY_MS; break;
	default: return -1;
	}
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	if (!wk_parse_i64(num, 1, 100000, &n) || n * unit > 90 * DAY_MS)
		return -1;
	*ms = n * unit;
	return 0;
}

int invite_resolve_person(struct cmd_ctx *ctx, const char *ref, char *id, size_t size,
			  bool must_be_member, struct reply *r)
{
	enum member_ref res;
	char shown[80];

	if (member_resolve(ctx->store, ctx->org_id, ctx->req->platform, ref, id, size, &res) < 0)
		return -2;
	if (res == MEMBER_REF_FOUND || (res == MEMBER_REF_NOT_MEMBER && !must_be_member && id[0]))
		return res == MEMBER_REF_FOUND ? 0 : 1;
	reply_escape(shown, sizeof(shown), ref);
	if (res == MEMBER_REF_NOT_MEMBER)
		reply_textf(r, "`%s` is not a member of this workspace's Watchkeeper.", shown);
	else
		reply_textf(r, "`%s` is not a person I can find. Mention them with @ (pick the name "
			       "from the list), or write github:login or their invited email.", shown);
	return -1;
}

static void join_url(const struct cmd_ctx *ctx, const char *code, char *out, size_t size)
{
	const char *base = ctx->cfg->public_url;
	size_t n = strlen(base);

	snprintf(out, size, "%.*s/join/%s", (int)(n && base[n - 1] == '/' ? n - 1 : n), base, code);
}

/* ---- status and team mode ---- */

static enum cmd_result invite_status(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct member *m;
	size_t n, pending = 0;

	(void)argc;
	(void)argv;
	if (!ctx->team_mode) {
		reply_textf(r, "This workspace uses Watchkeeper in *solo* mode: just you, no invites.");
		if (ctx->role == ROLE_OWNER) {
			reply_section(r, "Invite your team? Switching to team mode keeps your rotation and "
					 "settings.");
			reply_button(r, "Switch to team mode", "invite.team_mode", "", BUTTON_PRIMARY);
		}
		return CMD_OK;
	}
	if (member_list(ctx->store, ctx->org_id, &m, &n) < 0)
		return CMD_STORE_ERROR;
	for (size_t i = 0; i < n; i++)
		pending += m[i].placeholder;
	free(m);
	reply_textf(r, "*Team mode*: %zu member%s, %zu invited and not joined yet.", n - pending,
		    n - pending == 1 ? "" : "s", pending);
	reply_section(r, "Invite people with `%1$s link`, `%1$s email ADDRESS` or "
			 "`%1$s github ORG`; see them with `%1$s members`.", INV(ctx));
	return CMD_OK;
}

static enum cmd_result invite_team_mode(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	(void)argv;
	if (ctx->team_mode) {
		reply_textf(r, "This workspace is already in team mode.");
		return CMD_OK;
	}
	reply_textf(r, "Switch this workspace to *team* mode? You can then invite people, give them "
		       "roles and make teams. Your rotation and settings stay as they are.");
	reply_button(r, "Switch to team mode", "invite.team_mode", "", BUTTON_PRIMARY);
	return CMD_OK;
}

static enum cmd_result action_team_mode(struct cmd_ctx *ctx, const char *value, struct reply *r)
{
	int rc;

	(void)value;
	r->replace_original = true;
	rc = org_enable_team_mode(ctx->store, ctx->org_id, ctx->req->user_id,
				  platform_name(ctx->req->platform), ctx->now_ms);
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 2) {
		reply_textf(r, "Only an owner can switch to team mode.");
		return CMD_REFUSED;
	}
	reply_textf(r, rc == 1 ? "This workspace was already in team mode."
			       : "This workspace is now in *team* mode. Invite people with "
				 "`%1$s link` or `%1$s email ADDRESS`.", INV(ctx));
	return CMD_OK;
}

/* ---- creating invites ---- */

static enum cmd_result invite_link(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct invite_new spec = { ROLE_DEVELOPER, ctx->now_ms + 7 * DAY_MS, 0 };
	char code[INVITE_CODE_LEN + 1], id[INVITE_ID_LEN + 1], url[512], when[48];
	bool role_given = false;

	for (int i = 0; i < argc; i++) {
		int64_t v;
		if (strcasecmp(argv[i], "expires") == 0 && i + 1 < argc) {
			if (strcasecmp(argv[i + 1], "never") == 0) {
				spec.expires_ms = 0;
			} else if (parse_duration(argv[i + 1], &v) == 0) {
				spec.expires_ms = ctx->now_ms + v;
			} else {
				reply_textf(r, "`expires` takes a duration from 1m to 90d, like `7d`, `24h` "
					       "or `30m`, or `never`.");
				return CMD_REFUSED;
			}
			i++;
		} else if (strcasecmp(argv[i], "uses") == 0 && i + 1 < argc) {
			if (strcasecmp(argv[i + 1], "unlimited") == 0) {
				spec.max_uses = 0;
			} else if (wk_parse_i64(argv[i + 1], 1, 10000, &v)) {
				spec.max_uses = v;
			} else {
				reply_textf(r, "`uses` takes a number from 1 to 10000, or `unlimited`.");
				return CMD_REFUSED;
			}
			i++;
		} else {
			enum role role;
			if (invite_role(argv[i], &role, r) < 0) {
				char typed[64];
				dispatch_typed_name(ctx, "invite", typed, sizeof(typed));
				reply_section(r, "Usage: `%s link [role] [expires 7d] [uses 10]`, e.g. "
						 "`%s link developer expires 2d uses 3`.", typed, typed);
				return CMD_REFUSED;
			}
			if (role_given) {
				/* "developer admin" must not quietly become an admin invite. */
				reply_textf(r, "An invite has one role; `%s` came after another. Write one of "
					       "`viewer`, `developer` or `admin`.", argv[i]);
				return CMD_REFUSED;
			}
			spec.role = role;
			role_given = true;
		}
	}
	if (invite_create_link(ctx->store, ctx->org_id, ctx->req->user_id,
			       platform_name(ctx->req->platform), &spec, ctx->now_ms, code, id) < 0)
		return CMD_STORE_ERROR;
	join_url(ctx, code, url, sizeof(url));
	r->personal = true;
	reply_textf(r, "Invite `%s` for the *%s* role: %s", id, role_name(spec.role), url);
	reply_section(r, "Share the link, or have them type `%1$s join %2$s`. The code is shown only "
			 "now; `%1$s revoke %3$s` cancels it.", INV(ctx), code, id);
	if (spec.expires_ms)
		format_time(ctx, spec.expires_ms, when, sizeof(when));
	if (spec.max_uses == 1)
		reply_section(r, "One person can use it%s%s.", spec.expires_ms ? ", until " : "; it never expires",
			      spec.expires_ms ? when : "");
	else if (spec.max_uses)
		reply_section(r, "Up to %lld people can use it%s%s.", (long long)spec.max_uses,
			      spec.expires_ms ? ", until " : "; it never expires", spec.expires_ms ? when : "");
	else
		reply_section(r, "Any number of people can use it%s%s.", spec.expires_ms ? " until " : "; it never expires",
			      spec.expires_ms ? when : "");
	return CMD_OK;
}

/* What the mail's outcome needs to tell the inviter. The join code lives only
 * here, in memory, until the answer is posted (Redis keeps its hash). */
struct invite_mail {
	enum platform platform;
	enum role role;
	char response_url[512];
	char to[256], id[INVITE_ID_LEN + 1], code[INVITE_CODE_LEN + 1], url[512];
};

static void forward_this(struct reply *r, const char *code, const char *url)
{
	reply_section(r, "`%s join %s` or %s", INV(NULL), code, url);
}

/* The courier's completion thread: the SMTP server answered (or not). Only
 * queues the late answer; no Redis, no waiting. */
static void invite_mailed(void *arg, struct courier_response *resp)
{
	struct invite_mail *im = arg;
	struct reply r;

	reply_init(&r);
	if (resp->status) {
		reply_textf(&r, "Mailed an invite to %s for the *%s* role (`%s`). They join with the code in it, "
				"or automatically when their chat email matches.", im->to, role_name(im->role), im->id);
	} else {
		reply_textf(&r, "Invited %s as *%s* (`%s`), but mailing it failed: %s. Forward this to them "
				"yourself:", im->to, role_name(im->role), im->id, resp->error);
		forward_this(&r, im->code, im->url);
	}
	adapter_post_late(im->platform, im->response_url, &r);
	reply_free(&r);
	courier_response_free(resp);
	OPENSSL_cleanse(im, sizeof(*im));
	free(im);
}

/* Mail the invite without waiting when the platform has late answers (Slack's
 * response_url); the console, on its own thread and without them, waits.
 * Fills r. */
static void mail_invite(struct cmd_ctx *ctx, const char *to, enum role role, const char *id,
			const char *code, const char *url, const char *text, struct reply *r)
{
	const struct adapter_ops *a = adapter_for(ctx->req->platform);
	char why[200];

	if (a && a->post_late) {	/* chat: never wait; the console (its own thread) may */
		struct invite_mail *im = xcalloc(1, sizeof(*im));
		im->platform = ctx->req->platform;
		im->role = role;
		wk_strlcpy(im->response_url, ctx->req->response_url, sizeof(im->response_url));
		wk_strlcpy(im->to, to, sizeof(im->to));
		wk_strlcpy(im->id, id, sizeof(im->id));
		wk_strlcpy(im->code, code, sizeof(im->code));
		wk_strlcpy(im->url, url, sizeof(im->url));
		if (mail_send_async(ctx->cfg, to, "You're invited to Watchkeeper", text, NULL, invite_mailed, im,
				    why, sizeof(why)) == 0) {
			reply_textf(r, "Invited %s as *%s* (`%s`); mailing the invite now. You'll see here whether "
				       "it went out.", to, role_name(role), id);
			return;
		}
		OPENSSL_cleanse(im, sizeof(*im));
		free(im);
	} else if (mail_send(ctx->cfg, to, "You're invited to Watchkeeper", text, NULL, why, sizeof(why)) == 0) {
		reply_textf(r, "Mailed an invite to %s for the *%s* role (`%s`). They join with the code in it, "
			       "or automatically when their chat email matches.", to, role_name(role), id);
		return;
	}
	reply_textf(r, "Invited %s as *%s* (`%s`), but mailing it failed: %s. Forward this to them yourself:",
		    to, role_name(role), id, why);
	forward_this(r, code, url);
}

static enum cmd_result invite_email(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct invite_new spec = { ROLE_DEVELOPER, ctx->now_ms + 14 * DAY_MS, 1 };
	char code[INVITE_CODE_LEN + 1], id[INVITE_ID_LEN + 1], ph[64], url[512], why[200];
	struct buf text = BUF_INIT(8192);
	int rc;

	if (member_check_email(argv[0], why, sizeof(why)) < 0) {
		reply_textf(r, "I can't invite that: %s.", why);
		return CMD_REFUSED;
	}
	if (argc > 1 && invite_role(argv[1], &spec.role, r) < 0)
		return CMD_REFUSED;
	rc = invite_create_email(ctx->store, ctx->org_id, ctx->req->user_id,
				 platform_name(ctx->req->platform), argv[0], &spec, ctx->now_ms, code,
				 id, ph, sizeof(ph));
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 1) {
		reply_textf(r, "%s already has a pending invite. `%s list` shows it; revoke it "
			       "first to send a new one.", argv[0], INV(ctx));
		return CMD_REFUSED;
	}
	join_url(ctx, code, url, sizeof(url));
	r->personal = true;
	buf_printf(&text, "You have been invited to your team's on-call in Watchkeeper, with the %s role.\n\n"
			  "In Slack, type:\n\n    /%s invite join %s\n\nor open %s\n\n"
			  "If your Slack profile uses this email address, just use /%s: you will "
			  "be recognised. The invite expires in 14 days.\n",
		   role_name(spec.role), ctx->cfg->slack_command[0].name, code, url,
		   ctx->cfg->slack_command[0].name);
	if (!mail_configured(ctx->cfg)) {
		reply_textf(r, "Invited %s as *%s* (`%s`). Email is not set up here (smtp.url), so "
			       "forward this to them:", argv[0], role_name(spec.role), id);
		forward_this(r, code, url);
	} else {
		mail_invite(ctx, argv[0], spec.role, id, code, url, buf_cstr(&text), r);
	}
	buf_free(&text);
	return CMD_OK;
}

/* ---- joining ---- */

static enum cmd_result invite_join_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct invite_join_result jr;
	char code[INVITE_CODE_LEN + 1];

	(void)argc;
	if (invite_code_normalize(argv[0], code) < 0) {
		reply_textf(r, "That is not an invite code: a code is 32 letters and digits, like the "
			       "one in your invite link.");
		return CMD_REFUSED;
	}
	if (invite_join(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			code, ctx->now_ms, &jr) < 0)
		return CMD_STORE_ERROR;
	switch (jr.outcome) {
	case JOIN_OK:
		reply_textf(r, "Welcome! You joined this workspace's Watchkeeper as *%s*. Try `%s`.",
			    role_name(jr.role), MAIN(ctx));
		return CMD_OK;
	case JOIN_CLAIM: {
		int rc = member_claim(ctx->store, ctx->org_id, jr.placeholder, ctx->req->user_id,
				      platform_name(ctx->req->platform), ctx->req->user_id, "code",
				      ctx->now_ms);
		if (rc < 0)
			return CMD_STORE_ERROR;
		if (rc == 1) {
			reply_textf(r, "That invite was already used.");
			return CMD_REFUSED;
		}
		reply_textf(r, "Welcome! You joined this workspace's Watchkeeper as *%s*. Try `%s`.",
			    role_name(jr.role), MAIN(ctx));
		return CMD_OK;
	}
	case JOIN_ALREADY_MEMBER:
		reply_textf(r, "You are already a member here, as *%s*.", role_name(jr.role));
		return CMD_OK;
	case JOIN_WRONG:
		reply_textf(r, "That invite code is not valid here. Check it, or ask an admin for a new one.");
		break;
	case JOIN_EXPIRED:
		reply_textf(r, "That invite has expired. Ask an admin for a new one.");
		break;
	case JOIN_USED_UP:
		reply_textf(r, "That invite has been used as many times as it allows. Ask an admin for a new one.");
		break;
	case JOIN_REVOKED:
		reply_textf(r, "That invite was revoked. Ask an admin for a new one.");
		break;
	case JOIN_RATE_LIMITED:
		reply_textf(r, "Too many wrong invite codes. Try again in %lld minute%s.",
			    (long long)(jr.retry_after_s + 59) / 60,
			    (jr.retry_after_s + 59) / 60 == 1 ? "" : "s");
		break;
	}
	return CMD_REFUSED;
}

/* ---- listing and revoking ---- */

static enum cmd_result invite_list_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct invite_info *inv;
	struct buf b = BUF_INIT(32768);
	char when[48];
	size_t n;

	(void)argc;
	(void)argv;
	if (invite_list(ctx->store, ctx->org_id, &inv, &n) < 0)
		return CMD_STORE_ERROR;
	if (n == 0) {
		reply_textf(r, "No invites yet. Make one with `%1$s link` or `%1$s email ADDRESS`.", INV(ctx));
		free(inv);
		return CMD_OK;
	}
	reply_textf(r, "Invites, newest first:");
	for (size_t i = 0; i < n; i++) {
		const char *state = inv[i].revoked ? "revoked"
				    : inv[i].expires_ms && inv[i].expires_ms <= ctx->now_ms ? "expired"
				    : inv[i].max_uses && inv[i].uses >= inv[i].max_uses ? "used up"
				    : "active";
		buf_printf(&b, "`%s` %s%s%s, *%s*, used %lld", inv[i].id, inv[i].kind, inv[i].email[0] ? " " : "",
			   inv[i].email, role_name(inv[i].role), (long long)inv[i].uses);
		if (inv[i].max_uses)
			buf_printf(&b, " of %lld", (long long)inv[i].max_uses);
		buf_printf(&b, ", %s, by <@%s>\n", state, inv[i].created_by);
		if (inv[i].expires_ms && strcmp(state, "active") == 0)
			buf_printf(&b, "    expires %s\n", format_time(ctx, inv[i].expires_ms, when, sizeof(when)));
	}
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
	free(inv);
	return CMD_OK;
}

static enum cmd_result invite_revoke_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char shown[48];
	int rc;

	(void)argc;
	rc = invite_revoke(ctx->store, ctx->org_id, ctx->req->user_id,
			   platform_name(ctx->req->platform), argv[0], ctx->now_ms);
	reply_escape(shown, sizeof(shown), argv[0]);
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 1) {
		reply_textf(r, "No invite `%s` here. `%s list` shows their ids.", shown, INV(ctx));
		return CMD_REFUSED;
	}
	reply_textf(r, rc == 2 ? "Invite `%s` was already revoked." : "Revoked invite `%s`.", shown);
	return CMD_OK;
}

/* ---- audit ---- */

static enum cmd_result invite_audit(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct audit_entry *e;
	struct buf b = BUF_INIT(64 * 1024);
	int64_t want = 10;
	size_t n;

	if (argc == 1 && !wk_parse_i64(argv[0], 1, 100, &want)) {
		reply_textf(r, "`%s audit N` shows the last N entries, 1 to 100.", INV(ctx));
		return CMD_REFUSED;
	}
	if (audit_recent(ctx->store, ctx->org_id, (size_t)want, &e, &n) < 0)
		return CMD_STORE_ERROR;
	if (n == 0) {
		reply_textf(r, "The audit log is empty.");
		free(e);
		return CMD_OK;
	}
	reply_textf(r, "The last %zu audit entr%s, newest first:", n, n == 1 ? "y" : "ies");
	for (size_t i = 0; i < n; i++)
		audit_describe(ctx->store, ctx->org_id, &e[i], when_zone(ctx->tz, ctx->cfg->rotation.zone), &b);
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
	audit_entries_free(e, n);
	return CMD_OK;
}

static const struct subcommand invite_subcommands[] = {
	{ "status", "", "shows the workspace's mode and how to invite", ROLE_VIEWER, 0, 0,
	  invite_status, "", 0 },
	{ "team-mode", "", "switches a solo workspace to team mode (asks first)", ROLE_OWNER, 0, 0,
	  invite_team_mode, "", 0 },
	{ "link", "[role] [expires 7d] [uses 10]", "makes an invite code and link", ROLE_ADMIN, 0, 5,
	  invite_link, "developer expires 7d uses 10", CMD_TEAM_ONLY },
	{ "email", "ADDRESS [role]", "invites someone by email", ROLE_ADMIN, 1, 2, invite_email,
	  "new.person@example.com", CMD_TEAM_ONLY },
	{ "github", "ORG [role]", "adds the members of a GitHub org as invited people", ROLE_ADMIN,
	  1, 2, invite_github, "acme", CMD_TEAM_ONLY },
	{ "map", "@user github:login | @teams-user @member",
	  "links a chat user to an invited GitHub login, or someone from the linked Teams tenant to a member", ROLE_ADMIN,
	  2, 2, invite_map, "@user github:octocat", CMD_TEAM_ONLY },
	{ "list", "", "shows invites and their state", ROLE_ADMIN, 0, 0, invite_list_cmd, "",
	  CMD_TEAM_ONLY },
	{ "revoke", "ID|CODE", "cancels an invite", ROLE_ADMIN, 1, 1, invite_revoke_cmd,
	  "0123456789", CMD_TEAM_ONLY },
	{ "join", "CODE", "joins this workspace with an invite code", ROLE_NONE, 1, 1,
	  invite_join_cmd, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
	{ "members", "", "lists members and their roles", ROLE_VIEWER, 0, 0, invite_members, "", 0 },
	{ "role", "@user ROLE", "gives someone a role (owner, admin, developer, viewer)", ROLE_ADMIN,
	  2, 2, invite_role_cmd, "@user viewer", CMD_TEAM_ONLY },
	{ "remove", "@user", "removes someone from the workspace", ROLE_ADMIN, 1, 1, invite_remove,
	  "@user", CMD_TEAM_ONLY },
	{ "team list", "", "lists teams", ROLE_VIEWER, 0, 0, invite_team_list, "", 0 },
	{ "team create", "NAME", "makes a team", ROLE_ADMIN, 1, 1, invite_team_create, "ops",
	  CMD_TEAM_ONLY },
	{ "team rename", "NAME NEW-NAME", "renames a team", ROLE_ADMIN, 2, 2, invite_team_rename,
	  "ops platform", CMD_TEAM_ONLY },
	{ "team delete", "NAME", "deletes a team (not its members)", ROLE_ADMIN, 1, 1,
	  invite_team_delete, "ops", CMD_TEAM_ONLY },
	{ "team add", "NAME @user", "adds someone to a team", ROLE_ADMIN, 2, 2, invite_team_add,
	  "default @user", CMD_TEAM_ONLY },
	{ "team remove", "NAME @user", "takes someone out of a team", ROLE_ADMIN, 2, 2,
	  invite_team_remove, "default @user", CMD_TEAM_ONLY },
	{ "audit", "[N]", "shows the last N admin actions", ROLE_ADMIN, 0, 1, invite_audit, "5", 0 },
	{ 0 }
};

static const struct command_action invite_actions[] = {
	{ "team_mode", ROLE_OWNER, action_team_mode },
	{ 0 }
};

/* What to look at when Redis took a change but did not answer in time. */
static const struct command_check invite_checks[] = {
	{ "team-mode", "/invite status" },
	{ "team_mode", "/invite status" },
	{ "link", "/invite list" },
	{ "email", "/invite list" },
	{ "github", "/invite list" },
	{ "revoke", "/invite list" },
	{ "map", "/invite members" },
	{ "role", "/invite members" },
	{ "remove", "/invite members" },
	{ "team create", "/invite team list" },
	{ "team rename", "/invite team list" },
	{ "team delete", "/invite team list" },
	{ "team add", "/invite team list" },
	{ "team remove", "/invite team list" },
	{ 0 }
};

const struct command invite_command = {
	.name = "invite",
	.summary = "members, roles, invites and teams",
	.subcommands = invite_subcommands,
	.default_sub = &invite_subcommands[0],
	.actions = invite_actions,
	.checks = invite_checks,
};
