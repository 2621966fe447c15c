/* schedule_cache.h - a worker's copies of the team schedules it loaded last.
 *
 * A bare `/oncall` shows a team's schedule. Reading it from Redis means the
 * rotations' JSON and every override, and parsing that JSON, on every request;
 * yet schedules change a few times a day. So a worker keeps the plans it
 * parsed, and the one round trip that runs the command (org_touch_preload)
 * checks its copy instead of reading the schedule again.
 *
 * Freshness: an entry's stamp is the org's audit tip hash (audit.h). Every
 * change to a rotation or an override is audited by the same script that makes
 * it, so any change, on any instance, moves the tip. The round trip sends the
 * stamp the worker holds; Redis answers "same" only when the tip still equals
 * it, and otherwise sends the schedule, which replaces the entry. Nothing is
 * served that Redis did not confirm in that same script. The tip is a hash
 * chain, so a flushed or restored Redis never repeats an old stamp for other
 * data. Orgs without audit entries yet have no stamp and are never cached.
 *
 * Thread: one cache per thread (each worker owns one); no locks.
 * Ownership: the cache owns its plans. schedule_cache_view() lends an entry's
 * rotations (and its built schedule) to a team_plan marked rotations_borrowed,
 * valid until the next schedule_cache_put() or schedule_cache_view() on the
 * same cache; team_plan_free() frees the rest. */
#ifndef WK_SCHEDULE_CACHE_H
#define WK_SCHEDULE_CACHE_H

#include "bot/schedule.h"

#include <stddef.h>
#include <stdint.h>

#define SCHEDULE_STAMP_LEN 65	/* a SHA-256 in hex, and its NUL */

struct schedule_cache;

/* A cache holding at most capacity teams (the least recently used goes). */
struct schedule_cache *schedule_cache_new(size_t capacity);
void schedule_cache_free(struct schedule_cache *c);	/* NULL is fine */

/* The entry of (org, team): its plan, with *stamp and *from (overrides that
 * ended before from are not in it); NULL when there is none. */
const struct team_plan *schedule_cache_get(struct schedule_cache *c, const char *org, const char *team,
					   const char **stamp, int64_t *from);

/* Keep plan (taken: *plan is emptied) as (org, team)'s entry under stamp,
 * loaded with every override that ends after from. Returns the kept plan. */
const struct team_plan *schedule_cache_put(struct schedule_cache *c, const char *org, const char *team,
					   const char *stamp, int64_t from, struct team_plan *plan);

/* The plan as a handler wants it: its rotations lent, and its overrides over
 * [from, to) copied, as schedule_load(from, to) would give them. When plan is
 * an entry of c (c may be NULL), the view also borrows the entry's schedule
 * around now (team_plan.built, kept and rebuilt in the entry), valid like the
 * rotations. */
void schedule_cache_view(struct schedule_cache *c, const struct team_plan *plan, int64_t now, int64_t from,
			 int64_t to, struct team_plan *out);

#endif
