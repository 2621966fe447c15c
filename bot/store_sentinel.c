/* store_sentinel.c - see store_sentinel.h */
#include "bot/store_sentinel.h"
#include "bot/log.h"
#include "bot/util.h"

#include <hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENTINEL_PORT 26379
#define WATCH_POLL_MS 200
#define WATCH_RETRY_MS 1000

/* ---- the URL ---- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

/* "host[:port]" of length n into a. */
static int parse_addr(const char *p, size_t n, struct sentinel_addr *a)
{
	const char *colon = memchr(p, ':', n);
	size_t hn = colon ? (size_t)(colon - p) : n;
	int64_t v = SENTINEL_PORT;

	if (hn == 0 || wk_copy_span(p, hn, a->host, sizeof(a->host)) < 0)
		return -1;
	for (size_t i = 0; i < hn; i++)
		if (!name_char(p[i]))
			return -1;
	if (colon) {
		char port[8];
		if (wk_copy_span(colon + 1, n - hn - 1, port, sizeof(port)) < 0 || !wk_parse_i64(port, 1, 65535, &v))
			return -1;
	}
	a->port = (int)v;
	return 0;
}

int sentinel_url_parse(const char *url, struct sentinel_url *out, char *err, size_t errsz)
{
	const size_t plen = strlen(SENTINEL_SCHEME);
	const char *p = url + plen, *at, *slash, *name, *end;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, SENTINEL_SCHEME, plen) != 0) {
		snprintf(err, errsz, "Sentinel URL must start with " SENTINEL_SCHEME);
		return -1;
	}
	at = strrchr(p, '@');
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (!colon) {
			snprintf(err, errsz, "Sentinel URL: the sentinels' password goes after a colon: "
					     "redis+sentinel://:PASSWORD@host:26379/NAME");
			return -1;
		}
		if (wk_copy_span(p, (size_t)(colon - p), out->user, sizeof(out->user)) < 0 ||
		    wk_copy_span(colon + 1, (size_t)(at - colon - 1), out->password, sizeof(out->password)) < 0) {
			snprintf(err, errsz, "Sentinel URL: user or password too long");
			return -1;
		}
		p = at + 1;
	}
	slash = strchr(p, '/');
	if (!slash || slash == p) {
		snprintf(err, errsz, "Sentinel URL: expected host:port[,host:port...]/NAME after " SENTINEL_SCHEME);
		return -1;
	}
	for (const char *h = p; h < slash;) {
		const char *comma = memchr(h, ',', (size_t)(slash - h));
		const char *he = comma ? comma : slash;
		if (out->n == SENTINEL_MAX) {
			snprintf(err, errsz, "Sentinel URL: at most %d sentinels", SENTINEL_MAX);
			return -1;
		}
		if (parse_addr(h, (size_t)(he - h), &out->addr[out->n]) < 0) {
			snprintf(err, errsz, "Sentinel URL: sentinel %zu is not host[:port] with a port 1..65535",
				 out->n + 1);
			return -1;
		}
		out->n++;
		h = comma ? comma + 1 : slash;
		if (comma && h == slash) {
			snprintf(err, errsz, "Sentinel URL: empty sentinel after a comma");
			return -1;
		}
	}
	name = slash + 1;
	end = strchr(name, '/');
	if (!end)
		end = name + strlen(name);
	if (end == name || wk_copy_span(name, (size_t)(end - name), out->master, sizeof(out->master)) < 0) {
		snprintf(err, errsz, "Sentinel URL: missing or too long primary name after the sentinels, "
				     "e.g. /mymaster");
		goto bad;
	}
	for (const char *c = name; c < end; c++)
		if (!name_char(*c)) {
			snprintf(err, errsz, "Sentinel URL: the primary name may hold only letters, digits, '.', "
					     "'_' and '-'");
			goto bad;
		}
	if (*end) {
		int64_t v;
		if (!wk_parse_i64(end + 1, 0, 1000, &v)) {
			snprintf(err, errsz, "Sentinel URL: database must be a number after the name, e.g. /mymaster/0");
			goto bad;
		}
		out->db = (int)v;
	}
	return 0;
