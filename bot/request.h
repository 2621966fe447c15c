/* request.h - the one platform-neutral request every adapter produces.
 *
 * Adapters (Slack, Teams, console) fill it from their wire format after
 * verifying and bounding it; commands read it and never see a platform's JSON
 * or form. All strings are NUL-terminated and owned by the request
 * (request_free). Fixed-size fields are sized for the platform's id formats;
 * an adapter refuses input that doesn't fit rather than truncating it. */
#ifndef WK_REQUEST_H
#define WK_REQUEST_H

#include <stdbool.h>

enum platform { PLATFORM_SLACK, PLATFORM_TEAMS, PLATFORM_CONSOLE };

struct request {
	enum platform platform;
	char org_external[64];	/* Slack team_id, Teams tenant id, console org name */
	char user_id[64];	/* the platform's user id */
	char user_name[64];	/* display hint only; never used for identity */
	char channel_id[64];
	char command[32];	/* "oncall", without the slash */
	char *text;		/* argument text after the command; never NULL */
	char response_url[512];	/* where late replies go; may be empty */
	/* Button clicks: action_id non-empty means this is an action, not a command. */
	char action_id[64];
	char action_value[256];
	/* Replay protection: an id the platform gives exactly one delivery (Slack:
	 * the hex of its request signature) and the unix time after which the
	 * platform's own check refuses the request anyway. Empty: no protection
	 * needed (the console). dispatch runs a request with a given replay_id once
	 * per org; a second delivery is answered and does nothing.
	 * replay_own_key: replay_until is not the delivery's own (a signed request's
	 * timestamp + 300 s is; Socket Mode, Events and Teams count from when it
	 * arrived), so a redelivery minutes later names another time: the id is
	 * then kept under a key of its own, not in the set of its window's minute. */
	char replay_id[80];
	long long replay_until;
	bool replay_own_key;
};

const char *platform_name(enum platform p);
void request_init(struct request *r, enum platform p);
void request_free(struct request *r);

#endif
