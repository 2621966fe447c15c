/* delegate_target.c - what `/delegate` reads from people: targets, members,
 * teams and rule fields, and what the targeting mode does to a target
 * (commands/delegate.h). Rules and policy steps share it, so both take the
 * same words and refuse them with the same sentences. */
#include "bot/delegate.h"
#include "bot/escalation.h"
#include "bot/handoff.h"
#include "bot/incident.h"
#include "bot/member.h"
#include "bot/rotations.h"
#include "bot/service.h"
#include "bot/team.h"
#include "bot/util.h"
#include "commands/delegate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A member people named (a mention, github:login or an email): 0 with id,
 * 1 refused, -1. member_resolve looks only in this org, so another org's
 * people can never be named. */
int delegate_cmd_member(struct cmd_ctx *ctx, const char *arg, char *id, size_t size, struct reply *r)
{
	enum member_ref ref;
	char shown[80];

	if (member_resolve(ctx->store, ctx->org_id, ctx->req->platform, arg, id, size, &ref) < 0)
		return -1;
	if (ref == MEMBER_REF_FOUND)
		return 0;
	reply_escape(shown, sizeof(shown), arg);
	if (ref == MEMBER_REF_NOT_MEMBER && id[0])
		reply_textf(r, "<@%s> is not a member here, so incidents can't go to them; `/invite` brings them in "
			       "first.", id);
	else if (ref == MEMBER_REF_NOT_MEMBER)
		reply_textf(r, "`%s` is not a member here, so incidents can't go to them.", shown);
	else
		reply_textf(r, "`%s` is not a user. Mention them with @.", shown);
	return 1;
}

int delegate_cmd_team(struct cmd_ctx *ctx, const char *name, char *id, size_t size, struct reply *r)
{
	char shown[64];
	int rc;

	if (!name) {
		wk_strlcpy(id, "default", size);
		return 0;
	}
	if ((rc = team_resolve(ctx->store, ctx->org_id, name, id, size)) > 0)
		reply_textf(r, "There is no team `%s`. `/invite team list` shows them.",
			    reply_escape(shown, sizeof(shown), name));
	return rc;
}

/* The incident team's chain, as people type it and as it is stored. */
static const struct {
	const char *word, *stored;
} positions[] = {
	{ "primary", "primary" },	{ "1st-backup", "backup1" }, { "secondary", "backup1" },
	{ "backup1", "backup1" },	{ "2nd-backup", "backup2" }, { "tertiary", "backup2" },
	{ "backup2", "backup2" },
};

static const char *position(const char *word)
{
	for (size_t i = 0; i < ARRAY_LEN(positions); i++)
		if (strcasecmp(word, positions[i].word) == 0)
			return positions[i].stored;
	return NULL;
}

static int target_help(const char *team, const char *arg, struct reply *r)
{
	char shown[80];

	reply_textf(r, "`%s` is not a target. Name @someone, `team:NAME`, `role:viewer|developer|admin|owner` or "
		       "`channel:#name`%s.", reply_escape(shown, sizeof(shown), arg),
		    team ? ", or a position: `primary`, `1st-backup`, `2nd-backup`, `rotation:NAME primary`" : "");
	return 1;
}

