/* oncall_swap.c - `/oncall override ...` and `/oncall swap|cover|swaps ...`:
 * one-off changes to who is on call, and shifts traded between peers. */
#include "bot/org.h"
#include "bot/overrides.h"
#include "bot/swap.h"
#include "bot/team.h"
#include "bot/util.h"
#include "bot/when.h"
#include "commands/oncall.h"

#include <string.h>

#define DAY 86400LL

/* ---- overrides ---- */

enum cmd_result oncall_override(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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
	z = oncall_zone_for(ctx, &p);
	team_plan_free(&p);
	if ((used = when_parse_flags(z, now, now, argc - at, argv + at, WHEN_NEED_TIME, &start, why,
				     sizeof(why))) < 0)
		goto bad;
	at += used;
	if ((used = when_parse_flags(z, now, start, argc - at, argv + at, WHEN_NEED_TIME, &end, why,
				     sizeof(why))) < 0)
		goto bad;
	at += used;
	if (at + 1 < argc && strcasecmp(argv[at], "team") == 0) {
		int t = oncall_pick_team(ctx, argv[at + 1], team, sizeof(team), r);
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
	if (strlen(dispatch_rest(ctx, at)) >= sizeof(o.reason)) {
		snprintf(why, sizeof(why), "the reason is longer than %zu bytes", sizeof(o.reason) - 1);
		goto bad;
	}
	wk_strlcpy(o.reason, dispatch_rest(ctx, at), sizeof(o.reason));	/* as typed */
	rc = overrides_create(ctx->store, ctx->org_id, ctx->req->user_id, platform_name(ctx->req->platform),
			      team, &o, now, id, sizeof(id));
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 1) {
		reply_textf(r, "<@%s> is not a member of this workspace's Watchkeeper.", who);
		return CMD_REFUSED;
	}
	oncall_schedule_changed(ctx, team);
	reply_textf(r, "Override `%s`: <@%s> is on call from %s to %s.", id, who,
		    when_format(z, start, a, sizeof(a)), when_format(z, end, b, sizeof(b)));
	return CMD_OK;
bad:
	reply_textf(r, "I did not add the override: %s.", why);
	reply_section(r, "Usage: `/oncall override @user FROM TO [team NAME] [reason]`, e.g. "
			 "`/oncall override @bob 2026-12-24 08:00 +48h covering for Alice`.");
	return CMD_REFUSED;
}

enum cmd_result oncall_overrides(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char team[SCHEDULE_ID_LEN], a[64], b[64], reason[160];
	struct team_plan p;
	struct buf out = BUF_INIT(32 * 1024);
	int64_t now = ctx->now_ms / 1000;

	if (oncall_pick_team(ctx, argc ? argv[0] : NULL, team, sizeof(team), r) != 0)
		return argc && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (schedule_load(ctx->store, ctx->org_id, team, now, now + 400 * DAY, &p) < 0)
		return CMD_STORE_ERROR;
	const struct tz *z = oncall_zone_for(ctx, &p);
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

enum cmd_result oncall_override_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	struct team_info *teams = NULL;
	char shown[40], id[32], swap_id[SCHEDULE_ID_LEN] = "";
	size_t n = 0;
	int rc = 1;

	(void)argc;
	/* Ids are shown as `o19`; people type 19 too. */
	snprintf(id, sizeof(id), "%s%s", argv[0][0] >= '0' && argv[0][0] <= '9' ? "o" : "", argv[0]);
	if (team_list(ctx->store, ctx->org_id, &teams, &n) < 0)
		return CMD_STORE_ERROR;
	for (size_t i = 0; i < n && rc == 1; i++) {
		rc = overrides_remove(ctx->store, ctx->org_id, ctx->req->user_id,
				      platform_name(ctx->req->platform), teams[i].id, id, ctx->now_ms / 1000,
				      swap_id, sizeof(swap_id));
		if (rc == 0)
			oncall_schedule_changed(ctx, teams[i].id);
	}
	free(teams);
	reply_escape(shown, sizeof(shown), id);
	if (rc < 0)
		return CMD_STORE_ERROR;
	if (rc == 1) {
		reply_textf(r, "There is no override `%s`. `/oncall overrides` lists them.", shown);
		return CMD_REFUSED;
	}
	if (rc == 2) {
		/* Refused rather than undoing the swap here: a trade has two overrides
		 * and two people, and taking it back is a decision about both. */
		struct swap sw = { 0 };
		char a[64], b[64];
		const struct tz *z = oncall_zone_for(ctx, NULL);
		if (swap_get(ctx->store, ctx->org_id, swap_id, &sw) < 0)
			return CMD_STORE_ERROR;
		reply_textf(r, "Override `%s` is part of swap `%s` (%s: <@%s> → <@%s>, shift %s–%s); removing "
			       "it alone would leave the swap half applied. Nothing was removed.", shown, swap_id,
			    sw.kind == SWAP_TRADE ? "trade" : "cover", sw.requester, sw.peer,
			    when_format(z, sw.give.start, a, sizeof(a)), when_format(z, sw.give.end, b, sizeof(b)));
		reply_section(r, "Take back the whole swap with `/oncall swap undo %s` (before its shift starts) "
				 "or `/oncall swap cancel %s` (admins, any time); both people are told.",
			      swap_id, swap_id);
		return CMD_REFUSED;
	}
	reply_textf(r, "Removed override `%s`.", shown);
	return CMD_OK;
}

