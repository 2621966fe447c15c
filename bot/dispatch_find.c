/* dispatch_find.c - see dispatch_find.h */
#include "bot/dispatch_find.h"
#include "bot/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const struct command *dispatch_find_command(const char *name)
{
	if (name[0] == '/')
		name++;
	for (size_t i = 0; command_table[i]; i++) {
		const struct command *c = command_table[i];
		if (strcasecmp(c->name, name) == 0)
			return c;
		for (size_t a = 0; c->aliases && c->aliases[a]; a++)
			if (strcasecmp(c->aliases[a], name) == 0)
				return c;
	}
	return NULL;
}

void dispatch_find_split(const char *name, char *first, size_t size, const char **second)
{
	const char *sp = strchr(name, ' ');
	size_t n = sp ? (size_t)(sp - name) : strlen(name);

	if (n >= size)
		n = size - 1;
	memcpy(first, name, n);
	first[n] = '\0';
	*second = sp ? sp + 1 : "";
}

const struct command *dispatch_find_main(void)
{
	return command_table[0];
}

bool dispatch_nested(const struct command *c)
{
	return c != command_table[0] && strcasecmp(c->name, "help") != 0;
}

size_t dispatch_find_firsts(const struct command *c, struct dispatch_word *w, size_t max)
{
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (const struct subcommand *s = c->subcommands; s->name && n < max; s++) {
			size_t len = strcspn(s->name, " ");
			bool two = s->name[len] != '\0', seen = false;
			if (two != (pass == 1))
				continue;
			for (size_t i = 0; i < n && !seen; i++)
				seen = w[i].len == len && strncasecmp(w[i].name, s->name, len) == 0;
			if (!seen)
				w[n++] = (struct dispatch_word){ two ? WORD_HEAD : WORD_SUB, s->name, len,
								 two ? NULL : s, NULL };
		}
	for (size_t i = 1; c == dispatch_find_main() && command_table[i] && n < max; i++)
		if (dispatch_nested(command_table[i]))
			w[n++] = (struct dispatch_word){ WORD_COMMAND, command_table[i]->name,
						 strlen(command_table[i]->name), NULL, command_table[i] };
	return n;
}

/* Append "`a`, `b`" style names to cands. */
static void add_cand(char *cands, size_t size, const char *name, size_t len)
{
	size_t have = strlen(cands);

	if (have + 1 < size)
		snprintf(cands + have, size - have, "%s`%.*s`", have ? ", " : "", (int)len, name);
}

struct dispatch_word dispatch_find_first(const struct command *c, const char *word, int *count, char *cands,
			       size_t csize)
{
	struct dispatch_word w[DISPATCH_MAX_WORDS], found = { 0 };
	size_t n = dispatch_find_firsts(c, w, DISPATCH_MAX_WORDS), wl = strlen(word);

	*count = 0;
	for (size_t i = 0; i < n; i++)
		if (w[i].len == wl && strncasecmp(w[i].name, word, wl) == 0) {
			*count = 1;
			return w[i];
		}
	for (size_t i = 0; wl && i < n; i++)
		if (w[i].len > wl && strncasecmp(w[i].name, word, wl) == 0) {
			found = w[i];
			(*count)++;
			add_cand(cands, csize, w[i].name, w[i].len);
		}
	return found;
}

/* Two-word subcommands matching (w0, w1), exact beating prefix word by word. */
static const struct subcommand *match_two(const struct command *c, const char *w0, const char *w1,
					  bool second_exact, int *count, char *cands, size_t csize)
{
	const struct subcommand *found = NULL;
	bool exact0 = false, exact1 = false;
	size_t l0 = strlen(w0), l1 = strlen(w1);

	for (const struct subcommand *s = c->subcommands; s->name; s++) {
		char first[32];
		const char *second;
		dispatch_find_split(s->name, first, sizeof(first), &second);
		if (second[0] && strcasecmp(first, w0) == 0)
			exact0 = true;
	}
	for (const struct subcommand *s = c->subcommands; s->name; s++) {
		char first[32];
		const char *second;
		dispatch_find_split(s->name, first, sizeof(first), &second);
		if (second[0] && (exact0 ? strcasecmp(first, w0) == 0 : l0 && strncasecmp(first, w0, l0) == 0) &&
		    strcasecmp(second, w1) == 0)
			exact1 = true;
	}
	*count = 0;
	for (const struct subcommand *s = c->subcommands; s->name; s++) {
		char first[32];
		const char *second;
		dispatch_find_split(s->name, first, sizeof(first), &second);
		if (!second[0] || !(exact0 ? strcasecmp(first, w0) == 0 : l0 && strncasecmp(first, w0, l0) == 0))
			continue;
		if (exact1 ? strcasecmp(second, w1) != 0
			   : second_exact || !l1 || strncasecmp(second, w1, l1) != 0)
			continue;
		found = s;
		(*count)++;
		add_cand(cands, csize, s->name, strlen(s->name));
	}
	return found;
}

