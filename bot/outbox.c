/* outbox.c - see outbox.h */
#include "bot/outbox.h"
#include "adapters/slack_api.h"
#include "adapters/twilio.h"
#include "bot/engine.h"
#include "bot/log.h"
#include "bot/buf.h"
#include "bot/mail.h"
#include "bot/member.h"
#include "bot/metrics.h"
#include "bot/org.h"
#include "bot/reply.h"
#include "bot/timers.h"
#include "bot/util.h"

#include <pthread.h>
#include <semaphore.h>
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
	char org[96], id[24], member[64], channel[16], fallback[32], kind[16], page[24];
	char subject[160], text[4096], buttons[OUTBOX_BUTTONS_MAX];
	int64_t attempts;
};

/* What one claim took: one person, one channel, sent as one message. */
struct batch {
	struct item items[OUTBOX_BUNDLE_MAX];
	size_t n;
};

/* ---- channels ---- */

/* One send of a whole batch. retry_ms: at least this long before a retry
 * (Retry-After), 0 = the usual backoff. */
typedef enum send_outcome (*channel_send)(const struct config *cfg, struct store *s,
					  const struct batch *b, char *why, size_t whysize,
					  int64_t *retry_ms);

/* The page number people answer with: "p42" -> "42". */
static const char *page_number(const struct item *it)
{
	return it->page[0] == 'p' ? it->page + 1 : it->page;
}

/* Buttons travel with a notification as "label US action US value US style RS"
 * (ASCII unit and record separators: labels and ids never contain them). */
#define UNIT "\x1f"
#define RECORD "\x1e"

int outbox_buttons_encode(const struct reply *r, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->nbuttons; i++) {
		const struct reply_button *b = &r->buttons[i];
		int n = snprintf(out + len, size - len, "%s" UNIT "%s" UNIT "%s" UNIT "%d" RECORD, b->label,
				 b->action_id, b->value, (int)b->style);
		if (n < 0 || (size_t)n >= size - len) {
			out[0] = '\0';
			return -1;
		}
		len += (size_t)n;
	}
	return 0;
}

static void buttons_decode(const char *in, struct reply *r)
{
	char copy[OUTBOX_BUTTONS_MAX], *save = NULL;

	wk_strlcpy(copy, in, sizeof(copy));
	for (char *rec = strtok_r(copy, RECORD, &save); rec; rec = strtok_r(NULL, RECORD, &save)) {
		char *f[4], *fs = NULL;
		size_t n = 0;
		for (char *t = strtok_r(rec, UNIT, &fs); t && n < 4; t = strtok_r(NULL, UNIT, &fs))
			f[n++] = t;
		if (n == 4)
			reply_button(r, f[0], f[1], f[2], (enum button_style)(f[3][0] - '0'));
	}
}

/* The text of a batch: one message as it is, several under one headline. */
static void batch_text(const struct batch *b, struct buf *out)
{
	if (b->n == 1) {
		buf_adds(out, b->items[0].text);
		return;
	}
	buf_printf(out, "%zu notifications from Watchkeeper:", b->n);
	for (size_t i = 0; i < b->n; i++)
		buf_printf(out, "\n\n%zu. %s", i + 1, b->items[i].text);
}

static enum send_outcome send_slack(const struct config *cfg, struct store *s, const struct batch *b,
				    char *why, size_t whysize, int64_t *retry_ms)
{
	struct reply r;
	long retry_after = -1;
	int rc;

	reply_init(&r);
	batch_text(b, &r.text);
	for (size_t i = 0; i < b->n; i++) {
		char label[48];
		buttons_decode(b->items[i].buttons, &r);
		if (!b->items[i].page[0])
			continue;
		snprintf(label, sizeof(label), b->n == 1 ? "Acknowledge" : "Acknowledge #%s",
			 page_number(&b->items[i]));
		reply_button(&r, label, "oncall.page_ack", b->items[i].page, BUTTON_PRIMARY);
	}
	rc = slack_dm_reply(cfg, s, b->items[0].org, b->items[0].member, &r, &retry_after, why, whysize);
	reply_free(&r);
	if (retry_after > 0)
		*retry_ms = retry_after * 1000;
	return rc == 0 ? SEND_SENT : rc == 1 ? SEND_PERMANENT : SEND_RETRY;
}

