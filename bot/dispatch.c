/* dispatch.c - see dispatch.h */
#include "bot/dispatch.h"
#include "bot/cmdline.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const struct command *dispatch_find_command(const char *name)
{
	if (name[0] == '/')
		name++;
	for (size_t i = 0; command_table[i]; i++) {
		const struct command *c = command_table[i];
		if (strcmp(c->name, name) == 0)
			return c;
		for (size_t a = 0; c->aliases && c->aliases[a]; a++)
			if (strcmp(c->aliases[a], name) == 0)
				return c;
	}
	return NULL;
}

const struct subcommand *dispatch_find_subcommand(const struct command *c, const char *name,
						  int *ambiguous)
{
	const struct subcommand *found = NULL;
	size_t n = strlen(name);
	int matches = 0;

	*ambiguous = 0;
	/* Phones capitalise the first word; names are matched without case. */
	for (const struct subcommand *s = c->subcommands; s->name; s++)
		if (strcasecmp(s->name, name) == 0)
			return s;
	if (n == 0)
		return NULL;
	for (const struct subcommand *s = c->subcommands; s->name; s++)
		if (strncasecmp(s->name, name, n) == 0) {
			found = s;
			matches++;
		}
	if (matches > 1) {
		*ambiguous = 1;
		return NULL;
	}
	return found;
}

static void usage_line(struct buf *b, const struct command *c, const struct subcommand *s)
{
	if (s == c->default_sub)
		buf_printf(b, "`/%s` or ", c->name);
	buf_printf(b, "`/%s %s%s%s`", c->name, s->name, s->args[0] ? " " : "", s->args);
	buf_printf(b, " %s", s->summary);
	if (s->min_role > ROLE_DEVELOPER)
		buf_printf(b, " (%s)", role_name(s->min_role));
	buf_addc(b, '\n');
}

void dispatch_usage(const struct command *c, const struct subcommand *sub, struct reply *r)
{
	struct buf b = BUF_INIT(8192);

	if (sub) {
		buf_adds(&b, "Usage: ");
		usage_line(&b, c, sub);
	} else {
		buf_printf(&b, "Usage: `/%s [subcommand]`. Subcommands:\n", c->name);
		for (const struct subcommand *s = c->subcommands; s->name; s++)
			usage_line(&b, c, s);
		buf_printf(&b, "`/%s help` shows this list.", c->name);
	}
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
}

void dispatch_help(const struct command *c, struct reply *r)
{
	reply_textf(r, "*/%s*: %s", c->name, c->summary);
	dispatch_usage(c, NULL, r);
}

static void refuse_role(const struct command *c, const char *what, enum role need, enum role have,
			struct reply *r)
{
	reply_textf(r, "`/%s %s` needs the *%s* role%s; you are %s *%s*. Ask an owner%s.", c->name,
		    what, role_name(need), need == ROLE_OWNER ? "" : " or higher",
		    have == ROLE_ADMIN || have == ROLE_OWNER ? "an" : "a", role_name(have),
		    need == ROLE_OWNER ? " to do it for you" : " to change your role");
}

static enum cmd_result run_action(const struct command *c, const char *action, struct cmd_ctx *ctx,
				  struct reply *r)
{
	for (const struct command_action *a = c->actions; a && a->name; a++) {
		if (strcmp(a->name, action) != 0)
			continue;
		if (ctx->role < a->min_role) {
			refuse_role(c, a->name, a->min_role, ctx->role, r);
			return CMD_REFUSED;
		}
		return a->handler(ctx, ctx->req->action_value, r);
	}
	reply_textf(r, "That button is no longer supported. Run `/%s` again.", c->name);
	return CMD_REFUSED;
}

static enum cmd_result store_failed(struct cmd_ctx *ctx, struct reply *r)
{
	log_warn("dispatch.store", "org=%s error=\"%s\"", ctx->org_id, store_error(ctx->store));
	reply_reset(r);
	reply_textf(r, "Watchkeeper can't reach its database right now, so nothing was changed. "
		       "Please try again in a minute.");
	return CMD_STORE_ERROR;
}

