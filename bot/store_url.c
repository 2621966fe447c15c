/* store_url.c - the Redis URL forms and the process-wide store options (see
 * store.h). Apart from store.c so that file stays about connections. */
#include "bot/store.h"
#include "bot/util.h"

#include <stdio.h>
#include <string.h>

int store_url_parse(const char *url, struct store_url *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, SENTINEL_SCHEME, strlen(SENTINEL_SCHEME)) == 0) {
		if (sentinel_url_parse(url, &out->sentinel, err, errsz) < 0)
			return -1;
		/* Where to say it is, for logs: the first sentinel. */
		wk_strlcpy(out->host, out->sentinel.addr[0].host, sizeof(out->host));
		out->port = out->sentinel.addr[0].port;
		out->db = out->sentinel.db;
		return 0;
	}
	if (strncmp(url, "unix://", 7) == 0) {
		const char *path = url + 7;
		const char *q = strchr(path, '?');
		size_t n = q ? (size_t)(q - path) : strlen(path);
		int64_t db = 0;

		if (n == 0 || path[0] != '/' || wk_copy_span(path, n, out->path, sizeof(out->path)) < 0) {
			snprintf(err, errsz, "Redis URL: unix:// needs an absolute socket path, e.g. unix:///run/redis.sock");
			return -1;
		}
		if (q && (strncmp(q, "?db=", 4) != 0 || !wk_parse_i64(q + 4, 0, 1000, &db))) {
			snprintf(err, errsz, "Redis URL: the only query allowed is ?db=N");
			return -1;
		}
		out->db = (int)db;
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		snprintf(err, errsz, "Redis URL must start with redis://, unix:// or " SENTINEL_SCHEME);
		return -1;
	}
	const char *p = url + 8;
	const char *at = strrchr(p, '@');
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (colon) {
			if (wk_copy_span(p, (size_t)(colon - p), out->user, sizeof(out->user)) < 0 ||
			    wk_copy_span(colon + 1, (size_t)(at - colon - 1), out->password,
					  sizeof(out->password)) < 0) {
				snprintf(err, errsz, "Redis URL: user or password too long");
				return -1;
			}
		} else if (wk_copy_span(p, (size_t)(at - p), out->password, sizeof(out->password)) < 0) {
			snprintf(err, errsz, "Redis URL: password too long");
			return -1;
		}
		p = at + 1;
	}
	const char *slash = strchr(p, '/');
	size_t hostlen = slash ? (size_t)(slash - p) : strlen(p);
	const char *colon = memchr(p, ':', hostlen);
	size_t namelen = colon ? (size_t)(colon - p) : hostlen;
	if (namelen == 0 || wk_copy_span(p, namelen, out->host, sizeof(out->host)) < 0) {
		snprintf(err, errsz, "Redis URL: missing or too long host name");
		return -1;
	}
	if (colon) {
		char port[8];
		int64_t v;
		if (wk_copy_span(colon + 1, hostlen - namelen - 1, port, sizeof(port)) < 0 ||
		    !wk_parse_i64(port, 1, 65535, &v)) {
			snprintf(err, errsz, "Redis URL: port must be 1..65535");
			return -1;
		}
		out->port = (int)v;
	}
	if (slash && slash[1]) {
		int64_t v;
		if (!wk_parse_i64(slash + 1, 0, 1000, &v)) {
			snprintf(err, errsz, "Redis URL: database must be a number after the last /");
			return -1;
		}
		out->db = (int)v;
	}
	return 0;
}


static struct {
	char password[256];
	char sentinel_password[256];
	int64_t wait_replicas;
} opts;

void store_set_options(const char *password, const char *sentinel_password, int64_t wait_replicas)
{
	wk_strlcpy(opts.password, password ? password : "", sizeof(opts.password));
	wk_strlcpy(opts.sentinel_password, sentinel_password ? sentinel_password : "",
		   sizeof(opts.sentinel_password));
	opts.wait_replicas = wait_replicas;
}

void store_url_apply_options(struct store_url *u)
{
	if (!u->password[0])
		wk_strlcpy(u->password, opts.password, sizeof(u->password));
	if (u->sentinel.n && !u->sentinel.password[0])
		wk_strlcpy(u->sentinel.password, opts.sentinel_password, sizeof(u->sentinel.password));
}

int64_t store_wait_replicas_wanted(void)
{
	return opts.wait_replicas;
}
