/* test_teams_api.c - adapters/teams_api against a loopback HTTP/1.1 server
 * inside the test: the real courier and libcurl talk to it. One server
 * thread answers one request per connection (Connection: close), records
 * every request, and answers what the current test's handler says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "adapters/teams_api.h"
#include "bot/courier.h"
#include "bot/log.h"

#define APP_ID "00000000-0000-0000-0000-0000000000b0"
#define TENANT "00000000-0000-0000-0000-0000000000f1"
/* Characters a form must encode. */
#define SECRET "s3cr&t=p@ss word+/%"
#define SECRET_FORM "s3cr%26t%3Dp%40ss+word%2B%2F%25"
#define MAX_REQS 32

struct rec {
	char method[8];
	char path[2048];
	char auth[4400];
	char ctype[128];
	char body[8192];
	size_t body_len;
};

struct answer {
	int status;
	char headers[256];	/* extra lines, each ending in \r\n */
	char *body;		/* malloc'd by the handler, or NULL */
	int delay_ms;
};

typedef void (*handler_fn)(const struct rec *r, struct answer *a);

static struct {
	int lfd;
	int port;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	struct rec reqs[MAX_REQS];
	size_t n;
	int tokens;		/* token requests answered */
	handler_fn handler;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char app_id[] = APP_ID, password[] = SECRET, tenant[] = TENANT, token_url[128], no_app[] = "";
static struct config cfg;
static char svc[128];	/* serviceUrl with a trailing slash */

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	return s;
}

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- the server ---- */

static bool header_value(const char *head, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1, *e = strstr(v, "\r\n");
			while (*v == ' ')
				v++;
			size_t len = e ? (size_t)(e - v) : strlen(v);
			if (len >= size)
				len = size - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return true;
		}
	}
	return false;
}

static void serve_one(int fd)
{
	static char in[16384];
	size_t got = 0, need;
	char *end = NULL, cl[32] = "0";
	struct rec r;
	struct answer a = { 0 };
	struct timeval tv = { 5, 0 };

	memset(&r, 0, sizeof(r));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!end && got + 1 < sizeof(in)) {
		ssize_t k = recv(fd, in + got, sizeof(in) - 1 - got, 0);
		if (k <= 0)
			return;
		got += (size_t)k;
		in[got] = '\0';
		end = strstr(in, "\r\n\r\n");
	}
	if (!end)
		return;
	end[2] = '\0';	/* headers end with one \r\n for header_value */
	header_value(in, "Content-Length", cl, sizeof(cl));
	need = (size_t)strtoul(cl, NULL, 10);
	size_t hlen = (size_t)(end + 4 - in);
	while (got - hlen < need && got + 1 < sizeof(in)) {
		ssize_t k = recv(fd, in + got, sizeof(in) - 1 - got, 0);
		if (k <= 0)
			return;
		got += (size_t)k;
	}
	sscanf(in, "%7s %2047s", r.method, r.path);
	header_value(in, "Authorization", r.auth, sizeof(r.auth));
	header_value(in, "Content-Type", r.ctype, sizeof(r.ctype));
	r.body_len = need < sizeof(r.body) - 1 ? need : sizeof(r.body) - 1;
	memcpy(r.body, in + hlen, r.body_len);

	pthread_mutex_lock(&srv.lock);
	if (srv.n < MAX_REQS)
		srv.reqs[srv.n++] = r;
	if (strcmp(r.path, "/token") == 0)
		srv.tokens++;
	handler_fn h = srv.handler;
	pthread_mutex_unlock(&srv.lock);
	h(&r, &a);
	if (a.delay_ms)
		nap_ms(a.delay_ms);
	const char *body = a.body ? a.body : "";
	char *out = dupf("HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n%s\r\n%s", a.status, strlen(body), a.headers, body);
	for (size_t off = 0, len = strlen(out); off < len;) {
		ssize_t k = send(fd, out + off, len - off, MSG_NOSIGNAL);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	free(out);
	free(a.body);
}

static void *server_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&srv.stop)) {
		struct pollfd p = { srv.lfd, POLLIN, 0 };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(srv.lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(fd);
		close(fd);
	}
	return NULL;
}

