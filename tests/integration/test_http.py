"""HTTP surface: health, readiness, metrics, routing errors, body limits, ssl_check."""

import http.client
import re
import socket

from harness import check, check_eq, check_re, raw_http, short, slack_form, test

LIMIT = 65536  # WK_MAX_BODY_BYTES default


@test("GET /healthz answers 200")
def _(w):
    check_eq(w.http("GET", "/healthz").status, 200, "GET /healthz status")


@test("GET /readyz answers 200 while Redis is up")
def _(w):
    check_eq(w.http("GET", "/readyz").status, 200, "GET /readyz status")


@test("GET /metrics is Prometheus text with the documented series")
def _(w):
    # make sure there is something to count: one 200, one 404, one 401, one command
    w.http("GET", "/healthz")
    w.http("GET", "/no/such/route")
    w.http("POST", "/slack/commands", b"text=x", {"Content-Type": "application/x-www-form-urlencoded"})
    w.oncall("")
    r = w.http("GET", "/metrics")
    check_eq(r.status, 200, "GET /metrics status")
    check(r.header("content-type").startswith("text/plain"),
          "Content-Type %r, want text/plain" % r.header("content-type"))
    body = r.text
    for name in ("watchkeeper_build_info", "watchkeeper_redis_errors_total",
                 "watchkeeper_command_duration_seconds_bucket", "watchkeeper_http_requests_total"):
        check(re.search(r"(?m)^%s(\{[^}]*\})? [0-9.eE+-]+$" % name, body),
              "no sample line for %s in:\n%s" % (name, short(body, 1500)))

    def counter(route_part, status):
        for m in re.finditer(r'(?m)^watchkeeper_http_requests_total\{([^}]*)\} ([0-9.eE+]+)$', body):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            if route_part in labels.get("route", "") and labels.get("status") == status:
                return float(m.group(2))
        return 0
    check(counter("healthz", "200") >= 1, "no watchkeeper_http_requests_total{route=~healthz,status=\"200\"} >= 1")
    check(counter("slack", "401") >= 1, "no watchkeeper_http_requests_total{route=~slack,status=\"401\"} >= 1")
    check(re.search(r'(?m)^watchkeeper_command_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} [1-9]', body),
          "no non-zero le=\"+Inf\" bucket of watchkeeper_command_duration_seconds after a command")


@test("unknown path answers 404")
def _(w):
    for method, path in (("GET", "/nope"), ("POST", "/slack/commandsX"), ("GET", "/")):
        r = w.http(method, path)
        check_eq(r.status, 404, "%s %s status" % (method, path))


@test("wrong method answers 405")
def _(w):
    for method, path in (("GET", "/slack/commands"), ("POST", "/healthz"), ("POST", "/metrics")):
        r = w.http(method, path, b"" if method != "GET" else None)
        check_eq(r.status, 405, "%s %s status" % (method, path))


def big_form(n):
    body = b"text=" + b"a" * (n - 5)
    assert len(body) == n
    return body


@test("body over the limit with Content-Length answers 413, nothing stored")
def _(w):
    body = big_form(LIMIT + 4096)
    head = (b"POST /slack/commands HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
    r = raw_http(w.port, head, [body[i:i + 8192] for i in range(0, len(body), 8192)])
    check_eq(r.status, 413, "status")
    check_eq(w.r.snapshot("*"), {}, "Redis (every key but the background sweep timer)")
    check_eq(w.http("GET", "/healthz").status, 200, "healthz after 413")


@test("chunked body over the limit answers 413, nothing stored")
def _(w):
    head = (b"POST /slack/commands HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    chunks = [b"%x\r\ntext=\r\n" % 5]
    total = 5
    while total <= LIMIT + 4096:
        chunks.append(b"2000\r\n" + b"a" * 0x2000 + b"\r\n")
        total += 0x2000
    chunks.append(b"0\r\n\r\n")
    r = raw_http(w.port, head, chunks)
    check_eq(r.status, 413, "status")
    check_eq(w.r.snapshot("*"), {}, "Redis (every key but the background sweep timer)")
    check_eq(w.http("GET", "/healthz").status, 200, "healthz after 413")


@test("body just under the limit is read (signed, answered 200)")
def _(w):
    # A signed form of exactly LIMIT bytes (the padding goes into `text`): read, verified and
    # answered (the reply says the text is too long; any 200 will do here).
    base = slack_form("x")
    pad = LIMIT - len(base)
    body = base.replace(b"text=x", b"text=" + b"y" * (pad + 1))
    check_eq(len(body), LIMIT, "body length")
    r = w.post_signed(body)
    check_eq(r.status, 200, "status of a %d-byte body" % LIMIT)


@test("ssl_check=1 (unsigned) answers 200")
def _(w):
    r = w.http("POST", "/slack/commands", b"token=legacyTok&ssl_check=1",
               {"Content-Type": "application/x-www-form-urlencoded"})
    check_eq(r.status, 200, "status")
    check_eq(w.r.snapshot("*"), {}, "Redis (every key but the background sweep timer)")


@test("keep-alive: several requests on one connection")
def _(w):
    conn = http.client.HTTPConnection("127.0.0.1", w.port, timeout=5)
    try:
        for path, want in (("/healthz", 200), ("/nope", 404), ("/readyz", 200)):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            check_eq(resp.status, want, "GET %s on a reused connection" % path)
    finally:
        conn.close()


@test("a client that hangs up mid-request does not hurt the daemon")
def _(w):
    for partial in (b"POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\ntext=",
                    b"GET /heal", b"\x16\x03\x01\x00\xa5\x01\x00\x00"):
        s = socket.create_connection(("127.0.0.1", w.port), timeout=2)
        s.sendall(partial)
        s.close()
    check_eq(w.http("GET", "/healthz").status, 200, "healthz afterwards")
    check_re(r".", w.http("GET", "/metrics").text, "metrics afterwards")
