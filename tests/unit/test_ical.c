/* test_ical.c - bot/ical.c: folding, escaping, line ends, UIDs, events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/buf.h"
#include "bot/ical.h"
#include "bot/util.h"
#include "bot/utf8.h"

#define H 3600

/* Every physical line ends CRLF, has at most 75 octets, and a continuation
 * line starts with one space followed by no continuation byte; returns the
 * unfolded text (caller frees) with lines joined by '\n'. */
static char *check_and_unfold(const char *doc, size_t len)
{
	struct buf out = BUF_INIT(0);
	size_t i = 0;

	assert_true(len >= 2);
	assert_memory_equal(doc + len - 2, "\r\n", 2);
	while (i < len) {
		const char *eol = strstr(doc + i, "\r\n");
		assert_non_null(eol);
		size_t n = (size_t)(eol - (doc + i));
		assert_true(n <= ICAL_LINE_OCTETS);
		assert_null(memchr(doc + i, '\n', n));	/* no bare LF */
		assert_null(memchr(doc + i, '\r', n));	/* no bare CR */
		assert_true(utf8_valid(doc + i, n));	/* no sequence split across lines */
		if (doc[i] == ' ') {
			assert_true(out.len > 0);
			buf_add(&out, doc + i + 1, n - 1);
		} else {
			if (out.len)
				buf_addc(&out, '\n');
			buf_add(&out, doc + i, n);
		}
		i += n + 2;
	}
	return buf_detach(&out, NULL);
}

static void fold_one(const char *line, const char *want)
{
	struct buf out = BUF_INIT(0);

	assert_int_equal(ical_fold(&out, line, strlen(line)), 0);
	if (want)
		assert_string_equal(buf_cstr(&out), want);
	char *back = check_and_unfold(out.data, out.len);
	assert_string_equal(back, line);
	free(back);
	buf_free(&out);
}

static char *repeat(const char *unit, size_t times, const char *tail)
{
	struct buf b = BUF_INIT(0);

	for (size_t i = 0; i < times; i++)
		buf_adds(&b, unit);
	buf_adds(&b, tail);
	return buf_detach(&b, NULL);
}

static void test_fold_ascii(void **state)
{
	char *l75 = repeat("a", 75, ""), *l76 = repeat("a", 76, ""), *l149 = repeat("a", 149, "");
	char want[400];

	(void)state;
	snprintf(want, sizeof(want), "%s\r\n", l75);
	fold_one(l75, want);	/* exactly 75: one line */
	snprintf(want, sizeof(want), "%s\r\n a\r\n", l75);
	fold_one(l76, want);
	/* 149 = 75 + 74: the continuation line's space counts toward its 75 */
	snprintf(want, sizeof(want), "%s\r\n %s\r\n", l75, l75 + 1);
	fold_one(l149, want);
	fold_one("", "\r\n");
	free(l75);
	free(l76);
	free(l149);
}

static void test_fold_multibyte(void **state)
{
	char *s;
	char want[400];

	(void)state;
	/* 74 ASCII + é (2 octets) = 76: é must move whole to the next line. */
	s = repeat("a", 74, "\xC3\xA9");
	snprintf(want, sizeof(want), "%.*s\r\n \xC3\xA9\r\n", 74, s);
	fold_one(s, want);
	free(s);
	/* 73 + € (3 octets) = 76 */
	s = repeat("a", 73, "\xE2\x82\xAC");
	snprintf(want, sizeof(want), "%.*s\r\n \xE2\x82\xAC\r\n", 73, s);
	fold_one(s, want);
	free(s);
	/* 72 + € = 75 exactly: fits, no fold. */
	s = repeat("a", 72, "\xE2\x82\xAC");
	snprintf(want, sizeof(want), "%s\r\n", s);
	fold_one(s, want);
	free(s);
	/* 72 + U+1F600 (4 octets) = 76 */
	s = repeat("a", 72, "\xF0\x9F\x98\x80");
	snprintf(want, sizeof(want), "%.*s\r\n \xF0\x9F\x98\x80\r\n", 72, s);
	fold_one(s, want);
	free(s);
	/* Long runs of 2-, 3- and 4-octet characters. */
	s = repeat("\xC3\xBC", 300, "");
	fold_one(s, NULL);
	free(s);
	s = repeat("\xE6\x97\xA5", 200, "x");
	fold_one(s, NULL);
	free(s);
	s = repeat("\xF0\x9F\x98\x80", 100, "yz");
	fold_one(s, NULL);
	free(s);
}

