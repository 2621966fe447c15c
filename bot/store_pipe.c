/* store_pipe.c - the loop thread's pipelined Redis connection (see the header). */
#include "bot/store_pipe.h"
#include "bot/buf.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/schedule_cache.h"
#include "bot/store_sentinel.h"
#include "bot/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

/* Past this many commands waiting, requests go to the workers: their queues
 * are fair between workspaces, and a Redis that slow has no use for more. */
#define PIPE_MAX_WAITING 4096
#define PIPE_SCRIPTS 8
#define PIPE_RETRY_MS 1000
#define PIPE_CHECK_US (100 * LWS_US_PER_MS)

struct waiting {
	store_pipe_cb cb;	/* NULL: our own SCRIPT LOAD */
	void *arg;
	const struct store_script *script;
	uint64_t end;		/* bytes queued on this connection up to this command's end */
	int64_t at_us;
};

static struct {
	const struct config *cfg;
	struct lws_context *ctx;
	struct lws_vhost *vhost;

	/* The connector thread and what it hands over. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started, want, stopping, answered;
	int ready_fd;
	uint64_t ready_gen;
	char ready_err[200];	/* why ready_fd is -1 */
	struct store *dialer;	/* the connector's own */

	/* Loop thread. */
	struct lws *wsi;
	int fd;
	uint64_t gen;
	bool connecting, failed_before;
	int64_t next_try_ms;
	struct buf out;		/* formatted commands; out_sent of them written */
	size_t out_sent;
	uint64_t queued, written;
	struct waiting *q;	/* ring: oldest at qhead */
	size_t qhead, qlen, qcap;
	redisReader *reader;
	struct {
		const struct store_script *script;
		char sha[41];
	} shas[PIPE_SCRIPTS];
	size_t nshas;
	lws_sorted_usec_list_t sul;
	bool sul_armed;
	struct schedule_cache *schedules;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .ready_fd = -1, .fd = -1 };

static void *connector_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&P.lock);
	for (;;) {
		while (!P.want && !P.stopping)
			pthread_cond_wait(&P.cond, &P.lock);
		if (P.stopping)
			break;
		P.want = false;
		pthread_mutex_unlock(&P.lock);
		uint64_t gen = 0;
		int fd = store_take_fd(P.dialer, &gen);
		pthread_mutex_lock(&P.lock);
		P.ready_fd = fd;
		P.ready_gen = gen;
		wk_strlcpy(P.ready_err, fd < 0 ? store_error(P.dialer) : "", sizeof(P.ready_err));
		P.answered = true;
		if (P.ctx)
			lws_cancel_service(P.ctx);
	}
	pthread_mutex_unlock(&P.lock);
	return NULL;
}

void store_pipe_start(const struct config *cfg, struct lws_context *ctx)
{
	P.cfg = cfg;
	P.ctx = ctx;
	P.vhost = lws_get_vhost_by_name(ctx, "watchkeeper");
	P.dialer = store_open(cfg->redis_url, cfg->redis_timeout_ms);
	buf_init(&P.out, 0);
	P.schedules = schedule_cache_new(16);
	P.stopping = false;
	if (pthread_create(&P.thread, NULL, connector_main, NULL) != 0) {
		log_error("store_pipe.start", "error=\"no connector thread\"");
		return;
	}
	P.started = true;
	pthread_mutex_lock(&P.lock);
	P.want = P.connecting = true;
	pthread_cond_signal(&P.cond);
	pthread_mutex_unlock(&P.lock);
}

static void ask_connection(void)
{
	if (!P.started || P.connecting || wk_now_ms() < P.next_try_ms)
		return;
	P.connecting = true;
	pthread_mutex_lock(&P.lock);
	P.want = true;
	pthread_cond_signal(&P.cond);
	pthread_mutex_unlock(&P.lock);
}

static struct waiting *q_at(size_t i)
{
	return &P.q[(P.qhead + i) % P.qcap];
}

static void q_push(const struct waiting *w)
{
	if (P.qlen == P.qcap) {
		size_t cap = P.qcap ? P.qcap * 2 : 64;
		struct waiting *q = xmalloc(cap * sizeof(*q));
		for (size_t i = 0; i < P.qlen; i++)
			q[i] = *q_at(i);
		free(P.q);
		P.q = q;
		P.qcap = cap;
		P.qhead = 0;
	}
	*q_at(P.qlen++) = *w;
}

static struct waiting q_pop(void)
{
	struct waiting w = *q_at(0);

	P.qhead = (P.qhead + 1) % P.qcap;
	P.qlen--;
	return w;
}

/* The connection is done with: every command waiting hears its outcome
 * (ran when it left whole), and the next request asks for a new one. */
