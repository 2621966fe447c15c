/* outbox.c - see outbox.h */
#include "bot/outbox.h"
#include "adapters/slack_api.h"
#include "adapters/teams_notify.h"
#include "adapters/twilio.h"
#include "bot/engine.h"
#include "bot/heartbeat.h"
#include "bot/incident_card.h"
#include "bot/log.h"
#include "bot/buf.h"
#include "bot/courier.h"
#include "bot/mail.h"
#include "bot/member.h"
#include "bot/metrics.h"
#include "bot/org.h"
#include "bot/page.h"
#include "bot/reply.h"
#include "bot/timers.h"
#include "bot/util.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUEUE "wk:{notify}:q"
#define GROUP "couriers"
#define MAX_SENDERS 16
/* Entries one sender reads at a time. One: an entry a busy sender read but
 * has not started would wait behind its send (seconds with a slow provider)
 * while other senders, here or on other instances, sit idle. */
#define READ_COUNT 1
/* How long a sender blocks in Redis for the next entry: an idle instance
 * costs one command per sender per this. The drain and the watch cut it short
 * (store_interrupt()), so it can be long; it stays under the idle timeouts of
 * common proxies in front of Redis. */
#define SENDER_BLOCK_MS 30000
/* The queue depth gauge and the trim of finished entries, by the watch. */
#define MAINTAIN_MS 5000

/* SEND_UNKNOWN: the request went out and no answer came (a timeout, a dropped
 * connection, a cut-off at shutdown): the provider may have it. SEND_SHOWN:
 * nothing was sent; the console showed what would have been (outbox_set_preview). */
enum send_outcome { SEND_SENT, SEND_RETRY, SEND_PERMANENT, SEND_UNKNOWN, SEND_SHOWN };

struct item {
	char org[96], id[24], member[64], channel[16], fallback[32], kind[16], page[24];
	int64_t incident;	/* the incident its page is for, 0 = none: people answer with its number */
	char subject[160], text[4096], buttons[OUTBOX_BUTTONS_MAX];
	char refs[OUTBOX_REFS_MAX];	/* the references of its attempts, comma-separated */
	int64_t attempts;
	int64_t first_ms;	/* its first attempt */
	int64_t unknown_ms;	/* since when its last attempt's outcome is unknown, 0 = known */
};

/* What one claim took: one person, one channel, sent as one message. */
struct batch {
	struct item items[OUTBOX_BUNDLE_MAX];
	size_t n;
	char ref[32];		/* this attempt's reference: in the message (SMS text, Slack metadata) */
	char ids[OUTBOX_BUNDLE_MAX * 24];	/* "n1,n2,..." */
};

/* ---- channels ---- */

/* One send of a whole batch. retry_ms: at least this long before a retry
 * (Retry-After), 0 = the usual backoff. */
typedef enum send_outcome (*channel_send)(const struct config *cfg, struct store *s,
					  const struct batch *b, char *why, size_t whysize,
					  int64_t *retry_ms);

/* Did an earlier attempt of the batch's items with an unknown outcome arrive?
 * refs[0..n) are those attempts' references, since_ms the first of them.
 * 0 looked (found[k] for refs[k]), -1 could not look (why, retry_ms). */
typedef int (*channel_verify)(const struct config *cfg, struct store *s, const struct batch *b,
			      int64_t since_ms, const char *const *refs, size_t n, bool *found,
			      char *why, size_t whysize, int64_t *retry_ms);

/* The number people answer with: the incident's for an incident page ("ACK
 * 42" = INC-42), else the page's ("p42" -> "42"). */
