/* invite.c - see invite.h */
#include "bot/invite.h"
#include "bot/member.h"
#include "bot/audit.h"
#include "bot/crypto.h"
#include "bot/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char base32[] = "abcdefghijklmnopqrstuvwxyz234567";

int invite_code_new(char *code)
{
	unsigned char raw[20];	/* 160 bits: 32 base32 characters, no padding */

	if (crypto_random(raw, sizeof(raw)) < 0)
		return -1;
	for (size_t i = 0; i < INVITE_CODE_LEN; i++) {
		size_t bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)raw[byte] << 8 | (byte + 1 < sizeof(raw) ? raw[byte + 1] : 0);
		code[i] = base32[(v >> (11 - shift)) & 31];
	}
	code[INVITE_CODE_LEN] = '\0';
	return 0;
}

int invite_code_normalize(const char *typed, char *code)
{
	const char *slash = strrchr(typed, '/');
	size_t n;

	if (slash)	/* a pasted join URL: the code is the last path segment */
		typed = slash + 1;
	n = strlen(typed);
	if (n != INVITE_CODE_LEN)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)typed[i]);
		if (!strchr(base32, c) || !c)
			return -1;
		code[i] = c;
	}
	code[n] = '\0';
	return 0;
}

void invite_code_hash(const char *code, char hash_hex[65])
{
	unsigned char digest[CRYPTO_SHA256_LEN];

	crypto_sha256(code, strlen(code), digest);
	crypto_hex(digest, sizeof(digest), hash_hex);
}

static void fmt_i64(char *out, size_t size, int64_t v)
{
	snprintf(out, size, "%lld", (long long)v);
}

static int reply_int(redisReply *r, int *out)
{
	if (r && r->type == REDIS_REPLY_INTEGER) {
		*out = (int)r->integer;
		return 0;
	}
	return -1;
}

/* Fields every invite hash has; the create scripts share them. */
#define INVITE_FIELDS_LUA \
	"local function invite_hset(key, kind)\n" \
	"  redis.call('HSET', key, 'id', ARGV[2], 'kind', kind, 'role', ARGV[3], 'created_by', ARGV[4],\n" \
	"             'created_ms', ARGV[5], 'expires_ms', ARGV[6], 'max_uses', ARGV[7], 'uses', 0,\n" \
	"             'revoked', 0)\n" \
	"end\n"

static const struct store_script create_link_script = {
	"invite_create_link",
	/* KEYS: invite:<hash>, invites, invite_ids, audit, tip.
	 * ARGV: hash, id, role, actor, now, expires_ms, max_uses, platform. */
	INVITE_FIELDS_LUA
	"invite_hset(KEYS[1], 'link')\n"
	"redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])\n"
	"redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])\n"
	"wk_audit(KEYS[4], KEYS[5], ARGV[5], ARGV[4], ARGV[8], 'invite.create', 'invite:' .. ARGV[2], '',\n"
	"         'link role=' .. ARGV[3] .. ' uses=' .. ARGV[7] .. ' expires_ms=' .. ARGV[6])\n"
	"return 0\n",
	AUDIT_LUA
};

static int invite_keys(const char *org_id, const char *hash, char *kinv, char *kinvites,
		       char *kids, char *kaudit, char *ktip)
{
	return org_key(kinv, 192, org_id, "invite:%s", hash) < 0 ||
	       org_key(kinvites, 160, org_id, "invites") < 0 ||
	       org_key(kids, 160, org_id, "invite_ids") < 0 ||
	       audit_keys(org_id, kaudit, 160, ktip, 160) < 0 ? -1 : 0;
}

int invite_create_link(struct store *s, const char *org_id, const char *actor,
		       const char *platform, const struct invite_new *spec, int64_t now_ms,
		       char *code, char *id)
{
	char hash[65], kinv[192], kinvites[160], kids[160], kaudit[160], ktip[160];
	char now[24], exp[24], uses[24];
	redisReply *r;
	int rc = -1, v;

	if (invite_code_new(code) < 0)
		return -1;
	invite_code_hash(code, hash);
	memcpy(id, hash, INVITE_ID_LEN);
	id[INVITE_ID_LEN] = '\0';
	if (invite_keys(org_id, hash, kinv, kinvites, kids, kaudit, ktip) < 0)
		return -1;
	fmt_i64(now, sizeof(now), now_ms);
	fmt_i64(exp, sizeof(exp), spec->expires_ms);
	fmt_i64(uses, sizeof(uses), spec->max_uses);
	const char *keys[] = { kinv, kinvites, kids, kaudit, ktip };
	const char *args[] = { hash, id, role_name(spec->role), actor, now, exp, uses, platform };
	r = store_script(s, &create_link_script, 5, keys, 8, args);
	if (reply_int(r, &v) == 0)
		rc = 0;
	if (r)
		freeReplyObject(r);
	return rc;
}

