/* outbox_history.c - reading the outbox's records back (outbox.h): one
 * notification's status (outbox_get), the org's newest (outbox_recent), and
 * what happened to one, oldest first (outbox_history). */
#include "bot/outbox_int.h"
#include "bot/org.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct store_field status_fields[] = {
	STORE_STR_FIELD("id", struct outbox_status, id),
	STORE_STR_FIELD("member", struct outbox_status, member),
	STORE_STR_FIELD("channel", struct outbox_status, channel),
	STORE_STR_FIELD("kind", struct outbox_status, kind),
	STORE_STR_FIELD("status", struct outbox_status, status),
	STORE_STR_FIELD("error", struct outbox_status, error),
	STORE_STR_FIELD("provider_id", struct outbox_status, provider_id),
	STORE_STR_FIELD("provider_status", struct outbox_status, provider_status),
	STORE_I64_FIELD("attempts", struct outbox_status, attempts),
	STORE_I64_FIELD("created_ms", struct outbox_status, created_ms),
	STORE_I64_FIELD("updated_ms", struct outbox_status, updated_ms),
};

static const struct store_field event_fields[] = {
	STORE_STR_FIELD("status", struct outbox_event, status),
	STORE_STR_FIELD("error", struct outbox_event, error),
	STORE_STR_FIELD("sid", struct outbox_event, provider_id),
	STORE_I64_FIELD("attempt", struct outbox_event, attempt),
	STORE_I64_FIELD("ts", struct outbox_event, ts_ms),
};

static void status_from_pairs(struct outbox_status *o, const redisReply *h)
{
	memset(o, 0, sizeof(*o));
	store_hash_fields(h, status_fields, ARRAY_LEN(status_fields), o);
}

int outbox_get(struct store *s, const char *org_id, const char *id, struct outbox_status *out)
{
	char key[192];
	redisReply *r;
	int rc = -1;

	if (!org_member_id_valid(id) || org_key(key, sizeof(key), org_id, "notification:%s", id) < 0)
		return 1;
	if ((rc = store_hash(s, key, &r)) == 0) {
		status_from_pairs(out, r);
		freeReplyObject(r);
	}
	return rc;
}

static const struct store_script recent_script = {
	"outbox_recent",
	/* KEYS: notifications. ARGV: key prefix, n. */
	"local out = {}\n"
	"for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)) do\n"
	"  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. 'notification:' .. id)\n"
	"end\n"
	"return out\n",
	NULL
};

int outbox_recent(struct store *s, const char *org_id, size_t n, struct outbox_status **out,
		  size_t *count)
{
	char klist[160], prefix[160], num[16];
	redisReply *r;

	*out = NULL;
	*count = 0;
	if (org_key(klist, sizeof(klist), org_id, "notifications") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0)
		return -1;
	snprintf(num, sizeof(num), "%zu", n);
	const char *keys[] = { klist };
	const char *args[] = { prefix, num };
	r = store_script(s, &recent_script, 1, keys, 2, args);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	*out = xcalloc(r->elements + 1, sizeof(**out));
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_ARRAY && r->element[i]->elements)
			status_from_pairs(&(*out)[(*count)++], r->element[i]);
	freeReplyObject(r);
	return 0;
}

int outbox_history(struct store *s, const char *org_id, const char *id, struct outbox_event **out,
		   size_t *count)
{
	char key[200];
	redisReply *r;

	*out = NULL;
	*count = 0;
	if (!org_member_id_valid(id) || org_key(key, sizeof(key), org_id, "notification:%s:events", id) < 0)
		return 0;
	r = store_command(s, "XRANGE %s - + COUNT 100", key);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	*out = xcalloc(r->elements + 1, sizeof(**out));
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		struct outbox_event *ev = &(*out)[(*count)++];
		store_hash_fields(e->element[1], event_fields, ARRAY_LEN(event_fields), ev);
	}
	freeReplyObject(r);
	return 0;
}