void dispatch_find_lookup(const struct command *c, size_t argc, char **argv, struct dispatch_lookup *L)
{
	int n1 = 0, n2 = 0;
	struct dispatch_word w;
	char cands2[256] = "";

	L->cmd = c;
	L->base = 0;
	L->sub = NULL;
	L->used = 0;
	L->ambiguous = 0;
	L->cands[0] = '\0';
	memset(&L->first, 0, sizeof(L->first));
	if (argc == 0) {
		L->sub = c->default_sub;
		return;
	}
	w = dispatch_find_first(c, argv[0], &n1, L->cands, sizeof(L->cands));
	if (argc >= 2) {
		/* "swap cancel" is a row, but in "swap tomorrow ..." the second word is swap's argument. */
		bool exact = n1 == 1 && w.kind == WORD_SUB && w.sub->max_args > 0;
		const struct subcommand *s = match_two(c, argv[0], argv[1], exact, &n2, cands2, sizeof(cands2));
		if (n2 == 1) {
			L->sub = s;
			L->used = 2;
			return;
		}
		if (n2 > 1) {
			L->ambiguous = 2;
			wk_strlcpy(L->cands, cands2, sizeof(L->cands));
			return;
		}
	}
	if (n1 > 1) {
		L->ambiguous = 1;
		return;
	}
	L->first = w;
	if (w.kind == WORD_SUB) {
		L->sub = w.sub;
		L->used = 1;
	} else if (w.kind == WORD_COMMAND) {
		dispatch_find_lookup(w.cmd, argc - 1, argv + 1, L);
		L->base = 1;
	}
}

const struct subcommand *dispatch_find_subcommand(const struct command *c, size_t argc,
						  char **argv, size_t *used, int *ambiguous)
{
	struct dispatch_lookup L = { 0 };

	dispatch_find_lookup(c, argc, argv, &L);
	*ambiguous = L.ambiguous != 0;
	*used = L.used;
	if (argc == 0 || L.base)
		return NULL;
	return L.sub;
}

const struct dispatch_word *dispatch_find_closest(const struct dispatch_word *w, size_t n, const char *word)
{
	size_t wl = strlen(word), best = 99;
	const struct dispatch_word *pick = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t d = wk_typo_distance(word, wl, w[i].name, w[i].len);
		if (d < best) {
			best = d;
			pick = &w[i];
		}
	}
	/* One edit in a short word, two in a longer one. */
	return pick && best <= (wl >= 5 ? 2u : 1u) ? pick : NULL;
}

bool dispatch_word_taken(const char *word, char *meaning, size_t size)
{
	struct dispatch_word w[DISPATCH_MAX_WORDS];
	size_t n = dispatch_find_firsts(dispatch_find_main(), w, DISPATCH_MAX_WORDS), wl = strlen(word);

	if (strcasecmp(word, "help") == 0) {
		wk_strlcpy(meaning, "help", size);
		return true;
	}
	for (size_t i = 0; wl && i < n; i++)
		if (w[i].len >= wl && strncasecmp(w[i].name, word, wl) == 0) {
			snprintf(meaning, size, "%.*s", (int)w[i].len, w[i].name);
			return true;
		}
	return false;
}


const struct subcommand *dispatch_find_near_second(const struct command *c, const char *head,
						   size_t hlen, const char *word)
{
	struct dispatch_word second[DISPATCH_MAX_WORDS];
	const struct dispatch_word *near;
	size_t n = 0;

	for (const struct subcommand *s = c->subcommands; s->name && n < DISPATCH_MAX_WORDS; s++) {
		char first[32];
		const char *sw;
		dispatch_find_split(s->name, first, sizeof(first), &sw);
		if (sw[0] && strlen(first) == hlen && strncasecmp(first, head, hlen) == 0)
			second[n++] = (struct dispatch_word){ WORD_SUB, sw, strlen(sw), s, NULL };
	}
	near = dispatch_find_closest(second, n, word);
	return near ? near->sub : NULL;
}