static const struct store_script create_email_script = {
	"invite_create_email",
	/* KEYS: invite:<hash>, invites, invite_ids, audit, tip, invited_emails,
	 *       member:<placeholder>, members, team:default.
	 * ARGV: hash, id, role, actor, now, expires_ms, max_uses, platform, email, placeholder.
	 * Returns {0} or {1, existing placeholder}. */
	INVITE_FIELDS_LUA MEMBER_ROLE_LUA
	"local existing = redis.call('HGET', KEYS[6], ARGV[9])\n"
	"if existing then return {1, existing} end\n"
	"invite_hset(KEYS[1], 'email')\n"
	"redis.call('HSET', KEYS[1], 'email', ARGV[9], 'member', ARGV[10])\n"
	"redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])\n"
	"redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])\n"
	"redis.call('HSET', KEYS[7], 'role', ARGV[3], 'placeholder', 1, 'email', ARGV[9],\n"
	"           'invite', ARGV[1], 'invited_by', ARGV[4], 'created_ms', ARGV[5])\n"
	"wk_role_index(KEYS[7], ARGV[10], nil, ARGV[3])\n"
	"redis.call('SADD', KEYS[8], ARGV[10])\n"
	"redis.call('SADD', KEYS[9], ARGV[10])\n"
	"redis.call('HSET', KEYS[6], ARGV[9], ARGV[10])\n"
	"wk_audit(KEYS[4], KEYS[5], ARGV[5], ARGV[4], ARGV[8], 'invite.create', 'invite:' .. ARGV[2], '',\n"
	"         'email ' .. ARGV[9] .. ' role=' .. ARGV[3])\n"
	"return {0}\n",
	AUDIT_LUA
};

