/* outbox.c - see outbox.h */
#include "bot/outbox.h"
#include "adapters/slack_api.h"
#include "adapters/twilio.h"
#include "bot/engine.h"
#include "bot/log.h"
#include "bot/mail.h"
#include "bot/member.h"
#include "bot/metrics.h"
#include "bot/org.h"
#include "bot/timers.h"
#include "bot/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUEUE "wk:{notify}:q"
#define GROUP "couriers"
#define MAX_SENDERS 16

enum send_outcome { SEND_SENT, SEND_RETRY, SEND_PERMANENT };

struct item {
	char org[96], id[24], member[64], channel[8], fallback[32], kind[16];
	char subject[160], text[4096];
	int64_t attempts;
};

/* ---- channels ---- */

typedef enum send_outcome (*channel_send)(const struct config *cfg, struct store *s,
					  const struct item *it, char *why, size_t whysize);

static enum send_outcome send_slack(const struct config *cfg, struct store *s, const struct item *it,
				    char *why, size_t whysize)
{
	int rc = slack_dm(cfg, s, it->org, it->member, it->text, why, whysize);
	return rc == 0 ? SEND_SENT : rc == 1 ? SEND_PERMANENT : SEND_RETRY;
}

static enum send_outcome send_email(const struct config *cfg, struct store *s, const struct item *it,
				    char *why, size_t whysize)
{
	struct member m;

	if (member_get(s, it->org, it->member, &m) != 0 || !m.email[0]) {
		snprintf(why, whysize, "the member has no email address");
		return SEND_PERMANENT;
	}
	/* mail_send folds every failure into one error; a server that refused
	 * the recipient says so with a 5xx code, which no retry will change. */
	if (mail_send(cfg, m.email, it->subject[0] ? it->subject : "Watchkeeper", it->text, NULL, why,
		      whysize) == 0)
		return SEND_SENT;
	return strstr(why, "SMTP 5") ? SEND_PERMANENT : SEND_RETRY;
}

static enum send_outcome send_sms(const struct config *cfg, struct store *s, const struct item *it,
				  char *why, size_t whysize)
{
	struct member m;
	struct twilio_result res;
	char callback[600], key[160];
	size_t n = strlen(cfg->public_url);

	if (member_get(s, it->org, it->member, &m) != 0 || !m.phone[0]) {
		snprintf(why, whysize, "the member has no phone number");
		return SEND_PERMANENT;
	}
	snprintf(callback, sizeof(callback), "%.*s/twilio/status",
		 (int)(n && cfg->public_url[n - 1] == '/' ? n - 1 : n), cfg->public_url);
	twilio_send_sms(cfg, m.phone, it->text, callback, &res);
	if (res.outcome != TWILIO_SENT) {
		snprintf(why, whysize, "%s", res.message);
		return res.outcome == TWILIO_RETRY ? SEND_RETRY : SEND_PERMANENT;
	}
	/* The status callback names the message by Twilio's sid: map it back. */
	if (res.sid[0] && snprintf(key, sizeof(key), "wk:notify:sid:%s", res.sid) < (int)sizeof(key)) {
		redisReply *r = store_command(s, "HSET %s org %s id %s", key, it->org, it->id);
		if (r)
			freeReplyObject(r);
		r = store_command(s, "EXPIRE %s 604800", key);
		if (r)
			freeReplyObject(r);
		char nkey[192];
		if (org_key(nkey, sizeof(nkey), it->org, "notification:%s", it->id) == 0 &&
		    (r = store_command(s, "HSET %s provider_id %s", nkey, res.sid)))
			freeReplyObject(r);
	}
	return SEND_SENT;
}

/* min_gap_ms: at most one message per person per this many ms on the channel
 * (Slack allows about one message per second per conversation); a message that
 * comes sooner waits, it isn't failed. */
static const struct channel {
	const char *name;
	channel_send send;
	int64_t min_gap_ms;
} channels[] = {
	{ "slack", send_slack, 1000 },
	{ "sms", send_sms, 0 },
	{ "email", send_email, 0 },
};

static const struct channel *channel_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(channels); i++)
		if (strcmp(channels[i].name, name) == 0)
			return &channels[i];
	return NULL;
}

