/* escalation.c - see escalation.h */
#include "bot/escalation.h"
#include "bot/buf.h"
#include "bot/delegate.h"
#include "bot/engine.h"
#include "bot/incident.h"
#include "bot/incident_card.h"
#include "bot/outbox.h"
#include "bot/reply.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/member.h"
#include "bot/org.h"
#include "bot/outbox.h"
#include "bot/page.h"
#include "bot/schedule.h"
#include "bot/timers.h"
#include "bot/util.h"
#include "bot/when.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400LL

int escalation_policy_parse(const char *text, struct escalation_policy *out)
{
	char copy[INCIDENT_POLICY_MAX], *save = NULL, *part;

	memset(out, 0, sizeof(*out));
	if (wk_strlcpy(copy, text, sizeof(copy)) >= sizeof(copy))
		return -1;
	part = strtok_r(copy, "|", &save);
	if (!part || part[0] != 'r')
		return -1;
	char *colon = strchr(part, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	if (!wk_parse_i64(part + 1, 0, 100, &out->repeats) || !wk_parse_i64(colon + 1, 0, 7 * DAY_S, &out->round_s))
		return -1;
	while ((part = strtok_r(NULL, "|", &save))) {
		struct escalation_step *st;
		char *tsave = NULL;
		if (out->nsteps == ESCALATION_MAX_STEPS || !(colon = strchr(part, ':')))
			return -1;
		st = &out->steps[out->nsteps++];
		*colon = '\0';
		if (!wk_parse_i64(part, 0, DAY_S, &st->delay_s))
			return -1;
		for (char *t = strtok_r(colon + 1, ",", &tsave); t; t = strtok_r(NULL, ",", &tsave)) {
			if (st->ntargets == ESCALATION_MAX_TARGETS ||
			    wk_strlcpy(st->targets[st->ntargets], t, sizeof(st->targets[0])) >= sizeof(st->targets[0]))
				return -1;
			st->ntargets++;
		}
	}
	return out->nsteps ? 0 : -1;
}

int escalation_policy_format(const struct escalation_policy *p, char *out, size_t size)
{
	struct buf b = BUF_INIT(INCIDENT_POLICY_MAX);
	int rc = 0;

	buf_printf(&b, "r%lld:%lld", (long long)p->repeats, (long long)p->round_s);
	for (size_t i = 0; i < p->nsteps; i++) {
		buf_printf(&b, "|%lld:", (long long)p->steps[i].delay_s);
		for (size_t t = 0; t < p->steps[i].ntargets; t++)
			buf_printf(&b, "%s%s", t ? "," : "", p->steps[i].targets[t]);
	}
	if (b.len >= size || b.len >= INCIDENT_POLICY_MAX)
		rc = -1;
	else
		wk_strlcpy(out, buf_cstr(&b), size);
	buf_free(&b);
	return rc;
}

void escalation_default_policy(const struct config *cfg, struct escalation_policy *out)
{
	static const char *const chain[] = { "primary", "backup1", "backup2" };
	char copy[64], *save = NULL;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	wk_strlcpy(copy, cfg->incidents_step_delays_s, sizeof(copy));
	for (char *t = strtok_r(copy, ",", &save); t && i < 3; t = strtok_r(NULL, ",", &save), i++) {
		wk_parse_i64(t, 0, DAY_S, &out->steps[i].delay_s);
		wk_strlcpy(out->steps[i].targets[0], chain[i], sizeof(out->steps[i].targets[0]));
		out->steps[i].ntargets = 1;
	}
	out->nsteps = i;
	out->repeats = cfg->incidents_repeats;
	/* A new round after the last step has had as long as the one before it. */
	int64_t last = out->nsteps ? out->steps[out->nsteps - 1].delay_s : 0;
	int64_t gap = out->nsteps > 1 ? last - out->steps[out->nsteps - 2].delay_s : 300;
	out->round_s = last + (gap > 0 ? gap : 300);
}

static void describe_delay(int64_t s, char *out, size_t size)
{
	if (s == 0)
		snprintf(out, size, "at once");
	else if (s % 60 == 0)
		snprintf(out, size, "after %lld min", (long long)(s / 60));
	else
		snprintf(out, size, "after %lld s", (long long)s);
}

/* The position words of primary/backup1/backup2 ("" when target is none). */
static const char *position_words(const char *pos)
{
	return strcmp(pos, "primary") == 0 ? "whoever is on call" : strcmp(pos, "backup1") == 0 ? "the 1st backup"
		: strcmp(pos, "backup2") == 0 ? "the 2nd backup" : "";
}

void escalation_target_describe(const char *target, char *out, size_t size)
{
	const char *colon;

	if (position_words(target)[0])
		snprintf(out, size, "%s", position_words(target));
	else if (strncmp(target, "rotation:", 9) == 0 && (colon = strrchr(target + 9, ':')) &&
		 position_words(colon + 1)[0])
		snprintf(out, size, "%s in rotation %.*s", position_words(colon + 1), (int)(colon - (target + 9)),
			 target + 9);
	else if (strncmp(target, "member:", 7) == 0)
		snprintf(out, size, "<@%s>", target + 7);
	else if (strncmp(target, "team:", 5) == 0)
		snprintf(out, size, "everyone in team %s", target + 5);
	else if (strncmp(target, "role:", 5) == 0)
		snprintf(out, size, "everyone with role %s", target + 5);
	else if (strncmp(target, "channel:", 8) == 0)
		snprintf(out, size, "<#%s>", target + 8);
	else if (strcmp(target, "owner") == 0)
		snprintf(out, size, "the org's owner");
	else
		snprintf(out, size, "%s", target);
}

void escalation_policy_describe(const struct escalation_policy *p, char *out, size_t size)
{
	struct buf b = BUF_INIT(1024);

	for (size_t i = 0; i < p->nsteps; i++) {
		char delay[32];
		describe_delay(p->steps[i].delay_s, delay, sizeof(delay));
		buf_printf(&b, "%s%zu. ", i ? "\n" : "", i + 1);
		for (size_t t = 0; t < p->steps[i].ntargets; t++) {
			char who[96];
			escalation_target_describe(p->steps[i].targets[t], who, sizeof(who));
			buf_printf(&b, "%s%s", t ? " and " : "", who);
		}
		buf_printf(&b, ", %s", delay);
	}
	if (p->repeats)
		buf_printf(&b, "\nThen again from step 1, up to %lld more time%s.", (long long)p->repeats,
			   p->repeats == 1 ? "" : "s");
	wk_strlcpy(out, buf_cstr(&b), size);
	buf_free(&b);
}

/* ---- running a step ---- */

/* A channel target: the incident posted there once per step (the outbox's
 * dedupe). A channel can't acknowledge, so it counts as nobody paged. */
static int post_to_channel(struct engine_ctx *ctx, const struct incident *inc, const char *channel, size_t step,
			   const char *text)
{
	char dedupe[160], id[24], line[160];
	struct outbox_message m = { .member = channel, .channel = outbox_place_channel(channel, false), .kind = "incident",
				    .text = text, .dedupe = dedupe };
	int rc;

	snprintf(dedupe, sizeof(dedupe), "inc:%lld:%lld:%lld:%zu:%s", (long long)inc->n, (long long)inc->epoch,
		 (long long)inc->round, step, channel);
	if ((rc = outbox_enqueue(ctx->store, ctx->timer->org, &m, ctx->now_ms, id, sizeof(id))) < 0)
		return -1;
	if (rc == 0) {
		snprintf(line, sizeof(line), "step %zu: posted in <#%s>", step + 1, channel);
		incident_timeline_add(ctx->store, ctx->timer->org, inc->n, "page", "", line, ctx->now_ms);
	}
	return 0;
}

/* "You are 1st backup for Alice": who they back up, by name (the text also
 * goes out by SMS and email, where a mention would not render). */
static void role_words(struct engine_ctx *ctx, const char *target, const char *primary, char *out, size_t size)
{
	struct member m;
	const char *name = primary, *pos = target, *colon;

	if (strncmp(target, "rotation:", 9) == 0 && (colon = strrchr(target + 9, ':')))
		pos = colon + 1;
	if (strcmp(pos, "primary") == 0) {
		snprintf(out, size, "You are on call");
		return;
	}
	if (strcmp(pos, "backup1") != 0 && strcmp(pos, "backup2") != 0) {
		snprintf(out, size, "%s",
			 strncmp(target, "team:", 5) == 0   ? "Everyone in your team is paged"
			 : strncmp(target, "role:", 5) == 0 ? "Everyone with your role is paged"
			 : strcmp(target, "owner") == 0     ? "Nobody else could be paged, so you as the org's owner are"
							    : "You were asked to handle this");
		return;
	}
	if (primary[0] && member_get(ctx->store, ctx->timer->org, primary, &m) == 0 && m.name[0])
		name = m.name;
	snprintf(out, size, "You are %s backup%s%s", strcmp(pos, "backup1") == 0 ? "1st" : "2nd",
		 name[0] ? " for " : "", name);
}

/* Page one person for step `step` (after_s later, the priority gap). 1 paged
 * (now or by an earlier try of this step), 0 could not be reached, -1. */
static int page_person(struct engine_ctx *ctx, const struct incident *inc, size_t step, const char *who_id,
		       const char *target, int64_t after_s, const char *primary)
{
	char text[1024], subject[256], dedupe[160], id[24], plan[160], since[64] = "", line[512], who[160];
	char role[96], later[48] = "";
	const char *org = ctx->timer->org;
	int64_t waited = (ctx->now_ms - inc->created_ms) / 60000;

	if (step > 0 && waited > 0)
		snprintf(since, sizeof(since), ", not acknowledged after %lld min", (long long)waited);
	role_words(ctx, target, primary, who, sizeof(who));
	snprintf(text, sizeof(text), "%s: INC-%lld [%s] %s%s%s%s.", who, (long long)inc->n, inc->severity,
		 inc->summary, inc->service[0] ? " (service " : "", inc->service[0] ? inc->service : "",
		 inc->service[0] ? ")" : "");
	if (since[0])
		snprintf(text + strlen(text) - 1, sizeof(text) - strlen(text) + 1, "%s.", since);
	snprintf(subject, sizeof(subject), "INC-%lld [%s] %s", (long long)inc->n, inc->severity, inc->summary);
	snprintf(dedupe, sizeof(dedupe), "inc:%lld:%lld:%lld:%zu:%s", (long long)inc->n, (long long)inc->epoch,
		 (long long)inc->round, step, who_id);
	struct page_message m = { .member = who_id, .kind = "incident", .subject = subject, .text = text,
				  .dedupe = dedupe, .incident = inc->n, .after_s = after_s };
	int got = page_send(ctx->store, ctx->cfg, org, &m, ctx->now_ms, id, sizeof(id), plan, sizeof(plan));
	if (got < 0)
		return -1;
	if (got == 2)	/* this step ran before a crash: that page stands */
		return 1;
	escalation_target_describe(target, role, sizeof(role));
	if (got == 1) {
		snprintf(line, sizeof(line), "step %zu: could not page <@%s> (%s): %s", step + 1, who_id, role, plan);
		incident_timeline_add(ctx->store, org, inc->n, "page", "", line, ctx->now_ms);
		return 0;
	}
	if (incident_add_page(ctx->store, org, inc->n, id, who_id) < 0)
		return -1;
	if (after_s > 0)
		snprintf(later, sizeof(later), " in %lld min unless acknowledged", (long long)((after_s + 59) / 60));
	snprintf(line, sizeof(line), "step %zu: paged <@%s> (%s)%s: %s (page %s)", step + 1, who_id, role, later, plan,
		 id);
	incident_timeline_add(ctx->store, org, inc->n, "page", "", line, ctx->now_ms);
	return 1;
}

/* Page everyone the step reaches (delegate.h: filtered, in priority order).
 * *paged: how many were reached (now or on an earlier try of this same
 * step). -1 store failure. */
static int run_step(struct engine_ctx *ctx, const struct incident *inc, const struct escalation_step *st,
		    size_t step, size_t *paged)
{
	struct delegate_step_people *sp = xcalloc(1, sizeof(*sp));
	const char *org = ctx->timer->org;
	int rc = -1;

	*paged = 0;
	if (delegate_step_people(ctx->store, ctx->cfg, org, inc->team, st, ctx->now_ms, sp) < 0)
		goto out;
	for (size_t c = 0; c < sp->nchannels; c++) {
		char text[512];
		snprintf(text, sizeof(text), "INC-%lld [%s] %s: not acknowledged yet.", (long long)inc->n,
			 inc->severity, inc->summary);
		if (post_to_channel(ctx, inc, sp->channels[c], step, text) < 0)
			goto out;
	}
	if (sp->nleft) {
		struct buf b = BUF_INIT(256);
		buf_printf(&b, "step %zu: left out", step + 1);
		for (size_t i = 0; i < sp->nleft; i++)
			buf_printf(&b, "%s <@%s> (%s)", i ? "," : "", sp->left[i].id, sp->left[i].why);
		incident_timeline_add(ctx->store, org, inc->n, "step", "", buf_cstr(&b), ctx->now_ms);
		buf_free(&b);
	}
	for (size_t i = 0; i < sp->n; i++) {
		int got = page_person(ctx, inc, step, sp->people[i].id, sp->people[i].target, sp->people[i].after_s,
				      sp->primary);
		if (got < 0)
			goto out;
		*paged += (size_t)got;
	}
	rc = 0;
out:
	free(sp);
	return rc;
}

/* The policy ran out and nobody was ever paged (everyone filtered out, or
 * nobody on call): never page no one. The org's owners are paged, even if
 * they opted out, and the incident says why. 1 someone paged, 0 nobody, -1. */
static int page_owners(struct engine_ctx *ctx, const struct incident *inc, size_t step)
{
	char key[192];
	redisReply *r;
	int paged = 0, rc = 0;

	if (org_key(key, sizeof(key), ctx->timer->org, "inc:%lld:people", (long long)inc->n) < 0)
		return 0;
	if (!(r = store_command(ctx->store, "SCARD %s", key)))
		return -1;
	bool someone = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
	freeReplyObject(r);
	if (someone || org_key(key, sizeof(key), ctx->timer->org, "owners") < 0)
		return 0;
	if (!(r = store_command(ctx->store, "SMEMBERS %s", key)))
		return -1;
	incident_timeline_add(ctx->store, ctx->timer->org, inc->n, "unrouted", "",
			      "nobody could be paged through the escalation policy (everyone it names was filtered "
			      "out or nobody is on call): paging the org's owners",
			      ctx->now_ms);
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && rc >= 0; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			continue;
		rc = page_person(ctx, inc, step, r->element[i]->str, "owner", 0, "");
		paged += rc > 0;
	}
	freeReplyObject(r);
	if (rc < 0)
		return -1;
	if (paged)
		metrics_incident_unrouted();
	log_warn("escalation.unrouted", "org=%s incident=%lld owners_paged=%d", ctx->timer->org, (long long)inc->n,
		 paged);
	return paged > 0;
}

