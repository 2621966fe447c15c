/* test_slack_verify.c - Slack request signing (adapters/slack_verify) and the
 * crypto helpers under it (bot/crypto). Expected values were computed with
 * `openssl dgst -sha256 -hmac` or come from RFC 4231 and the Slack SDK. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/slack_verify.h"
#include "bot/crypto.h"

/* protocols/slack.md 1.2 fixture, one line. */
#define FIXTURE_SECRET "fixture_signing_secret_do_not_use"
#define FIXTURE_TS "1700000000"
#define FIXTURE_NOW INT64_C(1700000000)
#define FIXTURE_SIG "v0=a4876ca8fa7ea2b649cb5e8de58cabf12b4f4cdbdec9feaffe1d56b9118b2c15"
static const char fixture_body[] =
	"token=legacyTok&team_id=T0FIXTURE&team_domain=acme-oncall&enterprise_id=E0FIXTURE"
	"&channel_id=C0FIXTURE&channel_name=incidents&user_id=U0FIXTURE&user_name=alice"
	"&command=%2Foncall&text=ack+INC-42&api_app_id=A0FIXTURE&is_enterprise_install=false"
	"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0FIXTURE%2F1111%2FabcDEF"
	"&trigger_id=1111.2222.abcdef0123456789";

/* python-slack-sdk tests/slack_sdk/signature/test_signature_verifier.py */
#define SDK_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define SDK_TS "1531420618"
#define SDK_NOW INT64_C(1531420618)
#define SDK_SIG "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
static const char sdk_body[] =
	"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
	"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
	"&command=%2Fwebhook-collect&text="
	"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554"
	"%2F96rGlfmibIGlgcZRskXaIFfN"
	"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

static enum slack_verify_result verify_fixture(const char *ts, const char *sig, int64_t now)
{
	return slack_verify_request(FIXTURE_SECRET, ts, sig, fixture_body,
				    sizeof(fixture_body) - 1, now);
}

static void test_fixture_vector(void **state)
{
	(void)state;
	assert_int_equal(verify_fixture(FIXTURE_TS, FIXTURE_SIG, FIXTURE_NOW), SLACK_VERIFY_OK);
}

