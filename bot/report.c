/* report.c - see report.h */
#include "bot/report.h"
#include "bot/util.h"
#include "bot/when.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One member segment clipped to the period. */
struct piece {
	const struct segment *seg;
	int64_t start, end;
};

static int by_member_shift(const void *a, const void *b)
{
	const struct segment *x = ((const struct piece *)a)->seg, *y = ((const struct piece *)b)->seg;
	int c = strcmp(x->member, y->member);

	if (c)
		return c;
	if ((c = strcmp(x->rotation, y->rotation)))
		return c;
	if (!x->rotation[0] && (c = strcmp(x->override_id, y->override_id)))
		return c;
	return x->shift_index < y->shift_index ? -1 : x->shift_index > y->shift_index;
}

/* Same rotation shift for the "shifts" count (pieces already share a member). */
static bool same_shift(const struct segment *x, const struct segment *y)
{
	if (strcmp(x->rotation, y->rotation) != 0)
		return false;
	if (!x->rotation[0])	/* nothing underneath: each override is its own stint */
		return strcmp(x->override_id, y->override_id) == 0;
	return x->shift_index == y->shift_index;
}

static int by_rows(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	if (x->seconds != y->seconds)
		return x->seconds > y->seconds ? -1 : 1;
	return strcmp(x->member, y->member);
}

/* Split [a, b) into weekday and weekend seconds at local midnights. */
static void split_week(const struct tz *z, int64_t a, int64_t b, int64_t *weekday,
		       int64_t *weekend)
{
	while (a < b) {
		struct tz_local l;
		int64_t next;

		tz_to_local(z, a, &l);
		/* Day 32 and the like are normalised by tz_from_local(). A midnight in
		 * a spring gap resolves forward, which is still after a. */
		next = tz_from_local(z, l.year, l.month, l.day + 1, 0, 0, 0);
		if (next <= a)	/* can't happen with sane zone data; never loop forever */
			next = a + 86400;
		if (next > b)
			next = b;
		if (l.wday == 0 || l.wday == 6)
			*weekend += next - a;
		else
			*weekday += next - a;
		a = next;
	}
}

void report_free(struct report *rep)
{
	free(rep->rows);
	rep->rows = NULL;
	rep->nrows = 0;
}

/* Override pieces sorted by member, source, override id: one override split
 * over several segments (it spans a handoff) then counts once. */
static int by_member_override(const void *a, const void *b)
{
	const struct segment *x = ((const struct piece *)a)->seg, *y = ((const struct piece *)b)->seg;
	int c = strcmp(x->member, y->member);

	if (c)
		return c;
	if (x->source != y->source)
		return x->source < y->source ? -1 : 1;
	return strcmp(x->override_id, y->override_id);
}

