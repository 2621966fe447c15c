/* fake_connector - a small, fast stand-in for the Microsoft Bot Connector's
 * REST v3 (protocols/teams.md 2.3, 2.4) and the bot's token endpoint, for
 * benchmarks only (scripts/bench_teams.sh). Built, like fake_twilio.c,
 * on fake_http.c (the HTTP server); this file holds the routes.
 *
 *   fake_connector PORT
 *
 * Listens on 127.0.0.1:PORT (0 = any free port), prints the port as the first
 * line on stdout, serves until SIGTERM/SIGINT, then prints its counts on
 * stderr. One thread, epoll, keep-alive, pipelining, Expect: 100-continue.
 *
 *   POST /v3/conversations/{conversationId}/activities[/{activityId}]
 *        needs "Authorization: Bearer <anything>" (else 401); 201 {"id":"<n>"}.
 *   POST /token  (any path ending in /token: the client-credentials endpoint)
 *        200 {"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,
 *             "access_token":"fake-connector-token-<n>"}
 *   GET  /last
 *        the body of the last activity POSTed (up to 64 KiB), 204 before any.
 *   GET  /count
 *        {"activities","tokens","rejected","other","connections_max",
 *         "connections_total"}: activities counts the 201s above, tokens the
 *        token answers; /count itself is not counted.
 *   anything else: 404. Headers over 16 KiB or bodies over 64 KiB: 413, close.
 */
#include "fake_http.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static struct {
	uint64_t activities, tokens, rejected, other;
} stats;

static char last_body[FH_BODY_MAX];
static size_t last_len;

/* ---- handlers ---- */

static void answer(struct fh_conn *c, const struct fh_req *r, int status, const char *body, const char *extra)
{
	fh_clear();
	fh_lit(body);
	fh_respond(c, r, status, extra);
}

static bool has_bearer(const struct fh_req *r)
{
	return r->auth_len > 7 && strncasecmp(r->auth, "Bearer ", 7) == 0;
}

/* /v3/conversations/{id}/activities or /v3/conversations/{id}/activities/{id},
 * ids one non-empty segment each. */
static bool is_activities(const char *p, size_t n)
{
	static const char prefix[] = "/v3/conversations/";
	static const char act[] = "/activities";
	const size_t plen = sizeof(prefix) - 1, alen = sizeof(act) - 1;

	if (n <= plen || memcmp(p, prefix, plen) != 0)
		return false;
	p += plen;
	n -= plen;
	const char *slash = memchr(p, '/', n);
	if (!slash || slash == p)
		return false;
	n -= (size_t)(slash - p);
	p = slash;
	if (n < alen || memcmp(p, act, alen) != 0)
		return false;
	p += alen;
	n -= alen;
	if (n == 0)
		return true;
	return p[0] == '/' && n > 1 && !memchr(p + 1, '/', n - 1);
}

static void handle_count(struct fh_conn *c, const struct fh_req *r)
{
	char body[512];
	int n;

	n = snprintf(body, sizeof(body),
		     "{\"activities\":%" PRIu64 ",\"tokens\":%" PRIu64 ",\"rejected\":%" PRIu64
		     ",\"other\":%" PRIu64 ",\"connections_max\":%" PRIu64 ",\"connections_total\":%" PRIu64 "}",
		     stats.activities, stats.tokens, stats.rejected, stats.other, fh_conns.max,
		     fh_conns.total);
	fh_clear();
	fh_put(body, n > 0 ? (size_t)n : 0);
	fh_respond(c, r, 200, NULL);
}

static void route(struct fh_conn *c, const struct fh_req *r)
{
	size_t path_len = r->path_len;
	const char *p = r->target;
	char body[64];
	int n;

	if (fh_path_is(r, "/count") && fh_method_is(r, "GET")) {
		handle_count(c, r);
		return;
	}
	if (fh_path_is(r, "/last") && fh_method_is(r, "GET")) {
		fh_clear();
		fh_put(last_body, last_len);
		fh_respond(c, r, last_len ? 200 : 204, NULL);
		return;
	}
	if (is_activities(p, path_len) && fh_method_is(r, "POST")) {
		if (!has_bearer(r)) {
			stats.rejected++;
			answer(c, r, 401, "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"no bearer token\"}}",
			       NULL);
			return;
		}
		last_len = r->body_len <= sizeof(last_body) ? r->body_len : sizeof(last_body);
		memcpy(last_body, r->body, last_len);
		n = snprintf(body, sizeof(body), "{\"id\":\"%" PRIu64 "\"}", ++stats.activities);
		fh_clear();
		fh_put(body, n > 0 ? (size_t)n : 0);
		fh_respond(c, r, 201, NULL);
		return;
	}
	if (path_len >= 6 && memcmp(p + path_len - 6, "/token", 6) == 0 && fh_method_is(r, "POST")) {
		n = snprintf(body, sizeof(body), "%" PRIu64, ++stats.tokens);
		fh_clear();
		fh_lit("{\"token_type\":\"Bearer\",\"expires_in\":3600,\"ext_expires_in\":3600,"
		      "\"access_token\":\"fake-connector-token-");
		fh_put(body, n > 0 ? (size_t)n : 0);
		fh_lit("\"}");
		fh_respond(c, r, 200, NULL);
		return;
	}
	stats.other++;
	answer(c, r, 404, "{\"error\":{\"code\":\"NotFound\",\"message\":\"no such resource\"}}", NULL);
}

static void fail(struct fh_conn *c, const struct fh_req *r, int status)
{
	stats.other++;
	answer(c, r, status, status == 413 ? "{\"error\":{\"code\":\"TooLarge\"}}" :
			       status == 501 ? "{\"error\":{\"code\":\"NotImplemented\"}}" :
					       "{\"error\":{\"code\":\"BadRequest\"}}", NULL);
}

int main(int argc, char **argv)
{
	static const struct fh_handlers h = { route, fail };
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	rc = fh_serve("fake_connector", argv[1], &h);
	if (rc)
		return rc;
	fprintf(stderr, "fake_connector: activities=%" PRIu64 " tokens=%" PRIu64 " rejected=%" PRIu64
		" other=%" PRIu64 " connections_max=%" PRIu64 "\n", stats.activities, stats.tokens,
		stats.rejected, stats.other, fh_conns.max);
	return 0;
}
