/* invite.c - `/invite`: who is in the org and with which role. Switching a solo
 * org to team mode, invite codes and links, email invites, GitHub org sync,
 * roles, removal, teams, and the audit log.
 *
 * Handlers check only what the tables can't express; membership, roles and
 * team mode are checked by the dispatcher before they run. */
#include "adapters/adapter.h"
#include "adapters/github.h"
#include "bot/audit.h"
#include "bot/invite.h"
#include "bot/jobs.h"
#include "bot/mail.h"
#include "bot/member.h"
#include "bot/removal.h"
#include "bot/team.h"
#include "bot/tz.h"
#include "bot/util.h"
#include "bot/when.h"
#include "bot/workers.h"
#include "commands/commands.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY_MS (24LL * 3600 * 1000)
/* `/invite` as people type it here ("/oncall invite", dispatch_typed()): Slack
 * keeps /invite for itself. The buffer lives until the end of the statement. */
#define INV(ctx) dispatch_typed((ctx), &invite_command, (char[80]){ 0 }, 80)
#define MAIN(ctx) dispatch_typed((ctx), command_table[0], (char[80]){ 0 }, 80)

/* In the reader's zone (their own, else the org's), like every time shown. */
static const char *format_time(const struct cmd_ctx *ctx, int64_t ms, char *out, size_t size)
{
	return when_format(when_zone(ctx->tz, ctx->cfg->rotation.zone), ms / 1000, out, size);
}

/* Roles an invite may give: everything but owner (owners are made, not invited). */
static int invite_role(const char *word, enum role *role, struct reply *r)
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