static const struct store_script advance_script = {
	"escalation_advance",
	/* ARGV: prefix, n, epoch, step that ran, next step, next round, next base ms,
	 * next due ms ("" = the policy is done), timer id, org, now, end text.
	 * Moves the incident on only if nothing changed it meanwhile.
	 * Returns 1 moved, 0 stale. */
	"local k = ARGV[1] .. 'inc:' .. ARGV[2]\n"
	"local v = redis.call('HMGET', k, 'state', 'epoch', 'step')\n"
	"if v[1] ~= 'triggered' or v[2] ~= ARGV[3] or v[3] ~= ARGV[4] then return 0 end\n"
	"redis.call('HSET', k, 'step', ARGV[5], 'round', ARGV[6], 'esc_base_ms', ARGV[7])\n"
	"redis.call('HDEL', k, 'stuck_since_ms')\n"
	"if ARGV[8] ~= '' then\n"
	"  wk_timer_schedule(ARGV[9], 'inc_step', ARGV[10], ARGV[3], ARGV[8])\n"
	"else\n"
	"  redis.call('XADD', k .. ':tl', 'MAXLEN', '~', 1000, '*', 'ts', ARGV[11], 'kind', 'exhausted',\n"
	"             'by', '', 'text', ARGV[12])\n"
	"end\n"
	"return 1\n",
	TIMERS_LUA
};

