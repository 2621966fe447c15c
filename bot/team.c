/* team.c - see team.h */
#include "bot/team.h"
#include "bot/audit.h"
#include "bot/org.h"
#include "bot/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int team_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 32)
		return 0;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && !strchr("._-", *name))
			return 0;
	return 1;
}

static void lower_copy(char *out, size_t size, const char *in)
{
	size_t i = 0;
	for (; in[i] && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

int team_resolve(struct store *s, const char *org_id, const char *name, char *id, size_t size)
{
	char key[160], lname[40];

	if (!team_name_valid(name))
		return 1;
	lower_copy(lname, sizeof(lname), name);
	if (org_key(key, sizeof(key), org_id, "team_names") < 0)
		return -1;
	return store_take_string(store_command(s, "HGET %s %s", key, lname), id, size);
}

/* Every team script gets the same keys and arguments:
 * KEYS: teams, team_names, audit, tip.
 * ARGV: key prefix, actor, platform, now, lower(name), name, then two that
 * depend on the script (see run_team). */
#define TEAM_PRELUDE_LUA \
	"local p = ARGV[1]\n" \
	"local id = redis.call('HGET', KEYS[2], ARGV[5])\n" \
	"local function audit(action, before, after)\n" \
	"  wk_audit(KEYS[3], KEYS[4], ARGV[4], ARGV[2], ARGV[3], action, 'team:' .. (id or ''), before, after)\n" \
	"end\n"

static const struct store_script create_script = {
	"team_create",
	TEAM_PRELUDE_LUA
	"if id then return 1 end\n"
	"id = 't' .. redis.call('INCR', p .. 'seq')\n"
	"redis.call('HSET', KEYS[1], id, ARGV[6])\n"
	"redis.call('HSET', KEYS[2], ARGV[5], id)\n"
	"audit('team.create', '', ARGV[6])\n"
	"return 0\n",
	AUDIT_LUA
};

static const struct store_script rename_script = {
	"team_rename",
	TEAM_PRELUDE_LUA
	"if not id then return 2 end\n"
	"if id == 'default' then return 3 end\n"
	"local other = redis.call('HGET', KEYS[2], ARGV[7])\n"
	"if other and other ~= id then return 1 end\n"
	"local old = redis.call('HGET', KEYS[1], id)\n"
	"redis.call('HDEL', KEYS[2], ARGV[5])\n"
	"redis.call('HSET', KEYS[2], ARGV[7], id)\n"
	"redis.call('HSET', KEYS[1], id, ARGV[8])\n"
	"audit('team.rename', old, ARGV[8])\n"
	"return 0\n",
	AUDIT_LUA
};

static const struct store_script delete_script = {
	"team_delete",
	TEAM_PRELUDE_LUA
	"if not id then return 2 end\n"
	"if id == 'default' then return 3 end\n"
	"local old = redis.call('HGET', KEYS[1], id)\n"
	"redis.call('HDEL', KEYS[1], id)\n"
	"redis.call('HDEL', KEYS[2], ARGV[5])\n"
	"redis.call('DEL', p .. 'team:' .. id)\n"
	"audit('team.delete', old, '')\n"
	"return 0\n",
	AUDIT_LUA
};

static const struct store_script member_script = {
	"team_member",
	/* ARGV[7] = "add" or "remove", ARGV[8] = member id */
	TEAM_PRELUDE_LUA
	"if not id then return 2 end\n"
	"if redis.call('EXISTS', p .. 'member:' .. ARGV[8]) == 0 then return 4 end\n"
	"local changed\n"
	"if ARGV[7] == 'add' then changed = redis.call('SADD', p .. 'team:' .. id, ARGV[8])\n"
	"else changed = redis.call('SREM', p .. 'team:' .. id, ARGV[8]) end\n"
	"if changed == 0 then return 5 end\n"
	"audit('team.' .. ARGV[7], '', 'member:' .. ARGV[8])\n"
	"return 0\n",
	AUDIT_LUA
};

/* arg7/arg8 are the scripts' ARGV[7] and ARGV[8]: the new name (lower-case and
 * as typed) for a rename, the verb and member id for membership changes. */
static int run_team(struct store *s, const struct store_script *script, const char *org_id,
		    const char *actor, const char *platform, const char *name, const char *arg7,
		    const char *arg8, int64_t now_ms)
{
	char kteams[160], knames[160], kaudit[160], ktip[160], prefix[160], now[24], lname[40];
	redisReply *r;
	int rc = -1;

	if (org_key(kteams, sizeof(kteams), org_id, "teams") < 0 ||
	    org_key(knames, sizeof(knames), org_id, "team_names") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	lower_copy(lname, sizeof(lname), name);
	const char *keys[] = { kteams, knames, kaudit, ktip };
	const char *args[] = { prefix, actor, platform, now, lname, name, arg7, arg8 };
	r = store_script(s, script, 4, keys, 8, args);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = (int)r->integer;
	if (r)
		freeReplyObject(r);
	return rc;
}

int team_create(struct store *s, const char *org_id, const char *actor, const char *platform,
		const char *name, int64_t now_ms)
{
	return run_team(s, &create_script, org_id, actor, platform, name, "", "", now_ms);
}

int team_rename(struct store *s, const char *org_id, const char *actor, const char *platform,
		const char *name, const char *new_name, int64_t now_ms)
{
	char lnew[40];

	lower_copy(lnew, sizeof(lnew), new_name);
	return run_team(s, &rename_script, org_id, actor, platform, name, lnew, new_name, now_ms);
}

int team_delete(struct store *s, const char *org_id, const char *actor, const char *platform,
		const char *name, int64_t now_ms)
{
	return run_team(s, &delete_script, org_id, actor, platform, name, "", "", now_ms);
}

int team_member(struct store *s, const char *org_id, const char *actor, const char *platform,
		const char *name, const char *member, int add, int64_t now_ms)
{
	return run_team(s, &member_script, org_id, actor, platform, name, add ? "add" : "remove",
			member, now_ms);
}

static const struct store_script list_script = {
	"team_list",
	/* KEYS: teams. ARGV: key prefix. */
	"return wk_team_list(KEYS[1], ARGV[1])\n",
	TEAM_LIST_LUA
};

static int team_order(const void *a, const void *b)
{
	const struct team_info *x = a, *y = b;
	if (strcmp(x->id, "default") == 0)
		return -1;
	if (strcmp(y->id, "default") == 0)
		return 1;
	return strcasecmp(x->name, y->name);
}

int team_list(struct store *s, const char *org_id, struct team_info **out, size_t *n)
{
	redisReply *r;

	*out = NULL;
	*n = 0;
	if (!(r = org_list_script(s, &list_script, org_id, "teams")))
		return -1;
	team_list_from_reply(r, out, n);
	freeReplyObject(r);
	return 0;
}

void team_list_from_reply(const redisReply *r, struct team_info **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (r->type != REDIS_REPLY_ARRAY)
		return;
	*out = xcalloc(r->elements / 3 + 1, sizeof(**out));
	for (size_t i = 0; i + 2 < r->elements; i += 3) {
		struct team_info *t = &(*out)[(*n)++];
		wk_strlcpy(t->id, r->element[i]->str ? r->element[i]->str : "", sizeof(t->id));
		wk_strlcpy(t->name, r->element[i + 1]->str ? r->element[i + 1]->str : "", sizeof(t->name));
		t->members = (size_t)r->element[i + 2]->integer;
	}
	qsort(*out, *n, sizeof(**out), team_order);
}
