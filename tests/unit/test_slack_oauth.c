/* Slack installs: the OAuth state (signed, expiring, bound to the browser's
 * cookie), the callback's query and Cookie reader, and the token store
 * (sealed in Redis, the cache checked against the stored text, forget). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "adapters/slack_oauth.h"
#include "adapters/slack_tokens.h"
#include "bot/config.h"
#include "bot/crypto.h"
#include "bot/store.h"
#include "unit_redis.h"

#define KEY_A "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="
#define KEY_B "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define NONCE "0123456789abcdef0123456789abcdef"
#define NOW 1700000000

static struct config cfg_with(const char *key, const char *client_secret)
{
	struct config c;

	memset(&c, 0, sizeof(c));
	c.secret_key = (char *)key;
	c.secret_key_previous = (char *)"";
	c.slack_client_secret = (char *)client_secret;
	c.slack_bot_token = (char *)"xoxb-configured";
	return c;
}

static void state_round_trip(void **state)
{
	struct config c = cfg_with(KEY_A, "cs");
	unsigned char key[CRYPTO_SHA256_LEN];
	char s[SLACK_OAUTH_STATE_SIZE];

	(void)state;
	slack_oauth_state_key(&c, key);
	slack_oauth_state_make(key, NONCE, NOW, s, sizeof(s));
	assert_int_equal(strncmp(s, "v1.1700000000.", 14), 0);
	assert_int_equal(strlen(s), 14 + 32 + 1 + 64);
	assert_int_equal(slack_oauth_state_check(key, s, NONCE, NOW), SLACK_STATE_OK);
	assert_int_equal(slack_oauth_state_check(key, s, NONCE, NOW + SLACK_OAUTH_STATE_TTL_S), SLACK_STATE_OK);
	assert_int_equal(slack_oauth_state_check(key, s, NONCE, NOW + SLACK_OAUTH_STATE_TTL_S + 1), SLACK_STATE_EXPIRED);
	assert_int_equal(slack_oauth_state_check(key, s, NONCE, NOW - SLACK_OAUTH_STATE_SKEW_S), SLACK_STATE_OK);
	assert_int_equal(slack_oauth_state_check(key, s, NONCE, NOW - SLACK_OAUTH_STATE_SKEW_S - 1),
			 SLACK_STATE_EXPIRED);
	assert_int_equal(slack_oauth_state_check(key, s, "", NOW), SLACK_STATE_NO_COOKIE);
	assert_int_equal(slack_oauth_state_check(key, s, NULL, NOW), SLACK_STATE_NO_COOKIE);
	assert_int_equal(slack_oauth_state_check(key, s, "fedcba9876543210fedcba9876543210", NOW),
			 SLACK_STATE_OTHER_COOKIE);
}

static void state_tampering(void **state)
{
	struct config a = cfg_with(KEY_A, "cs"), b = cfg_with(KEY_B, "cs"), none = cfg_with("", "cs"),
		      other = cfg_with("", "other");
	unsigned char ka[CRYPTO_SHA256_LEN], kb[CRYPTO_SHA256_LEN], kn[CRYPTO_SHA256_LEN], ko[CRYPTO_SHA256_LEN];
	char s[SLACK_OAUTH_STATE_SIZE], t[SLACK_OAUTH_STATE_SIZE + 8];

	(void)state;
	slack_oauth_state_key(&a, ka);
	slack_oauth_state_key(&b, kb);
	slack_oauth_state_key(&none, kn);
	slack_oauth_state_key(&other, ko);
	slack_oauth_state_make(ka, NONCE, NOW, s, sizeof(s));
	/* another key: secrets.key, or slack.client_secret without one */
	assert_int_equal(slack_oauth_state_check(kb, s, NONCE, NOW), SLACK_STATE_BAD_MAC);
	slack_oauth_state_make(kn, NONCE, NOW, t, sizeof(t));
	assert_int_equal(slack_oauth_state_check(kn, t, NONCE, NOW), SLACK_STATE_OK);
	assert_int_equal(slack_oauth_state_check(ko, t, NONCE, NOW), SLACK_STATE_BAD_MAC);
	assert_int_equal(slack_oauth_state_check(ka, t, NONCE, NOW), SLACK_STATE_BAD_MAC);
	/* every single changed character of the MAC, the time or the hash */
	for (size_t i = 3; i < strlen(s); i++) {
		if (s[i] == '.')
			continue;
		memcpy(t, s, sizeof(s));
		t[i] = t[i] == '1' ? '2' : '1';
		assert_int_not_equal(slack_oauth_state_check(ka, t, NONCE, NOW), SLACK_STATE_OK);
	}
	/* shapes */
	static const char *const bad[] = {
		"", "v1", "v1.", "v2.1700000000.0123456789abcdef0123456789abcdef.00", "v1..a.b",
		"v1.1700000000", "v1.-1.0123456789abcdef0123456789abcdef.00",
		"v1.1700000000.0123456789ABCDEF0123456789abcdef.0000000000000000000000000000000000000000000000000000000000000000",
		"v1.1234567890123.0123456789abcdef0123456789abcdef.0000000000000000000000000000000000000000000000000000000000000000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(slack_oauth_state_check(ka, bad[i], NONCE, NOW), SLACK_STATE_MALFORMED);
	assert_int_equal(slack_oauth_state_check(ka, NULL, NONCE, NOW), SLACK_STATE_MALFORMED);
	/* trailing bytes */
	snprintf(t, sizeof(t), "%s0", s);
	assert_int_equal(slack_oauth_state_check(ka, t, NONCE, NOW), SLACK_STATE_MALFORMED);
}

