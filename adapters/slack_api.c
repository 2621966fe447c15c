/* slack_api.c - see slack_api.h */
#include "adapters/slack_api.h"
#include "adapters/adapter.h"
#include "adapters/slack_tokens.h"
#include "bot/buf.h"
#include "bot/courier.h"
#include "bot/form.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#define SLACK_API_TIMEOUT_MS 10000
/* Pages of 200 messages read when looking for a message: a DM gets far fewer
 * since one attempt; past this the answer is "could not check". */
#define SLACK_HISTORY_PAGES 5
/* A 429 without Retry-After: the official SDKs' default pause. */
#define SLACK_DEFAULT_RETRY_AFTER 30
/* chat.postMessage: one post per channel per SLACK_PACE_MS; a post waits at
 * most SLACK_PACE_WAIT_MS for its turn (pace_channel()). */
#define SLACK_PACE_MS 1000
#define SLACK_PACE_WAIT_MS 1000

bool slack_id_valid(const char *id)
{
	size_t n = 0;

	if (!id)
		return false;
	for (; id[n]; n++)
		if (n >= 32 || !((id[n] >= 'A' && id[n] <= 'Z') || (id[n] >= 'a' && id[n] <= 'z') ||
				 (id[n] >= '0' && id[n] <= '9')))
			return false;
	return n > 0;
}

void slack_error_code(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; in && *in && o + 1 < size; in++)
		if ((*in >= 'a' && *in <= 'z') || (*in >= '0' && *in <= '9') || *in == '_' || *in == '.')
			out[o++] = *in;
	out[o] = '\0';
	if (!o)
		wk_strlcpy(out, "unknown_error", size);
}

/* ---- direct messages ---- */

#define DM_SENT_TTL_S 172800

/* One Web API answer, judged the way Slack wants: by `ok`, not the status. */
struct slack_answer {
	json_t *root;		/* the parsed body when it had an ok field */
	char code[64];		/* Slack's error code when ok:false */
	long retry_after;	/* 429: seconds, or -1 */
	bool maybe_sent;	/* no answer, but the request may have reached Slack */
};

/* One workspace's calls: whose token, and the team the rate state is kept
 * under ("-" for slack.bot_token's calls outside a Slack org). */
struct slack_ctx {
	const struct config *cfg;
	const char *team;
	char token[SLACK_TOKEN_SIZE];
};

/* The token for org_id's workspace. 0, 1 none configured (permanent), -1
 * Redis or a token that does not open (retry later); why set unless 0. */
static int ctx_open(struct slack_ctx *c, const struct config *cfg, struct store *s, const char *org_id, char *why,
		    size_t whysize)
{
	const char *team = slack_tokens_team_of(org_id);

	c->cfg = cfg;
	c->team = team ? team : "-";
	return slack_token_for(cfg, s, team, c->token, sizeof(c->token), why, whysize);
}

static void ctx_close(struct slack_ctx *c)
{
	OPENSSL_cleanse(c->token, sizeof(c->token));
}

/* ---- in-process rate state ----
 *
 * Slack limits each method per workspace and answers 429 with Retry-After;
 * until then a call of that method only earns another 429, so none is made:
 * callers hear "retry later" at once. chat.postMessage is also limited to
 * about one message a second per channel. Both tables are small and lossy
 * (a slot is reused when its time has passed or, when all of its probe run
 * is busy, the soonest-free one): losing an entry costs at most one 429. */
#define LIMIT_SLOTS 256
#define LIMIT_PROBE 8
#define LIMIT_KEY 96

struct limit_slot {
	char key[LIMIT_KEY];
	int64_t until_ms;
};

struct limit_table {
	pthread_mutex_t lock;
	struct limit_slot slot[LIMIT_SLOTS];
};

static struct limit_table method_limits = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct limit_table channel_pace = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The slot of key (with the lock held): its own, else a free or the
 * soonest-free one of its probe run, taken over. */
static struct limit_slot *limit_slot(struct limit_table *t, const char *key, int64_t now)
{
	size_t h = (size_t)(wk_hash_str(0, key) % LIMIT_SLOTS);
	struct limit_slot *spare = NULL;

