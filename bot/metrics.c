/* metrics.c - see metrics.h
 *
 * Series are created on first use in small tables under one mutex: the label
 * sets are few (routes x statuses, commands x subcommands x outcomes), so a
 * linear scan beats a hash here and keeps the code obvious. */
#include "bot/metrics.h"
#include "bot/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef WK_VERSION
#define WK_VERSION "dev"
#endif

static const double latency_buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					  0.1, 0.25, 0.5, 1, 2.5, 5 };
#define NBUCKETS (sizeof(latency_buckets) / sizeof(latency_buckets[0]))
#define MAX_SERIES 256

struct histogram {
	uint64_t buckets[NBUCKETS];
	uint64_t count;
	double sum;
};

struct series {
	uint32_t hash;		/* of labels: most lookups compare only this */
	char labels[160];	/* already rendered: route="x",status="200" */
	uint64_t count;
	struct histogram h;
};

struct family {
	struct series *s;
	size_t n;
};

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static struct family http_requests, commands, outbound, http_limits, lateness, roundtrips, http_daemon;
static struct family sm_envelopes, sm_acks, sm_reconnects;
static atomic_llong sm_open;
static atomic_uint_fast64_t redis_errors;
static atomic_uint_fast64_t notify_unverified;
static atomic_uint_fast64_t escalation_stuck, escalation_rescheduled, incidents_unrouted;
static atomic_uint_fast64_t loop_answered;
static atomic_llong queue_depth;
static _Atomic double queue_oldest;

static void histogram_observe(struct histogram *h, double seconds)
{
	for (size_t i = 0; i < NBUCKETS; i++)
		if (seconds <= latency_buckets[i])
			h->buckets[i]++;
	h->count++;
	h->sum += seconds;
}

/* out = name="value",... for the n (name, value) pairs, values escaped. Built
 * by hand (no printf): a few of these run for every request. Label values
 * come from our own tables, never from users; escape anyway. Cut short (still
 * well formed up to the cut) when out is too small, which our names never are. */
static void labels_render(char *out, size_t size, const char *const *pairs, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		const char *name = pairs[2 * i], *v = pairs[2 * i + 1];
		size_t nl = strlen(name);
		if (o + nl + 4 >= size)
			break;
		if (i)
			out[o++] = ',';
		memcpy(out + o, name, nl);
		o += nl;
		out[o++] = '=';
		out[o++] = '"';
		for (; *v && o + 3 < size; v++) {
			if (*v == '"' || *v == '\\' || *v == '\n')
				out[o++] = '\\';
			out[o++] = *v == '\n' ? 'n' : *v;
		}
		out[o++] = '"';
	}
	out[o] = '\0';
}

static uint32_t labels_hash(const char *labels)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *labels; labels++)
		h = (h ^ (unsigned char)*labels) * 16777619u;
	return h;
}

/* Lock held. A family has up to MAX_SERIES series (round trips: one per
 * command and script), looked up on every request. */
static struct series *family_get(struct family *f, const char *labels)
{
	uint32_t h = labels_hash(labels);

	for (size_t i = 0; i < f->n; i++)
		if (f->s[i].hash == h && strcmp(f->s[i].labels, labels) == 0)
			return &f->s[i];
	if (f->n == MAX_SERIES)
		return NULL;
	f->s = xrealloc(f->s, (f->n + 1) * sizeof(*f->s));
	memset(&f->s[f->n], 0, sizeof(*f->s));
	f->s[f->n].hash = h;
	wk_strlcpy(f->s[f->n].labels, labels, sizeof(f->s[f->n].labels));
	return &f->s[f->n++];
}

/* One event in series `labels` of f: counted, and timed when duration_us >= 0. */
static void family_add(struct family *f, const char *labels, int64_t duration_us)
{
	struct series *s;

	pthread_mutex_lock(&metrics_lock);
	s = family_get(f, labels);
	if (s) {
		s->count++;
		if (duration_us >= 0)
			histogram_observe(&s->h, (double)duration_us / 1e6);
	}
	pthread_mutex_unlock(&metrics_lock);
}

