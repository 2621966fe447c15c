/* test_teams_jwt.c - Bot Framework token check (adapters/teams_jwt).
 *
 * The keys are made here with OpenSSL (two RSA-2048, one RSA-1024), written
 * out as a JWK Set the way login.botframework.com serves it, and the tokens
 * are signed here too, so every case is a real signature (or a deliberately
 * wrong one) rather than a canned string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "adapters/teams_jwt.h"
#include "bot/crypto.h"

#define NOW INT64_C(1700000000)
#define APP "00000000-0000-0000-0000-0000000000b0"
#define ISS "https://api.botframework.com"
#define SURL "https://smba.trafficmanager.net/amer/"
#define HDR_A "{\"alg\":\"RS256\",\"kid\":\"kidA\",\"typ\":\"JWT\"}"

static EVP_PKEY *key_a, *key_b, *key_small;
static struct teams_keys *keys;

static const struct teams_jwt_expect want = {
	.app_id = APP, .issuer = ISS, .service_url = SURL, .channel_id = "msteams",
	.now = NOW, .skew = TEAMS_JWT_SKEW,
};

/* ---- building keys and tokens ---- */

static size_t b64url(const void *in, size_t n, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = in;
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = al[v >> 18];
		out[o++] = al[v >> 12 & 63];
		out[o++] = al[v >> 6 & 63];
		out[o++] = al[v & 63];
	}
	if (n - i == 1) {
		out[o++] = al[p[i] >> 2];
		out[o++] = al[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		out[o++] = al[p[i] >> 2];
		out[o++] = al[(p[i] & 3) << 4 | p[i + 1] >> 4];
		out[o++] = al[(p[i + 1] & 15) << 2];
	}
	out[o] = '\0';
	return o;
}

static void bn_b64(EVP_PKEY *k, const char *param, char *out)
{
	unsigned char bin[1024];
	BIGNUM *bn = NULL;
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(k, param, &bn), 1);
	n = BN_bn2bin(bn, bin);
	b64url(bin, (size_t)n, out);
	BN_free(bn);
}

/* One JWK; ends is the JSON of the endorsements array, or NULL for none. */
static char *jwk(EVP_PKEY *k, const char *kid, const char *ends)
{
	char n[1400], e[16], *s = malloc(2048);

	bn_b64(k, OSSL_PKEY_PARAM_RSA_N, n);
	bn_b64(k, OSSL_PKEY_PARAM_RSA_E, e);
	snprintf(s, 2048, "{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"%s\",\"x5t\":\"%s\",\"n\":\"%s\","
		 "\"e\":\"%s\"%s%s}", kid, kid, n, e, ends ? ",\"endorsements\":" : "", ends ? ends : "");
	return s;
}

static char *jwks(const char *a, const char *b, const char *c, const char *d)
{
	const char *parts[] = { a, b, c, d };
	char *s = malloc(16384);
	size_t o = 0;

	o += (size_t)snprintf(s, 16384, "{\"keys\":[");
	for (size_t i = 0; i < 4 && parts[i]; i++)
		o += (size_t)snprintf(s + o, 16384 - o, "%s%s", i ? "," : "", parts[i]);
	snprintf(s + o, 16384 - o, "]}");
	return s;
}

/* "Bearer " + header.payload + "." + sig over them; md NULL means HS256
 * with secret (the way a forger would use our public key). */
static char *token_with(const char *hdr, const char *claims, EVP_PKEY *k, const EVP_MD *md,
			const void *secret, size_t slen)
{
	size_t cap = 7 + 2 * (strlen(hdr) + strlen(claims)) + 2048, o;
	char *t = malloc(cap);
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);

	o = (size_t)snprintf(t, cap, "Bearer ");
	o += b64url(hdr, strlen(hdr), t + o);
	t[o++] = '.';
	o += b64url(claims, strlen(claims), t + o);
	if (k) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, k), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)t + 7, o - 7), 1);
		EVP_MD_CTX_free(ctx);
	} else if (secret) {
		crypto_hmac_sha256(secret, slen, t + 7, o - 7, sig);
		siglen = CRYPTO_SHA256_LEN;
	} else {
		siglen = 0;
	}
	t[o++] = '.';
	b64url(sig, siglen, t + o);
	return t;
}

static char *token(const char *hdr, const char *claims, EVP_PKEY *k)
{
	return token_with(hdr, claims, k, EVP_sha256(), NULL, 0);
}

