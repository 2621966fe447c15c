/* store.h - the one Redis access layer.
 *
 * A struct store is one synchronous hiredis connection owned by one thread
 * (each worker, the console and the readiness monitor have their own). It
 * connects lazily, reconnects with exponential backoff and jitter after a
 * failure, and applies a command timeout so a stalled Redis can never hang a
 * thread forever.
 *
 * Replies: every function returning a redisReply * hands ownership to the
 * caller (freeReplyObject). NULL means "no answer": not connected, timed out or
 * the connection broke; store_error() says why, and store_unanswered() says
 * whether Redis may have run it anyway. A Redis error reply (REDIS_REPLY_ERROR)
 * is returned as a reply, not as NULL, except a replica's refusal under
 * Sentinel (READONLY, UNBLOCKED), which ran nothing: the command is sent once
 * more to the primary the sentinels name, else NULL with store_unanswered()
 * untouched ("nothing was changed, try again").
 *
 * Sentinel (redis+sentinel://, store_sentinel.h): each connection is made to
 * the primary the sentinels name and checked with ROLE; when the primary
 * moves, every store drops its connection before its next command and
 * blocked reads are cut short; during a failover commands are not sent at
 * all (NULL, nothing changed). Redis Cluster is not supported.
 *
 * Metrics: every NULL and every error reply counts once in
 * watchkeeper_redis_errors_total, except error replies the caller names as
 * expected (the *_expecting variants), so that counter only moves when
 * something is wrong.
 *
 * Scripts: state changes are Lua scripts (one atomic step each). A script is a
 * static const struct store_script; store_script() runs it with EVALSHA and
 * falls back to EVAL once when Redis answers NOSCRIPT (after a restart or a
 * SCRIPT FLUSH).
 *
 * Keys: every key of an org is "wk:{<org id>}:<suffix>" (hash tag = org id), so
 * an org's keys share a Redis Cluster slot and a script may touch several. */
#ifndef WK_STORE_H
#define WK_STORE_H

#include <hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/store_sentinel.h"

struct store;

struct store_script {
	const char *name;	/* for logs and errors */
	const char *source;	/* Lua */
	const char *prelude;	/* Lua put before source (e.g. AUDIT_LUA), or NULL */
};

struct store_url {
	char host[256];
	int port;
	char path[256];		/* unix socket path; empty for TCP */
	char user[128];
	char password[256];
	int db;
	/* redis+sentinel://: sentinel.n > 0, host:port is the first sentinel
	 * (for logs) and the primary is asked of the sentinels (store_sentinel.h). */
	struct sentinel_url sentinel;
};

/* Parse redis://[user:pass@]host[:port][/db], unix:///path[?db=N] or
 * redis+sentinel://[[user]:pass@]host:port[,host:port...]/NAME[/db] (the
 * password there is the sentinels'). Returns -1 with a sentence in err (which
 * never contains the password). (store_url.c) */
int store_url_parse(const char *url, struct store_url *out, char *err, size_t errsz);

/* Process-wide, set once by config_load() before any store is opened:
 * password: Redis's (AUTH), used when the URL carries none; sentinel_password:
 * the sentinels', used when a sentinel URL carries none; wait_replicas: how
 * many replicas store_wait_replicas() waits for (0 = it does nothing). */
void store_set_options(const char *password, const char *sentinel_password, int64_t wait_replicas);
void store_url_apply_options(struct store_url *u);
int64_t store_wait_replicas_wanted(void);

/* After a write that must survive a failover (an outbox claim or sent mark, a
 * timer claim): WAIT until redis.wait_replicas replicas have it. 0 when they
 * do (or the option is 0); -1 when fewer acknowledged within the timeout or
 * Redis did not answer: the write may not survive the loss of the primary,
 * so the caller must not act on it (not send, not run) and leaves it to be
 * taken up again. Not for a user's command: WAIT costs a round trip and up to
 * the timeout. */
int store_wait_replicas(struct store *s);

/* Never fails: connection happens on first use. url must already be valid. */
struct store *store_open(const char *url, int64_t timeout_ms);
void store_close(struct store *s);

/* fmt is hiredis's, not printf's: %s and %b only, plus printf integer
 * conversions hiredis 0.14 knows (%d, %lld, ...). It can't format %zu. */
