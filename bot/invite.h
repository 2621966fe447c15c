/* invite.h - the three ways into an org: a shareable code, an email invite,
 * and GitHub org sync.
 *
 * A code is 160 random bits in lower-case base32 (32 characters). Only its
 * SHA-256 is stored (wk:{org}:invite:<hash>), so a Redis dump can't be used to
 * join; its short id (the first 10 hex digits of the hash) names it in lists,
 * audit entries and `/invite revoke`. Wrong codes count against the user who
 * typed them: after INVITE_MAX_FAILURES in INVITE_FAILURE_WINDOW_S they are
 * refused until the window ends.
 *
 * Email and GitHub invites create placeholder members (org.h) that a chat user
 * claims: by code, automatically when their chat profile email matches, or when
 * an admin maps them (`/invite map`).
 *
 * Thread: callers pass their own store. -1 = store failure, nothing written.
 * Every change is one atomic script with its audit entry. */
#ifndef WK_INVITE_H
#define WK_INVITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/org.h"

#define INVITE_CODE_LEN 32
#define INVITE_ID_LEN 10
#define INVITE_MAX_FAILURES 5
#define INVITE_FAILURE_WINDOW_S 900

/* A fresh code (code must hold INVITE_CODE_LEN + 1). -1 if the RNG fails. */
int invite_code_new(char *code);
/* Accept what people paste: the bare code, any case, or the join URL. -1 when
 * it can't be a code of ours. code must hold INVITE_CODE_LEN + 1. */
int invite_code_normalize(const char *typed, char *code);
void invite_code_hash(const char *code, char hash_hex[65]);

struct invite_new {
	enum role role;
	int64_t expires_ms;	/* absolute; 0 = never */
	int64_t max_uses;	/* 0 = unlimited */
};

/* Shareable link. On success code and id are filled. */
int invite_create_link(struct store *s, const char *org_id, const char *actor,
		       const char *platform, const struct invite_new *spec, int64_t now_ms,
		       char *code, char *id);

/* Email invite: one-use code plus a placeholder member with that email. Returns
 * 0 created, 1 that email already has a pending invite (placeholder gets its id). */
int invite_create_email(struct store *s, const char *org_id, const char *actor,
			const char *platform, const char *email, const struct invite_new *spec,
			int64_t now_ms, char *code, char *id, char *placeholder, size_t psize);

enum invite_join {
	JOIN_OK,
	JOIN_CLAIM,		/* an email invite: claim placeholder (member_claim) */
	JOIN_WRONG,
	JOIN_EXPIRED,
	JOIN_USED_UP,
	JOIN_REVOKED,
	JOIN_RATE_LIMITED,
	JOIN_ALREADY_MEMBER,
};

struct invite_join_result {
	enum invite_join outcome;
	enum role role;			/* granted, or the existing role */
	char placeholder[64];		/* JOIN_CLAIM */
	int64_t retry_after_s;		/* JOIN_RATE_LIMITED */
};

int invite_join(struct store *s, const char *org_id, const char *user_id, const char *platform,
		const char *code, int64_t now_ms, struct invite_join_result *out);

struct invite_info {
	char id[INVITE_ID_LEN + 1];
	char kind[8];		/* link | email */
	enum role role;
	int64_t created_ms, expires_ms, max_uses, uses;
	bool revoked;
	char created_by[64];
	char email[256];
};

/* The 50 newest invites. Caller frees *out. */
int invite_list(struct store *s, const char *org_id, struct invite_info **out, size_t *n);

/* Revoke by id or by code. 0 revoked, 1 no such invite, 2 already revoked. */
int invite_revoke(struct store *s, const char *org_id, const char *actor, const char *platform,
		  const char *id_or_code, int64_t now_ms);

struct github_sync_counts {
	long added, returned, left, total;
};
/* Reconcile the org's GitHub placeholders with a fresh member list: new logins
 * become placeholders with `role`, known ones who reappear are unmarked, and,
 * when the list is complete (complete != 0), those missing from it are marked
 * left_github. logins/emails have n entries (emails[i] may be ""). */
int invite_github_sync(struct store *s, const char *org_id, const char *actor,
		       const char *platform, enum role role, const char *const *logins,
		       const char *const *emails, size_t n, int complete, int64_t now_ms,
		       struct github_sync_counts *out);

/* Link a GitHub placeholder to a chat user who is already a member: the member
 * gets the login, the placeholder goes. 0 done, 1 no such placeholder. */
int invite_github_link(struct store *s, const char *org_id, const char *actor,
		       const char *platform, const char *user_id, const char *login,
		       int64_t now_ms);

#endif
