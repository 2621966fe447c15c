/* delegate.c - see delegate.h: settings, rules, team policies and routing.
 * Steps 3 and 4 (who of a step is paged, in what order) are delegate_people.c. */
#include "bot/delegate.h"
#include "bot/audit.h"
#include "bot/escalation.h"
#include "bot/incident.h"
#include "bot/log.h"
#include "bot/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = { "users_with_services", "all_members", "specific_users" };

const char *delegate_mode_name(enum delegate_mode m)
{
	return (unsigned)m < ARRAY_LEN(mode_names) ? mode_names[m] : mode_names[0];
}

int delegate_mode_parse(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_LEN(mode_names); i++)
		if (strcmp(s, mode_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- routing (steps 1 and 2) ---- */


static const struct store_script route_script = {
	"delegate_route",
	/* ARGV: prefix, service, severity, type, team, default policy. Reads only. */
	"return {wk_route(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])}\n",
	DELEGATE_ROUTE_LUA
};

int delegate_route(struct store *s, const struct config *cfg, const char *org_id, const char *service,
		   const char *severity, const char *type, const char *team, struct delegate_route *out)
{
	struct escalation_policy def;
	char prefix[160], deftext[INCIDENT_POLICY_MAX];
	redisReply *r;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	escalation_default_policy(cfg, &def);
	if (org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    escalation_policy_format(&def, deftext, sizeof(deftext)) < 0)
		return -1;
	const char *args[] = { prefix, service, severity, type, team, deftext };
	r = store_script(s, &route_script, 0, NULL, (int)ARRAY_LEN(args), args);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_STRING && r->element[2]->type == REDIS_REPLY_STRING) {
		wk_strlcpy(out->policy, r->element[0]->str, sizeof(out->policy));
		wk_strlcpy(out->team, r->element[1]->str, sizeof(out->team));
		if (r->element[2]->str[0] && !wk_parse_i64(r->element[2]->str, 1, INT64_MAX, &out->rule))
			out->rule = 0;
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

/* ---- changing ---- */

/* KEYS: audit stream, audit tip. ARGV: prefix, now, actor, platform, ...
 * Each script answers {outcome, id}: outcome is enum delegate_outcome's
 * order (0 done, 1 unchanged, 2 missing, 3 full). */
#define DELEG_PRELUDE_LUA \
	"local p, now, actor, platform = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n" \
	"local k = p .. 'deleg'\n" \
	"local function audit(action, resource, before, after)\n" \
	"  wk_audit(KEYS[1], KEYS[2], now, actor, platform, action, resource, before, after)\n" \
	"end\n"

static const struct store_script mode_script = {
	"delegate_mode",
	DELEG_PRELUDE_LUA
	/* ARGV[5] mode, [6] users, [7] roles */
	"local function describe(m, u, r)\n"
	"  local s = m\n"
	"  if u ~= '' then s = s .. ' users ' .. u end\n"
	"  if r ~= '' then s = s .. ' roles ' .. r end\n"
	"  return s\n"
	"end\n"
	"local v = redis.call('HMGET', k, 'mode', 'users', 'roles')\n"
	"local m, u, r = v[1] or 'users_with_services', v[2] or '', v[3] or ''\n"
	"if m == ARGV[5] and u == ARGV[6] and r == ARGV[7] then return {1, 0} end\n"
	"redis.call('HSET', k, 'mode', ARGV[5], 'users', ARGV[6], 'roles', ARGV[7])\n"
	"audit('delegate.mode', 'delegate', describe(m, u, r), describe(ARGV[5], ARGV[6], ARGV[7]))\n"
	"return {0, 0}\n",
	AUDIT_LUA
};

static const struct store_script viewers_script = {
	"delegate_viewers",
	DELEG_PRELUDE_LUA
	/* ARGV[5] "1" on, "0" off */
	"local old = redis.call('HGET', k, 'viewers') == '1' and '1' or '0'\n"
	"if old == ARGV[5] then return {1, 0} end\n"
	"redis.call('HSET', k, 'viewers', ARGV[5])\n"
	"local words = { ['0'] = 'off', ['1'] = 'on' }\n"
	"audit('delegate.viewers', 'delegate', words[old], words[ARGV[5]])\n"
	"return {0, 0}\n",
	AUDIT_LUA
};

static const struct store_script priority_script = {
	"delegate_priority",
	DELEG_PRELUDE_LUA
	/* ARGV[5] ids, [6] gap seconds (decimal, as C wrote it) */
	"local function describe(ids, gap)\n"
	"  if ids == '' and gap == '0' then return 'none' end\n"
	"  return (ids ~= '' and ids or 'none') .. ', gap ' .. gap .. ' s'\n"
	"end\n"
	"local v = redis.call('HMGET', k, 'priority', 'gap_s')\n"
	"local ids, gap = v[1] or '', v[2] or '0'\n"
	"if ids == ARGV[5] and gap == ARGV[6] then return {1, 0} end\n"
	/* Cleared: no fields left behind, so the hash reads as the defaults. */
	"if ARGV[5] == '' and ARGV[6] == '0' then redis.call('HDEL', k, 'priority', 'gap_s')\n"
	"else redis.call('HSET', k, 'priority', ARGV[5], 'gap_s', ARGV[6]) end\n"
	"audit('delegate.priority', 'delegate', describe(ids, gap), describe(ARGV[5], ARGV[6]))\n"
	"return {0, 0}\n",
	AUDIT_LUA
};

/* How a rule reads in the audit log: "service api severity critical -> member:U1". */
#define DELEG_RULE_DESCRIBE_LUA \
	"local function describe(r)\n" \
	"  local s = {}\n" \
	"  for _, f in ipairs({'service', 'severity', 'type'}) do\n" \
	"    if type(r[f]) == 'string' and r[f] ~= '' then s[#s + 1] = f .. ' ' .. r[f] end\n" \
	"  end\n" \
	"  if #s == 0 then s[1] = 'any incident' end\n" \
	"  return table.concat(s, ' ') .. ' -> ' .. tostring(r.target or '')\n" \
	"end\n"

static const struct store_script rule_add_script = {
	"delegate_rule_add",
	DELEG_PRELUDE_LUA
	DELEG_RULE_DESCRIBE_LUA
	/* ARGV[5] service, [6] severity, [7] type, [8] target, [9] the most rules */
	"local rk = p .. 'deleg:rules'\n"
	"if redis.call('HLEN', rk) >= tonumber(ARGV[9]) then return {3, 0} end\n"
	"local id = redis.call('INCR', p .. 'deleg:seq')\n"
	/* cjson writes numbers in %.14g: a 13-digit millisecond instant stays exact. */
	"local r = { service = ARGV[5], severity = ARGV[6], type = ARGV[7], target = ARGV[8], by = actor,\n"
	"  created_ms = tonumber(now) }\n"
	"redis.call('HSET', rk, id, cjson.encode(r))\n"
	"audit('delegate.rule_add', 'delegate:rule:' .. id, '', describe(r))\n"
	"return {0, id}\n",
	AUDIT_LUA
};

static const struct store_script rule_remove_script = {
	"delegate_rule_remove",
	DELEG_PRELUDE_LUA
	DELEG_RULE_DESCRIBE_LUA
	/* ARGV[5] id */
	"local rk = p .. 'deleg:rules'\n"
	"local v = redis.call('HGET', rk, ARGV[5])\n"
	"if not v then return {2, 0} end\n"
	"redis.call('HDEL', rk, ARGV[5])\n"
	"local ok, r = pcall(cjson.decode, v)\n"
	"audit('delegate.rule_remove', 'delegate:rule:' .. ARGV[5], ok and type(r) == 'table' and describe(r) or v, '')\n"
	"return {0, tonumber(ARGV[5])}\n",
	AUDIT_LUA
};

static const struct store_script policy_script = {
	"delegate_team_policy",
	DELEG_PRELUDE_LUA
	/* ARGV[5] team, [6] policy text ('' = back to the built-in default) */
	"local pk = p .. 'team_policy:' .. ARGV[5]\n"
	"local old = redis.call('GET', pk) or ''\n"
	"if old == ARGV[6] then return {1, 0} end\n"
	"if ARGV[6] == '' then redis.call('DEL', pk) else redis.call('SET', pk, ARGV[6]) end\n"
	"audit('delegate.policy', 'team_policy:' .. ARGV[5], old, ARGV[6])\n"
	"return {0, 0}\n",
	AUDIT_LUA
};

static int run(struct store *s, const struct store_script *script, const struct delegate_actor *a,
	       const char *const *more, size_t nmore, int64_t *id, enum delegate_outcome *out)
{
	static const enum delegate_outcome outcomes[] = { DELEGATE_DONE, DELEGATE_UNCHANGED, DELEGATE_MISSING,
							  DELEGATE_FULL };
	redisReply *r = audit_script_run(s, script, a->org_id, a->actor, a->platform, a->now_ms, NULL, more, nmore);
	size_t k;

	if (store_outcome(r, ARRAY_LEN(outcomes), &k, id) < 0)
		return -1;
	*out = outcomes[k];
	return 0;
}

int delegate_set_mode(struct store *s, const struct delegate_actor *a, enum delegate_mode mode,
		      const char *users, const char *roles, enum delegate_outcome *out)
{
	const char *more[] = { delegate_mode_name(mode), users, roles };

	return run(s, &mode_script, a, more, ARRAY_LEN(more), NULL, out);
}

int delegate_set_viewers(struct store *s, const struct delegate_actor *a, bool on, enum delegate_outcome *out)
{
	const char *more[] = { on ? "1" : "0" };

	return run(s, &viewers_script, a, more, ARRAY_LEN(more), NULL, out);
}

int delegate_set_priority(struct store *s, const struct delegate_actor *a, const char *ids, int64_t gap_s,
			  enum delegate_outcome *out)
{
	char gap[24];

	snprintf(gap, sizeof(gap), "%lld", (long long)gap_s);
	const char *more[] = { ids, gap };
	return run(s, &priority_script, a, more, ARRAY_LEN(more), NULL, out);
}

int delegate_rule_add(struct store *s, const struct delegate_actor *a, const struct delegate_rule *rule,
		      int64_t *id, enum delegate_outcome *out)
{
	char max[16];

	*id = 0;
	snprintf(max, sizeof(max), "%d", DELEGATE_RULES_MAX);
	const char *more[] = { rule->service, rule->severity, rule->type, rule->target, max };
	return run(s, &rule_add_script, a, more, ARRAY_LEN(more), id, out);
}

int delegate_rule_remove(struct store *s, const struct delegate_actor *a, int64_t id, enum delegate_outcome *out)
{
	char sid[24];

	snprintf(sid, sizeof(sid), "%lld", (long long)id);
	const char *more[] = { sid };
	return run(s, &rule_remove_script, a, more, ARRAY_LEN(more), NULL, out);
}

int delegate_team_policy_set(struct store *s, const struct delegate_actor *a, const char *team, const char *text,
			     enum delegate_outcome *out)
{
	struct escalation_policy p;

	/* The command layer parses what people type; text that is no policy
	 * here is a bug there, and would break every incident of the team. */
	if (text[0] && escalation_policy_parse(text, &p) < 0) {
		log_error("delegate.policy_invalid", "org=%s team=%s", a->org_id, team);
		return -1;
	}
	const char *more[] = { team, text };
	return run(s, &policy_script, a, more, ARRAY_LEN(more), NULL, out);
}

/* ---- reading ---- */

/* Copy the comma-separated items of list into out (empty items and ones too
 * long to hold skipped: a cut id would name someone else). */
static size_t split_list(const char *list, char (*out)[DELEGATE_ID_MAX], size_t max)
{
	size_t n = 0;

	for (const char *p = list; *p && n < max;) {
		size_t len = strcspn(p, ",");
		if (len > 0 && len < DELEGATE_ID_MAX) {
			memcpy(out[n], p, len);
			out[n++][len] = '\0';
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return n;
}

static void settings_roles(const char *list, struct delegate_settings *out)
{
	char items[ARRAY_LEN(out->roles) + 4][DELEGATE_ID_MAX];
	size_t n = split_list(list, items, ARRAY_LEN(items));

	for (size_t i = 0; i < n && out->nroles < ARRAY_LEN(out->roles); i++) {
		enum role r = role_parse(items[i]);
		bool seen = false;
		for (size_t j = 0; j < out->nroles; j++)
			seen = seen || out->roles[j] == r;
		if (r != ROLE_NONE && !seen)
			out->roles[out->nroles++] = r;
	}
}

void delegate_settings_parse(const redisReply *r, struct delegate_settings *out)
{
	memset(out, 0, sizeof(*out));
	out->mode = DELEGATE_USERS_WITH_SERVICES;
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(f->str, "mode") == 0) {
			int m = delegate_mode_parse(v->str);
			if (m >= 0)
				out->mode = (enum delegate_mode)m;
		} else if (strcmp(f->str, "users") == 0) {
			out->nusers = split_list(v->str, out->users, DELEGATE_LIST_MAX);
		} else if (strcmp(f->str, "roles") == 0) {
			settings_roles(v->str, out);
		} else if (strcmp(f->str, "viewers") == 0) {
			out->viewers = strcmp(v->str, "1") == 0;
		} else if (strcmp(f->str, "priority") == 0) {
			out->npriority = split_list(v->str, out->priority, DELEGATE_LIST_MAX);
		} else if (strcmp(f->str, "gap_s") == 0) {
			if (!wk_parse_i64(v->str, 0, INT64_MAX, &out->gap_s))
				out->gap_s = 0;
		}
	}
}

int delegate_settings_get(struct store *s, const char *org_id, struct delegate_settings *out)
{
	char key[200];
	redisReply *r;

	delegate_settings_parse(NULL, out);
	if (org_key(key, sizeof(key), org_id, "deleg") < 0)
		return -1;
	if (!(r = store_array(store_command(s, "HGETALL %s", key))))
		return -1;
	delegate_settings_parse(r, out);
	freeReplyObject(r);
	return 0;
}

static void rule_str(json_t *j, const char *name, char *out, size_t size)
{
	const char *v = json_string_value(json_object_get(j, name));

	wk_strlcpy(out, v ? v : "", size);
}

/* One stored rule; false when it is not one (skipped, not fatal). */
static bool rule_from_json(const char *id, const char *text, struct delegate_rule *out)
{
	json_error_t err;
	json_t *j, *ms;

	memset(out, 0, sizeof(*out));
	if (!wk_parse_i64(id, 1, INT64_MAX, &out->id))
		return false;
	j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return false;
	}
	rule_str(j, "service", out->service, sizeof(out->service));
	rule_str(j, "severity", out->severity, sizeof(out->severity));
	rule_str(j, "type", out->type, sizeof(out->type));
	rule_str(j, "target", out->target, sizeof(out->target));
	rule_str(j, "by", out->by, sizeof(out->by));
	/* A number as rule_add writes it; a decimal string is read too. */
	ms = json_object_get(j, "created_ms");
	if (json_is_integer(ms))
		out->created_ms = json_integer_value(ms);
	else if (json_is_string(ms))
		wk_parse_i64(json_string_value(ms), 0, INT64_MAX, &out->created_ms);
	json_decref(j);
	return true;
}

static int rule_named(const struct delegate_rule *r)
{
	return (r->service[0] != '\0') + (r->severity[0] != '\0') + (r->type[0] != '\0');
}

/* The order wk_route() picks in: more fields named first, then newest. */
static int rule_cmp(const void *pa, const void *pb)
{
	const struct delegate_rule *a = pa, *b = pb;
	int na = rule_named(a), nb = rule_named(b);

	if (na != nb)
		return nb - na;
	return (a->id < b->id) - (a->id > b->id);
}

int delegate_rules_list(struct store *s, const char *org_id, struct delegate_rule **out, size_t *n)
{
	char key[200];
	redisReply *r;

	*out = NULL;
	*n = 0;
	if (org_key(key, sizeof(key), org_id, "deleg:rules") < 0)
		return -1;
	if (!(r = store_array(store_command(s, "HGETALL %s", key))))
		return -1;
	*out = xcalloc(r->elements / 2 + 1, sizeof(**out));
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];
		if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
		    rule_from_json(f->str, v->str, &(*out)[*n]))
			(*n)++;
		else
			log_warn("delegate.rule_corrupt", "org=%s", org_id);
	}
	freeReplyObject(r);
	qsort(*out, *n, sizeof(**out), rule_cmp);
	return 0;
}

int delegate_team_policy_get(struct store *s, const char *org_id, const char *team, char *text, size_t size)
{
	char key[256];
	redisReply *r;
	int rc = -1;

	if (size)
		text[0] = '\0';
	if (org_key(key, sizeof(key), org_id, "team_policy:%s", team) < 0)
		return -1;
	r = store_command(s, "GET %s", key);
	if (r && r->type == REDIS_REPLY_NIL) {
		rc = 1;
	} else if (r && r->type == REDIS_REPLY_STRING) {
		wk_strlcpy(text, r->str, size);
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}
