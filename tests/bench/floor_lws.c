/* floor_lws.c - the hot path's floor (issue 13): what a signed command would cost if the
 * daemon did nothing but what it cannot avoid, measured by scripts/bench.sh next to it.
 *
 *   floor_lws [--port N] [--workers N] [--evalsha] [--redis URL]
 *
 * A libwebsockets 4.1 server with the daemon's settings (bot/http_server.c: keep-alive,
 * the same timeouts and header limit) and its hand-off: the loop thread reads the whole
 * body of POST /slack/commands, a worker of a small pool builds a JSON reply, queues it,
 * wakes the loop with lws_cancel_service(), and the loop writes it in
 * LWS_CALLBACK_HTTP_WRITEABLE. With --evalsha each worker, on its own hiredis connection
 * (URL from --redis or WK_REDIS_URL: unix:///path or redis://host:port), first runs one
 * EVALSHA of a script doing one HGET: the one Redis round trip a command can't avoid.
 * GET /healthz answers "ok" on the loop thread, for readiness checks. SIGTERM or SIGINT
 * stop it. Nothing is checked or logged per request: it is a floor, not a server. */
#include <hiredis/hiredis.h>
#include <libwebsockets.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX 8192
#define REPLY_MAX 512
#define SCRIPT "return redis.call('HGET', KEYS[1], ARGV[1])"
#define HASH_KEY "wk:{floor}:rotation"

/* One request, from its first body byte to its reply. Owned by the session while the
 * loop thread handles it, by the worker pipeline (queue, worker, done list) between
 * hand-off and drain; a session that closes meanwhile only unhooks it (session = NULL)
 * and the drain frees it. Both sides of that run on the loop thread: no locking. */
struct call {
	struct call *next;		/* the work queue, then the done list */
	struct session *session;	/* loop thread only */
	struct lws *wsi;		/* loop thread only, valid while session is set */
	bool in_flight;			/* loop thread only */
	int status;
	size_t body_len, reply_len;
	char body[BODY_MAX];
	char reply[REPLY_MAX];
};

struct session {	/* lws's per-connection user data */
	struct call *call;
	bool ready;	/* call->reply is set: write it when writable */
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct call *head, *tail;
};

static struct {
	struct lws_context *ctx;
	struct queue work;
	pthread_mutex_t done_lock;
	struct call *done;	/* LIFO, like the daemon's: order doesn't matter */
	atomic_bool stop;
	bool evalsha;
	const char *redis_url;
	char sha[41];
} fl = {
	.work = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL },
	.done_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* A whole decimal number in [lo, hi], else -1: a typo in a bench flag must
 * not quietly become port 0. */
static int number_arg(const char *s, int lo, int hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v >= lo && v <= hi ? (int)v : -1;
}

static redisContext *redis_connect(const char *url)
{
	redisContext *rc;
	char host[256];
	int port = 6379;

	if (strncmp(url, "unix://", 7) == 0) {
		rc = redisConnectUnix(url + 7);
	} else {
		const char *hp = strncmp(url, "redis://", 8) == 0 ? url + 8 : url;
		const char *colon = strrchr(hp, ':');
		size_t n = colon ? (size_t)(colon - hp) : strlen(hp);
		if (n >= sizeof(host))
			return NULL;
		memcpy(host, hp, n);
		host[n] = '\0';
		if (colon && (port = number_arg(colon + 1, 1, 65535)) < 0)
			return NULL;
		rc = redisConnect(host, port);
	}
	if (!rc || rc->err) {
		fprintf(stderr, "floor_lws: redis %s: %s\n", url, rc ? rc->errstr : "no memory");
		redisFree(rc);
		return NULL;
	}
	return rc;
}

/* Run on a worker: what a handler would do with the request, reduced to a lookup. */
static void build_reply(struct call *c, redisContext *rc)
{
	char user[32] = "nobody", oncall[64] = "U0BENCH1";
	const char *u = memmem(c->body, c->body_len, "user_id=", 8);

	if (u) {	/* echo the caller, so the body is really looked at */
		size_t i = 0;
		for (u += 8; u < c->body + c->body_len && *u != '&' && i + 1 < sizeof(user); u++)
			user[i++] = *u;
		user[i] = '\0';
	}
	c->status = 200;
	if (rc) {
		redisReply *r = redisCommand(rc, "EVALSHA %s 1 %s %s", fl.sha, HASH_KEY, "current");
		if (r && r->type == REDIS_REPLY_STRING)
			snprintf(oncall, sizeof(oncall), "%s", r->str);
		else
			c->status = 503;
		freeReplyObject(r);	/* NULL-safe */
	}
	int n = snprintf(c->reply, sizeof(c->reply),
			 "{\"response_type\":\"ephemeral\",\"text\":\"On call now: <@%s> (asked by <@%s>)\"}",
			 oncall, user);
	c->reply_len = n < 0 ? 0 : (size_t)n < sizeof(c->reply) ? (size_t)n : sizeof(c->reply) - 1;
}

