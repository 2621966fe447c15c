/* test_lookup.c - finding a message with an unknown outcome in the provider's
 * own listing: Slack's conversations.history (message metadata) and Twilio's
 * Messages list (the Ref in the body, newest first, down to the first attempt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "adapters/slack_api.h"
#include "adapters/twilio.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	if (!j)
		fail_msg("fixture is not JSON: %s", err.text);
	return j;
}

#define META(org, ref) "\"metadata\":{\"event_type\":\"wk_notification\",\"event_payload\":{\"org\":\"" org \
	"\",\"ref\":\"" ref "\",\"ids\":\"n1\"}}"

static void slack_finds_refs_of_this_org_only(void **state)
{
	const char *refs[] = { "n7-abcd", "n9-abcd", "n12-abcd", "" };
	bool found[4] = { false, false, false, false };
	char cursor[64] = "";
	json_t *page = parse("{\"ok\":true,\"has_more\":false,\"messages\":["
			     "{\"type\":\"message\",\"ts\":\"1.1\"," META("slack:T1", "n7-abcd") "},"
			     "{\"type\":\"message\",\"ts\":\"1.2\"," META("slack:T2", "n9-abcd") "},"
			     "{\"type\":\"message\",\"ts\":\"1.3\",\"metadata\":{\"event_type\":\"other\","
			     "\"event_payload\":{\"org\":\"slack:T1\",\"ref\":\"n12-abcd\"}}},"
			     "{\"type\":\"message\",\"ts\":\"1.4\",\"text\":\"n12-abcd in text is not metadata\"},"
			     "{\"type\":\"message\",\"ts\":\"1.5\"," META("slack:T1", "") "}]}");

	(void)state;
	assert_int_equal(slack_history_match(page, "slack:T1", refs, 4, found, cursor, sizeof(cursor)), 0);
	assert_true(found[0]);
	assert_false(found[1]);	/* another org's message with the same ref */
	assert_false(found[2]);	/* another event type, or plain text */
	assert_false(found[3]);	/* an empty ref names nothing (found by fuzz_lookup) */
	json_decref(page);
}

static void slack_pages_and_malformed(void **state)
{
	const char *refs[] = { "n1-0000" };
	bool found[1] = { false };
	char cursor[16] = "";
	json_t *more = parse("{\"ok\":true,\"messages\":[],\"has_more\":true,"
			     "\"response_metadata\":{\"next_cursor\":\"bmV4dA==\"}}");
	json_t *no_cursor = parse("{\"ok\":true,\"messages\":[],\"has_more\":true}");
	json_t *long_cursor = parse("{\"ok\":true,\"messages\":[],\"has_more\":true,"
				    "\"response_metadata\":{\"next_cursor\":\"0123456789abcdefXYZ\"}}");
	json_t *no_messages = parse("{\"ok\":true,\"messages\":{}}");

	(void)state;
	assert_int_equal(slack_history_match(more, "o", refs, 1, found, cursor, sizeof(cursor)), 1);
	assert_string_equal(cursor, "bmV4dA==");
	/* More pages we cannot read is "could not look", never "not there". */
	assert_int_equal(slack_history_match(no_cursor, "o", refs, 1, found, cursor, sizeof(cursor)), -1);
	assert_int_equal(slack_history_match(long_cursor, "o", refs, 1, found, cursor, sizeof(cursor)), -1);
	assert_int_equal(slack_history_match(no_messages, "o", refs, 1, found, cursor, sizeof(cursor)), -1);
	json_decref(more);
	json_decref(no_cursor);
	json_decref(long_cursor);
	json_decref(no_messages);
}

static void twilio_stops_at_the_first_attempt(void **state)
{
	/* 2026-12-05 02:00:00 UTC */
	int64_t first = (int64_t)1796436000 * 1000;
	const char *refs[] = { "r12-3fa9", "r13-3fa9", "r14-3fa9" };
	bool found[3] = { false, false, false };
	char next[128] = "";
	json_t *page = parse("{\"messages\":["
			     "{\"body\":\"paged\\nRef r12-3fa9\",\"date_created\":\"Sat, 05 Dec 2026 02:00:05 +0000\"},"
			     "{\"body\":\"someone typed Ref r14-3fa9 into a page\\nRef r99-3fa9\",\"date_created\":\"Sat, 05 Dec 2026 02:00:04 +0000\"},"
			     "{\"body\":\"older\",\"date_created\":\"Sat, 05 Dec 2026 01:59:59 +0000\"},"
			     "{\"body\":\"before the attempt\\nRef r13-3fa9\",\"date_created\":\"Sat, 05 Dec 2026 01:00:00 +0000\"}],"
			     "\"next_page_uri\":\"/2010-04-01/Accounts/AC1/Messages.json?Page=1\"}");

	(void)state;
	/* The entry before the first attempt ends the search, next page or not. */
	assert_int_equal(twilio_list_match(page, first, refs, 3, found, next, sizeof(next)), 0);
	assert_true(found[0]);
	assert_false(found[1]);
	assert_false(found[2]);	/* only the last line counts, not typed text */
	json_decref(page);
}

static void twilio_pages_and_hostile_next(void **state)
{
	const char *refs[] = { "r1-0000" };
	bool found[1] = { false };
	char next[64] = "";
	json_t *more = parse("{\"messages\":[{\"body\":\"x\",\"date_created\":\"Sat, 05 Dec 2026 03:00:00 +0000\"}],"
			     "\"next_page_uri\":\"/2010-04-01/Accounts/AC1/Messages.json?Page=1\"}");
	json_t *other_host = parse("{\"messages\":[],\"next_page_uri\":\"//evil.example/x\"}");
	json_t *absolute = parse("{\"messages\":[],\"next_page_uri\":\"https://evil.example/x\"}");
	json_t *last = parse("{\"messages\":[],\"next_page_uri\":null}");

	(void)state;
	assert_int_equal(twilio_list_match(more, 0, refs, 1, found, next, sizeof(next)), 1);
	assert_string_equal(next, "/2010-04-01/Accounts/AC1/Messages.json?Page=1");
	assert_int_equal(twilio_list_match(other_host, 0, refs, 1, found, next, sizeof(next)), -1);
	assert_int_equal(twilio_list_match(absolute, 0, refs, 1, found, next, sizeof(next)), -1);
	assert_int_equal(twilio_list_match(last, 0, refs, 1, found, next, sizeof(next)), 0);
	assert_false(found[0]);
	json_decref(more);
	json_decref(other_host);
	json_decref(absolute);
	json_decref(last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slack_finds_refs_of_this_org_only),
		cmocka_unit_test(slack_pages_and_malformed),
		cmocka_unit_test(twilio_stops_at_the_first_attempt),
		cmocka_unit_test(twilio_pages_and_hostile_next),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
