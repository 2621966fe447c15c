/* oncall.c - `/oncall`: who is on call and the chain behind them, the team's
 * schedule, rotations and their edits, overrides, and people's own profiles.
 *
 * A team (default: "default") has rotations (bot/rotations.h); its final
 * schedule is computed from them with overrides on top (bot/schedule.h), never
 * stored. Times people type are read in their own zone (/oncall me tz) or, if
 * they set none, in the rotation's. */
#include "adapters/twilio.h"
#include "bot/audit.h"
#include "bot/cmdline.h"
#include "bot/feeds.h"
#include "bot/handoff.h"
#include "bot/member.h"
#include "bot/notify.h"
#include "bot/outbox.h"
#include "bot/overrides.h"
#include "bot/rotations.h"
#include "bot/schedule.h"
#include "bot/swap.h"
#include "bot/team.h"
#include "bot/tz.h"
#include "bot/log.h"
#include "bot/util.h"
#include "bot/when.h"
#include "commands/commands.h"
#include "commands/oncall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DAY 86400LL

/* ---- context: which team, which zone, who ---- */

/* Team argument (or the default team); on failure the reply says why. */
static int pick_team(struct cmd_ctx *ctx, const char *name, char *id, size_t size, struct reply *r)
{
	int rc;

	if (!name) {
		wk_strlcpy(id, "default", size);
		return 0;
	}
	rc = team_resolve(ctx->store, ctx->org_id, name, id, size);
	if (rc == 1) {
		char shown[48];
		reply_textf(r, "There is no team `%s`. `/invite team list` shows them.",
			    reply_escape(shown, sizeof(shown), name));
	}
	return rc;
}

/* The zone a person reads and types times in: their own, else the team's
 * first rotation's, else the configured default. */
static const struct tz *zone_for(struct cmd_ctx *ctx, const struct team_plan *p)
{
	const struct tz *z;

	if (ctx->tz && ctx->tz[0] && (z = tz_get(ctx->tz)))
		return z;
	for (size_t i = 0; p && i < p->nrotations; i++)
		if (p->rotations[i].nversions)
			return p->rotations[i].versions[p->rotations[i].nversions - 1].spec.zone;
	return ctx->cfg->rotation.zone;
}

int oncall_parse_user(struct cmd_ctx *ctx, const char *arg, char *id, size_t size, struct reply *r)
{
	char shown[80];
	int rc = ctx->req->platform == PLATFORM_CONSOLE ? cmdline_plain_mention(arg, id, size)
							 : cmdline_mention(arg, id, size);

	if (rc == 0 && org_member_id_valid(id))
		return 0;
	reply_escape(shown, sizeof(shown), arg);
	if (ctx->req->platform == PLATFORM_CONSOLE)
		reply_textf(r, "`%s` is not a user. Write a name like `@bob`.", shown);
	else
		reply_textf(r, "`%s` is not a user I can see. Mention them with @ and pick the name "
			       "from the list, so Slack links it.", shown);
	return -1;
}

static enum cmd_result rot_result(int rc, const char *name, struct reply *r)
{
	char shown[48];

	reply_escape(shown, sizeof(shown), name ? name : "");
	switch (rc) {
	case ROT_OK:
		return CMD_OK;
	case ROT_NOT_FOUND:
		if (name)
			reply_textf(r, "There is no rotation `%s` here. `/oncall rotation list` shows them.", shown);
		else
			reply_textf(r, "This team has no rotation yet. An admin makes one with "
				       "`/oncall rotation create NAME`, or `/oncall join` starts one.");
		break;
	case ROT_EXISTS:
		reply_textf(r, "There is already a rotation `%s` in this team.", shown);
		break;
	case ROT_INVALID:
		reply_textf(r, "That rotation setting is out of range.");
		break;
	case ROT_CONFLICT:
		reply_textf(r, "Others kept changing that rotation at the same moment; please try again.");
		break;
	case ROT_ALREADY:
		return CMD_OK;
	default:
		return CMD_STORE_ERROR;
	}
	return CMD_REFUSED;
}

/* The configured default rotation spec (until a team makes its own). */
static void default_version(const struct cmd_ctx *ctx, struct rotation_version *v)
{
	memset(v, 0, sizeof(*v));
	v->spec = ctx->cfg->rotation;
	wk_strlcpy(v->tz, ctx->cfg->rotation_timezone, sizeof(v->tz));
}

/* After any change to a team's schedule: move its next handoff timer. */
static void schedule_changed(struct cmd_ctx *ctx, const char *team)
{
	if (handoff_reschedule(ctx->store, ctx->cfg, ctx->org_id, team, ctx->now_ms / 1000) < 0)
		log_warn("handoff.reschedule", "org=%s team=%s reason=store", ctx->org_id, team);
	swap_check_stale(ctx->store, ctx->cfg, ctx->org_id, team, ctx->now_ms / 1000);
}

/* ---- now, list, schedule, when ---- */

static void offer_join(struct cmd_ctx *ctx, const struct rotation_plan *r, struct reply *rep)
{
	const struct rotation_version *v = r && r->nversions ? &r->versions[r->nversions - 1] : NULL;

	if (ctx->role < ROLE_DEVELOPER)
		return;
	for (size_t i = 0; v && i < v->nmembers; i++)
		if (strcmp(v->members[i], ctx->req->user_id) == 0)
			return;
	reply_button(rep, "Join the rotation", "oncall.join", r ? r->name : "", BUTTON_PRIMARY);
}

static enum cmd_result oncall_now(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], until[64], from[64];
	struct team_plan p;
	struct oncall_chain c;
	int64_t now = ctx->now_ms / 1000;
	const struct tz *z;

	if (pick_team(ctx, argc ? argv[0] : NULL, team, sizeof(team), r) != 0)
		return argc && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (schedule_load(ctx->store, ctx->org_id, team, now - 400 * DAY, now + 400 * DAY, &p) < 0)
		return CMD_STORE_ERROR;
	z = zone_for(ctx, &p);
	if (schedule_chain(&p, now, &c) != 0) {
		reply_textf(r, "Nobody is on call right now. Use `/oncall join` to take shifts, or "
			       "`/oncall add @someone`.");
		offer_join(ctx, p.nrotations ? &p.rotations[0] : NULL, r);
		team_plan_free(&p);
		return CMD_OK;
	}
	when_format(z, c.until, until, sizeof(until));
	reply_textf(r, "*On call now:* <@%s>, until %s", c.primary, until);
	if (c.secondary[0] || c.tertiary[0]) {
		struct buf b = BUF_INIT(1024);
		if (c.secondary[0])
			buf_printf(&b, "1st backup: <@%s>", c.secondary);
		if (c.tertiary[0])
			buf_printf(&b, "%s2nd backup: <@%s>", b.len ? "; " : "", c.tertiary);
		reply_section(r, "%s", buf_cstr(&b));
		buf_free(&b);
	}
	struct oncall_chain next;
	if (schedule_chain(&p, c.until, &next) == 0 && strcmp(next.primary, c.primary) != 0) {
		when_format(z, next.since, from, sizeof(from));
		reply_section(r, "*Next:* <@%s>, from %s", next.primary, from);
	} else if (!c.secondary[0]) {
		reply_section(r, "Nobody else is in the rotation.");
	}
	for (size_t i = 0; i < p.nrotations; i++)
		if (strcmp(p.rotations[i].id, c.rotation) == 0)
			offer_join(ctx, &p.rotations[i], r);
	team_plan_free(&p);
	return CMD_OK;
}

static void describe_version(const struct rotation_version *v, char *out, size_t size)
{
	static const char *const wd[] = { "Sunday", "Monday", "Tuesday", "Wednesday",
					  "Thursday", "Friday", "Saturday" };
	struct shift sh;
	struct tz_local l;

	if (v->spec.unit == ROTATION_WEEKS && rotation_shift_by_index(&v->spec, 1, 0, &sh) == 0) {
		tz_to_local(v->spec.zone, sh.start, &l);
		snprintf(out, size, "every %d week%s, handoff %s %02d:%02d %s", v->spec.length,
			 v->spec.length == 1 ? "" : "s", wd[l.wday], v->spec.handoff_hour,
			 v->spec.handoff_minute, v->tz);
	} else {
		snprintf(out, size, "every %d %s, handoff %02d:%02d %s", v->spec.length,
			 v->spec.unit == ROTATION_DAYS ? (v->spec.length == 1 ? "day" : "days")
						      : (v->spec.length == 1 ? "hour" : "hours"),
			 v->spec.handoff_hour, v->spec.handoff_minute, v->tz);
	}
	for (size_t i = 0; i < v->nwindows; i++) {
		size_t n = strlen(out);
		snprintf(out + n, size - n, "%s %02d:%02d-%02d:%02d%s", i ? "," : "; only",
			 v->windows[i].start_min / 60, v->windows[i].start_min % 60,
			 v->windows[i].end_min / 60, v->windows[i].end_min % 60,
			 v->windows[i].days == 0x7f ? " daily" : v->windows[i].days == 0x3e ? " weekdays"
				: v->windows[i].days == 0x41 ? " weekends" : " some days");
	}
}

