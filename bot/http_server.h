/* http_server.h - the HTTP server on the libwebsockets loop thread.
 *
 * Routes are one const table (bot/routes.c): method, path, handler, flags. The
 * server answers 404 for unknown paths, 405 (with Allow) for a known path with
 * another method, 413 when a body exceeds max_body_bytes and 411 for a request
 * with Transfer-Encoding (chunked bodies are not read; Slack and Twilio send
 * Content-Length), before any handler runs.
 *
 * Limits (loop thread, see http_server.c):
 * - One deadline per request, http.request_timeout_ms, from the moment the server
 *   starts waiting for it (the connection's accept, or the end of the previous
 *   response on a kept-alive connection) until its body is complete. A request
 *   still reading its body then gets 408 and the connection closes; one still in
 *   its headers (or an idle kept-alive connection) is closed.
 * - At most max_conns connections (http.max_conns, or RLIMIT_NOFILE minus a reserve
 *   for Redis, curl and the workers). A new connection past the cap closes the
 *   oldest connection still reading its request. With none to close, a few more
 *   connections are let in for HTTP_ROUTE_PROBE routes only (/healthz, /readyz);
 *   any other request on those gets 503.
 * - Optionally at most http.max_conns_per_addr from one peer address: past it,
 *   that address's oldest connection still reading its request is closed (or,
 *   with none, the new one). Behind a reverse proxy all requests share one
 *   address, so this stays off there and the proxy limits clients.
 *
 * Logs never show a secret path: every log line that prints a request path
 * passes it through http_path_for_log(), which cuts what follows the prefix of a
 * route flagged HTTP_ROUTE_SECRET_REST.
 *
 * Threads: route handlers run on the loop thread and must not block. A handler
 * either fills the response at once (ROUTE_DONE) or returns ROUTE_PENDING after
 * http_call_begin(), and the call is answered later: by a worker with
 * http_call_finish(), or on the loop itself with http_call_answer() (a Slack
 * command whose Redis answer came through the loop's pipe, bot/store_pipe.h). Workers never see a connection: a call is an id plus a
 * state word, and the loop drops an answer whose connection has gone, so a
 * client hanging up can't cause a use-after-free.
 *
 * Slow answers: with ack_after_ms > 0, if the worker hasn't finished by then the
 * loop sends the given acknowledgement instead; http_call_finish() then returns
 * false and the worker delivers its answer another way (Slack's response_url). */
#ifndef WK_HTTP_SERVER_H
#define WK_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"

#define HTTP_MAX_ROUTE_HEADERS 4
#define HTTP_MAX_QUERY 4096
#define HTTP_MAX_RESPONSE_HEADERS 4

struct http_request {
	const char *method;
	const char *path;
	const char *path_rest;	/* for prefix routes: what follows the prefix */
	/* GET: the URL's query arguments (as libwebsockets decoded them) encoded
	 * again as one form, for form_parse() (bot/form.h); "" when there are
	 * none, or more than HTTP_MAX_QUERY bytes of them. */
	const char *query;
	const char *body;	/* raw bytes as received, NUL-terminated for convenience */
	size_t body_len;
	/* Values of the route's wanted headers, in its order; "" when absent. */
	const char *headers[HTTP_MAX_ROUTE_HEADERS];
	const struct config *cfg;
	struct http_session *session;	/* private to the server */
};

/* An extra response header. Both strings are static (or outlive the response);
 * the name is given without the colon, e.g. "Retry-After". */
struct http_header {
	const char *name;
	const char *value;
};

struct http_response {
	int status;
	const char *content_type;	/* static string */
	char *body;			/* malloc'd, owned by the response */
	size_t len;
	/* Extra headers, in order, added with http_response_add_header(). */
	struct http_header headers[HTTP_MAX_RESPONSE_HEADERS];
	size_t n_headers;
};

enum route_result { ROUTE_DONE, ROUTE_PENDING };
typedef enum route_result (*route_fn)(struct http_request *req, struct http_response *resp);

/* Route flags. */
enum {
	/* What follows the prefix is a secret (an invite code, a feed token): logs
	 * show the prefix only. */
	HTTP_ROUTE_SECRET_REST = 1u << 0,
	/* A health probe: may use the connections kept in reserve when the server is full. */
	HTTP_ROUTE_PROBE = 1u << 1,
};

struct route {
	const char *method;
	const char *path;	/* exact, or a prefix when it ends with '/' */
	const char *name;	/* metrics label */
	route_fn handler;
	const char *headers[HTTP_MAX_ROUTE_HEADERS];	/* lowercase, e.g. "x-slack-signature" */
	unsigned flags;		/* HTTP_ROUTE_* */
};

extern const struct route http_routes[];	/* bot/routes.c, terminated by a zeroed entry */

/* Response helpers: body copied. */
void http_respond(struct http_response *resp, int status, const char *content_type,
		  const char *body, size_t len);
void http_respond_text(struct http_response *resp, int status, const char *text);
/* An HTML page (body taken, malloc'd) with the headers every page of ours sends:
 * nosniff, a Content-Security-Policy that allows nothing but inline style
 * attributes, and no Referer (page URLs may carry a secret). */
void http_respond_html(struct http_response *resp, int status, char *body, size_t len);
/* Add an extra header (name without the colon; both strings static). More than
 * HTTP_MAX_RESPONSE_HEADERS is a programming error and aborts. */
void http_response_add_header(struct http_response *resp, const char *name, const char *value);
void http_response_free(struct http_response *resp);

/* path made fit for a log line: quoted with log_quote() and, when a route with
 * HTTP_ROUTE_SECRET_REST matches it (any method), cut after the route's prefix
 * ("/join/[redacted]"). Returns out. Any thread. */
const char *http_path_for_log(const char *path, char *out, size_t size);

struct http_call;
/* Loop thread, inside a route handler that will return ROUTE_PENDING. */
struct http_call *http_call_begin(struct http_request *req, int64_t ack_after_ms,
				  const char *ack_content_type, const char *ack_body);
/* Any thread, once. Consumes the caller's reference. Returns true when the
 * response was taken (sent, or dropped because the client left); false when an
 * acknowledgement already went out, in which case resp is untouched. */
bool http_call_finish(struct http_call *call, struct http_response *resp);

/* Loop thread: the same, for an answer made on the loop itself (a request
 * served through the loop's Redis pipe, bot/store_pipe.h): written at once. */
bool http_call_answer(struct http_call *call, struct http_response *resp);

/* The usual hand-off of a webhook or feed: begin a call (no early ack) into
 * *call and give job to a worker of class cls, keyed by key (bot/workers.h).
 * True: the worker owns job and finishes the call. False (shutting down, the
 * pool full): the call is already given back and *call is NULL; the caller
 * frees job and answers (a 503). Loop thread. */
struct worker;
bool http_call_submit(struct http_request *req, struct http_call **call, int cls, const char *key,
		      void (*fn)(struct worker *w, void *arg), void *job);

/* Run the loop until http_server_stop(); then finish in-flight requests (new
 * ones get 503) for up to cfg->shutdown_grace_ms. Returns 0, or -1 if the
 * listener could not be set up. listening (may be NULL) runs once on this
 * thread as soon as the port is bound, before any request is served: what must
 * not start unless the daemon really listens (the console) starts there. */
int http_server_run(const struct config *cfg, void (*listening)(void));
/* Any thread, async-signal context excluded. */
void http_server_stop(void);
/* After workers_stop(): free answers that arrived too late to send. */
void http_server_cleanup(void);

#endif
