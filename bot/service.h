/* service.h - services: what alerts and incidents are about ("api",
 * "checkout"). A service belongs to a team (whose escalation runs for its
 * incidents), may have owners, may name a Slack channel for its alerts, and
 * says from which severity on its incidents page people.
 *
 * Keys (org prefix p = wk:{org}:):
 *   p services               zset  name -> created_ms
 *   p service:<name>         hash  name team channel pages created_ms created_by
 *   p service:<name>:owners  set   member ids
 * Names are team-name shaped (letters, digits, '-', '_'; bot/team.h), kept
 * as typed and looked up exactly.
 *
 * Every change is one script that also appends to the org's audit log
 * (bot/audit.h). Thread: callers pass their own store. Errors: -1 = the
 * store failed (one script: nothing, or everything, applied). */
#ifndef WK_SERVICE_H
#define WK_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/incident.h"
#include "bot/store.h"

#define SERVICE_MAX 200		/* services an org may have */
#define SERVICE_OWNERS_MAX 20
#define SERVICE_DEFAULT_PAGES "error"	/* critical and error page by default */

struct service {
	char name[INCIDENT_NAME_MAX];
	char team[INCIDENT_NAME_MAX];	/* team id (bot/team.h) */
	char channel[32];		/* Slack channel id for its alerts, "" none */
	char pages[12];			/* lowest severity that pages */
	int64_t created_ms;
	char owners[SERVICE_OWNERS_MAX][64];
	size_t nowners;
};

/* Whether an incident of severity sev (a name) pages people for service
 * svc: sev is at or above svc->pages. Unknown names count as error. */
bool service_pages(const struct service *svc, const char *sev);

/* 0 found, 1 no such service, -1. */
int service_get(struct store *s, const char *org_id, const char *name, struct service *out);
/* A service from its hash (HGETALL pairs) and owners (SMEMBERS), for a script
 * that read them itself (integration_by_token). Defaults filled in as
 * service_get() does. */
void service_from_reply(const redisReply *hash, const redisReply *owners, struct service *out);

/* Every service, oldest first. Caller frees *out. 0 or -1. */
int service_list(struct store *s, const char *org_id, struct service **out, size_t *count);

enum service_outcome {
	SERVICE_DONE,
	SERVICE_EXISTS,		/* create: the name is taken */
	SERVICE_MISSING,	/* no such service */
	SERVICE_UNCHANGED,	/* already so: nothing written */
	SERVICE_FULL		/* create: SERVICE_MAX reached; owner: SERVICE_OWNERS_MAX */
};

/* actor: member id; platform: "slack", "console" (for the audit log). */
struct service_actor {
	const char *org_id, *actor, *platform;
	int64_t now_ms;
};

int service_create(struct store *s, const struct service_actor *a, const char *name, const char *team,
		   enum service_outcome *out);
int service_delete(struct store *s, const struct service_actor *a, const char *name, enum service_outcome *out);
/* add or remove one owner. */
int service_owner(struct store *s, const struct service_actor *a, const char *name, const char *member, bool add,
		  enum service_outcome *out);
/* Set "channel" (a channel id, "" = none) or "pages" (a severity name). */
int service_set(struct store *s, const struct service_actor *a, const char *name, const char *field,
		const char *value, enum service_outcome *out);

#endif
