/* twilio_webhooks.c - see twilio_webhooks.h */
#include "adapters/twilio_webhooks.h"
#include "adapters/twilio.h"
#include "bot/buf.h"
#include "bot/form.h"
#include "bot/incident.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/page.h"
#include "bot/org.h"
#include "bot/store.h"
#include "bot/util.h"
#include "bot/workers.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TWIML_TYPE "text/xml; charset=utf-8"
#define EVENTS_MAXLEN "100"		/* status changes kept per notification */

#define HELP_TEXT "Watchkeeper: reply ACK 42, RES 42 or ESC 42 (42 = the incident number) to " \
		  "acknowledge, resolve or escalate. Reply STOP to stop texts, START to resume."
#define UNKNOWN_SENDER_TEXT "Watchkeeper doesn't know this number. Add it to your profile " \
			    "with /oncall me phone in chat, then reply again."

enum twilio_hook { HOOK_STATUS, HOOK_SMS };

struct twilio_job {
	enum twilio_hook hook;
	struct http_call *call;
	char message_sid[64];
	char status[32];
	char error_code[16];
	char from[24];
	char *body;		/* inbound SMS text, may be "" */
};

/* ---- small checks on peer values ---- */

static bool charset_ok(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr(extra, s[i])))
			return false;
	return true;
}

static bool copy_if(char *dst, size_t size, const char *v, size_t min, const char *extra)
{
	dst[0] = '\0';
	if (!v || !charset_ok(v, min, size - 1, extra))
		return false;
	wk_strlcpy(dst, v, size);
	return true;
}

static void respond_twiml(struct http_response *resp, int status, const char *text)
{
	struct buf b = BUF_INIT(8192);

	if (text)
		twilio_twiml_message(&b, text);
	else
		twilio_twiml_empty(&b);
	resp->status = status;
	resp->content_type = TWIML_TYPE;
	resp->body = buf_detach(&b, &resp->len);
}

/* ---- status callbacks (worker) ---- */

/* Order of statuses; a callback never moves a notification back (twilio.md 3.2). */
static const struct store_script status_script = {
	"twilio_status",
	"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
	"local rank = { accepted = 1, scheduled = 1, queued = 1, sending = 2, sent = 3,\n"
	"  partially_delivered = 4, delivered = 5, undelivered = 5, failed = 5, canceled = 5, read = 6 }\n"
	"redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'sid', ARGV[4],\n"
	"  'status', ARGV[1], 'error', ARGV[2], 'ts', ARGV[3])\n"
	"local cur = redis.call('HGET', KEYS[1], 'provider_status')\n"
	"if cur and (rank[cur] or 0) > (rank[ARGV[1]] or 0) then return 2 end\n"
	"redis.call('HSET', KEYS[1], 'provider_status', ARGV[1], 'provider_error', ARGV[2],\n"
	"  'provider_status_ms', ARGV[3])\n"
	"return 1\n",
	NULL,
};

static void status_run(struct worker *w, struct twilio_job *job)
{
	char map_key[96], nkey[512], ekey[520], now[24], org[128] = "", id[80] = "";
	const char *keys[2], *args[5];
	redisReply *r;
	int outcome = -1;

	snprintf(map_key, sizeof(map_key), "wk:notify:sid:%s", job->message_sid);
	r = store_command(w->store, "HMGET %s org id", map_key);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
		/* The mapping is ours, but keys are built from it: check its shape anyway. */
		if (charset_ok(r->element[0]->str, 1, sizeof(org) - 1, "._:-") &&
		    charset_ok(r->element[1]->str, 1, sizeof(id) - 1, "._-")) {
			wk_strlcpy(org, r->element[0]->str, sizeof(org));
			wk_strlcpy(id, r->element[1]->str, sizeof(id));
		}
	}
	if (r)
		freeReplyObject(r);
	if (org[0] && org_key(nkey, sizeof(nkey), org, "notification:%s", id) == 0 &&
	    org_key(ekey, sizeof(ekey), org, "notification:%s:events", id) == 0) {
		snprintf(now, sizeof(now), "%" PRId64, wk_now_ms());
		keys[0] = nkey;
		keys[1] = ekey;
		args[0] = job->status;
		args[1] = job->error_code;
		args[2] = now;
		args[3] = job->message_sid;
		args[4] = EVENTS_MAXLEN;
		r = store_script(w->store, &status_script, 2, keys, 5, args);
		if (r && r->type == REDIS_REPLY_INTEGER)
			outcome = (int)r->integer;
		if (r)
			freeReplyObject(r);
	}
	/* Provider outcomes per channel, next to sent/retry/failed from the outbox. */
	if (outcome == 1 && (strcmp(job->status, "delivered") == 0 || strcmp(job->status, "undelivered") == 0 ||
			     strcmp(job->status, "failed") == 0))
		metrics_outbound("sms", strcmp(job->status, "delivered") == 0 ? "delivered" : "undelivered");
	log_info("twilio.status", "sid=%s status=%s error=%s result=%s", job->message_sid, job->status,
		 job->error_code[0] ? job->error_code : "-",
		 !org[0] ? "unmapped" : outcome == 1 ? "recorded" : outcome == 2 ? "stale" :
		 outcome == 0 ? "no_notification" : "store_error");
}

