/* slack_socket.c - see slack_socket.h
 *
 * This file: the thread and its lifecycle, and the state shared with other
 * threads under sm.lock (pending slash-command acks, the event queue fed by
 * the courier and the workers). Slots and connections: slack_socket_conn.c;
 * what Slack says: slack_socket_msg.c. */
#include "adapters/slack_socket.h"
#include "adapters/slack_socket_int.h"
#include "adapters/slack.h"
#include "bot/courier.h"
#include "bot/log.h"
#include "bot/util.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

struct sm_state sm = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- shared state: pending acks, events ---- */

void sm_events_push(struct sm_event *ev)
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

uint64_t sm_pending_add(const struct sm_conn *c, const char *envelope_id)
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
bool sm_pending_take(uint64_t id)
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

bool sm_conn_has_pending(const struct sm_conn *c)
{
	bool any = false;

	pthread_mutex_lock(&sm.lock);
	for (struct sm_pending *p = sm.pending; p && !any; p = p->next)
		any = p->conn_id == c->id;
	pthread_mutex_unlock(&sm.lock);
	return any;
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
		struct sm_conn *c = sm_conn_find(p->conn_id);
		due = p->next;
		if (c)
			sm_conn_ack(c, p->envelope_id, SLACK_WORKING_BODY, strlen(SLACK_WORKING_BODY), "working");
		free(p);
	}
	if (next)
		lws_sul_schedule(sm.ctx, 0, &sm.ack_sul, ack_due, (lws_usec_t)(next - now));
}

void sm_pending_drop_conn(uint64_t conn_id)
{
	struct sm_pending **pp;

	pthread_mutex_lock(&sm.lock);
	for (pp = &sm.pending; *pp;) {
		struct sm_pending *p = *pp;
		if (p->conn_id == conn_id) {
			*pp = p->next;
			free(p);
		} else {
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&sm.lock);
}

void sm_stop_check(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	if (!sm.conns || wk_mono_us() > sm.stop_deadline_us) {
		sm.done = true;
		lws_cancel_service(sm.ctx);	/* timers run before lws_service() polls: wake that poll */
	} else {
		lws_sul_schedule(sm.ctx, 0, &sm.stop_sul, sm_stop_check, 20 * LWS_US_PER_MS);
	}
}

void sm_events_run(void)
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
			sm_on_url(ev);
		else
			sm_on_reply(ev);
		free(ev->url);
		free(ev->body);
		free(ev->response_url);
		free(ev);
	}
	if (stop_now && !sm.quitting)
		sm_stop_begin();
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

/* The CAs a wss:// server's certificate must chain to: the system's. Test
 * builds may name another file (WK_TEST_SLACK_SOCKET_CA_FILE), so a fake
 * Slack with its own certificate proves verification is on. */
static const char *ca_file(void)
{
#ifdef WK_TEST_HOOKS
	const char *e = getenv("WK_TEST_SLACK_SOCKET_CA_FILE");
	if (e && e[0])
		return e;
#endif
	return access(SM_CA_FILE, R_OK) == 0 ? SM_CA_FILE : NULL;
}

static void *sm_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < sm.nslots; i++)
		sm_slot_fetch(&sm.slots[i]);
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
		sm_conn_free(c);
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
		sm_frame_post_late(&tmp);
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
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = sm_protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.gid = -1;
	info.uid = -1;
	info.client_ssl_ca_filepath = ca_file();
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
