/* alert_parse.h - what monitoring systems send, read into one neutral alert.
 *
 * Pure functions over a JSON body (jansson), no store, no clock: the webhook
 * (alert_webhooks.c) authenticates first, then parses with these, then
 * records. Wire facts: shared/protocols/alert-webhooks.md.
 *
 *   alertmanager, grafana  dedup = "am:"/"gf:" + groupKey; status resolved
 *                          resolves; severity from commonLabels.severity
 *                          (critical|error|warning|info, else error); summary
 *                          from commonAnnotations.summary, else (Grafana) title,
 *                          else alertname; sig = SHA-256 of the sorted set of
 *                          (fingerprint, status), so a re-send of the same set
 *                          is told from a change.
 *   sentry                 event_alert "triggered": dedup = "sentry:" + issue
 *                          id, level fatal->critical, error, warning,
 *                          info/debug->info, else error; an issue "resolved"
 *                          resolves. Other resources are ignored (ALERT_IGNORE).
 *   generic                our JSON (README): summary, severity, service,
 *                          dedup_key, action trigger|resolve, details, links.
 *
 * Dedup keys longer than INCIDENT_DEDUP_MAX - 1 are replaced by a hash of
 * themselves. Thread-safe. */
#ifndef WK_ALERT_PARSE_H
#define WK_ALERT_PARSE_H

#include <stddef.h>

#include "bot/crypto.h"
#include "bot/incident.h"
#include "bot/integration.h"

#define ALERT_WHY_SIZE 160

enum alert_action { ALERT_TRIGGER, ALERT_RESOLVE, ALERT_IGNORE };

struct alert {
	enum alert_action action;
	char summary[INCIDENT_SUMMARY_MAX + 1];
	enum incident_severity severity;
	char dedup[INCIDENT_DEDUP_MAX];		/* "" = none: every alert is new */
	char sig[CRYPTO_SHA256_HEX_SIZE];	/* "" = no alert set */
	char service[INCIDENT_NAME_MAX];	/* generic: the service it names, "" none */
	char details[INCIDENT_TEXT_MAX + 1];	/* the "opened" timeline entry: counts, links */
};

/* Parse body (len bytes, not necessarily NUL-terminated) from src into out.
 * 0, or -1 with why ("missing groupKey", "not JSON: ...") for a 400.
 * headers: Sentry's Sentry-Hook-Resource (NULL or "" for the others). */
int alert_parse(enum integration_source src, const char *body, size_t len, const char *resource,
		struct alert *out, char *why, size_t whysize);

/* Severity names of the sources: Alertmanager/generic labels and Sentry levels. */
enum incident_severity alert_severity_label(const char *s);
enum incident_severity alert_severity_sentry(const char *level);

#endif