int invite_create_email(struct store *s, const char *org_id, const char *actor,
			const char *platform, const char *email, const struct invite_new *spec,
			int64_t now_ms, char *code, char *id, char *placeholder, size_t psize)
{
	char hash[65], kinv[192], kinvites[160], kids[160], kaudit[160], ktip[160];
	char kemails[160], kph[192], kmembers[160], kteam[160], now[24], exp[24], lower[256];
	unsigned char rnd[6];
	redisReply *r;
	int rc = -1;

	if (invite_code_new(code) < 0 || crypto_random(rnd, sizeof(rnd)) < 0)
		return -1;
	wk_strlcpy(lower, email, sizeof(lower));
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	invite_code_hash(code, hash);
	memcpy(id, hash, INVITE_ID_LEN);
	id[INVITE_ID_LEN] = '\0';
	snprintf(placeholder, psize, "p-");
	crypto_hex(rnd, sizeof(rnd), placeholder + 2);
	if (invite_keys(org_id, hash, kinv, kinvites, kids, kaudit, ktip) < 0 ||
	    org_key(kemails, sizeof(kemails), org_id, "invited_emails") < 0 ||
	    org_key(kph, sizeof(kph), org_id, "member:%s", placeholder) < 0 ||
	    org_key(kmembers, sizeof(kmembers), org_id, "members") < 0 ||
	    org_key(kteam, sizeof(kteam), org_id, "team:default") < 0)
		return -1;
	fmt_i64(now, sizeof(now), now_ms);
	fmt_i64(exp, sizeof(exp), spec->expires_ms);
	const char *keys[] = { kinv, kinvites, kids, kaudit, ktip, kemails, kph, kmembers, kteam };
	const char *args[] = { hash, id, role_name(spec->role), actor, now, exp, "1", platform, lower,
			       placeholder };
	r = store_script(s, &create_email_script, 9, keys, 10, args);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER) {
		rc = (int)r->element[0]->integer;
		if (rc == 1 && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING)
			wk_strlcpy(placeholder, r->element[1]->str, psize);
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

static const struct store_script join_script = {
	"invite_join",
	/* KEYS: invite:<hash>, member:<user>, members, team:default, joinfail:<user>, audit, tip.
	 * ARGV: user, platform, now, max failures, window s.
	 * Returns {outcome, detail}. */
	MEMBER_ROLE_LUA
	"local fails = tonumber(redis.call('GET', KEYS[5]) or '0')\n"
	"if fails >= tonumber(ARGV[4]) then return {'rate_limited', tostring(redis.call('TTL', KEYS[5]))} end\n"
	"local role = redis.call('HGET', KEYS[2], 'role')\n"
	"if role and redis.call('HGET', KEYS[2], 'placeholder') ~= '1' then return {'already_member', role} end\n"
	"if redis.call('EXISTS', KEYS[1]) == 0 then\n"
	"  redis.call('INCR', KEYS[5])\n"
	"  if redis.call('TTL', KEYS[5]) < 0 then redis.call('EXPIRE', KEYS[5], ARGV[5]) end\n"
	"  return {'wrong', ''}\n"
	"end\n"
	"local i = {}\n"
	"local h = redis.call('HGETALL', KEYS[1])\n"
	"for n = 1, #h, 2 do i[h[n]] = h[n + 1] end\n"
	"if i.revoked == '1' then return {'revoked', ''} end\n"
	"if i.expires_ms ~= '0' and tonumber(ARGV[3]) >= tonumber(i.expires_ms) then return {'expired', ''} end\n"
	"if i.max_uses ~= '0' and tonumber(i.uses) >= tonumber(i.max_uses) then return {'used_up', ''} end\n"
	"if i.member then return {'claim', i.member, i.role} end\n"
	"redis.call('HSET', KEYS[2], 'role', i.role, 'platform', ARGV[2], 'chat_id', ARGV[1],\n"
	"           'created_ms', ARGV[3], 'invited_by', i.created_by, 'invite', i.id)\n"
	"wk_role_index(KEYS[2], ARGV[1], nil, i.role)\n"
	"redis.call('SADD', KEYS[3], ARGV[1])\n"
	"redis.call('SADD', KEYS[4], ARGV[1])\n"
	"redis.call('HINCRBY', KEYS[1], 'uses', 1)\n"
	"wk_audit(KEYS[6], KEYS[7], ARGV[3], ARGV[1], ARGV[2], 'invite.use', 'invite:' .. i.id, '',\n"
	"         'member:' .. ARGV[1] .. ' role=' .. i.role)\n"
	"return {'ok', i.role}\n",
	AUDIT_LUA
};

int invite_join(struct store *s, const char *org_id, const char *user_id, const char *platform,
		const char *code, int64_t now_ms, struct invite_join_result *out)
{
	static const struct {
		const char *word;
		enum invite_join outcome;
	} words[] = {
		{ "ok", JOIN_OK },		{ "claim", JOIN_CLAIM },
		{ "wrong", JOIN_WRONG },	{ "expired", JOIN_EXPIRED },
		{ "used_up", JOIN_USED_UP },	{ "revoked", JOIN_REVOKED },
		{ "rate_limited", JOIN_RATE_LIMITED }, { "already_member", JOIN_ALREADY_MEMBER },
	};
	char hash[65], kinv[192], kmember[192], kmembers[160], kteam[160], kfail[192];
	char kaudit[160], ktip[160], now[24], maxf[12], window[12];
	redisReply *r;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	invite_code_hash(code, hash);
	if (org_key(kinv, sizeof(kinv), org_id, "invite:%s", hash) < 0 ||
	    org_member_keys(org_id, user_id, kmember, sizeof(kmember), kmembers, sizeof(kmembers)) < 0 ||
	    org_key(kteam, sizeof(kteam), org_id, "team:default") < 0 ||
	    org_key(kfail, sizeof(kfail), org_id, "joinfail:%s", user_id) < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	fmt_i64(now, sizeof(now), now_ms);
	snprintf(maxf, sizeof(maxf), "%d", INVITE_MAX_FAILURES);
	snprintf(window, sizeof(window), "%d", INVITE_FAILURE_WINDOW_S);
	const char *keys[] = { kinv, kmember, kmembers, kteam, kfail, kaudit, ktip };
	const char *args[] = { user_id, platform, now, maxf, window };
	r = store_script(s, &join_script, 7, keys, 5, args);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
		goto out;
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strcmp(r->element[0]->str, words[i].word) == 0) {
			out->outcome = words[i].outcome;
			rc = 0;
		}
	switch (out->outcome) {
	case JOIN_OK:
	case JOIN_ALREADY_MEMBER:
		out->role = role_parse(r->element[1]->str);
		break;
	case JOIN_CLAIM:
		wk_strlcpy(out->placeholder, r->element[1]->str, sizeof(out->placeholder));
		if (r->elements > 2 && r->element[2]->type == REDIS_REPLY_STRING)
			out->role = role_parse(r->element[2]->str);
		break;
	case JOIN_RATE_LIMITED:
		wk_parse_i64(r->element[1]->str, -2, INT64_MAX, &out->retry_after_s);
		break;
	default:
		break;
	}
out:
	if (r)
		freeReplyObject(r);
	return rc;
}

static const struct store_script list_script = {
	"invite_list",
	/* KEYS: invites. ARGV: key prefix. Returns hash contents of the 50 newest. */
	"local out = {}\n"
	"for _, h in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, 49)) do\n"
	"  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. 'invite:' .. h)\n"
	"end\n"
	"return out\n",
	NULL
};

static const struct store_field invite_fields[] = {
	STORE_STR_FIELD("id", struct invite_info, id),
	STORE_STR_FIELD("kind", struct invite_info, kind),
	STORE_STR_FIELD("created_by", struct invite_info, created_by),
	STORE_STR_FIELD("email", struct invite_info, email),
	STORE_FLAG_FIELD("revoked", struct invite_info, revoked),
	STORE_I64_FIELD("created_ms", struct invite_info, created_ms),
	STORE_I64_FIELD("expires_ms", struct invite_info, expires_ms),
	STORE_I64_FIELD("max_uses", struct invite_info, max_uses),
	STORE_I64_FIELD("uses", struct invite_info, uses),
};

static void invite_from_pairs(struct invite_info *inv, const redisReply *h)
{
	memset(inv, 0, sizeof(*inv));
	store_hash_fields(h, invite_fields, ARRAY_LEN(invite_fields), inv);
	for (size_t i = 0; i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, "role") == 0 &&
		    h->element[i + 1]->type == REDIS_REPLY_STRING)
			inv->role = role_parse(h->element[i + 1]->str);
}

