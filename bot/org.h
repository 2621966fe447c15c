/* org.h - orgs, members and roles in Redis.
 *
 * An org is one customer (a Slack workspace, a Teams tenant, the local
 * console). Its id is "<platform>:<external id>" (e.g. "slack:T0123"), which is
 * also the hash tag of all its keys: wk:{slack:T0123}:... The first user seen
 * in an org becomes its owner; later users become developers on first
 * contact (the invite issue replaces that with invitations).
 *
 * Thread: callers pass their own struct store. Errors: -1 means the store
 * failed (store_error() says why); nothing was written. */
#ifndef WK_ORG_H
#define WK_ORG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/request.h"
#include "bot/store.h"

enum role { ROLE_NONE = 0, ROLE_VIEWER, ROLE_DEVELOPER, ROLE_ADMIN, ROLE_OWNER };

const char *role_name(enum role r);
enum role role_parse(const char *name);	/* ROLE_NONE when unknown */

/* "<platform>:<external>" into out; -1 when the external id has characters other
 * than [A-Za-z0-9._-] or is empty or too long (ids end up inside key names). */
int org_id_make(enum platform p, const char *external, char *out, size_t size);

/* Whether a user id is acceptable as a member id: same alphabet, 1..63 bytes. */
bool org_member_id_valid(const char *id);

/* Ensure the org and this member exist (one atomic step); returns the member's
 * role and whether the org was created just now. */
int org_touch(struct store *s, const char *org_id, enum platform p, const char *external,
	      const char *user_id, int64_t now_ms, enum role *role, bool *org_created);

/* The member hash (wk:{org}:member:<id>) and members set (wk:{org}:members). */
int org_member_keys(const char *org_id, const char *user_id, char *kmember, size_t msize,
		    char *kmembers, size_t ssize);

/* A Lua fragment for scripts that must make sure a member exists, so every
 * script creates members the same way. It expects KEYS[1] = member hash,
 * KEYS[2] = members set, ARGV[1] = platform, ARGV[2] = user id, ARGV[3] = now
 * (ms), ARGV[4] = role for a new member, and leaves the member's role in the
 * Lua local `role`. */
#define ORG_MEMBER_ENSURE_LUA \
	"local role = redis.call('HGET', KEYS[1], 'role')\n" \
	"if not role then\n" \
	"  role = ARGV[4]\n" \
	"  redis.call('HSET', KEYS[1], 'role', role, 'platform', ARGV[1], 'chat_id', ARGV[2], 'created_ms', ARGV[3])\n" \
	"  redis.call('SADD', KEYS[2], ARGV[2])\n" \
	"end\n"

#endif
