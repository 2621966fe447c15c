"""harness.py - drive the real watchkeeper binary against a real redis-server and fake peers.

Pieces (each usable on its own, see tests/README.md):
  Redis        a private redis-server started through scripts/redis.sh (temp dir, Unix
               socket + free loopback port, no persistence); .client() gives a Resp client.
  Resp         a tiny RESP client over the Unix socket (arrays, bulk, ints, errors).
  Daemon       the watchkeeper process: start with env, wait for GET /healthz, stop with
               SIGTERM and check exit code 0 and a clean sanitizer report.
  FakePeer     a threading HTTP server on 127.0.0.1:0 that records every request and
               answers with configurable canned responses (Slack response_url, Web API).
  World        Redis + FakePeer + Daemon wired together, plus request helpers.
  slack_sign(), slack_command()   build exactly what Slack sends.
  test()       the registry decorator run.py walks.

Only the Python standard library is used.
"""

import contextlib
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import resource
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

import fakes

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REDIS_SH = os.path.join(ROOT, "scripts", "redis.sh")
CONFIG = os.path.join(ROOT, "config", "watchkeeper.example.json")

SECRET = "integration_signing_secret_not_real"
TEAM = "T0TEST"
ORG = "slack:" + TEAM

SANITIZER_RE = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")


class TestFailure(AssertionError):
    pass


# ---------------------------------------------------------------- registry

TESTS = []  # (module, name, func, needs_world)


def test(name=None, world=True):
    """Register a test. `world=True` (default): the function takes the module's shared
    World, flushed before each test. `world=False`: it takes nothing and builds what it
    needs itself (for tests that stop the daemon or Redis)."""
    def register(func):
        TESTS.append((func.__module__, name or func.__name__, func, world))
        return func
    return register


# ---------------------------------------------------------------- assertions

def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: expected %r, got %r" % (what, want, got))


def check_re(pattern, text, what):
    if not re.search(pattern, text or "", re.I):
        raise TestFailure("%s: %r does not match /%s/" % (what, short(text), pattern))


def short(s, n=300):
    if isinstance(s, bytes):
        s = s.decode("utf-8", "replace")
    s = str(s)
    return s if len(s) <= n else s[:n] + "...(%d more)" % (len(s) - n)


def metric_counts(w, name):
    """{labels: value} of one family in w's /metrics (labels as written: 'command="x"')."""
    text = http_request(w.port, "GET", "/metrics").text
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^%s\{([^}]*)\} ([0-9.e+]+)$" % re.escape(name), text, re.M)}