/* A person as typed; on failure the reply already says why. */
static int resolve_person(struct cmd_ctx *ctx, const char *ref, char *id, size_t size,
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

/* The sync's answer from what GitHub said: writes the placeholders and fills r.
 * -1 when the store failed (r untouched). */
static int github_synced(struct store *s, const char *org_id, const char *user_id, enum platform platform,
			 enum role role, const char *gh_org, enum github_result gr, struct github_member *gm,
			 size_t n, const char *why, int64_t now_ms, struct reply *r)
{
	struct github_sync_counts counts;
	char shown[48];
	int rc = 0;

	if (gr != GITHUB_OK) {
		reply_textf(r, "GitHub sync did not run: %s", why);
		return 0;
	}
	const char **logins = xcalloc(n + 1, sizeof(*logins));
	const char **emails = xcalloc(n + 1, sizeof(*emails));
	for (size_t i = 0; i < n; i++) {
		logins[i] = gm[i].login;
		emails[i] = gm[i].email;
	}
	if (invite_github_sync(s, org_id, user_id, platform_name(platform), role, logins, emails, n, !why[0],
			       now_ms, &counts) < 0) {
		rc = -1;
	} else {
		reply_textf(r, "GitHub org `%s`: %ld members. Added %ld as *%s* placeholder%s, %ld came "
			       "back, %ld left the org (marked).",
			    reply_escape(shown, sizeof(shown), gh_org), counts.total, counts.added,
			    role_name(role), counts.added == 1 ? "" : "s", counts.returned, counts.left);
		reply_section(r, "People with a public GitHub email join automatically when their chat "
				 "email matches; map the others with `%s map @user github:login`.", INV(NULL));
		if (why[0])	/* the list was cut short: nobody was marked as having left */
			reply_section(r, "Note: %s Nobody was marked as having left.", why);
	}
	free(logins);
	free(emails);
	return rc;
}

/* A sync read on the jobs lane (bot/jobs.h) and written on a worker. */
struct github_job {
	const struct config *cfg;	/* main's: outlives jobs_stop() */
	char org_id[96], user_id[64], gh_org[40], response_url[512];
	enum platform platform;
	enum role role;
	enum github_result gr;
	struct github_member *gm;
	size_t n;
	char why[256];
};

static void github_job_free(struct github_job *j)
{
	free(j->gm);
	free(j);
}

static void github_job_late(struct github_job *j, const char *text)
{
	struct reply r;

	reply_init(&r);
	reply_textf(&r, "%s", text);
	adapter_post_late(j->platform, j->response_url, &r);
	reply_free(&r);
}

/* Worker: write what GitHub said and answer at the response_url. */
static void github_job_write(struct worker *w, void *arg)
{
	struct github_job *j = arg;
	struct reply r;

	reply_init(&r);
	if (github_synced(w->store, j->org_id, j->user_id, j->platform, j->role, j->gh_org, j->gr, j->gm, j->n,
			  j->why, wk_now_ms(), &r) < 0) {
		reply_free(&r);
		reply_init(&r);
		reply_textf(&r, "GitHub org `%s` was read, but Redis failed while saving the invited people; "
				"nothing was changed. Run `%s github %s` again.", j->gh_org, INV(NULL), j->gh_org);
	}
	adapter_post_late(j->platform, j->response_url, &r);
	reply_free(&r);
	github_job_free(j);
}

static void github_job_drop(void *arg)
{
	struct github_job *j = arg;

	github_job_late(j, "Watchkeeper restarted before the GitHub sync ran; nothing was changed. "
			   "Run it again.");
	github_job_free(j);
}

/* Jobs lane: only GitHub, no Redis. */
static void github_job_read(void *arg)
{
	struct github_job *j = arg;
	char key[WORK_KEY_MAX];

	j->gr = github_org_members(j->cfg, j->gh_org, &j->gm, &j->n, j->why, sizeof(j->why));
	snprintf(key, sizeof(key), "%s", j->org_id);
	if (workers_submit(WORK_COMMAND, key, github_job_write, j) < 0)
		github_job_drop(j);
}

static enum cmd_result invite_github(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	const struct adapter_ops *a = adapter_for(ctx->req->platform);
	enum role role = ROLE_DEVELOPER;
	char shown[48];

	if (argc > 1 && invite_role(argv[1], &role, r) < 0)
		return CMD_REFUSED;
	if (!ctx->cfg->github_token || !ctx->cfg->github_token[0] || !github_name_valid(argv[0]) ||
	    !a || !a->post_late) {
		/* Refusals that need no network (github_org_members() answers them at
		 * once), and the console, which runs on its own thread, not a worker,
		 * and has no later answer: read here. A chat request never waits. */
		struct github_member *gm = NULL;
		size_t n = 0;
		char why[256] = "";
		enum github_result gr = github_org_members(ctx->cfg, argv[0], &gm, &n, why, sizeof(why));
		int rc = github_synced(ctx->store, ctx->org_id, ctx->req->user_id, ctx->req->platform, role,
				       argv[0], gr, gm, n, why, ctx->now_ms, r);
		free(gm);
		return rc < 0 ? CMD_STORE_ERROR : gr == GITHUB_OK ? CMD_OK : CMD_REFUSED;
	}
	struct github_job *j = xcalloc(1, sizeof(*j));
	j->cfg = ctx->cfg;
	wk_strlcpy(j->org_id, ctx->org_id, sizeof(j->org_id));
	wk_strlcpy(j->user_id, ctx->req->user_id, sizeof(j->user_id));
	wk_strlcpy(j->gh_org, argv[0], sizeof(j->gh_org));
	wk_strlcpy(j->response_url, ctx->req->response_url, sizeof(j->response_url));
	j->platform = ctx->req->platform;
	j->role = role;
	if (jobs_submit(ctx->org_id, github_job_read, github_job_drop, j) < 0) {
		free(j);
		reply_textf(r, "Watchkeeper is shutting down; run the GitHub sync again in a minute.");
		return CMD_REFUSED;
	}
	reply_textf(r, "Reading the members of GitHub org `%s`; the result follows here.",
		    reply_escape(shown, sizeof(shown), argv[0]));
	return CMD_OK;
}

static enum cmd_result invite_map(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char user[64], ph[64];
	int who;

	(void)argc;
	if (strncmp(argv[1], "github:", 7) != 0) {
		reply_textf(r, "Map a person to a GitHub login like this: `%s map @user github:octocat`.",
			    INV(ctx));
		return CMD_REFUSED;
	}
	who = resolve_person(ctx, argv[0], user, sizeof(user), false, r);
	if (who == -2)
		return CMD_STORE_ERROR;
	if (who < 0)
		return CMD_REFUSED;
	if (who == 0) {	/* already a member: attach the login, drop the placeholder */
		int rc = invite_github_link(ctx->store, ctx->org_id, ctx->req->user_id,
					    platform_name(ctx->req->platform), user, argv[1] + 7, ctx->now_ms);
		if (rc < 0)
			return CMD_STORE_ERROR;
		if (rc == 1) {
			reply_textf(r, "No GitHub placeholder `%s` is waiting; run `%s github ORG` first.",
				    argv[1], INV(ctx));
			return CMD_REFUSED;
		}
		reply_textf(r, "<@%s> is now linked to `%s`.", user, argv[1]);
		return CMD_OK;
	}
	enum member_ref res;
	if (member_resolve(ctx->store, ctx->org_id, ctx->req->platform, argv[1], ph, sizeof(ph), &res) < 0)
		return CMD_STORE_ERROR;
	if (res != MEMBER_REF_FOUND) {
		reply_textf(r, "No GitHub placeholder `%s` is waiting; run `%s github ORG` first.", argv[1],
			    INV(ctx));
		return CMD_REFUSED;
	}
	int rc = member_claim(ctx->store, ctx->org_id, ph, user, platform_name(ctx->req->platform),
			      ctx->req->user_id, "map", ctx->now_ms);
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 1) {
		reply_textf(r, "`%s` is already taken by a member.", argv[1]);
		return CMD_REFUSED;
	}
	reply_textf(r, "<@%s> joined as `%s` with that placeholder's role.", user, argv[1]);
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

/* ---- members and roles ---- */

static enum cmd_result invite_members(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct member *m;
	struct buf b = BUF_INIT(64 * 1024);
	size_t n;

	(void)argc;
	(void)argv;
	if (member_list(ctx->store, ctx->org_id, &m, &n) < 0)
		return CMD_STORE_ERROR;
	reply_textf(r, "%zu %s:", n, n == 1 ? "person" : "people");
	for (size_t i = 0; i < n; i++) {
		if (m[i].placeholder)
			buf_printf(&b, "• invited: %s%s%s, *%s*%s\n", m[i].email[0] ? m[i].email : "",
				   m[i].email[0] && m[i].github[0] ? " " : "",
				   m[i].github[0] ? m[i].github : "", role_name(m[i].role),
				   m[i].left_github ? " (left the GitHub org)" : "");
		else
			buf_printf(&b, "• <@%s> *%s*%s\n", m[i].id, role_name(m[i].role),
				   m[i].left_github ? " (left the GitHub org)" : "");
	}
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
	free(m);
	return CMD_OK;
}

static enum cmd_result report_change(enum member_change c, const char *who, const char *what,
				     struct reply *r)
{
	switch (c) {
	case MEMBER_CHANGED:
		return CMD_OK;
	case MEMBER_UNCHANGED:
		reply_textf(r, "%s already %s.", who, what);
		return CMD_OK;
	case MEMBER_NOT_FOUND:
		reply_textf(r, "%s is not a member of this workspace's Watchkeeper.", who);
		break;
	case MEMBER_FORBIDDEN:
		reply_textf(r, "That needs the *admin* role or higher.");
		break;
	case MEMBER_NEEDS_OWNER:
		reply_textf(r, "Only an *owner* can make or change owners.");
		break;
	case MEMBER_LAST_OWNER:
		reply_textf(r, "%s is the last owner: make someone else an owner first, so the "
			       "workspace always has one.", who);
		break;
	case MEMBER_CONFLICT:
		reply_textf(r, "The schedule kept changing while I worked on %s; nothing was changed. Try again.",
			    who);
		break;
	}
	return CMD_REFUSED;
}

static void mention_text(const struct cmd_ctx *ctx, const char *id, char *out, size_t size)
{
	(void)ctx;
	if (strncmp(id, "p-", 2) == 0)
		snprintf(out, size, "`%s`", id);
	else
		snprintf(out, size, "<@%s>", id);
}

static enum cmd_result invite_role_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char id[64], who[80], what[48];
	enum member_change c;
	enum role role = role_parse(argv[1]);
	int rc;

	(void)argc;
	if (role == ROLE_NONE) {
		reply_textf(r, "Roles are owner, admin, developer and viewer.");
		return CMD_REFUSED;
	}
	rc = resolve_person(ctx, argv[0], id, sizeof(id), true, r);
	if (rc == -2)
		return CMD_STORE_ERROR;
	if (rc < 0)
		return CMD_REFUSED;
	if (member_set_role(ctx->store, ctx->org_id, ctx->req->user_id,
			    platform_name(ctx->req->platform), id, role, ctx->now_ms, &c) < 0)
		return CMD_STORE_ERROR;
	mention_text(ctx, id, who, sizeof(who));
	snprintf(what, sizeof(what), "has the %s role", role_name(role));
	if (c == MEMBER_CHANGED)
		reply_textf(r, "%s is now *%s*.", who, role_name(role));
	return report_change(c, who, what, r);
}

