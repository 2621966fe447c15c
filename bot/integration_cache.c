/* integration_cache.c - see integration_cache.h
 *
 * A few entries searched in a line: a worker hears from few integrations at a
 * time, and a miss costs one read, never a wrong answer. */
#include "bot/integration_cache.h"
#include "bot/util.h"

#include <openssl/crypto.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char sha[65];		/* of the token */
	uint64_t used;
	bool full;
	struct integration_copy copy;
};

struct integration_cache {
	struct entry *entries;
	size_t n;
	uint64_t clock;
};

struct integration_cache *integration_cache_new(size_t capacity)
{
	struct integration_cache *c = xcalloc(1, sizeof(*c));

	c->n = capacity ? capacity : 1;
	c->entries = xcalloc(c->n, sizeof(*c->entries));
	return c;
}

void integration_cache_free(struct integration_cache *c)
{
	if (!c)
		return;
	/* The sealed secrets are ciphertext; wipe them anyway. */
	OPENSSL_cleanse(c->entries, c->n * sizeof(*c->entries));
	free(c->entries);
	free(c);
}

static struct entry *find(struct integration_cache *c, const char *token)
{
	char sha[65];

	if (!c || !integration_token_shaped(token))
		return NULL;
	integration_token_hash(token, sha);
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].full && strcmp(c->entries[i].sha, sha) == 0)
			return &c->entries[i];
	return NULL;
}

struct integration_copy *integration_cache_get(struct integration_cache *c, const char *token)
{
	struct entry *e = find(c, token);

	if (!e)
		return NULL;
	e->used = ++c->clock;
	return &e->copy;
}

void integration_cache_put(struct integration_cache *c, const char *token, const struct integration_copy *copy)
{
	struct entry *e;

	if (!c || !copy->in.org_tip[0] || !integration_token_shaped(token))
		return;
	if (!(e = find(c, token))) {
		e = &c->entries[0];
		for (size_t i = 1; i < c->n && e->full; i++)
			if (!c->entries[i].full || c->entries[i].used < e->used)
				e = &c->entries[i];
		integration_token_hash(token, e->sha);
	}
	e->copy = *copy;
	e->used = ++c->clock;
	e->full = true;
}

void integration_cache_drop(struct integration_cache *c, const char *token)
{
	struct entry *e = find(c, token);

	if (e)
		OPENSSL_cleanse(e, sizeof(*e));
}
