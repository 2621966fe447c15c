/* incident.c - `/incident`: open, look at and act on incidents, and see the
 * escalation policy they run (bot/incident.h, bot/escalation.h).
 *
 * Viewers read; developers and up act. Every change is one atomic step in
 * Redis, so two people pressing Acknowledge at once give one ack and the
 * second is told who was first. */
#include "bot/delegate.h"
#include "bot/escalation.h"
#include "bot/incident.h"
#include "bot/incident_card.h"
#include "bot/cmdline.h"
#include "bot/member.h"
#include "bot/service.h"
#include "bot/org.h"
#include "bot/outbox.h"
#include "bot/team.h"
#include "bot/tz.h"
#include "bot/util.h"
#include "bot/when.h"
#include "commands/commands.h"
#include "commands/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LIST_MAX 20
#define TIMELINE_MAX 50

static const struct tz *zone(const struct cmd_ctx *ctx)
{
	const struct tz *z = ctx->tz && ctx->tz[0] ? tz_get(ctx->tz) : NULL;

	return z ? z : ctx->cfg->rotation.zone;
}

/* The incident number argument, or a refusal naming what was typed. */
static int64_t pick(const char *arg, struct reply *r)
{
	int64_t n = incident_parse_id(arg);
	char shown[40];

	if (n < 0)
		reply_textf(r, "`%s` is not an incident number. Write it like `INC-42` or `42`; `/incident list` "
			       "shows them.", reply_escape(shown, sizeof(shown), arg));
	return n;
}

/* "INC-7 *triggered* [critical] summary (service api)" */
static void headline(const struct incident *inc, struct buf *b)
{
	char shown[INCIDENT_SUMMARY_MAX * 2];

	buf_printf(b, "*INC-%lld* %s [%s] %s", (long long)inc->n, incident_state_name(inc->state), inc->severity,
		   reply_escape(shown, sizeof(shown), inc->summary));
	if (inc->service[0])
		buf_printf(b, " (service %s)", inc->service);
}

/* ---- open ---- */

