/* schedule.h - a team's final schedule: its rotations by priority, with
 * overrides (admin-made, or made by approved swaps) on top.
 *
 * Two layers. The pure layer works on a struct team_plan already in memory and
 * never touches Redis, so it is what the benchmark and unit tests drive and what
 * the engine, reports and feeds call after one load:
 *
 *   schedule_build()  the segments of [from, to): who is on call, from what
 *   schedule_chain()  primary, secondary, tertiary at one instant
 *
 * The store layer loads a plan (schedule_load()) with one Lua script.
 *
 * Rotations change over time without rewriting the past: a rotation is a list
 * of versions, each effective from an instant. An edit appends a version that
 * takes effect at the end of the shift in progress (so whoever is on call stays
 * on call), and whose first shift goes to the member after them in the new
 * order. Past shifts keep being computed from the versions that were in force,
 * so reports about the past don't change.
 *
 * Restrictions: a rotation may be limited to weekly windows in its zone (e.g.
 * Mon-Fri 08:00-18:00); outside them it has nobody, and a lower-priority
 * rotation (e.g. after-hours) covers. Priority: lower number wins; between
 * equal priorities the rotation made first wins (schedule_rotation_order()).
 * Priority is kept per version, so a priority change can take effect at once
 * without changing who was on call before it (rotations_edit_priority()).
 *
 * All instants are UTC unix seconds; ranges are [start, end).
 * Thread: pure functions are thread-safe; the store layer uses the caller's store. */
#ifndef WK_SCHEDULE_H
#define WK_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/rotation.h"
#include "bot/store.h"

#define SCHEDULE_ID_LEN 24
#define SCHEDULE_MEMBER_LEN 64

struct rotation_window {
	uint8_t days;		/* bit d set = the window opens on weekday d (0 = Sunday) */
	int start_min;		/* local minutes after midnight, 0..1439 */
	int end_min;		/* 1..1440; end <= start means it runs past midnight */
};

struct rotation_version {
	int64_t effective_from;	/* this version rules from here until the next one */
	struct rotation_spec spec;	/* spec.zone from tz_get(tz) */
	char tz[64];
	char **members;		/* member ids in order, owned: the active ones */
	size_t nmembers;
	char **paused;		/* deactivated members, "<position>:<id>", skipped by the math */
	size_t npaused;
	size_t first_member;	/* member of the grid shift that contains effective_from */
	struct rotation_window *windows;	/* none = always */
	size_t nwindows;
	int priority;		/* 1..1000 while this version rules; 0 = the rotation's */
};

struct rotation_plan {
	char id[SCHEDULE_ID_LEN];
	char name[40];
	char team[SCHEDULE_ID_LEN];
	int priority;		/* the newest version's: what lists show */
	int64_t rev;		/* optimistic-concurrency revision in Redis */
	struct rotation_version *versions;	/* sorted by effective_from */
	size_t nversions;
};

enum segment_source { SEGMENT_ROTATION, SEGMENT_OVERRIDE, SEGMENT_SWAP };

struct override_def {
	char id[SCHEDULE_ID_LEN];
	int64_t start, end;
	char member[SCHEDULE_MEMBER_LEN];	/* who is on call instead */
	char replaces[SCHEDULE_MEMBER_LEN];	/* whose time it takes, "" = whoever */
	enum segment_source source;		/* SEGMENT_OVERRIDE or SEGMENT_SWAP */
	char swap_id[SCHEDULE_ID_LEN];
	char reason[128];
	char created_by[SCHEDULE_MEMBER_LEN];
	/* For SEGMENT_SWAP, read from the swap itself by schedule_load(): who asked
	 * for it, their reason, "trade" or "cover" ("" when the swap is gone). */
	char swap_requester[SCHEDULE_MEMBER_LEN];
	char swap_reason[128];
	char swap_kind[8];
};

struct team_plan {
	char team[SCHEDULE_ID_LEN];
	struct rotation_plan *rotations;	/* any order; priority decides */
	size_t nrotations;
	struct override_def *overrides;
	size_t noverrides;
	bool rotations_borrowed;	/* lent by a schedule_cache: team_plan_free() leaves them */
	/* Optional, lent with the rotations (schedule_cache.h): this plan's schedule
	 * over [built_from, built_to), which schedule_chain() reads instead of
	 * building one when the segment it looks for lies inside. */
	const struct schedule *built;
	int64_t built_from, built_to;
};

struct segment {
	int64_t start, end;
	char member[SCHEDULE_MEMBER_LEN];	/* "" = nobody */
	enum segment_source source;
	char rotation[SCHEDULE_ID_LEN];	/* the rotation underneath (even when overridden) */
	int64_t shift_index;		/* the rotation shift's grid index, for stable ids */
	int64_t shift_start, shift_end;	/* the whole rotation shift this piece belongs to */
	char override_id[SCHEDULE_ID_LEN];	/* for SEGMENT_OVERRIDE / SEGMENT_SWAP */
};

