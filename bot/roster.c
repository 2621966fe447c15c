/* roster.c - see roster.h */
#include "bot/roster.h"
#include "bot/audit.h"
#include "bot/org.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int roster_key(char *out, size_t size, const char *org_id)
{
	return store_key(out, size, org_id, "rotation:default");
}

int roster_load(struct store *s, const char *org_id, struct roster *out)
{
	char key[160];
	redisReply *r;

	out->ids = NULL;
	out->n = 0;
	if (roster_key(key, sizeof(key), org_id) < 0)
		return -1;
	r = store_command(s, "LRANGE %s 0 -1", key);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	out->ids = xcalloc(r->elements ? r->elements : 1, sizeof(char *));
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			out->ids[out->n++] = xstrndup(r->element[i]->str, r->element[i]->len);
	freeReplyObject(r);
	return 0;
}

void roster_free(struct roster *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->ids[i]);
	free(r->ids);
	r->ids = NULL;
	r->n = 0;
}

long roster_find(const struct roster *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->ids[i], id) == 0)
			return (long)i;
	return -1;
}

static const struct store_script roster_add_script = {
	"roster_add",
	/* KEYS: member hash, rotation list, audit, tip. ARGV: platform, user, actor, now.
	 * Returns {added, position}; {-1, 0} when the user is not a member. */
	"if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'placeholder') == '1' then\n"
	"  return {-1, 0}\n"
	"end\n"
	"local pos = redis.call('LPOS', KEYS[2], ARGV[2])\n"
	"if pos then return {0, pos + 1} end\n"
	"pos = redis.call('RPUSH', KEYS[2], ARGV[2])\n"
	"wk_audit(KEYS[3], KEYS[4], ARGV[4], ARGV[3], ARGV[1], 'rotation.add', 'rotation:default', '',\n"
	"         'member:' .. ARGV[2] .. ' at ' .. pos)\n"
	"return {1, pos}\n",
	AUDIT_LUA
};

static const struct store_script roster_remove_script = {
	"roster_remove",
	/* KEYS: rotation list, audit, tip. ARGV: platform, user, actor, now. Returns removed. */
	"local removed = redis.call('LREM', KEYS[1], 0, ARGV[2])\n"
	"if removed > 0 then\n"
	"  wk_audit(KEYS[2], KEYS[3], ARGV[4], ARGV[3], ARGV[1], 'rotation.remove', 'rotation:default',\n"
	"           'member:' .. ARGV[2], '')\n"
	"end\n"
	"return removed\n",
	AUDIT_LUA
};

int roster_add(struct store *s, const char *org_id, enum platform p, const char *actor,
	       const char *user_id, int64_t now_ms, long *position, int *added)
{
	char klist[160], kmember[192], kmembers[160], kaudit[160], ktip[160], now[24];
	redisReply *r;
	int rc = -1;

	if (roster_key(klist, sizeof(klist), org_id) < 0 ||
	    org_member_keys(org_id, user_id, kmember, sizeof(kmember), kmembers, sizeof(kmembers)) < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { kmember, klist, kaudit, ktip };
	const char *args[] = { platform_name(p), user_id, actor, now };
	r = store_script(s, &roster_add_script, 4, keys, 4, args);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER && r->element[1]->type == REDIS_REPLY_INTEGER) {
		*added = (int)r->element[0]->integer;
		*position = (long)r->element[1]->integer;
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

int roster_remove(struct store *s, const char *org_id, enum platform p, const char *actor,
		  const char *user_id, int64_t now_ms, int *removed)
{
	char klist[160], kaudit[160], ktip[160], now[24];
	redisReply *r;
	int rc = -1;

	if (roster_key(klist, sizeof(klist), org_id) < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { klist, kaudit, ktip };
	const char *args[] = { platform_name(p), user_id, actor, now };
	r = store_script(s, &roster_remove_script, 3, keys, 4, args);
	if (r && r->type == REDIS_REPLY_INTEGER) {
		*removed = r->integer > 0;
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}
