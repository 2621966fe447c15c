/* Redis URL forms the operator may configure, and the sentences for bad ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bot/store.h"

static void test_tcp_forms(void **state)
{
	struct store_url u;
	char err[160];

	(void)state;
	assert_int_equal(store_url_parse("redis://127.0.0.1:6380/2", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 2);
	assert_string_equal(u.password, "");

	assert_int_equal(store_url_parse("redis://redis.internal", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "redis.internal");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);

	assert_int_equal(store_url_parse("redis://bot:s3cret@10.0.0.5:7000/1", &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "bot");
	assert_string_equal(u.password, "s3cret");
	assert_string_equal(u.host, "10.0.0.5");
	assert_int_equal(u.port, 7000);

	/* password only (Redis < 6 AUTH), with an @ inside the password */
	assert_int_equal(store_url_parse("redis://:p@ss@h:1/0", &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "p@ss");
	assert_string_equal(u.host, "h");
}

static void test_unix_forms(void **state)
{
	struct store_url u;
	char err[160];

	(void)state;
	assert_int_equal(store_url_parse("unix:///run/redis/redis.sock", &u, err, sizeof(err)), 0);
	assert_string_equal(u.path, "/run/redis/redis.sock");
	assert_int_equal(u.db, 0);
	assert_int_equal(store_url_parse("unix:///tmp/r.sock?db=3", &u, err, sizeof(err)), 0);
	assert_string_equal(u.path, "/tmp/r.sock");
	assert_int_equal(u.db, 3);
}

static void test_bad_forms(void **state)
{
	static const char *const bad[] = {
		"http://h:1", "redis://", "redis://h:0", "redis://h:65536", "redis://h:x",
		"redis://h:1/db", "unix://", "unix://relative.sock", "unix:///s?db=x", "unix:///s?foo=1",
	};
	struct store_url u;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (store_url_parse(bad[i], &u, err, sizeof(err)) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_true(strlen(err) > 10);
	}
	/* The error never repeats the password. */
	assert_int_equal(store_url_parse("redis://u:hunter2@h:99999", &u, err, sizeof(err)), -1);
	assert_null(strstr(err, "hunter2"));
}

static void test_sentinel_forms(void **state)
{
	struct store_url u;
	char err[160];

	(void)state;
	assert_int_equal(store_url_parse("redis+sentinel://s1:26380,s2,10.0.0.3:26381/mymaster/2", &u, err,
					 sizeof(err)), 0);
	assert_int_equal(u.sentinel.n, 3);
	assert_string_equal(u.sentinel.addr[0].host, "s1");
	assert_int_equal(u.sentinel.addr[0].port, 26380);
	assert_string_equal(u.sentinel.addr[1].host, "s2");
	assert_int_equal(u.sentinel.addr[1].port, 26379);
	assert_string_equal(u.sentinel.addr[2].host, "10.0.0.3");
	assert_int_equal(u.sentinel.addr[2].port, 26381);
	assert_string_equal(u.sentinel.master, "mymaster");
	assert_int_equal(u.db, 2);
	assert_string_equal(u.password, "");	/* Redis's own comes from redis.password */
	/* logs name the first sentinel */
	assert_string_equal(u.host, "s1");
	assert_int_equal(u.port, 26380);

	assert_int_equal(store_url_parse("redis+sentinel://:s3cr@t@h:1/m", &u, err, sizeof(err)), 0);
	assert_string_equal(u.sentinel.password, "s3cr@t");
	assert_string_equal(u.sentinel.user, "");
	assert_string_equal(u.sentinel.master, "m");
	assert_int_equal(u.db, 0);
	assert_int_equal(store_url_parse("redis+sentinel://watch:pw@h/m.prod-1", &u, err, sizeof(err)), 0);
	assert_string_equal(u.sentinel.user, "watch");
	assert_string_equal(u.sentinel.password, "pw");
	assert_string_equal(u.sentinel.master, "m.prod-1");
	/* plain URLs are not sentinel ones */
	assert_int_equal(store_url_parse("redis://h:1/0", &u, err, sizeof(err)), 0);
	assert_int_equal(u.sentinel.n, 0);
}

