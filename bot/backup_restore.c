/* backup_restore.c - backup_restore() of backup.h: the file is read twice,
 * first to check all of it (nothing is written unless every line is sound and
 * the end line's sum matches), then to write it, one script per org. */
#include "bot/backup.h"
#include "bot/backup_format.h"
#include "bot/buf.h"
#include "bot/crypto.h"
#include "bot/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

/* Global lines written by one script. */
#define GLOBAL_BATCH 200

/* KEYS: the keys the batch creates; an existing one is refused (ARGV[1] '0')
 * or deleted first (ARGV[1] '1', --force). The rest of ARGV: commands, each
 * its argument count and then its arguments (backup_format.h). Every check
 * comes before the first write, and the commands were built from checked
 * lines, so a batch is written whole or not at all. */
static const char restore_lua[] =
	"for _, k in ipairs(KEYS) do\n"
	"  if redis.call('EXISTS', k) == 1 then\n"
	"    if ARGV[1] ~= '1' then return {'exists', k} end\n"
	"    redis.call('DEL', k)\n"
	"  end\n"
	"end\n"
	"local i = 2\n"
	"while i <= #ARGV do\n"
	"  local n = tonumber(ARGV[i])\n"
	"  redis.call(unpack(ARGV, i + 1, i + n))\n"
	"  i = i + n + 1\n"
	"end\n"
	"return {'ok'}\n";

static int say(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)	/* key names came from Redis or the file */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

struct reader {
	FILE *f;
	struct buf line;
	size_t lineno;
	bool newline;	/* the line ended with '\n' (the last one of a file cut short does not) */
};

/* 1 a line (without its '\n') in rd->line, 0 the end of the file, -1 a line
 * too long or a read error. */
static int read_line(struct reader *rd)
{
	char chunk[65536];
	size_t n = 0;
	bool newline = false;
	int c;

	buf_reset(&rd->line);
	while ((c = getc_unlocked(rd->f)) != EOF) {
		if (c == '\n') {
			newline = true;
			break;
		}
		chunk[n++] = (char)c;
		if (n == sizeof(chunk)) {
			if (buf_add(&rd->line, chunk, n) < 0)
				return -1;
			n = 0;
		}
	}
	if ((n && buf_add(&rd->line, chunk, n) < 0) || ferror(rd->f))
		return -1;
	if (!newline && rd->line.len == 0)
		return 0;
	rd->newline = newline;
	rd->lineno++;
	return 1;
}

/* ---- the first pass: check everything ---- */

struct names {
	char **v;
	size_t n;
};

static bool names_has(const struct names *x, const char *s)
{
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->v[i], s) == 0)
			return true;
	return false;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(struct names *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->v[i]);
	free(x->v);
}

struct check {
	EVP_MD_CTX *md;
	struct names done;	/* orgs whose lines ended */
	struct names keys;	/* every key a line creates: twice would fail halfway through a write */
	size_t keys_cap;
	char org[BACKUP_ORG_MAX];
	size_t orgs, data;
	bool header, end;
};

static void note_overdue(struct restore_stats *st, const struct backup_line *l)
{
	if (st->nshown < RESTORE_OVERDUE_SHOWN) {
		wk_strlcpy(st->shown[st->nshown].id, l->timer_id, sizeof(st->shown[0].id));
		wk_strlcpy(st->shown[st->nshown].kind, l->timer_kind, sizeof(st->shown[0].kind));
		for (char *p = st->shown[st->nshown].kind; *p; p++)	/* printed: the file's text */
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", *p))
				*p = '?';
		wk_strlcpy(st->shown[st->nshown].org, l->org, sizeof(st->shown[0].org));
		st->shown[st->nshown++].due_ms = l->due_ms;
	}
	st->overdue++;
}

