/* teams_text.h - what a person typed to the bot in Teams, read as a command.
 *
 * Teams sends a message's text with the bot's own @mention in it ("<at>Bot</at>
 * who"), other people's mentions as <at>Name</at> (who is meant is only in the
 * activity's entities), and sometimes HTML around it. The bot's mention is
 * cut out; anyone else's becomes a mark (TEAMS_MENTION_MARK, the mention's
 * index, TEAMS_MENTION_END) that the worker turns into <@member> once Redis
 * said who that is (teams_mentions_resolve()).
 *
 * Pure functions of their arguments; any thread. Results are malloc'd. */
#ifndef WK_TEAMS_TEXT_H
#define WK_TEAMS_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "bot/request.h"

#define TEAMS_MENTIONS_MAX 8
#define TEAMS_MENTION_MARK '\x01'
#define TEAMS_MENTION_END '\x02'

/* A string member of an activity's object, NULL when absent or not a string
 * (obj may be NULL). */
const char *teams_json_str(json_t *obj, const char *key);
/* v (non-empty) into dst when it fits; false otherwise: activity fields are
 * refused, never cut. */
bool teams_copy_id(char *dst, size_t size, const char *v);

/* People @mentioned in a command, by Teams id, in the order of their marks. */
struct teams_mentions {
	struct {
		char id[160];
		char name[64];	/* as Teams showed it, for someone the bot never met */
	} who[TEAMS_MENTIONS_MAX];
	size_t n;
};

/* The command in text: the bot's mention (entities whose mentioned.id is
 * bot_id) cut out, others' marked (into out, at most TEAMS_MENTIONS_MAX; more
 * are left as their text), other markup dropped keeping what it says, the
 * five common HTML entities decoded, control bytes as spaces, blanks trimmed. */
char *teams_command_text(const char *text, json_t *entities, const char *bot_id, struct teams_mentions *out);

/* text with each mark replaced: "<@ids[k]>" when ids[k] is set, else "@name"
 * (escaped: a name can't forge markup); stray mark bytes become spaces. */
char *teams_mentions_resolve(const char *text, const struct teams_mentions *m, const char *const *ids);

#endif
