/* slack_oauth.h - installing the Slack app in a workspace (OAuth v2), so one
 * Watchkeeper serves many workspaces, each with its own bot token.
 *
 *   GET /slack/install          302 to slack.oauth_url with client_id, the bot
 *                               scopes (slack_bot_scopes_join()), redirect_uri
 *                               <public_url>/slack/oauth/callback and a signed
 *                               state; sets a random nonce in a cookie
 *                               (SLACK_OAUTH_COOKIE: HttpOnly, SameSite=Lax,
 *                               Path=/slack/oauth, Secure under https).
 *   GET /slack/oauth/callback   ?code=&state= (or ?error=access_denied&state=):
 *                               the state's MAC, age (SLACK_OAUTH_STATE_TTL_S)
 *                               and cookie binding first (400 and nothing
 *                               written otherwise); then oauth.v2.access
 *                               through the courier (never on the loop thread:
 *                               a worker starts it, its answer comes back to a
 *                               worker), the token sealed and stored
 *                               (adapters/slack_tokens.h), an HTML page.
 * Both answer 404 unless slack.client_id and slack.client_secret are set; the
 * callback refuses without secrets.key (a token never sits in Redis in plain
 * text). Enterprise Grid org-wide installs are refused, nothing stored.
 *
 * The state: "v1.<unix seconds>.<h>.<mac>", h the first 16 bytes of
 * SHA-256(cookie nonce) in hex, mac the hex HMAC-SHA256 over "v1.<ts>.<h>"
 * under a key derived from secrets.key when set, else slack.client_secret
 * (slack_oauth_state_key()). The cookie alone or the state alone is useless:
 * a state sent to someone else's browser does not match their cookie.
 *
 * Routes: loop thread. The rest: pure and thread-safe (unit-tested, fuzzed). */
#ifndef WK_SLACK_OAUTH_H
#define WK_SLACK_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/crypto.h"
#include "bot/http_server.h"

#define SLACK_OAUTH_COOKIE "wk_slack_oauth"
#define SLACK_OAUTH_STATE_TTL_S 600
/* A state made up to this far in the future still counts (instances' clocks). */
#define SLACK_OAUTH_STATE_SKEW_S 60
#define SLACK_OAUTH_NONCE_HEX 32
#define SLACK_OAUTH_STATE_SIZE 128
#define SLACK_OAUTH_CODE_SIZE 256

enum route_result slack_oauth_route_install(struct http_request *req, struct http_response *resp);
enum route_result slack_oauth_route_callback(struct http_request *req, struct http_response *resp);
#define SLACK_OAUTH_HEADERS { "cookie", NULL, NULL, NULL }

/* The state key: HMAC-SHA256(key = material, "watchkeeper slack oauth state
 * v1"), material being secrets.key's text when set, else slack.client_secret. */
void slack_oauth_state_key(const struct config *cfg, unsigned char key[CRYPTO_SHA256_LEN]);

/* The state for nonce (SLACK_OAUTH_NONCE_HEX lowercase hex) made at now
 * (unix seconds) into out (SLACK_OAUTH_STATE_SIZE). */
void slack_oauth_state_make(const unsigned char key[CRYPTO_SHA256_LEN], const char *nonce, int64_t now, char *out,
			    size_t size);

enum slack_oauth_state_result {
	SLACK_STATE_OK,
	SLACK_STATE_MALFORMED,	/* missing, or not the shape above */
	SLACK_STATE_BAD_MAC,	/* not made by us (tampered, or another key) */
	SLACK_STATE_EXPIRED,	/* older than SLACK_OAUTH_STATE_TTL_S (or from the future) */
	SLACK_STATE_NO_COOKIE,	/* this browser has no nonce cookie */
	SLACK_STATE_OTHER_COOKIE	/* made for another browser's cookie */
};
/* Check state against the key, the clock and the browser's nonce ("" when
 * it sent none). MACs and hashes are compared in constant time. */
enum slack_oauth_state_result slack_oauth_state_check(const unsigned char key[CRYPTO_SHA256_LEN], const char *state,
						      const char *nonce, int64_t now);
const char *slack_oauth_state_reason(enum slack_oauth_state_result r);

/* What the callback's query (a form, http_request.query) and Cookie header
 * carry. Hostile input: code is [A-Za-z0-9._-] only, state [A-Za-z0-9.],
 * error Slack's code kept to [a-z0-9_.] (slack_error_code()), nonce our
 * cookie's value when it has exactly the shape we set ("" otherwise). */
struct slack_oauth_callback {
	char code[SLACK_OAUTH_CODE_SIZE];
	char state[SLACK_OAUTH_STATE_SIZE];
	char error[64];
	char nonce[SLACK_OAUTH_NONCE_HEX + 1];
};
/* 0, or -1 with why (a malformed query, a field too long or of other
 * characters). Fields not present are "". */
int slack_oauth_callback_parse(const char *query, const char *cookie, struct slack_oauth_callback *out, char *why,
			       size_t whysize);

#endif
