/* test_tz.c - bot/tz.c against known facts.
 *
 * Every expected instant below was computed outside this code, with python3
 * zoneinfo (fold=0 for the first occurrence) and GNU date with TZ set, against
 * Debian's tzdata 2026f, then hard-coded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/tz.h"
#include "bot/util.h"
#include "bot/when.h"

static const struct tz *zone(const char *name)
{
	const struct tz *z = tz_get(name);

	if (!z)
		fail_msg("zone %s did not load", name);
	return z;
}

static void check_offset(const struct tz *z, int64_t t, int off, int dst, const char *abbr)
{
	struct tz_local l;
	int is_dst = -1;

	assert_int_equal(tz_utc_offset(z, t, &is_dst), off);
	assert_int_equal(is_dst, dst);
	tz_to_local(z, t, &l);
	assert_int_equal(l.utc_offset, off);
	assert_string_equal(l.abbr, abbr);
}

/* A switch at t: offset a before it (t - 1), offset b from t on. */
static void check_switch(const char *name, int64_t t, int a, int dst_a, const char *abbr_a,
			 int b, int dst_b, const char *abbr_b)
{
	const struct tz *z = zone(name);

	check_offset(z, t - 1, a, dst_a, abbr_a);
	check_offset(z, t, b, dst_b, abbr_b);
}

static void check_local(const struct tz *z, int64_t t, int y, int mo, int d, int h, int mi,
			int s, int wday)
{
	struct tz_local l;

	tz_to_local(z, t, &l);
	assert_int_equal(l.year, y);
	assert_int_equal(l.month, mo);
	assert_int_equal(l.day, d);
	assert_int_equal(l.hour, h);
	assert_int_equal(l.minute, mi);
	assert_int_equal(l.second, s);
	assert_int_equal(l.wday, wday);
}

/* ---- names and the cache ---------------------------------------------- */

static void test_names_rejected(void **state)
{
	static const char *const bad[] = {
		"", "../etc/passwd", "Nope/Zone", "/etc/passwd", "Europe/../Europe/Berlin",
		"Europe//Berlin", "Europe/Berlin/", "Europe/Berlin.", "zone.tab",
		"Europe/Berlin ", "Europe\\Berlin", "Europe/Berlin\n", "America",
		"Europe/Berlin/x", "right/UTC",
		"Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	size_t i;

	(void)state;
	assert_int_equal(strlen(bad[ARRAY_LEN(bad) - 1]), TZ_NAME_MAX + 1);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		if (tz_get(bad[i]))
			fail_msg("accepted zone name \"%s\"", bad[i]);
	}
	assert_null(tz_get(NULL));
}

static void test_utc_and_cache(void **state)
{
	const struct tz *u = zone("UTC"), *e = zone("Etc/UTC");
	struct tz_local l;

	(void)state;
	check_offset(u, 0, 0, 0, "UTC");
	check_offset(e, 1782907200, 0, 0, "UTC");
	tz_to_local(u, 0, &l);
	check_local(u, 0, 1970, 1, 1, 0, 0, 0, 4);
	assert_int_equal(tz_from_local(e, 2026, 7, 1, 12, 0, 0), 1782907200);
	assert_ptr_equal(tz_get("UTC"), u);
	assert_ptr_equal(tz_get("Europe/Berlin"), tz_get("Europe/Berlin"));
	assert_string_equal(tz_name(zone("Europe/Berlin")), "Europe/Berlin");
	/* Legal characters '+', '-', '_' and digits. */
	check_offset(zone("Etc/GMT+5"), 0, -18000, 0, "-05");
	check_offset(zone("America/Port_of_Spain"), 1782907200, -14400, 0, "AST");
}

/* ---- offsets ------------------------------------------------------------ */

static void test_chicago(void **state)
{
	(void)state;
	/* 2026-03-08 02:00 CST = 08:00Z; 2026-11-01 02:00 CDT = 07:00Z. */
	check_switch("America/Chicago", 1772956800, -21600, 0, "CST", -18000, 1, "CDT");
	check_switch("America/Chicago", 1793516400, -18000, 1, "CDT", -21600, 0, "CST");
	check_local(zone("America/Chicago"), 1772956800, 2026, 3, 8, 3, 0, 0, 0);
	check_local(zone("America/Chicago"), 1772956799, 2026, 3, 8, 1, 59, 59, 0);
}

static void test_berlin(void **state)
{
	(void)state;
	check_switch("Europe/Berlin", 1774746000, 3600, 0, "CET", 7200, 1, "CEST");
	check_switch("Europe/Berlin", 1792890000, 7200, 1, "CEST", 3600, 0, "CET");
	/* 2026-07-01T12:00Z is 14:00 CEST, a Wednesday. */
	check_local(zone("Europe/Berlin"), 1782907200, 2026, 7, 1, 14, 0, 0, 3);
}