int delegate_cmd_target(struct cmd_ctx *ctx, const char *team, int argc, char **argv, int *used, char *out,
			size_t size, struct reply *r)
{
	const char *arg = argv[0], *pos;
	char id[DELEGATE_ID_MAX], shown[80];
	int rc;

	*used = 1;
	if ((pos = position(arg))) {
		if (!team) {
			reply_textf(r, "A rule names who gets the incident, not a position: positions belong to a team's "
				       "escalation policy. Use `team:NAME` to run that team's policy.");
			return 1;
		}
		snprintf(out, size, "%s", pos);
		return 0;
	}
	if (strncasecmp(arg, "rotation:", 9) == 0) {
		struct rotation_plan rp;
		if (!team)
			return target_help(team, arg, r);
		if (argc < 2 || !(pos = position(argv[1]))) {
			reply_textf(r, "Say which position of the rotation: `%s primary`, `1st-backup` or `2nd-backup`.",
				    reply_escape(shown, sizeof(shown), arg));
			return 1;
		}
		/* A rotation of the policy's own team: another team's rotation is
		 * reached through team:NAME, which runs that team's policy. */
		if ((rc = rotations_find(ctx->store, ctx->org_id, team, arg + 9, &rp)) != ROT_OK) {
			if (rc == ROT_STORE)
				return -1;
			reply_textf(r, "This team has no rotation `%s`. `/oncall rotation list` shows them.",
				    reply_escape(shown, sizeof(shown), arg + 9));
			return 1;
		}
		snprintf(out, size, "rotation:%s:%s", rp.name, pos);
		rotation_plan_free(&rp);
		*used = 2;
		return 0;
	}
	if (strncasecmp(arg, "team:", 5) == 0) {
		if ((rc = delegate_cmd_team(ctx, arg + 5, id, sizeof(id), r)) != 0)
			return rc;
		snprintf(out, size, "team:%s", id);
		return 0;
	}
	if (strncasecmp(arg, "role:", 5) == 0) {
		enum role role = role_parse(arg + 5);
		if (role == ROLE_NONE) {
			reply_textf(r, "`%s` is not a role: use viewer, developer, admin or owner.",
				    reply_escape(shown, sizeof(shown), arg + 5));
			return 1;
		}
		snprintf(out, size, "role:%s", role_name(role));
		return 0;
	}
	/* `channel:#name` arrives from Slack as channel:<#C123|name>, and a bare
	 * channel link is as clear; `channel:here` is where the command was typed. */
	if (strncasecmp(arg, "channel:", 8) == 0 || strncmp(arg, "<#", 2) == 0) {
		handoff_channel_parse(strncasecmp(arg, "channel:", 8) == 0 ? arg + 8 : arg, ctx->req->channel_id, id,
				      sizeof(id));
		if (!id[0]) {
			reply_textf(r, "`%s` is not a channel I can post in: pick one with # so Slack links it "
				       "(`channel:#ops`). Direct messages can't take incidents.",
				    reply_escape(shown, sizeof(shown), arg));
			return 1;
		}
		snprintf(out, size, "channel:%s", id);
		return 0;
	}
	if (arg[0] == '<' || arg[0] == '@' || strchr(arg, '@') || strncmp(arg, "github:", 7) == 0) {
		if ((rc = delegate_cmd_member(ctx, arg, id, sizeof(id), r)) != 0)
			return rc;
		snprintf(out, size, "member:%s", id);
		return 0;
	}
	return target_help(team, arg, r);
}

void delegate_cmd_describe(const char *target, const struct team_info *teams, size_t nteams, char *out,
			   size_t size)
{
	/* Rules name teams by id; people know them by name. */
	for (size_t i = 0; strncmp(target, "team:", 5) == 0 && i < nteams; i++)
		if (strcmp(teams[i].id, target + 5) == 0) {
			snprintf(out, size, "team %s", teams[i].name);
			return;
		}
	escalation_target_describe(target, out, size);
}

/* ---- what the targeting mode does to a target ---- */

/* How to fix each reason delegate_member_eligible gives; %s is `/delegate`. */
static const struct {
	const char *why, *fix;
} fixes[] = {
	{ "viewer", "viewers are left out (`%s viewers on` includes them)" },
	{ "opted out", "they turned incident notifications off, which always wins; only they can turn them on "
		       "(`/oncall me incidents on`)" },
	{ "no service", "the mode is users_with_services and they own no service (make them an owner with "
			"`/incident service owner NAME @user`, or `%s mode all_members`)" },
	{ "not listed", "the mode is specific_users and they are not listed (`%s mode specific_users @user ...` "
			"lists them)" },
	{ "not a member", "they are not a member here any more" },
};

static void why_and_fix(struct cmd_ctx *ctx, const char *why, char *out, size_t size)
{
	char typed[80];

	delegate_cmd_typed(ctx, typed, sizeof(typed));
	for (size_t i = 0; i < ARRAY_LEN(fixes); i++)
		if (strcmp(fixes[i].why, why) == 0) {
			snprintf(out, size, fixes[i].fix, typed);
			return;
		}
	snprintf(out, size, "%s", why);
}

/* Why the targeting mode would leave target's people out, into why ("" when
 * it would not). Members named by a target are eligible whatever the mode, so
 * only their own switch (and being a viewer) stops them; a role reaches its
 * members only as the mode allows. Teams run their policy and channels are
 * posted to, so neither is filtered here. 0, or -1 when the store failed. */
