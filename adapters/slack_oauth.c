/* slack_oauth.c - see slack_oauth.h */
#include "adapters/slack_oauth.h"
#include "adapters/slack_api.h"
#include "adapters/slack_manifest.h"
#include "adapters/slack_tokens.h"
#include "bot/buf.h"
#include "bot/courier.h"
#include "bot/form.h"
#include "bot/log.h"
#include "bot/secrets.h"
#include "bot/util.h"
#include "bot/workers.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#define OAUTH_TIMEOUT_MS 10000
/* The hash of the nonce a state carries: 16 bytes, in hex. */
#define NONCE_HASH_HEX 32
/* Room for the Location and Set-Cookie values within the server's header room. */
#define LOCATION_MAX 700
#define WORK_KEY "slack:oauth"

static const char state_label[] = "watchkeeper slack oauth state v1";

/* ---- the state (pure) ---- */

void slack_oauth_state_key(const struct config *cfg, unsigned char key[CRYPTO_SHA256_LEN])
{
	const char *material = cfg->secret_key && cfg->secret_key[0] ? cfg->secret_key : cfg->slack_client_secret;

	crypto_hmac_sha256(material, strlen(material), state_label, sizeof(state_label) - 1, key);
}

static void nonce_hash(const char *nonce, char out[NONCE_HASH_HEX + 1])
{
	unsigned char d[CRYPTO_SHA256_LEN];

	crypto_sha256(nonce, strlen(nonce), d);
	crypto_hex(d, NONCE_HASH_HEX / 2, out);
}

/* The hex MAC over the signed part "v1.<ts>.<h>" (n bytes of signed). */
static void state_mac(const unsigned char key[CRYPTO_SHA256_LEN], const char *signed_part, size_t n,
		      char out[CRYPTO_SHA256_HEX_SIZE])
{
	unsigned char mac[CRYPTO_SHA256_LEN];

	crypto_hmac_sha256(key, CRYPTO_SHA256_LEN, signed_part, n, mac);
	crypto_hex(mac, sizeof(mac), out);
}

void slack_oauth_state_make(const unsigned char key[CRYPTO_SHA256_LEN], const char *nonce, int64_t now, char *out,
			    size_t size)
{
	char h[NONCE_HASH_HEX + 1], body[64], mac[CRYPTO_SHA256_HEX_SIZE];
	int n;

	nonce_hash(nonce, h);
	n = snprintf(body, sizeof(body), "v1.%lld.%s", (long long)now, h);
	state_mac(key, body, (size_t)n, mac);
	snprintf(out, size, "%s.%s", body, mac);
}

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

enum slack_oauth_state_result slack_oauth_state_check(const unsigned char key[CRYPTO_SHA256_LEN], const char *state,
						      const char *nonce, int64_t now)
{
	char mac[CRYPTO_SHA256_HEX_SIZE], h[NONCE_HASH_HEX + 1];
	const char *p, *dot;
	int64_t ts = 0;
	size_t digits;

	/* v1.<1-12 digits>.<32 hex>.<64 hex>, nothing else */
	if (!state || strncmp(state, "v1.", 3) != 0)
		return SLACK_STATE_MALFORMED;
	p = state + 3;
	digits = strspn(p, "0123456789");
	if (digits < 1 || digits > 12 || p[digits] != '.')
		return SLACK_STATE_MALFORMED;
	for (size_t i = 0; i < digits; i++)
		ts = ts * 10 + (p[i] - '0');
	p += digits + 1;
	if (strlen(p) != NONCE_HASH_HEX + 1 + 2 * CRYPTO_SHA256_LEN || p[NONCE_HASH_HEX] != '.' ||
	    !lower_hex(p, NONCE_HASH_HEX) || !lower_hex(p + NONCE_HASH_HEX + 1, 2 * CRYPTO_SHA256_LEN))
		return SLACK_STATE_MALFORMED;
	dot = p + NONCE_HASH_HEX;
	state_mac(key, state, (size_t)(dot - state), mac);
	if (!wk_secret_equal(mac, 2 * CRYPTO_SHA256_LEN, dot + 1, 2 * CRYPTO_SHA256_LEN))
		return SLACK_STATE_BAD_MAC;
	if (ts > now + SLACK_OAUTH_STATE_SKEW_S || now - ts > SLACK_OAUTH_STATE_TTL_S)
		return SLACK_STATE_EXPIRED;
	if (!nonce || !nonce[0])
		return SLACK_STATE_NO_COOKIE;
	nonce_hash(nonce, h);
	if (!wk_secret_equal(h, NONCE_HASH_HEX, p, NONCE_HASH_HEX))
		return SLACK_STATE_OTHER_COOKIE;
	return SLACK_STATE_OK;
}

