/* outbox_senders.c - the outbox's senders (outbox.h): the threads that read
 * the stream through the consumer group and hand each entry to
 * outbox_attempt() (outbox.c), what each holds (its `sending` marks and read
 * entries) and the heartbeat's renewal of those leases, the reclaim watch that
 * takes over a dead instance's entries and trims the stream, outbox_start(),
 * the drain and outbox_stop(). */
#include "bot/outbox_int.h"
#include "bot/heartbeat.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/org.h"
#include "bot/timers.h"
#include "bot/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long a sender blocks in Redis for the next entry: an idle instance
 * costs one command per sender per this. The drain and the watch cut it short
 * (store_interrupt()), so it can be long; it stays under the idle timeouts of
 * common proxies in front of Redis. */
#define SENDER_BLOCK_MS 30000
/* The queue depth gauge and the trim of finished entries, by the watch. */
#define MAINTAIN_MS 5000

struct outbox_state outbox = { .lock = PTHREAD_MUTEX_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER };

/* ---- holds ---- */

static void hold_entries(struct sender *sd, redisReply *entries)
{
	struct hold *h = &sd->hold;

	pthread_mutex_lock(&h->lock);
	h->nentries = 0;
	for (size_t i = 0; i < entries->elements && h->nentries < READ_COUNT; i++) {
		redisReply *e = entries->element[i];
		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 && e->element[0]->type == REDIS_REPLY_STRING)
			wk_strlcpy(h->entries[h->nentries++], e->element[0]->str, sizeof(h->entries[0]));
	}
	h->gen++;
	pthread_mutex_unlock(&h->lock);
}

static void hold_entry_done(struct sender *sd, const char *entry)
{
	struct hold *h = &sd->hold;

	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->nentries; i++) {
		if (strcmp(h->entries[i], entry) == 0) {
			memmove(h->entries[i], h->entries[h->nentries - 1], sizeof(h->entries[0]));
			h->nentries--;
			break;
		}
	}
	h->gen++;
	pthread_mutex_unlock(&h->lock);
}

/* The claim just marked these `sending` until now + lease. */
void outbox_hold_batch(struct sender *sd, const char *org, const struct batch *b, int64_t claimed_ms)
{
	struct hold *h = &sd->hold;

	pthread_mutex_lock(&h->lock);
	h->nkeys = 0;
	for (size_t i = 0; i < b->n; i++)
		if (org_key(h->keys[h->nkeys], sizeof(h->keys[0]), org, "notification:%s", b->items[i].id) == 0)
			h->nkeys++;
	h->valid_until = claimed_ms + outbox.lease_ms;
	h->lost = false;
	h->gen++;
	pthread_mutex_unlock(&h->lock);
}

void outbox_hold_release(struct sender *sd)
{
	struct hold *h = &sd->hold;

	pthread_mutex_lock(&h->lock);
	h->nkeys = 0;
	h->gen++;
	pthread_mutex_unlock(&h->lock);
}

/* May a provider call start under the current marks? A margin keeps a call
 * from starting just as the lease runs out. Also the courier's guard for the
 * sender's calls (courier_guard_set()), asked on the courier thread. */
