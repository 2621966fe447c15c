/* teams_api.c - see teams_api.h
 *
 * The token cache is one struct under one mutex. A refresh is always an
 * asynchronous courier call, finished on the courier's completion thread by
 * token_finish(): it stores the token, wakes the blocking callers waiting on
 * tc.cond and sends the asynchronous sends queued behind it. Blocking calls
 * never send a message on another caller's behalf, so a sender's courier
 * guard never ends up on someone else's message (only on a token fetch that
 * others may wait for: see the header). */
#include "adapters/teams_api.h"
#include "bot/buf.h"
#include "bot/courier.h"
#include "bot/form.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TEAMS_TIMEOUT_MS 10000
/* A blocking caller waits this long for a refresh: the courier finishes an
 * async call within its timeout plus 15 s of slack. */
#define TOKEN_WAIT_MS 30000
/* Refreshes one blocking call may go through (each ended with a token that
 * was gone again before this caller could copy it). */
#define TOKEN_ROUNDS 3
#define TOKEN_SCOPE "https://api.botframework.com/.default"
#define SERVICE_URL_MAX 2048
#define WHY_SIZE 256

enum op { OP_SEND, OP_UPDATE, OP_CREATE, OP_MEMBER };
static const char *const op_target[] = { "teams.send", "teams.update", "teams.create_conversation",
					 "teams.get_member" };

/* An asynchronous send, from teams_send_async() until done ran. */
struct pending {
	const struct config *cfg;
	char *url;
	char *body;		/* owned */
	size_t len;
	teams_done_fn done;	/* NULL: fire and forget */
	teams_member_fn member_done;	/* instead, for a member lookup (GET, no body) */
	void *arg;
	uint64_t gen;		/* the token generation it went out with */
	bool retried;		/* a 401 already cost it one token */
	struct pending *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* broadcast when a refresh ends */
	char token[TEAMS_TOKEN_MAX + 1];	/* "" when none; secret */
	int64_t valid_until_ms;		/* monotonic */
	uint64_t gen;			/* bumped by every new token */
	bool refreshing;
	uint64_t refreshes;		/* refreshes ended so far */
	int last_rc;			/* the last refresh: 0, or its failure */
	char last_why[WHY_SIZE];
	struct pending *waiting;	/* async sends queued behind the refresh, oldest first */
} tc = { .lock = PTHREAD_MUTEX_INITIALIZER };
static pthread_once_t tc_once = PTHREAD_ONCE_INIT;

static void tc_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&tc.cond, &a);
	pthread_condattr_destroy(&a);
}

static int64_t mono_ms(void)
{
	return wk_mono_us() / 1000;
}

static void set_why(char *why, size_t whysize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t whysize, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whysize)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whysize, fmt, ap);
	va_end(ap);
}

/* ---- small checks ---- */

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool id_ok(const char *id)
{
	return id && id[0] && strlen(id) <= TEAMS_ID_MAX && !has_ctl(id);
}

/* http(s)://host..., no spaces, control bytes, query or fragment (the path
 * is appended to it). */
static bool service_url_ok(const char *u)
{
	size_t skip;

	if (!u)
		return false;
	if (strncasecmp(u, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		skip = 7;
	else
		return false;
	if (!u[skip] || u[skip] == '/' || strlen(u) > SERVICE_URL_MAX || strpbrk(u, " ?#"))
		return false;
	return !has_ctl(u);
}

/* The error code of an answer, kept to [A-Za-z0-9_.] ("" when none): the
 * Connector's {"error":{"code"}} or the token endpoint's {"error":"..."}.
 * blocked: the Connector said the user blocked the bot. */
static void error_code(const char *body, size_t len, char *out, size_t size, bool *blocked)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *e = json_object_get(root, "error");
	const char *code = json_is_string(e) ? json_string_value(e) : json_string_value(json_object_get(e, "code"));
	const char *sub = json_string_value(json_object_get(e, "subCode"));
	size_t o = 0;

	*blocked = false;
	for (int k = 0; k < 2; k++) {
		const char *c = k ? sub : code;

		if (c && (strcmp(c, "MessageWritesBlocked") == 0 || strcmp(c, "ConversationBlockedByUser") == 0))
			*blocked = true;
	}
	for (; code && *code && o + 1 < size && o < 63; code++)
		if ((*code >= 'a' && *code <= 'z') || (*code >= 'A' && *code <= 'Z') || (*code >= '0' && *code <= '9') ||
		    *code == '_' || *code == '.')
			out[o++] = *code;
	if (size)
		out[o] = '\0';
	json_decref(root);
}

/* ---- URLs ---- */

static void add_segment(struct buf *u, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	buf_addc(u, '/');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '.' || *p == '_' || *p == '~') {
			buf_addc(u, (char)*p);
		} else {
			buf_addc(u, '%');
			buf_addc(u, hex[*p >> 4]);
			buf_addc(u, hex[*p & 15]);
		}
	}
}

