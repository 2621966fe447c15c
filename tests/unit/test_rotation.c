/* test_rotation.c - bot/rotation.c against known facts.
 *
 * Expected instants were computed outside this code with python3 zoneinfo
 * (datetime(..., tzinfo=ZoneInfo(zone), fold=0).timestamp() for each handoff
 * wall time) against Debian's tzdata 2026f, then hard-coded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bot/rotation.h"
#include "bot/tz.h"
#include "bot/util.h"

#define HOUR 3600

static struct rotation_spec spec(const char *zone, int y, int mo, int d, int h, int mi,
				 enum rotation_unit unit, int length)
{
	struct rotation_spec r = {
		.zone = tz_get(zone),
		.start_year = y, .start_month = mo, .start_day = d,
		.handoff_hour = h, .handoff_minute = mi,
		.unit = unit, .length = length,
	};

	if (!r.zone)
		fail_msg("zone %s did not load", zone);
	return r;
}

/* Shift `index` is [start, end) both by index and by instant, at its first
 * and last second. */
static void check_shift(const struct rotation_spec *r, size_t n, int64_t index,
			int64_t start, int64_t end, size_t member)
{
	struct shift s;

	assert_int_equal(rotation_shift_by_index(r, n, index, &s), 0);
	assert_int_equal(s.index, index);
	assert_int_equal(s.start, start);
	assert_int_equal(s.end, end);
	assert_int_equal(s.member, member);

	memset(&s, 0, sizeof(s));
	assert_int_equal(rotation_shift_at(r, n, start, &s), 0);
	assert_int_equal(s.index, index);
	assert_int_equal(s.start, start);
	assert_int_equal(s.end, end);
	assert_int_equal(s.member, member);

	memset(&s, 0, sizeof(s));
	assert_int_equal(rotation_shift_at(r, n, end - 1, &s), 0);
	assert_int_equal(s.index, index);
	assert_int_equal(s.start, start);
}

/* The handoff reads `h`:00 local on a Monday. */
static void check_monday(const struct rotation_spec *r, int64_t t, int h)
{
	struct tz_local l;

	tz_to_local(r->zone, t, &l);
	assert_int_equal(l.wday, 1);
	assert_int_equal(l.hour, h);
	assert_int_equal(l.minute, 0);
}

/* ---- weekly Monday 09:00 across both DST changes ------------------------ */

static void test_weekly_chicago(void **state)
{
	struct rotation_spec r = spec("America/Chicago", 2026, 3, 2, 9, 0, ROTATION_WEEKS, 1);

	(void)state;
	/* 2026-03-08 spring forward falls in shift 0: 167 h. */
	check_shift(&r, 4, 0, 1772463600, 1773064800, 0);
	assert_int_equal(1773064800 - 1772463600, 167 * HOUR);
	check_shift(&r, 4, 1, 1773064800, 1773064800 + 168 * HOUR, 1);
	/* 2026-11-01 fall back falls in shift 34: 169 h. */
	check_shift(&r, 4, 34, 1793023200, 1793631600, 2);
	assert_int_equal(1793631600 - 1793023200, 169 * HOUR);
	check_shift(&r, 4, 35, 1793631600, 1794236400, 3);
	check_monday(&r, 1772463600, 9);
	check_monday(&r, 1773064800, 9);
	check_monday(&r, 1793023200, 9);
	check_monday(&r, 1793631600, 9);
}

static void test_weekly_berlin(void **state)
{
	struct rotation_spec r = spec("Europe/Berlin", 2026, 3, 23, 9, 0, ROTATION_WEEKS, 1);

	(void)state;
	check_shift(&r, 2, 0, 1774252800, 1774854000, 0);
	assert_int_equal(1774854000 - 1774252800, 167 * HOUR);
	check_shift(&r, 2, 30, 1792393200, 1793001600, 0);
	assert_int_equal(1793001600 - 1792393200, 169 * HOUR);
	check_monday(&r, 1774854000, 9);
	check_monday(&r, 1793001600, 9);
}

static void test_weekly_sydney(void **state)
{
	struct rotation_spec r = spec("Australia/Sydney", 2026, 3, 30, 9, 0, ROTATION_WEEKS, 1);

	(void)state;
	/* Southern hemisphere: April has the long week, October the short. */
	check_shift(&r, 5, 0, 1774821600, 1775430000, 0);
	assert_int_equal(1775430000 - 1774821600, 169 * HOUR);
	check_shift(&r, 5, 26, 1790550000, 1791151200, 1);
	assert_int_equal(1791151200 - 1790550000, 167 * HOUR);
	check_monday(&r, 1774821600, 9);
	check_monday(&r, 1775430000, 9);
	check_monday(&r, 1790550000, 9);
	check_monday(&r, 1791151200, 9);
}