/* Token n is "TOKEN<n>"; activities answer {"id":"1700000040000"}. */
static void default_handler(const struct rec *r, struct answer *a)
{
	if (strcmp(r->path, "/token") == 0) {
		a->status = 200;
		a->body = dupf("{\"token_type\":\"Bearer\",\"expires_in\":3600,\"ext_expires_in\":3600,"
			       "\"access_token\":\"TOKEN%d\"}", srv.tokens);
		return;
	}
	a->status = 201;
	a->body = dupf("{\"id\":\"1700000040000\"}");
}

static void use(handler_fn h)
{
	pthread_mutex_lock(&srv.lock);
	srv.n = 0;
	srv.tokens = 0;
	srv.handler = h;
	pthread_mutex_unlock(&srv.lock);
	teams_token_forget();
}

static size_t count(const char *path_prefix)
{
	size_t k = 0;

	pthread_mutex_lock(&srv.lock);
	for (size_t i = 0; i < srv.n; i++)
		if (strncmp(srv.reqs[i].path, path_prefix, strlen(path_prefix)) == 0)
			k++;
	pthread_mutex_unlock(&srv.lock);
	return k;
}

/* The i-th request (0 = first) whose path starts with prefix. */
static struct rec nth(const char *prefix, size_t i)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&srv.lock);
	for (size_t j = 0; j < srv.n; j++)
		if (strncmp(srv.reqs[j].path, prefix, strlen(prefix)) == 0 && i-- == 0) {
			r = srv.reqs[j];
			break;
		}
	pthread_mutex_unlock(&srv.lock);
	return r;
}