/* ---- inbound SMS (worker) ---- */

/* The index may be stale (a number changed without the index following):
 * trust it only while the member's profile still carries that phone. */
static int sender_of(struct store *s, const char *phone, char *org, size_t osize, char *member,
		     size_t msize)
{
	char key[512];
	redisReply *r;
	int rc = twilio_phone_index_get(s, phone, org, osize, member, msize);

	if (rc != 1)
		return rc;
	if (!org_member_id_valid(member) || org_key(key, sizeof(key), org, "member:%s", member) < 0)
		return 0;
	r = store_command(s, "HGET %s phone", key);
	if (!r)
		return -1;
	rc = r->type == REDIS_REPLY_STRING && strcmp(r->str, phone) == 0 ? 1 : 0;
	freeReplyObject(r);
	return rc;
}

static bool set_optout(struct store *s, const char *phone, bool out)
{
	char key[64], now[24];
	redisReply *r;
	bool ok;

	snprintf(key, sizeof(key), "wk:phone_optout:%s", phone);
	snprintf(now, sizeof(now), "%" PRId64, wk_now_ms());
	r = out ? store_command(s, "SET %s %s", key, now) : store_command(s, "DEL %s", key);
	ok = r && r->type != REDIS_REPLY_ERROR;
	if (r)
		freeReplyObject(r);
	return ok;
}

/* ACK|RES|ESC <n> for INC-<n>, when the sender was paged for it. 1 done (the
 * answer in text), 0 not theirs, -1 store failure. */
static int sms_incident(struct store *s, const char *org, const char *member, const struct sms_reply *sr,
			char *text, size_t size)
{
	static const struct {
		enum sms_action sms;
		enum incident_action action;
		const char *done;
	} map[] = {
		{ SMS_ACK, INC_ACK, "Acknowledged INC-%lu. Nobody else is paged for it." },
		{ SMS_RESOLVE, INC_RESOLVE, "Resolved INC-%lu." },
		{ SMS_ESCALATE, INC_ESCALATE, "Escalated INC-%lu: the next step is paged now." },
	};
	struct incident_result res;
	int paged = incident_paged(s, org, (int64_t)sr->incident, member);

	if (paged <= 0)
		return paged;
	for (size_t i = 0; i < ARRAY_LEN(map); i++) {
		if (map[i].sms != sr->action)
			continue;
		struct incident_change c = { .action = map[i].action, .by = member, .via = "sms" };
		if (incident_change(s, org, (int64_t)sr->incident, &c, wk_now_ms(), &res) < 0)
			return -1;
		switch (res.outcome) {
		case INC_DONE:
			snprintf(text, size, map[i].done, sr->incident);
			break;
		case INC_ALREADY_ACKED:
			snprintf(text, size, "INC-%lu was already acknowledged.", sr->incident);
			break;
		case INC_IS_RESOLVED:
			snprintf(text, size, "INC-%lu is resolved already.", sr->incident);
			break;
		case INC_NOT_TRIGGERED:
			snprintf(text, size, "INC-%lu is acknowledged, so it is not escalating.", sr->incident);
			break;
		case INC_LAST_STEP:
			snprintf(text, size, "INC-%lu has no further step to escalate to.", sr->incident);
			break;
		case INC_MISSING:
			return 0;
		}
		return 1;
	}
	return 0;
}

