/* outbox.c - see outbox.h. Enqueue (the record and the stream) and one
 * attempt: the claim (pace, provider rate, bundling), looking up an unknown
 * outcome, the send, each item's outcome, retries through a durable timer,
 * fallback to the next channel. The channels are in outbox_channels.c, the
 * sender threads that call outbox_attempt() in outbox_senders.c, reading the
 * records back in outbox_history.c; what they share in outbox_int.h. */
#include "bot/outbox_int.h"
#include "bot/engine.h"
#include "bot/courier.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/org.h"
#include "bot/page.h"
#include "bot/timers.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the record and the stream ---- */

/* One notification into the org's records and the shared queue, as a Lua
 * function so a page can queue its first messages in the same script that
 * creates it (page.c). p is the org's key prefix. Returns {0, id} queued,
 * {1, first id} a duplicate of dedupe, {2, ''} its page is acknowledged. */
const char OUTBOX_ENQUEUE_LUA[] =
	"local function wk_enqueue(p, queue, org, member, channel, fallback, kind, subject, text,\n"
	"                          dedupe, page, now, buttons)\n"
	"  -- A page sends at most once per channel, whichever step or fallback gets there first.\n"
	"  if dedupe == '' and page ~= '' then dedupe = 'page:' .. page .. ':' .. channel end\n"
	"  if dedupe ~= '' then\n"
	"    local first = redis.call('GET', p .. 'notify_dedupe:' .. dedupe)\n"
	"    if first then return {1, first} end\n"
	"  end\n"
	"  if page ~= '' and redis.call('HEXISTS', p .. 'page:' .. page, 'acked_ms') == 1 then\n"
	"    return {2, ''}\n"
	"  end\n"
	"  local id = 'n' .. redis.call('INCR', p .. 'seq')\n"
	"  redis.call('HSET', p .. 'notification:' .. id, 'id', id, 'org', org, 'member', member,\n"
	"    'channel', channel, 'fallback', fallback, 'kind', kind, 'subject', subject, 'text', text,\n"
	"    'page', page, 'buttons', buttons or '', 'status', 'queued', 'attempts', 0,\n"
	"    'created_ms', now, 'updated_ms', now)\n"
	"  local key = p .. 'notification:' .. id\n"
	"  redis.call('XADD', key .. ':events', 'MAXLEN', '~', 100, '*', 'status', 'queued', 'ts', now)\n"
	"  redis.call('EXPIRE', key, 604800)\n"
	"  redis.call('EXPIRE', key .. ':events', 604800)\n"
	"  if dedupe ~= '' then redis.call('SET', p .. 'notify_dedupe:' .. dedupe, id, 'EX', 604800) end\n"
	"  redis.call('ZADD', p .. 'notifications', now, id)\n"
	"  redis.call('ZREMRANGEBYRANK', p .. 'notifications', 0, -5001)\n"
	"  redis.call('ZADD', p .. 'waiting:' .. channel .. ':' .. member, now, id)\n"
	"  redis.call('XADD', queue, '*', 'org', org, 'id', id)\n"
	"  return {0, id}\n"
	"end\n";

static const struct store_script enqueue_script = {
	"outbox_enqueue",
	/* KEYS: queue. ARGV: key prefix, org, member, channel, fallback, kind,
	 * subject, text, dedupe, page, now ms, buttons. */
	"return wk_enqueue(ARGV[1], KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7],\n"
	"                  ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12])\n",
	OUTBOX_ENQUEUE_LUA
};

