/* courier.c - see courier.h
 *
 * Every piece of work is a struct delivery on one FIFO queue. The courier
 * thread moves due deliveries into the multi handle (at most MAX_IN_FLIGHT at
 * once), drives the transfers and finishes them. Blocking calls carry a
 * struct waiter that lives on the caller's stack: the courier thread fills it
 * and sets done under courier.lock, then never touches it again; a caller that
 * gives up clears d->waiter under the same lock, so a late completion cannot
 * write into a stack frame that is gone. The delivery itself always belongs
 * to the courier (queue, active[] or the thread's hands) until it is freed. */
#include "bot/courier.h"
#include "bot/buf.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_IN_FLIGHT 16
#define MAX_ATTEMPTS 4
#define TIMEOUT_MS 10000
#define CALL_TIMEOUT_MS 10000
#define MAIL_TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_MS 5000L
/* A caller stops waiting this long after its own deadline even if the courier
 * never answered: a safety net against a wedged thread, not a normal path. */
#define WAIT_SLACK_MS 15000
#define MAX_URL 8192
#define MAX_HEADER_LINE 1024
/* Azure AD access tokens (Teams) run 1-3 KB; room to spare. */
#define MAX_BEARER 4096

enum kind {
	KIND_POST,	/* courier_post_json: fire and forget, retried */
	KIND_CALL,	/* courier_call: blocking HTTP */
	KIND_MAIL,	/* courier_send_mail: blocking SMTP */
};

struct waiter {
	bool done;
	struct courier_response resp;	/* filled by the courier before done is set */
};

struct delivery {
	enum kind kind;
	char *url;
	char *body;
	size_t len;
	size_t sent;		/* SMTP: bytes handed to the read callback */
	char target[48];
	char auth[MAX_BEARER + 32];	/* "Authorization: Bearer ..." or empty; never logged */
	int attempts;
	int64_t not_before_ms;	/* backoff (posts; wall clock) */
	int64_t deadline_ms;	/* blocking kinds: monotonic ms when the call gives up */
	bool get;		/* KIND_CALL: GET rather than POST */
	bool put;		/* KIND_CALL: PUT (with a body) rather than POST */
	struct curl_slist *headers;	/* HTTP headers, or the SMTP recipient list */
	CURL *easy;		/* while in flight */
	struct waiter *waiter;	/* blocking kinds; NULL once the caller gave up */
	bool started;		/* handed to libcurl (under courier.lock): the peer may
				 * have the request from here on */
	bool request_sent;	/* libcurl wrote request bytes (CURLINFO_REQUEST_SIZE > 0) */
	courier_guard guard;	/* checked on the courier thread right before it starts */
	void *guard_arg;
	struct delivery *next;

	/* What the answer said so far (courier thread only while in flight). */
	struct buf rbody;
	bool too_large;
	char link_next[1024];
	long remaining;
	int64_t reset;
	long retry_after;
	char operation_id[COURIER_OPERATION_ID_SIZE];
	char errbuf[CURL_ERROR_SIZE];

	/* KIND_MAIL */
	char *mail_from;	/* "<addr>" */
	char *user;
	char *password;		/* secret */
	long use_ssl;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t done;	/* broadcast whenever a waiter's done turns true */
	struct delivery *queue;	/* waiting to start (or to retry), oldest first */
	struct delivery *active[MAX_IN_FLIGHT];	/* courier thread only */
	size_t in_flight;
	bool stopping;
	bool calls_cancelled;	/* courier_cancel_calls(): blocking calls fail at once */
	bool running;		/* accepting work: between start and the end of stop */
	int64_t deadline_ms;
	CURLM *multi;
	pthread_t thread;
	bool started;
} courier = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
/* courier_guard_set(): the calling thread's guard for the calls it makes. */
static _Thread_local struct {
	courier_guard fn;
	void *arg;
} thread_guard;

void courier_guard_set(courier_guard fn, void *arg)
{
	thread_guard.fn = fn;
	thread_guard.arg = arg;
}
static atomic_bool insecure_warned;

/* The condition variable waits on the monotonic clock, so a wall-clock step
 * (NTP) can neither cut a call short nor stretch it. */
static void cond_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&courier.done, &a);
	pthread_condattr_destroy(&a);
}

static int64_t mono_ms(void)
{
	return wk_mono_us() / 1000;
}

static void delivery_free(struct delivery *d)
{
	curl_slist_free_all(d->headers);
	buf_free(&d->rbody);
	free(d->url);
	free(d->body);
	free(d->mail_from);
	free(d->user);
	if (d->password) {
		/* Not a guarantee (libcurl keeps its own copy), but don't leave ours lying around. */
		OPENSSL_cleanse(d->password, strlen(d->password));
		free(d->password);
	}
	free(d);
}

/* Copy text from a peer (or curl's error buffer, which may quote a peer) into a
 * sentence for logs and chat: control bytes become spaces. */
static void clean_copy(char *out, size_t size, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 1 < size; s++)
		out[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;
	while (o > 0 && out[o - 1] == ' ')
		o--;
	if (size)
		out[o] = '\0';
}

static void response_init(struct courier_response *r)
{
	memset(r, 0, sizeof(*r));
	r->ratelimit_remaining = -1;
	r->ratelimit_reset = -1;
	r->retry_after = -1;
}

