/* test_twilio.c - adapters/twilio: X-Twilio-Signature (vectors from
 * protocols/twilio.md 3.3, the port variants computed with Python's hmac), the
 * SMS reply parser, send classification, TwiML escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/twilio.h"
#include "bot/buf.h"
#include "bot/form.h"

/* twilio-python tests/unit/test_request_validator.py */
#define SDK_TOKEN "12345"
#define SDK_URL "https://mycompany.com/myapp.php?foo=1&bar=2"
#define SDK_SIG "RSOYDt4T1cUTdK1PDd93/VVr8B8="
static const char sdk_body[] =
	"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309"
	"&To=%2B18005551212";
/* Same parameters, another body order: the signature sorts names. */
static const char sdk_body_reordered[] =
	"To=%2B18005551212&From=%2B14158675309&Digits=1234&Caller=%2B14158675309"
	"&CallSid=CA1234567890ABCDE";

/* protocols/twilio.md 3.3 fixture */
#define FIX_TOKEN "fixture_auth_token_do_not_use"
#define FIX_URL "https://bot.example.com/twilio/sms"
#define FIX_SIG "nj9e+yKNKdWCxCyulCoRgpGgak4="
static const char fix_body[] =
	"AccountSid=AC00000000000000000000000000000001&Body=ACK+42&From=%2B15005550006"
	"&MessageSid=SM00000000000000000000000000000001&NumMedia=0&To=%2B15005550001";

static void parse(const char *body, struct form *f)
{
	char err[FORM_ERR_SIZE];

	assert_int_equal(form_parse(body, strlen(body), f, err, sizeof(err)), 0);
}

static void test_signature_vectors(void **state)
{
	struct form f;

	(void)state;
	parse(sdk_body, &f);
	assert_true(twilio_signature_valid(SDK_TOKEN, SDK_URL, &f, SDK_SIG));
	form_free(&f);
	parse(sdk_body_reordered, &f);
	assert_true(twilio_signature_valid(SDK_TOKEN, SDK_URL, &f, SDK_SIG));
	form_free(&f);
	parse(fix_body, &f);
	assert_true(twilio_signature_valid(FIX_TOKEN, FIX_URL, &f, FIX_SIG));
	form_free(&f);
}

static void test_signature_every_char_changed(void **state)
{
	char sig[] = FIX_SIG;
	struct form f;

	(void)state;
	parse(fix_body, &f);
	for (size_t i = 0; i < strlen(sig); i++) {
		char keep = sig[i];
		sig[i] = keep == 'A' ? 'B' : 'A';
		assert_false(twilio_signature_valid(FIX_TOKEN, FIX_URL, &f, sig));
		sig[i] = keep;
	}
	assert_true(twilio_signature_valid(FIX_TOKEN, FIX_URL, &f, sig));
	form_free(&f);
}

static void test_signature_rejections(void **state)
{
	struct form f, changed;

	(void)state;
	parse(fix_body, &f);
	assert_false(twilio_signature_valid(FIX_TOKEN, "https://bot.example.com/twilio/status", &f, FIX_SIG));
	assert_false(twilio_signature_valid(FIX_TOKEN, "http://bot.example.com/twilio/sms", &f, FIX_SIG));
	assert_false(twilio_signature_valid(FIX_TOKEN, FIX_URL "/", &f, FIX_SIG));
	assert_false(twilio_signature_valid("other_token", FIX_URL, &f, FIX_SIG));
	assert_false(twilio_signature_valid(FIX_TOKEN, FIX_URL, &f, ""));
	assert_false(twilio_signature_valid(FIX_TOKEN, FIX_URL, &f, NULL));
	assert_false(twilio_signature_valid("", FIX_URL, &f, FIX_SIG));
	assert_false(twilio_signature_valid(NULL, FIX_URL, &f, FIX_SIG));
	assert_false(twilio_signature_valid(FIX_TOKEN, FIX_URL, &f, FIX_SIG "="));
	assert_false(twilio_signature_valid(FIX_TOKEN, FIX_URL, &f, "nj9e+yKNKdWCxCyulCoRgpGgak4"));
	assert_false(twilio_signature_valid(FIX_TOKEN, FIX_URL, NULL, FIX_SIG));
	parse("AccountSid=AC00000000000000000000000000000001&Body=ACK+43&From=%2B15005550006"
	      "&MessageSid=SM00000000000000000000000000000001&NumMedia=0&To=%2B15005550001", &changed);
	assert_false(twilio_signature_valid(FIX_TOKEN, FIX_URL, &changed, FIX_SIG));
	form_free(&changed);
	/* A parameter added after signing. */
	parse("AccountSid=AC00000000000000000000000000000001&Body=ACK+42&From=%2B15005550006"
	      "&MessageSid=SM00000000000000000000000000000001&NumMedia=0&To=%2B15005550001&X=1", &changed);
	assert_false(twilio_signature_valid(FIX_TOKEN, FIX_URL, &changed, FIX_SIG));
	form_free(&changed);
	form_free(&f);
}

