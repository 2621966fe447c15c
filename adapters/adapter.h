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
};

extern const struct adapter_ops slack_adapter;	/* adapters/slack.c */
extern const struct adapter_ops shell_adapter;	/* adapters/shell.c */

#endif