void courier_response_free(struct courier_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

/* Hand a blocking call's outcome to its caller (if it still waits), then free
 * d. status 0 means failure with `error`. Any thread holding no lock. */
static void finish_sync(struct delivery *d, long status, const char *error)
{
	pthread_mutex_lock(&courier.lock);
	if (d->waiter) {
		struct courier_response *r = &d->waiter->resp;

		r->status = status;
		if (status) {
			r->body = buf_detach(&d->rbody, &r->body_len);
			wk_strlcpy(r->link_next, d->link_next, sizeof(r->link_next));
			r->ratelimit_remaining = d->remaining;
			r->ratelimit_reset = d->reset;
			r->retry_after = d->retry_after;
			wk_strlcpy(r->operation_id, d->operation_id, sizeof(r->operation_id));
		} else {
			clean_copy(r->error, sizeof(r->error), error);
			r->maybe_sent = d->request_sent;
		}
		d->waiter->done = true;
		d->waiter = NULL;
		pthread_cond_broadcast(&courier.done);
	}
	pthread_mutex_unlock(&courier.lock);
	delivery_free(d);
}

/* Queue d (FIFO). Returns -1 without queueing when the courier is not
 * running; the caller still owns d then. */
static int enqueue(struct delivery *d)
{
	struct delivery **pp;

	pthread_mutex_lock(&courier.lock);
	if (!courier.running || (d->waiter && courier.calls_cancelled)) {
		pthread_mutex_unlock(&courier.lock);
		return -1;
	}
	d->next = NULL;
	for (pp = &courier.queue; *pp; pp = &(*pp)->next)
		;
	*pp = d;
	/* Under the lock: courier_stop() clears multi only while holding it. */
	curl_multi_wakeup(courier.multi);
	pthread_mutex_unlock(&courier.lock);
	return 0;
}

void courier_post_json(const char *url, const char *bearer, char *body, size_t len,
		       const char *target)
{
	struct delivery *d = xcalloc(1, sizeof(*d));

	d->kind = KIND_POST;
	d->url = xstrdup(url);
	d->body = body;
	d->len = len;
	wk_strlcpy(d->target, target, sizeof(d->target));
	if (bearer && bearer[0])
		snprintf(d->auth, sizeof(d->auth), "Authorization: Bearer %s", bearer);
	if (enqueue(d) < 0) {
		log_error("courier.dropped", "target=%s reason=not_running", d->target);
		metrics_outbound(d->target, "failed");
		delivery_free(d);
	}
}

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static size_t keep_body(char *p, size_t size, size_t n, void *arg)
{
	struct delivery *d = arg;

	if (buf_add(&d->rbody, p, size * n) < 0) {
		d->too_large = true;
		return 0;	/* aborts the transfer with CURLE_WRITE_ERROR */
	}
	return size * n;
}

static bool token_eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* Whether a rel value (space-separated relation types) contains "next". */
static bool rel_has_next(const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j;

		while (i < n && v[i] == ' ')
			i++;
		for (j = i; j < n && v[j] != ' '; j++)
			;
		if (token_eq(v + i, j - i, "next"))
			return true;
		i = j;
	}
	return false;
}

/* RFC 8288: Link: <url>; rel="next", <url>; rel="last". Writes the first
 * rel=next target into out, or leaves out empty (also when it would not fit:
 * a cut URL is a wrong URL). The value came from a peer: every step is bounded
 * by the string's end. */
void courier_link_next(const char *v, char *out, size_t size)
{
	const char *p = v;

	if (size)
		out[0] = '\0';	/* "" unless a rel=next URL is found */
	while (*p) {
		const char *url, *url_end;
		bool next = false;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p != '<')
			return;
		url = ++p;
		url_end = strchr(url, '>');
		if (!url_end)
			return;
		p = url_end + 1;
		for (;;) {
			const char *name, *val;
			size_t nlen, vlen;

			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != ';')
				break;
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			name = p;
			while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
				p++;
			nlen = (size_t)(p - name);
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != '=')
				continue;
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '"') {
				val = ++p;
				while (*p && *p != '"')
					p++;
				vlen = (size_t)(p - val);
				if (*p == '"')
					p++;
			} else {
				val = p;
				while (*p && *p != ';' && *p != ',' && *p != ' ')
					p++;
				vlen = (size_t)(p - val);
			}
			if (token_eq(name, nlen, "rel") && rel_has_next(val, vlen))
				next = true;
		}
		if (next) {
			size_t ulen = (size_t)(url_end - url);

			if (ulen > 0 && ulen < size) {
				memcpy(out, url, ulen);
				out[ulen] = '\0';
			}
			return;
		}
		/* Skip anything unexpected up to the next link-value. */
		while (*p && *p != ',')
			p++;
	}
}

long courier_retry_after(const char *v)
{
	int64_t secs;

	if (wk_parse_i64(v, 0, 7 * 86400, &secs))
		return (long)secs;
	/* The other form RFC 9110 allows: an HTTP-date. */
	time_t when = curl_getdate(v, NULL);
	if (when <= 0)
		return -1;
	int64_t delta = (int64_t)when - wk_now_ms() / 1000;
	return delta < 0 ? 0 : (long)(delta > 7 * 86400 ? 7 * 86400 : delta);
}

