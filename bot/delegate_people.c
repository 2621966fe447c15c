/* delegate_people.c - steps 3 and 4 of delegate.h: who one escalation step
 * reaches now, filtered by the org's targeting rules and ordered by its
 * priority list.
 *
 * One step costs at most two reads: the team's schedule (only when the step
 * names a rotation position) and one script that expands the broad targets
 * and returns, for every candidate, what the filter needs (role, their own
 * switch, how many services they own) with the org's settings. */
#include "bot/delegate.h"
#include "bot/escalation.h"
#include "bot/log.h"
#include "bot/schedule.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400LL

/* ---- the operators' override ---- */

/* Entries are "<org id>:<member id>"; an org id has one colon itself. */
bool delegate_env_override(const struct config *cfg, const char *org_id, char *ids, size_t size)
{
	const char *p = cfg->incidents_notify_user_ids;
	size_t olen = strlen(org_id), used = 0;
	bool named = false;

	if (size)
		ids[0] = '\0';
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len > olen + 1 && strncmp(p, org_id, olen) == 0 && p[olen] == ':') {
			size_t mlen = len - olen - 1;
			named = true;
			if (used + mlen + 2 < size) {
				if (used)
					ids[used++] = ',';
				memcpy(ids + used, p + olen + 1, mlen);
				used += mlen;
				ids[used] = '\0';
			}
		}
		p = comma ? comma + 1 : NULL;
	}
	return named;
}