static struct report_row *row_of(struct report *rep, const char *member)
{
	/* rows are in member order while building: binary search */
	size_t lo = 0, hi = rep->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rep->rows[mid].member, member);
		if (c == 0)
			return &rep->rows[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int report_build(const struct schedule *s, const char *tz_name, int64_t from, int64_t to,
		 struct report *out)
{
	const struct tz *z = tz_name ? tz_get(tz_name) : NULL;
	struct piece *p = NULL, *o = NULL;
	size_t np = 0, no = 0;
	int64_t covered = 0;

	memset(out, 0, sizeof(*out));
	if (!z || !s || from >= to || to - from > REPORT_MAX_RANGE_S)
		return -1;
	wk_strlcpy(out->tz, tz_name, sizeof(out->tz));
	out->from = from;
	out->to = to;
	if (s->n) {
		p = xcalloc(s->n, sizeof(*p));
		o = xcalloc(s->n, sizeof(*o));
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct segment *g = &s->seg[i];
		int64_t a = g->start > from ? g->start : from, b = g->end < to ? g->end : to;

		if (!g->member[0] || a >= b)
			continue;
		p[np++] = (struct piece){ g, a, b };
		if (g->source != SEGMENT_ROTATION)
			o[no++] = (struct piece){ g, a, b };
	}
	if (np)
		qsort(p, np, sizeof(*p), by_member_shift);
	if (no)
		qsort(o, no, sizeof(*o), by_member_override);

	/* Rows in member order, one pass over the sorted pieces. */
	out->rows = xcalloc(np + 1, sizeof(*out->rows));
	for (size_t i = 0; i < np; i++) {
		const struct segment *g = p[i].seg;
		struct report_row *row;
		bool new_member = i == 0 || strcmp(p[i - 1].seg->member, g->member) != 0;

		if (new_member) {
			row = &out->rows[out->nrows++];
			wk_strlcpy(row->member, g->member, sizeof(row->member));
		} else {
			row = &out->rows[out->nrows - 1];
		}
		if (new_member || !same_shift(p[i - 1].seg, g))
			row->shifts++;
		row->seconds += p[i].end - p[i].start;
		covered += p[i].end - p[i].start;
		split_week(z, p[i].start, p[i].end, &row->weekday_seconds, &row->weekend_seconds);
	}
	for (size_t i = 0; i < no; i++) {
		const struct segment *g = o[i].seg;
		struct report_row *row;

		if (i > 0 && by_member_override(&o[i - 1], &o[i]) == 0)
			continue;	/* another piece of the same override */
		if (!(row = row_of(out, g->member)))
			continue;
		if (g->source == SEGMENT_SWAP)
			row->swaps++;
		else
			row->overrides++;
	}
	/* Segments never overlap, so whatever no member covered is a gap, whether
	 * the schedule says "nobody" or doesn't reach that far. */
	out->gap_seconds = (to - from) - covered;
	split_week(z, from, to, &out->gap_weekday_seconds, &out->gap_weekend_seconds);
	for (size_t i = 0; i < out->nrows; i++) {
		out->gap_weekday_seconds -= out->rows[i].weekday_seconds;
		out->gap_weekend_seconds -= out->rows[i].weekend_seconds;
	}
	if (out->nrows)
		qsort(out->rows, out->nrows, sizeof(*out->rows), by_rows);
	free(p);
	free(o);
	return 0;
}

void report_hours(int64_t seconds, char *out, size_t size)
{
	int64_t centi = seconds < 0 ? 0 : (seconds * 100 + 1800) / 3600;

	snprintf(out, size, "%" PRId64 ".%02d", centi / 100, (int)(centi % 100));
}

void report_render(const struct report *rep, struct reply *r)
{
	const struct tz *z = tz_get(rep->tz);
	char a[64], b[64], h[32], wd[32], we[32], n[32];
	struct reply_section *sec;
	size_t shown = rep->nrows < REPORT_RENDER_ROWS ? rep->nrows : REPORT_RENDER_ROWS;

	if (z) {
		/* the team's zone: weekday and weekend hours are counted in it */
		reply_section(r, "*Period:* %s to %s (%s)", when_format(z, rep->from, a, sizeof(a)),
			      when_format(z, rep->to, b, sizeof(b)), rep->tz);
	}
	if (!rep->nrows)
		reply_section(r, "Nobody was on call in this period.");
	for (size_t i = 0; i < shown; i++) {
		const struct report_row *row = &rep->rows[i];

		if (!(sec = reply_section(r, "<@%s>", row->member)))
			break;
		report_hours(row->seconds, h, sizeof(h));
		report_hours(row->weekday_seconds, wd, sizeof(wd));
		report_hours(row->weekend_seconds, we, sizeof(we));
		reply_field(sec, "Hours", h);
		snprintf(n, sizeof(n), "%" PRId64, row->shifts);
		reply_field(sec, "Shifts", n);
		reply_field(sec, "Weekday hours", wd);
		reply_field(sec, "Weekend hours", we);
		snprintf(n, sizeof(n), "%" PRId64, row->overrides);
		reply_field(sec, "Overrides taken", n);
		snprintf(n, sizeof(n), "%" PRId64, row->swaps);
		reply_field(sec, "Swaps taken", n);
	}
	report_hours(rep->gap_seconds, h, sizeof(h));
	if (rep->nrows > shown)
		reply_section(r, "…and %zu more people (see the CSV). Nobody on call for %s hours.",
			      rep->nrows - shown, h);
	else
		reply_section(r, "Nobody on call (gaps): *%s hours*.", h);
}

/* Quoted when it holds a comma, quote or line break, and with a leading '
 * when a spreadsheet would read it as a formula. */
int report_csv_cell(struct buf *out, const char *v, bool last)
{
	bool quote = strpbrk(v, ",\"\r\n") != NULL;
	bool formula = v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' ||
		       v[0] == '\r';
	int rc = 0;

	if (quote)
		rc |= buf_addc(out, '"');
	if (formula)
		rc |= buf_addc(out, '\'');
	for (; *v; v++) {
		if (*v == '"')
			rc |= buf_addc(out, '"');
		rc |= buf_addc(out, *v);
	}
	if (quote)
		rc |= buf_addc(out, '"');
	rc |= last ? buf_add(out, "\r\n", 2) : buf_addc(out, ',');
	return rc < 0 ? -1 : 0;
}

static int csv_row(struct buf *out, const char *member, int64_t shifts, int64_t secs,
		   int64_t weekday, int64_t weekend, int64_t overrides, int64_t swaps)
{
	char c[6][32];

	snprintf(c[0], sizeof(c[0]), "%" PRId64, shifts);
	report_hours(secs, c[1], sizeof(c[1]));
	report_hours(weekday, c[2], sizeof(c[2]));
	report_hours(weekend, c[3], sizeof(c[3]));
	snprintf(c[4], sizeof(c[4]), "%" PRId64, overrides);
	snprintf(c[5], sizeof(c[5]), "%" PRId64, swaps);
	if (report_csv_cell(out, member, false) < 0)
		return -1;
	for (int i = 0; i < 6; i++)
		if (report_csv_cell(out, c[i], i == 5) < 0)
			return -1;
	return 0;
}

int report_csv(const struct report *rep, struct buf *out)
{
	if (buf_adds(out, "member,shifts,hours,weekday_hours,weekend_hours,overrides,swaps\r\n") < 0)
		return -1;
	for (size_t i = 0; i < rep->nrows; i++) {
		const struct report_row *row = &rep->rows[i];
		if (csv_row(out, row->member, row->shifts, row->seconds, row->weekday_seconds,
			    row->weekend_seconds, row->overrides, row->swaps) < 0)
			return -1;
	}
	/* The gap row keeps the hours column summing to the whole period. */
	return csv_row(out, "(nobody)", 0, rep->gap_seconds, rep->gap_weekday_seconds,
		       rep->gap_weekend_seconds, 0, 0);
}