/* libcurl hands over one complete header line per call (CRLF included). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct delivery *d = arg;
	size_t len = size * n, nlen;
	const char *colon;
	char v[1200];
	size_t vs, ve;

	if (len >= 5 && strncasecmp(p, "HTTP/", 5) == 0) {
		/* A new response (e.g. after 100 Continue): forget the previous one's headers. */
		d->link_next[0] = '\0';
		d->remaining = -1;
		d->reset = -1;
		d->retry_after = -1;
		d->operation_id[0] = '\0';
		return len;
	}
	colon = memchr(p, ':', len);
	if (!colon)
		return len;
	nlen = (size_t)(colon - p);
	vs = nlen + 1;
	ve = len;
	while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	while (ve > vs && (p[ve - 1] == '\r' || p[ve - 1] == '\n' || p[ve - 1] == ' ' || p[ve - 1] == '\t'))
		ve--;
	if (ve - vs >= sizeof(v))
		return len;	/* longer than anything we parse: ignore */
	memcpy(v, p + vs, ve - vs);
	v[ve - vs] = '\0';
	if (memchr(v, '\0', ve - vs))
		return len;

	if (token_eq(p, nlen, "Link")) {
		if (!d->link_next[0])
			courier_link_next(v, d->link_next, sizeof(d->link_next));
	} else if (token_eq(p, nlen, "X-RateLimit-Remaining")) {
		int64_t x;
		d->remaining = wk_parse_i64(v, 0, 1000000000, &x) ? (long)x : -1;
	} else if (token_eq(p, nlen, "X-RateLimit-Reset")) {
		int64_t x;
		d->reset = wk_parse_i64(v, 0, INT64_C(1) << 40, &x) ? x : -1;
	} else if (token_eq(p, nlen, "Retry-After")) {
		d->retry_after = courier_retry_after(v);
	} else if (token_eq(p, nlen, "X-Correlating-OperationId")) {
		clean_copy(d->operation_id, sizeof(d->operation_id), v);
	}
	return len;
}

static size_t read_mail(char *out, size_t size, size_t n, void *arg)
{
	struct delivery *d = arg;
	size_t room = size * n, left = d->len - d->sent;
	size_t k = left < room ? left : room;

	memcpy(out, d->body + d->sent, k);
	d->sent += k;
	return k;
}

/* libcurl rewinds when it must resend (a reused connection that turned out
 * dead); without this it would fail the mail instead. */
static int seek_mail(void *arg, curl_off_t offset, int origin)
{
	struct delivery *d = arg;

	if (origin != SEEK_SET || offset < 0 || (size_t)offset > d->len)
		return CURL_SEEKFUNC_CANTSEEK;
	d->sent = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static int64_t remaining_ms(const struct delivery *d)
{
	int64_t left = d->deadline_ms - mono_ms();
	return left < 1 ? 1 : left;
}

static CURL *setup_post(struct delivery *d)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	if (!d->headers) {
		d->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
		if (d->auth[0])
			d->headers = curl_slist_append(d->headers, d->auth);
	}
	curl_easy_setopt(e, CURLOPT_URL, d->url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
	return e;
}

static CURL *setup_call(struct delivery *d)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, d->url);
	if (d->get) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body ? d->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->len);
		if (d->put)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)remaining_ms(d));
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, d);
	/* A declared Content-Length over the cap fails before any byte is read. */
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)COURIER_MAX_RESPONSE);
	return e;
}

static CURL *setup_mail(struct delivery *d)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, d->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(e, CURLOPT_USE_SSL, d->use_ssl);
	if (d->user) {
		curl_easy_setopt(e, CURLOPT_USERNAME, d->user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, d->password ? d->password : "");
	}
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, d->mail_from);
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, d->headers);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_mail);
	curl_easy_setopt(e, CURLOPT_READDATA, d);
	curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_mail);
	curl_easy_setopt(e, CURLOPT_SEEKDATA, d);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)d->len);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)remaining_ms(d));
	return e;
}

/* libcurl calls this once connected, right before the request's first byte
 * goes out: the guard is asked again there, because an instance frozen
 * (SIGSTOP, a stalled VM) between start_transfer() and the send would
 * otherwise wake and send under a lease another instance has taken over. A
 * refusal here sends nothing (CURLINFO_REQUEST_SIZE stays 0), so the outcome
 * is "not sent", never unknown. */
static int guard_before_send(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct delivery *d = arg;

	(void)primary_ip;
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	if (d->guard && !d->guard(d->guard_arg)) {
		log_warn("courier.not_sent", "target=%s reason=\"its guard said no as the request was about to "
			 "leave (lease lost)\"", d->target);
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

/* Courier thread only. When no easy handle can be made, d is finished here
 * (failed), never left half-started. */
static void start_transfer(struct delivery *d)
{
	CURL *e;

	if (d->guard && !d->guard(d->guard_arg)) {
		log_warn("courier.not_started", "target=%s reason=\"its guard said no (lease lost)\"", d->target);
		metrics_outbound(d->target, "failed");
		finish_sync(d, 0, "not started: the sender no longer holds this message");
		return;
	}

	if (d->kind == KIND_POST)
		e = setup_post(d);
	else if (d->kind == KIND_CALL)
		e = setup_call(d);
	else
		e = setup_mail(d);
	if (!e) {
		log_error("courier.failed", "target=%s error=\"curl_easy_init failed\"", d->target);
		metrics_outbound(d->target, "failed");
		if (d->kind == KIND_POST)
			delivery_free(d);
		else
			finish_sync(d, 0, "could not set up the transfer (out of memory?)");
		return;
	}
	d->attempts++;
	d->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d->errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, d);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "watchkeeper/" WK_VERSION);
	if (d->guard) {
		curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, guard_before_send);
		curl_easy_setopt(e, CURLOPT_PREREQDATA, d);
	}
	curl_multi_add_handle(courier.multi, e);
	d->easy = e;
	for (size_t i = 0; i < MAX_IN_FLIGHT; i++)
		if (!courier.active[i]) {
			courier.active[i] = d;
			break;
		}
	pthread_mutex_lock(&courier.lock);
	courier.in_flight++;
	pthread_mutex_unlock(&courier.lock);
}

