/* handoff.c - see handoff.h */
#include "bot/handoff.h"
#include "bot/when.h"
#include "bot/audit.h"
#include "bot/log.h"
#include "bot/member.h"
#include "bot/notify.h"
#include "bot/org.h"
#include "bot/outbox.h"
#include "bot/rotation.h"
#include "bot/schedule.h"
#include "bot/team.h"
#include "bot/timers.h"
#include "bot/tz.h"
#include "bot/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Runs of a handoff or reminder (failed ones, or lost leases) before the
 * undelivered DMs are given up and the next one is armed anyway: the
 * timer must not be dropped, or every later handoff would be lost with it. */
#define GIVE_UP_AFTER 5

/* ---- small helpers ---- */

static int timer_id(char *out, size_t size, const char *kind, const char *org_id, const char *team_id)
{
	int n = snprintf(out, size, "%s:%s:%s", kind, org_id, team_id);
	return n < 0 || (size_t)n >= size || !timer_id_valid(out) ? -1 : 0;
}

/* The team's display name (its id when it has none). 0, 1 no such team, -1. */
static int team_name(struct store *s, const char *org_id, const char *team_id, char *out, size_t size)
{
	char key[192];
	redisReply *r;
	int rc = -1;

	if (org_key(key, sizeof(key), org_id, "teams") < 0)
		return -1;
	r = store_command(s, "HGET %s %s", key, team_id);
	if (r && r->type == REDIS_REPLY_STRING) {
		wk_strlcpy(out, r->str, size);
		rc = 0;
	} else if (r && r->type == REDIS_REPLY_NIL) {
		wk_strlcpy(out, team_id, size);
		rc = 1;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

struct team_settings {
	char reminder[8];	/* "HH:MM" or "off" */
	char tz[TZ_NAME_MAX + 1];	/* "" = not set */
	char announce[32];	/* Slack channel id for handoff announcements, "" = none */
};

static int settings_load(struct store *s, const char *org_id, const char *team_id,
			 struct team_settings *out)
{
	char key[192];
	redisReply *r;
	int rc = -1;

	wk_strlcpy(out->reminder, HANDOFF_DEFAULT_REMINDER, sizeof(out->reminder));
	out->tz[0] = out->announce[0] = '\0';
	if (org_key(key, sizeof(key), org_id, "team_settings:%s", team_id) < 0)
		return -1;
	r = store_command(s, "HMGET %s reminder tz announce", key);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
		int h, m;
		const redisReply *v = r->element[0], *z = r->element[1], *a = r->element[2];
		if (a->type == REDIS_REPLY_STRING && handoff_channel_valid(a->str))
			wk_strlcpy(out->announce, a->str, sizeof(out->announce));
		/* Only values handoff_set_reminder() would write count; anything else
		 * (a hand edit) reads as the default rather than breaking reminders. */
		if (v->type == REDIS_REPLY_STRING &&
		    (strcmp(v->str, "off") == 0 || rotation_hhmm_parse(v->str, &h, &m) == 0))
			wk_strlcpy(out->reminder, v->str, sizeof(out->reminder));
		if (z->type == REDIS_REPLY_STRING && strlen(z->str) <= TZ_NAME_MAX && tz_get(z->str))
			wk_strlcpy(out->tz, z->str, sizeof(out->tz));
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

/* The version of rotation r in force at t, else its newest. */
static const struct rotation_version *version_near(const struct rotation_plan *r, int64_t t)
{
	const struct rotation_version *v = NULL;
	struct shift sh;

	if (schedule_version_at(r, t, &v, &sh) == 0)
		return v;
	return r->nversions ? &r->versions[r->nversions - 1] : NULL;
}

/* The team's zone: its setting, else its first rotation's (by priority, then
 * id), else the config's. Never NULL (config validation loaded that zone). */
static const struct tz *team_zone(const struct config *cfg, const struct team_settings *set,
				  const struct team_plan *p, int64_t t)
{
	const struct rotation_plan *first = NULL;
	const struct rotation_version *v;
	const struct tz *z;

	if (set->tz[0] && (z = tz_get(set->tz)))
		return z;
	for (size_t i = 0; i < p->nrotations; i++) {
		const struct rotation_plan *r = &p->rotations[i];
		if (!r->nversions)
			continue;
		if (!first || r->priority < first->priority ||
		    (r->priority == first->priority && strcmp(r->id, first->id) < 0))
			first = r;
	}
	if (first && (v = version_near(first, t)) && v->spec.zone)
		return v->spec.zone;
	return cfg->rotation.zone ? cfg->rotation.zone : tz_get("UTC");
}

/* The zone of the rotation under the chain at t, else the team's. */
static const struct tz *rotation_zone(const struct config *cfg, const struct team_settings *set,
				      const struct team_plan *p, const char *rotation, int64_t t)
{
	for (size_t i = 0; i < p->nrotations; i++) {
		const struct rotation_version *v;
		if (strcmp(p->rotations[i].id, rotation) == 0 && (v = version_near(&p->rotations[i], t)) &&
		    v->spec.zone)
			return v->spec.zone;
	}
	return team_zone(cfg, set, p, t);
}

/* The first instant after `after` at which the local clock in z reads hh:mm. */
static int64_t next_local(const struct tz *z, int64_t after, int hh, int mm)
{
	struct tz_local l;
	int64_t t = after + 86400;

	tz_to_local(z, after, &l);
	/* Today's, else tomorrow's; the third day covers a zone that skipped a
	 * whole calendar day (Pacific/Apia, 2011-12-30). */
	for (int d = 0; d < 3; d++) {
		t = tz_from_local(z, l.year, l.month, l.day + d, hh, mm, 0);
		if (t > after)
			break;
	}
	return t;
}

/* The first boundary (see handoff.h) strictly after `after`, within the plan's
 * horizon. 0 with *at set, 1 none, -1 bad range. */
static int find_boundary(const struct team_plan *p, int64_t after, int64_t to, int64_t *at)
{
	struct schedule sc;
	int rc = 1;

	if (schedule_build(p, after, to, &sc) < 0)
		return -1;
	for (size_t i = 1; i < sc.n; i++) {
		if (sc.seg[i].start <= after || !sc.seg[i].member[0] ||
		    strcmp(sc.seg[i].member, sc.seg[i - 1].member) == 0)
			continue;
		*at = sc.seg[i].start;
		rc = 0;
		break;
	}
	schedule_free(&sc);
	return rc;
}

/* ---- scheduling ---- */

static int reminder_arm(struct store *s, const struct config *cfg, const char *org_id,
			const char *team_id, const struct team_settings *set,
			const struct team_plan *p, int64_t now_s, bool only_if_absent)
{
	char id[TIMER_ID_MAX];
	int h, m;

	if (timer_id(id, sizeof(id), "reminder", org_id, team_id) < 0)
		return -1;
	if (rotation_hhmm_parse(set->reminder, &h, &m) < 0)	/* "off" */
		return timer_cancel(s, id);
	int64_t due = next_local(team_zone(cfg, set, p, now_s), now_s, h, m);
	if (only_if_absent)
		return timer_schedule_nx(s, id, "reminder", org_id, team_id, due * 1000) < 0 ? -1 : 0;
	return timer_schedule(s, id, "reminder", org_id, team_id, due * 1000);
}

int handoff_reschedule(struct store *s, const struct config *cfg, const char *org_id,
		       const char *team_id, int64_t now_s)
{
	char id[TIMER_ID_MAX], rid[TIMER_ID_MAX], payload[TIMER_PAYLOAD_MAX];
	struct team_plan plan;
	struct team_settings set;
	int64_t at = 0;
	int rc = -1, found;

	if (timer_id(id, sizeof(id), "handoff", org_id, team_id) < 0 ||
	    timer_id(rid, sizeof(rid), "reminder", org_id, team_id) < 0) {
		log_error("handoff.reschedule", "org=%s reason=\"ids too long\"", org_id);
		return -1;
	}
	if (schedule_load(s, org_id, team_id, now_s, now_s + HANDOFF_HORIZON_S, &plan) < 0)
		return -1;
	if (!plan.nrotations) {
		/* No rotation, nobody to hand over to or to remind: nothing armed. */
		rc = timer_cancel(s, id) < 0 || timer_cancel(s, rid) < 0 ? -1 : 0;
		goto out;
	}
	found = find_boundary(&plan, now_s, now_s + HANDOFF_HORIZON_S, &at);
	if (found == 0) {
		snprintf(payload, sizeof(payload), "%s %lld", team_id, (long long)at);
		if (timer_schedule(s, id, "handoff", org_id, payload, at * 1000) < 0)
			goto out;
	} else if (timer_cancel(s, id) < 0) {
		goto out;
	}
	if (settings_load(s, org_id, team_id, &set) < 0 ||
	    reminder_arm(s, cfg, org_id, team_id, &set, &plan, now_s, true) < 0)
		goto out;
	log_debug("handoff.armed", "org=%s team=%s next=%lld", org_id, team_id,
		  found == 0 ? (long long)at : -1LL);
	rc = 0;
out:
	team_plan_free(&plan);
	return rc;
}

int handoff_set_reminder(struct store *s, const struct config *cfg, const char *org_id,
			 const char *team_id, const char *value, const char *tz, const char *actor,
			 const char *platform, char *why, size_t whysize)
{
	char key[192], name[64], resource[96];
	struct team_settings set;
	struct team_plan plan;
	int64_t now_s = engine_now_ms() / 1000;
	int h, m, rc;

	why[0] = '\0';
	if (!value || (strcmp(value, "off") != 0 && rotation_hhmm_parse(value, &h, &m) < 0)) {
		snprintf(why, whysize, "the reminder time must be HH:MM (00:00 to 23:59) or \"off\"");
		return 1;
	}
	if (tz && (strlen(tz) > TZ_NAME_MAX || !tz_get(tz))) {
		snprintf(why, whysize, "unknown time zone; use an IANA name like Europe/Berlin");
		return 1;
	}
	rc = team_name(s, org_id, team_id, name, sizeof(name));
	if (rc != 0) {
		snprintf(why, whysize, rc > 0 ? "no such team" : "the store is unavailable; try again");
		return rc > 0 ? 1 : -1;
	}
	if (org_key(key, sizeof(key), org_id, "team_settings:%s", team_id) < 0)
		return -1;
	/* Each field changes with its own audit entry, in one script each. */
	snprintf(resource, sizeof(resource), "team:%s", team_id);
	const struct audited_setting reminder = { key, "reminder", HANDOFF_DEFAULT_REMINDER, "team.reminder",
						  resource };
	const struct audited_setting zone = { key, "tz", "", "team.reminder_tz", resource };
	int64_t now_ms = engine_now_ms();
	rc = audit_set_field(s, org_id, &reminder, value, actor, platform, now_ms);
	if (rc >= 0 && tz)
		rc = audit_set_field(s, org_id, &zone, tz, actor, platform, now_ms);
	if (rc < 0) {
		snprintf(why, whysize, "the store is unavailable; try again");
		return -1;
	}
	/* The settings are the truth: reminder_fire() reads them again, so a crash
	 * between here and the timer below only delays the change to the next fire. */
	if (settings_load(s, org_id, team_id, &set) < 0 ||
	    schedule_load(s, org_id, team_id, now_s, now_s + 1, &plan) < 0) {
		snprintf(why, whysize, "the store is unavailable; try again");
		return -1;
	}
	rc = reminder_arm(s, cfg, org_id, team_id, &set, &plan, now_s, false);
	team_plan_free(&plan);
	if (rc < 0)
		snprintf(why, whysize, "the store is unavailable; try again");
	return rc < 0 ? -1 : 0;
}

bool handoff_channel_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 18 && strncmp(id, "tc", 2) == 0)	/* a Teams conversation (adapters/teams.h) */
		return strspn(id + 2, "0123456789abcdef") == 16;
	if (n < 2 || n > 24 || (id[0] != 'C' && id[0] != 'G'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9')))
			return false;
	return true;
}

void handoff_channel_parse(const char *arg, const char *here, char *out, size_t size)
{
	out[0] = '\0';
	if (strcasecmp(arg, "here") == 0) {
		wk_strlcpy(out, here, size);
	} else if (strncmp(arg, "<#", 2) == 0) {
		size_t n = strcspn(arg + 2, "|>");
		if (n < size && arg[2 + n]) {
			memcpy(out, arg + 2, n);
			out[n] = '\0';
		}
	}
	if (!handoff_channel_valid(out))
		out[0] = '\0';
}

int handoff_set_announce(struct store *s, const char *org_id, const char *team_id, const char *channel,
			 const char *actor, const char *platform, int64_t now_ms)
{
	char key[192], resource[96];

	if ((channel[0] && !handoff_channel_valid(channel)) ||
	    org_key(key, sizeof(key), org_id, "team_settings:%s", team_id) < 0)
		return -1;
	snprintf(resource, sizeof(resource), "team:%s", team_id);
	const struct audited_setting set = { key, "announce", "", "team.announce", resource };
	return audit_set_field(s, org_id, &set, channel, actor, platform, now_ms) < 0 ? -1 : 0;
}

int handoff_get_reminder(struct store *s, const struct config *cfg, const char *org_id,
			 const char *team_id, char *value, size_t vsize, char *tz, size_t tzsize,
			 int64_t *next_ms)
{
	char id[TIMER_ID_MAX];
	struct team_settings set;
	struct team_plan plan;
	int64_t now_s = engine_now_ms() / 1000;
	int rc;

	*next_ms = 0;
	if (timer_id(id, sizeof(id), "reminder", org_id, team_id) < 0 ||
	    settings_load(s, org_id, team_id, &set) < 0 ||
	    schedule_load(s, org_id, team_id, now_s, now_s + 1, &plan) < 0)
		return -1;
	wk_strlcpy(value, set.reminder, vsize);
	wk_strlcpy(tz, tz_name(team_zone(cfg, &set, &plan, now_s)), tzsize);
	team_plan_free(&plan);
	rc = timer_due(s, id, next_ms);
	if (rc == 1)
		*next_ms = 0;
	return rc < 0 ? -1 : 0;
}

/* ---- delivery ---- */

struct delivery {
	struct engine_ctx *ctx;
	const char *org;
	bool retry;		/* some recipient could not be queued: run again */
};

/* Look up who member_id is: 0 deliverable (m filled), 1 skip (logged). */
static int recipient(struct delivery *d, const char *member_id, struct member *m)
{
	int rc = member_get(d->ctx->store, d->org, member_id, m);

	if (rc < 0) {
		d->retry = true;
		return 1;
	}
	if (rc == 1 || m->placeholder) {
		log_info("handoff.skip", "org=%s member=%s reason=%s", d->org, member_id,
			 rc == 1 ? "not_a_member" : "placeholder");
		return 1;
	}
	return 0;
}

/* Queue the DM on the outbox, once per timer run and recipient: a retried or
 * re-run timer (two instances, a crash) finds the first and queues nothing. */
static void deliver(struct delivery *d, const struct member *m, const char *text)
{
	const struct timer_claim *t = d->ctx->timer;
	char dedupe[TIMER_ID_MAX + 96];
	struct reply r;

	snprintf(dedupe, sizeof(dedupe), "sent:%s:%lld:%s", t->id, (long long)t->due_ms, m->id);
	reply_init(&r);
	reply_textf(&r, "%s", text);
	if (notify_member(d->ctx->store, d->ctx->cfg, d->org, m->id, "handoff", &r, dedupe) < 0)
		d->retry = true;
	reply_free(&r);
}

/* The team's channel hears who took over, once per handoff (deduplicated
 * like the DMs). */
static void announce(struct delivery *d, const struct team_settings *set, const struct oncall_chain *c,
		     const char *team_name_shown, const struct tz *z)
{
	const struct timer_claim *t = d->ctx->timer;
	char dedupe[TIMER_ID_MAX + 64], until[48], text[600], id[24];

	snprintf(text, sizeof(text), "On call now for *%s*: <@%s> until %s", team_name_shown, c->primary,
		 when_format(z, c->until, until, sizeof(until)));
	if (c->secondary[0] && strcmp(c->secondary, c->primary) != 0)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "; 1st backup <@%s>", c->secondary);
	if (c->tertiary[0] && strcmp(c->tertiary, c->primary) != 0)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), ", 2nd backup <@%s>", c->tertiary);
	snprintf(text + strlen(text), sizeof(text) - strlen(text), ".");
	snprintf(dedupe, sizeof(dedupe), "announce:%s:%lld", t->id, (long long)t->due_ms);
	struct outbox_message m = { .member = set->announce, .channel = outbox_place_channel(set->announce, false),
				    .kind = "handoff",
				    .text = text, .dedupe = dedupe };
	if (outbox_enqueue(d->ctx->store, d->org, &m, wk_now_ms(), id, sizeof(id)) < 0)
		d->retry = true;
}