struct schedule {
	struct segment *seg;	/* sorted, non-overlapping, adjacent equal pieces merged */
	size_t n;
};

struct oncall_chain {
	char primary[SCHEDULE_MEMBER_LEN];	/* "" when nobody is on call */
	char secondary[SCHEDULE_MEMBER_LEN];	/* previous in the rotation, "" if none */
	char tertiary[SCHEDULE_MEMBER_LEN];	/* the one before, "" if none */
	int64_t since, until;		/* the primary's current segment */
	char rotation[SCHEDULE_ID_LEN];
};

/* The final schedule of [from, to). Gaps (nobody on call) are segments with an
 * empty member. 0, or -1 on a bad range or allocation limit. */
int schedule_build(const struct team_plan *p, int64_t from, int64_t to, struct schedule *out);
void schedule_free(struct schedule *s);

/* Who is on call at t and who backs them up. 0, 1 = nobody on call. */
int schedule_chain(const struct team_plan *p, int64_t t, struct oncall_chain *out);

/* Rotations in the order the schedule ranks them (now): priority, then the
 * one made first. A qsort comparator over struct rotation_plan. */
int schedule_rotation_order(const void *a, const void *b);

/* Whether rotation p->rotations[idx] is fully hidden over [from, to): it
 * would have someone on call (or would, once it has members) at some time
 * there, but every such hour goes to rotations ranked before it. Those are
 * written to by[] (up to maxby, indexes into p->rotations; *nby how many).
 * Overrides are not counted: they don't take a rotation's hours for good.
 * 1 hidden, 0 not, -1 on a bad range or allocation limit. */
int schedule_hidden(const struct team_plan *p, size_t idx, int64_t from, int64_t to, size_t *by,
		    size_t maxby, size_t *nby);

/* The index into v->members of the person whose grid shift of v contains t
 * (windows aside; v's span not checked), or -1 when v has nobody or t is out
 * of range. */
long schedule_version_member(const struct rotation_version *v, int64_t t);

/* The grid shift of one rotation version at t (ignoring windows); -1 if none. */
int schedule_version_at(const struct rotation_plan *r, int64_t t, const struct rotation_version **v,
			struct shift *sh);

/* Rotations as stored in Redis (wk:{org}:rotation:<id>, a JSON text with a
 * revision number; wk:{org}:team_rotations:<team> lists a team's ids). */
int rotation_plan_from_json(const char *text, size_t len, struct rotation_plan *r);
char *rotation_plan_to_json(const struct rotation_plan *r);	/* caller frees */
void rotation_plan_free(struct rotation_plan *r);
void rotation_version_free(struct rotation_version *v);	/* its members and windows */
const char *schedule_unit_name(enum rotation_unit u);

/* Load the team's rotations and the overrides that end after `from` (and start
 * before `to`). -1 on store failure. */
int schedule_load(struct store *s, const char *org_id, const char *team_id, int64_t from,
		  int64_t to, struct team_plan *out);
/* The same read as Lua, for a script that loads a team's schedule along with
 * other work (org_touch's preload, one round trip per /oncall):
 *   wk_schedule_load(prefix, team, from) -> {rotation JSON texts, override hashes
 *   ending after from} (an override a swap made carries the swap's requester,
 *   reason and kind too: calendars show who asked and why)
 * and its reply into a plan, as schedule_load() does. 0 or -1. */
#define SCHEDULE_LOAD_LUA \
	"local function wk_schedule_load(p, team, from)\n" \
	"  local rots, ovs = {}, {}\n" \
	"  for _, rid in ipairs(redis.call('SMEMBERS', p .. 'team_rotations:' .. team)) do\n" \
	"    local j = redis.call('GET', p .. 'rotation:' .. rid)\n" \
	"    if j then rots[#rots + 1] = j end\n" \
	"  end\n" \
	"  for _, oid in ipairs(redis.call('ZRANGEBYSCORE', p .. 'overrides:' .. team, '(' .. from, '+inf')) do\n" \
	"    local h = redis.call('HGETALL', p .. 'override:' .. oid)\n" \
	"    local sid\n" \
	"    for i = 1, #h, 2 do if h[i] == 'swap_id' then sid = h[i + 1] end end\n" \
	"    if sid and sid ~= '' then\n" \
	"      local w = redis.call('HMGET', p .. 'swap:' .. sid, 'requester', 'reason', 'kind')\n" \
	"      h[#h + 1] = 'swap_requester'; h[#h + 1] = w[1] or ''\n" \
	"      h[#h + 1] = 'swap_reason'; h[#h + 1] = w[2] or ''\n" \
	"      h[#h + 1] = 'swap_kind'; h[#h + 1] = w[3] or ''\n" \
	"    end\n" \
	"    if #h > 0 then ovs[#ovs + 1] = h end\n" \
	"  end\n" \
	"  return {rots, ovs}\n" \
	"end\n"
int schedule_from_reply(const redisReply *r, const char *team_id, int64_t from, int64_t to, struct team_plan *out);
void team_plan_free(struct team_plan *p);

#endif