static enum cmd_result incident_open_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct buf summary = BUF_INIT(INCIDENT_SUMMARY_MAX + 1), line = BUF_INIT(512);
	const char *severity = "critical", *service = "", *team_name = NULL;
	char team[INCIDENT_NAME_MAX] = "default", policy_text[INCIDENT_POLICY_MAX], described[512], shown[64];
	struct escalation_policy policy;
	enum cmd_result res = CMD_OK;
	int64_t n;
	bool existing;

	for (int i = 0; i < argc; i++) {
		if (strncasecmp(argv[i], "sev=", 4) == 0 || strncasecmp(argv[i], "severity=", 9) == 0) {
			const char *v = strchr(argv[i], '=') + 1;
			int s = incident_severity_parse(v);
			if (s < 0) {
				reply_textf(r, "`%s` is not a severity. Use one of critical, error, warning, info.",
					    reply_escape(shown, sizeof(shown), v));
				res = CMD_REFUSED;
				goto out;
			}
			severity = incident_severity_name((enum incident_severity)s);
		} else if (strncasecmp(argv[i], "service=", 8) == 0) {
			service = argv[i] + 8;
		} else if (strncasecmp(argv[i], "team=", 5) == 0) {
			team_name = argv[i] + 5;
		} else {
			buf_printf(&summary, "%s%s", summary.len ? " " : "", argv[i]);
		}
	}
	if (!summary.len) {
		reply_textf(r, "Say what is wrong: `/incident open The checkout API returns 500 sev=critical`.");
		res = CMD_REFUSED;
		goto out;
	}
	if (summary.len > INCIDENT_SUMMARY_MAX || strlen(service) >= INCIDENT_NAME_MAX ||
	    (service[0] && !team_name_valid(service))) {
		reply_textf(r, "A summary is at most %d characters and a service name is letters, digits, '-' "
			       "or '_'.", INCIDENT_SUMMARY_MAX);
		res = CMD_REFUSED;
		goto out;
	}
	if (team_name) {
		int rc = team_resolve(ctx->store, ctx->org_id, team_name, team, sizeof(team));
		if (rc != 0) {
			if (rc > 0)
				reply_textf(r, "There is no team `%s`. `/invite team list` shows them.",
					    reply_escape(shown, sizeof(shown), team_name));
			res = rc > 0 ? CMD_REFUSED : CMD_STORE_ERROR;
			goto out;
		}
	}
	/* A service's incidents run its team's escalation, from its paging threshold on. */
	struct service svc;
	bool pages = true;
	if (service[0]) {
		int rc = service_get(ctx->store, ctx->org_id, service, &svc);
		if (rc != 0) {
			if (rc > 0)
				reply_textf(r, "There is no service `%s`. An admin makes it with `/incident service create "
					       "%s`; `/incident service list` shows them.", service, service);
			res = rc > 0 ? CMD_REFUSED : CMD_STORE_ERROR;
			goto out;
		}
		if (!team_name)
			wk_strlcpy(team, svc.team, sizeof(team));
		pages = service_pages(&svc, severity);
	}
	escalation_default_policy(ctx->cfg, &policy);
	if (escalation_policy_format(&policy, policy_text, sizeof(policy_text)) < 0) {
		res = CMD_STORE_ERROR;
		goto out;
	}
	buf_printf(&line, "opened by <@%s>: %s", ctx->req->user_id, buf_cstr(&summary));
	struct incident_new in = { .summary = buf_cstr(&summary), .severity = severity, .service = service,
				   .team = team, .type = "manual", .dedup = "", .opened_by = ctx->req->user_id,
				   .policy = policy_text, .first_step_due_ms = pages ? ctx->now_ms : 0,
				   .timeline = buf_cstr(&line),
				   /* Its card lives where it was opened (a Slack channel, a Teams chat). */
				   .channel = ctx->req->platform != PLATFORM_CONSOLE ? ctx->req->channel_id : "" };
	if (incident_open(ctx->store, ctx->org_id, &in, ctx->now_ms, NULL, &n, &existing) < 0) {
		res = CMD_STORE_ERROR;
		goto out;
	}
	struct incident inc;
	if (incident_get(ctx->store, ctx->org_id, n, &inc) != 0) {
		res = CMD_STORE_ERROR;
		goto out;
	}
	buf_reset(&line);
	headline(&inc, &line);
	reply_textf(r, "Opened %s.", buf_cstr(&line));
	if (pages) {
		/* What it runs is what routing picked (a /delegate rule or the team's policy). */
		if (escalation_policy_parse(inc.policy, &policy) == 0)
			escalation_policy_describe(&policy, described, sizeof(described));
		else
			wk_strlcpy(described, "(unreadable policy)", sizeof(described));
		if (inc.rule > 0)
			reply_section(r, "Paging until someone acknowledges (delegation rule #%lld):\n%s",
				      (long long)inc.rule, described);
		else
			reply_section(r, "Paging until someone acknowledges:\n%s", described);
	} else {
		reply_section(r, "Nobody is paged: service %s pages from %s up (`/incident service pages %s %s` "
				 "changes that). It is recorded, and `/incident escalate %lld` pages now.", service,
			      svc.pages, service, severity, (long long)n);
	}
	if (inc.card_ch[0] && incident_card_not_in_channel(ctx->store, ctx->org_id, inc.card_ch))
		reply_section(r, "I am not in <#%s>, so its card can't be posted there: invite me first "
				 "(`/invite @Watchkeeper`); the card follows with the next change.", inc.card_ch);
	incident_card_buttons(&inc, r);
out:
	buf_free(&summary);
	buf_free(&line);
	return res;
}

/* ---- reading ---- */

