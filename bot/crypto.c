/* crypto.c - see crypto.h */
#include "bot/crypto.h"
#include "bot/log.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

/*
 * Fetching an algorithm walks OpenSSL's provider store under a lock, and
 * HMAC(), EVP_Q_mac() or a "digest" parameter would do that on every call.
 * So we fetch once and keep an unkeyed HMAC-SHA256 context as a template:
 * each MAC is then a dup plus a key setup, with no lookups on the hot path.
 * These live for the whole process, like OpenSSL's own tables.
 */
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static EVP_MAC_CTX *hmac_template;
static EVP_MD *sha256_md;

static _Noreturn void crypto_fatal(const char *op)
{
	char reason[256], q[300];

	ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
	log_error("crypto.fatal", "op=%s openssl=%s", op, log_quote(q, sizeof(q), reason));
	abort();
}

static void crypto_setup(void)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac;

	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sha256_md)
		crypto_fatal("fetch_sha256");
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		crypto_fatal("fetch_hmac");
	hmac_template = EVP_MAC_CTX_new(mac);
	/* The context holds its own reference to the algorithm. */
	EVP_MAC_free(mac);
	if (!hmac_template)
		crypto_fatal("hmac_ctx_new");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_CTX_set_params(hmac_template, params))
		crypto_fatal("hmac_set_digest");
}

void crypto_hmac_init(struct crypto_hmac *h, const void *key, size_t klen)
{
	/* OpenSSL reads a NULL key as "keep the previous key", not "empty key". */
	static const unsigned char empty_key[1];

	pthread_once(&crypto_once, crypto_setup);
	h->ctx = EVP_MAC_CTX_dup(hmac_template);
	if (!h->ctx)
		crypto_fatal("hmac_ctx_dup");
	if (!EVP_MAC_init(h->ctx, klen ? key : empty_key, klen, NULL))
		crypto_fatal("hmac_init");
}

void crypto_hmac_update(struct crypto_hmac *h, const void *msg, size_t mlen)
{
	if (mlen && !EVP_MAC_update(h->ctx, msg, mlen))
		crypto_fatal("hmac_update");
}

void crypto_hmac_final(struct crypto_hmac *h, unsigned char out[CRYPTO_SHA256_LEN])
{
	size_t outlen = 0;

	if (!EVP_MAC_final(h->ctx, out, &outlen, CRYPTO_SHA256_LEN) ||
	    outlen != CRYPTO_SHA256_LEN)
		crypto_fatal("hmac_final");
	EVP_MAC_CTX_free(h->ctx);
	h->ctx = NULL;
}

void crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
			unsigned char out[CRYPTO_SHA256_LEN])
{
	struct crypto_hmac h;

	crypto_hmac_init(&h, key, klen);
	crypto_hmac_update(&h, msg, mlen);
	crypto_hmac_final(&h, out);
}

void crypto_sha256(const void *msg, size_t mlen, unsigned char out[CRYPTO_SHA256_LEN])
{
	static const unsigned char nothing[1];
	unsigned int outlen = 0;

	pthread_once(&crypto_once, crypto_setup);
	if (!EVP_Digest(mlen ? msg : nothing, mlen, out, &outlen, sha256_md, NULL) ||
	    outlen != CRYPTO_SHA256_LEN)
		crypto_fatal("sha256");
}

void crypto_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int crypto_random(void *out, size_t n)
{
	unsigned char *p = out;

	/* RAND_bytes() takes an int count. */
	while (n > 0) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;

		if (RAND_bytes(p, chunk) != 1) {
			char reason[256], q[300];

			ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
			log_error("crypto.random_failed", "openssl=%s",
				  log_quote(q, sizeof(q), reason));
			return -1;
		}
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

size_t crypto_base64_encode(const void *in, size_t n, char *out, size_t size)
{
	size_t need = CRYPTO_BASE64_SIZE(n);

	if (size < need || n > INT_MAX / 2)
		return 0;
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

int crypto_base64_decode(const char *in, void *out, size_t size, size_t *outlen)
{
	size_t n = strlen(in), pad = 0;
	unsigned char *tmp;
	int got;

	/* Strict: whole quads of the standard alphabet, '=' only at the end. */
	if (n == 0 || n % 4 || n > INT_MAX / 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
			  c == '/';
		if (c == '=' && i >= n - 2 && (i == n - 1 || in[n - 1] == '='))
			pad++;
		else if (!ok)
			return -1;
	}
	if (n / 4 * 3 - pad > size)
		return -1;
	tmp = malloc(n / 4 * 3 + 1);
	if (!tmp)
		return -1;
	got = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
	if (got < 0 || (size_t)got < pad) {
		free(tmp);
		return -1;
	}
	*outlen = (size_t)got - pad;	/* EVP_DecodeBlock counts the padding as bytes */
	memcpy(out, tmp, *outlen);
	OPENSSL_cleanse(tmp, (size_t)got);
	free(tmp);
	return 0;
}

int crypto_aes256gcm_seal(const unsigned char key[CRYPTO_AES_KEY_LEN], const void *aad, size_t aadlen,
			  const void *plain, size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX *c;
	int len = 0, ok;

	if (n > INT_MAX - 64 || aadlen > INT_MAX || crypto_random(out, CRYPTO_GCM_NONCE_LEN) < 0)
		return -1;
	if (!(c = EVP_CIPHER_CTX_new()))
		crypto_fatal("gcm_new");
	ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_GCM_NONCE_LEN, NULL) == 1 &&
	     EVP_EncryptInit_ex(c, NULL, NULL, key, out) == 1 &&
	     (aadlen == 0 || EVP_EncryptUpdate(c, NULL, &len, aad, (int)aadlen) == 1) &&
	     EVP_EncryptUpdate(c, out + CRYPTO_GCM_NONCE_LEN, &len, plain, (int)n) == 1 &&
	     EVP_EncryptFinal_ex(c, out + CRYPTO_GCM_NONCE_LEN + len, &len) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN, out + CRYPTO_GCM_NONCE_LEN + n) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		crypto_fatal("gcm_seal");
	return 0;
}

int crypto_aes256gcm_open(const unsigned char key[CRYPTO_AES_KEY_LEN], const void *aad, size_t aadlen,
			  const unsigned char *in, size_t inlen, unsigned char *plain)
{
	EVP_CIPHER_CTX *c;
	size_t n;
	int len = 0, ok;

	if (inlen < CRYPTO_GCM_OVERHEAD || inlen > INT_MAX || aadlen > INT_MAX)
		return -1;
	n = inlen - CRYPTO_GCM_OVERHEAD;
	if (!(c = EVP_CIPHER_CTX_new()))
		crypto_fatal("gcm_new");
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_GCM_NONCE_LEN, NULL) == 1 &&
	     EVP_DecryptInit_ex(c, NULL, NULL, key, in) == 1 &&
	     (aadlen == 0 || EVP_DecryptUpdate(c, NULL, &len, aad, (int)aadlen) == 1) &&
	     EVP_DecryptUpdate(c, plain, &len, in + CRYPTO_GCM_NONCE_LEN, (int)n) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN,
				 (void *)(in + CRYPTO_GCM_NONCE_LEN + n)) == 1 &&
	     EVP_DecryptFinal_ex(c, plain + len, &len) == 1;	/* checks the tag */
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		OPENSSL_cleanse(plain, n);
		ERR_clear_error();
		return -1;
	}
	return 0;
}
