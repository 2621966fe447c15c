/* operator.c - see operator.h
 *
 * One-shot tools: parse the command line, load the config the daemon would
 * use, open one store, do one thing, exit. Everything printed that came out of
 * Redis goes through put_safe(), since member names and ids come from chat
 * users and must not drive the operator's terminal. */
#include "bot/operator.h"
#include "adapters/slack_tokens.h"
#include "bot/audit.h"
#include "bot/backup_format.h"
#include "bot/buf.h"
#include "bot/config.h"
#include "bot/integration.h"
#include "bot/org.h"
#include "bot/secrets.h"
#include "bot/store.h"
#include "bot/team.h"
#include "bot/tz.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

#define KEY_SIZE 192

static const char usage_text[] =
	"Usage: watchkeeper orgs list [-c FILE]\n"
	"       watchkeeper orgs show|suspend|activate ID [-c FILE]\n"
	"       watchkeeper audit verify|export --org ID [-c FILE]\n"
	"       watchkeeper audit lua\n"
	"       watchkeeper secrets rotate [-c FILE]\n"
	"       watchkeeper backup FILE | restore FILE [--force] [--skip-overdue] [-c FILE]\n"
	"\n"
	"Operator tools, run against the daemon's Redis: WK_REDIS_URL, else \"redis.url\" in\n"
	"-c FILE, else redis://127.0.0.1:6379/0. `make run` starts its own Redis on a Unix\n"
	"socket; reach it with WK_REDIS_URL=$(scripts/redis.sh url build/run).\n"
	"\n"
	"  orgs list            every org: id, mode, status, member count\n"
	"  orgs show ID         one org: its fields, members by role, owners, teams\n"
	"  orgs suspend ID      members then only hear that the org is suspended\n"
	"  orgs activate ID     lift a suspension\n"
	"  audit verify --org ID  check the audit log's hash chain; name the first bad entry\n"
	"  audit export --org ID  the audit log as CSV on stdout\n"
	"  audit lua            print the Lua that writes audit entries (for tests)\n"
	"  backup, restore      every org's state as JSON lines, and back (watchkeeper backup -h)\n"
	"  secrets rotate       re-seal every stored secret (installed Slack workspaces' bot\n"
	"                       tokens, integrations' signing secrets) that opens under\n"
	"                       secrets.key_previous with secrets.key; safe to run again.\n"
	"                       After a rotation: set WK_SECRET_KEY to the new key and\n"
	"                       WK_SECRET_KEY_PREVIOUS to the old one, restart, run this,\n"
	"                       then drop WK_SECRET_KEY_PREVIOUS\n"
	"\n"
	"ID is an org id such as slack:T0123. Exit status: 0 done, 1 failed (unknown org,\n"
	"broken chain, Redis down, secrets that open under neither key), 2 usage or\n"
	"configuration error.\n";

struct args {
	const char *tool;	/* "orgs" or "audit" */
	const char *sub;
	const char *id;
	const char *config;
};

bool operator_is_command(const char *arg)
{
	return strcmp(arg, "orgs") == 0 || strcmp(arg, "audit") == 0 || strcmp(arg, "secrets") == 0 ||
	       operator_backup_is_command(arg);
}

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "watchkeeper: %s\n\n", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

/* Write n bytes with control characters shown as '?': text from Redis came
 * from chat users and must not move the cursor or recolour a terminal. */
static void put_safe(FILE *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
	}
}

static void puts_safe(FILE *out, const char *s)
{
	put_safe(out, s, strlen(s));
}

static int bad_id(const char *id)
{
	fputs("watchkeeper: \"", stderr);
	puts_safe(stderr, id);
	fputs("\" is not an org id (expected platform:id, e.g. slack:T0123)\n", stderr);
	return EXIT_USAGE;
}

static int no_org(const char *id)
{
	fprintf(stderr, "no org with id %s\n", id);	/* id was validated */
	return EXIT_FAIL;
}

/* Where the tools looked for Redis (no password), for the hint on failure. */
static char redis_where[300];

