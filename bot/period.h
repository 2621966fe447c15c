/* period.h - the period a report covers, as people type it: `[FROM] [TO]`,
 * dates YYYY-MM-DD read in a zone, TO inclusive. `/oncall report` and
 * `/incident report` both read theirs with these, so they agree on defaults,
 * limits and refusals.
 *
 *   no dates    the last PERIOD_DEFAULT_DAYS days up to now
 *   FROM        from FROM's local midnight up to now
 *   FROM TO     [FROM's local midnight, the local midnight after TO)
 * At most PERIOD_MAX_DAYS local days; TO before FROM and a FROM in the future
 * are refused with a sentence.
 *
 * Thread: pure; any thread. */
#ifndef WK_PERIOD_H
#define WK_PERIOD_H

#include <stdint.h>

#include "bot/reply.h"
#include "bot/tz.h"

#define PERIOD_DEFAULT_DAYS 30
#define PERIOD_MAX_DAYS 366

struct period {
	int n;			/* dates given: 0, 1 or 2 */
	int y[2], m[2], d[2];
};

/* Strict YYYY-MM-DD, a real date in years 1970..9999. 0 or -1. */
int period_parse_date(const char *s, int *year, int *month, int *day);

/* Read argv[0..argc) as the dates. 0, or -1 with the refusal in r ("Usage:
 * `<usage> [FROM] [TO]` ... (for example `<example> 2026-01-01 2026-01-31`)",
 * or the end before the start). */
int period_parse(int argc, char **argv, const char *usage, const char *example, struct period *p,
		 struct reply *r);

/* Seconds a little wider than the period, for loading before the zone is
 * known: a day either side of the dates; the defaults as above. */
void period_bounds(const struct period *p, int64_t now, int64_t *lo, int64_t *hi);

/* The period in z, in seconds. 0, or -1 with the refusal in r (a start in
 * the future, more than PERIOD_MAX_DAYS local days). */
int period_resolve(const struct period *p, const struct tz *z, int64_t now, int64_t *from, int64_t *to,
		   struct reply *r);

#endif
