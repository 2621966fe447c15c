/* chat_text.h - what a person typed to the bot in a chat message, read as a
 * command: the platform-neutral half of a Teams message or a Slack @mention.
 *
 * Each platform first cuts its own markup out (adapters/teams_text.h for
 * Teams, adapters/slack_event.h for Slack); what is left is a line such as
 * "oncall schedule 3", "/incident ack 12" or "who is on call?". This turns it
 * into a command name and the text after it, the way the slash command would
 * have been typed, so both reach the same dispatch path (bot/dispatch.h).
 *
 * Pure functions of their arguments (and the command table); any thread. */
#ifndef WK_CHAT_TEXT_H
#define WK_CHAT_TEXT_H

#include <stdbool.h>

#include "bot/request.h"

/* Set r->command and r->text (takes text, malloc'd, into r):
 *   - a question people ask in words ("who is on call?", "who's on-call for
 *     payments", "when am I next", "open incidents") runs the command that
 *     answers it (chat_phrase(): "oncall now", "oncall now payments",
 *     "oncall when", "incident list");
 *   - else a first word (an optional '/' before it) naming a command runs it
 *     with the rest ("incident ack 12");
 *   - else the whole text goes to the main command ("schedule 3" is
 *     "/oncall schedule 3", "" is a bare "/oncall"). */
void chat_command_split(struct request *r, char *text);

/* The command a question in words stands for: true with command (at least 32
 * bytes) and its text (malloc'd, into *args) when text is one of the phrases
 * chat_command_split() knows, with a trailing "now"/"today"/"please" and
 * punctuation ignored and, for the on-call question, "for|in|of|on TEAM"
 * after it; false otherwise (nothing set). */
bool chat_phrase(const char *text, char *command, char **args);

#endif