static enum cmd_result incident_list_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct incident *list;
	size_t n;
	bool mine = argc && strcasecmp(argv[0], "mine") == 0, all = argc && strcasecmp(argv[0], "all") == 0;
	struct buf b = BUF_INIT(4096);
	size_t shown = 0;

	if (argc && !mine && !all && strcasecmp(argv[0], "open") != 0) {
		reply_textf(r, "Usage: `/incident list [open|mine|all]`.");
		return CMD_REFUSED;
	}
	if (incident_list(ctx->store, ctx->org_id, all ? INC_LIST_ALL : INC_LIST_OPEN, mine ? 200 : LIST_MAX, &list,
			  &n) < 0)
		return CMD_STORE_ERROR;
	for (size_t i = 0; i < n && shown < LIST_MAX; i++) {
		if (mine && strcmp(list[i].assignee, ctx->req->user_id) != 0 &&
		    strcmp(list[i].opened_by, ctx->req->user_id) != 0 && strcmp(list[i].acked_by, ctx->req->user_id) != 0)
			continue;
		char when[64];
		when_format(zone(ctx), list[i].created_ms / 1000, when, sizeof(when));
		buf_adds(&b, "• ");
		headline(&list[i], &b);
		buf_printf(&b, ", opened %s\n", when);
		shown++;
	}
	free(list);
	if (!shown)
		reply_textf(r, "%s", all ? "There are no incidents yet." : mine ? "No open incidents of yours."
											     : "No open incidents.");
	else {
		reply_textf(r, "%s:", all ? "Incidents, newest first" : mine ? "Your open incidents" : "Open incidents");
		reply_section(r, "%s", buf_cstr(&b));
	}
	buf_free(&b);
	return CMD_OK;
}

/* What became of each page the incident sent: per person, each channel's
 * delivery as the outbox recorded it (a page's message on a channel is found
 * by the outbox's dedupe key, notify_dedupe:page:<page>:<channel>). 0 or -1. */
static int deliveries(struct cmd_ctx *ctx, int64_t n, struct buf *b)
{
	char key[192];
	redisReply *pages;

	if (org_key(key, sizeof(key), ctx->org_id, "inc:%lld:pages", (long long)n) < 0)
		return 0;
	if (!(pages = store_command(ctx->store, "SMEMBERS %s", key)))
		return -1;
	for (size_t i = 0; pages->type == REDIS_REPLY_ARRAY && i < pages->elements && i < 50; i++) {
		const char *pid = pages->element[i]->str;
		redisReply *pg;
		char pkey[192], steps[128], member[64], *save = NULL;
		if (pages->element[i]->type != REDIS_REPLY_STRING || !org_member_id_valid(pid) ||
		    org_key(pkey, sizeof(pkey), ctx->org_id, "page:%s", pid) < 0)
			continue;
		if (!(pg = store_command(ctx->store, "HMGET %s member steps", pkey))) {
			freeReplyObject(pages);
			return -1;
		}
		if (pg->type != REDIS_REPLY_ARRAY || pg->elements != 2 || pg->element[0]->type != REDIS_REPLY_STRING ||
		    pg->element[1]->type != REDIS_REPLY_STRING) {
			freeReplyObject(pg);
			continue;
		}
		wk_strlcpy(member, pg->element[0]->str, sizeof(member));
		wk_strlcpy(steps, pg->element[1]->str, sizeof(steps));
		freeReplyObject(pg);
		buf_printf(b, "• <@%s>:", member);
		for (char *st = strtok_r(steps, ",", &save); st; st = strtok_r(NULL, ",", &save)) {
			char dkey[192], *colon = strchr(st, ':');
			struct outbox_status os;
			redisReply *d;
			if (colon)
				*colon = '\0';
			if (org_key(dkey, sizeof(dkey), ctx->org_id, "notify_dedupe:page:%s:%s", pid, st) < 0 ||
			    !(d = store_command(ctx->store, "GET %s", dkey))) {
				freeReplyObject(pages);
				return -1;
			}
			if (d->type == REDIS_REPLY_STRING && outbox_get(ctx->store, ctx->org_id, d->str, &os) == 0)
				buf_printf(b, " %s %s%s%s", outbox_is_chat_channel(st) ? "chat" : st, os.status,
					   os.provider_status[0] ? "/" : "", os.provider_status);
			else
				buf_printf(b, " %s not yet", outbox_is_chat_channel(st) ? "chat" : st);
			freeReplyObject(d);
		}
		buf_adds(b, "\n");
	}
	freeReplyObject(pages);
	return 0;
}