bool outbox_hold_ok(struct sender *sd)
{
	struct hold *h = &sd->hold;
	bool ok;

	pthread_mutex_lock(&h->lock);
	ok = !h->lost && wk_now_ms() + outbox.lease_ms / 4 < h->valid_until;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

static const struct store_script renew_script = {
	"outbox_renew",
	/* KEYS: the queue, then notifications. ARGV: owner, lease ms, group,
	 * consumer, entry count, entry ids. Each mark still ours (owner and
	 * `sending`) gets a new deadline, a lease from Redis's now (as the claim's);
	 * the entries' idle time starts over, so no other instance reclaims them
	 * while this one works. Returns how many marks were ours. */
	"local held = 0\n"
	"local deadline = string.format('%d', " TIMERS_NOW_EXPR " + tonumber(ARGV[2]))\n"
	"for i = 2, #KEYS do\n"
	"  local v = redis.call('HMGET', KEYS[i], 'owner', 'status')\n"
	"  if v[1] == ARGV[1] and v[2] == 'sending' then\n"
	"    redis.call('HSET', KEYS[i], 'deadline_ms', deadline)\n"
	"    held = held + 1\n"
	"  end\n"
	"end\n"
	"local n = tonumber(ARGV[5])\n"
	"if n > 0 then\n"
	"  redis.call('XCLAIM', KEYS[1], ARGV[3], ARGV[4], 0, unpack(ARGV, 6, 5 + n), 'JUSTID')\n"
	"end\n"
	"return held\n",
	NULL
};

static void renew_one(struct store *s, struct sender *sd, int64_t now_ms)
{
	struct hold *h = &sd->hold, copy;
	char deadline[24], count[8];
	const char *keys[1 + OUTBOX_BUNDLE_MAX], *args[5 + READ_COUNT];
	redisReply *r;

	pthread_mutex_lock(&h->lock);
	copy.gen = h->gen;
	copy.nkeys = h->nkeys;
	copy.nentries = h->nentries;
	memcpy(copy.keys, h->keys, sizeof(copy.keys));
	memcpy(copy.entries, h->entries, sizeof(copy.entries));
	pthread_mutex_unlock(&h->lock);
	if (!copy.nkeys && !copy.nentries)
		return;
	snprintf(deadline, sizeof(deadline), "%lld", (long long)outbox.lease_ms);	/* from Redis's now */
	snprintf(count, sizeof(count), "%zu", copy.nentries);
	keys[0] = QUEUE;
	for (size_t i = 0; i < copy.nkeys; i++)
		keys[1 + i] = copy.keys[i];
	args[0] = sd->owner;
	args[1] = deadline;
	args[2] = GROUP;
	args[3] = sd->owner;
	args[4] = count;
	for (size_t i = 0; i < copy.nentries; i++)
		args[5 + i] = copy.entries[i];
	r = store_script(s, &renew_script, 1 + (int)copy.nkeys, keys, 5 + (int)copy.nentries, args);
	pthread_mutex_lock(&h->lock);
	if (h->gen == copy.gen && r && r->type == REDIS_REPLY_INTEGER) {
		if ((size_t)r->integer == copy.nkeys)
			h->valid_until = now_ms + outbox.lease_ms;
		else
			h->lost = true;	/* someone took a mark over: hands off */
	}
	pthread_mutex_unlock(&h->lock);
	if (!r || r->type != REDIS_REPLY_INTEGER)
		log_warn("notify.renew_failed", "owner=%s error=\"%s\"", sd->owner, store_error(s));
	else if ((size_t)r->integer != copy.nkeys)
		log_warn("notify.lease_lost", "owner=%s held=%lld of=%zu", sd->owner, (long long)r->integer,
			 copy.nkeys);
	if (r)
		freeReplyObject(r);
}

/* Heartbeat thread. */
static void outbox_renew(struct store *s, int64_t now_ms, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < outbox.n; i++)
		renew_one(s, &outbox.senders[i], now_ms);
}

static const struct store_script requeue_script = {
	"outbox_requeue",
	/* KEYS: queue. ARGV: group, entry ids. Shutting down with entries read but
	 * not started: each goes back as a new entry (and the old one is
	 * acknowledged) in one step, so any instance takes it at once instead of
	 * waiting for the idle time. */
	"for i = 2, #ARGV do\n"
	"  local e = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])\n"
	"  if e[1] then redis.call('XADD', KEYS[1], '*', unpack(e[1][2])) end\n"
	"  redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])\n"
	"end\n"
	"return #ARGV - 1\n",
	NULL
};

static void requeue(struct sender *sd, redisReply *entries, size_t from)
{
	const char *args[1 + READ_COUNT];
	int n = 0;

	args[n++] = GROUP;
	for (size_t i = from; i < entries->elements && n < 1 + READ_COUNT; i++) {
		redisReply *e = entries->element[i];
		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 && e->element[0]->type == REDIS_REPLY_STRING)
			args[n++] = e->element[0]->str;
	}
	if (n == 1)
		return;
	const char *keys[] = { QUEUE };
	redisReply *r = store_script(sd->store, &requeue_script, 1, keys, n, args);
	log_info("notify.requeued", "owner=%s entries=%d ok=%d", sd->owner, n - 1,
		 r && r->type == REDIS_REPLY_INTEGER);
	if (r)
		freeReplyObject(r);	/* if it failed they stay pending and are reclaimed after the idle time */
}

