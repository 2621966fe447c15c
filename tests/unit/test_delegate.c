/* test_delegate.c - the storage half of /delegate (bot/delegate.c) against a
 * private redis-server (scripts/redis.sh; run from the repository root):
 * settings and their audit entries, rules in precedence order, team policies,
 * routing through DELEGATE_ROUTE_LUA, and service.c's svc_owned counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit_redis.h"
#include "bot/audit.h"
#include "bot/delegate.h"
#include "bot/escalation.h"
#include "bot/service.h"
#include "bot/store.h"
#include "bot/util.h"

#define ORG "slack:T1"
#define DEFAULT_POLICY "r1:900|0:primary|300:backup1|600:backup2"

static const struct delegate_actor actor = { ORG, "U0ADMIN", "slack", 1764900000000LL };

static struct store *fresh(void)
{
	struct store *s = store_open(unit_redis_url, 2000);
	redisReply *r = store_command(s, "FLUSHALL");

	assert_non_null(r);
	freeReplyObject(r);
	return s;
}

static void command(struct store *s, const char *cmd)
{
	redisReply *r = store_command(s, cmd);

	assert_non_null(r);
	assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
	freeReplyObject(r);
}

static void config_default(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->incidents_step_delays_s = "0,300,600";
	cfg->incidents_repeats = 1;
}

/* The newest audit entry says action on resource, before -> after. */
static void assert_audit(struct store *s, const char *action, const char *resource, const char *before,
			 const char *after)
{
	struct audit_entry *e;
	size_t n;

	assert_int_equal(audit_recent(s, ORG, 1, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].action, action);
	assert_string_equal(e[0].resource, resource);
	assert_string_equal(e[0].before, before);
	assert_string_equal(e[0].after, after);
	assert_string_equal(e[0].actor, "U0ADMIN");
	audit_entries_free(e, n);
}

static size_t audit_count(struct store *s)
{
	char kstream[200], ktip[200];
	redisReply *r;
	size_t n;

	assert_int_equal(audit_keys(ORG, kstream, sizeof(kstream), ktip, sizeof(ktip)), 0);
	r = store_command(s, "XLEN %s", kstream);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	n = (size_t)r->integer;
	freeReplyObject(r);
	return n;
}

static void test_mode_names(void **state)
{
	(void)state;
	for (int m = DELEGATE_USERS_WITH_SERVICES; m <= DELEGATE_SPECIFIC_USERS; m++)
		assert_int_equal(delegate_mode_parse(delegate_mode_name((enum delegate_mode)m)), m);
	assert_string_equal(delegate_mode_name(DELEGATE_ALL_MEMBERS), "all_members");
	assert_int_equal(delegate_mode_parse("everyone"), -1);
	assert_int_equal(delegate_mode_parse(""), -1);
}

