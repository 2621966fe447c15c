/* oncall_rotation.c - `/oncall join|leave|add|remove` and `/oncall rotation ...`:
 * who is in which rotation, in what order, and the rotation settings. */
#include "bot/member.h"
#include "bot/rotations.h"
#include "bot/team.h"
#include "bot/util.h"
#include "bot/when.h"
#include "commands/oncall.h"

#include <string.h>

/* ---- joining, leaving, adding, removing ---- */

struct member_edit {
	const char *member;
	int add;	/* 1 add, 0 remove */
	long position;	/* 1-based for moves; 0 = append */
	long result_position;
	char *detail;	/* moves: the audit detail, written with the position it really got */
	size_t detail_size;
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
	if (e->detail)
		snprintf(e->detail, e->detail_size, "member:%s to %ld", e->member, e->result_position);
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
	oncall_default_version(ctx, &v);
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
	struct member_edit e = { user, add, 0, 0, NULL, 0 };
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
		return oncall_rot_result(rc, rotation, r);
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
		return oncall_rot_result(rc, rotation, r);
	oncall_schedule_changed(ctx, team);
	struct rotation_plan rp;
	int64_t eff = ctx->now_ms / 1000;
	if (rotations_find(ctx->store, ctx->org_id, team, rname, &rp) == ROT_OK) {
		eff = rp.versions[rp.nversions - 1].effective_from;
		when_format(oncall_zone_for(ctx, NULL), eff, when, sizeof(when));
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

enum cmd_result oncall_join(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return change_membership(ctx, ctx->req->user_id, argc ? argv[0] : NULL, 1, r);
}

enum cmd_result oncall_leave(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return change_membership(ctx, ctx->req->user_id, argc ? argv[0] : NULL, 0, r);
}

enum cmd_result oncall_add(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char id[64];

	if (oncall_parse_user(ctx, argv[0], id, sizeof(id), r) < 0)
		return CMD_REFUSED;
	return change_membership(ctx, id, argc > 1 ? argv[1] : NULL, 1, r);
}

enum cmd_result oncall_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char id[64];

	if (oncall_parse_user(ctx, argv[0], id, sizeof(id), r) < 0)
		return CMD_REFUSED;
	return change_membership(ctx, id, argc > 1 ? argv[1] : NULL, 0, r);
}

enum cmd_result oncall_action_join(struct cmd_ctx *ctx, const char *value, struct reply *r)
{
	r->replace_original = true;
	return change_membership(ctx, ctx->req->user_id, value && value[0] ? value : NULL, 1, r);
}

/* ---- /oncall rotation ... ---- */

enum cmd_result oncall_rotation_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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
			int wd, used = when_parse_handoff(argc - i - 1, argv + i + 1, true, &wd, &e->v.spec.handoff_hour,
							  &e->v.spec.handoff_minute, why, sizeof(why));
			if (used < 0)
				goto bad;
			if (wd >= 0) {
				/* a weekly handoff day: anchor on a date with that weekday (2026-01-04 is a Sunday) */
				e->v.spec.start_year = 2026;
				e->v.spec.start_month = 1;
				e->v.spec.start_day = 4 + wd;
			}
			i += used;
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

enum cmd_result oncall_rotation_create(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct spec_edit e = { 0 };
	char team[SCHEDULE_ID_LEN], id[SCHEDULE_ID_LEN], desc[256];
	const char *team_name = NULL;
	int priority = 10, rc;

	oncall_default_version(ctx, &e.v);
	if (!team_name_valid(argv[0])) {
		reply_textf(r, "A rotation name is 1 to 32 letters, digits, '.', '_' or '-'.");
		return CMD_REFUSED;
	}
	if (parse_options(ctx, argc - 1, argv + 1, &e, &priority, &team_name, r) < 0) {
		rotation_version_free(&e.v);
		return CMD_REFUSED;
	}
	if (oncall_pick_team(ctx, team_name, team, sizeof(team), r) != 0) {
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
		oncall_schedule_changed(ctx, team);
		oncall_describe_version(&e.v, desc, sizeof(desc));
		char when[64];
		reply_textf(r, "Created rotation `%s` (%s, priority %d) with %zu %s. Add people with "
			       "`/oncall add @user %s`.", argv[0], desc, priority, e.v.nmembers,
			    e.v.nmembers == 1 ? "person" : "people", argv[0]);
		if (e.v.effective_from > ctx->now_ms / 1000)
			reply_section(r, "It starts %s.", when_format(oncall_zone_for(ctx, NULL), e.v.effective_from,
								       when, sizeof(when)));
	}
	rotation_version_free(&e.v);
	return oncall_rot_result(rc, argv[0], r);
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

enum cmd_result oncall_rotation_set(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct spec_edit e = { 0 };
	char team[SCHEDULE_ID_LEN], rname[40], when[64];
	int rc;

	rc = target_rotation(ctx, argv[0], false, team, sizeof(team), rname, sizeof(rname));
	if (rc != ROT_OK)
		return oncall_rot_result(rc, argv[0], r);
	oncall_default_version(ctx, &e.v);
	if (parse_options(ctx, argc - 1, argv + 1, &e, NULL, NULL, r) < 0) {
		free(e.v.windows);
		return CMD_REFUSED;
	}
	rc = rotations_edit(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			    team, rname, ctx->now_ms / 1000, apply_spec, &e, "rotation.set", "settings");
	free(e.v.windows);
	if (rc != ROT_OK)
		return oncall_rot_result(rc, argv[0], r);
	oncall_schedule_changed(ctx, team);
	struct rotation_plan rp;
	if (rotations_find(ctx->store, ctx->org_id, team, rname, &rp) == ROT_OK) {
		char desc[256];
		const struct rotation_version *v = &rp.versions[rp.nversions - 1];
		oncall_describe_version(v, desc, sizeof(desc));
		reply_textf(r, "Rotation `%s` is now %s, from %s on; shifts before that stay as they were.",
			    rname, desc, when_format(oncall_zone_for(ctx, NULL), v->effective_from, when, sizeof(when)));
		rotation_plan_free(&rp);
	}
	return CMD_OK;
}

enum cmd_result oncall_rotation_move(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], rname[40], id[64], detail[96];
	struct member_edit e = { id, 2, 0, 0, detail, sizeof(detail) };
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
		return oncall_rot_result(rc, argv[0], r);
	detail[0] = '\0';	/* edit_members writes it: "to 9" in a list of 4 is position 4 */
	rc = rotations_edit(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			    team, rname, ctx->now_ms / 1000, edit_members, &e, "rotation.move", detail);
	if (rc == ROT_ALREADY) {
		reply_textf(r, "<@%s> is not in rotation `%s`.", id, rname);
		return CMD_REFUSED;
	}
	if (rc != ROT_OK)
		return oncall_rot_result(rc, argv[0], r);
	oncall_schedule_changed(ctx, team);
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
		return oncall_rot_result(rc, argv[0], r);
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
		return oncall_rot_result(rc, argv[0], r);
	oncall_schedule_changed(ctx, team);
	reply_textf(r, pause ? "<@%s> is paused in rotation `%s` from the next handoff: skipped until "
			       "`/oncall rotation resume %s @user`."
			     : "<@%s> is back in rotation `%s`, in their old place, from the next handoff.",
		    id, rname, rname);
	return CMD_OK;
}

enum cmd_result oncall_rotation_pause(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return pause_cmd(ctx, argv, true, r);
}

enum cmd_result oncall_rotation_resume(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return pause_cmd(ctx, argv, false, r);
}

enum cmd_result oncall_rotation_delete(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], rname[40];
	int rc;

	(void)argc;
	rc = target_rotation(ctx, argv[0], false, team, sizeof(team), rname, sizeof(rname));
	if (rc == ROT_OK)
		rc = rotations_delete(ctx->store, ctx->org_id, ctx->req->user_id,
				      platform_name(ctx->req->platform), team, rname, ctx->now_ms / 1000);
	if (rc == ROT_OK) {
		oncall_schedule_changed(ctx, team);
		reply_textf(r, "Deleted rotation `%s`.", rname);
	}
	return oncall_rot_result(rc, argv[0], r);
}
