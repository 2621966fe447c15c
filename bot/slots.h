/* slots.h - a fixed table of cache entries for one thread, reusing the least
 * recently used: what the workers' caches (schedule_cache.h,
 * integration_cache.h) are built on.
 *
 * Each entry type begins with a struct slot; the table allocates n of them,
 * zeroed. A handful of entries searched in a line is what a worker needs: a
 * miss costs one read, never a wrong answer.
 * Thread: the owner's only; no locks. */
#ifndef WK_SLOTS_H
#define WK_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct slot {
	uint64_t used;	/* the table's clock when last used */
	bool full;
};

struct slot_table {
	unsigned char *entries;
	size_t n, size;	/* entries, bytes each */
	uint64_t clock;
};

void slot_table_init(struct slot_table *t, size_t n, size_t entry_size);
void slot_table_destroy(struct slot_table *t);	/* wipes the entries, then frees them */

static inline struct slot *slot_at(const struct slot_table *t, size_t i)
{
	return (struct slot *)(void *)(t->entries + i * t->size);
}

/* Mark e used now. */
void slot_touch(struct slot_table *t, struct slot *e);
/* A free entry, else the least recently used (still full: the caller frees
 * what it holds before reusing it). */
struct slot *slot_victim(struct slot_table *t);

#endif
