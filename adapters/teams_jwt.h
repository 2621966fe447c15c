/* teams_jwt.h - Bot Framework inbound token check (protocols/teams.md 2.2).
 *
 * The Connector sends every activity with "Authorization: Bearer <JWT>",
 * signed RS256 by one of the keys in Microsoft's JWK Set. This module parses
 * that set (and the OpenID metadata that names it) and verifies one header
 * against it. It does no I/O and keeps no global state: the courier fetches
 * the documents, the daemon keeps the current key set and swaps it under its
 * own lock on refresh (every 24 h, and rate-limited on TEAMS_AUTH_UNKNOWN_KID).
 *
 * Threads: every function is reentrant. A struct teams_keys never changes
 * after teams_keys_parse() returns, so any number of threads may verify
 * against one set at once; the reference count is atomic, so a reader takes
 * teams_keys_ref() under the daemon's lock, drops the lock, verifies, and
 * calls teams_keys_unref() while a refresh installs a new set.
 *
 * Nothing here logs, and no result or reason contains token bytes. The one
 * token-derived text handed out before the signature is checked is the kid,
 * and it is printable ASCII by construction (else MALFORMED); still quote it
 * (log_quote) when logging. */
#ifndef WK_TEAMS_JWT_H
#define WK_TEAMS_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEAMS_JWT_MAX_TOKEN	16384	/* bytes of the token after "Bearer " */
#define TEAMS_JWT_SKEW		300	/* the usual clock tolerance, seconds */
#define TEAMS_KEYS_MAX		64	/* usable keys kept from one set */
#define TEAMS_KEYS_MAX_JSON	(256 * 1024)
#define TEAMS_KEY_MIN_BITS	2048
#define TEAMS_KEY_MAX_BITS	8192
#define TEAMS_KID_MAX		128	/* bytes, without the NUL */
#define TEAMS_ENDORSEMENTS_MAX	16	/* kept per key; more are ignored */
#define TEAMS_CLAIM_MAX		512	/* bytes of iss, aud, serviceurl, with the NUL */
#define TEAMS_ERR_SIZE		160

/* ---- key sets ---- */

struct teams_keys;

/*
 * Parse a JWK Set ({"keys":[{"kty":"RSA","kid":..,"n":..,"e":..,
 * "endorsements":[..]},..]}) of len bytes (no NUL needed). A key is kept when
 * kty is "RSA", kid is 1..TEAMS_KID_MAX printable ASCII, use (if present) is
 * "sig", alg (if present) is "RS256", n and e are strict base64url with a
 * modulus of TEAMS_KEY_MIN_BITS..TEAMS_KEY_MAX_BITS and an odd exponent >= 3.
 * Any other member is skipped silently (that is how JWK sets evolve); a later
 * key with a kid already kept is skipped too (the first wins). endorsements
 * are kept as given; a key without the array endorses nothing.
 *
 * Returns a set holding one reference, or NULL with a one-line reason in err
 * (err may be NULL) when the text is not a JWK Set, is larger than
 * TEAMS_KEYS_MAX_JSON, or no key is usable: keep using the previous set then.
 */
struct teams_keys *teams_keys_parse(const char *jwks_json, size_t len, char *err, size_t errsize);

/* Another reference to k (returned for convenience); k may be NULL. */
struct teams_keys *teams_keys_ref(struct teams_keys *k);
/* Drop one reference; the last one frees the set. k may be NULL. */
void teams_keys_unref(struct teams_keys *k);
/* The lifecycle name for a sole owner: the same as teams_keys_unref(). */
void teams_keys_free(struct teams_keys *k);

/* Number of usable keys in the set (>= 1). */
size_t teams_keys_count(const struct teams_keys *k);

/*
 * Read the OpenID metadata document: jwks_uri (must be https://) and issuer
 * into the caller's buffers, both required. When the document lists
 * id_token_signing_alg_values_supported, it must contain "RS256". 0, or -1
 * with a reason in err (err may be NULL); a value longer than its buffer is
 * an error, never truncated.
 */
int teams_openid_parse(const char *json, size_t len, char *jwks_uri, size_t usize,
		       char *issuer, size_t isize, char *err, size_t errsize);

/* ---- verifying a request ---- */

/*
 * Results, in the order the checks run: the value names the first problem.
 * (The one exception: claims are parsed only after the signature verified, so
 * a genuine token with an unreadable claims part reads MALFORMED late.)
 * Everything is HTTP 401 except NO_ENDORSEMENT (403): only a token proven
 * genuine is told it is forbidden rather than unauthenticated.
 */
