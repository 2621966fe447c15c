/* invite_github.c - `/invite github ORG` (a GitHub org's members as invited people, read
 * on the jobs lane so no worker waits on GitHub) and `/invite map @user github:login`. */
#include "adapters/adapter.h"
#include "adapters/github.h"
#include "bot/cmdline.h"
#include "bot/invite.h"
#include "bot/jobs.h"
#include "bot/member.h"
#include "bot/org_link.h"
#include "bot/util.h"
#include "bot/workers.h"
#include <string.h>
#include "commands/invite.h"

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

enum cmd_result invite_github(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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

/* A person as typed: a mention, or a member id as `/invite members` shows it. */
static bool person_arg(const struct cmd_ctx *ctx, const char *arg, char *id, size_t size)
{
	if (cmdline_person(ctx->req->platform, arg, id, size) == 0 && org_member_id_valid(id))
		return true;
	return org_member_id_valid(arg) && wk_strlcpy(id, arg, size) < size;
}

/* `map TEAMS-USER MEMBER`: someone from a linked Teams tenant is that member. */
static enum cmd_result map_person(struct cmd_ctx *ctx, char **argv, struct reply *r)
{
	char user[64], member[64], shown[80];

	if (!person_arg(ctx, argv[0], user, sizeof(user)) || !person_arg(ctx, argv[1], member, sizeof(member))) {
		reply_textf(r, "Map a person like this: `%s map @user github:octocat` (a GitHub login), or "
			       "`%s map @teams-user @member` (someone from the linked Teams tenant is that member).",
			    INV(ctx), INV(ctx));
		return CMD_REFUSED;
	}
	switch (org_alias_set(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform), user,
			      member, ctx->now_ms)) {
	case 0:
		reply_textf(r, "`%s` is now <@%s> here: their commands, shifts and pages are that member's.",
			    reply_escape(shown, sizeof(shown), user), member);
		return CMD_OK;
	case 1:
		reply_textf(r, "<@%s> is not a member here (`%s members` lists them).", member, INV(ctx));
		return CMD_REFUSED;
	case 2:
		reply_textf(r, "`%s` is a member of their own already; remove them first (`%s remove`) if they "
			       "are <@%s>.", reply_escape(shown, sizeof(shown), user), INV(ctx), member);
		return CMD_REFUSED;
	case 3:
		reply_textf(r, "Mapping people needs the *admin* role.");
		return CMD_REFUSED;
	default:
		return CMD_STORE_ERROR;
	}
}

enum cmd_result invite_map(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char user[64], ph[64];
	int who;

	(void)argc;
	if (strncmp(argv[1], "github:", 7) != 0)
		return map_person(ctx, argv, r);
	who = invite_resolve_person(ctx, argv[0], user, sizeof(user), false, r);
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
