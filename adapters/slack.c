/* slack.c - see slack.h */
#include "adapters/slack.h"
#include "adapters/slack_event.h"
#include "adapters/slack_manifest.h"
#include "adapters/adapter.h"
#include "adapters/slack_users.h"
#include "adapters/slack_socket.h"
#include "adapters/slack_verify.h"
#include "bot/courier.h"
#include "bot/crypto.h"
#include "bot/dispatch.h"
#include "bot/form.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/store_pipe.h"
#include "bot/util.h"
#include "bot/workers.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLACK_TEXT_MAX 3000	/* section text limit */

/* ---- Slack's three entities ---- */

/* Slack sends &, < and > in typed text as &amp;, &lt; and &gt; (mentions stay
 * raw <@U..>), and wants the same in what we send. Replies reach here with user
 * text already stripped of < and > by reply_escape(), so every < or > left is
 * our own mention markup and only & needs escaping. */
static void slack_escape(const char *in, size_t len, struct buf *out)
{
	const char *amp;

	while (len && (amp = memchr(in, '&', len))) {
		buf_add(out, in, (size_t)(amp - in));
		buf_adds(out, "&amp;");
		len -= (size_t)(amp - in) + 1;
		in = amp + 1;
	}
	buf_add(out, in, len);
}

/* ---- rendering ---- */

/* Rendering writes the JSON straight into the reply buffer: this runs for
 * every command, and a jansson tree of a dozen objects cost more than the
 * command's own work. Each piece returns 0, or -1 when the buffer is full. */

/* {"type":"mrkdwn","text":...}, text escaped for Slack through tmp. */
static int put_mrkdwn(struct buf *out, struct buf *tmp, const char *text, size_t len)
{
	buf_reset(tmp);
	slack_escape(text, len, tmp);
	if (buf_adds(out, "{\"type\":\"mrkdwn\",\"text\":") < 0 ||
	    buf_add_json_string(out, buf_cstr(tmp), tmp->len) < 0)
		return -1;
	return buf_addc(out, '}');
}

/* A block: a comma before all but the first. */
static int put_block_start(struct buf *out, size_t *nblocks)
{
	return (*nblocks)++ ? buf_addc(out, ',') : 0;
}

/* Slack caps section text at 3000 characters: split at line ends. */
static int put_text_sections(struct buf *out, struct buf *tmp, size_t *nblocks, const char *text)
{
	size_t len = strlen(text);

	while (len) {
		size_t n = len;
		if (n > SLACK_TEXT_MAX) {
			n = SLACK_TEXT_MAX;
			while (n > 1 && text[n - 1] != '\n')
				n--;
			if (n <= 1)
				n = SLACK_TEXT_MAX;
			while (n > 1 && ((unsigned char)text[n] & 0xC0) == 0x80)
				n--;	/* never split a UTF-8 sequence */
		}
		if (put_block_start(out, nblocks) < 0 || buf_adds(out, "{\"type\":\"section\",\"text\":") < 0 ||
		    put_mrkdwn(out, tmp, text, n) < 0 || buf_addc(out, '}') < 0)
			return -1;
		text += n;
		len -= n;
	}
	return 0;
}

/* Slack shows top-level text in notifications and reads it to screen-reader
 * users, so it carries the whole message, not just the headline. */
static void fallback_text(const struct reply *r, struct buf *fb)
{
	size_t n;

	buf_adds(fb, buf_cstr(&r->text));
	for (size_t i = 0; i < r->nsections; i++) {
		if (!r->sections[i].text[0])
			continue;
		if (fb->len && fb->data[fb->len - 1] != '\n')
			buf_addc(fb, '\n');
		buf_adds(fb, r->sections[i].text);
		for (size_t f = 0; f < r->sections[i].nfields; f++)
			buf_printf(fb, "\n%s: %s", r->sections[i].fields[f].label,
				   r->sections[i].fields[f].value);
	}
	{
		struct buf esc = BUF_INIT(0);
		slack_escape(fb->data ? fb->data : "", fb->len, &esc);
		buf_free(fb);
		*fb = esc;
	}
	n = fb->len;
	if (n > SLACK_TEXT_MAX) {
		n = SLACK_TEXT_MAX;
		while (n && ((unsigned char)fb->data[n] & 0xC0) == 0x80)
			n--;	/* cut on a character boundary */
		fb->len = n;
		fb->data[n] = '\0';
	}
}

