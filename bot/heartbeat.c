/* heartbeat.c - see heartbeat.h */
#include "bot/heartbeat.h"
#include "bot/log.h"
#include "bot/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* CLOCK_MONOTONIC */
	pthread_t thread;
	bool started, stopping;
	const struct config *cfg;
	struct {
		heartbeat_fn fn;
		void *arg;
	} renewers[HEARTBEAT_MAX];
	size_t n;
	int64_t period_ms;
} hb = { .lock = PTHREAD_MUTEX_INITIALIZER };

int heartbeat_add(heartbeat_fn fn, void *arg, int64_t period_ms)
{
	if (hb.n >= HEARTBEAT_MAX)
		return -1;
	hb.renewers[hb.n].fn = fn;
	hb.renewers[hb.n].arg = arg;
	hb.n++;
	if (period_ms > 0 && (!hb.period_ms || period_ms < hb.period_ms))
		hb.period_ms = period_ms;
	return 0;
}

static void *heartbeat_main(void *arg)
{
	struct store *s = store_open(hb.cfg->redis_url, hb.cfg->redis_timeout_ms);

	(void)arg;
	pthread_mutex_lock(&hb.lock);
	while (!hb.stopping) {
		struct timespec ts;

		pthread_mutex_unlock(&hb.lock);
		for (size_t i = 0; i < hb.n; i++)
			hb.renewers[i].fn(s, wk_now_ms(), hb.renewers[i].arg);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(hb.period_ms / 1000);
		ts.tv_nsec += (long)(hb.period_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&hb.lock);
		while (!hb.stopping)
			if (pthread_cond_timedwait(&hb.cond, &hb.lock, &ts) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&hb.lock);
	store_close(s);
	return NULL;
}

int heartbeat_start(const struct config *cfg)
{
	pthread_condattr_t ca;

	if (!hb.n)
		return 0;
	hb.cfg = cfg;
	if (hb.period_ms <= 0)
		hb.period_ms = 1000;
	hb.stopping = false;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hb.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&hb.thread, NULL, heartbeat_main, NULL) != 0) {
		log_error("heartbeat.start", "error=\"cannot create thread\"");
		pthread_cond_destroy(&hb.cond);
		return -1;
	}
	hb.started = true;
	log_info("heartbeat.start", "period_ms=%lld renewers=%zu", (long long)hb.period_ms, hb.n);
	return 0;
}

void heartbeat_stop(void)
{
	if (!hb.started)
		return;
	pthread_mutex_lock(&hb.lock);
	hb.stopping = true;
	pthread_cond_broadcast(&hb.cond);
	pthread_mutex_unlock(&hb.lock);
	pthread_join(hb.thread, NULL);
	pthread_cond_destroy(&hb.cond);
	hb.started = false;
	hb.n = 0;
	hb.period_ms = 0;
}
