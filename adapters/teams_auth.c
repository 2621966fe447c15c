/* teams_auth.c - see teams_auth.h */
#include "adapters/teams_auth.h"
#include "bot/courier.h"
#include "bot/crypto.h"
#include "bot/log.h"
#include "bot/util.h"
#include "bot/workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define VERIFIED_SLOTS 256

/* The fetch is a chain on the courier's completion thread: metadata, then the
 * key set. Only one chain runs at a time (fetching). */
static struct {
	pthread_mutex_t lock;
	const struct config *cfg;
	struct teams_keys *keys;	/* NULL before the first set */
	int64_t fetched_ms;		/* when keys arrived */
	int64_t next_try_ms;		/* no new fetch before this (failure backoff) */
	int64_t kid_fetch_ms;		/* the last refetch for an unknown kid */
	bool fetching;
	unsigned long fetches;
	/* Tokens already verified against the current set (the Connector sends
	 * the same token with every activity for an hour): by SHA-256, with the
	 * claims the request still needs. Emptied when the set is replaced, so a
	 * key taken out of the set stops a token at once. */
	struct verified {
		unsigned char digest[CRYPTO_SHA256_LEN];
		int64_t exp, nbf;
		char serviceurl[TEAMS_CLAIM_MAX];
	} verified[VERIFIED_SLOTS];
} auth = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void fetch_failed(const char *step, const char *why)
{
	char q[200];

	log_warn("teams.keys", "step=%s error=%s", step, log_quote(q, sizeof(q), why));
	pthread_mutex_lock(&auth.lock);
	auth.fetching = false;
	auth.next_try_ms = wk_now_ms() + TEAMS_KEYS_RETRY_MS;
	pthread_mutex_unlock(&auth.lock);
}

static void keys_answered(void *arg, struct courier_response *resp)
{
	char err[TEAMS_ERR_SIZE];
	struct teams_keys *k, *old;

	(void)arg;
	if (resp->status != 200) {
		fetch_failed("jwks", resp->status ? "the key set answered with an error status" : resp->error);
		courier_response_free(resp);
		return;
	}
	k = teams_keys_parse(resp->body, resp->body_len, err, sizeof(err));
	courier_response_free(resp);
	if (!k) {
		fetch_failed("jwks", err);
		return;
	}
	pthread_mutex_lock(&auth.lock);
	old = auth.keys;
	auth.keys = k;
	memset(auth.verified, 0, sizeof(auth.verified));
	auth.fetched_ms = wk_now_ms();
	auth.fetching = false;
	auth.fetches++;
	pthread_mutex_unlock(&auth.lock);
	teams_keys_unref(old);
	log_info("teams.keys", "keys=%zu", teams_keys_count(k));
}

static void metadata_answered(void *arg, struct courier_response *resp)
{
	char uri[1024], issuer[256], err[TEAMS_ERR_SIZE];
	int rc;

	(void)arg;
	if (resp->status != 200) {
		fetch_failed("openid", resp->status ? "the OpenID metadata answered with an error status" : resp->error);
		courier_response_free(resp);
		return;
	}
	rc = teams_openid_parse(resp->body, resp->body_len, uri, sizeof(uri), issuer, sizeof(issuer), err,
				sizeof(err));
	courier_response_free(resp);
	if (rc < 0) {
		fetch_failed("openid", err);
		return;
	}
	struct courier_request req = { .method = "GET", .url = uri, .target = "teams.jwks", .timeout_ms = 10000 };
	courier_call_async(&req, keys_answered, NULL);
}

static void fetch_begin(void)
{
	struct courier_request req = { .method = "GET", .url = auth.cfg->teams_openid_url, .target = "teams.openid",
				       .timeout_ms = 10000 };
	courier_call_async(&req, metadata_answered, NULL);
}

/* The loop thread must not call the courier: a worker starts the chain. */
static void fetch_job(struct worker *w, void *arg)
{
	(void)w;
	(void)arg;
	fetch_begin();
}

/* Under the lock: claim the one fetch if one may start now. */
static bool fetch_claim(int64_t now)
{
	if (auth.fetching || now < auth.next_try_ms)
		return false;
	auth.fetching = true;
	return true;
}