static int put_fields(struct buf *out, struct buf *tmp, size_t *nblocks, const struct reply_section *s)
{
	struct buf field = BUF_INIT(0);
	int rc = 0;

	if (put_block_start(out, nblocks) < 0 || buf_adds(out, "{\"type\":\"section\",\"fields\":[") < 0)
		return -1;
	for (size_t f = 0; f < s->nfields && rc == 0; f++) {
		buf_reset(&field);
		rc = buf_printf(&field, "*%s*\n%s", s->fields[f].label, s->fields[f].value) < 0 ||
		     (f && buf_addc(out, ',') < 0) || put_mrkdwn(out, tmp, buf_cstr(&field), field.len) < 0 ? -1 : 0;
	}
	buf_free(&field);
	return rc < 0 || buf_adds(out, "]}") < 0 ? -1 : 0;
}

static int put_buttons(struct buf *out, size_t *nblocks, const struct reply *r)
{
	if (put_block_start(out, nblocks) < 0 ||
	    buf_adds(out, "{\"type\":\"actions\",\"block_id\":\"wk_actions\",\"elements\":[") < 0)
		return -1;
	for (size_t i = 0; i < r->nbuttons; i++) {
		const struct reply_button *b = &r->buttons[i];
		if ((i && buf_addc(out, ',') < 0) || buf_adds(out, "{\"type\":\"button\",\"action_id\":") < 0 ||
		    buf_add_json_string(out, b->action_id, strlen(b->action_id)) < 0 ||
		    buf_adds(out, ",\"value\":") < 0 || buf_add_json_string(out, b->value, strlen(b->value)) < 0 ||
		    buf_adds(out, ",\"text\":{\"type\":\"plain_text\",\"text\":") < 0 ||
		    buf_add_json_string(out, b->label, strlen(b->label)) < 0 || buf_addc(out, '}') < 0)
			return -1;
		if (b->style != BUTTON_DEFAULT &&
		    buf_adds(out, b->style == BUTTON_PRIMARY ? ",\"style\":\"primary\"" : ",\"style\":\"danger\"") < 0)
			return -1;
		if (buf_addc(out, '}') < 0)
			return -1;
	}
	return buf_adds(out, "]}");
}

static int slack_render(const struct reply *r, struct buf *out)
{
	struct buf fallback = BUF_INIT(64 * 1024), tmp = BUF_INIT(0);
	size_t nblocks = 0;
	int rc;

	fallback_text(r, &fallback);
	rc = buf_adds(out, r->visibility == REPLY_IN_CHANNEL ? "{\"response_type\":\"in_channel\""
							   : "{\"response_type\":\"ephemeral\"") < 0 ||
	     (r->replace_original && buf_adds(out, ",\"replace_original\":true") < 0) ||
	     buf_adds(out, ",\"text\":") < 0 || buf_add_json_string(out, buf_cstr(&fallback), fallback.len) < 0 ||
	     buf_adds(out, ",\"blocks\":[") < 0 ||
	     (r->text.len && put_text_sections(out, &tmp, &nblocks, buf_cstr(&r->text)) < 0) ? -1 : 0;
	for (size_t i = 0; rc == 0 && i < r->nsections; i++) {
		const struct reply_section *s = &r->sections[i];
		if ((s->text[0] && put_text_sections(out, &tmp, &nblocks, s->text) < 0) ||
		    (s->nfields && put_fields(out, &tmp, &nblocks, s) < 0))
			rc = -1;
	}
	if (rc == 0 && ((r->nbuttons && put_buttons(out, &nblocks, r) < 0) || buf_adds(out, "]}") < 0))
		rc = -1;
	buf_free(&fallback);
	buf_free(&tmp);
	return rc;
}

static void slack_post_late(const char *response_url, const struct reply *r)
{
	struct buf out = BUF_INIT(256 * 1024);
	char *body;
	size_t len;

	if (slack_render(r, &out) < 0) {
		buf_reset(&out);
		buf_adds(&out, "{\"response_type\":\"ephemeral\",\"text\":\"That answer was too long to show.\"}");
	}
	body = buf_detach(&out, &len);
	courier_post_json(response_url, NULL, body, len, "slack.response_url");
}

