/* incident_card.c - the incident's message in a channel (incident_card.h). */
#include "bot/incident_card.h"
#include "adapters/slack_api.h"
#include "bot/buf.h"
#include "bot/engine.h"
#include "bot/escalation.h"
#include "bot/log.h"
#include "bot/org.h"
#include "bot/outbox.h"
#include "bot/timers.h"
#include "bot/util.h"
#include "bot/when.h"

#include <stdio.h>
#include <string.h>

/* A card the app could not post because it is not in the channel is
 * remembered this long, for the open reply's "invite me first". */
#define NOT_IN_CHANNEL_TTL_S 86400

/* The buttons each state offers, in the order people see them. */
static const struct {
	const char *label, *action;
	enum button_style style;
	bool triggered, acknowledged;	/* offered in that state (never once resolved) */
} card_buttons[] = {
	{ "Acknowledge", "incident.ack", BUTTON_PRIMARY, true, false },
	{ "Resolve", "incident.resolve", BUTTON_DEFAULT, true, true },
	{ "Escalate", "incident.escalate", BUTTON_DEFAULT, true, false },
};

void incident_card_buttons(const struct incident *inc, struct reply *r)
{
	char v[24];

	snprintf(v, sizeof(v), "%lld", (long long)inc->n);
	for (size_t i = 0; i < ARRAY_LEN(card_buttons); i++)
		if ((inc->state == INCIDENT_TRIGGERED && card_buttons[i].triggered) ||
		    (inc->state == INCIDENT_ACKNOWLEDGED && card_buttons[i].acknowledged))
			reply_button(r, card_buttons[i].label, card_buttons[i].action, v, card_buttons[i].style);
}

/* Where the escalation is, in one sentence. */
static void escalation_line(const struct incident *inc, struct buf *b)
{
	struct escalation_policy p;

	if (inc->paging_off) {
		buf_adds(b, "Pages nobody: below its service's paging threshold.");
		return;
	}
	if (escalation_policy_parse(inc->policy, &p) < 0 || !p.nsteps)
		return;
	if (inc->step >= (int64_t)p.nsteps) {
		buf_printf(b, "*Nobody acknowledged* after %lld round%s of the escalation policy; nobody more is "
			      "paged.", (long long)inc->round + 1, inc->round ? "s" : "");
		return;
	}
	if (inc->state != INCIDENT_TRIGGERED)
		return;
	if (inc->step == 0 && inc->round == 0)
		buf_printf(b, "Escalation: step 1 of %zu is due.", p.nsteps);
	else
		buf_printf(b, "Escalation: step %lld of %zu ran%s.", (long long)(inc->step ? inc->step : (int64_t)p.nsteps),
			   p.nsteps, inc->round ? ", repeating the policy" : "");
}

void incident_card_render(const struct incident *inc, const struct tz *z, int64_t now_ms, struct reply *r)
{
	char shown[INCIDENT_SUMMARY_MAX * 2], when[64];
	struct buf b = BUF_INIT(2048);

	reply_textf(r, "*INC-%lld* %s [%s] %s%s%s%s", (long long)inc->n, incident_state_name(inc->state),
		    inc->severity, reply_escape(shown, sizeof(shown), inc->summary), inc->service[0] ? " (service " : "",
		    inc->service, inc->service[0] ? ")" : "");
	if (inc->acked_by[0])
		buf_printf(&b, "Acknowledged by <@%s>, %s.\n", inc->acked_by,
			   when_format_at(z, inc->acked_ms / 1000, now_ms / 1000, when, sizeof(when)));
	if (inc->resolved_by[0])
		buf_printf(&b, "Resolved by <@%s>, %s.\n", inc->resolved_by,
			   when_format_at(z, inc->resolved_ms / 1000, now_ms / 1000, when, sizeof(when)));
	if (inc->assignee[0] && inc->state != INCIDENT_RESOLVED)
		buf_printf(&b, "Assigned to <@%s>.\n", inc->assignee);
	if (inc->state != INCIDENT_RESOLVED)
		escalation_line(inc, &b);
	if (inc->repeats)
		buf_printf(&b, "%sThe alert repeated %lld time%s.", b.len && buf_cstr(&b)[b.len - 1] != '\n' ? "\n" : "",
			   (long long)inc->repeats, inc->repeats == 1 ? "" : "s");
	while (b.len && buf_cstr(&b)[b.len - 1] == '\n')
		b.len--;
	if (b.len)
		reply_section(r, "%s", buf_cstr(&b));
	incident_card_buttons(inc, r);
	buf_free(&b);
}

