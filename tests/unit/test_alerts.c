/* test_alerts.c - alert webhooks: the parsers and mappers of adapters/alert_parse
 * (fixtures of protocols/alert-webhooks.md), the signature check (its openssl-verified
 * vectors), and, against a private redis-server (scripts/redis.sh; run from the
 * repository root), the service and token stores and what incident_open does with
 * an alert: repeats of the same set, a changed set, the storm limit, no paging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/alert_parse.h"
#include "adapters/alert_webhooks.h"
#include "tests/unit/unit_redis.h"
#include "bot/incident.h"
#include "bot/integration.h"
#include "bot/service.h"
#include "bot/store.h"

#define AM_FIXTURE \
	"{\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"HighErrorRate\\\"}\",\"truncatedAlerts\":0," \
	"\"status\":\"firing\",\"receiver\":\"oncall-bot\",\"groupLabels\":{\"alertname\":\"HighErrorRate\"}," \
	"\"commonLabels\":{\"alertname\":\"HighErrorRate\",\"service\":\"api\",\"severity\":\"critical\"}," \
	"\"commonAnnotations\":{\"summary\":\"5xx ratio above 5% for 10m\"}," \
	"\"externalURL\":\"http://alertmanager.example:9093\",\"alerts\":[{\"status\":\"firing\",\"labels\":" \
	"{\"alertname\":\"HighErrorRate\",\"service\":\"api\",\"severity\":\"critical\",\"instance\":\"api-1:8080\"}," \
	"\"annotations\":{\"summary\":\"5xx ratio above 5% for 10m\"},\"startsAt\":\"2023-11-14T22:00:00Z\"," \
	"\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://prometheus.example:9090/graph\"," \
	"\"fingerprint\":\"a1b2c3d4e5f60718\"}]}"

#define SENTRY_FIXTURE \
	"{\"action\":\"triggered\",\"installation\":{\"uuid\":\"00000000-0000-0000-0000-000000000001\"},\"data\":" \
	"{\"event\":{\"issue_id\":\"42\",\"title\":\"ReferenceError: x is not defined\",\"level\":\"error\"," \
	"\"web_url\":\"https://sentry.example/issues/42/\"},\"triggered_rule\":\"page-oncall\"},\"actor\":" \
	"{\"type\":\"application\",\"id\":\"sentry\",\"name\":\"Sentry\"}}"
#define SENTRY_SIG "208f6859e270dbb3787135e892a8693306a487d98837b3b8f7d2756c6b0d5b4c"

#define GRAFANA_BODY "{\"receiver\":\"oncall-bot\",\"status\":\"firing\",\"version\":\"1\"}"
#define GRAFANA_SIG_TS "046f7f15ff4b91f53adc2481dac0ee7a840281e2d4cb48cff54bba74ecb878a2"
#define GRAFANA_SIG "3b32979f58cba3280588bdc10afbae0c2de4ed99743933a5f5ab8c1cdd97ca73"

static int parse(enum integration_source src, const char *body, const char *resource, struct alert *a, char *why)
{
	return alert_parse(src, body, strlen(body), resource, a, why, ALERT_WHY_SIZE);
}

static void test_alertmanager_fixture(void **state)
{
	struct alert a, b;
	char why[ALERT_WHY_SIZE];

	(void)state;
	assert_int_equal(parse(SRC_ALERTMANAGER, AM_FIXTURE, NULL, &a, why), 0);
	assert_int_equal(a.action, ALERT_TRIGGER);
	assert_int_equal(a.severity, SEV_CRITICAL);
	assert_string_equal(a.summary, "5xx ratio above 5% for 10m");
	assert_string_equal(a.dedup, "am:{}:{alertname=\"HighErrorRate\"}");
	assert_int_equal(strlen(a.sig), 64);
	assert_non_null(strstr(a.details, "1 firing, 0 resolved"));
	/* Grafana reads the same shape under its own prefix. */
	assert_int_equal(parse(SRC_GRAFANA, AM_FIXTURE, NULL, &b, why), 0);
	assert_string_equal(b.dedup, "gf:{}:{alertname=\"HighErrorRate\"}");
	assert_string_equal(a.sig, b.sig);
}

