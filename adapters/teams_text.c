/* teams_text.c - see teams_text.h */
#include "adapters/teams_text.h"
#include "bot/buf.h"
#include "bot/reply.h"
#include "bot/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *teams_json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

bool teams_copy_id(char *dst, size_t size, const char *v)
{
	if (!v || !v[0] || strlen(v) >= size)
		return false;
	wk_strlcpy(dst, v, size);
	return true;
}

char *teams_command_text(const char *text, json_t *entities, const char *bot_id, struct teams_mentions *out)
{
	struct buf b = BUF_INIT(8192);
	char *s = xstrdup(text ? text : ""), *p;
	json_t *e;
	size_t i;

	/* The bot's own mention goes; anyone else's becomes a mark the worker
	 * resolves. Entities say who is meant; the text only where. */
	json_array_foreach(entities, i, e) {
		const char *mtext = teams_json_str(e, "text"), *type = teams_json_str(e, "type");
		json_t *who = json_object_get(e, "mentioned");
		const char *mid = teams_json_str(who, "id");
		if (!type || strcmp(type, "mention") != 0 || !mtext || strlen(mtext) < 3 || !mid)
			continue;
		bool bot = strcmp(mid, bot_id) == 0;
		size_t k = out->n;
		if (!bot && (k >= TEAMS_MENTIONS_MAX || !teams_copy_id(out->who[k].id, sizeof(out->who[k].id), mid)))
			continue;
		if (!bot) {
			if (!teams_copy_id(out->who[k].name, sizeof(out->who[k].name), teams_json_str(who, "name")))
				wk_strlcpy(out->who[k].name, "someone", sizeof(out->who[k].name));
			out->n++;
		}
		while ((p = strstr(s, mtext))) {
			memset(p, ' ', strlen(mtext));
			if (!bot) {
				p[0] = TEAMS_MENTION_MARK;
				p[1] = (char)('0' + k);
				p[2] = TEAMS_MENTION_END;
			}
		}
	}
	for (p = s; *p;) {
		static const struct {
			const char *entity;
			char c;
		} ents[] = { { "&nbsp;", ' ' }, { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' } };
		size_t k;
		if (*p == '<') {	/* markup Teams wraps text in (<p>, other <at>s): keep what it says */
			char *close = strchr(p, '>');
			if (close) {
				p = close + 1;
				continue;
			}
		}
		for (k = 0; k < ARRAY_LEN(ents); k++)
			if (strncmp(p, ents[k].entity, strlen(ents[k].entity)) == 0)
				break;
		if (k < ARRAY_LEN(ents)) {
			buf_addc(&b, ents[k].c);
			p += strlen(ents[k].entity);
		} else {
			buf_addc(&b, *p++);
		}
	}
	free(s);
	s = buf_detach(&b, NULL);
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != TEAMS_MENTION_MARK && *p != TEAMS_MENTION_END)
			*p = ' ';
	char *start = s;
	while (*start == ' ')
		start++;
	size_t n = strlen(start);
	while (n && start[n - 1] == ' ')
		start[--n] = '\0';
	memmove(s, start, n + 1);
	return s;
}

char *teams_mentions_resolve(const char *text, const struct teams_mentions *m, const char *const *ids)
{
	struct buf b = BUF_INIT(8192);
	char esc[80];

	for (const char *p = text; *p; p++) {
		size_t k;
		if (p[0] != TEAMS_MENTION_MARK || !p[1] || p[2] != TEAMS_MENTION_END ||
		    (k = (size_t)(p[1] - '0')) >= m->n) {
			buf_addc(&b, *p == TEAMS_MENTION_MARK || *p == TEAMS_MENTION_END ? ' ' : *p);
			continue;
		}
		if (ids[k])
			buf_printf(&b, "<@%s>", ids[k]);
		else
			buf_printf(&b, "@%s", reply_escape(esc, sizeof(esc), m->who[k].name));
		p += 2;
	}
	return buf_detach(&b, NULL);
}