static bool in_csv(const char *csv, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = csv; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, id, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* ---- the filter ---- */

struct candidate {
	char id[DELEGATE_ID_MAX];
	char target[DELEGATE_TARGET_MAX];
	bool by_name;
	enum role role;		/* ROLE_NONE: not a member */
	bool opted_out;
	int64_t owned;		/* services they own */
};

/* NULL when c may be paged, else the word for why not. env: the operators'
 * list for this org, NULL when it names none. */
static const char *why_not(const struct delegate_settings *st, const char *env, const struct candidate *c)
{
	if (c->role == ROLE_NONE)
		return "not a member";
	if (c->opted_out)
		return "opted out";
	if (c->role == ROLE_VIEWER && !st->viewers)
		return "viewer";
	if (c->by_name)
		return NULL;
	if (env)
		return in_csv(env, c->id) ? NULL : "not listed";
	switch (st->mode) {
	case DELEGATE_ALL_MEMBERS:
		return NULL;
	case DELEGATE_USERS_WITH_SERVICES:
		return c->owned > 0 ? NULL : "no service";
	case DELEGATE_SPECIFIC_USERS:
		for (size_t i = 0; i < st->nusers; i++)
			if (strcmp(st->users[i], c->id) == 0)
				return NULL;
		for (size_t i = 0; i < st->nroles; i++)
			if (st->roles[i] == c->role)
				return NULL;
		return "not listed";
	}
	return NULL;
}

/* ---- reading candidates ---- */

static const struct store_script people_script = {
	"delegate_people",
	/* ARGV: prefix, number of named people k, then k (id, target) pairs, then
	 * broad targets (team:<id>, role:<name>). Returns {settings pairs, org
	 * mode, owners, {{id, target, named "1"/"0", role, incidents, owned}...}}:
	 * each person once, named ones first (named and broad = named). A role
	 * target reads the role index (member.h), not every member. */
	"local p, k = ARGV[1], tonumber(ARGV[2])\n"
	"local seen, out = {}, {}\n"
	"local function add(id, target, named, role, incidents, owned)\n"
	"  if seen[id] or #out >= 400 then return end\n"
	"  seen[id] = true\n"
	"  out[#out + 1] = {id, target, named, role or '', incidents or '', owned or '0'}\n"
	"end\n"
	"for i = 0, k - 1 do\n"
	"  local id = ARGV[3 + 2 * i]\n"
	"  local v = redis.call('HMGET', p .. 'member:' .. id, 'role', 'incidents', 'svc_owned')\n"
	"  add(id, ARGV[4 + 2 * i], '1', v[1], v[2], v[3])\n"
	"end\n"
	"local function fields(id, t, want)\n"
	"  local v = redis.call('HMGET', p .. 'member:' .. id, 'role', 'incidents', 'svc_owned')\n"
	"  if not want or v[1] == want then add(id, t, '0', v[1], v[2], v[3]) end\n"
	"end\n"
	/* The role index (member.h) is built once for an org whose members
	 * predate it; from then on every role change keeps it. */
	"local function role_index()\n"
	"  if redis.call('EXISTS', p .. 'roles_indexed') == 1 then return end\n"
	"  for _, r in ipairs({'viewer', 'developer', 'admin', 'owner'}) do redis.call('DEL', p .. 'roles:' .. r) end\n"
	"  local v = redis.call('SORT', p .. 'members', 'BY', 'nosort', 'GET', '#', 'GET', p .. 'member:*->role')\n"
	"  for j = 1, #v, 2 do\n"
	"    if v[j + 1] then redis.call('SADD', p .. 'roles:' .. v[j + 1], v[j]) end\n"
	"  end\n"
	"  redis.call('SET', p .. 'roles_indexed', '1')\n"
	"end\n"
	"for i = 3 + 2 * k, #ARGV do\n"
	"  local t = ARGV[i]\n"
	"  if string.sub(t, 1, 5) == 'team:' then\n"
	"    for _, id in ipairs(redis.call('SMEMBERS', p .. 'team:' .. string.sub(t, 6))) do fields(id, t) end\n"
	"  elseif string.sub(t, 1, 5) == 'role:' then\n"
	"    role_index()\n"
	"    local want = string.sub(t, 6)\n"
	"    for _, id in ipairs(redis.call('SMEMBERS', p .. 'roles:' .. want)) do fields(id, t, want) end\n"
	"  end\n"
	"end\n"
	"return {redis.call('HGETALL', p .. 'deleg'), redis.call('HGET', p .. 'org', 'mode') or '',\n"
	"        redis.call('SMEMBERS', p .. 'owners'), out}\n",
	NULL
};

struct people_read {
	struct delegate_settings settings;
	bool solo;
	char owner[DELEGATE_ID_MAX];
	struct candidate *cands;
	size_t n;
};

static const char *str_at(const redisReply *r, size_t i)
{
	return i < r->elements && r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "";
}

/* named: k (id, target) pairs flattened; broad: targets. 0 or -1. */
static int read_people(struct store *s, const char *org_id, const char *const *named, size_t k,
		       const char *const *broad, size_t nbroad, struct people_read *out)
{
	char prefix[160], kbuf[16];
	const char **args;
	size_t nargs = 0;
	redisReply *r;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0)
		return -1;
	args = xcalloc(2 + 2 * k + nbroad, sizeof(*args));
	snprintf(kbuf, sizeof(kbuf), "%zu", k);
	args[nargs++] = prefix;
	args[nargs++] = kbuf;
	for (size_t i = 0; i < 2 * k; i++)
		args[nargs++] = named[i];
	for (size_t i = 0; i < nbroad; i++)
		args[nargs++] = broad[i];
	r = store_script(s, &people_script, 0, NULL, (int)nargs, args);
	free(args);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4 || r->element[2]->type != REDIS_REPLY_ARRAY ||
	    r->element[3]->type != REDIS_REPLY_ARRAY)
		goto done;
	delegate_settings_parse(r->element[0], &out->settings);
	out->solo = strcmp(str_at(r, 1), "solo") == 0;
	if (r->element[2]->elements)
		wk_strlcpy(out->owner, str_at(r->element[2], 0), sizeof(out->owner));
	const redisReply *list = r->element[3];
	out->cands = list->elements ? xcalloc(list->elements, sizeof(*out->cands)) : NULL;
	for (size_t i = 0; i < list->elements; i++) {
		const redisReply *c = list->element[i];
		struct candidate *d = &out->cands[out->n];
		if (c->type != REDIS_REPLY_ARRAY || c->elements != 6 || !org_member_id_valid(str_at(c, 0)))
			continue;
		wk_strlcpy(d->id, str_at(c, 0), sizeof(d->id));
		wk_strlcpy(d->target, str_at(c, 1), sizeof(d->target));
		d->by_name = strcmp(str_at(c, 2), "1") == 0;
		d->role = role_parse(str_at(c, 3));
		d->opted_out = strcmp(str_at(c, 4), "off") == 0;
		wk_parse_i64(str_at(c, 5), 0, INT64_MAX, &d->owned);
		out->n++;
	}
	rc = 0;
