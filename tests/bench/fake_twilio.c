/* fake_twilio - a small, fast stand-in for Twilio's Messages API, for
 * benchmarks only (shared/protocols/twilio.md section 3.1).
 *
 *   fake_twilio PORT ACCOUNT_SID AUTH_TOKEN
 *
 * Listens on 127.0.0.1:PORT (0 = any free port), prints the port as the first
 * line on stdout, serves until SIGTERM/SIGINT. One thread, epoll, keep-alive,
 * pipelining, Expect: 100-continue.
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
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX (16 * 1024)
#define BODY_MAX (64 * 1024)
/* Room for one maximal request plus the start of the next pipelined one. */
#define IN_MAX (HEAD_MAX + BODY_MAX + 4096)
#define IN_MIN 4096
/* Past this much unsent output we stop parsing, so a client that pipelines
 * without reading cannot make us buffer without bound. */
#define OUT_HIGH (256 * 1024)
/* After a fatal error we keep reading and dropping what the client still
 * sends, so our answer is not lost to a RST; this bounds that politeness. */
#define DRAIN_MAX (1024 * 1024)
#define BODY_MAX_CHARS 1600
#define MAX_EVENTS 256

struct conn {
	int fd;
	char *in;
	size_t in_len, in_cap;
	size_t scan;		/* header end search resumes here, relative to the request */
	char *out;
	size_t out_len, out_off, out_cap;
	bool sent_continue;	/* 100 Continue already sent for the pending request */
	bool stalled;		/* process() stopped at OUT_HIGH with input left */
	bool closing;		/* answer queued, then close */
	bool peer_eof;
	bool wr_shut;
	size_t drained;
	struct conn *prev, *next;
};

/* The parts of one request that the handlers need, pointing into conn->in
 * (valid until the next read). */
struct req {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	const char *auth;
	size_t auth_len;
	const char *body;
	size_t head_len;
	size_t body_len;
	bool http10;
	bool keep_alive;
	bool expect_continue;
};

static struct {
	uint64_t requests, created, rejected;
	uint64_t conn_now, conn_max, conn_total;
	int64_t first_ms, last_ms;
} stats;

static const char *account_sid;
static size_t account_sid_len;
static char *expected_auth;	/* base64(sid:token) */
static size_t expected_auth_len;
static uint64_t sid_prefix, sid_counter;
static struct conn *conns;
static int spare_fd = -1;

/* Shared scratch: single thread, and each request is answered before the next. */
static char form_arena[BODY_MAX];
static char *scratch;
static size_t scratch_len, scratch_cap;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		fputs("fake_twilio: out of memory\n", stderr);
		exit(1);
	}
	return q;
}

/* ---- output buffers ---- */

static void grow(char **p, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 4096;

	if (need <= *cap)
		return;
	while (c < need)
		c *= 2;
	*p = xrealloc(*p, c);
	*cap = c;
}

static void s_put(const char *s, size_t n)
{
	grow(&scratch, &scratch_cap, scratch_len + n);
	memcpy(scratch + scratch_len, s, n);
	scratch_len += n;
}

static void s_lit(const char *s)
{
	s_put(s, strlen(s));
}

/* JSON string (with quotes); NULL gives null. Control bytes and anything
 * that could end the string are escaped, other bytes pass through. */
static void s_json(const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	if (!s) {
		s_lit("null");
		return;
	}
	grow(&scratch, &scratch_cap, scratch_len + 6 * n + 2);
	char *o = scratch + scratch_len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	scratch_len = (size_t)(o - scratch);
}

static void out_put(struct conn *c, const char *s, size_t n)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	grow(&c->out, &c->out_cap, c->out_len + n);
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 501: return "Not Implemented";
	default: return "Unknown";
	}
}

/* Queue status + headers + the scratch buffer as body. */
static void respond(struct conn *c, int status, bool keep_alive, bool http10, const char *extra)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s%s\r\n",
		     status, reason(status), scratch_len,
		     !keep_alive ? "Connection: close\r\n" : http10 ? "Connection: keep-alive\r\n" : "",
		     extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		n = 0;
	out_put(c, head, (size_t)n);
	out_put(c, scratch, scratch_len);
	if (!keep_alive)
		c->closing = true;
}

