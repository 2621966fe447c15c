/* incident.c - see incident.h */
#include "bot/incident.h"
#include "bot/delegate.h"
#include "bot/log.h"
#include "bot/org.h"
#include "bot/timers.h"
#include "bot/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const severity_names[SEV_COUNT] = { "critical", "error", "warning", "info" };
static const char *const state_names[] = { "triggered", "acknowledged", "resolved" };

const char *incident_severity_name(enum incident_severity s)
{
	return s >= 0 && s < SEV_COUNT ? severity_names[s] : "error";
}

int incident_severity_parse(const char *s)
{
	for (int i = 0; i < SEV_COUNT; i++)
		if (strcasecmp(s, severity_names[i]) == 0)
			return i;
	return -1;
}

const char *incident_state_name(enum incident_state st)
{
	return state_names[st];
}

int64_t incident_parse_id(const char *s)
{
	int64_t n;

	if (strncasecmp(s, "INC-", 4) == 0)
		s += 4;
	else if (s[0] == '#')
		s++;
	return wk_parse_i64(s, 1, INT64_MAX / 2, &n) ? n : -1;
}

void incident_timer_id(const char *org_id, int64_t n, char *out, size_t size)
{
	snprintf(out, size, "inc:%s:%lld", org_id, (long long)n);
}

