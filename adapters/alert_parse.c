/* alert_parse.c - see alert_parse.h */
#include "adapters/alert_parse.h"
#include "bot/buf.h"
#include "bot/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ALERTS 1000		/* members of alerts[] looked at for the set's hash */

/* A string member, or NULL (absent, or not a string). */
static const char *sget(const json_t *obj, const char *key)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Copy a peer's text without control characters (they end up in chat). */
static void text_copy(char *dst, size_t size, const char *src)
{
	size_t j = 0;

	for (size_t i = 0; src && src[i] && j + 1 < size; i++)
		dst[j++] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
	/* Don't leave half a UTF-8 sequence at a cut. */
	if (src && src[j] && j > 0) {
		size_t k = j;
		while (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80)
			k--;
		if (k > 0 && (unsigned char)dst[k - 1] >= 0xC0)
			j = k - 1;
	}
	if (size)
		dst[j] = '\0';
}

static void dedup_set(struct alert *a, const char *prefix, const char *key)
{
	char hex[CRYPTO_SHA256_HEX_SIZE];
	unsigned char d[CRYPTO_SHA256_LEN];
	size_t pl = strlen(prefix), kl = strlen(key);

	if (pl + kl < sizeof(a->dedup)) {
		memcpy(a->dedup, prefix, pl);
		memcpy(a->dedup + pl, key, kl + 1);
		return;
	}
	crypto_sha256(key, strlen(key), d);
	crypto_hex(d, sizeof(d), hex);
	snprintf(a->dedup, sizeof(a->dedup), "%sh:%s", prefix, hex);
}

static const struct {
	const char *name;
	enum incident_severity sev;
} label_sevs[] = {
	{ "critical", SEV_CRITICAL }, { "error", SEV_ERROR }, { "warning", SEV_WARNING }, { "info", SEV_INFO },
}, sentry_sevs[] = {
	{ "fatal", SEV_CRITICAL }, { "error", SEV_ERROR }, { "warning", SEV_WARNING }, { "info", SEV_INFO },
	{ "debug", SEV_INFO },
};

enum incident_severity alert_severity_label(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_LEN(label_sevs); i++)
		if (strcasecmp(s, label_sevs[i].name) == 0)
			return label_sevs[i].sev;
	return SEV_ERROR;
}

enum incident_severity alert_severity_sentry(const char *level)
{
	for (size_t i = 0; level && i < ARRAY_LEN(sentry_sevs); i++)
		if (strcasecmp(level, sentry_sevs[i].name) == 0)
			return sentry_sevs[i].sev;
	return SEV_ERROR;
}

/* ---- Alertmanager and Grafana ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SHA-256 over the sorted "fingerprint status" lines; counts firing/resolved. */
static void alert_set(const json_t *alerts, char *sig, size_t *firing, size_t *resolved)
{
	size_t n = json_array_size(alerts) < MAX_ALERTS ? json_array_size(alerts) : MAX_ALERTS;
	char **lines = xcalloc(n ? n : 1, sizeof(*lines));
	struct buf b = BUF_INIT(1u << 20);
	unsigned char d[CRYPTO_SHA256_LEN];

	*firing = *resolved = 0;
	for (size_t i = 0; i < n; i++) {
		const json_t *al = json_array_get(alerts, i);
		const char *fp = sget(al, "fingerprint"), *st = sget(al, "status");
		size_t len = (fp ? strlen(fp) : 0) + (st ? strlen(st) : 0) + 2;

		lines[i] = xmalloc(len);
		snprintf(lines[i], len, "%s %s", fp ? fp : "", st ? st : "");
		if (st && strcmp(st, "resolved") == 0)
			(*resolved)++;
		else
			(*firing)++;
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "%s\n", lines[i]);
		free(lines[i]);
	}
	free(lines);
	crypto_sha256(b.data, b.len, d);
	crypto_hex(d, sizeof(d), sig);
	buf_free(&b);
}

