/* twilio.c - see twilio.h */
#include "adapters/twilio.h"
#include "bot/courier.h"
#include "bot/form.h"
#include "bot/log.h"
#include "bot/utf8.h"
#include "bot/util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Pages of 50 read when looking for a message sent since one attempt. */
#define TWILIO_LIST_PAGES 5
#define SHA1_LEN 20
#define SIG_B64_SIZE 29	/* base64 of 20 bytes is 28 characters, plus NUL */

bool twilio_configured(const struct config *cfg)
{
	return cfg->twilio_account_sid && cfg->twilio_account_sid[0] && cfg->twilio_auth_token &&
	       cfg->twilio_auth_token[0] &&
	       ((cfg->twilio_from && cfg->twilio_from[0]) ||
		(cfg->twilio_messaging_service_sid && cfg->twilio_messaging_service_sid[0]));
}

bool twilio_e164_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	return s[0] == '+' && n >= 9 && n <= 16 && s[1] >= '1' && s[1] <= '9' &&
	       strspn(s + 1, "0123456789") == n - 1;
}

/* ---- sending ---- */

enum twilio_outcome twilio_classify(long http_status, long error_code)
{
	(void)error_code;	/* every 4xx code (21211, 21610, 21614, 20003...) is final */
	if (http_status >= 200 && http_status < 300)
		return TWILIO_SENT;
	if (http_status == 0 || http_status == 429 || (http_status >= 500 && http_status < 600))
		return TWILIO_RETRY;
	return TWILIO_PERMANENT;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* A value from Twilio that ends up in logs and Redis: letters and digits only. */
static void copy_token(char *dst, size_t size, json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	size_t n = strlen(s);

	dst[0] = '\0';
	if (n == 0 || n >= size)
		return;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return;
	memcpy(dst, s, n + 1);
}

static void base_url(struct buf *url, const char *api, const char *sid)
{
	size_t n = strlen(api);

	while (n && api[n - 1] == '/')
		n--;
	buf_add(url, api, n);
	buf_printf(url, "/2010-04-01/Accounts/%s/Messages.json", sid);
}

static void read_answer(const struct courier_response *resp, struct twilio_result *out)
{
	json_error_t jerr;
	json_t *root = NULL;

	if (resp->body_len)
		root = json_loadb(resp->body, resp->body_len, 0, &jerr);
	if (json_is_object(root)) {
		json_t *code = json_object_get(root, "code");
		if (json_is_integer(code) && json_integer_value(code) > 0 &&
		    json_integer_value(code) < 1000000)
			out->error_code = (long)json_integer_value(code);
		if (out->http_status >= 200 && out->http_status < 300) {
			copy_token(out->sid, sizeof(out->sid), json_object_get(root, "sid"));
			copy_token(out->status, sizeof(out->status), json_object_get(root, "status"));
		}
	}
	json_decref(root);
}

/* "Authorization: Basic base64(sid:token)", built here because the courier
 * knows only bearer tokens; wiped by basic_auth_free(), never logged. */
static char *basic_auth(const struct config *cfg)
{
	struct buf cred = BUF_INIT(1024);
	unsigned char *b64;
	size_t size;
	char *auth;

	buf_printf(&cred, "%s:%s", cfg->twilio_account_sid, cfg->twilio_auth_token);
	size = 4 * ((cred.len + 2) / 3) + 1;
	b64 = xmalloc(size);
	EVP_EncodeBlock(b64, (const unsigned char *)buf_cstr(&cred), (int)cred.len);
	auth = xmalloc(size + 32);
	snprintf(auth, size + 32, "Authorization: Basic %s", (const char *)b64);
	OPENSSL_cleanse(cred.data, cred.len);
	OPENSSL_cleanse(b64, size);
	free(b64);
	buf_free(&cred);
	return auth;
}

static void basic_auth_free(char *auth)
{
	OPENSSL_cleanse(auth, strlen(auth));
	free(auth);
}

int twilio_send_sms(const struct config *cfg, const char *to, const char *body,
		    const char *status_callback_url, struct twilio_result *out)
{
	struct buf form = BUF_INIT(64 * 1024), url = BUF_INIT(4096);
	struct courier_request req = { 0 };
	struct courier_response resp;
	char *auth = NULL;
	const char *headers[3];
	int rc;

	memset(out, 0, sizeof(*out));
	out->outcome = TWILIO_PERMANENT;
	out->retry_after = -1;
	if (!twilio_configured(cfg)) {
		wk_strlcpy(out->message, "SMS is not configured (twilio.account_sid, auth_token, from or messaging_service_sid).", sizeof(out->message));
		return -1;
	}
	if (!twilio_e164_valid(to)) {
		wk_strlcpy(out->message, "The phone number is not in E.164 form (+ and digits).", sizeof(out->message));
		return -1;
	}
	if (!body || !body[0] || !utf8_valid(body, strlen(body)) ||
	    utf8_chars(body) > TWILIO_BODY_MAX_CHARS) {
		wk_strlcpy(out->message, "The message text is empty, not UTF-8 or longer than 1600 characters.", sizeof(out->message));
		return -1;
	}
	form_encode_pair(&form, "To", to);
	if (cfg->twilio_from[0])
		form_encode_pair(&form, "From", cfg->twilio_from);
	else
		form_encode_pair(&form, "MessagingServiceSid", cfg->twilio_messaging_service_sid);
	form_encode_pair(&form, "Body", body);
	if (status_callback_url && status_callback_url[0])
		form_encode_pair(&form, "StatusCallback", status_callback_url);
	base_url(&url, cfg->twilio_api_url, cfg->twilio_account_sid);

	auth = basic_auth(cfg);
	headers[0] = auth;
	headers[1] = "Content-Type: application/x-www-form-urlencoded";
	headers[2] = NULL;

	req.method = "POST";
	req.url = buf_cstr(&url);
	req.headers = headers;
	req.body = buf_cstr(&form);
	req.body_len = form.len;
	req.target = "twilio";
	req.timeout_ms = cfg->twilio_timeout_ms;
	rc = courier_call(&req, &resp);

	basic_auth_free(auth);

	out->http_status = rc == 0 ? resp.status : 0;
	/* No answer after the request went out, or a 5xx (which a gateway may send
	 * after Twilio took the message): it may exist. A 429 was not processed. */
	out->maybe_sent = (rc != 0 && resp.maybe_sent) || (rc == 0 && resp.status >= 500);
	if (rc == 0)
		read_answer(&resp, out);
	out->outcome = twilio_classify(out->http_status, out->error_code);
	if (out->outcome == TWILIO_RETRY)
		out->retry_after = resp.retry_after;
	if (rc != 0)
		snprintf(out->message, sizeof(out->message), "%s: %.120s", out->maybe_sent
			 ? "Twilio did not answer (it may have taken the message)" : "Twilio could not be reached",
			 resp.error);
	else if (out->outcome == TWILIO_SENT)
		snprintf(out->message, sizeof(out->message), "Twilio accepted the message%s%s.",
			 out->sid[0] ? " " : "", out->sid);
	else
		snprintf(out->message, sizeof(out->message), "Twilio answered HTTP %ld%s%.0ld.",
			 out->http_status, out->error_code ? " with error " : "",
			 out->error_code);
	log_info("twilio.send", "http_status=%ld outcome=%s code=%ld sid=%s retry_after=%ld",
		 out->http_status,
		 out->outcome == TWILIO_SENT ? "sent" : out->outcome == TWILIO_RETRY ? "retry" : "permanent",
		 out->error_code, out->sid[0] ? out->sid : "-", out->retry_after);
	courier_response_free(&resp);
	buf_free(&form);
	buf_free(&url);
	return out->outcome == TWILIO_SENT ? 0 : -1;
}

/* ---- was it sent? ---- */

/* Our bodies end with the line "Ref <ref>": only that counts, so text a person
 * typed into a page can never pass for a reference. */
static bool ends_with_ref(const char *body, const char *ref)
{
	size_t blen = strlen(body), rlen = strlen(ref);

	if (!rlen || blen < rlen + 4)
		return false;
	const char *tail = body + blen - rlen - 4;
	return strncmp(tail, "Ref ", 4) == 0 && strcmp(tail + 4, ref) == 0 &&
	       (tail == body || tail[-1] == '\n');
}

int twilio_list_match(json_t *page, int64_t since_ms, const char *const *refs, size_t n, bool *found,
		      char *next, size_t nextsize)
{
	json_t *messages = json_object_get(page, "messages"), *m;
	const char *uri;
	size_t i;

	if (!json_is_array(messages))
		return -1;
	json_array_foreach(messages, i, m) {
		const char *created = json_string_value(json_object_get(m, "date_created"));
		const char *body = json_string_value(json_object_get(m, "body"));
		time_t when = created ? curl_getdate(created, NULL) : -1;

		/* Newest first: everything from here on is older than the first attempt. */
		if (when >= 0 && (int64_t)when * 1000 < since_ms)
			return 0;
		for (size_t k = 0; body && k < n; k++)
			if (ends_with_ref(body, refs[k]))
				found[k] = true;
	}
	uri = json_string_value(json_object_get(page, "next_page_uri"));
	if (!uri || !uri[0])
		return 0;
	/* A path on the API host, nothing else: the caller keeps our scheme and host. */
	if (uri[0] != '/' || uri[1] == '/' || wk_strlcpy(next, uri, nextsize) >= nextsize)
		return -1;
	return 1;
}

int twilio_find_sent(const struct config *cfg, const char *to, int64_t since_ms,
		     const char *const *refs, size_t n, bool *found, long *retry_after, char *why,
		     size_t whysize)
{
	struct buf url = BUF_INIT(8192), q = BUF_INIT(256);
	char *auth = NULL;
	const char *headers[2] = { NULL, NULL };
	int rc = -1;
	char next[1024];

	why[0] = '\0';
	*retry_after = -1;
	for (size_t k = 0; k < n; k++)
		found[k] = false;
	if (!twilio_configured(cfg) || !twilio_e164_valid(to))
		return 0;	/* nothing could have been sent */
	/* A minute of slack: Twilio's clock and ours may disagree. */
	since_ms -= 60000;
	base_url(&url, cfg->twilio_api_url, cfg->twilio_account_sid);
	form_encode_pair(&q, "To", to);
	form_encode_pair(&q, "PageSize", "50");
	buf_printf(&url, "?%s", buf_cstr(&q));
	auth = basic_auth(cfg);
	headers[0] = auth;
	for (int page = 0; page < TWILIO_LIST_PAGES; page++) {
		struct courier_request req = { .method = "GET", .url = buf_cstr(&url), .headers = headers,
					       .target = "twilio.list", .timeout_ms = cfg->twilio_timeout_ms };
		struct courier_response resp;
		json_error_t jerr;
		json_t *root = NULL;

		if (courier_call(&req, &resp) < 0) {
			snprintf(why, whysize, "could not list Twilio messages: %s", resp.error);
			courier_response_free(&resp);
			goto out;
		}
		if (resp.status != 200) {
			*retry_after = resp.status == 429 ? resp.retry_after : -1;
			snprintf(why, whysize, "Twilio answered the message list with HTTP %ld", resp.status);
			courier_response_free(&resp);
			goto out;
		}
		root = json_loadb(resp.body, resp.body_len, 0, &jerr);
		courier_response_free(&resp);
		if (!json_is_array(json_object_get(root, "messages"))) {
			snprintf(why, whysize, "Twilio's message list has no messages array");
			json_decref(root);
			goto out;
		}
		int more = twilio_list_match(root, since_ms, refs, n, found, next, sizeof(next));
		json_decref(root);
		if (more <= 0) {
			if (more < 0)
				snprintf(why, whysize, "Twilio's message list has a next page we cannot follow");
			rc = more;
			goto out;
		}
		/* next_page_uri is a path on the API host: keep our base's scheme and host. */
		buf_reset(&url);
		{
			const char *api = cfg->twilio_api_url;
			const char *host = strstr(api, "://");
			const char *slash = host ? strchr(host + 3, '/') : NULL;
			size_t len = slash ? (size_t)(slash - api) : strlen(api);
			buf_add(&url, api, len);
			buf_adds(&url, next);
		}
	}
	snprintf(why, whysize, "Twilio's message list has more than %d pages since the first attempt",
		 TWILIO_LIST_PAGES);
out:
	basic_auth_free(auth);
	buf_free(&url);
	buf_free(&q);
	return rc;
}

/* ---- webhook signatures ---- */

static int cmp_fields(const void *a, const void *b)
{
	const struct form_field *x = a, *y = b;
	int c = strcmp(x->key, y->key);	/* byte order: strcmp compares as unsigned char */

	return c ? c : strcmp(x->value, y->value);
}

/* base64(HMAC-SHA1(token, url + sorted params)) into out; false when too large. */
static bool compute(const char *token, const char *url, size_t url_len,
		    const struct form_field *sorted, size_t n, char out[SIG_B64_SIZE])
{
	struct buf msg = BUF_INIT(0);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	bool ok = buf_add(&msg, url, url_len) == 0;

	for (size_t i = 0; ok && i < n; i++)
		ok = buf_adds(&msg, sorted[i].key) == 0 && buf_adds(&msg, sorted[i].value) == 0;
	if (ok)
		ok = HMAC(EVP_sha1(), token, (int)strlen(token), (const unsigned char *)buf_cstr(&msg),
			  msg.len, mac, &mac_len) != NULL && mac_len == SHA1_LEN;
	if (ok)
		EVP_EncodeBlock((unsigned char *)out, mac, SHA1_LEN);
	else
		out[0] = '\0';
	buf_free(&msg);
	return ok;
}

/* The other spelling of url's port (twilio.md 3.3 step 4): ":443"/":80" removed
 * when present, added when the authority has no port. "" when neither applies. */
static void port_variant(const char *url, struct buf *out)
{
	const char *dflt, *host, *end, *colon;

	if (strncmp(url, "https://", 8) == 0) {
		dflt = "443";
		host = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		dflt = "80";
		host = url + 7;
	} else {
		return;
	}
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)) || memchr(host, '[', (size_t)(end - host)))
		return;	/* userinfo or IPv6 literal: not worth guessing */
	colon = memchr(host, ':', (size_t)(end - host));
	if (colon) {
		if ((size_t)(end - colon - 1) != strlen(dflt) || memcmp(colon + 1, dflt, strlen(dflt)) != 0)
			return;
		buf_add(out, url, (size_t)(colon - url));
		buf_adds(out, end);
	} else {
		buf_add(out, url, (size_t)(end - url));
		buf_printf(out, ":%s", dflt);
		buf_adds(out, end);
	}
}

