/* test_report.c - bot/report.c on hand-built schedules.
 *
 * Instants in Europe/Berlin were computed outside this code with python3
 * zoneinfo (datetime(..., tzinfo=ZoneInfo("Europe/Berlin")).timestamp()) and
 * hard-coded:
 *   2026-03-27 18:00 CET  1774630800    2026-03-28 00:00 CET  1774652400
 *   2026-03-30 00:00 CEST 1774821600    2026-03-30 09:00 CEST 1774854000
 *   2026-10-23 18:00 CEST 1792771200    2026-10-24 00:00 CEST 1792792800
 *   2026-10-26 00:00 CET  1792969200    2026-10-26 09:00 CET  1793001600
 * 2026-03-29 (Sunday) has 23 hours there, 2026-10-25 (Sunday) has 25. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "bot/buf.h"
#include "bot/reply.h"
#include "bot/report.h"
#include "bot/util.h"
#include "bot/when.h"

#define H 3600

static struct segment seg(int64_t start, int64_t end, const char *member, enum segment_source src,
			  const char *rotation, int64_t index, const char *override_id)
{
	struct segment s;

	memset(&s, 0, sizeof(s));
	s.start = start;
	s.end = end;
	wk_strlcpy(s.member, member, sizeof(s.member));
	s.source = src;
	wk_strlcpy(s.rotation, rotation, sizeof(s.rotation));
	s.shift_index = index;
	s.shift_start = start;
	s.shift_end = end;
	wk_strlcpy(s.override_id, override_id, sizeof(s.override_id));
	return s;
}

static const struct report_row *row(const struct report *rep, const char *member)
{
	for (size_t i = 0; i < rep->nrows; i++)
		if (strcmp(rep->rows[i].member, member) == 0)
			return &rep->rows[i];
	fail_msg("no row for %s", member);
	return NULL;
}

/* Friday 18:00 to Monday 09:00 across the spring-forward weekend: the
 * weekend is Saturday 24 h + Sunday 23 h, split at local midnights. */
static void test_weekend_spring_forward(void **state)
{
	struct segment g[] = { seg(1774630800, 1774854000, "U1", SEGMENT_ROTATION, "r1", 7, "") };
	struct schedule s = { g, 1 };
	struct report rep;

	(void)state;
	assert_int_equal(report_build(&s, "Europe/Berlin", 1774630800, 1774854000, &rep), 0);
	assert_int_equal(rep.nrows, 1);
	assert_int_equal(rep.rows[0].seconds, 62 * H);
	assert_int_equal(rep.rows[0].weekend_seconds, 47 * H);
	assert_int_equal(rep.rows[0].weekday_seconds, 15 * H);
	assert_int_equal(rep.rows[0].shifts, 1);
	assert_int_equal(rep.gap_seconds, 0);
	report_free(&rep);
}

/* The same across the fall-back weekend: Sunday has 25 hours. */
static void test_weekend_fall_back(void **state)
{
	struct segment g[] = { seg(1792771200, 1793001600, "U1", SEGMENT_ROTATION, "r1", 7, "") };
	struct schedule s = { g, 1 };
	struct report rep;

	(void)state;
	assert_int_equal(report_build(&s, "Europe/Berlin", 1792771200, 1793001600, &rep), 0);
	assert_int_equal(rep.rows[0].seconds, 64 * H);
	assert_int_equal(rep.rows[0].weekend_seconds, 49 * H);
	assert_int_equal(rep.rows[0].weekday_seconds, 15 * H);
	report_free(&rep);
}

/* The weekend starts at local midnight, not UTC midnight: Saturday 00:00 CET
 * is Friday 23:00 UTC. */