static int check_line(struct check *c, const struct reader *rd, const struct backup_line *l, int64_t now,
		      struct restore_stats *st, char *err, size_t errsz)
{
	if (c->end)
		return say(err, errsz, "line %zu: more after the end line", rd->lineno);
	if (rd->lineno == 1 && l->kind != BL_HEADER)
		return say(err, errsz, "line 1 is not the header of a watchkeeper backup");
	if (l->kind == BL_HEADER) {
		if (rd->lineno != 1)
			return say(err, errsz, "line %zu: a second header", rd->lineno);
		st->created_ms = l->created_ms;
	} else if (l->kind == BL_END) {
		unsigned char sum[32];
		char hex[65];

		c->end = true;
		EVP_DigestFinal_ex(c->md, sum, NULL);
		crypto_hex(sum, sizeof(sum), hex);
		if (strcmp(hex, l->sha256) != 0)
			return say(err, errsz, "the checksum does not match: the file was changed or damaged "
				   "after it was written");
		if ((size_t)l->n_lines != rd->lineno - 1 || (size_t)l->n_keys != c->data ||
		    (size_t)l->n_orgs != c->orgs)
			return say(err, errsz, "the end line's counts (%lld lines, %lld keys, %lld orgs) do not "
				   "match the file (%zu, %zu, %zu)", (long long)l->n_lines, (long long)l->n_keys,
				   (long long)l->n_orgs, rd->lineno - 1, c->data, c->orgs);
		return 0;
	} else {
		c->data++;
		if (strcmp(l->org, c->org) != 0) {
			if (c->org[0]) {
				c->done.v = xrealloc(c->done.v, (c->done.n + 1) * sizeof(*c->done.v));
				c->done.v[c->done.n++] = xstrdup(c->org);
			}
			if (l->org[0] && names_has(&c->done, l->org))
				return say(err, errsz, "line %zu: org %s again after other lines", rd->lineno, l->org);
			if (l->org[0])
				c->orgs++;
			wk_strlcpy(c->org, l->org, sizeof(c->org));
		}
		if (l->kind == BL_TIMER && l->due_ms < now)
			note_overdue(st, l);
		if (!l->shared) {
			if (c->keys.n == c->keys_cap) {
				c->keys_cap = c->keys_cap ? 2 * c->keys_cap : 256;
				c->keys.v = xrealloc(c->keys.v, c->keys_cap * sizeof(*c->keys.v));
			}
			c->keys.v[c->keys.n++] = xstrdup(l->key);
		}
	}
	EVP_DigestUpdate(c->md, rd->line.data ? rd->line.data : "", rd->line.len);
	EVP_DigestUpdate(c->md, "\n", 1);
	return 0;
}

