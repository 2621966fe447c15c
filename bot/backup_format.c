/* backup_format.c - see backup_format.h */
#include "bot/backup_format.h"
#include "bot/crypto.h"
#include "bot/timers.h"
#include "bot/utf8.h"
#include "bot/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Instants and expiries stay below this (the year 5138 as an instant), so
 * created_ms + ttl_ms never overflows. */
#define TIME_MAX_MS ((int64_t)100000000000000)
/* Elements per write: a huge set or log goes in several commands, so no
 * single command gets too long for the restore script's unpack() (Lua's C
 * stack: about 8000), which would stop that script halfway. */
#define CHUNK 256

/* ---- argument lists ---- */

void backup_args_init(struct backup_args *a)
{
	memset(a, 0, sizeof(*a));
	a->open = SIZE_MAX;
}

void backup_args_free(struct backup_args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	free(a->len);
	backup_args_init(a);
}

void backup_args_add(struct backup_args *a, const void *p, size_t n)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
		a->len = xrealloc(a->len, a->cap * sizeof(*a->len));
	}
	a->v[a->n] = xmalloc(n + 1);
	if (n)
		memcpy(a->v[a->n], p, n);
	a->v[a->n][n] = '\0';
	a->len[a->n++] = n;
}

void backup_args_adds(struct backup_args *a, const char *s)
{
	backup_args_add(a, s, strlen(s));
}

void backup_args_begin(struct backup_args *a)
{
	a->open = a->n;
	backup_args_adds(a, "0");	/* the count, filled in by _end */
}

void backup_args_end(struct backup_args *a)
{
	char count[24];
	int n;

	if (a->open == SIZE_MAX)
		return;
	n = snprintf(count, sizeof(count), "%zu", a->n - a->open - 1);
	free(a->v[a->open]);
	a->v[a->open] = xstrdup(count);
	a->len[a->open] = (size_t)n;
	a->open = SIZE_MAX;
	a->cmds++;
}

void backup_args_append(struct backup_args *dst, const struct backup_args *src)
{
	for (size_t i = 0; i < src->n; i++)
		backup_args_add(dst, src->v[i], src->len[i]);
	dst->cmds += src->cmds;
}

/* ---- values ---- */

json_t *backup_bytes_json(const char *p, size_t n)
{
	if (utf8_valid(p, n) && !memchr(p, '\0', n)) {
		json_t *s = json_stringn(p, n);
		if (s)
			return s;
	}
	char *b64 = xmalloc(CRYPTO_BASE64_SIZE(n));
	crypto_base64_encode(p, n, b64, CRYPTO_BASE64_SIZE(n));
	json_t *o = json_pack("{s:s}", "b64", b64);
	free(b64);
	return o;
}

int backup_json_bytes(const json_t *v, char **out, size_t *n)
{
	if (json_is_string(v)) {
		*n = json_string_length(v);
		*out = xmalloc(*n + 1);
		memcpy(*out, json_string_value(v), *n);
		(*out)[*n] = '\0';
		if (!memchr(*out, '\0', *n))
			return 0;
		free(*out);
		*out = NULL;
		return -1;
	}
	json_t *b = json_is_object(v) && json_object_size(v) == 1 ? json_object_get(v, "b64") : NULL;
	if (!json_is_string(b))
		return -1;
	size_t cap = json_string_length(b) / 4 * 3 + 1;
	*out = xmalloc(cap);
	if (crypto_base64_decode(json_string_value(b), *out, cap, n) < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	(*out)[*n] = '\0';
	return 0;
}

bool backup_stream_id(const char *s, uint64_t *ms, uint64_t *seq)
{
	const char *dash = strchr(s, '-');
	char *end;

	if (!dash || dash == s || !dash[1] || strspn(s, "0123456789") != (size_t)(dash - s) ||
	    strspn(dash + 1, "0123456789") != strlen(dash + 1) || dash - s > 20 || strlen(dash + 1) > 20)
		return false;
	errno = 0;
	*ms = strtoull(s, &end, 10);
	if (errno || end != dash)
		return false;
	*seq = strtoull(dash + 1, &end, 10);
	return !errno && !*end;
}

static int id_cmp(uint64_t ams, uint64_t aseq, uint64_t bms, uint64_t bseq)
{
	if (ams != bms)
		return ams < bms ? -1 : 1;
	return aseq < bseq ? -1 : aseq > bseq;
}

bool backup_org_valid(const char *id)
{
	size_t n = strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-");

	return n == strlen(id) && n >= 1 && n < BACKUP_ORG_MAX && strchr(id, ':');
}

/* ---- parsing ---- */

struct ctx {
	struct backup_line *l;
	char *err;
	size_t errsz;
};

static int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errsz, fmt, ap);
	va_end(ap);
	for (char *p = c->err; *p; p++)	/* it quotes the file: no control characters on a terminal */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

