"""test_slack_events.py - the Slack Events API (POST /slack/events, slack.md 1.4) end to end: the real
daemon, its Redis, and the fake peer as the Slack Web API (chat.postMessage, chat.postEphemeral,
views.publish). Signatures first, url_verification, an @mention answered in its thread, retries
done once (event_id), the Home tab, uninstalls, and malformed or oversized bodies."""

import json
import re
import time

from harness import (ORG, SECRET, TEAM, check, check_eq, check_re, free_port, metric_counts, run_cli, short,
                     slack_sign, test, wait_until)

ALICE = "U0ALICE"
BOT = "U0BOT"
K = "wk:{%s}" % ORG
TOKEN = "xoxb-integration-test"  # harness.daemon_env's WK_SLACK_BOT_TOKEN
CHANNEL = "C0EVENTS"

_seq = [0]


def new_event_id():
    _seq[0] += 1
    return "Ev%d%06d" % (int(time.time()) % 100000, _seq[0])


def envelope(event, event_id=None, team=TEAM):
    """An event_callback as Slack sends it (slack.md 1.4 fixture)."""
    return {"token": "legacyTok", "team_id": team, "api_app_id": "A0TEST", "type": "event_callback",
            "event": event, "event_id": event_id or new_event_id(), "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": team, "user_id": BOT, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False}


def mention(text, user=ALICE, ts=None, thread_ts=None, channel=CHANNEL):
    ts = ts or "%d.%06d" % (int(time.time()), _seq[0] + 100)
    e = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts}
    if thread_ts:
        e["thread_ts"] = thread_ts
    return e


