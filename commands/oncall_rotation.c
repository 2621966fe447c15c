/* oncall_rotation.c - `/oncall join|leave|add|remove` and `/oncall rotation ...`:
 * who is in which rotation, in what order, and the rotation settings. */
#include "bot/member.h"
#include "bot/rotations.h"
#include "bot/team.h"
#include "bot/util.h"
#include "bot/when.h"
#include "commands/oncall.h"

#include <stdlib.h>
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

/* A rotation a bare join/leave/add/remove could mean. */
struct rot_ref {
	char team[SCHEDULE_ID_LEN];
	char team_name[40];	/* "" for the default team */
	char name[40];
	int priority;
	long position;		/* the person's 1-based place in the newest order, 0 = not in it */
};

/* Every rotation of the org, team by team in schedule order, with user's
 * place in each. -1 store failure. */
static int all_rotations(struct cmd_ctx *ctx, const char *user, struct rot_ref **out, size_t *n)
{
	struct team_info *teams = NULL;
	size_t nteams = 0;
	int64_t now = ctx->now_ms / 1000;

	*out = NULL;
	*n = 0;
	if (team_list(ctx->store, ctx->org_id, &teams, &nteams) < 0)
		return -1;
	for (size_t t = 0; t < nteams; t++) {
		struct team_plan p;
		if (schedule_load(ctx->store, ctx->org_id, teams[t].id, now, now + 1, &p) < 0) {
			free(teams);
			free(*out);
			*out = NULL;
			*n = 0;
			return -1;
		}
		qsort(p.rotations, p.nrotations, sizeof(*p.rotations), schedule_rotation_order);
		*out = xrealloc(*out, (*n + p.nrotations + 1) * sizeof(**out));
		for (size_t i = 0; i < p.nrotations; i++) {
			const struct rotation_plan *rp = &p.rotations[i];
			const struct rotation_version *v = rp->nversions ? &rp->versions[rp->nversions - 1] : NULL;
			struct rot_ref *x = &(*out)[(*n)++];
			memset(x, 0, sizeof(*x));
			wk_strlcpy(x->team, teams[t].id, sizeof(x->team));
			if (strcmp(teams[t].id, "default") != 0)
				wk_strlcpy(x->team_name, teams[t].name, sizeof(x->team_name));
			wk_strlcpy(x->name, rp->name, sizeof(x->name));
			x->priority = rp->priority;
			for (size_t m = 0; v && m < v->nmembers; m++)
				if (strcmp(v->members[m], user) == 0)
					x->position = (long)m + 1;
		}
		team_plan_free(&p);
	}
	free(teams);
	return 0;
}

/* "rotation `night`", with its team when that is not the default one. */
static const char *rot_label(const char *name, const char *team_name, char *out, size_t size)
{
	/* Both names are checked to be [A-Za-z0-9._-] when made: safe in `code`. */
	if (team_name && team_name[0])
		snprintf(out, size, "rotation `%s` (team `%s`)", name, team_name);
	else
		snprintf(out, size, "rotation `%s`", name);
	return out;
}

