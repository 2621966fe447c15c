#!/usr/bin/python3
"""bench_socket.py - run by `make bench`: a slash command over Slack Socket Mode against the same
command over HTTP, in one run.

Issue 15's figure: the release daemon (build/watchkeeper) on a private Redis with Socket Mode on
against the Python fake Slack (tests/integration/fake_slack_socket.py). `/oncall` for a one-person
rotation, WK_BENCH_SOCKET_N times (default 400) each way:
  - one at a time: envelope sent -> ack with the answer received, against signed POST
    /slack/commands -> 200 with the answer (p50, p99);
  - pipelined: N envelopes written back to back on one connection, until every ack came, against
    N POSTs from 8 client threads (commands a second).
Both sides carry the same Python client's overhead, so the ratios are what to compare. Redis
round trips per command come from watchkeeper_redis_roundtrips_total."""

import os
import statistics
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("WK_BINARY", os.path.join(ROOT, "build", "watchkeeper"))

import harness  # noqa: E402
from fake_slack_socket import FakeSlackSocket, slash_payload  # noqa: E402

N = int(os.environ.get("WK_BENCH_SOCKET_N", "400"))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100.0))] * 1000.0


def roundtrips(w):
    return sum(harness.metric_counts(w, "watchkeeper_redis_roundtrips_total").values())


def http_once(w):
    body, headers = harness.slack_command("", response_url=w.peer.url + "/commands/T0TEST/1/abc")
    t0 = time.monotonic()
    r = harness.http_request(w.port, "POST", "/slack/commands", body, headers, timeout=10)
    assert r.status == 200 and "U0ALICE" in r.text, (r.status, r.text[:200])
    return time.monotonic() - t0


def socket_once(fake, url):
    conn = fake.latest()
    t0 = time.monotonic()
    eid = conn.envelope("slash_commands", slash_payload("", url))
    ack = fake.wait_ack(eid, 10)
    assert ack and "U0ALICE" in (ack["payload"] or {}).get("text", ""), ack
    return ack["time"] - t0


def main():
    fake = FakeSlackSocket()
    try:
        with harness.own_world(**fake.env()) as w:
            if not fake.wait_live(1, 10):
                print("bench_socket: no Socket Mode connection", file=sys.stderr)
                return 1
            w.oncall("join")
            url = fake.url + "/commands/T0TEST/bench"
            for _ in range(20):                 # warm-up: scripts loaded, caches filled
                http_once(w)
                socket_once(fake, url)

            rt0 = roundtrips(w)
            http_lat = [http_once(w) for _ in range(N)]
            rt1 = roundtrips(w)
            sock_lat = [socket_once(fake, url) for _ in range(N)]
            rt2 = roundtrips(w)

            conn = fake.latest()
            t0 = time.monotonic()
            eids = [conn.envelope("slash_commands", slash_payload("", url)) for _ in range(N)]
            ok = harness.wait_until(lambda: all(fake.acks_for(e) for e in eids), 60, 0.01)
            sock_s = time.monotonic() - t0
            if not ok:
                print("bench_socket: not every pipelined envelope was acked", file=sys.stderr)
                return 1

            per, left = N // 8, [0]
            lock = threading.Lock()

            def client():
                for _ in range(per):
                    http_once(w)
                    with lock:
                        left[0] += 1
            t0 = time.monotonic()
            threads = [threading.Thread(target=client) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            http_s = time.monotonic() - t0

            print("socket mode vs HTTP, /oncall (release build, Python clients on both sides, N=%d):" % N)
            print("  one at a time  HTTP p50 %.2f ms p99 %.2f ms | socket p50 %.2f ms p99 %.2f ms"
                  " | socket/HTTP p50 %.2f"
                  % (pct(http_lat, 50), pct(http_lat, 99), pct(sock_lat, 50), pct(sock_lat, 99),
                     statistics.median(sock_lat) / statistics.median(http_lat)))
            print("  pipelined      HTTP %.0f commands/s (8 threads) | socket %.0f commands/s (1 connection)"
                  " | socket/HTTP %.2f" % (per * 8 / http_s, N / sock_s, (N / sock_s) / (per * 8 / http_s)))
            print("  Redis round trips per command: HTTP %.2f, socket %.2f"
                  % ((rt1 - rt0) / N, (rt2 - rt1) / N))
    finally:
        fake.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
