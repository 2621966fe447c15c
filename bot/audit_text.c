/* audit_text.c - audit entries as sentences people read (see audit.h). */
#include "bot/audit.h"
#include "bot/contact.h"
#include "bot/org.h"
#include "bot/reply.h"
#include "bot/util.h"
#include "bot/when.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* How each action reads. In a template:
 *   %a  who acted         %r  what it acted on, by name (rotation *night*, <@U1>)
 *   %b  the old state     %f  the new state (both escaped; "not set" when empty)
 *   %wN word N of the detail (the new state, else the old one), escaped
 *   %uN word N as a person ("member:U1" or "U1" -> <@U1>)
 *   %tN word N, a range "START-END" of Unix seconds, as times in the reader's zone
 *   %k  the value of role=... in the detail
 *   %B, %F  the old, new state as contact rules ("chat now, SMS after 2 min")
 * Actions not in the table read "%a: `action` on %r: %b → %f". */
static const struct {
	const char *action, *text;
} sentences[] = {
	{ "member.role", "%a changed %r's role from *%b* to *%f*" },
	{ "member.remove", "%a removed %r (who was %b)" },
	{ "member.claim", "%r joined, %f" },
	{ "member.map", "%a linked %r to %f" },
	{ "rotation.create", "%a created %r" },
	{ "rotation.delete", "%a deleted %r" },
	{ "rotation.add", "%a added %u1 to %r" },
	{ "rotation.remove", "%a took %u1 out of %r" },
	{ "rotation.move", "%a moved %u1 to position %w3 in %r" },
	{ "rotation.pause", "%a paused %u1 in %r" },
	{ "rotation.resume", "%a resumed %u1 in %r" },
	{ "rotation.set", "%a changed the settings of %r" },
	{ "override.create", "%a made %r: %u1 on call %t2" },
	{ "override.remove", "%a removed %r (%u1 on call %t2)" },
	{ "swap.create", "an approved swap made %r: %u1 on call %t2" },
	{ "swap.remove", "%a removed %r (from a swap: %u1 on call %t2)" },
	{ "swap.request", "%a asked for %r, a %w1 with %u3" },
	{ "swap.accept", "%a accepted %r (now %f)" },
	{ "swap.decline", "%a declined %r" },
	{ "swap.approve", "%a approved %r" },
	{ "swap.reject", "%a rejected %r" },
	{ "swap.cancel", "%a cancelled %r" },
	{ "swap.undo", "%a undid %r" },
	{ "swap.expire", "%r expired unanswered" },
	{ "swap.policy", "%a set who approves swaps to %f (was %b)" },
	{ "notify.default", "%a set the workspace's default contact rules to %F (was %B)" },
	{ "team.create", "%a created team *%f*" },
	{ "team.rename", "%a renamed team *%b* to *%f*" },
	{ "team.delete", "%a deleted team *%b*" },
	{ "team.add", "%a added %u1 to %r" },
	{ "team.remove", "%a took %u1 out of %r" },
	{ "team.reminder", "%a set the daily reminder of %r to %f (was %b)" },
	{ "team.announce", "%a set where handoffs of %r are announced to %f (was %b)" },
	{ "invite.create", "%a created %r (%w1, role %k)" },
	{ "invite.use", "%u1 joined with %r as %k" },
	{ "invite.revoke", "%a revoked %r" },
	{ "github.sync", "%a synced the GitHub org's members: %f" },
	{ "org.mode", "%a switched the workspace from %b to %f mode" },
	{ "org.tz", "%a set the workspace's time zone to %f (was %b)" },
	{ "org.phone_region", "%a set the workspace's phone region to %f (was %b)" },
	{ "org.suspend", "%a suspended the workspace" },
	{ "org.activate", "%a activated the workspace again" },
	{ "delegate.mode", "%a set who may receive incidents to %f (was %b)" },
	{ "delegate.viewers", "%a turned incidents for viewers %f (was %b)" },
	{ "delegate.priority", "%a set the order incidents page people in to %f (was %b)" },
	{ "delegate.rule_add", "%a added a delegation rule: %f" },
	{ "delegate.rule_remove", "%a removed a delegation rule: %b" },
	{ "delegate.policy", "%a changed an escalation policy (%r) to %f (was %b)" },
};

/* Word n (1-based) of text into out; "" when there is none. */
static const char *word(const char *text, int n, char *out, size_t size)
{
	const char *p = text;

	out[0] = '\0';
	for (int i = 1; *p; i++) {
		size_t len;
		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (i == n) {
			if (len >= size)
				len = size - 1;
			memcpy(out, p, len);
			out[len] = '\0';
			return out;
		}
		p += len;
	}
	return out;
}

/* A member id as a mention; anything else (not an id) escaped. */
static void person(struct buf *out, const char *id)
{
	char esc[80];

	if (strncmp(id, "member:", 7) == 0)
		id += 7;
	if (org_member_id_valid(id))
		buf_printf(out, "<@%s>", id);
	else
		buf_adds(out, id[0] ? reply_escape(esc, sizeof(esc), id) : "someone");
}

static void range(struct buf *out, const char *text, const struct tz *zone)
{
	int64_t a, b;
	char from[64], to[64], num[24];
	const char *dash = strchr(text, '-');

	if (dash && (size_t)(dash - text) < sizeof(num)) {
		memcpy(num, text, (size_t)(dash - text));
		num[dash - text] = '\0';
		if (wk_parse_i64(num, 0, INT64_MAX / 2, &a) && wk_parse_i64(dash + 1, 0, INT64_MAX / 2, &b)) {
			buf_printf(out, "from %s to %s", when_format(zone, a, from, sizeof(from)),
				   when_format(zone, b, to, sizeof(to)));
			return;
		}
	}
	buf_adds(out, "(times not recorded)");
}

