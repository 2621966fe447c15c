/* Durable timers against a real, private redis-server: claims judged by Redis's
 * clock (moved here with the test-only offset key), and escalation steps that
 * are never dropped however often their holder dies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit_redis.h"
#include "bot/store.h"
#include "bot/timers.h"
#include "bot/util.h"


static void command(struct store *s, const char *fmt, const char *arg)
{
	redisReply *r = store_command(s, fmt, arg);
	assert_non_null(r);
	freeReplyObject(r);
}

/* Move Redis's clock for the timers by offset_ms (test builds only). */
static void shift(struct store *s, int64_t offset_ms)
{
	char v[32];
	snprintf(v, sizeof(v), "%lld", (long long)offset_ms);
	command(s, "SET wk:{timers}:test_clock_offset_ms %s", v);
}

static void test_claims_follow_redis_clock(void **state)
{
	struct store *s = store_open(unit_redis_url, 2000);
	struct timer_claim c[4];
	size_t n;
	int64_t rnow = 0;

	(void)state;
	command(s, "FLUSHALL%s", "");
	/* Due in a minute by Redis's clock, whatever this process's clock says. */
	assert_int_equal(timer_schedule_in(s, "t:later", "page_step", "slack:T1", "p1", 60000), 0);
	int64_t next = 0;
	assert_int_equal(timer_claim(s, "me", 3000, 4, c, &n, &rnow, &next), 0);
	assert_int_equal(n, 0);
	assert_true(llabs(rnow - wk_now_ms()) < 2000);
	/* The claim also says when to look again: the one waiting timer. */
	assert_true(next >= rnow + 59000 && next <= rnow + 60000);
	shift(s, 61000);	/* a minute later, by Redis */
	assert_int_equal(timer_claim(s, "me", 3000, 4, c, &n, &rnow, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].id, "t:later");
	assert_true(rnow - wk_now_ms() > 59000);
	command(s, "DEL wk:{timers}:test_clock_offset_ms%s", "");
	store_close(s);
}

static void test_escalation_steps_are_never_dropped(void **state)
{
	struct store *s = store_open(unit_redis_url, 2000);
	struct timer_claim c[4];
	size_t n;
	int64_t rnow, offset = 0;
	int seen_step = 0, seen_other = 0;

	(void)state;
	command(s, "FLUSHALL%s", "");
	assert_int_equal(timer_schedule_in(s, "inc:slack:T1:7", "inc_step", "slack:T1", "1", 0), 0);
	assert_int_equal(timer_schedule_in(s, "page:slack:T1:p9", "page_step", "slack:T1", "p9", 0), 0);
	/* The holder dies every time: claim, let the lease run out, again. */
	for (int round = 0; round < TIMER_MAX_ATTEMPTS + 3; round++) {
		assert_int_equal(timer_claim(s, "dies", 1000, 4, c, &n, &rnow, NULL), 0);
		for (size_t i = 0; i < n; i++) {
			if (strcmp(c[i].kind, "inc_step") == 0)
				seen_step++;
			else
				seen_other++;
		}
		offset += 2000;
		shift(s, offset);
	}
	/* The page step went after TIMER_MAX_ATTEMPTS; the escalation step is still there. */
	assert_int_equal(seen_other, TIMER_MAX_ATTEMPTS);
	assert_int_equal(seen_step, TIMER_MAX_ATTEMPTS + 3);
	redisReply *r = store_command(s, "EXISTS wk:{timers}:t:inc:slack:T1:7");
	assert_int_equal(r->integer, 1);
	freeReplyObject(r);
	r = store_command(s, "EXISTS wk:{timers}:t:page:slack:T1:p9");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	command(s, "DEL wk:{timers}:test_clock_offset_ms%s", "");
	store_close(s);
}

/* A batch of finishes is fenced per timer: one re-scheduled while it ran
 * (its fence moved) is not deleted with the others. */
