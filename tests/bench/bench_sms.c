/* bench_sms - SMS fan-out through the outbox: N notifications for N people,
 * queued with outbox_enqueue() (the path every page takes) while the release
 * daemon's senders drain them to the fast fake Twilio (tests/bench/fake_twilio.c).
 *
 *   bench_sms REDIS_URL ORG FAKE_STATS_URL DAEMON_PID N
 *
 * Seeds N members with phone numbers, queues the N messages as fast as one
 * connection can, then polls the fake's /stats until N were created (or 60 s
 * pass) while sampling the daemon's RSS. Prints the sustained rate (messages
 * over the span between the first and last send the fake saw), the peak number
 * of connections the daemon held open to the fake, and RSS. Exit 1 when not
 * every message arrived. Run by scripts/bench_sms.sh. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/outbox.h"
#include "bot/store.h"
#include "bot/util.h"

struct grow {
	char data[4096];
	size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct grow *g = arg;
	size_t take = size * n;

	if (take > sizeof(g->data) - 1 - g->len)
		take = sizeof(g->data) - 1 - g->len;
	memcpy(g->data + g->len, p, take);
	g->len += take;
	g->data[g->len] = '\0';
	return size * n;
}

struct stats {
	long long created, connections_max, first_ms, last_ms;
};

static int fake_stats(CURL *c, const char *url, struct stats *st)
{
	struct grow g = { .len = 0 };
	json_t *j;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
	if (curl_easy_perform(c) != CURLE_OK || !(j = json_loads(g.data, 0, NULL)))
		return -1;
	st->created = json_integer_value(json_object_get(j, "created"));
	st->connections_max = json_integer_value(json_object_get(j, "connections_max"));
	st->first_ms = json_integer_value(json_object_get(j, "first_ms"));
	st->last_ms = json_integer_value(json_object_get(j, "last_ms"));
	json_decref(j);
	return 0;
}

static long rss_kb(long pid, const char *field)
{
	char path[64], line[256];
	long kb = -1;
	size_t n = strlen(field);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: bench_sms REDIS_URL ORG FAKE_STATS_URL DAEMON_PID N\n");
		return 2;
	}
	const char *org = argv[2], *stats_url = argv[3];
	long pid = strtol(argv[4], NULL, 10), n = strtol(argv[5], NULL, 10);
	struct store *s = store_open(argv[1], 5000);
	CURL *c = curl_easy_init();
	struct stats st = { 0 };
	long rss_before = rss_kb(pid, "VmRSS"), rss_max = rss_before;

	if (!s || !c || n < 1 || n > 1000000) {
		fprintf(stderr, "bench_sms: bad arguments or no Redis\n");
		return 2;
	}
	/* People with phones, written the way member profiles are stored. */
	for (long i = 0; i < n; i++) {
		char key[160], phone[24], id[24];
		snprintf(id, sizeof(id), "U%08ld", i);
		snprintf(key, sizeof(key), "wk:{%s}:member:%s", org, id);
		snprintf(phone, sizeof(phone), "+1555%07ld", i);
		redisReply *r = store_command(s, "HSET %s role developer platform slack chat_id %s phone %s",
					      key, id, phone);
		if (!r) {
			fprintf(stderr, "bench_sms: Redis failed seeding\n");
			return 1;
		}
		freeReplyObject(r);
	}
	int64_t t0 = wk_mono_us();
	for (long i = 0; i < n; i++) {
		char id[24], nid[24];
		snprintf(id, sizeof(id), "U%08ld", i);
		struct outbox_message m = { .member = id, .channel = "sms", .kind = "bench",
					    .text = "Disk full on db1 (bench)" };
		if (outbox_enqueue(s, org, &m, wk_now_ms(), nid, sizeof(nid)) != 0) {
			fprintf(stderr, "bench_sms: enqueue failed at %ld\n", i);
			return 1;
		}
	}
	double enqueue_s = (double)(wk_mono_us() - t0) / 1e6;
	for (int waited = 0; waited < 600; waited++) {
		long kb = rss_kb(pid, "VmRSS");
		if (kb > rss_max)
			rss_max = kb;
		if (fake_stats(c, stats_url, &st) == 0 && st.created >= n)
			break;
		usleep(100000);
	}
	double span_s = (double)(st.last_ms - st.first_ms) / 1000.0;
	double rate = span_s > 0 ? (double)(st.created - 1) / span_s : 0;
	printf("queued %ld SMS notifications in %.2f s (%.0f/s from one connection)\n", n, enqueue_s,
	       (double)n / enqueue_s);
	printf("fake Twilio received %lld of %ld; first to last send %.2f s: %.0f SMS/s sustained\n",
	       st.created, n, span_s, rate);
	printf("peak connections to the fake Twilio: %lld (the daemon's, plus this probe's one)\n",
	       st.connections_max);
	printf("daemon RSS: %.1f MB before, %.1f MB peak during the fan-out (VmHWM %.1f MB)\n",
	       rss_before / 1024.0, rss_max / 1024.0, rss_kb(pid, "VmHWM") / 1024.0);
	printf("SMS fan-out >= 2000/s with <= 64 connections: %s\n",
	       st.created >= n && rate >= 2000 && st.connections_max <= 65 ? "ok" : "MISSED");
	curl_easy_cleanup(c);
	store_close(s);
	return st.created >= n ? 0 : 1;
}