/* <service_url without trailing '/'>/v3/conversations[/<conv>[/<kind>[/<id>]]] */
static void build_url(struct buf *u, const char *service_url, const char *conv, const char *kind, const char *id)
{
	size_t n = strlen(service_url);

	while (n > 0 && service_url[n - 1] == '/')
		n--;
	buf_add(u, service_url, n);
	buf_adds(u, "/v3/conversations");
	if (conv)
		add_segment(u, conv);
	if (kind) {
		buf_addc(u, '/');
		buf_adds(u, kind);
	}
	if (id)
		add_segment(u, id);
}

/* The checks every call starts with. 0 fine, else 1 with why. */
static int check_common(const struct config *cfg, const char *service_url, char *why, size_t whysize)
{
	if (!cfg->teams_app_id || !cfg->teams_app_id[0] || !cfg->teams_app_password ||
	    !cfg->teams_app_password[0] || !cfg->teams_token_url || !cfg->teams_token_url[0]) {
		set_why(why, whysize, "sending to Teams needs teams.app_id and teams.app_password (WK_TEAMS_APP_ID, "
			"WK_TEAMS_APP_PASSWORD)");
		return 1;
	}
	if (!service_url_ok(service_url)) {
		set_why(why, whysize, "the conversation's serviceUrl is not an http(s) URL we can use");
		return 1;
	}
	return 0;
}

/* ---- the token ---- */

/* The token endpoint's answer: 0 with the token and how long to keep it, 1
 * refused credentials, -1 anything else. */
static int token_parse(const struct courier_response *r, char *tok, int64_t *keep_ms, char *why, size_t whysize)
{
	char code[64];
	bool blocked;
	json_error_t jerr;
	json_t *root, *exp;
	const char *at;
	int64_t secs = 0;
	int rc = -1;

	if (r->status == 0) {
		set_why(why, whysize, "could not get a Teams token from teams.token_url: %s", r->error);
		return -1;
	}
	if (r->status < 200 || r->status > 299) {
		error_code(r->body, r->body_len, code, sizeof(code), &blocked);
		if (r->status == 400 || r->status == 401) {
			set_why(why, whysize, "the Teams token endpoint refused the bot's credentials (HTTP %ld%s%s): "
				"check teams.app_id, teams.app_password and teams.tenant_id", r->status,
				code[0] ? " " : "", code);
			return 1;
		}
		set_why(why, whysize, "the Teams token endpoint answered HTTP %ld%s%s", r->status, code[0] ? " " : "",
			code);
		return -1;
	}
	root = json_loadb(r->body, r->body_len, 0, &jerr);
	at = json_string_value(json_object_get(root, "access_token"));
	exp = json_object_get(root, "expires_in");
	if (json_is_integer(exp))
		secs = json_integer_value(exp);
	else if (json_is_string(exp) && !wk_parse_i64(json_string_value(exp), 1, 1 << 30, &secs))
		secs = 0;
	if (!at || !at[0] || strlen(at) > TEAMS_TOKEN_MAX || has_ctl(at) || strchr(at, ' ') || secs < 1 ||
	    secs > (1 << 30)) {
		set_why(why, whysize, "the Teams token endpoint answered without a usable access_token and expires_in");
	} else {
		wk_strlcpy(tok, at, TEAMS_TOKEN_MAX + 1);
		*keep_ms = secs > 600 ? (secs - 300) * 1000 : secs * 500;
		rc = 0;
	}
	json_decref(root);	/* (jansson does not wipe the copy it parsed) */
	return rc;
}