static void escape_one(const char *in, const char *want)
{
	struct buf out = BUF_INIT(0);

	assert_int_equal(ical_escape_text(&out, in), 0);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void test_escape(void **state)
{
	(void)state;
	escape_one("plain text", "plain text");
	escape_one("a\\b;c,d", "a\\\\b\\;c\\,d");
	escape_one("line1\nline2\r\nline3\rline4", "line1\\nline2\\nline3\\nline4");
	escape_one("tab\there", "tab\there");
	escape_one("bell\a esc\x1b del\x7f", "bell  esc  del ");
	escape_one("caf\xC3\xA9 \xE2\x82\xAC", "caf\xC3\xA9 \xE2\x82\xAC");
	/* invalid UTF-8: a stray continuation byte, an overlong NUL, a truncated sequence */
	escape_one("a\x80" "b", "a\xEF\xBF\xBD" "b");
	escape_one("\xC0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD");
	escape_one("x\xE2\x82", "x\xEF\xBF\xBD\xEF\xBF\xBD");
	escape_one("\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");	/* a surrogate */
}

static void test_utc(void **state)
{
	char b[17];

	(void)state;
	ical_utc(0, b);
	assert_string_equal(b, "19700101T000000Z");
	ical_utc(1700000000, b);
	assert_string_equal(b, "20231114T221320Z");
	ical_utc(-1, b);
	assert_string_equal(b, "19691231T235959Z");
	ical_utc(951782400, b);	/* 2000-02-29 */
	assert_string_equal(b, "20000229T000000Z");
}

static struct segment seg(int64_t start, int64_t end, const char *member, enum segment_source src,
			  const char *rotation, int64_t index, int64_t shift_start, const char *oid)
{
	struct segment s;

	memset(&s, 0, sizeof(s));
	s.start = start;
	s.end = end;
	wk_strlcpy(s.member, member, sizeof(s.member));
	s.source = src;
	wk_strlcpy(s.rotation, rotation, sizeof(s.rotation));
	s.shift_index = index;
	s.shift_start = shift_start;
	s.shift_end = shift_start + 168 * H;
	wk_strlcpy(s.override_id, oid, sizeof(s.override_id));
	return s;
}

/* The values of every "NAME:" line in an unfolded document, in order. */
static size_t values(const char *unfolded, const char *name, char out[][256], size_t max)
{
	size_t n = 0, nl = strlen(name);
	const char *p = unfolded;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == ':' && n < max) {
			snprintf(out[n], 256, "%.*s", (int)(len - nl - 1), p + nl + 1);
			n++;
		}
		p = eol ? eol + 1 : NULL;
	}
	return n;
}

static char *render(const struct schedule *s, const char *only)
{
	struct buf out = BUF_INIT(0);
	char *text;

	assert_int_equal(ical_render(s, "Team, \"ops\"; on call", "oncall.example.com", 1700000000,
				     only, &out), 0);
	text = check_and_unfold(out.data, out.len);
	buf_free(&out);
	return text;
}

static const int64_t T = 1773648000;	/* 2026-03-16 09:00 CET, a Monday handoff */

static void test_document(void **state)
{
	struct segment g[] = {
		seg(T, T + 24 * H, "U1", SEGMENT_ROTATION, "r1", 10, T, ""),
		seg(T + 24 * H, T + 48 * H, "U2", SEGMENT_OVERRIDE, "r1", 10, T, "o7"),
		seg(T + 48 * H, T + 168 * H, "U1", SEGMENT_ROTATION, "r1", 10, T, ""),
		seg(T + 168 * H, T + 170 * H, "", SEGMENT_ROTATION, "", 0, 0, ""),
		seg(T + 170 * H, T + 200 * H, "U3", SEGMENT_SWAP, "r1", 11, T + 168 * H, "o8"),
	};
	struct schedule s = { g, ARRAY_LEN(g) };
	char v[16][256];
	char *doc;

	(void)state;
	doc = render(&s, NULL);
	assert_true(strncmp(doc, "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Watchkeeper//On-call//EN\n"
				 "CALSCALE:GREGORIAN\nMETHOD:PUBLISH\n", 87) == 0);
	assert_int_equal(values(doc, "X-WR-CALNAME", v, 16), 1);
	assert_string_equal(v[0], "Team\\, \"ops\"\\; on call");
	assert_int_equal(values(doc, "VERSION", v, 16), 1);
	assert_int_equal(values(doc, "PRODID", v, 16), 1);
	assert_true(strlen(doc) > 14 && strcmp(doc + strlen(doc) - 13, "END:VCALENDAR") == 0);
	/* four events: the gap is skipped */
	assert_int_equal(values(doc, "BEGIN", v, 16), 5);
	assert_int_equal(values(doc, "DTSTAMP", v, 16), 4);
	for (int i = 0; i < 4; i++)
		assert_string_equal(v[i], "20231114T221320Z");
	assert_int_equal(values(doc, "DTSTART", v, 16), 4);
	assert_string_equal(v[0], "20260316T080000Z");
	assert_string_equal(v[1], "20260317T080000Z");
	assert_string_equal(v[3], "20260323T100000Z");
	assert_int_equal(values(doc, "DTEND", v, 16), 4);
	assert_string_equal(v[0], "20260317T080000Z");
	assert_string_equal(v[2], "20260323T080000Z");
	assert_int_equal(values(doc, "SUMMARY", v, 16), 4);
	assert_string_equal(v[0], "On call: U1");
	assert_string_equal(v[1], "On call: U2 (override)");
	assert_string_equal(v[3], "On call: U3 (swap)");
	assert_int_equal(values(doc, "UID", v, 16), 4);
	assert_string_equal(v[0], "r1-10-U1-1773648000@oncall.example.com");
	assert_string_equal(v[1], "r1-10-U2-oo7-1773734400@oncall.example.com");
	assert_string_equal(v[2], "r1-10-U1-1773820800@oncall.example.com");
	assert_string_equal(v[3], "r1-11-U3-so8-1774260000@oncall.example.com");
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			assert_string_not_equal(v[i], v[j]);
	assert_int_equal(values(doc, "DESCRIPTION", v, 16), 4);
	assert_string_equal(v[1], "Override in rotation r1.\\nMember id: U2");
	free(doc);

	/* One member only. */
	doc = render(&s, "U1");
	assert_int_equal(values(doc, "SUMMARY", v, 16), 2);
	assert_string_equal(v[0], "On call: U1");
	assert_string_equal(v[1], "On call: U1");
	free(doc);
	doc = render(&s, "nobody");
	assert_int_equal(values(doc, "BEGIN", v, 16), 1);
	free(doc);
}

