"""fake_slack_socket.py - a fake Slack for Socket Mode (slack.md 1.5), stdlib only.

One threaded HTTP server on 127.0.0.1:0 (or another loopback address) serving:
  POST /api/apps.connections.open   checks `Authorization: Bearer xapp-...` (the token given),
        answers {"ok":true,"url":"ws://HOST:PORT/link/?ticket=<uuid>"}; .open_mode (or the
        queue .open_answers, consumed first) makes it answer "ratelimited" (200 ok:false +
        Retry-After), "429" (HTTP 429 + Retry-After), "invalid_auth". .opens records each call.
  GET /link/?ticket=T with Upgrade: websocket   an RFC 6455 server (Sec-WebSocket-Accept,
        masked client frames required, text/ping/pong/close, fragments). A ticket works once:
        a second use is refused with HTTP 401 (.rejected_tickets). On connect it sends hello
        (unless .auto_hello is False). Every text frame with an envelope_id and no type is an
        ack: .acks records {conn, envelope_id, payload, time}.
  anything else   recorded in .requests (method, path, headers, body, json) and answered
        200 {"ok":true}: response_url posts and Web API calls land here.

A connection (WSConn) can: send(obj) a text frame, envelope(type, payload) an envelope,
disconnect(reason), ping(), close(), drop() the TCP connection without a close frame, and go
silent (.silent = True: it sends nothing and answers no ping).
"""

import base64
import hashlib
import http.server
import json
import datetime
import ipaddress
import os
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid

import fakes
from harness import wait_until

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TOKEN = "xapp-1-A0TEST-1234-fakeappleveltokennotreal"


class WSConn:
    """One accepted WebSocket connection (the daemon is the client)."""

    def __init__(self, fake, sock, rfile, ticket, cid):
        self.fake, self.sock, self.rfile, self.ticket, self.id = fake, sock, rfile, ticket, cid
        self.lock = threading.Lock()
        self.alive = True
        self.silent = False
        self.hello_sent = False
        self.closed_by = None       # "client" (a close frame came), "server", "drop", "eof"
        self.pings = 0              # pings received from the daemon
        self.pongs = 0              # pongs received
        self.texts = []             # every text message received (str)
        self.unmasked = 0           # client frames without a mask (a protocol error)
        self.opened = time.monotonic()

    # -- sending
    def _frame(self, opcode, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        with self.lock:
            if not self.alive:
                return False
            try:
                self.sock.sendall(head + payload)
                return True
            except OSError:
                return False

    def send(self, obj):
        return self._frame(0x1, json.dumps(obj) if not isinstance(obj, (str, bytes)) else obj)

    def envelope(self, etype, payload, accepts=None, envelope_id=None, **extra):
        eid = envelope_id or str(uuid.uuid4())
        msg = {"envelope_id": eid, "type": etype, "payload": payload,
               "accepts_response_payload": (etype == "slash_commands") if accepts is None else accepts}
        msg.update(extra)
        self.fake.sent.append((self.id, eid, etype))
        self.send(msg)
        return eid

    def disconnect(self, reason):
        return self.send({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}})

    def ping(self, data=b"fake"):
        return self._frame(0x9, data)

    def close(self, code=1000):
        self._frame(0x8, struct.pack("!H", code))
        self.closed_by = self.closed_by or "server"

    def drop(self):
        """Cut the TCP connection, no close frame (a network failure)."""
        with self.lock:
            self.alive = False
        self.closed_by = self.closed_by or "drop"
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- receiving
    def _read(self, n):
        out = self.rfile.read(n) if n else b""   # the handler's buffered reader: nothing lost
        if len(out) < n:
            raise EOFError
        return out

    def _read_frame(self):
        b0, b1 = self._read(2)
        fin, opcode, masked, n = b0 & 0x80, b0 & 0x0F, b1 & 0x80, b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        if not masked:
            self.unmasked += 1
        key = self._read(4) if masked else b"\0\0\0\0"
        data = bytearray(self._read(n))
        for i in range(n):
            data[i] ^= key[i % 4]
        return fin, opcode, bytes(data)

    def serve(self):
        if self.fake.auto_hello:
            self.send_hello()
        parts, first_op = [], None
        try:
            while True:
                fin, op, data = self._read_frame()
                if op == 0x8:
                    self.closed_by = self.closed_by or "client"
                    if not self.silent:
                        self._frame(0x8, data[:2])
                    break
                if op == 0x9:
                    self.pings += 1
                    if not self.silent:
                        self._frame(0xA, data)
                    continue
                if op == 0xA:
                    self.pongs += 1
                    continue
                if op in (0x1, 0x2):
                    parts, first_op = [data], op
                elif op == 0x0:
                    parts.append(data)
                if fin and first_op == 0x1:
                    self._text(b"".join(parts).decode("utf-8", "replace"))
                    parts, first_op = [], None
        except (EOFError, OSError):
            self.closed_by = self.closed_by or "eof"
        finally:
            with self.lock:
                self.alive = False
            try:
                self.sock.close()
            except OSError:
                pass

    def send_hello(self):
        self.hello_sent = True
        self.send({"type": "hello", "num_connections": len(self.fake.live()),
                   "debug_info": {"host": "applink-fake", "build_number": 10,
                                  "approximate_connection_time": 18060},
                   "connection_info": {"app_id": "A0TEST"}})

    def _text(self, text):
        self.texts.append(text)
        try:
            msg = json.loads(text)
        except ValueError:
            self.fake.bad_frames.append(text)
            return
        if isinstance(msg, dict) and "envelope_id" in msg and "type" not in msg:
            with self.fake.cond:
                self.fake.acks.append({"conn": self.id, "envelope_id": msg["envelope_id"],
                                       "payload": msg.get("payload"), "time": time.monotonic(),
                                       "keys": sorted(msg)})
                self.fake.cond.notify_all()
        else:
            self.fake.bad_frames.append(text)


