/* delegate_policy.c - `/delegate policy ...`: each team's escalation policy
 * (bot/escalation.h for its form, bot/delegate.h for where it is kept).
 *
 * Every change starts from what the team runs now (its stored text, else the
 * built-in default), edits that struct and stores it whole, so the default's
 * steps are kept when someone adds a fourth one. */
#include "bot/delegate.h"
#include "bot/escalation.h"
#include "bot/incident.h"
#include "bot/util.h"
#include "commands/commands.h"
#include "commands/delegate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define STEP_DELAY_MAX_S 86400
#define REPEATS_MAX 100	/* what escalation_policy_parse() accepts */
/* A new round must start after the last step ran; the default leaves that
 * step as long as the one before it, and five minutes when there is none. */
#define ROUND_GAP_S 300

int delegate_cmd_team_policy(struct cmd_ctx *ctx, const char *team, struct escalation_policy *p)
{
	char text[INCIDENT_POLICY_MAX];
	int rc = delegate_team_policy_get(ctx->store, ctx->org_id, team, text, sizeof(text));

	if (rc < 0)
		return -1;
	if (rc == 0 && escalation_policy_parse(text, p) == 0)
		return 0;
	/* Nothing stored (or nothing readable, which wk_route treats the same). */
	escalation_default_policy(ctx->cfg, p);
	return 1;
}

static void show(struct cmd_ctx *ctx, const char *team_name, const struct escalation_policy *p, bool stored,
		 const char *lead, struct reply *r)
{
	char described[1024], typed[80];

	escalation_policy_describe(p, described, sizeof(described));
	reply_textf(r, "%s team *%s*%s:", lead, team_name ? team_name : "default",
		    stored ? "" : " (the built-in default)");
	reply_section(r, "%s", described);
	reply_section(r, "Admins change it with `%s policy [team T] step add N after 5m TARGET...`, `step remove N`, "
			 "`repeat N` or `reset`. Rules (`%s rules`) can send incidents elsewhere first.",
		      delegate_cmd_typed(ctx, typed, sizeof(typed)), typed);
}

/* `add N after 5m TARGET...` (or `add N now ...`): a new step N, the steps
 * from N on moving down. 0, 1 refused, -1. */
static int step_add(struct cmd_ctx *ctx, const char *team, struct escalation_policy *p, int argc, char **argv,
		    struct reply *r)
{
	struct escalation_step st = { 0 };
	int64_t n;
	int i;

	if (p->nsteps == ESCALATION_MAX_STEPS) {
		reply_textf(r, "A policy has at most %d steps; remove one first (`step remove N`).", ESCALATION_MAX_STEPS);
		return 1;
	}
	if (argc < 3 || !wk_parse_i64(argv[0], 1, (int64_t)p->nsteps + 1, &n)) {
		reply_textf(r, "Say where the step goes, 1 to %zu: `step add N after 5m TARGET...`.", p->nsteps + 1);
		return 1;
	}
	if (strcasecmp(argv[1], "now") == 0) {
		i = 2;
	} else if (strcasecmp(argv[1], "after") == 0 && argc >= 4 &&
		   (st.delay_s = wk_parse_duration(argv[2], STEP_DELAY_MAX_S)) >= 0) {
		i = 3;
	} else {
		reply_textf(r, "Say when the step runs, from the incident's start: `after 5m` (up to 24h) or `now`.");
		return 1;
	}
	/* Steps run in the order of their delays, so a new one must fit between
	 * its neighbours. */
	if ((n > 1 && st.delay_s < p->steps[n - 2].delay_s) || (n <= (int64_t)p->nsteps && st.delay_s > p->steps[n - 1].delay_s)) {
		reply_textf(r, "Step %lld must run no earlier than step %lld (after %lld s) and no later than the step "
			       "after it (after %lld s).", (long long)n, (long long)(n - 1),
			    (long long)(n > 1 ? p->steps[n - 2].delay_s : 0),
			    (long long)(n <= (int64_t)p->nsteps ? p->steps[n - 1].delay_s : STEP_DELAY_MAX_S));
		return 1;
	}
	while (i < argc) {
		int used, rc;
		if (st.ntargets == ESCALATION_MAX_TARGETS) {
			reply_textf(r, "A step pages at most %d targets; a team:NAME target reaches a whole team.",
				    ESCALATION_MAX_TARGETS);
			return 1;
		}
		if ((rc = delegate_cmd_target(ctx, team, argc - i, argv + i, &used, st.targets[st.ntargets],
					      sizeof(st.targets[0]), r)) != 0)
			return rc;
		st.ntargets++;
		i += used;
	}
	if (!st.ntargets) {
		reply_textf(r, "Say whom the step pages after the delay: `primary`, `1st-backup`, @someone, `team:NAME`...");
		return 1;
	}
	memmove(&p->steps[n], &p->steps[n - 1], (p->nsteps - (size_t)(n - 1)) * sizeof(p->steps[0]));
	p->steps[n - 1] = st;
	p->nsteps++;
	if (p->round_s <= p->steps[p->nsteps - 1].delay_s)
		p->round_s = p->steps[p->nsteps - 1].delay_s + ROUND_GAP_S;
	return 0;
}

