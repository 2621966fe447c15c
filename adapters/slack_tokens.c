/* slack_tokens.c - see slack_tokens.h. */
#include "adapters/slack_tokens.h"
#include "adapters/slack_api.h"
#include "bot/secrets.h"
#include "bot/util.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

/* The process cache: a slot per team hash. A collision only costs the
 * evicted team one decryption on its next call. */
#define CACHE_SLOTS 256
#define CACHE_SEALED_MAX 512

struct cached {
	char team[33];
	char sealed[CACHE_SEALED_MAX];
	char token[SLACK_TOKEN_SIZE];
};

static struct cached cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct cached *slot_of(const char *team)
{
	return &cache[wk_hash_str(0, team) % CACHE_SLOTS];
}

/* The cached token when sealed is still what Redis holds for team. */
static bool cache_get(const char *team, const char *sealed, char *out, size_t size)
{
	bool hit;

	pthread_mutex_lock(&cache_lock);
	struct cached *c = slot_of(team);
	hit = strcmp(c->team, team) == 0 && strcmp(c->sealed, sealed) == 0 &&
	      wk_strlcpy(out, c->token, size) < size;
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void cache_put(const char *team, const char *sealed, const char *token)
{
	if (strlen(sealed) >= CACHE_SEALED_MAX || strlen(team) >= sizeof(cache[0].team))
		return;
	pthread_mutex_lock(&cache_lock);
	struct cached *c = slot_of(team);
	OPENSSL_cleanse(c->token, sizeof(c->token));
	wk_strlcpy(c->team, team, sizeof(c->team));
	wk_strlcpy(c->sealed, sealed, sizeof(c->sealed));
	wk_strlcpy(c->token, token, sizeof(c->token));
	pthread_mutex_unlock(&cache_lock);
}

static void cache_drop(const char *team)
{
	pthread_mutex_lock(&cache_lock);
	struct cached *c = slot_of(team);
	if (strcmp(c->team, team) == 0) {
		OPENSSL_cleanse(c, sizeof(*c));
		c->team[0] = '\0';
	}
	pthread_mutex_unlock(&cache_lock);
}

const char *slack_tokens_team_of(const char *org_id)
{
	if (!org_id || strncmp(org_id, "slack:", 6) != 0 || !slack_id_valid(org_id + 6))
		return NULL;
	return org_id + 6;
}

int slack_tokens_key(const char *team_id, char *out, size_t size)
{
	char org[64];

	if (!slack_id_valid(team_id))
		return -1;
	snprintf(org, sizeof(org), "slack:%s", team_id);
	return store_key(out, size, org, "slack_install");
}

int slack_tokens_context(const char *team_id, char *out, size_t size)
{
	int n;

	if (!slack_id_valid(team_id))
		return -1;
	n = snprintf(out, size, "slack:%s/bot_token", team_id);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int configured(const struct config *cfg, char *out, size_t size, char *why, size_t whysize)
{
	if (!cfg->slack_bot_token || !cfg->slack_bot_token[0]) {
		snprintf(why, whysize, "sending Slack messages needs slack.bot_token (WK_SLACK_BOT_TOKEN) "
				       "or an install of the app through /slack/install");
		return 1;
	}
	if (wk_strlcpy(out, cfg->slack_bot_token, size) >= size) {
		out[0] = '\0';
		snprintf(why, whysize, "slack.bot_token is too long");
		return 1;
	}
	return 0;
}

int slack_token_for(const struct config *cfg, struct store *s, const char *team_id, char *out, size_t size,
		    char *why, size_t whysize)
{
	char key[192], context[96], sealed[SECRETS_SEALED_SIZE];
	size_t n;
	int rc;

	out[0] = '\0';
	if (!s || !team_id || !team_id[0] || slack_tokens_key(team_id, key, sizeof(key)) < 0)
		return configured(cfg, out, size, why, whysize);
	rc = store_take_string(store_command(s, "HGET %s %s", key, SLACK_TOKENS_FIELD), sealed, sizeof(sealed));
	if (rc < 0) {
		snprintf(why, whysize, "Redis failed reading the workspace's token: %s", store_error(s));
		return -1;
	}
	if (rc == 1 || !sealed[0])
		return configured(cfg, out, size, why, whysize);
	if (cache_get(team_id, sealed, out, size))
		return 0;
	slack_tokens_context(team_id, context, sizeof(context));
	enum secrets_open_result r = secrets_open(cfg, context, sealed, out, size, &n);
	if (r != SECRETS_OPENED && r != SECRETS_OPENED_OLD) {
		out[0] = '\0';
		snprintf(why, whysize, "the installed token of workspace %s does not open here (%s); check secrets.key "
				       "(WK_SECRET_KEY) and secrets.key_previous, or install the app again",
			 team_id, r == SECRETS_NO_KEY ? "sealed under a key not configured" : "damaged");
		return -1;
	}
	cache_put(team_id, sealed, out);
	return 0;
}

/* KEYS: the install hash, the index. ARGV: team, then field/value pairs. */
static const struct store_script install_script = {
	.name = "slack_install",
	.source = "redis.call('DEL', KEYS[1])\n"
		  "redis.call('HSET', KEYS[1], unpack(ARGV, 2))\n"
		  "redis.call('SADD', KEYS[2], ARGV[1])\n"
		  "return 1\n",
};

static const struct store_script forget_script = {
	.name = "slack_forget",
	.source = "redis.call('DEL', KEYS[1])\n"
		  "redis.call('SREM', KEYS[2], ARGV[1])\n"
		  "return 1\n",
};

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

int slack_tokens_install(const struct config *cfg, struct store *s, const struct slack_install *in,
			 const char *token, char *why, size_t whysize)
{
	char key[192], context[96], sealed[SECRETS_SEALED_SIZE], ms[24];
	redisReply *r;
	int rc = -1;

	if (slack_tokens_key(in->team_id, key, sizeof(key)) < 0) {
		snprintf(why, whysize, "not a Slack team id");
		return -1;
	}
	if (strlen(token) >= SLACK_TOKEN_SIZE) {
		snprintf(why, whysize, "the token is longer than %d bytes", SLACK_TOKEN_SIZE - 1);
		return -1;
	}
	slack_tokens_context(in->team_id, context, sizeof(context));
	if (secrets_seal(cfg, context, token, strlen(token), sealed, sizeof(sealed), why, whysize) < 0)
		return -1;
	snprintf(ms, sizeof(ms), "%lld", (long long)in->installed_ms);
	const char *keys[] = { key, SLACK_TOKENS_INDEX };
	const char *args[] = { in->team_id, SLACK_TOKENS_FIELD, sealed, "bot_user_id", or_empty(in->bot_user_id),
			       "team_name", or_empty(in->team_name), "scopes", or_empty(in->scopes),
			       "app_id", or_empty(in->app_id), "installer", or_empty(in->installer),
			       "installed_ms", ms };
	r = store_script(s, &install_script, 2, keys, (int)ARRAY_LEN(args), args);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = 0;
	else
		snprintf(why, whysize, "Redis failed storing the install: %s", r ? "error reply" : store_error(s));
	if (r)
		freeReplyObject(r);
	cache_drop(in->team_id);
	return rc;
}

int slack_tokens_forget(const struct config *cfg, struct store *s, const char *team_id)
{
	char key[192];
	redisReply *r;
	int rc;

	(void)cfg;
	if (slack_tokens_key(team_id, key, sizeof(key)) < 0)
		return 0;	/* nothing can be stored under it */
	const char *keys[] = { key, SLACK_TOKENS_INDEX };
	const char *args[] = { team_id };
	r = store_script(s, &forget_script, 2, keys, 1, args);
	rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
	if (r)
		freeReplyObject(r);
	cache_drop(team_id);
	return rc;
}