	for (size_t i = 0; i < LIMIT_PROBE; i++) {
		struct limit_slot *sl = &t->slot[(h + i) % LIMIT_SLOTS];
		if (strcmp(sl->key, key) == 0)
			return sl;
		if (!spare || (spare->until_ms > now && sl->until_ms < spare->until_ms))
			spare = sl;
	}
	wk_strlcpy(spare->key, key, sizeof(spare->key));
	spare->until_ms = 0;
	return spare;
}

static void limit_key(char *out, size_t size, const char *team, const char *what)
{
	snprintf(out, size, "%s/%s", team && team[0] ? team : "-", what);
}

static long ceil_seconds(int64_t ms)
{
	return (long)((ms + 999) / 1000);
}

long slack_api_limited(const char *team, const char *method)
{
	char key[LIMIT_KEY];
	int64_t now = wk_now_ms(), until;

	limit_key(key, sizeof(key), team, method);
	pthread_mutex_lock(&method_limits.lock);
	until = limit_slot(&method_limits, key, now)->until_ms;
	pthread_mutex_unlock(&method_limits.lock);
	return until > now ? ceil_seconds(until - now) : 0;
}

void slack_api_note_429(const char *team, const char *method, long retry_after)
{
	char key[LIMIT_KEY];
	int64_t now = wk_now_ms();

	/* Without Retry-After, the SDKs' default pause. */
	if (retry_after < 0)
		retry_after = SLACK_DEFAULT_RETRY_AFTER;
	if (retry_after > 3600)
		retry_after = 3600;
	limit_key(key, sizeof(key), team, method);
	pthread_mutex_lock(&method_limits.lock);
	struct limit_slot *sl = limit_slot(&method_limits, key, now);
	if (now + retry_after * 1000 > sl->until_ms)
		sl->until_ms = now + retry_after * 1000;
	pthread_mutex_unlock(&method_limits.lock);
}

/* chat.postMessage pace, about one post a second per channel (not DMs: see
 * dm_post()). A post whose
 * turn comes within SLACK_PACE_WAIT_MS waits for it here: a page is urgent,
 * the sender thread may block for a Slack call's 10 s anyway, and the
 * outbox's retry would come back seconds later. A post further behind (more
 * than one already waiting for that channel) is "retry later" at once, so
 * sender threads never queue up behind one busy channel. 0 go, else the
 * seconds to wait. */
static long pace_channel(const char *team, const char *channel)
{
	char key[LIMIT_KEY];
	int64_t now = wk_now_ms(), wait = 0;
	long later = 0;

	limit_key(key, sizeof(key), team, channel);
	pthread_mutex_lock(&channel_pace.lock);
	struct limit_slot *sl = limit_slot(&channel_pace, key, now);
	if (sl->until_ms <= now) {
		sl->until_ms = now + SLACK_PACE_MS;
	} else if (sl->until_ms - now <= SLACK_PACE_WAIT_MS) {
		wait = sl->until_ms - now;
		sl->until_ms += SLACK_PACE_MS;
	} else {
		later = ceil_seconds(sl->until_ms - now);
	}
	pthread_mutex_unlock(&channel_pace.lock);
	if (wait > 0) {
		struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) != 0)
			;	/* EINTR */
	}
	return later;
}

/* POST body to <api>/<method>, or with ctype NULL a GET of <api>/<method>?body,
 * with c's token. 0 ok:true, 1 ok:false (a->code), -1 no usable answer
 * (transport, 429 now or still in force, no ok field); why is set for 1 and
 * -1. ok:false is logged with the method and Slack's code. */
