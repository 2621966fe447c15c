/* backup.c - see backup.h */
#include "bot/backup.h"
#include "bot/backup_format.h"
#include "bot/buf.h"
#include "bot/crypto.h"
#include "bot/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

/* The couriers' consumer group on the notification queue (bot/outbox_int.h). */
#define QUEUE_GROUP "couriers"
/* Global keys read by one script. */
#define GLOBAL_BATCH 200
/* Org key families left out: short-lived marks and caches (see backup.h). */
static const char *const skipped_suffixes[] = { "replay:", "slack_event:", "dm:" };

/* EVAL with binary-safe keys and arguments (store_script's are C strings). */
static redisReply *eval(struct store *s, const char *source, size_t nkeys, char **keys, const size_t *klen,
			size_t nargs, char **args, const size_t *alen)
{
	size_t argc = 3 + nkeys + nargs;
	const char **argv = xcalloc(argc, sizeof(*argv));
	size_t *lens = xcalloc(argc, sizeof(*lens));
	char numkeys[24];
	redisReply *r;

	snprintf(numkeys, sizeof(numkeys), "%zu", nkeys);
	argv[0] = "EVAL";
	argv[1] = source;
	argv[2] = numkeys;
	for (size_t i = 0; i < 3; i++)
		lens[i] = strlen(argv[i]);
	for (size_t i = 0; i < nkeys; i++) {
		argv[3 + i] = keys[i];
		lens[3 + i] = klen ? klen[i] : strlen(keys[i]);
	}
	for (size_t i = 0; i < nargs; i++) {
		argv[3 + nkeys + i] = args[i];
		lens[3 + nkeys + i] = alen ? alen[i] : strlen(args[i]);
	}
	r = store_commandargv(s, (int)argc, argv, lens);
	free(argv);
	free(lens);
	return r;
}

/* ======================================================== backup ==== */

/* One read of a batch of keys and, for an org, its shares of the shared
 * structures. KEYS: the keys. ARGV: org id ('' for global keys), the queue,
 * its group, then the ids of the timers whose hash named the org when the
 * keys were listed (each is checked again here). Returns {keys} or {keys,
 * timers, queue, in wk:orgs}:
 * keys = {{key, type, pttl, value}...} (streams: {entries, last id, groups}),
 * timers = {{id, leased 0|1, score, hash}...}, queue = the org's entries not
 * yet acknowledged by the group (all of them when there is no group). */
static const char read_lua[] =
	"local function field(flat, name)\n"
	"  for i = 1, #flat, 2 do if flat[i] == name then return flat[i + 1] end end\n"
	"end\n"
	"local function read(k)\n"
	"  local t = redis.call('TYPE', k)['ok']\n"
	"  local v\n"
	"  if t == 'string' then v = redis.call('GET', k)\n"
	"  elseif t == 'hash' then v = redis.call('HGETALL', k)\n"
	"  elseif t == 'set' then v = redis.call('SMEMBERS', k)\n"
	"  elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')\n"
	"  elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)\n"
	"  elseif t == 'stream' then\n"
	"    local groups = {}\n"
	"    for _, g in ipairs(redis.call('XINFO', 'GROUPS', k)) do\n"
	"      groups[#groups + 1] = {field(g, 'name'), field(g, 'last-delivered-id')}\n"
	"    end\n"
	"    v = {redis.call('XRANGE', k, '-', '+'), field(redis.call('XINFO', 'STREAM', k), 'last-generated-id'),\n"
	"         groups}\n"
	"  else return {k, t, 0, 0} end\n"
	"  return {k, t, redis.call('PTTL', k), v}\n"
	"end\n"
	"local function after(a, b)\n"
	"  local am, as = string.match(a, '^(%d+)-(%d+)$')\n"
	"  local bm, bs = string.match(b, '^(%d+)-(%d+)$')\n"
	"  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)\n"
	"  return am > bm or (am == bm and as > bs)\n"
	"end\n"
	"local out = {}\n"
	"for i, k in ipairs(KEYS) do out[i] = read(k) end\n"
	"local org = ARGV[1]\n"
	"if org == '' then return {out} end\n"
	"local timers = {}\n"
	"for i = 4, #ARGV do\n"
	"  local id = ARGV[i]\n"
	"  local h = 'wk:{timers}:t:' .. id\n"
	"  if redis.call('HGET', h, 'org') == org then\n"
	"    local due, leased = redis.call('ZSCORE', 'wk:{timers}', id), 0\n"
	"    if not due then due, leased = redis.call('ZSCORE', 'wk:{timers}:leased', id), 1 end\n"
	"    if due then timers[#timers + 1] = {id, leased, due, redis.call('HGETALL', h)} end\n"
	"  end\n"
	"end\n"
	"local queue = {}\n"
	"if redis.call('EXISTS', ARGV[2]) == 1 then\n"
	"  local last, pending = nil, {}\n"
	"  for _, g in ipairs(redis.call('XINFO', 'GROUPS', ARGV[2])) do\n"
	"    if field(g, 'name') == ARGV[3] then last = field(g, 'last-delivered-id') end\n"
	"  end\n"
	"  if last then\n"
	"    for _, p in ipairs(redis.call('XPENDING', ARGV[2], ARGV[3], '-', '+', 1000000)) do pending[p[1]] = true end\n"
	"  end\n"
	"  for _, e in ipairs(redis.call('XRANGE', ARGV[2], '-', '+')) do\n"
	"    if field(e[2], 'org') == org and (not last or pending[e[1]] or after(e[1], last)) then\n"
	"      queue[#queue + 1] = e\n"
	"    end\n"
	"  end\n"
	"end\n"
	"return {out, timers, queue, redis.call('SISMEMBER', 'wk:orgs', org)}\n";