static int check_file(struct reader *rd, int64_t now, struct restore_stats *st, char *err, size_t errsz)
{
	struct check c = { .md = EVP_MD_CTX_new() };
	struct backup_line l;
	char why[400];
	int rc = 0, got;

	if (!c.md || !EVP_DigestInit_ex(c.md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(c.md);
		return say(err, errsz, "cannot start SHA-256");
	}
	while (rc == 0 && (got = read_line(rd)) != 0) {
		if (got < 0) {
			rc = say(err, errsz, "line %zu: %s", rd->lineno + 1,
				 ferror(rd->f) ? strerror(errno) : "longer than a backup's lines may be");
		} else if (backup_line_parse(rd->line.data ? rd->line.data : "", rd->line.len, &l, why, sizeof(why)) < 0) {
			if (!rd->newline)
				rc = say(err, errsz, "the file ends in the middle of line %zu: it was cut short (or is "
					 "still being written)", rd->lineno);
			else
				rc = say(err, errsz, "line %zu: %s", rd->lineno, why);
		} else {
			rc = check_line(&c, rd, &l, now, st, err, errsz);
			backup_line_free(&l);
		}
	}
	if (rc == 0 && rd->lineno == 0)
		rc = say(err, errsz, "the file is empty");
	else if (rc == 0 && !c.end)
		rc = say(err, errsz, "the file ends after line %zu without its end line: it was cut short "
			 "(or is still being written)", rd->lineno);
	if (rc == 0 && c.keys.n) {
		qsort(c.keys.v, c.keys.n, sizeof(*c.keys.v), str_cmp);
		for (size_t i = 1; rc == 0 && i < c.keys.n; i++)
			if (strcmp(c.keys.v[i - 1], c.keys.v[i]) == 0)
				rc = say(err, errsz, "key %.200s is in the file twice", c.keys.v[i]);
	}
	EVP_MD_CTX_free(c.md);
	names_free(&c.done);
	names_free(&c.keys);
	return rc;
}

/* ---- the target ---- */

static int target_empty(struct store *s, char *err, size_t errsz)
{
	char cursor[32] = "0";
	struct buf seen = BUF_INIT(0);
	size_t n = 0;
	int rc = 0;

	do {
		redisReply *r = store_command(s, "SCAN %s MATCH wk:* COUNT 1000", cursor);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING) {
			if (r)
				freeReplyObject(r);
			buf_free(&seen);
			return say(err, errsz, "cannot list Redis's keys: %s", store_error(s));
		}
		wk_strlcpy(cursor, r->element[0]->str, sizeof(cursor));
		for (size_t i = 0; i < r->element[1]->elements; i++, n++)
			if (n < 3)
				buf_printf(&seen, "%s%.100s", n ? ", " : "", r->element[1]->element[i]->str);
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	if (n)
		rc = say(err, errsz, "Redis is not empty: it holds %zu watchkeeper key%s (%s%s). Restore into an "
			 "empty Redis, or pass --force to replace the keys the backup has (the others stay)",
			 n, n == 1 ? "" : "s", buf_cstr(&seen), n > 3 ? ", ..." : "");
	buf_free(&seen);
	return rc;
}

/* ---- the second pass: write ---- */

struct batch {
	char org[BACKUP_ORG_MAX];
	struct backup_args keys, cmds;
	size_t lines, timers;
	bool global;
};

static int flush(struct store *s, struct batch *b, const struct restore_opts *o, struct restore_stats *st,
		 char *err, size_t errsz)
{
	static const char *const wake[] = { "XADD", "wk:{timers}:wake", "MAXLEN", "~", "100", "*", "t", "restore" };
	const char **argv;
	size_t *lens, n = 0, argc;
	char numkeys[24];
	redisReply *r;
	int rc = 0;

	if (!b->lines)
		return 0;
	if (b->timers) {	/* engines already running look at the timers again */
		backup_args_begin(&b->cmds);
		for (size_t i = 0; i < ARRAY_LEN(wake); i++)
			backup_args_adds(&b->cmds, wake[i]);
		backup_args_end(&b->cmds);
	}
	argc = 4 + b->keys.n + b->cmds.n;
	argv = xcalloc(argc, sizeof(*argv));
	lens = xcalloc(argc, sizeof(*lens));
	snprintf(numkeys, sizeof(numkeys), "%zu", b->keys.n);
	argv[n] = "EVAL", lens[n++] = 4;
	argv[n] = restore_lua, lens[n++] = strlen(restore_lua);
	argv[n] = numkeys, lens[n++] = strlen(numkeys);
	for (size_t i = 0; i < b->keys.n; i++)
		argv[n] = b->keys.v[i], lens[n++] = b->keys.len[i];
	argv[n] = o->force ? "1" : "0", lens[n++] = 1;
	for (size_t i = 0; i < b->cmds.n; i++)
		argv[n] = b->cmds.v[i], lens[n++] = b->cmds.len[i];
	r = store_commandargv(s, (int)n, argv, lens);
	const char *what = b->global ? "global keys" : b->org;
	if (!r) {
		rc = say(err, errsz, "%s: no answer from Redis (%s); run the restore again with --force once it is back",
			 what, store_error(s));
	} else if (r->type == REDIS_REPLY_ERROR) {
		rc = say(err, errsz, "%s: Redis refused a write: %s", what, r->str);
	} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING) {
		rc = say(err, errsz, "%s: %.200s exists already; nothing of it was written (--force replaces it)", what,
			 r->element[1]->str);
	} else if (!b->global) {
		st->orgs++;
	}
	if (r)
		freeReplyObject(r);
	free(argv);
	free(lens);
	backup_args_free(&b->keys);
	backup_args_free(&b->cmds);
	b->lines = b->timers = 0;
	return rc;
}

/* One checked line into the batch; the expiry and the timer's due set here. */
static void add_line(struct batch *b, struct backup_line *l, int64_t now, const struct restore_opts *o,
		     struct restore_stats *st)
{
	char at[24];

	if (l->ttl_ms >= 0 && l->kind != BL_TIMER && st->created_ms + l->ttl_ms <= now) {
		st->expired++;
		return;
	}
	if (l->kind == BL_TIMER && l->due_ms < now && o->skip_overdue)
		return;
	b->lines++;
	backup_args_append(&b->cmds, &l->cmds);
	if (l->kind == BL_QUEUE) {
		st->queued += l->cmds.cmds;
		return;
	}
	if (l->kind == BL_TIMER) {
		snprintf(at, sizeof(at), "%lld", (long long)l->due_ms);
		backup_args_begin(&b->cmds);
		backup_args_adds(&b->cmds, "ZADD");
		backup_args_adds(&b->cmds, BACKUP_TIMERS_DUE);
		backup_args_adds(&b->cmds, at);
		backup_args_adds(&b->cmds, l->timer_id);
		backup_args_end(&b->cmds);
		backup_args_adds(&b->keys, l->key);
		b->timers++;
		st->timers++;
		return;
	}
	if (l->shared)
		return;
	backup_args_adds(&b->keys, l->key);
	if (l->ttl_ms >= 0) {
		snprintf(at, sizeof(at), "%lld", (long long)(st->created_ms + l->ttl_ms));
		backup_args_begin(&b->cmds);
		backup_args_adds(&b->cmds, "PEXPIREAT");
		backup_args_adds(&b->cmds, l->key);
		backup_args_adds(&b->cmds, at);
		backup_args_end(&b->cmds);
	}
	if (b->global)
		st->globals++;
	else
		st->keys++;
}