static void twilio_error(struct conn *c, int status, int code, const char *message,
			 bool keep_alive, bool http10, const char *extra)
{
	char num[64];
	int n;

	scratch_len = 0;
	if (code) {
		n = snprintf(num, sizeof(num), "{\"code\":%d,\"message\":", code);
		s_put(num, (size_t)n);
	} else {
		s_lit("{\"message\":");
	}
	s_json(message, strlen(message));
	if (code) {
		n = snprintf(num, sizeof(num), ",\"more_info\":\"https://www.twilio.com/docs/errors/%d\"", code);
		s_put(num, (size_t)n);
	}
	n = snprintf(num, sizeof(num), ",\"status\":%d}", status);
	s_put(num, (size_t)n);
	respond(c, status, keep_alive, http10, extra);
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

static void handle_create(struct conn *c, const struct req *r, const char *path_sid, size_t path_sid_len)
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
	bool ascii, ka = r->keep_alive;
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
		twilio_error(c, 401, 20003, "Authenticate", ka, r->http10,
			     "WWW-Authenticate: Basic realm=\"Twilio API\"\r\n");
		return;
	}
	if (path_sid_len != account_sid_len || memcmp(path_sid, account_sid, path_sid_len) != 0) {
		twilio_error(c, 404, 20404, "The requested resource was not found", ka, r->http10, NULL);
		return;
	}

	form_parse(r->body, r->body_len, f);
	if (!f[F_TO].v || f[F_TO].len == 0) {
		twilio_error(c, 400, 21604, "A 'To' phone number is required.", ka, r->http10, NULL);
		return;
	}
	if ((!f[F_FROM].v || !f[F_FROM].len) && (!f[F_MSS].v || !f[F_MSS].len)) {
		twilio_error(c, 400, 21603, "A 'From' phone number is required.", ka, r->http10, NULL);
		return;
	}
	if (!f[F_BODY].v || f[F_BODY].len == 0) {
		twilio_error(c, 400, 21602, "Message body is required.", ka, r->http10, NULL);
		return;
	}
	if (!e164_valid(f[F_TO].v, f[F_TO].len)) {
		twilio_error(c, 400, 21211, "Invalid 'To' Phone Number", ka, r->http10, NULL);
		return;
	}
	chars = utf8_chars(f[F_BODY].v, f[F_BODY].len, &ascii);
	if (chars > BODY_MAX_CHARS) {
		twilio_error(c, 400, 21617,
			     "The concatenated message body exceeds the 1600 character limit.", ka,
			     r->http10, NULL);
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

	scratch_len = 0;
	s_lit("{\"account_sid\":");
	s_json(account_sid, account_sid_len);
	s_lit(",\"api_version\":\"2010-04-01\",\"body\":");
	s_json(f[F_BODY].v, f[F_BODY].len);
	s_lit(",\"date_created\":");
	s_json(date, strlen(date));
	s_lit(",\"date_sent\":null,\"date_updated\":");
	s_json(date, strlen(date));
	s_lit(",\"direction\":\"outbound-api\",\"error_code\":null,\"error_message\":null,\"from\":");
	s_json(has_from ? f[F_FROM].v : NULL, f[F_FROM].len);
	s_lit(",\"messaging_service_sid\":");
	s_json(f[F_MSS].v && f[F_MSS].len ? f[F_MSS].v : NULL, f[F_MSS].len);
	n = snprintf(num, sizeof(num), ",\"num_media\":\"0\",\"num_segments\":\"%zu\"", segments);
	s_put(num, (size_t)n);
	s_lit(",\"price\":null,\"price_unit\":\"USD\",\"sid\":\"");
	s_put(sid, 34);
	/* A service without From is "accepted" while Twilio picks a sender;
	 * with a From it is "queued" (twilio.md 3.1 fixture). */
	s_lit(has_from ? "\",\"status\":\"queued\"" : "\",\"status\":\"accepted\"");
	s_lit(",\"subresource_uris\":{\"media\":\"/2010-04-01/Accounts/");
	s_put(path_sid, path_sid_len);
	s_lit("/Messages/");
	s_put(sid, 34);
	s_lit("/Media.json\"},\"to\":");
	s_json(f[F_TO].v, f[F_TO].len);
	s_lit(",\"uri\":\"/2010-04-01/Accounts/");
	s_put(path_sid, path_sid_len);
	s_lit("/Messages/");
	s_put(sid, 34);
	s_lit(".json\"}");

	int64_t t = now_ms();
	if (!stats.first_ms)
		stats.first_ms = t;
	stats.last_ms = t;
	stats.created++;
	stats.requests++;
	respond(c, 201, ka, r->http10, NULL);
}

