/* swap.h - shift swaps that peers accept and admins approve.
 *
 * A swap is a request about one future shift of the requester (a rotation
 * shift, or the time of an override they are on call through, which is how a
 * shift gained by a swap is passed on):
 *   trade  the peer takes the requester's shift, the requester takes the
 *          peer's next shift in return;
 *   cover  the peer takes the requester's shift, nothing back.
 *
 * States and who moves them (everything else is refused with the reason):
 *
 *   requested --peer accepts--> approved (policy "peer") | accepted (policy "admin")
 *   requested --peer declines--> declined
 *   accepted  --an admin approves--> approved;  --an admin rejects--> rejected
 *   requested/accepted --the requester (or an admin) cancels--> cancelled
 *   requested/accepted --time passes the deadline--> expired
 *   approved  --requester, peer or an admin undoes it before the shift starts--> undone
 *   approved  --an admin cancels--> cancelled
 *
 * Approval writes the overrides (source "swap", tied to the shift and to whom
 * they replace, so a later rotation change that moves the shift makes them
 * stop applying instead of putting the wrong person on call); undo and cancel
 * remove them. The deadline is the earlier of expire_s after the request and
 * the shift's start.
 *
 * Every transition is one Lua script that reads the state and the actor's role
 * and decides: two clicks at once, accept racing decline, a click after the
 * deadline or by someone else all get exactly one outcome.
 *
 * Keys (under wk:{org}:): swap:<id> (hash), swaps (sorted set by creation),
 * swap_shift:<rotation>:<shift index> (the open request for a shift),
 * settings (hash: swap_policy). Thread: caller's store. */
#ifndef WK_SWAP_H
#define WK_SWAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/reply.h"
#include "bot/schedule.h"

enum swap_kind { SWAP_TRADE, SWAP_COVER };

struct swap_shift {
	char rotation[SCHEDULE_ID_LEN];	/* the rotation; or the override ("o12", index 0)
					 * when the requester has the time through one */
	int64_t index, start, end;
};

struct swap {
	char id[SCHEDULE_ID_LEN];
	char team[SCHEDULE_ID_LEN];
	enum swap_kind kind;
	char requester[SCHEDULE_MEMBER_LEN], peer[SCHEDULE_MEMBER_LEN];
	struct swap_shift give;		/* the requester's shift */
	struct swap_shift take;		/* the peer's shift (trade only) */
	char state[16];
	char policy[8];			/* peer | admin, fixed at request time */
	char reason[128];
	int64_t created_ms, deadline;
	char decided_by[SCHEDULE_MEMBER_LEN];
};

enum swap_action { SWAP_ACCEPT, SWAP_DECLINE, SWAP_APPROVE, SWAP_REJECT, SWAP_CANCEL, SWAP_UNDO };

/* The outcome of a transition. */
enum swap_outcome {
	SWAP_DONE,		/* moved to the new state (struct swap has it) */
	SWAP_MISSING,		/* no such swap */
	SWAP_NOT_YOURS,		/* the actor may not do this one */
	SWAP_NEEDS_ADMIN,	/* only an admin may */
	SWAP_ALREADY,		/* it is no longer in a state that allows this (state says which) */
	SWAP_EXPIRED,		/* the deadline passed (it is expired now) */
	SWAP_STARTED,		/* an approved swap can't be undone once its shift started */
	SWAP_OWN_REQUEST,	/* an admin may not approve a swap they asked for or take part in */
};

/* "peer" (default) or "admin". */
int swap_policy_get(struct store *s, const char *org_id, char *policy, size_t size);
int swap_policy_set(struct store *s, const char *org_id, const char *actor, const char *platform,
		    const char *policy, int64_t now);

/* Create a request. 0 created (id in sw->id), 1 the peer is not a member,
 * 2 that shift already has an open request, -1 store. */
int swap_create(struct store *s, const char *org_id, const char *platform, struct swap *sw,
		int64_t now);

int swap_get(struct store *s, const char *org_id, const char *id, struct swap *out);	/* 0, 1 missing */

int swap_transition(struct store *s, const char *org_id, const char *id, enum swap_action action,
		    const char *actor, const char *platform, int64_t now, enum swap_outcome *outcome,
		    struct swap *after);

/* Open or recent swaps that involve member (or all, for admins): newest first, at most 20. */
int swap_list(struct store *s, const char *org_id, const char *member, bool all,
	      struct swap **out, size_t *n);

/* Who and which shift(s), for messages and next to buttons: "cover: <@b> takes
 * <@a>'s shift Mon 14 Dec 09:00–Tue 15 Dec 09:00" (a trade names both shifts).
 * Times in zone z. */
void swap_describe(const struct swap *sw, const struct tz *z, char *out, size_t size);

/* The buttons for the next step, labelled with the swap's id ("Accept s3",
 * "Approve s3") so that someone with several pending knows which one a button
 * answers: peer (Accept / Decline) or admin (Approve / Reject). */
enum swap_deciders { SWAP_BY_PEER, SWAP_BY_ADMIN };
void swap_add_buttons(struct reply *r, const struct swap *sw, enum swap_deciders who);

/* Tell the people a swap concerns what just happened (state), in DMs with the
 * buttons they need next: the peer for a request, admins for an approval, both
 * people for every other step they did not take themselves (actor; NULL = the
 * system, e.g. expiry). Times in each recipient's own zone when set. State
 * "removed": cancelled because the other person was removed (removal.h). */
void swap_notify(struct store *s, const struct config *cfg, const char *org_id,
		 const struct swap *sw, const char *state, const char *actor);

/* The durable timer that expires an unanswered request at its deadline and
 * tells both people (kind "swap_expire", run by the engine). */
int swap_arm_expiry(struct store *s, const char *org_id, const struct swap *sw);
struct engine_ctx;
int swap_expire_fire(struct engine_ctx *ctx);

/* After a rotation change: approved swaps whose shift moved (so their override
 * no longer applies) are marked stale and both people are told, once. */
void swap_check_stale(struct store *s, const struct config *cfg, const char *org_id,
		      const char *team, int64_t now);

#endif
