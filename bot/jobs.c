/* jobs.c - see jobs.h */
#include "bot/jobs.h"
#include "bot/log.h"
#include "bot/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct job {
	char key[JOBS_KEY_MAX];
	jobs_fn run, drop;
	void *arg;
	bool running;
	struct job *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head;	/* queued and running, oldest first */
	pthread_t threads[JOBS_THREADS];
	size_t n;
	bool stopping;
} jobs = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* The oldest queued job whose key has none running. Under the lock. */
static struct job *next_runnable(void)
{
	for (struct job *j = jobs.head; j; j = j->next) {
		bool busy = false;
		if (j->running)
			continue;
		for (struct job *k = jobs.head; k != j && !busy; k = k->next)
			busy = k->running && strcmp(k->key, j->key) == 0;
		if (!busy)
			return j;
	}
	return NULL;
}

static void unlink_job(struct job *j)
{
	for (struct job **pp = &jobs.head; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			return;
		}
	}
}

static void *jobs_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&jobs.lock);
	for (;;) {
		struct job *j = NULL;

		while (!jobs.stopping && !(j = next_runnable()))
			pthread_cond_wait(&jobs.cond, &jobs.lock);
		if (jobs.stopping)
			break;
		j->running = true;
		pthread_mutex_unlock(&jobs.lock);
		j->run(j->arg);
		pthread_mutex_lock(&jobs.lock);
		unlink_job(j);
		free(j);
		pthread_cond_broadcast(&jobs.cond);	/* its key may have more waiting */
	}
	pthread_mutex_unlock(&jobs.lock);
	return NULL;
}

int jobs_start(void)
{
	jobs.stopping = false;
	for (jobs.n = 0; jobs.n < JOBS_THREADS; jobs.n++) {
		if (pthread_create(&jobs.threads[jobs.n], NULL, jobs_main, NULL) != 0) {
			log_error("jobs.start", "error=\"cannot create thread\"");
			return -1;
		}
	}
	return 0;
}

int jobs_submit(const char *key, jobs_fn run, jobs_fn drop, void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));

	wk_strlcpy(j->key, key, sizeof(j->key));
	j->run = run;
	j->drop = drop;
	j->arg = arg;
	pthread_mutex_lock(&jobs.lock);
	if (jobs.stopping || !jobs.n) {
		pthread_mutex_unlock(&jobs.lock);
		free(j);
		return -1;
	}
	struct job **pp = &jobs.head;
	while (*pp)
		pp = &(*pp)->next;
	*pp = j;
	pthread_cond_broadcast(&jobs.cond);
	pthread_mutex_unlock(&jobs.lock);
	return 0;
}

void jobs_stop(void)
{
	struct job *left = NULL;

	pthread_mutex_lock(&jobs.lock);
	jobs.stopping = true;
	pthread_cond_broadcast(&jobs.cond);
	pthread_mutex_unlock(&jobs.lock);
	for (size_t i = 0; i < jobs.n; i++)
		pthread_join(jobs.threads[i], NULL);
	jobs.n = 0;
	/* The threads are gone: whatever is left was never started. */
	pthread_mutex_lock(&jobs.lock);
	left = jobs.head;
	jobs.head = NULL;
	pthread_mutex_unlock(&jobs.lock);
	while (left) {
		struct job *j = left;
		left = j->next;
		log_warn("jobs.dropped", "key=%s reason=shutdown", j->key);
		j->drop(j->arg);
		free(j);
	}
}