static int group_setup(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	(void)state;
	log_set_level(LOG_ERROR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(srv.lfd >= 0);
	assert_int_equal(bind(srv.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(srv.lfd, 16), 0);
	assert_int_equal(getsockname(srv.lfd, (struct sockaddr *)&sa, &len), 0);
	srv.port = ntohs(sa.sin_port);
	srv.handler = default_handler;
	assert_int_equal(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
	snprintf(token_url, sizeof(token_url), "http://127.0.0.1:%d/token", srv.port);
	snprintf(svc, sizeof(svc), "http://127.0.0.1:%d/svc/", srv.port);
	cfg.teams_app_id = app_id;
	cfg.teams_app_password = password;
	cfg.teams_tenant_id = tenant;
	cfg.teams_token_url = token_url;
	assert_int_equal(courier_start(&cfg), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	courier_stop(2000);
	atomic_store(&srv.stop, true);
	pthread_join(srv.thread, NULL);
	close(srv.lfd);
	curl_global_cleanup();
	return 0;
}

static const char activity[] = "{\"type\":\"message\",\"text\":\"You are paged for INC-42\"}";

static int send_plain(const char *service_url, const char *conv, const char *reply_to, char *id, size_t idsize,
		      long *ra, char *why, size_t whysize)
{
	return teams_send(&cfg, service_url, conv, reply_to, activity, strlen(activity), id, idsize, ra, why, whysize);
}

/* ---- tests ---- */

static void test_token_once_form_and_send(void **state)
{
	char id[64], why[256];
	long ra = 0;

	(void)state;
	use(default_handler);
	assert_int_equal(send_plain(svc, "a:1fixtureConversationId", NULL, id, sizeof(id), &ra, why, sizeof(why)), 0);
	assert_string_equal(id, "1700000040000");
	assert_int_equal(ra, -1);
	assert_int_equal(send_plain(svc, "a:1fixtureConversationId", NULL, id, sizeof(id), &ra, why, sizeof(why)), 0);
	assert_int_equal(count("/token"), 1);
	assert_int_equal(count("/svc/"), 2);

	struct rec t = nth("/token", 0);
	assert_string_equal(t.method, "POST");
	assert_string_equal(t.ctype, "application/x-www-form-urlencoded");
	assert_string_equal(t.body, "grant_type=client_credentials&client_id=" APP_ID "&client_secret=" SECRET_FORM
				    "&scope=https%3A%2F%2Fapi.botframework.com%2F.default");
	for (size_t i = 0; i < 2; i++) {
		struct rec s = nth("/svc/", i);
		assert_string_equal(s.method, "POST");
		assert_string_equal(s.path, "/svc/v3/conversations/a%3A1fixtureConversationId/activities");
		assert_string_equal(s.auth, "Bearer TOKEN1");
		assert_string_equal(s.ctype, "application/json");
		assert_string_equal(s.body, activity);
	}
}

static void test_urls(void **state)
{
	char id[64], why[256], bare[128];
	long ra;

	(void)state;
	use(default_handler);
	snprintf(bare, sizeof(bare), "http://127.0.0.1:%d/svc", srv.port);
	assert_int_equal(send_plain(svc, "19:abc@thread.skype;messageid=17", NULL, id, sizeof(id), &ra, why,
				    sizeof(why)), 0);
	assert_int_equal(send_plain(bare, "19:abc@thread.skype;messageid=17", NULL, id, sizeof(id), &ra, why,
				    sizeof(why)), 0);
	assert_int_equal(send_plain(bare, "a:1", "1700000030000", id, sizeof(id), &ra, why, sizeof(why)), 0);
	assert_string_equal(nth("/svc/", 0).path,
			    "/svc/v3/conversations/19%3Aabc%40thread.skype%3Bmessageid%3D17/activities");
	assert_string_equal(nth("/svc/", 1).path, nth("/svc/", 0).path);
	assert_string_equal(nth("/svc/", 2).path, "/svc/v3/conversations/a%3A1/activities/1700000030000");
}

static void short_token_handler(const struct rec *r, struct answer *a)
{
	if (strcmp(r->path, "/token") == 0) {
		a->status = 200;
		a->body = dupf("{\"expires_in\":2,\"access_token\":\"TOKEN%d\"}", srv.tokens);
		return;
	}
	default_handler(r, a);
}

static void test_refresh_when_expired(void **state)
{
	char id[64], why[256];
	long ra;

	(void)state;
	use(short_token_handler);
	/* expires_in 2 s: kept for half of it. */
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 0);
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 0);
	assert_int_equal(count("/token"), 1);
	nap_ms(1100);
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 0);
	assert_int_equal(count("/token"), 2);
	assert_string_equal(nth("/svc/", 2).auth, "Bearer TOKEN2");
}

/* TOKEN1 is refused by the Connector, later tokens work. */
static void revoked_handler(const struct rec *r, struct answer *a)
{
	if (strcmp(r->path, "/token") != 0 && strcmp(r->auth, "Bearer TOKEN1") == 0) {
		a->status = 401;
		a->body = dupf("{\"error\":{\"code\":\"Unauthorized\",\"message\":\"no\"}}");
		return;
	}
	default_handler(r, a);
}

static void always_401_handler(const struct rec *r, struct answer *a)
{
	if (strcmp(r->path, "/token") != 0) {
		a->status = 401;
		a->body = dupf("{\"error\":{\"code\":\"BotNotRegistered\"}}");
		return;
	}
	default_handler(r, a);
}

static void test_401_new_token_one_retry(void **state)
{
	char id[64], why[256];
	long ra;

	(void)state;
	use(revoked_handler);
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 0);
	assert_string_equal(id, "1700000040000");
	assert_int_equal(count("/token"), 2);
	assert_int_equal(count("/svc/"), 2);
	assert_string_equal(nth("/svc/", 1).auth, "Bearer TOKEN2");

	use(always_401_handler);
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
	assert_int_equal(count("/svc/"), 2);	/* once more, not forever */
	assert_non_null(strstr(why, "BotNotRegistered"));
	assert_non_null(strstr(why, "teams.app_password"));
	assert_null(strstr(why, "TOKEN"));
}

static void long_token_handler(const struct rec *r, struct answer *a)
{
	if (strcmp(r->path, "/token") == 0) {
		char tok[3001];
		memset(tok, 'x', 3000);
		tok[3000] = '\0';
		a->status = 200;
		a->body = dupf("{\"expires_in\":3600,\"access_token\":\"%s\"}", tok);
		return;
	}
	default_handler(r, a);
}

static void test_long_token(void **state)
{
	char id[64], why[256];
	long ra;

	(void)state;
	use(long_token_handler);	/* Azure AD tokens are 1-3 KB: the courier must carry them */
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 0);
	assert_int_equal(strlen(nth("/svc/", 0).auth), strlen("Bearer ") + 3000);
}

static int status_to_give;
static const char *error_body;

static void status_handler(const struct rec *r, struct answer *a)
{
	if (strcmp(r->path, "/token") == 0) {
		default_handler(r, a);
		return;
	}
	a->status = status_to_give;
	if (status_to_give == 429)
		snprintf(a->headers, sizeof(a->headers), "Retry-After: 7\r\n");
	a->body = dupf("%s", error_body);
}

