/* store.c - see store.h */
#include "bot/store.h"
#include "bot/buf.h"
#include "bot/crypto.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define SCRIPT_CACHE 32

struct script_sha {
	const struct store_script *script;
	char sha[41];
};

struct store {
	struct store_url url;
	int64_t timeout_ms;
	redisContext *ctx;
	int64_t backoff_ms;
	int64_t next_attempt_ms;	/* no reconnect before this */
	unsigned seed;
	char err[160];
	bool unanswered;	/* a command went out whole and no answer came back */
	bool probe;		/* the readiness monitor's: never waits out a backoff */
	int64_t block_ms;	/* while a blocking command runs: how long Redis may hold it */
	/* store_interrupt() from another thread; ctx stays put while blocking */
	pthread_mutex_t lock;
	bool blocking;		/* a blocking command is on the wire */
	bool interrupted;	/* ... and store_interrupt() cut it */
	bool stopped;		/* no more blocking commands */
	struct script_sha shas[SCRIPT_CACHE];	/* per connection: no locking needed */
	size_t nshas;
	uint64_t roundtrips;	/* commands sent and answered or not, for benches */
	uint64_t gen;		/* sentinel URL: the generation ctx belongs to */
	uint64_t switches;	/* sentinel_switches() at the last failure */
	uint64_t connects;	/* connections made so far; the current one's number */
	uint64_t sent_on;	/* the connection the last command went out on */
	struct store *next_open;	/* the registry of open stores */
	const char *script_name;	/* set while a script runs: its round trips count under it */
};

/* Every open store, so a new primary can end the blocking reads still
 * waiting on the old one (store_moved). Lock order: registry, then s->lock. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store *registry;

/* Sentinel's +switch-master: a blocked read on the old primary would wait out
 * its whole block (up to 30 s) for entries that now go to the new one. */
static void store_moved(void)
{
	pthread_mutex_lock(&registry_lock);
	for (struct store *s = registry; s; s = s->next_open)
		store_interrupt(s, false);
	pthread_mutex_unlock(&registry_lock);
}

/* Monotonic ms of the last answer any connection got, and of the last
 * failure: the readiness monitor probes only when these don't already say. */
static _Atomic int64_t last_answer_ms, last_failure_ms;

static int64_t mono_ms(void)
{
	return wk_mono_us() / 1000;
}

struct store *store_open(const char *url, int64_t timeout_ms)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char err[160];

	if (store_url_parse(url, &s->url, err, sizeof(err)) < 0)
		log_error("store.url", "error=\"%s\"", err);	/* config validated it already */
	store_url_apply_options(&s->url);
	s->timeout_ms = timeout_ms;
	s->backoff_ms = BACKOFF_MIN_MS;
	pthread_mutex_init(&s->lock, NULL);
	s->seed = (unsigned)wk_mono_us() ^ (unsigned)(uintptr_t)s;
	pthread_mutex_lock(&registry_lock);
	s->next_open = registry;
	registry = s;
	pthread_mutex_unlock(&registry_lock);
	return s;
}

