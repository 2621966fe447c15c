/* teams.c - see teams.h */
#include "adapters/teams.h"
#include "adapters/adapter.h"
#include "adapters/teams_api.h"
#include "adapters/teams_auth.h"
#include "adapters/teams_card.h"
#include "adapters/teams_notify.h"
#include "adapters/chat_text.h"
#include "adapters/teams_text.h"
#include "bot/crypto.h"
#include "bot/dispatch.h"
#include "bot/log.h"
#include "bot/org.h"
#include "bot/store.h"
#include "bot/util.h"
#include "bot/workers.h"

#include <ctype.h>
#include <stddef.h>
#include <jansson.h>
#include <pthread.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#define TEAMS_WORKING "Working on it\u2026"
#define TEAMS_GREETING "Hi, I'm Watchkeeper: I run your team's on-call and incidents. Type `oncall help` " \
		       "here (or mention me in a channel, then `help`) to see what I can do."


enum teams_kind { TEAMS_COMMAND, TEAMS_SUBMIT, TEAMS_INVOKE, TEAMS_INSTALLED };

struct teams_job {
	enum teams_kind kind;
	const struct config *cfg;
	struct request req;
	struct http_call *call;		/* TEAMS_INVOKE: the invoke response goes here */
	char service_url[256];
	char conversation[256];
	char conv_type[16];		/* personal, groupChat, channel */
	char activity[128];		/* the inbound activity's id: replies thread under it */
	char from_id[160];		/* 29:... */
	/* People @mentioned in the command (teams_text.h), until the worker
	 * turns their marks into <@member>. */
	struct teams_mentions mentions;
	/* Second pass of an email-invite claim: the person's email from the
	 * Bot Connector's member lookup (dispatch_env.lookup_email). */
	bool looked_up;
	struct dispatch_email email;
	/* TEAMS_INSTALLED: the bot itself was added (greet), and the people
	 * added with it or after it (remembered for proactive messages). */
	bool bot_added;
	struct {
		char id[160];
		char aad[64];
	} added[TEAMS_MENTIONS_MAX];
	size_t nadded;
};

/* ---- the answer ---- */

static void sent(void *arg, int result, const char *activity_id, long retry_after, const char *why)
{
	char q[240];

	(void)arg;
	(void)activity_id;
	(void)retry_after;
	if (result != 0)
		log_warn("teams.reply", "result=%d why=%s", result, log_quote(q, sizeof(q), why ? why : ""));
}

/* Post an activity into the job's conversation, threaded under its activity
 * when there is one. Takes body. */
static void post(const struct teams_job *job, char *body, size_t len)
{
	teams_send_async(job->cfg, job->service_url, job->conversation,
			 job->activity[0] ? job->activity : NULL, body, len, sent, NULL);
}

static void render_reply(struct store *s, const char *org, const struct reply *r, struct buf *out, bool card_only)
{
	struct teams_names n = { s, org };

	if ((card_only ? teams_card_render(r, teams_member_name, &n, out)
		       : teams_activity_render(r, teams_member_name, &n, out)) < 0) {
		struct reply small;
		reply_init(&small);
		reply_textf(&small, "That answer was too long to show in Teams.");
		buf_reset(out);
		if (card_only)
			teams_card_render(&small, NULL, NULL, out);
		else
			teams_activity_render(&small, NULL, NULL, out);
		reply_free(&small);
	}
}

/* The invoke response (teams.md 2.5): the card that replaces the clicked one,
 * or the answer as a message. */
static void invoke_response(struct store *s, const char *org, const struct reply *r, struct http_response *resp)
{
	struct buf out = BUF_INIT(TEAMS_CARD_MAX + 4096);

	if (r->replace_original) {
		buf_adds(&out, "{\"statusCode\":200,\"type\":\"application/vnd.microsoft.card.adaptive\",\"value\":");
		render_reply(s, org, r, &out, true);
		buf_addc(&out, '}');
	} else {
		buf_adds(&out, "{\"statusCode\":200,\"type\":\"application/vnd.microsoft.activity.message\",\"value\":");
		buf_add_json_string(&out, buf_cstr(&r->text), r->text.len);
		buf_addc(&out, '}');
	}
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = buf_detach(&out, &resp->len);
}

