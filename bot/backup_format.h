/* backup_format.h - the lines of a backup file (`watchkeeper backup`), read
 * back into the Redis writes that recreate them. Pure: no Redis, no I/O.
 *
 * A backup is JSON lines (one JSON object per line, '\n' after each):
 *
 *   {"format":"watchkeeper-backup","version":1,"created":"<UTC>","created_ms":N,
 *    "watchkeeper":"<version>","redis_version":"<version>"}
 *   one line per key of each org, the org's lines together:
 *     {"org":ID,"key":K,"type":"string|hash|set|zset|list|stream","ttl_ms":N,"value":V}
 *       string  V = S                        hash  V = [[S,S],...]  (field, value)
 *       set     V = [S,...]                  list  V = [S,...]      (in order)
 *       zset    V = [[S,"score"],...]        (the score as Redis prints it)
 *       stream  V = {"entries":[["<ms>-<seq>",[S,S,...]],...],"last_id":"<ms>-<seq>",
 *                    "groups":[{"name":S,"last_delivered_id":"<ms>-<seq>"},...]}
 *     the org's entries in the shared structures:
 *       {"org":ID,"key":"wk:orgs","type":"set","ttl_ms":-1,"value":[ID]}
 *       {"org":ID,"key":"wk:{timers}:t:<id>","type":"timer","due_ms":"N","leased":B,
 *        "value":[[S,S],...]}            (the timer's hash; due_ms: when it fires next)
 *       {"org":ID,"key":"wk:{notify}:q","type":"queue","value":[["<id>",[S,...]],...]}
 *                                         (its notifications not yet acknowledged)
 *   global keys: the same shapes with "org":null, and
 *       {"org":null,"key":"wk:{notify}:q","type":"queue_groups","value":[{"name":S,...}]}
 *   {"format":"watchkeeper-backup-end","orgs":N,"keys":N,"lines":N,"sha256":"<hex>"}
 *     lines: every line before this one (the header included); sha256: of their
 *     bytes, each with its '\n'. A file without it, or whose sum differs, is refused.
 *
 * S is a JSON string when the bytes are UTF-8 without NUL, else {"b64":"<base64>"}.
 * ttl_ms: -1 = no expiry, else what was left of it when the backup was made.
 *
 * Every line is outside input (a file may be cut short, edited or hostile):
 * backup_line_parse() checks the whole line (shapes, sizes, key names that belong
 * to the line's org, stream ids in order, scores) and only then hands back the
 * writes, so a restore that reads every line first writes nothing on a bad one.
 *
 * Thread: any; no shared state. */
#ifndef WK_BACKUP_FORMAT_H
#define WK_BACKUP_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACKUP_FORMAT "watchkeeper-backup"
#define BACKUP_END_FORMAT "watchkeeper-backup-end"
#define BACKUP_VERSION 1
/* The longest line read back (one key with its whole value: an org's audit
 * log is the big one). Redis's own limit for one value is 512 MiB. */
#define BACKUP_LINE_MAX ((size_t)256 << 20)
#define BACKUP_ORG_MAX 97
#define BACKUP_TIMER_ID_MAX 160

#define BACKUP_QUEUE_KEY "wk:{notify}:q"
#define BACKUP_TIMERS_DUE "wk:{timers}"
#define BACKUP_TIMERS_LEASED "wk:{timers}:leased"
#define BACKUP_TIMER_PREFIX "wk:{timers}:t:"
#define BACKUP_ORGS_KEY "wk:orgs"

/* Redis commands as one flat argument list: each command is its argument count
 * (decimal) followed by its arguments, the form the restore script walks. */
struct backup_args {
	char **v;
	size_t *len;
	size_t n, cap;
	size_t cmds;		/* commands in it */
	size_t open;		/* index of the open command's count, or SIZE_MAX */
};

void backup_args_init(struct backup_args *a);
void backup_args_free(struct backup_args *a);
void backup_args_begin(struct backup_args *a);		/* a command starts */
void backup_args_add(struct backup_args *a, const void *p, size_t n);
void backup_args_adds(struct backup_args *a, const char *s);
void backup_args_end(struct backup_args *a);		/* ... and ends */
/* Append every argument of src (whole commands) to dst. */
void backup_args_append(struct backup_args *dst, const struct backup_args *src);

enum backup_line_kind { BL_HEADER, BL_END, BL_KEY, BL_TIMER, BL_QUEUE, BL_QUEUE_GROUPS };

struct backup_line {
	enum backup_line_kind kind;
	char org[BACKUP_ORG_MAX];	/* "" for a global line */
	char *key;			/* NUL-terminated copy (keys never hold NUL) */
	char type[16];
	int64_t ttl_ms;			/* -1: none */
	bool shared;			/* wk:orgs, the queue: other orgs write there too */
	/* BL_TIMER */
	char timer_id[BACKUP_TIMER_ID_MAX];
	char timer_kind[32];
	int64_t due_ms;
	/* BL_HEADER */
	int64_t version, created_ms;
	/* BL_END */
	int64_t n_orgs, n_keys, n_lines;
	char sha256[65];
	/* BL_QUEUE_GROUPS: group names, one command each ("XGROUP" ...) */
	/* The writes that recreate it, leaving out its expiry and (for a timer)
	 * its place in the due set, which the restore decides. */
	struct backup_args cmds;
};

/* Parse one line (without its '\n'). 0 with *out filled (backup_line_free()
 * it), -1 with a sentence in err (nothing to free). */
int backup_line_parse(const char *p, size_t n, struct backup_line *out, char *err, size_t errsz);
void backup_line_free(struct backup_line *l);

/* Bytes as S (see above); never NULL. */
json_t *backup_bytes_json(const char *p, size_t n);
/* S back into bytes: 0 with *out (malloc'd, NUL after the n bytes) and *n,
 * -1 when v is not an S. */
int backup_json_bytes(const json_t *v, char **out, size_t *n);

/* "<ms>-<seq>" as Redis prints stream ids: true with the two numbers. */
bool backup_stream_id(const char *s, uint64_t *ms, uint64_t *seq);
/* Org ids as the daemon makes them (platform:id; bot/org.h). */
bool backup_org_valid(const char *id);

#endif