/* The zone to show a member times in: their profile's, else fallback. */
/* A DM reads like the person's /oncall: their zone, else the org's, else the
 * configured one (not the rotation's: the same instant reads the same everywhere). */
static const struct tz *member_zone(struct delivery *d, const struct member *m)
{
	return org_zone_for(d->ctx->store, d->org, m->id, d->ctx->cfg->rotation.zone);
}

/* Finish a run whose sends failed: retry, or give up after GIVE_UP_AFTER runs. */
static bool give_up(struct delivery *d, const char *what)
{
	const struct timer_claim *t = d->ctx->timer;
	char q[TIMER_ID_MAX + 8];

	if (t->attempts + 1 < GIVE_UP_AFTER)
		return false;
	log_error("handoff.undelivered", "id=%s what=%s attempts=%lld note=\"giving up on the DMs not sent\"",
		  log_quote(q, sizeof(q), t->id), what, (long long)t->attempts + 1);
	return true;
}

static int parse_payload(const char *payload, char *team, size_t tsize, int64_t *at)
{
	const char *sp = strchr(payload, ' ');

	if (!sp || (size_t)(sp - payload) >= tsize || sp == payload)
		return -1;
	memcpy(team, payload, (size_t)(sp - payload));
	team[sp - payload] = '\0';
	if (!at)
		return sp[1] ? -1 : 0;
	return wk_parse_i64(sp + 1, TZ_TIME_MIN, TZ_TIME_MAX, at) ? 0 : -1;
}

