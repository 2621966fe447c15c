"""fakes.py - fake outside services that speak the real wire protocols (stdlib only).

  FakeSMTP     a threaded SMTP server on 127.0.0.1:0 (RFC 5321 subset: EHLO/HELO, AUTH
               PLAIN/LOGIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, VRFY, QUIT).
               No TLS: the daemon reaches it as smtp+insecure://127.0.0.1:PORT (or as
               smtp://..., which must then fail because STARTTLS is required).
               .messages: list of {mail_from, rcpts, data (bytes), auth, ehlo}
               .commands: every command line received, in order (AUTH payloads included)
               failures: rcpt_reply / data_reply / mail_reply = "550 5.1.1 ..." to refuse
               that step; auth=(user, password) to demand exactly those credentials.
  FakeGitHub   an HTTP server on 127.0.0.1:0 playing the GitHub REST API parts the daemon
               uses: GET /orgs/ORG/members?per_page=100[&page=N] (Link pagination) and
               GET /users/LOGIN (public email or null). Modes: "ok", "401", "404",
               "ratelimit" (403 + X-RateLimit-Remaining: 0 + X-RateLimit-Reset),
               "evil_link" (the next link points at another host), "user_error" (the
               lookup of the middle member answers 502). It checks the
               Authorization and X-GitHub-Api-Version headers on every request and
               answers 401/400 when they are wrong; .requests records them all.

  FakeSlack    stateful Slack Web API parts the outbox uses, installed as routes on the
               harness's FakePeer: conversations.open (DM channel "D" + user id),
               chat.postMessage (the message is posted as soon as the request arrives, even
               when the client is gone before the answer, which is what makes an outcome
               unknown), conversations.history (newest first, `oldest`, cursor pages of
               `limit`, metadata only with include_all_metadata=true), chat.update (the
               bot's message by ts; message_not_found once .delete(channel, ts) removed it;
               .updates records each). .posted(channel) counts a channel's messages;
               .history_fail = "429" / "500" refuses reads.

The harness's FakePeer (harness.py) stays the Slack Web API / response_url peer.
"""

import base64
import http.server
import json
import socket
import socketserver
import threading
import time
import urllib.parse

LINE_MAX = 4096         # longer command lines are refused (RFC 5321 allows 512)
DATA_MAX = 8 << 20      # a message larger than this is refused with 552


class QuietHTTPServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server that does not print a traceback when the
    daemon hangs up first (a killed daemon, a courier timeout): tests kill
    processes on purpose, and the tracebacks hid real failures in the log."""
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _ThreadingTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeSMTP:
    def __init__(self, rcpt_reply=None, data_reply=None, mail_reply=None, auth=None,
                 advertise_auth=True, hostname="fake-smtp.test"):
        self.messages = []
        self.commands = []
        self.sessions = 0
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.mail_reply = mail_reply
        self.auth = auth
        self.advertise_auth = advertise_auth
        self.hostname = hostname
        self.cond = threading.Condition()
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def reply(self, text):
                self.wfile.write(text.encode() + b"\r\n")
                self.wfile.flush()

            def readline(self):
                line = self.rfile.readline(LINE_MAX + 1)
                if not line:
                    return None
                if len(line) > LINE_MAX:
                    self.reply("500 5.5.2 line too long")
                    return None
                return line.rstrip(b"\r\n").decode("utf-8", "replace")

            def handle(self):
                with fake.cond:
                    fake.sessions += 1
                st = {"ehlo": None, "auth": None, "from": None, "rcpts": []}
                self.reply("220 %s ESMTP fake ready" % fake.hostname)
                while True:
                    line = self.readline()
                    if line is None:
                        return
                    with fake.cond:
                        fake.commands.append(line)
                    verb, _, arg = line.partition(" ")
                    verb = verb.upper()
                    if verb == "EHLO":
                        st.update({"ehlo": arg, "from": None, "rcpts": []})
                        ext = ["8BITMIME", "SIZE %d" % DATA_MAX]
                        if fake.advertise_auth:
                            ext.append("AUTH PLAIN LOGIN")
                        lines = ["%s greets %s" % (fake.hostname, arg)] + ext
                        for ln in lines[:-1]:
                            self.wfile.write(("250-" + ln + "\r\n").encode())
                        self.reply("250 " + lines[-1])
                    elif verb == "HELO":
                        st.update({"ehlo": arg, "from": None, "rcpts": []})
                        self.reply("250 %s" % fake.hostname)
                    elif verb == "AUTH":
                        if not self.do_auth(arg, st):
                            return
                    elif verb == "MAIL":
                        if not arg.upper().startswith("FROM:"):
                            self.reply("501 5.5.4 syntax: MAIL FROM:<address>")
                        elif st["ehlo"] is None:
                            self.reply("503 5.5.1 EHLO first")
                        elif fake.auth and st["auth"] is None:
                            self.reply("530 5.7.0 authentication required")
                        elif fake.mail_reply:
                            self.reply(fake.mail_reply)
                        else:
                            st["from"] = self.address(arg[5:])
                            st["rcpts"] = []
                            self.reply("250 2.1.0 sender ok")
                    elif verb == "RCPT":
                        if not arg.upper().startswith("TO:"):
                            self.reply("501 5.5.4 syntax: RCPT TO:<address>")
                        elif st["from"] is None:
                            self.reply("503 5.5.1 MAIL first")
                        elif fake.rcpt_reply:
                            self.reply(fake.rcpt_reply)
                        else:
                            st["rcpts"].append(self.address(arg[3:]))
                            self.reply("250 2.1.5 recipient ok")
                    elif verb == "DATA":
                        if not st["rcpts"]:
                            self.reply("503 5.5.1 RCPT first")
                            continue
                        self.reply("354 end data with <CR><LF>.<CR><LF>")
                        data = self.read_data()
                        if data is None:
                            return
                        if len(data) > DATA_MAX:
                            self.reply("552 5.3.4 message too big")
                        elif fake.data_reply:
                            self.reply(fake.data_reply)
                        else:
                            with fake.cond:
                                fake.messages.append({"mail_from": st["from"], "rcpts": list(st["rcpts"]),
                                                      "data": data, "auth": st["auth"], "ehlo": st["ehlo"]})
                                fake.cond.notify_all()
                            self.reply("250 2.0.0 queued as %d" % len(fake.messages))
                        st["from"], st["rcpts"] = None, []
                    elif verb == "RSET":
                        st["from"], st["rcpts"] = None, []
                        self.reply("250 2.0.0 reset")
                    elif verb == "NOOP":
                        self.reply("250 2.0.0 ok")
                    elif verb == "VRFY":
                        self.reply("252 2.1.5 cannot verify")
                    elif verb == "QUIT":
                        self.reply("221 2.0.0 bye")
                        return
                    elif verb == "STARTTLS":
                        self.reply("454 4.7.0 TLS not available")
                    else:
                        self.reply("500 5.5.2 unknown command")

            @staticmethod
            def address(s):
                s = s.strip()
                if s.startswith("<"):
                    s = s[1:].split(">", 1)[0]
                else:
                    s = s.split(" ", 1)[0]
                return s

            def read_data(self):
                out = []
                size = 0
                while True:
                    raw = self.rfile.readline(1 << 20)
                    if not raw:
                        return None
                    if raw in (b".\r\n", b".\n"):
                        return b"".join(out)
                    if raw.startswith(b"."):
                        raw = raw[1:]   # RFC 5321 4.5.2 transparency
                    size += len(raw)
                    if size <= DATA_MAX:
                        out.append(raw)

            def do_auth(self, arg, st):
                mech, _, initial = arg.partition(" ")
                mech = mech.upper()
                if mech == "PLAIN":
                    if not initial:
                        self.reply("334 ")
                        initial = self.readline()
                        if initial is None:
                            return False
                    try:
                        parts = base64.b64decode(initial, validate=True).split(b"\0")
                        user, password = parts[1].decode(), parts[2].decode()
                    except (ValueError, IndexError):
                        self.reply("501 5.5.2 cannot decode AUTH PLAIN")
                        return True
                elif mech == "LOGIN":
                    try:
                        if initial:
                            user = base64.b64decode(initial).decode()
                        else:
                            self.reply("334 VXNlcm5hbWU6")
                            line = self.readline()
                            if line is None:
                                return False
                            user = base64.b64decode(line).decode()
                        self.reply("334 UGFzc3dvcmQ6")
                        line = self.readline()
                        if line is None:
                            return False
                        password = base64.b64decode(line).decode()
                    except ValueError:
                        self.reply("501 5.5.2 cannot decode AUTH LOGIN")
                        return True
                else:
                    self.reply("504 5.5.4 mechanism not supported")
                    return True
                if fake.auth and (user, password) != tuple(fake.auth):
                    self.reply("535 5.7.8 authentication credentials invalid")
                    return True
                st["auth"] = {"mechanism": mech, "user": user, "password": password}
                self.reply("235 2.7.0 authenticated")
                return True

        self.server = _ThreadingTCP(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "smtp+insecure://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count=1, timeout=10.0):
        """Wait until at least `count` messages arrived; returns the list."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.messages)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- GitHub

