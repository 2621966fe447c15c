/* integration.c - see integration.h */
#include "bot/integration.h"
#include "bot/audit.h"
#include "bot/org.h"
#include "bot/service.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const source_names[SRC_COUNT] = { "alertmanager", "grafana", "sentry", "generic" };

const char *integration_source_name(enum integration_source s)
{
	return s >= 0 && s < SRC_COUNT ? source_names[s] : "generic";
}

int integration_source_parse(const char *s)
{
	for (int i = 0; i < SRC_COUNT; i++)
		if (strcasecmp(s, source_names[i]) == 0)
			return i;
	return -1;
}

bool integration_token_shaped(const char *s)
{
	return strlen(s) == INTEGRATION_TOKEN_LEN &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz234567") == INTEGRATION_TOKEN_LEN;
}

void integration_token_hash(const char *token, char hex[65])
{
	invite_code_hash(token, hex);
}

void integration_secret_context(const char *org_id, int64_t id, char *out, size_t size)
{
	snprintf(out, size, "%s/integration/%lld", org_id, (long long)id);
}

/* KEYS: audit stream, audit tip. ARGV: prefix, now, actor, platform, ... */
#define INTG_PRELUDE_LUA \
	"local p, now, actor, platform = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n" \
	"local function audit(id, action, before, after)\n" \
	"  wk_audit(KEYS[1], KEYS[2], now, actor, platform, action, 'integration:' .. id, before, after)\n" \
	"end\n"

/* Returns {outcome, id}: 0 done, 1 no service, 2 missing, 3 full. */
static const struct store_script create_script = {
	"integration_create",
	INTG_PRELUDE_LUA
	/* ARGV[5] source, [6] service, [7] token sha, [8] org, [9] max. KEYS[3] the token's index. */
	"if redis.call('EXISTS', p .. 'service:' .. ARGV[6]) == 0 then return {1, 0} end\n"
	"if redis.call('ZCARD', p .. 'intgs') >= tonumber(ARGV[9]) then return {3, 0} end\n"
	"local id = redis.call('INCR', p .. 'intg_seq')\n"
	"redis.call('HSET', p .. 'intg:' .. id, 'id', id, 'source', ARGV[5], 'service', ARGV[6], 'created_ms', now,\n"
	"  'created_by', actor, 'last_used_ms', 0, 'token_sha', ARGV[7])\n"
	"redis.call('ZADD', p .. 'intgs', now, id)\n"
	"redis.call('HSET', KEYS[3], 'org', ARGV[8], 'id', id)\n"
	"audit(id, 'integration.create', '', ARGV[5] .. ' service ' .. ARGV[6])\n"
	"return {0, id}\n",
	AUDIT_LUA
};

static const struct store_script revoke_script = {
	"integration_revoke",
	INTG_PRELUDE_LUA
	/* ARGV[5] id */
	"local k = p .. 'intg:' .. ARGV[5]\n"
	"local v = redis.call('HMGET', k, 'token_sha', 'source', 'service')\n"
	"if not v[1] then return {2, 0} end\n"
	"redis.call('DEL', 'wk:hook:' .. v[1], k)\n"
	"redis.call('ZREM', p .. 'intgs', ARGV[5])\n"
	"audit(ARGV[5], 'integration.revoke', v[2] .. ' service ' .. v[3], '')\n"
	"return {0, tonumber(ARGV[5])}\n",
	AUDIT_LUA
};

static const struct store_script secret_script = {
	"integration_secret",
	INTG_PRELUDE_LUA
	/* ARGV[5] id, ARGV[6] the sealed secret (never in the audit log) */
	"local k = p .. 'intg:' .. ARGV[5]\n"
	"if redis.call('EXISTS', k) == 0 then return {2, 0} end\n"
	"local had = redis.call('HEXISTS', k, 'secret') == 1\n"
	"redis.call('HSET', k, 'secret', ARGV[6])\n"
	"audit(ARGV[5], 'integration.secret', had and '(set)' or '', '(set)')\n"
	"return {0, tonumber(ARGV[5])}\n",
	AUDIT_LUA
};

