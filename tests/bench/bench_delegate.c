/* bench_delegate - what it costs to find who an incident pages (issue 12):
 * routing (the same Lua the incident-opening script runs) and the first
 * step's people, filtered and ordered, in an org of 2,000 members, 20 teams
 * with a rotation each, 200 services with owners and 100 delegation rules.
 * Prints daemon-side time per incident (p50/p99, the calls a worker or the
 * engine makes) and Redis round trips per incident, by kind of target.
 *
 * usage: bench_delegate REDIS_URL   (run by scripts/bench_delegate.sh on a
 * private, empty Redis; it writes one org there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/config.h"
#include "bot/delegate.h"
#include "bot/escalation.h"
#include "bot/incident.h"
#include "bot/rotations.h"
#include "bot/schedule.h"
#include "bot/store.h"
#include "bot/tz.h"
#include "bot/util.h"

#define ORG "slack:T0BENCH"
#define MEMBERS 2000
#define TEAMS 20
#define SERVICES 200
#define RULES 100
#define RUNS 4000

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void must(redisReply *r, const char *what)
{
	if (!r || r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "bench_delegate: %s failed\n", what);
		exit(1);
	}
	freeReplyObject(r);
}

static void populate(struct store *s, int64_t now)
{
	/* 2% admins, 5% viewers, the rest developers. */
	static const char *role_of[100];
	for (int i = 0; i < 100; i++)
		role_of[i] = i < 2 ? "admin" : i < 7 ? "viewer" : "developer";
	static const char *const sev[] = { "critical", "error", "warning", "info" };
	char key[128], id[16], team[16];

	must(store_command(s, "HSET wk:{" ORG "}:org id " ORG " mode team owner U0000"), "org");
	must(store_command(s, "SADD wk:{" ORG "}:owners U0000"), "owners");
	for (int i = 0; i < MEMBERS; i++) {
		snprintf(id, sizeof(id), "U%04d", i);
		snprintf(key, sizeof(key), "wk:{" ORG "}:member:%s", id);
		must(store_command(s, "HSET %s role %s platform slack", key, i == 0 ? "owner" : role_of[i % 100]), "member");
		must(store_command(s, "SADD wk:{" ORG "}:members %s", id), "members");
		if (i % 17 == 0)	/* some opted out */
			must(store_command(s, "HSET %s incidents off", key), "switch");
		snprintf(team, sizeof(team), "t%02d", i % TEAMS);
		must(store_command(s, "SADD wk:{" ORG "}:team:%s %s", team, id), "team");
	}
	for (int t = 0; t < TEAMS; t++) {
		char *members[5], names[5][16], rid[64];
		struct rotation_version v = { 0 };
		snprintf(team, sizeof(team), "t%02d", t);
		must(store_command(s, "HSET wk:{" ORG "}:teams %s %s", team, team), "teams");
		for (int k = 0; k < 5; k++) {
			snprintf(names[k], sizeof(names[k]), "U%04d", t + k * TEAMS);
			members[k] = names[k];
		}
		v.effective_from = now - 30 * 86400;
		v.spec = (struct rotation_spec){ tz_get("UTC"), 2026, 1, 1, 9, 0, ROTATION_DAYS, 1 };
		wk_strlcpy(v.tz, "UTC", sizeof(v.tz));
		v.members = members;
		v.nmembers = 5;
		if (rotations_create(s, ORG, "U0000", "slack", team, "ops", &v, 1, now, rid, sizeof(rid)) != 0) {
			fprintf(stderr, "bench_delegate: rotation of %s not created\n", team);
			exit(1);
		}
	}
	for (int i = 0; i < SERVICES; i++) {
		snprintf(key, sizeof(key), "wk:{" ORG "}:service:svc%03d", i);
		must(store_command(s, "HSET %s name svc%03d team t%02d pages warning", key, i, i % TEAMS), "service");
		must(store_command(s, "ZADD wk:{" ORG "}:services %d svc%03d", i, i), "services");
		for (int k = 0; k < 2; k++) {
			snprintf(id, sizeof(id), "U%04d", (i * 7 + k * 13) % MEMBERS);
			must(store_command(s, "SADD %s:owners %s", key, id), "owner");
			must(store_command(s, "HINCRBY wk:{" ORG "}:member:%s svc_owned 1", id), "owned");
		}
	}
	const struct delegate_actor a = { ORG, "U0000", "slack", now };
	for (int i = 0; i < RULES; i++) {
		struct delegate_rule rule = { 0 };
		enum delegate_outcome out;
		int64_t rid;
		snprintf(rule.service, sizeof(rule.service), "svc%03d", i * 2);
		if (i % 3 == 0)
			wk_strlcpy(rule.severity, sev[i % 4], sizeof(rule.severity));
		switch (i % 4) {
		case 0: snprintf(rule.target, sizeof(rule.target), "member:U%04d", (i * 11) % MEMBERS); break;
		case 1: snprintf(rule.target, sizeof(rule.target), "team:t%02d", i % TEAMS); break;
		case 2: wk_strlcpy(rule.target, "role:admin", sizeof(rule.target)); break;
		default: wk_strlcpy(rule.target, "channel:C0BENCH", sizeof(rule.target)); break;
		}
		if (delegate_rule_add(s, &a, &rule, &rid, &out) < 0 || out != DELEGATE_DONE) {
			fprintf(stderr, "bench_delegate: rule %d not added\n", i);
			exit(1);
		}
	}
	const struct delegate_actor m = a;
	enum delegate_outcome out;
	if (delegate_set_mode(s, &m, DELEGATE_USERS_WITH_SERVICES, "", "", &out) < 0 ||
	    delegate_set_priority(s, &m, "U0003,U0023,U0043", 60, &out) < 0) {
		fprintf(stderr, "bench_delegate: settings not written\n");
		exit(1);
	}
}

