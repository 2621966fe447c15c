/* teams_api.c - see teams_api.h: the blocking Bot Connector calls (send and
 * reply, update, 1:1 conversation creation, member lookup) and the helpers
 * all the Teams client files share through teams_api_int.h (ids, URLs,
 * percent-encoding, error codes, judging an answer, logging the outcome).
 * The token lives in teams_token.c, the asynchronous calls in
 * teams_api_async.c.
 *
 * Blocking calls never send a message on another caller's behalf, so a
 * sender's courier guard never ends up on someone else's message (only on a
 * token fetch that others may wait for: see the header). */
#include "adapters/teams_api_int.h"
#include "bot/buf.h"
#include "bot/courier.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/util.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SERVICE_URL_MAX 2048

static const char *const op_target[] = { "teams.send", "teams.update", "teams.create_conversation",
					 "teams.get_member" };

/* ---- helpers shared through teams_api_int.h ---- */

void teams_set_why(char *why, size_t whysize, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whysize)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whysize, fmt, ap);
	va_end(ap);
}

/* ---- small checks ---- */

bool teams_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

bool teams_id_ok(const char *id)
{
	return id && id[0] && strlen(id) <= TEAMS_ID_MAX && !teams_has_ctl(id);
}

/* http(s)://host..., no spaces, control bytes, query or fragment (the path
 * is appended to it). */
static bool service_url_ok(const char *u)
{
	size_t skip;

	if (!u)
		return false;
	if (strncasecmp(u, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		skip = 7;
	else
		return false;
	if (!u[skip] || u[skip] == '/' || strlen(u) > SERVICE_URL_MAX || strpbrk(u, " ?#"))
		return false;
	return !teams_has_ctl(u);
}

/* The error code of an answer, kept to [A-Za-z0-9_.] ("" when none): the
 * Connector's {"error":{"code"}} or the token endpoint's {"error":"..."}.
 * blocked: the Connector said the user blocked the bot. */
void teams_error_code(const char *body, size_t len, char *out, size_t size, bool *blocked)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *e = json_object_get(root, "error");
	const char *code = json_is_string(e) ? json_string_value(e) : json_string_value(json_object_get(e, "code"));
	const char *sub = json_string_value(json_object_get(e, "subCode"));
	size_t o = 0;

	*blocked = false;
	for (int k = 0; k < 2; k++) {
		const char *c = k ? sub : code;

		if (c && (strcmp(c, "MessageWritesBlocked") == 0 || strcmp(c, "ConversationBlockedByUser") == 0))
			*blocked = true;
	}
	for (; code && *code && o + 1 < size && o < 63; code++)
		if ((*code >= 'a' && *code <= 'z') || (*code >= 'A' && *code <= 'Z') || (*code >= '0' && *code <= '9') ||
		    *code == '_' || *code == '.')
			out[o++] = *code;
	if (size)
		out[o] = '\0';
	json_decref(root);
}

/* ---- URLs ---- */

static void add_segment(struct buf *u, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	buf_addc(u, '/');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '.' || *p == '_' || *p == '~') {
			buf_addc(u, (char)*p);
		} else {
			buf_addc(u, '%');
			buf_addc(u, hex[*p >> 4]);
			buf_addc(u, hex[*p & 15]);
		}
	}
}

/* <service_url without trailing '/'>/v3/conversations[/<conv>[/<kind>[/<id>]]] */
void teams_build_url(struct buf *u, const char *service_url, const char *conv, const char *kind,
		     const char *id)
{
	size_t n = strlen(service_url);

	while (n > 0 && service_url[n - 1] == '/')
		n--;
	buf_add(u, service_url, n);
	buf_adds(u, "/v3/conversations");
	if (conv)
		add_segment(u, conv);
	if (kind) {
		buf_addc(u, '/');
		buf_adds(u, kind);
	}
	if (id)
		add_segment(u, id);
}

/* The checks every call starts with. 0 fine, else 1 with why. */
int teams_check_config_and_url(const struct config *cfg, const char *service_url, char *why,
			       size_t whysize)
{
	if (!cfg->teams_app_id || !cfg->teams_app_id[0] || !cfg->teams_app_password ||
	    !cfg->teams_app_password[0] || !cfg->teams_token_url || !cfg->teams_token_url[0]) {
		teams_set_why(why, whysize, "sending to Teams needs teams.app_id and teams.app_password (WK_TEAMS_APP_ID, "
			"WK_TEAMS_APP_PASSWORD)");
		return 1;
	}
	if (!service_url_ok(service_url)) {
		teams_set_why(why, whysize, "the conversation's serviceUrl is not an http(s) URL we can use");
		return 1;
	}
	return 0;
}