static enum cmd_result incident_show_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct incident inc;
	struct incident_event *ev;
	size_t count;
	struct buf b = BUF_INIT(8192);
	int64_t n = pick(argv[0], r);
	int got;

	(void)argc;
	if (n < 0)
		return CMD_REFUSED;
	if ((got = incident_get(ctx->store, ctx->org_id, n, &inc)) != 0) {
		if (got < 0)
			return CMD_STORE_ERROR;
		reply_textf(r, "There is no INC-%lld. `/incident list all` shows them.", (long long)n);
		return CMD_REFUSED;
	}
	if (incident_timeline(ctx->store, ctx->org_id, n, TIMELINE_MAX, &ev, &count) < 0)
		return CMD_STORE_ERROR;
	headline(&inc, &b);
	reply_textf(r, "%s", buf_cstr(&b));
	buf_reset(&b);
	if (inc.repeats)
		buf_printf(&b, "The alert came again %lld time%s.\n", (long long)inc.repeats, inc.repeats == 1 ? "" : "s");
	if (inc.paging_off)
		buf_adds(&b, "Nobody is paged for it: its severity is below what its service pages for.\n");
	else if (inc.rule > 0)
		buf_printf(&b, "Routed by delegation rule #%lld (`/delegate rules`).\n", (long long)inc.rule);
	if (inc.stuck_since_ms && inc.state == INCIDENT_TRIGGERED) {
		char when[64];
		when_format(zone(ctx), inc.stuck_since_ms / 1000, when, sizeof(when));
		buf_printf(&b, "*Escalation stuck since %s*: its next step keeps failing and is retried.\n", when);
	}
	for (size_t i = 0; i < count; i++) {
		char when[64], text[INCIDENT_TEXT_MAX * 2];
		when_format(zone(ctx), ev[i].ts / 1000, when, sizeof(when));
		/* Entries are stored as written by us; user text in them was escaped then. */
		wk_strlcpy(text, ev[i].text, sizeof(text));
		buf_printf(&b, "• %s — %s\n", when, text);
	}
	free(ev);
	reply_section(r, "%s", buf_cstr(&b));
	buf_reset(&b);
	if (deliveries(ctx, n, &b) < 0) {
		buf_free(&b);
		return CMD_STORE_ERROR;
	}
	if (b.len)
		reply_section(r, "*Deliveries:*\n%s", buf_cstr(&b));
	buf_free(&b);
	incident_card_buttons(&inc, r);
	return CMD_OK;
}

static enum cmd_result incident_policy_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct escalation_policy p;
	char described[512], team[INCIDENT_NAME_MAX] = "default", shown[64];

	if (argc) {
		int rc = team_resolve(ctx->store, ctx->org_id, argv[0], team, sizeof(team));
		if (rc != 0) {
			if (rc < 0)
				return CMD_STORE_ERROR;
			reply_textf(r, "There is no team `%s`. `/invite team list` shows them.",
				    reply_escape(shown, sizeof(shown), argv[0]));
			return CMD_REFUSED;
		}
	}
	char text[INCIDENT_POLICY_MAX];
	int stored = delegate_team_policy_get(ctx->store, ctx->org_id, team, text, sizeof(text));
	if (stored < 0)
		return CMD_STORE_ERROR;
	if (stored != 0 || escalation_policy_parse(text, &p) < 0)
		escalation_default_policy(ctx->cfg, &p);
	escalation_policy_describe(&p, described, sizeof(described));
	reply_textf(r, "Escalation policy of team *%s*%s:", argc ? argv[0] : "default",
		    stored != 0 ? " (the built-in default)" : "");
	reply_section(r, "%s\nDelegation rules may send some incidents elsewhere: `/delegate show`; "
			 "`/delegate policy` changes this one.", described);
	return CMD_OK;
}

