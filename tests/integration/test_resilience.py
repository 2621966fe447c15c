"""Slow and missing Redis, shutdown with requests in flight. Each test has its own daemon."""

import http.client
import re
import signal
import threading
import time

from harness import (TEAM, check, check_eq, check_re, check_reply, own_world, short, test,
                     wait_until)


def readyz(w):
    try:
        return w.http("GET", "/readyz", timeout=2.0).status
    except (OSError, http.client.HTTPException):
        return None


@test("slow Redis: 200 acknowledgement at once, the real reply POSTed to response_url", world=False)
def _():
    with own_world(WK_REDIS_TIMEOUT_MS=5000, WK_SLACK_ACK_AFTER_MS=500) as w:
        # Control: with Redis fast the answer comes inline and nothing is posted.
        check_reply(w.command("", response_url=w.peer.url + "/commands/%s/1/fast" % TEAM))
        time.sleep(0.3)
        check_eq(len(w.peer.requests), 0, "requests at response_url when Redis is fast")

        url_path = "/commands/%s/2/slow" % TEAM
        pauser = w.redis.client()
        try:
            pauser("CLIENT", "PAUSE", 2600, "ALL")
            t0 = time.monotonic()
            r = w.command("", response_url=w.peer.url + url_path, timeout=5)
            check_eq(r.status, 200, "acknowledgement status (%r)" % short(r.body))
            check(r.elapsed <= 1.5, "acknowledgement took %.2f s (ack after 500 ms expected)" % r.elapsed)
            if r.body:  # an acknowledgement may be empty or a short JSON message
                check(r.header("content-type").startswith("application/json"),
                      "non-empty ack with Content-Type %r" % r.header("content-type"))
                r.json()
            got = w.peer.wait_for(1, timeout=8, path_prefix=url_path)
            check(got, "nothing POSTed to response_url within 8 s (redis paused 2.6 s)")
            req = got[0]
            check_eq(req["method"], "POST", "response_url method")
            ctype = req["headers"].get("content-type", "")
            check(ctype.startswith("application/json"), "response_url Content-Type %r" % ctype)
            js = req["json"]
            check(isinstance(js, dict), "response_url body is not a JSON object: %r" % short(req["body"]))
            check(js.get("response_type") in ("ephemeral", "in_channel"), "response_type %r" % js.get("response_type"))
            check(isinstance(js.get("text"), str) and js["text"], "response_url text %r" % js.get("text"))
            check_re(r"/oncall join", js["text"], "the real (status) reply")
            check(req["time"] - t0 >= 2.0, "reply posted %.2f s after the request, before Redis resumed?"
                  % (req["time"] - t0))
            time.sleep(0.3)
            check_eq(len(w.peer.wait_for(1, timeout=0, path_prefix=url_path)), 1, "POSTs to response_url")
        finally:
            pauser.close()


@test("SIGTERM with 8 requests blocked on Redis: all answered 200, exit 0, clean", world=False)
def _():
    with own_world(WK_REDIS_TIMEOUT_MS=5000) as w:
        w.oncall("")  # the org exists; connections are warm
        users = ["U0TERM%d" % i for i in range(8)]
        for u in users:
            w.add_member(u)
        results = {}

        def go(u):
            try:
                results[u] = w.command("join", u, timeout=10)
            except Exception as e:
                results[u] = e
        pauser = w.redis.client()
        try:
            pauser("CLIENT", "PAUSE", 1500, "ALL")
            threads = [threading.Thread(target=go, args=(u,)) for u in users]
            for t in threads:
                t.start()
            time.sleep(0.5)
            check(not results, "requests answered while Redis was paused: %r" % results)
            w.daemon.signal(signal.SIGTERM)
            for t in threads:
                t.join(12)
        finally:
            pauser.close()
        for u in users:
            res = results.get(u)
            check(res is not None and not isinstance(res, Exception), "request of %s: %s" % (u, res))
            check_eq(res.status, 200, "status of %s's request (%r)" % (u, short(res.body)))
        try:
            rc = w.daemon.proc.wait(15)
        except Exception:
            rc = None
        check_eq(rc, 0, "daemon exit code after SIGTERM")
        # Joins that were answered with a full reply must have been committed.
        done = [u for u in users
                if re.search(r"join|rotation", results[u].text, re.I)
                and not re.search(r"already|unavailable|try again|working", results[u].text, re.I)]
        rotation = w.rotation()
        missing = [u for u in done if u not in rotation]
        check(not missing, "answered but not stored: %r (rotation %r)" % (missing, rotation))
        # own_world's exit checks the sanitizer report


