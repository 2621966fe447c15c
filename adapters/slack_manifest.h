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
#include <stddef.h>
#include <stdio.h>

#include "bot/buf.h"
#include "bot/config.h"

/* Whether Slack keeps /name (given without the '/', any case) for itself. */
bool slack_name_reserved(const char *name);

/* The command (its name in the table) that the registered name (without the
 * '/') runs, or NULL when the app registers no such name. */
const char *slack_name_command(const struct config *cfg, const char *name);

/* slack_manifest_scope()'s list joined by sep (",": the scope parameter of
 * the authorize URL /slack/install sends a browser to, adapters/slack_oauth.c):
 * one list for the manifest and installs. */
void slack_bot_scopes_join(struct buf *b, const char *sep);

/* Write the app manifest (YAML) for cfg: its public_url and slash commands,
 * each described from the command table; the bot events are the ones
 * adapters/slack_events.c handles (slack_events_type()), the bot scopes
 * slack_manifest_scope()'s. Over HTTP (socket_mode false) every slash command,
 * interactivity and the event subscription carry their request URL
 * (<public_url>/slack/commands, /slack/actions, /slack/events); with
 * socket_mode none does and settings.socket_mode_enabled is true. Both carry
 * oauth_config.redirect_urls <public_url>/slack/oauth/callback and the Home tab. */
void slack_manifest_write(const struct config *cfg, bool socket_mode, FILE *out);

/* The bot scopes the manifest asks for, by index (NULL past the last). */
const char *slack_manifest_scope(size_t i);

#endif