def send(w, payload, retry=None, secret=SECRET, sign=True, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if sign:
        ts = int(time.time())
        headers.update({"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": slack_sign(secret, ts, body)})
    if retry is not None:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    return w.http("POST", "/slack/events", body, headers)


def calls(w, method, channel=None):
    """The fake Web API's requests to method (JSON bodies), oldest first."""
    return [r for r in w.peer.requests if r["path"] == "/api/" + method
            and (channel is None or (r["json"] or {}).get("channel") == channel)]


def wait_calls(w, method, n=1, channel=None, timeout=5.0):
    got = wait_until(lambda: len(calls(w, method, channel)) >= n and calls(w, method, channel), timeout)
    check(got, "no %s call%s; the peer saw %r" % (method, " to " + channel if channel else "",
                                                    [r["path"] for r in w.peer.requests]))
    return got


def blocks_text(msg):
    return json.dumps(msg.get("blocks", []), ensure_ascii=False)


def rotation_of_alice(w):
    """Alice starts the org and joins its rotation: she is on call now."""
    w.oncall("join", ALICE)
    check_re(r"On call now:\*? <@%s>" % ALICE, w.oncall("", ALICE)["text"], "the rotation /oncall shows")


# ---------------------------------------------------------------- authentication and shape

@test("events: a missing, forged or stale signature is refused with 401 and nothing is written or sent")
def _(w):
    rotation_of_alice(w)
    w.peer.clear()
    before = w.r.snapshot("*", background=True)
    payload = envelope(mention("<@%s> who is on call" % BOT))
    for what, kw in (("no signature", {"sign": False}), ("another secret", {"secret": "not-the-secret"})):
        r = send(w, payload, **kw)
        check_eq(r.status, 401, "status with %s (%s)" % (what, short(r.body)))
    body = json.dumps(payload).encode()
    old = int(time.time()) - 600
    r = w.http("POST", "/slack/events", body, {"Content-Type": "application/json",
                                                "X-Slack-Request-Timestamp": str(old),
                                                "X-Slack-Signature": slack_sign(SECRET, old, body)})
    check_eq(r.status, 401, "status 10 minutes late")
    r = send(w, {"type": "url_verification", "challenge": "c1"}, sign=False)
    check_eq(r.status, 401, "an unsigned url_verification")
    time.sleep(0.5)
    check_eq(w.r.snapshot("*", background=True), before, "Redis after refused events")
    check_eq(w.peer.requests, [], "Web API calls after refused events")


@test("events: url_verification is answered 200 with its challenge as JSON")
def _(w):
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    r = send(w, {"token": "legacyTok", "challenge": challenge, "type": "url_verification"})
    check_eq(r.status, 200, "status (%s)" % short(r.body))
    check(r.header("content-type").startswith("application/json"), "Content-Type %r" % r.header("content-type"))
    check_eq(r.json(), {"challenge": challenge}, "body")
    r = send(w, {"type": "url_verification"})
    check_eq(r.status, 400, "url_verification without a challenge")
    check_re(r"challenge", r.text, "the sentence")


@test("events: malformed JSON, an event_callback without event_id or team, and an oversized body get a clear "
      "4xx; nothing is written")
def _(w):
    before = w.r.snapshot("*", background=True)
    r = send(w, None, raw=b'{"type":"event_callback",')
    check_eq(r.status, 400, "status for truncated JSON")
    check_re(r"JSON object", r.text, "the sentence for truncated JSON")
    check_eq(r.header("x-slack-no-retry"), "1", "X-Slack-No-Retry on a 400")
    r = send(w, None, raw=b"token=x&type=event_callback")
    check_eq(r.status, 400, "status for a form body")
    bad = envelope(mention("<@%s> who" % BOT))
    del bad["event_id"]
    r = send(w, bad)
    check_eq(r.status, 400, "status without event_id")
    check_re(r"event_id", r.text, "the sentence without event_id")
    bad = envelope({"user": ALICE, "text": "x"})
    r = send(w, bad)
    check_eq(r.status, 400, "status for an event without a type")
    bad = envelope(mention("<@%s> who" % BOT), team="T0/../x")
    check_eq(send(w, bad).status, 400, "status for a malformed team_id")
    big = envelope(mention("<@%s> who " % BOT + "x" * 70000))
    r = send(w, big)
    check(r.status == 413, "oversized: %d %r" % (r.status, short(r.body)))
    r = send(w, {"type": "something_new", "x": 1})
    check_eq((r.status, r.body), (200, b""), "an envelope type we don't know")
    r = send(w, envelope({"type": "reaction_added", "user": ALICE}))
    check_eq((r.status, r.body), (200, b""), "an event type we don't handle")
    time.sleep(0.5)
    check_eq(w.r.snapshot("*", background=True), before, "Redis")
    check_eq(calls(w, "chat.postMessage"), [], "posts")


# ---------------------------------------------------------------- app_mention

@test("events: \"@bot who is on call\" is answered in the thread with chat.postMessage (channel, thread_ts, "
      "the on-call person, the bot token), and the HTTP answer comes first")
def _(w):
    rotation_of_alice(w)
    ev = mention("<@%s> who is on call?" % BOT, user=ALICE, ts="1700000010.000200")
    r = send(w, envelope(ev))
    check_eq((r.status, r.body), (200, b""), "the HTTP answer")
    check(r.elapsed < 1.0, "the 200 took %.2f s" % r.elapsed)
    got = wait_calls(w, "chat.postMessage", channel=CHANNEL)[0]
    msg = got["json"]
    check_eq(msg.get("thread_ts"), "1700000010.000200", "thread_ts (the mention's ts)")
    check_re(r"On call now:\*? <@%s>" % ALICE, msg.get("text", "") + blocks_text(msg), "the answer")
    check("response_type" not in msg, "a Web API message carries no response_type: %r" % short(msg))
    check_eq(got["headers"].get("authorization"), "Bearer " + TOKEN, "Authorization")
    check(got["headers"].get("content-type", "").startswith("application/json"), "Content-Type")
    # In a thread, the answer goes to that thread; another person's mention is kept for the command.
    ev = mention("<@%s>   oncall   when <@%s>" % (BOT, ALICE), ts="1700000020.000300",
                 thread_ts="1700000001.000100")
    send(w, envelope(ev))
    got = wait_calls(w, "chat.postMessage", 2, channel=CHANNEL)[1]["json"]
    check_eq(got.get("thread_ts"), "1700000001.000100", "thread_ts inside a thread")
    check_re(r"Next shifts of <@%s>" % ALICE, got.get("text", ""), "`oncall when @alice` answered about her")


@test("events: a retry of the same event (X-Slack-Retry-Num: 1) is answered 200 and does nothing twice")
def _(w):
    rotation_of_alice(w)
    payload = envelope(mention("<@%s> who is on call" % BOT))
    check_eq(send(w, payload).status, 200, "first delivery")
    wait_calls(w, "chat.postMessage", channel=CHANNEL)
    before = w.r.snapshot("*", background=True)
    for n in (1, 2):
        r = send(w, payload, retry=n)
        check_eq((r.status, r.body), (200, b""), "retry %d" % n)
    time.sleep(1.0)
    check_eq(len(calls(w, "chat.postMessage", channel=CHANNEL)), 1, "answers after two retries")
    check_eq(w.r.snapshot("*", background=True), before, "Redis after the retries")
    key = K + ":slack_event:" + payload["event_id"]
    ttl = w.r("TTL", key)
    check(86000 < ttl <= 86400, "the event_id is kept a day: TTL %r" % ttl)
    dup = metric_counts(w, "watchkeeper_commands_total")
    check_eq(dup.get('command="slack_event",subcommand="app_mention",outcome="duplicate"'), 2.0,
             "duplicates counted")
    check(dup.get('command="slack_event",subcommand="app_mention",outcome="received"', 0) >= 3,
          "received counted: %r" % dup)


@test("events: an answer only the asker may see goes to them ephemerally in the thread; the thread gets a note")
def _(w):
    rotation_of_alice(w)
    ev = mention("<@%s> oncall ical" % BOT, ts="1700000030.000400")
    send(w, envelope(ev))
    eph = wait_calls(w, "chat.postEphemeral")[0]["json"]
    check_eq((eph.get("channel"), eph.get("user"), eph.get("thread_ts")), (CHANNEL, ALICE, "1700000030.000400"),
             "the ephemeral message's channel, user and thread")
    check_re(r"/ical/", eph.get("text", "") + blocks_text(eph), "the feed URL in the ephemeral answer")
    note = wait_calls(w, "chat.postMessage", channel=CHANNEL)[0]["json"]
    check_eq(note.get("thread_ts"), "1700000030.000400", "the note's thread")
    check("/ical/" not in json.dumps(note), "the feed URL leaked into the thread: %r" % short(note))
    check_re(r"privately", note.get("text", ""), "the note")


@test("events: a mention written by another app, or without a user, is not run")
def _(w):
    rotation_of_alice(w)
    before = len(w.peer.requests)
    ev = mention("<@%s> oncall leave" % BOT)
    ev["bot_id"] = "B0OTHER"
    check_eq(send(w, envelope(ev)).status, 200, "status")
    time.sleep(0.5)
    check_eq(len(w.peer.requests), before, "Web API calls")
    check_eq(w.rotation(), [ALICE], "the rotation")


# ---------------------------------------------------------------- Home tab

@test("events: app_home_opened publishes a Home naming who is on call, the user's next shift and an open "
      "incident; a non-member gets how to join, and no org is made")
def _(w):
    rotation_of_alice(w)
    opened = w.command("open checkout returns 500", ALICE, command="/incident").json()
    check_re(r"INC-1", opened["text"], "the incident")
    r = send(w, envelope({"type": "app_home_opened", "user": ALICE, "channel": "D0HOME", "tab": "home",
                          "event_ts": "1700000040.000500"}))
    check_eq(r.status, 200, "status")
    got = wait_calls(w, "views.publish")[0]
    check_eq(got["headers"].get("authorization"), "Bearer " + TOKEN, "Authorization")
    body = got["json"]
    check_eq(body.get("user_id"), ALICE, "user_id")
    view = body.get("view", {})
    check_eq(view.get("type"), "home", "view type")
    blocks = view.get("blocks", [])
    check(0 < len(blocks) <= 100, "blocks: %d" % len(blocks))
    text = json.dumps(blocks, ensure_ascii=False)
    check_re(r"On call now:\*? <@%s>" % ALICE, text, "who is on call")
    check_re(r"Your next shifts.*→", text, "the shifts part with a shift in it")
    check_re(r"INC-1.*checkout returns 500", text, "the open incident")
    check(all(b.get("type") != "actions" for b in blocks), "buttons in the Home")
    for b in blocks:
        t = (b.get("text") or {}).get("text", "")
        check(len(t) <= 3000, "a block's text is %d characters" % len(t))
    # The messages tab is not the Home.
    send(w, envelope({"type": "app_home_opened", "user": ALICE, "channel": "D0HOME", "tab": "messages"}))
    # Someone of another workspace: how to join, nothing written there.
    send(w, envelope({"type": "app_home_opened", "user": "U0NEW", "channel": "D0NEW", "tab": "home"},
                     team="T0OTHER"))
    got = wait_calls(w, "views.publish", 2)
    check_eq(len(got), 2, "views.publish calls (the messages tab publishes none)")
    check_eq(got[1]["json"]["user_id"], "U0NEW", "user_id")
    check_re(r"not in this workspace's on-call yet.*invite join", json.dumps(got[1]["json"]), "the join Home")
    other = [k for k in w.r("KEYS", "wk:{slack:T0OTHER}:*") if ":slack_event:" not in k]
    check_eq(other, [], "keys of the other workspace besides its event record")


@test("events: with two teams the Home has each team's on-call under its name, and \"who is on call for ops\" "
      "answers for that team")
def _(w):
    w.team_mode(ALICE)
    w.invite("team create ops", ALICE)
    w.oncall("join", ALICE)
    made = w.oncall("rotation create night team ops members <@%s>" % ALICE, ALICE)
    check_re(r"night", made["text"], "rotation create in ops")
    send(w, envelope({"type": "app_home_opened", "user": ALICE, "channel": "D0HOME", "tab": "home"}))
    blocks = wait_calls(w, "views.publish")[0]["json"]["view"]["blocks"]
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    check_eq(headers, ["On call now: default", "On call now: ops", "Your next shifts", "Open incidents"], "headers")
    text = json.dumps(blocks, ensure_ascii=False)
    check_eq(len(re.findall(r"On call now:\*? <@%s>" % ALICE, text)), 2, "Alice on call in both teams: %s" % short(text))
    check_re(r"No open incidents", text, "no incidents")
    send(w, envelope(mention("<@%s> who's on call for OPS?" % BOT, ts="1700000050.000600")))
    got = wait_calls(w, "chat.postMessage", channel=CHANNEL)[0]["json"]
    check_eq(got["text"], w.oncall("now ops", ALICE)["text"], "the answer is `/oncall now ops`'s")


# ---------------------------------------------------------------- uninstall

@test("events: app_uninstalled and tokens_revoked are answered 200, logged, and keep the org's data")
def _(w):
    rotation_of_alice(w)
    members = w.members()
    r = send(w, envelope({"type": "app_uninstalled"}))
    check_eq((r.status, r.body), (200, b""), "app_uninstalled")
    r = send(w, envelope({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [BOT]}}))
    check_eq((r.status, r.body), (200, b""), "tokens_revoked")
    check(wait_until(lambda: len(re.findall(r"slack\.uninstalled.*token=forgotten",
                                            w.daemon.stderr_text())) >= 2, 5),
          "no uninstall log lines: %s" % w.daemon.stderr_tail(5))
    check_eq(w.members(), members, "the org's members")
    check_eq(w.rotation(), [ALICE], "the rotation")


