/* teams_api_async.c - the asynchronous Bot Connector calls (see teams_api.h):
 * teams_send_async() and teams_get_member_async(). Each is a struct pending
 * that waits behind the token (teams_token.c), goes out through the courier
 * and finishes on its completion thread (send_done), with one more try on a
 * fresh token after a 401. */
#include "adapters/teams_api_int.h"
#include "bot/buf.h"
#include "bot/courier.h"
#include "bot/log.h"
#include "bot/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void pending_free(struct pending *p)
{
	free(p->url);
	free(p->body);
	free(p);
}

/* Finish p with a failure that happened before its send could go out. */
void teams_pending_fail(struct pending *p, int rc, const char *why)
{
	teams_log_outcome(p->member_done ? OP_MEMBER : OP_SEND, rc, 0, NULL, NULL, why);
	if (p->member_done) {
		struct teams_member none = { 0 };
		p->member_done(p->arg, rc, &none, why);
	} else if (p->done) {
		p->done(p->arg, rc, "", -1, why);
	}
	pending_free(p);
}

/* A member lookup answered (the completion thread). */
static void member_done(struct pending *p, struct courier_response *r)
{
	struct teams_member m = { 0 };
	char code[64], why[TEAMS_WHY_SIZE] = "";
	long ra;
	int rc = teams_judge_answer(OP_MEMBER, r, &ra, code, sizeof(code), why, sizeof(why));

	if (rc == 0) {
		json_error_t jerr;
		json_t *root = json_loadb(r->body, r->body_len, 0, &jerr);
		rc = json_is_object(root) ? teams_member_answer(root, &m, why, sizeof(why)) : -1;
		if (!json_is_object(root))
			teams_set_why(why, sizeof(why), "Teams answered a member lookup with something that is not JSON");
		json_decref(root);
	}
	teams_log_outcome(OP_MEMBER, rc, r->status, code, r->operation_id, why);
	courier_response_free(r);
	p->member_done(p->arg, rc, &m, rc == 0 ? "" : why);
	pending_free(p);
}

static void send_done(void *arg, struct courier_response *r)
{
	struct pending *p = arg;
	char id[TEAMS_ID_MAX + 1] = "", code[64], why[TEAMS_WHY_SIZE] = "";
	long ra;
	int rc;

	if (r->status == 401 && !p->retried) {
		p->retried = true;
		courier_response_free(r);
		log_info("teams.send", "note=\"401 from the Bot Connector; fetching a new token and trying once more\"");
		teams_token_drop(p->gen);
		teams_token_async(p);
		return;
	}
	if (p->member_done) {
		member_done(p, r);
		return;
	}
	rc = teams_judge_answer(OP_SEND, r, &ra, code, sizeof(code), why, sizeof(why));
	if (rc == 0) {
		json_error_t jerr;
		json_t *root = json_loadb(r->body, r->body_len, 0, &jerr);

		if (!teams_copy_field(root, "id", id, sizeof(id)))
			id[0] = '\0';
		json_decref(root);
	}
	teams_log_outcome(OP_SEND, rc, r->status, code, r->operation_id, why);
	courier_response_free(r);
	p->done(p->arg, rc, id, ra, rc == 0 ? "" : why);
	pending_free(p);
}

/* Send p with tok (any thread, no tc.lock held); p is the courier's from here. */
void teams_pending_dispatch(struct pending *p, const char *tok, uint64_t gen)
{
	static const char *const headers[] = { "Content-Type: application/json", "Accept: application/json", NULL };

	if (!p->done && !p->member_done) {
		courier_post_json(p->url, tok, p->body, p->len, "teams.send");	/* takes the body */
		p->body = NULL;
		pending_free(p);
		return;
	}
	p->gen = gen;
	struct courier_request req = {
		.method = p->member_done ? "GET" : "POST",
		.url = p->url,
		.bearer = tok,
		.headers = headers,
		.body = p->body,
		.body_len = p->len,
		.target = p->member_done ? "teams.get_member" : "teams.send",
		.timeout_ms = TEAMS_TIMEOUT_MS,
	};
	courier_call_async(&req, send_done, p);
}

/* Check p's call, build its URL (.../<kind>[/<id>]) and queue it behind the
 * token; a bad call finishes p at once. ok: the caller's own checks passed. */
static void pending_start(struct pending *p, const char *service_url, const char *conversation_id, const char *kind,
			  const char *id, bool ok, const char *bad)
{
	struct buf url = BUF_INIT(16384);
	char why[TEAMS_WHY_SIZE];
	int rc;

	if ((rc = teams_check_config_and_url(p->cfg, service_url, why, sizeof(why))) != 0) {
		teams_pending_fail(p, rc, why);
	} else if (!ok || !teams_id_ok(conversation_id) || (id && !teams_id_ok(id))) {
		teams_pending_fail(p, 1, bad);
	} else {
		teams_build_url(&url, service_url, conversation_id, kind, id);
		p->url = buf_detach(&url, NULL);
		teams_token_async(p);
	}
	buf_free(&url);
}

void teams_send_async(const struct config *cfg, const char *service_url, const char *conversation_id,
		      const char *reply_to_id, char *activity_json, size_t len, teams_done_fn done, void *arg)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	p->cfg = cfg;
	p->body = activity_json;
	p->len = len;
	p->done = done;
	p->arg = arg;
	pending_start(p, service_url, conversation_id, "activities", reply_to_id && reply_to_id[0] ? reply_to_id : NULL,
		      activity_json && len, "empty or over-long conversation or activity id, or no activity");
}

void teams_get_member_async(const struct config *cfg, const char *service_url, const char *conversation_id,
			    const char *member_id, teams_member_fn done, void *arg)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	p->cfg = cfg;
	p->member_done = done;
	p->arg = arg;
	pending_start(p, service_url, conversation_id, "members", member_id ? member_id : "", true,
		      "empty or over-long conversation or member id");
}

void teams_open_chat_async(const struct config *cfg, const char *service_url, const char *tenant_id,
			   const char *user_id, const char *activity_json, size_t len, teams_done_fn done, void *arg)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	struct buf url = BUF_INIT(16384);
	char why[TEAMS_WHY_SIZE];
	json_error_t jerr;
	json_t *activity = activity_json ? json_loadb(activity_json, len, 0, &jerr) : NULL, *params = NULL;
	int rc;

	p->cfg = cfg;
	p->done = done;
	p->arg = arg;
	if ((rc = teams_check_config_and_url(cfg, service_url, why, sizeof(why))) != 0) {
		teams_pending_fail(p, rc, why);
	} else if (!json_is_object(activity) || !(params = teams_conversation_params(cfg, tenant_id, user_id, activity)) ||
		   !(p->body = json_dumps(params, JSON_COMPACT))) {
		teams_pending_fail(p, 1, "opening a Teams chat needs a user id, a tenant id and an activity");
	} else {
		p->len = strlen(p->body);
		teams_build_url(&url, service_url, NULL, NULL, NULL);
		p->url = buf_detach(&url, NULL);
		teams_token_async(p);
	}
	json_decref(activity);
	json_decref(params);
	buf_free(&url);
}
