/* schedule.c - see schedule.h
 *
 * schedule_build works in three passes over [from, to):
 *  1. each rotation yields pieces: its versions' grid shifts, clipped to the
 *     version's span and cut to its weekly windows;
 *  2. every piece and override edge becomes a boundary; each elementary
 *     interval between two boundaries takes the best-priority piece covering
 *     it (a piece has its version's priority; on a tie the rotation made
 *     first), then the overrides covering it, each on top of the older ones
 *     (a swap's override only while the person it replaces is the one beneath);
 *  3. adjacent intervals that say the same thing are merged.
 * Pieces per rotation are already sorted, so pass 2 walks each rotation's list
 * with one cursor: O((B + P) * R) for B boundaries, P pieces, R rotations. */
#include "bot/schedule.h"
#include "bot/log.h"
#include "bot/org.h"
#include "bot/tz.h"
#include "bot/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIECES 200000	/* a bound on one build, far above 90 days of hourly shifts */

struct piece {
	int64_t start, end;
	int64_t shift_index, shift_start, shift_end;
	const char *member;
	int priority;
};

struct piece_list {
	struct piece *p;
	size_t n, alloc;
};

static int piece_add(struct piece_list *l, const struct piece *x)
{
	if (l->n == MAX_PIECES)
		return -1;
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 64;
		l->p = xrealloc(l->p, l->alloc * sizeof(*l->p));
	}
	l->p[l->n++] = *x;
	return 0;
}

static int64_t version_end(const struct rotation_plan *r, size_t i)
{
	return i + 1 < r->nversions ? r->versions[i + 1].effective_from : TZ_TIME_MAX;
}

static size_t member_of(const struct rotation_version *v, int64_t k, int64_t k0)
{
	int64_t n = (int64_t)v->nmembers;
	int64_t m = ((int64_t)v->first_member + (k - k0)) % n;
	return (size_t)(m < 0 ? m + n : m);
}

/* Add [a, b) cut to the version's weekly windows (local times in its zone). */
static int add_windowed(struct piece_list *l, const struct rotation_version *v, struct piece *x)
{
	int64_t a = x->start, b = x->end;
	struct tz_local la;

	if (!v->nwindows)
		return piece_add(l, x);
	tz_to_local(v->spec.zone, a, &la);
	/* Windows opening the day before a can still cover a (past midnight). */
	int64_t day = tz_days_from_civil(la.year, la.month, la.day) - 1;
	for (;; day++) {
		int64_t y;
		int mo, d;
		tz_civil_from_days(day, &y, &mo, &d);
		int64_t day_start = tz_from_local(v->spec.zone, (int)y, mo, d, 0, 0, 0);
		if (day_start >= b)
			break;
		int wday = (int)(((day % 7) + 11) % 7);	/* 1970-01-01 was a Thursday (4) */
		for (size_t w = 0; w < v->nwindows; w++) {
			const struct rotation_window *win = &v->windows[w];
			if (!(win->days & (1u << wday)))
				continue;
			int64_t ws = tz_from_local(v->spec.zone, (int)y, mo, d, win->start_min / 60,
						   win->start_min % 60, 0);
			int end_day_offset = win->end_min <= win->start_min ? 1 : 0;
			int end_min = win->end_min;
			int64_t ey;
			int emo, ed;
			tz_civil_from_days(day + end_day_offset + (end_min == 1440 ? 1 : 0), &ey, &emo, &ed);
			if (end_min == 1440)
				end_min = 0;
			int64_t we = tz_from_local(v->spec.zone, (int)ey, emo, ed, end_min / 60, end_min % 60, 0);
			struct piece c = *x;
			c.start = ws > a ? ws : a;
			c.end = we < b ? we : b;
			if (c.start < c.end && piece_add(l, &c) < 0)
				return -1;
		}
	}
	return 0;
}

