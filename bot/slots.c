/* slots.c - see slots.h */
#include "bot/slots.h"
#include "bot/util.h"

#include <openssl/crypto.h>
#include <stdlib.h>

void slot_table_init(struct slot_table *t, size_t n, size_t entry_size)
{
	t->n = n ? n : 1;
	t->size = entry_size;
	t->clock = 0;
	t->entries = xcalloc(t->n, t->size);
}

void slot_table_destroy(struct slot_table *t)
{
	if (!t->entries)
		return;
	OPENSSL_cleanse(t->entries, t->n * t->size);	/* copies may hold sealed secrets */
	free(t->entries);
	t->entries = NULL;
}

void slot_touch(struct slot_table *t, struct slot *e)
{
	e->used = ++t->clock;
}

struct slot *slot_victim(struct slot_table *t)
{
	struct slot *best = slot_at(t, 0);

	for (size_t i = 1; i < t->n && best->full; i++) {
		struct slot *e = slot_at(t, i);
		if (!e->full || e->used < best->used)
			best = e;
	}
	return best;
}