static void handle_entries(struct sender *sd, redisReply *entries)
{
	if (!entries || entries->type != REDIS_REPLY_ARRAY)
		return;
	hold_entries(sd, entries);
	for (size_t i = 0; i < entries->elements; i++) {
		redisReply *e = entries->element[i];
		const char *org = NULL, *id = NULL;
		if (atomic_load(&outbox.draining)) {
			/* Shutdown began: finish nothing more from this read. */
			requeue(sd, entries, i);
			break;
		}
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		redisReply *f = e->element[1];
		for (size_t k = 0; k + 1 < f->elements; k += 2) {
			if (strcmp(f->element[k]->str, "org") == 0)
				org = f->element[k + 1]->str;
			else if (strcmp(f->element[k]->str, "id") == 0)
				id = f->element[k + 1]->str;
		}
		/* An entry whose outcome Redis did not take stays pending: XAUTOCLAIM
		 * hands it out again after the idle time, and the claim's deadline
		 * keeps that from racing a send still in progress. */
		if (org && id && !outbox_attempt(sd, org, id)) {
			log_warn("notify.unrecorded", "org=%s notification=%s entry=%s note=\"not recorded; "
				 "taken up again after the idle time\"", org, id, e->element[0]->str);
			hold_entry_done(sd, e->element[0]->str);
			continue;
		}
		redisReply *ack = store_command(sd->store, "XACK %s %s %s", QUEUE, GROUP, e->element[0]->str);
		if (ack)
			freeReplyObject(ack);
		hold_entry_done(sd, e->element[0]->str);
	}
	pthread_mutex_lock(&sd->hold.lock);
	sd->hold.nentries = 0;
	sd->hold.gen++;
	pthread_mutex_unlock(&sd->hold.lock);
}

/* Every few seconds the watch measures the queue and trims it: everything
 * before the oldest entry that is unread or unacknowledged is done with. */
static const struct store_script maintain_script = {
	"outbox_maintain",
	/* KEYS: queue. ARGV: group. Returns {depth, oldest id or ''}. */
	"if redis.call('EXISTS', KEYS[1]) == 0 then return {0, ''} end\n"
	"local groups = redis.call('XINFO', 'GROUPS', KEYS[1])\n"
	"local last, lag = '0-0', 0\n"
	"for _, g in ipairs(groups) do\n"
	"  local h = {}\n"
	"  for i = 1, #g, 2 do h[g[i]] = g[i + 1] end\n"
	"  if h.name == ARGV[1] then last = h['last-delivered-id']; lag = tonumber(h.lag) or 0 end\n"
	"end\n"
	"local pending = redis.call('XPENDING', KEYS[1], ARGV[1])\n"
	"local oldest = pending[2]\n"
	"if not oldest then\n"
	"  local nxt = redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', 1)\n"
	"  if #nxt > 0 then oldest = nxt[1][1] end\n"
	"end\n"
	"if oldest then redis.call('XTRIM', KEYS[1], 'MINID', oldest)\n"
	"else\n"
	"  local ms, seq = string.match(last, '^(%d+)-(%d+)$')\n"
	"  if ms then redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. (tonumber(seq) + 1)) end\n"
	"end\n"
	"return {pending[1] + lag, oldest or ''}\n",
	NULL
};

static void maintain(struct store *s)
{
	const char *keys[] = { QUEUE };
	const char *args[] = { GROUP };
	redisReply *r = store_script(s, &maintain_script, 1, keys, 1, args);

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER) {
		double age = 0;
		int64_t ms;
		if (r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->str[0]) {
			char id[32];
			wk_strlcpy(id, r->element[1]->str, sizeof(id));
			char *dash = strchr(id, '-');
			if (dash)
				*dash = '\0';
			if (wk_parse_i64(id, 0, INT64_MAX, &ms))
				age = (double)(wk_now_ms() - ms) / 1000.0;
		}
		metrics_notify_queue(r->element[0]->integer, age > 0 ? age : 0);
	}
	if (r)
		freeReplyObject(r);
}

