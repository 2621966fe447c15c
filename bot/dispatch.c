/* dispatch.c - see dispatch.h */
#include "bot/dispatch.h"
#include "bot/cmdline.h"
#include "bot/log.h"
#include "bot/member.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct command *dispatch_find_command(const char *name)
{
	if (name[0] == '/')
		name++;
	for (size_t i = 0; command_table[i]; i++) {
		const struct command *c = command_table[i];
		if (strcasecmp(c->name, name) == 0)
			return c;
		for (size_t a = 0; c->aliases && c->aliases[a]; a++)
			if (strcasecmp(c->aliases[a], name) == 0)
				return c;
	}
	return NULL;
}

/* Split "team create" into its words; second is "" for one-word names. */
static void sub_words(const char *name, char *first, size_t size, const char **second)
{
	const char *sp = strchr(name, ' ');
	size_t n = sp ? (size_t)(sp - name) : strlen(name);

	if (n >= size)
		n = size - 1;
	memcpy(first, name, n);
	first[n] = '\0';
	*second = sp ? sp + 1 : "";
}

/* Exact, then unique prefix, among the subcommands whose first word is `head`
 * (two-word names) or that are one word (head == NULL). */
static const struct subcommand *match(const struct command *c, const char *head, const char *word,
				      int *ambiguous)
{
	const struct subcommand *found = NULL;
	size_t n = strlen(word);
	int matches = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (const struct subcommand *s = c->subcommands; s->name; s++) {
			char first[32];
			const char *second;
			sub_words(s->name, first, sizeof(first), &second);
			if (head ? (!second[0] || strcasecmp(first, head) != 0) : second[0] != '\0')
				continue;
			const char *cand = head ? second : first;
			if (pass == 0 && strcasecmp(cand, word) == 0)
				return s;
			if (pass == 1 && n && strncasecmp(cand, word, n) == 0) {
				found = s;
				matches++;
			}
		}
	}
	if (matches > 1) {
		*ambiguous = 1;
		return NULL;
	}
	return found;
}

