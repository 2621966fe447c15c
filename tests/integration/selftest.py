#!/usr/bin/python3
"""selftest.py - check the harness itself, without the daemon:
signing against slack.md's fixture vectors, the form builder, the RESP client against a real
redis-server (via scripts/redis.sh), the FakePeer, raw_http. Run after changing harness.py:
  /usr/bin/python3 tests/integration/selftest.py
"""

import http.client
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (FakePeer, Redis, RespError, check, check_eq, raw_http, slack_command,  # noqa: E402
                     slack_sign)

FIXTURE_BODY = (
    "token=legacyTok&team_id=T0FIXTURE&team_domain=acme-oncall&enterprise_id=E0FIXTURE&channel_id=C0FIXTURE"
    "&channel_name=incidents&user_id=U0FIXTURE&user_name=alice&command=%2Foncall&text=ack+INC-42"
    "&api_app_id=A0FIXTURE&is_enterprise_install=false"
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0FIXTURE%2F1111%2FabcDEF"
    "&trigger_id=1111.2222.abcdef0123456789")


def t_sign():
    check_eq(slack_sign("fixture_signing_secret_do_not_use", 1700000000, FIXTURE_BODY),
             "v0=a4876ca8fa7ea2b649cb5e8de58cabf12b4f4cdbdec9feaffe1d56b9118b2c15", "fixture vector")


def t_form():
    body, h = slack_command("add <@U123|bob>", user_id="U0ALICE")
    s = body.decode()
    check("command=%2Foncall" in s, s)
    check("text=add+%3C%40U123%7Cbob%3E" in s, s)
    fields = urllib.parse.parse_qs(s, keep_blank_values=True)
    check_eq(fields["user_id"], ["U0ALICE"], "user_id")
    check_eq(fields["team_id"], ["T0TEST"], "team_id")
    check_eq(h["X-Slack-Signature"], slack_sign("integration_signing_secret_not_real",
                                                h["X-Slack-Request-Timestamp"], body), "signature")
    empty, _ = slack_command("")
    check("&text=&" in empty.decode(), "empty text field present")


def t_redis():
    r = Redis().start()
    try:
        c = r.r
        check_eq(c("PING"), "PONG", "PING")
        check_eq(c("CONFIG", "GET", "save"), ["save", ""], "no RDB saves")
        check_eq(c("CONFIG", "GET", "appendonly"), ["appendonly", "no"], "no AOF")
        check_eq(c("SET", "k", "v\r\nx"), "OK", "SET")
        check_eq(c("GET", "k"), "v\r\nx", "GET with CRLF inside")
        check_eq(c("GET", "nope"), None, "nil bulk")
        check_eq(c("RPUSH", "l", "a", "b"), 2, "int")
        check_eq(c("HSET", "h", "f", "1", "g", "2"), 2, "HSET")
        check_eq(r.r.hgetall("h"), {"f": "1", "g": "2"}, "hgetall")
        check_eq(c("LRANGE", "l", 0, -1), ["a", "b"], "array")
        c.send("MULTI")
        c.read()
        c.send("INCR", "k")
        c.read()
        c.send("EXEC")
        ex = c.read()
        check(isinstance(ex, list) and isinstance(ex[0], RespError), "nested error %r" % ex)
        try:
            c("NOSUCHCOMMAND")
            check(False, "error reply did not raise")
        except RespError as e:
            check("unknown command" in str(e).lower(), str(e))
        snap = c.snapshot("*")
        check_eq(snap["l"], ("list", ["a", "b"]), "snapshot list")
        # The engine's own sweep timer is background, not something a test wrote; other
        # timers are kept.
        c("ZADD", "wk:{timers}", 5, "sweep:handoffs", 7, "handoff:x")
        c("HSET", "wk:{timers}:t:sweep:handoffs", "kind", "handoff_sweep")
        c("ZADD", "wk:{timers}:leased", 9, "sweep:handoffs")
        snap = c.snapshot("*")
        check_eq(snap.get("wk:{timers}"), ("zset", ["handoff:x", "7"]), "timer queue without the sweep")
        check("wk:{timers}:t:sweep:handoffs" not in snap and "wk:{timers}:leased" not in snap,
              "sweep timer in a snapshot: %r" % sorted(snap))
        check("wk:{timers}:t:sweep:handoffs" in c.snapshot("*", background=True), "background=True")
        c("SET", "wk:{slack:T1}:replay:0af3", "1")
        check("wk:{slack:T1}:replay:0af3" not in c.snapshot("*"), "replay record in a snapshot")
        check(os.path.exists(r.sock), "socket exists")
        port_ok = r.port > 0
        check(port_ok, "port")
        r.stop()
        check(not os.path.exists(r.sock), "socket removed after stop")
        r.start()
        check_eq(r.r("DBSIZE"), 0, "restart with an empty store")
    finally:
        r.destroy()
    check(not os.path.exists(r.dir), "temp dir removed")


def t_peer():
    p = FakePeer()
    try:
        p.route("/api/chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"})
        conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=5)
        conn.request("POST", "/commands/x", body=json.dumps({"text": "hi"}),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        check_eq((resp.status, json.loads(resp.read())), (200, {"ok": True}), "default answer")
        conn.request("POST", "/api/chat.postMessage", body=b"channel=C1", headers={"Content-Type": "x"})
        resp = conn.getresponse()
        check_eq((resp.status, resp.getheader("Retry-After")), (429, "7"), "canned answer")
        resp.read()
        # chunked request body, on the same keep-alive connection
        conn.request("POST", "/chunked", body=iter([b"ab", b"cd"]), encode_chunked=True)
        conn.getresponse().read()
        conn.close()
        got = p.wait_for(3, timeout=2)
        check_eq([(g["method"], g["path"]) for g in got],
                 [("POST", "/commands/x"), ("POST", "/api/chat.postMessage"), ("POST", "/chunked")], "log")
        check_eq(got[0]["json"], {"text": "hi"}, "json")
        check_eq(got[0]["headers"]["content-type"], "application/json", "headers")
        check_eq(got[2]["body"], b"abcd", "chunked body")
        check_eq(p.wait_for(1, timeout=0.1, path_prefix="/nothing"), [], "prefix filter")
        r = raw_http(p.port, b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\n", [])
        check_eq(r.status, 200, "raw_http status")
        check_eq(json.loads(r.body), {"ok": True}, "raw_http body")
    finally:
        p.close()


def main():
    failed = 0
    for name, f in (("slack_sign fixture vector", t_sign), ("slash-command form", t_form),
                    ("redis.sh + RESP client", t_redis), ("FakePeer + raw_http", t_peer)):
        try:
            f()
            print("ok - " + name)
        except Exception as e:
            failed += 1
            print("not ok - %s: %s: %s" % (name, type(e).__name__, e))
    print("selftest-result failed=%d" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
