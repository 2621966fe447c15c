/* dispatch_find.h - how dispatch reads the first words of a command line:
 * commands, subcommands (one or two words), groups ("rotation"), other
 * commands reached through the main one, unique prefixes of each word, and
 * the nearest name for "did you mean". Private to bot/dispatch*.c; the public
 * lookups are declared in dispatch.h. Reads only the const tables: thread-safe. */
#ifndef WK_DISPATCH_FIND_H
#define WK_DISPATCH_FIND_H

#include <stddef.h>

#include "bot/dispatch.h"

/* What a first word can be: a one-word subcommand, a group's first word
 * ("rotation"), or (after the main command) another command. */
enum dispatch_word_kind { WORD_NONE, WORD_SUB, WORD_HEAD, WORD_COMMAND };

struct dispatch_word {
	enum dispatch_word_kind kind;
	const char *name;		/* the whole word as the table spells it */
	size_t len;
	const struct subcommand *sub;	/* WORD_SUB */
	const struct command *cmd;	/* WORD_COMMAND */
};

#define DISPATCH_MAX_WORDS 96	/* distinct first words of one command, at most */

struct dispatch_lookup {
	const struct command *cmd;	/* the command the words are for */
	size_t base;			/* words naming cmd after the main command: 0 or 1 */
	const struct subcommand *sub;
	size_t used;			/* words naming sub (after base) */
	struct dispatch_word first;		/* what the first word matched, when sub is NULL */
	int ambiguous;			/* 2: between two-word subcommands */
	char cands[256];		/* ambiguous: the candidates */
};


/* The main command: command_table[0], which reaches the others. */
const struct command *dispatch_find_main(void);

/* Split "team create" into its words; second is "" for one-word names. */
void dispatch_find_split(const char *name, char *first, size_t size, const char **second);

/* Every distinct first word of c into w (at most max): one-word subcommands,
 * then groups, then (for the main command) the other commands. */
size_t dispatch_find_firsts(const struct command *c, struct dispatch_word *w, size_t max);

/* The first word: exact, else unique prefix. *count: how many matched; when
 * several, their names go into cands ("`remove`, `reminder`"). */
struct dispatch_word dispatch_find_first(const struct command *c, const char *word, int *count,
					 char *cands, size_t csize);

/* Look argv up for c: the subcommand and the words it took, a nested command
 * (`/oncall invite ...`), a group alone, or an ambiguity. */
void dispatch_find_lookup(const struct command *c, size_t argc, char **argv, struct dispatch_lookup *L);

/* The candidate nearest to word (edits and swapped neighbours), if it is
 * close enough to be a typo of it: one edit in a short word, two in a longer. */
const struct dispatch_word *dispatch_find_closest(const struct dispatch_word *w, size_t n,
						  const char *word);

/* The row of c's group head (the first hlen bytes of head, "swap") whose
 * second word is nearest to word ("cancle": "swap cancel"), or NULL. */
const struct subcommand *dispatch_find_near_second(const struct command *c, const char *head,
						   size_t hlen, const char *word);

#endif