/* ---- handlers ---- */

int handoff_fire(struct engine_ctx *ctx)
{
	const struct timer_claim *t = ctx->timer;
	struct delivery d = { .ctx = ctx, .org = t->org, .retry = false };
	char team[SCHEDULE_ID_LEN], name[64], q[TIMER_PAYLOAD_MAX + 8];
	char text[512], from_s[48], to_s[48];
	static const char *const ordinal[2] = { "1st", "2nd" };
	const char *backups[2];
	const struct tz *rz;
	struct team_plan plan;
	struct team_settings set;
	struct oncall_chain c;
	struct member pm, m;
	int64_t at, now_s = ctx->now_ms / 1000, found_at = 0, after;
	int rc = -1;

	if (parse_payload(t->payload, team, sizeof(team), &at) < 0) {
		log_error("handoff.payload", "id=%s payload=%s reason=malformed", t->id,
			  log_quote(q, sizeof(q), t->payload));
		return 0;	/* nothing sensible to retry; the next schedule change re-arms */
	}
	after = now_s > at ? now_s : at;
	if (schedule_load(ctx->store, t->org, team, at - 1, after + HANDOFF_HORIZON_S, &plan) < 0)
		return -1;
	if (find_boundary(&plan, at - 1, after + HANDOFF_HORIZON_S, &found_at) != 0 || found_at != at) {
		/* A change moved or removed this handoff after it was armed. */
		log_info("handoff.moved", "org=%s team=%s armed_for=%lld", t->org, team, (long long)at);
		goto rearm;
	}
	if (schedule_chain(&plan, at, &c) != 0)
		goto rearm;
	if (c.until <= now_s) {
		/* Late by more than the whole stint (the daemons were down): old news. */
		log_warn("handoff.stale", "org=%s team=%s at=%lld until=%lld", t->org, team, (long long)at,
			 (long long)c.until);
		goto rearm;
	}
	if (team_name(ctx->store, t->org, team, name, sizeof(name)) < 0 ||
	    settings_load(ctx->store, t->org, team, &set) < 0)
		goto out;
	rz = rotation_zone(ctx->cfg, &set, &plan, c.rotation, at);
	if (recipient(&d, c.primary, &pm) == 0) {
		const struct tz *z = member_zone(&d, &pm);
		snprintf(text, sizeof(text), "You are on call from %s to %s (%s)",
			 when_format(z, c.since, from_s, sizeof(from_s)), when_format(z, c.until, to_s, sizeof(to_s)),
			 name);
		deliver(&d, &pm, text);
	}
	backups[0] = c.secondary;
	backups[1] = c.tertiary;
	for (int i = 0; i < 2; i++) {
		if (!backups[i][0] || strcmp(backups[i], c.primary) == 0 || recipient(&d, backups[i], &m) != 0)
			continue;
		snprintf(text, sizeof(text), "You are %s backup for <@%s> until %s (%s)", ordinal[i], c.primary,
			 when_format(member_zone(&d, &m), c.until, to_s, sizeof(to_s)), name);
		deliver(&d, &m, text);
	}
	if (set.announce[0])
		announce(&d, &set, &c, name, rz);
	if (d.retry && !give_up(&d, "handoff"))
		goto out;
	log_info("handoff.fired", "org=%s team=%s at=%lld primary=%s", t->org, team, (long long)at, c.primary);
rearm:
	/* The next one. This re-schedules our own id, so the engine's fenced
	 * timer_done() then leaves the new timer alone. */
	rc = handoff_reschedule(ctx->store, ctx->cfg, t->org, team, after);
out:
	team_plan_free(&plan);
	return rc;
}

