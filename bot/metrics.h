/* metrics.h - counters and histograms for GET /metrics (Prometheus text format 0.0.4).
 *
 * All record functions are thread-safe and cheap (atomics or a short mutex);
 * call them from any thread. Label values are copied. metrics_render() appends
 * the exposition text to a buffer. */
#ifndef WK_METRICS_H
#define WK_METRICS_H

#include <stdint.h>

#include "bot/buf.h"

void metrics_http_request(const char *route, int status, int64_t duration_us);
void metrics_command(const char *command, const char *subcommand, const char *outcome,
		     int64_t duration_us);
void metrics_redis_error(void);
/* A notification sent again although the check for an earlier, unknown
 * attempt could not be made in time (notify.verify_max_wait_s). */
void metrics_notify_unverified(void);
/* The engine: how late each timer fired (first attempts), by kind; escalation
 * steps that keep failing (stuck) and ones the auditor had to re-arm. */
void metrics_timer_lateness(const char *kind, int64_t late_ms);
void metrics_escalation_stuck(void);
void metrics_escalation_rescheduled(void);
void metrics_incident_unrouted(void);
/* One round trip to Redis: a script's name or a command's word. */
void metrics_redis_roundtrip(const char *command);
/* A command answered on the loop thread (bot/store_pipe.h), no worker involved. */
void metrics_loop_answered(void);
/* Daemon time of one request: last byte read -> first answer byte written. */
void metrics_http_daemon(const char *route, int64_t duration_us);
/* An HTTP connection cut by a limit; reason is a static word (timeout, evicted, refused, busy). */
void metrics_http_limit(const char *reason);
void metrics_outbound(const char *target, const char *outcome);
/* The notification queue: entries not yet acknowledged, and the age of the oldest. */
void metrics_notify_queue(int64_t depth, double oldest_seconds);
/* Slack Socket Mode (adapters/slack_socket.c): an envelope by type, an ack by
 * kind (plain, payload, working), a reconnect by reason; open is the change in
 * live connections (+1 on hello, -1 when a live one closes). */
void metrics_slack_socket_envelope(const char *type);
void metrics_slack_socket_ack(const char *kind);
void metrics_slack_socket_reconnect(const char *reason);
void metrics_slack_socket_open(int delta);
int metrics_render(struct buf *out);
void metrics_shutdown(void);

#endif