const struct adapter_ops slack_adapter = {
	.name = "slack",
	.platform = PLATFORM_SLACK,
	.render = slack_render,
	.post_late = slack_post_late,
};

/* ---- work on a worker thread ---- */

struct slack_job {
	struct request req;
	/* Who waits for the answer: an HTTP call or a Socket Mode envelope's ack.
	 * Neither for button clicks and second passes: Slack got its answer. */
	struct http_call *call;
	uint64_t ack;	/* slack_socket_reply() id, 0 for none */
	/* Second pass of an email-invite claim: users.info's answer. */
	bool looked_up;
	struct courier_response lookup;
	/* Begun on the loop thread (bot/store_pipe.h): its org touch, or NULL. */
	struct dispatch_touch *touch;
	const struct config *cfg;
};

static void slack_job_free(struct slack_job *job)
{
	if (job->touch) {
		dispatch_touch_free(job->touch);
		free(job->touch);
	}
	request_free(&job->req);
	if (job->looked_up)
		courier_response_free(&job->lookup);
	free(job);
}

/* The fairness key: one workspace's work waits in its own queue. */
static void job_key(const struct slack_job *job, char *key, size_t size)
{
	snprintf(key, size, "slack:%s", job->req.org_external);
}

static void deliver_late(struct slack_job *job, char *body, size_t len)
{
	if (!job->req.response_url[0]) {
		log_warn("slack.late", "reason=\"no response_url\" command=%s", job->req.command);
		free(body);
		return;
	}
	courier_post_json(job->req.response_url, NULL, body, len, "slack.response_url");
}

static void slack_job_run(struct worker *w, void *arg);

/* Courier completion thread: users.info answered (or failed). Only hands the
 * answer to the pool; the claim and the command run on a worker. */
static void lookup_answered(void *arg, struct courier_response *resp)
{
	struct slack_job *job = arg;
	char key[WORK_KEY_MAX];

	job->looked_up = true;
	job->lookup = *resp;
	job_key(job, key, sizeof(key));
	if (workers_submit(job->req.action_id[0] ? WORK_ACTION : WORK_COMMAND, key, slack_job_run, job) == 0)
		return;
	static const char bye[] = "{\"response_type\":\"ephemeral\",\"text\":\"Watchkeeper is restarting; "
				  "please run that again in a minute.\"}";
	deliver_late(job, xstrdup(bye), sizeof(bye) - 1);
	slack_job_free(job);
}

/* dispatch_env.lookup_email: a copy of the request goes along with the
 * users.info call and comes back to the pool with its answer. */
static int slack_lookup_email(const struct dispatch_env *env, const struct request *req)
{
	struct slack_job *again = xcalloc(1, sizeof(*again));

	again->req = *req;
	again->req.text = xstrdup(req->text);
	/* The second pass is this request's own continuation, not a replay of it. */
	again->req.replay_id[0] = '\0';
	if (slack_users_info_start_in(env->cfg, env->store, req->org_external, req->user_id, lookup_answered, again) < 0) {
		log_info("slack.users_info", "user=%s result=-1 why=\"no bot token or not a Slack user id\"",
			 req->user_id);
		slack_job_free(again);
		return -1;
	}
	return 0;
}

/* The answer, rendered and handed to whoever waits for it (on the loop
 * thread: written at once), else posted late. Frees job. */
static void job_answer(struct slack_job *job, struct reply *r, enum cmd_result res, bool on_loop)
{
	struct buf out = BUF_INIT(256 * 1024);
	struct http_response resp = { 0 };

	if (slack_render(r, &out) < 0) {
		buf_reset(&out);
		buf_adds(&out, "{\"response_type\":\"ephemeral\",\"text\":\"That answer was too long to show.\"}");
	}
	reply_free(r);
	resp.status = 200;
	resp.content_type = "application/json";
	resp.body = buf_detach(&out, &resp.len);
	bool taken = job->call ? (on_loop ? http_call_answer(job->call, &resp) : http_call_finish(job->call, &resp))
		   /* A redelivered envelope is acked plainly: its first delivery answers. */
		   : job->ack ? slack_socket_reply(job->ack, res == CMD_REPLAYED ? NULL : resp.body, resp.len,
						   job->req.response_url)
		   : false;
	if (!taken && res != CMD_REPLAYED) {
		deliver_late(job, resp.body, resp.len);	/* a replay gets its 200 and nothing else */
		resp.body = NULL;
	}
	http_response_free(&resp);
	slack_job_free(job);
}