static const struct store_script schedule_script = {
	"incident_card_schedule",
	/* ARGV: the incident's key. */
	"wk_card(ARGV[1])\nreturn 1\n",
	TIMERS_LUA INCIDENT_LUA
};

int incident_card_schedule(struct store *s, const char *org_id, int64_t n)
{
	char key[192];
	redisReply *r;
	int rc;

	if (org_key(key, sizeof(key), org_id, "inc:%lld", (long long)n) < 0)
		return -1;
	const char *args[] = { key };
	r = store_script(s, &schedule_script, 0, NULL, 1, args);
	rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
	if (r)
		freeReplyObject(r);
	return rc;
}

int incident_card_fire(struct engine_ctx *ctx)
{
	struct incident inc;
	int64_t n;
	char dedupe[64], id[32], key[192], now[24];
	const char *org = ctx->timer->org;

	if (!wk_parse_i64(ctx->timer->payload, 1, INT64_MAX, &n))
		return 0;	/* not ours to understand */
	int got = incident_get(ctx->store, org, n, &inc);
	if (got != 0 || !inc.card_ch[0])
		return got < 0 ? -1 : 0;
	/* One notification per timer instant: a timer that fires again after a
	 * crash queues nothing new. The sender renders the state of its own
	 * moment, so changes after this one are not lost either. */
	snprintf(dedupe, sizeof(dedupe), "card:%lld:%lld", (long long)n, (long long)ctx->timer->due_ms);
	const struct outbox_message m = { .member = inc.card_ch, .channel = outbox_place_channel(inc.card_ch, true),
					  .fallback = "",
					  .kind = "incident_card", .subject = "", .text = ctx->timer->payload,
					  .dedupe = dedupe };
	if (outbox_enqueue(ctx->store, org, &m, ctx->now_ms, id, sizeof(id)) < 0 ||
	    org_key(key, sizeof(key), org, "inc:%lld", (long long)n) < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)ctx->now_ms);
	const char *argv[] = { "HSET", key, "card_last_ms", now };
	redisReply *r = store_commandargv(ctx->store, (int)ARRAY_LEN(argv), argv, NULL);
	if (r)
		freeReplyObject(r);	/* only the pace of the next update; it is queued either way */
	return 0;
}

/* The app is not in ch: remember it for the open reply, and say so on the
 * incident once. */
static void not_in_channel(struct store *s, const char *org_id, int64_t n, const char *ch)
{
	char key[192], ttl[16];
	redisReply *r;

	if (org_key(key, sizeof(key), org_id, "card_noaccess:%s", ch) < 0)
		return;
	snprintf(ttl, sizeof(ttl), "%d", NOT_IN_CHANNEL_TTL_S);
	const char *argv[] = { "SET", key, "1", "NX", "EX", ttl };
	r = store_commandargv(s, (int)ARRAY_LEN(argv), argv, NULL);
	bool first = r && r->type == REDIS_REPLY_STATUS;
	if (r)
		freeReplyObject(r);
	if (first) {
		char line[160];
		snprintf(line, sizeof(line), "the card could not be posted in <#%s>: invite the app there "
					     "(/invite @Watchkeeper)", ch);
		incident_timeline_add(s, org_id, n, "card", "", line, wk_now_ms());
	}
}

int incident_card_not_in_channel(struct store *s, const char *org_id, const char *ch)
{
	char key[192];
	redisReply *r;
	int yes = 0;

	if (org_key(key, sizeof(key), org_id, "card_noaccess:%s", ch) < 0)
		return 0;
	const char *argv[] = { "EXISTS", key };
	r = store_commandargv(s, (int)ARRAY_LEN(argv), argv, NULL);
	yes = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	if (r)
		freeReplyObject(r);
	return yes;
}

/* Incident n_text and its card as it is now. 0, 1 no such incident, -1. */
static int load(const struct config *cfg, struct store *s, const char *org_id, const char *n_text,
		struct incident *inc, struct reply *r)
{
	int64_t n;
	int got;

	if (!wk_parse_i64(n_text, 1, INT64_MAX, &n))
		return 1;
	if ((got = incident_get(s, org_id, n, inc)) != 0)
		return got;
	incident_card_render(inc, org_zone_for(s, org_id, "", cfg->rotation.zone), wk_now_ms(), r);
	return 0;
}