/* ---- late answers (adapter_ops.post_late) ---- */

/* A Teams request's response_url is where its late answers go, in one string
 * ("teams|<serviceUrl>|<conversation>|<activity>": neither URLs nor Teams ids
 * hold a '|'), so commands that answer later (invites by email, GitHub sync,
 * notification tests) carry it like Slack's response_url. */
#define LATE_PREFIX "teams|"

static const struct config *teams_cfg;

static void late_target(struct teams_job *job)
{
	int n = snprintf(job->req.response_url, sizeof(job->req.response_url), LATE_PREFIX "%s|%s|%s",
			 job->service_url, job->conversation, job->activity);
	if (n < 0 || (size_t)n >= sizeof(job->req.response_url))
		job->req.response_url[0] = '\0';	/* too long to carry: no late answers */
}

static int teams_render(const struct reply *r, struct buf *out)
{
	return teams_activity_render(r, NULL, NULL, out);
}

static void teams_post_late(const char *response_url, const struct reply *r)
{
	char copy[512], *surl, *conv, *act;
	struct buf out = BUF_INIT(TEAMS_CARD_MAX + 4096);
	size_t len;

	if (!teams_cfg || strncmp(response_url, LATE_PREFIX, strlen(LATE_PREFIX)) != 0 ||
	    wk_strlcpy(copy, response_url + strlen(LATE_PREFIX), sizeof(copy)) >= sizeof(copy))
		return;
	surl = copy;
	if (!(conv = strchr(surl, '|')) || !(act = strchr(conv + 1, '|')))
		return;
	*conv++ = '\0';
	*act++ = '\0';
	if (teams_activity_render(r, NULL, NULL, &out) < 0) {
		buf_reset(&out);
		teams_text_activity("That answer was too long to show in Teams.", &out);
	}
	char *body = buf_detach(&out, &len);
	teams_send_async(teams_cfg, surl, conv, act[0] ? act : NULL, body, len, sent, NULL);
}

const struct adapter_ops teams_adapter = {
	.name = "teams",
	.platform = PLATFORM_TEAMS,
	.render = teams_render,
	.post_late = teams_post_late,
};

int teams_start(const struct config *cfg)
{
	teams_cfg = cfg;
	return teams_auth_start(cfg);
}

void teams_stop(void)
{
	teams_auth_stop();
}

/* ---- what the bot remembers about people and conversations ---- */

/* A person's Teams account, the way every script records it: member m (a
 * member id, or the alias's member), Teams id, service URL, tenant, and the
 * 1:1 chat when known (conv ""); teams_ids maps the Teams id back to m. */
#define TEAMS_PERSON_LUA \
	"local function wk_teams_person(p, m, id, surl, tenant, conv)\n" \
	"  local u = p .. 'teams_user:' .. m\n" \
	"  redis.call('HSET', u, 'id', id, 'service_url', surl, 'tenant', tenant)\n" \
	"  if conv ~= '' then redis.call('HSET', u, 'conversation', conv) end\n" \
	"  redis.call('HSET', p .. 'teams_ids', id, m)\n" \
	"end\n"

