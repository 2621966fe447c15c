/* timers.c - see timers.h
 *
 * Every change is one Lua script, so two instances racing for the same timer
 * see either all of a claim or none of it. Numbers travel into the scripts as
 * decimal strings made here and are stored as given: Lua's numbers are
 * doubles, and how Redis prints one back into a string changed between
 * versions, so scripts never format a number themselves (HINCRBY does the
 * counting). */
#include "bot/timers.h"
#include "bot/crypto.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define K_DUE "wk:{timers}"
#define K_LEASED "wk:{timers}:leased"
#define K_PREFIX "wk:{timers}:t:"
/* Kinds never dropped after TIMER_MAX_ATTEMPTS: a lost escalation step is a
 * page nobody gets. They keep retrying at the engine's capped backoff. */
#define UNDROPPABLE ",inc_step,"

static bool charset_ok(const char *s, size_t max, const char *extra, bool upper)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (n + 1 >= max)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (upper && c >= 'A' && c <= 'Z') ||
		      strchr(extra, c)))
			return false;
	}
	return n > 0;
}

bool timer_id_valid(const char *id)
{
	return charset_ok(id, TIMER_ID_MAX, ":._-", true);
}

static bool kind_valid(const char *kind)
{
	return charset_ok(kind, TIMER_KIND_MAX, "_", false);
}