static void *worker_main(void *arg)
{
	redisContext *rc = NULL;

	(void)arg;
	if (fl.evalsha && !(rc = redis_connect(fl.redis_url)))
		exit(1);
	pthread_mutex_lock(&fl.work.lock);
	for (;;) {
		struct call *c = fl.work.head;
		if (!c) {
			if (atomic_load(&fl.stop))
				break;
			pthread_cond_wait(&fl.work.cond, &fl.work.lock);
			continue;
		}
		fl.work.head = c->next;
		if (!fl.work.head)
			fl.work.tail = NULL;
		pthread_mutex_unlock(&fl.work.lock);
		build_reply(c, rc);
		/* Hand back as the daemon does (http_call_finish): push, then wake the loop
		 * unless an earlier answer's wake is still pending. */
		pthread_mutex_lock(&fl.done_lock);
		bool wake = fl.done == NULL;
		c->next = fl.done;
		fl.done = c;
		if (wake)
			lws_cancel_service(fl.ctx);
		pthread_mutex_unlock(&fl.done_lock);
		pthread_mutex_lock(&fl.work.lock);
	}
	pthread_mutex_unlock(&fl.work.lock);
	if (rc)
		redisFree(rc);
	return NULL;
}

static void submit(struct call *c)
{
	c->next = NULL;
	c->in_flight = true;
	pthread_mutex_lock(&fl.work.lock);
	if (fl.work.tail)
		fl.work.tail->next = c;
	else
		fl.work.head = c;
	fl.work.tail = c;
	pthread_cond_signal(&fl.work.cond);
	pthread_mutex_unlock(&fl.work.lock);
}

/* Loop thread, on LWS_CALLBACK_EVENT_WAIT_CANCELLED: replies to write. */
static void drain_done(void)
{
	struct call *list;

	pthread_mutex_lock(&fl.done_lock);
	list = fl.done;
	fl.done = NULL;
	pthread_mutex_unlock(&fl.done_lock);
	struct call *oldest_first = NULL;	/* as the daemon: oldest answer first */
	while (list) {
		struct call *next = list->next;
		list->next = oldest_first;
		oldest_first = list;
		list = next;
	}
	list = oldest_first;
	while (list) {
		struct call *c = list;
		list = c->next;
		c->in_flight = false;
		if (!c->session) {	/* the client left while the worker ran */
			free(c);
			continue;
		}
		c->session->ready = true;
		lws_callback_on_writable(c->wsi);
	}
}

/* Loop thread: the reply in one write, headers and body together, as the daemon's. The floor
 * writes it on the WRITEABLE turn after the answer arrives; the daemon writes at once. */
static int write_reply(struct lws *wsi, struct session *s)
{
	unsigned char buf[LWS_PRE + 512 + REPLY_MAX];
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
	struct call *c = s->call;
	char len[24];

	if (!c || !s->ready)
		return 0;
	int n = snprintf(len, sizeof(len), "%zu", c->reply_len);
	/* Content-Length by token, not lws_add_http_common_headers(): that one makes lws count
	 * the body down, and the body goes out in the same write as the headers. */
	if (lws_add_http_header_status(wsi, (unsigned)c->status, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)"application/json", 16, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (const unsigned char *)len,
					 n, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < c->reply_len)
		return -1;
	memcpy(p, c->reply, c->reply_len);
	p += c->reply_len;
	if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) != (int)(p - start))
		return -1;
	int status = c->status;
	free(c);
	s->call = NULL;
	s->ready = false;
	if (status == 413)
		return -1;	/* the rest of that body is still unread: don't parse it as a request */
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Loop thread: an answer that needs no worker (health, 404, 413). */
static void reply_now(struct lws *wsi, struct session *s, int status, const char *text)
{
	struct call *c = s->call ? s->call : calloc(1, sizeof(*c));

	if (!c)
		abort();
	s->call = c;
	c->status = status;
	c->reply_len = (size_t)snprintf(c->reply, sizeof(c->reply), "%s", text);
	s->ready = true;
	lws_callback_on_writable(wsi);
}

