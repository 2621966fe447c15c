/* delegate.h - who receives which incidents, in what order (`/delegate`).
 *
 * How an incident finds its people (README "Who gets paged"):
 *   1. Route. The most specific delegation rule matching the incident picks
 *      the target: rules match on service, severity and type (source); one
 *      naming more of them beats one naming fewer; among equals the newest
 *      (highest id) wins. No rule: the team's escalation policy (the service's
 *      team, else the org's default team). Routing runs inside the script that
 *      opens the incident (DELEGATE_ROUTE_LUA), so an alert pays no extra
 *      round trip, and `/delegate test` runs the same Lua (delegate_route()).
 *   2. Escalate. A team target runs that team's escalation policy (its stored
 *      text, else the built-in default); a member, role or channel target makes
 *      a one-step policy repeated as the default says; a channel-only target
 *      also pages the incident team's primary (a channel cannot acknowledge).
 *   3. Filter (delegate_step_people). People a target names (a rotation
 *      position, a member named in a rule or step) are always eligible;
 *      people reached through broad targets (a role, all of a team) only as the
 *      org's targeting mode allows. Viewers only with `viewers on`. Each
 *      member's own switch (`/oncall me incidents off`) always wins. The
 *      operators' WK_INCIDENT_NOTIFY_USER_IDS (org-qualified ids) replaces the
 *      mode for the orgs it names.
 *   4. Order. Several people in one step are paged in the org's priority list
 *      order, each next one `gap_s` after the previous unless someone
 *      acknowledged; people not on the list come after the last listed one,
 *      together. Solo orgs: everything goes to the owner.
 *
 * Keys (org prefix p = wk:{org}:):
 *   p deleg              hash  mode users roles viewers priority gap_s
 *                              (users, roles, priority: comma-separated)
 *   p deleg:rules        hash  rule id -> JSON {service, severity, type,
 *                              target, by, created_ms} ("" = any)
 *   p deleg:seq          counter  rule ids
 *   p team_policy:<team> string the team's escalation policy text
 *                              (escalation.h); absent = the built-in default
 *   p member:<id>        fields `incidents` = "off": their own switch;
 *                              `svc_owned`: how many services they own
 *                              (kept by service.c's scripts)
 * Every change is one script with its audit entry (audit.h).
 *
 * Targets (in rules and policy steps), as stored:
 *   member:<id>  team:<id>  role:<viewer|developer|admin|owner>  channel:<id>
 *   primary backup1 backup2            the incident team's on-call chain
 *   rotation:<name>:primary|backup1|backup2   one rotation of that team
 *
 * Thread: callers pass their own store. Errors: -1 = the store failed;
 * nothing was written. */
#ifndef WK_DELEGATE_H
#define WK_DELEGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/org.h"
#include "bot/store.h"

#define DELEGATE_LIST_MAX 50	/* users, roles or priority entries */
#define DELEGATE_RULES_MAX 500
#define DELEGATE_TARGET_MAX 80
#define DELEGATE_ID_MAX 64

enum delegate_mode { DELEGATE_USERS_WITH_SERVICES, DELEGATE_ALL_MEMBERS, DELEGATE_SPECIFIC_USERS };
const char *delegate_mode_name(enum delegate_mode m);
int delegate_mode_parse(const char *s);	/* -1 when unknown */

struct delegate_settings {
	enum delegate_mode mode;
	char users[DELEGATE_LIST_MAX][DELEGATE_ID_MAX];	/* specific_users */
	size_t nusers;
	enum role roles[4];				/* specific_users */
	size_t nroles;
	bool viewers;
	char priority[DELEGATE_LIST_MAX][DELEGATE_ID_MAX];
	size_t npriority;
	int64_t gap_s;					/* between people of one step */
};

struct delegate_rule {
	int64_t id;
	char service[48], severity[12], type[16];	/* "" = any */
	char target[DELEGATE_TARGET_MAX];
	char by[DELEGATE_ID_MAX];
	int64_t created_ms;
};

struct delegate_actor {
	const char *org_id, *actor, *platform;
	int64_t now_ms;
};

enum delegate_outcome { DELEGATE_DONE, DELEGATE_UNCHANGED, DELEGATE_MISSING, DELEGATE_FULL };

/* The settings from the deleg hash's HGETALL pairs (defaults for what is
 * missing); for scripts that read it with other things. */
void delegate_settings_parse(const redisReply *pairs, struct delegate_settings *out);

/* Reading. Settings default to users_with_services, no viewers, no priority,
 * gap 0. Rules come in precedence order (most specific, then newest). */
int delegate_settings_get(struct store *s, const char *org_id, struct delegate_settings *out);
int delegate_rules_list(struct store *s, const char *org_id, struct delegate_rule **out, size_t *n);

/* Changing (admins; the caller checks the role). users/roles/ids are
 * comma-separated and already validated; "" clears. */
int delegate_set_mode(struct store *s, const struct delegate_actor *a, enum delegate_mode mode,
		      const char *users, const char *roles, enum delegate_outcome *out);
int delegate_set_viewers(struct store *s, const struct delegate_actor *a, bool on, enum delegate_outcome *out);
int delegate_set_priority(struct store *s, const struct delegate_actor *a, const char *ids, int64_t gap_s,
			  enum delegate_outcome *out);
/* A new rule (its id into *id); FULL past DELEGATE_RULES_MAX. */
int delegate_rule_add(struct store *s, const struct delegate_actor *a, const struct delegate_rule *rule,
		      int64_t *id, enum delegate_outcome *out);
int delegate_rule_remove(struct store *s, const struct delegate_actor *a, int64_t id, enum delegate_outcome *out);