static const struct store_script seen_script = {
	"teams_seen",
	/* KEYS: teams_user:<aad>, teams_ids, teams_conv:<handle>. ARGV: 29: id,
	 * name, service url, now; the 1:1 conversation when this is one (""
	 * otherwise); the member id; the conversation and its type. What
	 * proactive messages, mentions (teams_ids: Teams id -> member id) and
	 * posts into a conversation by its handle (incident cards, handoff
	 * notices: teams_notify.h) need, with the tenant (the org may be a Slack
 * one the tenant is linked to); kept without expiry, like members. */
	"local p = string.match(KEYS[1], '^(wk:%b{}:)')\n"
	"wk_teams_person(p, ARGV[6], ARGV[1], ARGV[3], ARGV[9], ARGV[5])\n"
	"redis.call('HSET', KEYS[1], 'name', ARGV[2], 'seen_ms', ARGV[4])\n"
	"redis.call('HSET', KEYS[3], 'conversation', ARGV[7], 'service_url', ARGV[3], 'type', ARGV[8])\n"
	"return 1\n",
	TEAMS_PERSON_LUA
};

/* A small direct-mapped memory of what was written lately, so a person who
 * keeps typing costs no write per message: one process-wide table. */
#define SEEN_SLOTS 1024
#define SEEN_FOR_MS (3600LL * 1000)
static struct {
	pthread_mutex_t lock;
	uint64_t hash[SEEN_SLOTS];
	int64_t at[SEEN_SLOTS];
} seen = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void remember_person(struct store *s, const char *org, const struct teams_job *job, const char *member)
{
	char key[256], ids[160], conv[160], now[24];
	bool personal = strcmp(job->conv_type, "personal") == 0;
	uint64_t h = WK_HASH_SEED;
	int64_t t = wk_now_ms();
	size_t slot;

	for (const char *const *f = (const char *const[]){ org, member, job->from_id, job->req.user_name,
							    job->service_url, job->conversation, NULL }; *f; f++)
		h = wk_hash_str(h, *f);
	slot = (size_t)(h % SEEN_SLOTS);
	pthread_mutex_lock(&seen.lock);
	bool fresh = seen.hash[slot] == h && t - seen.at[slot] < SEEN_FOR_MS;
	pthread_mutex_unlock(&seen.lock);
	if (fresh || org_key(key, sizeof(key), org, "teams_user:%s", member) < 0 ||
	    org_key(ids, sizeof(ids), org, "teams_ids") < 0 ||
	    org_key(conv, sizeof(conv), org, "teams_conv:%s", job->req.channel_id) < 0)
		return;
	snprintf(now, sizeof(now), "%lld", (long long)t);
	const char *keys[] = { key, ids, conv };
	const char *args[] = { job->from_id, job->req.user_name, job->service_url, now,
			       personal ? job->conversation : "", member, job->conversation,
			       job->conv_type[0] ? job->conv_type : "channel", job->req.org_external };
	redisReply *r = store_script(s, &seen_script, 3, keys, 9, args);
	teams_names_forget(org, member);
	if (r && r->type == REDIS_REPLY_INTEGER) {
		pthread_mutex_lock(&seen.lock);
		seen.hash[slot] = h;
		seen.at[slot] = t;
		pthread_mutex_unlock(&seen.lock);
	}
	freeReplyObject(r);
}

/* ---- work on a worker ---- */

/* The marks teams_command_text() left become <@member> for people the bot
 * met (teams_ids maps their Teams id to their member id), else "@name". One
 * round trip, only when someone was mentioned. */
static void resolve_mentions(struct store *s, const char *org, struct teams_job *job)
{
	const char *argv[2 + TEAMS_MENTIONS_MAX], *ids[TEAMS_MENTIONS_MAX] = { 0 };
	char key[160];
	redisReply *r;
	const struct teams_mentions *m = &job->mentions;

	if (!m->n || org_key(key, sizeof(key), org, "teams_ids") < 0)
		return;
	argv[0] = "HMGET";
	argv[1] = key;
	for (size_t k = 0; k < m->n; k++)
		argv[2 + k] = m->who[k].id;
	r = store_commandargv(s, (int)(2 + m->n), argv, NULL);
	for (size_t k = 0; r && r->type == REDIS_REPLY_ARRAY && k < r->elements && k < m->n; k++)
		if (r->element[k]->type == REDIS_REPLY_STRING && org_member_id_valid(r->element[k]->str))
			ids[k] = r->element[k]->str;
	char *text = teams_mentions_resolve(job->req.text, m, ids);
	freeReplyObject(r);
	free(job->req.text);
	job->req.text = text;
}