/* Add S as an argument; -1 when v is not one. */
static int add_s(struct ctx *c, const json_t *v, const char *what)
{
	char *p;
	size_t n;

	if (backup_json_bytes(v, &p, &n) < 0)
		return fail(c, "%s is not a string", what);
	backup_args_add(&c->l->cmds, p, n);
	free(p);
	return 0;
}

static bool score_valid(const char *s)
{
	char *end;

	if (!*s || strlen(s) > 64)
		return false;
	if (strcmp(s, "inf") == 0 || strcmp(s, "-inf") == 0)
		return true;
	if (strspn(s, "0123456789.eE+-") != strlen(s))
		return false;	/* strtod's hex, spaces, nan: not Redis's */
	errno = 0;
	double d = strtod(s, &end);
	return !*end && !errno && isfinite(d);
}

/* A write of elements from arr (each `width` arguments) in chunks: cmd key e... */
static int chunked(struct ctx *c, const char *cmd, const json_t *arr, size_t width)
{
	const char *key = c->l->key;
	size_t n = json_array_size(arr);

	if (!json_is_array(arr) || n == 0)
		return fail(c, "%s: the value must be a non-empty array", key);
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(arr, i);

		if (i % CHUNK == 0) {
			if (i)
				backup_args_end(&c->l->cmds);
			backup_args_begin(&c->l->cmds);
			backup_args_adds(&c->l->cmds, cmd);
			backup_args_adds(&c->l->cmds, key);
		}
		if (width == 1) {
			if (add_s(c, e, "an element") < 0)
				return -1;
			continue;
		}
		if (!json_is_array(e) || json_array_size(e) != 2)
			return fail(c, "%s: element %zu is not a pair", key, i + 1);
		if (strcmp(cmd, "ZADD") == 0) {
			const json_t *sc = json_array_get(e, 1);
			if (!json_is_string(sc) || !score_valid(json_string_value(sc)))
				return fail(c, "%s: element %zu has no valid score", key, i + 1);
			backup_args_adds(&c->l->cmds, json_string_value(sc));
			if (add_s(c, json_array_get(e, 0), "a member") < 0)
				return -1;
		} else if (add_s(c, json_array_get(e, 0), "a field") < 0 ||
			   add_s(c, json_array_get(e, 1), "a value") < 0) {
			return -1;
		}
	}
	backup_args_end(&c->l->cmds);
	return 0;
}

static int id_of(struct ctx *c, const json_t *v, uint64_t *ms, uint64_t *seq)
{
	if (!json_is_string(v) || !backup_stream_id(json_string_value(v), ms, seq))
		return fail(c, "%s: not a stream id", c->l->key);
	return 0;
}

/* Entries [[id,[S,S,...]],...] in increasing id order, each as XADD key id f v ...
 * (id "*" when star). want_org: the entries must carry this org. */