/* ACK <n> for a page (page.h) the sender was sent: true with the answer in
 * text when n names one of their pages. */
static bool sms_ack_page(struct store *s, const char *org, const char *member, unsigned long n,
			 char *text, size_t size)
{
	char id[24];
	enum page_ack_result res;

	snprintf(id, sizeof(id), "p%lu", n);
	if (page_ack(s, org, id, member, "sms", wk_now_ms(), &res) < 0 ||
	    (res != PAGE_ACKED && res != PAGE_ALREADY))
		return false;
	snprintf(text, size, res == PAGE_ACKED ? "Acknowledged #%lu. Nothing more will be sent for it."
					       : "#%lu was already acknowledged.", n);
	return true;
}

/* Fills resp: a TwiML answer (text NULL = empty Response). */
static void sms_run(struct worker *w, struct twilio_job *job, struct http_response *resp)
{
	char org[128], member[80], text[256];
	struct sms_reply sr;
	int who;

	sms_reply_parse(job->body, &sr);
	who = twilio_e164_valid(job->from) ?
		sender_of(w->store, job->from, org, sizeof(org), member, sizeof(member)) : 0;
	if (who < 0) {
		/* A 5xx would only send Twilio to a fallback URL we don't have; telling
		 * the person to retry is better than silence. */
		respond_twiml(resp, 200, "Watchkeeper could not record that just now. Please try again in a minute.");
		log_warn("twilio.sms", "result=store_error error=\"%s\"", store_error(w->store));
		return;
	}
	if (who == 0) {
		/* Nothing written. After STOP Twilio blocks replies anyway: send none. */
		respond_twiml(resp, 200, sr.action == SMS_STOP || sr.action == SMS_START ? NULL
											 : UNKNOWN_SENDER_TEXT);
		log_info("twilio.sms", "sender=unknown action=%s", sms_action_name(sr.action));
		return;
	}
	switch (sr.action) {
	case SMS_ACK:
	case SMS_RESOLVE:
	case SMS_ESCALATE: {
		int rc = sms_incident(w->store, org, member, &sr, text, sizeof(text));
		if (rc == 0 && sr.action == SMS_ACK)
			rc = sms_ack_page(w->store, org, member, sr.incident, text, sizeof(text)) ? 1 : 0;
		if (rc < 0) {
			respond_twiml(resp, 200, "Watchkeeper could not record that just now. Please try again in a minute.");
			log_warn("twilio.sms", "result=store_error action=%s", sms_action_name(sr.action));
			return;
		}
		if (rc == 0)
			snprintf(text, sizeof(text), "You were not paged for incident %lu, so this number can't "
						     "act on it. Reply with the number from your page.", sr.incident);
		respond_twiml(resp, 200, text);
		break;
	}
	case SMS_STOP:
	case SMS_START:
		/* Twilio's Advanced Opt-Out answers STOP/START itself (and blocks our replies
		 * after STOP), so we only record the state and stay silent. */
		if (!set_optout(w->store, job->from, sr.action == SMS_STOP))
			log_warn("twilio.sms", "result=store_error action=%s", sms_action_name(sr.action));
		respond_twiml(resp, 200, NULL);
		break;
	case SMS_HELP:
	case SMS_UNKNOWN:
		respond_twiml(resp, 200, HELP_TEXT);
		break;
	}
	log_info("twilio.sms", "sender=known org=%s member=%s action=%s incident=%lu", org, member,
		 sms_action_name(sr.action), sr.incident);
}

static void twilio_job_run(struct worker *w, void *arg)
{
	struct twilio_job *job = arg;
	struct http_response resp = { 0 };

	if (job->hook == HOOK_STATUS) {
		status_run(w, job);
		respond_twiml(&resp, 200, NULL);
	} else {
		sms_run(w, job, &resp);
	}
	http_call_finish(job->call, &resp);
	http_response_free(&resp);
	free(job->body);
	free(job);
}

/* ---- routes (loop thread) ---- */

/* <public_url><path> into b, without a doubled '/'. */
static void public_url_of(const struct http_request *req, struct buf *b)
{
	const char *base = req->cfg->public_url;
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	buf_add(b, base, n);
	buf_adds(b, req->path);
}