static void session_close(struct session *s)
{
	struct call *c = s ? s->call : NULL;

	if (!c)
		return;
	if (c->in_flight)
		c->session = NULL;	/* the drain frees it */
	else
		free(c);
	s->call = NULL;
	s->ready = false;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct session *s = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		session_close(s);	/* nothing should be left; be sure */
		if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 && strcmp(in, "/slack/commands") == 0) {
			s->call = calloc(1, sizeof(*s->call));
			if (!s->call)
				abort();
			s->call->session = s;
			s->call->wsi = wsi;
			/* lws reports no body completion for an empty body: hand it off now. */
			char cl[24] = "";
			if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 || atol(cl) == 0)
				submit(s->call);
			return 0;	/* the body follows */
		}
		if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 && strcmp(in, "/healthz") == 0)
			reply_now(wsi, s, 200, "ok\n");
		else
			reply_now(wsi, s, 404, "no such page\n");
		return 0;
	case LWS_CALLBACK_HTTP_BODY:
		if (s->call && !s->ready) {
			struct call *c = s->call;
			if (len > sizeof(c->body) - c->body_len) {
				reply_now(wsi, s, 413, "too large\n");
				return 0;
			}
			memcpy(c->body + c->body_len, in, len);
			c->body_len += len;
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		/* Not twice: an empty body was handed off already, and lws may still say so. */
		if (s->call && !s->ready && !s->call->in_flight)
			submit(s->call);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return write_reply(wsi, s);
	case LWS_CALLBACK_CLOSED_HTTP:
		session_close(s);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		drain_done();
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{ "http", callback, sizeof(struct session), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Signals go to this thread alone (blocked everywhere else), as in the daemon's main.c. */
static void *signal_main(void *arg)
{
	sigset_t *set = arg;
	int sig;

	if (sigwait(set, &sig) == 0) {
		atomic_store(&fl.stop, true);
		lws_cancel_service(fl.ctx);
	}
	return NULL;
}

/* Before the workers start: the script they run, and the field it reads. */
static int redis_prepare(void)
{
	redisContext *rc = redis_connect(fl.redis_url);
	redisReply *r;
	int ok;

	if (!rc)
		return -1;
	freeReplyObject(redisCommand(rc, "HSET %s current U0BENCH2", HASH_KEY));
	r = redisCommand(rc, "SCRIPT LOAD %s", SCRIPT);
	ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
	if (ok)
		memcpy(fl.sha, r->str, 41);
	else
		fprintf(stderr, "floor_lws: SCRIPT LOAD failed: %s\n", r ? r->str : rc->errstr);
	freeReplyObject(r);
	redisFree(rc);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	int port = 8090, nworkers = 4;
	pthread_t threads[64], sig_thread;
	sigset_t set;

	fl.redis_url = getenv("WK_REDIS_URL");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = number_arg(argv[++i], 1, 65535);
		else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
			nworkers = number_arg(argv[++i], 1, 64);
		else if (strcmp(argv[i], "--redis") == 0 && i + 1 < argc)
			fl.redis_url = argv[++i];
		else if (strcmp(argv[i], "--evalsha") == 0)
			fl.evalsha = true;
		else {
			fprintf(stderr, "usage: %s [--port N] [--workers N] [--evalsha] [--redis URL]\n", argv[0]);
			return 2;
		}
	}
	if (port < 0 || nworkers < 1 || nworkers > (int)(sizeof(threads) / sizeof(threads[0]))) {
		fprintf(stderr, "floor_lws: --port must be 1..65535 and --workers 1..64\n");
		return 2;
	}
	if (fl.evalsha && (!fl.redis_url || redis_prepare() < 0)) {
		fprintf(stderr, "floor_lws: --evalsha needs a Redis (--redis URL or WK_REDIS_URL)\n");
		return 1;
	}

	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&info, 0, sizeof(info));
	/* The daemon's settings (http_server_run), so the two differ only in what they do. */
	info.port = port;
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	info.vhost_name = "floor";
	info.timeout_secs = 20;
	info.timeout_secs_ah_idle = 12;
	info.keepalive_timeout = 30;
	info.max_http_header_data = 4096;
	fl.ctx = lws_create_context(&info);
	if (!fl.ctx) {
		fprintf(stderr, "floor_lws: cannot listen on 127.0.0.1:%d\n", port);
		return 1;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* inherited by every thread below */
	for (int i = 0; i < nworkers; i++)
		if (pthread_create(&threads[i], NULL, worker_main, NULL) != 0)
			return 1;
	if (pthread_create(&sig_thread, NULL, signal_main, &set) != 0)
		return 1;
	pthread_detach(sig_thread);	/* it may wait forever when the loop fails instead */
	fprintf(stderr, "floor_lws: listening on 127.0.0.1:%d, %d workers%s\n", port, nworkers,
		fl.evalsha ? ", one EVALSHA per request" : "");

	while (!atomic_load(&fl.stop) && lws_service(fl.ctx, 0) >= 0)
		;
	pthread_mutex_lock(&fl.work.lock);
	atomic_store(&fl.stop, true);
	pthread_cond_broadcast(&fl.work.cond);
	pthread_mutex_unlock(&fl.work.lock);
	for (int i = 0; i < nworkers; i++)
		pthread_join(threads[i], NULL);
	/* Replies the workers finished go back to their sessions, which free them when the
	 * context closes every connection. */
	drain_done();
	lws_context_destroy(fl.ctx);
	return 0;
}