static int run(struct store *s, const struct store_script *script, const struct integration_actor *a,
	       const char *hook_key, const char *const *more, size_t nmore, int64_t *id,
	       enum integration_outcome *out)
{
	static const enum integration_outcome outcomes[] = { INTEGRATION_DONE, INTEGRATION_NO_SERVICE,
							     INTEGRATION_MISSING, INTEGRATION_FULL };
	redisReply *r = audit_script_run(s, script, a->org_id, a->actor, a->platform, a->now_ms, hook_key, more,
					 nmore);
	size_t k;

	if (store_outcome(r, ARRAY_LEN(outcomes), &k, id) < 0)
		return -1;
	*out = outcomes[k];
	return 0;
}

int integration_create(struct store *s, const struct integration_actor *a, enum integration_source src,
		       const char *service, int64_t *id, char *token, enum integration_outcome *out)
{
	char sha[65], hook_key[80], max[16];

	token[0] = '\0';
	if (invite_code_new(token) < 0)
		return -1;
	integration_token_hash(token, sha);
	snprintf(hook_key, sizeof(hook_key), "wk:hook:%s", sha);
	snprintf(max, sizeof(max), "%d", INTEGRATION_MAX);
	const char *more[] = { integration_source_name(src), service, sha, a->org_id, max };
	if (run(s, &create_script, a, hook_key, more, ARRAY_LEN(more), id, out) < 0 || *out != INTEGRATION_DONE) {
		/* Nothing holds it: forget the token. */
		memset(token, 0, INTEGRATION_TOKEN_LEN + 1);
		return *out == INTEGRATION_DONE ? -1 : 0;
	}
	return 0;
}

int integration_revoke(struct store *s, const struct integration_actor *a, int64_t id,
		       enum integration_outcome *out)
{
	char ids[24];

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	const char *more[] = { ids };
	return run(s, &revoke_script, a, NULL, more, ARRAY_LEN(more), NULL, out);
}

int integration_set_secret(struct store *s, const struct integration_actor *a, int64_t id, const char *sealed,
			   enum integration_outcome *out)
{
	char ids[24];

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	const char *more[] = { ids, sealed };
	return run(s, &secret_script, a, NULL, more, ARRAY_LEN(more), NULL, out);
}

/* ---- reading ---- */

static const struct store_field fields[] = {
	STORE_I64_FIELD("id", struct integration, id),
	STORE_STR_FIELD("source", struct integration, source),
	STORE_STR_FIELD("service", struct integration, service),
	STORE_STR_FIELD("created_by", struct integration, created_by),
	STORE_I64_FIELD("created_ms", struct integration, created_ms),
	STORE_I64_FIELD("last_used_ms", struct integration, last_used_ms),
};

/* An integration from its hash (HGETALL pairs); token_sha and the sealed
 * secret into sha and sealed when asked for. */
static void from_hash(const redisReply *r, const char *org_id, struct integration *out, char *sha,
		      size_t shasize, char *sealed, size_t sealed_size)
{
	memset(out, 0, sizeof(*out));
	store_hash_fields(r, fields, ARRAY_LEN(fields), out);
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(k->str, "secret") == 0) {
			out->has_secret = v->str[0] != '\0';
			if (sealed)
				wk_strlcpy(sealed, v->str, sealed_size);
		} else if (strcmp(k->str, "token_sha") == 0 && sha) {
			wk_strlcpy(sha, v->str, shasize);
		}
	}
	wk_strlcpy(out->org, org_id, sizeof(out->org));
}

/* 0 found, 1 missing, -1. */
static int get(struct store *s, const char *org_id, int64_t id, struct integration *out)
{
	char key[256];
	redisReply *r;

	memset(out, 0, sizeof(*out));
	if (org_key(key, sizeof(key), org_id, "intg:%lld", (long long)id) < 0)
		return -1;
	int rc = store_hash(s, key, &r);
	if (rc != 0)
		return rc;
	from_hash(r, org_id, out, NULL, 0, NULL, 0);
	freeReplyObject(r);
	return 0;
}