int invite_list(struct store *s, const char *org_id, struct invite_info **out, size_t *n)
{
	redisReply *r;

	*out = NULL;
	*n = 0;
	if (!(r = org_list_script(s, &list_script, org_id, "invites")))
		return -1;
	*out = xcalloc(r->elements + 1, sizeof(**out));
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_ARRAY && r->element[i]->elements)
			invite_from_pairs(&(*out)[(*n)++], r->element[i]);
	freeReplyObject(r);
	return 0;
}

static const struct store_script revoke_script = {
	"invite_revoke",
	/* KEYS: invite_ids, audit, tip. ARGV: id, actor, platform, now, key prefix. */
	MEMBER_ROLE_LUA
	"local p = ARGV[5]\n"
	"local hash = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if not hash or redis.call('EXISTS', p .. 'invite:' .. hash) == 0 then return 1 end\n"
	"local key = p .. 'invite:' .. hash\n"
	"if redis.call('HGET', key, 'revoked') == '1' then return 2 end\n"
	"redis.call('HSET', key, 'revoked', 1)\n"
	/* An unclaimed email invite takes its placeholder with it. */
	"local ph = redis.call('HGET', key, 'member')\n"
	"if ph and redis.call('HGET', p .. 'member:' .. ph, 'placeholder') == '1' then\n"
	"  local email = redis.call('HGET', p .. 'member:' .. ph, 'email')\n"
	"  if email then redis.call('HDEL', p .. 'invited_emails', string.lower(email)) end\n"
	"  for _, team in ipairs(redis.call('HKEYS', p .. 'teams')) do\n"
	"    redis.call('SREM', p .. 'team:' .. team, ph) end\n"
	"  redis.call('SREM', p .. 'members', ph)\n"
	"  wk_role_index(p, ph, redis.call('HGET', p .. 'member:' .. ph, 'role'), nil)\n"
	"  redis.call('DEL', p .. 'member:' .. ph)\n"
	"end\n"
	"wk_audit(KEYS[2], KEYS[3], ARGV[4], ARGV[2], ARGV[3], 'invite.revoke', 'invite:' .. ARGV[1], 'active', 'revoked')\n"
	"return 0\n",
	AUDIT_LUA
};

