/* org.h - orgs and their members in Redis.
 *
 * An org is one customer (a Slack workspace, a Teams tenant, the local
 * console). Its id is "<platform>:<external id>" (e.g. "slack:T0123"), which is
 * also the hash tag of all its keys. Keys (all under wk:{<org>}:):
 *   org                 hash: id platform external_id owner created_ms mode(solo|team) suspended
 *                       tz phone_region (settings admins change, see org_settings)
 *   members             set of member ids
 *   owners              set of member ids whose role is owner (counted atomically)
 *   member:<id>         hash: role platform chat_id created_ms name email phone tz notify
 *                       placeholder(1) github left_github(1) invited_by
 *   invited_emails      hash: lower-case email -> placeholder id, until claimed
 *   github              hash: github login -> member id
 *   teams               hash: team id -> name;  team:<id>  set of member ids
 *   replay:<minute>     set: one-delivery ids of signed requests whose window
 *                       ends in that minute (expires at its end)
 *   replay:<id>         string "1": a delivery whose window is counted from its
 *                       arrival ran (expires when that window ends)
 * A member id is the chat user id for people seen in chat, "p-<hex>" for a
 * placeholder (an invited person not yet seen in chat).
 *
 * The first user seen in an org creates it, in solo mode, as its owner. Nobody
 * else becomes a member except through an invite (bot/invite.h).
 *
 * Thread: callers pass their own store. Errors: -1 = the store failed, nothing
 * written. */
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

/* Whether an id is acceptable as a member id: [A-Za-z0-9._-], 1..63 bytes. */
bool org_member_id_valid(const char *id);

