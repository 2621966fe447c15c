"""fake_twilio.py - a fake Twilio REST API and a signing Twilio webhook client.

FakeTwilio: an http.server on 127.0.0.1:0 serving POST
  /2010-04-01/Accounts/<AccountSid>/Messages.json
It checks Basic auth (AccountSid:AuthToken) and the form (To E.164, exactly one of
From / MessagingServiceSid present, Body non-empty, StatusCallback optional) and
answers 201 with a Message resource shaped like protocols/twilio.md 3.1. Tell it to
fail with .fail_next(kind): "500", "429" (with Retry-After), "21211" (HTTP 400 error
body), "hang" (the message is created, the answer comes after hang_s). Requests are
recorded in .requests (dicts: path, headers, form, auth_ok).
GET .../Messages.json?To=...&PageSize=N lists the messages created so far, newest first,
with date_created in RFC 2822 and next_page_uri paging (.list_fail = "500" or "429" refuses
lists); .created holds them all, .count_to(phone) counts those created for one number.

sign(), signed_post(): build what Twilio sends to the daemon's webhooks: a form body
and X-Twilio-Signature = base64(HMAC-SHA1(token, url + sorted name+value)).

Only the Python standard library is used.
"""

import base64
import hashlib
import hmac
import http.server
import json
import random
import re
import threading
import time
import urllib.parse

import fakes

ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "integration_twilio_token_not_real"
FROM = "+15005550001"

E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


def sign(token, url, params):
    """X-Twilio-Signature over url and params (list of (name, value) or dict)."""
    items = list(params.items()) if isinstance(params, dict) else list(params)
    data = url + "".join(k + v for k, v in sorted(items))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def signed_post(http, public_url, path, params, token=AUTH_TOKEN, signature=None, sign_url=None):
    """POST params (list of pairs, body in that order) to path, signed for
    sign_url (default public_url + path). signature=False sends no header; a string
    sends that header as is. Returns the harness Response."""
    items = list(params.items()) if isinstance(params, dict) else list(params)
    body = urllib.parse.urlencode(items).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is None:
        headers["X-Twilio-Signature"] = sign(token, sign_url or public_url + path, items)
    elif signature is not False:
        headers["X-Twilio-Signature"] = signature
    return http("POST", path, body, headers)


def status_params(sid, status, error=None):
    """A status callback form (twilio.md 3.2 fixture fields)."""
    p = [("MessageSid", sid), ("SmsSid", sid), ("AccountSid", ACCOUNT_SID),
         ("From", FROM), ("To", "+15005550006"), ("MessageStatus", status),
         ("SmsStatus", status), ("ApiVersion", "2010-04-01")]
    if error is not None:
        p.append(("ErrorCode", str(error)))
    return p


def sms_params(frm, body, sid="SM00000000000000000000000000000001"):
    """An inbound SMS form (twilio.md 3.4)."""
    return [("ToCountry", "US"), ("SmsMessageSid", sid), ("NumMedia", "0"), ("SmsSid", sid),
            ("SmsStatus", "received"), ("Body", body), ("To", FROM), ("NumSegments", "1"),
            ("MessageSid", sid), ("AccountSid", ACCOUNT_SID), ("From", frm), ("ApiVersion", "2010-04-01")]


