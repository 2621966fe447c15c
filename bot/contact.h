/* contact.h - contact rules: how, and how soon, a page reaches one person.
 *
 * A rule list is ordered steps "method after delay", for example
 *   chat now, sms after 2m, email after 5m
 * meaning: a chat message at once; if the page is not acknowledged within two
 * minutes an SMS; within five, an email. Methods are "chat" (the person's own
 * chat platform: a Slack DM today, Teams later), "sms" and "email"; each at
 * most once, delays 0 s .. 24 h, non-decreasing.
 *
 * Where they live:
 *   wk:{org}:member:<id>  field notify_rules  the person's own list
 *   wk:{org}:settings     field notify_rules  the org's default (admins)
 *   CONTACT_BUILTIN                           when neither is set
 * Stored form: "chat:0,sms:120,email:300" (method:seconds).
 *
 * Thread: callers pass their own store. Errors: -1 = the store failed. */
#ifndef WK_CONTACT_H
#define WK_CONTACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/store.h"

#define CONTACT_MAX_RULES 3
#define CONTACT_MAX_DELAY_S 86400
#define CONTACT_BUILTIN "chat:0,sms:120,email:300"

struct contact_rule {
	char method[8];		/* "chat", "sms", "email" */
	int64_t delay_s;
};

struct contact_rules {
	struct contact_rule rule[CONTACT_MAX_RULES];
	size_t n;
};

/* What people type, after `/oncall me notify`: steps separated by commas or
 * "then"; each "METHOD [now | after DURATION | DURATION]" where METHOD is
 * chat/slack/dm, sms/text or email/mail and DURATION is like 90s, 2m, 1h, 1h30m.
 * 0 with out filled, or -1 with one sentence in why. */
int contact_rules_parse(int argc, char **argv, struct contact_rules *out, char *why, size_t whysize);

/* The stored form; decode returns -1 on anything malformed. */
int contact_rules_decode(const char *stored, struct contact_rules *out);
void contact_rules_encode(const struct contact_rules *r, char *out, size_t size);
/* "chat now, SMS after 2 min, email after 5 min" */
const char *contact_rules_describe(const struct contact_rules *r, char *out, size_t size);

enum contact_source { CONTACT_OWN, CONTACT_ORG_DEFAULT, CONTACT_BUILTIN_DEFAULT };

/* The member's effective rules and where they came from. One round trip. */
int contact_rules_get(struct store *s, const char *org_id, const char *member,
		      struct contact_rules *out, enum contact_source *source);

/* Set the member's own list, or drop it (rules NULL) to follow the org default. */
int contact_rules_set_member(struct store *s, const char *org_id, const char *member,
			     const struct contact_rules *rules);
/* Set the org default (rules NULL: back to the built-in one); audited. */
int contact_rules_set_default(struct store *s, const char *org_id, const char *actor,
			      const char *platform, const struct contact_rules *rules, int64_t now_ms);

#endif
