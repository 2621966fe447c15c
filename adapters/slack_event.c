/* slack_event.c - see slack_event.h */
#include "adapters/slack_event.h"
#include "adapters/slack_api.h"
#include "bot/buf.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* v when every byte is in the alphabet allow and it fits size, else NULL. */
static const char *only(const char *v, const char *allow, size_t size)
{
	size_t n;

	if (!v || !v[0])
		return NULL;
	n = strspn(v, allow);
	return v[n] == '\0' && n < size ? v : NULL;
}

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define TS_CHARS "0123456789."

/* Copy v into dst when the check passed (else leave dst ""). */
static void take(char *dst, size_t size, const char *v)
{
	if (v)
		wk_strlcpy(dst, v, size);
}

static const char *slack_id(const char *v, size_t size)
{
	return slack_id_valid(v) && strlen(v) < size ? v : NULL;
}

int slack_event_parse(json_t *payload, struct slack_event *ev, char *why, size_t whysize)
{
	json_t *event, *a;
	const char *type, *v;
	size_t i;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(payload) || !(type = jstr(payload, "type")) || strcmp(type, "event_callback") != 0) {
		snprintf(why, whysize, "not an event_callback");
		return -1;
	}
	if (!(v = only(jstr(payload, "event_id"), ID_CHARS "._-", sizeof(ev->event_id)))) {
		snprintf(why, whysize, "event_id is missing or malformed");
		return -1;
	}
	take(ev->event_id, sizeof(ev->event_id), v);
	if (!(v = slack_id(jstr(payload, "team_id"), sizeof(ev->team_id)))) {
		snprintf(why, whysize, "team_id is missing or malformed");
		return -1;
	}
	take(ev->team_id, sizeof(ev->team_id), v);
	event = json_object_get(payload, "event");
	if (!json_is_object(event) ||
	    !(v = only(jstr(event, "type"), "abcdefghijklmnopqrstuvwxyz0123456789_.", sizeof(ev->type)))) {
		snprintf(why, whysize, "the event object or its type is missing or malformed");
		return -1;
	}
	take(ev->type, sizeof(ev->type), v);
	take(ev->user, sizeof(ev->user), slack_id(jstr(event, "user"), sizeof(ev->user)));
	take(ev->channel, sizeof(ev->channel), slack_id(jstr(event, "channel"), sizeof(ev->channel)));
	take(ev->ts, sizeof(ev->ts), only(jstr(event, "ts"), TS_CHARS, sizeof(ev->ts)));
	take(ev->thread_ts, sizeof(ev->thread_ts), only(jstr(event, "thread_ts"), TS_CHARS, sizeof(ev->thread_ts)));
	take(ev->tab, sizeof(ev->tab), only(jstr(event, "tab"), "abcdefghijklmnopqrstuvwxyz", sizeof(ev->tab)));
	ev->from_bot = jstr(event, "bot_id") != NULL;
	json_array_foreach(json_object_get(payload, "authorizations"), i, a)
		if (json_is_true(json_object_get(a, "is_bot")) && !ev->bot_user[0])
			take(ev->bot_user, sizeof(ev->bot_user), slack_id(jstr(a, "user_id"), sizeof(ev->bot_user)));
	ev->bot_tokens = json_array_size(json_object_get(json_object_get(event, "tokens"), "bot")) > 0;
	v = jstr(event, "text");
	if (v && strlen(v) <= SLACK_EVENT_TEXT_MAX)
		ev->text = xstrdup(v);
	return 0;
}

void slack_event_free(struct slack_event *ev)
{
	free(ev->text);
	ev->text = NULL;
}

#define MENTION_MAX 128

/* The id of the mention <@ID> or <@ID|label> at p (which starts "<@"): its
 * length into *idlen, the whole mention's into *len; false when p is no
 * complete mention. */
static bool mention_at(const char *p, size_t *idlen, size_t *len)
{
	/* A mention is short: looking no further keeps "<@<@<@..." linear. */
	const char *close = memchr(p, '>', strnlen(p, MENTION_MAX));

	if (!close)
		return false;
	*idlen = strcspn(p + 2, "|>");
	*len = (size_t)(close - p) + 1;
	return *idlen > 0;
}

char *slack_text_unescape(const char *in)
{
	static const struct {
		const char *entity;
		char c;
	} entities[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' } };
	struct buf out = BUF_INIT(0);

	while (*in) {
		size_t k;
		for (k = 0; k < ARRAY_LEN(entities); k++)
			if (strncmp(in, entities[k].entity, strlen(entities[k].entity)) == 0)
				break;
		if (k < ARRAY_LEN(entities)) {
			buf_addc(&out, entities[k].c);
			in += strlen(entities[k].entity);
		} else {
			buf_addc(&out, *in++);
		}
	}
	return buf_detach(&out, NULL);
}

char *slack_mention_text(const char *text, const char *bot_user)
{
	struct buf cut = BUF_INIT(0), out = BUF_INIT(0);
	size_t blen = strlen(bot_user), idlen, mlen;
	bool leading = true;	/* nothing but blanks and the bot's mentions so far */
	const char *p;
	char *s, *plain;

	/* The bot's mentions go before entities are decoded, so that typed
	 * "&lt;@U...&gt;" text is never taken for one. */
	for (p = text ? text : ""; *p;) {
		if (p[0] == '<' && p[1] == '@' && mention_at(p, &idlen, &mlen) &&
		    (blen ? idlen == blen && strncmp(p + 2, bot_user, blen) == 0 : leading)) {
			buf_addc(&cut, ' ');
			p += mlen;
			continue;
		}
		if (*p != ' ')
			leading = false;
		buf_addc(&cut, *p++);
	}
	plain = slack_text_unescape(buf_cstr(&cut));
	buf_free(&cut);
	for (p = plain; *p;) {
		if ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0) {
			buf_addc(&out, ' ');	/* Slack puts a no-break space after a mention */
			p += 2;
		} else {
			buf_addc(&out, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
			p++;
		}
	}
	free(plain);
	s = buf_detach(&out, NULL);
	char *start = s;
	while (*start == ' ')
		start++;
	size_t n = strlen(start);
	while (n && start[n - 1] == ' ')
		n--;
	memmove(s, start, n);
	s[n] = '\0';
	return s;
}