static void test_sentinel_bad_forms(void **state)
{
	static const char *const bad[] = {
		"redis+sentinel://", "redis+sentinel://h:26379", "redis+sentinel://h:26379/",
		"redis+sentinel:///m", "redis+sentinel://h:0/m", "redis+sentinel://h:99999/m",
		"redis+sentinel://h:x/m", "redis+sentinel://h1,,h2/m", "redis+sentinel://h1,/m",
		"redis+sentinel://,h1/m", "redis+sentinel://h/m/x", "redis+sentinel://h/m/1/2",
		"redis+sentinel://h/my master", "redis+sentinel://h/m\nx", "redis+sentinel://pw@h/m",
		"redis+sentinel://a,b,c,d,e,f,g,h,i/m", "redis+sentinel://h o/m", "redis+sentinel://[::1]:26379/m",
		"redis+sentinel:/h/m", "sentinel://h/m",
	};
	struct store_url u;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (store_url_parse(bad[i], &u, err, sizeof(err)) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_true(strlen(err) > 10);
	}
	assert_int_equal(store_url_parse("redis+sentinel://:hunter2@h:0/m", &u, err, sizeof(err)), -1);
	assert_null(strstr(err, "hunter2"));
	assert_int_equal(store_url_parse("redis+sentinel://:hunter2@h/", &u, err, sizeof(err)), -1);
	assert_null(strstr(err, "hunter2"));
}

/* The watcher's reading of sentinel events: a failover's first steps fence
 * commands off, +switch-master moves the primary (a new generation), events of
 * another primary's name change nothing. */
static void test_sentinel_events(void **state)
{
	struct sentinel_url su;
	char err[160], host[256];
	int port = 0;
	uint64_t g0, g1, gen = 0;

	(void)state;
	assert_int_equal(sentinel_url_parse("redis+sentinel://127.0.0.1:1/mymaster", &su, err, sizeof(err)), 0);
	assert_false(sentinel_switching());
	sentinel_event("mymaster", "+try-failover", "master other 127.0.0.1 6379");
	assert_false(sentinel_switching());
	sentinel_event("mymaster", "+try-failover", "master mymaster 127.0.0.1 6379");
	assert_true(sentinel_switching());
	sentinel_event("mymaster", "-failover-abort-not-elected", "master mymaster 127.0.0.1 6379");
	assert_false(sentinel_switching());
	sentinel_event("mymaster", "+selected-slave",
		       "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379");
	assert_true(sentinel_switching());
	g0 = sentinel_generation();
	sentinel_event("mymaster", "+switch-master", "other 127.0.0.1 6379 127.0.0.1 7000");
	assert_true(sentinel_switching());
	assert_true(sentinel_generation() == g0);
	sentinel_event("mymaster", "+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380");
	assert_false(sentinel_switching());
	g1 = sentinel_generation();
	assert_true(g1 != g0);
	/* The cached address is the new primary: no sentinel is asked (port 1 answers nothing). */
	assert_int_equal(sentinel_primary(&su, 200, host, sizeof(host), &port, &gen, err, sizeof(err)), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 6380);
	assert_true(gen == g1);
	/* The same news from another sentinel changes nothing; garbage neither. */
	sentinel_event("mymaster", "+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380");
	sentinel_event("mymaster", "+switch-master", "mymaster 127.0.0.1 6379 bad\"host 6380");
	sentinel_event("mymaster", "+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 0");
	assert_true(sentinel_generation() == g1);
	/* Found wrong (READONLY, ROLE): forgotten once, then the sentinels are asked. */
	sentinel_invalidate(g1);
	sentinel_invalidate(g1);
	assert_true(sentinel_generation() == g1 + 1);
	assert_int_equal(sentinel_primary(&su, 200, host, sizeof(host), &port, &gen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mymaster"));
}

static void test_key_layout(void **state)
{
	char key[64];

	(void)state;
	assert_int_equal(store_key(key, sizeof(key), "slack:T0123", "rotation:default"), 0);
	assert_string_equal(key, "wk:{slack:T0123}:rotation:default");
	assert_int_equal(store_key(key, 10, "slack:T0123", "org"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_forms),
		cmocka_unit_test(test_unix_forms),
		cmocka_unit_test(test_bad_forms),
		cmocka_unit_test(test_sentinel_forms),
		cmocka_unit_test(test_sentinel_bad_forms),
		cmocka_unit_test(test_sentinel_events),
		cmocka_unit_test(test_key_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
