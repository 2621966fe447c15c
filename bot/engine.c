/* engine.c - see engine.h */
#include "bot/engine.h"
#include "bot/escalation.h"
#include "bot/handoff.h"
#include "bot/heartbeat.h"
#include "bot/incident_card.h"
#include "bot/swap.h"
#include "bot/outbox.h"
#include "bot/page.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"
#include "commands/oncall.h"

#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_FIRST_MS 2000
#define BACKOFF_MAX_MS (5 * 60 * 1000)
#define STORE_DOWN_WAIT_MS 1000
#define ENGINE_MIN_SLEEP_MS 1

static const struct {
	const char *kind;
	engine_handler fire;
} handlers[] = {
	{ "handoff", handoff_fire },
	{ "handoff_sweep", handoff_sweep_fire },
	{ "reminder", reminder_fire },
	{ "swap_expire", swap_expire_fire },
	{ "notify_retry", outbox_retry_fire },
	{ "page_step", page_step_fire },
	{ "inc_step", escalation_step_fire },
	{ "inc_audit", escalation_audit_fire },
	{ "inc_card", incident_card_fire },
	{ "me_test", oncall_me_test_fire },
};

static struct {
	pthread_mutex_t lock;	/* held[] */
	struct wk_sleeper sleep;
	pthread_t thread;
	bool started;
	struct store *store;	/* the thread's; engine_stop() interrupts its wait */
	const struct config *cfg;
	int64_t lease_ms;
	char owner[TIMER_OWNER_MAX];
	/* Claimed and not finished yet: the heartbeat renews their leases. */
	struct timer_claim held[TIMER_CLAIM_MAX];
	size_t nheld;
} engine = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- clock ---- */

/* Redis's clock minus ours, as the last claim saw it: timers are judged by
 * Redis's clock, and so is everything the engine's handlers compute. */
static _Atomic int64_t redis_offset_ms;

int64_t engine_now_ms(void)
{
	return wk_now_ms() + atomic_load(&redis_offset_ms);
}

/* The sweep's first run after start; WK_TEST_SWEEP_MS (test only) shortens it
 * and its period. */
static int64_t test_sweep_ms(void)
{
	const char *v = getenv("WK_TEST_SWEEP_MS");
	int64_t ms;

	return v && wk_parse_i64(v, 100, HANDOFF_SWEEP_MS, &ms) ? ms : 0;
}

int64_t engine_sweep_first_ms(void)
{
	int64_t t = test_sweep_ms();
	return t ? t : HANDOFF_SWEEP_FIRST_MS;
}

int64_t engine_sweep_period_ms(void)
{
	int64_t t = test_sweep_ms();
	return t ? t : HANDOFF_SWEEP_MS;
}

/* ---- running one timer ---- */

static engine_handler handler_for(const char *kind)
{
	for (size_t i = 0; i < ARRAY_LEN(handlers); i++)
		if (strcmp(handlers[i].kind, kind) == 0)
			return handlers[i].fire;
	return NULL;
}