/* ---- judging an answer ---- */

static const char *outcome_word(int rc)
{
	return rc == 0 ? "done" : rc == 1 ? "refused" : rc == 2 ? "unknown" : rc == 4 ? "gone" : "failed";
}

/* The result of a Connector answer (or a failed transfer) for op; code gets
 * the sanitised error code for logs. A 401 here is the second one. */
int teams_judge_answer(enum op op, const struct courier_response *r, long *retry_after, char *code,
		       size_t codesize, char *why, size_t whysize)
{
	bool blocked = false;
	const char *sp;

	*retry_after = -1;
	code[0] = '\0';
	if (r->status == 0) {
		if (!r->maybe_sent && strncmp(r->error, "invalid request", 15) == 0) {
			teams_set_why(why, whysize, "the courier refused to send it: %s", r->error);
			return 1;
		}
		if (r->maybe_sent) {
			teams_set_why(why, whysize, "no answer from Teams (%s)%s", r->error,
				op == OP_SEND ? ": it may have been posted" : "");
			return op == OP_SEND ? 2 : -1;
		}
		teams_set_why(why, whysize, "could not reach Teams: %s", r->error);
		return -1;
	}
	if (r->status >= 200 && r->status <= 299)
		return 0;
	teams_error_code(r->body, r->body_len, code, codesize, &blocked);
	sp = code[0] ? " " : "";
	if (r->status == 429) {
		*retry_after = r->retry_after;
		if (r->retry_after >= 0)
			teams_set_why(why, whysize, "Teams is rate limiting the bot (429%s%s); Retry-After %ld seconds", sp,
				code, r->retry_after);
		else
			teams_set_why(why, whysize, "Teams is rate limiting the bot (429%s%s, no Retry-After)", sp, code);
		return -1;
	}
	if (r->status == 408 || r->status == 412) {
		teams_set_why(why, whysize, "Teams answered HTTP %ld%s%s; try again later", r->status, sp, code);
		return -1;
	}
	if (r->status == 401) {
		teams_set_why(why, whysize, "the Bot Connector refused a fresh token too (401%s%s): check teams.app_id, "
			"teams.app_password and teams.tenant_id", sp, code);
		return 1;
	}
	if (r->status == 403 && blocked) {
		teams_set_why(why, whysize, "the user blocked or uninstalled the bot (403 %s)", code[0] ? code : "MessageWritesBlocked");
		return 1;
	}
	if (r->status == 404) {
		teams_set_why(why, whysize, "Teams knows no such %s (404%s%s)", op == OP_UPDATE ? "activity" :
			op == OP_MEMBER ? "member or conversation" : "conversation", sp, code);
		return op == OP_UPDATE ? 4 : 1;
	}
	if (r->status >= 400 && r->status <= 499) {
		teams_set_why(why, whysize, "Teams refused it (HTTP %ld%s%s)", r->status, sp, code);
		return 1;
	}
	if (r->status >= 500) {
		teams_set_why(why, whysize, "Teams answered HTTP %ld%s%s%s", r->status, sp, code,
			op == OP_SEND ? ": the message may have been posted" : "");
		return op == OP_SEND ? 2 : -1;
	}
	teams_set_why(why, whysize, "Teams answered an unexpected HTTP %ld", r->status);
	return -1;
}

void teams_log_outcome(enum op op, int rc, long status, const char *code, const char *operation_id,
		       const char *why)
{
	char q[TEAMS_WHY_SIZE + 40], o[COURIER_OPERATION_ID_SIZE + 8];

	metrics_outbound(op_target[op], rc == 0 ? "sent" : rc == 1 || rc == 4 ? "refused" : rc == 2 ? "unknown" : "failed");
	if (rc != 0)
		log_warn(op_target[op], "outcome=%s status=%ld code=%s operation=%s why=%s", outcome_word(rc), status,
			 code && code[0] ? code : "-", log_quote(o, sizeof(o), operation_id && operation_id[0] ? operation_id : "-"),
			 log_quote(q, sizeof(q), why ? why : ""));
}

/* A string field of an answer into out: true when absent (out "") or copied;
 * false when it does not fit, is not a string, or has control bytes. */
bool teams_copy_field(json_t *obj, const char *key, char *out, size_t size)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);

	out[0] = '\0';
	if (!v || json_is_null(v))
		return true;
	if (!s || strlen(s) >= size || teams_has_ctl(s))
		return false;
	wk_strlcpy(out, s, size);
	return true;
}

/* ---- blocking calls ---- */

/* One Connector call with a token, once more with a fresh one after a 401.
 * Returns the judged result; *r holds the answer (always freeable). */