static int parse_am(const json_t *root, bool grafana, struct alert *a, char *why, size_t whysize)
{
	const json_t *labels = json_object_get(root, "commonLabels"), *ann = json_object_get(root, "commonAnnotations");
	const json_t *alerts = json_object_get(root, "alerts"), *first = json_array_get(alerts, 0);
	const char *gk = sget(root, "groupKey"), *status = sget(root, "status"), *summary, *url;
	size_t firing, resolved;

	if (!gk || !gk[0])
		return wk_fail(why, whysize, "missing groupKey (a string)");
	if (!status || (strcmp(status, "firing") != 0 && strcmp(status, "resolved") != 0))
		return wk_fail(why, whysize, "missing status (firing or resolved)");
	if (!json_is_array(alerts))
		return wk_fail(why, whysize, "missing alerts (an array)");
	if (labels && !json_is_object(labels))
		return wk_fail(why, whysize, "commonLabels is not an object");
	a->action = strcmp(status, "resolved") == 0 ? ALERT_RESOLVE : ALERT_TRIGGER;
	dedup_set(a, grafana ? "gf:" : "am:", gk);
	a->severity = alert_severity_label(sget(labels, "severity") ? sget(labels, "severity")
					   : sget(json_object_get(first, "labels"), "severity"));
	summary = sget(ann, "summary");
	if (!summary && grafana)
		summary = sget(root, "title");
	if (!summary)
		summary = sget(labels, "alertname");
	if (!summary)
		summary = sget(json_object_get(first, "labels"), "alertname");
	text_copy(a->summary, sizeof(a->summary), summary ? summary : gk);
	alert_set(alerts, a->sig, &firing, &resolved);
	url = sget(root, "externalURL");
	snprintf(a->details, sizeof(a->details), "%s: %zu firing, %zu resolved%s%.200s", grafana ? "grafana"
		 : "alertmanager", firing, resolved, url ? ", " : "", url ? url : "");
	text_copy(a->details, sizeof(a->details), a->details);
	return 0;
}

/* ---- Sentry ---- */

static int parse_sentry(const json_t *root, const char *resource, struct alert *a, char *why, size_t whysize)
{
	const json_t *data = json_object_get(root, "data");
	const char *action = sget(root, "action");

	if (!json_is_object(data))
		return wk_fail(why, whysize, "missing data (an object)");
	if (!action)
		return wk_fail(why, whysize, "missing action");
	if (resource && strcmp(resource, "issue") == 0) {
		const json_t *issue = json_object_get(data, "issue");
		const char *id = sget(issue, "id");
		if (strcmp(action, "resolved") != 0) {
			a->action = ALERT_IGNORE;
			return 0;
		}
		if (!id || !id[0])
			return wk_fail(why, whysize, "missing data.issue.id");
		a->action = ALERT_RESOLVE;
		dedup_set(a, "sentry:", id);
		return 0;
	}
	if (resource && resource[0] && strcmp(resource, "event_alert") != 0) {
		a->action = ALERT_IGNORE;	/* installation, comment, ...: nothing to page about */
		return 0;
	}
	const json_t *ev = json_object_get(data, "event");
	const char *id = sget(ev, "issue_id"), *title = sget(ev, "title"), *url = sget(ev, "web_url");
	const char *rule = sget(data, "triggered_rule");

	if (!json_is_object(ev))
		return wk_fail(why, whysize, "missing data.event (an object)");
	if (!id || !id[0])
		return wk_fail(why, whysize, "missing data.event.issue_id");
	a->action = ALERT_TRIGGER;
	dedup_set(a, "sentry:", id);
	a->severity = alert_severity_sentry(sget(ev, "level"));
	text_copy(a->summary, sizeof(a->summary), title && title[0] ? title : "Sentry issue");
	snprintf(a->details, sizeof(a->details), "sentry issue %.40s%s%.120s%s%.300s", id, rule ? ", rule " : "",
		 rule ? rule : "", url ? ", " : "", url ? url : "");
	text_copy(a->details, sizeof(a->details), a->details);
	return 0;
}

/* ---- generic ---- */

