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
 * when_parse consumes one or two arguments and says how many. Thread-safe. */
#ifndef WK_WHEN_H
#define WK_WHEN_H

#include <stddef.h>
#include <stdint.h>

#include "bot/tz.h"

/* Returns the number of argv entries used (1 or 2), or -1 with why filled. */
int when_parse(const struct tz *zone, int64_t now, int64_t base, int argc, char **argv,
	       int64_t *out, char *why, size_t whysize);

/* "Mon 30 Nov 09:00 CET" in zone. */
const char *when_format(const struct tz *zone, int64_t t, char *out, size_t size);

#endif
