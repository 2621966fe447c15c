/* courier.h - the one path for outbound HTTP: a thread driving libcurl's multi
 * interface (connection reuse, bounded concurrency, retries with backoff).
 *
 * Today it carries late Slack replies to response_url; the notification issue
 * grows it into the full courier (Redis Stream, per-provider rate limits, SMS
 * and email) behind the same thread.
 *
 * courier_post_json() is callable from any thread; it takes ownership of body
 * (malloc'd). Failed deliveries are logged and counted, never silently dropped.
 * courier_stop() waits up to grace_ms for queued and in-flight requests. */
#ifndef WK_COURIER_H
#define WK_COURIER_H

#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"

int courier_start(const struct config *cfg);
/* target: a short label for logs and metrics ("slack.response_url"). bearer may be NULL. */
void courier_post_json(const char *url, const char *bearer, char *body, size_t len,
		       const char *target);
void courier_stop(int64_t grace_ms);

#endif
