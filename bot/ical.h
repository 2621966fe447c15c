/* ical.h - a schedule as an RFC 5545 iCalendar (text/calendar) document.
 *
 * Pure: works on a struct schedule already built (bot/schedule.h), never
 * touches Redis. One VEVENT per segment that has a member (gaps are skipped):
 *
 *   UID       stable per shift and person, so a calendar client that polls the
 *             feed updates events instead of duplicating them (see below)
 *   DTSTAMP   the dtstamp argument, UTC
 *   DTSTART, DTEND   the segment, UTC form (YYYYMMDDTHHMMSSZ): no VTIMEZONE needed
 *   SUMMARY   "On call: <name>", "On call: <name> (override)" or "... (swap)"
 *   DESCRIPTION  shift, override, swap or cover; the rotation; for overrides
 *             whose time it took, who made it and why; for a shift gained by
 *             a swap or cover, its id, who asked for it and why, whose time it
 *             took and who approved it (when a plan is given); always
 *             "Member id: <id>", so scripts can tell who without names
 *   TRANSP    TRANSPARENT: being on call doesn't make anyone look busy
 *
 * UIDs: "<rotation>-<shift index>-<member>-<anchor>@<uid_host>", with
 * "-o<override id>" (or "-s<id>" for swaps) before the anchor for override
 * pieces. The anchor is the segment's start, except for a schedule's first
 * segment, whose start may be the window's edge rather than the real start:
 * there it is the rotation shift's start. So the same shift piece gets the same
 * UID from every regeneration of a moving window. Characters outside
 * [A-Za-z0-9._-] in ids become '_'.
 *
 * Output rules (RFC 5545 3.1, 3.3.11): every line ends in CRLF; lines longer
 * than 75 octets are folded (CRLF + one space), never inside a UTF-8 sequence;
 * TEXT values escape \ ; , and newlines (\\ \; \, \n); invalid UTF-8 becomes
 * U+FFFD and control characters other than tab become spaces, because names and
 * reasons are typed by people.
 *
 * Errors: -1 when out reaches its cap (the document is then incomplete and
 * must not be served), or when an argument is missing. Thread: pure. */
#ifndef WK_ICAL_H
#define WK_ICAL_H

#include <stddef.h>
#include <stdint.h>

#include "bot/buf.h"
#include "bot/schedule.h"

#define ICAL_LINE_OCTETS 75
#define ICAL_PRODID "-//Watchkeeper//On-call//EN"

/* How events are labelled. All optional (NULL/0) except uid_host. */
struct ical_context {
	const char *uid_host;		/* right-hand side of every UID, e.g. "oncall.example.com" */
	int64_t dtstamp;		/* UTC unix seconds: when this document was made */
	const char *only_member;	/* NULL = everyone; else only this member's segments */
	const struct team_plan *plan;	/* for rotation names and override reasons */
	/* Display name for a member id, or NULL to show the id. */
	const char *(*display_name)(void *ud, const char *member_id);
	void *ud;
};

/* The whole document for one schedule. */
int ical_render(const struct schedule *s, const char *calname, const char *uid_host,
		int64_t dtstamp, const char *only_member, struct buf *out);

/* The same in pieces, for a feed made of several schedules (a member's feed
 * across teams): begin once, add each schedule, end once. */
int ical_begin(struct buf *out, const char *calname);
int ical_add(struct buf *out, const struct schedule *s, const struct ical_context *cx);
int ical_end(struct buf *out);

/* Building blocks, exposed for the unit tests. */
/* Append one content line (no CRLF in it), folded at ICAL_LINE_OCTETS, plus CRLF. */
int ical_fold(struct buf *out, const char *line, size_t len);
/* Append s as an RFC 5545 TEXT value (escaped, sanitised; not folded). */
int ical_escape_text(struct buf *out, const char *s);
/* "YYYYMMDDTHHMMSSZ" for a UTC instant; out must hold 17 bytes. */
void ical_utc(int64_t t, char out[17]);

#endif