static int store_failed(struct store *s, const char *what)
{
	fprintf(stderr, "watchkeeper: %s: %s\n", what, store_error(s));
	/* The usual cause: the daemon's Redis is elsewhere (`make run` starts its own
	 * on a Unix socket, while the default is TCP 127.0.0.1:6379). */
	fprintf(stderr, "watchkeeper: looked for Redis at %s; point WK_REDIS_URL (or \"redis.url\" in "
			"-c FILE) at the daemon's, e.g. for `make run`'s: "
			"WK_REDIS_URL=$(scripts/redis.sh url build/run)\n", redis_where);
	return EXIT_FAIL;
}

static bool reply_is_string(const redisReply *r)
{
	return r && r->type == REDIS_REPLY_STRING;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The string elements of an array reply (pointers into it), sorted. */
static const char **sorted_strings(const redisReply *r, size_t *n)
{
	const char **v = xcalloc(r->elements ? r->elements : 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < r->elements; i++)
		if (reply_is_string(r->element[i]))
			v[(*n)++] = r->element[i]->str;
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

/* A reply that must be an array; NULL (reply freed) otherwise. */
static redisReply *want_array(redisReply *r)
{
	if (r && r->type != REDIS_REPLY_ARRAY) {
		if (r->type == REDIS_REPLY_ERROR)
			fprintf(stderr, "watchkeeper: Redis: %s\n", r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* ---- orgs list ---- */

static int orgs_list(struct store *s)
{
	redisReply *r = want_array(store_command(s, "SMEMBERS wk:orgs"));
	const char **ids;
	size_t n;
	int rc = EXIT_OK;

	if (!r)
		return store_failed(s, "cannot read wk:orgs");
	ids = sorted_strings(r, &n);
	if (n == 0)
		fprintf(stderr, "no orgs yet\n");
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		char korg[KEY_SIZE], kmembers[KEY_SIZE];

		puts_safe(stdout, ids[i]);
		if (!backup_org_valid(ids[i]) || store_key(korg, sizeof(korg), ids[i], "org") < 0 ||
		    store_key(kmembers, sizeof(kmembers), ids[i], "members") < 0) {
			fputs("  (not a valid org id; skipped)\n", stdout);
			continue;
		}
		redisReply *h = want_array(store_command(s, "HMGET %s mode suspended", korg));
		redisReply *c = store_command(s, "SCARD %s", kmembers);
		if (!h || !c || c->type != REDIS_REPLY_INTEGER) {
			rc = store_failed(s, "cannot read an org");
		} else if (!reply_is_string(h->element[0]) && !reply_is_string(h->element[1])) {
			printf("  mode=?  status=missing  members=%lld\n", c->integer);
		} else {
			bool suspended = reply_is_string(h->element[1]) && strcmp(h->element[1]->str, "1") == 0;

			fputs("  mode=", stdout);
			puts_safe(stdout, reply_is_string(h->element[0]) ? h->element[0]->str : "?");
			printf("  status=%s  members=%lld\n", suspended ? "suspended" : "active", c->integer);
		}
		if (h)
			freeReplyObject(h);
		if (c)
			freeReplyObject(c);
	}
	free(ids);
	freeReplyObject(r);
	return rc;
}

/* ---- orgs show ---- */

/* Fields printed first, in this order; the rest follow as stored. */
static const char *const shown_fields[] = {
	"id", "platform", "external_id", "mode", "owner", "created_ms"
};

/* Kept in the org hash for the daemon's own use: not worth a line. */
static const char *const internal_fields[] = { "audit_tip" };

static bool is_shown_field(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(internal_fields); i++)
		if (strcmp(name, internal_fields[i]) == 0)
			return true;	/* as if shown: left out of "the rest" */
	for (size_t i = 0; i < ARRAY_LEN(shown_fields); i++)
		if (strcmp(name, shown_fields[i]) == 0)
			return true;
	return strcmp(name, "suspended") == 0;	/* shown as status */
}

static void show_field(const char *name, const char *value)
{
	size_t n = strlen(name);

	fputs("  ", stdout);
	puts_safe(stdout, name);
	printf("%*s", n < 13 ? (int)(13 - n) : 1, "");
	puts_safe(stdout, value);
	if (strcmp(name, "created_ms") == 0) {
		int64_t ms;
		time_t secs;
		struct tm tm;
		char when[32];

		if (wk_parse_i64(value, 0, INT64_MAX, &ms) && (secs = (time_t)(ms / 1000), gmtime_r(&secs, &tm)) &&
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
			printf(" (%s)", when);
	}
	fputc('\n', stdout);
}

static const char *hash_get(const redisReply *flat, const char *field)
{
	for (size_t i = 0; i + 1 < flat->elements; i += 2)
		if (reply_is_string(flat->element[i]) && reply_is_string(flat->element[i + 1]) &&
		    strcmp(flat->element[i]->str, field) == 0)
			return flat->element[i + 1]->str;
	return NULL;
}

static int show_members(struct store *s, const char *id)
{
	char kmembers[KEY_SIZE];
	size_t counts[ROLE_OWNER + 1] = { 0 }, n, nowners = 0;
	struct buf owners = BUF_INIT(0);
	redisReply *r;
	const char **mids;
	int rc = EXIT_OK;

	if (store_key(kmembers, sizeof(kmembers), id, "members") < 0)
		return EXIT_FAIL;
	r = want_array(store_command(s, "SMEMBERS %s", kmembers));
	if (!r)
		return store_failed(s, "cannot read the members");
	mids = sorted_strings(r, &n);
	for (size_t i = 0; i < n; i++) {
		char kmember[KEY_SIZE], suffix[160];
		redisReply *m;
		enum role role;

		snprintf(suffix, sizeof(suffix), "member:%s", mids[i]);
		if (store_key(kmember, sizeof(kmember), id, suffix) < 0)
			continue;
		m = want_array(store_command(s, "HMGET %s role name", kmember));
		if (!m) {
			rc = store_failed(s, "cannot read a member");
			goto out;
		}
		role = reply_is_string(m->element[0]) ? role_parse(m->element[0]->str) : ROLE_NONE;
		counts[role]++;
		if (role == ROLE_OWNER) {
			buf_adds(&owners, nowners++ ? ", " : " ");
			buf_adds(&owners, mids[i]);
			if (reply_is_string(m->element[1]) && m->element[1]->len)
				buf_printf(&owners, " (%s)", m->element[1]->str);
		}
		freeReplyObject(m);
	}
	printf("members      %zu:", n);
	for (int role = ROLE_OWNER; role >= ROLE_VIEWER; role--)
		printf(" %s %zu%s", role_name((enum role)role), counts[role], role > ROLE_VIEWER ? "," : "");
	if (counts[ROLE_NONE])
		printf(", no known role %zu", counts[ROLE_NONE]);
	fputs("\nowners      ", stdout);
	puts_safe(stdout, nowners ? buf_cstr(&owners) : " (none)");
	fputc('\n', stdout);
out:
	buf_free(&owners);
	free(mids);
	freeReplyObject(r);
	return rc;
}

static int show_teams(struct store *s, const char *id)
{
	struct team_info *teams;
	size_t n;

	if (team_list(s, id, &teams, &n) < 0)
		return store_failed(s, "cannot read the teams");
	fputs("teams       ", stdout);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : " ", stdout);
		puts_safe(stdout, teams[i].name);
		fputs(" (", stdout);
		puts_safe(stdout, teams[i].id);
		printf(", %zu %s)", teams[i].members, teams[i].members == 1 ? "member" : "members");
	}
	fputs(n ? "\n" : " (none)\n", stdout);
	free(teams);
	return EXIT_OK;
}

static int orgs_show(struct store *s, const char *id)
{
	char korg[KEY_SIZE], kstream[KEY_SIZE], ktip[KEY_SIZE];
	redisReply *r, *x;
	const char *suspended;
	int rc;

	if (store_key(korg, sizeof(korg), id, "org") < 0 ||
	    audit_keys(id, kstream, sizeof(kstream), ktip, sizeof(ktip)) < 0)
		return bad_id(id);
	r = want_array(store_command(s, "HGETALL %s", korg));
	if (!r)
		return store_failed(s, "cannot read the org");
	if (r->elements == 0) {
		freeReplyObject(r);
		return no_org(id);
	}
	suspended = hash_get(r, "suspended");
	printf("org %s\n", id);
	printf("  %-12s %s\n", "status", suspended && strcmp(suspended, "1") == 0 ? "suspended" : "active");
	for (size_t i = 0; i < ARRAY_LEN(shown_fields); i++) {
		const char *v = hash_get(r, shown_fields[i]);
		if (v)
			show_field(shown_fields[i], v);
	}
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (reply_is_string(r->element[i]) && reply_is_string(r->element[i + 1]) &&
		    !is_shown_field(r->element[i]->str))
			show_field(r->element[i]->str, r->element[i + 1]->str);
	freeReplyObject(r);
	rc = show_members(s, id);
	if (rc == EXIT_OK)
		rc = show_teams(s, id);
	if (rc == EXIT_OK) {
		x = store_command(s, "XLEN %s", kstream);
		if (x && x->type == REDIS_REPLY_INTEGER)
			printf("audit log    %lld %s\n", x->integer, x->integer == 1 ? "entry" : "entries");
		else
			rc = store_failed(s, "cannot read the audit log");
		if (x)
			freeReplyObject(x);
	}
	return rc;
}

/* ---- orgs suspend / activate ---- */

/* The change and its audit entry are one script, so there is never a
 * suspension without its entry or an entry without its suspension. */
static const struct store_script org_suspend_script = {
	.name = "org_suspend",
	/* KEYS: org hash, audit stream, audit tip.
	 * ARGV: "1" suspend | "0" activate, now (ms), resource ("org:<id>") */
	.source =
		"if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end\n"
		"local suspended = redis.call('HGET', KEYS[1], 'suspended') == '1'\n"
		"local want = ARGV[1] == '1'\n"
		"if suspended == want then return {'unchanged'} end\n"
		"local before, after, action = 'active', 'suspended', 'org.suspend'\n"
		"if want then\n"
		"  redis.call('HSET', KEYS[1], 'suspended', '1')\n"
		"else\n"
		"  redis.call('HDEL', KEYS[1], 'suspended')\n"
		"  before, after, action = 'suspended', 'active', 'org.activate'\n"
		"end\n"
		"local hash = wk_audit(KEYS[2], KEYS[3], ARGV[2], 'operator', 'operator', action,\n"
		"                      ARGV[3], before, after)\n"
		"return {'changed', hash}\n",
	.prelude = AUDIT_LUA,
};

static int orgs_set_suspended(struct store *s, const char *id, bool suspend)
{
	char korg[KEY_SIZE], kstream[KEY_SIZE], ktip[KEY_SIZE], now[24], resource[128];
	redisReply *r;
	int rc = EXIT_FAIL;

	if (store_key(korg, sizeof(korg), id, "org") < 0 ||
	    audit_keys(id, kstream, sizeof(kstream), ktip, sizeof(ktip)) < 0)
		return bad_id(id);
	snprintf(now, sizeof(now), "%lld", (long long)wk_now_ms());
	snprintf(resource, sizeof(resource), "org:%s", id);
	const char *keys[] = { korg, kstream, ktip };
	const char *args[] = { suspend ? "1" : "0", now, resource };
	r = store_script(s, &org_suspend_script, 3, keys, 3, args);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1 || !reply_is_string(r->element[0])) {
		if (r && r->type == REDIS_REPLY_ERROR)
			fprintf(stderr, "watchkeeper: Redis: %s\n", r->str);
		else
			store_failed(s, suspend ? "cannot suspend the org" : "cannot activate the org");
		goto out;
	}
	const char *what = r->element[0]->str;
	if (strcmp(what, "missing") == 0) {
		rc = no_org(id);
	} else if (strcmp(what, "unchanged") == 0) {
		printf("org %s is already %s; nothing changed\n", id, suspend ? "suspended" : "active");
		rc = EXIT_OK;
	} else {
		if (suspend)
			printf("org %s is now suspended: its members only hear that it is suspended\n", id);
		else
			printf("org %s is active again\n", id);
		if (r->elements > 1 && reply_is_string(r->element[1]))
			printf("audit entry %s\n", r->element[1]->str);
		rc = EXIT_OK;
	}
out:
	if (r)
		freeReplyObject(r);
	return rc;
}

/* ---- audit ---- */

/* An org is known when its hash or anything of its audit log exists (an org
 * removed later keeps its log, which stays verifiable). -1: store failure. */
static int org_known(struct store *s, const char *id)
{
	char korg[KEY_SIZE], kstream[KEY_SIZE], ktip[KEY_SIZE];
	redisReply *r;
	int rc;

	if (store_key(korg, sizeof(korg), id, "org") < 0 ||
	    audit_keys(id, kstream, sizeof(kstream), ktip, sizeof(ktip)) < 0)
		return 0;
	r = store_command(s, "EXISTS %s %s %s", korg, kstream, ktip);
	rc = r && r->type == REDIS_REPLY_INTEGER ? r->integer > 0 : -1;
	if (r)
		freeReplyObject(r);
	return rc;
}

static int audit_run_verify(struct store *s, const char *id)
{
	char report[512];
	size_t checked;

	switch (audit_verify(s, id, report, sizeof(report), &checked)) {
	case AUDIT_INTACT:
		printf("audit log of %s: %zu %s, chain intact\n", id, checked,
		       checked == 1 ? "entry" : "entries");
		return EXIT_OK;
	case AUDIT_BROKEN:
		printf("audit log of %s: chain broken: %s\n", id, report);
		return EXIT_FAIL;
	case AUDIT_STORE_ERROR:
		break;
	}
	fprintf(stderr, "watchkeeper: %s\n", report);
	return EXIT_FAIL;
}

static int audit_run_export(struct store *s, const char *id)
{
	if (audit_export_csv(s, id, stdout) < 0) {
		fprintf(stderr, "watchkeeper: cannot export the audit log of %s: %s\n", id,
			ferror(stdout) ? "write error on stdout" : store_error(s));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- secrets rotate ---- */

struct reseal_tally {
	size_t resealed, current, unopenable;
};

/* Replace the sealed value only if it is still the one that was opened: a
 * value sealed anew meanwhile (a reinstall) is already current.
 * KEYS: the hash. ARGV: field, old sealed, new sealed. */
static const struct store_script reseal_script = {
	.name = "secrets_reseal",
	.source = "if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end\n"
		  "redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])\n"
		  "return 1\n",
};

/* One sealed field: opened, and re-sealed under secrets.key when it opened
 * under secrets.key_previous. what names it for the operator (no secret).
 * -1 only when Redis failed. */
static int reseal_one(const struct config *cfg, struct store *s, const char *key, const char *field,
		      const char *context, const char *what, struct reseal_tally *t)
{
	char sealed[SECRETS_SEALED_SIZE], fresh[SECRETS_SEALED_SIZE], plain[SECRETS_MAX_PLAIN + 1], why[160];
	size_t n;
	int rc;

	rc = store_take_string(store_command(s, "HGET %s %s", key, field), sealed, sizeof(sealed));
	if (rc < 0)
		return (void)store_failed(s, "cannot read a sealed value"), -1;
	if (rc == 1 || !sealed[0])
		return 0;	/* nothing sealed there */
	switch (secrets_open(cfg, context, sealed, plain, sizeof(plain), &n)) {
	case SECRETS_OPENED:
		t->current++;
		break;
	case SECRETS_OPENED_OLD:
		rc = secrets_seal(cfg, context, plain, n, fresh, sizeof(fresh), why, sizeof(why));
		if (rc < 0) {
			fprintf(stderr, "watchkeeper: %s: %s\n", what, why);
			t->unopenable++;
			break;
		}
		const char *keys[] = { key };
		const char *args[] = { field, sealed, fresh };
		redisReply *r = store_script(s, &reseal_script, 1, keys, 3, args);
		if (!r || r->type != REDIS_REPLY_INTEGER) {
			if (r)
				freeReplyObject(r);
			store_failed(s, "cannot store a re-sealed value");
			rc = -1;
			break;
		}
		if (r->integer == 1)
			t->resealed++;
		else
			t->current++;	/* sealed anew meanwhile */
		freeReplyObject(r);
		break;
	case SECRETS_NO_KEY:
	case SECRETS_BAD:
		t->unopenable++;
		fprintf(stderr, "watchkeeper: %s opens under neither secrets.key nor secrets.key_previous; "
				"store it again\n", what);
		break;
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return rc < 0 ? -1 : 0;
}

/* The installed Slack workspaces' bot tokens (adapters/slack_tokens.h). */
static int reseal_slack_tokens(const struct config *cfg, struct store *s, struct reseal_tally *t)
{
	redisReply *r = want_array(store_command(s, "SMEMBERS %s", SLACK_TOKENS_INDEX));
	int rc = 0;

	if (!r)
		return (void)store_failed(s, "cannot read the installed workspaces"), -1;
	for (size_t i = 0; i < r->elements && rc == 0; i++) {
		char key[KEY_SIZE], context[96], what[160];
		const char *team = reply_is_string(r->element[i]) ? r->element[i]->str : "";

		if (slack_tokens_key(team, key, sizeof(key)) < 0 || slack_tokens_context(team, context, sizeof(context)) < 0)
			continue;	/* not a team id: nothing of ours */
		snprintf(what, sizeof(what), "the bot token of Slack workspace %s", team);
		rc = reseal_one(cfg, s, key, SLACK_TOKENS_FIELD, context, what, t);
	}
	freeReplyObject(r);
	return rc;
}

/* Every org's integrations' signing secrets (bot/integration.h). */
static int reseal_integrations(const struct config *cfg, struct store *s, struct reseal_tally *t)
{
	redisReply *orgs = want_array(store_command(s, "SMEMBERS wk:orgs"));
	int rc = 0;

	if (!orgs)
		return (void)store_failed(s, "cannot read wk:orgs"), -1;
	for (size_t i = 0; i < orgs->elements && rc == 0; i++) {
		const char *org = reply_is_string(orgs->element[i]) ? orgs->element[i]->str : "";
		char kidx[KEY_SIZE];
		redisReply *ids;

		if (!backup_org_valid(org) || store_key(kidx, sizeof(kidx), org, "intgs") < 0)
			continue;
		if (!(ids = want_array(store_command(s, "ZRANGE %s 0 -1", kidx)))) {
			store_failed(s, "cannot read an org's integrations");
			rc = -1;
			break;
		}
		for (size_t k = 0; k < ids->elements && rc == 0; k++) {
			char key[KEY_SIZE], context[200], what[200], suffix[64];
			int64_t id;

			if (!reply_is_string(ids->element[k]) || !wk_parse_i64(ids->element[k]->str, 1, INT64_MAX, &id))
				continue;
			snprintf(suffix, sizeof(suffix), "intg:%lld", (long long)id);
			if (store_key(key, sizeof(key), org, suffix) < 0)
				continue;
			integration_secret_context(org, id, context, sizeof(context));
			snprintf(what, sizeof(what), "the signing secret of integration %lld of %s", (long long)id, org);
			rc = reseal_one(cfg, s, key, "secret", context, what, t);
		}
		freeReplyObject(ids);
	}
	freeReplyObject(orgs);
	return rc;
}

static int secrets_rotate(const struct config *cfg, struct store *s)
{
	struct reseal_tally t = { 0 };
	char kid[SECRETS_KID_LEN + 1];

	if (!secrets_enabled(cfg)) {
		fprintf(stderr, "watchkeeper: secrets rotate needs the new key in secrets.key (WK_SECRET_KEY) and the "
				"old one in secrets.key_previous (WK_SECRET_KEY_PREVIOUS)\n");
		return EXIT_USAGE;
	}
	if (reseal_slack_tokens(cfg, s, &t) < 0 || reseal_integrations(cfg, s, &t) < 0)
		return EXIT_FAIL;
	secrets_current_kid(cfg, kid);
	printf("secrets under key %s: re-sealed %zu, already current %zu, not openable %zu\n", kid, t.resealed,
	       t.current, t.unopenable);
	return t.unopenable ? EXIT_FAIL : EXIT_OK;
}

/* ---- command line ---- */

/* argv[1] is the tool. Returns EXIT_OK with a filled args, or an exit status. */
static int parse_args(int argc, char **argv, struct args *a, bool *help)
{
	const char *pos[2] = { NULL, NULL };
	int npos = 0;

	memset(a, 0, sizeof(*a));
	*help = false;
	a->tool = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			*help = true;
			return EXIT_OK;
		} else if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
			if (++i >= argc)
				return usage("-c needs a file name");
			a->config = argv[i];
		} else if (strcmp(arg, "--org") == 0 && strcmp(a->tool, "audit") == 0) {
			if (++i >= argc)
				return usage("--org needs an org id");
			if (a->id)
				return usage("--org given twice");
			a->id = argv[i];
		} else if (arg[0] == '-' && arg[1]) {
			fputs("watchkeeper: unknown option \"", stderr);
			puts_safe(stderr, arg);
			fputs("\"\n\n", stderr);
			return usage(NULL);
		} else {
			if (npos == 2)
				return usage("too many arguments");
			pos[npos++] = arg;
		}
	}
	if (npos == 0)
		return usage("which subcommand?");
	a->sub = pos[0];
	if (strcmp(a->tool, "orgs") == 0) {
		if (strcmp(a->sub, "list") == 0) {
			if (npos > 1)
				return usage("orgs list takes no ID");
		} else if (strcmp(a->sub, "show") == 0 || strcmp(a->sub, "suspend") == 0 ||
			   strcmp(a->sub, "activate") == 0) {
			if (npos < 2)
				return usage("which org? give its ID");
			a->id = pos[1];
		} else {
			return usage("orgs: unknown subcommand");
		}
	} else if (strcmp(a->tool, "secrets") == 0) {
		if (strcmp(a->sub, "rotate") != 0)
			return usage("secrets: unknown subcommand");
		if (npos > 1)
			return usage("secrets rotate takes no argument");
	} else {
		if (npos > 1)
			return usage("audit: the org is given with --org ID");
		if (strcmp(a->sub, "lua") == 0) {
			if (a->id)
				return usage("audit lua takes no --org");
		} else if (strcmp(a->sub, "verify") == 0 || strcmp(a->sub, "export") == 0) {
			if (!a->id)
				return usage("which org? give --org ID");
		} else {
			return usage("audit: unknown subcommand");
		}
	}
	if (a->id && !backup_org_valid(a->id))
		return bad_id(a->id);
	return EXIT_OK;
}

static int run(const struct config *cfg, struct store *s, void *arg)
{
	const struct args *a = arg;

	if (strcmp(a->tool, "secrets") == 0)
		return secrets_rotate(cfg, s);
	if (strcmp(a->tool, "orgs") == 0) {
		if (strcmp(a->sub, "list") == 0)
			return orgs_list(s);
		if (strcmp(a->sub, "show") == 0)
			return orgs_show(s, a->id);
		return orgs_set_suspended(s, a->id, strcmp(a->sub, "suspend") == 0);
	}
	int known = org_known(s, a->id);
	if (known <= 0)
		return known < 0 ? store_failed(s, "cannot reach Redis") : no_org(a->id);
	if (strcmp(a->sub, "verify") == 0)
		return audit_run_verify(s, a->id);
	return audit_run_export(s, a->id);
}

int operator_with_store(const char *config_path, operator_fn fn, void *arg)
{
	struct config cfg;
	struct store_url url;
	struct store *s;
	char err[512];
	int rc;

	if (config_load(&cfg, config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "watchkeeper: %s\n", err);
		tz_shutdown();
		return EXIT_USAGE;
	}
	store_set_options(cfg.redis_password, cfg.redis_sentinel_password, cfg.redis_wait_replicas);
	if (store_url_parse(cfg.redis_url, &url, err, sizeof(err)) < 0) {
		fprintf(stderr, "watchkeeper: config key \"redis.url\" / WK_REDIS_URL: %s\n", err);
		config_free(&cfg);
		tz_shutdown();
		return EXIT_USAGE;
	}
	if (url.path[0])
		snprintf(redis_where, sizeof(redis_where), "unix://%s", url.path);
	else
		snprintf(redis_where, sizeof(redis_where), "%s:%d", url.host, url.port);
	s = store_open(cfg.redis_url, cfg.redis_timeout_ms);
	rc = fn(&cfg, s, arg);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		fprintf(stderr, "watchkeeper: write error on stdout\n");
		rc = EXIT_FAIL;
	}
	store_close(s);
	config_free(&cfg);
	tz_shutdown();
	return rc;
}

int operator_main(int argc, char **argv)
{
	struct args a;
	bool help;
	int rc;

	if (operator_backup_is_command(argv[1]))
		return operator_backup_main(argc, argv);
	rc = parse_args(argc, argv, &a, &help);
	if (rc != EXIT_OK)
		return rc;
	if (help) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (strcmp(a.tool, "audit") == 0 && strcmp(a.sub, "lua") == 0) {
		fputs(AUDIT_LUA, stdout);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	}
	return operator_with_store(a.config, run, &a);
}
