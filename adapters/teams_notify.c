/* teams_notify.c - see teams_notify.h */
#include "adapters/teams_notify.h"
#include "adapters/teams_api.h"
#include "adapters/teams_card.h"
#include "bot/incident_card.h"
#include "bot/log.h"
#include "bot/org.h"
#include "bot/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Display names for mentions, per process, for NAMES_FOR_MS: every answer
 * that names who is on call would otherwise cost a round trip per person.
 * Only a name shown in a card can be this stale; nothing is decided on it. */
#define NAMES_SLOTS 1024
#define NAMES_FOR_MS 60000
static struct {
	pthread_mutex_t lock;
	struct {
		uint64_t hash;
		int64_t at;
		char name[128];
		char teams_id[160];
	} e[NAMES_SLOTS];
} names_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t name_hash(const char *org, const char *id)
{
	return wk_hash_str(wk_hash_str(WK_HASH_SEED, org), id) | 1;	/* 0 marks an empty slot */
}

void teams_names_forget(const char *org, const char *id)
{
	uint64_t h = name_hash(org, id);

	pthread_mutex_lock(&names_cache.lock);
	if (names_cache.e[h % NAMES_SLOTS].hash == h)
		names_cache.e[h % NAMES_SLOTS].hash = 0;
	pthread_mutex_unlock(&names_cache.lock);
}

int teams_member_name(void *arg, const char *id, char *out, size_t size, char *teams_id, size_t idsize)
{
	struct teams_names *n = arg;
	char key[256];
	redisReply *r;
	int rc = -1;
	uint64_t h;
	size_t slot;
	int64_t now = wk_now_ms();

	if (!org_member_id_valid(id) || org_key(key, sizeof(key), n->org, "teams_user:%s", id) < 0)
		return -1;
	h = name_hash(n->org, id);
	slot = (size_t)(h % NAMES_SLOTS);
	pthread_mutex_lock(&names_cache.lock);
	bool hit = names_cache.e[slot].hash == h && now - names_cache.e[slot].at < NAMES_FOR_MS;
	if (hit) {	/* "" = known to have no Teams record (someone only on Slack) */
		wk_strlcpy(out, names_cache.e[slot].name, size);
		wk_strlcpy(teams_id, names_cache.e[slot].teams_id, idsize);
	}
	pthread_mutex_unlock(&names_cache.lock);
	if (hit)
		return out[0] ? 0 : -1;
	r = store_command(n->store, "HMGET %s name id", key);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		freeReplyObject(r);
		return -1;	/* the store failed: no answer to keep */
	}
	out[0] = teams_id[0] = '\0';
	if (r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
		wk_strlcpy(out, r->element[0]->str, size);
		wk_strlcpy(teams_id, r->element[1]->str, idsize);
		rc = 0;
	}
	freeReplyObject(r);
	pthread_mutex_lock(&names_cache.lock);
	names_cache.e[slot].hash = h;
	names_cache.e[slot].at = now;
	wk_strlcpy(names_cache.e[slot].name, rc == 0 ? out : "", sizeof(names_cache.e[slot].name));
	wk_strlcpy(names_cache.e[slot].teams_id, rc == 0 ? teams_id : "", sizeof(names_cache.e[slot].teams_id));
	pthread_mutex_unlock(&names_cache.lock);
	return rc;
}

/* The person's Teams account: 0, 1 none recorded, -1 store failure. */
static int account(struct store *s, const char *key, char *id, size_t isize, char *surl, size_t ssize, char *conv,
		   size_t csize, char *tenant, size_t tsize)
{
	redisReply *r = store_command(s, "HMGET %s id service_url conversation tenant", key);
	int rc = -1;

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 4) {
		rc = 1;
		if (r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
		    r->element[3]->type == REDIS_REPLY_STRING && r->element[0]->len < isize &&
		    r->element[1]->len < ssize && r->element[3]->len < tsize) {
			wk_strlcpy(id, r->element[0]->str, isize);
			wk_strlcpy(surl, r->element[1]->str, ssize);
			wk_strlcpy(tenant, r->element[3]->str, tsize);
			conv[0] = '\0';
			if (r->element[2]->type == REDIS_REPLY_STRING && r->element[2]->len < csize)
				wk_strlcpy(conv, r->element[2]->str, csize);
			rc = 0;
		}
	}
	freeReplyObject(r);
	return rc;
}

/* r as a card, posted as a new message in conv: results as teams_send(). */
static int post_card(const struct config *cfg, struct store *s, const char *org_id, const char *surl,
		     const char *conv, const struct reply *r, long *retry_after, char *why, size_t whysize)
{
	struct teams_names names = { s, org_id };
	struct buf out = BUF_INIT(TEAMS_CARD_MAX + 4096);
	int rc;

	if (teams_activity_render(r, teams_member_name, &names, &out) < 0) {
		buf_free(&out);
		snprintf(why, whysize, "the message is too long for a Teams card");
		return 1;
	}
	rc = teams_send(cfg, surl, conv, NULL, buf_cstr(&out), out.len, NULL, 0, retry_after, why, whysize);
	buf_free(&out);
	return rc;
}

