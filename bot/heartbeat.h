/* heartbeat.h - keeps this instance's leases alive while its work runs.
 *
 * Leases in Redis (a notification being sent, a timer being run) are short so
 * that another instance takes the work over within seconds when this one
 * dies. Work may take longer than one lease (a slow provider), so one thread
 * per instance renews what is held: every period it calls each registered
 * renewer with the heartbeat's own store. A renewer that cannot renew (Redis
 * down, the fence moved on) records that for its holder, which then starts no
 * new provider call (outbox.h); what is already in flight may finish and its
 * outcome is written only while the fence holds.
 *
 * Other periodic duties that must keep pace with the leases ride along as
 * renewers too (the outbox's watch for entries a dead instance left).
 *
 * Register before heartbeat_start() (at most HEARTBEAT_MAX renewers); the
 * period is the smallest one asked for. heartbeat_stop() joins the thread: call
 * it after the modules that hold leases stopped (their last outcomes are
 * written under a live lease). Thread: start/add/stop from main only; renewers
 * run on the heartbeat thread. */
#ifndef WK_HEARTBEAT_H
#define WK_HEARTBEAT_H

#include <stdint.h>

#include "bot/config.h"
#include "bot/store.h"

#define HEARTBEAT_MAX 4

typedef void (*heartbeat_fn)(struct store *s, int64_t now_ms, void *arg);

/* 0, or -1 when the table is full. */
int heartbeat_add(heartbeat_fn fn, void *arg, int64_t period_ms);
/* 0, or -1 (logged) when the thread cannot start. */
int heartbeat_start(const struct config *cfg);
void heartbeat_stop(void);

#endif
