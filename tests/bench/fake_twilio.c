/* fake_twilio - a small, fast stand-in for Twilio's Messages API, for
 * benchmarks only (shared/protocols/twilio.md section 3.1).
 *
 *   fake_twilio PORT ACCOUNT_SID AUTH_TOKEN
 *
 * Listens on 127.0.0.1:PORT (0 = any free port), prints the port as the first
 * line on stdout, serves until SIGTERM/SIGINT, then prints its counts on
 * stderr. The HTTP server (one thread, epoll, keep-alive, pipelining,
 * Expect: 100-continue) is fake_http.c; this file holds the routes.
 *
 *   POST /2010-04-01/Accounts/{AccountSid}/Messages.json
 *        Basic auth must be AccountSid:AuthToken (else 401, code 20003); the
 *        form needs To (E.164), From or MessagingServiceSid, Body (<= 1600
 *        characters); 201 with a Message resource, or 400 with Twilio's codes.
 *   GET  /stats
 *        {"requests","created","rejected","connections_now","connections_max",
 *         "connections_total","first_ms","last_ms"}: requests counts every
 *        answered request except /stats itself, so requests = created +
 *        rejected; first_ms/last_ms are CLOCK_REALTIME ms of the first and
 *        last 201 (0 before any). connections_now includes the connection
 *        asking.
 *   anything else: 404. Headers over 16 KiB or bodies over 64 KiB: 413, close.
 */
#include "fake_http.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define BODY_MAX_CHARS 1600

static struct {
	uint64_t requests, created, rejected;
	int64_t first_ms, last_ms;
} stats;

static const char *account_sid;
static size_t account_sid_len;
static char *expected_auth;	/* base64(sid:token) */
static size_t expected_auth_len;
static uint64_t sid_prefix, sid_counter;

/* Form values decode here: single thread, and each request is answered before the next. */
static char form_arena[FH_BODY_MAX];

static void twilio_error(struct fh_conn *c, const struct fh_req *r, int status, int code,
			 const char *message, const char *extra)
{
	char num[64];
	int n;

	fh_clear();
	if (code) {
		n = snprintf(num, sizeof(num), "{\"code\":%d,\"message\":", code);
		fh_put(num, (size_t)n);
	} else {
		fh_lit("{\"message\":");
	}
	fh_json(message, strlen(message));
	if (code) {
		n = snprintf(num, sizeof(num), ",\"more_info\":\"https://www.twilio.com/docs/errors/%d\"", code);
		fh_put(num, (size_t)n);
	}
	n = snprintf(num, sizeof(num), ",\"status\":%d}", status);
	fh_put(num, (size_t)n);
	fh_respond(c, r, status, extra);
	stats.requests++;
	stats.rejected++;
}

/* ---- form parsing ---- */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes into dst (which has room for n bytes); returns the decoded length.
 * A broken %-escape is kept literally, as lenient servers do. */
static size_t form_decode(const char *s, size_t n, char *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			dst[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			dst[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			dst[o++] = s[i];
		}
	}
	return o;
}

struct field {
	const char *name;
	const char *v;	/* NULL when absent */
	size_t len;
};

enum { F_TO, F_FROM, F_MSS, F_BODY, F_COUNT };

/* First occurrence of each wanted field wins; values decode into form_arena,
 * whose size bounds the total since decoding never grows a value. */
static void form_parse(const char *body, size_t n, struct field *f)
{
	size_t arena = 0, i = 0;

	while (i < n) {
		const char *pair = body + i;
		const char *amp = memchr(pair, '&', n - i);
		size_t plen = amp ? (size_t)(amp - pair) : n - i;
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;
		char key[32];

		i += plen + 1;
		if (klen == 0 || klen >= sizeof(key) * 3)
			continue;
		/* Keys are decoded too: %54o is a legal spelling of To. */
		size_t kdec = form_decode(pair, klen, form_arena + arena);
		if (kdec >= sizeof(key))
			continue;
		memcpy(key, form_arena + arena, kdec);
		key[kdec] = '\0';
		for (int k = 0; k < F_COUNT; k++) {
			if (f[k].v || strcmp(key, f[k].name) != 0)
				continue;
			const char *val = eq ? eq + 1 : pair + plen;
			size_t vlen = eq ? plen - klen - 1 : 0;
			f[k].v = form_arena + arena;
			f[k].len = form_decode(val, vlen, form_arena + arena);
			arena += f[k].len;
			break;
		}
	}
}