static const char *claims(const char *iss, const char *aud, const char *surl, int64_t exp)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "{\"serviceurl\":\"%s\",\"nbf\":%lld,\"exp\":%lld,\"iss\":\"%s\","
		 "\"aud\":%s}", surl, (long long)(NOW - 60), (long long)exp, iss, aud);
	return buf;
}

#define GOOD_CLAIMS claims(ISS, "\"" APP "\"", SURL, NOW + 3600)

/* Sign claims with key k under header hdr; verify; free. */
static enum teams_auth run(const char *hdr, const char *c, EVP_PKEY *k, const struct teams_jwt_expect *w,
			   struct teams_jwt_claims *out)
{
	char *t = token(hdr, c, k);
	enum teams_auth r = teams_jwt_verify(keys, t, w, out);

	free(t);
	return r;
}

static int setup(void **state)
{
	char *ka, *kb, *kc, *set;
	char err[TEAMS_ERR_SIZE];

	(void)state;
	key_a = EVP_RSA_gen(2048);
	key_b = EVP_RSA_gen(2048);
	key_small = EVP_RSA_gen(1024);
	if (!key_a || !key_b || !key_small)
		return -1;
	ka = jwk(key_a, "kidA", "[\"msteams\",\"skype\"]");
	kb = jwk(key_b, "kidB", NULL);
	kc = jwk(key_b, "kidB2", "[\"skype\",\"msteamsx\",1]");
	/* Skipped: not RSA, and an encryption key (with a kid we then use). */
	set = jwks(ka, "{\"kty\":\"EC\",\"kid\":\"ec1\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}",
		   kb, kc);
	keys = teams_keys_parse(set, strlen(set), err, sizeof(err));
	free(ka);
	free(kb);
	free(kc);
	free(set);
	return keys ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	teams_keys_unref(keys);
	EVP_PKEY_free(key_a);
	EVP_PKEY_free(key_b);
	EVP_PKEY_free(key_small);
	return 0;
}

/* ---- verify ---- */

static void test_valid_token(void **state)
{
	struct teams_jwt_claims c;

	(void)state;
	assert_int_equal(run(HDR_A, GOOD_CLAIMS, key_a, &want, &c), TEAMS_AUTH_OK);
	assert_string_equal(c.kid, "kidA");
	assert_string_equal(c.serviceurl, SURL);
	assert_string_equal(c.aud, APP);
	assert_string_equal(c.iss, ISS);
	assert_int_equal(c.exp, NOW + 3600);
	assert_int_equal(c.nbf, NOW - 60);
	assert_int_equal(teams_auth_http_status(TEAMS_AUTH_OK), 200);
	/* out is optional; the scheme name is case-insensitive. */
	char *t = token(HDR_A, GOOD_CLAIMS, key_a);
	memcpy(t, "bEARER", 6);
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_OK);
	free(t);
}

static void test_wrong_key(void **state)
{
	struct teams_jwt_claims c;

	(void)state;
	assert_int_equal(run(HDR_A, GOOD_CLAIMS, key_b, &want, &c), TEAMS_AUTH_BAD_SIGNATURE);
	/* Claims of an unverified token are not handed out. */
	assert_string_equal(c.serviceurl, "");
	assert_int_equal(c.exp, 0);
	assert_int_equal(teams_auth_http_status(TEAMS_AUTH_BAD_SIGNATURE), 401);
}

static void test_tampered(void **state)
{
	char *t = token(HDR_A, GOOD_CLAIMS, key_a);
	char *p = strchr(t, '.') + 5, was = *p;

	(void)state;
	*p = was == 'A' ? 'B' : 'A';
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_BAD_SIGNATURE);
	/* Put back, it verifies; then a signature cut short (still base64url). */
	*p = was;
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_OK);
	t[strlen(t) - 2] = '\0';
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_BAD_SIGNATURE);
	free(t);
}

static void test_unknown_kid(void **state)
{
	struct teams_jwt_claims c;
	const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"rotated-2026/x\"}";

	(void)state;
	assert_int_equal(run(hdr, GOOD_CLAIMS, key_a, &want, &c), TEAMS_AUTH_UNKNOWN_KID);
	assert_string_equal(c.kid, "rotated-2026/x");
	/* No key set yet: every kid is unknown, reported all the same. */
	char *t = token(HDR_A, GOOD_CLAIMS, key_a);
	assert_int_equal(teams_jwt_verify(NULL, t, &want, &c), TEAMS_AUTH_UNKNOWN_KID);
	assert_string_equal(c.kid, "kidA");
	free(t);
	/* ec1 was skipped at parse, so it is unknown too. */
	assert_int_equal(run("{\"alg\":\"RS256\",\"kid\":\"ec1\"}", GOOD_CLAIMS, key_a, &want, &c),
			 TEAMS_AUTH_UNKNOWN_KID);
}