/* Find the rotation a command names, in any team. */
static int target_rotation(struct cmd_ctx *ctx, const char *name, char *team, size_t tsize, char *rname,
			   size_t nsize)
{
	struct team_info *teams = NULL;
	struct rotation_plan rp;
	size_t n = 0;
	int rc = ROT_NOT_FOUND;

	if (team_list(ctx->store, ctx->org_id, &teams, &n) < 0)
		return ROT_STORE;
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

/* A team's name for a reply ("" for the default team). */
static void team_label(struct cmd_ctx *ctx, const char *team, char *out, size_t size)
{
	struct team_info *teams = NULL;
	size_t n = 0;

	out[0] = '\0';
	if (strcmp(team, "default") == 0 || team_list(ctx->store, ctx->org_id, &teams, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (strcmp(teams[i].id, team) == 0)
			wk_strlcpy(out, teams[i].name, size);
	free(teams);
}

#define ASK_MAX 15	/* rotations a question lists */

/* A bare command with several rotations to choose from: say which exist and
 * how to name one; the person's own join and leave get a button per rotation. */
static enum cmd_result ask_which(struct cmd_ctx *ctx, const char *user, const struct rot_ref *refs, size_t n,
				 bool add, struct reply *r)
{
	bool self = strcmp(user, ctx->req->user_id) == 0;
	const char *verb = add ? (self ? "join" : "add") : (self ? "leave" : "remove");
	char label[128], who[80];
	struct buf b = BUF_INIT(8192);
	size_t shown = 0, in = 0;

	if (self)
		wk_strlcpy(who, "", sizeof(who));
	else
		snprintf(who, sizeof(who), "<@%s> ", user);
	for (size_t i = 0; i < n; i++)
		in += refs[i].position != 0;
	if (add && in == n)
		reply_textf(r, self ? "You are already in all %zu rotations; nothing was changed."
				    : "<@%2$s> is already in all %1$zu rotations; nothing was changed.", n, user);
	else if (add)
		reply_textf(r, "There are %zu rotations; which one? Nothing was changed.", n);
	else
		reply_textf(r, self ? "You are in %zu rotations; which one do you want to leave? Nothing was changed."
				    : "<@%2$s> is in %1$zu rotations; which one? Nothing was changed.", n, user);
	for (size_t i = 0; i < n && i < ASK_MAX; i++) {
		buf_printf(&b, "• %s, priority %d", rot_label(refs[i].name, refs[i].team_name, label, sizeof(label)),
			   refs[i].priority);
		if (add && refs[i].position)
			buf_printf(&b, self ? " (you are number %ld)" : " (already number %ld)", refs[i].position);
		buf_adds(&b, "\n");
	}
	if (n > ASK_MAX)
		buf_printf(&b, "… and %zu more: `/oncall rotation list TEAM` shows a team's.\n", n - ASK_MAX);
	/* The mention stays outside `code`: Slack shows it as a name there. */
	buf_printf(&b, "Name it: /oncall %s %sROTATION, e.g. /oncall %s %s%s", verb, who, verb, who, refs[0].name);
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
	for (size_t i = 0; self && i < n && shown < REPLY_MAX_BUTTONS; i++) {
		char text[64];
		if (add && refs[i].position)
			continue;
		snprintf(text, sizeof(text), "%s %s", add ? "Join" : "Leave", refs[i].name);
		reply_button(r, text, add ? "oncall.join" : "oncall.leave", refs[i].name, BUTTON_DEFAULT);
		shown++;
	}
	return CMD_OK;
}

/* The rotation a bare command means: the only one there is (join/add make
 * `main` in the default team when there is none), or for leave/remove the
 * only one the person is in. 1 when the reply already says what to do. */
static int bare_rotation(struct cmd_ctx *ctx, const char *user, int add, char *team, size_t tsize,
			 char *rname, size_t nsize, enum cmd_result *res, struct reply *r)
{
	struct rot_ref *refs = NULL, *in = NULL;
	size_t n = 0, nin = 0;
	bool self = strcmp(user, ctx->req->user_id) == 0;

	*res = CMD_OK;
	if (all_rotations(ctx, user, &refs, &n) < 0) {
		*res = CMD_STORE_ERROR;
		return 1;
	}
	in = xcalloc(n + 1, sizeof(*in));
	for (size_t i = 0; i < n; i++)
		if (add || refs[i].position)
			in[nin++] = refs[i];
	free(refs);
	if (nin == 1) {
		wk_strlcpy(team, in[0].team, tsize);
		wk_strlcpy(rname, in[0].name, nsize);
		free(in);
		return 0;
	}
	if (nin > 1) {
		*res = ask_which(ctx, user, in, nin, add, r);
		free(in);
		return 1;
	}
	free(in);
	if (!add) {
		reply_textf(r, self ? "You are not in any rotation." : "<@%s> is not in any rotation.", user);
		return 1;
	}
	/* No rotation at all: the first join starts one from the configuration. */
	struct rotation_version v;
	char id[SCHEDULE_ID_LEN];
	int rc;
	oncall_default_version(ctx, &v);
	rc = rotations_create(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			      "default", "main", &v, 10, ctx->now_ms / 1000, id, sizeof(id));
	if (rc != ROT_OK && rc != ROT_EXISTS) {
		*res = oncall_rot_result(rc, NULL, r);
		return 1;
	}
	wk_strlcpy(team, "default", tsize);
	wk_strlcpy(rname, "main", nsize);
	return 0;
}

static enum cmd_result change_membership(struct cmd_ctx *ctx, const char *user, const char *rotation,
					 int add, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], rname[40], detail[96], when[64], tname[40], label[128];
	struct member_edit e = { user, add, 0, 0, NULL, 0 };
	struct member m;
	enum cmd_result res;
	bool self = strcmp(user, ctx->req->user_id) == 0;
	int rc;

	if (add) {
		int got = member_get(ctx->store, ctx->org_id, user, &m);
		if (got < 0)
			return CMD_STORE_ERROR;
		if (got > 0 || m.placeholder) {
			char inv[80];
			dispatch_typed_name(ctx, "invite", inv, sizeof(inv));
			reply_textf(r, "<@%s> is not a member of this workspace's Watchkeeper yet. Invite "
				       "them first: `%s link` or `%s email`.", user, inv, inv);
			return CMD_REFUSED;
		}
	}
	if (rotation) {
		rc = target_rotation(ctx, rotation, team, sizeof(team), rname, sizeof(rname));
		if (rc != ROT_OK)
			return oncall_rot_result(rc, rotation, r);
	} else if (bare_rotation(ctx, user, add, team, sizeof(team), rname, sizeof(rname), &res, r)) {
		return res;
	}
	team_label(ctx, team, tname, sizeof(tname));
	rot_label(rname, tname, label, sizeof(label));
	snprintf(detail, sizeof(detail), "member:%s", user);
	rc = rotations_edit(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			    team, rname, ctx->now_ms / 1000, edit_members, &e,
			    add ? "rotation.add" : "rotation.remove", detail);
	if (rc == ROT_ALREADY) {
		if (add)
			reply_textf(r, self ? "You are already in %s, at position %ld."
					    : "<@%3$s> is already in %1$s, at position %2$ld.",
				    label, e.result_position, user);
		else
			reply_textf(r, self ? "You are not in %s." : "<@%2$s> is not in %1$s.", label, user);
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
		reply_textf(r, "You joined %s at position %ld.", label, e.result_position);
	else if (add)
		reply_textf(r, "Added <@%s> to %s at position %ld.", user, label, e.result_position);
	else if (self)
		reply_textf(r, "You left %s.", label);
	else
		reply_textf(r, "Removed <@%s> from %s.", user, label);
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

enum cmd_result oncall_action_leave(struct cmd_ctx *ctx, const char *value, struct reply *r)
{
	r->replace_original = true;
	return change_membership(ctx, ctx->req->user_id, value && value[0] ? value : NULL, 0, r);
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
 * "hours mon-fri 08:00-18:00" / "hours always", "priority N", and for
 * creation (team != NULL) "start DATE", "team NAME", "members @a @b" from argv. */
static int parse_options(struct cmd_ctx *ctx, int argc, char **argv, struct spec_edit *e, int *priority,
			 const char **team, struct reply *r)
{
	bool create = team != NULL;

	char why[200];

	for (int i = 0; i < argc; i++) {
		const char *k = argv[i];
		if (create && strcasecmp(k, "members") == 0) {
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
		} else if (create && strcasecmp(k, "start") == 0 && i + 1 < argc) {
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
		} else if (strcasecmp(k, "priority") == 0 && i + 1 < argc) {
			int64_t v;
			if (!wk_parse_i64(argv[++i], 1, 1000, &v)) {
				snprintf(why, sizeof(why), "priority is a number from 1 (first) to 1000");
				goto bad;
			}
			*priority = (int)v;
		} else if (team && strcasecmp(k, "team") == 0 && i + 1 < argc) {
			*team = argv[++i];
		} else {
			/* the last two only when creating */
			static const char *const keys[] = { "every", "handoff", "tz", "hours", "priority", "start", "team" };
			char shown[40];
			bool known = false;
			for (size_t x = 0; x < ARRAY_LEN(keys) - (create ? 0 : 2); x++)
				known = known || strcasecmp(k, keys[x]) == 0;
			reply_escape(shown, sizeof(shown), k);
			/* A known option at the end of the line only lacks its value. */
			snprintf(why, sizeof(why), known && i + 1 == argc ? "`%s` needs a value after it"
									  : "I don't understand `%s` here", shown);
			goto bad;
		}
	}
	return 0;
bad:
	reply_textf(r, "I did not change the rotation: %s.", why);
	reply_section(r, "Options: `every 1w|24h|2d`, `handoff mon 09:00`, `tz Europe/Berlin`, "
			 "`hours mon-fri 08:00-18:00` or `hours always`, `priority N` (1 comes first)%s.",
		      create ? ", `start 2026-12-01`, `team NAME`, `members @a @b`" : "");
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
		oncall_hidden_notes(ctx, team, r);
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
	char team[SCHEDULE_ID_LEN], rname[40], when[64], detail[48];
	int rc, priority = 0;

	rc = target_rotation(ctx, argv[0], team, sizeof(team), rname, sizeof(rname));
	if (rc != ROT_OK)
		return oncall_rot_result(rc, argv[0], r);
	oncall_default_version(ctx, &e.v);
	if (parse_options(ctx, argc - 1, argv + 1, &e, &priority, NULL, r) < 0) {
		free(e.v.windows);
		return CMD_REFUSED;
	}
	if (priority)
		snprintf(detail, sizeof(detail), "%spriority %d", e.set ? "settings, " : "", priority);
	else
		wk_strlcpy(detail, "settings", sizeof(detail));
	/* Priority takes effect now (a lead re-ranking rotations means the schedule
	 * from this moment); the rest from the next handoff, like every edit. */
	rc = rotations_edit_priority(ctx->store, ctx->org_id, ctx->req->user_id,
				     platform_name(ctx->req->platform), team, rname, ctx->now_ms / 1000, priority,
				     e.set ? apply_spec : NULL, &e, "rotation.set", detail);
	free(e.v.windows);
	if (rc == ROT_ALREADY) {
		reply_textf(r, "Rotation `%s` already has priority %d; nothing changed.", rname, priority);
		return CMD_OK;
	}
	if (rc != ROT_OK)
		return oncall_rot_result(rc, argv[0], r);
	oncall_schedule_changed(ctx, team);
	struct rotation_plan rp;
	if (rotations_find(ctx->store, ctx->org_id, team, rname, &rp) == ROT_OK) {
		char desc[256];
		const struct rotation_version *v = &rp.versions[rp.nversions - 1];
		if (priority) {
			struct team_plan p;
			struct oncall_chain c;
			int64_t now = ctx->now_ms / 1000;
			reply_textf(r, "Rotation `%s` has priority %d from now on (the lower number is on call "
				       "where rotations overlap); shifts before now keep the old one.", rname, priority);
			if (schedule_load(ctx->store, ctx->org_id, team, now, now + 1, &p) == 0) {
				if (schedule_chain(&p, now, &c) == 0)
					reply_textf(r, " On call now: <@%s>.", c.primary);
				else
					reply_textf(r, " Nobody is on call now.");
				team_plan_free(&p);
			}
		}
		if (e.set) {
			oncall_describe_version(v, desc, sizeof(desc));
			reply_textf(r, "%sRotation `%s` is now %s, from %s on; shifts before that stay as they were.",
				    priority ? " " : "", rname, desc, when_format(oncall_zone_for(ctx, NULL), v->effective_from, when, sizeof(when)));
		}
		rotation_plan_free(&rp);
	}
	oncall_hidden_notes(ctx, team, r);
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
	rc = target_rotation(ctx, argv[0], team, sizeof(team), rname, sizeof(rname));
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
	rc = target_rotation(ctx, argv[0], team, sizeof(team), rname, sizeof(rname));
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
	/* The command to undo it, for this person: the mention stays outside
	 * `code`, where Slack shows it as their name. */
	if (pause)
		reply_textf(r, "<@%s> is paused in rotation `%s` from the next handoff: skipped until "
			       "/oncall rotation resume %s <@%s>", id, rname, rname, id);
	else
		reply_textf(r, "<@%s> is back in rotation `%s`, in their old place, from the next handoff.",
			    id, rname);
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
	rc = target_rotation(ctx, argv[0], team, sizeof(team), rname, sizeof(rname));
	if (rc == ROT_OK)
		rc = rotations_delete(ctx->store, ctx->org_id, ctx->req->user_id,
				      platform_name(ctx->req->platform), team, rname, ctx->now_ms / 1000);
	if (rc == ROT_OK) {
		oncall_schedule_changed(ctx, team);
		reply_textf(r, "Deleted rotation `%s`.", rname);
	}
	return oncall_rot_result(rc, argv[0], r);
}
