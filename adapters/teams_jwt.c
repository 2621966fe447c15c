/* teams_jwt.c - see teams_jwt.h */
#include "adapters/teams_jwt.h"
#include "bot/util.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Deepest nesting we accept in any document here. A JWK Set needs 4 (set,
 * keys[], key, x5c[]), a token part 2 (claims, aud[]); jansson's own limit is
 * 2048, which a hostile token could use to make it recurse that deep.
 */
#define JSON_MAX_DEPTH 8
#define HEADER_MAX 1024			/* decoded JOSE header bytes */
#define SIG_MAX (TEAMS_KEY_MAX_BITS / 8)

struct teams_key {
	char kid[TEAMS_KID_MAX + 1];
	EVP_PKEY *pkey;
	size_t nendorse;
	char *endorse[TEAMS_ENDORSEMENTS_MAX];
};

struct teams_keys {
	atomic_uint refs;
	size_t count;
	struct teams_key key[];
};

/* ---- strict base64url (RFC 7515 2: no padding, no whitespace) ---- */

static int b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decoded size of n characters (n % 4 == 1 is no valid length at all). */
#define B64URL_DECODED(n) ((n) / 4 * 3 + ((n) % 4 ? (n) % 4 - 1 : 0))

static int b64url_decode(const char *in, size_t n, unsigned char *out, size_t size, size_t *outlen)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (n % 4 == 1 || B64URL_DECODED(n) > size)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_val((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/*
	 * The unused low bits of the last character must be zero, so each
	 * byte string has exactly one text: "AB" and "AC" are not both 0x00.
	 */
	if (acc)
		return -1;
	*outlen = o;
	return 0;
}

/* ---- JSON ---- */

/* A cheap pass over the bytes so jansson never recurses past JSON_MAX_DEPTH.
 * Unbalanced text is left for the parser to reject. */
static bool depth_ok(const char *s, size_t n)
{
	bool in_str = false;
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > JSON_MAX_DEPTH)
				return false;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return true;
}

/* An object, or NULL (err says why). Duplicate names are refused: with two
 * "aud" members, which one did the signer mean? */
static json_t *load_object(const char *s, size_t n, char *err, size_t errsize)
{
	json_error_t jerr;
	json_t *j;

	if (!depth_ok(s, n)) {
		wk_fail(err, errsize, "JSON nested deeper than %d", JSON_MAX_DEPTH);
		return NULL;
	}
	j = json_loadb(s, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		wk_fail(err, errsize, "not JSON: %.80s (line %d)", jerr.text, jerr.line);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		wk_fail(err, errsize, "not a JSON object");
		return NULL;
	}
	return j;
}