static void test_update(void **state)
{
	char why[256];
	long ra;

	(void)state;
	use(default_handler);
	assert_int_equal(teams_update(&cfg, svc, "a:1", "1700000040000", activity, strlen(activity), &ra, why,
				      sizeof(why)), 0);
	struct rec r = nth("/svc/", 0);
	assert_string_equal(r.method, "PUT");
	assert_string_equal(r.path, "/svc/v3/conversations/a%3A1/activities/1700000040000");
	assert_string_equal(r.body, activity);
	assert_string_equal(r.auth, "Bearer TOKEN1");
	use(status_handler);
	status_to_give = 404;
	error_body = "{\"error\":{\"code\":\"ActivityNotFound\"}}";
	assert_int_equal(teams_update(&cfg, svc, "a:1", "17", activity, strlen(activity), &ra, why, sizeof(why)), 4);
	status_to_give = 502;
	assert_int_equal(teams_update(&cfg, svc, "a:1", "17", activity, strlen(activity), &ra, why, sizeof(why)), -1);
	assert_int_equal(teams_update(&cfg, svc, "a:1", "", activity, strlen(activity), &ra, why, sizeof(why)), 1);
}

static void conv_handler(const struct rec *r, struct answer *a)
{
	if (strcmp(r->path, "/svc/v3/conversations") == 0) {
		a->status = 201;
		a->body = dupf("{\"id\":\"a:1fixtureConversationId\"}");
		return;
	}
	default_handler(r, a);
}

static void test_create_conversation(void **state)
{
	char conv[128], why[256];
	long ra;
	json_error_t err;

	(void)state;
	use(conv_handler);
	assert_int_equal(teams_create_conversation(&cfg, svc, TENANT, "29:1fixtureUserId", conv, sizeof(conv), &ra,
						   why, sizeof(why)), 0);
	assert_string_equal(conv, "a:1fixtureConversationId");
	struct rec r = nth("/svc/", 0);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/svc/v3/conversations");
	json_t *p = json_loads(r.body, 0, &err);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "bot"), "id")), "28:" APP_ID);
	json_t *members = json_object_get(p, "members");
	assert_int_equal(json_array_size(members), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(members, 0), "id")), "29:1fixtureUserId");
	assert_true(json_is_false(json_object_get(p, "isGroup")));
	assert_string_equal(json_string_value(json_object_get(p, "tenantId")), TENANT);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(p, "channelData"),
									       "tenant"), "id")), TENANT);
	json_decref(p);
}

static const char *member_body;

static void member_handler(const struct rec *r, struct answer *a)
{
	if (strstr(r->path, "/members/")) {
		a->status = 200;
		a->body = dupf("%s", member_body);
		return;
	}
	default_handler(r, a);
}

static void test_get_member(void **state)
{
	struct teams_member m;
	char why[256], big[400];
	long ra;

	(void)state;
	use(member_handler);
	member_body = "{\"id\":\"29:1fixtureUserId\",\"name\":\"Alice Doe\",\"aadObjectId\":"
		      "\"00000000-0000-0000-0000-0000000000a1\",\"email\":\"alice@example.com\","
		      "\"userPrincipalName\":\"alice@example.com\",\"tenantId\":\"" TENANT "\",\"role\":\"user\"}";
	assert_int_equal(teams_get_member(&cfg, svc, "a:1", "29:1fixtureUserId", &m, &ra, why, sizeof(why)), 0);
	assert_string_equal(m.id, "29:1fixtureUserId");
	assert_string_equal(m.name, "Alice Doe");
	assert_string_equal(m.aad_object_id, "00000000-0000-0000-0000-0000000000a1");
	assert_string_equal(m.email, "alice@example.com");
	assert_string_equal(m.user_principal_name, "alice@example.com");
	assert_string_equal(m.tenant_id, TENANT);
	struct rec r = nth("/svc/", 0);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/svc/v3/conversations/a%3A1/members/29%3A1fixtureUserId");

	/* Hostile: a name longer than its field, a control byte, no id. */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char *hostile = dupf("{\"id\":\"29:x\",\"name\":\"%s\"}", big);
	member_body = hostile;
	assert_int_equal(teams_get_member(&cfg, svc, "a:1", "29:x", &m, &ra, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "name"));
	assert_string_equal(m.id, "");
	free(hostile);
	member_body = "{\"id\":\"29:x\",\"email\":\"a\\u0001b@example.com\"}";
	assert_int_equal(teams_get_member(&cfg, svc, "a:1", "29:x", &m, &ra, why, sizeof(why)), 1);
	member_body = "{\"name\":\"Nobody\"}";
	assert_int_equal(teams_get_member(&cfg, svc, "a:1", "29:x", &m, &ra, why, sizeof(why)), -1);
}

