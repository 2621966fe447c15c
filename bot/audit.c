/* audit.c - see audit.h
 *
 * The hash of an entry, byte for byte (the same in AUDIT_LUA and in
 * entry_hash() below; any change must be made in both, and breaks every
 * existing chain):
 *
 *   hash = lowercase hex of SHA-256 over the concatenation of
 *     prev "\n"                       64 hex chars (64 '0's for the first entry)
 *     len(ts) ":" ts "\n"             ts as stored: decimal digits, milliseconds
 *     len(actor) ":" actor "\n"
 *     len(platform) ":" platform "\n"
 *     len(action) ":" action "\n"
 *     len(resource) ":" resource "\n"
 *     len(before) ":" before "\n"
 *     len(after) ":" after "\n"
 *
 *   len(x) is the byte length of x in decimal ASCII without leading zeros
 *   ("0" for an empty field); x is the raw bytes, unescaped. The length prefix
 *   makes the encoding unambiguous even when a field contains ':' or '\n'.
 *
 *   e.g. the first entry {ts 1700000000000, actor "operator", platform
 *   "operator", action "org.suspend", resource "org:slack:T1", before
 *   "active", after "suspended"} hashes
 *   "000...000\n13:1700000000000\n8:operator\n8:operator\n11:org.suspend\n"
 *   "12:org:slack:T1\n6:active\n9:suspended\n".
 */
#include "bot/audit.h"
#include "bot/buf.h"
#include "bot/crypto.h"
#include "bot/log.h"
#include "bot/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Pure Lua 5.1 SHA-256 on LuaBitOp. LuaBitOp works on signed 32-bit values:
 * every bit.* result lies in [-2^31, 2^31), and sums of up to five of them
 * (|sum| < 2^35) are exact in a double, so additions are done in plain Lua
 * and reduced modulo 2^32 with bit.tobit before the next bit operation or
 * store. bit.tohex(x, 8) prints the two's-complement word, so signedness never
 * shows in the output. The message length is split into two 32-bit words
 * (lengths up to 2^53 bits are exact in a double).
 *
 * wk_audit validates its arguments before it writes anything, so a bad call
 * raises a Lua error with nothing of the audit half-written (a caller's own
 * writes before the call are not undone: Redis scripts do not roll back, so
 * call it once your script has decided to change state). */
