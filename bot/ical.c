/* ical.c - see ical.h */
#include "bot/ical.h"
#include "bot/tz.h"
#include "bot/utf8.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (n bytes left), 0 if none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		len = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4;
	else
		return 0;
	return len <= n && utf8_valid((const char *)p, len) ? len : 0;
}

int ical_escape_text(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int rc = 0;

	while (n && rc == 0) {
		size_t len = utf8_seq(p, n);
		if (len == 0) {
			rc = buf_adds(out, "\xEF\xBF\xBD");	/* U+FFFD for a broken byte */
			len = 1;
		} else if (len > 1) {
			rc = buf_add(out, p, len);
		} else if (*p == '\\' || *p == ';' || *p == ',') {
			rc = buf_addc(out, '\\') < 0 ? -1 : buf_addc(out, (char)*p);
		} else if (*p == '\n') {
			rc = buf_adds(out, "\\n");
		} else if (*p == '\r') {
			if (n > 1 && p[1] == '\n')	/* CRLF is one newline */
				len = 2;
			rc = buf_adds(out, "\\n");
		} else if ((*p < 0x20 && *p != '\t') || *p == 0x7F) {
			rc = buf_addc(out, ' ');	/* TEXT allows no controls but tab */
		} else {
			rc = buf_addc(out, (char)*p);
		}
		p += len;
		n -= len;
	}
	return rc < 0 ? -1 : 0;
}

int ical_fold(struct buf *out, const char *line, size_t len)
{
	size_t pos = 0;
	bool first = true;

	do {
		/* A continuation line's leading space counts toward its 75 octets. */
		size_t room = first ? ICAL_LINE_OCTETS : ICAL_LINE_OCTETS - 1;
		size_t end = len - pos <= room ? len : pos + room;

		if (end < len) {
			size_t cut = end;
			/* Never start the next line on a continuation byte. */
			while (cut > pos && ((unsigned char)line[cut] & 0xC0) == 0x80)
				cut--;
			if (cut > pos)	/* else: not UTF-8 at all; cut on octets */
				end = cut;
		}
		if ((!first && buf_addc(out, ' ') < 0) || buf_add(out, line + pos, end - pos) < 0 ||
		    buf_add(out, "\r\n", 2) < 0)
			return -1;
		pos = end;
		first = false;
	} while (pos < len);
	return 0;
}

void ical_utc(int64_t t, char out[17])
{
	int64_t days, secs, year;
	int month, day;

	if (t < TZ_TIME_MIN)
		t = TZ_TIME_MIN;
	if (t > TZ_TIME_MAX)
		t = TZ_TIME_MAX;
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {		/* floor, for instants before 1970 */
		secs += 86400;
		days--;
	}
	tz_civil_from_days(days, &year, &month, &day);
	snprintf(out, 17, "%04d%02d%02dT%02d%02d%02dZ", (int)year, month, day, (int)(secs / 3600),
		 (int)(secs / 60 % 60), (int)(secs % 60));
}

/* Content lines are assembled unfolded in `line`, then folded into out. */
static int emit(struct buf *out, struct buf *line)
{
	int rc = ical_fold(out, line->data ? line->data : "", line->len);
	buf_reset(line);
	return rc;
}

static int prop_text(struct buf *out, struct buf *line, const char *name, const char *value)
{
	if (buf_adds(line, name) < 0 || buf_addc(line, ':') < 0 || ical_escape_text(line, value) < 0)
		return -1;
	return emit(out, line);
}

static int prop_raw(struct buf *out, struct buf *line, const char *name, const char *value)
{
	if (buf_adds(line, name) < 0 || buf_addc(line, ':') < 0 || buf_adds(line, value) < 0)
		return -1;
	return emit(out, line);
}

