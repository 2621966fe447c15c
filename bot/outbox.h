/* outbox.h - the one path every notification takes: one message, to one
 * person, over one channel, with an id.
 *
 *   enqueue    one script writes wk:{org}:notification:<id> (status queued) and
 *              adds {org, id} to the stream wk:{notify}:q; a dedupe key makes
 *              a repeated enqueue return the first id instead of a second message.
 *   senders    N threads read the stream through the consumer group "couriers".
 *              Before each attempt a script marks the notification `sending` with
 *              a deadline (and counts the attempt): a second sender, or a restart,
 *              never sends it again before that deadline. The result is written
 *              back (sent / failed) and the entry acknowledged.
 *   retries    a retryable failure (timeout, 5xx, 429) is retried with
 *              exponential backoff and jitter through a durable timer
 *              (kind "notify_retry"), at most OUTBOX_MAX_ATTEMPTS times.
 *   fallback   a permanent failure (or running out of attempts) queues the same
 *              message on the next channel of the notification's fallback list
 *              at once ("sms,email").
 *   waiting    a sender waits inside Redis for the next entry (XREADGROUP
 *              BLOCK, 30 s; before the stream exists, XREAD from 0-0, which
 *              creates nothing), so an idle instance costs Redis almost
 *              nothing; the drain and the watch cut that wait short.
 *   reclaim    entries a dead instance had read but not acknowledged are taken
 *              over with XAUTOCLAIM after OUTBOX_IDLE_MS: a watch on the
 *              heartbeat (one XPENDING ... IDLE a second, only once the stream
 *              exists) finds them and wakes the senders, which take them over
 *              side by side; their notification's deadline decides whether
 *              they may be sent again. The watch also trims the stream and
 *              sets the queue gauges every few seconds.
 *
 * WK_TEST_NOTIFY_LEASE_MS (test-only) shortens the lease and the idle time.
 *
 *   bundling  a claim also takes whatever else waits for the same person on
 *              the same channel (up to OUTBOX_BUNDLE_MAX): one message, one
 *              outcome for all of them.
 *   pages     a notification that belongs to a page (page.h) is cancelled, not
 *              sent, once the page is acknowledged; its Slack DM carries an
 *              Acknowledge button, its SMS and mail say how to answer.
 *
 *   history   every status change is appended to wk:{org}:notification:<id>:events
 *              (queued, sending with the attempt, retry/sent/failed/cancelled
 *              with the error; Twilio's delivery reports join it), kept a week
 *              like the record itself.
 *
 * Channels are rows of a table (outbox_channels.c): slack (DM), slack_channel (a post
 * into a channel; the notification's member is the channel id), slack_card
 * (an incident's card in a channel, posted once and then updated in place;
 * the text is the incident number: bot/incident_card.h), email (SMTP),
 * sms (Twilio, when configured); a Teams row plugs in the same way: a name, a
 * send function that gets the batch and says sent / retry / permanent, and
 * its limits. Each has a
 * per-person pace kept in Redis, so it holds across instances: Slack one
 * message a second per conversation; SMS and email a minimum gap and a cap
 * per hour (notify.sms_min_gap_s, notify.sms_per_hour, notify.email_...). A
 * message that comes too soon waits for its turn and goes out with whatever
 * piled up meanwhile. All HTTP and SMTP goes through the courier.
 * Thread-safety: enqueue from any thread with its own store. */
#ifndef WK_OUTBOX_H
#define WK_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/store.h"

#define OUTBOX_MAX_ATTEMPTS 5
/* A `sending` mark and a read stream entry are leased this long and renewed
 * every third of it by the heartbeat while the sender works: another instance
 * takes a dead one's work over within a lease and a second. */
#define OUTBOX_LEASE_MS 3000
#define OUTBOX_IDLE_MS 3000
/* The references of a notification's last attempts (comma-separated) kept for
 * looking an attempt up at the provider. */
#define OUTBOX_REFS_MAX 160
/* The most notifications one message bundles. */
#define OUTBOX_BUNDLE_MAX 10

struct outbox_message {
	const char *member;	/* member id */
	const char *channel;	/* "slack", "email" or "sms" */
	const char *fallback;	/* next channels, comma-separated, or "" */
	const char *kind;	/* "test", "handoff", "page", ... (logs, listing) */
	const char *subject;	/* email subject */
	const char *text;
	const char *dedupe;	/* "" = none */
	const char *page;	/* the page it belongs to (page.h), or "" / NULL; a page's
				 * messages are deduplicated per channel ("page:<id>:<channel>")
				 * unless dedupe is given */
	const char *buttons;	/* chat buttons, from outbox_buttons_encode(), or "" / NULL */
};

/* A reply's buttons in the form a notification carries them (at most
 * OUTBOX_BUTTONS_MAX bytes); -1 and "" when they don't fit. */
