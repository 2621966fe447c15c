/* timers.h - durable timers in Redis: "do X at instant T", claimed by exactly
 * one instance at a time, surviving crashes and restarts.
 *
 * Timers are data, not sleeps (DESIGN.md "State in Redis"). One queue serves
 * every org, so an instance finds all due work with one range query:
 *
 *   wk:{timers}              zset  timer id -> due ms (waiting to be claimed)
 *   wk:{timers}:leased       zset  timer id -> lease_until ms (claimed, running)
 *   wk:{timers}:t:<id>       hash  kind org payload due_ms attempts fence
 *                                  lease_owner lease_until
 *
 * These keys are global on purpose (not per org). They share the hash tag
 * {timers}, so the scripts below may touch all three in one atomic step; in
 * Redis Cluster the whole queue therefore lives in one slot on one node. That
 * node sees one small script per engine tick per instance, which is far below
 * what one Redis does; an org's own keys stay spread over the cluster.
 *
 * Life of a timer:
 *   timer_schedule()  creates it, or moves it when the id exists (same id = same
 *                     timer: never a duplicate). Scheduling it again with the
 *                     same kind, org, payload and due is a no-op, so a timer a
 *                     holder is running is not taken away from it for nothing.
 *   timer_claim()     atomically takes due timers and leases them to one owner
 *                     until now + lease. Each claim increments the timer's
 *                     `fence` and returns it (a fencing token).
 *   timer_done()      deletes it, timer_reschedule_after() re-arms it, and
 *                     timer_retry() puts it back after a failure; all three
 *                     act only while the caller's fence is still the timer's
 *                     fence. A holder that was too slow (its lease expired and
 *                     someone else claimed the timer) or whose timer was
 *                     re-scheduled meanwhile gets 0 and changes nothing.
 *   An expired lease (the holder crashed or hung) returns the timer to the due
 *   set inside the next timer_claim() by any instance, with attempts + 1. After
 *   TIMER_MAX_ATTEMPTS the timer is dropped: logged at error with its id and
 *   kind, and counted in /metrics as
 *   watchkeeper_commands_total{command="engine",subcommand=<kind>,outcome="dropped"}.
 *   Except escalation steps (kind inc_step): a dropped step is a page nobody
 *   gets, so they keep coming back at the engine's capped backoff however many
 *   attempts fail, and the incident shows since when (escalation.h).
 *
 * Clock: claims and leases are judged by Redis's clock (TIME), so an instance
 * whose own clock runs ahead or behind never fires a timer early or late. Due
 * instants are wall-clock ms: absolute ones (a handoff at Monday 09:00) as is,
 * relative ones (an escalation step 5 minutes from now) made from Redis's
 * clock too (timer_schedule_in, wk_now in scripts). The engine follows
 * Redis's clock (engine_now_ms). Test builds read an offset for that clock
 * from wk:{timers}:test_clock_offset_ms; release builds have no such hook.
 *
 * Ids: 1..TIMER_ID_MAX-1 bytes of [A-Za-z0-9:._-] (e.g. "handoff:slack:T0:default").
 * kind: 1..TIMER_KIND_MAX-1 bytes of [a-z0-9_]. org: an org id (bot/org.h).
 * payload: any text up to TIMER_PAYLOAD_MAX-1 bytes, handed back as is.
 *
 * Thread: callers pass their own store. Errors: -1 = invalid argument or the
 * store failed (nothing changed, or the script did not run). */
#ifndef WK_TIMERS_H
#define WK_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/store.h"

#define TIMER_ID_MAX 160
#define TIMER_KIND_MAX 32
#define TIMER_ORG_MAX 80
#define TIMER_PAYLOAD_MAX 512
#define TIMER_OWNER_MAX 128
/* Expired leases (not handler failures) and timer_retry() calls a timer
 * survives; the next one drops it. */
#define TIMER_MAX_ATTEMPTS 10
/* The most timers one timer_claim() takes. */
#define TIMER_CLAIM_MAX 32

