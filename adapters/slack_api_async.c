/* slack_api_async.c - Web API calls a worker starts and does not wait for
 * (see slack_api.h, slack_api_post_async). The same judging as the blocking
 * path: `ok` decides, ok:false is logged with method and code, a 429 is
 * remembered for that method and workspace. */
#include "adapters/slack_api.h"
#include "adapters/slack_tokens.h"
#include "bot/courier.h"
#include "bot/log.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define SLACK_ASYNC_TIMEOUT_MS 10000

struct async_call {
	char method[32];
	char team[40];
	char label[80];
};

/* Courier completion thread: judge and log only (no Redis, no waiting). */
static void async_answered(void *arg, struct courier_response *resp)
{
	struct async_call *c = arg;
	json_error_t err;
	json_t *root = resp->status == 200 ? json_loadb(resp->body, resp->body_len, 0, &err) : NULL;
	char code[64], q[200];

	if (resp->status == 429) {
		slack_api_note_429(c->team, c->method, resp->retry_after);
		log_warn("slack.api", "method=%s team=%s %s outcome=limited retry_after=%ld", c->method, c->team, c->label,
			 resp->retry_after);
	} else if (json_is_true(json_object_get(root, "ok"))) {
		log_info("slack.api", "method=%s team=%s %s outcome=sent", c->method, c->team, c->label);
	} else if (root) {
		slack_error_code(json_string_value(json_object_get(root, "error")), code, sizeof(code));
		log_warn("slack.api", "method=%s team=%s %s outcome=refused error=%s", c->method, c->team, c->label, code);
	} else {
		log_warn("slack.api", "method=%s team=%s %s outcome=failed status=%ld why=%s", c->method, c->team,
			 c->label, resp->status,
			 log_quote(q, sizeof(q), resp->status ? "no ok field in the answer" : resp->error));
	}
	json_decref(root);
	courier_response_free(resp);
	free(c);
}

int slack_api_post_async(const struct config *cfg, struct store *s, const char *team, const char *method, json_t *msg,
			 const char *label, char *why, size_t whysize)
{
	static const char *const headers[] = { "Content-Type: application/json; charset=utf-8", NULL };
	char token[SLACK_TOKEN_SIZE], url[1024], target[64];
	struct async_call *c;
	char *body;
	long wait;
	int n, rc = -1;

	if (slack_token_for(cfg, s, team, token, sizeof(token), why, whysize) != 0)
		goto out;
	if ((wait = slack_api_limited(team, method)) > 0) {
		snprintf(why, whysize, "Slack is rate limiting %s for another %ld s", method, wait);
		goto out;
	}
	n = snprintf(url, sizeof(url), "%s/%s", cfg->slack_api_url, method);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		snprintf(why, whysize, "slack.api_url is too long");
		goto out;
	}
	if (!(body = json_dumps(msg, JSON_COMPACT))) {
		snprintf(why, whysize, "could not write the %s body", method);
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	wk_strlcpy(c->method, method, sizeof(c->method));
	wk_strlcpy(c->team, team, sizeof(c->team));
	wk_strlcpy(c->label, label ? label : "", sizeof(c->label));
	snprintf(target, sizeof(target), "slack.%s", method);
	struct courier_request req = { .method = "POST", .url = url, .bearer = token, .headers = headers,
				       .body = body, .body_len = strlen(body), .target = target,
				       .timeout_ms = SLACK_ASYNC_TIMEOUT_MS };
	courier_call_async(&req, async_answered, c);	/* copies req */
	free(body);
	rc = 0;
out:
	OPENSSL_cleanse(token, sizeof(token));
	json_decref(msg);
	return rc;
}
