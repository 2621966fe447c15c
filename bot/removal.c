/* removal.c - see removal.h */
#include "bot/removal.h"
#include "bot/member.h"
#include "bot/audit.h"
#include "bot/handoff.h"
#include "bot/log.h"
#include "bot/notify.h"
#include "bot/rotations.h"
#include "bot/swap.h"
#include "bot/team.h"
#include "bot/tz.h"
#include "bot/util.h"
#include "bot/when.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTEMPTS 5
#define AHEAD_S (400LL * 86400)	/* the longest shift (a year) ends within this */

static const struct store_script remove_script = {
	"member_remove",
	/* KEYS: member:<actor>, member:<target>, owners, members, audit, tip.
	 * ARGV: actor, platform, target, now ms, key prefix, now s, then the plan:
	 *   number of teams; per team: id, number of rotations; per rotation: id,
	 *   revision read, new JSON ("" = unchanged);
	 *   number of takeovers; per takeover: team, start, end, member, reason.
	 * Returns a refusal word, 'conflict' (the plan no longer fits; nothing
	 * written), or {'changed', {takeover override ids}, {cancelled swap ids},
	 * {team, id, start, end, ...} of the overrides removed}. */
	MEMBER_GUARD_LUA MEMBER_ROLE_LUA
	"local p, t, nows = ARGV[5], ARGV[3], tonumber(ARGV[6])\n"
	"local tr = redis.call('HGET', KEYS[2], 'role')\n"
	"if not tr then return 'not_found' end\n"
	"local refused = guard(tr == 'owner', tr == 'owner')\n"
	"if refused then return refused end\n"
	/* Check that the plan still describes what is stored, before any write
	 * (a script is not rolled back: nothing below may fail half way). */
	"local i = 7\n"
	"local nteams = tonumber(ARGV[i]); i = i + 1\n"
	"if redis.call('HLEN', p .. 'teams') ~= nteams then return 'conflict' end\n"
	"local teams, edits, takes = {}, {}, {}\n"
	"for _ = 1, nteams do\n"
	"  local team, nrot = ARGV[i], tonumber(ARGV[i + 1]); i = i + 2\n"
	"  if redis.call('HEXISTS', p .. 'teams', team) == 0 then return 'conflict' end\n"
	"  if redis.call('SCARD', p .. 'team_rotations:' .. team) ~= nrot then return 'conflict' end\n"
	"  teams[#teams + 1] = team\n"
	"  for _ = 1, nrot do\n"
	"    local rid, rev, json = ARGV[i], ARGV[i + 1], ARGV[i + 2]; i = i + 3\n"
	"    local cur = redis.call('GET', p .. 'rotation:' .. rid)\n"
	"    if redis.call('SISMEMBER', p .. 'team_rotations:' .. team, rid) == 0 or not cur or\n"
	"       string.match(cur, '\"rev\":(%d+)') ~= rev then return 'conflict' end\n"
	"    if json ~= '' then edits[#edits + 1] = {rid, json} end\n"
	"  end\n"
	"end\n"
	"local ntake = tonumber(ARGV[i]); i = i + 1\n"
	"for _ = 1, ntake do\n"
	"  local x = {ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]}; i = i + 5\n"
	"  local m = p .. 'member:' .. x[4]\n"
	"  if redis.call('EXISTS', m) == 0 or redis.call('HGET', m, 'placeholder') == '1' then return 'conflict' end\n"
	"  takes[#takes + 1] = x\n"
	"end\n"
	"local function audit(action, resource, before, after)\n"
	"  wk_audit(KEYS[5], KEYS[6], ARGV[4], ARGV[1], ARGV[2], action, resource, before, after)\n"
	"end\n"
	"for _, e in ipairs(edits) do\n"
	"  redis.call('SET', p .. 'rotation:' .. e[1], e[2])\n"
	"  audit('rotation.remove', 'rotation:' .. e[1], '', 'member:' .. t)\n"
	"end\n"
	/* Swaps first, so that their overrides go as part of the swap. */
	"local cancelled = {}\n"
	"for _, sid in ipairs(redis.call('ZRANGE', p .. 'swaps', 0, -1)) do\n"
	"  local k = p .. 'swap:' .. sid\n"
	"  local h = redis.call('HMGET', k, 'requester', 'peer', 'state', 'give_start', 'take_start', 'kind',\n"
	"                       'overrides', 'team')\n"
	"  if h[1] == t or h[2] == t then\n"
	"    local first = tonumber(h[4]) or 0\n"
	"    if h[6] == 'trade' and tonumber(h[5]) and tonumber(h[5]) < first then first = tonumber(h[5]) end\n"
	"    local st = h[3]\n"
	"    if st == 'requested' or st == 'accepted' or (st == 'approved' and first > nows) then\n"
	"      for oid in string.gmatch(st == 'approved' and h[7] or '', '[^,]+') do\n"
	"        redis.call('ZREM', p .. 'overrides:' .. (h[8] or 'default'), oid)\n"
	"        redis.call('DEL', p .. 'override:' .. oid)\n"
	"      end\n"
	"      redis.call('HSET', k, 'state', 'cancelled', 'decided_by', ARGV[1], 'decided_ms', ARGV[4])\n"
	"      audit('swap.cancel', 'swap:' .. sid, st, 'cancelled')\n"
	"      cancelled[#cancelled + 1] = sid\n"
	"    end\n"
	"  end\n"
	"end\n"
	"local ovs = {}\n"
	"for _, team in ipairs(teams) do\n"
	"  local z = p .. 'overrides:' .. team\n"
	"  for _, oid in ipairs(redis.call('ZRANGEBYSCORE', z, '(' .. ARGV[6], '+inf')) do\n"
	"    local k = p .. 'override:' .. oid\n"
	/* Not started: removed. One running now stays as it was (it is history);
	 * a takeover below covers the rest of it. */
	"    local h = redis.call('HMGET', k, 'member', 'start', 'end')\n"
	"    if h[1] == t and (tonumber(h[2]) or 0) >= nows then\n"
	"      redis.call('ZREM', z, oid)\n"
	"      redis.call('DEL', k)\n"
	"      audit('override.remove', 'override:' .. oid, 'member:' .. t .. ' ' .. h[2] .. '-' .. (h[3] or ''), '')\n"
	"      for _, v in ipairs({team, oid, h[2], h[3] or '0'}) do ovs[#ovs + 1] = v end\n"
	"    end\n"
	"  end\n"
	"end\n"
	"local made = {}\n"
	"for _, x in ipairs(takes) do\n"
	"  local id = 'o' .. redis.call('INCR', p .. 'seq')\n"
	"  redis.call('HSET', p .. 'override:' .. id, 'id', id, 'team', x[1], 'start', x[2], 'end', x[3],\n"
	"    'member', x[4], 'replaces', t, 'source', 'override', 'swap_id', '', 'reason', x[5],\n"
	"    'created_by', ARGV[1], 'created_ms', ARGV[4])\n"
	"  redis.call('ZADD', p .. 'overrides:' .. x[1], x[3], id)\n"
	"  audit('override.create', 'override:' .. id, '',\n"
	"        'member:' .. x[4] .. ' ' .. x[2] .. '-' .. x[3] .. ' replaces ' .. t .. ' ' .. x[5])\n"
	"  made[#made + 1] = id\n"
	"end\n"
	"local email = redis.call('HGET', KEYS[2], 'email')\n"
	"local gh = redis.call('HGET', KEYS[2], 'github')\n"
	"if email and redis.call('HGET', p .. 'invited_emails', string.lower(email)) == t then\n"
	"  redis.call('HDEL', p .. 'invited_emails', string.lower(email)) end\n"
	"if gh and redis.call('HGET', p .. 'github', gh) == t then redis.call('HDEL', p .. 'github', gh) end\n"
	"for _, team in ipairs(redis.call('HKEYS', p .. 'teams')) do\n"
	"  redis.call('SREM', p .. 'team:' .. team, t) end\n"
	"redis.call('LREM', p .. 'rotation:default', 0, t)\n"
	"wk_role_index(KEYS[2], t, tr, nil)\n"
	"redis.call('DEL', KEYS[2])\n"
	"redis.call('SREM', KEYS[4], t)\n"
	"redis.call('SREM', KEYS[3], t)\n"
	"audit('member.remove', 'member:' .. t, tr, '')\n"
	"return {'changed', made, cancelled, ovs}\n",
	AUDIT_LUA
};