static int entries(struct ctx *c, const json_t *arr, bool star, const char *want_org, uint64_t *top_ms,
		   uint64_t *top_seq)
{
	uint64_t pms = 0, pseq = 0;

	if (!json_is_array(arr))
		return fail(c, "%s: entries must be an array", c->l->key);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *e = json_array_get(arr, i), *f = json_array_get(e, 1);
		uint64_t ms, seq;
		bool org_seen = false;

		if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_array(f) || json_array_size(f) == 0 ||
		    json_array_size(f) % 2 || json_array_size(f) > 2 * CHUNK)
			return fail(c, "%s: entry %zu is not [id, [field, value, ...]] (up to %d pairs)", c->l->key, i + 1,
				    CHUNK);
		if (id_of(c, json_array_get(e, 0), &ms, &seq) < 0)
			return -1;
		if ((ms == 0 && seq == 0) || (i && id_cmp(ms, seq, pms, pseq) <= 0))
			return fail(c, "%s: entry ids out of order at %s", c->l->key,
				    json_string_value(json_array_get(e, 0)));
		pms = ms;
		pseq = seq;
		backup_args_begin(&c->l->cmds);
		backup_args_adds(&c->l->cmds, "XADD");
		backup_args_adds(&c->l->cmds, c->l->key);
		backup_args_adds(&c->l->cmds, star ? "*" : json_string_value(json_array_get(e, 0)));
		for (size_t k = 0; k < json_array_size(f); k++) {
			if (add_s(c, json_array_get(f, k), "an entry field") < 0)
				return -1;
			if (want_org && k % 2 == 1 && strcmp(c->l->cmds.v[c->l->cmds.n - 2], "org") == 0)
				org_seen = strcmp(c->l->cmds.v[c->l->cmds.n - 1], want_org) == 0;
		}
		backup_args_end(&c->l->cmds);
		if (want_org && !org_seen)
			return fail(c, "%s: entry %zu is not one of org %s", c->l->key, i + 1, want_org);
	}
	*top_ms = pms;
	*top_seq = pseq;
	return 0;
}

static int stream(struct ctx *c, const json_t *v)
{
	const json_t *groups = json_object_get(v, "groups");
	uint64_t top_ms = 0, top_seq = 0, lms, lseq;
	const char *key = c->l->key;

	if (!json_is_object(v))
		return fail(c, "%s: a stream's value must be an object", key);
	if (entries(c, json_object_get(v, "entries"), false, NULL, &top_ms, &top_seq) < 0 ||
	    id_of(c, json_object_get(v, "last_id"), &lms, &lseq) < 0)
		return -1;
	if (id_cmp(lms, lseq, top_ms, top_seq) < 0)
		return fail(c, "%s: last_id is before its last entry", key);
	const char *last = json_string_value(json_object_get(v, "last_id"));
	if (json_array_size(json_object_get(v, "entries")) == 0) {
		if (lms == 0 && lseq == 0)
			return fail(c, "%s: an empty stream without ids", key);
		/* An empty stream can't be made directly: add and delete one entry. */
		backup_args_begin(&c->l->cmds);
		backup_args_adds(&c->l->cmds, "XADD");
		backup_args_adds(&c->l->cmds, key);
		backup_args_adds(&c->l->cmds, last);
		backup_args_adds(&c->l->cmds, "_");
		backup_args_adds(&c->l->cmds, "_");
		backup_args_end(&c->l->cmds);
		backup_args_begin(&c->l->cmds);
		backup_args_adds(&c->l->cmds, "XDEL");
		backup_args_adds(&c->l->cmds, key);
		backup_args_adds(&c->l->cmds, last);
		backup_args_end(&c->l->cmds);
	}
	backup_args_begin(&c->l->cmds);
	backup_args_adds(&c->l->cmds, "XSETID");
	backup_args_adds(&c->l->cmds, key);
	backup_args_adds(&c->l->cmds, last);
	backup_args_end(&c->l->cmds);
	if (groups && !json_is_array(groups))
		return fail(c, "%s: groups must be an array", key);
	for (size_t i = 0; i < json_array_size(groups); i++) {
		const json_t *g = json_array_get(groups, i);
		uint64_t gms, gseq;

		if (!json_is_object(g) || id_of(c, json_object_get(g, "last_delivered_id"), &gms, &gseq) < 0)
			return fail(c, "%s: group %zu needs a name and a last_delivered_id", key, i + 1);
		for (size_t k = 0; k < i; k++)	/* a second XGROUP CREATE would fail halfway */
			if (json_equal(json_object_get(json_array_get(groups, k), "name"), json_object_get(g, "name")))
				return fail(c, "%s: group %zu twice", key, i + 1);
		backup_args_begin(&c->l->cmds);
		backup_args_adds(&c->l->cmds, "XGROUP");
		backup_args_adds(&c->l->cmds, "CREATE");
		backup_args_adds(&c->l->cmds, key);
		if (add_s(c, json_object_get(g, "name"), "a group name") < 0)
			return -1;
		backup_args_adds(&c->l->cmds, json_string_value(json_object_get(g, "last_delivered_id")));
		backup_args_end(&c->l->cmds);
	}
	return 0;
}

