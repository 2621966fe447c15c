/* rotation.h - who is on call at an instant: shift arithmetic for a rotation.
 *
 * A rotation hands over at a local wall time in its IANA zone, every `length`
 * units, turning through its members circularly. Shift 0 starts at the
 * handoff time on the start date; shift k is the k-th after it (negative k
 * before it), and its member is k mod n, always in 0..n-1.
 *
 * Units:
 * - ROTATION_DAYS and ROTATION_WEEKS are calendar based: shift k starts at
 *   the handoff wall time on (start date + k*length days, *7 for weeks), so
 *   09:00 stays 09:00 local across DST. A shift that spans a DST change is
 *   one hour shorter or longer: 23/25 h for a day, 167/169 h for a week.
 * - ROTATION_HOURS is absolute: shift k starts at
 *   tz_from_local(start date, handoff) + k*length*3600. A 48 h shift lasts
 *   exactly 172800 s across DST, and so the wall-clock handoff time drifts by
 *   an hour after each DST change (09:00 becomes 10:00 or 08:00 local).
 * - Wall times are resolved with tz_from_local(): a handoff that falls in a
 *   spring-forward gap moves forward by the gap (02:30 -> 03:30), one that
 *   occurs twice at fall-back happens at the first occurrence.
 * - A calendar shift can be empty in the rare zone that skipped a whole day
 *   (Pacific/Apia, 2011-12-30); rotation_shift_at() never returns an empty
 *   shift, rotation_shift_by_index() may (start == end).
 *
 * Limits (checked by rotation_spec_validate()): zone set; start date a real
 * date in years 1970..9999; handoff 00:00..23:59; length 1..8784 hours,
 * 1..366 days or 1..52 weeks. Shifts are computed for instants within
 * TZ_TIME_MIN..TZ_TIME_MAX (years 1..9999); outside that the calls fail.
 *
 * Cost: O(1) per call (a few zone lookups), no allocation, no loop over
 * shifts. Thread-safety: pure functions of their arguments; any thread. */
#ifndef WK_ROTATION_H
#define WK_ROTATION_H

#include <stddef.h>
#include <stdint.h>

#include "bot/tz.h"

enum rotation_unit { ROTATION_HOURS, ROTATION_DAYS, ROTATION_WEEKS };

struct rotation_spec {
	const struct tz *zone;			/* from tz_get(), not owned */
	int start_year, start_month, start_day;	/* local date of shift 0 */
	int handoff_hour, handoff_minute;	/* local handoff time */
	enum rotation_unit unit;
	int length;				/* units per shift, e.g. WEEKS, 1 */
};

struct shift {
	int64_t start, end;	/* UTC unix seconds, [start, end) */
	int64_t index;		/* shift number since shift 0; negative before */
	size_t member;		/* index into the member list: index mod n, >= 0 */
};

/* The shift in force at UTC instant t. Returns 0 and fills *out, or -1 when
 * n_members is 0, the spec is invalid or t is out of range. */
int rotation_shift_at(const struct rotation_spec *r, size_t n_members, int64_t t,
		      struct shift *out);

/* Shift number `index` (0 = the first, negative = before it). Returns 0 and
 * fills *out, or -1 like rotation_shift_at() or when the shift would fall
 * outside years 1..9999. */
int rotation_shift_by_index(const struct rotation_spec *r, size_t n_members,
			    int64_t index, struct shift *out);

/* 0 when the spec is usable; else -1 with a human-readable reason such as
 * "handoff_hour must be 0..23" written to why (when why_size > 0). */
int rotation_spec_validate(const struct rotation_spec *r, char *why, size_t why_size);

/* "monday".."sunday" or "mon".."sun", any case. Returns 0 = Sunday ..
 * 6 = Saturday (the numbering of struct tz_local.wday), -1 otherwise. */
int rotation_weekday_parse(const char *name);

/* Strict "HH:MM", 00:00..23:59, exactly five characters. Returns 0 and sets
 * *h and *m, or -1 leaving them untouched. */
int rotation_hhmm_parse(const char *s, int *h, int *m);

#endif
