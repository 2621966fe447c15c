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
		cmocka_unit_test(test_key_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
