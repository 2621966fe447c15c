/* dispatch.h - commands as tables, and the one path from a request to a reply.
 *
 * Each file in commands/ exports one const struct command (name, aliases,
 * subcommands with usage and minimum role, button actions). dispatch_request()
 * looks the command and subcommand up (exact names, aliases, unique prefixes
 * of either word of a two-word subcommand), checks the argument count, makes
 * sure the org and member exist, checks the role, and only then calls the
 * handler, so handlers are straight-line code. `help` for every command is
 * generated from the same tables.
 *
 * The main command (command_table[0], `/oncall`) also reaches every other
 * command as a subcommand: `/oncall invite link` is `/invite link`. Slack
 * keeps some names for itself (`/invite`) and an Enterprise Grid needs names
 * unique per install, so on Slack only configured names are registered
 * (config slack.commands, adapters/slack_manifest.h) and every reply names
 * commands the way they are typed there (dispatch_typed()).
 *
 * Thread: dispatch runs on a worker (or the console thread) with that thread's
 * own store, or on the loop thread without one (struct dispatch_touch below).
 * Nothing here touches sockets. */
#ifndef WK_DISPATCH_H
#define WK_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bot/config.h"
#include "bot/org.h"
#include "bot/schedule.h"
#include "bot/reply.h"
#include "bot/request.h"
#include "bot/store.h"

struct schedule_cache;

enum cmd_result {
	CMD_OK,		/* reply holds the answer */
	CMD_REFUSED,	/* reply holds a sentence saying what was wrong; nothing changed */
	CMD_STORE_ERROR,	/* the store failed; dispatch replaces the reply with an apology */
	CMD_REPLAYED,	/* dispatch only: a second delivery of a request that already ran
			 * (same replay_id); nothing was done, the reply says so briefly and
			 * the platform should send nothing anywhere else */
	CMD_DEFERRED,	/* dispatch only: answered "checking…"; the platform runs it again
			 * once the chat user's email is known (dispatch_env.lookup_email) */
	CMD_RELINK,	/* dispatch only: the request's org is linked to another one
			 * (org.h ORG_LINKED), named in dispatch_env.relinked; nothing was
			 * run or written: the platform runs it again there (env.org_id) */
	/* On the loop thread (dispatch_env.touch), nothing written, reply empty: */
	CMD_NEEDS_TOUCH,	/* send touch->call, then run the request again with the answer */
	CMD_NEEDS_WORKER	/* the rest needs the store: run it again on a worker,
				 * with the touch when it has its answer */
};

struct cmdline;

struct cmd_ctx {
	struct store *store;
	const struct config *cfg;
	const struct request *req;
	const char *org_id;
	enum role role;		/* the caller's role; ROLE_NONE for a non-member */
	bool team_mode;		/* false: a solo org */
	const char *tz;		/* the zone the caller reads times in: their own, else the org's;
				 * "" when neither is set (see when_zone) */
	int64_t now_ms;
	/* The typed words, for dispatch_rest(); NULL outside a typed command. */
	const struct cmdline *line;
	size_t first;		/* the word of line that is the handler's argv[0] */
	/* CMD_PRELOAD_TEAM: the team schedule read with the org (one round trip);
	 * handlers get it through dispatch_schedule_load(). */
	const char *preload_team;
	int64_t preload_from;
	const struct team_plan *preload_plan;	/* overrides ending after preload_from */
	struct schedule_cache *preload_cache;	/* holding preload_plan, or NULL */
};

typedef enum cmd_result (*cmd_handler)(struct cmd_ctx *ctx, int argc, char **argv,
				       struct reply *r);
typedef enum cmd_result (*cmd_action_handler)(struct cmd_ctx *ctx, const char *value,
					      struct reply *r);

#define CMD_TEAM_ONLY 1u	/* offered only once the org is in team mode */
/* The last argument, argv[max_args - 1], is the rest of the line as typed
 * (quotes and spacing kept): free text such as a page message needs no quotes
 * and has no word limit. A handler whose text starts at a varying word reads
 * it with dispatch_rest(). */
#define CMD_REST 2u
/* On a default subcommand whose first argument is a team: `/oncall TEAM`
 * runs it for that team when TEAM is no subcommand (names and prefixes of
 * subcommands win; `team create` refuses them, see dispatch_word_taken()). */
#define CMD_TEAM_FIRST 4u
/* The handler shows the schedule of the team it runs for (the default team,
 * or the CMD_TEAM_FIRST team): dispatch reads it in the same round trip as
 * the org and the caller (org_touch_preload), and the handler takes it with
 * dispatch_schedule_load(). The hot path: a bare `/oncall` is one round trip. */
