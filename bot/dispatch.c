/* dispatch.c - see dispatch.h */
#include "bot/dispatch.h"
#include "bot/dispatch_find.h"
#include "bot/dispatch_touch.h"
#include "bot/cmdline.h"
#include "bot/log.h"
#include "bot/member.h"
#include "bot/metrics.h"
#include "bot/org_link.h"
#include "bot/schedule_cache.h"
#include "bot/team.h"
#include "bot/util.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names as typed ---- */

const char *dispatch_typed(const struct cmd_ctx *ctx, const struct command *c, char *out, size_t size)
{
	const char *main_name = dispatch_find_main()->name;

	/* Teams and the console keep every command's own name; Slack reserves
	 * some (/invite), so there commands are reached through the main one. */
	if (ctx && ctx->req && ctx->req->platform != PLATFORM_SLACK) {
		snprintf(out, size, "/%s", c->name);
		return out;
	}
	if (ctx && ctx->req && ctx->cfg && ctx->cfg->slack_ncommands) {
		for (size_t i = 1; i < ctx->cfg->slack_ncommands; i++)
			if (strcmp(ctx->cfg->slack_command[i].command, c->name) == 0) {
				snprintf(out, size, "/%s", ctx->cfg->slack_command[i].name);
				return out;
			}
		main_name = ctx->cfg->slack_command[0].name;
	}
	if (c == dispatch_find_main())
		snprintf(out, size, "/%s", main_name);
	else
		snprintf(out, size, "/%s %s", main_name, c->name);
	return out;
}

/* A check from a table ("/invite list") as typed here ("/oncall invite list"). */
static const char *typed_check(const struct cmd_ctx *ctx, const char *check, char *out, size_t size)
{
	char word[32], typed[80];
	size_t n = strcspn(check + 1, " ");
	const struct command *c;

	snprintf(word, sizeof(word), "%.*s", (int)n, check + 1);
	if (check[0] != '/' || !(c = dispatch_find_command(word))) {
		wk_strlcpy(out, check, size);
		return out;
	}
	snprintf(out, size, "%s%s", dispatch_typed(ctx, c, typed, sizeof(typed)), check + 1 + n);
	return out;
}

/* One text with every "`/<command>" hint written as it is typed here. */
static char *retype_text(const struct cmd_ctx *ctx, const char *s)
{
	struct buf b = BUF_INIT(256 * 1024);
	const char *p = s;

	while (*p) {
		const char *hint = strstr(p, "`/");
		if (!hint) {
			buf_adds(&b, p);
			break;
		}
		buf_add(&b, p, (size_t)(hint - p));
		size_t n = strspn(hint + 2, "abcdefghijklmnopqrstuvwxyz");
		char word[32], typed[96];
		const struct command *c = NULL;
		if (n && n < sizeof(word)) {
			memcpy(word, hint + 2, n);
			word[n] = '\0';
			c = dispatch_find_command(word);
		}
		/* Slack's own `/invite @Watchkeeper` (add the app to a channel) stays. */
		if (!c || (hint[2 + n] != ' ' && hint[2 + n] != '`') || strncmp(hint + 2 + n, " @", 2) == 0) {
			buf_add(&b, hint, 2);
			p = hint + 2;
			continue;
		}
		buf_printf(&b, "`%s", dispatch_typed(ctx, c, typed, sizeof(typed)));
		p = hint + 2 + n;
	}
	return buf_detach(&b, NULL);
}

/* Replies name commands as the table does ("`/invite list`", "`/oncall
 * join`"); on Slack people type them through the registered names ("/oncall
 * invite list", or "/oncall-prod join" in an install that renamed it). One
 * pass here instead of every hint asking: a hint can't be missed. */
static void retype_hints(const struct cmd_ctx *ctx, struct reply *r)
{
	char *t;

	if (!ctx->req || ctx->req->platform != PLATFORM_SLACK)
		return;
	t = retype_text(ctx, buf_cstr(&r->text));
	buf_reset(&r->text);
	buf_adds(&r->text, t);
	free(t);
	for (size_t i = 0; i < r->nsections; i++) {
		if (r->sections[i].text) {
			t = retype_text(ctx, r->sections[i].text);
			free(r->sections[i].text);
			r->sections[i].text = t;
		}
		for (size_t f = 0; f < r->sections[i].nfields; f++) {
			t = retype_text(ctx, r->sections[i].fields[f].value);
			free(r->sections[i].fields[f].value);
			r->sections[i].fields[f].value = t;
		}
	}
}