static void test_alg_none(void **state)
{
	char *t = token_with("{\"alg\":\"none\",\"kid\":\"kidA\"}", GOOD_CLAIMS, NULL, NULL, NULL, 0);

	(void)state;
	assert_string_equal(t + strlen(t) - 1, ".");
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_BAD_ALG);
	free(t);
	assert_int_equal(run("{\"kid\":\"kidA\"}", GOOD_CLAIMS, key_a, &want, NULL), TEAMS_AUTH_BAD_ALG);
	assert_int_equal(run("{\"alg\":\"rs256\",\"kid\":\"kidA\"}", GOOD_CLAIMS, key_a, &want, NULL),
			 TEAMS_AUTH_BAD_ALG);
	assert_int_equal(run("{\"alg\":[\"RS256\"],\"kid\":\"kidA\"}", GOOD_CLAIMS, key_a, &want, NULL),
			 TEAMS_AUTH_BAD_ALG);
}

static void test_hs256_with_public_key(void **state)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem, *t;
	long n;

	(void)state;
	assert_int_equal(PEM_write_bio_PUBKEY(bio, key_a), 1);
	n = BIO_get_mem_data(bio, &pem);
	t = token_with("{\"alg\":\"HS256\",\"kid\":\"kidA\"}", GOOD_CLAIMS, NULL, NULL, pem, (size_t)n);
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_BAD_ALG);
	free(t);
	/* Same MAC under a header claiming RS256: 32 bytes is no RSA signature. */
	t = token_with(HDR_A, GOOD_CLAIMS, NULL, NULL, pem, (size_t)n);
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_BAD_SIGNATURE);
	free(t);
	BIO_free(bio);
}

static void test_rs384_refused(void **state)
{
	char *t = token_with("{\"alg\":\"RS384\",\"kid\":\"kidA\"}", GOOD_CLAIMS, key_a, EVP_sha384(),
			     NULL, 0);

	(void)state;
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_BAD_ALG);
	free(t);
	/* An RS384 signature under an RS256 header does not pass either. */
	t = token_with(HDR_A, GOOD_CLAIMS, key_a, EVP_sha384(), NULL, 0);
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_BAD_SIGNATURE);
	free(t);
}

static void test_expiry(void **state)
{
	struct teams_jwt_expect w = want;

	(void)state;
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", SURL, NOW - 301), key_a, &want, NULL),
			 TEAMS_AUTH_EXPIRED);
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", SURL, NOW - 300), key_a, &want, NULL),
			 TEAMS_AUTH_EXPIRED);
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", SURL, NOW - 299), key_a, &want, NULL),
			 TEAMS_AUTH_OK);
	w.skew = 0;
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", SURL, NOW), key_a, &w, NULL),
			 TEAMS_AUTH_EXPIRED);
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", SURL, NOW + 1), key_a, &w, NULL),
			 TEAMS_AUTH_OK);
	/* exp is required, must be a number, may be fractional. */
	assert_int_equal(run(HDR_A, "{\"iss\":\"" ISS "\",\"aud\":\"" APP "\",\"serviceurl\":\"" SURL "\"}",
			     key_a, &want, NULL), TEAMS_AUTH_EXPIRED);
	assert_int_equal(run(HDR_A, "{\"exp\":\"1700003600\",\"iss\":\"" ISS "\"}", key_a, &want, NULL),
			 TEAMS_AUTH_MALFORMED);
	assert_int_equal(run(HDR_A, "{\"exp\":1700003600.5,\"iss\":\"" ISS "\",\"aud\":\"" APP
			     "\",\"serviceurl\":\"" SURL "\"}", key_a, &want, NULL), TEAMS_AUTH_OK);
	/* Extremes must not overflow (UBSan watches). */
	assert_int_equal(run(HDR_A, "{\"exp\":-9223372036854775808}", key_a, &want, NULL),
			 TEAMS_AUTH_EXPIRED);
	assert_int_equal(run(HDR_A, "{\"exp\":1e300}", key_a, &want, NULL), TEAMS_AUTH_MALFORMED);
	w.skew = TEAMS_JWT_SKEW;
	w.now = INT64_MAX;
	assert_int_equal(run(HDR_A, GOOD_CLAIMS, key_a, &w, NULL), TEAMS_AUTH_EXPIRED);
	w.now = INT64_MIN;
	assert_int_equal(run(HDR_A, GOOD_CLAIMS, key_a, &w, NULL), TEAMS_AUTH_NOT_YET_VALID);
}

