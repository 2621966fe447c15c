/* service.c - see service.h */
#include "bot/service.h"
#include "bot/audit.h"
#include "bot/org.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool service_pages(const struct service *svc, const char *sev)
{
	int s = incident_severity_parse(sev), limit = incident_severity_parse(svc->pages);

	/* Severities are ordered most severe first (incident.h). */
	return (s < 0 ? SEV_ERROR : s) <= (limit < 0 ? SEV_ERROR : limit);
}

/* KEYS: audit stream, audit tip. ARGV: prefix, now, actor, platform, name, ... */
#define SERVICE_PRELUDE_LUA \
	"local p, now, actor, platform, name = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]\n" \
	"local k = p .. 'service:' .. name\n" \
	"local function audit(action, before, after)\n" \
	"  wk_audit(KEYS[1], KEYS[2], now, actor, platform, action, 'service:' .. name, before, after)\n" \
	"end\n" \
	/* How many services each member owns, kept in their member hash so the \
	 * users_with_services mode reads it with the rest of the member (one SORT \
	 * ... GET over a whole team or role, delegate_people.c). Never creates a \
	 * member hash for someone who is not a member. */ \
	"local function owned(member, by)\n" \
	"  local mk = p .. 'member:' .. member\n" \
	"  if redis.call('EXISTS', mk) == 0 then return end\n" \
	"  local n = redis.call('HINCRBY', mk, 'svc_owned', by)\n" \
	"  if n <= 0 then redis.call('HDEL', mk, 'svc_owned') end\n" \
	"end\n"

/* Returns 0 done, 1 exists, 2 missing, 3 unchanged, 4 full (service_outcome). */
static const struct store_script create_script = {
	"service_create",
	SERVICE_PRELUDE_LUA
	/* ARGV[6] team, ARGV[7] the most services an org may have */
	"if redis.call('EXISTS', k) == 1 then return 1 end\n"
	"if redis.call('ZCARD', p .. 'services') >= tonumber(ARGV[7]) then return 4 end\n"
	"redis.call('HSET', k, 'name', name, 'team', ARGV[6], 'channel', '', 'pages', '" SERVICE_DEFAULT_PAGES "',\n"
	"  'created_ms', now, 'created_by', actor)\n"
	"redis.call('ZADD', p .. 'services', now, name)\n"
	"audit('service.create', '', 'team ' .. ARGV[6])\n"
	"return 0\n",
	AUDIT_LUA
};

static const struct store_script delete_script = {
	"service_delete",
	SERVICE_PRELUDE_LUA
	"if redis.call('EXISTS', k) == 0 then return 2 end\n"
	"local team = redis.call('HGET', k, 'team') or ''\n"
	"for _, m in ipairs(redis.call('SMEMBERS', k .. ':owners')) do owned(m, -1) end\n"
	"redis.call('DEL', k, k .. ':owners')\n"
	"redis.call('ZREM', p .. 'services', name)\n"
	"audit('service.delete', 'team ' .. team, '')\n"
	"return 0\n",
	AUDIT_LUA
};

static const struct store_script owner_script = {
	"service_owner",
	SERVICE_PRELUDE_LUA
	/* ARGV[6] member, ARGV[7] "1" add or "0" remove, ARGV[8] the most owners */
	"if redis.call('EXISTS', k) == 0 then return 2 end\n"
	"local ok = k .. ':owners'\n"
	"local is = redis.call('SISMEMBER', ok, ARGV[6]) == 1\n"
	"if ARGV[7] == '1' then\n"
	"  if is then return 3 end\n"
	"  if redis.call('SCARD', ok) >= tonumber(ARGV[8]) then return 4 end\n"
	"  redis.call('SADD', ok, ARGV[6])\n"
	"  owned(ARGV[6], 1)\n"
	"  audit('service.owner_add', '', ARGV[6])\n"
	"else\n"
	"  if not is then return 3 end\n"
	"  redis.call('SREM', ok, ARGV[6])\n"
	"  owned(ARGV[6], -1)\n"
	"  audit('service.owner_remove', ARGV[6], '')\n"
	"end\n"
	"return 0\n",
	AUDIT_LUA
};

