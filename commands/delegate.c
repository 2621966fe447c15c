/* delegate.c - `/delegate`: who receives which incidents, in what order
 * (bot/delegate.h holds the routing and its storage).
 *
 * Admins change it; everyone from viewer up reads it and dry-runs it with
 * `test`, which pages nobody. Rules and policy steps name their targets the
 * same way (delegate_cmd_target), and every reply that stores a target which
 * the targeting mode would filter out says so and how to fix it, so nobody
 * finds out during an incident. Here: the table, show, the settings and the
 * rules; delegate_target.c reads targets, delegate_policy.c edits the team
 * escalation policies, delegate_test.c is the dry run. */
#include "bot/delegate.h"
#include "bot/escalation.h"
#include "bot/member.h"
#include "bot/team.h"
#include "bot/util.h"
#include "commands/commands.h"
#include "commands/delegate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GAP_MAX_S 3600
/* Rules one screen lists: past that, a chat message gets too long to read
 * (and Slack refuses it); the rest are counted. */
#define RULES_SHOWN 50
#define TEXT_MAX 65536

struct delegate_actor delegate_cmd_actor(const struct cmd_ctx *ctx)
{
	return (struct delegate_actor){ ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
					ctx->now_ms };
}

const char *delegate_cmd_typed(const struct cmd_ctx *ctx, char *out, size_t size)
{
	return dispatch_typed(ctx, &delegate_command, out, size);
}

enum cmd_result delegate_cmd_usage(struct cmd_ctx *ctx, const char *sub, const char *why, struct reply *r)
{
	const struct subcommand *s = delegate_command.subcommands;

	while (s->name && strcmp(s->name, sub) != 0)
		s++;
	reply_textf(r, "%s", why);
	dispatch_usage(ctx, &delegate_command, s->name ? s : NULL, r);
	return CMD_REFUSED;
}

enum cmd_result delegate_cmd_outcome(struct cmd_ctx *ctx, enum delegate_outcome o, struct reply *r)
{
	char typed[80];

	switch (o) {
	case DELEGATE_DONE:
		return CMD_OK;
	case DELEGATE_UNCHANGED:
		reply_textf(r, "It is already so; nothing changed.");
		return CMD_OK;
	case DELEGATE_MISSING:
		reply_textf(r, "There is no such rule. `%s rules` lists them.", delegate_cmd_typed(ctx, typed, sizeof(typed)));
		return CMD_REFUSED;
	case DELEGATE_FULL:
		reply_textf(r, "That is one too many: an org keeps at most %d rules and lists of at most %d people.",
			    DELEGATE_RULES_MAX, DELEGATE_LIST_MAX);
		return CMD_REFUSED;
	}
	return CMD_STORE_ERROR;
}

/* ---- show ---- */

/* A gap people read: "2 min", or "90 s" when it is not whole minutes. */
const char *delegate_cmd_span(int64_t s, char *out, size_t size)
{
	if (s % 60)
		snprintf(out, size, "%lld s", (long long)s);
	else
		snprintf(out, size, "%lld min", (long long)(s / 60));
	return out;
}

static void settings_text(const struct delegate_settings *st, struct buf *b)
{
	char gap[32];

	buf_printf(b, "*Targeting:* %s: ", delegate_mode_name(st->mode));
	if (st->mode == DELEGATE_USERS_WITH_SERVICES) {
		buf_adds(b, "people a role or a whole team reaches are paged only when they own a service");
	} else if (st->mode == DELEGATE_ALL_MEMBERS) {
		buf_adds(b, "everyone a target reaches is paged");
	} else {
		buf_adds(b, "people a role or a whole team reaches are paged only when listed:");
		for (size_t i = 0; i < st->nusers; i++)
			buf_printf(b, "%s<@%s>", i ? ", " : " ", st->users[i]);
		for (size_t i = 0; i < st->nroles; i++)
			buf_printf(b, "%s role %s", st->nusers || i ? "," : "", role_name(st->roles[i]));
	}
	buf_adds(b, ". People a rule or a step names (a member, a rotation position) are always paged.\n");
	buf_printf(b, "*Viewers:* %s\n", st->viewers ? "on: they are paged like everyone else" : "off: never paged");
	if (!st->npriority) {
		buf_adds(b, "*Priority:* none: everyone in a step is paged at once.\n");
	} else {
		buf_adds(b, "*Priority:*");
		for (size_t i = 0; i < st->npriority; i++)
			buf_printf(b, "%s<@%s>", i ? ", " : " ", st->priority[i]);
		if (st->gap_s)
			buf_printf(b, "; each next one %s after the previous unless someone acknowledged, the rest "
				      "after the last of them.\n", delegate_cmd_span(st->gap_s, gap, sizeof(gap)));
		else
			buf_adds(b, "; paged in this order, at once, then the rest.\n");
	}
}