#define CMD_PRELOAD_TEAM 8u
/* How far back a preloaded schedule reaches (overrides ending after it). */
#define DISPATCH_PRELOAD_BACK_S (400LL * 86400)

struct subcommand {
	const char *name;	/* one word, or two ("team create") */
	const char *args;	/* usage of the arguments, e.g. "@user" */
	const char *summary;	/* one line for help */
	enum role min_role;	/* ROLE_NONE: non-members may run it too */
	int min_args, max_args;	/* after the subcommand name */
	cmd_handler handler;
	const char *example;	/* valid arguments, for generated tests ("@user admin") */
	unsigned flags;
};

struct command_action {
	const char *name;	/* "join" for action id "oncall.join" */
	enum role min_role;
	cmd_action_handler handler;
};

/* For a subcommand (or button action) that changes something: a read-only
 * command that shows the result. When Redis took the change but gave no answer
 * in time, the reply says the change may or may not have been applied and
 * names this command to look with. name is a subcommand's name or an action's
 * (an action and a subcommand of the same name share one entry). Subcommands
 * without an entry get "/<command> help". */
struct command_check {
	const char *name;	/* "join", "rotation create", "swap_accept" */
	const char *check;	/* "/oncall list" */
};

struct command {
	const char *name;
	const char *const *aliases;	/* NULL-terminated, or NULL */
	const char *summary;
	const struct subcommand *subcommands;	/* terminated by a zeroed entry */
	const struct subcommand *default_sub;	/* run when no arguments are given */
	const struct command_action *actions;	/* terminated by a zeroed entry, or NULL */
	const struct command_check *checks;	/* terminated by a zeroed entry, or NULL */
};

/* schedule_load() for handlers: the preloaded schedule when it is that team's
 * and reaches back to from, else a read of its own. 0 or -1. */
int dispatch_schedule_load(struct cmd_ctx *ctx, const char *team, int64_t from, int64_t to, struct team_plan *out);

/* The registry: commands/commands.c, NULL-terminated. */
extern const struct command *const command_table[];

/* A chat user's profile email as the platform reported it: rc 0 found (email
 * set), 1 none visible, -1 the lookup failed. */
struct dispatch_email {
	int rc;
	char email[256];
};

/* The org touch (org_touch_preload()) sent by the caller instead of by
 * dispatch: the loop thread's pipelined connection (bot/store_pipe.h). A
 * request runs in passes over the same touch, which the caller owns:
 *  1. on the loop (store NULL), state TOUCH_NONE: CMD_NEEDS_TOUCH, with the
 *     script's keys and arguments in call and state TOUCH_WANTED; or an
 *     answer that needs no store at all (help, usage, an unknown command);
 *  2. the caller sends call and gives the reply to dispatch_touch_answer();
 *  3. on the loop again: the answer, when the rest needs no store (a
 *     replay, or a preloaded read such as `/oncall`); else CMD_NEEDS_WORKER;
 *  4. on a worker, with its store: the rest, from the touch's answer.
 * Every pass reads the request the same way and on the same clock (now_ms),
 * and nothing is written before the touch, so passes 1 and 3 may stop
 * anywhere; a touch that never went out (state TOUCH_WANTED) is dropped
 * with dispatch_touch_free() and the request runs on a worker as usual. */
enum dispatch_touch_state { TOUCH_NONE, TOUCH_WANTED, TOUCH_ANSWERED };
struct dispatch_touch {
	enum dispatch_touch_state state;
	int64_t now_ms;
	struct org_touch_call call;
	char team[SCHEDULE_ID_LEN];	/* the team preloaded with it, "" none */
	char stamp[65];			/* the stamp of the loop's schedule copy sent */
	/* TOUCH_ANSWERED: org_touch_read()'s result (-1: no answer after the
	 * script went out whole, so it may have run), its view and preload;
	 * pre.plan stays here until a pass uses it. */
	int rc;
	struct org_view view;
	struct org_preload pre;
};
/* The script's reply (taken; NULL when none came after it went out whole). */
void dispatch_touch_answer(struct dispatch_touch *t, redisReply *reply);
void dispatch_touch_free(struct dispatch_touch *t);

