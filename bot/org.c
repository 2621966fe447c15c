/* org.c - see org.h */
#include "bot/org.h"
#include "bot/member.h"
#include "bot/schedule.h"
#include "bot/audit.h"
#include "bot/log.h"
#include "bot/tz.h"
#include "bot/util.h"

#include <stdarg.h>
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

int org_key(char *out, size_t size, const char *org_id, const char *fmt, ...)
{
	char suffix[160];
	va_list ap;
	int n;

	if (!strchr(fmt, '%'))
		return store_key(out, size, org_id, fmt);	/* most keys: nothing to format */
	va_start(ap, fmt);
	n = vsnprintf(suffix, sizeof(suffix), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(suffix))
		return -1;
	return store_key(out, size, org_id, suffix);
}

redisReply *org_list_script(struct store *s, const struct store_script *script,
			    const char *org_id, const char *suffix)
{
	char key[192], prefix[160];
	redisReply *r;

	if (org_key(key, sizeof(key), org_id, "%s", suffix) < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0)
		return NULL;
	const char *keys[] = { key };
	const char *args[] = { prefix };
	r = store_script(s, script, 1, keys, 1, args);
	if (r && r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		r = NULL;
	}
	return r;
}

int org_member_keys(const char *org_id, const char *user_id, char *kmember, size_t msize,
		    char *kmembers, size_t ssize)
{
	return org_key(kmember, msize, org_id, "member:%s", user_id) < 0 ||
	       org_key(kmembers, ssize, org_id, "members") < 0 ? -1 : 0;
}