bad:
	out->n = 0;
	return -1;
}

/* ---- the shared state ---- */

static struct {
	pthread_mutex_t lock;
	char host[256];
	int port;
	bool valid;
	int64_t fence_until[SENTINEL_MAX];	/* per sentinel, monotonic ms; 0 = none */
	atomic_bool fenced;			/* some fence_until set: the fast path */
	_Atomic uint64_t gen;
	_Atomic uint64_t switches;
} st = { .lock = PTHREAD_MUTEX_INITIALIZER, .gen = 1 };

static int64_t mono_ms(void)
{
	return wk_mono_us() / 1000;
}

uint64_t sentinel_switches(void)
{
	return atomic_load(&st.switches);
}

uint64_t sentinel_generation(void)
{
	return atomic_load(&st.gen);
}

/* Under st.lock. */
static void forget_locked(void)
{
	st.valid = false;
	atomic_fetch_add(&st.gen, 1);
}

void sentinel_invalidate(uint64_t gen)
{
	pthread_mutex_lock(&st.lock);
	if (atomic_load(&st.gen) == gen)
		forget_locked();
	pthread_mutex_unlock(&st.lock);
}

bool sentinel_switching(void)
{
	bool on = false;
	int64_t now;

	if (!atomic_load(&st.fenced))
		return false;
	now = mono_ms();
	pthread_mutex_lock(&st.lock);
	for (size_t i = 0; i < SENTINEL_MAX; i++) {
		if (st.fence_until[i] && st.fence_until[i] <= now) {
			/* Neither end was seen: ask the sentinels again. */
			st.fence_until[i] = 0;
			forget_locked();
			log_warn("store.sentinel_fence_expired", "sentinel=%zu", i + 1);
		}
		on |= st.fence_until[i] != 0;
	}
	atomic_store(&st.fenced, on);
	pthread_mutex_unlock(&st.lock);
	return on;
}

static bool addr_ok(const redisReply *r)
{
	if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= 256)
		return false;
	for (size_t i = 0; i < r->len; i++)
		if (!name_char(r->str[i]) && r->str[i] != ':')
			return false;
	return true;
}

