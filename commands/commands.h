/* commands.h - one exported table entry per command file. */
#ifndef WK_COMMANDS_H
#define WK_COMMANDS_H

#include "bot/dispatch.h"

extern const struct command oncall_command;	/* commands/oncall.c */
extern const struct command invite_command;	/* commands/invite.c */
extern const struct command incident_command;	/* commands/incident.c */
extern const struct command delegate_command;	/* commands/delegate.c */
extern const struct command help_command;	/* commands/help.c */

#endif