const struct store_script org_touch_script = {
	"org_touch",
	/* KEYS: org, member:<user>[, replay:<minute> or replay:<id>]; every other key is made
	 * from the prefix (same slot), and what only a new org needs (its id,
	 * platform, external id) from the org key: this runs on every command,
	 * and each argument is a string Redis and Lua make and hash.
	 * ARGV: user, now (ms), a team ("" none), an instant (s), a stamp, the
	 * request's platform, when the replay record expires (ms), the replay id
	 * (both with KEYS[3]; the id "" when KEYS[3] is the record itself, a
	 * string, rather than a set). With a
	 * team, that team's schedule from the instant on comes back too
	 * (schedule.h), unless the org's audit tip still equals the stamp
	 * (schedule_cache.h); so a command that shows it costs this one round
	 * trip.
	 * Returns {'replay'}; {'linked', org} for a tenant linked to another org;
	 * else the caller's standing as one line per field, "created role mode
	 * suspended invited tz tip same member" (member: the caller's member id,
	 * their own or an alias's; one string: each
	 * element of a reply is an allocation on both sides), alone, or first of
	 * {standing, schedule} when the schedule comes too. */
	MEMBER_ROLE_LUA
	/* A record of its own (no id in ARGV), or the id into its minute's set;
	 * the set's first write also adds "": SADD says 2 only then, so the
	 * expiry is set once per set instead of once per request. */
	"if KEYS[3] and ARGV[8] == '' then\n"
	"  if not redis.call('SET', KEYS[3], '1', 'NX', 'PXAT', ARGV[7]) then return {'replay'} end\n"
	"elseif KEYS[3] then\n"
	"  local added = redis.call('SADD', KEYS[3], '', ARGV[8])\n"
	"  if added == 0 then return {'replay'} end\n"
	"  if added == 2 then redis.call('PEXPIREAT', KEYS[3], ARGV[7], 'NX') end\n"
	"end\n"
	"local p = string.match(KEYS[1], '^(wk:%b{}:)')\n"
	"local user = ARGV[1]\n"
	/* One read of each hash: this runs on every command (the hot path). */
	"local o = redis.call('HMGET', KEYS[1], 'id', 'mode', 'suspended', 'tz', 'audit_tip', 'linked_to')\n"
	/* A Teams tenant linked to an org of another platform keeps only this. */
	"if o[6] then return {'linked', o[6]} end\n"
	/* Strings, not numbers: Lua formats a number with sprintf. */
	"local created = '0'\n"
	"if not o[1] and redis.call('EXISTS', KEYS[1]) == 0 then\n"
	"  local org = string.match(KEYS[1], '^wk:{(.*)}:org$')\n"
	"  local platform, external = string.match(org, '^([^:]+):(.*)$')\n"
	"  redis.call('HSET', KEYS[1], 'id', org, 'platform', platform, 'external_id', external,\n"
	"             'owner', user, 'created_ms', ARGV[2], 'mode', 'solo')\n"
	"  redis.call('HSET', KEYS[2], 'role', 'owner', 'platform', platform, 'chat_id', user,\n"
	"             'created_ms', ARGV[2])\n"
	"  wk_role_index(KEYS[2], user, nil, 'owner')\n"
	"  redis.call('SADD', p .. 'members', user)\n"
	"  redis.call('SADD', p .. 'owners', user)\n"
	"  redis.call('HSET', p .. 'teams', 'default', 'default')\n"
	"  redis.call('HSET', p .. 'team_names', 'default', 'default')\n"
	"  redis.call('SADD', p .. 'team:default', user)\n"
	"  o = {org, 'solo', false, false, false}\n"
	"  created = '1'\n"
	"end\n"
	"local m = redis.call('HMGET', KEYS[2], 'role', 'placeholder', 'tz', 'platform')\n"
	/* Someone known on the org's other platform (a Teams user matched to a
	 * Slack member): their member record is the one that counts. Only for
	 * callers without a record of their own: members pay nothing. */
	"local member = user\n"
	"if not m[1] then\n"
	"  local a = redis.call('HGET', p .. 'aliases', user)\n"
	"  if a then\n"
	"    member = a\n"
	"    m = redis.call('HMGET', p .. 'member:' .. a, 'role', 'placeholder', 'tz', 'platform')\n"
	"  end\n"
	"end\n"
	/* "chat" reaches people on the platform they used last: only someone on
	 * both (an org with a linked Teams tenant) ever changes it. */
	"if m[1] and m[2] ~= '1' and ARGV[6] ~= '' and ARGV[6] ~= 'console' and m[4] and m[4] ~= ARGV[6] then\n"
	"  redis.call('HSET', p .. 'member:' .. member, 'platform', ARGV[6])\n"
	"end\n"
	"local role = m[1] or ''\n"
	"if m[2] == '1' then role = '' end\n"
	"local tz = m[3]\n"
	"if not tz or tz == '' then tz = o[4] or '' end\n"
	/* Only a non-member may be someone invited by email. */
	"local invited = '0'\n"
	"if role == '' then invited = redis.call('HLEN', p .. 'invited_emails') end\n"
	"local tip, same, plan = o[5] or '', '', nil\n"
	"if ARGV[3] ~= '' then\n"
	"  if tip ~= '' and tip == ARGV[5] then same = 'same'\n"
	"  else plan = wk_schedule_load(p, ARGV[3], ARGV[4]) end\n"
	"end\n"
	"local standing = table.concat({created, role, o[2] or 'team', o[3] or '0', invited, tz, tip, same, member},\n"
	"                              '\\n')\n"
	"if plan then return {standing, plan} end\n"
	"return standing\n",
	SCHEDULE_LOAD_LUA
};

/* Split s (changed in place) at its newlines into at most n fields; how many. */
static size_t split_lines(char *s, char **f, size_t n)
{
	size_t k = 0;

	while (k < n) {
		f[k++] = s;
		if (!(s = strchr(s, '\n')))
			break;
		*s++ = '\0';
	}
	return s ? n + 1 : k;	/* more than n: no match for what was asked */
}

