/* swap.c - see swap.h */
#include "bot/swap.h"
#include "bot/audit.h"
#include "bot/engine.h"
#include "bot/log.h"
#include "bot/member.h"
#include "bot/notify.h"
#include "bot/timers.h"
#include "bot/when.h"
#include "bot/org.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void i64(char *out, size_t size, int64_t v)
{
	snprintf(out, size, "%lld", (long long)v);
}

int swap_policy_get(struct store *s, const char *org_id, char *policy, size_t size)
{
	char key[160];
	redisReply *r;
	int rc = -1;

	if (org_key(key, sizeof(key), org_id, "settings") < 0)
		return -1;
	r = store_command(s, "HGET %s swap_policy", key);
	if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL)) {
		wk_strlcpy(policy, r->type == REDIS_REPLY_STRING ? r->str : "peer", size);
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

int swap_policy_set(struct store *s, const char *org_id, const char *actor, const char *platform,
		    const char *policy, int64_t now)
{
	char key[160];

	if (org_key(key, sizeof(key), org_id, "settings") < 0)
		return -1;
	const struct audited_setting set = { key, "swap_policy", "peer", "swap.policy", "settings" };
	return audit_set_field(s, org_id, &set, policy, actor, platform, now * 1000);
}

static const struct store_script create_script = {
	"swap_create",
	/* KEYS: member:<peer>, swaps, seq, audit, tip.
	 * ARGV: prefix, team, kind, requester, peer, give rotation/index/start/end,
	 *       take rotation/index/start/end, reason, policy, now ms, deadline, platform.
	 * Returns the id, 1 (peer not a member) or 2 (shift already asked about). */
	"local p = ARGV[1]\n"
	"if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'placeholder') == '1' then return 1 end\n"
	"local shiftkey = p .. 'swap_shift:' .. ARGV[6] .. ':' .. ARGV[7]\n"
	"local open = redis.call('GET', shiftkey)\n"
	"if open then\n"
	"  local st = redis.call('HGET', p .. 'swap:' .. open, 'state')\n"
	"  if st == 'requested' or st == 'accepted' or st == 'approved' then return 2 end\n"
	"end\n"
	"local id = 's' .. redis.call('INCR', KEYS[3])\n"
	"redis.call('HSET', p .. 'swap:' .. id, 'id', id, 'team', ARGV[2], 'kind', ARGV[3],\n"
	"  'requester', ARGV[4], 'peer', ARGV[5], 'give_rotation', ARGV[6], 'give_index', ARGV[7],\n"
	"  'give_start', ARGV[8], 'give_end', ARGV[9], 'take_rotation', ARGV[10], 'take_index', ARGV[11],\n"
	"  'take_start', ARGV[12], 'take_end', ARGV[13], 'reason', ARGV[14], 'policy', ARGV[15],\n"
	"  'state', 'requested', 'created_ms', ARGV[16], 'deadline', ARGV[17])\n"
	"redis.call('SET', shiftkey, id)\n"
	"redis.call('ZADD', KEYS[2], ARGV[16], id)\n"
	"wk_audit(KEYS[4], KEYS[5], ARGV[16], ARGV[4], ARGV[18], 'swap.request', 'swap:' .. id, '',\n"
	"         ARGV[3] .. ' with ' .. ARGV[5] .. ' shift ' .. ARGV[6] .. '.' .. ARGV[7])\n"
	"return id\n",
	AUDIT_LUA
};

int swap_create(struct store *s, const char *org_id, const char *platform, struct swap *sw,
		int64_t now)
{
	char kpeer[192], kswaps[160], kseq[160], kaudit[160], ktip[160], prefix[160];
	char gi[24], gs[24], ge[24], ti[24], ts[24], te[24], nowms[24], dl[24];
	redisReply *r;
	int rc = -1;

	if (org_key(kpeer, sizeof(kpeer), org_id, "member:%s", sw->peer) < 0 ||
	    org_key(kswaps, sizeof(kswaps), org_id, "swaps") < 0 ||
	    org_key(kseq, sizeof(kseq), org_id, "seq") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	i64(gi, sizeof(gi), sw->give.index);
	i64(gs, sizeof(gs), sw->give.start);
	i64(ge, sizeof(ge), sw->give.end);
	i64(ti, sizeof(ti), sw->take.index);
	i64(ts, sizeof(ts), sw->take.start);
	i64(te, sizeof(te), sw->take.end);
	i64(nowms, sizeof(nowms), now * 1000);
	i64(dl, sizeof(dl), sw->deadline);
	const char *keys[] = { kpeer, kswaps, kseq, kaudit, ktip };
	const char *args[] = { prefix, sw->team, sw->kind == SWAP_TRADE ? "trade" : "cover",
			       sw->requester, sw->peer, sw->give.rotation, gi, gs, ge,
			       sw->take.rotation, ti, ts, te, sw->reason, sw->policy, nowms, dl, platform };
	r = store_script(s, &create_script, 5, keys, 18, args);
	if (r && r->type == REDIS_REPLY_INTEGER) {
		rc = (int)r->integer;
	} else if (r && r->type == REDIS_REPLY_STRING) {
		wk_strlcpy(sw->id, r->str, sizeof(sw->id));
		wk_strlcpy(sw->state, "requested", sizeof(sw->state));
		sw->created_ms = now * 1000;
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

static const struct store_field swap_fields[] = {
	STORE_STR_FIELD("id", struct swap, id),
	STORE_STR_FIELD("team", struct swap, team),
	STORE_STR_FIELD("requester", struct swap, requester),
	STORE_STR_FIELD("peer", struct swap, peer),
	STORE_STR_FIELD("state", struct swap, state),
	STORE_STR_FIELD("policy", struct swap, policy),
	STORE_STR_FIELD("reason", struct swap, reason),
	STORE_STR_FIELD("decided_by", struct swap, decided_by),
	STORE_STR_FIELD("give_rotation", struct swap, give.rotation),
	STORE_STR_FIELD("take_rotation", struct swap, take.rotation),
	STORE_I64_FIELD("give_index", struct swap, give.index),
	STORE_I64_FIELD("give_start", struct swap, give.start),
	STORE_I64_FIELD("give_end", struct swap, give.end),
	STORE_I64_FIELD("take_index", struct swap, take.index),
	STORE_I64_FIELD("take_start", struct swap, take.start),
	STORE_I64_FIELD("take_end", struct swap, take.end),
	STORE_I64_FIELD("created_ms", struct swap, created_ms),
	STORE_I64_FIELD("deadline", struct swap, deadline),
};

static void swap_from_pairs(struct swap *sw, const redisReply *h)
{
	memset(sw, 0, sizeof(*sw));
	store_hash_fields(h, swap_fields, ARRAY_LEN(swap_fields), sw);
	for (size_t i = 0; i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, "kind") == 0 &&
		    h->element[i + 1]->type == REDIS_REPLY_STRING)
			sw->kind = strcmp(h->element[i + 1]->str, "trade") == 0 ? SWAP_TRADE : SWAP_COVER;
}

int swap_get(struct store *s, const char *org_id, const char *id, struct swap *out)
{
	char key[192];
	redisReply *r;
	int rc = -1;

	if (!org_member_id_valid(id) || org_key(key, sizeof(key), org_id, "swap:%s", id) < 0)
		return 1;
	if ((rc = store_hash(s, key, &r)) == 0) {
		swap_from_pairs(out, r);
		freeReplyObject(r);
	}
	return rc;
}

static const struct store_script transition_script = {
	"swap_transition",
	/* KEYS: swap:<id>, audit, tip. ARGV: prefix, action, actor, now s, now ms, platform.
	 * Returns {outcome, state}. */
	"local p, action, actor, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])\n"
	"local h = {}\n"
	"local raw = redis.call('HGETALL', KEYS[1])\n"
	"if #raw == 0 then return {'missing', ''} end\n"
	"for i = 1, #raw, 2 do h[raw[i]] = raw[i + 1] end\n"
	"local st = h.state\n"
	"local role = redis.call('HGET', p .. 'member:' .. actor, 'role')\n"
	"local admin = role == 'admin' or role == 'owner'\n"
	"local function audit(new)\n"
	"  wk_audit(KEYS[2], KEYS[3], ARGV[5], actor, ARGV[6], 'swap.' .. action, 'swap:' .. h.id, st, new)\n"
	"end\n"
	"local function set(new)\n"
	"  redis.call('HSET', KEYS[1], 'state', new, 'decided_by', actor, 'decided_ms', ARGV[5])\n"
	"  audit(new)\n"
	"  return {'done', new}\n"
	"end\n"
	/* overrides: the peer replaces the requester on the given shift; in a trade
	 * the requester replaces the peer on the taken one. */
	"local function override(member, replaces, rot, idx, s, e)\n"
	"  local id = 'o' .. redis.call('INCR', p .. 'seq')\n"
	"  redis.call('HSET', p .. 'override:' .. id, 'id', id, 'team', h.team, 'start', s, 'end', e,\n"
	"    'member', member, 'replaces', replaces, 'source', 'swap', 'swap_id', h.id,\n"
	"    'reason', 'swap ' .. h.id .. ' (' .. rot .. '.' .. idx .. ')', 'created_by', actor, 'created_ms', ARGV[5])\n"
	"  redis.call('ZADD', p .. 'overrides:' .. h.team, e, id)\n"
	"  return id\n"
	"end\n"
	"local function apply()\n"
	"  local ids = override(h.peer, h.requester, h.give_rotation, h.give_index, h.give_start, h.give_end)\n"
	"  if h.kind == 'trade' then\n"
	"    ids = ids .. ',' .. override(h.requester, h.peer, h.take_rotation, h.take_index, h.take_start, h.take_end)\n"
	"  end\n"
	"  redis.call('HSET', KEYS[1], 'overrides', ids)\n"
	"end\n"
	"local function unapply()\n"
	"  for id in string.gmatch(h.overrides or '', '[^,]+') do\n"
	"    redis.call('ZREM', p .. 'overrides:' .. h.team, id)\n"
	"    redis.call('DEL', p .. 'override:' .. id)\n"
	"  end\n"
	"end\n"
	"local open = st == 'requested' or st == 'accepted'\n"
	"if open and now >= tonumber(h.deadline) then\n"
	"  redis.call('HSET', KEYS[1], 'state', 'expired')\n"
	"  wk_audit(KEYS[2], KEYS[3], ARGV[5], 'watchkeeper', ARGV[6], 'swap.expire', 'swap:' .. h.id, st, 'expired')\n"
	"  return {'expired', 'expired'}\n"
	"end\n"
	"if action == 'accept' or action == 'decline' then\n"
	"  if actor ~= h.peer then return {'not_yours', st} end\n"
	"  if st ~= 'requested' then return {'already', st} end\n"
	"  if action == 'decline' then return set('declined') end\n"
	"  if h.policy == 'admin' then\n"
	"    redis.call('HSET', KEYS[1], 'accepted_ms', ARGV[5])\n"
	"    return set('accepted')\n"
	"  end\n"
	"  apply()\n"
	"  return set('approved')\n"
	"elseif action == 'approve' or action == 'reject' then\n"
	"  if not admin then return {'needs_admin', st} end\n"
	"  if st ~= 'accepted' then return {'already', st} end\n"
	"  if action == 'reject' then return set('rejected') end\n"
	"  -- The policy asks for someone else's judgement: not the requester's or the peer's.\n"
	"  if actor == h.requester or actor == h.peer then return {'own_request', st} end\n"
	"  apply()\n"
	"  return set('approved')\n"
	"elseif action == 'cancel' then\n"
	"  if actor ~= h.requester and not admin then return {'not_yours', st} end\n"
	"  if st == 'approved' then\n"
	"    if not admin then return {'needs_admin', st} end\n"
	"    unapply()\n"
	"    return set('cancelled')\n"
	"  end\n"
	"  if not open then return {'already', st} end\n"
	"  return set('cancelled')\n"
	"elseif action == 'undo' then\n"
	"  if actor ~= h.requester and actor ~= h.peer and not admin then return {'not_yours', st} end\n"
	"  if st ~= 'approved' then return {'already', st} end\n"
	"  local first = tonumber(h.give_start)\n"
	"  if h.kind == 'trade' and tonumber(h.take_start) < first then first = tonumber(h.take_start) end\n"
	"  if now >= first then return {'started', st} end\n"
	"  unapply()\n"
	"  return set('undone')\n"
	"end\n"
	"return {'missing', st}\n",
	AUDIT_LUA
};

int swap_transition(struct store *s, const char *org_id, const char *id, enum swap_action action,
		    const char *actor, const char *platform, int64_t now, enum swap_outcome *outcome,
		    struct swap *after)
{
	static const char *const actions[] = { "accept", "decline", "approve", "reject", "cancel", "undo" };
	static const struct {
		const char *word;
		enum swap_outcome o;
	} outcomes[] = {
		{ "done", SWAP_DONE },		 { "missing", SWAP_MISSING },
		{ "not_yours", SWAP_NOT_YOURS }, { "needs_admin", SWAP_NEEDS_ADMIN },
		{ "already", SWAP_ALREADY },	 { "expired", SWAP_EXPIRED },
		{ "started", SWAP_STARTED },	 { "own_request", SWAP_OWN_REQUEST },
	};
	char key[192], kaudit[160], ktip[160], prefix[160], nows[24], nowms[24];
	redisReply *r;
	int rc = -1;

	*outcome = SWAP_MISSING;
	if (!org_member_id_valid(id))
		return 0;
	if (org_key(key, sizeof(key), org_id, "swap:%s", id) < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	i64(nows, sizeof(nows), now);
	i64(nowms, sizeof(nowms), now * 1000);
	const char *keys[] = { key, kaudit, ktip };
	const char *args[] = { prefix, actions[action], actor, nows, nowms, platform };
	r = store_script(s, &transition_script, 3, keys, 6, args);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING) {
		for (size_t i = 0; i < ARRAY_LEN(outcomes); i++)
			if (strcmp(r->element[0]->str, outcomes[i].word) == 0)
				*outcome = outcomes[i].o;
		rc = 0;
	}
	if (r)
		freeReplyObject(r);
	if (rc == 0 && *outcome != SWAP_MISSING && swap_get(s, org_id, id, after) < 0)
		rc = -1;
	return rc;
}

static const struct store_script list_script = {
	"swap_list",
	/* KEYS: swaps. ARGV: key prefix. The 200 newest swap hashes. */
	"local out = {}\n"
	"for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, 199)) do\n"
	"  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. 'swap:' .. id)\n"
	"end\n"
	"return out\n",
	NULL
};

int swap_list(struct store *s, const char *org_id, const char *member, bool all,
	      struct swap **out, size_t *n)
{
	redisReply *r;

	*out = NULL;
	*n = 0;
	if (!(r = org_list_script(s, &list_script, org_id, "swaps")))
		return -1;
	*out = xcalloc(21, sizeof(**out));
	for (size_t i = 0; i < r->elements && *n < 20; i++) {
		struct swap sw;
		if (r->element[i]->type != REDIS_REPLY_ARRAY || !r->element[i]->elements)
			continue;
		swap_from_pairs(&sw, r->element[i]);
		if (all || strcmp(sw.requester, member) == 0 || strcmp(sw.peer, member) == 0)
			(*out)[(*n)++] = sw;
	}
	freeReplyObject(r);
	return 0;
}

/* ---- telling people ---- */

static const struct tz *zone_of(struct store *s, const struct config *cfg, const char *org_id,
				const char *member)
{
	return org_zone_for(s, org_id, member, cfg->rotation.zone);
}

void swap_describe(const struct swap *sw, const struct tz *z, char *out, size_t size)
{
	char a[64], b[64], c[64], d[64];

	when_format(z, sw->give.start, a, sizeof(a));
	when_format(z, sw->give.end, b, sizeof(b));
	if (sw->kind == SWAP_TRADE)
		snprintf(out, size, "trade: <@%s> takes <@%s>'s shift %s–%s, <@%s> takes <@%s>'s shift %s–%s",
			 sw->peer, sw->requester, a, b, sw->requester, sw->peer,
			 when_format(z, sw->take.start, c, sizeof(c)), when_format(z, sw->take.end, d, sizeof(d)));
	else
		snprintf(out, size, "cover: <@%s> takes <@%s>'s shift %s–%s", sw->peer, sw->requester, a, b);
}

void swap_add_buttons(struct reply *r, const struct swap *sw, enum swap_deciders who)
{
	static const struct {
		const char *yes, *yes_action, *no, *no_action;
	} choices[] = {
		[SWAP_BY_PEER] = { "Accept", "oncall.swap_accept", "Decline", "oncall.swap_decline" },
		[SWAP_BY_ADMIN] = { "Approve", "oncall.swap_approve", "Reject", "oncall.swap_reject" },
	};
	char label[48];

	snprintf(label, sizeof(label), "%s %s", choices[who].yes, sw->id);
	reply_button(r, label, choices[who].yes_action, sw->id, BUTTON_PRIMARY);
	snprintf(label, sizeof(label), "%s %s", choices[who].no, sw->id);
	reply_button(r, label, choices[who].no_action, sw->id, BUTTON_DANGER);
}

static void tell(struct store *s, const struct config *cfg, const char *org_id, const char *to,
		 const struct swap *sw, const char *fmt_state, const char *actor, bool buttons)
{
	const struct tz *z = zone_of(s, cfg, org_id, to);
	char a[64], b[64];
	struct reply r;

	reply_init(&r);
	if (buttons && strcmp(fmt_state, "requested") == 0) {
		reply_textf(&r, "<@%s> asks you to %s their shift %s–%s%s (swap `%s`).", sw->requester,
			    sw->kind == SWAP_TRADE ? "trade" : "cover", when_format(z, sw->give.start, a, sizeof(a)),
			    when_format(z, sw->give.end, b, sizeof(b)),
			    sw->kind == SWAP_TRADE ? "; they take your next shift in return" : "", sw->id);
		if (sw->reason[0]) {
			char reason[160];
			reply_section(&r, "Reason: %s", reply_escape(reason, sizeof(reason), sw->reason));
		}
		swap_add_buttons(&r, sw, SWAP_BY_PEER);
	} else if (buttons) {
		char what[400];
		swap_describe(sw, z, what, sizeof(what));
		reply_textf(&r, "<@%s> accepted swap `%s` (%s). Approve it?", sw->peer, sw->id, what);
		swap_add_buttons(&r, sw, SWAP_BY_ADMIN);
	} else if (strcmp(fmt_state, "removed") == 0) {
		reply_textf(&r, "Swap `%s` (%s %s–%s) is *cancelled*: <@%s> was removed from Watchkeeper%s%s%s. "
			       "Nothing of it applies; check `/oncall when`.", sw->id,
			    sw->kind == SWAP_TRADE ? "trade" : "cover", when_format(z, sw->give.start, a, sizeof(a)),
			    when_format(z, sw->give.end, b, sizeof(b)),
			    strcmp(to, sw->requester) == 0 ? sw->peer : sw->requester, actor ? " by <@" : "",
			    actor ? actor : "", actor ? ">" : "");
	} else if (strcmp(fmt_state, "stale") == 0) {
		reply_textf(&r, "Swap `%s` (%s–%s) no longer applies: a rotation change moved that shift, "
			       "so nobody was swapped. Check `/oncall when` and ask again if you still need it.",
			    sw->id, when_format(z, sw->give.start, a, sizeof(a)),
			    when_format(z, sw->give.end, b, sizeof(b)));
	} else {
		reply_textf(&r, "Swap `%s` (%s %s–%s) is now *%s*", sw->id,
			    sw->kind == SWAP_TRADE ? "trade" : "cover", when_format(z, sw->give.start, a, sizeof(a)),
			    when_format(z, sw->give.end, b, sizeof(b)), fmt_state);
		if (actor)
			reply_textf(&r, " (by <@%s>)", actor);
		reply_textf(&r, ".");
	}
	notify_member(s, cfg, org_id, to, "swap", &r, "");
	reply_free(&r);
}

void swap_notify(struct store *s, const struct config *cfg, const char *org_id,
		 const struct swap *sw, const char *state, const char *actor)
{
	if (strcmp(state, "requested") == 0) {
		tell(s, cfg, org_id, sw->peer, sw, state, actor, true);
		return;
	}
	if (strcmp(state, "accepted") == 0) {
		struct member *m;
		size_t n;
		if (member_list(s, org_id, &m, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				if (!m[i].placeholder && m[i].role >= ROLE_ADMIN)
					tell(s, cfg, org_id, m[i].id, sw, state, actor, true);
			free(m);
		}
	}
	const char *people[2] = { sw->requester, sw->peer };
	for (size_t i = 0; i < 2; i++)
		if (!actor || strcmp(people[i], actor) != 0)
			tell(s, cfg, org_id, people[i], sw, state, actor, false);
}

int swap_arm_expiry(struct store *s, const char *org_id, const struct swap *sw)
{
	char id[TIMER_ID_MAX];

	snprintf(id, sizeof(id), "swap:%s:%s", org_id, sw->id);
	return timer_schedule(s, id, "swap_expire", org_id, sw->id, sw->deadline * 1000);
}

int swap_expire_fire(struct engine_ctx *ctx)
{
	struct swap sw, after;
	enum swap_outcome o;
	const char *org = ctx->timer->org;
	int64_t now = ctx->now_ms / 1000;

	if (swap_get(ctx->store, org, ctx->timer->payload, &sw) != 0)
		return 0;	/* gone, or a bad payload: nothing to expire */
	if (strcmp(sw.state, "requested") != 0 && strcmp(sw.state, "accepted") != 0)
		return 0;	/* answered in time */
	if (now < sw.deadline) {
		ctx->rearm_ms = sw.deadline * 1000;	/* fired early (clock skew): wait */
		return 0;
	}
	/* Any action runs the expiry check first; "cancel" by the system changes
	 * nothing else if it somehow got past it. */
	if (swap_transition(ctx->store, org, sw.id, SWAP_CANCEL, "watchkeeper", "engine", now, &o, &after) < 0)
		return -1;
	if (o == SWAP_EXPIRED) {
		log_info("swap.expired", "org=%s swap=%s", org, sw.id);
		swap_notify(ctx->store, ctx->cfg, org, &after, "expired", NULL);
	}
	return 0;
}

void swap_check_stale(struct store *s, const struct config *cfg, const char *org_id,
		      const char *team, int64_t now)
{
	struct swap *list;
	size_t n;

	if (swap_list(s, org_id, "", true, &list, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct swap *sw = &list[i];
		struct team_plan p;
		struct schedule sched;
		bool applies = false;
		char key[192];

		if (strcmp(sw->state, "approved") != 0 || strcmp(sw->team, team) != 0 || sw->give.start <= now)
			continue;
		if (schedule_load(s, org_id, team, sw->give.start, sw->give.end, &p) < 0)
			continue;
		if (schedule_build(&p, sw->give.start, sw->give.end, &sched) == 0) {
			for (size_t k = 0; k < sched.n; k++)
				if (sched.seg[k].source == SEGMENT_SWAP && strcmp(sched.seg[k].member, sw->peer) == 0)
					applies = true;
			schedule_free(&sched);
		}
		team_plan_free(&p);
		if (applies || org_key(key, sizeof(key), org_id, "swap:%s", sw->id) < 0)
			continue;
		/* HSETNX: tell people once, however many edits follow. */
		redisReply *r = store_command(s, "HSETNX %s stale 1", key);
		bool first = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
		if (r)
			freeReplyObject(r);
		if (first) {
			log_info("swap.stale", "org=%s swap=%s", org_id, sw->id);
			tell(s, cfg, org_id, sw->requester, sw, "stale", NULL, false);
			tell(s, cfg, org_id, sw->peer, sw, "stale", NULL, false);
		}
	}
	free(list);
}
