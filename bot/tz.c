/* tz.c - see tz.h */
#include "bot/tz.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/log.h"
#include "bot/util.h"

#define SECS_PER_DAY	86400
/* RFC 8536 keeps a UT offset within -89999..93599 (-24:59:59..+25:59:59);
 * holding every offset to that bound keeps all sums far from overflow. */
#define OFF_MIN		(-89999)
#define OFF_MAX		93599
/* Real zone files are under 4 KiB; anything near this is not a zone. */
#define TZIF_FILE_MAX	(1 << 20)
#define TZIF_HDR_LEN	44
#define FOOTER_MAX	256
#define ABBR_MAX	7
/* Walking transitions around one wall time: real zones have at most two in
 * the 52-hour window; a hostile file may have thousands, and then we give up
 * exactness instead of time. */
#define WINDOW_STEPS	64
/* Footer rules are expanded into the transition table up to this year, so
 * that the years a rotation looks at cost a binary search, not a rule
 * evaluation; later instants still use the rule. */
#define EXTEND_YEAR	2200
#define EXTEND_MAX	1024
#define CACHE_BUCKETS	128

struct tz_type {
	int32_t utoff;		/* seconds east of UTC */
	uint8_t is_dst;
	char abbr[ABBR_MAX + 1];
};

enum rule_kind { RULE_JULIAN1, RULE_DAY0, RULE_MWD };

/* One date rule of a POSIX TZ string: Jn, n or Mm.w.d, plus time of day. */
struct tz_rule {
	enum rule_kind kind;
	int day;		/* Jn: 1..365, n: 0..365, Mm.w.d: weekday 0..6 */
	int week;		/* 1..5, 5 meaning the last */
	int month;		/* 1..12 */
	int32_t time;		/* local seconds after midnight, -167h..167h */
};

struct tz_posix {
	struct tz_type std, dst;
	bool has_dst;
	struct tz_rule start;	/* in local standard time */
	struct tz_rule end;	/* in local daylight time */
};

struct tz {
	struct tz *next;	/* cache chain, written before publication */
	char *name;
	size_t n_trans;
	int64_t *trans;		/* strictly ascending */
	uint16_t *trans_type;	/* each < n_types */
	size_t n_types;		/* 1..256, plus two added for the footer */
	struct tz_type *types;
	bool has_footer;
	struct tz_posix footer;
};

/* ---- calendar arithmetic ------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tz_days_in_month(int64_t year, int month)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month < 1 || month > 12)
		return 0;
	return dim[month - 1] + (month == 2 && is_leap(year));
}

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian
 * calendar, no tables, no libc. Months and days outside their range roll
 * over linearly, which is what gives tz_from_local() mktime-like behaviour. */
int64_t tz_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y += floor_div(m - 1, 12);
	m = floor_mod(m - 1, 12) + 1;
	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468 + (d - 1);
}

void tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = yoe + era * 400 + (m <= 2);
}

static int64_t clamp_time(int64_t t)
{
	if (t < TZ_TIME_MIN)
		return TZ_TIME_MIN;
	if (t > TZ_TIME_MAX)
		return TZ_TIME_MAX;
	return t;
}

/* ---- POSIX TZ strings (the TZif footer) --------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A run of 1..max_digits decimal digits with a value in [0, max]. */
static int parse_num(const char **sp, int max_digits, int max, int *out)
{
	const char *s = *sp;
	int v = 0, n = 0;

	while (is_digit(*s) && n < max_digits) {
		v = v * 10 + (*s - '0');
		s++;
		n++;
	}
	if (n == 0 || is_digit(*s) || v > max)
		return -1;
	*sp = s;
	*out = v;
	return 0;
}

/* [+-]hh[:mm[:ss]]; hours up to max_h (24 for offsets; 167 for rule times,
 * the TZif v3 extension). Returns signed seconds. */
