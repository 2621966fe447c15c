/* slack_socket_int.h - between slack_socket.c (thread, shared state),
 * slack_socket_conn.c (slots and connections) and slack_socket_msg.c (what
 * Slack says: envelopes, hello, disconnect; URLs). No other module includes
 * this. Everything here runs on the Socket Mode thread unless it says it
 * takes sm.lock; a struct sm_conn is valid for the duration of a call only. */
#ifndef WK_SLACK_SOCKET_INT_H
#define WK_SLACK_SOCKET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>
#include <pthread.h>

#include "bot/buf.h"
#include "bot/config.h"

#define SM_ENVELOPE_ID_MAX 128
#define SM_MAX_SLOTS 10

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

struct sm_state {
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
};

extern struct sm_state sm;


/* ---- slack_socket.c: shared state (takes sm.lock itself) ---- */
uint64_t sm_pending_add(const struct sm_conn *c, const char *envelope_id);
bool sm_pending_take(uint64_t id);
bool sm_conn_has_pending(const struct sm_conn *c);
void sm_pending_drop_conn(uint64_t conn_id);	/* its connection is gone */
/* From any thread: a courier answer for the thread (dropped once it stopped). */
void sm_events_push(struct sm_event *ev);
void sm_events_run(void);			/* on lws_cancel_service() */
void sm_stop_check(lws_sorted_usec_list_t *sul);	/* stopping: done once no connection is left */

/* ---- slack_socket_conn.c ---- */
extern const struct lws_protocols sm_protocols[];
struct sm_conn *sm_conn_find(uint64_t id);
void sm_conn_free(struct sm_conn *c);
void sm_frame_post_late(struct sm_frame *f);	/* its answer to response_url, once */
void sm_slot_fetch(struct sm_slot *s);		/* apps.connections.open, then connect */
void sm_on_url(struct sm_event *ev);
void sm_on_reply(struct sm_event *ev);
void sm_stop_begin(void);

/* ---- for slack_socket_msg.c ---- */

const struct config *sm_config(void);
/* For log lines: the connection's slot and id. */
int sm_conn_slot(const struct sm_conn *c);
unsigned long long sm_conn_id(const struct sm_conn *c);
/* Queue {"envelope_id":..} with payload (our own JSON, or NULL) on c; kind
 * names it for metrics (plain, payload, working). Returns the queued frame. */
struct sm_frame *sm_conn_ack(struct sm_conn *c, const char *envelope_id, const char *payload, size_t plen,
			     const char *kind);
/* sm_pending_add(): a slash command waiting for its ack, acked "Working on
 * it" at slack.ack_after_ms unless answered first; sm_pending_take() takes it
 * back (true) unless a worker's answer took it first. */
/* hello: c is live; retiring connections of its slot may close now. */
void sm_conn_hello(struct sm_conn *c, long long num_connections);
/* disconnect: refresh opens a new connection before c closes; otherwise c
 * closes and its slot waits SLACK_SOCKET_LONG_MS. why is static. */
void sm_conn_disconnect(struct sm_conn *c, const char *why, bool refresh);

/* slack_socket_msg.c: one whole text message from Slack on c. */
void sm_message(struct sm_conn *c, const char *data, size_t len);

#endif
