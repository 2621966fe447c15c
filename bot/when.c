/* when.c - see when.h */
#include "bot/when.h"
#include "bot/rotation.h"
#include "bot/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define EXAMPLES "for example `2026-12-24 08:00`, `today 18:00`, `tomorrow 09:00` or `+48h`"

const char *when_format_at(const struct tz *zone, int64_t t, int64_t now, char *out, size_t size)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tz_local l, cur;
	char year[8] = "";

	tz_to_local(zone, t, &l);
	tz_to_local(zone, now, &cur);
	if (l.year != cur.year)
		snprintf(year, sizeof(year), " %d", l.year);
	snprintf(out, size, "%s %d %s%s %02d:%02d %s", wd[l.wday], l.day, mon[l.month - 1], year,
		 l.hour, l.minute, l.abbr);
	return out;
}

const char *when_format(const struct tz *zone, int64_t t, char *out, size_t size)
{
	return when_format_at(zone, t, wk_now_ms() / 1000, out, size);
}

const struct tz *when_zone(const char *name, const struct tz *fallback)
{
	const struct tz *z = name && name[0] ? tz_get(name) : NULL;

	return z ? z : fallback;
}

int when_parse_handoff(int argc, char **argv, bool weekday_optional, int *wday, int *hour,
		       int *minute, char *why, size_t whysize)
{
	int wd = argc >= 1 ? rotation_weekday_parse(argv[0]) : -1, used = wd >= 0 ? 1 : 0;

	if ((wd < 0 && !weekday_optional) || argc <= used ||
	    rotation_hhmm_parse(argv[used], hour, minute) < 0) {
		snprintf(why, whysize, weekday_optional
			 ? "the handoff is a 24-hour time, with a weekday for weekly rotations: `mon 09:00`"
			 : "the handoff is a weekday and a 24-hour time, e.g. `monday 09:00` or `mon 09:00`");
		return -1;
	}
	*wday = wd;
	return used + 1;
}

/* ---- typos: "did you mean `tomorrow`?" ---- */

/* How far a typed word is from one we know (bot/util.h). */
static size_t distance(const char *a, const char *b)
{
	return wk_typo_distance(a, strlen(a), b, strlen(b));
}

/* The words when_parse knows, how far off a typo may be, and shorthands people
 * write for them. */
static const struct {
	const char *word;
	size_t max_distance;
} day_words[] = { { "now", 1 }, { "today", 2 }, { "tomorrow", 2 } };
static const struct {
	const char *typed, *word;
} day_shorthands[] = { { "tmrw", "tomorrow" }, { "tmr", "tomorrow" }, { "tmw", "tomorrow" },
		       { "2day", "today" }, { "2morrow", "tomorrow" }, { "tonight", "today 18:00" } };

static const char *suggest_day_word(const char *typed)
{
	for (size_t i = 0; i < ARRAY_LEN(day_shorthands); i++)
		if (strcasecmp(typed, day_shorthands[i].typed) == 0)
			return day_shorthands[i].word;
	for (size_t i = 0; i < ARRAY_LEN(day_words); i++)
		if (distance(typed, day_words[i].word) <= day_words[i].max_distance)
			return day_words[i].word;
	return NULL;
}

/* Duration units: only the one letter is read; the spellings people write for
 * it get a suggestion. */
static const struct {
	char unit;
	int64_t seconds;
	const char *spellings[5];
} units[] = {
	{ 'm', 60, { "min", "mins", "minute", "minutes", "mn" } },
	{ 'h', 3600, { "hr", "hrs", "hour", "hours", "hs" } },
	{ 'd', 86400, { "day", "days", "dy", "ds", "dd" } },
	{ 'w', 7 * 86400, { "wk", "wks", "week", "weeks", "ws" } },
};