def roundtrip_delta(w, action):
    """Redis round trips by command (watchkeeper_redis_roundtrips_total) while action() runs:
    {command: count}."""
    def counts():
        return {k.split('"')[1]: v for k, v in metric_counts(w, "watchkeeper_redis_roundtrips_total").items()}
    before = counts()
    action()
    after = counts()
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def wait_until(pred, timeout, interval=0.05):
    """Poll pred() until it returns a truthy value or timeout s pass; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- Redis

class RespError(Exception):
    """An error reply (-ERR ...) from Redis."""


# Timers the daemon arms by itself (bot/handoff.h HANDOFF_SWEEP_ID; bot/timers.h keys): the
# hourly handoff sweep is one timer shared by all instances, created by the engine shortly
# after start and re-armed each time it fires. Snapshots leave it out by default.
BACKGROUND_TIMERS = ("sweep:handoffs", "sweep:incidents")
TIMER_QUEUES = ("wk:{timers}", "wk:{timers}:leased")
BACKGROUND_TIMER_KEYS = tuple("wk:{timers}:t:" + t for t in BACKGROUND_TIMERS) + (
    "wk:{timers}:wake",  # the engines' wake-up stream: every earliest-timer change adds to it
    "wk:{timers}:test_clock_offset_ms",
    # The notification queue: a transport, whose acknowledged entries the daemon trims every
    # few seconds on its own; what was queued shows in wk:{org}:notification:<id>.
    "wk:{notify}:q")
REPLAY_KEY_RE = re.compile(r"^wk:\{[^}]*\}:replay:[0-9a-f]+$")


class Resp:
    """A minimal synchronous RESP2 client over a Unix socket."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.rf = self.sock.makefile("rb")

    def close(self):
        try:
            self.rf.close()
            self.sock.close()
        except OSError:
            pass

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def read(self):
        line = self.rf.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.rf.read(n + 2)
            return data[:-2].decode("utf-8", "surrogateescape")
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read() for _ in range(n)]
        raise ConnectionError("bad RESP type byte %r" % kind)

    def __call__(self, *args):
        """Run one command; error replies raise RespError (nested ones are returned)."""
        self.send(*args)
        r = self.read()
        if isinstance(r, RespError):
            raise r
        return r

    # conveniences used by tests
    def keys(self, pattern="*"):
        return sorted(self("KEYS", pattern))

    def hgetall(self, key):
        flat = self("HGETALL", key)
        return dict(zip(flat[0::2], flat[1::2]))

    def snapshot(self, pattern="wk:*", background=False):
        """Every matching key with its type and full value, for before/after comparisons.

        Without background=True the daemon's own bookkeeping is left out: the shared
        handoff sweep timer (BACKGROUND_TIMERS), which the engine arms by itself shortly
        after start and re-arms when it fires, whatever a test does, the notification queue's
        stream (trimmed on the daemon's own schedule), and the replay records
        (wk:{org}:replay:<minute>, sets of the signatures (their first 32 digits) of signed requests received,
        expiring after the minute their 300 s window ends in). "Nothing written" comparisons
        are about state, and must not depend on when the sweep runs or on the request that was
        refused being recorded as received."""
        snap = {}
        for k in self.keys(pattern):
            if not background and (k in BACKGROUND_TIMER_KEYS or REPLAY_KEY_RE.match(k)):
                continue
            t = self("TYPE", k)
            if t == "none":
                continue  # gone since KEYS (a timer's lease ending, say)
            if t == "string":
                v = self("GET", k)
            elif t == "hash":
                v = self.hgetall(k)
            elif t == "list":
                v = self("LRANGE", k, 0, -1)
            elif t == "set":
                v = sorted(self("SMEMBERS", k))
            elif t == "zset":
                v = self("ZRANGE", k, 0, -1, "WITHSCORES")
                if not background and k in TIMER_QUEUES:
                    pairs = [(m, sc) for m, sc in zip(v[0::2], v[1::2]) if m not in BACKGROUND_TIMERS]
                    if not pairs:
                        continue
                    v = [x for pair in pairs for x in pair]
            elif t == "stream":
                v = self("XRANGE", k, "-", "+")
            else:
                v = None
            snap[k] = (t, v)
        return snap