static void test_weekly_kolkata(void **state)
{
	struct rotation_spec r = spec("Asia/Kolkata", 2026, 3, 2, 9, 0, ROTATION_WEEKS, 1);

	(void)state;
	check_shift(&r, 3, 0, 1772422200, 1773027000, 0);
	assert_int_equal(1773027000 - 1772422200, 168 * HOUR);
	check_shift(&r, 3, 1, 1773027000, 1773027000 + 168 * HOUR, 1);
	check_monday(&r, 1773027000, 9);
}

/* ---- before the start, far after it ------------------------------------- */

static void test_index_and_member(void **state)
{
	struct rotation_spec r = spec("America/Chicago", 2026, 3, 2, 9, 0, ROTATION_WEEKS, 1);
	struct shift s;

	(void)state;
	/* The second before the first handoff belongs to shift -1. */
	assert_int_equal(rotation_shift_at(&r, 3, 1772463600 - 1, &s), 0);
	assert_int_equal(s.index, -1);
	assert_int_equal(s.member, 2);
	assert_int_equal(s.end, 1772463600);
	assert_int_equal(s.start, 1772463600 - 168 * HOUR);	/* no DST change */

	assert_int_equal(rotation_shift_by_index(&r, 3, -4, &s), 0);
	assert_int_equal(s.member, 2);
	assert_int_equal(rotation_shift_by_index(&r, 3, -3, &s), 0);
	assert_int_equal(s.member, 0);
	assert_int_equal(rotation_shift_by_index(&r, 1, -7, &s), 0);
	assert_int_equal(s.member, 0);

	/* 1975: Monday 1975-06-02 09:00 CDT is shift -2648. */
	check_shift(&r, 3, -2648, 170949600, 171554400, 1);
	/* 2050 (24 years on, past the file's 2037 horizon): shift 1253. */
	assert_int_equal(rotation_shift_at(&r, 3, 2530548000, &s), 0);
	assert_int_equal(s.index, 1253);
	assert_int_equal(s.start, 2530278000);
	assert_int_equal(s.end, 2530879200);	/* crosses 2050-03-13 DST */
	assert_int_equal(s.member, 2);
}

/* ---- daily, hourly, handoffs inside gaps and folds ------------------------ */

static void test_daily_berlin(void **state)
{
	struct rotation_spec r = spec("Europe/Berlin", 2026, 3, 28, 9, 0, ROTATION_DAYS, 1);

	(void)state;
	check_shift(&r, 7, 0, 1774684800, 1774767600, 0);	/* 23 h */
	check_shift(&r, 7, 1, 1774767600, 1774854000, 1);	/* 24 h */
	check_shift(&r, 7, 210, 1792825200, 1792915200, 0);	/* 25 h */
	assert_int_equal(1792915200 - 1792825200, 25 * HOUR);
}

static void test_hours_48_across_dst(void **state)
{
	struct rotation_spec r = spec("Europe/Berlin", 2026, 3, 28, 9, 0, ROTATION_HOURS, 48);
	struct tz_local l;
	struct shift s;

	(void)state;
	check_shift(&r, 2, 0, 1774684800, 1774684800 + 172800, 0);
	/* Absolute hours: the handoff drifts to 10:00 CEST ... */
	tz_to_local(r.zone, 1774684800 + 172800, &l);
	assert_int_equal(l.hour, 10);
	/* ... and is back at 09:00 CET after the autumn change (shift 110,
	 * 2026-11-03). */
	assert_int_equal(rotation_shift_by_index(&r, 2, 110, &s), 0);
	assert_int_equal(s.end - s.start, 172800);
	tz_to_local(r.zone, s.start, &l);
	assert_int_equal(l.month, 11);
	assert_int_equal(l.day, 3);
	assert_int_equal(l.hour, 9);
	assert_int_equal(s.member, 0);
	/* Before the start as well. */
	check_shift(&r, 2, -1, 1774684800 - 172800, 1774684800, 1);
}

