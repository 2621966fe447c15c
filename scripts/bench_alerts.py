#!/usr/bin/python3
"""bench_alerts.py - run by `make bench`: Alertmanager payloads per second, deduplicated.

Issue 11's figure: the release daemon (build/watchkeeper) on a private Redis, one
Alertmanager integration; wrk posts the protocol file's fixture (the same group, so every
payload after the first is a repeat: token lookup, JSON, one Redis step that deduplicates)
at WK_BENCH_ALERTS_CONNS (default 16) connections for WK_BENCH_ALERTS_S (default 8) s.
For scale, the same run measures `GET /healthz` (the HTTP floor of this daemon, no Redis) with
the same wrk settings and prints the ratio. The lws + one-EVALSHA floor of issue 13 replaces
it once that exists. Target: at least 5,000 alerts/s."""

import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("WK_BINARY", os.path.join(ROOT, "build", "watchkeeper"))

import harness  # noqa: E402
from test_alerts import AM_FIXTURE, integration, incident  # noqa: E402

CONNS = os.environ.get("WK_BENCH_ALERTS_CONNS", "16")
SECONDS = os.environ.get("WK_BENCH_ALERTS_S", "8")


def wrk(url, script=None):
    args = ["wrk", "-t2", "-c" + CONNS, "-d" + SECONDS + "s", "--latency"]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=int(SECONDS) + 60).stdout
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return (float(rps.group(1)) if rps else 0.0,
            float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
            int(non2xx.group(1)) if non2xx else 0)


def main():
    w = harness.World(WK_LOG_LEVEL="warn")
    try:
        w.oncall("", "U0ALICE")
        incident(w, "service create api")
        _, path = integration(w, "alertmanager")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write('wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n'
                    % json.dumps(json.dumps(AM_FIXTURE)))
            script = f.name
        base = "http://127.0.0.1:%d" % w.port
        alerts, alerts_p99, bad = wrk(base + path, script)
        floor, floor_p99, _ = wrk(base + "/healthz")
        os.unlink(script)
        k = "wk:{%s}" % harness.ORG
        print("alerts: %.0f Alertmanager payloads/s deduplicated onto %s incident(s), p99 %.1f ms, %d non-2xx "
              "(wrk -c%s, %s s)" % (alerts, w.r("ZCARD", k + ":incs"), alerts_p99, bad, CONNS, SECONDS))
        print("alerts: GET /healthz floor %.0f req/s, p99 %.1f ms; alerts / floor = %.2f"
              % (floor, floor_p99, alerts / floor if floor else float("nan")))
    finally:
        w.close()


if __name__ == "__main__":
    main()
