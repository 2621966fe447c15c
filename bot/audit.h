/* audit.h - the append-only, hash-chained audit log of every admin action.
 *
 * Each org has a Redis stream wk:{org}:audit. Entry fields, in this order:
 *   ts        milliseconds since the epoch
 *   actor     member id who acted ("operator" for the command-line tools)
 *   platform  slack | teams | console | operator
 *   action    dotted verb, e.g. "member.role", "invite.create", "team.rename"
 *   resource  what it acted on, e.g. "member:U0BOB", "invite:3f2a9c1d0e"
 *   before    short text or JSON of the old state ("" when created)
 *   after     short text or JSON of the new state ("" when deleted)
 *   prev      hash of the previous entry (64 zeros for the first)
 *   hash      hex SHA-256 of: prev, then each of ts, actor, platform, action,
 *             resource, before, after as "<byte length>:<bytes>\n"
 * so any edit, deletion or reordering breaks the chain. wk:{org}:audit:tip is a
 * hash {hash, count} naming the last entry, which makes cutting off the tail
 * detectable too.
 *
 * Appending happens inside the same Lua script as the change it records, so a
 * change and its audit entry are one atomic step: include AUDIT_LUA in the
 * script's source (before any code that calls it) and call
 *   wk_audit(kstream, ktip, ts, actor, platform, action, resource, before, after)
 * with both keys passed in KEYS. Redis Lua has no SHA-256, so AUDIT_LUA carries
 * one (pure Lua on the `bit` library); audit_verify() recomputes every hash in C
 * with OpenSSL, which also checks the Lua implementation.
 *
 * Thread: callers pass their own store. */
#ifndef WK_AUDIT_H
#define WK_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bot/store.h"

/* Lua source defining local functions wk_sha256(s) -> hex and wk_audit(...) -> hash. */
extern const char AUDIT_LUA[];

int audit_keys(const char *org_id, char *kstream, size_t ssize, char *ktip, size_t tsize);

/* Run an audited change script the way the admin commands' scripts expect
 * it: KEYS = the org's audit stream and tip, then extra_key when not NULL;
 * ARGV = the org's key prefix, now (ms), actor, platform, then more[0..nmore).
 * The reply as store_script() gives it (caller frees), NULL on failure. */
redisReply *audit_script_run(struct store *s, const struct store_script *script, const char *org_id,
			     const char *actor, const char *platform, int64_t now_ms, const char *extra_key,
			     const char *const *more, size_t nmore);

struct audit_entry {
	char id[48];		/* stream id */
	int64_t ts;
	char *actor, *platform, *action, *resource, *before, *after, *prev, *hash;
};

/* The newest n entries, newest first. -1 on store failure. */
int audit_recent(struct store *s, const char *org_id, size_t n, struct audit_entry **out,
		 size_t *count);
void audit_entries_free(struct audit_entry *e, size_t n);

/* Append one entry from C (operator actions that run no other script). */
int audit_append(struct store *s, const char *org_id, const char *actor, const char *platform,
		 const char *action, const char *resource, const char *before, const char *after);

/* One field of a settings hash (key, in the org's slot), changed and audited in
 * one script: value "" deletes the field; absent is what a missing field
 * means (its "before" in the entry). 0 changed, 1 already so (nothing
 * written), -1 store failure. */
struct audited_setting {
	const char *key, *field, *absent;
	const char *action, *resource;	/* the audit entry's, e.g. "swap.policy", "settings" */
};
int audit_set_field(struct store *s, const char *org_id, const struct audited_setting *set,
		    const char *value, const char *actor, const char *platform, int64_t now_ms);

/* One entry as a sentence people read, appended to out with a newline (bot/
 * audit_text.c): its time in zone, names instead of ids, positions as placed:
 *   "Mon 30 Nov 09:00 CET: <@U1> moved <@U4> to position 4 in rotation *night*."
 * Rotation and team names are read from the store (one read each); a deleted
 * one reads "a deleted rotation". Everything from the entry is escaped. */
struct buf;
struct tz;
void audit_describe(struct store *s, const char *org_id, const struct audit_entry *e,
		    const struct tz *zone, struct buf *out);

enum audit_verdict { AUDIT_INTACT, AUDIT_BROKEN, AUDIT_STORE_ERROR };
/* Walk the whole chain. On AUDIT_BROKEN, report names the first bad entry (its
 * stream id and position) and what is wrong with it. *checked = entries read. */
enum audit_verdict audit_verify(struct store *s, const char *org_id, char *report, size_t size,
				size_t *checked);

/* Write the log as CSV (RFC 4180 quoting) with a header row, oldest first. */
int audit_export_csv(struct store *s, const char *org_id, FILE *out);

#endif