static void test_alertmanager_set_and_status(void **state)
{
	const char *two = "{\"groupKey\":\"g\",\"status\":\"firing\",\"alerts\":[{\"fingerprint\":\"a\",\"status\":"
			  "\"firing\"},{\"fingerprint\":\"b\",\"status\":\"firing\"}]}";
	const char *swapped = "{\"groupKey\":\"g\",\"status\":\"firing\",\"alerts\":[{\"fingerprint\":\"b\",\"status\":"
			      "\"firing\"},{\"fingerprint\":\"a\",\"status\":\"firing\"}]}";
	const char *changed = "{\"groupKey\":\"g\",\"status\":\"firing\",\"alerts\":[{\"fingerprint\":\"a\",\"status\":"
			      "\"firing\"},{\"fingerprint\":\"b\",\"status\":\"resolved\"}]}";
	const char *resolved = "{\"groupKey\":\"g\",\"status\":\"resolved\",\"alerts\":[]}";
	struct alert a, b, c;
	char why[ALERT_WHY_SIZE];

	(void)state;
	assert_int_equal(parse(SRC_ALERTMANAGER, two, NULL, &a, why), 0);
	assert_int_equal(parse(SRC_ALERTMANAGER, swapped, NULL, &b, why), 0);
	assert_int_equal(parse(SRC_ALERTMANAGER, changed, NULL, &c, why), 0);
	assert_string_equal(a.sig, b.sig);	/* the same set in another order */
	assert_string_not_equal(a.sig, c.sig);	/* one alert's status changed */
	assert_int_equal(a.severity, SEV_ERROR);	/* no severity label */
	assert_string_equal(a.summary, "g");	/* no summary nor alertname: the group */
	assert_int_equal(parse(SRC_ALERTMANAGER, resolved, NULL, &a, why), 0);
	assert_int_equal(a.action, ALERT_RESOLVE);
}

static void test_alertmanager_refusals(void **state)
{
	static const struct {
		const char *body, *why;
	} cases[] = {
		{ "{not json", "not JSON" },
		{ "[1]", "not a JSON object" },
		{ "{\"status\":\"firing\",\"alerts\":[]}", "missing groupKey" },
		{ "{\"groupKey\":\"g\",\"alerts\":[]}", "missing status" },
		{ "{\"groupKey\":\"g\",\"status\":\"pending\",\"alerts\":[]}", "missing status" },
		{ "{\"groupKey\":\"g\",\"status\":\"firing\"}", "missing alerts" },
		{ "{\"groupKey\":\"g\",\"status\":\"firing\",\"alerts\":[],\"commonLabels\":[]}", "commonLabels" },
		{ "{\"groupKey\":\"g\",\"groupKey\":\"h\",\"status\":\"firing\",\"alerts\":[]}", "not JSON" },
	};
	struct alert a;
	char why[ALERT_WHY_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(SRC_ALERTMANAGER, cases[i].body, NULL, &a, why), -1);
		if (!strstr(why, cases[i].why))
			fail_msg("%s: why %s, want %s", cases[i].body, why, cases[i].why);
	}
}

static void test_long_group_key_is_hashed(void **state)
{
	char body[2048], key[1200];
	struct alert a;
	char why[ALERT_WHY_SIZE];

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"groupKey\":\"%s\",\"status\":\"firing\",\"alerts\":[]}", key);
	assert_int_equal(parse(SRC_ALERTMANAGER, body, NULL, &a, why), 0);
	assert_true(strlen(a.dedup) < INCIDENT_DEDUP_MAX);
	assert_memory_equal(a.dedup, "am:h:", 5);
	assert_true(strlen(a.summary) <= INCIDENT_SUMMARY_MAX);
}

static void test_severity_maps(void **state)
{
	static const struct {
		const char *in;
		enum incident_severity label, sentry;
	} cases[] = {
		{ "critical", SEV_CRITICAL, SEV_ERROR }, { "CRITICAL", SEV_CRITICAL, SEV_ERROR },
		{ "error", SEV_ERROR, SEV_ERROR },	 { "warning", SEV_WARNING, SEV_WARNING },
		{ "info", SEV_INFO, SEV_INFO },		 { "fatal", SEV_ERROR, SEV_CRITICAL },
		{ "debug", SEV_ERROR, SEV_INFO },	 { "page", SEV_ERROR, SEV_ERROR },
		{ "", SEV_ERROR, SEV_ERROR },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(alert_severity_label(cases[i].in), cases[i].label);
		assert_int_equal(alert_severity_sentry(cases[i].in), cases[i].sentry);
	}
	assert_int_equal(alert_severity_label(NULL), SEV_ERROR);
}

