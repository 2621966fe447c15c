/* invite.h - what the files of `/invite` share (commands/invite*.c); not for
 * other commands. The subcommand and action tables live in invite.c. */
#ifndef WK_COMMANDS_INVITE_H
#define WK_COMMANDS_INVITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/dispatch.h"
#include "commands/commands.h"

#define DAY_MS (24LL * 3600 * 1000)
/* `/invite` as people type it here ("/oncall invite", dispatch_typed()): Slack
 * keeps /invite for itself. The buffer lives until the end of the statement. */
#define INV(ctx) dispatch_typed((ctx), &invite_command, (char[80]){ 0 }, 80)
#define MAIN(ctx) dispatch_typed((ctx), command_table[0], (char[80]){ 0 }, 80)

/* commands/invite.c: helpers every /invite file uses. */
/* A role an invite may give, from what people typed: everything but owner
 * (owners are made, not invited). -1 with a sentence in r. */
int invite_role(const char *word, enum role *role, struct reply *r);
/* A person as typed (a mention, github:login or an invited email) into id:
 * 0 a member, 1 a known person who is not a member (only when
 * !must_be_member), -1 nobody (the reply says why), -2 store failure. */
int invite_resolve_person(struct cmd_ctx *ctx, const char *ref, char *id, size_t size, bool must_be_member,
			  struct reply *r);

/* commands/invite_github.c */
enum cmd_result invite_github(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result invite_map(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

/* commands/invite_people.c */
enum cmd_result invite_members(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result invite_role_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result invite_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

/* commands/invite_team.c */
enum cmd_result invite_team_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result invite_team_create(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result invite_team_rename(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result invite_team_delete(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result invite_team_add(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result invite_team_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

#endif
