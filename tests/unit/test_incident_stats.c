/* test_incident_stats.c - bot/incident_stats.c: nearest-rank percentiles,
 * aggregation edge cases (no incidents, one, unacknowledged, unresolved),
 * delivery outcomes, durations in words and the CSV.
 *
 * 1764576000 is 2025-12-01 09:00 in Europe/Berlin (CET, +01:00), checked with
 * python3 zoneinfo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bot/buf.h"
#include "bot/incident_stats.h"
#include "bot/util.h"

#define T0 INT64_C(1764576000000)

static struct incident_stats_row row(int64_t n, int64_t ack_s, int64_t res_s, const char *sev, const char *svc,
				     const char *by)
{
	struct incident_stats_row r;

	memset(&r, 0, sizeof(r));
	r.n = n;
	r.created_ms = T0 + n * 60000;
	r.acked_ms = ack_s >= 0 ? r.created_ms + ack_s * 1000 : 0;
	r.resolved_ms = res_s >= 0 ? r.created_ms + res_s * 1000 : 0;
	wk_strlcpy(r.severity, sev, sizeof(r.severity));
	wk_strlcpy(r.service, svc, sizeof(r.service));
	wk_strlcpy(r.type, "manual", sizeof(r.type));
	wk_strlcpy(r.acked_by, ack_s >= 0 ? by : "", sizeof(r.acked_by));
	return r;
}

static void test_percentile(void **state)
{
	static const int64_t ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	static const int64_t one[] = { 42 };
	static const int64_t four[] = { 10, 20, 30, 40 };

	(void)state;
	assert_int_equal(incident_stats_percentile(NULL, 0, 50), 0);
	assert_int_equal(incident_stats_percentile(one, 1, 50), 42);
	assert_int_equal(incident_stats_percentile(one, 1, 90), 42);
	/* rank ceil(p/100 * N): 5th and 9th of ten */
	assert_int_equal(incident_stats_percentile(ten, 10, 50), 5);
	assert_int_equal(incident_stats_percentile(ten, 10, 90), 9);
	assert_int_equal(incident_stats_percentile(ten, 10, 100), 10);
	/* of four: rank 2 for the median (no averaging), rank 4 for p90 */
	assert_int_equal(incident_stats_percentile(four, 4, 50), 20);
	assert_int_equal(incident_stats_percentile(four, 4, 90), 40);
	assert_int_equal(incident_stats_percentile(four, 4, 1), 10);
}

