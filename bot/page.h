/* page.h - a page: one alert to one person, through their contact rules,
 * until they acknowledge it.
 *
 * page_send() resolves the person's rules (contact.h) against what can reach
 * them now (outbox_channels_for: "chat" becomes their platform's channel; a
 * method without its address or settings is skipped), then
 *   - schedules one durable timer (kind "page_step", id page:<org>:<page id>)
 *     for the first step that has a delay, BEFORE anything is written, so a
 *     crash can't leave a page whose later steps never run;
 *   - in one script, writes wk:{org}:page:<id> and queues every step due now
 *     (outbox.h), each with the later channels as its fallback.
 * Every message of a page is deduplicated per channel ("page:<id>:<channel>", by
 * the outbox):
 * a fallback that already sent the email at once makes the email step a no-op.
 * The timer runs each step when its delay has passed, unless the page was
 * acknowledged, and re-arms itself for the next one.
 *
 * page_ack() marks it acknowledged (the Acknowledge button, an SMS reply
 * "ACK <n>"); nothing more is sent for it, and messages still queued are
 * cancelled by the outbox.
 *
 * Ids: "p<n>" from the org's sequence; people see and answer with <n>.
 * Keys: wk:{org}:page:<id>  hash  id member kind subject text steps created_ms
 *                                 incident acked_ms acked_by acked_via
 *       wk:{org}:page_dedupe:<key>  string  the page id sent under that key (7 days)
 * Thread: callers pass their own store. Errors: -1 = the store failed. */
#ifndef WK_PAGE_H
#define WK_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/config.h"
#include "bot/store.h"

struct page_message {
	const char *member;
	const char *kind;	/* "page", "incident", ... */
	const char *subject;	/* email subject */
	const char *text;	/* neutral markup (reply.h), already escaped */
	const char *dedupe;	/* NULL/"" = none; else a second page with it sends nothing */
	int64_t incident;	/* 0, or the incident it pages for: acking the page acks it */
	int64_t after_s;	/* 0, or start that much later (every contact step moves): the
				 * priority gap of /delegate, cancelled with the page on an ack */
};

/* 0 sent (id and plan filled: "chat now, SMS after 2 min"), 1 no way to reach
 * the person (plan says why), 2 a page with the same dedupe exists (id is
 * that page's; nothing was sent now), -1 store failure. */
int page_send(struct store *s, const struct config *cfg, const char *org_id,
	      const struct page_message *m, int64_t now_ms, char *id, size_t idsize, char *plan,
	      size_t plansize);

enum page_ack_result { PAGE_ACKED, PAGE_ALREADY, PAGE_NOT_FOUND, PAGE_NOT_YOURS };

/* by: the member acknowledging (must be the paged person); via: "chat", "sms". */
int page_ack(struct store *s, const char *org_id, const char *id, const char *by, const char *via,
	     int64_t now_ms, enum page_ack_result *out);
/* The incident a page was sent for: its number, 0 for none (or no such page), -1. */
int64_t page_incident(struct store *s, const char *org_id, const char *id);

/* The channel a contact rule's method ("chat", "sms", "email") uses, given the
 * channels that can reach the person now (outbox_channels_for(), which offers
 * a chat channel only for their own platform); false when none can. */
bool page_channel_for(const char *method, const char *available, char *out, size_t size);

struct engine_ctx;
int page_step_fire(struct engine_ctx *ctx);	/* timer kind "page_step" */

#endif
