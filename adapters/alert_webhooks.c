/* alert_webhooks.c - see alert_webhooks.h */
#include "adapters/alert_webhooks.h"
#include "adapters/alert_parse.h"
#include "bot/buf.h"
#include "bot/crypto.h"
#include "bot/escalation.h"
#include "bot/incident.h"
#include "bot/integration.h"
#include "bot/integration_cache.h"
#include "bot/log.h"
#include "bot/org.h"
#include "bot/secrets.h"
#include "bot/service.h"
#include "bot/store.h"
#include "bot/util.h"
#include "bot/workers.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JSON_TYPE "application/json"

struct hook_job {
	enum integration_source src;
	const struct config *cfg;
	struct http_call *call;
	char token[INTEGRATION_TOKEN_LEN + 1];
	char sig[CRYPTO_SHA256_HEX_SIZE + 8];	/* the signature header, "" when absent */
	char extra[64];				/* Sentry-Hook-Resource or Grafana's timestamp */
	char *body;
	size_t len;
};

/* {"error": why} or {"incident": ..., "result": ...}, with status. */
static void respond_json(struct http_response *resp, int status, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	json_decref(obj);
	resp->status = status;
	resp->content_type = JSON_TYPE;
	resp->len = s ? strlen(s) : 0;
	resp->body = s ? xstrdup(s) : xstrdup("");
	free(s);
	if (status == 503)
		http_response_add_header(resp, "Retry-After", "5");
}

static void respond_error(struct http_response *resp, int status, const char *why)
{
	respond_json(resp, status, json_pack("{ss}", "error", why));
}

bool alert_signature_valid(const char *secret, const char *prefix, const char *body, size_t len, const char *sig)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_SIZE];
	struct crypto_hmac h;

	if (!sig || !sig[0])
		return false;
	crypto_hmac_init(&h, secret, strlen(secret));
	if (prefix && prefix[0]) {
		crypto_hmac_update(&h, prefix, strlen(prefix));
		crypto_hmac_update(&h, ":", 1);
	}
	crypto_hmac_update(&h, body, len);
	crypto_hmac_final(&h, mac);
	crypto_hex(mac, sizeof(mac), hex);
	return wk_secret_equal(hex, strlen(hex), sig, strlen(sig));
}

/* ---- the worker ---- */

/* 0 authentic; else the status to answer, with why. */
static int authenticate(const struct hook_job *job, const struct integration *in, const char *sealed, char *why,
			size_t size)
{
	char context[200], secret[SECRETS_MAX_PLAIN + 1];
	size_t n;
	bool ok;

	if (strcmp(in->source, integration_source_name(job->src)) != 0) {
		snprintf(why, size, "this token belongs to a %s integration; use /hooks/%s/", in->source, in->source);
		return 401;
	}
	/* Sentry always signs; Grafana only when an HMAC secret is set on both sides. */
	if (job->src != SRC_SENTRY && !(job->src == SRC_GRAFANA && sealed[0]))
		return 0;
	if (!sealed[0]) {
		snprintf(why, size, "no client secret is stored for integration %lld: "
			 "`/incident integration secret %lld SECRET` in a DM", (long long)in->id, (long long)in->id);
		return 401;
	}
	integration_secret_context(in->org, in->id, context, sizeof(context));
	enum secrets_open_result r = secrets_open(job->cfg, context, sealed, secret, sizeof(secret), &n);
	if (r != SECRETS_OPENED && r != SECRETS_OPENED_OLD) {
		log_warn("alert.auth", "org=%s integration=%lld reason=\"stored secret does not open (%s)\"", in->org,
			 (long long)in->id, r == SECRETS_NO_KEY ? "sealed under a key not configured" : "bad");
		snprintf(why, size, "the stored secret cannot be opened here (secrets.key); store it again");
		return 401;
	}
	ok = alert_signature_valid(secret, job->src == SRC_GRAFANA ? job->extra : "", job->body, job->len, job->sig);
	memset(secret, 0, sizeof(secret));
	if (!ok) {
		snprintf(why, size, job->sig[0] ? "signature mismatch" : "missing signature header");
		return 401;
	}
	return 0;
}

