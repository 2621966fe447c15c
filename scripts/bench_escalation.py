#!/usr/bin/python3
"""bench_escalation.py - run by `make bench`: escalation steps executed end to end per second.

Issue 11's figure: WK_BENCH_INCIDENTS (default 2,000) incidents are opened through signed
`/incident open` requests with their first step WK_BENCH_STEP_DELAY_S (default 20) s ahead,
so that all the steps come due together after the opening traffic is over. Then the release
daemon (build/watchkeeper) runs them: claim, the team's chain from its rotation, a page with
its idempotency key, the incident's timeline, the outbox message. Prints steps/s and Redis
CPU per step (INFO cpu while the steps run; the outbox starts sending the DMs meanwhile, so
some of its work is in that figure too). The fake Slack takes the DMs; its pace per person
bundles them, which is not part of the steps/s figure."""

import os
import re
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("WK_BINARY", os.path.join(ROOT, "build", "watchkeeper"))

import harness  # noqa: E402
from fakes import FakeSlack  # noqa: E402

COUNT = int(os.environ.get("WK_BENCH_INCIDENTS", "2000"))
DELAY_S = int(os.environ.get("WK_BENCH_STEP_DELAY_S", "20"))


def redis_cpu(r):
    info = r("INFO", "cpu")
    return sum(float(m) for m in re.findall(r"^used_cpu_(?:sys|user):([0-9.]+)", info, re.M))


def main():
    w = harness.World(WK_LOG_LEVEL="warn", WK_INCIDENTS_STEP_DELAYS_S=str(DELAY_S))
    try:
        FakeSlack(w.peer)
        w.oncall("rotation create ops every 1d members <@U0ALICE>", "U0ALICE")
        t0 = time.time()
        errors = []

        def opener(k):
            for i in range(k, COUNT, 8):
                r = w.command("open bench outage %d" % i, "U0ALICE", command="/incident")
                if r.status != 200 or "Opened" not in r.text:
                    errors.append(r.status)

        threads = [threading.Thread(target=opener, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        opened_s = time.time() - t0
        if errors or opened_s > DELAY_S - 2:
            print("escalation: %d opens failed; opening took %.1f s of the %d s head start"
                  % (len(errors), opened_s, DELAY_S), file=sys.stderr)
        r = w.redis.client(timeout=30)
        # Steps still to run: the incidents' step timers, due or leased (the outbox's own
        # pacing timers for the DMs are not part of the figure).
        count = ("local c = 0 for _, k in ipairs({'wk:{timers}', 'wk:{timers}:leased'}) do "
                 "for _, id in ipairs(redis.call('ZRANGE', k, 0, -1)) do "
                 "if string.sub(id, 1, 4) == 'inc:' then c = c + 1 end end end return c")
        pending = lambda: int(r("EVAL", count, "0"))
        while time.time() < t0 + DELAY_S - 0.5:
            time.sleep(0.05)
        cpu0, start = redis_cpu(r), time.time()
        deadline = start + 120
        while time.time() < deadline and pending() > 0:
            time.sleep(0.1)
        took = time.time() - max(start, t0 + DELAY_S)
        cpu1 = redis_cpu(r)
        paged = len(r("KEYS", "wk:{%s}:page_dedupe:inc:*" % harness.ORG))
        print("escalation: %d steps (each: claim, chain, page, timeline, outbox) in %.2f s after they came due: "
              "%.0f steps/s; Redis CPU %.0f us per step" % (paged, took, paged / max(0.001, took),
                                                          1e6 * (cpu1 - cpu0) / max(1, paged)))
        r.close()
    finally:
        w.close()


if __name__ == "__main__":
    main()