static enum cmd_result oncall_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], desc[256], when[64];
	struct team_plan p;
	int64_t now = ctx->now_ms / 1000;

	if (pick_team(ctx, argc ? argv[0] : NULL, team, sizeof(team), r) != 0)
		return argc && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (schedule_load(ctx->store, ctx->org_id, team, now, now + 1, &p) < 0)
		return CMD_STORE_ERROR;
	if (p.nrotations == 0) {
		reply_textf(r, "This team has no rotation yet. Use `/oncall join` to start one.");
		offer_join(ctx, NULL, r);
		team_plan_free(&p);
		return CMD_OK;
	}
	reply_textf(r, "%zu rotation%s:", p.nrotations, p.nrotations == 1 ? "" : "s");
	for (size_t i = 0; i < p.nrotations; i++) {
		const struct rotation_plan *rot = &p.rotations[i];
		const struct rotation_version *v = &rot->versions[rot->nversions - 1], *cur;
		struct buf b = BUF_INIT(16384);
		struct shift sh, first;
		long on = -1;

		if (schedule_version_at(rot, now, &cur, &sh) == 0 && cur == v &&
		    rotation_shift_at(&v->spec, v->nmembers, v->effective_from, &first) == 0) {
			int64_t k = ((int64_t)v->first_member + sh.index - first.index) % (int64_t)v->nmembers;
			on = (long)(k < 0 ? k + (int64_t)v->nmembers : k);
		}
		describe_version(v, desc, sizeof(desc));
		buf_printf(&b, "*%s* (%s), %zu %s:\n", rot->name, desc, v->nmembers,
			   v->nmembers == 1 ? "person" : "people");
		for (size_t m = 0; m < v->nmembers; m++)
			buf_printf(&b, "%zu. <@%s>%s\n", m + 1, v->members[m], (long)m == on ? "  (on call now)" : "");
		for (size_t m = 0; m < v->npaused; m++) {
			const char *colon = strchr(v->paused[m], ':');
			buf_printf(&b, "paused: <@%s>\n", colon ? colon + 1 : v->paused[m]);
		}
		if (v->effective_from > now)
			buf_printf(&b, "This order takes effect at the next handoff, %s.\n",
				   when_format(v->spec.zone, v->effective_from, when, sizeof(when)));
		reply_section(r, "%s", buf_cstr(&b));
		buf_free(&b);
	}
	offer_join(ctx, &p.rotations[0], r);
	team_plan_free(&p);
	return CMD_OK;
}

static enum cmd_result oncall_schedule(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], a[64], b[64];
	struct team_plan p;
	struct schedule s;
	int64_t days = 14, now = ctx->now_ms / 1000;
	const char *team_name = NULL;
	const struct tz *z;
	struct buf out = BUF_INIT(64 * 1024);

	for (int i = 0; i < argc; i++) {
		/* A number is always days (120 is too many days, not a team). */
		bool number = strspn(argv[i], "0123456789") == strlen(argv[i]);
		if ((number && !wk_parse_i64(argv[i], 1, 90, &days)) || (!number && team_name)) {
			char shown[24];
			reply_textf(r, "`/oncall schedule [team] [days]`: days is 1 to 90%s%s%s.",
				    number ? " (not " : "", number ? reply_escape(shown, sizeof(shown), argv[i]) : "",
				    number ? ")" : "");
			return CMD_REFUSED;
		}
		if (!number)
			team_name = argv[i];
	}
	if (pick_team(ctx, team_name, team, sizeof(team), r) != 0)
		return team_name && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (schedule_load(ctx->store, ctx->org_id, team, now, now + days * DAY, &p) < 0)
		return CMD_STORE_ERROR;
	z = zone_for(ctx, &p);
	if (schedule_build(&p, now, now + days * DAY, &s) < 0) {
		team_plan_free(&p);
		return CMD_STORE_ERROR;
	}
	reply_textf(r, "Schedule for the next %lld day%s (%s):", (long long)days, days == 1 ? "" : "s", tz_name(z));
	for (size_t i = 0; i < s.n; i++) {
		const struct segment *g = &s.seg[i];
		int64_t end = g->end;
		/* One line per stretch of one person: shift turnovers to the same
		 * person don't matter to a reader. */
		while (i + 1 < s.n && s.seg[i + 1].source == g->source &&
		       strcmp(s.seg[i + 1].member, g->member) == 0)
			end = s.seg[++i].end;
		buf_printf(&out, "`%s` → `%s`  %s%s%s%s\n", when_format(z, g->start, a, sizeof(a)),
			   when_format(z, end, b, sizeof(b)), g->member[0] ? "<@" : "nobody",
			   g->member, g->member[0] ? ">" : "",
			   g->source == SEGMENT_OVERRIDE ? "  (override)" : g->source == SEGMENT_SWAP ? "  (swap)" : "");
	}
	if (!s.n)
		buf_adds(&out, "Nobody is scheduled.\n");
	reply_section(r, "%s", buf_cstr(&out));
	buf_free(&out);
	schedule_free(&s);
	team_plan_free(&p);
	return CMD_OK;
}

#define WHEN_MAX 10	/* shifts /oncall when lists */

struct when_line {
	int64_t start;
	char text[200];
};

static int when_line_order(const void *a, const void *b)
{
	const struct when_line *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static enum cmd_result oncall_when(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char who[64], a[64], b[64];
	struct team_info *teams = NULL;
	size_t nteams = 0, found = 0;
	struct buf out = BUF_INIT(32 * 1024);
	int64_t now = ctx->now_ms / 1000;

	if (argc) {
		struct member m;
		int got;
		if (oncall_parse_user(ctx, argv[0], who, sizeof(who), r) < 0)
			return CMD_REFUSED;
		if ((got = member_get(ctx->store, ctx->org_id, who, &m)) < 0)
			return CMD_STORE_ERROR;
		if (got > 0) {
			/* "no shifts" would read as "they are free", not "who is that?". */
			reply_textf(r, "<@%s> is not a member of this workspace's Watchkeeper; `/invite` brings "
				       "people in.", who);
			return CMD_REFUSED;
		}
	} else {
		wk_strlcpy(who, ctx->req->user_id, sizeof(who));
	}
	if (team_list(ctx->store, ctx->org_id, &teams, &nteams) < 0)
		return CMD_STORE_ERROR;
	/* The next WHEN_MAX shifts over all teams, soonest first: each team's own
	 * soonest ones are candidates, then they are merged by start. */
	struct when_line *lines = xcalloc(nteams * WHEN_MAX + 1, sizeof(*lines));
	size_t nlines = 0;
	for (size_t t = 0; t < nteams; t++) {
		struct team_plan p;
		struct schedule s;
		size_t mine = 0;
		if (schedule_load(ctx->store, ctx->org_id, teams[t].id, now, now + 90 * DAY, &p) < 0)
			continue;
		const struct tz *z = zone_for(ctx, &p);
		if (schedule_build(&p, now, now + 90 * DAY, &s) == 0) {
			for (size_t i = 0; i < s.n && mine < WHEN_MAX; i++) {
				if (strcmp(s.seg[i].member, who) != 0)
					continue;
				lines[nlines].start = s.seg[i].start;
				snprintf(lines[nlines].text, sizeof(lines[nlines].text), "%s → %s  `%s.%lld`%s%s\n",
					 when_format(z, s.seg[i].start, a, sizeof(a)),
					 when_format(z, s.seg[i].end, b, sizeof(b)), s.seg[i].rotation,
					 (long long)s.seg[i].shift_index, strcmp(teams[t].id, "default") ? "  team " : "",
					 strcmp(teams[t].id, "default") ? teams[t].name : "");
				nlines++;
				mine++;
			}
			schedule_free(&s);
		}
		team_plan_free(&p);
	}
	qsort(lines, nlines, sizeof(*lines), when_line_order);
	for (; found < nlines && found < WHEN_MAX; found++)
		buf_adds(&out, lines[found].text);
	free(lines);
	free(teams);
	if (!found)
		reply_textf(r, "<@%s> has no shifts in the next 90 days.", who);
	else {
		reply_textf(r, "Next shifts of <@%s>:", who);
		reply_section(r, "%s", buf_cstr(&out));
	}
	buf_free(&out);
	return CMD_OK;
}

/* ---- joining, leaving, adding, removing ---- */

struct member_edit {
	const char *member;
	int add;	/* 1 add, 0 remove */
	long position;	/* 1-based for moves; 0 = append */
	long result_position;
};

static int edit_members(struct rotation_version *v, void *arg)
{
	struct member_edit *e = arg;
	long at = -1;

	for (size_t i = 0; i < v->nmembers; i++)
		if (strcmp(v->members[i], e->member) == 0)
			at = (long)i;
	if (e->add == 1 && e->position == 0) {
		if (at >= 0) {
			e->result_position = at + 1;
			return ROT_ALREADY;
		}
		v->members = xrealloc(v->members, (v->nmembers + 2) * sizeof(char *));
		v->members[v->nmembers++] = xstrdup(e->member);
		e->result_position = (long)v->nmembers;
		return 0;
	}
	if (at < 0)
		return ROT_ALREADY;
	char *m = v->members[at];
	memmove(v->members + at, v->members + at + 1, (v->nmembers - (size_t)at - 1) * sizeof(char *));
	v->nmembers--;
	if (e->add == 0) {
		free(m);
		return 0;
	}
	/* a move: put it back at position */
	size_t pos = (size_t)(e->position - 1) > v->nmembers ? v->nmembers : (size_t)(e->position - 1);
	memmove(v->members + pos + 1, v->members + pos, (v->nmembers - pos) * sizeof(char *));
	v->members[pos] = m;
	v->nmembers++;
	e->result_position = (long)pos + 1;
	return 0;
}

/* Find the rotation a command means: by name in any team, or the default
 * team's first one (created from the config when joining an empty team). */
static int target_rotation(struct cmd_ctx *ctx, const char *name, bool create, char *team,
			   size_t tsize, char *rname, size_t nsize)
{
	struct rotation_plan rp;
	int rc;

	wk_strlcpy(team, "default", tsize);
	if (name) {
		struct team_info *teams = NULL;
		size_t n = 0;
		if (team_list(ctx->store, ctx->org_id, &teams, &n) < 0)
			return ROT_STORE;
		rc = ROT_NOT_FOUND;
		for (size_t i = 0; i < n && rc == ROT_NOT_FOUND; i++) {
			rc = rotations_find(ctx->store, ctx->org_id, teams[i].id, name, &rp);
			if (rc == ROT_OK) {
				wk_strlcpy(team, teams[i].id, tsize);
				wk_strlcpy(rname, rp.name, nsize);
				rotation_plan_free(&rp);
			}
		}
		free(teams);
		return rc;
	}
	rc = rotations_find(ctx->store, ctx->org_id, team, NULL, &rp);
	if (rc == ROT_OK) {
		wk_strlcpy(rname, rp.name, nsize);
		rotation_plan_free(&rp);
		return ROT_OK;
	}
	if (rc != ROT_NOT_FOUND || !create)
		return rc;
	struct rotation_version v;
	char id[SCHEDULE_ID_LEN];
	default_version(ctx, &v);
	rc = rotations_create(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			      team, "main", &v, 10, ctx->now_ms / 1000, id, sizeof(id));
	if (rc == ROT_OK || rc == ROT_EXISTS) {
		wk_strlcpy(rname, "main", nsize);
		return ROT_OK;
	}
	return rc;
}

static enum cmd_result change_membership(struct cmd_ctx *ctx, const char *user, const char *rotation,
					 int add, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], rname[40], detail[96], when[64];
	struct member_edit e = { user, add, 0, 0 };
	struct member m;
	bool self = strcmp(user, ctx->req->user_id) == 0;
	int rc;

	if (add) {
		int got = member_get(ctx->store, ctx->org_id, user, &m);
		if (got < 0)
			return CMD_STORE_ERROR;
		if (got > 0 || m.placeholder) {
			reply_textf(r, "<@%s> is not a member of this workspace's Watchkeeper yet. Invite "
				       "them first: `/invite link` or `/invite email`.", user);
			return CMD_REFUSED;
		}
	}
	rc = target_rotation(ctx, rotation, add, team, sizeof(team), rname, sizeof(rname));
	if (rc != ROT_OK)
		return rot_result(rc, rotation, r);
	snprintf(detail, sizeof(detail), "member:%s", user);
	rc = rotations_edit(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			    team, rname, ctx->now_ms / 1000, edit_members, &e,
			    add ? "rotation.add" : "rotation.remove", detail);
	if (rc == ROT_ALREADY) {
		if (add)
			reply_textf(r, self ? "You are already in the rotation, at position %ld."
					    : "<@%2$s> is already in the rotation, at position %1$ld.",
				    e.result_position, user);
		else
			reply_textf(r, self ? "You are not in the rotation." : "<@%s> is not in the rotation.", user);
		return CMD_OK;
	}
	if (rc != ROT_OK)
		return rot_result(rc, rotation, r);
	schedule_changed(ctx, team);
	struct rotation_plan rp;
	int64_t eff = ctx->now_ms / 1000;
	if (rotations_find(ctx->store, ctx->org_id, team, rname, &rp) == ROT_OK) {
		eff = rp.versions[rp.nversions - 1].effective_from;
		when_format(rp.versions[rp.nversions - 1].spec.zone, eff, when, sizeof(when));
		rotation_plan_free(&rp);
	}
	if (add && self)
		reply_textf(r, "You joined the rotation at position %ld.", e.result_position);
	else if (add)
		reply_textf(r, "Added <@%s> to the rotation at position %ld.", user, e.result_position);
	else if (self)
		reply_textf(r, "You left the rotation.");
	else
		reply_textf(r, "Removed <@%s> from the rotation.", user);
	if (eff > ctx->now_ms / 1000)
		reply_section(r, "The shift in progress stays as it is; the new order starts at the "
				 "next handoff, %s.", when);
	return CMD_OK;
}