/* Record that step `ran` is done and arm the next one (next == p->nsteps: the
 * policy is done, and the timeline says so). 1 moved, 0 stale, -1. */
static int advance(struct engine_ctx *ctx, const struct incident *inc, const struct escalation_policy *p,
		   int64_t ran, int64_t next, int64_t round, int64_t base_ms)
{
	char prefix[160], n_s[24], epoch[24], ran_s[24], next_s[24], round_s[24], base[24], due[24] = "", now[24];
	char tid[TIMER_ID_MAX], end[160];
	redisReply *r;
	int rc = -1;

	if (org_key(prefix, sizeof(prefix), ctx->timer->org, "%s", "") < 0)
		return -1;
	snprintf(n_s, sizeof(n_s), "%lld", (long long)inc->n);
	snprintf(epoch, sizeof(epoch), "%lld", (long long)inc->epoch);
	snprintf(ran_s, sizeof(ran_s), "%lld", (long long)ran);
	snprintf(next_s, sizeof(next_s), "%lld", (long long)next);
	snprintf(round_s, sizeof(round_s), "%lld", (long long)round);
	snprintf(base, sizeof(base), "%lld", (long long)base_ms);
	snprintf(now, sizeof(now), "%lld", (long long)ctx->now_ms);
	if ((size_t)next < p->nsteps)
		snprintf(due, sizeof(due), "%lld", (long long)(base_ms + p->steps[next].delay_s * 1000));
	snprintf(end, sizeof(end), "nobody acknowledged after %lld round%s of the escalation policy",
		 (long long)(inc->round + 1), inc->round ? "s" : "");
	incident_timer_id(ctx->timer->org, inc->n, tid, sizeof(tid));
	const char *args[] = { prefix, n_s, epoch, ran_s, next_s, round_s, base, due, tid, ctx->timer->org, now, end };
	r = store_script(ctx->store, &advance_script, 0, NULL, (int)ARRAY_LEN(args), args);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = (int)r->integer;
	if (r)
		freeReplyObject(r);
	return rc;
}

