"""test_socket_mode.py - Slack Socket Mode end to end: the real daemon dials a fake Slack
(fake_slack_socket.py: apps.connections.open + a pure-Python RFC 6455 server speaking the
envelope protocol of slack.md 1.5). Each test has its own daemon and fake."""

import contextlib
import json
import re
import time

from harness import (TEAM, check, check_eq, check_re, http_request, metric_counts, own_world, short, test,
                     wait_until)
import fake_slack_socket as fs
from fake_slack_socket import FakeSlackSocket, click_payload, event_payload, slash_payload

ORG = "wk:{slack:%s}" % TEAM
WORKING = "Working on it"


@contextlib.contextmanager
def socket_world(fake=None, wait_live=1, **env):
    """A daemon with Socket Mode on against a fake Slack; waits for wait_live connections."""
    fake = fake or FakeSlackSocket()
    try:
        with own_world(**dict(fake.env(), **env)) as w:
            w.fake = fake
            if wait_live:
                check(fake.wait_live(wait_live, 10), "no %d live connection(s) within 10 s; opens=%d conns=%d"
                      % (wait_live, len(fake.opens), len(fake.conns)))
            yield w
            if w.daemon.proc is not None:      # a test that stopped the daemon checked its log itself
                log = w.daemon.stderr_text()
                check(fs.TOKEN not in log, "the app token appears in the daemon log")
                check("ticket=" not in log, "a connection URL (its ticket) appears in the daemon log")
            check_eq(fake.rejected_tickets, [], "tickets refused (used twice or unknown)")
            check_eq(sum(c.unmasked for c in fake.conns), 0, "unmasked client frames")
    finally:
        fake.close()


def response_url(w, name):
    return w.fake.url + "/commands/%s/%s" % (TEAM, name)


def command(w, text, name, conn=None, **kw):
    """Send `/oncall text` as an envelope; returns (envelope_id, response_url path)."""
    path = "/commands/%s/%s" % (TEAM, name)
    conn = conn or w.fake.latest()
    eid = conn.envelope("slash_commands", slash_payload(text, w.fake.url + path, **kw))
    return eid, path


def metrics(w, name):
    return metric_counts(w, name)


@test("socket mode: a slash command is answered in its ack's payload, the same answer as over HTTP; "
      "acked once, nothing at response_url; metrics count it", world=False)
def _():
    with socket_world() as w:
        w.oncall("join")                       # over HTTP: org, owner, rotation with alice
        http_reply = w.oncall("")
        eid, path = command(w, "", "status")
        ack = w.fake.wait_ack(eid)
        check(ack, "no ack for the slash command")
        check_eq(ack["keys"], ["envelope_id", "payload"], "ack keys")
        payload = ack["payload"]
        check(isinstance(payload, dict) and payload.get("blocks"), "ack payload: %r" % short(payload))
        check_re(r"U0ALICE", payload["text"], "who is on call, in the ack")
        check_eq(payload["text"], http_reply["text"], "the same answer as POST /slack/commands")
        check_eq(payload["blocks"], http_reply["blocks"], "the same blocks as POST /slack/commands")
        time.sleep(0.5)
        check_eq(len(w.fake.acks_for(eid)), 1, "acks of the envelope")
        check_eq(w.fake.posts(path), [], "posts to response_url")
        check_eq(metrics(w, "watchkeeper_slack_socket_envelopes_total").get('type="slash_commands"'), 1.0,
                 "envelopes metric")
        check_eq(metrics(w, "watchkeeper_slack_socket_acks_total").get('kind="payload"'), 1.0, "acks metric")
        text = http_request(w.port, "GET", "/metrics").text
        check(re.search(r"^watchkeeper_slack_socket_connections 1$", text, re.M), "open connections gauge")
        # Slack's pings are answered (by lws), and the daemon pings on its own.
        c = w.fake.latest()
        c.ping(b"are you there")
        check(wait_until(lambda: c.pongs >= 1, 2), "Slack's ping was not answered with a pong")


@test("socket mode over TLS: wss:// to a server whose certificate chains to the trusted CAs works (the "
      "answer rides on the ack); with the certificate not trusted nothing connects", world=False)