/* A connection to sentinel a, authenticated, or NULL. */
static redisContext *sentinel_connect(const struct sentinel_url *u, const struct sentinel_addr *a,
				      int64_t timeout_ms)
{
	struct timeval tv = { (time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout(a->host, a->port, tv);
	redisReply *r;

	if (!c || c->err) {
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	redisEnableKeepAlive(c);
	if (u->password[0]) {
		r = u->user[0] ? redisCommand(c, "AUTH %s %s", u->user, u->password)
			       : redisCommand(c, "AUTH %s", u->password);
		bool ok = r && r->type != REDIS_REPLY_ERROR;
		if (r)
			freeReplyObject(r);
		if (!ok) {
			log_warn("store.sentinel_auth", "sentinel=%s:%d error=\"refused the sentinel password\"",
				 a->host, a->port);
			redisFree(c);
			return NULL;
		}
	}
	return c;
}

/* Ask one sentinel: 0 with host/port, -1. */
static int ask(const struct sentinel_url *u, const struct sentinel_addr *a, int64_t timeout_ms, char *host,
	       size_t hostsz, int *port)
{
	redisContext *c = sentinel_connect(u, a, timeout_ms);
	redisReply *r;
	int rc = -1;
	int64_t v;

	if (!c)
		return -1;
	r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", u->master);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && addr_ok(r->element[0]) &&
	    r->element[1]->type == REDIS_REPLY_STRING && wk_parse_i64(r->element[1]->str, 1, 65535, &v) &&
	    r->element[0]->len < hostsz) {
		memcpy(host, r->element[0]->str, r->element[0]->len + 1);
		*port = (int)v;
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return rc;
}

int sentinel_primary(const struct sentinel_url *u, int64_t timeout_ms, char *host, size_t hostsz, int *port,
		     uint64_t *gen, char *err, size_t errsz)
{
	uint64_t g;

	pthread_mutex_lock(&st.lock);
	g = atomic_load(&st.gen);
	if (st.valid) {
		wk_strlcpy(host, st.host, hostsz);
		*port = st.port;
		*gen = g;
		pthread_mutex_unlock(&st.lock);
		return 0;
	}
	pthread_mutex_unlock(&st.lock);
	/* Not under the lock: a sentinel that does not answer holds up only
	 * this thread. Two threads asking at once is harmless. */
	for (size_t i = 0; i < u->n; i++) {
		if (ask(u, &u->addr[i], timeout_ms, host, hostsz, port) < 0)
			continue;
		pthread_mutex_lock(&st.lock);
		if (atomic_load(&st.gen) == g && !st.valid) {
			wk_strlcpy(st.host, host, sizeof(st.host));
			st.port = *port;
			st.valid = true;
		}
		pthread_mutex_unlock(&st.lock);
		*gen = g;
		return 0;
	}
	snprintf(err, errsz, "no sentinel named a Redis primary for \"%s\"", u->master);
	return -1;
}

/* ---- events ---- */

/* Words of s (space-separated) into w, at most n; returns how many. */
static size_t split(char *s, char **w, size_t n)
{
	size_t k = 0;

	for (char *save = NULL, *tok = strtok_r(s, " ", &save); tok && k < n; tok = strtok_r(NULL, " ", &save))
		w[k++] = tok;
	return k;
}

/* Events of the leader's failover that come before the promotion. */
static const char *const fence_events[] = {
	"+try-failover", "+elected-leader", "+failover-state-select-slave", "+selected-slave",
	"+failover-state-send-slaveof-noone", "+failover-state-wait-promotion", "+promoted-slave",
	"+failover-state-reconf-slaves", "+failover-end", "+failover-end-for-timeout",
};

static void (*moved_hook)(void);	/* sentinel_watch_start's moved */

static void switch_master(const char *host, int port)
{
	bool moved;

	pthread_mutex_lock(&st.lock);
	moved = !st.valid || strcmp(st.host, host) != 0 || st.port != port;
	if (moved) {
		wk_strlcpy(st.host, host, sizeof(st.host));
		st.port = port;
		st.valid = true;
		atomic_fetch_add(&st.gen, 1);
		atomic_fetch_add(&st.switches, 1);
	}
	memset(st.fence_until, 0, sizeof(st.fence_until));
	atomic_store(&st.fenced, false);
	pthread_mutex_unlock(&st.lock);
	if (moved)
		log_info("store.sentinel_switch", "primary=%s:%d", host, port);
	if (moved && moved_hook)
		moved_hook();
}

static void fence(size_t from, bool on)
{
	pthread_mutex_lock(&st.lock);
	if (on && !st.fence_until[from])
		log_warn("store.sentinel_failover", "sentinel=%zu note=\"a failover began: commands wait\"",
			 from + 1);
	st.fence_until[from] = on ? mono_ms() + SENTINEL_FENCE_MAX_MS : 0;
	if (on)
		atomic_store(&st.fenced, true);
	pthread_mutex_unlock(&st.lock);
	if (!on)
		sentinel_switching();	/* recompute the fast-path flag */
}

static void event_from(size_t from, const char *master, const char *channel, const char *payload)
{
	char text[512], *w[8];
	size_t n;
	const char *name = NULL;
	int64_t port;

	if (strlen(payload) >= sizeof(text) || from >= SENTINEL_MAX)
		return;
	memcpy(text, payload, strlen(payload) + 1);
	n = split(text, w, 8);
	if (strcmp(channel, "+switch-master") == 0) {
		/* <name> <old ip> <old port> <new ip> <new port> */
		if (n == 5 && strcmp(w[0], master) == 0 && wk_parse_i64(w[4], 1, 65535, &port) &&
		    strlen(w[3]) < 256) {
			bool ok = true;
			for (const char *c = w[3]; *c; c++)
				ok &= name_char(*c) || *c == ':';
			if (ok)
				switch_master(w[3], (int)port);
		}
		return;
	}
	/* "master <name> <ip> <port>" or "<type> <name> <ip> <port> @ <master> <ip> <port>" */
	if (n >= 2 && strcmp(w[0], "master") == 0)
		name = w[1];
	else if (n >= 6 && strcmp(w[4], "@") == 0)
		name = w[5];
	if (!name || strcmp(name, master) != 0)
		return;
	if (strncmp(channel, "-failover-abort", 15) == 0) {
		fence(from, false);
		return;
	}
	for (size_t i = 0; i < sizeof(fence_events) / sizeof(fence_events[0]); i++)
		if (strcmp(channel, fence_events[i]) == 0) {
			fence(from, true);
			return;
		}
}

void sentinel_event(const char *master, const char *channel, const char *payload)
{
	event_from(0, master, channel, payload);
}

/* ---- the watcher ---- */

static struct {
	pthread_t thread;
	atomic_bool running;
	bool started;
	struct sentinel_url url;
	int64_t timeout_ms;
} watch;

static redisContext *subscribe(size_t i)
{
	redisContext *c = sentinel_connect(&watch.url, &watch.url.addr[i], watch.timeout_ms);
	redisReply *r;

	if (!c)
		return NULL;
	r = redisCommand(c, "PSUBSCRIBE *");
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		if (r)
			freeReplyObject(r);
		redisFree(c);
		return NULL;
	}
	freeReplyObject(r);
	return c;
}

static void handle(size_t i, redisReply *r)
{
	/* pmessage <pattern> <channel> <payload> */
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 && r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "pmessage") == 0 && r->element[2]->type == REDIS_REPLY_STRING &&
	    r->element[3]->type == REDIS_REPLY_STRING)
		event_from(i, watch.url.master, r->element[2]->str, r->element[3]->str);
}