bool twilio_signature_valid(const char *auth_token, const char *url, const struct form *params,
			    const char *header)
{
	struct form_field *sorted = NULL;
	struct buf alt = BUF_INIT(0);
	char sig[SIG_B64_SIZE], sig2[SIG_B64_SIZE];
	size_t n = params ? params->count : 0, hlen;
	bool ok = false, ok2 = false;

	if (!auth_token || !auth_token[0] || !url || !header || !header[0])
		return false;
	hlen = strlen(header);
	if (n) {
		sorted = xmalloc(n * sizeof(*sorted));
		memcpy(sorted, params->fields, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_fields);
	}
	if (compute(auth_token, url, strlen(url), sorted, n, sig))
		ok = wk_secret_equal(sig, strlen(sig), header, hlen);
	port_variant(url, &alt);
	if (alt.len && compute(auth_token, alt.data, alt.len, sorted, n, sig2))
		ok2 = wk_secret_equal(sig2, strlen(sig2), header, hlen);
	OPENSSL_cleanse(sig, sizeof(sig));
	OPENSSL_cleanse(sig2, sizeof(sig2));
	buf_free(&alt);
	free(sorted);
	return ok || ok2;
}

/* ---- SMS replies ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Digits s[0..n): 1..9 of them, no leading zero, value >= 1. */
static bool parse_incident(const char *s, size_t n, unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 9 || s[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return v >= 1 && v <= SMS_INCIDENT_MAX;
}

static enum sms_action verb_action(const char *s, size_t n)
{
	if (n == 3 && strncasecmp(s, "ack", 3) == 0)
		return SMS_ACK;
	if (n == 3 && strncasecmp(s, "res", 3) == 0)
		return SMS_RESOLVE;
	if (n == 3 && strncasecmp(s, "esc", 3) == 0)
		return SMS_ESCALATE;
	return SMS_UNKNOWN;
}

static enum sms_action letter_action(char c)
{
	switch (c) {
	case 'a': case 'A': return SMS_ACK;
	case 'r': case 'R': return SMS_RESOLVE;
	case 'e': case 'E': return SMS_ESCALATE;
	default: return SMS_UNKNOWN;
	}
}

static enum sms_action keyword_action(const char *s, size_t n)
{
	static const struct {
		const char *word;
		enum sms_action action;
	} words[] = {
		{ "STOP", SMS_STOP }, { "STOPALL", SMS_STOP }, { "UNSUBSCRIBE", SMS_STOP },
		{ "CANCEL", SMS_STOP }, { "END", SMS_STOP }, { "QUIT", SMS_STOP },
		{ "START", SMS_START }, { "YES", SMS_START }, { "UNSTOP", SMS_START },
		{ "HELP", SMS_HELP },
	};

	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strlen(words[i].word) == n && strncasecmp(s, words[i].word, n) == 0)
			return words[i].action;
	return SMS_UNKNOWN;
}