/* "#3 service api, severity critical -> @sarah" */
void delegate_cmd_rule_text(const struct delegate_rule *rule, const struct team_info *teams, size_t nteams, struct buf *b)
{
	char who[160];
	int n = 0;

	buf_printf(b, "#%lld ", (long long)rule->id);
	if (rule->service[0])
		buf_printf(b, "%sservice %s", n++ ? ", " : "", rule->service);
	if (rule->severity[0])
		buf_printf(b, "%sseverity %s", n++ ? ", " : "", rule->severity);
	if (rule->type[0])
		buf_printf(b, "%stype %s", n++ ? ", " : "", rule->type);
	delegate_cmd_describe(rule->target, teams, nteams, who, sizeof(who));
	buf_printf(b, "%s-> %s", n ? " " : "every incident ", who);
}

/* The first RULES_SHOWN rules in the order they are tried, one line each,
 * flagged when the mode filters their target out; how many rules there are. */
static int rules_text(struct cmd_ctx *ctx, const struct delegate_settings *st, struct buf *b)
{
	struct delegate_rule *rules = NULL;
	struct team_info *teams = NULL;
	struct member *members = NULL;
	size_t nrules = 0, nteams = 0, nmembers = 0;
	int rc = -1;

	if (delegate_rules_list(ctx->store, ctx->org_id, &rules, &nrules) < 0 ||
	    team_list(ctx->store, ctx->org_id, &teams, &nteams) < 0 ||
	    member_list(ctx->store, ctx->org_id, &members, &nmembers) < 0)
		goto out;
	for (size_t i = 0; i < nrules && i < RULES_SHOWN; i++) {
		char why[512];
		buf_adds(b, "• ");
		delegate_cmd_rule_text(&rules[i], teams, nteams, b);
		if (delegate_cmd_filtered(ctx, st, members, nmembers, rules[i].target, why, sizeof(why)) < 0)
			goto out;
		if (why[0])
			buf_printf(b, " — *filtered out:* %s", why);
		buf_adds(b, "\n");
	}
	if (nrules > RULES_SHOWN)
		buf_printf(b, "…and %zu more, tried after these.\n", nrules - RULES_SHOWN);
	rc = (int)nrules;
out:
	free(rules);
	free(teams);
	free(members);
	return rc;
}

static enum cmd_result delegate_show(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct delegate_settings st;
	struct team_info *teams = NULL;
	struct buf b = BUF_INIT(TEXT_MAX);
	char typed[80], ids[2048];
	enum cmd_result res = CMD_STORE_ERROR;
	int nrules;

	(void)argc;
	(void)argv;
	delegate_cmd_typed(ctx, typed, sizeof(typed));
	size_t nteams = 0;
	if (delegate_settings_get(ctx->store, ctx->org_id, &st) < 0 ||
	    team_list(ctx->store, ctx->org_id, &teams, &nteams) < 0)
		goto out;
	reply_textf(r, "Who gets paged for incidents (`%s test sev=critical` tries it without paging anyone):",
		    typed);
	settings_text(&st, &b);
	reply_section(r, "%s", buf_cstr(&b));
	if (delegate_env_override(ctx->cfg, ctx->org_id, ids, sizeof(ids))) {
		buf_reset(&b);
		char *save = NULL;
		for (char *id = strtok_r(ids, ",", &save); id; id = strtok_r(NULL, ",", &save))
			buf_printf(&b, "%s<@%s>", b.len ? ", " : "", id);
		reply_section(r, "WK_INCIDENT_NOTIFY_USER_IDS replaces the targeting mode for this org: %s. The "
				 "people who run Watchkeeper set it; the settings above apply again once they drop it.",
			      b.len ? buf_cstr(&b) : "nobody of this org");
	}
	buf_reset(&b);
	if ((nrules = rules_text(ctx, &st, &b)) < 0)
		goto out;
	if (nrules)
		reply_section(r, "*Rules* (the first that matches an incident wins: more of service, severity and "
				 "type named first, then the newest):\n%s", buf_cstr(&b));
	else
		reply_section(r, "*Rules:* none, so every incident runs its team's escalation policy (`%s service "
				 "api to @user` makes one).", typed);
	buf_reset(&b);
	for (size_t i = 0; i < nteams; i++) {
		struct escalation_policy p;
		char described[1024];
		int rc = delegate_cmd_team_policy(ctx, teams[i].id, &p);
		if (rc < 0)
			goto out;
		escalation_policy_describe(&p, described, sizeof(described));
		buf_printf(&b, "*Team %s* (%s):\n%s\n", teams[i].name, rc ? "built-in default" : "its own policy",
			   described);
	}
	reply_section(r, "%s", buf_cstr(&b));
	res = CMD_OK;
out:
	free(teams);
	buf_free(&b);
	return res;
}

