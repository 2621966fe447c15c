/* slack_socket_conn.c - Socket Mode slots and connections: getting a URL,
 * connecting, the frame queue and acks, closing, backing off, keepalive, and
 * the lws callback. Socket Mode thread only (see slack_socket_int.h). */
#include "adapters/slack_socket.h"
#include "adapters/slack_socket_int.h"
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

#define SM_FRAME_MAX (1024 * 1024)	/* a message; Slack's are a few kB */
#define SM_STABLE_US (60LL * 1000000)	/* up this long: the backoff starts over */
#define SM_STOP_GRACE_US (1000LL * 1000)

/* Reconnect delays (ms); lws adds up to jitter_percent on top. */
static const uint32_t backoff_ms[] = { 250, 1000, 2000, 5000, 10000, 30000, 60000 };
static const lws_retry_bo_t backoff = {
	.retry_ms_table = backoff_ms,
	.retry_ms_table_count = ARRAY_LEN(backoff_ms),
	.conceal_count = LWS_RETRY_CONCEAL_ALWAYS,
	.jitter_percent = 30,
};

static const char *jstr(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- frames ---- */

struct sm_conn *sm_conn_find(uint64_t id)
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
void sm_frame_post_late(struct sm_frame *f)
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
struct sm_frame *sm_conn_ack(struct sm_conn *c, const char *envelope_id, const char *payload, size_t plen,
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

static void slot_retry_due(lws_sorted_usec_list_t *sul)
{
	sm_slot_fetch(lws_container_of(sul, struct sm_slot, retry_sul));
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
	sm_events_push(ev);
}

void sm_slot_fetch(struct sm_slot *s)
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

const struct lws_protocols sm_protocols[] = {
	{ "slack-socket", sm_callback, 0, 64 * 1024, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

void sm_conn_free(struct sm_conn *c)
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
	ci.alpn = "http/1.1";	/* an RFC 6455 upgrade, never WebSockets over h2 */
	ci.local_protocol_name = sm_protocols[0].name;
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
		sm_conn_free(c);
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
	if (c->retiring && c->replaced && !c->out && !sm_conn_has_pending(c))
		conn_start_close(c, "refreshed");
}

/* The connection is gone (closed, or never made it): forget its pending acks
 * (their workers answer at response_url), send what its queue still held for
 * response_url there, and let its slot connect again. */
static void conn_gone(struct sm_conn *c, const char *detail)
{
	struct sm_conn **cp;
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
	sm_pending_drop_conn(c->id);
	for (f = c->out; f; f = f->next)
		sm_frame_post_late(f);
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
	sm_conn_free(c);
}

/* ---- for slack_socket_msg.c (slack_socket_int.h) ---- */

const struct config *sm_config(void)
{
	return sm.cfg;
}

int sm_conn_slot(const struct sm_conn *c)
{
	return c->slot->index;
}

unsigned long long sm_conn_id(const struct sm_conn *c)
{
	return (unsigned long long)c->id;
}

void sm_conn_hello(struct sm_conn *c, long long num_connections)
{
	if (c->live)
		return;
	c->live = true;
	c->live_since_us = wk_mono_us();
	metrics_slack_socket_open(1);
	log_info("slack.socket.hello", "slot=%d conn=%llu num_connections=%lld", c->slot->index,
		 (unsigned long long)c->id, num_connections);
	for (struct sm_conn *o = sm.conns; o; o = o->next)
		if (o != c && o->slot == c->slot && o->retiring) {
			o->replaced = true;
			conn_try_retire(o);
		}
}

void sm_conn_disconnect(struct sm_conn *c, const char *why, bool refresh)
{
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
	sm_slot_fetch(c->slot);
}

/* ---- lws callbacks ---- */

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
		sm_message(c, buf_cstr(&c->rx), c->rx.len);
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
		sm_frame_post_late(f);
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
			sm_slot_fetch(c->slot);
		}
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	conn_ping_frame(c);
	lws_sul_schedule(sm.ctx, 0, &c->ping_sul, conn_ping_due, (lws_usec_t)sm.ping_us);
}

void sm_on_url(struct sm_event *ev)
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

void sm_on_reply(struct sm_event *ev)
{
	struct sm_conn *c = sm_conn_find(ev->conn_id);
	struct sm_frame tmp = { .late_body = ev->body, .late_url = ev->response_url, .late_len = ev->len };

	/* A closing connection still writes its queue before the close frame. */
	if (!c) {
		sm_frame_post_late(&tmp);
		ev->body = tmp.late_body;
		return;
	}
	/* The answer stays with its ack until written: the connection may still close first. */
	struct sm_frame *f = sm_conn_ack(c, ev->envelope_id, ev->body, ev->len, ev->body ? "payload" : "plain");
	f->late_body = ev->body;
	f->late_len = ev->len;
	f->late_url = ev->response_url;
	ev->body = ev->response_url = NULL;
}

void sm_stop_begin(void)
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
	sm_stop_check(NULL);
}

static int sm_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct sm_conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		sm_events_run();
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