static int step_remove(struct escalation_policy *p, int argc, char **argv, struct reply *r)
{
	int64_t n;

	if (argc != 1 || !wk_parse_i64(argv[0], 1, (int64_t)p->nsteps, &n)) {
		reply_textf(r, "Say which step to remove, 1 to %zu: `step remove N`.", p->nsteps);
		return 1;
	}
	if (p->nsteps == 1) {
		reply_textf(r, "That is the only step, and a policy needs one; `reset` goes back to the built-in "
			       "default.");
		return 1;
	}
	memmove(&p->steps[n - 1], &p->steps[n], (p->nsteps - (size_t)n) * sizeof(p->steps[0]));
	p->nsteps--;
	return 0;
}

/* verb is `step`, `repeat` or `reset`; argv what follows it. */
static enum cmd_result change(struct cmd_ctx *ctx, const char *team_name, const char *verb, int argc, char **argv,
			      struct reply *r)
{
	struct delegate_actor a = delegate_cmd_actor(ctx);
	struct escalation_policy p;
	enum delegate_outcome o;
	char team[48], text[INCIDENT_POLICY_MAX] = "";
	bool reset = strcasecmp(verb, "reset") == 0;
	int rc;

	if ((rc = delegate_cmd_team(ctx, team_name, team, sizeof(team), r)) != 0)
		return rc < 0 ? CMD_STORE_ERROR : CMD_REFUSED;
	if (delegate_cmd_team_policy(ctx, team, &p) < 0)
		return CMD_STORE_ERROR;
	if (strcasecmp(verb, "step") == 0 && argc >= 1 && strcasecmp(argv[0], "add") == 0) {
		rc = step_add(ctx, team, &p, argc - 1, argv + 1, r);
	} else if (strcasecmp(verb, "step") == 0 && argc >= 1 && strcasecmp(argv[0], "remove") == 0) {
		rc = step_remove(&p, argc - 1, argv + 1, r);
	} else if (strcasecmp(verb, "repeat") == 0) {
		if (argc != 1 || !wk_parse_i64(argv[0], 0, REPEATS_MAX, &p.repeats))
			return delegate_cmd_usage(ctx, "policy repeat", "Say how many more rounds, 0 to 100.", r);
	} else if (!reset || argc) {
		return delegate_cmd_usage(ctx, strcasecmp(verb, "step") == 0 ? "policy step" : "policy",
					  "That is not a change to a policy.", r);
	}
	if (rc)
		return rc < 0 ? CMD_STORE_ERROR : CMD_REFUSED;
	if (reset)
		escalation_default_policy(ctx->cfg, &p);
	else if (escalation_policy_format(&p, text, sizeof(text)) < 0) {
		reply_textf(r, "That policy is too long to keep (%d characters stored); use fewer targets, or a "
			       "team:NAME or role:R that reaches several people.", INCIDENT_POLICY_MAX - 1);
		return CMD_REFUSED;
	}
	if (delegate_team_policy_set(ctx->store, &a, team, text, &o) < 0)
		return CMD_STORE_ERROR;
	if (o != DELEGATE_DONE && o != DELEGATE_UNCHANGED)
		return delegate_cmd_outcome(ctx, o, r);
	show(ctx, team_name, &p, !reset, reset ? "Back to the built-in default for" : "Now the escalation policy of", r);
	return CMD_OK;
}

enum cmd_result delegate_policy_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	const char *team_name = NULL;
	int i = 0;

	if (argc >= 2 && strcasecmp(argv[0], "team") == 0) {
		team_name = argv[1];
		i = 2;
	}
	if (i == argc) {
		struct escalation_policy p;
		char team[48];
		int rc = delegate_cmd_team(ctx, team_name, team, sizeof(team), r);
		if (rc != 0)
			return rc < 0 ? CMD_STORE_ERROR : CMD_REFUSED;
		if ((rc = delegate_cmd_team_policy(ctx, team, &p)) < 0)
			return CMD_STORE_ERROR;
		show(ctx, team_name, &p, rc == 0, "Escalation policy of", r);
		return CMD_OK;
	}
	/* Reading is for everyone; the row is, so the change checks the role the
	 * `policy step` row would have. */
	if (ctx->role < ROLE_ADMIN) {
		dispatch_refuse_role(ctx, &delegate_command, "policy step", ROLE_ADMIN, r);
		return CMD_REFUSED;
	}
	return change(ctx, team_name, argv[i], argc - i - 1, argv + i + 1, r);
}

enum cmd_result delegate_policy_step(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return change(ctx, NULL, "step", argc, argv, r);
}

enum cmd_result delegate_policy_repeat(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return change(ctx, NULL, "repeat", argc, argv, r);
}
