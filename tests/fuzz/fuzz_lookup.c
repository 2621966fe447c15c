/* The provider listings read after a send with an unknown outcome: Slack's
 * conversations.history and Twilio's Messages list, as hostile JSON. The
 * matchers must stay in bounds, never claim a ref that is not there, and hand
 * back a cursor / next path that fits and is a plain path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/slack_api.h"
#include "adapters/twilio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *refs[] = { "r1-0000", "r2-abcd", "" };
	bool found[3] = { false, false, false };
	char cursor[32], next[64];
	json_error_t err;
	json_t *j = json_loadb((const char *)data, size, 0, &err);

	if (!j)
		return 0;
	int rc = slack_history_match(j, "slack:T1", refs, 3, found, cursor, sizeof(cursor));
	if (rc == 1 && (strlen(cursor) >= sizeof(cursor) || !cursor[0]))
		abort();
	rc = twilio_list_match(j, 1796436000000LL, refs, 3, found, next, sizeof(next));
	if (rc == 1 && (strlen(next) >= sizeof(next) || next[0] != '/' || next[1] == '/'))
		abort();
	if (found[2])
		abort();	/* the empty ref matches nothing */
	json_decref(j);
	return 0;
}
