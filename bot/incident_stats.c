/* incident_stats.c - see incident_stats.h */
#include "bot/incident_stats.h"
#include "bot/report.h"
#include "bot/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Statuses as outbox.h names them; anything else is still on its way. */
static const struct {
	const char *status;
	enum incident_delivery outcome;
} delivery_table[] = {
	{ "sent", DELIVERY_DELIVERED },
	{ "shown", DELIVERY_DELIVERED },
	{ "failed", DELIVERY_FAILED },
	{ "cancelled", DELIVERY_CANCELLED },
};

/* Delivery reports (Twilio) that say a message accepted by the provider never arrived. */
static const char *const undelivered_reports[] = { "undelivered", "failed" };

enum incident_delivery incident_stats_delivery(const char *status, const char *provider_status)
{
	for (size_t i = 0; i < ARRAY_LEN(delivery_table); i++) {
		if (strcmp(status, delivery_table[i].status) != 0)
			continue;
		if (delivery_table[i].outcome == DELIVERY_DELIVERED && provider_status)
			for (size_t k = 0; k < ARRAY_LEN(undelivered_reports); k++)
				if (strcmp(provider_status, undelivered_reports[k]) == 0)
					return DELIVERY_FAILED;
		return delivery_table[i].outcome;
	}
	return DELIVERY_PENDING;
}

int64_t incident_stats_percentile(const int64_t *sorted, size_t n, int p)
{
	size_t rank;

	if (!n)
		return 0;
	if (p < 1)
		p = 1;
	if (p > 100)
		p = 100;
	rank = ((size_t)p * n + 99) / 100;	/* ceil(p/100 * n), at least 1 for p >= 1 */
	return sorted[rank - 1];
}

void incident_stats_human(int64_t s, char *out, size_t size)
{
	/* Units largest first; a figure shows the largest that fits and the next. */
	static const struct {
		int64_t seconds;
		const char *name;
	} units[] = { { 86400, "d" }, { 3600, "h" }, { 60, "min" }, { 1, "s" } };

	if (s < 0)
		s = 0;
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		int64_t big = s / units[i].seconds;

		if (!big && units[i].seconds > 1)
			continue;
		if (i + 1 < ARRAY_LEN(units) && units[i].seconds >= 3600) {
			int64_t small = (s % units[i].seconds) / units[i + 1].seconds;
			if (small) {
				snprintf(out, size, "%" PRId64 " %s %" PRId64 " %s", big, units[i].name, small,
					 units[i + 1].name);
				return;
			}
		}
		snprintf(out, size, "%" PRId64 " %s", big, units[i].name);
		return;
	}
}

/* Seconds from the incident's creation to at_ms. Creation is stamped by
 * Redis's clock and an ack by the daemon's, so a skew of a few ms could make
 * a quick ack negative: it counts as 0. */
static int64_t since_created(const struct incident_stats_row *row, int64_t at_ms)
{
	return at_ms > row->created_ms ? (at_ms - row->created_ms) / 1000 : 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void duration(int64_t *v, size_t n, struct incident_stats_duration *out)
{
	out->n = n;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_i64);
	out->median_s = incident_stats_percentile(v, n, 50);
	out->p90_s = incident_stats_percentile(v, n, 90);
}

static int by_service(const void *a, const void *b)
{
	const struct incident_stats_service *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->service, y->service);
}

static int by_acker(const void *a, const void *b)
{
	const struct incident_stats_acker *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->member, y->member);
}

static int by_channel(const void *a, const void *b)
{
	const struct incident_stats_channel *x = a, *y = b;

	if (x->messages != y->messages)
		return x->messages > y->messages ? -1 : 1;
	return strcmp(x->channel, y->channel);
}

/* The rows are few thousand at most (incident_report.h caps them): a linear
 * look-up per row keeps this simple. */
static struct incident_stats_service *service_of(struct incident_stats *st, const char *name)
{
	for (size_t i = 0; i < st->nservices; i++)
		if (strcmp(st->services[i].service, name) == 0)
			return &st->services[i];
	struct incident_stats_service *s = &st->services[st->nservices++];
	wk_strlcpy(s->service, name, sizeof(s->service));
	return s;
}

static struct incident_stats_acker *acker_of(struct incident_stats *st, const char *member)
{
	for (size_t i = 0; i < st->nackers; i++)
		if (strcmp(st->ackers[i].member, member) == 0)
			return &st->ackers[i];
	struct incident_stats_acker *a = &st->ackers[st->nackers++];
	wk_strlcpy(a->member, member, sizeof(a->member));
	return a;
}

static struct incident_stats_channel *channel_of(struct incident_stats *st, const char *name)
{
	for (size_t i = 0; i < st->nchannels; i++)
		if (strcmp(st->channels[i].channel, name) == 0)
			return &st->channels[i];
	struct incident_stats_channel *c = &st->channels[st->nchannels++];
	wk_strlcpy(c->channel, name, sizeof(c->channel));
	return c;
}