static void test_split_at_local_midnight(void **state)
{
	/* Friday 22:00 CET (21:00Z) to Saturday 02:00 CET (01:00Z). */
	int64_t a = 1774652400 - 2 * H, b = 1774652400 + 2 * H;
	struct segment g[] = { seg(a, b, "U1", SEGMENT_ROTATION, "r1", 1, "") };
	struct schedule s = { g, 1 };
	struct report rep;

	(void)state;
	assert_int_equal(report_build(&s, "Europe/Berlin", a, b, &rep), 0);
	assert_int_equal(rep.rows[0].weekday_seconds, 2 * H);
	assert_int_equal(rep.rows[0].weekend_seconds, 2 * H);
	report_free(&rep);
	/* In UTC the same instants are 21:00 Fri to 01:00 Sat: 3 h + 1 h. */
	assert_int_equal(report_build(&s, "UTC", a, b, &rep), 0);
	assert_int_equal(rep.rows[0].weekday_seconds, 3 * H);
	assert_int_equal(rep.rows[0].weekend_seconds, 1 * H);
	report_free(&rep);
}

/* Shifts, overrides, swaps, gaps, clipping and the order of rows.
 * Timeline (hours from T, a Monday 00:00 UTC = 2026-03-16):
 *   0-10   U1 rotation shift 0
 *   10-12  U2 override o1 (inside U1's shift 0)
 *   12-20  U1 rotation shift 0 again (same shift: still one)
 *   20-24  U2 override o1 continues into shift 1 (same override: one)
 *   24-30  U3 rotation shift 1
 *   30-34  nobody
 *   34-40  U3 swap s1 over shift 2 (underneath: rotation r1 shift 2)
 *   40-50  U2 rotation shift 2 */
static void test_counts(void **state)
{
	const int64_t T = 1773619200;	/* 2026-03-16 00:00:00Z, a Monday */
	struct segment g[] = {
		seg(T + 0 * H, T + 10 * H, "U1", SEGMENT_ROTATION, "r1", 0, ""),
		seg(T + 10 * H, T + 12 * H, "U2", SEGMENT_OVERRIDE, "r1", 0, "o1"),
		seg(T + 12 * H, T + 20 * H, "U1", SEGMENT_ROTATION, "r1", 0, ""),
		seg(T + 20 * H, T + 24 * H, "U2", SEGMENT_OVERRIDE, "r1", 1, "o1"),
		seg(T + 24 * H, T + 30 * H, "U3", SEGMENT_ROTATION, "r1", 1, ""),
		seg(T + 30 * H, T + 34 * H, "", SEGMENT_ROTATION, "", 0, ""),
		seg(T + 34 * H, T + 40 * H, "U3", SEGMENT_SWAP, "r1", 2, "s1"),
		seg(T + 40 * H, T + 50 * H, "U2", SEGMENT_ROTATION, "r1", 2, ""),
	};
	struct schedule s = { g, ARRAY_LEN(g) };
	struct report rep;
	const struct report_row *u1, *u2, *u3;

	(void)state;
	assert_int_equal(report_build(&s, "UTC", T, T + 50 * H, &rep), 0);
	assert_int_equal(rep.nrows, 3);
	u1 = row(&rep, "U1");
	u2 = row(&rep, "U2");
	u3 = row(&rep, "U3");
	assert_int_equal(u1->seconds, 18 * H);
	assert_int_equal(u1->shifts, 1);
	assert_int_equal(u1->overrides, 0);
	assert_int_equal(u2->seconds, 16 * H);
	assert_int_equal(u2->shifts, 3);	/* part of 0, part of 1, shift 2 */
	assert_int_equal(u2->overrides, 1);
	assert_int_equal(u2->swaps, 0);
	assert_int_equal(u3->seconds, 12 * H);
	assert_int_equal(u3->shifts, 2);
	assert_int_equal(u3->swaps, 1);
	assert_int_equal(u3->overrides, 0);
	assert_int_equal(rep.gap_seconds, 4 * H);
	/* Most hours first. */
	assert_string_equal(rep.rows[0].member, "U1");
	assert_string_equal(rep.rows[1].member, "U2");
	assert_string_equal(rep.rows[2].member, "U3");
	report_free(&rep);

	/* Clipped to hours 5..26: U1 5-10 and 12-20 (13 h), U2 10-12, 20-24 (6 h),
	 * U3 24-26 (2 h). Uncovered time before/after the schedule counts as gap. */
	assert_int_equal(report_build(&s, "UTC", T + 5 * H, T + 26 * H, &rep), 0);
	assert_int_equal(row(&rep, "U1")->seconds, 13 * H);
	assert_int_equal(row(&rep, "U2")->seconds, 6 * H);
	assert_int_equal(row(&rep, "U3")->seconds, 2 * H);
	assert_int_equal(row(&rep, "U3")->shifts, 1);
	assert_int_equal(rep.gap_seconds, 0);
	report_free(&rep);
	assert_int_equal(report_build(&s, "UTC", T - 2 * H, T + 1 * H, &rep), 0);
	assert_int_equal(rep.gap_seconds, 2 * H);
	assert_int_equal(row(&rep, "U1")->seconds, 1 * H);
	report_free(&rep);
}

