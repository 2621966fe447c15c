"""Twilio webhooks (protocols/twilio.md 3.2-3.4): POST /twilio/status and POST /twilio/sms.

Every request is signed the way Twilio signs (fake_twilio.sign) for the daemon's
WK_PUBLIC_URL + path. A rejected request answers 403 and leaves Redis exactly as it was.
Sending (twilio_send_sms) has no chat entry point yet, so it is covered by unit tests;
fake_twilio.FakeTwilio is here for that path once it is wired.
"""

import re
import time
import xml.etree.ElementTree as ET

from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, sign, signed_post, sms_params, status_params
from harness import check, check_eq, check_re, own_world, short, test

ORG = "slack:T0TEST"
MEMBER = "U0ALICE"
PHONE = "+15005550006"
SID = "SM00000000000000000000000000000002"
NOTE_KEY = "wk:{%s}:notification:n-1" % ORG
EVENTS_KEY = NOTE_KEY + ":events"
ACTIONS_KEY = "wk:{%s}:sms_actions" % ORG


def twilio_world(**env):
    return own_world(WK_TWILIO_ACCOUNT_SID=ACCOUNT_SID, WK_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                     WK_TWILIO_FROM=FROM, **env)


def public(w):
    return w.env["WK_PUBLIC_URL"]


def post(w, path, params, **kw):
    return signed_post(w.http, public(w), path, params, **kw)


def twiml(resp, what):
    """Check a TwiML answer and return the <Message> text, or None for an empty Response."""
    check(resp.status == 200, "%s: expected 200, got %d %r" % (what, resp.status, short(resp.body)))
    ctype = resp.header("content-type")
    check(ctype.startswith("text/xml") or ctype.startswith("application/xml"),
          "%s: Content-Type %r" % (what, ctype))
    check(resp.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), "%s: no XML declaration" % what)
    try:
        root = ET.fromstring(resp.body)
    except ET.ParseError as e:
        raise AssertionError("%s: not well-formed XML (%s): %r" % (what, e, short(resp.body)))
    check_eq(root.tag, "Response", what + " root")
    msgs = root.findall("Message")
    check(len(msgs) <= 1 and len(root) == len(msgs), "%s: unexpected TwiML %r" % (what, short(resp.body)))
    return msgs[0].text if msgs else None


def snap(w):
    """Redis as a dict, without the notifier's own queue and the durable timers
    (other components' background work, such as the handoff sweep the engine arms
    at start-up whenever it gets to it, not something a webhook wrote)."""
    return {k: v for k, v in w.r.snapshot("*").items()
            if not k.startswith("wk:{notify}") and not k.startswith("wk:{timers}")}


def known_phone(w, phone=PHONE, member=MEMBER):
    """What the lead's /oncall me phone does: the profile field and the index entry."""
    w.r("HSET", "wk:{%s}:member:%s" % (ORG, member), "role", "owner", "phone", phone)
    w.r("SET", "wk:phone:" + phone, "%s|%s" % (ORG, member))


@test("twilio: without settings both routes answer 404 and write nothing")
def _(w):
    for path in ("/twilio/status", "/twilio/sms"):
        r = post(w, path, status_params(SID, "sent"))
        check_eq(r.status, 404, path + " status")
    check_eq(snap(w), {}, "Redis")


@test("twilio: signatures: bad, missing, wrong URL, other token, malformed -> 403, nothing written",
      world=False)
