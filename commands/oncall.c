/* oncall.c - `/oncall`: who is on call and the chain behind them, the team's
 * schedule and someone's next shifts, plus the tables of every `/oncall` row
 * (the handlers of the rest live in commands/oncall_*.c, see oncall.h).
 *
 * A team (default: "default") has rotations (bot/rotations.h); its final
 * schedule is computed from them with overrides on top (bot/schedule.h), never
 * stored. Times people type are read in their own zone (/oncall me tz) or, if
 * they set none, in the rotation's. */
#include "bot/cmdline.h"
#include "bot/feeds.h"
#include "bot/handoff.h"
#include "bot/member.h"
#include "bot/rotations.h"
#include "bot/swap.h"
#include "bot/team.h"
#include "bot/log.h"
#include "bot/util.h"
#include "bot/when.h"
#include "commands/oncall.h"

#include <string.h>

#define DAY 86400LL

/* ---- context: which team, which zone, who ---- */

/* Team argument (or the default team); on failure the reply says why. */
int oncall_pick_team(struct cmd_ctx *ctx, const char *name, char *id, size_t size, struct reply *r)
{
	int rc;

	if (!name) {
		wk_strlcpy(id, "default", size);
		return 0;
	}
	rc = team_resolve(ctx->store, ctx->org_id, name, id, size);
	if (rc == 1) {
		char shown[48], inv[80];
		reply_textf(r, "There is no team `%s`. `%s team list` shows them.",
			    reply_escape(shown, sizeof(shown), name),
			    dispatch_typed_name(ctx, "invite", inv, sizeof(inv)));
	}
	return rc;
}

/* The zone a person reads and types times in: their own, else the org's
 * (ctx->tz holds whichever is set), else the configured rotation zone; never
 * whichever rotation happened to load first. */
const struct tz *oncall_zone_for(struct cmd_ctx *ctx, const struct team_plan *p)
{
	(void)p;
	return when_zone(ctx->tz, ctx->cfg->rotation.zone);
}

int oncall_parse_user(struct cmd_ctx *ctx, const char *arg, char *id, size_t size, struct reply *r)
{
	char shown[80];
	int rc = cmdline_person(ctx->req->platform, arg, id, size);

	if (rc == 0 && org_member_id_valid(id))
		return 0;
	reply_escape(shown, sizeof(shown), arg);
	if (ctx->req->platform == PLATFORM_CONSOLE)
		reply_textf(r, "`%s` is not a user. Write a name like `@bob`.", shown);
	else
		reply_textf(r, "`%s` is not a user I can see. Mention them with @ and pick the name "
			       "from the list, so %s links it.", shown,
			    ctx->req->platform == PLATFORM_TEAMS ? "Teams" : "Slack");
	return -1;
}

enum cmd_result oncall_rot_result(int rc, const char *name, struct reply *r)
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
void oncall_default_version(const struct cmd_ctx *ctx, struct rotation_version *v)
{
	memset(v, 0, sizeof(*v));
	v->spec = ctx->cfg->rotation;
	wk_strlcpy(v->tz, ctx->cfg->rotation_timezone, sizeof(v->tz));
}

/* After any change to a team's schedule: move its next handoff timer. */
void oncall_schedule_changed(struct cmd_ctx *ctx, const char *team)
{
	if (handoff_reschedule(ctx->store, ctx->cfg, ctx->org_id, team, ctx->now_ms / 1000) < 0)
		log_warn("handoff.reschedule", "org=%s team=%s reason=store", ctx->org_id, team);
	swap_check_stale(ctx->store, ctx->cfg, ctx->org_id, team, ctx->now_ms / 1000);
}

/* ---- now, list, schedule, when ---- */

static bool oncall_in_rotation(const struct rotation_plan *r, const char *user)
{
	const struct rotation_version *v = r->nversions ? &r->versions[r->nversions - 1] : NULL;

	for (size_t i = 0; v && i < v->nmembers; i++)
		if (strcmp(v->members[i], user) == 0)
			return true;
	return false;
}

/* A Join button for rotation r, or (r NULL) for whichever the person picks
 * when they are in none of the team's; not for people already in it. */
