"""Issue 5 (first part): the notification queue. /oncall me test goes through the Redis Stream,
the senders and the channels; failures retry with backoff or fall back; two daemons send once."""

import json
import re
import threading
import time

from harness import ORG, check, check_eq, check_re, own_world, test
from fakes import FakeSMTP

ALICE, BOB = "U0ALICE", "U0BOB"
K = "wk:{%s}" % ORG


def note_keys(w):
    """The notification records (not their :events streams)."""
    return [k for k in w.r("KEYS", K + ":notification:n*") if not k.endswith(":events")]


def wait_status(w, status, timeout):
    """The key of the first notification in `status`, or None after timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for k in note_keys(w):
            if w.r("HGET", k, "status") == status:
                return k
        time.sleep(0.05)
    return None


def dm_routes(w, post_status=200, post_body=b'{"ok":true,"channel":"D0DM","ts":"1.2"}'):
    w.peer.route("/api/conversations.open", body=b'{"ok":true,"channel":{"id":"D0DM"}}')
    w.peer.route("/api/chat.postMessage", status=post_status, body=post_body)


def note(w, nid):
    return w.r.hgetall(K + ":notification:" + nid)


def me_test(w, user, timeout=15):
    """`/oncall me test`: it answers at once; the outcome of each channel comes later at the
    command's response_url. Returns that late reply as JSON text."""
    import harness
    path = "/commands/metest/%d" % int(time.monotonic() * 1e6)
    first = harness.check_reply(w.command("me test", user, response_url=w.peer.url + path), "me test")
    check_re(r"results follow", json.dumps(first), "the immediate answer")
    got = w.peer.wait_for(1, timeout=timeout, path_prefix=path)
    check(got, "me test: no result at the response_url after %d s" % timeout)
    return json.dumps(got[0]["json"])


@test("me test: a Slack DM and an email through the queue; each channel's outcome is reported", world=False)
def _():
    smtp = FakeSMTP()
    try:
        with own_world(WK_SMTP_URL="smtp+insecure://127.0.0.1:%d" % smtp.port,
                       WK_SMTP_FROM="Watchkeeper <oncall@example.com>") as w:
            w.oncall("", ALICE)
            w.oncall("me email alice@example.com", ALICE)
            dm_routes(w)
            t = me_test(w, ALICE)
            check_re(r"slack: \*sent\*", t, "slack outcome")
            check_re(r"email: \*sent\*", t, "email outcome")
            posts = w.peer.wait_for(1, timeout=5, path_prefix="/api/chat.postMessage")
            check(posts and "test page" in posts[0]["json"]["text"], "DM: %r" % posts)
            check(smtp.wait_for(1, timeout=5), "no mail at the fake SMTP server")
            ids = sorted(set(re.findall(r"`(n\d+)`", t)))
            check_eq(len(ids), 2, "two notifications")
            for nid in ids:
                h = note(w, nid)
                check_eq((h["status"], h["attempts"], h["kind"]), ("sent", "1", "test"), "record " + nid)
            check_re(r"test to <@%s> by (slack|email): \*sent\*" % ALICE,
                     json.dumps(w.oncall("notifications 5", ALICE)), "/oncall notifications")
    finally:
        smtp.close()


@test("a retryable failure (HTTP 500) is retried with backoff through the durable timer", world=False)
def _():
    with own_world() as w:
        w.oncall("", ALICE)
        # 500 twice, then ok: retried through the timer, sent on the third attempt
        calls = {"n": 0}

        def status(req):
            calls["n"] += 1
            return 500 if calls["n"] <= 2 else 200

        def body(req):
            return (b'{"ok":false,"error":"internal_error"}' if calls["n"] <= 2
                    else b'{"ok":true,"channel":"D0DM","ts":"1.2"}')
        dm_routes(w, post_status=status, post_body=body)
        w.command("me test", ALICE, timeout=5)     # still retrying: Slack gets an ack
        deadline = time.time() + 20
        nid = None
        while time.time() < deadline and not nid:
            for k in note_keys(w):
                h = w.r.hgetall(k)
                if h.get("channel") == "slack" and h.get("status") == "sent":
                    nid = h["id"]
            time.sleep(0.3)
        check(nid, "the Slack test page was never sent after two 500s")
        check_eq(note(w, nid)["attempts"], "3", "attempts")
        check_eq(calls["n"], 3, "chat.postMessage calls")
        # The history of that notification, step by step.
        t = w.oncall("notifications " + nid, ALICE)["text"]
        steps = re.findall(r"\u2022 [0-9.]+ s: (\w+)(?: \(attempt (\d)\))?", t)
        check_eq(steps, [("queued", ""), ("sending", "1"), ("retry", ""), ("sending", "2"), ("retry", ""),
                         ("sending", "3"), ("sent", "")], "history of %s: %s" % (nid, t[:600]))
        check_re(r"retry: Slack chat\.postMessage said internal", t, "the retry names the error")


