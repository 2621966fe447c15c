/* slack.h - Slack slash commands and button clicks, over HTTP and Socket Mode.
 *
 * Both routes verify the request signature (adapters/slack_verify.h) over the
 * raw body before parsing anything, decode the form strictly, turn it into a
 * neutral struct request and hand it to a worker. Replies are rendered as Block
 * Kit JSON. A slash command not answered within slack.ack_after_ms is
 * acknowledged, and its real reply goes to response_url through the courier.
 * Each verified request carries its signature as request.replay_id (valid until
 * its timestamp + SLACK_VERIFY_MAX_SKEW), so dispatch runs it once; a replay is
 * answered 200 and posts nothing to response_url.
 * The routes run on the loop thread only.
 *
 * Socket Mode (adapters/slack_socket.c) hands each slash_commands and
 * interactive envelope's payload to slack_envelope_command() and
 * slack_envelope_action(): the same request building, the same worker job,
 * the same rendering as the routes. Such a delivery is named by its
 * invocation (a slash command's trigger_id; a click's action_ts, action_id,
 * block_id, container and user), hashed, as its replay_id for
 * SLACK_SOCKET_REPLAY_S, so a redelivery on a new envelope runs once. */
#ifndef WK_SLACK_H
#define WK_SLACK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bot/http_server.h"

/* What Slack gets when the answer is not ready within slack.ack_after_ms. */
#define SLACK_WORKING_BODY "{\"response_type\":\"ephemeral\",\"text\":\"Working on it\\u2026\"}"
/* How long a Socket Mode delivery's replay_id is kept (Slack retries within minutes). */
#define SLACK_SOCKET_REPLAY_S 3600

enum route_result slack_route_commands(struct http_request *req, struct http_response *resp);
enum route_result slack_route_actions(struct http_request *req, struct http_response *resp);

/* Verify a request's Slack signature (slack.signing_secret) over the raw body,
 * before anything parses it; on failure resp holds a 401 and this is false. */
bool slack_request_authentic(struct http_request *req, struct http_response *resp);

/* A slash_commands envelope's payload (borrowed): its job goes to a worker,
 * whose answer goes to slack_socket_reply(ack, ...) and, when that refuses
 * (acked meanwhile, connection gone), to response_url. 0: submitted. -1: not
 * a command we can read, or shutting down; err holds a sentence for the user
 * and nothing was submitted. Any thread that may not block. */
int slack_envelope_command(const struct config *cfg, json_t *payload, uint64_t ack, char *err, size_t errsz);
/* An interactive envelope's payload (borrowed), already acked: a block_actions
 * click runs on a worker and answers at its response_url, as over HTTP. 0:
 * submitted, or a kind we don't handle. -1: unreadable or shutting down (err). */
int slack_envelope_action(json_t *payload, char *err, size_t errsz);

/* Header order the routes ask for (see bot/routes.c). */
#define SLACK_HEADERS { "x-slack-request-timestamp", "x-slack-signature", NULL, NULL }

#endif