static int slack_post(struct slack_ctx *c, const char *method, const char *ctype,
		      const char *body, size_t len, struct slack_answer *a, char *why, size_t whysize)
{
	const struct config *cfg = c->cfg;
	struct buf url = BUF_INIT(8192), target = BUF_INIT(64), hdr = BUF_INIT(128);
	struct courier_response r;
	struct courier_request req = {
		.method = ctype ? "POST" : "GET",
		.bearer = c->token,
		.body = ctype ? body : NULL,
		.body_len = ctype ? len : 0,
		.timeout_ms = SLACK_API_TIMEOUT_MS,
	};
	const char *headers[2] = { NULL, NULL };
	json_error_t jerr;
	json_t *ok;
	long wait;
	int rc = -1;

	a->root = NULL;
	a->code[0] = '\0';
	a->retry_after = -1;
	a->maybe_sent = false;
	memset(&r, 0, sizeof(r));
	if ((wait = slack_api_limited(c->team, method)) > 0) {
		a->retry_after = wait;
		snprintf(why, whysize, "Slack is rate limiting %s for this workspace; retry in %ld s (no call made)",
			 method, wait);
		goto out_nocall;
	}
	if (buf_printf(&url, "%s/%s%s%.*s", cfg->slack_api_url, method, ctype ? "" : "?",
		       ctype ? 0 : (int)len, ctype ? "" : body) < 0 ||
	    buf_printf(&target, "slack.%s", method) < 0 ||
	    (ctype && buf_printf(&hdr, "Content-Type: %s", ctype) < 0)) {
		snprintf(why, whysize, "slack.api_url is too long");
		goto out_nocall;
	}
	headers[0] = ctype ? buf_cstr(&hdr) : NULL;
	req.url = buf_cstr(&url);
	req.target = buf_cstr(&target);
	req.headers = headers;
	if (courier_call(&req, &r) < 0) {
		a->maybe_sent = r.maybe_sent;
		snprintf(why, whysize, "%s Slack %s: %s", r.maybe_sent ? "no answer from" : "could not reach",
			 method, r.error);
		goto out;
	}
	if (r.status == 429) {
		a->retry_after = r.retry_after;
		slack_api_note_429(c->team, method, r.retry_after);
		log_warn("slack.api", "method=%s team=%s status=429 retry_after=%ld", method, c->team, r.retry_after);
		if (r.retry_after >= 0)
			snprintf(why, whysize, "Slack is rate limiting %s; Retry-After %ld seconds", method,
				 r.retry_after);
		else
			snprintf(why, whysize, "Slack is rate limiting %s (429, no Retry-After)", method);
		goto out;
	}
	/* A 5xx from Slack's edge says nothing about whether the call got through. */
	a->maybe_sent = r.status >= 500;
	a->root = json_loadb(r.body, r.body_len, 0, &jerr);
	ok = json_object_get(a->root, "ok");
	if (!json_is_boolean(ok)) {
		snprintf(why, whysize, "Slack answered %s with HTTP %ld and no ok field", method, r.status);
		json_decref(a->root);
		a->root = NULL;
		goto out;
	}
	if (!json_is_true(ok)) {
		slack_error_code(json_string_value(json_object_get(a->root, "error")), a->code, sizeof(a->code));
		snprintf(why, whysize, "Slack %s said %s", method, a->code);
		log_warn("slack.api", "method=%s team=%s error=%s", method, c->team, a->code);
		rc = 1;
		goto out;
	}
	rc = 0;
out:
	courier_response_free(&r);
out_nocall:
	buf_free(&url);
	buf_free(&target);
	buf_free(&hdr);
	return rc;
}

/* Codes after which sending the same thing to the same user again can't work. */
static bool permanent_code(const char *code)
{
	static const char *const codes[] = {
		"user_not_found", "user_not_visible", "user_disabled", "cannot_dm_bot",
		"missing_scope", "msg_too_long", "no_text", "invalid_blocks", "restricted_action",
		"not_allowed_token_type", "not_in_channel", "is_archived",
	};

	for (size_t i = 0; i < ARRAY_LEN(codes); i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}

static int dm_cache_key(char *out, size_t size, const char *org_id, const char *user_id)
{
	int n = snprintf(out, size, "wk:{%s}:dm:%s", org_id, user_id);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The DM channel with user_id: from the cache unless refresh, else
 * conversations.open (and cached). 0, 1 permanent refusal, -1 retry later. */
static int dm_channel(struct slack_ctx *c, struct store *s, const char *org_id,
		      const char *user_id, bool refresh, char *ch, size_t chsize, long *retry_after,
		      char *why, size_t whysize)
{
	char key[256], body[64];
	struct slack_answer a;
	const char *id;
	redisReply *r;
	int rc;

	if (dm_cache_key(key, sizeof(key), org_id, user_id) < 0) {
		snprintf(why, whysize, "org id too long");
		return 1;
	}
	if (!refresh) {
		r = store_command(s, "GET %s", key);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, whysize, "Redis failed reading the DM channel: %s",
				 r ? "error reply" : store_error(s));
			if (r)
				freeReplyObject(r);
			return -1;
		}
		if (r->type == REDIS_REPLY_STRING && slack_id_valid(r->str) && strlen(r->str) < chsize) {
			wk_strlcpy(ch, r->str, chsize);
			freeReplyObject(r);
			return 0;
		}
		freeReplyObject(r);
	}
	/* The id is alphanumeric, so the form needs no encoding. */
	snprintf(body, sizeof(body), "users=%s", user_id);
	rc = slack_post(c, "conversations.open", "application/x-www-form-urlencoded", body,
			strlen(body), &a, why, whysize);
	if (rc < 0) {
		if (retry_after)
			*retry_after = a.retry_after;
		return -1;
	}
	if (rc == 1)
		return permanent_code(a.code) ? 1 : -1;
	id = json_string_value(json_object_get(json_object_get(a.root, "channel"), "id"));
	if (!slack_id_valid(id) || strlen(id) >= chsize) {
		snprintf(why, whysize, "Slack conversations.open answered without a channel id");
		json_decref(a.root);
		return -1;
	}
	wk_strlcpy(ch, id, chsize);
	json_decref(a.root);
	r = store_command(s, "SET %s %s", key, ch);
	if (r)
		freeReplyObject(r);	/* only a cache: a failed write costs one more open later */
	return 0;
}