static void job_free(struct teams_job *job)
{
	request_free(&job->req);
	free(job);
}

static const struct store_script installed_script = {
	"teams_installed",
	/* KEYS: teams_conv:<handle>. ARGV: the conversation, its service URL,
	 * its type, the tenant, then a Teams id and an AAD object id per person
	 * added. Each is remembered as when they write (remember_person), under
	 * the member they are an alias of if any, so a page or a notice can
	 * reach them before they ever wrote: their 1:1 chat when this is it. */
	"local p = string.match(KEYS[1], '^(wk:%b{}:)')\n"
	"redis.call('HSET', KEYS[1], 'conversation', ARGV[1], 'service_url', ARGV[2], 'type', ARGV[3])\n"
	"for i = 5, #ARGV - 1, 2 do\n"
	"  local m = redis.call('HGET', p .. 'aliases', ARGV[i + 1]) or ARGV[i + 1]\n"
	"  wk_teams_person(p, m, ARGV[i], ARGV[2], ARGV[4], ARGV[3] == 'personal' and ARGV[1] or '')\n"
	"end\n"
	"return 1\n",
	TEAMS_PERSON_LUA
};

static void remember_install(struct store *s, const char *org, const struct teams_job *job)
{
	char key[192];
	const char *args[4 + 2 * TEAMS_MENTIONS_MAX];
	int n = 0;

	if (org_key(key, sizeof(key), org, "teams_conv:%s", job->req.channel_id) < 0)
		return;
	args[n++] = job->conversation;
	args[n++] = job->service_url;
	args[n++] = job->conv_type[0] ? job->conv_type : "channel";
	args[n++] = job->req.org_external;
	for (size_t i = 0; i < job->nadded; i++) {
		args[n++] = job->added[i].id;
		args[n++] = job->added[i].aad;
	}
	const char *keys[] = { key };
	freeReplyObject(store_script(s, &installed_script, 1, keys, n, args));
}

static void greet(struct worker *w, struct teams_job *job, const char *org)
{
	char key[400];
	struct buf out = BUF_INIT(4096);
	redisReply *r;

	/* Greet once per conversation, however often Teams reports the install. */
	if (org_key(key, sizeof(key), org, "teams_greeted:%s", job->conversation) < 0)
		return;
	r = store_command(w->store, "SET %s 1 NX", key);
	bool first = r && r->type == REDIS_REPLY_STATUS;
	freeReplyObject(r);
	if (!first)
		return;
	teams_text_activity(TEAMS_GREETING, &out);
	size_t len;
	char *body = buf_detach(&out, &len);
	job->activity[0] = '\0';	/* a greeting starts its own thread */
	post(job, body, len);
}

/* The asker's own chat with the bot, when they ever wrote there: into conv. */
static bool personal_chat(struct store *s, const char *org, const char *member, char *conv, size_t size)
{
	char key[256];

	return org_key(key, sizeof(key), org, "teams_user:%s", member) == 0 &&
	       store_take_string(store_command(s, "HGET %s conversation", key), conv, size) == 0;
}

/* Post the answer where it was asked. Teams has no ephemeral messages, so an
 * answer only the asker may see (reply.personal) asked in a channel or group
 * chat goes to their 1:1 chat with the bot, with a note where they asked. */
static void answer(struct worker *w, struct teams_job *job, const char *org, const char *member, const struct reply *r,
		   struct buf *out)
{
	char conv[256];
	size_t len;
	char *body;

