"""Replays (issue 9): a signed Slack request sent again with the very same bytes inside the
300 s window is answered 200 and does nothing: nothing written to Redis, nothing sent to any
peer. A new signature of the same command (what Slack sends when a person types it again)
runs as usual. Slack does not retry slash commands or button clicks; its Events API retries
carry new timestamps and signatures, so they are not replays by this definition."""

import json
import re
import time
import urllib.parse

from harness import TEAM, check, check_eq, check_re, check_reply, short, signed_headers, slack_form, test

ALICE, BOB = "U0ALICE", "U0BOB"
K = "wk:{slack:%s}" % TEAM


def signed_command(w, text, user=ALICE, command="/oncall", path="/commands/%s/r/1" % TEAM):
    """(body, headers) of one signed slash command; send them twice for a replay."""
    body = slack_form(text, user_id=user, command=command, response_url=w.peer.url + path)
    return body, signed_headers(body)


def send(w, body, headers, path="/slack/commands"):
    return w.http("POST", path, body, dict(headers))


def codes_in(reply):
    return sorted(set(re.findall(r"join ([a-z2-7]{32})", json.dumps(reply))))


@test("replay: the same signed `/invite link admin` twice mints one code; the replay gets 200 and nothing")
def _(w):
    w.team_mode(ALICE)
    body, headers = signed_command(w, "link admin", command="/invite")
    first = check_reply(send(w, body, headers), "first /invite link admin")
    check_eq(len(codes_in(first)), 1, "codes in the first reply")
    before = w.r.snapshot("*", background=True)
    w.peer.clear()

    again = send(w, body, headers)
    check_eq(again.status, 200, "status of the replay (%r)" % short(again.body))
    reply = check_reply(again, "replay")
    check_eq(codes_in(reply), [], "invite codes in the replay's reply")
    check_re(r"already", reply["text"], "the replay's reply")
    check_eq(w.r.snapshot("*", background=True), before, "Redis after the replay")
    time.sleep(0.3)
    check_eq(len(w.peer.requests), 0, "requests at the fake peer after the replay")

    # The replay record lives under the org's hash tag, in the set of the minute its
    # window ends in, which expires at the end of that minute: the signature's first 32
    # hex digits (128 bits).
    keys = [k for k in w.r.keys(K + ":replay:*")]
    check(keys, "no replay set under %s" % K)
    check(any(w.r("SISMEMBER", k, headers["X-Slack-Signature"][3:35]) for k in keys),
          "the request's signature is recorded in %r" % keys)
    ttl = w.r("PTTL", keys[0])
    check(0 < ttl <= 362000, "replay set TTL %r ms (the 300 s window, rounded up to the minute)" % ttl)

    # Typing the command again is a new request with a new signature: it runs.
    time.sleep(1.1)  # a new timestamp, so a new signature for the same bytes
    body2, headers2 = signed_command(w, "link admin", command="/invite")
    check(headers2["X-Slack-Signature"] != headers["X-Slack-Signature"], "test setup: same signature")
    second = check_reply(send(w, body2, headers2), "fresh /invite link admin")
    check_eq(len(codes_in(second)), 1, "codes in the fresh request's reply")
    check(codes_in(second) != codes_in(first), "the fresh request gave the same code")


@test("replay: a replayed `/oncall ical reset` does not hand out new feed URLs")
def _(w):
    w.oncall("", ALICE)
    body, headers = signed_command(w, "ical reset")
    first = check_reply(send(w, body, headers), "ical reset")
    check_re(r"/ical/", json.dumps(first), "feed URLs in the first reply")
    before = w.r.snapshot("*", background=True)
    again = check_reply(send(w, body, headers), "replayed ical reset")
    check(("/ical/" not in json.dumps(again)), "feed URL in the replay's reply: %r" % short(again["text"]))
    check_eq(w.r.snapshot("*", background=True), before, "Redis after the replay")


