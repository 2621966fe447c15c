/* engine.h - the engine thread: runs durable timers (bot/timers.h) when due.
 *
 * One thread per instance, with its own store. Each tick it claims due timers
 * (lease ENGINE_LEASE_MS, renewed by the heartbeat while held), runs each one's handler by kind from a const table
 * in engine.c ({ "handoff", handoff_fire }, { "reminder", reminder_fire }, the
 * escalation steps later), then finishes the timer:
 *   handler returns 0   done: timer_done(), or timer_reschedule_after() when
 *                       the handler set ctx->rearm_ms (fire-and-rearm);
 *                      -1   retry: timer_retry() at ctx->retry_at_ms, or with
 *                       exponential backoff (2 s, 4 s, ... 5 min) when 0;
 *                       after TIMER_MAX_ATTEMPTS the timer is dropped.
 * A timer of a kind this build doesn't know is retried (a newer instance
 * during a rolling upgrade may know it), and so dropped in the end.
 * Then it waits until the next due instant or expiring lease (at most
 * ENGINE_MAX_SLEEP_MS), blocked in Redis on the wake stream: every change that
 * makes a timer the earliest one adds to it, so other instances' timers wake
 * it too; engine_stop() wakes it at once.
 * Several instances run engines on one Redis: a claim is atomic, so each
 * timer runs on one instance at a time.
 *
 * Effects are idempotent by timer id: a handler that notifies someone queues
 * the message on the outbox (outbox.h) with a dedupe key built from the timer
 * id, its due instant and the recipient, so a timer run twice (an expired
 * lease, two instances, a crash after some recipients) queues each message
 * once; the outbox then sends each queued message once (its own claim with a
 * deadline; see outbox.h for the one window a provider without idempotency
 * keys leaves).
 *
 * Time: engine_now_ms() is the clock for timers and for the handoff code:
 * Redis's clock (timers.h "Clock"), followed through each claim, so an
 * instance whose own clock is off fires nothing early or late. Tests move
 * that clock with wk:{timers}:test_clock_offset_ms (test builds only) to stand
 * just before a handoff. WK_TEST_TIMER_LEASE_MS (TEST ONLY, 100..3600000)
 * replaces the 3 s lease; never set it in production.
 *
 * Waking: between claims the engine blocks on the wake stream (timers.h), so
 * a timer any instance schedules earlier than the next one wakes it at once.
 *
 * Thread: engine_start()/engine_stop() from main only; engine_now_ms() from
 * any thread. */
#ifndef WK_ENGINE_H
#define WK_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/store.h"
#include "bot/timers.h"

/* Short: the heartbeat (heartbeat.h) renews a lease every third of it while
 * the timer is held, so only a dead (or cut-off) instance lets one lapse, and
 * another instance takes the timer over within a lease and a tick. */
#define ENGINE_LEASE_MS 3000
/* The longest wait without a claim: a safety net only (a timer written into
 * Redis by hand, without a wake), so it can be long; an idle engine sends two
 * commands per this. */
#define ENGINE_MAX_SLEEP_MS 10000

/* What a handler gets, and what it may ask for. */
struct engine_ctx {
	struct store *store;		/* the engine's own */
	const struct config *cfg;
	const struct timer_claim *timer;
	int64_t now_ms;			/* engine_now_ms() when the handler started */
	const char *owner;		/* this instance's lease owner id */
	/* out, for a 0 return: re-arm instead of deleting */
	int64_t rearm_ms;		/* 0 = delete the timer */
	char rearm_payload[TIMER_PAYLOAD_MAX];	/* "" = keep the payload */
	/* out, for a -1 return */
	int64_t retry_at_ms;		/* 0 = the engine's backoff */
};

/* Return 0 when done (or nothing to do), -1 to be retried later. A handler
 * may call timer_schedule() on its own id (the timer then belongs to the new
 * schedule and the engine's fenced finish becomes a no-op). */
typedef int (*engine_handler)(struct engine_ctx *ctx);

/* Start the thread (and register the lease renewal with the heartbeat: call
 * before heartbeat_start()). cfg must outlive engine_stop(). 0, or -1 (logged). */
int engine_start(const struct config *cfg);
/* Wake and join the thread; a handler in progress finishes first (handlers
 * only touch Redis and queue notifications, so this is quick). Timers it had
 * claimed but not run are released for other instances. Call before
 * heartbeat_stop(), so leases stay renewed until the end. Safe to call when
 * engine_start() failed or never ran. */
void engine_stop(void);

/* The engine's clock (see above). Thread-safe. */
/* When the periodic handoff sweep (handoff.h) first runs after start and how
 * often after that: HANDOFF_SWEEP_FIRST_MS / HANDOFF_SWEEP_MS, or
 * WK_TEST_SWEEP_MS (TEST ONLY, 100 ms .. 1 h) for both. */
int64_t engine_sweep_first_ms(void);
int64_t engine_sweep_period_ms(void);
int64_t engine_now_ms(void);


#endif
