/* slack_events.c - see slack_events.h. */
#include "adapters/slack_events.h"
#include "adapters/adapter.h"
#include "adapters/chat_text.h"
#include "adapters/slack.h"
#include "adapters/slack_api.h"
#include "adapters/slack_event.h"
#include "adapters/slack_home.h"
#include "adapters/slack_tokens.h"
#include "bot/crypto.h"
#include "bot/dispatch.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/org.h"
#include "bot/util.h"
#include "bot/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A challenge is a few dozen characters; more is not Slack's. */
#define SLACK_CHALLENGE_MAX 512
/* How long dispatch remembers an @mention it ran (the event_id dedupe holds
 * a day; this is the second lock, on the command itself). */
#define MENTION_REPLAY_S 3600

struct event_job {
	struct slack_event ev;
	const struct event_type *type;
};

/* ---- Web API calls, not waited for ---- */

/* r as a chat.postMessage / chat.postEphemeral body: the renderer's Block Kit
 * into channel (and thread), for user only when user is set. */
static json_t *message_body(const struct reply *r, const char *channel, const char *thread_ts, const char *user)
{
	char why[120];
	json_t *msg = slack_message_json(r, why, sizeof(why));

	if (!msg)
		msg = json_pack("{s:s}", "text", "That answer was too long to show.");
	json_object_set_new(msg, "channel", json_string(channel));
	json_object_set_new(msg, "thread_ts", json_string(thread_ts));
	if (user)
		json_object_set_new(msg, "user", json_string(user));
	return msg;
}

/* Start method with msg (taken) in ev's workspace; false (logged) when it can't start. */
static bool web_call(struct worker *w, const struct slack_event *ev, const char *method, json_t *msg)
{
	char why[200], q[240], label[96];

	snprintf(label, sizeof(label), "event=%s", ev->event_id);
	if (slack_api_post_async(w->cfg, w->store, ev->team_id, method, msg, label, why, sizeof(why)) == 0)
		return true;
	log_warn("slack.event", "team=%s type=%s event=%s call=%s outcome=not_sent why=%s", ev->team_id, ev->type,
		 ev->event_id, method, log_quote(q, sizeof(q), why));
	return false;
}

/* ---- the handlers, by event type ---- */

/* The replay id of an event's command: Slack gives each event its own id. */
static void mark_delivery(struct request *r, const char *event_id)
{
	unsigned char d[CRYPTO_SHA256_LEN];
	char both[96];
	int n = snprintf(both, sizeof(both), "slack_event\n%s", event_id);

	crypto_sha256(both, n > 0 ? (size_t)n : 0, d);
	crypto_hex(d, sizeof(d), r->replay_id);
	r->replay_until = (long long)(wk_now_ms() / 1000 + MENTION_REPLAY_S);
	r->replay_own_key = true;	/* counted from its arrival: see request.h */
}

static bool on_mention(struct worker *w, struct slack_event *ev)
{
	struct dispatch_env env = { .store = w->store, .cfg = w->cfg, .schedules = w->schedules };
	const char *thread = ev->thread_ts[0] ? ev->thread_ts : ev->ts;
	struct request req;
	struct reply r;
	enum cmd_result res;

	if (ev->from_bot || !ev->user[0] || !ev->channel[0] || !ev->ts[0] || !ev->text) {
		log_info("slack.event", "team=%s type=%s event=%s outcome=ignored why=\"%s\"", ev->team_id, ev->type,
			 ev->event_id, ev->from_bot ? "written by an app" : "no user, channel, ts or text");
		return true;
	}
	request_init(&req, PLATFORM_SLACK);
	wk_strlcpy(req.org_external, ev->team_id, sizeof(req.org_external));
	wk_strlcpy(req.user_id, ev->user, sizeof(req.user_id));
	wk_strlcpy(req.channel_id, ev->channel, sizeof(req.channel_id));
	chat_command_split(&req, slack_mention_text(ev->text, ev->bot_user));
	mark_delivery(&req, ev->event_id);
	reply_init(&r);
	res = dispatch_request(&env, &req, &r);
	if (res != CMD_REPLAYED && r.personal) {
		/* Ephemeral, in the thread where it was asked: only the asker sees
		 * it, as with the slash command, and no DM has to be opened. No
		 * note in the thread when the answer could not even be started. */
		if (web_call(w, ev, "chat.postEphemeral", message_body(&r, ev->channel, thread, ev->user))) {
			struct reply note;
			reply_init(&note);
			note.visibility = REPLY_IN_CHANNEL;
			reply_textf(&note, "<@%s> I answered you here privately (only you can see it).", ev->user);
			web_call(w, ev, "chat.postMessage", message_body(&note, ev->channel, thread, NULL));
			reply_free(&note);
		}
	} else if (res != CMD_REPLAYED) {
		web_call(w, ev, "chat.postMessage", message_body(&r, ev->channel, thread, NULL));
	}
	reply_free(&r);
	request_free(&req);
	return res != CMD_STORE_ERROR;
}

