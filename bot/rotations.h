/* rotations.h - creating and editing a team's rotations in Redis.
 *
 * An edit never rewrites the past: it appends a version (schedule.h) that takes
 * effect when the shift in progress ends, so whoever is on call stays on call
 * and the first new shift goes to the person after them in the new order.
 * Several edits before that handoff fold into that one pending version. A
 * rotation with nobody on call right now changes at once (and a version that
 * never had members is replaced, not kept). The one exception is priority
 * (rotations_edit_priority()): it applies from now on, by splitting the
 * version in force at now, so the past still keeps the priority it had.
 *
 * Each write is one script that checks the rotation's revision (optimistic
 * concurrency: two admins editing at once can't lose either change; the loser
 * re-reads and re-applies, up to a few times) and appends its audit entry.
 *
 * Keys (under wk:{org}:): rotation:<id> (JSON), team_rotations:<team> (set of
 * ids), rotation_names:<team> (hash lower-case name -> id), seq (ids "r<n>").
 * Thread: callers pass their own store. */
#ifndef WK_ROTATIONS_H
#define WK_ROTATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "bot/schedule.h"

enum rotations_result {
	ROT_OK = 0,
	ROT_NOT_FOUND,
	ROT_EXISTS,
	ROT_NOT_MEMBER,		/* the person is not a member of the org */
	ROT_ALREADY,		/* already in it / not in it */
	ROT_CONFLICT,		/* kept losing to concurrent edits */
	ROT_INVALID,		/* a spec the math refuses */
	ROT_STORE = -1,
};

/* The change an edit makes to the newest version, in place. Return 0 to
 * write, ROT_ALREADY when there is nothing to change, or another result. */
typedef int (*rotation_edit_fn)(struct rotation_version *v, void *arg);

/* Find a team's rotation by name (case-insensitive); NULL name = the team's only
 * (or first by schedule_rotation_order()) rotation. Fills *out (free with
 * rotation_plan_free). */
int rotations_find(struct store *s, const char *org_id, const char *team, const char *name,
		   struct rotation_plan *out);

/* spec->effective_from later than now means the rotation starts then. */
int rotations_create(struct store *s, const char *org_id, const char *actor, const char *platform,
		     const char *team, const char *name, const struct rotation_version *spec,
		     int priority, int64_t now, char *id, size_t idsize);

/* Apply fn to a copy of the newest version and write it as the version that
 * takes effect at the next handoff (see above). action names it in the audit
 * log ("rotation.add"), detail says what ("member:U1"); it is read after fn
 * ran, so fn may write it (a move records the position it really got). */
int rotations_edit(struct store *s, const char *org_id, const char *actor, const char *platform,
		   const char *team, const char *name, int64_t now, rotation_edit_fn fn, void *arg,
		   const char *action, const char *detail);

/* The same, and the rotation's priority (1..1000, lower first; 0 = keep)
 * from now on, in one write: a team lead re-ranking rotations means the
 * schedule from this moment, so it doesn't wait for a handoff. Shifts before
 * now keep the priority they had. fn may be NULL (priority only).
 * ROT_ALREADY when nothing would change. */
int rotations_edit_priority(struct store *s, const char *org_id, const char *actor, const char *platform,
			    const char *team, const char *name, int64_t now, int priority,
			    rotation_edit_fn fn, void *arg, const char *action, const char *detail);

/* What rotations_edit() would write, in memory only: fn's edit as the version
 * that takes effect at the next handoff, revision counted up. For a change
 * that lands in one script together with others (removing a person from every
 * rotation at once, removal.c, which checks the old revision itself). */
int rotations_next_version(struct rotation_plan *r, int64_t now, rotation_edit_fn fn, void *arg);

int rotations_delete(struct store *s, const char *org_id, const char *actor, const char *platform,
		     const char *team, const char *name, int64_t now);

/* The instant an edit made now would take effect (end of the shift in progress). */
int64_t rotations_effective(const struct rotation_plan *r, int64_t now);

/* Parsers for the rotation commands. 0 or -1 with a sentence in why. */
int rotations_parse_length(const char *s, enum rotation_unit *unit, int *length, char *why, size_t n);
/* "mon-fri 08:00-18:00", "sat,sun 00:00-24:00", "daily 18:00-08:00" */
int rotations_parse_window(const char *days, const char *hours, struct rotation_window *w,
			   char *why, size_t n);

#endif
