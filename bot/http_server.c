/* http_server.c - see http_server.h */
#include "bot/http_server.h"
#include "bot/store_pipe.h"
#include "bot/buf.h"
#include "bot/log.h"
#include "bot/outbox.h"
#include "bot/metrics.h"
#include "bot/util.h"
#include "bot/workers.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/resource.h>

#define SESSION_BUCKETS 1024
#define ADDR_BUCKETS 1024
#define ADDR_MAX 48		/* an IPv6 address as text, with room to spare */
#define WRITE_CHUNK 16384
/* All of a route's wanted header values together: a Bot Framework bearer token
 * alone is 1.5-2.5 KB. Values that don't fit in what is left read as "". */
#define HEADER_VALUES_MAX 6144
/* What lws keeps of a request's headers in all (info.max_http_header_data). */
#define HEADER_DATA_MAX 8192
/* Room before a response body for its status line and headers (on_writeable). */
#define HEADER_ROOM 1024
/* Connections let in past max_conns, for health probes only, when no connection
 * that is still reading its request can be closed to make room. */
#define PROBE_RESERVE 8
/* Descriptors kept out of max_conns: stdio, the listener, lws's own pipes, the
 * probe reserve, resolver and log files (the fixed part), plus Redis connections
 * and curl handles, about two per thread that may hold them. */
#define FD_RESERVE_FIXED 48
/* After a 408 the client gets this long to take it before the connection is cut. */
#define LATE_ANSWER_GRACE_US (1000 * LWS_US_PER_MS)

enum call_state { CALL_PENDING, CALL_DONE, CALL_ACKED };

struct http_call {
	uint64_t id;
	atomic_int state;
	atomic_int refs;
	char *ack_body;
	const char *ack_type;
};

enum session_state { S_IDLE, S_READING, S_PENDING, S_RESPONDING };

/* One per accepted connection, from accept (LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED)
 * to LWS_CALLBACK_WSI_DESTROY, hung on the wsi as its opaque user data. It exists
 * before lws allocates the session (which happens only once headers are complete),
 * so it is what the deadline and the connection cap work with. Loop thread only. */
struct http_conn {
	struct lws *wsi;
	lws_sorted_usec_list_t kill_sul;	/* after a 408: cut it if the client won't read */
	/* the reading list, oldest request first, while reading a request */
	struct http_conn *prev, *next;
	lws_usec_t deadline;	/* while reading: when its request must be complete */
	bool reading;
	bool reserve;		/* let in on the probe reserve */
	bool closing;		/* being closed: no longer counted */
	char addr[ADDR_MAX];	/* the peer's address, "" when per-address counting is off */
};

/* Open connections per peer address, for http.max_conns_per_addr. */
struct addr_count {
	struct addr_count *next;
	size_t n;
	char addr[ADDR_MAX];
};

struct http_session {
	struct lws *wsi;
	enum session_state state;
	const struct route *route;
	char method[8];
	char path[256];
	struct buf body;
	struct buf query;	/* GET: the query arguments as a form */
	const char *headers[HTTP_MAX_ROUTE_HEADERS];	/* into header_values */
	char header_values[HEADER_VALUES_MAX];
	struct http_call *call;
	lws_dll2_t ack_link;	/* in srv.acks while its call may need an early answer */
	lws_usec_t ack_at;
	struct http_session *hnext;	/* session table chain, while a call is pending */
	int64_t started_us;
	int64_t read_us;	/* the request's last byte was read (run_route) */
	bool close_after;
	/* the response being written */
	struct http_response resp;
	unsigned char *out;		/* LWS_PRE headroom + HEADER_ROOM + body */
	size_t out_len, out_sent;
	bool headers_sent;
};

struct completion {
	uint64_t id;
	struct http_response resp;
	struct completion *next;
};

