/* heartbeat.c - see heartbeat.h */
#include "bot/heartbeat.h"
#include "bot/log.h"
#include "bot/util.h"

#include <pthread.h>

static struct {
	struct wk_sleeper sleep;
	pthread_t thread;
	bool started;
	const struct config *cfg;
	struct {
		heartbeat_fn fn;
		void *arg;
	} renewers[HEARTBEAT_MAX];
	size_t n;
	int64_t period_ms;
} hb;

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
	do {
		for (size_t i = 0; i < hb.n; i++)
			hb.renewers[i].fn(s, wk_now_ms(), hb.renewers[i].arg);
	} while (!wk_sleeper_nap(&hb.sleep, hb.period_ms));
	store_close(s);
	return NULL;
}

int heartbeat_start(const struct config *cfg)
{
	if (!hb.n)
		return 0;
	hb.cfg = cfg;
	if (hb.period_ms <= 0)
		hb.period_ms = 1000;
	wk_sleeper_init(&hb.sleep);
	if (pthread_create(&hb.thread, NULL, heartbeat_main, NULL) != 0) {
		log_error("heartbeat.start", "error=\"cannot create thread\"");
		wk_sleeper_destroy(&hb.sleep);
		return -1;
	}
	hb.started = true;
	log_info("heartbeat.start", "period_ms=%lld renewers=%zu", (long long)hb.period_ms, hb.n);
	return 0;
}

void heartbeat_stop(void)
{
	if (hb.started) {
		wk_sleeper_stop(&hb.sleep);
		pthread_join(hb.thread, NULL);
		wk_sleeper_destroy(&hb.sleep);
		hb.started = false;
	}
	hb.n = 0;
	hb.period_ms = 0;
}