void metrics_http_request(const char *route, int status, int64_t duration_us)
{
	char labels[160], code[4] = { '0', '0', '0', '\0' };

	if (status >= 100 && status <= 999) {
		code[0] = (char)('0' + status / 100);
		code[1] = (char)('0' + status / 10 % 10);
		code[2] = (char)('0' + status % 10);
	}
	labels_render(labels, sizeof(labels), (const char *const[]){ "route", route, "status", code }, 2);
	family_add(&http_requests, labels, duration_us);
}

void metrics_http_daemon(const char *route, int64_t duration_us)
{
	char labels[160];

	labels_render(labels, sizeof(labels), (const char *const[]){ "route", route }, 1);
	family_add(&http_daemon, labels, duration_us);
}

void metrics_redis_roundtrip(const char *command)
{
	char labels[160];

	labels_render(labels, sizeof(labels), (const char *const[]){ "command", command }, 1);
	family_add(&roundtrips, labels, -1);
}

void metrics_command(const char *command, const char *subcommand, const char *outcome,
		     int64_t duration_us)
{
	char labels[160];

	labels_render(labels, sizeof(labels),
		      (const char *const[]){ "command", command, "subcommand", subcommand, "outcome", outcome }, 3);
	family_add(&commands, labels, duration_us);
}

void metrics_outbound(const char *target, const char *outcome)
{
	char labels[160];

	labels_render(labels, sizeof(labels), (const char *const[]){ "target", target, "outcome", outcome }, 2);
	family_add(&outbound, labels, -1);
}

void metrics_http_limit(const char *reason)
{
	char labels[160];

	labels_render(labels, sizeof(labels), (const char *const[]){ "reason", reason }, 1);
	family_add(&http_limits, labels, -1);
}

static void count_one(struct family *f, const char *name, const char *value)
{
	char labels[160];

	labels_render(labels, sizeof(labels), (const char *const[]){ name, value }, 1);
	family_add(f, labels, -1);
}

void metrics_slack_socket_envelope(const char *type)
{
	count_one(&sm_envelopes, "type", type);
}

void metrics_slack_socket_ack(const char *kind)
{
	count_one(&sm_acks, "kind", kind);
}

void metrics_slack_socket_reconnect(const char *reason)
{
	count_one(&sm_reconnects, "reason", reason);
}

void metrics_slack_socket_open(int delta)
{
	atomic_fetch_add(&sm_open, delta);
}

void metrics_notify_queue(int64_t depth, double oldest_seconds)
{
	atomic_store(&queue_depth, (long long)depth);
	atomic_store(&queue_oldest, oldest_seconds);
}

void metrics_notify_unverified(void)
{
	atomic_fetch_add(&notify_unverified, 1);
}

void metrics_timer_lateness(const char *kind, int64_t late_ms)
{
	char labels[160];
	struct series *s;

	labels_render(labels, sizeof(labels), (const char *const[]){ "kind", kind }, 1);
	pthread_mutex_lock(&metrics_lock);
	s = family_get(&lateness, labels);
	if (s)
		histogram_observe(&s->h, late_ms > 0 ? (double)late_ms / 1000.0 : 0.0);
	pthread_mutex_unlock(&metrics_lock);
}

void metrics_escalation_stuck(void)
{
	atomic_fetch_add(&escalation_stuck, 1);
}

void metrics_escalation_rescheduled(void)
{
	atomic_fetch_add(&escalation_rescheduled, 1);
}

void metrics_incident_unrouted(void)
{
	atomic_fetch_add(&incidents_unrouted, 1);
}

void metrics_loop_answered(void)
{
	atomic_fetch_add(&loop_answered, 1);
}

void metrics_redis_error(void)
{
	atomic_fetch_add(&redis_errors, 1);
}

/* One counter without labels: its HELP (help is one sentence), TYPE and value. */
static void render_counter(struct buf *out, const char *name, const char *help, uint64_t value)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
		   (unsigned long long)value);
}

/* A counter family: HELP, TYPE, one line per label set. Under metrics_lock. */
static void render_family(struct buf *out, const char *name, const char *help, const struct family *f)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (size_t i = 0; i < f->n; i++)
		buf_printf(out, "%s{%s} %llu\n", name, f->s[i].labels, (unsigned long long)f->s[i].count);
}