struct writer {
	FILE *f;
	EVP_MD_CTX *md;
	struct backup_stats *st;
	bool failed;
};

static void emit(struct writer *w, json_t *line)
{
	char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(line);
	if (!text) {
		w->failed = true;
		return;
	}
	size_t n = strlen(text);
	text = xrealloc(text, n + 2);
	text[n++] = '\n';
	if (fwrite(text, 1, n, w->f) != n)
		w->failed = true;
	EVP_DigestUpdate(w->md, text, n);
	w->st->lines++;
	free(text);
}

static bool is_str(const redisReply *r)
{
	return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

static json_t *sj(const redisReply *r)
{
	if (is_str(r))
		return backup_bytes_json(r->str, r->len);
	if (r && r->type == REDIS_REPLY_INTEGER) {
		char num[24];
		snprintf(num, sizeof(num), "%lld", r->integer);
		return json_string(num);
	}
	return json_string("");
}

/* A flat array as [S...] (width 1) or [[S,S]...] (width 2). */
static json_t *flat(const redisReply *r, size_t width)
{
	json_t *a = json_array();

	for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + width <= r->elements; i += width) {
		if (width == 1) {
			json_array_append_new(a, sj(r->element[i]));
		} else {
			json_t *pair = json_array();
			json_array_append_new(pair, sj(r->element[i]));
			json_array_append_new(pair, sj(r->element[i + 1]));
			json_array_append_new(a, pair);
		}
	}
	return a;
}

/* XRANGE's entries as [["id",[S...]]...]. */
static json_t *entries_json(const redisReply *r)
{
	json_t *a = json_array();

	for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || !is_str(e->element[0]))
			continue;
		json_array_append_new(a, json_pack("[s,o]", e->element[0]->str, flat(e->element[1], 1)));
	}
	return a;
}

static json_t *org_json(const char *org)
{
	return org && org[0] ? json_string(org) : json_null();
}

/* One {key, type, pttl, value} of the read script as a line; NULL for a key
 * gone since the SCAN (or of a type not ours). */