const char *dispatch_typed_name(const struct cmd_ctx *ctx, const char *name, char *out, size_t size)
{
	const struct command *c = dispatch_find_command(name);

	if (c)
		return dispatch_typed(ctx, c, out, size);
	snprintf(out, size, "/%s", name);
	return out;
}

const char *dispatch_rest(const struct cmd_ctx *ctx, int i)
{
	if (!ctx->line || i < 0)
		return "";
	return cmdline_rest(ctx->line, ctx->first + (size_t)i);
}

/* ---- usage and help ---- */

static void usage_line(struct buf *b, const char *typed, const struct command *c,
		       const struct subcommand *s)
{
	if (s == c->default_sub)
		buf_printf(b, "`%s` or ", typed);
	buf_printf(b, "`%s %s%s%s`", typed, s->name, s->args[0] ? " " : "", s->args);
	buf_printf(b, " %s", s->summary);
	if (s->min_role > ROLE_DEVELOPER)
		buf_printf(b, " (%s)", role_name(s->min_role));
	buf_addc(b, '\n');
}

/* Usage of one subcommand, of all those sharing a first word (head), or of all. */
static void usage(const struct cmd_ctx *ctx, const struct command *c, const struct subcommand *sub,
		  const char *head, struct reply *r)
{
	struct buf b = BUF_INIT(16384);
	char typed[80], other[80];

	dispatch_typed(ctx, c, typed, sizeof(typed));
	if (sub) {
		buf_adds(&b, "Usage: ");
		usage_line(&b, typed, c, sub);
	} else {
		buf_printf(&b, "Usage: `%s%s%s [subcommand]`. Subcommands:\n", typed,
			   head ? " " : "", head ? head : "");
		for (const struct subcommand *s = c->subcommands; s->name; s++) {
			char first[32];
			const char *second;
			dispatch_find_split(s->name, first, sizeof(first), &second);
			if (!head || (second[0] && strcasecmp(first, head) == 0))
				usage_line(&b, typed, c, s);
		}
		for (size_t i = 1; !head && c == dispatch_find_main() && command_table[i]; i++)
			if (dispatch_nested(command_table[i]))
				buf_printf(&b, "`%s ...` %s: `%s help`\n",
					   dispatch_typed(ctx, command_table[i], other, sizeof(other)),
					   command_table[i]->summary, other);
		if (!head)
			buf_printf(&b, "`%s help` shows this list.", typed);
	}
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
}

void dispatch_usage(const struct cmd_ctx *ctx, const struct command *c, const struct subcommand *sub,
		    struct reply *r)
{
	usage(ctx, c, sub, NULL, r);
}

void dispatch_help(const struct cmd_ctx *ctx, const struct command *c, struct reply *r)
{
	char typed[80];

	r->personal = true;	/* long, and for the asker: not for a whole channel */
	reply_textf(r, "*%s*: %s", dispatch_typed(ctx, c, typed, sizeof(typed)), c->summary);
	dispatch_usage(ctx, c, NULL, r);
}

/* A group in one line: "`/oncall rotation list|create|set|...`". */
static void group_line(struct buf *b, const char *typed, const struct command *c, const char *head)
{
	int n = 0;

	buf_printf(b, "`%s %s ", typed, head);
	for (const struct subcommand *s = c->subcommands; s->name; s++) {
		char first[32];
		const char *second;
		dispatch_find_split(s->name, first, sizeof(first), &second);
		if (second[0] && strcasecmp(first, head) == 0)
			buf_printf(b, "%s%s", n++ ? "|" : "", second);
	}
	buf_adds(b, " ...`");
}

/* No such subcommand: say so, offer the nearest name, and one short line, not
 * the whole help. not_team: the word was also looked up as a team. */