static void test_sdk_vector(void **state)
{
	(void)state;
	assert_int_equal(slack_verify_request(SDK_SECRET, SDK_TS, SDK_SIG, sdk_body,
					      sizeof(sdk_body) - 1, SDK_NOW),
			 SLACK_VERIFY_OK);
	/* The SDK's own negative case: body + "------". */
	char longer[sizeof(sdk_body) + 6];
	memcpy(longer, sdk_body, sizeof(sdk_body) - 1);
	memcpy(longer + sizeof(sdk_body) - 1, "------", 6);
	assert_int_equal(slack_verify_request(SDK_SECRET, SDK_TS, SDK_SIG, longer,
					      sizeof(longer), SDK_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
}

static void test_body_hashed_in_place_not_copied(void **state)
{
	/* An exact-size heap copy: ASan catches any read of body[len]. */
	size_t n = sizeof(fixture_body) - 1;
	char *body = malloc(n);

	(void)state;
	assert_non_null(body);
	memcpy(body, fixture_body, n);
	assert_int_equal(slack_verify_request(FIXTURE_SECRET, FIXTURE_TS, FIXTURE_SIG, body, n,
					      FIXTURE_NOW),
			 SLACK_VERIFY_OK);
	free(body);
}

static void test_every_flipped_hex_char(void **state)
{
	char sig[] = FIXTURE_SIG;

	(void)state;
	for (size_t i = 3; i < sizeof(sig) - 1; i++) {
		char orig = sig[i];

		sig[i] = orig == '0' ? '1' : '0';
		assert_int_equal(verify_fixture(FIXTURE_TS, sig, FIXTURE_NOW),
				 SLACK_VERIFY_BAD_SIGNATURE);
		sig[i] = orig;
	}
	assert_int_equal(verify_fixture(FIXTURE_TS, sig, FIXTURE_NOW), SLACK_VERIFY_OK);
}

static void test_uppercase_hex_rejected(void **state)
{
	char sig[] = FIXTURE_SIG;

	(void)state;
	for (size_t i = 3; i < sizeof(sig) - 1; i++)
		if (sig[i] >= 'a' && sig[i] <= 'f')
			sig[i] = (char)(sig[i] - 'a' + 'A');
	assert_int_equal(verify_fixture(FIXTURE_TS, sig, FIXTURE_NOW), SLACK_VERIFY_BAD_SIGNATURE);
	/* Only the prefix in upper case. */
	assert_int_equal(verify_fixture(FIXTURE_TS, "V0=a4876ca8fa7ea2b649cb5e8de58cabf12b4f4cdbdec9feaffe1d56b9118b2c15",
					FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
}

static void test_wrong_length_rejected(void **state)
{
	char sig[sizeof(FIXTURE_SIG) + 1];

	(void)state;
	memcpy(sig, FIXTURE_SIG, sizeof(FIXTURE_SIG));
	sig[sizeof(FIXTURE_SIG) - 2] = '\0';	/* drop the last hex digit */
	assert_int_equal(verify_fixture(FIXTURE_TS, sig, FIXTURE_NOW), SLACK_VERIFY_BAD_SIGNATURE);
	assert_int_equal(verify_fixture(FIXTURE_TS, "v0=", FIXTURE_NOW), SLACK_VERIFY_BAD_SIGNATURE);
	assert_int_equal(verify_fixture(FIXTURE_TS, "v0", FIXTURE_NOW), SLACK_VERIFY_BAD_SIGNATURE);
	/* Right signature followed by anything. */
	memcpy(sig, FIXTURE_SIG, sizeof(FIXTURE_SIG));
	sig[sizeof(FIXTURE_SIG) - 1] = '0';
	sig[sizeof(FIXTURE_SIG)] = '\0';
	assert_int_equal(verify_fixture(FIXTURE_TS, sig, FIXTURE_NOW), SLACK_VERIFY_BAD_SIGNATURE);
	assert_int_equal(verify_fixture(FIXTURE_TS, FIXTURE_SIG " ", FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
	assert_int_equal(verify_fixture(FIXTURE_TS, " " FIXTURE_SIG, FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
}

static void test_other_version_rejected(void **state)
{
	(void)state;
	assert_int_equal(verify_fixture(FIXTURE_TS, "v1=a4876ca8fa7ea2b649cb5e8de58cabf12b4f4cdbdec9feaffe1d56b9118b2c15",
					FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
	/* The bare hex without a version. */
	assert_int_equal(verify_fixture(FIXTURE_TS, "a4876ca8fa7ea2b649cb5e8de58cabf12b4f4cdbdec9feaffe1d56b9118b2c15",
					FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
}

static void test_missing_headers(void **state)
{
	(void)state;
	assert_int_equal(verify_fixture(NULL, FIXTURE_SIG, FIXTURE_NOW), SLACK_VERIFY_MISSING);
	assert_int_equal(verify_fixture("", FIXTURE_SIG, FIXTURE_NOW), SLACK_VERIFY_MISSING);
	assert_int_equal(verify_fixture(FIXTURE_TS, NULL, FIXTURE_NOW), SLACK_VERIFY_MISSING);
	assert_int_equal(verify_fixture(FIXTURE_TS, "", FIXTURE_NOW), SLACK_VERIFY_MISSING);
	assert_int_equal(verify_fixture(NULL, NULL, FIXTURE_NOW), SLACK_VERIFY_MISSING);
	/* Missing wins over a bad timestamp: it is the first problem. */
	assert_int_equal(verify_fixture("junk", NULL, FIXTURE_NOW), SLACK_VERIFY_MISSING);
}

static void test_replay_window(void **state)
{
	(void)state;
	assert_int_equal(verify_fixture(FIXTURE_TS, FIXTURE_SIG, FIXTURE_NOW + 301),
			 SLACK_VERIFY_STALE);
	assert_int_equal(verify_fixture(FIXTURE_TS, FIXTURE_SIG, FIXTURE_NOW - 301),
			 SLACK_VERIFY_STALE);
	assert_int_equal(verify_fixture(FIXTURE_TS, FIXTURE_SIG, FIXTURE_NOW + 300),
			 SLACK_VERIFY_OK);
	assert_int_equal(verify_fixture(FIXTURE_TS, FIXTURE_SIG, FIXTURE_NOW - 300),
			 SLACK_VERIFY_OK);
	/* Stale is decided before the MAC, so a bad signature still reads stale. */
	assert_int_equal(verify_fixture(FIXTURE_TS, "v0=00", FIXTURE_NOW + 100000),
			 SLACK_VERIFY_STALE);
}

static void test_extreme_times_do_not_overflow(void **state)
{
	(void)state;
	/* UBSan would flag a naive now - ts here. */
	assert_int_equal(verify_fixture(FIXTURE_TS, FIXTURE_SIG, INT64_MIN), SLACK_VERIFY_STALE);
	assert_int_equal(verify_fixture(FIXTURE_TS, FIXTURE_SIG, INT64_MAX), SLACK_VERIFY_STALE);
	assert_int_equal(verify_fixture("9223372036854775807", FIXTURE_SIG, INT64_MIN),
			 SLACK_VERIFY_STALE);
	assert_int_equal(verify_fixture("0", FIXTURE_SIG, INT64_MAX), SLACK_VERIFY_STALE);
	assert_int_equal(verify_fixture("9223372036854775807", FIXTURE_SIG, INT64_MAX),
			 SLACK_VERIFY_BAD_SIGNATURE);
}

static void test_changed_body_rejected(void **state)
{
	char body[sizeof(fixture_body)];

	(void)state;
	memcpy(body, fixture_body, sizeof(body));
	body[sizeof(body) - 2] ^= 1;	/* last byte of the trigger id */
	assert_int_equal(slack_verify_request(FIXTURE_SECRET, FIXTURE_TS, FIXTURE_SIG, body,
					      sizeof(body) - 1, FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
	/* One byte short, and the right body with a different secret. */
	assert_int_equal(slack_verify_request(FIXTURE_SECRET, FIXTURE_TS, FIXTURE_SIG, fixture_body,
					      sizeof(fixture_body) - 2, FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
	assert_int_equal(slack_verify_request(SDK_SECRET, FIXTURE_TS, FIXTURE_SIG, fixture_body,
					      sizeof(fixture_body) - 1, FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
}

static void test_bad_timestamps(void **state)
{
	static const char *const bad[] = {
		"abc", "1700000000a", "a1700000000", "-1700000000", "+1700000000",
		" 1700000000", "1700000000 ", "1700000000.0", "0x6553f100", "1e9",
		"99999999999999999999",	/* past int64 */
		"\xef\xbc\x91\xef\xbc\x97",	/* fullwidth digits */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(verify_fixture(bad[i], FIXTURE_SIG, FIXTURE_NOW),
				 SLACK_VERIFY_BAD_TIMESTAMP);
}

static void test_timestamp_is_signed_verbatim(void **state)
{
	(void)state;
	/* Same instant, different text: the signature covers the header text. */
	assert_int_equal(verify_fixture("01700000000", FIXTURE_SIG, FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
}

static void test_empty_body(void **state)
{
	(void)state;
	/* printf 'v0:1700000000:' | openssl dgst -sha256 -hmac fixture_signing_secret_do_not_use */
	static const char sig[] =
		"v0=1a99465302dd1d8e23fc2e377a8b1d1dbc5858f5605075a3504bc65fac3e2c41";

	assert_int_equal(slack_verify_request(FIXTURE_SECRET, FIXTURE_TS, sig, NULL, 0, FIXTURE_NOW),
			 SLACK_VERIFY_OK);
	assert_int_equal(slack_verify_request(FIXTURE_SECRET, FIXTURE_TS, sig, "", 0, FIXTURE_NOW),
			 SLACK_VERIFY_OK);
}

static void test_empty_secret_fails_closed(void **state)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char sig[3 + CRYPTO_SHA256_HEX_SIZE] = "v0=";
	static const char base[] = "v0:" FIXTURE_TS ":x=1";

	(void)state;
	/* A signature an attacker can make when the key is empty. */
	crypto_hmac_sha256("", 0, base, sizeof(base) - 1, mac);
	crypto_hex(mac, sizeof(mac), sig + 3);
	assert_int_equal(slack_verify_request("", FIXTURE_TS, sig, "x=1", 3, FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
	assert_int_equal(slack_verify_request(NULL, FIXTURE_TS, sig, "x=1", 3, FIXTURE_NOW),
			 SLACK_VERIFY_BAD_SIGNATURE);
}

static void test_reasons(void **state)
{
	static const enum slack_verify_result all[] = {
		SLACK_VERIFY_OK, SLACK_VERIFY_MISSING, SLACK_VERIFY_BAD_TIMESTAMP,
		SLACK_VERIFY_STALE, SLACK_VERIFY_BAD_SIGNATURE,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *r = slack_verify_reason(all[i]);

		assert_non_null(r);
		assert_true(strlen(r) > 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(r, slack_verify_reason(all[j]));
	}
	assert_non_null(strstr(slack_verify_reason(SLACK_VERIFY_STALE), "300"));
	assert_non_null(slack_verify_reason((enum slack_verify_result)99));
}

/* ---- bot/crypto ---- */

static void assert_mac_hex(const unsigned char mac[CRYPTO_SHA256_LEN], const char *hex)
{
	char got[CRYPTO_SHA256_HEX_SIZE];

	crypto_hex(mac, CRYPTO_SHA256_LEN, got);
	assert_string_equal(got, hex);
}

static void test_hmac_rfc4231(void **state)
{
	unsigned char key[131], mac[CRYPTO_SHA256_LEN];
	static const char tc6[] = "Test Using Larger Than Block-Size Key - Hash Key First";

	(void)state;
	memset(key, 0x0b, 20);
	crypto_hmac_sha256(key, 20, "Hi There", 8, mac);
	assert_mac_hex(mac, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	assert_mac_hex(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof(key));
	crypto_hmac_sha256(key, sizeof(key), tc6, sizeof(tc6) - 1, mac);
	assert_mac_hex(mac, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	/* Empty key and empty message are both legal HMAC inputs. */
	crypto_hmac_sha256(NULL, 0, NULL, 0, mac);
	assert_mac_hex(mac, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_hmac_streaming_matches_one_shot(void **state)
{
	unsigned char a[CRYPTO_SHA256_LEN], b[CRYPTO_SHA256_LEN];
	struct crypto_hmac h;
	static const char msg[] = "what do ya want for nothing?";

	(void)state;
	crypto_hmac_sha256("Jefe", 4, msg, sizeof(msg) - 1, a);
	/* Every split point, including empty pieces; reuse the struct. */
	for (size_t cut = 0; cut < sizeof(msg); cut++) {
		crypto_hmac_init(&h, "Jefe", 4);
		crypto_hmac_update(&h, msg, cut);
		crypto_hmac_update(&h, "", 0);
		crypto_hmac_update(&h, msg + cut, sizeof(msg) - 1 - cut);
		crypto_hmac_final(&h, b);
		assert_memory_equal(a, b, sizeof(a));
		assert_null(h.ctx);
	}
}

static void test_sha256(void **state)
{
	unsigned char md[CRYPTO_SHA256_LEN];

	(void)state;
	crypto_sha256("abc", 3, md);
	assert_mac_hex(md, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256(NULL, 0, md);
	assert_mac_hex(md, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hex(void **state)
{
	static const unsigned char in[] = { 0x00, 0x09, 0x0a, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(in) + 1];

	(void)state;
	memset(out, 'X', sizeof(out));
	crypto_hex(in, sizeof(in), out);
	assert_string_equal(out, "00090a7f80abff");
	crypto_hex(in, 0, out);
	assert_string_equal(out, "");
}

static void test_random(void **state)
{
	unsigned char a[32], b[32];

	(void)state;
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	/* 2^-256 chance of a false failure. */
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(crypto_random(a, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_vector),
		cmocka_unit_test(test_sdk_vector),
		cmocka_unit_test(test_body_hashed_in_place_not_copied),
		cmocka_unit_test(test_every_flipped_hex_char),
		cmocka_unit_test(test_uppercase_hex_rejected),
		cmocka_unit_test(test_wrong_length_rejected),
		cmocka_unit_test(test_other_version_rejected),
		cmocka_unit_test(test_missing_headers),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_extreme_times_do_not_overflow),
		cmocka_unit_test(test_changed_body_rejected),
		cmocka_unit_test(test_bad_timestamps),
		cmocka_unit_test(test_timestamp_is_signed_verbatim),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_empty_secret_fails_closed),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_hmac_streaming_matches_one_shot),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