int outbox_channels_for(struct store *s, const struct config *cfg, const char *org_id,
			const char *member, char *out, size_t size)
{
	struct member m;
	int got = member_get(s, org_id, member, &m);

	out[0] = '\0';
	if (got < 0)
		return -1;
	if (got > 0 || m.placeholder)
		return 0;
	if (strcmp(m.platform, "slack") == 0 && cfg->slack_bot_token[0])
		snprintf(out + strlen(out), size - strlen(out), "%sslack", out[0] ? "," : "");
	if (m.phone[0] && twilio_configured(cfg)) {
		char key[96];
		redisReply *r = NULL;
		snprintf(key, sizeof(key), "wk:phone_optout:%s", m.phone);
		r = store_command(s, "EXISTS %s", key);
		if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0)	/* they texted STOP */
			snprintf(out + strlen(out), size - strlen(out), "%ssms", out[0] ? "," : "");
		if (r)
			freeReplyObject(r);
	}
	if (m.email[0] && mail_configured(cfg))
		snprintf(out + strlen(out), size - strlen(out), "%semail", out[0] ? "," : "");
	return 0;
}

/* ---- the record and the stream ---- */

static const struct store_script enqueue_script = {
	"outbox_enqueue",
	/* KEYS: seq, notifications (org list), queue. ARGV: key prefix, org, member, channel,
	 * fallback, kind, subject, text, dedupe, now ms. Returns {0|1, id}. */
	"local p = ARGV[1]\n"
	"if ARGV[9] ~= '' then\n"
	"  local first = redis.call('GET', p .. 'notify_dedupe:' .. ARGV[9])\n"
	"  if first then return {1, first} end\n"
	"end\n"
	"local id = 'n' .. redis.call('INCR', KEYS[1])\n"
	"redis.call('HSET', p .. 'notification:' .. id, 'id', id, 'org', ARGV[2], 'member', ARGV[3],\n"
	"  'channel', ARGV[4], 'fallback', ARGV[5], 'kind', ARGV[6], 'subject', ARGV[7], 'text', ARGV[8],\n"
	"  'status', 'queued', 'attempts', 0, 'created_ms', ARGV[10], 'updated_ms', ARGV[10])\n"
	"if ARGV[9] ~= '' then redis.call('SET', p .. 'notify_dedupe:' .. ARGV[9], id, 'EX', 604800) end\n"
	"redis.call('ZADD', KEYS[2], ARGV[10], id)\n"
	"redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -5001)\n"
	"redis.call('XADD', KEYS[3], '*', 'org', ARGV[2], 'id', id)\n"
	"return {0, id}\n",
	NULL
};