static void refuse_unknown(const struct cmd_ctx *ctx, const struct dispatch_lookup *L, size_t argc,
			   char **argv, bool not_team, struct reply *r)
{
	const struct command *c = L->cmd;
	struct dispatch_word w[DISPATCH_MAX_WORDS];
	const struct dispatch_word *near = NULL;
	struct buf b = BUF_INIT(4096);
	char typed[80], shown[80], shown2[80];
	size_t at = L->base;

	dispatch_typed(ctx, c, typed, sizeof(typed));
	reply_escape(shown, sizeof(shown), argc > at ? argv[at] : "");
	if (L->ambiguous) {
		bool two = L->ambiguous == 2 && argc > at + 1;	/* "`me name`, `me notify`" */
		reply_textf(r, "`%s %s%s%s` could be %s; type more of it.", typed, shown, two ? " " : "",
			    two ? reply_escape(shown2, sizeof(shown2), argv[at + 1]) : "", L->cands);
		buf_free(&b);
		return;
	}
	if (L->first.kind == WORD_HEAD) {
		/* "rotation" alone, or with a second word that isn't one of its rows */
		const struct subcommand *s = argc > at + 1
			? dispatch_find_near_second(c, L->first.name, L->first.len, argv[at + 1]) : NULL;
		if (s) {
			reply_textf(r, "`%s %.*s` has no `%s`. Did you mean `%s %s`?", typed,
				    (int)L->first.len, L->first.name,
				    reply_escape(shown2, sizeof(shown2), argv[at + 1]), typed, s->name);
			usage(ctx, c, s, NULL, r);
		} else {
			char head[32];
			snprintf(head, sizeof(head), "%.*s", (int)L->first.len, L->first.name);
			reply_textf(r, "`%s %s` needs one of these:", typed, head);
			usage(ctx, c, NULL, head, r);
		}
		buf_free(&b);
		return;
	}
	near = dispatch_find_closest(w, dispatch_find_firsts(c, w, DISPATCH_MAX_WORDS), argc > at ? argv[at] : "");
	if (not_team)
		reply_textf(r, "`%s` has no subcommand `%s`, and there is no team `%s`.", typed, shown, shown);
	else
		reply_textf(r, "`%s` has no subcommand `%s`.", typed, shown);
	if (near) {
		char other[80];
		buf_printf(&b, "Did you mean `%s %.*s`? ", typed, (int)near->len, near->name);
		if (near->kind == WORD_SUB)
			usage_line(&b, typed, c, near->sub);
		else if (near->kind == WORD_HEAD) {
			char head[32];
			snprintf(head, sizeof(head), "%.*s", (int)near->len, near->name);
			group_line(&b, typed, c, head);
		}
		else
			buf_printf(&b, "`%s ...` %s", dispatch_typed(ctx, near->cmd, other, sizeof(other)),
				   near->cmd->summary);
	} else {
		size_t n = dispatch_find_firsts(c, w, DISPATCH_MAX_WORDS);
		buf_printf(&b, "Usage: `%s SUBCOMMAND ...`, one of: ", typed);
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, "%s%.*s", i ? ", " : "", (int)w[i].len, w[i].name);
		buf_printf(&b, ". `%s help` explains them.", typed);
	}
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
}

void dispatch_dump_json(FILE *out)
{
	json_t *all = json_array();
	char *text;

	for (size_t i = 0; command_table[i]; i++) {
		const struct command *c = command_table[i];
		for (const struct subcommand *s = c->subcommands; s->name; s++)
			json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b}",
				"command", c->name, "subcommand", s->name, "args", s->args,
				"example", s->example ? s->example : "", "min_role", role_name(s->min_role),
				"team_only", (s->flags & CMD_TEAM_ONLY) != 0, "default", s == c->default_sub));
		for (const struct command_action *a = c->actions; a && a->name; a++)
			json_array_append_new(all, json_pack("{s:s, s:s, s:s}", "command", c->name,
							     "action", a->name, "min_role", role_name(a->min_role)));
	}
	text = json_dumps(all, JSON_INDENT(1));
	fprintf(out, "%s\n", text);
	free(text);
	json_decref(all);
}