/* A step that failed TIMER_MAX_ATTEMPTS times is not dropped (timers.c):
 * it keeps retrying, and the incident says since when, once. */
static int mark_stuck(struct engine_ctx *ctx, int64_t n)
{
	char key[192], now[24], when[64], line[128];
	redisReply *r;

	if (org_key(key, sizeof(key), ctx->timer->org, "inc:%lld", (long long)n) < 0)
		return 0;
	snprintf(now, sizeof(now), "%lld", (long long)ctx->now_ms);
	const char *argv[] = { "HSETNX", key, "stuck_since_ms", now };
	r = store_commandargv(ctx->store, 4, argv, NULL);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
		metrics_escalation_stuck();
		log_error("escalation.stuck", "org=%s incident=%lld attempts=%lld", ctx->timer->org, (long long)n,
			  (long long)ctx->timer->attempts);
		when_format(ctx->cfg->rotation.zone, ctx->now_ms / 1000, when, sizeof(when));
		snprintf(line, sizeof(line), "escalation stuck since %s; still trying", when);
		incident_timeline_add(ctx->store, ctx->timer->org, n, "stuck", "", line, ctx->now_ms);
	}
	freeReplyObject(r);
	return 0;
}

/* The last repeat ended unacknowledged: besides the card (edits notify
 * nobody), a post in the card's channel tells the people there, once per
 * escalation (epoch). Best effort: the timeline says it either way. */