static bool retryable(CURLcode code, long status)
{
	if (code != CURLE_OK)
		return code != CURLE_URL_MALFORMAT && code != CURLE_UNSUPPORTED_PROTOCOL;
	return status == 429 || status >= 500;
}

static void finish_post(struct delivery *d, CURLcode code, long status)
{
	if (code == CURLE_OK && status >= 200 && status < 300) {
		metrics_outbound(d->target, "ok");
		log_debug("courier.sent", "target=%s status=%ld attempts=%d", d->target, status, d->attempts);
		delivery_free(d);
		return;
	}
	if (retryable(code, status) && d->attempts < MAX_ATTEMPTS) {
		/* 0.5 s, 1 s, 2 s: short, because a late chat reply loses value fast. */
		d->not_before_ms = wk_now_ms() + (250LL << d->attempts);
		metrics_outbound(d->target, "retry");
		log_warn("courier.retry", "target=%s status=%ld error=\"%s\" attempt=%d", d->target, status,
			 curl_easy_strerror(code), d->attempts);
		if (enqueue(d) < 0)
			delivery_free(d);	/* cannot happen: running until this thread ends */
		return;
	}
	metrics_outbound(d->target, "failed");
	log_error("courier.failed", "target=%s status=%ld error=\"%s\" attempts=%d", d->target, status,
		  curl_easy_strerror(code), d->attempts);
	delivery_free(d);
}

static void finish_call(struct delivery *d, CURLcode code, long status)
{
	char why[160], q[200];

	if (code == CURLE_OK && !d->too_large && status > 0) {
		metrics_outbound(d->target, status >= 200 && status < 300 ? "ok" : "rejected");
		log_debug("courier.answer", "target=%s status=%ld bytes=%zu", d->target, status,
			  d->rbody.len);
		finish_sync(d, status, NULL);
		return;
	}
	if (d->too_large || code == CURLE_FILESIZE_EXCEEDED)
		snprintf(why, sizeof(why), "the answer was larger than %d bytes",
			 COURIER_MAX_RESPONSE);
	else if (code == CURLE_OPERATION_TIMEDOUT)
		snprintf(why, sizeof(why), "no answer in time (%.120s)", d->errbuf[0] ? d->errbuf :
			 curl_easy_strerror(code));
	else
		snprintf(why, sizeof(why), "%s%s%.100s", curl_easy_strerror(code), d->errbuf[0] ? ": " : "",
			 d->errbuf);
	clean_copy(why, sizeof(why), why);
	metrics_outbound(d->target, "failed");
	log_warn("courier.call_failed", "target=%s error=%s", d->target, log_quote(q, sizeof(q), why));
	finish_sync(d, 0, why);
}

static void finish_mail(struct delivery *d, CURLcode code, long status)
{
	char why[160], q[200];

	if (code == CURLE_OK) {
		metrics_outbound(d->target, "ok");
		log_info("courier.mail_sent", "target=%s smtp_status=%ld", d->target, status);
		finish_sync(d, status ? status : 250, NULL);
		return;
	}
	if (code == CURLE_USE_SSL_FAILED)
		snprintf(why, sizeof(why), "the mail server does not offer STARTTLS, which smtp:// requires");
	else if (code == CURLE_LOGIN_DENIED)
		snprintf(why, sizeof(why), "the mail server rejected the SMTP login (check smtp.user and smtp.password)");
	else if (status >= 400)
		snprintf(why, sizeof(why), "the mail server refused it (SMTP %ld%s%.80s)", status,
			 d->errbuf[0] ? ": " : "", d->errbuf);
	else
		snprintf(why, sizeof(why), "%s%s%.100s", curl_easy_strerror(code), d->errbuf[0] ? ": " : "",
			 d->errbuf);
	clean_copy(why, sizeof(why), why);
	metrics_outbound(d->target, "failed");
	log_warn("courier.mail_failed", "target=%s smtp_status=%ld error=%s", d->target, status,
		 log_quote(q, sizeof(q), why));
	finish_sync(d, 0, why);
}

static void finish_transfer(CURLMsg *msg)
{
	struct delivery *d;
	long status = 0;
	CURLcode code = msg->data.result;

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
	curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
	{
		long sent_bytes = 0;
		/* Bytes of the request went out: a failure from here on (timeout, reset)
		 * leaves the peer's side unknown. */
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_REQUEST_SIZE, &sent_bytes) == CURLE_OK &&
		    sent_bytes > 0)
			d->request_sent = true;
	}
	curl_multi_remove_handle(courier.multi, msg->easy_handle);
	curl_easy_cleanup(msg->easy_handle);
	d->easy = NULL;
	for (size_t i = 0; i < MAX_IN_FLIGHT; i++)
		if (courier.active[i] == d)
			courier.active[i] = NULL;
	pthread_mutex_lock(&courier.lock);
	courier.in_flight--;
	pthread_mutex_unlock(&courier.lock);

	if (d->kind == KIND_POST)
		finish_post(d, code, status);
	else if (d->kind == KIND_CALL)
		finish_call(d, code, status);
	else
		finish_mail(d, code, status);
}