static int parse_hms(const char **sp, int max_h, int32_t *out)
{
	const char *s = *sp;
	int sign = 1, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (parse_num(&s, 3, max_h, &h) < 0)
		return -1;
	if (*s == ':') {
		s++;
		if (parse_num(&s, 2, 59, &m) < 0)
			return -1;
		if (*s == ':') {
			s++;
			if (parse_num(&s, 2, 59, &sec) < 0)
				return -1;
		}
	}
	*sp = s;
	*out = sign * (h * 3600 + m * 60 + sec);
	return 0;
}

/* "CET" or quoted "<+0530>": at least three characters, as POSIX asks. */
static int parse_abbr(const char **sp, char out[ABBR_MAX + 1])
{
	const char *s = *sp, *b, *e;
	size_t len;

	if (*s == '<') {
		b = ++s;
		while (is_alpha(*s) || is_digit(*s) || *s == '+' || *s == '-')
			s++;
		if (*s != '>')
			return -1;
		e = s++;
	} else {
		b = s;
		while (is_alpha(*s))
			s++;
		e = s;
	}
	len = (size_t)(e - b);
	if (len < 3)
		return -1;
	/* Longer names are legal but nobody uses them; keep a prefix. */
	if (len > ABBR_MAX)
		len = ABBR_MAX;
	memcpy(out, b, len);
	out[len] = '\0';
	*sp = s;
	return 0;
}

static int parse_rule(const char **sp, struct tz_rule *r)
{
	const char *s = *sp;

	memset(r, 0, sizeof(*r));
	if (*s == 'J') {
		s++;
		r->kind = RULE_JULIAN1;
		if (parse_num(&s, 3, 365, &r->day) < 0 || r->day < 1)
			return -1;
	} else if (*s == 'M') {
		s++;
		r->kind = RULE_MWD;
		if (parse_num(&s, 2, 12, &r->month) < 0 || r->month < 1 ||
		    *s++ != '.' || parse_num(&s, 1, 5, &r->week) < 0 ||
		    r->week < 1 || *s++ != '.' ||
		    parse_num(&s, 1, 6, &r->day) < 0)
			return -1;
	} else {
		r->kind = RULE_DAY0;
		if (parse_num(&s, 3, 365, &r->day) < 0)
			return -1;
	}
	r->time = 2 * 3600;
	if (*s == '/') {
		s++;
		if (parse_hms(&s, 167, &r->time) < 0)
			return -1;
	}
	*sp = s;
	return 0;
}

/* std offset [dst [offset] [,start[/time],end[/time]]]. POSIX offsets count
 * west of Greenwich, so they are negated into seconds east. */
static int parse_posix(const char *s, struct tz_posix *p)
{
	int32_t off;

	memset(p, 0, sizeof(*p));
	if (parse_abbr(&s, p->std.abbr) < 0 || parse_hms(&s, 24, &off) < 0)
		return -1;
	p->std.utoff = -off;
	if (*s == '\0')
		return 0;

	p->has_dst = true;
	p->dst.is_dst = 1;
	if (parse_abbr(&s, p->dst.abbr) < 0)
		return -1;
	p->dst.utoff = p->std.utoff + 3600;
	if (*s != ',' && *s != '\0') {
		if (parse_hms(&s, 24, &off) < 0)
			return -1;
		p->dst.utoff = -off;
	}
	if (p->dst.utoff < OFF_MIN || p->dst.utoff > OFF_MAX)
		return -1;
	if (*s == '\0') {
		/* No rule: POSIX leaves it to the implementation; tzcode and
		 * glibc use the US rules, and so do we. */
		s = ",M3.2.0,M11.1.0";
	}
	if (*s++ != ',' || parse_rule(&s, &p->start) < 0 ||
	    *s++ != ',' || parse_rule(&s, &p->end) < 0 || *s != '\0')
		return -1;
	return 0;
}

