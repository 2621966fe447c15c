/* contact.c - see contact.h */
#include "bot/contact.h"
#include "bot/audit.h"
#include "bot/org.h"
#include "bot/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct method_name {
	const char *typed;
	const char *method;
} method_names[] = {
	{ "chat", "chat" }, { "slack", "chat" }, { "dm", "chat" }, { "teams", "chat" },
	{ "sms", "sms" },   { "text", "sms" },   { "email", "email" }, { "mail", "email" },
};

static const char *method_from(const char *typed)
{
	for (size_t i = 0; i < ARRAY_LEN(method_names); i++)
		if (strcasecmp(typed, method_names[i].typed) == 0)
			return method_names[i].method;
	return NULL;
}

/* Words people put between steps that carry no meaning here ("sms after 2m
 * if not acknowledged" is what every step means anyway). */
static bool is_filler(const char *w)
{
	static const char *const fillers[] = { "then", "and", ",", "if", "not", "acknowledged",
					       "unacknowledged", "acked", "unacked" };
	for (size_t i = 0; i < ARRAY_LEN(fillers); i++)
		if (strcasecmp(w, fillers[i]) == 0)
			return true;
	return false;
}

/* Words without their trailing commas, so "chat now, sms 2m" splits the same
 * however the user spaced it. */
static void word(char *out, size_t size, const char *in)
{
	wk_strlcpy(out, in, size);
	for (size_t n = strlen(out); n > 1 && out[n - 1] == ','; n--)
		out[n - 1] = '\0';
}

int contact_rules_parse(int argc, char **argv, struct contact_rules *out, char *why, size_t whysize)
{
	static const char example[] = "write it like `chat now, sms after 2m, email after 5m`";
	char w[48];

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < argc;) {
		word(w, sizeof(w), argv[i]);
		if (is_filler(w)) {
			i++;
			continue;
		}
		const char *m = method_from(w);
		if (!m) {
			snprintf(why, whysize, "`%.40s` is not a way to reach you: use chat, sms or email; %s", w,
				 example);
			return -1;
		}
		for (size_t k = 0; k < out->n; k++)
			if (strcmp(out->rule[k].method, m) == 0) {
				snprintf(why, whysize, "%s appears twice; name each way once", m);
				return -1;
			}
		if (out->n == CONTACT_MAX_RULES) {
			snprintf(why, whysize, "at most %d steps; %s", CONTACT_MAX_RULES, example);
			return -1;
		}
		struct contact_rule *r = &out->rule[out->n++];
		wk_strlcpy(r->method, m, sizeof(r->method));
		i++;
		if (i < argc) {
			word(w, sizeof(w), argv[i]);
			if (strcasecmp(w, "now") == 0 || strcasecmp(w, "immediately") == 0) {
				i++;
			} else {
				bool after = strcasecmp(w, "after") == 0 || strcasecmp(w, "in") == 0;
				if (after && ++i < argc)
					word(w, sizeof(w), argv[i]);
				int64_t d = (after && i >= argc) ? -1 : wk_parse_duration(w, CONTACT_MAX_DELAY_S);
				if (d < 0 && (after || isdigit((unsigned char)w[0]))) {
					snprintf(why, whysize, "`%.40s` is not a delay: say now, 90s, 2m or 1h, up "
							       "to 24h", after && i >= argc ? "after" : w);
					return -1;
				}
				if (d >= 0) {
					r->delay_s = d;
					i++;
				}
			}
		}
		if (out->n > 1 && r->delay_s < out->rule[out->n - 2].delay_s) {
			snprintf(why, whysize, "the steps go in order: %s comes after %s, so its delay can't "
					       "be shorter", r->method, out->rule[out->n - 2].method);
			return -1;
		}
	}
	if (!out->n) {
		snprintf(why, whysize, "name at least one way; %s", example);
		return -1;
	}
	return 0;
}

