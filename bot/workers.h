/* workers.h - the pool of threads that run handlers, shared fairly.
 *
 * One pool per process. Each worker owns one struct store (its own Redis
 * connection), so handlers read top to bottom with synchronous calls while the
 * loop thread never blocks. A handler never waits on an outside service
 * (Slack, Twilio, GitHub, SMTP): it hands the call to the courier and answers.
 *
 * Fairness. Every job carries a class and a fairness key:
 *   class  WORK_COMMAND (slash commands and their follow-ups), WORK_ACTION
 *          (button clicks), WORK_FEED (calendar feeds, report CSVs),
 *          WORK_WEBHOOK (provider callbacks such as Twilio's).
 *   key    who the work is for: the org ("slack:T123") for commands and
 *          actions; for unauthenticated requests whatever names the client
 *          best before Redis is read (the feed token, the SMS sender).
 * Jobs of one key wait in that key's FIFO queue. Each class serves its keys
 * round-robin, and the classes take turns too. Two bounds decide whether a
 * queued job may start:
 *   - a key has at most cfg->workers_max_per_org jobs running (0 = half the
 *     workers, at least one), so one org, one user or one feed token can never
 *     hold the whole pool;
 *   - a class has at most workers - 1 jobs running (with two or more workers),
 *     so there is always a worker left for the other classes: a flood of
 *     commands can't delay a feed or an alert webhook, nor the other way round.
 * Past a bound a job waits its turn; nothing is ever refused for fairness.
 * Order is FIFO within one key; across keys it is round-robin.
 *
 * workers_submit() may be called from any thread (the loop, a worker, the
 * courier's completion callbacks); it copies key and returns -1 only once
 * workers_stop() has begun (the caller then answers "shutting down" and still
 * owns arg). workers_stop() runs every job already queued, then joins. */
#ifndef WK_WORKERS_H
#define WK_WORKERS_H

#include <stddef.h>

#include "bot/config.h"
#include "bot/store.h"

struct schedule_cache;
struct integration_cache;

struct worker {
	size_t index;
	struct store *store;
	const struct config *cfg;
	struct schedule_cache *schedules;	/* this worker's (schedule_cache.h) */
	struct integration_cache *integrations;	/* this worker's (integration_cache.h) */
};

typedef void (*job_fn)(struct worker *w, void *arg);

enum work_class { WORK_COMMAND, WORK_ACTION, WORK_FEED, WORK_WEBHOOK, WORK_CLASSES };

/* Keys longer than this are cut (they only group work; they are never shown). */
#define WORK_KEY_MAX 96

int workers_start(const struct config *cfg);
int workers_submit(enum work_class cls, const char *key, job_fn fn, void *arg);
size_t workers_busy(void);	/* queued + running jobs */
/* The per-key bound in effect (cfg->workers_max_per_org resolved). */
size_t workers_max_per_key(void);
void workers_stop(void);

#endif