static struct {
	const struct config *cfg;
	struct lws_context *ctx;
	struct http_session *table[SESSION_BUCKETS];	/* loop thread only */
	size_t active;			/* sessions pending or responding; loop thread only */
	size_t conns;			/* connections open and not closing; loop thread only */
	size_t max_conns;
	int64_t request_timeout_us;
	struct http_conn *reading_head, *reading_tail;	/* loop thread only */
	/* One timer each for every request deadline and every early answer, at the
	 * earliest one, instead of a timer per request: lws keeps timers in a sorted
	 * list, and inserting one per request cost a walk of that list each time.
	 * *_at is when it is set for, 0 when it is not. Loop thread only. */
	lws_sorted_usec_list_t reading_sul, ack_sul;
	lws_usec_t reading_sul_at, ack_sul_at;
	lws_dll2_owner_t acks;		/* sessions whose call has an early answer, oldest first */
	size_t max_per_addr;		/* 0 = no per-address cap */
	struct addr_count *addrs[ADDR_BUCKETS];		/* loop thread only */
	uint64_t next_id;		/* loop thread only */
	struct http_session *routing;	/* whose route handler runs now; loop thread only */
	pthread_mutex_t lock;		/* guards done_head */
	struct completion *done_head;
	atomic_bool stop_requested;
	bool draining;
	int64_t drain_deadline_us;
	lws_sorted_usec_list_t drain_sul;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- responses ---- */

void http_respond(struct http_response *resp, int status, const char *content_type,
		  const char *body, size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = content_type;
	resp->body = xstrndup(body, len);
	resp->len = len;
}

void http_respond_text(struct http_response *resp, int status, const char *text)
{
	struct buf b = BUF_INIT(4096);

	buf_printf(&b, "%s\n", text);
	free(resp->body);
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = buf_detach(&b, &resp->len);
}

void http_response_add_header(struct http_response *resp, const char *name, const char *value)
{
	if (resp->n_headers >= HTTP_MAX_RESPONSE_HEADERS) {
		log_error("http.header", "name=%s error=\"more than %d extra headers\"", name,
			  HTTP_MAX_RESPONSE_HEADERS);
		abort();
	}
	resp->headers[resp->n_headers].name = name;
	resp->headers[resp->n_headers].value = value;
	resp->n_headers++;
}

void http_respond_html(struct http_response *resp, int status, char *body, size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	resp->body = body;
	resp->len = len;
	http_response_add_header(resp, "X-Content-Type-Options", "nosniff");
	/* Our pages use inline style attributes and nothing else: no scripts, no
	 * frames, no forms, no fetches. */
	http_response_add_header(resp, "Content-Security-Policy",
				 "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
				 "form-action 'none'; frame-ancestors 'none'");
	http_response_add_header(resp, "Referrer-Policy", "no-referrer");
}

const char *http_path_for_log(const char *path, char *out, size_t size)
{
	char cut[320];

	for (const struct route *r = http_routes; r->path; r++) {
		size_t n = strlen(r->path);
		if ((r->flags & HTTP_ROUTE_SECRET_REST) && n && r->path[n - 1] == '/' &&
		    strncmp(r->path, path, n) == 0 && path[n]) {
			snprintf(cut, sizeof(cut), "%s[redacted]", r->path);
			return log_quote(out, size, cut);
		}
	}
	return log_quote(out, size, path);
}

void http_response_free(struct http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* ---- the table of sessions waiting for a worker (loop thread only) ---- */

static void table_add(struct http_session *s)
{
	size_t b = s->call->id % SESSION_BUCKETS;
	s->hnext = srv.table[b];
	srv.table[b] = s;
}

static void table_remove(struct http_session *s)
{
	struct http_session **pp = &srv.table[s->call->id % SESSION_BUCKETS];
	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	s->hnext = NULL;
}

static struct http_session *table_find(uint64_t id)
{
	for (struct http_session *s = srv.table[id % SESSION_BUCKETS]; s; s = s->hnext)
		if (s->call && s->call->id == id)
			return s;
	return NULL;
}

/* ---- connections: the request deadline and the cap (loop thread only) ---- */

static struct http_conn *conn_of(struct lws *wsi)
{
	return wsi ? lws_get_opaque_user_data(wsi) : NULL;
}

static void readings_due(lws_sorted_usec_list_t *sul);

/* Set one of the shared timers for at, unless it is already set for earlier. */
static void shared_timer_arm(lws_sorted_usec_list_t *sul, lws_usec_t *set_at, sul_cb_t cb, lws_usec_t at)
{
	lws_usec_t now = lws_now_usecs();

	if (*set_at && *set_at <= at)
		return;
	*set_at = at;
	lws_sul_schedule(srv.ctx, 0, sul, cb, at > now ? at - now : 1);
}

static void reading_unlink(struct http_conn *c)
{
	if (!c->reading)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv.reading_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		srv.reading_tail = c->prev;
	c->prev = c->next = NULL;
	c->reading = false;
}

/* The server starts waiting for a request on c: its deadline starts now. */
static void conn_reading_start(struct http_conn *c)
{
	if (!c || c->closing)
		return;
	reading_unlink(c);
	c->reading = true;
	c->prev = srv.reading_tail;
	if (srv.reading_tail)
		srv.reading_tail->next = c;
	else
		srv.reading_head = c;
	srv.reading_tail = c;
	/* Every deadline is the same time after its start: the list is in
	 * deadline order, and one timer at the head's serves them all. */
	c->deadline = lws_now_usecs() + (lws_usec_t)srv.request_timeout_us;
	shared_timer_arm(&srv.reading_sul, &srv.reading_sul_at, readings_due, c->deadline);
}

/* The request is read (or answered early): no deadline, not a candidate to close. */
static void conn_reading_stop(struct http_conn *c)
{
	if (!c)
		return;
	reading_unlink(c);
	lws_sul_cancel(&c->kill_sul);
}

/* Where addr's count is (or would be linked) in its bucket. An entry exists only
 * while its count is above 0. */
static struct addr_count **addr_slot(const char *addr)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	struct addr_count **pp;

	for (const char *p = addr; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (pp = &srv.addrs[h % ADDR_BUCKETS]; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->addr, addr) == 0)
			break;
	return pp;
}

static size_t addr_conns(const char *addr)
{
	struct addr_count *a = *addr_slot(addr);
	return a ? a->n : 0;
}

static void addr_hold(const char *addr)
{
	struct addr_count **pp = addr_slot(addr);

	if (!*pp) {
		*pp = xcalloc(1, sizeof(**pp));
		wk_strlcpy((*pp)->addr, addr, sizeof((*pp)->addr));
	}
	(*pp)->n++;
}

static void addr_release(const char *addr)
{
	struct addr_count **pp = addr_slot(addr);
	struct addr_count *a = *pp;

	if (a && --a->n == 0) {
		*pp = a->next;
		free(a);
	}
}

/* c no longer counts against the caps (closing, or gone). */
static void conn_uncount(struct http_conn *c)
{
	srv.conns--;
	if (c->addr[0])
		addr_release(c->addr);
}

/* Close c now, from outside its own callback (a timer, or another connection's
 * accept): lws closes the socket before returning, so the descriptor is free for
 * the next accept of the same burst, and conn_destroy() frees c. */
static void conn_close(struct http_conn *c)
{
	if (c->closing)
		return;
	conn_reading_stop(c);
	c->closing = true;
	conn_uncount(c);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);	/* c is gone */
}