int contact_rules_decode(const char *stored, struct contact_rules *out)
{
	char copy[128], *save = NULL;

	memset(out, 0, sizeof(*out));
	if (wk_strlcpy(copy, stored, sizeof(copy)) >= sizeof(copy))
		return -1;
	for (char *step = strtok_r(copy, ",", &save); step; step = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(step, ':');
		int64_t d;
		if (!colon || out->n == CONTACT_MAX_RULES)
			return -1;
		*colon = '\0';
		const char *m = method_from(step);
		if (!m || strcmp(m, step) != 0 || !wk_parse_i64(colon + 1, 0, CONTACT_MAX_DELAY_S, &d))
			return -1;
		wk_strlcpy(out->rule[out->n].method, m, sizeof(out->rule[0].method));
		out->rule[out->n++].delay_s = d;
	}
	return out->n ? 0 : -1;
}

void contact_rules_encode(const struct contact_rules *r, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->n && len < size; i++) {
		int n = snprintf(out + len, size - len, "%s%s:%lld", i ? "," : "", r->rule[i].method,
				 (long long)r->rule[i].delay_s);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

static void delay_describe(int64_t s, char *out, size_t size)
{
	if (s == 0)
		snprintf(out, size, "now");
	else if (s % 3600 == 0)
		snprintf(out, size, "after %lld h", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(out, size, "after %lld min", (long long)(s / 60));
	else
		snprintf(out, size, "after %lld s", (long long)s);
}

const char *contact_rules_describe(const struct contact_rules *r, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->n && len < size; i++) {
		char d[32];
		delay_describe(r->rule[i].delay_s, d, sizeof(d));
		int n = snprintf(out + len, size - len, "%s%s %s", i ? ", " : "",
				 strcmp(r->rule[i].method, "sms") == 0 ? "SMS" : r->rule[i].method, d);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return out;
}

int contact_rules_get(struct store *s, const char *org_id, const char *member,
		      struct contact_rules *out, enum contact_source *source)
{
	char kmember[192], ksettings[160];
	redisReply *r;
	int rc = -1;

	if (org_key(kmember, sizeof(kmember), org_id, "member:%s", member) < 0 ||
	    org_key(ksettings, sizeof(ksettings), org_id, "settings") < 0)
		return -1;
	/* Both reads in one round trip: one MULTI-less pipeline via a tiny script. */
	static const struct store_script get_script = {
		"contact_rules_get",
		"return {redis.call('HGET', KEYS[1], 'notify_rules') or '',\n"
		"        redis.call('HGET', KEYS[2], 'notify_rules') or ''}\n",
		NULL
	};
	const char *keys[] = { kmember, ksettings };
	r = store_script(s, &get_script, 2, keys, 0, NULL);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
		rc = 0;
		if (r->element[0]->type == REDIS_REPLY_STRING &&
		    contact_rules_decode(r->element[0]->str, out) == 0)
			*source = CONTACT_OWN;
		else if (r->element[1]->type == REDIS_REPLY_STRING &&
			 contact_rules_decode(r->element[1]->str, out) == 0)
			*source = CONTACT_ORG_DEFAULT;
		else {
			contact_rules_decode(CONTACT_BUILTIN, out);
			*source = CONTACT_BUILTIN_DEFAULT;
		}
	}
	if (r)
		freeReplyObject(r);
	return rc;
}

int contact_rules_set_member(struct store *s, const char *org_id, const char *member,
			     const struct contact_rules *rules)
{
	char key[192], enc[128];
	redisReply *r;
	int rc;

	if (org_key(key, sizeof(key), org_id, "member:%s", member) < 0)
		return -1;
	if (rules) {
		contact_rules_encode(rules, enc, sizeof(enc));
		r = store_command(s, "HSET %s notify_rules %s", key, enc);
	} else {
		r = store_command(s, "HDEL %s notify_rules", key);
	}
	rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
	if (r)
		freeReplyObject(r);
	return rc;
}

int contact_rules_set_default(struct store *s, const char *org_id, const char *actor,
			      const char *platform, const struct contact_rules *rules, int64_t now_ms)
{
	char key[160], enc[128] = "";

	if (org_key(key, sizeof(key), org_id, "settings") < 0)
		return -1;
	if (rules)
		contact_rules_encode(rules, enc, sizeof(enc));
	const struct audited_setting set = { key, "notify_rules", "", "notify.default", "settings" };
	return audit_set_field(s, org_id, &set, enc, actor, platform, now_ms) < 0 ? -1 : 0;
}