/* chat.postMessage of msg (text or blocks) into channel ch, with note as the
 * message's metadata when given; or with ts_in, chat.update of that message
 * (metadata stays as posted). The message's ts into ts (may be NULL). 0, 1
 * permanent, -1 retry later, 2 unknown (the post may have reached Slack),
 * 3 channel_not_found, 4 message_not_found (chat.update of a deleted one). */
static int dm_post(struct slack_ctx *c, const char *ch, const char *ts_in, json_t *msg,
		   const struct slack_note *note, long *retry_after, char *ts, size_t tssize, char *why,
		   size_t whysize)
{
	struct slack_answer a;
	char *body;
	int rc;

	json_object_set_new(msg, "channel", json_string(ch));
	if (ts_in)
		json_object_set_new(msg, "ts", json_string(ts_in));
	if (note && !ts_in)
		json_object_set_new(msg, "metadata",
				    json_pack("{s:s, s:{s:s, s:s, s:s}}", "event_type", SLACK_NOTE_EVENT,
					      "event_payload", "org", note->org, "ref", note->ref, "ids",
					      note->ids));
	body = json_dumps(msg, JSON_COMPACT);
	if (!body) {
		snprintf(why, whysize, "could not encode the message");
		return 1;
	}
	/* A DM channel (D...) is one person's, and the outbox already paces each
	 * person's messages (bot/outbox.h); channels shared by many notifications
	 * (an alert channel's cards) are paced here. */
	if (!ts_in && ch[0] != 'D' && !slack_api_limited(c->team, "chat.postMessage")) {
		long wait = pace_channel(c->team, ch);
		if (wait > 0) {
			free(body);
			if (retry_after)
				*retry_after = wait;
			snprintf(why, whysize, "pacing posts to that channel (about one a second); retry in %ld s", wait);
			return -1;
		}
	}
	rc = slack_post(c, ts_in ? "chat.update" : "chat.postMessage", "application/json; charset=utf-8", body,
			strlen(body), &a, why, whysize);
	free(body);
	if (rc == 0 && ts)
		wk_strlcpy(ts, json_string_value(json_object_get(a.root, "ts")) ?
				       json_string_value(json_object_get(a.root, "ts")) : "", tssize);
	json_decref(a.root);
	if (rc < 0 && retry_after)
		*retry_after = a.retry_after;
	if (rc < 0 && a.maybe_sent)
		return 2;
	if (rc == 1)
		return strcmp(a.code, "channel_not_found") == 0 ? 3 : strcmp(a.code, "message_not_found") == 0 ? 4
		       : permanent_code(a.code) ? 1 : -1;
	return rc;
}

static const char *outcome_word(int rc)
{
	return rc == 0 ? "sent" : rc == 1 ? "refused" : rc == 2 ? "unknown" : "failed";
}

/* The DM path: channel lookup, post, one reopen of a channel that is gone,
 * logs and metrics. msg is a chat.postMessage body without "channel"; borrowed. */
