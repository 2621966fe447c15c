/* incident.h - incidents: triggered -> acknowledged -> resolved, with a
 * timeline, deduplication of repeated alerts, and the escalation they run.
 *
 * Every change is one Lua script: two people pressing Acknowledge at once give
 * one ack, and the loser learns who won. The script that changes the state
 * also arms, moves or cancels the escalation step timer (TIMERS_LUA) in the
 * same atomic step, and bumps the incident's escalation epoch, so a step timer
 * armed before the change does nothing when it fires (a fencing token; see
 * bot/escalation.h for the steps themselves).
 *
 * Keys (org prefix p = wk:{org}:):
 *   p inc_seq                  counter: incident numbers 1, 2, ... (INC-42)
 *   p inc:<n>                  hash  n summary severity service team type dedup
 *                                    opened_by state created_ms last_seen_ms
 *                                    repeats epoch step round esc_base_ms policy
 *                                    acked_ms acked_by resolved_ms resolved_by
 *                                    assignee stuck_since_ms paging alert_sig paging(off)
 *                                    card_ch card_ts card_ref card_last_ms (the card,
 *                                    bot/incident_card.h) rule (the /delegate rule
 *                                    that routed it)
 *   p inc:<n>:tl               stream  the timeline: ts kind by text
 *   p inc:<n>:pages            set   page ids (bot/page.h) it created
 *   p inc:<n>:people           set   members it paged (SMS "ACK <n>" from them means it)
 *   p incs                     zset  n -> created_ms, every incident
 *   p incs_open                zset  n -> created_ms, not resolved
 *   p inc_dedup:<svc>:<key>    string n, while that incident is open ("storm":
 *                                    the service's alert storm incident)
 *
 * The step timer: id "inc:<org>:<n>", kind "inc_step", payload "<epoch>".
 *
 * Thread: callers pass their own store. Errors: -1 = the store failed or gave
 * no answer (nothing, or everything, was applied: one script). */
#ifndef WK_INCIDENT_H
#define WK_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/store.h"

#define INCIDENT_SUMMARY_MAX 200	/* bytes of a summary people see in lists */
#define INCIDENT_TEXT_MAX 1000		/* a note, a timeline entry */
#define INCIDENT_POLICY_MAX 512
#define INCIDENT_DEDUP_MAX 128
#define INCIDENT_NAME_MAX 48		/* service, team, type */

enum incident_state { INCIDENT_TRIGGERED, INCIDENT_ACKNOWLEDGED, INCIDENT_RESOLVED };

/* Severities in order; the names people type and see. */
enum incident_severity { SEV_CRITICAL, SEV_ERROR, SEV_WARNING, SEV_INFO, SEV_COUNT };
const char *incident_severity_name(enum incident_severity s);
/* Exact name, any case; -1 when it is none. */
int incident_severity_parse(const char *s);

struct incident {
	int64_t n;
	char summary[INCIDENT_SUMMARY_MAX + 1];
	char severity[12];
	char service[INCIDENT_NAME_MAX], team[INCIDENT_NAME_MAX], type[16];
	char dedup[INCIDENT_DEDUP_MAX];
	char opened_by[64];
	enum incident_state state;
	int64_t created_ms, last_seen_ms, repeats;
	int64_t epoch;		/* bumped by every change that stops or redirects escalation */
	int64_t step, round;	/* the next step to run, and which repeat of the policy */
	int64_t esc_base_ms;	/* the instant step delays count from */
	char policy[INCIDENT_POLICY_MAX];	/* the policy it started with (escalation.h) */
	int64_t acked_ms, resolved_ms;
	char acked_by[64], resolved_by[64], assignee[64];
	int64_t stuck_since_ms;	/* its step keeps failing since then (escalation.h), 0 = not */
	bool paging_off;	/* below its service's paging threshold: pages nobody */
	char card_ch[32];	/* the channel its card lives in, "" = none (incident_card.h) */
	char card_ts[32];	/* the card message's ts once posted, "" before */
	char card_ref[96];	/* the last post attempt: "<ref> <notification> <ms>" */
	int64_t rule;		/* the /delegate rule that routed it, 0 = none (delegate.h) */
};

