/* slack_socket.c - see slack_socket.h
 *
 * Ownership: slots, connections and their frame queues belong to this
 * module's thread. Only the pending slash-command acks and the event queue
 * (URLs from the courier, answers from workers) are shared, under sm.lock. */
#include "adapters/slack_socket.h"
#include "adapters/slack.h"
#include "adapters/slack_events.h"
#include "bot/buf.h"
#include "bot/courier.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SM_MAX_SLOTS 10
#define SM_FRAME_MAX (1024 * 1024)	/* a message; Slack's are a few kB */
#define SM_STABLE_US (60LL * 1000000)	/* up this long: the backoff starts over */
#define SM_STOP_GRACE_US (1000LL * 1000)
#define SM_ENVELOPE_ID_MAX 128
#define SM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* Reconnect delays (ms); lws adds up to jitter_percent on top. */
static const uint32_t backoff_ms[] = { 250, 1000, 2000, 5000, 10000, 30000, 60000 };
static const lws_retry_bo_t backoff = {
	.retry_ms_table = backoff_ms,
	.retry_ms_table_count = ARRAY_LEN(backoff_ms),
	.conceal_count = LWS_RETRY_CONCEAL_ALWAYS,
	.jitter_percent = 30,
};

/* A frame waiting for the socket to be writeable. A command's answer keeps
 * its body and response_url, to go there should the connection close first. */
struct sm_frame {
	struct sm_frame *next;
	bool ping;
	const char *kind;	/* metrics: plain, payload, working */
	char *late_body, *late_url;
	size_t late_len, len;
	unsigned char data[];	/* LWS_PRE + len */
};

struct sm_slot;

struct sm_conn {
	struct sm_conn *next;
	struct sm_slot *slot;
	struct lws *wsi;
	uint64_t id;
	bool established, live, retiring, replaced, closing, in_connect, failed;
	bool long_wait;		/* its slot waits SLACK_SOCKET_LONG_MS after it */
	const char *why;	/* the reconnect reason once it closes */
	int64_t live_since_us, last_rx_us;
	lws_sorted_usec_list_t ping_sul;
	struct sm_frame *out, **out_tail;
	struct buf rx;
};

struct sm_slot {
	int index;
	struct sm_conn *cur;	/* connecting or live; NULL while waiting or fetching */
	bool fetching, first;
	uint16_t tries;
	const char *reason;	/* why the next open happens */
	lws_sorted_usec_list_t retry_sul;
};

/* A slash command waiting for its ack (shared). */
struct sm_pending {
	struct sm_pending *next;
	uint64_t id, conn_id;
	int64_t due_us;
	char envelope_id[SM_ENVELOPE_ID_MAX];
};

enum sm_event_kind { EV_URL, EV_REPLY };

struct sm_event {
	struct sm_event *next;
	enum sm_event_kind kind;
	int slot;
	/* EV_URL */
	long status, retry_after;
	char *url;
	char error[96];
	/* EV_REPLY */
	uint64_t conn_id;
	char envelope_id[SM_ENVELOPE_ID_MAX];
	char *body, *response_url;
	size_t len;
};

static struct {
	pthread_mutex_t lock;	/* guards the fields up to ctx */
	struct sm_pending *pending;
	struct sm_event *events, **events_tail;
	bool running, stopping;
	uint64_t next_id;
	struct lws_context *ctx;

	const struct config *cfg;
	pthread_t thread;
	bool started, ws_allowed, done;
	bool quitting;		/* the thread's own view of stopping, once it began */
	uint64_t next_conn_id;
	int nslots;
	struct sm_slot slots[SM_MAX_SLOTS];
	struct sm_conn *conns;
	lws_sorted_usec_list_t ack_sul, stop_sul;
	int64_t stop_deadline_us;
	int64_t ping_us, dead_us;
} sm = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *jstr(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- URLs (pure) ---- */

/* After "scheme://": host (brackets stripped), port (or dflt) and the rest. */
static int split_authority(const char *p, int dflt, char *host, size_t hsize, int *port, const char **rest)
{
	size_t n;
	int64_t v = dflt;

	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (!end)
			return -1;
		n = (size_t)(end - p - 1);
		p++;
		if (n == 0 || n >= hsize)
			return -1;
		memcpy(host, p, n);
		p = end + 1;
	} else {
		n = strcspn(p, ":/?#@");
		if (n == 0 || n >= hsize || p[n] == '@')
			return -1;
		memcpy(host, p, n);
		p += n;
	}
	host[n] = '\0';
	if (*p == ':') {
		char digits[8];
		size_t d = strspn(p + 1, "0123456789");
		if (d == 0 || d >= sizeof(digits))
			return -1;
		memcpy(digits, p + 1, d);
		digits[d] = '\0';
		if (!wk_parse_i64(digits, 1, 65535, &v))
			return -1;
		p += 1 + d;
	}
	if (*p && *p != '/' && *p != '?')
		return -1;
	*port = (int)v;
	*rest = p;
	return 0;
}

