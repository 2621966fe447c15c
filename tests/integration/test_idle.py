"""An idle daemon: nothing queued, no commands. Its error counter must stay at 0, so an alert
on watchkeeper_redis_errors_total only fires when something is wrong (issue 9: "expected
states are not errors"; NOGROUP before the notification stream exists is one)."""

import re
import signal
import subprocess
import time

from harness import ORG, check, check_eq, own_world, test, wait_until, wake_engines


def redis_errors(w):
    text = w.http("GET", "/metrics").text
    m = re.search(r"(?m)^watchkeeper_redis_errors_total(\{[^}]*\})? ([0-9.eE+]+)$", text)
    check(m, "no watchkeeper_redis_errors_total in /metrics")
    return float(m.group(2))


@test("idle daemon (no notification ever queued): watchkeeper_redis_errors_total stays 0 over 3 s",
      world=False)
def _():
    with own_world() as w:
        time.sleep(3.0)
        check_eq(w.r("EXISTS", "wk:{notify}:q"), 0, "test setup: the notification stream (wk:{notify}:q) exists")
        check_eq(redis_errors(w), 0.0, "watchkeeper_redis_errors_total of an idle daemon")


# Issue 13, idle: the senders and the engine wait in Redis for tens of seconds (XREADGROUP /
# XREAD BLOCK) instead of polling. That must cost nothing in reaction time or shutdown.

def posts(w):
    return [p for p in w.peer.requests if p["path"].startswith("/api/chat.postMessage")]


@test("an idle daemon whose senders and engine block in Redis exits within 2 s of SIGTERM, "
      "with and without the notification queue", world=False)
def _():
    for queue in (False, True):
        with own_world() as w:
            if queue:    # any notification ever queued leaves the stream behind
                w.r("XADD", "wk:{notify}:q", "*", "idle", "test")
            time.sleep(1.5)                  # everyone is in their long block by now
            t0 = time.monotonic()
            w.daemon.signal(signal.SIGTERM)
            try:
                rc = w.daemon.proc.wait(10)
            except subprocess.TimeoutExpired:
                rc = None
            took = time.monotonic() - t0
            check_eq(rc, 0, "exit code after SIGTERM (queue %s)" % queue)
            check(took < 2.0, "exit took %.2f s after SIGTERM (queue %s)" % (took, queue))


@test("a notification queued while every sender blocks is sent at once: the first one (the "
      "stream does not exist yet) and a later one", world=False)
def _():
    from test_outbox import ALICE, BOB, dm_routes
    with own_world() as w:
        w.oncall("", ALICE)
        w.add_member(BOB)
        w.peer.clear()
        dm_routes(w)
        check_eq(w.r("EXISTS", "wk:{notify}:q"), 0, "test setup: the notification stream exists")
        for i, user in enumerate((ALICE, BOB)):
            time.sleep(1.5)                  # the senders are back in their long block
            t0 = time.monotonic()
            check_eq(w.command("me test", user, timeout=5).status, 200, "me test as %s" % user)
            ok = wait_until(lambda: len(posts(w)) > i, 2.0, 0.02)
            check(ok, "the DM to %s was not sent within 2 s (posts: %d)" % (user, len(posts(w))))
            print("# sent %.2f s after `me test` (%s)" % (time.monotonic() - t0,
                                                        "no stream yet" if i == 0 else "stream exists"))


@test("an engine blocked in its long wait runs a new earliest timer on time (the wake stream), "
      "with the other instance stopped", world=False)
def _():
    with own_world() as w:
        other = w.another_daemon()
        try:
            w.daemon.signal(signal.SIGSTOP)  # only the other engine may claim it
            time.sleep(1.5)                  # the other engine waits for its next timer (minutes)
            due = int(time.time() * 1000) + 500
            # As timer_schedule() does: a timer that becomes the earliest adds to the wake stream.
            tid = "notify:%s:idle-wake" % ORG
            w.r("HSET", "wk:{timers}:t:" + tid, "kind", "notify_retry", "org", ORG, "payload", "x",
                "due_ms", str(due), "attempts", "0", "fence", "0")
            w.r("ZADD", "wk:{timers}", str(due), tid)
            wake_engines(w)
            gone = wait_until(lambda: not w.r("EXISTS", "wk:{timers}:t:" + tid), 3.0, 0.01)
            late = time.time() * 1000 - due
            check(gone, "the timer did not run within 2.5 s of its due time")
            check(late < 1000, "the timer ran %.0f ms after its due time" % late)
        finally:
            w.daemon.signal(signal.SIGCONT)
            other.stop()
