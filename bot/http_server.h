/* http_server.h - the HTTP server on the libwebsockets loop thread.
 *
 * Routes are one const table (bot/routes.c): method, path, handler. The server
 * answers 404 for unknown paths, 405 (with Allow) for a known path with another
 * method, and 413 when a body exceeds max_body_bytes, before any handler runs.
 *
 * Threads: route handlers run on the loop thread and must not block. A handler
 * either fills the response at once (ROUTE_DONE) or hands the work to a worker
 * (ROUTE_PENDING) after http_call_begin(); the worker answers later with
 * http_call_finish(). Workers never see a connection: a call is an id plus a
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

struct http_request {
	const char *method;
	const char *path;
	const char *path_rest;	/* for prefix routes: what follows the prefix */
	const char *body;	/* raw bytes as received, NUL-terminated for convenience */
	size_t body_len;
	/* Values of the route's wanted headers, in its order; "" when absent. */
	const char *headers[HTTP_MAX_ROUTE_HEADERS];
	const struct config *cfg;
	struct http_session *session;	/* private to the server */
};

struct http_response {
	int status;
	const char *content_type;	/* static string */
	char *body;			/* malloc'd, owned by the response */
	size_t len;
	const char *header_name;	/* one optional extra header, static strings */
	const char *header_value;
};

enum route_result { ROUTE_DONE, ROUTE_PENDING };
typedef enum route_result (*route_fn)(struct http_request *req, struct http_response *resp);

struct route {
	const char *method;
	const char *path;	/* exact, or a prefix when it ends with '/' */
	const char *name;	/* metrics label */
	route_fn handler;
	const char *headers[HTTP_MAX_ROUTE_HEADERS];	/* lowercase, e.g. "x-slack-signature" */
};

extern const struct route http_routes[];	/* bot/routes.c, terminated by a zeroed entry */

/* Response helpers: body copied. */
void http_respond(struct http_response *resp, int status, const char *content_type,
		  const char *body, size_t len);
void http_respond_text(struct http_response *resp, int status, const char *text);
void http_response_free(struct http_response *resp);

struct http_call;
/* Loop thread, inside a route handler that will return ROUTE_PENDING. */
struct http_call *http_call_begin(struct http_request *req, int64_t ack_after_ms,
				  const char *ack_content_type, const char *ack_body);
/* Any thread, once. Consumes the caller's reference. Returns true when the
 * response was taken (sent, or dropped because the client left); false when an
 * acknowledgement already went out, in which case resp is untouched. */
bool http_call_finish(struct http_call *call, struct http_response *resp);

/* Run the loop until http_server_stop(); then finish in-flight requests (new
 * ones get 503) for up to cfg->shutdown_grace_ms. Returns 0, or -1 if the
 * listener could not be set up. */
int http_server_run(const struct config *cfg);
/* Any thread, async-signal context excluded. */
void http_server_stop(void);
/* After workers_stop(): free answers that arrived too late to send. */
void http_server_cleanup(void);

#endif