/* Move due deliveries from the queue into the multi handle, up to the cap;
 * fail blocking calls whose deadline passed while they waited for a slot. */
static void start_due(void)
{
	struct delivery **pp, *start = NULL, **tail = &start, *expired = NULL;
	int64_t now = wk_now_ms(), mono = mono_ms();
	size_t slots;

	pthread_mutex_lock(&courier.lock);
	slots = MAX_IN_FLIGHT - courier.in_flight;
	pp = &courier.queue;
	while (*pp) {
		struct delivery *d = *pp;

		if (d->kind != KIND_POST && (mono >= d->deadline_ms || !d->waiter)) {
			*pp = d->next;
			d->next = expired;
			expired = d;
		} else if (slots && d->not_before_ms <= now) {
			*pp = d->next;
			d->next = NULL;
			d->started = true;
			*tail = d;
			tail = &d->next;
			slots--;
		} else {
			pp = &d->next;
		}
	}
	pthread_mutex_unlock(&courier.lock);
	while (expired) {
		struct delivery *d = expired;

		expired = d->next;
		metrics_outbound(d->target, "failed");
		log_warn("courier.call_failed", "target=%s error=\"no free connection before the deadline\"",
			 d->target);
		finish_sync(d, 0, "timed out waiting for a free outbound connection");
	}
	while (start) {
		struct delivery *d = start;

		start = d->next;
		start_transfer(d);
	}
}

static void *courier_main(void *arg)
{
	(void)arg;
	for (;;) {
		int running = 0, left;
		CURLMsg *msg;

		start_due();
		curl_multi_perform(courier.multi, &running);
		while ((msg = curl_multi_info_read(courier.multi, &left)))
			if (msg->msg == CURLMSG_DONE)
				finish_transfer(msg);

		pthread_mutex_lock(&courier.lock);
		bool stop = courier.stopping &&
			    ((!courier.queue && courier.in_flight == 0) || wk_now_ms() > courier.deadline_ms);
		pthread_mutex_unlock(&courier.lock);
		if (stop)
			break;
		curl_multi_poll(courier.multi, NULL, 0, 100, NULL);
	}
	return NULL;
}

int courier_start(const struct config *cfg)
{
	(void)cfg;
	pthread_once(&cond_once, cond_init);
	courier.multi = curl_multi_init();
	if (!courier.multi)
		return -1;
	curl_multi_setopt(courier.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)MAX_IN_FLIGHT);
	courier.stopping = false;
	courier.calls_cancelled = false;
	courier.running = true;
	if (pthread_create(&courier.thread, NULL, courier_main, NULL) != 0) {
		courier.running = false;
		curl_multi_cleanup(courier.multi);
		courier.multi = NULL;
		return -1;
	}
	courier.started = true;
	return 0;
}

void courier_cancel_calls(void)
{
	pthread_mutex_lock(&courier.lock);
	courier.calls_cancelled = true;
	pthread_cond_broadcast(&courier.done);
	pthread_mutex_unlock(&courier.lock);
}

/* After the thread ended: drop posts (logged), fail blocking calls. */
static void drain_one(struct delivery *d)
{
	if (d->kind == KIND_POST) {
		log_error("courier.dropped", "target=%s reason=shutdown", d->target);
		metrics_outbound(d->target, "failed");
		delivery_free(d);
	} else {
		log_warn("courier.call_failed", "target=%s error=\"shutting down\"", d->target);
		finish_sync(d, 0, "the daemon is shutting down");
	}
}

void courier_stop(int64_t grace_ms)
{
	struct delivery *d, *left;
	CURLM *multi;

	if (!courier.started)
		return;
	pthread_mutex_lock(&courier.lock);
	courier.stopping = true;
	courier.deadline_ms = wk_now_ms() + grace_ms;
	curl_multi_wakeup(courier.multi);
	pthread_mutex_unlock(&courier.lock);
	pthread_join(courier.thread, NULL);

	/* From here every entry point refuses; what is left missed the grace period. */
	pthread_mutex_lock(&courier.lock);
	courier.running = false;
	left = courier.queue;
	courier.queue = NULL;
	multi = courier.multi;
	courier.multi = NULL;
	pthread_mutex_unlock(&courier.lock);

	while ((d = left)) {
		left = d->next;
		drain_one(d);
	}
	for (size_t i = 0; i < MAX_IN_FLIGHT; i++) {
		if (!(d = courier.active[i]))
			continue;
		courier.active[i] = NULL;
		curl_multi_remove_handle(multi, d->easy);
		curl_easy_cleanup(d->easy);
		d->easy = NULL;
		d->request_sent = true;	/* cut off mid-transfer: the peer may have it */
		drain_one(d);
	}
	courier.in_flight = 0;
	curl_multi_cleanup(multi);
	courier.started = false;
}

/* Queue d[0..n) and wait until every one has an outcome in w[i]. The
 * deliveries belong to the courier from here on. */