static enum cmd_result oncall_join(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return change_membership(ctx, ctx->req->user_id, argc ? argv[0] : NULL, 1, r);
}

static enum cmd_result oncall_leave(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return change_membership(ctx, ctx->req->user_id, argc ? argv[0] : NULL, 0, r);
}

static enum cmd_result oncall_add(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char id[64];

	if (oncall_parse_user(ctx, argv[0], id, sizeof(id), r) < 0)
		return CMD_REFUSED;
	return change_membership(ctx, id, argc > 1 ? argv[1] : NULL, 1, r);
}

static enum cmd_result oncall_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char id[64];

	if (oncall_parse_user(ctx, argv[0], id, sizeof(id), r) < 0)
		return CMD_REFUSED;
	return change_membership(ctx, id, argc > 1 ? argv[1] : NULL, 0, r);
}

static enum cmd_result action_join(struct cmd_ctx *ctx, const char *value, struct reply *r)
{
	r->replace_original = true;
	return change_membership(ctx, ctx->req->user_id, value && value[0] ? value : NULL, 1, r);
}

/* ---- /oncall rotation ... ---- */

static enum cmd_result rotation_list_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return oncall_list(ctx, argc, argv, r);
}

struct spec_edit {
	struct rotation_version v;	/* the wanted settings */
	unsigned set;			/* which of them */
};
#define SET_LENGTH 1u
#define SET_HANDOFF 2u
#define SET_TZ 4u
#define SET_WINDOWS 8u
#define SET_START 16u

/* Parse "every 1w", "handoff mon 09:00" / "handoff 09:00", "tz Zone",
 * "hours mon-fri 08:00-18:00" / "hours always", and for creation "priority N",
 * "team NAME", "members @a @b" from argv. */
static int parse_options(struct cmd_ctx *ctx, int argc, char **argv, struct spec_edit *e, int *priority,
			 const char **team, struct reply *r)
{
	char why[200];

	for (int i = 0; i < argc; i++) {
		const char *k = argv[i];
		if (priority && strcasecmp(k, "members") == 0) {
			while (i + 1 < argc && (argv[i + 1][0] == '@' || argv[i + 1][0] == '<')) {
				char id[64];
				struct member m;
				if (oncall_parse_user(ctx, argv[++i], id, sizeof(id), r) < 0)
					return -1;
				if (member_get(ctx->store, ctx->org_id, id, &m) != 0 || m.placeholder) {
					reply_textf(r, "<@%s> is not a member of this workspace's Watchkeeper yet; "
						       "invite them first.", id);
					return -1;
				}
				e->v.members = xrealloc(e->v.members, (e->v.nmembers + 2) * sizeof(char *));
				e->v.members[e->v.nmembers++] = xstrdup(id);
			}
			continue;
		}
		if (strcasecmp(k, "every") == 0 && i + 1 < argc) {
			if (rotations_parse_length(argv[++i], &e->v.spec.unit, &e->v.spec.length, why, sizeof(why)) < 0)
				goto bad;
			e->set |= SET_LENGTH;
		} else if (strcasecmp(k, "handoff") == 0 && i + 1 < argc) {
			int wd = rotation_weekday_parse(argv[i + 1]);
			if (wd >= 0 && i + 2 < argc) {
				/* a weekly handoff day: anchor on a date with that weekday (2026-01-04 is a Sunday) */
				e->v.spec.start_year = 2026;
				e->v.spec.start_month = 1;
				e->v.spec.start_day = 4 + wd;
				i++;
			}
			if (rotation_hhmm_parse(argv[++i], &e->v.spec.handoff_hour, &e->v.spec.handoff_minute) < 0) {
				snprintf(why, sizeof(why), "the handoff is a 24-hour time, with a weekday for weekly rotations: `handoff mon 09:00`");
				goto bad;
			}
			e->set |= SET_HANDOFF;
		} else if (strcasecmp(k, "tz") == 0 && i + 1 < argc) {
			if (!(e->v.spec.zone = tz_get(argv[++i]))) {
				snprintf(why, sizeof(why), "`%.40s` is not an IANA time zone such as Europe/Berlin", argv[i]);
				goto bad;
			}
			wk_strlcpy(e->v.tz, argv[i], sizeof(e->v.tz));
			e->set |= SET_TZ;
		} else if (strcasecmp(k, "hours") == 0 && i + 1 < argc) {
			free(e->v.windows);
			e->v.windows = NULL;
			e->v.nwindows = 0;
			if (strcasecmp(argv[i + 1], "always") == 0) {
				i++;
			} else {
				while (i + 2 < argc && strchr(argv[i + 2], '-') && strchr(argv[i + 2], ':')) {
					struct rotation_window w;
					if (rotations_parse_window(argv[i + 1], argv[i + 2], &w, why, sizeof(why)) < 0)
						goto bad;
					e->v.windows = xrealloc(e->v.windows, (e->v.nwindows + 1) * sizeof(w));
					e->v.windows[e->v.nwindows++] = w;
					i += 2;
					if (i + 1 >= argc || strcasecmp(argv[i + 1], "and") != 0)
						break;
					i++;
				}
				if (!e->v.nwindows) {
					rotations_parse_window("", "", &(struct rotation_window){ 0 }, why, sizeof(why));
					goto bad;
				}
			}
			e->set |= SET_WINDOWS;
		} else if (priority && strcasecmp(k, "start") == 0 && i + 1 < argc) {
			int y, mo, d;
			char tail;
			if (sscanf(argv[++i], "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || strlen(argv[i]) != 10 ||
			    y < 2000 || mo < 1 || mo > 12 || d < 1 || d > tz_days_in_month(y, mo)) {
				snprintf(why, sizeof(why), "the start is a date like 2026-12-01");
				goto bad;
			}
			e->v.spec.start_year = y;
			e->v.spec.start_month = mo;
			e->v.spec.start_day = d;
			e->set |= SET_START;
		} else if (priority && strcasecmp(k, "priority") == 0 && i + 1 < argc) {
			int64_t v;
			if (!wk_parse_i64(argv[++i], 1, 1000, &v)) {
				snprintf(why, sizeof(why), "priority is a number from 1 (first) to 1000");
				goto bad;
			}
			*priority = (int)v;
		} else if (team && strcasecmp(k, "team") == 0 && i + 1 < argc) {
			*team = argv[++i];
		} else {
			char shown[40];
			snprintf(why, sizeof(why), "I don't understand `%s` here",
				 reply_escape(shown, sizeof(shown), k));
			goto bad;
		}
	}
	return 0;
bad:
	reply_textf(r, "I did not change the rotation: %s.", why);
	reply_section(r, "Options: `every 1w|24h|2d`, `handoff mon 09:00`, `tz Europe/Berlin`, "
			 "`hours mon-fri 08:00-18:00` or `hours always`%s.",
		      priority ? ", `start 2026-12-01`, `priority N`, `team NAME`, `members @a @b`" : "");
	return -1;
}

static enum cmd_result rotation_create_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct spec_edit e = { 0 };
	char team[SCHEDULE_ID_LEN], id[SCHEDULE_ID_LEN], desc[256];
	const char *team_name = NULL;
	int priority = 10, rc;

	default_version(ctx, &e.v);
	if (!team_name_valid(argv[0])) {
		reply_textf(r, "A rotation name is 1 to 32 letters, digits, '.', '_' or '-'.");
		return CMD_REFUSED;
	}
	if (parse_options(ctx, argc - 1, argv + 1, &e, &priority, &team_name, r) < 0) {
		rotation_version_free(&e.v);
		return CMD_REFUSED;
	}
	if (pick_team(ctx, team_name, team, sizeof(team), r) != 0) {
		rotation_version_free(&e.v);
		return team_name && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	}
	if (e.set & SET_START)	/* the first shift: the handoff on the start date */
		e.v.effective_from = tz_from_local(e.v.spec.zone, e.v.spec.start_year, e.v.spec.start_month,
						   e.v.spec.start_day, e.v.spec.handoff_hour,
						   e.v.spec.handoff_minute, 0);
	rc = rotations_create(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			      team, argv[0], &e.v, priority, ctx->now_ms / 1000, id, sizeof(id));
	if (rc == ROT_OK) {
		schedule_changed(ctx, team);
		describe_version(&e.v, desc, sizeof(desc));
		char when[64];
		reply_textf(r, "Created rotation `%s` (%s, priority %d) with %zu %s. Add people with "
			       "`/oncall add @user %s`.", argv[0], desc, priority, e.v.nmembers,
			    e.v.nmembers == 1 ? "person" : "people", argv[0]);
		if (e.v.effective_from > ctx->now_ms / 1000)
			reply_section(r, "It starts %s.", when_format(e.v.spec.zone, e.v.effective_from,
								       when, sizeof(when)));
	}
	rotation_version_free(&e.v);
	return rot_result(rc, argv[0], r);
}