int outbox_enqueue(struct store *s, const char *org_id, const struct outbox_message *m,
		   int64_t now_ms, char *id, size_t idsize)
{
	char kseq[160], klist[160], prefix[160], now[24];
	redisReply *r;
	int rc = -1;

	if (org_key(kseq, sizeof(kseq), org_id, "seq") < 0 ||
	    org_key(klist, sizeof(klist), org_id, "notifications") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 || !channel_find(m->channel))
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	/* The org's keys and the shared queue are written in one script: on one Redis
	 * that is atomic; in Cluster the queue would need its own step (see README). */
	const char *keys[] = { kseq, klist, QUEUE };
	const char *args[] = { prefix, org_id, m->member, m->channel, m->fallback ? m->fallback : "",
			       m->kind ? m->kind : "", m->subject ? m->subject : "", m->text,
			       m->dedupe ? m->dedupe : "", now };
	r = store_script(s, &enqueue_script, 3, keys, 10, args);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING) {
		wk_strlcpy(id, r->element[1]->str, idsize);
		rc = (int)r->element[0]->integer;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

static const struct store_field status_fields[] = {
	STORE_STR_FIELD("id", struct outbox_status, id),
	STORE_STR_FIELD("member", struct outbox_status, member),
	STORE_STR_FIELD("channel", struct outbox_status, channel),
	STORE_STR_FIELD("kind", struct outbox_status, kind),
	STORE_STR_FIELD("status", struct outbox_status, status),
	STORE_STR_FIELD("error", struct outbox_status, error),
	STORE_STR_FIELD("provider_id", struct outbox_status, provider_id),
	STORE_I64_FIELD("attempts", struct outbox_status, attempts),
	STORE_I64_FIELD("created_ms", struct outbox_status, created_ms),
	STORE_I64_FIELD("updated_ms", struct outbox_status, updated_ms),
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
	r = store_command(s, "HGETALL %s", key);
	if (r && r->type == REDIS_REPLY_ARRAY) {
		rc = r->elements ? 0 : 1;
		if (!rc)
			status_from_pairs(out, r);
	}
	if (r)
		freeReplyObject(r);
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

/* ---- one attempt ---- */

static const struct store_script claim_script = {
	"outbox_claim",
	/* KEYS: notification. ARGV: now ms, lease ms, owner.
	 * Returns {'go', attempts} or {'done'|'busy'|'gone'}. */
	"local st = redis.call('HGET', KEYS[1], 'status')\n"
	"if not st then return {'gone'} end\n"
	"if st == 'sent' or st == 'delivered' or st == 'failed' then return {'done'} end\n"
	"if st == 'sending' and tonumber(redis.call('HGET', KEYS[1], 'deadline_ms')) > tonumber(ARGV[1]) then\n"
	"  return {'busy'}\n"
	"end\n"
	"redis.call('HSET', KEYS[1], 'status', 'sending', 'deadline_ms', tonumber(ARGV[1]) + tonumber(ARGV[2]),\n"
	"           'owner', ARGV[3], 'updated_ms', ARGV[1])\n"
	"return {'go', redis.call('HINCRBY', KEYS[1], 'attempts', 1)}\n",
	NULL
};

static const struct store_script finish_script = {
	"outbox_finish",
	/* KEYS: notification. ARGV: status, error, now ms, owner. Only the owner of
	 * the current attempt may finish it. */
	"if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[4] or\n"
	"   redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return 0 end\n"
	"redis.call('HSET', KEYS[1], 'status', ARGV[1], 'error', ARGV[2], 'updated_ms', ARGV[3])\n"
	"return 1\n",
	NULL
};

struct sender {
	pthread_t thread;
	struct store *store;
	char owner[96];
};

static struct {
	const struct config *cfg;
	int64_t lease_ms, idle_ms;	/* OUTBOX_LEASE_MS / OUTBOX_IDLE_MS unless a test shortens them */
	struct sender senders[MAX_SENDERS];
	size_t n;
	atomic_bool stop;
	bool started;
} ob;

static int load_item(struct store *s, const char *org, const char *id, struct item *it)
{
	char key[192];
	redisReply *r;
	int rc = -1;

	memset(it, 0, sizeof(*it));
	wk_strlcpy(it->org, org, sizeof(it->org));
	wk_strlcpy(it->id, id, sizeof(it->id));
	if (org_key(key, sizeof(key), org, "notification:%s", id) < 0)
		return -1;
	r = store_command(s, "HMGET %s member channel fallback kind subject text attempts", key);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 7 && r->element[0]->type == REDIS_REPLY_STRING) {
		char *fields[] = { it->member, it->channel, it->fallback, it->kind, it->subject, it->text };
		size_t sizes[] = { sizeof(it->member), sizeof(it->channel), sizeof(it->fallback),
				   sizeof(it->kind), sizeof(it->subject), sizeof(it->text) };
		for (size_t i = 0; i < 6; i++)
			if (r->element[i]->type == REDIS_REPLY_STRING)
				wk_strlcpy(fields[i], r->element[i]->str, sizes[i]);
		if (r->element[6]->type == REDIS_REPLY_STRING)
			wk_parse_i64(r->element[6]->str, 0, INT64_MAX, &it->attempts);
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

static void finish(struct sender *sd, const struct item *it, const char *status, const char *why)
{
	char key[192], now[24];
	redisReply *r;

	if (org_key(key, sizeof(key), it->org, "notification:%s", it->id) < 0)
		return;
	snprintf(now, sizeof(now), "%lld", (long long)wk_now_ms());
	const char *keys[] = { key };
	const char *args[] = { status, why, now, sd->owner };
	r = store_script(sd->store, &finish_script, 1, keys, 4, args);
	if (r)
		freeReplyObject(r);
}

/* Queue the same message on the next channel of the fallback list, at once. */
static void fall_back(struct sender *sd, const struct item *it)
{
	char next[16], rest[32], id[24];
	const char *comma = strchr(it->fallback, ',');
	size_t n = comma ? (size_t)(comma - it->fallback) : strlen(it->fallback);

	if (!n || n >= sizeof(next))
		return;
	memcpy(next, it->fallback, n);
	next[n] = '\0';
	wk_strlcpy(rest, comma ? comma + 1 : "", sizeof(rest));
	struct outbox_message m = { it->member, next, rest, it->kind, it->subject, it->text, "" };
	if (!channel_find(next) || outbox_enqueue(sd->store, it->org, &m, wk_now_ms(), id, sizeof(id)) < 0)
		return;
	log_info("notify.fallback", "org=%s notification=%s next=%s channel=%s", it->org, it->id, id, next);
}

/* The per-person pace of a channel, across every instance: one atomic SET NX
 * PX. Returns true when the message may go now. */
static bool pace_ok(struct sender *sd, const char *org, const char *id, const char *member,
		    const struct channel *ch)
{
	char key[192], gap[24];
	redisReply *r;
	bool ok = true;

	if (!ch->min_gap_ms || !member[0] ||
	    org_key(key, sizeof(key), org, "pace:%s:%s", ch->name, member) < 0)
		return true;
	snprintf(gap, sizeof(gap), "%lld", (long long)ch->min_gap_ms);
	r = store_command(sd->store, "SET %s %s PX %s NX", key, id, gap);
	if (r && r->type == REDIS_REPLY_NIL) {
		/* Too soon after the last one: come back when the gap has passed. */
		char tid[TIMER_ID_MAX];
		snprintf(tid, sizeof(tid), "notify:%s:%s", org, id);
		timer_schedule(sd->store, tid, "notify_retry", org, id, wk_now_ms() + ch->min_gap_ms);
		ok = false;
	}
	if (r)
		freeReplyObject(r);
	return ok;
}

static void attempt(struct sender *sd, const char *org, const char *id)
{
	char key[192], now[24], lease[16], why[256] = "", q[300], chan[8] = "", member[64] = "";
	struct item it;
	redisReply *r;
	const struct channel *ch;

	if (!org_member_id_valid(id) || org_key(key, sizeof(key), org, "notification:%s", id) < 0)
		return;
	r = store_command(sd->store, "HMGET %s channel status member", key);
	bool open = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		    r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
		    r->element[2]->type == REDIS_REPLY_STRING &&
		    (strcmp(r->element[1]->str, "queued") == 0 || strcmp(r->element[1]->str, "retry") == 0);
	if (open) {
		wk_strlcpy(chan, r->element[0]->str, sizeof(chan));
		wk_strlcpy(member, r->element[2]->str, sizeof(member));
	}
	if (r)
		freeReplyObject(r);
	if (open && (ch = channel_find(chan)) && !pace_ok(sd, org, id, member, ch))
		return;
	snprintf(now, sizeof(now), "%lld", (long long)wk_now_ms());
	snprintf(lease, sizeof(lease), "%lld", (long long)ob.lease_ms);
	const char *keys[] = { key };
	const char *args[] = { now, lease, sd->owner };
	r = store_script(sd->store, &claim_script, 1, keys, 3, args);
	bool go = r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
		  r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "go") == 0;
	if (r)
		freeReplyObject(r);
	if (!go || load_item(sd->store, org, id, &it) < 0 || !(ch = channel_find(it.channel)))
		return;

	enum send_outcome o = ch->send(ob.cfg, sd->store, &it, why, sizeof(why));
	metrics_outbound(it.channel, o == SEND_SENT ? "sent" : o == SEND_RETRY ? "retry" : "failed");
	if (o == SEND_SENT) {
		finish(sd, &it, "sent", "");
		log_info("notify.sent", "org=%s notification=%s channel=%s attempts=%lld", org, id, it.channel,
			 (long long)it.attempts);
		return;
	}
	log_warn("notify.attempt", "org=%s notification=%s channel=%s attempt=%lld outcome=%s why=%s", org,
		 id, it.channel, (long long)it.attempts, o == SEND_RETRY ? "retry" : "permanent",
		 log_quote(q, sizeof(q), why));
	if (o == SEND_RETRY && it.attempts < OUTBOX_MAX_ATTEMPTS) {
		/* 2 s, 4 s, 8 s, 16 s with up to 50 % jitter, through a durable timer. */
		char tid[TIMER_ID_MAX];
		unsigned seed = (unsigned)wk_mono_us();
		int64_t delay = 1000LL << it.attempts;
		delay += (int64_t)(rand_r(&seed) % (unsigned)(delay / 2 + 1));
		snprintf(tid, sizeof(tid), "notify:%s:%s", org, id);
		finish(sd, &it, "retry", why);
		timer_schedule(sd->store, tid, "notify_retry", org, id, wk_now_ms() + delay);
		return;
	}
	finish(sd, &it, "failed", why);
	fall_back(sd, &it);
}

static void handle_entries(struct sender *sd, redisReply *entries)
{
	for (size_t i = 0; entries && entries->type == REDIS_REPLY_ARRAY && i < entries->elements; i++) {
		redisReply *e = entries->element[i];
		const char *org = NULL, *id = NULL;
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		redisReply *f = e->element[1];
		for (size_t k = 0; k + 1 < f->elements; k += 2) {
			if (strcmp(f->element[k]->str, "org") == 0)
				org = f->element[k + 1]->str;
			else if (strcmp(f->element[k]->str, "id") == 0)
				id = f->element[k + 1]->str;
		}
		if (org && id)
			attempt(sd, org, id);
		redisReply *ack = store_command(sd->store, "XACK %s %s %s", QUEUE, GROUP, e->element[0]->str);
		if (ack)
			freeReplyObject(ack);
	}
}

/* Every few seconds one sender measures the queue and trims it: everything
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

static void maintain(struct sender *sd)
{
	const char *keys[] = { QUEUE };
	const char *args[] = { GROUP };
	redisReply *r = store_script(sd->store, &maintain_script, 1, keys, 1, args);

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

static void *sender_main(void *arg)
{
	struct sender *sd = arg;
	int64_t next_reclaim = 0;

	while (!atomic_load(&ob.stop)) {
		redisReply *r = store_command(sd->store, "XREADGROUP GROUP %s %s COUNT 8 BLOCK 500 STREAMS %s >",
					      GROUP, sd->owner, QUEUE);
		if (!r) {
			usleep(200000);	/* Redis down: the store backs off */
			continue;
		}
		if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "NOGROUP")) {
			/* No stream until the first notification; then the group reads it from
			 * the start (0). Creating it earlier would leave a key in an idle Redis. */
			redisReply *g = store_command(sd->store, "XGROUP CREATE %s %s 0", QUEUE, GROUP);
			bool none = !g || g->type == REDIS_REPLY_ERROR;
			if (g)
				freeReplyObject(g);
			if (none)
				usleep(500000);	/* nothing queued yet */
		} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
			   r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2) {
			handle_entries(sd, r->element[0]->element[1]);
		}
		freeReplyObject(r);
		if (wk_now_ms() >= next_reclaim) {
			/* Entries a crashed sender read but never acknowledged. */
			char idle[24];
			snprintf(idle, sizeof(idle), "%lld", (long long)ob.idle_ms);
			redisReply *c = store_command(sd->store, "XAUTOCLAIM %s %s %s %s 0-0 COUNT 8", QUEUE, GROUP,
						      sd->owner, idle);
			if (c && c->type == REDIS_REPLY_ARRAY && c->elements >= 2)
				handle_entries(sd, c->element[1]);
			if (c)
				freeReplyObject(c);
			next_reclaim = wk_now_ms() + (ob.idle_ms < 5000 ? ob.idle_ms : 5000);
			if (sd == &ob.senders[0])
				maintain(sd);
		}
	}
	return NULL;
}

