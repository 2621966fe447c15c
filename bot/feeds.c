/* feeds.c - see feeds.h */
#include "bot/feeds_int.h"
#include "bot/ical.h"
#include "bot/incident_report.h"
#include "bot/log.h"
#include "bot/member.h"
#include "bot/report.h"
#include "bot/team.h"
#include "bot/util.h"
#include "bot/workers.h"

#include <jansson.h>
#include <string.h>


/* ---- tokens ---- */

int feeds_token_parse(const char *path_rest, const char *suffix, char token[FEEDS_TOKEN_HEX + 1])
{
	size_t n;

	if (!path_rest || !suffix)
		return -1;
	n = strlen(path_rest);
	if (n != FEEDS_TOKEN_HEX + strlen(suffix) || strcmp(path_rest + FEEDS_TOKEN_HEX, suffix) != 0)
		return -1;
	for (size_t i = 0; i < FEEDS_TOKEN_HEX; i++) {
		char c = path_rest[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		token[i] = c;
	}
	token[FEEDS_TOKEN_HEX] = '\0';
	return 0;
}

static void token_sha(const char *token, char sha[SHA_HEX])
{
	unsigned char d[CRYPTO_SHA256_LEN];

	crypto_sha256(token, strlen(token), d);
	crypto_hex(d, sizeof(d), sha);
}

int feeds_token_new(char token[FEEDS_TOKEN_HEX + 1], char sha[SHA_HEX])
{
	unsigned char raw[FEEDS_TOKEN_BYTES];

	if (crypto_random(raw, sizeof(raw)) < 0)
		return -1;
	crypto_hex(raw, sizeof(raw), token);
	token_sha(token, sha);
	return 0;
}

void feeds_base_url(const struct config *cfg, char *out, size_t size)
{
	size_t n = wk_strlcpy(out, cfg->public_url, size);

	if (n >= size)
		n = size - 1;
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
}

/* The host of public_url, for UIDs ("watchkeeper" when there is none). */
static void uid_host(const struct config *cfg, char *out, size_t size)
{
	const char *p = strstr(cfg->public_url, "://");
	size_t n = 0;

	p = p ? p + 3 : cfg->public_url;
	while (p[n] && p[n] != '/' && p[n] != ':' && p[n] != '?' && n + 1 < size)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
	if (!n)
		wk_strlcpy(out, "watchkeeper", size);
}

/* ---- small store helpers ---- */

bool feeds_reply_is_string(const redisReply *r)
{
	return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* GET key into a malloc'd string: 0 found, 1 missing, -1 store failure. */
static int get_string(struct store *s, const char *key, char **out)
{
	redisReply *r = store_command(s, "GET %s", key);
	int rc = -1;

	*out = NULL;
	if (r && r->type == REDIS_REPLY_STRING) {
		*out = xstrndup(r->str, r->len);
		rc = 0;
	} else if (r && r->type == REDIS_REPLY_NIL) {
		rc = 1;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

/* Org ids come back from our own Redis, but they end up inside key names:
 * insist on the shape org_id_make() produces. */
static bool org_id_sane(const char *org)
{
	size_t n = strlen(org);

	if (n == 0 || n > 100)
		return false;
	for (const char *p = org; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr(":._-", *p)))
			return false;
	return true;
}

/* ---- display names ---- */

struct names {
	struct member *m;
	size_t n;
};

static int member_by_id(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->id, ((const struct member *)b)->id);
}

/* Members by id, from a script's wk_member_list() reply (member.h). */
static void names_from_reply(const redisReply *r, struct names *nm)
{
	member_list_from_reply(r, &nm->m, &nm->n);
	if (nm->n > 1)
		qsort(nm->m, nm->n, sizeof(*nm->m), member_by_id);
}

static const char *names_lookup(void *ud, const char *id)
{
	const struct names *nm = ud;
	struct member key;

	if (!nm->n || wk_strlcpy(key.id, id, sizeof(key.id)) >= sizeof(key.id))
		return NULL;
	const struct member *m = bsearch(&key, nm->m, nm->n, sizeof(*nm->m), member_by_id);
	return m && m->name[0] ? m->name : NULL;
}

/* ---- the team's zone ---- */

const char *feeds_team_zone(const struct team_plan *p, int64_t at, const struct config *cfg)
{
	const struct rotation_plan *best = NULL;

	for (size_t i = 0; i < p->nrotations; i++) {
		const struct rotation_plan *c = &p->rotations[i];
		if (!c->nversions)
			continue;
		if (!best || schedule_rotation_order(c, best) < 0)
			best = c;
	}
	if (best) {
		const struct rotation_version *v = &best->versions[0];
		for (size_t i = 0; i < best->nversions; i++)
			if (best->versions[i].effective_from <= at)
				v = &best->versions[i];
		if (tz_get(v->tz))
			return v->tz;
	}
	return cfg->rotation_timezone;
}

/* ---- GET /ical and /export, on a worker ---- */

enum job_kind { JOB_ICAL, JOB_EXPORT };

struct feed_job {
	enum job_kind kind;
	char token[FEEDS_TOKEN_HEX + 1];
	struct http_call *call;
};

/* Extra header names carry their colon: Debian's libwebsockets 4.1.6 writes
 * lws_add_http_header_by_name()'s name verbatim, then a space. */
static void respond_store_down(struct http_response *resp)
{
	http_respond_text(resp, 503, "Watchkeeper can't reach its database right now; try again shortly.");
	http_response_add_header(resp, "Retry-After", "30");
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool jint(json_t *o, const char *k, int64_t *out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		return false;
	*out = (int64_t)json_integer_value(v);
	return true;
}

struct feed_rec {
	char org[128];
	bool team;		/* kind team, else member */
	char id[SCHEDULE_MEMBER_LEN];
	char member[SCHEDULE_MEMBER_LEN];
};

/* Parse and check a wk:feed:<sha> value; -1 when it is not one of ours. */
static int feed_rec_parse(const char *text, struct feed_rec *f)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	const char *org, *kind, *id, *member;
	int rc = -1;

	if (!json_is_object(j))
		goto out;
	org = jstr(j, "org");
	kind = jstr(j, "kind");
	id = jstr(j, "id");
	member = jstr(j, "member");
	if (!org || !kind || !id || !member || !org_id_sane(org) || !org_member_id_valid(id) ||
	    !org_member_id_valid(member) || (strcmp(kind, "team") != 0 && strcmp(kind, "member") != 0))
		goto out;
	f->team = strcmp(kind, "team") == 0;
	if (wk_strlcpy(f->org, org, sizeof(f->org)) >= sizeof(f->org) ||
	    wk_strlcpy(f->id, id, sizeof(f->id)) >= sizeof(f->id) ||
	    wk_strlcpy(f->member, member, sizeof(f->member)) >= sizeof(f->member))
		goto out;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

static void feed_field(const struct feed_rec *f, char *out, size_t size)
{
	if (f->team)
		snprintf(out, size, "team:%s", f->id);
	else
		wk_strlcpy(out, "member", size);
}

static const struct store_script feed_read_script = {
	"feeds_read",
	/* KEYS: feeds:<member>, members, org, team:<id> (members again for a
	 * member feed), teams. ARGV: field, sha, member, key prefix, the team
	 * whose schedule ("" = every team's), from (s).
	 * {1} revoked, {2} owner no longer a member (of the org, or of the team
	 * for a team feed), {3} org suspended; else {0, members, teams, {team id,
	 * schedule, ...}}: the whole feed in one round trip. */
	"if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return {1} end\n"
	"if redis.call('SISMEMBER', KEYS[2], ARGV[3]) == 0 then return {2} end\n"
	"if redis.call('SISMEMBER', KEYS[4], ARGV[3]) == 0 then return {2} end\n"
	"if redis.call('HGET', KEYS[3], 'suspended') == '1' then return {3} end\n"
	"local teams = wk_team_list(KEYS[5], ARGV[4])\n"
	"local plans = {}\n"
	"for i = 1, #teams, 3 do\n"
	"  if ARGV[5] == '' or ARGV[5] == teams[i] then\n"
	"    plans[#plans + 1] = teams[i]\n"
	"    plans[#plans + 1] = wk_schedule_load(ARGV[4], teams[i], ARGV[6])\n"
	"  end\n"
	"end\n"
	"return {0, wk_member_list(KEYS[2], ARGV[4]), teams, plans}\n",
	MEMBER_LIST_LUA TEAM_LIST_LUA SCHEDULE_LOAD_LUA
};

/* The feed checked, with everything it shows: *out is the script's reply
 * (caller frees). 0 valid, 1 not (any reason), -1 store failure. */
static int feed_read(struct store *s, const struct feed_rec *f, const char *sha, int64_t from, redisReply **out)
{
	char kfeeds[256], kmembers[192], korg[192], kteam[256], kteams[192], prefix[160], field[FIELD_SIZE];
	char fromtxt[24];
	redisReply *r;

	*out = NULL;
	if (org_key(kfeeds, sizeof(kfeeds), f->org, "feeds:%s", f->member) < 0 ||
	    org_key(kmembers, sizeof(kmembers), f->org, "members") < 0 ||
	    org_key(korg, sizeof(korg), f->org, "org") < 0 ||
	    (f->team ? org_key(kteam, sizeof(kteam), f->org, "team:%s", f->id)
		     : org_key(kteam, sizeof(kteam), f->org, "members")) < 0 ||
	    org_key(kteams, sizeof(kteams), f->org, "teams") < 0 || store_key(prefix, sizeof(prefix), f->org, "") < 0)
		return 1;
	feed_field(f, field, sizeof(field));
	snprintf(fromtxt, sizeof(fromtxt), "%lld", (long long)from);
	const char *keys[] = { kfeeds, kmembers, korg, kteam, kteams };
	const char *args[] = { field, sha, f->member, prefix, f->team ? f->id : "", fromtxt };
	r = store_script(s, &feed_read_script, 5, keys, 6, args);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->type != REDIS_REPLY_INTEGER) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	if (r->element[0]->integer != 0 || r->elements != 4 || r->element[3]->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return 1;
	}
	*out = r;
	return 0;
}

/* Render one team's schedule (its part of feed_read()'s reply; none: an
 * empty one) into out. 0, -2 too large. */
static int add_team(struct buf *out, const redisReply *plans, const char *team, int64_t now, struct ical_context *cx)
{
	const redisReply *mine = NULL;
	struct team_plan plan;
	struct schedule sched;
	int rc;

	for (size_t i = 0; i + 1 < plans->elements; i += 2)
		if (plans->element[i]->type == REDIS_REPLY_STRING && strcmp(plans->element[i]->str, team) == 0)
			mine = plans->element[i + 1];
	if (!mine || schedule_from_reply(mine, team, now - FEEDS_PAST_S, now + FEEDS_FUTURE_S, &plan) < 0) {
		memset(&plan, 0, sizeof(plan));	/* a team gone meanwhile: nobody on call */
		wk_strlcpy(plan.team, team, sizeof(plan.team));
	}
	if (schedule_build(&plan, now - FEEDS_PAST_S, now + FEEDS_FUTURE_S, &sched) < 0) {
		team_plan_free(&plan);
		return -2;
	}
	cx->plan = &plan;
	rc = ical_add(out, &sched, cx) < 0 ? -2 : 0;
	cx->plan = NULL;
	schedule_free(&sched);
	team_plan_free(&plan);
	return rc;
}

static void serve_ical(struct worker *w, const char *token, struct http_response *resp)
{
	char key[128], sha[SHA_HEX], host[128], calname[256];
	char *text = NULL;
	struct feed_rec f;
	struct names nm = { NULL, 0 };
	struct team_info *teams = NULL;
	size_t nteams = 0;
	redisReply *all = NULL;
	struct buf out = BUF_INIT(FEEDS_MAX_BYTES);
	int64_t now = wk_now_ms() / 1000;
	int rc;

	token_sha(token, sha);
	snprintf(key, sizeof(key), "wk:feed:%s", sha);
	rc = get_string(w->store, key, &text);
	if (rc < 0)
		goto store_down;
	if (rc > 0 || feed_rec_parse(text, &f) < 0 || (rc = feed_read(w->store, &f, sha, now - FEEDS_PAST_S, &all)) > 0) {
		http_respond_text(resp, 404, "No such calendar feed. It may have been reset: run "
					     "/oncall ical in chat for your current links.");
		goto out;
	}
	if (rc < 0)
		goto store_down;
	names_from_reply(all->element[1], &nm);
	team_list_from_reply(all->element[2], &teams, &nteams);
	uid_host(w->cfg, host, sizeof(host));
	struct ical_context cx = { host, now, NULL, NULL, names_lookup, &nm };
	if (f.team) {
		const char *tname = f.id;
		for (size_t i = 0; i < nteams; i++)
			if (strcmp(teams[i].id, f.id) == 0)
				tname = teams[i].name;
		snprintf(calname, sizeof(calname), "On call: team %s", tname);
		rc = ical_begin(&out, calname) < 0 ? -2 : add_team(&out, all->element[3], f.id, now, &cx);
	} else {
		const char *who = names_lookup(&nm, f.id);
		snprintf(calname, sizeof(calname), "On call: %s", who ? who : f.id);
		cx.only_member = f.id;
		rc = ical_begin(&out, calname) < 0 ? -2 : 0;
		/* A person's shifts may be in any team's rotations, not only their teams'. */
		for (size_t i = 0; i < nteams && i < MAX_TEAMS && rc == 0; i++)
			rc = add_team(&out, all->element[3], teams[i].id, now, &cx);
	}
	if (rc == 0 && ical_end(&out) < 0)
		rc = -2;
	if (rc == -1)
		goto store_down;
	if (rc < 0) {
		log_warn("feeds.ical", "org=%s kind=%s reason=too_large", f.org, f.team ? "team" : "member");
		http_respond_text(resp, 500, "This calendar is too large to serve.");
		goto out;
	}
	log_info("feeds.ical", "org=%s kind=%s bytes=%zu", f.org, f.team ? "team" : "member", out.len);
	resp->status = 200;
	resp->content_type = "text/calendar; charset=utf-8";
	resp->body = buf_detach(&out, &resp->len);
	http_response_add_header(resp, "Cache-Control", "private, max-age=300");
	goto out;
store_down:
	respond_store_down(resp);
out:
	buf_free(&out);
	free(text);
	free(nm.m);
	free(teams);
	if (all)
		freeReplyObject(all);
}

struct export_rec {
	char org[128];
	bool incidents;		/* kind FEEDS_EXPORT_INCIDENTS, else FEEDS_EXPORT_ONCALL */
	char team[SCHEDULE_ID_LEN];	/* the team id, or the service ("" = all) */
	char tz[TZ_NAME_MAX + 1];
	int64_t from, to;
};

static int export_rec_parse(const char *text, struct export_rec *e)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	const char *org, *team, *tz, *kind;
	int rc = -1;

	if (!json_is_object(j))
		goto out;
	org = jstr(j, "org");
	team = jstr(j, "team");
	tz = jstr(j, "tz");
	kind = jstr(j, "kind");
	e->incidents = kind && strcmp(kind, FEEDS_EXPORT_INCIDENTS) == 0;
	if (!org || !team || !tz || !org_id_sane(org) || (kind && !e->incidents && strcmp(kind, FEEDS_EXPORT_ONCALL)) ||
	    (e->incidents ? team[0] && !team_name_valid(team) : !org_member_id_valid(team)) ||
	    !jint(j, "from", &e->from) || !jint(j, "to", &e->to) || e->from >= e->to ||
	    e->to - e->from > REPORT_MAX_RANGE_S ||
	    wk_strlcpy(e->org, org, sizeof(e->org)) >= sizeof(e->org) ||
	    wk_strlcpy(e->team, team, sizeof(e->team)) >= sizeof(e->team) ||
	    wk_strlcpy(e->tz, tz, sizeof(e->tz)) >= sizeof(e->tz) || !tz_get(e->tz))
		goto out;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* The fairness CSV of e into out. 0, -1 store failure, -2 can't be computed, -3 too large. */
static int export_oncall(struct worker *w, const struct export_rec *e, struct buf *out)
{
	struct team_plan plan;
	struct schedule sched;
	struct report rep;
	int rc;

	if (schedule_load(w->store, e->org, e->team, e->from, e->to, &plan) < 0)
		return -1;
	rc = schedule_build(&plan, e->from, e->to, &sched);
	team_plan_free(&plan);
	if (rc < 0 || report_build(&sched, e->tz, e->from, e->to, &rep) < 0) {
		if (rc == 0)
			schedule_free(&sched);
		return -2;
	}
	schedule_free(&sched);
	rc = report_csv(&rep, out);
	report_free(&rep);
	return rc < 0 ? -3 : 0;
}

/* The incidents CSV of e into out, as export_oncall(). */
static int export_incidents(struct worker *w, const struct export_rec *e, struct buf *out)
{
	struct incident_report_data data;
	struct incident_stats st;
	int rc;

	if (incident_report_load(w->store, e->org, e->team, e->from * 1000, e->to * 1000, &data) < 0)
		return -1;
	incident_stats_build(data.rows, data.nrows, data.msgs, data.nmsgs, &st);
	rc = incident_stats_csv(data.rows, data.nrows, tz_get(e->tz), out);
	incident_stats_free(&st);
	incident_report_data_free(&data);
	return rc < 0 ? -3 : 0;
}

static void serve_export(struct worker *w, const char *token, struct http_response *resp)
{
	char key[128], sha[SHA_HEX];
	char *text = NULL;
	struct export_rec e;
	struct buf out = BUF_INIT(FEEDS_MAX_BYTES);
	int rc;

	token_sha(token, sha);
	snprintf(key, sizeof(key), "wk:export:%s", sha);
	rc = get_string(w->store, key, &text);
	if (rc < 0) {
		respond_store_down(resp);
		goto out;
	}
	if (rc > 0 || export_rec_parse(text, &e) < 0) {
		http_respond_text(resp, 404, "This report link has expired (links last 15 minutes) or "
					     "never existed. Run the report in chat again for a new one.");
		goto out;
	}
	rc = e.incidents ? export_incidents(w, &e, &out) : export_oncall(w, &e, &out);
	if (rc == -1) {
		respond_store_down(resp);
		goto out;
	}
	if (rc < 0) {
		http_respond_text(resp, 500, rc == -2 ? "This report could not be computed."
						      : "This report is too large to serve.");
		goto out;
	}
	log_info("feeds.export", "org=%s kind=%s bytes=%zu", e.org,
		 e.incidents ? FEEDS_EXPORT_INCIDENTS : FEEDS_EXPORT_ONCALL, out.len);
	resp->status = 200;
	resp->content_type = "text/csv; charset=utf-8";
	resp->body = buf_detach(&out, &resp->len);
	http_response_add_header(resp, "Content-Disposition", e.incidents
									? "attachment; filename=\"incident-report.csv\""
									: "attachment; filename=\"oncall-report.csv\"");
out:
	buf_free(&out);
	free(text);
}

static void feed_job_run(struct worker *w, void *arg)
{
	struct feed_job *job = arg;
	struct http_response resp = { 0 };

	if (job->kind == JOB_ICAL)
		serve_ical(w, job->token, &resp);
	else
		serve_export(w, job->token, &resp);
	/* No acknowledgement was asked for, so the call always takes resp (or
	 * drops it when the client left); free whatever is left either way. */
	http_call_finish(job->call, &resp);
	http_response_free(&resp);
	explicit_bzero(job->token, sizeof(job->token));
	free(job);
}

/* Loop thread: shape check, then a worker does the rest. */
static enum route_result feed_route(struct http_request *req, struct http_response *resp,
				    enum job_kind kind)
{
	struct feed_job *job = xcalloc(1, sizeof(*job));
	char key[WORK_KEY_MAX];

	job->kind = kind;
	if (feeds_token_parse(req->path_rest, kind == JOB_ICAL ? ".ics" : ".csv", job->token) < 0) {
		free(job);
		http_respond_text(resp, 404, kind == JOB_ICAL ? "No such calendar feed."
							      : "No such report link.");
		return ROUTE_DONE;
	}
	/* Unauthenticated until a worker reads Redis: the token is what names the
	 * client (one calendar app polling one feed) without a lookup. */
	snprintf(key, sizeof(key), "feed:%s", job->token);
	if (http_call_submit(req, &job->call, WORK_FEED, key, feed_job_run, job))
		return ROUTE_PENDING;
	free(job);
	http_respond_text(resp, 503, "Watchkeeper is shutting down.");
	return ROUTE_DONE;
}

enum route_result feeds_route_ical(struct http_request *req, struct http_response *resp)
{
	return feed_route(req, resp, JOB_ICAL);
}

enum route_result feeds_route_export(struct http_request *req, struct http_response *resp)
{
	return feed_route(req, resp, JOB_EXPORT);
}