/* The conversation and service URL of a handle: 0, 1 unknown, -1 store failure. */
static int place(struct store *s, const char *org_id, const char *handle, char *conv, size_t csize, char *surl,
		 size_t ssize)
{
	char key[192];
	redisReply *r;
	int rc = -1;

	if (org_key(key, sizeof(key), org_id, "teams_conv:%s", handle) < 0)
		return 1;
	r = store_command(s, "HMGET %s conversation service_url", key);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
		rc = 1;
		if (r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
		    r->element[0]->len < csize && r->element[1]->len < ssize) {
			wk_strlcpy(conv, r->element[0]->str, csize);
			wk_strlcpy(surl, r->element[1]->str, ssize);
			rc = 0;
		}
	}
	freeReplyObject(r);
	return rc;
}

static int place_or_why(struct store *s, const char *org_id, const char *handle, char *conv, size_t csize,
			char *surl, size_t ssize, char *why, size_t whysize)
{
	int rc = place(s, org_id, handle, conv, csize, surl, ssize);

	if (rc < 0)
		snprintf(why, whysize, "could not read the Teams conversation from Redis");
	else if (rc > 0)
		snprintf(why, whysize, "the bot knows no Teams conversation %s", handle);
	return rc;
}

int teams_place_post(const struct config *cfg, struct store *s, const char *org_id, const char *handle,
		     const struct reply *r, long *retry_after, char *why, size_t whysize)
{
	char conv[TEAMS_ID_MAX], surl[512];
	int rc;

	if (retry_after)
		*retry_after = -1;
	if ((rc = place_or_why(s, org_id, handle, conv, sizeof(conv), surl, sizeof(surl), why, whysize)) != 0)
		return rc;
	return post_card(cfg, s, org_id, surl, conv, r, retry_after, why, whysize);
}

int teams_card_send(const struct config *cfg, struct store *s, const char *org_id, const char *handle,
		    const char *n_text, long *retry_after, char *why, size_t whysize)
{
	char conv[TEAMS_ID_MAX], surl[512], key[192], id[TEAMS_ID_MAX] = "";
	struct teams_names names = { s, org_id };
	struct buf out = BUF_INIT(TEAMS_CARD_MAX + 4096);
	struct reply r;
	redisReply *x;
	int rc;

	if (retry_after)
		*retry_after = -1;
	if ((rc = place_or_why(s, org_id, handle, conv, sizeof(conv), surl, sizeof(surl), why, whysize)) != 0)
		return rc;
	reply_init(&r);
	rc = incident_card_reply(cfg, s, org_id, n_text, &r);
	if (rc == 0 && teams_activity_render(&r, teams_member_name, &names, &out) < 0)
		rc = 1;
	reply_free(&r);
	if (rc != 0 || org_key(key, sizeof(key), org_id, "inc:%s", n_text) < 0) {
		buf_free(&out);
		snprintf(why, whysize, rc < 0 ? "the store failed" : "no such incident, or its card does not fit");
		return rc < 0 ? -1 : 1;
	}
	if (store_take_string(store_command(s, "HGET %s teams_card", key), id, sizeof(id)) != 0)
		id[0] = '\0';
	if (id[0]) {
		rc = teams_update(cfg, surl, conv, id, buf_cstr(&out), out.len, retry_after, why, whysize);
		if (rc != 4) {
			buf_free(&out);
			return rc;
		}
	}
	rc = teams_send(cfg, surl, conv, NULL, buf_cstr(&out), out.len, id, sizeof(id), retry_after, why, whysize);
	buf_free(&out);
	if (rc == 0 && id[0]) {
		x = store_command(s, "HSET %s teams_card %s", key, id);
		if (!x || x->type != REDIS_REPLY_INTEGER)
			log_error("teams.card", "org=%s incident=%s note=\"posted, but its id was not recorded\"",
				  org_id, n_text);
		freeReplyObject(x);
	}
	return rc;
}

int teams_dm_reply(const struct config *cfg, struct store *s, const char *org_id, const char *member,
		   const struct reply *r, long *retry_after, char *why, size_t whysize)
{
	char key[256], id[TEAMS_ID_MAX], surl[512], conv[TEAMS_ID_MAX], tenant[64];
	int rc;

	if (retry_after)
		*retry_after = -1;
	if (!org_member_id_valid(member) || org_key(key, sizeof(key), org_id, "teams_user:%s", member) < 0) {
		snprintf(why, whysize, "not a Teams member");
		return 1;
	}
	rc = account(s, key, id, sizeof(id), surl, sizeof(surl), conv, sizeof(conv), tenant, sizeof(tenant));
	if (rc < 0) {
		snprintf(why, whysize, "could not read the member's Teams account from Redis");
		return -1;
	}
	if (rc > 0) {
		snprintf(why, whysize, "this person never wrote to the bot in Teams, so it cannot reach them there");
		return 1;
	}
	if (!conv[0]) {
		rc = teams_create_conversation(cfg, surl, tenant, id, conv, sizeof(conv), retry_after, why, whysize);
		if (rc != 0)
			return rc;
		redisReply *x = store_command(s, "HSET %s conversation %s", key, conv);
		freeReplyObject(x);	/* only a shortcut: Teams gives the same chat again */
	}
	return post_card(cfg, s, org_id, surl, conv, r, retry_after, why, whysize);
}
