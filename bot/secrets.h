/* secrets.h - third-party secrets at rest (a Sentry client secret, a
 * workspace's bot token): sealed with AES-256-GCM under the operator's key
 * before they reach Redis, opened only where they are used.
 *
 * Keys: secrets.key (WK_SECRET_KEY) is 32 random bytes in base64 (`openssl
 * rand -base64 32`); secrets.key_previous (WK_SECRET_KEY_PREVIOUS) is the one
 * it replaced, still accepted for opening while values are re-sealed. Each
 * sealed value names the key that sealed it by an id (the first 8 hex digits
 * of a SHA-256 over the key), so a rotation knows what is stale and a value
 * sealed under an unknown key is refused rather than mis-decrypted.
 *
 * Sealed form, plain ASCII for a Redis hash field:
 *   "s1." KID "." base64(nonce || ciphertext || tag)
 * The context (what the secret belongs to, e.g. "slack:T0123/integration/i7")
 * is authenticated: a value copied to another record does not open there.
 *
 * Thread-safe; no state of its own (the keys are read from the config each
 * call, a few microseconds). Plaintexts and keys never reach a log line. */
#ifndef WK_SECRETS_H
#define WK_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include "bot/config.h"

#define SECRETS_MAX_PLAIN 4096
#define SECRETS_KID_LEN 8
/* The longest sealed text of SECRETS_MAX_PLAIN bytes, with its NUL. */
#define SECRETS_SEALED_SIZE (3 + SECRETS_KID_LEN + 1 + ((SECRETS_MAX_PLAIN + 28 + 2) / 3 * 4) + 1)

/* For the config loader: 0 when b64 is empty or a valid key, else -1 with
 * why ("expected 32 bytes in base64, got 16"). */
int secrets_check_key(const char *b64, char *why, size_t whysize);

/* Whether secrets can be sealed at all (secrets.key is set). */
bool secrets_enabled(const struct config *cfg);

/* Seal n bytes of plain for context into out (SECRETS_SEALED_SIZE is always
 * enough). 0, or -1 with why: no key configured, too long, no randomness. */
int secrets_seal(const struct config *cfg, const char *context, const void *plain, size_t n, char *out,
		 size_t size, char *why, size_t whysize);

enum secrets_open_result {
	SECRETS_OPENED,		/* under the current key */
	SECRETS_OPENED_OLD,	/* under secrets.key_previous: re-seal it */
	SECRETS_NO_KEY,		/* sealed under a key that is not configured (any more) */
	SECRETS_BAD		/* malformed, tampered with, another context, or too large */
};

/* Open sealed for context into plain (NUL-terminated; size must exceed the
 * plaintext). On anything but SECRETS_OPENED[_OLD] plain is "". */
enum secrets_open_result secrets_open(const struct config *cfg, const char *context, const char *sealed,
				      char *plain, size_t size, size_t *len);

/* The id of the current key ("" without one), for `secrets rotate` reports. */
void secrets_current_kid(const struct config *cfg, char kid[SECRETS_KID_LEN + 1]);

#endif