static int64_t backoff_ms(int64_t attempts)
{
	int64_t d = BACKOFF_FIRST_MS;

	for (int64_t i = 0; i < attempts && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

/* Runs t and finishes it, except a plain success: that returns true and is
 * left to finish_done(), which deletes a whole batch in one round trip. Until
 * then the timer stays leased (and renewed), so a crash in between only runs
 * it again, which handlers are written to survive. */
static bool run_timer(struct store *s, const struct timer_claim *t)
{
	engine_handler fire = handler_for(t->kind);
	struct engine_ctx ctx = {
		.store = s,
		.cfg = engine.cfg,
		.timer = t,
		.now_ms = engine_now_ms(),
		.owner = engine.owner,
	};
	int64_t t0 = wk_mono_us();
	const char *outcome;
	char q[TIMER_ID_MAX + 8];
	int rc, fin;

	if (t->attempts == 0)
		metrics_timer_lateness(t->kind, ctx.now_ms - t->due_ms);

	log_quote(q, sizeof(q), t->id);
	if (!fire) {
		log_error("engine.unknown_kind", "id=%s kind=%s attempts=%lld", q, t->kind,
			  (long long)t->attempts);
		rc = -1;
	} else {
		rc = fire(&ctx);
	}
	if (rc == 0 && ctx.rearm_ms <= 0) {
		metrics_command("engine", t->kind, "ok", wk_mono_us() - t0);
		return true;
	}
	if (rc == 0) {
		fin = timer_reschedule_after(s, t->id, t->fence, ctx.rearm_ms,
					     ctx.rearm_payload[0] ? ctx.rearm_payload : NULL);
		outcome = "rearmed";
	} else {
		int64_t at = ctx.retry_at_ms > 0 ? ctx.retry_at_ms : engine_now_ms() + backoff_ms(t->attempts);
		fin = timer_retry(s, t->id, t->fence, at);
		outcome = fin == 2 ? "dropped" : "retry";
		if (fin == 1)
			log_warn("engine.retry", "id=%s kind=%s attempts=%lld in_ms=%lld", q, t->kind,
				 (long long)t->attempts + 1, (long long)(at - engine_now_ms()));
	}
	/* 0 = the fence moved on: the handler (or someone) re-scheduled this id,
	 * which is how handoff_fire() arms the next handoff. Not an error. */
	if (fin < 0)
		log_error("engine.finish_failed", "id=%s kind=%s outcome=%s error=\"%s\"", q, t->kind,
			  outcome, store_error(s));
	else
		log_debug("engine.timer", "id=%s kind=%s outcome=%s fence=%lld current=%d", q, t->kind,
			  outcome, (long long)t->fence, fin);
	/* dropped is counted by timers.c, once. */
	if (fin != 2)
		metrics_command("engine", t->kind, rc == 0 ? "ok" : "retry", wk_mono_us() - t0);
	return false;
}

/* The batch run_timer() left: deleted together, each under its own fence (0 =
 * someone re-scheduled it meanwhile, e.g. handoff_fire() arming the next). If
 * Redis fails here, the leases run out and the timers run again. */
static void finish_done(struct store *s, const struct timer_claim *const *done, size_t n)
{
	int result[TIMER_CLAIM_MAX];

	if (n == 0)
		return;
	if (timer_done_many(s, done, n, result) < 0) {
		log_error("engine.finish_failed", "timers=%zu outcome=done error=\"%s\"", n, store_error(s));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char q[TIMER_ID_MAX + 8];
		log_debug("engine.timer", "id=%s kind=%s outcome=done fence=%lld current=%d",
			  log_quote(q, sizeof(q), done[i]->id), done[i]->kind, (long long)done[i]->fence, result[i]);
	}
}

/* ---- leases ---- */

static void hold(const struct timer_claim *claims, size_t n)
{
	pthread_mutex_lock(&engine.lock);
	for (size_t i = 0; i < n; i++)
		engine.held[i] = claims[i];
	engine.nheld = n;
	pthread_mutex_unlock(&engine.lock);
}

/* claims[i] is finished (or given back): no longer renewed. */
static void unhold(const struct timer_claim *t)
{
	pthread_mutex_lock(&engine.lock);
	for (size_t i = 0; i < engine.nheld; i++) {
		if (strcmp(engine.held[i].id, t->id) == 0 && engine.held[i].fence == t->fence) {
			engine.held[i] = engine.held[--engine.nheld];
			break;
		}
	}
	pthread_mutex_unlock(&engine.lock);
}

/* Heartbeat thread: what the engine holds stays leased to it while it runs. */
static void engine_renew(struct store *s, int64_t now_ms, void *arg)
{
	struct timer_claim *copy;
	size_t n;

	(void)now_ms;
	(void)arg;
	pthread_mutex_lock(&engine.lock);
	n = engine.nheld;
	copy = n ? xcalloc(n, sizeof(*copy)) : NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = engine.held[i];
	pthread_mutex_unlock(&engine.lock);
	if (n && timer_renew(s, engine.owner, copy, n, engine_now_ms() + engine.lease_ms) < 0)
		log_warn("engine.renew_failed", "held=%zu error=\"%s\"", n, store_error(s));
	free(copy);
}

/* ---- the thread ---- */

static bool stopping(void)
{
	return wk_sleeper_stopping(&engine.sleep);
}

/* Sleep up to ms, or until engine_stop(). */
static void nap(int64_t ms)
{
	wk_sleeper_nap(&engine.sleep, ms);
}

/* Follow Redis's clock. A jump of more than a second is worth a line: the
 * machine's clock is off (or was just corrected). */
static void track_redis_clock(int64_t redis_now)
{
	int64_t off, old;

	if (redis_now <= 0)
		return;
	off = redis_now - wk_now_ms();
	old = atomic_exchange(&redis_offset_ms, off);
	if (llabs(off - old) > 1000)
		log_warn("engine.clock", "redis_minus_local_ms=%lld note=\"this machine's clock differs from Redis's; "
			 "timers follow Redis\"", (long long)off);
}

/* Until the next timer is due (at most ms), or until any instance schedules
 * an earlier one: it adds to the wake stream, which every engine reads, so a
 * step due now fires within milliseconds on whichever instance is free. The
 * read blocks in Redis for all of that (an idle engine sends two commands per
 * ENGINE_MAX_SLEEP_MS); engine_stop() cuts it short. A short wait just naps. */
static void wait_for_work(struct store *s, int64_t ms, char *last, size_t size)
{
	redisReply *r;

	if (ms < 20 || stopping()) {
		nap(ms);
		return;
	}
	r = store_command_blocking(s, NULL, ms, "XREAD COUNT 10 BLOCK %lld STREAMS " TIMERS_WAKE_KEY " %s",
				   (long long)ms, last);
	if (!r) {
		/* Redis down: the claim loop says so, and tries again soon. */
		nap(ms < STORE_DOWN_WAIT_MS ? ms : STORE_DOWN_WAIT_MS);
		return;
	}
	/* [[stream, [[id, fields]...]]]: remember the newest id seen. */
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 && r->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
		const redisReply *entries = r->element[0]->element[1];
		if (entries->elements && entries->element[entries->elements - 1]->type == REDIS_REPLY_ARRAY &&
		    entries->element[entries->elements - 1]->elements >= 1 &&
		    entries->element[entries->elements - 1]->element[0]->type == REDIS_REPLY_STRING)
			wk_strlcpy(last, entries->element[entries->elements - 1]->element[0]->str, size);
	}
	freeReplyObject(r);
}

/* The wake stream's newest id, so the first wait misses nothing added after
 * the first claim ("$" would: it means "after whatever is there when the read
 * starts"). "0-0" when there is none, or Redis can't say: at worst one
 * needless claim. */
static void wake_start(struct store *s, char *last, size_t size)
{
	redisReply *r = store_command(s, "XREVRANGE " TIMERS_WAKE_KEY " + - COUNT 1");

	wk_strlcpy(last, "0-0", size);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements >= 1 && r->element[0]->element[0]->type == REDIS_REPLY_STRING)
		wk_strlcpy(last, r->element[0]->element[0]->str, size);
	if (r)
		freeReplyObject(r);
}

