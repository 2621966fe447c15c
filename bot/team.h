/* team.h - teams inside an org: a named group of members that later owns
 * rotations and services. Every org starts with the team "default", which
 * can't be deleted; new members join it.
 *
 * Keys (under wk:{org}:): teams (hash id -> name), team_names (hash lower-case
 * name -> id), team:<id> (set of member ids), seq (counter for ids "t<n>").
 * Names: 1..32 characters of [A-Za-z0-9._-], unique ignoring case.
 *
 * Thread: callers pass their own store. Each change is one atomic script with
 * its audit entry. Results: 0 done, a positive TEAM_* code, -1 store failure. */
#ifndef WK_TEAM_H
#define WK_TEAM_H

#include <stddef.h>
#include <stdint.h>

#include "bot/store.h"

enum team_result {
	TEAM_OK = 0,
	TEAM_EXISTS,		/* the (new) name is taken */
	TEAM_NOT_FOUND,
	TEAM_IS_DEFAULT,	/* the default team can't be deleted or renamed */
	TEAM_NOT_MEMBER,	/* the person is not a member of the org */
	TEAM_UNCHANGED,		/* already in / not in the team */
};

struct team_info {
	char id[24];
	char name[40];
	size_t members;
};

int team_name_valid(const char *name);
/* Team id for a name (any case): 0 found, 1 no such team, -1 store failure. */
int team_resolve(struct store *s, const char *org_id, const char *name, char *id, size_t size);
int team_list(struct store *s, const char *org_id, struct team_info **out, size_t *n);
/* The same read as Lua: wk_team_list(teams key, prefix) -> {id, name, member
 * count, ...}; and its reply into team_list()'s sorted list (caller frees). */
#define TEAM_LIST_LUA \
	"local function wk_team_list(kteams, p)\n" \
	"  local out = {}\n" \
	"  local t = redis.call('HGETALL', kteams)\n" \
	"  for i = 1, #t, 2 do\n" \
	"    out[#out + 1] = t[i]\n" \
	"    out[#out + 1] = t[i + 1]\n" \
	"    out[#out + 1] = redis.call('SCARD', p .. 'team:' .. t[i])\n" \
	"  end\n" \
	"  return out\n" \
	"end\n"
void team_list_from_reply(const redisReply *r, struct team_info **out, size_t *n);
int team_create(struct store *s, const char *org_id, const char *actor, const char *platform,
		const char *name, int64_t now_ms);
int team_rename(struct store *s, const char *org_id, const char *actor, const char *platform,
		const char *name, const char *new_name, int64_t now_ms);
int team_delete(struct store *s, const char *org_id, const char *actor, const char *platform,
		const char *name, int64_t now_ms);
/* add != 0 adds member to the team, else removes. */
int team_member(struct store *s, const char *org_id, const char *actor, const char *platform,
		const char *name, const char *member, int add, int64_t now_ms);

#endif