@test("SMS test page through the queue to (fake) Twilio; the signed status callback marks it delivered; STOP drops the channel", world=False)
def _():
    from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio, signed_post, sms_params, status_params
    tw = FakeTwilio()
    try:
        with own_world(WK_TWILIO_ACCOUNT_SID=ACCOUNT_SID, WK_TWILIO_AUTH_TOKEN=AUTH_TOKEN, WK_TWILIO_FROM=FROM,
                       WK_TWILIO_API_URL=tw.url) as w:
            w.oncall("", ALICE)
            phone = "+15555550123"
            w.oncall("me phone " + phone, ALICE)
            check_eq(w.r("GET", "wk:phone:" + phone), "%s|%s" % (ORG, ALICE), "phone index")
            dm_routes(w)
            t = me_test(w, ALICE)
            check_re(r"sms: \*sent\*", t, "sms outcome")
            sent = [r for r in tw.requests if r.get("path", "").endswith("/Messages.json")]
            check(sent, "nothing at the fake Twilio: %r" % tw.requests[:2])
            form = {k: v[0] for k, v in (sent[-1].get("form") or {}).items()}
            check(sent[-1]["auth_ok"], "Basic auth")
            check_eq(form.get("To"), phone, "To")
            check_eq(form.get("From"), FROM, "From")
            check(form.get("StatusCallback", "").endswith("/twilio/status"), "StatusCallback %r" % form)
            sms_ids = [h["id"] for h in (w.r.hgetall(k) for k in note_keys(w))
                       if h.get("channel") == "sms"]
            check_eq(len(sms_ids), 1, "one sms notification")
            h = note(w, sms_ids[0])
            sid = h.get("provider_id", "")
            check(sid.startswith("SM"), "provider sid %r" % sid)
            check_eq(w.r.hgetall("wk:notify:sid:" + sid), {"org": ORG, "id": sms_ids[0]}, "sid mapping")
            r = signed_post(w.http, w.env["WK_PUBLIC_URL"], "/twilio/status",
                            status_params(sid, "delivered"))
            check_eq(r.status, 200, "status callback")
            check_eq(note(w, sms_ids[0]).get("provider_status"), "delivered", "provider status")
            metrics = w.http("GET", "/metrics").text
            check_re(r'watchkeeper_outbound_requests_total\{target="sms",outcome="sent"\} 1\b', metrics,
                     "sent counter")
            check_re(r'watchkeeper_outbound_requests_total\{target="sms",outcome="delivered"\} 1\b', metrics,
                     "delivered counter")
            check_re(r"test to <@%s> by sms: \*sent\* \(provider: delivered\), 1 attempt" % ALICE,
                     json.dumps(w.oncall("notifications", ALICE)), "the log shows the delivery report")
            r = signed_post(w.http, w.env["WK_PUBLIC_URL"], "/twilio/sms", sms_params(phone, "STOP"))
            check_eq(r.status, 200, "STOP")
            t = json.dumps(w.oncall("me test", ALICE))
            check("sms" not in t, "sms still offered after STOP: %s" % t[:300])
    finally:
        tw.close()


