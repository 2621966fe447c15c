/* courier.c - see courier.h */
#include "bot/courier.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IN_FLIGHT 16
#define MAX_ATTEMPTS 4
#define TIMEOUT_MS 10000

struct delivery {
	char *url;
	char *body;
	size_t len;
	char target[48];
	char auth[600];		/* "Authorization: Bearer ..." or empty; never logged */
	int attempts;
	int64_t not_before_ms;	/* backoff */
	struct curl_slist *headers;
	CURL *easy;		/* while in flight */
	struct delivery *next;
};

static struct {
	pthread_mutex_t lock;
	struct delivery *queue;	/* waiting to start (or to retry) */
	struct delivery *active[MAX_IN_FLIGHT];	/* courier thread only */
	size_t in_flight;
	bool stopping;
	int64_t deadline_ms;
	CURLM *multi;
	pthread_t thread;
	bool started;
} courier = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void delivery_free(struct delivery *d)
{
	curl_slist_free_all(d->headers);
	free(d->url);
	free(d->body);
	free(d);
}

static void enqueue(struct delivery *d)
{
	pthread_mutex_lock(&courier.lock);
	d->next = courier.queue;
	courier.queue = d;
	pthread_mutex_unlock(&courier.lock);
	if (courier.multi)
		curl_multi_wakeup(courier.multi);
}

void courier_post_json(const char *url, const char *bearer, char *body, size_t len,
		       const char *target)
{
	struct delivery *d = xcalloc(1, sizeof(*d));

	d->url = xstrdup(url);
	d->body = body;
	d->len = len;
	wk_strlcpy(d->target, target, sizeof(d->target));
	if (bearer && bearer[0])
		snprintf(d->auth, sizeof(d->auth), "Authorization: Bearer %s", bearer);
	enqueue(d);
}

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static void start_transfer(struct delivery *d)
{
	CURL *e = curl_easy_init();

	if (!d->headers) {
		d->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
		if (d->auth[0])
			d->headers = curl_slist_append(d->headers, d->auth);
	}
	d->attempts++;
	curl_easy_setopt(e, CURLOPT_URL, d->url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(e, CURLOPT_PRIVATE, d);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "watchkeeper/" WK_VERSION);
	curl_multi_add_handle(courier.multi, e);
	d->easy = e;
	for (size_t i = 0; i < MAX_IN_FLIGHT; i++)
		if (!courier.active[i]) {
			courier.active[i] = d;
			break;
		}
	pthread_mutex_lock(&courier.lock);
	courier.in_flight++;
	pthread_mutex_unlock(&courier.lock);
}

static bool retryable(CURLcode code, long status)
{
	if (code != CURLE_OK)
		return code != CURLE_URL_MALFORMAT && code != CURLE_UNSUPPORTED_PROTOCOL;
	return status == 429 || status >= 500;
}

static void finish_transfer(CURLMsg *msg)
{
	struct delivery *d;
	long status = 0;
	CURLcode code = msg->data.result;

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
	curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(courier.multi, msg->easy_handle);
	curl_easy_cleanup(msg->easy_handle);
	d->easy = NULL;
	for (size_t i = 0; i < MAX_IN_FLIGHT; i++)
		if (courier.active[i] == d)
			courier.active[i] = NULL;
	pthread_mutex_lock(&courier.lock);
	courier.in_flight--;
	pthread_mutex_unlock(&courier.lock);

	if (code == CURLE_OK && status >= 200 && status < 300) {
		metrics_outbound(d->target, "ok");
		log_debug("courier.sent", "target=%s status=%ld attempts=%d", d->target, status, d->attempts);
		delivery_free(d);
		return;
	}
	if (retryable(code, status) && d->attempts < MAX_ATTEMPTS) {
		/* 0.5 s, 1 s, 2 s: short, because a late chat reply loses value fast. */
		d->not_before_ms = wk_now_ms() + (250LL << d->attempts);
		metrics_outbound(d->target, "retry");
		log_warn("courier.retry", "target=%s status=%ld error=\"%s\" attempt=%d", d->target, status,
			 curl_easy_strerror(code), d->attempts);
		enqueue(d);
		return;
	}
	metrics_outbound(d->target, "failed");
	log_error("courier.failed", "target=%s status=%ld error=\"%s\" attempts=%d", d->target, status,
		  curl_easy_strerror(code), d->attempts);
	delivery_free(d);
}

/* Move due deliveries from the queue into the multi handle, up to the cap. */
static void start_due(void)
{
	struct delivery **pp, *start = NULL;
	int64_t now = wk_now_ms();
	size_t slots;

	pthread_mutex_lock(&courier.lock);
	slots = MAX_IN_FLIGHT - courier.in_flight;
	pp = &courier.queue;
	while (*pp && slots) {
		struct delivery *d = *pp;
		if (d->not_before_ms <= now) {
			*pp = d->next;
			d->next = start;
			start = d;
			slots--;
		} else {
			pp = &d->next;
		}
	}
	pthread_mutex_unlock(&courier.lock);
	while (start) {
		struct delivery *d = start;
		start = d->next;
		start_transfer(d);
	}
}

static void *courier_main(void *arg)
{
	(void)arg;
	for (;;) {
		int running = 0, left;
		CURLMsg *msg;

		start_due();
		curl_multi_perform(courier.multi, &running);
		while ((msg = curl_multi_info_read(courier.multi, &left)))
			if (msg->msg == CURLMSG_DONE)
				finish_transfer(msg);

		pthread_mutex_lock(&courier.lock);
		bool stop = courier.stopping &&
			    ((!courier.queue && courier.in_flight == 0) || wk_now_ms() > courier.deadline_ms);
		pthread_mutex_unlock(&courier.lock);
		if (stop)
			break;
		curl_multi_poll(courier.multi, NULL, 0, 100, NULL);
	}
	return NULL;
}

int courier_start(const struct config *cfg)
{
	(void)cfg;
	courier.multi = curl_multi_init();
	if (!courier.multi)
		return -1;
	curl_multi_setopt(courier.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)MAX_IN_FLIGHT);
	if (pthread_create(&courier.thread, NULL, courier_main, NULL) != 0) {
		curl_multi_cleanup(courier.multi);
		courier.multi = NULL;
		return -1;
	}
	courier.started = true;
	return 0;
}

void courier_stop(int64_t grace_ms)
{
	struct delivery *d;

	if (!courier.started)
		return;
	pthread_mutex_lock(&courier.lock);
	courier.stopping = true;
	courier.deadline_ms = wk_now_ms() + grace_ms;
	pthread_mutex_unlock(&courier.lock);
	curl_multi_wakeup(courier.multi);
	pthread_join(courier.thread, NULL);

	/* Whatever is left missed the grace period: say so, then free it. */
	while ((d = courier.queue)) {
		courier.queue = d->next;
		log_error("courier.dropped", "target=%s reason=shutdown", d->target);
		delivery_free(d);
	}
	for (size_t i = 0; i < MAX_IN_FLIGHT; i++) {
		if (!(d = courier.active[i]))
			continue;
		log_error("courier.dropped", "target=%s reason=shutdown", d->target);
		curl_multi_remove_handle(courier.multi, d->easy);
		curl_easy_cleanup(d->easy);
		delivery_free(d);
		courier.active[i] = NULL;
	}
	curl_multi_cleanup(courier.multi);
	courier.multi = NULL;
	courier.started = false;
}