/* "wk:{org}:" + printf-style suffix into out; -1 when it doesn't fit. */
int org_key(char *out, size_t size, const char *org_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct org_view {
	bool created;		/* by this call */
	bool team_mode;		/* false: solo */
	bool suspended;
	enum role role;		/* the caller's; ROLE_NONE when not a member */
	bool has_email_placeholders;	/* someone invited by email is not claimed yet */
	char tz[64];		/* the zone the caller reads times in: their own, else the
				 * org's (org_settings), "" when neither is set */
	char member[64];	/* the caller's member id: user_id, or the member it is an
				 * alias of (a Teams user matched to a Slack member) */
	char linked_to[96];	/* ORG_LINKED: the org this one is linked to */
};

/* The replay record of a request (org_touch_preload()). id (may be NULL or
 * ""): the request's one-delivery id, a SHA-256 in hex (a signature or a
 * digest); ttl_ms: how long from now it must be remembered; own_key: see
 * request.h's replay_own_key. */
struct org_replay {
	const char *id;
	int64_t ttl_ms;
	bool own_key;
};
/* What org_touch_preload() reads of a team's schedule in the same round trip
 * (the hot path: `/oncall` costs one). */
struct org_preload {
	const char *team;
	int64_t from_s;
	const char *stamp;	/* the caller's cached copy's stamp, or NULL/"" (schedule_cache.h) */
	/* Out: the schedule reply (the caller frees it), or same = true when the
	 * org's audit tip still equals stamp; tip = that tip ("" without one). */
	redisReply *plan;
	bool same;
	char tip[65];
};
/* Create the org on first contact (caller becomes owner; its platform and
 * external id come from org_id, see org_id_make()), then report the caller's
 * standing. One atomic step (one round trip); the Lua script is "org_touch".
 *
 * replay (may be NULL): in the same step, before anything else, the first
 * ORG_REPLAY_ID_LEN digits of replay->id are added to the set
 * wk:{org}:replay:<minute> of the minute replay->ttl_ms ends in (the set
 * expires at that minute's end, and also holds "", which marks it as already
 * given its expiry); when they were there already the request is a replay:
 * nothing is written and ORG_REPLAYED is returned (out untouched). 128 bits
 * keep a collision out of reach at any request rate, and half the digits halve
 * what the set costs Redis per request (memory, hashing) on the hot path. With
 * replay->own_key the id is instead the key wk:{org}:replay:<id> (SET NX,
 * expiring ttl_ms from now): its window's end differs between deliveries.
 * A Teams tenant linked to an existing org (org_link_redeem()) holds nothing
 * but that link: then ORG_LINKED, with the org in out->linked_to, and the
 * caller runs the request there. A caller who is not a member but an alias
 * (wk:{org}:aliases, user -> member) stands as that member (out->member).
 * platform (the request's) becomes the member's when it differs: "chat"
 * reaches a person on both platforms where they wrote last.
 * pre (may be NULL): pre->team and pre->from_s are read; on 0, pre->plan
 * holds what schedule_from_reply() reads (caller frees it).
 * Returns 0, ORG_REPLAYED, ORG_LINKED, or -1 when the store failed. */
#define ORG_REPLAY_ID_LEN 32
#define ORG_REPLAYED 1
#define ORG_LINKED 2
int org_touch_preload(struct store *s, const char *org_id, const char *user_id, const char *platform,
		      const struct org_replay *replay, int64_t now_ms, struct org_view *out,
		      struct org_preload *pre);

/* org_touch_preload() in its halves, for the loop thread's pipelined
 * connection (bot/store_pipe.h), which sends the script itself:
 * org_touch_prepare() fills t (keys and arguments of org_touch_script; -1 when
 * a key does not fit) and resets pre's outputs; org_touch_read() reads the
 * script's reply (which it frees; NULL = no answer) into out and pre and
 * returns what org_touch_preload() returns. A caller of the halves whose org
 * was created (out->created) still owes org_index_add(). */
struct org_touch_call {
	char k[3][192], now[24], expires[24], from[24], replay[ORG_REPLAY_ID_LEN + 1];
	const char *keys[3], *args[8];
	int nkeys, nargs;
};
extern const struct store_script org_touch_script;
int org_touch_prepare(struct org_touch_call *t, const char *org_id, const char *user_id, const char *platform,
		      const struct org_replay *replay, int64_t now_ms, struct org_preload *pre);
int org_touch_read(redisReply *r, struct org_view *out, struct org_preload *pre);
/* A new org into the operators' index wk:orgs (one round trip, outside the
 * org's slot), logged as created by owner. */
void org_index_add(struct store *s, const char *org_id, const char *owner);

/* Switch a solo org to team mode (owner only, checked inside). Returns 0 done,
 * 1 already in team mode, 2 actor not an owner, -1 store failure. */
int org_enable_team_mode(struct store *s, const char *org_id, const char *actor,
			 const char *platform, int64_t now_ms);

/* Org-wide settings an admin sets (`/oncall org ...`), stored in the org hash.
 * "" means not set: tz then falls back to the configured rotation zone, and a
 * phone number without + is refused (no region to read it in). */
struct org_settings {
	char tz[64];		/* IANA zone for people without their own */
	char phone_region[8];	/* ISO 3166 code, upper case, e.g. "US" */
};
/* 0 read (missing fields ""), -1 store failure. */
int org_settings_get(struct store *s, const char *org_id, struct org_settings *out);
enum org_setting { ORG_SETTING_TZ, ORG_SETTING_PHONE_REGION };
/* Set one (value "" clears it), with its audit entry ("org.tz"), in one
 * atomic step. The value is already validated. 0 changed, 1 already so,
 * -1 store failure. */
int org_setting_set(struct store *s, const char *org_id, enum org_setting which, const char *value,
		    const char *actor, const char *platform, int64_t now_ms);

/* The zone to show member_id times in outside a command (DMs, handoffs): their
 * own, else the org's, else fallback. Two reads at most; fallback on a store
 * failure too (a DM is still worth sending). */
struct tz;
const struct tz *org_zone_for(struct store *s, const char *org_id, const char *member_id,
			      const struct tz *fallback);

/* Run a read-only script whose KEYS[1] is wk:{org}:<suffix> and ARGV[1] the
 * org's key prefix "wk:{org}:" (for keys it derives, all in the org's slot).
 * Returns the reply when it is an array (caller frees), else NULL. */
redisReply *org_list_script(struct store *s, const struct store_script *script,
			    const char *org_id, const char *suffix);

/* Member hash and members set, for scripts. */
int org_member_keys(const char *org_id, const char *user_id, char *kmember, size_t msize,
		    char *kmembers, size_t ssize);

#endif
