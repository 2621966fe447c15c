/* slack_events.c - see slack_events.h. */
#include "adapters/slack_events.h"

enum route_result slack_route_events(struct http_request *req, struct http_response *resp)
{
	(void)req;
	http_respond_text(resp, 404, "Slack events are not handled yet.");
	return ROUTE_DONE;
}

int slack_events_submit(const struct config *cfg, json_t *payload)
{
	(void)cfg;
	(void)payload;
	return -1;
}