const char *slack_oauth_state_reason(enum slack_oauth_state_result r)
{
	static const char *const reasons[] = {
		[SLACK_STATE_OK] = "ok",
		[SLACK_STATE_MALFORMED] = "missing or malformed state",
		[SLACK_STATE_BAD_MAC] = "state not signed by this Watchkeeper",
		[SLACK_STATE_EXPIRED] = "state expired",
		[SLACK_STATE_NO_COOKIE] = "no install cookie in this browser",
		[SLACK_STATE_OTHER_COOKIE] = "state made for another browser",
	};
	return (size_t)r < ARRAY_LEN(reasons) ? reasons[r] : "?";
}

/* ---- the callback's input (pure) ---- */

static bool only(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr(extra, *s)))
			return false;
	return true;
}

/* Our cookie's value from a Cookie header ("a=1; wk_slack_oauth=<hex>"):
 * the first pair of that name, and only when it has the shape we set. */
static void cookie_nonce(const char *cookie, char out[SLACK_OAUTH_NONCE_HEX + 1])
{
	static const char name[] = SLACK_OAUTH_COOKIE "=";
	const char *p = cookie;

	out[0] = '\0';
	while (p && *p) {
		p += strspn(p, " \t");
		if (strncmp(p, name, sizeof(name) - 1) == 0) {
			const char *v = p + sizeof(name) - 1;
			size_t n = strcspn(v, ";");
			if (n == SLACK_OAUTH_NONCE_HEX && lower_hex(v, n)) {
				memcpy(out, v, n);
				out[n] = '\0';
			}
			return;
		}
		p = strchr(p, ';');
		if (p)
			p++;
	}
}

static int field(const struct form *f, const char *name, char *out, size_t size, const char *extra,
		 char *why, size_t whysize)
{
	const char *v = form_get(f, name);

	out[0] = '\0';
	if (!v)
		return 0;
	if (strlen(v) >= size || !only(v, extra)) {
		snprintf(why, whysize, "the %s parameter is too long or has unexpected characters", name);
		return -1;
	}
	wk_strlcpy(out, v, size);
	return 0;
}

int slack_oauth_callback_parse(const char *query, const char *cookie, struct slack_oauth_callback *out, char *why,
			       size_t whysize)
{
	struct form f = { 0 };
	char err[FORM_ERR_SIZE];
	const char *e;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	cookie_nonce(cookie, out->nonce);
	if (query && query[0] && form_parse(query, strlen(query), &f, err, sizeof(err)) < 0) {
		snprintf(why, whysize, "malformed query: %s", err);
		return -1;
	}
	if (field(&f, "code", out->code, sizeof(out->code), "._-", why, whysize) < 0 ||
	    field(&f, "state", out->state, sizeof(out->state), ".", why, whysize) < 0)
		goto out;
	if ((e = form_get(&f, "error")) != NULL)
		slack_error_code(e, out->error, sizeof(out->error));
	rc = 0;
out:
	form_free(&f);
	return rc;
}

/* ---- pages ---- */

static void html_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '&': buf_adds(b, "&amp;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, *s);
		}
	}
}

/* An HTML page: title, then a paragraph whose text is escaped here. Clears
 * the install cookie: it is good for one attempt. */
