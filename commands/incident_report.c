/* incident_report.c - `/incident report [service S] [FROM] [TO]`: how
 * incidents went in a period, and a CSV link with one row per incident.
 *
 * The period is read like `/oncall report`'s (bot/period.h), in the reader's
 * zone; the figures come from bot/incident_stats.h over what
 * bot/incident_report.h reads; the link is the same signed, expiring export
 * link (kind "incidents"). */
#include "bot/feeds.h"
#include "bot/incident_report.h"
#include "bot/incident_stats.h"
#include "bot/period.h"
#include "bot/service.h"
#include "bot/team.h"
#include "bot/tz.h"
#include "bot/util.h"
#include "bot/when.h"
#include "commands/incident.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Lines a list (services, who acknowledged) shows before counting the rest. */
#define SHOWN_MAX 15

static void durations(const char *what, const struct incident_stats_duration *d, int64_t missing,
		      const char *missing_word, struct reply *r)
{
	char med[48], p90[48];

	if (!d->n) {
		reply_section(r, "*Time to %s:* none was %s.", what, missing_word);
		return;
	}
	incident_stats_human(d->median_s, med, sizeof(med));
	incident_stats_human(d->p90_s, p90, sizeof(p90));
	reply_section(r, "*Time to %s:* median %s, 90th percentile %s (%zu %s, %" PRId64 " not).", what, med, p90,
		      d->n, missing_word, missing);
}

static void by_service(const struct incident_stats *st, struct buf *b)
{
	size_t shown = st->nservices < SHOWN_MAX ? st->nservices : SHOWN_MAX;

	for (size_t i = 0; i < shown; i++) {
		const struct incident_stats_service *s = &st->services[i];
		const char *sep = "";

		buf_printf(b, "• %s: %" PRId64 " (", s->service[0] ? s->service : "no service", s->total);
		for (int k = 0; k < SEV_COUNT; k++)
			if (s->by_severity[k]) {
				buf_printf(b, "%s%s %" PRId64, sep, incident_severity_name((enum incident_severity)k),
					   s->by_severity[k]);
				sep = ", ";
			}
		buf_adds(b, ")\n");
	}
	if (st->nservices > shown)
		buf_printf(b, "…and %zu more services (see the CSV).\n", st->nservices - shown);
}

static void ackers(const struct incident_stats *st, struct reply *r)
{
	struct buf b = BUF_INIT(4096);
	size_t shown = st->nackers < SHOWN_MAX ? st->nackers : SHOWN_MAX;

	for (size_t i = 0; i < shown; i++)
		buf_printf(&b, "%s<@%s> %" PRId64, i ? ", " : "", st->ackers[i].member, st->ackers[i].count);
	if (st->nackers > shown)
		buf_printf(&b, " and %zu more", st->nackers - shown);
	reply_section(r, "*Acknowledged by:* %s.", b.len ? buf_cstr(&b) : "nobody");
	buf_free(&b);
}

static void channels(const struct incident_stats *st, struct reply *r)
{
	struct buf b = BUF_INIT(4096);

	buf_printf(&b, "*Pages:* %" PRId64 ".", st->pages);
	for (size_t i = 0; i < st->nchannels; i++) {
		const struct incident_stats_channel *c = &st->channels[i];
		int64_t finished = c->delivered + c->failed;

		buf_printf(&b, "\n• %s: %" PRId64 " message%s, %" PRId64 " delivered", c->channel, c->messages,
			   c->messages == 1 ? "" : "s", c->delivered);
		if (finished)
			buf_printf(&b, " (%" PRId64 "%%)", (c->delivered * 100 + finished / 2) / finished);
		if (c->failed)
			buf_printf(&b, ", %" PRId64 " failed", c->failed);
		if (c->cancelled)
			buf_printf(&b, ", %" PRId64 " cancelled by an acknowledgement", c->cancelled);
		if (c->pending)
			buf_printf(&b, ", %" PRId64 " still on their way", c->pending);
	}
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
}

