/* feeds.h - calendar feeds and report exports: secret-URL tokens, the two GET
 * routes that serve them, and the /oncall commands that hand them out.
 *
 * Calendar feeds. `/oncall ical` gives a member two kinds of private URL,
 * <public_url>/ical/<token>.ics: their own shifts (across every team of the
 * org) and, for each team they belong to, the team's whole schedule. A feed
 * covers [now - FEEDS_PAST_S, now + FEEDS_FUTURE_S) and is rendered afresh on
 * every GET (bot/ical.h). Each member has their own tokens, team feeds
 * included, so `/oncall ical reset` revokes exactly that member's URLs.
 *
 * Tokens are FEEDS_TOKEN_BYTES random bytes as lower-case hex. Only the SHA-256
 * of the token text is stored, so a Redis dump can't be used to read anyone's
 * calendar; the URL is therefore shown only when it is made (afterwards
 * `/oncall ical` says a link exists, and `reset` makes new ones). Keys:
 *   wk:feed:<sha256>          string JSON {org, kind: member|team, id, member,
 *                             created_ms}; id is the member or team id, member
 *                             the owner. GLOBAL on purpose: the URL carries no
 *                             org, so the token alone has to find it. (In Redis
 *                             Cluster it lives in its own slot; nothing needs it
 *                             atomically with org keys, see below.)
 *   wk:{org}:feeds:<member>   hash: "member" or "team:<team id>" -> sha256.
 * A token is valid only while BOTH agree: the route checks that the owner's
 * hash still names this sha, that the owner is still a member and that the org
 * is not suspended. So a reset takes effect the moment the hash changes, and a
 * global key left behind by a crash or a failed DEL is dead, never a way in.
 *
 * Report exports. `/oncall report [team] [FROM] [TO]` shows the fairness
 * report (bot/report.h) and `/incident report` the incident figures
 * (bot/incident_report.h); each ends with a CSV link
 * <public_url>/export/<token>.csv valid for FEEDS_EXPORT_TTL_S:
 *   wk:export:<sha256>        string JSON {org, kind, team, from, to, tz,
 *                             member, created_ms}, EX FEEDS_EXPORT_TTL_S
 *                             (global too). kind FEEDS_EXPORT_ONCALL (also
 *                             when absent: records made before kinds) with
 *                             team the team id, or FEEDS_EXPORT_INCIDENTS
 *                             with team the service ("" = every service).
 * The CSV is recomputed from that period on GET (past shifts don't change;
 * incidents of the period may have been acknowledged or resolved since).
 *
 * Routes run on the loop thread: they only check the token's shape (anything
 * else is a 404 before any lookup) and hand the work to a worker, which looks
 * the token up with its own store and answers through http_call_finish().
 * Unknown, revoked and expired tokens are 404; a store failure is 503. Tokens
 * never reach a log line.
 *
 * Thread: command handlers run on a worker (dispatch.h) with ctx->store. */
#ifndef WK_FEEDS_H
#define WK_FEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "bot/dispatch.h"
#include "bot/http_server.h"

#define FEEDS_TOKEN_BYTES 24
#define FEEDS_TOKEN_HEX (2 * FEEDS_TOKEN_BYTES)
#define FEEDS_PAST_S (7 * INT64_C(86400))
#define FEEDS_FUTURE_S (60 * INT64_C(86400))
#define FEEDS_EXPORT_TTL_S 900
#define FEEDS_MAX_BYTES (8u * 1024 * 1024)	/* a feed bigger than this is a 500 */

/* GET /ical/<token>.ics -> 200 text/calendar; charset=utf-8, or 404. */
enum route_result feeds_route_ical(struct http_request *req, struct http_response *resp);
/* GET /export/<token>.csv -> 200 text/csv; charset=utf-8 (attachment), or 404. */
enum route_result feeds_route_export(struct http_request *req, struct http_response *resp);

/* `/oncall ical`: make the caller's missing feed tokens and show their URLs. */
enum cmd_result feeds_cmd_ical(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
/* `/oncall ical reset`: revoke all of the caller's feed tokens, make new ones. */
enum cmd_result feeds_cmd_ical_reset(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
/* `/oncall report [team] [FROM] [TO]`: the period as bot/period.h reads it,
 * local to the team's zone. Default team: "default". The zone is the team's
 * first rotation's (by priority), else the configured rotation.timezone. */
enum cmd_result feeds_cmd_report(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

#define FEEDS_EXPORT_ONCALL "oncall"
#define FEEDS_EXPORT_INCIDENTS "incidents"

/* Make an export link of kind for scope (team id, or service) over [from,
 * to) in seconds, read in zone tz, and add the "CSV: <url> (this link works
 * for 15 minutes)" section to r (or a sentence saying the RNG failed). 0, or
 * -1 when the store failed (nothing added). */
int feeds_export_link(struct cmd_ctx *ctx, const char *kind, const char *scope, int64_t from, int64_t to,
		      const char *tz, struct reply *r);

/* Exposed for tests and fuzzing. */
/* path_rest must be exactly FEEDS_TOKEN_HEX lower-case hex digits then suffix
 * (".ics", ".csv"); copies the digits into token. 0 or -1. */
int feeds_token_parse(const char *path_rest, const char *suffix, char token[FEEDS_TOKEN_HEX + 1]);

#endif