static void test_signature_default_port_variants(void **state)
{
	struct form f;

	(void)state;
	parse(fix_body, &f);
	/* Signed without a port, requested with :443, and the other way round. */
	assert_true(twilio_signature_valid(FIX_TOKEN, "https://bot.example.com:443/twilio/sms", &f, FIX_SIG));
	assert_true(twilio_signature_valid(FIX_TOKEN, FIX_URL, &f, "DSvQ4xQOWVZ14wapjfgVMpX+xnI="));
	/* Not for a non-default port. */
	assert_false(twilio_signature_valid(FIX_TOKEN, "https://bot.example.com:8443/twilio/sms", &f, FIX_SIG));
	form_free(&f);
	parse(sdk_body, &f);
	assert_true(twilio_signature_valid(SDK_TOKEN, "https://mycompany.com:443/myapp.php?foo=1&bar=2",
					   &f, SDK_SIG));
	assert_true(twilio_signature_valid(SDK_TOKEN, SDK_URL, &f, "kvajT1Ptam85bY51eRf/AJRuM3w="));
	form_free(&f);
}

struct parse_case {
	const char *body;
	enum sms_action action;
	unsigned long incident;
};

static void test_sms_reply_parse_table(void **state)
{
	static const struct parse_case cases[] = {
		{ "ACK 42", SMS_ACK, 42 }, { "ack42", SMS_ACK, 42 }, { "42a", SMS_ACK, 42 },
		{ "42 a", SMS_ACK, 42 }, { "42 A", SMS_ACK, 42 }, { "  Ack   7 \r\n", SMS_ACK, 7 },
		{ "\tACK\t42\t", SMS_ACK, 42 }, { "RES 42", SMS_RESOLVE, 42 }, { "42r", SMS_RESOLVE, 42 },
		{ "res1", SMS_RESOLVE, 1 }, { "ESC 42", SMS_ESCALATE, 42 }, { "42e", SMS_ESCALATE, 42 },
		{ "42E", SMS_ESCALATE, 42 }, { "ack 999999999", SMS_ACK, 999999999 },
		{ "STOP", SMS_STOP, 0 }, { "stop", SMS_STOP, 0 }, { " StopAll ", SMS_STOP, 0 },
		{ "UNSUBSCRIBE", SMS_STOP, 0 }, { "cancel", SMS_STOP, 0 }, { "END", SMS_STOP, 0 },
		{ "quit", SMS_STOP, 0 }, { "START", SMS_START, 0 }, { "yes", SMS_START, 0 },
		{ "Unstop", SMS_START, 0 }, { "help", SMS_HELP, 0 }, { "HELP\n", SMS_HELP, 0 },
		/* junk */
		{ "", SMS_UNKNOWN, 0 }, { "   ", SMS_UNKNOWN, 0 }, { "ACK", SMS_UNKNOWN, 0 },
		{ "ACK ", SMS_UNKNOWN, 0 }, { "42", SMS_UNKNOWN, 0 }, { "a42", SMS_UNKNOWN, 0 },
		{ "ACK 0", SMS_UNKNOWN, 0 }, { "ACK 042", SMS_UNKNOWN, 0 }, { "0a", SMS_UNKNOWN, 0 },
		{ "ACK 1234567890", SMS_UNKNOWN, 0 }, { "ACK -4", SMS_UNKNOWN, 0 },
		{ "ACK 42 please", SMS_UNKNOWN, 0 }, { "ACK 42.", SMS_UNKNOWN, 0 },
		{ "ACK42x", SMS_UNKNOWN, 0 }, { "ACKNOWLEDGE 42", SMS_UNKNOWN, 0 },
		{ "42 ack", SMS_UNKNOWN, 0 }, { "42x", SMS_UNKNOWN, 0 }, { "4 2a", SMS_UNKNOWN, 0 },
		{ "ACK 4 2", SMS_UNKNOWN, 0 }, { "STOP now", SMS_UNKNOWN, 0 }, { "stopp", SMS_UNKNOWN, 0 },
		{ "a", SMS_UNKNOWN, 0 }, { "e", SMS_UNKNOWN, 0 }, { " a", SMS_UNKNOWN, 0 },
		{ "ACK +42", SMS_UNKNOWN, 0 }, { "ACK\xef\xbc\x94\xef\xbc\x92", SMS_UNKNOWN, 0 },
		{ "ACK 42\xc2\xa0", SMS_UNKNOWN, 0 }, { "\xff\xfe", SMS_UNKNOWN, 0 },
	};
	struct sms_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = sms_reply_parse(cases[i].body, &r);
		if (r.action != cases[i].action || r.incident != cases[i].incident)
			fail_msg("case %zu \"%s\": got action %d incident %lu", i, cases[i].body,
				 (int)r.action, r.incident);
		assert_int_equal(rc, cases[i].action == SMS_UNKNOWN ? -1 : 0);
	}
	assert_int_equal(sms_reply_parse(NULL, &r), -1);
	assert_int_equal(r.action, SMS_UNKNOWN);
}

