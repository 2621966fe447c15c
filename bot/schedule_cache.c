/* schedule_cache.c - see schedule_cache.h
 *
 * A handful of entries searched in a line: a worker serves few teams at once,
 * and a miss costs one load, not a wrong answer. */
#include "bot/schedule_cache.h"
#include "bot/util.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	char org[96];
	char team[SCHEDULE_ID_LEN];
	char stamp[SCHEDULE_STAMP_LEN];
	int64_t from;
	uint64_t used;		/* when it was last used, in gets and puts */
	struct team_plan plan;
	/* plan's schedule around the last view's now (schedule_chain() reads it) */
	struct schedule built;
	int64_t built_from, built_to;
	bool full;
};

struct schedule_cache {
	struct entry *entries;
	size_t n;
	uint64_t clock;
};

struct schedule_cache *schedule_cache_new(size_t capacity)
{
	struct schedule_cache *c = xcalloc(1, sizeof(*c));

	c->n = capacity ? capacity : 1;
	c->entries = xcalloc(c->n, sizeof(*c->entries));
	return c;
}

void schedule_cache_free(struct schedule_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].full) {
			team_plan_free(&c->entries[i].plan);
			schedule_free(&c->entries[i].built);
		}
	free(c->entries);
	free(c);
}

static struct entry *find(struct schedule_cache *c, const char *org, const char *team)
{
	for (size_t i = 0; i < c->n; i++) {
		struct entry *e = &c->entries[i];
		if (e->full && strcmp(e->team, team) == 0 && strcmp(e->org, org) == 0)
			return e;
	}
	return NULL;
}

const struct team_plan *schedule_cache_get(struct schedule_cache *c, const char *org, const char *team,
					   const char **stamp, int64_t *from)
{
	struct entry *e = c ? find(c, org, team) : NULL;

	if (!e)
		return NULL;
	e->used = ++c->clock;
	*stamp = e->stamp;
	*from = e->from;
	return &e->plan;
}

const struct team_plan *schedule_cache_put(struct schedule_cache *c, const char *org, const char *team,
					   const char *stamp, int64_t from, struct team_plan *plan)
{
	struct entry *e = find(c, org, team);

	if (!e) {
		e = &c->entries[0];
		for (size_t i = 1; i < c->n && e->full; i++)
			if (!c->entries[i].full || c->entries[i].used < e->used)
				e = &c->entries[i];
	}
	if (e->full) {
		team_plan_free(&e->plan);
		schedule_free(&e->built);
	}
	e->built_from = e->built_to = 0;
	wk_strlcpy(e->org, org, sizeof(e->org));
	wk_strlcpy(e->team, team, sizeof(e->team));
	wk_strlcpy(e->stamp, stamp, sizeof(e->stamp));
	e->from = from;
	e->used = ++c->clock;
	e->plan = *plan;
	e->full = true;
	memset(plan, 0, sizeof(*plan));
	return &e->plan;
}

/* Around now, the entry's schedule: built again (a few weeks) once now nears
 * its edge, so the chain of a moment comes from it for weeks at a time. */
#define BUILT_MARGIN (8 * 86400LL)
#define BUILT_SPAN (16 * 86400LL)

static void entry_build_around(struct entry *e, int64_t now)
{
	if (e->built_to && now - BUILT_MARGIN >= e->built_from && now + BUILT_MARGIN <= e->built_to)
		return;
	schedule_free(&e->built);
	e->built_from = now - BUILT_SPAN;
	e->built_to = now + BUILT_SPAN;
	if (schedule_build(&e->plan, e->built_from, e->built_to, &e->built) < 0)
		e->built_from = e->built_to = 0;	/* none: schedule_chain() builds its own */
}

void schedule_cache_view(struct schedule_cache *c, const struct team_plan *plan, int64_t now, int64_t from,
			 int64_t to, struct team_plan *out)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	wk_strlcpy(out->team, plan->team, sizeof(out->team));
	out->rotations = plan->rotations;
	out->nrotations = plan->nrotations;
	out->rotations_borrowed = true;
	out->overrides = xcalloc(plan->noverrides + 1, sizeof(*out->overrides));
	/* The same test as schedule_from_reply(); the order (made first) is kept. */
	for (size_t i = 0; i < plan->noverrides; i++) {
		const struct override_def *o = &plan->overrides[i];
		if (o->start < to && o->end > from && o->start < o->end)
			out->overrides[n++] = *o;
	}
	out->noverrides = n;
	/* The entry's own schedule stands for the view's around now: the
	 * overrides the view leaves out (outside [from, to)) don't reach it. */
	for (size_t i = 0; c && i < c->n; i++) {
		struct entry *e = &c->entries[i];
		if (!e->full || &e->plan != plan)
			continue;
		entry_build_around(e, now);
		if (e->built_to && e->built_from >= from && e->built_to <= to) {
			out->built = &e->built;
			out->built_from = e->built_from;
			out->built_to = e->built_to;
		}
	}
}