static void oncall_offer_join(struct cmd_ctx *ctx, const struct team_plan *p, const struct rotation_plan *r,
			      struct reply *rep)
{
	char label[64];

	if (ctx->role < ROLE_DEVELOPER)
		return;
	for (size_t i = 0; p && i < p->nrotations; i++)
		if ((!r || &p->rotations[i] == r) && oncall_in_rotation(&p->rotations[i], ctx->req->user_id))
			return;
	if (r && p && p->nrotations > 1)
		snprintf(label, sizeof(label), "Join %s", r->name);
	else
		wk_strlcpy(label, "Join the rotation", sizeof(label));
	reply_button(rep, label, "oncall.join", r ? r->name : "", BUTTON_PRIMARY);
}

static enum cmd_result oncall_now(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], until[64], from[64];
	struct team_plan p;
	struct oncall_chain c;
	int64_t now = ctx->now_ms / 1000;
	const struct tz *z;

	/* Preloaded: dispatch resolved the team (CMD_TEAM_FIRST) or it is the default. */
	if (ctx->preload_team)
		wk_strlcpy(team, ctx->preload_team, sizeof(team));
	else if (oncall_pick_team(ctx, argc ? argv[0] : NULL, team, sizeof(team), r) != 0)
		return argc && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (dispatch_schedule_load(ctx, team, now - 400 * DAY, now + 400 * DAY, &p) < 0)
		return CMD_STORE_ERROR;
	z = oncall_zone_for(ctx, &p);
	if (schedule_chain(&p, now, &c) != 0) {
		reply_textf(r, "Nobody is on call right now. Use `/oncall join` to take shifts, or "
			       "`/oncall add @someone`.");
		oncall_offer_join(ctx, &p, p.nrotations == 1 ? &p.rotations[0] : NULL, r);
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
			oncall_offer_join(ctx, &p, &p.rotations[i], r);
	team_plan_free(&p);
	return CMD_OK;
}

void oncall_describe_version(const struct rotation_version *v, char *out, size_t size)
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

#define HIDDEN_HORIZON (28 * DAY)	/* four weeks show every weekly window */

int oncall_hidden_note(const struct team_plan *p, size_t i, int64_t now, char *out, size_t size)
{
	const struct rotation_plan *rot = &p->rotations[i];
	size_t by[4], nby = 0;
	int64_t from = now;
	struct buf b = BUF_INIT(1024);
	int best = 1001;

	out[0] = '\0';
	/* From when it starts: a rotation that begins next year is judged then. */
	if (rot->nversions && rot->versions[0].effective_from > from)
		from = rot->versions[0].effective_from;
	if (schedule_hidden(p, i, from, from + HIDDEN_HORIZON, by, ARRAY_LEN(by), &nby) != 1 || !nby)
		return 0;
	buf_printf(&b, "`%s` (priority %d) never comes up: ", rot->name, rot->priority);
	for (size_t k = 0; k < nby; k++) {
		const struct rotation_plan *h = &p->rotations[by[k]];
		buf_printf(&b, "%s`%s` (priority %d%s)", k ? (k + 1 == nby ? " and " : ", ") : "", h->name,
			   h->priority, h->priority == rot->priority ? ", the same, and made first" : "");
		if (h->priority < best)
			best = h->priority;
	}
	buf_printf(&b, " cover%s all its hours (the lower number wins), so it has no shifts. ", nby == 1 ? "s" : "");
	if (best > 1)
		buf_printf(&b, "To put it first: `/oncall rotation set %s priority %d`", rot->name, best - 1);
	else
		buf_printf(&b, "To put it first, give `%s` a larger number: `/oncall rotation set %s priority %d`",
			   p->rotations[by[0]].name, p->rotations[by[0]].name, rot->priority < 1000 ? rot->priority + 1 : 1000);
	buf_printf(&b, "; or limit `%s` to some hours (`hours mon-fri 08:00-18:00`).", p->rotations[by[0]].name);
	wk_strlcpy(out, buf_cstr(&b), size);
	buf_free(&b);
	return 1;
}