static int apply_spec(struct rotation_version *v, void *arg)
{
	struct spec_edit *e = arg;

	if (e->set & SET_LENGTH) {
		v->spec.unit = e->v.spec.unit;
		v->spec.length = e->v.spec.length;
	}
	if (e->set & SET_HANDOFF) {
		v->spec.handoff_hour = e->v.spec.handoff_hour;
		v->spec.handoff_minute = e->v.spec.handoff_minute;
		if (e->v.spec.start_year == 2026 && e->v.spec.start_month == 1) {
			v->spec.start_year = 2026;
			v->spec.start_month = 1;
			v->spec.start_day = e->v.spec.start_day;
		}
	}
	if (e->set & SET_TZ) {
		v->spec.zone = e->v.spec.zone;
		wk_strlcpy(v->tz, e->v.tz, sizeof(v->tz));
	}
	if (e->set & SET_WINDOWS) {
		free(v->windows);
		v->windows = xcalloc(e->v.nwindows + 1, sizeof(*v->windows));
		if (e->v.nwindows)
			memcpy(v->windows, e->v.windows, e->v.nwindows * sizeof(*v->windows));
		v->nwindows = e->v.nwindows;
	}
	return 0;
}

static enum cmd_result rotation_set_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct spec_edit e = { 0 };
	char team[SCHEDULE_ID_LEN], rname[40], when[64];
	int rc;

	rc = target_rotation(ctx, argv[0], false, team, sizeof(team), rname, sizeof(rname));
	if (rc != ROT_OK)
		return rot_result(rc, argv[0], r);
	default_version(ctx, &e.v);
	if (parse_options(ctx, argc - 1, argv + 1, &e, NULL, NULL, r) < 0) {
		free(e.v.windows);
		return CMD_REFUSED;
	}
	rc = rotations_edit(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			    team, rname, ctx->now_ms / 1000, apply_spec, &e, "rotation.set", "settings");
	free(e.v.windows);
	if (rc != ROT_OK)
		return rot_result(rc, argv[0], r);
	schedule_changed(ctx, team);
	struct rotation_plan rp;
	if (rotations_find(ctx->store, ctx->org_id, team, rname, &rp) == ROT_OK) {
		char desc[256];
		const struct rotation_version *v = &rp.versions[rp.nversions - 1];
		describe_version(v, desc, sizeof(desc));
		reply_textf(r, "Rotation `%s` is now %s, from %s on; shifts before that stay as they were.",
			    rname, desc, when_format(v->spec.zone, v->effective_from, when, sizeof(when)));
		rotation_plan_free(&rp);
	}
	return CMD_OK;
}

static enum cmd_result rotation_move_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], rname[40], id[64], detail[96];
	struct member_edit e = { id, 2, 0, 0 };
	int64_t pos;
	int rc;

	(void)argc;
	if (oncall_parse_user(ctx, argv[1], id, sizeof(id), r) < 0)
		return CMD_REFUSED;
	if (!wk_parse_i64(argv[2], 1, 1000, &pos)) {
		reply_textf(r, "The position is a number from 1.");
		return CMD_REFUSED;
	}
	e.position = pos;
	rc = target_rotation(ctx, argv[0], false, team, sizeof(team), rname, sizeof(rname));
	if (rc != ROT_OK)
		return rot_result(rc, argv[0], r);
	snprintf(detail, sizeof(detail), "member:%s to %lld", id, (long long)pos);
	rc = rotations_edit(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			    team, rname, ctx->now_ms / 1000, edit_members, &e, "rotation.move", detail);
	if (rc == ROT_ALREADY) {
		reply_textf(r, "<@%s> is not in rotation `%s`.", id, rname);
		return CMD_REFUSED;
	}
	if (rc != ROT_OK)
		return rot_result(rc, argv[0], r);
	schedule_changed(ctx, team);
	reply_textf(r, "<@%s> is now number %ld in rotation `%s`, from the next handoff on.", id,
		    e.result_position, rname);
	return CMD_OK;
}

struct pause_edit {
	const char *member;
	bool pause;
};

/* Pausing takes someone out of the turn but remembers their place ("pos:id");
 * resuming puts them back there. */
static int edit_pause(struct rotation_version *v, void *arg)
{
	struct pause_edit *e = arg;
	char entry[96];

	if (e->pause) {
		long at = -1;
		for (size_t i = 0; i < v->nmembers; i++)
			if (strcmp(v->members[i], e->member) == 0)
				at = (long)i;
		if (at < 0)
			return ROT_ALREADY;
		free(v->members[at]);
		memmove(v->members + at, v->members + at + 1, (v->nmembers - (size_t)at - 1) * sizeof(char *));
		v->nmembers--;
		snprintf(entry, sizeof(entry), "%ld:%s", at, e->member);
		v->paused = xrealloc(v->paused, (v->npaused + 2) * sizeof(char *));
		v->paused[v->npaused++] = xstrdup(entry);
		return 0;
	}
	for (size_t i = 0; i < v->npaused; i++) {
		const char *colon = strchr(v->paused[i], ':');
		int64_t pos;
		char num[24];
		if (!colon || strcmp(colon + 1, e->member) != 0 || (size_t)(colon - v->paused[i]) >= sizeof(num))
			continue;
		memcpy(num, v->paused[i], (size_t)(colon - v->paused[i]));
		num[colon - v->paused[i]] = '\0';
		if (!wk_parse_i64(num, 0, 100000, &pos) || (size_t)pos > v->nmembers)
			pos = (int64_t)v->nmembers;
		v->members = xrealloc(v->members, (v->nmembers + 2) * sizeof(char *));
		memmove(v->members + pos + 1, v->members + pos, (v->nmembers - (size_t)pos) * sizeof(char *));
		v->members[pos] = xstrdup(e->member);
		v->nmembers++;
		free(v->paused[i]);
		memmove(v->paused + i, v->paused + i + 1, (v->npaused - i - 1) * sizeof(char *));
		v->npaused--;
		return 0;
	}
	return ROT_ALREADY;
}

static enum cmd_result pause_cmd(struct cmd_ctx *ctx, char **argv, bool pause, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], rname[40], id[64], detail[96];
	struct pause_edit e = { id, pause };
	int rc;

	if (oncall_parse_user(ctx, argv[1], id, sizeof(id), r) < 0)
		return CMD_REFUSED;
	rc = target_rotation(ctx, argv[0], false, team, sizeof(team), rname, sizeof(rname));
	if (rc != ROT_OK)
		return rot_result(rc, argv[0], r);
	snprintf(detail, sizeof(detail), "member:%s", id);
	rc = rotations_edit(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			    team, rname, ctx->now_ms / 1000, edit_pause, &e,
			    pause ? "rotation.pause" : "rotation.resume", detail);
	if (rc == ROT_ALREADY) {
		reply_textf(r, pause ? "<@%s> is not active in rotation `%s`." : "<@%s> is not paused in rotation `%s`.",
			    id, rname);
		return CMD_REFUSED;
	}
	if (rc != ROT_OK)
		return rot_result(rc, argv[0], r);
	schedule_changed(ctx, team);
	reply_textf(r, pause ? "<@%s> is paused in rotation `%s` from the next handoff: skipped until "
			       "`/oncall rotation resume %s @user`."
			     : "<@%s> is back in rotation `%s`, in their old place, from the next handoff.",
		    id, rname, rname);
	return CMD_OK;
}

static enum cmd_result rotation_pause_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return pause_cmd(ctx, argv, true, r);
}