/* The same shifts from two windows: a regenerated feed keeps every UID, even
 * the first event's, whose start the window cut. */
static void test_stable_uids(void **state)
{
	/* Window A starts 2 h into U1's shift; window B 20 h into it. */
	struct segment a[] = {
		seg(T + 2 * H, T + 24 * H, "U1", SEGMENT_ROTATION, "r1", 10, T, ""),
		seg(T + 24 * H, T + 48 * H, "U2", SEGMENT_OVERRIDE, "r1", 10, T, "o7"),
		seg(T + 48 * H, T + 168 * H, "U1", SEGMENT_ROTATION, "r1", 10, T, ""),
	};
	struct segment b[] = {
		seg(T + 20 * H, T + 24 * H, "U1", SEGMENT_ROTATION, "r1", 10, T, ""),
		seg(T + 24 * H, T + 48 * H, "U2", SEGMENT_OVERRIDE, "r1", 10, T, "o7"),
		seg(T + 48 * H, T + 168 * H, "U1", SEGMENT_ROTATION, "r1", 10, T, ""),
		seg(T + 168 * H, T + 336 * H, "U2", SEGMENT_ROTATION, "r1", 11, T + 168 * H, ""),
	};
	struct schedule sa = { a, ARRAY_LEN(a) }, sb = { b, ARRAY_LEN(b) };
	char ua[8][256], ub[8][256];
	char *da = render(&sa, NULL), *db = render(&sb, NULL), *dc = render(&sa, NULL);

	(void)state;
	assert_int_equal(values(da, "UID", ua, 8), 3);
	assert_int_equal(values(db, "UID", ub, 8), 4);
	for (int i = 0; i < 3; i++)
		assert_string_equal(ua[i], ub[i]);
	assert_string_equal(ua[0], "r1-10-U1-1773648000@oncall.example.com");
	/* Byte-identical output for the same input. */
	assert_string_equal(da, dc);
	free(da);
	free(db);
	free(dc);
}

/* What people type goes through escaping, and ids through the UID alphabet. */
static const char *names(void *ud, const char *id)
{
	(void)ud;
	if (strcmp(id, "U1") == 0)
		return "Zoë, \"the; boss\" \\ Müller-Lüdenscheidt von Überlänge mit sehr langem Namen 日本語";
	return NULL;
}

