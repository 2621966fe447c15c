/* jobs.h - long outbound work that no handler may wait for.
 *
 * A GitHub org sync pages through the API and looks up every member: up to
 * two minutes. A worker that waited for it would be a worker every other org
 * waits for, so the handler answers at once and queues the reading here.
 *
 * JOBS_THREADS threads run queued jobs in FIFO order, at most one per key at
 * a time (one org's syncs run one after another; other orgs' go on). A job's
 * run() talks to the outside world only (through the courier) and never to
 * Redis: it hands what it gathered to the worker pool (workers_submit()),
 * where the writes and the late answer happen.
 *
 * Shutdown: jobs_stop() after courier_cancel_calls() (a job blocked in the
 * courier then ends at once) and before workers_stop() (its hand-off still
 * runs). Jobs still queued are not run: their drop() is called instead (it
 * may post a late "run it again" answer, then frees arg).
 *
 * Thread: jobs_submit() from any thread; start/stop from main. */
#ifndef WK_JOBS_H
#define WK_JOBS_H

#define JOBS_THREADS 2
#define JOBS_KEY_MAX 96

typedef void (*jobs_fn)(void *arg);

int jobs_start(void);
/* 0 queued; -1 shutting down (nothing called, the caller still owns arg). */
int jobs_submit(const char *key, jobs_fn run, jobs_fn drop, void *arg);
void jobs_stop(void);

#endif
