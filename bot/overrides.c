/* overrides.c - see overrides.h */
#include "bot/overrides.h"
#include "bot/audit.h"
#include "bot/org.h"
#include "bot/util.h"

#include <stdio.h>
#include <string.h>

static const struct store_script create_script = {
	"override_create",
	/* KEYS: overrides:<team>, member:<member>, seq, audit, tip.
	 * ARGV: key prefix, start, end, member, replaces, source, swap_id, reason, actor,
	 *       platform, now ms, team. Returns the id, or 1 when member is no member. */
	"if redis.call('EXISTS', KEYS[2]) == 0 or redis.call('HGET', KEYS[2], 'placeholder') == '1' then\n"
	"  return 1\n"
	"end\n"
	"local id = 'o' .. redis.call('INCR', KEYS[3])\n"
	"redis.call('HSET', ARGV[1] .. 'override:' .. id, 'id', id, 'team', ARGV[12], 'start', ARGV[2],\n"
	"           'end', ARGV[3], 'member', ARGV[4], 'replaces', ARGV[5], 'source', ARGV[6],\n"
	"           'swap_id', ARGV[7], 'reason', ARGV[8], 'created_by', ARGV[9], 'created_ms', ARGV[11])\n"
	"redis.call('ZADD', KEYS[1], ARGV[3], id)\n"
	"wk_audit(KEYS[4], KEYS[5], ARGV[11], ARGV[9], ARGV[10], ARGV[6] .. '.create', 'override:' .. id, '',\n"
	"         'member:' .. ARGV[4] .. ' ' .. ARGV[2] .. '-' .. ARGV[3] ..\n"
	"         (ARGV[5] ~= '' and (' replaces ' .. ARGV[5]) or '') .. ' ' .. ARGV[8])\n"
	"return id\n",
	AUDIT_LUA
};

int overrides_create(struct store *s, const char *org_id, const char *actor, const char *platform,
		     const char *team, const struct override_def *o, int64_t now, char *id,
		     size_t idsize)
{
	char kovs[192], kmember[192], kseq[160], kaudit[160], ktip[160], prefix[160];
	char start[24], end[24], nowms[24];
	redisReply *r;
	int rc = -1;

	if (org_key(kovs, sizeof(kovs), org_id, "overrides:%s", team) < 0 ||
	    org_key(kmember, sizeof(kmember), org_id, "member:%s", o->member) < 0 ||
	    org_key(kseq, sizeof(kseq), org_id, "seq") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	snprintf(start, sizeof(start), "%lld", (long long)o->start);
	snprintf(end, sizeof(end), "%lld", (long long)o->end);
	snprintf(nowms, sizeof(nowms), "%lld", (long long)now * 1000);
	const char *keys[] = { kovs, kmember, kseq, kaudit, ktip };
	const char *args[] = { prefix, start, end, o->member, o->replaces,
			       o->source == SEGMENT_SWAP ? "swap" : "override", o->swap_id, o->reason,
			       actor, platform, nowms, team };
	r = store_script(s, &create_script, 5, keys, 12, args);
	if (r && r->type == REDIS_REPLY_INTEGER) {
		rc = 1;
	} else if (r && r->type == REDIS_REPLY_STRING) {
		wk_strlcpy(id, r->str, idsize);
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

static const struct store_script remove_script = {
	"override_remove",
	/* KEYS: overrides:<team>, override:<id>, audit, tip. ARGV: id, actor, platform, now ms.
	 * Returns 0, 1 (no such override) or the id of the swap that owns it. */
	"if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then return 1 end\n"
	"local h = redis.call('HMGET', KEYS[2], 'member', 'start', 'end', 'source', 'swap_id')\n"
	"if h[4] == 'swap' and h[5] and h[5] ~= '' then return h[5] end\n"
	"redis.call('ZREM', KEYS[1], ARGV[1])\n"
	"redis.call('DEL', KEYS[2])\n"
	"wk_audit(KEYS[3], KEYS[4], ARGV[4], ARGV[2], ARGV[3], (h[4] or 'override') .. '.remove',\n"
	"         'override:' .. ARGV[1], 'member:' .. (h[1] or '') .. ' ' .. (h[2] or '') .. '-' .. (h[3] or ''), '')\n"
	"return 0\n",
	AUDIT_LUA
};

int overrides_remove(struct store *s, const char *org_id, const char *actor, const char *platform,
		     const char *team, const char *id, int64_t now, char *swap_id, size_t swap_size)
{
	char kovs[192], kov[192], kaudit[160], ktip[160], nowms[24];
	redisReply *r;
	int rc = -1;

	if (!org_member_id_valid(id))
		return 1;
	if (org_key(kovs, sizeof(kovs), org_id, "overrides:%s", team) < 0 ||
	    org_key(kov, sizeof(kov), org_id, "override:%s", id) < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	snprintf(nowms, sizeof(nowms), "%lld", (long long)now * 1000);
	const char *keys[] = { kovs, kov, kaudit, ktip };
	const char *args[] = { id, actor, platform, nowms };
	r = store_script(s, &remove_script, 4, keys, 4, args);
	if (r && r->type == REDIS_REPLY_INTEGER) {
		rc = (int)r->integer;
	} else if (r && r->type == REDIS_REPLY_STRING) {
		wk_strlcpy(swap_id, r->str, swap_size);
		rc = 2;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}