static void conn_kill_timer(lws_sorted_usec_list_t *sul)
{
	conn_close(lws_container_of(sul, struct http_conn, kill_sul));
}

/* The oldest connection from addr still reading its request, or NULL. */
static struct http_conn *oldest_reading_from(const char *addr)
{
	for (struct http_conn *c = srv.reading_head; c; c = c->next)
		if (strcmp(c->addr, addr) == 0)
			return c;
	return NULL;
}

/* A new connection: let it in (closing the oldest one still reading its request
 * when the server, or its address, is full), let it in on the probe reserve, or
 * refuse it (-1). */
static int conn_admit(struct lws *wsi)
{
	struct http_conn *c;
	char addr[ADDR_MAX] = "";
	bool reserve = false;

	if (srv.max_per_addr) {
		if (!lws_get_peer_simple(wsi, addr, sizeof(addr)) || !addr[0])
			wk_strlcpy(addr, "?", sizeof(addr));
		if (addr_conns(addr) >= srv.max_per_addr) {
			struct http_conn *own = oldest_reading_from(addr);
			if (!own) {
				metrics_http_limit("refused");
				return -1;
			}
			metrics_http_limit("evicted");
			conn_close(own);
		}
	}
	if (srv.conns >= srv.max_conns) {
		struct http_conn *oldest = srv.reading_head;
		if (oldest) {
			log_debug("http.evict", "conns=%zu reason=full", srv.conns);
			metrics_http_limit("evicted");
			conn_close(oldest);
		} else if (srv.conns < srv.max_conns + PROBE_RESERVE) {
			reserve = true;
		} else {
			metrics_http_limit("refused");
			return -1;
		}
	}
	c = xcalloc(1, sizeof(*c));
	c->wsi = wsi;
	c->reserve = reserve;
	lws_set_opaque_user_data(wsi, c);
	srv.conns++;
	if (addr[0]) {
		wk_strlcpy(c->addr, addr, sizeof(c->addr));
		addr_hold(addr);
	}
	conn_reading_start(c);
	return 0;
}

static void conn_destroy(struct lws *wsi)
{
	struct http_conn *c = conn_of(wsi);

	if (!c)
		return;
	conn_reading_stop(c);
	if (!c->closing)
		conn_uncount(c);
	lws_set_opaque_user_data(wsi, NULL);
	free(c);
}

static void call_release(struct http_call *c)
{
	if (atomic_fetch_sub(&c->refs, 1) == 1) {
		free(c->ack_body);
		free(c);
	}
}

/* Drop the session's link to its call: on completion or when the client leaves. */
static void session_detach_call(struct http_session *s)
{
	if (!s->call)
		return;
	if (s->ack_link.owner)
		lws_dll2_remove(&s->ack_link);
	table_remove(s);
	call_release(s->call);
	s->call = NULL;
}

static void session_clear(struct http_session *s)
{
	session_detach_call(s);
	buf_free(&s->body);
	buf_free(&s->query);
	http_response_free(&s->resp);
	free(s->out);
	s->out = NULL;
	s->out_len = s->out_sent = 0;
	s->headers_sent = false;
	if (s->state == S_PENDING || s->state == S_RESPONDING)
		srv.active--;
	s->state = S_IDLE;
}

/* Queue resp (taken) for writing on this session. */
/* Take resp (taken) as the session's answer, to be written. */
static void session_answer(struct http_session *s, struct http_response *resp)
{
	conn_reading_stop(conn_of(s->wsi));
	if (s->state != S_PENDING)
		srv.active++;
	s->state = S_RESPONDING;
	s->resp = *resp;
	memset(resp, 0, sizeof(*resp));
	s->out_len = s->resp.len;
	s->out = xmalloc(LWS_PRE + HEADER_ROOM + s->out_len + 1);
	if (s->out_len)
		memcpy(s->out + LWS_PRE + HEADER_ROOM, s->resp.body, s->out_len);
	s->out_sent = 0;
	s->headers_sent = false;
}

static void session_respond(struct http_session *s, struct http_response *resp)
{
	session_answer(s, resp);
	lws_callback_on_writable(s->wsi);
}

static int on_writeable(struct lws *wsi, struct http_session *s);