static int hash_key(char *out, size_t size, const char *id)
{
	int n;

	if (!timer_id_valid(id))
		return -1;
	n = snprintf(out, size, K_PREFIX "%s", id);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void dropped(const char *id, const char *kind, const char *org, long long attempts)
{
	char q[TIMER_ID_MAX + 8];

	log_error("timer.dropped", "id=%s kind=%s org=%s attempts=%lld",
		  log_quote(q, sizeof(q), id), kind[0] ? kind : "-", org[0] ? org : "-", attempts);
	metrics_command("engine", kind[0] ? kind : "unknown", "dropped", 0);
}

/* ---- schedule / cancel ---- */

static const struct store_script schedule_script = {
	"timer_schedule",
	/* KEYS: due, leased, hash (the same keys wk_timer_schedule derives). ARGV:
	 * id, kind, org, payload, due_ms, nx ("1" = keep an existing timer).
	 * Returns 1 written, 0 left as it was. */
	"if ARGV[6] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end\n"
	"return wk_timer_schedule(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])\n",
	TIMERS_LUA
};

static int schedule(struct store *s, const char *id, const char *kind, const char *org,
		    const char *payload, int64_t due_ms, bool nx)
{
	char kh[TIMER_ID_MAX + 32], due[24];
	redisReply *r;
	int rc = -1;

	if (hash_key(kh, sizeof(kh), id) < 0 || !kind_valid(kind) || !org || !org[0] ||
	    strlen(org) >= TIMER_ORG_MAX || !payload || strlen(payload) >= TIMER_PAYLOAD_MAX ||
	    due_ms < 0) {
		log_error("timer.invalid", "op=schedule kind=%s", kind_valid(kind) ? kind : "-");
		return -1;
	}
	snprintf(due, sizeof(due), "%lld", (long long)due_ms);
	const char *keys[] = { K_DUE, K_LEASED, kh };
	const char *args[] = { id, kind, org, payload, due, nx ? "1" : "0" };
	r = store_script(s, &schedule_script, 3, keys, 6, args);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = (int)r->integer;
	if (r)
		freeReplyObject(r);
	return rc;
}

int timer_schedule(struct store *s, const char *id, const char *kind, const char *org,
		   const char *payload, int64_t due_ms)
{
	return schedule(s, id, kind, org, payload, due_ms, false) < 0 ? -1 : 0;
}

int timer_schedule_nx(struct store *s, const char *id, const char *kind, const char *org,
		      const char *payload, int64_t due_ms)
{
	return schedule(s, id, kind, org, payload, due_ms, true);
}

static const struct store_script schedule_in_script = {
	"timer_schedule_in",
	/* ARGV: id, kind, org, payload, delay ms. Due at Redis's now + delay. */
	"return wk_timer_schedule(ARGV[1], ARGV[2], ARGV[3], ARGV[4], wk_now() + tonumber(ARGV[5]))\n",
	TIMERS_LUA
};

int timer_schedule_in(struct store *s, const char *id, const char *kind, const char *org,
		      const char *payload, int64_t delay_ms)
{
	char kh[TIMER_ID_MAX + 32], delay[24];
	redisReply *r;
	int rc = -1;

	if (hash_key(kh, sizeof(kh), id) < 0 || !kind_valid(kind) || !org || !org[0] ||
	    strlen(org) >= TIMER_ORG_MAX || !payload || strlen(payload) >= TIMER_PAYLOAD_MAX)
		return -1;
	snprintf(delay, sizeof(delay), "%lld", (long long)delay_ms);
	const char *args[] = { id, kind, org, payload, delay };
	r = store_script(s, &schedule_in_script, 0, NULL, 5, args);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = 0;
	if (r)
		freeReplyObject(r);
	return rc;
}

static const struct store_script cancel_script = {
	"timer_cancel",
	/* KEYS: due, leased, hash. ARGV: id. */
	"wk_timer_cancel(ARGV[1])\n"
	"return 1\n",
	TIMERS_LUA
};

int timer_cancel(struct store *s, const char *id)
{
	char kh[TIMER_ID_MAX + 32];
	redisReply *r;
	int rc = -1;

	if (hash_key(kh, sizeof(kh), id) < 0)
		return -1;
	const char *keys[] = { K_DUE, K_LEASED, kh };
	const char *args[] = { id };
	r = store_script(s, &cancel_script, 3, keys, 1, args);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = 0;
	if (r)
		freeReplyObject(r);
	return rc;
}

/* ---- claim ---- */

static const struct store_script claim_script = {
	"timer_claim",
	/* KEYS: due, leased. ARGV: lease ms, (unused), max, owner, max attempts, hash
	 * prefix, undroppable kinds (",a,b,"). Judged at Redis's now (wk_now).
	 * The hashes are derived from ids; they carry the same {timers} tag, so in
	 * Cluster they are in this script's slot.
	 * Returns {claimed, dropped, returned}: claimed = {{id, kind, org, payload,
	 * due_ms, attempts, fence}...}, dropped = {{id, kind, org, attempts}...},
	 * returned = {{id, previous lease owner, attempts}...}, then now and the
	 * next instant to look (a score as Redis prints it, '' when nothing waits). */
	"local now = wk_now()\n"
	"local lease_until = now + tonumber(ARGV[1])\n"
	"local maxatt = tonumber(ARGV[5])\n"
	"local claimed, dropped, returned = {}, {}, {}\n"
	/* Leases that ran out strictly before now: their holder is gone. A bounded
	 * batch per call; the rest follow on the next tick. */
	"for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now, 'LIMIT', 0, 100)) do\n"
	"  local h = ARGV[6] .. id\n"
	"  redis.call('ZREM', KEYS[2], id)\n"
	"  if redis.call('EXISTS', h) == 1 then\n"
	"    local a = redis.call('HINCRBY', h, 'attempts', 1)\n"
	"    local kind = redis.call('HGET', h, 'kind') or ''\n"
	"    if a >= maxatt and not string.find(ARGV[7], ',' .. kind .. ',', 1, true) then\n"
	"      local v = redis.call('HMGET', h, 'kind', 'org')\n"
	"      dropped[#dropped + 1] = {id, v[1] or '', v[2] or '', a}\n"
	"      redis.call('DEL', h)\n"
	"    else\n"
	"      returned[#returned + 1] = {id, redis.call('HGET', h, 'lease_owner') or '', a}\n"
	"      redis.call('HDEL', h, 'lease_owner', 'lease_until')\n"
	"      redis.call('ZADD', KEYS[1], redis.call('HGET', h, 'due_ms') or now, id)\n"
	"    end\n"
	"  end\n"
	"end\n"
	/* Due ones, oldest first: one ZREM and one ZADD for the whole batch, and
	 * per timer one read and one write of its hash. */
	"local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))\n"
	"if #ids > 0 then\n"
	"  redis.call('ZREM', KEYS[1], unpack(ids))\n"
	"  local lu, leased = string.format('%d', lease_until), {}\n"
	"  for _, id in ipairs(ids) do\n"
	"    local h = ARGV[6] .. id\n"
	"    local v = redis.call('HMGET', h, 'kind', 'org', 'payload', 'due_ms', 'attempts', 'fence')\n"
	"    if v[1] then\n"
	"      local f = (tonumber(v[6]) or 0) + 1\n"
	"      redis.call('HSET', h, 'fence', string.format('%d', f), 'lease_owner', ARGV[4], 'lease_until', lu)\n"
	"      leased[#leased + 1] = lu\n"
	"      leased[#leased + 1] = id\n"
	"      claimed[#claimed + 1] = {id, v[1], v[2] or '', v[3] or '', v[4] or '0', v[5] or '0', f}\n"
	"    end\n"
	"  end\n"
	"  if #leased > 0 then redis.call('ZADD', KEYS[2], unpack(leased)) end\n"
	"end\n"
	/* When the engine must look again: the first due timer or expiring lease. */
	"local next = ''\n"
	"for _, k in ipairs(KEYS) do\n"
	"  local f = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')\n"
	"  if f[2] and (next == '' or tonumber(f[2]) < tonumber(next)) then next = f[2] end\n"
	"end\n"
	"return {claimed, dropped, returned, string.format('%d', now), next}\n",
	TIMERS_LUA
};

static const char *elem_str(const redisReply *r, size_t i)
{
	return i < r->elements && r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "";
}

static long long elem_int(const redisReply *r, size_t i)
{
	int64_t v = 0;

	if (i >= r->elements)
		return 0;
	if (r->element[i]->type == REDIS_REPLY_INTEGER)
		return r->element[i]->integer;
	if (r->element[i]->type == REDIS_REPLY_STRING)
		wk_parse_i64(r->element[i]->str, INT64_MIN, INT64_MAX, &v);
	return v;
}

int timer_claim(struct store *s, const char *owner, int64_t lease_ms, size_t max, struct timer_claim *out,
		size_t *n, int64_t *redis_now_ms, int64_t *next_ms)
{
	char lease[24], maxs[12], maxatt[12];
	redisReply *r;
	int rc = -1;

	*n = 0;
	if (next_ms)
		*next_ms = 0;
	if (max == 0)
		return 0;
	if (max > TIMER_CLAIM_MAX)
		max = TIMER_CLAIM_MAX;
	snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
	snprintf(maxs, sizeof(maxs), "%d", (int)max);
	snprintf(maxatt, sizeof(maxatt), "%d", TIMER_MAX_ATTEMPTS);
	const char *keys[] = { K_DUE, K_LEASED };
	const char *args[] = { lease, "", maxs, owner, maxatt, K_PREFIX, UNDROPPABLE };
	r = store_script(s, &claim_script, 2, keys, 7, args);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[1]->type != REDIS_REPLY_ARRAY ||
	    r->element[2]->type != REDIS_REPLY_ARRAY)
		goto out;
	*redis_now_ms = elem_int(r, 3);
	/* Scores come back as doubles in text ("1.7e+12" is possible). */
	if (next_ms && elem_str(r, 4)[0])
		*next_ms = (int64_t)strtod(elem_str(r, 4), NULL);
	for (size_t i = 0; i < r->element[1]->elements; i++) {
		const redisReply *d = r->element[1]->element[i];
		if (d->type == REDIS_REPLY_ARRAY)
			dropped(elem_str(d, 0), elem_str(d, 1), elem_str(d, 2), elem_int(d, 3));
	}
	/* A lease ran out: its holder crashed or hung. Worth a line, since it is
	 * the only trace such a crash leaves in the timer queue. */
	for (size_t i = 0; i < r->element[2]->elements; i++) {
		const redisReply *e = r->element[2]->element[i];
		char q1[TIMER_ID_MAX + 8], q2[TIMER_OWNER_MAX + 8];
		if (e->type == REDIS_REPLY_ARRAY)
			log_warn("timer.lease_expired", "id=%s owner=%s attempts=%lld",
				 log_quote(q1, sizeof(q1), elem_str(e, 0)), log_quote(q2, sizeof(q2), elem_str(e, 1)),
				 elem_int(e, 2));
	}
	for (size_t i = 0; i < r->element[0]->elements && *n < max; i++) {
		const redisReply *c = r->element[0]->element[i];
		struct timer_claim *t = &out[*n];

		if (c->type != REDIS_REPLY_ARRAY || c->elements != 7)
			continue;
		memset(t, 0, sizeof(*t));
		/* Values were validated on the way in; a truncation here would mean a
		 * hand-edited hash, and the handler then refuses the payload. */
		wk_strlcpy(t->id, elem_str(c, 0), sizeof(t->id));
		wk_strlcpy(t->kind, elem_str(c, 1), sizeof(t->kind));
		wk_strlcpy(t->org, elem_str(c, 2), sizeof(t->org));
		wk_strlcpy(t->payload, elem_str(c, 3), sizeof(t->payload));
		t->due_ms = elem_int(c, 4);
		t->attempts = elem_int(c, 5);
		t->fence = elem_int(c, 6);
		(*n)++;
	}
	rc = 0;
out:
	if (r)
		freeReplyObject(r);
	return rc;
}

