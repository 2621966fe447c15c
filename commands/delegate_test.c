/* delegate_test.c - `/delegate test`: a dry run of routing, escalation and
 * filtering for an incident described in key=value words. It runs the same
 * functions as a real incident (delegate_route, delegate_step_people) and
 * pages nobody: it writes nothing. */
#include "bot/contact.h"
#include "bot/delegate.h"
#include "bot/escalation.h"
#include "bot/member.h"
#include "bot/service.h"
#include "bot/team.h"
#include "bot/util.h"
#include "commands/delegate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LEFT_SHOWN 50	/* people listed as not paged */

/* An instant from the incident's start: "at once", "at min 5", "at 90 s". */
static void at_text(int64_t s, char *out, size_t size)
{
	if (!s)
		snprintf(out, size, "at once");
	else if (s % 60)
		snprintf(out, size, "at %lld s", (long long)s);
	else
		snprintf(out, size, "at min %lld", (long long)(s / 60));
}

struct dry_run {
	struct member *members;
	size_t nmembers;
	bool *paged;
	const char **why;	/* a step reached them but left them out */
	const struct team_info *teams;	/* for naming team targets */
	size_t nteams;
};

static int member_index(const struct dry_run *d, const char *id)
{
	for (size_t i = 0; i < d->nmembers; i++)
		if (strcmp(d->members[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* One step of the first round into b, run at_s after the incident opened:
 * who at which minute, through which channels, and which channels get a
 * post. *paged: how many people it pages. 0 or -1. */
static int dry_step(struct cmd_ctx *ctx, struct dry_run *d, const char *team, size_t n,
		    const struct escalation_step *step, int64_t at_s, struct buf *b, size_t *paged)
{
	struct delegate_step_people sp;
	char at[32];

	if (delegate_step_people(ctx->store, ctx->cfg, ctx->org_id, team, step, ctx->now_ms + at_s * 1000, &sp) < 0)
		return -1;
	*paged = sp.n;
	at_text(at_s, at, sizeof(at));
	buf_printf(b, "*Step %zu* (%s):\n", n, at);
	for (size_t i = 0; i < sp.n; i++) {
		struct contact_rules cr;
		enum contact_source src;
		char how[160], who[160];
		int k = member_index(d, sp.people[i].id);
		if (contact_rules_get(ctx->store, ctx->org_id, sp.people[i].id, &cr, &src) < 0)
			return -1;
		at_text(at_s + sp.people[i].after_s, at, sizeof(at));
		delegate_cmd_describe(sp.people[i].target, d->teams, d->nteams, who, sizeof(who));
		/* A backup is paged as someone's backup: say whose. */
		bool backup = strstr(sp.people[i].target, "backup") && sp.primary[0];
		buf_printf(b, "• %s: <@%s> (%s%s%s%s): %s\n", at, sp.people[i].id, who, backup ? " for <@" : "",
			   backup ? sp.primary : "", backup ? ">" : "", contact_rules_describe(&cr, how, sizeof(how)));
		if (k >= 0)
			d->paged[k] = true;
	}
	for (size_t i = 0; i < sp.nchannels; i++)
		buf_printf(b, "• posted in <#%s> (a channel is told, not paged)\n", sp.channels[i]);
	if (!sp.n && !sp.nchannels)
		buf_adds(b, "• nobody: the next step runs at once\n");
	for (size_t i = 0; i < sp.nleft; i++) {
		int k = member_index(d, sp.left[i].id);
		if (k >= 0 && !d->why[k])
			d->why[k] = sp.left[i].why;
	}
	return 0;
}

enum cmd_result delegate_cmd_test(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	const char *severity = "critical", *service = "", *type = "manual", *team_name = NULL;
	char team[48] = "default", typed[80];
	struct delegate_rule rule = { 0 };
	struct delegate_route route;
	struct delegate_settings st;
	struct escalation_policy p;
	struct team_info *teams = NULL;
	struct dry_run d = { 0 };
	struct buf b = BUF_INIT(65536);
	enum cmd_result res = CMD_REFUSED;
	int rc;

	delegate_cmd_typed(ctx, typed, sizeof(typed));
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq)
			goto usage;
		size_t kl = (size_t)(eq - argv[i]);
		char key[16];
		if (kl >= sizeof(key))
			goto usage;
		memcpy(key, argv[i], kl);
		key[kl] = '\0';
		if (strcasecmp(key, "team") == 0) {
			team_name = eq + 1;
			continue;
		}
		if ((rc = delegate_cmd_rule_field(ctx, key, eq + 1, &rule, r)) != 0) {
			res = rc < 0 ? CMD_STORE_ERROR : CMD_REFUSED;
			goto out;
		}
	}
	if (rule.severity[0])
		severity = rule.severity;
	if (rule.type[0])
		type = rule.type;
	/* The incident's team as incident_open picks it: team=, else the service's. */
	if (rule.service[0]) {
		struct service svc;
		if (service_get(ctx->store, ctx->org_id, rule.service, &svc) != 0) {
			res = CMD_STORE_ERROR;
			goto out;
		}
		service = rule.service;
		wk_strlcpy(team, svc.team, sizeof(team));
	}
	if (team_name && (rc = delegate_cmd_team(ctx, team_name, team, sizeof(team), r)) != 0) {
		res = rc < 0 ? CMD_STORE_ERROR : CMD_REFUSED;
		goto out;
	}
	res = CMD_STORE_ERROR;
	if (delegate_route(ctx->store, ctx->cfg, ctx->org_id, service, severity, type, team, &route) < 0 ||
	    delegate_settings_get(ctx->store, ctx->org_id, &st) < 0 ||
	    team_list(ctx->store, ctx->org_id, &teams, &d.nteams) < 0 ||
	    member_list(ctx->store, ctx->org_id, &d.members, &d.nmembers) < 0)
		goto out;
	d.teams = teams;
	d.paged = xcalloc(d.nmembers + 1, sizeof(*d.paged));
	d.why = xcalloc(d.nmembers + 1, sizeof(*d.why));
	if (escalation_policy_parse(route.policy, &p) < 0) {
		reply_textf(r, "The policy this incident would run can't be read; `%s show` shows what is stored.", typed);
		res = CMD_REFUSED;
		goto out;
	}
	reply_textf(r, "Dry run, nobody is paged: an incident of severity *%s*%s%s, type %s.", severity,
		    service[0] ? ", service " : "", service, type);
	if (route.rule) {
		struct delegate_rule *rules = NULL;
		size_t nrules = 0;
		if (delegate_rules_list(ctx->store, ctx->org_id, &rules, &nrules) < 0)
			goto out;
		char why[400] = "";
		for (size_t i = 0; i < nrules; i++)
			if (rules[i].id == route.rule) {
				delegate_cmd_rule_text(&rules[i], teams, d.nteams, &b);
				if (delegate_cmd_filtered(ctx, &st, d.members, d.nmembers, rules[i].target, why,
							  sizeof(why)) < 0) {
					free(rules);
					goto out;
				}
			}
		free(rules);
		reply_section(r, "Routed by rule %s.", b.len ? buf_cstr(&b) : "(removed since)");
		if (why[0])
			reply_section(r, "*This rule is filtered out:* %s", why);
	} else {
		char target[64], who[80];
		snprintf(target, sizeof(target), "team:%s", route.team);
		delegate_cmd_describe(target, teams, d.nteams, who, sizeof(who));
		reply_section(r, "No rule matched: %s's escalation policy.", who);
	}
	/* The engine's timeline (escalation.c): a step that pages nobody does not
	 * wait out its delay, so the next one runs at once and the rest keep
	 * their spacing from there; if the whole round pages nobody, the owners
	 * are paged when it ends. */
	int64_t at_s = p.nsteps ? p.steps[0].delay_s : 0;
	size_t paged_total = 0;
	for (size_t i = 0; i < p.nsteps; i++) {
		size_t paged = 0;
		if (i)
			at_s += p.steps[i].delay_s - p.steps[i - 1].delay_s;
		buf_reset(&b);
		if (dry_step(ctx, &d, route.team, i + 1, &p.steps[i], at_s, &b, &paged) < 0)
			goto out;
		reply_section(r, "%s", buf_cstr(&b));
		paged_total += paged;
		if (!paged && i + 1 < p.nsteps)
			at_s -= p.steps[i + 1].delay_s - p.steps[i].delay_s;
	}
	if (!paged_total) {
		struct member *owners = d.members;
		char at[32];
		buf_reset(&b);
		at_text(at_s, at, sizeof(at));
		for (size_t i = 0; i < d.nmembers; i++)
			if (owners[i].role == ROLE_OWNER) {
				buf_printf(&b, "• %s: <@%s> (the org's owner, even if opted out)\n", at, owners[i].id);
				d.paged[i] = true;
			}
		reply_section(r, "*Nobody could be paged*, so the org's owners are:\n%s", buf_cstr(&b));
	}
	if (p.repeats) {
		char every[32];
		reply_section(r, "Unacknowledged, it starts again from step 1, up to %lld more time%s, a round every %s, "
				 "with whoever is on call then.", (long long)p.repeats, p.repeats == 1 ? "" : "s",
			      delegate_cmd_span(p.round_s, every, sizeof(every)));
	} else {
		reply_section(r, "It does not repeat: after step %zu nobody more is paged.", p.nsteps);
	}
	buf_reset(&b);
	/* The people shown as not paged (a big org's list would bury the answer:
	 * the first LEFT_SHOWN, and a count); those no step reached are judged
	 * together, in one read. */
	size_t left = 0, nask = 0, shown_ix[LEFT_SHOWN];
	const char *ask[LEFT_SHOWN], *asked[LEFT_SHOWN];
	for (size_t i = 0; i < d.nmembers; i++) {
		if (d.paged[i] || d.members[i].placeholder || ++left > LEFT_SHOWN)
			continue;
		shown_ix[left - 1] = i;
		if (!d.why[i])
			ask[nask++] = d.members[i].id;
	}
	if (delegate_members_eligible(ctx->store, ctx->cfg, ctx->org_id, &st, ask, nask, false, asked) < 0)
		goto out;
	for (size_t k = 0, a = 0; k < left && k < LEFT_SHOWN; k++) {
		size_t i = shown_ix[k];
		const char *why = d.why[i];
		if (!why) {
			why = asked[a++];
			if (!why)
				why = "not in any step";
		}
		buf_printf(&b, "• <@%s>: %s\n", d.members[i].id, why);
	}
	if (left > LEFT_SHOWN)
		buf_printf(&b, "…and %zu more.\n", left - LEFT_SHOWN);
	if (b.len)
		reply_section(r, "*Not paged:*\n%s", buf_cstr(&b));
	res = CMD_OK;
	goto out;
usage:
	res = delegate_cmd_usage(ctx, "test", "Say what the incident is like, as `key=value` words.", r);
out:
	free(teams);
	free(d.members);
	free(d.paged);
	free(d.why);
	buf_free(&b);
	return res;
}