static void test_human(void **state)
{
	static const struct {
		int64_t s;
		const char *want;
	} cases[] = {
		{ -5, "0 s" }, { 0, "0 s" }, { 45, "45 s" }, { 60, "1 min" }, { 270, "4 min" },
		{ 3600, "1 h" }, { 4320, "1 h 12 min" }, { 4379, "1 h 12 min" }, { 86400, "1 d" },
		{ 97200, "1 d 3 h" },
	};
	char out[48];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		incident_stats_human(cases[i].s, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
}

static void test_delivery(void **state)
{
	(void)state;
	assert_int_equal(incident_stats_delivery("sent", ""), DELIVERY_DELIVERED);
	assert_int_equal(incident_stats_delivery("sent", "delivered"), DELIVERY_DELIVERED);
	assert_int_equal(incident_stats_delivery("sent", "undelivered"), DELIVERY_FAILED);
	assert_int_equal(incident_stats_delivery("shown", ""), DELIVERY_DELIVERED);
	assert_int_equal(incident_stats_delivery("failed", ""), DELIVERY_FAILED);
	assert_int_equal(incident_stats_delivery("cancelled", ""), DELIVERY_CANCELLED);
	assert_int_equal(incident_stats_delivery("queued", ""), DELIVERY_PENDING);
	assert_int_equal(incident_stats_delivery("retry", ""), DELIVERY_PENDING);
}

static void test_none(void **state)
{
	struct incident_stats st;
	struct buf b = BUF_INIT(4096);

	(void)state;
	incident_stats_build(NULL, 0, NULL, 0, &st);
	assert_int_equal(st.incidents, 0);
	assert_int_equal(st.ack.n, 0);
	assert_int_equal(st.resolve.n, 0);
	assert_int_equal(st.nservices, 0);
	assert_int_equal(st.nackers, 0);
	assert_int_equal(st.nchannels, 0);
	assert_int_equal(incident_stats_csv(NULL, 0, tz_get("UTC"), &b), 0);
	assert_string_equal(buf_cstr(&b), "number,opened,severity,service,type,acknowledged_by,time_to_ack_s,"
					  "time_to_resolve_s,pages,delivered\r\n");
	incident_stats_free(&st);
	buf_free(&b);
}

static void test_one(void **state)
{
	struct incident_stats_row r[] = { row(1, 240, 4320, "critical", "api", "U1") };
	struct incident_stats st;

	(void)state;
	incident_stats_build(r, 1, NULL, 0, &st);
	assert_int_equal(st.incidents, 1);
	assert_int_equal(st.ack.n, 1);
	assert_int_equal(st.ack.median_s, 240);
	assert_int_equal(st.ack.p90_s, 240);
	assert_int_equal(st.resolve.median_s, 4320);
	assert_int_equal(st.unacked, 0);
	assert_int_equal(st.unresolved, 0);
	assert_int_equal(st.by_severity[SEV_CRITICAL], 1);
	assert_int_equal(st.nservices, 1);
	assert_string_equal(st.services[0].service, "api");
	assert_int_equal(st.nackers, 1);
	assert_string_equal(st.ackers[0].member, "U1");
	assert_int_equal(st.ackers[0].count, 1);
	incident_stats_free(&st);
}

/* Unacknowledged and unresolved incidents count, but have no times; one
 * resolved without an ack has a time to resolve and none to acknowledge. */
static void test_unacked_unresolved(void **state)
{
	struct incident_stats_row r[] = {
		row(1, 60, 600, "critical", "api", "U1"),
		row(2, -1, -1, "error", "api", ""),
		row(3, 120, -1, "warning", "", "U2"),
		row(4, -1, 300, "bogus", "db", ""),
		row(5, 30, 900, "error", "api", "U1"),
	};
	struct incident_stats st;

	(void)state;
	incident_stats_build(r, ARRAY_LEN(r), NULL, 0, &st);
	assert_int_equal(st.incidents, 5);
	assert_int_equal(st.ack.n, 3);
	assert_int_equal(st.unacked, 2);
	assert_int_equal(st.ack.median_s, 60);	/* 30 60 120: rank 2 */
	assert_int_equal(st.ack.p90_s, 120);	/* rank 3 */
	assert_int_equal(st.resolve.n, 3);
	assert_int_equal(st.unresolved, 2);
	assert_int_equal(st.resolve.median_s, 600);	/* 300 600 900 */
	assert_int_equal(st.resolve.p90_s, 900);
	/* an unknown severity counts as error */
	assert_int_equal(st.by_severity[SEV_ERROR], 3);
	assert_int_equal(st.by_severity[SEV_WARNING], 1);
	/* services by total, then name ("" is "no service") */
	assert_int_equal(st.nservices, 3);
	assert_string_equal(st.services[0].service, "api");
	assert_int_equal(st.services[0].total, 3);
	assert_int_equal(st.services[0].by_severity[SEV_ERROR], 2);
	assert_string_equal(st.services[1].service, "");
	assert_string_equal(st.services[2].service, "db");
	assert_int_equal(st.nackers, 2);
	assert_string_equal(st.ackers[0].member, "U1");
	assert_int_equal(st.ackers[0].count, 2);
	assert_string_equal(st.ackers[1].member, "U2");
	incident_stats_free(&st);
}

/* An ack stamped a few ms before the creation (two clocks) is an ack after 0 s. */
static void test_skew(void **state)
{
	struct incident_stats_row r[] = { row(1, 0, 0, "error", "api", "U1") };
	struct incident_stats st;
	struct buf b = BUF_INIT(4096);

	(void)state;
	r[0].acked_ms = r[0].created_ms - 5;
	r[0].resolved_ms = r[0].created_ms - 5;
	incident_stats_build(r, 1, NULL, 0, &st);
	assert_int_equal(st.ack.n, 1);
	assert_int_equal(st.ack.median_s, 0);
	assert_int_equal(st.resolve.p90_s, 0);
	assert_int_equal(incident_stats_csv(r, 1, tz_get("UTC"), &b), 0);
	assert_non_null(strstr(buf_cstr(&b), "\r\nINC-1,2025-12-01T08:01:00+00:00,error,api,manual,U1,0,0,0,0\r\n"));
	incident_stats_free(&st);
	buf_free(&b);
}

static void test_channels_and_csv(void **state)
{
	struct incident_stats_row r[] = {
		row(1, 240, 4320, "critical", "api", "U1"),
		row(2, -1, -1, "error", "=cmd", ""),
	};
	struct incident_stats_message m[] = {
		{ 0, "slack", DELIVERY_DELIVERED }, { 0, "sms", DELIVERY_FAILED },
		{ 1, "slack", DELIVERY_DELIVERED }, { 1, "email", DELIVERY_PENDING },
		{ 1, "sms", DELIVERY_CANCELLED },   { 9, "slack", DELIVERY_DELIVERED },	/* no such row */
	};
	struct incident_stats st;
	struct buf b = BUF_INIT(4096);

	(void)state;
	r[0].pages = 1;
	r[1].pages = 2;
	r[1].pages_unknown = 1;
	incident_stats_build(r, 2, m, ARRAY_LEN(m), &st);
	assert_int_equal(st.pages, 3);
	assert_int_equal(st.pages_unknown, 1);
	assert_int_equal(st.nchannels, 3);
	assert_string_equal(st.channels[0].channel, "slack");
	assert_int_equal(st.channels[0].messages, 2);
	assert_int_equal(st.channels[0].delivered, 2);
	assert_string_equal(st.channels[1].channel, "sms");
	assert_int_equal(st.channels[1].failed, 1);
	assert_int_equal(st.channels[1].cancelled, 1);
	assert_string_equal(st.channels[2].channel, "email");
	assert_int_equal(st.channels[2].pending, 1);
	assert_int_equal(r[0].delivered, 1);
	assert_int_equal(r[1].delivered, 1);
	assert_int_equal(incident_stats_csv(r, 2, tz_get("Europe/Berlin"), &b), 0);
	assert_string_equal(buf_cstr(&b),
			    "number,opened,severity,service,type,acknowledged_by,time_to_ack_s,time_to_resolve_s,"
			    "pages,delivered\r\n"
			    "INC-1,2025-12-01T09:01:00+01:00,critical,api,manual,U1,240,4320,1,1\r\n"
			    "INC-2,2025-12-01T09:02:00+01:00,error,'=cmd,manual,,,,2,1\r\n");
	incident_stats_free(&st);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_human),
		cmocka_unit_test(test_delivery),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_unacked_unresolved),
		cmocka_unit_test(test_skew),
		cmocka_unit_test(test_channels_and_csv),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tz_shutdown();
	return rc;
}
