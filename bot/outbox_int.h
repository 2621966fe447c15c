/* outbox_int.h - for the outbox's own files only (outbox.c, outbox_channels.c,
 * outbox_senders.c, outbox_history.c), not for other modules: what they share.
 * The public interface is outbox.h.
 *
 *   outbox.c           enqueue (the record and the stream), one attempt: the
 *                      claim, bundling, sending, outcomes, retries, fallback
 *   outbox_channels.c  the channel table and each channel's send and verify
 *   outbox_senders.c   the sender threads, their holds (leases) and renewal,
 *                      the drain, the reclaim watch
 *   outbox_history.c   reading records back: outbox_get/_recent/_history */
#ifndef WK_OUTBOX_INT_H
#define WK_OUTBOX_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/outbox.h"
#include "bot/store.h"

/* The stream every notification goes through, and the senders' consumer group. */
#define QUEUE "wk:{notify}:q"
#define GROUP "couriers"
#define MAX_SENDERS 16
/* Entries one sender reads at a time. One: an entry a busy sender read but
 * has not started would wait behind its send (seconds with a slow provider)
 * while other senders, here or on other instances, sit idle. */
#define READ_COUNT 1

/* SEND_UNKNOWN: the request went out and no answer came (a timeout, a dropped
 * connection, a cut-off at shutdown): the provider may have it. SEND_SHOWN:
 * nothing was sent; the console showed what would have been (outbox_set_preview). */
enum send_outcome { SEND_SENT, SEND_RETRY, SEND_PERMANENT, SEND_UNKNOWN, SEND_SHOWN };

struct item {
	char org[96], id[24], member[64], channel[16], fallback[32], kind[16], page[24];
	int64_t incident;	/* the incident its page is for, 0 = none: people answer with its number */
	char subject[160], text[4096], buttons[OUTBOX_BUTTONS_MAX];
	char refs[OUTBOX_REFS_MAX];	/* the references of its attempts, comma-separated */
	int64_t attempts;
	int64_t first_ms;	/* its first attempt */
	int64_t unknown_ms;	/* since when its last attempt's outcome is unknown, 0 = known */
};

/* What one claim took: one person, one channel, sent as one message. */
struct batch {
	struct item items[OUTBOX_BUNDLE_MAX];
	size_t n;
	char ref[32];		/* this attempt's reference: in the message (SMS text, Slack metadata) */
	char ids[OUTBOX_BUNDLE_MAX * 24];	/* "n1,n2,..." */
};

/* ---- channels (outbox_channels.c) ---- */

/* One send of a whole batch. retry_ms: at least this long before a retry
 * (Retry-After), 0 = the usual backoff. */
typedef enum send_outcome (*channel_send)(const struct config *cfg, struct store *s,
					  const struct batch *b, char *why, size_t whysize,
					  int64_t *retry_ms);

/* Did an earlier attempt of the batch's items with an unknown outcome arrive?
 * refs[0..n) are those attempts' references, since_ms the first of them.
 * 0 looked (found[k] for refs[k]), -1 could not look (why, retry_ms). */
typedef int (*channel_verify)(const struct config *cfg, struct store *s, const struct batch *b,
			      int64_t since_ms, const char *const *refs, size_t n, bool *found,
			      char *why, size_t whysize, int64_t *retry_ms);

/* The send interface a channel plugs into (Teams adds a row).
 * Per provider: at most in_flight sends at once from this instance (0 = the
 * senders are the only bound) and per_second across all instances (0 = none).
 * Per person, held in Redis so it covers every instance: at most one message
 * per min_gap, at most per_hour in any hour. A message that comes too soon
 * waits for its turn, and what piles up meanwhile goes out as one.
 * verify: how to find out whether an attempt with an unknown outcome arrived
 * (NULL: the channel is at-least-once; SMTP has no way to ask). */
struct channel {
	const char *name;
	const char *label;	/* for people: "SMS", "chat" */
	bool (*configured)(const struct config *cfg);	/* can this instance reach the provider? */
	channel_send send;
	channel_verify verify;
	int64_t (*in_flight)(const struct config *cfg);
	int64_t (*per_second)(const struct config *cfg);
	int64_t (*min_gap_ms)(const struct config *cfg);
	int64_t (*per_hour)(const struct config *cfg);
};

/* The channel table and its rows (a static assertion next to the table keeps
 * the count right). */
#define OUTBOX_NCHANNELS 9
extern const struct channel outbox_channels[];

/* The table's row for a channel name, NULL when there is none. */
const struct channel *outbox_channel_find(const char *name);

/* The console's preview of a batch on a channel this instance cannot reach
 * (outbox_previewed()): the message as its person would get it, and where it
 * would have gone. */
enum send_outcome outbox_show_batch(const struct config *cfg, struct store *s, const struct batch *b,
				    const struct channel *ch, char *why, size_t whysize);

/* ---- senders (outbox_senders.c) ---- */

/* What a sender holds right now: the notifications it marked `sending` and
 * the stream entries it read and has not finished. The heartbeat renews both
 * (outbox_renew), so another instance takes them over only when this one is
 * gone; a renewal that fails means the lease may be someone else's by now, so
 * no new provider call starts under it. */
struct hold {
	pthread_mutex_t lock;
	uint64_t gen;		/* bumped whenever the set changes */
	char keys[OUTBOX_BUNDLE_MAX][192];
	size_t nkeys;
	char entries[READ_COUNT][40];
	size_t nentries;
	int64_t valid_until;	/* wall ms: the lease is ours until then (last renewal + lease) */
	bool lost;		/* a renewal found a mark that is no longer ours */
};

struct sender {
	pthread_t thread;
	struct store *store;
	char owner[96];
	struct hold hold;
	atomic_bool done;	/* the thread has finished its last entry */
	atomic_bool grouped;	/* the stream and its group exist, as it last saw */
};

/* The running outbox: set up by outbox_start() (outbox_senders.c); an attempt
 * (outbox.c) reads its config, lease, limits and in-flight slots. */
struct outbox_state {
	const struct config *cfg;
	int64_t lease_ms, idle_ms;	/* OUTBOX_LEASE_MS / OUTBOX_IDLE_MS unless a test changes them */
	struct sender senders[MAX_SENDERS];
	size_t n;
	sem_t slots[OUTBOX_NCHANNELS];	/* a channel's in_flight bound, when it has one */
	char limits[256];	/* for the claim: "channel:gap ms:per hour:per second,..." */
	atomic_bool draining;	/* take no new entries; finish the one in hand */
	_Atomic int64_t drain_started_ms;	/* monotonic ms of outbox_drain_begin(), 0 before */
	atomic_bool reclaim;	/* the watch saw entries nobody renews: take them over */
	int64_t next_maintain;	/* the watch's (heartbeat thread) */
	pthread_mutex_t lock;	/* with `idle`: outbox_drain() waits for the senders;
				 * also guards `started` (and so the senders' stores)
				 * against the watch and the drain */
	pthread_cond_t idle;
	bool started;
};
/* Defined in outbox_senders.c. */
extern struct outbox_state outbox;

/* The claim just marked the batch's items `sending` until claimed_ms + lease. */
void outbox_hold_batch(struct sender *sd, const char *org, const struct batch *b, int64_t claimed_ms);
void outbox_hold_release(struct sender *sd);
/* May a provider call start under the current marks? */
bool outbox_hold_ok(struct sender *sd);

/* ---- one attempt (outbox.c) ---- */

/* One stream entry (or timer) for notification id: whether its fate is
 * recorded in Redis (when not, the entry stays unacknowledged). */
bool outbox_attempt(struct sender *sd, const char *org, const char *id);

#endif
