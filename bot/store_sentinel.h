/* store_sentinel.h - finding the Redis primary through Redis Sentinel.
 *
 * hiredis speaks no Sentinel, so this does the client's part of the protocol:
 * ask the sentinels in the URL's order for the primary (SENTINEL
 * get-master-addr-by-name), let the store check ROLE on what it connects to,
 * and follow the sentinels' events so every thread's connection moves to a new
 * primary on its next command.
 *
 * One sentinel URL per process (the config's redis.url): the primary's
 * address, its generation and the "a failover is under way" fence are
 * process-wide. Every function may be called from any thread.
 *
 * Generation: a number that changes whenever the address the store should use
 * changes or is found wrong (+switch-master, a primary that answers ROLE as a
 * replica or refuses a write with READONLY, a primary that cannot be reached).
 * A connection made at an older generation is dropped before its next command:
 * the command has not been sent, so it cannot have run on the old primary.
 *
 * Fence: the watcher (sentinel_watch_start) subscribes to every sentinel's
 * events. From +try-failover (the leader's first step, before it promotes the
 * replica) to +switch-master or a -failover-abort-*, the old primary may still
 * take writes that the promotion would throw away, so commands are not sent at
 * all: callers get "nothing was changed, try again". A fence that sees neither
 * end is lifted after SENTINEL_FENCE_MAX_MS (then the address is asked again). */
#ifndef WK_STORE_SENTINEL_H
#define WK_STORE_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SENTINEL_MAX 8
#define SENTINEL_SCHEME "redis+sentinel://"
#define SENTINEL_FENCE_MAX_MS 15000

struct sentinel_url {
	struct sentinel_addr {
		char host[256];
		int port;
	} addr[SENTINEL_MAX];
	size_t n;			/* 0: not a sentinel URL */
	char master[128];		/* the name the sentinels monitor it under */
	char user[128];			/* the sentinels' credentials (ACL user optional) */
	char password[256];
	int db;
};

/* Parse redis+sentinel://[[user]:pass@]host[:port][,host[:port]...]/NAME[/db]
 * (port 26379 by default). -1 with a sentence in err that never contains the
 * password. */
int sentinel_url_parse(const char *url, struct sentinel_url *out, char *err, size_t errsz);

/* The primary's address and the generation it belongs to: the cached answer,
 * or the sentinels asked in order (each within timeout_ms). -1 with a sentence
 * in err when none answers with an address. */
int sentinel_primary(const struct sentinel_url *u, int64_t timeout_ms, char *host, size_t hostsz, int *port,
		     uint64_t *gen, char *err, size_t errsz);
/* The address of generation gen proved wrong: forget it and move to a new
 * generation (once, however many threads report the same gen). */
void sentinel_invalidate(uint64_t gen);
uint64_t sentinel_generation(void);
/* How many times +switch-master moved the primary: a connection in backoff
 * tries the new one at once. */
uint64_t sentinel_switches(void);
/* A failover is under way (see Fence above). */
bool sentinel_switching(void);

/* The event watcher thread: one subscribed connection per sentinel. Started
 * by store_monitor_start() for a sentinel URL; stop joins it. moved (may be
 * NULL) runs on the watcher's thread each time +switch-master moves the
 * primary, after the new generation is in place. */
int sentinel_watch_start(const struct sentinel_url *u, int64_t timeout_ms, void (*moved)(void));
void sentinel_watch_stop(void);

/* Handle one sentinel event (channel, payload) for master name: the watcher's
 * logic, separate so unit tests can feed it. */
void sentinel_event(const char *master, const char *channel, const char *payload);

#endif