static void submit_and_wait(struct delivery **d, struct waiter *w, size_t n)
{
	struct timespec ts;
	int64_t until = 0;
	size_t left = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t give_up;

		if (!d[i])
			continue;	/* refused before queueing: w[i] is final */
		/* Read before enqueue(): from then on the courier may finish and free d[i]. */
		give_up = d[i]->deadline_ms + WAIT_SLACK_MS;
		d[i]->waiter = &w[i];
		if (enqueue(d[i]) < 0) {
			wk_strlcpy(w[i].resp.error, "the outbound courier is not running",
				   sizeof(w[i].resp.error));
			w[i].done = true;
			delivery_free(d[i]);
			d[i] = NULL;
			continue;
		}
		if (give_up > until)
			until = give_up;
		left++;
	}
	if (!left)
		return;
	ts.tv_sec = (time_t)(until / 1000);
	ts.tv_nsec = (long)(until % 1000) * 1000000L;
	pthread_mutex_lock(&courier.lock);
	for (;;) {
		bool all = true;
		int rc;

		for (size_t i = 0; i < n; i++)
			all = all && w[i].done;
		if (all)
			break;
		rc = courier.calls_cancelled ? ETIMEDOUT
					     : pthread_cond_timedwait(&courier.done, &courier.lock, &ts);
		if (rc != ETIMEDOUT)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (w[i].done)
				continue;
			/* !done means the courier still holds d[i]: detach so it never writes here.
			 * Once handed to libcurl the peer may have it: the outcome is unknown. */
			d[i]->waiter = NULL;
			w[i].done = true;
			w[i].resp.maybe_sent = d[i]->started;
			wk_strlcpy(w[i].resp.error, courier.calls_cancelled
				   ? "the daemon is shutting down" : "the outbound courier did not answer in time",
				   sizeof(w[i].resp.error));
			log_error("courier.call_abandoned", "target=%s", d[i]->target);
		}
	}
	pthread_mutex_unlock(&courier.lock);
}

static bool printable(const char *s, bool allow_space)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == 0x7f || (c < 0x20 && c != '\t') || (!allow_space && (c == ' ' || c == '\t')))
			return false;
	}
	return true;
}

static void call_refuse(struct courier_response *resp, const char *target, const char *why)
{
	char q[200];

	log_warn("courier.call_refused", "target=%s reason=%s", target, log_quote(q, sizeof(q), why));
	wk_strlcpy(resp->error, why, sizeof(resp->error));
}

/* Check req and copy it into a new delivery; NULL (with resp->error) when it
 * is refused. */
static struct delivery *call_prepare(const struct courier_request *req,
				     struct courier_response *resp)
{
	struct delivery *d;
	const char *target = req->target && req->target[0] ? req->target : "http";

	if (!req->url || !req->method) {
		call_refuse(resp, target, "invalid request: no URL or method");
		return NULL;
	}
	if (strlen(req->url) > MAX_URL || !printable(req->url, false) ||
	    (strncasecmp(req->url, "http://", 7) != 0 && strncasecmp(req->url, "https://", 8) != 0)) {
		call_refuse(resp, target, "invalid request: the URL must be http(s):// without spaces or control bytes");
		return NULL;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0 && strcmp(req->method, "PUT") != 0) {
		call_refuse(resp, target, "invalid request: method must be GET, POST or PUT");
		return NULL;
	}
	if (req->bearer && req->bearer[0] &&
	    (strlen(req->bearer) > MAX_BEARER || !printable(req->bearer, false))) {
		call_refuse(resp, target, "invalid request: the bearer token has bad bytes or is too long");
		return NULL;
	}
	for (const char *const *h = req->headers; h && *h; h++) {
		if (strlen(*h) > MAX_HEADER_LINE || !printable(*h, true) || !strchr(*h, ':')) {
			call_refuse(resp, target, "invalid request: a header line is malformed");
			return NULL;
		}
	}

	d = xcalloc(1, sizeof(*d));
	d->kind = KIND_CALL;
	d->guard = thread_guard.fn;
	d->guard_arg = thread_guard.arg;
	d->get = strcmp(req->method, "GET") == 0;
	d->put = strcmp(req->method, "PUT") == 0;
	d->url = xstrdup(req->url);
	if (!d->get) {
		d->body = xmalloc(req->body_len + 1);
		if (req->body_len)
			memcpy(d->body, req->body, req->body_len);
		d->body[req->body_len] = '\0';
		d->len = req->body_len;
	}
	wk_strlcpy(d->target, target, sizeof(d->target));
	for (const char *const *h = req->headers; h && *h; h++)
		d->headers = curl_slist_append(d->headers, *h);
	if (req->bearer && req->bearer[0]) {
		snprintf(d->auth, sizeof(d->auth), "Authorization: Bearer %s", req->bearer);
		d->headers = curl_slist_append(d->headers, d->auth);
	}
	/* libcurl would otherwise wait up to a second for "100 Continue" on larger POSTs. */
	if (!d->get)
		d->headers = curl_slist_append(d->headers, "Expect:");
	buf_init(&d->rbody, COURIER_MAX_RESPONSE);
	d->remaining = -1;
	d->reset = -1;
	d->retry_after = -1;
	d->deadline_ms = mono_ms() + (req->timeout_ms > 0 ? req->timeout_ms : CALL_TIMEOUT_MS);
	return d;
}

size_t courier_call_many(const struct courier_request *reqs, struct courier_response *resps,
			 size_t n)
{
	struct waiter w[COURIER_MAX_BATCH];
	struct delivery *d[COURIER_MAX_BATCH];
	size_t ok = 0;

	pthread_once(&cond_once, cond_init);
	for (size_t base = 0; base < n; base += COURIER_MAX_BATCH) {
		size_t k = n - base < COURIER_MAX_BATCH ? n - base : COURIER_MAX_BATCH;

		for (size_t i = 0; i < k; i++) {
			memset(&w[i], 0, sizeof(w[i]));
			response_init(&w[i].resp);
			d[i] = call_prepare(&reqs[base + i], &w[i].resp);
			if (!d[i])
				w[i].done = true;
		}
		submit_and_wait(d, w, k);
		for (size_t i = 0; i < k; i++) {
			struct courier_response *r = &resps[base + i];

			*r = w[i].resp;
			if (!r->body)
				r->body = xstrdup("");
			if (r->status)
				ok++;
		}
	}
	return ok;
}