#define OUTBOX_BUTTONS_MAX 512
struct reply;
int outbox_buttons_encode(const struct reply *r, char *out, size_t size);

/* 0 queued (id filled), 1 duplicate (id of the first), 2 not queued because its
 * page is already acknowledged (id ""), -1 store failure. */
int outbox_enqueue(struct store *s, const char *org_id, const struct outbox_message *m,
		   int64_t now_ms, char *id, size_t idsize);

struct outbox_status {
	char id[24];
	char member[64];
	char channel[16];
	char kind[16];
	char status[12];	/* queued sending retry sent failed cancelled */
	char error[160];
	char provider_id[64];
	char provider_status[16];	/* from delivery reports (SMS): delivered, undelivered... */
	int64_t attempts, created_ms, updated_ms;
};

/* The Lua function wk_enqueue(p, queue, org, member, channel, fallback, kind,
 * subject, text, dedupe, page, now, buttons) behind outbox_enqueue(), for scripts that
 * queue notifications in the same atomic step as their own change (page.c). */
extern const char OUTBOX_ENQUEUE_LUA[];

int outbox_get(struct store *s, const char *org_id, const char *id, struct outbox_status *out);
/* The org's newest notifications, newest first. Caller frees. */
int outbox_recent(struct store *s, const char *org_id, size_t n, struct outbox_status **out,
		  size_t *count);

/* Channels this daemon can use for a member right now ("slack", "sms", "email"),
 * comma-separated into out; a channel without its settings (or the member
 * without the address) is left out. */
int outbox_channels_for(struct store *s, const struct config *cfg, const char *org_id,
			const char *member, char *out, size_t size);

/* What the console shows instead of sending: a message for member over a
 * channel this instance cannot reach. address is the phone or email it would
 * go to ("" for chat). Everything is only valid during the call, which runs on
 * a sender thread. */
struct outbox_preview {
	const char *org, *member;
	const char *channel;	/* "chat", "SMS", "email" */
	const char *address;
	const struct reply *reply;	/* text, and for chat the buttons */
};
typedef void (*outbox_preview_fn)(const struct outbox_preview *p);
/* With a preview (the console, before outbox_start()), every channel a person
 * has an address for is offered even without its provider's settings, and a
 * message on such a channel is shown instead of sent: its record says
 * `shown`, with "not configured here; shown in the console". NULL: none. */
void outbox_set_preview(outbox_preview_fn show);
/* Would a message on channel be shown in the console rather than sent? */
bool outbox_previewed(const struct config *cfg, const char *channel);

/* A place in chat where the bot posts for everyone there (an incident card, a
 * handoff notice): a Slack channel id (C.., G.., D..) or a Teams conversation
 * handle ("tc" and 16 hex digits, adapters/teams.h). The outbox channel that
 * posts there: "slack_channel" / "teams_channel", or for an incident card,
 * updated in place, "slack_card" / "teams_card". */
const char *outbox_place_channel(const char *place, bool card);

/* The channel that carries chat messages to people of a platform ("slack"
 * for "slack", "console" for "console"), NULL when there is none; and whether
 * a channel is one. */
const char *outbox_chat_channel(const char *platform);
bool outbox_is_chat_channel(const char *name);

/* Start the senders (and register the lease renewal with the heartbeat: call
 * before heartbeat_start()). 0 or -1. */
int outbox_start(const struct config *cfg);
/* Shutdown, in this order:
 *   outbox_drain_begin()  (any thread, e.g. the signal thread) senders take no
 *                         new entries; each finishes the batch in hand, and the
 *                         rest of its read goes back on the queue for others.
 *   outbox_drain(ms)      the same, then wait until ms after the drain began for
 *                         the senders to finish the calls in flight and record
 *                         their outcomes; false when some are still at it.
 *                         outbox_busy() says whether any sender is still at it
 *                         (the HTTP loop keeps answering 503 meanwhile).
 *   courier_cancel_calls() cuts off what is left: those attempts end with an
 *                         unknown outcome, recorded, and looked up by whoever
 *                         sends next (never blindly sent again).
 *   outbox_stop()         joins the senders.
 * Then engine_stop() and heartbeat_stop(): leases stay renewed until the end. */
void outbox_drain_begin(void);
bool outbox_drain(int64_t drain_ms);
bool outbox_busy(void);
void outbox_stop(void);

/* What happened to one notification, oldest first: queued, each attempt
 * (sending), retry/sent/failed/cancelled with the error, and the provider's
 * delivery reports (provider_id set). Caller frees. 0 (also for an unknown
 * id: nothing), -1 store failure. */
struct outbox_event {
	char status[16];
	char error[160];
	char provider_id[64];
	int64_t attempt, ts_ms;
};
int outbox_history(struct store *s, const char *org_id, const char *id, struct outbox_event **out,
		   size_t *count);

struct engine_ctx;
int outbox_retry_fire(struct engine_ctx *ctx);	/* timer kind "notify_retry" */

#endif