done:
	if (r)
		freeReplyObject(r);
	return rc;
}

/* The people script returns at most this many: larger lists go in chunks. */
#define READ_CHUNK 400

int delegate_members_eligible(struct store *s, const struct config *cfg, const char *org_id,
			      const struct delegate_settings *st, const char *const *ids, size_t n, bool by_name,
			      const char **why)
{
	const char **named = xcalloc(2 * READ_CHUNK, sizeof(*named));
	char env[1024];
	const char *envp = delegate_env_override(cfg, org_id, env, sizeof(env)) ? env : NULL;
	int rc = 0;

	for (size_t at = 0; at < n && rc == 0; at += READ_CHUNK) {
		size_t k = 0, end = n - at < READ_CHUNK ? n : at + READ_CHUNK;
		struct people_read pr;
		for (size_t i = at; i < end; i++) {
			why[i] = "not a member";	/* unless the read finds them */
			if (org_member_id_valid(ids[i])) {
				named[2 * k] = ids[i];
				named[2 * k + 1] = "member:";
				k++;
			}
		}
		if (read_people(s, org_id, named, k, NULL, 0, &pr) < 0) {
			rc = -1;
			break;
		}
		for (size_t c = 0; c < pr.n; c++) {
			pr.cands[c].by_name = by_name;
			for (size_t i = at; i < end; i++)
				if (strcmp(ids[i], pr.cands[c].id) == 0)
					why[i] = why_not(st, envp, &pr.cands[c]);
		}
		free(pr.cands);
	}
	free(named);
	return rc;
}

int delegate_member_eligible(struct store *s, const struct config *cfg, const char *org_id,
			     const struct delegate_settings *st, const char *id, bool by_name, const char **why)
{
	if (delegate_members_eligible(s, cfg, org_id, st, &id, 1, by_name, why) < 0)
		return -1;
	return *why ? 0 : 1;
}

/* ---- a step's people ---- */

static bool is_chain(const char *t)
{
	return strcmp(t, "primary") == 0 || strcmp(t, "backup1") == 0 || strcmp(t, "backup2") == 0 ||
	       strncmp(t, "rotation:", 9) == 0;
}

static const char *chain_pick(const struct oncall_chain *c, const char *pos)
{
	return strcmp(pos, "primary") == 0 ? c->primary : strcmp(pos, "backup1") == 0 ? c->secondary
			: strcmp(pos, "backup2") == 0 ? c->tertiary : "";
}

/* Who a chain target names at t: the team's chain, or for
 * rotation:<name>:<pos> that one rotation's. "" = nobody. */
static void chain_person(const struct team_plan *plan, const char *target, int64_t t, char *out, size_t size,
			 char *primary, size_t psize)
{
	struct oncall_chain chain;
	struct team_plan one;
	const char *pos = target;

	out[0] = '\0';
	if (strncmp(target, "rotation:", 9) == 0) {
		char name[48];
		const char *colon = strrchr(target + 9, ':');
		size_t len = colon ? (size_t)(colon - (target + 9)) : 0;
		if (!colon || len == 0 || len >= sizeof(name))
			return;
		memcpy(name, target + 9, len);
		name[len] = '\0';
		pos = colon + 1;
		one = *plan;
		one.nrotations = 0;
		for (size_t i = 0; i < plan->nrotations; i++)
			if (strcmp(plan->rotations[i].name, name) == 0 || strcmp(plan->rotations[i].id, name) == 0) {
				one.rotations = &plan->rotations[i];
				one.nrotations = 1;
				break;
			}
		if (!one.nrotations)
			return;	/* renamed or deleted since the policy was written */
		plan = &one;
	}
	if (schedule_chain(plan, t, &chain) != 0)
		return;
	if (!primary[0])
		wk_strlcpy(primary, chain.primary, psize);
	wk_strlcpy(out, chain_pick(&chain, pos), size);
}