static void dispatch(struct pending *p, const char *tok, uint64_t gen);
static void pending_fail(struct pending *p, int rc, const char *why);

/* A refresh ended (the completion thread, or a caller whose refresh the
 * courier refused at once; no lock held): store, wake, send the queue. Only
 * one refresh runs, so this never runs twice at once. */
static void token_finish(int rc, const char *tok, int64_t keep_ms, const char *why)
{
	struct pending *q;
	uint64_t gen;

	pthread_mutex_lock(&tc.lock);
	if (rc == 0) {
		wk_strlcpy(tc.token, tok, sizeof(tc.token));
		tc.valid_until_ms = mono_ms() + keep_ms;
		tc.gen++;
	} else {
		wk_strlcpy(tc.last_why, why, sizeof(tc.last_why));
	}
	tc.last_rc = rc;
	gen = tc.gen;
	tc.refreshing = false;
	tc.refreshes++;
	q = tc.waiting;
	tc.waiting = NULL;
	pthread_cond_broadcast(&tc.cond);
	pthread_mutex_unlock(&tc.lock);
	if (rc == 0) {
		log_info("teams.token", "outcome=fetched keep_s=%lld", (long long)(keep_ms / 1000));
	} else {
		char qw[WHY_SIZE + 40];
		log_warn("teams.token", "outcome=%s why=%s", rc == 1 ? "refused" : "failed",
			 log_quote(qw, sizeof(qw), why));
	}
	while (q) {
		struct pending *p = q;

		q = p->next;
		p->next = NULL;
		if (rc == 0)
			dispatch(p, tok, gen);
		else
			pending_fail(p, rc, why);
	}
}

static void token_done(void *arg, struct courier_response *r)
{
	char tok[TEAMS_TOKEN_MAX + 1] = "", why[WHY_SIZE] = "";
	int64_t keep_ms = 0;
	int rc;

	(void)arg;
	rc = token_parse(r, tok, &keep_ms, why, sizeof(why));
	if (r->body)
		OPENSSL_cleanse(r->body, r->body_len);
	courier_response_free(r);
	token_finish(rc, tok, keep_ms, why);
	OPENSSL_cleanse(tok, sizeof(tok));
}

/* Start the one refresh (the caller set tc.refreshing; no lock held). */
static void token_refresh_start(const struct config *cfg)
{
	struct buf form = BUF_INIT(64 * 1024);
	const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", "Accept: application/json", NULL };
	struct courier_request req = {
		.method = "POST",
		.url = cfg->teams_token_url,
		.headers = headers,
		.target = "teams.token",
		.timeout_ms = TEAMS_TIMEOUT_MS,
	};

	form_encode_pair(&form, "grant_type", "client_credentials");
	form_encode_pair(&form, "client_id", cfg->teams_app_id);
	form_encode_pair(&form, "client_secret", cfg->teams_app_password);
	form_encode_pair(&form, "scope", TOKEN_SCOPE);
	req.body = buf_cstr(&form);
	req.body_len = form.len;
	courier_call_async(&req, token_done, NULL);	/* copies req */
	if (form.data)
		OPENSSL_cleanse(form.data, form.alloc);
	buf_free(&form);
}

static void token_drop(uint64_t gen)
{
	pthread_mutex_lock(&tc.lock);
	if (tc.gen == gen && tc.token[0]) {
		OPENSSL_cleanse(tc.token, sizeof(tc.token));
		tc.valid_until_ms = 0;
	}
	pthread_mutex_unlock(&tc.lock);
}

void teams_token_forget(void)
{
	pthread_mutex_lock(&tc.lock);
	OPENSSL_cleanse(tc.token, sizeof(tc.token));
	tc.valid_until_ms = 0;
	pthread_mutex_unlock(&tc.lock);
}

/* Under tc.lock: copy the token out when it is still good. */
static bool token_copy_locked(char *tok, uint64_t *gen)
{
	if (!tc.token[0] || mono_ms() >= tc.valid_until_ms)
		return false;
	wk_strlcpy(tok, tc.token, TEAMS_TOKEN_MAX + 1);
	*gen = tc.gen;
	return true;
}

/* Blocking: a valid token into tok (TEAMS_TOKEN_MAX + 1 bytes), starting or
 * waiting for the refresh. 0, or the refresh's failure (1, -1) with why. */