/* What an alert (adapters/alert_webhooks.c) adds to opening an incident. */
struct incident_alert {
	const char *sig;	/* hash of the alert set; a repeat with the same one adds no timeline entry */
	const char *rate_key;	/* counts new incidents of the integration this minute; "" = no limit */
	int64_t max_new;	/* new incidents a minute before alerts join the storm incident */
	const char *storm_summary;	/* "alert storm on api" */
	bool storm;		/* out: the alert joined (or opened) the service's storm incident */
};

struct incident_new {
	const char *summary, *severity, *service, *team, *type;
	const char *dedup;	/* "" = none; else one open incident per (service, dedup) */
	const char *opened_by;	/* a member id, or "alertmanager" for a webhook */
	const char *policy;	/* snapshot of the escalation policy to run */
	int64_t first_step_due_ms;	/* 0: pages nobody (below the service's paging threshold):
					 * no step timer; else escalate, the first step due by
					 * Redis's clock per the policy */
	const char *timeline;	/* the "opened" entry's text */
	const char *channel;	/* where its card goes: the channel it was opened in; NULL or
				 * "" = the service's channel, else the team's announce
				 * channel (alerts); none of them = no card */
	struct incident_alert *alert;	/* NULL for an incident opened by hand */
	/* NULL/"": open whatever. Else the org's audit tip the caller's copy of
	 * what it opens for was read under (a worker's integration cache): when the
	 * tip moved, nothing is done and incident_open() says INCIDENT_STALE. */
	const char *stamp;
};

/* Open an incident, or when dedup names an open one, count a repeat on it
 * (last_seen, repeats; a timeline entry only when repeat_text is not NULL).
 * *n its number, *existing whether it was already open (or the alert joined
 * the storm incident). The first step's timer is armed in the same step.
 * With in->alert: a repeat adds a timeline entry only when the alert set
 * changed, and past alert->max_new new incidents a minute (rate_key) the
 * alert joins, or opens, the service's one storm incident (dedup "storm",
 * summary storm_summary), which pages once. 0, INCIDENT_STALE (only with
 * in->stamp), or -1. */
#define INCIDENT_STALE 1
int incident_open(struct store *s, const char *org_id, const struct incident_new *in, int64_t now_ms,
		  const char *repeat_text, int64_t *n, bool *existing);

/* 0 found, 1 no such incident, -1. */
int incident_get(struct store *s, const char *org_id, int64_t n, struct incident *out);

enum incident_action { INC_ACK, INC_RESOLVE, INC_ESCALATE, INC_REASSIGN, INC_NOTE };

enum incident_outcome {
	INC_DONE,		/* applied */
	INC_ALREADY_ACKED,	/* someone acknowledged first: out.by says who */
	INC_IS_RESOLVED,	/* nothing to do any more */
	INC_NOT_TRIGGERED,	/* escalate on an acknowledged incident */
	INC_LAST_STEP,		/* escalate with no step left: the last one ran again */
	INC_MISSING		/* no such incident */
};

struct incident_change {
	enum incident_action action;
	const char *by;		/* member id */
	const char *via;	/* "chat", "sms", "button", "alertmanager" ... */
	const char *text;	/* note text, resolve note, or the reassignee for INC_REASSIGN */
	/* NULL/"": the incident numbered n. Else "service:dedup key": the open
	 * incident of that key (none: INC_MISSING), and with stamp only while the
	 * org's audit tip is still stamp (see incident_new.stamp). */
	const char *dedup;
	const char *stamp;
};

struct incident_result {
	enum incident_outcome outcome;
	char by[64];		/* INC_ALREADY_ACKED: who did */
	int64_t epoch;		/* the incident's epoch after the change */
	int64_t step;		/* INC_ESCALATE: the step that now runs */
	int64_t n;		/* the incident (the one found, by dedup key) */
};

/* One atomic change. Ack, resolve, escalate and reassign bump the epoch and
 * move the step timer: ack and resolve cancel it, escalate and reassign make
 * it due at now (escalate with the next step; reassign pages the new assignee
 * from step 0 of a one-person policy). Ack and resolve also acknowledge the
 * pages the incident created, so their queued messages are not sent.
 * 0 (out->outcome says what happened), INCIDENT_STALE (only with c->stamp:
 * nothing done), or -1. */