/* A post into a Slack channel: the batch's "member" is the channel id. */
static enum send_outcome send_slack_channel(const struct config *cfg, struct store *s,
					    const struct batch *b, char *why, size_t whysize, int64_t *retry_ms)
{
	struct reply r;
	long retry_after = -1;
	int rc;

	(void)s;
	reply_init(&r);
	batch_text(b, &r.text);
	for (size_t i = 0; i < b->n; i++)
		buttons_decode(b->items[i].buttons, &r);
	rc = slack_channel_post(cfg, b->items[0].member, &r, &retry_after, why, whysize);
	reply_free(&r);
	if (retry_after > 0)
		*retry_ms = retry_after * 1000;
	return rc == 0 ? SEND_SENT : rc == 1 ? SEND_PERMANENT : SEND_RETRY;
}

/* How to acknowledge by SMS or mail: the page numbers in the batch. */
static void ack_hint(const struct batch *b, const char *how, struct buf *out)
{
	size_t pages = 0;

	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].page[0])
			buf_printf(out, "%s%s", pages++ ? ", " : how, page_number(&b->items[i]));
	if (pages)
		buf_adds(out, pages == 1 ? " to acknowledge." : " with each number to acknowledge.");
}

static enum send_outcome send_email(const struct config *cfg, struct store *s, const struct batch *b,
				    char *why, size_t whysize, int64_t *retry_ms)
{
	struct member m;
	struct buf text = BUF_INIT(64 * 1024);
	char subject[160];
	int rc;

	(void)retry_ms;
	if (member_get(s, b->items[0].org, b->items[0].member, &m) != 0 || !m.email[0]) {
		snprintf(why, whysize, "the member has no email address");
		return SEND_PERMANENT;
	}
	batch_text(b, &text);
	ack_hint(b, "\n\nAcknowledge with the button in chat, or text ACK ", &text);
	if (b->n == 1)
		wk_strlcpy(subject, b->items[0].subject[0] ? b->items[0].subject : "Watchkeeper", sizeof(subject));
	else
		snprintf(subject, sizeof(subject), "%zu notifications from Watchkeeper", b->n);
	/* mail_send folds every failure into one error; a server that refused
	 * the recipient says so with a 5xx code, which no retry will change. */
	rc = mail_send(cfg, m.email, subject, buf_cstr(&text), NULL, why, whysize);
	buf_free(&text);
	if (rc == 0)
		return SEND_SENT;
	return strstr(why, "SMTP 5") ? SEND_PERMANENT : SEND_RETRY;
}

/* Cut s to at most max characters (not bytes), on a character boundary. */
static void utf8_cut(struct buf *s, size_t max)
{
	size_t chars = 0;

	for (size_t i = 0; i < s->len; i++) {
		if (((unsigned char)s->data[i] & 0xC0) != 0x80 && ++chars > max) {
			s->len = i;
			s->data[i] = '\0';
			return;
		}
	}
}

static const struct store_script sid_script = {
	"outbox_sid",
	/* KEYS: wk:notify:sid:<sid>. ARGV: org, key prefix, sid, notification ids.
	 * The status callback names the message by Twilio's sid: map it to the
	 * first of a bundle (one SMS has one status); all record the sid. */
	"redis.call('HSET', KEYS[1], 'org', ARGV[1], 'id', ARGV[4])\n"
	"redis.call('EXPIRE', KEYS[1], 604800)\n"
	"for i = 4, #ARGV do redis.call('HSET', ARGV[2] .. 'notification:' .. ARGV[i], 'provider_id', ARGV[3]) end\n"
	"return 1\n",
	NULL
};