#define AUDIT_LUA_SRC \
	"local wk_sha256\n" \
	"do\n" \
	"  local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot\n" \
	"  local rshift, lshift, ror, tobit, tohex = bit.rshift, bit.lshift, bit.ror, bit.tobit, bit.tohex\n" \
	"  local sbyte, schar, srep, floor = string.byte, string.char, string.rep, math.floor\n" \
	"  local K = {\n" \
	"    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,\n" \
	"    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,\n" \
	"    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,\n" \
	"    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,\n" \
	"    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,\n" \
	"    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,\n" \
	"    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,\n" \
	"    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2 }\n" \
	"  for i = 1, 64 do K[i] = tobit(K[i]) end\n" \
	"  wk_sha256 = function(msg)\n" \
	"    local n = #msg\n" \
	"    local bits_hi = floor(n / 0x20000000)\n" \
	"    local bits_lo = (n % 0x20000000) * 8\n" \
	"    msg = msg .. '\\128' .. srep('\\0', (55 - n) % 64) ..\n" \
	"      schar(band(rshift(bits_hi, 24), 255), band(rshift(bits_hi, 16), 255),\n" \
	"            band(rshift(bits_hi, 8), 255), band(bits_hi, 255),\n" \
	"            band(rshift(bits_lo, 24), 255), band(rshift(bits_lo, 16), 255),\n" \
	"            band(rshift(bits_lo, 8), 255), band(bits_lo, 255))\n" \
	"    local H = { tobit(0x6a09e667), tobit(0xbb67ae85), tobit(0x3c6ef372), tobit(0xa54ff53a),\n" \
	"                tobit(0x510e527f), tobit(0x9b05688c), tobit(0x1f83d9ab), tobit(0x5be0cd19) }\n" \
	"    local w = {}\n" \
	"    for blk = 1, #msg, 64 do\n" \
	"      for j = 1, 16 do\n" \
	"        local p = blk + (j - 1) * 4\n" \
	"        local b1, b2, b3, b4 = sbyte(msg, p, p + 3)\n" \
	"        w[j] = bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4)\n" \
	"      end\n" \
	"      for j = 17, 64 do\n" \
	"        local x, y = w[j - 15], w[j - 2]\n" \
	"        local s0 = bxor(ror(x, 7), ror(x, 18), rshift(x, 3))\n" \
	"        local s1 = bxor(ror(y, 17), ror(y, 19), rshift(y, 10))\n" \
	"        w[j] = tobit(w[j - 16] + s0 + w[j - 7] + s1)\n" \
	"      end\n" \
	"      local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]\n" \
	"      for j = 1, 64 do\n" \
	"        local S1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))\n" \
	"        local ch = bxor(band(e, f), band(bnot(e), g))\n" \
	"        local t1 = h + S1 + ch + K[j] + w[j]\n" \
	"        local S0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))\n" \
	"        local maj = bxor(band(a, b), band(a, c), band(b, c))\n" \
	"        h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + S0 + maj)\n" \
	"      end\n" \
	"      H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)\n" \
	"      H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)\n" \
	"    end\n" \
	"    local out = {}\n" \
	"    for i = 1, 8 do out[i] = tohex(H[i], 8) end\n" \
	"    return table.concat(out)\n" \
	"  end\n" \
	"end\n" \
	"local function wk_audit(kstream, ktip, ts, actor, platform, action, resource, before, after)\n" \
	"  if type(ts) == 'number' then ts = string.format('%.0f', ts) end\n" \
	"  if type(ts) ~= 'string' or not string.find(ts, '^%d+$') then\n" \
	"    error('wk_audit: ts must be milliseconds in decimal digits')\n" \
	"  end\n" \
	"  local f = { ts, actor, platform, action, resource, before or '', after or '' }\n" \
	"  for i = 2, 7 do\n" \
	"    if type(f[i]) == 'number' then f[i] = tostring(f[i]) end\n" \
	"    if type(f[i]) ~= 'string' then error('wk_audit: argument ' .. (i + 2) .. ' must be a string') end\n" \
	"  end\n" \
	"  local prev = redis.call('HGET', ktip, 'hash')\n" \
	"  if not prev then prev = string.rep('0', 64) end\n" \
	"  local parts = { prev, '\\n' }\n" \
	"  for i = 1, 7 do\n" \
	"    parts[#parts + 1] = string.format('%d:', #f[i])\n" \
	"    parts[#parts + 1] = f[i]\n" \
	"    parts[#parts + 1] = '\\n'\n" \
	"  end\n" \
	"  local hash = wk_sha256(table.concat(parts))\n" \
	"  redis.call('XADD', kstream, '*', 'ts', f[1], 'actor', f[2], 'platform', f[3], 'action', f[4],\n" \
	"             'resource', f[5], 'before', f[6], 'after', f[7], 'prev', prev, 'hash', hash)\n" \
	"  redis.call('HSET', ktip, 'hash', hash)\n" \
	"  redis.call('HINCRBY', ktip, 'count', 1)\n" \
	/* The org's copy of the tip: the stamp of every cached schedule, read with \
	 * the org on each command (org_touch, schedule_cache.h). */ \
	"  local korg = string.gsub(ktip, 'audit:tip$', 'org')\n" \
	"  if korg ~= ktip and redis.call('EXISTS', korg) == 1 then redis.call('HSET', korg, 'audit_tip', hash) end\n" \
	"  return hash\n" \
	"end\n"

const char AUDIT_LUA[] = AUDIT_LUA_SRC;

static const struct store_script audit_append_script = {
	.name = "audit_append",
	/* KEYS: stream, tip. ARGV: ts, actor, platform, action, resource, before, after */
	.source = "return wk_audit(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5],"
		  " ARGV[6], ARGV[7])\n",
	.prelude = AUDIT_LUA,
};

#define PAGE 500	/* entries per XRANGE: the log is never loaded whole */
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* Stream fields in their stored order; the first NHASHED go into the hash. */
enum { F_TS, F_ACTOR, F_PLATFORM, F_ACTION, F_RESOURCE, F_BEFORE, F_AFTER, F_PREV, F_HASH, NFIELDS };
#define NHASHED 7
static const char *const field_names[NFIELDS] = {
	"ts", "actor", "platform", "action", "resource", "before", "after", "prev", "hash"
};

