/* teams_api.h - the bot's outbound calls to the Microsoft Bot Connector
 * (protocols/teams.md 2.3, 2.4): send, reply, update, create a 1:1
 * conversation, get a member; blocking for the outbox senders, asynchronous
 * sends for workers.
 *
 * Every request goes through the courier (bot/courier.h) with
 * "Authorization: Bearer <token>" and "Content-Type: application/json" to
 * <serviceUrl>/v3/conversations/... . The serviceUrl comes from the caller and
 * must be one taken from an authenticated inbound activity (or the documented
 * default): the bot's token is sent to it. Only http:// and https:// are
 * accepted; trailing slashes are dropped, so "https://x/" and "https://x" give
 * the same URL; conversation, activity and member ids are percent-encoded as
 * one path segment each (everything but A-Z a-z 0-9 - . _ ~).
 *
 * The token (client-credentials flow, form POST to cfg->teams_token_url with
 * teams.app_id / teams.app_password, scope https://api.botframework.com/.default)
 * is cached in this process only, in memory, never in Redis: one cache per
 * process, under a mutex, valid until expires_in - 300 s (half of expires_in
 * when that is 600 s or less). One refresh runs at a time: blocking callers
 * wait for it, asynchronous sends queue behind it. A 401 from the Connector
 * drops the token that was used and the call is made once more with a fresh
 * one. The token and the secret are never logged and never put in a why.
 * The refresh itself is always an asynchronous courier call; one started from
 * a thread that has a courier guard (an outbox sender) carries that guard,
 * so a sender whose lease lapsed just then fails that refresh (its waiters
 * see -1, retry later).
 *
 * The Connector's error body {"error":{"code","message"}} is read for its code
 * only, kept to [A-Za-z0-9_.] (it may be absent or hostile). The courier does
 * not expose response headers, so X-Correlating-OperationId is not logged;
 * failures log the status and that code.
 *
 * Results (blocking calls; the async done gets the same numbers):
 *   0   done.
 *   1   permanent, retrying will not help: no teams.app_id configured, a
 *       serviceUrl that is not http(s), an empty or over-long id, the token
 *       endpoint refused our credentials (400/401: why names teams.app_id /
 *       teams.app_password), 400, 403 (MessageWritesBlocked or
 *       ConversationBlockedByUser: why says "the user blocked or uninstalled
 *       the bot"), 404 (ConversationNotFound ...), other 4xx, a second 401,
 *       a request the courier refuses to send.
 *  -1   not done, try again later: transport failure before the request
 *       left, 408, 412, 429 (*retry_after gets Retry-After seconds, else -1),
 *       5xx on a call that is safe to repeat, a malformed answer where that
 *       matters, the token could not be fetched (transport, 429, 5xx, a bad
 *       answer).
 *   2   unknown outcome, sends only: the POST went out but no answer came
 *       (courier maybe_sent) or the answer was a 5xx: Teams may have posted
 *       it. The other calls are safe to repeat, so there it is -1.
 *   4   teams_update only: 404, the activity is gone (deleted).
 * why (may be NULL when whysize is 0) gets one sentence for logs or chat.
 * retry_after may be NULL.
 *
 * Thread: the blocking calls block up to 10 s per request, plus up to 30 s
 * waiting for a token refresh: only threads that may wait (outbox senders), never
 * a worker, the libwebsockets loop or the courier's threads. cfg is only read
 * and must outlive every call, asynchronous ones included (it is the daemon's). */
#ifndef WK_TEAMS_API_H
#define WK_TEAMS_API_H

#include <stddef.h>

#include "bot/config.h"

#define TEAMS_ID_MAX 512		/* longest conversation / activity / member id accepted */
#define TEAMS_TOKEN_MAX 4096		/* longest access token accepted (the courier's bearer cap) */

/* POST <serviceUrl>/v3/conversations/<conversation_id>/activities, or with
 * reply_to_id (not NULL, not "") .../activities/<reply_to_id>: the reply
 * endpoint (the activity should carry "replyToId" too; json is sent as is).
 * On 0 the new activity's id goes into activity_id (NULL: not wanted); it is
 * "" when Teams answered without one (text and an attachment in one activity)
 * or with one that does not fit or has control bytes. */
int teams_send(const struct config *cfg, const char *service_url, const char *conversation_id,
	       const char *reply_to_id, const char *activity_json, size_t len, char *activity_id,
	       size_t idsize, long *retry_after, char *why, size_t whysize);

/* PUT .../activities/<activity_id> with the whole new activity (a card after
 * an ack). Repeating it is harmless: 2 never, an unknown outcome is -1; 4 when
 * the activity is gone (404).
 * Note: bot/courier.c sends only GET and POST today; until it learns PUT the
 * courier refuses the request and this returns 1 (why says so). */