struct timer_claim {
	char id[TIMER_ID_MAX];
	char kind[TIMER_KIND_MAX];
	char org[TIMER_ORG_MAX];
	char payload[TIMER_PAYLOAD_MAX];
	int64_t due_ms;		/* the instant it was scheduled for (unchanged by retries) */
	int64_t attempts;	/* earlier runs that did not finish (0 on the first) */
	int64_t fence;		/* pass back to done/reschedule/retry */
};

bool timer_id_valid(const char *id);

/* Create or move timer id. 0 done (or already exactly so), -1 on a bad
 * argument or store failure. A holder of the old timer loses it (its fence no
 * longer matches). */
int timer_schedule(struct store *s, const char *id, const char *kind, const char *org,
		   const char *payload, int64_t due_ms);
/* Create or move timer id to delay_ms after now by Redis's clock: a delay is
 * a delay even on an instance whose own clock is off. 0 or -1. */
int timer_schedule_in(struct store *s, const char *id, const char *kind, const char *org,
		      const char *payload, int64_t delay_ms);
/* Like timer_schedule(), but leaves an existing timer of that id (due or
 * leased) untouched. 1 created, 0 it existed, -1 failure. */
int timer_schedule_nx(struct store *s, const char *id, const char *kind, const char *org,
		      const char *payload, int64_t due_ms);
/* Delete it, leased or not. 0 (also when there was none), -1 failure. */
int timer_cancel(struct store *s, const char *id);

/* Take up to max (<= TIMER_CLAIM_MAX) timers due at or before Redis's now,
 * oldest first, leasing each to owner until now + lease_ms. First, in the same
 * atomic step, timers whose lease ran out go back to the due set (or are
 * dropped after TIMER_MAX_ATTEMPTS; logged and counted here), except kinds
 * that must never be dropped (escalation steps), which keep coming back.
 * out must hold max entries; *n is how many were claimed; *redis_now_ms is
 * the instant the claim was judged at; *next_ms (when not NULL) the earliest
 * instant anything may need the engine after this claim (the first due timer
 * or expiring lease), 0 when nothing waits: the engine's sleep needs no
 * second round trip. 0 or -1. */
int timer_claim(struct store *s, const char *owner, int64_t lease_ms, size_t max, struct timer_claim *out,
		size_t *n, int64_t *redis_now_ms, int64_t *next_ms);

/* Fenced: 1 done, 0 stale (the fence moved on: someone else owns the timer
 * now, or it was re-scheduled or cancelled), -1 failure. */
int timer_done(struct store *s, const char *id, int64_t fence);
/* timer_done() for up to TIMER_CLAIM_MAX timers in one round trip:
 * result[i] is 1 or 0 for done[i] as timer_done() would say. 0, or -1 on a
 * bad id or store failure (then none was finished). */
int timer_done_many(struct store *s, const struct timer_claim *const *done, size_t n, int *result);
/* Fire-and-rearm in one step: the timer becomes due at next_due_ms with a new
 * payload (NULL keeps it), attempts back to 0. */
int timer_reschedule_after(struct store *s, const char *id, int64_t fence, int64_t next_due_ms,
			   const char *payload);
/* The holder failed: the timer becomes claimable again at retry_at_ms with
 * attempts + 1, keeping its due_ms (effects keyed by due_ms stay idempotent).
 * 1 queued again, 2 dropped (attempts exhausted; logged and counted here),
 * 0 stale, -1 failure. */
int timer_retry(struct store *s, const char *id, int64_t fence, int64_t retry_at_ms);
/* The holder gives the timer back unrun (shutting down): due again at once,
 * attempts unchanged. 1, 0 stale, -1 failure. */
int timer_release(struct store *s, const char *id, int64_t fence);

/* The holder is still at it: extend the leases of held[0..n) (ids and fences
 * as claimed) to lease_until_ms, each only while it is still leased to owner
 * under that fence. Returns how many were extended, -1 on store failure. */
int timer_renew(struct store *s, const char *owner, const struct timer_claim *held, size_t n,
		int64_t lease_until_ms);

/* The earliest instant anything may need the engine: the first due timer or
 * the first lease to expire. 0 with *due_ms set, 1 nothing scheduled, -1. */
int timer_next_due(struct store *s, int64_t *due_ms);