@test("two daemons on one Redis: every queued notification is sent exactly once", world=False)
def _():
    import harness
    with own_world() as w:
        w.team_mode(ALICE)
        users = ["U0OB%d" % i for i in range(12)]
        for u in users:
            w.add_member(u)
        second = w.another_daemon()
        port2 = second.port
        try:
            w.peer.clear()
            dm_routes(w)
            # Each user's test page: the two daemons' senders share one consumer group.
            for u in users:
                r = w.command("me test", u, timeout=5) if users.index(u) % 2 else \
                    harness.http_request(port2, "POST", "/slack/commands", *harness.slack_command("me test", user_id=u))
                check_eq(r.status, 200, "me test as %s" % u)
            deadline = time.time() + 10
            while time.time() < deadline:
                done = [w.r.hgetall(k) for k in note_keys(w)]
                if len(done) >= len(users) and all(h.get("status") == "sent" for h in done):
                    break
                time.sleep(0.2)
            notes = [w.r.hgetall(k) for k in note_keys(w)]
            check_eq(sorted(h["member"] for h in notes), sorted(users), "one notification per user")
            check(all(h["status"] == "sent" and h["attempts"] == "1" for h in notes), "records %r" % notes)
            posts = [p for p in w.peer.requests if p["path"].startswith("/api/chat.postMessage")]
            check_eq(len(posts), len(users), "chat.postMessage calls (%d users)" % len(users))
            # The queue is trimmed once everything is acknowledged, and /metrics says so.
            trimmed = harness.wait_until(lambda: w.r("XLEN", "wk:{notify}:q") == 0, 8)
            check(trimmed, "stream not trimmed: XLEN %r" % w.r("XLEN", "wk:{notify}:q"))
            # Each daemon refreshes its gauge every few seconds: wait for this one's.
            zero = harness.wait_until(lambda: re.search(r"(?m)^watchkeeper_notify_queue_depth 0$",
                                                        w.http("GET", "/metrics").text), 8)
            m = w.http("GET", "/metrics").text
            check(zero, "queue depth gauge never 0: %r" % re.findall(r"(?m)^watchkeeper_notify_queue.*$", m))
            check_re(r"(?m)^watchkeeper_outbound_requests_total\{target=\"slack\",outcome=\"sent\"\} 1[0-9]*$|"
                     r"outbound_requests_total\{target=\"slack\",outcome=\"sent\"\}", m, "per-channel counter")
            check(second.alive(), "the second daemon died")
        finally:
            second.stop()


@test("kill -9 while a notification is being sent: after a restart it is sent exactly once", world=False)
def _():
    with own_world(WK_TEST_NOTIFY_LEASE_MS=1500) as w:
        w.oncall("", ALICE)
        w.peer.clear()
        w.peer.route("/api/conversations.open", body=b'{"ok":true,"channel":{"id":"D0DM"}}', delay=4)
        w.command("me test", ALICE, timeout=5)          # the sender now hangs in conversations.open
        sending = wait_status(w, "sending", 5)
        check(sending, "no notification in `sending`")
        w.daemon.proc.kill()                             # SIGKILL mid-send
        w.daemon.proc.wait()
        check_eq([p for p in w.peer.requests if p["path"].startswith("/api/chat.postMessage")], [],
                 "posts before the kill")
        w.peer.clear()
        dm_routes(w)                                     # Slack answers at once again
        w.daemon.kill()
        w.daemon.start()
        deadline = time.time() + 15
        while time.time() < deadline and w.r("HGET", sending, "status") != "sent":
            time.sleep(0.2)
        h = w.r.hgetall(sending)
        # The test lease (1.5 s) is shorter than the hang (4 s), so the first daemon may
        # already have reclaimed it once; what matters is one post in the end.
        check(h["status"] == "sent" and int(h["attempts"]) >= 2, "record after the restart: %r" % h)
        posts = [p for p in w.peer.requests if p["path"].startswith("/api/chat.postMessage")]
        check_eq(len(posts), 1, "chat.postMessage calls after the restart")