static int token_get(const struct config *cfg, char *tok, uint64_t *gen, char *why, size_t whysize)
{
	int64_t give_up = mono_ms() + TOKEN_WAIT_MS;
	struct timespec ts = { .tv_sec = (time_t)(give_up / 1000), .tv_nsec = (long)(give_up % 1000) * 1000000L };
	uint64_t seen = 0;
	bool watching = false;
	int rounds = 0, rc;

	pthread_once(&tc_once, tc_init);
	pthread_mutex_lock(&tc.lock);
	for (;;) {
		if (token_copy_locked(tok, gen)) {
			pthread_mutex_unlock(&tc.lock);
			return 0;
		}
		if (watching && tc.refreshes != seen) {
			/* The refresh we waited for ended without leaving us a token. */
			watching = false;
			if (tc.last_rc != 0 || ++rounds >= TOKEN_ROUNDS) {
				rc = tc.last_rc ? tc.last_rc : -1;
				set_why(why, whysize, "%s", tc.last_rc ? tc.last_why : "the Teams token kept expiring at once");
				pthread_mutex_unlock(&tc.lock);
				return rc;
			}
		}
		if (!watching) {
			seen = tc.refreshes;
			watching = true;
		}
		if (!tc.refreshing) {
			tc.refreshing = true;
			pthread_mutex_unlock(&tc.lock);
			token_refresh_start(cfg);
			pthread_mutex_lock(&tc.lock);
			continue;
		}
		if (pthread_cond_timedwait(&tc.cond, &tc.lock, &ts) == ETIMEDOUT && tc.refreshing &&
		    tc.refreshes == seen) {
			pthread_mutex_unlock(&tc.lock);
			set_why(why, whysize, "no Teams token from teams.token_url in time");
			return -1;
		}
	}
}

/* Async: send p with the cached token, or queue it behind the refresh
 * (starting it when none runs). p belongs to the queue once queued. */
static void token_async(struct pending *p)
{
	char tok[TEAMS_TOKEN_MAX + 1];
	const struct config *cfg = p->cfg;
	uint64_t gen = 0;
	bool have, start = false;
	struct pending **pp;

	pthread_once(&tc_once, tc_init);
	pthread_mutex_lock(&tc.lock);
	have = token_copy_locked(tok, &gen);
	if (!have) {
		for (pp = &tc.waiting; *pp; pp = &(*pp)->next)
			;
		p->next = NULL;
		*pp = p;
		if (!tc.refreshing)
			start = tc.refreshing = true;
	}
	pthread_mutex_unlock(&tc.lock);
	if (have) {
		dispatch(p, tok, gen);
		OPENSSL_cleanse(tok, sizeof(tok));
	} else if (start) {
		token_refresh_start(cfg);	/* p may be gone already: not touched */
	}
}

/* ---- judging an answer ---- */

static const char *outcome_word(int rc)
{
	return rc == 0 ? "done" : rc == 1 ? "refused" : rc == 2 ? "unknown" : rc == 4 ? "gone" : "failed";
}

/* The result of a Connector answer (or a failed transfer) for op; code gets
 * the sanitised error code for logs. A 401 here is the second one. */