/* The unit letter a spelling ("hrs", "hours", "huors") most likely means, or 0. */
static char suggest_unit(const char *spelled)
{
	for (size_t i = 0; i < ARRAY_LEN(units); i++)
		for (size_t j = 0; j < ARRAY_LEN(units[i].spellings); j++)
			if (strcasecmp(spelled, units[i].spellings[j]) == 0 ||
			    (strlen(spelled) >= 4 && strlen(units[i].spellings[j]) >= 4 &&
			     distance(spelled, units[i].spellings[j]) <= 1))
				return units[i].unit;
	if (strlen(spelled) == 1)
		for (size_t i = 0; i < ARRAY_LEN(units); i++)
			if (tolower((unsigned char)spelled[0]) == units[i].unit)
				return units[i].unit;
	return 0;
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

/* "+48h": 0 with *out set. Otherwise -1 with why filled, suggesting the
 * duration meant when the number is fine and the unit is a known spelling. */
static int parse_relative(const char *s, int64_t base, int64_t *out, char *why, size_t whysize)
{
	const char *p = s + (s[0] == '+');
	size_t digits = strspn(p, "0123456789");
	char num[12], unit;
	int64_t v;

	if (digits == 0 || digits >= sizeof(num) || !p[digits] || !(unit = suggest_unit(p + digits))) {
		snprintf(why, whysize, "`%.20s` is not a duration I can read: +30m, +48h, +2d or +1w", s);
		return -1;
	}
	memcpy(num, p, digits);
	num[digits] = '\0';
	if (s[0] != '+' || strlen(p + digits) != 1 || p[digits] != unit) {
		snprintf(why, whysize, "`%.20s` is not a duration I can read; did you mean `+%s%c`?", s, num,
			 unit);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(units); i++)
		if (units[i].unit == unit) {
			if (!wk_parse_i64(num, 1, 100000, &v) || v * units[i].seconds > 400 * 86400LL) {
				snprintf(why, whysize, "`%.20s` is too long; durations go up to 400 days", s);
				return -1;
			}
			*out = base + v * units[i].seconds;
			return 0;
		}
	return -1;
}

/* "48h", "2days": a duration missing its + (digits, then a unit's spelling;
 * "8am" is not one). */
static bool looks_like_duration(const char *s)
{
	size_t d = strspn(s, "0123456789");

	return d > 0 && s[d] && suggest_unit(s + d) != 0;
}

int when_parse(const struct tz *zone, int64_t now, int64_t base, int argc, char **argv,
	       int64_t *out, char *why, size_t whysize)
{
	return when_parse_flags(zone, now, base, argc, argv, 0, out, why, whysize);
}

int when_parse_flags(const struct tz *zone, int64_t now, int64_t base, int argc, char **argv,
		     unsigned flags, int64_t *out, char *why, size_t whysize)
{
	int y, m, d, hh = 0, mm = 0, used = 1;
	const char *near;
	struct tz_local l;

	if (argc < 1) {
		snprintf(why, whysize, "a time is missing, " EXAMPLES);
		return -1;
	}
	if (strcasecmp(argv[0], "now") == 0) {
		*out = now;
		return 1;
	}
	if (argv[0][0] == '+' || looks_like_duration(argv[0]))
		return parse_relative(argv[0], base, out, why, whysize) == 0 ? 1 : -1;
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
		if ((near = suggest_day_word(argv[0])))
			snprintf(why, whysize, "`%.20s` is not a time I can read; did you mean `%s`?", argv[0], near);
		else
			snprintf(why, whysize, "`%.20s` is not a time I can read without guessing; " EXAMPLES, argv[0]);
		return -1;
	}
	if (argc >= 2 && rotation_hhmm_parse(argv[1], &hh, &mm) == 0)
		used = 2;
	else if (argc >= 2 && strchr(argv[1], ':')) {
		snprintf(why, whysize, "`%.10s` is not a 24-hour time like 08:00 or 18:30", argv[1]);
		return -1;
	} else if (flags & WHEN_NEED_TIME) {
		/* "tomorrow +2h" would be 00:00-02:00: a day alone says no time, so ask. */
		snprintf(why, whysize, "`%.20s` is a whole day; say at what time, e.g. `%.20s 09:00`", argv[0],
			 argv[0]);
		return -1;
	}
	if (wall_time(zone, y, m, d, hh, mm, out, why, whysize) < 0)
		return -1;
	return used;
}