/* A timer's hash: HSET of its fields without the lease (whoever held it is
 * gone); its org must be the line's, its due time a number. */
static int timer(struct ctx *c, const json_t *root, const json_t *v)
{
	struct backup_line *l = c->l;
	const char *id = l->key + strlen(BACKUP_TIMER_PREFIX);
	const json_t *due = json_object_get(root, "due_ms");
	bool org_ok = false;

	if (strlen(id) >= sizeof(l->timer_id) || !timer_id_valid(id))
		return fail(c, "%s: not a timer id", l->key);
	wk_strlcpy(l->timer_id, id, sizeof(l->timer_id));
	if (!json_is_string(due) || !wk_parse_i64(json_string_value(due), 0, INT64_MAX, &l->due_ms))
		return fail(c, "%s: due_ms must be a decimal string", l->key);
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > CHUNK)
		return fail(c, "%s: a timer's value must be a non-empty array of pairs (up to %d)", l->key, CHUNK);
	backup_args_begin(&l->cmds);
	backup_args_adds(&l->cmds, "HSET");
	backup_args_adds(&l->cmds, l->key);
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i), *f = json_array_get(e, 0), *x = json_array_get(e, 1);

		if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_string(f) || !json_is_string(x))
			return fail(c, "%s: field %zu is not a pair of strings", l->key, i + 1);
		const char *name = json_string_value(f), *val = json_string_value(x);
		if (strcmp(name, "lease_owner") == 0 || strcmp(name, "lease_until") == 0)
			continue;
		if (strcmp(name, "org") == 0)
			org_ok = strcmp(val, l->org) == 0;
		if (strcmp(name, "kind") == 0)
			wk_strlcpy(l->timer_kind, val, sizeof(l->timer_kind));
		if (add_s(c, f, "a field") < 0 || add_s(c, x, "a value") < 0)
			return -1;
	}
	backup_args_end(&l->cmds);
	if (!org_ok)
		return fail(c, "%s: not a timer of org %s", l->key, l->org);
	backup_args_begin(&l->cmds);
	backup_args_adds(&l->cmds, "ZREM");
	backup_args_adds(&l->cmds, BACKUP_TIMERS_LEASED);
	backup_args_adds(&l->cmds, id);
	backup_args_end(&l->cmds);
	return 0;
}

static int queue_groups(struct ctx *c, const json_t *v)
{
	if (!json_is_array(v))
		return fail(c, "queue_groups: the value must be an array");
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *g = json_array_get(v, i);
		backup_args_begin(&c->l->cmds);
		backup_args_adds(&c->l->cmds, "XGROUP");
		backup_args_adds(&c->l->cmds, "CREATE");
		backup_args_adds(&c->l->cmds, BACKUP_QUEUE_KEY);
		if (!json_is_object(g) || add_s(c, json_object_get(g, "name"), "a group name") < 0)
			return fail(c, "queue_groups: group %zu has no name", i + 1);
		backup_args_adds(&c->l->cmds, "0");	/* restored entries have new ids: all unread */
		backup_args_end(&c->l->cmds);
	}
	return 0;
}

