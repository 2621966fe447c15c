/* member.c - see member.h */
#include "bot/member.h"
#include "bot/audit.h"
#include "bot/cmdline.h"
#include "bot/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a member hash holds, read by one table; the role and the incidents
 * switch are words and are read apart. */
static const struct store_field member_fields[] = {
	STORE_FLAG_FIELD("placeholder", struct member, placeholder),
	STORE_FLAG_FIELD("left_github", struct member, left_github),
	STORE_STR_FIELD("platform", struct member, platform),
	STORE_STR_FIELD("name", struct member, name),
	STORE_STR_FIELD("email", struct member, email),
	STORE_STR_FIELD("phone", struct member, phone),
	STORE_STR_FIELD("tz", struct member, tz),
	STORE_STR_FIELD("github", struct member, github),
};

static void member_from_pairs(struct member *m, const char *id, const redisReply *h)
{
	memset(m, 0, sizeof(*m));
	wk_strlcpy(m->id, id, sizeof(m->id));
	store_hash_fields(h, member_fields, ARRAY_LEN(member_fields), m);
	m->incidents = true;
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		const redisReply *k = h->element[i], *v = h->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(k->str, "role") == 0)
			m->role = role_parse(v->str);
		else if (strcmp(k->str, "incidents") == 0)
			m->incidents = strcmp(v->str, "off") != 0;
	}
}

int member_get(struct store *s, const char *org_id, const char *id, struct member *out)
{
	char key[192];
	redisReply *r;
	int rc = -1;

	if (org_key(key, sizeof(key), org_id, "member:%s", id) < 0)
		return -1;
	if ((rc = store_hash(s, key, &r)) == 0) {
		member_from_pairs(out, id, r);
		freeReplyObject(r);
	}
	return rc;
}

static const struct store_script member_list_script = {
	"member_list",
	/* KEYS: members. ARGV: key prefix. */
	"return wk_member_list(KEYS[1], ARGV[1])\n",
	MEMBER_LIST_LUA
};

static int member_order(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	if (x->placeholder != y->placeholder)
		return x->placeholder - y->placeholder;
	if (x->role != y->role)
		return (int)y->role - (int)x->role;
	return strcmp(x->id, y->id);
}

int member_list(struct store *s, const char *org_id, struct member **out, size_t *n)
{
	redisReply *r;

	*out = NULL;
	*n = 0;
	if (!(r = org_list_script(s, &member_list_script, org_id, "members")))
		return -1;
	member_list_from_reply(r, out, n);
	freeReplyObject(r);
	return 0;
}

void member_list_from_reply(const redisReply *r, struct member **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (r->type != REDIS_REPLY_ARRAY)
		return;
	*out = xcalloc(r->elements / 2 + 1, sizeof(**out));
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		redisReply *id = r->element[i], *h = r->element[i + 1];
		if (id->type != REDIS_REPLY_STRING || h->type != REDIS_REPLY_ARRAY || !h->elements)
			continue;
		member_from_pairs(&(*out)[*n], id->str, h);
		(*n)++;
	}
	qsort(*out, *n, sizeof(**out), member_order);
}

static void lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

int member_resolve(struct store *s, const char *org_id, enum platform p, const char *ref,
		   char *id, size_t size, enum member_ref *result)
{
	char key[192], field[260];
	const char *index = NULL;
	redisReply *r;
	int rc = -1;

	*result = MEMBER_REF_INVALID;
	id[0] = '\0';
	if (cmdline_person(p, ref, id, size) == 0) {
		struct member m;
		if (!org_member_id_valid(id))
			return 0;
		int got = member_get(s, org_id, id, &m);
		if (got < 0)
			return -1;
		*result = got == 0 && !m.placeholder ? MEMBER_REF_FOUND : MEMBER_REF_NOT_MEMBER;
		return 0;
	}
	if (strncmp(ref, "github:", 7) == 0 && ref[7] && strlen(ref + 7) < 40) {
		index = "github";
		wk_strlcpy(field, ref + 7, sizeof(field));
	} else if (member_check_email(ref, NULL, 0) == 0) {
		index = "invited_emails";
		wk_strlcpy(field, ref, sizeof(field));
		lowercase(field);
	} else {
		return 0;
	}
	if (org_key(key, sizeof(key), org_id, "%s", index) < 0)
		return -1;
	r = store_command(s, "HGET %s %s", key, field);
	if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL)) {
		rc = 0;
		if (r->type == REDIS_REPLY_STRING) {
			wk_strlcpy(id, r->str, size);
			*result = MEMBER_REF_FOUND;
		} else {
			*result = MEMBER_REF_NOT_MEMBER;
		}
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

enum member_change member_change_parse(const char *word)
{
	static const struct {
		const char *word;
		enum member_change c;
	} words[] = {
		{ "changed", MEMBER_CHANGED },	     { "unchanged", MEMBER_UNCHANGED },
		{ "not_found", MEMBER_NOT_FOUND },   { "forbidden", MEMBER_FORBIDDEN },
		{ "needs_owner", MEMBER_NEEDS_OWNER }, { "last_owner", MEMBER_LAST_OWNER },
		{ "conflict", MEMBER_CONFLICT },
	};
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strcmp(word, words[i].word) == 0)
			return words[i].c;
	return MEMBER_NOT_FOUND;
}