int slack_socket_url_parse(const char *url, struct slack_socket_url *u)
{
	const char *rest;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "wss://", 6) == 0) {
		u->tls = true;
		url += 6;
	} else if (strncmp(url, "ws://", 5) == 0) {
		url += 5;
	} else {
		return -1;
	}
	if (split_authority(url, u->tls ? 443 : 80, u->host, sizeof(u->host), &u->port, &rest) < 0)
		return -1;
	for (const char *c = rest; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '#')
			return -1;	/* no spaces, control bytes or fragments in a request line */
	if (snprintf(u->path, sizeof(u->path), "%s%s", *rest == '/' ? "" : "/", rest) >= (int)sizeof(u->path))
		return -1;
	return 0;
}

bool slack_socket_url_loopback(const char *url)
{
	static const char *const loopback[] = { "127.0.0.1", "::1", "localhost" };
	char host[256];
	const char *rest;
	int port;

	if (strncmp(url, "http://", 7) == 0)
		url += 7;
	else if (strncmp(url, "https://", 8) == 0)
		url += 8;
	else
		return false;
	if (split_authority(url, 80, host, sizeof(host), &port, &rest) < 0)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(loopback); i++)
		if (strcasecmp(host, loopback[i]) == 0)
			return true;
	return false;
}

/* ---- shared state: pending acks, events ---- */

static void events_push(struct sm_event *ev)
{
	pthread_mutex_lock(&sm.lock);
	if (!sm.running) {
		pthread_mutex_unlock(&sm.lock);
		if (ev->kind == EV_REPLY && ev->response_url) {
			courier_post_json(ev->response_url, NULL, ev->body, ev->len, "slack.response_url");
			ev->body = NULL;
		}
		free(ev->url);
		free(ev->body);
		free(ev->response_url);
		free(ev);
		return;
	}
	ev->next = NULL;
	*sm.events_tail = ev;
	sm.events_tail = &ev->next;
	lws_cancel_service(sm.ctx);
	pthread_mutex_unlock(&sm.lock);
}

bool slack_socket_reply(uint64_t ack, const char *body, size_t len, const char *response_url)
{
	struct sm_pending **pp, *p = NULL;
	struct sm_event *ev;

	pthread_mutex_lock(&sm.lock);
	for (pp = &sm.pending; *pp; pp = &(*pp)->next)
		if ((*pp)->id == ack) {
			p = *pp;
			*pp = p->next;
			break;
		}
	if (!p || !sm.running) {
		pthread_mutex_unlock(&sm.lock);
		free(p);
		return false;
	}
	ev = xcalloc(1, sizeof(*ev));
	ev->kind = EV_REPLY;
	ev->conn_id = p->conn_id;
	wk_strlcpy(ev->envelope_id, p->envelope_id, sizeof(ev->envelope_id));
	ev->body = body ? xstrndup(body, len) : NULL;
	ev->len = body ? len : 0;
	ev->response_url = response_url && response_url[0] ? xstrdup(response_url) : NULL;
	free(p);
	ev->next = NULL;
	*sm.events_tail = ev;
	sm.events_tail = &ev->next;
	lws_cancel_service(sm.ctx);
	pthread_mutex_unlock(&sm.lock);
	return true;
}

static void ack_due(lws_sorted_usec_list_t *sul);

static uint64_t pending_add(const struct sm_conn *c, const char *envelope_id)
{
	struct sm_pending *p = xcalloc(1, sizeof(*p));
	int64_t delay_us = sm.cfg->slack_ack_after_ms * 1000;

	p->conn_id = c->id;
	p->due_us = wk_mono_us() + delay_us;
	wk_strlcpy(p->envelope_id, envelope_id, sizeof(p->envelope_id));
	pthread_mutex_lock(&sm.lock);
	p->id = ++sm.next_id;
	p->next = sm.pending;
	sm.pending = p;
	pthread_mutex_unlock(&sm.lock);
	/* Every pending ack has the same delay, so the earliest one is armed already
	 * unless none was: arming only when idle keeps the earliest deadline. */
	if (!lws_dll2_is_detached(&sm.ack_sul.list))
		return p->id;
	lws_sul_schedule(sm.ctx, 0, &sm.ack_sul, ack_due, delay_us);
	return p->id;
}