int oncall_hidden_notes(struct cmd_ctx *ctx, const char *team, struct reply *r)
{
	struct team_plan p;
	int64_t now = ctx->now_ms / 1000;
	char note[1024];
	int n = 0;

	if (schedule_load(ctx->store, ctx->org_id, team, now, now + 1, &p) < 0)
		return 0;
	qsort(p.rotations, p.nrotations, sizeof(*p.rotations), schedule_rotation_order);
	for (size_t i = 0; i < p.nrotations; i++)
		if (oncall_hidden_note(&p, i, now, note, sizeof(note))) {
			reply_section(r, "Note: %s", note);
			n++;
		}
	team_plan_free(&p);
	return n;
}

enum cmd_result oncall_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], desc[256], when[64], note[1024];
	struct team_plan p;
	struct oncall_chain c;
	int64_t now = ctx->now_ms / 1000;

	if (oncall_pick_team(ctx, argc ? argv[0] : NULL, team, sizeof(team), r) != 0)
		return argc && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (schedule_load(ctx->store, ctx->org_id, team, now, now + 1, &p) < 0)
		return CMD_STORE_ERROR;
	if (p.nrotations == 0) {
		reply_textf(r, "This team has no rotation yet. Use `/oncall join` to start one.");
		oncall_offer_join(ctx, NULL, NULL, r);
		team_plan_free(&p);
		return CMD_OK;
	}
	/* In the order the schedule ranks them; "on call now" is the person
	 * `/oncall` names (overrides included), marked in the rotation they came from. */
	qsort(p.rotations, p.nrotations, sizeof(*p.rotations), schedule_rotation_order);
	if (schedule_chain(&p, now, &c) != 0)
		memset(&c, 0, sizeof(c));
	if (p.nrotations == 1)
		reply_textf(r, "1 rotation:");
	else
		reply_textf(r, "%zu rotations, by priority (where their hours overlap, the lower number "
			       "is on call):", p.nrotations);
	for (size_t i = 0; i < p.nrotations; i++) {
		const struct rotation_plan *rot = &p.rotations[i];
		const struct rotation_version *v = &rot->versions[rot->nversions - 1];
		struct buf b = BUF_INIT(16384);
		bool from_here = c.primary[0] && strcmp(c.rotation, rot->id) == 0, marked = false;

		oncall_describe_version(v, desc, sizeof(desc));
		buf_printf(&b, "*%s* (priority %d; %s), %zu %s:\n", rot->name, rot->priority, desc, v->nmembers,
			   v->nmembers == 1 ? "person" : "people");
		for (size_t m = 0; m < v->nmembers; m++) {
			bool on = from_here && strcmp(v->members[m], c.primary) == 0;
			buf_printf(&b, "%zu. <@%s>%s\n", m + 1, v->members[m], on ? "  (on call now)" : "");
			marked = marked || on;
		}
		if (from_here && !marked) {
			/* Not in the order shown: left or moved out (their shift runs to
			 * the handoff), or on call by an override. */
			const struct rotation_version *cur;
			struct shift sh;
			long k;
			bool own = schedule_version_at(rot, now, &cur, &sh) == 0 &&
				   (k = schedule_version_member(cur, now)) >= 0 && strcmp(cur->members[k], c.primary) == 0;
			buf_printf(&b, own ? "On call now: <@%s>, until the next handoff\n"
					   : "On call now instead: <@%s> (override)\n", c.primary);
		}
		for (size_t m = 0; m < v->npaused; m++) {
			const char *colon = strchr(v->paused[m], ':');
			buf_printf(&b, "paused: <@%s>\n", colon ? colon + 1 : v->paused[m]);
		}
		if (v->effective_from > now)
			buf_printf(&b, "This order takes effect at the next handoff, %s.\n",
				   when_format(oncall_zone_for(ctx, NULL), v->effective_from, when, sizeof(when)));
		if (oncall_hidden_note(&p, i, now, note, sizeof(note)))
			buf_printf(&b, "Note: %s\n", note);
		reply_section(r, "%s", buf_cstr(&b));
		buf_free(&b);
	}
	oncall_offer_join(ctx, &p, p.nrotations == 1 ? &p.rotations[0] : NULL, r);
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
	if (oncall_pick_team(ctx, team_name, team, sizeof(team), r) != 0)
		return team_name && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (schedule_load(ctx->store, ctx->org_id, team, now, now + days * DAY, &p) < 0)
		return CMD_STORE_ERROR;
	z = oncall_zone_for(ctx, &p);
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
		       strcmp(s.seg[i + 1].member, g->member) == 0 &&
		       (p.nrotations < 2 || strcmp(s.seg[i + 1].rotation, g->rotation) == 0))
			end = s.seg[++i].end;
		/* With several rotations, say which one each stretch comes from. */
		const char *from_rot = "";
		for (size_t k = 0; p.nrotations > 1 && g->member[0] && k < p.nrotations; k++)
			if (strcmp(p.rotations[k].id, g->rotation) == 0)
				from_rot = p.rotations[k].name;
		buf_printf(&out, "`%s` → `%s`  %s%s%s%s%s%s\n", when_format(z, g->start, a, sizeof(a)),
			   when_format(z, end, b, sizeof(b)), g->member[0] ? "<@" : "nobody",
			   g->member, g->member[0] ? ">" : "",
			   g->source == SEGMENT_OVERRIDE ? "  (override)" : g->source == SEGMENT_SWAP ? "  (swap)" : "",
			   from_rot[0] ? "  " : "", from_rot);
	}
	if (!s.n)
		buf_adds(&out, "Nobody is scheduled.\n");
	reply_section(r, "%s", buf_cstr(&out));
	buf_free(&out);
	/* A rotation that never shows up here gets a reason, not silence. */
	if (p.nrotations > 1)
		oncall_hidden_notes(ctx, team, r);
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
			char inv[80];
			reply_textf(r, "<@%s> is not a member of this workspace's Watchkeeper; `%s` brings "
				       "people in.", who, dispatch_typed_name(ctx, "invite", inv, sizeof(inv)));
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
		const struct tz *z = oncall_zone_for(ctx, &p);
		if (schedule_build(&p, now, now + 90 * DAY, &s) == 0) {
			for (size_t i = 0; i < s.n && mine < WHEN_MAX; i++) {
				const struct segment *g = &s.seg[i];
				char id[48];
				int64_t end = g->end;
				if (strcmp(g->member, who) != 0)
					continue;
				int64_t began = g->shift_start;
				/* The id `swap`/`cover` take: a rotation shift's, or the
				 * override's (an override's hours, a shift gained by a swap),
				 * listed once even where rotation handoffs cut it up. A shift
				 * under way gets none: it can't be passed on any more. */
				if (g->source == SEGMENT_ROTATION) {
					snprintf(id, sizeof(id), "`%s.%lld`", g->rotation, (long long)g->shift_index);
				} else {
					snprintf(id, sizeof(id), "`%s`", g->override_id);
					for (size_t k = 0; k < p.noverrides; k++)
						if (strcmp(p.overrides[k].id, g->override_id) == 0)
							began = p.overrides[k].start;
					while (i + 1 < s.n && s.seg[i + 1].start == end && s.seg[i + 1].source == g->source &&
					       strcmp(s.seg[i + 1].override_id, g->override_id) == 0)
						end = s.seg[++i].end;
				}
				if (began <= now)
					wk_strlcpy(id, "(under way)", sizeof(id));
				lines[nlines].start = g->start;
				snprintf(lines[nlines].text, sizeof(lines[nlines].text), "%s → %s  %s%s%s%s\n",
					 when_format(z, g->start, a, sizeof(a)), when_format(z, end, b, sizeof(b)), id,
					 g->source == SEGMENT_SWAP ? " (swap)" : g->source == SEGMENT_OVERRIDE ? " (override)" : "",
					 strcmp(teams[t].id, "default") ? "  team " : "",
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

static const struct subcommand oncall_subcommands[] = {
	{ "now", "[team]", "shows who is on call now, the backups, and who is next", ROLE_VIEWER, 0, 1,
	  oncall_now, "", CMD_TEAM_FIRST | CMD_PRELOAD_TEAM },
	{ "list", "[team]", "shows the team's rotations by priority, and who is on call", ROLE_VIEWER, 0, 1,
	  oncall_list, "", 0 },
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
	  oncall_rotation_list, "", 0 },
	{ "rotation create", "NAME [every 1w] [handoff mon 09:00] [tz ZONE] [hours mon-fri 08:00-18:00] [start YYYY-MM-DD] [priority N] [team NAME] [members @a @b]",
	  "makes a rotation", ROLE_ADMIN, 1, 220, oncall_rotation_create, "ops every 1d handoff 09:00", 0 },
	{ "rotation set", "NAME [every ...] [handoff ...] [tz ...] [hours ...] [priority N]",
	  "changes a rotation from its next handoff on (priority: at once)", ROLE_ADMIN, 3, 16, oncall_rotation_set,
	  "main every 2d", 0 },
	{ "rotation move", "NAME @user POSITION", "moves someone within a rotation", ROLE_ADMIN, 3, 3,
	  oncall_rotation_move, "main @user 1", 0 },
	{ "rotation pause", "NAME @user", "skips someone in a rotation, keeping their place", ROLE_ADMIN,
	  2, 2, oncall_rotation_pause, "main @user", 0 },
	{ "rotation resume", "NAME @user", "puts a paused person back in their place", ROLE_ADMIN, 2, 2,
	  oncall_rotation_resume, "main @user", 0 },
	{ "rotation delete", "NAME", "deletes a rotation", ROLE_ADMIN, 1, 1, oncall_rotation_delete, "nosuch", 0 },
	{ "override", "@user FROM TO [team NAME] [reason]", "puts someone on call for a while instead",
	  ROLE_ADMIN, 3, 10, oncall_override, "@user now +2h covering", CMD_REST },
	{ "overrides", "[team]", "lists overrides now and ahead", ROLE_VIEWER, 0, 1, oncall_overrides, "", 0 },
	{ "override remove", "ID", "removes an override", ROLE_ADMIN, 1, 1, oncall_override_remove, "o0", 0 },
	{ "swap", "SHIFT with @peer [team NAME] [reason]", "asks a peer to trade one of your shifts for their next one",
	  ROLE_DEVELOPER, 3, 8, oncall_swap, "tomorrow with @user", CMD_REST },
	{ "cover", "SHIFT by @peer [team NAME] [reason]", "asks a peer to take one of your shifts", ROLE_DEVELOPER,
	  3, 8, oncall_cover, "tomorrow by @user", CMD_REST },
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
	{ "me phone", "NUMBER", "sets your phone number for SMS, e.g. +1 555 555 0123", ROLE_DEVELOPER,
	  1, 6, oncall_me_phone, "+1 (555) 555-0123", 0 },
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
	  ROLE_DEVELOPER, 2, 2, oncall_page, "@user the database is down", CMD_REST },
	{ "notifications", "[N | ID]", "shows the last notifications and their delivery, or one's history",
	  ROLE_ADMIN, 0, 1,
	  oncall_notifications, "5", 0 },
	{ "me incidents", "on|off", "turns incident notifications to you on or off", ROLE_VIEWER,
	  1, 1, oncall_me_incidents, "off", 0 },
	{ "org", "", "shows the workspace's settings: time zone, phone region", ROLE_VIEWER, 0, 0,
	  oncall_org, "", 0 },
	{ "org tz", "ZONE|default", "sets the time zone for people without their own", ROLE_ADMIN, 1, 1,
	  oncall_org_tz, "America/New_York", 0 },
	{ "org phone_region", "CODE|off", "sets the country of phone numbers typed without +, e.g. US",
	  ROLE_ADMIN, 1, 1, oncall_org_phone_region, "US", 0 },
	{ "org link", "[CODE]", "links a Microsoft Teams tenant to this workspace: a one-time code here, "
	  "then the code in Teams", ROLE_OWNER, 0, 1, oncall_org_link, "", 0 },
	{ 0 }
};

static const struct command_action oncall_actions[] = {
	{ "join", ROLE_DEVELOPER, oncall_action_join },
	{ "leave", ROLE_DEVELOPER, oncall_action_leave },
	{ "swap_accept", ROLE_DEVELOPER, oncall_action_swap_accept },
	{ "swap_decline", ROLE_DEVELOPER, oncall_action_swap_decline },
	{ "swap_approve", ROLE_ADMIN, oncall_action_swap_approve },
	{ "swap_reject", ROLE_ADMIN, oncall_action_swap_reject },
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
	{ "org tz", "/oncall org" },
	{ "org phone_region", "/oncall org" },
	{ "org link", "/oncall org" },
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

