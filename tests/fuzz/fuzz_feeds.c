/* Text typed by people (names, override reasons) on its way into an iCalendar
 * feed, and the URL pieces and dates bot/feeds.c parses. Invariants checked:
 * escaped TEXT is valid UTF-8 with no control characters but tab; a folded
 * line ends CRLF, has at most 75 octets per physical line, never splits a UTF-8
 * sequence, and unfolds to exactly what went in; the token and date parsers
 * accept only what they promise. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/buf.h"
#include "bot/feeds.h"
#include "bot/ical.h"
#include "bot/period.h"
#include "bot/utf8.h"

static void check_folded(const struct buf *folded, const struct buf *line)
{
	struct buf back = BUF_INIT(0);
	size_t i = 0;

	if (folded->len < 2 || memcmp(folded->data + folded->len - 2, "\r\n", 2) != 0)
		abort();
	while (i < folded->len) {
		const char *p = folded->data + i;
		const char *eol = memmem(p, folded->len - i, "\r\n", 2);
		size_t n;

		if (!eol)
			abort();
		n = (size_t)(eol - p);
		if (n > ICAL_LINE_OCTETS || memchr(p, '\n', n) || memchr(p, '\r', n) || !utf8_valid(p, n))
			abort();
		if (i > 0) {
			if (n == 0 || p[0] != ' ')
				abort();
			buf_add(&back, p + 1, n - 1);
		} else {
			buf_add(&back, p, n);
		}
		i += n + 2;
	}
	if (back.len != line->len || (back.len && memcmp(back.data, line->data, back.len) != 0))
		abort();
	buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct buf line = BUF_INIT(0), folded = BUF_INIT(0);
	char token[FEEDS_TOKEN_HEX + 1];
	int y, m, d;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	buf_adds(&line, "SUMMARY:");
	if (ical_escape_text(&line, s) < 0)
		abort();
	if (!utf8_valid(line.data, line.len))
		abort();
	for (size_t i = 0; i < line.len; i++) {
		unsigned char c = (unsigned char)line.data[i];
		if ((c < 0x20 && c != '\t') || c == 0x7F)
			abort();
	}
	if (ical_fold(&folded, line.data, line.len) < 0)
		abort();
	check_folded(&folded, &line);

	if (feeds_token_parse(s, ".ics", token) == 0) {
		if (strlen(token) != FEEDS_TOKEN_HEX || strspn(token, "0123456789abcdef") != FEEDS_TOKEN_HEX ||
		    strcmp(s + FEEDS_TOKEN_HEX, ".ics") != 0)
			abort();
	}
	if (period_parse_date(s, &y, &m, &d) == 0) {
		char again[16];
		snprintf(again, sizeof(again), "%04d-%02d-%02d", y, m, d);
		if (strcmp(again, s) != 0)
			abort();
	}
	buf_free(&line);
	buf_free(&folded);
	free(s);
	return 0;
}