/* Day number (days since 1970-01-01) on which rule r falls in year y. */
static int64_t rule_day(const struct tz_rule *r, int64_t y)
{
	int64_t first, d;

	switch (r->kind) {
	case RULE_JULIAN1:
		/* Jn never counts February 29, so J60 is always March 1. */
		d = r->day - 1 + (is_leap(y) && r->day >= 60);
		return tz_days_from_civil(y, 1, 1) + d;
	case RULE_DAY0:
		return tz_days_from_civil(y, 1, 1) + r->day;
	case RULE_MWD:
	default:
		first = tz_days_from_civil(y, r->month, 1);
		d = floor_mod(r->day - floor_mod(first + 4, 7), 7) + (r->week - 1) * 7;
		if (d >= tz_days_in_month(y, r->month))
			d -= 7;
		return first + d;
	}
}

/* A DST switch of the footer rule. seq orders switches that fall on the same
 * instant: the one later in the yearly sequence wins, so a zero-length DST
 * period means "no DST" and an end that meets next year's start (the
 * "J365/25" idiom for permanent DST) means "always DST". */
struct switch_ev {
	int64_t at;
	int64_t seq;
	bool to_dst;
};

static void footer_switches(const struct tz_posix *p, int64_t y, struct switch_ev ev[2])
{
	int64_t start = rule_day(&p->start, y) * SECS_PER_DAY + p->start.time - p->std.utoff;
	int64_t end = rule_day(&p->end, y) * SECS_PER_DAY + p->end.time - p->dst.utoff;
	bool northern = start <= end;

	ev[0] = (struct switch_ev){ start, 2 * y + !northern, true };
	ev[1] = (struct switch_ev){ end, 2 * y + northern, false };
}

/* Rule times reach 167 h past a date, so the switches in force around t
 * may belong to the neighbouring years; two years each side is plenty. */
#define FOOTER_EVENTS 10

static void footer_window(const struct tz_posix *p, int64_t t, struct switch_ev ev[FOOTER_EVENTS])
{
	int64_t y, yy;
	int m, d;

	tz_civil_from_days(floor_div(t + p->std.utoff, SECS_PER_DAY), &y, &m, &d);
	for (yy = 0; yy < FOOTER_EVENTS / 2; yy++)
		footer_switches(p, y - 2 + yy, &ev[2 * yy]);
}

static const struct tz_type *footer_type(const struct tz_posix *p, int64_t t)
{
	struct switch_ev ev[FOOTER_EVENTS];
	const struct switch_ev *best = NULL;
	int i;

	if (!p->has_dst)
		return &p->std;
	footer_window(p, t, ev);
	for (i = 0; i < FOOTER_EVENTS; i++) {
		if (ev[i].at > t)
			continue;
		if (!best || ev[i].at > best->at ||
		    (ev[i].at == best->at && ev[i].seq > best->seq))
			best = &ev[i];
	}
	return best && best->to_dst ? &p->dst : &p->std;
}

static int64_t footer_next(const struct tz_posix *p, int64_t t)
{
	struct switch_ev ev[FOOTER_EVENTS];
	int64_t next = INT64_MAX;
	int i;

	if (!p->has_dst)
		return INT64_MAX;
	footer_window(p, t, ev);
	for (i = 0; i < FOOTER_EVENTS; i++)
		if (ev[i].at > t && ev[i].at < next)
			next = ev[i].at;
	return next;
}

/* ---- lookups ------------------------------------------------------------ */

static const struct tz_type *type_at(const struct tz *z, int64_t t)
{
	size_t lo, hi, mid;

	if (z->n_trans == 0 || t >= z->trans[z->n_trans - 1]) {
		if (z->has_footer)
			return footer_type(&z->footer, t);
		if (z->n_trans == 0)
			return &z->types[0];
		return &z->types[z->trans_type[z->n_trans - 1]];
	}
	if (t < z->trans[0])
		return &z->types[0];	/* RFC 8536: type 0 before the first */
	/* Invariant: trans[lo] <= t < trans[hi]. */
	lo = 0;
	hi = z->n_trans - 1;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return &z->types[z->trans_type[lo]];
}