static int dm_send(const struct config *cfg, struct store *s, const char *org_id, const char *user_id,
		   json_t *msg, const struct slack_note *note, long *retry_after, char *why, size_t whysize)
{
	struct slack_ctx ctx, *c = &ctx;
	char ch[40];
	int rc;

	why[0] = '\0';
	if (retry_after)
		*retry_after = -1;
	if ((rc = ctx_open(c, cfg, s, org_id, why, whysize)) != 0)
		goto out;
	if (!slack_id_valid(user_id)) {
		snprintf(why, whysize, "not a Slack user id");
		rc = 1;
		goto out;
	}
	rc = dm_channel(c, s, org_id, user_id, false, ch, sizeof(ch), retry_after, why, whysize);
	if (rc != 0)
		goto out;
	rc = dm_post(c, ch, NULL, msg, note, retry_after, NULL, 0, why, whysize);
	if (rc == 3) {
		/* The cached channel is gone (the user was deleted and re-added, a
		 * workspace migration): open it afresh, once. */
		rc = dm_channel(c, s, org_id, user_id, true, ch, sizeof(ch), retry_after, why, whysize);
		if (rc == 0) {
			rc = dm_post(c, ch, NULL, msg, note, retry_after, NULL, 0, why, whysize);
			if (rc == 3)
				rc = -1;
		}
	}
out:
	ctx_close(c);
	if (rc == 0) {
		metrics_outbound("slack.dm", "sent");
		log_info("slack.dm", "org=%s user=%s outcome=sent", org_id, user_id);
	} else {
		char q[200];
		metrics_outbound("slack.dm", outcome_word(rc));
		log_warn("slack.dm", "org=%s user=%s outcome=%s why=%s", org_id,
			 slack_id_valid(user_id) ? user_id : "-", outcome_word(rc),
			 log_quote(q, sizeof(q), why));
	}
	return rc;
}

json_t *slack_message_json(const struct reply *r, char *why, size_t whysize)
{
	struct buf out = BUF_INIT(256 * 1024);
	json_t *msg = NULL;
	json_error_t err;

	if (slack_adapter.render(r, &out) < 0 || !(msg = json_loadb(buf_cstr(&out), out.len, 0, &err)))
		snprintf(why, whysize, "could not render the message");
	buf_free(&out);
	if (msg) {
		json_object_del(msg, "response_type");
		json_object_del(msg, "replace_original");
	}
	return msg;
}

int slack_dm_reply(const struct config *cfg, struct store *s, const char *org_id,
		   const char *user_id, const struct reply *r, const struct slack_note *note,
		   long *retry_after, char *why, size_t whysize)
{
	json_t *msg = slack_message_json(r, why, whysize);
	int rc;

	if (!msg) {
		if (retry_after)
			*retry_after = -1;
		return 1;
	}
	rc = dm_send(cfg, s, org_id, user_id, msg, note, retry_after, why, whysize);
	json_decref(msg);
	return rc;
}

/* The channel path of a post or (ts_in) an update: checks, logs, metrics. */
static int channel_send(const struct config *cfg, struct store *s, const char *org_id, const char *channel_id,
			const char *ts_in, const struct reply *r, const struct slack_note *note, long *retry_after,
			char *ts, size_t tssize, char *why, size_t whysize)
{
	struct slack_ctx c;
	json_t *msg;
	int rc;

	if (retry_after)
		*retry_after = -1;
	why[0] = '\0';
	if (ts)
		ts[0] = '\0';
	if (!slack_id_valid(channel_id)) {
		snprintf(why, whysize, "not a Slack channel id");
		return 1;
	}
	if ((rc = ctx_open(&c, cfg, s, org_id, why, whysize)) != 0) {
		ctx_close(&c);
		return rc;
	}
	if (!(msg = slack_message_json(r, why, whysize))) {
		ctx_close(&c);
		return 1;
	}
	rc = dm_post(&c, channel_id, ts_in, msg, note, retry_after, ts, tssize, why, whysize);
	ctx_close(&c);
	json_decref(msg);
	if (rc == 3)
		rc = 1;	/* the channel is gone: nothing to reopen */
	if (rc == 1 && strstr(why, "not_in_channel"))
		snprintf(why, whysize, "the app is not in that channel; invite it there first (/invite @Watchkeeper)");
	metrics_outbound(ts_in ? "slack.channel_update" : "slack.channel", rc == 4 ? "refused" : outcome_word(rc));
	if (rc != 0) {
		char q[200];
		log_warn("slack.channel", "channel=%s call=%s outcome=%s why=%s", channel_id,
			 ts_in ? "update" : "post", rc == 4 ? "gone" : outcome_word(rc), log_quote(q, sizeof(q), why));
	}
	return rc;
}