int outbox_enqueue(struct store *s, const char *org_id, const struct outbox_message *m,
		   int64_t now_ms, char *id, size_t idsize)
{
	char prefix[160], now[24];
	redisReply *r;
	int rc = -1;

	if (org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 || !outbox_channel_find(m->channel))
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	/* The org's keys and the shared queue are written in one script: on one Redis
	 * that is atomic; in Cluster the queue would need its own step (see README). */
	const char *keys[] = { QUEUE };
	const char *args[] = { prefix, org_id, m->member, m->channel, m->fallback ? m->fallback : "",
			       m->kind ? m->kind : "", m->subject ? m->subject : "", m->text,
			       m->dedupe ? m->dedupe : "", m->page ? m->page : "", now,
			       m->buttons ? m->buttons : "" };
	r = store_script(s, &enqueue_script, 1, keys, 12, args);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING) {
		wk_strlcpy(id, r->element[1]->str, idsize);
		rc = (int)r->element[0]->integer;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

/* ---- one attempt ---- */

static const struct store_script claim_script = {
	"outbox_claim",
	/* KEYS: notification. ARGV: now ms, lease ms, owner, key prefix, bundle max,
	 * limits ("channel:gap ms:per hour:per second,..."), refs max bytes.
	 * A message not sent yet first waits its turn: the person's pace on the
	 * channel (at most one per gap, per_hour in any hour; in the org's slot) and
	 * the provider's rate (per second, in the queue's slot, across instances).
	 * Then it is marked `sending` until now + lease and the attempt counted;
	 * the same is done for whatever else waits for that person on that channel
	 * (up to bundle max in all), so a pile-up goes out as one message. Anything
	 * whose page was acknowledged meanwhile is cancelled instead.
	 * A `sending` mark whose deadline passed means its holder stopped mid-send
	 * (died, or lost Redis and so its lease): the outcome of that attempt is
	 * unknown (unknown_ms), and the sender looks for it before sending again.
	 * Each taken notification gets the attempt's reference (a number of the
	 * org's that no other attempt gets, and a tag of the org) appended to its
	 * refs: the message carries it, so a later look can find it.
	 * Returns {'go', ref, id, ...} (oldest first), {'wait', ms}, {'busy', ms
	 * until its deadline}, {'done'|'gone'}, or {'unknown'} for a channel not
	 * in limits (a newer instance's: left for it). ARGV now is unused. */
	/* Redis's clock: leases and paces are shared by instances whose own
	 * clocks may differ (timers.h "Clock"). */
	"local now, p = " TIMERS_NOW_EXPR ", ARGV[4]\n"
	"local function acked(key)\n"
	"  local page = redis.call('HGET', key, 'page')\n"
	"  return page and page ~= '' and redis.call('HEXISTS', p .. 'page:' .. page, 'acked_ms') == 1\n"
	"end\n"
	"local function event(key, ...)\n"
	"  redis.call('XADD', key .. ':events', 'MAXLEN', '~', 100, '*', 'ts', now, ...)\n"
	"end\n"
	"local function take(key)\n"
	"  redis.call('HSET', key, 'status', 'sending', 'deadline_ms', now + tonumber(ARGV[2]),\n"
	"             'owner', ARGV[3], 'updated_ms', now)\n"
	"  redis.call('HSETNX', key, 'first_ms', now)\n"
	"  event(key, 'status', 'sending', 'attempt', redis.call('HINCRBY', key, 'attempts', 1))\n"
	"end\n"
	"local function cancel(key)\n"
	"  redis.call('HSET', key, 'status', 'cancelled', 'error', 'acknowledged before it was sent',\n"
	"             'updated_ms', now)\n"
	"  event(key, 'status', 'cancelled', 'error', 'acknowledged before it was sent')\n"
	"end\n"
	"local st, ch, member, id, deadline = unpack(redis.call('HMGET', KEYS[1], 'status', 'channel',\n"
	"                                                      'member', 'id', 'deadline_ms'))\n"
	"if not st then return {'gone'} end\n"
	"local waiting = p .. 'waiting:' .. ch .. ':' .. member\n"
	"if st ~= 'queued' and st ~= 'retry' and st ~= 'sending' then\n"
	"  redis.call('ZREM', waiting, id)\n"
	"  return {'done'}\n"
	"end\n"
	"if st == 'sending' and tonumber(deadline) > now then\n"
	"  return {'busy', string.format('%d', tonumber(deadline) - now)}\n"
	"end\n"
	"if acked(KEYS[1]) then redis.call('ZREM', waiting, id); cancel(KEYS[1]); return {'done'} end\n"
	"if st == 'sending' then\n"
	"  redis.call('HSET', KEYS[1], 'unknown_ms', now)\n"
	"  event(KEYS[1], 'status', 'unknown', 'error', 'its sender stopped mid-send (' ..\n"
	"        (redis.call('HGET', KEYS[1], 'owner') or '?') .. '); looking before sending again')\n"
	"end\n"
	"local gap, cap, rate = string.match(',' .. ARGV[6], ',' .. ch .. ':(%d+):(%d+):(%d+)')\n"
	"if not gap then return {'unknown'} end\n"
	"gap, cap, rate = tonumber(gap), tonumber(cap), tonumber(rate)\n"
	"if st ~= 'sending' then\n"
	"  local pace, wait = p .. 'pace:' .. ch .. ':' .. member, 0\n"
	"  if gap > 0 or cap > 0 then\n"
	"    redis.call('ZREMRANGEBYSCORE', pace, '-inf', now - 3600000)\n"
	"    local last = redis.call('ZREVRANGE', pace, 0, 0, 'WITHSCORES')\n"
	"    if last[2] and now - tonumber(last[2]) < gap then wait = tonumber(last[2]) + gap - now end\n"
	"    if cap > 0 and redis.call('ZCARD', pace) >= cap then\n"
	"      local first = redis.call('ZRANGE', pace, 0, 0, 'WITHSCORES')\n"
	"      wait = math.max(wait, tonumber(first[2]) + 3600000 - now)\n"
	"    end\n"
	"  end\n"
	"  if wait > 0 then return {'wait', tostring(wait)} end\n"
	"  if rate > 0 then\n"
	/* A provider's rate: Twilio's is the sender's, across orgs; Teams' is per
	 * tenant (per org), one budget for all of its channels. */
	"    local bucket = ch\n"
	"    if string.sub(ch, 1, 5) == 'teams' then bucket = 'teams:' .. p end\n"
	"    local second = 'wk:{notify}:rate:' .. bucket .. ':' .. math.floor(now / 1000)\n"
	"    if redis.call('INCR', second) == 1 then redis.call('EXPIRE', second, 2) end\n"
	"    if tonumber(redis.call('GET', second)) > rate then\n"
	"      return {'wait', tostring(1000 - now % 1000 + math.random(0, 199))}\n"
	"    end\n"
	"  end\n"
	"  if gap > 0 or cap > 0 then\n"
	"    redis.call('ZADD', pace, now, id)\n"
	"    redis.call('PEXPIRE', pace, math.max(gap, cap > 0 and 3600000 or 0) + 1000)\n"
	"  end\n"
	"end\n"
	"redis.call('ZREM', waiting, id)\n"
	"take(KEYS[1])\n"
	"local out = {'go', id}\n"
	"for _, other in ipairs(redis.call('ZRANGE', waiting, 0, tonumber(ARGV[5]) * 2)) do\n"
	"  if #out > tonumber(ARGV[5]) then break end\n"
	"  local key = p .. 'notification:' .. other\n"
	"  local ost = redis.call('HGET', key, 'status')\n"
	"  if ost == 'queued' or ost == 'retry' then\n"
	"    redis.call('ZREM', waiting, other)\n"
	"    if acked(key) then cancel(key) else take(key); out[#out + 1] = other end\n"
	"  elseif ost ~= 'sending' then\n"
	"    redis.call('ZREM', waiting, other)\n"
	"  end\n"
	"end\n"
	"-- Oldest first: ids grow with the org's sequence.\n"
	"local ids = {unpack(out, 2)}\n"
	"table.sort(ids, function(a, b) return tonumber(string.sub(a, 2)) < tonumber(string.sub(b, 2)) end)\n"
	"-- One ref per attempt (never reused, or a later look could find an earlier message).\n"
	"local ref = 'r' .. redis.call('INCR', p .. 'refseq') .. '-' .. string.sub(redis.sha1hex(p), 1, 4)\n"
	"for _, other in ipairs(ids) do\n"
	"  local key = p .. 'notification:' .. other\n"
	"  local refs = redis.call('HGET', key, 'refs')\n"
	"  if not refs or refs == '' then refs = ref\n"
	"  elseif not string.find(',' .. refs .. ',', ',' .. ref .. ',', 1, true) then refs = refs .. ',' .. ref end\n"
	"  -- The last few attempts are enough: each unknown one is looked for before the next.\n"
	"  while #refs > tonumber(ARGV[7]) do refs = string.gsub(refs, '^[^,]*,', '', 1) end\n"
	"  redis.call('HSET', key, 'refs', refs)\n"
	"end\n"
	"return {'go', ref, unpack(ids)}\n",
	NULL
};

static const struct store_script finish_script = {
	"outbox_finish",
	/* KEYS: notification. ARGV: status, error, now ms, owner, key prefix,
	 * unknown ("set": this attempt's outcome is unknown; "clear": it is known;
	 * "keep"), uncount ("1": the attempt sent nothing, so it does not count).
	 * Only the owner of the current attempt may finish it. A retry waits again
	 * (and may then be bundled with what came meanwhile). */
	"if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[4] or\n"
	"   redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return 0 end\n"
	"redis.call('HSET', KEYS[1], 'status', ARGV[1], 'error', ARGV[2], 'updated_ms', ARGV[3])\n"
	"if ARGV[6] == 'set' then redis.call('HSET', KEYS[1], 'unknown_ms', ARGV[3])\n"
	"elseif ARGV[6] == 'clear' then redis.call('HDEL', KEYS[1], 'unknown_ms') end\n"
	"if ARGV[7] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', -1) end\n"
	"redis.call('XADD', KEYS[1] .. ':events', 'MAXLEN', '~', 100, '*', 'ts', ARGV[3], 'status', ARGV[1],\n"
	"           'error', ARGV[2])\n"
	"if ARGV[1] == 'retry' then\n"
	"  local ch, member, id = unpack(redis.call('HMGET', KEYS[1], 'channel', 'member', 'id'))\n"
	"  redis.call('ZADD', ARGV[5] .. 'waiting:' .. ch .. ':' .. member, ARGV[3], id)\n"
	"end\n"
	"return 1\n",
	NULL
};

static int load_item(struct store *s, const char *org, const char *id, struct item *it)
{
	char key[192];
	redisReply *r;
	int rc = -1;

	memset(it, 0, sizeof(*it));
	wk_strlcpy(it->org, org, sizeof(it->org));
	wk_strlcpy(it->id, id, sizeof(it->id));
	if (org_key(key, sizeof(key), org, "notification:%s", id) < 0)
		return -1;
	r = store_command(s, "HMGET %s member channel fallback kind subject text page buttons refs attempts "
			  "first_ms unknown_ms", key);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 12 && r->element[0]->type == REDIS_REPLY_STRING) {
		char *fields[] = { it->member, it->channel, it->fallback, it->kind, it->subject, it->text,
				   it->page, it->buttons, it->refs };
		size_t sizes[] = { sizeof(it->member), sizeof(it->channel), sizeof(it->fallback),
				   sizeof(it->kind), sizeof(it->subject), sizeof(it->text), sizeof(it->page),
				   sizeof(it->buttons), sizeof(it->refs) };
		int64_t *nums[] = { &it->attempts, &it->first_ms, &it->unknown_ms };
		for (size_t i = 0; i < ARRAY_LEN(fields); i++)
			if (r->element[i]->type == REDIS_REPLY_STRING)
				wk_strlcpy(fields[i], r->element[i]->str, sizes[i]);
		for (size_t i = 0; i < ARRAY_LEN(nums); i++)
			if (r->element[ARRAY_LEN(fields) + i]->type == REDIS_REPLY_STRING)
				wk_parse_i64(r->element[ARRAY_LEN(fields) + i]->str, 0, INT64_MAX, nums[i]);
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	if (rc == 0 && it->page[0] && (it->incident = page_incident(s, org, it->page)) < 0)
		rc = -1;
	return rc;
}

/* The outcome of an attempt into the record. unknown: "set", "clear" or
 * "keep" (finish_script); uncount: the attempt sent nothing. False when Redis
 * did not take it (then the stream entry stays unacknowledged and is taken up
 * again). */
static bool finish(struct sender *sd, const struct item *it, const char *status, const char *why,
		   const char *unknown, bool uncount)
{
	char key[192], now[24], prefix[160];
	redisReply *r;
	bool ok;

	if (org_key(key, sizeof(key), it->org, "notification:%s", it->id) < 0 ||
	    org_key(prefix, sizeof(prefix), it->org, "%s", "") < 0)
		return true;	/* nothing that could ever be written */
	snprintf(now, sizeof(now), "%lld", (long long)wk_now_ms());
	const char *keys[] = { key };
	const char *args[] = { status, why, now, sd->owner, prefix, unknown, uncount ? "1" : "0" };
	r = store_script(sd->store, &finish_script, 1, keys, 7, args);
	ok = r && r->type == REDIS_REPLY_INTEGER;
	if (r)
		freeReplyObject(r);
	/* redis.wait_replicas: a sent mark a failover loses means a second send.
	 * Not acknowledged: the entry is taken up again and finds it sent. */
	if (ok && (strcmp(status, "sent") == 0 || strcmp(status, "shown") == 0))
		ok = store_wait_replicas(sd->store) == 0;
	return ok;
}

/* Queue the same message on the next channel of the fallback list, at once.
 * A page's messages are deduplicated per channel (wk_enqueue), so its own later
 * step for that channel (page.c) finds this one and sends nothing more. */
static bool fall_back(struct sender *sd, const struct item *it)
{
	char next[16], rest[32], id[24];
	const char *comma = strchr(it->fallback, ',');
	size_t n = comma ? (size_t)(comma - it->fallback) : strlen(it->fallback);

	if (!n || n >= sizeof(next))
		return true;
	memcpy(next, it->fallback, n);
	next[n] = '\0';
	wk_strlcpy(rest, comma ? comma + 1 : "", sizeof(rest));
	struct outbox_message m = { .member = it->member, .channel = next, .fallback = rest,
				    .kind = it->kind, .subject = it->subject, .text = it->text,
				    .page = it->page, .buttons = it->buttons };
	int rc;
	if (!outbox_channel_find(next))
		return true;
	if ((rc = outbox_enqueue(sd->store, it->org, &m, wk_now_ms(), id, sizeof(id))) < 0)
		return false;
	log_info("notify.fallback", "org=%s notification=%s next=%s channel=%s outcome=%s", it->org, it->id,
		 id[0] ? id : "-", next, rc == 0 ? "queued" : rc == 1 ? "already" : "acknowledged");
	return true;
}

/* Come back to it later, through a durable timer. False when Redis failed. */
static bool wait_turn(struct sender *sd, const char *org, const char *id, int64_t wait_ms)
{
	char tid[TIMER_ID_MAX];

	snprintf(tid, sizeof(tid), "notify:%s:%s", org, id);
	return timer_schedule_in(sd->store, tid, "notify_retry", org, id, wait_ms) == 0;
}

/* The timer came due: the notification goes back on the stream. */
int outbox_retry_fire(struct engine_ctx *ctx)
{
	redisReply *r = store_command(ctx->store, "XADD %s * org %s id %s", QUEUE, ctx->timer->org,
				      ctx->timer->payload);
	int ok = r && r->type == REDIS_REPLY_STRING;

	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* "n1,n2,..." of the batch, for the message's metadata. */
static void batch_ids(struct batch *b)
{
	size_t len = 0;

	b->ids[0] = '\0';
	for (size_t i = 0; i < b->n; i++) {
		int w = snprintf(b->ids + len, sizeof(b->ids) - len, "%s%s", i ? "," : "", b->items[i].id);
		if (w < 0 || (size_t)w >= sizeof(b->ids) - len)
			break;
		len += (size_t)w;
	}
}

/* Drop items[i] from the batch (it was found, or is finished otherwise). */
static void batch_remove(struct batch *b, size_t i)
{
	memmove(&b->items[i], &b->items[i + 1], (b->n - i - 1) * sizeof(b->items[0]));
	b->n--;
}

/* Before sending items whose last attempt has an unknown outcome, look for
 * that attempt at the provider: found means sent. Returns false when the batch
 * must not be sent now (it waits, or Redis failed: *recorded says which). */
static bool verify_batch(struct sender *sd, struct batch *b, const struct channel *ch, bool *recorded)
{
	const char *refs[OUTBOX_BUNDLE_MAX * 8];
	char copies[OUTBOX_BUNDLE_MAX][OUTBOX_REFS_MAX], why[256] = "", q[300];
	size_t owner_of[ARRAY_LEN(refs)], n = 0;
	bool found[ARRAY_LEN(refs)], unknown = false;
	int64_t since = INT64_MAX, unknown_since = INT64_MAX, retry_ms = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		char *save = NULL;
		if (!it->unknown_ms)
			continue;
		unknown = true;
		if (it->first_ms && it->first_ms < since)
			since = it->first_ms;
		if (it->unknown_ms < unknown_since)
			unknown_since = it->unknown_ms;
		wk_strlcpy(copies[i], it->refs, sizeof(copies[i]));
		for (char *t = strtok_r(copies[i], ",", &save); t && n < ARRAY_LEN(refs); t = strtok_r(NULL, ",", &save)) {
			owner_of[n] = i;
			refs[n++] = t;
		}
	}
	if (!unknown || !ch->verify)
		return true;	/* nothing to look for, or no way to (email: at-least-once) */
	if (since == INT64_MAX)
		since = unknown_since;
	if (!outbox_hold_ok(sd)) {
		*recorded = false;	/* the marks may be someone else's by now: hands off */
		return false;
	}
	if (ch->verify(outbox.cfg, sd->store, b, since, refs, n, found, why, sizeof(why), &retry_ms) == 0) {
		bool was_found[OUTBOX_BUNDLE_MAX] = { false };
		for (size_t k = 0; k < n; k++)
			if (found[k])
				was_found[owner_of[k]] = true;
		for (size_t i = b->n; i-- > 0;) {
			struct item *it = &b->items[i];
			if (!it->unknown_ms)
				continue;
			if (was_found[i]) {
				/* The earlier attempt arrived: this one sends nothing. */
				log_info("notify.verified", "org=%s notification=%s channel=%s outcome=found",
					 it->org, it->id, it->channel);
				metrics_outbound(it->channel, "sent");
				*recorded &= finish(sd, it, "sent", "found at the provider after an unknown outcome",
						    "clear", true);
				batch_remove(b, i);
			} else {
				log_info("notify.verified", "org=%s notification=%s channel=%s outcome=not_found",
					 it->org, it->id, it->channel);
				it->unknown_ms = 0;
			}
		}
		return b->n > 0;
	}
	if (wk_now_ms() - unknown_since < outbox.cfg->notify_verify_max_wait_s * 1000) {
		/* Could not look (rate limited, Slack down): look again shortly. */
		log_warn("notify.verify_failed", "org=%s notification=%s channel=%s why=%s", b->items[0].org,
			 b->items[0].id, ch->name, log_quote(q, sizeof(q), why));
		if (retry_ms < 2000)
			retry_ms = 2000;
		for (size_t i = 0; i < b->n; i++) {
			const struct item *it = &b->items[i];
			*recorded &= finish(sd, it, "retry", why, "keep", true) &&
				     wait_turn(sd, it->org, it->id, retry_ms);
		}
		return false;
	}
	/* A duplicate page beats a lost one: send, and count it. */
	for (size_t i = 0; i < b->n; i++) {
		if (!b->items[i].unknown_ms)
			continue;
		metrics_notify_unverified();
		log_warn("notify.unverified", "org=%s notification=%s channel=%s note=\"could not check for %llds; "
			 "sending again\" why=%s", b->items[i].org, b->items[i].id, ch->name,
			 (long long)outbox.cfg->notify_verify_max_wait_s, log_quote(q, sizeof(q), why));
		b->items[i].unknown_ms = 0;
	}
	return true;
}

/* The courier's guard for a sender's calls (courier_guard_set()): asked on
 * the courier thread right before each request leaves. */
static bool sender_guard(void *arg)
{
	return outbox_hold_ok(arg);
}

/* Everything the claim took, sent as one message, then each one's outcome.
 * False when an outcome could not be recorded (or must not be: the lease was
 * lost), so the stream entry stays pending. */
static bool send_batch(struct sender *sd, struct batch *b, const struct channel *ch)
{
	char why[256] = "", q[300];
	bool recorded = true;
	int64_t retry_ms = 0;
	size_t ci = (size_t)(ch - outbox_channels);
	bool bounded = ch->in_flight(outbox.cfg) > 0;

	if (!verify_batch(sd, b, ch, &recorded))
		return recorded;
	batch_ids(b);
	if (!outbox_hold_ok(sd)) {
		/* The lease may have passed to another instance: start nothing; the
		 * taker looks for (and sends) it. */
		log_warn("notify.lease_lost", "org=%s notification=%s note=\"not sending\"", b->items[0].org,
			 b->items[0].id);
		return false;
	}
	if (bounded)
		while (sem_wait(&outbox.slots[ci]) != 0)
			;	/* EINTR */
	/* Checked again right before each request leaves: this thread may stall
	 * (a frozen process, a slow conversations.open) between here and the post. */
	courier_guard_set(sender_guard, sd);
	enum send_outcome o = outbox_previewed(outbox.cfg, ch->name)
				      ? outbox_show_batch(outbox.cfg, sd->store, b, ch, why, sizeof(why))
				      : ch->send(outbox.cfg, sd->store, b, why, sizeof(why), &retry_ms);
	courier_guard_set(NULL, NULL);
	if (bounded)
		sem_post(&outbox.slots[ci]);
	/* The call is over; the outcomes below are fenced by the owner anyway. */
	outbox_hold_release(sd);

	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		metrics_outbound(it->channel, o == SEND_SENT ? "sent" : o == SEND_SHOWN ? "shown"
					      : o == SEND_PERMANENT ? "failed" : "retry");
		if (o == SEND_SHOWN) {
			recorded &= finish(sd, it, "shown", why, "clear", false);
			continue;
		}
		if (o == SEND_SENT) {
			recorded &= finish(sd, it, "sent", "", "clear", false);
			log_info("notify.sent", "org=%s notification=%s channel=%s attempts=%lld bundle=%zu",
				 it->org, it->id, it->channel, (long long)it->attempts, b->n);
			continue;
		}
		log_warn("notify.attempt", "org=%s notification=%s channel=%s attempt=%lld outcome=%s why=%s",
			 it->org, it->id, it->channel, (long long)it->attempts,
			 o == SEND_RETRY ? "retry" : o == SEND_UNKNOWN ? "unknown" : "permanent",
			 log_quote(q, sizeof(q), why));
		if (o == SEND_UNKNOWN && it->attempts <= OUTBOX_MAX_ATTEMPTS) {
			/* The provider may have it: the next attempt looks first, a little
			 * later, when the provider has settled. */
			recorded &= finish(sd, it, "retry", why, "set", false) &&
				    wait_turn(sd, it->org, it->id, retry_ms > 2000 ? retry_ms : 2000);
			continue;
		}
		if (o == SEND_RETRY && it->attempts < OUTBOX_MAX_ATTEMPTS) {
			/* 2 s, 4 s, 8 s, 16 s with up to 50 % jitter, through a durable
			 * timer; longer when the provider said Retry-After. */
			unsigned seed = (unsigned)wk_mono_us() ^ (unsigned)i;
			int64_t delay = 1000LL << it->attempts;
			delay += (int64_t)(rand_r(&seed) % (unsigned)(delay / 2 + 1));
			if (retry_ms > delay)
				delay = retry_ms;
			recorded &= finish(sd, it, "retry", why, "clear", false) &&
				    wait_turn(sd, it->org, it->id, delay);
			continue;
		}
		recorded &= finish(sd, it, "failed", why, "clear", false) && fall_back(sd, it);
	}
	return recorded;
}