static enum send_outcome send_sms(const struct config *cfg, struct store *s, const struct batch *b,
				  char *why, size_t whysize, int64_t *retry_ms)
{
	struct member m;
	struct twilio_result res;
	struct buf body = BUF_INIT(16 * 1024), hint = BUF_INIT(512);
	char callback[600], key[160];
	size_t n = strlen(cfg->public_url);

	if (member_get(s, b->items[0].org, b->items[0].member, &m) != 0 || !m.phone[0]) {
		snprintf(why, whysize, "the member has no phone number");
		return SEND_PERMANENT;
	}
	/* The way to answer must survive Twilio's length cap: cut the text, not it. */
	ack_hint(b, "\nReply ACK ", &hint);
	batch_text(b, &body);
	utf8_cut(&body, TWILIO_BODY_MAX_CHARS - 1 - hint.len);
	buf_adds(&body, buf_cstr(&hint));
	snprintf(callback, sizeof(callback), "%.*s/twilio/status",
		 (int)(n && cfg->public_url[n - 1] == '/' ? n - 1 : n), cfg->public_url);
	twilio_send_sms(cfg, m.phone, buf_cstr(&body), callback, &res);
	buf_free(&body);
	buf_free(&hint);
	if (res.outcome != TWILIO_SENT) {
		snprintf(why, whysize, "%s", res.message);
		if (res.retry_after > 0)
			*retry_ms = res.retry_after * 1000;
		return res.outcome == TWILIO_RETRY ? SEND_RETRY : SEND_PERMANENT;
	}
	/* The status callback names the message by Twilio's sid: map it back (to
	 * the first of a bundle; one SMS has one status). */
	char prefix[160];
	if (res.sid[0] && snprintf(key, sizeof(key), "wk:notify:sid:%s", res.sid) < (int)sizeof(key) &&
	    org_key(prefix, sizeof(prefix), b->items[0].org, "%s", "") == 0) {
		const char *args[3 + OUTBOX_BUNDLE_MAX];
		int nargs = 0;
		args[nargs++] = b->items[0].org;
		args[nargs++] = prefix;
		args[nargs++] = res.sid;
		for (size_t i = 0; i < b->n; i++)
			args[nargs++] = b->items[i].id;
		const char *keys[] = { key };
		redisReply *r = store_script(s, &sid_script, 1, keys, nargs, args);
		if (r)
			freeReplyObject(r);	/* only bookkeeping: a lost mapping costs a delivery report */
	}
	return SEND_SENT;
}

static int64_t slack_gap_ms(const struct config *cfg)
{
	(void)cfg;
	return 1000;	/* Slack: about one message a second per conversation */
}

static int64_t unlimited(const struct config *cfg)
{
	(void)cfg;
	return 0;
}

static int64_t sms_in_flight(const struct config *cfg) { return cfg->twilio_max_in_flight; }
static int64_t sms_per_second(const struct config *cfg) { return cfg->twilio_max_per_second; }
static int64_t sms_gap_ms(const struct config *cfg) { return cfg->notify_sms_gap_s * 1000; }
static int64_t sms_per_hour(const struct config *cfg) { return cfg->notify_sms_per_hour; }
static int64_t email_gap_ms(const struct config *cfg) { return cfg->notify_email_gap_s * 1000; }
static int64_t email_per_hour(const struct config *cfg) { return cfg->notify_email_per_hour; }

/* The send interface a channel plugs into (Teams adds a row).
 * Per provider: at most in_flight sends at once from this instance (0 = the
 * senders are the only bound) and per_second across all instances (0 = none).
 * Per person, held in Redis so it covers every instance: at most one message
 * per min_gap, at most per_hour in any hour. A message that comes too soon
 * waits for its turn, and what piles up meanwhile goes out as one. */
static const struct channel {
	const char *name;
	channel_send send;
	int64_t (*in_flight)(const struct config *cfg);
	int64_t (*per_second)(const struct config *cfg);
	int64_t (*min_gap_ms)(const struct config *cfg);
	int64_t (*per_hour)(const struct config *cfg);
} channels[] = {
	{ "slack", send_slack, unlimited, unlimited, slack_gap_ms, unlimited },
	{ "slack_channel", send_slack_channel, unlimited, unlimited, slack_gap_ms, unlimited },
	{ "sms", send_sms, sms_in_flight, sms_per_second, sms_gap_ms, sms_per_hour },
	{ "email", send_email, unlimited, unlimited, email_gap_ms, email_per_hour },
};

/* Which channel carries "chat" for people of each platform (Teams adds a row). */
static const struct {
	const char *platform;
	const char *channel;
} chat_channels[] = {
	{ "slack", "slack" },
};

const char *outbox_chat_channel(const char *platform)
{
	for (size_t i = 0; i < ARRAY_LEN(chat_channels); i++)
		if (strcmp(chat_channels[i].platform, platform) == 0)
			return chat_channels[i].channel;
	return NULL;
}