static void test_sentry(void **state)
{
	struct alert a;
	char why[ALERT_WHY_SIZE];

	(void)state;
	assert_int_equal(parse(SRC_SENTRY, SENTRY_FIXTURE, "event_alert", &a, why), 0);
	assert_int_equal(a.action, ALERT_TRIGGER);
	assert_string_equal(a.dedup, "sentry:42");
	assert_int_equal(a.severity, SEV_ERROR);
	assert_string_equal(a.summary, "ReferenceError: x is not defined");
	assert_non_null(strstr(a.details, "https://sentry.example/issues/42/"));
	assert_int_equal(parse(SRC_SENTRY, SENTRY_FIXTURE, "installation", &a, why), 0);
	assert_int_equal(a.action, ALERT_IGNORE);
	assert_int_equal(parse(SRC_SENTRY, "{\"action\":\"resolved\",\"data\":{\"issue\":{\"id\":\"42\"}}}", "issue", &a,
			       why), 0);
	assert_int_equal(a.action, ALERT_RESOLVE);
	assert_string_equal(a.dedup, "sentry:42");
	assert_int_equal(parse(SRC_SENTRY, "{\"action\":\"triggered\",\"data\":{\"event\":{}}}", "event_alert", &a, why),
			 -1);
	assert_non_null(strstr(why, "issue_id"));
	assert_int_equal(parse(SRC_SENTRY, "{\"action\":\"triggered\",\"data\":{\"event\":{\"issue_id\":\"7\","
			       "\"level\":\"fatal\"}}}", "event_alert", &a, why), 0);
	assert_int_equal(a.severity, SEV_CRITICAL);
}

static void test_generic(void **state)
{
	struct alert a;
	char why[ALERT_WHY_SIZE];

	(void)state;
	assert_int_equal(parse(SRC_GENERIC, "{\"summary\":\"queue\\nbacklog\",\"severity\":\"warning\",\"service\":"
			       "\"api\",\"dedup_key\":\"q1\",\"details\":{\"depth\":9000},\"links\":[\"https://a\","
			       "{\"href\":\"https://b\",\"text\":\"b\"}]}", NULL, &a, why), 0);
	assert_int_equal(a.action, ALERT_TRIGGER);
	assert_int_equal(a.severity, SEV_WARNING);
	assert_string_equal(a.summary, "queue backlog");	/* control characters become spaces */
	assert_string_equal(a.service, "api");
	assert_string_equal(a.dedup, "gen:q1");
	assert_string_equal(a.details, "{\"depth\":9000} https://a https://b");
	assert_int_equal(parse(SRC_GENERIC, "{\"action\":\"resolve\",\"dedup_key\":\"q1\"}", NULL, &a, why), 0);
	assert_int_equal(a.action, ALERT_RESOLVE);
	assert_int_equal(parse(SRC_GENERIC, "{\"summary\":\"x\"}", NULL, &a, why), 0);
	assert_string_equal(a.dedup, "");
	assert_int_equal(a.severity, SEV_ERROR);
	assert_int_equal(parse(SRC_GENERIC, "{\"action\":\"resolve\"}", NULL, &a, why), -1);
	assert_int_equal(parse(SRC_GENERIC, "{\"summary\":\"x\",\"action\":\"ack\"}", NULL, &a, why), -1);
	assert_int_equal(parse(SRC_GENERIC, "{\"summary\":\"x\",\"dedup_key\":7}", NULL, &a, why), -1);
	assert_int_equal(parse(SRC_GENERIC, "{\"summary\":\"x\",\"links\":\"y\"}", NULL, &a, why), -1);
	assert_int_equal(parse(SRC_GENERIC, "{\"summary\":\"\"}", NULL, &a, why), -1);
}

static void test_signatures(void **state)
{
	(void)state;
	assert_true(alert_signature_valid("fixture_client_secret", "", SENTRY_FIXTURE, strlen(SENTRY_FIXTURE),
					  SENTRY_SIG));
	assert_false(alert_signature_valid("other", "", SENTRY_FIXTURE, strlen(SENTRY_FIXTURE), SENTRY_SIG));
	assert_false(alert_signature_valid("fixture_client_secret", "", SENTRY_FIXTURE, strlen(SENTRY_FIXTURE) - 1,
					   SENTRY_SIG));
	assert_false(alert_signature_valid("fixture_client_secret", "", SENTRY_FIXTURE, strlen(SENTRY_FIXTURE), ""));
	assert_true(alert_signature_valid("fixture_grafana_secret", "1700000000", GRAFANA_BODY, strlen(GRAFANA_BODY),
					  GRAFANA_SIG_TS));
	assert_true(alert_signature_valid("fixture_grafana_secret", "", GRAFANA_BODY, strlen(GRAFANA_BODY),
					  GRAFANA_SIG));
	assert_false(alert_signature_valid("fixture_grafana_secret", "1700000001", GRAFANA_BODY, strlen(GRAFANA_BODY),
					   GRAFANA_SIG_TS));
}

/* ---- the stores, against Redis ---- */

