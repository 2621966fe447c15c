/* slack_verify.c - see slack_verify.h */
#include "adapters/slack_verify.h"
#include "bot/crypto.h"
#include "bot/util.h"

#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define SIG_PREFIX "v0="
#define SIG_LEN (sizeof(SIG_PREFIX) - 1 + 2 * CRYPTO_SHA256_LEN)

static bool within_window(int64_t ts, int64_t now)
{
	/*
	 * now - ts can overflow int64 for hostile timestamps; the difference
	 * of the larger minus the smaller always fits in uint64.
	 */
	uint64_t d = ts >= now ? (uint64_t)ts - (uint64_t)now : (uint64_t)now - (uint64_t)ts;

	return d <= SLACK_VERIFY_MAX_SKEW;
}

enum slack_verify_result slack_verify_request(const char *secret, const char *ts_header,
					      const char *sig_header, const char *body,
					      size_t body_len, int64_t now_unix)
{
	struct crypto_hmac h;
	unsigned char mac[CRYPTO_SHA256_LEN];
	char want[SIG_LEN + 1];
	int64_t ts;

	if (!ts_header || !*ts_header || !sig_header || !*sig_header)
		return SLACK_VERIFY_MISSING;
	/*
	 * Digits only: wk_parse_i64 alone would take a sign. The header text
	 * goes into the signed string verbatim, so it must be exactly what we
	 * judged the age by.
	 */
	if (*ts_header < '0' || *ts_header > '9' ||
	    !wk_parse_i64(ts_header, 0, INT64_MAX, &ts))
		return SLACK_VERIFY_BAD_TIMESTAMP;
	if (!within_window(ts, now_unix))
		return SLACK_VERIFY_STALE;
	if (!secret || !*secret)
		return SLACK_VERIFY_BAD_SIGNATURE;

	crypto_hmac_init(&h, secret, strlen(secret));
	crypto_hmac_update(&h, "v0:", 3);
	crypto_hmac_update(&h, ts_header, strlen(ts_header));
	crypto_hmac_update(&h, ":", 1);
	crypto_hmac_update(&h, body, body_len);
	crypto_hmac_final(&h, mac);

	memcpy(want, SIG_PREFIX, sizeof(SIG_PREFIX) - 1);
	crypto_hex(mac, sizeof(mac), want + sizeof(SIG_PREFIX) - 1);
	/* Whole header against whole string, so prefix and case are checked too. */
	if (!wk_secret_equal(want, SIG_LEN, sig_header, strnlen(sig_header, SIG_LEN + 1)))
		return SLACK_VERIFY_BAD_SIGNATURE;
	return SLACK_VERIFY_OK;
}

const char *slack_verify_reason(enum slack_verify_result r)
{
	switch (r) {
	case SLACK_VERIFY_OK:
		return "ok";
	case SLACK_VERIFY_MISSING:
		return "missing X-Slack-Request-Timestamp or X-Slack-Signature header";
	case SLACK_VERIFY_BAD_TIMESTAMP:
		return "X-Slack-Request-Timestamp is not a decimal number";
	case SLACK_VERIFY_STALE:
		return "X-Slack-Request-Timestamp outside the replay window of "
		       STR(SLACK_VERIFY_MAX_SKEW) " s";
	case SLACK_VERIFY_BAD_SIGNATURE:
		return "X-Slack-Signature does not match";
	}
	return "unknown verification result";
}