def _():
    with socket_world(fake=FakeSlackSocket(tls=True)) as w:
        w.oncall("join")
        eid, path = command(w, "", "tls")
        ack = w.fake.wait_ack(eid)
        check(ack and isinstance(ack["payload"], dict), "no answer in the ack over wss://: %r" % ack)
        check_re(r"U0ALICE", ack["payload"]["text"], "who is on call, over wss://")
    # The same fake with the system's CAs only: its self-signed certificate must be refused.
    with socket_world(fake=FakeSlackSocket(tls=True), wait_live=0, WK_TEST_SLACK_SOCKET_CA_FILE="") as w:
        check(wait_until(lambda: len(w.fake.opens) >= 1, 10), "apps.connections.open was not called")
        time.sleep(2.0)
        check_eq(len(w.fake.conns), 0, "WebSocket connections made to an untrusted certificate")
        check(w.daemon.alive(), "the daemon died on a refused certificate")


@test("socket mode: a slow command is acked with 'Working on it', then answered once at response_url",
      world=False)
def _():
    with socket_world(WK_SLACK_ACK_AFTER_MS=500, WK_REDIS_TIMEOUT_MS=5000) as w:
        w.oncall("")
        pauser = w.redis.client()
        try:
            pauser("CLIENT", "PAUSE", 2000, "ALL")
            t0 = time.monotonic()
            eid, path = command(w, "", "slow")
            ack = w.fake.wait_ack(eid, 3)
            check(ack, "no ack within 3 s")
            check(ack["time"] - t0 < 1.5, "ack after %.2f s (ack_after_ms 500)" % (ack["time"] - t0))
            check_re(WORKING, json.dumps(ack["payload"]), "the early ack's payload")
            got = w.fake.wait_posts(path, 1, 8)
            check(got, "nothing posted to response_url")
            check_re(r"/oncall join", got[0]["json"]["text"], "the real answer at response_url")
            check(got[0]["time"] - t0 >= 1.8, "answer posted before Redis resumed?")
            time.sleep(0.5)
            check_eq(len(w.fake.posts(path)), 1, "posts to response_url")
            check_eq(len(w.fake.acks_for(eid)), 1, "acks of the envelope")
            check_eq(metrics(w, "watchkeeper_slack_socket_acks_total").get('kind="working"'), 1.0,
                     "working acks metric")
        finally:
            pauser.close()


@test("socket mode: the connection carrying a command drops before its ack: the answer goes once to "
      "response_url, and a new connection comes up", world=False)
def _():
    with socket_world(WK_SLACK_ACK_AFTER_MS=2500, WK_REDIS_TIMEOUT_MS=5000) as w:
        w.oncall("")
        old = w.fake.latest()
        pauser = w.redis.client()
        try:
            pauser("CLIENT", "PAUSE", 1200, "ALL")
            eid, path = command(w, "", "dropped", conn=old)
            time.sleep(0.2)
            old.drop()
            got = w.fake.wait_posts(path, 1, 8)
            check(got, "nothing posted to response_url after the drop")
            check_re(r"/oncall join", got[0]["json"]["text"], "the answer at response_url")
            check(w.fake.wait_live(1, 10, new_after=old.id), "no new connection after the drop")
            time.sleep(0.5)
            check_eq(len(w.fake.posts(path)), 1, "posts to response_url")
            check_eq(w.fake.acks_for(eid), [], "acks of an envelope whose connection was gone")
            check_eq(len(w.fake.opens), 2, "apps.connections.open calls")
        finally:
            pauser.close()


@test("socket mode: every envelope is acked exactly once across refresh_requested (the old connection "
      "acks until the new one said hello) and across a dropped connection", world=False)
