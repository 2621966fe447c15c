/* teams_api_int.h - INTERNAL to the Teams Bot Connector client; include it
 * only from adapters/teams_api.c, adapters/teams_api_async.c and
 * adapters/teams_token.c. Other modules use adapters/teams_api.h.
 *
 * What the three files share:
 *   teams_api.c        the blocking calls, and the helpers below (ids, URLs,
 *                      percent-encoding, error codes, judging an answer,
 *                      logging the outcome);
 *   teams_token.c      the process-wide token cache and its refresh;
 *   teams_api_async.c  the asynchronous calls (struct pending).
 * The token code hands a queued pending back to the async code once a refresh
 * ended (teams_pending_dispatch, teams_pending_fail). */
#ifndef WK_TEAMS_API_INT_H
#define WK_TEAMS_API_INT_H

#include "adapters/teams_api.h"
#include "bot/buf.h"
#include "bot/courier.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEAMS_TIMEOUT_MS 10000
#define TEAMS_WHY_SIZE 256

enum op { OP_SEND, OP_UPDATE, OP_CREATE, OP_MEMBER };

/* An asynchronous send, from teams_send_async() until done ran. */
struct pending {
	const struct config *cfg;
	char *url;
	char *body;		/* owned */
	size_t len;
	teams_done_fn done;	/* NULL: fire and forget */
	teams_member_fn member_done;	/* instead, for a member lookup (GET, no body) */
	void *arg;
	uint64_t gen;		/* the token generation it went out with */
	bool retried;		/* a 401 already cost it one token */
	struct pending *next;
};

/* ---- helpers (teams_api.c) ---- */

/* printf into why (nothing when why is NULL or whysize 0). */
void teams_set_why(char *why, size_t whysize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* s has a control byte (< 0x20 or 0x7f). */
bool teams_has_ctl(const char *s);
/* A conversation, activity or member id we accept: 1..TEAMS_ID_MAX bytes, no control bytes. */
bool teams_id_ok(const char *id);
/* The sanitised error code of an answer's body; blocked: the user blocked the bot. */
void teams_error_code(const char *body, size_t len, char *out, size_t size, bool *blocked);
/* <service_url>/v3/conversations[/<conv>[/<kind>[/<id>]]], ids percent-encoded. */
void teams_build_url(struct buf *u, const char *service_url, const char *conv, const char *kind, const char *id);
/* Credentials configured and service_url usable: 0, else 1 with why. */
int teams_check_config_and_url(const struct config *cfg, const char *service_url, char *why, size_t whysize);
/* The result of a Connector answer (or a failed transfer) for op. */
int teams_judge_answer(enum op op, const struct courier_response *r, long *retry_after, char *code,
		       size_t codesize, char *why, size_t whysize);
/* Counts the outcome of op in the metrics and logs a failure. */
void teams_log_outcome(enum op op, int rc, long status, const char *code, const char *operation_id,
		       const char *why);
/* A string field of an answer into out (see teams_api.c). */
bool teams_copy_field(json_t *obj, const char *key, char *out, size_t size);
/* A member lookup's 2xx answer into out (struct teams_member *): 0, or a result with w. */
int teams_member_answer(json_t *root, void *out, char *w, size_t wsize);

/* ---- the token (teams_token.c) ---- */

/* Blocking: a valid token into tok (TEAMS_TOKEN_MAX + 1 bytes) and its
 * generation, starting or waiting for the refresh. 0, or the refresh's
 * failure (1, -1) with why. */
int teams_token_get(const struct config *cfg, char *tok, uint64_t *gen, char *why, size_t whysize);
/* Async: dispatch p with the cached token, or queue it behind the refresh
 * (starting it when none runs). p belongs to the queue once queued. */
void teams_token_async(struct pending *p);
/* A 401 came back for the token of generation gen: forget it, unless a newer
 * one replaced it already. */
void teams_token_drop(uint64_t gen);

/* ---- asynchronous calls (teams_api_async.c) ---- */

/* Send p with tok (any thread, no token lock held); p is the courier's from here. */
void teams_pending_dispatch(struct pending *p, const char *tok, uint64_t gen);
/* Finish p with a failure that happened before its send could go out. */
void teams_pending_fail(struct pending *p, int rc, const char *why);

/* ConversationParameters for a 1:1 chat with user_id (teams.md 2.4), with
 * activity as its first message when not NULL (a reference is taken); NULL
 * when an id is unusable or teams.app_id is unset. Caller json_decref()s. */
json_t *teams_conversation_params(const struct config *cfg, const char *tenant_id, const char *user_id,
				  json_t *activity);

#endif