/* One stream entry (or timer) for notification id. Returns whether its fate is
 * recorded in Redis (sent, failed, waiting on a timer, or nothing to do); when
 * not, the caller leaves the stream entry unacknowledged, so it is retried. */
bool outbox_attempt(struct sender *sd, const char *org, const char *id)
{
	bool recorded = false;
	char key[192], now[24], lease[16], prefix[160], bundle[8], refmax[8];
	redisReply *r;
	const struct channel *ch;
	int64_t claimed_ms = wk_now_ms();

	if (!org_member_id_valid(id) || org_key(key, sizeof(key), org, "notification:%s", id) < 0 ||
	    org_key(prefix, sizeof(prefix), org, "%s", "") < 0)
		return true;	/* not ours to send */
	snprintf(now, sizeof(now), "%lld", (long long)claimed_ms);
	snprintf(lease, sizeof(lease), "%lld", (long long)outbox.lease_ms);
	snprintf(bundle, sizeof(bundle), "%d", OUTBOX_BUNDLE_MAX);
	snprintf(refmax, sizeof(refmax), "%d", OUTBOX_REFS_MAX - 1);
	const char *keys[] = { key };
	const char *args[] = { now, lease, sd->owner, prefix, bundle, outbox.limits, refmax };
	r = store_script(sd->store, &claim_script, 1, keys, 7, args);
	if (!r || r->type != REDIS_REPLY_ARRAY || !r->elements || r->element[0]->type != REDIS_REPLY_STRING) {
		if (r)
			freeReplyObject(r);
		return false;
	}
	const char *verdict = r->element[0]->str;
	int64_t ms = 0;
	bool has_ms = r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING &&
		      wk_parse_i64(r->element[1]->str, 0, INT64_MAX, &ms);
	if (strcmp(verdict, "go") == 0 && store_wait_replicas(sd->store) < 0) {
		/* redis.wait_replicas: a claim a failover could lose is not acted
		 * on; its lease runs out and it is claimed again. */
		log_warn("outbox.claim_unreplicated", "error=\"%s\"", store_error(sd->store));
	} else if (strcmp(verdict, "go") == 0 && r->elements >= 2 && r->element[1]->type == REDIS_REPLY_STRING) {
		struct batch *b = xcalloc(1, sizeof(*b));
		bool loaded = true;
		wk_strlcpy(b->ref, r->element[1]->str, sizeof(b->ref));
		for (size_t i = 2; i < r->elements && b->n < OUTBOX_BUNDLE_MAX; i++) {
			if (r->element[i]->type != REDIS_REPLY_STRING ||
			    load_item(sd->store, org, r->element[i]->str, &b->items[b->n]) < 0)
				loaded = false;	/* it stays `sending` until its lease ends */
			else
				b->n++;
		}
		outbox_hold_batch(sd, org, b, claimed_ms);
		/* The claim only takes channels named in outbox.limits: all in the table. */
		ch = b->n ? outbox_channel_find(b->items[0].channel) : NULL;
		recorded = (ch ? send_batch(sd, b, ch) : true) && loaded;
		outbox_hold_release(sd);
		free(b);
	} else if (strcmp(verdict, "wait") == 0 && has_ms) {
		/* Too soon after the last one for this person, or over the provider's
		 * rate: come back at its turn; what piles up meanwhile goes with it. */
		recorded = wait_turn(sd, org, id, ms);
	} else if (strcmp(verdict, "busy") == 0 && has_ms) {
		/* Someone else is sending it (maybe inside a bundle): look again when
		 * their lease ends, so a sender that died mid-bundle loses nothing. */
		recorded = wait_turn(sd, org, id, ms + 200);
	} else {
		/* done or gone: nothing to do; unknown: leave the entry pending for an
		 * instance that knows the channel. */
		recorded = strcmp(verdict, "unknown") != 0;
	}
	freeReplyObject(r);
	return recorded;
}