/* A rotation's name from its stored JSON; "" when it is gone. */
static void rotation_name(struct store *s, const char *org_id, const char *id, char *out, size_t size)
{
	char key[192];
	redisReply *r;

	out[0] = '\0';
	if (org_key(key, sizeof(key), org_id, "rotation:%s", id) < 0 || !(r = store_command(s, "GET %s", key)))
		return;
	if (r->type == REDIS_REPLY_STRING) {
		json_t *j = json_loadb(r->str, r->len, 0, NULL);
		const char *name = json_string_value(json_object_get(j, "name"));
		if (name)
			wk_strlcpy(out, name, size);
		json_decref(j);
	}
	freeReplyObject(r);
}

static void team_name(struct store *s, const char *org_id, const char *id, char *out, size_t size)
{
	char key[192];
	redisReply *r;

	out[0] = '\0';
	if (org_key(key, sizeof(key), org_id, "teams") < 0 || !(r = store_command(s, "HGET %s %s", key, id)))
		return;
	if (r->type == REDIS_REPLY_STRING)
		wk_strlcpy(out, r->str, size);
	freeReplyObject(r);
}

/* What an entry acted on, the way people name it. */
static void resource(struct buf *out, struct store *s, const char *org_id, const struct audit_entry *e)
{
	static const struct {
		const char *prefix, *noun;
	} kinds[] = { { "override:", "override" }, { "swap:", "swap" }, { "invite:", "invite" } };
	const char *res = e->resource, *colon = strchr(res, ':');
	char name[128], esc[160];

	if (strncmp(res, "member:", 7) == 0) {
		person(out, res);
		return;
	}
	if (strncmp(res, "rotation:", 9) == 0 || strncmp(res, "team:", 5) == 0) {
		bool rot = res[0] == 'r';
		if (rot)
			rotation_name(s, org_id, colon + 1, name, sizeof(name));
		else
			team_name(s, org_id, colon + 1, name, sizeof(name));
		/* A deleted rotation's name is in its own create/delete entry. */
		if (!name[0] && rot && (!strcmp(e->action, "rotation.create") || !strcmp(e->action, "rotation.delete")))
			wk_strlcpy(name, e->after[0] ? e->after : e->before, sizeof(name));
		if (name[0])
			buf_printf(out, "%s *%s*", rot ? "rotation" : "team", reply_escape(esc, sizeof(esc), name));
		else
			buf_printf(out, "a deleted %s", rot ? "rotation" : "team");
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
		if (strncmp(res, kinds[i].prefix, strlen(kinds[i].prefix)) == 0) {
			buf_printf(out, "%s `%s`", kinds[i].noun, reply_escape(esc, sizeof(esc), colon + 1));
			return;
		}
	if (strcmp(res, "org") == 0 || strncmp(res, "org:", 4) == 0)
		buf_adds(out, "the workspace");
	else
		buf_adds(out, reply_escape(esc, sizeof(esc), res));
}

/* Contact rules in their stored form ("sms:0,email:600") as people read them. */
static void rules(struct buf *out, const char *stored)
{
	struct contact_rules r;
	char text[256];

	if (!stored[0])
		buf_adds(out, "the built-in default");
	else if (contact_rules_decode(stored, &r) == 0)
		buf_adds(out, contact_rules_describe(&r, text, sizeof(text)));
	else
		buf_adds(out, "(unreadable rules)");
}

static void state(struct buf *out, const char *v)
{
	char esc[200];

	buf_adds(out, v[0] ? reply_escape(esc, sizeof(esc), v) : "not set");
}

void audit_describe(struct store *s, const char *org_id, const struct audit_entry *e,
		    const struct tz *zone, struct buf *out)
{
	const char *text = "%a: `%x` on %r: %b → %f", *detail = e->after[0] ? e->after : e->before;
	char when[64], w[128], esc[160];

	for (size_t i = 0; i < ARRAY_LEN(sentences); i++)
		if (strcmp(sentences[i].action, e->action) == 0)
			text = sentences[i].text;
	buf_printf(out, "%s: ", when_format(zone, e->ts / 1000, when, sizeof(when)));
	for (const char *p = text; *p; p++) {
		if (*p != '%' || !p[1]) {
			buf_addc(out, *p);
			continue;
		}
		char c = *++p;
		int n = (c == 'w' || c == 'u' || c == 't') && p[1] >= '1' && p[1] <= '9' ? *++p - '0' : 0;
		switch (c) {
		case 'a':
			if (strcmp(e->actor, "operator") == 0)
				buf_adds(out, "an operator");
			else if (strcmp(e->actor, "watchkeeper") == 0)
				buf_adds(out, "Watchkeeper");
			else
				person(out, e->actor);
			break;
		case 'r': resource(out, s, org_id, e); break;
		case 'b': state(out, e->before); break;
		case 'f': state(out, e->after); break;
		case 'B': rules(out, e->before); break;
		case 'F': rules(out, e->after); break;
		case 'x': buf_adds(out, reply_escape(esc, sizeof(esc), e->action)); break;
		case 'w': buf_adds(out, reply_escape(esc, sizeof(esc), word(detail, n, w, sizeof(w)))); break;
		case 'u': person(out, word(detail, n, w, sizeof(w))); break;
		case 't': range(out, word(detail, n, w, sizeof(w)), zone); break;
		case 'k': {
			const char *k = strstr(detail, "role=");
			state(out, k ? word(k + 5, 1, w, sizeof(w)) : "");
			break;
		}
		default: buf_addc(out, c);
		}
	}
	buf_adds(out, ".\n");
}