#define ORG "slack:TUNIT"

static struct store *fresh(void)
{
	struct store *s = store_open(unit_redis_url, 5000);
	redisReply *r;

	assert_non_null(s);
	r = store_command(s, "FLUSHALL");
	assert_non_null(r);
	freeReplyObject(r);
	return s;
}

static void test_services(void **state)
{
	struct store *s = fresh();
	struct service_actor a = { ORG, "U0ADMIN", "slack", 1000 };
	enum service_outcome o;
	struct service svc, *list;
	size_t n;

	(void)state;
	assert_int_equal(service_create(s, &a, "api", "default", &o), 0);
	assert_int_equal(o, SERVICE_DONE);
	assert_int_equal(service_create(s, &a, "api", "default", &o), 0);
	assert_int_equal(o, SERVICE_EXISTS);
	assert_int_equal(service_owner(s, &a, "api", "U0BOB", true, &o), 0);
	assert_int_equal(o, SERVICE_DONE);
	assert_int_equal(service_owner(s, &a, "api", "U0BOB", true, &o), 0);
	assert_int_equal(o, SERVICE_UNCHANGED);
	assert_int_equal(service_set(s, &a, "web", "pages", "info", &o), 0);
	assert_int_equal(o, SERVICE_MISSING);
	assert_int_equal(service_get(s, ORG, "api", &svc), 0);
	assert_string_equal(svc.pages, "error");
	assert_true(service_pages(&svc, "critical") && service_pages(&svc, "error"));
	assert_false(service_pages(&svc, "warning") || service_pages(&svc, "info"));
	assert_int_equal(service_set(s, &a, "api", "pages", "info", &o), 0);
	assert_int_equal(service_get(s, ORG, "api", &svc), 0);
	assert_true(service_pages(&svc, "info"));
	assert_int_equal(svc.nowners, 1);
	assert_string_equal(svc.owners[0], "U0BOB");
	assert_int_equal(service_list(s, ORG, &list, &n), 0);
	assert_int_equal(n, 1);
	free(list);
	assert_int_equal(service_delete(s, &a, "api", &o), 0);
	assert_int_equal(o, SERVICE_DONE);
	assert_int_equal(service_get(s, ORG, "api", &svc), 1);
	store_close(s);
}

static void test_tokens(void **state)
{
	struct store *s = fresh();
	struct service_actor sa = { ORG, "U0ADMIN", "slack", 1000 };
	struct integration_actor a = { ORG, "U0ADMIN", "slack", 1000 };
	char token[INTEGRATION_TOKEN_LEN + 1], sealed[64];
	enum integration_outcome o;
	enum service_outcome so;
	struct integration in, *list;
	redisReply *r;
	int64_t id;
	size_t n;

	(void)state;
	assert_int_equal(integration_create(s, &a, SRC_SENTRY, "api", &id, token, &o), 0);
	assert_int_equal(o, INTEGRATION_NO_SERVICE);
	assert_int_equal(service_create(s, &sa, "api", "default", &so), 0);
	assert_int_equal(integration_create(s, &a, SRC_SENTRY, "api", &id, token, &o), 0);
	assert_int_equal(o, INTEGRATION_DONE);
	assert_int_equal(id, 1);
	assert_true(integration_token_shaped(token));
	/* Stored only as its hash: no key or value holds the token. */
	r = store_command(s, "KEYS *");
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *v;
		assert_null(strstr(r->element[i]->str, token));
		v = store_command(s, "DUMP %s", r->element[i]->str);
		assert_true(v->type != REDIS_REPLY_STRING || !memmem(v->str, v->len, token, strlen(token)));
		freeReplyObject(v);
	}
	freeReplyObject(r);
	assert_int_equal(integration_by_token(s, token, &in, sealed, sizeof(sealed), NULL), 0);
	assert_int_equal(in.id, 1);
	assert_string_equal(in.org, ORG);
	assert_string_equal(in.source, "sentry");
	assert_string_equal(in.service, "api");
	assert_string_equal(sealed, "");
	assert_int_equal(integration_set_secret(s, &a, 1, "s1.sealed", &o), 0);
	/* The webhook's one read also brings the service it alerts. */
	struct service bound;
	assert_int_equal(integration_by_token(s, token, &in, sealed, sizeof(sealed), &bound), 0);
	assert_string_equal(sealed, "s1.sealed");
	assert_string_equal(bound.name, "api");
	assert_string_equal(bound.team, "default");
	assert_true(in.has_secret);
	assert_int_equal(integration_by_token(s, "abcdefghijklmnopqrstuvwxyz234567", &in, sealed, sizeof(sealed), NULL), 1);
	assert_int_equal(integration_by_token(s, "not-a-token", &in, sealed, sizeof(sealed), NULL), 1);
	assert_int_equal(integration_touch(s, ORG, 1, 5000), 0);
	assert_int_equal(integration_list(s, ORG, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].last_used_ms, 5000);
	free(list);
	assert_int_equal(integration_revoke(s, &a, 1, &o), 0);
	assert_int_equal(o, INTEGRATION_DONE);
	assert_int_equal(integration_by_token(s, token, &in, sealed, sizeof(sealed), NULL), 1);
	assert_int_equal(integration_revoke(s, &a, 1, &o), 0);
	assert_int_equal(o, INTEGRATION_MISSING);
	/* Touching a revoked integration does not bring its record back. */
	assert_int_equal(integration_touch(s, ORG, 1, 6000), 0);
	assert_int_equal(integration_list(s, ORG, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);
	store_close(s);
}