redisReply *store_command(struct store *s, const char *fmt, ...);
redisReply *store_commandargv(struct store *s, int argc, const char **argv, const size_t *argvlen);
/* Run a script: keys first (nkeys of them), then args. NOSCRIPT is handled
 * (and not counted); any other error reply is counted and logged. */
redisReply *store_script(struct store *s, const struct store_script *script,
			 int nkeys, const char *const *keys, int nargs, const char *const *args);

/* What store_script() sends, for a caller that sends it another way
 * (bot/store_pipe.c): the script's full text (prelude and source; caller
 * frees), its SHA-1 as Redis names it, and EVALSHA's argv (argv has room for
 * nkeys + nargs + 3; numkeys is the caller's buffer). Returns argc. */
char *store_script_text(const struct store_script *script);
void store_script_sha(const struct store_script *script, char sha[41]);
int store_script_argv(const char **argv, char numkeys[12], const char *sha, int nkeys, const char *const *keys,
		      int nargs, const char *const *args);

/* Expected error replies. Some error replies are states, not failures: NOGROUP
 * from XREADGROUP/XAUTOCLAIM before the stream and its group exist, BUSYGROUP
 * from XGROUP CREATE when the group already does. The *_expecting variants take
 * a NULL-terminated list of prefixes (compared with the start of the error
 * text, case-sensitive, e.g. "NOGROUP"); an error reply that starts with one of
 * them is returned exactly as usual but is neither counted in
 * watchkeeper_redis_errors_total nor logged. Any other error reply, and NULL (no
 * answer), still count. expected may be NULL (= the plain functions).
 * STORE_EXPECT("NOGROUP", "BUSYGROUP") builds such a list in place:
 *
 *     r = store_command_expecting(s, STORE_EXPECT("NOGROUP"),
 *                                 "XREADGROUP GROUP %s %s ... STREAMS %s >", ...);
 *     if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOGROUP", 7) == 0)
 *             ... no stream yet: the normal state of an idle Redis ...
 */
#define STORE_EXPECT(...) ((const char *const[]){ __VA_ARGS__, NULL })
redisReply *store_command_expecting(struct store *s, const char *const *expected, const char *fmt, ...);
redisReply *store_commandargv_expecting(struct store *s, const char *const *expected, int argc,
					const char **argv, const size_t *argvlen);
redisReply *store_script_expecting(struct store *s, const char *const *expected,
				   const struct store_script *script, int nkeys,
				   const char *const *keys, int nargs, const char *const *args);

/* Blocking commands (XREAD BLOCK, XREADGROUP BLOCK, BLPOP): Redis holds the
 * reply up to block_ms, so this one command may take that long plus the
 * store's timeout before it counts as unanswered. The caller writes block_ms
 * into the command too. Another thread can end the wait early with
 * store_interrupt(): how a long block stays compatible with a quick shutdown. */
redisReply *store_command_blocking(struct store *s, const char *const *expected, int64_t block_ms,
				   const char *fmt, ...);
/* Any thread: end the blocking command s waits in, from this side: its
 * connection is shut, the command returns NULL (not counted as an error) and
 * s connects again on its next use. Only a blocking command is ever cut; one
 * that is not running now is not affected, unless stop: then every later
 * blocking command on s returns NULL at once too (a thread that is stopping).
 * Not CLIENT UNBLOCK: Redis 7.0 crashes when that meets a client held by
 * CLIENT PAUSE. A reply Redis had sent just then is lost: an entry XREADGROUP
 * handed out stays pending for this consumer until the idle time lets
 * someone reclaim it. */
void store_interrupt(struct store *s, bool stop);

const char *store_error(const struct store *s);
bool store_connected(const struct store *s);

/* Whether a command may have run although it got no answer. A command that was
 * written to Redis in full and then got none (the timeout passed, or the
 * connection broke while waiting) may still run, or may already have: its
 * outcome is unknown, and this turns true. A command that never left (no
 * connection, refused, in backoff, or cut off while being written: Redis runs
 * only complete commands) cannot have run and leaves it alone. Sticky until
 * store_unanswered_clear(): dispatch clears it before each request and, on a
 * store failure, tells the user "nothing was changed" only while it is false. */
bool store_unanswered(const struct store *s);
void store_unanswered_clear(struct store *s);

/* Reading a hash (HGETALL's field/value pairs) into a struct by a table:
 *   STORE_STR   copied into a char array of `size` (cut to fit)
 *   STORE_I64   strict decimal into an int64_t (left alone when malformed)
 *   STORE_FLAG  bool: true when the value is "1"
 * Fields not in the table, and non-string values, are ignored. */