int courier_call(const struct courier_request *req, struct courier_response *resp)
{
	return courier_call_many(req, resp, 1) == 1 ? 0 : -1;
}

/* "Name <a@b>" -> "<a@b>"; "a@b" -> "<a@b>". NULL when there is no usable address. */
static char *envelope_from(const char *from)
{
	const char *lt = strrchr(from, '<'), *gt;
	size_t n;
	char *out;

	if (lt) {
		gt = strchr(lt, '>');
		if (!gt)
			return NULL;
		lt++;
		n = (size_t)(gt - lt);
	} else {
		while (*from == ' ' || *from == '\t')
			from++;
		lt = from;
		n = strlen(from);
		while (n > 0 && (from[n - 1] == ' ' || from[n - 1] == '\t'))
			n--;
	}
	if (n == 0 || n > 254 || !memchr(lt, '@', n))
		return NULL;
	out = xmalloc(n + 3);
	out[0] = '<';
	memcpy(out + 1, lt, n);
	out[n + 1] = '>';
	out[n + 2] = '\0';
	if (!printable(out, false)) {
		free(out);
		return NULL;
	}
	return out;
}

/* The delivery for one mail, or NULL with err set when it can't be sent. */
static struct delivery *mail_delivery(const struct config *cfg, const struct courier_mail *m, char *err,
				      size_t errsz)
{
	struct delivery *d;
	const char *url = cfg->smtp_url ? cfg->smtp_url : "";
	char rcpt[260];
	long use_ssl;
	char *from;

	pthread_once(&cond_once, cond_init);
	if (!url[0]) {
		snprintf(err, errsz, "email is not configured (smtp.url / WK_SMTP_URL is empty)");
		return NULL;
	}
	if (strncmp(url, "smtp+insecure://", 16) == 0) {
		use_ssl = CURLUSESSL_NONE;
		if (!atomic_exchange(&insecure_warned, true))
			log_warn("courier.smtp_insecure",
				 "reason=\"smtp+insecure:// sends mail and SMTP credentials without TLS; for tests and local relays only\"");
	} else if (strncmp(url, "smtp://", 7) == 0 || strncmp(url, "smtps://", 8) == 0) {
		use_ssl = CURLUSESSL_ALL;
	} else {
		snprintf(err, errsz, "smtp.url must start with smtp://, smtps:// or smtp+insecure://");
		return NULL;
	}
	if (strlen(url) > MAX_URL || !printable(url, false)) {
		snprintf(err, errsz, "smtp.url contains spaces or control characters");
		return NULL;
	}
	if (!m->rcpt || !m->rcpt[0] || strlen(m->rcpt) > 254 || !printable(m->rcpt, false) ||
	    strpbrk(m->rcpt, "<>,") || !strchr(m->rcpt, '@')) {
		snprintf(err, errsz, "the recipient is not a plain email address");
		return NULL;
	}
	if (!m->message || m->len == 0) {
		snprintf(err, errsz, "the message is empty");
		return NULL;
	}
	from = envelope_from(cfg->smtp_from ? cfg->smtp_from : "");
	if (!from) {
		snprintf(err, errsz, "smtp.from has no usable sender address");
		return NULL;
	}

	d = xcalloc(1, sizeof(*d));
	d->kind = KIND_MAIL;
	if (use_ssl == CURLUSESSL_NONE) {
		/* libcurl knows no such scheme: it is ours, plain smtp:// without STARTTLS. */
		size_t n = strlen(url + 16);

		d->url = xmalloc(n + 8);
		memcpy(d->url, "smtp://", 7);
		memcpy(d->url + 7, url + 16, n + 1);
	} else {
		d->url = xstrdup(url);
	}
	d->use_ssl = use_ssl;
	d->mail_from = from;
	snprintf(rcpt, sizeof(rcpt), "<%s>", m->rcpt);
	d->headers = curl_slist_append(NULL, rcpt);
	if (cfg->smtp_user && cfg->smtp_user[0]) {
		d->user = xstrdup(cfg->smtp_user);
		d->password = xstrdup(cfg->smtp_password ? cfg->smtp_password : "");
	}
	d->body = xmalloc(m->len);
	memcpy(d->body, m->message, m->len);
	d->len = m->len;
	wk_strlcpy(d->target, "smtp", sizeof(d->target));
	buf_init(&d->rbody, 1);
	d->deadline_ms = mono_ms() + MAIL_TIMEOUT_MS;

	return d;
}

int courier_send_mail(const struct config *cfg, const struct courier_mail *m, char *err,
		      size_t errsz)
{
	struct waiter w;
	struct delivery *d = mail_delivery(cfg, m, err, errsz);

	if (!d)
		return -1;
	memset(&w, 0, sizeof(w));
	response_init(&w.resp);
	submit_and_wait(&d, &w, 1);
	free(w.resp.body);
	if (w.resp.status)
		return 0;
	snprintf(err, errsz, "%s", w.resp.error[0] ? w.resp.error : "sending failed");
	return -1;
}