static void handle_stats(struct conn *c, const struct req *r)
{
	char body[512];
	int n;

	n = snprintf(body, sizeof(body),
		     "{\"requests\":%" PRIu64 ",\"created\":%" PRIu64 ",\"rejected\":%" PRIu64
		     ",\"connections_now\":%" PRIu64 ",\"connections_max\":%" PRIu64
		     ",\"connections_total\":%" PRIu64 ",\"first_ms\":%" PRId64 ",\"last_ms\":%" PRId64 "}",
		     stats.requests, stats.created, stats.rejected, stats.conn_now, stats.conn_max,
		     stats.conn_total, stats.first_ms, stats.last_ms);
	scratch_len = 0;
	s_put(body, (size_t)n);
	/* Not counted: /stats must not disturb the numbers it reports. */
	respond(c, 200, r->keep_alive, r->http10, NULL);
}

static bool method_is(const struct req *r, const char *m)
{
	size_t n = strlen(m);
	return r->method_len == n && memcmp(r->method, m, n) == 0;
}

static void route(struct conn *c, const struct req *r)
{
	static const char prefix[] = "/2010-04-01/Accounts/";
	static const char suffix[] = "/Messages.json";
	const size_t plen = sizeof(prefix) - 1, slen = sizeof(suffix) - 1;
	const char *q = memchr(r->target, '?', r->target_len);
	size_t path_len = q ? (size_t)(q - r->target) : r->target_len;
	const char *p = r->target;

	if (path_len == 6 && memcmp(p, "/stats", 6) == 0 && method_is(r, "GET")) {
		handle_stats(c, r);
		return;
	}
	if (path_len > plen + slen && memcmp(p, prefix, plen) == 0 &&
	    memcmp(p + path_len - slen, suffix, slen) == 0 &&
	    !memchr(p + plen, '/', path_len - plen - slen)) {
		if (!method_is(r, "POST")) {
			twilio_error(c, 405, 20004, "Method not allowed", r->keep_alive, r->http10,
				     "Allow: POST\r\n");
			return;
		}
		handle_create(c, r, p + plen, path_len - plen - slen);
		return;
	}
	twilio_error(c, 404, 20404, "The requested resource was not found", r->keep_alive, r->http10, NULL);
}

/* ---- HTTP framing ---- */

/* Length of the head (through the blank line) of the request at in[start],
 * or 0 if not complete yet. Accepts bare LF line ends too; c->scan keeps the
 * search linear when a head arrives over many reads. */
static size_t find_head_end(struct conn *c, size_t start)
{
	const char *p = c->in + start;
	size_t n = c->in_len - start, i = c->scan;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		if (!nl)
			break;
		size_t j = (size_t)(nl - p) + 1;
		if (j < n && p[j] == '\n')
			return j + 1;
		if (j + 1 < n && p[j] == '\r' && p[j + 1] == '\n')
			return j + 2;
		if (j >= n || (j + 1 >= n && p[j] == '\r')) {
			c->scan = j - 1;	/* undecided until more bytes come */
			return 0;
		}
		i = j;
	}
	c->scan = n;
	return 0;
}

static bool token_has(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; i < n;) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return true;
	}
	return false;
}