/* The first instant after t at which the type in force may change. */
static int64_t next_change(const struct tz *z, int64_t t)
{
	size_t lo, hi, mid;

	if (z->n_trans > 0 && t < z->trans[z->n_trans - 1]) {
		/* First index with trans[i] > t. */
		lo = 0;
		hi = z->n_trans - 1;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (z->trans[mid] > t)
				hi = mid;
			else
				lo = mid + 1;
		}
		return z->trans[lo];
	}
	if (z->has_footer)
		return footer_next(&z->footer, t);
	return INT64_MAX;
}

int tz_utc_offset(const struct tz *z, int64_t t, int *is_dst)
{
	const struct tz_type *ty = type_at(z, clamp_time(t));

	if (is_dst)
		*is_dst = ty->is_dst;
	return ty->utoff;
}

void tz_to_local(const struct tz *z, int64_t t, struct tz_local *out)
{
	const struct tz_type *ty;
	int64_t local, days, sod, year;

	t = clamp_time(t);
	ty = type_at(z, t);
	local = t + ty->utoff;
	days = floor_div(local, SECS_PER_DAY);
	sod = local - days * SECS_PER_DAY;
	tz_civil_from_days(days, &year, &out->month, &out->day);
	out->year = (int)year;
	out->hour = (int)(sod / 3600);
	out->minute = (int)(sod / 60 % 60);
	out->second = (int)(sod % 60);
	out->wday = (int)floor_mod(days + 4, 7);	/* 1970-01-01 was a Thursday */
	out->utc_offset = ty->utoff;
	memcpy(out->abbr, ty->abbr, sizeof(out->abbr));
}

/* Any t with t + offset(t) == wall lies in [wall - OFF_MAX, wall - OFF_MIN]. Walk the
 * spans of constant offset across that window in order: the first span that
 * contains its own candidate wall - off gives the earliest occurrence (the fold
 * rule). If none does, wall fell into a gap; read it with the offset from before
 * the jump, which moves it forward by the gap's length. */
static int64_t local_to_utc(const struct tz *z, int64_t wall)
{
	int64_t cur = wall - OFF_MAX, hi = wall - OFF_MIN;
	int64_t gap = 0, next, cand;
	int32_t off = type_at(z, cur)->utoff, noff;
	bool have_gap = false;
	int i;

	for (i = 0; i < WINDOW_STEPS; i++) {
		next = next_change(z, cur);
		cand = wall - off;
		if (cand >= cur && cand < next)
			return cand;
		if (next > hi)
			break;
		noff = type_at(z, next)->utoff;
		if (!have_gap && noff > off && wall >= next + off && wall < next + noff) {
			gap = wall - off;
			have_gap = true;
		}
		cur = next;
		off = noff;
	}
	if (have_gap)
		return gap;
	/* Only reachable with pathological data; any nearby answer will do. */
	return wall - type_at(z, wall - type_at(z, wall)->utoff)->utoff;
}

int64_t tz_from_local(const struct tz *z, int year, int month, int day,
		      int hour, int minute, int second)
{
	/* int inputs keep every product far inside int64_t. */
	int64_t days = tz_days_from_civil(year, month, day);
	int64_t local = days * SECS_PER_DAY + (int64_t)hour * 3600 +
			(int64_t)minute * 60 + second;

	return clamp_time(local_to_utc(z, clamp_time(local)));
}

const char *tz_name(const struct tz *z)
{
	return z->name;
}

/* ---- TZif parsing ------------------------------------------------------- */

struct tzif_hdr {
	char version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);

	/* Two's complement without implementation-defined conversion. */
	if (u >> 63)
		return -(int64_t)(~u) - 1;
	return (int64_t)u;
}