/* What a removal changed besides the membership, in the remover's zone. */
static void removal_report(struct cmd_ctx *ctx, const struct removal *rm, struct reply *r)
{
	const struct tz *z = ctx->tz && ctx->tz[0] ? tz_get(ctx->tz) : NULL;
	struct buf b = BUF_INIT(8192);
	char x[64], y[64];

	if (!z)
		z = ctx->cfg->rotation.zone;

	for (size_t i = 0; i < rm->ntakeovers; i++) {
		const struct removal_takeover *t = &rm->takeovers[i];
		if (!t->member[0])
			buf_printf(&b, "Nobody can take over %s to %s in `%s`: its backups are not members. "
				       "Make an override (`/oncall override @user FROM TO`).\n",
				   when_format(z, t->start, x, sizeof(x)), when_format(z, t->end, y, sizeof(y)), t->rotation);
		else if (t->start <= rm->now)
			buf_printf(&b, "On call now: <@%s> (%s backup) takes over the rest of the shift in `%s`, "
				       "until %s (override `%s`); they got a DM.\n", t->member,
				   t->backup == 1 ? "1st" : "2nd", t->rotation, when_format(z, t->end, y, sizeof(y)),
				   t->override_id);
		else
			buf_printf(&b, "Later in their shift or override under way, %s to %s in `%s`: <@%s> takes "
				       "over (%s backup; override `%s`); they got a DM.\n",
				   when_format(z, t->start, x, sizeof(x)), when_format(z, t->end, y, sizeof(y)),
				   t->rotation, t->member, t->backup == 1 ? "1st" : "2nd", t->override_id);
	}
	if (rm->nswaps) {
		buf_adds(&b, "Swaps cancelled (the other person was told):");
		for (size_t i = 0; i < rm->nswaps; i++)
			buf_printf(&b, "%s `%s`", i ? "," : "", rm->swaps[i]);
		buf_adds(&b, ".\n");
	}
	if (rm->noverrides) {
		buf_adds(&b, "Their overrides removed:");
		for (size_t i = 0; i < rm->noverrides; i++) {
			const struct removal_override *o = &rm->overrides[i];
			buf_printf(&b, "%s `%s` %s → %s", i ? ";" : "", o->id, when_format(z, o->start, x, sizeof(x)),
				   when_format(z, o->end, y, sizeof(y)));
		}
		buf_adds(&b, ".\n");
	}
	if (b.len)
		reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
}

