/* github.c - see github.h */
#include "adapters/github.h"
#include "bot/buf.h"
#include "bot/courier.h"
#include "bot/log.h"
#include "bot/mail.h"
#include "bot/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define GITHUB_TIMEOUT_MS 15000
/* The whole sync: bounds how long one command holds a worker (and shutdown). */
#define GITHUB_BUDGET_MS 120000

static int64_t mono_ms(void)
{
	return wk_mono_us() / 1000;
}

static const char *const github_headers[] = {
	"Accept: application/vnd.github+json",
	"X-GitHub-Api-Version: 2022-11-28",
	"User-Agent: watchkeeper",	/* GitHub refuses requests without one */
	NULL,
};

bool github_name_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return false;
	for (; name[n]; n++) {
		char c = name[n];

		if (n >= 39 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return n > 0;
}

/* Turn a non-200 answer into a result and a sentence. what_404 is the
 * sentence for 404, which depends on the request. */
static enum github_result github_judge(const struct courier_response *r, const char *what_404,
				       char *why, size_t whysize)
{
	if (r->status == 401) {
		snprintf(why, whysize, "GitHub rejected the token (401): check github.token");
		return GITHUB_UNAUTHORIZED;
	}
	if ((r->status == 403 || r->status == 429) &&
	    (r->ratelimit_remaining == 0 || r->retry_after >= 0 || r->status == 429)) {
		if (r->ratelimit_reset > 0) {
			time_t t = (time_t)r->ratelimit_reset;
			int64_t mins = (r->ratelimit_reset - wk_now_ms() / 1000 + 59) / 60;
			struct tm tm;

			if (mins < 1)
				mins = 1;
			gmtime_r(&t, &tm);
			snprintf(why, whysize,
				 "GitHub's API rate limit for this token is used up; try again after %02d:%02d UTC (in about %lld minute%s)",
				 tm.tm_hour, tm.tm_min, (long long)mins, mins == 1 ? "" : "s");
		} else if (r->retry_after >= 0) {
			snprintf(why, whysize,
				 "GitHub is rate limiting these requests; try again in %ld seconds",
				 r->retry_after);
		} else {
			snprintf(why, whysize, "GitHub's API rate limit is used up; try again later");
		}
		return GITHUB_RATE_LIMITED;
	}
	if (r->status == 403) {
		snprintf(why, whysize,
			 "GitHub refused access (403): the token needs the read:org scope (and SSO authorization for this org)");
		return GITHUB_FAILED;
	}
	if (r->status == 404) {
		snprintf(why, whysize, "%s", what_404);
		return GITHUB_NOT_FOUND;
	}
	snprintf(why, whysize, "GitHub answered HTTP %ld; try again later", r->status);
	return GITHUB_FAILED;
}

static void github_request(const struct config *cfg, const char *url, struct courier_request *req)
{
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->url = url;
	req->bearer = cfg->github_token;
	req->headers = github_headers;
	req->target = "github";
	req->timeout_ms = GITHUB_TIMEOUT_MS;
}

static enum github_result github_get(const struct config *cfg, const char *url,
				     struct courier_response *r, char *why, size_t whysize)
{
	struct courier_request req;

	github_request(cfg, url, &req);
	if (courier_call(&req, r) < 0) {
		snprintf(why, whysize, "could not reach GitHub: %s", r->error);
		return GITHUB_FAILED;
	}
	return GITHUB_OK;
}

static bool have_login(const struct github_member *m, size_t n, const char *login)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(m[i].login, login) == 0)	/* GitHub logins are case-insensitive */
			return true;
	return false;
}

/* Add the logins of one members page. -1 when the page is not a JSON array. */
static int add_page(const struct courier_response *r, struct github_member **m, size_t *n,
		    size_t *alloc, bool *truncated, size_t *dropped)
{
	json_error_t jerr;
	json_t *arr = json_loadb(r->body, r->body_len, 0, &jerr);
	size_t i;
	json_t *it;

	if (!json_is_array(arr)) {
		json_decref(arr);
		return -1;
	}
	json_array_foreach(arr, i, it) {
		const char *login = json_string_value(json_object_get(it, "login"));

		if (!github_name_valid(login)) {
			(*dropped)++;
			continue;
		}
		if (have_login(*m, *n, login))
			continue;
		if (*n == GITHUB_MAX_MEMBERS) {
			*truncated = true;
			break;
		}
		if (*n == *alloc) {
			*alloc = *alloc ? *alloc * 2 : 128;
			*m = xrealloc(*m, *alloc * sizeof(**m));
		}
		memset(&(*m)[*n], 0, sizeof(**m));
		wk_strlcpy((*m)[*n].login, login, sizeof((*m)[*n].login));
		(*n)++;
	}
	json_decref(arr);
	return 0;
}

/* The user's public email from GET /users/{login}: "" when null, absent or
 * not one plain address (it came from a stranger's profile). */
static void public_email(const struct courier_response *r, char *email, size_t size)
{
	json_error_t jerr;
	json_t *obj = json_loadb(r->body, r->body_len, 0, &jerr);
	const char *e = json_string_value(json_object_get(obj, "email"));

	email[0] = '\0';
	if (e && strlen(e) < size && mail_address_valid(e))
		wk_strlcpy(email, e, size);
	json_decref(obj);
}