static int judge(enum op op, const struct courier_response *r, long *retry_after, char *code, size_t codesize,
		 char *why, size_t whysize)
{
	bool blocked = false;
	const char *sp;

	*retry_after = -1;
	code[0] = '\0';
	if (r->status == 0) {
		if (!r->maybe_sent && strncmp(r->error, "invalid request", 15) == 0) {
			set_why(why, whysize, "the courier refused to send it: %s", r->error);
			return 1;
		}
		if (r->maybe_sent) {
			set_why(why, whysize, "no answer from Teams (%s)%s", r->error,
				op == OP_SEND ? ": it may have been posted" : "");
			return op == OP_SEND ? 2 : -1;
		}
		set_why(why, whysize, "could not reach Teams: %s", r->error);
		return -1;
	}
	if (r->status >= 200 && r->status <= 299)
		return 0;
	error_code(r->body, r->body_len, code, codesize, &blocked);
	sp = code[0] ? " " : "";
	if (r->status == 429) {
		*retry_after = r->retry_after;
		if (r->retry_after >= 0)
			set_why(why, whysize, "Teams is rate limiting the bot (429%s%s); Retry-After %ld seconds", sp,
				code, r->retry_after);
		else
			set_why(why, whysize, "Teams is rate limiting the bot (429%s%s, no Retry-After)", sp, code);
		return -1;
	}
	if (r->status == 408 || r->status == 412) {
		set_why(why, whysize, "Teams answered HTTP %ld%s%s; try again later", r->status, sp, code);
		return -1;
	}
	if (r->status == 401) {
		set_why(why, whysize, "the Bot Connector refused a fresh token too (401%s%s): check teams.app_id, "
			"teams.app_password and teams.tenant_id", sp, code);
		return 1;
	}
	if (r->status == 403 && blocked) {
		set_why(why, whysize, "the user blocked or uninstalled the bot (403 %s)", code[0] ? code : "MessageWritesBlocked");
		return 1;
	}
	if (r->status == 404) {
		set_why(why, whysize, "Teams knows no such %s (404%s%s)", op == OP_UPDATE ? "activity" :
			op == OP_MEMBER ? "member or conversation" : "conversation", sp, code);
		return op == OP_UPDATE ? 4 : 1;
	}
	if (r->status >= 400 && r->status <= 499) {
		set_why(why, whysize, "Teams refused it (HTTP %ld%s%s)", r->status, sp, code);
		return 1;
	}
	if (r->status >= 500) {
		set_why(why, whysize, "Teams answered HTTP %ld%s%s%s", r->status, sp, code,
			op == OP_SEND ? ": the message may have been posted" : "");
		return op == OP_SEND ? 2 : -1;
	}
	set_why(why, whysize, "Teams answered an unexpected HTTP %ld", r->status);
	return -1;
}

static void log_outcome(enum op op, int rc, long status, const char *code, const char *why)
{
	char q[WHY_SIZE + 40];

	metrics_outbound(op_target[op], rc == 0 ? "sent" : rc == 1 || rc == 4 ? "refused" : rc == 2 ? "unknown" : "failed");
	if (rc != 0)
		log_warn(op_target[op], "outcome=%s status=%ld code=%s why=%s", outcome_word(rc), status,
			 code && code[0] ? code : "-", log_quote(q, sizeof(q), why ? why : ""));
}

/* A string field of an answer into out: true when absent (out "") or copied;
 * false when it does not fit, is not a string, or has control bytes. */
static bool copy_field(json_t *obj, const char *key, char *out, size_t size)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);

	out[0] = '\0';
	if (!v || json_is_null(v))
		return true;
	if (!s || strlen(s) >= size || has_ctl(s))
		return false;
	wk_strlcpy(out, s, size);
	return true;
}

/* ---- blocking calls ---- */

/* One Connector call with a token, once more with a fresh one after a 401.
 * Returns the judged result; *r holds the answer (always freeable). */
static int connector_call(const struct config *cfg, enum op op, const char *method, const char *url,
			  const char *body, size_t len, struct courier_response *r, long *retry_after,
			  char *code, size_t codesize, char *why, size_t whysize)
{
	static const char *const json_headers[] = { "Content-Type: application/json", "Accept: application/json", NULL };
	static const char *const get_headers[] = { "Accept: application/json", NULL };
	char tok[TEAMS_TOKEN_MAX + 1];
	uint64_t gen = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	code[0] = '\0';
	for (int attempt = 0;; attempt++) {
		rc = token_get(cfg, tok, &gen, why, whysize);
		if (rc != 0)
			return rc;
		struct courier_request req = {
			.method = method,
			.url = url,
			.bearer = tok,
			.headers = body ? json_headers : get_headers,
			.body = body,
			.body_len = body ? len : 0,
			.target = op_target[op],
			.timeout_ms = TEAMS_TIMEOUT_MS,
		};
		courier_call(&req, r);
		OPENSSL_cleanse(tok, sizeof(tok));
		if (r->status != 401 || attempt > 0)
			break;
		/* Revoked or expired early: this token is done for; one more try. */
		log_info(op_target[op], "note=\"401 from the Bot Connector; fetching a new token and trying once more\"");
		courier_response_free(r);
		token_drop(gen);
	}
	return judge(op, r, retry_after, code, codesize, why, whysize);
}

