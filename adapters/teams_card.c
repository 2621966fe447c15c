/* teams_card.c - see teams_card.h */
#include "adapters/teams_card.h"
#include "bot/util.h"

#include <string.h>

#define TEAMS_SUMMARY_MAX 250
#define CARD_HEAD "{\"type\":\"AdaptiveCard\",\"$schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\"," \
		  "\"version\":\"1.5\",\"body\":["

struct card {
	struct buf *out;
	struct buf entities;	/* mention entities, comma-joined */
	struct buf line;	/* one line of text, translated */
	size_t nblocks;
	teams_name_fn names;
	void *arg;
};

/* One mention: "<at>NAME</at>" into line and its entity into c->entities.
 * Unknown people are shown as "@id". */
static int put_mention(struct card *c, const char *id, size_t idlen)
{
	char mid[128], name[128], teams_id[160];

	if (idlen >= sizeof(mid))
		idlen = sizeof(mid) - 1;
	memcpy(mid, id, idlen);
	mid[idlen] = '\0';
	if (!c->names || c->names(c->arg, mid, name, sizeof(name), teams_id, sizeof(teams_id)) < 0 || !name[0]) {
		return buf_addc(&c->line, '@') < 0 || buf_adds(&c->line, mid) < 0 ? -1 : 0;
	}
	/* The name came from a chat profile: it must not close the tag early. */
	for (char *p = name; *p; p++)
		if (*p == '<' || *p == '>')
			*p = ' ';
	char tag[300];
	int n = snprintf(tag, sizeof(tag), "<at>%s</at>", name);
	if (n < 0 || (size_t)n >= sizeof(tag) || buf_add(&c->line, tag, (size_t)n) < 0 ||
	    (c->entities.len && buf_addc(&c->entities, ',') < 0) ||
	    buf_adds(&c->entities, "{\"type\":\"mention\",\"text\":") < 0 ||
	    buf_add_json_string(&c->entities, tag, (size_t)n) < 0)
		return -1;
	return buf_adds(&c->entities, ",\"mentioned\":{\"id\":") < 0 ||
	       buf_add_json_string(&c->entities, teams_id, strlen(teams_id)) < 0 ||
	       buf_adds(&c->entities, ",\"name\":") < 0 ||
	       buf_add_json_string(&c->entities, name, strlen(name)) < 0 || buf_adds(&c->entities, "}}") < 0
		       ? -1
		       : 0;
}

/* Neutral markup of s[0..n) as Teams markdown into c->line. */
static int translate(struct card *c, const char *s, size_t n)
{
	const char *end = s + n;

	buf_reset(&c->line);
	while (s < end) {
		if (s[0] == '<' && s + 1 < end && s[1] == '@') {
			const char *close = memchr(s, '>', (size_t)(end - s));
			if (close) {
				if (put_mention(c, s + 2, (size_t)(close - s - 2)) < 0)
					return -1;
				s = close + 1;
				continue;
			}
		}
		if (*s == '*' ? buf_adds(&c->line, "**") < 0 : buf_addc(&c->line, *s) < 0)
			return -1;
		s++;
	}
	return 0;
}

static int block_start(struct card *c)
{
	return c->nblocks++ ? buf_addc(c->out, ',') : 0;
}

/* Each line its own TextBlock: Teams renders a lone "\n" inside one
 * inconsistently across clients, and lists of shifts are lines. */
static int put_text(struct card *c, const char *text, bool headline)
{
	bool first = true;

	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);

		if (n) {
			if (translate(c, text, n) < 0 || block_start(c) < 0 ||
			    buf_adds(c->out, "{\"type\":\"TextBlock\",\"wrap\":true,\"text\":") < 0 ||
			    buf_add_json_string(c->out, buf_cstr(&c->line), c->line.len) < 0 ||
			    (!first && buf_adds(c->out, ",\"spacing\":\"None\"") < 0) ||
			    (headline && first && buf_adds(c->out, ",\"weight\":\"Bolder\"") < 0) ||
			    buf_addc(c->out, '}') < 0)
				return -1;
			first = false;
		} else {
			first = true;	/* a blank line: the next block keeps its spacing */
		}
		text += n + (nl ? 1 : 0);
	}
	return 0;
}

static int put_facts(struct card *c, const struct reply_section *s)
{
	if (block_start(c) < 0 || buf_adds(c->out, "{\"type\":\"FactSet\",\"facts\":[") < 0)
		return -1;
	for (size_t f = 0; f < s->nfields; f++) {
		const char *v = s->fields[f].value;
		if ((f && buf_addc(c->out, ',') < 0) || buf_adds(c->out, "{\"title\":") < 0 ||
		    buf_add_json_string(c->out, s->fields[f].label, strlen(s->fields[f].label)) < 0 ||
		    translate(c, v, strlen(v)) < 0 || buf_adds(c->out, ",\"value\":") < 0 ||
		    buf_add_json_string(c->out, buf_cstr(&c->line), c->line.len) < 0 || buf_addc(c->out, '}') < 0)
			return -1;
	}
	return buf_adds(c->out, "]}");
}

/* {"action":ID,"value":V} */
static int put_action_data(struct buf *out, const struct reply_button *b)
{
	return buf_adds(out, "{\"action\":") < 0 || buf_add_json_string(out, b->action_id, strlen(b->action_id)) < 0 ||
	       buf_adds(out, ",\"value\":") < 0 || buf_add_json_string(out, b->value, strlen(b->value)) < 0 ||
	       buf_addc(out, '}') < 0 ? -1 : 0;
}