/* A team's escalation policy text: 0 stored (text filled), 1 none (the
 * built-in default applies), -1. text "" in set = back to the default. */
int delegate_team_policy_get(struct store *s, const char *org_id, const char *team, char *text, size_t size);
int delegate_team_policy_set(struct store *s, const struct delegate_actor *a, const char *team, const char *text,
			     enum delegate_outcome *out);

/* Step 1 and 2 in Lua, for the incident-opening script: defines
 *   wk_route(p, service, severity, type, team, default_policy)
 *     -> policy text, team, rule id ("" when no rule matched)
 * default_policy is the built-in default's text; its "r<repeats>:<round s>"
 * head is what a one-step policy repeats with.
 * The parameter is `kind`, not `type`, so Lua's type() stays reachable; the
 * order is the header's (p, service, severity, type, team, default_policy).
 * A corrupt rule (not a JSON object) is skipped rather than failing the
 * incident-opening script it runs in. Ids stay the strings Redis gave: only
 * their order needs numbers.
 * A macro, so a script may join it to its other preludes. */
#define DELEGATE_ROUTE_LUA \
	"local function wk_route(p, service, severity, kind, team, default_policy)\n" \
	"  local function team_policy(t)\n" \
	"    return redis.call('GET', p .. 'team_policy:' .. t) or default_policy\n" \
	"  end\n" \
	"  local all = redis.call('HGETALL', p .. 'deleg:rules')\n" \
	"  local want = { service = service, severity = severity, type = kind }\n" \
	"  local best, best_id, best_n, best_num = nil, '', -1, -1\n" \
	"  for i = 1, #all, 2 do\n" \
	"    local num = tonumber(all[i])\n" \
	"    local ok, r = pcall(cjson.decode, all[i + 1])\n" \
	"    if num and ok and type(r) == 'table' then\n" \
	"      local n, match = 0, true\n" \
	"      for f, v in pairs(want) do\n" \
	"        local rv = r[f]\n" \
	"        if type(rv) == 'string' and rv ~= '' then\n" \
	"          if rv == v then n = n + 1 else match = false end\n" \
	"        end\n" \
	"      end\n" \
	"      if match and (n > best_n or (n == best_n and num > best_num)) then\n" \
	"        best, best_id, best_n, best_num = r, all[i], n, num\n" \
	"      end\n" \
	"    end\n" \
	"  end\n" \
	"  local target = best and type(best.target) == 'string' and best.target or ''\n" \
	"  if target == '' then return team_policy(team), team, '' end\n" \
	"  local t = string.match(target, '^team:(.+)$')\n" \
	"  if t then return team_policy(t), t, best_id end\n" \
	/* One step at once, repeated the way the default repeats. */ \
	"  local head = string.match(default_policy, '^(r%d+:%d+)|') or 'r0:0'\n" \
	"  local step = target\n" \
	/* A channel cannot acknowledge: the team's primary comes along. */ \
	"  if string.sub(target, 1, 8) == 'channel:' then step = target .. ',primary' end\n" \
	"  return head .. '|0:' .. step, team, best_id\n" \
	"end\n"

struct delegate_route {
	char policy[512];
	char team[48];
	int64_t rule;	/* 0: no rule, the team's policy */
};
/* What wk_route() answers for such an incident, read-only (`/delegate test`). */
int delegate_route(struct store *s, const struct config *cfg, const char *org_id, const char *service,
		   const char *severity, const char *type, const char *team, struct delegate_route *out);

/* Steps 3 and 4 for one escalation step at instant now_ms. */
#define DELEGATE_PEOPLE_MAX 64
struct delegate_person {
	char id[DELEGATE_ID_MAX];
	char target[DELEGATE_TARGET_MAX];	/* the target that reached them */
	int64_t after_s;			/* priority gap offset inside the step */
};
struct delegate_left_out {
	char id[DELEGATE_ID_MAX];
	const char *why;	/* "viewer", "opted out", "no service", "not listed" */
};
struct delegate_step_people {
	struct delegate_person people[DELEGATE_PEOPLE_MAX];
	size_t n;
	struct delegate_left_out left[DELEGATE_PEOPLE_MAX];
	size_t nleft;
	char channels[4][32];	/* channel targets: posted to, not paged */
	size_t nchannels;
	char primary[DELEGATE_ID_MAX];	/* the team's primary, for "1st backup for Alice" */
};
struct escalation_step;
int delegate_step_people(struct store *s, const struct config *cfg, const char *org_id, const char *team,
			 const struct escalation_step *st, int64_t now_ms, struct delegate_step_people *out);

/* Step 3 for one person: 1 eligible, 0 not (*why: "viewer", "opted out",
 * "no service", "not listed", "not a member"), -1. by_name: a target named
 * them (a rotation position, member:<id>), which skips the targeting mode.
 * For rule warnings and `/delegate test`'s "left out" list. */
int delegate_member_eligible(struct store *s, const struct config *cfg, const char *org_id,
			     const struct delegate_settings *st, const char *id, bool by_name, const char **why);

/* The same for ids[0..n) in one round trip per few hundred people: why[i]
 * NULL when eligible. 0 or -1. */
int delegate_members_eligible(struct store *s, const struct config *cfg, const char *org_id,
			      const struct delegate_settings *st, const char *const *ids, size_t n, bool by_name,
			      const char **why);

/* Whether incidents.notify_user_ids (WK_INCIDENT_NOTIFY_USER_IDS) names this
 * org; when it does, ids gets its members there (comma-separated) for
 * `/delegate show`. */
bool delegate_env_override(const struct config *cfg, const char *org_id, char *ids, size_t size);

#endif