static void test_sydney(void **state)
{
	(void)state;
	/* Southern hemisphere: DST ends 2026-04-05 03:00 AEDT (2026-04-04
	 * 16:00Z) and starts 2026-10-04 02:00 AEST (2026-10-03 16:00Z). */
	check_switch("Australia/Sydney", 1775318400, 39600, 1, "AEDT", 36000, 0, "AEST");
	check_switch("Australia/Sydney", 1791043200, 36000, 0, "AEST", 39600, 1, "AEDT");
	check_local(zone("Australia/Sydney"), 1775318400, 2026, 4, 5, 2, 0, 0, 0);
	check_local(zone("Australia/Sydney"), 1775318399, 2026, 4, 5, 2, 59, 59, 0);
}

static void test_kolkata(void **state)
{
	const struct tz *z = zone("Asia/Kolkata");

	(void)state;
	check_offset(z, 1767225600, 19800, 0, "IST");	/* 2026-01-01 */
	check_offset(z, 1780272000, 19800, 0, "IST");	/* 2026-06-01 */
	check_offset(z, 2846476800, 19800, 0, "IST");	/* 2060, footer */
	check_local(z, 1780272000, 2026, 6, 1, 5, 30, 0, 1);
}

static void test_far_future_footer(void **state)
{
	(void)state;
	/* 2060 is past the last transition in the file (2037): footer rules. */
	check_switch("America/Chicago", 2846476800, -21600, 0, "CST", -18000, 1, "CDT");
	check_switch("America/Chicago", 2867036400, -18000, 1, "CDT", -21600, 0, "CST");
	check_switch("Europe/Berlin", 2847661200, 3600, 0, "CET", 7200, 1, "CEST");
	check_switch("Europe/Berlin", 2866410000, 7200, 1, "CEST", 3600, 0, "CET");
	check_switch("Australia/Sydney", 2848233600, 39600, 1, "AEDT", 36000, 0, "AEST");
	check_switch("Australia/Sydney", 2863958400, 36000, 0, "AEST", 39600, 1, "AEDT");
	/* Around 2200, where the cached expansion of the rule stops ... */
	check_switch("Europe/Berlin", 7252419600, 7200, 1, "CEST", 3600, 0, "CET");
	check_switch("Europe/Berlin", 7265725200, 3600, 0, "CET", 7200, 1, "CEST");
	/* ... and past it, where the rule is evaluated directly (2300). */
	check_switch("America/Chicago", 10419782400, -21600, 0, "CST", -18000, 1, "CDT");
	check_switch("America/Chicago", 10440342000, -18000, 1, "CDT", -21600, 0, "CST");
	check_switch("Australia/Sydney", 10421539200, 39600, 1, "AEDT", 36000, 0, "AEST");
	check_switch("Australia/Sydney", 10437868800, 36000, 0, "AEST", 39600, 1, "AEDT");
}

static void test_before_first_transition(void **state)
{
	const int64_t y1800 = -5364662400;	/* 1800-01-01T00:00Z */

	(void)state;
	check_offset(zone("America/Chicago"), y1800, -21036, 0, "LMT");
	check_offset(zone("Europe/Berlin"), y1800, 3208, 0, "LMT");
	check_offset(zone("Australia/Sydney"), y1800, 36292, 0, "LMT");
	check_offset(zone("Asia/Kolkata"), y1800, 21208, 0, "LMT");
	check_local(zone("America/Chicago"), y1800, 1799, 12, 31, 18, 9, 24, 2);
}

/* ---- wall time to instant ------------------------------------------------ */

static void test_from_local_gap(void **state)
{
	(void)state;
	/* The wall time moves forward by the gap: 02:30 reads 03:30 after. */
	assert_int_equal(tz_from_local(zone("America/New_York"), 2026, 3, 8, 2, 30, 0), 1772955000);
	assert_int_equal(tz_from_local(zone("America/Chicago"), 2026, 3, 8, 2, 30, 0), 1772958600);
	assert_int_equal(tz_from_local(zone("Europe/Berlin"), 2026, 3, 29, 2, 30, 0), 1774747800);
	assert_int_equal(tz_from_local(zone("Australia/Sydney"), 2026, 10, 4, 2, 30, 0), 1791045000);
	check_local(zone("America/Chicago"), 1772958600, 2026, 3, 8, 3, 30, 0, 0);
	check_local(zone("Australia/Sydney"), 1791045000, 2026, 10, 4, 3, 30, 0, 0);
	/* The first second of the gap lands on the first second after it. */
	assert_int_equal(tz_from_local(zone("Europe/Berlin"), 2026, 3, 29, 2, 0, 0), 1774746000);
	/* Pacific/Apia skipped 2011-12-30 entirely: a 24 h gap. */
	assert_int_equal(tz_from_local(zone("Pacific/Apia"), 2011, 12, 29, 9, 0, 0), 1325185200);
	assert_int_equal(tz_from_local(zone("Pacific/Apia"), 2011, 12, 30, 9, 0, 0), 1325271600);
	assert_int_equal(tz_from_local(zone("Pacific/Apia"), 2011, 12, 31, 9, 0, 0), 1325271600);
}