static bool on_home(struct worker *w, struct slack_event *ev)
{
	char why[200], q[240];
	json_t *view;

	if (strcmp(ev->tab, "home") != 0 || !ev->user[0]) {
		log_debug("slack.event", "team=%s type=%s event=%s outcome=ignored tab=%s", ev->team_id, ev->type,
			  ev->event_id, ev->tab[0] ? ev->tab : "-");
		return true;
	}
	if (!(view = slack_home_build(w, ev->team_id, ev->user, why, sizeof(why)))) {
		log_warn("slack.event", "team=%s type=%s event=%s outcome=failed why=%s", ev->team_id, ev->type,
			 ev->event_id, log_quote(q, sizeof(q), why));
		return false;
	}
	return web_call(w, ev, "views.publish", view);
}

static bool on_uninstall(struct worker *w, struct slack_event *ev)
{
	bool revoked = strcmp(ev->type, "tokens_revoked") == 0;

	if (revoked && !ev->bot_tokens) {
		log_info("slack.uninstalled", "team=%s event=%s outcome=ignored why=\"only user tokens were revoked; "
					      "Watchkeeper holds none\"", ev->team_id, ev->event_id);
		return true;
	}
	int rc = slack_tokens_forget(w->cfg, w->store, ev->team_id);
	log_info("slack.uninstalled", "team=%s event=%s type=%s token=%s data=kept", ev->team_id, ev->event_id,
		 ev->type, rc == 0 ? "forgotten" : "redis_failed");
	return rc == 0;
}

/* What each event type does. The manifest subscribes to exactly these
 * (slack_events_type()). A handler returns false when it failed. */
static const struct event_type {
	const char *name;
	bool (*handle)(struct worker *w, struct slack_event *ev);
} event_types[] = {
	{ "app_mention", on_mention },
	{ "app_home_opened", on_home },
	{ "app_uninstalled", on_uninstall },
	{ "tokens_revoked", on_uninstall },
};

const char *slack_events_type(size_t i)
{
	return i < ARRAY_LEN(event_types) ? event_types[i].name : NULL;
}

/* ---- the worker ---- */

/* 1 the first delivery of ev (now recorded), 0 a redelivery, -1 Redis failed. */
static int first_delivery(struct store *s, const struct slack_event *ev)
{
	char org[96], key[256];
	redisReply *r;
	int rc;

	if (org_id_make(PLATFORM_SLACK, ev->team_id, org, sizeof(org)) < 0 ||
	    org_key(key, sizeof(key), org, "slack_event:%s", ev->event_id) < 0)
		return -1;
	r = store_command(s, "SET %s 1 NX EX %d", key, SLACK_EVENTS_DEDUPE_S);
	rc = !r || r->type == REDIS_REPLY_ERROR ? -1 : r->type == REDIS_REPLY_STATUS ? 1 : 0;
	if (r)
		freeReplyObject(r);
	return rc;
}

static void event_job_free(struct event_job *job)
{
	slack_event_free(&job->ev);
	free(job);
}