static int piece_order(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Pieces of one rotation in [from, to), sorted by start. */
static int rotation_pieces(const struct rotation_plan *r, int64_t from, int64_t to,
			   struct piece_list *out)
{
	for (size_t i = 0; i < r->nversions; i++) {
		const struct rotation_version *v = &r->versions[i];
		int64_t vs = v->effective_from > from ? v->effective_from : from;
		int64_t ve = version_end(r, i) < to ? version_end(r, i) : to;
		struct shift sh, first;

		if (vs >= ve || v->nmembers == 0)
			continue;
		if (rotation_shift_at(&v->spec, v->nmembers, v->effective_from, &first) < 0 ||
		    rotation_shift_at(&v->spec, v->nmembers, vs, &sh) < 0)
			continue;
		for (int64_t k = sh.index;; k++) {
			struct shift cur;
			if (rotation_shift_by_index(&v->spec, v->nmembers, k, &cur) < 0 || cur.start >= ve)
				break;
			if (cur.end <= vs)
				continue;
			struct piece p = {
				.start = cur.start > vs ? cur.start : vs,
				.end = cur.end < ve ? cur.end : ve,
				.shift_index = k,
				.shift_start = cur.start > v->effective_from ? cur.start : v->effective_from,
				.shift_end = cur.end < version_end(r, i) ? cur.end : version_end(r, i),
				.member = v->members[member_of(v, k, first.index)],
				.priority = v->priority ? v->priority : r->priority,
			};
			if (add_windowed(out, v, &p) < 0)
				return -1;
		}
	}
	if (out->n > 1)
		qsort(out->p, out->n, sizeof(*out->p), piece_order);
	return 0;
}

static int i64_order(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Ids are "r<n>" from one counter: the shorter one is older ("r9" < "r10"). */
static int created_order(const struct rotation_plan *x, const struct rotation_plan *y)
{
	size_t a = strlen(x->id), b = strlen(y->id);
	if (a != b)
		return a < b ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int rotation_created_order(const void *a, const void *b)
{
	return created_order(*(const struct rotation_plan *const *)a, *(const struct rotation_plan *const *)b);
}

int schedule_rotation_order(const void *a, const void *b)
{
	const struct rotation_plan *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return created_order(x, y);
}

static bool same_segment(const struct segment *a, const struct segment *b)
{
	return a->end == b->start && a->source == b->source && a->shift_index == b->shift_index &&
	       strcmp(a->member, b->member) == 0 && strcmp(a->rotation, b->rotation) == 0 &&
	       strcmp(a->override_id, b->override_id) == 0;
}

int schedule_build(const struct team_plan *p, int64_t from, int64_t to, struct schedule *out)
{
	const struct rotation_plan **order = NULL;
	struct piece_list *pieces = NULL;
	size_t *cursor = NULL, nb = 0, alloc = 0;
	int64_t *bounds = NULL;
	int rc = -1;

	out->seg = NULL;
	out->n = 0;
	if (from >= to || from < TZ_TIME_MIN || to > TZ_TIME_MAX)
		return -1;
	order = xcalloc(p->nrotations + 1, sizeof(*order));
	pieces = xcalloc(p->nrotations + 1, sizeof(*pieces));
	cursor = xcalloc(p->nrotations + 1, sizeof(*cursor));
	for (size_t i = 0; i < p->nrotations; i++)
		order[i] = &p->rotations[i];
	qsort(order, p->nrotations, sizeof(*order), rotation_created_order);

	alloc = 2 + 2 * p->noverrides;
	for (size_t i = 0; i < p->nrotations; i++) {
		if (rotation_pieces(order[i], from, to, &pieces[i]) < 0)
			goto out;
		alloc += 2 * pieces[i].n;
	}
	bounds = xmalloc(alloc * sizeof(*bounds));
	bounds[nb++] = from;
	bounds[nb++] = to;
	for (size_t i = 0; i < p->nrotations; i++)
		for (size_t j = 0; j < pieces[i].n; j++) {
			bounds[nb++] = pieces[i].p[j].start;
			bounds[nb++] = pieces[i].p[j].end;
		}
	for (size_t i = 0; i < p->noverrides; i++) {
		const struct override_def *o = &p->overrides[i];
		if (o->start > from && o->start < to)
			bounds[nb++] = o->start;
		if (o->end > from && o->end < to)
			bounds[nb++] = o->end;
	}
	qsort(bounds, nb, sizeof(*bounds), i64_order);

	out->seg = xcalloc(nb, sizeof(*out->seg));
	for (size_t b = 0; b + 1 < nb; b++) {
		int64_t a = bounds[b], z = bounds[b + 1];
		struct segment s = { .start = a, .end = z, .source = SEGMENT_ROTATION, .shift_index = 0 };

		if (a == z || a < from || z > to)
			continue;
		const struct piece *best = NULL;
		size_t best_rot = 0;
		for (size_t i = 0; i < p->nrotations; i++) {
			struct piece_list *l = &pieces[i];
			while (cursor[i] < l->n && l->p[cursor[i]].end <= a)
				cursor[i]++;
			/* Windows of one version may overlap: the cursor is at the first
			 * piece that still runs; it covers a if it has started. Rotations
			 * are in creation order, so a tie keeps the older one. */
			if (cursor[i] < l->n && l->p[cursor[i]].start <= a &&
			    (!best || l->p[cursor[i]].priority < best->priority)) {
				best = &l->p[cursor[i]];
				best_rot = i;
			}
		}
		if (best) {
			wk_strlcpy(s.member, best->member, sizeof(s.member));
			wk_strlcpy(s.rotation, order[best_rot]->id, sizeof(s.rotation));
			s.shift_index = best->shift_index;
			s.shift_start = best->shift_start;
			s.shift_end = best->shift_end;
		}
		/* Overrides in creation order, each on top of the ones before: the
		 * newest covering a wins. One that names whom it replaces applies only
		 * while that person is the one on call beneath it (a swap whose shift
		 * moved no longer applies; a swap of time someone got by an override
		 * stops when that override goes). */
		for (size_t i = 0; i < p->noverrides; i++) {
			const struct override_def *o = &p->overrides[i];
			if (o->start > a || o->end < z)
				continue;
			if (o->replaces[0] && strcmp(o->replaces, s.member) != 0)
				continue;
			wk_strlcpy(s.member, o->member, sizeof(s.member));
			s.source = o->source;
			wk_strlcpy(s.override_id, o->id, sizeof(s.override_id));
		}
		if (out->n && same_segment(&out->seg[out->n - 1], &s))
			out->seg[out->n - 1].end = z;
		else
			out->seg[out->n++] = s;
	}
	rc = 0;
out:
	for (size_t i = 0; i < p->nrotations; i++)
		free(pieces[i].p);
	free(pieces);
	free(cursor);
	free(order);
	free(bounds);
	if (rc < 0)
		schedule_free(out);
	return rc;
}

int schedule_hidden(const struct team_plan *p, size_t idx, int64_t from, int64_t to, size_t *by,
		    size_t maxby, size_t *nby)
{
	static char standin_id[] = "?";
	static char *standin[] = { standin_id };
	const struct rotation_plan *r;
	struct rotation_version *vs;
	struct rotation_plan *rots;
	struct schedule mine, all;
	int hidden = -1;

	*nby = 0;
	if (idx >= p->nrotations)
		return -1;
	r = &p->rotations[idx];
	/* Its hours are what it would cover with anyone in it: a rotation made
	 * empty is judged before people are added, when a warning still helps. */
	vs = xcalloc(r->nversions + 1, sizeof(*vs));
	for (size_t i = 0; i < r->nversions; i++) {
		vs[i] = r->versions[i];
		if (!vs[i].nmembers) {
			vs[i].members = standin;
			vs[i].nmembers = 1;
			vs[i].first_member = 0;
		}
	}
	rots = xcalloc(p->nrotations + 1, sizeof(*rots));
	memcpy(rots, p->rotations, p->nrotations * sizeof(*rots));
	rots[idx].versions = vs;
	struct team_plan solo = { .rotations = &rots[idx], .nrotations = 1 };
	struct team_plan team = { .rotations = rots, .nrotations = p->nrotations };
	if (schedule_build(&solo, from, to, &mine) < 0)
		goto out;
	if (schedule_build(&team, from, to, &all) < 0) {
		schedule_free(&mine);
		goto out;
	}
	hidden = 0;
	for (size_t i = 0, j = 0; i < mine.n; i++) {
		if (!mine.seg[i].member[0])
			continue;
		hidden = 1;
		while (j < all.n && all.seg[j].end <= mine.seg[i].start)
			j++;
		for (size_t k = j; k < all.n && all.seg[k].start < mine.seg[i].end; k++) {
			size_t w = 0;
			if (strcmp(all.seg[k].rotation, r->id) == 0) {
				hidden = 0;
				*nby = 0;
				goto done;
			}
			while (w < p->nrotations && strcmp(p->rotations[w].id, all.seg[k].rotation) != 0)
				w++;
			bool seen = w == p->nrotations;
			for (size_t x = 0; x < *nby && !seen; x++)
				seen = by[x] == w;
			if (!seen && *nby < maxby)
				by[(*nby)++] = w;
		}
	}
done:
	schedule_free(&mine);
	schedule_free(&all);
out:
	free(vs);
	free(rots);
	return hidden;
}

void schedule_free(struct schedule *s)
{
	free(s->seg);
	s->seg = NULL;
	s->n = 0;
}

long schedule_version_member(const struct rotation_version *v, int64_t t)
{
	struct shift sh, first;

	if (!v->nmembers || rotation_shift_at(&v->spec, v->nmembers, t, &sh) < 0 ||
	    rotation_shift_at(&v->spec, v->nmembers, v->effective_from, &first) < 0)
		return -1;
	return (long)member_of(v, sh.index, first.index);
}

int schedule_version_at(const struct rotation_plan *r, int64_t t, const struct rotation_version **v,
			struct shift *sh)
{
	for (size_t i = r->nversions; i-- > 0;) {
		if (r->versions[i].effective_from > t)
			continue;
		if (t >= version_end(r, i) || !r->versions[i].nmembers)
			return -1;
		*v = &r->versions[i];
		return rotation_shift_at(&(*v)->spec, (*v)->nmembers, t, sh);
	}
	return -1;
}

/* The segment at t from p->built, when it lies wholly inside (one cut at an
 * edge may go on beyond it: then the caller builds). Segments are sorted. */
static bool chain_from_built(const struct team_plan *p, int64_t t, struct oncall_chain *out)
{
	const struct schedule *s = p->built;
	size_t lo = 0, hi;

	if (!s || t < p->built_from || t >= p->built_to)
		return false;
	hi = s->n;
	while (lo < hi) {	/* the first segment ending after t */
		size_t mid = lo + (hi - lo) / 2;
		if (s->seg[mid].end <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == s->n || s->seg[lo].start > t || s->seg[lo].start <= p->built_from ||
	    s->seg[lo].end >= p->built_to)
		return false;
	wk_strlcpy(out->primary, s->seg[lo].member, sizeof(out->primary));
	wk_strlcpy(out->rotation, s->seg[lo].rotation, sizeof(out->rotation));
	out->since = s->seg[lo].start;
	out->until = s->seg[lo].end;
	return true;
}

/* schedule_chain()'s first window: the shorter, the less it builds (this runs
 * for every `/oncall`); any width is correct, as the chain widens when cut. */
static int64_t chain_window(const struct team_plan *p)
{
	static const int64_t unit_s[] = { 3600, 86400, 7 * 86400 };
	int64_t longest = 0;

	for (size_t i = 0; i < p->nrotations; i++)
		for (size_t k = 0; k < p->rotations[i].nversions; k++) {
			const struct rotation_spec *sp = &p->rotations[i].versions[k].spec;
			int64_t len = (unsigned)sp->unit < ARRAY_LEN(unit_s) ? unit_s[sp->unit] * sp->length : 0;
			if (len > longest)
				longest = len;
		}
	longest *= 2;
	return longest < 86400 ? 86400 : longest > 8 * 86400LL ? 8 * 86400LL : longest;
}

int schedule_chain(const struct team_plan *p, int64_t t, struct oncall_chain *out)
{
	struct schedule s;
	const struct rotation_plan *rot = NULL;

	memset(out, 0, sizeof(*out));
	/* The plan's own schedule when it has one around t; else build a window
	 * around t just wide enough to see the whole segment: start with two of the
	 * longest shift (a day at least, 8 days at most) and widen while the
	 * segment reaches an edge (a long override, a sparse window). */
	bool from_built = chain_from_built(p, t, out);

	for (int64_t w = chain_window(p); !from_built; w *= 4) {
		bool cut = false;
		if (w > 400 * 86400LL)
			w = 400 * 86400LL;
		if (schedule_build(p, t - w, t + w, &s) < 0)
			return 1;
		for (size_t i = 0; i < s.n; i++) {
			if (s.seg[i].start > t || s.seg[i].end <= t)
				continue;
			wk_strlcpy(out->primary, s.seg[i].member, sizeof(out->primary));
			wk_strlcpy(out->rotation, s.seg[i].rotation, sizeof(out->rotation));
			out->since = s.seg[i].start;
			out->until = s.seg[i].end;
			cut = out->since == t - w || out->until == t + w;
		}
		schedule_free(&s);
		if (!cut || w == 400 * 86400LL)
			break;
		memset(out, 0, sizeof(*out));
	}
	if (!out->primary[0])
		return 1;
	for (size_t i = 0; i < p->nrotations; i++)
		if (strcmp(p->rotations[i].id, out->rotation) == 0)
			rot = &p->rotations[i];
	if (rot) {
		const struct rotation_version *v;
		struct shift sh, first;
		if (schedule_version_at(rot, t, &v, &sh) == 0 &&
		    rotation_shift_at(&v->spec, v->nmembers, v->effective_from, &first) == 0) {
			/* Backups: the people before the primary in the rotation's order. */
			char *slot[2] = { out->secondary, out->tertiary };
			size_t filled = 0;
			for (int64_t back = 1; back <= (int64_t)v->nmembers && filled < 2; back++) {
				const char *m = v->members[member_of(v, sh.index - back, first.index)];
				if (strcmp(m, out->primary) == 0 || (filled == 1 && strcmp(m, out->secondary) == 0))
					continue;
				wk_strlcpy(slot[filled++], m, SCHEDULE_MEMBER_LEN);
			}
		}
	}
	return 0;
}

/* ---- rotations as JSON, the form they have in Redis ---- */

static const char *const unit_names[] = { "hours", "days", "weeks" };

const char *schedule_unit_name(enum rotation_unit u)
{
	return unit_names[u];
}

void rotation_version_free(struct rotation_version *v)
{
	for (size_t i = 0; i < v->nmembers; i++)
		free(v->members[i]);
	for (size_t i = 0; i < v->npaused; i++)
		free(v->paused[i]);
	free(v->members);
	free(v->paused);
	free(v->windows);
	v->members = v->paused = NULL;
	v->windows = NULL;
	v->nmembers = v->npaused = v->nwindows = 0;
}

void rotation_plan_free(struct rotation_plan *r)
{
	for (size_t i = 0; i < r->nversions; i++)
		rotation_version_free(&r->versions[i]);
	free(r->versions);
	r->versions = NULL;
	r->nversions = 0;
}

static int version_from_json(json_t *j, struct rotation_version *v)
{
	const char *tz = NULL, *start = NULL, *handoff = NULL, *unit = NULL;
	json_t *members = NULL, *windows = NULL, *paused = NULL;
	json_int_t from = 0, length = 0, first = 0, priority = 0;
	int y, mo, d, h, mi;
	json_error_t err;

	memset(v, 0, sizeof(*v));
	if (json_unpack_ex(j, &err, 0, "{s:I, s:s, s:s, s:s, s:s, s:I, s:o, s:I, s?o, s?o, s?I}", "from",
			   &from, "tz", &tz, "start", &start, "handoff", &handoff, "unit", &unit, "length",
			   &length, "members", &members, "first", &first, "windows", &windows,
			   "paused", &paused, "priority", &priority) < 0 ||
	    !json_is_array(members))
		return -1;
	/* Versions written before priorities were kept per version have none:
	 * they take the rotation's (the caller fills in 0). */
	v->priority = priority >= 1 && priority <= 1000 ? (int)priority : 0;
	if (sscanf(start, "%4d-%2d-%2d", &y, &mo, &d) != 3 || rotation_hhmm_parse(handoff, &h, &mi) < 0)
		return -1;
	v->effective_from = from;
	wk_strlcpy(v->tz, tz, sizeof(v->tz));
	v->spec.zone = tz_get(tz);
	v->spec.start_year = y;
	v->spec.start_month = mo;
	v->spec.start_day = d;
	v->spec.handoff_hour = h;
	v->spec.handoff_minute = mi;
	v->spec.length = (int)length;
	v->spec.unit = ROTATION_WEEKS + 1;
	for (int u = 0; u < 3; u++)
		if (strcmp(unit, unit_names[u]) == 0)
			v->spec.unit = (enum rotation_unit)u;
	if (!v->spec.zone || v->spec.unit > ROTATION_WEEKS ||
	    rotation_spec_validate(&v->spec, NULL, 0) < 0)
		return -1;
	v->members = xcalloc(json_array_size(members) + 1, sizeof(char *));
	for (size_t i = 0; i < json_array_size(members); i++) {
		json_t *m = json_array_get(members, i);
		if (json_is_string(m))
			v->members[v->nmembers++] = xstrdup(json_string_value(m));
	}
	v->first_member = v->nmembers ? (size_t)first % v->nmembers : 0;
	v->paused = xcalloc(json_array_size(paused) + 1, sizeof(char *));
	for (size_t i = 0; json_is_array(paused) && i < json_array_size(paused); i++)
		if (json_is_string(json_array_get(paused, i)))
			v->paused[v->npaused++] = xstrdup(json_string_value(json_array_get(paused, i)));
	if (json_is_array(windows)) {
		v->windows = xcalloc(json_array_size(windows) + 1, sizeof(*v->windows));
		for (size_t i = 0; i < json_array_size(windows); i++) {
			json_int_t days, ws, we;
			if (json_unpack(json_array_get(windows, i), "{s:I, s:I, s:I}", "days", &days,
					"start", &ws, "end", &we) < 0 || days < 1 || days > 127 || ws < 0 ||
			    ws > 1439 || we < 1 || we > 1440)
				continue;
			v->windows[v->nwindows++] = (struct rotation_window){ (uint8_t)days, (int)ws, (int)we };
		}
	}
	return 0;
}

int rotation_plan_from_json(const char *text, size_t len, struct rotation_plan *r)
{
	json_error_t err;
	json_t *root = json_loadb(text, len, 0, &err), *versions = NULL;
	const char *id = NULL, *name = NULL, *team = NULL;
	json_int_t priority = 0, rev = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!root || json_unpack(root, "{s:s, s:s, s:s, s:I, s:I, s:o}", "id", &id, "name", &name,
				 "team", &team, "priority", &priority, "rev", &rev, "versions",
				 &versions) < 0 || !json_is_array(versions))
		goto out;
	wk_strlcpy(r->id, id, sizeof(r->id));
	wk_strlcpy(r->name, name, sizeof(r->name));
	wk_strlcpy(r->team, team, sizeof(r->team));
	r->priority = (int)priority;
	r->rev = rev;
	r->versions = xcalloc(json_array_size(versions) + 1, sizeof(*r->versions));
	for (size_t i = 0; i < json_array_size(versions); i++) {
		if (version_from_json(json_array_get(versions, i), &r->versions[r->nversions]) < 0) {
			rotation_version_free(&r->versions[r->nversions]);
			log_warn("schedule.load", "rotation=%s version=%zu reason=malformed", r->id, i);
			continue;
		}
		if (!r->versions[r->nversions].priority)
			r->versions[r->nversions].priority = r->priority;
		r->nversions++;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		rotation_plan_free(r);
	return rc;
}

char *rotation_plan_to_json(const struct rotation_plan *r)
{
	json_t *versions = json_array();
	json_t *root;
	char *text;

	for (size_t i = 0; i < r->nversions; i++) {
		const struct rotation_version *v = &r->versions[i];
		char start[16], handoff[8];
		json_t *members = json_array(), *windows = json_array(), *paused = json_array();

		snprintf(start, sizeof(start), "%04d-%02d-%02d", v->spec.start_year, v->spec.start_month,
			 v->spec.start_day);
		snprintf(handoff, sizeof(handoff), "%02d:%02d", v->spec.handoff_hour, v->spec.handoff_minute);
		for (size_t m = 0; m < v->nmembers; m++)
			json_array_append_new(members, json_string(v->members[m]));
		for (size_t m = 0; m < v->npaused; m++)
			json_array_append_new(paused, json_string(v->paused[m]));
		for (size_t w = 0; w < v->nwindows; w++)
			json_array_append_new(windows, json_pack("{s:i, s:i, s:i}", "days", v->windows[w].days,
								 "start", v->windows[w].start_min,
								 "end", v->windows[w].end_min));
		json_array_append_new(versions, json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:o, s:I, s:o, s:o, s:i}",
			"from", (json_int_t)v->effective_from, "tz", v->tz, "start", start, "handoff", handoff,
			"unit", unit_names[v->spec.unit], "length", v->spec.length, "members", members,
			"first", (json_int_t)v->first_member, "windows", windows, "paused", paused,
			"priority", v->priority ? v->priority : r->priority));
	}
	root = json_pack("{s:s, s:s, s:s, s:i, s:I, s:o}", "id", r->id, "name", r->name, "team", r->team,
			 "priority", r->priority, "rev", (json_int_t)r->rev, "versions", versions);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}

/* ---- loading ---- */

static const struct store_script load_script = {
	"schedule_load",
	/* ARGV: key prefix, team, from (s). */
	"return wk_schedule_load(ARGV[1], ARGV[2], ARGV[3])\n",
	SCHEDULE_LOAD_LUA
};

static const struct store_field override_fields[] = {
	STORE_STR_FIELD("id", struct override_def, id),
	STORE_I64_FIELD("start", struct override_def, start),
	STORE_I64_FIELD("end", struct override_def, end),
	STORE_STR_FIELD("member", struct override_def, member),
	STORE_STR_FIELD("replaces", struct override_def, replaces),
	STORE_STR_FIELD("swap_id", struct override_def, swap_id),
	STORE_STR_FIELD("reason", struct override_def, reason),
	STORE_STR_FIELD("created_by", struct override_def, created_by),
	STORE_STR_FIELD("swap_requester", struct override_def, swap_requester),
	STORE_STR_FIELD("swap_reason", struct override_def, swap_reason),
	STORE_STR_FIELD("swap_kind", struct override_def, swap_kind),
};

static void override_from_pairs(struct override_def *o, const redisReply *h, int64_t *created)
{
	memset(o, 0, sizeof(*o));
	store_hash_fields(h, override_fields, ARRAY_LEN(override_fields), o);
	/* Instants outside what the zone code handles read as "no override". */
	if (o->start < TZ_TIME_MIN || o->start > TZ_TIME_MAX || o->end < TZ_TIME_MIN || o->end > TZ_TIME_MAX)
		o->start = o->end = 0;
	o->source = SEGMENT_OVERRIDE;
	*created = 0;
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		const redisReply *k = h->element[i], *v = h->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(k->str, "source") == 0)
			o->source = strcmp(v->str, "swap") == 0 ? SEGMENT_SWAP : SEGMENT_OVERRIDE;
		else if (strcmp(k->str, "created_ms") == 0)
			wk_parse_i64(v->str, 0, INT64_MAX, created);
	}
}