static int connector_call(const struct config *cfg, enum op op, const char *method, const char *url,
			  const char *body, size_t len, struct courier_response *r, long *retry_after,
			  char *code, size_t codesize, char *why, size_t whysize)
{
	static const char *const json_headers[] = { "Content-Type: application/json", "Accept: application/json", NULL };
	static const char *const get_headers[] = { "Accept: application/json", NULL };
	char tok[TEAMS_TOKEN_MAX + 1];
	uint64_t gen = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	code[0] = '\0';
	for (int attempt = 0;; attempt++) {
		rc = teams_token_get(cfg, tok, &gen, why, whysize);
		if (rc != 0)
			return rc;
		struct courier_request req = {
			.method = method,
			.url = url,
			.bearer = tok,
			.headers = body ? json_headers : get_headers,
			.body = body,
			.body_len = body ? len : 0,
			.target = op_target[op],
			.timeout_ms = TEAMS_TIMEOUT_MS,
		};
		courier_call(&req, r);
		OPENSSL_cleanse(tok, sizeof(tok));
		if (r->status != 401 || attempt > 0)
			break;
		/* Revoked or expired early: this token is done for; one more try. */
		log_info(op_target[op], "note=\"401 from the Bot Connector; fetching a new token and trying once more\"");
		courier_response_free(r);
		teams_token_drop(gen);
	}
	return teams_judge_answer(op, r, retry_after, code, codesize, why, whysize);
}

/* What a 2xx answer must hold: copies it into out; 0, or a result with w. */
typedef int (*answer_fn)(json_t *root, void *out, char *w, size_t wsize);

struct call {
	enum op op;
	const char *method;
	const char *service_url, *conv, *kind, *id;	/* the URL's parts (teams_build_url) */
	const char *body;	/* NULL for a GET */
	size_t len;
	answer_fn answer;	/* NULL: the answer's body does not matter */
	void *out;
};

/* The shared path of the blocking calls: URL, call, answer, log. */
static int blocking_call(const struct config *cfg, const struct call *c, long *retry_after, char *why,
			 size_t whysize)
{
	struct buf url = BUF_INIT(16384);
	struct courier_response r = { 0 };
	char code[64] = "", w[TEAMS_WHY_SIZE] = "";
	long ra = -1;
	int rc;

	if ((rc = teams_check_config_and_url(cfg, c->service_url, w, sizeof(w))) != 0)
		goto out;
	teams_build_url(&url, c->service_url, c->conv, c->kind, c->id);
	rc = connector_call(cfg, c->op, c->method, buf_cstr(&url), c->body, c->len, &r, &ra, code, sizeof(code), w,
			    sizeof(w));
	if (rc == 0 && c->answer) {
		json_error_t jerr;
		json_t *root = json_loadb(r.body, r.body_len, 0, &jerr);

		rc = c->answer(root, c->out, w, sizeof(w));
		json_decref(root);
	}
out:
	if (retry_after)
		*retry_after = ra;
	teams_log_outcome(c->op, rc, r.status, code, r.operation_id, w);
	teams_set_why(why, whysize, "%s", rc ? w : "");
	courier_response_free(&r);
	buf_free(&url);
	return rc;
}

/* Bad arguments: 1, before anything is sent. */
static int refuse(enum op op, long *retry_after, char *why, size_t whysize, const char *what)
{
	if (retry_after)
		*retry_after = -1;
	teams_set_why(why, whysize, "%s", what);
	teams_log_outcome(op, 1, 0, NULL, NULL, what);
	return 1;
}

struct text_out {
	char *s;
	size_t size;
};

static int activity_answer(json_t *root, void *out, char *w, size_t wsize)
{
	struct text_out *t = out;

	(void)w;
	(void)wsize;
	if (t->s && t->size && !teams_copy_field(root, "id", t->s, t->size))
		t->s[0] = '\0';	/* sent all the same: never a reason to send again */
	return 0;
}

int teams_send(const struct config *cfg, const char *service_url, const char *conversation_id,
	       const char *reply_to_id, const char *activity_json, size_t len, char *activity_id,
	       size_t idsize, long *retry_after, char *why, size_t whysize)
{
	struct text_out t = { activity_id, idsize };
	struct call c = { OP_SEND, "POST", service_url, conversation_id, "activities",
			  reply_to_id && reply_to_id[0] ? reply_to_id : NULL, activity_json, len, activity_answer, &t };

	if (activity_id && idsize)
		activity_id[0] = '\0';
	if (!teams_id_ok(conversation_id) || (c.id && !teams_id_ok(c.id)) || !activity_json || !len)
		return refuse(OP_SEND, retry_after, why, whysize,
			      "empty or over-long conversation or activity id, or no activity");
	return blocking_call(cfg, &c, retry_after, why, whysize);
}

