/* workers.c - see workers.h
 *
 * State, all under pool.lock: a hash of per-key queues (struct lane), and per
 * class a ring of the lanes that have jobs waiting. A lane lives while it has
 * jobs queued or running and is freed when both reach zero, so a spray of
 * distinct keys (random feed tokens) costs memory only while it waits.
 *
 * Waking: a worker is woken only when there is a job it may start, since a
 * wake-up that finds every waiting job held back by a bound is a wasted context
 * switch per request under load. A submit wakes one when its job may start at
 * once; a finishing worker takes the next job itself and wakes another only if
 * one more may start. */
#include "bot/workers.h"
#include "bot/log.h"
#include "bot/integration_cache.h"
#include "bot/schedule_cache.h"
#include "bot/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LANE_BUCKETS 256
/* Teams whose schedules a worker keeps parsed: a few KB each. */
#define WORKER_SCHEDULES 16
/* Integrations whose alerts a worker checks from its copy: about 8 KB each. */
#define WORKER_INTEGRATIONS 8

struct job {
	job_fn fn;
	void *arg;
	struct job *next;
};

struct lane {
	char key[WORK_KEY_MAX];
	enum work_class cls;
	struct job *head, *tail;
	size_t running;
	bool in_ring;
	struct lane *ring_next;	/* the class's ring of lanes with jobs waiting */
	struct lane *hash_next;
};

