/* reply.h - the one platform-neutral reply every command builds.
 *
 * Commands fill a reply; adapters render it (Slack Block Kit, Teams Adaptive
 * Card, plain text for the console and SMS). Text uses a tiny neutral markup
 * every adapter translates:
 *   *bold*        emphasis
 *   `code`        literal text (commands, ids)
 *   <@ID>         a mention of the member with chat id ID
 * Everything a user typed must be passed through reply_escape() before it is
 * put into text, so it can't forge a mention or markup.
 *
 * Ownership: the reply owns all strings added to it (copied); reply_free()
 * releases them. Single-threaded use. */
#ifndef WK_REPLY_H
#define WK_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "bot/buf.h"

#define REPLY_MAX_SECTIONS 20
#define REPLY_MAX_FIELDS 10
#define REPLY_MAX_BUTTONS 5

enum reply_visibility { REPLY_EPHEMERAL, REPLY_IN_CHANNEL };
enum button_style { BUTTON_DEFAULT, BUTTON_PRIMARY, BUTTON_DANGER };

struct reply_field {
	char *label;
	char *value;
};

struct reply_section {
	char *text;
	struct reply_field fields[REPLY_MAX_FIELDS];
	size_t nfields;
};

struct reply_button {
	char *label;
	char *action_id;	/* "oncall.join": command name, dot, action */
	char *value;
	enum button_style style;
};

struct reply {
	enum reply_visibility visibility;
	bool replace_original;	/* for replies to a button click */
	/* Only the asker may see it (an invite code, a feed, export or
	 * integration URL). Slack shows such a reply ephemerally anyway; a
	 * platform without ephemeral messages (Teams) sends it to the asker's
	 * own chat with the bot and leaves a short note where they asked. */
	bool personal;
	struct buf text;	/* headline, also the notification fallback */
	struct reply_section sections[REPLY_MAX_SECTIONS];
	size_t nsections;
	struct reply_button buttons[REPLY_MAX_BUTTONS];
	size_t nbuttons;
};

void reply_init(struct reply *r);
void reply_free(struct reply *r);
void reply_reset(struct reply *r);	/* drop everything, keep it usable */

/* Append to the headline text. */
void reply_textf(struct reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Put a paragraph before everything else (a welcome before the answer): it
 * becomes the headline, and the headline so far the first section. */
void reply_lead(struct reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add a section of body text (markup as above); returns it, or NULL when full. */
struct reply_section *reply_section(struct reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int reply_field(struct reply_section *s, const char *label, const char *value);
int reply_button(struct reply *r, const char *label, const char *action_id, const char *value,
		 enum button_style style);

/* Copy user text into out with markup characters (*, `, <, >, _ , ~) neutralised;
 * an underscore between two letters or digits ("America/New_York") is kept,
 * since no platform reads it as markup there. Characters a platform needs
 * escaped (Slack's &) are the adapter's job. */
const char *reply_escape(char *out, size_t size, const char *in);

#endif