/* ---- changes ---- */

/* One change and the sentence for its outcome. */
static enum cmd_result change(struct cmd_ctx *ctx, int64_t n, enum incident_action a, const char *text,
			      const char *via, struct reply *r)
{
	struct incident_change c = { .action = a, .by = ctx->req->user_id, .via = via, .text = text };
	struct incident_result res;
	struct incident inc;

	if (incident_change(ctx->store, ctx->org_id, n, &c, ctx->now_ms, &res) < 0)
		return CMD_STORE_ERROR;
	switch (res.outcome) {
	case INC_MISSING:
		reply_textf(r, "There is no INC-%lld. `/incident list` shows the open ones.", (long long)n);
		return CMD_REFUSED;
	case INC_IS_RESOLVED:
		reply_textf(r, "INC-%lld is resolved already; nothing more to do. A new problem is a new incident: "
			       "`/incident open`.", (long long)n);
		return CMD_REFUSED;
	case INC_ALREADY_ACKED:
		reply_textf(r, "<@%s> acknowledged INC-%lld first; nothing more is paged for it.", res.by,
			    (long long)n);
		return CMD_OK;
	case INC_NOT_TRIGGERED:
		reply_textf(r, "INC-%lld is acknowledged, so it is not escalating. `/incident reassign %lld @user` "
			       "hands it to someone else.", (long long)n, (long long)n);
		return CMD_REFUSED;
	case INC_LAST_STEP:
		reply_textf(r, "INC-%lld is past the last step of its escalation policy; there is nobody further "
			       "to page. `/incident reassign %lld @user` pages someone you choose.", (long long)n,
			    (long long)n);
		return CMD_REFUSED;
	case INC_DONE:
		break;
	}
	if (incident_get(ctx->store, ctx->org_id, n, &inc) != 0)
		return CMD_STORE_ERROR;
	switch (a) {
	case INC_ACK:
		reply_textf(r, "You acknowledged INC-%lld; nobody else is paged for it.", (long long)n);
		break;
	case INC_RESOLVE:
		reply_textf(r, "You resolved INC-%lld.", (long long)n);
		break;
	case INC_ESCALATE:
		reply_textf(r, "Escalated INC-%lld: step %lld of its policy runs now.", (long long)n,
			    (long long)res.step + 1);
		break;
	case INC_REASSIGN:
		reply_textf(r, "INC-%lld is now <@%s>'s; paging them now.", (long long)n, text);
		break;
	case INC_NOTE:
		reply_textf(r, "Added your note to INC-%lld.", (long long)n);
		break;
	}
	struct buf b = BUF_INIT(512);
	headline(&inc, &b);
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
	incident_card_buttons(&inc, r);
	return CMD_OK;
}

static enum cmd_result incident_ack_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	int64_t n = pick(argv[0], r);

	(void)argc;
	return n < 0 ? CMD_REFUSED : change(ctx, n, INC_ACK, "", "chat", r);
}

static enum cmd_result incident_escalate_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	int64_t n = pick(argv[0], r);

	(void)argc;
	return n < 0 ? CMD_REFUSED : change(ctx, n, INC_ESCALATE, "", "chat", r);
}

/* The rest of the words as one escaped text ("" when none). */
static void rest_text(int argc, char **argv, int from, char *out, size_t size)
{
	struct buf b = BUF_INIT(INCIDENT_TEXT_MAX);

	for (int i = from; i < argc; i++)
		buf_printf(&b, "%s%s", i > from ? " " : "", argv[i]);
	reply_escape(out, size, buf_cstr(&b));
	buf_free(&b);
}