static int value_of(struct ctx *c, const json_t *root)
{
	struct backup_line *l = c->l;
	const json_t *v = json_object_get(root, "value");
	static const struct {
		const char *type, *cmd;
		size_t width;
	} plain[] = {
		{ "hash", "HSET", 2 }, { "set", "SADD", 1 }, { "zset", "ZADD", 2 }, { "list", "RPUSH", 1 },
	};

	if (!v)
		return fail(c, "%s: no value", l->key);
	if (strcmp(l->type, "string") == 0) {
		backup_args_begin(&l->cmds);
		backup_args_adds(&l->cmds, "SET");
		backup_args_adds(&l->cmds, l->key);
		if (add_s(c, v, "the value") < 0)
			return -1;
		backup_args_end(&l->cmds);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_LEN(plain); i++)
		if (strcmp(l->type, plain[i].type) == 0)
			return chunked(c, plain[i].cmd, v, plain[i].width);
	if (strcmp(l->type, "stream") == 0)
		return stream(c, v);
	return fail(c, "%s: unknown type \"%.15s\"", l->key, l->type);
}

static int header(struct ctx *c, const json_t *root)
{
	const json_t *ver = json_object_get(root, "version"), *created = json_object_get(root, "created_ms");

	c->l->kind = BL_HEADER;
	if (!json_is_integer(ver))
		return fail(c, "the header has no format version");
	c->l->version = json_integer_value(ver);
	if (c->l->version != BACKUP_VERSION)
		return fail(c, "format version %lld: this watchkeeper reads version %d only",
			    (long long)c->l->version, BACKUP_VERSION);
	if (!json_is_integer(created) || json_integer_value(created) < 0 || json_integer_value(created) > TIME_MAX_MS)
		return fail(c, "the header has no created_ms");
	c->l->created_ms = json_integer_value(created);
	return 0;
}

static int end_line(struct ctx *c, const json_t *root)
{
	const char *keys[] = { "orgs", "keys", "lines" };
	int64_t *dst[] = { &c->l->n_orgs, &c->l->n_keys, &c->l->n_lines };
	const json_t *sum = json_object_get(root, "sha256");

	c->l->kind = BL_END;
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const json_t *x = json_object_get(root, keys[i]);
		if (!json_is_integer(x) || json_integer_value(x) < 0)
			return fail(c, "the end line has no count of %s", keys[i]);
		*dst[i] = json_integer_value(x);
	}
	if (!json_is_string(sum) || json_string_length(sum) != 64 ||
	    strspn(json_string_value(sum), "0123456789abcdef") != 64)
		return fail(c, "the end line has no sha256");
	memcpy(c->l->sha256, json_string_value(sum), 65);
	return 0;
}

