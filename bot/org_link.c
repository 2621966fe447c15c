/* org_link.c - see org_link.h */
#include "bot/org_link.h"
#include "bot/audit.h"
#include "bot/crypto.h"
#include "bot/log.h"
#include "bot/org.h"
#include "bot/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* The code's key: only its hash is stored, as for invites. */
static int code_key(const char *code, char *out, size_t size)
{
	unsigned char d[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_SIZE];
	int n;

	crypto_sha256(code, strlen(code), d);
	crypto_hex(d, sizeof(d), hex);
	n = snprintf(out, size, "wk:{links}:code:%s", hex);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int64_t script_int(redisReply *r)
{
	int64_t v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

	if (r)
		freeReplyObject(r);
	return v;
}

static const struct store_script mint_script = {
	"org_link_mint",
	/* KEYS: org, member:<actor>, the code's key, audit, tip. ARGV: org id,
	 * actor, platform, now, ttl (s). */
	"if redis.call('HGET', KEYS[2], 'role') ~= 'owner' then return 1 end\n"
	"local o = redis.call('HMGET', KEYS[1], 'linked_to', 'teams_tenant')\n"
	"if o[1] or o[2] then return 2 end\n"
	"redis.call('SET', KEYS[3], ARGV[1] .. '\\n' .. ARGV[2], 'EX', ARGV[5])\n"
	"wk_audit(KEYS[4], KEYS[5], ARGV[4], ARGV[2], ARGV[3], 'org.link_code', 'org', '', '')\n"
	"return 0\n",
	AUDIT_LUA
};

int org_link_mint(struct store *s, const char *org_id, const char *actor, const char *platform, int64_t now_ms,
		  char *code)
{
	char korg[160], kmember[192], kcode[128], kaudit[160], ktip[160], now[24], ttl[16];

	if (invite_code_new(code) < 0 || code_key(code, kcode, sizeof(kcode)) < 0 ||
	    org_key(korg, sizeof(korg), org_id, "org") < 0 ||
	    org_key(kmember, sizeof(kmember), org_id, "member:%s", actor) < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	snprintf(ttl, sizeof(ttl), "%d", LINK_CODE_TTL_S);
	const char *keys[] = { korg, kmember, kcode, kaudit, ktip };
	const char *args[] = { org_id, actor, platform, now, ttl };
	return (int)script_int(store_script(s, &mint_script, 5, keys, 5, args));
}

static const struct store_script redeem_script = {
	"org_link_redeem",
	/* KEYS: the tenant's org, the code's key, the target org, its aliases,
	 * audit, tip, the tenant's audit, inc_seq, members. ARGV: the code's
	 * value as read, actor, tenant, now, the tenant's org id, the target's,
	 * the minter. */
	"if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 1 end\n"
	"local t = redis.call('HMGET', KEYS[3], 'id', 'linked_to', 'teams_tenant')\n"
	"if not t[1] then return 1 end\n"
	"if t[2] then return 3 end\n"
	"if t[3] then return 4 end\n"
	/* Nothing of its own: no audited change, no incident, nobody else. */
	"if redis.call('EXISTS', KEYS[7]) == 1 or redis.call('EXISTS', KEYS[8]) == 1 then return 2 end\n"
	"local ms = redis.call('SMEMBERS', KEYS[9])\n"
	"if #ms > 1 or (#ms == 1 and ms[1] ~= ARGV[2]) then return 2 end\n"
	"redis.call('DEL', KEYS[2])\n"
	"local p = string.match(KEYS[1], '^(wk:%b{}:)')\n"
	"for _, k in ipairs({'member:' .. ARGV[2], 'members', 'owners', 'teams', 'team_names', 'team:default',\n"
	"                    'roles:owner', 'teams_user:' .. ARGV[2], 'teams_ids'}) do\n"
	"  redis.call('DEL', p .. k)\n"
	"end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('HSET', KEYS[1], 'linked_to', ARGV[6], 'linked_ms', ARGV[4])\n"
	"redis.call('HSET', KEYS[3], 'teams_tenant', ARGV[3])\n"
	"redis.call('HSET', KEYS[4], ARGV[2], ARGV[7])\n"
	"wk_audit(KEYS[5], KEYS[6], ARGV[4], ARGV[7], 'teams', 'org.link', 'org', '', ARGV[5])\n"
	"return 0\n",
	AUDIT_LUA
};

int org_link_redeem(struct store *s, const char *org_id, const char *actor, const char *code, int64_t now_ms,
		    char *target, size_t tsize)
{
	char kcode[128], value[200], *nl, tg[96], minter[64], now[24];
	char kt[160], ktarget[160], kaliases[160], kaudit[160], ktip[160], ktaudit[160], kseq[160],
		kmembers[160];
	const char *tenant = strchr(org_id, ':');
	redisReply *r;

	target[0] = '\0';
	if (!tenant || code_key(code, kcode, sizeof(kcode)) < 0)
		return LINK_BAD_CODE;
	tenant++;
	r = store_command(s, "GET %s", kcode);
	if (!r)
		return -1;
	bool got = r->type == REDIS_REPLY_STRING && r->len < sizeof(value);
	if (got)
		wk_strlcpy(value, r->str, sizeof(value));
	freeReplyObject(r);
	if (!got || !(nl = strchr(value, '\n')) || (size_t)(nl - value) >= sizeof(tg))
		return LINK_BAD_CODE;
	memcpy(tg, value, (size_t)(nl - value));
	tg[nl - value] = '\0';
	wk_strlcpy(minter, nl + 1, sizeof(minter));
	if (strcmp(tg, org_id) == 0 || strncmp(tg, "teams:", 6) == 0)
		return LINK_SAME;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	if (org_key(kt, sizeof(kt), org_id, "org") < 0 || org_key(ktarget, sizeof(ktarget), tg, "org") < 0 ||
	    org_key(kaliases, sizeof(kaliases), tg, "aliases") < 0 ||
	    audit_keys(tg, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0 ||
	    org_key(ktaudit, sizeof(ktaudit), org_id, "audit") < 0 || org_key(kseq, sizeof(kseq), org_id, "inc_seq") < 0 ||
	    org_key(kmembers, sizeof(kmembers), org_id, "members") < 0)
		return -1;
	const char *keys[] = { kt, kcode, ktarget, kaliases, kaudit, ktip, ktaudit, kseq, kmembers };
	const char *args[] = { value, actor, tenant, now, org_id, tg, minter };
	int64_t rc = script_int(store_script(s, &redeem_script, 9, keys, 7, args));
	if (rc == LINK_DONE) {
		wk_strlcpy(target, tg, tsize);
		log_info("org.linked", "org=%s into=%s by=%s", org_id, tg, actor);
	}
	return (int)rc;
}

static const struct store_script by_email_script = {
	"org_alias_by_email",
	/* KEYS: members, aliases, audit, tip. ARGV: user, email (lower case),
	 * now, the org's key prefix. Members' emails have no index: this runs
	 * once per person, on their first command from the other platform. */
	"for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	"  local f = redis.call('HMGET', ARGV[4] .. 'member:' .. m, 'email', 'placeholder')\n"
	"  if f[1] and f[2] ~= '1' and string.lower(f[1]) == ARGV[2] then\n"
	"    redis.call('HSET', KEYS[2], ARGV[1], m)\n"
	/* They wrote from Teams just now: chat reaches them there (org.h). */
	"    redis.call('HSET', ARGV[4] .. 'member:' .. m, 'platform', 'teams')\n"
	"    wk_audit(KEYS[3], KEYS[4], ARGV[3], ARGV[1], 'teams', 'member.alias', 'member:' .. m, '', ARGV[1])\n"
	"    return m\n"
	"  end\n"
	"end\n"
	"return false\n",
	AUDIT_LUA
};

int org_alias_by_email(struct store *s, const char *org_id, const char *user, const char *email,
		       int64_t now_ms, char *member, size_t msize)
{
	char kmembers[160], kaliases[160], kaudit[160], ktip[160], prefix[160], lower[256], now[24];
	int rc;

	if (wk_strlcpy(lower, email, sizeof(lower)) >= sizeof(lower) || !lower[0])
		return 1;
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (org_key(kmembers, sizeof(kmembers), org_id, "members") < 0 ||
	    org_key(kaliases, sizeof(kaliases), org_id, "aliases") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { kmembers, kaliases, kaudit, ktip };
	const char *args[] = { user, lower, now, prefix };
	rc = store_take_string(store_script(s, &by_email_script, 4, keys, 4, args), member, msize);
	return rc == 0 && !org_member_id_valid(member) ? -1 : rc;
}

static const struct store_script alias_set_script = {
	"org_alias_set",
	/* KEYS: member:<actor>, member:<member>, member:<user>, aliases, audit,
	 * tip. ARGV: actor, platform, user, member, now. */
	"local role = redis.call('HGET', KEYS[1], 'role')\n"
	"if role ~= 'admin' and role ~= 'owner' then return 3 end\n"
	"local r = redis.call('HMGET', KEYS[2], 'role', 'placeholder')\n"
	"if not r[1] or r[2] == '1' then return 1 end\n"
	"if redis.call('EXISTS', KEYS[3]) == 1 then return 2 end\n"
	"redis.call('HSET', KEYS[4], ARGV[3], ARGV[4])\n"
	"wk_audit(KEYS[5], KEYS[6], ARGV[5], ARGV[1], ARGV[2], 'member.alias', 'member:' .. ARGV[4], '', ARGV[3])\n"
	"return 0\n",
	AUDIT_LUA
};

int org_alias_set(struct store *s, const char *org_id, const char *actor, const char *platform,
		  const char *user, const char *member, int64_t now_ms)
{
	char ka[192], km[192], ku[192], kaliases[160], kaudit[160], ktip[160], now[24];

	if (org_key(ka, sizeof(ka), org_id, "member:%s", actor) < 0 ||
	    org_key(km, sizeof(km), org_id, "member:%s", member) < 0 ||
	    org_key(ku, sizeof(ku), org_id, "member:%s", user) < 0 ||
	    org_key(kaliases, sizeof(kaliases), org_id, "aliases") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { ka, km, ku, kaliases, kaudit, ktip };
	const char *args[] = { actor, platform, user, member, now };
	return (int)script_int(store_script(s, &alias_set_script, 6, keys, 5, args));
}
