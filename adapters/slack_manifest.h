/* slack_manifest.h - the Slack app's slash command names and its manifest.
 *
 * Slack keeps some command names for itself (/invite, /who, ...; the list is
 * config/slack-reserved-commands.txt, compiled in), and in an Enterprise Grid
 * every install needs names of its own. So the names the app registers are
 * configuration (slack.commands, see bot/config.h), the manifest is generated
 * from them and from the command table (`watchkeeper manifest slack`), and the
 * adapter maps each registered name back to its command.
 *
 * All functions are thread-safe (they only read the config and the tables). */
#ifndef WK_SLACK_MANIFEST_H
#define WK_SLACK_MANIFEST_H

#include <stdbool.h>
#include <stdio.h>

#include "bot/buf.h"
#include "bot/config.h"

/* Whether Slack keeps /name (given without the '/', any case) for itself. */
bool slack_name_reserved(const char *name);

/* The command (its name in the table) that the registered name (without the
 * '/') runs, or NULL when the app registers no such name. */
const char *slack_name_command(const struct config *cfg, const char *name);

/* The bot scopes the app asks for, NULL-terminated: the one list both the
 * manifest and the OAuth install URL (adapters/slack_oauth.c) are made from. */
extern const char *const slack_bot_scopes[];
/* The scopes joined by sep (",": an authorize URL's scope parameter). */
void slack_bot_scopes_join(struct buf *b, const char *sep);

/* Write the app manifest (YAML) for cfg: its public_url and slash commands,
 * each described from the command table. */
void slack_manifest_write(const struct config *cfg, FILE *out);

#endif
