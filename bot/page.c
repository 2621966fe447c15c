/* page.c - see page.h */
#include "bot/page.h"
#include "bot/contact.h"
#include "bot/engine.h"
#include "bot/log.h"
#include "bot/org.h"
#include "bot/outbox.h"
#include "bot/timers.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE "wk:{notify}:q"

bool page_channel_for(const char *method, const char *available, char *out, size_t size)
{
	char copy[64], *save = NULL;

	wk_strlcpy(copy, available, sizeof(copy));
	for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
		if (strcmp(method, "chat") == 0 ? outbox_is_chat_channel(c) : strcmp(method, c) == 0) {
			wk_strlcpy(out, c, size);
			return true;
		}
	return false;
}

/* A page's steps as stored: "slack:0,sms:120" (channel:delay s). */
struct step {
	char channel[16];
	int64_t delay_s;
};

static size_t steps_decode(const char *stored, struct step *out, size_t max)
{
	char copy[128], *save = NULL;
	size_t n = 0;

	wk_strlcpy(copy, stored, sizeof(copy));
	for (char *t = strtok_r(copy, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(t, ':');
		if (!colon)
			continue;
		*colon = '\0';
		if (wk_parse_i64(colon + 1, 0, CONTACT_MAX_DELAY_S, &out[n].delay_s) &&
		    wk_strlcpy(out[n].channel, t, sizeof(out[n].channel)) < sizeof(out[n].channel))
			n++;
	}
	return n;
}

/* The channels after step i, comma-separated: the fallback of step i. */
static void fallback_after(const struct step *st, size_t n, size_t i, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t k = i + 1; k < n; k++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? "," : "", st[k].channel);
}

static const struct store_script create_script = {
	"page_create",
	/* KEYS: queue. ARGV: key prefix, org, page id, member, kind, subject, text,
	 * steps, now ms, dedupe key ("" = none), incident ("" = none), then per
	 * step due now: channel, fallback.
	 * Returns {queued notifications, page id}: with a dedupe key already used,
	 * {-1, the first page's id} and nothing is written. */
	/* created_ms by Redis's clock: the steps' delays count from it, and the
	 * engine judges them by that clock (timers.h). */
	"local p, org, id, now = ARGV[1], ARGV[2], ARGV[3], string.format('%d', " TIMERS_NOW_EXPR ")\n"
	"if ARGV[10] ~= '' then\n"
	"  local first = redis.call('GET', p .. 'page_dedupe:' .. ARGV[10])\n"
	"  if first then return {-1, first} end\n"
	"  redis.call('SET', p .. 'page_dedupe:' .. ARGV[10], id, 'EX', 604800)\n"
	"end\n"
	"redis.call('HSET', p .. 'page:' .. id, 'id', id, 'member', ARGV[4], 'kind', ARGV[5],\n"
	"  'subject', ARGV[6], 'text', ARGV[7], 'steps', ARGV[8], 'created_ms', now)\n"
	"if ARGV[11] ~= '' then redis.call('HSET', p .. 'page:' .. id, 'incident', ARGV[11]) end\n"
	"redis.call('EXPIRE', p .. 'page:' .. id, 604800)\n"
	"local queued = 0\n"
	"for i = 12, #ARGV, 2 do\n"
	"  local r = wk_enqueue(p, KEYS[1], org, ARGV[4], ARGV[i], ARGV[i + 1], ARGV[5], ARGV[6], ARGV[7],\n"
	"                       '', id, now)\n"
	"  if r[1] == 0 then queued = queued + 1 end\n"
	"end\n"
	"return {queued, id}\n",
	OUTBOX_ENQUEUE_LUA
};

static void timer_id_for(char *out, size_t size, const char *org_id, const char *id)
{
	snprintf(out, size, "page:%s:%s", org_id, id);
}

