/* outbox_channels.c - the outbox's channels (outbox.h): the channel table and
 * each channel's send and verify (Slack DM / channel / card, Teams DM /
 * channel / card, SMS, email, the console), the shared shapes of a chat send
 * (send_reply) and of a card send (send_cards), the buttons a notification
 * carries, which channel carries chat for a platform or posts into a place,
 * the console's preview, and the channels a member can be reached on. */
#include "bot/outbox_int.h"
#include "adapters/slack_api.h"
#include "adapters/teams_notify.h"
#include "adapters/twilio.h"
#include "bot/buf.h"
#include "bot/incident_card.h"
#include "bot/mail.h"
#include "bot/member.h"
#include "bot/org.h"
#include "bot/page.h"
#include "bot/reply.h"
#include "bot/util.h"

#include <stdio.h>
#include <string.h>

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

	return slack_channel_post(cfg, s, b->items[0].org, b->items[0].member, r, &note, retry_after, NULL, 0, why,
				  whysize);
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
static int64_t teams_per_second(const struct config *cfg) { return cfg->teams_max_per_second; }
static int64_t sms_gap_ms(const struct config *cfg) { return cfg->notify_sms_gap_s * 1000; }
static int64_t sms_per_hour(const struct config *cfg) { return cfg->notify_sms_per_hour; }
static int64_t email_gap_ms(const struct config *cfg) { return cfg->notify_email_gap_s * 1000; }
static int64_t email_per_hour(const struct config *cfg) { return cfg->notify_email_per_hour; }

/* The send interface a channel plugs into (Teams adds a row): what a row
 * holds is in outbox_int.h (struct channel). */
const struct channel outbox_channels[] = {
	{ "slack", "chat", slack_configured, send_slack, verify_slack, unlimited, unlimited, slack_gap_ms,
	  unlimited },
	{ "slack_channel", "chat", slack_configured, send_slack_channel, verify_slack_channel, unlimited,
	  unlimited, slack_gap_ms, unlimited },
	/* The incident card: paced like a channel post, at most one a second. */
	{ "slack_card", "chat", slack_configured, send_slack_card, verify_slack_channel, unlimited, unlimited,
	  slack_gap_ms, unlimited },
	{ "teams", "chat", teams_configured, send_teams, NULL, unlimited, teams_per_second, teams_gap_ms, unlimited },
	{ "teams_channel", "chat", teams_configured, send_teams_channel, NULL, unlimited, teams_per_second, teams_gap_ms,
	  unlimited },
	{ "teams_card", "chat", teams_configured, send_teams_card, NULL, unlimited, teams_per_second, teams_gap_ms,
	  unlimited },
	{ "sms", "SMS", twilio_configured, send_sms, verify_sms, sms_in_flight, sms_per_second, sms_gap_ms,
	  sms_per_hour },
	{ "email", "email", mail_configured, send_email, NULL, unlimited, unlimited, email_gap_ms,
	  email_per_hour },
	/* Chat for the console's people: there is no provider, only the preview. */
	{ "console", "chat", never_configured, send_nowhere, NULL, unlimited, unlimited, unlimited,
	  unlimited },
};
_Static_assert(ARRAY_LEN(outbox_channels) == OUTBOX_NCHANNELS, "OUTBOX_NCHANNELS: the rows above");

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

const struct channel *outbox_channel_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(outbox_channels); i++)
		if (strcmp(outbox_channels[i].name, name) == 0)
			return &outbox_channels[i];
	return NULL;
}

void outbox_set_preview(outbox_preview_fn show)
{
	preview = show;
}

bool outbox_previewed(const struct config *cfg, const char *channel)
{
	const struct channel *ch = outbox_channel_find(channel);

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
	if ((chat = outbox_chat_channel(m.platform)) && (preview || outbox_channel_find(chat)->configured(cfg)))
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

/* The console's preview of a batch on a channel this instance cannot reach:
 * the message as its person would get it, and where it would have gone. */
enum send_outcome outbox_show_batch(const struct config *cfg, struct store *s, const struct batch *b,
				    const struct channel *ch, char *why, size_t whysize)
{
	struct member m;
	struct reply r;
	struct outbox_preview pv = { .org = b->items[0].org, .member = b->items[0].member, .channel = ch->label };
	bool chat = outbox_is_chat_channel(ch->name);

	reply_init(&r);
	if (ch->send == send_slack_card) {
		/* The card as the channel would see it (the first one of a bundle). */
		if (incident_card_reply(cfg, s, pv.org, b->items[0].text, &r) != 0)
			reply_textf(&r, "INC-%s", b->items[0].text);
	} else if (chat) {
		chat_reply(b, &r);
	} else {
		batch_text(b, &r.text);
		ack_hint(b, strcmp(ch->name, "sms") == 0 ? SMS_ACK_HOW : EMAIL_ACK_HOW, &r.text);
		if (member_get(s, pv.org, pv.member, &m) == 0)
			pv.address = strcmp(ch->name, "sms") == 0 ? m.phone : m.email;
	}
	pv.reply = &r;
	preview(&pv);
	reply_free(&r);
	snprintf(why, whysize, "%s", chat ? "shown in the console" : "not configured here; shown in the console");
	return SEND_SHOWN;
}