int invite_revoke(struct store *s, const char *org_id, const char *actor, const char *platform,
		  const char *id_or_code, int64_t now_ms)
{
	char id[INVITE_ID_LEN + 1], code[INVITE_CODE_LEN + 1], hash[65];
	char kids[160], kaudit[160], ktip[160], prefix[160], now[24];
	redisReply *r;
	int rc = -1, v;

	if (invite_code_normalize(id_or_code, code) == 0) {
		invite_code_hash(code, hash);
		memcpy(id, hash, INVITE_ID_LEN);
		id[INVITE_ID_LEN] = '\0';
	} else if (strlen(id_or_code) == INVITE_ID_LEN &&
		   strspn(id_or_code, "0123456789abcdef") == INVITE_ID_LEN) {
		wk_strlcpy(id, id_or_code, sizeof(id));
	} else {
		return 1;
	}
	if (org_key(kids, sizeof(kids), org_id, "invite_ids") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	fmt_i64(now, sizeof(now), now_ms);
	const char *keys[] = { kids, kaudit, ktip };
	const char *args[] = { id, actor, platform, now, prefix };
	r = store_script(s, &revoke_script, 3, keys, 5, args);
	if (reply_int(r, &v) == 0)
		rc = v;
	if (r)
		freeReplyObject(r);
	return rc;
}

static const struct store_script github_sync_script = {
	"invite_github_sync",
	/* KEYS: github, members, team:default, invited_emails, audit, tip.
	 * ARGV: key prefix, role, actor, platform, now, complete (1/0), then login, email pairs.
	 * Placeholder ids are derived from logins ("p-gh-<login>"), so a re-sync
	 * finds the same ones. Returns {added, returned, left, total}. */
	MEMBER_ROLE_LUA
	"local p = ARGV[1]\n"
	"local seen, added, returned, left, total = {}, 0, 0, 0, 0\n"
	"for i = 7, #ARGV, 2 do\n"
	"  local login, email = ARGV[i], ARGV[i + 1]\n"
	"  seen[login] = true\n"
	"  total = total + 1\n"
	"  local mid = redis.call('HGET', KEYS[1], login)\n"
	"  if not mid then\n"
	"    mid = 'p-gh-' .. login\n"
	"    redis.call('HSET', p .. 'member:' .. mid, 'role', ARGV[2], 'placeholder', 1, 'github', login,\n"
	"               'created_ms', ARGV[5], 'invited_by', ARGV[3])\n"
	"    wk_role_index(p, mid, nil, ARGV[2])\n"
	"    if email ~= '' then\n"
	"      redis.call('HSET', p .. 'member:' .. mid, 'email', email)\n"
	"      redis.call('HSETNX', KEYS[4], string.lower(email), mid)\n"
	"    end\n"
	"    redis.call('SADD', KEYS[2], mid)\n"
	"    redis.call('SADD', KEYS[3], mid)\n"
	"    redis.call('HSET', KEYS[1], login, mid)\n"
	"    added = added + 1\n"
	"  elseif redis.call('HDEL', p .. 'member:' .. mid, 'left_github') == 1 then\n"
	"    returned = returned + 1\n"
	"  end\n"
	"end\n"
	"local known = ARGV[6] == '1' and redis.call('HGETALL', KEYS[1]) or {}\n"
	"for i = 1, #known, 2 do\n"
	"  local mkey = p .. 'member:' .. known[i + 1]\n"
	"  if not seen[known[i]] and redis.call('EXISTS', mkey) == 1 and\n"
	"     redis.call('HGET', mkey, 'left_github') ~= '1' then\n"
	"    redis.call('HSET', mkey, 'left_github', 1)\n"
	"    left = left + 1\n"
	"  end\n"
	"end\n"
	"if added + returned + left > 0 then\n"
	"  wk_audit(KEYS[5], KEYS[6], ARGV[5], ARGV[3], ARGV[4], 'github.sync', 'github', '',\n"
	"           'added=' .. added .. ' returned=' .. returned .. ' left=' .. left .. ' role=' .. ARGV[2])\n"
	"end\n"
	"return {added, returned, left, total}\n",
	AUDIT_LUA
};

int invite_github_sync(struct store *s, const char *org_id, const char *actor,
		       const char *platform, enum role role, const char *const *logins,
		       const char *const *emails, size_t n, int complete, int64_t now_ms,
		       struct github_sync_counts *out)
{
	char kgh[160], kmembers[160], kteam[160], kemails[160], kaudit[160], ktip[160];
	char prefix[160], now[24];
	const char **args;
	redisReply *r;
	int rc = -1;

	if (org_key(kgh, sizeof(kgh), org_id, "github") < 0 ||
	    org_key(kmembers, sizeof(kmembers), org_id, "members") < 0 ||
	    org_key(kteam, sizeof(kteam), org_id, "team:default") < 0 ||
	    org_key(kemails, sizeof(kemails), org_id, "invited_emails") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	fmt_i64(now, sizeof(now), now_ms);
	args = xcalloc(6 + 2 * n, sizeof(*args));
	args[0] = prefix;
	args[1] = role_name(role);
	args[2] = actor;
	args[3] = platform;
	args[4] = now;
	args[5] = complete ? "1" : "0";
	for (size_t i = 0; i < n; i++) {
		args[6 + 2 * i] = logins[i];
		args[7 + 2 * i] = emails[i];
	}
	const char *keys[] = { kgh, kmembers, kteam, kemails, kaudit, ktip };
	r = store_script(s, &github_sync_script, 6, keys, (int)(6 + 2 * n), args);
	free(args);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 4) {
		out->added = (long)r->element[0]->integer;
		out->returned = (long)r->element[1]->integer;
		out->left = (long)r->element[2]->integer;
		out->total = (long)r->element[3]->integer;
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

static const struct store_script github_link_script = {
	"invite_github_link",
	/* KEYS: github, member:<user>, members, audit, tip.
	 * ARGV: key prefix, user, login, actor, platform, now. */
	MEMBER_ROLE_LUA
	"local p = ARGV[1]\n"
	"local ph = redis.call('HGET', KEYS[1], ARGV[3])\n"
	"if not ph or redis.call('HGET', p .. 'member:' .. ph, 'placeholder') ~= '1' then return 1 end\n"
	"local email = redis.call('HGET', p .. 'member:' .. ph, 'email')\n"
	"if email and redis.call('HGET', p .. 'invited_emails', string.lower(email)) == ph then\n"
	"  redis.call('HDEL', p .. 'invited_emails', string.lower(email)) end\n"
	"for _, team in ipairs(redis.call('HKEYS', p .. 'teams')) do\n"
	"  redis.call('SREM', p .. 'team:' .. team, ph) end\n"
	"wk_role_index(p, ph, redis.call('HGET', p .. 'member:' .. ph, 'role'), nil)\n"
	"redis.call('DEL', p .. 'member:' .. ph)\n"
	"redis.call('SREM', KEYS[3], ph)\n"
	"redis.call('HSET', KEYS[2], 'github', ARGV[3])\n"
	"redis.call('HSET', KEYS[1], ARGV[3], ARGV[2])\n"
	"wk_audit(KEYS[4], KEYS[5], ARGV[6], ARGV[4], ARGV[5], 'member.map', 'member:' .. ARGV[2],\n"
	"         'placeholder ' .. ph, 'github:' .. ARGV[3])\n"
	"return 0\n",
	AUDIT_LUA
};

int invite_github_link(struct store *s, const char *org_id, const char *actor,
		       const char *platform, const char *user_id, const char *login,
		       int64_t now_ms)
{
	char kgh[160], kmember[192], kmembers[160], kaudit[160], ktip[160], prefix[160], now[24];
	redisReply *r;
	int rc = -1, v;

	if (org_key(kgh, sizeof(kgh), org_id, "github") < 0 ||
	    org_member_keys(org_id, user_id, kmember, sizeof(kmember), kmembers, sizeof(kmembers)) < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	fmt_i64(now, sizeof(now), now_ms);
	const char *keys[] = { kgh, kmember, kmembers, kaudit, ktip };
	const char *args[] = { prefix, user_id, login, actor, platform, now };
	r = store_script(s, &github_link_script, 5, keys, 6, args);
	if (reply_int(r, &v) == 0)
		rc = v;
	if (r)
		freeReplyObject(r);
	return rc;
}