static void render(const struct incident_stats *st, const struct incident_report_data *d, struct reply *r)
{
	struct buf b = BUF_INIT(8192);

	buf_printf(&b, "*%zu incident%s*", st->incidents, st->incidents == 1 ? "" : "s");
	for (int k = 0; k < SEV_COUNT; k++)
		buf_printf(&b, "%s%" PRId64 " %s", k ? ", " : ": ", st->by_severity[k],
			   incident_severity_name((enum incident_severity)k));
	buf_adds(&b, "\n");
	by_service(st, &b);
	reply_section(r, "%s", buf_cstr(&b));
	durations("acknowledge", &st->ack, st->unacked, "acknowledged", r);
	durations("resolve", &st->resolve, st->unresolved, "resolved", r);
	ackers(st, r);
	channels(st, r);
	buf_reset(&b);
	buf_adds(&b, "_Percentiles are nearest-rank: the time at rank ⌈p/100 × N⌉ of the N times in order, so "
		     "each is one that happened. Delivered means sent with no failed delivery report; the rate "
		     "leaves out messages cancelled by an acknowledgement and those still on their way._");
	if (st->pages_unknown)
		buf_printf(&b, "\n_%" PRId64 " page%s not counted by channel: messages are kept on record for a "
			       "week._", st->pages_unknown, st->pages_unknown == 1 ? " is" : "s are");
	if (d->capped)
		buf_printf(&b, "\n_This period has %" PRId64 " incidents; only the newest %d were counted._",
			   d->in_period, INCIDENT_REPORT_MAX);
	reply_section(r, "%s", buf_cstr(&b));
	buf_free(&b);
}

enum cmd_result incident_report_cmd(struct cmd_ctx *ctx, int argc, char **argv, struct reply *r)
{
	const struct tz *z = when_zone(ctx->tz, ctx->cfg->rotation.zone);
	char service[INCIDENT_NAME_MAX] = "", esc[160], a[64], b[64];
	struct period period;
	struct incident_report_data data;
	struct incident_stats st;
	int64_t now = ctx->now_ms / 1000, from, to;
	int i = 0, rc;

	if (argc >= 1 && strcasecmp(argv[0], "service") == 0) {
		struct service svc;

		if (argc < 2) {
			reply_textf(r, "Name the service: `/incident report service api`.");
			return CMD_REFUSED;
		}
		if (!team_name_valid(argv[1]) || (rc = service_get(ctx->store, ctx->org_id, argv[1], &svc)) > 0) {
			reply_textf(r, "There is no service `%s`. `/incident service list` shows them.",
				    reply_escape(esc, sizeof(esc), argv[1]));
			return CMD_REFUSED;
		}
		if (rc < 0)
			return CMD_STORE_ERROR;
		wk_strlcpy(service, svc.name, sizeof(service));
		i = 2;
	}
	if (period_parse(argc - i, argv + i, "/incident report [service S]", "/incident report", &period, r) < 0 ||
	    period_resolve(&period, z, now, &from, &to, r) < 0)
		return CMD_REFUSED;
	if (incident_report_load(ctx->store, ctx->org_id, service, from * 1000, to * 1000, &data) < 0)
		return CMD_STORE_ERROR;
	incident_stats_build(data.rows, data.nrows, data.msgs, data.nmsgs, &st);
	reply_textf(r, "Incident report%s%s, %s to %s (%s)", service[0] ? " for service " : "", service,
		    when_format(z, from, a, sizeof(a)), when_format(z, to, b, sizeof(b)), tz_name(z));
	render(&st, &data, r);
	incident_stats_free(&st);
	incident_report_data_free(&data);
	return feeds_export_link(ctx, FEEDS_EXPORT_INCIDENTS, service, from, to, tz_name(z), r) < 0 ? CMD_STORE_ERROR
												      : CMD_OK;
}