@test("30 % random Slack failures: every notification ends sent, each person gets exactly one DM", world=False)
def _():
    import random
    import threading
    import harness
    rng = random.Random(42)
    lock = threading.Lock()
    delivered = {}
    with own_world() as w:
        w.team_mode(ALICE)
        users = ["U0FL%d" % i for i in range(20)]
        for u in users:
            w.add_member(u)
        w.peer.clear()
        w.peer.route("/api/conversations.open",
                     body=lambda req: b'{"ok":true,"channel":{"id":"D' + req["body"].split(b"=")[-1] + b'"}}')

        def status(req):
            with lock:
                fail = rng.random() < 0.3
                req["_fail"] = fail
                if not fail:
                    ch = req["json"]["channel"]
                    delivered[ch] = delivered.get(ch, 0) + 1
            return 500 if fail else 200

        def body(req):
            return b'{"ok":false,"error":"internal_error"}' if req.get("_fail") else b'{"ok":true,"ts":"1.2"}'
        w.peer.route("/api/chat.postMessage", status=status, body=body)
        for u in users:
            check_eq(w.command("me test", u, timeout=5).status, 200, "me test as %s" % u)
        ok = harness.wait_until(
            lambda: all(w.r("HGET", k, "status") in ("sent", "failed")
                        for k in note_keys(w)) and
            len(note_keys(w)) == len(users), 60)
        notes = [w.r.hgetall(k) for k in note_keys(w)]
        check(ok, "not all finished: %r" % sorted((h["member"], h["status"], h["attempts"]) for h in notes))
        check_eq(sorted(h["member"] for h in notes), sorted(users), "one notification per person")
        sent = [h for h in notes if h["status"] == "sent"]
        # With 5 attempts at 30 % failure, P(all fail) is 0.24 %: with seed 42 all succeed.
        check_eq(len(sent), len(users), "sent: %r" % [(h["member"], h["status"]) for h in notes])
        check_eq(sorted(delivered.values()), [1] * len(users), "DMs per person: %r" % delivered)
        check(any(int(h["attempts"]) > 1 for h in notes), "no retries happened at 30 %% failures")


@test("Slack pace: back-to-back messages to one person go out at least a second apart, none lost", world=False)
def _():
    import harness
    with own_world() as w:
        w.oncall("", ALICE)
        w.peer.clear()
        dm_routes(w)
        # Each test page is asked for once the previous one went out (`me test` answers at
        # once; three at once would pile up and go out as one bundled message).
        for i in range(3):
            check_eq(w.command("me test", ALICE, timeout=5).status, 200, "me test")
            harness.wait_until(lambda: len([p for p in w.peer.requests
                                            if p["path"].startswith("/api/chat.postMessage")]) > i, 5)
        ok = harness.wait_until(lambda: len([p for p in w.peer.requests
                                             if p["path"].startswith("/api/chat.postMessage")]) == 3, 15)
        posts = [p for p in w.peer.requests if p["path"].startswith("/api/chat.postMessage")]
        check(ok, "posts: %d of 3" % len(posts))
        times = sorted(p["time"] for p in posts)
        gaps = [b - a for a, b in zip(times, times[1:])]
        check(all(g >= 0.9 for g in gaps), "gaps between DMs to one person: %r" % gaps)
        notes = [w.r.hgetall(k) for k in note_keys(w)]
        check(all(h["status"] == "sent" for h in notes) and len(notes) == 3, "records %r" % notes)


@test("Redis stops taking writes right after a failed send: the entry stays pending and the retry still happens", world=False)
def _():
    with own_world(WK_TEST_NOTIFY_LEASE_MS=1500) as w:
        w.oncall("", ALICE)
        w.peer.clear()
        calls = {"n": 0}

        def status(req):
            calls["n"] += 1
            return 500 if calls["n"] == 1 else 200

        def body(req):
            return (b'{"ok":false,"error":"internal_error"}' if calls["n"] == 1
                    else b'{"ok":true,"channel":"D0DM","ts":"1.2"}')
        w.peer.route("/api/conversations.open", body=b'{"ok":true,"channel":{"id":"D0DM"}}')
        w.peer.route("/api/chat.postMessage", status=status, body=body, delay=1.0)
        # The pause lands during the first post: while it hangs, Redis stops taking writes
        # for 6 s, so the retry can't be recorded when the 500 arrives. (Writes before the
        # post, such as caching the DM channel, wait out their own 1 s timeout first: the
        # pause must outlast those and the post and then the record's own timeout.)
        threading.Thread(target=lambda: w.command("me test", ALICE, timeout=8), daemon=True).start()
        check(wait_status(w, "sending", 5), "no notification in `sending`")
        w.r("CLIENT", "PAUSE", "6000", "WRITE")
        nid = wait_status(w, "sent", 25)
        check(nid, "the notification was lost after Redis refused the retry: %r"
              % [w.r.hgetall(k) for k in note_keys(w)])
        check_eq(calls["n"], 2, "chat.postMessage calls (the 500, then one success)")
        check("event=notify.unrecorded" in w.daemon.stderr_text(), "no notify.unrecorded in the log")