static void test_settings_round_trip(void **state)
{
	struct store *s = fresh();
	struct delegate_settings st;
	enum delegate_outcome out;

	(void)state;
	assert_int_equal(delegate_settings_get(s, ORG, &st), 0);
	assert_int_equal(st.mode, DELEGATE_USERS_WITH_SERVICES);
	assert_false(st.viewers);
	assert_int_equal(st.npriority, 0);
	assert_int_equal(st.gap_s, 0);
	assert_int_equal(st.nusers + st.nroles, 0);

	/* The default, set again, changes nothing and writes no entry. */
	assert_int_equal(delegate_set_mode(s, &actor, DELEGATE_USERS_WITH_SERVICES, "", "", &out), 0);
	assert_int_equal(out, DELEGATE_UNCHANGED);
	assert_int_equal(audit_count(s), 0);

	assert_int_equal(delegate_set_mode(s, &actor, DELEGATE_SPECIFIC_USERS, "U1,U2", "admin,owner", &out), 0);
	assert_int_equal(out, DELEGATE_DONE);
	assert_audit(s, "delegate.mode", "delegate", "users_with_services",
		     "specific_users users U1,U2 roles admin,owner");
	assert_int_equal(delegate_set_mode(s, &actor, DELEGATE_SPECIFIC_USERS, "U1,U2", "admin,owner", &out), 0);
	assert_int_equal(out, DELEGATE_UNCHANGED);

	assert_int_equal(delegate_set_viewers(s, &actor, false, &out), 0);
	assert_int_equal(out, DELEGATE_UNCHANGED);
	assert_int_equal(delegate_set_viewers(s, &actor, true, &out), 0);
	assert_int_equal(out, DELEGATE_DONE);
	assert_audit(s, "delegate.viewers", "delegate", "off", "on");
	assert_int_equal(delegate_set_viewers(s, &actor, true, &out), 0);
	assert_int_equal(out, DELEGATE_UNCHANGED);

	assert_int_equal(delegate_set_priority(s, &actor, "U2,U1,U3", 120, &out), 0);
	assert_int_equal(out, DELEGATE_DONE);
	assert_audit(s, "delegate.priority", "delegate", "none", "U2,U1,U3, gap 120 s");
	assert_int_equal(delegate_set_priority(s, &actor, "U2,U1,U3", 120, &out), 0);
	assert_int_equal(out, DELEGATE_UNCHANGED);
	assert_int_equal(audit_count(s), 3);

	assert_int_equal(delegate_settings_get(s, ORG, &st), 0);
	assert_int_equal(st.mode, DELEGATE_SPECIFIC_USERS);
	assert_int_equal(st.nusers, 2);
	assert_string_equal(st.users[0], "U1");
	assert_string_equal(st.users[1], "U2");
	assert_int_equal(st.nroles, 2);
	assert_int_equal(st.roles[0], ROLE_ADMIN);
	assert_int_equal(st.roles[1], ROLE_OWNER);
	assert_true(st.viewers);
	assert_int_equal(st.npriority, 3);
	assert_string_equal(st.priority[0], "U2");
	assert_string_equal(st.priority[2], "U3");
	assert_int_equal(st.gap_s, 120);

	/* Clearing the priority leaves the defaults, and says what it was. */
	assert_int_equal(delegate_set_priority(s, &actor, "", 0, &out), 0);
	assert_int_equal(out, DELEGATE_DONE);
	assert_audit(s, "delegate.priority", "delegate", "U2,U1,U3, gap 120 s", "none");
	assert_int_equal(delegate_set_priority(s, &actor, "", 0, &out), 0);
	assert_int_equal(out, DELEGATE_UNCHANGED);
	assert_int_equal(delegate_settings_get(s, ORG, &st), 0);
	assert_int_equal(st.npriority, 0);
	assert_int_equal(st.gap_s, 0);

	char report[256];
	size_t checked;
	assert_int_equal(audit_verify(s, ORG, report, sizeof(report), &checked), AUDIT_INTACT);
	assert_int_equal(checked, 4);
	store_close(s);
}

static int64_t add_rule(struct store *s, const char *service, const char *severity, const char *type,
			const char *target)
{
	struct delegate_rule r;
	enum delegate_outcome out;
	int64_t id = 0;

	memset(&r, 0, sizeof(r));
	wk_strlcpy(r.service, service, sizeof(r.service));
	wk_strlcpy(r.severity, severity, sizeof(r.severity));
	wk_strlcpy(r.type, type, sizeof(r.type));
	wk_strlcpy(r.target, target, sizeof(r.target));
	assert_int_equal(delegate_rule_add(s, &actor, &r, &id, &out), 0);
	assert_int_equal(out, DELEGATE_DONE);
	assert_true(id > 0);
	return id;
}

