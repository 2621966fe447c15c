/* crypto.h - the hashes, MACs and randomness the bot needs, on OpenSSL 3.0.
 *
 * Everything here is thread-safe. A struct crypto_hmac belongs to one thread
 * at a time.
 *
 * Errors: with SHA-256 and HMAC the only way OpenSSL can fail is running out
 * of memory or a broken install (no default provider). Both are treated like
 * xmalloc() failure: one log line, then abort(). So the hash and MAC calls
 * return void and callers never check. crypto_random() is different: an
 * entropy source can be unavailable for a while, so it reports failure.
 *
 * Comparing MACs: never memcmp() them; use wk_secret_equal() (bot/util.h).
 * Secrets at rest (AES-256-GCM under WK_SECRET_KEY) use bot/secrets.h. */
#ifndef WK_CRYPTO_H
#define WK_CRYPTO_H

#include <stddef.h>

#include <openssl/types.h>

#define CRYPTO_SHA256_LEN 32
/* Size of the lowercase hex text of a SHA-256 digest, with its NUL. */
#define CRYPTO_SHA256_HEX_SIZE (2 * CRYPTO_SHA256_LEN + 1)

/* Streaming HMAC-SHA256, for MACing several pieces (e.g. a prefix, then a
 * request body in place) without first copying them into one buffer.
 *
 *   struct crypto_hmac h;
 *   crypto_hmac_init(&h, key, klen);
 *   crypto_hmac_update(&h, "v0:", 3);
 *   crypto_hmac_update(&h, body, body_len);
 *   crypto_hmac_final(&h, mac);
 *
 * Every init must be followed by exactly one final, which releases the state;
 * a struct may then be init-ed again. The key is copied by init. An empty key
 * (klen == 0, key may be NULL) is allowed, as HMAC itself allows it. */
struct crypto_hmac {
	EVP_MAC_CTX *ctx;
};

void crypto_hmac_init(struct crypto_hmac *h, const void *key, size_t klen);
void crypto_hmac_update(struct crypto_hmac *h, const void *msg, size_t mlen);
void crypto_hmac_final(struct crypto_hmac *h, unsigned char out[CRYPTO_SHA256_LEN]);

/* One-shot HMAC-SHA256(key, msg). */
void crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
			unsigned char out[CRYPTO_SHA256_LEN]);

/* One-shot SHA-256(msg). msg may be NULL when mlen == 0. */
void crypto_sha256(const void *msg, size_t mlen, unsigned char out[CRYPTO_SHA256_LEN]);

/* Lowercase hex of n bytes into out, which must hold 2n+1 bytes; always
 * NUL-terminated. */
void crypto_hex(const unsigned char *in, size_t n, char *out);

/* Fill out with n bytes from OpenSSL's CSPRNG. 0 on success; -1 (with a log
 * line) when the generator cannot produce output, in which case out holds no
 * usable bytes. */
int crypto_random(void *out, size_t n);

/* Standard base64 with padding. Encoding needs CRYPTO_BASE64_SIZE(n) bytes
 * (with the NUL) and returns the text length, 0 when out is too small.
 * Decoding is strict (whole quads, the standard alphabet, '=' only at the
 * end; no whitespace): 0 and *outlen, or -1 for anything else or when the
 * result would not fit size. */
#define CRYPTO_BASE64_SIZE(n) (((n) + 2) / 3 * 4 + 1)
size_t crypto_base64_encode(const void *in, size_t n, char *out, size_t size);
int crypto_base64_decode(const char *in, void *out, size_t size, size_t *outlen);

/* AES-256-GCM with a fresh random 96-bit nonce per message. The sealed form
 * is nonce || ciphertext || tag, CRYPTO_GCM_OVERHEAD bytes longer than the
 * plaintext. aad is authenticated, not encrypted (say what the secret belongs
 * to, so a sealed value copied to another record does not open there).
 * seal: out holds n + CRYPTO_GCM_OVERHEAD bytes; -1 only when no nonce could
 * be drawn. open: plain holds inlen - CRYPTO_GCM_OVERHEAD bytes; -1 when the
 * input is too short or was not sealed under this key and aad (then nothing
 * of plain is usable). */
#define CRYPTO_AES_KEY_LEN 32
#define CRYPTO_GCM_NONCE_LEN 12
#define CRYPTO_GCM_TAG_LEN 16
#define CRYPTO_GCM_OVERHEAD (CRYPTO_GCM_NONCE_LEN + CRYPTO_GCM_TAG_LEN)
int crypto_aes256gcm_seal(const unsigned char key[CRYPTO_AES_KEY_LEN], const void *aad, size_t aadlen,
			  const void *plain, size_t n, unsigned char *out);
int crypto_aes256gcm_open(const unsigned char key[CRYPTO_AES_KEY_LEN], const void *aad, size_t aadlen,
			  const unsigned char *in, size_t inlen, unsigned char *plain);

#endif