static const struct store_script open_script = {
	"incident_open",
	/* ARGV: prefix, now, summary, severity, service, team, type, dedup,
	 * opened_by, policy (the built-in default: routing may pick another, and the
 * team with it), escalate ("0" = page nobody), timeline text, timer id,
	 * org, repeat text ("" = no timeline entry for a repeat); alerts only:
	 * alert-set hash, rate key, max new a minute, storm summary; the card's
	 * channel ("" = the service's, else the team's announce one). The first
	 * step is due by Redis's clock (wk_now), like every relative delay.
	 * Returns {0, n} opened, {1, n} a repeat of open incident n, {2, n} joined
	 * the storm incident n, {3, n} opened storm incident n; {-1, 0} when a
	 * stamp (ARGV[21]) was given and the org's audit tip moved: nothing done. */
	"local p, now = ARGV[1], ARGV[2]\n"
	"if ARGV[21] ~= '' and (redis.call('HGET', p .. 'org', 'audit_tip') or '') ~= ARGV[21] then\n"
	"  return {-1, 0}\n"
	"end\n"
	"local summary, dedup, code = ARGV[3], ARGV[8], 0\n"
	"local function again(n, text, sig)\n"
	"  local k = p .. 'inc:' .. n\n"
	"  redis.call('HSET', k, 'last_seen_ms', now)\n"
	"  redis.call('HINCRBY', k, 'repeats', 1)\n"
	/* The same set of alerts again (a repeat_interval re-send) is only counted. */
	"  if sig ~= '' then\n"
	"    if redis.call('HGET', k, 'alert_sig') == sig then text = '' else redis.call('HSET', k, 'alert_sig', sig) end\n"
	"  end\n"
	"  if text ~= '' then wk_tl(k, now, 'repeat', ARGV[9], text) end\n"
	"end\n"
	"local dkey = ''\n"
	"if dedup ~= '' then\n"
	"  dkey = p .. 'inc_dedup:' .. ARGV[5] .. ':' .. dedup\n"
	"  local n = redis.call('GET', dkey)\n"
	"  if n then\n"
	"    again(n, ARGV[15], ARGV[16] or '')\n"
	"    return {1, tonumber(n)}\n"
	"  end\n"
	"end\n"
	/* Storms: past the integration's new incidents this minute, an alert joins
	 * one incident per service, which pages once. */
	"local rated = false\n"
	"if (ARGV[17] or '') ~= '' then\n"
	/* A sliding minute by Redis's clock: no window edge lets twice as many in. */
	"  redis.call('ZREMRANGEBYSCORE', ARGV[17], '-inf', wk_now() - 60000)\n"
	"  if redis.call('ZCARD', ARGV[17]) >= tonumber(ARGV[18]) then\n"
	"    dedup = 'storm'\n"
	"    dkey = p .. 'inc_dedup:' .. ARGV[5] .. ':storm'\n"
	"    local n = redis.call('GET', dkey)\n"
	"    if n then\n"
	"      again(n, 'also: ' .. ARGV[3], '')\n"
	"      return {2, tonumber(n)}\n"
	"    end\n"
	"    summary, code = ARGV[19], 3\n"
	"  else\n"
	"    rated = true\n"
	"  end\n"
	"end\n"
	/* Who it goes to (delegate.h): a rule, else the team's policy. */
	"local policy, team, rule = wk_route(p, ARGV[5], ARGV[4], ARGV[7], ARGV[6], ARGV[10])\n"
	"local n = redis.call('INCR', p .. 'inc_seq')\n"
	"local k = p .. 'inc:' .. n\n"
	"local base = wk_now()\n"
	"if rated then\n"
	"  redis.call('ZADD', ARGV[17], base, n)\n"
	"  redis.call('PEXPIRE', ARGV[17], 120000)\n"
	"end\n"
	"redis.call('HSET', k, 'n', n, 'summary', summary, 'severity', ARGV[4], 'service', ARGV[5],\n"
	"  'team', team, 'type', ARGV[7], 'dedup', dedup, 'opened_by', ARGV[9], 'state', 'triggered',\n"
	"  'created_ms', now, 'last_seen_ms', now, 'repeats', 0, 'epoch', 1, 'step', 0, 'round', 0,\n"
	"  'esc_base_ms', string.format('%d', base), 'policy', policy)\n"
	"if rule ~= '' then redis.call('HSET', k, 'rule', rule) end\n"
	/* The card's channel: where it was opened, else the service's, else the team's announce one. */
	"local ch = ARGV[20]\n"
	"if ch == '' and ARGV[5] ~= '' then ch = redis.call('HGET', p .. 'service:' .. ARGV[5], 'channel') or '' end\n"
	"if ch == '' then ch = redis.call('HGET', p .. 'team_settings:' .. team, 'announce') or '' end\n"
	"if ch ~= '' and (string.match(ch, '^[CGD][A-Z0-9]+$') or string.match(ch, '^tc%x+$')) then\n"
	"  redis.call('HSET', k, 'card_ch', ch)\n"
	"end\n"
	"if (ARGV[16] or '') ~= '' and code == 0 then redis.call('HSET', k, 'alert_sig', ARGV[16]) end\n"
	"redis.call('ZADD', p .. 'incs', now, n)\n"
	"redis.call('ZADD', p .. 'incs_open', now, n)\n"
	"if dkey ~= '' then redis.call('SET', dkey, n) end\n"
	"wk_tl(k, now, 'opened', ARGV[9], code == 3 and (ARGV[19] .. ': ' .. ARGV[3]) or ARGV[12])\n"
	/* Below the service's paging threshold: recorded, nobody paged. */
	"if ARGV[11] == '0' then\n"
	"  redis.call('HSET', k, 'paging', 'off')\n"
	"else\n"
	"  local delays = wk_policy(policy)\n"
	"  wk_timer_schedule(ARGV[13] .. n, 'inc_step', ARGV[14], '1', base + (delays[1] or 0) * 1000)\n"
	"end\n"
	"return {code, n}\n",
	TIMERS_LUA INCIDENT_LUA DELEGATE_ROUTE_LUA
};

int incident_open(struct store *s, const char *org_id, const struct incident_new *in, int64_t now_ms,
		  const char *repeat_text, int64_t *n, bool *existing)
{
	char prefix[160], now[24], tid[TIMER_ID_MAX], max_new[24] = "0";
	const struct incident_alert *a = in->alert;
	redisReply *r;
	int rc = -1;
	int64_t code = 0;

	*n = 0;
	*existing = false;
	if (org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	snprintf(tid, sizeof(tid), "inc:%s:", org_id);	/* the script appends the number */
	if (a)
		snprintf(max_new, sizeof(max_new), "%lld", (long long)a->max_new);
	const char *args[] = { prefix, now, in->summary, in->severity, in->service, in->team, in->type,
			       in->dedup ? in->dedup : "", in->opened_by, in->policy,
			       in->first_step_due_ms ? "1" : "0", in->timeline, tid,
			       org_id, repeat_text ? repeat_text : "", a ? a->sig : "", a ? a->rate_key : "",
			       max_new, a ? a->storm_summary : "", in->channel ? in->channel : "",
			       in->stamp ? in->stamp : "" };
	r = store_script(s, &open_script, 0, NULL, (int)ARRAY_LEN(args), args);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		code = r->element[0]->integer;
		*existing = code == 1 || code == 2;
		*n = r->element[1]->integer;
		rc = code < 0 ? INCIDENT_STALE : 0;
	}
	if (r)
		freeReplyObject(r);
	if (rc == INCIDENT_STALE)
		return rc;
	if (rc == 0 && in->alert)
		in->alert->storm = code >= 2;
	if (rc == 0 && !*existing)
		log_info("incident.opened", "org=%s incident=%lld severity=%s service=%s%s", org_id, (long long)*n,
			 in->severity, in->service, code == 3 ? " storm=1" : "");
	return rc;
}