static void store_disconnect(struct store *s)
{
	if (s->ctx) {
		redisFree(s->ctx);
		s->ctx = NULL;
	}
	s->nshas = 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&registry_lock);
	for (struct store **p = &registry; *p; p = &(*p)->next_open)
		if (*p == s) {
			*p = s->next_open;
			break;
		}
	pthread_mutex_unlock(&registry_lock);
	store_disconnect(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void store_fail(struct store *s, const char *what)
{
	int64_t jitter;

	snprintf(s->err, sizeof(s->err), "%s", what);
	s->switches = sentinel_switches();
	metrics_redis_error();
	atomic_store(&last_failure_ms, mono_ms());
	store_disconnect(s);
	jitter = (int64_t)(rand_r(&s->seed) % (unsigned)(s->backoff_ms / 2 + 1));
	s->next_attempt_ms = wk_now_ms() + s->backoff_ms / 2 + jitter;
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

static int store_handshake(struct store *s)
{
	redisReply *r = NULL;

	if (s->url.password[0]) {
		if (s->url.user[0])
			r = redisCommand(s->ctx, "AUTH %s %s", s->url.user, s->url.password);
		else
			r = redisCommand(s->ctx, "AUTH %s", s->url.password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			store_fail(s, "Redis refused the credentials in the Redis URL");
			goto fail;
		}
		freeReplyObject(r);
	}
	if (s->url.db) {
		r = redisCommand(s->ctx, "SELECT %d", s->url.db);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			store_fail(s, "Redis refused SELECT of the database in the Redis URL");
			goto fail;
		}
		freeReplyObject(r);
	}
	return 0;
fail:
	if (r)
		freeReplyObject(r);
	return -1;
}

static void set_timeout(struct store *s, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	redisSetTimeout(s->ctx, tv);
}

static int store_connected_setup(struct store *s, struct timeval tv);

/* Sentinel URL: the primary the sentinels name, checked with ROLE (a
 * failover may have turned it into a replica since they answered). Any
 * failure forgets the address, so the next attempt asks them again. */
static int store_connect_sentinel(struct store *s, struct timeval tv)
{
	char host[256], err[128];
	int port;
	redisReply *r;
	bool master;

	if (sentinel_primary(&s->url.sentinel, s->timeout_ms, host, sizeof(host), &port, &s->gen, err,
			     sizeof(err)) < 0) {
		store_fail(s, err);
		return -1;
	}
	s->ctx = redisConnectWithTimeout(host, port, tv);
	if (store_connected_setup(s, tv) < 0) {
		sentinel_invalidate(s->gen);
		return -1;
	}
	r = redisCommand(s->ctx, "ROLE");
	master = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_STRING &&
		 strcmp(r->element[0]->str, "master") == 0;
	if (r)
		freeReplyObject(r);
	if (!master) {
		sentinel_invalidate(s->gen);
		store_fail(s, "the Redis the sentinels named is not the primary (a failover is under way): try again");
		return -1;
	}
	return 0;
}

static int store_connect(struct store *s)
{
	struct timeval tv = { (time_t)(s->timeout_ms / 1000), (suseconds_t)(s->timeout_ms % 1000) * 1000 };

	if (s->ctx)
		return 0;
	/* In backoff, unless the readiness monitor just saw Redis answer: then
	 * reconnect at once instead of refusing users for the rest of the backoff.
	 * The monitor itself probes at its own fixed interval, so /readyz turns
	 * 200 within one interval of Redis coming back. */
	/* A new primary from the sentinels is worth trying at once, too. */
	if (wk_now_ms() < s->next_attempt_ms && !s->probe && !store_ready() &&
	    !(s->url.sentinel.n && sentinel_switches() != s->switches)) {
		if (!s->err[0])
			snprintf(s->err, sizeof(s->err), "Redis is unreachable");
		return -1;
	}
	if (s->url.sentinel.n)
		return store_connect_sentinel(s, tv);
	if (s->url.path[0])
		s->ctx = redisConnectUnixWithTimeout(s->url.path, tv);
	else
		s->ctx = redisConnectWithTimeout(s->url.host, s->url.port, tv);
	return store_connected_setup(s, tv);
}

/* Whatever was dialled (s->ctx) made ready to use: timeout, keepalive, AUTH, SELECT. */
static int store_connected_setup(struct store *s, struct timeval tv)
{
	if (!s->ctx || s->ctx->err) {
		char msg[160];
		snprintf(msg, sizeof(msg), "cannot connect to Redis: %s",
			 s->ctx ? s->ctx->errstr : "out of memory");
		store_fail(s, msg);
		return -1;
	}
	redisSetTimeout(s->ctx, tv);
	if (!s->url.path[0])
		redisEnableKeepAlive(s->ctx);
	if (store_handshake(s) < 0)
		return -1;
	s->backoff_ms = BACKOFF_MIN_MS;
	s->err[0] = '\0';
	s->connects++;
	return 0;
}

static bool expected_error(const redisReply *r, const char *const *expected)
{
	for (size_t i = 0; expected && expected[i]; i++)
		if (strncmp(r->str, expected[i], strlen(expected[i])) == 0)
			return true;
	return false;
}

/* A NULL reply means the connection is in an unknown state (a timeout may leave
 * a reply in flight): drop it, so the next command never reads a stale answer.
 * An error reply counts in watchkeeper_redis_errors_total unless the caller
 * named it as an expected state. */
static redisReply *store_checked(struct store *s, void *reply, const char *const *expected)
{
	if (!reply) {
		char msg[160];
		snprintf(msg, sizeof(msg), "Redis connection failed: %s",
			 s->ctx && s->ctx->errstr[0] ? s->ctx->errstr : "no reply");
		store_fail(s, msg);
		return NULL;
	}
	if (((redisReply *)reply)->type == REDIS_REPLY_ERROR && !expected_error(reply, expected))
		metrics_redis_error();
	return reply;
}

/* A connection the server closed while idle (a Redis restart, a proxy's idle
 * timeout, a primary killed) is readable before we write: an idle connection
 * has nothing else to read. It is dropped and dialled again before the command
 * leaves. A write that fails with EOF or a reset also left nothing a server
 * could run, and is sent once more. But an EOF after the command left is an
 * unknown outcome: the server may have run it (and replicated it) just before
 * it died. Timeouts are not retried either: the command may still run. */
static bool closed_while_idle(const struct store *s)
{
	struct pollfd p = { .fd = s->ctx->fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static bool stale_connection(const struct store *s)
{
	return s->ctx && (s->ctx->err == REDIS_ERR_EOF ||
			  (s->ctx->err == REDIS_ERR_IO && errno != EAGAIN && errno != EWOULDBLOCK));
}

/* A refusal that means the command ran nowhere: a replica refusing a write
 * (READONLY), or a blocked read ended by a primary turning replica. */
static bool refused_by_replica(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR &&
	       (strncmp(r->str, "READONLY", 8) == 0 || strncmp(r->str, "UNBLOCKED", 9) == 0 ||
		strstr(r->str, "READONLY You can't write") != NULL);
}

/* Sentinel URL, before a command leaves: a connection to an older primary is
 * dropped (the command goes to the new one), and during a failover nothing is
 * sent. True when refused (s->err says why). */
static bool sentinel_refuses(struct store *s)
{
	if (!s->url.sentinel.n)
		return false;
	if (s->ctx && sentinel_generation() != s->gen)
		store_disconnect(s);
	if (!sentinel_switching())
		return false;
	snprintf(s->err, sizeof(s->err), "Redis is switching to a new primary (Sentinel failover): try again");
	return true;
}

/* Send one formatted command (taken, freed here) and read its reply, resending
 * once on a fresh connection when the old one turns out to be stale.
 *
 * The write is done here rather than inside redisGetReply() so we know whether
 * the whole command left: one that did and got no answer (a timeout) may still
 * run, and s->unanswered says so; one that didn't was never run (Redis only
 * runs complete commands, and drops a partial one with the connection). */
/* watchkeeper_redis_roundtrips_total by command: a script by its name, any
 * other command by its first word, read from the RESP text hiredis made
 * ("*N\r\n$len\r\nWORD\r\n..."). */
static void count_roundtrip(const struct store *s, const char *cmd, int len)
{
	char word[24];
	const char *p, *end = cmd + len;
	size_t n;

	if (s->script_name) {
		metrics_redis_roundtrip(s->script_name);
		return;
	}
	p = memchr(cmd, '\n', (size_t)len);
	p = p ? memchr(p + 1, '\n', (size_t)(end - p - 1)) : NULL;
	if (!p) {
		metrics_redis_roundtrip("other");
		return;
	}
	p++;
	for (n = 0; p + n < end && p[n] != '\r' && n + 1 < sizeof(word); n++)
		word[n] = (char)(p[n] >= 'a' && p[n] <= 'z' ? p[n] - 32 : p[n]);
	word[n] = '\0';
	metrics_redis_roundtrip(n ? word : "other");
}

/* Around a blocking command on the wire: false when s is stopped (then it is
 * not sent); block_end() says whether store_interrupt() cut it. */
static bool block_begin(struct store *s)
{
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = !s->stopped;
	s->blocking = ok;
	s->interrupted = false;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static bool block_end(struct store *s)
{
	bool cut;

	pthread_mutex_lock(&s->lock);
	s->blocking = false;
	cut = s->interrupted;
	pthread_mutex_unlock(&s->lock);
	return cut;
}

static redisReply *store_roundtrip(struct store *s, char *cmd, int len, const char *const *expected)
{
	void *r = NULL;
	bool sent = false, cut = false, refused = false;

	if (len < 0) {
		snprintf(s->err, sizeof(s->err), "could not format the Redis command");
		return NULL;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		int done = 0;

		if ((refused = sentinel_refuses(s)))
			break;
		if (s->ctx && closed_while_idle(s))
			store_disconnect(s);
		if (store_connect(s) < 0)
			break;
		r = NULL;
		s->roundtrips++;
		count_roundtrip(s, cmd, len);
		if (s->block_ms) {
			if (!block_begin(s)) {
				cut = true;
				break;
			}
			set_timeout(s, s->timeout_ms + s->block_ms);
		}
		if (redisAppendFormattedCommand(s->ctx, cmd, (size_t)len) == REDIS_OK) {
			while (!done && redisBufferWrite(s->ctx, &done) == REDIS_OK)
				;
			sent = done;
			s->sent_on = s->connects;
			if (done && redisGetReply(s->ctx, &r) != REDIS_OK)
				r = NULL;
		}
		cut = s->block_ms && block_end(s);
		if (r && s->url.sentinel.n && refused_by_replica(r)) {
			/* Nothing was changed: find the primary and send it there. */
			freeReplyObject(r);
			r = NULL;
			sent = false;
			sentinel_invalidate(s->gen);
			store_disconnect(s);
			snprintf(s->err, sizeof(s->err), "Redis refused a write as a replica (a failover is "
							 "under way): nothing was changed, try again");
			refused = attempt == 1 || cut;
			if (refused)
				break;
			continue;
		}
		if (r)
			break;
		if (cut || attempt == 1 || sent || !stale_connection(s))
			break;
		store_disconnect(s);	/* the command did not leave: a fresh connection */
	}
	free(cmd);
	if (refused) {
		/* Not a broken connection: no backoff, but /readyz learns of it. */
		metrics_redis_error();
		atomic_store(&last_failure_ms, mono_ms());
		return NULL;
	}
	if (cut) {
		/* Ours, not Redis's failure: no error, no backoff; the shut
		 * connection goes (a reply that made it in is still good). */
		store_disconnect(s);
		if (!r) {
			snprintf(s->err, sizeof(s->err), "interrupted");
			return NULL;
		}
	}
	if (r) {
		/* Shared by every thread: written once in a while, not per reply. */
		int64_t now = mono_ms();
		if (now - atomic_load_explicit(&last_answer_ms, memory_order_relaxed) >= 100)
			atomic_store(&last_answer_ms, now);
	}
	if (s->ctx && s->block_ms)
		set_timeout(s, s->timeout_ms);
	if (!r && sent)
		s->unanswered = true;
	return s->ctx || r ? store_checked(s, r, expected) : NULL;
}

redisReply *store_commandargv(struct store *s, int argc, const char **argv, const size_t *argvlen)
{
	return store_commandargv_expecting(s, NULL, argc, argv, argvlen);
}

redisReply *store_commandargv_expecting(struct store *s, const char *const *expected, int argc,
					const char **argv, const size_t *argvlen)
{
	char *cmd = NULL;
	int len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);

	return store_roundtrip(s, cmd, len, expected);
}

static redisReply *vcommand(struct store *s, const char *const *expected, const char *fmt, va_list ap)
{
	char *cmd = NULL;
	int len = redisvFormatCommand(&cmd, fmt, ap);

	return store_roundtrip(s, cmd, len, expected);
}

int store_take_fd(struct store *s, uint64_t *generation)
{
	int fd;

	if (sentinel_refuses(s) || store_connect(s) < 0)
		return -1;
	*generation = s->url.sentinel.n ? s->gen : 0;
	fd = fcntl(s->ctx->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		snprintf(s->err, sizeof(s->err), "could not take the Redis connection: %s", strerror(errno));
	store_disconnect(s);	/* the copy keeps the connection open */
	return fd;
}

uint64_t store_roundtrips(const struct store *s)
{
	return s->roundtrips;
}

redisReply *store_command(struct store *s, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, fmt);
	r = vcommand(s, NULL, fmt, ap);
	va_end(ap);
	return r;
}

redisReply *store_command_expecting(struct store *s, const char *const *expected, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, fmt);
	r = vcommand(s, expected, fmt, ap);
	va_end(ap);
	return r;
}

redisReply *store_command_blocking(struct store *s, const char *const *expected, int64_t block_ms,
				   const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	s->block_ms = block_ms > 0 ? block_ms : 1;
	va_start(ap, fmt);
	r = vcommand(s, expected, fmt, ap);
	va_end(ap);
	s->block_ms = 0;
	return r;
}

void store_interrupt(struct store *s, bool stop)
{
	pthread_mutex_lock(&s->lock);
	if (stop)
		s->stopped = true;
	/* The owner neither frees nor replaces ctx while `blocking`, and
	 * shutdown(2) wakes its read without closing the descriptor. */
	if (s->blocking && s->ctx && !s->interrupted) {
		s->interrupted = true;
		shutdown(s->ctx->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&s->lock);
}

char *store_script_text(const struct store_script *script)
{
	struct buf b = BUF_INIT(0);

	if (script->prelude) {
		buf_adds(&b, script->prelude);
		buf_addc(&b, '\n');
	}
	buf_adds(&b, script->source);
	return buf_detach(&b, NULL);
}

void store_script_sha(const struct store_script *script, char sha[41])
{
	unsigned char digest[20];
	char *text = store_script_text(script);

	/* Redis names scripts by SHA-1; that is its choice, not a security use. */
	EVP_Digest(text, strlen(text), digest, NULL, EVP_sha1(), NULL);
	free(text);
	crypto_hex(digest, sizeof(digest), sha);
}

static const char *script_sha(struct store *s, const struct store_script *script)
{
	for (size_t i = 0; i < s->nshas; i++)
		if (s->shas[i].script == script)
			return s->shas[i].sha;
	if (s->nshas == SCRIPT_CACHE)
		s->nshas = 0;	/* more scripts than slots: start over, cheap */
	s->shas[s->nshas].script = script;
	store_script_sha(script, s->shas[s->nshas].sha);
	return s->shas[s->nshas++].sha;
}

int store_script_argv(const char **argv, char numkeys[12], const char *sha, int nkeys, const char *const *keys,
		      int nargs, const char *const *args)
{
	int argc = 0;

	snprintf(numkeys, 12, "%d", nkeys);
	argv[argc++] = "EVALSHA";
	argv[argc++] = sha;
	argv[argc++] = numkeys;
	for (int i = 0; i < nkeys; i++)
		argv[argc++] = keys[i];
	for (int i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	return argc;
}

redisReply *store_script(struct store *s, const struct store_script *script,
			 int nkeys, const char *const *keys, int nargs, const char *const *args)
{
	return store_script_expecting(s, NULL, script, nkeys, keys, nargs, args);
}

redisReply *store_script_expecting(struct store *s, const char *const *expected,
				   const struct store_script *script, int nkeys,
				   const char *const *keys, int nargs, const char *const *args)
{
	/* The EVALSHA's error is judged here, not in store_checked(): NOSCRIPT is
	 * how Redis says "send me the text" (after a restart or a SCRIPT FLUSH),
	 * a normal state answered below; any other error is the script's. */
	static const char *const any_error[] = { "", NULL };
	const char **argv = xmalloc((size_t)(nkeys + nargs + 3) * sizeof(*argv));
	char numkeys[12];
	int argc = store_script_argv(argv, numkeys, NULL, nkeys, keys, nargs, args);
	redisReply *r = NULL;

	if (store_connect(s) < 0)
		goto out;
	argv[1] = script_sha(s, script);
	s->script_name = script->name;
	r = store_commandargv_expecting(s, any_error, argc, argv, NULL);
	if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		char *text = store_script_text(script);
		freeReplyObject(r);
		argv[0] = "EVAL";
		argv[1] = text;
		r = store_commandargv_expecting(s, expected, argc, argv, NULL);
		free(text);
	} else if (r && r->type == REDIS_REPLY_ERROR && !expected_error(r, expected)) {
		metrics_redis_error();
	}
	if (r && r->type == REDIS_REPLY_ERROR && !expected_error(r, expected))
		log_error("store.script", "script=%s error=\"%.160s\"", script->name, r->str);
out:
	s->script_name = NULL;
	free(argv);
	return r;
}

int store_wait_replicas(struct store *s)
{
	int64_t want = store_wait_replicas_wanted();
	/* Half the command timeout: WAIT's answer comes back within it. */
	long long wait_ms = s->timeout_ms / 2 > 0 ? s->timeout_ms / 2 : 1;
	redisReply *r;
	int rc = -1;
	uint64_t write_on = s->sent_on;

	if (want <= 0)
		return 0;
	r = store_command(s, "WAIT %lld %lld", (long long)want, wait_ms);
	/* WAIT speaks for the writes of its own connection only: on a new one
	 * (the primary moved in between) it would vouch for nothing. */
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer >= want && s->sent_on == write_on)
		rc = 0;
	else if (r && s->sent_on != write_on)
		snprintf(s->err, sizeof(s->err), "the connection changed between the write and WAIT");
	else if (r)
		snprintf(s->err, sizeof(s->err), "only %lld of %lld replicas acknowledged the write in time",
			 r->type == REDIS_REPLY_INTEGER ? r->integer : 0LL, (long long)want);
	if (r)
		freeReplyObject(r);
	return rc;
}

const char *store_error(const struct store *s)
{
	return s->err[0] ? s->err : "Redis is unreachable";
}

bool store_connected(const struct store *s)
{
	return s->ctx != NULL;
}

bool store_unanswered(const struct store *s)
{
	return s->unanswered;
}

void store_unanswered_clear(struct store *s)
{
	s->unanswered = false;
}

/* ---- readiness monitor ---- */

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running;
	bool started;
	char *url;
	int64_t timeout_ms, interval_ms;
} monitor = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static atomic_bool ready_flag;

/* Ready, and some connection got an answer lately with no failure since:
 * nothing a PING would add. An idle instance still talks to Redis now and
 * then (blocked reads return, the outbox's watch), so it probes seldom. */
static bool answered_lately(bool was_ready)
{
	int64_t answer = atomic_load(&last_answer_ms);

	return was_ready && answer > atomic_load(&last_failure_ms) && mono_ms() - answer < STORE_READY_QUIET_MS;
}

static bool probe(struct store *s)
{
	redisReply *r = store_command(s, "PING");
	bool ok = r && r->type == REDIS_REPLY_STATUS;

	if (r)
		freeReplyObject(r);
	return ok;
}

static void *monitor_main(void *arg)
{
	struct store *s = store_open(monitor.url, monitor.timeout_ms);
	bool was_ready = true;

	(void)arg;
	s->probe = true;
	pthread_mutex_lock(&monitor.lock);
	while (monitor.running) {
		pthread_mutex_unlock(&monitor.lock);
		/* The very first look always probes: the flag starts false. */
		bool ok = answered_lately(atomic_load(&ready_flag)) || probe(s);
		atomic_store(&ready_flag, ok);
		if (ok != was_ready) {
			if (ok)
				log_info("store.ready", "redis=up");
			else
				log_warn("store.ready", "redis=down error=\"%s\"", store_error(s));
			was_ready = ok;
		}
		pthread_mutex_lock(&monitor.lock);
		if (!monitor.running)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + (monitor.interval_ms % 1000) * 1000000;
		ts.tv_sec += (time_t)(monitor.interval_ms / 1000 + ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		pthread_cond_timedwait(&monitor.cond, &monitor.lock, &ts);
	}
	pthread_mutex_unlock(&monitor.lock);
	store_close(s);
	return NULL;
}

int store_monitor_start(const char *url, int64_t timeout_ms, int64_t interval_ms)
{
	struct store_url u;
	char err[160];

	/* Sentinel: the failover watcher lives as long as the monitor. */
	if (store_url_parse(url, &u, err, sizeof(err)) == 0 && u.sentinel.n) {
		store_url_apply_options(&u);
		if (sentinel_watch_start(&u.sentinel, timeout_ms, store_moved) < 0)
			return -1;
	}
	monitor.url = xstrdup(url);
	monitor.timeout_ms = timeout_ms;
	monitor.interval_ms = interval_ms;
	monitor.running = true;
	if (pthread_create(&monitor.thread, NULL, monitor_main, NULL) != 0) {
		free(monitor.url);
		return -1;
	}
	monitor.started = true;
	return 0;
}

void store_monitor_stop(void)
{
	if (!monitor.started)
		return;
	pthread_mutex_lock(&monitor.lock);
	monitor.running = false;
	pthread_cond_signal(&monitor.cond);
	pthread_mutex_unlock(&monitor.lock);
	pthread_join(monitor.thread, NULL);
	sentinel_watch_stop();
	free(monitor.url);
	monitor.started = false;
}

bool store_ready(void)
{
	return atomic_load(&ready_flag);
}

