/* test_slack_socket.c - the Socket Mode URL checks (adapters/slack_socket): the
 * URL apps.connections.open hands out is outside input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/slack_socket.h"

static void test_slack_url(void **state)
{
	struct slack_socket_url u;

	(void)state;
	assert_int_equal(slack_socket_url_parse("wss://wss-primary.slack.com/link/?ticket=abc-123&app_id=A0FIX", &u), 0);
	assert_true(u.tls);
	assert_string_equal(u.host, "wss-primary.slack.com");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/link/?ticket=abc-123&app_id=A0FIX");
}

static void test_ports_and_hosts(void **state)
{
	struct slack_socket_url u;

	(void)state;
	assert_int_equal(slack_socket_url_parse("ws://127.0.0.1:8080/link/?ticket=t", &u), 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8080);
	assert_int_equal(slack_socket_url_parse("ws://[::1]:9/x", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 9);
	assert_int_equal(slack_socket_url_parse("wss://example.com", &u), 0);
	assert_string_equal(u.path, "/");
	assert_int_equal(slack_socket_url_parse("wss://example.com?ticket=1", &u), 0);
	assert_string_equal(u.path, "/?ticket=1");
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "https://slack.com/link", "wss://", "wss:///path", "wss://host:/x", "wss://host:0/x",
		"wss://host:65536/x", "wss://host:123456/x", "wss://user@host/x", "wss://[::1/x", "wss://[]/x",
		"wss://host/a b", "wss://host/a\r\nX: y", "wss://host/#frag", "wss://host:80x/", "WSS://host/",
	};
	struct slack_socket_url u;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (slack_socket_url_parse(bad[i], &u) != -1)
			fail_msg("accepted %s", bad[i]);
	}
}

static void test_long_host_and_path(void **state)
{
	struct slack_socket_url u;
	char url[5000];

	(void)state;
	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	memcpy(url, "wss://", 6);
	assert_int_equal(slack_socket_url_parse(url, &u), -1);	/* host too long */
	memcpy(url, "wss://h/", 8);
	assert_int_equal(slack_socket_url_parse(url, &u), -1);	/* path too long */
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(slack_socket_url_loopback("http://127.0.0.1:1234/api"));
	assert_true(slack_socket_url_loopback("http://localhost/api"));
	assert_true(slack_socket_url_loopback("http://[::1]:80/api"));
	assert_true(slack_socket_url_loopback("https://LOCALHOST/api"));
	assert_false(slack_socket_url_loopback("https://slack.com/api"));
	assert_false(slack_socket_url_loopback("http://127.0.0.2:1/api"));
	assert_false(slack_socket_url_loopback("http://127.0.0.1.evil.example/api"));
	assert_false(slack_socket_url_loopback("http://localhost@evil.example/api"));
	assert_false(slack_socket_url_loopback("ftp://127.0.0.1/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slack_url),
		cmocka_unit_test(test_ports_and_hosts),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_long_host_and_path),
		cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