/* ---- fenced endings ---- */

static const struct store_script done_script = {
	"timer_done",
	/* KEYS: due, leased, hash. ARGV: id, fence. */
	"if redis.call('HGET', KEYS[3], 'fence') ~= ARGV[2] then return 0 end\n"
	"redis.call('DEL', KEYS[3])\n"
	"redis.call('ZREM', KEYS[1], ARGV[1])\n"
	"redis.call('ZREM', KEYS[2], ARGV[1])\n"
	"return 1\n",
	NULL
};

/* Re-armed and retried timers wake the engines too when they become the
 * earliest: engines wait on the wake stream, not on a clock tick. */
static const struct store_script rearm_script = {
	"timer_reschedule_after",
	/* KEYS: due, leased, hash. ARGV: id, fence, next due, payload, keep payload ("1"). */
	"if redis.call('HGET', KEYS[3], 'fence') ~= ARGV[2] then return 0 end\n"
	"redis.call('HSET', KEYS[3], 'due_ms', ARGV[3], 'attempts', 0)\n"
	"if ARGV[5] ~= '1' then redis.call('HSET', KEYS[3], 'payload', ARGV[4]) end\n"
	"redis.call('HDEL', KEYS[3], 'lease_owner', 'lease_until')\n"
	"redis.call('ZREM', KEYS[2], ARGV[1])\n"
	"redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])\n"
	"wk_timer_wake_if_first(ARGV[1])\n"
	"return 1\n",
	TIMERS_LUA
};

