/* test_backup_format.c - the lines of a backup file (bot/backup_format): values
 * as JSON strings or base64, each line's checks, and the Redis writes a line
 * turns into (the argument list the restore script walks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bot/backup_format.h"

#define ORG "slack:T0ONE"
#define K "wk:{slack:T0ONE}:"

static int parse(const char *line, struct backup_line *l, char *err)
{
	size_t n = strlen(line);
	char *copy = malloc(n ? n : 1);	/* exact size: ASan sees a read past the end */
	int rc;

	assert_non_null(copy);
	memcpy(copy, line, n);
	rc = backup_line_parse(copy, n, l, err, 300);
	free(copy);
	return rc;
}

/* The writes as text: "CMD a b | CMD c" (arguments joined by spaces). */
static void cmds_text(const struct backup_args *a, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < a->n;) {
		size_t n = (size_t)strtoul(a->v[i], NULL, 10);
		for (size_t k = 1; k <= n; k++)
			used += (size_t)snprintf(out + used, size - used, "%s%s", k == 1 ? (i ? " | " : "") : " ",
						 a->v[i + k]);
		i += n + 1;
	}
}

static void expect_cmds(const char *line, const char *want)
{
	struct backup_line l;
	char err[300], got[2048];

	if (parse(line, &l, err) != 0)
		fail_msg("refused: %s (%s)", err, line);
	cmds_text(&l.cmds, got, sizeof(got));
	assert_string_equal(got, want);
	backup_line_free(&l);
}

static void expect_refused(const char *line, const char *why)
{
	struct backup_line l;
	char err[300];

	assert_int_equal(parse(line, &l, err), -1);
	if (!strstr(err, why))
		fail_msg("refusal \"%s\" lacks \"%s\"", err, why);
	assert_null(l.key);
	assert_int_equal(l.cmds.n, 0);
}