static void policy_ended(struct engine_ctx *ctx, const struct incident *inc)
{
	char text[INCIDENT_SUMMARY_MAX * 2 + 200], shown[INCIDENT_SUMMARY_MAX * 2], dedupe[64], id[32];
	char buttons[OUTBOX_BUTTONS_MAX];
	struct reply r;

	if (!inc->card_ch[0])
		return;
	snprintf(text, sizeof(text), "*INC-%lld* %s: nobody acknowledged after %lld round%s of the escalation "
		 "policy, and nobody more is paged. Acknowledge it here, or `/incident escalate %lld` pages the "
		 "last step again.", (long long)inc->n, reply_escape(shown, sizeof(shown), inc->summary),
		 (long long)inc->round + 1, inc->round ? "s" : "", (long long)inc->n);
	snprintf(dedupe, sizeof(dedupe), "inc_end:%lld:%lld", (long long)inc->n, (long long)inc->epoch);
	reply_init(&r);
	incident_card_buttons(inc, &r);
	if (outbox_buttons_encode(&r, buttons, sizeof(buttons)) < 0)
		buttons[0] = '\0';
	reply_free(&r);
	const struct outbox_message m = { .member = inc->card_ch, .channel = outbox_place_channel(inc->card_ch, false),
					  .fallback = "",
					  .kind = "incident_end", .subject = "", .text = text, .dedupe = dedupe,
					  .buttons = buttons };
	if (outbox_enqueue(ctx->store, ctx->timer->org, &m, ctx->now_ms, id, sizeof(id)) < 0)
		log_warn("escalation.end", "org=%s incident=%lld note=\"the channel was not told\"", ctx->timer->org,
			 (long long)inc->n);
}