static void test_ties_and_empty(void **state)
{
	struct segment g[] = {
		seg(0, 10, "b", SEGMENT_ROTATION, "r", 0, ""),
		seg(10, 20, "a", SEGMENT_ROTATION, "r", 1, ""),
	};
	struct schedule s = { g, 2 }, none = { NULL, 0 };
	struct report rep;

	(void)state;
	assert_int_equal(report_build(&s, "UTC", 0, 20, &rep), 0);
	assert_string_equal(rep.rows[0].member, "a");	/* equal hours: by id */
	report_free(&rep);
	assert_int_equal(report_build(&none, "UTC", 0, 86400, &rep), 0);
	assert_int_equal(rep.nrows, 0);
	assert_int_equal(rep.gap_seconds, 86400);
	report_free(&rep);
}

static void test_bad_arguments(void **state)
{
	struct schedule none = { NULL, 0 };
	struct report rep;

	(void)state;
	assert_int_equal(report_build(&none, "Mars/Olympus", 0, 10, &rep), -1);
	assert_int_equal(report_build(&none, "../etc/passwd", 0, 10, &rep), -1);
	assert_int_equal(report_build(&none, "UTC", 10, 10, &rep), -1);
	assert_int_equal(report_build(&none, "UTC", 0, REPORT_MAX_RANGE_S + 1, &rep), -1);
	report_free(&rep);	/* safe after a failure */
}

static void test_hours(void **state)
{
	char b[32];

	(void)state;
	report_hours(0, b, sizeof(b));
	assert_string_equal(b, "0.00");
	report_hours(5400, b, sizeof(b));
	assert_string_equal(b, "1.50");
	report_hours(62 * H, b, sizeof(b));
	assert_string_equal(b, "62.00");
	report_hours(17, b, sizeof(b));		/* 0.0047 h rounds down */
	assert_string_equal(b, "0.00");
	report_hours(18, b, sizeof(b));		/* 0.005 h rounds half up */
	assert_string_equal(b, "0.01");
}

static void test_csv(void **state)
{
	struct report_row rows[] = {
		{ "=HYPERLINK(1)", 2, 36 * H, 30 * H, 6 * H, 1, 0 },
		{ "-x", 1, 5400, 5400, 0, 0, 1 },
		{ "a,\"b\"", 0, 0, 0, 0, 0, 0 },
		{ "@sum", 0, 0, 0, 0, 0, 0 },
		{ "+1", 0, 0, 0, 0, 0, 0 },
	};
	struct report rep = { "UTC", 0, 100 * H, rows, ARRAY_LEN(rows), 2 * H, H, H };
	struct buf out = BUF_INIT(0);

	(void)state;
	assert_int_equal(report_csv(&rep, &out), 0);
	assert_string_equal(buf_cstr(&out),
			    "member,shifts,hours,weekday_hours,weekend_hours,overrides,swaps\r\n"
			    "'=HYPERLINK(1),2,36.00,30.00,6.00,1,0\r\n"
			    "'-x,1,1.50,1.50,0.00,0,1\r\n"
			    "\"a,\"\"b\"\"\",0,0.00,0.00,0.00,0,0\r\n"
			    "'@sum,0,0.00,0.00,0.00,0,0\r\n"
			    "'+1,0,0.00,0.00,0.00,0,0\r\n"
			    "(nobody),0,2.00,1.00,1.00,0,0\r\n");
	buf_free(&out);

	/* A full buffer is an error, not a truncated CSV. */
	struct buf tiny = BUF_INIT(40);
	assert_int_equal(report_csv(&rep, &tiny), -1);
	buf_free(&tiny);
}

