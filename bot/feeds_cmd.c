/* feeds_cmd.c - the chat side of feeds (see feeds.h): `/oncall ical`, `ical
 * reset`, `/oncall report` and the signed export links both reports hand out.
 * The HTTP side (serving /ical and /export) is feeds.c. */
#include "bot/feeds_int.h"
#include "bot/log.h"
#include "bot/period.h"
#include "bot/report.h"
#include "bot/team.h"
#include "bot/util.h"
#include <jansson.h>
#include <string.h>

/* ---- /oncall ical and /oncall ical reset ---- */

struct wanted {
	char field[FIELD_SIZE];	/* "member" or "team:<id>" */
	char id[SCHEDULE_MEMBER_LEN];
	char label[64];		/* team name, for the reply */
	bool team;
	char token[FEEDS_TOKEN_HEX + 1];	/* set when made by this call */
	char sha[SHA_HEX];
	bool made;
};

/* The feeds the caller should have: their own, and one per team they are in. */
static int wanted_feeds(struct cmd_ctx *ctx, struct wanted *w, size_t max, size_t *n)
{
	struct team_info *teams = NULL;
	size_t nteams = 0;
	int rc = 0;

	*n = 0;
	memset(&w[0], 0, sizeof(w[0]));
	wk_strlcpy(w[0].field, "member", sizeof(w[0].field));
	wk_strlcpy(w[0].id, ctx->req->user_id, sizeof(w[0].id));
	*n = 1;
	if (team_list(ctx->store, ctx->org_id, &teams, &nteams) < 0)
		return -1;
	for (size_t i = 0; i < nteams && *n < max; i++) {
		char key[192];
		redisReply *r;

		if (org_key(key, sizeof(key), ctx->org_id, "team:%s", teams[i].id) < 0)
			continue;
		r = store_command(ctx->store, "SISMEMBER %s %s", key, ctx->req->user_id);
		if (!r || r->type != REDIS_REPLY_INTEGER) {
			rc = -1;
		} else if (r->integer == 1) {
			struct wanted *x = &w[(*n)++];
			memset(x, 0, sizeof(*x));
			x->team = true;
			snprintf(x->field, sizeof(x->field), "team:%s", teams[i].id);
			wk_strlcpy(x->id, teams[i].id, sizeof(x->id));
			wk_strlcpy(x->label, teams[i].name, sizeof(x->label));
		}
		if (r)
			freeReplyObject(r);
		if (rc < 0)
			break;
	}
	free(teams);
	return rc;
}

/* Make a token for x and write its global record. 0, -1 store, -2 RNG. */
static int token_publish(struct cmd_ctx *ctx, struct wanted *x)
{
	char key[128];
	json_t *j;
	char *text;
	redisReply *r;
	int rc = -1;

	if (feeds_token_new(x->token, x->sha) < 0)
		return -2;
	j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "org", ctx->org_id, "kind", x->team ? "team" : "member",
		      "id", x->id, "member", ctx->req->user_id, "created_ms", (json_int_t)ctx->now_ms);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return -1;
	snprintf(key, sizeof(key), "wk:feed:%s", x->sha);
	r = store_command(ctx->store, "SET %s %s NX", key, text);
	if (feeds_reply_is_string(r))	/* OK; nil would mean a 192-bit collision */
		rc = 0;
	if (r)
		freeReplyObject(r);
	free(text);
	return rc;
}

static void token_unpublish(struct store *s, const char *sha)
{
	char key[128];
	redisReply *r;

	snprintf(key, sizeof(key), "wk:feed:%s", sha);
	/* Best effort: the per-org hash no longer names it, so it is dead anyway. */
	if ((r = store_command(s, "DEL %s", key)))
		freeReplyObject(r);
}

static void show_feeds(struct cmd_ctx *ctx, struct wanted *w, size_t n, struct reply *r)
{
	char base[512], label[160], esc[128];

	feeds_base_url(ctx->cfg, base, sizeof(base));
	r->personal = true;
	for (size_t i = 0; i < n; i++) {
		if (w[i].team)
			snprintf(label, sizeof(label), "Team %s", reply_escape(esc, sizeof(esc), w[i].label));
		else
			wk_strlcpy(label, "Your shifts", sizeof(label));
		if (w[i].made)
			reply_section(r, "*%s:* %s/ical/%s.ics", label, base, w[i].token);
		else
			reply_section(r, "*%s:* you already have a link. It was shown when it was made "
					 "(Watchkeeper keeps only a fingerprint of it, so it can't show it again).",
				      label);
	}
}

