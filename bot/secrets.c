/* secrets.c - see secrets.h */
#include "bot/secrets.h"
#include "bot/crypto.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define PREFIX "s1."

struct key {
	unsigned char bytes[CRYPTO_AES_KEY_LEN];
	char kid[SECRETS_KID_LEN + 1];
};

/* Decode a configured key; 1 when b64 is empty, -1 when it is not a key. */
static int key_load(const char *b64, struct key *k, char *why, size_t whysize)
{
	static const char label[] = "watchkeeper secret key id\n";
	unsigned char digest[CRYPTO_SHA256_LEN], buf[CRYPTO_AES_KEY_LEN + sizeof(label)];
	char hex[CRYPTO_SHA256_HEX_SIZE];
	size_t n = 0;

	if (!b64 || !b64[0])
		return 1;
	if (crypto_base64_decode(b64, k->bytes, sizeof(k->bytes), &n) < 0 || n != CRYPTO_AES_KEY_LEN) {
		if (why)
			snprintf(why, whysize, "expected 32 random bytes in base64 (44 characters, e.g. from "
					       "`openssl rand -base64 32`)");
		OPENSSL_cleanse(k->bytes, sizeof(k->bytes));
		return -1;
	}
	/* The id is a hash of the key under a label: it names the key without
	 * being usable to check a guess of it faster than the cipher would. */
	memcpy(buf, label, sizeof(label) - 1);
	memcpy(buf + sizeof(label) - 1, k->bytes, CRYPTO_AES_KEY_LEN);
	crypto_sha256(buf, sizeof(label) - 1 + CRYPTO_AES_KEY_LEN, digest);
	OPENSSL_cleanse(buf, sizeof(buf));
	crypto_hex(digest, SECRETS_KID_LEN / 2, hex);
	memcpy(k->kid, hex, SECRETS_KID_LEN);
	k->kid[SECRETS_KID_LEN] = '\0';
	return 0;
}

int secrets_check_key(const char *b64, char *why, size_t whysize)
{
	struct key k;
	int rc = key_load(b64, &k, why, whysize);

	OPENSSL_cleanse(&k, sizeof(k));
	return rc < 0 ? -1 : 0;
}

bool secrets_enabled(const struct config *cfg)
{
	return cfg->secret_key && cfg->secret_key[0];
}

void secrets_current_kid(const struct config *cfg, char kid[SECRETS_KID_LEN + 1])
{
	struct key k;

	kid[0] = '\0';
	if (key_load(cfg->secret_key, &k, NULL, 0) == 0)
		wk_strlcpy(kid, k.kid, SECRETS_KID_LEN + 1);
	OPENSSL_cleanse(&k, sizeof(k));
}

int secrets_seal(const struct config *cfg, const char *context, const void *plain, size_t n, char *out,
		 size_t size, char *why, size_t whysize)
{
	unsigned char sealed[SECRETS_MAX_PLAIN + CRYPTO_GCM_OVERHEAD];
	struct key k;
	int rc = -1;

	out[0] = '\0';
	if (key_load(cfg->secret_key, &k, NULL, 0) != 0) {
		snprintf(why, whysize, "no secret key is configured (secrets.key, WK_SECRET_KEY)");
		return -1;
	}
	if (n > SECRETS_MAX_PLAIN) {
		snprintf(why, whysize, "a secret is at most %d bytes", SECRETS_MAX_PLAIN);
		goto out;
	}
	if (crypto_aes256gcm_seal(k.bytes, context, strlen(context), plain, n, sealed) < 0) {
		snprintf(why, whysize, "no randomness available for a nonce");
		goto out;
	}
	size_t head = strlen(PREFIX) + SECRETS_KID_LEN + 1;
	if (size < head + CRYPTO_BASE64_SIZE(n + CRYPTO_GCM_OVERHEAD)) {
		snprintf(why, whysize, "no room for the sealed secret");
		goto out;
	}
	snprintf(out, size, "%s%s.", PREFIX, k.kid);
	crypto_base64_encode(sealed, n + CRYPTO_GCM_OVERHEAD, out + head, size - head);
	rc = 0;
out:
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

enum secrets_open_result secrets_open(const struct config *cfg, const char *context, const char *sealed,
				      char *plain, size_t size, size_t *len)
{
	unsigned char raw[SECRETS_MAX_PLAIN + CRYPTO_GCM_OVERHEAD];
	struct key keys[2];
	const char *const configured[2] = { cfg->secret_key, cfg->secret_key_previous };
	enum secrets_open_result res = SECRETS_BAD;
	size_t rawlen = 0, plen;
	const char *kid = sealed + strlen(PREFIX);
	int loaded[2];

	plain[0] = '\0';
	*len = 0;
	if (strncmp(sealed, PREFIX, strlen(PREFIX)) != 0 || strlen(kid) < SECRETS_KID_LEN + 1 ||
	    kid[SECRETS_KID_LEN] != '.' ||
	    crypto_base64_decode(kid + SECRETS_KID_LEN + 1, raw, sizeof(raw), &rawlen) < 0 ||
	    rawlen < CRYPTO_GCM_OVERHEAD)
		return SECRETS_BAD;
	plen = rawlen - CRYPTO_GCM_OVERHEAD;
	if (plen >= size)
		return SECRETS_BAD;
	res = SECRETS_NO_KEY;
	for (int i = 0; i < 2; i++) {
		loaded[i] = key_load(configured[i], &keys[i], NULL, 0) == 0;
		if (!loaded[i] || memcmp(keys[i].kid, kid, SECRETS_KID_LEN) != 0)
			continue;
		if (crypto_aes256gcm_open(keys[i].bytes, context, strlen(context), raw, rawlen,
					  (unsigned char *)plain) < 0) {
			res = SECRETS_BAD;
			break;
		}
		plain[plen] = '\0';
		*len = plen;
		res = i == 0 ? SECRETS_OPENED : SECRETS_OPENED_OLD;
		break;
	}
	OPENSSL_cleanse(keys, sizeof(keys));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (res != SECRETS_OPENED && res != SECRETS_OPENED_OLD)
		plain[0] = '\0';
	return res;
}
