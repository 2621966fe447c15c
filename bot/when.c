/* when.c - see when.h */
#include "bot/when.h"
#include "bot/rotation.h"
#include "bot/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define EXAMPLES "for example `2026-12-24 08:00`, `today 18:00`, `tomorrow 09:00` or `+48h`"

const char *when_format(const struct tz *zone, int64_t t, char *out, size_t size)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tz_local l;

	tz_to_local(zone, t, &l);
	snprintf(out, size, "%s %d %s %02d:%02d %s", wd[l.wday], l.day, mon[l.month - 1], l.hour,
		 l.minute, l.abbr);
	return out;
}

static int parse_date(const char *s, int *y, int *m, int *d)
{
	int64_t v;
	char buf[8];

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	memcpy(buf, s, 4);
	buf[4] = '\0';
	if (!wk_parse_i64(buf, 1970, 9999, &v))
		return -1;
	*y = (int)v;
	memcpy(buf, s + 5, 2);
	buf[2] = '\0';
	if (!wk_parse_i64(buf, 1, 12, &v))
		return -1;
	*m = (int)v;
	memcpy(buf, s + 8, 2);
	if (!wk_parse_i64(buf, 1, tz_days_in_month(*y, *m), &v))
		return -1;
	*d = (int)v;
	return 0;
}

/* Resolve a wall time, refusing the ones that don't exist or exist twice. */
static int wall_time(const struct tz *zone, int y, int m, int d, int hh, int mm, int64_t *out,
		     char *why, size_t whysize)
{
	struct tz_local l;
	int64_t t = tz_from_local(zone, y, m, d, hh, mm, 0);

	tz_to_local(zone, t, &l);
	if (l.year != y || l.month != m || l.day != d || l.hour != hh || l.minute != mm) {
		snprintf(why, whysize, "%04d-%02d-%02d %02d:%02d does not exist in %s (the clocks "
			 "skip it); pick another time, " EXAMPLES, y, m, d, hh, mm, tz_name(zone));
		return -1;
	}
	/* The same wall time an offset-change later means it happens twice. */
	for (int64_t shift = 1800; shift <= 7200; shift += 1800) {
		struct tz_local later;
		tz_to_local(zone, t + shift, &later);
		if (later.year == y && later.month == m && later.day == d && later.hour == hh &&
		    later.minute == mm) {
			snprintf(why, whysize, "%04d-%02d-%02d %02d:%02d happens twice in %s (the clocks "
				 "go back); pick another time, " EXAMPLES, y, m, d, hh, mm, tz_name(zone));
			return -1;
		}
	}
	*out = t;
	return 0;
}

static int parse_relative(const char *s, int64_t base, int64_t *out)
{
	size_t n = strlen(s);
	char num[12];
	int64_t v, unit;

	if (n < 3 || s[0] != '+' || n - 2 >= sizeof(num))
		return -1;
	switch (s[n - 1]) {
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -1;
	}
	memcpy(num, s + 1, n - 2);
	num[n - 2] = '\0';
	if (!wk_parse_i64(num, 1, 100000, &v) || v * unit > 400 * 86400LL)
		return -1;
	*out = base + v * unit;
	return 0;
}

int when_parse(const struct tz *zone, int64_t now, int64_t base, int argc, char **argv,
	       int64_t *out, char *why, size_t whysize)
{
	int y, m, d, hh = 0, mm = 0, used = 1;
	struct tz_local l;

	if (argc < 1) {
		snprintf(why, whysize, "a time is missing, " EXAMPLES);
		return -1;
	}
	if (strcasecmp(argv[0], "now") == 0) {
		*out = now;
		return 1;
	}
	if (argv[0][0] == '+') {
		if (parse_relative(argv[0], base, out) == 0)
			return 1;
		snprintf(why, whysize, "`%.20s` is not a duration I can read: +30m, +48h, +2d or +1w", argv[0]);
		return -1;
	}
	if (strcasecmp(argv[0], "today") == 0 || strcasecmp(argv[0], "tomorrow") == 0) {
		int64_t day;
		int64_t yy;
		tz_to_local(zone, now, &l);
		day = tz_days_from_civil(l.year, l.month, l.day) + (strcasecmp(argv[0], "tomorrow") == 0);
		tz_civil_from_days(day, &yy, &m, &d);
		y = (int)yy;
		if (strcasecmp(argv[0], "today") == 0 && (argc < 2 || rotation_hhmm_parse(argv[1], &hh, &mm) < 0)) {
			snprintf(why, whysize, "`today` needs a time after it, like `today 18:00`");
			return -1;
		}
	} else if (parse_date(argv[0], &y, &m, &d) < 0) {
		snprintf(why, whysize, "`%.20s` is not a time I can read without guessing; " EXAMPLES, argv[0]);
		return -1;
	}
	if (argc >= 2 && rotation_hhmm_parse(argv[1], &hh, &mm) == 0)
		used = 2;
	else if (argc >= 2 && strchr(argv[1], ':')) {
		snprintf(why, whysize, "`%.10s` is not a 24-hour time like 08:00 or 18:30", argv[1]);
		return -1;
	}
	if (wall_time(zone, y, m, d, hh, mm, out, why, whysize) < 0)
		return -1;
	return used;
}