enum kind { K_MEMBER, K_TEAM, K_ROLE, K_CHANNEL, K_NONE, K_COUNT };
static const char *const kind_names[K_COUNT] = { "member rule", "team rule (rotation chain)",
						 "role rule (40 admins of 2,000)", "channel rule",
						 "no rule (team policy)" };

int main(int argc, char **argv)
{
	static const char *const sev[] = { "critical", "error", "warning", "info" };
	static int64_t us[K_COUNT][RUNS];
	size_t n[K_COUNT] = { 0 };
	uint64_t trips[K_COUNT] = { 0 };
	size_t people = 0;
	struct config cfg;
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: bench_delegate REDIS_URL\n");
		return 2;
	}
	if (config_load(&cfg, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_delegate: %s\n", err);
		return 1;
	}
	struct store *s = store_open(argv[1], 5000);
	int64_t now = wk_now_ms();
	populate(s, now / 1000);
	for (int i = 0; i < RUNS; i++) {
		char svc[16];
		struct delegate_route route;
		struct escalation_policy p;
		struct delegate_step_people sp;
		enum kind k;
		int rule = (i / 4) % (RULES + 20);	/* some services have no rule */

		snprintf(svc, sizeof(svc), "svc%03d", rule < RULES ? rule * 2 : 1 + 2 * (rule - RULES));
		uint64_t t0 = store_roundtrips(s);
		int64_t start = wk_mono_us();
		if (delegate_route(s, &cfg, ORG, svc, sev[i % 4], "alertmanager", "default", &route) < 0 ||
		    escalation_policy_parse(route.policy, &p) < 0 ||
		    delegate_step_people(s, &cfg, ORG, route.team, &p.steps[0], now + i, &sp) < 0) {
			fprintf(stderr, "bench_delegate: resolving failed: %s\n", store_error(s));
			return 1;
		}
		int64_t took = wk_mono_us() - start;
		const char *t = p.steps[0].targets[0];
		k = !route.rule ? K_NONE : strncmp(t, "member:", 7) == 0 ? K_MEMBER
		    : strncmp(t, "role:", 5) == 0 ? K_ROLE : strncmp(t, "channel:", 8) == 0 ? K_CHANNEL : K_TEAM;
		us[k][n[k]++] = took;
		trips[k] += store_roundtrips(s) - t0;
		people += sp.n;
	}
	printf("delegate: resolving one incident's first step, org of %d members, %d services, %d rules, "
	       "%d incidents:\n", MEMBERS, SERVICES, RULES, RUNS);
	for (int k = 0; k < K_COUNT; k++) {
		if (!n[k])
			continue;
		qsort(us[k], n[k], sizeof(us[k][0]), cmp_i64);
		printf("delegate:   %-32s p50 %4lld us, p99 %5lld us, %.1f Redis round trips (%zu runs)\n",
		       kind_names[k], (long long)us[k][n[k] / 2], (long long)us[k][n[k] * 99 / 100],
		       (double)trips[k] / (double)n[k], n[k]);
	}
	printf("delegate: %.1f people per step on average (target: p99 under 1 ms)\n", (double)people / RUNS);
	store_close(s);
	config_free(&cfg);
	return 0;
}