static void refuse_role(const char *typed, const char *what, enum role need, enum role have,
			struct reply *r)
{
	reply_textf(r, "`%s %s` needs the *%s* role%s; you are %s *%s*. Ask an owner%s.", typed,
		    what, role_name(need), need == ROLE_OWNER ? "" : " or higher",
		    have == ROLE_ADMIN || have == ROLE_OWNER ? "an" : "a", role_name(have),
		    need == ROLE_OWNER ? " to do it for you" : " to change your role");
}

void dispatch_refuse_role(const struct cmd_ctx *ctx, const struct command *c, const char *what, enum role need,
			  struct reply *r)
{
	char typed[80];

	refuse_role(dispatch_typed(ctx, c, typed, sizeof(typed)), what, need, ctx->role, r);
}

static void refuse_non_member(const struct cmd_ctx *ctx, struct reply *r)
{
	char typed[80];

	reply_textf(r, "You are not a member of this workspace's Watchkeeper yet. Ask an admin for "
		       "an invite code, then type `%s join CODE`.",
		    dispatch_typed_name(ctx, "invite", typed, sizeof(typed)));
}

static void offer_team_mode(struct cmd_ctx *ctx, struct reply *r)
{
	reply_textf(r, "This workspace uses Watchkeeper in *solo* mode: invites, roles and teams "
		       "need *team* mode.");
	if (ctx->role == ROLE_OWNER) {
		reply_section(r, "Switch to team mode? Your rotation and settings stay as they are.");
		reply_button(r, "Switch to team mode", "invite.team_mode", "", BUTTON_PRIMARY);
	} else {
		char typed[80];
		reply_section(r, "Ask the owner to switch it with `%s team-mode`.",
			      dispatch_typed_name(ctx, "invite", typed, sizeof(typed)));
	}
}

/* A non-member whose chat profile email matches an email invite becomes that
 * member at once: the invite was meant for them. Returns 1 claimed, 0 not. */
static int claim_by_email(const struct dispatch_env *env, struct cmd_ctx *ctx)
{
	char key[192], lower[256];
	redisReply *r;
	int claimed = 0;

	if (!env->email || env->email->rc != 0)
		return 0;
	wk_strlcpy(lower, env->email->email, sizeof(lower));
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (org_key(key, sizeof(key), ctx->org_id, "invited_emails") < 0)
		return 0;
	r = store_command(ctx->store, "HGET %s %s", key, lower);
	if (r && r->type == REDIS_REPLY_STRING &&
	    member_claim(ctx->store, ctx->org_id, r->str, ctx->req->user_id,
			 platform_name(ctx->req->platform), ctx->req->user_id, "email", ctx->now_ms) == 0) {
		struct member m;
		if (member_get(ctx->store, ctx->org_id, ctx->req->user_id, &m) == 0) {
			ctx->role = m.role;
			claimed = 1;
			log_info("member.claimed", "org=%s user=%s via=email", ctx->org_id, ctx->req->user_id);
		}
	}
	if (r)
		freeReplyObject(r);
	return claimed;
}

/* A person from the org's other platform (env->org_id: a linked Teams tenant)
 * whose email is a member's email here is that member (org_link.h): the
 * request runs as them, in *as. 1 matched, 0 not. */
static int alias_by_email(const struct dispatch_env *env, struct cmd_ctx *ctx, struct request *as)
{
	char member[64];
	struct member m;

	if (!env->email || env->email->rc != 0 ||
	    org_alias_by_email(ctx->store, ctx->org_id, ctx->req->user_id, env->email->email, ctx->now_ms, member,
			       sizeof(member)) != 0 ||
	    member_get(ctx->store, ctx->org_id, member, &m) != 0)
		return 0;
	*as = *ctx->req;
	wk_strlcpy(as->user_id, member, sizeof(as->user_id));
	ctx->req = as;
	ctx->role = m.role;
	if (env->member_out)
		wk_strlcpy(env->member_out, member, 64);
	log_info("member.alias", "org=%s member=%s via=email", ctx->org_id, member);
	return 1;
}

