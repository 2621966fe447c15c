/* oncall.h - what the files of `/oncall` share (commands/oncall*.c); not for
 * other commands. The subcommand and action tables live in oncall.c. */
#ifndef WK_COMMANDS_ONCALL_H
#define WK_COMMANDS_ONCALL_H

#include <stddef.h>
#include <stdint.h>

#include "bot/dispatch.h"

/* A member id from a mention (Slack <@U..>, console @name) into id; -1 with a
 * sentence in r when arg is not one. */
int oncall_parse_user(struct cmd_ctx *ctx, const char *arg, char *id, size_t size, struct reply *r);

/* commands/oncall.c: what every /oncall file uses. */
struct team_plan;
struct rotation_version;
struct tz;
/* Team argument (NULL: the default team) into id; 1 with a sentence in r when
 * there is no such team, -1 store error. */
int oncall_pick_team(struct cmd_ctx *ctx, const char *name, char *id, size_t size, struct reply *r);
/* The zone a person reads and types times in: their own, else the org's
 * (`/oncall org tz`), else the configured rotation zone. Never NULL. */
const struct tz *oncall_zone_for(struct cmd_ctx *ctx, const struct team_plan *p);
/* A ROT_* result as a command result, with the sentence for refusals. */
enum cmd_result oncall_rot_result(int rc, const char *name, struct reply *r);
/* The configured default rotation spec (until a team makes its own). */
void oncall_default_version(const struct cmd_ctx *ctx, struct rotation_version *v);
/* After any change to a team's schedule: move its next handoff timer and
 * expire swaps the change made stale. */
void oncall_schedule_changed(struct cmd_ctx *ctx, const char *team);

/* A rotation version's settings in one line ("every 1w, handoff Mon 09:00, ..."). */
void oncall_describe_version(const struct rotation_version *v, char *out, size_t size);
enum cmd_result oncall_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
/* Why rotation p->rotations[i] never comes up in the next four weeks (from
 * its start), naming the rotations that take all its hours and the command
 * that changes that, into out; 0 (out "") when it does come up. */
int oncall_hidden_note(const struct team_plan *p, size_t i, int64_t now, char *out, size_t size);
/* The same for every rotation of a team, as "Note: ..." sections; how many. */
int oncall_hidden_notes(struct cmd_ctx *ctx, const char *team, struct reply *r);

/* commands/oncall_rotation.c */
enum cmd_result oncall_join(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_leave(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_add(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_action_join(struct cmd_ctx *ctx, const char *value, struct reply *r);
enum cmd_result oncall_action_leave(struct cmd_ctx *ctx, const char *value, struct reply *r);
enum cmd_result oncall_rotation_list(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_rotation_create(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_rotation_set(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_rotation_move(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_rotation_pause(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_rotation_resume(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_rotation_delete(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

/* commands/oncall_swap.c: overrides, swaps and covers. */
enum cmd_result oncall_override(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_overrides(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_override_remove(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_swap(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_cover(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_swaps(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_swap_cancel(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_swap_undo(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_swap_policy(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_action_swap_accept(struct cmd_ctx *ctx, const char *v, struct reply *r);
enum cmd_result oncall_action_swap_decline(struct cmd_ctx *ctx, const char *v, struct reply *r);
enum cmd_result oncall_action_swap_approve(struct cmd_ctx *ctx, const char *v, struct reply *r);
enum cmd_result oncall_action_swap_reject(struct cmd_ctx *ctx, const char *v, struct reply *r);

/* commands/oncall_announce.c */
enum cmd_result oncall_announce(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_reminder(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

/* commands/oncall_me.c */
enum cmd_result oncall_me(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_me_name(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_me_email(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_me_phone(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_me_tz(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_me_incidents(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

/* commands/oncall_org.c: the workspace's settings. */
enum cmd_result oncall_org(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_org_tz(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_org_phone_region(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result oncall_org_link(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

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