/* No group yet: make it, reading the stream from its start (0). Only once the
 * stream exists, though: XGROUP CREATE ... MKSTREAM would leave a key in an
 * idle Redis. Until then XREAD from 0-0 blocks until the first entry arrives,
 * without creating anything. true once the group exists. */
static bool await_group(struct sender *sd)
{
	redisReply *g = store_command_expecting(
		sd->store, STORE_EXPECT("BUSYGROUP", "ERR The XGROUP subcommand requires the key to exist"),
		"XGROUP CREATE %s %s 0", QUEUE, GROUP);
	bool exists = g && (g->type != REDIS_REPLY_ERROR || strncmp(g->str, "BUSYGROUP", 9) == 0);

	if (g)
		freeReplyObject(g);
	if (exists) {
		atomic_store(&sd->grouped, true);
		return true;
	}
	if (!g) {
		usleep(200000);	/* Redis down: the store backs off */
		return false;
	}
	redisReply *w = store_command_blocking(sd->store, NULL, SENDER_BLOCK_MS, "XREAD COUNT 1 BLOCK %lld STREAMS %s 0-0",
					       (long long)SENDER_BLOCK_MS, QUEUE);
	if (w)
		freeReplyObject(w);
	else if (!atomic_load(&outbox.draining))
		usleep(200000);	/* Redis down (or the watch woke it: no matter) */
	return false;	/* the entry it saw, if any, is read through the group next */
}

/* The watch (outbox_watch) saw entries whose reader stopped renewing them: it
 * died, or lost Redis. Every sender that is free takes them over, READ_COUNT
 * at a time, so many are handled side by side, until one finds none left. */
static void reclaim(struct sender *sd)
{
	char idle[24];

	snprintf(idle, sizeof(idle), "%lld", (long long)outbox.idle_ms);
	while (atomic_load(&outbox.reclaim) && !atomic_load(&outbox.draining)) {
		redisReply *c = store_command_expecting(sd->store, STORE_EXPECT("NOGROUP"),
							"XAUTOCLAIM %s %s %s %s 0-0 COUNT %d", QUEUE, GROUP,
							sd->owner, idle, READ_COUNT);
		bool took = c && c->type == REDIS_REPLY_ARRAY && c->elements >= 2 &&
			    c->element[1]->type == REDIS_REPLY_ARRAY && c->element[1]->elements;
		if (took)
			handle_entries(sd, c->element[1]);
		else if (c)
			atomic_store(&outbox.reclaim, false);
		if (!c) {
			usleep(200000);	/* Redis down: the flag stays for when it is back */
			break;
		}
		freeReplyObject(c);
	}
}

static void *sender_main(void *arg)
{
	struct sender *sd = arg;

	while (!atomic_load(&outbox.draining)) {
		if (!atomic_load(&sd->grouped) && !await_group(sd))
			continue;
		/* Blocks until an entry comes, or SENDER_BLOCK_MS, or wake_senders()
		 * (the watch, for a takeover; the drain). No stream (a flushed Redis)
		 * is a state, not an error. */
		redisReply *r = store_command_blocking(sd->store, STORE_EXPECT("NOGROUP"), SENDER_BLOCK_MS,
						       "XREADGROUP GROUP %s %s COUNT %d BLOCK %lld STREAMS %s >", GROUP,
						       sd->owner, READ_COUNT, (long long)SENDER_BLOCK_MS, QUEUE);
		if (!r) {
			/* Redis down (the store backs off), or woken: by the drain,
			 * or by the watch for a takeover (then at once). */
			if (!atomic_load(&outbox.reclaim) && !atomic_load(&outbox.draining))
				usleep(200000);
		} else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOGROUP", 7) == 0) {
			atomic_store(&sd->grouped, false);
		} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
			   r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2) {
			handle_entries(sd, r->element[0]->element[1]);
		}
		if (r)
			freeReplyObject(r);
		reclaim(sd);
	}
	pthread_mutex_lock(&outbox.lock);
	atomic_store(&sd->done, true);
	pthread_cond_broadcast(&outbox.idle);
	pthread_mutex_unlock(&outbox.lock);
	return NULL;
}