static void test_handoff_in_gap(void **state)
{
	struct rotation_spec r = spec("America/Chicago", 2026, 3, 7, 2, 30, ROTATION_DAYS, 1);

	(void)state;
	/* 2026-03-08 02:30 does not exist; the handoff happens at 03:30 CDT. */
	check_shift(&r, 2, 0, 1772872200, 1772958600, 0);
	check_shift(&r, 2, 1, 1772958600, 1773041400, 1);
	assert_int_equal(1773041400 - 1772958600, 23 * HOUR);
}

static void test_handoff_in_fold(void **state)
{
	struct rotation_spec r = spec("America/Chicago", 2026, 10, 31, 1, 30, ROTATION_DAYS, 1);
	struct shift s;

	(void)state;
	/* 2026-11-01 01:30 happens twice; the handoff takes the first (CDT). */
	check_shift(&r, 2, 0, 1793428200, 1793514600, 0);
	check_shift(&r, 2, 1, 1793514600, 1793604600, 1);
	assert_int_equal(1793604600 - 1793514600, 25 * HOUR);
	/* 01:15 CST, the second time round, is well inside shift 1. */
	assert_int_equal(rotation_shift_at(&r, 2, 1793518200 - 900, &s), 0);
	assert_int_equal(s.index, 1);
}

static void test_skipped_day(void **state)
{
	struct rotation_spec r = spec("Pacific/Apia", 2011, 12, 28, 9, 0, ROTATION_DAYS, 1);
	struct shift s;

	(void)state;
	/* Samoa skipped 2011-12-30: that day's shift is empty ... */
	assert_int_equal(rotation_shift_by_index(&r, 4, 2, &s), 0);
	assert_int_equal(s.start, 1325271600);
	assert_int_equal(s.end, 1325271600);
	/* ... and never returned for an instant. */
	assert_int_equal(rotation_shift_at(&r, 4, 1325271599, &s), 0);
	assert_int_equal(s.index, 1);
	assert_int_equal(s.start, 1325185200);
	assert_int_equal(rotation_shift_at(&r, 4, 1325271600, &s), 0);
	assert_int_equal(s.index, 3);
	assert_int_equal(s.end, 1325358000);
	assert_int_equal(s.member, 3);
}

/* ---- errors ------------------------------------------------------------------ */

static void expect_invalid(struct rotation_spec r, const char *why_want)
{
	char why[80];
	struct shift s;

	assert_int_equal(rotation_spec_validate(&r, why, sizeof(why)), -1);
	assert_string_equal(why, why_want);
	assert_int_equal(rotation_shift_at(&r, 3, 1772463600, &s), -1);
	assert_int_equal(rotation_shift_by_index(&r, 3, 0, &s), -1);
}

static void test_invalid(void **state)
{
	const struct rotation_spec ok = spec("Europe/Berlin", 2024, 2, 29, 9, 0, ROTATION_WEEKS, 1);
	struct rotation_spec r;
	char why[80];
	struct shift s;

	(void)state;
	assert_int_equal(rotation_spec_validate(&ok, why, sizeof(why)), 0);
	assert_int_equal(rotation_spec_validate(&ok, NULL, 0), 0);
	assert_int_equal(rotation_spec_validate(NULL, why, sizeof(why)), -1);

	/* Unusable zone names never produce a zone. */
	assert_null(tz_get("../etc/passwd"));
	assert_null(tz_get(""));
	assert_null(tz_get("Nope/Zone"));
	r = ok;
	r.zone = tz_get("Nope/Zone");
	expect_invalid(r, "zone is not set");

	r = ok;
	r.start_year = 1969;
	expect_invalid(r, "start_year must be 1970..9999");
	r = ok;
	r.start_month = 13;
	expect_invalid(r, "start_month must be 1..12");
	r = ok;
	r.start_year = 2026;
	expect_invalid(r, "start_day is not a day of that month");
	r = ok;
	r.start_day = 0;
	expect_invalid(r, "start_day is not a day of that month");
	r = ok;
	r.handoff_hour = 24;
	expect_invalid(r, "handoff_hour must be 0..23");
	r = ok;
	r.handoff_minute = -1;
	expect_invalid(r, "handoff_minute must be 0..59");
	r = ok;
	r.unit = (enum rotation_unit)7;
	expect_invalid(r, "unit must be hours, days or weeks");
	r = ok;
	r.length = 0;
	expect_invalid(r, "length must be 1..52 weeks");
	r = ok;
	r.unit = ROTATION_DAYS;
	r.length = 367;
	expect_invalid(r, "length must be 1..366 days");
	r = ok;
	r.unit = ROTATION_HOURS;
	r.length = -48;
	expect_invalid(r, "length must be 1..8784 hours");

	/* A truncated reason is still terminated. */
	r = ok;
	r.handoff_hour = 99;
	assert_int_equal(rotation_spec_validate(&r, why, 5), -1);
	assert_string_equal(why, "hand");

	/* No members, or out-of-range instants and indices. */
	assert_int_equal(rotation_shift_at(&ok, 0, 1772463600, &s), -1);
	assert_int_equal(rotation_shift_by_index(&ok, 0, 0, &s), -1);
	assert_int_equal(rotation_shift_at(&ok, 3, INT64_MAX, &s), -1);
	assert_int_equal(rotation_shift_at(&ok, 3, INT64_MIN, &s), -1);
	assert_int_equal(rotation_shift_by_index(&ok, 3, INT64_MAX, &s), -1);
	assert_int_equal(rotation_shift_by_index(&ok, 3, INT64_MIN, &s), -1);
	r = ok;
	r.unit = ROTATION_HOURS;
	r.length = 1;
	assert_int_equal(rotation_shift_by_index(&r, 3, INT64_MAX, &s), -1);
	assert_int_equal(rotation_shift_by_index(&r, 3, INT64_MIN, &s), -1);
	assert_int_equal(rotation_shift_at(&r, 3, TZ_TIME_MAX + 1, &s), -1);
}