int org_touch_prepare(struct org_touch_call *t, const char *org_id, const char *user_id, const char *platform,
		      const struct org_replay *rp, int64_t now_ms, struct org_preload *pre)
{
	memset(t, 0, sizeof(*t));
	t->nkeys = 2;
	snprintf(t->now, sizeof(t->now), "%lld", (long long)now_ms);
	if (org_key(t->k[0], sizeof(t->k[0]), org_id, "org") < 0 ||
	    org_key(t->k[1], sizeof(t->k[1]), org_id, "member:%s", user_id) < 0)
		return -1;
	if (rp && rp->id && rp->id[0]) {
		int64_t ttl = rp->ttl_ms > 0 ? rp->ttl_ms : 1;
		char id[ORG_REPLAY_ID_LEN + 1];

		wk_strlcpy(id, rp->id, sizeof(id));
		if (rp->own_key) {
			if (org_key(t->k[2], sizeof(t->k[2]), org_id, "replay:%s", id) < 0)
				return -1;
			snprintf(t->expires, sizeof(t->expires), "%lld", (long long)(now_ms + ttl));
		} else {
			/* Received ids in one set a minute (by when they may go), not a
			 * key each: a set gone a minute late costs Redis less than a key
			 * per request, on every request. The same delivery always names
			 * the same minute. */
			int64_t minute = (now_ms + ttl) / 60000;
			if (org_key(t->k[2], sizeof(t->k[2]), org_id, "replay:%lld", (long long)minute) < 0)
				return -1;
			snprintf(t->expires, sizeof(t->expires), "%lld", (long long)(minute + 1) * 60000);
			memcpy(t->replay, id, sizeof(t->replay));
		}
		t->nkeys = 3;
	}
	if (pre) {
		pre->plan = NULL;
		pre->same = false;
		pre->tip[0] = '\0';
		snprintf(t->from, sizeof(t->from), "%lld", (long long)pre->from_s);
	}
	for (int i = 0; i < 3; i++)
		t->keys[i] = t->k[i];
	const char *args[] = { user_id, t->now, pre ? pre->team : "", t->from, pre && pre->stamp ? pre->stamp : "",
			       platform ? platform : "", t->expires, t->replay };
	memcpy(t->args, args, sizeof(args));
	/* Without a replay id its two go unsent. */
	t->nargs = t->nkeys == 3 ? (int)ARRAY_LEN(args) : (int)ARRAY_LEN(args) - 2;
	return 0;
}

int org_touch_read(redisReply *r, struct org_view *out, struct org_preload *pre)
{
	int rc = -1;

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "replay") == 0) {
		rc = ORG_REPLAYED;
		goto out;
	}
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "linked") == 0 && r->element[1]->type == REDIS_REPLY_STRING) {
		wk_strlcpy(out->linked_to, r->element[1]->str, sizeof(out->linked_to));
		rc = ORG_LINKED;
		goto out;
	}
	const redisReply *line = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[0] : r;
	char *f[9];
	if (!line || line->type != REDIS_REPLY_STRING || split_lines(line->str, f, ARRAY_LEN(f)) != ARRAY_LEN(f))
		goto out;
	wk_strlcpy(out->member, f[8], sizeof(out->member));
	wk_strlcpy(out->tz, f[5], sizeof(out->tz));
	out->created = strcmp(f[0], "1") == 0;
	out->role = role_parse(f[1]);
	out->team_mode = strcmp(f[2], "team") == 0;
	out->suspended = strcmp(f[3], "1") == 0;
	out->has_email_placeholders = strcmp(f[4], "0") != 0;
	if (pre) {
		wk_strlcpy(pre->tip, f[6], sizeof(pre->tip));
		pre->same = strcmp(f[7], "same") == 0;
		if (line != r) {
			/* Taken out of the reply, which then frees without it. */
			pre->plan = r->element[1];
			r->element[1] = NULL;
		}
	}
	rc = 0;
out:
	if (r)
		freeReplyObject(r);
	return rc;
}

void org_index_add(struct store *s, const char *org_id, const char *owner)
{
	/* The org index lives outside the org's slot, so it is a second step;
	 * SADD is idempotent and the index is only used by operators. */
	redisReply *x = store_command(s, "SADD wk:orgs %s", org_id);
	if (x)
		freeReplyObject(x);
	log_info("org.created", "org=%s owner=%s", org_id, owner);
}

int org_touch_preload(struct store *s, const char *org_id, const char *user_id, const char *platform,
		      const struct org_replay *rp, int64_t now_ms, struct org_view *out,
		      struct org_preload *pre)
{
	struct org_touch_call t;
	int rc;

