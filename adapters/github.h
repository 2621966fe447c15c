/* github.h - read an organisation's members from the GitHub REST API.
 *
 * Everything goes through courier_call() (bot/courier.h) with the headers
 * GitHub asks for (Accept: application/vnd.github+json, X-GitHub-Api-Version:
 * 2022-11-28, User-Agent: watchkeeper) and cfg->github_token as Bearer.
 *
 * github_org_members():
 *   1. GET {api}/orgs/{org}/members?per_page=100, then each Link rel="next" -
 *      but only a next URL under the configured API base (scheme, host, port
 *      and path prefix): a Link pointing anywhere else ends the listing, so
 *      the token is never sent to another host. At most 20 pages and 2000
 *      members.
 *   2. GET {api}/users/{login} per member for the public `email` (null, absent
 *      or not a valid address -> ""; a 404 there means the account vanished
 *      meanwhile: kept, with no email). Several lookups run at once
 *      (courier_call_many()).
 * Logins that are not [A-Za-z0-9-]{1,39} are dropped (they end up in Redis
 * keys and chat text), as are duplicates.
 *
 * Result: GITHUB_OK with *out (malloc'd array, caller frees with free()) and
 * *n (may be 0; *out is then NULL). why is "" - or, when the org has more than
 * 2000 members or 20 pages, a sentence saying the list was cut short: a caller
 * syncing memberships must not treat missing logins as "left" then.
 * On any other result *out is NULL, *n is 0 and why holds one sentence a chat
 * user can act on (never the token):
 *   GITHUB_NOT_CONFIGURED  github.token is empty
 *   GITHUB_UNAUTHORIZED    401: the token is wrong or expired
 *   GITHUB_NOT_FOUND       404: no such org, or the token can't see it
 *   GITHUB_RATE_LIMITED    403/429 with X-RateLimit-Remaining: 0 or Retry-After;
 *                          why says when to try again when GitHub said so
 *   GITHUB_FAILED          invalid org name, transport error, other statuses,
 *                          malformed JSON, or the whole call took over 120 s
 * All or nothing: an error on any page or user lookup (other than that 404)
 * fails the whole call, so the caller never syncs half a list.
 *
 * Thread: any worker. Blocks: pages one after another, then the user lookups
 * COURIER_MAX_BATCH at a time; at most 120 s in all (then GITHUB_FAILED), so
 * one sync can't hold a worker, or the daemon's shutdown, much longer.
 * cfg is only read. */
#ifndef WK_GITHUB_H
#define WK_GITHUB_H

#include <stdbool.h>
#include <stddef.h>

#include "bot/config.h"

#define GITHUB_MAX_PAGES 20
#define GITHUB_MAX_MEMBERS 2000

struct github_member {
	char login[40];
	char email[256];	/* public email or "" */
};

enum github_result {
	GITHUB_OK,
	GITHUB_NOT_CONFIGURED,
	GITHUB_UNAUTHORIZED,
	GITHUB_NOT_FOUND,
	GITHUB_RATE_LIMITED,
	GITHUB_FAILED,
};

/* Whether name is a plausible GitHub login or org name: [A-Za-z0-9-]{1,39}. */
bool github_name_valid(const char *name);

enum github_result github_org_members(const struct config *cfg, const char *org,
				      struct github_member **out, size_t *n, char *why,
				      size_t whysize);

#endif