enum cmd_result feeds_cmd_ical(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct wanted w[MAX_TEAMS + 1];
	char kfeeds[256];
	size_t n, made = 0;
	enum cmd_result res = CMD_OK;

	(void)argc;
	(void)argv;
	if (org_key(kfeeds, sizeof(kfeeds), ctx->org_id, "feeds:%s", ctx->req->user_id) < 0 ||
	    wanted_feeds(ctx, w, ARRAY_LEN(w), &n) < 0)
		return CMD_STORE_ERROR;
	for (size_t i = 0; i < n; i++) {
		redisReply *x = store_command(ctx->store, "HEXISTS %s %s", kfeeds, w[i].field);
		bool exists = x && x->type == REDIS_REPLY_INTEGER && x->integer == 1;
		int rc;

		if (!x || x->type != REDIS_REPLY_INTEGER) {
			if (x)
				freeReplyObject(x);
			return CMD_STORE_ERROR;
		}
		freeReplyObject(x);
		if (exists)
			continue;
		/* Record first, then claim the field: the field is what makes a token
		 * valid, so a crash in between leaves only a dead record. */
		if ((rc = token_publish(ctx, &w[i])) == -2) {
			reply_textf(r, "Watchkeeper couldn't make a secure random link right now; try again.");
			return CMD_REFUSED;
		}
		if (rc < 0)
			return CMD_STORE_ERROR;
		x = store_command(ctx->store, "HSETNX %s %s %s", kfeeds, w[i].field, w[i].sha);
		if (!x || x->type != REDIS_REPLY_INTEGER) {
			res = CMD_STORE_ERROR;
		} else if (x->integer == 1) {
			w[i].made = true;
			made++;
		} else {
			token_unpublish(ctx->store, w[i].sha);	/* a concurrent call won */
		}
		if (x)
			freeReplyObject(x);
		if (res != CMD_OK) {
			token_unpublish(ctx->store, w[i].sha);
			return res;
		}
	}
	if (made)
		reply_textf(r, "Your calendar feeds. Subscribe to these URLs in Google Calendar, Outlook or "
			       "Apple Calendar (\"add calendar from URL\"). Keep them private: anyone with a "
			       "link can read that calendar. They are shown only this once.");
	else
		reply_textf(r, "You already have calendar feed links.");
	show_feeds(ctx, w, n, r);
	reply_section(r, "Lost a link, or shared one by mistake? `/oncall ical reset` replaces all of "
			 "yours; the old ones stop working at once.");
	log_info("feeds.create", "org=%s member=%s made=%zu", ctx->org_id, ctx->req->user_id, made);
	return CMD_OK;
}

static const struct store_script feed_reset_script = {
	"feeds_reset",
	/* KEYS: feeds:<member>. ARGV: field, sha, field, sha, ...
	 * Replaces the whole hash; returns the shas it held. */
	"local old = redis.call('HVALS', KEYS[1])\n"
	"redis.call('DEL', KEYS[1])\n"
	"if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end\n"
	"return old\n",
	NULL
};

enum cmd_result feeds_cmd_ical_reset(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct wanted w[MAX_TEAMS + 1];
	const char *args[2 * ARRAY_LEN(w)];
	char kfeeds[256];
	size_t n, old = 0;
	redisReply *x;
	int rc;

	(void)argc;
	(void)argv;
	if (org_key(kfeeds, sizeof(kfeeds), ctx->org_id, "feeds:%s", ctx->req->user_id) < 0 ||
	    wanted_feeds(ctx, w, ARRAY_LEN(w), &n) < 0)
		return CMD_STORE_ERROR;
	for (size_t i = 0; i < n; i++) {
		if ((rc = token_publish(ctx, &w[i])) < 0) {
			for (size_t k = 0; k < i; k++)
				token_unpublish(ctx->store, w[k].sha);
			if (rc == -2) {
				reply_textf(r, "Watchkeeper couldn't make a secure random link right now; "
					       "try again. Your old links still work.");
				return CMD_REFUSED;
			}
			return CMD_STORE_ERROR;
		}
		w[i].made = true;
		args[2 * i] = w[i].field;
		args[2 * i + 1] = w[i].sha;
	}
	const char *keys[] = { kfeeds };
	x = store_script(ctx->store, &feed_reset_script, 1, keys, (int)(2 * n), args);
	if (!x || x->type != REDIS_REPLY_ARRAY) {
		/* Unknown whether it ran: keep the new records (dead unless the hash
		 * names them) rather than risk deleting live ones. */
		if (x)
			freeReplyObject(x);
		return CMD_STORE_ERROR;
	}
	for (size_t i = 0; i < x->elements; i++)
		if (x->element[i]->type == REDIS_REPLY_STRING && strlen(x->element[i]->str) == SHA_HEX - 1) {
			token_unpublish(ctx->store, x->element[i]->str);
			old++;
		}
	freeReplyObject(x);
	reply_textf(r, "%s Your new calendar feeds are below; subscribe to them again. They are shown only "
		       "this once: keep them private.",
		    old ? "Your old calendar links no longer work." : "You had no calendar links yet.");
	show_feeds(ctx, w, n, r);
	log_info("feeds.reset", "org=%s member=%s revoked=%zu made=%zu", ctx->org_id, ctx->req->user_id,
		 old, n);
	return CMD_OK;
}

/* ---- report exports and /oncall report ---- */

/* Publish an export record (rec gains org, member, created_ms; stolen) and
 * its token. 0, -1 store, -2 RNG. */