static enum cmd_result invite_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char id[64], who[80];
	struct removal rm;
	int rc;

	(void)argc;
	rc = resolve_person(ctx, argv[0], id, sizeof(id), true, r);
	if (rc == -2)
		return CMD_STORE_ERROR;
	if (rc < 0)
		return CMD_REFUSED;
	/* Out of the org and everything that still points at them, in one step
	 * (removal.h): rotations, the shift under way, swaps, overrides. */
	if (removal_run(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform), id,
			ctx->now_ms, &rm) < 0)
		return CMD_STORE_ERROR;
	mention_text(ctx, id, who, sizeof(who));
	if (rm.change == MEMBER_CHANGED) {
		if (rm.nrotations) {
			struct buf rots = BUF_INIT(4096);
			for (size_t i = 0; i < rm.nrotations; i++)
				buf_printf(&rots, "%s%s", i ? ", " : "", rm.rotations[i]);
			reply_textf(r, "Removed %s from this workspace's Watchkeeper, its teams and %zu rotation%s "
				       "(%s; from each one's next handoff).", who, rm.nrotations,
				    rm.nrotations == 1 ? "" : "s", buf_cstr(&rots));
			buf_free(&rots);
		} else {
			reply_textf(r, "Removed %s from this workspace's Watchkeeper and its teams (they were in no "
				       "rotation).", who);
		}
		removal_report(ctx, &rm, r);
		removal_notify(ctx->store, ctx->cfg, ctx->org_id, ctx->req->user_id, id, &rm);
	}
	enum member_change c = rm.change;
	removal_free(&rm);
	return report_change(c, who, "is removed", r);
}

/* ---- teams ---- */

static enum cmd_result team_result(int rc, const char *name, struct reply *r)
{
	char shown[48];

	reply_escape(shown, sizeof(shown), name);
	switch (rc) {
	case TEAM_OK:
		return CMD_OK;
	case TEAM_EXISTS:
		reply_textf(r, "There is already a team called `%s`.", shown);
		break;
	case TEAM_NOT_FOUND:
		reply_textf(r, "There is no team `%s`. `%s team list` shows them.", shown, INV(NULL));
		break;
	case TEAM_IS_DEFAULT:
		reply_textf(r, "The default team can't be renamed or deleted.");
		break;
	case TEAM_NOT_MEMBER:
		reply_textf(r, "Only members of this workspace can be in its teams.");
		break;
	case TEAM_UNCHANGED:
		reply_textf(r, "Nothing to change.");
		return CMD_OK;
	default:
		return CMD_STORE_ERROR;
	}
	return CMD_REFUSED;
}

