/* overrides.h - replacing the on-call person for a span, by an admin or by an
 * approved swap. Overrides sit on top of the rotations (schedule.h), each on
 * top of the older ones; a swap's override names whom it replaces and applies
 * only while that person is the one on call beneath it (by the rotation or by
 * an older override: a swap can pass on hours someone got by an override).
 *
 * Keys (under wk:{org}:): overrides:<team> (sorted set of ids by end instant, so
 * loading a window skips the past cheaply), override:<id> (hash). Ids "o<n>".
 * Each change is one script with its audit entry. Thread: caller's store. */
#ifndef WK_OVERRIDES_H
#define WK_OVERRIDES_H

#include <stddef.h>
#include <stdint.h>

#include "bot/schedule.h"

/* 0 created (id filled), 1 the member is not a member of the org, -1 store. */
int overrides_create(struct store *s, const char *org_id, const char *actor, const char *platform,
		     const char *team, const struct override_def *o, int64_t now, char *id,
		     size_t idsize);

/* 0 removed, 1 no such override in that team, -1 store; 2 refused, nothing
 * written: an approved swap made it (its id in swap_id). Taking away one of a
 * swap's overrides would leave the swap "approved" but half applied (a trade
 * has two), so the swap is taken back as a whole instead: swap undo/cancel. */
int overrides_remove(struct store *s, const char *org_id, const char *actor, const char *platform,
		     const char *team, const char *id, int64_t now, char *swap_id, size_t swap_size);

#endif
