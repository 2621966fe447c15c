/* workers.h - the pool of threads that run command handlers.
 *
 * One pool per process. Each worker owns one struct store (its own Redis
 * connection), so handlers read top to bottom with synchronous calls while the
 * loop thread never blocks. Jobs run in submission order across the pool.
 *
 * workers_submit() may be called from any thread; it returns -1 once
 * workers_stop() has begun (the caller answers "shutting down"). workers_stop()
 * runs every job already queued, then joins the threads. */
#ifndef WK_WORKERS_H
#define WK_WORKERS_H

#include <stddef.h>

#include "bot/config.h"
#include "bot/store.h"

struct worker {
	size_t index;
	struct store *store;
	const struct config *cfg;
};

typedef void (*job_fn)(struct worker *w, void *arg);

int workers_start(const struct config *cfg);
int workers_submit(job_fn fn, void *arg);
size_t workers_busy(void);	/* queued + running jobs */
void workers_stop(void);

#endif