static int read_header(const unsigned char *p, size_t len, struct tzif_hdr *h)
{
	if (len < TZIF_HDR_LEN || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->version = (char)p[4];
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	return 0;
}

/* Counts are 32-bit, so this cannot overflow 64 bits. */
static uint64_t block_len(const struct tzif_hdr *h, unsigned tsize)
{
	return (uint64_t)h->timecnt * tsize + h->timecnt + (uint64_t)h->typecnt * 6 +
	       h->charcnt + (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt +
	       h->isutcnt;
}

/* Fill z from one data block; p holds at least block_len() bytes. */
static const char *parse_block(struct tz *z, const struct tzif_hdr *h,
			       const unsigned char *p, unsigned tsize)
{
	const unsigned char *types, *chars;
	size_t i;

	if (h->typecnt < 1 || h->typecnt > 256)
		return "bad typecnt";
	if (h->leapcnt != 0)
		return "leap seconds are not POSIX time";
	if ((h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt))
		return "bad isstdcnt/isutcnt";

	z->n_trans = h->timecnt;
	z->trans = xcalloc(h->timecnt, sizeof(*z->trans));
	z->trans_type = xcalloc(h->timecnt, sizeof(*z->trans_type));
	for (i = 0; i < z->n_trans; i++) {
		z->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			return "transitions not ascending";
	}
	p += (size_t)h->timecnt * tsize;
	for (i = 0; i < z->n_trans; i++) {
		z->trans_type[i] = p[i];
		if (p[i] >= h->typecnt)
			return "transition type out of range";
	}
	p += h->timecnt;

	types = p;
	chars = p + (size_t)h->typecnt * 6;
	z->n_types = h->typecnt;
	z->types = xcalloc(h->typecnt, sizeof(*z->types));
	for (i = 0; i < z->n_types; i++) {
		const unsigned char *t = types + i * 6;
		int32_t off = (int32_t)be32(t);
		size_t ai = t[5], n = 0;

		if (off < OFF_MIN || off > OFF_MAX)
			return "utoff out of range";
		if (t[4] > 1)
			return "bad isdst";
		if (ai >= h->charcnt)
			return "abbreviation index out of range";
		z->types[i].utoff = off;
		z->types[i].is_dst = t[4];
		while (n < ABBR_MAX && ai + n < h->charcnt && chars[ai + n])
			n++;
		memcpy(z->types[i].abbr, chars + ai, n);
		z->types[i].abbr[n] = '\0';
	}
	return NULL;
}

static size_t type_index(struct tz *z, const struct tz_type *ty)
{
	size_t i;

	for (i = 0; i < z->n_types; i++)
		if (z->types[i].utoff == ty->utoff && z->types[i].is_dst == ty->is_dst &&
		    strcmp(z->types[i].abbr, ty->abbr) == 0)
			return i;
	z->types = xrealloc(z->types, (z->n_types + 1) * sizeof(*z->types));
	z->types[z->n_types] = *ty;
	return z->n_types++;
}

/* Append the footer's switches after the last transition, up to EXTEND_YEAR.
 * This is a pure cache: type_at() gives the same answer with or without it. */
static void extend_with_footer(struct tz *z)
{
	const struct tz_posix *p = &z->footer;
	int64_t horizon = tz_days_from_civil(EXTEND_YEAR, 1, 1) * SECS_PER_DAY;
	int64_t cur, next;
	const struct tz_type *prev, *ty;
	size_t n = 0, cap = 0, i;
	int64_t *at = NULL;
	uint16_t *idx = NULL;

	/* With no table at all the rule covers all time; nothing to extend. */
	if (!p->has_dst || z->n_trans == 0 || z->trans[z->n_trans - 1] >= horizon)
		return;
	cur = z->trans[z->n_trans - 1];
	prev = footer_type(p, cur);
	for (i = 0; i < 4 * EXTEND_MAX && n < EXTEND_MAX; i++) {
		next = footer_next(p, cur);
		if (next >= horizon)
			break;
		ty = footer_type(p, next);
		if (ty != prev) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				at = xrealloc(at, cap * sizeof(*at));
				idx = xrealloc(idx, cap * sizeof(*idx));
			}
			at[n] = next;
			idx[n] = (uint16_t)type_index(z, ty);
			n++;
			prev = ty;
		}
		cur = next;
	}
	if (n > 0) {
		z->trans = xrealloc(z->trans, (z->n_trans + n) * sizeof(*z->trans));
		z->trans_type = xrealloc(z->trans_type, (z->n_trans + n) * sizeof(*z->trans_type));
		memcpy(z->trans + z->n_trans, at, n * sizeof(*at));
		memcpy(z->trans_type + z->n_trans, idx, n * sizeof(*idx));
		z->n_trans += n;
	}
	free(at);
	free(idx);
}

