/* incident_stats.h - the figures of `/incident report`: incidents by service
 * and severity, time to acknowledge and to resolve, who acknowledged, and
 * what happened to the messages their pages sent.
 *
 * Pure: works on rows already read (bot/incident_report.h reads them); never
 * touches Redis, so every edge case is a unit test.
 *
 *   time to acknowledge  acked_ms - created_ms of the acknowledged incidents
 *                        (an incident resolved without an ack has none)
 *   time to resolve      resolved_ms - created_ms of the resolved ones (a
 *                        difference below 0, from clock skew, counts as 0)
 *   percentiles          nearest-rank: the value at rank ceil(p/100 * N) of the
 *                        N durations in ascending order, so it is always a time
 *                        that really happened; the median is p = 50
 *   delivery             per message a page sent (one per channel at most):
 *                        delivered = sent (or shown in the console) and no
 *                        failed delivery report from the provider; failed =
 *                        failed, or sent and reported undelivered/failed;
 *                        cancelled = acknowledged before it went out; the
 *                        rest (queued, being sent, retrying) is pending. The
 *                        rate is delivered / (delivered + failed).
 *
 * Thread: pure; any thread. */
#ifndef WK_INCIDENT_STATS_H
#define WK_INCIDENT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/buf.h"
#include "bot/incident.h"
#include "bot/tz.h"

#define INCIDENT_STATS_CHANNEL_MAX 16

enum incident_delivery { DELIVERY_PENDING, DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_CANCELLED };

/* A notification's outcome from its record's status and provider_status. */
enum incident_delivery incident_stats_delivery(const char *status, const char *provider_status);

/* One message a page of an incident sent. */
struct incident_stats_message {
	size_t row;		/* index of its incident in the input rows */
	char channel[INCIDENT_STATS_CHANNEL_MAX];
	enum incident_delivery outcome;
};

/* One incident as read. Times in ms since the epoch, 0 = did not happen. */
struct incident_stats_row {
	int64_t n, created_ms, acked_ms, resolved_ms;
	char severity[12], service[INCIDENT_NAME_MAX], type[16], acked_by[64];
	int64_t pages;		/* pages it created */
	int64_t pages_unknown;	/* of those, pages whose messages were not read (records
				 * are kept a week; bot/incident_report.h) */
	int64_t delivered;	/* filled by incident_stats_build(): its messages delivered */
};

struct incident_stats_duration {
	size_t n;		/* incidents measured */
	int64_t median_s, p90_s;	/* valid when n > 0 */
};

struct incident_stats_service {
	char service[INCIDENT_NAME_MAX];	/* "" = none */
	int64_t by_severity[SEV_COUNT];
	int64_t total;
};

struct incident_stats_acker {
	char member[64];
	int64_t count;
};

struct incident_stats_channel {
	char channel[INCIDENT_STATS_CHANNEL_MAX];
	int64_t messages, delivered, failed, cancelled, pending;
};

/* Arrays owned; incident_stats_free(). Services by total (most first) then
 * name; ackers by count then id; channels by messages then name. A severity
 * that is none of the four counts as error (as alerts map them). */
struct incident_stats {
	size_t incidents;
	int64_t by_severity[SEV_COUNT];
	int64_t unacked, unresolved;
	int64_t pages, pages_unknown;
	struct incident_stats_duration ack, resolve;
	struct incident_stats_service *services;
	size_t nservices;
	struct incident_stats_acker *ackers;
	size_t nackers;
	struct incident_stats_channel *channels;
	size_t nchannels;
};

/* Aggregate rows (and set each row's delivered from msgs). Messages whose row
 * is out of range are ignored. out is always safe to free. */
void incident_stats_build(struct incident_stats_row *rows, size_t nrows, const struct incident_stats_message *msgs,
			  size_t nmsgs, struct incident_stats *out);
void incident_stats_free(struct incident_stats *st);

/* Nearest-rank percentile (1..100) of v[0..n), sorted ascending; 0 when n = 0. */
int64_t incident_stats_percentile(const int64_t *sorted, size_t n, int p);

/* "45 s", "4 min", "1 h 12 min", "2 d 3 h": the two largest units, rounded
 * down; negative counts as 0. */
void incident_stats_human(int64_t seconds, char *out, size_t size);

/* The CSV (RFC 4180, CRLF, cells as report.h writes them), one row per
 * incident in the given order, header
 *   number,opened,severity,service,type,acknowledged_by,time_to_ack_s,
 *   time_to_resolve_s,pages,delivered
 * opened is the local time in z with its offset ("2026-12-01T09:00:00+01:00");
 * the two durations are empty when it was not acknowledged / resolved.
 * -1 when out reaches its cap. Call after incident_stats_build(). */
int incident_stats_csv(const struct incident_stats_row *rows, size_t nrows, const struct tz *z, struct buf *out);

#endif
