/* oncall.h - what the files of `/oncall` share (commands/oncall*.c); not for
 * other commands. The subcommand and action tables live in oncall.c. */
#ifndef WK_COMMANDS_ONCALL_H
#define WK_COMMANDS_ONCALL_H

#include <stddef.h>

#include "bot/dispatch.h"

/* A member id from a mention (Slack <@U..>, console @name) into id; -1 with a
 * sentence in r when arg is not one. */
int oncall_parse_user(struct cmd_ctx *ctx, const char *arg, char *id, size_t size, struct reply *r);

/* commands/oncall_notify.c: contact rules, pages, test pages, the delivery log. */
enum cmd_result oncall_me_notify(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_notify_default(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_page(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_me_test(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
/* Timer kind "me_test" (bot/engine.c): posts the test pages' outcome to the
 * command's response_url once known. Engine thread. */
struct engine_ctx;
int oncall_me_test_fire(struct engine_ctx *ctx);
enum cmd_result oncall_notifications(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_action_page_ack(struct cmd_ctx *ctx, const char *value, struct reply *r);

#endif