static int put_buttons(struct card *c, const struct reply *r)
{
	static const char *const styles[] = { [BUTTON_DEFAULT] = "default", [BUTTON_PRIMARY] = "positive",
					      [BUTTON_DANGER] = "destructive" };
	struct buf *out = c->out;

	if (buf_adds(out, ",\"actions\":[") < 0)
		return -1;
	for (size_t i = 0; i < r->nbuttons; i++) {
		const struct reply_button *b = &r->buttons[i];
		if ((i && buf_addc(out, ',') < 0) || buf_adds(out, "{\"type\":\"Action.Execute\",\"title\":") < 0 ||
		    buf_add_json_string(out, b->label, strlen(b->label)) < 0 || buf_adds(out, ",\"verb\":") < 0 ||
		    buf_add_json_string(out, b->action_id, strlen(b->action_id)) < 0 ||
		    buf_printf(out, ",\"style\":\"%s\",\"data\":", styles[b->style]) < 0 || put_action_data(out, b) < 0 ||
		    buf_adds(out, ",\"fallback\":{\"type\":\"Action.Submit\",\"title\":") < 0 ||
		    buf_add_json_string(out, b->label, strlen(b->label)) < 0 || buf_adds(out, ",\"data\":") < 0 ||
		    put_action_data(out, b) < 0 || buf_adds(out, "}}") < 0)
			return -1;
	}
	return buf_addc(out, ']');
}

int teams_card_render(const struct reply *r, teams_name_fn names, void *arg, struct buf *out)
{
	struct card c = { out, BUF_INIT(TEAMS_CARD_MAX), BUF_INIT(TEAMS_CARD_MAX), 0, names, arg };
	size_t start = out->len;
	int rc;

	rc = buf_adds(out, CARD_HEAD) < 0 || (r->text.len && put_text(&c, buf_cstr(&r->text), true) < 0) ? -1 : 0;
	for (size_t i = 0; rc == 0 && i < r->nsections; i++) {
		const struct reply_section *s = &r->sections[i];
		if ((s->text[0] && put_text(&c, s->text, false) < 0) || (s->nfields && put_facts(&c, s) < 0))
			rc = -1;
	}
	if (rc == 0 && (buf_addc(out, ']') < 0 || (r->nbuttons && put_buttons(&c, r) < 0)))
		rc = -1;
	if (rc == 0 && c.entities.len &&
	    (buf_adds(out, ",\"msteams\":{\"entities\":[") < 0 || buf_add(out, c.entities.data, c.entities.len) < 0 ||
	     buf_adds(out, "]}") < 0))
		rc = -1;
	if (rc == 0 && buf_addc(out, '}') < 0)
		rc = -1;
	if (out->len - start > TEAMS_CARD_MAX)
		rc = -1;
	buf_free(&c.entities);
	buf_free(&c.line);
	return rc;
}

/* The headline as plain text for the notification banner: no markup, mentions
 * as @id, cut on a character boundary. */
static void summary_of(const struct reply *r, char *out, size_t size)
{
	const char *s = r->text.len ? buf_cstr(&r->text) : (r->nsections ? r->sections[0].text : "");
	size_t o = 0;

	while (*s && *s != '\n' && o + 1 < size && o < TEAMS_SUMMARY_MAX) {
		const char *close;
		if (s[0] == '<' && s[1] == '@' && (close = strchr(s, '>'))) {
			out[o++] = '@';
			s += 2;
			while (s < close && o + 1 < size && o < TEAMS_SUMMARY_MAX)
				out[o++] = *s++;
			s = close + 1;
		} else if (*s == '*') {
			s++;
		} else {
			out[o++] = *s++;
		}
	}
	if (*s && *s != '\n')	/* cut: never in the middle of a character */
		while (o && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
			o--;
	if (o && (unsigned char)out[o - 1] >= 0xC0 && *s && *s != '\n')
		o--;
	out[o] = '\0';
}

int teams_activity_render(const struct reply *r, teams_name_fn names, void *arg, struct buf *out)
{
	char summary[TEAMS_SUMMARY_MAX + 8];

	summary_of(r, summary, sizeof(summary));
	if (buf_adds(out, "{\"type\":\"message\",\"summary\":") < 0 ||
	    buf_add_json_string(out, summary, strlen(summary)) < 0 ||
	    buf_adds(out, ",\"attachments\":[{\"contentType\":\"application/vnd.microsoft.card.adaptive\","
			  "\"content\":") < 0 ||
	    teams_card_render(r, names, arg, out) < 0 || buf_adds(out, "}]}") < 0)
		return -1;
	return 0;
}

int teams_text_activity(const char *text, struct buf *out)
{
	return buf_adds(out, "{\"type\":\"message\",\"textFormat\":\"markdown\",\"text\":") < 0 ||
	       buf_add_json_string(out, text, strlen(text)) < 0 || buf_addc(out, '}') < 0 ? -1 : 0;
}

int teams_card_action(json_t *data, const char *verb, char *action, size_t asize, char *value, size_t vsize)
{
	json_t *a = json_object_get(data, "action"), *v = json_object_get(data, "value");
	const char *id = json_is_string(a) ? json_string_value(a) : verb;

	if (!id || !strchr(id, '.') || strlen(id) >= asize || (v && !json_is_string(v)))
		return -1;
	if (verb && verb[0] && strcmp(verb, id) != 0)
		return -1;	/* the verb and the data disagree: not a card of ours */
	if (wk_strlcpy(value, v ? json_string_value(v) : "", vsize) >= vsize)
		return -1;
	wk_strlcpy(action, id, asize);
	return 0;
}