int sms_reply_parse(const char *body, struct sms_reply *out)
{
	const char *s, *e;
	size_t n, i;
	enum sms_action a;

	out->action = SMS_UNKNOWN;
	out->incident = 0;
	if (!body)
		return -1;
	n = strnlen(body, SMS_REPLY_MAX_BYTES + 1);
	if (n > SMS_REPLY_MAX_BYTES)
		return -1;
	s = body;
	e = body + n;
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	n = (size_t)(e - s);
	if (n == 0)
		return -1;

	if ((a = keyword_action(s, n)) != SMS_UNKNOWN) {
		out->action = a;
		return 0;
	}
	/* VERB [spaces] NUMBER */
	if (n > 3 && (a = verb_action(s, 3)) != SMS_UNKNOWN) {
		for (i = 3; i < n && is_space(s[i]); i++)
			;
		if (parse_incident(s + i, n - i, &out->incident)) {
			out->action = a;
			return 0;
		}
		out->incident = 0;
		return -1;
	}
	/* NUMBER [spaces] LETTER */
	if (n >= 2 && (a = letter_action(s[n - 1])) != SMS_UNKNOWN) {
		size_t j = n - 1;
		while (j > 0 && is_space(s[j - 1]))
			j--;
		if (parse_incident(s, j, &out->incident)) {
			out->action = a;
			return 0;
		}
		out->incident = 0;
	}
	return -1;
}

