/* form.h - strict application/x-www-form-urlencoded decoder for request bodies.
 *
 * Slack sends slash commands and interactivity payloads as flat forms. This
 * decoder is deliberately stricter than browsers and most servers, because
 * every leniency is a way for two parsers to disagree about one request:
 *
 *   - pairs are split on '&'; empty pairs ("a=1&&b=2", a trailing '&') are
 *     skipped; the first '=' splits name from value, so a value may contain
 *     '='; a pair without '=' has the empty value;
 *   - '+' decodes to a space; '%' must be followed by exactly two hex digits
 *     (either case), otherwise "bad percent escape at byte N";
 *   - a NUL byte, raw or as %00, is an error (values are C strings);
 *   - the empty name is an error; a repeated name is an error ("repeated
 *     field: text"): Slack never repeats one, and a parser that picks the
 *     first or the last is an ambiguity an attacker can use;
 *   - decoded names and values must be well-formed UTF-8 (see bot/utf8.h);
 *   - at most FORM_MAX_FIELDS fields.
 *
 * Byte offsets N in messages count from 0 at the start of the body. Messages
 * fit in FORM_ERR_SIZE bytes, carry at most a truncated, sanitised field name
 * from the input, and are meant for a plain-text HTTP 400 reply.
 *
 * The body size is the caller's to bound (the HTTP layer caps it); the decoder
 * never reads body[len] or beyond, so body need not be NUL-terminated.
 *
 * Ownership: all decoded strings belong to the struct form (one allocation)
 * and live until form_free(). A struct form is not synchronised; concurrent
 * form_get() calls on one form are fine because they only read. */
#ifndef WK_FORM_H
#define WK_FORM_H

#include <stddef.h>

#define FORM_MAX_FIELDS 64
#define FORM_ERR_SIZE 128

struct form_field {
	const char *key;	/* decoded, non-empty, NUL-terminated */
	const char *value;	/* decoded, maybe empty, NUL-terminated */
};

struct form {
	size_t count;
	struct form_field *fields;	/* count entries in body order; NULL if 0 */
};

/*
 * Decode body[0..len) into *out. Returns 0 on success; the caller must then
 * form_free(out). Returns -1 on malformed input with a message in err (err may
 * be NULL only when errsz is 0) and *out left empty, so form_free(out) is
 * harmless either way. body may be NULL only when len is 0.
 */
int form_parse(const char *body, size_t len, struct form *out, char *err, size_t errsz);

/* The decoded value of field key, or NULL when the form has no such field.
 * Valid until form_free(). */
const char *form_get(const struct form *f, const char *key);

/* Release everything form_parse() allocated and leave *f empty. Safe on an
 * empty or already freed form. */
void form_free(struct form *f);

/* Append "name=value" to b (with a leading '&' when b is not empty), encoded
 * for an application/x-www-form-urlencoded body or a URL query: unreserved
 * bytes as is, space as '+', everything else %XX, so no value can smuggle a
 * '&' or '='. For requests we send (Twilio forms, Slack queries). */
struct buf;
void form_encode_pair(struct buf *b, const char *name, const char *value);

#endif