static const char *parse_tzif(struct tz *z, const unsigned char *data, size_t len)
{
	struct tzif_hdr h;
	uint64_t blen;
	const unsigned char *p = data, *nl;
	size_t left = len, flen;
	char footer[FOOTER_MAX + 1];
	const char *why;

	if (read_header(p, left, &h) < 0)
		return "not TZif";
	if (h.version != 0 && h.version < '2')
		return "unknown version";
	blen = block_len(&h, 4);
	if (blen > left - TZIF_HDR_LEN)
		return "truncated v1 data";
	if (h.version == 0) {
		p += TZIF_HDR_LEN;
		return parse_block(z, &h, p, 4);
	}

	/* Version 2+: skip the 32-bit block, use the 64-bit one and footer. */
	p += TZIF_HDR_LEN + blen;
	left -= TZIF_HDR_LEN + blen;
	if (read_header(p, left, &h) < 0)
		return "missing v2 header";
	blen = block_len(&h, 8);
	if (blen > left - TZIF_HDR_LEN)
		return "truncated v2 data";
	why = parse_block(z, &h, p + TZIF_HDR_LEN, 8);
	if (why)
		return why;
	p += TZIF_HDR_LEN + blen;
	left -= TZIF_HDR_LEN + blen;

	if (left == 0)
		return NULL;	/* footer missing: last type stays in force */
	if (p[0] != '\n')
		return "bad footer";
	nl = memchr(p + 1, '\n', left - 1 < FOOTER_MAX + 1 ? left - 1 : FOOTER_MAX + 1);
	if (!nl)
		return "unterminated footer";
	flen = (size_t)(nl - (p + 1));
	if (flen == 0)
		return NULL;
	memcpy(footer, p + 1, flen);
	footer[flen] = '\0';
	if (memchr(footer, '\0', flen))
		return "NUL in footer";
	if (parse_posix(footer, &z->footer) < 0)
		return "bad footer TZ string";
	z->has_footer = true;
	extend_with_footer(z);
	return NULL;
}

void tz_free(struct tz *z)
{
	if (!z)
		return;
	free(z->name);
	free(z->trans);
	free(z->trans_type);
	free(z->types);
	free(z);
}

static struct tz *parse_named(const char *name, const unsigned char *data,
			      size_t len, const char **why)
{
	struct tz *z = xcalloc(1, sizeof(*z));

	z->name = xstrdup(name);
	*why = parse_tzif(z, data, len);
	if (*why) {
		tz_free(z);
		return NULL;
	}
	return z;
}

struct tz *tz_parse(const char *name, const unsigned char *data, size_t len)
{
	const char *why;

	return parse_named(name ? name : "", data, len, &why);
}

/* ---- loading and the cache ---------------------------------------------- */

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz *cache[CACHE_BUCKETS];

