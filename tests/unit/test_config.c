/* Config validation: defaults, file, environment precedence, and errors that
 * name the exact key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bot/config.h"
#include "bot/tz.h"

static const char *const env_keys[] = {
	"WK_LISTEN", "WK_PUBLIC_URL", "WK_REDIS_URL", "WK_SLACK_SIGNING_SECRET", "WK_SLACK_BOT_TOKEN",
	"WK_SLACK_API_URL", "WK_ROTATION_TIMEZONE", "WK_ROTATION_HANDOFF", "WK_ROTATION_START",
	"WK_WORKERS", "WK_LOG_LEVEL", "WK_REDIS_TIMEOUT_MS", "WK_MAX_BODY_BYTES",
	"WK_HTTP_REQUEST_TIMEOUT_MS", "WK_HTTP_MAX_CONNS", NULL
};

static int clean_env(void **state)
{
	(void)state;
	for (size_t i = 0; env_keys[i]; i++)
		unsetenv(env_keys[i]);
	return 0;
}

static char *write_file(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/wk_test_config_%d.json", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void load_fails_naming(const char *path, const char *needle)
{
	struct config cfg;
	char err[512] = "";

	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not name \"%s\"", err, needle);
}

static void test_defaults(void **state)
{
	struct config cfg;
	char err[512];

	(void)state;
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8080);
	assert_string_equal(cfg.slack_api_url, "https://slack.com/api");
	assert_int_equal(cfg.max_body_bytes, 65536);
	assert_int_equal(cfg.slack_ack_after_ms, 2000);
	assert_int_equal(cfg.http_request_timeout_ms, 10000);
	assert_int_equal(cfg.http_max_conns, 0);	/* derived from RLIMIT_NOFILE */
	assert_int_equal(cfg.rotation.handoff_hour, 9);
	/* 2026-01-05 is a Monday: the default start stays put. */
	assert_int_equal(cfg.rotation.start_day, 5);
	config_free(&cfg);
}

static void test_environment_wins(void **state)
{
	struct config cfg;
	char err[512];
	char *path = write_file("{\"listen\":\"0.0.0.0:9000\",\"slack\":{\"api_url\":\"http://file\"}}");

	(void)state;
	setenv("WK_LISTEN", "127.0.0.1:18081", 1);
	setenv("WK_SLACK_API_URL", "http://127.0.0.1:5555/api", 1);
	setenv("WK_ROTATION_HANDOFF", "wednesday 17:30", 1);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.listen_port, 18081);
	assert_string_equal(cfg.slack_api_url, "http://127.0.0.1:5555/api");
	/* Start moves forward from Monday 2026-01-05 to Wednesday the 7th. */
	assert_int_equal(cfg.rotation.start_day, 7);
	assert_int_equal(cfg.rotation.handoff_hour, 17);
	assert_int_equal(cfg.rotation.handoff_minute, 30);
	config_free(&cfg);
	unlink(path);
}

static void test_errors_name_the_key(void **state)
{
	char *path;

	(void)state;
	setenv("WK_LISTEN", "nonsense", 1);
	load_fails_naming(NULL, "WK_LISTEN");
	unsetenv("WK_LISTEN");

	setenv("WK_ROTATION_TIMEZONE", "Mars/Olympus", 1);
	load_fails_naming(NULL, "WK_ROTATION_TIMEZONE");
	unsetenv("WK_ROTATION_TIMEZONE");

	setenv("WK_WORKERS", "0", 1);
	load_fails_naming(NULL, "WK_WORKERS");
	unsetenv("WK_WORKERS");

	setenv("WK_SLACK_BOT_TOKEN", "xoxp-user-token", 1);
	load_fails_naming(NULL, "WK_SLACK_BOT_TOKEN");
	unsetenv("WK_SLACK_BOT_TOKEN");

	path = write_file("{\"redis\":{\"timeout_ms\":\"fast\"}}");
	load_fails_naming(path, "redis.timeout_ms");
	path = write_file("{\"slak\":{}}");
	load_fails_naming(path, "slak");
	path = write_file("{\"rotation\":{\"handoff\":\"someday 25:00\"}}");
	load_fails_naming(path, "rotation.handoff");
	path = write_file("{\"redis\":{\"url\":\"http://x\"}}");
	load_fails_naming(path, "redis.url");
	path = write_file("{\"redis\":{\"url\":\"redis+sentinel://h1,h2/\"}}");
	load_fails_naming(path, "redis.url");
	path = write_file("{\"redis\":{\"url\":\"redis://:a@h/0\",\"password\":\"b\"}}");
	load_fails_naming(path, "redis.password");
	path = write_file("{\"redis\":{\"sentinel_password\":\"b\"}}");
	load_fails_naming(path, "redis.sentinel_password");
	path = write_file("{\"redis\":{\"url\":\"redis+sentinel://:a@h/m\",\"sentinel_password\":\"b\"}}");
	load_fails_naming(path, "redis.sentinel_password");
	setenv("WK_REDIS_WAIT_REPLICAS", "17", 1);
	load_fails_naming(NULL, "WK_REDIS_WAIT_REPLICAS");
	unsetenv("WK_REDIS_WAIT_REPLICAS");
	path = write_file("{\"listen\": ");
	load_fails_naming(path, "line");
	path = write_file("{\"log_level\":\"loud\"}");
	load_fails_naming(path, "log_level");
	path = write_file("{\"http\":{\"request_timeout_ms\":50}}");
	load_fails_naming(path, "http.request_timeout_ms");
	path = write_file("{\"http\":{\"max_conns\":-1}}");
	load_fails_naming(path, "http.max_conns");
	setenv("WK_HTTP_REQUEST_TIMEOUT_MS", "10s", 1);
	load_fails_naming(NULL, "WK_HTTP_REQUEST_TIMEOUT_MS");
	unsetenv("WK_HTTP_REQUEST_TIMEOUT_MS");
	unlink(path);
	load_fails_naming("/nonexistent/watchkeeper.json", "/nonexistent/watchkeeper.json");
}

/* The example config is said to hold every key: each key the loader accepts
 * (config_describe lists them all, from the one table) must be in it, and the
 * file must load. Run from the repository root, like every unit test. */
static void test_example_holds_every_key(void **state)
{
	const char *example = "config/watchkeeper.example.json";
	struct config cfg;
	char err[512], *text = NULL, line[256], key[256];
	size_t len = 0;
	json_error_t jerr;
	json_t *root;
	FILE *mem;
	int keys = 0;

	(void)state;
	if (config_load(&cfg, example, err, sizeof(err)) != 0)
		fail_msg("%s does not load: %s", example, err);
	mem = open_memstream(&text, &len);
	assert_non_null(mem);
	config_describe(&cfg, mem);
	fclose(mem);
	config_free(&cfg);
	root = json_load_file(example, 0, &jerr);
	assert_non_null(root);
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_t *at = root;
		char *inner = NULL;
		if (sscanf(l, "%255s", line) != 1)
			continue;
		memcpy(key, line, sizeof(key));
		for (char *part = strtok_r(line, ".", &inner); part && at; part = strtok_r(NULL, ".", &inner))
			at = json_object_get(at, part);
		if (!at)
			fail_msg("config key \"%s\" is missing from %s (add it with its default)", key, example);
		keys++;
	}
	assert_true(keys > 40);
	json_decref(root);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, clean_env),
		cmocka_unit_test_setup(test_environment_wins, clean_env),
		cmocka_unit_test_setup(test_errors_name_the_key, clean_env),
		cmocka_unit_test_setup(test_example_holds_every_key, clean_env),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tz_shutdown();
	return rc;
}