int incident_card_reply(const struct config *cfg, struct store *s, const char *org_id, const char *n_text,
			struct reply *r)
{
	struct incident inc;

	return load(cfg, s, org_id, n_text, &inc, r);
}

static int set_field(struct store *s, const char *key, const char *field, const char *value)
{
	const char *argv[] = { "HSET", key, field, value };
	redisReply *w = store_commandargv(s, (int)ARRAY_LEN(argv), argv, NULL);
	int rc = w && w->type == REDIS_REPLY_INTEGER ? 0 : -1;

	if (w)
		freeReplyObject(w);
	return rc;
}

/* No card ts, but an earlier post was tried (card_ref "<ref> <id> <ms>"):
 * its answer may have been lost after Slack posted it. Look for it; found,
 * its ts becomes the card's (inc->card_ts too). 0 looked (or gave up: past
 * notify.verify_max_wait_s a card is posted anew rather than never), -1
 * could not look yet. */
static int found_earlier(const struct config *cfg, struct store *s, const char *org_id, const char *ch,
			 const char *key, struct incident *inc, long *retry_after, char *why, size_t whysize)
{
	char ref[64], id[32], ts[32];
	long long since;

	if (sscanf(inc->card_ref, "%63s %31s %lld", ref, id, &since) != 3)
		return 0;
	int rc = slack_find_note(cfg, s, org_id, ch, since, ref, id, ts, sizeof(ts), retry_after, why, whysize);
	if (rc < 0)
		return wk_now_ms() - since > cfg->notify_verify_max_wait_s * 1000 ? 0 : -1;
	if (rc == 1) {
		log_info("incident.card", "org=%s incident=%lld note=\"found the card an unanswered post made\"",
			 org_id, (long long)inc->n);
		wk_strlcpy(inc->card_ts, ts, sizeof(inc->card_ts));
		return set_field(s, key, "card_ts", ts);
	}
	return 0;
}

int incident_card_send(const struct config *cfg, struct store *s, const char *org_id, const char *ch,
		       const char *n_text, const struct slack_note *note, long *retry_after, char *why,
		       size_t whysize)
{
	struct incident inc;
	struct reply r;
	char ts[32] = "", key[192];
	int64_t n;
	int rc;

	*retry_after = -1;
	reply_init(&r);
	int got = load(cfg, s, org_id, n_text, &inc, &r);
	if (got != 0) {
		reply_free(&r);
		snprintf(why, whysize, got < 0 ? "the store failed" : "no such incident");
		return got < 0 ? -1 : 1;
	}
	n = inc.n;
	if (org_key(key, sizeof(key), org_id, "inc:%lld", (long long)n) < 0) {
		rc = 1;
		goto out;
	}
	for (int pass = 0; pass < 2; pass++) {
		if (inc.card_ts[0]) {
			/* Idempotent: it shows the whole current state, so a repeat is harmless. */
			rc = slack_channel_update(cfg, s, org_id, ch, inc.card_ts, &r, retry_after, why, whysize);
			if (rc != 4)
				goto out;
			log_info("incident.card", "org=%s incident=%lld note=\"deleted in Slack; posting a new one\"",
				 org_id, (long long)n);
			inc.card_ts[0] = '\0';
		}
		/* No card known: an earlier post whose answer was lost may have made one. */
		if (pass || !inc.card_ref[0])
			break;
		if (found_earlier(cfg, s, org_id, ch, key, &inc, retry_after, why, whysize) < 0) {
			rc = -1;	/* it may be there: look again before posting */
			goto out;
		}
	}
	/* Which attempt this is, before it leaves: if its answer is lost, the
	 * next send finds the message by it instead of posting a second card. */
	char ref[160];
	snprintf(ref, sizeof(ref), "%s %s %lld", note->ref, note->ids, (long long)wk_now_ms());
	if (set_field(s, key, "card_ref", ref) < 0) {
		snprintf(why, whysize, "the store failed");
		rc = -1;
		goto out;
	}
	rc = slack_channel_post(cfg, s, org_id, ch, &r, note, retry_after, ts, sizeof(ts), why, whysize);
	if (rc == 0 && ts[0] && set_field(s, key, "card_ts", ts) < 0)
		log_error("incident.card", "org=%s incident=%lld note=\"posted, but its ts was not recorded; "
			  "the next change looks for it\"", org_id, (long long)n);
	if (rc == 1 && strstr(why, "invite"))
		not_in_channel(s, org_id, n, ch);
out:
	reply_free(&r);
	return rc;
}