static void test_from_local_fold(void **state)
{
	(void)state;
	/* The first (daylight-time) occurrence; the second is 3600 s later:
	 * New York 1793514600, Chicago 1793518200, Berlin 1792891800,
	 * Sydney 1775320200. */
	assert_int_equal(tz_from_local(zone("America/New_York"), 2026, 11, 1, 1, 30, 0), 1793511000);
	assert_int_equal(tz_from_local(zone("America/Chicago"), 2026, 11, 1, 1, 30, 0), 1793514600);
	assert_int_equal(tz_from_local(zone("Europe/Berlin"), 2026, 10, 25, 2, 30, 0), 1792888200);
	assert_int_equal(tz_from_local(zone("Australia/Sydney"), 2026, 4, 5, 2, 30, 0), 1775316600);
	/* The edges of the fold. */
	assert_int_equal(tz_from_local(zone("Europe/Berlin"), 2026, 10, 25, 2, 0, 0), 1792886400);
	assert_int_equal(tz_from_local(zone("Europe/Berlin"), 2026, 10, 25, 3, 0, 0), 1792893600);
}

static void test_from_local_ordinary(void **state)
{
	(void)state;
	assert_int_equal(tz_from_local(zone("Asia/Kolkata"), 2026, 1, 15, 9, 0, 0), 1768447800);
	assert_int_equal(tz_from_local(zone("America/Chicago"), 2060, 7, 4, 12, 0, 0), 2856186000);
	assert_int_equal(tz_from_local(zone("Australia/Sydney"), 2060, 1, 1, 0, 0, 0), 2840101200);
	assert_int_equal(tz_from_local(zone("Europe/Berlin"), 2100, 12, 31, 23, 59, 59), 4133977199);
}

static void test_from_local_normalise(void **state)
{
	const struct tz *z = zone("Europe/Berlin");

	(void)state;
	assert_int_equal(tz_from_local(z, 2026, 1, 32, 12, 0, 0), 1769943600);	/* Feb 1 */
	assert_int_equal(tz_from_local(z, 2026, 13, 1, 0, 0, 0), 1798758000);	/* 2027-01-01 */
	assert_int_equal(tz_from_local(z, 2024, 2, 30, 0, 0, 0), 1709247600);	/* 2024-03-01 */
	assert_int_equal(tz_from_local(z, 2026, 2, 29, 0, 0, 0), 1772319600);	/* 2026-03-01 */
	assert_int_equal(tz_from_local(z, 2026, 3, 0, 0, 0, 0), 1772233200);	/* Feb 28 */
	assert_int_equal(tz_from_local(z, 2026, 2, 27, 24, 0, 0), 1772233200);
	assert_int_equal(tz_from_local(z, 2026, 2, 28, 1, -60, 0), 1772233200);
	assert_int_equal(tz_from_local(z, 2026, 2, 27, 23, 59, 60), 1772233200);
	assert_int_equal(tz_from_local(z, 2027, -10, 28, 0, 0, 0), 1772233200);
	assert_int_equal(tz_from_local(z, 2027, -11, 28, 0, 0, 0), 1769554800);
	assert_int_equal(tz_from_local(z, 2026, 1, 59, 0, 0, 0), 1772233200);
	/* Normalisation happens on the wall clock, then the gap rule applies:
	 * 2026-03-28 26:30 is 2026-03-29 02:30, which is in the gap. */
	assert_int_equal(tz_from_local(z, 2026, 3, 28, 26, 30, 0), 1774747800);
}

