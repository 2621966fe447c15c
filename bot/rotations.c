/* rotations.c - see rotations.h */
#include "bot/rotations.h"
#include "bot/audit.h"
#include "bot/org.h"
#include "bot/tz.h"
#include "bot/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EDIT_ATTEMPTS 5
#define KEEP_PAST_S (400LL * 86400)	/* versions older than this are pruned */

static void lower_copy(char *out, size_t size, const char *in)
{
	size_t i = 0;
	for (; in[i] && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

int rotations_find(struct store *s, const char *org_id, const char *team, const char *name,
		   struct rotation_plan *out)
{
	struct team_plan p;
	int found = -1;

	memset(out, 0, sizeof(*out));
	if (schedule_load(s, org_id, team, 0, 1, &p) < 0)
		return ROT_STORE;
	for (size_t i = 0; i < p.nrotations; i++) {
		bool match = name ? strcasecmp(p.rotations[i].name, name) == 0
				  : found < 0 || schedule_rotation_order(&p.rotations[i], &p.rotations[found]) < 0;
		if (match)
			found = (int)i;
	}
	if (found >= 0) {
		*out = p.rotations[found];	/* move it out of the plan */
		p.rotations[found] = p.rotations[--p.nrotations];
	}
	team_plan_free(&p);
	return found >= 0 ? ROT_OK : ROT_NOT_FOUND;
}

static const struct store_script create_script = {
	"rotation_create",
	/* KEYS: rotation_names:<team>, team_rotations:<team>, seq, audit, tip.
	 * ARGV: lower name, json with id "?", actor, platform, now, name, key prefix.
	 * Returns the new id, or 1 when the name is taken. */
	"if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end\n"
	"local id = 'r' .. redis.call('INCR', KEYS[3])\n"
	"local json = string.gsub(ARGV[2], '\"id\":\"%?\"', '\"id\":\"' .. id .. '\"', 1)\n"
	"redis.call('HSET', KEYS[1], ARGV[1], id)\n"
	"redis.call('SADD', KEYS[2], id)\n"
	"redis.call('SET', ARGV[7] .. 'rotation:' .. id, json)\n"
	"wk_audit(KEYS[4], KEYS[5], ARGV[5], ARGV[3], ARGV[4], 'rotation.create', 'rotation:' .. id, '', ARGV[6])\n"
	"return id\n",
	AUDIT_LUA
};

int rotations_create(struct store *s, const char *org_id, const char *actor, const char *platform,
		     const char *team, const char *name, const struct rotation_version *spec,
		     int priority, int64_t now, char *id, size_t idsize)
{
	char knames[192], krots[192], kseq[160], kaudit[160], ktip[160], prefix[160], lname[48], nowms[24];
	struct rotation_plan r = { 0 };
	struct rotation_version v = *spec;
	redisReply *rep;
	char *json;
	int rc = ROT_STORE;

	if (org_key(knames, sizeof(knames), org_id, "rotation_names:%s", team) < 0 ||
	    org_key(krots, sizeof(krots), org_id, "team_rotations:%s", team) < 0 ||
	    org_key(kseq, sizeof(kseq), org_id, "seq") < 0 ||
	    org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0 ||
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return ROT_STORE;
	if (rotation_spec_validate(&v.spec, NULL, 0) < 0)
		return ROT_INVALID;
	wk_strlcpy(r.id, "?", sizeof(r.id));
	wk_strlcpy(r.name, name, sizeof(r.name));
	wk_strlcpy(r.team, team, sizeof(r.team));
	r.priority = priority;
	r.rev = 1;
	/* A start date in the future: nobody from this rotation until then. */
	v.effective_from = spec->effective_from > now ? spec->effective_from : now;
	r.versions = &v;
	r.nversions = 1;
	json = rotation_plan_to_json(&r);
	lower_copy(lname, sizeof(lname), name);
	snprintf(nowms, sizeof(nowms), "%lld", (long long)now * 1000);
	const char *keys[] = { knames, krots, kseq, kaudit, ktip };
	const char *args[] = { lname, json, actor, platform, nowms, name, prefix };
	rep = store_script(s, &create_script, 5, keys, 7, args);
	free(json);
	if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1) {
		rc = ROT_EXISTS;
	} else if (rep && rep->type == REDIS_REPLY_STRING) {
		wk_strlcpy(id, rep->str, idsize);
		rc = ROT_OK;
	}
	if (rep)
		freeReplyObject(rep);
	return rc;
}

int64_t rotations_effective(const struct rotation_plan *r, int64_t now)
{
	const struct rotation_version *v;
	struct shift sh;

	if (r->nversions && r->versions[r->nversions - 1].effective_from > now)
		return r->versions[r->nversions - 1].effective_from;
	if (schedule_version_at(r, now, &v, &sh) < 0)
		return now;
	return sh.end;
}

static void version_copy(struct rotation_version *dst, const struct rotation_version *src)
{
	*dst = *src;
	dst->members = xcalloc(src->nmembers + 1, sizeof(char *));
	for (size_t i = 0; i < src->nmembers; i++)
		dst->members[i] = xstrdup(src->members[i]);
	dst->paused = xcalloc(src->npaused + 1, sizeof(char *));
	for (size_t i = 0; i < src->npaused; i++)
		dst->paused[i] = xstrdup(src->paused[i]);
	dst->windows = xcalloc(src->nwindows + 1, sizeof(*dst->windows));
	if (src->nwindows)
		memcpy(dst->windows, src->windows, src->nwindows * sizeof(*src->windows));
}

static long member_index(const struct rotation_version *v, const char *id)
{
	for (size_t i = 0; i < v->nmembers; i++)
		if (strcmp(v->members[i], id) == 0)
			return (long)i;
	return -1;
}

static bool spec_changed(const struct rotation_spec *a, const struct rotation_spec *b)
{
	return a->zone != b->zone || a->handoff_hour != b->handoff_hour ||
	       a->handoff_minute != b->handoff_minute || a->unit != b->unit || a->length != b->length ||
	       a->start_year != b->start_year || a->start_month != b->start_month ||
	       a->start_day != b->start_day;
}

/* A new grid starts near its first instant, keeping the weekday of a weekly
 * handoff: the anchor date only says where shift 0 is, any date on the grid
 * would do, and a near one keeps indexes small. */
static void reanchor(struct rotation_version *v, int64_t eff)
{
	struct tz_local l;
	int64_t day, start_day = tz_days_from_civil(v->spec.start_year, v->spec.start_month, v->spec.start_day);
	int64_t y;
	int m, d;

	tz_to_local(v->spec.zone, eff, &l);
	day = tz_days_from_civil(l.year, l.month, l.day);
	if (v->spec.unit == ROTATION_WEEKS)
		day -= ((day - start_day) % 7 + 7) % 7;
	tz_civil_from_days(day, &y, &m, &d);
	v->spec.start_year = (int)y;
	v->spec.start_month = m;
	v->spec.start_day = d;
}

/* Drop versions that ended long ago: reports look back a year at most. */
static void prune_past(struct rotation_plan *r, int64_t now)
{
	size_t drop = 0;

	while (drop + 1 < r->nversions && r->versions[drop + 1].effective_from < now - KEEP_PAST_S)
		drop++;
	for (size_t i = 0; i < drop; i++)
		rotation_version_free(&r->versions[i]);
	memmove(r->versions, r->versions + drop, (r->nversions - drop) * sizeof(*r->versions));
	r->nversions -= drop;
}

/* Build the next version of r from fn's edit, as it takes effect at the next handoff. */
static int next_version(struct rotation_plan *r, int64_t now, rotation_edit_fn fn, void *arg)
{
	const struct rotation_version *cur = NULL;
	struct rotation_version nv;
	struct shift sh;
	const char *primary = NULL;
	int64_t eff = rotations_effective(r, now);
	bool pending = r->nversions && r->versions[r->nversions - 1].effective_from > now;
	int rc;

	if (!r->nversions)
		return ROT_INVALID;
	if (schedule_version_at(r, now, &cur, &sh) == 0 && schedule_version_member(cur, now) >= 0)
		primary = cur->members[schedule_version_member(cur, now)];
	version_copy(&nv, &r->versions[r->nversions - 1]);
	rc = fn(&nv, arg);
	if (rc != 0) {
		rotation_version_free(&nv);
		return rc;
	}
	if (rotation_spec_validate(&nv.spec, NULL, 0) < 0) {
		rotation_version_free(&nv);
		return ROT_INVALID;
	}
	nv.effective_from = eff;
	if (spec_changed(&nv.spec, &r->versions[r->nversions - 1].spec))
		reanchor(&nv, eff);
	nv.first_member = 0;
	if (primary && nv.nmembers) {
		/* The first new shift goes to whoever follows the current primary. */
		long at = member_index(&nv, primary);
		if (at >= 0) {
			nv.first_member = (size_t)(at + 1) % nv.nmembers;
		} else {
			for (size_t step = 1; step <= cur->nmembers; step++) {
				long old = member_index(cur, primary);
				long next = member_index(&nv, cur->members[(size_t)(old + (long)step) % cur->nmembers]);
				if (next >= 0) {
					nv.first_member = (size_t)next;
					break;
				}
			}
		}
	}
	/* A pending version is replaced; so is one that never had anyone in it: it
	 * produced no shifts, so dropping it changes nothing that happened. */
	if (pending || !r->versions[r->nversions - 1].nmembers)
		rotation_version_free(&r->versions[--r->nversions]);
	r->versions = xrealloc(r->versions, (r->nversions + 1) * sizeof(*r->versions));
	r->versions[r->nversions++] = nv;
	return ROT_OK;
}

static const struct store_script edit_script = {
	"rotation_edit",
	/* KEYS: rotation:<id>, audit, tip. ARGV: expected rev, json, actor, platform, now ms,
	 * action, resource, detail. Returns 0 written, 1 revision moved, 2 gone. */
	"local cur = redis.call('GET', KEYS[1])\n"
	"if not cur then return 2 end\n"
	"local rev = string.match(cur, '\"rev\":(%d+)')\n"
	"if rev ~= ARGV[1] then return 1 end\n"
	"redis.call('SET', KEYS[1], ARGV[2])\n"
	"wk_audit(KEYS[2], KEYS[3], ARGV[5], ARGV[3], ARGV[4], ARGV[6], ARGV[7], '', ARGV[8])\n"
	"return 0\n",
	AUDIT_LUA
};

/* Priority from now on: versions that start later take it; the one in force
 * since before now is split at now, so the shifts before keep the priority
 * they had (reports about the past don't change) and the shift in progress
 * goes on with the same person, only ranked differently. */
static int priority_now(struct rotation_plan *r, int64_t now, int priority)
{
	size_t from = r->nversions;
	bool same = r->priority == priority;

	for (size_t i = 0; i < r->nversions; i++)
		if (r->versions[i].effective_from <= now)
			from = i;
	if (from == r->nversions)
		from = 0;	/* nothing in force yet: every version is the future */
	for (size_t i = from; i < r->nversions; i++)
		same = same && r->versions[i].priority == priority;
	if (same)
		return ROT_ALREADY;
	struct rotation_version *cur = &r->versions[from];
	long on = schedule_version_member(cur, now);
	if (cur->effective_from < now && cur->priority != priority && on >= 0) {
		struct rotation_version split;
		version_copy(&split, cur);
		split.effective_from = now;
		split.first_member = (size_t)on;	/* the shift in progress keeps its person */
		r->versions = xrealloc(r->versions, (r->nversions + 1) * sizeof(*r->versions));
		memmove(r->versions + from + 2, r->versions + from + 1,
			(r->nversions - from - 1) * sizeof(*r->versions));
		r->versions[from + 1] = split;
		r->nversions++;
		from++;
	}
	for (size_t i = from; i < r->nversions; i++)
		r->versions[i].priority = priority;
	r->priority = priority;
	return ROT_OK;
}

struct edit_change {
	int priority;		/* 0 = keep */
	rotation_edit_fn fn;	/* NULL = no change from the next handoff */
	void *arg;
};

static int change_plan(struct rotation_plan *r, int64_t now, const struct edit_change *c)
{
	int rc = ROT_ALREADY, prc;

	if (!r->nversions)
		return ROT_INVALID;
	if (c->priority && (prc = priority_now(r, now, c->priority)) != ROT_ALREADY)
		rc = prc;
	if (rc != ROT_OK && rc != ROT_ALREADY)
		return rc;
	if (c->fn) {
		int erc = next_version(r, now, c->fn, c->arg);
		if (erc != ROT_ALREADY)
			rc = erc;
	}
	if (rc == ROT_OK)
		prune_past(r, now);
	return rc;
}

int rotations_edit(struct store *s, const char *org_id, const char *actor, const char *platform,
		   const char *team, const char *name, int64_t now, rotation_edit_fn fn, void *arg,
		   const char *action, const char *detail)
{
	return rotations_edit_priority(s, org_id, actor, platform, team, name, now, 0, fn, arg, action,
				       detail);
}

int rotations_edit_priority(struct store *s, const char *org_id, const char *actor, const char *platform,
			    const char *team, const char *name, int64_t now, int priority,
			    rotation_edit_fn fn, void *arg, const char *action, const char *detail)
{
	const struct edit_change change = { priority, fn, arg };

	for (int attempt = 0; attempt < EDIT_ATTEMPTS; attempt++) {
		struct rotation_plan r;
		char key[192], kaudit[160], ktip[160], rev[24], nowms[24], resource[48];
		redisReply *rep;
		char *json;
		int rc = rotations_find(s, org_id, team, name, &r);

		if (rc != ROT_OK)
			return rc;
		snprintf(rev, sizeof(rev), "%lld", (long long)r.rev);
		rc = change_plan(&r, now, &change);
		if (rc != ROT_OK) {
			rotation_plan_free(&r);
			return rc;
		}
		r.rev++;
		json = rotation_plan_to_json(&r);
		snprintf(nowms, sizeof(nowms), "%lld", (long long)now * 1000);
		snprintf(resource, sizeof(resource), "rotation:%s", r.id);
		if (org_key(key, sizeof(key), org_id, "rotation:%s", r.id) < 0 ||
		    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0) {
			free(json);
			rotation_plan_free(&r);
			return ROT_STORE;
		}
		const char *keys[] = { key, kaudit, ktip };
		const char *args[] = { rev, json, actor, platform, nowms, action, resource, detail };
		rep = store_script(s, &edit_script, 3, keys, 8, args);
		free(json);
		rotation_plan_free(&r);
		if (!rep || rep->type != REDIS_REPLY_INTEGER) {
			if (rep)
				freeReplyObject(rep);
			return ROT_STORE;
		}
		rc = (int)rep->integer;
		freeReplyObject(rep);
		if (rc == 0)
			return ROT_OK;
		if (rc == 2)
			return ROT_NOT_FOUND;
		/* rc == 1: someone else edited it meanwhile; read it again */
	}
	return ROT_CONFLICT;
}

int rotations_next_version(struct rotation_plan *r, int64_t now, rotation_edit_fn fn, void *arg)
{
	int rc = next_version(r, now, fn, arg);

	if (rc == ROT_OK)
		r->rev++;
	return rc;
}

static const struct store_script delete_script = {
	"rotation_delete",
	/* KEYS: rotation_names:<team>, team_rotations:<team>, rotation:<id>, audit, tip.
	 * ARGV: lower name, id, actor, platform, now ms, name. */
	"redis.call('HDEL', KEYS[1], ARGV[1])\n"
	"redis.call('SREM', KEYS[2], ARGV[2])\n"
	"redis.call('DEL', KEYS[3])\n"
	"wk_audit(KEYS[4], KEYS[5], ARGV[5], ARGV[3], ARGV[4], 'rotation.delete', 'rotation:' .. ARGV[2], ARGV[6], '')\n"
	"return 0\n",
	AUDIT_LUA
};

int rotations_delete(struct store *s, const char *org_id, const char *actor, const char *platform,
		     const char *team, const char *name, int64_t now)
{
	char knames[192], krots[192], krot[192], kaudit[160], ktip[160], lname[48], nowms[24];
	struct rotation_plan r;
	redisReply *rep;
	int rc = rotations_find(s, org_id, team, name, &r);

	if (rc != ROT_OK)
		return rc;
	lower_copy(lname, sizeof(lname), r.name);
	snprintf(nowms, sizeof(nowms), "%lld", (long long)now * 1000);
	rc = ROT_STORE;
	if (org_key(knames, sizeof(knames), org_id, "rotation_names:%s", team) == 0 &&
	    org_key(krots, sizeof(krots), org_id, "team_rotations:%s", team) == 0 &&
	    org_key(krot, sizeof(krot), org_id, "rotation:%s", r.id) == 0 &&
	    audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) == 0) {
		const char *keys[] = { knames, krots, krot, kaudit, ktip };
		const char *args[] = { lname, r.id, actor, platform, nowms, r.name };
		rep = store_script(s, &delete_script, 5, keys, 6, args);
		if (rep && rep->type == REDIS_REPLY_INTEGER)
			rc = ROT_OK;
		if (rep)
			freeReplyObject(rep);
	}
	rotation_plan_free(&r);
	return rc;
}

int rotations_parse_length(const char *s, enum rotation_unit *unit, int *length, char *why, size_t n)
{
	size_t len = strlen(s);
	int64_t v;
	char num[12];

	if (len >= 2 && len < sizeof(num)) {
		memcpy(num, s, len - 1);
		num[len - 1] = '\0';
		if (wk_parse_i64(num, 1, 8784, &v)) {
			switch (s[len - 1]) {
			case 'h': *unit = ROTATION_HOURS; *length = (int)v; break;
			case 'd': *unit = ROTATION_DAYS; *length = (int)v; break;
			case 'w': *unit = ROTATION_WEEKS; *length = (int)v; break;
			default: goto bad;
			}
			struct rotation_spec probe = { .zone = tz_get("UTC"), .start_year = 2026, .start_month = 1,
						       .start_day = 5, .unit = *unit, .length = *length };
			if (rotation_spec_validate(&probe, why, n) == 0)
				return 0;
			return -1;
		}
	}
bad:
	snprintf(why, n, "a shift length is a number and a unit: `12h`, `1d`, `2d` or `1w`");
	return -1;
}

static int day_index(const char *s, size_t n)
{
	static const char *const names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	for (int i = 0; i < 7; i++)
		if (n == 3 && strncasecmp(s, names[i], 3) == 0)
			return i;
	return -1;
}

int rotations_parse_window(const char *days, const char *hours, struct rotation_window *w,
			   char *why, size_t n)
{
	int h1, m1, h2, m2;
	char a[6], b[6];

	w->days = 0;
	if (strcasecmp(days, "daily") == 0) {
		w->days = 0x7f;
	} else if (strcasecmp(days, "weekdays") == 0) {
		w->days = 0x3e;
	} else if (strcasecmp(days, "weekends") == 0) {
		w->days = 0x41;
	} else {
		const char *p = days;
		while (*p) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			int d1, d2;
			if (len == 7 && p[3] == '-') {
				d1 = day_index(p, 3);
				d2 = day_index(p + 4, 3);
			} else {
				d1 = d2 = day_index(p, len);
			}
			if (d1 < 0 || d2 < 0)
				goto bad;
			for (int d = d1;; d = (d + 1) % 7) {
				w->days |= (uint8_t)(1u << d);
				if (d == d2)
					break;
			}
			p += len + (comma ? 1 : 0);
		}
	}
	if (strlen(hours) != 11 || hours[5] != '-')
		goto bad;
	memcpy(a, hours, 5);
	a[5] = '\0';
	memcpy(b, hours + 6, 5);
	b[5] = '\0';
	if (rotation_hhmm_parse(a, &h1, &m1) < 0)
		goto bad;
	if (strcmp(b, "24:00") == 0) {
		h2 = 24;
		m2 = 0;
	} else if (rotation_hhmm_parse(b, &h2, &m2) < 0) {
		goto bad;
	}
	w->start_min = h1 * 60 + m1;
	w->end_min = h2 * 60 + m2;
	if (w->end_min == 0)
		w->end_min = 1440;	/* "08:00-00:00" ends at midnight: the same as 24:00 */
	if (w->start_min == w->end_min)
		goto bad;
	return 0;
bad:
	snprintf(why, n, "hours are days and a time range, e.g. `mon-fri 08:00-18:00`, "
			 "`weekends 00:00-24:00` or `daily 18:00-08:00`");
	return -1;
}
