/* store_pipe.h - the loop thread's pipelined Redis connection.
 *
 * The common command (`/oncall`: the org lookup, the replay check and the
 * team's schedule in one script) needs one round trip and no store after it.
 * Handing it to a worker costs two thread hand-offs and a worker blocked on
 * that round trip; here the loop thread sends the script itself, without
 * waiting: every request read in one turn of the loop goes out in one write
 * at the end of that turn (store_pipe_flush()), and each reply comes back to
 * its callback, in order, on a later turn.
 *
 * One connection, made by a connector thread of its own through the store
 * layer (bot/store.h: AUTH, SELECT, the Sentinel primary), then adopted into
 * the loop. While there is none (at start, after a failure, during a
 * failover) store_pipe_script() says so and the caller runs the request on a
 * worker as before: the pipe is only ever a faster way, never the only one.
 *
 * Outcomes, for each command sent (callback's `reply` and `ran`):
 *  - a reply (taken by the callback);
 *  - NULL, ran false: it never left, or Redis refused it without running it
 *    (NOSCRIPT, READONLY): safe to run again elsewhere;
 *  - NULL, ran true: it left whole and no answer came (the connection broke,
 *    or no answer within redis.timeout_ms): it may have run.
 * A NOSCRIPT also loads the script for the commands after it.
 *
 * Thread: the libwebsockets loop thread, except store_pipe_start(). */
#ifndef WK_STORE_PIPE_H
#define WK_STORE_PIPE_H

#include <hiredis.h>
#include <libwebsockets.h>
#include <stdbool.h>

#include "bot/config.h"
#include "bot/store.h"

typedef void (*store_pipe_cb)(void *arg, redisReply *reply, bool ran);

/* The protocol the connection is adopted under, in the server's list. */
#define STORE_PIPE_PROTOCOL "wk-store-pipe"
/* Its name in Redis (CLIENT LIST). */
#define STORE_PIPE_CLIENT_NAME "watchkeeper-loop"
int store_pipe_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

/* Start the connector (any thread, once, before the loop serves); the first
 * connection is made at once. cfg must outlive store_pipe_stop(). */
void store_pipe_start(const struct config *cfg, struct lws_context *ctx);
/* Loop thread, from LWS_CALLBACK_EVENT_WAIT_CANCELLED: adopt a connection the
 * connector made. */
void store_pipe_wake(void);
/* After each turn of the loop (lws_service()): write what the turn queued. */
void store_pipe_flush(void);
/* Send a script (EVALSHA), keys then args. 0: cb runs later, exactly once.
 * -1: not sent and cb never runs (no connection now, or too many waiting):
 * the caller goes the other way. */
int store_pipe_script(const struct store_script *script, int nkeys, const char *const *keys, int nargs,
		      const char *const *args, store_pipe_cb cb, void *arg);
/* The loop thread's copies of team schedules (bot/schedule_cache.h), which
 * answers through the pipe fill, as each worker has its own. */
struct schedule_cache *store_pipe_schedules(void);
/* Loop thread, before the context goes: every command still waiting gets its
 * callback (NULL), the connection closes and the connector stops. */
void store_pipe_stop(void);

#endif