static int export_publish(struct cmd_ctx *ctx, json_t *rec, char token[FEEDS_TOKEN_HEX + 1])
{
	char sha[SHA_HEX], key[128];
	char *text = NULL;
	redisReply *x;
	int rc = -1;

	if (feeds_token_new(token, sha) < 0) {
		json_decref(rec);
		return -2;
	}
	if (rec && json_object_set_new(rec, "org", json_string(ctx->org_id)) == 0 &&
	    json_object_set_new(rec, "member", json_string(ctx->req->user_id)) == 0 &&
	    json_object_set_new(rec, "created_ms", json_integer((json_int_t)ctx->now_ms)) == 0)
		text = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	if (!text)
		return -1;
	snprintf(key, sizeof(key), "wk:export:%s", sha);
	x = store_command(ctx->store, "SET %s %s EX %d", key, text, FEEDS_EXPORT_TTL_S);
	if (feeds_reply_is_string(x))
		rc = 0;
	if (x)
		freeReplyObject(x);
	free(text);
	return rc;
}

int feeds_export_link(struct cmd_ctx *ctx, const char *kind, const char *scope, int64_t from, int64_t to,
		      const char *tz, struct reply *r)
{
	char token[FEEDS_TOKEN_HEX + 1], base[512];
	/* "team" keeps the name records made before kinds existed carry. */
	json_t *rec = json_pack("{s:s, s:s, s:I, s:I, s:s}", "kind", kind, "team", scope, "from", (json_int_t)from,
				"to", (json_int_t)to, "tz", tz);
	int rc = export_publish(ctx, rec, token);

	if (rc == -1)
		return -1;
	if (rc == 0) {
		feeds_base_url(ctx->cfg, base, sizeof(base));
		r->personal = true;
		reply_section(r, "CSV: %s/export/%s.csv (this link works for %d minutes)", base, token,
			      FEEDS_EXPORT_TTL_S / 60);
	} else {
		reply_section(r, "No CSV link this time: Watchkeeper couldn't make a secure random link.");
	}
	explicit_bzero(token, sizeof(token));
	return 0;
}

/* "2026-13-01" is a mistyped date, not a team name. */
static bool looks_like_date(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return s[4] == '-';
}

enum cmd_result feeds_cmd_report(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN] = "default", tname[64] = "default", esc[160];
	struct period period;
	struct team_plan plan;
	struct schedule sched;
	struct report rep;
	const struct tz *z;
	char zone[TZ_NAME_MAX + 1];
	int64_t now = ctx->now_ms / 1000, from, to, lo, hi;
	int y, m, d, i = 0, rc;

	if (argc > 0 && period_parse_date(argv[0], &y, &m, &d) < 0) {
		if (looks_like_date(argv[0])) {
			reply_textf(r, "`%s` is not a date: use YYYY-MM-DD, e.g. 2026-01-31.",
				    reply_escape(esc, sizeof(esc), argv[0]));
			return CMD_REFUSED;
		}
		rc = team_resolve(ctx->store, ctx->org_id, argv[0], team, sizeof(team));
		if (rc < 0)
			return CMD_STORE_ERROR;
		if (rc > 0) {
			char inv[80];
			reply_textf(r, "There is no team or date `%s`. Dates are YYYY-MM-DD; "
				       "`%s team list` shows the teams.",
				    reply_escape(esc, sizeof(esc), argv[0]),
				    dispatch_typed_name(ctx, "invite", inv, sizeof(inv)));
			return CMD_REFUSED;
		}
		wk_strlcpy(tname, argv[0], sizeof(tname));
		i = 1;
	}
	if (period_parse(argc - i, argv + i, "/oncall report [team]", "/oncall report", &period, r) < 0)
		return CMD_REFUSED;
	/* Load a little more than the period before knowing the zone that says
	 * exactly where the local dates begin and end. */
	period_bounds(&period, now, &lo, &hi);
	if (schedule_load(ctx->store, ctx->org_id, team, lo, hi, &plan) < 0)
		return CMD_STORE_ERROR;
	/* Copied: the name lives in the plan, which is freed before the report is built. */
	wk_strlcpy(zone, feeds_team_zone(&plan, now, ctx->cfg), sizeof(zone));
	z = tz_get(zone);
	if (!z) {
		team_plan_free(&plan);
		reply_textf(r, "The team's time zone is not known on this server.");
		return CMD_REFUSED;
	}
	if (period_resolve(&period, z, now, &from, &to, r) < 0) {
		team_plan_free(&plan);
		return CMD_REFUSED;
	}
	rc = schedule_build(&plan, from, to, &sched);
	team_plan_free(&plan);
	if (rc < 0 || report_build(&sched, zone, from, to, &rep) < 0) {
		if (rc == 0)
			schedule_free(&sched);
		reply_textf(r, "That period is too long or too busy to report on; try a shorter one.");
		return CMD_REFUSED;
	}
	schedule_free(&sched);
	reply_textf(r, "On-call report for team *%s*", reply_escape(esc, sizeof(esc), tname));
	report_render(&rep, r);
	rc = feeds_export_link(ctx, FEEDS_EXPORT_ONCALL, team, rep.from, rep.to, rep.tz, r);
	report_free(&rep);
	return rc < 0 ? CMD_STORE_ERROR : CMD_OK;
}