static const struct store_script set_role_script = {
	"member_set_role",
	/* KEYS: member:<actor>, member:<target>, owners, audit, tip.
	 * ARGV: actor, platform, target, role, now. */
	MEMBER_GUARD_LUA MEMBER_ROLE_LUA
	"local tr = redis.call('HGET', KEYS[2], 'role')\n"
	"if not tr then return 'not_found' end\n"
	"if tr == ARGV[4] then return 'unchanged' end\n"
	"local refused = guard(tr == 'owner' or ARGV[4] == 'owner', tr == 'owner')\n"
	"if refused then return refused end\n"
	"redis.call('HSET', KEYS[2], 'role', ARGV[4])\n"
	"wk_role_index(KEYS[2], ARGV[3], tr, ARGV[4])\n"
	"if ARGV[4] == 'owner' then redis.call('SADD', KEYS[3], ARGV[3])\n"
	"else redis.call('SREM', KEYS[3], ARGV[3]) end\n"
	"wk_audit(KEYS[4], KEYS[5], ARGV[5], ARGV[1], ARGV[2], 'member.role', 'member:' .. ARGV[3], tr, ARGV[4])\n"
	"return 'changed'\n",
	AUDIT_LUA
};

static int run_change(struct store *s, const struct store_script *script, int nkeys,
		      const char *const *keys, int nargs, const char *const *args,
		      enum member_change *out)
{
	redisReply *r = store_script(s, script, nkeys, keys, nargs, args);
	int rc = -1;