static enum cmd_result rotation_resume_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return pause_cmd(ctx, argv, false, r);
}

static enum cmd_result rotation_delete_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], rname[40];
	int rc;

	(void)argc;
	rc = target_rotation(ctx, argv[0], false, team, sizeof(team), rname, sizeof(rname));
	if (rc == ROT_OK)
		rc = rotations_delete(ctx->store, ctx->org_id, ctx->req->user_id,
				      platform_name(ctx->req->platform), team, rname, ctx->now_ms / 1000);
	if (rc == ROT_OK) {
		schedule_changed(ctx, team);
		reply_textf(r, "Deleted rotation `%s`.", rname);
	}
	return rot_result(rc, argv[0], r);
}

/* ---- overrides ---- */

static enum cmd_result oncall_override(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct override_def o = { 0 };
	char who[64], id[SCHEDULE_ID_LEN], why[300], a[64], b[64], team[SCHEDULE_ID_LEN] = "default";
	struct team_plan p;
	const struct tz *z;
	int64_t now = ctx->now_ms / 1000, start, end;
	int used, at = 1, rc;

	if (oncall_parse_user(ctx, argv[0], who, sizeof(who), r) < 0)
		return CMD_REFUSED;
	if (schedule_load(ctx->store, ctx->org_id, "default", now, now + 1, &p) < 0)
		return CMD_STORE_ERROR;
	z = zone_for(ctx, &p);
	team_plan_free(&p);
	if ((used = when_parse(z, now, now, argc - at, argv + at, &start, why, sizeof(why))) < 0)
		goto bad;
	at += used;
	if ((used = when_parse(z, now, start, argc - at, argv + at, &end, why, sizeof(why))) < 0)
		goto bad;
	at += used;
	if (at + 1 < argc && strcasecmp(argv[at], "team") == 0) {
		int t = pick_team(ctx, argv[at + 1], team, sizeof(team), r);
		if (t != 0)
			return t > 0 ? CMD_REFUSED : CMD_STORE_ERROR;
		at += 2;
	}
	if (end <= start || end <= now || end - start > 90 * DAY) {
		snprintf(why, sizeof(why), "the end must come after the start and after now, at most 90 days later");
		goto bad;
	}
	wk_strlcpy(o.member, who, sizeof(o.member));
	o.start = start;
	o.end = end;
	o.source = SEGMENT_OVERRIDE;
	for (int i = at; i < argc; i++) {
		size_t n = strlen(o.reason);
		snprintf(o.reason + n, sizeof(o.reason) - n, "%s%s", n ? " " : "", argv[i]);
	}
	rc = overrides_create(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			      team, &o, now, id, sizeof(id));
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 1) {
		reply_textf(r, "<@%s> is not a member of this workspace's Watchkeeper.", who);
		return CMD_REFUSED;
	}
	schedule_changed(ctx, team);
	reply_textf(r, "Override `%s`: <@%s> is on call from %s to %s.", id, who,
		    when_format(z, start, a, sizeof(a)), when_format(z, end, b, sizeof(b)));
	return CMD_OK;
bad:
	reply_textf(r, "I did not add the override: %s.", why);
	reply_section(r, "Usage: `/oncall override @user FROM TO [team NAME] [reason]`, e.g. "
			 "`/oncall override @bob 2026-12-24 08:00 +48h covering for Alice`.");
	return CMD_REFUSED;
}

static enum cmd_result oncall_overrides(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], a[64], b[64], reason[160];
	struct team_plan p;
	struct buf out = BUF_INIT(32 * 1024);
	int64_t now = ctx->now_ms / 1000;

	if (pick_team(ctx, argc ? argv[0] : NULL, team, sizeof(team), r) != 0)
		return argc && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (schedule_load(ctx->store, ctx->org_id, team, now, now + 400 * DAY, &p) < 0)
		return CMD_STORE_ERROR;
	const struct tz *z = zone_for(ctx, &p);
	for (size_t i = 0; i < p.noverrides; i++) {
		const struct override_def *o = &p.overrides[i];
		buf_printf(&out, "`%s` <@%s> %s → %s%s%s%s\n", o->id, o->member,
			   when_format(z, o->start, a, sizeof(a)), when_format(z, o->end, b, sizeof(b)),
			   o->source == SEGMENT_SWAP ? " (swap)" : "", o->reason[0] ? ": " : "",
			   reply_escape(reason, sizeof(reason), o->reason));
	}
	if (p.noverrides) {
		reply_textf(r, "%zu override%s now or ahead:", p.noverrides, p.noverrides == 1 ? "" : "s");
		reply_section(r, "%s", buf_cstr(&out));
	} else {
		reply_textf(r, "No overrides now or ahead. Admins add one with `/oncall override @user FROM TO`.");
	}
	buf_free(&out);
	team_plan_free(&p);
	return CMD_OK;
}

static enum cmd_result oncall_override_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct team_info *teams = NULL;
	char shown[40], id[32];
	size_t n = 0;
	int rc = 1;

	(void)argc;
	/* Ids are shown as `o19`; people type 19 too. */
	snprintf(id, sizeof(id), "%s%s", argv[0][0] >= '0' && argv[0][0] <= '9' ? "o" : "", argv[0]);
	if (team_list(ctx->store, ctx->org_id, &teams, &n) < 0)
		return CMD_STORE_ERROR;
	for (size_t i = 0; i < n && rc == 1; i++) {
		rc = overrides_remove(ctx->store, ctx->org_id, ctx->req->user_id,
				      platform_name(ctx->req->platform), teams[i].id, id, ctx->now_ms / 1000);
		if (rc == 0)
			schedule_changed(ctx, teams[i].id);
	}
	free(teams);
	reply_escape(shown, sizeof(shown), id);
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 1) {
		reply_textf(r, "There is no override `%s`. `/oncall overrides` lists them.", shown);
		return CMD_REFUSED;
	}
	reply_textf(r, "Removed override `%s`.", shown);
	return CMD_OK;
}

/* ---- swaps ---- */

/* The rotation shift someone means: "r1.2934" (from /oncall when) or a time
 * inside it. It must be one of `member`'s own rotation shifts and not started. */
static int find_shift(struct cmd_ctx *ctx, const struct team_plan *p, const struct tz *z, int argc,
		      char **argv, const char *member, struct swap_shift *out, int *used, struct reply *r)
{
	int64_t now = ctx->now_ms / 1000, t = 0, idx = -1;
	char rot[SCHEDULE_ID_LEN] = "", why[300];
	struct schedule s;
	const char *dot = strchr(argv[0], '.');
	bool found = false;

	if (argv[0][0] == 'r' && dot && (size_t)(dot - argv[0]) < sizeof(rot) &&
	    wk_parse_i64(dot + 1, INT64_MIN / 2, INT64_MAX / 2, &idx)) {
		memcpy(rot, argv[0], (size_t)(dot - argv[0]));
		rot[dot - argv[0]] = '\0';
		*used = 1;
	} else {
		*used = when_parse(z, now, now, argc, argv, &t, why, sizeof(why));
		if (*used < 0) {
			reply_textf(r, "Which shift? Give its id from `/oncall when` (like `r1.2934`) or a time "
				       "inside it: %s.", why);
			return -1;
		}
	}
	if (schedule_build(p, now, now + 90 * DAY, &s) < 0)
		return -2;
	for (size_t i = 0; i < s.n && !found; i++) {
		const struct segment *g = &s.seg[i];
		bool hit = rot[0] ? strcmp(g->rotation, rot) == 0 && g->shift_index == idx
				  : g->start <= t && t < g->end;
		if (!hit)
			continue;
		if (g->source != SEGMENT_ROTATION || strcmp(g->member, member) != 0)
			break;
		wk_strlcpy(out->rotation, g->rotation, sizeof(out->rotation));
		out->index = g->shift_index;
		out->start = g->shift_start;
		out->end = g->shift_end;
		found = true;
	}
	schedule_free(&s);
	if (!found) {
		reply_textf(r, "That is not one of %s rotation shifts in the next 90 days. `/oncall when%s` "
			       "lists them with their ids.", strcmp(member, ctx->req->user_id) ? "their" : "your",
			    strcmp(member, ctx->req->user_id) ? " @user" : "");
		return -1;
	}
	if (out->start <= now) {
		reply_textf(r, "That shift has already started; ask an admin for an override instead.");
		return -1;
	}
	return 0;
}

static void swap_line(const struct cmd_ctx *ctx, const struct swap *sw, const struct tz *z, struct buf *b)
{
	char a[64], c[64];

	(void)ctx;
	buf_printf(b, "`%s` %s: <@%s> → <@%s>, shift %s–%s", sw->id, sw->kind == SWAP_TRADE ? "trade" : "cover",
		   sw->requester, sw->peer, when_format(z, sw->give.start, a, sizeof(a)),
		   when_format(z, sw->give.end, c, sizeof(c)));
	if (sw->kind == SWAP_TRADE)
		buf_printf(b, " for %s", when_format(z, sw->take.start, a, sizeof(a)));
	buf_printf(b, " — *%s*\n", sw->state);
}

/* Buttons for whoever acts next on a swap, in the reply r. */
static void swap_buttons(const struct swap *sw, const char *viewer, enum role role, struct reply *r)
{
	if (strcmp(sw->state, "requested") == 0 && strcmp(viewer, sw->peer) == 0) {
		reply_button(r, "Accept", "oncall.swap_accept", sw->id, BUTTON_PRIMARY);
		reply_button(r, "Decline", "oncall.swap_decline", sw->id, BUTTON_DANGER);
	} else if (strcmp(sw->state, "accepted") == 0 && role >= ROLE_ADMIN) {
		reply_button(r, "Approve", "oncall.swap_approve", sw->id, BUTTON_PRIMARY);
		reply_button(r, "Reject", "oncall.swap_reject", sw->id, BUTTON_DANGER);
	}
}