/* ---- reading ---- */

static const char *const fields[] = {
	"n", "summary", "severity", "service", "team", "type", "dedup", "opened_by", "state", "created_ms",
	"last_seen_ms", "repeats", "epoch", "step", "round", "esc_base_ms", "policy", "acked_ms", "resolved_ms",
	"acked_by", "resolved_by", "assignee", "stuck_since_ms", "paging", "card_ch", "card_ts", "card_ref", "rule",
};

static int64_t num(const redisReply *v)
{
	int64_t x = 0;

	if (v->type == REDIS_REPLY_STRING)
		wk_parse_i64(v->str, INT64_MIN, INT64_MAX, &x);
	return x;
}

static void str(const redisReply *v, char *out, size_t size)
{
	wk_strlcpy(out, v->type == REDIS_REPLY_STRING ? v->str : "", size);
}

static int from_reply(const redisReply *r, struct incident *o)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements != ARRAY_LEN(fields))
		return -1;
	if (r->element[0]->type != REDIS_REPLY_STRING)
		return 1;
	memset(o, 0, sizeof(*o));
	o->n = num(r->element[0]);
	str(r->element[1], o->summary, sizeof(o->summary));
	str(r->element[2], o->severity, sizeof(o->severity));
	str(r->element[3], o->service, sizeof(o->service));
	str(r->element[4], o->team, sizeof(o->team));
	str(r->element[5], o->type, sizeof(o->type));
	str(r->element[6], o->dedup, sizeof(o->dedup));
	str(r->element[7], o->opened_by, sizeof(o->opened_by));
	o->state = INCIDENT_TRIGGERED;
	for (size_t i = 0; i < ARRAY_LEN(state_names); i++)
		if (r->element[8]->type == REDIS_REPLY_STRING && strcmp(r->element[8]->str, state_names[i]) == 0)
			o->state = (enum incident_state)i;
	o->created_ms = num(r->element[9]);
	o->last_seen_ms = num(r->element[10]);
	o->repeats = num(r->element[11]);
	o->epoch = num(r->element[12]);
	o->step = num(r->element[13]);
	o->round = num(r->element[14]);
	o->esc_base_ms = num(r->element[15]);
	str(r->element[16], o->policy, sizeof(o->policy));
	o->acked_ms = num(r->element[17]);
	o->resolved_ms = num(r->element[18]);
	str(r->element[19], o->acked_by, sizeof(o->acked_by));
	str(r->element[20], o->resolved_by, sizeof(o->resolved_by));
	str(r->element[21], o->assignee, sizeof(o->assignee));
	o->stuck_since_ms = num(r->element[22]);
	o->paging_off = r->element[23]->type == REDIS_REPLY_STRING && strcmp(r->element[23]->str, "off") == 0;
	str(r->element[24], o->card_ch, sizeof(o->card_ch));
	str(r->element[25], o->card_ts, sizeof(o->card_ts));
	str(r->element[26], o->card_ref, sizeof(o->card_ref));
	o->rule = num(r->element[27]);
	return 0;
}

static int hmget(struct store *s, const char *key, struct incident *out)
{
	const char *argv[2 + ARRAY_LEN(fields)];
	int argc = 0;
	redisReply *r;
	int rc;

	argv[argc++] = "HMGET";
	argv[argc++] = key;
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		argv[argc++] = fields[i];
	r = store_commandargv(s, argc, argv, NULL);
	rc = r ? from_reply(r, out) : -1;
	if (r)
		freeReplyObject(r);
	return rc;
}

