/* period.c - see period.h */
#include "bot/period.h"

#include <inttypes.h>
#include <string.h>

int period_parse_date(const char *s, int *year, int *month, int *day)
{
	int v[3] = { 0, 0, 0 };
	static const int width[3] = { 4, 2, 2 };
	const char *p = s;

	for (int f = 0; f < 3; f++) {
		for (int i = 0; i < width[f]; i++, p++) {
			if (*p < '0' || *p > '9')
				return -1;
			v[f] = v[f] * 10 + (*p - '0');
		}
		if (f < 2 && *p++ != '-')
			return -1;
	}
	if (*p || v[0] < 1970 || v[0] > 9999 || v[1] < 1 || v[1] > 12 ||
	    v[2] < 1 || v[2] > tz_days_in_month(v[0], v[1]))
		return -1;
	*year = v[0];
	*month = v[1];
	*day = v[2];
	return 0;
}

int period_parse(int argc, char **argv, const char *usage, const char *example, struct period *p,
		 struct reply *r)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < argc; i++) {
		if (p->n == 2 || period_parse_date(argv[i], &p->y[p->n], &p->m[p->n], &p->d[p->n]) < 0) {
			reply_textf(r, "Usage: `%s [FROM] [TO]` with dates as YYYY-MM-DD (for example `%s "
				       "2026-01-01 2026-01-31`).", usage, example);
			return -1;
		}
		p->n++;
	}
	if (p->n == 2 &&
	    tz_days_from_civil(p->y[1], p->m[1], p->d[1]) < tz_days_from_civil(p->y[0], p->m[0], p->d[0])) {
		reply_textf(r, "The report's end date comes before its start date.");
		return -1;
	}
	return 0;
}

void period_bounds(const struct period *p, int64_t now, int64_t *lo, int64_t *hi)
{
	/* A little more than the period in UTC days: local dates begin and end
	 * within a day of their UTC ones. */
	if (p->n) {
		*lo = (tz_days_from_civil(p->y[0], p->m[0], p->d[0]) - 1) * 86400;
		*hi = p->n == 2 ? (tz_days_from_civil(p->y[1], p->m[1], p->d[1]) + 2) * 86400 : now;
		if (*hi <= *lo)
			*hi = *lo + 1;
	} else {
		*lo = now - PERIOD_DEFAULT_DAYS * INT64_C(86400);
		*hi = now;
	}
}

int period_resolve(const struct period *p, const struct tz *z, int64_t now, int64_t *from, int64_t *to,
		   struct reply *r)
{
	struct tz_local last;
	int64_t days;

	if (p->n) {
		*from = tz_from_local(z, p->y[0], p->m[0], p->d[0], 0, 0, 0);
		*to = p->n == 2 ? tz_from_local(z, p->y[1], p->m[1], p->d[1] + 1, 0, 0, 0) : now;
	} else {
		period_bounds(p, now, from, to);
	}
	if (*from >= *to) {
		reply_textf(r, "The report's start date is in the future; give an end date too, or an earlier start.");
		return -1;
	}
	tz_to_local(z, *to - 1, &last);
	days = tz_days_from_civil(last.year, last.month, last.day) -
	       (p->n ? tz_days_from_civil(p->y[0], p->m[0], p->d[0]) : 0) + 1;
	if (p->n && days > PERIOD_MAX_DAYS) {
		reply_textf(r, "A report covers at most %d days; this one asks for %" PRId64 ".", PERIOD_MAX_DAYS,
			    days);
		return -1;
	}
	return 0;
}
