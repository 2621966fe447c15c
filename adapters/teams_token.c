/* teams_token.c - the Bot Connector token: the process-wide cache and its
 * refresh (client-credentials POST, parse, keep; see teams_api.h).
 *
 * The token cache is one struct under one mutex. A refresh is always an
 * asynchronous courier call, finished on the courier's completion thread by
 * token_finish(): it stores the token, wakes the blocking callers waiting on
 * tc.cond and sends the asynchronous sends queued behind it. Blocking calls
 * never send a message on another caller's behalf, so a sender's courier
 * guard never ends up on someone else's message (only on a token fetch that
 * others may wait for: see the header). */
#include "adapters/teams_api_int.h"
#include "bot/buf.h"
#include "bot/courier.h"
#include "bot/form.h"
#include "bot/log.h"
#include "bot/util.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* A blocking caller waits this long for a refresh: the courier finishes an
 * async call within its timeout plus 15 s of slack. */
#define TOKEN_WAIT_MS 30000
/* Refreshes one blocking call may go through (each ended with a token that
 * was gone again before this caller could copy it). */
#define TOKEN_ROUNDS 3
#define TOKEN_SCOPE "https://api.botframework.com/.default"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* broadcast when a refresh ends */
	char token[TEAMS_TOKEN_MAX + 1];	/* "" when none; secret */
	int64_t valid_until_ms;		/* monotonic */
	uint64_t gen;			/* bumped by every new token */
	bool refreshing;
	uint64_t refreshes;		/* refreshes ended so far */
	int last_rc;			/* the last refresh: 0, or its failure */
	char last_why[TEAMS_WHY_SIZE];
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
		teams_set_why(why, whysize, "could not get a Teams token from teams.token_url: %s", r->error);
		return -1;
	}
	if (r->status < 200 || r->status > 299) {
		teams_error_code(r->body, r->body_len, code, sizeof(code), &blocked);
		if (r->status == 400 || r->status == 401) {
			teams_set_why(why, whysize, "the Teams token endpoint refused the bot's credentials (HTTP %ld%s%s): "
				"check teams.app_id, teams.app_password and teams.tenant_id", r->status,
				code[0] ? " " : "", code);
			return 1;
		}
		teams_set_why(why, whysize, "the Teams token endpoint answered HTTP %ld%s%s", r->status, code[0] ? " " : "",
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
	if (!at || !at[0] || strlen(at) > TEAMS_TOKEN_MAX || teams_has_ctl(at) || strchr(at, ' ') || secs < 1 ||
	    secs > (1 << 30)) {
		teams_set_why(why, whysize, "the Teams token endpoint answered without a usable access_token and expires_in");
	} else {
		wk_strlcpy(tok, at, TEAMS_TOKEN_MAX + 1);
		*keep_ms = secs > 600 ? (secs - 300) * 1000 : secs * 500;
		rc = 0;
	}
	json_decref(root);	/* (jansson does not wipe the copy it parsed) */
	return rc;
}


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
		char qw[TEAMS_WHY_SIZE + 40];
		log_warn("teams.token", "outcome=%s why=%s", rc == 1 ? "refused" : "failed",
			 log_quote(qw, sizeof(qw), why));
	}
	while (q) {
		struct pending *p = q;

		q = p->next;
		p->next = NULL;
		if (rc == 0)
			teams_pending_dispatch(p, tok, gen);
		else
			teams_pending_fail(p, rc, why);
	}
}

static void token_done(void *arg, struct courier_response *r)
{
	char tok[TEAMS_TOKEN_MAX + 1] = "", why[TEAMS_WHY_SIZE] = "";
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

void teams_token_drop(uint64_t gen)
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
int teams_token_get(const struct config *cfg, char *tok, uint64_t *gen, char *why, size_t whysize)
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
				teams_set_why(why, whysize, "%s", tc.last_rc ? tc.last_why : "the Teams token kept expiring at once");
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
			teams_set_why(why, whysize, "no Teams token from teams.token_url in time");
			return -1;
		}
	}
}

/* Async: send p with the cached token, or queue it behind the refresh
 * (starting it when none runs). p belongs to the queue once queued. */
void teams_token_async(struct pending *p)
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
		teams_pending_dispatch(p, tok, gen);
		OPENSSL_cleanse(tok, sizeof(tok));
	} else if (start) {
		token_refresh_start(cfg);	/* p may be gone already: not touched */
	}
}