enum github_result github_org_members(const struct config *cfg, const char *org,
				      struct github_member **out, size_t *n, char *why,
				      size_t whysize)
{
	struct github_member *m = NULL;
	size_t count = 0, alloc = 0, dropped = 0, emails = 0;
	struct buf base = BUF_INIT(4096), url = BUF_INIT(8192);
	char prefix[4200], nf[200];
	bool truncated = false;
	enum github_result res = GITHUB_FAILED;
	int64_t budget_end = mono_ms() + GITHUB_BUDGET_MS;
	int pages = 0;
	size_t blen;

	*out = NULL;
	*n = 0;
	why[0] = '\0';
	if (!cfg->github_token || !cfg->github_token[0]) {
		snprintf(why, whysize, "GitHub sync needs github.token (WK_GITHUB_TOKEN) in the config");
		return GITHUB_NOT_CONFIGURED;
	}
	if (!github_name_valid(org)) {
		snprintf(why, whysize,
			 "\"%.60s\" is not a GitHub organization name (letters, digits and -, at most 39)",
			 org ? org : "");
		return GITHUB_FAILED;
	}
	blen = strlen(cfg->github_api_url);
	while (blen > 0 && cfg->github_api_url[blen - 1] == '/')
		blen--;
	if (buf_add(&base, cfg->github_api_url, blen) < 0) {
		snprintf(why, whysize, "github.api_url is too long");
		return GITHUB_FAILED;
	}
	/* A next link is followed only when it starts with exactly this. */
	snprintf(prefix, sizeof(prefix), "%s/", buf_cstr(&base));
	snprintf(nf, sizeof(nf), "GitHub has no org %s, or the token can't see its members (404)", org);

	buf_printf(&url, "%s/orgs/%s/members?per_page=100", buf_cstr(&base), org);
	for (;;) {
		struct courier_response r;

		res = github_get(cfg, buf_cstr(&url), &r, why, whysize);
		if (res == GITHUB_OK && r.status != 200)
			res = github_judge(&r, nf, why, whysize);
		if (res == GITHUB_OK && add_page(&r, &m, &count, &alloc, &truncated, &dropped) < 0) {
			snprintf(why, whysize, "GitHub sent something other than a member list for %s", org);
			res = GITHUB_FAILED;
		}
		pages++;
		buf_reset(&url);
		if (res == GITHUB_OK && mono_ms() > budget_end) {
			snprintf(why, whysize, "GitHub answered too slowly: the member list took over %d s",
				 GITHUB_BUDGET_MS / 1000);
			res = GITHUB_FAILED;
		}
		if (res == GITHUB_OK && r.link_next[0] && !truncated) {
			if (strncmp(r.link_next, prefix, strlen(prefix)) != 0) {
				log_warn("github.link_ignored", "org=%s reason=\"next page is outside github.api_url\"",
					 org);
			} else if (pages >= GITHUB_MAX_PAGES) {
				truncated = true;
			} else {
				buf_adds(&url, r.link_next);
			}
		}
		courier_response_free(&r);
		if (res != GITHUB_OK || !url.len)
			break;
	}
	if (res != GITHUB_OK)
		goto out;

	/* A few lookups at once: 2000 one after another would hold a worker for minutes. */
	for (size_t i = 0; i < count; i += COURIER_MAX_BATCH) {
		struct courier_request req[COURIER_MAX_BATCH];
		struct courier_response r[COURIER_MAX_BATCH];
		struct buf u[COURIER_MAX_BATCH];
		size_t k = count - i < COURIER_MAX_BATCH ? count - i : COURIER_MAX_BATCH;

		if (mono_ms() > budget_end) {
			snprintf(why, whysize, "GitHub answered too slowly: reading %zu members took over %d s",
				 count, GITHUB_BUDGET_MS / 1000);
			res = GITHUB_FAILED;
			goto out;
		}
		for (size_t j = 0; j < k; j++) {
			buf_init(&u[j], 8192);
			buf_printf(&u[j], "%s/users/%s", buf_cstr(&base), m[i + j].login);
			github_request(cfg, buf_cstr(&u[j]), &req[j]);
		}
		courier_call_many(req, r, k);
		for (size_t j = 0; j < k; j++) {
			if (res == GITHUB_OK) {
				if (r[j].status == 0) {
					snprintf(why, whysize, "could not reach GitHub: %s", r[j].error);
					res = GITHUB_FAILED;
				} else if (r[j].status == 200) {
					public_email(&r[j], m[i + j].email, sizeof(m[i + j].email));
				} else if (r[j].status != 404) {	/* 404: the account vanished meanwhile */
					res = github_judge(&r[j], "GitHub lost track of a member while reading it (404)",
							   why, whysize);
				}
				if (m[i + j].email[0])
					emails++;
			}
			courier_response_free(&r[j]);
			buf_free(&u[j]);
		}
		if (res != GITHUB_OK)
			goto out;
	}
	if (truncated)
		snprintf(why, whysize,
			 "GitHub lists more than %d members (or %d pages) for %s; only the first %zu were read",
			 GITHUB_MAX_MEMBERS, GITHUB_MAX_PAGES, org, count);
	log_info("github.members", "org=%s pages=%d members=%zu public_emails=%zu dropped=%zu truncated=%d",
		 org, pages, count, emails, dropped, truncated);
	*out = count ? m : NULL;
	*n = count;
	if (!count)
		free(m);
	m = NULL;
out:
	if (res != GITHUB_OK) {
		char q[200];

		log_warn("github.members_failed", "org=%s result=%d why=%s", org, (int)res,
			 log_quote(q, sizeof(q), why));
	}
	free(m);
	buf_free(&base);
	buf_free(&url);
	return res;
}