static json_t *key_line(const char *org, const redisReply *k)
{
	static const struct {
		const char *type;
		size_t width;
	} flats[] = { { "hash", 2 }, { "set", 1 }, { "zset", 2 }, { "list", 1 } };
	json_t *v = NULL;

	if (k->type != REDIS_REPLY_ARRAY || k->elements != 4 || !is_str(k->element[0]) || !is_str(k->element[1]) ||
	    k->element[2]->type != REDIS_REPLY_INTEGER)
		return NULL;
	const char *type = k->element[1]->str;
	const redisReply *val = k->element[3];
	if (strcmp(type, "string") == 0)
		v = sj(val);
	for (size_t i = 0; i < ARRAY_LEN(flats); i++)
		if (strcmp(type, flats[i].type) == 0)
			v = flat(val, flats[i].width);
	if (strcmp(type, "stream") == 0 && val->type == REDIS_REPLY_ARRAY && val->elements == 3) {
		json_t *groups = json_array();
		const redisReply *g = val->element[2];
		for (size_t i = 0; g->type == REDIS_REPLY_ARRAY && i < g->elements; i++)
			if (g->element[i]->type == REDIS_REPLY_ARRAY && g->element[i]->elements == 2 &&
			    is_str(g->element[i]->element[1]))
				json_array_append_new(groups, json_pack("{s:o,s:s}", "name", sj(g->element[i]->element[0]),
									"last_delivered_id", g->element[i]->element[1]->str));
		v = json_pack("{s:o,s:s,s:o}", "entries", entries_json(val->element[0]), "last_id",
			      is_str(val->element[1]) ? val->element[1]->str : "0-0", "groups", groups);
	}
	if (!v)
		return NULL;
	return json_pack("{s:o,s:o,s:s,s:I,s:o}", "org", org_json(org), "key", sj(k->element[0]), "type", type,
			 "ttl_ms", (json_int_t)(k->element[2]->integer < 0 ? -1 : k->element[2]->integer), "value", v);
}

static void key_lines(struct writer *w, const char *org, const redisReply *keys, size_t *count)
{
	for (size_t i = 0; keys->type == REDIS_REPLY_ARRAY && i < keys->elements; i++) {
		json_t *line = key_line(org, keys->element[i]);
		if (line) {
			emit(w, line);
			(*count)++;
		}
	}
}

/* The org's timers, queued notifications and wk:orgs membership. */
static void shared_lines(struct writer *w, const char *org, const redisReply *r)
{
	const redisReply *timers = r->element[1], *queue = r->element[2], *in_orgs = r->element[3];
	char key[BACKUP_TIMER_ID_MAX + 32];

	if (in_orgs->type == REDIS_REPLY_INTEGER && in_orgs->integer == 1)
		emit(w, json_pack("{s:s,s:s,s:s,s:i,s:[s]}", "org", org, "key", BACKUP_ORGS_KEY, "type", "set", "ttl_ms",
				  -1, "value", org));
	for (size_t i = 0; timers->type == REDIS_REPLY_ARRAY && i < timers->elements; i++) {
		const redisReply *t = timers->element[i];
		if (t->type != REDIS_REPLY_ARRAY || t->elements != 4 || !is_str(t->element[0]) || !is_str(t->element[2]))
			continue;
		bool leased = t->element[1]->type == REDIS_REPLY_INTEGER && t->element[1]->integer == 1;
		const char *due = t->element[2]->str;
		for (size_t k = 0; leased && k + 1 < t->element[3]->elements; k += 2)
			if (strcmp(t->element[3]->element[k]->str, "due_ms") == 0)
				due = t->element[3]->element[k + 1]->str;	/* a lease returns it there */
		snprintf(key, sizeof(key), BACKUP_TIMER_PREFIX "%s", t->element[0]->str);
		emit(w, json_pack("{s:s,s:s,s:s,s:s,s:b,s:o}", "org", org, "key", key, "type", "timer", "due_ms", due,
				  "leased", leased, "value", flat(t->element[3], 2)));
		w->st->timers++;
	}
	if (queue->type == REDIS_REPLY_ARRAY && queue->elements) {
		emit(w, json_pack("{s:s,s:s,s:s,s:o}", "org", org, "key", BACKUP_QUEUE_KEY, "type", "queue", "value",
				  entries_json(queue)));
		w->st->queued += queue->elements;
	}
}

struct found {
	char *org;	/* NULL: a global key */
	char *key;	/* NULL: only the org (from wk:orgs) */
	size_t len;
	bool timer;	/* key is a timer's hash (wk:{timers}:t:<id>) */
};

static int found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	int c = strcmp(x->org ? x->org : "", y->org ? y->org : "");

	if (c)
		return c;
	if (!x->key || !y->key)
		return !!x->key - !!y->key;
	return strcmp(x->key, y->key);
}

