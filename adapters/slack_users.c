/* slack_users.c - see slack_users.h */
#include "adapters/slack_users.h"
#include "adapters/slack_api.h"
#include "adapters/slack_tokens.h"
#include "bot/buf.h"
#include "bot/mail.h"
#include "bot/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define USERS_INFO_TIMEOUT_MS 10000

/* The caller's done and arg, with the workspace a 429 is recorded under. */
struct users_call {
	courier_done_fn done;
	void *arg;
	char team[40];
};

/* Courier completion thread: note a 429 in the shared rate state, then hand
 * the answer on unchanged. */
static void users_answered(void *arg, struct courier_response *resp)
{
	struct users_call uc = *(struct users_call *)arg;

	free(arg);
	if (resp->status == 429)
		slack_api_note_429(uc.team, "users.info", resp->retry_after);
	uc.done(uc.arg, resp);
}

int slack_users_info_start_in(const struct config *cfg, struct store *s, const char *team_id,
			      const char *user_id, courier_done_fn done, void *arg)
{
	struct buf url = BUF_INIT(8192);
	char token[SLACK_TOKEN_SIZE], why[200];
	struct courier_request req = {
		.method = "GET",
		.bearer = token,
		.target = "slack.users.info",
		.timeout_ms = USERS_INFO_TIMEOUT_MS,
	};
	struct users_call *uc;
	long wait;

	if (!slack_id_valid(user_id) || slack_token_for(cfg, s, team_id, token, sizeof(token), why, sizeof(why)) != 0)
		return -1;
	if ((wait = slack_api_limited(team_id, "users.info")) > 0) {
		struct courier_response resp = { .status = 429, .retry_after = wait, .body = xstrdup("") };

		OPENSSL_cleanse(token, sizeof(token));
		done(arg, &resp);
		return 0;
	}
	/* The id is alphanumeric, so it needs no URL encoding. */
	if (buf_printf(&url, "%s/users.info?user=%s", cfg->slack_api_url, user_id) < 0) {
		OPENSSL_cleanse(token, sizeof(token));
		buf_free(&url);
		return -1;
	}
	uc = xcalloc(1, sizeof(*uc));
	uc->done = done;
	uc->arg = arg;
	wk_strlcpy(uc->team, team_id ? team_id : "", sizeof(uc->team));
	req.url = buf_cstr(&url);
	courier_call_async(&req, users_answered, uc);	/* copies req */
	OPENSSL_cleanse(token, sizeof(token));
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