int escalation_step_fire(struct engine_ctx *ctx)
{
	struct incident inc;
	struct escalation_policy p;
	int64_t epoch, n;
	const char *org = ctx->timer->org;
	char *colon = strrchr(ctx->timer->id, ':');

	if (!colon || !wk_parse_i64(colon + 1, 1, INT64_MAX, &n) ||
	    !wk_parse_i64(ctx->timer->payload, 0, INT64_MAX, &epoch))
		return 0;	/* not ours to understand */
	int got = incident_get(ctx->store, org, n, &inc);
	if (got != 0)
		return got < 0 ? -1 : 0;
	if (inc.state != INCIDENT_TRIGGERED || inc.epoch != epoch)
		return 0;	/* acknowledged, resolved, or moved on since this timer was armed */
	if (ctx->timer->attempts >= TIMER_MAX_ATTEMPTS && mark_stuck(ctx, n) < 0)
		return -1;
	if (escalation_policy_parse(inc.policy, &p) < 0) {
		log_error("escalation.policy", "org=%s incident=%lld note=\"unreadable policy; nobody paged\"", org,
			  (long long)n);
		incident_timeline_add(ctx->store, org, n, "error", "", "the escalation policy could not be read",
				      ctx->now_ms);
		return 0;
	}
	/* Run the due step; a step that reaches nobody does not wait out its
	 * delay, so the next one runs at once (at most one full pass). */
	for (size_t guard = 0; guard <= p.nsteps * (size_t)(p.repeats + 1); guard++) {
		int64_t step = inc.step, round = inc.round, base = inc.esc_base_ms;
		size_t paged = 0;
		if (step >= (int64_t)p.nsteps)
			return 0;	/* the policy ran out earlier: nothing more */
		if (base + p.steps[step].delay_s * 1000 > ctx->now_ms + 50) {
			/* Not due yet (an early claim): wait for it. */
			ctx->rearm_ms = base + p.steps[step].delay_s * 1000;
			return 0;
		}
		if (run_step(ctx, &inc, &p.steps[step], (size_t)step, &paged) < 0)
			return -1;
		int64_t next = step + 1, next_round = round, next_base = base;
		if (!paged && (size_t)next >= p.nsteps && round >= p.repeats) {
			int owners = page_owners(ctx, &inc, (size_t)step);
			if (owners < 0)
				return -1;
			paged = (size_t)owners;
		}
		if ((size_t)next >= p.nsteps && round < p.repeats) {
			/* Again from the top, round_s after this round began. */
			next = 0;
			next_round = round + 1;
			next_base = base + p.round_s * 1000;
		}
		if (!paged) {
			incident_timeline_add(ctx->store, org, n, "step", "", "nobody to page at this step; going on",
					      ctx->now_ms);
			if ((size_t)next < p.nsteps)	/* skip the wait: the next step is due now */
				next_base = ctx->now_ms - p.steps[next].delay_s * 1000;
		}
		int moved = advance(ctx, &inc, &p, step, next, next_round, next_base);
		if (moved <= 0)
			return moved < 0 ? -1 : 0;
		if (paged || (size_t)next >= p.nsteps) {
			if ((size_t)next >= p.nsteps)
				policy_ended(ctx, &inc);
			/* The card shows the step (its pages were written outside a script).
			 * A failure only delays the card to the next change: not worth a retry
			 * that would run the step's bookkeeping again. */
			incident_card_schedule(ctx->store, org, n);
			return 0;
		}
		inc.step = next;
		inc.round = next_round;
		inc.esc_base_ms = next_base;
	}
	return 0;
}

