/* cmdline.c - see cmdline.h */
#include "bot/cmdline.h"
#include "bot/utf8.h"
#include "bot/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum quote { QUOTE_NONE, QUOTE_ASCII, QUOTE_SMART };

/* 'U' or 'W' and 2..32 more characters. */
#define MENTION_ID_MIN 3
#define MENTION_ID_MAX (CMDLINE_USER_ID_SIZE - 1)
#define PLAIN_NAME_MAX (CMDLINE_NAME_SIZE - 1)

/*
 * The text is known to be well-formed UTF-8 before these run, so a match on
 * a lead byte at i is a whole character and a continuation byte never matches.
 * Each returns the length of the separator or quote at i, or 0.
 */
static size_t sep_len(const unsigned char *s, size_t n, size_t i)
{
	switch (s[i]) {
	case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
		return 1;
	case 0xc2:	/* U+00A0 NO-BREAK SPACE */
		return n - i >= 2 && s[i + 1] == 0xa0 ? 2 : 0;
	default:
		return 0;
	}
}

static size_t smart_quote_len(const unsigned char *s, size_t n, size_t i)
{
	/* U+201C and U+201D are E2 80 9C and E2 80 9D. */
	if (n - i >= 3 && s[i] == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0x9c || s[i + 2] == 0x9d))
		return 3;
	return 0;
}

/* Length of text without its trailing separators. */
static size_t trimmed_len(const unsigned char *s, size_t n)
{
	while (n > 0) {
		if (sep_len(s, n, n - 1) == 1)
			n--;
		else if (n >= 2 && sep_len(s, n, n - 2) == 2)
			n -= 2;
		else
			break;
	}
	return n;
}

int cmdline_split_max(const char *text, size_t max, struct cmdline *out, char *err, size_t errsz)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strnlen(text, CMDLINE_MAX_TEXT + 1);
	size_t i = 0, k;
	char **argv;
	char *arena;

	out->argc = 0;
	out->argv = NULL;
	out->typed = NULL;
	out->start = NULL;
	if (n > CMDLINE_MAX_TEXT) {
		snprintf(err, errsz, "command text is longer than %d bytes", CMDLINE_MAX_TEXT);
		return -1;
	}
	if (!utf8_valid(text, n)) {
		snprintf(err, errsz, "command text is not valid UTF-8");
		return -1;
	}
	if (max > CMDLINE_MAX_ARGS)
		max = CMDLINE_MAX_ARGS;
	n = trimmed_len(s, n);
	/*
	 * One block: argv[CMDLINE_MAX_ARGS + 1], start[CMDLINE_MAX_ARGS], the
	 * typed text, then the arguments. Dropping separators and quotes only
	 * shrinks the text (the rest argument is a plain copy), and each argument
	 * adds one NUL, so n + CMDLINE_MAX_ARGS bytes hold any accepted split.
	 */
	argv = xmalloc((CMDLINE_MAX_ARGS + 1) * sizeof(char *) + CMDLINE_MAX_ARGS * sizeof(size_t) +
		       (n + 1) + n + CMDLINE_MAX_ARGS);
	out->start = (size_t *)(argv + CMDLINE_MAX_ARGS + 1);
	out->typed = (char *)(out->start + CMDLINE_MAX_ARGS);
	memcpy(out->typed, text, n);
	out->typed[n] = '\0';
	arena = out->typed + n + 1;

	for (;;) {
		enum quote q = QUOTE_NONE;
		size_t len = 0, opened = 0, qlen;
		char *arg;

		while (i < n && (k = sep_len(s, n, i)) > 0)
			i += k;
		if (i == n)
			break;
		if (out->argc == CMDLINE_MAX_ARGS) {
			snprintf(err, errsz, "too many arguments (limit %d)", CMDLINE_MAX_ARGS);
			goto fail;
		}
		arg = arena;
		out->start[out->argc] = i;
		if (max && out->argc + 1 == max) {	/* the rest, as typed */
			memcpy(arg, text + i, n - i);
			arg[n - i] = '\0';
			arena += n - i + 1;
			argv[out->argc++] = arg;
			break;
		}
		while (i < n) {
			if (q == QUOTE_NONE && sep_len(s, n, i) > 0)
				break;
			qlen = s[i] == '"' ? 1 : smart_quote_len(s, n, i);
			/* A quote opens a group, or closes one of its own kind. */
			if (qlen && (q == QUOTE_NONE || (q == QUOTE_ASCII) == (qlen == 1))) {
				if (q == QUOTE_NONE) {
					q = qlen == 1 ? QUOTE_ASCII : QUOTE_SMART;
					opened = i;
				} else {
					q = QUOTE_NONE;
				}
				i += qlen;
				continue;
			}
			if (len == CMDLINE_MAX_ARG) {
				snprintf(err, errsz, "argument %zu is longer than %d bytes",
					 out->argc + 1, CMDLINE_MAX_ARG);
				goto fail;
			}
			arg[len++] = (char)s[i++];
		}
		if (q != QUOTE_NONE) {
			snprintf(err, errsz, "unterminated quote %.*s in argument %zu",
				 q == QUOTE_ASCII ? 1 : 3, text + opened, out->argc + 1);
			goto fail;
		}
		arg[len] = '\0';
		arena += len + 1;
		argv[out->argc++] = arg;
	}
	argv[out->argc] = NULL;
	out->argv = argv;
	return 0;
