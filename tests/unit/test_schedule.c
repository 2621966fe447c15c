/* The final schedule: versions, windows, priorities, overrides and swaps, and
 * the escalation chain. Expected instants are written out by hand (UTC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bot/schedule.h"
#include "bot/tz.h"
#include "bot/util.h"

/* 2026-11-02 (Mon) 09:00 Europe/Berlin = 08:00 UTC */
#define MON_0900_BERLIN 1793606400LL
#define H 3600LL
#define D 86400LL

static char *ids[] = { "A", "B", "C", "D" };

static void weekly_version(struct rotation_version *v, int64_t from, size_t n, size_t first)
{
	memset(v, 0, sizeof(*v));
	v->effective_from = from;
	wk_strlcpy(v->tz, "Europe/Berlin", sizeof(v->tz));
	v->spec = (struct rotation_spec){ tz_get("Europe/Berlin"), 2026, 11, 2, 9, 0, ROTATION_WEEKS, 1 };
	v->members = ids;
	v->nmembers = n;
	v->first_member = first;
}

static void test_weekly_and_chain(void **state)
{
	struct rotation_version v;
	struct rotation_plan r = { .id = "r1", .name = "main", .priority = 10, .versions = &v, .nversions = 1 };
	struct team_plan p = { .rotations = &r, .nrotations = 1 };
	struct schedule s;
	struct oncall_chain c;

	(void)state;
	weekly_version(&v, MON_0900_BERLIN, 3, 0);
	assert_int_equal(schedule_build(&p, MON_0900_BERLIN, MON_0900_BERLIN + 21 * D, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.seg[0].member, "A");
	assert_string_equal(s.seg[1].member, "B");
	assert_string_equal(s.seg[2].member, "C");
	assert_int_equal(s.seg[1].start, MON_0900_BERLIN + 7 * D);
	schedule_free(&s);
	/* Before the first version nobody is on call: one gap segment. */
	assert_int_equal(schedule_build(&p, MON_0900_BERLIN - D, MON_0900_BERLIN, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.seg[0].member, "");
	schedule_free(&s);
	/* Week 2: B on call; backups are the ones before B: A, then C. */
	assert_int_equal(schedule_chain(&p, MON_0900_BERLIN + 8 * D, &c), 0);
	assert_string_equal(c.primary, "B");
	assert_string_equal(c.secondary, "A");
	assert_string_equal(c.tertiary, "C");
	assert_int_equal(c.until, MON_0900_BERLIN + 14 * D);
}

static void test_new_version_keeps_current_shift(void **state)
{
	struct rotation_version v[2];
	struct rotation_plan r = { .id = "r1", .priority = 10, .versions = v, .nversions = 2 };
	struct team_plan p = { .rotations = &r, .nrotations = 1 };
	struct schedule s;

	(void)state;
	weekly_version(&v[0], MON_0900_BERLIN, 3, 0);
	/* An edit during week 1 (A on call) adds D; it starts at the next handoff with
	 * the one after A in the new order (B), so A keeps the week. */
	weekly_version(&v[1], MON_0900_BERLIN + 7 * D, 4, 1);
	assert_int_equal(schedule_build(&p, MON_0900_BERLIN, MON_0900_BERLIN + 28 * D, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.seg[0].member, "A");
	assert_string_equal(s.seg[1].member, "B");
	assert_string_equal(s.seg[2].member, "C");
	assert_string_equal(s.seg[3].member, "D");
	schedule_free(&s);
}

static void test_windows_and_priority(void **state)
{
	static char *night_ids[] = { "N1", "N2" };
	struct rotation_version day, night;
	struct rotation_window business = { 0x3e, 8 * 60, 18 * 60 };	/* Mon-Fri 08-18 */
	struct rotation_plan r[2] = {
		{ .id = "night", .priority = 2, .versions = &night, .nversions = 1 },
		{ .id = "day", .priority = 1, .versions = &day, .nversions = 1 },
	};
	struct team_plan p = { .rotations = r, .nrotations = 2 };
	struct schedule s;
	int64_t mon0 = MON_0900_BERLIN - 9 * H;	/* Monday 00:00 Berlin (CET) */

	(void)state;
	weekly_version(&day, MON_0900_BERLIN - 7 * D, 1, 0);	/* A, business hours only */
	day.windows = &business;
	day.nwindows = 1;
	weekly_version(&night, MON_0900_BERLIN - 7 * D, 2, 0);	/* N1 last week, N2 from 09:00 */
	night.members = night_ids;
	assert_int_equal(schedule_build(&p, mon0, mon0 + D, &s), 0);
	/* 00-08 N1; 08-18 A, in two pieces because A's weekly shift turns over at
	 * 09:00 (pieces keep their shift's identity); 18-24 N2. */
	assert_int_equal(s.n, 4);
	assert_string_equal(s.seg[0].member, "N1");
	assert_int_equal(s.seg[0].end, mon0 + 8 * H);
	assert_string_equal(s.seg[1].member, "A");
	assert_string_equal(s.seg[1].rotation, "day");
	assert_int_equal(s.seg[1].end, mon0 + 9 * H);
	assert_string_equal(s.seg[2].member, "A");
	assert_int_equal(s.seg[2].shift_index, s.seg[1].shift_index + 1);
	assert_int_equal(s.seg[2].end, mon0 + 18 * H);
	assert_string_equal(s.seg[3].member, "N2");
	schedule_free(&s);
	/* Saturday: the day rotation has no window, the night one covers all day. */
	assert_int_equal(schedule_build(&p, mon0 + 5 * D, mon0 + 6 * D, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.seg[0].member, "N2");
	schedule_free(&s);
}

static void test_overrides_and_swaps(void **state)
{
	struct rotation_version v;
	struct rotation_plan r = { .id = "r1", .priority = 10, .versions = &v, .nversions = 1 };
	struct override_def o[2] = {
		{ .id = "o1", .start = MON_0900_BERLIN + 1 * D, .end = MON_0900_BERLIN + 2 * D,
		  .member = "D", .source = SEGMENT_OVERRIDE },
		/* a swap that takes C's time: C is not on call in week 1, so it does nothing */
		{ .id = "o2", .start = MON_0900_BERLIN + 3 * D, .end = MON_0900_BERLIN + 4 * D,
		  .member = "B", .replaces = "C", .source = SEGMENT_SWAP },
	};
	struct team_plan p = { .rotations = &r, .nrotations = 1, .overrides = o, .noverrides = 2 };
	struct schedule s;

	(void)state;
	weekly_version(&v, MON_0900_BERLIN, 3, 0);
	assert_int_equal(schedule_build(&p, MON_0900_BERLIN, MON_0900_BERLIN + 7 * D, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.seg[0].member, "A");
	assert_string_equal(s.seg[1].member, "D");
	assert_int_equal(s.seg[1].source, SEGMENT_OVERRIDE);
	assert_string_equal(s.seg[1].override_id, "o1");
	assert_int_equal(s.seg[1].start, MON_0900_BERLIN + D);
	assert_string_equal(s.seg[2].member, "A");
	schedule_free(&s);
	/* the same swap on A's time applies */
	wk_strlcpy(o[1].replaces, "A", sizeof(o[1].replaces));
	assert_int_equal(schedule_build(&p, MON_0900_BERLIN, MON_0900_BERLIN + 7 * D, &s), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.seg[3].member, "B");
	assert_int_equal(s.seg[3].source, SEGMENT_SWAP);
	schedule_free(&s);
}

/* Equal priorities: the rotation made first wins ("r9" before "r10", not by
 * string order); a version's own priority rules while it is in force. */
static void test_priority_ties_and_versions(void **state)
{
	static char *other[] = { "X" };
	struct rotation_version a, b[2];
	struct rotation_plan r[2] = {
		{ .id = "r10", .priority = 10, .versions = b, .nversions = 2 },
		{ .id = "r9", .priority = 10, .versions = &a, .nversions = 1 },
	};
	struct team_plan p = { .rotations = r, .nrotations = 2 };
	struct schedule s;

	(void)state;
	weekly_version(&a, MON_0900_BERLIN, 1, 0);			/* r9: A, always */
	weekly_version(&b[0], MON_0900_BERLIN, 1, 0);			/* r10: X, always */
	weekly_version(&b[1], MON_0900_BERLIN + 2 * D, 1, 0);		/* from Wednesday: priority 5 */
	b[0].members = b[1].members = other;
	b[0].priority = 10;
	b[1].priority = 5;
	r[0].priority = 5;
	assert_int_equal(schedule_build(&p, MON_0900_BERLIN, MON_0900_BERLIN + 4 * D, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.seg[0].member, "A");	/* the older one, at the same priority */
	assert_string_equal(s.seg[0].rotation, "r9");
	assert_int_equal(s.seg[0].end, MON_0900_BERLIN + 2 * D);
	assert_string_equal(s.seg[1].member, "X");	/* its new priority, from its version on */
	schedule_free(&s);
	/* Sorting for lists: priority now, then age. */
	qsort(r, 2, sizeof(r[0]), schedule_rotation_order);
	assert_string_equal(r[0].id, "r10");
	r[0].priority = 10;
	qsort(r, 2, sizeof(r[0]), schedule_rotation_order);
	assert_string_equal(r[0].id, "r9");
}

/* A rotation covered at all its hours by ones ranked before it is hidden, and
 * the reply can name them; one with windows of its own that others leave
 * free is not. An empty rotation is judged by the hours it would cover. */
static void test_hidden(void **state)
{
	static char *night_ids[] = { "N1" };
	struct rotation_version main_v, day, night;
	struct rotation_window business = { 0x3e, 8 * 60, 18 * 60 };
	struct rotation_plan r[3] = {
		{ .id = "r1", .name = "main", .priority = 10, .versions = &main_v, .nversions = 1 },
		{ .id = "r2", .name = "night", .priority = 10, .versions = &night, .nversions = 1 },
		{ .id = "r3", .name = "day", .priority = 1, .versions = &day, .nversions = 1 },
	};
	struct team_plan p = { .rotations = r, .nrotations = 3 };
	size_t by[4], nby;
	int64_t from = MON_0900_BERLIN, to = MON_0900_BERLIN + 28 * D;

	(void)state;
	weekly_version(&main_v, MON_0900_BERLIN, 2, 0);
	weekly_version(&night, MON_0900_BERLIN, 1, 0);
	night.members = night_ids;
	weekly_version(&day, MON_0900_BERLIN, 0, 0);	/* no one in it yet */
	day.windows = &business;
	day.nwindows = 1;
	/* night: main (same priority, older) takes every hour */
	assert_int_equal(schedule_hidden(&p, 1, from, to, by, 4, &nby), 1);
	assert_int_equal(nby, 1);
	assert_int_equal(by[0], 0);
	/* day: empty, but priority 1 in business hours: it would come up */
	assert_int_equal(schedule_hidden(&p, 2, from, to, by, 4, &nby), 0);
	/* main: day takes business hours, main keeps the rest */
	assert_int_equal(schedule_hidden(&p, 0, from, to, by, 4, &nby), 0);
	/* night first: now main is the hidden one */
	r[1].priority = 5;
	night.priority = 5;
	assert_int_equal(schedule_hidden(&p, 1, from, to, by, 4, &nby), 0);
	assert_int_equal(schedule_hidden(&p, 0, from, to, by, 4, &nby), 1);
	assert_int_equal(nby, 1);	/* night (day has nobody yet: it takes no hours) */
	assert_int_equal(by[0], 1);
	assert_int_equal(schedule_hidden(&p, 3, from, to, by, 4, &nby), -1);
}

static void test_json_round_trip(void **state)
{
	struct rotation_version v;
	struct rotation_window w = { 0x3e, 480, 1080 };
	struct rotation_plan r = { .id = "r7", .name = "day", .team = "default", .priority = 3, .rev = 9,
				   .versions = &v, .nversions = 1 }, back;
	char *json;

	(void)state;
	weekly_version(&v, MON_0900_BERLIN, 4, 2);
	v.windows = &w;
	v.nwindows = 1;
	json = rotation_plan_to_json(&r);
	assert_int_equal(rotation_plan_from_json(json, strlen(json), &back), 0);
	assert_string_equal(back.id, "r7");
	assert_int_equal(back.rev, 9);
	assert_int_equal(back.nversions, 1);
	assert_int_equal(back.versions[0].nmembers, 4);
	assert_int_equal(back.versions[0].first_member, 2);
	assert_int_equal(back.versions[0].nwindows, 1);
	assert_int_equal(back.versions[0].windows[0].end_min, 1080);
	assert_int_equal(back.versions[0].effective_from, MON_0900_BERLIN);
	assert_int_equal(back.versions[0].priority, 3);	/* written per version */
	free(json);
	rotation_plan_free(&back);
	/* Stored before versions had a priority: they take the rotation's. */
	static const char old[] = "{\"id\":\"r1\",\"name\":\"main\",\"team\":\"default\",\"priority\":7,"
		"\"rev\":1,\"versions\":[{\"from\":1793606400,\"tz\":\"UTC\",\"start\":\"2026-11-02\","
		"\"handoff\":\"09:00\",\"unit\":\"weeks\",\"length\":1,\"members\":[\"A\"],\"first\":0}]}";
	assert_int_equal(rotation_plan_from_json(old, strlen(old), &back), 0);
	assert_int_equal(back.nversions, 1);
	assert_int_equal(back.versions[0].priority, 7);
	rotation_plan_free(&back);
	assert_int_equal(rotation_plan_from_json("{\"id\":1}", 8, &back), -1);
	assert_int_equal(rotation_plan_from_json("garbage", 7, &back), -1);
}

/* schedule_chain() from a prebuilt schedule (the worker's cache, team_plan.built)
 * answers exactly as building its own: every hour over six weeks, for a daily
 * rotation with a long override and a second rotation limited to some hours,
 * with the built window both around the instants and cutting through them. */
static void test_chain_from_built_matches(void **state)
{
	struct rotation_version v[2];
	struct rotation_plan r[2] = {
		{ .id = "r1", .priority = 10, .versions = &v[0], .nversions = 1 },
		{ .id = "r2", .priority = 5, .versions = &v[1], .nversions = 1 },
	};
	struct override_def o[1] = {
		{ .id = "o1", .start = MON_0900_BERLIN + 10 * D + 5 * H, .end = MON_0900_BERLIN + 30 * D,
		  .member = "D", .source = SEGMENT_OVERRIDE },
	};
	struct team_plan p = { .rotations = r, .nrotations = 2, .overrides = o, .noverrides = 1 };
	struct team_plan q = p;
	struct schedule built;
	int64_t windows[][2] = { { MON_0900_BERLIN - 20 * D, MON_0900_BERLIN + 60 * D },
				 { MON_0900_BERLIN + 12 * D, MON_0900_BERLIN + 20 * D } };

	(void)state;
	weekly_version(&v[0], MON_0900_BERLIN, 3, 0);
	v[0].spec.unit = ROTATION_DAYS;
	weekly_version(&v[1], MON_0900_BERLIN, 2, 1);
	v[1].windows = (struct rotation_window[]){ { 0x3e, 8 * 60, 18 * 60 } };
	v[1].nwindows = 1;
	for (size_t w = 0; w < 2; w++) {
		assert_int_equal(schedule_build(&p, windows[w][0], windows[w][1], &built), 0);
		q.built = &built;
		q.built_from = windows[w][0];
		q.built_to = windows[w][1];
		for (int64_t t = MON_0900_BERLIN - 2 * D; t < MON_0900_BERLIN + 42 * D; t += H) {
			struct oncall_chain a, b;
			int ra = schedule_chain(&p, t, &a), rb = schedule_chain(&q, t, &b);
			assert_int_equal(ra, rb);
			assert_memory_equal(&a, &b, sizeof(a));
		}
		schedule_free(&built);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weekly_and_chain),
		cmocka_unit_test(test_new_version_keeps_current_shift),
		cmocka_unit_test(test_windows_and_priority),
		cmocka_unit_test(test_overrides_and_swaps),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_priority_ties_and_versions),
		cmocka_unit_test(test_hidden),
		cmocka_unit_test(test_chain_from_built_matches),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tz_shutdown();
	return rc;
}