static const struct store_script retry_script = {
	"timer_retry",
	/* KEYS: due, leased, hash. ARGV: id, fence, when, count ("1" = a failure), max attempts,
	 * undroppable kinds. Returns {0} stale, {1} queued, {2, kind, org, attempts} dropped. */
	"if redis.call('HGET', KEYS[3], 'fence') ~= ARGV[2] then return {0} end\n"
	"redis.call('ZREM', KEYS[2], ARGV[1])\n"
	"if ARGV[4] == '1' then\n"
	"  local a = redis.call('HINCRBY', KEYS[3], 'attempts', 1)\n"
	"  local kind = redis.call('HGET', KEYS[3], 'kind') or ''\n"
	"  if a >= tonumber(ARGV[5]) and not string.find(ARGV[6], ',' .. kind .. ',', 1, true) then\n"
	"    local v = redis.call('HMGET', KEYS[3], 'kind', 'org')\n"
	"    redis.call('DEL', KEYS[3])\n"
	"    redis.call('ZREM', KEYS[1], ARGV[1])\n"
	"    return {2, v[1] or '', v[2] or '', a}\n"
	"  end\n"
	"end\n"
	"redis.call('HDEL', KEYS[3], 'lease_owner', 'lease_until')\n"
	"redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])\n"
	"wk_timer_wake_if_first(ARGV[1])\n"
	"return {1}\n",
	TIMERS_LUA
};

