/* util.h - allocation that never returns NULL, clocks, small helpers.
 *
 * Contract: x*alloc() abort the process with a log line when memory runs out;
 * callers never check for NULL. Every function here is thread-safe. */
#ifndef WK_UTIL_H
#define WK_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Wall-clock milliseconds since the epoch (CLOCK_REALTIME). */
int64_t wk_now_ms(void);
/* Monotonic microseconds, for durations only. */
int64_t wk_mono_us(void);

/* A thread's stoppable sleep: nap up to ms, woken early by wk_sleeper_stop().
 * Waits on CLOCK_MONOTONIC, so a wall-clock step neither cuts a nap short nor
 * stretches it. init before the thread starts; destroy after it ended. */
struct wk_sleeper {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
};
void wk_sleeper_init(struct wk_sleeper *s);
/* true once stopping (at once, or when woken by wk_sleeper_stop()). */
bool wk_sleeper_nap(struct wk_sleeper *s, int64_t ms);
bool wk_sleeper_stopping(struct wk_sleeper *s);
void wk_sleeper_stop(struct wk_sleeper *s);
void wk_sleeper_destroy(struct wk_sleeper *s);

/* Bounded copy that always terminates dst (when size > 0); returns strlen(src),
 * so truncation is detectable as ret >= size. */
size_t wk_strlcpy(char *dst, const char *src, size_t size);
/* The n bytes at p as a string in out: 0, or -1 (out untouched) when they
 * don't fit with the NUL. For pieces of a larger text (a URL's parts). */
int wk_copy_span(const char *p, size_t n, char *out, size_t size);
/* Format why into err (size bytes) and return -1: "return wk_fail(err, size,
 * ...)" for functions that fail with a sentence. err may be NULL (no sentence wanted). */
int wk_fail(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Strict decimal parse of the whole string into [min, max]; false on any junk. */
bool wk_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* A duration people type, "90s", "2m", "2min", "1h", "1h30m", in seconds, at
 * most max; -1 when it is not one (or longer). */
int64_t wk_parse_duration(const char *s, int64_t max);

/* Constant-time equality for secrets: time depends only on the lengths. */
bool wk_secret_equal(const void *a, size_t alen, const void *b, size_t blen);

/* A 64-bit FNV-1a hash of strings, for in-process tables (never for anything
 * an attacker could aim at for collisions to matter): start with
 * WK_HASH_SEED and fold each string in; each string ends with a separator
 * byte, so ("ab","c") and ("a","bc") differ. */
#define WK_HASH_SEED 14695981039346656037ULL
uint64_t wk_hash_str(uint64_t h, const char *s);

/* Optimal string alignment distance between a[0..la) and b[0..lb), any
 * ASCII case: inserts, deletes, changes and swaps of neighbours count one each.
 * For "did you mean": words longer than 32 bytes are simply far (returns 99). */
size_t wk_typo_distance(const char *a, size_t la, const char *b, size_t lb);

#endif