void incident_stats_build(struct incident_stats_row *rows, size_t nrows, const struct incident_stats_message *msgs,
			  size_t nmsgs, struct incident_stats *st)
{
	int64_t *ack = xcalloc(nrows + 1, sizeof(*ack)), *res = xcalloc(nrows + 1, sizeof(*res));
	size_t nack = 0, nres = 0;

	memset(st, 0, sizeof(*st));
	st->incidents = nrows;
	st->services = xcalloc(nrows + 1, sizeof(*st->services));
	st->ackers = xcalloc(nrows + 1, sizeof(*st->ackers));
	st->channels = xcalloc(nmsgs + 1, sizeof(*st->channels));
	for (size_t i = 0; i < nrows; i++) {
		struct incident_stats_row *row = &rows[i];
		int sev = incident_severity_parse(row->severity);
		struct incident_stats_service *svc = service_of(st, row->service);

		if (sev < 0)
			sev = SEV_ERROR;
		st->by_severity[sev]++;
		svc->by_severity[sev]++;
		svc->total++;
		row->delivered = 0;
		if (row->acked_ms > 0) {
			ack[nack++] = since_created(row, row->acked_ms);
			if (row->acked_by[0])
				acker_of(st, row->acked_by)->count++;
		} else {
			st->unacked++;
		}
		if (row->resolved_ms > 0)
			res[nres++] = since_created(row, row->resolved_ms);
		else
			st->unresolved++;
		st->pages += row->pages;
		st->pages_unknown += row->pages_unknown;
	}
	for (size_t i = 0; i < nmsgs; i++) {
		const struct incident_stats_message *m = &msgs[i];
		struct incident_stats_channel *c;

		if (m->row >= nrows)
			continue;
		c = channel_of(st, m->channel);
		c->messages++;
		switch (m->outcome) {
		case DELIVERY_DELIVERED:
			c->delivered++;
			rows[m->row].delivered++;
			break;
		case DELIVERY_FAILED:
			c->failed++;
			break;
		case DELIVERY_CANCELLED:
			c->cancelled++;
			break;
		case DELIVERY_PENDING:
			c->pending++;
			break;
		}
	}
	duration(ack, nack, &st->ack);
	duration(res, nres, &st->resolve);
	if (st->nservices > 1)
		qsort(st->services, st->nservices, sizeof(*st->services), by_service);
	if (st->nackers > 1)
		qsort(st->ackers, st->nackers, sizeof(*st->ackers), by_acker);
	if (st->nchannels > 1)
		qsort(st->channels, st->nchannels, sizeof(*st->channels), by_channel);
	free(ack);
	free(res);
}

void incident_stats_free(struct incident_stats *st)
{
	free(st->services);
	free(st->ackers);
	free(st->channels);
	memset(st, 0, sizeof(*st));
}

/* "2026-12-01T09:00:00+01:00": unambiguous for a spreadsheet, local to the reader. */
static void iso_local(const struct tz *z, int64_t t, char *out, size_t size)
{
	struct tz_local l;
	int off;

	tz_to_local(z, t, &l);
	off = l.utc_offset < 0 ? -l.utc_offset : l.utc_offset;
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", l.year, l.month, l.day, l.hour, l.minute,
		 l.second, l.utc_offset < 0 ? '-' : '+', off / 3600, off % 3600 / 60);
}

int incident_stats_csv(const struct incident_stats_row *rows, size_t nrows, const struct tz *z, struct buf *out)
{
	if (buf_adds(out, "number,opened,severity,service,type,acknowledged_by,time_to_ack_s,time_to_resolve_s,"
			  "pages,delivered\r\n") < 0)
		return -1;
	for (size_t i = 0; i < nrows; i++) {
		const struct incident_stats_row *row = &rows[i];
		char c[10][64];

		snprintf(c[0], sizeof(c[0]), "INC-%" PRId64, row->n);
		iso_local(z, row->created_ms / 1000, c[1], sizeof(c[1]));
		wk_strlcpy(c[2], row->severity, sizeof(c[2]));
		wk_strlcpy(c[3], row->service, sizeof(c[3]));
		wk_strlcpy(c[4], row->type, sizeof(c[4]));
		wk_strlcpy(c[5], row->acked_ms > 0 ? row->acked_by : "", sizeof(c[5]));
		c[6][0] = c[7][0] = '\0';
		if (row->acked_ms > 0)
			snprintf(c[6], sizeof(c[6]), "%" PRId64, since_created(row, row->acked_ms));
		if (row->resolved_ms > 0)
			snprintf(c[7], sizeof(c[7]), "%" PRId64, since_created(row, row->resolved_ms));
		snprintf(c[8], sizeof(c[8]), "%" PRId64, row->pages);
		snprintf(c[9], sizeof(c[9]), "%" PRId64, row->delivered);
		for (int k = 0; k < 10; k++)
			if (report_csv_cell(out, c[k], k == 9) < 0)
				return -1;
	}
	return 0;
}
