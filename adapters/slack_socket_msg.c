/* slack_socket_msg.c - what Slack says over a Socket Mode connection (slack.md
 * 1.5): envelopes by type, hello, disconnect; and the URL checks. Pure reading
 * and routing: the connection work is slack_socket.c's (slack_socket_int.h). */
#include "adapters/slack_socket.h"
#include "adapters/slack_socket_int.h"
#include "adapters/slack.h"
#include "adapters/slack_events.h"
#include "bot/buf.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

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

/* ---- messages ---- */

static void on_command(struct sm_conn *c, json_t *payload, const char *eid, bool accepts)
{
	char err[200], body[400];
	struct buf b = BUF_INIT(0);
	uint64_t id;

	if (!accepts) {	/* no payload allowed: ack now, the answer goes to response_url */
		sm_conn_ack(c, eid, NULL, 0, "plain");
		if (slack_envelope_command(sm_config(), payload, 0, err, sizeof(err)) < 0)
			log_warn("slack.socket.command", "reason=%s", log_quote(body, sizeof(body), err));
		return;
	}
	id = sm_pending_add(c, eid);
	if (slack_envelope_command(sm_config(), payload, id, err, sizeof(err)) == 0)
		return;
	log_warn("slack.socket.command", "reason=%s", log_quote(body, sizeof(body), err));
	if (!sm_pending_take(id))
		return;
	buf_adds(&b, "{\"response_type\":\"ephemeral\",\"text\":");
	buf_add_json_string(&b, err, strlen(err));
	buf_addc(&b, '}');
	sm_conn_ack(c, eid, b.data, b.len, "payload");
	buf_free(&b);
}

static void on_interactive(struct sm_conn *c, json_t *payload, const char *eid, bool accepts)
{
	char err[200], q[240];

	(void)accepts;
	sm_conn_ack(c, eid, NULL, 0, "plain");
	if (slack_envelope_action(payload, err, sizeof(err)) < 0)
		log_warn("slack.socket.action", "reason=%s", log_quote(q, sizeof(q), err));
}

static void on_event(struct sm_conn *c, json_t *payload, const char *eid, bool accepts)
{
	int rc = slack_events_submit(sm_config(), payload);

	(void)accepts;
	/* Shutting down: no ack, so Slack delivers it again to another connection. */
	if (rc == 1) {
		log_info("slack.socket.event", "result=not_acked reason=\"shutting down; Slack sends it again\"");
		return;
	}
	sm_conn_ack(c, eid, NULL, 0, "plain");
	if (rc < 0)
		log_info("slack.socket.event", "result=refused reason=\"not an event_callback with an event_id, "
					       "team and event\"");
}

static void on_other_envelope(struct sm_conn *c, json_t *payload, const char *eid, bool accepts)
{
	(void)payload;
	(void)accepts;
	sm_conn_ack(c, eid, NULL, 0, "plain");
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

	sm_conn_hello(c, json_is_integer(n) ? (long long)json_integer_value(n) : -1LL);
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
	log_info("slack.socket.disconnect", "slot=%d conn=%llu reason=%s", sm_conn_slot(c), sm_conn_id(c),
		 log_quote(q, sizeof(q), reason ? reason : ""));
	sm_conn_disconnect(c, why, refresh);
}

static const struct {
	const char *type;
	void (*fn)(struct sm_conn *c, json_t *m);
} controls[] = {
	{ "hello", on_hello },
	{ "disconnect", on_disconnect },
};

void sm_message(struct sm_conn *c, const char *data, size_t len)
{
	json_error_t jerr;
	json_t *m = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *type = jstr(m, "type"), *eid = jstr(m, "envelope_id");
	char q[80];
	size_t i;

	if (!json_is_object(m) || !type) {
		log_warn("slack.socket.message", "slot=%d reason=\"not a JSON object with a type\"", sm_conn_slot(c));
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