static enum cmd_result incident_resolve_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char note[INCIDENT_TEXT_MAX], text[INCIDENT_TEXT_MAX + 64] = "";
	int64_t n = pick(argv[0], r);

	if (n < 0)
		return CMD_REFUSED;
	rest_text(argc, argv, 1, note, sizeof(note));
	if (note[0])
		snprintf(text, sizeof(text), "resolved: %s", note);
	return change(ctx, n, INC_RESOLVE, text, "chat", r);
}

static enum cmd_result incident_note_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char note[INCIDENT_TEXT_MAX];
	int64_t n = pick(argv[0], r);

	if (n < 0)
		return CMD_REFUSED;
	rest_text(argc, argv, 1, note, sizeof(note));
	return change(ctx, n, INC_NOTE, note, "chat", r);
}

static enum cmd_result incident_reassign_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char who[64], shown[80];
	int64_t n = pick(argv[0], r);
	struct member m;
	int got;

	(void)argc;
	if (n < 0)
		return CMD_REFUSED;
	if (cmdline_person(ctx->req->platform, argv[1], who, sizeof(who)) != 0 ||
	    !org_member_id_valid(who)) {
		reply_textf(r, "`%s` is not a user. Mention them with @.", reply_escape(shown, sizeof(shown), argv[1]));
		return CMD_REFUSED;
	}
	if ((got = member_get(ctx->store, ctx->org_id, who, &m)) != 0) {
		if (got < 0)
			return CMD_STORE_ERROR;
		reply_textf(r, "<@%s> is not a member here, so they can't be paged.", who);
		return CMD_REFUSED;
	}
	return change(ctx, n, INC_REASSIGN, who, "chat", r);
}

/* ---- buttons ---- */

static enum cmd_result click(struct cmd_ctx *ctx, const char *value, enum incident_action a, struct reply *r)
{
	int64_t n = incident_parse_id(value);

	r->replace_original = false;
	if (n < 0) {
		reply_textf(r, "That button is out of date.");
		return CMD_REFUSED;
	}
	return change(ctx, n, a, "", "button", r);
}

static enum cmd_result action_ack(struct cmd_ctx *ctx, const char *value, struct reply *r)
{
	return click(ctx, value, INC_ACK, r);
}

static enum cmd_result action_resolve(struct cmd_ctx *ctx, const char *value, struct reply *r)
{
	return click(ctx, value, INC_RESOLVE, r);
}

static enum cmd_result action_escalate(struct cmd_ctx *ctx, const char *value, struct reply *r)
{
	return click(ctx, value, INC_ESCALATE, r);
}