static void test_not_before(void **state)
{
	char c[512];

	(void)state;
	snprintf(c, sizeof(c), "{\"nbf\":%lld,\"exp\":%lld,\"iss\":\"" ISS "\",\"aud\":\"" APP
		 "\",\"serviceurl\":\"" SURL "\"}", (long long)NOW + 301, (long long)NOW + 3600);
	assert_int_equal(run(HDR_A, c, key_a, &want, NULL), TEAMS_AUTH_NOT_YET_VALID);
	snprintf(c, sizeof(c), "{\"nbf\":%lld,\"exp\":%lld,\"iss\":\"" ISS "\",\"aud\":\"" APP
		 "\",\"serviceurl\":\"" SURL "\"}", (long long)NOW + 300, (long long)NOW + 3600);
	assert_int_equal(run(HDR_A, c, key_a, &want, NULL), TEAMS_AUTH_OK);
	/* nbf is optional. */
	snprintf(c, sizeof(c), "{\"exp\":%lld,\"iss\":\"" ISS "\",\"aud\":\"" APP
		 "\",\"serviceurl\":\"" SURL "\"}", (long long)NOW + 3600);
	assert_int_equal(run(HDR_A, c, key_a, &want, NULL), TEAMS_AUTH_OK);
	assert_int_equal(run(HDR_A, "{\"nbf\":null,\"exp\":1700003600}", key_a, &want, NULL),
			 TEAMS_AUTH_MALFORMED);
}

static void test_audience(void **state)
{
	struct teams_jwt_claims c;
	struct teams_jwt_expect w = want;

	(void)state;
	assert_int_equal(run(HDR_A, claims(ISS, "\"someone-else\"", SURL, NOW + 60), key_a, &want, &c),
			 TEAMS_AUTH_BAD_AUDIENCE);
	assert_string_equal(c.aud, "someone-else");
	assert_int_equal(run(HDR_A, claims(ISS, "[\"x\",\"" APP "\"]", SURL, NOW + 60), key_a, &want, &c),
			 TEAMS_AUTH_OK);
	assert_string_equal(c.aud, APP);
	assert_int_equal(run(HDR_A, claims(ISS, "[\"x\",\"y\",7]", SURL, NOW + 60), key_a, &want, &c),
			 TEAMS_AUTH_BAD_AUDIENCE);
	assert_string_equal(c.aud, "x");
	assert_int_equal(run(HDR_A, claims(ISS, "[]", SURL, NOW + 60), key_a, &want, NULL),
			 TEAMS_AUTH_BAD_AUDIENCE);
	assert_int_equal(run(HDR_A, claims(ISS, "null", SURL, NOW + 60), key_a, &want, NULL),
			 TEAMS_AUTH_BAD_AUDIENCE);
	/* Exact: no case folding, no prefix. */
	assert_int_equal(run(HDR_A, claims(ISS, "\"00000000-0000-0000-0000-0000000000B0\"", SURL, NOW + 60),
			     key_a, &want, NULL), TEAMS_AUTH_BAD_AUDIENCE);
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "x\"", SURL, NOW + 60), key_a, &want, NULL),
			 TEAMS_AUTH_BAD_AUDIENCE);
	/* Not configured: fails closed, even for an empty aud. */
	w.app_id = "";
	assert_int_equal(run(HDR_A, claims(ISS, "\"\"", SURL, NOW + 60), key_a, &w, NULL),
			 TEAMS_AUTH_BAD_AUDIENCE);
	/* Two aud members: which did the signer mean? */
	assert_int_equal(run(HDR_A, "{\"aud\":\"x\",\"aud\":\"" APP "\",\"exp\":1700003600}", key_a, &want,
			     NULL), TEAMS_AUTH_MALFORMED);
}

