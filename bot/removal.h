/* removal.h - taking a person out of an org together with everything that
 * still points at them, so that nobody removed stays on call.
 *
 * One atomic step (one Lua script, with the role checks of member.h: admins
 * remove, the last owner can't be removed), which:
 *  - takes them out of every rotation of every team (active and paused),
 *    effective at each rotation's next handoff like any rotation edit, so the
 *    others' shifts don't move; a rotation they were the only active member
 *    of has nobody from now on;
 *  - hands the rest of each shift of theirs already under way (on call now,
 *    or later in a shift that has started, or through an override or swap
 *    running now) to the 1st backup of that shift, through an override made
 *    by the remover that replaces only them (the 2nd backup when the 1st is
 *    no member; when neither is, the reply says so and the time stays theirs
 *    until the handoff);
 *  - cancels their open swaps (requested, accepted) and the approved ones
 *    whose shifts have not started (their overrides go with them);
 *  - removes their overrides that have not started (one running now stays
 *    as history, the takeover covers its rest);
 *  - removes them from the org, its teams and indexes (member.h).
 * It is planned in C from one read of the schedule and checked in the script:
 * when a team, rotation or taker changed in between, nothing is written and
 * the plan is made again (a few times, then MEMBER_CONFLICT). Refused or
 * failed, nothing is half done.
 *
 * Once incidents exist, the removed person's open pages are reassigned by the
 * same rule: to the 1st backup of the shift they were paged for.
 *
 * removal_notify() then tells people, each through the outbox (exactly once):
 * every taker gets a DM, the other person of each cancelled swap is told.
 * Thread: callers pass their own store. */
#ifndef WK_REMOVAL_H
#define WK_REMOVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/member.h"
#include "bot/schedule.h"

struct removal_takeover {
	char team[SCHEDULE_ID_LEN];
	char rotation[40];		/* the rotation's name */
	char member[SCHEDULE_MEMBER_LEN];	/* who takes over; "": nobody can */
	int backup;			/* 1 or 2: which backup of the shift they are */
	char override_id[SCHEDULE_ID_LEN];
	int64_t start, end;		/* start == the removal's instant: on call now */
};

struct removal_override {	/* one removed */
	char team[SCHEDULE_ID_LEN];
	char id[SCHEDULE_ID_LEN];
	int64_t start, end;
};

struct removal {
	enum member_change change;	/* MEMBER_CHANGED, or why nothing was done */
	int64_t now;			/* the removal's instant (unix s) */
	char (*rotations)[128];	/* "`name`", "`name` (team T)", "... nobody left ...", taken out of */
	size_t nrotations;
	struct removal_takeover *takeovers;
	size_t ntakeovers;
	char (*swaps)[SCHEDULE_ID_LEN];	/* cancelled */
	size_t nswaps;
	struct removal_override *overrides;
	size_t noverrides;
	char (*teams)[SCHEDULE_ID_LEN];	/* teams whose schedule changed */
	size_t nteams;
};

/* 0 (out->change says what happened), -1 store failure (nothing written, or
 * the script's answer was lost). Free out with removal_free(). */
int removal_run(struct store *s, const char *org_id, const char *actor, const char *platform,
		const char *target, int64_t now_ms, struct removal *out);

/* After a removal: DMs to the takers and the other person of each cancelled
 * swap, and the changed teams' handoff timers moved. */
void removal_notify(struct store *s, const struct config *cfg, const char *org_id, const char *actor,
		    const char *target, const struct removal *rm);

void removal_free(struct removal *rm);

#endif