static const char *page_number(const struct item *it, char *buf, size_t size)
{
	if (it->incident > 0) {
		snprintf(buf, size, "%lld", (long long)it->incident);
		return buf;
	}
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

static enum send_outcome slack_outcome(int rc);

/* A batch as a chat message: its text, the buttons it carries, and an
 * Acknowledge button per page (an incident's page alone: the incident's
 * Acknowledge / Resolve / Escalate). */
static void chat_reply(const struct batch *b, struct reply *r)
{
	batch_text(b, &r->text);
	for (size_t i = 0; i < b->n; i++) {
		char label[48], num[24];
		buttons_decode(b->items[i].buttons, r);
		if (!b->items[i].page[0])
			continue;
		if (b->n == 1 && b->items[i].incident > 0) {
			/* An incident's page: the incident's own buttons (a page is only
			 * sent while its incident is triggered). A bundle keeps one
			 * Acknowledge per page (oncall.page_ack acks the incident too):
			 * three each would not fit REPLY_MAX_BUTTONS. */
			struct incident inc = { .n = b->items[i].incident, .state = INCIDENT_TRIGGERED };
			incident_card_buttons(&inc, r);
			continue;
		}
		if (b->n == 1)
			snprintf(label, sizeof(label), "Acknowledge");
		else
			snprintf(label, sizeof(label), b->items[i].incident ? "Acknowledge INC-%s" : "Acknowledge #%s",
				 page_number(&b->items[i], num, sizeof(num)));
		reply_button(r, label, "oncall.page_ack", b->items[i].page, BUTTON_PRIMARY);
	}
}

/* The chat channels' sends share this shape: the batch as one reply (a
 * person's: chat_reply, with a page's buttons; a channel's: the text and the
 * buttons carried), handed to the platform, whose result (0 sent, 1
 * permanent, -1 retry, 2 unknown) and Retry-After become the outcome. */
typedef int (*reply_send_fn)(const struct config *cfg, struct store *s, const struct batch *b, const struct reply *r,
			     long *retry_after, char *why, size_t whysize);

static enum send_outcome send_reply(const struct config *cfg, struct store *s, const struct batch *b, bool person,
				    reply_send_fn send, char *why, size_t whysize, int64_t *retry_ms)
{
	struct reply r;
	long retry_after = -1;
	int rc;

	reply_init(&r);
	if (person) {
		chat_reply(b, &r);
	} else {
		batch_text(b, &r.text);
		for (size_t i = 0; i < b->n; i++)
			buttons_decode(b->items[i].buttons, &r);
	}
	rc = send(cfg, s, b, &r, &retry_after, why, whysize);
	reply_free(&r);
	if (retry_after > 0)
		*retry_ms = retry_after * 1000;
	return slack_outcome(rc);
}

static int slack_dm_one(const struct config *cfg, struct store *s, const struct batch *b, const struct reply *r,
			long *retry_after, char *why, size_t whysize)
{
	struct slack_note note = { b->items[0].org, b->ref, b->ids };

	return slack_dm_reply(cfg, s, b->items[0].org, b->items[0].member, r, &note, retry_after, why, whysize);
}

static int slack_post_one(const struct config *cfg, struct store *s, const struct batch *b, const struct reply *r,
			  long *retry_after, char *why, size_t whysize)
{
	struct slack_note note = { b->items[0].org, b->ref, b->ids };

	(void)s;
	return slack_channel_post(cfg, b->items[0].member, r, &note, retry_after, NULL, 0, why, whysize);
}

static int teams_dm_one(const struct config *cfg, struct store *s, const struct batch *b, const struct reply *r,
			long *retry_after, char *why, size_t whysize)
{
	return teams_dm_reply(cfg, s, b->items[0].org, b->items[0].member, r, retry_after, why, whysize);
}

static int teams_post_one(const struct config *cfg, struct store *s, const struct batch *b, const struct reply *r,
			  long *retry_after, char *why, size_t whysize)
{
	return teams_place_post(cfg, s, b->items[0].org, b->items[0].member, r, retry_after, why, whysize);
}

static enum send_outcome send_slack(const struct config *cfg, struct store *s, const struct batch *b,
				    char *why, size_t whysize, int64_t *retry_ms)
{
	return send_reply(cfg, s, b, true, slack_dm_one, why, whysize, retry_ms);
}

/* A Teams 1:1 chat message (adapters/teams_notify.h): at-least-once, since
 * the Bot Connector cannot be asked what arrived (no verify). */
static enum send_outcome send_teams(const struct config *cfg, struct store *s, const struct batch *b,
				    char *why, size_t whysize, int64_t *retry_ms)
{
	return send_reply(cfg, s, b, true, teams_dm_one, why, whysize, retry_ms);
}

static enum send_outcome slack_outcome(int rc)
{
	return rc == 0 ? SEND_SENT : rc == 1 ? SEND_PERMANENT : rc == 2 ? SEND_UNKNOWN : SEND_RETRY;
}

static int verify_slack_in(const struct config *cfg, struct store *s, const struct batch *b, bool dm,
			   int64_t since_ms, const char *const *refs, size_t n, bool *found, char *why,
			   size_t whysize, int64_t *retry_ms)
{
	long retry_after = -1;
	int rc = slack_find_posted(cfg, s, b->items[0].org, b->items[0].member, dm, since_ms, refs, n,
				   found, &retry_after, why, whysize);

	if (retry_after > 0)
		*retry_ms = retry_after * 1000;
	return rc;
}

static int verify_slack(const struct config *cfg, struct store *s, const struct batch *b,
			int64_t since_ms, const char *const *refs, size_t n, bool *found, char *why,
			size_t whysize, int64_t *retry_ms)
{
	return verify_slack_in(cfg, s, b, true, since_ms, refs, n, found, why, whysize, retry_ms);
}

static int verify_slack_channel(const struct config *cfg, struct store *s, const struct batch *b,
				int64_t since_ms, const char *const *refs, size_t n, bool *found,
				char *why, size_t whysize, int64_t *retry_ms)
{
	return verify_slack_in(cfg, s, b, false, since_ms, refs, n, found, why, whysize, retry_ms);
}

/* A post into a Slack channel: the batch's "member" is the channel id. */
static enum send_outcome send_slack_channel(const struct config *cfg, struct store *s,
					    const struct batch *b, char *why, size_t whysize, int64_t *retry_ms)
{
	return send_reply(cfg, s, b, false, slack_post_one, why, whysize, retry_ms);
}

/* A post into a Teams conversation: the batch's "member" is its handle. */
static enum send_outcome send_teams_channel(const struct config *cfg, struct store *s,
					    const struct batch *b, char *why, size_t whysize, int64_t *retry_ms)
{
	return send_reply(cfg, s, b, false, teams_post_one, why, whysize, retry_ms);
}

/* Incident cards (bot/incident_card.h): the batch's "member" is the channel
 * id (a Teams conversation handle) and each item's text an incident number;
 * each card is rendered as it is now and posted or updated on its own. The
 * batch's outcome is the worst one: a card already posted is only updated on a
 * retry, so repeating is harmless. card_send_fn: one card (item i) through a
 * platform: 0, 1, -1, 2. */
typedef int (*card_send_fn)(const struct config *cfg, struct store *s, const struct batch *b, size_t i,
			    long *retry_after, char *why, size_t whysize);

static enum send_outcome send_cards(const struct config *cfg, struct store *s, const struct batch *b,
				    card_send_fn one, char *why, size_t whysize, int64_t *retry_ms)
{
	/* The enum's order is the order of worse: sent, retry, permanent, unknown
	 * (a post that may be there must be looked up before anything repeats). */
	enum send_outcome worst = SEND_SENT;

	for (size_t i = 0; i < b->n; i++) {
		bool seen = false;
		long retry_after = -1;
		char msg[256] = "";
		for (size_t j = 0; j < i; j++)
			seen |= strcmp(b->items[j].text, b->items[i].text) == 0;
		if (seen)
			continue;	/* the same card twice: one render shows both changes */
		enum send_outcome o = slack_outcome(one(cfg, s, b, i, &retry_after, msg, sizeof(msg)));
		if (o > worst) {
			worst = o;
			wk_strlcpy(why, msg, whysize);
		}
		if (retry_after > 0 && retry_after * 1000 > *retry_ms)
			*retry_ms = retry_after * 1000;
	}
	return worst;
}

static int slack_card_one(const struct config *cfg, struct store *s, const struct batch *b, size_t i,
			  long *retry_after, char *why, size_t whysize)
{
	/* Each card is its own message: its metadata names its own notification,
	 * so the card can find its own message again (incident_card.h). */
	struct slack_note note = { b->items[i].org, b->ref, b->items[i].id };

	return incident_card_send(cfg, s, b->items[i].org, b->items[i].member, b->items[i].text, &note, retry_after,
				  why, whysize);
}

static int teams_card_one(const struct config *cfg, struct store *s, const struct batch *b, size_t i,
			  long *retry_after, char *why, size_t whysize)
{
	return teams_card_send(cfg, s, b->items[i].org, b->items[i].member, b->items[i].text, retry_after, why,
			       whysize);
}

static enum send_outcome send_slack_card(const struct config *cfg, struct store *s, const struct batch *b,
					 char *why, size_t whysize, int64_t *retry_ms)
{
	return send_cards(cfg, s, b, slack_card_one, why, whysize, retry_ms);
}

static enum send_outcome send_teams_card(const struct config *cfg, struct store *s, const struct batch *b,
					 char *why, size_t whysize, int64_t *retry_ms)
{
	return send_cards(cfg, s, b, teams_card_one, why, whysize, retry_ms);
}

#define SMS_ACK_HOW "\nReply ACK "
#define EMAIL_ACK_HOW "\n\nAcknowledge with the button in chat, or text ACK "

/* How to acknowledge by SMS or mail: the page numbers in the batch. */
static void ack_hint(const struct batch *b, const char *how, struct buf *out)
{
	size_t pages = 0;
	char num[24];

	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].page[0])
			buf_printf(out, "%s%s", pages++ ? ", " : how, page_number(&b->items[i], num, sizeof(num)));
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
	ack_hint(b, EMAIL_ACK_HOW, &text);
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
	/* The way to answer, and the reference that lets us find this message in
	 * Twilio's list after an unknown outcome, must survive the length cap: cut
	 * the text, not them. */
	ack_hint(b, SMS_ACK_HOW, &hint);
	buf_printf(&hint, "\nRef %s", b->ref);
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
		if (res.maybe_sent)
			return SEND_UNKNOWN;
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