static void *watch_main(void *arg)
{
	redisContext *c[SENTINEL_MAX] = { 0 };
	int64_t retry_at[SENTINEL_MAX] = { 0 };
	const size_t n = watch.url.n;

	(void)arg;
	while (atomic_load(&watch.running)) {
		struct pollfd pfd[SENTINEL_MAX];
		size_t np = 0, who[SENTINEL_MAX];
		int64_t now = mono_ms();

		for (size_t i = 0; i < n; i++) {
			if (!c[i] && now >= retry_at[i]) {
				c[i] = subscribe(i);
				retry_at[i] = now + WATCH_RETRY_MS;
				if (!c[i])
					fence(i, false);	/* a lost leader's fence: its own timeout covers the rest */
			}
			if (c[i]) {
				pfd[np] = (struct pollfd){ .fd = c[i]->fd, .events = POLLIN };
				who[np++] = i;
			}
		}
		if (poll(pfd, np, WATCH_POLL_MS) <= 0)
			continue;
		for (size_t k = 0; k < np; k++) {
			size_t i = who[k];
			void *r = NULL;
			if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (redisBufferRead(c[i]) != REDIS_OK) {
				redisFree(c[i]);
				c[i] = NULL;
				continue;
			}
			while (redisGetReplyFromReader(c[i], &r) == REDIS_OK && r) {
				handle(i, r);
				freeReplyObject(r);
				r = NULL;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (c[i])
			redisFree(c[i]);
	return NULL;
}

int sentinel_watch_start(const struct sentinel_url *u, int64_t timeout_ms, void (*moved)(void))
{
	watch.url = *u;
	moved_hook = moved;
	watch.timeout_ms = timeout_ms;
	atomic_store(&watch.running, true);
	if (pthread_create(&watch.thread, NULL, watch_main, NULL) != 0)
		return -1;
	watch.started = true;
	return 0;
}

void sentinel_watch_stop(void)
{
	if (!watch.started)
		return;
	atomic_store(&watch.running, false);
	pthread_join(watch.thread, NULL);
	watch.started = false;
	moved_hook = NULL;
}