/* ---- asynchronous calls ----
 *
 * An async call is an ordinary KIND_CALL delivery whose waiter lives on the
 * heap instead of a caller's stack. One completion thread does what a blocked
 * caller does in submit_and_wait() (same lock, same condition, same rules for
 * giving up and for shutdown) for every pending async call at once, and runs
 * the callbacks outside the lock. It exists only while calls are pending: it
 * is started by the first call and ends when none is left, so an idle daemon
 * and its shutdown need no extra step. */

struct async_call {
	struct waiter w;
	struct delivery *d;	/* the courier's while !w.done */
	int64_t give_up_ms;	/* monotonic */
	courier_done_fn done;
	void *arg;
	struct async_call *next;
};

static struct async_call *async_pending;	/* under courier.lock */
static bool async_thread_running;		/* under courier.lock */

static void async_finish(struct async_call *a)
{
	struct courier_response resp = a->w.resp;

	if (!resp.body)
		resp.body = xstrdup("");
	a->done(a->arg, &resp);
	free(a);
}

static void *async_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&courier.lock);
	for (;;) {
		struct async_call **pp = &async_pending, *finished = NULL, *a;
		int64_t now = mono_ms(), until = INT64_MAX;

		while ((a = *pp)) {
			if (!a->w.done && (courier.calls_cancelled || now >= a->give_up_ms)) {
				/* The courier still holds a->d: detach so it never writes here. */
				a->d->waiter = NULL;
				a->w.done = true;
				wk_strlcpy(a->w.resp.error, courier.calls_cancelled
					   ? "the daemon is shutting down" : "the outbound courier did not answer in time",
					   sizeof(a->w.resp.error));
				log_error("courier.call_abandoned", "target=%s", a->d->target);
			}
			if (a->w.done) {
				*pp = a->next;
				a->next = finished;
				finished = a;
			} else {
				if (a->give_up_ms < until)
					until = a->give_up_ms;
				pp = &a->next;
			}
		}
		if (finished) {
			pthread_mutex_unlock(&courier.lock);
			while ((a = finished)) {
				finished = a->next;
				async_finish(a);
			}
			pthread_mutex_lock(&courier.lock);
			continue;
		}
		if (!async_pending)
			break;
		struct timespec ts = { .tv_sec = (time_t)(until / 1000), .tv_nsec = (long)(until % 1000) * 1000000L };
		pthread_cond_timedwait(&courier.done, &courier.lock, &ts);
	}
	async_thread_running = false;
	pthread_mutex_unlock(&courier.lock);
	return NULL;
}

static void async_submit(struct async_call *a, struct delivery *d);

static struct async_call *async_new(courier_done_fn done, void *arg)
{
	struct async_call *a = xcalloc(1, sizeof(*a));

	pthread_once(&cond_once, cond_init);
	response_init(&a->w.resp);
	a->done = done;
	a->arg = arg;
	return a;
}

void courier_call_async(const struct courier_request *req, courier_done_fn done, void *arg)
{
	struct async_call *a = async_new(done, arg);
	struct delivery *d = call_prepare(req, &a->w.resp);

	if (!d) {
		async_finish(a);
		return;
	}
	async_submit(a, d);
}

/* Hand d to the courier with a's heap waiter, watched by the completion thread. */
static void async_submit(struct async_call *a, struct delivery *d)
{
	a->d = d;
	a->give_up_ms = d->deadline_ms + WAIT_SLACK_MS;
	d->waiter = &a->w;
	/* Registered before the delivery is queued, so the completion thread sees
	 * the call however soon the courier finishes it. */
	pthread_mutex_lock(&courier.lock);
	if (!courier.running || courier.calls_cancelled) {
		pthread_mutex_unlock(&courier.lock);
		wk_strlcpy(a->w.resp.error, courier.calls_cancelled ? "the daemon is shutting down"
				: "the outbound courier is not running", sizeof(a->w.resp.error));
		delivery_free(d);
		async_finish(a);
		return;
	}
	if (!async_thread_running) {
		pthread_t t;
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, async_main, NULL) != 0) {
			pthread_attr_destroy(&attr);
			pthread_mutex_unlock(&courier.lock);
			wk_strlcpy(a->w.resp.error, "could not start the completion thread",
				   sizeof(a->w.resp.error));
			delivery_free(d);
			async_finish(a);
			return;
		}
		pthread_attr_destroy(&attr);
		async_thread_running = true;
	}
	a->next = async_pending;
	async_pending = a;
	pthread_mutex_unlock(&courier.lock);
	if (enqueue(d) < 0) {
		/* Stopped in between: fail it here unless the completion thread already did. */
		pthread_mutex_lock(&courier.lock);
		if (!a->w.done) {
			d->waiter = NULL;
			a->w.done = true;
			wk_strlcpy(a->w.resp.error, "the outbound courier is not running", sizeof(a->w.resp.error));
			pthread_cond_broadcast(&courier.done);
		}
		pthread_mutex_unlock(&courier.lock);
		delivery_free(d);
	}
}

void courier_send_mail_async(const struct config *cfg, const struct courier_mail *m, courier_done_fn done,
			     void *arg)
{
	struct async_call *a = async_new(done, arg);
	struct delivery *d = mail_delivery(cfg, m, a->w.resp.error, sizeof(a->w.resp.error));

	if (!d) {
		async_finish(a);
		return;
	}
	async_submit(a, d);
}