static void test_round_trip(void **state)
{
	static const char *const names[] = {
		"America/Chicago", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata",
		"America/New_York", "Pacific/Chatham", "UTC",
	};
	/* Times that are never in a gap or fold in these zones. */
	static const int hm[][2] = { { 0, 0 }, { 9, 0 }, { 12, 30 }, { 17, 45 }, { 23, 59 } };
	size_t i, j;
	int d;

	(void)state;
	for (i = 0; i < ARRAY_LEN(names); i++) {
		const struct tz *z = zone(names[i]);

		for (d = 1; d <= 730; d += 3) {
			for (j = 0; j < ARRAY_LEN(hm); j++) {
				struct tz_local l;
				/* Day-of-year normalisation walks 2026 and 2027. */
				int64_t t = tz_from_local(z, 2026, 1, d, hm[j][0], hm[j][1], 7);

				tz_to_local(z, t, &l);
				assert_int_equal(l.hour, hm[j][0]);
				assert_int_equal(l.minute, hm[j][1]);
				assert_int_equal(l.second, 7);
				assert_int_equal(tz_days_from_civil(l.year, l.month, l.day),
						 tz_days_from_civil(2026, 1, d));
			}
		}
	}
}

static void test_extremes(void **state)
{
	const struct tz *z = zone("Europe/Berlin");
	struct tz_local l;
	int64_t t;

	(void)state;
	/* Out-of-range instants are clamped, never overflow. */
	assert_int_equal(tz_utc_offset(z, INT64_MAX, NULL), 3600);
	assert_int_equal(tz_utc_offset(z, INT64_MIN, NULL), 3208);
	tz_to_local(z, INT64_MIN, &l);
	assert_int_equal(l.year, 1);
	tz_to_local(z, INT64_MAX, &l);
	assert_int_equal(l.year, 10000);	/* 9999-12-31T23:59:59Z + 1 h */
	t = tz_from_local(z, INT_MAX, INT_MAX, INT_MAX, INT_MAX, INT_MAX, INT_MAX);
	assert_true(t <= TZ_TIME_MAX && t > TZ_TIME_MAX - 2 * 86400);
	t = tz_from_local(z, INT_MIN, INT_MIN, INT_MIN, INT_MIN, INT_MIN, INT_MIN);
	assert_true(t >= TZ_TIME_MIN && t < TZ_TIME_MIN + 2 * 86400);
	/* The calendar helpers agree with known day numbers. */
	assert_int_equal(tz_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(tz_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(tz_days_from_civil(1, 1, 1), -719162);
	assert_int_equal(tz_days_in_month(2024, 2), 29);
	assert_int_equal(tz_days_in_month(2100, 2), 28);
	assert_int_equal(tz_days_in_month(2000, 2), 29);
}

/* ---- synthetic TZif data --------------------------------------------------- */

static void put32(unsigned char **p, uint32_t v)
{
	(*p)[0] = (unsigned char)(v >> 24);
	(*p)[1] = (unsigned char)(v >> 16);
	(*p)[2] = (unsigned char)(v >> 8);
	(*p)[3] = (unsigned char)v;
	*p += 4;
}

static void put64(unsigned char **p, int64_t v)
{
	put32(p, (uint32_t)((uint64_t)v >> 32));
	put32(p, (uint32_t)v);
}

struct synth {
	char version;			/* 0, '2', '3' */
	size_t n_trans;
	const int64_t *trans;
	const unsigned char *idx;
	size_t n_types;
	const int32_t *utoff;
	const unsigned char *isdst;	/* abbreviations are "AAA", "BBB", ... */
	const char *footer;		/* NULL: none at all */
};

static void put_block(unsigned char **p, const struct synth *s, int tsize)
{
	size_t i;

	memcpy(*p, "TZif", 4);
	(*p)[4] = (unsigned char)s->version;
	memset(*p + 5, 0, 15);
	*p += 20;
	put32(p, 0);
	put32(p, 0);
	put32(p, 0);
	put32(p, (uint32_t)s->n_trans);
	put32(p, (uint32_t)s->n_types);
	put32(p, (uint32_t)(4 * s->n_types));
	for (i = 0; i < s->n_trans; i++) {
		if (tsize == 8)
			put64(p, s->trans[i]);
		else
			put32(p, (uint32_t)s->trans[i]);
	}
	for (i = 0; i < s->n_trans; i++)
		*(*p)++ = s->idx[i];
	for (i = 0; i < s->n_types; i++) {
		put32(p, (uint32_t)s->utoff[i]);
		*(*p)++ = s->isdst[i];
		*(*p)++ = (unsigned char)(4 * i);
	}
	for (i = 0; i < s->n_types; i++) {
		memset(*p, 'A' + (int)i, 3);
		(*p)[3] = '\0';
		*p += 4;
	}
}

static size_t build(unsigned char *out, const struct synth *s)
{
	unsigned char *p = out;

	put_block(&p, s, 4);
	if (s->version) {
		put_block(&p, s, 8);
		if (s->footer) {
			size_t n = strlen(s->footer);

			*p++ = '\n';
			memcpy(p, s->footer, n);
			p += n;
			*p++ = '\n';
		}
	}
	return (size_t)(p - out);
}

/* A version 2 zone with no transitions: the footer decides everything. */
static struct tz *footer_zone(const char *footer)
{
	static const int32_t utoff[] = { 0 };
	static const unsigned char isdst[] = { 0 };
	struct synth s = { '2', 0, NULL, NULL, 1, utoff, isdst, footer };
	unsigned char buf[512];

	return tz_parse("synthetic", buf, build(buf, &s));
}

static void check_footer(const char *footer, int64_t t, int off, int dst, const char *abbr)
{
	struct tz *z = footer_zone(footer);

	if (!z)
		fail_msg("footer \"%s\" rejected", footer);
	check_offset(z, t, off, dst, abbr);
	tz_free(z);
}

static void test_footer_rules(void **state)
{
	(void)state;
	/* Permanent DST idiom (python zoneinfo): DST across the year end. */
	check_footer("EST5EDT,0/0,J365/25", 1767225600, -14400, 1, "EDT");
	check_footer("EST5EDT,0/0,J365/25", 1782864000, -14400, 1, "EDT");
	check_footer("EST5EDT,0/0,J365/25", 1798758000, -14400, 1, "EDT");
	/* Quoted names and minutes in the offset. */
	check_footer("<+0330>-3:30", 1767225600, 12600, 0, "+0330");
	/* Jn never counts Feb 29: J60 is March 1 in leap and common years. */
	check_footer("AAA3BBB,J60/0,J300/0", 1709261999, -10800, 0, "AAA");
	check_footer("AAA3BBB,J60/0,J300/0", 1709262000, -7200, 1, "BBB");
	check_footer("AAA3BBB,J60/0,J300/0", 1772333999, -10800, 0, "AAA");
	check_footer("AAA3BBB,J60/0,J300/0", 1772334000, -7200, 1, "BBB");
	/* Zero-based n counts Feb 29 (GNU date; python's zoneinfo is off by
	 * one here): day 59 is Feb 29 in 2024 and March 1 in 2026. */
	check_footer("AAA3BBB,59/0,300/0", 1709175599, -10800, 0, "AAA");
	check_footer("AAA3BBB,59/0,300/0", 1709175600, -7200, 1, "BBB");
	check_footer("AAA3BBB,59/0,300/0", 1772333999, -10800, 0, "AAA");
	check_footer("AAA3BBB,59/0,300/0", 1772334000, -7200, 1, "BBB");
	/* Negative rule time (America/Nuuk). */
	check_footer("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 1774745999, -7200, 0, "-02");
	check_footer("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 1774746000, -3600, 1, "-01");
	check_footer("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 1792889999, -3600, 1, "-01");
	check_footer("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 1792890000, -7200, 0, "-02");
	/* Rule time past 24 h (Asia/Jerusalem). */
	check_footer("IST-2IDT,M3.4.4/26,M10.5.0", 1774569599, 7200, 0, "IST");
	check_footer("IST-2IDT,M3.4.4/26,M10.5.0", 1774569600, 10800, 1, "IDT");
	/* Explicit DST offset, southern hemisphere. */
	check_footer("AAA-10BBB-11:30,M10.1.0,M4.1.0/3", 1768435200, 41400, 1, "BBB");
	check_footer("AAA-10BBB-11:30,M10.1.0,M4.1.0/3", 1781481600, 36000, 0, "AAA");
	/* DST without rules takes the US rules (as glibc does). */
	check_footer("AAA5BBB", 1772953199, -18000, 0, "AAA");
	check_footer("AAA5BBB", 1772953200, -14400, 1, "BBB");
}

static void test_footer_rejected(void **state)
{
	static const char *const bad[] = {
		"E5", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0",
		"EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J300",
		"EST5EDT,J366,J300", "EST5EDT,366,300", "EST5EDT,M3.2.0/168,M11.1.0",
		"EST25", "EST5EDT25", "<+05", "<>5", "EST5:60", "EST5EDT,M3.2.0,M11.1.0x",
		"EST 5", "EST5EDT;M3.2.0,M11.1.0", "EST5EDT,M3.2.0/2:,M11.1.0",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		struct tz *z = footer_zone(bad[i]);

		if (z) {
			tz_free(z);
			fail_msg("accepted footer \"%s\"", bad[i]);
		}
	}
}

static void test_version1_and_no_footer(void **state)
{
	static const int64_t trans[] = { 1000000000, 1100000000 };
	static const unsigned char idx[] = { 1, 0 };
	static const int32_t utoff[] = { -18000, -14400 };
	static const unsigned char isdst[] = { 0, 1 };
	struct synth s = { 0, 2, trans, idx, 2, utoff, isdst, NULL };
	unsigned char buf[512];
	struct tz *z;

	(void)state;
	/* Version 1: 32-bit data only, no footer. */
	z = tz_parse("v1", buf, build(buf, &s));
	assert_non_null(z);
	check_offset(z, 999999999, -18000, 0, "AAA");
	check_offset(z, 1000000000, -14400, 1, "BBB");
	check_offset(z, 1100000000, -18000, 0, "AAA");
	check_offset(z, 2000000000, -18000, 0, "AAA");
	assert_int_equal(tz_from_local(z, 2001, 9, 9, 0, 0, 0), 1000008000);
	/* Gap (20:46:40 -> 21:46:40) and fold (07:33:20 -> 06:33:20). */
	assert_int_equal(tz_from_local(z, 2001, 9, 8, 21, 0, 0), 1000000800);
	assert_int_equal(tz_from_local(z, 2004, 11, 9, 7, 0, 0), 1099998000);
	tz_free(z);

	/* Version 2 whose footer is absent or empty: the last type holds. */
	s.version = '2';
	s.idx = (const unsigned char[]){ 0, 1 };
	z = tz_parse("v2", buf, build(buf, &s));
	assert_non_null(z);
	check_offset(z, 2000000000, -14400, 1, "BBB");
	tz_free(z);
	s.footer = "";
	z = tz_parse("v2", buf, build(buf, &s));
	assert_non_null(z);
	check_offset(z, 4000000000, -14400, 1, "BBB");
	tz_free(z);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = xmalloc(65536);

	assert_non_null(f);
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	return buf;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Offsets into a v2 file, worked out here rather than by the parser. */
struct layout {
	size_t hdr2, data2, timecnt, typecnt, types, end;
};

static struct layout layout_of(const unsigned char *d)
{
	struct layout l;
	size_t v1 = 44 + get32(d + 32) * 5 + get32(d + 36) * 6 + get32(d + 40) +
		    get32(d + 28) * 8 + get32(d + 24) + get32(d + 20);
	const unsigned char *h = d + v1;

	l.hdr2 = v1;
	l.data2 = v1 + 44;
	l.timecnt = get32(h + 32);
	l.typecnt = get32(h + 36);
	l.types = l.data2 + l.timecnt * 9;
	l.end = l.types + l.typecnt * 6 + get32(h + 40) + get32(h + 28) * 12 +
		get32(h + 24) + get32(h + 20);
	return l;
}

static void expect_rejected(const unsigned char *data, size_t len, const char *what)
{
	struct tz *z = tz_parse("x", data, len);

	if (z) {
		tz_free(z);
		fail_msg("accepted %s", what);
	}
}

static void test_malformed_files(void **state)
{
	size_t len, cut;
	unsigned char *orig = slurp("/usr/share/zoneinfo/Europe/Berlin", &len);
	unsigned char *d = xmalloc(len);
	struct layout l = layout_of(orig);
	struct tz *z;

	(void)state;
	z = tz_parse("Europe/Berlin", orig, len);
	assert_non_null(z);
	check_offset(z, 1774746000, 7200, 1, "CEST");
	tz_free(z);

	/* Every truncation: rejected, except right before the footer. */
	for (cut = 0; cut < len; cut++) {
		z = tz_parse("x", orig, cut);
		if (cut == l.end)
			assert_non_null(z);
		else if (z)
			fail_msg("accepted a file cut at %zu of %zu", cut, len);
		tz_free(z);
	}

#define MUTATE(what, stmt) do {				\
		memcpy(d, orig, len);			\
		stmt;					\
		expect_rejected(d, len, what);		\
	} while (0)

	MUTATE("bad magic", d[0] = 'X');
	MUTATE("bad v2 magic", d[l.hdr2 + 3] = 'x');
	MUTATE("version 1", d[4] = '1');
	MUTATE("leap seconds", d[l.hdr2 + 31] = 1);
	MUTATE("zero types", memset(d + l.hdr2 + 36, 0, 4));
	MUTATE("huge timecnt", memset(d + l.hdr2 + 32, 0xff, 4));
	MUTATE("huge charcnt", memset(d + l.hdr2 + 40, 0x7f, 4));
	MUTATE("transitions out of order", memset(d + l.data2 + 8 * 5, 0x7f, 8));
	MUTATE("type index out of range", d[l.data2 + l.timecnt * 8 + 3] = (unsigned char)l.typecnt);
	MUTATE("utoff out of range", memset(d + l.types, 0x7f, 4));
	MUTATE("isdst 2", d[l.types + 4] = 2);
	MUTATE("abbreviation index out of range", d[l.types + 5] = 0xff);
	MUTATE("footer without newline", d[l.end] = 'C');
	MUTATE("footer newline missing", d[len - 1] = 'x');
	MUTATE("NUL in footer", d[l.end + 2] = '\0');
#undef MUTATE
	free(d);
	free(orig);
}

/* ---- loading from a directory -------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_zoneinfo_dir(void **state)
{
	static const int32_t utoff[] = { 0 };
	static const unsigned char isdst[] = { 0 };
	struct synth s = { '2', 0, NULL, NULL, 1, utoff, isdst, "<+0545>-5:45" };
	char dir[] = "/tmp/wk_tz_XXXXXX", path[PATH_MAX];
	unsigned char buf[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/Test", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/Test/Good", dir);
	write_file(path, buf, build(buf, &s));
	snprintf(path, sizeof(path), "%s/Test/Bad", dir);
	write_file(path, "TZif2 not really", 16);
	snprintf(path, sizeof(path), "%s/Test/Empty", dir);
	write_file(path, "", 0);

	setenv("WK_ZONEINFO_DIR", dir, 1);
	check_offset(zone("Test/Good"), 0, 20700, 0, "+0545");
	assert_null(tz_get("Test/Bad"));
	assert_null(tz_get("Test/Empty"));
	assert_null(tz_get("Test"));		/* a directory */
	assert_null(tz_get("Test/Missing"));
	unsetenv("WK_ZONEINFO_DIR");

	/* Cached zones stay; the files are no longer needed. */
	check_offset(zone("Test/Good"), 0, 20700, 0, "+0545");
	snprintf(path, sizeof(path), "%s/Test/Good", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Test/Bad", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Test/Empty", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Test", dir);
	rmdir(path);
	rmdir(dir);
}

/* ---- threads ----------------------------------------------------------------- */

static const char *const thread_zones[] = {
	"America/Chicago", "Europe/Paris", "Asia/Tokyo", "America/Denver",
	"Africa/Cairo", "Europe/Lisbon", "America/Halifax", "Asia/Tehran",
};

static void *thread_main(void *arg)
{
	const struct tz **seen = arg;
	size_t i, round;

	for (round = 0; round < 200; round++) {
		for (i = 0; i < ARRAY_LEN(thread_zones); i++) {
			const struct tz *z = tz_get(thread_zones[i]);

			if (!z || (seen[i] && seen[i] != z))
				return "bad pointer";
			seen[i] = z;
			if (tz_utc_offset(seen[0], 1772956800, NULL) != -18000)
				return "bad offset";
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	const struct tz *seen[8][ARRAY_LEN(thread_zones)];
	pthread_t th[8];
	void *ret;
	size_t i, j;

	(void)state;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, seen[i]), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
	for (i = 1; i < 8; i++)
		for (j = 0; j < ARRAY_LEN(thread_zones); j++)
			assert_ptr_equal(seen[i][j], seen[0][j]);
}

static int teardown(void **state)
{
	(void)state;
	tz_shutdown();
	return 0;
}

/* ---- bot/when.c: the one way times are shown, and what people type ---- */

static void test_when_format_year_only_when_not_this_year(void **state)
{
	const struct tz *ny = zone("America/New_York");
	char out[64];

	(void)state;
	/* now = 2026-11-29 12:00Z; 2026-12-24 13:00Z is 08:00 EST the same year */
	assert_string_equal(when_format_at(ny, 1798117200, 1795953600, out, sizeof(out)),
			    "Thu 24 Dec 08:00 EST");
	/* 2027-01-04 14:00Z: next year, so the year shows */
	assert_string_equal(when_format_at(ny, 1799071200, 1795953600, out, sizeof(out)),
			    "Mon 4 Jan 2027 09:00 EST");
	/* 2027-01-01 03:00Z is still 2026-12-31 22:00 in New York: no year there */
	assert_string_equal(when_format_at(ny, 1798772400, 1795953600, out, sizeof(out)),
			    "Thu 31 Dec 22:00 EST");
}

static void check_refused(const char *a, const char *b, unsigned flags, const char *needle)
{
	char *argv[] = { (char *)a, (char *)b };
	char why[300] = "";
	int64_t t;

	if (when_parse_flags(zone("UTC"), 1795953600, 1795953600, b ? 2 : 1, argv, flags, &t, why,
			     sizeof(why)) >= 0)
		fail_msg("\"%s %s\" accepted", a, b ? b : "");
	if (!strstr(why, needle))
		fail_msg("\"%s %s\": \"%s\" does not say \"%s\"", a, b ? b : "", why, needle);
}

static void test_when_typos_get_a_suggestion(void **state)
{
	(void)state;
	check_refused("tomorow", "09:00", 0, "did you mean `tomorrow`?");
	check_refused("tommorrow", NULL, 0, "did you mean `tomorrow`?");
	check_refused("tmrw", "09:00", 0, "did you mean `tomorrow`?");
	check_refused("tody", "18:00", 0, "did you mean `today`?");
	check_refused("nwo", NULL, 0, "did you mean `now`?");
	check_refused("+2hrs", NULL, 0, "did you mean `+2h`?");
	check_refused("+2hours", NULL, 0, "did you mean `+2h`?");
	check_refused("+90min", NULL, 0, "did you mean `+90m`?");
	check_refused("+3days", NULL, 0, "did you mean `+3d`?");
	check_refused("+1week", NULL, 0, "did you mean `+1w`?");
	check_refused("48h", NULL, 0, "did you mean `+48h`?");
	check_refused("+2x", NULL, 0, "not a duration I can read");
	check_refused("banana", NULL, 0, "without guessing");
	check_refused("12/24", NULL, 0, "without guessing");
	check_refused("8am", NULL, 0, "without guessing");
}

static void test_when_need_time_refuses_a_bare_day(void **state)
{
	char *argv[] = { "tomorrow", "09:00" };
	char why[300];
	int64_t t;

	(void)state;
	check_refused("tomorrow", "+2h", WHEN_NEED_TIME, "`tomorrow` is a whole day; say at what time");
	check_refused("2026-12-24", NULL, WHEN_NEED_TIME, "`2026-12-24 09:00`");
	/* with a time it is read as before; without the flag a bare day is 00:00 */
	assert_int_equal(when_parse_flags(zone("UTC"), 1795953600, 1795953600, 2, argv, WHEN_NEED_TIME,
					  &t, why, sizeof(why)), 2);
	assert_int_equal(t, 1796029200);	/* 2026-11-30 09:00Z */
	assert_int_equal(when_parse(zone("UTC"), 1795953600, 1795953600, 1, argv, &t, why, sizeof(why)), 1);
	assert_int_equal(t, 1795996800);
}

static void test_when_handoff_one_parser(void **state)
{
	char *mon[] = { "mon", "09:00" }, *full[] = { "Monday", "18:30" }, *bare[] = { "09:00" },
	     *badt[] = { "mon", "9:00" };
	char why[200];
	int wd, h, m;

	(void)state;
	assert_int_equal(when_parse_handoff(2, mon, false, &wd, &h, &m, why, sizeof(why)), 2);
	assert_int_equal(wd, 1);
	assert_int_equal(h, 9);
	assert_int_equal(when_parse_handoff(2, full, false, &wd, &h, &m, why, sizeof(why)), 2);
	assert_int_equal(m, 30);
	assert_int_equal(when_parse_handoff(1, bare, true, &wd, &h, &m, why, sizeof(why)), 1);
	assert_int_equal(wd, -1);
	assert_int_equal(when_parse_handoff(1, bare, false, &wd, &h, &m, why, sizeof(why)), -1);
	assert_int_equal(when_parse_handoff(2, badt, false, &wd, &h, &m, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "`mon 09:00`"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_rejected),
		cmocka_unit_test(test_utc_and_cache),
		cmocka_unit_test(test_chicago),
		cmocka_unit_test(test_berlin),
		cmocka_unit_test(test_sydney),
		cmocka_unit_test(test_kolkata),
		cmocka_unit_test(test_far_future_footer),
		cmocka_unit_test(test_before_first_transition),
		cmocka_unit_test(test_from_local_gap),
		cmocka_unit_test(test_from_local_fold),
		cmocka_unit_test(test_from_local_ordinary),
		cmocka_unit_test(test_from_local_normalise),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_footer_rules),
		cmocka_unit_test(test_footer_rejected),
		cmocka_unit_test(test_version1_and_no_footer),
		cmocka_unit_test(test_malformed_files),
		cmocka_unit_test(test_zoneinfo_dir),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_when_format_year_only_when_not_this_year),
		cmocka_unit_test(test_when_typos_get_a_suggestion),
		cmocka_unit_test(test_when_need_time_refuses_a_bare_day),
		cmocka_unit_test(test_when_handoff_one_parser),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