# ---------------------------------------------------------------- manifest

@test("events: `watchkeeper manifest slack [--socket-mode]` subscribes to every event handled; only the HTTP "
      "variant has request URLs")
def _(w):
    env = dict(w.env, WK_LISTEN="127.0.0.1:%d" % free_port(), WK_PUBLIC_URL="https://wk.example")
    rc, http, err = run_cli(["manifest", "slack"], env)
    check_eq(rc, 0, "exit code (stderr %r)" % short(err))
    rc, sock, err = run_cli(["manifest", "slack", "--socket-mode"], env)
    check_eq(rc, 0, "exit code with --socket-mode (stderr %r)" % short(err))
    for name, m in (("HTTP", http), ("Socket Mode", sock)):
        events = re.search(r"    bot_events:\n((?:      - \S+\n)+)", m)
        check(events, "%s manifest without bot_events" % name)
        check_eq(re.findall(r"- (\S+)", events.group(1)),
                 ["app_mention", "app_home_opened", "app_uninstalled", "tokens_revoked"], "%s bot events" % name)
        check("      - app_mentions:read\n" in m, "%s manifest lacks app_mentions:read" % name)
        check("    - https://wk.example/slack/oauth/callback\n" in m, "%s manifest lacks the redirect URL" % name)
        check("home_tab_enabled: true" in m, "%s manifest without the Home tab" % name)
    check("request_url: https://wk.example/slack/events\n" in http, "the HTTP event request URL")
    check("socket_mode_enabled: false" in http, "HTTP: socket_mode_enabled")
    check("socket_mode_enabled: true" in sock, "Socket Mode: socket_mode_enabled")
    check("url:" not in sock, "request URLs in the Socket Mode manifest: %r" % re.findall(r".*url:.*", sock))
