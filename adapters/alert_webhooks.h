/* alert_webhooks.h - POST /hooks/<source>/<token>: alerts from Alertmanager,
 * Grafana, Sentry and our generic JSON, recorded as incidents.
 *
 * Order, so a refusal writes nothing and an answer of 2xx means the alert is
 * durable:
 *   1. loop thread: the token from the path (or, for POST /hooks/alertmanager,
 *      from `Authorization: Bearer <token>`) must have the shape of one, else
 *      401; the body is copied to a job on the worker pool (the server has
 *      already answered 413 past max_body_bytes).
 *   2. worker: the token's hash names an integration of this source (else 401);
 *      Sentry's Sentry-Hook-Signature, and Grafana's X-Grafana-Alerting-Signature
 *      when a secret is stored, are checked over the raw body (constant time;
 *      else 401);
 *   3. only then the JSON is parsed (adapters/alert_parse.h): 400 with
 *      {"error": "..."} saying what is wrong;
 *   4. one Redis step (incident_open: dedup, open or count a repeat, the storm
 *      limit, the first step's timer) or, for a resolve, incident_change; then
 *      200 {"incident": "INC-7", "result": "opened|repeat|storm|resolved|..."}.
 *      A store failure answers 503 with Retry-After (Alertmanager and Grafana
 *      retry 5xx); nothing is half-written because each step is one script.
 * Paging happens after the answer, through the incident's step timer.
 *
 * Logs never show a token: the routes are HTTP_ROUTE_SECRET_REST and the
 * Authorization header is never logged. */
#ifndef WK_ALERT_WEBHOOKS_H
#define WK_ALERT_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "bot/http_server.h"

enum route_result alert_route_alertmanager(struct http_request *req, struct http_response *resp);
enum route_result alert_route_grafana(struct http_request *req, struct http_response *resp);
enum route_result alert_route_sentry(struct http_request *req, struct http_response *resp);
enum route_result alert_route_generic(struct http_request *req, struct http_response *resp);

/* The headers each route asks for (bot/routes.c): always the bearer token
 * first, then the source's signature and its companion (Sentry's resource,
 * Grafana's timestamp, which Grafana sends under this name when a timestamp
 * header is configured there). */
#define ALERT_HEADERS { "authorization", NULL, NULL, NULL }
#define ALERT_SENTRY_HEADERS { "authorization", "sentry-hook-signature", "sentry-hook-resource", NULL }
#define ALERT_GRAFANA_HEADERS { "authorization", "x-grafana-alerting-signature", \
				"x-grafana-alerting-timestamp", NULL }

/* Lowercase hex HMAC-SHA256 of [prefix ":"] body under secret equals sig
 * (constant time). For tests: the fixtures in alert-webhooks.md. */
bool alert_signature_valid(const char *secret, const char *prefix, const char *body, size_t len, const char *sig);

#endif