/* The derivation the integration test signs with in Python. */
static void state_vector(void **state)
{
	struct config c = cfg_with("", "fixture-client-secret");
	unsigned char key[CRYPTO_SHA256_LEN], want[CRYPTO_SHA256_LEN];
	char s[SLACK_OAUTH_STATE_SIZE], h[CRYPTO_SHA256_HEX_SIZE], body[80], mac[CRYPTO_SHA256_HEX_SIZE];
	unsigned char d[CRYPTO_SHA256_LEN];

	(void)state;
	slack_oauth_state_key(&c, key);
	crypto_hmac_sha256("fixture-client-secret", 21, "watchkeeper slack oauth state v1", 32, want);
	assert_memory_equal(key, want, sizeof(key));
	slack_oauth_state_make(key, NONCE, NOW, s, sizeof(s));
	crypto_sha256(NONCE, 32, d);
	crypto_hex(d, 16, h);
	snprintf(body, sizeof(body), "v1.%d.%s", NOW, h);
	crypto_hmac_sha256(key, sizeof(key), body, strlen(body), d);
	crypto_hex(d, sizeof(d), mac);
	assert_int_equal(strncmp(s, body, strlen(body)), 0);
	assert_string_equal(s + strlen(body) + 1, mac);
}

static void callback_parse(void **state)
{
	struct slack_oauth_callback cb;
	char why[200];

	(void)state;
	assert_int_equal(slack_oauth_callback_parse("code=123.456.ab_c-d&state=v1.1.aa.bb",
						    "a=b; wk_slack_oauth=" NONCE "; c=d", &cb, why, sizeof(why)), 0);
	assert_string_equal(cb.code, "123.456.ab_c-d");
	assert_string_equal(cb.state, "v1.1.aa.bb");
	assert_string_equal(cb.nonce, NONCE);
	assert_string_equal(cb.error, "");
	assert_int_equal(slack_oauth_callback_parse("error=access_denied%3Cb%3E&state=x", NULL, &cb, why, sizeof(why)),
			 0);
	assert_string_equal(cb.error, "access_deniedb");
	assert_string_equal(cb.nonce, "");
	assert_int_equal(slack_oauth_callback_parse("", "", &cb, why, sizeof(why)), 0);
	assert_string_equal(cb.code, "");
	/* refused: markup, too long, a malformed form, a repeated name */
	assert_int_equal(slack_oauth_callback_parse("code=%3Cscript%3E", "", &cb, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "code"));
	assert_int_equal(slack_oauth_callback_parse("state=a%20b", "", &cb, why, sizeof(why)), -1);
	assert_int_equal(slack_oauth_callback_parse("code=%zz", "", &cb, why, sizeof(why)), -1);
	assert_int_equal(slack_oauth_callback_parse("code=a&code=b", "", &cb, why, sizeof(why)), -1);
	char longq[600] = "code=";
	memset(longq + 5, 'a', 300);
	assert_int_equal(slack_oauth_callback_parse(longq, "", &cb, why, sizeof(why)), -1);
	/* cookies: only our name, only our shape, the first one */
	static const struct {
		const char *header, *want;
	} cookies[] = {
		{ "wk_slack_oauth=" NONCE, NONCE },
		{ "x=1;wk_slack_oauth=" NONCE, NONCE },
		{ "wk_slack_oauth=" NONCE "; wk_slack_oauth=fedcba9876543210fedcba9876543210", NONCE },
		{ "xwk_slack_oauth=" NONCE, "" },
		{ "wk_slack_oauth=0123456789ABCDEF0123456789ABCDEF", "" },
		{ "wk_slack_oauth=" NONCE "0", "" },
		{ "wk_slack_oauth=", "" },
		{ ";;;", "" },
	};
	for (size_t i = 0; i < sizeof(cookies) / sizeof(cookies[0]); i++) {
		assert_int_equal(slack_oauth_callback_parse("", cookies[i].header, &cb, why, sizeof(why)), 0);
		assert_string_equal(cb.nonce, cookies[i].want);
	}
}