/* Take a pending ack back (true) unless a worker's answer took it first. */
static bool pending_take(uint64_t id)
{
	struct sm_pending **pp, *p = NULL;

	pthread_mutex_lock(&sm.lock);
	for (pp = &sm.pending; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			p = *pp;
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&sm.lock);
	free(p);
	return p != NULL;
}

static bool conn_has_pending(const struct sm_conn *c)
{
	bool any = false;

	pthread_mutex_lock(&sm.lock);
	for (struct sm_pending *p = sm.pending; p && !any; p = p->next)
		any = p->conn_id == c->id;
	pthread_mutex_unlock(&sm.lock);
	return any;
}

/* ---- frames ---- */

static struct sm_conn *conn_find(uint64_t id)
{
	for (struct sm_conn *c = sm.conns; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void frame_free(struct sm_frame *f)
{
	free(f->late_body);
	free(f->late_url);
	free(f);
}

/* An answer that could not ride on its ack goes to response_url, once. */
static void frame_post_late(struct sm_frame *f)
{
	if (!f->late_body)
		return;
	if (f->late_url) {
		courier_post_json(f->late_url, NULL, f->late_body, f->late_len, "slack.response_url");
		f->late_body = NULL;
	} else {
		log_warn("slack.socket.late", "reason=\"connection closed before the ack and no response_url\"");
	}
}

static void conn_queue(struct sm_conn *c, struct sm_frame *f)
{
	f->next = NULL;
	*c->out_tail = f;
	c->out_tail = &f->next;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

/* {"envelope_id":"..."} or {"envelope_id":"...","payload":<payload>} (our own JSON). */
static struct sm_frame *conn_ack(struct sm_conn *c, const char *envelope_id, const char *payload, size_t plen,
				 const char *kind)
{
	struct buf b = BUF_INIT(0);
	struct sm_frame *f;

	buf_adds(&b, "{\"envelope_id\":");
	buf_add_json_string(&b, envelope_id, strlen(envelope_id));
	if (payload) {
		buf_adds(&b, ",\"payload\":");
		buf_add(&b, payload, plen);
	}
	buf_addc(&b, '}');
	f = xcalloc(1, sizeof(*f) + LWS_PRE + b.len);
	memcpy(f->data + LWS_PRE, b.data, b.len);
	f->len = b.len;
	f->kind = kind;
	buf_free(&b);
	conn_queue(c, f);
	return f;
}

static void conn_ping_frame(struct sm_conn *c)
{
	struct sm_frame *f = xcalloc(1, sizeof(*f) + LWS_PRE);

	f->ping = true;
	conn_queue(c, f);
}

/* ---- slots: getting a URL, connecting, backing off ---- */

static void slot_fetch(struct sm_slot *s);

static void slot_retry_due(lws_sorted_usec_list_t *sul)
{
	slot_fetch(lws_container_of(sul, struct sm_slot, retry_sul));
}

static void slot_wait(struct sm_slot *s, const char *reason, int64_t ms)
{
	if (sm.quitting)
		return;
	s->reason = reason;
	log_info("slack.socket.wait", "slot=%d reason=%s delay_ms=%lld", s->index, reason, (long long)ms);
	lws_sul_schedule(sm.ctx, 0, &s->retry_sul, slot_retry_due, (lws_usec_t)(ms > 0 ? ms : 1) * LWS_US_PER_MS);
}

static void slot_backoff(struct sm_slot *s, const char *reason)
{
	char conceal;

	slot_wait(s, reason, lws_retry_get_delay_ms(sm.ctx, &backoff, &s->tries, &conceal));
}

static void slot_long(struct sm_slot *s, const char *reason)
{
	/* Minutes, with a little jitter so N slots and instances don't line up. */
	slot_wait(s, reason, SLACK_SOCKET_LONG_MS + (int64_t)(lws_now_usecs() % 10000));
}

static void url_answered(void *arg, struct courier_response *resp)
{
	struct sm_event *ev = xcalloc(1, sizeof(*ev));
	json_t *js = resp->status ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
	const char *url = jstr(js, "url"), *error = jstr(js, "error");

	ev->kind = EV_URL;
	ev->slot = (int)(intptr_t)arg;
	ev->status = resp->status;
	ev->retry_after = resp->retry_after;
	if (json_is_true(json_object_get(js, "ok")) && url)
		ev->url = xstrdup(url);
	else
		wk_strlcpy(ev->error, error ? error : resp->status ? "unreadable answer" : resp->error,
			   sizeof(ev->error));
	json_decref(js);
	courier_response_free(resp);
	events_push(ev);
}

static void slot_fetch(struct sm_slot *s)
{
	char url[1024];
	static const char *const headers[] = { "Content-Type: application/x-www-form-urlencoded", NULL };

	if (sm.quitting || s->fetching)
		return;
	lws_sul_cancel(&s->retry_sul);
	if (!s->first)
		metrics_slack_socket_reconnect(s->reason ? s->reason : "dropped");
	s->first = false;
	s->fetching = true;
	snprintf(url, sizeof(url), "%s/apps.connections.open", sm.cfg->slack_api_url);
	struct courier_request req = {
		.method = "POST", .url = url, .bearer = sm.cfg->slack_app_token, .headers = headers,
		.body = "", .body_len = 0, .target = "slack.apps.connections.open", .timeout_ms = 10000,
	};
	courier_call_async(&req, url_answered, (void *)(intptr_t)s->index);
}

static int sm_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

static const struct lws_protocols protocols[] = {
	{ "slack-socket", sm_callback, 0, 64 * 1024, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void conn_free(struct sm_conn *c)
{
	struct sm_frame *f;

	while ((f = c->out)) {
		c->out = f->next;
		frame_free(f);
	}
	buf_free(&c->rx);
	free(c);
}

static void slot_connect(struct sm_slot *s, const char *url)
{
	struct slack_socket_url u;
	struct lws_client_connect_info ci;
	struct sm_conn *c;

	if (slack_socket_url_parse(url, &u) < 0) {
		log_warn("slack.socket.url", "slot=%d reason=\"apps.connections.open gave no ws(s):// URL\"", s->index);
		slot_backoff(s, "bad_url");
		return;
	}
	if (!u.tls && !sm.ws_allowed) {
		log_error("slack.socket.url", "slot=%d reason=\"refusing an unencrypted ws:// URL: allowed only when "
			  "slack.api_url is on loopback (tests)\"", s->index);
		slot_long(s, "insecure_url");
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->slot = s;
	c->id = ++sm.next_conn_id;
	c->out_tail = &c->out;
	buf_init(&c->rx, SM_FRAME_MAX);
	c->next = sm.conns;
	sm.conns = c;
	s->cur = c;
	memset(&ci, 0, sizeof(ci));
	ci.context = sm.ctx;
	ci.address = u.host;
	ci.port = u.port;
	ci.path = u.path;
	ci.host = u.host;
	ci.origin = u.host;
	ci.ssl_connection = u.tls ? LCCSCF_USE_SSL : 0;
	ci.local_protocol_name = protocols[0].name;
	ci.opaque_user_data = c;
	ci.pwsi = &c->wsi;
	c->in_connect = true;
	struct lws *wsi = lws_client_connect_via_info(&ci);
	c->in_connect = false;
	if (!wsi || c->failed) {
		sm.conns = c->next;	/* it was just put first */
		if (s->cur == c)
			s->cur = NULL;
		if (wsi)
			lws_set_opaque_user_data(wsi, NULL);
		conn_free(c);
		log_warn("slack.socket.connect", "slot=%d host=%s reason=\"cannot start the connection\"", s->index,
			 u.host);
		slot_backoff(s, "connect_failed");
	}
}

static void conn_start_close(struct sm_conn *c, const char *why)
{
	if (!c->why)
		c->why = why;
	if (c->closing)
		return;
	c->closing = true;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

/* A retiring connection closes once its replacement said hello and nothing
 * it carried waits for an ack. */
static void conn_try_retire(struct sm_conn *c)
{
	if (c->retiring && c->replaced && !c->out && !conn_has_pending(c))
		conn_start_close(c, "refreshed");
}

/* The connection is gone (closed, or never made it): forget its pending acks
 * (their workers answer at response_url), send what its queue still held for
 * response_url there, and let its slot connect again. */
static void conn_gone(struct sm_conn *c, const char *detail)
{
	struct sm_conn **cp;
	struct sm_pending **pp;
	struct sm_slot *s = c->slot;
	struct sm_frame *f;
	int64_t now = wk_mono_us();
	char q[200];

	if (c->in_connect) {	/* inside lws_client_connect_via_info(): slot_connect() cleans up */
		c->failed = true;
		return;
	}
	if (c->wsi)
		lws_set_opaque_user_data(c->wsi, NULL);
	c->wsi = NULL;
	lws_sul_cancel(&c->ping_sul);
	for (cp = &sm.conns; *cp; cp = &(*cp)->next)
		if (*cp == c) {
			*cp = c->next;
			break;
		}
	pthread_mutex_lock(&sm.lock);
	for (pp = &sm.pending; *pp;) {
		struct sm_pending *p = *pp;
		if (p->conn_id == c->id) {
			*pp = p->next;
			free(p);
		} else {
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&sm.lock);
	for (f = c->out; f; f = f->next)
		frame_post_late(f);
	if (c->live)
		metrics_slack_socket_open(-1);
	log_info("slack.socket.closed", "slot=%d conn=%llu live=%d up_s=%lld reason=%s detail=%s", s->index,
		 (unsigned long long)c->id, c->live, c->live ? (long long)((now - c->live_since_us) / 1000000) : 0LL,
		 c->why ? c->why : "dropped", log_quote(q, sizeof(q), detail ? detail : ""));
	if (s->cur == c) {
		s->cur = NULL;
		if (c->live && now - c->live_since_us >= SM_STABLE_US)
			s->tries = 0;
		if (c->long_wait)
			slot_long(s, c->why);
		else
			slot_backoff(s, c->why ? c->why : c->established ? "dropped" : "connect_failed");
	}
	conn_free(c);
}

/* ---- messages ---- */

static void on_command(struct sm_conn *c, json_t *payload, const char *eid, bool accepts)
{
	char err[200], body[400];
	struct buf b = BUF_INIT(0);
	uint64_t id;

	if (!accepts) {	/* no payload allowed: ack now, the answer goes to response_url */
		conn_ack(c, eid, NULL, 0, "plain");
		if (slack_envelope_command(sm.cfg, payload, 0, err, sizeof(err)) < 0)
			log_warn("slack.socket.command", "reason=%s", log_quote(body, sizeof(body), err));
		return;
	}
	id = pending_add(c, eid);
	if (slack_envelope_command(sm.cfg, payload, id, err, sizeof(err)) == 0)
		return;
	log_warn("slack.socket.command", "reason=%s", log_quote(body, sizeof(body), err));
	if (!pending_take(id))
		return;
	buf_adds(&b, "{\"response_type\":\"ephemeral\",\"text\":");
	buf_add_json_string(&b, err, strlen(err));
	buf_addc(&b, '}');
	conn_ack(c, eid, b.data, b.len, "payload");
	buf_free(&b);
}

static void on_interactive(struct sm_conn *c, json_t *payload, const char *eid, bool accepts)
{
	char err[200], q[240];

	(void)accepts;
	conn_ack(c, eid, NULL, 0, "plain");
	if (slack_envelope_action(payload, err, sizeof(err)) < 0)
		log_warn("slack.socket.action", "reason=%s", log_quote(q, sizeof(q), err));
}

static void on_event(struct sm_conn *c, json_t *payload, const char *eid, bool accepts)
{
	(void)accepts;
	conn_ack(c, eid, NULL, 0, "plain");
	if (slack_events_submit(sm.cfg, payload) < 0)
		log_debug("slack.socket.event", "result=-1 reason=\"not taken by slack_events_submit\"");
}

static void on_other_envelope(struct sm_conn *c, json_t *payload, const char *eid, bool accepts)
{
	(void)payload;
	(void)accepts;
	conn_ack(c, eid, NULL, 0, "plain");
}

static const struct {
	const char *type;
	void (*fn)(struct sm_conn *c, json_t *payload, const char *eid, bool accepts);
} envelope_kinds[] = {
	{ "slash_commands", on_command },
	{ "interactive", on_interactive },
	{ "events_api", on_event },
	{ "other", on_other_envelope },	/* last: anything else is acked and dropped */
};

static void on_hello(struct sm_conn *c, json_t *m)
{
	json_t *n = json_object_get(m, "num_connections");

	if (c->live)
		return;
	c->live = true;
	c->live_since_us = wk_mono_us();
	metrics_slack_socket_open(1);
	log_info("slack.socket.hello", "slot=%d conn=%llu num_connections=%lld", c->slot->index,
		 (unsigned long long)c->id, json_is_integer(n) ? (long long)json_integer_value(n) : -1LL);
	for (struct sm_conn *o = sm.conns; o; o = o->next)
		if (o != c && o->slot == c->slot && o->retiring) {
			o->replaced = true;
			conn_try_retire(o);
		}
}

static const struct {
	const char *reason;
	bool refresh;	/* else: wait long */
} disconnects[] = {
	{ "warning", true },
	{ "refresh_requested", true },
	{ "link_disabled", false },
	{ "too_many_websockets", false },
};

static void on_disconnect(struct sm_conn *c, json_t *m)
{
	const char *reason = jstr(m, "reason");
	const char *why = "disconnect";	/* an unknown reason: reconnect as the SDKs do */
	bool refresh = true;
	char q[80];

	for (size_t i = 0; reason && i < ARRAY_LEN(disconnects); i++)
		if (strcmp(reason, disconnects[i].reason) == 0) {
			why = disconnects[i].reason;
			refresh = disconnects[i].refresh;
		}
	log_info("slack.socket.disconnect", "slot=%d conn=%llu reason=%s", c->slot->index, (unsigned long long)c->id,
		 log_quote(q, sizeof(q), reason ? reason : ""));
	if (!refresh) {
		c->long_wait = true;
		conn_start_close(c, why);
		return;
	}
	if (c->retiring || c->slot->cur != c)
		return;
	c->retiring = true;
	c->slot->cur = NULL;
	c->slot->reason = why;
	slot_fetch(c->slot);
}

static const struct {
	const char *type;
	void (*fn)(struct sm_conn *c, json_t *m);
} controls[] = {
	{ "hello", on_hello },
	{ "disconnect", on_disconnect },
};

static void conn_message(struct sm_conn *c, const char *data, size_t len)
{
	json_error_t jerr;
	json_t *m = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *type = jstr(m, "type"), *eid = jstr(m, "envelope_id");
	char q[80];
	size_t i;

	if (!json_is_object(m) || !type) {
		log_warn("slack.socket.message", "slot=%d reason=\"not a JSON object with a type\"", c->slot->index);
	} else if (eid) {
		if (!eid[0] || strlen(eid) >= SM_ENVELOPE_ID_MAX) {
			log_warn("slack.socket.message", "reason=\"envelope_id empty or too long\"");
			goto out;
		}
		for (i = 0; i < ARRAY_LEN(envelope_kinds) - 1; i++)
			if (strcmp(type, envelope_kinds[i].type) == 0)
				break;
		metrics_slack_socket_envelope(envelope_kinds[i].type);
		envelope_kinds[i].fn(c, json_object_get(m, "payload"), eid,
				     json_is_true(json_object_get(m, "accepts_response_payload")));
	} else {
		for (i = 0; i < ARRAY_LEN(controls); i++)
			if (strcmp(type, controls[i].type) == 0) {
				controls[i].fn(c, m);
				break;
			}
		if (i == ARRAY_LEN(controls))
			log_debug("slack.socket.message", "type=%s reason=\"ignored\"", log_quote(q, sizeof(q), type));
	}
out:
	json_decref(m);
}

static int conn_receive(struct sm_conn *c, struct lws *wsi, const void *in, size_t len)
{
	c->last_rx_us = wk_mono_us();
	if (buf_add(&c->rx, in, len) < 0) {
		log_warn("slack.socket.message", "slot=%d reason=\"message over %d bytes\"", c->slot->index, SM_FRAME_MAX);
		c->why = "oversize";
		return -1;
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	if (!lws_frame_is_binary(wsi))
		conn_message(c, buf_cstr(&c->rx), c->rx.len);
	buf_reset(&c->rx);
	return 0;
}

static int conn_write(struct sm_conn *c, struct lws *wsi)
{
	struct sm_frame *f = c->out;

	if (!f) {
		if (!c->closing)
			return 0;
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
		return -1;
	}
	c->out = f->next;
	if (!c->out)
		c->out_tail = &c->out;
	int n = lws_write(wsi, f->data + LWS_PRE, f->len, f->ping ? LWS_WRITE_PING : LWS_WRITE_TEXT);
	if (n < (int)f->len) {
		frame_post_late(f);
		frame_free(f);
		return -1;
	}
	if (f->kind)
		metrics_slack_socket_ack(f->kind);
	frame_free(f);
	if (c->out || c->closing)
		lws_callback_on_writable(wsi);
	else
		conn_try_retire(c);
	return 0;
}

/* Every ping interval: a ping, unless the link has been silent too long. */
static void conn_ping_due(lws_sorted_usec_list_t *sul)
{
	struct sm_conn *c = lws_container_of(sul, struct sm_conn, ping_sul);

	if (wk_mono_us() - c->last_rx_us > sm.dead_us) {
		log_warn("slack.socket.silent", "slot=%d conn=%llu silent_ms=%lld", c->slot->index,
			 (unsigned long long)c->id, (long long)((wk_mono_us() - c->last_rx_us) / 1000));
		c->why = "silent";
		if (c->slot->cur == c) {	/* a replacement now; the dead link is only cut */
			c->slot->cur = NULL;
			c->slot->reason = "silent";
			slot_fetch(c->slot);
		}
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	conn_ping_frame(c);
	lws_sul_schedule(sm.ctx, 0, &c->ping_sul, conn_ping_due, (lws_usec_t)sm.ping_us);
}

/* ---- the thread ---- */

static void ack_due(lws_sorted_usec_list_t *sul)
{
	int64_t now = wk_mono_us(), next = 0;
	struct sm_pending *due = NULL, **pp;

	(void)sul;
	pthread_mutex_lock(&sm.lock);
	for (pp = &sm.pending; *pp;) {
		struct sm_pending *p = *pp;
		if (p->due_us <= now) {
			*pp = p->next;
			p->next = due;
			due = p;
		} else {
			if (!next || p->due_us < next)
				next = p->due_us;
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&sm.lock);
	while (due) {
		struct sm_pending *p = due;
		struct sm_conn *c = conn_find(p->conn_id);
		due = p->next;
		if (c)
			conn_ack(c, p->envelope_id, SLACK_WORKING_BODY, strlen(SLACK_WORKING_BODY), "working");
		free(p);
	}
	if (next)
		lws_sul_schedule(sm.ctx, 0, &sm.ack_sul, ack_due, (lws_usec_t)(next - now));
}

static void on_url(struct sm_event *ev)
{
	struct sm_slot *s = &sm.slots[ev->slot];
	char q[120];

	s->fetching = false;
	if (sm.quitting)
		return;
	if (ev->url) {
		slot_connect(s, ev->url);
		return;
	}
	log_warn("slack.socket.open", "slot=%d status=%ld error=%s", s->index, ev->status,
		 log_quote(q, sizeof(q), ev->error));
	if (ev->status == 429 || strcmp(ev->error, "ratelimited") == 0) {
		long secs = ev->retry_after > 0 ? ev->retry_after : SLACK_SOCKET_RATELIMIT_S;
		slot_wait(s, "ratelimited", (int64_t)(secs > 3600 ? 3600 : secs) * 1000);
	} else if (ev->status >= 200 && ev->status < 500) {
		/* invalid_auth, not_allowed_token_type, a 4xx: trying again soon won't help. */
		slot_long(s, "open_refused");
	} else {
		slot_backoff(s, "open_failed");
	}
}

static void on_reply(struct sm_event *ev)
{
	struct sm_conn *c = conn_find(ev->conn_id);
	struct sm_frame tmp = { .late_body = ev->body, .late_url = ev->response_url, .late_len = ev->len };

	if (!c || c->closing) {
		frame_post_late(&tmp);
		ev->body = tmp.late_body;
		return;
	}
	/* The answer stays with its ack until written: the connection may still close first. */
	struct sm_frame *f = conn_ack(c, ev->envelope_id, ev->body, ev->len, ev->body ? "payload" : "plain");
	f->late_body = ev->body;
	f->late_len = ev->len;
	f->late_url = ev->response_url;
	ev->body = ev->response_url = NULL;
}

static void stop_check(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	if (!sm.conns || wk_mono_us() > sm.stop_deadline_us) {
		sm.done = true;
		lws_cancel_service(sm.ctx);	/* timers run before lws_service() polls: wake that poll */
	} else {
		lws_sul_schedule(sm.ctx, 0, &sm.stop_sul, stop_check, 20 * LWS_US_PER_MS);
	}
}

static void stop_begin(void)
{
	sm.quitting = true;
	for (int i = 0; i < sm.nslots; i++)
		lws_sul_cancel(&sm.slots[i].retry_sul);
	for (struct sm_conn *c = sm.conns; c; c = c->next) {
		if (c->established)
			conn_start_close(c, "shutdown");
		else if (c->wsi)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	sm.stop_deadline_us = wk_mono_us() + SM_STOP_GRACE_US;
	stop_check(NULL);
}

static void events_run(void)
{
	struct sm_event *list;
	bool stop_now;

	pthread_mutex_lock(&sm.lock);
	list = sm.events;
	sm.events = NULL;
	sm.events_tail = &sm.events;
	stop_now = sm.stopping;
	pthread_mutex_unlock(&sm.lock);
	while (list) {
		struct sm_event *ev = list;
		list = ev->next;
		if (ev->kind == EV_URL)
			on_url(ev);
		else
			on_reply(ev);
		free(ev->url);
		free(ev->body);
		free(ev->response_url);
		free(ev);
	}
	if (stop_now && !sm.quitting)
		stop_begin();
}

static int sm_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct sm_conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		events_run();
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c)
			conn_gone(c, in && len ? (const char *)in : "connection error");
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (c) {
			c->established = true;
			c->last_rx_us = wk_mono_us();
			lws_sul_schedule(sm.ctx, 0, &c->ping_sul, conn_ping_due, (lws_usec_t)sm.ping_us);
			if (c->out || c->closing)
				lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return c ? conn_receive(c, wsi, in, len) : -1;
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		if (c)
			c->last_rx_us = wk_mono_us();
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return c ? conn_write(c, wsi) : 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c)
			conn_gone(c, NULL);
		return 0;
	default:
		return 0;
	}
}

/* Test builds only: WK_TEST_SLACK_SOCKET_PING_MS and _DEAD_MS shorten the
 * keepalive, so a silent link is found in seconds. */
static int64_t keepalive_ms(const char *env, int64_t dflt)
{
#ifdef WK_TEST_HOOKS
	const char *e = getenv(env);
	int64_t v;
	if (e && wk_parse_i64(e, 100, 600000, &v))
		return v;
#else
	(void)env;
#endif
	return dflt;
}

static void *sm_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < sm.nslots; i++)
		slot_fetch(&sm.slots[i]);
	while (!sm.done)
		if (lws_service(sm.ctx, 0) < 0)
			break;
	/* Whatever is left closes with the context; conn_gone() runs for each. */
	lws_sul_cancel(&sm.ack_sul);
	lws_sul_cancel(&sm.stop_sul);
	lws_context_destroy(sm.ctx);
	while (sm.conns) {
		struct sm_conn *c = sm.conns;
		sm.conns = c->next;
		conn_free(c);
	}
	pthread_mutex_lock(&sm.lock);
	sm.running = false;
	sm.ctx = NULL;
	struct sm_event *list = sm.events;
	sm.events = NULL;
	sm.events_tail = &sm.events;
	while (sm.pending) {	/* their workers answer at response_url */
		struct sm_pending *p = sm.pending;
		sm.pending = p->next;
		free(p);
	}
	pthread_mutex_unlock(&sm.lock);
	while (list) {
		struct sm_event *ev = list;
		struct sm_frame tmp = { .late_body = ev->body, .late_url = ev->response_url, .late_len = ev->len };
		list = ev->next;
		frame_post_late(&tmp);
		free(tmp.late_body);
		free(ev->url);
		free(ev->response_url);
		free(ev);
	}
	return NULL;
}

int slack_socket_start(const struct config *cfg)
{
	struct lws_context_creation_info info;

	if (!cfg->slack_app_token[0])
		return 0;
	memset(&sm.slots, 0, sizeof(sm.slots));
	sm.cfg = cfg;
	sm.nslots = (int)(cfg->slack_socket_connections < 1 ? 1
			  : cfg->slack_socket_connections > SM_MAX_SLOTS ? SM_MAX_SLOTS
			  : cfg->slack_socket_connections);
	for (int i = 0; i < sm.nslots; i++) {
		sm.slots[i].index = i;
		sm.slots[i].first = true;
	}
	sm.ws_allowed = slack_socket_url_loopback(cfg->slack_api_url);
	sm.ping_us = keepalive_ms("WK_TEST_SLACK_SOCKET_PING_MS", SLACK_SOCKET_PING_MS) * 1000;
	sm.dead_us = keepalive_ms("WK_TEST_SLACK_SOCKET_DEAD_MS", SLACK_SOCKET_DEAD_MS) * 1000;
	sm.done = false;
	sm.quitting = false;
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);	/* no start-up notices; http_server.c routes the rest */
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.gid = -1;
	info.uid = -1;
	if (access(SM_CA_FILE, R_OK) == 0)
		info.client_ssl_ca_filepath = SM_CA_FILE;
	struct lws_context *ctx = lws_create_context(&info);
	if (!ctx) {
		log_error("slack.socket.start", "error=\"cannot create the WebSocket client context\"");
		return -1;
	}
	pthread_mutex_lock(&sm.lock);
	sm.ctx = ctx;
	sm.running = true;
	sm.stopping = false;
	sm.events = NULL;
	sm.events_tail = &sm.events;
	pthread_mutex_unlock(&sm.lock);
	if (pthread_create(&sm.thread, NULL, sm_main, NULL) != 0) {
		pthread_mutex_lock(&sm.lock);
		sm.running = false;
		sm.ctx = NULL;
		pthread_mutex_unlock(&sm.lock);
		lws_context_destroy(ctx);
		log_error("slack.socket.start", "error=\"cannot start the Socket Mode thread\"");
		return -1;
	}
	sm.started = true;
	log_info("slack.socket.start", "connections=%d insecure_ws_allowed=%d", sm.nslots, sm.ws_allowed);
	return 0;
}

void slack_socket_stop(void)
{
	if (!sm.started)
		return;
	pthread_mutex_lock(&sm.lock);
	sm.stopping = true;
	if (sm.ctx)
		lws_cancel_service(sm.ctx);
	pthread_mutex_unlock(&sm.lock);
	pthread_join(sm.thread, NULL);
	sm.started = false;
	log_info("slack.socket.stop", "status=0");
}
