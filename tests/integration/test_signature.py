"""Request signing (slack.md 1.1): only correctly signed, fresh requests reach the store.

Each case is data: how to damage the headers of a valid /oncall join, and what must happen.
A rejected request answers 401 and writes nothing to Redis.
"""

import time

from harness import SECRET, check_eq, check_reply, slack_form, slack_sign, test


def headers_for(body, ts=None, secret=SECRET):
    ts = int(time.time()) if ts is None else ts
    return {"Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": slack_sign(secret, ts, body)}


def drop(name):
    def f(h, body):
        del h[name]
    return f


def set_header(name, value):
    def f(h, body):
        h[name] = value(h) if callable(value) else value
    return f


def flip_last_hex(h, body):
    sig = h["X-Slack-Signature"]
    h["X-Slack-Signature"] = sig[:-1] + ("0" if sig[-1] != "0" else "1")


def resign_at(offset):
    def f(h, body):
        ts = int(time.time()) + offset
        h["X-Slack-Request-Timestamp"] = str(ts)
        h["X-Slack-Signature"] = slack_sign(SECRET, ts, body)
    return f


REJECTED = [
    ("missing X-Slack-Signature", drop("X-Slack-Signature")),
    ("missing X-Slack-Request-Timestamp", drop("X-Slack-Request-Timestamp")),
    ("missing both headers", lambda h, b: (drop("X-Slack-Signature")(h, b), drop("X-Slack-Request-Timestamp")(h, b))),
    ("one hex digit changed", flip_last_hex),
    ("signed with another secret",
     lambda h, b: h.update({"X-Slack-Signature": slack_sign("wrong_secret", h["X-Slack-Request-Timestamp"], b)})),
    ("v1= prefix", set_header("X-Slack-Signature", lambda h: "v1=" + h["X-Slack-Signature"][3:])),
    ("upper-case hex", set_header("X-Slack-Signature", lambda h: "v0=" + h["X-Slack-Signature"][3:].upper())),
    ("truncated signature", set_header("X-Slack-Signature", lambda h: h["X-Slack-Signature"][:-2])),
    ("empty signature", set_header("X-Slack-Signature", "")),
    ("stale: 400 s old", resign_at(-400)),
    ("future: 400 s ahead", resign_at(+400)),
    ("non-numeric timestamp", set_header("X-Slack-Request-Timestamp", lambda h: h["X-Slack-Request-Timestamp"] + "x")),
    ("timestamp changed after signing", set_header("X-Slack-Request-Timestamp",
                                                   lambda h: str(int(h["X-Slack-Request-Timestamp"]) - 1))),
]


def make_rejected_test(label, damage):
    @test("signature: %s -> 401, nothing written" % label)
    def _(w):
        before = w.r.snapshot("*")
        body = slack_form("join", user_id="U0ALICE", response_url=w.peer.url + "/commands/x")
        h = headers_for(body)
        damage(h, body)
        r = w.http("POST", "/slack/commands", body, h)
        check_eq(r.status, 401, "status")
        check_eq(w.r.snapshot("*"), before, "Redis after a rejected request")
        check_eq(w.r.snapshot("wk:*"), {}, "wk:* keys")
        check_eq(len(w.peer.requests), 0, "requests at the fake peer")


for _label, _damage in REJECTED:
    make_rejected_test(_label, _damage)


@test("signature: body changed after signing -> 401, nothing written")
def _(w):
    body = slack_form("join", user_id="U0ALICE")
    h = headers_for(body)
    r = w.http("POST", "/slack/commands", body.replace(b"U0ALICE", b"U0MALLORY"), h)
    check_eq(r.status, 401, "status")
    check_eq(w.r.snapshot("*"), {}, "Redis (every key but the background sweep timer)")


@test("signature: valid and current -> 200 reply")
def _(w):
    body = slack_form("", user_id="U0ALICE", response_url=w.peer.url + "/commands/x")
    check_reply(w.http("POST", "/slack/commands", body, headers_for(body)))


@test("signature: 200 s old (inside the 300 s window) is accepted")
def _(w):
    body = slack_form("", user_id="U0ALICE", response_url=w.peer.url + "/commands/x")
    check_reply(w.http("POST", "/slack/commands", body, headers_for(body, ts=int(time.time()) - 200)))


@test("signature: 200 s ahead (inside the 300 s window) is accepted")
def _(w):
    body = slack_form("", user_id="U0ALICE", response_url=w.peer.url + "/commands/x")
    check_reply(w.http("POST", "/slack/commands", body, headers_for(body, ts=int(time.time()) + 200)))
