/* test_workers.c - the fair pool (bot/workers): per-key bound, round-robin between keys
 * with FIFO inside one, a worker always left for another class. Jobs here never touch
 * their store, so no Redis is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bot/util.h"
#include "bot/workers.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static int running_a, max_running_a, ran_other;
static char order[64];

static void start_pool(int64_t workers, int64_t max_per_org)
{
	static struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.workers = workers;
	cfg.workers_max_per_org = max_per_org;
	cfg.redis_url = "redis://127.0.0.1:1/0";
	cfg.redis_timeout_ms = 100;
	pthread_mutex_lock(&mu);
	gate_open = false;
	running_a = max_running_a = ran_other = 0;
	order[0] = '\0';
	pthread_mutex_unlock(&mu);
	assert_int_equal(workers_start(&cfg), 0);
}

/* Wait (1 s at most) until pred holds; pred reads the shared state under mu. */
static bool wait_for(bool (*pred)(void))
{
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&mu);
		bool ok = pred();
		pthread_mutex_unlock(&mu);
		if (ok)
			return true;
		usleep(1000);
	}
	return false;
}

static void open_gate(void)
{
	pthread_mutex_lock(&mu);
	gate_open = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

/* Holds its worker until the gate opens, counting how many of its kind run at once. */
static void gated_a(struct worker *w, void *arg)
{
	(void)w;
	(void)arg;
	pthread_mutex_lock(&mu);
	running_a++;
	if (running_a > max_running_a)
		max_running_a = running_a;
	while (!gate_open)
		pthread_cond_wait(&cv, &mu);
	running_a--;
	pthread_mutex_unlock(&mu);
}

static void other(struct worker *w, void *arg)
{
	(void)w;
	(void)arg;
	pthread_mutex_lock(&mu);
	ran_other++;
	pthread_mutex_unlock(&mu);
}

static void record(struct worker *w, void *arg)
{
	(void)w;
	pthread_mutex_lock(&mu);
	size_t n = strlen(order);
	if (n + 1 < sizeof(order)) {
		order[n] = *(const char *)arg;
		order[n + 1] = '\0';
	}
	pthread_mutex_unlock(&mu);
}

static bool other_ran(void) { return ran_other == 1; }
static bool one_a_running(void) { return running_a == 1; }

/* Three workers, bound 1 per org: org A's stuck jobs hold one worker, org B is served. */
static void test_one_org_cannot_hold_the_pool(void **state)
{
	(void)state;
	start_pool(3, 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(workers_submit(WORK_COMMAND, "slack:TA", gated_a, NULL), 0);
	assert_true(wait_for(one_a_running));
	assert_int_equal(workers_submit(WORK_COMMAND, "slack:TB", other, NULL), 0);
	assert_true(wait_for(other_ran));
	pthread_mutex_lock(&mu);
	assert_int_equal(max_running_a, 1);
	pthread_mutex_unlock(&mu);
	assert_int_equal(workers_busy(), 5);	/* A's: one running, four waiting, none refused */
	open_gate();
	workers_stop();
	assert_int_equal(workers_busy(), 0);
}

static bool order_full(void) { return strlen(order) == 6; }

/* One worker: keys take turns (A B C A B A), each key's own jobs in order. */
static void test_round_robin_between_keys_fifo_within(void **state)
{
	static const char a1 = 'a', a2 = 'A', a3 = '1', b1 = 'b', b2 = 'B', c1 = 'c';

	(void)state;
	start_pool(1, 1);
	assert_int_equal(workers_submit(WORK_COMMAND, "gate", gated_a, NULL), 0);
	assert_true(wait_for(one_a_running));
	workers_submit(WORK_COMMAND, "A", record, (void *)&a1);
	workers_submit(WORK_COMMAND, "A", record, (void *)&a2);
	workers_submit(WORK_COMMAND, "A", record, (void *)&a3);
	workers_submit(WORK_COMMAND, "B", record, (void *)&b1);
	workers_submit(WORK_COMMAND, "B", record, (void *)&b2);
	workers_submit(WORK_COMMAND, "C", record, (void *)&c1);
	open_gate();
	assert_true(wait_for(order_full));
	assert_string_equal(order, "abcAB1");
	workers_stop();
}

/* Two workers: commands may use one, so a feed still finds the other. */
static void test_a_class_leaves_a_worker_for_the_others(void **state)
{
	(void)state;
	start_pool(2, 2);
	assert_int_equal(workers_submit(WORK_COMMAND, "slack:TA", gated_a, NULL), 0);
	assert_int_equal(workers_submit(WORK_COMMAND, "slack:TB", gated_a, NULL), 0);
	assert_true(wait_for(one_a_running));
	assert_int_equal(workers_submit(WORK_FEED, "feed:abc", other, NULL), 0);
	assert_true(wait_for(other_ran));
	pthread_mutex_lock(&mu);
	assert_int_equal(max_running_a, 1);
	pthread_mutex_unlock(&mu);
	open_gate();
	workers_stop();
	assert_int_equal(workers_submit(WORK_FEED, "x", other, NULL), -1);	/* stopped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_org_cannot_hold_the_pool),
		cmocka_unit_test(test_round_robin_between_keys_fifo_within),
		cmocka_unit_test(test_a_class_leaves_a_worker_for_the_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
