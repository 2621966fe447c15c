/* bench_schedule - time to compute a team's final schedule, the work behind
 * /oncall schedule, reports and feeds: 90 days of a 50-member daily rotation
 * with 100 overrides (and an after-hours rotation under a business-hours one).
 * Prints the median and p99 of many runs. Run by scripts/bench.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/schedule.h"
#include "bot/tz.h"
#include "bot/util.h"

#define RUNS 2000
#define START 1793606400LL	/* 2026-11-02 08:00 UTC */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	static char names[50][8];
	char *members[50];
	struct rotation_version day = { 0 }, night = { 0 };
	struct rotation_window business = { 0x3e, 8 * 60, 18 * 60 };
	struct rotation_plan rot[2] = {
		{ .id = "day", .priority = 1, .versions = &day, .nversions = 1 },
		{ .id = "night", .priority = 2, .versions = &night, .nversions = 1 },
	};
	struct override_def ov[100];
	struct team_plan p = { .rotations = rot, .nrotations = 2, .overrides = ov, .noverrides = 100 };
	int64_t us[RUNS];
	size_t segments = 0;

	for (int i = 0; i < 50; i++) {
		snprintf(names[i], sizeof(names[i]), "U%02d", i);
		members[i] = names[i];
	}
	day.effective_from = night.effective_from = START - 30 * 86400;
	day.spec = (struct rotation_spec){ tz_get("Europe/Berlin"), 2026, 10, 1, 9, 0, ROTATION_DAYS, 1 };
	night.spec = day.spec;
	day.members = night.members = members;
	day.nmembers = night.nmembers = 50;
	day.windows = &business;
	day.nwindows = 1;
	memset(ov, 0, sizeof(ov));
	for (int i = 0; i < 100; i++) {
		snprintf(ov[i].id, sizeof(ov[i].id), "o%d", i);
		ov[i].start = START + i * 77760LL;	/* spread over the 90 days */
		ov[i].end = ov[i].start + 6 * 3600;
		wk_strlcpy(ov[i].member, names[(i * 7) % 50], sizeof(ov[i].member));
		ov[i].source = i % 5 ? SEGMENT_OVERRIDE : SEGMENT_SWAP;
		if (!(i % 5))
			wk_strlcpy(ov[i].replaces, names[i % 50], sizeof(ov[i].replaces));
	}
	for (int r = 0; r < RUNS; r++) {
		struct schedule s;
		int64_t t0 = wk_mono_us();
		if (schedule_build(&p, START, START + 90 * 86400, &s) < 0)
			return 1;
		us[r] = wk_mono_us() - t0;
		segments = s.n;
		schedule_free(&s);
	}
	qsort(us, RUNS, sizeof(us[0]), cmp_i64);
	printf("schedule: 90 days, 50-member day+night rotations, 100 overrides -> %zu segments\n", segments);
	printf("schedule_build: p50 %.3f ms, p99 %.3f ms over %d runs   target well under 1 ms: %s\n",
	       us[RUNS / 2] / 1000.0, us[RUNS * 99 / 100] / 1000.0, RUNS,
	       us[RUNS / 2] < 1000 ? "ok" : "MISSED");
	tz_shutdown();
	return 0;
}
