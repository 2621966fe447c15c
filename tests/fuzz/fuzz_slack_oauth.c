/* The OAuth callback's hostile input: the query (a form) and the Cookie
 * header, read by slack_oauth_callback_parse(), then the state checked.
 * Input: the query, a newline, the Cookie header. Beyond "no crash, no
 * leak": accepted fields have only the characters promised, the nonce is
 * our shape or empty, and no input but a state we made ourselves passes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/slack_oauth.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_slack_oauth: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();					\
		}							\
	} while (0)

static int only(const char *s, const char *allowed)
{
	return strspn(s, allowed) == strlen(s);
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[CRYPTO_SHA256_LEN] = { 1, 2, 3 };
	struct slack_oauth_callback cb;
	char *in = malloc(size + 1), why[200];
	const char *cookie = "";

	memcpy(in, data, size);
	in[size] = '\0';
	char *nl = memchr(in, '\n', size);
	if (nl) {
		*nl = '\0';
		cookie = nl + 1;
	}
	if (slack_oauth_callback_parse(in, cookie, &cb, why, sizeof(why)) == 0) {
		CHECK(only(cb.code, ALNUM "._-"));
		CHECK(only(cb.state, ALNUM "."));
		CHECK(only(cb.error, "abcdefghijklmnopqrstuvwxyz0123456789_."));
		CHECK(cb.nonce[0] == '\0' || (strlen(cb.nonce) == SLACK_OAUTH_NONCE_HEX &&
					      only(cb.nonce, "0123456789abcdef")));
		/* guessing the MAC is not an input's job: anything passing must be ours */
		if (slack_oauth_state_check(key, cb.state, cb.nonce, 1700000000) == SLACK_STATE_OK) {
			char again[SLACK_OAUTH_STATE_SIZE];
			long long ts = strtoll(cb.state + 3, NULL, 10);
			slack_oauth_state_make(key, cb.nonce, ts, again, sizeof(again));
			CHECK(strcmp(again, cb.state) == 0);
		}
	} else {
		CHECK(why[0] != '\0' && !strchr(why, '\n'));
	}
	(void)slack_oauth_state_check(key, in, cookie, 1700000000);
	free(in);
	return 0;
}
