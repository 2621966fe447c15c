/* org_link.h - one org on two platforms: a Microsoft Teams tenant linked to
 * an org that already runs on Slack, and one member per person across both.
 *
 *   mint     an owner of the org that stays asks for a one-time code
 *            (`/oncall org link`): wk:{links}:code:<SHA-256 of the code> holds
 *            "<org>\n<owner>" for LINK_CODE_TTL_S.
 *   redeem   in Teams, in a tenant where nobody did anything yet (its org holds
 *            its creator alone: no audit entry, no incident, no other member),
 *            that creator types `oncall org link CODE`. One script consumes the
 *            code, leaves in the tenant's org hash nothing but linked_to, drops
 *            what first contact created, records the tenant on the org it joins
 *            (teams_tenant), and makes the redeemer an alias of the owner who
 *            minted the code (holding the code, they are that owner). Two orgs
 *            with data are never merged: the script refuses then.
 *   aliases  wk:{org}:aliases maps a Teams user (AAD object id) to the member
 *            they are; org_touch resolves it (org.h), so commands, rotations and
 *            pages see one member. A Teams user becomes an alias by email (the
 *            Bot Connector's member lookup against members' emails, once, on
 *            their first command) or by an admin (`/oncall invite map`).
 *
 * Every change is audited in the org that stays. Thread: callers pass their own
 * store. Errors: -1 = the store failed, nothing written. */
#ifndef WK_ORG_LINK_H
#define WK_ORG_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "bot/invite.h"
#include "bot/store.h"

#define LINK_CODE_TTL_S 3600

/* A fresh code for org_id (actor must be an owner: checked inside) into code
 * (INVITE_CODE_LEN + 1). 0, 1 the actor is not an owner, 2 the org is itself
 * a linked tenant or has a tenant linked already, -1. */
int org_link_mint(struct store *s, const char *org_id, const char *actor, const char *platform, int64_t now_ms,
		  char *code);

enum org_link_result {
	LINK_DONE = 0,
	LINK_BAD_CODE,		/* unknown, used or expired */
	LINK_NOT_EMPTY,		/* the tenant's org has data of its own */
	LINK_SAME,		/* the code is for this very org, or an org on the same platform */
	LINK_TAKEN,		/* the org of the code has a tenant linked already */
};
/* Link the Teams org org_id (its creator, actor, redeeming) to the org of code;
 * that org's id into target. The result, or -1. */
int org_link_redeem(struct store *s, const char *org_id, const char *actor, const char *code, int64_t now_ms,
		    char *target, size_t tsize);

/* The member of org_id whose email is email (case-insensitive), if any and not
 * aliased to someone else yet, becomes what user stands for: its id into
 * member. 0 matched, 1 no such member, -1. */
int org_alias_by_email(struct store *s, const char *org_id, const char *user, const char *email,
		       int64_t now_ms, char *member, size_t msize);

/* An admin's mapping: user (a Teams user's member id) stands for member from
 * now on. 0 done, 1 member is not a member, 2 user is a member with data of
 * its own (remove them first), 3 actor not an admin, -1. */
int org_alias_set(struct store *s, const char *org_id, const char *actor, const char *platform,
		  const char *user, const char *member, int64_t now_ms);

#endif