static void test_gap_split(void **state)
{
	/* Friday 22:00 to Saturday 02:00 Berlin with nobody on call. */
	struct schedule none = { NULL, 0 };
	struct report rep;

	(void)state;
	assert_int_equal(report_build(&none, "Europe/Berlin", 1774652400 - 2 * H, 1774652400 + 2 * H,
				      &rep), 0);
	assert_int_equal(rep.gap_seconds, 4 * H);
	assert_int_equal(rep.gap_weekday_seconds, 2 * H);
	assert_int_equal(rep.gap_weekend_seconds, 2 * H);
	report_free(&rep);
}

static void test_render(void **state)
{
	struct segment g[] = {
		seg(1774630800, 1774854000, "U1", SEGMENT_ROTATION, "r1", 7, ""),
	};
	struct schedule s = { g, 1 };
	struct report rep;
	struct reply r;

	(void)state;
	reply_init(&r);
	assert_int_equal(report_build(&s, "Europe/Berlin", 1774630800, 1774854000 + 3 * H, &rep), 0);
	report_render(&rep, &r);
	assert_int_equal(r.nsections, 3);
	/* in the one format every reply uses (the year shows only when it is not this one) */
	char a[64], b[64], want[200];
	snprintf(want, sizeof(want), "*Period:* %s to %s (Europe/Berlin)",
		 when_format(tz_get("Europe/Berlin"), 1774630800, a, sizeof(a)),
		 when_format(tz_get("Europe/Berlin"), 1774854000 + 3 * H, b, sizeof(b)));
	assert_string_equal(r.sections[0].text, want);
	assert_non_null(strstr(want, "27 Mar"));
	assert_non_null(strstr(want, "18:00 CET"));
	assert_non_null(strstr(want, "12:00 CEST"));
	assert_string_equal(r.sections[1].text, "<@U1>");
	assert_int_equal(r.sections[1].nfields, 6);
	assert_string_equal(r.sections[1].fields[0].label, "Hours");
	assert_string_equal(r.sections[1].fields[0].value, "62.00");
	assert_string_equal(r.sections[1].fields[3].value, "47.00");
	assert_non_null(strstr(r.sections[2].text, "3.00 hours"));
	report_free(&rep);
	reply_free(&r);

	/* Many members: at most REPORT_RENDER_ROWS sections of them, the rest counted. */
	struct segment many[40];
	char id[16];
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "U%02d", i);
		many[i] = seg(i * H, (i + 1) * H, id, SEGMENT_ROTATION, "r", i, "");
	}
	struct schedule ms = { many, 40 };
	reply_init(&r);
	assert_int_equal(report_build(&ms, "UTC", 0, 40 * H, &rep), 0);
	report_render(&rep, &r);
	assert_int_equal(r.nsections, REPORT_RENDER_ROWS + 2);
	assert_true(r.nsections <= REPLY_MAX_SECTIONS - 3);
	assert_non_null(strstr(r.sections[r.nsections - 1].text, "25 more"));
	report_free(&rep);
	reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weekend_spring_forward),
		cmocka_unit_test(test_weekend_fall_back),
		cmocka_unit_test(test_split_at_local_midnight),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_ties_and_empty),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_hours),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_gap_split),
		cmocka_unit_test(test_render),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tz_shutdown();
	return rc;
}