/* Ids go into UIDs unescaped: keep them to a safe alphabet. */
static int add_id(struct buf *b, const char *id)
{
	if (!*id)
		return buf_adds(b, "none");
	for (; *id; id++) {
		char c = *id;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '-';
		if (buf_addc(b, ok ? c : '_') < 0)
			return -1;
	}
	return 0;
}

int ical_begin(struct buf *out, const char *calname)
{
	struct buf line = BUF_INIT(64 * 1024);
	int rc = -1;

	if (!out || !calname)
		return -1;
	if (prop_raw(out, &line, "BEGIN", "VCALENDAR") < 0 ||
	    prop_raw(out, &line, "VERSION", "2.0") < 0 ||
	    prop_raw(out, &line, "PRODID", ICAL_PRODID) < 0 ||
	    prop_raw(out, &line, "CALSCALE", "GREGORIAN") < 0 ||
	    prop_raw(out, &line, "METHOD", "PUBLISH") < 0 ||
	    prop_text(out, &line, "X-WR-CALNAME", calname) < 0 ||
	    prop_text(out, &line, "NAME", calname) < 0 ||
	    /* RFC 7986 and its older X- twin: how often subscribers should poll. */
	    prop_raw(out, &line, "REFRESH-INTERVAL;VALUE=DURATION", "PT1H") < 0 ||
	    prop_raw(out, &line, "X-PUBLISHED-TTL", "PT1H") < 0)
		goto out;
	rc = 0;
out:
	buf_free(&line);
	return rc;
}

int ical_end(struct buf *out)
{
	return out && buf_adds(out, "END:VCALENDAR\r\n") == 0 ? 0 : -1;
}

static const struct rotation_plan *find_rotation(const struct team_plan *p, const char *id)
{
	for (size_t i = 0; p && id[0] && i < p->nrotations; i++)
		if (strcmp(p->rotations[i].id, id) == 0)
			return &p->rotations[i];
	return NULL;
}

static const struct override_def *find_override(const struct team_plan *p, const char *id)
{
	for (size_t i = 0; p && id[0] && i < p->noverrides; i++)
		if (strcmp(p->overrides[i].id, id) == 0)
			return &p->overrides[i];
	return NULL;
}

static const char *name_of(const struct ical_context *cx, const char *member)
{
	const char *n = cx->display_name ? cx->display_name(cx->ud, member) : NULL;
	return n && n[0] ? n : member;
}

static int event_uid(struct buf *line, const struct schedule *s, size_t i, const char *host)
{
	const struct segment *g = &s->seg[i];
	/* The first segment may be cut by the window: anchor it to its shift. */
	int64_t anchor = i == 0 && g->rotation[0] && g->shift_start < g->start ? g->shift_start
									       : g->start;

	if (buf_adds(line, "UID:") < 0 || add_id(line, g->rotation) < 0 ||
	    buf_printf(line, "-%lld-", (long long)g->shift_index) < 0 || add_id(line, g->member) < 0)
		return -1;
	if (g->source != SEGMENT_ROTATION &&
	    (buf_adds(line, g->source == SEGMENT_SWAP ? "-s" : "-o") < 0 ||
	     add_id(line, g->override_id) < 0))
		return -1;
	if (buf_printf(line, "-%lld@", (long long)anchor) < 0 || add_id(line, host) < 0)
		return -1;
	return 0;
}