bool outbox_is_chat_channel(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(chat_channels); i++)
		if (strcmp(chat_channels[i].channel, name) == 0)
			return true;
	return false;
}

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

/* One notification into the org's records and the shared queue, as a Lua
 * function so a page can queue its first messages in the same script that
 * creates it (page.c). p is the org's key prefix. Returns {0, id} queued,
 * {1, first id} a duplicate of dedupe, {2, ''} its page is acknowledged. */
const char OUTBOX_ENQUEUE_LUA[] =
	"local function wk_enqueue(p, queue, org, member, channel, fallback, kind, subject, text,\n"
	"                          dedupe, page, now, buttons)\n"
	"  -- A page sends at most once per channel, whichever step or fallback gets there first.\n"
	"  if dedupe == '' and page ~= '' then dedupe = 'page:' .. page .. ':' .. channel end\n"
	"  if dedupe ~= '' then\n"
	"    local first = redis.call('GET', p .. 'notify_dedupe:' .. dedupe)\n"
	"    if first then return {1, first} end\n"
	"  end\n"
	"  if page ~= '' and redis.call('HEXISTS', p .. 'page:' .. page, 'acked_ms') == 1 then\n"
	"    return {2, ''}\n"
	"  end\n"
	"  local id = 'n' .. redis.call('INCR', p .. 'seq')\n"
	"  redis.call('HSET', p .. 'notification:' .. id, 'id', id, 'org', org, 'member', member,\n"
	"    'channel', channel, 'fallback', fallback, 'kind', kind, 'subject', subject, 'text', text,\n"
	"    'page', page, 'buttons', buttons or '', 'status', 'queued', 'attempts', 0,\n"
	"    'created_ms', now, 'updated_ms', now)\n"
	"  local key = p .. 'notification:' .. id\n"
	"  redis.call('XADD', key .. ':events', 'MAXLEN', '~', 100, '*', 'status', 'queued', 'ts', now)\n"
	"  redis.call('EXPIRE', key, 604800)\n"
	"  redis.call('EXPIRE', key .. ':events', 604800)\n"
	"  if dedupe ~= '' then redis.call('SET', p .. 'notify_dedupe:' .. dedupe, id, 'EX', 604800) end\n"
	"  redis.call('ZADD', p .. 'notifications', now, id)\n"
	"  redis.call('ZREMRANGEBYRANK', p .. 'notifications', 0, -5001)\n"
	"  redis.call('ZADD', p .. 'waiting:' .. channel .. ':' .. member, now, id)\n"
	"  redis.call('XADD', queue, '*', 'org', org, 'id', id)\n"
	"  return {0, id}\n"
	"end\n";

static const struct store_script enqueue_script = {
	"outbox_enqueue",
	/* KEYS: queue. ARGV: key prefix, org, member, channel, fallback, kind,
	 * subject, text, dedupe, page, now ms, buttons. */
	"return wk_enqueue(ARGV[1], KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7],\n"
	"                  ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12])\n",
	OUTBOX_ENQUEUE_LUA
};