static enum cmd_result run_action(const struct command *c, const char *action, struct cmd_ctx *ctx,
				  struct reply *r)
{
	char typed[80];

	dispatch_typed(ctx, c, typed, sizeof(typed));
	for (const struct command_action *a = c->actions; a && a->name; a++) {
		if (strcmp(a->name, action) != 0)
			continue;
		if (ctx->role == ROLE_NONE && a->min_role > ROLE_NONE) {
			refuse_non_member(ctx, r);
			return CMD_REFUSED;
		}
		if (ctx->role < a->min_role) {
			refuse_role(typed, a->name, a->min_role, ctx->role, r);
			return CMD_REFUSED;
		}
		return a->handler(ctx, ctx->req->action_value, r);
	}
	reply_textf(r, "That button is no longer supported. Run `%s` again.", typed);
	return CMD_REFUSED;
}

/* What the user hears when the store failed. `what` is the command as typed
 * ("`/oncall join`", "that button"), check the command that shows the state;
 * ran says whether the handler ran (false: the org lookup failed first). */
static enum cmd_result store_failed(struct cmd_ctx *ctx, const char *what, const char *check,
				    bool ran, struct reply *r)
{
	/* Without a store: the loop's touch went out whole and got no answer. */
	bool unknown = ctx->store ? store_unanswered(ctx->store) : true;

	log_warn("dispatch.store", "org=%s outcome=%s error=\"%s\"", ctx->org_id,
		 unknown ? "unknown" : "not_applied", ctx->store ? store_error(ctx->store) : "no answer");
	reply_reset(r);
	if (!unknown) {
		reply_textf(r, "Watchkeeper can't reach its database right now, so nothing was changed. "
			       "Please try again in a minute.");
	} else if (!ran) {
		/* Only org_touch went out: it creates a missing org and changes nothing
		 * else, so doing it twice is harmless. */
		reply_textf(r, "Watchkeeper's database did not answer in time, so %s was not run. "
			       "If this was the first command in this workspace, the workspace may or may "
			       "not have been set up with you as its owner; running the command again is "
			       "safe. Please try again in a minute.", what);
	} else {
		reply_textf(r, "Watchkeeper's database did not answer in time, so %s may or may not "
			       "have been applied. Check with `%s` before trying again.", what,
			    check);
	}
	return CMD_STORE_ERROR;
}

