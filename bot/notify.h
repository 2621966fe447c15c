/* notify.h - tell a member something outside the conversation they are in: a
 * direct message on their chat platform, with the reply's buttons (a swap
 * request's Accept / Decline, an approval's Approve / Reject).
 *
 * The platform comes from the member's profile; Slack members get a DM through
 * the courier. Members on the console (it has no inbox) are skipped: they see
 * the same buttons with `/oncall swaps`. Best effort for now: failures are
 * logged and counted; the notification issue moves this onto the durable
 * courier queue with retries and fallbacks.
 *
 * Thread: any worker, with its own store. Returns 0 sent, 1 skipped, -1 failed. */
#ifndef WK_NOTIFY_H
#define WK_NOTIFY_H

#include "bot/config.h"
#include "bot/reply.h"
#include "bot/store.h"

int notify_member(struct store *s, const struct config *cfg, const char *org_id,
		  const char *member_id, const struct reply *r);

#endif
