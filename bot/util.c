/* util.c - see util.h */
#include "bot/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

static void out_of_memory(size_t n)
{
	/* No logger here on purpose: logging may itself allocate. */
	fprintf(stderr, "level=fatal msg=\"out of memory\" bytes=%zu\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *xcalloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (!p)
		out_of_memory(count * n);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

#ifdef WK_TEST_HOOKS
/* Test builds only: WK_TEST_LOCAL_SKEW_MS makes this process's wall clock run
 * ahead (or behind), like a machine whose NTP is off. */
static int64_t local_skew_ms(void)
{
	static _Atomic int64_t skew = INT64_MIN;
	int64_t v = atomic_load(&skew);

	if (v == INT64_MIN) {
		const char *e = getenv("WK_TEST_LOCAL_SKEW_MS");
		v = 0;
		if (e && !wk_parse_i64(e, -86400000LL, 86400000LL, &v))
			v = 0;
		atomic_store(&skew, v);
	}
	return v;
}
#endif

int64_t wk_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
#ifdef WK_TEST_HOOKS
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + local_skew_ms();
#else
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
}

int64_t wk_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int wk_fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!err || !size)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -1;
}

int wk_copy_span(const char *p, size_t n, char *out, size_t size)
{
	if (n >= size)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

size_t wk_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

bool wk_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool wk_secret_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	/* Length is not secret (signatures have a fixed size); contents are. */
	if (alen != blen)
		return false;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

void wk_sleeper_init(struct wk_sleeper *s)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->stopping = false;
}

bool wk_sleeper_nap(struct wk_sleeper *s, int64_t ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ms < 0)
		ms = 0;
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->stopping && ms > 0)
		if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
			break;
	stop = s->stopping;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

bool wk_sleeper_stopping(struct wk_sleeper *s)
{
	bool stop;

	pthread_mutex_lock(&s->lock);
	stop = s->stopping;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

void wk_sleeper_stop(struct wk_sleeper *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void wk_sleeper_destroy(struct wk_sleeper *s)
{
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}

size_t wk_typo_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t d[34][34];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

int64_t wk_parse_duration(const char *s, int64_t max)
{
	int64_t total = 0;

	if (!*s)
		return -1;
	while (*s) {
		int64_t v = 0, unit;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (*s++ - '0');
			if (v > max)
				return -1;
		}
		if (strncasecmp(s, "min", 3) == 0)
			unit = 60, s += 3;
		else if (*s == 'm' || *s == 'M')
			unit = 60, s++;
		else if (*s == 'h' || *s == 'H')
			unit = 3600, s++;
		else if (*s == 's' || *s == 'S')
			unit = 1, s++;
		else
			return -1;
		total += v * unit;
		if (total > max)
			return -1;
	}
	return total;
}

uint64_t wk_hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h ^ 0xff) * 1099511628211ULL;
}
