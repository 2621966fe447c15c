/* report.h - the fairness view: who carried how much on-call in a period.
 *
 * Pure: works on a struct schedule already built (bot/schedule.h) and a zone
 * name; never touches Redis. Per member, over [from, to):
 *
 *   shifts           distinct rotation shifts (rotation id + shift index) they
 *                    held any part of: a partial shift counts as one. Time with
 *                    no rotation underneath (an override over a gap) counts
 *                    once per override.
 *   seconds          time on call, clipped to [from, to)
 *   weekend_seconds  the part on a local Saturday or Sunday in the zone, split
 *                    exactly at local midnight (DST-correct: a local day can be
 *                    23 or 25 hours long); weekday_seconds is the rest
 *   overrides        distinct overrides (source SEGMENT_OVERRIDE) they took
 *   swaps            distinct swap overrides (source SEGMENT_SWAP) they took
 *
 * and for the period the gap time (nobody on call). Rows are sorted by time on
 * call, most first, then by member id.
 *
 * Rendering: report_render() as neutral reply markup (one section per member
 * with fields; at most REPORT_RENDER_ROWS members, the rest counted, so the
 * caller keeps room for its own sections); report_csv() as RFC 4180 CSV with
 * CRLF line ends and the header
 *   member,shifts,hours,weekday_hours,weekend_hours,overrides,swaps
 * plus a last row "(nobody)" holding the gap hours (so the hours column sums
 * to the whole period). Hours have two decimals.
 * A cell starting with = + - @ (or tab or CR) gets a leading ' so a
 * spreadsheet never reads it as a formula.
 *
 * Thread: pure; any thread. */
#ifndef WK_REPORT_H
#define WK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/buf.h"
#include "bot/reply.h"
#include "bot/schedule.h"
#include "bot/tz.h"

/* The longest period report_build() accepts: 366 days plus slack for DST. */
#define REPORT_MAX_RANGE_S (367 * INT64_C(86400))
/* Member sections report_render() adds at most (it adds two more: period and gaps). */
#define REPORT_RENDER_ROWS 15

struct report_row {
	char member[SCHEDULE_MEMBER_LEN];
	int64_t shifts;
	int64_t seconds;
	int64_t weekday_seconds;
	int64_t weekend_seconds;
	int64_t overrides;
	int64_t swaps;
};

struct report {
	char tz[TZ_NAME_MAX + 1];
	int64_t from, to;
	struct report_row *rows;	/* owned; report_free() */
	size_t nrows;
	int64_t gap_seconds;		/* nobody on call, including time the schedule doesn't cover */
	int64_t gap_weekday_seconds, gap_weekend_seconds;
};

/* 0, or -1 when the zone is unknown, from >= to or the period is longer than
 * REPORT_MAX_RANGE_S. On -1 *out is empty (safe to report_free). */
int report_build(const struct schedule *s, const char *tz_name, int64_t from, int64_t to,
		 struct report *out);
void report_free(struct report *rep);

/* Sections of r: the period, one per member (mentions), the gaps. */
void report_render(const struct report *rep, struct reply *r);
/* Append the CSV to out; -1 when out reaches its cap. */
int report_csv(const struct report *rep, struct buf *out);

/* One RFC 4180 cell and its separator (',' or, when last, CRLF), written as
 * report_csv() writes every cell (the formula guard above). 0, or -1 when out
 * reaches its cap. Every CSV export writes its cells with this. */
int report_csv_cell(struct buf *out, const char *v, bool last);

/* "12.50": seconds as hours with two decimals, rounded half up; out >= 32 bytes. */
void report_hours(int64_t seconds, char *out, size_t size);

#endif