static bool name_valid(const char *name)
{
	size_t n = strnlen(name, TZ_NAME_MAX + 1), i;

	if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		/* No '.' at all, so no "..": the name cannot leave the directory. */
		if (!is_alpha(c) && !is_digit(c) && c != '/' && c != '_' &&
		    c != '+' && c != '-')
			return false;
		if (c == '/' && name[i + 1] == '/')
			return false;
	}
	return true;
}

static size_t name_bucket(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % CACHE_BUCKETS;
}

static struct tz *cache_find(size_t b, const char *name)
{
	struct tz *z;

	for (z = cache[b]; z; z = z->next)
		if (strcmp(z->name, name) == 0)
			return z;
	return NULL;
}

/* Read the whole zone file; -1 with errno set on failure. */
static int read_zone_file(const char *name, unsigned char **data, size_t *len)
{
	const char *dir = getenv("WK_ZONEINFO_DIR");
	char path[PATH_MAX];
	struct stat st;
	unsigned char *buf;
	size_t got = 0;
	ssize_t r;
	int fd, n, err;

	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* O_NONBLOCK: a FIFO planted in the directory must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > TZIF_FILE_MAX) {
		/* A directory ("America") is just an unknown zone, not a fault. */
		errno = S_ISDIR(st.st_mode) ? ENOENT : EINVAL;
		goto fail;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*data = buf;
	*len = got;
	return 0;

fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

const struct tz *tz_get(const char *name)
{
	struct tz *z, *old;
	unsigned char *data;
	const char *why;
	size_t len, b;

	if (!name || !name_valid(name))
		return NULL;
	b = name_bucket(name);
	pthread_mutex_lock(&cache_lock);
	z = cache_find(b, name);
	pthread_mutex_unlock(&cache_lock);
	if (z)
		return z;

	/* Disk I/O and parsing happen unlocked so a slow first load never
	 * stalls threads asking for zones already cached. */
	if (read_zone_file(name, &data, &len) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_warn("tz.load", "zone=%s errno=%d", name, errno);
		return NULL;
	}
	z = parse_named(name, data, len, &why);
	free(data);
	if (!z) {
		log_warn("tz.load", "zone=%s error=\"%s\"", name, why);
		return NULL;
	}

	pthread_mutex_lock(&cache_lock);
	old = cache_find(b, name);
	if (!old) {
		z->next = cache[b];
		cache[b] = z;
	}
	pthread_mutex_unlock(&cache_lock);
	if (old) {
		/* Another thread loaded it meanwhile; its copy is published. */
		tz_free(z);
		return old;
	}
	return z;
}

void tz_shutdown(void)
{
	struct tz *z, *next;
	size_t b;

	pthread_mutex_lock(&cache_lock);
	for (b = 0; b < CACHE_BUCKETS; b++) {
		for (z = cache[b]; z; z = next) {
			next = z->next;
			tz_free(z);
		}
		cache[b] = NULL;
	}
	pthread_mutex_unlock(&cache_lock);
}

int tz_canonical(const char *typed, char *out, size_t size)
{
	const char *dir = getenv("WK_ZONEINFO_DIR");
	char copy[256], name[256] = "", path[PATH_MAX], *save = NULL;

	if (!typed || !name_valid(typed) || wk_strlcpy(copy, typed, sizeof(copy)) >= sizeof(copy))
		return -1;
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		struct dirent *e;
		bool hit = false;
		size_t len = strlen(name);
		DIR *d;

		if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) || !(d = opendir(path)))
			return -1;
		while (!hit && (e = readdir(d)))
			if (e->d_name[0] != '.' && strcasecmp(e->d_name, part) == 0)
				hit = snprintf(name + len, sizeof(name) - len, "%s%s", len ? "/" : "", e->d_name) <
				      (int)(sizeof(name) - len);
		closedir(d);
		if (!hit)
			return -1;
	}
	if (!tz_get(name) || wk_strlcpy(out, name, size) >= size)
		return -1;
	return 0;
}