def _():
    with socket_world() as w:
        f = w.fake
        w.oncall("")
        sent = []

        def burst(conn, tag):
            sent.append(conn.envelope("events_api", event_payload()))
            sent.append(conn.envelope("interactive", click_payload("oncall.nothing_here", response_url(w, tag))))
            sent.append(command(w, "", tag, conn=conn)[0])
        c1 = f.latest()
        burst(c1, "a")
        check(wait_until(lambda: all(f.acks_for(e) for e in sent), 5), "burst 1 not acked")
        f.auto_hello = False
        c1.disconnect("refresh_requested")
        check(wait_until(lambda: len(f.conns) >= 2, 5), "no second connection after refresh_requested")
        c2 = f.conns[-1]
        check(c1.alive, "the old connection closed before the new one said hello")
        burst(c1, "b")                       # the old one still serves meanwhile
        check(wait_until(lambda: all(f.acks_for(e) for e in sent), 5), "burst 2 (old connection) not acked")
        check(all(a["conn"] == c1.id for a in f.acks), "acks on a connection other than the one carrying them")
        f.auto_hello = True
        c2.send_hello()
        check(wait_until(lambda: not c1.alive, 5), "the old connection stayed open after the new one's hello")
        check_eq(c1.closed_by, "client", "who closed the old connection")
        burst(c2, "c")
        check(wait_until(lambda: all(f.acks_for(e) for e in sent), 5), "burst 3 (new connection) not acked")
        c2.drop()
        check(f.wait_live(1, 10, new_after=c2.id), "no connection after the drop")
        burst(f.latest(), "d")
        check(wait_until(lambda: all(f.acks_for(e) for e in sent), 5), "burst 4 not acked")
        time.sleep(0.5)
        check_eq({e: len(f.acks_for(e)) for e in sent if len(f.acks_for(e)) != 1}, {}, "envelopes not acked once")
        check_eq(len(f.opens), 3, "apps.connections.open calls (start, refresh, drop)")
        re_ = metrics(w, "watchkeeper_slack_socket_reconnects_total")
        check_eq(re_.get('reason="refresh_requested"'), 1.0, "reconnects for refresh_requested: %r" % re_)
        check_eq(re_.get('reason="dropped"'), 1.0, "reconnects for a dropped connection: %r" % re_)


@test("socket mode: a click redelivered on another connection (new envelope_id) runs once", world=False)
def _():
    with socket_world() as w:
        f = w.fake
        w.oncall("")                          # alice owns a solo org
        payload = click_payload("invite.team_mode", response_url(w, "click"))
        e1 = f.latest().envelope("interactive", payload)
        check(f.wait_ack(e1, 3), "no ack for the click")
        check_eq(f.acks_for(e1)[0]["payload"], None, "a click's ack carries no payload")
        first = f.latest()
        first.drop()
        check(f.wait_live(1, 10, new_after=first.id), "no second connection")
        e2 = f.latest().envelope("interactive", payload)
        check(f.wait_ack(e2, 3), "no ack for the redelivery")
        check(f.wait_posts("/commands/%s/click" % TEAM, 1, 5), "the click was not answered at response_url")
        time.sleep(1.0)
        check_eq(w.r("HGET", ORG + ":org", "mode"), "team", "org mode after the click")
        check_eq(len(f.posts("/commands/%s/click" % TEAM)), 1, "answers at response_url (two deliveries)")
        check(w.r.keys(ORG + ":replay:*"), "no replay record")
        # A new click (its own action_ts) is a new invocation and runs.
        again = click_payload("invite.team_mode", response_url(w, "click2"))
        f.latest().envelope("interactive", again)
        check(f.wait_posts("/commands/%s/click2" % TEAM, 1, 5), "a new click was not answered")


@test("socket mode: an events_api envelope is acked at once and handled like POST /slack/events: "
      "\"@bot who is on call?\" is answered in its thread; the event redelivered (new envelope, same "
      "event_id) is acked and answered no second time", world=False)
def _():
    with socket_world() as w:
        f = w.fake
        w.oncall("join")                       # over HTTP: org, owner, rotation with alice
        payload = event_payload()
        t0 = time.monotonic()
        eid = f.latest().envelope("events_api", payload, retry_attempt=0, retry_reason="")
        ack = f.wait_ack(eid, 3)
        check(ack and ack["time"] - t0 < 1.0, "events_api ack: %r" % ack)
        check_eq(ack["payload"], None, "an event ack's payload")
        posts = f.wait_posts("/api/chat.postMessage", 1, 5)
        check(posts, "no answer in the thread; requests %r" % [r["path"] for r in f.requests])
        msg = posts[0]["json"]
        check_eq((msg.get("channel"), msg.get("thread_ts")), ("C0TEST", payload["event"]["ts"]),
                 "posted in the mention's thread")
        check_re(r"U0ALICE", json.dumps(msg), "who is on call, in the thread")
        again = f.latest().envelope("events_api", payload, retry_attempt=1, retry_reason="timeout")
        check(f.wait_ack(again, 3), "the redelivery was not acked")
        time.sleep(1.0)
        check_eq(len(f.posts("/api/chat.postMessage")), 1, "answers after the redelivery")
        check_eq(metrics(w, "watchkeeper_slack_socket_envelopes_total").get('type="events_api"'), 2.0,
                 "envelopes metric")


@test("socket mode: link_disabled and too_many_websockets wait long (no hot loop); ratelimited waits "
      "Retry-After", world=False)
