/* commands.c - the registry of chat commands, in the order help lists them.
 * A new command is one new file in commands/ plus one line here. */
#include "bot/dispatch.h"
#include "commands/commands.h"

const struct command *const command_table[] = {
	&oncall_command,
	&invite_command,
	&incident_command,
	&delegate_command,
	&help_command,
	NULL,
};
