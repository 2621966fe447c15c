/* store_reply.c - reading replies and keys (see store.h): helpers that need
 * no connection internals, apart from store.c so that file stays about
 * connections. */
#include "bot/store.h"
#include "bot/util.h"

#include <stdlib.h>
#include <string.h>

int64_t store_time_ms(struct store *s)
{
	redisReply *r = store_command(s, "TIME");
	int64_t secs, us, now = -1;

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_STRING && wk_parse_i64(r->element[0]->str, 0, INT64_MAX / 1000, &secs) &&
	    wk_parse_i64(r->element[1]->str, 0, 999999, &us))
		now = secs * 1000 + us / 1000;
	if (r)
		freeReplyObject(r);
	return now;
}

redisReply *store_array(redisReply *r)
{
	if (r && r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

int store_hash(struct store *s, const char *key, redisReply **pairs)
{
	redisReply *r = store_array(store_command(s, "HGETALL %s", key));

	*pairs = NULL;
	if (!r)
		return -1;
	if (r->elements == 0) {
		freeReplyObject(r);
		return 1;
	}
	*pairs = r;
	return 0;
}

int store_outcome(redisReply *r, size_t n, size_t *index, int64_t *id)
{
	int rc = -1;

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_INTEGER && r->element[0]->integer >= 0 &&
	    (size_t)r->element[0]->integer < n) {
		*index = (size_t)r->element[0]->integer;
		if (id)
			*id = r->element[1]->integer;
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

void store_hash_fields(const redisReply *pairs, const struct store_field *fields, size_t n, void *dst)
{
	if (!pairs || pairs->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 1 < pairs->elements; i += 2) {
		const redisReply *k = pairs->element[i], *v = pairs->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		for (size_t f = 0; f < n; f++) {
			char *at = (char *)dst + fields[f].offset;
			if (strcmp(k->str, fields[f].name) != 0)
				continue;
			if (fields[f].type == STORE_STR)
				wk_strlcpy(at, v->str, fields[f].size);
			else if (fields[f].type == STORE_I64)
				wk_parse_i64(v->str, INT64_MIN, INT64_MAX, (int64_t *)at);
			else
				*(bool *)at = strcmp(v->str, "1") == 0;
		}
	}
}

int store_key(char *out, size_t size, const char *org_id, const char *suffix)
{
	/* "wk:{ORG}:SUFFIX" by hand: this runs for every key of every request. */
	size_t no = strlen(org_id), ns = strlen(suffix);

	if (no + ns + 6 >= size)
		return -1;
	memcpy(out, "wk:{", 4);
	memcpy(out + 4, org_id, no);
	memcpy(out + 4 + no, "}:", 2);
	memcpy(out + 6 + no, suffix, ns + 1);
	return 0;
}

int store_load_index(struct store *s, const char *key, size_t max, bool newest_first, size_t item_size,
		     store_load_fn load, const void *arg, void **out, size_t *count)
{
	redisReply *r;
	char *items;
	size_t n = 0;

	*out = NULL;
	*count = 0;
	if (max == 0)
		return 0;
	r = store_command(s, newest_first ? "ZREVRANGE %s 0 %lld" : "ZRANGE %s 0 %lld", key, (long long)max - 1);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	items = xcalloc(r->elements ? r->elements : 1, item_size);
	for (size_t i = 0; i < r->elements; i++) {
		int got;
		if (r->element[i]->type != REDIS_REPLY_STRING)
			continue;
		got = load(s, r->element[i]->str, items + n * item_size, arg);
		if (got < 0) {
			freeReplyObject(r);
			free(items);
			return -1;
		}
		if (got == 0)
			n++;
	}
	freeReplyObject(r);
	*out = items;
	*count = n;
	return 0;
}

int store_take_string(redisReply *r, char *out, size_t size)
{
	int rc = -1;

	if (r && r->type == REDIS_REPLY_STRING && r->len < size) {
		memcpy(out, r->str, r->len + 1);
		rc = 0;
	} else if (r && r->type == REDIS_REPLY_NIL) {
		rc = 1;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}