static void test_errors(void **state)
{
	char id[64], why[256];
	struct teams_member m;
	long ra;

	(void)state;
	use(status_handler);
	status_to_give = 403;
	error_body = "{\"error\":{\"code\":\"MessageWritesBlocked\",\"message\":\"Thread is blocked\"}}";
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "the user blocked or uninstalled the bot"));
	assert_int_equal(ra, -1);

	error_body = "{\"error\":{\"code\":\"Forbidden\",\"subCode\":\"MessageWritesBlocked\"}}";
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "the user blocked or uninstalled the bot"));

	error_body = "{\"error\":{\"code\":\"BotDisabledByAdmin\"}}";
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
	assert_null(strstr(why, "blocked or uninstalled"));

	status_to_give = 429;
	error_body = "";
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), -1);
	assert_int_equal(ra, 7);

	status_to_give = 502;
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 2);
	assert_int_equal(ra, -1);
	assert_int_equal(teams_get_member(&cfg, svc, "a:1", "29:x", &m, &ra, why, sizeof(why)), -1);

	status_to_give = 412;
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), -1);

	status_to_give = 404;
	error_body = "{\"error\":{\"code\":\"ConversationNotFound\"}}";
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "ConversationNotFound"));

	/* A hostile code: kept to [A-Za-z0-9_.]. */
	status_to_give = 400;
	error_body = "{\"error\":{\"code\":\"<b>Bad\\nArg\\u0001x</b>\"}}";
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "bBadArg"));
	assert_null(strchr(why, '<'));
	assert_null(strchr(why, '\n'));
	/* Not JSON at all. */
	error_body = "<html>oops</html>";
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
}

static void token_refused_handler(const struct rec *r, struct answer *a)
{
	if (strcmp(r->path, "/token") == 0) {
		a->status = 401;
		a->body = dupf("{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret\"}");
		return;
	}
	default_handler(r, a);
}

static void test_token_refused(void **state)
{
	char id[64], why[256];
	long ra;

	(void)state;
	use(token_refused_handler);
	assert_int_equal(send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "teams.app_id"));
	assert_non_null(strstr(why, "teams.app_password"));
	assert_non_null(strstr(why, "invalid_client"));
	assert_null(strstr(why, "s3cr"));
	assert_int_equal(count("/svc/"), 0);
}

