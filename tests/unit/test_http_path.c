/* http_path_for_log: secrets after a HTTP_ROUTE_SECRET_REST prefix never reach a
 * log line; other paths are logged whole, quoted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bot/http_server.h"

static const char *logged(const char *path)
{
	static char out[300];
	return http_path_for_log(path, out, sizeof(out));
}

static void test_secret_rest_is_cut(void **state)
{
	(void)state;
	assert_string_equal(logged("/join/abcdefghijklmnopqrstuvwxyz234567"), "\"/join/[redacted]\"");
	assert_string_equal(logged("/join/x/y/ABCDEFGHIJ"), "\"/join/[redacted]\"");
	assert_string_equal(logged("/ical/0123456789abcdef0123456789abcdef0123456789abcdef.ics"),
			    "\"/ical/[redacted]\"");
	assert_string_equal(logged("/export/0123.csv"), "\"/export/[redacted]\"");
}

static void test_other_paths_are_whole(void **state)
{
	(void)state;
	assert_string_equal(logged("/healthz"), "\"/healthz\"");
	assert_string_equal(logged("/slack/commands"), "\"/slack/commands\"");
	assert_string_equal(logged("/join/"), "\"/join/\"");	/* nothing secret after it */
	assert_string_equal(logged("/joinx/abc"), "\"/joinx/abc\"");
	assert_string_equal(logged("/a\"b c"), "\"/a\\\"b c\"");	/* quoted: stays one value */
	assert_string_equal(logged(""), "\"\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_rest_is_cut),
		cmocka_unit_test(test_other_paths_are_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
