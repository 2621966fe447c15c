/* operator_backup.c - `watchkeeper backup FILE` and `watchkeeper restore FILE`:
 * the command line around bot/backup.h, with the Redis the other operator
 * tools use (operator_with_store). */
#include "bot/backup.h"
#include "bot/operator.h"
#include "bot/util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef WK_VERSION
#define WK_VERSION "dev"
#endif

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"Usage: watchkeeper backup FILE [-c FILE]\n"
	"       watchkeeper restore FILE [--force] [--skip-overdue] [-c FILE]\n"
	"\n"
	"backup writes every org's state (members, teams, rotations, overrides, swaps,\n"
	"incidents, audit logs, pending timers, queued notifications, integrations, invites)\n"
	"and the global keys as JSON lines, each org read at one instant; FILE appears only\n"
	"once complete (\"-\" writes to stdout). Sealed secrets stay sealed: keep secrets.key.\n"
	"\n"
	"restore checks the whole file first (format version, every line, the checksum in\n"
	"its last line) and writes nothing if anything is wrong. It writes only into a Redis\n"
	"without watchkeeper keys, unless --force (then the keys in the file are replaced and\n"
	"the others kept). Each org is written in one step. Timers keep their due times;\n"
	"those already due fire as soon as a daemon runs, or are dropped with --skip-overdue.\n"
	"Start the daemons after the restore.\n"
	"\n"
	"Redis: WK_REDIS_URL, else \"redis.url\" in -c FILE, else redis://127.0.0.1:6379/0.\n"
	"Exit status: 0 done, 1 failed (nothing restored unless it says so), 2 usage.\n";

struct args {
	bool restore, force, skip_overdue;
	const char *file, *config;
};

bool operator_backup_is_command(const char *arg)
{
	return strcmp(arg, "backup") == 0 || strcmp(arg, "restore") == 0;
}

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "watchkeeper: %s\n\n", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static void when(int64_t ms, char *out, size_t size)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, size, "%lld ms", (long long)ms);
}

static int run_backup(const struct config *cfg, struct store *s, void *arg)
{
	const struct args *a = arg;
	struct backup_stats st;
	char err[512];

	(void)cfg;
	if (backup_write(s, a->file, WK_VERSION, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "watchkeeper: backup failed: %s\n", err);
		return EXIT_FAIL;
	}
	fprintf(stderr, "backup %s: %zu orgs, %zu keys, %zu timers, %zu queued notifications, %zu global keys, "
			"%zu lines\n", a->file, st.orgs, st.keys, st.timers, st.queued, st.globals, st.lines);
	return EXIT_OK;
}

static int run_restore(const struct config *cfg, struct store *s, void *arg)
{
	const struct args *a = arg;
	const struct restore_opts o = { a->force, a->skip_overdue };
	struct restore_stats st;
	char err[1024], t[32];

	(void)cfg;
	if (backup_restore(s, a->file, &o, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "watchkeeper: restore refused: %s\n", err);
		if (st.orgs)
			fprintf(stderr, "watchkeeper: %zu orgs were restored before that\n", st.orgs);
		else
			fprintf(stderr, "watchkeeper: nothing was restored\n");
		return EXIT_FAIL;
	}
	when(st.created_ms, t, sizeof(t));
	printf("restored the backup of %s: %zu orgs, %zu keys, %zu timers, %zu queued notifications, "
	       "%zu global keys\n", t, st.orgs, st.keys, st.timers, st.queued, st.globals);
	if (st.expired)
		printf("left out %zu keys whose expiry passed since the backup\n", st.expired);
	if (st.overdue) {
		printf(a->skip_overdue ? "dropped %zu overdue timers (due before now):\n"
				       : "%zu timers are overdue (due before now) and fire as soon as a daemon runs:\n",
		       st.overdue);
		for (size_t i = 0; i < st.nshown; i++) {
			when(st.shown[i].due_ms, t, sizeof(t));
			printf("  %s (%s, org %s) due %s\n", st.shown[i].id, st.shown[i].kind[0] ? st.shown[i].kind : "?",
			       st.shown[i].org, t);
		}
		if (st.overdue > st.nshown)
			printf("  ... and %zu more\n", st.overdue - st.nshown);
	}
	return EXIT_OK;
}

int operator_backup_main(int argc, char **argv)
{
	struct args a = { .restore = strcmp(argv[1], "restore") == 0 };

	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		} else if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
			if (++i >= argc)
				return usage("-c needs a file name");
			a.config = argv[i];
		} else if (a.restore && strcmp(arg, "--force") == 0) {
			a.force = true;
		} else if (a.restore && strcmp(arg, "--skip-overdue") == 0) {
			a.skip_overdue = true;
		} else if (arg[0] == '-' && arg[1]) {
			return usage("unknown option");
		} else if (a.file) {
			return usage("one FILE only");
		} else {
			a.file = arg;
		}
	}
	if (!a.file)
		return usage(a.restore ? "restore which file?" : "backup into which file? (\"-\": stdout)");
	if (a.restore && strcmp(a.file, "-") == 0)
		return usage("restore reads a file (it is read twice), not stdin");
	return operator_with_store(a.config, a.restore ? run_restore : run_backup, &a);
}
