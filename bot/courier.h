/* courier.h - the one path for outbound HTTP and SMTP: a thread driving
 * libcurl's multi interface (connection reuse, bounded concurrency, retries
 * with backoff for fire-and-forget posts).
 *
 * Three ways in, all callable from any thread, all served by the same courier
 * thread and the same multi handle (so the in-flight cap covers everything):
 *
 *   courier_post_json()  fire and forget (late Slack replies to response_url).
 *                        Takes ownership of body (malloc'd). Retried on 429,
 *                        5xx and transport errors; failures are logged and
 *                        counted, never silently dropped.
 *   courier_call()       one HTTP request/response for a thread that may block
 *                        (workers: Slack Web API, GitHub). No retries: the
 *                        caller sees status/Retry-After and decides.
 *                        courier_call_many() sends a few at once.
 *   courier_send_mail()  one SMTP submission, blocking, no retries.
 *
 * The blocking calls copy everything they need from their arguments before
 * queueing, so nothing the caller passes has to outlive the call. They never
 * wait forever: the request's own timeout starts when it is queued (time spent
 * waiting for a free connection counts), and courier_stop() fails whatever is
 * still pending with a "shutting down" error. Never call them from the courier
 * thread itself, nor from the libwebsockets loop thread (they block).
 *
 * courier_stop() waits up to grace_ms for queued and in-flight work, then
 * drops posts (logged) and fails pending blocking calls; after it returns,
 * every entry point refuses at once until courier_start() runs again.
 *
 * Secrets (bearer tokens, SMTP password, credentials inside a URL) are never
 * logged; log lines name the request by its target label only. */
#ifndef WK_COURIER_H
#define WK_COURIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"

/* A guard on the calls the current thread makes until it is cleared (NULL):
 * the courier asks it on its own thread right before a call goes out, and a
 * call it refuses fails unsent (status 0, maybe_sent false, an error saying
 * so). The outbox sets one around each send, so a sender whose lease lapsed
 * while it was stuck between its own check and the call (frozen, cut off from
 * Redis) starts no provider call that a taker may already have made. fn runs
 * on the courier thread and must not block. */
typedef bool (*courier_guard)(void *arg);
void courier_guard_set(courier_guard fn, void *arg);

#define COURIER_OPERATION_ID_SIZE 80

/* The largest response body courier_call() accepts; a longer one fails the call. */
#define COURIER_MAX_RESPONSE (1024 * 1024)

int courier_start(const struct config *cfg);
/* target: a short label for logs and metrics ("slack.response_url"). bearer may be NULL. */
void courier_post_json(const char *url, const char *bearer, char *body, size_t len,
		       const char *target);
void courier_stop(int64_t grace_ms);
/* Shutdown, before workers_stop(): blocking calls (courier_call, courier_send_mail)
 * waiting now or made later fail at once with "the daemon is shutting down", so a
 * long GitHub sync can't hold the exit. Posts still go out until courier_stop(). */
void courier_cancel_calls(void);

/* Header parsers, exposed for the fuzz target. Values come from peers: both are
 * bounded by the string's end and never fail loudly.
 * courier_link_next: the first rel="next" URL of an RFC 8288 Link value into
 * out, or "" (also when it would not fit). courier_retry_after: seconds from a
 * Retry-After value (delta-seconds or an HTTP-date), -1 when unreadable. */
void courier_link_next(const char *value, char *out, size_t size);
long courier_retry_after(const char *value);

struct courier_request {
	const char *method;		/* "GET", "POST" or "PUT" (Teams' card updates) */
	const char *url;		/* http:// or https:// only; never logged */
	const char *bearer;		/* Authorization: Bearer ..., or NULL; at most 4096
					 * bytes (longer is refused); never logged */
	const char *const *headers;	/* extra "Name: value" lines, NULL-terminated, or NULL */
	const char *body;		/* POST body (sent as is), or NULL */
	size_t body_len;
	const char *target;		/* label for logs/metrics, e.g. "github" */
	int64_t timeout_ms;		/* whole call, queueing included; <= 0 means 10 s */
};

