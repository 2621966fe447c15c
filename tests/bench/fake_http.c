/* fake_http - the HTTP/1.1 server under the benchmark fakes; see fake_http.h.
 * Libc only; one thread, so the state below is plain statics.
 */
#include "fake_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX FH_HEAD_MAX
#define BODY_MAX FH_BODY_MAX
/* Room for one maximal request plus the start of the next pipelined one. */
#define IN_MAX (HEAD_MAX + BODY_MAX + 4096)
#define IN_MIN 4096
/* Past this much unsent output we stop parsing, so a client that pipelines
 * without reading cannot make us buffer without bound. */
#define OUT_HIGH (256 * 1024)
/* After a fatal error we keep reading and dropping what the client still
 * sends, so our answer is not lost to a RST; this bounds that politeness. */
#define DRAIN_MAX (1024 * 1024)
#define MAX_EVENTS 256

struct fh_conn {
	int fd;
	char *in;
	size_t in_len, in_cap;
	size_t scan;		/* header end search resumes here, relative to the request */
	char *out;
	size_t out_len, out_off, out_cap;
	bool sent_continue;	/* 100 Continue already sent for the pending request */
	bool stalled;		/* process() stopped at OUT_HIGH with input left */
	bool closing;		/* answer queued, then close */
	bool peer_eof;
	bool wr_shut;
	size_t drained;
	struct fh_conn *prev, *next;
};

struct fh_conn_counts fh_conns;

static const struct fh_handlers *handlers;
static struct fh_conn *conns;
static int spare_fd = -1;

/* The response body being built (fh_clear, fh_put...): single thread, and each
 * request is answered before the next. */
static char *scratch;
static size_t scratch_len, scratch_cap;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

void *fh_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		/* GNU: the program's name without its directory. */
		fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
		exit(1);
	}
	return q;
}

/* ---- output buffers ---- */

static void grow(char **p, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 4096;

	if (need <= *cap)
		return;
	while (c < need)
		c *= 2;
	*p = fh_xrealloc(*p, c);
	*cap = c;
}

void fh_clear(void)
{
	scratch_len = 0;
}

void fh_put(const char *s, size_t n)
{
	grow(&scratch, &scratch_cap, scratch_len + n);
	memcpy(scratch + scratch_len, s, n);
	scratch_len += n;
}

void fh_lit(const char *s)
{
	fh_put(s, strlen(s));
}

/* JSON string (with quotes); NULL gives null. Control bytes and anything
 * that could end the string are escaped, other bytes pass through. */
void fh_json(const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	if (!s) {
		fh_lit("null");
		return;
	}
	grow(&scratch, &scratch_cap, scratch_len + 6 * n + 2);
	char *o = scratch + scratch_len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	scratch_len = (size_t)(o - scratch);
}

static void out_put(struct fh_conn *c, const char *s, size_t n)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	grow(&c->out, &c->out_cap, c->out_len + n);
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 501: return "Not Implemented";
	default: return "Unknown";
	}
}

/* Queue status + headers + the scratch buffer as body. */
void fh_respond(struct fh_conn *c, const struct fh_req *r, int status, const char *extra)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s%s\r\n",
		     status, reason(status), scratch_len,
		     !r->keep_alive ? "Connection: close\r\n" : r->http10 ? "Connection: keep-alive\r\n" : "",
		     extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		n = 0;
	out_put(c, head, (size_t)n);
	out_put(c, scratch, scratch_len);
	if (!r->keep_alive)
		c->closing = true;
}

bool fh_method_is(const struct fh_req *r, const char *m)
{
	size_t n = strlen(m);
	return r->method_len == n && memcmp(r->method, m, n) == 0;
}

bool fh_path_is(const struct fh_req *r, const char *p)
{
	size_t n = strlen(p);
	return r->path_len == n && memcmp(r->target, p, n) == 0;
}

/* ---- HTTP framing ---- */

/* Length of the head (through the blank line) of the request at in[start],
 * or 0 if not complete yet. Accepts bare LF line ends too; c->scan keeps the
 * search linear when a head arrives over many reads. */
static size_t find_head_end(struct fh_conn *c, size_t start)
{
	const char *p = c->in + start;
	size_t n = c->in_len - start, i = c->scan;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		if (!nl)
			break;
		size_t j = (size_t)(nl - p) + 1;
		if (j < n && p[j] == '\n')
			return j + 1;
		if (j + 1 < n && p[j] == '\r' && p[j + 1] == '\n')
			return j + 2;
		if (j >= n || (j + 1 >= n && p[j] == '\r')) {
			c->scan = j - 1;	/* undecided until more bytes come */
			return 0;
		}
		i = j;
	}
	c->scan = n;
	return 0;
}