int delegate_cmd_filtered(struct cmd_ctx *ctx, const struct delegate_settings *st, const struct member *members,
		    size_t nmembers, const char *target, char *why, size_t size)
{
	const char *reason = NULL;
	char fix[300];

	why[0] = '\0';
	if (strncmp(target, "member:", 7) == 0) {
		int ok = delegate_member_eligible(ctx->store, ctx->cfg, ctx->org_id, st, target + 7, true, &reason);
		if (ok < 0)
			return -1;
		if (!ok) {
			why_and_fix(ctx, reason, fix, sizeof(fix));
			snprintf(why, size, "<@%s> would not be paged: %s.", target + 7, fix);
		}
	} else if (strncmp(target, "role:", 5) == 0) {
		enum role role = role_parse(target + 5);
		const char **ids = xcalloc(nmembers + 1, sizeof(*ids)), **whys = xcalloc(nmembers + 1, sizeof(*whys));
		size_t with = 0;
		for (size_t i = 0; i < nmembers; i++)
			if (members[i].role == role && !members[i].placeholder)
				ids[with++] = members[i].id;
		/* Everyone with the role in one read, not a round trip each. */
		int rc = delegate_members_eligible(ctx->store, ctx->cfg, ctx->org_id, st, ids, with, false, whys);
		bool someone = false;
		for (size_t i = 0; rc == 0 && i < with; i++)
			someone = someone || !whys[i];
		reason = with && rc == 0 ? whys[0] : NULL;
		free(ids);
		free(whys);
		if (rc < 0)
			return -1;
		if (someone)
			return 0;
		if (!with) {
			snprintf(why, size, "nobody has role %s yet.", target + 5);
		} else {
			why_and_fix(ctx, reason, fix, sizeof(fix));
			snprintf(why, size, "nobody with role %s would be paged: %s.", target + 5, fix);
		}
	}
	return 0;
}

/* ---- rules ---- */

static const char *const incident_types[] = { "manual", "alertmanager", "sentry", "grafana", "generic" };

/* One `KEY VALUE` of a rule into it; 0, 1 refused, -1. */
int delegate_cmd_rule_field(struct cmd_ctx *ctx, const char *key, const char *value, struct delegate_rule *rule,
		      struct reply *r)
{
	char shown[64], typed[80];

	reply_escape(shown, sizeof(shown), value);
	if (strcasecmp(key, "service") == 0) {
		struct service svc;
		int rc = 0;
		if (rule->service[0]) {
			reply_textf(r, "Name the service once.");
			return 1;
		}
		if (strlen(value) >= sizeof(rule->service) || !team_name_valid(value) ||
		    (rc = service_get(ctx->store, ctx->org_id, value, &svc)) > 0) {
			reply_textf(r, "There is no service `%s`. `/incident service list` shows them.", shown);
			return 1;
		}
		if (rc < 0)
			return -1;
		wk_strlcpy(rule->service, svc.name, sizeof(rule->service));
	} else if (strcasecmp(key, "severity") == 0 || strcasecmp(key, "sev") == 0) {
		int sev = incident_severity_parse(value);
		if (rule->severity[0]) {
			reply_textf(r, "Name the severity once.");
			return 1;
		}
		if (sev < 0) {
			reply_textf(r, "`%s` is not a severity. Use one of critical, error, warning, info.", shown);
			return 1;
		}
		wk_strlcpy(rule->severity, incident_severity_name((enum incident_severity)sev), sizeof(rule->severity));
	} else if (strcasecmp(key, "type") == 0) {
		size_t i = 0;
		while (i < ARRAY_LEN(incident_types) && strcasecmp(value, incident_types[i]) != 0)
			i++;
		if (rule->type[0] || i == ARRAY_LEN(incident_types)) {
			reply_textf(r, "`%s` is not an incident type. Use one of manual, alertmanager, sentry, grafana, "
				       "generic, once.", shown);
			return 1;
		}
		wk_strlcpy(rule->type, incident_types[i], sizeof(rule->type));
	} else {
		reply_textf(r, "`%s` is not something a rule matches on: a rule names service, severity and type, in any "
			       "order, then `to` and who gets it (`%s service api severity critical to @user`).",
			    reply_escape(shown, sizeof(shown), key), delegate_cmd_typed(ctx, typed, sizeof(typed)));
		return 1;
	}
	return 0;
}