/* 0 ok; otherwise the HTTP status to fail with (connection then closes). */
static int parse_head(const char *h, size_t head_len, struct req *r)
{
	const char *end = h + head_len, *line = h, *eol;
	bool have_cl = false, close_tok = false, ka_tok = false;

	memset(r, 0, sizeof(*r));
	r->head_len = head_len;

	/* Request line: METHOD SP TARGET SP HTTP/1.x */
	eol = memchr(line, '\n', (size_t)(end - line));
	size_t ll = (size_t)(eol - line);
	if (ll && line[ll - 1] == '\r')
		ll--;
	const char *sp1 = memchr(line, ' ', ll);
	if (!sp1 || sp1 == line)
		return 400;
	const char *rest = sp1 + 1;
	const char *sp2 = memchr(rest, ' ', ll - (size_t)(rest - line));
	if (!sp2 || sp2 == rest || rest[0] != '/')
		return 400;
	const char *ver = sp2 + 1;
	size_t vl = ll - (size_t)(ver - line);
	if (vl == 8 && memcmp(ver, "HTTP/1.1", 8) == 0)
		r->http10 = false;
	else if (vl == 8 && memcmp(ver, "HTTP/1.0", 8) == 0)
		r->http10 = true;
	else
		return 400;
	r->method = line;
	r->method_len = (size_t)(sp1 - line);
	r->target = rest;
	r->target_len = (size_t)(sp2 - rest);

	for (line = eol + 1; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		ll = (size_t)(eol - line);
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return 400;	/* obsolete line folding */
		const char *colon = memchr(line, ':', ll);
		if (!colon || colon == line)
			return 400;
		size_t nl = (size_t)(colon - line);
		const char *v = colon + 1, *ve = line + ll;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		size_t vlen = (size_t)(ve - v);

		if (nl == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
			size_t val = 0;
			if (vlen == 0)
				return 400;
			for (size_t i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9')
					return 400;
				if (val > BODY_MAX)
					return 413;
				val = val * 10 + (size_t)(v[i] - '0');
			}
			if (val > BODY_MAX)
				return 413;
			/* Differing repeats are a smuggling vector; refuse them. */
			if (have_cl && val != r->body_len)
				return 400;
			have_cl = true;
			r->body_len = val;
		} else if (nl == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			return 501;
		} else if (nl == 13 && strncasecmp(line, "Authorization", 13) == 0) {
			r->auth = v;
			r->auth_len = vlen;
		} else if (nl == 10 && strncasecmp(line, "Connection", 10) == 0) {
			close_tok |= token_has(v, vlen, "close");
			ka_tok |= token_has(v, vlen, "keep-alive");
		} else if (nl == 6 && strncasecmp(line, "Expect", 6) == 0) {
			r->expect_continue = vlen == 12 && strncasecmp(v, "100-continue", 12) == 0;
		}
	}
	r->keep_alive = r->http10 ? ka_tok && !close_tok : !close_tok;
	if (r->http10)
		r->expect_continue = false;
	return 0;
}

static void fail_close(struct conn *c, int status)
{
	const char *msg = status == 413 ? "Request too large" :
			  status == 501 ? "Transfer-Encoding is not supported" : "Malformed request";
	twilio_error(c, status, 0, msg, false, false, NULL);
}

/* Answer every complete request in c->in; leaves a partial one at in[0]. */
static void process(struct conn *c)
{
	size_t start = 0;

	c->stalled = false;
	while (!c->closing) {
		if (c->out_len - c->out_off > OUT_HIGH) {
			c->stalled = true;
			break;
		}
		/* Stray CRLFs between requests are allowed (RFC 9112 2.2). */
		while (start < c->in_len && (c->in[start] == '\r' || c->in[start] == '\n')) {
			start++;
			c->scan = 0;
		}
		size_t avail = c->in_len - start;
		if (!avail)
			break;
		size_t head_len = find_head_end(c, start);
		if (!head_len) {
			if (avail > HEAD_MAX)
				fail_close(c, 413);
			break;
		}
		if (head_len > HEAD_MAX) {
			fail_close(c, 413);
			break;
		}
		struct req r;
		int err = parse_head(c->in + start, head_len, &r);
		if (err) {
			fail_close(c, err);
			break;
		}
		if (avail < head_len + r.body_len) {
			if (r.expect_continue && !c->sent_continue) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
				out_put(c, cont, sizeof(cont) - 1);
				c->sent_continue = true;
			}
			/* The request moves to in[0] below. */
			grow(&c->in, &c->in_cap, head_len + r.body_len);
			break;
		}
		r.body = c->in + start + head_len;
		route(c, &r);
		start += head_len + r.body_len;
		c->scan = 0;
		c->sent_continue = false;
	}
	if (start) {
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
	}
}

/* ---- connections ---- */

static int ep;

static void conn_close(struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->in);
	free(c->out);
	free(c);
	stats.conn_now--;
}

/* 1 = everything sent, 0 = socket full, -1 = dead. */
static int flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		} else {
			return -1;
		}
	}
	c->out_off = c->out_len = 0;
	return 1;
}