/* What a 2xx answer must hold: copies it into out; 0, or a result with w. */
typedef int (*answer_fn)(json_t *root, void *out, char *w, size_t wsize);

struct call {
	enum op op;
	const char *method;
	const char *service_url, *conv, *kind, *id;	/* the URL's parts (build_url) */
	const char *body;	/* NULL for a GET */
	size_t len;
	answer_fn answer;	/* NULL: the answer's body does not matter */
	void *out;
};

/* The shared path of the blocking calls: URL, call, answer, log. */
static int blocking_call(const struct config *cfg, const struct call *c, long *retry_after, char *why,
			 size_t whysize)
{
	struct buf url = BUF_INIT(16384);
	struct courier_response r = { 0 };
	char code[64] = "", w[WHY_SIZE] = "";
	long ra = -1;
	int rc;

	if ((rc = check_common(cfg, c->service_url, w, sizeof(w))) != 0)
		goto out;
	build_url(&url, c->service_url, c->conv, c->kind, c->id);
	rc = connector_call(cfg, c->op, c->method, buf_cstr(&url), c->body, c->len, &r, &ra, code, sizeof(code), w,
			    sizeof(w));
	if (rc == 0 && c->answer) {
		json_error_t jerr;
		json_t *root = json_loadb(r.body, r.body_len, 0, &jerr);

		rc = c->answer(root, c->out, w, sizeof(w));
		json_decref(root);
	}
out:
	if (retry_after)
		*retry_after = ra;
	log_outcome(c->op, rc, r.status, code, w);
	set_why(why, whysize, "%s", rc ? w : "");
	courier_response_free(&r);
	buf_free(&url);
	return rc;
}

/* Bad arguments: 1, before anything is sent. */
static int refuse(enum op op, long *retry_after, char *why, size_t whysize, const char *what)
{
	if (retry_after)
		*retry_after = -1;
	set_why(why, whysize, "%s", what);
	log_outcome(op, 1, 0, NULL, what);
	return 1;
}

struct text_out {
	char *s;
	size_t size;
};

static int activity_answer(json_t *root, void *out, char *w, size_t wsize)
{
	struct text_out *t = out;

	(void)w;
	(void)wsize;
	if (t->s && t->size && !copy_field(root, "id", t->s, t->size))
		t->s[0] = '\0';	/* sent all the same: never a reason to send again */
	return 0;
}

int teams_send(const struct config *cfg, const char *service_url, const char *conversation_id,
	       const char *reply_to_id, const char *activity_json, size_t len, char *activity_id,
	       size_t idsize, long *retry_after, char *why, size_t whysize)
{
	struct text_out t = { activity_id, idsize };
	struct call c = { OP_SEND, "POST", service_url, conversation_id, "activities",
			  reply_to_id && reply_to_id[0] ? reply_to_id : NULL, activity_json, len, activity_answer, &t };

	if (activity_id && idsize)
		activity_id[0] = '\0';
	if (!id_ok(conversation_id) || (c.id && !id_ok(c.id)) || !activity_json || !len)
		return refuse(OP_SEND, retry_after, why, whysize,
			      "empty or over-long conversation or activity id, or no activity");
	return blocking_call(cfg, &c, retry_after, why, whysize);
}

int teams_update(const struct config *cfg, const char *service_url, const char *conversation_id,
		 const char *activity_id, const char *activity_json, size_t len, long *retry_after, char *why,
		 size_t whysize)
{
	struct call c = { OP_UPDATE, "PUT", service_url, conversation_id, "activities", activity_id, activity_json,
			  len, NULL, NULL };

	if (!id_ok(conversation_id) || !id_ok(activity_id) || !activity_json || !len)
		return refuse(OP_UPDATE, retry_after, why, whysize,
			      "an update needs the conversation id, the activity id and the activity");
	return blocking_call(cfg, &c, retry_after, why, whysize);
}

static int conversation_answer(json_t *root, void *out, char *w, size_t wsize)
{
	struct text_out *t = out;

	if (copy_field(root, "id", t->s, t->size) && id_ok(t->s))
		return 0;
	t->s[0] = '\0';
	set_why(w, wsize, "Teams created the conversation but answered without a usable id");
	return -1;
}