/* Decode and verify; on failure fill resp and return false with *form empty. */
static bool authentic(struct http_request *req, struct http_response *resp, struct form *form)
{
	struct buf url = BUF_INIT(8192);
	char err[FORM_ERR_SIZE];
	char path[300];
	bool ok;

	if (!twilio_configured(req->cfg)) {
		http_respond_text(resp, 404, "SMS is not configured on this Watchkeeper.");
		return false;
	}
	/* The signature covers the decoded parameters, so the (strict, side-effect
	 * free) decoder runs first; a body it refuses cannot be verified. */
	if (form_parse(req->body, req->body_len, form, err, sizeof(err)) < 0) {
		log_warn("twilio.auth", "path=%s reason=\"malformed form\"",
			 http_path_for_log(req->path, path, sizeof(path)));
		http_respond_text(resp, 403, "Invalid Twilio request signature.");
		return false;
	}
	public_url_of(req, &url);
	ok = twilio_signature_valid(req->cfg->twilio_auth_token, buf_cstr(&url), form, req->headers[0]);
	buf_free(&url);
	if (!ok) {
		log_warn("twilio.auth", "path=%s reason=\"%s\"", http_path_for_log(req->path, path, sizeof(path)),
			 req->headers[0][0] ? "signature mismatch" : "missing X-Twilio-Signature");
		form_free(form);
		http_respond_text(resp, 403, "Invalid Twilio request signature.");
		return false;
	}
	return true;
}

static enum route_result submit(struct http_request *req, struct twilio_job *job,
				struct http_response *resp)
{
	char key[WORK_KEY_MAX];

	/* Webhooks are unauthenticated as to org until Redis is read: an SMS
	 * reply is keyed by its sender, delivery reports share one key. */
	snprintf(key, sizeof(key), "twilio:%s", job->hook == HOOK_SMS ? job->from : "status");
	if (http_call_submit(req, &job->call, WORK_WEBHOOK, key, twilio_job_run, job))
		return ROUTE_PENDING;
	free(job->body);
	free(job);
	http_respond_text(resp, 503, "Watchkeeper is shutting down.");
	return ROUTE_DONE;
}

enum route_result twilio_route_status(struct http_request *req, struct http_response *resp)
{
	struct form form = { 0 };
	struct twilio_job *job;
	const char *code;

	if (!authentic(req, resp, &form))
		return ROUTE_DONE;
	job = xcalloc(1, sizeof(*job));
	job->hook = HOOK_STATUS;
	code = form_get(&form, "ErrorCode");
	if (!copy_if(job->message_sid, sizeof(job->message_sid), form_get(&form, "MessageSid"), 2, "") ||
	    !copy_if(job->status, sizeof(job->status), form_get(&form, "MessageStatus"), 1, "_") ||
	    (code && code[0] && !copy_if(job->error_code, sizeof(job->error_code), code, 1, ""))) {
		/* Signed by Twilio but not a shape we know: acknowledge, record nothing. */
		log_warn("twilio.status", "reason=\"missing or malformed MessageSid/MessageStatus/ErrorCode\"");
		form_free(&form);
		free(job);
		respond_twiml(resp, 200, NULL);
		return ROUTE_DONE;
	}
	form_free(&form);
	return submit(req, job, resp);
}

enum route_result twilio_route_sms(struct http_request *req, struct http_response *resp)
{
	struct form form = { 0 };
	struct twilio_job *job;
	const char *body;

	if (!authentic(req, resp, &form))
		return ROUTE_DONE;
	job = xcalloc(1, sizeof(*job));
	job->hook = HOOK_SMS;
	/* A malformed From simply makes an unknown sender. */
	copy_if(job->from, sizeof(job->from), form_get(&form, "From"), 1, "+");
	copy_if(job->message_sid, sizeof(job->message_sid), form_get(&form, "MessageSid"), 2, "");
	body = form_get(&form, "Body");
	/* The parser reads at most SMS_REPLY_MAX_BYTES + 1 bytes; keep no more. */
	job->body = xstrndup(body ? body : "", SMS_REPLY_MAX_BYTES + 1);
	form_free(&form);
	return submit(req, job, resp);
}