static void test_hostile_text(void **state)
{
	struct segment g[] = {
		seg(T, T + H, "U1", SEGMENT_OVERRIDE, "r{1}", 1, T, "o:1\r\nX"),
	};
	struct override_def ov;
	struct rotation_plan rot;
	struct team_plan plan;
	struct schedule s = { g, 1 };
	struct ical_context cx = { "host name\r\nX-EVIL:1", 1700000000, NULL, &plan, names, NULL };
	struct buf out = BUF_INIT(0);
	char v[4][256];
	char *doc;

	(void)state;
	memset(&ov, 0, sizeof(ov));
	memset(&rot, 0, sizeof(rot));
	memset(&plan, 0, sizeof(plan));
	wk_strlcpy(ov.id, "o:1\r\nX", sizeof(ov.id));
	wk_strlcpy(ov.reason, "covering; dentist,\nback at 3 \\o/", sizeof(ov.reason));
	wk_strlcpy(ov.created_by, "U1", sizeof(ov.created_by));
	wk_strlcpy(rot.id, "r{1}", sizeof(rot.id));
	wk_strlcpy(rot.name, "primary", sizeof(rot.name));
	plan.rotations = &rot;
	plan.nrotations = 1;
	plan.overrides = &ov;
	plan.noverrides = 1;
	assert_int_equal(ical_begin(&out, "x"), 0);
	assert_int_equal(ical_add(&out, &s, &cx), 0);
	assert_int_equal(ical_end(&out), 0);
	doc = check_and_unfold(out.data, out.len);
	assert_null(strstr(doc, "\nX-EVIL"));
	assert_int_equal(values(doc, "UID", v, 4), 1);
	assert_string_equal(v[0], "r_1_-1-U1-oo_1__X-1773648000@host_name__X-EVIL_1");
	assert_int_equal(values(doc, "SUMMARY", v, 4), 1);
	assert_string_equal(v[0], "On call: Zoë\\, \"the\\; boss\" \\\\ Müller-Lüdenscheidt von Überlänge mit "
				  "sehr langem Namen 日本語 (override)");
	assert_int_equal(values(doc, "DESCRIPTION", v, 4), 1);
	assert_non_null(strstr(v[0], "Override in rotation primary."));
	assert_non_null(strstr(v[0], "\\nReason: covering\\; dentist\\,\\nback at 3 \\\\o/"));
	free(doc);
	buf_free(&out);
}

/* A shift gained by a swap names who asked for it and why (the swap's own
 * reason, escaped), not the internal "swap s2 (r1.7)" of its override. */
static void test_swap_event(void **state)
{
	struct segment g[] = { seg(T, T + H, "U2", SEGMENT_SWAP, "r1", 7, T, "o5") };
	struct override_def ov;
	struct rotation_plan rot;
	struct team_plan plan;
	struct schedule s = { g, 1 };
	struct ical_context cx = { "h", 1700000000, NULL, &plan, names, NULL };
	struct buf out = BUF_INIT(0);
	char v[4][256];
	char *doc;

	(void)state;
	memset(&ov, 0, sizeof(ov));
	memset(&rot, 0, sizeof(rot));
	memset(&plan, 0, sizeof(plan));
	wk_strlcpy(ov.id, "o5", sizeof(ov.id));
	wk_strlcpy(ov.swap_id, "s2", sizeof(ov.swap_id));
	wk_strlcpy(ov.reason, "swap s2 (r1.7)", sizeof(ov.reason));
	wk_strlcpy(ov.replaces, "U3", sizeof(ov.replaces));
	wk_strlcpy(ov.created_by, "U2", sizeof(ov.created_by));
	wk_strlcpy(ov.swap_requester, "U1", sizeof(ov.swap_requester));
	wk_strlcpy(ov.swap_reason, "school pickup, sorry", sizeof(ov.swap_reason));
	wk_strlcpy(ov.swap_kind, "trade", sizeof(ov.swap_kind));
	ov.source = SEGMENT_SWAP;
	wk_strlcpy(rot.id, "r1", sizeof(rot.id));
	wk_strlcpy(rot.name, "main", sizeof(rot.name));
	plan.rotations = &rot;
	plan.nrotations = 1;
	plan.overrides = &ov;
	plan.noverrides = 1;
	assert_int_equal(ical_render(&s, "x", "h", 1700000000, NULL, &out), 0);	/* no plan: still valid */
	buf_reset(&out);
	assert_int_equal(ical_begin(&out, "x"), 0);
	assert_int_equal(ical_add(&out, &s, &cx), 0);
	assert_int_equal(ical_end(&out), 0);
	doc = check_and_unfold(out.data, out.len);
	assert_int_equal(values(doc, "DESCRIPTION", v, 4), 1);
	assert_non_null(strstr(v[0], "Swap s2 in rotation main."));
	assert_non_null(strstr(v[0], "\\nAsked by: Zoë"));
	assert_non_null(strstr(v[0], "\\nReason: school pickup\\, sorry"));
	assert_non_null(strstr(v[0], "\\nTakes over from: U3"));
	assert_non_null(strstr(v[0], "\\nApproved by: U2"));
	assert_null(strstr(v[0], "(r1.7)"));
	free(doc);
	buf_free(&out);
}

static void test_cap(void **state)
{
	struct segment g[] = { seg(T, T + H, "U1", SEGMENT_ROTATION, "r1", 1, T, "") };
	struct schedule s = { g, 1 };
	struct buf out = BUF_INIT(300);

	(void)state;
	assert_int_equal(ical_render(&s, "cal", "h", 0, NULL, &out), -1);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_ascii),
		cmocka_unit_test(test_fold_multibyte),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_utc),
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_stable_uids),
		cmocka_unit_test(test_hostile_text),
		cmocka_unit_test(test_swap_event),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