static void test_rules_precedence(void **state)
{
	struct store *s = fresh();
	struct delegate_rule *rules;
	enum delegate_outcome out;
	size_t n;

	(void)state;
	assert_int_equal(delegate_rules_list(s, ORG, &rules, &n), 0);
	assert_int_equal(n, 0);
	free(rules);

	int64_t any = add_rule(s, "", "", "", "team:ops");
	int64_t api = add_rule(s, "api", "", "", "member:U1");
	assert_audit(s, "delegate.rule_add", "delegate:rule:2", "", "service api -> member:U1");
	int64_t api_crit = add_rule(s, "api", "critical", "", "member:U2");
	int64_t sentry = add_rule(s, "", "", "sentry", "channel:C1");
	int64_t all3 = add_rule(s, "api", "critical", "sentry", "role:admin");
	int64_t web = add_rule(s, "web", "", "", "member:U3");
	assert_int_equal(any, 1);
	assert_int_equal(web, 6);

	assert_int_equal(delegate_rules_list(s, ORG, &rules, &n), 0);
	assert_int_equal(n, 6);
	const int64_t want[] = { all3, api_crit, web, sentry, api, any };
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rules[i].id, want[i]);
	assert_string_equal(rules[0].service, "api");
	assert_string_equal(rules[0].severity, "critical");
	assert_string_equal(rules[0].type, "sentry");
	assert_string_equal(rules[0].target, "role:admin");
	assert_string_equal(rules[0].by, "U0ADMIN");
	assert_int_equal(rules[0].created_ms, actor.now_ms);
	assert_string_equal(rules[5].target, "team:ops");
	free(rules);

	assert_int_equal(delegate_rule_remove(s, &actor, 99, &out), 0);
	assert_int_equal(out, DELEGATE_MISSING);
	assert_int_equal(delegate_rule_remove(s, &actor, api, &out), 0);
	assert_int_equal(out, DELEGATE_DONE);
	assert_audit(s, "delegate.rule_remove", "delegate:rule:2", "service api -> member:U1", "");
	assert_int_equal(delegate_rule_remove(s, &actor, api, &out), 0);
	assert_int_equal(out, DELEGATE_MISSING);
	assert_int_equal(delegate_rules_list(s, ORG, &rules, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(rules[i].id, api);
	free(rules);
	/* Ids are never reused. */
	assert_int_equal(add_rule(s, "db", "", "", "member:U4"), 7);
	store_close(s);
}

static void test_rules_full(void **state)
{
	struct store *s = fresh();
	struct delegate_rule r;
	enum delegate_outcome out;
	int64_t id;
	char key[200], field[16];

	(void)state;
	/* Fill the hash directly: 500 scripts would only test the same line. */
	assert_int_equal(org_key(key, sizeof(key), ORG, "deleg:rules"), 0);
	for (int i = 1; i <= DELEGATE_RULES_MAX; i++) {
		snprintf(field, sizeof(field), "%d", 1000 + i);
		redisReply *x = store_command(s, "HSET %s %s {}", key, field);
		assert_non_null(x);
		freeReplyObject(x);
	}
	memset(&r, 0, sizeof(r));
	wk_strlcpy(r.target, "member:U1", sizeof(r.target));
	assert_int_equal(delegate_rule_add(s, &actor, &r, &id, &out), 0);
	assert_int_equal(out, DELEGATE_FULL);
	assert_int_equal(id, 0);
	assert_int_equal(audit_count(s), 0);
	assert_int_equal(delegate_rule_remove(s, &actor, 1001, &out), 0);
	assert_int_equal(out, DELEGATE_DONE);
	assert_audit(s, "delegate.rule_remove", "delegate:rule:1001", "any incident -> ", "");
	assert_int_equal(delegate_rule_add(s, &actor, &r, &id, &out), 0);
	assert_int_equal(out, DELEGATE_DONE);
	store_close(s);
}

static void test_team_policy(void **state)
{
	struct store *s = fresh();
	enum delegate_outcome out;
	char text[512];
	const char *mine = "r2:1800|0:primary|600:backup1,member:U9";

	(void)state;
	assert_int_equal(delegate_team_policy_get(s, ORG, "ops", text, sizeof(text)), 1);
	assert_string_equal(text, "");
	assert_int_equal(delegate_team_policy_set(s, &actor, "ops", "", &out), 0);
	assert_int_equal(out, DELEGATE_UNCHANGED);
	assert_int_equal(delegate_team_policy_set(s, &actor, "ops", mine, &out), 0);
	assert_int_equal(out, DELEGATE_DONE);
	assert_audit(s, "delegate.policy", "team_policy:ops", "", mine);
	assert_int_equal(delegate_team_policy_set(s, &actor, "ops", mine, &out), 0);
	assert_int_equal(out, DELEGATE_UNCHANGED);
	assert_int_equal(delegate_team_policy_get(s, ORG, "ops", text, sizeof(text)), 0);
	assert_string_equal(text, mine);
	assert_int_equal(delegate_team_policy_get(s, ORG, "web", text, sizeof(text)), 1);

	/* Not a policy: refused before anything is written. */
	assert_int_equal(delegate_team_policy_set(s, &actor, "ops", "primary then backup", &out), -1);
	assert_int_equal(delegate_team_policy_get(s, ORG, "ops", text, sizeof(text)), 0);
	assert_string_equal(text, mine);

	assert_int_equal(delegate_team_policy_set(s, &actor, "ops", "", &out), 0);
	assert_int_equal(out, DELEGATE_DONE);
	assert_audit(s, "delegate.policy", "team_policy:ops", mine, "");
	assert_int_equal(delegate_team_policy_get(s, ORG, "ops", text, sizeof(text)), 1);
	assert_int_equal(audit_count(s), 2);
	store_close(s);
}

static void route(struct store *s, const char *service, const char *severity, const char *type, const char *team,
		  struct delegate_route *out)
{
	struct config cfg;

	config_default(&cfg);
	assert_int_equal(delegate_route(s, &cfg, ORG, service, severity, type, team, out), 0);
}

static void test_route(void **state)
{
	struct store *s = fresh();
	struct delegate_route r;
	enum delegate_outcome out;
	struct escalation_policy p;
	const char *ops = "r0:600|0:member:U7|300:primary";

	(void)state;
	/* The fixture's config gives the default this text. */
	struct config cfg;
	char text[512];
	config_default(&cfg);
	escalation_default_policy(&cfg, &p);
	assert_int_equal(escalation_policy_format(&p, text, sizeof(text)), 0);
	assert_string_equal(text, DEFAULT_POLICY);

	/* No rules, no team policy: the default, for the incident's team. */
	route(s, "api", "critical", "sentry", "default", &r);
	assert_string_equal(r.policy, DEFAULT_POLICY);
	assert_string_equal(r.team, "default");
	assert_int_equal(r.rule, 0);

	/* A stored team policy is that team's. */
	assert_int_equal(delegate_team_policy_set(s, &actor, "ops", ops, &out), 0);
	route(s, "api", "critical", "sentry", "ops", &r);
	assert_string_equal(r.policy, ops);
	assert_string_equal(r.team, "ops");
	assert_int_equal(r.rule, 0);

	/* A rule naming the service beats none; another service's doesn't match. */
	add_rule(s, "web", "", "", "member:U3");
	int64_t by_service = add_rule(s, "api", "", "", "member:U1");
	route(s, "api", "critical", "sentry", "default", &r);
	assert_string_equal(r.policy, "r1:900|0:member:U1");
	assert_string_equal(r.team, "default");
	assert_int_equal(r.rule, by_service);
	assert_int_equal(escalation_policy_parse(r.policy, &p), 0);
	route(s, "db", "critical", "sentry", "default", &r);
	assert_string_equal(r.policy, DEFAULT_POLICY);
	assert_int_equal(r.rule, 0);
	/* Exact and case-sensitive: the command layer lower-cases. */
	route(s, "API", "critical", "sentry", "default", &r);
	assert_int_equal(r.rule, 0);

	/* Service and severity beat service only, even when older. */
	int64_t crit = add_rule(s, "api", "critical", "", "channel:C9");
	int64_t newer = add_rule(s, "api", "", "", "role:admin");
	route(s, "api", "critical", "sentry", "default", &r);
	assert_int_equal(r.rule, crit);
	assert_string_equal(r.policy, "r1:900|0:channel:C9,primary");
	assert_int_equal(escalation_policy_parse(r.policy, &p), 0);
	assert_int_equal(p.steps[0].ntargets, 2);
	/* Another severity: among the equals (service only), the newest. */
	route(s, "api", "warning", "sentry", "default", &r);
	assert_int_equal(r.rule, newer);
	assert_string_equal(r.policy, "r1:900|0:role:admin");

	/* A team target takes that team's policy and makes it the incident's team. */
	int64_t to_ops = add_rule(s, "api", "warning", "", "team:ops");
	route(s, "api", "warning", "sentry", "default", &r);
	assert_int_equal(r.rule, to_ops);
	assert_string_equal(r.policy, ops);
	assert_string_equal(r.team, "ops");
	/* A team without a policy of its own runs the default. */
	int64_t to_web = add_rule(s, "api", "warning", "grafana", "team:web");
	route(s, "api", "warning", "grafana", "default", &r);
	assert_int_equal(r.rule, to_web);
	assert_string_equal(r.policy, DEFAULT_POLICY);
	assert_string_equal(r.team, "web");

	/* A corrupt entry is skipped by routing and by the list alike. */
	char key[200];
	size_t n;
	struct delegate_rule *rules;
	assert_int_equal(org_key(key, sizeof(key), ORG, "deleg:rules"), 0);
	redisReply *x = store_command(s, "HSET %s 999 %s", key, "not json");
	assert_non_null(x);
	freeReplyObject(x);
	route(s, "api", "warning", "grafana", "default", &r);
	assert_int_equal(r.rule, to_web);
	assert_int_equal(delegate_rules_list(s, ORG, &rules, &n), 0);
	assert_int_equal(n, 6);
	free(rules);

	/* A removed rule no longer routes. */
	assert_int_equal(delegate_rule_remove(s, &actor, to_web, &out), 0);
	route(s, "api", "warning", "grafana", "default", &r);
	assert_int_equal(r.rule, to_ops);

	/* The default's head carries over: no repeats, another round length. */
	cfg.incidents_repeats = 0;
	cfg.incidents_step_delays_s = "0";
	assert_int_equal(delegate_route(s, &cfg, ORG, "api", "critical", "", "default", &r), 0);
	assert_string_equal(r.policy, "r0:300|0:channel:C9,primary");
	store_close(s);
}

static int64_t owned(struct store *s, const char *member)
{
	char key[200];
	redisReply *r;
	int64_t n = 0;

	assert_int_equal(org_key(key, sizeof(key), ORG, "member:%s", member), 0);
	r = store_command(s, "HGET %s svc_owned", key);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_STRING)
		assert_true(wk_parse_i64(r->str, INT64_MIN, INT64_MAX, &n));
	else
		assert_int_equal(r->type, REDIS_REPLY_NIL);
	freeReplyObject(r);
	return n;
}