static const char TIMER_HASH[] = "";

/* Which org a key belongs to ("" global), TIMER_HASH for a timer (its org is
 * in its hash), or NULL to leave it out. */
static const char *owner(const char *key, char *org, size_t size)
{
	const char *close;

	org[0] = '\0';
	if (strncmp(key, BACKUP_TIMER_PREFIX, strlen(BACKUP_TIMER_PREFIX)) == 0)
		return TIMER_HASH;
	if (strcmp(key, BACKUP_ORGS_KEY) == 0 || strncmp(key, "wk:{timers}", 11) == 0 ||
	    strncmp(key, "wk:{notify}:", 12) == 0)
		return NULL;	/* through the orgs (the queue's rate buckets are per second) */
	if (strncmp(key, "wk:{", 4) != 0 || !(close = strstr(key, "}:")) || (size_t)(close - key - 4) >= size)
		return org;
	memcpy(org, key + 4, (size_t)(close - key - 4));
	org[close - key - 4] = '\0';
	if (!backup_org_valid(org)) {
		org[0] = '\0';
		return org;	/* wk:{links}:... */
	}
	for (size_t i = 0; i < ARRAY_LEN(skipped_suffixes); i++)
		if (strncmp(close + 2, skipped_suffixes[i], strlen(skipped_suffixes[i])) == 0)
			return NULL;
	return org;
}

struct scan {
	struct found *v;
	size_t n, cap;
};

static void found_add(struct scan *sc, const char *org, const char *key, size_t len)
{
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 256;
		sc->v = xrealloc(sc->v, sc->cap * sizeof(*sc->v));
	}
	sc->v[sc->n].org = org && org[0] ? xstrdup(org) : NULL;
	sc->v[sc->n].key = key ? xstrndup(key, len) : NULL;
	sc->v[sc->n].timer = key && strncmp(key, BACKUP_TIMER_PREFIX, strlen(BACKUP_TIMER_PREFIX)) == 0;
	sc->v[sc->n++].len = len;
}

/* Each timer's org, read in batches: an org's script then checks only its own
 * timers rather than every timer of every org. */
static const char timer_orgs_lua[] =
	"local o = {}\n"
	"for i, k in ipairs(KEYS) do o[i] = redis.call('HGET', k, 'org') or '' end\n"
	"return o\n";

static int timer_orgs(struct store *s, struct scan *sc, char **keys, size_t *lens, size_t n, char *err, size_t errsz)
{
	redisReply *r = eval(s, timer_orgs_lua, n, keys, lens, 0, NULL, NULL);

	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		int rc = wk_fail(err, errsz, "cannot read the timers: %s",
			     r && r->type == REDIS_REPLY_ERROR ? r->str : store_error(s));
		if (r)
			freeReplyObject(r);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		if (is_str(r->element[i]) && backup_org_valid(r->element[i]->str))
			found_add(sc, r->element[i]->str, keys[i], lens[i]);
	freeReplyObject(r);
	return 0;
}

#define TIMER_BATCH 500