static void *engine_main(void *arg)
{
	struct store *s = engine.store;
	struct timer_claim *claims = xcalloc(TIMER_CLAIM_MAX, sizeof(*claims));
	const struct timer_claim *done[TIMER_CLAIM_MAX];
	bool store_down = false;

	bool sweep_armed = false;
	char wake_id[64];

	(void)arg;
	log_info("engine.start", "owner=%s lease_ms=%lld", engine.owner, (long long)engine.lease_ms);
	wake_start(s, wake_id, sizeof(wake_id));
	while (!stopping()) {
		size_t n = 0, i;
		int64_t now = engine_now_ms(), wait;

		/* The periodic sweep is one timer shared by every instance: only
		 * created when missing, so restarts don't keep pushing it back. */
		if (!sweep_armed)
			sweep_armed = timer_schedule_nx(s, HANDOFF_SWEEP_ID, "handoff_sweep", HANDOFF_SWEEP_ORG, "",
							now + engine_sweep_first_ms()) >= 0 &&
				      timer_schedule_nx(s, ESCALATION_AUDIT_ID, "inc_audit", ESCALATION_AUDIT_ORG, "",
							now + escalation_audit_period_ms()) >= 0;
		int64_t redis_now = 0, next = 0;
		if (timer_claim(s, engine.owner, engine.lease_ms, TIMER_CLAIM_MAX, claims, &n, &redis_now, &next) < 0) {
			if (!store_down)
				log_warn("engine.claim_failed", "error=\"%s\"", store_error(s));
			store_down = true;
			nap(STORE_DOWN_WAIT_MS);
			continue;
		}
		if (store_down)
			log_info("engine.claim_ok", "note=\"Redis answers again\"");
		store_down = false;
		if (n && store_wait_replicas(s) < 0) {
			/* redis.wait_replicas: a claim a failover could lose is not run
			 * (another instance might run it too); give it back. */
			log_warn("engine.claim_unreplicated", "timers=%zu error=\"%s\"", n, store_error(s));
			for (i = 0; i < n; i++)
				timer_release(s, claims[i].id, claims[i].fence);
			nap(STORE_DOWN_WAIT_MS);
			continue;
		}
		track_redis_clock(redis_now);
		hold(claims, n);
		size_t ndone = 0;
		for (i = 0; i < n && !stopping(); i++) {
			if (run_timer(s, &claims[i]))
				done[ndone++] = &claims[i];
			else
				unhold(&claims[i]);
		}
		finish_done(s, done, ndone);
		for (size_t j = 0; j < ndone; j++)
			unhold(done[j]);
		/* Shutting down with claims in hand: give them back now rather than
		 * making another instance wait for the lease to run out. */
		for (; i < n; i++) {
			timer_release(s, claims[i].id, claims[i].fence);
			unhold(&claims[i]);
		}
		if (n == TIMER_CLAIM_MAX)
			continue;	/* more may be due already */
		wait = ENGINE_MAX_SLEEP_MS;
		if (next > 0 && next - engine_now_ms() < wait)
			wait = next - engine_now_ms();
		/* A lease expiring this very millisecond is only taken once it is
		 * strictly past: a short floor keeps that from becoming a busy loop. */
		wait_for_work(s, wait < ENGINE_MIN_SLEEP_MS ? ENGINE_MIN_SLEEP_MS : wait, wake_id, sizeof(wake_id));
	}
	free(claims);
	log_info("engine.stop", "owner=%s", engine.owner);
	return NULL;
}