/* A worker's answer, on the loop thread outside the connection's own
 * callbacks: written at once rather than after another poll round for POLLOUT
 * (a whole poll of every descriptor, per request). HTTP/1 only, which is all
 * this server speaks: lws keeps what the socket does not take and sends it
 * when the socket drains; a longer body continues from the writable callback. */
static void session_respond_now(struct http_session *s, struct http_response *resp)
{
	session_answer(s, resp);
	if (on_writeable(s->wsi, s) < 0)
		lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void session_respond_text(struct http_session *s, int status, const char *text)
{
	struct http_response r = { 0 };
	http_respond_text(&r, status, text);
	session_respond(s, &r);
}

/* The request deadline passed. A body still coming in gets 408 (the client can
 * read an answer); a connection still in its headers, or idle between requests,
 * is closed (lws gives no way to answer before the headers are complete). */
static void conn_deadline(struct http_conn *c)
{
	struct http_session *s = lws_wsi_user(c->wsi);
	char path[300];

	/* Debug only: a flood of slow clients must not flood the log; the metric counts them. */
	metrics_http_limit("timeout");
	if (s && s->state == S_READING) {
		log_debug("http.timeout", "path=%s phase=body read=%zu",
			 http_path_for_log(s->path, path, sizeof(path)), s->body.len);
		s->close_after = true;
		session_respond_text(s, 408, "Request timeout: the request was not complete in time.");
		/* Cut it if the client does not take the answer either. */
		lws_sul_schedule(srv.ctx, 0, &c->kill_sul, conn_kill_timer, LATE_ANSWER_GRACE_US);
		return;
	}
	log_debug("http.timeout", "phase=headers");
	conn_close(c);
}

/* The shared deadline timer: every connection whose deadline passed, from the
 * oldest; then set again for the next one. */
static void readings_due(lws_sorted_usec_list_t *sul)
{
	lws_usec_t now = lws_now_usecs();
	struct http_conn *c;

	(void)sul;
	srv.reading_sul_at = 0;
	while ((c = srv.reading_head) && c->deadline <= now) {
		conn_deadline(c);	/* takes c off the list (and may free it) */
		if (srv.reading_head == c)
			reading_unlink(c);	/* never left: don't loop on it */
	}
	if (srv.reading_head)
		shared_timer_arm(&srv.reading_sul, &srv.reading_sul_at, readings_due, srv.reading_head->deadline);
}

/* ---- calls (shared with workers) ---- */

/* The worker is slow: send the acknowledgement unless it finished meanwhile. */
static void ack_send(struct http_session *s)
{
	struct http_call *c = s->call;
	struct http_response r = { 0 };
	int expected = CALL_PENDING;

	if (!c || !atomic_compare_exchange_strong(&c->state, &expected, CALL_ACKED))
		return;
	log_info("http.ack", "route=%s id=%llu reason=slow", s->route->name, (unsigned long long)c->id);
	http_respond(&r, 200, c->ack_type, c->ack_body, strlen(c->ack_body));
	session_detach_call(s);
	session_respond(s, &r);
}

/* The shared early-answer timer: answer every call whose time came; set it
 * again for the earliest one left (answers may wait different times). */
static void acks_due(lws_sorted_usec_list_t *sul)
{
	lws_usec_t now = lws_now_usecs(), next = 0;

	(void)sul;
	srv.ack_sul_at = 0;
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&srv.acks)) {
		struct http_session *s = lws_container_of(d, struct http_session, ack_link);
		if (s->ack_at <= now) {
			lws_dll2_remove(&s->ack_link);
			ack_send(s);
		} else if (!next || s->ack_at < next) {
			next = s->ack_at;
		}
	} lws_end_foreach_dll_safe(d, d1);
	if (next)
		shared_timer_arm(&srv.ack_sul, &srv.ack_sul_at, acks_due, next);
}

bool http_call_submit(struct http_request *req, struct http_call **call, int cls, const char *key,
		      void (*fn)(struct worker *w, void *arg), void *job)
{
	struct http_response none = { 0 };

	*call = http_call_begin(req, 0, NULL, NULL);
	if (workers_submit((enum work_class)cls, key, fn, job) == 0)
		return true;
	/* The worker's reference to the call must still go. */
	http_call_finish(*call, &none);
	http_response_free(&none);
	*call = NULL;
	return false;
}

struct http_call *http_call_begin(struct http_request *req, int64_t ack_after_ms,
				  const char *ack_content_type, const char *ack_body)
{
	struct http_session *s = req->session;
	struct http_call *c = xcalloc(1, sizeof(*c));

	c->id = ++srv.next_id;
	atomic_init(&c->state, CALL_PENDING);
	atomic_init(&c->refs, 2);	/* the loop's and the worker's */
	c->ack_type = ack_content_type;
	c->ack_body = ack_body ? xstrdup(ack_body) : NULL;
	s->call = c;
	table_add(s);
	s->state = S_PENDING;
	srv.active++;
	if (ack_after_ms > 0 && ack_body) {
		s->ack_at = lws_now_usecs() + (lws_usec_t)ack_after_ms * LWS_US_PER_MS;
		lws_dll2_add_tail(&s->ack_link, &srv.acks);
		shared_timer_arm(&srv.ack_sul, &srv.ack_sul_at, acks_due, s->ack_at);
	}
	return c;
}

