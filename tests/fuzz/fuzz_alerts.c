/* fuzz_alerts.c - libFuzzer target for adapters/alert_parse (what Alertmanager,
 * Grafana, Sentry and generic senders post) and the webhook signature check.
 *
 * The input is parsed as each source's body (and, for Sentry, under each
 * resource). Whatever it is: no crash, no read past the input (it is not
 * NUL-terminated), and the promises hold: -1 always says why; 0 gives a
 * severity in range, a dedup key and summary that fit, and no control
 * characters in what reaches chat (summary, details). The input as a
 * signature never verifies unless it is the real MAC. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/alert_parse.h"
#include "adapters/alert_webhooks.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_alerts: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();					\
		}							\
	} while (0)

static void no_controls(const char *s)
{
	for (; *s; s++)
		CHECK((unsigned char)*s >= 0x20 && *s != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const resources[] = { NULL, "event_alert", "issue", "installation" };
	char *body = malloc(size ? size : 1), *text;
	char why[ALERT_WHY_SIZE];
	struct alert a;

	CHECK(body != NULL);
	memcpy(body, data, size);	/* exactly size bytes: no terminator to lean on */
	for (int src = 0; src < SRC_COUNT; src++) {
		for (size_t r = 0; r < (src == SRC_SENTRY ? 4 : 1); r++) {
			int rc = alert_parse((enum integration_source)src, body, size, resources[r], &a, why, sizeof(why));
			CHECK(rc == 0 || rc == -1);
			if (rc < 0) {
				CHECK(why[0] != '\0');
				continue;
			}
			CHECK(a.severity >= 0 && a.severity < SEV_COUNT);
			CHECK(a.action == ALERT_TRIGGER || a.action == ALERT_RESOLVE || a.action == ALERT_IGNORE);
			CHECK(strlen(a.dedup) < sizeof(a.dedup) && strlen(a.summary) < sizeof(a.summary));
			if (a.action == ALERT_TRIGGER)
				CHECK(a.summary[0] != '\0');
			if (a.action == ALERT_RESOLVE)
				CHECK(a.dedup[0] != '\0');
			no_controls(a.summary);
			no_controls(a.details);
			no_controls(a.service);
		}
	}
	text = malloc(size + 1);
	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	/* A random 64-hex-digit string verifying would be a 2^-256 event: a bug. */
	CHECK(!alert_signature_valid("fuzz_secret", "", body, size, text) || strlen(text) == 64);
	free(text);
	free(body);
	return 0;
}
