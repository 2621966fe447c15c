/* bench_jwt - the cost of checking one inbound Teams token on a cached key:
 * teams_jwt_verify() (RS256 on a 2048-bit key, header and claims parsed, iss,
 * aud, exp/nbf, serviceurl and the key's "msteams" endorsement checked), the
 * per-request work of POST /teams/messages before the activity is read.
 *
 *   bench_jwt [N]     (default 20000 verifications)
 *
 * Generates a key, publishes it as a one-key JWK Set (teams_keys_parse), signs
 * one token with it, checks it once (must be OK), then times N checks and
 * prints "jwt_us <mean µs per verify>" plus the median and p99 of 100-verify
 * batches. Run by scripts/bench_teams.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "adapters/teams_jwt.h"

#define BATCH 100
#define APP_ID "00000000-0000-0000-0000-0000000000b0"
#define ISSUER "https://api.botframework.com"
#define SERVICE_URL "http://127.0.0.1:9/"

static void die(const char *what)
{
	fprintf(stderr, "bench_jwt: %s\n", what);
	exit(1);
}

/* base64url without padding of n bytes into out (size >= 4 * n / 3 + 4). */
static size_t b64u(const unsigned char *in, size_t n, char *out, size_t size)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	if (size < 4 * ((n + 2) / 3) + 1)
		die("base64 buffer too small");
	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = tbl[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = tbl[v & 63];
	}
	out[o] = '\0';
	return o;
}

static void bn_b64u(const EVP_PKEY *pk, const char *name, char *out, size_t size)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	if (!EVP_PKEY_get_bn_param(pk, name, &bn))
		die("EVP_PKEY_get_bn_param");
	n = BN_num_bytes(bn);
	if (n <= 0 || (size_t)n > sizeof(buf))
		die("key parameter size");
	BN_bn2bin(bn, buf);
	BN_free(bn);
	b64u(buf, (size_t)n, out, size);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
	char nb[1024], eb[16], jwks[2048], head[256], claims[512], hb[512], cb[1024];
	char si[2048], sigb[1024], auth[4096], err[TEAMS_ERR_SIZE];
	unsigned char sig[512];
	size_t siglen = sizeof(sig);
	time_t t = time(NULL);
	int len;

	if (n < BATCH)
		n = BATCH;
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	if (!pk)
		die("EVP_RSA_gen");
	bn_b64u(pk, OSSL_PKEY_PARAM_RSA_N, nb, sizeof(nb));
	bn_b64u(pk, OSSL_PKEY_PARAM_RSA_E, eb, sizeof(eb));
	len = snprintf(jwks, sizeof(jwks),
		       "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"bench-key\",\"n\":\"%s\",\"e\":\"%s\","
		       "\"endorsements\":[\"msteams\",\"skype\"]}]}", nb, eb);
	if (len < 0 || (size_t)len >= sizeof(jwks))
		die("jwks too long");
	struct teams_keys *keys = teams_keys_parse(jwks, (size_t)len, err, sizeof(err));
	if (!keys)
		die(err);

	len = snprintf(head, sizeof(head), "{\"alg\":\"RS256\",\"kid\":\"bench-key\",\"typ\":\"JWT\"}");
	b64u((const unsigned char *)head, (size_t)len, hb, sizeof(hb));
	len = snprintf(claims, sizeof(claims),
		       "{\"serviceurl\":\"%s\",\"nbf\":%lld,\"exp\":%lld,\"iss\":\"%s\",\"aud\":\"%s\"}",
		       SERVICE_URL, (long long)t - 10, (long long)t + 7200, ISSUER, APP_ID);
	b64u((const unsigned char *)claims, (size_t)len, cb, sizeof(cb));
	len = snprintf(si, sizeof(si), "%s.%s", hb, cb);
	if (len < 0 || (size_t)len >= sizeof(si))
		die("signing input too long");

	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)si, (size_t)len) != 1)
		die("signing failed");
	EVP_MD_CTX_free(md);
	b64u(sig, siglen, sigb, sizeof(sigb));
	len = snprintf(auth, sizeof(auth), "Bearer %s.%s", si, sigb);
	if (len < 0 || (size_t)len >= sizeof(auth))
		die("token too long");

	struct teams_jwt_expect want = {
		.app_id = APP_ID, .issuer = ISSUER, .service_url = SERVICE_URL, .channel_id = "msteams",
		.now = (int64_t)t, .skew = TEAMS_JWT_SKEW,
	};
	struct teams_jwt_claims out;
	enum teams_auth r = teams_jwt_verify(keys, auth, &want, &out);
	if (r != TEAMS_AUTH_OK) {
		fprintf(stderr, "bench_jwt: the token does not verify: %s\n", teams_auth_reason(r));
		return 1;
	}
	for (int i = 0; i < 200; i++)	/* warm up */
		(void)teams_jwt_verify(keys, auth, &want, &out);

	long batches = n / BATCH;
	double *per = malloc(sizeof(*per) * (size_t)batches);
	if (!per)
		die("out of memory");
	double t0 = now_us();
	for (long b = 0; b < batches; b++) {
		double b0 = now_us();
		for (int i = 0; i < BATCH; i++)
			if (teams_jwt_verify(keys, auth, &want, &out) != TEAMS_AUTH_OK)
				die("a verification failed");
		per[b] = (now_us() - b0) / BATCH;
	}
	double total = now_us() - t0;
	qsort(per, (size_t)batches, sizeof(*per), cmp_d);
	printf("jwt_us %.1f median %.1f p99 %.1f n %ld (teams_jwt_verify, RS256 2048-bit, cached key)\n",
	       total / (double)(batches * BATCH), per[batches / 2], per[(batches * 99) / 100], batches * BATCH);
	free(per);
	teams_keys_free(keys);
	EVP_PKEY_free(pk);
	return 0;
}
