/* incident_report.c - see incident_report.h */
#include "bot/incident_report.h"
#include "bot/org.h"
#include "bot/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct store_script ids_script = {
	"incident_report_ids",
	/* ARGV: key prefix, from ms, to ms, max. {count in [from, to), newest ids...} */
	"local k = ARGV[1] .. 'incs'\n"
	"local ids = redis.call('ZREVRANGEBYSCORE', k, '(' .. ARGV[3], ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))\n"
	"table.insert(ids, 1, redis.call('ZCOUNT', k, ARGV[2], '(' .. ARGV[3]))\n"
	"return ids\n",
	NULL
};

static const struct store_script rows_script = {
	"incident_report_rows",
	/* ARGV: key prefix, service ("" = all), pages to read per incident, ids...
	 * Per incident that exists (and is of the service): {n, created_ms, acked_ms,
	 * acked_by, resolved_ms, severity, service, type, pages, pages unread,
	 * then channel, status, provider_status per message}. */
	"local p, svc, maxp = ARGV[1], ARGV[2], tonumber(ARGV[3])\n"
	"local out = {}\n"
	"for i = 4, #ARGV do\n"
	"  local k = p .. 'inc:' .. ARGV[i]\n"
	"  local f = redis.call('HMGET', k, 'created_ms', 'acked_ms', 'acked_by', 'resolved_ms', 'severity',\n"
	"                       'service', 'type')\n"
	"  if f[1] and (svc == '' or f[6] == svc) then\n"
	"    local total = redis.call('SCARD', k .. ':pages')\n"
	"    local pages = redis.call('SRANDMEMBER', k .. ':pages', maxp)\n"
	"    local unread = total - #pages\n"
	"    local row = {ARGV[i], f[1], f[2] or '', f[3] or '', f[4] or '', f[5] or '', f[6] or '', f[7] or '',\n"
	"                 tostring(total), ''}\n"
	"    for _, pid in ipairs(pages) do\n"
	"      local steps = redis.call('HGET', p .. 'page:' .. pid, 'steps')\n"
	"      if not steps then unread = unread + 1 else\n"
	"        -- one message per channel and page: the outbox deduplicates by this key\n"
	"        for ch in string.gmatch(steps, '([^,:]+):%d+') do\n"
	"          local nid = redis.call('GET', p .. 'notify_dedupe:page:' .. pid .. ':' .. ch)\n"
	"          if nid then\n"
	"            local st = redis.call('HMGET', p .. 'notification:' .. nid, 'status', 'provider_status')\n"
	"            if st[1] then\n"
	"              row[#row + 1] = ch; row[#row + 1] = st[1]; row[#row + 1] = st[2] or ''\n"
	"            end\n"
	"          end\n"
	"        end\n"
	"      end\n"
	"    end\n"
	"    row[10] = tostring(unread)\n"
	"    out[#out + 1] = row\n"
	"  end\n"
	"end\n"
	"return out\n",
	NULL
};

void incident_report_data_free(struct incident_report_data *d)
{
	free(d->rows);
	free(d->msgs);
	memset(d, 0, sizeof(*d));
}

static const char *str_at(const redisReply *a, size_t i)
{
	return i < a->elements && a->element[i]->type == REDIS_REPLY_STRING ? a->element[i]->str : "";
}

static int64_t i64_at(const redisReply *a, size_t i)
{
	int64_t v = 0;

	wk_parse_i64(str_at(a, i), 0, INT64_MAX, &v);
	return v;
}