static int verify_sms(const struct config *cfg, struct store *s, const struct batch *b, int64_t since_ms,
		      const char *const *refs, size_t n, bool *found, char *why, size_t whysize,
		      int64_t *retry_ms)
{
	struct member m;
	long retry_after = -1;
	int rc;

	if (member_get(s, b->items[0].org, b->items[0].member, &m) != 0) {
		snprintf(why, whysize, "could not read the member's phone number");
		return -1;
	}
	rc = twilio_find_sent(cfg, m.phone, since_ms, refs, n, found, &retry_after, why, whysize);
	if (retry_after > 0)
		*retry_ms = retry_after * 1000;
	return rc;
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

static bool slack_configured(const struct config *cfg)
{
	return cfg->slack_bot_token[0] != '\0';
}

static bool teams_configured(const struct config *cfg)
{
	return cfg->teams_app_id[0] != '\0';
}

/* Teams: at most 7 sends a second per conversation, 60 in 30 s (teams.md 2.4). */
static int64_t teams_gap_ms(const struct config *cfg)
{
	(void)cfg;
	return 500;
}

static bool never_configured(const struct config *cfg)
{
	(void)cfg;
	return false;
}

/* The console channel on an instance without a console (another instance
 * sharing the Redis): nobody here can show it. */
static enum send_outcome send_nowhere(const struct config *cfg, struct store *s, const struct batch *b,
				      char *why, size_t whysize, int64_t *retry_ms)
{
	(void)cfg, (void)s, (void)b, (void)retry_ms;
	snprintf(why, whysize, "console messages are shown only by an instance running --console");
	return SEND_PERMANENT;
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
 * waits for its turn, and what piles up meanwhile goes out as one.
 * verify: how to find out whether an attempt with an unknown outcome arrived
 * (NULL: the channel is at-least-once; SMTP has no way to ask). */
static const struct channel {
	const char *name;
	const char *label;	/* for people: "SMS", "chat" */
	bool (*configured)(const struct config *cfg);	/* can this instance reach the provider? */
	channel_send send;
	channel_verify verify;
	int64_t (*in_flight)(const struct config *cfg);
	int64_t (*per_second)(const struct config *cfg);
	int64_t (*min_gap_ms)(const struct config *cfg);
	int64_t (*per_hour)(const struct config *cfg);
} channels[] = {
	{ "slack", "chat", slack_configured, send_slack, verify_slack, unlimited, unlimited, slack_gap_ms,
	  unlimited },
	{ "slack_channel", "chat", slack_configured, send_slack_channel, verify_slack_channel, unlimited,
	  unlimited, slack_gap_ms, unlimited },
	/* The incident card: paced like a channel post, at most one a second. */
	{ "slack_card", "chat", slack_configured, send_slack_card, verify_slack_channel, unlimited, unlimited,
	  slack_gap_ms, unlimited },
	{ "teams", "chat", teams_configured, send_teams, NULL, unlimited, unlimited, teams_gap_ms, unlimited },
	{ "teams_channel", "chat", teams_configured, send_teams_channel, NULL, unlimited, unlimited, teams_gap_ms,
	  unlimited },
	{ "teams_card", "chat", teams_configured, send_teams_card, NULL, unlimited, unlimited, teams_gap_ms,
	  unlimited },
	{ "sms", "SMS", twilio_configured, send_sms, verify_sms, sms_in_flight, sms_per_second, sms_gap_ms,
	  sms_per_hour },
	{ "email", "email", mail_configured, send_email, NULL, unlimited, unlimited, email_gap_ms,
	  email_per_hour },
	/* Chat for the console's people: there is no provider, only the preview. */
	{ "console", "chat", never_configured, send_nowhere, NULL, unlimited, unlimited, unlimited,
	  unlimited },
};

/* Which channel carries "chat" for people of each platform (Teams adds a row). */
static const struct {
	const char *platform;
	const char *channel;
} chat_channels[] = {
	{ "slack", "slack" },
	{ "teams", "teams" },
	{ "console", "console" },
};

static outbox_preview_fn preview;	/* set before any sender starts, read-only after */

const char *outbox_chat_channel(const char *platform)
{
	for (size_t i = 0; i < ARRAY_LEN(chat_channels); i++)
		if (strcmp(chat_channels[i].platform, platform) == 0)
			/* The console's people have chat only where a console shows it. */
			return strcmp(chat_channels[i].channel, "console") != 0 || preview ? chat_channels[i].channel
											 : NULL;
	return NULL;
}

const char *outbox_place_channel(const char *place, bool card)
{
	if (strncmp(place, "tc", 2) == 0)
		return card ? "teams_card" : "teams_channel";
	return card ? "slack_card" : "slack_channel";
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

void outbox_set_preview(outbox_preview_fn show)
{
	preview = show;
}

bool outbox_previewed(const struct config *cfg, const char *channel)
{
	const struct channel *ch = channel_find(channel);

	return preview && ch && !ch->configured(cfg);
}

int outbox_channels_for(struct store *s, const struct config *cfg, const char *org_id,
			const char *member, char *out, size_t size)
{
	struct member m;
	struct buf b = BUF_INIT(size);
	int got = member_get(s, org_id, member, &m);
	const char *chat;

	out[0] = '\0';
	if (got < 0)
		return -1;
	if (got > 0 || m.placeholder)
		return 0;
	/* With a console, a channel this instance cannot reach is still offered:
	 * the console shows what would have gone out. */
	if ((chat = outbox_chat_channel(m.platform)) && (preview || channel_find(chat)->configured(cfg)))
		buf_printf(&b, "%s%s", b.len ? "," : "", chat);
	if (m.phone[0] && (preview || twilio_configured(cfg))) {
		char key[96];
		redisReply *r = NULL;
		snprintf(key, sizeof(key), "wk:phone_optout:%s", m.phone);
		r = store_command(s, "EXISTS %s", key);
		if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0)	/* they texted STOP */
			buf_printf(&b, "%ssms", b.len ? "," : "");
		if (r)
			freeReplyObject(r);
	}
	if (m.email[0] && (preview || mail_configured(cfg)))
		buf_printf(&b, "%semail", b.len ? "," : "");
	wk_strlcpy(out, buf_cstr(&b), size);
	buf_free(&b);
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

/* ---- one attempt ---- */

static const struct store_script claim_script = {
	"outbox_claim",
	/* KEYS: notification. ARGV: now ms, lease ms, owner, key prefix, bundle max,
	 * limits ("channel:gap ms:per hour:per second,..."), refs max bytes.
	 * A message not sent yet first waits its turn: the person's pace on the
	 * channel (at most one per gap, per_hour in any hour; in the org's slot) and
	 * the provider's rate (per second, in the queue's slot, across instances).
	 * Then it is marked `sending` until now + lease and the attempt counted;
	 * the same is done for whatever else waits for that person on that channel
	 * (up to bundle max in all), so a pile-up goes out as one message. Anything
	 * whose page was acknowledged meanwhile is cancelled instead.
	 * A `sending` mark whose deadline passed means its holder stopped mid-send
	 * (died, or lost Redis and so its lease): the outcome of that attempt is
	 * unknown (unknown_ms), and the sender looks for it before sending again.
	 * Each taken notification gets the attempt's reference (a number of the
	 * org's that no other attempt gets, and a tag of the org) appended to its
	 * refs: the message carries it, so a later look can find it.
	 * Returns {'go', ref, id, ...} (oldest first), {'wait', ms}, {'busy', ms
	 * until its deadline}, {'done'|'gone'}, or {'unknown'} for a channel not
	 * in limits (a newer instance's: left for it). ARGV now is unused. */
	/* Redis's clock: leases and paces are shared by instances whose own
	 * clocks may differ (timers.h "Clock"). */
	"local now, p = " TIMERS_NOW_EXPR ", ARGV[4]\n"
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
	"  redis.call('HSETNX', key, 'first_ms', now)\n"
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
	"if st == 'sending' and tonumber(deadline) > now then\n"
	"  return {'busy', string.format('%d', tonumber(deadline) - now)}\n"
	"end\n"
	"if acked(KEYS[1]) then redis.call('ZREM', waiting, id); cancel(KEYS[1]); return {'done'} end\n"
	"if st == 'sending' then\n"
	"  redis.call('HSET', KEYS[1], 'unknown_ms', now)\n"
	"  event(KEYS[1], 'status', 'unknown', 'error', 'its sender stopped mid-send (' ..\n"
	"        (redis.call('HGET', KEYS[1], 'owner') or '?') .. '); looking before sending again')\n"
	"end\n"
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
	"-- One ref per attempt (never reused, or a later look could find an earlier message).\n"
	"local ref = 'r' .. redis.call('INCR', p .. 'refseq') .. '-' .. string.sub(redis.sha1hex(p), 1, 4)\n"
	"for _, other in ipairs(ids) do\n"
	"  local key = p .. 'notification:' .. other\n"
	"  local refs = redis.call('HGET', key, 'refs')\n"
	"  if not refs or refs == '' then refs = ref\n"
	"  elseif not string.find(',' .. refs .. ',', ',' .. ref .. ',', 1, true) then refs = refs .. ',' .. ref end\n"
	"  -- The last few attempts are enough: each unknown one is looked for before the next.\n"
	"  while #refs > tonumber(ARGV[7]) do refs = string.gsub(refs, '^[^,]*,', '', 1) end\n"
	"  redis.call('HSET', key, 'refs', refs)\n"
	"end\n"
	"return {'go', ref, unpack(ids)}\n",
	NULL
};

static const struct store_script finish_script = {
	"outbox_finish",
	/* KEYS: notification. ARGV: status, error, now ms, owner, key prefix,
	 * unknown ("set": this attempt's outcome is unknown; "clear": it is known;
	 * "keep"), uncount ("1": the attempt sent nothing, so it does not count).
	 * Only the owner of the current attempt may finish it. A retry waits again
	 * (and may then be bundled with what came meanwhile). */
	"if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[4] or\n"
	"   redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return 0 end\n"
	"redis.call('HSET', KEYS[1], 'status', ARGV[1], 'error', ARGV[2], 'updated_ms', ARGV[3])\n"
	"if ARGV[6] == 'set' then redis.call('HSET', KEYS[1], 'unknown_ms', ARGV[3])\n"
	"elseif ARGV[6] == 'clear' then redis.call('HDEL', KEYS[1], 'unknown_ms') end\n"
	"if ARGV[7] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', -1) end\n"
	"redis.call('XADD', KEYS[1] .. ':events', 'MAXLEN', '~', 100, '*', 'ts', ARGV[3], 'status', ARGV[1],\n"
	"           'error', ARGV[2])\n"
	"if ARGV[1] == 'retry' then\n"
	"  local ch, member, id = unpack(redis.call('HMGET', KEYS[1], 'channel', 'member', 'id'))\n"
	"  redis.call('ZADD', ARGV[5] .. 'waiting:' .. ch .. ':' .. member, ARGV[3], id)\n"
	"end\n"
	"return 1\n",
	NULL
};

/* What a sender holds right now: the notifications it marked `sending` and
 * the stream entries it read and has not finished. The heartbeat renews both
 * (outbox_renew), so another instance takes them over only when this one is
 * gone; a renewal that fails means the lease may be someone else's by now, so
 * no new provider call starts under it. */
struct hold {
	pthread_mutex_t lock;
	uint64_t gen;		/* bumped whenever the set changes */
	char keys[OUTBOX_BUNDLE_MAX][192];
	size_t nkeys;
	char entries[READ_COUNT][40];
	size_t nentries;
	int64_t valid_until;	/* wall ms: the lease is ours until then (last renewal + lease) */
	bool lost;		/* a renewal found a mark that is no longer ours */
};

struct sender {
	pthread_t thread;
	struct store *store;
	char owner[96];
	struct hold hold;
	atomic_bool done;	/* the thread has finished its last entry */
	atomic_bool grouped;	/* the stream and its group exist, as it last saw */
};

static struct {
	const struct config *cfg;
	int64_t lease_ms, idle_ms;	/* OUTBOX_LEASE_MS / OUTBOX_IDLE_MS unless a test changes them */
	struct sender senders[MAX_SENDERS];
	size_t n;
	sem_t slots[ARRAY_LEN(channels)];	/* a channel's in_flight bound, when it has one */
	char limits[256];	/* for the claim: "channel:gap ms:per hour:per second,..." */
	atomic_bool draining;	/* take no new entries; finish the one in hand */
	_Atomic int64_t drain_started_ms;	/* monotonic ms of outbox_drain_begin(), 0 before */
	atomic_bool reclaim;	/* the watch saw entries nobody renews: take them over */
	int64_t next_maintain;	/* the watch's (heartbeat thread) */
	pthread_mutex_t lock;	/* with `idle`: outbox_drain() waits for the senders;
				 * also guards `started` (and so the senders' stores)
				 * against the watch and the drain */
	pthread_cond_t idle;
	bool started;
} ob = { .lock = PTHREAD_MUTEX_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER };

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
static void hold_batch(struct sender *sd, const char *org, const struct batch *b, int64_t claimed_ms)
{
	struct hold *h = &sd->hold;

	pthread_mutex_lock(&h->lock);
	h->nkeys = 0;
	for (size_t i = 0; i < b->n; i++)
		if (org_key(h->keys[h->nkeys], sizeof(h->keys[0]), org, "notification:%s", b->items[i].id) == 0)
			h->nkeys++;
	h->valid_until = claimed_ms + ob.lease_ms;
	h->lost = false;
	h->gen++;
	pthread_mutex_unlock(&h->lock);
}

static void hold_release(struct sender *sd)
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
static bool hold_ok(struct sender *sd)
{
	struct hold *h = &sd->hold;
	bool ok;

	pthread_mutex_lock(&h->lock);
	ok = !h->lost && wk_now_ms() + ob.lease_ms / 4 < h->valid_until;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

static bool sender_guard(void *arg)
{
	return hold_ok(arg);
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
	snprintf(deadline, sizeof(deadline), "%lld", (long long)ob.lease_ms);	/* from Redis's now */
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
			h->valid_until = now_ms + ob.lease_ms;
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
	for (size_t i = 0; i < ob.n; i++)
		renew_one(s, &ob.senders[i], now_ms);
}

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
	r = store_command(s, "HMGET %s member channel fallback kind subject text page buttons refs attempts "
			  "first_ms unknown_ms", key);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 12 && r->element[0]->type == REDIS_REPLY_STRING) {
		char *fields[] = { it->member, it->channel, it->fallback, it->kind, it->subject, it->text,
				   it->page, it->buttons, it->refs };
		size_t sizes[] = { sizeof(it->member), sizeof(it->channel), sizeof(it->fallback),
				   sizeof(it->kind), sizeof(it->subject), sizeof(it->text), sizeof(it->page),
				   sizeof(it->buttons), sizeof(it->refs) };
		int64_t *nums[] = { &it->attempts, &it->first_ms, &it->unknown_ms };
		for (size_t i = 0; i < ARRAY_LEN(fields); i++)
			if (r->element[i]->type == REDIS_REPLY_STRING)
				wk_strlcpy(fields[i], r->element[i]->str, sizes[i]);
		for (size_t i = 0; i < ARRAY_LEN(nums); i++)
			if (r->element[ARRAY_LEN(fields) + i]->type == REDIS_REPLY_STRING)
				wk_parse_i64(r->element[ARRAY_LEN(fields) + i]->str, 0, INT64_MAX, nums[i]);
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	if (rc == 0 && it->page[0] && (it->incident = page_incident(s, org, it->page)) < 0)
		rc = -1;
	return rc;
}

/* The outcome of an attempt into the record. unknown: "set", "clear" or
 * "keep" (finish_script); uncount: the attempt sent nothing. False when Redis
 * did not take it (then the stream entry stays unacknowledged and is taken up
 * again). */
static bool finish(struct sender *sd, const struct item *it, const char *status, const char *why,
		   const char *unknown, bool uncount)
{
	char key[192], now[24], prefix[160];
	redisReply *r;
	bool ok;

	if (org_key(key, sizeof(key), it->org, "notification:%s", it->id) < 0 ||
	    org_key(prefix, sizeof(prefix), it->org, "%s", "") < 0)
		return true;	/* nothing that could ever be written */
	snprintf(now, sizeof(now), "%lld", (long long)wk_now_ms());
	const char *keys[] = { key };
	const char *args[] = { status, why, now, sd->owner, prefix, unknown, uncount ? "1" : "0" };
	r = store_script(sd->store, &finish_script, 1, keys, 7, args);
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
	return timer_schedule_in(sd->store, tid, "notify_retry", org, id, wait_ms) == 0;
}

/* "n1,n2,..." of the batch, for the message's metadata. */
static void batch_ids(struct batch *b)
{
	size_t len = 0;

	b->ids[0] = '\0';
	for (size_t i = 0; i < b->n; i++) {
		int w = snprintf(b->ids + len, sizeof(b->ids) - len, "%s%s", i ? "," : "", b->items[i].id);
		if (w < 0 || (size_t)w >= sizeof(b->ids) - len)
			break;
		len += (size_t)w;
	}
}

/* Drop items[i] from the batch (it was found, or is finished otherwise). */
static void batch_remove(struct batch *b, size_t i)
{
	memmove(&b->items[i], &b->items[i + 1], (b->n - i - 1) * sizeof(b->items[0]));
	b->n--;
}

/* Before sending items whose last attempt has an unknown outcome, look for
 * that attempt at the provider: found means sent. Returns false when the batch
 * must not be sent now (it waits, or Redis failed: *recorded says which). */
static bool verify_batch(struct sender *sd, struct batch *b, const struct channel *ch, bool *recorded)
{
	const char *refs[OUTBOX_BUNDLE_MAX * 8];
	char copies[OUTBOX_BUNDLE_MAX][OUTBOX_REFS_MAX], why[256] = "", q[300];
	size_t owner_of[ARRAY_LEN(refs)], n = 0;
	bool found[ARRAY_LEN(refs)], unknown = false;
	int64_t since = INT64_MAX, unknown_since = INT64_MAX, retry_ms = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		char *save = NULL;
		if (!it->unknown_ms)
			continue;
		unknown = true;
		if (it->first_ms && it->first_ms < since)
			since = it->first_ms;
		if (it->unknown_ms < unknown_since)
			unknown_since = it->unknown_ms;
		wk_strlcpy(copies[i], it->refs, sizeof(copies[i]));
		for (char *t = strtok_r(copies[i], ",", &save); t && n < ARRAY_LEN(refs); t = strtok_r(NULL, ",", &save)) {
			owner_of[n] = i;
			refs[n++] = t;
		}
	}
	if (!unknown || !ch->verify)
		return true;	/* nothing to look for, or no way to (email: at-least-once) */
	if (since == INT64_MAX)
		since = unknown_since;
	if (!hold_ok(sd)) {
		*recorded = false;	/* the marks may be someone else's by now: hands off */
		return false;
	}
	if (ch->verify(ob.cfg, sd->store, b, since, refs, n, found, why, sizeof(why), &retry_ms) == 0) {
		bool was_found[OUTBOX_BUNDLE_MAX] = { false };
		for (size_t k = 0; k < n; k++)
			if (found[k])
				was_found[owner_of[k]] = true;
		for (size_t i = b->n; i-- > 0;) {
			struct item *it = &b->items[i];
			if (!it->unknown_ms)
				continue;
			if (was_found[i]) {
				/* The earlier attempt arrived: this one sends nothing. */
				log_info("notify.verified", "org=%s notification=%s channel=%s outcome=found",
					 it->org, it->id, it->channel);
				metrics_outbound(it->channel, "sent");
				*recorded &= finish(sd, it, "sent", "found at the provider after an unknown outcome",
						    "clear", true);
				batch_remove(b, i);
			} else {
				log_info("notify.verified", "org=%s notification=%s channel=%s outcome=not_found",
					 it->org, it->id, it->channel);
				it->unknown_ms = 0;
			}
		}
		return b->n > 0;
	}
	if (wk_now_ms() - unknown_since < ob.cfg->notify_verify_max_wait_s * 1000) {
		/* Could not look (rate limited, Slack down): look again shortly. */
		log_warn("notify.verify_failed", "org=%s notification=%s channel=%s why=%s", b->items[0].org,
			 b->items[0].id, ch->name, log_quote(q, sizeof(q), why));
		if (retry_ms < 2000)
			retry_ms = 2000;
		for (size_t i = 0; i < b->n; i++) {
			const struct item *it = &b->items[i];
			*recorded &= finish(sd, it, "retry", why, "keep", true) &&
				     wait_turn(sd, it->org, it->id, retry_ms);
		}
		return false;
	}
	/* A duplicate page beats a lost one: send, and count it. */
	for (size_t i = 0; i < b->n; i++) {
		if (!b->items[i].unknown_ms)
			continue;
		metrics_notify_unverified();
		log_warn("notify.unverified", "org=%s notification=%s channel=%s note=\"could not check for %llds; "
			 "sending again\" why=%s", b->items[i].org, b->items[i].id, ch->name,
			 (long long)ob.cfg->notify_verify_max_wait_s, log_quote(q, sizeof(q), why));
		b->items[i].unknown_ms = 0;
	}
	return true;
}

/* The console's preview of a batch on a channel this instance cannot reach:
 * the message as its person would get it, and where it would have gone. */
static enum send_outcome show_batch(struct sender *sd, const struct batch *b, const struct channel *ch,
				    char *why, size_t whysize)
{
	struct member m;
	struct reply r;
	struct outbox_preview pv = { .org = b->items[0].org, .member = b->items[0].member, .channel = ch->label };
	bool chat = outbox_is_chat_channel(ch->name);

	reply_init(&r);
	if (ch->send == send_slack_card) {
		/* The card as the channel would see it (the first one of a bundle). */
		if (incident_card_reply(ob.cfg, sd->store, pv.org, b->items[0].text, &r) != 0)
			reply_textf(&r, "INC-%s", b->items[0].text);
	} else if (chat) {
		chat_reply(b, &r);
	} else {
		batch_text(b, &r.text);
		ack_hint(b, strcmp(ch->name, "sms") == 0 ? SMS_ACK_HOW : EMAIL_ACK_HOW, &r.text);
		if (member_get(sd->store, pv.org, pv.member, &m) == 0)
			pv.address = strcmp(ch->name, "sms") == 0 ? m.phone : m.email;
	}
	pv.reply = &r;
	preview(&pv);
	reply_free(&r);
	snprintf(why, whysize, "%s", chat ? "shown in the console" : "not configured here; shown in the console");
	return SEND_SHOWN;
}

/* Everything the claim took, sent as one message, then each one's outcome.
 * False when an outcome could not be recorded (or must not be: the lease was
 * lost), so the stream entry stays pending. */
static bool send_batch(struct sender *sd, struct batch *b, const struct channel *ch)
{
	char why[256] = "", q[300];
	bool recorded = true;
	int64_t retry_ms = 0;
	size_t ci = (size_t)(ch - channels);
	bool bounded = ch->in_flight(ob.cfg) > 0;

	if (!verify_batch(sd, b, ch, &recorded))
		return recorded;
	batch_ids(b);
	if (!hold_ok(sd)) {
		/* The lease may have passed to another instance: start nothing; the
		 * taker looks for (and sends) it. */
		log_warn("notify.lease_lost", "org=%s notification=%s note=\"not sending\"", b->items[0].org,
			 b->items[0].id);
		return false;
	}
	if (bounded)
		while (sem_wait(&ob.slots[ci]) != 0)
			;	/* EINTR */
	/* Checked again right before each request leaves: this thread may stall
	 * (a frozen process, a slow conversations.open) between here and the post. */
	courier_guard_set(sender_guard, sd);
	enum send_outcome o = preview && !ch->configured(ob.cfg) ? show_batch(sd, b, ch, why, sizeof(why))
				: ch->send(ob.cfg, sd->store, b, why, sizeof(why), &retry_ms);
	courier_guard_set(NULL, NULL);
	if (bounded)
		sem_post(&ob.slots[ci]);
	/* The call is over; the outcomes below are fenced by the owner anyway. */
	hold_release(sd);

	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		metrics_outbound(it->channel, o == SEND_SENT ? "sent" : o == SEND_SHOWN ? "shown"
					      : o == SEND_PERMANENT ? "failed" : "retry");
		if (o == SEND_SHOWN) {
			recorded &= finish(sd, it, "shown", why, "clear", false);
			continue;
		}
		if (o == SEND_SENT) {
			recorded &= finish(sd, it, "sent", "", "clear", false);
			log_info("notify.sent", "org=%s notification=%s channel=%s attempts=%lld bundle=%zu",
				 it->org, it->id, it->channel, (long long)it->attempts, b->n);
			continue;
		}
		log_warn("notify.attempt", "org=%s notification=%s channel=%s attempt=%lld outcome=%s why=%s",
			 it->org, it->id, it->channel, (long long)it->attempts,
			 o == SEND_RETRY ? "retry" : o == SEND_UNKNOWN ? "unknown" : "permanent",
			 log_quote(q, sizeof(q), why));
		if (o == SEND_UNKNOWN && it->attempts <= OUTBOX_MAX_ATTEMPTS) {
			/* The provider may have it: the next attempt looks first, a little
			 * later, when the provider has settled. */
			recorded &= finish(sd, it, "retry", why, "set", false) &&
				    wait_turn(sd, it->org, it->id, retry_ms > 2000 ? retry_ms : 2000);
			continue;
		}
		if (o == SEND_RETRY && it->attempts < OUTBOX_MAX_ATTEMPTS) {
			/* 2 s, 4 s, 8 s, 16 s with up to 50 % jitter, through a durable
			 * timer; longer when the provider said Retry-After. */
			unsigned seed = (unsigned)wk_mono_us() ^ (unsigned)i;
			int64_t delay = 1000LL << it->attempts;
			delay += (int64_t)(rand_r(&seed) % (unsigned)(delay / 2 + 1));
			if (retry_ms > delay)
				delay = retry_ms;
			recorded &= finish(sd, it, "retry", why, "clear", false) &&
				    wait_turn(sd, it->org, it->id, delay);
			continue;
		}
		recorded &= finish(sd, it, "failed", why, "clear", false) && fall_back(sd, it);
	}
	return recorded;
}

/* One stream entry (or timer) for notification id. Returns whether its fate is
 * recorded in Redis (sent, failed, waiting on a timer, or nothing to do); when
 * not, the caller leaves the stream entry unacknowledged, so it is retried. */
static bool attempt(struct sender *sd, const char *org, const char *id)
{
	bool recorded = false;
	char key[192], now[24], lease[16], prefix[160], bundle[8], refmax[8];
	redisReply *r;
	const struct channel *ch;
	int64_t claimed_ms = wk_now_ms();

	if (!org_member_id_valid(id) || org_key(key, sizeof(key), org, "notification:%s", id) < 0 ||
	    org_key(prefix, sizeof(prefix), org, "%s", "") < 0)
		return true;	/* not ours to send */
	snprintf(now, sizeof(now), "%lld", (long long)claimed_ms);
	snprintf(lease, sizeof(lease), "%lld", (long long)ob.lease_ms);
	snprintf(bundle, sizeof(bundle), "%d", OUTBOX_BUNDLE_MAX);
	snprintf(refmax, sizeof(refmax), "%d", OUTBOX_REFS_MAX - 1);
	const char *keys[] = { key };
	const char *args[] = { now, lease, sd->owner, prefix, bundle, ob.limits, refmax };
	r = store_script(sd->store, &claim_script, 1, keys, 7, args);
	if (!r || r->type != REDIS_REPLY_ARRAY || !r->elements || r->element[0]->type != REDIS_REPLY_STRING) {
		if (r)
			freeReplyObject(r);
		return false;
	}
	const char *verdict = r->element[0]->str;
	int64_t ms = 0;
	bool has_ms = r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING &&
		      wk_parse_i64(r->element[1]->str, 0, INT64_MAX, &ms);
	if (strcmp(verdict, "go") == 0 && r->elements >= 2 && r->element[1]->type == REDIS_REPLY_STRING) {
		struct batch *b = xcalloc(1, sizeof(*b));
		bool loaded = true;
		wk_strlcpy(b->ref, r->element[1]->str, sizeof(b->ref));
		for (size_t i = 2; i < r->elements && b->n < OUTBOX_BUNDLE_MAX; i++) {
			if (r->element[i]->type != REDIS_REPLY_STRING ||
			    load_item(sd->store, org, r->element[i]->str, &b->items[b->n]) < 0)
				loaded = false;	/* it stays `sending` until its lease ends */
			else
				b->n++;
		}
		hold_batch(sd, org, b, claimed_ms);
		/* The claim only takes channels named in ob.limits: all in the table. */
		ch = b->n ? channel_find(b->items[0].channel) : NULL;
		recorded = (ch ? send_batch(sd, b, ch) : true) && loaded;
		hold_release(sd);
		free(b);
	} else if (strcmp(verdict, "wait") == 0 && has_ms) {
		/* Too soon after the last one for this person, or over the provider's
		 * rate: come back at its turn; what piles up meanwhile goes with it. */
		recorded = wait_turn(sd, org, id, ms);
	} else if (strcmp(verdict, "busy") == 0 && has_ms) {
		/* Someone else is sending it (maybe inside a bundle): look again when
		 * their lease ends, so a sender that died mid-bundle loses nothing. */
		recorded = wait_turn(sd, org, id, ms + 200);
	} else {
		/* done or gone: nothing to do; unknown: leave the entry pending for an
		 * instance that knows the channel. */
		recorded = strcmp(verdict, "unknown") != 0;
	}
	freeReplyObject(r);
	return recorded;
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
		if (atomic_load(&ob.draining)) {
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
		if (org && id && !attempt(sd, org, id)) {
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
	else if (!atomic_load(&ob.draining))
		usleep(200000);	/* Redis down (or the watch woke it: no matter) */
	return false;	/* the entry it saw, if any, is read through the group next */
}

/* The watch (outbox_watch) saw entries whose reader stopped renewing them: it
 * died, or lost Redis. Every sender that is free takes them over, READ_COUNT
 * at a time, so many are handled side by side, until one finds none left. */
static void reclaim(struct sender *sd)
{
	char idle[24];

	snprintf(idle, sizeof(idle), "%lld", (long long)ob.idle_ms);
	while (atomic_load(&ob.reclaim) && !atomic_load(&ob.draining)) {
		redisReply *c = store_command_expecting(sd->store, STORE_EXPECT("NOGROUP"),
							"XAUTOCLAIM %s %s %s %s 0-0 COUNT %d", QUEUE, GROUP,
							sd->owner, idle, READ_COUNT);
		bool took = c && c->type == REDIS_REPLY_ARRAY && c->elements >= 2 &&
			    c->element[1]->type == REDIS_REPLY_ARRAY && c->element[1]->elements;
		if (took)
			handle_entries(sd, c->element[1]);
		else if (c)
			atomic_store(&ob.reclaim, false);
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

	while (!atomic_load(&ob.draining)) {
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
			if (!atomic_load(&ob.reclaim) && !atomic_load(&ob.draining))
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
	pthread_mutex_lock(&ob.lock);
	atomic_store(&sd->done, true);
	pthread_cond_broadcast(&ob.idle);
	pthread_mutex_unlock(&ob.lock);
	return NULL;
}

/* Get the senders out of their blocks: the watch's takeover and the drain
 * (stop: for good) must not wait out SENDER_BLOCK_MS. A sender at work is
 * not touched. Under the lock: outbox_stop() closes the senders' stores
 * while the heartbeat still runs. */
static void wake_senders(bool stop)
{
	pthread_mutex_lock(&ob.lock);
	for (size_t i = 0; ob.started && i < ob.n; i++)
		store_interrupt(ob.senders[i].store, stop);
	pthread_mutex_unlock(&ob.lock);
}

/* Does any sender know the stream to exist? Without it there is nothing to
 * watch, and no Redis command is spent on it. */
static bool queue_exists(void)
{
	bool any = false;

	pthread_mutex_lock(&ob.lock);
	for (size_t i = 0; ob.started && i < ob.n; i++)
		any = any || atomic_load(&ob.senders[i].grouped);
	pthread_mutex_unlock(&ob.lock);
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
	if (now_ms >= ob.next_maintain) {
		maintain(s);
		ob.next_maintain = now_ms + MAINTAIN_MS;
	}
	if (atomic_load(&ob.draining))
		return;
	if (!atomic_load(&ob.reclaim)) {
		snprintf(idle, sizeof(idle), "%lld", (long long)ob.idle_ms);
		redisReply *r = store_command_expecting(s, STORE_EXPECT("NOGROUP"), "XPENDING %s %s IDLE %s - + 1",
							QUEUE, GROUP, idle);
		bool found = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0;
		if (r)
			freeReplyObject(r);
		if (!found)
			return;
		atomic_store(&ob.reclaim, true);
	}
	wake_senders(false);	/* again each beat while the flag stays: a sender may have just blocked */
}

/* Caller holds ob.lock. */
static bool senders_done(void)
{
	for (size_t i = 0; i < ob.n; i++)
		if (!atomic_load(&ob.senders[i].done))
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
	/* Test-only: another lease (and idle time), e.g. to cut a sender off. */
	const char *t = getenv("WK_TEST_NOTIFY_LEASE_MS");
	int64_t v;
	if (t && wk_parse_i64(t, 300, 600000, &v))
		ob.lease_ms = ob.idle_ms = v;
	atomic_store(&ob.draining, false);
	atomic_store(&ob.drain_started_ms, 0);
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
	atomic_store(&ob.reclaim, false);
	ob.next_maintain = 0;
	if (heartbeat_add(outbox_renew, NULL, ob.lease_ms / 3) < 0 ||
	    heartbeat_add(outbox_watch, NULL, ob.idle_ms / 3 < 1000 ? ob.idle_ms / 3 : 1000) < 0)
		return -1;
	gethostname(host, sizeof(host) - 1);
	for (size_t i = 0; i < ob.n; i++) {
		struct sender *sd = &ob.senders[i];
		snprintf(sd->owner, sizeof(sd->owner), "%s:%d:%zu:%08x", host, (int)getpid(), i,
			 (unsigned)wk_mono_us() ^ (unsigned)(i << 8));
		pthread_mutex_init(&sd->hold.lock, NULL);
		atomic_store(&sd->done, false);
		atomic_store(&sd->grouped, false);
		sd->store = store_open(cfg->redis_url, cfg->redis_timeout_ms);
		if (pthread_create(&sd->thread, NULL, sender_main, sd) != 0) {
			store_close(sd->store);
			pthread_mutex_destroy(&sd->hold.lock);
			ob.n = i;
			return -1;
		}
	}
	pthread_mutex_lock(&ob.lock);
	ob.started = true;
	pthread_mutex_unlock(&ob.lock);
	return 0;
}

void outbox_drain_begin(void)
{
	int64_t zero = 0;

	atomic_store(&ob.draining, true);
	atomic_compare_exchange_strong(&ob.drain_started_ms, &zero, wk_mono_us() / 1000);
	wake_senders(true);
}

bool outbox_busy(void)
{
	for (size_t i = 0; ob.started && i < ob.n; i++)
		if (!atomic_load(&ob.senders[i].done))
			return true;
	return false;
}

bool outbox_drain(int64_t drain_ms)
{
	struct timespec until;
	bool all = true;
	int64_t left;

	outbox_drain_begin();
	if (!ob.started)
		return true;
	/* The drain began at the signal: what is left of it. */
	left = atomic_load(&ob.drain_started_ms) + drain_ms - wk_mono_us() / 1000;
	until = realtime_after(left < 0 ? 0 : left);
	pthread_mutex_lock(&ob.lock);
	while (!(all = senders_done()))
		if (pthread_cond_timedwait(&ob.idle, &ob.lock, &until) == ETIMEDOUT)
			break;
	all = senders_done();
	pthread_mutex_unlock(&ob.lock);
	if (!all)
		log_warn("notify.drain", "note=\"sends still in flight after %lld ms; cutting them off (their "
			 "outcome is checked by whoever sends next)\"", (long long)drain_ms);
	return all;
}

void outbox_stop(void)
{
	if (!ob.started)
		return;
	outbox_drain_begin();
	for (size_t i = 0; i < ob.n; i++)
		pthread_join(ob.senders[i].thread, NULL);
	/* The watch (heartbeat) uses the senders' stores until it sees this. */
	pthread_mutex_lock(&ob.lock);
	ob.started = false;
	pthread_mutex_unlock(&ob.lock);
	for (size_t i = 0; i < ob.n; i++) {
		store_close(ob.senders[i].store);
		pthread_mutex_destroy(&ob.senders[i].hold.lock);
	}
	for (size_t i = 0; i < ARRAY_LEN(channels); i++)
		if (channels[i].in_flight(ob.cfg) > 0)
			sem_destroy(&ob.slots[i]);
	ob.n = 0;
}