class Redis:
    """A private redis-server managed through scripts/redis.sh."""

    def __init__(self):
        # Short path: a Unix socket path must fit in 107 bytes.
        self.dir = tempfile.mkdtemp(prefix="wk-it-", dir="/tmp")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.url = "unix://" + self.sock
        self._client = None

    def start(self):
        r = subprocess.run([REDIS_SH, "start", self.dir], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("redis.sh start failed: " + r.stderr.strip())
        check_eq(r.stdout.strip(), self.url, "redis.sh start output")
        with open(os.path.join(self.dir, "redis.port")) as f:
            self.port = int(f.read())
        return self

    def stop(self):
        if self._client:
            self._client.close()
            self._client = None
        subprocess.run([REDIS_SH, "stop", self.dir], capture_output=True, timeout=30)

    def client(self, timeout=5.0):
        """A new connection (the caller closes it)."""
        return Resp(self.sock, timeout)

    @property
    def r(self):
        """The harness's own shared connection, reconnected after a restart."""
        if self._client is None:
            self._client = Resp(self.sock)
        return self._client

    def drop_client(self):
        if self._client:
            self._client.close()
            self._client = None

    def destroy(self):
        self.stop()
        for name in ("redis.log",):
            try:
                os.unlink(os.path.join(self.dir, name))
            except OSError:
                pass
        try:
            os.rmdir(self.dir)
        except OSError:
            pass


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body
        self.elapsed = elapsed

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise TestFailure("body is not JSON (%s): %r" % (e, short(self.body)))

    def __repr__(self):
        return "<HTTP %d %s>" % (self.status, short(self.body, 200))


def http_request(port, method, path, body=None, headers=None, timeout=5.0):
    """One request on a fresh connection; returns Response."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, hdrs, data, time.monotonic() - t0)
    finally:
        conn.close()


def raw_http(port, request_head, body_chunks, timeout=5.0):
    """Send a hand-made request (head bytes, then each chunk) and parse whatever answer
    arrives. The server may answer and close early (413), so send errors are tolerated
    and the answer is read anyway. Returns Response or raises TestFailure."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(request_head)
            for c in body_chunks:
                s.sendall(c)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
                head, sep, rest = data.partition(b"\r\n\r\n")
                if sep:
                    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                    if m and len(rest) >= int(m.group(1)):
                        break
                    if not m and not re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
                        # no length: the server closes when done (or sends no body)
                        if re.match(rb"HTTP/1\.\d (1\d\d|204|304)", head):
                            break
                    if re.search(rb"(?im)^transfer-encoding:\s*chunked", head) and rest.endswith(b"0\r\n\r\n"):
                        break
        except ConnectionResetError:
            pass
        except socket.timeout:
            pass
    finally:
        s.close()
    head, sep, rest = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.\d (\d{3})", head)
    if not m:
        raise TestFailure("no HTTP response (got %r)" % short(data))
    hdrs = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode("latin-1")
    return Response(int(m.group(1)), hdrs, rest, time.monotonic() - t0)


# ---------------------------------------------------------------- Slack wire format

def slack_sign(secret, ts, body):
    """Slack v0 request signature: v0= + hex HMAC-SHA256(secret, 'v0:{ts}:{body}')."""
    if isinstance(body, str):
        body = body.encode()
    base = b"v0:" + str(ts).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


_trigger_seq = [0]


def new_trigger_id():
    """A fresh trigger_id. Slack gives every slash command and click its own, so two
    deliveries never have the same bytes; the daemon refuses a second delivery of the same
    signed bytes as a replay."""
    _trigger_seq[0] += 1
    return "%d.%d.%x" % (os.getpid(), _trigger_seq[0], int(time.time() * 1e6))


def slack_form(text="", user_id="U0ALICE", team_id=TEAM, command="/oncall",
               response_url="https://hooks.slack.com/commands/T0TEST/1/abc",
               channel_id="C0TEST", user_name=None, trigger_id=None):
    """The form body of a slash command, fields in Slack's order (slack.md 1.2); a fresh
    trigger_id unless one is given."""
    trigger_id = trigger_id or new_trigger_id()
    fields = [
        ("token", "legacyTok"),
        ("team_id", team_id),
        ("team_domain", "acme-" + team_id.lower()),
        ("channel_id", channel_id),
        ("channel_name", "incidents"),
        ("user_id", user_id),
        ("user_name", user_name or user_id.lower()),
        ("command", command),
        ("text", text),
        ("api_app_id", "A0TEST"),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id),
    ]
    return urllib.parse.urlencode(fields).encode()


def signed_headers(body, secret=SECRET, ts=None):
    ts = int(time.time()) if ts is None else ts
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": slack_sign(secret, ts, body),
    }


def slack_command(text="", user_id="U0ALICE", team_id=TEAM, secret=SECRET, ts=None, **kw):
    """(body, headers) of a signed slash command with a current timestamp."""
    body = slack_form(text, user_id=user_id, team_id=team_id, **kw)
    return body, signed_headers(body, secret, ts)


def everything(reply):
    """All text a reply shows: fallback text plus every block (for searching)."""
    return reply.get("text", "") + "\n" + json.dumps(reply.get("blocks", []), ensure_ascii=False)


def check_reply(resp, what="reply"):
    """A slash-command message reply: 200, JSON, response_type, text, blocks. Returns dict."""
    check(resp.status == 200, "%s: expected HTTP 200, got %d %r" % (what, resp.status, short(resp.body)))
    ctype = resp.header("content-type")
    check(ctype.startswith("application/json"), "%s: Content-Type %r, want application/json" % (what, ctype))
    reply = resp.json()
    check(isinstance(reply, dict), "%s: JSON is not an object: %r" % (what, short(resp.body)))
    check(reply.get("response_type") in ("ephemeral", "in_channel"),
          "%s: response_type %r" % (what, reply.get("response_type")))
    check(isinstance(reply.get("text"), str) and reply["text"],
          "%s: missing fallback text: %r" % (what, short(resp.body)))
    blocks = reply.get("blocks")
    check(isinstance(blocks, list) and blocks and all(isinstance(b, dict) and b.get("type") for b in blocks),
          "%s: missing or malformed blocks: %r" % (what, short(resp.body)))
    return reply


