/* fuzz_cmdline.c - libFuzzer target for bot/cmdline.
 *
 * Splits arbitrary text, checks the limits and UTF-8 promise on every accepted
 * split, runs both mention parsers on each argument and on the raw input, and
 * checks that quoting the arguments and joining them splits back to the same
 * arguments. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/cmdline.h"
#include "bot/utf8.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_cmdline: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();					\
		}							\
	} while (0)

#define LDQ "\xe2\x80\x9c"
#define RDQ "\xe2\x80\x9d"

static void check_mentions(const char *arg)
{
	char id[CMDLINE_USER_ID_SIZE], name[CMDLINE_NAME_SIZE];

	if (cmdline_mention(arg, id, sizeof(id)) == 0) {
		size_t n = strlen(id);

		CHECK(n >= 3 && n <= CMDLINE_USER_ID_SIZE - 1);
		CHECK(id[0] == 'U' || id[0] == 'W');
		CHECK(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n);
		CHECK(strncmp(arg, "<@", 2) == 0 && strncmp(arg + 2, id, n) == 0);
	} else {
		CHECK(id[0] == '\0');
	}
	if (cmdline_plain_mention(arg, name, sizeof(name)) == 0) {
		size_t n = strlen(name);

		CHECK(n >= 1 && n <= CMDLINE_NAME_SIZE - 1);
		CHECK(arg[0] == '@' && strcmp(arg + 1, name) == 0);
	} else {
		CHECK(name[0] == '\0');
	}
}

/* Quote every argument so it survives a re-split; -1 if one cannot be. */
static int join_quoted(const struct cmdline *cl, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < cl->argc; i++) {
		const char *a = cl->argv[i];
		const char *open = "\"", *close = "\"";
		size_t n = strlen(a);

		if (strchr(a, '"')) {
			if (strstr(a, LDQ) || strstr(a, RDQ))
				return -1;
			open = LDQ;
			close = RDQ;
		}
		if (o + 1 + strlen(open) + n + strlen(close) + 1 > size)
			return -1;
		if (i)
			out[o++] = ' ';
		memcpy(out + o, open, strlen(open));
		o += strlen(open);
		memcpy(out + o, a, n);
		o += n;
		memcpy(out + o, close, strlen(close));
		o += strlen(close);
	}
	out[o] = '\0';
	return 0;
}

static void check_round_trip(const struct cmdline *cl)
{
	char text[CMDLINE_MAX_TEXT + 1], err[CMDLINE_ERR_SIZE];
	struct cmdline again;

	if (join_quoted(cl, text, sizeof(text)) < 0)
		return;
	CHECK(cmdline_split(text, &again, err, sizeof(err)) == 0);
	CHECK(again.argc == cl->argc);
	for (size_t i = 0; i < cl->argc; i++)
		CHECK(strcmp(again.argv[i], cl->argv[i]) == 0);
	cmdline_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[CMDLINE_ERR_SIZE];
	struct cmdline cl;

	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	check_mentions(text);
	if (cmdline_split(text, &cl, err, sizeof(err)) != 0) {
		CHECK(cl.argc == 0 && cl.argv == NULL);
		CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
		cmdline_free(&cl);
		free(text);
		return 0;
	}
	CHECK(cl.argv != NULL && cl.argc <= CMDLINE_MAX_ARGS);
	CHECK(cl.argv[cl.argc] == NULL);
	for (size_t i = 0; i < cl.argc; i++) {
		size_t n = strlen(cl.argv[i]);

		CHECK(n <= CMDLINE_MAX_ARG);
		CHECK(utf8_valid(cl.argv[i], n));
		check_mentions(cl.argv[i]);
	}
	check_round_trip(&cl);
	cmdline_free(&cl);
	free(text);
	return 0;
}
