/* slack_events.h - the Events API: app_mention, app_home_opened,
 * app_uninstalled and tokens_revoked, over HTTP and over Socket Mode.
 *
 * POST /slack/events verifies the signature (slack_request_authentic) before
 * it parses anything, answers url_verification with its challenge, and hands
 * every event_callback to slack_events_submit(); Socket Mode hands over the
 * payload of each events_api envelope the same way after acking it. */
#ifndef WK_SLACK_EVENTS_H
#define WK_SLACK_EVENTS_H

#include <jansson.h>

#include "bot/config.h"
#include "bot/http_server.h"

enum route_result slack_route_events(struct http_request *req, struct http_response *resp);

/* One authenticated event_callback object (borrowed). A redelivery (the same
 * event_id: Slack's HTTP retries, a Socket Mode envelope sent again) is done
 * once. The work (and the event_id dedupe, which needs Redis) runs on a
 * worker: this never blocks, so the loop and the Socket Mode thread may call it.
 * 0 taken (or an event type we don't handle), -1 not an event_callback with an
 * event_id, team and event object (nothing done). */
int slack_events_submit(const struct config *cfg, json_t *payload);

#endif
