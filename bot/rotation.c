/* rotation.c - see rotation.h */
#include "bot/rotation.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bot/util.h"

#define SECS_PER_DAY	86400
#define HOURS_MAX	8784	/* 366 days */
#define DAYS_MAX	366
#define WEEKS_MAX	52
#define YEAR_MIN	1970
#define YEAR_MAX	9999
/* Handoff dates: 0001-01-02 and 9999-12-30 as tz_days_from_civil() day
 * numbers, one day inside TZ_TIME_MIN/MAX so that no zone offset can push a
 * handoff instant out of range and get it clamped. */
#define DAY_MIN		INT64_C(-719161)
#define DAY_MAX		INT64_C(2932895)
/* The local-time estimate is off by at most one shift (a handoff moved by a
 * gap or fold, or a skipped day); a few steps bound the correction. */
#define CORRECT_STEPS	4

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

static void set_why(char *why, size_t why_size, const char *msg)
{
	if (why && why_size > 0)
		wk_strlcpy(why, msg, why_size);
}

int rotation_spec_validate(const struct rotation_spec *r, char *why, size_t why_size)
{
	const char *msg = NULL;
	int max_len = 0;

	if (!r)
		msg = "rotation spec is missing";
	else if (!r->zone)
		msg = "zone is not set";
	else if (r->start_year < YEAR_MIN || r->start_year > YEAR_MAX)
		msg = "start_year must be 1970..9999";
	else if (r->start_month < 1 || r->start_month > 12)
		msg = "start_month must be 1..12";
	else if (r->start_day < 1 ||
		 r->start_day > tz_days_in_month(r->start_year, r->start_month))
		msg = "start_day is not a day of that month";
	else if (r->handoff_hour < 0 || r->handoff_hour > 23)
		msg = "handoff_hour must be 0..23";
	else if (r->handoff_minute < 0 || r->handoff_minute > 59)
		msg = "handoff_minute must be 0..59";
	if (msg) {
		set_why(why, why_size, msg);
		return -1;
	}
	switch (r->unit) {
	case ROTATION_HOURS:
		max_len = HOURS_MAX;
		msg = "length must be 1..8784 hours";
		break;
	case ROTATION_DAYS:
		max_len = DAYS_MAX;
		msg = "length must be 1..366 days";
		break;
	case ROTATION_WEEKS:
		max_len = WEEKS_MAX;
		msg = "length must be 1..52 weeks";
		break;
	default:
		set_why(why, why_size, "unit must be hours, days or weeks");
		return -1;
	}
	if (r->length < 1 || r->length > max_len) {
		set_why(why, why_size, msg);
		return -1;
	}
	set_why(why, why_size, "");
	return 0;
}

static int64_t handoff_secs(const struct rotation_spec *r)
{
	return (int64_t)r->handoff_hour * 3600 + r->handoff_minute * 60;
}

/* Start of shift k of a DAYS/WEEKS rotation. The handoff is a wall time on a
 * calendar date, not an offset from shift 0, so that it stays at 09:00 local
 * whatever DST did in between. */
static int calendar_start(const struct rotation_spec *r, int64_t k, int64_t *out)
{
	int64_t step = r->unit == ROTATION_WEEKS ? (int64_t)r->length * 7 : r->length;
	int64_t d0 = tz_days_from_civil(r->start_year, r->start_month, r->start_day);
	int64_t day, year;
	int month, mday;

	/* Bound k before multiplying. */
	if (k < -(DAY_MAX - DAY_MIN) || k > DAY_MAX - DAY_MIN)
		return -1;
	day = d0 + k * step;
	if (day < DAY_MIN || day > DAY_MAX)
		return -1;
	tz_civil_from_days(day, &year, &month, &mday);
	*out = tz_from_local(r->zone, (int)year, month, mday,
			     r->handoff_hour, r->handoff_minute, 0);
	return 0;
}

/* HOURS rotations count elapsed time from the first handoff: "48 hours on"
 * means 172800 s even when a DST change makes the wall clock disagree. */
static int64_t hours_base(const struct rotation_spec *r)
{
	return tz_from_local(r->zone, r->start_year, r->start_month, r->start_day,
			     r->handoff_hour, r->handoff_minute, 0);
}

static int hours_start(const struct rotation_spec *r, int64_t k, int64_t *out)
{
	int64_t base = hours_base(r), step = (int64_t)r->length * 3600;

	/* Division truncates towards zero, which keeps both bounds inside. */
	if (k > (TZ_TIME_MAX - base) / step || k < (TZ_TIME_MIN - base) / step)
		return -1;
	*out = base + k * step;
	return 0;
}

