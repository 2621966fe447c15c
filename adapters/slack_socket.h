/* slack_socket.h - Slack Socket Mode: the daemon dials out to Slack over
 * WebSockets, so no public URL is needed.
 *
 * With slack.app_token (xapp-..., scope connections:write) set, the daemon
 * keeps slack.socket_connections connections open. Each one starts with
 * POST <slack.api_url>/apps.connections.open through the courier (never
 * blocking), whose URL is used once: every (re)connect asks for a new one.
 * The URL must be wss:// (TLS, system CA store); ws:// is accepted only when
 * slack.api_url's host is 127.0.0.1, ::1 or localhost (tests), otherwise it
 * is refused and logged. A connection is live once Slack says hello.
 *
 * Envelopes are acked once, by envelope_id, on the connection that carried
 * them:
 *   slash_commands  through the same request building and worker job as
 *                   POST /slack/commands (slack_envelope_command); acked with
 *                   the answer as payload when it is ready within
 *                   slack.ack_after_ms, else with "Working on it" and the
 *                   answer goes to response_url. If the connection closes
 *                   before the ack went out, the answer goes to response_url
 *                   once.
 *   interactive     acked at once, then as POST /slack/actions
 *                   (slack_envelope_action): the answer goes to response_url.
 *   events_api      acked at once, then slack_events_submit().
 * Redeliveries (Slack's new envelope for an unacked one) run once through
 * request.replay_id (see slack.h).
 *
 * disconnect: warning and refresh_requested open a new connection first; the
 * old one keeps acking what it carried and closes once the new one said hello
 * and its own commands are acked. link_disabled and too_many_websockets wait
 * SLACK_SOCKET_LONG_MS before trying again (as do refused tokens). Other
 * reconnects follow a backoff table with jitter (lws_retry_bo_t), reset once a
 * connection stayed up a minute. Keepalive: lws answers Slack's pings; we ping
 * every SLACK_SOCKET_PING_MS and a connection silent for SLACK_SOCKET_DEAD_MS
 * (no frame, no pong) is cut and replaced.
 *
 * Threads. One thread of its own runs a client-only lws_context. Why not the
 * HTTP server's loop: that loop drains and stops on SIGTERM on its own
 * schedule, its context is built for serving (limits, evictions) and a
 * second context keeps http_server.c unaware of Slack; a stuck TLS handshake
 * here can never delay an HTTP answer. Workers hand answers to this thread
 * through a mutex-protected queue and lws_cancel_service(); they never hold a
 * connection pointer, only an ack id (a number), and an id whose connection is
 * gone is refused, so the worker posts to response_url instead.
 *
 * Secrets: the app token is only handed to the courier as a bearer; log lines
 * never show it nor the single-use connection URL (its ticket). */
#ifndef WK_SLACK_SOCKET_H
#define WK_SLACK_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"

#define SLACK_SOCKET_PING_MS 10000
#define SLACK_SOCKET_DEAD_MS 30000
#define SLACK_SOCKET_LONG_MS (5 * 60 * 1000)
/* Retry-After when a ratelimited answer carries none (the SDKs' default). */
#define SLACK_SOCKET_RATELIMIT_S 30

/* Once, after workers_start() and courier_start(), when the HTTP port is ours
 * (main.c starts it from http_server_run()'s listening hook, so lws logging is
 * already routed). Does nothing (0) without slack.app_token. -1 when the
 * thread or context cannot start. */
int slack_socket_start(const struct config *cfg);
/* Main thread, after the HTTP server stopped and before workers_stop(): acks
 * what is queued, closes the connections (1 s at most), joins the thread and
 * frees everything. Commands still running then answer at response_url. */
void slack_socket_stop(void);

/* A worker's answer (JSON, copied; NULL for a plain ack) to the slash command behind ack. True: it
 * goes out as that envelope's ack payload (or, should its connection close
 * first, to response_url). False: the envelope was acked already ("Working on
 * it") or its connection closed; the caller posts to response_url. Any thread. */
bool slack_socket_reply(uint64_t ack, const char *body, size_t len, const char *response_url);

/* A ws:// or wss:// URL in parts; pure, bounded, exposed for tests. */
struct slack_socket_url {
	bool tls;
	char host[256];	/* without brackets for IPv6 */
	int port;
	char path[2048];	/* "/..." with the query */
};
int slack_socket_url_parse(const char *url, struct slack_socket_url *u);
/* Whether an http(s) URL's host is 127.0.0.1, ::1 or localhost. */
bool slack_socket_url_loopback(const char *url);

#endif
