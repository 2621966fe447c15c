/* test_jobs.c - the jobs lane (bot/jobs): one job per key at a time, other
 * keys side by side, and jobs never started are dropped at shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bot/jobs.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int running[2], most[2], ran, dropped, both_at_once;

static void run(void *arg)
{
	int k = (int)(intptr_t)arg;

	pthread_mutex_lock(&lock);
	running[k]++;
	if (running[k] > most[k])
		most[k] = running[k];
	if (running[0] && running[1])
		both_at_once = 1;
	pthread_mutex_unlock(&lock);
	usleep(30000);
	pthread_mutex_lock(&lock);
	running[k]--;
	ran++;
	pthread_mutex_unlock(&lock);
}

static void drop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	dropped++;
	pthread_mutex_unlock(&lock);
}

static void one_per_key_others_side_by_side(void **state)
{
	(void)state;
	assert_int_equal(jobs_start(), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(jobs_submit("org-a", run, drop, (void *)(intptr_t)0), 0);
		assert_int_equal(jobs_submit("org-b", run, drop, (void *)(intptr_t)1), 0);
	}
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&lock);
		int done = ran;
		pthread_mutex_unlock(&lock);
		if (done == 8)
			break;
		usleep(10000);
	}
	jobs_stop();
	assert_int_equal(ran, 8);
	assert_int_equal(most[0], 1);	/* one org's syncs one after another */
	assert_int_equal(most[1], 1);
	assert_int_equal(both_at_once, 1);	/* two orgs side by side */
	assert_int_equal(dropped, 0);
}

static void queued_jobs_are_dropped_at_stop(void **state)
{
	(void)state;
	ran = dropped = 0;
	assert_int_equal(jobs_start(), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(jobs_submit("org-a", run, drop, (void *)(intptr_t)0), 0);
	usleep(5000);
	jobs_stop();	/* the running one finishes; the rest never start */
	assert_int_equal(ran + dropped, 5);
	assert_true(dropped >= 3);
	assert_int_equal(jobs_submit("org-a", run, drop, NULL), -1);	/* stopped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_per_key_others_side_by_side),
		cmocka_unit_test(queued_jobs_are_dropped_at_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
