/* log.h - one logfmt line per event on stderr.
 *
 *   log_info("http.request", "route=%s status=%d", route, status);
 *
 * prints `ts=2026-11-22T10:00:00.123Z level=info event=http.request route=... status=...`.
 * The format string carries key=value pairs; values from outside (user text, URLs)
 * must go through log_quote() so a line stays one line. Never pass a secret.
 * Thread-safe: each line is written with a single write(2). */
#ifndef WK_LOG_H
#define WK_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* "debug", "info", "warn", "error"; returns -1 for anything else. */
int log_level_parse(const char *name);

void log_event(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Quote s for a logfmt value into out (always terminated, truncated to fit). */
const char *log_quote(char *out, size_t size, const char *s);

#define log_debug(ev, ...) log_event(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)  log_event(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_event(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, __VA_ARGS__)

#endif
