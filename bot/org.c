/* org.c - see org.h */
#include "bot/org.h"
#include "bot/log.h"
#include "bot/util.h"

#include <stdio.h>
#include <string.h>

static const char *const role_names[] = { "none", "viewer", "developer", "admin", "owner" };

const char *role_name(enum role r)
{
	return (unsigned)r < ARRAY_LEN(role_names) ? role_names[r] : "none";
}

enum role role_parse(const char *name)
{
	for (size_t i = 1; i < ARRAY_LEN(role_names); i++)
		if (name && strcmp(name, role_names[i]) == 0)
			return (enum role)i;
	return ROLE_NONE;
}

static bool id_chars_valid(const char *s, size_t max)
{
	size_t n = 0;
	for (; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return n > 0 && n <= max;
}

bool org_member_id_valid(const char *id)
{
	return id_chars_valid(id, 63);
}

int org_id_make(enum platform p, const char *external, char *out, size_t size)
{
	int n;

	if (!id_chars_valid(external, 63))
		return -1;
	n = snprintf(out, size, "%s:%s", platform_name(p), external);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static const struct store_script org_touch_script = {
	"org_touch",
	/* KEYS: member hash, members set, org hash. ARGV: platform, user, now, -, org id, external */
	"local created = 0\n"
	"if redis.call('EXISTS', KEYS[3]) == 0 then\n"
	"  redis.call('HSET', KEYS[3], 'id', ARGV[5], 'platform', ARGV[1], 'external_id', ARGV[6],\n"
	"             'owner', ARGV[2], 'created_ms', ARGV[3], 'mode', 'team')\n"
	"  created = 1\n"
	"  ARGV[4] = 'owner'\n"
	"end\n"
	ORG_MEMBER_ENSURE_LUA
	"return {created, role}\n"
};

/* The member hash and the members set of an org. */
int org_member_keys(const char *org_id, const char *user_id, char *kmember, size_t msize,
		       char *kmembers, size_t ssize)
{
	char suffix[96];

	snprintf(suffix, sizeof(suffix), "member:%s", user_id);
	return store_key(kmember, msize, org_id, suffix) < 0 ||
	       store_key(kmembers, ssize, org_id, "members") < 0 ? -1 : 0;
}

int org_touch(struct store *s, const char *org_id, enum platform p, const char *external,
	      const char *user_id, int64_t now_ms, enum role *role, bool *org_created)
{
	char kmember[192], kmembers[160], korg[160], now[24];
	redisReply *r;
	int rc = -1;

	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	if (org_member_keys(org_id, user_id, kmember, sizeof(kmember), kmembers, sizeof(kmembers)) < 0 ||
	    store_key(korg, sizeof(korg), org_id, "org") < 0)
		return -1;
	const char *keys[] = { kmember, kmembers, korg };
	const char *args[] = { platform_name(p), user_id, now, "developer", org_id, external };
	r = store_script(s, &org_touch_script, 3, keys, 6, args);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_STRING)
		goto out;
	*org_created = r->element[0]->integer == 1;
	*role = role_parse(r->element[1]->str);
	rc = 0;
	if (*org_created) {
		/* The org index lives outside the org's slot, so it is a second step;
		 * SADD is idempotent and the index is only used by operators. */
		redisReply *x = store_command(s, "SADD wk:orgs %s", org_id);
		if (x)
			freeReplyObject(x);
		log_info("org.created", "org=%s owner=%s", org_id, user_id);
	}
out:
	if (r)
		freeReplyObject(r);
	return rc;
}
