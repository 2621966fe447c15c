/* notify.h - tell a member something outside the conversation they are in: a
 * direct message on their chat platform, with the reply's buttons (a swap
 * request's Accept / Decline, an approval's Approve / Reject).
 *
 * The message is queued on the outbox (outbox.h) for the member's chat
 * channel: retried with backoff, paced, sent once even with several instances.
 * The reply is flattened to one text (headline, then each section and its
 * fields on their own lines); its buttons travel with it. Members on the
 * console get it shown in the console when this instance runs one
 * (outbox_set_preview), and are skipped otherwise: they see the same buttons
 * with `/oncall swaps`. dedupe ("" = none) makes a repeated call queue nothing.
 *
 * Thread: any worker, with its own store. Returns 0 queued (or already),
 * 1 skipped, -1 the store failed. */
#ifndef WK_NOTIFY_H
#define WK_NOTIFY_H

#include "bot/buf.h"
#include "bot/config.h"
#include "bot/reply.h"
#include "bot/store.h"

/* A reply as one message text: headline, then each section and its fields. */
void notify_flatten(const struct reply *r, struct buf *out);

int notify_member(struct store *s, const struct config *cfg, const char *org_id,
		  const char *member_id, const char *kind, const struct reply *r, const char *dedupe);

#endif