/* The due instant of timer id (as scheduled, not a retry's). 0 found, 1 no
 * such timer, -1 failure. */
int timer_due(struct store *s, const char *id, int64_t *due_ms);

/* The same operations as Lua functions, for a script that must arm, move or
 * cancel a timer in the same atomic step as the state change it belongs to
 * (an incident's escalation step): use as a store_script prelude. The caller
 * validates id, kind, org and payload as timer_schedule() does.
 *   wk_now()                                        Redis's clock, ms (see Clock)
 *   wk_timer_schedule(id, kind, org, payload, due_ms) -> 1 written, 0 unchanged
 *     (due_ms a number or a decimal string)
 *   wk_timer_cancel(id)
 *   wk_timer_wake_if_first(id)   wake every engine when id is the earliest timer
 * A timer that becomes the earliest one wakes every engine (the wake stream):
 * scheduled, re-armed, retried or given back alike, since engines wait on
 * that stream (up to ENGINE_MAX_SLEEP_MS) rather than look every second.
 * They touch the global {timers} keys: such a script is not Redis Cluster
 * safe, which DESIGN.md accepts ("Scaling past one machine"). */
#ifdef WK_TEST_HOOKS
/* Test builds only: tests move Redis's clock for the timers with this key. */
#define TIMERS_TEST_OFFSET_LUA " + (tonumber(redis.call('GET', 'wk:{timers}:test_clock_offset_ms')) or 0)"
#else
#define TIMERS_TEST_OFFSET_LUA ""
#endif
#define TIMERS_WAKE_KEY "wk:{timers}:wake"
/* Redis's clock in ms as a Lua expression, for scripts with another prelude. */
#define TIMERS_NOW_EXPR \
	"(function() local t = redis.call('TIME') " \
	"return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)" TIMERS_TEST_OFFSET_LUA " end)()"
#define TIMERS_LUA \
	"local function wk_now() return " TIMERS_NOW_EXPR " end\n" \
	/* The earliest now: engines waiting until a later one must look again. */ \
	"local function wk_timer_wake_if_first(id)\n" \
	"  local first = redis.call('ZRANGE', 'wk:{timers}', 0, 0)\n" \
	"  if first[1] == id then\n" \
	"    redis.call('XADD', '" TIMERS_WAKE_KEY "', 'MAXLEN', '~', 100, '*', 't', id)\n" \
	"  end\n" \
	"end\n" \
	"local function wk_timer_schedule(id, kind, org, payload, due)\n" \
	"  due = string.format('%d', tonumber(due))\n" \
	"  local h = 'wk:{timers}:t:' .. id\n" \
	"  if redis.call('EXISTS', h) == 1 then\n" \
	"    local v = redis.call('HMGET', h, 'kind', 'org', 'payload', 'due_ms')\n" \
	"    if v[1] == kind and v[2] == org and v[3] == payload and v[4] == due then\n" \
	"      return 0\n" \
	"    end\n" \
	/* Whoever holds the old timer must not finish or re-arm the new one. */ \
	"    redis.call('HINCRBY', h, 'fence', 1)\n" \
	"  end\n" \
	"  redis.call('HSET', h, 'kind', kind, 'org', org, 'payload', payload, 'due_ms', due, 'attempts', 0)\n" \
	"  redis.call('HDEL', h, 'lease_owner', 'lease_until')\n" \
	"  redis.call('ZREM', 'wk:{timers}:leased', id)\n" \
	"  redis.call('ZADD', 'wk:{timers}', due, id)\n" \
	"  wk_timer_wake_if_first(id)\n" \
	"  return 1\n" \
	"end\n" \
	"local function wk_timer_cancel(id)\n" \
	"  redis.call('DEL', 'wk:{timers}:t:' .. id)\n" \
	"  redis.call('ZREM', 'wk:{timers}', id)\n" \
	"  redis.call('ZREM', 'wk:{timers}:leased', id)\n" \
	"end\n"

/* "hostname:pid:8 random hex" into out (>= TIMER_OWNER_MAX), for leases and logs. */
void timer_owner_make(char *out, size_t size);

#endif
