/* handoff.h - handoff notifications and daily on-call reminders, as timers.
 *
 * Handoff: when a team's primary changes (a rotation shift ends, an override
 * or swap starts or ends), the incoming primary gets a Slack DM
 *   "You are on call from <start> to <end> (<team>)"
 * and the backups at that instant get
 *   "You are 1st backup for <@primary> until <end> (<team>)"
 *   "You are 2nd backup for <@primary> until <end> (<team>)".
 * Times are shown in each recipient's own zone (their profile's tz), else the
 * rotation's zone. Handoff DMs go regardless of the member's incident
 * notification switch (that one is about incidents).
 *
 * A team has at most one handoff timer, id "handoff:<org>:<team>", kind
 * "handoff", payload "<team> <boundary unix s>", due at the boundary. Nobody
 * scans schedules: handoff_reschedule() arms the timer for the next boundary,
 * and is called (1) by whoever changes a team's schedule (rotation edits,
 * overrides, swaps: the callers are in the rotation code) and (2) by
 * handoff_fire() after each handoff, for the one after it.
 * A "boundary" is the start of a schedule segment whose member is not empty
 * and differs from the member of the segment just before it: someone starts
 * being on call. (A gap with nobody on call is not announced; whoever takes
 * over after it is.)
 *
 * Reminder: every day at the team's local "HH:MM" (default "08:00"; "off"
 * disables), the current primary gets "Reminder: you are on call until <end>
 * (<team>)". Settings live in the hash wk:{org}:team_settings:<team>, fields
 *   reminder   "HH:MM" or "off" (absent = "08:00")
 *   tz         IANA zone (absent = the zone of the team's first rotation by
 *              priority, else config rotation.timezone)
 * Timer id "reminder:<org>:<team>", kind "reminder", payload "<team>", due at
 * the next local HH:MM (DST-correct: tz_from_local()), re-armed for the next
 * day each time it fires.
 *
 * Delivery: a chat DM queued on the outbox through notify_member(), deduplicated
 * per timer run and recipient (engine.h); placeholders are logged and skipped.
 *
 * Time: these functions use engine_now_ms() (bot/engine.h) where they need now.
 * Thread: any thread with its own store. Errors: -1 = store failure. */
#ifndef WK_HANDOFF_H
#define WK_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/engine.h"
#include "bot/store.h"

#define HANDOFF_HORIZON_S (90 * 86400LL)	/* how far ahead a boundary is searched */
#define HANDOFF_DEFAULT_REMINDER "08:00"

/* Arm team_id's handoff timer at the next boundary after now_s (unix seconds)
 * within HANDOFF_HORIZON_S, or cancel it when there is none. Also creates the
 * team's daily reminder timer when the team has a rotation, reminders are not
 * "off" and no reminder timer exists yet (so the default reminder starts with
 * the first rotation). Call after every change to the team's rotations,
 * overrides or swaps; cheap enough to call when unsure (one schedule load).
 * 0 done, -1 store failure (or the ids don't fit). */
int handoff_reschedule(struct store *s, const struct config *cfg, const char *org_id,
		       const char *team_id, int64_t now_s);

/* Engine handlers for kinds "handoff" and "reminder" (see engine.h). */
int handoff_fire(struct engine_ctx *ctx);
int reminder_fire(struct engine_ctx *ctx);

/* The sweep (kind "handoff_sweep", one timer for all instances, id
 * HANDOFF_SWEEP_ID): every HANDOFF_SWEEP_MS it re-arms the handoff and reminder
 * timers of every team of every org (handoff_reschedule(), a no-op for timers
 * already right). A timer dropped after too many failed runs, or never armed
 * because Redis failed right after a change, comes back within the hour. */
#define HANDOFF_SWEEP_ID "sweep:handoffs"
#define HANDOFF_SWEEP_ORG "system:sweep"
#define HANDOFF_SWEEP_FIRST_MS (5 * 60 * 1000LL)
#define HANDOFF_SWEEP_MS (60 * 60 * 1000LL)
int handoff_sweep_fire(struct engine_ctx *ctx);

/* Set the team's reminder: value "HH:MM" (00:00..23:59, local) or "off";
 * tz an IANA zone, or NULL to keep the current one (default: see above).
 * Writes the settings (each changed field with its audit entry, team.reminder
 * and team.reminder_tz, by actor on platform), then (re)schedules or cancels
 * the reminder timer.
 * 0 done; 1 refused, with a sentence in why (bad time, unknown zone, no such
 * team); -1 store failure (why says so). */
int handoff_set_reminder(struct store *s, const struct config *cfg, const char *org_id,
			 const char *team_id, const char *value, const char *tz, const char *actor,
			 const char *platform, char *why, size_t whysize);

/* Announce each handoff of the team ("On call now for ...: <@U> until ...;
 * 1st backup ...") in a Slack channel (C.. or G.. id; the app must be a member),
 * through the outbox; channel "" turns it off. Audited. 0, or -1 on a bad
 * channel id or store failure. The setting is field `announce` of the team's
 * settings hash. */
bool handoff_channel_valid(const char *id);
/* A channel people typed: `here` (the channel here, when that is one) or a
 * Slack channel link <#C123|name>, into out; "" when it is neither. */
void handoff_channel_parse(const char *arg, const char *here, char *out, size_t size);
int handoff_set_announce(struct store *s, const char *org_id, const char *team_id, const char *channel,
			 const char *actor, const char *platform, int64_t now_ms);

/* The team's effective reminder settings, for display: value ("HH:MM" or
 * "off"), zone name, and the next due instant in ms (0 when none is armed).
 * 0, or -1 store failure. */
int handoff_get_reminder(struct store *s, const struct config *cfg, const char *org_id,
			 const char *team_id, char *value, size_t vsize, char *tz, size_t tzsize,
			 int64_t *next_ms);

#endif