int teams_update(const struct config *cfg, const char *service_url, const char *conversation_id,
		 const char *activity_id, const char *activity_json, size_t len, long *retry_after, char *why,
		 size_t whysize)
{
	struct call c = { OP_UPDATE, "PUT", service_url, conversation_id, "activities", activity_id, activity_json,
			  len, NULL, NULL };

	if (!teams_id_ok(conversation_id) || !teams_id_ok(activity_id) || !activity_json || !len)
		return refuse(OP_UPDATE, retry_after, why, whysize,
			      "an update needs the conversation id, the activity id and the activity");
	return blocking_call(cfg, &c, retry_after, why, whysize);
}

static int conversation_answer(json_t *root, void *out, char *w, size_t wsize)
{
	struct text_out *t = out;

	if (teams_copy_field(root, "id", t->s, t->size) && teams_id_ok(t->s))
		return 0;
	t->s[0] = '\0';
	teams_set_why(w, wsize, "Teams created the conversation but answered without a usable id");
	return -1;
}

json_t *teams_conversation_params(const struct config *cfg, const char *tenant_id, const char *user_id,
				  json_t *activity)
{
	char bot[128];
	json_t *params;

	if (!teams_id_ok(tenant_id) || !teams_id_ok(user_id) || !cfg->teams_app_id ||
	    (size_t)snprintf(bot, sizeof(bot), "28:%s", cfg->teams_app_id) >= sizeof(bot))
		return NULL;
	params = json_pack("{s:{s:s}, s:[{s:s}], s:b, s:s, s:{s:{s:s}}}", "bot", "id", bot, "members", "id", user_id,
			   "isGroup", 0, "tenantId", tenant_id, "channelData", "tenant", "id", tenant_id);
	if (params && activity && json_object_set(params, "activity", activity) < 0) {
		json_decref(params);
		return NULL;
	}
	return params;
}

int teams_create_conversation(const struct config *cfg, const char *service_url, const char *tenant_id,
			      const char *user_id, char *conversation_id, size_t convsize, long *retry_after,
			      char *why, size_t whysize)
{
	struct text_out t = { conversation_id, convsize };
	struct call c = { OP_CREATE, "POST", service_url, NULL, NULL, NULL, NULL, 0, conversation_answer, &t };
	json_t *params;
	char *body;
	int rc;

	if (!conversation_id || !convsize)
		return refuse(OP_CREATE, retry_after, why, whysize, "no room for the conversation id");
	conversation_id[0] = '\0';
	params = teams_conversation_params(cfg, tenant_id, user_id, NULL);
	body = params ? json_dumps(params, JSON_COMPACT) : NULL;
	json_decref(params);
	if (!body)
		return refuse(OP_CREATE, retry_after, why, whysize,
			      "creating a Teams conversation needs a user id, a tenant id and teams.app_id");
	c.body = body;
	c.len = strlen(body);
	rc = blocking_call(cfg, &c, retry_after, why, whysize);
	free(body);
	return rc;
}

int teams_member_answer(json_t *root, void *out, char *w, size_t wsize)
{
	static const struct {
		const char *key;
		size_t off, size;
	} fields[] = {
#define F(key, field) { key, offsetof(struct teams_member, field), sizeof(((struct teams_member *)0)->field) }
		F("id", id), F("name", name), F("aadObjectId", aad_object_id), F("email", email),
		F("userPrincipalName", user_principal_name), F("tenantId", tenant_id),
#undef F
	};
	struct teams_member *m = out;

	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (!teams_copy_field(root, fields[i].key, (char *)m + fields[i].off, fields[i].size)) {
			memset(m, 0, sizeof(*m));
			teams_set_why(w, wsize, "Teams answered a member whose %s is over-long or malformed", fields[i].key);
			return 1;	/* the same answer next time */
		}
	if (m->id[0])
		return 0;
	memset(m, 0, sizeof(*m));
	teams_set_why(w, wsize, "Teams answered a member without an id");
	return -1;
}

int teams_get_member(const struct config *cfg, const char *service_url, const char *conversation_id,
		     const char *member_id, struct teams_member *out, long *retry_after, char *why,
		     size_t whysize)
{
	struct call c = { OP_MEMBER, "GET", service_url, conversation_id, "members", member_id, NULL, 0,
			  teams_member_answer, out };

	memset(out, 0, sizeof(*out));
	if (!teams_id_ok(conversation_id) || !teams_id_ok(member_id))
		return refuse(OP_MEMBER, retry_after, why, whysize, "empty or over-long conversation or member id");
	return blocking_call(cfg, &c, retry_after, why, whysize);
}
