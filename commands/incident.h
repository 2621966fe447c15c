/* incident.h - what the `/incident` files share: the handlers of the rows
 * commands/incident.c's table holds but other files implement. No other
 * command includes it. */
#ifndef WK_COMMANDS_INCIDENT_H
#define WK_COMMANDS_INCIDENT_H

#include "bot/dispatch.h"

/* commands/incident_service.c: `/incident service ...` */
enum cmd_result incident_service_create(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result incident_service_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result incident_service_delete(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result incident_service_owner(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result incident_service_channel(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result incident_service_pages(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

/* commands/incident_integration.c: `/incident integration ...` */
enum cmd_result incident_integration_create(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result incident_integration_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result incident_integration_revoke(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result incident_integration_secret(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

/* commands/incident_report.c: `/incident report [service S] [FROM] [TO]` */
enum cmd_result incident_report_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

#endif