bool http_call_finish(struct http_call *call, struct http_response *resp)
{
	int expected = CALL_PENDING;
	struct completion *done;

	if (!atomic_compare_exchange_strong(&call->state, &expected, CALL_DONE)) {
		call_release(call);
		return false;	/* acknowledged already: the caller delivers resp */
	}
	done = xcalloc(1, sizeof(*done));
	done->id = call->id;
	done->resp = *resp;
	memset(resp, 0, sizeof(*resp));
	pthread_mutex_lock(&srv.lock);
	/* Only the first answer of a batch wakes the loop: the others find the
	 * wake pending (lws reads the eventfd before the callback, which then
	 * takes the whole list), so a busy loop gets one eventfd write and one
	 * poll return per batch, not per request. */
	bool wake = srv.done_head == NULL;
	done->next = srv.done_head;
	srv.done_head = done;
	if (wake && srv.ctx)	/* under the lock: the context may be going away */
		lws_cancel_service(srv.ctx);
	pthread_mutex_unlock(&srv.lock);
	call_release(call);
	return true;
}

/* An answer on the loop thread: written at once when its request still waits. */
static void deliver(uint64_t id, struct http_response *resp)
{
	struct http_session *s = table_find(id);

	if (s && s->state == S_PENDING) {
		session_detach_call(s);
		if (s == srv.routing)	/* answered within its own handler: on the writable turn */
			session_respond(s, resp);
		else
			session_respond_now(s, resp);
	} else {
		log_info("http.dropped", "id=%llu reason=client_gone", (unsigned long long)id);
	}
	http_response_free(resp);
}

bool http_call_answer(struct http_call *call, struct http_response *resp)
{
	int expected = CALL_PENDING;

	if (!atomic_compare_exchange_strong(&call->state, &expected, CALL_DONE)) {
		call_release(call);
		return false;
	}
	deliver(call->id, resp);
	call_release(call);
	return true;
}

/* Answers from workers, on the loop thread. */
static void drain_completions(void)
{
	struct completion *list;

	pthread_mutex_lock(&srv.lock);
	list = srv.done_head;
	srv.done_head = NULL;
	pthread_mutex_unlock(&srv.lock);
	/* Pushed newest first: answer the oldest first, so that under load the
	 * request that waited longest is not also the one written last. */
	struct completion *oldest_first = NULL;
	while (list) {
		struct completion *next = list->next;
		list->next = oldest_first;
		oldest_first = list;
		list = next;
	}
	list = oldest_first;
	while (list) {
		struct completion *d = list;
		list = d->next;
		deliver(d->id, &d->resp);
		free(d);
	}
}

/* ---- request handling ---- */

static const char *http_method(struct lws *wsi)
{
	static const struct {
		enum lws_token_indexes token;
		const char *name;
	} methods[] = {
		{ WSI_TOKEN_GET_URI, "GET" },	  { WSI_TOKEN_POST_URI, "POST" },
		{ WSI_TOKEN_PUT_URI, "PUT" },	  { WSI_TOKEN_DELETE_URI, "DELETE" },
		{ WSI_TOKEN_PATCH_URI, "PATCH" }, { WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
		{ WSI_TOKEN_HEAD_URI, "HEAD" },
	};
	for (size_t i = 0; i < ARRAY_LEN(methods); i++)
		if (lws_hdr_total_length(wsi, methods[i].token) > 0)
			return methods[i].name;
	return "UNKNOWN";
}

/* Find the route; on a miss say 404 or 405 (with the methods the path takes). */
static const struct route *route_lookup(const char *method, const char *path, int *status,
					char *allow, size_t allow_size)
{
	const struct route *found = NULL;

	*status = 404;
	allow[0] = '\0';
	for (const struct route *r = http_routes; r->path; r++) {
		size_t n = strlen(r->path);
		bool prefix = n && r->path[n - 1] == '/';
		if (prefix ? strncmp(r->path, path, n) != 0 || !path[n] : strcmp(r->path, path) != 0)
			continue;
		if (strcmp(r->method, method) == 0)
			found = r;
		*status = 405;
		size_t used = strlen(allow);
		snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", r->method);
	}
	return found;
}

static void run_route(struct http_session *s)
{
	struct http_request req = { 0 };
	struct http_response resp = { 0 };

	s->read_us = wk_mono_us();
	conn_reading_stop(conn_of(s->wsi));	/* read in time: the handler's pace is its own */
	req.method = s->method;
	req.path = s->path;
	req.path_rest = s->path + strlen(s->route->path);
	req.query = buf_cstr(&s->query);
	req.body = buf_cstr(&s->body);
	req.body_len = s->body.len;
	req.cfg = srv.cfg;
	req.session = s;
	for (size_t i = 0; i < HTTP_MAX_ROUTE_HEADERS; i++)
		req.headers[i] = s->headers[i];
	srv.routing = s;
	enum route_result rr = s->route->handler(&req, &resp);
	srv.routing = NULL;
	if (rr == ROUTE_PENDING) {
		http_response_free(&resp);	/* the worker answers */
		return;
	}
	if (s->call)		/* a handler that began a call but answered anyway */
		session_detach_call(s);
	session_respond(s, &resp);
}


/* Headers libwebsockets parses itself never reach the custom-header list, so
 * a route asking for one reads it from its token. */
static const struct {
	const char *name;
	enum lws_token_indexes token;
} known_headers[] = {
	{ "authorization", WSI_TOKEN_HTTP_AUTHORIZATION },
	{ "cookie", WSI_TOKEN_HTTP_COOKIE },
};

/* libwebsockets keeps each query argument URL-decoded in a fragment ("x=1"):
 * they become one form again, so routes decode it with form_parse() like a
 * body. Past HTTP_MAX_QUERY bytes the query is dropped whole. */
static int query_add(struct buf *q, const char *s)
{
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++)
		rc = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
				     *p == '-' || *p == '.' || *p == '_' || *p == '~'
			     ? buf_addc(q, (char)*p)
			     : buf_printf(q, "%%%02X", *p);
	return rc;
}