int page_send(struct store *s, const struct config *cfg, const char *org_id,
	      const struct page_message *m, int64_t now_ms, char *id, size_t idsize, char *plan,
	      size_t plansize)
{
	struct contact_rules rules, used = { .n = 0 };
	enum contact_source source;
	struct step st[CONTACT_MAX_RULES];
	char available[64], steps[128] = "", prefix[160], kseq[160], tid[TIMER_ID_MAX];
	size_t n = 0;
	redisReply *r;

	id[0] = plan[0] = '\0';
	if (contact_rules_get(s, org_id, m->member, &rules, &source) < 0 ||
	    outbox_channels_for(s, cfg, org_id, m->member, available, sizeof(available)) < 0)
		return -1;
	for (size_t i = 0; i < rules.n; i++) {
		if (!page_channel_for(rules.rule[i].method, available, st[n].channel, sizeof(st[n].channel)))
			continue;	/* no phone: no SMS step, and so on */
		st[n].delay_s = rules.rule[i].delay_s + (m->after_s > 0 ? m->after_s : 0);
		used.rule[used.n++] = rules.rule[i];
		snprintf(steps + strlen(steps), sizeof(steps) - strlen(steps), "%s%s:%lld", n ? "," : "",
			 st[n].channel, (long long)st[n].delay_s);
		n++;
	}
	if (!n) {
		snprintf(plan, plansize, "none of their contact methods can reach them now");
		return 1;
	}
	contact_rules_describe(&used, plan, plansize);
	if (org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    org_key(kseq, sizeof(kseq), org_id, "seq") < 0)
		return -1;
	r = store_command(s, "INCR %s", kseq);
	if (!r || r->type != REDIS_REPLY_INTEGER) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	snprintf(id, idsize, "p%lld", r->integer);
	freeReplyObject(r);

	/* The later steps' timer first: if we die after it, the timer finds no
	 * page and does nothing; the other way round a page could lose its SMS. */
	for (size_t i = 0; i < n; i++)
		if (st[i].delay_s > 0) {
			timer_id_for(tid, sizeof(tid), org_id, id);
			if (timer_schedule_in(s, tid, "page_step", org_id, id, st[i].delay_s * 1000) < 0)
				return -1;
			break;
		}

	char now[24], fallbacks[CONTACT_MAX_RULES][32], incident[24] = "";
	const char *args[11 + 2 * CONTACT_MAX_RULES];
	int nargs = 0;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	if (m->incident > 0)
		snprintf(incident, sizeof(incident), "%lld", (long long)m->incident);
	args[nargs++] = prefix;
	args[nargs++] = org_id;
	args[nargs++] = id;
	args[nargs++] = m->member;
	args[nargs++] = m->kind;
	args[nargs++] = m->subject;
	args[nargs++] = m->text;
	args[nargs++] = steps;
	args[nargs++] = now;
	args[nargs++] = m->dedupe ? m->dedupe : "";
	args[nargs++] = incident;
	for (size_t i = 0; i < n && st[i].delay_s == 0; i++) {
		fallback_after(st, n, i, fallbacks[i], sizeof(fallbacks[i]));
		args[nargs++] = st[i].channel;
		args[nargs++] = fallbacks[i];
	}
	const char *keys[] = { QUEUE };
	r = store_script(s, &create_script, 1, keys, nargs, args);
	int rc = -1;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_STRING) {
		rc = r->element[0]->integer < 0 ? 2 : 0;
		if (rc == 2)	/* sent before (a retry after a crash): that page stands */
			wk_strlcpy(id, r->element[1]->str, idsize);
	}
	if (r)
		freeReplyObject(r);
	if (rc == 0)
		log_info("page.sent", "org=%s page=%s member=%s steps=%s", org_id, id, m->member, steps);
	return rc;
}

static const struct store_script ack_script = {
	"page_ack",
	/* KEYS: page. ARGV: member, via, now ms. 0 acked, 1 already, 2 none, 3 not theirs. */
	"local who = redis.call('HGET', KEYS[1], 'member')\n"
	"if not who then return 2 end\n"
	"if who ~= ARGV[1] then return 3 end\n"
	"if redis.call('HEXISTS', KEYS[1], 'acked_ms') == 1 then return 1 end\n"
	"redis.call('HSET', KEYS[1], 'acked_ms', ARGV[3], 'acked_by', ARGV[1], 'acked_via', ARGV[2])\n"
	"return 0\n",
	NULL
};