/* The alert as one Redis step: open, count a repeat, or join the storm; with
 * stamp (the worker's copy of in and svc was read under it), only while the
 * org's audit tip still equals it: else INCIDENT_STALE, nothing answered. */
static int record_trigger(struct worker *w, const struct hook_job *job, const struct integration *in,
			  const struct service *svc, const struct alert *a, const char *stamp,
			  struct http_response *resp)
{
	char policy_text[INCIDENT_POLICY_MAX], rate_key[256], storm[INCIDENT_SUMMARY_MAX], line[INCIDENT_TEXT_MAX + 160];
	char repeat_line[INCIDENT_TEXT_MAX + 64], num[32];
	struct escalation_policy policy;
	const char *src = integration_source_name(job->src);
	int64_t now = wk_now_ms(), n;
	bool existing, pages = service_pages(svc, incident_severity_name(a->severity));

	escalation_default_policy(job->cfg, &policy);
	if (escalation_policy_format(&policy, policy_text, sizeof(policy_text)) < 0 ||
	    org_key(rate_key, sizeof(rate_key), in->org, "intg:%lld:new", (long long)in->id) < 0) {
		respond_error(resp, 500, "internal error");
		return -1;
	}
	snprintf(storm, sizeof(storm), "alert storm on %s", svc->name);
	snprintf(line, sizeof(line), "opened by %s: %s%s", src, a->details,
		 pages ? "" : " (below the service's paging threshold: nobody is paged)");
	snprintf(repeat_line, sizeof(repeat_line), "the alert changed: %s", a->details);
	struct incident_alert extra = { .sig = a->sig, .rate_key = rate_key,
					.max_new = job->cfg->incidents_max_new_per_minute, .storm_summary = storm };
	struct incident_new inc = { .summary = a->summary, .severity = incident_severity_name(a->severity),
				    .service = svc->name, .team = svc->team, .type = src, .dedup = a->dedup,
				    .opened_by = src, .policy = policy_text, .first_step_due_ms = pages ? now : 0,
				    .timeline = line, .alert = &extra, .stamp = stamp };
	int rc = incident_open(w->store, in->org, &inc, now, repeat_line, &n, &existing);
	if (rc == INCIDENT_STALE)
		return rc;
	if (rc < 0) {
		log_warn("alert.record", "org=%s integration=%lld result=store_error error=\"%s\"", in->org,
			 (long long)in->id, store_error(w->store));
		respond_error(resp, 503, "the database did not answer; retry");
		return -1;
	}
	snprintf(num, sizeof(num), "INC-%lld", (long long)n);
	respond_json(resp, 200, json_pack("{ss ss sb}", "incident", num, "result",
					  extra.storm ? "storm" : existing ? "repeat" : "opened", "pages", pages));
	log_info("alert.record", "org=%s integration=%lld source=%s incident=%lld result=%s", in->org,
		 (long long)in->id, src, (long long)n, extra.storm ? "storm" : existing ? "repeat" : "opened");
	return 0;
}

/* A resolve: the open incident of that dedup key, resolved in one step; with
 * stamp, only while the org's audit tip still equals it (else INCIDENT_STALE,
 * nothing answered). */
static int record_resolve(struct worker *w, const struct hook_job *job, const struct integration *in,
			  const struct service *svc, const struct alert *a, const char *stamp,
			  struct http_response *resp)
{
	const char *src = integration_source_name(job->src);
	char dedup[INCIDENT_NAME_MAX + 400], num[32];
	struct incident_result res;
	int n = snprintf(dedup, sizeof(dedup), "%s:%s", svc->name, a->dedup);