	if (org_touch_prepare(&t, org_id, user_id, platform, rp, now_ms, pre) < 0)
		return -1;
	rc = org_touch_read(store_script(s, &org_touch_script, t.nkeys, t.keys, t.nargs, t.args), out, pre);
	if (rc == 0 && out->created)
		org_index_add(s, org_id, user_id);
	return rc;
}

static const struct store_script team_mode_script = {
	"org_team_mode",
	/* KEYS: org, member:<actor>, audit, audit tip. ARGV: actor, platform, now. */
	"if redis.call('HGET', KEYS[2], 'role') ~= 'owner' then return 2 end\n"
	"if redis.call('HGET', KEYS[1], 'mode') == 'team' then return 1 end\n"
	"redis.call('HSET', KEYS[1], 'mode', 'team')\n"
	"wk_audit(KEYS[3], KEYS[4], ARGV[3], ARGV[1], ARGV[2], 'org.mode', 'org', 'solo', 'team')\n"
	"return 0\n",
	AUDIT_LUA
};

int org_enable_team_mode(struct store *s, const char *org_id, const char *actor,
			 const char *platform, int64_t now_ms)
{
	char korg[160], kmember[192], kaudit[160], ktip[160], now[24];
	redisReply *r;
	int rc = -1;

	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	if (org_key(korg, sizeof(korg), org_id, "org") < 0 ||
	    org_key(kmember, sizeof(kmember), org_id, "member:%s", actor) < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	const char *keys[] = { korg, kmember, kaudit, ktip };
	const char *args[] = { actor, platform, now };
	r = store_script(s, &team_mode_script, 4, keys, 3, args);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = (int)r->integer;
	if (r)
		freeReplyObject(r);
	return rc;
}

/* ---- org settings ---- */

static const struct store_field org_setting_fields[] = {
	STORE_STR_FIELD("tz", struct org_settings, tz),
	STORE_STR_FIELD("phone_region", struct org_settings, phone_region),
};

int org_settings_get(struct store *s, const char *org_id, struct org_settings *out)
{
	char korg[160];
	redisReply *r;

	memset(out, 0, sizeof(*out));
	if (org_key(korg, sizeof(korg), org_id, "org") < 0)
		return -1;
	r = store_command(s, "HMGET %s tz phone_region", korg);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != ARRAY_LEN(org_setting_fields)) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			wk_strlcpy((char *)out + org_setting_fields[i].offset, r->element[i]->str,
				   org_setting_fields[i].size);
	freeReplyObject(r);
	return 0;
}

int org_setting_set(struct store *s, const char *org_id, enum org_setting which, const char *value,
		    const char *actor, const char *platform, int64_t now_ms)
{
	static const char *const fields[] = { "tz", "phone_region" };
	static const char *const actions[] = { "org.tz", "org.phone_region" };
	char korg[160];

	if ((unsigned)which >= ARRAY_LEN(fields) || org_key(korg, sizeof(korg), org_id, "org") < 0)
		return -1;
	const struct audited_setting set = { korg, fields[which], "", actions[which], "org" };
	return audit_set_field(s, org_id, &set, value, actor, platform, now_ms);
}

const struct tz *org_zone_for(struct store *s, const char *org_id, const char *member_id,
			      const struct tz *fallback)
{
	char korg[160], kmember[192];
	const struct tz *z = NULL;
	redisReply *r;

	if (org_key(korg, sizeof(korg), org_id, "org") < 0 ||
	    org_key(kmember, sizeof(kmember), org_id, "member:%s", member_id) < 0)
		return fallback;
	r = store_command(s, "HGET %s tz", kmember);
	if (r && r->type == REDIS_REPLY_STRING && r->str[0])
		z = tz_get(r->str);
	if (r)
		freeReplyObject(r);
	if (z)
		return z;
	r = store_command(s, "HGET %s tz", korg);
	if (r && r->type == REDIS_REPLY_STRING && r->str[0])
		z = tz_get(r->str);
	if (r)
		freeReplyObject(r);
	return z ? z : fallback;
}