static int load_integration(struct store *s, const char *member, void *item, const void *org_id)
{
	int64_t id;

	if (!wk_parse_i64(member, 1, INT64_MAX, &id))
		return 1;
	return get(s, org_id, id, item);
}

int integration_list(struct store *s, const char *org_id, struct integration **out, size_t *count)
{
	char key[200];
	void *items;
	int rc;

	*out = NULL;
	*count = 0;
	if (org_key(key, sizeof(key), org_id, "intgs") < 0)
		return -1;
	rc = store_load_index(s, key, INTEGRATION_MAX, false, sizeof(**out), load_integration, org_id,
			      &items, count);
	*out = items;
	return rc;
}

/* One round trip for a webhook: the token's integration and its service. */
static const struct store_script by_token_script = {
	"integration_by_token",
	/* KEYS: the token's hook key. Returns {} for no such token, else {org,
	 * integration pairs, service pairs ({} when deleted), service owners,
	 * the org's audit tip}. */
	"local v = redis.call('HMGET', KEYS[1], 'org', 'id')\n"
	"if not v[1] or not v[2] then return {} end\n"
	"local p = wk_org_prefix(v[1])\n"
	"local intg = redis.call('HGETALL', p .. 'intg:' .. v[2])\n"
	"if #intg == 0 then return {} end\n"
	"local tip = redis.call('HGET', p .. 'org', 'audit_tip') or ''\n"
	"local svc = ''\n"
	"for i = 1, #intg, 2 do if intg[i] == 'service' then svc = intg[i + 1] end end\n"
	"if svc == '' then return {v[1], intg, {}, {}, tip} end\n"
	"local sk = p .. 'service:' .. svc\n"
	"return {v[1], intg, redis.call('HGETALL', sk), redis.call('SMEMBERS', sk .. ':owners'), tip}\n",
	STORE_KEY_LUA
};

int integration_by_token(struct store *s, const char *token, struct integration *out, char *sealed,
			 size_t sealed_size, struct service *svc)
{
	char sha[65], stored[65] = "", hook_key[80];
	redisReply *r;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (sealed_size)
		sealed[0] = '\0';
	if (svc)
		memset(svc, 0, sizeof(*svc));
	if (!integration_token_shaped(token))
		return 1;
	integration_token_hash(token, sha);
	snprintf(hook_key, sizeof(hook_key), "wk:hook:%s", sha);
	const char *keys[] = { hook_key };
	r = store_script(s, &by_token_script, 1, keys, 0, NULL);
	if (!r || r->type != REDIS_REPLY_ARRAY)
		goto out;
	rc = 1;
	if (r->elements != 5 || r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= sizeof(out->org) ||
	    r->element[1]->type != REDIS_REPLY_ARRAY || r->element[2]->type != REDIS_REPLY_ARRAY ||
	    r->element[4]->type != REDIS_REPLY_STRING)
		goto out;
	from_hash(r->element[1], r->element[0]->str, out, stored, sizeof(stored), sealed, sealed_size);
	/* A record made for another token (never: ids are not reused) is no match. */
	if (!wk_secret_equal(stored, strlen(stored), sha, strlen(sha)))
		goto out;
	if (svc && r->element[2]->elements)
		service_from_reply(r->element[2], r->element[3], svc);
	wk_strlcpy(out->org_tip, r->element[4]->str, sizeof(out->org_tip));
	rc = 0;
out:
	if (r)
		freeReplyObject(r);
	return rc;
}

static const struct store_script touch_script = {
	"integration_touch",
	"if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'last_used_ms', ARGV[1]) end\n"
	"return 0\n",
	NULL
};

int integration_touch(struct store *s, const char *org_id, int64_t id, int64_t now_ms)
{
	char key[256], now[24];
	const char *keys[1] = { key };
	const char *args[1] = { now };
	redisReply *r;
	int rc;

	if (org_key(key, sizeof(key), org_id, "intg:%lld", (long long)id) < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	r = store_script(s, &touch_script, 1, keys, 1, args);
	rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
	if (r)
		freeReplyObject(r);
	return rc;
}