static void notify_swap(struct cmd_ctx *ctx, const struct swap *sw, const char *state)
{
	swap_notify(ctx->store, ctx->cfg, ctx->org_id, sw, state, ctx->req->user_id);
}

static enum cmd_result request_swap(struct cmd_ctx *ctx, enum swap_kind kind, int argc, char **argv,
				    struct reply *r)
{
	struct swap sw = { 0 };
	struct team_plan p;
	const char *word = kind == SWAP_TRADE ? "with" : "by";
	int64_t now = ctx->now_ms / 1000;
	int used, rc, at;
	char a[64], c[64], expires[64], team[SCHEDULE_ID_LEN];
	const char *team_name = NULL;
	struct buf line = BUF_INIT(1024);

	/* "... with @peer team NAME [reason]": a team option right after the peer. */
	for (int k = 2; k + 1 < argc; k++)
		if (strcasecmp(argv[k], "team") == 0 && strcasecmp(argv[k - 2], word) == 0) {
			team_name = argv[k + 1];
			for (int j = k; j + 2 < argc; j++)
				argv[j] = argv[j + 2];
			argc -= 2;
			break;
		}
	if (pick_team(ctx, team_name, team, sizeof(team), r) != 0)
		return team_name && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (schedule_load(ctx->store, ctx->org_id, team, now - DAY, now + 91 * DAY, &p) < 0)
		return CMD_STORE_ERROR;
	const struct tz *z = zone_for(ctx, &p);
	rc = find_shift(ctx, &p, z, argc, argv, ctx->req->user_id, &sw.give, &used, r);
	if (rc < 0) {
		team_plan_free(&p);
		return rc == -2 ? CMD_STORE_ERROR : CMD_REFUSED;
	}
	at = used;
	if (at + 1 >= argc || strcasecmp(argv[at], word) != 0) {
		reply_textf(r, kind == SWAP_TRADE ? "Usage: `/oncall swap SHIFT with @peer [team NAME] [reason]`."
						  : "Usage: `/oncall cover SHIFT by @peer [team NAME] [reason]`.");
		team_plan_free(&p);
		return CMD_REFUSED;
	}
	if (oncall_parse_user(ctx, argv[at + 1], sw.peer, sizeof(sw.peer), r) < 0) {
		team_plan_free(&p);
		return CMD_REFUSED;
	}
	if (strcmp(sw.peer, ctx->req->user_id) == 0) {
		reply_textf(r, "Pick someone other than yourself.");
		team_plan_free(&p);
		return CMD_REFUSED;
	}
	for (int i = at + 2; i < argc; i++) {
		size_t n = strlen(sw.reason);
		snprintf(sw.reason + n, sizeof(sw.reason) - n, "%s%s", n ? " " : "", argv[i]);
	}
	sw.kind = kind;
	if (kind == SWAP_TRADE) {
		/* In return the requester takes the peer's next rotation shift. */
		struct schedule s;
		bool found = false;
		if (schedule_build(&p, now, now + 90 * DAY, &s) == 0) {
			for (size_t i = 0; i < s.n && !found; i++) {
				const struct segment *g = &s.seg[i];
				if (g->source != SEGMENT_ROTATION || strcmp(g->member, sw.peer) != 0 ||
				    g->shift_start <= now || (g->shift_start < sw.give.end && g->shift_end > sw.give.start))
					continue;
				wk_strlcpy(sw.take.rotation, g->rotation, sizeof(sw.take.rotation));
				sw.take.index = g->shift_index;
				sw.take.start = g->shift_start;
				sw.take.end = g->shift_end;
				found = true;
			}
			schedule_free(&s);
		}
		if (!found) {
			reply_textf(r, "<@%s> has no shift of their own in the next 90 days to trade; ask them "
				       "to cover yours instead: `/oncall cover ... by @them`.", sw.peer);
			team_plan_free(&p);
			return CMD_REFUSED;
		}
	}
	team_plan_free(&p);
	wk_strlcpy(sw.team, team, sizeof(sw.team));
	wk_strlcpy(sw.requester, ctx->req->user_id, sizeof(sw.requester));
	if (swap_policy_get(ctx->store, ctx->org_id, sw.policy, sizeof(sw.policy)) < 0)
		return CMD_STORE_ERROR;
	sw.deadline = now + ctx->cfg->swap_expire_s;
	if (sw.give.start < sw.deadline)
		sw.deadline = sw.give.start;
	if (kind == SWAP_TRADE && sw.take.start < sw.deadline)
		sw.deadline = sw.take.start;
	rc = swap_create(ctx->store, ctx->org_id, platform_name(ctx->req->platform), &sw, now);
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 1) {
		reply_textf(r, "<@%s> is not a member of this workspace's Watchkeeper.", sw.peer);
		return CMD_REFUSED;
	}
	if (rc == 2) {
		reply_textf(r, "That shift already has an open swap request. `/oncall swaps` shows it.");
		return CMD_REFUSED;
	}
	swap_line(ctx, &sw, z, &line);
	reply_textf(r, "Asked <@%s> to %s your shift %s–%s%s. They get Accept and Decline buttons%s; "
		       "it expires %s. `/oncall swap cancel %s` withdraws it.",
		    sw.peer, kind == SWAP_TRADE ? "trade" : "cover", when_format(z, sw.give.start, a, sizeof(a)),
		    when_format(z, sw.give.end, c, sizeof(c)), kind == SWAP_TRADE ? " for their next one" : "",
		    strcmp(sw.policy, "admin") == 0 ? ", then an admin approves" : "",
		    when_format(z, sw.deadline, expires, sizeof(expires)), sw.id);
	buf_free(&line);
	swap_arm_expiry(ctx->store, ctx->org_id, &sw);
	notify_swap(ctx, &sw, "requested");
	return CMD_OK;
}

static enum cmd_result oncall_swap(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return request_swap(ctx, SWAP_TRADE, argc, argv, r);
}

static enum cmd_result oncall_cover(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return request_swap(ctx, SWAP_COVER, argc, argv, r);
}

static enum cmd_result oncall_swaps(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct swap *list;
	size_t n, shown = 0;
	struct team_plan p;
	int64_t now = ctx->now_ms / 1000;

	(void)argc;
	(void)argv;
	if (swap_list(ctx->store, ctx->org_id, ctx->req->user_id, ctx->role >= ROLE_ADMIN, &list, &n) < 0)
		return CMD_STORE_ERROR;
	if (schedule_load(ctx->store, ctx->org_id, "default", now, now + 1, &p) < 0) {
		free(list);
		return CMD_STORE_ERROR;
	}
	const struct tz *z = zone_for(ctx, &p);
	team_plan_free(&p);
	reply_textf(r, n ? "Swaps%s:" : "No swaps%s yet.", ctx->role >= ROLE_ADMIN ? "" : " involving you");
	for (size_t i = 0; i < n; i++) {
		struct buf b = BUF_INIT(1024);
		swap_line(ctx, &list[i], z, &b);
		reply_section(r, "%s", buf_cstr(&b));
		buf_free(&b);
		/* Buttons for the first one waiting on this person (a reply holds few). */
		if (!shown && r->nbuttons == 0) {
			swap_buttons(&list[i], ctx->req->user_id, ctx->role, r);
			shown = r->nbuttons > 0;
		}
	}
	free(list);
	return CMD_OK;
}

static enum cmd_result report_transition(struct cmd_ctx *ctx, enum swap_outcome o, const struct swap *sw,
					 const char *id, struct reply *r)
{
	char shown[40];

	reply_escape(shown, sizeof(shown), id);
	switch (o) {
	case SWAP_DONE:
		schedule_changed(ctx, sw->team);
		reply_textf(r, "Swap `%s` is now *%s*.", sw->id, sw->state);
		if (strcmp(sw->state, "approved") == 0)
			reply_section(r, "<@%s> takes the shift; `/oncall schedule` shows it. It can be undone "
					 "until the shift starts: `/oncall swap undo %s`.", sw->peer, sw->id);
		else if (strcmp(sw->state, "accepted") == 0)
			reply_section(r, "It now waits for an admin to approve it (the swap policy is *admin*); "
					 "nothing changes until then.");
		notify_swap(ctx, sw, sw->state);
		return CMD_OK;
	case SWAP_MISSING:
		reply_textf(r, "There is no swap `%s`.", shown);
		break;
	case SWAP_NOT_YOURS:
		reply_textf(r, "Swap `%s` is not yours to answer.", shown);
		break;
	case SWAP_NEEDS_ADMIN:
		reply_textf(r, "That needs the *admin* role or higher.");
		break;
	case SWAP_ALREADY:
		reply_textf(r, "Swap `%s` is already *%s*; nothing changed.", shown, sw->state);
		break;
	case SWAP_EXPIRED:
		reply_textf(r, "Swap `%s` has expired; nothing changed.", shown);
		break;
	case SWAP_STARTED:
		reply_textf(r, "Swap `%s` can't be undone: its shift has started.", shown);
		break;
	case SWAP_OWN_REQUEST:
		reply_textf(r, "Swap `%s` is yours: another *admin* approves it (the swap policy asks for "
			       "someone else's approval).", shown);
		break;
	}
	return CMD_REFUSED;
}

static enum cmd_result run_transition(struct cmd_ctx *ctx, const char *id, enum swap_action a,
				      struct reply *r)
{
	enum swap_outcome o;
	struct swap sw = { 0 };

	if (swap_transition(ctx->store, ctx->org_id, id, a, ctx->req->user_id,
			    platform_name(ctx->req->platform), ctx->now_ms / 1000, &o, &sw) < 0)
		return CMD_STORE_ERROR;
	return report_transition(ctx, o, &sw, id, r);
}

static enum cmd_result oncall_swap_cancel(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return run_transition(ctx, argv[0], SWAP_CANCEL, r);
}

static enum cmd_result oncall_swap_undo(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return run_transition(ctx, argv[0], SWAP_UNDO, r);
}