int incident_change(struct store *s, const char *org_id, int64_t n, const struct incident_change *c,
		    int64_t now_ms, struct incident_result *out);

/* Append a timeline entry (escalation steps, pages, deliveries). 0 or -1. */
int incident_timeline_add(struct store *s, const char *org_id, int64_t n, const char *kind, const char *by,
			  const char *text, int64_t now_ms);

struct incident_event {
	int64_t ts;
	char kind[16], by[64];
	char text[INCIDENT_TEXT_MAX + 1];
};
/* Up to max timeline entries, oldest first; *count set. Caller frees *out. */
int incident_timeline(struct store *s, const char *org_id, int64_t n, size_t max, struct incident_event **out,
		      size_t *count);

enum incident_filter { INC_LIST_OPEN, INC_LIST_ALL };
/* Newest first, at most max. Caller frees *out. */
int incident_list(struct store *s, const char *org_id, enum incident_filter f, size_t max, struct incident **out,
		  size_t *count);

/* The policy's step delays in Lua: "r<repeats>:<round s>|<delay s>:<targets>|..."
 * (escalation.h), and a timeline entry:
 * Lua for the scripts that change incidents. */
#define INCIDENT_LUA \
	"local function wk_policy(policy)\n" \
	"  local delays, repeats, first = {}, 0, true\n" \
	"  for part in string.gmatch(policy, '[^|]+') do\n" \
	"    if first then repeats = tonumber(string.match(part, '^r(%d+)')) or 0; first = false\n" \
	"    else delays[#delays + 1] = tonumber(string.match(part, '^(%d+):')) or 0 end\n" \
	"  end\n" \
	"  return delays, repeats\n" \
	"end\n" \
	INCIDENT_CARD_LUA \
	"local function wk_tl(k, now, kind, by, text)\n" \
	"  redis.call('XADD', k .. ':tl', 'MAXLEN', '~', 1000, '*', 'ts', now, 'kind', kind, 'by', by,\n" \
	"             'text', text)\n" \
	"  wk_card(k)\n" \
	"end\n"

/* Every timeline entry is a change the channel card must show: wk_card(k)
 * arms the card timer "inc_card:<org>:<n>" (kind "inc_card", payload n) unless
 * one is already waiting (NX: a burst is one update), due
 * INCIDENT_CARD_COALESCE_MS from now but not before INCIDENT_CARD_GAP_MS after
 * the last one fired. Needs TIMERS_LUA before it. Nothing without card_ch. */
#define INCIDENT_CARD_COALESCE_MS "300"
#define INCIDENT_CARD_GAP_MS "1000"
#define INCIDENT_CARD_LUA \
	"local function wk_card(k)\n" \
	"  local v = redis.call('HMGET', k, 'card_ch', 'card_last_ms')\n" \
	"  if not v[1] or v[1] == '' then return end\n" \
	"  local org, n = string.match(k, '^wk:{(.+)}:inc:(%d+)$')\n" \
	"  if not org then return end\n" \
	"  local id = 'inc_card:' .. org .. ':' .. n\n" \
	"  if redis.call('EXISTS', 'wk:{timers}:t:' .. id) == 1 then return end\n" \
	"  local due = math.max(wk_now() + " INCIDENT_CARD_COALESCE_MS ", (tonumber(v[2]) or 0) + " \
	INCIDENT_CARD_GAP_MS ")\n" \
	"  wk_timer_schedule(id, 'inc_card', org, n, due)\n" \
	"end\n"

/* "INC-42", "42", "inc-42" -> 42; -1 when it is not an incident number. */
int64_t incident_parse_id(const char *s);

/* The step timer's id for an incident, for the engine and tests. */
void incident_timer_id(const char *org_id, int64_t n, char *out, size_t size);

/* Remember a page the incident created (acked with it) and whom it paged.
 * 0 or -1. */
int incident_add_page(struct store *s, const char *org_id, int64_t n, const char *page_id, const char *member);
/* Was member paged for incident n? 1 yes, 0 no (or no such incident), -1. */
int incident_paged(struct store *s, const char *org_id, int64_t n, const char *member);

const char *incident_state_name(enum incident_state st);

#endif
