/* twilio_webhooks.h - Twilio's two webhooks: delivery status callbacks and inbound SMS.
 *
 * Both routes (loop thread) decode the form strictly and check X-Twilio-Signature
 * against <public_url><path> before anything else happens: a bad or missing
 * signature, or a body that is not a clean form, answers 403 and writes nothing.
 * Without the Twilio settings (twilio_configured) both answer 404: the channel is
 * not offered. Redis work runs on a worker (http_call_begin/workers_submit).
 *
 * POST /twilio/status: MessageSid is looked up in hash wk:notify:sid:<sid>
 *   (fields "org" and "id", written by whoever sent the SMS). When it maps to an
 *   existing wk:{org}:notification:<id> hash, one script sets provider_status,
 *   provider_error (ErrorCode, "" when none) and provider_status_ms, and appends
 *   {sid, status, error, ts} to the stream wk:{org}:notification:<id>:events.
 *   Callbacks arrive out of order: a status never replaces a later one (queued <
 *   sending < sent < terminal); stale ones are still appended to the stream.
 *   Always 200 with an empty TwiML <Response/> once the signature is good.
 *
 * POST /twilio/sms: From is looked up in the phone index (twilio.h). A sender
 *   who is unknown, or whose member profile no longer has that phone, gets a
 *   polite TwiML answer and nothing is written. For a known sender:
 *     ACK/RES/ESC n -> acknowledge, resolve or escalate INC-n when the sender was
 *                      paged for it (incident.h); else ACK n acknowledges their
 *                      page p<n> (page.h); a TwiML answer says what happened
 *     STOP...       -> SET wk:phone_optout:<E164> <ms>; empty <Response/> (Twilio
 *                      itself confirms opt-outs, and blocks replies after STOP)
 *     START...      -> DEL wk:phone_optout:<E164>; empty <Response/> (Twilio confirms)
 *     HELP, other   -> TwiML with how to answer; nothing written
 *   Content-Type of every TwiML answer: text/xml; charset=utf-8. */
#ifndef WK_TWILIO_WEBHOOKS_H
#define WK_TWILIO_WEBHOOKS_H

#include "bot/http_server.h"

enum route_result twilio_route_status(struct http_request *req, struct http_response *resp);
enum route_result twilio_route_sms(struct http_request *req, struct http_response *resp);

/* Header order the routes ask for (see bot/routes.c). */
#define TWILIO_HEADERS { "x-twilio-signature", NULL, NULL, NULL }

#endif
