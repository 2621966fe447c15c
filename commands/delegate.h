/* delegate.h - what the `/delegate` files share: target parsing and the
 * handlers of the rows commands/delegate.c's table holds but
 * commands/delegate_policy.c implements. No other command includes it. */
#ifndef WK_COMMANDS_DELEGATE_H
#define WK_COMMANDS_DELEGATE_H

#include <stddef.h>
#include <stdint.h>

#include "bot/delegate.h"
#include "bot/dispatch.h"
#include "bot/team.h"

/* Who is changing what, for the storage functions and their audit entries. */
struct delegate_actor delegate_cmd_actor(const struct cmd_ctx *ctx);
/* How `/delegate` is typed where the request came from (dispatch_typed()). */
const char *delegate_cmd_typed(const struct cmd_ctx *ctx, char *out, size_t size);
/* A refusal: why, then the usage line of row sub. Returns CMD_REFUSED. */
enum cmd_result delegate_cmd_usage(struct cmd_ctx *ctx, const char *sub, const char *why, struct reply *r);
/* The sentence and result of a change's outcome other than DONE. */
enum cmd_result delegate_cmd_outcome(struct cmd_ctx *ctx, enum delegate_outcome o, struct reply *r);

/* One target people typed, in its stored form (bot/delegate.h): @user,
 * team:NAME, role:R, channel:#name or a channel link. team: the team whose
 * policy is being edited, which also allows its chain (primary, 1st-backup,
 * 2nd-backup and their synonyms) and `rotation:NAME POSITION`; NULL for a
 * rule, which has no team of its own. *used: how many words it took.
 * 0 done, 1 refused (r says why), -1 the store failed. */
int delegate_cmd_target(struct cmd_ctx *ctx, const char *team, int argc, char **argv, int *used, char *out,
			size_t size, struct reply *r);

/* A stored target for people, team ids shown by name ("team payments"). */
void delegate_cmd_describe(const char *target, const struct team_info *teams, size_t nteams, char *out,
			   size_t size);

/* The stored team id of a name typed after `team` ("default" when name is
 * NULL): 0, 1 refused (r says so), -1. */
int delegate_cmd_team(struct cmd_ctx *ctx, const char *name, char *id, size_t size, struct reply *r);

/* A member people named (a mention, github:login or an email): 0 with id,
 * 1 refused (r says why), -1. Only this org's members are found. */
int delegate_cmd_member(struct cmd_ctx *ctx, const char *arg, char *id, size_t size, struct reply *r);

/* One `KEY VALUE` of a rule (service, severity or sev, type), checked and in
 * its stored spelling, into rule: 0, 1 refused (also for a key given twice), -1. */
int delegate_cmd_rule_field(struct cmd_ctx *ctx, const char *key, const char *value, struct delegate_rule *rule,
			    struct reply *r);

/* Why the targeting mode would leave target's people out, with the fix, into
 * why ("" when it would not); members is the org's member list. 0, -1. */
struct member;
int delegate_cmd_filtered(struct cmd_ctx *ctx, const struct delegate_settings *st, const struct member *members,
			  size_t nmembers, const char *target, char *why, size_t size);

/* commands/delegate.c: "#3 service api, severity critical -> <@U1>" into b;
 * a span people read ("2 min", "90 s") into out, returned. */
void delegate_cmd_rule_text(const struct delegate_rule *rule, const struct team_info *teams, size_t nteams,
			    struct buf *b);
const char *delegate_cmd_span(int64_t s, char *out, size_t size);

/* commands/delegate_test.c: `/delegate test [sev=S] [service=NAME] [type=T] [team=T]` */
enum cmd_result delegate_cmd_test(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);

/* commands/delegate_policy.c: `/delegate policy [team T] [step add|step remove|repeat|reset ...]` */
enum cmd_result delegate_policy_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result delegate_policy_step(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
enum cmd_result delegate_policy_repeat(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r);
/* The policy a team runs: its stored text parsed, else the built-in default.
 * 0 stored, 1 default, -1 the store failed. */
struct escalation_policy;
int delegate_cmd_team_policy(struct cmd_ctx *ctx, const char *team, struct escalation_policy *p);

#endif
