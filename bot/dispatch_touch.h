/* dispatch_touch.h - dispatch's own: the passes over an org touch sent by
 * its caller (struct dispatch_touch, dispatch.h), and a preloaded schedule
 * taken into a command's context. dispatch.c only. */
#ifndef WK_DISPATCH_TOUCH_H
#define WK_DISPATCH_TOUCH_H

#include "bot/dispatch.h"

/* Pass 1: fill t->call for req (keys and arguments pointing into t and req)
 * and set TOUCH_WANTED; pre (may be NULL) is pointed at t's copies of its
 * team and stamp. -1 when a key does not fit: the request goes to a worker. */
int dispatch_touch_ask(struct dispatch_touch *t, const char *org_id, const struct request *req,
		       const struct org_replay *replay, int64_t now_ms, struct org_preload *pre);

/* Passes 3 and 4: the touch's answer as org_touch_preload() would have given
 * it (*touched, *view, and pre's outputs, its plan taken out of the touch).
 * pre: the request's preload (NULL without one); cached: the calling thread's
 * copy of that team's schedule. False, with nothing taken, on the loop
 * (env->store NULL) when the rest would need the store. */
bool dispatch_touch_take(const struct dispatch_env *env, struct org_preload *pre,
			 const struct team_plan *cached, struct org_view *view, int *touched);

/* The schedule org_touch_preload() read (or confirmed) into ctx: the calling
 * thread's copy when Redis said it still holds, else the fresh one, which
 * becomes the copy when it has a stamp (or, without a cache or stamp, is
 * *own's, freed by the caller). -1 when there is none to use. pre->plan is
 * freed either way. */
int dispatch_preload_take(const struct dispatch_env *env, const char *org_id, struct org_preload *pre,
			  const struct team_plan *cached, int64_t cached_from, struct team_plan *own,
			  struct cmd_ctx *ctx);

#endif
