/* backup.h - a logical, per-org consistent export of Watchkeeper's Redis
 * state, and loading it back (`watchkeeper backup FILE`, `watchkeeper restore
 * FILE`). The file format is backup_format.h.
 *
 * Backup: one SCAN of wk:* names every key; keys group by their org (the hash
 * tag of wk:{<org>}:...), timers by the org in their hash (read in batches).
 * Then, per org, ONE read-only Lua script reads all of that org's keys
 * together with its entries in the shared structures: its timers (each
 * checked again: still the org's, due in wk:{timers} or running in
 * wk:{timers}:leased), its notifications still waiting in wk:{notify}:q (not
 * yet acknowledged by the couriers' group; the script walks the queue, which
 * the daemon keeps trimmed) and its place in wk:orgs; so an org's lines are one
 * instant of it (an incident with its escalation timer and its queued pages).
 * The script blocks Redis while it reads (about a microsecond per small
 * value): a big org's audit log is read in one go. Global
 * keys (webhook tokens, feeds, phone index, link codes, Slack installs...) are
 * read in batches, each batch one script. Left out: the replay records and
 * Slack event dedupe marks (minutes-long), DM channel caches, the per-second
 * rate buckets, the engines' wake stream, the daemon's own sweep timers (each
 * daemon arms them at start). Values are copied as stored: sealed secrets stay
 * sealed (the restored instance needs the same secrets.key). Keys an org makes
 * between the SCAN and its script are not in the file (the window is one
 * SCAN; a quiet moment makes it empty). The file is written next to FILE and
 * renamed into place once complete ("-" writes to stdout).
 *
 * Restore: the whole file is read and checked first (header, format version,
 * every line, the end line's counts and SHA-256); a file cut short, edited or
 * of another version is refused and nothing is written. Then, unless force,
 * Redis must hold no wk:* key. Each org is written by ONE script that first
 * checks that none of its keys exists (or, with force, deletes them), so a
 * failure leaves no half org. Expiries are kept as instants (created + ttl):
 * a key whose time ran out since the backup is not restored. Stream entries
 * keep their ids and consumer groups; the notification queue is shared by
 * every org, so an org's waiting notifications are queued again with new ids
 * (as the daemon's own requeue on shutdown does) and the couriers' group is
 * created at the start of the queue: every one of them is sent. Timers keep
 * their due instants: a timer that was being run (leased) is due again at its
 * due instant; those due before now are "overdue" and fire as soon as a
 * daemon runs, unless skip_overdue drops them.
 *
 * Thread: the operator's only thread; s is its store. Errors: -1 with a
 * sentence in err. */
#ifndef WK_BACKUP_H
#define WK_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/store.h"

struct backup_stats {
	size_t orgs, keys, timers, queued, globals, lines;
};

/* version: the watchkeeper version for the header. */
int backup_write(struct store *s, const char *path, const char *version, struct backup_stats *st, char *err,
		 size_t errsz);

#define RESTORE_OVERDUE_SHOWN 5

struct restore_opts {
	bool force;		/* write into a Redis holding wk:* keys, replacing those in the file */
	bool skip_overdue;	/* drop timers due before now instead of firing them */
};

struct restore_stats {
	size_t orgs, keys, timers, queued, globals, expired;
	size_t overdue;		/* timers due before now (restored, or dropped with skip_overdue) */
	size_t nshown;
	struct {
		char id[160], kind[32], org[97];
		int64_t due_ms;
	} shown[RESTORE_OVERDUE_SHOWN];	/* the first overdue ones */
	int64_t created_ms;	/* when the backup was made */
};

int backup_restore(struct store *s, const char *path, const struct restore_opts *o, struct restore_stats *st,
		   char *err, size_t errsz);

#endif
