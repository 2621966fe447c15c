"""fake_teams.py - fake Microsoft Teams / Bot Framework peers on loopback (teams.md 2.1-2.5).

  FakeTeamsIdentity   one HTTP server on 127.0.0.1:0 playing both token publishers:
      GET  /v1/.well-known/openidconfiguration   the Bot Framework OpenID metadata (jwks_uri here)
      GET  /v1/.well-known/keys                  the JWK set: n, e, x5t, x5c and `endorsements`
      POST /<tenant>/oauth2/v2.0/token           Azure AD client credentials (teams.md 2.3);
           also /botframework.com/oauth2/v2.0/token (the legacy multi-tenant authority)
    .openid_url / .token_url / .env() are what WK_TEAMS_OPENID_URL / _TOKEN_URL ... are set to.
    Keys: add_key(kid, endorsements=("msteams",)) (endorsements=None: no field at all),
    remove_key(kid). .metadata_fetches / .keys_fetches: time.monotonic() of every fetch
    (failed ones too). fail(what, mode, count=None, delay=2.0): what "metadata" | "keys" |
    "token", mode "500" | "garbage" (200 + broken JSON) | "slow" (right answer after delay);
    fail(what, None) heals. Tokens: .token_requests (every request: path, tenant, headers,
    form, status), .issued (access tokens in order), expires_in (settable, for refresh
    tests), revoke_all(); token_ok(token) -> (bool, why) is what the connector asks.
    mint(...) builds an inbound Bot Framework JWT, valid by default; its options make every
    forgery (see mint()); case(name) -> (token, expected) for the table CASES.
  FakeTeamsConnector  the Bot Connector REST v3 at .url = "http://127.0.0.1:PORT/" (the
    serviceUrl, trailing slash as the real ones). Send, reply, update, delete, create
    conversation, get member; conversation ids raw or percent-encoded in the path. Every
    request needs a Bearer token the identity issued (401 otherwise); bodies need
    application/json (400); bodies over 1 MB get 413; every answer has
    X-Correlating-OperationId. A message counts as posted as soon as the request arrives,
    whatever happens to the answer.
    Records: .requests (method, raw_path, path decoded, op, conversation, activity, member,
    headers, body, json, t = time.monotonic(), status answered or, for hang/drop, meant);
    messages(conv), texts(conv) (text plus the TextBlocks of Adaptive Cards, one string per
    activity), updates(conv), sends(conv) (times of every authenticated send/reply attempt,
    refused ones too), max_in_window(conv, 1.0), rate_violations(), wait_for(pred, timeout).
    Failures: fail_next(kind, count=1, conversation=None, op=None), kind "429"
    (Retry-After: 1), "412", "502", "504", "500", "403" (blocked, see BLOCKED_SHAPES),
    "404" (ConversationNotFound), "hang" (performed, answered after hang_s), "drop"
    (performed, connection closed without an answer). block(conv) answers 403 to every
    write there until unblock(conv). enforce_rate=True answers 429 above 7/1 s, 8/2 s, 60/30 s.
  Activities: personal_message, channel_message, conversation_update, submit_action,
    invoke_action (the fixtures of teams.md 2.1/2.5, fresh ids per call); post_activity()
    signs with a fresh token for the activity's serviceUrl and POSTs to /teams/messages.

The 403 "blocked" body: teams.md 2.4 says Teams answers 403 with `subCode:
MessageWritesBlocked` but not where that field sits, and the Bot Framework error schema has
no subCode. By default it is a sibling of "error" (BLOCKED_SHAPES["top"]); blocked_shape=
"inner" puts it inside "error", "none" answers what Teams has been seen to send
(ConversationBlockedByUser, no subCode). A daemon should treat any of them as "blocked".

Only the standard library and python3-cryptography are used.
"""

import base64
import datetime
import hashlib
import hmac
import http.server
import itertools
import json
import os
import socket
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

import fakes

APP_ID = "00000000-0000-0000-0000-0000000000b0"
APP_PASSWORD = "integration_teams_password_not_real"
TENANT_ID = "00000000-0000-0000-0000-0000000000f1"
ISSUER = "https://api.botframework.com"
SCOPE = "https://api.botframework.com/.default"
BOT_NAME = "OnCall Bot"
USER = {"id": "29:1fixtureUserId", "name": "Alice Doe", "aadObjectId": "00000000-0000-0000-0000-0000000000a1"}
FIXTURE_SERVICE_URL = "https://smba.trafficmanager.net/amer/"
SKEW = 300
BODY_MAX = 1 << 20
RATE_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))   # per bot per conversation (sends)
DROP = object()        # mint(claim=DROP) leaves that claim out
CARD = "application/vnd.microsoft.card.adaptive"