static const char *const outcome_names[] = { "ok", "refused", "store_error" };

enum cmd_result dispatch_request(const struct dispatch_env *env, const struct request *req,
				 struct reply *r)
{
	const struct command *c;
	const struct subcommand *sub = NULL;
	struct cmdline cl = { 0 };
	struct cmd_ctx ctx = { 0 };
	char org_id[96], err[160];
	const char *subname = "";
	int64_t started = wk_mono_us();
	enum cmd_result res = CMD_REFUSED;
	bool created;

	c = dispatch_find_command(req->command);
	if (!c) {
		reply_textf(r, "I don't know the command `/%s`. Try `/oncall help`.", req->command);
		goto out;
	}
	if (org_id_make(req->platform, req->org_external, org_id, sizeof(org_id)) < 0 ||
	    !org_member_id_valid(req->user_id)) {
		reply_textf(r, "This request has a workspace or user id I can't use.");
		goto out;
	}
	ctx.store = env->store;
	ctx.cfg = env->cfg;
	ctx.req = req;
	ctx.org_id = org_id;
	ctx.now_ms = wk_now_ms();

	if (!req->action_id[0]) {
		int ambiguous = 0;

		if (cmdline_split(req->text, &cl, err, sizeof(err)) < 0) {
			reply_textf(r, "I couldn't read that: %s.", err);
			dispatch_usage(c, NULL, r);
			goto out;
		}
		if (cl.argc == 0) {
			sub = c->default_sub;
		} else if (strcasecmp(cl.argv[0], "help") == 0) {
			dispatch_help(c, r);
			res = CMD_OK;
			subname = "help";
			goto out;
		} else {
			sub = dispatch_find_subcommand(c, cl.argv[0], &ambiguous);
		}
		if (!sub) {
			char shown[80];
			reply_escape(shown, sizeof(shown), cl.argv[0]);
			if (ambiguous) {
				const char *sep = "";
				reply_textf(r, "`%s` is ambiguous, it could be ", shown);
				for (const struct subcommand *s = c->subcommands; s->name; s++)
					if (strncasecmp(s->name, cl.argv[0], strlen(cl.argv[0])) == 0) {
						reply_textf(r, "%s`%s`", sep, s->name);
						sep = " or ";
					}
				reply_textf(r, ".");
			}
			else
				reply_textf(r, "`/%s` has no subcommand `%s`.", c->name, shown);
			dispatch_usage(c, NULL, r);
			goto out;
		}
		subname = sub->name;
		int nargs = cl.argc ? (int)cl.argc - 1 : 0;
		if (nargs < sub->min_args || nargs > sub->max_args) {
			reply_textf(r, "`/%s %s` takes %s.", c->name, sub->name,
				    sub->max_args == 0 ? "no arguments" : sub->args);
			dispatch_usage(c, sub, r);
			goto out;
		}
	} else {
		subname = req->action_id;
	}

	if (org_touch(env->store, org_id, req->platform, req->org_external, req->user_id,
		      ctx.now_ms, &ctx.role, &created) < 0) {
		res = store_failed(&ctx, r);
		goto out;
	}

	if (req->action_id[0]) {
		const char *dot = strchr(req->action_id, '.');
		res = run_action(c, dot ? dot + 1 : "", &ctx, r);
	} else if (ctx.role < sub->min_role) {
		refuse_role(c, sub->name, sub->min_role, ctx.role, r);
		res = CMD_REFUSED;
	} else {
		res = sub->handler(&ctx, cl.argc ? (int)cl.argc - 1 : 0, cl.argc ? cl.argv + 1 : cl.argv, r);
	}
	if (res == CMD_STORE_ERROR)
		store_failed(&ctx, r);
	if (created && res == CMD_OK)
		reply_section(r, "Welcome to Watchkeeper. You created this workspace's on-call and "
				 "you are its *owner*. `/%s help` lists what you can do.", c->name);
out:
	cmdline_free(&cl);
	metrics_command(c ? c->name : "unknown", subname, outcome_names[res],
			wk_mono_us() - started);
	return res;
}
