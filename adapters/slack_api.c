/* slack_api.c - see slack_api.h */
#include "adapters/slack_api.h"
#include "bot/buf.h"
#include "bot/courier.h"
#include "bot/log.h"
#include "bot/mail.h"
#include "bot/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SLACK_API_TIMEOUT_MS 10000

static bool slack_id_valid(const char *id)
{
	size_t n = 0;

	if (!id)
		return false;
	for (; id[n]; n++)
		if (n >= 32 || !((id[n] >= 'A' && id[n] <= 'Z') || (id[n] >= 'a' && id[n] <= 'z') ||
				 (id[n] >= '0' && id[n] <= '9')))
			return false;
	return n > 0;
}

/* Copy an error code from Slack into out, keeping only [a-z0-9_.] so a
 * hostile answer can't put markup or control bytes into chat text. */
static void error_code(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; in && *in && o + 1 < size; in++)
		if ((*in >= 'a' && *in <= 'z') || (*in >= '0' && *in <= '9') || *in == '_' || *in == '.')
			out[o++] = *in;
	out[o] = '\0';
	if (!o)
		wk_strlcpy(out, "unknown_error", size);
}

int slack_user_email(const struct config *cfg, const char *user_id, char *email, size_t size,
		     char *why, size_t whysize)
{
	struct buf url = BUF_INIT(8192);
	struct courier_response r;
	struct courier_request req = {
		.method = "GET",
		.bearer = cfg->slack_bot_token,
		.target = "slack.users.info",
		.timeout_ms = SLACK_API_TIMEOUT_MS,
	};
	json_error_t jerr;
	json_t *root = NULL, *ok;
	const char *e;
	char code[64];
	int rc = -1;

	if (size)
		email[0] = '\0';
	why[0] = '\0';
	if (!cfg->slack_bot_token || !cfg->slack_bot_token[0]) {
		snprintf(why, whysize, "looking up Slack emails needs slack.bot_token (WK_SLACK_BOT_TOKEN)");
		return -1;
	}
	if (!slack_id_valid(user_id)) {
		snprintf(why, whysize, "not a Slack user id");
		return -1;
	}
	/* The id is alphanumeric, so it needs no URL encoding. */
	if (buf_printf(&url, "%s/users.info?user=%s", cfg->slack_api_url, user_id) < 0) {
		snprintf(why, whysize, "slack.api_url is too long");
		return -1;
	}
	req.url = buf_cstr(&url);
	if (courier_call(&req, &r) < 0) {
		snprintf(why, whysize, "could not reach Slack: %s", r.error);
		goto out;
	}
	if (r.status == 429) {
		if (r.retry_after >= 0)
			snprintf(why, whysize, "Slack is rate limiting users.info; Retry-After %ld seconds",
				 r.retry_after);
		else
			snprintf(why, whysize, "Slack is rate limiting users.info (429, no Retry-After)");
		goto out;
	}
	root = json_loadb(r.body, r.body_len, 0, &jerr);
	ok = json_object_get(root, "ok");
	if (!json_is_boolean(ok)) {
		snprintf(why, whysize, "Slack answered users.info with HTTP %ld and no ok field", r.status);
		goto out;
	}
	if (!json_is_true(ok)) {
		error_code(json_string_value(json_object_get(root, "error")), code, sizeof(code));
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
	if (rc < 0) {
		char q[200];

		log_warn("slack.users_info_failed", "user=%s why=%s", slack_id_valid(user_id) ? user_id : "-",
			 log_quote(q, sizeof(q), why));
	}
	json_decref(root);
	courier_response_free(&r);
	buf_free(&url);
	return rc;
}