/* The queue's consumer groups, once its entries are back (only when there
 * are any: the daemon makes the group itself on an empty Redis). */
static int queue_groups(struct store *s, const struct backup_args *groups, char *err, size_t errsz)
{
	redisReply *r = store_command(s, "EXISTS %s", BACKUP_QUEUE_KEY);
	bool exists = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	int rc = 0;

	if (r)
		freeReplyObject(r);
	for (size_t i = 0; exists && i < groups->n && rc == 0;) {
		int64_t n = 0;
		/* Each command is its argument count, then its arguments (backup_args_end()). */
		if (!wk_parse_i64(groups->v[i], 1, (int64_t)(groups->n - i - 1), &n))
			return say(err, errsz, "cannot create the notification queue's group: malformed command list");
		r = store_commandargv_expecting(s, STORE_EXPECT("BUSYGROUP"), (int)n, (const char **)groups->v + i + 1,
						groups->len + i + 1);
		if (!r || (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0))
			rc = say(err, errsz, "cannot create the notification queue's group: %s",
				 r ? r->str : store_error(s));
		if (r)
			freeReplyObject(r);
		i += (size_t)n + 1;
	}
	return rc;
}

static int write_file(struct store *s, struct reader *rd, int64_t now, const struct restore_opts *o,
		      struct restore_stats *st, char *err, size_t errsz)
{
	struct batch b;
	struct backup_args groups;
	struct backup_line l;
	char why[400];
	int rc = 0, got;

	memset(&b, 0, sizeof(b));
	backup_args_init(&b.keys);
	backup_args_init(&b.cmds);
	backup_args_init(&groups);
	while (rc == 0 && (got = read_line(rd)) > 0) {
		if (backup_line_parse(rd->line.data ? rd->line.data : "", rd->line.len, &l, why, sizeof(why)) < 0) {
			rc = say(err, errsz, "line %zu changed since it was checked: %s", rd->lineno, why);
			break;
		}
		if (l.kind == BL_QUEUE_GROUPS) {
			backup_args_append(&groups, &l.cmds);
		} else if (l.kind != BL_HEADER && l.kind != BL_END) {
			bool global = !l.org[0];
			if (b.lines && (global != b.global || strcmp(l.org, b.org) != 0 ||
					(global && b.lines >= GLOBAL_BATCH)))
				rc = flush(s, &b, o, st, err, errsz);
			wk_strlcpy(b.org, l.org, sizeof(b.org));
			b.global = global;
			if (rc == 0)
				add_line(&b, &l, now, o, st);
		}
		backup_line_free(&l);
	}
	if (rc == 0 && got < 0)
		rc = say(err, errsz, "line %zu: cannot read it again", rd->lineno + 1);
	if (rc == 0)
		rc = flush(s, &b, o, st, err, errsz);
	if (rc == 0)
		rc = queue_groups(s, &groups, err, errsz);
	backup_args_free(&b.keys);
	backup_args_free(&b.cmds);
	backup_args_free(&groups);
	return rc;
}

int backup_restore(struct store *s, const char *path, const struct restore_opts *o, struct restore_stats *st,
		   char *err, size_t errsz)
{
	struct reader rd = { .line = BUF_INIT(BACKUP_LINE_MAX) };
	struct stat before, after;
	int64_t now;
	int rc;

	memset(st, 0, sizeof(*st));
	rd.f = fopen(path, "r");
	if (!rd.f)
		return say(err, errsz, "cannot open %s: %s", path, strerror(errno));
	now = store_time_ms(s);
	if (now < 0) {
		fclose(rd.f);
		return say(err, errsz, "cannot reach Redis: %s", store_error(s));
	}
	rc = fstat(fileno(rd.f), &before) < 0 ? say(err, errsz, "%s: %s", path, strerror(errno))
		: check_file(&rd, now, st, err, errsz);
	if (rc == 0 && !o->force)
		rc = target_empty(s, err, errsz);
	if (rc == 0 && (fstat(fileno(rd.f), &after) < 0 || after.st_size != before.st_size ||
			after.st_mtim.tv_sec != before.st_mtim.tv_sec || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec))
		rc = say(err, errsz, "%s changed while it was being checked", path);
	if (rc == 0) {
		rewind(rd.f);
		rd.lineno = 0;
		rc = write_file(s, &rd, now, o, st, err, errsz);
	}
	buf_free(&rd.line);
	fclose(rd.f);
	return rc;
}
