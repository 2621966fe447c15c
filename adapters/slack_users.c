/* slack_users.c - see slack_users.h */
#include "adapters/slack_users.h"
#include "adapters/slack_api.h"
#include "bot/buf.h"
#include "bot/mail.h"
#include "bot/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define USERS_INFO_TIMEOUT_MS 10000

int slack_users_info_start(const struct config *cfg, const char *user_id, courier_done_fn done,
			   void *arg)
{
	struct buf url = BUF_INIT(8192);
	struct courier_request req = {
		.method = "GET",
		.bearer = cfg->slack_bot_token,
		.target = "slack.users.info",
		.timeout_ms = USERS_INFO_TIMEOUT_MS,
	};

	if (!cfg->slack_bot_token || !cfg->slack_bot_token[0] || !slack_id_valid(user_id))
		return -1;
	/* The id is alphanumeric, so it needs no URL encoding. */
	if (buf_printf(&url, "%s/users.info?user=%s", cfg->slack_api_url, user_id) < 0) {
		buf_free(&url);
		return -1;
	}
	req.url = buf_cstr(&url);
	courier_call_async(&req, done, arg);	/* copies req */
	buf_free(&url);
	return 0;
}

int slack_users_info_email(const struct courier_response *resp, char *email, size_t size, char *why,
			   size_t whysize)
{
	json_error_t jerr;
	json_t *root = NULL, *ok;
	const char *e;
	char code[64];
	int rc = -1;

	if (size)
		email[0] = '\0';
	why[0] = '\0';
	if (resp->status == 0) {
		snprintf(why, whysize, "could not reach Slack: %s", resp->error);
		return -1;
	}
	if (resp->status == 429) {
		snprintf(why, whysize, "Slack is rate limiting users.info (Retry-After %ld)", resp->retry_after);
		return -1;
	}
	root = json_loadb(resp->body, resp->body_len, 0, &jerr);
	ok = json_object_get(root, "ok");
	if (!json_is_boolean(ok)) {
		snprintf(why, whysize, "Slack answered users.info with HTTP %ld and no ok field", resp->status);
		goto out;
	}
	if (!json_is_true(ok)) {
		slack_error_code(json_string_value(json_object_get(root, "error")), code, sizeof(code));
		snprintf(why, whysize, "Slack users.info said %s", code);
		if (strcmp(code, "user_not_found") == 0 || strcmp(code, "user_not_visible") == 0 ||
		    strcmp(code, "missing_scope") == 0)
			rc = 1;
		goto out;
	}
	e = json_string_value(json_object_get(json_object_get(json_object_get(root, "user"), "profile"),
					      "email"));
	if (!e || !e[0]) {
		snprintf(why, whysize, "the Slack profile shows no email (hidden, or no users:read.email scope)");
		rc = 1;
	} else if (strlen(e) >= size || !mail_address_valid(e)) {
		snprintf(why, whysize, "the Slack profile's email is not a plain address");
		rc = 1;
	} else {
		wk_strlcpy(email, e, size);
		rc = 0;
	}
out:
	json_decref(root);
	return rc;
}