static const char *sget(const json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

/* A kid ends up in log lines and refetch decisions: printable ASCII only. */
static bool kid_ok(const char *kid)
{
	size_t n = kid ? strnlen(kid, TEAMS_KID_MAX + 1) : 0;

	if (n == 0 || n > TEAMS_KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (kid[i] < 0x21 || kid[i] > 0x7e)
			return false;
	return true;
}

/* ---- key sets ---- */

/* An RSA public key from a JWK's n and e, or NULL when they are not a key
 * we accept (see teams_keys_parse). */
static EVP_PKEY *rsa_from_jwk(const char *n64, const char *e64)
{
	/* One spare byte: some encoders keep a leading zero on n. */
	unsigned char nb[TEAMS_KEY_MAX_BITS / 8 + 1], eb[8];
	size_t nl, el;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (b64url_decode(n64, strlen(n64), nb, sizeof(nb), &nl) ||
	    b64url_decode(e64, strlen(e64), eb, sizeof(eb), &el))
		return NULL;
	n = BN_bin2bn(nb, (int)nl, NULL);
	e = BN_bin2bn(eb, (int)el, NULL);
	if (!n || !e || BN_num_bits(n) < TEAMS_KEY_MIN_BITS || BN_num_bits(n) > TEAMS_KEY_MAX_BITS ||
	    !BN_is_odd(n) || !BN_is_odd(e) || BN_num_bits(e) < 2)
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	/* Don't leave this thread's error queue holding our refusals. */
	if (!pkey)
		ERR_clear_error();
	return pkey;
}

static const struct teams_key *find_key(const struct teams_keys *ks, const char *kid)
{
	for (size_t i = 0; ks && i < ks->count; i++)
		if (strcmp(ks->key[i].kid, kid) == 0)
			return &ks->key[i];
	return NULL;
}

static void add_key(struct teams_keys *ks, const json_t *jk)
{
	const char *kty = sget(jk, "kty"), *kid = sget(jk, "kid");
	const char *n = sget(jk, "n"), *e = sget(jk, "e");
	const json_t *use = json_object_get(jk, "use"), *alg = json_object_get(jk, "alg");
	const json_t *ends = json_object_get(jk, "endorsements"), *v;
	struct teams_key *k;
	EVP_PKEY *pkey;
	size_t i;

	if (!kty || strcmp(kty, "RSA") != 0 || !kid_ok(kid) || !n || !e)
		return;
	if (use && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
		return;
	if (alg && (!json_is_string(alg) || strcmp(json_string_value(alg), "RS256") != 0))
		return;
	if (find_key(ks, kid))
		return;
	pkey = rsa_from_jwk(n, e);
	if (!pkey)
		return;
	k = &ks->key[ks->count++];
	wk_strlcpy(k->kid, kid, sizeof(k->kid));
	k->pkey = pkey;
	json_array_foreach(ends, i, v) {
		if (k->nendorse == TEAMS_ENDORSEMENTS_MAX)
			break;
		if (json_is_string(v))
			k->endorse[k->nendorse++] = xstrdup(json_string_value(v));
	}
}

static void keys_destroy(struct teams_keys *ks)
{
	for (size_t i = 0; i < ks->count; i++) {
		EVP_PKEY_free(ks->key[i].pkey);
		for (size_t j = 0; j < ks->key[i].nendorse; j++)
			free(ks->key[i].endorse[j]);
	}
	free(ks);
}

struct teams_keys *teams_keys_parse(const char *jwks_json, size_t len, char *err, size_t errsize)
{
	struct teams_keys *ks = NULL;
	json_t *root, *arr, *jk;
	size_t i;

	if (len > TEAMS_KEYS_MAX_JSON) {
		wk_fail(err, errsize, "JWK Set larger than %d bytes", TEAMS_KEYS_MAX_JSON);
		return NULL;
	}
	root = load_object(jwks_json, len, err, errsize);
	if (!root)
		return NULL;
	arr = json_object_get(root, "keys");
	if (!json_is_array(arr)) {
		wk_fail(err, errsize, "no \"keys\" array");
		goto out;
	}
	ks = xcalloc(1, sizeof(*ks) + TEAMS_KEYS_MAX * sizeof(ks->key[0]));
	json_array_foreach(arr, i, jk) {
		if (ks->count == TEAMS_KEYS_MAX)
			break;
		if (json_is_object(jk))
			add_key(ks, jk);
	}
	if (ks->count == 0) {
		wk_fail(err, errsize, "no usable RSA signing key among %zu keys", json_array_size(arr));
		keys_destroy(ks);
		ks = NULL;
		goto out;
	}
	atomic_init(&ks->refs, 1);
out:
	json_decref(root);
	return ks;
}

struct teams_keys *teams_keys_ref(struct teams_keys *k)
{
	if (k)
		atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed);
	return k;
}

void teams_keys_unref(struct teams_keys *k)
{
	/* acq_rel: the last owner must see every other owner's reads done. */
	if (k && atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1)
		keys_destroy(k);
}

void teams_keys_free(struct teams_keys *k)
{
	teams_keys_unref(k);
}

size_t teams_keys_count(const struct teams_keys *k)
{
	return k ? k->count : 0;
}

static int copy_out(char *dst, size_t size, const char *src, const char *what, char *err,
		    size_t errsize)
{
	if (!src || !*src)
		return wk_fail(err, errsize, "no \"%s\" string", what);
	if (wk_strlcpy(dst, src, size) >= size)
		return wk_fail(err, errsize, "\"%s\" longer than %zu bytes", what, size - 1);
	return 0;
}

static bool loopback_http(const char *uri)
{
	static const char *const hosts[] = { "http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:",
					     "http://localhost/", "http://[::1]:", "http://[::1]/" };

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strncmp(uri, hosts[i], strlen(hosts[i])) == 0)
			return true;
	return false;
}

int teams_openid_parse(const char *json, size_t len, char *jwks_uri, size_t usize,
		       char *issuer, size_t isize, char *err, size_t errsize)
{
	json_t *root = NULL, *algs, *v;
	const char *uri;
	bool rs256 = false;
	int rc = -1;
	size_t i;

	if (len > TEAMS_KEYS_MAX_JSON) {
		wk_fail(err, errsize, "OpenID metadata larger than %d bytes", TEAMS_KEYS_MAX_JSON);
		goto out;
	}
	root = load_object(json, len, err, errsize);
	if (!root)
		goto out;
	uri = sget(root, "jwks_uri");
	/* The key set decides what we trust: never fetch it in the clear, except
	 * from this machine (a test's identity provider on loopback). */
	if (uri && strncmp(uri, "https://", 8) != 0 && !loopback_http(uri)) {
		wk_fail(err, errsize, "jwks_uri is not https://");
		goto out;
	}
	if (copy_out(jwks_uri, usize, uri, "jwks_uri", err, errsize) ||
	    copy_out(issuer, isize, sget(root, "issuer"), "issuer", err, errsize))
		goto out;
	algs = json_object_get(root, "id_token_signing_alg_values_supported");
	if (algs) {
		json_array_foreach(algs, i, v)
			if (json_is_string(v) && strcmp(json_string_value(v), "RS256") == 0)
				rs256 = true;
		if (!rs256) {
			wk_fail(err, errsize, "id_token_signing_alg_values_supported lacks RS256");
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	if (rc && usize)
		jwks_uri[0] = '\0';
	if (rc && isize)
		issuer[0] = '\0';
	return rc;
}

/* ---- verifying ---- */

/* The token after "Bearer" (any case, RFC 7235) and its spaces, or NULL. */
static const char *bearer_token(const char *h)
{
	if (!h || strncasecmp(h, "Bearer", 6) != 0 || h[6] != ' ')
		return NULL;
	h += 6;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

static bool rs256_ok(EVP_PKEY *pkey, const char *msg, size_t n, const unsigned char *sig,
		     size_t slen)
{
	EVP_MD_CTX *md;
	bool ok;

	/* PKCS#1 v1.5 signatures are exactly the modulus size. */
	if (slen != (size_t)EVP_PKEY_get_size(pkey))
		return false;
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	     EVP_DigestVerify(md, sig, slen, (const unsigned char *)msg, n) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		ERR_clear_error();
	return ok;
}

/* JWT NumericDate: integer or not; -1 when not a number we can hold. */
static int numeric_date(const json_t *v, int64_t *out)
{
	double d;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_real(v))
		return -1;
	d = floor(json_real_value(v));
	if (!(d > -9.0e18 && d < 9.0e18))
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* Differences as uint64: exp and nbf are the signer's, but int64 maths on
 * hostile values would still overflow. */
static bool expired(int64_t exp, int64_t now, int64_t skew)
{
	return exp <= now && (uint64_t)now - (uint64_t)exp >= (uint64_t)skew;
}

static bool not_yet(int64_t nbf, int64_t now, int64_t skew)
{
	return nbf > now && (uint64_t)nbf - (uint64_t)now > (uint64_t)skew;
}

bool teams_service_url_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '/')
		la--;
	if (lb && b[lb - 1] == '/')
		lb--;
	return la > 0 && la == lb && memcmp(a, b, la) == 0;
}

static bool nonempty(const char *s)
{
	return s && *s;
}

static enum teams_auth check_audience(const json_t *aud, const char *app_id,
				      struct teams_jwt_claims *out)
{
	const json_t *v;
	size_t i;

	if (json_is_string(aud)) {
		wk_strlcpy(out->aud, json_string_value(aud), sizeof(out->aud));
		return nonempty(app_id) && strcmp(json_string_value(aud), app_id) == 0
		       ? TEAMS_AUTH_OK : TEAMS_AUTH_BAD_AUDIENCE;
	}
	json_array_foreach(aud, i, v) {
		if (!json_is_string(v))
			continue;
		if (!out->aud[0] || (nonempty(app_id) && strcmp(json_string_value(v), app_id) == 0))
			wk_strlcpy(out->aud, json_string_value(v), sizeof(out->aud));
		if (nonempty(app_id) && strcmp(json_string_value(v), app_id) == 0)
			return TEAMS_AUTH_OK;
	}
	return TEAMS_AUTH_BAD_AUDIENCE;
}

/* Everything after the signature: the claims, then the key's endorsement. */
static enum teams_auth check_claims(const unsigned char *payload, size_t n, const struct teams_key *k,
				    const struct teams_jwt_expect *want, struct teams_jwt_claims *out)
{
	json_t *root = load_object((const char *)payload, n, NULL, 0);
	const json_t *exp, *nbf;
	const char *iss, *surl;
	int64_t skew = want->skew > 0 ? want->skew : 0;
	enum teams_auth r = TEAMS_AUTH_MALFORMED;

	if (!root)
		return TEAMS_AUTH_MALFORMED;
	exp = json_object_get(root, "exp");
	nbf = json_object_get(root, "nbf");
	iss = sget(root, "iss");
	surl = sget(root, "serviceurl");
	if ((exp && numeric_date(exp, &out->exp)) || (nbf && numeric_date(nbf, &out->nbf)))
		goto out;
	if (iss)
		wk_strlcpy(out->iss, iss, sizeof(out->iss));
	if (surl)
		wk_strlcpy(out->serviceurl, surl, sizeof(out->serviceurl));

	if (!exp || expired(out->exp, want->now, skew))
		r = TEAMS_AUTH_EXPIRED;
	else if (nbf && not_yet(out->nbf, want->now, skew))
		r = TEAMS_AUTH_NOT_YET_VALID;
	else if (!iss || !nonempty(want->issuer) || strcmp(iss, want->issuer) != 0)
		r = TEAMS_AUTH_BAD_ISSUER;
	else if (check_audience(json_object_get(root, "aud"), want->app_id, out) != TEAMS_AUTH_OK)
		r = TEAMS_AUTH_BAD_AUDIENCE;
	else if (!want->defer_service_url &&
		 (!surl || !nonempty(want->service_url) || !teams_service_url_equal(surl, want->service_url)))
		r = TEAMS_AUTH_SERVICE_URL_MISMATCH;
	else
		r = TEAMS_AUTH_NO_ENDORSEMENT;
	if (r == TEAMS_AUTH_NO_ENDORSEMENT && nonempty(want->channel_id))
		for (size_t i = 0; i < k->nendorse; i++)
			if (strcmp(k->endorse[i], want->channel_id) == 0)
				r = TEAMS_AUTH_OK;
out:
	json_decref(root);
	return r;
}

enum teams_auth teams_jwt_verify(const struct teams_keys *keys, const char *authorization,
				 const struct teams_jwt_expect *want, struct teams_jwt_claims *out)
{
	struct teams_jwt_claims scratch;
	unsigned char hdr[HEADER_MAX], sig[SIG_MAX];
	unsigned char *payload = NULL;
	const char *tok, *d1, *d2, *alg;
	size_t tlen, hl, pl, sl, hn, pn, sn;
	const struct teams_key *k;
	json_t *h;
	enum teams_auth r;

	if (!out)
		out = &scratch;
	memset(out, 0, sizeof(*out));
	tok = bearer_token(authorization);
	if (!tok)
		return TEAMS_AUTH_MISSING;
	tlen = strnlen(tok, TEAMS_JWT_MAX_TOKEN + 1);
	if (tlen > TEAMS_JWT_MAX_TOKEN)
		return TEAMS_AUTH_MALFORMED;

	/* header.payload.signature; any other '.' fails the base64url decode. */
	d1 = memchr(tok, '.', tlen);
	d2 = d1 ? memchr(d1 + 1, '.', tlen - (size_t)(d1 + 1 - tok)) : NULL;
	if (!d2)
		return TEAMS_AUTH_MALFORMED;
	hl = (size_t)(d1 - tok);
	pl = (size_t)(d2 - d1 - 1);
	sl = tlen - (size_t)(d2 + 1 - tok);
	/* An empty signature is structurally fine: alg "none" must read BAD_ALG. */
	if (hl == 0 || pl == 0 || b64url_decode(tok, hl, hdr, sizeof(hdr), &hn) ||
	    b64url_decode(d2 + 1, sl, sig, sizeof(sig), &sn))
		return TEAMS_AUTH_MALFORMED;
	payload = xmalloc(B64URL_DECODED(pl) + 1);
	if (b64url_decode(d1 + 1, pl, payload, B64URL_DECODED(pl), &pn)) {
		r = TEAMS_AUTH_MALFORMED;
		goto out;
	}

	/* alg before anything else: no HS256 with our public key as secret. */
	h = load_object((const char *)hdr, hn, NULL, 0);
	if (!h) {
		r = TEAMS_AUTH_MALFORMED;
		goto out;
	}
	alg = sget(h, "alg");
	if (!alg || strcmp(alg, "RS256") != 0)
		r = TEAMS_AUTH_BAD_ALG;
	/* We implement no JWS extension, so any "crit" is one we don't know. */
	else if (json_object_get(h, "crit") || !kid_ok(sget(h, "kid")))
		r = TEAMS_AUTH_MALFORMED;
	else
		r = TEAMS_AUTH_OK;
	if (r == TEAMS_AUTH_OK)
		wk_strlcpy(out->kid, sget(h, "kid"), sizeof(out->kid));
	json_decref(h);
	if (r != TEAMS_AUTH_OK)
		goto out;

	k = find_key(keys, out->kid);
	if (!k) {
		r = TEAMS_AUTH_UNKNOWN_KID;
		goto out;
	}
	/* The signed input is the two encoded segments as sent, dot included. */
	if (!rs256_ok(k->pkey, tok, (size_t)(d2 - tok), sig, sn)) {
		r = TEAMS_AUTH_BAD_SIGNATURE;
		goto out;
	}
	r = check_claims(payload, pn, k, want, out);
out:
	free(payload);
	return r;
}

int teams_auth_http_status(enum teams_auth r)
{
	if (r == TEAMS_AUTH_OK)
		return 200;
	return r == TEAMS_AUTH_NO_ENDORSEMENT ? 403 : 401;
}

static const char *const reasons[] = {
	[TEAMS_AUTH_OK] = "ok",
	[TEAMS_AUTH_MISSING] = "no Bearer token in the Authorization header",
	[TEAMS_AUTH_MALFORMED] = "the token is not a well-formed JWT",
	[TEAMS_AUTH_BAD_ALG] = "the token is not signed with RS256",
	[TEAMS_AUTH_UNKNOWN_KID] = "the token's signing key is not in the key set",
	[TEAMS_AUTH_BAD_SIGNATURE] = "the token's signature does not verify",
	[TEAMS_AUTH_EXPIRED] = "the token has expired or has no expiry",
	[TEAMS_AUTH_NOT_YET_VALID] = "the token is not valid yet",
	[TEAMS_AUTH_BAD_ISSUER] = "the token was issued by someone else",
	[TEAMS_AUTH_BAD_AUDIENCE] = "the token is for another bot",
	[TEAMS_AUTH_SERVICE_URL_MISMATCH] = "the token's serviceurl differs from the activity's serviceUrl",
	[TEAMS_AUTH_NO_ENDORSEMENT] = "the signing key is not endorsed for this channel",
};

const char *teams_auth_reason(enum teams_auth r)
{
	if ((unsigned)r < ARRAY_LEN(reasons) && reasons[r])
		return reasons[r];
	return "unknown token verification result";
}