	if (r && r->type == REDIS_REPLY_STATUS) {	/* Lua strings come back as bulk; be lenient */
		*out = member_change_parse(r->str);
		rc = 0;
	} else if (r && r->type == REDIS_REPLY_STRING) {
		*out = member_change_parse(r->str);
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

int member_set_role(struct store *s, const char *org_id, const char *actor, const char *platform,
		    const char *target, enum role role, int64_t now_ms, enum member_change *out)
{
	char ka[192], kt[192], kowners[160], kaudit[160], ktip[160], now[24];

	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	if (org_key(ka, sizeof(ka), org_id, "member:%s", actor) < 0 ||
	    org_key(kt, sizeof(kt), org_id, "member:%s", target) < 0 ||
	    org_key(kowners, sizeof(kowners), org_id, "owners") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	const char *keys[] = { ka, kt, kowners, kaudit, ktip };
	const char *args[] = { actor, platform, target, role_name(role), now };
	return run_change(s, &set_role_script, 5, keys, 5, args, out);
}

static const char *const field_names[] = { "name", "email", "phone", "tz", "incidents" };

int member_set_field(struct store *s, const char *org_id, const char *id, enum member_field f,
		     const char *value)
{
	char key[192];
	redisReply *r;
	int rc = -1;

	if (org_key(key, sizeof(key), org_id, "member:%s", id) < 0)
		return -1;
	r = value[0] ? store_command(s, "HSET %s %s %s", key, field_names[f], value)
		     : store_command(s, "HDEL %s %s", key, field_names[f]);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = 0;
	if (r)
		freeReplyObject(r);
	return rc;
}

int member_check_phone(const char *v, char *why, size_t size)
{
	size_t n = strlen(v);

	if (v[0] == '+' && n >= 9 && n <= 16 && v[1] >= '1' && v[1] <= '9' &&
	    strspn(v + 1, "0123456789") == n - 1)
		return 0;
	if (why)
		snprintf(why, size, "a phone number must be in international E.164 form: + then the "
				    "country code and number, digits only, e.g. +15555550123");
	return -1;
}

int member_check_email(const char *v, char *why, size_t size)
{
	const char *at = strchr(v, '@');
	size_t n = strlen(v);
	bool ok = at && at != v && !strchr(at + 1, '@') && n <= 254 && (size_t)(at - v) <= 64 &&
		  strchr(at + 1, '.') && at[1] != '.' && v[n - 1] != '.';

	for (const char *p = v; ok && *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("@.!#$%&'*+/=?^_`{|}~-", *p)))
			ok = false;
	if (ok)
		return 0;
	if (why)
		snprintf(why, size, "that is not an email address I can use; write it like alice@example.com");
	return -1;
}

int member_check_name(const char *v, char *why, size_t size)
{
	size_t n = strlen(v);

	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '<' || *p == '>' || *p == '*' || *p == '`') {
			n = 0;
			break;
		}
	if (n >= 1 && n <= 64)
		return 0;
	if (why)
		snprintf(why, size, "a display name is 1 to 64 characters, without < > * or `");
	return -1;
}

static const struct store_script claim_script = {
	"member_claim",
	/* KEYS: member:<placeholder>, member:<user>, members, owners, audit, tip.
	 * ARGV: placeholder, user, platform, actor, via, now, key prefix. */
	MEMBER_ROLE_LUA
	"if redis.call('EXISTS', KEYS[2]) == 1 then return 1 end\n"
	"if redis.call('HGET', KEYS[1], 'placeholder') ~= '1' then return 1 end\n"
	"local p, ph, u = ARGV[7], ARGV[1], ARGV[2]\n"
	"local h = redis.call('HGETALL', KEYS[1])\n"
	"local copy = {}\n"
	"for i = 1, #h, 2 do\n"
	"  if h[i] ~= 'placeholder' then copy[#copy + 1] = h[i]; copy[#copy + 1] = h[i + 1] end\n"
	"end\n"
	"redis.call('HSET', KEYS[2], unpack(copy))\n"
	"redis.call('HSET', KEYS[2], 'platform', ARGV[3], 'chat_id', u, 'claimed_ms', ARGV[6])\n"
	"local role = redis.call('HGET', KEYS[2], 'role')\n"
	"wk_role_index(KEYS[2], ph, role, nil)\n"
	"wk_role_index(KEYS[2], u, nil, role)\n"
	"local email = redis.call('HGET', KEYS[2], 'email')\n"
	"local gh = redis.call('HGET', KEYS[2], 'github')\n"
	"local inv = redis.call('HGET', KEYS[2], 'invite')\n"
	"if email then redis.call('HDEL', p .. 'invited_emails', string.lower(email)) end\n"
	"if gh then redis.call('HSET', p .. 'github', gh, u) end\n"
	"if inv and redis.call('EXISTS', p .. 'invite:' .. inv) == 1 then\n"
	"  redis.call('HINCRBY', p .. 'invite:' .. inv, 'uses', 1)\n"
	"  redis.call('HSET', p .. 'invite:' .. inv, 'claimed_by', u)\n"
	"end\n"
	"for _, team in ipairs(redis.call('HKEYS', p .. 'teams')) do\n"
	"  if redis.call('SREM', p .. 'team:' .. team, ph) == 1 then redis.call('SADD', p .. 'team:' .. team, u) end\n"
	"end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('SREM', KEYS[3], ph)\n"
	"redis.call('SADD', KEYS[3], u)\n"
	"if redis.call('SREM', KEYS[4], ph) == 1 then redis.call('SADD', KEYS[4], u) end\n"
	"wk_audit(KEYS[5], KEYS[6], ARGV[6], ARGV[4], ARGV[3], 'member.claim', 'member:' .. u,\n"
	"         'placeholder ' .. ph, 'claimed via ' .. ARGV[5] .. ' as ' .. role)\n"
	"return 0\n",
	AUDIT_LUA
};

int member_claim(struct store *s, const char *org_id, const char *placeholder,
		 const char *user_id, const char *platform, const char *actor, const char *via,
		 int64_t now_ms)
{
	char kp[192], ku[192], kmembers[160], kowners[160], kaudit[160], ktip[160], prefix[160], now[24];
	redisReply *r;
	int rc = -1;

	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	if (org_key(kp, sizeof(kp), org_id, "member:%s", placeholder) < 0 ||
	    org_key(ku, sizeof(ku), org_id, "member:%s", user_id) < 0 ||
	    org_key(kmembers, sizeof(kmembers), org_id, "members") < 0 ||
	    org_key(kowners, sizeof(kowners), org_id, "owners") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	const char *keys[] = { kp, ku, kmembers, kowners, kaudit, ktip };
	const char *args[] = { placeholder, user_id, platform, actor, via, now, prefix };
	r = store_script(s, &claim_script, 6, keys, 7, args);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = (int)r->integer;
	if (r)
		freeReplyObject(r);
	return rc;
}