static void slack_job_run(struct worker *w, void *arg)
{
	struct slack_job *job = arg;
	struct dispatch_email email = { 0 };
	struct dispatch_env env = { .store = w->store, .cfg = w->cfg, .lookup_email = slack_lookup_email,
				    .schedules = w->schedules, .touch = job->touch };
	struct reply r;

	if (job->looked_up) {
		char why[200], q[240];

		email.rc = slack_users_info_email(&job->lookup, email.email, sizeof(email.email), why, sizeof(why));
		if (email.rc != 0)
			log_info("slack.users_info", "user=%s result=%d why=%s", job->req.user_id, email.rc,
				 log_quote(q, sizeof(q), why));
		env.email = &email;
	}
	reply_init(&r);
	enum cmd_result res = dispatch_request(&env, &job->req, &r);
	job_answer(job, &r, res, false);
}

/* ---- request signing (loop thread) ---- */

bool slack_request_authentic(struct http_request *req, struct http_response *resp)
{
	const char *secret = req->cfg->slack_signing_secret;
	enum slack_verify_result v;

	if (!secret[0]) {
		http_respond_text(resp, 401, "Slack is not configured on this Watchkeeper: set WK_SLACK_SIGNING_SECRET.");
		return false;
	}
	v = slack_verify_request(secret, req->headers[0], req->headers[1], req->body, req->body_len,
				 (int64_t)time(NULL));
	if (v == SLACK_VERIFY_OK)
		return true;
	char path[300];
	log_warn("slack.auth", "path=%s reason=\"%s\"", http_path_for_log(req->path, path, sizeof(path)),
		 slack_verify_reason(v));
	http_respond_text(resp, 401, "Invalid Slack request signature.");
	return false;
}

/* ---- from a form or an envelope to a job (loop or Socket Mode thread) ---- */

/* The fields of a slash command, wherever they came from: the HTTP form or a
 * slash_commands envelope's payload (the same fields as a JSON object). */
struct slack_fields {
	const char *(*get)(const void *src, const char *name);
	const void *src;
};

static const char *form_field(const void *src, const char *name)
{
	return form_get(src, name);
}