int reminder_fire(struct engine_ctx *ctx)
{
	const struct timer_claim *t = ctx->timer;
	struct delivery d = { .ctx = ctx, .org = t->org, .retry = false };
	char team[SCHEDULE_ID_LEN], name[64], text[512], until[48];
	struct team_settings set;
	struct team_plan plan;
	const struct tz *tzone;
	struct oncall_chain c;
	struct member m;
	int64_t now_s = ctx->now_ms / 1000, due_s = t->due_ms / 1000;
	int h, mm, rc;

	if (strlen(t->payload) >= sizeof(team) || !t->payload[0])
		return 0;
	wk_strlcpy(team, t->payload, sizeof(team));
	rc = team_name(ctx->store, t->org, team, name, sizeof(name));
	if (rc != 0)
		return rc > 0 ? 0 : -1;	/* the team is gone: so is its reminder */
	if (settings_load(ctx->store, t->org, team, &set) < 0)
		return -1;
	if (rotation_hhmm_parse(set.reminder, &h, &mm) < 0)
		return 0;	/* turned off since it was armed */
	/* The whole horizon, so an override starting later today ends the "until". */
	if (schedule_load(ctx->store, t->org, team, now_s, now_s + HANDOFF_HORIZON_S, &plan) < 0)
		return -1;
	tzone = team_zone(ctx->cfg, &set, &plan, now_s);
	if (schedule_chain(&plan, now_s, &c) == 0 && recipient(&d, c.primary, &m) == 0) {
		snprintf(text, sizeof(text), "Reminder: you are on call until %s (%s)",
			 when_format(member_zone(&d, &m), c.until, until, sizeof(until)),
			 name);
		deliver(&d, &m, text);
	}
	if (d.retry && !give_up(&d, "reminder")) {
		team_plan_free(&plan);
		return -1;
	}
	/* Tomorrow's, from the later of the due and now, so a daemon that was down
	 * for days sends one reminder, not one per missed day. */
	ctx->rearm_ms = next_local(tzone, now_s > due_s ? now_s : due_s, h, mm) * 1000;
	team_plan_free(&plan);
	return 0;
}