struct klass {
	struct lane *ring_head, *ring_tail;	/* served from the head, rotated to the tail */
	size_t running;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct lane *buckets[LANE_BUCKETS];
	struct klass classes[WORK_CLASSES];
	size_t next_class;	/* where the classes' turn starts next time */
	size_t queued, running;
	size_t per_key, per_class;
	bool stopping;
	pthread_t *threads;
	struct worker *workers;
	size_t n;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static size_t key_hash(enum work_class cls, const char *key)
{
	uint32_t h = 2166136261u ^ (uint32_t)cls;	/* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % LANE_BUCKETS;
}

/* Lock held. The lane of (cls, key), made when missing. */
static struct lane *lane_get(enum work_class cls, const char *key)
{
	size_t b = key_hash(cls, key);
	struct lane *l;

	for (l = pool.buckets[b]; l; l = l->hash_next)
		if (l->cls == cls && strcmp(l->key, key) == 0)
			return l;
	l = xcalloc(1, sizeof(*l));
	wk_strlcpy(l->key, key, sizeof(l->key));
	l->cls = cls;
	l->hash_next = pool.buckets[b];
	pool.buckets[b] = l;
	return l;
}

/* Lock held. Free l once nothing of it is queued or running. */
static void lane_release(struct lane *l)
{
	struct lane **pp;

	if (l->head || l->running || l->in_ring)
		return;
	for (pp = &pool.buckets[key_hash(l->cls, l->key)]; *pp; pp = &(*pp)->hash_next)
		if (*pp == l) {
			*pp = l->hash_next;
			break;
		}
	free(l);
}

static void ring_push(struct klass *k, struct lane *l)
{
	l->ring_next = NULL;
	if (k->ring_tail)
		k->ring_tail->ring_next = l;
	else
		k->ring_head = l;
	k->ring_tail = l;
	l->in_ring = true;
}

/* Lock held. The next job allowed to start, its lane in *from; NULL when every
 * waiting job is held back by a bound (or none waits). Classes take turns, and
 * within a class the lane served goes to the back of the ring. */
static struct job *pick(struct lane **from)
{
	for (size_t c = 0; c < WORK_CLASSES; c++) {
		size_t ci = (pool.next_class + c) % WORK_CLASSES;
		struct klass *k = &pool.classes[ci];
		struct lane *prev = NULL, *l;

		if (k->running >= pool.per_class)
			continue;
		for (l = k->ring_head; l; prev = l, l = l->ring_next) {
			if (l->running >= pool.per_key)
				continue;
			/* unlink l from the ring */
			if (prev)
				prev->ring_next = l->ring_next;
			else
				k->ring_head = l->ring_next;
			if (k->ring_tail == l)
				k->ring_tail = prev;
			l->in_ring = false;

			struct job *j = l->head;
			l->head = j->next;
			if (!l->head)
				l->tail = NULL;
			else
				ring_push(k, l);	/* more waiting: back of the line */
			l->running++;
			k->running++;
			pool.next_class = (ci + 1) % WORK_CLASSES;
			*from = l;
			return j;
		}
	}
	return NULL;
}

/* Lock held. Whether some waiting job may start now (what pick() would find). */
static bool runnable(void)
{
	for (size_t c = 0; c < WORK_CLASSES; c++) {
		const struct klass *k = &pool.classes[c];

		if (k->running >= pool.per_class)
			continue;
		for (const struct lane *l = k->ring_head; l; l = l->ring_next)
			if (l->running < pool.per_key)
				return true;
	}
	return false;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&pool.lock);
	for (;;) {
		struct lane *l = NULL;
		struct job *j = pick(&l);

		if (!j) {
			if (pool.stopping && pool.queued == 0)
				break;
			/* Nothing allowed to start: a finishing worker takes the next one. */
			pthread_cond_wait(&pool.cond, &pool.lock);
			continue;
		}
		pool.queued--;
		pool.running++;
		if (pool.queued && runnable())
			pthread_cond_signal(&pool.cond);	/* more may start: hand it on */
		pthread_mutex_unlock(&pool.lock);
		j->fn(w, j->arg);
		free(j);
		pthread_mutex_lock(&pool.lock);
		pool.running--;
		l->running--;
		pool.classes[l->cls].running--;
		lane_release(l);
		if (pool.stopping)
			pthread_cond_broadcast(&pool.cond);	/* the others may be done too */
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

int workers_start(const struct config *cfg)
{
	pool.stopping = false;	/* a pool may be started again after workers_stop() */
	pool.next_class = 0;
	pool.n = (size_t)cfg->workers;
	/* Half the pool per key by default: one org can't take every worker. */
	pool.per_key = cfg->workers_max_per_org > 0 ? (size_t)cfg->workers_max_per_org
						    : (pool.n / 2 ? pool.n / 2 : 1);
	/* One worker always left for the other classes (when there are two). */
	pool.per_class = pool.n > 1 ? pool.n - 1 : 1;
	pool.threads = xcalloc(pool.n, sizeof(*pool.threads));
	pool.workers = xcalloc(pool.n, sizeof(*pool.workers));
	log_info("workers.start", "workers=%zu max_per_key=%zu max_per_class=%zu", pool.n, pool.per_key,
		 pool.per_class);
	for (size_t i = 0; i < pool.n; i++) {
		pool.workers[i].index = i;
		pool.workers[i].cfg = cfg;
		pool.workers[i].store = store_open(cfg->redis_url, cfg->redis_timeout_ms);
		pool.workers[i].schedules = schedule_cache_new(WORKER_SCHEDULES);
		pool.workers[i].integrations = integration_cache_new(WORKER_INTEGRATIONS);
		if (pthread_create(&pool.threads[i], NULL, worker_main, &pool.workers[i]) != 0) {
			log_error("workers.start", "error=\"cannot create thread\" index=%zu", i);
			store_close(pool.workers[i].store);
			schedule_cache_free(pool.workers[i].schedules);
			integration_cache_free(pool.workers[i].integrations);
			pool.n = i;
			return -1;
		}
	}
	return 0;
}

int workers_submit(enum work_class cls, const char *key, job_fn fn, void *arg)
{
	struct job *j = xmalloc(sizeof(*j));
	struct lane *l;

	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	if ((unsigned)cls >= WORK_CLASSES)
		cls = WORK_COMMAND;
	pthread_mutex_lock(&pool.lock);
	if (pool.stopping) {
		pthread_mutex_unlock(&pool.lock);
		free(j);
		return -1;
	}
	l = lane_get(cls, key ? key : "");
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	if (!l->in_ring)
		ring_push(&pool.classes[cls], l);
	pool.queued++;
	bool startable = l->running < pool.per_key && pool.classes[cls].running < pool.per_class;
	pthread_mutex_unlock(&pool.lock);
	/* After the unlock: a worker woken under it would wake only to wait for it. */
	if (startable)
		pthread_cond_signal(&pool.cond);
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

size_t workers_max_per_key(void)
{
	size_t n;

	pthread_mutex_lock(&pool.lock);
	n = pool.per_key;
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
		schedule_cache_free(pool.workers[i].schedules);
		integration_cache_free(pool.workers[i].integrations);
	}
	free(pool.threads);
	free(pool.workers);
	pool.threads = NULL;
	pool.workers = NULL;
	pool.n = 0;
}
