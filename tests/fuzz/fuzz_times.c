/* Times and rotation options people type: when_parse (dates, today/tomorrow,
 * +48h, DST-ambiguous wall times), shift lengths and weekly windows. The input
 * is split on spaces into at most four arguments, as the command tokenizer would.
 * Parsers must stay in bounds, and an accepted time must be representable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/rotations.h"
#include "bot/tz.h"
#include "bot/when.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *argv[4], why[300];
	int argc = 0;
	int64_t t;
	enum rotation_unit unit;
	int length;
	struct rotation_window w;
	static const char *const zones[] = { "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC" };

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (char *tok = strtok(s, " "); tok && argc < 4; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		int used = when_parse(tz_get(zones[z]), 1795000000, 1795000000, argc, argv, &t, why, sizeof(why));
		if (used > argc || (used > 0 && (t < TZ_TIME_MIN || t > TZ_TIME_MAX)))
			abort();
	}
	if (argc >= 1)
		rotations_parse_length(argv[0], &unit, &length, why, sizeof(why));
	if (argc >= 2 && rotations_parse_window(argv[0], argv[1], &w, why, sizeof(why)) == 0 &&
	    (w.start_min < 0 || w.start_min > 1439 || w.end_min < 1 || w.end_min > 1440 || !w.days))
		abort();
	free(s);
	return 0;
}
