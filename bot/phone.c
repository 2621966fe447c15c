/* phone.c - see phone.h */
#include "bot/phone.h"
#include "bot/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define EXAMPLE \
	"write it in international (E.164) form, + and the country code, e.g. `+15555550123` or " \
	"`+49 30 1234567`"

/* Calling codes from the ITU-T E.164 assignments, trunk prefixes from the
 * national numbering plans; lengths are the usual national significant number
 * lengths (a loose check: it catches a missing or extra digit, it does not
 * validate every plan). Italy has no trunk prefix (its leading 0 is dialled
 * from abroad too); NANP numbers (US, CA) may be written with a leading 1. */
static const struct phone_region regions[] = {
	{ "AT", "Austria", "43", "0", 4, 13 },
	{ "AU", "Australia", "61", "0", 9, 9 },
	{ "BE", "Belgium", "32", "0", 8, 9 },
	{ "BR", "Brazil", "55", "0", 10, 11 },
	{ "CA", "Canada", "1", "1", 10, 10 },
	{ "CH", "Switzerland", "41", "0", 9, 9 },
	{ "DE", "Germany", "49", "0", 6, 13 },
	{ "DK", "Denmark", "45", "", 8, 8 },
	{ "ES", "Spain", "34", "", 9, 9 },
	{ "FI", "Finland", "358", "0", 5, 12 },
	{ "FR", "France", "33", "0", 9, 9 },
	{ "GB", "United Kingdom", "44", "0", 9, 10 },
	{ "IE", "Ireland", "353", "0", 7, 9 },
	{ "IN", "India", "91", "0", 10, 10 },
	{ "IT", "Italy", "39", "", 6, 11 },
	{ "JP", "Japan", "81", "0", 9, 10 },
	{ "MX", "Mexico", "52", "", 10, 10 },
	{ "NL", "Netherlands", "31", "0", 9, 9 },
	{ "NO", "Norway", "47", "", 8, 8 },
	{ "NZ", "New Zealand", "64", "0", 8, 10 },
	{ "PL", "Poland", "48", "", 9, 9 },
	{ "PT", "Portugal", "351", "", 9, 9 },
	{ "SE", "Sweden", "46", "0", 7, 9 },
	{ "SG", "Singapore", "65", "", 8, 8 },
	{ "US", "United States", "1", "1", 10, 10 },
	{ "ZA", "South Africa", "27", "0", 9, 9 },
};

const struct phone_region *phone_region_find(const char *code)
{
	for (size_t i = 0; code && i < ARRAY_LEN(regions); i++)
		if (strcasecmp(code, regions[i].code) == 0)
			return &regions[i];
	return NULL;
}

const char *phone_region_codes(char *out, size_t size)
{
	size_t n = 0;

	if (size)
		out[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(regions) && n < size; i++) {
		int w = snprintf(out + n, size - n, "%s%s", i ? ", " : "", regions[i].code);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return out;
}

int phone_normalize(const char *typed, const char *region, char *out, size_t size, char *why,
		    size_t whysize)
{
	char digits[PHONE_INPUT_MAX + 1];
	size_t nd = 0, len = strlen(typed);
	int plus = 0;
	const char *p = typed;
	const struct phone_region *reg;

	if (len == 0 || len > PHONE_INPUT_MAX) {
		snprintf(why, whysize, "that is not a phone number I can read; " EXAMPLE);
		return -1;
	}
	while (*p == ' ')
		p++;
	if (*p == '+') {
		plus = 1;
		p++;
	}
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			digits[nd++] = *p;
		} else if (*p == '(' && p[1] == '0' && p[2] == ')' && (plus || nd >= 2)) {
			/* "+44 (0)20 ...": the trunk 0 shown in brackets is not dialled from abroad */
			p += 2;
		} else if (!strchr(" -.()", *p)) {
			snprintf(why, whysize, "a phone number holds only digits, spaces, dashes, dots and "
				 "parentheses (no extensions); " EXAMPLE);
			return -1;
		}
	}
	digits[nd] = '\0';
	if (!plus && nd > 2 && digits[0] == '0' && digits[1] == '0') {
		plus = 1;	/* 00 is the international prefix almost everywhere */
		memmove(digits, digits + 2, nd - 1);
		nd -= 2;
	}
	if (plus) {
		if (nd < 8 || nd > 15 || digits[0] == '0') {
			snprintf(why, whysize, "+%s is not an international number: after the + come the "
				 "country code and number, 8 to 15 digits; " EXAMPLE, digits);
			return -1;
		}
		snprintf(out, size, "+%s", digits);
		return 0;
	}
	if (!region || !region[0] || !(reg = phone_region_find(region))) {
		snprintf(why, whysize, "I can't tell which country a number without + is in; " EXAMPLE
			 " (or an admin sets the workspace's region for national numbers: "
			 "`/oncall org phone_region US`)");
		return -1;
	}
	const char *nat = digits;
	size_t tl = strlen(reg->trunk);
	/* The trunk prefix goes; for NANP (trunk "1") only when the rest is a whole number. */
	if (tl && strncmp(nat, reg->trunk, tl) == 0 && nd - tl >= (size_t)reg->national_min)
		nat += tl;
	size_t nn = strlen(nat);
	if ((int)nn < reg->national_min || (int)nn > reg->national_max || strlen(reg->calling) + nn > 15) {
		char range[24], trunk[40] = "";
		if (reg->national_min == reg->national_max)
			snprintf(range, sizeof(range), "%d", reg->national_min);
		else
			snprintf(range, sizeof(range), "%d to %d", reg->national_min, reg->national_max);
		if (tl)
			snprintf(trunk, sizeof(trunk), " after the leading %s", reg->trunk);
		snprintf(why, whysize, "%s is not a number in %s: it has %zu digits%s, numbers there have "
			 "%s; " EXAMPLE, digits, reg->name, nn, trunk, range);
		return -1;
	}
	snprintf(out, size, "+%s%s", reg->calling, nat);
	return 0;
}
