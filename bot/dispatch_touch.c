/* dispatch_touch.c - an org touch sent by dispatch's caller (dispatch.h's
 * passes), and taking a preloaded schedule into a command's context. */
#include "bot/dispatch_touch.h"
#include "bot/schedule_cache.h"
#include "bot/util.h"

#include <string.h>

void dispatch_touch_answer(struct dispatch_touch *t, redisReply *reply)
{
	memset(&t->view, 0, sizeof(t->view));
	t->pre.team = t->team;
	t->pre.stamp = t->stamp;
	t->rc = reply ? org_touch_read(reply, &t->view, t->team[0] ? &t->pre : NULL) : -1;
	t->state = TOUCH_ANSWERED;
}

void dispatch_touch_free(struct dispatch_touch *t)
{
	if (t && t->pre.plan) {
		freeReplyObject(t->pre.plan);
		t->pre.plan = NULL;
	}
}

int dispatch_touch_ask(struct dispatch_touch *t, const char *org_id, const struct request *req,
		       const struct org_replay *replay, int64_t now_ms, struct org_preload *pre)
{
	/* What the script's arguments point at must outlive the pass. */
	t->now_ms = now_ms;
	wk_strlcpy(t->team, pre ? pre->team : "", sizeof(t->team));
	wk_strlcpy(t->stamp, pre && pre->stamp ? pre->stamp : "", sizeof(t->stamp));
	if (pre) {
		pre->team = t->team;
		pre->stamp = t->stamp;
	}
	if (org_touch_prepare(&t->call, org_id, req->user_id, platform_name(req->platform), replay, now_ms,
			      pre) < 0)
		return -1;
	t->state = TOUCH_WANTED;
	return 0;
}

bool dispatch_touch_take(const struct dispatch_env *env, struct org_preload *pre,
			 const struct team_plan *cached, struct org_view *view, int *touched)
{
	struct dispatch_touch *t = env->touch;
	/* The loop's copy of the schedule may have changed since the touch asked
	 * whether it still holds; a worker has copies of its own. */
	bool same = pre && t->pre.same && cached && strcmp(pre->stamp ? pre->stamp : "", t->stamp) == 0;

	if (!env->store) {
		/* On the loop: only what needs no store runs here. */
		bool loaded = pre && strcmp(t->team, pre->team) == 0 && (t->pre.plan || same);
		const struct org_view *v = &t->view;
		bool here = t->rc < 0 || t->rc == ORG_REPLAYED || (t->rc == ORG_LINKED && !env->relinked) ||
			    (t->rc == 0 && !v->created && loaded &&
			     !(v->role == ROLE_NONE && (v->has_email_placeholders || env->org_id)));
		if (!here)
			return false;
	}
	*touched = t->rc;
	*view = t->view;
	if (pre) {
		pre->same = same;
		pre->plan = t->pre.plan;
		t->pre.plan = NULL;
		wk_strlcpy(pre->tip, t->pre.tip, sizeof(pre->tip));
	}
	return true;
}

int dispatch_preload_take(const struct dispatch_env *env, const char *org_id, struct org_preload *pre,
			const struct team_plan *cached, int64_t cached_from, struct team_plan *own,
			struct cmd_ctx *ctx)
{
	struct team_plan fresh;

	if (pre->same && cached) {
		ctx->preload_plan = cached;
		ctx->preload_cache = env->schedules;
		ctx->preload_from = cached_from;
	} else if (pre->plan && schedule_from_reply(pre->plan, pre->team, pre->from_s, INT64_MAX, &fresh) == 0) {
		if (env->schedules && pre->tip[0]) {
			ctx->preload_plan = schedule_cache_put(env->schedules, org_id, pre->team, pre->tip, pre->from_s,
							       &fresh);
			ctx->preload_cache = env->schedules;
		} else {
			*own = fresh;
			ctx->preload_plan = own;
		}
		ctx->preload_from = pre->from_s;
	}
	if (pre->plan)
		freeReplyObject(pre->plan);
	pre->plan = NULL;
	return ctx->preload_plan ? 0 : -1;
}

