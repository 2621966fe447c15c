/* routes.c - every HTTP route of the daemon, in one table. */
#include "adapters/alert_webhooks.h"
#include "adapters/slack.h"
#include "adapters/slack_events.h"
#include "adapters/slack_oauth.h"
#include "adapters/teams.h"
#include "adapters/twilio_webhooks.h"
#include "bot/feeds.h"
#include "bot/http_server.h"
#include "bot/invite.h"
#include "bot/metrics.h"
#include "bot/store.h"

static enum route_result route_healthz(struct http_request *req, struct http_response *resp)
{
	(void)req;
	http_respond_text(resp, 200, "ok");
	return ROUTE_DONE;
}

/* Ready means Redis answers: a load balancer should send nothing here before. */
static enum route_result route_readyz(struct http_request *req, struct http_response *resp)
{
	(void)req;
	if (store_ready()) {
		http_respond_text(resp, 200, "ready");
	} else {
		http_respond_text(resp, 503, "not ready: Redis is unreachable");
		http_response_add_header(resp, "Retry-After", "1");
	}
	return ROUTE_DONE;
}

static enum route_result route_metrics(struct http_request *req, struct http_response *resp)
{
	struct buf b = BUF_INIT(4u * 1024 * 1024);

	(void)req;
	metrics_render(&b);
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = buf_detach(&b, &resp->len);
	return ROUTE_DONE;
}

/* The page an invite link opens: how to use the code. The code is not checked
 * here (that would be a guessing oracle without the per-user limit of
 * `/invite join`); anything that isn't shaped like a code gets a 404. */
static enum route_result route_join(struct http_request *req, struct http_response *resp)
{
	char code[INVITE_CODE_LEN + 1];
	struct buf b = BUF_INIT(8192);
	char *body;
	size_t len;

	if (invite_code_normalize(req->path_rest, code) < 0) {
		http_respond_text(resp, 404, "No such invite page.");
		return ROUTE_DONE;
	}
	buf_printf(&b,
		   "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		   "<title>Join Watchkeeper</title></head>\n<body style=\"font-family: sans-serif; "
		   "max-width: 36em; margin: 3em auto; line-height: 1.5\">\n"
		   "<h1>You're invited to Watchkeeper</h1>\n"
		   "<p>Watchkeeper runs your team's on-call from chat. To join, open your team's Slack "
		   "workspace and type:</p>\n<pre style=\"font-size: 1.2em\">/%s invite join %s</pre>\n"
		   "<p>Then try <code>/%s</code> to see who is on call.</p>\n"
		   "<p>The code works only in the workspace that invited you, and only until it "
		   "expires or is used up.</p>\n</body></html>\n",
		   req->cfg->slack_command[0].name, code, req->cfg->slack_command[0].name);
	body = buf_detach(&b, &len);
	http_respond_html(resp, 200, body, len);
	return ROUTE_DONE;
}

/* Flags: HTTP_ROUTE_PROBE may use the connections kept for health checks when the
 * server is full; HTTP_ROUTE_SECRET_REST keeps what follows the prefix (an invite
 * code, a feed or export token) out of every log line. */
const struct route http_routes[] = {
	{ "GET", "/healthz", "healthz", route_healthz, { 0 }, HTTP_ROUTE_PROBE },
	{ "GET", "/readyz", "readyz", route_readyz, { 0 }, HTTP_ROUTE_PROBE },
	{ "GET", "/metrics", "metrics", route_metrics, { 0 }, 0 },
	{ "POST", "/slack/commands", "slack_commands", slack_route_commands, SLACK_HEADERS, 0 },
	{ "POST", "/slack/actions", "slack_actions", slack_route_actions, SLACK_HEADERS, 0 },
	{ "POST", "/slack/events", "slack_events", slack_route_events, SLACK_HEADERS, 0 },
	{ "GET", "/slack/install", "slack_install", slack_oauth_route_install, { 0 }, 0 },
	{ "GET", "/slack/oauth/callback", "slack_oauth", slack_oauth_route_callback, SLACK_OAUTH_HEADERS, 0 },
	{ "POST", "/teams/messages", "teams_messages", teams_route_messages, TEAMS_HEADERS, 0 },
	{ "POST", "/twilio/status", "twilio_status", twilio_route_status, TWILIO_HEADERS, 0 },
	{ "POST", "/twilio/sms", "twilio_sms", twilio_route_sms, TWILIO_HEADERS, 0 },
	{ "GET", "/join/", "join", route_join, { 0 }, HTTP_ROUTE_SECRET_REST },
	{ "GET", "/ical/", "ical", feeds_route_ical, { 0 }, HTTP_ROUTE_SECRET_REST },
	{ "GET", "/export/", "export", feeds_route_export, { 0 }, HTTP_ROUTE_SECRET_REST },
	/* Alert webhooks: the token is the rest of the path (or, for Alertmanager,
	 * an Authorization: Bearer header on the bare path). */
	{ "POST", "/hooks/alertmanager/", "hooks", alert_route_alertmanager, ALERT_HEADERS, HTTP_ROUTE_SECRET_REST },
	{ "POST", "/hooks/alertmanager", "hooks", alert_route_alertmanager, ALERT_HEADERS, 0 },
	{ "POST", "/hooks/grafana/", "hooks", alert_route_grafana, ALERT_GRAFANA_HEADERS, HTTP_ROUTE_SECRET_REST },
	{ "POST", "/hooks/sentry/", "hooks", alert_route_sentry, ALERT_SENTRY_HEADERS, HTTP_ROUTE_SECRET_REST },
	{ "POST", "/hooks/generic/", "hooks", alert_route_generic, ALERT_HEADERS, HTTP_ROUTE_SECRET_REST },
	{ 0 }
};