static int event_description(struct buf *d, const struct segment *g, const struct ical_context *cx)
{
	const struct rotation_plan *rot = find_rotation(cx->plan, g->rotation);
	const struct override_def *o = find_override(cx->plan, g->override_id);
	int rc = 0;

	/* A swap's override is made by whoever approved it; what a reader wants
	 * is who asked and why, which the swap itself holds. */
	bool swap = g->source == SEGMENT_SWAP && o && o->swap_requester[0];

	if (g->source == SEGMENT_OVERRIDE)
		rc |= buf_adds(d, "Override");
	else if (g->source == SEGMENT_SWAP)
		rc |= buf_adds(d, swap && strcmp(o->swap_kind, "cover") == 0 ? "Cover" : "Swap");
	else
		rc |= buf_adds(d, "Shift");
	if (swap && o->swap_id[0])
		rc |= buf_printf(d, " %s", o->swap_id);
	if (g->rotation[0])
		rc |= buf_printf(d, " in rotation %s", rot && rot->name[0] ? rot->name : g->rotation);
	rc |= buf_addc(d, '.');
	if (swap) {
		rc |= buf_printf(d, "\nAsked by: %s", name_of(cx, o->swap_requester));
		rc |= buf_printf(d, "\nReason: %s", o->swap_reason[0] ? o->swap_reason : "none given");
		if (o->replaces[0])
			rc |= buf_printf(d, "\nTakes over from: %s", name_of(cx, o->replaces));
		if (o->created_by[0])
			rc |= buf_printf(d, "\nApproved by: %s", name_of(cx, o->created_by));
	} else if (o) {
		if (o->replaces[0])
			rc |= buf_printf(d, "\nTakes over from: %s", name_of(cx, o->replaces));
		if (o->created_by[0])
			rc |= buf_printf(d, "\nMade by: %s", name_of(cx, o->created_by));
		if (o->reason[0])
			rc |= buf_printf(d, "\nReason: %s", o->reason);
	}
	rc |= buf_printf(d, "\nMember id: %s", g->member);
	return rc < 0 ? -1 : 0;
}

int ical_add(struct buf *out, const struct schedule *s, const struct ical_context *cx)
{
	struct buf line = BUF_INIT(64 * 1024), text = BUF_INIT(16 * 1024);
	char stamp[17], start[17], end[17];
	int rc = -1;

	if (!out || !s || !cx || !cx->uid_host)
		return -1;
	ical_utc(cx->dtstamp, stamp);
	for (size_t i = 0; i < s->n; i++) {
		const struct segment *g = &s->seg[i];
		const char *who;

		if (!g->member[0] || g->end <= g->start)
			continue;	/* a gap: nobody's event */
		if (cx->only_member && strcmp(g->member, cx->only_member) != 0)
			continue;
		who = name_of(cx, g->member);
		ical_utc(g->start, start);
		ical_utc(g->end, end);
		buf_reset(&text);
		if (buf_printf(&text, "On call: %s%s", who,
			       g->source == SEGMENT_OVERRIDE ? " (override)"
			       : g->source == SEGMENT_SWAP  ? " (swap)"
							    : "") < 0)
			goto out;
		if (prop_raw(out, &line, "BEGIN", "VEVENT") < 0 ||
		    event_uid(&line, s, i, cx->uid_host) < 0 || emit(out, &line) < 0 ||
		    prop_raw(out, &line, "DTSTAMP", stamp) < 0 ||
		    prop_raw(out, &line, "DTSTART", start) < 0 ||
		    prop_raw(out, &line, "DTEND", end) < 0 ||
		    prop_text(out, &line, "SUMMARY", buf_cstr(&text)) < 0)
			goto out;
		buf_reset(&text);
		if (event_description(&text, g, cx) < 0 ||
		    prop_text(out, &line, "DESCRIPTION", buf_cstr(&text)) < 0 ||
		    prop_raw(out, &line, "TRANSP", "TRANSPARENT") < 0 ||
		    prop_raw(out, &line, "END", "VEVENT") < 0)
			goto out;
	}
	rc = 0;
out:
	buf_free(&line);
	buf_free(&text);
	return rc;
}

int ical_render(const struct schedule *s, const char *calname, const char *uid_host,
		int64_t dtstamp, const char *only_member, struct buf *out)
{
	struct ical_context cx = { uid_host, dtstamp, only_member, NULL, NULL, NULL };

	if (ical_begin(out, calname) < 0 || ical_add(out, s, &cx) < 0 || ical_end(out) < 0)
		return -1;
	return 0;
}
