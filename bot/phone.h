/* phone.h - phone numbers as people type them, into E.164.
 *
 *   +1 (555) 555-0123      -> +15555550123
 *   0049 30 1234567        -> +49301234567   (00 is the international prefix)
 *   +44 (0)20 7946 0958    -> +442079460958  (the "(0)" people write is dropped)
 *   030 1234567, region DE -> +49301234567   (trunk prefix 0 dropped)
 *   (555) 555-0123, US     -> +15555550123
 *
 * Separators people use (spaces, dashes, dots, parentheses) are dropped.
 * A number without + or 00 is national: it needs the org's region
 * (`/oncall org phone_region US`), whose calling code and trunk prefix come
 * from a small table; without a region it is refused with an E.164 example.
 * Anything else (letters, extensions, too few or too many digits) is refused
 * with a sentence, never guessed. Pure functions, thread-safe. */
#ifndef WK_PHONE_H
#define WK_PHONE_H

#include <stddef.h>

/* Longest input read, in bytes; longer is refused. */
#define PHONE_INPUT_MAX 40
/* "+" and up to 15 digits, terminated. */
#define PHONE_E164_SIZE 17

struct phone_region {
	const char *code;	/* ISO 3166-1 alpha-2, "DE" */
	const char *name;	/* "Germany" */
	const char *calling;	/* country calling code, "49" */
	const char *trunk;	/* national (trunk) prefix dropped before the calling code, "0" or "" */
	int national_min, national_max;	/* digits after the trunk prefix */
};

/* The region with this code (any case), or NULL. */
const struct phone_region *phone_region_find(const char *code);
/* The codes of every region in the table, "AT, AU, ..." into out. */
const char *phone_region_codes(char *out, size_t size);

/* Normalise typed into E.164 in out (PHONE_E164_SIZE bytes at least). region may
 * be NULL or "" when the org has none. 0, or -1 with a sentence in why. */
int phone_normalize(const char *typed, const char *region, char *out, size_t size, char *why,
		    size_t whysize);

#endif