int incident_get(struct store *s, const char *org_id, int64_t n, struct incident *out)
{
	char key[192];

	if (n < 1 || org_key(key, sizeof(key), org_id, "inc:%lld", (long long)n) < 0)
		return 1;
	return hmget(s, key, out);
}

static int load_incident(struct store *s, const char *member, void *item, const void *org_id)
{
	int64_t n;

	if (!wk_parse_i64(member, 1, INT64_MAX, &n))
		return 1;
	return incident_get(s, org_id, n, item);
}

int incident_list(struct store *s, const char *org_id, enum incident_filter f, size_t max, struct incident **out,
		  size_t *count)
{
	char key[192];
	void *items;
	int rc;

	*out = NULL;
	*count = 0;
	if (org_key(key, sizeof(key), org_id, f == INC_LIST_OPEN ? "incs_open" : "incs") < 0)
		return -1;
	rc = store_load_index(s, key, max, true, sizeof(**out), load_incident, org_id, &items, count);
	*out = items;
	return rc;
}

/* ---- changes ---- */

static const struct store_script change_script = {
	"incident_change",
	/* ARGV: prefix, n, action, by, via, text, now, timer id, org[, dedup
	 * ("service:key": the open incident of that key instead of n), stamp
	 * ("" none), timer id prefix (the number follows)].
	 * Returns {outcome, by, epoch, step, n}: outcome 0 done, 1 already acked
	 * (by = who), 2 resolved, 3 not triggered, 4 last step, 5 missing; -1 the
	 * stamp no longer holds (nothing done). */
	"local p, n, action, by, via, text, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]\n"
	"local tid = ARGV[8]\n"
	/* By dedup key (an alert's resolve): the open incident of that key, and
	 * only while the org's audit tip is still the caller's stamp. */
	"if ARGV[10] and ARGV[10] ~= '' then\n"
	"  if ARGV[11] ~= '' and (redis.call('HGET', p .. 'org', 'audit_tip') or '') ~= ARGV[11] then\n"
	"    return {-1, '', 0, 0, 0}\n"
	"  end\n"
	"  n = redis.call('GET', p .. 'inc_dedup:' .. ARGV[10])\n"
	"  if not n then return {5, '', 0, 0, 0} end\n"
	"  tid = ARGV[12] .. n\n"
	"end\n"
	"local function change()\n"
	"local k = p .. 'inc:' .. n\n"
	"local v = redis.call('HMGET', k, 'state', 'acked_by', 'epoch', 'step', 'policy', 'service', 'dedup')\n"
	"local state, epoch, step = v[1], tonumber(v[3] or '0'), tonumber(v[4] or '0')\n"
	"if not state then return {5, '', 0, 0} end\n"
	"if action == 'note' then\n"
	"  wk_tl(k, now, 'note', by, text)\n"
	"  return {0, '', epoch, step}\n"
	"end\n"
	"if state == 'resolved' then return {2, v[2] or '', epoch, step} end\n"
	"local function stop_pages()\n"
	"  for _, id in ipairs(redis.call('SMEMBERS', k .. ':pages')) do\n"
	"    local pk = p .. 'page:' .. id\n"
	"    if redis.call('EXISTS', pk) == 1 and redis.call('HEXISTS', pk, 'acked_ms') == 0 then\n"
	"      redis.call('HSET', pk, 'acked_ms', now, 'acked_by', by, 'acked_via', 'incident')\n"
	"    end\n"
	/* Its later steps (SMS after 2 min...) are not needed any more: page.c's timer id. */
	"    wk_timer_cancel('page:' .. ARGV[9] .. ':' .. id)\n"
	"  end\n"
	"end\n"
	"if action == 'ack' then\n"
	"  if state == 'acknowledged' then return {1, v[2] or '', epoch, step} end\n"
	"  epoch = epoch + 1\n"
	"  redis.call('HSET', k, 'state', 'acknowledged', 'acked_ms', now, 'acked_by', by, 'epoch', epoch)\n"
	"  stop_pages()\n"
	"  wk_timer_cancel(tid)\n"
	"  wk_tl(k, now, 'ack', by, 'acknowledged via ' .. via)\n"
	"elseif action == 'resolve' then\n"
	"  epoch = epoch + 1\n"
	"  redis.call('HSET', k, 'state', 'resolved', 'resolved_ms', now, 'resolved_by', by, 'epoch', epoch)\n"
	"  redis.call('ZREM', p .. 'incs_open', n)\n"
	"  if v[7] and v[7] ~= '' then\n"
	"    local dkey = p .. 'inc_dedup:' .. (v[6] or '') .. ':' .. v[7]\n"
	"    if redis.call('GET', dkey) == n then redis.call('DEL', dkey) end\n"
	"  end\n"
	"  stop_pages()\n"
	"  wk_timer_cancel(tid)\n"
	"  wk_tl(k, now, 'resolve', by, text ~= '' and text or ('resolved via ' .. via))\n"
	"elseif action == 'escalate' then\n"
	"  if state ~= 'triggered' then return {3, v[2] or '', epoch, step} end\n"
	"  local delays = wk_policy(v[5] or '')\n"
	"  if step >= #delays then return {4, '', epoch, step} end\n"
	/* The step runs now; the later ones keep their gaps after it. */
	"  epoch = epoch + 1\n"
	"  local t = wk_now()\n"
	"  redis.call('HSET', k, 'epoch', epoch, 'esc_base_ms', string.format('%d', t - delays[step + 1] * 1000))\n"
	"  wk_timer_schedule(tid, 'inc_step', ARGV[9], tostring(epoch), t)\n"
	"  wk_tl(k, now, 'escalate', by, 'escalated to step ' .. (step + 1) .. ' by hand')\n"
	"elseif action == 'reassign' then\n"
	/* A one-step policy for the new person, from now. */
	"  epoch = epoch + 1\n"
	"  step = 0\n"
	"  local t = wk_now()\n"
	"  redis.call('HSET', k, 'state', 'triggered', 'epoch', epoch, 'step', 0, 'round', 0,\n"
	"             'esc_base_ms', string.format('%d', t), 'assignee', text, 'policy', 'r0:0|0:member:' .. text)\n"
	"  redis.call('HDEL', k, 'acked_ms', 'acked_by')\n"
	"  stop_pages()\n"
	"  wk_timer_schedule(tid, 'inc_step', ARGV[9], tostring(epoch), t)\n"
	"  wk_tl(k, now, 'reassign', by, 'reassigned to <@' .. text .. '>')\n"
	"end\n"
	"return {0, '', epoch, step}\n"
	"end\n"
	"local r = change()\n"
	"r[5] = tonumber(n)\n"
	"return r\n",
	TIMERS_LUA INCIDENT_LUA
};