fail:
	free(argv);
	out->argc = 0;
	out->typed = NULL;
	out->start = NULL;
	return -1;
}

int cmdline_split(const char *text, struct cmdline *out, char *err, size_t errsz)
{
	return cmdline_split_max(text, 0, out, err, errsz);
}

const char *cmdline_rest(const struct cmdline *cl, size_t i)
{
	if (!cl || i >= cl->argc || !cl->typed)
		return "";
	return cl->typed + cl->start[i];
}

void cmdline_free(struct cmdline *cl)
{
	free(cl->argv);
	cl->argv = NULL;
	cl->argc = 0;
	cl->typed = NULL;
	cl->start = NULL;
}

static bool is_upper_or_digit(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || is_upper_or_digit(c) || c == '.' || c == '_' ||
	       c == '-';
}

static int copy_id(const char *id, size_t len, char *dst, size_t size)
{
	if (len + 1 > size)
		return -1;
	memcpy(dst, id, len);
	dst[len] = '\0';
	return 0;
}

int cmdline_mention(const char *arg, char *user_id, size_t size)
{
	const char *id, *p;
	size_t len;

	if (size)
		user_id[0] = '\0';
	if (arg[0] != '<' || arg[1] != '@' || (arg[2] != 'U' && arg[2] != 'W'))
		return -1;
	id = arg + 2;
	for (len = 1; len <= MENTION_ID_MAX && is_upper_or_digit(id[len]); len++)
		;
	if (len < MENTION_ID_MIN || len > MENTION_ID_MAX)
		return -1;
	p = id + len;
	if (*p == '|') {
		const char *label = ++p;

		while (*p && *p != '>' && *p != '<' && *p != '|')
			p++;
		if (p == label)
			return -1;
	}
	if (p[0] != '>' || p[1] != '\0')
		return -1;
	return copy_id(id, len, user_id, size);
}

static int member_mention(const char *arg, char *id, size_t size)
{
	size_t len;

	if (size)
		id[0] = '\0';
	if (arg[0] != '<' || arg[1] != '@')
		return -1;
	for (len = 0; len <= PLAIN_NAME_MAX && is_name_char(arg[2 + len]); len++)
		;
	if (len < 1 || len > 63 || arg[2 + len] != '>' || arg[3 + len] != '\0')
		return -1;
	return copy_id(arg + 2, len, id, size);
}

int cmdline_person(enum platform p, const char *arg, char *id, size_t size)
{
	static int (*const parse[])(const char *, char *, size_t) = {
		[PLATFORM_SLACK] = cmdline_mention,
		[PLATFORM_TEAMS] = member_mention,
		[PLATFORM_CONSOLE] = cmdline_plain_mention,
	};

	return parse[p](arg, id, size);
}

int cmdline_plain_mention(const char *arg, char *id, size_t size)
{
	size_t len;

	if (size)
		id[0] = '\0';
	if (arg[0] != '@')
		return -1;
	for (len = 0; len <= PLAIN_NAME_MAX && is_name_char(arg[1 + len]); len++)
		;
	if (len < 1 || len > PLAIN_NAME_MAX || arg[1 + len] != '\0')
		return -1;
	return copy_id(arg + 1, len, id, size);
}
