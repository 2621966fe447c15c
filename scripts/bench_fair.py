#!/usr/bin/python3
"""bench_fair.py - run by `make bench`: other users' latency while one user floods.

Issue 9's figure: with the fake Slack hung (every Web API call hangs), one user (org T0TEST)
keeps WK_BENCH_FAIR_FLOOD (default 40) `/oncall me test` in flight for WK_BENCH_FAIR_S
(default 10) seconds, while two other clients measure, one request at a time, another org's
plain `/oncall` and that org's calendar feed (`GET /ical/<token>.ics`). Prints their
p50/p99/max latency and the flood's own throughput. Release daemon (build/watchkeeper), a
private Redis and the integration harness's fakes (tests/integration/harness.py, stdlib only).
Another load on the machine skews the figures; the target is p99 under 50 ms."""

import json
import os
import re
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("WK_BINARY", os.path.join(ROOT, "build", "watchkeeper"))

import harness  # noqa: E402

FLOOD = int(os.environ.get("WK_BENCH_FAIR_FLOOD", "40"))
SECONDS = float(os.environ.get("WK_BENCH_FAIR_S", "10"))
ALICE, CAROL, OTHER = "U0ALICE", "U0CAROL", "T0OTHER"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else float("nan")


def main():
    w = harness.World(WK_LOG_LEVEL="warn")
    try:
        w.oncall("", ALICE)
        w.oncall("", CAROL, team=OTHER)
        w.oncall("join", CAROL, team=OTHER)
        token = re.findall(r"/ical/([0-9a-f]{48})\.ics", json.dumps(w.oncall("ical", CAROL, team=OTHER)))[0]
        for path in ("/api/conversations.open", "/api/chat.postMessage", "/api/users.info"):
            w.peer.route(path, delay=SECONDS + 30)
        stop = time.monotonic() + SECONDS
        flood_done = [0]
        lat = {"oncall": [], "feed": []}
        errors = []

        # The flood runs in child processes so its client threads don't share a GIL with
        # the measuring threads (that would be the client's latency, not the daemon's).
        import multiprocessing
        port, url = w.port, w.peer.url + "/commands/flood"
        done_q = multiprocessing.Queue()

        def flood_proc(nthreads):
            count = [0]

            def one():
                while time.monotonic() < stop:
                    try:
                        body, headers = harness.slack_command("me test", user_id=ALICE, response_url=url)
                        harness.http_request(port, "POST", "/slack/commands", body, headers, timeout=10)
                        count[0] += 1
                    except Exception:
                        pass
            ts = [threading.Thread(target=one, daemon=True) for _ in range(nthreads)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            done_q.put(count[0])

        procs = [multiprocessing.Process(target=flood_proc, args=(FLOOD // 4 + (i < FLOOD % 4),))
                 for i in range(4)]
        for p in procs:
            p.start()

        def measure(kind):
            while time.monotonic() < stop:
                t0 = time.monotonic()
                try:
                    if kind == "oncall":
                        r = w.command("", CAROL, team=OTHER, timeout=10)
                        ok = r.status == 200 and "Working on it" not in r.text
                    else:
                        r = w.http("GET", "/ical/%s.ics" % token, timeout=10)
                        ok = r.status == 200
                except Exception as e:
                    ok, r = False, e
                lat[kind].append(time.monotonic() - t0)
                if not ok:
                    errors.append((kind, str(r)[:120]))
                time.sleep(0.01)

        threads = [threading.Thread(target=measure, args=(k,), daemon=True) for k in ("oncall", "feed")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(SECONDS + 20)
        for p in procs:
            flood_done[0] += done_q.get(timeout=30)
            p.join(10)
        both = lat["oncall"] + lat["feed"]
        print("fairness bench: %d x `me test` in flight from one user for %.0f s, Slack hung; "
              "%d flood commands answered (%.0f/s)" % (FLOOD, SECONDS, flood_done[0], flood_done[0] / SECONDS))
        for kind, xs in (("other org /oncall", lat["oncall"]), ("feed /ical", lat["feed"]), ("both", both)):
            print("  %-18s n=%-5d p50=%6.1f ms  p99=%6.1f ms  max=%6.1f ms"
                  % (kind, len(xs), pct(xs, 50) * 1e3, pct(xs, 99) * 1e3, max(xs or [0]) * 1e3))
        print("  other users' p99 during the flood: %.1f ms (target < 50 ms); errors: %d"
              % (pct(both, 99) * 1e3, len(errors)))
        for e in errors[:5]:
            print("    error:", e)
    finally:
        w.daemon.kill()
        w.peer.close()
        w.redis.destroy()


if __name__ == "__main__":
    main()
