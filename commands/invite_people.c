/* invite_people.c - `/invite members`, `role` and `remove`: who is in the org and with
 * which role, and taking someone out of it (bot/removal.h). */
#include "bot/removal.h"
#include "bot/when.h"
#include <string.h>
#include "commands/invite.h"

/* ---- members and roles ---- */

enum cmd_result invite_members(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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

enum cmd_result invite_role_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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
	rc = invite_resolve_person(ctx, argv[0], id, sizeof(id), true, r);
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

enum cmd_result invite_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char id[64], who[80];
	struct removal rm;
	int rc;

	(void)argc;
	rc = invite_resolve_person(ctx, argv[0], id, sizeof(id), true, r);
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
