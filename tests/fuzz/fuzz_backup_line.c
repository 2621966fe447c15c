/* fuzz_backup_line.c - libFuzzer target for bot/backup_format: the lines
 * `watchkeeper restore` reads from a file that may be cut short, edited or
 * hostile.
 *
 * The input is split at '\n' like a backup file; each line goes through
 * backup_line_parse(). Beyond "no crash, no leak": a refused line leaves
 * nothing to free and a one-line message; an accepted one keeps the promises
 * the restore relies on: an org id that is valid (or none), a key of
 * watchkeeper's without NUL, inside the line's org unless it is one of the
 * shared keys, and writes that are whole commands (each count matches its
 * arguments, at least a command name and a key). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/backup_format.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_backup_line: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();					\
		}							\
	} while (0)

static void check_cmds(const struct backup_args *a)
{
	size_t i = 0, cmds = 0;

	while (i < a->n) {
		char *end;
		unsigned long n = strtoul(a->v[i], &end, 10);

		CHECK(*end == '\0' && n >= 2 && i + n < a->n + 1);
		CHECK(strlen(a->v[i + 1]) > 0);	/* the command's name */
		i += n + 1;
		cmds++;
	}
	CHECK(i == a->n && cmds == a->cmds && a->open == SIZE_MAX);
}

static void check_line(const struct backup_line *l)
{
	char prefix[BACKUP_ORG_MAX + 8];

	if (l->kind == BL_HEADER) {
		CHECK(l->version == BACKUP_VERSION && l->cmds.n == 0);
		return;
	}
	if (l->kind == BL_END) {
		CHECK(strlen(l->sha256) == 64 && l->cmds.n == 0);
		return;
	}
	CHECK(l->key && strncmp(l->key, "wk:", 3) == 0);
	CHECK(!l->org[0] || backup_org_valid(l->org));
	CHECK(l->ttl_ms >= -1);
	snprintf(prefix, sizeof(prefix), "wk:{%s}:", l->org);
	if (l->kind == BL_KEY && l->org[0] && !l->shared)
		CHECK(strncmp(l->key, prefix, strlen(prefix)) == 0);
	if (l->kind == BL_TIMER)
		CHECK(l->org[0] && l->timer_id[0] && l->due_ms >= 0);
	if (l->kind == BL_KEY)
		CHECK(strncmp(l->key, "wk:{timers}", 11) != 0);
	check_cmds(&l->cmds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *copy = malloc(n ? n : 1);	/* exact size: ASan sees a read past the end */
		struct backup_line l;
		char err[300];

		CHECK(copy != NULL);
		memcpy(copy, p, n);
		if (backup_line_parse(copy, n, &l, err, sizeof(err)) == 0) {
			check_line(&l);
			backup_line_free(&l);
		} else {
			CHECK(err[0] && !strchr(err, '\n') && l.key == NULL && l.cmds.n == 0);
		}
		free(copy);
		p += n + 1;
	}
	return 0;
}