int teams_create_conversation(const struct config *cfg, const char *service_url, const char *tenant_id,
			      const char *user_id, char *conversation_id, size_t convsize, long *retry_after,
			      char *why, size_t whysize)
{
	struct text_out t = { conversation_id, convsize };
	struct call c = { OP_CREATE, "POST", service_url, NULL, NULL, NULL, NULL, 0, conversation_answer, &t };
	char bot[128];
	json_t *params;
	char *body;
	int rc;

	if (!conversation_id || !convsize)
		return refuse(OP_CREATE, retry_after, why, whysize, "no room for the conversation id");
	conversation_id[0] = '\0';
	if (!id_ok(tenant_id) || !id_ok(user_id) || !cfg->teams_app_id ||
	    (size_t)snprintf(bot, sizeof(bot), "28:%s", cfg->teams_app_id) >= sizeof(bot))
		return refuse(OP_CREATE, retry_after, why, whysize,
			      "creating a Teams conversation needs a user id, a tenant id and teams.app_id");
	params = json_pack("{s:{s:s}, s:[{s:s}], s:b, s:s, s:{s:{s:s}}}", "bot", "id", bot, "members", "id", user_id,
			   "isGroup", 0, "tenantId", tenant_id, "channelData", "tenant", "id", tenant_id);
	body = params ? json_dumps(params, JSON_COMPACT) : NULL;
	json_decref(params);
	if (!body)
		return refuse(OP_CREATE, retry_after, why, whysize,
			      "could not encode the conversation parameters (ids not UTF-8?)");
	c.body = body;
	c.len = strlen(body);
	rc = blocking_call(cfg, &c, retry_after, why, whysize);
	free(body);
	return rc;
}

static int member_answer(json_t *root, void *out, char *w, size_t wsize)
{
	static const struct {
		const char *key;
		size_t off, size;
	} fields[] = {
#define F(key, field) { key, offsetof(struct teams_member, field), sizeof(((struct teams_member *)0)->field) }
		F("id", id), F("name", name), F("aadObjectId", aad_object_id), F("email", email),
		F("userPrincipalName", user_principal_name), F("tenantId", tenant_id),
#undef F
	};
	struct teams_member *m = out;

	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (!copy_field(root, fields[i].key, (char *)m + fields[i].off, fields[i].size)) {
			memset(m, 0, sizeof(*m));
			set_why(w, wsize, "Teams answered a member whose %s is over-long or malformed", fields[i].key);
			return 1;	/* the same answer next time */
		}
	if (m->id[0])
		return 0;
	memset(m, 0, sizeof(*m));
	set_why(w, wsize, "Teams answered a member without an id");
	return -1;
}

int teams_get_member(const struct config *cfg, const char *service_url, const char *conversation_id,
		     const char *member_id, struct teams_member *out, long *retry_after, char *why,
		     size_t whysize)
{
	struct call c = { OP_MEMBER, "GET", service_url, conversation_id, "members", member_id, NULL, 0,
			  member_answer, out };

	memset(out, 0, sizeof(*out));
	if (!id_ok(conversation_id) || !id_ok(member_id))
		return refuse(OP_MEMBER, retry_after, why, whysize, "empty or over-long conversation or member id");
	return blocking_call(cfg, &c, retry_after, why, whysize);
}

/* ---- asynchronous sends ---- */

static void pending_free(struct pending *p)
{
	free(p->url);
	free(p->body);
	free(p);
}

/* Finish p with a failure that happened before its send could go out. */
static void pending_fail(struct pending *p, int rc, const char *why)
{
	log_outcome(p->member_done ? OP_MEMBER : OP_SEND, rc, 0, NULL, why);
	if (p->member_done) {
		struct teams_member none = { 0 };
		p->member_done(p->arg, rc, &none, why);
	} else if (p->done) {
		p->done(p->arg, rc, "", -1, why);
	}
	pending_free(p);
}