static int open_alert(struct store *s, const char *dedup, const char *sig, int64_t due, int64_t *n, bool *existing,
		      bool *storm)
{
	struct incident_alert extra = { .sig = sig, .rate_key = "wk:{" ORG "}:intg:1:new:0", .max_new = 2,
					.storm_summary = "alert storm on api" };
	struct incident_new in = { .summary = "disk full", .severity = "error", .service = "api", .team = "default",
				   .type = "alertmanager", .dedup = dedup, .opened_by = "alertmanager",
				   .policy = "r0:600|0:primary", .first_step_due_ms = due, .timeline = "opened",
				   .alert = &extra };
	int rc = incident_open(s, ORG, &in, 1000, "changed", n, existing);

	*storm = extra.storm;
	return rc;
}

static long long num(struct store *s, const char *fmt, long long n)
{
	redisReply *r = store_command(s, fmt, n);
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;

	freeReplyObject(r);
	return v;
}

static void test_incident_alerts(void **state)
{
	struct store *s = fresh();
	int64_t n, m;
	bool existing, storm;

	(void)state;
	assert_int_equal(open_alert(s, "am:g1", "sigA", 1000, &n, &existing, &storm), 0);
	assert_false(existing || storm);
	assert_int_equal(num(s, "XLEN wk:{" ORG "}:inc:%lld:tl", n), 1);
	assert_int_equal(open_alert(s, "am:g1", "sigA", 1000, &m, &existing, &storm), 0);
	assert_true(existing && m == n && !storm);
	assert_int_equal(num(s, "XLEN wk:{" ORG "}:inc:%lld:tl", n), 1);	/* same set: counted only */
	assert_int_equal(num(s, "HGET wk:{" ORG "}:inc:%lld repeats", n), 1);
	assert_int_equal(open_alert(s, "am:g1", "sigB", 1000, &m, &existing, &storm), 0);
	assert_int_equal(num(s, "XLEN wk:{" ORG "}:inc:%lld:tl", n), 2);	/* changed set: an entry */
	/* Below the paging threshold: no step timer. */
	assert_int_equal(open_alert(s, "am:g2", "sigA", 0, &m, &existing, &storm), 0);
	assert_int_equal(num(s, "EXISTS wk:{timers}:t:inc:" ORG ":%lld", m), 0);
	assert_int_equal(num(s, "EXISTS wk:{timers}:t:inc:" ORG ":%lld", n), 1);
	/* Two new a minute: the third opens the storm incident, the fourth joins it. */
	assert_int_equal(open_alert(s, "am:g3", "sigA", 1000, &m, &existing, &storm), 0);
	assert_true(!existing && storm);
	assert_int_equal(open_alert(s, "am:g4", "sigA", 1000, &n, &existing, &storm), 0);
	assert_true(existing && storm && n == m);
	assert_int_equal(num(s, "HGET wk:{" ORG "}:inc:%lld repeats", m), 1);
	assert_int_equal(num(s, "ZCARD wk:{" ORG "}:incs", 0), 3);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_alertmanager_fixture),
		cmocka_unit_test(test_alertmanager_set_and_status),
		cmocka_unit_test(test_alertmanager_refusals),
		cmocka_unit_test(test_long_group_key_is_hashed),
		cmocka_unit_test(test_severity_maps),
		cmocka_unit_test(test_sentry),
		cmocka_unit_test(test_generic),
		cmocka_unit_test(test_signatures),
	};
	const struct CMUnitTest stores[] = {
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_incident_alerts),
	};
	int failed = cmocka_run_group_tests_name("alert parsers", pure, NULL, NULL);

	return failed + cmocka_run_group_tests_name("alert stores", stores, unit_redis_start, unit_redis_stop);
}