static void test_sms_reply_length_cap(void **state)
{
	char body[SMS_REPLY_MAX_BYTES + 2];
	struct sms_reply r;

	(void)state;
	/* "ACK 42" padded with spaces to exactly 160 bytes is fine; 161 is not. */
	memset(body, ' ', sizeof(body));
	memcpy(body, "ACK 42", 6);
	body[SMS_REPLY_MAX_BYTES] = '\0';
	assert_int_equal(sms_reply_parse(body, &r), 0);
	assert_int_equal(r.action, SMS_ACK);
	body[SMS_REPLY_MAX_BYTES] = ' ';
	body[SMS_REPLY_MAX_BYTES + 1] = '\0';
	assert_int_equal(sms_reply_parse(body, &r), -1);
	assert_int_equal(r.action, SMS_UNKNOWN);
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(twilio_classify(201, 0), TWILIO_SENT);
	assert_int_equal(twilio_classify(200, 0), TWILIO_SENT);
	assert_int_equal(twilio_classify(0, 0), TWILIO_RETRY);
	assert_int_equal(twilio_classify(429, 20429), TWILIO_RETRY);
	assert_int_equal(twilio_classify(500, 0), TWILIO_RETRY);
	assert_int_equal(twilio_classify(503, 0), TWILIO_RETRY);
	assert_int_equal(twilio_classify(400, 21211), TWILIO_PERMANENT);
	assert_int_equal(twilio_classify(400, 21610), TWILIO_PERMANENT);
	assert_int_equal(twilio_classify(400, 21614), TWILIO_PERMANENT);
	assert_int_equal(twilio_classify(401, 20003), TWILIO_PERMANENT);
	assert_int_equal(twilio_classify(404, 0), TWILIO_PERMANENT);
	assert_int_equal(twilio_classify(302, 0), TWILIO_PERMANENT);
}

static void test_e164(void **state)
{
	(void)state;
	assert_true(twilio_e164_valid("+15005550006"));
	assert_true(twilio_e164_valid("+491701234567"));
	assert_false(twilio_e164_valid("15005550006"));
	assert_false(twilio_e164_valid("+05005550006"));
	assert_false(twilio_e164_valid("+1500555000x"));
	assert_false(twilio_e164_valid("+1234567"));
	assert_false(twilio_e164_valid("+1234567890123456"));
	assert_false(twilio_e164_valid(""));
	assert_false(twilio_e164_valid(NULL));
}

static void test_send_refused_without_network(void **state)
{
	struct config cfg = { 0 };
	struct twilio_result r;

	(void)state;
	cfg.twilio_account_sid = "AC00000000000000000000000000000001";
	cfg.twilio_auth_token = "";
	cfg.twilio_from = "+15005550001";
	cfg.twilio_messaging_service_sid = "";
	cfg.twilio_api_url = "http://127.0.0.1:9";
	assert_false(twilio_configured(&cfg));
	assert_int_equal(twilio_send_sms(&cfg, "+15005550006", "hi", NULL, &r), -1);
	assert_int_equal(r.outcome, TWILIO_PERMANENT);
	assert_int_equal(r.http_status, 0);
	cfg.twilio_auth_token = "tok";
	assert_true(twilio_configured(&cfg));
	assert_int_equal(twilio_send_sms(&cfg, "5005550006", "hi", NULL, &r), -1);
	assert_int_equal(r.outcome, TWILIO_PERMANENT);
	assert_int_equal(twilio_send_sms(&cfg, "+15005550006", "", NULL, &r), -1);
	assert_int_equal(twilio_send_sms(&cfg, "+15005550006", "\xff", NULL, &r), -1);
	assert_null(strstr(r.message, "tok"));
	cfg.twilio_from = "";
	assert_false(twilio_configured(&cfg));
	cfg.twilio_messaging_service_sid = "MG00000000000000000000000000000001";
	assert_true(twilio_configured(&cfg));
}

static void test_twiml(void **state)
{
	struct buf b = BUF_INIT(0);

	(void)state;
	twilio_twiml_message(&b, "a & b <c> \"d\" 'e'\x01");
	assert_string_equal(buf_cstr(&b), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>"
					  "a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; "
					  "</Message></Response>");
	buf_reset(&b);
	twilio_twiml_empty(&b);
	assert_string_equal(buf_cstr(&b), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_vectors),
		cmocka_unit_test(test_signature_every_char_changed),
		cmocka_unit_test(test_signature_rejections),
		cmocka_unit_test(test_signature_default_port_variants),
		cmocka_unit_test(test_sms_reply_parse_table),
		cmocka_unit_test(test_sms_reply_length_cap),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_e164),
		cmocka_unit_test(test_send_refused_without_network),
		cmocka_unit_test(test_twiml),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