int slack_channel_post(const struct config *cfg, struct store *s, const char *org_id, const char *channel_id,
		       const struct reply *r, const struct slack_note *note, long *retry_after, char *ts,
		       size_t tssize, char *why, size_t whysize)
{
	int rc = channel_send(cfg, s, org_id, channel_id, NULL, r, note, retry_after, ts, tssize, why, whysize);

	return rc == 4 ? -1 : rc;	/* (only chat.update says message_not_found) */
}

int slack_channel_update(const struct config *cfg, struct store *s, const char *org_id, const char *channel_id,
			 const char *ts, const struct reply *r, long *retry_after, char *why, size_t whysize)
{
	int rc = channel_send(cfg, s, org_id, channel_id, ts, r, NULL, retry_after, NULL, 0, why, whysize);

	return rc == 2 ? -1 : rc;	/* an update is safe to repeat */
}

/* ---- was it posted? ---- */

/* Calls fn for each SLACK_NOTE_EVENT message of org_id on one
 * conversations.history page (ref and ids from its metadata). 0 the last
 * page, 1 more (cursor set), -1 malformed: as slack_history_match. */
typedef void (*note_visit)(json_t *m, const char *ref, const char *ids, void *arg);
static int history_page(json_t *answer, const char *org_id, note_visit fn, void *arg, char *cursor,
			size_t cursize)
{
	json_t *messages = json_object_get(answer, "messages"), *m;
	const char *next;
	size_t i;

	if (!json_is_array(messages))
		return -1;
	json_array_foreach(messages, i, m) {
		json_t *meta = json_object_get(m, "metadata");
		json_t *p = json_object_get(meta, "event_payload");
		const char *type = json_string_value(json_object_get(meta, "event_type"));
		const char *org = json_string_value(json_object_get(p, "org"));
		const char *ref = json_string_value(json_object_get(p, "ref"));
		const char *ids = json_string_value(json_object_get(p, "ids"));

		if (!type || !org || !ref || strcmp(type, SLACK_NOTE_EVENT) != 0 || strcmp(org, org_id) != 0)
			continue;
		fn(m, ref, ids ? ids : "", arg);
	}
	if (!json_is_true(json_object_get(answer, "has_more")))
		return 0;
	/* More pages: without a usable cursor the rest can't be read, which is
	 * not the same as "not there". */
	next = json_string_value(json_object_get(json_object_get(answer, "response_metadata"), "next_cursor"));
	if (!next || !next[0] || wk_strlcpy(cursor, next, cursize) >= cursize)
		return -1;
	return 1;
}

struct refs_wanted {
	const char *const *refs;
	size_t n;
	bool *found;
};

static void mark_ref(json_t *m, const char *ref, const char *ids, void *arg)
{
	struct refs_wanted *w = arg;

	(void)m;
	(void)ids;
	for (size_t k = 0; k < w->n; k++)
		if (w->refs[k][0] && strcmp(w->refs[k], ref) == 0)
			w->found[k] = true;
}

int slack_history_match(json_t *answer, const char *org_id, const char *const *refs, size_t n,
			bool *found, char *cursor, size_t cursize)
{
	struct refs_wanted w = { refs, n, found };

	return history_page(answer, org_id, mark_ref, &w, cursor, cursize);
}

/* Reads the conversation's history since a minute before since_ms, page by
 * page, handing each note of org_id to fn. 0 read to the end, -1 could not
 * (why, *retry_after); 1 nothing of ours can be there (no token, no such
 * conversation, a DM Slack refuses). */
static int history_read(struct slack_ctx *c, struct store *s, const char *org_id, const char *conversation,
			bool dm, int64_t since_ms, note_visit fn, void *arg, long *retry_after, char *why,
			size_t whysize);

static int history_scan(const struct config *cfg, struct store *s, const char *org_id, const char *conversation,
			bool dm, int64_t since_ms, note_visit fn, void *arg, long *retry_after, char *why,
			size_t whysize)
{
	struct slack_ctx ctx, *c = &ctx;
	int rc;

	why[0] = '\0';
	*retry_after = -1;
	if (!slack_id_valid(conversation))
		return 1;	/* nothing could have been posted */
	rc = ctx_open(c, cfg, s, org_id, why, whysize);
	if (rc == 0)
		rc = history_read(c, s, org_id, conversation, dm, since_ms, fn, arg, retry_after, why, whysize);
	else if (rc == 1)
		why[0] = '\0';	/* no token: nothing could have been posted */
	ctx_close(c);
	return rc;
}