static int shift_start(const struct rotation_spec *r, int64_t k, int64_t *out)
{
	if (r->unit == ROTATION_HOURS)
		return hours_start(r, k, out);
	return calendar_start(r, k, out);
}

static bool usable(const struct rotation_spec *r, size_t n_members)
{
	/* member is computed in int64_t; no real list gets near that. */
	return n_members > 0 && n_members <= (size_t)INT64_MAX &&
	       rotation_spec_validate(r, NULL, 0) == 0;
}

static void fill(int64_t k, int64_t start, int64_t end, size_t n_members, struct shift *out)
{
	int64_t n = (int64_t)n_members, m = k % n;

	out->start = start;
	out->end = end;
	out->index = k;
	out->member = (size_t)(m < 0 ? m + n : m);
}

int rotation_shift_by_index(const struct rotation_spec *r, size_t n_members,
			    int64_t index, struct shift *out)
{
	int64_t start, end;

	if (!usable(r, n_members))
		return -1;
	/* The first call fails for huge |index|, so index + 1 cannot overflow. */
	if (shift_start(r, index, &start) < 0 || shift_start(r, index + 1, &end) < 0)
		return -1;
	fill(index, start, end, n_members, out);
	return 0;
}

int rotation_shift_at(const struct rotation_spec *r, size_t n_members, int64_t t,
		      struct shift *out)
{
	struct tz_local l;
	int64_t k, start, end, elapsed;
	int i;

	if (!usable(r, n_members) || t < TZ_TIME_MIN || t > TZ_TIME_MAX)
		return -1;

	if (r->unit == ROTATION_HOURS) {
		k = floor_div(t - hours_base(r), (int64_t)r->length * 3600);
		if (shift_start(r, k, &start) < 0 || shift_start(r, k + 1, &end) < 0)
			return -1;
		fill(k, start, end, n_members, out);
		return 0;
	}

	/* Estimate k from the local wall clock, where calendar shifts have a
	 * constant length; that is exact except when a handoff was moved by a
	 * gap or fold, and the correction below then steps one shift. */
	tz_to_local(r->zone, t, &l);
	elapsed = (tz_days_from_civil(l.year, l.month, l.day) -
		   tz_days_from_civil(r->start_year, r->start_month, r->start_day)) *
			  SECS_PER_DAY +
		  (int64_t)l.hour * 3600 + l.minute * 60 + l.second - handoff_secs(r);
	k = floor_div(elapsed, (int64_t)r->length * SECS_PER_DAY *
				       (r->unit == ROTATION_WEEKS ? 7 : 1));

	if (shift_start(r, k, &start) < 0)
		return -1;
	for (i = 0; i < CORRECT_STEPS && t < start; i++) {
		k--;
		if (shift_start(r, k, &start) < 0)
			return -1;
	}
	if (shift_start(r, k + 1, &end) < 0)
		return -1;
	/* >= also steps over an empty shift (a handoff date the zone skipped). */
	for (i = 0; i < CORRECT_STEPS && t >= end; i++) {
		k++;
		start = end;
		if (shift_start(r, k + 1, &end) < 0)
			return -1;
	}
	if (t < start || t >= end)
		return -1;
	fill(k, start, end, n_members, out);
	return 0;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive equality of name with want, ASCII only, so the result
 * cannot depend on the process locale. */
static bool ascii_ieq(const char *name, const char *want)
{
	for (; *name && *want; name++, want++)
		if (ascii_lower(*name) != *want)
			return false;
	return *name == '\0' && *want == '\0';
}

int rotation_weekday_parse(const char *name)
{
	static const char *const days[7] = {
		"sunday", "monday", "tuesday", "wednesday",
		"thursday", "friday", "saturday",
	};
	char abbr[4];
	int i;

	if (!name)
		return -1;
	for (i = 0; i < 7; i++) {
		wk_strlcpy(abbr, days[i], sizeof(abbr));
		if (ascii_ieq(name, days[i]) || ascii_ieq(name, abbr))
			return i;
	}
	return -1;
}

int rotation_hhmm_parse(const char *s, int *h, int *m)
{
	int hh, mm;

	if (!s || strlen(s) != 5 || s[2] != ':')
		return -1;
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9')
		return -1;
	hh = (s[0] - '0') * 10 + (s[1] - '0');
	mm = (s[3] - '0') * 10 + (s[4] - '0');
	if (hh > 23 || mm > 59)
		return -1;
	*h = hh;
	*m = mm;
	return 0;
}
