/* incident_report.h - reading what `/incident report` and its CSV count: the
 * incidents of a period, and what the messages of their pages became.
 *
 * Paths through Redis (keys in incident.h, page.h, outbox.h):
 *   incs (zset n -> created_ms)  the incidents created in [from, to)
 *   inc:<n>                      created_ms acked_ms acked_by resolved_ms
 *                                severity service type
 *   inc:<n>:pages                the pages it created
 *   page:<id> steps              the channels the page uses ("slack:0,sms:120");
 *                                each channel gets at most one message per page
 *                                (its fallbacks are later steps' channels), and
 *   notify_dedupe:page:<id>:<ch> names that message: the index from a page to
 *                                its notifications already exists, so none is
 *                                added
 *   notification:<id>            status provider_status
 * Pages, their dedupe keys and notifications are kept a week (page.h,
 * outbox.h): for older incidents a page is counted but its messages are not
 * (pages_unknown), and the reply says so.
 *
 * Bounded: at most INCIDENT_REPORT_MAX incidents (the newest of the period;
 * `capped` says there were more), at most INCIDENT_REPORT_PAGES pages read per
 * incident, read by one script per INCIDENT_REPORT_CHUNK incidents, so Redis
 * is never held for long and the round trips are 1 + MAX / CHUNK.
 *
 * Thread: the caller's store. */
#ifndef WK_INCIDENT_REPORT_H
#define WK_INCIDENT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/incident_stats.h"
#include "bot/store.h"

#define INCIDENT_REPORT_MAX 2000
#define INCIDENT_REPORT_CHUNK 200
#define INCIDENT_REPORT_PAGES 50

struct incident_report_data {
	struct incident_stats_row *rows;	/* oldest first; owned */
	size_t nrows;
	struct incident_stats_message *msgs;	/* owned */
	size_t nmsgs;
	int64_t in_period;	/* incidents created in the period, every service */
	bool capped;		/* in_period > INCIDENT_REPORT_MAX: only the newest were read */
};

/* The incidents created in [from_ms, to_ms) of service ("" = every service).
 * 0, or -1 when the store failed (*out then empty; always safe to free). */
int incident_report_load(struct store *s, const char *org_id, const char *service, int64_t from_ms, int64_t to_ms,
			 struct incident_report_data *out);
void incident_report_data_free(struct incident_report_data *d);

#endif
