/* slack_events.h - the Events API: app_mention, app_home_opened,
 * app_uninstalled and tokens_revoked, over HTTP and over Socket Mode.
 *
 * POST /slack/events verifies the signature (slack_request_authentic) before
 * it parses anything, bounds the body (SLACK_EVENTS_BODY_MAX), answers
 * url_verification with its challenge ({"challenge":…}, application/json), and
 * hands every event_callback to slack_events_submit(), answering 200 at once;
 * any other type gets an empty 200, and a body that is not a JSON object a 400
 * that says so (with X-Slack-No-Retry: 1: sending it again can't help). Socket
 * Mode hands over the payload of each events_api envelope the same way, and
 * acks it unless the answer was 1 (then Slack sends it again elsewhere).
 *
 * On a worker (fairness key "slack:<team>", as slash commands), each event is
 * first recorded by its event_id (wk:{slack:<team>}:slack_event:<id>, SET NX,
 * a day) so that a redelivery (Slack's HTTP retries with X-Slack-Retry-Num, a
 * Socket Mode envelope sent again, the same event at two instances) is dropped,
 * then handled by its type (the table in slack_events.c):
 *   app_mention      the text without the bot's mention runs as a command
 *                    (adapters/chat_text.h: "who is on call" is `/oncall now`)
 *                    through dispatch, replay-protected by the event_id; the
 *                    answer is posted in the thread (chat.postMessage with
 *                    thread_ts). An answer only the asker may see
 *                    (reply.personal: an invite code, a feed URL) goes to them
 *                    with chat.postEphemeral in that thread, and the thread
 *                    gets a one-line note instead.
 *   app_home_opened  (tab "home") views.publish of the Home (slack_home.h).
 *   app_uninstalled, tokens_revoked (of the bot)
 *                    slack_tokens_forget(): the workspace's token goes; its
 *                    org's data stays.
 * Other types are counted and dropped. Web API calls go through
 * courier_call_async() with the workspace's token (slack_token_for()), so
 * no worker waits on Slack; their outcome is logged.
 *
 * Metrics: watchkeeper_commands_total{command="slack_event",subcommand=TYPE,
 * outcome=received|duplicate|ok|failed} (TYPE "other" for types not handled). */
#ifndef WK_SLACK_EVENTS_H
#define WK_SLACK_EVENTS_H

#include <jansson.h>
#include <stddef.h>

#include "bot/config.h"
#include "bot/http_server.h"

/* The largest Events API body read (the server's http.max_body_bytes may be lower). */
#define SLACK_EVENTS_BODY_MAX (256 * 1024)
/* How long an event_id is remembered. */
#define SLACK_EVENTS_DEDUPE_S 86400

enum route_result slack_route_events(struct http_request *req, struct http_response *resp);

/* One authenticated event_callback object (borrowed). A redelivery (the same
 * event_id: Slack's HTTP retries, a Socket Mode envelope sent again) is done
 * once. The work (and the event_id dedupe, which needs Redis) runs on a
 * worker: this never blocks, so the loop and the Socket Mode thread may call it.
 * 0 taken (or an event type we don't handle), -1 not an event_callback with an
 * event_id, team and event object (nothing done), 1 a valid event not taken
 * because the daemon is shutting down (an HTTP caller answers 503, so that
 * Slack sends it again). */
int slack_events_submit(const struct config *cfg, json_t *payload);

/* The event types handled, by index (NULL past the last): the bot events the
 * app manifest subscribes to (adapters/slack_manifest.c), one table for both. */
const char *slack_events_type(size_t i);

#endif