enum store_field_type { STORE_STR, STORE_I64, STORE_FLAG };
struct store_field {
	const char *name;
	enum store_field_type type;
	size_t offset, size;
};
#define STORE_STR_FIELD(name, type, member) { name, STORE_STR, offsetof(type, member), sizeof(((type *)0)->member) }
#define STORE_I64_FIELD(name, type, member) { name, STORE_I64, offsetof(type, member), sizeof(int64_t) }
#define STORE_FLAG_FIELD(name, type, member) { name, STORE_FLAG, offsetof(type, member), sizeof(bool) }
/* A reply that should be one string or nil (HGET, GET, a script's answer):
 * 0 the string copied into out, 1 nil, -1 anything else (the store failed, or
 * a string that does not fit size). Frees r (which may be NULL). */
int store_take_string(redisReply *r, char *out, size_t size);
/* Redis's clock (TIME) in milliseconds, the one every instance agrees on; -1
 * when Redis did not answer. One round trip. */
int64_t store_time_ms(struct store *s);

void store_hash_fields(const redisReply *pairs, const struct store_field *fields, size_t n, void *dst);

/* r when it is an array reply; otherwise (NULL, an error, anything else) r is
 * freed and NULL comes back: `r = store_array(store_command(s, "HGETALL %s", k));`. */
redisReply *store_array(redisReply *r);
/* HGETALL key: 0 with *pairs (caller frees) when the hash exists, 1 when it
 * does not (nothing to free), -1 when the store failed. */
int store_hash(struct store *s, const char *key, redisReply **pairs);
/* A script's {outcome index, id} answer (audited changes answer so): 0 with
 * *index < n and *id (when id is not NULL), else -1. r is freed either way. */
int store_outcome(redisReply *r, size_t n, size_t *index, int64_t *id);

/* Connect s as for a command (dial, AUTH, SELECT; under Sentinel the primary,
 * checked with ROLE) and hand that connection over as a descriptor the caller
 * owns, with *generation the Sentinel generation it belongs to (0 without
 * Sentinel, else at least 1; compare sentinel_generation()). s dials again on its next use.
 * -1 when it could not connect: store_error(s) says why. Blocks up to the
 * store's timeout: not on the loop thread. For bot/store_pipe.c. */
int store_take_fd(struct store *s, uint64_t *generation);

/* Round trips this connection has made (each command, each script call,
 * a NOSCRIPT retry included): what a bench divides by its requests. */
uint64_t store_roundtrips(const struct store *s);

/* Build "wk:{org}:suffix" into out. Returns -1 if it does not fit. */
int store_key(char *out, size_t size, const char *org_id, const char *suffix);
/* The same key shape as a Lua prelude, for a script that learns the org from
 * what it reads (a webhook token): wk_org_prefix(org) .. suffix. */
#define STORE_KEY_LUA "local function wk_org_prefix(org) return 'wk:{' .. org .. '}:' end\n"

/* Readiness: a background thread looks every interval and keeps a flag that
 * /readyz reads without touching the network. While ready, it PINGs only when
 * no connection of this process got an answer for STORE_READY_QUIET_MS, or
 * one failed since the last answer: an instance busy with Redis anyway adds
 * no probes, and a Redis that went away still turns the flag false within
 * about an interval (its blocked connections fail at once) or the quiet time
 * plus a timeout (nothing else noticed). Once not ready it PINGs every
 * interval and never waits out a reconnect backoff, so the flag turns true
 * within about one interval of Redis answering again. */
#define STORE_READY_QUIET_MS 2000
int store_monitor_start(const char *url, int64_t timeout_ms, int64_t interval_ms);
void store_monitor_stop(void);
bool store_ready(void);

/* A list of records kept as a zset index plus one record per member (an org's
 * services, integrations, incidents): the first max members of zset key
 * (oldest first, or newest first), each loaded by load(s, member, item, arg)
 * into the next slot of a calloc'd array of item_size items. load returns 0
 * loaded, 1 skip it (gone, or not ours to show), -1 store failure. 0 with
 * *out (caller frees) and *count, or -1 (nothing to free). */
typedef int (*store_load_fn)(struct store *s, const char *member, void *item, const void *arg);
int store_load_index(struct store *s, const char *key, size_t max, bool newest_first, size_t item_size,
		     store_load_fn load, const void *arg, void **out, size_t *count);

#endif