int engine_start(const struct config *cfg)
{
	const char *v = getenv("WK_TEST_TIMER_LEASE_MS");
	int64_t lease;

	engine.cfg = cfg;
	engine.lease_ms = ENGINE_LEASE_MS;
	if (v && v[0]) {
		if (wk_parse_i64(v, 100, 3600000, &lease)) {
			engine.lease_ms = lease;
			log_warn("engine.lease", "test_lease_ms=%lld note=\"test only\"", (long long)lease);
		} else {
			log_warn("engine.lease", "WK_TEST_TIMER_LEASE_MS=ignored reason=\"not 100..3600000\"");
		}
	}
	timer_owner_make(engine.owner, sizeof(engine.owner));
	/* Short leases, renewed while held: a dead instance's timers are taken
	 * over within a lease and a tick. */
	if (heartbeat_add(engine_renew, NULL, engine.lease_ms / 3) < 0) {
		log_error("engine.start", "error=\"no heartbeat slot\"");
		return -1;
	}
	wk_sleeper_init(&engine.sleep);
	engine.store = store_open(cfg->redis_url, cfg->redis_timeout_ms);
	if (pthread_create(&engine.thread, NULL, engine_main, NULL) != 0) {
		log_error("engine.start", "error=\"cannot create thread\"");
		wk_sleeper_destroy(&engine.sleep);
		store_close(engine.store);
		return -1;
	}
	engine.started = true;
	return 0;
}

void engine_stop(void)
{
	if (!engine.started)
		return;
	wk_sleeper_stop(&engine.sleep);
	/* It may wait in Redis until its next timer (up to ENGINE_MAX_SLEEP_MS). */
	store_interrupt(engine.store, true);
	pthread_join(engine.thread, NULL);
	wk_sleeper_destroy(&engine.sleep);
	store_close(engine.store);
	engine.started = false;
}
