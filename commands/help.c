/* help.c - `/help` (console) and `/watchkeeper`-style overview: every command
 * and its subcommands, generated from the command tables so it can't drift. */
#include "commands/commands.h"

static enum cmd_result help_all(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	char typed[80];

	if (argc == 1) {
		const struct command *c = dispatch_find_command(argv[0]);
		if (!c) {
			reply_textf(r, "There is no command called that. Commands:");
		} else {
			dispatch_help(ctx, c, r);
			return CMD_OK;
		}
	} else {
		reply_textf(r, "*Watchkeeper* commands:");
	}
	/* Named as they are typed here: on Slack every command is reached through
	 * the main one (`/oncall invite`), under the configured names. */
	for (size_t i = 0; command_table[i]; i++)
		if (command_table[i] != &help_command)
			reply_section(r, "`%s`: %s. `%s help` for details.",
				      dispatch_typed(ctx, command_table[i], typed, sizeof(typed)),
				      command_table[i]->summary, typed);
	return CMD_OK;
}

static const struct subcommand help_subcommands[] = {
	{ "commands", "[command]", "lists the commands", ROLE_NONE, 0, 1, help_all, "oncall", 0 },
	{ 0 }
};

const struct command help_command = {
	.name = "help",
	.summary = "what Watchkeeper can do",
	.subcommands = help_subcommands,
	.default_sub = &help_subcommands[0],
};