/* ---- the plan ---- */

struct argv_list {
	char **v;
	size_t n, cap;
};

static void arg_add(struct argv_list *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg_add(struct argv_list *a, const char *fmt, ...)
{
	va_list ap;
	char tmp[64];
	int len;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	va_start(ap, fmt);
	len = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (len < 0)
		len = 0;
	a->v[a->n] = xcalloc((size_t)len + 1, 1);
	va_start(ap, fmt);
	vsnprintf(a->v[a->n], (size_t)len + 1, fmt, ap);
	va_end(ap);
	a->n++;
}

static void arg_free(struct argv_list *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* The rotation edit: out of the active order and the paused list. */
static int drop_member(struct rotation_version *v, void *arg)
{
	const char *id = arg;
	bool found = false;

	for (size_t i = v->nmembers; i-- > 0;)
		if (strcmp(v->members[i], id) == 0) {
			free(v->members[i]);
			memmove(v->members + i, v->members + i + 1, (v->nmembers - i - 1) * sizeof(char *));
			v->nmembers--;
			found = true;
		}
	for (size_t i = v->npaused; i-- > 0;) {
		const char *colon = strchr(v->paused[i], ':');
		if (colon && strcmp(colon + 1, id) == 0) {
			free(v->paused[i]);
			memmove(v->paused + i, v->paused + i + 1, (v->npaused - i - 1) * sizeof(char *));
			v->npaused--;
			found = true;
		}
	}
	return found ? 0 : ROT_ALREADY;
}

/* The script's swap rule, for planning: which of target's swaps it cancels. */
static bool swap_cancelled(const struct swap *sw, const char *target, int64_t now)
{
	int64_t first = sw->give.start;

	if (strcmp(sw->requester, target) != 0 && strcmp(sw->peer, target) != 0)
		return false;
	if (sw->kind == SWAP_TRADE && sw->take.start < first)
		first = sw->take.start;
	return strcmp(sw->state, "requested") == 0 || strcmp(sw->state, "accepted") == 0 ||
	       (strcmp(sw->state, "approved") == 0 && first > now);
}

/* The team's overrides as the script leaves them: target's own ones that have
 * not started go, and so do those of the swaps it cancels. *until moves to the
 * end of one of theirs that is running (target is on call until then). */
static int plan_overrides(struct store *s, const char *org_id, const char *target, int64_t now,
			  struct team_plan *p, int64_t *until)
{
	size_t keep = 0;

	for (size_t i = 0; i < p->noverrides; i++) {
		struct override_def *o = &p->overrides[i];
		bool drop = false;
		if (strcmp(o->member, target) == 0 && o->start >= now)
			drop = true;
		else if (strcmp(o->member, target) == 0 && o->end > *until)
			*until = o->end;
		if (!drop && o->source == SEGMENT_SWAP && o->swap_id[0]) {
			struct swap sw;
			int got = swap_get(s, org_id, o->swap_id, &sw);
			if (got < 0)
				return -1;
			drop = got == 0 && swap_cancelled(&sw, target, now);
		}
		if (!drop)
			p->overrides[keep++] = *o;
	}
	p->noverrides = keep;
	return 0;
}

static const char *rotation_name(const struct team_plan *p, const char *id)
{
	for (size_t i = 0; i < p->nrotations; i++)
		if (strcmp(p->rotations[i].id, id) == 0)
			return p->rotations[i].name;
	return id;
}

/* A backup who can take over: a member of the org (rotations written before
 * removals cleaned them up may still name people who left). */
static int can_take(struct store *s, const char *org_id, const char *id)
{
	struct member m;
	int got;

	if (!id[0])
		return 0;
	if ((got = member_get(s, org_id, id, &m)) < 0)
		return -1;
	return got == 0 && !m.placeholder;
}

static int add_takeover(struct store *s, const char *org_id, struct removal *out, const struct team_plan *p,
			const char *target, const struct segment *run, int64_t end)
{
	struct oncall_chain c;
	struct removal_takeover *t;
	const char *who = "";
	int backup = 0;

	/* The shift's 1st backup (the one before its rotation member), else the 2nd. */
	if (schedule_chain(p, run->start, &c) == 0 && strcmp(c.primary, target) == 0) {
		const char *backups[] = { c.secondary, c.tertiary };
		for (size_t i = 0; i < ARRAY_LEN(backups) && !who[0]; i++) {
			int ok = can_take(s, org_id, backups[i]);
			if (ok < 0)
				return -1;
			if (ok && strcmp(backups[i], target) != 0) {
				who = backups[i];
				backup = (int)i + 1;
			}
		}
	}
	if (!who[0])
		log_warn("removal.no_backup", "team=%s rotation=%s start=%lld", p->team, run->rotation,
			 (long long)run->start);
	out->takeovers = xrealloc(out->takeovers, (out->ntakeovers + 1) * sizeof(*out->takeovers));
	t = &out->takeovers[out->ntakeovers++];
	memset(t, 0, sizeof(*t));
	wk_strlcpy(t->team, p->team, sizeof(t->team));
	wk_strlcpy(t->rotation, rotation_name(p, run->rotation), sizeof(t->rotation));
	wk_strlcpy(t->member, who, sizeof(t->member));
	t->backup = backup;
	t->start = run->start;
	t->end = end;
	return 0;
}

/* Where target is still on call once the edits apply: the rest of shifts
 * already under way and of an override of theirs running now. One takeover
 * per stretch of one rotation shift (the backups are that shift's); it
 * replaces only target, on top of everything older, so time of others inside
 * the stretch stays theirs. */
static int plan_takeovers(struct store *s, const char *org_id, const struct team_plan *p, const char *target,
			  int64_t now, int64_t until, struct removal *out)
{
	struct schedule sched;
	struct segment run = { 0 };
	bool open = false;
	int64_t end = 0;
	int rc = 0;

	if (until <= now)
		return 0;
	if (schedule_build(p, now, until, &sched) < 0)
		return -1;
	for (size_t i = 0; i < sched.n && rc == 0; i++) {
		const struct segment *g = &sched.seg[i];
		if (strcmp(g->member, target) != 0)
			continue;
		if (open && strcmp(g->rotation, run.rotation) == 0 && g->shift_index == run.shift_index) {
			end = g->end;
			continue;
		}
		if (open)
			rc = add_takeover(s, org_id, out, p, target, &run, end);
		run = *g;
		end = g->end;
		open = true;
	}
	if (open && rc == 0)
		rc = add_takeover(s, org_id, out, p, target, &run, end);
	schedule_free(&sched);
	return rc;
}

static bool version_has(const struct rotation_version *v, const char *id)
{
	for (size_t i = 0; i < v->nmembers; i++)
		if (strcmp(v->members[i], id) == 0)
			return true;
	for (size_t i = 0; i < v->npaused; i++) {
		const char *colon = strchr(v->paused[i], ':');
		if (colon && strcmp(colon + 1, id) == 0)
			return true;
	}
	return false;
}

/* One team's part of the plan: its rotations (edited in memory) into args,
 * and its takeovers into out. */
static int plan_team(struct store *s, const char *org_id, const struct team_info *team, const char *target,
		     int64_t now, struct argv_list *args, struct removal *out)
{
	struct team_plan p;
	int64_t until = now;
	int rc = 0;

	if (schedule_load(s, org_id, team->id, now, now + AHEAD_S, &p) < 0)
		return -1;
	arg_add(args, "%s", team->id);
	arg_add(args, "%zu", p.nrotations);
	for (size_t i = 0; i < p.nrotations && rc == 0; i++) {
		struct rotation_plan *r = &p.rotations[i];
		int64_t rev = r->rev, eff = rotations_effective(r, now);
		char *json = NULL;

		if (eff > until)
			until = eff;	/* target may be on call until then (a pending edit, too) */
		if (r->nversions && version_has(&r->versions[r->nversions - 1], target)) {
			rc = rotations_next_version(r, now, drop_member, (void *)target);
			if (rc == ROT_OK) {
				struct rotation_version *nv = &r->versions[r->nversions - 1];
				/* Nobody left to hand over to: the rotation is empty from now,
				 * and a lower-priority one covers, as when it has no members. */
				if (!nv->nmembers && nv->effective_from > now)
					nv->effective_from = now;
				bool other = strcmp(team->id, "default") != 0;
				json = rotation_plan_to_json(r);
				out->rotations = xrealloc(out->rotations, (out->nrotations + 1) * sizeof(*out->rotations));
				snprintf(out->rotations[out->nrotations++], sizeof(*out->rotations), "`%s`%s%s%s%s%s",
					 r->name, other || !nv->nmembers ? " (" : "", other ? "team " : "",
					 other ? team->name : "", other && !nv->nmembers ? ", " : "",
					 !nv->nmembers ? "nobody left: empty from now)" : other ? ")" : "");
			}
			rc = rc == ROT_OK || rc == ROT_ALREADY ? 0 : -1;
		}
		arg_add(args, "%s", r->id);
		arg_add(args, "%lld", (long long)rev);
		arg_add(args, "%s", json ? json : "");
		free(json);
	}
	if (rc == 0)
		rc = plan_overrides(s, org_id, target, now, &p, &until);
	if (rc == 0)
		rc = plan_takeovers(s, org_id, &p, target, now, until < now + AHEAD_S ? until : now + AHEAD_S, out);
	team_plan_free(&p);
	return rc;
}

/* ---- running it ---- */

static void strings_of(const redisReply *a, char (**out)[SCHEDULE_ID_LEN], size_t *n)
{
	*out = xcalloc(a->elements + 1, sizeof(**out));
	for (size_t i = 0; i < a->elements; i++)
		if (a->element[i]->type == REDIS_REPLY_STRING)
			wk_strlcpy((*out)[(*n)++], a->element[i]->str, sizeof(**out));
}

static void read_done(const redisReply *r, struct removal *out)
{
	const redisReply *made = r->element[1], *swaps = r->element[2], *ovs = r->element[3];

	out->change = MEMBER_CHANGED;
	/* In order, one for each takeover that has someone. */
	for (size_t i = 0, k = 0; i < out->ntakeovers && k < made->elements; i++)
		if (out->takeovers[i].member[0] && made->element[k]->type == REDIS_REPLY_STRING)
			wk_strlcpy(out->takeovers[i].override_id, made->element[k++]->str,
				   sizeof(out->takeovers[i].override_id));
	strings_of(swaps, &out->swaps, &out->nswaps);
	out->overrides = xcalloc(ovs->elements / 4 + 1, sizeof(*out->overrides));
	for (size_t i = 0; i + 3 < ovs->elements; i += 4) {
		struct removal_override *o = &out->overrides[out->noverrides];
		bool ok = true;
		for (size_t k = 0; k < 4; k++)
			ok = ok && ovs->element[i + k]->type == REDIS_REPLY_STRING;
		if (!ok)
			continue;
		wk_strlcpy(o->team, ovs->element[i]->str, sizeof(o->team));
		wk_strlcpy(o->id, ovs->element[i + 1]->str, sizeof(o->id));
		wk_parse_i64(ovs->element[i + 2]->str, INT64_MIN, INT64_MAX, &o->start);
		wk_parse_i64(ovs->element[i + 3]->str, INT64_MIN, INT64_MAX, &o->end);
		out->noverrides++;
	}
}

/* One attempt: plan from what is stored now, then the script. 0 done (or
 * refused), 1 the plan went stale, -1 store failure. */
static int attempt(struct store *s, const char *org_id, const char *actor, const char *platform,
		   const char *target, int64_t now_ms, struct removal *out)
{
	char ka[192], kt[192], kowners[160], kmembers[160], kaudit[160], ktip[160], prefix[160];
	struct argv_list args = { 0 };
	struct team_info *teams = NULL;
	size_t nteams = 0;
	int64_t now = now_ms / 1000;
	redisReply *r = NULL;
	int rc = -1;

	if (org_key(ka, sizeof(ka), org_id, "member:%s", actor) < 0 ||
	    org_key(kt, sizeof(kt), org_id, "member:%s", target) < 0 ||
	    org_key(kowners, sizeof(kowners), org_id, "owners") < 0 ||
	    org_key(kmembers, sizeof(kmembers), org_id, "members") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0 ||
	    team_list(s, org_id, &teams, &nteams) < 0)
		return -1;
	arg_add(&args, "%s", actor);
	arg_add(&args, "%s", platform);
	arg_add(&args, "%s", target);
	arg_add(&args, "%lld", (long long)now_ms);
	arg_add(&args, "%s", prefix);
	arg_add(&args, "%lld", (long long)now);
	arg_add(&args, "%zu", nteams);
	out->nteams = 0;
	out->teams = xcalloc(nteams + 1, sizeof(*out->teams));
	for (size_t i = 0; i < nteams; i++) {
		if (plan_team(s, org_id, &teams[i], target, now, &args, out) < 0)
			goto done;
		wk_strlcpy(out->teams[out->nteams++], teams[i].id, sizeof(*out->teams));
	}
	size_t ntakes = 0;
	for (size_t i = 0; i < out->ntakeovers; i++)
		ntakes += out->takeovers[i].member[0] != '\0';
	arg_add(&args, "%zu", ntakes);
	for (size_t i = 0; i < out->ntakeovers; i++) {
		const struct removal_takeover *t = &out->takeovers[i];
		if (!t->member[0])
			continue;
		arg_add(&args, "%s", t->team);
		arg_add(&args, "%lld", (long long)t->start);
		arg_add(&args, "%lld", (long long)t->end);
		arg_add(&args, "%s", t->member);
		arg_add(&args, "takes over from %s (removed from Watchkeeper)", target);
	}
	const char *keys[] = { ka, kt, kowners, kmembers, kaudit, ktip };
	r = store_script(s, &remove_script, 6, keys, (int)args.n, (const char *const *)args.v);
	if (r && r->type == REDIS_REPLY_STRING) {
		out->change = member_change_parse(r->str);
		rc = out->change == MEMBER_CONFLICT ? 1 : 0;
	} else if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 4 && r->element[1]->type == REDIS_REPLY_ARRAY &&
		   r->element[2]->type == REDIS_REPLY_ARRAY && r->element[3]->type == REDIS_REPLY_ARRAY) {
		read_done(r, out);
		rc = 0;
	}
done:
	if (r)
		freeReplyObject(r);
	arg_free(&args);
	free(teams);
	return rc;
}

int removal_run(struct store *s, const char *org_id, const char *actor, const char *platform,
		const char *target, int64_t now_ms, struct removal *out)
{
	int rc = 1;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ATTEMPTS && rc == 1; i++) {
		removal_free(out);
		out->now = now_ms / 1000;
		rc = attempt(s, org_id, actor, platform, target, now_ms, out);
		if (rc == 1)
			log_info("removal.retry", "org=%s member=%s reason=\"the schedule changed meanwhile\"",
				 org_id, target);
	}
	if (rc == 1) {
		out->change = MEMBER_CONFLICT;
		rc = 0;
	}
	return rc;
}

