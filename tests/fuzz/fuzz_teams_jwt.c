/* fuzz_teams_jwt.c - libFuzzer target for adapters/teams_jwt.
 *
 * The first byte picks what the rest is (mod 4):
 *   0  an Authorization header, verified against a fixed key set;
 *   1  a JWK Set for teams_keys_parse;
 *   2  an OpenID metadata document for teams_openid_parse;
 *   3  a claims part, which we sign with the set's private key so the claim
 *      checks behind the signature get fuzzed too; that key endorses only
 *      "skype", so even perfect claims must stop at NO_ENDORSEMENT.
 * Beyond "no crash, no leak": nothing from fuzz bytes ever verifies, results
 * map to 401/403, claims are only handed out past the signature, a reported
 * kid is printable, and refusals say why in one line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "adapters/teams_jwt.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_teams_jwt: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();					\
		}							\
	} while (0)

static EVP_PKEY *priv;
static struct teams_keys *keys;

static const struct teams_jwt_expect want = {
	.app_id = "00000000-0000-0000-0000-0000000000b0",
	.issuer = "https://api.botframework.com",
	.service_url = "https://smba.trafficmanager.net/amer/",
	.channel_id = "msteams",
	.now = 1700000000,
	.skew = TEAMS_JWT_SKEW,
};

static size_t b64url(const void *in, size_t n, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = in;
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = al[acc >> bits & 63];
		}
	}
	if (bits)
		out[o++] = al[acc << (6 - bits) & 63];
	out[o] = '\0';
	return o;
}

/* One RSA-2048 key under two kids: "fuzz" (endorses msteams, never signs
 * anything here) and "signed" (signs mode 3 inputs, endorses only skype). */
static void init(void)
{
	unsigned char bin[512];
	char n[700], e[16], set[2048], err[TEAMS_ERR_SIZE];
	BIGNUM *bn = NULL;

	priv = EVP_RSA_gen(2048);
	CHECK(priv != NULL);
	CHECK(EVP_PKEY_get_bn_param(priv, OSSL_PKEY_PARAM_RSA_N, &bn) == 1);
	b64url(bin, (size_t)BN_bn2bin(bn, bin), n);
	BN_free(bn);
	bn = NULL;
	CHECK(EVP_PKEY_get_bn_param(priv, OSSL_PKEY_PARAM_RSA_E, &bn) == 1);
	b64url(bin, (size_t)BN_bn2bin(bn, bin), e);
	BN_free(bn);
	snprintf(set, sizeof(set),
		 "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"fuzz\",\"n\":\"%s\",\"e\":\"%s\","
		 "\"endorsements\":[\"msteams\"]},{\"kty\":\"RSA\",\"kid\":\"signed\",\"n\":\"%s\","
		 "\"e\":\"%s\",\"endorsements\":[\"skype\"]}]}", n, e, n, e);
	keys = teams_keys_parse(set, strlen(set), err, sizeof(err));
	CHECK(keys != NULL && teams_keys_count(keys) == 2);
}

static void check_verdict(enum teams_auth r, const struct teams_jwt_claims *c)
{
	CHECK(r != TEAMS_AUTH_OK);
	CHECK(r > TEAMS_AUTH_OK && r <= TEAMS_AUTH_NO_ENDORSEMENT);
	CHECK(teams_auth_http_status(r) == (r == TEAMS_AUTH_NO_ENDORSEMENT ? 403 : 401));
	CHECK(teams_auth_reason(r)[0] != '\0');
	CHECK(memchr(c->kid, '\0', sizeof(c->kid)) != NULL);
	for (const char *k = c->kid; *k; k++)
		CHECK(*k > 0x20 && *k < 0x7f);
	if (r == TEAMS_AUTH_UNKNOWN_KID || r == TEAMS_AUTH_BAD_SIGNATURE)
		CHECK(c->kid[0] != '\0');
	/* Nothing from the claims before the signature verified. */
	if (r <= TEAMS_AUTH_BAD_SIGNATURE)
		CHECK(!c->iss[0] && !c->aud[0] && !c->serviceurl[0] && !c->exp && !c->nbf);
}

static void fuzz_header(const uint8_t *data, size_t size)
{
	char *h = malloc(size + 1);
	struct teams_jwt_claims c;

	CHECK(h != NULL);
	memcpy(h, data, size);
	h[size] = '\0';
	check_verdict(teams_jwt_verify(keys, h, &want, &c), &c);
	free(h);
}

static void fuzz_signed_claims(const uint8_t *data, size_t size)
{
	static const char hdr[] = "{\"alg\":\"RS256\",\"kid\":\"signed\"}";
	size_t cap = 7 + 64 + size / 3 * 4 + 8 + 400, o, siglen = 256;
	char *t = malloc(cap);
	unsigned char sig[256];
	struct teams_jwt_claims c;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	enum teams_auth r;

	CHECK(t != NULL && md != NULL);
	memcpy(t, "Bearer ", 7);
	o = 7 + b64url(hdr, sizeof(hdr) - 1, t + 7);
	t[o++] = '.';
	o += b64url(data, size, t + o);
	CHECK(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, priv) == 1);
	CHECK(EVP_DigestSign(md, sig, &siglen, (unsigned char *)t + 7, o - 7) == 1);
	EVP_MD_CTX_free(md);
	t[o++] = '.';
	b64url(sig, siglen, t + o);
	r = teams_jwt_verify(keys, t, &want, &c);
	check_verdict(r, &c);
	/* Genuinely signed: only an oversize token stops before the claims. */
	CHECK(r == TEAMS_AUTH_MALFORMED || r > TEAMS_AUTH_BAD_SIGNATURE);
	free(t);
}

static void check_err(const char *err)
{
	CHECK(memchr(err, '\0', TEAMS_ERR_SIZE) != NULL);
	CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[TEAMS_ERR_SIZE], uri[256], iss[256];
	struct teams_keys *k;

	if (!keys)
		init();
	if (size == 0)
		return 0;
	memset(err, 'X', sizeof(err));
	switch (data[0] % 4) {
	case 0:
		fuzz_header(data + 1, size - 1);
		break;
	case 1:
		k = teams_keys_parse((const char *)data + 1, size - 1, err, sizeof(err));
		if (!k) {
			check_err(err);
			break;
		}
		CHECK(teams_keys_count(k) >= 1 && teams_keys_count(k) <= TEAMS_KEYS_MAX);
		teams_keys_unref(teams_keys_ref(k));
		teams_keys_free(k);
		break;
	case 2:
		if (teams_openid_parse((const char *)data + 1, size - 1, uri, sizeof(uri), iss,
				       sizeof(iss), err, sizeof(err)) == 0) {
			CHECK(strncmp(uri, "https://", 8) == 0 && iss[0] != '\0');
		} else {
			CHECK(uri[0] == '\0' && iss[0] == '\0');
			check_err(err);
		}
		break;
	case 3:
		fuzz_signed_claims(data + 1, size - 1);
		break;
	}
	return 0;
}
