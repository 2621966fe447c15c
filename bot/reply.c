/* reply.c - see reply.h; also request helpers (request.h). */
#include "bot/reply.h"
#include "bot/request.h"
#include "bot/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_TEXT_CAP (32u * 1024)

const char *platform_name(enum platform p)
{
	static const char *const names[] = { "slack", "teams", "console" };
	return names[p];
}

void request_init(struct request *r, enum platform p)
{
	memset(r, 0, sizeof(*r));
	r->platform = p;
	r->text = xstrdup("");
}

void request_free(struct request *r)
{
	free(r->text);
	r->text = NULL;
}

void reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text, REPLY_TEXT_CAP);
}

void reply_free(struct reply *r)
{
	buf_free(&r->text);
	for (size_t i = 0; i < r->nsections; i++) {
		free(r->sections[i].text);
		for (size_t f = 0; f < r->sections[i].nfields; f++) {
			free(r->sections[i].fields[f].label);
			free(r->sections[i].fields[f].value);
		}
	}
	for (size_t i = 0; i < r->nbuttons; i++) {
		free(r->buttons[i].label);
		free(r->buttons[i].action_id);
		free(r->buttons[i].value);
	}
	r->nsections = r->nbuttons = 0;
}

void reply_reset(struct reply *r)
{
	reply_free(r);
	reply_init(r);
}

void reply_textf(struct reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&r->text, fmt, ap);	/* past the cap the text is cut: fine for a headline */
	va_end(ap);
}

struct reply_section *reply_section(struct reply *r, const char *fmt, ...)
{
	struct buf b = BUF_INIT(REPLY_TEXT_CAP);
	va_list ap;

	if (r->nsections == REPLY_MAX_SECTIONS)
		return NULL;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	r->sections[r->nsections].text = buf_detach(&b, NULL);
	r->sections[r->nsections].nfields = 0;
	return &r->sections[r->nsections++];
}

void reply_lead(struct reply *r, const char *fmt, ...)
{
	struct buf b = BUF_INIT(REPLY_TEXT_CAP);
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r->text.len) {
		/* The old headline becomes the first section; with no room left the
		 * last section gives way (replies never come close). */
		if (r->nsections == REPLY_MAX_SECTIONS) {
			struct reply_section *last = &r->sections[--r->nsections];
			free(last->text);
			for (size_t i = 0; i < last->nfields; i++) {
				free(last->fields[i].label);
				free(last->fields[i].value);
			}
		}
		memmove(&r->sections[1], &r->sections[0], r->nsections * sizeof(r->sections[0]));
		r->sections[0].text = buf_detach(&r->text, NULL);
		r->sections[0].nfields = 0;
		r->nsections++;
	}
	buf_reset(&r->text);
	buf_adds(&r->text, buf_cstr(&b));
	buf_free(&b);
}

int reply_field(struct reply_section *s, const char *label, const char *value)
{
	if (!s || s->nfields == REPLY_MAX_FIELDS)
		return -1;
	s->fields[s->nfields].label = xstrdup(label);
	s->fields[s->nfields].value = xstrdup(value);
	s->nfields++;
	return 0;
}

int reply_button(struct reply *r, const char *label, const char *action_id, const char *value,
		 enum button_style style)
{
	struct reply_button *b;

	if (r->nbuttons == REPLY_MAX_BUTTONS)
		return -1;
	b = &r->buttons[r->nbuttons++];
	b->label = xstrdup(label);
	b->action_id = xstrdup(action_id);
	b->value = xstrdup(value ? value : "");
	b->style = style;
	return 0;
}

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (unsigned char)c >= 0x80;
}

const char *reply_escape(char *out, size_t size, const char *in)
{
	size_t o = 0;

	if (!size)
		return out;
	for (const char *start = in; *in && o + 1 < size; in++) {
		char c = *in;
		/* Replace rather than backslash-escape: neither Slack mrkdwn nor Teams
		 * markdown agree on escapes, but all render these look-alikes plainly.
		 * An underscore inside a word (America/New_York, snake_case) starts no
		 * emphasis in Slack mrkdwn or CommonMark, so it stays as typed; only one
		 * at a word's edge, which could open or close _italics_, is replaced. */
		if (c == '_' && in > start && is_word_char(in[-1]) && is_word_char(in[1]))
			;
		else if (c == '*' || c == '`' || c == '_' || c == '~')
			c = '\'';
		else if (c == '<')
			c = '(';
		else if (c == '>')
			c = ')';
		else if ((unsigned char)c < 0x20 && c != '\n')
			c = ' ';
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}