static bool token_has(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; i < n;) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return true;
	}
	return false;
}

/* 0 ok; otherwise the HTTP status to fail with (connection then closes). */
static int parse_head(const char *h, size_t head_len, struct fh_req *r)
{
	const char *end = h + head_len, *line = h, *eol;
	bool have_cl = false, close_tok = false, ka_tok = false;

	memset(r, 0, sizeof(*r));
	r->head_len = head_len;

	/* Request line: METHOD SP TARGET SP HTTP/1.x */
	eol = memchr(line, '\n', (size_t)(end - line));
	size_t ll = (size_t)(eol - line);
	if (ll && line[ll - 1] == '\r')
		ll--;
	const char *sp1 = memchr(line, ' ', ll);
	if (!sp1 || sp1 == line)
		return 400;
	const char *rest = sp1 + 1;
	const char *sp2 = memchr(rest, ' ', ll - (size_t)(rest - line));
	if (!sp2 || sp2 == rest || rest[0] != '/')
		return 400;
	const char *ver = sp2 + 1;
	size_t vl = ll - (size_t)(ver - line);
	if (vl == 8 && memcmp(ver, "HTTP/1.1", 8) == 0)
		r->http10 = false;
	else if (vl == 8 && memcmp(ver, "HTTP/1.0", 8) == 0)
		r->http10 = true;
	else
		return 400;
	r->method = line;
	r->method_len = (size_t)(sp1 - line);
	r->target = rest;
	r->target_len = (size_t)(sp2 - rest);
	const char *q = memchr(r->target, '?', r->target_len);
	r->path_len = q ? (size_t)(q - r->target) : r->target_len;

	for (line = eol + 1; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		ll = (size_t)(eol - line);
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return 400;	/* obsolete line folding */
		const char *colon = memchr(line, ':', ll);
		if (!colon || colon == line)
			return 400;
		size_t nl = (size_t)(colon - line);
		const char *v = colon + 1, *ve = line + ll;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		size_t vlen = (size_t)(ve - v);

		if (nl == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
			size_t val = 0;
			if (vlen == 0)
				return 400;
			for (size_t i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9')
					return 400;
				if (val > BODY_MAX)
					return 413;
				val = val * 10 + (size_t)(v[i] - '0');
			}
			if (val > BODY_MAX)
				return 413;
			/* Differing repeats are a smuggling vector; refuse them. */
			if (have_cl && val != r->body_len)
				return 400;
			have_cl = true;
			r->body_len = val;
		} else if (nl == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			return 501;
		} else if (nl == 13 && strncasecmp(line, "Authorization", 13) == 0) {
			r->auth = v;
			r->auth_len = vlen;
		} else if (nl == 10 && strncasecmp(line, "Connection", 10) == 0) {
			close_tok |= token_has(v, vlen, "close");
			ka_tok |= token_has(v, vlen, "keep-alive");
		} else if (nl == 6 && strncasecmp(line, "Expect", 6) == 0) {
			r->expect_continue = vlen == 12 && strncasecmp(v, "100-continue", 12) == 0;
		}
	}
	r->keep_alive = r->http10 ? ka_tok && !close_tok : !close_tok;
	if (r->http10)
		r->expect_continue = false;
	return 0;
}

static void fail_close(struct fh_conn *c, int status)
{
	static const struct fh_req r0 = { .keep_alive = false };

	handlers->error(c, &r0, status);
}

/* Answer every complete request in c->in; leaves a partial one at in[0]. */
static void process(struct fh_conn *c)
{
	size_t start = 0;

	c->stalled = false;
	while (!c->closing) {
		if (c->out_len - c->out_off > OUT_HIGH) {
			c->stalled = true;
			break;
		}
		/* Stray CRLFs between requests are allowed (RFC 9112 2.2). */
		while (start < c->in_len && (c->in[start] == '\r' || c->in[start] == '\n')) {
			start++;
			c->scan = 0;
		}
		size_t avail = c->in_len - start;
		if (!avail)
			break;
		size_t head_len = find_head_end(c, start);
		if (!head_len) {
			if (avail > HEAD_MAX)
				fail_close(c, 413);
			break;
		}
		if (head_len > HEAD_MAX) {
			fail_close(c, 413);
			break;
		}
		struct fh_req r;
		int err = parse_head(c->in + start, head_len, &r);
		if (err) {
			fail_close(c, err);
			break;
		}
		if (avail < head_len + r.body_len) {
			if (r.expect_continue && !c->sent_continue) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
				out_put(c, cont, sizeof(cont) - 1);
				c->sent_continue = true;
			}
			/* The request moves to in[0] below. */
			grow(&c->in, &c->in_cap, head_len + r.body_len);
			break;
		}
		r.body = c->in + start + head_len;
		handlers->request(c, &r);
		start += head_len + r.body_len;
		c->scan = 0;
		c->sent_continue = false;
	}
	if (start) {
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
	}
}