int outbox_retry_fire(struct engine_ctx *ctx)
{
	redisReply *r = store_command(ctx->store, "XADD %s * org %s id %s", QUEUE, ctx->timer->org,
				      ctx->timer->payload);
	int ok = r && r->type == REDIS_REPLY_STRING;

	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

int outbox_start(const struct config *cfg)
{
	char host[64] = "host";

	ob.cfg = cfg;
	ob.lease_ms = OUTBOX_LEASE_MS;
	ob.idle_ms = OUTBOX_IDLE_MS;
	/* Test-only: a short lease so crash tests don't wait a minute. */
	const char *t = getenv("WK_TEST_NOTIFY_LEASE_MS");
	int64_t v;
	if (t && wk_parse_i64(t, 100, OUTBOX_LEASE_MS, &v))
		ob.lease_ms = ob.idle_ms = v;
	ob.n = (size_t)cfg->notify_senders;
	if (ob.n > MAX_SENDERS)
		ob.n = MAX_SENDERS;
	gethostname(host, sizeof(host) - 1);
	for (size_t i = 0; i < ob.n; i++) {
		struct sender *sd = &ob.senders[i];
		unsigned char rnd[4] = { 0 };
		snprintf(sd->owner, sizeof(sd->owner), "%s:%d:%zu:%08x", host, (int)getpid(), i,
			 (unsigned)wk_mono_us() ^ (unsigned)(rnd[0] | i << 8));
		sd->store = store_open(cfg->redis_url, cfg->redis_timeout_ms + 1000);
		if (pthread_create(&sd->thread, NULL, sender_main, sd) != 0) {
			store_close(sd->store);
			ob.n = i;
			return -1;
		}
	}
	ob.started = true;
	return 0;
}

void outbox_stop(void)
{
	if (!ob.started)
		return;
	atomic_store(&ob.stop, true);
	for (size_t i = 0; i < ob.n; i++) {
		pthread_join(ob.senders[i].thread, NULL);
		store_close(ob.senders[i].store);
	}
	ob.started = false;
}