static void test_issuer(void **state)
{
	(void)state;
	assert_int_equal(run(HDR_A, claims("https://evil.example", "\"" APP "\"", SURL, NOW + 60), key_a,
			     &want, NULL), TEAMS_AUTH_BAD_ISSUER);
	assert_int_equal(run(HDR_A, claims(ISS "/", "\"" APP "\"", SURL, NOW + 60), key_a, &want, NULL),
			 TEAMS_AUTH_BAD_ISSUER);
	assert_int_equal(run(HDR_A, "{\"exp\":1700003600,\"aud\":\"" APP "\"}", key_a, &want, NULL),
			 TEAMS_AUTH_BAD_ISSUER);
}

static void test_service_url(void **state)
{
	struct teams_jwt_expect w = want;
	struct teams_jwt_claims c;

	(void)state;
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", "https://smba.trafficmanager.net/emea/",
					   NOW + 60), key_a, &want, &c), TEAMS_AUTH_SERVICE_URL_MISMATCH);
	assert_string_equal(c.serviceurl, "https://smba.trafficmanager.net/emea/");
	/* One trailing slash either way is the same URL. */
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", "https://smba.trafficmanager.net/amer",
					   NOW + 60), key_a, &want, NULL), TEAMS_AUTH_OK);
	w.service_url = "https://smba.trafficmanager.net/amer";
	assert_int_equal(run(HDR_A, GOOD_CLAIMS, key_a, &w, NULL), TEAMS_AUTH_OK);
	/* Nothing else is lenient. */
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", "https://smba.trafficmanager.net/amer//",
					   NOW + 60), key_a, &want, NULL), TEAMS_AUTH_SERVICE_URL_MISMATCH);
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", "https://SMBA.trafficmanager.net/amer/",
					   NOW + 60), key_a, &want, NULL), TEAMS_AUTH_SERVICE_URL_MISMATCH);
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", "/", NOW + 60), key_a, &want, NULL),
			 TEAMS_AUTH_SERVICE_URL_MISMATCH);
	/* The claim's name is lower case; serviceUrl is not it. */
	assert_int_equal(run(HDR_A, "{\"exp\":1700003600,\"iss\":\"" ISS "\",\"aud\":\"" APP
			     "\",\"serviceUrl\":\"" SURL "\"}", key_a, &want, NULL),
			 TEAMS_AUTH_SERVICE_URL_MISMATCH);
	w.service_url = NULL;
	assert_int_equal(run(HDR_A, GOOD_CLAIMS, key_a, &w, NULL), TEAMS_AUTH_SERVICE_URL_MISMATCH);
	/* Deferred: the claim comes out for the caller to compare after reading the body. */
	w.defer_service_url = true;
	assert_int_equal(run(HDR_A, claims(ISS, "\"" APP "\"", "https://smba.trafficmanager.net/emea/",
					   NOW + 60), key_a, &w, &c), TEAMS_AUTH_OK);
	assert_string_equal(c.serviceurl, "https://smba.trafficmanager.net/emea/");
	assert_true(teams_service_url_equal(c.serviceurl, "https://smba.trafficmanager.net/emea"));
	assert_false(teams_service_url_equal(c.serviceurl, SURL));
	assert_false(teams_service_url_equal("", ""));
}

static void test_endorsements(void **state)
{
	struct teams_jwt_expect w = want;

	(void)state;
	/* kidB has no endorsements array at all: refused, with 403. */
	assert_int_equal(run("{\"alg\":\"RS256\",\"kid\":\"kidB\"}", GOOD_CLAIMS, key_b, &want, NULL),
			 TEAMS_AUTH_NO_ENDORSEMENT);
	assert_int_equal(teams_auth_http_status(TEAMS_AUTH_NO_ENDORSEMENT), 403);
	/* kidB2 endorses skype and "msteamsx", not msteams. */
	assert_int_equal(run("{\"alg\":\"RS256\",\"kid\":\"kidB2\"}", GOOD_CLAIMS, key_b, &want, NULL),
			 TEAMS_AUTH_NO_ENDORSEMENT);
	w.channel_id = "skype";
	assert_int_equal(run("{\"alg\":\"RS256\",\"kid\":\"kidB2\"}", GOOD_CLAIMS, key_b, &w, NULL),
			 TEAMS_AUTH_OK);
	w.channel_id = NULL;
	assert_int_equal(run(HDR_A, GOOD_CLAIMS, key_a, &w, NULL), TEAMS_AUTH_NO_ENDORSEMENT);
	/* A 401 reason comes first: 403 only for an otherwise good token. */
	assert_int_equal(run("{\"alg\":\"RS256\",\"kid\":\"kidB\"}",
			     claims(ISS, "\"" APP "\"", SURL, NOW - 3600), key_b, &want, NULL),
			 TEAMS_AUTH_EXPIRED);
}