int incident_change(struct store *s, const char *org_id, int64_t n, const struct incident_change *c,
		    int64_t now_ms, struct incident_result *out)
{
	static const char *const actions[] = { "ack", "resolve", "escalate", "reassign", "note" };
	static const enum incident_outcome outcomes[] = { INC_DONE, INC_ALREADY_ACKED, INC_IS_RESOLVED,
							  INC_NOT_TRIGGERED, INC_LAST_STEP, INC_MISSING };
	char prefix[160], num_s[24], now[24], tid[TIMER_ID_MAX], tid_prefix[TIMER_ID_MAX];
	bool by_dedup = c->dedup && c->dedup[0];
	redisReply *r;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->outcome = INC_MISSING;
	if ((n < 1 && !by_dedup) || org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0)
		return 0;
	snprintf(num_s, sizeof(num_s), "%lld", (long long)n);
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	incident_timer_id(org_id, n, tid, sizeof(tid));
	snprintf(tid_prefix, sizeof(tid_prefix), "inc:%s:", org_id);	/* incident_timer_id() less the number */
	const char *args[] = { prefix, num_s, actions[c->action], c->by, c->via ? c->via : "chat",
			       c->text ? c->text : "", now, tid, org_id, by_dedup ? c->dedup : "",
			       c->stamp ? c->stamp : "", tid_prefix };
	r = store_script(s, &change_script, 0, NULL, (int)ARRAY_LEN(args), args);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 5 && r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[0]->integer == -1) {
		freeReplyObject(r);
		return INCIDENT_STALE;
	}
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 5 && r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[0]->integer >= 0 && r->element[0]->integer < (long long)ARRAY_LEN(outcomes) &&
	    r->element[2]->type == REDIS_REPLY_INTEGER && r->element[3]->type == REDIS_REPLY_INTEGER &&
	    r->element[4]->type == REDIS_REPLY_INTEGER) {
		out->outcome = outcomes[r->element[0]->integer];
		str(r->element[1], out->by, sizeof(out->by));
		out->epoch = r->element[2]->integer;
		out->step = r->element[3]->integer;
		out->n = r->element[4]->integer;
		n = out->n;
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	if (rc == 0 && out->outcome == INC_DONE && c->action != INC_NOTE)
		log_info("incident.change", "org=%s incident=%lld action=%s by=%s", org_id, (long long)n,
			 actions[c->action], c->by);
	return rc;
}