	if (r->personal && strcmp(job->conv_type, "personal") != 0) {
		const char *note = "I sent you the answer in our 1:1 chat.";
		render_reply(w->store, org, r, out, false);
		body = buf_detach(out, &len);
		if (personal_chat(w->store, org, member, conv, sizeof(conv))) {
			teams_send_async(job->cfg, job->service_url, conv, NULL, body, len, sent, NULL);
		} else {
			/* No chat yet: open one with the answer as its first message. */
			teams_open_chat_async(job->cfg, job->service_url, job->req.org_external, job->from_id, body, len,
					      sent, NULL);
			free(body);
		}
		buf_reset(out);
		teams_text_activity(note, out);
	} else {
		render_reply(w->store, org, r, out, false);
	}
	body = buf_detach(out, &len);
	post(job, body, len);
}

static int submit(enum work_class cls, struct teams_job *job);

/* The Bot Connector answered the member lookup (courier completion thread):
 * only hand the answer to the pool; the claim and the command run on a worker. */
static void member_answered(void *arg, int result, const struct teams_member *m, const char *why)
{
	struct teams_job *job = arg;
	char q[240];

	job->looked_up = true;
	job->email.rc = result == 0 ? ((m->email[0] || m->user_principal_name[0]) ? 0 : 1) : -1;
	wk_strlcpy(job->email.email, m->email[0] ? m->email : m->user_principal_name, sizeof(job->email.email));
	if (result != 0)
		log_info("teams.member", "user=%s result=%d why=%s", job->req.user_id, result,
			 log_quote(q, sizeof(q), why));
	if (submit(job->req.action_id[0] ? WORK_ACTION : WORK_COMMAND, job) < 0)
		job_free(job);
}

/* dispatch_env.lookup_email: a copy of the request goes along with the member
 * lookup and comes back to the pool with its answer (as Slack's users.info). */
static int teams_lookup_email(const struct dispatch_env *env, const struct request *req)
{
	const struct teams_job *job = env->lookup_arg;
	struct teams_job *again = xcalloc(1, sizeof(*again));

	*again = *job;
	again->req.text = xstrdup(req->text);
	again->req.replay_id[0] = '\0';	/* its own continuation, not a replay of it */
	again->kind = TEAMS_COMMAND;
	again->call = NULL;
	teams_get_member_async(env->cfg, job->service_url, job->conversation, req->user_id, member_answered, again);
	return 0;
}

/* Tenants linked to an org of another platform (org_link_redeem()), as met:
 * a link is never undone, so a positive entry never goes stale; a tenant not
 * in here is tried as its own org first, and org_touch says if it is linked. */
#define LINKS_MAX 256
static struct {
	pthread_mutex_t lock;
	struct {
		char tenant[64];
		char org[96];
	} e[LINKS_MAX];
	size_t n;
} links = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool link_get(const char *tenant, char *org, size_t size)
{
	bool found = false;

	pthread_mutex_lock(&links.lock);
	for (size_t i = 0; i < links.n && !found; i++)
		if (strcmp(links.e[i].tenant, tenant) == 0)
			found = wk_strlcpy(org, links.e[i].org, size) < size;
	pthread_mutex_unlock(&links.lock);
	return found;
}

static void link_put(const char *tenant, const char *org)
{
	pthread_mutex_lock(&links.lock);
	size_t i = links.n < LINKS_MAX ? links.n++ : (size_t)(wk_now_ms() % LINKS_MAX);
	wk_strlcpy(links.e[i].tenant, tenant, sizeof(links.e[i].tenant));
	wk_strlcpy(links.e[i].org, org, sizeof(links.e[i].org));
	pthread_mutex_unlock(&links.lock);
}

