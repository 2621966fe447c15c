/* Times and rotation options people type: when_parse (dates, today/tomorrow,
 * +48h, DST-ambiguous wall times), shift lengths and weekly windows. The input
 * is split on spaces into at most eight arguments, as the command tokenizer would.
 * Parsers must stay in bounds, and an accepted time must be representable.
 * Contact rules (`/oncall me notify ...`) too: accepted rules must survive the
 * stored form unchanged, and the stored-form reader must take any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/contact.h"
#include "bot/rotations.h"
#include "bot/tz.h"
#include "bot/when.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *argv[8], why[300], enc[256];
	int argc = 0;
	int64_t t;
	enum rotation_unit unit;
	int length;
	struct rotation_window w;
	struct contact_rules rules, back;
	static const char *const zones[] = { "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC" };

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	contact_rules_decode(s, &rules);
	for (char *tok = strtok(s, " "); tok && argc < 8; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		int used = when_parse(tz_get(zones[z]), 1795000000, 1795000000, argc < 4 ? argc : 4, argv, &t, why, sizeof(why));
		if (used > argc || (used > 0 && (t < TZ_TIME_MIN || t > TZ_TIME_MAX)))
			abort();
	}
	if (contact_rules_parse(argc, argv, &rules, why, sizeof(why)) == 0) {
		contact_rules_encode(&rules, enc, sizeof(enc));
		if (contact_rules_decode(enc, &back) != 0 || back.n != rules.n)
			abort();
		for (size_t i = 0; i < rules.n; i++)
			if (strcmp(back.rule[i].method, rules.rule[i].method) != 0 ||
			    back.rule[i].delay_s != rules.rule[i].delay_s)
				abort();
		contact_rules_describe(&rules, enc, sizeof(enc));
	}
	if (argc >= 1)
		rotations_parse_length(argv[0], &unit, &length, why, sizeof(why));
	if (argc >= 2 && rotations_parse_window(argv[0], argv[1], &w, why, sizeof(why)) == 0 &&
	    (w.start_min < 0 || w.start_min > 1439 || w.end_min < 1 || w.end_min > 1440 || !w.days))
		abort();
	free(s);
	return 0;
}
