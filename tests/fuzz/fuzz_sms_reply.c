/* fuzz_sms_reply.c - libFuzzer target for adapters/twilio's peer-facing parsers.
 *
 * The input is used three ways:
 *   1. as an SMS body for sms_reply_parse(): never crashes, never reads past the
 *      NUL, and its promises hold (UNKNOWN <=> -1; an incident only, and always,
 *      with ACK/RESOLVE/ESCALATE, within 1..SMS_INCIDENT_MAX; bodies over 160
 *      bytes are UNKNOWN);
 *   2. as a form body for twilio_signature_valid() with an arbitrary header: a
 *      forged signature never verifies, and the one computed the same way always
 *      does, whatever the parameters;
 *   3. as text for the TwiML writer: the output never contains a raw '<' or '&'
 *      inside <Message>. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "adapters/twilio.h"
#include "bot/buf.h"
#include "bot/form.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_sms_reply: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();					\
		}							\
	} while (0)

#define TOKEN "fuzz_auth_token"
#define URL "https://bot.example.com/twilio/sms"

static int cmp_fields(const void *a, const void *b)
{
	const struct form_field *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

/* An independent computation of the expected signature. */
static void reference_sig(const struct form *f, char out[29])
{
	struct form_field *s = NULL;
	struct buf msg = BUF_INIT(0);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (f->count) {
		s = malloc(f->count * sizeof(*s));
		CHECK(s != NULL);
		memcpy(s, f->fields, f->count * sizeof(*s));
		qsort(s, f->count, sizeof(*s), cmp_fields);
	}
	buf_adds(&msg, URL);
	for (size_t i = 0; i < f->count; i++) {
		buf_adds(&msg, s[i].key);
		buf_adds(&msg, s[i].value);
	}
	CHECK(HMAC(EVP_sha1(), TOKEN, (int)strlen(TOKEN), (const unsigned char *)buf_cstr(&msg),
		   msg.len, mac, &len) != NULL);
	EVP_EncodeBlock((unsigned char *)out, mac, (int)len);
	buf_free(&msg);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[FORM_ERR_SIZE], sig[29];
	struct sms_reply r;
	struct form f;
	struct buf b = BUF_INIT(0);
	int rc;

	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	rc = sms_reply_parse(text, &r);
	CHECK((rc == -1) == (r.action == SMS_UNKNOWN));
	if (r.action == SMS_ACK || r.action == SMS_RESOLVE || r.action == SMS_ESCALATE)
		CHECK(r.incident >= 1 && r.incident <= SMS_INCIDENT_MAX);
	else
		CHECK(r.incident == 0);
	if (strlen(text) > SMS_REPLY_MAX_BYTES)
		CHECK(rc == -1);
	(void)sms_action_name(r.action);

	if (form_parse((const char *)data, size, &f, err, sizeof(err)) == 0) {
		/* The input itself as a header: it may only verify if it is the real MAC. */
		reference_sig(&f, sig);
		CHECK(twilio_signature_valid(TOKEN, URL, &f, text) == (strcmp(text, sig) == 0));
		CHECK(twilio_signature_valid(TOKEN, URL, &f, sig));
		CHECK(!twilio_signature_valid("other", URL, &f, sig));
		form_free(&f);
	}

	twilio_twiml_message(&b, text);
	{
		const char *start = strstr(buf_cstr(&b), "<Message>") + 9;
		const char *end = strstr(buf_cstr(&b), "</Message></Response>");
		CHECK(end && end >= start);
		for (const char *p = start; p < end; p++) {
			CHECK(*p != '<' && *p != '>');
			if (*p == '&')
				CHECK(strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 ||
				      strncmp(p, "&gt;", 4) == 0 || strncmp(p, "&quot;", 6) == 0 ||
				      strncmp(p, "&apos;", 6) == 0);
		}
	}
	buf_free(&b);
	free(text);
	return 0;
}