static void pipe_drop(const char *why)
{
	if (P.wsi && P.stopping) {
		log_info("store_pipe.close", "waiting=%zu", P.qlen);
		lws_set_timeout(P.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);	/* lws closes fd */
	} else if (P.wsi) {
		log_warn("store_pipe.drop", "waiting=%zu reason=\"%s\"", P.qlen, why);
		lws_set_timeout(P.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		metrics_redis_error();
	}
	P.wsi = NULL;
	P.fd = -1;
	if (P.reader) {
		redisReaderFree(P.reader);
		P.reader = NULL;
	}
	buf_reset(&P.out);
	P.out_sent = 0;
	uint64_t written = P.written;
	P.queued = P.written = 0;
	P.next_try_ms = wk_now_ms() + PIPE_RETRY_MS;
	while (P.qlen) {
		struct waiting w = q_pop();
		if (w.cb)
			w.cb(w.arg, NULL, w.end <= written);
	}
}

static void pipe_queue(int argc, const char **argv, const char *what, const struct store_script *script,
		       store_pipe_cb cb, void *arg);

static void pipe_adopt(int fd, uint64_t gen)
{
	lws_sock_file_fd_type u;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		close(fd);
		return;
	}
	u.filefd = (lws_filefd_type)fd;
	P.fd = fd;
	P.gen = gen;
	P.reader = redisReaderCreate();
	P.wsi = lws_adopt_descriptor_vhost(P.vhost, LWS_ADOPT_RAW_FILE_DESC, u, STORE_PIPE_PROTOCOL, NULL);
	if (!P.wsi) {
		/* lws closes what it could not adopt */
		P.fd = -1;
		redisReaderFree(P.reader);
		P.reader = NULL;
		P.next_try_ms = wk_now_ms() + PIPE_RETRY_MS;
		return;
	}
	log_info("store_pipe.connect", "result=ok");
	P.failed_before = false;
	/* Named, so that CLIENT LIST tells it from the workers' connections. */
	const char *argv[] = { "CLIENT", "SETNAME", STORE_PIPE_CLIENT_NAME };
	pipe_queue(3, argv, "CLIENT", NULL, NULL, NULL);
}

void store_pipe_wake(void)
{
	int fd = -1;
	uint64_t gen = 0;
	bool answered;
	char why[200] = "";

	pthread_mutex_lock(&P.lock);
	answered = P.answered;
	if (answered) {
		fd = P.ready_fd;
		gen = P.ready_gen;
		wk_strlcpy(why, P.ready_err, sizeof(why));
		P.ready_fd = -1;
		P.answered = false;
	}
	pthread_mutex_unlock(&P.lock);
	if (!answered)
		return;
	P.connecting = false;
	if (fd < 0) {
		if (!P.failed_before) {
			char q[240];
			log_warn("store_pipe.connect", "error=%s reason=\"commands go to the workers meanwhile\"",
				 log_quote(q, sizeof(q), why));
		}
		P.failed_before = true;
		P.next_try_ms = wk_now_ms() + PIPE_RETRY_MS;
		return;
	}
	if (P.wsi || P.stopping) {
		close(fd);
		return;
	}
	pipe_adopt(fd, gen);
}

/* No answer within the store's timeout: as a synchronous store, give up on
 * the connection (what it held may have run). */
static void pipe_check(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	P.sul_armed = false;
	if (!P.qlen)
		return;
	if (wk_mono_us() - q_at(0)->at_us > P.cfg->redis_timeout_ms * 1000) {
		pipe_drop("no answer in time");
		return;
	}
	P.sul_armed = true;
	lws_sul_schedule(P.ctx, 0, &P.sul, pipe_check, PIPE_CHECK_US);
}

static const char *pipe_sha(const struct store_script *script)
{
	for (size_t i = 0; i < P.nshas; i++)
		if (P.shas[i].script == script)
			return P.shas[i].sha;
	size_t i = P.nshas < PIPE_SCRIPTS ? P.nshas++ : 0;
	P.shas[i].script = script;
	store_script_sha(script, P.shas[i].sha);
	return P.shas[i].sha;
}

static void pipe_queue(int argc, const char **argv, const char *what, const struct store_script *script,
		       store_pipe_cb cb, void *arg)
{
	char *cmd = NULL;
	int len = redisFormatCommandArgv(&cmd, argc, argv, NULL);

	if (len < 0) {
		if (cb)
			cb(arg, NULL, false);
		return;
	}
	buf_add(&P.out, cmd, (size_t)len);
	redisFreeCommand(cmd);
	P.queued += (uint64_t)len;
	q_push(&(struct waiting){ cb, arg, script, P.queued, wk_mono_us() });
	metrics_redis_roundtrip(what);
	if (!P.sul_armed) {
		P.sul_armed = true;
		lws_sul_schedule(P.ctx, 0, &P.sul, pipe_check, PIPE_CHECK_US);
	}
}