/* ---- the token store, against a real Redis ---- */

static void tokens_store(void **state)
{
	struct config c = cfg_with(KEY_A, "cs"), later = cfg_with(KEY_B, "cs");
	struct store *s = store_open(unit_redis_url, 2000);
	char tok[SLACK_TOKEN_SIZE], why[300], sealed[512];
	struct slack_install in = { .team_id = "T0UNIT", .team_name = "Unit", .bot_user_id = "U0BOT",
				    .installer = "U0ME", .scopes = "chat:write", .installed_ms = 1 };
	redisReply *r;

	(void)state;
	/* not installed: slack.bot_token; no store or not a Slack team: the same */
	assert_int_equal(slack_token_for(&c, s, "T0UNIT", tok, sizeof(tok), why, sizeof(why)), 0);
	assert_string_equal(tok, "xoxb-configured");
	assert_int_equal(slack_token_for(&c, NULL, "T0UNIT", tok, sizeof(tok), why, sizeof(why)), 0);
	assert_int_equal(slack_token_for(&c, s, "not a team", tok, sizeof(tok), why, sizeof(why)), 0);
	assert_string_equal(tok, "xoxb-configured");
	/* installed: its own token, sealed in Redis */
	assert_int_equal(slack_tokens_install(&c, s, &in, "xoxb-unit-1", why, sizeof(why)), 0);
	assert_int_equal(slack_token_for(&c, s, "T0UNIT", tok, sizeof(tok), why, sizeof(why)), 0);
	assert_string_equal(tok, "xoxb-unit-1");
	r = store_command(s, "HGET wk:{slack:T0UNIT}:slack_install bot_token");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_null(strstr(r->str, "xoxb"));
	snprintf(sealed, sizeof(sealed), "%s", r->str);
	freeReplyObject(r);
	/* the cache follows the stored text: an install elsewhere (another
	 * instance, written straight to Redis here) is seen at the next call */
	assert_int_equal(slack_tokens_install(&c, s, &in, "xoxb-unit-2", why, sizeof(why)), 0);
	/* a key that can't open it: retry later, saying why; never the bot token */
	assert_int_equal(slack_token_for(&later, s, "T0UNIT", tok, sizeof(tok), why, sizeof(why)), -1);
	assert_string_equal(tok, "");
	assert_non_null(strstr(why, "secrets.key"));
	assert_int_equal(slack_token_for(&c, s, "T0UNIT", tok, sizeof(tok), why, sizeof(why)), 0);
	assert_string_equal(tok, "xoxb-unit-2");
	r = store_command(s, "HSET wk:{slack:T0UNIT}:slack_install bot_token %s", sealed);
	freeReplyObject(r);
	assert_int_equal(slack_token_for(&c, s, "T0UNIT", tok, sizeof(tok), why, sizeof(why)), 0);
	assert_string_equal(tok, "xoxb-unit-1");
	/* without secrets.key nothing is stored */
	struct config nokey = cfg_with("", "cs");
	assert_int_equal(slack_tokens_install(&nokey, s, &in, "xoxb-unit-3", why, sizeof(why)), -1);
	/* forgotten: gone from Redis and the index, the next call uses slack.bot_token */
	assert_int_equal(slack_tokens_forget(&c, s, "T0UNIT"), 0);
	assert_int_equal(slack_token_for(&c, s, "T0UNIT", tok, sizeof(tok), why, sizeof(why)), 0);
	assert_string_equal(tok, "xoxb-configured");
	r = store_command(s, "EXISTS wk:{slack:T0UNIT}:slack_install " SLACK_TOKENS_INDEX);
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	/* and with no bot token configured either: none, with the setting named */
	c.slack_bot_token = (char *)"";
	assert_int_equal(slack_token_for(&c, s, "T0UNIT", tok, sizeof(tok), why, sizeof(why)), 1);
	assert_non_null(strstr(why, "slack.bot_token"));
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_round_trip),
		cmocka_unit_test(state_tampering),
		cmocka_unit_test(state_vector),
		cmocka_unit_test(callback_parse),
		cmocka_unit_test(tokens_store),
	};
	return cmocka_run_group_tests(tests, unit_redis_start, unit_redis_stop);
}
