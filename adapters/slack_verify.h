/* slack_verify.h - Slack request signing check (protocols/slack.md 1.1).
 *
 * Every HTTP request Slack sends (slash commands, interactivity, Events API)
 * carries X-Slack-Request-Timestamp and X-Slack-Signature. The signature is
 * "v0=" + lowercase hex HMAC-SHA256(signing secret, "v0:" + timestamp + ":" +
 * raw body). Run this on the raw bytes BEFORE parsing the body, and answer
 * anything but SLACK_VERIFY_OK with HTTP 401. (ssl_check=1 requests and
 * Socket Mode deliveries are not signed; the caller decides those.)
 *
 * Thread-safe and reentrant; no allocation proportional to the body (the MAC
 * is streamed over the body in place). */
#ifndef WK_SLACK_VERIFY_H
#define WK_SLACK_VERIFY_H

#include <stddef.h>
#include <stdint.h>

/* Replay window: a request whose timestamp is further than this from now, in
 * either direction, is refused. */
#define SLACK_VERIFY_MAX_SKEW 300

enum slack_verify_result {
	SLACK_VERIFY_OK = 0,
	SLACK_VERIFY_MISSING,		/* a header is absent (NULL) or empty */
	SLACK_VERIFY_BAD_TIMESTAMP,	/* timestamp is not plain decimal digits */
	SLACK_VERIFY_STALE,		/* |now - timestamp| > SLACK_VERIFY_MAX_SKEW */
	SLACK_VERIFY_BAD_SIGNATURE,	/* header differs from the computed signature */
};

/*
 * Check one request. secret is the app's signing secret (a C string; its bytes
 * are the key). ts_header and sig_header are the header values as received,
 * NULL when absent. body/body_len are the raw body bytes (body may be NULL
 * only when body_len is 0). now_unix is the current time in seconds.
 *
 * The checks run in the order of the enum, so the result names the first
 * problem. The signature header must equal the computed "v0=<64 lowercase
 * hex>" exactly: uppercase hex, other versions ("v1=") or extra bytes fail.
 * The comparison is constant-time. A NULL or empty secret fails closed with
 * SLACK_VERIFY_BAD_SIGNATURE (configuration must refuse to start without one).
 */
enum slack_verify_result slack_verify_request(const char *secret, const char *ts_header,
					      const char *sig_header, const char *body,
					      size_t body_len, int64_t now_unix);

/* Short human text for a log line, e.g. "stale timestamp"; never NULL, never
 * contains request data. */
const char *slack_verify_reason(enum slack_verify_result r);

#endif
