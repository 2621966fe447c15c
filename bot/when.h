/* when.h - instants people type: strict, but human.
 *
 *   2026-12-24 08:00   a date and a 24-hour time
 *   2026-12-24         that date at 00:00
 *   today 18:00        tomorrow 09:00        tomorrow (= tomorrow 00:00)
 *   now                +48h  +2d  +90m  +1w (after `base`: now, or the start for an end)
 *
 * Wall times are read in the given zone (the member's or the team's). A wall
 * time that happens twice (the hour repeated when clocks go back) or not at all
 * (skipped when they go forward) is refused with a sentence and an example,
 * never guessed. Anything else ("12/24", "8am", "noon") is refused with an
 * example of what works.
 *
 * A typo of a word or unit ("tomorow", "+2hrs") is refused with "did you mean
 * `tomorrow`?", never read as something else.
 *
 * when_parse consumes one or two arguments and says how many. Thread-safe. */
#ifndef WK_WHEN_H
#define WK_WHEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/tz.h"

/* Returns the number of argv entries used (1 or 2), or -1 with why filled. */
int when_parse(const struct tz *zone, int64_t now, int64_t base, int argc, char **argv,
	       int64_t *out, char *why, size_t whysize);

/* when_parse with flags. WHEN_NEED_TIME: a day without a time of day
 * ("tomorrow", "2026-12-24") is refused with an example instead of meaning
 * 00:00, for ranges where midnight would be a guess (an override's FROM/TO). */
#define WHEN_NEED_TIME 1u
int when_parse_flags(const struct tz *zone, int64_t now, int64_t base, int argc, char **argv,
		     unsigned flags, int64_t *out, char *why, size_t whysize);

/* The one way every reply, DM and log line shown to people prints an instant:
 * "Mon 30 Nov 09:00 CET" in zone, with the year ("Mon 4 Jan 2027 09:00 CET")
 * only when it is not the current year in that zone. when_format_at takes
 * "now" from the caller (tests); when_format reads the clock. */
const char *when_format(const struct tz *zone, int64_t t, char *out, size_t size);
const char *when_format_at(const struct tz *zone, int64_t t, int64_t now, char *out, size_t size);

/* The zone to show a person times in: the named zone (theirs, else their
 * org's, see org_touch) when it loads, else fallback (the configured rotation
 * zone). Never NULL when fallback isn't. */
const struct tz *when_zone(const char *name, const struct tz *fallback);

/* A weekly handoff as people write it, in chat and in the configuration alike:
 * "mon 09:00", "Monday 09:00" or, when weekday_optional, just "09:00" (then
 * *wday = -1). Takes argv tokens; returns how many it used (1 or 2), or -1
 * with a sentence in why. */
int when_parse_handoff(int argc, char **argv, bool weekday_optional, int *wday, int *hour,
		       int *minute, char *why, size_t whysize);

#endif
