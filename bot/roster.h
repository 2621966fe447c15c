/* roster.h - the org's rotation: an ordered list of member ids in Redis
 * (wk:{org}:rotation:default). The rotation issue grows this into several
 * rotations per team; callers only see these functions.
 *
 * Thread: callers pass their own store. Errors: -1 = store failure, nothing
 * written. Every change is one atomic script with its audit entry. */
#ifndef WK_ROSTER_H
#define WK_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "bot/request.h"
#include "bot/store.h"

struct roster {
	char **ids;	/* owned; roster_free() */
	size_t n;
};

int roster_load(struct store *s, const char *org_id, struct roster *out);
void roster_free(struct roster *r);
/* Index of id in the roster, or -1. */
long roster_find(const struct roster *r, const char *id);

/* Append a member. *position is 1-based; it is the existing position and
 * *added = 0 when the user was already in it; *added = -1 when the user is not a
 * member of the org (invite them first). */
int roster_add(struct store *s, const char *org_id, enum platform p, const char *actor,
	       const char *user_id, int64_t now_ms, long *position, int *added);
/* Remove user; *removed = 0 when they were not in it. */
int roster_remove(struct store *s, const char *org_id, enum platform p, const char *actor,
		  const char *user_id, int64_t now_ms, int *removed);

#endif
