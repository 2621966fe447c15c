/* integration_cache.c - see integration_cache.h */
#include "bot/integration_cache.h"
#include "bot/slots.h"
#include "bot/util.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct slot slot;	/* first: see slots.h */
	char sha[65];		/* of the token */
	struct integration_copy copy;
};

struct integration_cache {
	struct slot_table t;
};

struct integration_cache *integration_cache_new(size_t capacity)
{
	struct integration_cache *c = xcalloc(1, sizeof(*c));

	slot_table_init(&c->t, capacity, sizeof(struct entry));
	return c;
}

void integration_cache_free(struct integration_cache *c)
{
	if (!c)
		return;
	slot_table_destroy(&c->t);
	free(c);
}

static struct entry *find(struct integration_cache *c, const char *token)
{
	char sha[65];

	if (!c || !integration_token_shaped(token))
		return NULL;
	integration_token_hash(token, sha);
	for (size_t i = 0; i < c->t.n; i++) {
		struct entry *e = (struct entry *)slot_at(&c->t, i);
		if (e->slot.full && strcmp(e->sha, sha) == 0)
			return e;
	}
	return NULL;
}

struct integration_copy *integration_cache_get(struct integration_cache *c, const char *token)
{
	struct entry *e = find(c, token);

	if (!e)
		return NULL;
	slot_touch(&c->t, &e->slot);
	return &e->copy;
}

void integration_cache_put(struct integration_cache *c, const char *token, const struct integration_copy *copy)
{
	struct entry *e;

	if (!c || !copy->in.org_tip[0] || !integration_token_shaped(token))
		return;
	if (!(e = find(c, token))) {
		e = (struct entry *)slot_victim(&c->t);
		integration_token_hash(token, e->sha);
	}
	e->copy = *copy;
	e->slot.full = true;
	slot_touch(&c->t, &e->slot);
}

void integration_cache_drop(struct integration_cache *c, const char *token)
{
	struct entry *e = find(c, token);

	if (e)
		OPENSSL_cleanse(e, sizeof(*e));
}