int incident_timeline_add(struct store *s, const char *org_id, int64_t n, const char *kind, const char *by,
			  const char *text, int64_t now_ms)
{
	char key[192], now[24];
	redisReply *r;
	int rc;

	if (org_key(key, sizeof(key), org_id, "inc:%lld:tl", (long long)n) < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *argv[] = { "XADD", key, "MAXLEN", "~", "1000", "*", "ts", now, "kind", kind, "by", by,
			       "text", text };
	r = store_commandargv(s, (int)ARRAY_LEN(argv), argv, NULL);
	rc = r && r->type == REDIS_REPLY_STRING ? 0 : -1;
	if (r)
		freeReplyObject(r);
	return rc;
}

int incident_timeline(struct store *s, const char *org_id, int64_t n, size_t max, struct incident_event **out,
		      size_t *count)
{
	char key[192];
	redisReply *r;

	*out = NULL;
	*count = 0;
	if (org_key(key, sizeof(key), org_id, "inc:%lld:tl", (long long)n) < 0)
		return -1;
	r = store_command(s, "XRANGE %s - + COUNT %lld", key, (long long)max);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	*out = xcalloc(r->elements ? r->elements : 1, sizeof(**out));
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		struct incident_event *ev = &(*out)[*count];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		const redisReply *f = e->element[1];
		for (size_t j = 0; j + 1 < f->elements; j += 2) {
			const char *name = f->element[j]->str, *val = f->element[j + 1]->str;
			if (!name || !val)
				continue;
			if (strcmp(name, "ts") == 0)
				wk_parse_i64(val, 0, INT64_MAX, &ev->ts);
			else if (strcmp(name, "kind") == 0)
				wk_strlcpy(ev->kind, val, sizeof(ev->kind));
			else if (strcmp(name, "by") == 0)
				wk_strlcpy(ev->by, val, sizeof(ev->by));
			else if (strcmp(name, "text") == 0)
				wk_strlcpy(ev->text, val, sizeof(ev->text));
		}
		(*count)++;
	}
	freeReplyObject(r);
	return 0;
}

int incident_add_page(struct store *s, const char *org_id, int64_t n, const char *page_id, const char *member)
{
	char pages[192], people[192];
	redisReply *r;
	int rc;

	if (org_key(pages, sizeof(pages), org_id, "inc:%lld:pages", (long long)n) < 0 ||
	    org_key(people, sizeof(people), org_id, "inc:%lld:people", (long long)n) < 0)
		return -1;
	const char *argv[] = { "SADD", pages, page_id };
	const char *argv2[] = { "SADD", people, member };
	r = store_commandargv(s, 3, argv, NULL);
	rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
	if (r)
		freeReplyObject(r);
	if (rc == 0) {
		r = store_commandargv(s, 3, argv2, NULL);
		rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
		if (r)
			freeReplyObject(r);
	}
	return rc;
}

int incident_paged(struct store *s, const char *org_id, int64_t n, const char *member)
{
	char key[192];
	redisReply *r;
	int rc;

	if (n < 1 || org_key(key, sizeof(key), org_id, "inc:%lld:people", (long long)n) < 0)
		return 0;
	const char *argv[] = { "SISMEMBER", key, member };
	r = store_commandargv(s, 3, argv, NULL);
	rc = r && r->type == REDIS_REPLY_INTEGER ? (int)r->integer : -1;
	if (r)
		freeReplyObject(r);
	return rc;
}