static enum cmd_result oncall_swap_policy(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	int rc;

	(void)argc;
	if (strcasecmp(argv[0], "peer") != 0 && strcasecmp(argv[0], "admin") != 0) {
		reply_textf(r, "The swap policy is `peer` (the peer's accept is enough) or `admin` (an admin "
			       "approves after the peer accepts).");
		return CMD_REFUSED;
	}
	rc = swap_policy_set(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			     strcasecmp(argv[0], "peer") == 0 ? "peer" : "admin", ctx->now_ms / 1000);
	if (rc < 0)
		return CMD_STORE_ERROR;
	reply_textf(r, "Swap policy: *%s*%s.", strcasecmp(argv[0], "peer") == 0 ? "peer" : "admin",
		    rc == 1 ? " (unchanged)" : "");
	return CMD_OK;
}

static enum cmd_result click(struct cmd_ctx *ctx, const char *value, enum swap_action a, struct reply *r)
{
	r->replace_original = true;
	return run_transition(ctx, value, a, r);
}

static enum cmd_result action_swap_accept(struct cmd_ctx *ctx, const char *v, struct reply *r)
{
	return click(ctx, v, SWAP_ACCEPT, r);
}

static enum cmd_result action_swap_decline(struct cmd_ctx *ctx, const char *v, struct reply *r)
{
	return click(ctx, v, SWAP_DECLINE, r);
}

static enum cmd_result action_swap_approve(struct cmd_ctx *ctx, const char *v, struct reply *r)
{
	return click(ctx, v, SWAP_APPROVE, r);
}

static enum cmd_result action_swap_reject(struct cmd_ctx *ctx, const char *v, struct reply *r)
{
	return click(ctx, v, SWAP_REJECT, r);
}

/* A Slack channel from what people type: `here` (where the command was
 * typed) or a channel link <#C123|name>. "" when it is neither. */
static void channel_from(const struct cmd_ctx *ctx, const char *arg, char *out, size_t size)
{
	out[0] = '\0';
	if (strcasecmp(arg, "here") == 0) {
		wk_strlcpy(out, ctx->req->channel_id, size);
	} else if (strncmp(arg, "<#", 2) == 0) {
		size_t n = strcspn(arg + 2, "|>");
		if (n < size && arg[2 + n]) {
			memcpy(out, arg + 2, n);
			out[n] = '\0';
		}
	}
	if (!handoff_channel_valid(out))
		out[0] = '\0';
}

static enum cmd_result oncall_announce(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], channel[32] = "";
	const char *team_name = NULL;
	bool off = strcasecmp(argv[0], "off") == 0;

	if (argc == 3 && strcasecmp(argv[1], "team") == 0)
		team_name = argv[2];
	else if (argc != 1) {
		reply_textf(r, "Usage: `/oncall announce here|#channel|off [team NAME]`.");
		return CMD_REFUSED;
	}
	if (ctx->req->platform != PLATFORM_SLACK) {
		reply_textf(r, "Handoff announcements go to a Slack channel; run this in Slack.");
		return CMD_REFUSED;
	}
	if (!off && (channel_from(ctx, argv[0], channel, sizeof(channel)), !channel[0])) {
		reply_textf(r, "Say `here` for this channel, pick a channel with #, or `off`. Direct "
			       "messages can't hold announcements.");
		return CMD_REFUSED;
	}
	if (pick_team(ctx, team_name, team, sizeof(team), r) != 0)
		return team_name && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (handoff_set_announce(ctx->store, ctx->org_id, team, channel, ctx->req->user_id,
				 platform_name(ctx->req->platform), ctx->now_ms) < 0)
		return CMD_STORE_ERROR;
	if (off)
		reply_textf(r, "Handoffs are no longer announced in a channel.");
	else
		reply_textf(r, "Each handoff will be announced in <#%s>. If the app is not in that channel "
			       "yet, add it: `/invite @Watchkeeper`.", channel);
	return CMD_OK;
}

static enum cmd_result oncall_reminder(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], value[16], zone_name[64], why[200], when[64];
	const char *tz = NULL, *team_name = NULL;
	int64_t next_ms = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcasecmp(argv[i], "tz") == 0 && i + 1 < argc)
			tz = argv[++i];
		else if (strcasecmp(argv[i], "team") == 0 && i + 1 < argc)
			team_name = argv[++i];
		else {
			reply_textf(r, "Usage: `/oncall reminder HH:MM|off [tz ZONE] [team NAME]`.");
			return CMD_REFUSED;
		}
	}
	if (pick_team(ctx, team_name, team, sizeof(team), r) != 0)
		return team_name && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	rc = handoff_set_reminder(ctx->store, ctx->cfg, ctx->org_id, team, argv[0], tz, ctx->req->user_id,
				  platform_name(ctx->req->platform), why, sizeof(why));
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 1) {
		reply_textf(r, "I did not change the reminder: %s.", why);
		return CMD_REFUSED;
	}
	if (handoff_get_reminder(ctx->store, ctx->cfg, ctx->org_id, team, value, sizeof(value), zone_name,
				 sizeof(zone_name), &next_ms) < 0)
		return CMD_STORE_ERROR;
	if (strcmp(value, "off") == 0) {
		reply_textf(r, "The daily on-call reminder is off for this team.");
	} else {
		const struct tz *z = tz_get(zone_name);
		reply_textf(r, "Whoever is on call gets a reminder every day at %s %s.", value, zone_name);
		if (next_ms && z)
			reply_section(r, "Next: %s.", when_format(z, next_ms / 1000, when, sizeof(when)));
	}
	return CMD_OK;
}

/* ---- /oncall me: people edit their own profile ---- */

static enum cmd_result oncall_me(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct member m;
	struct reply_section *sec;
	int got;

	(void)argc;
	(void)argv;
	got = member_get(ctx->store, ctx->org_id, ctx->req->user_id, &m);
	if (got < 0)
		return CMD_STORE_ERROR;
	if (got > 0) {
		reply_textf(r, "You have no profile here yet.");
		return CMD_OK;
	}
	reply_textf(r, "Your profile, <@%s> (*%s*):", m.id, role_name(m.role));
	sec = reply_section(r, "Change a field with `/oncall me name|email|phone|tz|incidents VALUE`.");
	reply_field(sec, "Name", m.name[0] ? m.name : "(not set)");
	reply_field(sec, "Email", m.email[0] ? m.email : "(not set)");
	reply_field(sec, "Phone", m.phone[0] ? m.phone : "(not set)");
	reply_field(sec, "Time zone", m.tz[0] ? m.tz : "(not set)");
	reply_field(sec, "Incident notifications", m.notify ? "on" : "off");
	return CMD_OK;
}

static enum cmd_result set_field(struct cmd_ctx *ctx, enum member_field f, const char *label,
				 const char *value, struct reply *r)
{
	char shown[300];

	if (member_set_field(ctx->store, ctx->org_id, ctx->req->user_id, f, value) < 0)
		return CMD_STORE_ERROR;
	reply_textf(r, "Your %s is now %s.", label, reply_escape(shown, sizeof(shown), value));
	return CMD_OK;
}

static enum cmd_result refuse_value(const char *field, const char *why, struct reply *r)
{
	reply_textf(r, "I did not change your %s: %s.", field, why);
	return CMD_REFUSED;
}

static enum cmd_result oncall_me_name(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct buf name = BUF_INIT(512);
	char why[160];
	enum cmd_result res;

	for (int i = 0; i < argc; i++)
		buf_printf(&name, "%s%s", i ? " " : "", argv[i]);
	if (member_check_name(buf_cstr(&name), why, sizeof(why)) < 0)
		res = refuse_value("name", why, r);
	else
		res = set_field(ctx, FIELD_NAME, "name", buf_cstr(&name), r);
	buf_free(&name);
	return res;
}

static enum cmd_result oncall_me_email(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char why[160];

	(void)argc;
	if (member_check_email(argv[0], why, sizeof(why)) < 0)
		return refuse_value("email", why, r);
	return set_field(ctx, FIELD_EMAIL, "email", argv[0], r);
}

static enum cmd_result oncall_me_phone(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char why[200];

	(void)argc;
	struct member m;
	enum cmd_result res;

	if (member_check_phone(argv[0], why, sizeof(why)) < 0)
		return refuse_value("phone", why, r);
	if (member_get(ctx->store, ctx->org_id, ctx->req->user_id, &m) < 0)
		return CMD_STORE_ERROR;
	res = set_field(ctx, FIELD_PHONE, "phone", argv[0], r);
	/* SMS replies are matched to people by this index (two keys in two slots:
	 * two steps; a stale entry is ignored because the member's phone must match). */
	if (res == CMD_OK) {
		if (m.phone[0] && strcmp(m.phone, argv[0]) != 0)
			twilio_phone_index_del(ctx->store, ctx->org_id, ctx->req->user_id, m.phone);
		twilio_phone_index_set(ctx->store, ctx->org_id, ctx->req->user_id, argv[0]);
	}
	return res;
}

static enum cmd_result oncall_me_tz(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char zone[128];

	(void)argc;
	/* "europe/berlin" means Europe/Berlin: stored in the zone's own spelling. */
	if (!tz_get(argv[0]) && tz_canonical(argv[0], zone, sizeof(zone)) < 0)
		return refuse_value("time zone", "that is not an IANA time zone; write it like "
						 "Europe/Berlin or America/Chicago", r);
	return set_field(ctx, FIELD_TZ, "time zone", tz_get(argv[0]) ? argv[0] : zone, r);
}

static enum cmd_result oncall_me_incidents(struct cmd_ctx *ctx, int argc, char **argv,
					   struct reply *r)
{
	(void)argc;
	if (strcasecmp(argv[0], "on") != 0 && strcasecmp(argv[0], "off") != 0)
		return refuse_value("incident notifications", "say `on` or `off`", r);
	return set_field(ctx, FIELD_NOTIFY, "incident notifications setting",
			 strcasecmp(argv[0], "on") == 0 ? "on" : "off", r);
}