int teams_update(const struct config *cfg, const char *service_url, const char *conversation_id,
		 const char *activity_id, const char *activity_json, size_t len, long *retry_after, char *why,
		 size_t whysize);

/* POST <serviceUrl>/v3/conversations with ConversationParameters
 * {"bot":{"id":"28:<app id>"},"members":[{"id":user_id}],"isGroup":false,
 *  "tenantId":tenant_id,"channelData":{"tenant":{"id":tenant_id}}}
 * for a 1:1 chat with user_id ("29:..."): the conversation id into
 * conversation_id. Teams answers the existing chat when there is one, so this
 * is safe to repeat (2 never). 0 needs an id in the answer (else -1). */
int teams_create_conversation(const struct config *cfg, const char *service_url, const char *tenant_id,
			      const char *user_id, char *conversation_id, size_t convsize, long *retry_after,
			      char *why, size_t whysize);

/* GET .../v3/conversations/<conversation_id>/members/<member_id>: the
 * ChannelAccount. Every field is copied bounded; a value that does not fit its
 * field or has control bytes fails the call (1: the answer would be the same
 * next time); absent fields are "". id is required (else -1). */
struct teams_member {
	char id[160];
	char name[256];
	char aad_object_id[64];
	char email[256];
	char user_principal_name[256];
	char tenant_id[64];
};
int teams_get_member(const struct config *cfg, const char *service_url, const char *conversation_id,
		     const char *member_id, struct teams_member *out, long *retry_after, char *why,
		     size_t whysize);

/* The outcome of an asynchronous send: result as above (0, 1, -1, 2),
 * activity_id "" unless result is 0 and Teams gave one, retry_after from a
 * 429 else -1, why "" on success. Strings are valid during the call only. */
typedef void (*teams_done_fn)(void *arg, int result, const char *activity_id, long retry_after,
			      const char *why);

/* teams_send() without waiting, for worker threads (a command's reply that is
 * posted back to Teams as a separate request). activity_json (malloc'd) is
 * owned from here on, in every case. When no valid token is cached, it is
 * fetched asynchronously first; sends that arrive meanwhile queue behind that
 * one fetch and go out when it ends. A 401 drops the token and sends once
 * more with a fresh one.
 *
 * done runs exactly once: on the courier's completion thread, or on the
 * calling thread before this returns when the send is refused at once (bad
 * arguments, no app id, the courier not running; with the courier stopped, on
 * whichever thread's refused call ended the token fetch). It must not block and must
 * not touch Redis: hand the outcome to a worker (workers_submit()) and return.
 *
 * done NULL: fire and forget. Once the token is known the activity goes out
 * through courier_post_json(), whose policy applies: up to 4 attempts, 0.5 s,
 * 1 s, 2 s apart, on 429, any 5xx and transport errors (no jitter, Retry-After
 * not read; a 5xx may have been posted, so a rare duplicate is accepted in
 * exchange for delivery), every failure logged by the courier (target
 * teams.send). No 401 retry on this path. Refusals and token failures are
 * logged here. This is the simplest correct path: the courier already owns
 * timed retries and no timer thread is available to this module.
 * Thread: any thread except the libwebsockets loop's. */
void teams_send_async(const struct config *cfg, const char *service_url, const char *conversation_id,
		      const char *reply_to_id, char *activity_json, size_t len, teams_done_fn done, void *arg);

/* A 1:1 chat with user_id ("29:...") opened and activity_json posted in it,
 * in one request: POST {serviceUrl}/v3/conversations with the
 * ConversationParameters of teams_create_conversation() and the activity
 * (Teams answers the existing chat when there is one). Without waiting, for
 * workers: done gets the result as teams_send_async()'s, with the chat's
 * conversation id where a send's activity id would be. activity_json is only
 * read. Thread: any but the loop's. */
void teams_open_chat_async(const struct config *cfg, const char *service_url, const char *tenant_id,
			   const char *user_id, const char *activity_json, size_t len, teams_done_fn done, void *arg);

/* teams_get_member() without waiting, for workers (claiming an email invite
 * needs the person's email): done(arg, result, member, why) runs exactly once
 * as teams_send_async()'s does (result 0 with member filled, else 1 / -1 and
 * why; member is zeroed then), on the courier's completion thread or on the
 * calling thread when refused at once. Thread: any but the loop's. */
typedef void (*teams_member_fn)(void *arg, int result, const struct teams_member *member, const char *why);
void teams_get_member_async(const struct config *cfg, const char *service_url, const char *conversation_id,
			    const char *member_id, teams_member_fn done, void *arg);

/* Drop the cached token (after rotating teams.app_password; tests). A refresh
 * in flight still completes and caches its answer. */
void teams_token_forget(void);

#endif