int audit_keys(const char *org_id, char *kstream, size_t ssize, char *ktip, size_t tsize)
{
	return store_key(kstream, ssize, org_id, "audit") < 0 ||
	       store_key(ktip, tsize, org_id, "audit:tip") < 0 ? -1 : 0;
}

redisReply *audit_script_run(struct store *s, const struct store_script *script, const char *org_id,
			     const char *actor, const char *platform, int64_t now_ms, const char *extra_key,
			     const char *const *more, size_t nmore)
{
	char prefix[160], now[24], kstream[200], ktip[200];
	const char *keys[3] = { kstream, ktip, extra_key };
	const char *args[16];
	size_t argc = 0;

	if (nmore > ARRAY_LEN(args) - 4 || store_key(prefix, sizeof(prefix), org_id, "") < 0 ||
	    audit_keys(org_id, kstream, sizeof(kstream), ktip, sizeof(ktip)) < 0)
		return NULL;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	args[argc++] = prefix;
	args[argc++] = now;
	args[argc++] = actor;
	args[argc++] = platform;
	for (size_t i = 0; i < nmore; i++)
		args[argc++] = more[i];
	return store_script(s, script, extra_key ? 3 : 2, keys, (int)argc, args);
}

/* ---- reading entries ---- */

/* One stream entry as Redis returned it: pointers into the reply, which must
 * outlive this. A missing field is NULL. */
struct raw_entry {
	const char *id;
	const redisReply *f[NFIELDS];
	const char *problem;	/* why the entry is malformed, or NULL */
};