/* ---- the sweep ---- */

/* Every org, by its wk:{org}:org hash; SCAN keeps Redis responsive. */
int handoff_sweep_fire(struct engine_ctx *ctx)
{
	char cursor[32] = "0";
	size_t orgs = 0, teams = 0, failed = 0;
	int64_t now_s = ctx->now_ms / 1000;

	do {
		redisReply *r = store_command(ctx->store, "SCAN %s MATCH wk:{*}:org COUNT 500", cursor);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
			if (r)
				freeReplyObject(r);
			return -1;
		}
		wk_strlcpy(cursor, r->element[0]->str, sizeof(cursor));
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			const redisReply *k = r->element[1]->element[i];
			char org[TIMER_ORG_MAX];
			const char *open, *close;
			struct team_info *list = NULL;
			size_t n = 0;
			if (k->type != REDIS_REPLY_STRING || !(open = strchr(k->str, '{')) ||
			    !(close = strchr(open, '}')) || (size_t)(close - open - 1) >= sizeof(org) ||
			    strcmp(close, "}:org") != 0)
				continue;
			memcpy(org, open + 1, (size_t)(close - open - 1));
			org[close - open - 1] = '\0';
			orgs++;
			if (team_list(ctx->store, org, &list, &n) < 0) {
				failed++;
				continue;
			}
			for (size_t t = 0; t < n; t++, teams++)
				if (handoff_reschedule(ctx->store, ctx->cfg, org, list[t].id, now_s) < 0)
					failed++;
			free(list);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	log_info("handoff.sweep", "orgs=%zu teams=%zu failed=%zu", orgs, teams, failed);
	ctx->rearm_ms = ctx->now_ms + engine_sweep_period_ms();
	return 0;
}