@test("Redis stopped and restarted: readyz 503 then 200, clear error, commands work again", world=False)
def _():
    with own_world() as w:
        check_reply(w.command("join", "U0ALICE"))
        w.redis.drop_client()
        w.redis.stop()
        st = wait_until(lambda: readyz(w) == 503, 3.5, 0.1)
        check(st, "/readyz did not answer 503 within 3 s of Redis stopping (last: %r)" % readyz(w))
        r = w.command("join", "U0BOB", timeout=5)
        check(r.status in (200, 503), "command during outage: HTTP %d %r" % (r.status, short(r.body)))
        check(r.body, "command during outage: empty body (HTTP %d)" % r.status)
        check(r.elapsed < 3.0, "command during outage took %.2f s (Slack gives up at 3 s)" % r.elapsed)
        if r.status == 200:
            reply = check_reply(r, "reply during outage")
            check_re(r"unavailable|not available|try again|store|storage|database|redis",
                     reply["text"], "reply during outage")

        w.redis.start()  # same directory, same socket path
        st = wait_until(lambda: readyz(w) == 200, 5.5, 0.1)
        check(st, "/readyz not 200 within 5 s of Redis restarting (last: %r)" % readyz(w))
        # Every worker must reconnect, not only the readiness probe. The new Redis is
        # empty: alice's first contact makes the org again; the others are invited.
        for u in ("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"):
            if u != "U0ALICE":
                w.add_member(u)
            reply = check_reply(w.command("join", u), "join as %s after restart" % u)
            check(u in w.rotation(), "join as %s after restart (readyz already 200) not stored; reply: %r"
                  % (u, reply["text"]))
        check_eq(w.rotation(), ["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"], "rotation after restart")
        check_eq(w.role("U0ALICE"), "owner", "alice's role in the new (empty) store")
        m = re.search(r"(?m)^watchkeeper_redis_errors_total(\{[^}]*\})? ([0-9.eE+]+)$",
                      w.http("GET", "/metrics").text)
        check(m and float(m.group(2)) >= 1, "watchkeeper_redis_errors_total not counted: %r" % (m and m.group(0)))


# A Lua script that keeps Redis busy (single-threaded: nobody else is served) for `ms`.
BUSY_LUA = ("local s = redis.call('TIME') local n repeat n = redis.call('TIME') "
            "until (n[1] - s[1]) * 1000000 + (n[2] - s[2]) >= tonumber(ARGV[1]) * 1000 return 1")


def busy_redis(w, ms):
    """Block Redis for ms from another connection; returns the thread (join it)."""
    c = w.redis.client(timeout=ms / 1000.0 + 10)

    def run():
        try:
            c("EVAL", BUSY_LUA, 0, ms)
        finally:
            c.close()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(0.2)  # the script is running
    return t


@test("Redis stalls mid-write: the reply says the outcome is unknown, and the write lands", world=False)
def _():
    # 700 ms: above the outbox's 500 ms blocking read, well below the 2 s stall.
    with own_world(WK_REDIS_TIMEOUT_MS=700) as w:
        check_reply(w.command("", team="T0WARM"))  # Redis knows the scripts now
        org_key = "wk:{slack:%s}:org" % TEAM
        check_eq(w.r("EXISTS", org_key), 0, "the org before")
        t = busy_redis(w, 2000)
        try:
            reply = check_reply(w.command("join", "U0ALICE", timeout=5), "join while Redis stalls")
        finally:
            t.join(15)
        text = reply["text"]
        check(not re.search(r"nothing was changed", text, re.I),
              "the reply claims nothing changed although the command went out: %r" % text)
        check_re(r"did not answer in time", text, "reply")
        check_re(r"may or may not", text, "reply")
        # The stalled command ran when Redis woke: the org (and Alice as its owner) exists,
        # so "may or may not" was the honest answer. The join itself did not run.
        check(wait_until(lambda: w.r("EXISTS", org_key), 3.0), "the org was not created after Redis woke")
        check_eq(w.role("U0ALICE"), "owner", "alice's role")
        check_eq(w.rotation(), [], "rotation (the join was not run)")
        # Running it again is safe and works.
        check_reply(w.command("join", "U0ALICE"), "join again")
        check_eq(w.rotation(), ["U0ALICE"], "rotation after trying again")


@test("Redis down: the reply says nothing was changed (the command never left)", world=False)
def _():
    with own_world() as w:
        check_reply(w.command("", "U0ALICE"))
        w.redis.drop_client()
        w.redis.stop()
        check(wait_until(lambda: readyz(w) == 503, 3.5, 0.1), "/readyz not 503 after Redis stopped")
        reply = check_reply(w.command("join", "U0ALICE", timeout=5), "join while Redis is down")
        check_re(r"nothing was changed", reply["text"], "reply")
        check(not re.search(r"may or may not", reply["text"], re.I), "reply: %r" % reply["text"])
        w.redis.start()


@test("Redis back after a long outage: /readyz is 200 within ~1 s of commands working again", world=False)
def _():
    with own_world() as w:
        check_reply(w.command("", "U0ALICE"))
        for rnd in range(2):
            w.redis.drop_client()
            w.redis.stop()
            check(wait_until(lambda: readyz(w) == 503, 3.5, 0.1), "round %d: /readyz not 503" % rnd)
            time.sleep(6.0)  # long enough for any reconnect backoff to reach its cap
            w.redis.start()

            def works():
                r = w.command("", "U0ALICE", timeout=5)
                return r.status == 200 and not re.search(r"database", r.text, re.I)
            check(wait_until(works, 10.0, 0.05), "round %d: commands did not work again" % rnd)
            t_ok = time.monotonic()
            st = wait_until(lambda: readyz(w) == 200, 3.0, 0.05)
            lag = time.monotonic() - t_ok
            check(st, "round %d: /readyz not 200 within 3 s of a command working" % rnd)
            check(lag <= 1.5, "round %d: /readyz turned 200 %.2f s after commands worked again" % (rnd, lag))