/* Get the senders out of their blocks: the watch's takeover and the drain
 * (stop: for good) must not wait out SENDER_BLOCK_MS. A sender at work is
 * not touched. Under the lock: outbox_stop() closes the senders' stores
 * while the heartbeat still runs. */
static void wake_senders(bool stop)
{
	pthread_mutex_lock(&outbox.lock);
	for (size_t i = 0; outbox.started && i < outbox.n; i++)
		store_interrupt(outbox.senders[i].store, stop);
	pthread_mutex_unlock(&outbox.lock);
}

/* Does any sender know the stream to exist? Without it there is nothing to
 * watch, and no Redis command is spent on it. */
static bool queue_exists(void)
{
	bool any = false;

	pthread_mutex_lock(&outbox.lock);
	for (size_t i = 0; outbox.started && i < outbox.n; i++)
		any = any || atomic_load(&outbox.senders[i].grouped);
	pthread_mutex_unlock(&outbox.lock);
	return any;
}

/* Heartbeat thread, every third of the idle time (at most a second): one
 * command looks for an entry no reader renewed for the idle time (its reader
 * died or lost Redis) and, when there is one, wakes the senders to take it
 * over (reclaim()). Takeover: within the idle time and a beat of the death. */
static void outbox_watch(struct store *s, int64_t now_ms, void *arg)
{
	char idle[24];

	(void)arg;
	if (!queue_exists()) {
		metrics_notify_queue(0, 0);
		return;
	}
	if (now_ms >= outbox.next_maintain) {
		maintain(s);
		outbox.next_maintain = now_ms + MAINTAIN_MS;
	}
	if (atomic_load(&outbox.draining))
		return;
	if (!atomic_load(&outbox.reclaim)) {
		snprintf(idle, sizeof(idle), "%lld", (long long)outbox.idle_ms);
		redisReply *r = store_command_expecting(s, STORE_EXPECT("NOGROUP"), "XPENDING %s %s IDLE %s - + 1",
							QUEUE, GROUP, idle);
		bool found = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0;
		if (r)
			freeReplyObject(r);
		if (!found)
			return;
		atomic_store(&outbox.reclaim, true);
	}
	wake_senders(false);	/* again each beat while the flag stays: a sender may have just blocked */
}

/* Caller holds outbox.lock. */
static bool senders_done(void)
{
	for (size_t i = 0; i < outbox.n; i++)
		if (!atomic_load(&outbox.senders[i].done))
			return false;
	return true;
}

/* The CLOCK_REALTIME instant ms from now, for pthread_cond_timedwait(). */
static struct timespec realtime_after(int64_t ms)
{
	struct timespec at;

	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_sec += (time_t)(ms / 1000);
	at.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	return at;
}

