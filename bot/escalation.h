/* escalation.h - escalation policies and the steps that page people for an
 * incident until one of them acknowledges.
 *
 * A policy is ordered steps, each a delay (from the start of the round) and
 * targets; the whole policy repeats up to `repeats` more rounds. An incident
 * keeps the policy it started with: incident.h stores it as text,
 *   "r<repeats>:<round s>|<delay s>:<target>,<target>|..."
 * with targets
 *   primary, backup1, backup2   the team's on-call chain at the step's instant
 *   member:<id>                 one person
 *   team:<id>                   every member of that team, at once
 * The built-in default: primary at once, 1st backup after 5 minutes, 2nd
 * backup after 10 (incidents.step_delays_s), no repeat (incidents.repeats).
 *
 * Each step is the incident's durable timer (kind "inc_step", payload = the
 * escalation epoch it was armed under). escalation_step_fire():
 *   1. reads the incident; a resolved or acknowledged one, or a timer whose
 *      epoch is not the incident's (ack, escalate, reassign moved on), does
 *      nothing;
 *   2. pages the step's people (bot/page.h) under an idempotency key made of
 *      incident, epoch, round, step and person, so a retry after a crash or a
 *      lost lease never pages anyone twice;
 *   3. advances the incident to the next step and arms its timer in one
 *      script that checks the epoch and step again. A step with nobody to page
 *      does not wait out its delay: the next one runs at once.
 * When the last round ends unacknowledged, the timeline says so.
 *
 * Thread: the engine thread (escalation_step_fire) or any worker with its own
 * store (escalation_default_policy). */
#ifndef WK_ESCALATION_H
#define WK_ESCALATION_H

#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"

#define ESCALATION_MAX_STEPS 8
#define ESCALATION_MAX_TARGETS 8

struct escalation_step {
	int64_t delay_s;
	char targets[ESCALATION_MAX_TARGETS][80];
	size_t ntargets;
};

struct escalation_policy {
	int64_t repeats;	/* more rounds after the first */
	int64_t round_s;	/* from one round's start to the next's */
	struct escalation_step steps[ESCALATION_MAX_STEPS];
	size_t nsteps;
};

/* Parse the stored text; 0, or -1 when it is not a policy. */
int escalation_policy_parse(const char *text, struct escalation_policy *out);
/* The stored text of p into out; 0, or -1 when it does not fit. */
int escalation_policy_format(const struct escalation_policy *p, char *out, size_t size);
/* The built-in default from the config. */
void escalation_default_policy(const struct config *cfg, struct escalation_policy *out);
/* For people: "1. primary at once; 2. 1st backup after 5 min; ..." */
void escalation_policy_describe(const struct escalation_policy *p, char *out, size_t size);
/* For people: "primary" -> "whoever is on call", "backup1" -> "the 1st backup",
 * "member:U1" -> "<@U1>", "role:admin" -> "everyone with role admin",
 * "channel:C1" -> "<#C1>", "rotation:ops:backup1" -> "rotation ops: 1st backup"
 * (bot/delegate.h lists the targets). */
void escalation_target_describe(const char *target, char *out, size_t size);

struct engine_ctx;
int escalation_step_fire(struct engine_ctx *ctx);	/* timer kind "inc_step" */

/* The auditor (timer kind "inc_audit", one shared by every instance, id
 * ESCALATION_AUDIT_ID, re-armed every escalation_audit_period_ms()): an open
 * incident whose next step is overdue by more than that period and has no
 * step timer (lost, or never armed) gets it back, same id and epoch, due now;
 * counted in watchkeeper_escalation_rescheduled_total. It never pages itself. */
#define ESCALATION_AUDIT_ID "sweep:incidents"
#define ESCALATION_AUDIT_ORG "system:sweep"
#define ESCALATION_AUDIT_MS 30000
int escalation_audit_fire(struct engine_ctx *ctx);
int64_t escalation_audit_period_ms(void);	/* shorter under WK_TEST_SWEEP_MS */

#endif