void removal_free(struct removal *rm)
{
	free(rm->rotations);
	free(rm->takeovers);
	free(rm->swaps);
	free(rm->overrides);
	free(rm->teams);
	memset(rm, 0, sizeof(*rm));
}

/* ---- telling people ---- */

static const struct tz *zone_of(struct store *s, const struct config *cfg, const char *org_id,
				const char *member)
{
	struct member m;
	const struct tz *z;

	if (member_get(s, org_id, member, &m) == 0 && m.tz[0] && (z = tz_get(m.tz)))
		return z;
	return cfg->rotation.zone;
}

void removal_notify(struct store *s, const struct config *cfg, const char *org_id, const char *actor,
		    const char *target, const struct removal *rm)
{
	for (size_t i = 0; i < rm->ntakeovers; i++) {
		const struct removal_takeover *t = &rm->takeovers[i];
		const struct tz *z = zone_of(s, cfg, org_id, t->member);
		char a[64], b[64], dedupe[64];
		struct reply r;

		if (!t->override_id[0])
			continue;
		reply_init(&r);
		when_format(z, t->end, b, sizeof(b));
		if (t->start <= rm->now)
			reply_textf(&r, "You are on call now (rotation `%s`) until %s: you take over from <@%s>, "
					"who was removed from Watchkeeper by <@%s>.", t->rotation, b, target, actor);
		else
			reply_textf(&r, "You are on call from %s to %s (rotation `%s`): you take over from <@%s>, "
					"who was removed from Watchkeeper by <@%s>.",
				    when_format(z, t->start, a, sizeof(a)), b, t->rotation, target, actor);
		reply_section(&r, "It is override `%s`; `/oncall schedule` shows it.", t->override_id);
		snprintf(dedupe, sizeof(dedupe), "removal:%s", t->override_id);
		notify_member(s, cfg, org_id, t->member, "takeover", &r, dedupe);
		reply_free(&r);
	}
	for (size_t i = 0; i < rm->nswaps; i++) {
		struct swap sw;
		if (swap_get(s, org_id, rm->swaps[i], &sw) == 0)
			swap_notify(s, cfg, org_id, &sw, "removed", actor);
	}
	for (size_t i = 0; i < rm->nteams; i++) {
		if (handoff_reschedule(s, cfg, org_id, rm->teams[i], rm->now) < 0)
			log_warn("handoff.reschedule", "org=%s team=%s reason=store", org_id, rm->teams[i]);
		swap_check_stale(s, cfg, org_id, rm->teams[i], rm->now);
	}
}