static void page(struct http_response *resp, const struct config *cfg, int status, const char *title,
		 const char *text)
{
	struct buf b = BUF_INIT(16384);
	char *body;
	size_t len;

	buf_adds(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
	html_text(&b, title);
	buf_adds(&b, "</title></head>\n<body style=\"font-family: sans-serif; max-width: 36em; margin: 3em auto; "
		     "line-height: 1.5\">\n<h1>");
	html_text(&b, title);
	buf_adds(&b, "</h1>\n<p>");
	html_text(&b, text);
	buf_adds(&b, "</p>\n</body></html>\n");
	body = buf_detach(&b, &len);
	http_respond_html(resp, status, body, len);
	http_response_add_header(resp, "Set-Cookie",
				 strncmp(cfg->public_url, "https:", 6) == 0
					 ? SLACK_OAUTH_COOKIE "=; Path=/slack/oauth; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
					 : SLACK_OAUTH_COOKIE "=; Path=/slack/oauth; Max-Age=0; HttpOnly; SameSite=Lax");
}

static void pagef(struct http_response *resp, const struct config *cfg, int status, const char *title,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void pagef(struct http_response *resp, const struct config *cfg, int status, const char *title,
		  const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	page(resp, cfg, status, title, text);
}

static bool installs_enabled(const struct config *cfg)
{
	return cfg->slack_client_id[0] && cfg->slack_client_secret[0];
}

static enum route_result installs_off(struct http_response *resp)
{
	http_respond_text(resp, 404, "Installing Watchkeeper from Slack is off here: set slack.client_id and "
				     "slack.client_secret (WK_SLACK_CLIENT_ID, WK_SLACK_CLIENT_SECRET) from the app's "
				     "Basic Information page.");
	return ROUTE_DONE;
}

static void redirect_uri(const struct config *cfg, struct buf *b)
{
	size_t n = strlen(cfg->public_url);

	if (n && cfg->public_url[n - 1] == '/')
		n--;
	buf_printf(b, "%.*s/slack/oauth/callback", (int)n, cfg->public_url);
}

/* ---- GET /slack/install ---- */

enum route_result slack_oauth_route_install(struct http_request *req, struct http_response *resp)
{
	const struct config *cfg = req->cfg;
	unsigned char key[CRYPTO_SHA256_LEN], raw[SLACK_OAUTH_NONCE_HEX / 2];
	char nonce[SLACK_OAUTH_NONCE_HEX + 1], state[SLACK_OAUTH_STATE_SIZE];
	struct buf q = BUF_INIT(4096), scopes = BUF_INIT(2048), redirect = BUF_INIT(2048), out = BUF_INIT(16384);
	struct buf loc = BUF_INIT(8192);
	size_t html_len, loc_at, cookie_at;

	if (!installs_enabled(cfg))
		return installs_off(resp);
	if (crypto_random(raw, sizeof(raw)) < 0) {
		http_respond_text(resp, 503, "No randomness available for the install state; try again.");
		return ROUTE_DONE;
	}
	crypto_hex(raw, sizeof(raw), nonce);
	slack_oauth_state_key(cfg, key);
	slack_oauth_state_make(key, nonce, (int64_t)time(NULL), state, sizeof(state));
	OPENSSL_cleanse(key, sizeof(key));
	slack_bot_scopes_join(&scopes, ",");
	redirect_uri(cfg, &redirect);
	form_encode_pair(&q, "client_id", cfg->slack_client_id);
	form_encode_pair(&q, "scope", buf_cstr(&scopes));
	form_encode_pair(&q, "redirect_uri", buf_cstr(&redirect));
	form_encode_pair(&q, "state", state);
	buf_printf(&loc, "%s%c%s", cfg->slack_oauth_url, strchr(cfg->slack_oauth_url, '?') ? '&' : '?',
		   buf_cstr(&q));
	if (loc.len > LOCATION_MAX) {
		http_respond_text(resp, 500, "slack.oauth_url is too long for a redirect.");
		goto out;
	}
	buf_adds(&out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Install Watchkeeper"
		       "</title></head>\n<body><p>Continue to <a href=\"");
	html_text(&out, buf_cstr(&loc));
	buf_adds(&out, "\">Slack</a> to add Watchkeeper to your workspace.</p></body></html>\n");
	/* The response's header values must live as long as the response: they
	 * follow the page in its own body, after the bytes that are sent. */
	html_len = out.len;
	buf_addc(&out, '\0');
	loc_at = out.len;
	buf_adds(&out, buf_cstr(&loc));
	buf_addc(&out, '\0');
	cookie_at = out.len;
	buf_printf(&out, "%s=%s; Path=/slack/oauth; Max-Age=%d; HttpOnly; SameSite=Lax%s", SLACK_OAUTH_COOKIE, nonce,
		   SLACK_OAUTH_STATE_TTL_S, strncmp(cfg->public_url, "https:", 6) == 0 ? "; Secure" : "");
	resp->status = 302;
	resp->content_type = "text/html; charset=utf-8";
	resp->body = buf_detach(&out, &resp->len);
	resp->len = html_len;
	http_response_add_header(resp, "Location", resp->body + loc_at);
	http_response_add_header(resp, "Set-Cookie", resp->body + cookie_at);
	http_response_add_header(resp, "Cache-Control", "no-store");
	http_response_add_header(resp, "Referrer-Policy", "no-referrer");
out:
	buf_free(&loc);
	buf_free(&q);
	buf_free(&scopes);
	buf_free(&redirect);
	buf_free(&out);
	return ROUTE_DONE;
}

/* ---- GET /slack/oauth/callback ---- */

struct oauth_job {
	struct http_call *call;
	const struct config *cfg;
	char code[SLACK_OAUTH_CODE_SIZE];
	struct courier_response answer;
	bool answered;
};

static void job_finish(struct oauth_job *job, struct http_response *resp)
{
	http_call_finish(job->call, resp);
	http_response_free(resp);
	if (job->answered)
		courier_response_free(&job->answer);
	OPENSSL_cleanse(job->code, sizeof(job->code));
	free(job);
}

static void exchange_finish(struct worker *w, void *arg);

/* Courier completion thread: only hands the answer to the pool. */
static void exchange_answered(void *arg, struct courier_response *r)
{
	struct oauth_job *job = arg;

	job->answer = *r;
	job->answered = true;
	if (workers_submit(WORK_WEBHOOK, WORK_KEY, exchange_finish, job) == 0)
		return;
	struct http_response resp = { 0 };
	page(&resp, job->cfg, 503, "Watchkeeper is restarting",
	     "Nothing was stored. Start the installation again in a minute.");
	job_finish(job, &resp);
}

/* Worker: start oauth.v2.access (form: client_id, client_secret, code,
 * redirect_uri) without waiting for it. */
static void exchange_start(struct worker *w, void *arg)
{
	struct oauth_job *job = arg;
	struct buf url = BUF_INIT(8192), body = BUF_INIT(8192), redirect = BUF_INIT(2048);
	static const char *const headers[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
	struct courier_request req = {
		.method = "POST",
		.headers = headers,
		.target = "slack.oauth.v2.access",
		.timeout_ms = OAUTH_TIMEOUT_MS,
	};

	redirect_uri(w->cfg, &redirect);
	buf_printf(&url, "%s/oauth.v2.access", w->cfg->slack_api_url);
	form_encode_pair(&body, "client_id", w->cfg->slack_client_id);
	form_encode_pair(&body, "client_secret", w->cfg->slack_client_secret);
	form_encode_pair(&body, "code", job->code);
	form_encode_pair(&body, "redirect_uri", buf_cstr(&redirect));
	req.url = buf_cstr(&url);
	req.body = buf_cstr(&body);
	req.body_len = body.len;
	courier_call_async(&req, exchange_answered, job);	/* copies req */
	OPENSSL_cleanse(body.data, body.alloc);
	buf_free(&url);
	buf_free(&body);
	buf_free(&redirect);
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A bot token as Slack issues them: xoxb-, then [A-Za-z0-9-], shorter than
 * SLACK_TOKEN_SIZE. Anything else is not stored. */
static bool bot_token_shaped(const char *t)
{
	return t && strncmp(t, "xoxb-", 5) == 0 && strlen(t) < SLACK_TOKEN_SIZE && only(t + 5, "-");
}

/* Worker: judge oauth.v2.access's answer, store the token, answer the browser. */
static void exchange_finish(struct worker *w, void *arg)
{
	struct oauth_job *job = arg;
	const struct config *cfg = w->cfg;
	struct courier_response *r = &job->answer;
	struct http_response resp = { 0 };
	json_error_t jerr;
	json_t *root = NULL, *team;
	char code[64], why[200], q[240], name[128];
	const char *team_id, *team_name, *token;

	if (r->status == 0) {
		log_warn("slack.install", "outcome=unreachable why=%s", log_quote(q, sizeof(q), r->error));
		page(&resp, cfg, 502, "Slack could not be reached", "Nothing was stored. Start the installation again.");
		goto out;
	}
	if (r->status == 429) {
		page(&resp, cfg, 503, "Slack is busy", "Slack is rate limiting installs; nothing was stored. "
						       "Start the installation again in a minute.");
		goto out;
	}
	root = json_loadb(r->body, r->body_len, 0, &jerr);
	if (!json_is_boolean(json_object_get(root, "ok"))) {
		log_warn("slack.install", "outcome=malformed status=%ld", r->status);
		page(&resp, cfg, 502, "Slack's answer was not understood", "Nothing was stored. Start the installation again.");
		goto out;
	}
	if (!json_is_true(json_object_get(root, "ok"))) {
		slack_error_code(jstr(root, "error"), code, sizeof(code));
		log_warn("slack.api", "method=oauth.v2.access error=%s", code);
		pagef(&resp, cfg, 400, "Slack refused the installation",
		      "Slack said %s. Nothing was stored. Start again from /slack/install (a code is good once, "
		      "for a few minutes).", code);
		goto out;
	}
	if (json_is_true(json_object_get(root, "is_enterprise_install"))) {
		log_warn("slack.install", "outcome=refused why=\"Enterprise Grid org-wide install\"");
		page(&resp, cfg, 403, "Org-wide installs are not supported",
		     "Watchkeeper is installed one workspace at a time; an Enterprise Grid org-wide install was "
		     "refused and nothing was stored. Install it into each workspace instead.");
		goto out;
	}
	team = json_object_get(root, "team");
	team_id = jstr(team, "id");
	team_name = jstr(team, "name");
	token = jstr(root, "access_token");
	if (!slack_id_valid(team_id) || !bot_token_shaped(token) || !jstr(root, "token_type") ||
	    strcmp(jstr(root, "token_type"), "bot") != 0) {
		log_warn("slack.install", "outcome=malformed why=\"no team id or bot token\"");
		page(&resp, cfg, 502, "Slack's answer was not understood",
		     "It named no workspace or no bot token. Nothing was stored.");
		goto out;
	}
	struct slack_install in = {
		.team_id = team_id,
		.team_name = team_name,
		.bot_user_id = slack_id_valid(jstr(root, "bot_user_id")) ? jstr(root, "bot_user_id") : "",
		.app_id = slack_id_valid(jstr(root, "app_id")) ? jstr(root, "app_id") : "",
		.scopes = jstr(root, "scope"),
		.installer = slack_id_valid(jstr(json_object_get(root, "authed_user"), "id"))
				     ? jstr(json_object_get(root, "authed_user"), "id") : "",
		.installed_ms = wk_now_ms(),
	};
	if (slack_tokens_install(cfg, w->store, &in, token, why, sizeof(why)) < 0) {
		log_error("slack.install", "team=%s outcome=not_stored why=%s", team_id, log_quote(q, sizeof(q), why));
		pagef(&resp, cfg, 503, "The installation could not be stored", "%s. Start the installation again.", why);
		goto out;
	}
	log_info("slack.install", "team=%s bot_user=%s installer=%s outcome=installed", team_id,
		 in.bot_user_id[0] ? in.bot_user_id : "-", in.installer[0] ? in.installer : "-");
	wk_strlcpy(name, team_name && team_name[0] ? team_name : team_id, sizeof(name));
	{
		char title[200];
		snprintf(title, sizeof(title), "Installed in %s", name);
		pagef(&resp, cfg, 200, title, "Watchkeeper is now in %s. Type /%s in any channel to start.", name,
		      cfg->slack_command[0].name);
	}
out:
	json_decref(root);
	if (job->answered && r->body)
		OPENSSL_cleanse(r->body, r->body_len);
	job_finish(job, &resp);
}

enum route_result slack_oauth_route_callback(struct http_request *req, struct http_response *resp)
{
	const struct config *cfg = req->cfg;
	struct slack_oauth_callback cb;
	unsigned char key[CRYPTO_SHA256_LEN];
	enum slack_oauth_state_result v;
	struct oauth_job *job;
	char why[200], q[240];

	if (!installs_enabled(cfg))
		return installs_off(resp);
	if (slack_oauth_callback_parse(req->query, req->headers[0], &cb, why, sizeof(why)) < 0) {
		log_warn("slack.install", "outcome=refused why=%s", log_quote(q, sizeof(q), why));
		pagef(resp, cfg, 400, "This install link is not valid", "%s. Nothing was stored; start again at "
		      "/slack/install.", why);
		return ROUTE_DONE;
	}
	slack_oauth_state_key(cfg, key);
	v = slack_oauth_state_check(key, cb.state, cb.nonce, (int64_t)time(NULL));
	OPENSSL_cleanse(key, sizeof(key));
	if (v != SLACK_STATE_OK) {
		log_warn("slack.install", "outcome=refused why=\"%s\"", slack_oauth_state_reason(v));
		pagef(resp, cfg, 400, "This install link is not valid",
		      "%s: %s. Nothing was stored. Start again at /slack/install, in the browser you finish in; "
		      "a link is good for %d minutes.",
		      v == SLACK_STATE_EXPIRED ? "It expired" : "It was not started in this browser",
		      slack_oauth_state_reason(v), SLACK_OAUTH_STATE_TTL_S / 60);
		return ROUTE_DONE;
	}
	if (cb.error[0]) {
		if (strcmp(cb.error, "access_denied") == 0)
			page(resp, cfg, 200, "Installation cancelled",
			     "Watchkeeper was not added to your workspace, and nothing was stored. You can install "
			     "it any time from /slack/install.");
		else
			pagef(resp, cfg, 400, "Slack did not install Watchkeeper", "Slack said %s. Nothing was stored.",
			      cb.error);
		return ROUTE_DONE;
	}
	if (!cb.code[0]) {
		page(resp, cfg, 400, "This install link is not valid", "It carries no code from Slack. Nothing was stored.");
		return ROUTE_DONE;
	}
	if (!secrets_enabled(cfg)) {
		log_warn("slack.install", "outcome=refused why=\"no secrets.key\"");
		page(resp, cfg, 503, "Installs need an encryption key",
		     "This Watchkeeper has no secrets.key (WK_SECRET_KEY: 32 random bytes in base64, "
		     "`openssl rand -base64 32`) to seal workspace tokens with, and tokens are never stored in "
		     "plain text. Nothing was stored; ask its operator to set one, then install again.");
		return ROUTE_DONE;
	}
	job = xcalloc(1, sizeof(*job));
	job->cfg = cfg;
	wk_strlcpy(job->code, cb.code, sizeof(job->code));
	OPENSSL_cleanse(&cb, sizeof(cb));
	if (http_call_submit(req, &job->call, WORK_WEBHOOK, WORK_KEY, exchange_start, job))
		return ROUTE_PENDING;
	free(job);
	http_respond_text(resp, 503, "Watchkeeper is shutting down; start the installation again in a minute.");
	return ROUTE_DONE;
}