int outbox_start(const struct config *cfg)
{
	char host[64] = "host";

	outbox.cfg = cfg;
	outbox.lease_ms = OUTBOX_LEASE_MS;
	outbox.idle_ms = OUTBOX_IDLE_MS;
	/* Test-only: another lease (and idle time), e.g. to cut a sender off. */
	const char *t = getenv("WK_TEST_NOTIFY_LEASE_MS");
	int64_t v;
	if (t && wk_parse_i64(t, 300, 600000, &v))
		outbox.lease_ms = outbox.idle_ms = v;
	atomic_store(&outbox.draining, false);
	atomic_store(&outbox.drain_started_ms, 0);
	outbox.limits[0] = '\0';
	for (size_t i = 0; i < OUTBOX_NCHANNELS; i++) {
		const struct channel *c = &outbox_channels[i];
		size_t len = strlen(outbox.limits);
		snprintf(outbox.limits + len, sizeof(outbox.limits) - len, "%s%s:%lld:%lld:%lld", i ? "," : "", c->name,
			 (long long)c->min_gap_ms(cfg), (long long)c->per_hour(cfg), (long long)c->per_second(cfg));
		if (c->in_flight(cfg) > 0)
			sem_init(&outbox.slots[i], 0, (unsigned)c->in_flight(cfg));
	}
	outbox.n = (size_t)cfg->notify_senders;
	if (outbox.n > MAX_SENDERS)
		outbox.n = MAX_SENDERS;
	atomic_store(&outbox.reclaim, false);
	outbox.next_maintain = 0;
	if (heartbeat_add(outbox_renew, NULL, outbox.lease_ms / 3) < 0 ||
	    heartbeat_add(outbox_watch, NULL, outbox.idle_ms / 3 < 1000 ? outbox.idle_ms / 3 : 1000) < 0)
		return -1;
	gethostname(host, sizeof(host) - 1);
	for (size_t i = 0; i < outbox.n; i++) {
		struct sender *sd = &outbox.senders[i];
		snprintf(sd->owner, sizeof(sd->owner), "%s:%d:%zu:%08x", host, (int)getpid(), i,
			 (unsigned)wk_mono_us() ^ (unsigned)(i << 8));
		pthread_mutex_init(&sd->hold.lock, NULL);
		atomic_store(&sd->done, false);
		atomic_store(&sd->grouped, false);
		sd->store = store_open(cfg->redis_url, cfg->redis_timeout_ms);
		if (pthread_create(&sd->thread, NULL, sender_main, sd) != 0) {
			store_close(sd->store);
			pthread_mutex_destroy(&sd->hold.lock);
			outbox.n = i;
			return -1;
		}
	}
	pthread_mutex_lock(&outbox.lock);
	outbox.started = true;
	pthread_mutex_unlock(&outbox.lock);
	return 0;
}

void outbox_drain_begin(void)
{
	int64_t zero = 0;

	atomic_store(&outbox.draining, true);
	atomic_compare_exchange_strong(&outbox.drain_started_ms, &zero, wk_mono_us() / 1000);
	wake_senders(true);
}

bool outbox_busy(void)
{
	for (size_t i = 0; outbox.started && i < outbox.n; i++)
		if (!atomic_load(&outbox.senders[i].done))
			return true;
	return false;
}

bool outbox_drain(int64_t drain_ms)
{
	struct timespec until;
	bool all = true;
	int64_t left;

	outbox_drain_begin();
	if (!outbox.started)
		return true;
	/* The drain began at the signal: what is left of it. */
	left = atomic_load(&outbox.drain_started_ms) + drain_ms - wk_mono_us() / 1000;
	until = realtime_after(left < 0 ? 0 : left);
	pthread_mutex_lock(&outbox.lock);
	while (!(all = senders_done()))
		if (pthread_cond_timedwait(&outbox.idle, &outbox.lock, &until) == ETIMEDOUT)
			break;
	all = senders_done();
	pthread_mutex_unlock(&outbox.lock);
	if (!all)
		log_warn("notify.drain", "note=\"sends still in flight after %lld ms; cutting them off (their "
			 "outcome is checked by whoever sends next)\"", (long long)drain_ms);
	return all;
}

void outbox_stop(void)
{
	if (!outbox.started)
		return;
	outbox_drain_begin();
	for (size_t i = 0; i < outbox.n; i++)
		pthread_join(outbox.senders[i].thread, NULL);
	/* The watch (heartbeat) uses the senders' stores until it sees this. */
	pthread_mutex_lock(&outbox.lock);
	outbox.started = false;
	pthread_mutex_unlock(&outbox.lock);
	for (size_t i = 0; i < outbox.n; i++) {
		store_close(outbox.senders[i].store);
		pthread_mutex_destroy(&outbox.senders[i].hold.lock);
	}
	for (size_t i = 0; i < OUTBOX_NCHANNELS; i++)
		if (outbox_channels[i].in_flight(outbox.cfg) > 0)
			sem_destroy(&outbox.slots[i]);
	outbox.n = 0;
}