static void teams_job_run(struct worker *w, void *arg)
{
	struct teams_job *job = arg;
	char org[96], linked[96] = "", member[64] = "";
	struct dispatch_env env = { .store = w->store, .cfg = w->cfg, .lookup_email = teams_lookup_email,
				    .email = job->looked_up ? &job->email : NULL, .schedules = w->schedules,
				    .lookup_arg = job, .relinked = linked, .member_out = member };
	struct reply r;
	struct buf out = BUF_INIT(TEAMS_CARD_MAX + 4096);
	enum cmd_result res;
	char *typed = xstrdup(job->req.text);	/* before mentions are resolved in one org */

	if (link_get(job->req.org_external, org, sizeof(org)))
		env.org_id = org;
	else if (org_id_make(PLATFORM_TEAMS, job->req.org_external, org, sizeof(org)) < 0)
		goto done;
	if (job->kind == TEAMS_INSTALLED) {
		remember_install(w->store, org, job);
		if (job->bot_added)
			greet(w, job, org);
		goto done;
	}
	resolve_mentions(w->store, org, job);
	reply_init(&r);
	res = dispatch_request(&env, &job->req, &r);
	if (res == CMD_RELINK) {
		/* Linked since this process last looked: run it there. */
		link_put(job->req.org_external, linked);
		wk_strlcpy(org, linked, sizeof(org));
		env.org_id = org;
		free(job->req.text);
		job->req.text = xstrdup(typed);
		resolve_mentions(w->store, org, job);
		reply_reset(&r);
		res = dispatch_request(&env, &job->req, &r);
	}
	remember_person(w->store, org, job, member[0] ? member : job->req.user_id);
	if (job->kind == TEAMS_INVOKE) {
		struct http_response resp = { 0 };
		invoke_response(w->store, org, &r, &resp);
		bool taken = http_call_finish(job->call, &resp);
		http_response_free(&resp);
		if (taken && r.replace_original)
			goto out;
		if (taken && res == CMD_REPLAYED)
			goto out;
	}
	if (res != CMD_REPLAYED)
		answer(w, job, org, member[0] ? member : job->req.user_id, &r, &out);
out:
	reply_free(&r);
	buf_free(&out);
done:
	free(typed);
	job_free(job);
}

/* ---- inbound (loop thread) ---- */


static enum route_result refuse(struct http_response *resp, int status, const char *why, json_t *a,
				struct teams_job *job)
{
	char q[200];

	log_warn("teams.refused", "status=%d reason=%s", status, log_quote(q, sizeof(q), why));
	http_respond_text(resp, status, why);
	json_decref(a);
	if (job)
		job_free(job);
	return ROUTE_DONE;
}

static bool tenant_served(const struct config *cfg, const char *tenant)
{
	return strcmp(cfg->teams_tenant_id, "botframework.com") == 0 || strcasecmp(cfg->teams_tenant_id, tenant) == 0;
}

void teams_place_handle(const char *conversation, char *out, size_t size)
{
	unsigned char d[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_SIZE];

	crypto_sha256(conversation, strlen(conversation), d);
	crypto_hex(d, sizeof(d), hex);
	snprintf(out, size, "tc%.16s", hex);
}

/* One tenant's work waits in its own queue (the fairness key, workers.h). */
static int submit(enum work_class cls, struct teams_job *job)
{
	char key[WORK_KEY_MAX];

	snprintf(key, sizeof(key), "teams:%s", job->req.org_external);
	return workers_submit(cls, key, teams_job_run, job);
}

/* The replay id of an activity: Teams gives each delivery its own id. */
static void mark_delivery(struct request *r, const char *activity_id, const char *conversation, int64_t exp)
{
	unsigned char d[CRYPTO_SHA256_LEN];
	char both[512];
	int n = snprintf(both, sizeof(both), "%s\n%s", conversation, activity_id);

	crypto_sha256(both, n > 0 ? (size_t)n : 0, d);
	crypto_hex(d, sizeof(d), r->replay_id);
	r->replay_until = (long long)exp;
	r->replay_own_key = true;	/* the token's expiry, not the activity's: see request.h */
}