# ---------------------------------------------------------------- fake peer

class FakePeer:
    """An HTTP server on 127.0.0.1:0 recording every request.

    peer.requests: list of dicts {method, path, headers (lower-case), body (bytes), json}
    peer.route(prefix, status, body, headers): canned answer for paths starting with prefix
    (longest prefix wins); default 200 {"ok":true} as application/json.
    """

    def __init__(self):
        self.requests = []
        self.routes = {}
        self.delays = {}
        self.cond = threading.Condition()
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls per request
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        n = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if n == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(n)
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _handle(self):
                body = self._body()
                try:
                    js = json.loads(body.decode("utf-8")) if body else None
                except ValueError:
                    js = None
                req = {"method": self.command, "path": self.path,
                       "headers": {k.lower(): v for k, v in self.headers.items()},
                       "body": body, "json": js, "time": time.monotonic()}
                status, rbody, rheaders = peer._answer(self.path, req)
                delay = peer._delay(self.path)
                if delay:
                    time.sleep(delay)  # a slow peer (route(..., delay=s))
                try:
                    self.send_response(status)
                    for k, v in rheaders.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(rbody)))
                    self.end_headers()
                    self.wfile.write(rbody)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                    return  # the client is gone (e.g. a killed daemon): no answer was delivered
                with peer.cond:
                    peer.requests.append(req)
                    peer.cond.notify_all()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.server = fakes.QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, prefix, status=200, body=b'{"ok":true}', headers=None, delay=0):
        """status and body may also be functions of the request dict (method, path, headers,
        body, json) returning them, for answers that depend on what was asked (or on how
        many came before). delay: seconds to wait before answering (a slow or hanging peer)."""
        if not callable(body):
            body = self._bytes(body)
        self.routes[prefix] = (status, body, headers or {"Content-Type": "application/json; charset=utf-8"})
        self.delays[prefix] = delay

    @staticmethod
    def _bytes(body):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        return body

    def _best(self, path):
        best = None
        for prefix in self.routes:
            if path.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        return best

    def _answer(self, path, req=None):
        best = self._best(path)
        if best is None and path.startswith("/api/conversations.history"):
            # A Slack that keeps no history for this peer: nothing it was asked to post is
            # there (fakes.FakeSlack keeps real history).
            return 200, b'{"ok":true,"messages":[],"has_more":false}', \
                {"Content-Type": "application/json; charset=utf-8"}
        if best is None:
            return 200, b'{"ok":true}', {"Content-Type": "application/json; charset=utf-8"}
        status, body, headers = self.routes[best]
        if callable(status):
            status = status(req)
        if callable(body):
            body = self._bytes(body(req))
        return status, body, headers

    def _delay(self, path):
        best = self._best(path)
        return self.delays.get(best, 0) if best is not None else 0

    def clear(self):
        with self.cond:
            self.requests = []
        self.routes = {}
        self.delays = {}

    def wait_for(self, count=1, timeout=5.0, path_prefix=""):
        """Wait until at least `count` requests whose path starts with path_prefix arrived."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests if r["path"].startswith(path_prefix)]
                left = deadline - time.monotonic()
                if len(got) >= count or left <= 0:
                    return got
                self.cond.wait(left)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- daemon

def daemon_binary():
    return os.environ.get("WK_BINARY") or os.path.join(ROOT, "build", "san", "watchkeeper")


class Daemon:
    """The watchkeeper process. stderr goes to a file so sanitizer output can be read."""

    def __init__(self, env, args=None, binary=None, nofile=None):
        self.binary = binary or daemon_binary()
        self.env = env
        self.nofile = nofile  # descriptor limit for the daemon, like `ulimit -n N`
        self.args = args if args is not None else ["-c", CONFIG]
        self.proc = None
        fd, self.stderr_path = tempfile.mkstemp(prefix="wk-it-stderr-", suffix=".log")
        os.close(fd)
        self.port = int(env["WK_LISTEN"].rsplit(":", 1)[1])
        self.stderr_seen = 0  # offset up to which sanitizer lines were already reported

    def start(self, timeout=15.0):
        self.errf = open(self.stderr_path, "ab")
        nofile = self.nofile

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen([self.binary] + self.args, env=self.env, cwd=ROOT,
                                     stdin=subprocess.DEVNULL, stdout=self.errf, stderr=self.errf,
                                     preexec_fn=limit if nofile else None)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise TestFailure("daemon exited with %d during start-up; stderr: %s"
                                  % (self.proc.returncode, self.stderr_tail()))
            try:
                if http_request(self.port, "GET", "/healthz", timeout=1.0).status == 200:
                    return self
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise TestFailure("GET /healthz did not answer 200 within %.0f s; stderr: %s"
                                  % (timeout, self.stderr_tail()))
            time.sleep(0.05)

    def stderr_text(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr_tail(self, n=15):
        lines = self.stderr_text().splitlines()
        return "\n".join(lines[-n:]) if lines else "(empty)"

    def new_sanitizer_report(self):
        """Sanitizer lines written since the last call (with some context), or ''."""
        text = self.stderr_text()
        new = text[self.stderr_seen:]
        self.stderr_seen = len(text)
        lines = new.splitlines()
        for i, line in enumerate(lines):
            if SANITIZER_RE.search(line):
                return "\n".join(lines[i:i + 25])
        return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15.0):
        """SIGTERM, wait, then check exit code 0 and no sanitizer report; raise TestFailure."""
        if self.proc is None:
            return
        problems = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            problems.append("did not exit within %.0f s of SIGTERM (killed)" % timeout)
        self.errf.close()
        if rc != 0 and not problems:
            problems.append("exit code %d after SIGTERM" % rc)
        report = self.new_sanitizer_report()
        if report:
            problems.append("sanitizer report:\n" + report)
        self.proc = None
        if problems:
            raise TestFailure("; ".join(problems) + " (full stderr: %s)" % self.stderr_path
                              + ("" if report else "\nstderr tail:\n" + self.stderr_tail()))
        os.unlink(self.stderr_path)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self.errf.close()
        self.proc = None


def daemon_env(redis_url, api_url, port=None, **extra):
    """The environment for a daemon: the parent's, minus any WK_*, plus test settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WK_")}
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    port = port or free_port()
    env.update({
        "WK_LISTEN": "127.0.0.1:%d" % port,
        "WK_PUBLIC_URL": "http://127.0.0.1:%d" % port,
        "WK_REDIS_URL": redis_url,
        "WK_SLACK_SIGNING_SECRET": SECRET,
        "WK_SLACK_BOT_TOKEN": "xoxb-integration-test",
        "WK_SLACK_API_URL": api_url,
        "WK_LOG_LEVEL": os.environ.get("WK_IT_LOG_LEVEL", "info"),
        "WK_ROTATION_TIMEZONE": "Europe/Berlin",
        "WK_ROTATION_HANDOFF": "monday 09:00",
    })
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