static const struct store_script set_script = {
	"service_set",
	SERVICE_PRELUDE_LUA
	/* ARGV[6] field, ARGV[7] value */
	"if redis.call('EXISTS', k) == 0 then return 2 end\n"
	"local old = redis.call('HGET', k, ARGV[6]) or ''\n"
	"if old == ARGV[7] then return 3 end\n"
	"redis.call('HSET', k, ARGV[6], ARGV[7])\n"
	"audit('service.' .. ARGV[6], old, ARGV[7])\n"
	"return 0\n",
	AUDIT_LUA
};

static int run(struct store *s, const struct store_script *script, const struct service_actor *a,
	       const char *name, const char *x, const char *y, const char *z, enum service_outcome *out)
{
	static const enum service_outcome outcomes[] = { SERVICE_DONE, SERVICE_EXISTS, SERVICE_MISSING,
							 SERVICE_UNCHANGED, SERVICE_FULL };
	const char *more[] = { name, x, y, z };
	redisReply *r = audit_script_run(s, script, a->org_id, a->actor, a->platform, a->now_ms, NULL, more,
					 ARRAY_LEN(more));
	int rc = -1;

	if (r && r->type == REDIS_REPLY_INTEGER && r->integer >= 0 && (size_t)r->integer < ARRAY_LEN(outcomes)) {
		*out = outcomes[r->integer];
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

int service_create(struct store *s, const struct service_actor *a, const char *name, const char *team,
		   enum service_outcome *out)
{
	char max[16];

	snprintf(max, sizeof(max), "%d", SERVICE_MAX);
	return run(s, &create_script, a, name, team, max, "", out);
}

int service_delete(struct store *s, const struct service_actor *a, const char *name, enum service_outcome *out)
{
	return run(s, &delete_script, a, name, "", "", "", out);
}

int service_owner(struct store *s, const struct service_actor *a, const char *name, const char *member, bool add,
		  enum service_outcome *out)
{
	char max[16];

	snprintf(max, sizeof(max), "%d", SERVICE_OWNERS_MAX);
	return run(s, &owner_script, a, name, member, add ? "1" : "0", max, out);
}

int service_set(struct store *s, const struct service_actor *a, const char *name, const char *field,
		const char *value, enum service_outcome *out)
{
	return run(s, &set_script, a, name, field, value, "", out);
}

/* ---- reading ---- */

void service_from_reply(const redisReply *hash, const redisReply *owners, struct service *out)
{
	static const struct store_field fields[] = {
		STORE_STR_FIELD("name", struct service, name),
		STORE_STR_FIELD("team", struct service, team),
		STORE_STR_FIELD("channel", struct service, channel),
		STORE_STR_FIELD("pages", struct service, pages),
		STORE_I64_FIELD("created_ms", struct service, created_ms),
	};

	memset(out, 0, sizeof(*out));
	store_hash_fields(hash, fields, ARRAY_LEN(fields), out);
	if (!out->pages[0])
		wk_strlcpy(out->pages, SERVICE_DEFAULT_PAGES, sizeof(out->pages));
	if (!out->team[0])
		wk_strlcpy(out->team, "default", sizeof(out->team));
	if (owners && owners->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i < owners->elements && out->nowners < SERVICE_OWNERS_MAX; i++)
			if (owners->element[i]->type == REDIS_REPLY_STRING)
				wk_strlcpy(out->owners[out->nowners++], owners->element[i]->str, sizeof(out->owners[0]));
}

int service_get(struct store *s, const char *org_id, const char *name, struct service *out)
{
	char key[256];
	redisReply *r, *owners;

	memset(out, 0, sizeof(*out));
	if (org_key(key, sizeof(key), org_id, "service:%s", name) < 0)
		return -1;
	int rc = store_hash(s, key, &r);
	if (rc != 0)
		return rc;
	owners = store_command(s, "SMEMBERS %s:owners", key);
	if (!owners || owners->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		if (owners)
			freeReplyObject(owners);
		return -1;
	}
	service_from_reply(r, owners, out);
	freeReplyObject(r);
	freeReplyObject(owners);
	return 0;
}

static int load_service(struct store *s, const char *member, void *item, const void *org_id)
{
	return service_get(s, org_id, member, item);
}

int service_list(struct store *s, const char *org_id, struct service **out, size_t *count)
{
	char key[200];
	void *items;
	int rc;

	*out = NULL;
	*count = 0;
	if (org_key(key, sizeof(key), org_id, "services") < 0)
		return -1;
	rc = store_load_index(s, key, SERVICE_MAX, false, sizeof(**out), load_service, org_id, &items,
			      count);
	*out = items;
	return rc;
}