static int parse_generic(const json_t *root, struct alert *a, char *why, size_t whysize)
{
	const char *summary = sget(root, "summary"), *sev = sget(root, "severity"), *svc = sget(root, "service");
	const char *key = sget(root, "dedup_key"), *action = sget(root, "action");
	const json_t *details = json_object_get(root, "details"), *links = json_object_get(root, "links");
	struct buf b = BUF_INIT(INCIDENT_TEXT_MAX * 4);

	if (action && strcmp(action, "trigger") != 0 && strcmp(action, "resolve") != 0)
		return wk_fail(why, whysize, "action must be trigger or resolve");
	a->action = action && strcmp(action, "resolve") == 0 ? ALERT_RESOLVE : ALERT_TRIGGER;
	if (json_object_get(root, "dedup_key") && !key)
		return wk_fail(why, whysize, "dedup_key must be a string");
	if (a->action == ALERT_RESOLVE && (!key || !key[0]))
		return wk_fail(why, whysize, "missing dedup_key (resolve needs the key the alert was sent with)");
	if (a->action == ALERT_TRIGGER && (!summary || !summary[0]))
		return wk_fail(why, whysize, "missing summary (a non-empty string)");
	if (sev && incident_severity_parse(sev) < 0)
		return wk_fail(why, whysize, "severity must be critical, error, warning or info");
	if (json_object_get(root, "service") && !svc)
		return wk_fail(why, whysize, "service must be a string");
	if (links && !json_is_array(links))
		return wk_fail(why, whysize, "links must be an array");
	a->severity = sev ? (enum incident_severity)incident_severity_parse(sev) : SEV_ERROR;
	text_copy(a->summary, sizeof(a->summary), summary ? summary : "");
	text_copy(a->service, sizeof(a->service), svc ? svc : "");
	if (key && key[0])
		dedup_set(a, "gen:", key);
	if (json_is_string(details)) {
		buf_adds(&b, json_string_value(details));
	} else if (details && !json_is_null(details)) {
		char *s = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
		buf_adds(&b, s ? s : "");
		free(s);
	}
	for (size_t i = 0; i < json_array_size(links) && i < 10; i++) {
		const json_t *l = json_array_get(links, i);
		const char *href = json_is_string(l) ? json_string_value(l) : sget(l, "href");
		if (href)
			buf_printf(&b, "%s%.300s", b.len ? " " : "", href);
	}
	text_copy(a->details, sizeof(a->details), buf_cstr(&b));
	buf_free(&b);
	return 0;
}

/* One parser per source, indexed by enum integration_source. */
typedef int (*alert_parser)(const json_t *root, const char *resource, struct alert *a, char *why, size_t whysize);

static int parse_alertmanager(const json_t *root, const char *resource, struct alert *a, char *why, size_t whysize)
{
	(void)resource;
	return parse_am(root, false, a, why, whysize);
}

static int parse_grafana(const json_t *root, const char *resource, struct alert *a, char *why, size_t whysize)
{
	(void)resource;
	return parse_am(root, true, a, why, whysize);
}

static int parse_generic_json(const json_t *root, const char *resource, struct alert *a, char *why,
			      size_t whysize)
{
	(void)resource;
	return parse_generic(root, a, why, whysize);
}

static const alert_parser parsers[SRC_COUNT] = {
	[SRC_ALERTMANAGER] = parse_alertmanager,
	[SRC_GRAFANA] = parse_grafana,
	[SRC_SENTRY] = parse_sentry,
	[SRC_GENERIC] = parse_generic_json,
};

int alert_parse(enum integration_source src, const char *body, size_t len, const char *resource,
		struct alert *out, char *why, size_t whysize)
{
	json_error_t err;
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	out->severity = SEV_ERROR;
	why[0] = '\0';
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return wk_fail(why, whysize, "not JSON: %.80s (line %d)", err.text, err.line);
	if (!json_is_object(root)) {
		json_decref(root);
		return wk_fail(why, whysize, "the body is not a JSON object");
	}
	rc = parsers[src >= 0 && src < SRC_COUNT ? src : SRC_GENERIC](root, resource, out, why, whysize);
	json_decref(root);
	if (rc == 0 && out->action == ALERT_TRIGGER && !out->summary[0])
		wk_strlcpy(out->summary, "alert", sizeof(out->summary));
	return rc;
}
