/* chat_text.c - see chat_text.h */
#include "adapters/chat_text.h"
#include "bot/buf.h"
#include "bot/dispatch.h"
#include "bot/team.h"
#include "bot/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Questions people put to a bot in words, each as the command that answers
 * it. Words are compared after normalising (see words_of): lower case, no
 * apostrophes, "on call" and "on-call" as "oncall". A phrase runs only when it
 * is the whole message, so a real command ("oncall who", "who ops") is never
 * taken for one. */
static const struct chat_phrase {
	const char *said;
	const char *command;
	const char *args;
	bool team;		/* may end in "for|in|of|on TEAM" */
} phrases[] = {
	{ "who is oncall", "oncall", "now", true },
	{ "whos oncall", "oncall", "now", true },
	{ "who oncall", "oncall", "now", true },
	{ "who is on duty", "oncall", "now", true },
	{ "whos on duty", "oncall", "now", true },
	{ "who has the pager", "oncall", "now", true },
	{ "when am i oncall", "oncall", "when", false },
	{ "when am i oncall next", "oncall", "when", false },
	{ "when am i next", "oncall", "when", false },
	{ "when is my shift", "oncall", "when", false },
	{ "when is my next shift", "oncall", "when", false },
	{ "my shifts", "oncall", "when", false },
	{ "my next shift", "oncall", "when", false },
	{ "open incidents", "incident", "list", false },
	{ "any open incidents", "incident", "list", false },
	{ "what is open", "incident", "list", false },
	{ "whats open", "incident", "list", false },
	{ "incidents", "incident", "list", false },
	{ "what can you do", "help", "", false },
};

static const char *const lead_fillers[] = { "hey", "hi", "hello", "please" };
static const char *const tail_fillers[] = { "now", "right", "today", "currently", "please", "thanks" };
static const char *const team_words[] = { "for", "in", "of", "on" };

#define WORDS_MAX 12

static bool word_in(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, list[i]) == 0)
			return true;
	return false;
}

/* text as normalised words into w (pointing into *copy, which the caller
 * frees); how many, or WORDS_MAX + 1 when there are more. */
static size_t words_of(const char *text, char **copy, char **w)
{
	struct buf b = BUF_INIT(4096);
	size_t n = 0;
	char *p, *save = NULL;

	for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
		if (*s == '\'')
			continue;
		if (s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0x98 || s[2] == 0x99)) {
			s += 2;	/* ‘ and ’, as phones type apostrophes */
			continue;
		}
		buf_addc(&b, (char)tolower(*s));
	}
	*copy = buf_detach(&b, NULL);
	for (p = strtok_r(*copy, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
		size_t len = strlen(p);
		while (len && strchr("?!.,;:", p[len - 1]))
			p[--len] = '\0';
		if (!len)
			continue;
		if (n > WORDS_MAX)
			break;
		if (strcmp(p, "on-call") == 0)
			p = "oncall";
		if (n && strcmp(p, "call") == 0 && strcmp(w[n - 1], "on") == 0) {
			w[n - 1] = "oncall";
			continue;
		}
		w[n++] = p;
	}
	return n;
}

bool chat_phrase(const char *text, char *command, char **args)
{
	char *copy, *w[WORDS_MAX + 2];
	size_t n = words_of(text, &copy, w), first = 0;
	bool found = false;

	if (n > WORDS_MAX)
		goto out;
	while (first < n && word_in(w[first], lead_fillers, ARRAY_LEN(lead_fillers)))
		first++;
	while (n > first && word_in(w[n - 1], tail_fillers, ARRAY_LEN(tail_fillers)))
		n--;
	for (size_t i = 0; i < ARRAY_LEN(phrases) && !found; i++) {
		const struct chat_phrase *ph = &phrases[i];
		const char *s = ph->said;
		size_t k = first;

		/* The phrase's words, one by one, against the message's. */
		while (*s && k < n) {
			size_t len = strcspn(s, " ");
			if (strlen(w[k]) != len || strncmp(w[k], s, len) != 0)
				break;
			k++;
			s += len;
			s += *s == ' ';
		}
		if (*s)
			continue;
		if (k == n) {
			*args = xstrdup(ph->args);
		} else if (ph->team && k + 2 == n && word_in(w[k], team_words, ARRAY_LEN(team_words)) &&
			   team_name_valid(w[k + 1])) {
			struct buf b = BUF_INIT(128);
			buf_printf(&b, "%s %s", ph->args, w[k + 1]);
			*args = buf_detach(&b, NULL);
		} else {
			continue;
		}
		wk_strlcpy(command, ph->command, 32);
		found = true;
	}
out:
	free(copy);
	return found;
}

void chat_command_split(struct request *r, char *text)
{
	char *p = text, *space, *args;
	size_t n;

	if (chat_phrase(text, r->command, &args)) {
		free(r->text);
		r->text = args;
		free(text);
		return;
	}
	if (*p == '/')
		p++;
	space = strchr(p, ' ');
	n = space ? (size_t)(space - p) : strlen(p);
	if (n && n < sizeof(r->command)) {
		memcpy(r->command, p, n);
		r->command[n] = '\0';
		for (char *c = r->command; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (dispatch_find_command(r->command)) {
			free(r->text);
			r->text = xstrdup(space ? space + 1 : "");
			free(text);
			return;
		}
	}
	wk_strlcpy(r->command, command_table[0]->name, sizeof(r->command));
	free(r->text);
	r->text = text;
}
