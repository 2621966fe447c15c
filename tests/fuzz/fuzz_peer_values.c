/* Values that come from outside peers or typed text and are parsed by small
 * hand-written code: Link and Retry-After headers (GitHub, Slack), invite codes
 * and join URLs, email addresses and phone numbers. Every parser must stay in
 * bounds and be deterministic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/courier.h"
#include "bot/invite.h"
#include "bot/mail.h"
#include "bot/member.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char out[1024], small[8], code[INVITE_CODE_LEN + 1], why[256];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';	/* headers and chat text arrive as C strings */

	courier_link_next(s, out, sizeof(out));
	if (strlen(out) >= sizeof(out))
		abort();
	courier_link_next(s, small, sizeof(small));	/* a URL that doesn't fit is dropped */
	if (strlen(small) >= sizeof(small))
		abort();
	long a = courier_retry_after(s), b = courier_retry_after(s);
	if (a != b || a < -1)
		abort();
	if (invite_code_normalize(s, code) == 0 && strlen(code) != INVITE_CODE_LEN)
		abort();
	member_check_email(s, why, sizeof(why));
	member_check_phone(s, why, sizeof(why));
	member_check_name(s, why, sizeof(why));
	mail_address_valid(s);
	free(s);
	return 0;
}