static const char *jstr(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *json_field(const void *src, const char *name)
{
	return jstr((json_t *)src, name);
}

/* One field into dst; false with a sentence in err when a required one is
 * missing or one does not fit (never truncated). */
static bool copy_field(char *dst, size_t size, const char *value, bool required, const char *name, char *err,
		       size_t errsz)
{
	if (!value || !value[0]) {
		dst[0] = '\0';
		if (required)
			snprintf(err, errsz, "Missing field %s.", name);
		return !required;
	}
	if (wk_strlcpy(dst, value, size) >= size) {
		snprintf(err, errsz, "Field %s is too long.", name);
		return false;
	}
	return true;
}

static bool url_acceptable(const char *url)
{
	return strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0;
}

static void job_free_unsubmitted(struct slack_job *job)
{
	request_free(&job->req);
	free(job);
}

/* A slash command's job, or NULL with err set. */
static struct slack_job *command_job(const struct config *cfg, const struct slack_fields *f, char *err,
				     size_t errsz)
{
	struct slack_job *job = xcalloc(1, sizeof(*job));
	const char *command = f->get(f->src, "command"), *text = f->get(f->src, "text");
	struct request *r = &job->req;

	request_init(r, PLATFORM_SLACK);
	if (!copy_field(r->org_external, sizeof(r->org_external), f->get(f->src, "team_id"), true, "team_id", err, errsz) ||
	    !copy_field(r->user_id, sizeof(r->user_id), f->get(f->src, "user_id"), true, "user_id", err, errsz) ||
	    !copy_field(r->user_name, sizeof(r->user_name), f->get(f->src, "user_name"), false, "user_name", err, errsz) ||
	    !copy_field(r->channel_id, sizeof(r->channel_id), f->get(f->src, "channel_id"), false, "channel_id", err, errsz) ||
	    !copy_field(r->response_url, sizeof(r->response_url), f->get(f->src, "response_url"), false, "response_url", err, errsz) ||
	    !copy_field(r->command, sizeof(r->command), command && command[0] == '/' ? command + 1 : NULL, true, "command", err, errsz)) {
		job_free_unsubmitted(job);
		return NULL;
	}
	if (r->response_url[0] && !url_acceptable(r->response_url))
		r->response_url[0] = '\0';
	/* A registered name (slack.commands, "oncall-prod") runs its command; the
	 * table's own names still work for an app set up before they were configurable. */
	const char *mapped = slack_name_command(cfg, r->command);
	if (mapped)
		wk_strlcpy(r->command, mapped, sizeof(r->command));
	free(r->text);
	r->text = slack_text_unescape(text ? text : "");
	return job;
}

/* A block_actions payload's job, or NULL: with err set when the payload is
 * not one we can read, with err "" when it is a kind we don't handle (Slack
 * still gets its 200 or ack). */
static struct slack_job *action_job(json_t *p, char *err, size_t errsz)
{
	json_t *action = json_array_get(json_object_get(p, "actions"), 0);
	const char *action_id = jstr(action, "action_id"), *team;
	struct slack_job *job;
	struct request *r;

	err[0] = '\0';
	if (!json_is_object(p) || !jstr(p, "type")) {
		snprintf(err, errsz, "The payload is not a JSON object with a type.");
		return NULL;
	}
	if (strcmp(jstr(p, "type"), "block_actions") != 0)
		return NULL;	/* not ours to handle yet */
	team = jstr(json_object_get(p, "team"), "id");
	if (!team)
		team = jstr(json_object_get(p, "user"), "team_id");
	job = xcalloc(1, sizeof(*job));
	r = &job->req;
	request_init(r, PLATFORM_SLACK);
	if (!action_id || !strchr(action_id, '.') ||
	    !copy_field(r->org_external, sizeof(r->org_external), team, true, "team.id", err, errsz) ||
	    !copy_field(r->user_id, sizeof(r->user_id), jstr(json_object_get(p, "user"), "id"), true, "user.id", err, errsz) ||
	    !copy_field(r->channel_id, sizeof(r->channel_id), jstr(json_object_get(p, "channel"), "id"), false, "channel.id", err, errsz) ||
	    !copy_field(r->response_url, sizeof(r->response_url), jstr(p, "response_url"), false, "response_url", err, errsz) ||
	    !copy_field(r->action_id, sizeof(r->action_id), action_id, true, "action_id", err, errsz) ||
	    !copy_field(r->action_value, sizeof(r->action_value), jstr(action, "value"), false, "value", err, errsz)) {
		if (!err[0])
			snprintf(err, errsz, "The payload has no action this app made.");
		job_free_unsubmitted(job);
		return NULL;
	}
	size_t cmdlen = (size_t)(strchr(action_id, '.') - action_id);
	if (cmdlen >= sizeof(r->command)) {
		snprintf(err, errsz, "Unknown action.");
		job_free_unsubmitted(job);
		return NULL;
	}
	memcpy(r->command, action_id, cmdlen);
	r->command[cmdlen] = '\0';
	if (!url_acceptable(r->response_url))
		r->response_url[0] = '\0';
	return job;
}

/* 0: a worker owns job. -1 (shutting down): the caller still owns it. */
static int job_submit(struct slack_job *job)
{
	char key[WORK_KEY_MAX];

	job_key(job, key, sizeof(key));
	return workers_submit(job->req.action_id[0] ? WORK_ACTION : WORK_COMMAND, key, slack_job_run, job);
}

/* ---- inbound over HTTP (loop thread) ---- */

/* A verified request's signature is unique to that delivery (Slack signs each
 * one with its own timestamp), so it names the delivery for replay protection
 * until the timestamp leaves the window. */
static void mark_delivery(struct request *r, const struct http_request *req)
{
	int64_t ts = 0;

	wk_strlcpy(r->replay_id, req->headers[1] + 3, sizeof(r->replay_id));	/* after "v0=" */
	wk_parse_i64(req->headers[0], 0, INT64_MAX, &ts);
	r->replay_until = (long long)(ts + SLACK_VERIFY_MAX_SKEW);
}

static enum route_result submit(struct slack_job *job, struct http_response *resp)
{
	if (job_submit(job) == 0)
		return ROUTE_PENDING;
	/* Only during shutdown: the call's worker reference must still be dropped. */
	if (job->call) {
		struct http_response none = { 0 };
		http_call_finish(job->call, &none);
		http_response_free(&none);
	}
	job_free_unsubmitted(job);
	http_respond_text(resp, 503, "Watchkeeper is shutting down.");
	return ROUTE_DONE;
}

/* ---- on the loop thread, through its Redis pipe (bot/store_pipe.h) ---- */

/* The job to a worker, its touch kept when it has an answer (dispatch.h's
 * pass 4). During shutdown it is answered instead. */
static void loop_to_worker(struct slack_job *job)
{
	if (job->touch && job->touch->state != TOUCH_ANSWERED) {
		dispatch_touch_free(job->touch);
		free(job->touch);
		job->touch = NULL;
	}
	if (job_submit(job) == 0)
		return;
	struct reply r;
	reply_init(&r);
	reply_textf(&r, "Watchkeeper is restarting; please run that again in a minute.");
	job_answer(job, &r, CMD_REFUSED, true);
}

static void loop_touched(void *arg, redisReply *reply, bool ran);

/* dispatch's passes 1 and 3 (dispatch.h): the answer here when it needs no
 * store, else the touch through the pipe, else a worker. */
static void loop_dispatch(struct slack_job *job)
{
	struct dispatch_env env = { .cfg = job->cfg, .schedules = store_pipe_schedules(), .touch = job->touch };
	struct dispatch_touch *t = job->touch;
	struct reply r;

	reply_init(&r);
	enum cmd_result res = dispatch_request(&env, &job->req, &r);
	if (res == CMD_NEEDS_TOUCH &&
	    store_pipe_script(&org_touch_script, t->call.nkeys, t->call.keys, t->call.nargs, t->call.args,
			      loop_touched, job) == 0) {
		reply_free(&r);
		return;
	}
	if (res == CMD_NEEDS_TOUCH || res == CMD_NEEDS_WORKER) {
		reply_free(&r);
		loop_to_worker(job);
		return;
	}
	metrics_loop_answered();
	job_answer(job, &r, res, true);
}

static void loop_touched(void *arg, redisReply *reply, bool ran)
{
	struct slack_job *job = arg;

	if (!reply && !ran) {	/* it never ran: as if it had never been tried */
		loop_to_worker(job);
		return;
	}
	dispatch_touch_answer(job->touch, reply);
	loop_dispatch(job);
}

enum route_result slack_route_commands(struct http_request *req, struct http_response *resp)
{
	struct form form = { 0 };
	char err[FORM_ERR_SIZE + 32];
	struct slack_job *job;

	if (!slack_request_authentic(req, resp)) {
		/* Slack's SSL check is the one unsigned request; look only after a failed check. */
		if (form_parse(req->body, req->body_len, &form, err, sizeof(err)) == 0 &&
		    form_get(&form, "ssl_check") && !form_get(&form, "command") &&
		    strcmp(form_get(&form, "ssl_check"), "1") == 0)
			http_respond(resp, 200, "text/plain", "", 0);
		form_free(&form);
		return ROUTE_DONE;
	}
	if (form_parse(req->body, req->body_len, &form, err, FORM_ERR_SIZE) < 0) {
		char msg[FORM_ERR_SIZE + 64];
		snprintf(msg, sizeof(msg), "Malformed form: %s.", err);
		http_respond_text(resp, 400, msg);
		return ROUTE_DONE;
	}
	if (form_get(&form, "ssl_check")) {
		http_respond(resp, 200, "text/plain", "", 0);
		form_free(&form);
		return ROUTE_DONE;
	}
	job = command_job(req->cfg, &(struct slack_fields){ form_field, &form }, err, sizeof(err));
	form_free(&form);
	if (!job) {
		http_respond_text(resp, 400, err);
		return ROUTE_DONE;
	}
	mark_delivery(&job->req, req);
	job->call = http_call_begin(req, req->cfg->slack_ack_after_ms, "application/json", SLACK_WORKING_BODY);
	job->cfg = req->cfg;
	job->touch = xcalloc(1, sizeof(*job->touch));
	loop_dispatch(job);
	return ROUTE_PENDING;
}

enum route_result slack_route_actions(struct http_request *req, struct http_response *resp)
{
	struct form form = { 0 };
	char err[FORM_ERR_SIZE];
	json_error_t jerr;
	json_t *p = NULL;
	struct slack_job *job;
	const char *payload;

	if (!slack_request_authentic(req, resp))
		return ROUTE_DONE;
	if (form_parse(req->body, req->body_len, &form, err, sizeof(err)) < 0 ||
	    !(payload = form_get(&form, "payload"))) {
		http_respond_text(resp, 400, "Expected a form with a payload field.");
		form_free(&form);
		return ROUTE_DONE;
	}
	p = json_loads(payload, JSON_REJECT_DUPLICATES, &jerr);
	form_free(&form);
	job = action_job(p, err, sizeof(err));
	json_decref(p);
	if (!job) {
		if (err[0])
			http_respond_text(resp, 400, err);
		else
			http_respond(resp, 200, "text/plain", "", 0);
		return ROUTE_DONE;
	}
	mark_delivery(&job->req, req);
	http_respond(resp, 200, "text/plain", "", 0);	/* Slack wants the 200 now; the answer follows */
	submit(job, resp);	/* on failure resp becomes a 503 */
	return ROUTE_DONE;
}

/* ---- inbound over Socket Mode (its thread) ---- */

/* Socket Mode deliveries carry no signature; an id Slack gives one
 * invocation names it instead, as a hash so any length fits replay_id. A
 * redelivery of an unacked envelope comes with a new envelope_id but the same
 * invocation. */
static void mark_envelope(struct request *r, const char *kind, const char *const *parts, size_t n)
{
	struct buf key = BUF_INIT(4096);
	unsigned char h[CRYPTO_SHA256_LEN];

	buf_adds(&key, kind);
	for (size_t i = 0; i < n; i++) {
		buf_addc(&key, '\n');
		buf_adds(&key, parts[i] ? parts[i] : "");
	}
	crypto_sha256(buf_cstr(&key), key.len, h);
	buf_free(&key);
	crypto_hex(h, sizeof(h), r->replay_id);
	r->replay_until = (long long)(wk_now_ms() / 1000) + SLACK_SOCKET_REPLAY_S;
	r->replay_own_key = true;	/* counted from its arrival: see request.h */
}

int slack_envelope_command(const struct config *cfg, json_t *payload, uint64_t ack, char *err, size_t errsz)
{
	struct slack_job *job;
	const char *trigger = jstr(payload, "trigger_id");

	if (!json_is_object(payload)) {
		snprintf(err, errsz, "The payload is not a JSON object.");
		return -1;
	}
	if (!trigger || !trigger[0]) {
		snprintf(err, errsz, "Missing field trigger_id.");
		return -1;
	}
	job = command_job(cfg, &(struct slack_fields){ json_field, payload }, err, errsz);
	if (!job)
		return -1;
	mark_envelope(&job->req, "slash_commands", &trigger, 1);
	job->ack = ack;
	if (job_submit(job) == 0)
		return 0;
	job_free_unsubmitted(job);
	snprintf(err, errsz, "Watchkeeper is shutting down; please run that again in a minute.");
	return -1;
}

int slack_envelope_action(json_t *payload, char *err, size_t errsz)
{
	struct slack_job *job = action_job(payload, err, errsz);
	json_t *action, *container;

	if (!job)
		return err[0] ? -1 : 0;
	action = json_array_get(json_object_get(payload, "actions"), 0);
	container = json_object_get(payload, "container");
	const char *parts[] = { jstr(action, "action_ts"), jstr(action, "action_id"), jstr(action, "block_id"),
				jstr(container, "message_ts"), jstr(container, "view_id"), job->req.user_id };
	mark_envelope(&job->req, "interactive", parts, ARRAY_LEN(parts));
	if (job_submit(job) == 0)
		return 0;
	job_free_unsubmitted(job);
	snprintf(err, errsz, "Watchkeeper is shutting down.");
	return -1;
}