API_VERSION = "2022-11-28"


class FakeGitHub:
    """members: list of logins of ORG; emails: login -> public email (missing = null)."""

    def __init__(self, org="acme", members=(), emails=None, token="ghp_integration_test",
                 mode="ok", per_page=100, base_path=""):
        self.org = org
        self.members = list(members)
        self.emails = dict(emails or {})
        self.token = token
        self.mode = mode
        self.per_page = per_page
        self.base_path = base_path
        self.reset_at = int(time.time()) + 1200
        self.requests = []
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                # Headers and body leave in two writes; without this, Nagle + delayed ACK
                # add 40 ms to every one of the hundreds of requests of a sync.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def send(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("X-RateLimit-Limit", "5000")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                with fake.lock:
                    fake.requests.append({"method": "GET", "path": self.path,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                fake.handle(self)

            def do_POST(self):
                self.send(405, {"message": "Method not allowed"})

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.origin = "http://127.0.0.1:%d" % self.port
        self.url = self.origin + base_path     # what WK_GITHUB_API_URL is set to
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, h):
        if h.headers.get("Authorization") != "Bearer " + self.token:
            return h.send(401, {"message": "Bad credentials"})
        if h.headers.get("X-GitHub-Api-Version") != API_VERSION:
            return h.send(400, {"message": "missing or unsupported X-GitHub-Api-Version"})
        if "application/vnd.github+json" not in (h.headers.get("Accept") or ""):
            return h.send(415, {"message": "Accept application/vnd.github+json"})
        if not h.headers.get("User-Agent"):
            return h.send(403, {"message": "User-Agent required"})
        if self.mode == "401":
            return h.send(401, {"message": "Bad credentials"})
        if self.mode == "ratelimit":
            return h.send(403, {"message": "API rate limit exceeded for user ID 1."},
                          {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(self.reset_at),
                           "X-RateLimit-Used": "5000"})
        url = urllib.parse.urlsplit(h.path)
        path = url.path
        if not path.startswith(self.base_path + "/"):
            return h.send(404, {"message": "Not Found"})
        path = path[len(self.base_path):]
        q = urllib.parse.parse_qs(url.query)
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "orgs" and parts[2] == "members":
            if self.mode == "404" or parts[1].lower() != self.org.lower():
                return h.send(404, {"message": "Not Found"})
            per = int(q.get("per_page", ["30"])[0])
            page = int(q.get("page", ["1"])[0])
            pages = max(1, (len(self.members) + per - 1) // per)
            chunk = self.members[(page - 1) * per: page * per]
            body = [{"login": m, "id": 1000 + i, "type": "User", "site_admin": False}
                    for i, m in enumerate(chunk)]
            links = []
            host = self.origin + self.base_path
            if self.mode == "evil_link":
                host = "http://127.0.0.2:%d%s" % (self.port, self.base_path)
            if page < pages:
                links.append('<%s/orgs/%s/members?per_page=%d&page=%d>; rel="next"'
                             % (host, parts[1], per, page + 1))
                links.append('<%s/orgs/%s/members?per_page=%d&page=%d>; rel="last"'
                             % (host, parts[1], per, pages))
            if page > 1:
                links.insert(0, '<%s/orgs/%s/members?per_page=%d&page=1>; rel="first"'
                             % (host, parts[1], per))
            return h.send(200, body, {"Link": ", ".join(links)} if links else None)
        if len(parts) == 2 and parts[0] == "users":
            if self.mode == "user_error" and parts[1] == self.members[len(self.members) // 2]:
                return h.send(502, {"message": "Server Error"})
            if parts[1] not in self.members:
                return h.send(404, {"message": "Not Found"})
            return h.send(200, {"login": parts[1], "id": 1000 + self.members.index(parts[1]),
                                "name": None, "email": self.emails.get(parts[1])})
        return h.send(404, {"message": "Not Found"})

    def paths(self, prefix=""):
        with self.lock:
            return [r["path"] for r in self.requests if r["path"].startswith(prefix)]

    def clear(self):
        with self.lock:
            self.requests = []

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeSlack:
    TOKEN = "xoxb-integration-test"

    def __init__(self, peer, post_delay=0.0):
        self.lock = threading.Lock()
        self.messages = {}          # channel -> [message], oldest first
        self.history_calls = 0
        self.history_fail = None
        self.seq = 0
        json_ct = {"Content-Type": "application/json; charset=utf-8"}
        peer.route("/api/conversations.open", body=self._open)
        peer.route("/api/chat.postMessage", body=self._post, delay=post_delay)
        peer.route("/api/chat.update", body=self._update)
        self.updates = []           # {channel, ts, text, blocks, t}, in order
        self.not_in_channel = set()  # channels whose posts are refused with not_in_channel
        peer.route("/api/conversations.history", status=self._history_status, body=self._history,
                   headers=dict(json_ct, **{"Retry-After": "1"}))

    def _auth_ok(self, req):
        return req["headers"].get("authorization") == "Bearer " + self.TOKEN

    def _open(self, req):
        if not self._auth_ok(req):
            return {"ok": False, "error": "invalid_auth"}
        form = urllib.parse.parse_qs(req["body"].decode())
        user = form.get("users", [""])[0]
        return {"ok": True, "channel": {"id": "D" + user}}

    def _post(self, req):
        js = req["json"] or {}
        if not self._auth_ok(req):
            return {"ok": False, "error": "invalid_auth"}
        ch = js.get("channel", "")
        if ch in self.not_in_channel:
            return {"ok": False, "error": "not_in_channel"}
        with self.lock:
            self.seq += 1
            ts = "%d.%06d" % (int(time.time()), self.seq)
            m = {"type": "message", "ts": ts, "text": js.get("text", ""), "bot_id": "B0FAKE",
                 "app_id": "A0FAKE", "_metadata": js.get("metadata"), "_t": time.time(),
                 "_blocks": js.get("blocks", [])}
            self.messages.setdefault(ch, []).append(m)
        return {"ok": True, "channel": ch, "ts": ts}

    def _update(self, req):
        js = req["json"] or {}
        if not self._auth_ok(req):
            return {"ok": False, "error": "invalid_auth"}
        ch, ts = js.get("channel", ""), js.get("ts", "")
        with self.lock:
            for m in self.messages.get(ch, []):
                if m["ts"] == ts:
                    m["text"], m["_blocks"] = js.get("text", ""), js.get("blocks", [])
                    self.updates.append({"channel": ch, "ts": ts, "text": m["text"], "blocks": m["_blocks"],
                                         "t": time.time()})
                    return {"ok": True, "channel": ch, "ts": ts, "text": m["text"]}
        return {"ok": False, "error": "message_not_found"}

    def delete(self, channel, ts):
        with self.lock:
            self.messages[channel] = [m for m in self.messages.get(channel, []) if m["ts"] != ts]

    def _history_status(self, req):
        return {"429": 429, "500": 500}.get(self.history_fail, 200)

    def _history(self, req):
        with self.lock:
            self.history_calls += 1
        if self.history_fail == "429":
            return {"ok": False, "error": "ratelimited"}
        if self.history_fail == "500":
            return {"ok": False, "error": "internal_error"}
        if not self._auth_ok(req):
            return {"ok": False, "error": "invalid_auth"}
        q = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(req["path"]).query).items()}
        ch = q.get("channel", "")
        oldest = float(q.get("oldest", "0"))
        limit = max(1, min(999, int(q.get("limit", "100"))))
        start = int(q.get("cursor", "0") or 0)
        with self.lock:
            if ch not in self.messages and not ch.startswith("D"):
                return {"ok": False, "error": "channel_not_found"}
            rows = [m for m in reversed(self.messages.get(ch, [])) if float(m["ts"]) > oldest]
        page = rows[start:start + limit]
        out = []
        for m in page:
            o = {k: v for k, v in m.items() if not k.startswith("_")}
            if q.get("include_all_metadata") == "true" and m["_metadata"]:
                o["metadata"] = m["_metadata"]
            out.append(o)
        more = start + limit < len(rows)
        return {"ok": True, "messages": out, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def posted(self, channel):
        with self.lock:
            return len(self.messages.get(channel, []))

    def counts(self):
        with self.lock:
            return {ch: len(ms) for ch, ms in self.messages.items()}

