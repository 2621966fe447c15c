/* mail.h - compose one email (RFC 5322 + MIME) and send it through the courier.
 *
 * A mail is multipart/alternative with a text/plain and a text/html part, both
 * UTF-8. The HTML part is derived from the text (HTML-escaped, newlines as
 * <br>) unless the caller passes its own. Lines are CRLF; a part with a line
 * over 998 bytes is sent quoted-printable, otherwise 7bit (ASCII) or 8bit.
 * Headers: Date (UTC), From (cfg->smtp_from), To, Subject (RFC 2047 UTF-8
 * base64 encoded-words when not plain ASCII), Message-ID
 * <32 random hex digits@domain of From>, MIME-Version, Auto-Submitted.
 *
 * Inputs are checked, not trusted: the recipient must be one plain address
 * (mail_address_valid()), subject and text valid UTF-8 without CR/LF in the
 * subject, so nothing a user typed can add a header or a recipient.
 *
 * Thread: every function is thread-safe. mail_send() blocks (it waits for the
 * courier, up to 30 s): call it from a worker, never from the loop thread.
 * Errors: -1 and one sentence in err that a chat user can act on; err never
 * contains a secret. */
#ifndef WK_MAIL_H
#define WK_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/buf.h"
#include "bot/config.h"
#include "bot/courier.h"

/* Upper bounds on what the caller hands in (bytes). */
#define MAIL_MAX_SUBJECT 400
#define MAIL_MAX_TEXT (64 * 1024)
#define MAIL_MAX_HTML (256 * 1024)

/* Whether email can be sent at all (smtp.url is set). */
bool mail_configured(const struct config *cfg);

/* Strict check of one bare address: local@domain, at most 254 bytes, a
 * dot-atom local part (letters, digits, !#$%&'*+/=?^_`{|}~- and single inner
 * dots, at most 64 bytes) and a domain of at least two LDH labels. Quoted local
 * parts, IP literals, non-ASCII (SMTPUTF8) and anything with spaces, commas,
 * angle brackets, CR or LF are rejected. */
bool mail_address_valid(const char *addr);

/* Compose the full message text into out (appended; CRLF line ends, ready for
 * courier_send_mail()). from is the From header value ("Name <a@b>" or "a@b");
 * html may be NULL (derived from text); now_ms is the Date (unix ms).
 * out must have room for the mail (a cap of 0, the default, always does).
 * Returns 0, or -1 with err set and out unchanged. */
int mail_build(const char *from, const char *to, const char *subject, const char *text,
	       const char *html, int64_t now_ms, struct buf *out, char *err, size_t errsz);

/* mail_build() with cfg->smtp_from and the current time, then
 * courier_send_mail(). 0 when the mail server accepted the message. */
int mail_send(const struct config *cfg, const char *to, const char *subject, const char *text,
	      const char *html, char *err, size_t errsz);
/* The same without waiting, for command handlers: 0 when the message was built
 * and handed to the courier (done(arg, resp) then runs once, on the courier's
 * completion thread: resp->status != 0 means the server took it, else
 * resp->error says why; done owns resp and must not block); -1 with err when
 * it could not even be built (done is not called). */
int mail_send_async(const struct config *cfg, const char *to, const char *subject, const char *text,
		    const char *html, courier_done_fn done, void *arg, char *err, size_t errsz);

#endif
