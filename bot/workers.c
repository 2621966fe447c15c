/* workers.c - see workers.h */
#include "bot/workers.h"
#include "bot/log.h"
#include "bot/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct job {
	job_fn fn;
	void *arg;
	struct job *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	size_t queued, running;
	bool stopping;
	pthread_t *threads;
	struct worker *workers;
	size_t n;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (!pool.head && !pool.stopping)
			pthread_cond_wait(&pool.cond, &pool.lock);
		if (!pool.head)
			break;	/* stopping and nothing left */
		struct job *j = pool.head;
		pool.head = j->next;
		if (!pool.head)
			pool.tail = NULL;
		pool.queued--;
		pool.running++;
		pthread_mutex_unlock(&pool.lock);
		j->fn(w, j->arg);
		free(j);
		pthread_mutex_lock(&pool.lock);
		pool.running--;
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

int workers_start(const struct config *cfg)
{
	pool.n = (size_t)cfg->workers;
	pool.threads = xcalloc(pool.n, sizeof(*pool.threads));
	pool.workers = xcalloc(pool.n, sizeof(*pool.workers));
	for (size_t i = 0; i < pool.n; i++) {
		pool.workers[i].index = i;
		pool.workers[i].cfg = cfg;
		pool.workers[i].store = store_open(cfg->redis_url, cfg->redis_timeout_ms);
		if (pthread_create(&pool.threads[i], NULL, worker_main, &pool.workers[i]) != 0) {
			log_error("workers.start", "error=\"cannot create thread\" index=%zu", i);
			store_close(pool.workers[i].store);
			pool.n = i;
			return -1;
		}
	}
	return 0;
}

int workers_submit(job_fn fn, void *arg)
{
	struct job *j = xmalloc(sizeof(*j));

	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&pool.lock);
	if (pool.stopping) {
		pthread_mutex_unlock(&pool.lock);
		free(j);
		return -1;
	}
	if (pool.tail)
		pool.tail->next = j;
	else
		pool.head = j;
	pool.tail = j;
	pool.queued++;
	pthread_cond_signal(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	return 0;
}

size_t workers_busy(void)
{
	size_t n;

	pthread_mutex_lock(&pool.lock);
	n = pool.queued + pool.running;
	pthread_mutex_unlock(&pool.lock);
	return n;
}

void workers_stop(void)
{
	pthread_mutex_lock(&pool.lock);
	pool.stopping = true;
	pthread_cond_broadcast(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	for (size_t i = 0; i < pool.n; i++) {
		pthread_join(pool.threads[i], NULL);
		store_close(pool.workers[i].store);
	}
	free(pool.threads);
	free(pool.workers);
	pool.threads = NULL;
	pool.workers = NULL;
	pool.n = 0;
}