struct ov_sort {
	struct override_def o;
	int64_t created;
};

static int ov_created_order(const void *a, const void *b)
{
	const struct ov_sort *x = a, *y = b;
	size_t lx = strlen(x->o.id), ly = strlen(y->o.id);
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	/* The same second (swaps stamp whole seconds): ids come from one counter,
	 * "o9" before "o10". */
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->o.id, y->o.id);
}

int schedule_from_reply(const redisReply *r, const char *team_id, int64_t from, int64_t to, struct team_plan *out)
{
	struct ov_sort *tmp;

	memset(out, 0, sizeof(*out));
	wk_strlcpy(out->team, team_id, sizeof(out->team));
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_ARRAY ||
	    r->element[1]->type != REDIS_REPLY_ARRAY)
		return -1;
	const redisReply *rots = r->element[0], *ovs = r->element[1];
	out->rotations = xcalloc(rots->elements + 1, sizeof(*out->rotations));
	for (size_t i = 0; i < rots->elements; i++)
		if (rots->element[i]->type == REDIS_REPLY_STRING &&
		    rotation_plan_from_json(rots->element[i]->str, rots->element[i]->len,
					    &out->rotations[out->nrotations]) == 0)
			out->nrotations++;
	tmp = xcalloc(ovs->elements + 1, sizeof(*tmp));
	size_t n = 0;
	for (size_t i = 0; i < ovs->elements; i++) {
		if (ovs->element[i]->type != REDIS_REPLY_ARRAY)
			continue;
		override_from_pairs(&tmp[n].o, ovs->element[i], &tmp[n].created);
		if (tmp[n].o.start < to && tmp[n].o.end > from && tmp[n].o.start < tmp[n].o.end)
			n++;
	}
	qsort(tmp, n, sizeof(*tmp), ov_created_order);
	out->overrides = xcalloc(n + 1, sizeof(*out->overrides));
	for (size_t i = 0; i < n; i++)
		out->overrides[i] = tmp[i].o;
	out->noverrides = n;
	free(tmp);
	return 0;
}

int schedule_load(struct store *s, const char *org_id, const char *team_id, int64_t from,
		  int64_t to, struct team_plan *out)
{
	char prefix[160], fromtxt[24];
	redisReply *r;
	int rc;

	memset(out, 0, sizeof(*out));
	if (org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0)
		return -1;
	snprintf(fromtxt, sizeof(fromtxt), "%lld", (long long)from);
	const char *args[] = { prefix, team_id, fromtxt };
	r = store_script(s, &load_script, 0, NULL, 3, args);
	rc = schedule_from_reply(r, team_id, from, to, out);
	if (r)
		freeReplyObject(r);
	return rc;
}

void team_plan_free(struct team_plan *p)
{
	for (size_t i = 0; !p->rotations_borrowed && i < p->nrotations; i++)
		rotation_plan_free(&p->rotations[i]);
	if (!p->rotations_borrowed)
		free(p->rotations);
	free(p->overrides);
	p->rotations = NULL;
	p->overrides = NULL;
	p->nrotations = p->noverrides = 0;
	p->rotations_borrowed = false;
}