int store_pipe_script(const struct store_script *script, int nkeys, const char *const *keys, int nargs,
		      const char *const *args, store_pipe_cb cb, void *arg)
{
	if (P.wsi && P.gen && P.gen != sentinel_generation())
		pipe_drop("the Redis primary moved");
	if (!P.wsi) {
		ask_connection();
		return -1;
	}
	const char *argv[24];
	if (P.qlen >= PIPE_MAX_WAITING || sentinel_switching() || nkeys + nargs + 3 > (int)ARRAY_LEN(argv))
		return -1;
	char numkeys[12];
	int argc = store_script_argv(argv, numkeys, pipe_sha(script), nkeys, keys, nargs, args);
	pipe_queue(argc, argv, script->name, script, cb, arg);
	return 0;
}

static int pipe_write(void)
{
	while (P.out_sent < P.out.len) {
		ssize_t n = write(P.fd, P.out.data + P.out_sent, P.out.len - P.out_sent);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			lws_callback_on_writable(P.wsi);
			return 0;
		}
		if (n <= 0)
			return -1;
		P.out_sent += (size_t)n;
		P.written += (uint64_t)n;
	}
	buf_reset(&P.out);
	P.out_sent = 0;
	return 0;
}

/* Redis refused without running: nothing ran, the caller may go elsewhere. */
static bool refused_unrun(const redisReply *r, bool *noscript, bool *readonly)
{
	if (r->type != REDIS_REPLY_ERROR)
		return false;
	*noscript = strncmp(r->str, "NOSCRIPT", 8) == 0;
	*readonly = strncmp(r->str, "READONLY", 8) == 0 || strstr(r->str, "READONLY You can't write") != NULL;
	return *noscript || *readonly;
}

static void pipe_answer(redisReply *r)
{
	struct waiting w = q_pop();
	bool noscript = false, readonly = false;

	if (refused_unrun(r, &noscript, &readonly)) {
		freeReplyObject(r);
		if (w.cb)
			w.cb(w.arg, NULL, false);
		if (noscript && P.wsi && w.script) {
			/* After a restart or SCRIPT FLUSH: load it once for the
			 * commands after this one. */
			char *text = store_script_text(w.script);
			const char *argv[] = { "SCRIPT", "LOAD", text };
			pipe_queue(3, argv, "SCRIPT", NULL, NULL, NULL);
			free(text);
		}
		if (readonly)
			pipe_drop("the Redis server is a replica now");
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		log_error("store.script", "script=%s error=\"%.160s\"", w.script ? w.script->name : "load", r->str);
		metrics_redis_error();
	}
	if (w.cb)
		w.cb(w.arg, r, true);
	else
		freeReplyObject(r);
}

static int pipe_read(void)
{
	char tmp[16384];

	for (;;) {
		ssize_t n = read(P.fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return -1;
		if (redisReaderFeed(P.reader, tmp, (size_t)n) != REDIS_OK)
			return -1;
		if ((size_t)n < sizeof(tmp))
			break;
	}
	for (;;) {
		void *reply = NULL;
		if (redisReaderGetReply(P.reader, &reply) != REDIS_OK)
			return -1;
		if (!reply)
			return 0;
		if (!P.qlen) {	/* an answer nobody asked for: the stream is not ours */
			freeReplyObject(reply);
			return -1;
		}
		pipe_answer(reply);
		if (!P.wsi)
			return 0;	/* dropped while answering */
	}
}

int store_pipe_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	if (wsi != P.wsi)
		return 0;	/* one we dropped, on its way out */
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (pipe_read() < 0)
			pipe_drop("the Redis connection broke");
		return 0;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (pipe_write() < 0)
			pipe_drop("the Redis connection broke");
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		P.wsi = NULL;	/* lws closes it: not ours to kill again */
		pipe_drop("the Redis connection closed");
		return 0;
	default:
		return 0;
	}
}

void store_pipe_flush(void)
{
	if (P.wsi && P.out_sent < P.out.len && pipe_write() < 0)
		pipe_drop("the Redis connection broke");
}

struct schedule_cache *store_pipe_schedules(void)
{
	return P.schedules;
}

void store_pipe_stop(void)
{
	if (!P.dialer)
		return;		/* never started */
	pthread_mutex_lock(&P.lock);
	P.stopping = true;
	P.ctx = NULL;
	pthread_cond_signal(&P.cond);
	pthread_mutex_unlock(&P.lock);
	if (P.started)
		pthread_join(P.thread, NULL);
	P.started = false;
	if (P.ready_fd >= 0)
		close(P.ready_fd);
	P.ready_fd = -1;
	pipe_drop("stopping");
	if (P.sul_armed)
		lws_sul_cancel(&P.sul);
	P.sul_armed = false;
	store_close(P.dialer);
	P.dialer = NULL;
	schedule_cache_free(P.schedules);
	P.schedules = NULL;
	buf_free(&P.out);
	free(P.q);
	P.q = NULL;
	P.qcap = P.qlen = P.qhead = 0;
}