BLOCKED_SHAPES = {
    "top": {"error": {"code": "Forbidden", "message": "The bot is blocked or uninstalled by the user."},
            "subCode": "MessageWritesBlocked"},
    "inner": {"error": {"code": "Forbidden", "subCode": "MessageWritesBlocked",
                        "message": "The bot is blocked or uninstalled by the user."}},
    "none": {"error": {"code": "ConversationBlockedByUser", "message": "User blocked the conversation with the bot."}},
}
ERRORS = {"429": ("TooManyRequests", "Too many requests, retry after 1 s"),
          "412": ("PreconditionFailed", "Conflict, please retry"),
          "500": ("ServiceError", "Internal server error"),
          "502": ("BadGateway", "Bad gateway"),
          "504": ("GatewayTimeout", "Gateway timeout"),
          "404": ("ConversationNotFound", "Conversation not found.")}


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _int_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def _json_b64u(obj):
    return b64u(json.dumps(obj, separators=(",", ":")))


class SigningKey:
    """An RSA key with a self-signed certificate: kid, x5t (SHA-1 thumbprint), x5c, n, e."""

    def __init__(self, kid, bits=2048):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        self.public = self.private.public_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake.botframework.test")])
        now = datetime.datetime.utcnow()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.public)
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=365)).sign(self.private, hashes.SHA256()))
        self.cert_der = cert.public_bytes(serialization.Encoding.DER)
        self.x5t = b64u(hashlib.sha1(self.cert_der).digest())
        self.pem = self.public.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwk(self, endorsements):
        nums = self.public.public_numbers()
        k = {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.x5t, "n": _int_b64u(nums.n),
             "e": _int_b64u(nums.e), "x5c": [base64.b64encode(self.cert_der).decode()]}
        if endorsements is not None:
            k["endorsements"] = list(endorsements)
        return k

    def sign(self, alg, data):
        if alg == "none":
            return b""
        if alg == "HS256":     # the classic confusion: the public key's PEM as HMAC secret
            return hmac.new(self.pem, data, hashlib.sha256).digest()
        h = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
        return self.private.sign(data, padding.PKCS1v15(), h)


_KEYS = {}
_KEYS_LOCK = threading.Lock()


def signing_key(kid):
    """The process-wide key for kid (generated once: RSA key generation costs CPU)."""
    with _KEYS_LOCK:
        if kid not in _KEYS:
            _KEYS[kid] = SigningKey(kid)
        return _KEYS[kid]


def auth_header(token):
    return {"Authorization": "Bearer " + token}


def _json_ct(h):
    return (h.get("content-type") or "").split(";")[0].strip().lower() == "application/json"


# ---------------------------------------------------------------- HTTP server base

