/* The store against a real, private redis-server (scripts/redis.sh): which failures
 * count in watchkeeper_redis_errors_total, and which failed commands may still have run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit_redis.h"
#include "bot/buf.h"
#include "bot/metrics.h"
#include "bot/store.h"
#include "bot/util.h"


static double redis_errors(void)
{
	struct buf b = BUF_INIT(0);
	const char *at;
	double v = -1;

	metrics_render(&b);
	at = strstr(buf_cstr(&b), "\nwatchkeeper_redis_errors_total ");
	if (at)
		v = strtod(at + strlen("\nwatchkeeper_redis_errors_total "), NULL);
	buf_free(&b);
	return v;
}

static void test_expected_errors_not_counted(void **state)
{
	struct store *s = store_open(unit_redis_url, 2000);
	redisReply *r;
	double before;

	(void)state;
	r = store_command(s, "DEL wk:{t}:q");
	freeReplyObject(r);

	/* NOGROUP: the normal state before a stream and its group exist. */
	before = redis_errors();
	r = store_command_expecting(s, STORE_EXPECT("NOGROUP"),
				    "XREADGROUP GROUP g c COUNT 1 STREAMS %s >", "wk:{t}:q");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ERROR);	/* returned as usual */
	assert_true(strncmp(r->str, "NOGROUP", 7) == 0);
	freeReplyObject(r);
	assert_true(redis_errors() == before);

	/* The same error when not expected counts once. */
	r = store_command(s, "XREADGROUP GROUP g c COUNT 1 STREAMS %s >", "wk:{t}:q");
	freeReplyObject(r);
	assert_true(redis_errors() == before + 1);

	/* An error other than the expected ones still counts. */
	r = store_command_expecting(s, STORE_EXPECT("NOGROUP", "BUSYGROUP"), "INCR %s %s", "a", "b");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ERROR);
	freeReplyObject(r);
	assert_true(redis_errors() == before + 2);

	/* BUSYGROUP from creating a group twice. */
	r = store_command(s, "XGROUP CREATE %s g 0 MKSTREAM", "wk:{t}:q");
	freeReplyObject(r);
	r = store_command_expecting(s, STORE_EXPECT("BUSYGROUP"), "XGROUP CREATE %s g 0", "wk:{t}:q");
	assert_int_equal(r->type, REDIS_REPLY_ERROR);
	freeReplyObject(r);
	assert_true(redis_errors() == before + 2);

	/* A script's own error (redis.error_reply) can be expected too; NOSCRIPT never counts. */
	static const struct store_script fails = { "test_fails",
		"return redis.error_reply('WKSTATE nothing to do')", NULL };
	r = store_command(s, "SCRIPT FLUSH");
	freeReplyObject(r);
	r = store_script_expecting(s, STORE_EXPECT("WKSTATE"), &fails, 0, NULL, 0, NULL);
	assert_int_equal(r->type, REDIS_REPLY_ERROR);
	freeReplyObject(r);
	assert_true(redis_errors() == before + 2);
	r = store_script(s, &fails, 0, NULL, 0, NULL);
	freeReplyObject(r);
	assert_true(redis_errors() == before + 3);
	store_close(s);
}

static void test_never_sent_is_not_unanswered(void **state)
{
	struct store *s = store_open("unix:///nonexistent/wk-unit/redis.sock", 200);
	redisReply *r;

	(void)state;
	store_unanswered_clear(s);
	r = store_command(s, "SET %s %s", "k", "v");
	assert_null(r);
	assert_false(store_unanswered(s));
	store_close(s);
}

struct busy {
	int ms;
};

static void *keep_busy(void *arg)
{
	struct busy *b = arg;
	struct store *s = store_open(unit_redis_url, 10000);
	char ms[16];
	redisReply *r;

	snprintf(ms, sizeof(ms), "%d", b->ms);
	r = store_command(s, "EVAL %s 0 %s",
			  "local s = redis.call('TIME') local n repeat n = redis.call('TIME') "
			  "until (n[1] - s[1]) * 1000000 + (n[2] - s[2]) >= tonumber(ARGV[1]) * 1000 "
			  "return 1", ms);
	if (r)
		freeReplyObject(r);
	store_close(s);
	return NULL;
}

static void test_timeout_is_unanswered_and_may_apply(void **state)
{
	struct store *s = store_open(unit_redis_url, 200), *check = store_open(unit_redis_url, 5000);
	struct busy b = { 1200 };
	pthread_t t;
	redisReply *r;

	(void)state;
	r = store_command(s, "DEL wk:{t}:landed");	/* connected before Redis stalls */
	freeReplyObject(r);
	assert_int_equal(pthread_create(&t, NULL, keep_busy, &b), 0);
	usleep(200 * 1000);
	store_unanswered_clear(s);
	r = store_command(s, "SET wk:{t}:landed yes");
	assert_null(r);				/* no answer within 200 ms */
	assert_true(store_unanswered(s));	/* ... but it went out whole */
	pthread_join(t, NULL);
	/* Redis ran it when it woke: "unknown" was the honest answer. */
	r = store_command(check, "GET wk:{t}:landed");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "yes");
	freeReplyObject(r);
	store_unanswered_clear(s);
	assert_false(store_unanswered(s));
	store_close(s);
	store_close(check);
}

static void *interrupt_later(void *arg)
{
	usleep(200 * 1000);
	store_interrupt(arg, false);
	return NULL;
}

/* A blocking command waits longer than the store's timeout; store_interrupt()
 * from another thread ends it early without counting an error, and the store
 * works on afterwards; a stopped store sends no blocking command at all. */
static void test_blocking_and_interrupt(void **state)
{
	struct store *s = store_open(unit_redis_url, 200);
	pthread_t t;
	redisReply *r;
	int64_t t0;
	double before;

	(void)state;
	r = store_command(s, "DEL wk:{t}:wake");
	freeReplyObject(r);
	/* 500 ms in Redis, over a 200 ms timeout: a nil reply, not "no answer". */
	r = store_command_blocking(s, NULL, 500, "XREAD BLOCK %d STREAMS wk:{t}:wake $", 500);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_NIL);
	freeReplyObject(r);

	before = redis_errors();
	assert_int_equal(pthread_create(&t, NULL, interrupt_later, s), 0);
	t0 = wk_mono_us();
	r = store_command_blocking(s, NULL, 10000, "XREAD BLOCK %d STREAMS wk:{t}:wake $", 10000);
	assert_null(r);
	assert_true(wk_mono_us() - t0 < 2000 * 1000);
	pthread_join(t, NULL);
	assert_true(redis_errors() == before);	/* ours, not Redis's failure */
	r = store_command(s, "PING");		/* a fresh connection, no backoff */
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);

	/* Not blocking: nothing to cut. Stopped: later blocks return at once. */
	store_interrupt(s, true);
	r = store_command(s, "PING");
	assert_non_null(r);
	freeReplyObject(r);
	t0 = wk_mono_us();
	r = store_command_blocking(s, NULL, 10000, "XREAD BLOCK %d STREAMS wk:{t}:wake $", 10000);
	assert_null(r);
	assert_true(wk_mono_us() - t0 < 500 * 1000);
	assert_true(redis_errors() == before);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_errors_not_counted),
		cmocka_unit_test(test_never_sent_is_not_unanswered),
		cmocka_unit_test(test_timeout_is_unanswered_and_may_apply),
		cmocka_unit_test(test_blocking_and_interrupt),
	};
	return cmocka_run_group_tests(tests, unit_redis_start, unit_redis_stop);
}
