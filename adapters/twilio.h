/* twilio.h - SMS over Twilio: sending one message, checking webhook signatures,
 * reading people's SMS replies, and the global phone index (protocols/twilio.md).
 *
 * The channel is offered only when twilio_configured() holds: an account SID,
 * an auth token, and a sender (From number or Messaging Service). Nothing here
 * logs the auth token or the Authorization header built from it.
 *
 * Threads: everything is thread-safe. twilio_send_sms() blocks (courier_call)
 * and so must run on a worker, never on the loop thread. The phone index
 * helpers use the caller's store (one per thread). */
#ifndef WK_TWILIO_H
#define WK_TWILIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bot/buf.h"
#include "bot/config.h"
#include "bot/form.h"
#include "bot/store.h"

/* Twilio caps Body at 1600 characters; a longer one is refused before sending. */
#define TWILIO_BODY_MAX_CHARS 1600

enum twilio_outcome {
	TWILIO_SENT,		/* Twilio accepted the message (2xx) */
	TWILIO_RETRY,		/* transport error, timeout, 429 or 5xx: safe to try again later
				 * (a timeout after the POST may duplicate one message) */
	TWILIO_PERMANENT,	/* anything else: bad number (21211), opted out (21610),
				 * 21614, auth (20003), other 4xx, or refused before sending */
};

struct twilio_result {
	enum twilio_outcome outcome;
	long http_status;	/* 0 when no HTTP answer arrived or nothing was sent */
	long error_code;	/* Twilio's "code" from an error body, 0 when none */
	long retry_after;	/* seconds from Retry-After on RETRY, -1 when absent */
	char sid[64];		/* SM.../MM... on SENT; "" when absent or malformed */
	char status[32];	/* initial status ("queued", "accepted"...), "" when absent */
	char message[200];	/* one sentence for logs and people; never holds a secret */
	bool maybe_sent;	/* RETRY without an answer after the request went out
				 * (timeout, dropped connection) or with a 5xx: Twilio
				 * may have created the message; look with
				 * twilio_find_sent(). false for 429 (not processed). */
};

/* Whether SMS can be sent: account SID, auth token and From or Messaging Service SID set. */
bool twilio_configured(const struct config *cfg);

/* E.164: '+', a non-zero digit, then 7..14 more digits (same rule as /oncall me phone). */
bool twilio_e164_valid(const char *s);

/* Send body to `to` through POST {api}/2010-04-01/Accounts/{sid}/Messages.json with
 * Basic auth sid:token. From is used when set, else MessagingServiceSid.
 * status_callback_url may be NULL or "" (then none is sent). Refuses without any
 * network traffic (PERMANENT, http_status 0) when the channel is not configured,
 * `to` is not E.164, or body is empty, not UTF-8 or over TWILIO_BODY_MAX_CHARS.
 * Returns 0 when out->outcome == TWILIO_SENT, else -1; *out is always filled.
 * Thread: a worker (blocks up to twilio.timeout_ms, 15 s by default). */
int twilio_send_sms(const struct config *cfg, const char *to, const char *body,
		    const char *status_callback_url, struct twilio_result *out);

/* Was an SMS whose body contains one of refs[0..n) created for `to` since
 * since_ms? Lists GET .../Messages.json?To=<to>&PageSize=50 (newest first,
 * following next_page_uri, at most 5 pages) and stops at the first entry whose
 * date_created is more than a minute before since_ms. To is the only filter:
 * a queued message has no date_sent yet, and with a Messaging Service there is
 * no From. Sets found[k] for refs[k] seen in a body.
 *   0   looked (all false also when SMS is not configured or `to` invalid)
 *  -1   could not look (transport, non-200, malformed list); why says which,
 *       *retry_after gets a 429's Retry-After seconds, else -1.
 * Thread: any that may block (courier_call). */
int twilio_find_sent(const struct config *cfg, const char *to, int64_t since_ms,
		     const char *const *refs, size_t n, bool *found, long *retry_after, char *why,
		     size_t whysize);