static void test_refusals(void **state)
{
	char id[64], why[256];
	long ra;
	struct config off = cfg;

	(void)state;
	use(default_handler);
	assert_int_equal(send_plain("ftp://127.0.0.1/svc", "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
	assert_int_equal(send_plain("https://", "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
	assert_int_equal(send_plain(svc, "", NULL, id, sizeof(id), &ra, why, sizeof(why)), 1);
	off.teams_app_id = no_app;
	assert_int_equal(teams_send(&off, svc, "a:1", NULL, activity, strlen(activity), id, sizeof(id), &ra, why,
				    sizeof(why)), 1);
	assert_non_null(strstr(why, "teams.app_id"));
	assert_int_equal(count("/"), 0);
}

/* ---- async ---- */

struct done_rec {
	pthread_mutex_t lock;
	int calls;
	int result;
	char id[64];
	char why[256];
};

static void on_done(void *arg, int result, const char *activity_id, long retry_after, const char *why)
{
	struct done_rec *d = arg;

	(void)retry_after;
	pthread_mutex_lock(&d->lock);
	d->calls++;
	d->result = result;
	snprintf(d->id, sizeof(d->id), "%s", activity_id);
	snprintf(d->why, sizeof(d->why), "%s", why);
	pthread_mutex_unlock(&d->lock);
}

static int calls_of(struct done_rec *d)
{
	pthread_mutex_lock(&d->lock);
	int n = d->calls;
	pthread_mutex_unlock(&d->lock);
	return n;
}

static void slow_token_handler(const struct rec *r, struct answer *a)
{
	default_handler(r, a);
	if (strcmp(r->path, "/token") == 0)
		a->delay_ms = 300;
}

static void wait_for(struct done_rec *d, int n)
{
	for (int i = 0; i < 1000 && calls_of(d) < n; i++)
		nap_ms(10);
}

static void test_async(void **state)
{
	struct done_rec d1 = { .lock = PTHREAD_MUTEX_INITIALIZER }, d2 = { .lock = PTHREAD_MUTEX_INITIALIZER };

	(void)state;
	use(slow_token_handler);
	teams_send_async(&cfg, svc, "a:1", NULL, strdup(activity), strlen(activity), on_done, &d1);
	teams_send_async(&cfg, svc, "a:2", "17", strdup(activity), strlen(activity), on_done, &d2);
	wait_for(&d1, 1);
	wait_for(&d2, 1);
	nap_ms(200);	/* a second call of done would come now */
	assert_int_equal(calls_of(&d1), 1);
	assert_int_equal(calls_of(&d2), 1);
	assert_int_equal(d1.result, 0);
	assert_int_equal(d2.result, 0);
	assert_string_equal(d1.id, "1700000040000");
	assert_string_equal(d2.id, "1700000040000");
	assert_int_equal(count("/token"), 1);
	assert_int_equal(count("/svc/"), 2);
	assert_string_equal(nth("/svc/v3/conversations/a%3A2", 0).path, "/svc/v3/conversations/a%3A2/activities/17");

	/* A 401 drops the token: one more token, the send once more. */
	struct done_rec d3 = { .lock = PTHREAD_MUTEX_INITIALIZER };
	use(revoked_handler);
	teams_send_async(&cfg, svc, "a:1", NULL, strdup(activity), strlen(activity), on_done, &d3);
	wait_for(&d3, 1);
	nap_ms(100);
	assert_int_equal(calls_of(&d3), 1);
	assert_int_equal(d3.result, 0);
	assert_int_equal(count("/token"), 2);
	assert_int_equal(count("/svc/"), 2);

	/* Failures reach done once too, with why. */
	struct done_rec d4 = { .lock = PTHREAD_MUTEX_INITIALIZER }, d5 = { .lock = PTHREAD_MUTEX_INITIALIZER };
	use(token_refused_handler);
	teams_send_async(&cfg, svc, "a:1", NULL, strdup(activity), strlen(activity), on_done, &d4);
	teams_send_async(&cfg, "ftp://x", "a:1", NULL, strdup(activity), strlen(activity), on_done, &d5);
	wait_for(&d4, 1);
	nap_ms(100);
	assert_int_equal(calls_of(&d4), 1);
	assert_int_equal(d4.result, 1);
	assert_non_null(strstr(d4.why, "teams.app_password"));
	assert_int_equal(calls_of(&d5), 1);
	assert_int_equal(d5.result, 1);
}

static void *blocking_sender(void *arg)
{
	char id[64], why[256];
	long ra;

	*(int *)arg = send_plain(svc, "a:1", NULL, id, sizeof(id), &ra, why, sizeof(why));
	return NULL;
}

/* Blocking callers that need a token at once wait for one refresh. */
static void test_blocking_callers_share_refresh(void **state)
{
	pthread_t t[4];
	int rc[4];

	(void)state;
	use(slow_token_handler);
	for (size_t i = 0; i < 4; i++) {
		rc[i] = 99;
		assert_int_equal(pthread_create(&t[i], NULL, blocking_sender, &rc[i]), 0);
	}
	for (size_t i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(rc[i], 0);
	}
	assert_int_equal(count("/token"), 1);
	assert_int_equal(count("/svc/"), 4);
}

static void test_async_fire_and_forget(void **state)
{
	(void)state;
	use(slow_token_handler);
	teams_send_async(&cfg, svc, "a:1", NULL, strdup(activity), strlen(activity), NULL, NULL);
	for (int i = 0; i < 500 && count("/svc/") < 1; i++)
		nap_ms(10);
	assert_int_equal(count("/token"), 1);
	assert_int_equal(count("/svc/"), 1);
	struct rec r = nth("/svc/", 0);
	assert_string_equal(r.auth, "Bearer TOKEN1");
	assert_string_equal(r.body, activity);
	nap_ms(100);	/* let the courier finish the post before the next test */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_once_form_and_send),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_refresh_when_expired),
		cmocka_unit_test(test_401_new_token_one_retry),
		cmocka_unit_test(test_long_token),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_create_conversation),
		cmocka_unit_test(test_get_member),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_token_refused),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_async),
		cmocka_unit_test(test_blocking_callers_share_refresh),
		cmocka_unit_test(test_async_fire_and_forget),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
