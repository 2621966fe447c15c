/* member.h - the people of an org: profiles, roles, removal, placeholders.
 *
 * Role rules, enforced inside the scripts so concurrent requests can't race
 * past them: admins and owners change roles and remove members; only owners
 * make or unmake owners; the last owner can never be demoted or removed (the
 * owners set is counted in the same atomic step).
 *
 * Thread: callers pass their own store. Keys: see org.h. */
#ifndef WK_MEMBER_H
#define WK_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/org.h"

struct member {
	char id[64];
	enum role role;
	bool placeholder;
	bool left_github;
	bool incidents;	/* their own switch: false = `incidents` "off" (delegate.h) */
	char platform[16];
	char name[128];
	char email[256];
	char phone[24];
	char tz[64];
	char github[40];
};

/* 0 found, 1 no such member, -1 store failure. */
int member_get(struct store *s, const char *org_id, const char *id, struct member *out);

/* All members (placeholders included), sorted by role then id. Caller frees. */
int member_list(struct store *s, const char *org_id, struct member **out, size_t *n);
/* The same read as Lua, for a script that needs the members along with other
 * work: wk_member_list(members key, prefix) -> {id, {field, value, ...}, ...};
 * and its reply into the sorted list member_list() gives (caller frees *out). */
#define MEMBER_LIST_LUA \
	"local function wk_member_list(kmembers, p)\n" \
	"  local out = {}\n" \
	"  for _, id in ipairs(redis.call('SMEMBERS', kmembers)) do\n" \
	"    out[#out + 1] = id\n" \
	"    out[#out + 1] = redis.call('HGETALL', p .. 'member:' .. id)\n" \
	"  end\n" \
	"  return out\n" \
	"end\n"
void member_list_from_reply(const redisReply *r, struct member **out, size_t *n);

enum member_ref { MEMBER_REF_FOUND, MEMBER_REF_NOT_MEMBER, MEMBER_REF_INVALID };
/* Resolve what a user typed to name a person: a chat mention (<@U1> on Slack,
 * @name on the console), github:login, or an email address. On NOT_MEMBER, id
 * holds the chat id when the reference was a valid mention (so a caller can say
 * "invite them first"). -1 on store failure. */
int member_resolve(struct store *s, const char *org_id, enum platform p, const char *ref,
		   char *id, size_t size, enum member_ref *result);

enum member_change {
	MEMBER_CHANGED,
	MEMBER_UNCHANGED,	/* already so */
	MEMBER_NOT_FOUND,
	MEMBER_FORBIDDEN,	/* actor's role is too low for this change */
	MEMBER_NEEDS_OWNER,	/* only an owner may make or unmake owners */
	MEMBER_LAST_OWNER,	/* would leave the org without an owner */
	MEMBER_CONFLICT,	/* what the change depends on kept changing; nothing done */
};

/* A script's answer word ("changed", "last_owner", ...) as a member_change. */
enum member_change member_change_parse(const char *word);

/* The checks shared by role changes and removal (removal.c), in Lua: actor and
 * target roles, owner-only changes, and the last owner. Defines guard(): KEYS[1]
 * actor hash, KEYS[2] target hash, KEYS[3] owners set; `touches_owner` says
 * whether the change makes or unmakes one. */
#define MEMBER_GUARD_LUA \
	"local function guard(touches_owner, demotes_owner)\n" \
	"  local ar = redis.call('HGET', KEYS[1], 'role')\n" \
	"  if ar ~= 'admin' and ar ~= 'owner' then return 'forbidden' end\n" \
	"  if touches_owner and ar ~= 'owner' then return 'needs_owner' end\n" \
	"  if demotes_owner and redis.call('SCARD', KEYS[3]) <= 1 then return 'last_owner' end\n" \
	"  return nil\n" \
	"end\n"

/* The role index, wk:{org}:roles:<role> (sets of member ids), which
 * delegate.h's role targets read instead of every member: each script that
 * gives, changes or takes away a member's role calls
 *   wk_role_index(any key of the org, id, old role or nil, new role or nil)
 * in the same atomic step. */
#define MEMBER_ROLE_LUA \
	"local function wk_role_index(orgkey, id, old, new)\n" \
	"  local p = string.match(orgkey, '^(wk:%b{}:)')\n" \
	"  if old and old ~= '' and old ~= new then redis.call('SREM', p .. 'roles:' .. old, id) end\n" \
	"  if new and new ~= '' then redis.call('SADD', p .. 'roles:' .. new, id) end\n" \
	"end\n"

int member_set_role(struct store *s, const char *org_id, const char *actor, const char *platform,
		    const char *target, enum role role, int64_t now_ms, enum member_change *out);
/* Removing a member: removal.h (it reaches into rotations, overrides and swaps). */

/* Profile fields people edit themselves. value is already validated; "" removes
 * the field (FIELD_INCIDENTS: absent means on, so "on" is stored as absent). */
enum member_field { FIELD_NAME, FIELD_EMAIL, FIELD_PHONE, FIELD_TZ, FIELD_INCIDENTS };
/* 0 done, 1 the email belongs to another member, -1 store failure. */
int member_set_field(struct store *s, const char *org_id, const char *id, enum member_field f,
		     const char *value);

/* Validators: 0 ok, -1 with a sentence in why naming what is wrong. */
int member_check_phone(const char *v, char *why, size_t size);	/* E.164 */
int member_check_email(const char *v, char *why, size_t size);
int member_check_name(const char *v, char *why, size_t size);

/* Turn placeholder `placeholder` into the chat user `user_id` (who must not be a
 * member yet): the profile, role, teams and indexes move over. via is "email",
 * "code" or "map" for the audit log. 0 done, 1 placeholder gone or user already
 * a member, -1 store failure. */
int member_claim(struct store *s, const char *org_id, const char *placeholder,
		 const char *user_id, const char *platform, const char *actor, const char *via,
		 int64_t now_ms);

#endif