const struct subcommand *dispatch_find_subcommand(const struct command *c, size_t argc,
						  char **argv, size_t *used, int *ambiguous)
{
	const struct subcommand *s;

	*ambiguous = 0;
	*used = 0;
	if (argc == 0)
		return NULL;
	if (argc >= 2 && (s = match(c, argv[0], argv[1], ambiguous))) {
		*used = 2;
		return s;
	}
	if (*ambiguous)
		return NULL;
	/* "team" alone names a group ("team create", ...): don't let it prefix-match
	 * "team-mode"; only an exact one-word subcommand of that name may run. */
	for (const struct subcommand *x = c->subcommands; x->name; x++) {
		char first[32];
		const char *second;
		sub_words(x->name, first, sizeof(first), &second);
		if (second[0] && strcasecmp(first, argv[0]) == 0) {
			for (s = c->subcommands; s->name; s++)
				if (strcasecmp(s->name, argv[0]) == 0) {
					*used = 1;
					return s;
				}
			return NULL;
		}
	}
	if ((s = match(c, NULL, argv[0], ambiguous)))
		*used = 1;
	return s;
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

/* Usage of one subcommand, of all those sharing a first word (head), or of all. */
static void usage(const struct command *c, const struct subcommand *sub, const char *head,
		  struct reply *r)
{
	struct buf b = BUF_INIT(16384);

	if (sub) {
		buf_adds(&b, "Usage: ");
		usage_line(&b, c, sub);
	} else {
		buf_printf(&b, "Usage: `/%s%s%s [subcommand]`. Subcommands:\n", c->name,
			   head ? " " : "", head ? head : "");
		for (const struct subcommand *s = c->subcommands; s->name; s++) {
			char first[32];
			const char *second;
			sub_words(s->name, first, sizeof(first), &second);
			if (!head || strcasecmp(first, head) == 0)
				usage_line(&b, c, s);
		}
		if (!head)
			buf_printf(&b, "`/%s help` shows this list.", c->name);
	}
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
}

void dispatch_usage(const struct command *c, const struct subcommand *sub, struct reply *r)
{
	usage(c, sub, NULL, r);
}

void dispatch_help(const struct command *c, struct reply *r)
{
	reply_textf(r, "*/%s*: %s", c->name, c->summary);
	dispatch_usage(c, NULL, r);
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

static void refuse_role(const struct command *c, const char *what, enum role need, enum role have,
			struct reply *r)
{
	reply_textf(r, "`/%s %s` needs the *%s* role%s; you are %s *%s*. Ask an owner%s.", c->name,
		    what, role_name(need), need == ROLE_OWNER ? "" : " or higher",
		    have == ROLE_ADMIN || have == ROLE_OWNER ? "an" : "a", role_name(have),
		    need == ROLE_OWNER ? " to do it for you" : " to change your role");
}

static void refuse_non_member(struct reply *r)
{
	reply_textf(r, "You are not a member of this workspace's Watchkeeper yet. Ask an admin for "
		       "an invite code, then type `/invite join CODE`.");
}

static void offer_team_mode(struct cmd_ctx *ctx, struct reply *r)
{
	reply_textf(r, "This workspace uses Watchkeeper in *solo* mode: invites, roles and teams "
		       "need *team* mode.");
	if (ctx->role == ROLE_OWNER) {
		reply_section(r, "Switch to team mode? Your rotation and settings stay as they are.");
		reply_button(r, "Switch to team mode", "invite.team_mode", "", BUTTON_PRIMARY);
	} else {
		reply_section(r, "Ask the owner to switch it with `/invite team-mode`.");
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

static enum cmd_result run_action(const struct command *c, const char *action, struct cmd_ctx *ctx,
				  struct reply *r)
{
	for (const struct command_action *a = c->actions; a && a->name; a++) {
		if (strcmp(a->name, action) != 0)
			continue;
		if (ctx->role == ROLE_NONE && a->min_role > ROLE_NONE) {
			refuse_non_member(r);
			return CMD_REFUSED;
		}
		if (ctx->role < a->min_role) {
			refuse_role(c, a->name, a->min_role, ctx->role, r);
			return CMD_REFUSED;
		}
		return a->handler(ctx, ctx->req->action_value, r);
	}
	reply_textf(r, "That button is no longer supported. Run `/%s` again.", c->name);
	return CMD_REFUSED;
}

/* What the user hears when the store failed. `what` is the command as typed
 * ("`/oncall join`", "that button"), check the command that shows the state;
 * ran says whether the handler ran (false: the org lookup failed first). */
static enum cmd_result store_failed(struct cmd_ctx *ctx, const char *what, const char *check,
				    bool ran, struct reply *r)
{
	bool unknown = store_unanswered(ctx->store);

	log_warn("dispatch.store", "org=%s outcome=%s error=\"%s\"", ctx->org_id,
		 unknown ? "unknown" : "not_applied", store_error(ctx->store));
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

static const char *const outcome_names[] = { "ok", "refused", "store_error", "replayed", "deferred" };

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
	bool claimed = false;
	char what[96], help[48];
	const char *check = NULL;
	int64_t replay_ttl_ms = 0;
	int touched;

	c = dispatch_find_command(req->command);
	if (!c) {
		char shown[40];
		reply_escape(shown, sizeof(shown), req->command);
		reply_textf(r, "I don't know the command `/%s`. Try `/oncall help`.", shown);
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
			sub = dispatch_find_subcommand(c, cl.argc, cl.argv, &used, &ambiguous);
		}
		if (!sub) {
			char shown[80];
			bool is_head = false;
			reply_escape(shown, sizeof(shown), cl.argv[0]);
			for (const struct subcommand *s = c->subcommands; s->name; s++) {
				char first[32];
				const char *second;
				sub_words(s->name, first, sizeof(first), &second);
				if (second[0] && strcasecmp(first, cl.argv[0]) == 0)
					is_head = true;
			}
			if (is_head) {
				reply_textf(r, "`/%s %s` needs one of these:", c->name, shown);
				usage(c, NULL, cl.argv[0], r);
			} else if (ambiguous) {
				reply_textf(r, "`%s` is ambiguous; type more of the subcommand's name.", shown);
				dispatch_usage(c, NULL, r);
			} else {
				reply_textf(r, "`/%s` has no subcommand `%s`.", c->name, shown);
				dispatch_usage(c, NULL, r);
			}
			goto out;
		}
		subname = sub->name;
		int nargs = cl.argc ? (int)(cl.argc - used) : 0;
		if (nargs < sub->min_args || nargs > sub->max_args) {
			reply_textf(r, "`/%s %s` takes %s.", c->name, sub->name,
				    sub->max_args == 0 ? "no arguments" : sub->args);
			dispatch_usage(c, sub, r);
			goto out;
		}
	} else {
		subname = req->action_id;
	}

	if (req->action_id[0]) {
		const char *dot = strchr(req->action_id, '.');
		check = check_for(c, dot ? dot + 1 : "");
		snprintf(what, sizeof(what), "that button");
	} else {
		check = check_for(c, sub->name);
		snprintf(what, sizeof(what), "`/%s %s`", c->name, sub->name);
	}
	if (!check) {
		snprintf(help, sizeof(help), "/%s help", c->name);
		check = help;	/* lists the commands that show what is stored */
	}
	store_unanswered_clear(env->store);
	if (req->replay_id[0]) {
		int64_t ttl = (int64_t)req->replay_until * 1000 - ctx.now_ms + 1000;
		replay_ttl_ms = ttl > 1000 ? ttl : 1000;
	}
	touched = org_touch(env->store, org_id, req->platform, req->org_external, req->user_id,
			    req->replay_id, replay_ttl_ms, ctx.now_ms, &view);
	if (touched < 0) {
		res = store_failed(&ctx, what, check, false, r);
		goto out;
	}
	if (touched == ORG_REPLAYED) {
		log_warn("dispatch.replay", "org=%s user=%s command=%s", org_id, req->user_id, c->name);
		reply_textf(r, "This request was already received; it was not run again.");
		res = CMD_REPLAYED;
		goto out;
	}
	ctx.role = view.role;
	ctx.team_mode = view.team_mode;
	ctx.tz = view.tz;
	if (view.suspended) {
		reply_textf(r, "This workspace's Watchkeeper is suspended. Please contact the people who "
			       "run Watchkeeper for you.");
		goto out;
	}
	if (ctx.role == ROLE_NONE && view.has_email_placeholders) {
		if (env->email) {
			claimed = claim_by_email(env, &ctx);
		} else if (env->lookup_email && env->lookup_email(env, req) == 0) {
			reply_textf(r, "Checking whether you have an invite\u2026 The answer follows in a moment.");
			res = CMD_DEFERRED;
			goto out;
		}
	}

	if (req->action_id[0]) {
		const char *dot = strchr(req->action_id, '.');
		res = run_action(c, dot ? dot + 1 : "", &ctx, r);
	} else if (ctx.role == ROLE_NONE && sub->min_role > ROLE_NONE) {
		refuse_non_member(r);
	} else if (ctx.role < sub->min_role) {
		refuse_role(c, sub->name, sub->min_role, ctx.role, r);
	} else if ((sub->flags & CMD_TEAM_ONLY) && !ctx.team_mode) {
		offer_team_mode(&ctx, r);
	} else {
		res = sub->handler(&ctx, cl.argc ? (int)(cl.argc - used) : 0,
				   cl.argc ? cl.argv + used : cl.argv, r);
	}
	if (res == CMD_STORE_ERROR)
		store_failed(&ctx, what, check, true, r);
	if (res == CMD_OK && view.created)
		reply_section(r, "Welcome to Watchkeeper. You created this workspace's on-call and "
				 "you are its *owner*. `/%s help` lists what you can do.", c->name);
	if (claimed && res != CMD_STORE_ERROR)
		reply_section(r, "Welcome: your email invite matched your chat profile, so you are now a "
				 "member with the *%s* role.", role_name(ctx.role));
out:
	cmdline_free(&cl);
	metrics_command(c ? c->name : "unknown", subname, outcome_names[res],
			wk_mono_us() - started);
	return res;
}
