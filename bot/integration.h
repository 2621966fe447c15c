/* integration.h - alert integrations: the tokens monitoring systems
 * (Alertmanager, Grafana, Sentry, our generic JSON) put in their webhook URL,
 * each bound to one org and one service.
 *
 * A token is 160 random bits (32 base32 characters, bot/invite.h's codes),
 * shown once when it is made and stored only as its SHA-256: the webhook
 * finds its integration by that hash. Sentry and Grafana sign their bodies
 * with a secret of their own (Sentry's Client Secret, Grafana's HMAC
 * secret), which an admin stores per integration; it is kept sealed under
 * secrets.key (bot/secrets.h, context integration_secret_context()).
 *
 * Keys (org prefix p = wk:{org}:):
 *   p intg_seq         counter: integration ids 1, 2, ...
 *   p intgs            zset  id -> created_ms
 *   p intg:<id>        hash  id source service created_ms created_by
 *                            last_used_ms token_sha secret (sealed)
 *   wk:hook:<sha>      hash  org id       (global: a webhook names no org)
 *
 * Changes are one script each, audited (bot/audit.h). Thread: callers pass
 * their own store. Errors: -1 = the store failed. */
#ifndef WK_INTEGRATION_H
#define WK_INTEGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/incident.h"
#include "bot/invite.h"
#include "bot/store.h"

#define INTEGRATION_TOKEN_LEN INVITE_CODE_LEN
#define INTEGRATION_MAX 100	/* per org */

/* The sources, in the order of their routes (/hooks/<name>/<token>). */
enum integration_source { SRC_ALERTMANAGER, SRC_GRAFANA, SRC_SENTRY, SRC_GENERIC, SRC_COUNT };
const char *integration_source_name(enum integration_source s);
/* Exact name, any case; -1 when it is none. */
int integration_source_parse(const char *s);

struct integration {
	int64_t id;
	char org[128];
	char source[16];
	char service[INCIDENT_NAME_MAX];
	char created_by[64];
	int64_t created_ms, last_used_ms;
	bool has_secret;
	/* integration_by_token(): the org's audit tip as it read this ("" when
	 * the org has none): any change to an integration or a service moves it. */
	char org_tip[65];
};

/* Whether s has the shape of a token (32 characters of the base32 alphabet). */
bool integration_token_shaped(const char *s);
/* The hex SHA-256 a token is stored under. */
void integration_token_hash(const char *token, char hex[65]);
/* The sealing context of an integration's secret: "<org>/integration/<id>". */
void integration_secret_context(const char *org_id, int64_t id, char *out, size_t size);

enum integration_outcome {
	INTEGRATION_DONE,
	INTEGRATION_NO_SERVICE,	/* create: the service does not exist */
	INTEGRATION_MISSING,	/* no such integration */
	INTEGRATION_FULL	/* create: INTEGRATION_MAX reached */
};

struct integration_actor {
	const char *org_id, *actor, *platform;
	int64_t now_ms;
};

/* Make an integration for an existing service: *id and the token (which
 * must hold INTEGRATION_TOKEN_LEN + 1; shown once, never stored). -1 also
 * when the RNG fails. */
int integration_create(struct store *s, const struct integration_actor *a, enum integration_source src,
		       const char *service, int64_t *id, char *token, enum integration_outcome *out);
/* Revoke: the token stops working at once; the record goes. */
int integration_revoke(struct store *s, const struct integration_actor *a, int64_t id,
		       enum integration_outcome *out);
/* Store a sealed secret (bot/secrets.h) for an integration. */
int integration_set_secret(struct store *s, const struct integration_actor *a, int64_t id, const char *sealed,
			   enum integration_outcome *out);

/* Oldest first. Caller frees *out. 0 or -1. */
int integration_list(struct store *s, const char *org_id, struct integration **out, size_t *count);

/* The integration a token names: 0 found (with its sealed secret, "" when
 * none, into sealed), 1 no such token, -1. When svc is not NULL, the same
 * round trip reads the integration's service into it (svc->name "" when that
 * service was deleted): a webhook costs one read before its one write. */
struct service;
int integration_by_token(struct store *s, const char *token, struct integration *out, char *sealed,
			 size_t sealed_size, struct service *svc);
/* Record that it was used (bookkeeping, after the alert was recorded). */
int integration_touch(struct store *s, const char *org_id, int64_t id, int64_t now_ms);

#endif
