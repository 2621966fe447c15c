/* Secrets at rest: AES-256-GCM sealing under the configured key, key ids for
 * rotation, contexts that bind a value to its record, and strict base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "bot/config.h"
#include "bot/crypto.h"
#include "bot/secrets.h"

/* Two keys, as `openssl rand -base64 32` prints them. */
#define KEY_A "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="
#define KEY_B "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static struct config with_keys(const char *current, const char *previous)
{
	struct config c;

	memset(&c, 0, sizeof(c));
	c.secret_key = (char *)current;
	c.secret_key_previous = (char *)previous;
	return c;
}

static void test_round_trip_and_context(void **state)
{
	struct config c = with_keys(KEY_A, "");
	char sealed[SECRETS_SEALED_SIZE], plain[64], why[160], kid[SECRETS_KID_LEN + 1];
	size_t n = 99;

	(void)state;
	assert_int_equal(secrets_seal(&c, "slack:T1/integration/i7", "whsec_abc", 9, sealed, sizeof(sealed), why,
				      sizeof(why)), 0);
	secrets_current_kid(&c, kid);
	assert_int_equal(strlen(kid), SECRETS_KID_LEN);
	assert_int_equal(strncmp(sealed, "s1.", 3), 0);
	assert_int_equal(strncmp(sealed + 3, kid, SECRETS_KID_LEN), 0);
	assert_null(strstr(sealed, "whsec_abc"));
	assert_int_equal(secrets_open(&c, "slack:T1/integration/i7", sealed, plain, sizeof(plain), &n), SECRETS_OPENED);
	assert_string_equal(plain, "whsec_abc");
	assert_int_equal(n, 9);
	/* Copied to another record: it does not open there. */
	assert_int_equal(secrets_open(&c, "slack:T2/integration/i7", sealed, plain, sizeof(plain), &n), SECRETS_BAD);
	assert_string_equal(plain, "");
	/* Two seals of the same value differ (fresh nonce). */
	char again[SECRETS_SEALED_SIZE];
	assert_int_equal(secrets_seal(&c, "x", "same", 4, sealed, sizeof(sealed), why, sizeof(why)), 0);
	assert_int_equal(secrets_seal(&c, "x", "same", 4, again, sizeof(again), why, sizeof(why)), 0);
	assert_string_not_equal(sealed, again);
}

static void test_tampering_is_refused(void **state)
{
	struct config c = with_keys(KEY_A, "");
	char sealed[SECRETS_SEALED_SIZE], plain[64], why[160];
	size_t n;

	(void)state;
	assert_int_equal(secrets_seal(&c, "ctx", "token-123", 9, sealed, sizeof(sealed), why, sizeof(why)), 0);
	for (size_t i = 12; sealed[i]; i += 5) {
		char copy[SECRETS_SEALED_SIZE];
		memcpy(copy, sealed, sizeof(copy));
		copy[i] = copy[i] == 'A' ? 'B' : 'A';
		assert_int_not_equal(secrets_open(&c, "ctx", copy, plain, sizeof(plain), &n), SECRETS_OPENED);
		assert_string_equal(plain, "");
	}
	const char *junk[] = { "", "s1.", "s1.12345678.", "s1.12345678.AAAA", "s2.x.y", "plaintext",
			       "s1.12345678.!!!!", NULL };
	for (size_t i = 0; junk[i]; i++)
		assert_int_equal(secrets_open(&c, "ctx", junk[i], plain, sizeof(plain), &n), SECRETS_BAD);
	/* Too small a buffer for the plaintext: refused, not cut. */
	assert_int_equal(secrets_open(&c, "ctx", sealed, plain, 9, &n), SECRETS_BAD);
}

static void test_rotation(void **state)
{
	struct config old = with_keys(KEY_A, ""), rotated = with_keys(KEY_B, KEY_A), later = with_keys(KEY_B, "");
	char sealed[SECRETS_SEALED_SIZE], plain[64], why[160];
	size_t n;

	(void)state;
	assert_int_equal(secrets_seal(&old, "ctx", "s3cret", 6, sealed, sizeof(sealed), why, sizeof(why)), 0);
	/* After a rotation the old key still opens it, and says it is stale. */
	assert_int_equal(secrets_open(&rotated, "ctx", sealed, plain, sizeof(plain), &n), SECRETS_OPENED_OLD);
	assert_string_equal(plain, "s3cret");
	/* Once the old key is gone: the value names a key nobody has. */
	assert_int_equal(secrets_open(&later, "ctx", sealed, plain, sizeof(plain), &n), SECRETS_NO_KEY);
	assert_string_equal(plain, "");
}

static void test_without_a_key(void **state)
{
	struct config none = with_keys("", "");
	char sealed[SECRETS_SEALED_SIZE], why[160] = "";

	(void)state;
	assert_false(secrets_enabled(&none));
	assert_int_equal(secrets_seal(&none, "ctx", "x", 1, sealed, sizeof(sealed), why, sizeof(why)), -1);
	assert_non_null(strstr(why, "WK_SECRET_KEY"));
	assert_string_equal(sealed, "");
}

static void test_key_check(void **state)
{
	char why[160];

	(void)state;
	assert_int_equal(secrets_check_key("", why, sizeof(why)), 0);
	assert_int_equal(secrets_check_key(KEY_A, why, sizeof(why)), 0);
	assert_int_equal(secrets_check_key("c2hvcnQ=", why, sizeof(why)), -1);	/* 5 bytes */
	assert_non_null(strstr(why, "32 random bytes"));
	assert_int_equal(secrets_check_key("not base64 at all, not at all, not at all..", why, sizeof(why)), -1);
}

static void test_base64_is_strict(void **state)
{
	unsigned char out[64];
	char text[CRYPTO_BASE64_SIZE(5)];
	size_t n;

	(void)state;
	assert_int_equal(crypto_base64_encode("hello", 5, text, sizeof(text)), 8);
	assert_string_equal(text, "aGVsbG8=");
	assert_int_equal(crypto_base64_decode("aGVsbG8=", out, sizeof(out), &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(crypto_base64_decode("aGVsbA==", out, sizeof(out), &n), 0);
	assert_int_equal(n, 4);
	const char *bad[] = { "", "aGVsbG8", "aGV sbG8=", "aGVs=G8=", "aG=sbG8=", "aGVsbG8=\n", "a===", NULL };
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(crypto_base64_decode(bad[i], out, sizeof(out), &n), -1);
	assert_int_equal(crypto_base64_decode("aGVsbG8=", out, 4, &n), -1);	/* does not fit */
	assert_int_equal(crypto_base64_encode("hello", 5, text, 8), 0);	/* no room for the NUL */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_context),
		cmocka_unit_test(test_tampering_is_refused),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_without_a_key),
		cmocka_unit_test(test_key_check),
		cmocka_unit_test(test_base64_is_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
