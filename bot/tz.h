/* tz.h - IANA time zones read from the system zoneinfo, usable from any thread.
 *
 * glibc's TZ/tzset()/mktime() keep one process-global zone, so worker threads
 * cannot evaluate "09:00 in Europe/Berlin" and "09:00 in Australia/Sydney" side
 * by side. This module reads TZif files itself (RFC 8536, versions 1 to 4) and
 * does all calendar arithmetic in integers.
 *
 *   const struct tz *z = tz_get("Europe/Berlin");
 *   if (!z) ...unknown zone...
 *   int64_t t = tz_from_local(z, 2026, 3, 29, 9, 0, 0);
 *
 * Ownership and lifetime: tz_get() returns a shared, immutable zone that is
 * cached for the life of the process; callers never free it and may keep the
 * pointer until tz_shutdown(), which frees every cached zone at exit (after all
 * other threads stopped using zones).
 *
 * Thread-safety: tz_get() locks an internal mutex; every other function only
 * reads the immutable zone and may run concurrently on any thread.
 *
 * Errors: tz_get() returns NULL for a name that is not a valid zone name, names
 * no readable file, or names a file that is not well-formed TZif (a malformed
 * file is rejected, never trusted). The conversion functions cannot fail.
 *
 * Time range: instants are Unix seconds (POSIX time, no leap seconds). Results
 * are exact for instants from 0001-01-01 to 9999-12-31 (TZ_TIME_MIN..MAX);
 * instants outside are clamped into that range first. Zones with leap-second
 * records (the "right/" tree) are refused, since their clock is not POSIX time.
 */
#ifndef WK_TZ_H
#define WK_TZ_H

#include <stddef.h>
#include <stdint.h>

#define TZ_NAME_MAX 64
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define TZ_TIME_MIN INT64_C(-62135596800)
#define TZ_TIME_MAX INT64_C(253402300799)

struct tz;	/* opaque, immutable once published */

/* Wall-clock reading of an instant in a zone. abbr is the zone's abbreviation
 * ("CEST", "+0530"), truncated to 7 characters, always terminated. */
struct tz_local {
	int year;
	int month;	/* 1-12 */
	int day;	/* 1-31 */
	int hour;	/* 0-23 */
	int minute;	/* 0-59 */
	int second;	/* 0-59 */
	int wday;	/* 0 = Sunday .. 6 = Saturday */
	int utc_offset;	/* seconds east of UTC */
	char abbr[8];
};

/* Look up a zone by IANA name ("Europe/Berlin", "UTC", "Etc/UTC").
 *
 * The name must be 1..TZ_NAME_MAX characters of [A-Za-z0-9/_+-], must not
 * start or end with '/' and must not hold an empty component; '.' is not
 * allowed at all, so "../x" cannot escape the zoneinfo directory. The file is
 * read from /usr/share/zoneinfo/<name>, or from $WK_ZONEINFO_DIR/<name> when
 * that variable is set (read when a zone is first loaded; meant for tests).
 * Returns NULL when the name is invalid, unknown or the file is malformed. */
const struct tz *tz_get(const char *name);

/* The name the zone was loaded under. */
const char *tz_name(const struct tz *z);

/* The zone's own spelling of a name typed in any case ("europe/berlin" ->
 * "Europe/Berlin"), found component by component in the zoneinfo directory.
 * 0 with out filled when it names a zone tz_get() loads, else -1. */
int tz_canonical(const char *typed, char *out, size_t size);

/* Seconds east of UTC in force at UTC instant t; *is_dst (when not NULL) is set
 * to 1 during daylight saving time, else 0. Instants before the zone's first
 * transition use its first time type; instants after the last transition use
 * the POSIX TZ rule in the file's footer. */
int tz_utc_offset(const struct tz *z, int64_t t, int *is_dst);

/* Wall-clock time in zone z at UTC instant t. */
void tz_to_local(const struct tz *z, int64_t t, struct tz_local *out);

/* The UTC instant at which the wall clock in z reads the given local time.
 *
 * - Fields are normalised like mktime(): day 32 of January is February 1,
 *   hour 24 is midnight of the next day, negative values count backwards.
 * - A wall time that does not exist because clocks jump forward (the spring
 *   gap) is read with the offset in force before the jump, which moves it
 *   forward by the length of the gap: 02:30 on 2026-03-08 in America/New_York
 *   gives 07:30Z, which reads 03:30 EDT. This is what RFC 5545 calendars do.
 * - A wall time that occurs twice because clocks fall back maps to the FIRST
 *   occurrence (the earlier instant, still on daylight time): 01:30 on
 *   2026-11-01 in America/New_York gives 05:30Z (01:30 EDT), not 06:30Z.
 * - Dates outside years 1..9999 are clamped (see TZ_TIME_MIN/MAX). */
int64_t tz_from_local(const struct tz *z, int year, int month, int day,
		      int hour, int minute, int second);

/* Free every cached zone. Call once at exit, when no thread uses zones any
 * more; all pointers from tz_get() become invalid. */
void tz_shutdown(void);

/* Proleptic Gregorian calendar helpers (pure integer arithmetic, no zones).
 * tz_days_from_civil() counts days since 1970-01-01 and accepts any month and
 * day (they are normalised; keep |year|, |month| and |day| below 2^40 so
 * nothing overflows); tz_civil_from_days() is its inverse.
 * tz_days_in_month() returns 0 for a month outside 1..12. */
int64_t tz_days_from_civil(int64_t year, int64_t month, int64_t day);
void tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
int tz_days_in_month(int64_t year, int month);

/* For tests and fuzzing only: parse TZif bytes into a private zone that the
 * caller owns and must release with tz_free(). Returns NULL when the data is
 * not well-formed. Never pass a zone from tz_get() to tz_free(). */
struct tz *tz_parse(const char *name, const unsigned char *data, size_t len);
void tz_free(struct tz *z);

#endif