static int history_read(struct slack_ctx *c, struct store *s, const char *org_id, const char *conversation,
			bool dm, int64_t since_ms, note_visit fn, void *arg, long *retry_after, char *why,
			size_t whysize)
{
	char ch[40], oldest[32], cursor[256] = "";
	int rc;

	if (dm) {
		rc = dm_channel(c, s, org_id, conversation, false, ch, sizeof(ch), retry_after, why, whysize);
		if (rc == 1)
			return 1;	/* Slack refuses a DM with them: nothing was posted */
		if (rc < 0)
			return -1;
	} else {
		wk_strlcpy(ch, conversation, sizeof(ch));
	}
	/* A minute before the first attempt: our clock and Slack's may disagree. */
	snprintf(oldest, sizeof(oldest), "%lld.000000",
		 (long long)(since_ms > 60000 ? since_ms / 1000 - 60 : 0));
	for (int page = 0; page < SLACK_HISTORY_PAGES; page++) {
		struct buf q = BUF_INIT(2048);
		struct slack_answer a;

		form_encode_pair(&q, "channel", ch);
		form_encode_pair(&q, "oldest", oldest);
		form_encode_pair(&q, "include_all_metadata", "true");
		form_encode_pair(&q, "limit", "200");
		if (cursor[0])
			form_encode_pair(&q, "cursor", cursor);
		rc = slack_post(c, "conversations.history", NULL, buf_cstr(&q), q.len, &a, why, whysize);
		buf_free(&q);
		if (rc != 0) {
			*retry_after = a.retry_after;
			json_decref(a.root);
			if (rc == 1 && (strcmp(a.code, "channel_not_found") == 0 ||
					strcmp(a.code, "not_in_channel") == 0))
				return 1;	/* nothing of ours can be in there */
			return -1;
		}
		rc = history_page(a.root, org_id, fn, arg, cursor, sizeof(cursor));
		json_decref(a.root);
		if (rc <= 0) {
			if (rc < 0)
				snprintf(why, whysize, "Slack conversations.history answered without messages or a usable cursor");
			return rc;
		}
	}
	snprintf(why, whysize, "Slack conversations.history has more than %d pages since the first attempt",
		 SLACK_HISTORY_PAGES);
	return -1;
}

int slack_find_posted(const struct config *cfg, struct store *s, const char *org_id,
		      const char *conversation, bool dm, int64_t since_ms, const char *const *refs,
		      size_t n, bool *found, long *retry_after, char *why, size_t whysize)
{
	struct refs_wanted w = { refs, n, found };

	for (size_t k = 0; k < n; k++)
		found[k] = false;
	int rc = history_scan(cfg, s, org_id, conversation, dm, since_ms, mark_ref, &w, retry_after, why, whysize);
	return rc == 1 ? 0 : rc;
}

struct note_wanted {
	const char *ref, *id;
	char *ts;
	size_t tssize;
	bool found;
};

static void find_note(json_t *m, const char *ref, const char *ids, void *arg)
{
	struct note_wanted *w = arg;
	size_t idlen = strlen(w->id);
	const char *ts = json_string_value(json_object_get(m, "ts"));

	if (w->found || !ts || strcmp(ref, w->ref) != 0)
		return;
	for (const char *p = ids; (p = strstr(p, w->id)); p += idlen)
		if ((p == ids || p[-1] == ',') && (p[idlen] == '\0' || p[idlen] == ',')) {
			w->found = wk_strlcpy(w->ts, ts, w->tssize) < w->tssize;
			return;
		}
}

int slack_find_note(const struct config *cfg, struct store *s, const char *org_id, const char *channel,
		    int64_t since_ms, const char *ref, const char *id, char *ts, size_t tssize, long *retry_after,
		    char *why, size_t whysize)
{
	struct note_wanted w = { ref, id, ts, tssize, false };
	int rc = history_scan(cfg, s, org_id, channel, false, since_ms, find_note, &w, retry_after, why, whysize);

	if (rc < 0)
		return -1;
	return w.found ? 1 : 0;
}