/* ---- swaps ---- */

/* The shift someone means: an id from /oncall when (a rotation shift's
 * "r1.2934", or an override's "o12": an override's hours or a shift gained by a
 * swap) or a time inside it. It must be `member`'s own (on call there in the
 * final schedule) and not started. An override's shift is the whole override;
 * the swap's override then replaces member on top of it, so it stops applying
 * if that override goes (schedule.h). */
static int find_shift(struct cmd_ctx *ctx, const struct team_plan *p, const struct tz *z, int argc,
		      char **argv, const char *member, struct swap_shift *out, int *used, struct reply *r)
{
	int64_t now = ctx->now_ms / 1000, t = 0, idx = -1;
	char rot[SCHEDULE_ID_LEN] = "", ov[SCHEDULE_ID_LEN] = "", why[300];
	struct schedule s;
	const char *dot = strchr(argv[0], '.');
	bool found = false;

	if (argv[0][0] == 'r' && dot && (size_t)(dot - argv[0]) < sizeof(rot) &&
	    wk_parse_i64(dot + 1, INT64_MIN / 2, INT64_MAX / 2, &idx)) {
		memcpy(rot, argv[0], (size_t)(dot - argv[0]));
		rot[dot - argv[0]] = '\0';
		*used = 1;
	} else if (argv[0][0] == 'o' && strlen(argv[0]) < sizeof(ov) && argv[0][1] &&
		   strspn(argv[0] + 1, "0123456789") == strlen(argv[0] + 1)) {
		wk_strlcpy(ov, argv[0], sizeof(ov));
		*used = 1;
	} else {
		*used = when_parse(z, now, now, argc, argv, &t, why, sizeof(why));
		if (*used < 0) {
			reply_textf(r, "Which shift? Give its id from `/oncall when` (like `r1.2934` or `o12`) or a "
				       "time inside it: %s.", why);
			return -1;
		}
	}
	if (schedule_build(p, now, now + 90 * DAY, &s) < 0)
		return -2;
	for (size_t i = 0; i < s.n && !found; i++) {
		const struct segment *g = &s.seg[i];
		bool by_time = !rot[0] && !ov[0];
		bool hit = rot[0] ? g->source == SEGMENT_ROTATION && strcmp(g->rotation, rot) == 0 && g->shift_index == idx
			 : ov[0] ? g->source != SEGMENT_ROTATION && strcmp(g->override_id, ov) == 0
				 : g->start <= t && t < g->end;
		/* By id, other pieces of the shift (cut by an override) are skipped. */
		if (!hit || strcmp(g->member, member) != 0) {
			if (hit && by_time)
				break;
			continue;
		}
		if (g->source == SEGMENT_ROTATION) {
			wk_strlcpy(out->rotation, g->rotation, sizeof(out->rotation));
			out->index = g->shift_index;
			out->start = g->shift_start;
			out->end = g->shift_end;
			found = true;
		}
		for (size_t k = 0; k < p->noverrides && g->source != SEGMENT_ROTATION; k++)
			if (strcmp(p->overrides[k].id, g->override_id) == 0) {
				wk_strlcpy(out->rotation, g->override_id, sizeof(out->rotation));
				out->index = 0;
				out->start = p->overrides[k].start;
				out->end = p->overrides[k].end;
				found = true;
			}
	}
	schedule_free(&s);
	if (!found) {
		reply_textf(r, "That is not one of %s shifts in the next 90 days. `/oncall when%s` lists them "
			       "with their ids.", strcmp(member, ctx->req->user_id) ? "their" : "your",
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

/* Buttons for whoever acts next on a swap, in the reply r, after a line that
 * says which swap they answer (the list above them may hold several). */
static void swap_buttons(const struct swap *sw, const char *viewer, enum role role, const struct tz *z,
			 struct reply *r)
{
	bool peer = strcmp(sw->state, "requested") == 0 && strcmp(viewer, sw->peer) == 0;
	bool admin = strcmp(sw->state, "accepted") == 0 && role >= ROLE_ADMIN;
	char what[400];

	if (!peer && !admin)
		return;
	swap_describe(sw, z, what, sizeof(what));
	reply_section(r, "The buttons answer swap `%s` (%s).", sw->id, what);
	swap_add_buttons(r, sw, peer ? SWAP_BY_PEER : SWAP_BY_ADMIN);
}

static void notify_swap(struct cmd_ctx *ctx, const struct swap *sw, const char *state)
{
	swap_notify(ctx->store, ctx->cfg, ctx->org_id, sw, state, ctx->req->user_id);
}

/* The team of a rotation shift id ("r3.48"): `/oncall when` lists every
 * team's shifts, so an id passed on without `team NAME` must still be found.
 * 0 found (team filled), 1 not a rotation shift id or no such rotation, -1. */
static int team_of_shift(struct cmd_ctx *ctx, const char *shift, char *team, size_t size)
{
	char rot[SCHEDULE_ID_LEN], key[192];
	const char *dot = strchr(shift, '.');
	redisReply *r;
	struct rotation_plan plan;
	int rc = 1;

	if (shift[0] != 'r' || !dot || (size_t)(dot - shift) >= sizeof(rot))
		return 1;
	memcpy(rot, shift, (size_t)(dot - shift));
	rot[dot - shift] = '\0';
	if (!org_member_id_valid(rot) || org_key(key, sizeof(key), ctx->org_id, "rotation:%s", rot) < 0)
		return 1;
	if (!(r = store_command(ctx->store, "GET %s", key)))
		return -1;
	if (r->type == REDIS_REPLY_STRING && rotation_plan_from_json(r->str, r->len, &plan) == 0) {
		if (plan.team[0] && wk_strlcpy(team, plan.team, size) < size)
			rc = 0;
		rotation_plan_free(&plan);
	}
	freeReplyObject(r);
	return rc;
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
	if (oncall_pick_team(ctx, team_name, team, sizeof(team), r) != 0)
		return team_name && r->text.len ? CMD_REFUSED : CMD_STORE_ERROR;
	if (!team_name && argc && team_of_shift(ctx, argv[0], team, sizeof(team)) < 0)
		return CMD_STORE_ERROR;
	if (schedule_load(ctx->store, ctx->org_id, team, now - DAY, now + 91 * DAY, &p) < 0)
		return CMD_STORE_ERROR;
	const struct tz *z = oncall_zone_for(ctx, &p);
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
	/* The reason as typed: after the peer and the team option (taken out of argv above). */
	const char *reason = dispatch_rest(ctx, at + 2 + (team_name ? 2 : 0));
	if (strlen(reason) >= sizeof(sw.reason)) {
		reply_textf(r, "The reason is longer than %zu bytes; say it in fewer words.", sizeof(sw.reason) - 1);
		team_plan_free(&p);
		return CMD_REFUSED;
	}
	wk_strlcpy(sw.reason, reason, sizeof(sw.reason));
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

enum cmd_result oncall_swap(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return request_swap(ctx, SWAP_TRADE, argc, argv, r);
}

enum cmd_result oncall_cover(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	return request_swap(ctx, SWAP_COVER, argc, argv, r);
}

enum cmd_result oncall_swaps(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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
	const struct tz *z = oncall_zone_for(ctx, &p);
	team_plan_free(&p);
	reply_textf(r, n ? "Swaps%s:" : "No swaps%s yet.", ctx->role >= ROLE_ADMIN ? "" : " involving you");
	for (size_t i = 0; i < n; i++) {
		struct buf b = BUF_INIT(1024);
		swap_line(ctx, &list[i], z, &b);
		reply_section(r, "%s", buf_cstr(&b));
		buf_free(&b);
		/* Buttons for the first one waiting on this person (a reply holds few). */
		if (!shown && r->nbuttons == 0) {
			swap_buttons(&list[i], ctx->req->user_id, ctx->role, z, r);
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
		oncall_schedule_changed(ctx, sw->team);
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

enum cmd_result oncall_swap_cancel(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return run_transition(ctx, argv[0], SWAP_CANCEL, r);
}

enum cmd_result oncall_swap_undo(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	(void)argc;
	return run_transition(ctx, argv[0], SWAP_UNDO, r);
}

enum cmd_result oncall_swap_policy(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
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

enum cmd_result oncall_action_swap_accept(struct cmd_ctx *ctx, const char *v, struct reply *r)
{
	return click(ctx, v, SWAP_ACCEPT, r);
}

enum cmd_result oncall_action_swap_decline(struct cmd_ctx *ctx, const char *v, struct reply *r)
{
	return click(ctx, v, SWAP_DECLINE, r);
}

enum cmd_result oncall_action_swap_approve(struct cmd_ctx *ctx, const char *v, struct reply *r)
{
	return click(ctx, v, SWAP_APPROVE, r);
}

enum cmd_result oncall_action_swap_reject(struct cmd_ctx *ctx, const char *v, struct reply *r)
{
	return click(ctx, v, SWAP_REJECT, r);
}
