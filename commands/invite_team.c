/* invite_team.c - `/invite team list|create|rename|delete|add|remove`. */
#include "bot/team.h"
#include "commands/invite.h"

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

enum cmd_result invite_team_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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

enum cmd_result invite_team_create(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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

enum cmd_result invite_team_rename(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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

enum cmd_result invite_team_delete(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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
	int rc = invite_resolve_person(ctx, argv[1], id, sizeof(id), true, r);

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

enum cmd_result invite_team_add(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return team_member_cmd(ctx, argv, 1, r);
}

enum cmd_result invite_team_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return team_member_cmd(ctx, argv, 0, r);
}