static redisReply *fenced(struct store *s, const struct store_script *script, const char *id,
			  int64_t fence, int nextra, const char *const *extra)
{
	char kh[TIMER_ID_MAX + 32], f[24];
	const char *args[7];

	if (hash_key(kh, sizeof(kh), id) < 0 || nextra > 4)
		return NULL;
	snprintf(f, sizeof(f), "%lld", (long long)fence);
	args[0] = id;
	args[1] = f;
	for (int i = 0; i < nextra; i++)
		args[2 + i] = extra[i];
	const char *keys[] = { K_DUE, K_LEASED, kh };
	return store_script(s, script, 3, keys, 2 + nextra, args);
}

static int int_result(redisReply *r)
{
	int rc = r && r->type == REDIS_REPLY_INTEGER ? (int)r->integer : -1;

	if (r)
		freeReplyObject(r);
	return rc;
}

int timer_done(struct store *s, const char *id, int64_t fence)
{
	return int_result(fenced(s, &done_script, id, fence, 0, NULL));
}

static const struct store_script done_many_script = {
	"timer_done_many",
	/* KEYS: due, leased. ARGV: hash prefix, then id, fence pairs. Returns one
	 * 1 (done) or 0 (stale) per pair. */
	"local out, gone = {}, {}\n"
	"for i = 2, #ARGV, 2 do\n"
	"  local h = ARGV[1] .. ARGV[i]\n"
	"  if redis.call('HGET', h, 'fence') == ARGV[i + 1] then\n"
	"    redis.call('DEL', h)\n"
	"    gone[#gone + 1] = ARGV[i]\n"
	"    out[#out + 1] = 1\n"
	"  else\n"
	"    out[#out + 1] = 0\n"
	"  end\n"
	"end\n"
	"if #gone > 0 then\n"
	"  redis.call('ZREM', KEYS[1], unpack(gone))\n"
	"  redis.call('ZREM', KEYS[2], unpack(gone))\n"
	"end\n"
	"return out\n",
	NULL
};