@test("replay: a replayed `/oncall page` pages once; a new signature pages again")
def _(w):
    w.add_member(BOB, "developer")
    w.peer.clear()
    w.peer.route("/api/conversations.open", body=b'{"ok":true,"channel":{"id":"D0DM"}}')
    w.peer.route("/api/chat.postMessage", body=b'{"ok":true,"channel":"D0DM","ts":"1.2"}')

    def dms():
        return [p for p in w.peer.requests if p["path"].startswith("/api/chat.postMessage")]

    def notes():
        return sorted(k for k in w.r.keys(K + ":notification:n*") if not k.endswith(":events"))

    body, headers = signed_command(w, "page <@%s> the database is down" % ALICE, user=BOB)
    first = check_reply(send(w, body, headers), "page")
    check_re(r"#\d+", first["text"], "page reply")
    check(w.peer.wait_for(1, timeout=10, path_prefix="/api/chat.postMessage"), "no DM for the page")
    pages = w.r.keys(K + ":page:*")
    notifications = notes()

    again = send(w, body, headers)
    check_eq(again.status, 200, "status of the replay")
    check(not re.search(r"#\d+", check_reply(again, "replay")["text"]), "the replay reports a page number")
    time.sleep(2.0)  # a second page's DM would go out at once ("chat now")
    check_eq(len(dms()), 1, "DMs after the replay")
    check_eq(w.r.keys(K + ":page:*"), pages, "page keys after the replay")
    check_eq(notes(), notifications, "notifications after the replay")

    time.sleep(1.1)  # a new timestamp, so a new signature for the same text
    body2, headers2 = signed_command(w, "page <@%s> the database is down" % ALICE, user=BOB)
    check(headers2["X-Slack-Signature"] != headers["X-Slack-Signature"], "test setup: same signature")
    check_re(r"#\d+", check_reply(send(w, body2, headers2), "fresh page")["text"], "fresh page reply")
    check(w.peer.wait_for(2, timeout=10, path_prefix="/api/chat.postMessage"), "no DM for the fresh page")


@test("replay: a replayed button click (/slack/actions) gets 200 and posts nothing to response_url")
def _(w):
    w.oncall("", ALICE)
    path = "/actions/%s/replay" % TEAM
    payload = {
        "type": "block_actions", "user": {"id": ALICE, "team_id": TEAM},
        "team": {"id": TEAM, "domain": "acme"}, "channel": {"id": "C0TEST", "name": "x"},
        "response_url": w.peer.url + path, "api_app_id": "A0TEST", "token": "legacyTok",
        "trigger_id": "1.2.3", "container": {"type": "message", "message_ts": "1.2"},
        "actions": [{"type": "button", "block_id": "wk_actions", "action_id": "oncall.join",
                     "value": "", "action_ts": "1.2"}],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    headers = signed_headers(body)
    r = send(w, body, headers, "/slack/actions")
    check_eq(r.status, 200, "first click")
    check(w.peer.wait_for(1, timeout=5, path_prefix=path), "no answer to the first click")
    check_eq(w.rotation(), [ALICE], "rotation after the click")
    before = w.r.snapshot("*", background=True)
    w.peer.clear()

    r = send(w, body, headers, "/slack/actions")
    check_eq(r.status, 200, "replayed click (%r)" % short(r.body))
    time.sleep(1.0)
    check_eq(len(w.peer.requests), 0, "requests at the fake peer after the replayed click")
    check_eq(w.r.snapshot("*", background=True), before, "Redis after the replayed click")


@test("replay: requests that differ only in signature are not replays of each other")
def _(w):
    # Two people typing the same thing in the same second differ in user_id; one person
    # typing the same thing again gets a new timestamp. Here: same text, other user.
    w.team_mode(ALICE)
    w.add_member(BOB, "developer")
    a_body, a_headers = signed_command(w, "join", user=ALICE)
    b_body, b_headers = signed_command(w, "join", user=BOB)
    check_reply(send(w, a_body, a_headers), "alice joins")
    check_reply(send(w, b_body, b_headers), "bob joins")
    check_eq(w.rotation(), [ALICE, BOB], "rotation")
    recorded = sum(w.r("SCARD", k) for k in w.r.keys(K + ":replay:*"))
    check(recorded >= 2, "one replay record per request: %d" % recorded)


@test("replay: a copy sent to another instance on the same Redis is refused too", world=False)
def _():
    import harness
    with harness.own_world() as w:
        w.team_mode(ALICE)
        second = w.another_daemon()
        port2 = second.port
        try:
            body, headers = signed_command(w, "link admin", command="/invite")
            first = check_reply(send(w, body, headers), "/invite link admin at the first instance")
            check_eq(len(codes_in(first)), 1, "codes in the first reply")
            before = w.r.snapshot("*", background=True)
            again = check_reply(harness.http_request(port2, "POST", "/slack/commands", body, dict(headers)),
                                "the same request at the second instance")
            check_eq(codes_in(again), [], "invite codes in the second instance's reply")
            check_eq(w.r.snapshot("*", background=True), before, "Redis after the copy")
        finally:
            second.stop()