static const struct subcommand incident_subcommands[] = {
	{ "list", "[open|mine|all]", "lists incidents, open ones by default", ROLE_VIEWER, 0, 1, incident_list_cmd,
	  "", 0 },
	{ "open", "SUMMARY [sev=critical|error|warning|info] [service=NAME] [team=NAME]",
	  "opens an incident and pages the team's on-call until someone acknowledges", ROLE_DEVELOPER, 1, 60,
	  incident_open_cmd, "the database is down sev=error", 0 },
	{ "show", "ID", "shows an incident and its whole timeline", ROLE_VIEWER, 1, 1, incident_show_cmd, "1", 0 },
	{ "ack", "ID", "acknowledges an incident: its escalation stops", ROLE_DEVELOPER, 1, 1, incident_ack_cmd,
	  "1", 0 },
	{ "resolve", "ID [note]", "resolves an incident", ROLE_DEVELOPER, 1, 60, incident_resolve_cmd, "1 fixed", 0 },
	{ "escalate", "ID", "pages the next step of the escalation policy now", ROLE_DEVELOPER, 1, 1,
	  incident_escalate_cmd, "1", 0 },
	{ "reassign", "ID @user", "hands an incident to someone and pages them now", ROLE_DEVELOPER, 2, 2,
	  incident_reassign_cmd, "1 @user", 0 },
	{ "note", "ID TEXT", "adds a note to an incident's timeline", ROLE_DEVELOPER, 2, 60, incident_note_cmd,
	  "1 rolled back the deploy", 0 },
	{ "policy show", "[team]", "shows the escalation policy incidents run", ROLE_VIEWER, 0, 1, incident_policy_cmd,
	  "", 0 },
	/* Services and alert integrations (commands/incident_service.c, incident_integration.c). */
	{ "service create", "NAME [team T]", "makes a service that alerts and incidents are about", ROLE_ADMIN, 1, 3,
	  incident_service_create, "api", 0 },
	{ "service list", "", "lists services: team, owners, channel, from which severity they page", ROLE_VIEWER, 0,
	  0, incident_service_list, "", 0 },
	{ "service delete", "NAME", "deletes a service (its incidents stay)", ROLE_ADMIN, 1, 1,
	  incident_service_delete, "api", 0 },
	{ "service owner", "NAME @user [remove]", "adds or removes an owner of a service", ROLE_ADMIN, 2, 3,
	  incident_service_owner, "api @user", 0 },
	{ "service channel", "NAME here|#channel|off", "says where a service's alerts are posted", ROLE_ADMIN, 2, 2,
	  incident_service_channel, "api off", 0 },
	{ "service pages", "NAME critical|error|warning|info", "the lowest severity that pages people (default error)",
	  ROLE_ADMIN, 2, 2, incident_service_pages, "api warning", 0 },
	{ "integration create", "alertmanager|grafana|sentry|generic service=NAME",
	  "makes a webhook URL a monitoring system sends alerts to", ROLE_ADMIN, 2, 2, incident_integration_create,
	  "generic service=api", 0 },
	{ "integration list", "", "lists alert integrations: id, source, service, last use", ROLE_ADMIN, 0, 0,
	  incident_integration_list, "", 0 },
	{ "integration revoke", "ID", "revokes an integration: its URL stops working", ROLE_ADMIN, 1, 1,
	  incident_integration_revoke, "1", 0 },
	{ "integration secret", "ID SECRET", "stores the secret Sentry or Grafana signs with (in a DM only)",
	  ROLE_ADMIN, 2, 2, incident_integration_secret, "1 s3cret", 0 },
	/* commands/incident_report.c */
	{ "report", "[service S] [FROM] [TO]",
	  "incidents by service and severity, times to acknowledge and resolve, pages and their delivery, "
	  "with a CSV link", ROLE_VIEWER, 0, 4, incident_report_cmd, "", 0 },
	{ 0 }
};

static const struct command_action incident_actions[] = {
	{ "ack", ROLE_DEVELOPER, action_ack },
	{ "resolve", ROLE_DEVELOPER, action_resolve },
	{ "escalate", ROLE_DEVELOPER, action_escalate },
	{ 0 }
};

static const struct command_check incident_checks[] = {
	{ "open", "/incident list" },
	{ "ack", "/incident list" },
	{ "resolve", "/incident list" },
	{ "escalate", "/incident list" },
	{ "reassign", "/incident list" },
	{ "note", "/incident list" },
	{ "service create", "/incident service list" },
	{ "service delete", "/incident service list" },
	{ "service owner", "/incident service list" },
	{ "service channel", "/incident service list" },
	{ "service pages", "/incident service list" },
	{ "integration create", "/incident integration list" },
	{ "integration revoke", "/incident integration list" },
	{ "integration secret", "/incident integration list" },
	{ 0 }
};

const struct command incident_command = {
	.name = "incident",
	.summary = "open, acknowledge, escalate and resolve incidents",
	.subcommands = incident_subcommands,
	.default_sub = &incident_subcommands[0],
	.actions = incident_actions,
	.checks = incident_checks,
};