	if (n < 0 || (size_t)n >= sizeof(dedup)) {
		respond_error(resp, 400, "dedup key too long");
		return -1;
	}
	struct incident_change c = { .action = INC_RESOLVE, .by = src, .via = src, .text = "", .dedup = dedup,
				     .stamp = stamp };
	int rc = incident_change(w->store, in->org, 0, &c, wk_now_ms(), &res);
	if (rc == INCIDENT_STALE)
		return rc;
	if (rc < 0) {
		respond_error(resp, 503, "the database did not answer; retry");
		return -1;
	}
	if (res.outcome == INC_MISSING) {
		respond_json(resp, 200, json_pack("{ss}", "result", "no open incident"));
		return 0;
	}
	snprintf(num, sizeof(num), "INC-%lld", (long long)res.n);
	respond_json(resp, 200, json_pack("{ss ss}", "incident", num, "result",
					  res.outcome == INC_DONE ? "resolved" : "already resolved"));
	log_info("alert.record", "org=%s integration=%lld source=%s incident=%lld result=resolved", in->org,
		 (long long)in->id, src, (long long)res.n);
	return 0;
}

/* The token's integration: the worker's copy (*cached true), else read now
 * into *freshp, allocated on the first miss (about 8 KB, most of it the
 * sealed secret: the common case never needs it), and kept when it can be.
 * NULL with resp filled when there is none. */
static const struct integration_copy *integration_for(struct worker *w, const struct hook_job *job,
						      struct integration_copy **freshp, bool *cached,
						      struct http_response *resp)
{
	const struct integration_copy *c = integration_cache_get(w->integrations, job->token);
	struct integration_copy *fresh;
	int rc;

	if ((*cached = c != NULL))
		return c;
	if (!*freshp)
		*freshp = xmalloc(sizeof(**freshp));
	fresh = *freshp;
	rc = integration_by_token(w->store, job->token, &fresh->in, fresh->sealed, sizeof(fresh->sealed),
				  &fresh->svc);
	if (rc < 0) {
		respond_error(resp, 503, "the database did not answer; retry");
		return NULL;
	}
	if (rc > 0) {
		log_warn("alert.auth", "source=%s reason=\"unknown or revoked token\"", integration_source_name(job->src));
		respond_error(resp, 401, "unknown or revoked integration token");
		return NULL;
	}
	integration_cache_put(w->integrations, job->token, fresh);
	return fresh;
}

/* Checks against the integration; 0 to go on, else resp is filled. A refusal
 * from a copy is not trusted: -2 says read the integration again. */
static int check_against(const struct hook_job *job, const struct integration_copy *c, bool cached,
			 const struct alert *a, bool parsed, struct http_response *resp)
{
	char why[ALERT_WHY_SIZE + 80];
	int status;

	if ((status = authenticate(job, &c->in, c->sealed, why, sizeof(why))) != 0) {
		if (cached)
			return -2;
		log_warn("alert.auth", "org=%s integration=%lld reason=\"%s\"", c->in.org, (long long)c->in.id, why);
		respond_error(resp, status, why);
		return -1;
	}
	if (!parsed)
		return 0;
	if ((a->service[0] && strcmp(a->service, c->in.service) != 0) || !c->svc.name[0]) {
		if (cached)
			return -2;
		if (!c->svc.name[0]) {
			respond_error(resp, 410, "this integration's service was deleted");
		} else {
			snprintf(why, sizeof(why), "this token is for service %s, not %.48s", c->in.service, a->service);
			respond_error(resp, 400, why);
		}
		return -1;
	}
	return 0;
}

/* The token, then the signature, are checked before the body is parsed. A
 * trigger checked against the worker's copy of the integration is recorded in
 * one round trip, confirmed there (the stamp of record_trigger and
 * record_resolve); when the copy turns out stale, or refuses, the integration
 * is read again and everything checked once more against it. */