static int check_team_name(const struct cmd_ctx *ctx, const char *name, struct reply *r)
{
	char taken[40], main_typed[80], shown[48];

	if (!team_name_valid(name)) {
		reply_textf(r, "A team name is 1 to 32 letters, digits, '.', '_' or '-'.");
		return -1;
	}
	if (dispatch_word_taken(name, taken, sizeof(taken))) {
		/* `/oncall TEAM` shows a team, so a team can't be named like a subcommand. */
		dispatch_typed(ctx, command_table[0], main_typed, sizeof(main_typed));
		reply_textf(r, "`%s %s` already means `%s %s`, so a team can't be called `%s`. Pick "
			       "another name.", main_typed, reply_escape(shown, sizeof(shown), name),
			    main_typed, taken, shown);
		return -1;
	}
	return 0;
}

static enum cmd_result team_list_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct team_info *t;
	struct buf b = BUF_INIT(16384);
	size_t n;

	(void)argc;
	(void)argv;
	if (team_list(ctx->store, ctx->org_id, &t, &n) < 0)
		return CMD_STORE_ERROR;
	reply_textf(r, "%zu team%s:", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "• `%s`: %zu member%s\n", t[i].name, t[i].members, t[i].members == 1 ? "" : "s");
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
	free(t);
	return CMD_OK;
}

static enum cmd_result team_create_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	int rc;

	(void)argc;
	if (check_team_name(ctx, argv[0], r) < 0)
		return CMD_REFUSED;
	rc = team_create(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			 argv[0], ctx->now_ms);
	if (rc == TEAM_OK)
		reply_textf(r, "Created team `%s`. Add people with `%s team add %s @user`.", argv[0], INV(ctx),
			    argv[0]);
	return team_result(rc, argv[0], r);
}

static enum cmd_result team_rename_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	int rc;

	(void)argc;
	if (check_team_name(ctx, argv[1], r) < 0)
		return CMD_REFUSED;
	rc = team_rename(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			 argv[0], argv[1], ctx->now_ms);
	if (rc == TEAM_OK)
		reply_textf(r, "Renamed team `%s` to `%s`.", argv[0], argv[1]);
	return team_result(rc, argv[0], r);
}

static enum cmd_result team_delete_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	int rc;

	(void)argc;
	rc = team_delete(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			 argv[0], ctx->now_ms);
	if (rc == TEAM_OK)
		reply_textf(r, "Deleted team `%s`. Its members stay in the workspace.", argv[0]);
	return team_result(rc, argv[0], r);
}

static enum cmd_result team_member_cmd(struct cmd_ctx *ctx, char **argv, int add, struct reply *r)
{
	char id[64];
	int rc = resolve_person(ctx, argv[1], id, sizeof(id), true, r);

	if (rc == -2)
		return CMD_STORE_ERROR;
	if (rc < 0)
		return CMD_REFUSED;
	rc = team_member(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			 argv[0], id, add, ctx->now_ms);
	if (rc == TEAM_OK)
		reply_textf(r, add ? "Added <@%s> to team `%s`." : "Removed <@%s> from team `%s`.", id, argv[0]);
	return team_result(rc, argv[0], r);
}

static enum cmd_result team_add_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return team_member_cmd(ctx, argv, 1, r);
}

static enum cmd_result team_remove_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return team_member_cmd(ctx, argv, 0, r);
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
	{ "map", "@user github:login", "links a chat user to an invited GitHub login", ROLE_ADMIN,
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
	{ "team list", "", "lists teams", ROLE_VIEWER, 0, 0, team_list_cmd, "", 0 },
	{ "team create", "NAME", "makes a team", ROLE_ADMIN, 1, 1, team_create_cmd, "ops",
	  CMD_TEAM_ONLY },
	{ "team rename", "NAME NEW-NAME", "renames a team", ROLE_ADMIN, 2, 2, team_rename_cmd,
	  "ops platform", CMD_TEAM_ONLY },
	{ "team delete", "NAME", "deletes a team (not its members)", ROLE_ADMIN, 1, 1,
	  team_delete_cmd, "ops", CMD_TEAM_ONLY },
	{ "team add", "NAME @user", "adds someone to a team", ROLE_ADMIN, 2, 2, team_add_cmd,
	  "default @user", CMD_TEAM_ONLY },
	{ "team remove", "NAME @user", "takes someone out of a team", ROLE_ADMIN, 2, 2,
	  team_remove_cmd, "default @user", CMD_TEAM_ONLY },
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