const char *sms_action_name(enum sms_action a)
{
	switch (a) {
	case SMS_ACK: return "ack";
	case SMS_RESOLVE: return "resolve";
	case SMS_ESCALATE: return "escalate";
	case SMS_STOP: return "stop";
	case SMS_START: return "start";
	case SMS_HELP: return "help";
	case SMS_UNKNOWN: break;
	}
	return "unknown";
}

/* ---- phone index ---- */

static bool index_part_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '|' || s[i] == 0x7f)
			return false;
	return true;
}

static const struct store_script phone_set_script = {
	"twilio_phone_set",
	"local old = redis.call('GET', KEYS[1])\n"
	"redis.call('SET', KEYS[1], ARGV[1])\n"
	"if old and old ~= ARGV[1] then return 1 end\n"
	"return 0\n",
	NULL,
};

/* Compare-and-delete: an old number is unlinked only while it is still ours. */
static const struct store_script phone_del_script = {
	"twilio_phone_del",
	"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
	"  redis.call('DEL', KEYS[1])\n"
	"  return 1\n"
	"end\n"
	"return 0\n",
	NULL,
};

static int phone_index_run(struct store *s, const struct store_script *script, const char *org,
			   const char *member, const char *phone)
{
	char key[64], value[260];
	const char *keys[1], *args[1];
	redisReply *r;
	int rc = -1;

	if (!twilio_e164_valid(phone) || !index_part_valid(org) || !index_part_valid(member))
		return -1;
	snprintf(key, sizeof(key), "wk:phone:%s", phone);
	snprintf(value, sizeof(value), "%s|%s", org, member);
	keys[0] = key;
	args[0] = value;
	r = store_script(s, script, 1, keys, 1, args);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = r->integer ? 1 : 0;
	else
		log_warn("twilio.phone_index", "script=%s error=\"%s\"", script->name,
			 r && r->type == REDIS_REPLY_ERROR ? "redis error" : store_error(s));
	if (r)
		freeReplyObject(r);
	return rc;
}