CLOCK_OFFSET_KEY = "wk:{timers}:test_clock_offset_ms"  # Redis's clock for timers, test builds only
TIMERS_WAKE_KEY = "wk:{timers}:wake"  # bot/timers.h: every engine blocks on it between claims


def wake_engines(w):
    """Make every engine claim again now, as the daemon's own scripts do when a timer becomes the
    earliest (an engine otherwise waits until the next timer it knows of, up to 10 s): for a test
    that writes timers straight into Redis or moves the timers' clock."""
    w.r("XADD", TIMERS_WAKE_KEY, "MAXLEN", "~", "100", "*", "t", "test")


def set_clock_offset(w, ms):
    """Move the daemon's timer clock (Redis's, test builds only) ms ahead; None: back to Redis's
    own. The engines look at their timers again at once."""
    if ms is None:
        w.r("DEL", CLOCK_OFFSET_KEY)
    else:
        w.r("SET", CLOCK_OFFSET_KEY, str(int(ms)))
    wake_engines(w)
LIVE = []  # Worlds not closed yet: run.py kills what is left when it is interrupted


def kill_leftovers():
    """Hard-stop every World still open (no checks): for an interrupted run."""
    for w in list(LIVE):
        w.daemon.kill()
        w.peer.close()
        w.redis.destroy()
        try:
            os.unlink(w.daemon.stderr_path)
        except OSError:
            pass
        LIVE.remove(w)