static const struct subcommand oncall_subcommands[] = {
	{ "now", "[team]", "shows who is on call now, the backups, and who is next", ROLE_VIEWER, 0, 1,
	  oncall_now, "", 0 },
	{ "list", "[team]", "shows the team's rotations in order", ROLE_VIEWER, 0, 1, oncall_list, "", 0 },
	{ "schedule", "[team] [days]", "shows who is on call when, up to 90 days ahead", ROLE_VIEWER,
	  0, 2, oncall_schedule, "7", 0 },
	{ "when", "[@user]", "shows someone's next shifts (yours by default)", ROLE_VIEWER, 0, 1,
	  oncall_when, "", 0 },
	{ "join", "[rotation]", "adds you to the end of the rotation", ROLE_DEVELOPER, 0, 1, oncall_join, "", 0 },
	{ "leave", "[rotation]", "takes you out of the rotation", ROLE_DEVELOPER, 0, 1, oncall_leave, "", 0 },
	{ "add", "@user [rotation]", "adds someone to the end of a rotation", ROLE_ADMIN, 1, 2, oncall_add,
	  "@user", 0 },
	{ "remove", "@user [rotation]", "takes someone out of a rotation", ROLE_ADMIN, 1, 2, oncall_remove,
	  "@user", 0 },
	{ "rotation list", "[team]", "lists rotations and their settings", ROLE_VIEWER, 0, 1,
	  rotation_list_cmd, "", 0 },
	{ "rotation create", "NAME [every 1w] [handoff mon 09:00] [tz ZONE] [hours mon-fri 08:00-18:00] [start YYYY-MM-DD] [priority N] [team NAME] [members @a @b]",
	  "makes a rotation", ROLE_ADMIN, 1, 16, rotation_create_cmd, "ops every 1d handoff 09:00", 0 },
	{ "rotation set", "NAME [every ...] [handoff ...] [tz ...] [hours ...]",
	  "changes a rotation from its next handoff on", ROLE_ADMIN, 3, 16, rotation_set_cmd,
	  "main every 2d", 0 },
	{ "rotation move", "NAME @user POSITION", "moves someone within a rotation", ROLE_ADMIN, 3, 3,
	  rotation_move_cmd, "main @user 1", 0 },
	{ "rotation pause", "NAME @user", "skips someone in a rotation, keeping their place", ROLE_ADMIN,
	  2, 2, rotation_pause_cmd, "main @user", 0 },
	{ "rotation resume", "NAME @user", "puts a paused person back in their place", ROLE_ADMIN, 2, 2,
	  rotation_resume_cmd, "main @user", 0 },
	{ "rotation delete", "NAME", "deletes a rotation", ROLE_ADMIN, 1, 1, rotation_delete_cmd, "nosuch", 0 },
	{ "override", "@user FROM TO [team NAME] [reason]", "puts someone on call for a while instead",
	  ROLE_ADMIN, 3, 20, oncall_override, "@user now +2h covering", 0 },
	{ "overrides", "[team]", "lists overrides now and ahead", ROLE_VIEWER, 0, 1, oncall_overrides, "", 0 },
	{ "override remove", "ID", "removes an override", ROLE_ADMIN, 1, 1, oncall_override_remove, "o0", 0 },
	{ "swap", "SHIFT with @peer [team NAME] [reason]", "asks a peer to trade one of your shifts for their next one",
	  ROLE_DEVELOPER, 3, 20, oncall_swap, "tomorrow with @user", 0 },
	{ "cover", "SHIFT by @peer [team NAME] [reason]", "asks a peer to take one of your shifts", ROLE_DEVELOPER,
	  3, 20, oncall_cover, "tomorrow by @user", 0 },
	{ "swaps", "", "lists swaps (yours; all for admins) with buttons to answer", ROLE_VIEWER, 0, 0,
	  oncall_swaps, "", 0 },
	{ "swap cancel", "ID", "withdraws your request (admins: any swap)", ROLE_DEVELOPER, 1, 1,
	  oncall_swap_cancel, "s0", 0 },
	{ "swap undo", "ID", "undoes an approved swap before its shift starts", ROLE_DEVELOPER, 1, 1,
	  oncall_swap_undo, "s0", 0 },
	{ "swap policy", "peer|admin", "whether swaps also need an admin's approval", ROLE_ADMIN, 1, 1,
	  oncall_swap_policy, "peer", 0 },
	{ "announce", "here|#channel|off [team NAME]", "announces each handoff in a Slack channel",
	  ROLE_ADMIN, 1, 3, oncall_announce, "off", 0 },
	{ "reminder", "HH:MM|off [tz ZONE] [team NAME]", "sets the daily reminder to whoever is on call",
	  ROLE_ADMIN, 1, 5, oncall_reminder, "08:30", 0 },
	{ "ical", "", "gives you private calendar feed URLs (your shifts, your teams)", ROLE_VIEWER, 0, 0,
	  feeds_cmd_ical, "", 0 },
	{ "ical reset", "", "replaces your calendar feed URLs; the old ones stop working", ROLE_VIEWER,
	  0, 0, feeds_cmd_ical_reset, "", 0 },
	{ "report", "[team] [FROM] [TO]", "hours on call per person, with a CSV link", ROLE_VIEWER, 0, 3,
	  feeds_cmd_report, "2026-01-01 2026-01-31", 0 },
	{ "me", "", "shows your profile: name, email, phone, time zone, notifications", ROLE_VIEWER,
	  0, 0, oncall_me, "", 0 },
	{ "me name", "NAME", "sets your display name", ROLE_DEVELOPER, 1, 8, oncall_me_name,
	  "Alice Example", 0 },
	{ "me email", "ADDRESS", "sets your email address", ROLE_DEVELOPER, 1, 1, oncall_me_email,
	  "alice@example.com", 0 },
	{ "me phone", "+E164", "sets your phone number for SMS, e.g. +15555550123", ROLE_DEVELOPER,
	  1, 1, oncall_me_phone, "+15555550123", 0 },
	{ "me tz", "ZONE", "sets your time zone, e.g. Europe/Berlin", ROLE_DEVELOPER, 1, 1,
	  oncall_me_tz, "Europe/Berlin", 0 },
	{ "me test", "", "sends a test page over each of your channels and says what happened", ROLE_DEVELOPER,
	  0, 0, oncall_me_test, "", 0 },
	{ "me notify", "[chat now, sms after 2m, email after 5m | default]",
	  "shows or sets how you are paged, step by step, until you acknowledge", ROLE_DEVELOPER, 0, 16,
	  oncall_me_notify, "chat now sms 2m", 0 },
	{ "notify default", "[chat now, sms after 2m, ... | builtin]",
	  "shows or sets how people without their own rules are paged", ROLE_ADMIN, 0, 16,
	  oncall_notify_default, "chat now email 5m", 0 },
	{ "page", "@user MESSAGE", "pages someone through their contact rules until they acknowledge",
	  ROLE_DEVELOPER, 2, 60, oncall_page, "@user the database is down", 0 },
	{ "notifications", "[N | ID]", "shows the last notifications and their delivery, or one's history",
	  ROLE_ADMIN, 0, 1,
	  oncall_notifications, "5", 0 },
	{ "me incidents", "on|off", "turns incident notifications to you on or off", ROLE_DEVELOPER,
	  1, 1, oncall_me_incidents, "off", 0 },
	{ 0 }
};

static const struct command_action oncall_actions[] = {
	{ "join", ROLE_DEVELOPER, action_join },
	{ "swap_accept", ROLE_DEVELOPER, action_swap_accept },
	{ "swap_decline", ROLE_DEVELOPER, action_swap_decline },
	{ "swap_approve", ROLE_ADMIN, action_swap_approve },
	{ "swap_reject", ROLE_ADMIN, action_swap_reject },
	{ "page_ack", ROLE_VIEWER, oncall_action_page_ack },
	{ 0 }
};

static const char *const oncall_aliases[] = { "who", NULL };

/* What to look at when Redis took a change but did not answer in time. */
static const struct command_check oncall_checks[] = {
	{ "join", "/oncall list" },
	{ "leave", "/oncall list" },
	{ "add", "/oncall list" },
	{ "remove", "/oncall list" },
	{ "rotation create", "/oncall rotation list" },
	{ "rotation set", "/oncall rotation list" },
	{ "rotation move", "/oncall rotation list" },
	{ "rotation pause", "/oncall rotation list" },
	{ "rotation resume", "/oncall rotation list" },
	{ "rotation delete", "/oncall rotation list" },
	{ "override", "/oncall overrides" },
	{ "override remove", "/oncall overrides" },
	{ "swap", "/oncall swaps" },
	{ "cover", "/oncall swaps" },
	{ "swap cancel", "/oncall swaps" },
	{ "swap undo", "/oncall swaps" },
	{ "swap_accept", "/oncall swaps" },
	{ "swap_decline", "/oncall swaps" },
	{ "swap_approve", "/oncall swaps" },
	{ "swap_reject", "/oncall swaps" },
	{ "ical reset", "/oncall ical" },
	{ "me name", "/oncall me" },
	{ "me email", "/oncall me" },
	{ "me phone", "/oncall me" },
	{ "me tz", "/oncall me" },
	{ "me incidents", "/oncall me" },
	{ "me notify", "/oncall me notify" },
	{ "notify default", "/oncall me notify" },
	{ 0 }
};

const struct command oncall_command = {
	.name = "oncall",
	.aliases = oncall_aliases,
	.summary = "who is on call, schedules, rotations and overrides",
	.subcommands = oncall_subcommands,
	.default_sub = &oncall_subcommands[0],
	.actions = oncall_actions,
	.checks = oncall_checks,
};