static enum cmd_result delegate_rules(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct delegate_settings st;
	struct buf b = BUF_INIT(TEXT_MAX);
	char typed[80];
	int n;

	(void)argc;
	(void)argv;
	delegate_cmd_typed(ctx, typed, sizeof(typed));
	if (delegate_settings_get(ctx->store, ctx->org_id, &st) < 0 || (n = rules_text(ctx, &st, &b)) < 0) {
		buf_free(&b);
		return CMD_STORE_ERROR;
	}
	if (!n) {
		reply_textf(r, "There are no rules: every incident runs its team's escalation policy. `%s service api to "
			       "@user` makes one.", typed);
	} else {
		reply_textf(r, "Rules, in the order they are tried (`%s remove ID` drops one):", typed);
		reply_section(r, "%s", buf_cstr(&b));
	}
	buf_free(&b);
	return CMD_OK;
}

/* ---- settings ---- */

static enum cmd_result delegate_mode(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct delegate_actor a = delegate_cmd_actor(ctx);
	struct buf users = BUF_INIT(DELEGATE_LIST_MAX * DELEGATE_ID_MAX), roles = BUF_INIT(64);
	enum delegate_outcome o;
	enum cmd_result res = CMD_REFUSED;
	char shown[80], typed[80];
	int mode = delegate_mode_parse(argv[0]);
	bool in_roles = false, listed[ROLE_OWNER + 1] = { false };
	size_t nusers = 0;

	delegate_cmd_typed(ctx, typed, sizeof(typed));
	if (mode < 0) {
		res = delegate_cmd_usage(ctx, "mode", "That is not a targeting mode.", r);
		goto out;
	}
	if (mode != DELEGATE_SPECIFIC_USERS && argc > 1) {
		res = delegate_cmd_usage(ctx, "mode", "Only specific_users takes people and roles.", r);
		goto out;
	}
	/* `@a @b role developer admin` or `role:developer`: after the word `role`, roles. */
	for (int i = 1; i < argc; i++) {
		const char *word = argv[i];
		if (strcasecmp(word, "role") == 0 || strcasecmp(word, "roles") == 0) {
			in_roles = true;
			continue;
		}
		if (strncasecmp(word, "role:", 5) == 0 || in_roles) {
			const char *name = strncasecmp(word, "role:", 5) == 0 ? word + 5 : word;
			enum role role = role_parse(name);
			if (role == ROLE_NONE) {
				reply_textf(r, "`%s` is not a role: use viewer, developer, admin or owner.",
					    reply_escape(shown, sizeof(shown), name));
				goto out;
			}
			if (!listed[role])
				buf_printf(&roles, "%s%s", roles.len ? "," : "", role_name(role));
			listed[role] = true;
			continue;
		}
		char id[DELEGATE_ID_MAX];
		int rc = delegate_cmd_member(ctx, word, id, sizeof(id), r);
		if (rc != 0) {
			res = rc < 0 ? CMD_STORE_ERROR : CMD_REFUSED;
			goto out;
		}
		if (++nusers > DELEGATE_LIST_MAX) {
			reply_textf(r, "specific_users lists at most %d people; name a role for more.", DELEGATE_LIST_MAX);
			goto out;
		}
		buf_printf(&users, "%s%s", users.len ? "," : "", id);
	}
	if (mode == DELEGATE_SPECIFIC_USERS && !users.len && !roles.len) {
		res = delegate_cmd_usage(ctx, "mode", "specific_users needs at least one @user or a role to list, or "
						      "nobody reached through a role or a team would be paged.", r);
		goto out;
	}
	if (delegate_set_mode(ctx->store, &a, (enum delegate_mode)mode, buf_cstr(&users), buf_cstr(&roles), &o) < 0) {
		res = CMD_STORE_ERROR;
		goto out;
	}
	if (o != DELEGATE_DONE) {
		res = delegate_cmd_outcome(ctx, o, r);
		goto out;
	}
	reply_textf(r, "Targeting mode is now *%s*. `%s show` shows the whole policy and flags rules it filters out.",
		    delegate_mode_name((enum delegate_mode)mode), typed);
	res = CMD_OK;
out:
	buf_free(&users);
	buf_free(&roles);
	return res;
}