/* The key, its org and what kind of line it is. */
static int classify(struct ctx *c, const json_t *root)
{
	struct backup_line *l = c->l;
	const json_t *org = json_object_get(root, "org"), *type = json_object_get(root, "type");
	char prefix[BACKUP_ORG_MAX + 8];
	size_t n;

	if (json_is_string(org)) {
		if (!backup_org_valid(json_string_value(org)))
			return fail(c, "\"%.100s\" is not an org id", json_string_value(org));
		wk_strlcpy(l->org, json_string_value(org), sizeof(l->org));
	} else if (!json_is_null(org)) {
		return fail(c, "org must be an org id or null");
	}
	if (!json_is_string(type) || json_string_length(type) >= sizeof(l->type))
		return fail(c, "no type");
	wk_strlcpy(l->type, json_string_value(type), sizeof(l->type));
	if (backup_json_bytes(json_object_get(root, "key"), &l->key, &n) < 0 || n == 0 || memchr(l->key, '\0', n))
		return fail(c, "no key (or one with a NUL byte)");
	if (strncmp(l->key, "wk:", 3) != 0)
		return fail(c, "%.100s: not one of watchkeeper's keys", l->key);
	snprintf(prefix, sizeof(prefix), "wk:{%s}:", l->org);
	if (strcmp(l->type, "timer") == 0) {
		l->kind = BL_TIMER;
		return l->org[0] && strncmp(l->key, BACKUP_TIMER_PREFIX, strlen(BACKUP_TIMER_PREFIX)) == 0 ? 0
			: fail(c, "%.100s: a timer of no org", l->key);
	}
	if (strcmp(l->type, "queue") == 0 || strcmp(l->type, "queue_groups") == 0) {
		l->kind = l->type[5] ? BL_QUEUE_GROUPS : BL_QUEUE;
		l->shared = true;
		if (strcmp(l->key, BACKUP_QUEUE_KEY) != 0 || (l->kind == BL_QUEUE) != (l->org[0] != '\0'))
			return fail(c, "%.100s: not the notification queue", l->key);
		return 0;
	}
	l->kind = BL_KEY;
	if (strcmp(l->key, BACKUP_ORGS_KEY) == 0) {
		const json_t *v = json_object_get(root, "value");
		l->shared = true;
		if (!l->org[0] || strcmp(l->type, "set") != 0 || json_array_size(v) != 1 ||
		    !json_is_string(json_array_get(v, 0)) || strcmp(json_string_value(json_array_get(v, 0)), l->org))
			return fail(c, "wk:orgs: a line of one org names that org only");
		return 0;
	}
	if (strncmp(l->key, "wk:{timers}", 11) == 0 || strncmp(l->key, "wk:{notify}:q", 13) == 0)
		return fail(c, "%.100s: the shared queues are restored through their orgs", l->key);
	if (l->org[0] && strncmp(l->key, prefix, strlen(prefix)) != 0)
		return fail(c, "%.100s: not a key of org %s", l->key, l->org);
	return 0;
}

static int parse(struct ctx *c, const json_t *root)
{
	const json_t *fmt = json_object_get(root, "format"), *ttl = json_object_get(root, "ttl_ms");
	struct backup_line *l = c->l;

	if (!json_is_object(root))
		return fail(c, "not a JSON object");
	if (json_is_string(fmt)) {
		if (strcmp(json_string_value(fmt), BACKUP_FORMAT) == 0)
			return header(c, root);
		if (strcmp(json_string_value(fmt), BACKUP_END_FORMAT) == 0)
			return end_line(c, root);
		return fail(c, "not a watchkeeper backup (format \"%.60s\")", json_string_value(fmt));
	}
	if (classify(c, root) < 0)
		return -1;
	l->ttl_ms = -1;
	if (ttl && (!json_is_integer(ttl) || json_integer_value(ttl) < -1 || json_integer_value(ttl) > TIME_MAX_MS))
		return fail(c, "%s: ttl_ms must be -1 or a number of ms up to 10^14", l->key);
	if (ttl)
		l->ttl_ms = json_integer_value(ttl);
	switch (l->kind) {
	case BL_TIMER:
		return timer(c, root, json_object_get(root, "value"));
	case BL_QUEUE: {
		uint64_t ms, seq;
		return entries(c, json_object_get(root, "value"), true, l->org, &ms, &seq);
	}
	case BL_QUEUE_GROUPS:
		return queue_groups(c, json_object_get(root, "value"));
	default:
		return value_of(c, root);
	}
}

int backup_line_parse(const char *p, size_t n, struct backup_line *out, char *err, size_t errsz)
{
	struct ctx c = { out, err, errsz };
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	backup_args_init(&out->cmds);
	if (n > BACKUP_LINE_MAX)
		return fail(&c, "a line longer than %zu MiB", BACKUP_LINE_MAX >> 20);
	root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(&c, "not JSON (%s at column %d)", jerr.text, jerr.column);
	rc = parse(&c, root);
	json_decref(root);
	if (rc < 0)
		backup_line_free(out);
	return rc;
}

void backup_line_free(struct backup_line *l)
{
	free(l->key);
	l->key = NULL;
	backup_args_free(&l->cmds);
}