static bool e164_valid(const char *s, size_t n)
{
	if (n < 9 || n > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	for (size_t i = 2; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static size_t utf8_chars(const char *s, size_t n, bool *ascii)
{
	size_t chars = 0;

	*ascii = true;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			*ascii = false;
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			chars++;
	}
	return chars;
}

/* ---- handlers ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 2822 date, as Twilio writes it; formatted once per second because
 * strftime is the slowest step of a create otherwise. */
static const char *rfc2822_now(void)
{
	static char buf[64];
	static time_t cached = -1;
	time_t t = time(NULL);

	if (t != cached) {
		struct tm tm;
		gmtime_r(&t, &tm);
		if (strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
			buf[0] = '\0';
		cached = t;
	}
	return buf;
}

static void handle_create(struct fh_conn *c, const struct fh_req *r, const char *path_sid, size_t path_sid_len)
{
	struct field f[F_COUNT] = {
		[F_TO] = { "To", NULL, 0 },
		[F_FROM] = { "From", NULL, 0 },
		[F_MSS] = { "MessagingServiceSid", NULL, 0 },
		[F_BODY] = { "Body", NULL, 0 },
	};
	char sid[35], num[128];
	const char *auth = r->auth;
	size_t alen = r->auth_len, chars, segments;
	bool ascii;
	int n;

	if (alen > 6 && strncasecmp(auth, "Basic ", 6) == 0) {
		auth += 6;
		alen -= 6;
		while (alen && (*auth == ' ' || *auth == '\t')) {
			auth++;
			alen--;
		}
	} else {
		alen = 0;
	}
	if (alen != expected_auth_len || memcmp(auth, expected_auth, alen) != 0) {
		twilio_error(c, r, 401, 20003, "Authenticate",
			     "WWW-Authenticate: Basic realm=\"Twilio API\"\r\n");
		return;
	}
	if (path_sid_len != account_sid_len || memcmp(path_sid, account_sid, path_sid_len) != 0) {
		twilio_error(c, r, 404, 20404, "The requested resource was not found", NULL);
		return;
	}

	form_parse(r->body, r->body_len, f);
	if (!f[F_TO].v || f[F_TO].len == 0) {
		twilio_error(c, r, 400, 21604, "A 'To' phone number is required.", NULL);
		return;
	}
	if ((!f[F_FROM].v || !f[F_FROM].len) && (!f[F_MSS].v || !f[F_MSS].len)) {
		twilio_error(c, r, 400, 21603, "A 'From' phone number is required.", NULL);
		return;
	}
	if (!f[F_BODY].v || f[F_BODY].len == 0) {
		twilio_error(c, r, 400, 21602, "Message body is required.", NULL);
		return;
	}
	if (!e164_valid(f[F_TO].v, f[F_TO].len)) {
		twilio_error(c, r, 400, 21211, "Invalid 'To' Phone Number", NULL);
		return;
	}
	chars = utf8_chars(f[F_BODY].v, f[F_BODY].len, &ascii);
	if (chars > BODY_MAX_CHARS) {
		twilio_error(c, r, 400, 21617,
			     "The concatenated message body exceeds the 1600 character limit.", NULL);
		return;
	}
	/* GSM-7 approximated as ASCII; UCS-2 otherwise (twilio.md 3.1). */
	if (ascii)
		segments = chars <= 160 ? 1 : (chars + 152) / 153;
	else
		segments = chars <= 70 ? 1 : (chars + 66) / 67;

	snprintf(sid, sizeof(sid), "SM%016" PRIx64 "%016" PRIx64, sid_prefix, ++sid_counter);
	const char *date = rfc2822_now();
	bool has_from = f[F_FROM].v && f[F_FROM].len;

	fh_clear();
	fh_lit("{\"account_sid\":");
	fh_json(account_sid, account_sid_len);
	fh_lit(",\"api_version\":\"2010-04-01\",\"body\":");
	fh_json(f[F_BODY].v, f[F_BODY].len);
	fh_lit(",\"date_created\":");
	fh_json(date, strlen(date));
	fh_lit(",\"date_sent\":null,\"date_updated\":");
	fh_json(date, strlen(date));
	fh_lit(",\"direction\":\"outbound-api\",\"error_code\":null,\"error_message\":null,\"from\":");
	fh_json(has_from ? f[F_FROM].v : NULL, f[F_FROM].len);
	fh_lit(",\"messaging_service_sid\":");
	fh_json(f[F_MSS].v && f[F_MSS].len ? f[F_MSS].v : NULL, f[F_MSS].len);
	n = snprintf(num, sizeof(num), ",\"num_media\":\"0\",\"num_segments\":\"%zu\"", segments);
	fh_put(num, (size_t)n);
	fh_lit(",\"price\":null,\"price_unit\":\"USD\",\"sid\":\"");
	fh_put(sid, 34);
	/* A service without From is "accepted" while Twilio picks a sender;
	 * with a From it is "queued" (twilio.md 3.1 fixture). */
	fh_lit(has_from ? "\",\"status\":\"queued\"" : "\",\"status\":\"accepted\"");
	fh_lit(",\"subresource_uris\":{\"media\":\"/2010-04-01/Accounts/");
	fh_put(path_sid, path_sid_len);
	fh_lit("/Messages/");
	fh_put(sid, 34);
	fh_lit("/Media.json\"},\"to\":");
	fh_json(f[F_TO].v, f[F_TO].len);
	fh_lit(",\"uri\":\"/2010-04-01/Accounts/");
	fh_put(path_sid, path_sid_len);
	fh_lit("/Messages/");
	fh_put(sid, 34);
	fh_lit(".json\"}");

	int64_t t = now_ms();
	if (!stats.first_ms)
		stats.first_ms = t;
	stats.last_ms = t;
	stats.created++;
	stats.requests++;
	fh_respond(c, r, 201, NULL);
}

static void handle_stats(struct fh_conn *c, const struct fh_req *r)
{
	char body[512];
	int n;

	n = snprintf(body, sizeof(body),
		     "{\"requests\":%" PRIu64 ",\"created\":%" PRIu64 ",\"rejected\":%" PRIu64
		     ",\"connections_now\":%" PRIu64 ",\"connections_max\":%" PRIu64
		     ",\"connections_total\":%" PRIu64 ",\"first_ms\":%" PRId64 ",\"last_ms\":%" PRId64 "}",
		     stats.requests, stats.created, stats.rejected, fh_conns.now, fh_conns.max,
		     fh_conns.total, stats.first_ms, stats.last_ms);
	fh_clear();
	fh_put(body, (size_t)n);
	/* Not counted: /stats must not disturb the numbers it reports. */
	fh_respond(c, r, 200, NULL);
}

static void route(struct fh_conn *c, const struct fh_req *r)
{
	static const char prefix[] = "/2010-04-01/Accounts/";
	static const char suffix[] = "/Messages.json";
	const size_t plen = sizeof(prefix) - 1, slen = sizeof(suffix) - 1;
	size_t path_len = r->path_len;
	const char *p = r->target;

	if (fh_path_is(r, "/stats") && fh_method_is(r, "GET")) {
		handle_stats(c, r);
		return;
	}
	if (path_len > plen + slen && memcmp(p, prefix, plen) == 0 &&
	    memcmp(p + path_len - slen, suffix, slen) == 0 &&
	    !memchr(p + plen, '/', path_len - plen - slen)) {
		if (!fh_method_is(r, "POST")) {
			twilio_error(c, r, 405, 20004, "Method not allowed", "Allow: POST\r\n");
			return;
		}
		handle_create(c, r, p + plen, path_len - plen - slen);
		return;
	}
	twilio_error(c, r, 404, 20404, "The requested resource was not found", NULL);
}

static void fail(struct fh_conn *c, const struct fh_req *r, int status)
{
	const char *msg = status == 413 ? "Request too large" :
			  status == 501 ? "Transfer-Encoding is not supported" : "Malformed request";
	twilio_error(c, r, status, 0, msg, NULL);
}

/* ---- setup ---- */

static char *base64(const char *s, size_t n, size_t *out_len)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	char *out = fh_xrealloc(NULL, 4 * ((n + 2) / 3) + 1);

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (uint32_t)(unsigned char)s[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

int main(int argc, char **argv)
{
	static const struct fh_handlers h = { route, fail };
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PORT ACCOUNT_SID AUTH_TOKEN\n", argv[0]);
		return 2;
	}
	account_sid = argv[2];
	account_sid_len = strlen(account_sid);
	{
		size_t tl = strlen(argv[3]), cl = account_sid_len + 1 + tl;
		char *cred = fh_xrealloc(NULL, cl + 1);
		memcpy(cred, account_sid, account_sid_len);
		cred[account_sid_len] = ':';
		memcpy(cred + account_sid_len + 1, argv[3], tl + 1);
		expected_auth = base64(cred, cl, &expected_auth_len);
		free(cred);
	}
	/* Random high half so SIDs differ between runs, counter so they never
	 * repeat within one. */
	if (getrandom(&sid_prefix, sizeof(sid_prefix), 0) != (ssize_t)sizeof(sid_prefix))
		sid_prefix = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 40);

	rc = fh_serve("fake_twilio", argv[1], &h);
	free(expected_auth);
	if (rc)
		return rc;
	fprintf(stderr, "fake_twilio: requests=%" PRIu64 " created=%" PRIu64 " rejected=%" PRIu64
		" connections_max=%" PRIu64 "\n", stats.requests, stats.created, stats.rejected,
		fh_conns.max);
	return 0;
}
