/* integration_cache.h - a worker's copies of the integrations its webhooks used last.
 *
 * An alert is one Redis round trip in the common case. The worker checks the
 * token and the signature against its copy of the token's integration (and
 * its service), and the script that records the alert confirms the copy in
 * the same step: it runs only while the org's audit tip still equals the one
 * the copy was read under (incident_new.stamp). Every change to an integration
 * or a service is audited, so any of them, on any instance, moves the tip;
 * then nothing is recorded, the copy goes, and the worker reads the
 * integration again and tries once more. Orgs without an audit tip are not
 * kept. Tokens are kept only as their SHA-256.
 *
 * Thread: one cache per worker thread; no locks.
 * Ownership: the cache owns its copies; a pointer from integration_cache_get()
 * is valid until the next put or drop on the same cache. */
#ifndef WK_INTEGRATION_CACHE_H
#define WK_INTEGRATION_CACHE_H

#include "bot/integration.h"
#include "bot/secrets.h"
#include "bot/service.h"

#include <stddef.h>

struct integration_copy {
	struct integration in;	/* in.org_tip: the stamp */
	struct service svc;	/* name "" when the service was deleted */
	char sealed[SECRETS_SEALED_SIZE];	/* its sealed secret, "" when none */
};

struct integration_cache;

struct integration_cache *integration_cache_new(size_t capacity);
void integration_cache_free(struct integration_cache *c);	/* NULL is fine */

/* The copy kept for token, or NULL (also for c NULL). */
struct integration_copy *integration_cache_get(struct integration_cache *c, const char *token);
/* Keep a copy of *copy for token (when it has a stamp; c may be NULL). */
void integration_cache_put(struct integration_cache *c, const char *token, const struct integration_copy *copy);
void integration_cache_drop(struct integration_cache *c, const char *token);

#endif