static void handle(struct worker *w, struct hook_job *job, struct http_response *resp)
{
	char why[ALERT_WHY_SIZE + 80];
	struct integration_copy *fresh = NULL;
	const struct integration_copy *c;
	struct alert a;
	bool cached, parsed = false;
	int rc = -1;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (!(c = integration_for(w, job, &fresh, &cached, resp)))
			break;
		if ((rc = check_against(job, c, cached, &a, parsed, resp)) == -2)
			goto again;
		if (rc < 0)
			break;
		if (!parsed) {
			if (alert_parse(job->src, job->body, job->len, job->extra, &a, why, sizeof(why)) < 0) {
				respond_error(resp, 400, why);
				break;
			}
			if (a.action == ALERT_IGNORE) {
				respond_json(resp, 200, json_pack("{ss}", "result", "ignored"));
				break;
			}
			parsed = true;
			if ((rc = check_against(job, c, cached, &a, parsed, resp)) == -2)
				goto again;
			if (rc < 0)
				break;
		}
		rc = (a.action == ALERT_RESOLVE ? record_resolve : record_trigger)(w, job, &c->in, &c->svc, &a,
										   cached ? c->in.org_tip : NULL, resp);
		if (rc == INCIDENT_STALE)
			goto again;
		/* "Last used" to the second: a busy integration costs no extra write per alert. */
		if (rc == 0 && wk_now_ms() - c->in.last_used_ms >= 1000 &&
		    integration_touch(w->store, c->in.org, c->in.id, wk_now_ms()) == 0 && cached) {
			struct integration_copy *mine = integration_cache_get(w->integrations, job->token);
			if (mine)
				mine->in.last_used_ms = wk_now_ms();
		}
		break;
again:
		integration_cache_drop(w->integrations, job->token);
		if (attempt == 1)	/* a fresh read is never stale: Redis changed in between twice */
			respond_error(resp, 503, "the integration changed while this alert came in; retry");
	}
	if (fresh) {
		OPENSSL_cleanse(fresh, sizeof(*fresh));
		free(fresh);
	}
}

static void hook_job_run(struct worker *w, void *arg)
{
	struct hook_job *job = arg;
	struct http_response resp = { 0 };

	handle(w, job, &resp);
	http_call_finish(job->call, &resp);
	http_response_free(&resp);
	free(job->body);
	memset(job->token, 0, sizeof(job->token));
	free(job);
}

/* ---- routes (loop thread) ---- */

static enum route_result hook_route(struct http_request *req, struct http_response *resp,
				    enum integration_source src)
{
	const char *token = req->path_rest && req->path_rest[0] ? req->path_rest : NULL;
	char key[WORK_KEY_MAX];
	struct hook_job *job;

	/* Without a token in the path: Alertmanager's `authorization` credentials. */
	if (!token && strncasecmp(req->headers[0], "Bearer ", 7) == 0)
		token = req->headers[0] + 7;
	if (!token || !integration_token_shaped(token)) {
		respond_error(resp, 401, token ? "unknown or revoked integration token"
					       : "missing integration token: /hooks/<source>/<token>");
		return ROUTE_DONE;
	}
	job = xcalloc(1, sizeof(*job));
	job->src = src;
	job->cfg = req->cfg;
	wk_strlcpy(job->token, token, sizeof(job->token));
	wk_strlcpy(job->sig, req->headers[1], sizeof(job->sig));
	wk_strlcpy(job->extra, req->headers[2], sizeof(job->extra));
	job->body = xmalloc(req->body_len + 1);
	memcpy(job->body, req->body, req->body_len);
	job->body[req->body_len] = '\0';
	job->len = req->body_len;
	/* One queue per integration: its alerts are recorded in the order they came. */
	snprintf(key, sizeof(key), "hook:%.12s", token);
	if (http_call_submit(req, &job->call, WORK_WEBHOOK, key, hook_job_run, job))
		return ROUTE_PENDING;
	free(job->body);
	free(job);
	respond_error(resp, 503, "Watchkeeper is busy or shutting down; retry");
	return ROUTE_DONE;
}

enum route_result alert_route_alertmanager(struct http_request *req, struct http_response *resp)
{
	return hook_route(req, resp, SRC_ALERTMANAGER);
}

enum route_result alert_route_grafana(struct http_request *req, struct http_response *resp)
{
	return hook_route(req, resp, SRC_GRAFANA);
}

enum route_result alert_route_sentry(struct http_request *req, struct http_response *resp)
{
	return hook_route(req, resp, SRC_SENTRY);
}

enum route_result alert_route_generic(struct http_request *req, struct http_response *resp)
{
	return hook_route(req, resp, SRC_GENERIC);
}
