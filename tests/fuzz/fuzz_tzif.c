/* fuzz_tzif.c - arbitrary bytes into the TZif parser, then every query.
 *
 * Input starting with '!' is taken as a POSIX TZ string and wrapped in a
 * minimal version 2 file, so the footer grammar gets fuzzed without the
 * fuzzer having to rediscover the binary layout first. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bot/tz.h"

static const unsigned char minimal_v2[] = {
	'T', 'Z', 'i', 'f', '2', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 1,  0, 0, 0, 4,
	0, 0, 0, 0, 0, 0, 'U', 'T', 'C', 0,
};

static void exercise(const struct tz *z)
{
	static const int64_t instants[] = {
		INT64_MIN, TZ_TIME_MIN, -5364662400, -1, 0, 1000000000, 1774746000,
		1792890000, 2147483647, 2846476800, 4133977199, TZ_TIME_MAX, INT64_MAX,
	};
	static const int walls[][6] = {
		{ 2026, 3, 8, 2, 30, 0 }, { 2026, 11, 1, 1, 30, 0 }, { 2026, 3, 29, 2, 30, 0 },
		{ 1900, 1, 1, 0, 0, 0 }, { 2100, 12, 31, 23, 59, 59 }, { 1, 1, 1, 0, 0, 0 },
		{ 9999, 12, 31, 23, 59, 59 }, { 2026, 1, 32, 25, 61, -1 },
		{ INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX },
		{ INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN },
	};
	struct tz_local l;
	size_t i;
	int dst;

	for (i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
		(void)tz_utc_offset(z, instants[i], &dst);
		tz_to_local(z, instants[i], &l);
		if (memchr(l.abbr, '\0', sizeof(l.abbr)) == NULL)
			__builtin_trap();
	}
	for (i = 0; i < sizeof(walls) / sizeof(walls[0]); i++) {
		int64_t t = tz_from_local(z, walls[i][0], walls[i][1], walls[i][2],
					  walls[i][3], walls[i][4], walls[i][5]);

		if (t < TZ_TIME_MIN || t > TZ_TIME_MAX)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char buf[2 * sizeof(minimal_v2) + 512];
	struct tz *z;

	if (size > 0 && data[0] == '!' && size - 1 <= 500) {
		size_t n = 0;

		memcpy(buf, minimal_v2, sizeof(minimal_v2));
		n += sizeof(minimal_v2);
		memcpy(buf + n, minimal_v2, sizeof(minimal_v2));
		n += sizeof(minimal_v2);
		buf[n++] = '\n';
		memcpy(buf + n, data + 1, size - 1);
		n += size - 1;
		buf[n++] = '\n';
		z = tz_parse("fuzz", buf, n);
	} else {
		z = tz_parse("fuzz", data, size);
	}
	if (z) {
		exercise(z);
		tz_free(z);
	}
	return 0;
}