int teams_auth_start(const struct config *cfg)
{
	auth.cfg = cfg;
	if (!cfg->teams_app_id[0])
		return 0;
	pthread_mutex_lock(&auth.lock);
	bool go = fetch_claim(wk_now_ms());
	pthread_mutex_unlock(&auth.lock);
	if (go)
		fetch_begin();
	return 0;
}

void teams_auth_stop(void)
{
	pthread_mutex_lock(&auth.lock);
	teams_keys_unref(auth.keys);
	auth.keys = NULL;
	auth.fetching = false;
	pthread_mutex_unlock(&auth.lock);
}

unsigned long teams_auth_fetches(void)
{
	pthread_mutex_lock(&auth.lock);
	unsigned long n = auth.fetches;
	pthread_mutex_unlock(&auth.lock);
	return n;
}

static void refetch(void)
{
	if (workers_submit(WORK_WEBHOOK, "teams.keys", fetch_job, NULL) < 0) {
		pthread_mutex_lock(&auth.lock);
		auth.fetching = false;	/* shutting down */
		pthread_mutex_unlock(&auth.lock);
	}
}

int teams_auth_check(const struct config *cfg, const char *authorization, int64_t now_ms,
		     struct teams_jwt_claims *claims, const char **reason)
{
	struct teams_jwt_expect want = {
		.app_id = cfg->teams_app_id, .issuer = cfg->teams_issuer, .channel_id = "msteams",
		.now = now_ms / 1000, .skew = TEAMS_JWT_SKEW, .defer_service_url = true,
	};
	struct teams_keys *k;
	enum teams_auth r;
	bool go = false;
	unsigned char d[CRYPTO_SHA256_LEN];
	size_t slot;
	int64_t now_s = now_ms / 1000;

	crypto_sha256(authorization, strlen(authorization), d);
	slot = ((size_t)d[0] << 8 | d[1]) % VERIFIED_SLOTS;
	pthread_mutex_lock(&auth.lock);
	struct verified *v = &auth.verified[slot];
	if (auth.keys && memcmp(v->digest, d, sizeof(d)) == 0 && now_s < v->exp + TEAMS_JWT_SKEW &&
	    v->nbf <= now_s + TEAMS_JWT_SKEW) {
		memset(claims, 0, sizeof(*claims));
		memcpy(claims->serviceurl, v->serviceurl, sizeof(claims->serviceurl));
		claims->exp = v->exp;
		claims->nbf = v->nbf;
		pthread_mutex_unlock(&auth.lock);
		return 0;
	}
	k = teams_keys_ref(auth.keys);
	if (!k || now_ms - auth.fetched_ms >= TEAMS_KEYS_MAX_AGE_MS)
		go = fetch_claim(now_ms);
	pthread_mutex_unlock(&auth.lock);
	if (go)
		refetch();
	if (!k) {
		*reason = "the Bot Framework's signing keys are not loaded yet";
		return 503;
	}
	r = teams_jwt_verify(k, authorization, &want, claims);
	if (r == TEAMS_AUTH_OK) {
		pthread_mutex_lock(&auth.lock);
		if (auth.keys == k) {	/* not if the set changed meanwhile */
			memcpy(v->digest, d, sizeof(d));
			v->exp = claims->exp;
			v->nbf = claims->nbf;
			memcpy(v->serviceurl, claims->serviceurl, sizeof(v->serviceurl));
		}
		pthread_mutex_unlock(&auth.lock);
		teams_keys_unref(k);
		return 0;
	}
	teams_keys_unref(k);
	if (r == TEAMS_AUTH_UNKNOWN_KID) {
		pthread_mutex_lock(&auth.lock);
		go = now_ms - auth.kid_fetch_ms >= TEAMS_KEYS_KID_REFETCH_MS && fetch_claim(now_ms);
		if (go)
			auth.kid_fetch_ms = now_ms;
		pthread_mutex_unlock(&auth.lock);
		if (go)
			refetch();
	}
	*reason = teams_auth_reason(r);
	return teams_auth_http_status(r);
}