static int scan_all(struct store *s, struct scan *sc, char *err, size_t errsz)
{
	char cursor[32] = "0", org[BACKUP_ORG_MAX], *tkeys[TIMER_BATCH];
	size_t tlens[TIMER_BATCH], nt = 0;
	const char *who;
	redisReply *r;
	int rc = 0;

	do {
		r = store_command(s, "SCAN %s MATCH wk:* COUNT 1000", cursor);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !is_str(r->element[0])) {
			if (r)
				freeReplyObject(r);
			return wk_fail(err, errsz, "cannot list the keys: %s", store_error(s));
		}
		wk_strlcpy(cursor, r->element[0]->str, sizeof(cursor));
		for (size_t i = 0; i < r->element[1]->elements && rc == 0; i++) {
			const redisReply *k = r->element[1]->element[i];
			if (!is_str(k) || memchr(k->str, '\0', k->len) || !(who = owner(k->str, org, sizeof(org))))
				continue;
			if (who != TIMER_HASH) {
				found_add(sc, org, k->str, k->len);
				continue;
			}
			tkeys[nt] = xstrndup(k->str, k->len);
			tlens[nt++] = k->len;
			if (nt == TIMER_BATCH) {
				rc = timer_orgs(s, sc, tkeys, tlens, nt, err, errsz);
				while (nt)
					free(tkeys[--nt]);
			}
		}
		freeReplyObject(r);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	if (rc == 0 && nt)
		rc = timer_orgs(s, sc, tkeys, tlens, nt, err, errsz);
	while (nt)
		free(tkeys[--nt]);
	if (rc < 0)
		return -1;
	r = store_command(s, "SMEMBERS %s", BACKUP_ORGS_KEY);
	for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		if (is_str(r->element[i]) && backup_org_valid(r->element[i]->str))
			found_add(sc, r->element[i]->str, NULL, 0);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		if (r)
			freeReplyObject(r);
		return wk_fail(err, errsz, "cannot read %s: %s", BACKUP_ORGS_KEY, store_error(s));
	}
	freeReplyObject(r);
	qsort(sc->v, sc->n, sizeof(*sc->v), found_cmp);
	return 0;
}

/* Read keys [from, to) of sc (one org's, or a batch of global ones) in one
 * script and write their lines. */
static int read_batch(struct store *s, struct writer *w, const struct scan *sc, size_t from, size_t to,
		      char *err, size_t errsz)
{
	const char *org = sc->v[from].org;
	char **keys = xcalloc(to - from + 1, sizeof(*keys));
	char **args = xcalloc(to - from + 3, sizeof(*args));
	size_t *lens = xcalloc(to - from + 1, sizeof(*lens)), n = 0, nargs = 3;
	redisReply *r;
	int rc = 0;

	args[0] = (char *)(org ? org : "");
	args[1] = (char *)BACKUP_QUEUE_KEY;
	args[2] = (char *)QUEUE_GROUP;
	for (size_t i = from; i < to; i++) {
		if (sc->v[i].timer) {
			args[nargs++] = sc->v[i].key + strlen(BACKUP_TIMER_PREFIX);
		} else if (sc->v[i].key) {
			keys[n] = sc->v[i].key;
			lens[n++] = sc->v[i].len;
		}
	}
	r = eval(s, read_lua, n, keys, lens, nargs, args, NULL);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != (org ? 4u : 1u)) {
		rc = wk_fail(err, errsz, "cannot read %s%s: %s", org ? "org " : "global keys", org ? org : "",
			 r && r->type == REDIS_REPLY_ERROR ? r->str : store_error(s));
	} else {
		key_lines(w, org, r->element[0], org ? &w->st->keys : &w->st->globals);
		if (org)
			shared_lines(w, org, r);
	}
	if (r)
		freeReplyObject(r);
	free(keys);
	free(args);
	free(lens);
	return rc;
}

static void queue_groups_line(struct store *s, struct writer *w)
{
	redisReply *r = store_command_expecting(s, STORE_EXPECT("ERR no such key"), "XINFO GROUPS %s",
						BACKUP_QUEUE_KEY);
	json_t *groups = json_array();

	for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const redisReply *g = r->element[i];
		for (size_t k = 0; g->type == REDIS_REPLY_ARRAY && k + 1 < g->elements; k += 2)
			if (is_str(g->element[k]) && strcmp(g->element[k]->str, "name") == 0)
				json_array_append_new(groups, json_pack("{s:o}", "name", sj(g->element[k + 1])));
	}
	if (r)
		freeReplyObject(r);
	if (json_array_size(groups))
		emit(w, json_pack("{s:n,s:s,s:s,s:o}", "org", "key", BACKUP_QUEUE_KEY, "type", "queue_groups", "value",
				  groups));
	else
		json_decref(groups);
}

static char *redis_version(struct store *s)
{
	redisReply *r = store_command(s, "INFO server");
	char *v = xstrdup("unknown");
	const char *p;

	if (r && is_str(r) && (p = strstr(r->str, "redis_version:"))) {
		free(v);
		p += strlen("redis_version:");
		v = xstrndup(p, strcspn(p, "\r\n"));
	}
	if (r)
		freeReplyObject(r);
	return v;
}