/* ---- connections ---- */

static int ep;

static void conn_close(struct fh_conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->in);
	free(c->out);
	free(c);
	fh_conns.now--;
}

/* 1 = everything sent, 0 = socket full, -1 = dead. */
static int flush_out(struct fh_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		} else {
			return -1;
		}
	}
	c->out_off = c->out_len = 0;
	return 1;
}

/* Read and discard until EOF after our final answer; true when done. */
static bool drain(struct fh_conn *c)
{
	char sink[16384];

	if (!c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	for (;;) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
		if (n > 0) {
			c->drained += (size_t)n;
			if (c->drained > DRAIN_MAX)
				return true;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
		}
	}
}

/* Edge-triggered: keep going until the kernel says EAGAIN on whichever side
 * we are waiting for, or we would never be woken again. */
static void on_conn(struct fh_conn *c)
{
	for (;;) {
		int f = flush_out(c);
		if (f < 0) {
			conn_close(c);
			return;
		}
		size_t pending = c->out_len - c->out_off;
		if (c->stalled && !c->closing && pending <= OUT_HIGH) {
			process(c);
			continue;
		}
		if (c->closing || (c->peer_eof && !c->stalled)) {
			if (f == 0)
				return;	/* EPOLLOUT brings us back */
			if (c->peer_eof || drain(c))
				conn_close(c);
			return;
		}
		if (pending > OUT_HIGH)
			return;	/* flush hit EAGAIN; wait for EPOLLOUT before reading more */

		if (c->in_cap - c->in_len < 1024 && c->in_cap < IN_MAX)
			grow(&c->in, &c->in_cap, c->in_cap + 1024);
		if (c->in_len == c->in_cap) {
			/* Unreachable with the limits in process(); refuse rather than spin. */
			fail_close(c, 413);
			continue;
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			process(c);
		} else if (n == 0) {
			c->peer_eof = true;
			process(c);
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (c->out_len - c->out_off && flush_out(c) < 0)
				conn_close(c);
			return;
		} else if (errno != EINTR) {
			conn_close(c);
			return;
		}
	}
}

static void on_accept(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
				/* Out of descriptors: accept and drop one so the
				 * edge-triggered listener does not stall with a
				 * full backlog forever. */
				close(spare_fd);
				fd = accept(lfd, NULL, NULL);
				if (fd >= 0)
					close(fd);
				spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				continue;
			}
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct fh_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->in_cap = IN_MIN;
		c->in = malloc(c->in_cap);
		if (!c->in) {
			free(c);
			close(fd);
			continue;
		}
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->next = conns;
		if (conns)
			conns->prev = c;
		conns = c;
		fh_conns.total++;
		if (++fh_conns.now > fh_conns.max)
			fh_conns.max = fh_conns.now;
	}
}

int fh_serve(const char *name, const char *port_arg, const struct fh_handlers *h)
{
	char *end;
	unsigned long port;
	struct rlimit rl;
	sigset_t sigs;
	int lfd, sfd, one = 1;

	handlers = h;
	errno = 0;
	port = strtoul(port_arg, &end, 10);
	if (errno || *end || end == port_arg || port > 65535) {
		fprintf(stderr, "%s: bad port '%s'\n", name, port_arg);
		return 2;
	}
	/* Benchmarks open many connections; take whatever the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	/* Through a signalfd so a signal can never slip in between checks. */
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0)
		die("sigprocmask");
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind");
	if (listen(lfd, 4096) < 0)
		die("listen");
	socklen_t alen = sizeof(addr);
	if (getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0)
		die("getsockname");
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = &lfd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll_ctl");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &sfd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0)
		die("epoll_ctl");

	printf("%u\n", (unsigned)ntohs(addr.sin_port));
	fflush(stdout);

	for (bool running = true; running;) {
		struct epoll_event evs[MAX_EVENTS];
		int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &lfd)
				on_accept(lfd);
			else if (evs[i].data.ptr == &sfd)
				running = false;
			else
				on_conn(evs[i].data.ptr);
		}
	}

	while (conns)
		conn_close(conns);
	close(lfd);
	close(sfd);
	close(ep);
	if (spare_fd >= 0)
		close(spare_fd);
	free(scratch);
	scratch = NULL;
	scratch_len = scratch_cap = 0;
	return 0;
}