class _Fake:
    """A threaded HTTP/1.1 server on 127.0.0.1:0 that hands each request to self._serve(req)."""

    hang_s = 3.0

    def _start(self):
        self.lock = threading.RLock()     # wait_for predicates may call messages() etc.
        self.cond = threading.Condition(self.lock)
        self.closing = threading.Event()
        self.opseq = itertools.count(1)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def _read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        n = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
                        if n == 0:
                            while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        if len(out) + n > BODY_MAX:
                            return None
                        out += self.rfile.read(n)
                        self.rfile.readline(10)
                n = int(self.headers.get("Content-Length") or 0)
                if n > BODY_MAX:
                    if n <= 16 * BODY_MAX:    # drained, so that the client reads the 413
                        while n > 0:
                            n -= len(self.rfile.read(min(n, 65536)) or b"x" * n)
                    return None
                return self.rfile.read(n) if n else b""

            def _handle(self):
                try:
                    body = self._read_body()
                except ValueError:
                    body = None
                headers = {k.lower(): v for k, v in self.headers.items()}
                if body is None:
                    self.close_connection = True
                    return self.answer(413, {"error": {"code": "RequestEntityTooLarge",
                                                       "message": "body over %d bytes" % BODY_MAX}})
                try:
                    js = json.loads(body.decode("utf-8")) if body else None
                except ValueError:
                    js = None
                req = {"method": self.command, "raw_path": self.path, "headers": headers, "body": body,
                       "json": js, "t": time.monotonic()}
                status, rbody, extra = fake._serve(req)
                req["status"] = status
                with fake.cond:
                    fake.cond.notify_all()
                delay = extra.pop("_delay", 0)
                if delay and fake.closing.wait(delay):
                    extra["_drop"] = True
                if extra.pop("_drop", False):
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                self.answer(status, rbody, extra)

            def answer(self, status, body, extra=None):
                if isinstance(body, (dict, list)):
                    data = json.dumps(body).encode()
                else:
                    data = body if isinstance(body, bytes) else (body or "").encode()
                try:
                    self.send_response(status)
                    if data:
                        self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("X-Correlating-OperationId", "%016x" % next(fake.opseq))
                    for k, v in (extra or {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.server = fakes.QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.origin = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def wait_for(self, pred, timeout=5.0):
        """Wait until pred() is truthy (re-checked after every request); returns its last value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                v = pred()
                left = deadline - time.monotonic()
                if v or left <= 0:
                    return v
                self.cond.wait(min(left, 0.1))

    def close(self):
        self.closing.set()        # wakes hanging answers, which then drop their connection
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- identity

class FakeTeamsIdentity(_Fake):
    """Bot Framework OpenID/JWKS publisher + Azure AD token endpoint (see the module docstring)."""

    def __init__(self, app_id=APP_ID, app_password=APP_PASSWORD, tenant_id=TENANT_ID, expires_in=3600,
                 kids=("key-1",), endorsements=("msteams", "skype"), opaque_tokens=False):
        self.app_id, self.app_password, self.tenant_id = app_id, app_password, tenant_id
        self.expires_in = expires_in
        self.opaque_tokens = opaque_tokens
        self.keys = {}            # kid -> (SigningKey, endorsements or None), in publication order
        self.metadata_fetches, self.keys_fetches = [], []
        self.token_requests, self.issued = [], []
        self.expiry, self.revoked = {}, set()
        self.failures = {}        # what -> [mode, remaining or None, delay]
        self.seq = itertools.count(1)
        self._start()
        self.openid_url = self.origin + "/v1/.well-known/openidconfiguration"
        self.jwks_uri = self.origin + "/v1/.well-known/keys"
        self.token_url = "%s/%s/oauth2/v2.0/token" % (self.origin, tenant_id)
        for kid in kids:
            self.add_key(kid, endorsements)

    def env(self):
        """The daemon's Teams settings pointing at this fake."""
        return {"WK_TEAMS_APP_ID": self.app_id, "WK_TEAMS_APP_PASSWORD": self.app_password,
                "WK_TEAMS_TENANT_ID": self.tenant_id, "WK_TEAMS_OPENID_URL": self.openid_url,
                "WK_TEAMS_TOKEN_URL": self.token_url, "WK_TEAMS_ISSUER": ISSUER}

    # -- keys
    def add_key(self, kid, endorsements=("msteams",), key=None):
        """Publish a key (rotation); endorsements=None publishes it without the field."""
        with self.lock:
            self.keys[kid] = (key or signing_key(kid), None if endorsements is None else list(endorsements))

    def remove_key(self, kid):
        with self.lock:
            self.keys.pop(kid, None)

    def jwks(self):
        with self.lock:
            return {"keys": [k.jwk(e) for k, e in self.keys.values()]}

    def fail(self, what, mode, count=None, delay=2.0):
        assert what in ("metadata", "keys", "token"), what
        with self.lock:
            if mode is None:
                self.failures.pop(what, None)
            else:
                self.failures[what] = [mode, count, delay]

    def _failure(self, what):
        with self.lock:
            f = self.failures.get(what)
            if not f:
                return None, 0
            if f[1] is not None:
                f[1] -= 1
                if f[1] <= 0:
                    del self.failures[what]
            return f[0], f[2]

    def _serve(self, req):
        path = urllib.parse.urlsplit(req["raw_path"]).path
        if path == "/v1/.well-known/openidconfiguration":
            with self.lock:
                self.metadata_fetches.append(req["t"])
            doc = {"issuer": ISSUER, "jwks_uri": self.jwks_uri, "id_token_signing_alg_values_supported": ["RS256"],
                   "token_endpoint_auth_methods_supported": ["private_key_jwt"]}
            return self._maybe_fail("metadata", req, doc)
        if path == "/v1/.well-known/keys":
            with self.lock:
                self.keys_fetches.append(req["t"])
            return self._maybe_fail("keys", req, self.jwks())
        parts = path.split("/")
        if len(parts) == 5 and parts[2:] == ["oauth2", "v2.0", "token"]:
            return self._token(req, urllib.parse.unquote(parts[1]))
        return 404, {"error": {"code": "NotFound", "message": "no such path"}}, {}

    def _maybe_fail(self, what, req, doc):
        if req["method"] != "GET":
            return 405, {"error": {"code": "MethodNotAllowed", "message": "GET only"}}, {"Allow": "GET"}
        mode, delay = self._failure(what)
        if mode == "500":
            return 500, {"error": {"code": "InternalServerError", "message": "scripted failure"}}, {}
        if mode == "garbage":
            return 200, b'{"keys": [{"kty": "RSA", "kid": ', {}
        return 200, doc, ({"_delay": delay} if mode == "slow" else {})

    def _token(self, req, tenant):
        h = req["headers"]
        rec = {"path": req["raw_path"], "tenant": tenant, "headers": h, "raw": req["body"], "form": None,
               "t": req["t"]}
        with self.lock:
            self.token_requests.append(rec)
        status, body, extra = self._token_answer(req, tenant, rec)
        rec["status"] = status
        return status, body, extra

    def _token_answer(self, req, tenant, rec):
        def err(status, code, desc):
            return status, {"error": code, "error_description": desc, "error_codes": [int(desc[6:desc.index(":")])],
                            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
                            "trace_id": "%032x" % next(self.seq)}, {}
        if req["method"] != "POST":
            return err(405, "invalid_request", "AADSTS90056: the token endpoint only accepts POST")
        if tenant not in (self.tenant_id, "botframework.com"):
            return err(400, "invalid_request", "AADSTS90002: Tenant '%s' not found." % tenant)
        mode, delay = self._failure("token")
        if mode == "500":
            return err(500, "temporarily_unavailable", "AADSTS90033: scripted failure")
        if mode == "garbage":
            return 200, b'{"token_type":"Bearer","access_tok', {}
        ct = (req["headers"].get("content-type") or "").split(";")[0].strip().lower()
        if ct != "application/x-www-form-urlencoded":
            return err(400, "invalid_request", "AADSTS900144: Content-Type must be application/x-www-form-urlencoded")
        try:
            pairs = urllib.parse.parse_qsl(req["body"].decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return err(400, "invalid_request", "AADSTS900144: malformed form body")
        form = dict(pairs)
        rec["form"] = form
        want = {"grant_type", "client_id", "client_secret", "scope"}
        if len(form) != len(pairs) or set(form) != want:
            return err(400, "invalid_request", "AADSTS900144: want exactly %s, got %s"
                       % (sorted(want), [k for k, _ in pairs]))
        if form["grant_type"] != "client_credentials":
            return err(400, "unsupported_grant_type", "AADSTS70003: unsupported grant_type")
        if form["scope"] != SCOPE:
            return err(400, "invalid_scope", "AADSTS70011: The provided value for scope is not valid.")
        if form["client_id"] != self.app_id:
            return err(400, "invalid_client", "AADSTS700016: Application '%s' not found." % form["client_id"])
        if not hmac.compare_digest(form["client_secret"].encode(), self.app_password.encode()):
            return err(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        token = self._new_access_token(tenant)
        with self.lock:
            self.issued.append(token)
            self.expiry[token] = time.monotonic() + self.expires_in
            n = self.expires_in
        return 200, {"token_type": "Bearer", "expires_in": n, "ext_expires_in": n, "access_token": token}, \
            ({"_delay": delay} if mode == "slow" else {})

    def _new_access_token(self, tenant):
        now = int(time.time())
        if self.opaque_tokens:
            return b64u(os.urandom(960))                 # 1280 characters
        tid = self.tenant_id if tenant == "botframework.com" else tenant
        claims = {"aud": ISSUER, "iss": "https://sts.windows.net/%s/" % tid, "iat": now, "nbf": now,
                  "exp": now + self.expires_in, "aio": b64u(os.urandom(120)), "appid": self.app_id,
                  "appidacr": "1", "idp": "https://sts.windows.net/%s/" % tid, "idtyp": "app",
                  "oid": "00000000-0000-0000-0000-%012x" % next(self.seq), "rh": b64u(os.urandom(48)) + ".",
                  "sub": self.app_id, "tid": tid, "uti": b64u(os.urandom(16)), "ver": "1.0",
                  "xms_tcdt": now - 86400 * 400}
        key = signing_key("aad-token-key")
        head = _json_b64u({"typ": "JWT", "alg": "RS256", "x5t": key.x5t, "kid": key.x5t})
        si = head + "." + _json_b64u(claims)
        return si + "." + b64u(key.sign("RS256", si.encode()))

    def revoke_all(self):
        with self.lock:
            self.revoked.update(self.issued)

    def token_ok(self, token):
        with self.lock:
            if token not in self.expiry:
                return False, "token not issued by the identity provider"
            if token in self.revoked:
                return False, "token revoked"
            if time.monotonic() >= self.expiry[token]:
                return False, "token expired"
        return True, ""

    # -- inbound tokens
    def mint(self, serviceurl=FIXTURE_SERVICE_URL, alg="RS256", key=None, kid=None, header=None, tamper=None,
             exp_in=3600, nbf_in=-10, pieces=False, **claims):
        """An inbound Bot Framework JWT, valid by default. key: which key signs (a published
        kid, another kid = a key never published, or a SigningKey); kid: the kid the header
        names (default the signer's); alg: RS256 | RS384 | RS512 | HS256 (HMAC keyed with the
        public key's PEM) | none (empty signature); exp_in/nbf_in: seconds from now; claims:
        overrides (iss=, aud="x" or ["a", "b"], serviceurl=DROP to leave one out, any extra);
        header: header overrides; tamper: claims changed after signing (True = serviceurl).
        pieces=True returns {header, claims, signing_input, signature, token}."""
        with self.lock:
            first = next(iter(self.keys), None)
        if key is None:
            key = first or "key-1"
        signer = key if isinstance(key, SigningKey) else (self.keys[key][0] if key in self.keys else signing_key(key))
        now = int(time.time())
        body = {"serviceurl": serviceurl, "nbf": now + nbf_in, "exp": now + exp_in, "iss": ISSUER, "aud": self.app_id}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not DROP}
        head = {"alg": alg, "kid": signer.kid if kid is None else kid, "typ": "JWT", "x5t": signer.x5t}
        head.update(header or {})
        si = _json_b64u(head) + "." + _json_b64u(body)
        sig = signer.sign(alg, si.encode())
        token = si + "." + b64u(sig)
        if tamper:
            changed = dict(body, **(tamper if isinstance(tamper, dict) else {"serviceurl": "https://evil.example/"}))
            token = _json_b64u(head) + "." + _json_b64u(changed) + "." + b64u(sig)
        if pieces:
            return {"header": head, "claims": body, "signing_input": si, "signature": sig, "token": token}
        return token

    auth_header = staticmethod(auth_header)

    def case(self, name, serviceurl=FIXTURE_SERVICE_URL):
        """(token, expected) for CASES[name]: expected "ok", 401 or 403 (teams.md 2.2)."""
        setup, kw, expected = CASES[name]
        if setup:
            setup(self)
        return self.mint(**dict({"serviceurl": serviceurl}, **kw)), expected


CASES = {   # name -> (setup(identity) or None, mint keywords, what the daemon must do)
    "valid": (None, {}, "ok"),
    "expired beyond skew": (None, {"exp_in": -SKEW - 60, "nbf_in": -3600}, 401),
    "expired within skew": (None, {"exp_in": -120, "nbf_in": -3600}, "ok"),
    "not yet valid beyond skew": (None, {"nbf_in": SKEW + 60, "exp_in": 7200}, 401),
    "not yet valid within skew": (None, {"nbf_in": 120}, "ok"),
    "wrong audience": (None, {"aud": "11111111-1111-1111-1111-111111111111"}, 401),
    "audience array with app id": (None, {"aud": ["11111111-1111-1111-1111-111111111111", APP_ID]}, "ok"),
    "audience array without app id": (None, {"aud": ["11111111-1111-1111-1111-111111111111"]}, 401),
    "wrong issuer": (None, {"iss": "https://sts.windows.net/%s/" % TENANT_ID}, 401),
    "missing serviceurl": (None, {"serviceurl": DROP}, 401),
    "other serviceurl": (None, {"serviceurl": "https://evil.example/"}, 401),
    "tampered payload": (None, {"tamper": True}, 401),
    "unknown kid": (None, {"kid": "no-such-kid"}, 401),
    "unpublished key, known kid": (None, {"key": "rogue-key", "kid": "key-1"}, 401),
    "alg none": (None, {"alg": "none"}, 401),
    "HS256 with the public key as secret": (None, {"alg": "HS256"}, 401),
    "RS384": (None, {"alg": "RS384"}, "ok"),
    "key without endorsements": (lambda i: i.add_key("key-noendorse", None), {"key": "key-noendorse"}, 403),
    "key endorsed for another channel": (lambda i: i.add_key("key-skype", ["skype"]), {"key": "key-skype"}, 403),
}
# aud: teams.md says `aud ==` app id; RFC 7519 4.1.3 and the JS SDK accept an array that
# contains it, hence "ok". RS384: the JS SDK allows it; a daemon accepting only RS256 (the
# metadata's list) may answer 401 instead: tests should choose.


# ---------------------------------------------------------------- connector

class FakeTeamsConnector(_Fake):
    """The Bot Connector REST v3 (see the module docstring); identity: a FakeTeamsIdentity."""

    def __init__(self, identity, directory=None, blocked_shape="top", enforce_rate=False, strict=False):
        self.identity = identity
        self.directory = {}                   # member id -> TeamsChannelAccount
        for m in (directory or [USER]):
            self.add_member(**m)
        self.blocked_shape = blocked_shape
        self.enforce_rate = enforce_rate
        self.strict = strict                  # unknown conversation -> 404 ConversationNotFound
        self.conversations = set()
        self.blocked = set()
        self.requests, self.failures = [], []
        self.activities = {}                  # conversation -> [{id, activity, reply_to, t, deleted}]
        self._updates, self._sends = [], {}
        self.idseq = itertools.count(int(time.time() * 1000) + 10 ** 9)   # apart from inbound ids
        self._start()
        self.url = self.origin + "/"

    def add_member(self, id, name, aadObjectId=None, email=None, userPrincipalName=None, tenantId=TENANT_ID, **_):
        given, _, sur = name.partition(" ")
        upn = userPrincipalName or email or name.lower().replace(" ", ".") + "@example.test"
        self.directory[id] = {"id": id, "name": name, "aadObjectId": aadObjectId, "givenName": given,
                              "surname": sur, "email": email or upn, "userPrincipalName": upn,
                              "tenantId": tenantId, "userRole": "user"}

    def add_conversation(self, conversation_id):
        with self.lock:
            self.conversations.add(conversation_id)

    def fail_next(self, kind, count=1, conversation=None, op=None):
        """The next `count` matching requests fail as `kind` (see the module docstring); op:
        "send" | "reply" | "update" | "delete" | "create" | "member" or None for all."""
        with self.lock:
            self.failures.append([str(kind), count, conversation, op])

    def block(self, conversation_id):
        with self.lock:
            self.blocked.add(conversation_id)

    def unblock(self, conversation_id):
        with self.lock:
            self.blocked.discard(conversation_id)

    def _error(self, status, code, message, extra=None):
        return status, {"error": {"code": code, "message": message}}, extra or {}

    def _route(self, method, segs):
        """(op, conversation, activity, member) from the decoded path segments, or None."""
        if segs[:2] != ["v3", "conversations"]:
            return None
        rest = segs[2:]
        if not rest and method == "POST":
            return "create", None, None, None
        if len(rest) == 2 and rest[1] == "activities" and method == "POST":
            return "send", rest[0], None, None
        if len(rest) == 3 and rest[1] == "activities":
            return {"POST": "reply", "PUT": "update", "DELETE": "delete"}.get(method), rest[0], rest[2], None
        if len(rest) == 3 and rest[1] == "members" and method == "GET":
            return "member", rest[0], None, rest[2]
        return None

    def _serve(self, req):
        split = urllib.parse.urlsplit(req["raw_path"])
        segs = [urllib.parse.unquote(s) for s in split.path.split("/")[1:]]
        route = self._route(req["method"], segs)
        op, conv, act, member = route if route else (None, None, None, None)
        req.update({"path": "/" + "/".join(segs), "op": op, "conversation": conv, "activity": act, "member": member})
        with self.lock:
            self.requests.append(req)
        auth = req["headers"].get("authorization", "")
        ok, why = (self.identity.token_ok(auth[7:]) if auth.startswith("Bearer ")
                   else (False, "missing Bearer token"))
        if not ok:
            return self._error(401, "Unauthorized", "Authorization has been denied for this request: " + why)
        if op is None:
            return self._error(404, "NotFound", "no such operation: %s %s" % (req["method"], req["path"]))
        if op in ("send", "reply"):
            with self.lock:
                self._sends.setdefault(conv, []).append(req["t"])
        if req["method"] in ("POST", "PUT"):
            if not _json_ct(req["headers"]):
                return self._error(400, "BadArgument", "Content-Type must be application/json")
            if not isinstance(req["json"], dict):
                return self._error(400, "BadSyntax", "the body is not a JSON object")
        extra = {}
        with self.lock:
            fail = None
            for f in self.failures:
                if (f[2] is None or f[2] == conv) and (f[3] is None or f[3] == op):
                    fail = f[0]
                    f[1] -= 1
                    if f[1] <= 0:
                        self.failures.remove(f)
                    break
            if fail is None and conv in self.blocked and op != "member":
                fail = "403"
            if fail is None and self.strict and conv is not None and conv not in self.conversations:
                fail = "404"
        if fail is None and self.enforce_rate and op in ("send", "reply") and self._over_rate(conv):
            fail = "429"
        if fail == "403":
            return 403, BLOCKED_SHAPES[self.blocked_shape], {}
        if fail in ERRORS:
            return self._error(int(fail), ERRORS[fail][0], ERRORS[fail][1],
                               {"Retry-After": "1"} if fail == "429" else None)
        if fail is not None and fail.isdigit():
            return self._error(int(fail), "ServiceError", "scripted failure")
        if fail == "hang":
            extra["_delay"] = self.hang_s
        elif fail == "drop":
            extra["_drop"] = True
        status, body, more = getattr(self, "_op_" + op)(req, conv, act, member)
        more.update(extra)
        return status, body, more

    def _new_id(self):
        with self.lock:
            return str(next(self.idseq))

    def _post(self, conv, activity, reply_to, t):
        aid = self._new_id()
        with self.lock:
            self.conversations.add(conv)
            self.activities.setdefault(conv, []).append({"id": aid, "activity": dict(activity, id=aid),
                                                         "reply_to": reply_to, "t": t, "deleted": False})
        return aid

    def _op_send(self, req, conv, act, member):
        if not req["json"].get("type"):
            return self._error(400, "BadArgument", "Activity type is required")
        return 201, {"id": self._post(conv, req["json"], req["json"].get("replyToId"), req["t"])}, {}

    def _op_reply(self, req, conv, act, member):
        if not req["json"].get("type"):
            return self._error(400, "BadArgument", "Activity type is required")
        return 201, {"id": self._post(conv, req["json"], act, req["t"])}, {}

    def _find(self, conv, act):
        for rec in self.activities.get(conv, []):
            if rec["id"] == act and not rec["deleted"]:
                return rec
        return None

    def _op_update(self, req, conv, act, member):
        with self.lock:
            rec = self._find(conv, act)
            if rec is None:
                return self._error(404, "ActivityNotFoundInConversation", "Unknown activity %s" % act)
            rec["activity"] = dict(req["json"], id=act)
            self._updates.append({"conversation": conv, "activity_id": act, "activity": req["json"], "t": req["t"]})
        return 200, {"id": act}, {}

    def _op_delete(self, req, conv, act, member):
        with self.lock:
            rec = self._find(conv, act)
            if rec is None:
                return self._error(404, "ActivityNotFoundInConversation", "Unknown activity %s" % act)
            rec["deleted"] = True
        return 200, b"", {}

    def _op_member(self, req, conv, act, member):
        with self.lock:
            m = self.directory.get(member) or next((m for m in self.directory.values()
                                                    if m["aadObjectId"] and m["aadObjectId"] == member), None)
        if m is None:
            return self._error(404, "MemberNotFoundInConversation", "The member %s is not in the conversation" % member)
        return 200, {k: v for k, v in m.items() if v is not None}, {}

    def _op_create(self, req, conv, act, member):
        p = req["json"]
        bot, members = p.get("bot"), p.get("members")
        tenant = p.get("tenantId") or ((p.get("channelData") or {}).get("tenant") or {}).get("id")
        if not (isinstance(bot, dict) and bot.get("id")):
            return self._error(400, "BadArgument", "Bot is required")
        if not (isinstance(members, list) and len(members) == 1 and isinstance(members[0], dict)
                and str(members[0].get("id", "")).startswith("29:")):
            return self._error(400, "BadArgument", "Incorrect conversation creation parameters: one 29: member")
        if not tenant:
            return self._error(400, "BadArgument", "Tenant id is required")
        if p.get("isGroup"):
            return self._error(400, "BadArgument", "Cannot create group conversations")
        cid = "a:1" + b64u(hashlib.sha256((members[0]["id"] + "|" + tenant).encode()).digest())[:40]
        with self.lock:
            if cid in self.blocked:
                return 403, BLOCKED_SHAPES[self.blocked_shape], {}
            self.conversations.add(cid)
        out = {"id": cid}
        if isinstance(p.get("activity"), dict):
            out["activityId"] = self._post(cid, p["activity"], None, req["t"])
        return 201, out, {}

    # -- what the tests look at
    def _records(self, conv):
        with self.lock:
            return [r for r in self.activities.get(conv, []) if not r["deleted"]]

    def messages(self, conversation_id):
        """The activities posted there (current version after updates; deleted ones left out), in order."""
        return [r["activity"] for r in self._records(conversation_id)]

    def texts(self, conversation_id):
        return [activity_text(a) for a in self.messages(conversation_id)]

    def updates(self, conversation_id=None):
        with self.lock:
            return [u for u in self._updates if conversation_id in (None, u["conversation"])]

    def sends(self, conversation_id):
        with self.lock:
            return list(self._sends.get(conversation_id, []))

    def max_in_window(self, conversation_id, window=1.0):
        ts = self.sends(conversation_id)
        return max((sum(1 for u in ts[i:] if u - t < window) for i, t in enumerate(ts)), default=0)

    def _over_rate(self, conv):
        ts = self.sends(conv)      # the request being checked is already in
        now = ts[-1]
        return any(sum(1 for t in ts if now - t < w) > n for n, w in RATE_LIMITS)

    def rate_violations(self, limits=RATE_LIMITS):
        """[(conversation, n, window, seen)] where more than n sends fell within window s."""
        with self.lock:
            convs = list(self._sends)
        return [(c, n, w, self.max_in_window(c, w)) for c in convs for n, w in limits if self.max_in_window(c, w) > n]


def card_texts(node):
    """Every TextBlock / RichTextBlock text and FactSet fact inside an Adaptive Card, in order."""
    out = []
    if isinstance(node, dict):
        t = node.get("type")
        if t == "TextBlock" and isinstance(node.get("text"), str):
            out.append(node["text"])
        elif t == "TextRun" and isinstance(node.get("text"), str):
            out.append(node["text"])
        elif t == "FactSet":
            out.extend("%s %s" % (f.get("title", ""), f.get("value", "")) for f in node.get("facts", []))
        for k in ("body", "items", "columns", "inlines", "card", "fallback"):
            if k in node:
                out.extend(card_texts(node[k]))
    elif isinstance(node, list):
        for n in node:
            out.extend(card_texts(n))
    return out


def activity_text(activity):
    """An activity's text plus the TextBlocks of its Adaptive Card attachments, one per line."""
    parts = [activity["text"]] if activity.get("text") else []
    for att in activity.get("attachments") or []:
        if isinstance(att, dict) and att.get("contentType") == CARD:
            parts.extend(card_texts(att.get("content")))
    return "\n".join(parts)


# ---------------------------------------------------------------- activities (what Teams sends)

_aseq = itertools.count(int(time.time() * 1000))     # 13-digit ids like Teams message ids


def _account(user):
    return dict(USER, id=user) if isinstance(user, str) else dict(user or USER)


def _activity(kind, user, tenant, service_url, conversation, app_id, bot_name, **fields):
    a = {"type": kind, "id": str(next(_aseq)), "timestamp": datetime.datetime.utcnow().isoformat()[:23] + "Z",
         "channelId": "msteams", "serviceUrl": service_url, "from": _account(user),
         "conversation": dict(conversation, tenantId=tenant), "recipient": {"id": "28:" + app_id, "name": bot_name},
         "channelData": {"tenant": {"id": tenant}}, "locale": "en-US"}
    a.update(fields)
    return a


def personal_message(text, user=None, tenant=TENANT_ID, service_url=FIXTURE_SERVICE_URL,
                     conversation_id="a:1fixtureConversationId", app_id=APP_ID, bot_name=BOT_NAME, **fields):
    return _activity("message", user, tenant, service_url, {"id": conversation_id, "conversationType": "personal"},
                     app_id, bot_name, text=text, textFormat="plain", **fields)


def channel_message(text_after_mention, user=None, tenant=TENANT_ID, service_url=FIXTURE_SERVICE_URL,
                    channel_id="19:fixturechannel@thread.skype", team_id="19:fixtureteam@thread.skype",
                    conversation_type="channel", app_id=APP_ID, bot_name=BOT_NAME, **fields):
    """A channel (or groupChat) message @mentioning the bot; the thread id carries ;messageid=."""
    at = "<at>%s</at>" % bot_name
    a = _activity("message", user, tenant, service_url, {}, app_id, bot_name, text=at + " " + text_after_mention,
                  textFormat="plain", entities=[{"type": "mention", "text": at,
                                                 "mentioned": {"id": "28:" + app_id, "name": bot_name}}])
    if conversation_type == "groupChat" and channel_id == "19:fixturechannel@thread.skype":
        channel_id = "19:fixturegroupchat@thread.v2"
    conv = {"id": channel_id, "conversationType": conversation_type, "tenantId": tenant, "isGroup": True}
    if conversation_type == "channel":
        conv["id"] = "%s;messageid=%s" % (channel_id, a["id"])
        a["channelData"].update(team={"id": team_id}, channel={"id": channel_id})
    a["conversation"] = conv
    a.update(fields)
    return a


def conversation_update(members_added=None, members_removed=None, conversation_type="personal", user=None,
                        tenant=TENANT_ID, service_url=FIXTURE_SERVICE_URL, conversation_id=None,
                        app_id=APP_ID, bot_name=BOT_NAME, **fields):
    """Default: the bot installed (membersAdded = [28:<app id>]). Members: ids or accounts."""
    if members_added is None and members_removed is None:
        members_added = ["28:" + app_id]
    personal = conversation_type == "personal"
    conv = {"id": conversation_id or ("a:1fixtureConversationId" if personal else "19:fixturechannel@thread.skype"),
            "conversationType": conversation_type}
    if not personal:
        conv["isGroup"] = True
    a = _activity("conversationUpdate", user, tenant, service_url, conv, app_id, bot_name, **fields)
    for name, ms in (("membersAdded", members_added), ("membersRemoved", members_removed)):
        if ms is not None:
            a[name] = [{"id": m} if isinstance(m, str) else m for m in ms]
    if conversation_type == "channel":
        a["channelData"].update(team={"id": "19:fixtureteam@thread.skype"},
                                eventType="teamMemberAdded" if members_added else "teamMemberRemoved")
    return a


def submit_action(value, reply_to_id="1700000040000", user=None, tenant=TENANT_ID, service_url=FIXTURE_SERVICE_URL,
                  conversation_id="a:1fixtureConversationId", app_id=APP_ID, bot_name=BOT_NAME, **fields):
    """Action.Submit: a message activity with `value` and no text."""
    return _activity("message", user, tenant, service_url, {"id": conversation_id, "conversationType": "personal"},
                     app_id, bot_name, value=value, replyToId=reply_to_id, **fields)


def invoke_action(verb, data=None, reply_to_id="1700000040000", action_id="", user=None, tenant=TENANT_ID,
                  service_url=FIXTURE_SERVICE_URL, conversation_id="a:1fixtureConversationId", app_id=APP_ID,
                  bot_name=BOT_NAME, **fields):
    """Action.Execute: an invoke named adaptiveCard/action."""
    value = {"action": {"type": "Action.Execute", "id": action_id, "verb": verb, "data": data or {}},
             "trigger": "manual"}
    return _activity("invoke", user, tenant, service_url, {"id": conversation_id, "conversationType": "personal"},
                     app_id, bot_name, name="adaptiveCard/action", value=value, replyToId=reply_to_id, **fields)


def post_activity(daemon_port, activity, token=None, identity=None, raw_body=None, extra_headers=None,
                  path="/teams/messages", timeout=5.0):
    """POST an activity to the daemon as Teams does; token None: a fresh one from identity for
    the activity's serviceUrl; token False: no Authorization header. -> (status, headers, body)."""
    from harness import http_request    # imported late: the fake works without the harness
    if token is None and identity is None:
        raise ValueError("post_activity: give token= or identity=")
    if token is None:
        token = identity.mint(serviceurl=activity.get("serviceUrl"))
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if token is not False:
        headers.update(auth_header(token))
    headers.update(extra_headers or {})
    body = raw_body if raw_body is not None else json.dumps(activity).encode()
    r = http_request(daemon_port, "POST", path, body=body, headers=headers, timeout=timeout)
    return r.status, r.headers, r.body