static void render_histogram(struct buf *out, const char *name, const struct series *s)
{
	for (size_t b = 0; b < NBUCKETS; b++)
		buf_printf(out, "%s_bucket{%s,le=\"%g\"} %llu\n", name, s->labels, latency_buckets[b],
			   (unsigned long long)s->h.buckets[b]);
	buf_printf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, s->labels,
		   (unsigned long long)s->h.count);
	buf_printf(out, "%s_sum{%s} %.6f\n", name, s->labels, s->h.sum);
	buf_printf(out, "%s_count{%s} %llu\n", name, s->labels, (unsigned long long)s->h.count);
}

int metrics_render(struct buf *out)
{
	buf_adds(out, "# HELP watchkeeper_build_info Build information.\n"
		      "# TYPE watchkeeper_build_info gauge\n");
	buf_printf(out, "watchkeeper_build_info{version=\"%s\"} 1\n", WK_VERSION);
	render_counter(out, "watchkeeper_redis_errors_total",
		       "Redis commands that failed or returned an error.",
		       atomic_load(&redis_errors));

	render_counter(out, "watchkeeper_notify_unverified_total",
		       "Messages sent again after an unknown outcome "
		       "without being able to check whether the first one arrived (a possible duplicate).",
		       atomic_load(&notify_unverified));
	render_counter(out, "watchkeeper_escalation_stuck_total",
		       "Escalation steps that kept failing past the "
		       "timer's attempts (they are retried, never dropped).",
		       atomic_load(&escalation_stuck));
	render_counter(out, "watchkeeper_escalation_rescheduled_total",
		       "Overdue escalation steps whose timer the "
		       "auditor found missing and armed again.",
		       atomic_load(&escalation_rescheduled));
	render_counter(out, "watchkeeper_commands_on_loop_total",
		       "Slash commands answered on the HTTP loop thread through its pipelined "
		       "Redis connection, without a worker.",
		       atomic_load(&loop_answered));
	render_counter(out, "watchkeeper_incidents_unrouted_total",
		       "Incidents whose escalation could reach nobody "
		       "after filtering, so the org's owners were paged instead.",
		       atomic_load(&incidents_unrouted));
	buf_adds(out, "# HELP watchkeeper_notify_queue_depth Notifications queued and not yet acknowledged.\n"
		      "# TYPE watchkeeper_notify_queue_depth gauge\n");
	buf_printf(out, "watchkeeper_notify_queue_depth %lld\n", (long long)atomic_load(&queue_depth));
	buf_adds(out, "# HELP watchkeeper_notify_queue_oldest_seconds Age of the oldest such notification.\n"
		      "# TYPE watchkeeper_notify_queue_oldest_seconds gauge\n");
	buf_printf(out, "watchkeeper_notify_queue_oldest_seconds %.3f\n", atomic_load(&queue_oldest));

	buf_adds(out, "# HELP watchkeeper_slack_socket_connections Slack Socket Mode connections open (said hello).\n"
		      "# TYPE watchkeeper_slack_socket_connections gauge\n");
	buf_printf(out, "watchkeeper_slack_socket_connections %lld\n", (long long)atomic_load(&sm_open));

	pthread_mutex_lock(&metrics_lock);
	render_family(out, "watchkeeper_slack_socket_envelopes_total", "Slack Socket Mode envelopes received, by type.",
		      &sm_envelopes);
	render_family(out, "watchkeeper_slack_socket_acks_total", "Slack Socket Mode envelopes acknowledged, by kind "
		      "(plain, payload: a command's answer, working: the answer follows at response_url).", &sm_acks);
	render_family(out, "watchkeeper_slack_socket_reconnects_total", "Slack Socket Mode connections opened "
		      "again, by reason.", &sm_reconnects);
	buf_adds(out, "# HELP watchkeeper_http_requests_total HTTP requests by route and status.\n"
		      "# TYPE watchkeeper_http_requests_total counter\n");
	for (size_t i = 0; i < http_requests.n; i++)
		buf_printf(out, "watchkeeper_http_requests_total{%s} %llu\n", http_requests.s[i].labels,
			   (unsigned long long)http_requests.s[i].count);
	buf_adds(out, "# HELP watchkeeper_http_request_duration_seconds Time to answer an HTTP request.\n"
		      "# TYPE watchkeeper_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < http_requests.n; i++)
		render_histogram(out, "watchkeeper_http_request_duration_seconds", &http_requests.s[i]);
	buf_adds(out, "# HELP watchkeeper_http_daemon_seconds Daemon time per request: from its last byte read "
		      "to the first byte of the answer written.\n"
		      "# TYPE watchkeeper_http_daemon_seconds histogram\n");
	for (size_t i = 0; i < http_daemon.n; i++)
		render_histogram(out, "watchkeeper_http_daemon_seconds", &http_daemon.s[i]);
	buf_adds(out, "# HELP watchkeeper_redis_roundtrips_total Round trips to Redis by command (a script by "
		      "its name).\n"
		      "# TYPE watchkeeper_redis_roundtrips_total counter\n");
	for (size_t i = 0; i < roundtrips.n; i++)
		buf_printf(out, "watchkeeper_redis_roundtrips_total{%s} %llu\n", roundtrips.s[i].labels,
			   (unsigned long long)roundtrips.s[i].count);
	buf_adds(out, "# HELP watchkeeper_http_connections_cut_total HTTP connections cut by a limit: "
		      "timeout (request not read in time), evicted (oldest reading one, server full), "
		      "refused (server full), busy (reserve used by a non-probe request).\n"
		      "# TYPE watchkeeper_http_connections_cut_total counter\n");
	for (size_t i = 0; i < http_limits.n; i++)
		buf_printf(out, "watchkeeper_http_connections_cut_total{%s} %llu\n", http_limits.s[i].labels,
			   (unsigned long long)http_limits.s[i].count);
	buf_adds(out, "# HELP watchkeeper_commands_total Chat commands run, by outcome.\n"
		      "# TYPE watchkeeper_commands_total counter\n");
	for (size_t i = 0; i < commands.n; i++)
		buf_printf(out, "watchkeeper_commands_total{%s} %llu\n", commands.s[i].labels,
			   (unsigned long long)commands.s[i].count);
	buf_adds(out, "# HELP watchkeeper_command_duration_seconds Time a command handler took.\n"
		      "# TYPE watchkeeper_command_duration_seconds histogram\n");
	for (size_t i = 0; i < commands.n; i++)
		render_histogram(out, "watchkeeper_command_duration_seconds", &commands.s[i]);
	buf_adds(out, "# HELP watchkeeper_timer_lateness_seconds How long after its due instant (Redis's clock) "
		      "a timer fired, first attempts, by kind.\n"
		      "# TYPE watchkeeper_timer_lateness_seconds histogram\n");
	for (size_t i = 0; i < lateness.n; i++)
		render_histogram(out, "watchkeeper_timer_lateness_seconds", &lateness.s[i]);
	buf_adds(out, "# HELP watchkeeper_outbound_requests_total Outbound HTTP calls by target and outcome.\n"
		      "# TYPE watchkeeper_outbound_requests_total counter\n");
	for (size_t i = 0; i < outbound.n; i++)
		buf_printf(out, "watchkeeper_outbound_requests_total{%s} %llu\n", outbound.s[i].labels,
			   (unsigned long long)outbound.s[i].count);
	pthread_mutex_unlock(&metrics_lock);
	return 0;
}

void metrics_shutdown(void)
{
	pthread_mutex_lock(&metrics_lock);
	free(http_requests.s);
	free(commands.s);
	free(outbound.s);
	free(http_limits.s);
	free(lateness.s);
	free(roundtrips.s);
	free(http_daemon.s);
	free(sm_envelopes.s);
	free(sm_acks.s);
	free(sm_reconnects.s);
	memset(&sm_envelopes, 0, sizeof(sm_envelopes));
	memset(&sm_acks, 0, sizeof(sm_acks));
	memset(&sm_reconnects, 0, sizeof(sm_reconnects));
	memset(&roundtrips, 0, sizeof(roundtrips));
	memset(&http_daemon, 0, sizeof(http_daemon));
	memset(&http_limits, 0, sizeof(http_limits));
	memset(&lateness, 0, sizeof(lateness));
	memset(&http_requests, 0, sizeof(http_requests));
	memset(&commands, 0, sizeof(commands));
	memset(&outbound, 0, sizeof(outbound));
	pthread_mutex_unlock(&metrics_lock);
}