int timer_done_many(struct store *s, const struct timer_claim *const *done, size_t n, int *result)
{
	char fences[TIMER_CLAIM_MAX][24];
	const char *args[1 + 2 * TIMER_CLAIM_MAX];
	const char *keys[] = { K_DUE, K_LEASED };
	int nargs = 0, rc = -1;
	redisReply *r;

	if (n == 0)
		return 0;
	if (n > TIMER_CLAIM_MAX)
		return -1;
	args[nargs++] = K_PREFIX;
	for (size_t i = 0; i < n; i++) {
		if (!timer_id_valid(done[i]->id))
			return -1;
		snprintf(fences[i], sizeof(fences[i]), "%lld", (long long)done[i]->fence);
		args[nargs++] = done[i]->id;
		args[nargs++] = fences[i];
	}
	r = store_script(s, &done_many_script, 2, keys, nargs, args);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == n) {
		for (size_t i = 0; i < n; i++)
			result[i] = (int)elem_int(r, i);
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

int timer_reschedule_after(struct store *s, const char *id, int64_t fence, int64_t next_due_ms,
			   const char *payload)
{
	char due[24];

	if (payload && strlen(payload) >= TIMER_PAYLOAD_MAX)
		return -1;
	snprintf(due, sizeof(due), "%lld", (long long)next_due_ms);
	const char *extra[] = { due, payload ? payload : "", payload ? "0" : "1" };
	return int_result(fenced(s, &rearm_script, id, fence, 3, extra));
}

static int retry(struct store *s, const char *id, int64_t fence, int64_t when_ms, bool count)
{
	char when[24], maxatt[12];
	redisReply *r;
	int rc = -1;

	snprintf(when, sizeof(when), "%lld", (long long)when_ms);
	snprintf(maxatt, sizeof(maxatt), "%d", TIMER_MAX_ATTEMPTS);
	const char *extra[] = { when, count ? "1" : "0", maxatt, UNDROPPABLE };
	r = fenced(s, &retry_script, id, fence, 4, extra);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER) {
		rc = (int)r->element[0]->integer;
		if (rc == 2)
			dropped(id, elem_str(r, 1), elem_str(r, 2), elem_int(r, 3));
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

int timer_retry(struct store *s, const char *id, int64_t fence, int64_t retry_at_ms)
{
	return retry(s, id, fence, retry_at_ms, true);
}

int timer_release(struct store *s, const char *id, int64_t fence)
{
	/* Score 0: claimable at once, by anyone. due_ms itself is unchanged. */
	return retry(s, id, fence, 0, false);
}

/* ---- renew ---- */

static const struct store_script renew_script = {
	"timer_renew",
	/* KEYS: leased. ARGV: hash prefix, owner, lease_until, then id, fence pairs.
	 * A lease is extended only while the timer is still leased to owner under
	 * that fence. Returns how many were. */
	"local held = 0\n"
	"for i = 4, #ARGV, 2 do\n"
	"  local h = ARGV[1] .. ARGV[i]\n"
	"  local v = redis.call('HMGET', h, 'fence', 'lease_owner')\n"
	"  if v[1] == ARGV[i + 1] and v[2] == ARGV[2] and redis.call('ZSCORE', KEYS[1], ARGV[i]) then\n"
	"    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[i])\n"
	"    redis.call('HSET', h, 'lease_until', ARGV[3])\n"
	"    held = held + 1\n"
	"  end\n"
	"end\n"
	"return held\n",
	NULL
};

int timer_renew(struct store *s, const char *owner, const struct timer_claim *held, size_t n,
		int64_t lease_until_ms)
{
	char until[24], fences[TIMER_CLAIM_MAX][24];
	const char *args[3 + 2 * TIMER_CLAIM_MAX];
	int nargs = 0;

	if (n > TIMER_CLAIM_MAX)
		n = TIMER_CLAIM_MAX;
	snprintf(until, sizeof(until), "%lld", (long long)lease_until_ms);
	args[nargs++] = K_PREFIX;
	args[nargs++] = owner;
	args[nargs++] = until;
	for (size_t i = 0; i < n; i++) {
		snprintf(fences[i], sizeof(fences[i]), "%lld", (long long)held[i].fence);
		args[nargs++] = held[i].id;
		args[nargs++] = fences[i];
	}
	const char *keys[] = { K_LEASED };
	return int_result(store_script(s, &renew_script, 1, keys, nargs, args));
}

/* ---- next due ---- */

static int first_score(struct store *s, const char *key, int64_t *out)
{
	redisReply *r = store_command(s, "ZRANGE %s 0 0 WITHSCORES", key);
	int rc = -1;

	if (r && r->type == REDIS_REPLY_ARRAY) {
		rc = 1;
		if (r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING) {
			/* Scores come back as doubles in text ("1.7e+12" is possible). */
			*out = (int64_t)strtod(r->element[1]->str, NULL);
			rc = 0;
		}
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

int timer_next_due(struct store *s, int64_t *due_ms)
{
	int64_t a = 0, b = 0;
	int ra = first_score(s, K_DUE, &a), rb;

	if (ra < 0)
		return -1;
	rb = first_score(s, K_LEASED, &b);
	if (rb < 0)
		return -1;
	if (ra == 1 && rb == 1)
		return 1;
	*due_ms = ra == 1 ? b : rb == 1 ? a : (a < b ? a : b);
	return 0;
}

int timer_due(struct store *s, const char *id, int64_t *due_ms)
{
	char kh[TIMER_ID_MAX + 32];
	redisReply *r;
	int rc = -1;

	if (hash_key(kh, sizeof(kh), id) < 0)
		return -1;
	r = store_command(s, "HGET %s due_ms", kh);
	if (r && r->type == REDIS_REPLY_NIL)
		rc = 1;
	else if (r && r->type == REDIS_REPLY_STRING && wk_parse_i64(r->str, 0, INT64_MAX, due_ms))
		rc = 0;
	if (r)
		freeReplyObject(r);
	return rc;
}

void timer_owner_make(char *out, size_t size)
{
	char host[64] = "";
	unsigned char rnd[4] = { 0 };
	char hex[9];

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		wk_strlcpy(host, "unknown", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	/* Only tells apart instances on one host after a pid is reused; a failing
	 * entropy source must not stop the engine, so fall back to the clock. */
	if (crypto_random(rnd, sizeof(rnd)) < 0) {
		uint32_t t = (uint32_t)wk_mono_us();
		memcpy(rnd, &t, sizeof(rnd));
	}
	crypto_hex(rnd, sizeof(rnd), hex);
	snprintf(out, size, "%s:%ld:%s", host, (long)getpid(), hex);
}