static enum cmd_result delegate_viewers(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct delegate_actor a = delegate_cmd_actor(ctx);
	enum delegate_outcome o;
	bool on = strcasecmp(argv[0], "on") == 0;

	(void)argc;
	if (!on && strcasecmp(argv[0], "off") != 0)
		return delegate_cmd_usage(ctx, "viewers", "Say `on` or `off`.", r);
	if (delegate_set_viewers(ctx->store, &a, on, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != DELEGATE_DONE)
		return delegate_cmd_outcome(ctx, o, r);
	reply_textf(r, on ? "Viewers are now paged like everyone else when a target reaches them."
			  : "Viewers are never paged for incidents now.");
	return CMD_OK;
}

static enum cmd_result delegate_priority(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct delegate_actor a = delegate_cmd_actor(ctx);
	struct delegate_settings st;
	struct buf ids = BUF_INIT(DELEGATE_LIST_MAX * DELEGATE_ID_MAX), shown = BUF_INIT(DELEGATE_LIST_MAX * (DELEGATE_ID_MAX + 5));
	enum delegate_outcome o;
	enum cmd_result res = CMD_REFUSED;
	int64_t gap = -1;
	size_t n = 0;

	for (int i = 0; i < argc; i++) {
		if (strcasecmp(argv[i], "every") == 0) {
			if (i + 2 != argc || (gap = wk_parse_duration(argv[i + 1], GAP_MAX_S)) < 0) {
				res = delegate_cmd_usage(ctx, "priority", "`every` takes how long to wait for each next "
									  "person, up to an hour: `every 2m`, at the end.", r);
				goto out;
			}
			break;
		}
		char id[DELEGATE_ID_MAX];
		int rc = delegate_cmd_member(ctx, argv[i], id, sizeof(id), r);
		if (rc != 0) {
			res = rc < 0 ? CMD_STORE_ERROR : CMD_REFUSED;
			goto out;
		}
		if (++n > DELEGATE_LIST_MAX) {
			res = delegate_cmd_outcome(ctx, DELEGATE_FULL, r);
			goto out;
		}
		buf_printf(&ids, "%s%s", ids.len ? "," : "", id);
		buf_printf(&shown, "%s<@%s>", shown.len ? ", " : "", id);
	}
	if (!n) {
		res = delegate_cmd_usage(ctx, "priority", "Name the people in the order to page them.", r);
		goto out;
	}
	/* Without `every`, the gap stays what it was: changing who is on the list
	 * should not silently change how fast it goes. */
	if (gap < 0) {
		if (delegate_settings_get(ctx->store, ctx->org_id, &st) < 0) {
			res = CMD_STORE_ERROR;
			goto out;
		}
		gap = st.gap_s;
	}
	if (delegate_set_priority(ctx->store, &a, buf_cstr(&ids), gap, &o) < 0) {
		res = CMD_STORE_ERROR;
		goto out;
	}
	if (o != DELEGATE_DONE) {
		res = delegate_cmd_outcome(ctx, o, r);
		goto out;
	}
	char span[32];
	if (gap)
		reply_textf(r, "Several people in one step are now paged in this order, each next one %s after the "
			       "previous unless someone acknowledged: %s; everyone else after them.",
			    delegate_cmd_span(gap, span, sizeof(span)), buf_cstr(&shown));
	else
		reply_textf(r, "Several people in one step are now paged in this order, all at once: %s; everyone "
			       "else after them. `every 2m` spaces them out.", buf_cstr(&shown));
	res = CMD_OK;
out:
	buf_free(&ids);
	buf_free(&shown);
	return res;
}

static enum cmd_result delegate_priority_clear(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct delegate_actor a = delegate_cmd_actor(ctx);
	enum delegate_outcome o;

	(void)argc;
	(void)argv;
	if (delegate_set_priority(ctx->store, &a, "", 0, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != DELEGATE_DONE)
		return delegate_cmd_outcome(ctx, o, r);
	reply_textf(r, "There is no priority list now: everyone in a step is paged at once.");
	return CMD_OK;
}

/* ---- rules ---- */

/* `KEY VALUE [KEY VALUE...] to TARGET`, where the row's name is the first KEY
 * and argv[0] its value. */
static enum cmd_result rule_add(struct cmd_ctx *ctx, const char *first, int argc, char **argv, struct reply *r)
{
	struct delegate_actor a = delegate_cmd_actor(ctx);
	struct delegate_rule rule = { 0 };
	struct delegate_settings st;
	struct team_info *teams = NULL;
	struct member *members = NULL;
	size_t nteams = 0, nmembers = 0;
	enum delegate_outcome o;
	const char *key = first, *value = argv[0];
	char why[512];
	int i = 1, used = 0, rc;
	int64_t id;

	for (;;) {
		if ((rc = delegate_cmd_rule_field(ctx, key, value, &rule, r)) != 0)
			return rc < 0 ? CMD_STORE_ERROR : CMD_REFUSED;
		if (i < argc && strcasecmp(argv[i], "to") == 0)
			break;
		if (i + 1 >= argc)
			return delegate_cmd_usage(ctx, first, "Say who gets these incidents: end with `to @user`, "
							      "`to team:NAME`, `to role:R` or `to channel:#name`.", r);
		key = argv[i];
		value = argv[i + 1];
		i += 2;
	}
	i++;
	if (i >= argc)
		return delegate_cmd_usage(ctx, first, "Say who gets these incidents after `to`.", r);
	if ((rc = delegate_cmd_target(ctx, NULL, argc - i, argv + i, &used, rule.target, sizeof(rule.target), r)) != 0)
		return rc < 0 ? CMD_STORE_ERROR : CMD_REFUSED;
	if (i + used != argc)
		return delegate_cmd_usage(ctx, first, "A rule sends incidents to one target.", r);
	wk_strlcpy(rule.by, ctx->req->user_id, sizeof(rule.by));
	rule.created_ms = ctx->now_ms;
	if (delegate_rule_add(ctx->store, &a, &rule, &id, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != DELEGATE_DONE)
		return delegate_cmd_outcome(ctx, o, r);
	rule.id = id;
	enum cmd_result res = CMD_STORE_ERROR;
	struct buf b = BUF_INIT(512);
	if (delegate_settings_get(ctx->store, ctx->org_id, &st) < 0 ||
	    team_list(ctx->store, ctx->org_id, &teams, &nteams) < 0 ||
	    member_list(ctx->store, ctx->org_id, &members, &nmembers) < 0 ||
	    delegate_cmd_filtered(ctx, &st, members, nmembers, rule.target, why, sizeof(why)) < 0)
		goto out;
	delegate_cmd_rule_text(&rule, teams, nteams, &b);
	reply_textf(r, "Rule %s. It wins over rules naming fewer of service, severity and type, and over older ones "
		       "naming as many.", buf_cstr(&b));
	if (why[0])
		reply_section(r, "*Warning:* %s", why);
	res = CMD_OK;
out:
	buf_free(&b);
	free(teams);
	free(members);
	return res;
}

static enum cmd_result delegate_rule_service(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return rule_add(ctx, "service", argc, argv, r);
}

static enum cmd_result delegate_rule_severity(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return rule_add(ctx, "severity", argc, argv, r);
}

static enum cmd_result delegate_rule_type(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return rule_add(ctx, "type", argc, argv, r);
}

static enum cmd_result delegate_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct delegate_actor a = delegate_cmd_actor(ctx);
	enum delegate_outcome o;
	int64_t id;

	(void)argc;
	if (!wk_parse_i64(argv[0] + (argv[0][0] == '#'), 1, INT64_MAX, &id))
		return delegate_cmd_usage(ctx, "remove", "Name a rule by its number, like `3` or `#3`.", r);
	if (delegate_rule_remove(ctx->store, &a, id, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != DELEGATE_DONE)
		return delegate_cmd_outcome(ctx, o, r);
	reply_textf(r, "Removed rule #%lld.", (long long)id);
	return CMD_OK;
}

static const struct subcommand delegate_subcommands[] = {
	{ "show", "", "the whole policy: targeting, viewers, priority, rules, each team's escalation", ROLE_VIEWER, 0,
	  0, delegate_show, "", 0 },
	{ "mode", "users_with_services|all_members|specific_users [@user ...] [role R ...]",
	  "whom broad targets (a role, a whole team) reach", ROLE_ADMIN, 1, 60, delegate_mode, "all_members", 0 },
	{ "viewers", "on|off", "whether viewers are ever paged", ROLE_ADMIN, 1, 1, delegate_viewers, "on", 0 },
	{ "priority", "@user ... [every 2m]", "the order several people of one step are paged in", ROLE_ADMIN, 1, 60,
	  delegate_priority, "@user every 2m", 0 },
	{ "priority clear", "", "pages everyone of a step at once again", ROLE_ADMIN, 0, 0, delegate_priority_clear,
	  "", 0 },
	{ "service", "NAME [severity S] [type T] to TARGET", "a rule: that service's incidents go to TARGET",
	  ROLE_ADMIN, 3, 7, delegate_rule_service, "api to @user", 0 },
	{ "severity", "critical|error|warning|info [service NAME] [type T] to TARGET",
	  "a rule: incidents of that severity go to TARGET", ROLE_ADMIN, 3, 7, delegate_rule_severity,
	  "critical to @user", 0 },
	{ "type", "manual|alertmanager|sentry|grafana|generic [service NAME] [severity S] to TARGET",
	  "a rule: incidents from that source go to TARGET", ROLE_ADMIN, 3, 7, delegate_rule_type,
	  "sentry to role:developer", 0 },
	{ "rules", "", "lists the rules in the order they are tried", ROLE_VIEWER, 0, 0, delegate_rules, "", 0 },
	{ "remove", "RULE", "removes a rule (`3` or `#3`)", ROLE_ADMIN, 1, 1, delegate_remove, "1", 0 },
	{ "policy", "[team T] [step add|step remove|repeat|reset ...]", "shows (or changes) a team's escalation policy",
	  ROLE_VIEWER, 0, 40, delegate_policy_cmd, "", 0 },
	{ "policy step", "add N after 5m TARGET... | remove N",
	  "adds or removes a step of the default team's policy (`policy team T step ...` for another team)",
	  ROLE_ADMIN, 2, 40, delegate_policy_step, "add 4 after 15m @user", 0 },
	{ "policy repeat", "N", "how many more rounds the default team's policy runs unacknowledged", ROLE_ADMIN, 1,
	  1, delegate_policy_repeat, "2", 0 },
	{ "test", "[sev=critical] [service=NAME] [type=T] [team=T]",
	  "a dry run: who would be paged, when and how, and who not and why; pages nobody", ROLE_VIEWER, 0, 4,
	  delegate_cmd_test, "sev=critical", 0 },
	{ 0 }
};

static const struct command_check delegate_checks[] = {
	{ "mode", "/delegate show" },
	{ "viewers", "/delegate show" },
	{ "priority", "/delegate show" },
	{ "priority clear", "/delegate show" },
	{ "service", "/delegate rules" },
	{ "severity", "/delegate rules" },
	{ "type", "/delegate rules" },
	{ "remove", "/delegate rules" },
	{ "policy step", "/delegate policy" },
	{ "policy repeat", "/delegate policy" },
	{ 0 }
};

const struct command delegate_command = {
	.name = "delegate",
	.summary = "who gets paged for which incidents, in what order",
	.subcommands = delegate_subcommands,
	.default_sub = &delegate_subcommands[0],
	.checks = delegate_checks,
};