def _():
    fake = FakeSlackSocket()
    fake.open_answers = ["ratelimited"]
    fake.retry_after = 2
    with socket_world(fake, wait_live=2, WK_SLACK_SOCKET_CONNECTIONS=2) as w:
        opens = sorted(o["time"] for o in fake.opens)
        check_eq(len(opens), 3, "apps.connections.open calls (one ratelimited)")
        check(opens[2] - opens[0] >= 1.9, "the ratelimited slot tried again after %.2f s (Retry-After 2)"
              % (opens[2] - opens[0]))
        a, b = fake.live()[:2]
        a.disconnect("link_disabled")
        b.disconnect("too_many_websockets")
        check(wait_until(lambda: not a.alive and not b.alive, 5), "connections still open after the disconnects")
        time.sleep(4)
        check_eq(len(fake.opens), 3, "apps.connections.open calls in the 4 s after link_disabled/too_many_websockets")
        log = w.daemon.stderr_text()
        for reason in ("link_disabled", "too_many_websockets"):
            m = re.search(r"event=slack\.socket\.wait slot=\d reason=%s delay_ms=(\d+)" % reason, log)
            check(m and int(m.group(1)) >= 60000, "wait after %s: %r" % (reason, m and m.group(0)))


@test("socket mode: a refused token waits long; the daemon keeps serving HTTP", world=False)
def _():
    fake = FakeSlackSocket()
    fake.open_mode = "invalid_auth"
    with socket_world(fake, wait_live=0) as w:
        check(wait_until(lambda: fake.opens, 5), "apps.connections.open never called")
        time.sleep(3)
        check_eq(len(fake.opens), 1, "apps.connections.open calls after invalid_auth")
        check_re(r"event=slack\.socket\.open .*error=\"?invalid_auth", w.daemon.stderr_text(), "log line")
        check_eq(w.http("GET", "/healthz").status, 200, "healthz")


@test("socket mode: the daemon pings; a silent connection (no frame, no pong) is replaced", world=False)
def _():
    with socket_world(WK_TEST_SLACK_SOCKET_PING_MS=400, WK_TEST_SLACK_SOCKET_DEAD_MS=1500) as w:
        f = w.fake
        c = f.latest()
        check(wait_until(lambda: c.pings >= 2, 3), "the daemon sent %d pings in 3 s (every 400 ms)" % c.pings)
        c.ping(b"slack ping")
        check(wait_until(lambda: c.pongs >= 1, 2), "Slack's ping was not answered with a pong")
        time.sleep(2.0)
        check(c.alive, "a connection that answers pings was cut")
        c.silent = True
        check(f.wait_live(1, 6, new_after=c.id), "no new connection after the old one went silent")
        check(wait_until(lambda: not c.alive, 5), "the silent connection was not cut")
        re_ = metrics(w, "watchkeeper_slack_socket_reconnects_total")
        check_eq(re_.get('reason="silent"'), 1.0, "reconnects for silence: %r" % re_)


@test("socket mode: a ws:// URL is refused when slack.api_url is not on loopback", world=False)
def _():
    fake = FakeSlackSocket(host="127.0.0.2")
    with socket_world(fake, wait_live=0) as w:
        check(wait_until(lambda: fake.opens, 5), "apps.connections.open never called")
        time.sleep(1.5)
        check_eq(len(fake.conns), 0, "WebSocket connections made to a ws:// URL")
        check_re(r"event=slack\.socket\.url .*refusing an unencrypted ws://", w.daemon.stderr_text(), "log line")
        check_eq(len(fake.opens), 1, "apps.connections.open calls (a refused URL waits long)")


@test("socket mode alone: no signing secret needed, /slack/commands answers 401, commands work over the "
      "socket; SIGTERM closes the socket and exits clean", world=False)
def _():
    with socket_world(WK_SLACK_SIGNING_SECRET="") as w:
        f = w.fake
        r = w.command("")
        check_eq(r.status, 401, "POST /slack/commands without a signing secret")
        eid, path = command(w, "", "alone")
        ack = f.wait_ack(eid)
        check(ack and ack["payload"] and "Welcome" in ack["payload"]["text"], "ack: %r" % short(ack))
        c = f.latest()
        check(fs.TOKEN not in w.daemon.stderr_text(), "the app token in the log")
        w.daemon.stop()                        # raises on a non-zero exit or a sanitizer report
        check(wait_until(lambda: not c.alive, 3), "the socket stayed open after SIGTERM")
        check_eq(c.closed_by, "client", "who closed the socket at SIGTERM")


