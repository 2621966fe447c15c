/* teams_auth.h - the Bot Framework's signing keys, kept fresh, and the check
 * of an inbound request's bearer token against them (protocols/teams.md 2.2).
 *
 * Keys come from cfg->teams_openid_url (OpenID metadata, then its jwks_uri),
 * fetched through the courier, never on the loop thread: the first fetch
 * starts with teams_auth_start(); later ones start when a check finds the set
 * older than TEAMS_KEYS_MAX_AGE_MS, or meets a kid it does not know (at most
 * one such refetch every TEAMS_KEYS_KID_REFETCH_MS, so a flood of made-up
 * kids cannot make us hammer the endpoint). Meanwhile requests are checked
 * against the set in hand (an unknown kid is answered 401); before the first
 * set arrives they are answered 503. A failed fetch keeps the old set and is
 * tried again after TEAMS_KEYS_RETRY_MS. There is no switch that turns the
 * check off.
 *
 * The Connector signs one token and sends it with every activity for about an
 * hour, so a token that verified is remembered (its SHA-256 and the claims a
 * request still needs, per process) until it expires: the same token again
 * costs one hash instead of an RS256 verification. A new key set forgets them
 * all, so a key taken out of the set stops its tokens at the next refresh.
 *
 * Thread: teams_auth_check() on any thread (the loop's: it only reads the set
 * under a lock and verifies one RS256 signature); start/stop on the main
 * thread, start after courier_start() and workers_start(). */
#ifndef WK_TEAMS_AUTH_H
#define WK_TEAMS_AUTH_H

#include <stdint.h>

#include "adapters/teams_jwt.h"
#include "bot/config.h"

#define TEAMS_KEYS_MAX_AGE_MS (24LL * 3600 * 1000)
#define TEAMS_KEYS_KID_REFETCH_MS (5LL * 60 * 1000)
#define TEAMS_KEYS_RETRY_MS (5LL * 1000)

/* Start fetching the keys (no-op when Teams is off). 0, or -1 when the courier refused. */
int teams_auth_start(const struct config *cfg);
void teams_auth_stop(void);

/* Check an Authorization header value against the current keys, deferring the
 * serviceurl claim to the caller (claims->serviceurl; teams_jwt.h). Returns 0
 * when the token is good, else the HTTP status to answer (401, 403, or 503
 * while no keys are loaded yet) with a sentence for the log in *reason. */
int teams_auth_check(const struct config *cfg, const char *authorization, int64_t now_ms,
		     struct teams_jwt_claims *claims, const char **reason);

/* Test hook and metrics: how many key sets were fetched so far. */
unsigned long teams_auth_fetches(void);

#endif