class World:
    """A private Redis, a FakePeer (Slack Web API and response_url target) and the daemon."""

    def __init__(self, nofile=None, **env_overrides):
        """nofile: the daemon's descriptor limit (as `ulimit -n`), default inherited."""
        self.redis = Redis().start()
        # The engine follows Redis's clock; tests move that clock with a key the
        # test build's scripts read (bot/timers.h), set before the daemon starts.
        offset = env_overrides.pop("WK_TEST_CLOCK_OFFSET_MS", None)
        if offset is not None:
            c = self.redis.client()
            c("SET", CLOCK_OFFSET_KEY, str(int(offset)))
            c.close()
        self.peer = FakePeer()
        self.env = daemon_env(self.redis.url, self.peer.url + "/api", **env_overrides)
        self.daemon = Daemon(self.env, nofile=nofile)
        try:
            self.daemon.start()
        except BaseException:
            self.daemon.kill()
            self.peer.close()
            self.redis.destroy()
            raise
        self.port = self.daemon.port
        LIVE.append(self)
        # The engine arms the shared sweep timer once, shortly after start. Wait for it, so
        # it happens before any test's FLUSHALL and never in the middle of a test.
        armed = wait_until(lambda: self.r("EXISTS", BACKGROUND_TIMER_KEYS[0]), 10.0)
        if not armed:
            self.close()
            raise TestFailure("the engine did not arm %s within 10 s of start"
                              % BACKGROUND_TIMER_KEYS[0])

    @property
    def r(self):
        return self.redis.r

    def another_daemon(self, **env_overrides):
        """A second instance on the same Redis and fake peers, on a port of its own, started.
        The caller stops it (.stop() checks a clean exit)."""
        env = dict(self.env)
        env.update({k: str(v) for k, v in env_overrides.items()})
        port = free_port()
        env["WK_LISTEN"] = "127.0.0.1:%d" % port
        env["WK_PUBLIC_URL"] = "http://127.0.0.1:%d" % port
        d = Daemon(env)
        d.start()
        return d

    def reset(self):
        """Empty store and peer log between tests."""
        self.redis.r("FLUSHALL")
        self.peer.clear()

    def http(self, method, path, body=None, headers=None, timeout=5.0):
        return http_request(self.port, method, path, body, headers, timeout)

    def post_signed(self, body, ts=None, secret=SECRET, path="/slack/commands", timeout=5.0):
        if isinstance(body, str):
            body = body.encode()
        return self.http("POST", path, body, signed_headers(body, secret, ts), timeout)

    def command(self, text="", user="U0ALICE", team=TEAM, timeout=5.0, **kw):
        kw.setdefault("response_url", self.peer.url + "/commands/%s/1/abc" % team)
        body, headers = slack_command(text, user_id=user, team_id=team, **kw)
        return self.http("POST", "/slack/commands", body, headers, timeout)

    def oncall(self, text="", user="U0ALICE", team=TEAM):
        """Run `/oncall text` as user and return the checked reply dict."""
        return check_reply(self.command(text, user, team), "/oncall %s (as %s)" % (text, user))

    def invite(self, text="", user="U0ALICE", team=TEAM):
        """Run `/invite text` as user and return the checked reply dict."""
        return check_reply(self.command(text, user, team, command="/invite"),
                           "/invite %s (as %s)" % (text, user))

    def click(self, action_id, user="U0ALICE", team=TEAM, value="", wait=True):
        """A signed block_actions click; waits for the answer at its response_url."""
        path = "/actions/%s/%d" % (team, int(time.monotonic() * 1e6))
        payload = {
            "type": "block_actions", "user": {"id": user, "team_id": team},
            "team": {"id": team, "domain": "acme"}, "channel": {"id": "C0TEST", "name": "x"},
            "response_url": self.peer.url + path, "api_app_id": "A0TEST", "token": "legacyTok",
            "trigger_id": new_trigger_id(), "container": {"type": "message", "message_ts": "1.2"},
            "actions": [{"type": "button", "block_id": "wk_actions", "action_id": action_id,
                         "value": value, "action_ts": "1.2"}],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        r = self.post_signed(body, path="/slack/actions")
        check(r.status == 200, "click %s: status %d %r" % (action_id, r.status, short(r.body)))
        if not wait:
            return None
        got = self.peer.wait_for(1, timeout=5, path_prefix=path)
        check(got, "click %s: no answer at response_url" % action_id)
        return got[0]["json"]

    def notifications_settled(self, timeout=5.0):
        """Wait until every notification of every org has its outcome (none queued, waiting its
        turn or being sent): they go out at once, in the background, and a "nothing written"
        snapshot taken meanwhile would see them land."""
        def settled():
            keys = [k for k in self.r("KEYS", "wk:{*}:notification:n*") if not k.endswith(":events")]
            return all(self.r("HGET", k, "status") in ("sent", "failed", "cancelled", "shown")
                       for k in keys)
        check(wait_until(settled, timeout), "notifications still going out after %.0f s" % timeout)

    def team_mode(self, owner="U0ALICE", team=TEAM):
        """Create the org (owner's first contact) and switch it to team mode with the button."""
        self.oncall("", owner, team)
        js = self.click("invite.team_mode", owner, team)
        check(self.r("HGET", "wk:{slack:%s}:org" % team, "mode") == "team",
              "team mode not set: %r" % js)

    def add_member(self, user, role="developer", owner="U0ALICE", team=TEAM):
        """Make user a member the way people do: an invite link made by the owner, joined
        with its code. Owners are made by promoting an admin."""
        if self.r("HGET", "wk:{slack:%s}:org" % team, "mode") != "team":
            self.team_mode(owner, team)
        reply = self.invite("link %s" % ("admin" if role == "owner" else role), owner, team)
        codes = re.findall(r"join ([a-z2-7]{32})", json.dumps(reply))
        check(codes, "no invite code in %r" % short(reply["text"]))
        joined = self.invite("join " + codes[0], user, team)
        check("Welcome" in joined["text"], "join as %s: %r" % (user, joined["text"]))
        if role == "owner":
            self.invite("role <@%s> owner" % user, owner, team)
        check(self.role(user, team) == role, "%s's role: %r, wanted %s" % (user, self.role(user, team), role))

    def rotation(self, team=TEAM, name=None):
        """Member order of the default team's rotation (the newest version: what the
        next handoff uses), or [] when the team has none."""
        org = "wk:{slack:%s}" % team
        ids = sorted(self.r("SMEMBERS", org + ":team_rotations:default"))
        for rid in ids:
            rot = json.loads(self.r("GET", org + ":rotation:" + rid))
            if name is None or rot["name"] == name:
                return rot["versions"][-1]["members"]
        return []

    def role(self, user, team=TEAM):
        return self.r("HGET", "wk:{slack:%s}:member:%s" % (team, user), "role")

    def members(self, team=TEAM):
        return sorted(self.r("SMEMBERS", "wk:{slack:%s}:members" % team))

    def close(self):
        """Stop everything; raises TestFailure if the daemon did not exit cleanly."""
        if self in LIVE:
            LIVE.remove(self)
        try:
            self.daemon.stop()
        finally:
            self.peer.close()
            self.redis.destroy()


@contextlib.contextmanager
def own_world(**env_overrides):
    """A World of one's own for a test that stops the daemon or Redis. Leaving the block
    stops the daemon; an unclean exit fails the test (after any earlier failure)."""
    w = World(**env_overrides)
    try:
        yield w
    except BaseException as e:
        tail = w.daemon.stderr_tail(12) if w.daemon.proc is not None else ""
        try:
            w.close()
        except TestFailure as e2:
            raise TestFailure("%s\nalso at shutdown: %s" % (e, e2)) from e
        if isinstance(e, TestFailure) and tail:
            raise TestFailure("%s\ndaemon stderr tail:\n%s" % (e, tail)) from e
        raise
    w.close()


def run_cli(args, env, timeout=10.0):
    """Run the binary with args; returns (exit code, stdout, stderr). Sanitizer output in
    stderr fails the caller."""
    try:
        p = subprocess.run([daemon_binary()] + args, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TestFailure("`watchkeeper %s` did not exit within %.0f s" % (" ".join(args), timeout))
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    m = SANITIZER_RE.search(err)
    if m:
        raise TestFailure("sanitizer report from %s:\n%s" % (" ".join(args), err[max(0, m.start() - 200):][:3000]))
    return p.returncode, out, err