static void query_copy(struct lws *wsi, struct buf *q)
{
	char frag[HTTP_MAX_QUERY + 1];

	buf_init(q, HTTP_MAX_QUERY);
	for (int i = 0; lws_hdr_copy_fragment(wsi, frag, (int)sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i) >= 0; i++) {
		char *eq = strchr(frag, '=');

		if (eq)
			*eq = '\0';
		if ((q->len && buf_addc(q, '&') < 0) || query_add(q, frag) < 0 || buf_addc(q, '=') < 0 ||
		    (eq && query_add(q, eq + 1) < 0)) {
			buf_reset(q);	/* over the cap: none rather than some */
			return;
		}
	}
}

static void route_header_copy(struct lws *wsi, const char *header, char *out, size_t size)
{
	char name[64];

	for (size_t i = 0; i < ARRAY_LEN(known_headers); i++) {
		if (strcmp(header, known_headers[i].name) == 0) {
			if (lws_hdr_copy(wsi, out, (int)size, known_headers[i].token) < 0)
				out[0] = '\0';
			return;
		}
	}
	snprintf(name, sizeof(name), "%s:", header);
	if (lws_hdr_custom_copy(wsi, out, (int)size, name, (int)strlen(name)) < 0)
		out[0] = '\0';
}

static int on_http(struct lws *wsi, struct http_session *s, const char *uri)
{
	struct http_conn *conn = conn_of(wsi);
	char allow[64], cl[24];
	int status;

	session_clear(s);
	s->wsi = wsi;
	s->started_us = wk_mono_us();
	s->read_us = 0;
	s->close_after = false;
	wk_strlcpy(s->method, http_method(wsi), sizeof(s->method));
	if (wk_strlcpy(s->path, uri, sizeof(s->path)) >= sizeof(s->path))
		s->path[0] = '\0';	/* too long to be any route of ours: 404 */
	s->route = route_lookup(s->method, s->path, &status, allow, sizeof(allow));
	if (atomic_load(&srv.stop_requested)) {
		s->close_after = true;
		session_respond_text(s, 503, "Watchkeeper is shutting down; retry on another instance.");
		http_response_add_header(&s->resp, "Retry-After", "5");
		return 0;
	}
	if (conn && conn->reserve) {
		/* Let in past the cap for health probes only; one request, then close. */
		s->close_after = true;
		if (!s->route || !(s->route->flags & HTTP_ROUTE_PROBE)) {
			metrics_http_limit("busy");
			session_respond_text(s, 503, "Watchkeeper is at its connection limit; retry shortly.");
			http_response_add_header(&s->resp, "Retry-After", "1");
			return 0;
		}
	}
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
		/* lws 4.1 does not decode chunked bodies; the body's size must be known
		 * up front (Slack and Twilio send Content-Length), so say so at once. */
		s->close_after = true;
		session_respond_text(s, 411, "Length required: send the body with Content-Length, not chunked.");
		return 0;
	}
	if (!s->route) {
		if (status == 405) {
			session_respond_text(s, 405, "Method not allowed for this path.");
			http_response_add_header(&s->resp, "Allow", strstr(allow, "POST") ? "POST" : "GET");
		} else {
			session_respond_text(s, 404, "No such page.");
		}
		s->close_after = strcmp(s->method, "POST") == 0;	/* don't read a body we won't use */
		return 0;
	}
	for (size_t i = 0, used = 0; i < HTTP_MAX_ROUTE_HEADERS; i++) {
		char *v = s->header_values + used;
		s->headers[i] = "";
		if (!s->route->headers[i] || used >= sizeof(s->header_values))
			continue;
		route_header_copy(wsi, s->route->headers[i], v, sizeof(s->header_values) - used);
		s->headers[i] = v;
		used += strlen(v) + 1;
	}
	if (strcmp(s->method, "POST") != 0) {
		query_copy(wsi, &s->query);
		run_route(s);
		return 0;
	}
	buf_init(&s->body, (size_t)srv.cfg->max_body_bytes);
	if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
		int64_t n;
		if (!wk_parse_i64(cl, 0, INT64_MAX, &n)) {
			s->close_after = true;
			session_respond_text(s, 400, "Bad Content-Length.");
			return 0;
		}
		if (n > srv.cfg->max_body_bytes) {
			s->close_after = true;
			session_respond_text(s, 413, "Request body too large.");
			return 0;
		}
	}
	s->state = S_READING;
	return 0;
}