static bool is_string(const redisReply *r)
{
	return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* Split one XRANGE element ([id, [k1, v1, ...]]) into named fields. */
static void raw_entry_parse(const redisReply *el, struct raw_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (!el || el->type != REDIS_REPLY_ARRAY || el->elements != 2 || !is_string(el->element[0])) {
		e->id = "?";
		e->problem = "is not a stream entry";
		return;
	}
	e->id = el->element[0]->str;
	const redisReply *kv = el->element[1];
	if (!kv || kv->type != REDIS_REPLY_ARRAY || kv->elements % 2) {
		e->problem = "has no fields";
		return;
	}
	for (size_t i = 0; i < kv->elements; i += 2) {
		const redisReply *k = kv->element[i], *v = kv->element[i + 1];
		size_t j;

		if (!is_string(k) || !is_string(v)) {
			e->problem = "has a field that is not text";
			return;
		}
		for (j = 0; j < NFIELDS; j++)
			if (k->len == strlen(field_names[j]) && memcmp(k->str, field_names[j], k->len) == 0)
				break;
		if (j == NFIELDS) {
			e->problem = "has a field that is not part of an audit entry (added?)";
			return;
		}
		if (e->f[j]) {
			e->problem = "has a field twice";
			return;
		}
		e->f[j] = v;
	}
	for (size_t j = 0; j < NFIELDS; j++) {
		if (!e->f[j]) {
			e->problem = j == F_TS ? "lacks its ts field" : j == F_ACTOR ? "lacks its actor field" :
				     j == F_PLATFORM ? "lacks its platform field" :
				     j == F_ACTION ? "lacks its action field" :
				     j == F_RESOURCE ? "lacks its resource field" :
				     j == F_BEFORE ? "lacks its before field" :
				     j == F_AFTER ? "lacks its after field" :
				     j == F_PREV ? "lacks its prev field" : "lacks its hash field";
			return;
		}
	}
}

/* One page of the stream, oldest first, strictly after `after` (NULL: from the
 * start). NULL on store failure, with the reason in err. */
static redisReply *read_page(struct store *s, const char *kstream, const char *after,
			     char *err, size_t errsz)
{
	redisReply *r;

	if (after) {
		char start[64];
		snprintf(start, sizeof(start), "(%s", after);	/* exclusive: Redis >= 6.2 */
		r = store_command(s, "XRANGE %s %s + COUNT %d", kstream, start, PAGE);
	} else {
		r = store_command(s, "XRANGE %s - + COUNT %d", kstream, PAGE);
	}
	if (!r) {
		snprintf(err, errsz, "%s", store_error(s));
		return NULL;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		snprintf(err, errsz, "Redis answered XRANGE with %s",
			 r->type == REDIS_REPLY_ERROR ? r->str : "something other than entries");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* The id of a page's last element, for the next page's exclusive start. */
static int page_last_id(const redisReply *page, char *out, size_t size)
{
	const redisReply *el = page->element[page->elements - 1];

	if (el->type != REDIS_REPLY_ARRAY || el->elements < 1 || !is_string(el->element[0]) ||
	    el->element[0]->len >= size)
		return -1;
	memcpy(out, el->element[0]->str, el->element[0]->len + 1);
	return 0;
}

/* ---- hashing ---- */

static void entry_hash(const struct raw_entry *e, char out[CRYPTO_SHA256_HEX_SIZE])
{
	unsigned char digest[CRYPTO_SHA256_LEN];
	struct buf b = BUF_INIT(SIZE_MAX);	/* the fields came out of Redis: already bounded */

	buf_add(&b, e->f[F_PREV]->str, e->f[F_PREV]->len);
	buf_addc(&b, '\n');
	for (int i = 0; i < NHASHED; i++) {
		buf_printf(&b, "%zu:", e->f[i]->len);
		buf_add(&b, e->f[i]->str, e->f[i]->len);
		buf_addc(&b, '\n');
	}
	crypto_sha256(b.data, b.len, digest);
	crypto_hex(digest, sizeof(digest), out);
	buf_free(&b);
}

static bool span_equals(const redisReply *r, const char *s)
{
	return r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

static bool parse_ts(const redisReply *r, int64_t *out)
{
	char tmp[24];

	if (r->len == 0 || r->len >= sizeof(tmp))
		return false;
	for (size_t i = 0; i < r->len; i++)
		if (r->str[i] < '0' || r->str[i] > '9')
			return false;
	memcpy(tmp, r->str, r->len);
	tmp[r->len] = '\0';
	return wk_parse_i64(tmp, 0, INT64_MAX, out);
}

/* ---- public API ---- */

static char *dup_field(const redisReply *r)
{
	char *p;

	if (!r)
		return xstrdup("");
	p = xmalloc(r->len + 1);
	memcpy(p, r->str, r->len);
	p[r->len] = '\0';
	return p;
}

int audit_recent(struct store *s, const char *org_id, size_t n, struct audit_entry **out,
		 size_t *count)
{
	char kstream[160], ktip[160], count_s[24];
	redisReply *r;

	*out = NULL;
	*count = 0;
	if (audit_keys(org_id, kstream, sizeof(kstream), ktip, sizeof(ktip)) < 0)
		return -1;
	if (n == 0)
		return 0;
	/* hiredis formats only a subset of printf conversions: pass text. */
	snprintf(count_s, sizeof(count_s), "%zu", n);
	r = store_command(s, "XREVRANGE %s + - COUNT %s", kstream, count_s);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		if (r) {
			char q[160];
			log_error("audit.recent", "org=%s error=%s", org_id,
				  log_quote(q, sizeof(q), r->type == REDIS_REPLY_ERROR ? r->str : "not an array"));
			freeReplyObject(r);
		}
		return -1;
	}
	struct audit_entry *e = xcalloc(r->elements ? r->elements : 1, sizeof(*e));
	for (size_t i = 0; i < r->elements; i++) {
		struct raw_entry raw;

		raw_entry_parse(r->element[i], &raw);
		wk_strlcpy(e[i].id, raw.id, sizeof(e[i].id));
		if (!raw.f[F_TS] || !parse_ts(raw.f[F_TS], &e[i].ts))
			e[i].ts = 0;
		e[i].actor = dup_field(raw.f[F_ACTOR]);
		e[i].platform = dup_field(raw.f[F_PLATFORM]);
		e[i].action = dup_field(raw.f[F_ACTION]);
		e[i].resource = dup_field(raw.f[F_RESOURCE]);
		e[i].before = dup_field(raw.f[F_BEFORE]);
		e[i].after = dup_field(raw.f[F_AFTER]);
		e[i].prev = dup_field(raw.f[F_PREV]);
		e[i].hash = dup_field(raw.f[F_HASH]);
	}
	*out = e;
	*count = r->elements;
	freeReplyObject(r);
	return 0;
}

void audit_entries_free(struct audit_entry *e, size_t n)
{
	if (!e)
		return;
	for (size_t i = 0; i < n; i++) {
		free(e[i].actor);
		free(e[i].platform);
		free(e[i].action);
		free(e[i].resource);
		free(e[i].before);
		free(e[i].after);
		free(e[i].prev);
		free(e[i].hash);
	}
	free(e);
}

int audit_append(struct store *s, const char *org_id, const char *actor, const char *platform,
		 const char *action, const char *resource, const char *before, const char *after)
{
	char kstream[160], ktip[160], ts[24];
	redisReply *r;
	int rc;

	if (audit_keys(org_id, kstream, sizeof(kstream), ktip, sizeof(ktip)) < 0)
		return -1;
	snprintf(ts, sizeof(ts), "%lld", (long long)wk_now_ms());
	const char *keys[] = { kstream, ktip };
	const char *args[] = { ts, actor, platform, action, resource, before ? before : "",
			       after ? after : "" };
	r = store_script(s, &audit_append_script, 2, keys, 7, args);
	rc = r && r->type == REDIS_REPLY_STRING ? 0 : -1;
	if (r)
		freeReplyObject(r);
	return rc;
}

/* The tip: whether it exists, its count and its hash. -1 on store failure. */
static int read_tip(struct store *s, const char *ktip, bool *exists, int64_t *count,
		    char hash[CRYPTO_SHA256_HEX_SIZE], char *err, size_t errsz)
{
	redisReply *r = store_command(s, "HMGET %s hash count", ktip);
	int rc = -1;

	*exists = false;
	*count = 0;
	hash[0] = '\0';
	if (!r) {
		snprintf(err, errsz, "%s", store_error(s));
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		snprintf(err, errsz, "Redis answered HMGET of the tip with %s",
			 r->type == REDIS_REPLY_ERROR ? r->str : "something unexpected");
		goto out;
	}
	rc = 0;
	if (!is_string(r->element[0]) && !is_string(r->element[1]))
		goto out;
	*exists = true;
	if (is_string(r->element[0]) && r->element[0]->len == CRYPTO_SHA256_HEX_SIZE - 1)
		memcpy(hash, r->element[0]->str, CRYPTO_SHA256_HEX_SIZE);
	else
		wk_strlcpy(hash, "(not a hash)", CRYPTO_SHA256_HEX_SIZE);
	if (!is_string(r->element[1]) || !wk_parse_i64(r->element[1]->str, 0, INT64_MAX, count))
		*count = -1;	/* reported by the caller */
out:
	freeReplyObject(r);
	return rc;
}

/* Check one entry at 1-based position pos against the previous entry's hash
 * (prev_hash, "" for the first). false with the report written when bad. */
static bool check_entry(const struct raw_entry *e, size_t pos, const char *prev_hash,
			char *report, size_t size)
{
	char want[CRYPTO_SHA256_HEX_SIZE];
	int64_t ts;

	if (e->problem) {
		snprintf(report, size, "entry %zu (%s) %s", pos, e->id, e->problem);
		return false;
	}
	if (!parse_ts(e->f[F_TS], &ts)) {
		snprintf(report, size, "entry %zu (%s): ts is not a number of milliseconds (edited?)",
			 pos, e->id);
		return false;
	}
	/* The entry's own hash first: a mismatch there means its contents
	 * changed, which is a more precise verdict than the link to the
	 * previous entry that an edited prev field would also break. */
	entry_hash(e, want);
	if (!span_equals(e->f[F_HASH], want)) {
		snprintf(report, size, "entry %zu (%s): hash does not match its contents (edited?)",
			 pos, e->id);
		return false;
	}
	if (pos == 1 && !span_equals(e->f[F_PREV], ZERO_HASH)) {
		snprintf(report, size, "entry 1 (%s): prev is not 64 zeros, so it was not the first "
			 "entry (entries removed from the start?)", e->id);
		return false;
	}
	if (pos > 1 && !span_equals(e->f[F_PREV], prev_hash)) {
		snprintf(report, size, "entry %zu (%s): prev does not match entry %zu "
			 "(deleted or reordered?)", pos, e->id, pos - 1);
		return false;
	}
	return true;
}

enum audit_verdict audit_verify(struct store *s, const char *org_id, char *report, size_t size,
				size_t *checked)
{
	char kstream[160], ktip[160], last_id[64] = "";
	char last_hash[CRYPTO_SHA256_HEX_SIZE] = "", tip_hash[CRYPTO_SHA256_HEX_SIZE];
	char tip2_hash[CRYPTO_SHA256_HEX_SIZE], err[200];
	bool tip_exists, tip2_exists;
	int64_t tip_count, tip2_count;
	size_t n = 0;

	*checked = 0;
	report[0] = '\0';
	if (audit_keys(org_id, kstream, sizeof(kstream), ktip, sizeof(ktip)) < 0) {
		snprintf(report, size, "org id too long for a key name");
		return AUDIT_STORE_ERROR;
	}
	/* The tip is read before the walk: entries appended while we walk come
	 * after the tip's count, so a concurrent append is never mistaken for
	 * tampering. A second read after the walk catches entries added behind
	 * the tip's back. */
	if (read_tip(s, ktip, &tip_exists, &tip_count, tip_hash, err, sizeof(err)) < 0)
		goto store_error;
	if (tip_count < 0) {
		snprintf(report, size, "the tip's count is not a number (edited?)");
		return AUDIT_BROKEN;
	}
	for (;;) {
		redisReply *page = read_page(s, kstream, last_id[0] ? last_id : NULL, err, sizeof(err));

		if (!page)
			goto store_error;
		if (page->elements == 0) {
			freeReplyObject(page);
			break;
		}
		for (size_t i = 0; i < page->elements; i++) {
			struct raw_entry e;

			raw_entry_parse(page->element[i], &e);
			n++;
			*checked = n;
			if (!check_entry(&e, n, last_hash, report, size)) {
				freeReplyObject(page);
				return AUDIT_BROKEN;
			}
			memcpy(last_hash, e.f[F_HASH]->str, CRYPTO_SHA256_HEX_SIZE - 1);
			last_hash[CRYPTO_SHA256_HEX_SIZE - 1] = '\0';
			if (tip_exists && (int64_t)n == tip_count && strcmp(last_hash, tip_hash) != 0) {
				snprintf(report, size, "entry %zu (%s): hash differs from the one the tip "
					 "recorded for entry %zu (edited or replaced?)", n, e.id, n);
				freeReplyObject(page);
				return AUDIT_BROKEN;
			}
		}
		bool more = page->elements == PAGE && page_last_id(page, last_id, sizeof(last_id)) == 0;
		freeReplyObject(page);
		if (!more)
			break;
	}
	if ((int64_t)n < tip_count) {
		if (n == 0)
			snprintf(report, size, "the log is empty but the tip says %lld entries "
				 "(entries removed?)", (long long)tip_count);
		else
			snprintf(report, size, "the log ends at entry %zu but the tip says %lld entries "
				 "(entries removed from the end?)", n, (long long)tip_count);
		return AUDIT_BROKEN;
	}
	if (n == 0)
		return AUDIT_INTACT;
	if (read_tip(s, ktip, &tip2_exists, &tip2_count, tip2_hash, err, sizeof(err)) < 0)
		goto store_error;
	if (!tip2_exists) {
		snprintf(report, size, "the log has %zu entries but no tip (tip deleted?)", n);
		return AUDIT_BROKEN;
	}
	if (tip2_count < (int64_t)n) {
		snprintf(report, size, "the log has %zu entries but the tip says %lld "
			 "(entries added outside the audit log?)", n, (long long)tip2_count);
		return AUDIT_BROKEN;
	}
	/* tip2_count == n: nothing was appended meanwhile, so the tip must name
	 * the last entry (this also covers a tip that appeared during the walk). */
	if (tip2_count == (int64_t)n && strcmp(tip2_hash, last_hash) != 0) {
		snprintf(report, size, "the tip's hash does not match the last entry, entry %zu "
			 "(edited or replaced?)", n);
		return AUDIT_BROKEN;
	}
	return AUDIT_INTACT;

store_error:
	snprintf(report, size, "cannot read the audit log: %s", err);
	return AUDIT_STORE_ERROR;
}

/* ---- CSV ---- */

/* One CSV field, RFC 4180: quoted when it holds a comma, quote, CR or LF,
 * with quotes doubled. A field a spreadsheet would run as a formula (starting
 * with = + - @, or tab/CR which some spreadsheets skip before looking) gets a
 * leading single quote: admins open this export in spreadsheets, and entry
 * text comes from chat users. */
static void csv_field(FILE *out, const char *p, size_t n, bool last)
{
	bool formula = n > 0 && p[0] && strchr("=+-@\t\r", p[0]) != NULL;
	bool quote = false;

	for (size_t i = 0; i < n && !quote; i++)
		quote = p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n';
	if (quote)
		fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"')
			fputc('"', out);
		fputc(p[i], out);
	}
	if (quote)
		fputc('"', out);
	fputs(last ? "\r\n" : ",", out);
}

static void csv_reply(FILE *out, const redisReply *r, bool last)
{
	if (r)
		csv_field(out, r->str, r->len, last);
	else
		csv_field(out, "", 0, last);
}

static void csv_entry(FILE *out, const struct raw_entry *e)
{
	char when[40] = "";
	int64_t ts;

	if (e->f[F_TS] && parse_ts(e->f[F_TS], &ts)) {
		time_t secs = (time_t)(ts / 1000);
		struct tm tm;

		if (gmtime_r(&secs, &tm) && strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm)) {
			size_t len = strlen(when);
			snprintf(when + len, sizeof(when) - len, ".%03dZ", (int)(ts % 1000));
		} else {
			when[0] = '\0';
		}
	}
	csv_field(out, e->id, strlen(e->id), false);
	csv_reply(out, e->f[F_TS], false);
	csv_field(out, when, strlen(when), false);
	for (int i = F_ACTOR; i <= F_HASH; i++)
		csv_reply(out, e->f[i], i == F_HASH);
}

int audit_export_csv(struct store *s, const char *org_id, FILE *out)
{
	char kstream[160], ktip[160], last_id[64] = "", err[200];

	if (audit_keys(org_id, kstream, sizeof(kstream), ktip, sizeof(ktip)) < 0)
		return -1;
	fputs("id,ts,time_utc,actor,platform,action,resource,before,after,prev,hash\r\n", out);
	for (;;) {
		redisReply *page = read_page(s, kstream, last_id[0] ? last_id : NULL, err, sizeof(err));

		if (!page) {
			char q[240];
			log_error("audit.export", "org=%s error=%s", org_id, log_quote(q, sizeof(q), err));
			return -1;
		}
		for (size_t i = 0; i < page->elements; i++) {
			struct raw_entry e;

			raw_entry_parse(page->element[i], &e);
			csv_entry(out, &e);
		}
		bool more = page->elements == PAGE && page_last_id(page, last_id, sizeof(last_id)) == 0;
		freeReplyObject(page);
		if (!more)
			break;
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

static const struct store_script set_field_script = {
	"audit_set_field",
	/* KEYS: settings hash, audit, tip. ARGV: field, value ('' = delete), absent,
	 * actor, platform, now ms, action, resource. */
	"local old = redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[3]\n"
	"local new = ARGV[2] ~= '' and ARGV[2] or ARGV[3]\n"
	"if old == new then return 1 end\n"
	"if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1])\n"
	"else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end\n"
	"wk_audit(KEYS[2], KEYS[3], ARGV[6], ARGV[4], ARGV[5], ARGV[7], ARGV[8], old, new)\n"
	"return 0\n",
	AUDIT_LUA
};

int audit_set_field(struct store *s, const char *org_id, const struct audited_setting *set,
		    const char *value, const char *actor, const char *platform, int64_t now_ms)
{
	char kaudit[160], ktip[160], now[24];
	redisReply *r;
	int rc = -1;

	if (audit_keys(org_id, kaudit, sizeof(kaudit), ktip, sizeof(ktip)) < 0)
		return -1;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { set->key, kaudit, ktip };
	const char *args[] = { set->field, value, set->absent, actor, platform, now, set->action,
			       set->resource };
	r = store_script(s, &set_field_script, 3, keys, 8, args);
	if (r && r->type == REDIS_REPLY_INTEGER)
		rc = (int)r->integer;
	if (r)
		freeReplyObject(r);
	return rc;
}