static const char *check_for(const struct command *c, const char *name)
{
	for (const struct command_check *k = c->checks; k && k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k->check;
	return NULL;
}

static const char *const outcome_names[] = { "ok", "refused", "store_error", "replayed", "deferred", "relink",
					      "needs_touch", "needs_worker" };

enum cmd_result dispatch_request(const struct dispatch_env *env, const struct request *req,
				 struct reply *r)
{
	const struct command *c;
	const struct subcommand *sub = NULL;
	struct cmdline cl = { 0 };
	struct cmd_ctx ctx = { 0 };
	struct org_view view;
	char org_id[96], err[160];
	const char *subname = "";
	int64_t started = wk_mono_us();
	enum cmd_result res = CMD_REFUSED;
	size_t used = 0;
	bool claimed = false, aliased = false, team_first = false;
	char preload_team[SCHEDULE_ID_LEN] = "";
	struct team_plan preload_own = { 0 };
	char what[160], help[160], typed[80];
	const char *check = NULL;
	int64_t replay_ttl_ms = 0;
	int touched;
	struct request as;	/* the request as the member an alias stands for */

	ctx.cfg = env->cfg;
	ctx.req = req;
	c = dispatch_find_command(req->command);
	if (!c) {
		char shown[40];
		reply_escape(shown, sizeof(shown), req->command);
		reply_textf(r, "I don't know the command `/%s`. Try `%s help`.", shown,
			    dispatch_typed(&ctx, dispatch_find_main(), typed, sizeof(typed)));
		goto out;
	}
	if ((env->org_id ? wk_strlcpy(org_id, env->org_id, sizeof(org_id)) >= sizeof(org_id)
			 : org_id_make(req->platform, req->org_external, org_id, sizeof(org_id)) < 0) ||
	    !org_member_id_valid(req->user_id)) {
		reply_textf(r, "This request has a workspace or user id I can't use.");
		goto out;
	}
	ctx.store = env->store;
	ctx.org_id = org_id;
	ctx.now_ms = env->touch && env->touch->state != TOUCH_NONE ? env->touch->now_ms : wk_now_ms();

	if (!req->action_id[0]) {
		struct dispatch_lookup L;
		size_t at;
		int n;

		/* Enough words to find the subcommand (a command reached through the
		 * main one, two words) and no more: the free text after them may hold
		 * anything, even a stray quote. */
		if (cmdline_split_max(req->text, 4, &cl, err, sizeof(err)) < 0) {
			reply_textf(r, "I couldn't read that: %s. `%s help` shows how each command is "
				       "written.", err, dispatch_typed(&ctx, c, typed, sizeof(typed)));
			goto out;
		}
		/* "help" is every command's own word (and never the help command's,
		 * which lists the commands); "/oncall help invite" = "/oncall invite help". */
		if (cl.argc && strcasecmp(cl.argv[0], "help") == 0)
			L = (struct dispatch_lookup){ .cmd = c };
		else
			dispatch_find_lookup(c, cl.argc, cl.argv, &L);
		if (cl.argc > L.base && strcasecmp(cl.argv[L.base], "help") == 0) {
			const struct command *hc = L.cmd;
			char junk[256] = "";
			struct dispatch_word w = { 0 };
			if (!L.base && cl.argc > 1)
				w = dispatch_find_first(c, cl.argv[1], &n, junk, sizeof(junk));
			if (w.kind == WORD_COMMAND && n == 1)
				hc = w.cmd;
			dispatch_help(&ctx, hc, r);
			res = CMD_OK;
			subname = "help";
			goto out;
		}
		c = L.cmd;
		sub = L.sub;
		at = L.base + L.used;
		if (!sub && !L.ambiguous && L.first.kind == WORD_NONE && !L.base &&
		    (c->default_sub->flags & CMD_TEAM_FIRST) &&
		    cl.argc <= (size_t)c->default_sub->max_args) {
			sub = c->default_sub;	/* `/oncall TEAM`, if TEAM is a team (below) */
			team_first = true;
			at = 0;
		}
		if (!sub) {
			refuse_unknown(&ctx, &L, cl.argc, cl.argv, false, r);
			goto out;
		}
		subname = sub->name;
		dispatch_typed(&ctx, c, typed, sizeof(typed));
		/* Now every word, up to the last argument of a CMD_REST row, which
		 * takes the rest of the line as typed. */
		cmdline_free(&cl);
		if (cmdline_split_max(req->text, sub->flags & CMD_REST ? at + (size_t)sub->max_args : 0,
				      &cl, err, sizeof(err)) < 0) {
			reply_textf(r, "I couldn't read that: %s.", err);
			dispatch_usage(&ctx, c, sub, r);
			goto out;
		}
		int nargs = (int)(cl.argc - at);
		const struct subcommand *near = L.used == 1 && nargs
			? dispatch_find_near_second(c, sub->name, strlen(sub->name), cl.argv[at]) : NULL;
		if (near && (nargs < sub->min_args || nargs > sub->max_args)) {
			/* "swap cancle s1": swap's arguments don't fit, and "swap cancel" is near */
			reply_textf(r, "`%s %s` takes %s. Did you mean `%s %s`?", typed, sub->name,
				    sub->max_args ? sub->args : "no arguments", typed, near->name);
			dispatch_usage(&ctx, c, near, r);
			goto out;
		}
		if (nargs > sub->max_args && sub->max_args > 0) {
			reply_textf(r, "`%s %s` takes at most %d argument%s; that was %d.", typed, sub->name,
				    sub->max_args, sub->max_args == 1 ? "" : "s", nargs);
			dispatch_usage(&ctx, c, sub, r);
			goto out;
		}
		if (nargs < sub->min_args || nargs > sub->max_args) {
			reply_textf(r, "`%s %s` takes %s.", typed, sub->name,
				    sub->max_args == 0 ? "no arguments" : sub->args);
			dispatch_usage(&ctx, c, sub, r);
			goto out;
		}
		ctx.line = &cl;
		ctx.first = at;
		used = at;
	} else {
		subname = req->action_id;
	}

	dispatch_typed(&ctx, c, typed, sizeof(typed));
	if (req->action_id[0]) {
		const char *dot = strchr(req->action_id, '.');
		check = check_for(c, dot ? dot + 1 : "");
		snprintf(what, sizeof(what), "that button");
	} else {
		check = check_for(c, sub->name);
		snprintf(what, sizeof(what), "`%s %s`", typed, sub->name);
	}
	if (check) {
		check = typed_check(&ctx, check, help, sizeof(help));
	} else {
		snprintf(help, sizeof(help), "%s help", typed);
		check = help;	/* lists the commands that show what is stored */
	}
	struct dispatch_touch *t = env->touch;
	if (!env->store && team_first) {
		res = CMD_NEEDS_WORKER;	/* its team is looked up before the touch */
		goto out;
	}
	if (env->store)
		store_unanswered_clear(env->store);
	/* `/oncall WORD`: a team, or a word we don't know. Looked up before the
	 * org is touched, so an unknown word writes nothing, as any refusal. */
	if (team_first && (touched = team_resolve(env->store, org_id, cl.argv[0], err, sizeof(err))) != 0) {
		if (touched > 0) {
			struct dispatch_lookup L = { .cmd = c };
			refuse_unknown(&ctx, &L, cl.argc, cl.argv, true, r);
		} else {
			res = store_failed(&ctx, what, check, false, r);
		}
		goto out;
	}
	if (req->replay_id[0]) {
		int64_t ttl = (int64_t)req->replay_until * 1000 - ctx.now_ms + 1000;
		replay_ttl_ms = ttl > 1000 ? ttl : 1000;
	}
	struct org_preload pre = { .team = team_first ? err : "default",
				   .from_s = ctx.now_ms / 1000 - DISPATCH_PRELOAD_BACK_S };
	bool preload = !req->action_id[0] && (sub->flags & CMD_PRELOAD_TEAM) && (team_first || cl.argc == 0);
	const struct team_plan *cached = NULL;
	int64_t cached_from = 0;
	if (preload)
		cached = schedule_cache_get(env->schedules, org_id, pre.team, &pre.stamp, &cached_from);
	const struct org_replay replay = { req->replay_id, replay_ttl_ms, req->replay_own_key };
	if (t && t->state == TOUCH_NONE && !env->store) {
		/* Pass 1 on the loop: what to send. */
		res = dispatch_touch_ask(t, org_id, req, &replay, ctx.now_ms, preload ? &pre : NULL) < 0
			? CMD_NEEDS_WORKER : CMD_NEEDS_TOUCH;
		goto out;
	}
	if (t && t->state == TOUCH_ANSWERED) {
		if (!dispatch_touch_take(env, preload ? &pre : NULL, cached, &view, &touched)) {
			res = CMD_NEEDS_WORKER;	/* pass 3: the rest needs a store */
			goto out;
		}
		if (touched == 0 && view.created)
			org_index_add(env->store, org_id, req->user_id);
	} else {
		touched = org_touch_preload(env->store, org_id, req->user_id, platform_name(req->platform), &replay,
					    ctx.now_ms, &view, preload ? &pre : NULL);
	}
	if (preload && touched == 0 && dispatch_preload_take(env, org_id, &pre, cached, cached_from, &preload_own, &ctx) == 0) {
		wk_strlcpy(preload_team, pre.team, sizeof(preload_team));
		ctx.preload_team = preload_team;
	}
	if (pre.plan)	/* not taken (the touch's, when the org was linked or replayed) */
		freeReplyObject(pre.plan);
	if (touched < 0) {
		res = store_failed(&ctx, what, check, false, r);
		goto out;
	}
	if (touched == ORG_LINKED) {
		if (env->relinked && !env->org_id) {
			wk_strlcpy(env->relinked, view.linked_to, 96);
			res = CMD_RELINK;
		} else {
			reply_textf(r, "This workspace is linked to another one that I can't reach from here.");
		}
		goto out;
	}
	if (touched == ORG_REPLAYED) {
		log_warn("dispatch.replay", "org=%s user=%s command=%s", org_id, req->user_id, c->name);
		reply_textf(r, "This request was already received; it was not run again.");
		res = CMD_REPLAYED;
		goto out;
	}
	if (view.member[0] && strcmp(view.member, req->user_id) != 0 && org_member_id_valid(view.member)) {
		/* An alias: the request runs as the member it stands for. */
		as = *req;
		wk_strlcpy(as.user_id, view.member, sizeof(as.user_id));
		ctx.req = &as;
	}
	if (env->member_out)
		wk_strlcpy(env->member_out, ctx.req->user_id, 64);
	ctx.role = view.role;
	ctx.team_mode = view.team_mode;
	ctx.tz = view.tz;
	if (view.suspended) {
		reply_textf(r, "This workspace's Watchkeeper is suspended. Please contact the people who "
			       "run Watchkeeper for you.");
		goto out;
	}
	/* Someone new from a linked platform may be a member already, by email. */
	if (ctx.role == ROLE_NONE && (view.has_email_placeholders || env->org_id)) {
		if (env->email) {
			if (env->org_id && alias_by_email(env, &ctx, &as))
				aliased = true;
			else
				claimed = claim_by_email(env, &ctx);
		} else if (env->lookup_email && env->lookup_email(env, req) == 0) {
			reply_textf(r, env->org_id ? "Looking you up\u2026 The answer follows in a moment."
						   : "Checking whether you have an invite\u2026 The answer follows in a moment.");
			res = CMD_DEFERRED;
			goto out;
		}
	}

	if (req->action_id[0]) {
		const char *dot = strchr(req->action_id, '.');
		res = run_action(c, dot ? dot + 1 : "", &ctx, r);
	} else if (ctx.role == ROLE_NONE && sub->min_role > ROLE_NONE) {
		refuse_non_member(&ctx, r);
	} else if (ctx.role < sub->min_role) {
		refuse_role(typed, sub->name, sub->min_role, ctx.role, r);
	} else if ((sub->flags & CMD_TEAM_ONLY) && !ctx.team_mode) {
		offer_team_mode(&ctx, r);
	} else {
		res = sub->handler(&ctx, cl.argc ? (int)(cl.argc - used) : 0,
				   cl.argc ? cl.argv + used : cl.argv, r);
	}
	if (res == CMD_STORE_ERROR)
		store_failed(&ctx, what, check, true, r);
	if (res == CMD_OK && view.created)	/* news first: the answer follows it */
		reply_lead(r, "Welcome to Watchkeeper. You created this workspace's on-call and "
			      "you are its *owner*. `%s help` lists what you can do.",
			   dispatch_typed(&ctx, dispatch_find_main(), typed, sizeof(typed)));
	if (aliased && res != CMD_STORE_ERROR)
		reply_section(r, "Welcome: your email matches <@%s>'s, so that is who you are here, with the "
				 "*%s* role.", ctx.req->user_id, role_name(ctx.role));
	if (claimed && res != CMD_STORE_ERROR)
		reply_section(r, "Welcome: your email invite matched your chat profile, so you are now a "
				 "member with the *%s* role.", role_name(ctx.role));
out:
	team_plan_free(&preload_own);
	retype_hints(&ctx, r);
	cmdline_free(&cl);
	if (res != CMD_NEEDS_TOUCH && res != CMD_NEEDS_WORKER)	/* counted when it ends */
		metrics_command(c ? c->name : "unknown", subname, outcome_names[res],
				wk_mono_us() - started);
	return res;
}

int dispatch_schedule_load(struct cmd_ctx *ctx, const char *team, int64_t from, int64_t to, struct team_plan *out)
{
	if (ctx->preload_plan && ctx->preload_team && strcmp(ctx->preload_team, team) == 0 &&
	    from >= ctx->preload_from) {
		schedule_cache_view(ctx->preload_cache, ctx->preload_plan, ctx->now_ms / 1000, from, to, out);
		return 0;
	}
	return schedule_load(ctx->store, ctx->org_id, team, from, to, out);
}