static int on_body(struct http_session *s, const void *in, size_t len)
{
	if (s->state != S_READING)
		return 0;	/* answered already (413): ignore the rest */
	if (buf_add(&s->body, in, len) < 0) {
		s->close_after = true;
		session_respond_text(s, 413, "Request body too large.");
	}
	return 0;
}

/* The status line and headers into buf; their length, or 0 when they don't fit.
 * Content-Length goes by token rather than through lws_add_http_common_headers(),
 * which would make lws count the body down: here the headers and the body's
 * first bytes leave in one write. */
static size_t response_headers(struct lws *wsi, struct http_session *s, unsigned char *buf, size_t size)
{
	unsigned char *p = buf, *end = buf + size - 1;
	const char *type = s->resp.content_type;
	char len[24];
	int n = snprintf(len, sizeof(len), "%zu", s->out_len);
	/* No body, no length for these (RFC 9110 8.6). */
	bool bodyless = s->resp.status == 204 || s->resp.status == 304;

	if (lws_add_http_header_status(wsi, (unsigned)s->resp.status, &p, end) ||
	    (!bodyless && type && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *)type,
						       (int)strlen(type), &p, end)) ||
	    (!bodyless && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
						       (const unsigned char *)len, n, &p, end)))
		return 0;
	for (size_t i = 0; i < s->resp.n_headers; i++) {
		/* lws 4.1 writes the name as given: it must end with the colon. */
		const struct http_header *h = &s->resp.headers[i];
		char name[64];
		snprintf(name, sizeof(name), "%s:", h->name);
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)h->value,
						(int)strlen(h->value), &p, end))
			return 0;
	}
	if (s->close_after &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p, end))
		return 0;
	if (lws_finalize_http_header(wsi, &p, end))
		return 0;
	return (size_t)(p - buf);
}