/* ---- the auditor ---- */

static const struct store_script audit_script = {
	"escalation_audit",
	/* ARGV: org prefix, org, timer id prefix ("inc:<org>:"), grace ms.
	 * An open, escalating incident whose next step is overdue by more than
	 * the grace, and whose step timer is missing (or set later than that),
	 * gets the timer back: same id, same epoch, due now. The step itself runs
	 * in the engine as always, so the auditor never pages anyone. Returns the
	 * numbers of the incidents it fixed. */
	"local p, now, grace = ARGV[1], wk_now(), tonumber(ARGV[4])\n"
	"local fixed = {}\n"
	"for _, n in ipairs(redis.call('ZRANGE', p .. 'incs_open', 0, 999)) do\n"
	"  local v = redis.call('HMGET', p .. 'inc:' .. n, 'state', 'epoch', 'step', 'esc_base_ms', 'policy',\n"
	"                       'paging')\n"
	"  local delays = wk_policy(v[5] or '')\n"
	"  local step = tonumber(v[3] or '0') or 0\n"
	"  if v[1] == 'triggered' and v[6] ~= 'off' and step < #delays then\n"
	"    local due = (tonumber(v[4] or '0') or 0) + delays[step + 1] * 1000\n"
	"    local id = ARGV[3] .. n\n"
	"    local queued = tonumber(redis.call('ZSCORE', 'wk:{timers}', id) or '-1')\n"
	"    local leased = redis.call('ZSCORE', 'wk:{timers}:leased', id)\n"
	"    if now > due + grace and not leased and (queued < 0 or queued > due + grace) then\n"
	"      wk_timer_schedule(id, 'inc_step', ARGV[2], v[2], now)\n"
	"      fixed[#fixed + 1] = n\n"
	"    end\n"
	"  end\n"
	"end\n"
	"return fixed\n",
	TIMERS_LUA INCIDENT_LUA
};

int escalation_audit_fire(struct engine_ctx *ctx)
{
	redisReply *orgs = store_command(ctx->store, "SMEMBERS wk:orgs");
	size_t fixed = 0, failed = 0;
	char grace[24];

	if (!orgs || orgs->type != REDIS_REPLY_ARRAY) {
		if (orgs)
			freeReplyObject(orgs);
		return -1;
	}
	snprintf(grace, sizeof(grace), "%lld", (long long)escalation_audit_period_ms());
	for (size_t i = 0; i < orgs->elements; i++) {
		char prefix[160], tid[TIMER_ID_MAX];
		const char *org = orgs->element[i]->str;
		redisReply *r;
		if (orgs->element[i]->type != REDIS_REPLY_STRING || org_key(prefix, sizeof(prefix), org, "%s", "") < 0)
			continue;
		snprintf(tid, sizeof(tid), "inc:%s:", org);
		const char *args[] = { prefix, org, tid, grace };
		r = store_script(ctx->store, &audit_script, 0, NULL, 4, args);
		if (!r || r->type != REDIS_REPLY_ARRAY) {
			failed++;
		} else {
			for (size_t k = 0; k < r->elements; k++) {
				log_warn("escalation.audit", "org=%s incident=%lld note=\"its next step was overdue with "
					 "no timer; rescheduled\"", org, r->element[k]->integer);
				metrics_escalation_rescheduled();
				fixed++;
			}
		}
		if (r)
			freeReplyObject(r);
	}
	freeReplyObject(orgs);
	if (fixed || failed)
		log_info("escalation.audit", "fixed=%zu failed=%zu", fixed, failed);
	ctx->rearm_ms = ctx->now_ms + escalation_audit_period_ms();
	return 0;
}

int64_t escalation_audit_period_ms(void)
{
	int64_t t = engine_sweep_period_ms();
	return t < ESCALATION_AUDIT_MS ? t : ESCALATION_AUDIT_MS;
}