@test("socket mode: a slash command redelivered (same trigger_id, new envelope) runs once; the "
      "redelivery gets a plain ack and nothing at response_url", world=False)
def _():
    with socket_world() as w:
        f = w.fake
        w.oncall("")
        p = slash_payload("join", response_url(w, "join"), trigger_id="1700000000.42.feedbeef")
        e1 = f.latest().envelope("slash_commands", p)
        a1 = f.wait_ack(e1)
        check(a1 and a1["payload"], "first delivery: ack with the answer: %r" % short(a1))
        check_eq(w.rotation(), ["U0ALICE"], "rotation after the first delivery")
        e2 = f.latest().envelope("slash_commands", dict(p))
        a2 = f.wait_ack(e2)
        check(a2, "no ack for the redelivery")
        check_eq(a2["keys"], ["envelope_id"], "the redelivery's ack")
        time.sleep(0.5)
        check_eq(w.rotation(), ["U0ALICE"], "rotation after the redelivery")
        check_eq(f.posts("/commands/%s/join" % TEAM), [], "posts to response_url")
        check(w.r.keys(ORG + ":replay:*"), "no replay record")


@test("socket mode: a slash command redelivered minutes later to another instance (its clock 2 min on, as "
      "Slack's retry after a minute or five) runs once: its record is kept by its id, not by when it came",
      world=False)
def _():
    with socket_world() as w:
        f = w.fake
        w.oncall("")
        p = slash_payload("join", response_url(w, "late"), trigger_id="1700000000.43.feedcafe")
        a1 = f.wait_ack(f.latest().envelope("slash_commands", p))
        check(a1 and a1["payload"], "first delivery: ack with the answer: %r" % short(a1))
        # The instance that ran it goes away; Slack delivers again, later, to another one.
        last = max(c.id for c in f.conns)
        w.daemon.stop()
        later = w.another_daemon(WK_TEST_LOCAL_SKEW_MS="120000")
        try:
            check(f.wait_live(1, 10, new_after=last), "the second instance never connected")
            a2 = f.wait_ack(f.latest().envelope("slash_commands", dict(p)))
            check(a2, "no ack for the redelivery")
            check_eq(a2["keys"], ["envelope_id"], "the redelivery's ack (an answer means it ran again)")
            time.sleep(0.5)
            check_eq(f.posts("/commands/%s/late" % TEAM), [], "posts to response_url")
            own = [k for k in w.r.keys(ORG + ":replay:*") if len(k.rsplit(":", 1)[1]) == 32]
            check_eq(len(own), 1, "replay records kept by id: %r" % w.r.keys(ORG + ":replay:*"))
            ttl = w.r("PTTL", own[0])
            check(3500000 < ttl <= 3600000 + 2000, "the record lives for Socket Mode's hour: %r ms" % ttl)
        finally:
            later.stop()


@test("socket mode: slack.socket_connections=3 keeps three; a warning replaces only that one (new first, "
      "through an HTTP 429 with Retry-After)", world=False)
def _():
    fake = FakeSlackSocket()
    fake.open_answers = ["ok", "ok", "ok", "429"]
    fake.retry_after = 1
    with socket_world(fake, wait_live=3, WK_SLACK_SOCKET_CONNECTIONS=3) as w:
        check_eq(len(fake.live()), 3, "live connections")
        # The fake counts a connection live once it sent hello; the daemon, once it read it.
        check(wait_until(lambda: re.search(r"^watchkeeper_slack_socket_connections 3$",
                                           http_request(w.port, "GET", "/metrics").text, re.M), 5),
              "open connections gauge")
        a, b, c = fake.live()[:3]
        a.disconnect("warning")
        check(wait_until(lambda: len(fake.opens) >= 5, 5), "no new apps.connections.open after the 429")
        check(fake.opens[4]["time"] - fake.opens[3]["time"] >= 0.9,
              "retried %.2f s after a 429 with Retry-After: 1" % (fake.opens[4]["time"] - fake.opens[3]["time"]))
        check(fake.wait_live(1, 5, new_after=c.id), "no replacement connection")
        check(wait_until(lambda: not a.alive, 5), "the warned connection stayed open after its replacement's hello")
        check_eq(a.closed_by, "client", "who closed the warned connection")
        check(b.alive and c.alive, "the other connections were touched")
        time.sleep(0.5)
        check_eq(len(fake.live()), 3, "live connections after the warning")
        check_eq(len(fake.opens), 5, "apps.connections.open calls")