int twilio_phone_index_set(struct store *s, const char *org, const char *member, const char *phone)
{
	return phone_index_run(s, &phone_set_script, org, member, phone);
}

int twilio_phone_index_del(struct store *s, const char *org, const char *member, const char *phone)
{
	return phone_index_run(s, &phone_del_script, org, member, phone);
}

int twilio_phone_index_get(struct store *s, const char *phone, char *org, size_t org_size,
			   char *member, size_t member_size)
{
	char key[64];
	redisReply *r;
	int rc = 0;

	org[0] = member[0] = '\0';
	if (!twilio_e164_valid(phone))
		return 0;
	snprintf(key, sizeof(key), "wk:phone:%s", phone);
	r = store_command(s, "GET %s", key);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_STRING) {
		const char *bar = memchr(r->str, '|', r->len);
		size_t olen = bar ? (size_t)(bar - r->str) : 0;
		size_t mlen = bar ? r->len - olen - 1 : 0;
		if (bar && olen && mlen && olen < org_size && mlen < member_size &&
		    !memchr(bar + 1, '|', mlen) && strlen(r->str) == r->len) {
			memcpy(org, r->str, olen);
			org[olen] = '\0';
			memcpy(member, bar + 1, mlen);
			member[mlen] = '\0';
			rc = index_part_valid(org) && index_part_valid(member) ? 1 : 0;
		}
	} else if (r->type == REDIS_REPLY_ERROR) {
		rc = -1;
	}
	if (rc != 1)
		org[0] = member[0] = '\0';
	freeReplyObject(r);
	return rc;
}

/* ---- TwiML ---- */

#define TWIML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

void twilio_twiml_message(struct buf *out, const char *text)
{
	buf_adds(out, TWIML_HEAD "<Response><Message>");
	for (const char *p = text; *p; p++) {
		switch (*p) {
		case '&': buf_adds(out, "&amp;"); break;
		case '<': buf_adds(out, "&lt;"); break;
		case '>': buf_adds(out, "&gt;"); break;
		case '"': buf_adds(out, "&quot;"); break;
		case '\'': buf_adds(out, "&apos;"); break;
		default:
			/* XML 1.0 forbids most control characters, even escaped. */
			if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
				buf_addc(out, ' ');
			else
				buf_addc(out, *p);
		}
	}
	buf_adds(out, "</Message></Response>");
}

void twilio_twiml_empty(struct buf *out)
{
	buf_adds(out, TWIML_HEAD "<Response/>");
}