static int on_writeable(struct lws *wsi, struct http_session *s)
{
	size_t n = s->out_len - s->out_sent, hlen = 0;
	bool last = n <= WRITE_CHUNK;
	unsigned char *from = s->out + LWS_PRE + HEADER_ROOM + s->out_sent;

	if (s->state != S_RESPONDING)
		return 0;
	if (!last)
		n = WRITE_CHUNK;
	if (!s->headers_sent) {
		/* The headers go just before the body, in the room left for them, so
		 * one write (one send, one wake-up of the client) carries both. */
		unsigned char hdr[HEADER_ROOM];
		hlen = response_headers(wsi, s, hdr, sizeof(hdr));
		if (!hlen)
			return -1;
		from -= hlen;
		memcpy(from, hdr, hlen);
		s->headers_sent = true;
		if (s->read_us)
			metrics_http_daemon(s->route ? s->route->name : "unmatched", wk_mono_us() - s->read_us);
	}
	if (lws_write(wsi, from, hlen + n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)(hlen + n))
		return -1;
	s->out_sent += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	metrics_http_request(s->route ? s->route->name : "unmatched", s->resp.status,
			     wk_mono_us() - s->started_us);
	char path[300];
	log_debug("http.request", "method=%s path=%s status=%d us=%lld", s->method,
		  http_path_for_log(s->path, path, sizeof(path)), s->resp.status,
		  (long long)(wk_mono_us() - s->started_us));
	bool close_now = s->close_after;
	session_clear(s);
	if (close_now)
		return -1;
	if (lws_http_transaction_completed(wsi))
		return -1;
	conn_reading_start(conn_of(wsi));	/* kept alive: the next request's deadline runs */
	return 0;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len)
{
	struct http_session *s = user;

	switch (reason) {
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		return conn_admit(wsi);
	case LWS_CALLBACK_WSI_DESTROY:
		conn_destroy(wsi);
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	case LWS_CALLBACK_HTTP:
		return on_http(wsi, s, in);
	case LWS_CALLBACK_HTTP_BODY:
		return on_body(s, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (s->state == S_READING)
			run_route(s);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writeable(wsi, s);
	case LWS_CALLBACK_CLOSED_HTTP:
		if (s)
			session_clear(s);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		drain_completions();
		store_pipe_wake();
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{ "http", http_callback, sizeof(struct http_session), 4096, 0, NULL, 0 },
	{ STORE_PIPE_PROTOCOL, store_pipe_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- lifecycle ---- */

static void lws_log_emit(int level, const char *line)
{
	char q[512];
	size_t n = strlen(line);

	if (n && line[n - 1] == '\n')
		n--;
	char *copy = xstrndup(line, n);
	log_event(level == LLL_ERR ? LOG_ERROR : LOG_WARN, "lws", "msg=%s", log_quote(q, sizeof(q), copy));
	free(copy);
}

static void drain_check(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	lws_sul_schedule(srv.ctx, 0, &srv.drain_sul, drain_check, 50 * LWS_US_PER_MS);
}

void http_server_stop(void)
{
	atomic_store(&srv.stop_requested, true);
	pthread_mutex_lock(&srv.lock);
	if (srv.ctx)
		lws_cancel_service(srv.ctx);
	pthread_mutex_unlock(&srv.lock);
}

/* max_conns: http.max_conns, at most the descriptor limit minus what the rest of
 * the daemon needs, so that accepting never runs out of descriptors (lws would
 * then stop accepting altogether, health probes included). -1 when the limit is
 * too low to serve at all. */
static int derive_limits(const struct config *cfg)
{
	struct rlimit rl;
	int64_t nofile = 1024, reserve, room;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		nofile = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT32_MAX ? INT32_MAX
										 : (int64_t)rl.rlim_cur;
	reserve = FD_RESERVE_FIXED + PROBE_RESERVE +
		  2 * (cfg->workers + cfg->notify_senders + cfg->twilio_max_in_flight);
	room = nofile - reserve;
	if (room < 16) {
		log_error("http.limits", "nofile=%lld reserve=%lld error=\"the descriptor limit is too low; "
			  "raise it (LimitNOFILE= in the systemd unit, ulimit -n)\"",
			  (long long)nofile, (long long)reserve);
		return -1;
	}
	srv.max_conns = (size_t)room;
	if (cfg->http_max_conns > 0 && cfg->http_max_conns <= room)
		srv.max_conns = (size_t)cfg->http_max_conns;
	else if (cfg->http_max_conns > room)
		log_warn("http.limits", "key=http.max_conns wanted=%lld max_conns=%zu nofile=%lld "
			 "reason=\"lowered to fit the descriptor limit; raise LimitNOFILE\"",
			 (long long)cfg->http_max_conns, srv.max_conns, (long long)nofile);
	srv.request_timeout_us = cfg->http_request_timeout_ms * 1000;
	srv.max_per_addr = (size_t)cfg->http_max_conns_per_addr;
	log_info("http.limits", "max_conns=%zu max_conns_per_addr=%zu probe_reserve=%d nofile=%lld "
		 "request_timeout_ms=%lld", srv.max_conns, srv.max_per_addr, PROBE_RESERVE,
		 (long long)nofile, (long long)cfg->http_request_timeout_ms);
	return 0;
}

int http_server_run(const struct config *cfg, void (*listening)(void))
{
	struct lws_context_creation_info info;

	srv.cfg = cfg;
	if (derive_limits(cfg) < 0)
		return -1;
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.port = cfg->listen_port;
	info.iface = cfg->listen_host;
	/* lws 4.1 binds an IPv4 iface into an IPv6 socket as [::], every address:
	 * "127.0.0.1" must stay loopback, so an IPv4 address gets an IPv4 socket. */
	struct in_addr v4;
	if (inet_pton(AF_INET, cfg->listen_host, &v4) == 1)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.protocols = protocols;
	info.vhost_name = "watchkeeper";
	info.timeout_secs = 20;
	/* Our own deadline (conn_deadline) cuts slow headers first; this is lws's backstop. */
	info.timeout_secs_ah_idle = (unsigned)(cfg->http_request_timeout_ms / 1000 + 2);
	info.keepalive_timeout = 30;
	info.max_http_header_data = HEADER_DATA_MAX;
	struct lws_context *ctx = lws_create_context(&info);
	pthread_mutex_lock(&srv.lock);
	srv.ctx = ctx;
	pthread_mutex_unlock(&srv.lock);
	if (!srv.ctx) {
		log_error("http.listen", "listen=%s:%d error=\"cannot listen (address in use or invalid?)\"",
			  cfg->listen_host, cfg->listen_port);
		return -1;
	}
	log_info("http.listen", "listen=%s:%d", cfg->listen_host, cfg->listen_port);
	store_pipe_start(cfg, srv.ctx);
	if (listening)
		listening();

	for (;;) {
		if (lws_service(srv.ctx, 0) < 0)
			break;
		store_pipe_flush();	/* the scripts this turn's requests queued, in one write */
		if (!atomic_load(&srv.stop_requested))
			continue;
		if (!srv.draining) {
			srv.draining = true;
			srv.drain_deadline_us = wk_mono_us() + cfg->shutdown_grace_ms * 1000;
			log_info("http.drain", "in_flight=%zu", srv.active);
			drain_check(NULL);	/* wake the loop regularly from now on */
		}
		drain_completions();
		/* Notification sends in flight keep the listener up too, so /readyz
		 * says 503 (not "connection refused") for the whole drain. */
		if ((srv.active == 0 && workers_busy() == 0 && !outbox_busy()) ||
		    wk_mono_us() > srv.drain_deadline_us)
			break;
	}
	if (srv.active)
		log_warn("http.drain", "abandoned=%zu reason=grace_expired", srv.active);
	lws_sul_cancel(&srv.drain_sul);
	lws_sul_cancel(&srv.reading_sul);
	lws_sul_cancel(&srv.ack_sul);
	srv.reading_sul_at = srv.ack_sul_at = 0;
	store_pipe_stop();
	pthread_mutex_lock(&srv.lock);
	srv.ctx = NULL;		/* workers stop waking a loop that is going away */
	pthread_mutex_unlock(&srv.lock);
	lws_context_destroy(ctx);
	return 0;
}

void http_server_cleanup(void)
{
	drain_completions();	/* answers that arrived after the listener closed */
}