enum teams_auth {
	TEAMS_AUTH_OK = 0,
	TEAMS_AUTH_MISSING,		/* no header, another scheme, or an empty token */
	TEAMS_AUTH_MALFORMED,		/* not three strict base64url segments of JSON, too long,
					 * no kid, crit present; or claims of the wrong type */
	TEAMS_AUTH_BAD_ALG,		/* alg is not exactly "RS256" (none, HS256, RS384, ...) */
	TEAMS_AUTH_UNKNOWN_KID,		/* kid not in the set: out->kid says which; refetch
					 * the set (rate-limited) and try once more */
	TEAMS_AUTH_BAD_SIGNATURE,
	TEAMS_AUTH_EXPIRED,		/* exp missing, or now >= exp + skew */
	TEAMS_AUTH_NOT_YET_VALID,	/* nbf (optional) > now + skew */
	TEAMS_AUTH_BAD_ISSUER,		/* iss != want->issuer */
	TEAMS_AUTH_BAD_AUDIENCE,	/* aud (string, or array of strings) lacks want->app_id */
	TEAMS_AUTH_SERVICE_URL_MISMATCH,/* claim serviceurl != want->service_url */
	TEAMS_AUTH_NO_ENDORSEMENT,	/* signing key does not endorse want->channel_id */
};

/*
 * What the request must match. All strings are compared exactly (bytes, no
 * case folding), with one exception: service URLs that differ only by one
 * trailing '/' are equal ("https://x/" == "https://x"; "https://x//" is not),
 * because the Connector writes the activity's serviceUrl with a slash and
 * tokens have been seen without one. A NULL or empty app_id, issuer,
 * service_url or channel_id fails closed with that check's result.
 */
struct teams_jwt_expect {
	const char *app_id;		/* our Microsoft App ID: the audience */
	const char *issuer;		/* "https://api.botframework.com" */
	const char *service_url;	/* the activity's serviceUrl */
	/* True: the activity is not read yet (a token is checked before its
	 * body is parsed), so the serviceurl claim is not compared here; the
	 * caller compares out->serviceurl with teams_service_url_equal() once it
	 * has read the activity, and refuses a mismatch as
	 * TEAMS_AUTH_SERVICE_URL_MISMATCH. service_url is then ignored. */
	bool defer_service_url;
	const char *channel_id;		/* the activity's channelId, "msteams" */
	int64_t now;			/* unix seconds */
	int64_t skew;			/* TEAMS_JWT_SKEW; negative counts as 0 */
};

/*
 * What the token said. kid is set as soon as the header is read (so also for
 * UNKNOWN_KID and BAD_SIGNATURE; it is not proof of anything then). The other
 * fields are set only once the signature verified, so they are genuine even
 * when a later check fails; empty/0 otherwise. aud is the matched audience (or
 * the first one when none matched).
 */
struct teams_jwt_claims {
	char kid[TEAMS_KID_MAX + 1];
	char iss[TEAMS_CLAIM_MAX];
	char aud[TEAMS_CLAIM_MAX];
	char serviceurl[TEAMS_CLAIM_MAX];
	int64_t exp;
	int64_t nbf;			/* 0 when absent */
};

/*
 * Check one Authorization header value (NULL when absent) against keys (NULL:
 * every kid is unknown). The scheme is "Bearer", any case, then one or more
 * spaces; the token is at most TEAMS_JWT_MAX_TOKEN bytes with nothing after
 * it. alg and kid are read from the header before any key is touched; claims
 * are parsed only after the RS256 signature verified. want is required; out
 * may be NULL. Keys named by the token itself (jwk, jku, x5u, x5c header
 * parameters) are ignored: only the set decides what is trusted.
 * Cost with a cached key: one RSA verify plus two small JSON parses, about
 * 30 us on a 2048-bit key where the bare RSA verify takes 24 us.
 */
enum teams_auth teams_jwt_verify(const struct teams_keys *keys, const char *authorization,
				 const struct teams_jwt_expect *want, struct teams_jwt_claims *out);

/* The serviceurl comparison: exact, except that one trailing '/' on either
 * side does not count. Empty never equals anything. */
bool teams_service_url_equal(const char *a, const char *b);

/* 200 for OK, 403 for NO_ENDORSEMENT, 401 otherwise. */
int teams_auth_http_status(enum teams_auth r);

/* A short sentence for a log line, e.g. "token expired"; never NULL, never
 * contains token data. */
const char *teams_auth_reason(enum teams_auth r);

#endif