/* A member lookup answered (the completion thread). */
static void member_done(struct pending *p, struct courier_response *r)
{
	struct teams_member m = { 0 };
	char code[64], why[WHY_SIZE] = "";
	long ra;
	int rc = judge(OP_MEMBER, r, &ra, code, sizeof(code), why, sizeof(why));

	if (rc == 0) {
		json_error_t jerr;
		json_t *root = json_loadb(r->body, r->body_len, 0, &jerr);
		rc = json_is_object(root) ? member_answer(root, &m, why, sizeof(why)) : -1;
		if (!json_is_object(root))
			set_why(why, sizeof(why), "Teams answered a member lookup with something that is not JSON");
		json_decref(root);
	}
	log_outcome(OP_MEMBER, rc, r->status, code, why);
	courier_response_free(r);
	p->member_done(p->arg, rc, &m, rc == 0 ? "" : why);
	pending_free(p);
}

static void send_done(void *arg, struct courier_response *r)
{
	struct pending *p = arg;
	char id[TEAMS_ID_MAX + 1] = "", code[64], why[WHY_SIZE] = "";
	long ra;
	int rc;

	if (r->status == 401 && !p->retried) {
		p->retried = true;
		courier_response_free(r);
		log_info("teams.send", "note=\"401 from the Bot Connector; fetching a new token and trying once more\"");
		token_drop(p->gen);
		token_async(p);
		return;
	}
	if (p->member_done) {
		member_done(p, r);
		return;
	}
	rc = judge(OP_SEND, r, &ra, code, sizeof(code), why, sizeof(why));
	if (rc == 0) {
		json_error_t jerr;
		json_t *root = json_loadb(r->body, r->body_len, 0, &jerr);

		if (!copy_field(root, "id", id, sizeof(id)))
			id[0] = '\0';
		json_decref(root);
	}
	log_outcome(OP_SEND, rc, r->status, code, why);
	courier_response_free(r);
	p->done(p->arg, rc, id, ra, rc == 0 ? "" : why);
	pending_free(p);
}

/* Send p with tok (any thread, no tc.lock held); p is the courier's from here. */
static void dispatch(struct pending *p, const char *tok, uint64_t gen)
{
	static const char *const headers[] = { "Content-Type: application/json", "Accept: application/json", NULL };

	if (!p->done && !p->member_done) {
		courier_post_json(p->url, tok, p->body, p->len, "teams.send");	/* takes the body */
		p->body = NULL;
		pending_free(p);
		return;
	}
	p->gen = gen;
	struct courier_request req = {
		.method = p->member_done ? "GET" : "POST",
		.url = p->url,
		.bearer = tok,
		.headers = headers,
		.body = p->body,
		.body_len = p->len,
		.target = p->member_done ? "teams.get_member" : "teams.send",
		.timeout_ms = TEAMS_TIMEOUT_MS,
	};
	courier_call_async(&req, send_done, p);
}

/* Check p's call, build its URL (.../<kind>[/<id>]) and queue it behind the
 * token; a bad call finishes p at once. ok: the caller's own checks passed. */
static void pending_start(struct pending *p, const char *service_url, const char *conversation_id, const char *kind,
			  const char *id, bool ok, const char *bad)
{
	struct buf url = BUF_INIT(16384);
	char why[WHY_SIZE];
	int rc;

	if ((rc = check_common(p->cfg, service_url, why, sizeof(why))) != 0) {
		pending_fail(p, rc, why);
	} else if (!ok || !id_ok(conversation_id) || (id && !id_ok(id))) {
		pending_fail(p, 1, bad);
	} else {
		build_url(&url, service_url, conversation_id, kind, id);
		p->url = buf_detach(&url, NULL);
		token_async(p);
	}
	buf_free(&url);
}

void teams_send_async(const struct config *cfg, const char *service_url, const char *conversation_id,
		      const char *reply_to_id, char *activity_json, size_t len, teams_done_fn done, void *arg)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	p->cfg = cfg;
	p->body = activity_json;
	p->len = len;
	p->done = done;
	p->arg = arg;
	pending_start(p, service_url, conversation_id, "activities", reply_to_id && reply_to_id[0] ? reply_to_id : NULL,
		      activity_json && len, "empty or over-long conversation or activity id, or no activity");
}

void teams_get_member_async(const struct config *cfg, const char *service_url, const char *conversation_id,
			    const char *member_id, teams_member_fn done, void *arg)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	p->cfg = cfg;
	p->member_done = done;
	p->arg = arg;
	pending_start(p, service_url, conversation_id, "members", member_id ? member_id : "", true,
		      "empty or over-long conversation or member id");
}