def self_signed(host):
    """A throwaway certificate for host (DNS name) and 127.0.0.1: (cert PEM path, key PEM path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    d = tempfile.mkdtemp(prefix="wk-sm-tls-")
    cpath, kpath = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    with open(cpath, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kpath, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    return cpath, kpath


class FakeSlackSocket:
    def __init__(self, host="127.0.0.1", token=TOKEN, tls=False):
        """tls: the WebSocket is served as wss://localhost on a second port with a self-signed
        certificate (self.ca_file), as Slack serves it, while the Web API stays plain HTTP."""
        self.host, self.token = host, token
        self.opens = []            # {"time", "auth", "answer"}
        self.open_mode = "ok"
        self.open_answers = []     # modes used before open_mode, one per call
        self.retry_after = 2
        self.tickets = {}          # ticket -> used
        self.rejected_tickets = []
        self.conns = []
        self.acks = []
        self.sent = []             # (conn id, envelope_id, type)
        self.bad_frames = []
        self.requests = []
        self.auto_hello = True
        self.cond = threading.Condition()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _answer(self, status, body, headers=None):
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self._body()
                if self.path.startswith("/api/apps.connections.open"):
                    return fake._open(self, body)
                fake._record(self, body)
                self._answer(200, {"ok": True})

            def do_GET(self):
                if self.headers.get("Upgrade", "").lower() == "websocket":
                    return fake._upgrade(self)
                fake._record(self, b"")
                self._answer(200, {"ok": True})

        self.server = fakes.QuietHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://%s:%d" % (host, self.port)
        self.api_url = self.url + "/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.tls_server = self.ca_file = None
        if tls:
            self.ca_file, keyfile = self_signed("localhost")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.ca_file, keyfile)
            self.tls_server = fakes.QuietHTTPServer((host, 0), Handler)
            self.tls_server.socket = ctx.wrap_socket(self.tls_server.socket, server_side=True)
            self.tls_port = self.tls_server.server_address[1]
            threading.Thread(target=self.tls_server.serve_forever, daemon=True).start()

    def env(self):
        env = {"WK_SLACK_APP_TOKEN": self.token, "WK_SLACK_API_URL": self.api_url}
        if self.ca_file:
            env["WK_TEST_SLACK_SOCKET_CA_FILE"] = self.ca_file
        return env

    # -- HTTP side
    def _record(self, h, body):
        try:
            js = json.loads(body.decode("utf-8")) if body else None
        except ValueError:
            js = None
        with self.cond:
            self.requests.append({"method": h.command, "path": h.path, "body": body, "json": js,
                                  "headers": {k.lower(): v for k, v in h.headers.items()},
                                  "time": time.monotonic()})
            self.cond.notify_all()

    def _open(self, h, body):
        auth = h.headers.get("Authorization", "")
        mode = self.open_answers.pop(0) if self.open_answers else self.open_mode
        if auth != "Bearer " + self.token or not self.token.startswith("xapp-"):
            mode = "invalid_auth"
        self.opens.append({"time": time.monotonic(), "auth": auth, "answer": mode, "body": body})
        if mode == "ratelimited":
            return h._answer(200, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(self.retry_after)})
        if mode == "429":
            return h._answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(self.retry_after)})
        if mode == "invalid_auth":
            return h._answer(200, {"ok": False, "error": "invalid_auth"})
        ticket = str(uuid.uuid4())
        self.tickets[ticket] = False
        if self.tls_server:
            url = "wss://localhost:%d/link/?ticket=%s&app_id=A0TEST" % (self.tls_port, ticket)
        else:
            url = "ws://%s:%d/link/?ticket=%s&app_id=A0TEST" % (self.host, self.port, ticket)
        h._answer(200, {"ok": True, "url": url})

    def _upgrade(self, h):
        ticket = ""
        if "?" in h.path:
            for kv in h.path.split("?", 1)[1].split("&"):
                if kv.startswith("ticket="):
                    ticket = kv[7:]
        key = h.headers.get("Sec-WebSocket-Key", "")
        if (not h.path.startswith("/link/") or ticket not in self.tickets or self.tickets[ticket]
                or h.headers.get("Sec-WebSocket-Version") != "13" or not key):
            self.rejected_tickets.append(ticket)
            h.close_connection = True
            return h._answer(401, {"ok": False, "error": "invalid ticket"})
        self.tickets[ticket] = True
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        h.send_response(101, "Switching Protocols")
        h.send_header("Upgrade", "websocket")
        h.send_header("Connection", "Upgrade")
        h.send_header("Sec-WebSocket-Accept", accept)
        h.end_headers()
        h.wfile.flush()
        h.close_connection = True
        with self.cond:
            conn = WSConn(self, h.connection, h.rfile, ticket, len(self.conns) + 1)
            self.conns.append(conn)
            self.cond.notify_all()
        conn.serve()

    # -- queries
    def live(self):
        return [c for c in self.conns if c.alive and c.hello_sent]

    def wait_live(self, n=1, timeout=10.0, new_after=0):
        """The live connections once at least n with id > new_after are up."""
        return wait_until(lambda: len([c for c in self.live() if c.id > new_after]) >= n and self.live(), timeout, 0.02)

    def latest(self):
        live = self.live()
        return live[-1] if live else None

    def acks_for(self, eid):
        return [a for a in self.acks if a["envelope_id"] == eid]

    def wait_ack(self, eid, timeout=5.0):
        got = wait_until(lambda: self.acks_for(eid), timeout, 0.02)
        return got[0] if got else None

    def posts(self, prefix):
        return [r for r in self.requests if r["path"].startswith(prefix)]

    def wait_posts(self, prefix, n=1, timeout=5.0):
        return wait_until(lambda: len(self.posts(prefix)) >= n and self.posts(prefix), timeout, 0.02)

    def close(self):
        for c in self.conns:
            c.drop()
        self.server.shutdown()
        self.server.server_close()
        if self.tls_server:
            self.tls_server.shutdown()
            self.tls_server.server_close()


# ---------------------------------------------------------------- payloads (slack.md 1.2-1.5)

_seq = [0]


def _next():
    _seq[0] += 1
    return "%d.%d" % (int(time.time()), _seq[0])


def slash_payload(text, response_url, user="U0ALICE", team="T0TEST", command="/oncall", trigger_id=None):
    return {"token": "legacyTok", "team_id": team, "team_domain": "acme", "channel_id": "C0TEST",
            "channel_name": "incidents", "user_id": user, "user_name": user.lower(), "command": command,
            "text": text, "api_app_id": "A0TEST", "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": trigger_id or "%s.%s" % (_next(), uuid.uuid4().hex[:16])}


def click_payload(action_id, response_url, value="", user="U0ALICE", team="T0TEST", action_ts=None,
                  message_ts="1700000001.000100"):
    return {"type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": "A0TEST", "token": "legacyTok",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": "C0TEST",
                          "is_ephemeral": False},
            "trigger_id": "%s.feedface" % _next(), "team": {"id": team, "domain": "acme"},
            "channel": {"id": "C0TEST", "name": "incidents"},
            "message": {"type": "message", "ts": message_ts, "text": "x"},
            "response_url": response_url,
            "actions": [{"type": "button", "block_id": "wk_actions", "action_id": action_id, "value": value,
                         "text": {"type": "plain_text", "text": "Go"}, "action_ts": action_ts or _next()}]}


def event_payload(team="T0TEST", event_id=None):
    return {"token": "legacyTok", "team_id": team, "api_app_id": "A0TEST", "type": "event_callback",
            "event": {"type": "app_mention", "user": "U0ALICE", "text": "<@U0BOT> who is on call?",
                      "ts": "1700000010.000200", "channel": "C0TEST", "event_ts": "1700000010.000200"},
            "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(), "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": team, "user_id": "U0BOT", "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False}
