/* routes.c - every HTTP route of the daemon, in one table. */
#include "adapters/slack.h"
#include "bot/http_server.h"
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
		resp->header_name = "Retry-After";
		resp->header_value = "1";
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

const struct route http_routes[] = {
	{ "GET", "/healthz", "healthz", route_healthz, { 0 } },
	{ "GET", "/readyz", "readyz", route_readyz, { 0 } },
	{ "GET", "/metrics", "metrics", route_metrics, { 0 } },
	{ "POST", "/slack/commands", "slack_commands", slack_route_commands, SLACK_HEADERS },
	{ "POST", "/slack/actions", "slack_actions", slack_route_actions, SLACK_HEADERS },
	{ 0 }
};