/* One page of the Messages list (parsed; hostile input), newest first: sets
 * found[k] for each refs[k] a body ends with (as its last line, "Ref <ref>"), up to the first entry whose
 * date_created (RFC 2822) is before since_ms. 0 done (that entry reached, or
 * the last page), 1 more pages (next holds next_page_uri, a path on the API
 * host), -1 malformed (no messages array, or a next page that is not a plain
 * path or does not fit). Exposed for unit tests and the fuzz target. */
int twilio_list_match(json_t *page, int64_t since_ms, const char *const *refs, size_t n, bool *found,
		      char *next, size_t nextsize);
/* The outcome for an HTTP status and Twilio error code (0 = none): 2xx SENT;
 * 0 (no answer), 429, 5xx RETRY; everything else PERMANENT. Exposed for tests. */
enum twilio_outcome twilio_classify(long http_status, long error_code);

/* X-Twilio-Signature check (twilio.md 3.3): base64(HMAC-SHA1(auth_token, url +
 * name1 + value1 + ... with names in byte order)) compared in constant time.
 * url is the public URL Twilio requested. As the official validators do, a
 * match is also accepted with the default port (:443 / :80) stripped from or
 * added to url. False for a NULL/empty token or header or any other mismatch.
 * params may be NULL (no parameters). */
bool twilio_signature_valid(const char *auth_token, const char *url, const struct form *params,
			    const char *header);

/* ---- SMS replies ---- */

enum sms_action {
	SMS_UNKNOWN = 0,
	SMS_ACK,		/* "ACK 42", "ack42", "42a", "42 A" */
	SMS_RESOLVE,		/* "RES 42", "42r" */
	SMS_ESCALATE,		/* "ESC 42", "42e" */
	SMS_STOP,		/* STOP STOPALL UNSUBSCRIBE CANCEL END QUIT */
	SMS_START,		/* START YES UNSTOP */
	SMS_HELP,		/* HELP */
};

#define SMS_REPLY_MAX_BYTES 160
#define SMS_INCIDENT_MAX 999999999UL

struct sms_reply {
	enum sms_action action;
	unsigned long incident;	/* 1..SMS_INCIDENT_MAX for ACK/RESOLVE/ESCALATE, else 0 */
};

/* Pure parser for what a person texts back. Case-insensitive; surrounding ASCII
 * whitespace ignored; the whole body must be one of the forms above (so "ACK 42
 * please" is UNKNOWN). A NULL body, one over SMS_REPLY_MAX_BYTES bytes, or an
 * incident number that is 0, has more than 9 digits, or a leading zero is UNKNOWN.
 * Returns 0 when recognised, -1 for UNKNOWN; out is always set. */
int sms_reply_parse(const char *body, struct sms_reply *out);

/* The verb for an action, "ack"/"resolve"/"escalate"/..., never NULL. */
const char *sms_action_name(enum sms_action a);

/* ---- global phone index: wk:phone:<E164> -> "<org>|<member>" ----
 *
 * The key carries no hash tag on purpose: a phone belongs to one person across
 * orgs, and inbound SMS knows only the phone. Each helper is one script on one
 * key (Cluster-safe). Callers: whoever changes a member's phone (/oncall me
 * phone): del(old phone) then set(new phone).
 *
 * set: the phone now points at org|member (a later claimant wins, as in the
 *   profile); returns 1 when it replaced another member's mapping, 0 otherwise.
 * del: removes the mapping only when it still points at org|member (so removing
 *   an old number never unlinks someone who took it since); returns 1 when
 *   removed, 0 when it pointed elsewhere or did not exist.
 * Both return -1 on store failure or invalid input (phone not E.164, org or
 * member empty or containing '|', control bytes or spaces); nothing written then. */
int twilio_phone_index_set(struct store *s, const char *org, const char *member, const char *phone);
int twilio_phone_index_del(struct store *s, const char *org, const char *member, const char *phone);

/* Look a phone up: 1 with org and member filled, 0 when unknown (or the stored
 * value is malformed), -1 on store failure. */
int twilio_phone_index_get(struct store *s, const char *phone, char *org, size_t org_size,
			   char *member, size_t member_size);

/* TwiML answers (twilio.md 3.4). Text is XML-escaped (& < > " '). */
void twilio_twiml_message(struct buf *out, const char *text);
void twilio_twiml_empty(struct buf *out);

#endif