static int write_all(struct store *s, struct writer *w, const char *version, char *err, size_t errsz)
{
	struct scan sc = { 0 };
	int64_t now = store_time_ms(s);
	char created[32], hex[65];
	unsigned char sum[32];
	time_t secs;
	struct tm tm;
	int rc = 0;

	if (now < 0)
		return wk_fail(err, errsz, "cannot reach Redis: %s", store_error(s));
	secs = (time_t)(now / 1000);
	gmtime_r(&secs, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	char *rv = redis_version(s);
	emit(w, json_pack("{s:s,s:i,s:s,s:I,s:s,s:s}", "format", BACKUP_FORMAT, "version", BACKUP_VERSION, "created",
			  created, "created_ms", (json_int_t)now, "watchkeeper", version, "redis_version", rv));
	free(rv);
	if (scan_all(s, &sc, err, errsz) < 0)
		rc = -1;
	/* Global keys sort first (their org is NULL): the orgs follow, each in one script. */
	size_t globals_end = 0;
	while (globals_end < sc.n && !sc.v[globals_end].org)
		globals_end++;
	for (size_t i = globals_end; rc == 0 && i < sc.n;) {
		size_t j = i;
		bool real = false;	/* keys, or listed in wk:orgs: not just timers (system:sweep's) */
		while (j < sc.n && strcmp(sc.v[j].org, sc.v[i].org) == 0)
			real |= !sc.v[j++].timer;
		if (real) {
			rc = read_batch(s, w, &sc, i, j, err, errsz);
			w->st->orgs++;
		}
		i = j;
	}
	for (size_t i = 0; rc == 0 && i < globals_end; i += GLOBAL_BATCH)
		rc = read_batch(s, w, &sc, i, i + GLOBAL_BATCH < globals_end ? i + GLOBAL_BATCH : globals_end, err,
				errsz);
	if (rc == 0)
		queue_groups_line(s, w);
	for (size_t i = 0; i < sc.n; i++) {
		free(sc.v[i].org);
		free(sc.v[i].key);
	}
	free(sc.v);
	if (rc < 0)
		return -1;
	size_t lines = w->st->lines;
	EVP_DigestFinal_ex(w->md, sum, NULL);
	crypto_hex(sum, sizeof(sum), hex);
	emit(w, json_pack("{s:s,s:I,s:I,s:I,s:s}", "format", BACKUP_END_FORMAT, "orgs", (json_int_t)w->st->orgs,
			  "keys", (json_int_t)(lines - 1), "lines", (json_int_t)lines, "sha256", hex));
	w->st->lines = lines;
	return 0;
}

int backup_write(struct store *s, const char *path, const char *version, struct backup_stats *st, char *err,
		 size_t errsz)
{
	bool to_stdout = strcmp(path, "-") == 0;
	char tmp[4096];
	struct writer w = { NULL, EVP_MD_CTX_new(), st, false };
	int rc;

	memset(st, 0, sizeof(*st));
	if (!w.md || !EVP_DigestInit_ex(w.md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(w.md);
		return wk_fail(err, errsz, "cannot start SHA-256");
	}
	if (to_stdout) {
		w.f = stdout;
	} else if (snprintf(tmp, sizeof(tmp), "%s.partial", path) >= (int)sizeof(tmp) ||
		   !(w.f = fopen(tmp, "wx"))) {
		EVP_MD_CTX_free(w.md);
		return wk_fail(err, errsz, "cannot create %s.partial: %s", path,
			   errno == EEXIST ? "it exists (another backup running? remove it if not)" : strerror(errno));
	}
	rc = write_all(s, &w, version, err, errsz);
	EVP_MD_CTX_free(w.md);
	if (rc == 0 && (w.failed || fflush(w.f) != 0 || (!to_stdout && fsync(fileno(w.f)) != 0)))
		rc = wk_fail(err, errsz, "cannot write %s: %s", to_stdout ? "stdout" : tmp, strerror(errno));
	if (to_stdout)
		return rc;
	if (fclose(w.f) != 0 && rc == 0)
		rc = wk_fail(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path) != 0)
		rc = wk_fail(err, errsz, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
	if (rc < 0)
		unlink(tmp);
	return rc;
}