int outbox_enqueue(struct store *s, const char *org_id, const struct outbox_message *m,
		   int64_t now_ms, char *id, size_t idsize)
{
	char prefix[160], now[24];
	redisReply *r;
	int rc = -1;

	if (org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 || !channel_find(m->channel))
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	/* The org's keys and the shared queue are written in one script: on one Redis
	 * that is atomic; in Cluster the queue would need its own step (see README). */
	const char *keys[] = { QUEUE };
	const char *args[] = { prefix, org_id, m->member, m->channel, m->fallback ? m->fallback : "",
			       m->kind ? m->kind : "", m->subject ? m->subject : "", m->text,
			       m->dedupe ? m->dedupe : "", m->page ? m->page : "", now,
			       m->buttons ? m->buttons : "" };
	r = store_script(s, &enqueue_script, 1, keys, 12, args);
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

/* ---- one attempt ---- */

static const struct store_script claim_script = {
	"outbox_claim",
	/* KEYS: notification. ARGV: now ms, lease ms, owner, key prefix, bundle max,
	 * limits ("channel:gap ms:per hour:per second,...").
	 * A message not sent yet first waits its turn: the person's pace on the
	 * channel (at most one per gap, per_hour in any hour; in the org's slot) and
	 * the provider's rate (per second, in the queue's slot, across instances).
	 * Then it is marked `sending` until now + lease and the attempt counted;
	 * the same is done for whatever else waits for that person on that channel
	 * (up to bundle max in all), so a pile-up goes out as one message. Anything
	 * whose page was acknowledged meanwhile is cancelled instead.
	 * Returns {'go', id, ...} (oldest first), {'wait', ms}, {'busy', deadline ms},
	 * {'done'|'gone'}, or {'unknown'} for a channel not in limits (a newer
	 * instance's: left for it). */
	"local now, p = tonumber(ARGV[1]), ARGV[4]\n"
	"local function acked(key)\n"
	"  local page = redis.call('HGET', key, 'page')\n"
	"  return page and page ~= '' and redis.call('HEXISTS', p .. 'page:' .. page, 'acked_ms') == 1\n"
	"end\n"
	"local function event(key, ...)\n"
	"  redis.call('XADD', key .. ':events', 'MAXLEN', '~', 100, '*', 'ts', now, ...)\n"
	"end\n"
	"local function take(key)\n"
	"  redis.call('HSET', key, 'status', 'sending', 'deadline_ms', now + tonumber(ARGV[2]),\n"
	"             'owner', ARGV[3], 'updated_ms', now)\n"
	"  event(key, 'status', 'sending', 'attempt', redis.call('HINCRBY', key, 'attempts', 1))\n"
	"end\n"
	"local function cancel(key)\n"
	"  redis.call('HSET', key, 'status', 'cancelled', 'error', 'acknowledged before it was sent',\n"
	"             'updated_ms', now)\n"
	"  event(key, 'status', 'cancelled', 'error', 'acknowledged before it was sent')\n"
	"end\n"
	"local st, ch, member, id, deadline = unpack(redis.call('HMGET', KEYS[1], 'status', 'channel',\n"
	"                                                      'member', 'id', 'deadline_ms'))\n"
	"if not st then return {'gone'} end\n"
	"local waiting = p .. 'waiting:' .. ch .. ':' .. member\n"
	"if st ~= 'queued' and st ~= 'retry' and st ~= 'sending' then\n"
	"  redis.call('ZREM', waiting, id)\n"
	"  return {'done'}\n"
	"end\n"
	"if st == 'sending' and tonumber(deadline) > now then return {'busy', deadline} end\n"
	"if acked(KEYS[1]) then redis.call('ZREM', waiting, id); cancel(KEYS[1]); return {'done'} end\n"
	"local gap, cap, rate = string.match(',' .. ARGV[6], ',' .. ch .. ':(%d+):(%d+):(%d+)')\n"
	"if not gap then return {'unknown'} end\n"
	"gap, cap, rate = tonumber(gap), tonumber(cap), tonumber(rate)\n"
	"if st ~= 'sending' then\n"
	"  local pace, wait = p .. 'pace:' .. ch .. ':' .. member, 0\n"
	"  if gap > 0 or cap > 0 then\n"
	"    redis.call('ZREMRANGEBYSCORE', pace, '-inf', now - 3600000)\n"
	"    local last = redis.call('ZREVRANGE', pace, 0, 0, 'WITHSCORES')\n"
	"    if last[2] and now - tonumber(last[2]) < gap then wait = tonumber(last[2]) + gap - now end\n"
	"    if cap > 0 and redis.call('ZCARD', pace) >= cap then\n"
	"      local first = redis.call('ZRANGE', pace, 0, 0, 'WITHSCORES')\n"
	"      wait = math.max(wait, tonumber(first[2]) + 3600000 - now)\n"
	"    end\n"
	"  end\n"
	"  if wait > 0 then return {'wait', tostring(wait)} end\n"
	"  if rate > 0 then\n"
	"    local second = 'wk:{notify}:rate:' .. ch .. ':' .. math.floor(now / 1000)\n"
	"    if redis.call('INCR', second) == 1 then redis.call('EXPIRE', second, 2) end\n"
	"    if tonumber(redis.call('GET', second)) > rate then\n"
	"      return {'wait', tostring(1000 - now % 1000 + math.random(0, 199))}\n"
	"    end\n"
	"  end\n"
	"  if gap > 0 or cap > 0 then\n"
	"    redis.call('ZADD', pace, now, id)\n"
	"    redis.call('PEXPIRE', pace, math.max(gap, cap > 0 and 3600000 or 0) + 1000)\n"
	"  end\n"
	"end\n"
	"redis.call('ZREM', waiting, id)\n"
	"take(KEYS[1])\n"
	"local out = {'go', id}\n"
	"for _, other in ipairs(redis.call('ZRANGE', waiting, 0, tonumber(ARGV[5]) * 2)) do\n"
	"  if #out > tonumber(ARGV[5]) then break end\n"
	"  local key = p .. 'notification:' .. other\n"
	"  local ost = redis.call('HGET', key, 'status')\n"
	"  if ost == 'queued' or ost == 'retry' then\n"
	"    redis.call('ZREM', waiting, other)\n"
	"    if acked(key) then cancel(key) else take(key); out[#out + 1] = other end\n"
	"  elseif ost ~= 'sending' then\n"
	"    redis.call('ZREM', waiting, other)\n"
	"  end\n"
	"end\n"
	"-- Oldest first: ids grow with the org's sequence.\n"
	"local ids = {unpack(out, 2)}\n"
	"table.sort(ids, function(a, b) return tonumber(string.sub(a, 2)) < tonumber(string.sub(b, 2)) end)\n"
	"return {'go', unpack(ids)}\n",
	NULL
};

static const struct store_script finish_script = {
	"outbox_finish",
	/* KEYS: notification. ARGV: status, error, now ms, owner, key prefix. Only the
	 * owner of the current attempt may finish it. A retry waits again (and may
	 * then be bundled with what came meanwhile). */
	"if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[4] or\n"
	"   redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return 0 end\n"
	"redis.call('HSET', KEYS[1], 'status', ARGV[1], 'error', ARGV[2], 'updated_ms', ARGV[3])\n"
	"redis.call('XADD', KEYS[1] .. ':events', 'MAXLEN', '~', 100, '*', 'ts', ARGV[3], 'status', ARGV[1],\n"
	"           'error', ARGV[2])\n"
	"if ARGV[1] == 'retry' then\n"
	"  local ch, member, id = unpack(redis.call('HMGET', KEYS[1], 'channel', 'member', 'id'))\n"
	"  redis.call('ZADD', ARGV[5] .. 'waiting:' .. ch .. ':' .. member, ARGV[3], id)\n"
	"end\n"
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
	sem_t slots[ARRAY_LEN(channels)];	/* a channel's in_flight bound, when it has one */
	char limits[256];	/* for the claim: "channel:gap ms:per hour:per second,..." */
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
	r = store_command(s, "HMGET %s member channel fallback kind subject text page buttons attempts", key);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 9 && r->element[0]->type == REDIS_REPLY_STRING) {
		char *fields[] = { it->member, it->channel, it->fallback, it->kind, it->subject, it->text,
				   it->page, it->buttons };
		size_t sizes[] = { sizeof(it->member), sizeof(it->channel), sizeof(it->fallback),
				   sizeof(it->kind), sizeof(it->subject), sizeof(it->text), sizeof(it->page),
				   sizeof(it->buttons) };
		for (size_t i = 0; i < ARRAY_LEN(fields); i++)
			if (r->element[i]->type == REDIS_REPLY_STRING)
				wk_strlcpy(fields[i], r->element[i]->str, sizes[i]);
		if (r->element[8]->type == REDIS_REPLY_STRING)
			wk_parse_i64(r->element[8]->str, 0, INT64_MAX, &it->attempts);
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

/* The outcome of an attempt into the record. False when Redis did not take it
 * (then the stream entry stays unacknowledged and is taken up again). */
static bool finish(struct sender *sd, const struct item *it, const char *status, const char *why)
{
	char key[192], now[24], prefix[160];
	redisReply *r;
	bool ok;

	if (org_key(key, sizeof(key), it->org, "notification:%s", it->id) < 0 ||
	    org_key(prefix, sizeof(prefix), it->org, "%s", "") < 0)
		return true;	/* nothing that could ever be written */
	snprintf(now, sizeof(now), "%lld", (long long)wk_now_ms());
	const char *keys[] = { key };
	const char *args[] = { status, why, now, sd->owner, prefix };
	r = store_script(sd->store, &finish_script, 1, keys, 5, args);
	ok = r && r->type == REDIS_REPLY_INTEGER;
	if (r)
		freeReplyObject(r);
	return ok;
}

/* Queue the same message on the next channel of the fallback list, at once.
 * A page's messages are deduplicated per channel (wk_enqueue), so its own later
 * step for that channel (page.c) finds this one and sends nothing more. */
static bool fall_back(struct sender *sd, const struct item *it)
{
	char next[16], rest[32], id[24];
	const char *comma = strchr(it->fallback, ',');
	size_t n = comma ? (size_t)(comma - it->fallback) : strlen(it->fallback);

	if (!n || n >= sizeof(next))
		return true;
	memcpy(next, it->fallback, n);
	next[n] = '\0';
	wk_strlcpy(rest, comma ? comma + 1 : "", sizeof(rest));
	struct outbox_message m = { .member = it->member, .channel = next, .fallback = rest,
				    .kind = it->kind, .subject = it->subject, .text = it->text,
				    .page = it->page, .buttons = it->buttons };
	int rc;
	if (!channel_find(next))
		return true;
	if ((rc = outbox_enqueue(sd->store, it->org, &m, wk_now_ms(), id, sizeof(id))) < 0)
		return false;
	log_info("notify.fallback", "org=%s notification=%s next=%s channel=%s outcome=%s", it->org, it->id,
		 id[0] ? id : "-", next, rc == 0 ? "queued" : rc == 1 ? "already" : "acknowledged");
	return true;
}

/* Come back to it later, through a durable timer. False when Redis failed. */
static bool wait_turn(struct sender *sd, const char *org, const char *id, int64_t wait_ms)
{
	char tid[TIMER_ID_MAX];

	snprintf(tid, sizeof(tid), "notify:%s:%s", org, id);
	return timer_schedule(sd->store, tid, "notify_retry", org, id, wk_now_ms() + wait_ms) == 0;
}

/* Everything the claim took, sent as one message, then each one's outcome.
 * False when an outcome could not be recorded. */
static bool send_batch(struct sender *sd, struct batch *b, const struct channel *ch)
{
	char why[256] = "", q[300];
	bool recorded = true;
	int64_t retry_ms = 0;
	size_t ci = (size_t)(ch - channels);
	bool bounded = ch->in_flight(ob.cfg) > 0;

	if (bounded)
		while (sem_wait(&ob.slots[ci]) != 0)
			;	/* EINTR */
	enum send_outcome o = ch->send(ob.cfg, sd->store, b, why, sizeof(why), &retry_ms);
	if (bounded)
		sem_post(&ob.slots[ci]);

	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		metrics_outbound(it->channel, o == SEND_SENT ? "sent" : o == SEND_RETRY ? "retry" : "failed");
		if (o == SEND_SENT) {
			recorded &= finish(sd, it, "sent", "");
			log_info("notify.sent", "org=%s notification=%s channel=%s attempts=%lld bundle=%zu",
				 it->org, it->id, it->channel, (long long)it->attempts, b->n);
			continue;
		}
		log_warn("notify.attempt", "org=%s notification=%s channel=%s attempt=%lld outcome=%s why=%s",
			 it->org, it->id, it->channel, (long long)it->attempts,
			 o == SEND_RETRY ? "retry" : "permanent", log_quote(q, sizeof(q), why));
		if (o == SEND_RETRY && it->attempts < OUTBOX_MAX_ATTEMPTS) {
			/* 2 s, 4 s, 8 s, 16 s with up to 50 % jitter, through a durable
			 * timer; longer when the provider said Retry-After. */
			unsigned seed = (unsigned)wk_mono_us() ^ (unsigned)i;
			int64_t delay = 1000LL << it->attempts;
			delay += (int64_t)(rand_r(&seed) % (unsigned)(delay / 2 + 1));
			if (retry_ms > delay)
				delay = retry_ms;
			recorded &= finish(sd, it, "retry", why) && wait_turn(sd, it->org, it->id, delay);
			continue;
		}
		recorded &= finish(sd, it, "failed", why) && fall_back(sd, it);
	}
	return recorded;
}

/* One stream entry (or timer) for notification id. Returns whether its fate is
 * recorded in Redis (sent, failed, waiting on a timer, or nothing to do); when
 * not, the caller leaves the stream entry unacknowledged, so it is retried. */
static bool attempt(struct sender *sd, const char *org, const char *id)
{
	bool recorded = false;
	char key[192], now[24], lease[16], prefix[160], bundle[8];
	redisReply *r;
	const struct channel *ch;

	if (!org_member_id_valid(id) || org_key(key, sizeof(key), org, "notification:%s", id) < 0 ||
	    org_key(prefix, sizeof(prefix), org, "%s", "") < 0)
		return true;	/* not ours to send */
	snprintf(now, sizeof(now), "%lld", (long long)wk_now_ms());
	snprintf(lease, sizeof(lease), "%lld", (long long)ob.lease_ms);
	snprintf(bundle, sizeof(bundle), "%d", OUTBOX_BUNDLE_MAX);
	const char *keys[] = { key };
	const char *args[] = { now, lease, sd->owner, prefix, bundle, ob.limits };
	r = store_script(sd->store, &claim_script, 1, keys, 6, args);
	if (!r || r->type != REDIS_REPLY_ARRAY || !r->elements || r->element[0]->type != REDIS_REPLY_STRING) {
		if (r)
			freeReplyObject(r);
		return false;
	}
	const char *verdict = r->element[0]->str;
	int64_t ms = 0;
	bool has_ms = r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING &&
		      wk_parse_i64(r->element[1]->str, 0, INT64_MAX, &ms);
	if (strcmp(verdict, "go") == 0) {
		struct batch *b = xcalloc(1, sizeof(*b));
		bool loaded = true;
		for (size_t i = 1; i < r->elements && b->n < OUTBOX_BUNDLE_MAX; i++) {
			if (r->element[i]->type != REDIS_REPLY_STRING ||
			    load_item(sd->store, org, r->element[i]->str, &b->items[b->n]) < 0)
				loaded = false;	/* it stays `sending` until its lease ends */
			else
				b->n++;
		}
		/* The claim only takes channels named in ob.limits: all in the table. */
		ch = b->n ? channel_find(b->items[0].channel) : NULL;
		recorded = (ch ? send_batch(sd, b, ch) : true) && loaded;
		free(b);
	} else if (strcmp(verdict, "wait") == 0 && has_ms) {
		/* Too soon after the last one for this person, or over the provider's
		 * rate: come back at its turn; what piles up meanwhile goes with it. */
		recorded = wait_turn(sd, org, id, ms);
	} else if (strcmp(verdict, "busy") == 0 && has_ms) {
		/* Someone else is sending it (maybe inside a bundle): look again when
		 * their lease ends, so a sender that died mid-bundle loses nothing. */
		recorded = wait_turn(sd, org, id, ms - wk_now_ms() + 200);
	} else {
		/* done or gone: nothing to do; unknown: leave the entry pending for an
		 * instance that knows the channel. */
		recorded = strcmp(verdict, "unknown") != 0;
	}
	freeReplyObject(r);
	return recorded;
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
		/* An entry whose outcome Redis did not take stays pending: XAUTOCLAIM
		 * hands it out again after the idle time, and the claim's deadline
		 * keeps that from racing a send still in progress. */
		if (org && id && !attempt(sd, org, id)) {
			log_warn("notify.unrecorded", "org=%s notification=%s entry=%s note=\"Redis failed; retried "
				 "after the idle time\"", org, id, e->element[0]->str);
			continue;
		}
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
	ob.limits[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(channels); i++) {
		const struct channel *c = &channels[i];
		size_t len = strlen(ob.limits);
		snprintf(ob.limits + len, sizeof(ob.limits) - len, "%s%s:%lld:%lld:%lld", i ? "," : "", c->name,
			 (long long)c->min_gap_ms(cfg), (long long)c->per_hour(cfg), (long long)c->per_second(cfg));
		if (c->in_flight(cfg) > 0)
			sem_init(&ob.slots[i], 0, (unsigned)c->in_flight(cfg));
	}
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
	for (size_t i = 0; i < ARRAY_LEN(channels); i++)
		if (channels[i].in_flight(ob.cfg) > 0)
			sem_destroy(&ob.slots[i]);
	ob.started = false;
}
