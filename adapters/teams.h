/* teams.h - Microsoft Teams: the Bot Framework messaging endpoint.
 *
 * POST /teams/messages takes activities from the Bot Connector
 * (protocols/teams.md 2.1). The bearer token is checked before the body is
 * read (teams_auth.h); then:
 *   message             a command typed as "oncall ...", "/oncall ..." or
 *                       after an @mention of the bot (the mention is cut out
 *                       using entities); a first word that names no command
 *                       goes to the main command ("who" is "/oncall who")
 *   message with value  an Adaptive Card Action.Submit: a button action
 *   invoke              adaptiveCard/action (Action.Execute): a button
 *                       action answered with an invoke response carrying the
 *                       new card (or the answer as a message)
 *   conversationUpdate  the bot was added: greet once per conversation
 * Anything else is answered 200 and ignored. Commands and actions run through
 * the same dispatch as Slack's, with org "teams:<tenant>" and the caller's
 * AAD object id as their member id; the answer is posted back into the
 * conversation through the courier (a reply is a separate request in Teams).
 *
 * A single-tenant bot (teams.tenant_id a GUID) serves its home tenant only;
 * activities from another tenant get 403.
 *
 * Thread: the route runs on the loop thread, the rest on workers. */
#ifndef WK_TEAMS_H
#define WK_TEAMS_H

#include "bot/http_server.h"

#define TEAMS_HEADERS { "authorization" }

enum route_result teams_route_messages(struct http_request *req, struct http_response *resp);

/* Main thread, after courier_start() and workers_start(): fetch the signing
 * keys (teams_auth.h) and keep cfg for late answers. 0, or -1. */
int teams_start(const struct config *cfg);

/* A conversation's handle: "tc" and the first 16 hex digits of the SHA-256 of
 * its id (Teams ids run past 100 characters; Slack's fit in 24). Requests
 * carry it as their channel_id, and incident cards and handoff notices name
 * their place by it (outbox_place_channel()). size >= TEAMS_HANDLE_SIZE. */
#define TEAMS_HANDLE_SIZE 19
void teams_place_handle(const char *conversation, char *out, size_t size);
void teams_stop(void);

#endif
