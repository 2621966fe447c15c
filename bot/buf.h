/* buf.h - a growable byte buffer with a hard cap, for untrusted input and output.
 *
 * A buf is always NUL-terminated (data[len] == 0) once anything was added, so
 * buf_cstr() can be handed to C string APIs. Growing past `cap` fails with -1 and
 * leaves the contents as they were: callers turn that into "too large" errors.
 * A buf is owned by one thread at a time; buf_free() releases it, buf_detach()
 * hands the bytes to the caller (free() them). */
#ifndef WK_BUF_H
#define WK_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;	/* maximum len; 0 means the default (16 MiB) */
};

#define BUF_INIT(capacity) { NULL, 0, 0, (capacity) }

void buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);		/* len = 0, keep memory */
char *buf_detach(struct buf *b, size_t *len);	/* never NULL */
const char *buf_cstr(const struct buf *b);	/* "" when empty */

int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* s[0..n) as a JSON string literal, quotes included (RFC 8259: ", \ and
 * control characters escaped). Bytes that are not UTF-8 become U+FFFD, so the
 * output is always valid JSON. For replies built on the hot path without a
 * JSON tree (adapters' renderers); everything else uses jansson. */
int buf_add_json_string(struct buf *b, const char *s, size_t n);

#endif