enum route_result teams_route_messages(struct http_request *req, struct http_response *resp)
{
	const struct config *cfg = req->cfg;
	struct teams_jwt_claims claims;
	const char *reason, *type, *surl, *tenant, *aad;
	json_t *a, *from, *conv, *value;
	json_error_t jerr;
	struct teams_job *job;
	int status;

	if (!cfg->teams_app_id[0]) {
		http_respond_text(resp, 404, "Teams is not set up on this Watchkeeper (set WK_TEAMS_APP_ID).");
		return ROUTE_DONE;
	}
	/* The token first: nothing of the body is read before it is good. */
	if ((status = teams_auth_check(cfg, req->headers[0], wk_now_ms(), &claims, &reason)) != 0) {
		if (status == 503)
			http_response_add_header(resp, "Retry-After", "5");
		return refuse(resp, status, reason, NULL, NULL);
	}
	a = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(a) || !(type = teams_json_str(a, "type")))
		return refuse(resp, 400, "The body is not an activity (a JSON object with a type).", a, NULL);
	surl = teams_json_str(a, "serviceUrl");
	if (!surl || !teams_service_url_equal(claims.serviceurl, surl))
		return refuse(resp, 401, "The activity's serviceUrl is not the one its token was issued for.", a, NULL);
	if (!teams_json_str(a, "channelId") || strcmp(teams_json_str(a, "channelId"), "msteams") != 0)
		return refuse(resp, 403, "Only Microsoft Teams activities are accepted here.", a, NULL);
	conv = json_object_get(a, "conversation");
	from = json_object_get(a, "from");
	tenant = teams_json_str(conv, "tenantId");
	if (!tenant)
		tenant = teams_json_str(json_object_get(json_object_get(a, "channelData"), "tenant"), "id");

	job = xcalloc(1, sizeof(*job));
	job->cfg = cfg;
	request_init(&job->req, PLATFORM_TEAMS);
	if (!tenant || !teams_copy_id(job->req.org_external, sizeof(job->req.org_external), tenant) ||
	    !teams_copy_id(job->service_url, sizeof(job->service_url), surl) ||
	    !teams_copy_id(job->conversation, sizeof(job->conversation), teams_json_str(conv, "id")))
		return refuse(resp, 400, "The activity lacks its tenant, serviceUrl or conversation id.", a, job);
	if (!tenant_served(cfg, tenant))
		return refuse(resp, 403, "This bot serves its home tenant only (teams.tenant_id).", a, job);
	teams_copy_id(job->conv_type, sizeof(job->conv_type), teams_json_str(conv, "conversationType"));
	teams_copy_id(job->activity, sizeof(job->activity), teams_json_str(a, "id"));

	if (strcmp(type, "conversationUpdate") == 0 || strcmp(type, "installationUpdate") == 0) {
		const char *bot = teams_json_str(json_object_get(a, "recipient"), "id");
		json_t *m;
		size_t i;
		json_array_foreach(json_object_get(a, "membersAdded"), i, m) {
			const char *mid = teams_json_str(m, "id"), *maad = teams_json_str(m, "aadObjectId");
			if (bot && mid && strcmp(mid, bot) == 0) {
				job->bot_added = true;
			} else if (mid && maad && org_member_id_valid(maad) && job->nadded < TEAMS_MENTIONS_MAX &&
				   teams_copy_id(job->added[job->nadded].id, sizeof(job->added[0].id), mid)) {
				wk_strlcpy(job->added[job->nadded].aad, maad, sizeof(job->added[0].aad));
				job->nadded++;
			}
		}
		if (strcmp(type, "installationUpdate") == 0 && teams_json_str(a, "action") && strcmp(teams_json_str(a, "action"), "add") == 0)
			job->bot_added = true;
		json_decref(a);
		http_respond(resp, 200, "text/plain", "", 0);
		if (!job->bot_added && !job->nadded) {
			job_free(job);
			return ROUTE_DONE;
		}
		teams_place_handle(job->conversation, job->req.channel_id, sizeof(job->req.channel_id));
		job->kind = TEAMS_INSTALLED;
		if (submit(WORK_COMMAND, job) < 0)
			job_free(job);
		return ROUTE_DONE;
	}

	aad = teams_json_str(from, "aadObjectId");
	bool invoke = strcmp(type, "invoke") == 0;
	value = json_object_get(a, "value");
	if (invoke ? !teams_json_str(a, "name") || strcmp(teams_json_str(a, "name"), "adaptiveCard/action") != 0
		   : strcmp(type, "message") != 0) {
		json_decref(a);
		job_free(job);
		http_respond(resp, 200, "text/plain", "", 0);	/* typing, reactions, ...: nothing to do */
		return ROUTE_DONE;
	}
	if (!aad || !org_member_id_valid(aad) || !teams_copy_id(job->req.user_id, sizeof(job->req.user_id), aad) ||
	    !teams_copy_id(job->from_id, sizeof(job->from_id), teams_json_str(from, "id")) || !job->activity[0])
		return refuse(resp, 400, "The activity lacks the sender's ids (from.id, from.aadObjectId) or its id.", a, job);
	if (!teams_copy_id(job->req.user_name, sizeof(job->req.user_name), teams_json_str(from, "name")))
		wk_strlcpy(job->req.user_name, "", sizeof(job->req.user_name));
	teams_place_handle(job->conversation, job->req.channel_id, sizeof(job->req.channel_id));
	mark_delivery(&job->req, job->activity, job->conversation, claims.exp);
	late_target(job);

	if (invoke || json_is_object(value)) {
		json_t *data = invoke ? json_object_get(json_object_get(value, "action"), "data") : value;
		const char *verb = invoke ? teams_json_str(json_object_get(value, "action"), "verb") : NULL;
		if (teams_card_action(data, verb, job->req.action_id, sizeof(job->req.action_id), job->req.action_value,
				      sizeof(job->req.action_value)) < 0)
			return refuse(resp, 400, "The card action is not one of this bot's buttons.", a, job);
		size_t cmdlen = (size_t)(strchr(job->req.action_id, '.') - job->req.action_id);
		if (cmdlen >= sizeof(job->req.command))
			return refuse(resp, 400, "Unknown action.", a, job);
		memcpy(job->req.command, job->req.action_id, cmdlen);
		job->req.command[cmdlen] = '\0';
		job->kind = invoke ? TEAMS_INVOKE : TEAMS_SUBMIT;
	} else {
		const char *bot = teams_json_str(json_object_get(a, "recipient"), "id");
		char *text = teams_command_text(teams_json_str(a, "text"), json_object_get(a, "entities"), bot ? bot : "",
						&job->mentions);
		job->kind = TEAMS_COMMAND;
		chat_command_split(&job->req, text);
	}
	json_decref(a);

	if (job->kind == TEAMS_INVOKE) {
		static const char ack[] = "{\"statusCode\":200,\"type\":\"application/vnd.microsoft.activity.message\","
					  "\"value\":\"" TEAMS_WORKING "\"}";
		job->call = http_call_begin(req, cfg->slack_ack_after_ms, "application/json", ack);
	} else {
		http_respond(resp, 200, "text/plain", "", 0);	/* the answer is a message of its own */
	}
	enum teams_kind kind = job->kind;	/* the job is the worker's once submitted */
	if (submit(kind == TEAMS_COMMAND ? WORK_COMMAND : WORK_ACTION, job) == 0)
		return kind == TEAMS_INVOKE ? ROUTE_PENDING : ROUTE_DONE;
	if (job->call) {
		struct http_response none = { 0 };
		http_call_finish(job->call, &none);
		http_response_free(&none);
	}
	job_free(job);
	http_respond_text(resp, 503, "Watchkeeper is shutting down.");
	return ROUTE_DONE;
}