/* ---- parsers ------------------------------------------------------------------ */

static void test_weekday_parse(void **state)
{
	static const char *const bad[] = {
		"", "mo", "mond", "monday ", " monday", "tues", "thurs", "mondays",
		"lundi", "m\xc3\xb6n",
	};
	size_t i;

	(void)state;
	assert_int_equal(rotation_weekday_parse("sunday"), 0);
	assert_int_equal(rotation_weekday_parse("monday"), 1);
	assert_int_equal(rotation_weekday_parse("Mon"), 1);
	assert_int_equal(rotation_weekday_parse("TUESDAY"), 2);
	assert_int_equal(rotation_weekday_parse("wed"), 3);
	assert_int_equal(rotation_weekday_parse("Thursday"), 4);
	assert_int_equal(rotation_weekday_parse("thu"), 4);
	assert_int_equal(rotation_weekday_parse("fRi"), 5);
	assert_int_equal(rotation_weekday_parse("SAT"), 6);
	assert_int_equal(rotation_weekday_parse("Sun"), 0);
	for (i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(rotation_weekday_parse(bad[i]), -1);
	assert_int_equal(rotation_weekday_parse(NULL), -1);
}

static void test_hhmm_parse(void **state)
{
	static const char *const bad[] = {
		"", "24:00", "9:00", "09:60", "0900", "09:00 ", " 09:00", "+9:00",
		"-1:00", "09:0a", "09-00", "09:000", "99:99", "0a:00",
	};
	size_t i;
	int h = -1, m = -1;

	(void)state;
	assert_int_equal(rotation_hhmm_parse("09:00", &h, &m), 0);
	assert_int_equal(h, 9);
	assert_int_equal(m, 0);
	assert_int_equal(rotation_hhmm_parse("23:59", &h, &m), 0);
	assert_int_equal(h, 23);
	assert_int_equal(m, 59);
	assert_int_equal(rotation_hhmm_parse("00:00", &h, &m), 0);
	assert_int_equal(h, 0);
	assert_int_equal(m, 0);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		h = m = 42;
		if (rotation_hhmm_parse(bad[i], &h, &m) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(h, 42);
		assert_int_equal(m, 42);
	}
	assert_int_equal(rotation_hhmm_parse(NULL, &h, &m), -1);
}

static int teardown(void **state)
{
	(void)state;
	tz_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weekly_chicago),
		cmocka_unit_test(test_weekly_berlin),
		cmocka_unit_test(test_weekly_sydney),
		cmocka_unit_test(test_weekly_kolkata),
		cmocka_unit_test(test_index_and_member),
		cmocka_unit_test(test_daily_berlin),
		cmocka_unit_test(test_hours_48_across_dst),
		cmocka_unit_test(test_handoff_in_gap),
		cmocka_unit_test(test_handoff_in_fold),
		cmocka_unit_test(test_skipped_day),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_weekday_parse),
		cmocka_unit_test(test_hhmm_parse),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