static void test_done_many_is_fenced_per_timer(void **state)
{
	struct store *s = store_open(unit_redis_url, 2000);
	struct timer_claim c[4];
	const struct timer_claim *done[3];
	int result[3] = { -1, -1, -1 };
	size_t n;
	int64_t rnow;
	redisReply *r;

	(void)state;
	command(s, "FLUSHALL%s", "");
	assert_int_equal(timer_schedule_in(s, "t:a", "page_step", "slack:T1", "a", 0), 0);
	assert_int_equal(timer_schedule_in(s, "t:b", "page_step", "slack:T1", "b", 0), 0);
	assert_int_equal(timer_schedule_in(s, "t:c", "page_step", "slack:T1", "c", 0), 0);
	assert_int_equal(timer_claim(s, "me", 30000, 4, c, &n, &rnow, NULL), 0);
	assert_int_equal(n, 3);
	/* Someone moves one of them while it is held. */
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].id, "t:b") == 0)
			assert_int_equal(timer_schedule_in(s, "t:b", "page_step", "slack:T1", "b2", 60000), 0);
	for (size_t i = 0; i < n; i++)
		done[i] = &c[i];
	assert_int_equal(timer_done_many(s, done, n, result), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(result[i], strcmp(c[i].id, "t:b") == 0 ? 0 : 1);
	r = store_command(s, "ZRANGE wk:{timers} 0 -1");
	assert_non_null(r);
	assert_int_equal(r->elements, 1);
	assert_string_equal(r->element[0]->str, "t:b");
	freeReplyObject(r);
	r = store_command(s, "ZCARD wk:{timers}:leased");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	r = store_command(s, "EXISTS wk:{timers}:t:t:a wk:{timers}:t:t:c");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	store_close(s);
}

static void test_earliest_timer_wakes_engines(void **state)
{
	struct store *s = store_open(unit_redis_url, 2000);
	redisReply *r;

	(void)state;
	command(s, "FLUSHALL%s", "");
	assert_int_equal(timer_schedule_in(s, "t:b", "page_step", "slack:T1", "x", 60000), 0);
	assert_int_equal(timer_schedule_in(s, "t:c", "page_step", "slack:T1", "x", 120000), 0);	/* not earliest */
	assert_int_equal(timer_schedule_in(s, "t:a", "page_step", "slack:T1", "x", 1000), 0);
	r = store_command(s, "XLEN %s", TIMERS_WAKE_KEY);
	assert_int_equal(r->integer, 2);	/* t:b (first ever) and t:a (earlier than t:b) */
	freeReplyObject(r);
	store_close(s);
}

static long long wake_len(struct store *s)
{
	redisReply *r = store_command(s, "XLEN %s", TIMERS_WAKE_KEY);
	long long n;

	assert_non_null(r);
	n = r->integer;
	freeReplyObject(r);
	return n;
}

/* Engines wait on the wake stream, not on a tick: a timer re-armed, retried or
 * given back so that it becomes the earliest wakes them too; one that ends up
 * behind another does not. */
static void test_rearm_and_retry_wake_when_earliest(void **state)
{
	struct store *s = store_open(unit_redis_url, 2000);
	struct timer_claim c[2];
	size_t n;
	int64_t rnow, w;

	(void)state;
	command(s, "FLUSHALL%s", "");
	assert_int_equal(timer_schedule_in(s, "t:a", "page_step", "slack:T1", "a", 0), 0);
	assert_int_equal(timer_schedule_in(s, "t:z", "page_step", "slack:T1", "z", 600000), 0);
	assert_int_equal(timer_claim(s, "me", 30000, 1, c, &n, &rnow, NULL), 0);
	assert_int_equal(n, 1);
	w = wake_len(s);
	assert_int_equal(timer_reschedule_after(s, "t:a", c[0].fence, rnow + 1000, NULL), 1);
	assert_int_equal(wake_len(s), w + 1);	/* earlier than t:z */
	shift(s, 2000);
	assert_int_equal(timer_claim(s, "me", 30000, 1, c, &n, &rnow, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(timer_retry(s, "t:a", c[0].fence, rnow + 3600000), 1);
	assert_int_equal(wake_len(s), w + 1);	/* behind t:z now: no wake */
	command(s, "DEL wk:{timers}:test_clock_offset_ms%s", "");
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims_follow_redis_clock),
		cmocka_unit_test(test_escalation_steps_are_never_dropped),
		cmocka_unit_test(test_earliest_timer_wakes_engines),
		cmocka_unit_test(test_done_many_is_fenced_per_timer),
		cmocka_unit_test(test_rearm_and_retry_wake_when_earliest),
	};
	return cmocka_run_group_tests(tests, unit_redis_start, unit_redis_stop);
}