static void test_svc_owned(void **state)
{
	struct store *s = fresh();
	const struct service_actor sa = { ORG, "U0ADMIN", "slack", 1764900000000LL };
	enum service_outcome out;

	(void)state;
	command(s, "HSET wk:{" ORG "}:member:U1 role developer");
	command(s, "HSET wk:{" ORG "}:member:U2 role developer");
	assert_int_equal(service_create(s, &sa, "api", "default", &out), 0);
	assert_int_equal(service_create(s, &sa, "web", "default", &out), 0);
	assert_int_equal(service_owner(s, &sa, "api", "U1", true, &out), 0);
	assert_int_equal(out, SERVICE_DONE);
	assert_int_equal(service_owner(s, &sa, "web", "U1", true, &out), 0);
	assert_int_equal(service_owner(s, &sa, "web", "U2", true, &out), 0);
	assert_int_equal(owned(s, "U1"), 2);
	assert_int_equal(owned(s, "U2"), 1);
	/* Adding again is unchanged: no double count. */
	assert_int_equal(service_owner(s, &sa, "api", "U1", true, &out), 0);
	assert_int_equal(out, SERVICE_UNCHANGED);
	assert_int_equal(owned(s, "U1"), 2);

	assert_int_equal(service_owner(s, &sa, "api", "U1", false, &out), 0);
	assert_int_equal(out, SERVICE_DONE);
	assert_int_equal(owned(s, "U1"), 1);
	assert_int_equal(service_owner(s, &sa, "api", "U1", false, &out), 0);
	assert_int_equal(out, SERVICE_UNCHANGED);
	assert_int_equal(owned(s, "U1"), 1);

	/* Deleting a service takes it from each of its owners' counts; a count
	 * that reaches 0 is removed. Someone who is not a member gets no hash. */
	assert_int_equal(service_delete(s, &sa, "web", &out), 0);
	assert_int_equal(out, SERVICE_DONE);
	assert_int_equal(owned(s, "U1"), 0);
	assert_int_equal(owned(s, "U2"), 0);
	redisReply *r = store_command(s, "HEXISTS wk:{" ORG "}:member:U1 svc_owned");
	assert_non_null(r);
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	assert_int_equal(service_owner(s, &sa, "api", "U9", true, &out), 0);
	r = store_command(s, "EXISTS wk:{" ORG "}:member:U9");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_settings_round_trip),
		cmocka_unit_test(test_rules_precedence),
		cmocka_unit_test(test_rules_full),
		cmocka_unit_test(test_team_policy),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_svc_owned),
	};
	return cmocka_run_group_tests(tests, unit_redis_start, unit_redis_stop);
}