static void test_missing(void **state)
{
	static const char *const bad[] = {
		NULL, "", "Basic x", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer    ",
		"Bearerx.y.z", "Token a.b.c", " Bearer a.b.c", "Bearer\ta.b.c",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(teams_jwt_verify(keys, bad[i], &want, NULL), TEAMS_AUTH_MISSING);
}

static void test_malformed(void **state)
{
	char *good = token(HDR_A, GOOD_CLAIMS, key_a);
	size_t n = strlen(good);
	char *t = malloc(TEAMS_JWT_MAX_TOKEN + 64);
	static const char *const bad[] = {
		"Bearer abc", "Bearer a.b", "Bearer a.b.c.d", "Bearer ..", "Bearer .e30.",
		"Bearer eyJ9.e30.", "Bearer e30.e30.",	/* "{}" header: alg missing is BAD_ALG below */
		"Bearer e3=.e30.", "Bearer e30=.e30.", "Bearer e30+.e30.", "Bearer e3 0.e30.",
		"Bearer e31.e30.",	/* nonzero trailing bits */
		"Bearer e30.e30.a",	/* one character is no length at all */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum teams_auth r = teams_jwt_verify(keys, bad[i], &want, NULL);

		if (strcmp(bad[i], "Bearer e30.e30.") == 0)
			assert_int_equal(r, TEAMS_AUTH_BAD_ALG);
		else
			assert_int_equal(r, TEAMS_AUTH_MALFORMED);
	}
	/* Good token with a fourth segment, a trailing space, padding. */
	memcpy(t, good, n + 1);
	memcpy(t + n, ".AA", 4);
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_MALFORMED);
	memcpy(t + n, " ", 2);
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_MALFORMED);
	memcpy(t + n, "==", 3);
	assert_int_equal(teams_jwt_verify(keys, t, &want, NULL), TEAMS_AUTH_MALFORMED);
	free(t);
	free(good);
	/* Genuinely signed and padded to the size bound: one byte over is refused.
	 * The length is worked out first, so only the two tokens that matter are signed. */
	int hits = 0;
	for (size_t pad = 11000; pad < 12500; pad++) {
		static char c[12800];
		size_t hl = (4 * strlen(HDR_A) + 2) / 3, len;

		snprintf(c, sizeof(c), "{\"pad\":\"%0*d\",%s", (int)pad, 0, GOOD_CLAIMS + 1);
		len = hl + 1 + (4 * strlen(c) + 2) / 3 + 1 + 342;
		if (len != TEAMS_JWT_MAX_TOKEN && len != TEAMS_JWT_MAX_TOKEN + 1)
			continue;
		t = token(HDR_A, c, key_a);
		assert_int_equal(strlen(t) - 7, len);
		assert_int_equal(teams_jwt_verify(keys, t, &want, NULL),
				 len == TEAMS_JWT_MAX_TOKEN ? TEAMS_AUTH_OK : TEAMS_AUTH_MALFORMED);
		hits++;
		free(t);
	}
	assert_int_equal(hits, 2);
	/* Header problems: no kid, a non-printable or long kid, crit, deep nesting, duplicates. */
	assert_int_equal(run("{\"alg\":\"RS256\"}", GOOD_CLAIMS, key_a, &want, NULL), TEAMS_AUTH_MALFORMED);
	assert_int_equal(run("{\"alg\":\"RS256\",\"kid\":\"a\\nb\"}", GOOD_CLAIMS, key_a, &want, NULL),
			 TEAMS_AUTH_MALFORMED);
	char h[300];
	snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"kid\":\"%0129d\"}", 0);
	assert_int_equal(run(h, GOOD_CLAIMS, key_a, &want, NULL), TEAMS_AUTH_MALFORMED);
	assert_int_equal(run("{\"alg\":\"RS256\",\"kid\":\"kidA\",\"crit\":[\"b64\"],\"b64\":false}",
			     GOOD_CLAIMS, key_a, &want, NULL), TEAMS_AUTH_MALFORMED);
	assert_int_equal(run("{\"alg\":\"RS256\",\"kid\":\"kidA\",\"x\":[[[[[[[[[1]]]]]]]]]}",
			     GOOD_CLAIMS, key_a, &want, NULL), TEAMS_AUTH_MALFORMED);
	assert_int_equal(run("{\"alg\":\"RS256\",\"kid\":\"kidA\",\"alg\":\"RS256\"}",
			     GOOD_CLAIMS, key_a, &want, NULL), TEAMS_AUTH_MALFORMED);
	/* Signed claims that are not a JSON object. */
	assert_int_equal(run(HDR_A, "[1]", key_a, &want, NULL), TEAMS_AUTH_MALFORMED);
	assert_int_equal(run(HDR_A, "{\"exp\":", key_a, &want, NULL), TEAMS_AUTH_MALFORMED);
}