/* Read and discard until EOF after our final answer; true when done. */
static bool drain(struct conn *c)
{
	char sink[16384];

	if (!c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	for (;;) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
		if (n > 0) {
			c->drained += (size_t)n;
			if (c->drained > DRAIN_MAX)
				return true;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
		}
	}
}

/* Edge-triggered: keep going until the kernel says EAGAIN on whichever side
 * we are waiting for, or we would never be woken again. */
static void on_conn(struct conn *c)
{
	for (;;) {
		int f = flush_out(c);
		if (f < 0) {
			conn_close(c);
			return;
		}
		size_t pending = c->out_len - c->out_off;
		if (c->stalled && !c->closing && pending <= OUT_HIGH) {
			process(c);
			continue;
		}
		if (c->closing || (c->peer_eof && !c->stalled)) {
			if (f == 0)
				return;	/* EPOLLOUT brings us back */
			if (c->peer_eof || drain(c))
				conn_close(c);
			return;
		}
		if (pending > OUT_HIGH)
			return;	/* flush hit EAGAIN; wait for EPOLLOUT before reading more */

		if (c->in_cap - c->in_len < 1024 && c->in_cap < IN_MAX)
			grow(&c->in, &c->in_cap, c->in_cap + 1024);
		if (c->in_len == c->in_cap) {
			/* Unreachable with the limits in process(); refuse rather than spin. */
			fail_close(c, 413);
			continue;
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			process(c);
		} else if (n == 0) {
			c->peer_eof = true;
			process(c);
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (c->out_len - c->out_off && flush_out(c) < 0)
				conn_close(c);
			return;
		} else if (errno != EINTR) {
			conn_close(c);
			return;
		}
	}
}

static void on_accept(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
				/* Out of descriptors: accept and drop one so the
				 * edge-triggered listener does not stall with a
				 * full backlog forever. */
				close(spare_fd);
				fd = accept(lfd, NULL, NULL);
				if (fd >= 0)
					close(fd);
				spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				continue;
			}
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->in_cap = IN_MIN;
		c->in = malloc(c->in_cap);
		if (!c->in) {
			free(c);
			close(fd);
			continue;
		}
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->next = conns;
		if (conns)
			conns->prev = c;
		conns = c;
		stats.conn_total++;
		if (++stats.conn_now > stats.conn_max)
			stats.conn_max = stats.conn_now;
	}
}

/* ---- setup ---- */

static char *base64(const char *s, size_t n, size_t *out_len)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	char *out = xrealloc(NULL, 4 * ((n + 2) / 3) + 1);

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
	char *end;
	unsigned long port;
	struct rlimit rl;
	sigset_t sigs;
	int lfd, sfd, one = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PORT ACCOUNT_SID AUTH_TOKEN\n", argv[0]);
		return 2;
	}
	errno = 0;
	port = strtoul(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || port > 65535) {
		fprintf(stderr, "fake_twilio: bad port '%s'\n", argv[1]);
		return 2;
	}
	account_sid = argv[2];
	account_sid_len = strlen(account_sid);
	{
		size_t tl = strlen(argv[3]), cl = account_sid_len + 1 + tl;
		char *cred = xrealloc(NULL, cl + 1);
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

	/* Benchmarks open many connections; take whatever the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	/* Through a signalfd so a signal can never slip in between checks. */
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0)
		die("sigprocmask");
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind");
	if (listen(lfd, 4096) < 0)
		die("listen");
	socklen_t alen = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0)
		die("getsockname");
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = &lfd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll_ctl");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &sfd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0)
		die("epoll_ctl");

	printf("%u\n", (unsigned)ntohs(addr.sin_port));
	fflush(stdout);

	for (bool running = true; running;) {
		struct epoll_event evs[MAX_EVENTS];
		int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &lfd)
				on_accept(lfd);
			else if (evs[i].data.ptr == &sfd)
				running = false;
			else
				on_conn(evs[i].data.ptr);
		}
	}

	while (conns)
		conn_close(conns);
	close(lfd);
	close(sfd);
	close(ep);
	if (spare_fd >= 0)
		close(spare_fd);
	free(expected_auth);
	free(scratch);
	fprintf(stderr, "fake_twilio: requests=%" PRIu64 " created=%" PRIu64 " rejected=%" PRIu64
		" connections_max=%" PRIu64 "\n", stats.requests, stats.created, stats.rejected,
		stats.conn_max);
	return 0;
}
