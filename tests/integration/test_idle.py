"""An idle daemon: nothing queued, no commands. Its error counter must stay at 0, so an alert
on watchkeeper_redis_errors_total only fires when something is wrong (issue 9: "expected
states are not errors"; NOGROUP before the notification stream exists is one)."""

import re
import time

from harness import check, check_eq, own_world, test


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