/* ---- key sets and metadata ---- */

static void test_keys_parse(void **state)
{
	char err[TEAMS_ERR_SIZE], *ka, *kb, *ks, *set;
	struct teams_keys *k;

	(void)state;
	/* setup's set: kidA, kidB, kidB2 kept; the EC key skipped. */
	assert_int_equal(teams_keys_count(keys), 3);

	/* 1024-bit modulus: refused, and with nothing else usable, no set. */
	ks = jwk(key_small, "small", "[\"msteams\"]");
	set = jwks(ks, NULL, NULL, NULL);
	memset(err, 0, sizeof(err));
	assert_null(teams_keys_parse(set, strlen(set), err, sizeof(err)));
	assert_non_null(strstr(err, "no usable RSA signing key"));
	free(set);

	/* use "enc" is skipped; duplicate kid: the first wins. */
	ka = jwk(key_a, "dup", "[\"msteams\"]");
	kb = jwk(key_b, "dup", "[\"msteams\"]");
	char enc[2100];
	snprintf(enc, sizeof(enc), "%s", ka);
	memcpy(strstr(enc, "\"sig\""), "\"enc\"", 5);
	memcpy(strstr(enc, "\"dup\""), "\"enc\"", 5);
	set = jwks(ks, ka, kb, enc);
	k = teams_keys_parse(set, strlen(set), err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(teams_keys_count(k), 1);
	char *t = token("{\"alg\":\"RS256\",\"kid\":\"dup\"}", GOOD_CLAIMS, key_a);
	assert_int_equal(teams_jwt_verify(k, t, &want, NULL), TEAMS_AUTH_OK);
	free(t);
	t = token("{\"alg\":\"RS256\",\"kid\":\"enc\"}", GOOD_CLAIMS, key_a);
	assert_int_equal(teams_jwt_verify(k, t, &want, NULL), TEAMS_AUTH_UNKNOWN_KID);
	free(t);
	/* Shared between owners: the set lives until the last unref. */
	assert_ptr_equal(teams_keys_ref(k), k);
	teams_keys_unref(k);
	assert_int_equal(teams_keys_count(k), 1);
	teams_keys_free(k);
	teams_keys_ref(NULL);
	teams_keys_unref(NULL);
	free(set);
	free(ka);
	free(kb);
	free(ks);

	/* Garbage and wrong shapes say what is wrong. */
	assert_null(teams_keys_parse("{\"keys\":[", 9, err, sizeof(err)));
	assert_non_null(strstr(err, "not JSON"));
	assert_null(teams_keys_parse("[]", 2, err, sizeof(err)));
	assert_string_equal(err, "not a JSON object");
	assert_null(teams_keys_parse("{\"keys\":{}}", 11, err, sizeof(err)));
	assert_string_equal(err, "no \"keys\" array");
	assert_null(teams_keys_parse("{\"keys\":[]}", 11, NULL, 0));
	/* A real modulus: as is it is a key; with an even exponent, a padded
	 * or non-base64url n, or another kty, it is not. */
	char n[1400], doc[1600];
	bn_b64(key_a, OSSL_PKEY_PARAM_RSA_N, n);
#define ONE(kty, nfmt, e) snprintf(doc, sizeof(doc), "{\"keys\":[{\"kty\":\"" kty "\",\"kid\":\"k\"," \
				   "\"n\":\"" nfmt "\",\"e\":\"" e "\"}]}", n)
	ONE("RSA", "%s", "AQAB");
	k = teams_keys_parse(doc, strlen(doc), err, sizeof(err));
	assert_non_null(k);
	teams_keys_free(k);
	ONE("RSA", "%s", "Ag");
	assert_null(teams_keys_parse(doc, strlen(doc), err, sizeof(err)));
	assert_non_null(strstr(err, "among 1 keys"));
	ONE("RSA", "%s==", "AQAB");
	assert_null(teams_keys_parse(doc, strlen(doc), err, sizeof(err)));
	n[10] = '+';
	ONE("RSA", "%s", "AQAB");
	assert_null(teams_keys_parse(doc, strlen(doc), err, sizeof(err)));
	n[10] = 'A';
	ONE("rsa", "%s", "AQAB");
	assert_null(teams_keys_parse(doc, strlen(doc), err, sizeof(err)));
#undef ONE
}