struct courier_response {
	long status;			/* HTTP status; 0 when the transfer failed */
	char *body;			/* NUL-terminated (body[body_len] == 0), never NULL
					 * after courier_call(); caller frees with
					 * courier_response_free() */
	size_t body_len;		/* <= COURIER_MAX_RESPONSE */
	char link_next[1024];		/* the rel="next" URL of a Link header, or "" (also ""
					 * when that URL would not fit) */
	long ratelimit_remaining;	/* X-RateLimit-Remaining, -1 when absent or malformed */
	int64_t ratelimit_reset;	/* X-RateLimit-Reset (unix seconds), -1 when absent */
	long retry_after;		/* Retry-After in seconds (an HTTP-date is turned into
					 * seconds from now), -1 when absent */
	char operation_id[COURIER_OPERATION_ID_SIZE];	/* X-Correlating-OperationId (the Bot
					 * Connector's, for its support), control bytes
					 * stripped, or "" */
	char error[160];		/* transfer error sentence when status == 0, else "" */
	bool maybe_sent;		/* status == 0 only: the request may have reached the
					 * peer (bytes were written before a timeout or a
					 * dropped connection, or the caller stopped waiting
					 * while it was in flight). A non-idempotent call
					 * (a message post) then has an unknown outcome: look
					 * before sending it again. false: it never left. */
};

/* Send req and wait for the answer. Header names are matched case-insensitively.
 * A header line, bearer or URL containing CR, LF or other control bytes is
 * refused (-1) without sending anything.
 *
 * Returns 0 when an HTTP answer arrived (any status: the caller judges 4xx/5xx),
 * -1 when the transfer failed, the body exceeded COURIER_MAX_RESPONSE, the
 * request was invalid, the call timed out, or the courier is not running; then
 * resp->status == 0 and resp->error says why in a sentence (safe to log: no
 * secrets, control bytes from the peer stripped). resp is always initialised,
 * so courier_response_free() is always correct afterwards.
 * Thread: any thread except the courier's and the loop's; blocks. */
int courier_call(const struct courier_request *req, struct courier_response *resp);

/* Up to COURIER_MAX_BATCH requests at once (more are sent in consecutive
 * batches of that size), for many independent lookups (GitHub users). Each
 * resps[i] is exactly what courier_call(&reqs[i], &resps[i]) would give.
 * Returns how many got an HTTP answer (the 0 results of courier_call). The
 * batch is capped well below the courier's in-flight cap so one bulk job
 * can't starve late chat replies and pages. */
#define COURIER_MAX_BATCH 8
size_t courier_call_many(const struct courier_request *reqs, struct courier_response *resps,
			 size_t n);
void courier_response_free(struct courier_response *resp);

/* courier_call() without waiting, for workers (a handler never waits on an
 * outside service). req is copied and checked as by courier_call(). done(arg,
 * resp) runs exactly once with resp filled exactly as courier_call() would
 * fill it (status 0 and error on failure, including a refused request, a
 * timeout and shutdown); done owns resp (courier_response_free()).
 *
 * done runs on a small completion thread of the courier's, or on the calling
 * thread itself when the call is refused at once (invalid request, courier not
 * running, shutdown begun). It must not block and must not touch Redis: hand
 * the result to the worker pool (workers_submit()) and return; when that
 * refuses (shutting down), free arg. From courier_cancel_calls() on, pending
 * calls complete at once with "the daemon is shutting down".
 * Thread: any thread except the loop's. */
typedef void (*courier_done_fn)(void *arg, struct courier_response *resp);
void courier_call_async(const struct courier_request *req, courier_done_fn done, void *arg);

/* One mail to one recipient. message is the full RFC 5322 text with CRLF line
 * ends, without SMTP dot-stuffing and without the final "." line (libcurl adds
 * both); rcpt is a bare address (no angle brackets). */
struct courier_mail {
	const char *rcpt;
	const char *message;
	size_t len;
};

/* Submit m through cfg->smtp_url and wait for the outcome.
 *
 * URL schemes: smtp:// requires STARTTLS (CURLUSESSL_ALL: a server that cannot
 * upgrade fails the send); smtps:// is implicit TLS; smtp+insecure:// is plain
 * SMTP without TLS, for tests and local relays only (logged at warn once per
 * process). The URL path, if any, is the EHLO name. AUTH uses
 * cfg->smtp_user/smtp_password when smtp_user is set. The envelope sender is
 * the address inside the angle brackets of cfg->smtp_from (or the whole value).
 *
 * Returns 0 when the server accepted the message, -1 otherwise with one
 * sentence in err (the SMTP reply code when there was one; never the password).
 * Thread: any thread except the courier's and the loop's; blocks (30 s at most). */
int courier_send_mail(const struct config *cfg, const struct courier_mail *m, char *err,
		      size_t errsz);
/* The same without waiting (a handler never waits on SMTP): done(arg, resp)
 * runs once as for courier_call_async(), resp->status != 0 when the server
 * accepted the message, else resp->error says why in one sentence (never the
 * password). m is copied. */
void courier_send_mail_async(const struct config *cfg, const struct courier_mail *m, courier_done_fn done,
			     void *arg);

#endif
