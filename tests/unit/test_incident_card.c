/* test_incident_card.c - what the incident's channel card shows in each state:
 * headline, who acknowledged / resolved and when (in the org's zone), where the
 * escalation is, and only the buttons that still apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bot/incident_card.h"
#include "bot/tz.h"

/* 2026-12-05 07:00:00 UTC */
#define NOW_MS 1796454000000LL

static void base(struct incident *inc)
{
	memset(inc, 0, sizeof(*inc));
	inc->n = 42;
	snprintf(inc->summary, sizeof(inc->summary), "checkout returns <500>");
	snprintf(inc->severity, sizeof(inc->severity), "critical");
	snprintf(inc->service, sizeof(inc->service), "api");
	snprintf(inc->policy, sizeof(inc->policy), "r0:900|0:primary|300:backup1|600:backup2");
}

static const char *section(const struct reply *r)
{
	return r->nsections ? r->sections[0].text : "";
}

static void assert_buttons(const struct reply *r, const char *const *want, size_t n)
{
	assert_int_equal(r->nbuttons, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(r->buttons[i].action_id, want[i]);
		assert_string_equal(r->buttons[i].value, "42");
	}
}

static void triggered_offers_every_button(void **state)
{
	struct incident inc;
	struct reply r;
	static const char *const want[] = { "incident.ack", "incident.resolve", "incident.escalate" };

	(void)state;
	base(&inc);
	inc.step = 1;
	reply_init(&r);
	incident_card_render(&inc, tz_get("UTC"), NOW_MS, &r);
	assert_string_equal(buf_cstr(&r.text), "*INC-42* triggered [critical] checkout returns (500) (service api)");
	assert_non_null(strstr(section(&r), "Escalation: step 1 of 3 ran."));
	assert_buttons(&r, want, 3);
	reply_free(&r);
}

static void acknowledged_says_who_and_when_in_the_zone(void **state)
{
	struct incident inc;
	struct reply r;
	static const char *const want[] = { "incident.resolve" };

	(void)state;
	base(&inc);
	inc.state = INCIDENT_ACKNOWLEDGED;
	inc.acked_ms = NOW_MS - 3600 * 1000;
	snprintf(inc.acked_by, sizeof(inc.acked_by), "U0ALICE");
	reply_init(&r);
	incident_card_render(&inc, tz_get("Europe/Berlin"), NOW_MS, &r);
	assert_non_null(strstr(buf_cstr(&r.text), "*INC-42* acknowledged"));
	assert_non_null(strstr(section(&r), "Acknowledged by <@U0ALICE>, Sat 5 Dec 07:00 CET."));
	assert_null(strstr(section(&r), "Escalation"));
	assert_buttons(&r, want, 1);
	reply_free(&r);
}

static void resolved_has_no_buttons(void **state)
{
	struct incident inc;
	struct reply r;

	(void)state;
	base(&inc);
	inc.state = INCIDENT_RESOLVED;
	inc.resolved_ms = NOW_MS;
	snprintf(inc.resolved_by, sizeof(inc.resolved_by), "U0BOB");
	reply_init(&r);
	incident_card_render(&inc, tz_get("UTC"), NOW_MS, &r);
	assert_non_null(strstr(section(&r), "Resolved by <@U0BOB>, Sat 5 Dec 07:00 UTC."));
	assert_int_equal(r.nbuttons, 0);
	reply_free(&r);
}

static void the_end_of_the_policy_and_paging_off(void **state)
{
	struct incident inc;
	struct reply r;

	(void)state;
	base(&inc);
	inc.step = 3;
	reply_init(&r);
	incident_card_render(&inc, tz_get("UTC"), NOW_MS, &r);
	assert_non_null(strstr(section(&r), "*Nobody acknowledged* after 1 round of the escalation policy"));
	reply_free(&r);

	base(&inc);
	inc.paging_off = true;
	snprintf(inc.severity, sizeof(inc.severity), "warning");
	reply_init(&r);
	incident_card_render(&inc, tz_get("UTC"), NOW_MS, &r);
	assert_non_null(strstr(section(&r), "Pages nobody"));
	reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(triggered_offers_every_button),
		cmocka_unit_test(acknowledged_says_who_and_when_in_the_zone),
		cmocka_unit_test(resolved_has_no_buttons),
		cmocka_unit_test(the_end_of_the_policy_and_paging_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
