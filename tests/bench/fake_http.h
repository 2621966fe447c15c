/* fake_http - the small HTTP/1.1 server the benchmark fakes (fake_twilio.c,
 * fake_connector.c) are built on: libc only, one thread, epoll
 * (edge-triggered), keep-alive, pipelining, Expect: 100-continue.
 *
 * The library owns the listening socket, the loop, the connections and the
 * framing; a fake supplies two callbacks and answers each request with
 * fh_respond(). fh_serve() listens on 127.0.0.1:PORT (0 = any free port),
 * prints the port as the first line on stdout and serves until SIGTERM or
 * SIGINT. Heads over FH_HEAD_MAX or bodies over FH_BODY_MAX, malformed
 * requests and Transfer-Encoding go to the error callback (413 / 400 / 501);
 * that answer closes the connection.
 */
#ifndef FAKE_HTTP_H
#define FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FH_HEAD_MAX (16 * 1024)
#define FH_BODY_MAX (64 * 1024)

struct fh_conn;

/* One parsed request; the pointers point into the connection's input and
 * are valid only during the callback. */
struct fh_req {
	const char *method;
	size_t method_len;
	const char *target;	/* path and query, as sent */
	size_t target_len;
	size_t path_len;	/* target_len without any "?query" */
	const char *auth;	/* the Authorization value, NULL if absent */
	size_t auth_len;
	const char *body;
	size_t body_len;
	size_t head_len;
	bool http10;
	bool keep_alive;	/* false: fh_respond() closes after this answer */
	bool expect_continue;
};

struct fh_handlers {
	/* Every complete request: must call fh_respond() exactly once. */
	void (*request)(struct fh_conn *c, const struct fh_req *r);
	/* A request that cannot be served (status 400, 413 or 501): r is an
	 * empty request with keep_alive false; must call fh_respond() once. */
	void (*error)(struct fh_conn *c, const struct fh_req *r, int status);
};

/* Connections: open now (including the one asking), most at once, ever. */
struct fh_conn_counts {
	uint64_t now, max, total;
};
extern struct fh_conn_counts fh_conns;

/* The response body being built (one shared buffer: single thread, and each
 * request is answered before the next): clear it, then append. */
void fh_clear(void);
void fh_put(const char *s, size_t n);
void fh_lit(const char *s);
/* A JSON string with its quotes; NULL gives null. Quotes, backslashes and
 * control bytes are escaped, other bytes pass through. */
void fh_json(const char *s, size_t n);

/* Queue "HTTP/1.1 STATUS", Content-Type: application/json, Content-Length,
 * the Connection header the request calls for, EXTRA (whole header lines
 * with CRLF, or NULL) and the body built above. */
void fh_respond(struct fh_conn *c, const struct fh_req *r, int status, const char *extra);

bool fh_method_is(const struct fh_req *r, const char *m);
/* The path (without the query) is exactly P. */
bool fh_path_is(const struct fh_req *r, const char *p);

/* realloc, or exit(1) with "PROGRAM: out of memory". */
void *fh_xrealloc(void *p, size_t n);

/* Serve on PORT (a decimal string) until SIGTERM/SIGINT; NAME prefixes
 * messages on stderr. Returns 0 after a signal, 2 for a bad port; exits 1
 * when the socket cannot be set up. */
int fh_serve(const char *name, const char *port, const struct fh_handlers *h);

#endif
