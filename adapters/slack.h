/* slack.h - Slack over HTTP: slash commands and button clicks.
 *
 * Both routes verify the request signature (adapters/slack_verify.h) over the
 * raw body before parsing anything, decode the form strictly, turn it into a
 * neutral struct request and hand it to a worker. Replies are rendered as Block
 * Kit JSON. A slash command not answered within slack.ack_after_ms is
 * acknowledged, and its real reply goes to response_url through the courier.
 * Each verified request carries its signature as request.replay_id (valid until
 * its timestamp + SLACK_VERIFY_MAX_SKEW), so dispatch runs it once; a replay is
 * answered 200 and posts nothing to response_url.
 * Loop thread only. */
#ifndef WK_SLACK_H
#define WK_SLACK_H

#include <stdbool.h>

#include "bot/http_server.h"

enum route_result slack_route_commands(struct http_request *req, struct http_response *resp);
enum route_result slack_route_actions(struct http_request *req, struct http_response *resp);

/* Verify a request's Slack signature (slack.signing_secret) over the raw body,
 * before anything parses it; on failure resp holds a 401 and this is false. */
bool slack_request_authentic(struct http_request *req, struct http_response *resp);

/* Header order the routes ask for (see bot/routes.c). */
#define SLACK_HEADERS { "x-slack-request-timestamp", "x-slack-signature", NULL, NULL }

#endif