static void test_bytes_round_trip(void **state)
{
	static const struct {
		const char *p;
		size_t n;
		const char *json;
	} cases[] = {
		{ "plain", 5, "\"plain\"" },
		{ "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },
		{ "\x00\xff\x01", 3, "{\"b64\": \"AP8B\"}" },
		{ "a\x00" "b", 3, "{\"b64\": \"YQBi\"}" },
		{ "\xc3", 1, "{\"b64\": \"ww==\"}" },	/* cut UTF-8 */
		{ "", 0, "\"\"" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = backup_bytes_json(cases[i].p, cases[i].n);
		char *text = json_dumps(j, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER), *back;
		size_t n;

		assert_string_equal(text, cases[i].json);
		assert_int_equal(backup_json_bytes(j, &back, &n), 0);
		assert_int_equal(n, cases[i].n);
		assert_memory_equal(back, cases[i].p, n);
		free(back);
		free(text);
		json_decref(j);
	}
}

static void test_bytes_refused(void **state)
{
	const char *bad[] = { "{\"b64\":\"!!\"}", "{\"b64\":\"AP8\"}", "{\"b64\":1}", "{\"x\":\"AA==\"}", "1", "[]",
			      "{\"b64\":\"AA==\",\"y\":1}" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		char *out;
		size_t n;

		assert_non_null(j);
		assert_int_equal(backup_json_bytes(j, &out, &n), -1);
		json_decref(j);
	}
}

static void test_writes(void **state)
{
	(void)state;
	expect_cmds("{\"org\":\"" ORG "\",\"key\":\"" K "org\",\"type\":\"hash\",\"ttl_ms\":-1,"
		    "\"value\":[[\"mode\",\"team\"],[\"f\",{\"b64\":\"AP8=\"}]]}",
		    "HSET " K "org mode team f ");	/* the value "\0\xff" shows as far as its NUL */
	expect_cmds("{\"org\":\"" ORG "\",\"key\":\"" K "s\",\"type\":\"set\",\"ttl_ms\":5,\"value\":[\"a\",\"b\"]}",
		    "SADD " K "s a b");
	expect_cmds("{\"org\":\"" ORG "\",\"key\":\"" K "z\",\"type\":\"zset\",\"value\":[[\"a\",\"1.5\"],[\"b\",\"-inf\"]]}",
		    "ZADD " K "z 1.5 a -inf b");
	expect_cmds("{\"org\":\"" ORG "\",\"key\":\"" K "l\",\"type\":\"list\",\"value\":[\"x\",\"x\"]}",
		    "RPUSH " K "l x x");
	expect_cmds("{\"org\":\"" ORG "\",\"key\":\"" K "str\",\"type\":\"string\",\"value\":\"v\"}",
		    "SET " K "str v");
	expect_cmds("{\"org\":\"" ORG "\",\"key\":\"" K "audit\",\"type\":\"stream\",\"value\":{\"entries\":"
		    "[[\"5-1\",[\"a\",\"b\"]],[\"6-0\",[\"c\",\"d\"]]],\"last_id\":\"7-0\",\"groups\":"
		    "[{\"name\":\"g\",\"last_delivered_id\":\"5-1\"}]}}",
		    "XADD " K "audit 5-1 a b | XADD " K "audit 6-0 c d | XSETID " K "audit 7-0 | "
		    "XGROUP CREATE " K "audit g 5-1");
	expect_cmds("{\"org\":\"" ORG "\",\"key\":\"" K "e\",\"type\":\"stream\",\"value\":{\"entries\":[],"
		    "\"last_id\":\"9-2\"}}",
		    "XADD " K "e 9-2 _ _ | XDEL " K "e 9-2 | XSETID " K "e 9-2");
	/* A timer loses its lease; its place in the due set is the restore's to decide. */
	expect_cmds("{\"org\":\"" ORG "\",\"key\":\"wk:{timers}:t:inc:" ORG ":1\",\"type\":\"timer\",\"due_ms\":\"99\","
		    "\"leased\":true,\"value\":[[\"kind\",\"inc_step\"],[\"org\",\"" ORG "\"],[\"lease_owner\",\"h:1\"],"
		    "[\"lease_until\",\"5\"],[\"fence\",\"4\"]]}",
		    "HSET wk:{timers}:t:inc:" ORG ":1 kind inc_step org " ORG " fence 4 | "
		    "ZREM wk:{timers}:leased inc:" ORG ":1");
	/* Queued notifications get new ids: the queue is shared by every org. */
	expect_cmds("{\"org\":\"" ORG "\",\"key\":\"wk:{notify}:q\",\"type\":\"queue\",\"value\":"
		    "[[\"10-0\",[\"org\",\"" ORG "\",\"id\",\"n1\"]]]}",
		    "XADD wk:{notify}:q * org " ORG " id n1");
	expect_cmds("{\"org\":null,\"key\":\"wk:{notify}:q\",\"type\":\"queue_groups\",\"value\":[{\"name\":\"couriers\"}]}",
		    "XGROUP CREATE wk:{notify}:q couriers 0");
	expect_cmds("{\"org\":\"" ORG "\",\"key\":\"wk:orgs\",\"type\":\"set\",\"value\":[\"" ORG "\"]}", "SADD wk:orgs " ORG);
	expect_cmds("{\"org\":null,\"key\":\"wk:hook:ab\",\"type\":\"string\",\"value\":\"" ORG "|1\"}",
		    "SET wk:hook:ab " ORG "|1");
}

static void test_big_values_in_chunks(void **state)
{
	char *line = malloc(200000);
	size_t used;
	struct backup_line l;
	char err[300];

	(void)state;
	used = (size_t)snprintf(line, 200000, "{\"org\":\"" ORG "\",\"key\":\"" K "s\",\"type\":\"set\",\"value\":[");
	for (int i = 0; i < 600; i++)
		used += (size_t)snprintf(line + used, 200000 - used, "%s\"m%d\"", i ? "," : "", i);
	snprintf(line + used, 200000 - used, "]}");
	assert_int_equal(parse(line, &l, err), 0);
	assert_int_equal(l.cmds.cmds, 3);	/* 256 + 256 + 88 */
	assert_string_equal(l.cmds.v[0], "258");
	backup_line_free(&l);
	/* One stream entry is one XADD: too many fields is refused, not split. */
	used = (size_t)snprintf(line, 200000, "{\"org\":\"" ORG "\",\"key\":\"" K "x\",\"type\":\"stream\","
				"\"value\":{\"last_id\":\"1-0\",\"entries\":[[\"1-0\",[");
	for (int i = 0; i < 1000; i++)
		used += (size_t)snprintf(line + used, 200000 - used, "%s\"f%d\"", i ? "," : "", i);
	snprintf(line + used, 200000 - used, "]]]}}");
	assert_int_equal(parse(line, &l, err), -1);
	assert_non_null(strstr(err, "up to 256 pairs"));
	free(line);
}

static void test_header_and_end(void **state)
{
	struct backup_line l;
	char err[300];

	(void)state;
	assert_int_equal(parse("{\"format\":\"watchkeeper-backup\",\"version\":1,\"created_ms\":1700000000000}", &l, err), 0);
	assert_int_equal(l.kind, BL_HEADER);
	assert_int_equal(l.created_ms, 1700000000000LL);
	backup_line_free(&l);
	assert_int_equal(parse("{\"format\":\"watchkeeper-backup-end\",\"orgs\":1,\"keys\":2,\"lines\":3,\"sha256\":"
			       "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}", &l, err), 0);
	assert_int_equal(l.kind, BL_END);
	assert_int_equal(l.n_lines, 3);
	assert_string_equal(l.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	backup_line_free(&l);
	expect_refused("{\"format\":\"watchkeeper-backup\",\"version\":2,\"created_ms\":1}", "version 2");
	expect_refused("{\"format\":\"watchkeeper-backup-end\",\"orgs\":1,\"keys\":2,\"lines\":3,\"sha256\":\"ABC\"}",
		       "sha256");
	expect_refused("{\"format\":\"redis-dump\"}", "not a watchkeeper backup");
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("", "not JSON");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "a\",\"type\":\"set\",\"value\":[\"a\"]} x", "not JSON");
	expect_refused("[1]", "not a JSON object");
	expect_refused("{\"org\":\"" ORG "\",\"org\":\"x:y\",\"key\":\"" K "a\",\"type\":\"set\",\"value\":[\"a\"]}",
		       "not JSON");	/* duplicate keys */
	expect_refused("{\"org\":\"bad org\",\"key\":\"" K "a\",\"type\":\"set\",\"value\":[\"a\"]}", "not an org id");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"wk:{slack:T0TWO}:a\",\"type\":\"set\",\"value\":[\"a\"]}",
		       "not a key of org");
	expect_refused("{\"org\":null,\"key\":\"other:thing\",\"type\":\"set\",\"value\":[\"a\"]}", "not one of");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "a\",\"type\":\"set\",\"value\":[]}", "non-empty");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "a\",\"type\":\"module\",\"value\":1}", "unknown type");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "a\",\"type\":\"set\",\"ttl_ms\":-5,\"value\":[\"a\"]}",
		       "ttl_ms");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "z\",\"type\":\"zset\",\"value\":[[\"a\",\"nan\"]]}",
		       "score");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "z\",\"type\":\"zset\",\"value\":[[\"a\",\"0x10\"]]}",
		       "score");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "z\",\"type\":\"zset\",\"value\":[[\"a\",\" 5\"]]}",
		       "score");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "x\",\"type\":\"stream\",\"value\":{\"entries\":[],"
		       "\"last_id\":\"6-0\",\"groups\":[{\"name\":\"g\",\"last_delivered_id\":\"1-0\"},"
		       "{\"name\":\"g\",\"last_delivered_id\":\"2-0\"}]}}", "group 2 twice");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "a\",\"type\":\"set\",\"ttl_ms\":9223372036854775807,"
		       "\"value\":[\"a\"]}", "ttl_ms");
	expect_refused("{\"format\":\"watchkeeper-backup\",\"version\":1,\"created_ms\":9223372036854775807}",
		       "created_ms");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "x\",\"type\":\"stream\",\"value\":{\"entries\":"
		       "[[\"6-0\",[\"a\",\"b\"]],[\"6-0\",[\"a\",\"b\"]]],\"last_id\":\"6-0\"}}", "out of order");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "x\",\"type\":\"stream\",\"value\":{\"entries\":"
		       "[[\"6-0\",[\"a\"]]],\"last_id\":\"6-0\"}}", "entry 1");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "x\",\"type\":\"stream\",\"value\":{\"entries\":"
		       "[[\"6-0\",[\"a\",\"b\"]]],\"last_id\":\"5-0\"}}", "before its last entry");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"" K "x\",\"type\":\"stream\",\"value\":{\"entries\":"
		       "[[\"6-x\",[\"a\",\"b\"]]],\"last_id\":\"7-0\"}}", "not a stream id");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"wk:{timers}:t:a b\",\"type\":\"timer\",\"due_ms\":\"1\","
		       "\"value\":[[\"org\",\"" ORG "\"]]}", "not a timer id");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"wk:{timers}:t:x\",\"type\":\"timer\",\"due_ms\":1,"
		       "\"value\":[[\"org\",\"" ORG "\"]]}", "due_ms");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"wk:{timers}:t:x\",\"type\":\"timer\",\"due_ms\":\"1\","
		       "\"value\":[[\"org\",\"slack:T0TWO\"]]}", "not a timer of org");
	expect_refused("{\"org\":null,\"key\":\"wk:{timers}:t:x\",\"type\":\"timer\",\"due_ms\":\"1\","
		       "\"value\":[[\"org\",\"" ORG "\"]]}", "a timer of no org");
	expect_refused("{\"org\":null,\"key\":\"wk:{timers}:leased\",\"type\":\"zset\",\"value\":[[\"a\",\"1\"]]}",
		       "shared queues");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"wk:{notify}:q\",\"type\":\"queue\",\"value\":"
		       "[[\"10-0\",[\"org\",\"slack:T0TWO\",\"id\",\"n1\"]]]}", "not one of org");
	expect_refused("{\"org\":\"" ORG "\",\"key\":\"wk:orgs\",\"type\":\"set\",\"value\":[\"slack:T0TWO\"]}",
		       "names that org only");
	expect_refused("{\"org\":\"" ORG "\",\"key\":{\"b64\":\"\"},\"type\":\"set\",\"value\":[\"a\"]}", "no key");
}

static void test_stream_ids(void **state)
{
	uint64_t ms, seq;

	(void)state;
	assert_true(backup_stream_id("1700000000000-12", &ms, &seq));
	assert_true(ms == 1700000000000ULL && seq == 12);
	assert_true(backup_stream_id("18446744073709551615-0", &ms, &seq));
	assert_false(backup_stream_id("18446744073709551616-0", &ms, &seq));
	assert_false(backup_stream_id("-1", &ms, &seq));
	assert_false(backup_stream_id("1-", &ms, &seq));
	assert_false(backup_stream_id("1-2-3", &ms, &seq));
	assert_false(backup_stream_id("+1-2", &ms, &seq));
	assert_false(backup_stream_id("*", &ms, &seq));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_round_trip),
		cmocka_unit_test(test_bytes_refused),
		cmocka_unit_test(test_writes),
		cmocka_unit_test(test_big_values_in_chunks),
		cmocka_unit_test(test_header_and_end),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_stream_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