static void event_run(struct worker *w, void *arg)
{
	struct event_job *job = arg;
	int64_t t0 = wk_mono_us();
	int first = first_delivery(w->store, &job->ev);
	char q[200];

	if (first == 0) {
		metrics_command("slack_event", job->type->name, "duplicate", -1);
		log_info("slack.event", "team=%s type=%s event=%s outcome=duplicate", job->ev.team_id, job->ev.type,
			 job->ev.event_id);
		event_job_free(job);
		return;
	}
	if (first < 0)	/* handled anyway: the handlers' own steps are idempotent or replay-protected */
		log_warn("slack.event", "team=%s type=%s event=%s dedupe=failed why=%s", job->ev.team_id, job->ev.type,
			 job->ev.event_id, log_quote(q, sizeof(q), store_error(w->store)));
	bool ok = job->type->handle(w, &job->ev);
	metrics_command("slack_event", job->type->name, ok ? "ok" : "failed", wk_mono_us() - t0);
	event_job_free(job);
}

int slack_events_submit(const struct config *cfg, json_t *payload)
{
	struct event_job *job = xcalloc(1, sizeof(*job));
	char why[160], key[WORK_KEY_MAX];

	(void)cfg;
	if (slack_event_parse(payload, &job->ev, why, sizeof(why)) < 0) {
		log_info("slack.event", "outcome=refused why=\"%s\"", why);
		event_job_free(job);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(event_types) && !job->type; i++)
		if (strcmp(event_types[i].name, job->ev.type) == 0)
			job->type = &event_types[i];
	metrics_command("slack_event", job->type ? job->type->name : "other", "received", -1);
	if (!job->type) {
		log_debug("slack.event", "team=%s type=%s event=%s outcome=ignored", job->ev.team_id, job->ev.type,
			  job->ev.event_id);
		event_job_free(job);
		return 0;
	}
	snprintf(key, sizeof(key), "slack:%s", job->ev.team_id);	/* as slash commands: one workspace's queue */
	if (workers_submit(WORK_COMMAND, key, event_run, job) < 0) {
		event_job_free(job);
		return 1;
	}
	return 0;
}

/* ---- POST /slack/events (loop thread) ---- */

static void refuse(struct http_response *resp, int status, const char *sentence)
{
	http_respond_text(resp, status, sentence);
	http_response_add_header(resp, "X-Slack-No-Retry", "1");	/* the same bytes can't do better */
}

enum route_result slack_route_events(struct http_request *req, struct http_response *resp)
{
	json_error_t err;
	json_t *p;
	const char *type, *challenge;

	if (!slack_request_authentic(req, resp))
		return ROUTE_DONE;
	if (req->body_len > SLACK_EVENTS_BODY_MAX) {
		refuse(resp, 413, "An Events API request may be at most 256 KiB.");
		return ROUTE_DONE;
	}
	p = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	type = json_string_value(json_object_get(p, "type"));
	if (!json_is_object(p) || !type) {
		refuse(resp, 400, "Expected a JSON object with a type, as the Events API sends.");
	} else if (strcmp(type, "url_verification") == 0) {
		challenge = json_string_value(json_object_get(p, "challenge"));
		if (!challenge || !challenge[0] || strlen(challenge) > SLACK_CHALLENGE_MAX) {
			refuse(resp, 400, "url_verification needs a challenge of at most 512 characters.");
		} else {
			json_t *answer = json_pack("{s:s}", "challenge", challenge);
			char *body = json_dumps(answer, JSON_COMPACT);
			http_respond(resp, 200, "application/json", body, strlen(body));
			free(body);
			json_decref(answer);
		}
	} else if (strcmp(type, "event_callback") == 0) {
		int rc = slack_events_submit(req->cfg, p);
		if (rc < 0)
			refuse(resp, 400, "The event_callback lacks an event_id, a team_id or an event with a type.");
		else if (rc > 0)
			http_respond_text(resp, 503, "Watchkeeper is shutting down; send the event again.");
		else
			http_respond(resp, 200, "text/plain", "", 0);
	} else {
		http_respond(resp, 200, "text/plain", "", 0);	/* not ours to handle */
	}
	json_decref(p);
	return ROUTE_DONE;
}