int page_ack(struct store *s, const char *org_id, const char *id, const char *by, const char *via,
	     int64_t now_ms, enum page_ack_result *out)
{
	char key[192], now[24];
	redisReply *r;
	int rc = -1;

	*out = PAGE_NOT_FOUND;
	if (!org_member_id_valid(id) || org_key(key, sizeof(key), org_id, "page:%s", id) < 0)
		return 0;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { key };
	const char *args[] = { by, via, now };
	r = store_script(s, &ack_script, 1, keys, 3, args);
	if (r && r->type == REDIS_REPLY_INTEGER) {
		static const enum page_ack_result map[] = { PAGE_ACKED, PAGE_ALREADY, PAGE_NOT_FOUND,
							    PAGE_NOT_YOURS };
		if (r->integer >= 0 && r->integer < (long long)ARRAY_LEN(map))
			*out = map[r->integer];
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	if (rc == 0 && *out == PAGE_ACKED) {
		char tid[TIMER_ID_MAX];
		timer_id_for(tid, sizeof(tid), org_id, id);
		timer_cancel(s, tid);	/* only tidiness: the step checks the ack anyway */
		log_info("page.acked", "org=%s page=%s by=%s via=%s", org_id, id, by, via);
	}
	return rc;
}

int64_t page_incident(struct store *s, const char *org_id, const char *id)
{
	char key[192];
	int64_t n = 0;
	redisReply *r;

	if (!org_member_id_valid(id) || org_key(key, sizeof(key), org_id, "page:%s", id) < 0)
		return 0;
	r = store_command(s, "HGET %s incident", key);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_STRING)
		wk_parse_i64(r->str, 1, INT64_MAX, &n);
	freeReplyObject(r);
	return n;
}

int page_step_fire(struct engine_ctx *ctx)
{
	const char *org = ctx->timer->org;
	char key[192], id[64];
	struct step st[CONTACT_MAX_RULES];
	size_t n;
	int64_t created;
	redisReply *r;

	if (!org_member_id_valid(ctx->timer->payload) || org_key(key, sizeof(key), org, "page:%s", ctx->timer->payload) < 0)
		return 0;
	wk_strlcpy(id, ctx->timer->payload, sizeof(id));
	r = store_command(ctx->store, "HMGET %s member kind subject text steps created_ms acked_ms", key);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 7) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	for (size_t i = 0; i < 6; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING) {
			freeReplyObject(r);
			return 0;	/* no such page (never written, or expired) */
		}
	if (r->element[6]->type == REDIS_REPLY_STRING ||
	    !wk_parse_i64(r->element[5]->str, 0, INT64_MAX, &created)) {
		freeReplyObject(r);
		return 0;	/* acknowledged: nothing more to send */
	}
	n = steps_decode(r->element[4]->str, st, ARRAY_LEN(st));
	int rc = 0;
	ctx->rearm_ms = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t due = created + st[i].delay_s * 1000;
		if (due > ctx->now_ms) {
			ctx->rearm_ms = due;	/* the next step */
			break;
		}
		char fb[32], nid[24];
		fallback_after(st, n, i, fb, sizeof(fb));
		struct outbox_message m = { .member = r->element[0]->str, .channel = st[i].channel,
					    .fallback = fb, .kind = r->element[1]->str,
					    .subject = r->element[2]->str, .text = r->element[3]->str,
					    .page = id };
		int q = outbox_enqueue(ctx->store, org, &m, wk_now_ms(), nid, sizeof(nid));
		if (q < 0) {
			rc = -1;
			break;
		}
		if (q == 0)
			log_info("page.step", "org=%s page=%s channel=%s notification=%s", org, id,
				 st[i].channel, nid);
	}
	freeReplyObject(r);
	return rc;
}