static void test_openid_parse(void **state)
{
	static const char doc[] =
		"{\"issuer\":\"https://api.botframework.com\","
		"\"authorization_endpoint\":\"https://invalid.botframework.com\","
		"\"jwks_uri\":\"https://login.botframework.com/v1/.well-known/keys\","
		"\"id_token_signing_alg_values_supported\":[\"RS256\"],"
		"\"token_endpoint_auth_methods_supported\":[\"private_key_jwt\"]}";
	char uri[128], iss[64], err[TEAMS_ERR_SIZE];

	(void)state;
	assert_int_equal(teams_openid_parse(doc, sizeof(doc) - 1, uri, sizeof(uri), iss, sizeof(iss),
					    err, sizeof(err)), 0);
	assert_string_equal(uri, "https://login.botframework.com/v1/.well-known/keys");
	assert_string_equal(iss, ISS);
	/* Too small a buffer is an error, never a truncated URL. */
	assert_int_equal(teams_openid_parse(doc, sizeof(doc) - 1, uri, 20, iss, sizeof(iss),
					    err, sizeof(err)), -1);
	assert_string_equal(uri, "");
	assert_non_null(strstr(err, "jwks_uri"));
#define DOC(s) teams_openid_parse(s, strlen(s), uri, sizeof(uri), iss, sizeof(iss), err, sizeof(err))
	assert_int_equal(DOC("{\"issuer\":\"i\",\"jwks_uri\":\"https://k\"}"), 0);
	assert_int_equal(DOC("{\"issuer\":\"i\",\"jwks_uri\":\"https://k\","
			     "\"id_token_signing_alg_values_supported\":[\"RS384\",\"HS256\"]}"), -1);
	assert_non_null(strstr(err, "RS256"));
	assert_int_equal(DOC("{\"issuer\":\"i\",\"jwks_uri\":\"https://k\","
			     "\"id_token_signing_alg_values_supported\":\"RS256\"}"), -1);
	assert_int_equal(DOC("{\"issuer\":\"i\",\"jwks_uri\":\"http://k\"}"), -1);
	assert_int_equal(DOC("{\"issuer\":\"i\",\"jwks_uri\":\"http://127.0.0.1.example.com/k\"}"), -1);
	assert_int_equal(DOC("{\"issuer\":\"i\",\"jwks_uri\":\"http://127.0.0.1:8080/k\"}"), 0);
	assert_non_null(strstr(err, "https"));
	assert_int_equal(DOC("{\"jwks_uri\":\"https://k\"}"), -1);
	assert_non_null(strstr(err, "issuer"));
	assert_int_equal(DOC("{\"issuer\":\"i\"}"), -1);
	assert_int_equal(DOC("<html>"), -1);
	assert_non_null(strstr(err, "not JSON"));
#undef DOC
}

static void test_reasons(void **state)
{
	(void)state;
	for (int i = TEAMS_AUTH_OK; i <= TEAMS_AUTH_NO_ENDORSEMENT; i++) {
		const char *r = teams_auth_reason((enum teams_auth)i);
		int s = teams_auth_http_status((enum teams_auth)i);

		assert_true(strlen(r) > 0);
		assert_true(s == (i == 0 ? 200 : i == TEAMS_AUTH_NO_ENDORSEMENT ? 403 : 401));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(r, teams_auth_reason((enum teams_auth)j));
	}
	assert_non_null(teams_auth_reason((enum teams_auth)99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_token),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_unknown_kid),
		cmocka_unit_test(test_alg_none),
		cmocka_unit_test(test_hs256_with_public_key),
		cmocka_unit_test(test_rs384_refused),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_not_before),
		cmocka_unit_test(test_audience),
		cmocka_unit_test(test_issuer),
		cmocka_unit_test(test_service_url),
		cmocka_unit_test(test_endorsements),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_keys_parse),
		cmocka_unit_test(test_openid_parse),
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