struct dispatch_env {
	struct store *store;	/* NULL on the loop thread: then touch is set */
	const struct config *cfg;
	/* Claiming email invites automatically: a non-member in an org with
	 * pending email invites may be one of them, which only their chat profile
	 * email tells, and reading it is a call to the platform that must not hold
	 * a worker. So the first pass (email == NULL) calls lookup_email(env, req),
	 * which starts the lookup and returns 0; dispatch then answers at once
	 * ("Checking whether you have an invite…") and returns CMD_DEFERRED, and
	 * the platform runs the same request again, with email set to the answer,
	 * delivering that reply late (Slack: response_url). -1 = no lookup could
	 * start: the request goes on as a non-member's. NULL hook = no lookups. */
	int (*lookup_email)(const struct dispatch_env *env, const struct request *req);
	const struct dispatch_email *email;	/* the second pass's answer, else NULL */
	/* The calling worker's schedule copies (schedule_cache.h), or NULL: then
	 * a preloaded schedule is read in full each time. */
	struct schedule_cache *schedules;
	void *lookup_arg;	/* for lookup_email: the adapter's own request state */
	/* The org to run in instead of the request's own (a Teams tenant linked
	 * to a Slack org: the adapter knows the link); NULL: the request's. */
	const char *org_id;
	char *relinked;		/* CMD_RELINK: the org the request's own one is linked to
				 * (at least 96 bytes); NULL: such requests are refused */
	char *member_out;	/* the caller's member id as it ran (an alias resolved;
				 * at least 64 bytes), or NULL */
	struct dispatch_touch *touch;	/* the passes above, or NULL: dispatch touches */
};

/* Run a command (req->action_id empty) or a button action. Always fills the
 * reply with something to show; returns the handler's result.
 *
 * Replays: a request with a replay_id runs at most once per org. The check is
 * folded into the org lookup (org_touch, one round trip); a second delivery
 * within replay_until gets CMD_REPLAYED and a one-line reply, and nothing is
 * written or sent.
 *
 * Store failures: when the store fails, the reply says so honestly. Nothing
 * reached Redis (store_unanswered() false): "nothing was changed, try again".
 * A command went out and got no answer in time: the change may or may not
 * have been applied, and the reply names the subcommand's `check` command to
 * look with before trying again. */
enum cmd_result dispatch_request(const struct dispatch_env *env, const struct request *req,
				 struct reply *r);

/* The handler's arguments from argv[i] on, as the user typed them (quotes and
 * spacing kept, trailing blanks dropped); "" past the end or for a button. */
const char *dispatch_rest(const struct cmd_ctx *ctx, int i);

/* How people type command c where ctx's request came from, into out. On
 * Slack, through the registered names: "/oncall", "/oncall invite" (or
 * "/oncall-prod invite", or "/invite-prod" for a command registered under a
 * name of its own); on Teams and the console, the command's own name
 * ("/invite"). ctx NULL: "/oncall invite", which works everywhere. Returns out. */
const char *dispatch_typed(const struct cmd_ctx *ctx, const struct command *c, char *out,
			   size_t size);

/* dispatch_typed() of the command called name ("invite"), for hints in other
 * commands' replies. */
const char *dispatch_typed_name(const struct cmd_ctx *ctx, const char *name, char *out, size_t size);

/* Whether word, as the first word after the main command, means something
 * other than a team: a subcommand, a group ("rotation"), another command, or
 * a prefix of one. Then *meaning gets what it would run ("rotation"). Team
 * names must not be taken, so that `/oncall TEAM` always means the team. */
bool dispatch_word_taken(const char *word, char *meaning, size_t size);

/* Whether c is also a subcommand of the main command (`/oncall invite`): every
 * command but the main one and `help`, which is every command's own word. */
bool dispatch_nested(const struct command *c);

/* The refusal dispatch gives when the caller's role is below need, for a
 * handler whose row holds a read and a change that differ only in later words
 * (`/delegate policy team T` reads, `... step add` changes). what names it. */
void dispatch_refuse_role(const struct cmd_ctx *ctx, const struct command *c, const char *what, enum role need,
			  struct reply *r);

/* Lookup helpers, exposed for tests. */
const struct command *dispatch_find_command(const char *name);
/* Exact name, then unique prefix, without case, for each word of a two-word
 * subcommand ("rot li" is "rotation list"); exact beats prefix word by word.
 * When the first word is itself a subcommand taking arguments ("swap"), the
 * second must be exact, since it may be an argument. *used says how many of
 * argv were consumed. *ambiguous is set when several match. Another command's
 * name is not a subcommand here (dispatch_request() handles those). */
const struct subcommand *dispatch_find_subcommand(const struct command *c, size_t argc,
						  char **argv, size_t *used, int *ambiguous);
/* Every command and subcommand with its minimum role, as JSON, for the generated
 * role-matrix test (`watchkeeper --commands`). */
void dispatch_dump_json(FILE *out);
/* Usage of one subcommand (sub) or all of c; ctx as in dispatch_typed(). */
void dispatch_usage(const struct cmd_ctx *ctx, const struct command *c,
		    const struct subcommand *sub, struct reply *r);
void dispatch_help(const struct cmd_ctx *ctx, const struct command *c, struct reply *r);

#endif