def _():
    with twilio_world() as w:
        known_phone(w)
        w.r("HSET", NOTE_KEY, "state", "sent")
        w.r("HSET", "wk:notify:sid:" + SID, "org", ORG, "id", "n-1")
        before = snap(w)
        good = sign(AUTH_TOKEN, public(w) + "/twilio/sms", sms_params(PHONE, "ACK 42"))
        flipped = good[:5] + ("A" if good[5] != "A" else "B") + good[6:]
        cases = [
            ("missing header", "/twilio/sms", sms_params(PHONE, "ACK 42"), {"signature": False}),
            ("empty header", "/twilio/sms", sms_params(PHONE, "ACK 42"), {"signature": ""}),
            ("one char changed", "/twilio/sms", sms_params(PHONE, "ACK 42"), {"signature": flipped}),
            ("body changed after signing", "/twilio/sms", sms_params(PHONE, "ACK 43"), {"signature": good}),
            ("signed for /twilio/status", "/twilio/sms", sms_params(PHONE, "ACK 42"),
             {"sign_url": public(w) + "/twilio/status"}),
            ("signed for another host", "/twilio/sms", sms_params(PHONE, "ACK 42"),
             {"sign_url": "https://bot.example.com/twilio/sms"}),
            ("another token", "/twilio/sms", sms_params(PHONE, "ACK 42"), {"token": "not_the_token"}),
            ("status: one char changed", "/twilio/status", status_params(SID, "delivered"),
             {"signature": flipped}),
            ("status: signed for /twilio/sms", "/twilio/status", status_params(SID, "delivered"),
             {"sign_url": public(w) + "/twilio/sms"}),
        ]
        for label, path, params, kw in cases:
            r = post(w, path, params, **kw)
            check_eq(r.status, 403, label + ": status")
            check_eq(snap(w), before, label + ": Redis after a rejected request")
        # A body the strict decoder refuses can't be verified either.
        r = w.http("POST", "/twilio/sms", b"Body=%zz&From=%2B15005550006",
                   {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": good})
        check_eq(r.status, 403, "malformed form: status")
        check_eq(snap(w), before, "malformed form: Redis")
        # The same parameters in another body order still verify (names are sorted).
        params = list(reversed(sms_params(PHONE, "HELP")))
        text = twiml(post(w, "/twilio/sms", params), "reordered body")
        check_re(r"ACK 42", text, "HELP answer")


@test("twilio: status callbacks are recorded on the notification, never backwards", world=False)
def _():
    with twilio_world() as w:
        w.r("HSET", NOTE_KEY, "state", "sent", "channel", "sms")
        w.r("HSET", "wk:notify:sid:" + SID, "org", ORG, "id", "n-1")
        check_eq(twiml(post(w, "/twilio/status", status_params(SID, "sent")), "sent"), None, "sent reply")
        h = w.r.hgetall(NOTE_KEY)
        check_eq(h.get("provider_status"), "sent", "provider_status after sent")
        check_eq(h.get("provider_error"), "", "provider_error after sent")
        check(h.get("provider_status_ms", "").isdigit(), "provider_status_ms: %r" % h)
        twiml(post(w, "/twilio/status", status_params(SID, "undelivered", 30003)), "undelivered")
        h = w.r.hgetall(NOTE_KEY)
        check_eq((h["provider_status"], h["provider_error"]), ("undelivered", "30003"), "after undelivered")
        # A late "queued" (out of order) is logged but does not move the status back.
        twiml(post(w, "/twilio/status", status_params(SID, "queued")), "late queued")
        h = w.r.hgetall(NOTE_KEY)
        check_eq((h["provider_status"], h["provider_error"]), ("undelivered", "30003"), "after late queued")
        check_eq(h["state"], "sent", "the sender's own fields are untouched")
        events = w.r("XRANGE", EVENTS_KEY, "-", "+")
        got = [dict(zip(e[1][0::2], e[1][1::2])) for e in events]
        check_eq([(e["status"], e["error"], e["sid"]) for e in got],
                 [("sent", "", SID), ("undelivered", "30003", SID), ("queued", "", SID)], "events stream")
        # Unknown sid, or a mapping whose notification is gone: 200, nothing written.
        before = snap(w)
        twiml(post(w, "/twilio/status", status_params("SM" + "9" * 32, "delivered")), "unmapped sid")
        w.r("HSET", "wk:notify:sid:SM" + "7" * 32, "org", ORG, "id", "n-gone")
        before = snap(w)
        twiml(post(w, "/twilio/status", status_params("SM" + "7" * 32, "delivered")), "gone notification")
        check_eq(snap(w), before, "Redis after callbacks for unknown notifications")
        # A hostile mapping can't steer keys outside the org.
        w.r("HSET", "wk:notify:sid:SM" + "8" * 32, "org", ORG + "}:x", "id", "../n-1")
        before = snap(w)
        twiml(post(w, "/twilio/status", status_params("SM" + "8" * 32, "failed", 30007)), "bad mapping")
        check_eq(snap(w), before, "Redis after a malformed mapping")


@test("twilio: ACK/RES/ESC <n> act on INC-<n> when the sender was paged for it; other numbers "
      "are refused with nothing written", world=False)
def _():
    with twilio_world(WK_INCIDENTS_STEP_DELAYS_S="0,60") as w:
        known_phone(w)
        before = snap(w)
        r = post(w, "/twilio/sms", sms_params(PHONE, "ACK 42"))
        check_eq(twiml(r, "ACK 42"), "You were not paged for incident 42, so this number can't act on it. "
                 "Reply with the number from your page.", "ACK for nothing of theirs")
        check_re(r"<Message>You were not paged for incident 42", r.text, "raw TwiML")
        for body in (" 7r\n", "esc9"):
            check_re(r"not paged for incident", twiml(post(w, "/twilio/sms", sms_params(PHONE, body)), body),
                     "RES/ESC for nothing of theirs")
        check_eq(snap(w), before, "Redis after actions on incidents that are not theirs")
        check_eq(w.r("EXISTS", ACTIONS_KEY), 0, "no sms_actions backlog any more")
        # Now an incident that pages them (the only person in the rotation).
        w.oncall("rotation create ops every 1d members <@%s>" % MEMBER, MEMBER)
        opened = w.command("open the disk is full", MEMBER, command="/incident").json()
        n = int(re.search(r"INC-(\d+)", opened["text"]).group(1))
        people = "wk:{%s}:inc:%d:people" % (ORG, n)
        deadline = time.time() + 5
        while time.time() < deadline and not w.r("SISMEMBER", people, MEMBER):
            time.sleep(0.05)
        check_eq(w.r("SISMEMBER", people, MEMBER), 1, "the member was paged for INC-%d" % n)
        check_eq(twiml(post(w, "/twilio/sms", sms_params(PHONE, "ACK %d" % n)), "ACK n"),
                 "Acknowledged INC-%d. Nobody else is paged for it." % n, "ACK for their incident")
        check_eq(w.r("HGET", "wk:{%s}:inc:%d" % (ORG, n), "state"), "acknowledged", "state after ACK by SMS")
        check_eq(twiml(post(w, "/twilio/sms", sms_params(PHONE, "ack %d" % n)), "ACK again"),
                 "INC-%d was already acknowledged." % n, "a second ACK")
        check_eq(twiml(post(w, "/twilio/sms", sms_params(PHONE, "RES %d" % n)), "RES n"),
                 "Resolved INC-%d." % n, "RES for their incident")
        check_eq(w.r("HGET", "wk:{%s}:inc:%d" % (ORG, n), "resolved_by"), MEMBER, "resolved by SMS")
        # Junk and HELP: how to answer, nothing written.
        before = snap(w)
        for body in ("what is going on <b>&amp;", "HELP", "", "ACK 42 " + "x" * 200):
            text = twiml(post(w, "/twilio/sms", sms_params(PHONE, body)), "junk %r" % body[:20])
            check_re(r"reply ACK 42", text, "help text")
        check_eq(snap(w), before, "Redis after junk")


@test("twilio: STOP/START set and clear the opt-out; unknown and stale senders write nothing",
      world=False)
def _():
    with twilio_world() as w:
        known_phone(w)
        optout = "wk:phone_optout:" + PHONE
        for stop, start in (("STOP", "START"), ("unsubscribe", "yes"), (" Quit ", "UNSTOP")):
            check_eq(twiml(post(w, "/twilio/sms", sms_params(PHONE, stop)), stop), None, stop + " reply")
            check(str(w.r("GET", optout) or "").isdigit(), "%s: opt-out not set" % stop)
            check_eq(twiml(post(w, "/twilio/sms", sms_params(PHONE, start)), start), None, start + " reply")
            check_eq(w.r("EXISTS", optout), 0, "opt-out after " + start)
        # Unknown phone: a polite answer, nothing written, whatever it says.
        before = snap(w)
        for body in ("ACK 42", "STOP", "hello"):
            text = twiml(post(w, "/twilio/sms", sms_params("+15005550999", body)), "unknown " + body)
            if body != "STOP":
                check_re(r"doesn't know this number", text, "unknown sender answer")
        check_eq(snap(w), before, "Redis after an unknown sender")
        # A stale index entry (the profile has another phone now) is an unknown sender.
        w.r("SET", "wk:phone:+15005550777", "%s|%s" % (ORG, MEMBER))
        before = snap(w)
        check_re(r"doesn't know", twiml(post(w, "/twilio/sms", sms_params("+15005550777", "ACK 1")), "stale"),
                 "stale index answer")
        # Malformed index values and a non-E.164 From: unknown, nothing written.
        w.r("SET", "wk:phone:+15005550888", "no-bar-here")
        before = snap(w)
        twiml(post(w, "/twilio/sms", sms_params("+15005550888", "ACK 1")), "malformed index")
        twiml(post(w, "/twilio/sms", sms_params("client:alice", "ACK 1")), "non-E.164 From")
        check_eq(snap(w), before, "Redis after unknown senders")
        check_eq(w.r("EXISTS", ACTIONS_KEY), 0, "sms_actions")
