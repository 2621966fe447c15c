/* utf8.h - strict UTF-8 validation for text that came from outside.
 *
 * "Strict" means exactly the well-formed sequences of RFC 3629 / Unicode
 * table 3-7: overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points
 * above U+10FFFF, stray continuation bytes and truncated sequences are all
 * invalid. U+0000 is valid UTF-8; callers that store C strings reject NUL
 * themselves.
 *
 * Pure functions of their arguments: thread-safe, no allocation. */
#ifndef WK_UTF8_H
#define WK_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the n bytes at s are well-formed UTF-8. s may be NULL when n == 0.
 * Never reads s[n] or beyond. */
bool utf8_valid(const char *s, size_t n);

#endif
