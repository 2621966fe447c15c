/* schedule_cache.c - see schedule_cache.h */
#include "bot/schedule_cache.h"
#include "bot/slots.h"
#include "bot/util.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	struct slot slot;	/* first: see slots.h */
	char org[96];
	char team[SCHEDULE_ID_LEN];
	char stamp[SCHEDULE_STAMP_LEN];
	int64_t from;
	struct team_plan plan;
	/* plan's schedule around the last view's now (schedule_chain() reads it) */
	struct schedule built;
	int64_t built_from, built_to;
};

struct schedule_cache {
	struct slot_table t;
};

static struct entry *entry_at(const struct schedule_cache *c, size_t i)
{
	return (struct entry *)slot_at(&c->t, i);
}

struct schedule_cache *schedule_cache_new(size_t capacity)
{
	struct schedule_cache *c = xcalloc(1, sizeof(*c));

	slot_table_init(&c->t, capacity, sizeof(struct entry));
	return c;
}

static void entry_empty(struct entry *e)
{
	if (!e->slot.full)
		return;
	team_plan_free(&e->plan);
	schedule_free(&e->built);
	e->built_from = e->built_to = 0;
	e->slot.full = false;
}

void schedule_cache_free(struct schedule_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->t.n; i++)
		entry_empty(entry_at(c, i));
	slot_table_destroy(&c->t);
	free(c);
}

static struct entry *find(struct schedule_cache *c, const char *org, const char *team)
{
	for (size_t i = 0; i < c->t.n; i++) {
		struct entry *e = entry_at(c, i);
		if (e->slot.full && strcmp(e->team, team) == 0 && strcmp(e->org, org) == 0)
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
	slot_touch(&c->t, &e->slot);
	*stamp = e->stamp;
	*from = e->from;
	return &e->plan;
}

const struct team_plan *schedule_cache_put(struct schedule_cache *c, const char *org, const char *team,
					   const char *stamp, int64_t from, struct team_plan *plan)
{
	struct entry *e = find(c, org, team);

	if (!e)
		e = (struct entry *)slot_victim(&c->t);
	entry_empty(e);
	wk_strlcpy(e->org, org, sizeof(e->org));
	wk_strlcpy(e->team, team, sizeof(e->team));
	wk_strlcpy(e->stamp, stamp, sizeof(e->stamp));
	e->from = from;
	e->plan = *plan;
	e->slot.full = true;
	slot_touch(&c->t, &e->slot);
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
	for (size_t i = 0; c && i < c->t.n; i++) {
		struct entry *e = entry_at(c, i);
		if (!e->slot.full || &e->plan != plan)
			continue;
		entry_build_around(e, now);
		if (e->built_to && e->built_from >= from && e->built_to <= to) {
			out->built = &e->built;
			out->built_from = e->built_from;
			out->built_to = e->built_to;
		}
	}
}