/* One script's rows into d (room already made for them). */
static void take_rows(const redisReply *r, struct incident_report_data *d, size_t *msg_cap)
{
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *a = r->element[i];
		struct incident_stats_row *row;

		if (a->type != REDIS_REPLY_ARRAY || a->elements < 10)
			continue;
		row = &d->rows[d->nrows];
		memset(row, 0, sizeof(*row));
		row->n = i64_at(a, 0);
		row->created_ms = i64_at(a, 1);
		row->acked_ms = i64_at(a, 2);
		wk_strlcpy(row->acked_by, str_at(a, 3), sizeof(row->acked_by));
		row->resolved_ms = i64_at(a, 4);
		wk_strlcpy(row->severity, str_at(a, 5), sizeof(row->severity));
		wk_strlcpy(row->service, str_at(a, 6), sizeof(row->service));
		wk_strlcpy(row->type, str_at(a, 7), sizeof(row->type));
		row->pages = i64_at(a, 8);
		row->pages_unknown = i64_at(a, 9);
		for (size_t k = 10; k + 2 < a->elements; k += 3) {
			struct incident_stats_message *m;

			if (d->nmsgs == *msg_cap) {
				*msg_cap = *msg_cap ? 2 * *msg_cap : 64;
				d->msgs = xrealloc(d->msgs, *msg_cap * sizeof(*d->msgs));
			}
			m = &d->msgs[d->nmsgs++];
			m->row = d->nrows;
			wk_strlcpy(m->channel, str_at(a, k), sizeof(m->channel));
			m->outcome = incident_stats_delivery(str_at(a, k + 1), str_at(a, k + 2));
		}
		d->nrows++;
	}
}

/* Rows were read newest first; the report and the CSV list them oldest first. */
static void oldest_first(struct incident_report_data *d)
{
	for (size_t i = 0, j = d->nrows ? d->nrows - 1 : 0; i < j; i++, j--) {
		struct incident_stats_row t = d->rows[i];
		d->rows[i] = d->rows[j];
		d->rows[j] = t;
	}
	for (size_t i = 0; i < d->nmsgs; i++)
		d->msgs[i].row = d->nrows - 1 - d->msgs[i].row;
}

int incident_report_load(struct store *s, const char *org_id, const char *service, int64_t from_ms, int64_t to_ms,
			 struct incident_report_data *out)
{
	char prefix[160], from[24], to[24], max[16], maxp[16];
	redisReply *ids;
	size_t msg_cap = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (org_key(prefix, sizeof(prefix), org_id, "%s", "") < 0)
		return -1;
	snprintf(from, sizeof(from), "%lld", (long long)from_ms);
	snprintf(to, sizeof(to), "%lld", (long long)to_ms);
	snprintf(max, sizeof(max), "%d", INCIDENT_REPORT_MAX);
	snprintf(maxp, sizeof(maxp), "%d", INCIDENT_REPORT_PAGES);
	const char *args1[] = { prefix, from, to, max };
	ids = store_script(s, &ids_script, 0, NULL, 4, args1);
	if (!ids || ids->type != REDIS_REPLY_ARRAY || !ids->elements || ids->element[0]->type != REDIS_REPLY_INTEGER) {
		if (ids)
			freeReplyObject(ids);
		return -1;
	}
	out->in_period = ids->element[0]->integer;
	out->capped = out->in_period > INCIDENT_REPORT_MAX;
	out->rows = xcalloc(ids->elements, sizeof(*out->rows));
	for (size_t at = 1; at < ids->elements && rc == 0; at += INCIDENT_REPORT_CHUNK) {
		const char *args[3 + INCIDENT_REPORT_CHUNK];
		int nargs = 0;
		redisReply *r;

		args[nargs++] = prefix;
		args[nargs++] = service;
		args[nargs++] = maxp;
		for (size_t i = at; i < ids->elements && i < at + INCIDENT_REPORT_CHUNK; i++)
			args[nargs++] = str_at(ids, i);
		r = store_script(s, &rows_script, 0, NULL, nargs, args);
		if (r && r->type == REDIS_REPLY_ARRAY)
			take_rows(r, out, &msg_cap);
		else
			rc = -1;
		if (r)
			freeReplyObject(r);
	}
	freeReplyObject(ids);
	if (rc < 0) {
		incident_report_data_free(out);
		return -1;
	}
	oldest_first(out);
	return 0;
}