class FakeTwilio:
    def __init__(self, account_sid=ACCOUNT_SID, token=AUTH_TOKEN):
        self.account_sid = account_sid
        self.token = token
        self.requests = []
        self.failures = []
        self.hang_s = 3.0
        self.random_failures = None       # (probability, [kinds]) for requests without a queued failure
        self.rng = random.Random(7)
        self._local = threading.local()
        self.counter = 0
        self.created = []                 # every message created, oldest first
        self.list_fail = None
        self.lists = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                status, body, extra = fake._answer(self.path, dict(self.headers.items()), raw)
                fake._local.rec["status"] = status      # what this request was answered
                if extra.pop("hang", None):
                    time.sleep(fake.hang_s)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                status, body = fake._list(self.path, dict(self.headers.items()))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = fakes.QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count_to(self, phone):
        with self.lock:
            return sum(1 for m in self.created if m["to"] == phone)

    def _list(self, path, headers):
        headers = {k.lower(): v for k, v in headers.items()}
        want = "Basic " + base64.b64encode(("%s:%s" % (self.account_sid, self.token)).encode()).decode()
        u = urllib.parse.urlparse(path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
        with self.lock:
            self.lists += 1
            if u.path != "/2010-04-01/Accounts/%s/Messages.json" % self.account_sid:
                return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
            if not hmac.compare_digest(headers.get("authorization", ""), want):
                return 401, {"code": 20003, "message": "Authenticate", "status": 401}
            if self.list_fail == "500":
                return 500, {"code": 20500, "message": "Internal Server Error", "status": 500}
            if self.list_fail == "429":
                return 429, {"code": 20429, "message": "Too Many Requests", "status": 429}
            rows = [m for m in reversed(self.created) if "To" not in q or m["to"] == q["To"]]
        size = max(1, min(1000, int(q.get("PageSize", "50"))))
        page = int(q.get("Page", "0"))
        chunk = rows[page * size:(page + 1) * size]
        nxt = None
        if (page + 1) * size < len(rows):
            nq = dict(q, Page=str(page + 1))
            nxt = u.path + "?" + urllib.parse.urlencode(nq)
        return 200, {"messages": chunk, "page": page, "page_size": size, "next_page_uri": nxt,
                     "uri": path}

    def fail_next(self, kind):
        with self.lock:
            self.failures.append(kind)

    def _error(self, status, code, message):
        return status, {"code": code, "message": message,
                        "more_info": "https://www.twilio.com/docs/errors/%d" % code, "status": status}, {}

    def _answer(self, path, headers, raw):
        headers = {k.lower(): v for k, v in headers.items()}
        want = "Basic " + base64.b64encode(("%s:%s" % (self.account_sid, self.token)).encode()).decode()
        auth_ok = hmac.compare_digest(headers.get("authorization", ""), want)
        try:
            form = urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            form = {}
        rec = {"path": path, "headers": headers, "raw": raw, "form": form, "auth_ok": auth_ok,
               "t": time.time()}
        self._local.rec = rec
        with self.lock:
            self.requests.append(rec)
            fail = self.failures.pop(0) if self.failures else None
            if fail is None and self.random_failures and self.rng.random() < self.random_failures[0]:
                fail = self.rng.choice(self.random_failures[1])
            self.counter += 1
            n = self.counter
        if path != "/2010-04-01/Accounts/%s/Messages.json" % self.account_sid:
            return self._error(404, 20404, "The requested resource was not found")
        if not auth_ok:
            return self._error(401, 20003, "Authenticate")
        hang = fail == "hang"       # answer 201, but only after hang_s: the client gives up first
        if fail == "500":
            return 500, {"code": 20500, "message": "Internal Server Error", "status": 500}, {}
        if fail == "429":
            return 429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {"Retry-After": "7"}
        one = {k: v[0] for k, v in form.items() if len(v) == 1}
        if any(len(v) != 1 for v in form.values()):
            return self._error(400, 21600, "repeated parameter")
        to = one.get("To", "")
        if fail == "21211" or not E164.match(to):
            return self._error(400, 21211, "Invalid 'To' Phone Number")
        if ("From" in one) == ("MessagingServiceSid" in one) or not one.get("Body"):
            return self._error(400, 21602, "Message body or sender is required")
        sid = "SM%032x" % n
        msg = {"sid": sid, "to": to, "from": one.get("From"), "body": one["Body"],
               "status": "queued", "account_sid": self.account_sid,
               "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())}
        with self.lock:
            self.created.append(msg)    # created at Twilio, whether or not the answer arrives
        return 201, {"sid": sid, "status": "queued" if "From" in one else "accepted", "to": to,
                     "from": one.get("From"), "messaging_service_sid": one.get("MessagingServiceSid"),
                     "body": one["Body"], "num_segments": "1", "direction": "outbound-api",
                     "error_code": None, "error_message": None, "account_sid": self.account_sid,
                     "api_version": "2010-04-01",
                     "uri": "/2010-04-01/Accounts/%s/Messages/%s.json" % (self.account_sid, sid)}, \
            ({"hang": True} if hang else {})

    def close(self):
        self.server.shutdown()
        self.server.server_close()
