/* cmdline.h - split the text of a chat command into arguments.
 *
 * Input is what a user typed after the command word (for "/oncall swap <@U1>
 * "next week"" the text "swap <@U1> \"next week\""), from Slack, Teams, SMS or
 * the local console. Rules:
 *
 *   - arguments are separated by runs of ASCII whitespace (space, \t, \n, \v,
 *     \f, \r) and U+00A0 NO-BREAK SPACE, which Slack clients insert;
 *   - "double quotes" group words into one argument and are removed, as in a
 *     shell: a"b c"d is the one argument "ab cd", and "" is an empty argument;
 *   - so do the typographic quotes U+201C and U+201D that phones and macOS
 *     substitute. Either of them opens a group and either closes it (clients
 *     get the direction wrong); inside a smart-quoted group '"' is an ordinary
 *     character and inside a "..." group smart quotes are;
 *   - there are no escapes: a backslash is an ordinary character, and so are
 *     the apostrophes ' and U+2019, so "don't" needs no quoting;
 *   - the text must be well-formed UTF-8 (bot/utf8.h), at most
 *     CMDLINE_MAX_TEXT bytes, with at most CMDLINE_MAX_ARGS arguments of at
 *     most CMDLINE_MAX_ARG bytes each.
 *
 * Platform markup (Slack's &lt; &gt; &amp; escaping) is the adapter's business,
 * undone before the text gets here; mentions such as <@U123> arrive verbatim.
 *
 * Errors are short English sentences meant for the user who typed the command;
 * they fit in CMDLINE_ERR_SIZE bytes and repeat none of the input except the
 * quote character of an unterminated group. err may be NULL only when errsz
 * is 0.
 *
 * All functions are reentrant and thread-safe. */
#ifndef WK_CMDLINE_H
#define WK_CMDLINE_H

#include <stddef.h>

#include "bot/request.h"

#define CMDLINE_MAX_TEXT 4000
/* Enough for a rotation of 200 people named in one line; free text after a
 * command's fixed arguments is one argument (cmdline_split_max), so words of
 * a message never count toward this. */
#define CMDLINE_MAX_ARGS 256
#define CMDLINE_MAX_ARG 512
#define CMDLINE_ERR_SIZE 96

/* Buffer sizes that always fit a result of cmdline_mention() and of
 * cmdline_plain_mention(), NUL included. */
#define CMDLINE_USER_ID_SIZE 34
#define CMDLINE_NAME_SIZE 65

struct cmdline {
	size_t argc;
	char **argv;	/* argc strings, then NULL; all owned by the cmdline */
	char *typed;	/* the text with trailing blanks dropped (owned), for cmdline_rest() */
	size_t *start;	/* argc offsets into typed: where each argument begins */
};

/*
 * Split text (NUL-terminated) into *out. Returns 0 on success; the caller then
 * owns out and releases it with cmdline_free(); empty or all-blank text gives
 * argc == 0 (argv is still a valid, NULL-terminated array). Returns -1 with a
 * message in err and *out empty (argc 0, argv NULL) on bad input.
 * Each argument is itself well-formed UTF-8 and contains no NUL.
 */
int cmdline_split(const char *text, struct cmdline *out, char *err, size_t errsz);

/*
 * Like cmdline_split(), but makes at most max arguments (max 0: no limit but
 * CMDLINE_MAX_ARGS): when the text holds more, argument max is the rest of
 * the text as typed, from its first character (quotes and spacing kept, not
 * checked; trailing blanks dropped) and bounded only by CMDLINE_MAX_TEXT. So
 * free text after a command's fixed arguments ("page @bob the db is down")
 * is one argument, and a stray quote in it is no error.
 */
int cmdline_split_max(const char *text, size_t max, struct cmdline *out, char *err, size_t errsz);

/*
 * The text as typed from argument i to the end (trailing blanks dropped), or
 * "" when i >= argc. Valid until cmdline_free().
 */
const char *cmdline_rest(const struct cmdline *cl, size_t i);

/* Release the arguments and leave *cl empty. Safe on an empty cmdline. */
void cmdline_free(struct cmdline *cl);

/*
 * A Slack user mention: the whole of arg is "<@ID>" or "<@ID|label>", where ID
 * is 'U' or 'W' followed by 2..32 characters from [A-Z0-9], and label is
 * non-empty without '<', '>' or '|'. Copies ID (NUL-terminated) into user_id
 * and returns 0. Returns -1 for anything else, including "@bob" (a name Slack
 * did not resolve), channel links "<#C1>" and "<!here>", or when ID does not fit
 * in size bytes; user_id is then "" (when size > 0).
 */
int cmdline_mention(const char *arg, char *user_id, size_t size);

/*
 * A plain mention as typed on the local console: the whole of arg is "@name"
 * where name is 1..64 characters from [A-Za-z0-9._-]. Copies name (without the
 * '@') into id and returns 0; otherwise -1 and id is "" (when size > 0).
 */
int cmdline_plain_mention(const char *arg, char *id, size_t size);

/*
 * A person as the platform writes them in a command: Slack's <@U..|label>
 * (cmdline_mention), Teams' <@member> (the adapter turns an @mention into
 * the member id: 1..63 characters from [A-Za-z0-9._-]), the console's
 * @name (cmdline_plain_mention). 0 with the id copied, else -1 and "".
 */
int cmdline_person(enum platform p, const char *arg, char *id, size_t size);

#endif
