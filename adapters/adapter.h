/* adapter.h - what every chat platform adapter provides, as one const struct
 * of hooks (the way hiredis adapters fill a struct of event-loop hooks).
 *
 * Inbound parsing differs too much between platforms (signed forms, JWT-signed
 * JSON, a terminal) to share one signature, so each adapter exports its own
 * HTTP routes (see bot/routes.c); what they share is turning a neutral reply
 * into their wire format. A NULL hook means "not supported". */
#ifndef WK_ADAPTER_H
#define WK_ADAPTER_H

#include "bot/buf.h"
#include "bot/reply.h"
#include "bot/request.h"

struct adapter_ops {
	const char *name;
	enum platform platform;
	/* Render a reply into out (JSON for Slack, text for the console). -1 when it
	 * doesn't fit the buffer's cap. */
	int (*render)(const struct reply *r, struct buf *out);
	/* Post a late answer where a command's follow-ups go (Slack: the
	 * command's response_url, as an ephemeral message). Queues the post on the
	 * courier and returns at once: callable from any thread but the loop's,
	 * the courier's completion thread included. NULL: the platform has no
	 * such place (the console). */
	void (*post_late)(const char *response_url, const struct reply *r);
};

extern const struct adapter_ops slack_adapter;	/* adapters/slack.c */
extern const struct adapter_ops shell_adapter;	/* adapters/shell.c */
extern const struct adapter_ops teams_adapter;	/* adapters/teams.c */

/* The adapter of a platform (by enum or by platform_name()), NULL when none. */
const struct adapter_ops *adapter_for(enum platform p);
const struct adapter_ops *adapter_named(const char *name);
/* post_late of the platform's adapter when it has one and response_url is
 * set: 0 posted (queued), -1 no way to (then the caller has another). */
int adapter_post_late(enum platform p, const char *response_url, const struct reply *r);

#endif