/* Priority order: listed people first in list order, each gap_s after the
 * previous one present; the rest together after the last listed one. */
static void order_people(const struct delegate_settings *st, struct delegate_step_people *out)
{
	struct delegate_person sorted[DELEGATE_PEOPLE_MAX];
	bool taken[DELEGATE_PEOPLE_MAX] = { false };
	size_t n = 0;

	if (!st->npriority)
		return;
	for (size_t i = 0; i < st->npriority; i++)
		for (size_t j = 0; j < out->n; j++)
			if (!taken[j] && strcmp(out->people[j].id, st->priority[i]) == 0) {
				sorted[n] = out->people[j];
				sorted[n].after_s = (int64_t)n * st->gap_s;
				taken[j] = true;
				n++;
			}
	int64_t rest = (int64_t)n * st->gap_s;
	for (size_t j = 0; j < out->n; j++)
		if (!taken[j]) {
			sorted[n] = out->people[j];
			sorted[n].after_s = rest;
			n++;
		}
	memcpy(out->people, sorted, n * sizeof(sorted[0]));
}

int delegate_step_people(struct store *s, const struct config *cfg, const char *org_id, const char *team,
			 const struct escalation_step *st, int64_t now_ms, struct delegate_step_people *out)
{
	const char *named[2 * ESCALATION_MAX_TARGETS], *broad[ESCALATION_MAX_TARGETS];
	char chained[ESCALATION_MAX_TARGETS][DELEGATE_ID_MAX];
	size_t k = 0, nbroad = 0;
	struct team_plan plan;
	bool loaded = false;
	struct people_read pr;
	int64_t t = now_ms / 1000;
	char env[1024];
	const char *envp;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < st->ntargets; i++) {
		const char *target = st->targets[i];
		if (is_chain(target)) {
			if (!loaded) {
				if (schedule_load(s, org_id, team[0] ? team : "default", t - 400 * DAY_S, t + 400 * DAY_S,
						  &plan) < 0)
					return -1;
				loaded = true;
			}
			chain_person(&plan, target, t, chained[i], sizeof(chained[i]), out->primary,
				     sizeof(out->primary));
			if (chained[i][0]) {
				named[2 * k] = chained[i];
				named[2 * k + 1] = target;
				k++;
			}
		} else if (strncmp(target, "member:", 7) == 0) {
			named[2 * k] = target + 7;
			named[2 * k + 1] = target;
			k++;
		} else if (strncmp(target, "team:", 5) == 0 || strncmp(target, "role:", 5) == 0) {
			broad[nbroad++] = target;
		} else if (strncmp(target, "channel:", 8) == 0 && out->nchannels < ARRAY_LEN(out->channels)) {
			wk_strlcpy(out->channels[out->nchannels++], target + 8, sizeof(out->channels[0]));
		}
	}
	if (loaded)
		team_plan_free(&plan);
	if (read_people(s, org_id, named, k, broad, nbroad, &pr) < 0)
		return -1;
	/* A solo org has one person, who takes everything. */
	if (pr.solo && pr.owner[0]) {
		wk_strlcpy(out->people[0].id, pr.owner, sizeof(out->people[0].id));
		wk_strlcpy(out->people[0].target, "owner", sizeof(out->people[0].target));
		out->n = 1;
		free(pr.cands);
		return 0;
	}
	envp = delegate_env_override(cfg, org_id, env, sizeof(env)) ? env : NULL;
	for (size_t i = 0; i < pr.n; i++) {
		const char *why = why_not(&pr.settings, envp, &pr.cands[i]);
		if (why) {
			if (out->nleft < DELEGATE_PEOPLE_MAX) {
				wk_strlcpy(out->left[out->nleft].id, pr.cands[i].id, sizeof(out->left[0].id));
				out->left[out->nleft++].why = why;
			}
		} else if (out->n < DELEGATE_PEOPLE_MAX) {
			wk_strlcpy(out->people[out->n].id, pr.cands[i].id, sizeof(out->people[0].id));
			wk_strlcpy(out->people[out->n].target, pr.cands[i].target, sizeof(out->people[0].target));
			out->n++;
		}
	}
	order_people(&pr.settings, out);
	free(pr.cands);
	return 0;
}
