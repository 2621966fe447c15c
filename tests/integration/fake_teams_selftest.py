#!/usr/bin/python3
"""fake_teams_selftest.py - check fake_teams.py itself, without the daemon:
tokens minted by FakeTeamsIdentity against an independent verifier of teams.md 2.2 that reads
the served metadata and JWKS (every case of fake_teams.CASES, forgeries included), key
rotation and publisher failures, the token endpoint (2.3) and its tokens on the connector,
create conversation -> send -> update -> delete (2.4), members, scripted 429/403/..., hang and
drop, percent-encoded conversation ids, rate accounting, the activity builders and
post_activity. Run:
  /usr/bin/python3 tests/integration/fake_teams_selftest.py
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

import fake_teams as ft  # noqa: E402
from harness import FakePeer, check, check_eq  # noqa: E402

SU = "http://127.0.0.1:1/"     # a service URL for tokens that never reach a connector


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def request(url, method="GET", body=None, headers=None, timeout=5.0):
    """-> (status, lower-case headers, body bytes)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = dict({"Content-Type": "application/json"}, **(headers or {}))
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def get_json(url):
    status, _, body = request(url)
    check_eq(status, 200, "GET " + url)
    return json.loads(body)


def verify(token, jwks, app_id, service_url, channel="msteams", now=None):
    """teams.md 2.2, written independently of the fake: "ok", 401 or 403."""
    now = time.time() if now is None else now
    try:
        h64, p64, s64 = token.split(".")
        head, claims, sig = json.loads(unb64u(h64)), json.loads(unb64u(p64)), unb64u(s64)
    except ValueError:
        return 401
    algs = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}
    if head.get("alg") not in algs:
        return 401
    jwk = next((k for k in jwks["keys"] if k.get("kid") == head.get("kid")), None)
    if jwk is None or jwk.get("kty") != "RSA":
        return 401
    pub = rsa.RSAPublicNumbers(int.from_bytes(unb64u(jwk["e"]), "big"),
                               int.from_bytes(unb64u(jwk["n"]), "big")).public_key()
    try:
        pub.verify(sig, (h64 + "." + p64).encode(), padding.PKCS1v15(), algs[head["alg"]])
    except InvalidSignature:
        return 401
    aud = claims.get("aud")
    if claims.get("iss") != "https://api.botframework.com":
        return 401
    if not (aud == app_id or (isinstance(aud, list) and app_id in aud)):
        return 401
    if not isinstance(claims.get("nbf"), int) or not isinstance(claims.get("exp"), int):
        return 401
    if now + 300 < claims["nbf"] or now - 300 >= claims["exp"]:
        return 401
    if claims.get("serviceurl") != service_url:
        return 401
    if channel not in (jwk.get("endorsements") or []):
        return 403
    return "ok"


def t_jwt_cases():
    ident = ft.FakeTeamsIdentity()
    try:
        meta = get_json(ident.openid_url)
        check_eq(meta, {"issuer": "https://api.botframework.com", "jwks_uri": ident.origin + "/v1/.well-known/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "token_endpoint_auth_methods_supported": ["private_key_jwt"]}, "metadata")
        jwks = get_json(meta["jwks_uri"])
        check_eq([k["kid"] for k in jwks["keys"]], ["key-1"], "published kids")
        k = jwks["keys"][0]
        check_eq((k["kty"], k["use"], k["endorsements"]), ("RSA", "sig", ["msteams", "skype"]), "jwk fields")
        check("=" not in k["n"] + k["e"] + k["x5t"], "base64url without padding")
        check_eq(k["x5t"], base64.urlsafe_b64encode(hashlib.sha1(base64.b64decode(k["x5c"][0])).digest())
                 .rstrip(b"=").decode(), "x5t is the certificate's SHA-1 thumbprint")
        check_eq((len(ident.metadata_fetches), len(ident.keys_fetches)), (1, 1), "fetch counts")
        head = json.loads(unb64u(ident.mint().split(".")[0]))
        check_eq(head, {"alg": "RS256", "kid": "key-1", "typ": "JWT", "x5t": k["x5t"]}, "header")
        p = ident.mint(serviceurl=SU, pieces=True)
        check_eq(sorted(p["claims"]), ["aud", "exp", "iss", "nbf", "serviceurl"], "default claims")
        check(abs(p["claims"]["nbf"] - (time.time() - 10)) < 3 and abs(p["claims"]["exp"] - (time.time() + 3600)) < 3,
              "nbf/exp: %r" % p["claims"])
        # the verifier can fail: the valid token for another bot, another service URL, later on
        check_eq(verify(p["token"], jwks, "someone-else", SU), 401, "negative control: audience")
        check_eq(verify(p["token"], jwks, ft.APP_ID, SU + "x"), 401, "negative control: serviceurl")
        check_eq(verify(p["token"], jwks, ft.APP_ID, SU, now=time.time() + 4000), 401, "negative control: time")
        for name in ft.CASES:
            token, expected = ident.case(name, serviceurl=SU)
            jwks = get_json(ident.jwks_uri)       # some cases publish a key first
            check_eq(verify(token, jwks, ft.APP_ID, SU), expected, "case %r" % name)
        check_eq(verify(ident.mint(serviceurl=SU, alg="RS512"), jwks, ft.APP_ID, SU), "ok", "RS512")
        # the forgeries are what they claim to be, not merely refused
        h64, p64, s64 = ident.mint(serviceurl=SU, alg="none").split(".")
        check_eq((json.loads(unb64u(h64))["alg"], s64), ("none", ""), "alg none: empty signature")
        h64, p64, s64 = ident.mint(serviceurl=SU, alg="HS256").split(".")
        pem = rsa.RSAPublicNumbers(int.from_bytes(unb64u(k["e"]), "big"), int.from_bytes(unb64u(k["n"]), "big")) \
            .public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        check_eq((json.loads(unb64u(h64))["alg"], unb64u(s64)),
                 ("HS256", hmac.new(pem, (h64 + "." + p64).encode(), hashlib.sha256).digest()),
                 "HS256 keyed with the served key's PEM")
        check_eq(ident.auth_header("abc"), {"Authorization": "Bearer abc"}, "auth_header")
    finally:
        ident.close()


def t_rotation_and_failures():
    ident = ft.FakeTeamsIdentity(kids=("key-1", "key-2"))
    try:
        check_eq([k["kid"] for k in get_json(ident.jwks_uri)["keys"]], ["key-1", "key-2"], "two keys")
        ident.add_key("key-3", endorsements=["msteams"])
        ident.remove_key("key-1")
        jwks = get_json(ident.jwks_uri)
        check_eq([k["kid"] for k in jwks["keys"]], ["key-2", "key-3"], "after rotation")
        check_eq(verify(ident.mint(serviceurl=SU, key="key-3"), jwks, ft.APP_ID, SU), "ok", "new key signs")
        check_eq(verify(ident.mint(serviceurl=SU, key="key-1"), jwks, ft.APP_ID, SU), 401, "removed key")
        ident.add_key("bare", endorsements=None)
        check("endorsements" not in get_json(ident.jwks_uri)["keys"][-1], "key without endorsements field")
        ident.fail("keys", "500", count=1)
        check_eq(request(ident.jwks_uri)[0], 500, "scripted 500")
        check_eq(request(ident.jwks_uri)[0], 200, "healed after count")
        ident.fail("metadata", "garbage")
        for _ in range(2):
            status, _, body = request(ident.openid_url)
            check_eq(status, 200, "garbage status")
            try:
                json.loads(body)
                check(False, "garbage body parsed as JSON: %r" % body)
            except ValueError:
                pass
        ident.fail("metadata", None)
        check_eq(request(ident.openid_url)[0], 200, "metadata healed")
        ident.fail("keys", "slow", count=1, delay=0.3)
        t0 = time.monotonic()
        status, _, _ = request(ident.jwks_uri)
        check(status == 200 and time.monotonic() - t0 >= 0.3, "slow answer took %.2f s" % (time.monotonic() - t0))
        check_eq((len(ident.metadata_fetches), len(ident.keys_fetches)), (3, 6), "fetch counts (failed ones too)")
        check(ident.keys_fetches == sorted(ident.keys_fetches), "timestamps in order")
    finally:
        ident.close()


def token_form(**over):
    f = {"grant_type": "client_credentials", "client_id": ft.APP_ID, "client_secret": ft.APP_PASSWORD,
         "scope": "https://api.botframework.com/.default"}
    f.update(over)
    return urllib.parse.urlencode({k: v for k, v in f.items() if v is not None}).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def get_token(ident, url=None, **over):
    return request(url or ident.token_url, "POST", token_form(**over), FORM)


def t_token_endpoint():
    ident = ft.FakeTeamsIdentity(expires_in=1234)
    try:
        status, _, body = get_token(ident)
        check_eq(status, 200, "token status %r" % body)
        js = json.loads(body)
        check_eq((js["token_type"], js["expires_in"], js["ext_expires_in"]), ("Bearer", 1234, 1234), "token fields")
        check(len(js["access_token"]) >= 1200, "access token length %d" % len(js["access_token"]))
        check_eq(ident.issued, [js["access_token"]], "issued")
        check_eq(ident.token_requests[0]["form"]["client_id"], ft.APP_ID, "recorded form")
        check_eq(get_token(ident, ident.origin + "/botframework.com/oauth2/v2.0/token")[0], 200, "legacy authority")
        bad = [("wrong secret", get_token(ident, client_secret="nope"), 401, "invalid_client"),
               ("wrong client id", get_token(ident, client_id="x"), 400, "invalid_client"),
               ("wrong scope", get_token(ident, scope="https://graph.microsoft.com/.default"), 400, "invalid_scope"),
               ("wrong grant", get_token(ident, grant_type="password"), 400, "unsupported_grant_type"),
               ("missing field", get_token(ident, scope=None), 400, "invalid_request"),
               ("extra field", get_token(ident, resource="x"), 400, "invalid_request"),
               ("JSON body", request(ident.token_url, "POST", {"client_id": ft.APP_ID}),
                400, "invalid_request"),
               ("other tenant", get_token(ident, ident.origin + "/other/oauth2/v2.0/token"), 400, "invalid_request")]
        for what, (status, _, body), want_status, want_error in bad:
            check_eq((status, json.loads(body)["error"]), (want_status, want_error), what)
        check_eq(len(ident.issued), 2, "no token for refused requests")
        opaque = ft.FakeTeamsIdentity(opaque_tokens=True)
        try:
            tok = json.loads(get_token(opaque)[2])["access_token"]
            check(len(tok) >= 1200 and "." not in tok, "opaque token %d" % len(tok))
        finally:
            opaque.close()
    finally:
        ident.close()


class World:
    def __init__(self, **kw):
        self.ident = ft.FakeTeamsIdentity()
        self.conn = ft.FakeTeamsConnector(self.ident, **kw)
        self.token = json.loads(get_token(self.ident)[2])["access_token"]

    def call(self, method, path, body=None, token=None, headers=None, timeout=5.0):
        h = dict(ft.auth_header(token or self.token), **(headers or {}))
        status, hdrs, raw = request(self.conn.url + path.lstrip("/"), method, body, h, timeout)
        check(hdrs.get("x-correlating-operationid") or status is None, "X-Correlating-OperationId missing")
        return status, hdrs, (json.loads(raw) if raw and raw[:1] == b"{" else raw)

    def close(self):
        self.conn.close()
        self.ident.close()


CARD_MSG = {"type": "message", "attachments": [{"contentType": ft.CARD, "content": {
    "type": "AdaptiveCard", "version": "1.5", "body": [
        {"type": "TextBlock", "text": "INC-42 firing", "wrap": True},
        {"type": "Container", "items": [{"type": "TextBlock", "text": "service api"}]}],
    "actions": [{"type": "Action.Execute", "title": "Acknowledge", "verb": "ack"}]}}]}


def t_connector_auth():
    w = World()
    try:
        path = "v3/conversations/a:x/activities"
        msg = {"type": "message", "text": "hi"}
        check_eq(request(w.conn.url + path, "POST", msg)[0], 401, "no Authorization")
        for what, tok in (("unknown token", "eyJ.forged.token"), ("inbound JWT", w.ident.mint())):
            st, _, js = w.call("POST", path, msg, token=tok)
            check_eq((st, js["error"]["code"]), (401, "Unauthorized"), what)
        check_eq(w.call("POST", path, msg)[0], 201, "issued token")
        w.ident.revoke_all()
        check_eq(w.call("POST", path, msg)[0], 401, "revoked token")
        w.ident.expires_in = 0
        tok = json.loads(get_token(w.ident)[2])["access_token"]
        check_eq(w.call("POST", path, msg, token=tok)[0], 401, "expired token")
        w.ident.expires_in = 3600
        w.token = json.loads(get_token(w.ident)[2])["access_token"]
        check_eq(w.call("POST", path, msg)[0], 201, "fresh token after revocation")
        check_eq(len(w.conn.messages("a:x")), 2, "only authorized sends posted")
    finally:
        w.close()


def t_roundtrip():
    w = World()
    try:
        params = {"bot": {"id": "28:" + ft.APP_ID, "name": "OnCall Bot"}, "members": [{"id": "29:1fixtureUserId"}],
                  "isGroup": False, "tenantId": ft.TENANT_ID, "channelData": {"tenant": {"id": ft.TENANT_ID}}}
        st, _, js = w.call("POST", "v3/conversations", params)
        check(st == 201 and js["id"].startswith("a:"), "create: %r %r" % (st, js))
        cid = js["id"]
        check_eq(w.call("POST", "v3/conversations", dict(params, tenantId=None))[2]["id"], cid,
                 "same 1:1 conversation, tenant from channelData")
        for what, bad in (("no tenant", dict(params, tenantId=None, channelData={})),
                          ("bot member", dict(params, members=[{"id": "28:x"}])),
                          ("two members", dict(params, members=[{"id": "29:a"}, {"id": "29:b"}])),
                          ("no bot", dict(params, bot=None))):
            st, _, js = w.call("POST", "v3/conversations", bad)
            check_eq((st, js["error"]["code"]), (400, "BadArgument"), what)
        st, _, js = w.call("POST", "v3/conversations/%s/activities" % cid, {"type": "message", "text": "You are paged"})
        check_eq(st, 201, "send")
        first = js["id"]
        st, _, js = w.call("POST", "v3/conversations/%s/activities" % cid, CARD_MSG)
        card_id = js["id"]
        check(card_id != first and card_id.isdigit(), "activity ids %r %r" % (first, card_id))
        check_eq(w.conn.texts(cid), ["You are paged", "INC-42 firing\nservice api"], "texts with card")
        upd = {"type": "message", "text": "INC-42 acknowledged by Alice"}
        check_eq(w.call("PUT", "v3/conversations/%s/activities/%s" % (cid, card_id), upd)[:3:2], (200, {"id": card_id}),
                 "update")
        check_eq(w.conn.texts(cid), ["You are paged", "INC-42 acknowledged by Alice"], "texts after update")
        check_eq([(u["activity_id"], u["activity"]) for u in w.conn.updates(cid)], [(card_id, upd)], "updates")
        check_eq(w.call("PUT", "v3/conversations/%s/activities/999" % cid, upd)[0], 404, "update unknown activity")
        st, _, js = w.call("POST", "v3/conversations/%s/activities/%s" % (cid, first), {"type": "message", "text": "r"})
        check_eq(st, 201, "reply")
        check_eq(w.call("DELETE", "v3/conversations/%s/activities/%s" % (cid, first))[0], 200, "delete")
        check_eq(w.call("DELETE", "v3/conversations/%s/activities/%s" % (cid, first))[0], 404, "delete twice")
        check_eq(w.conn.texts(cid), ["INC-42 acknowledged by Alice", "r"], "texts after delete")
        st, _, js = w.call("GET", "v3/conversations/%s/members/29:1fixtureUserId" % cid)
        check_eq((st, js["name"], js["aadObjectId"], js["tenantId"]), (200, "Alice Doe", ft.USER["aadObjectId"],
                                                                         ft.TENANT_ID), "member")
        check(js["email"] and js["userPrincipalName"], "member email/UPN %r" % js)
        st, _, js = w.call("GET", "v3/conversations/%s/members/29:nobody" % cid)
        check_eq((st, js["error"]["code"]), (404, "MemberNotFoundInConversation"), "unknown member")
        st, _, js = w.call("POST", "v3/conversations/%s/activities" % cid, b"{}", headers={"Content-Type": "text/plain"})
        check_eq(st, 400, "wrong Content-Type")
        st, _, _ = w.call("POST", "v3/conversations/%s/activities" % cid, b"x" * (ft.BODY_MAX + 1),
                          headers={"Content-Type": "application/json"})
        check_eq(st, 413, "body over 1 MB")
        check_eq(len(w.conn.wait_for(lambda: [r for r in w.conn.requests if r["op"] == "member"], 1)), 2,
                 "wait_for on requests")
        t0 = time.monotonic()
        check_eq(w.conn.wait_for(lambda: len(w.conn.messages(cid)) > 5, 0.3), False, "wait_for times out")
        check(0.3 <= time.monotonic() - t0 < 1.0, "wait_for timeout took %.2f s" % (time.monotonic() - t0))
    finally:
        w.close()


def t_scripted():
    w = World()
    try:
        send = "v3/conversations/%s/activities"
        msg = {"type": "message", "text": "x"}
        w.conn.fail_next("429", count=2, conversation="a:one")
        st, h, js = w.call("POST", send % "a:two", msg)
        check_eq(st, 201, "another conversation unaffected")
        for _ in range(2):
            st, h, js = w.call("POST", send % "a:one", msg)
            check_eq((st, h.get("retry-after"), js["error"]["code"]), (429, "1", "TooManyRequests"), "429")
        check_eq(w.call("POST", send % "a:one", msg)[0], 201, "after the scripted 429s")
        for kind, code in (("412", "PreconditionFailed"), ("502", "BadGateway"), ("504", "GatewayTimeout"),
                           ("404", "ConversationNotFound")):
            w.conn.fail_next(kind)
            st, _, js = w.call("POST", send % "a:one", msg)
            check_eq((st, js["error"]["code"]), (int(kind), code), kind)
        w.conn.fail_next("403")
        st, _, js = w.call("POST", send % "a:one", msg)
        check_eq((st, js), (403, {"error": {"code": "Forbidden", "message": js["error"]["message"]},
                                  "subCode": "MessageWritesBlocked"}), "403 blocked")
        w.conn.blocked_shape = "inner"
        w.conn.block("a:one")
        st, _, js = w.call("POST", send % "a:one", msg)
        check_eq((st, js["error"].get("subCode")), (403, "MessageWritesBlocked"), "blocked, inner shape")
        w.conn.unblock("a:one")
        check_eq(len(w.conn.messages("a:one")), 1, "failed sends not posted")
        w.conn.hang_s = 0.6
        w.conn.fail_next("hang")
        try:
            w.call("POST", send % "a:hang", msg, timeout=0.2)
            check(False, "hang answered within 0.2 s")
        except socket.timeout:
            pass
        check_eq(len(w.conn.messages("a:hang")), 1, "hung send posted anyway")
        w.conn.fail_next("drop", op="send")
        try:
            w.call("POST", send % "a:drop", msg)
            check(False, "dropped request answered")
        except (http.client.RemoteDisconnected, ConnectionResetError):
            pass
        check_eq(len(w.conn.messages("a:drop")), 1, "dropped send posted anyway")
    finally:
        w.close()


def t_encoded_ids():
    w = World()
    try:
        cid = "19:abc=def@thread.skype;messageid=1700000030000"
        for path_id in (cid, urllib.parse.quote(cid, safe="")):
            st, _, js = w.call("POST", "v3/conversations/%s/activities" % path_id, {"type": "message", "text": path_id})
            check_eq(st, 201, "send to %s" % path_id)
        check_eq(len(w.conn.messages(cid)), 2, "both forms reach one conversation")
        st, _, _ = w.call("PUT", "v3/conversations/%s/activities/%s" % (urllib.parse.quote(cid, safe=""), js["id"]),
                          {"type": "message", "text": "u"})
        check_eq(st, 200, "update by encoded id")
        check_eq(w.conn.requests[-1]["conversation"], cid, "decoded id recorded")
        check("%3A" in w.conn.requests[-1]["raw_path"], "raw path recorded")
    finally:
        w.close()


def t_rate():
    w = World()
    try:
        for _ in range(9):
            w.call("POST", "v3/conversations/a:r/activities", {"type": "message", "text": "x"})
        check(w.conn.max_in_window("a:r", 1.0) == 9, "9 sends in 1 s: %d" % w.conn.max_in_window("a:r", 1.0))
        check_eq([v[:3] for v in w.conn.rate_violations()], [("a:r", 7, 1.0), ("a:r", 8, 2.0)], "violations")
        w.conn.enforce_rate = True
        statuses = [w.call("POST", "v3/conversations/a:e/activities", {"type": "message", "text": "x"})[0]
                    for _ in range(8)]
        check_eq(statuses, [201] * 7 + [429], "enforced 7/1 s")
    finally:
        w.close()


def t_activities():
    ident = ft.FakeTeamsIdentity()
    peer = FakePeer()
    try:
        a, b = ft.personal_message("ack INC-42"), ft.personal_message("ack INC-42")
        check(a["id"] != b["id"], "unique ids")
        check_eq({k: a[k] for k in ("type", "channelId", "serviceUrl", "text", "from", "recipient")},
                 {"type": "message", "channelId": "msteams", "serviceUrl": "https://smba.trafficmanager.net/amer/",
                  "text": "ack INC-42", "from": ft.USER, "recipient": {"id": "28:" + ft.APP_ID, "name": "OnCall Bot"}},
                 "personal message")
        check_eq(a["conversation"]["tenantId"], ft.TENANT_ID, "tenant")
        c = ft.channel_message("who")
        check_eq((c["text"], c["entities"][0]["text"], c["entities"][0]["mentioned"]["id"]),
                 ("<at>OnCall Bot</at> who", "<at>OnCall Bot</at>", "28:" + ft.APP_ID), "mention")
        check(c["conversation"]["id"].endswith(";messageid=" + c["id"]), "thread id %r" % c["conversation"]["id"])
        g = ft.channel_message("who", conversation_type="groupChat")
        check(g["conversation"]["id"].endswith("@thread.v2") and "team" not in g["channelData"], "group chat %r" % g)
        u = ft.conversation_update()
        check_eq((u["type"], u["membersAdded"]), ("conversationUpdate", [{"id": "28:" + ft.APP_ID}]), "install")
        s = ft.submit_action({"verb": "ack", "incident": "INC-42"})
        check("text" not in s and s["value"]["verb"] == "ack" and s["replyToId"], "submit %r" % s)
        i = ft.invoke_action("ack", {"incident": "INC-42"})
        check_eq((i["type"], i["name"], i["value"]["action"]["verb"], i["value"]["action"]["type"]),
                 ("invoke", "adaptiveCard/action", "ack", "Action.Execute"), "invoke")
        act = ft.personal_message("who", service_url="http://127.0.0.1:9/")
        status, _, _ = ft.post_activity(peer.port, act, identity=ident)
        check_eq(status, 200, "post_activity status")
        req = peer.wait_for(1)[0]
        check_eq((req["path"], req["json"]), ("/teams/messages", act), "posted body")
        tok = req["headers"]["authorization"][len("Bearer "):]
        check_eq(verify(tok, get_json(ident.jwks_uri), ft.APP_ID, "http://127.0.0.1:9/"), "ok",
                 "post_activity token matches the activity's serviceUrl")
        ft.post_activity(peer.port, act, token=False, raw_body=b"{", extra_headers={"X-Test": "1"})
        req = peer.wait_for(2)[1]
        check("authorization" not in req["headers"] and req["body"] == b"{" and req["headers"]["x-test"] == "1",
              "token=False, raw_body, extra_headers")
    finally:
        peer.close()
        ident.close()


def main():
    failed = 0
    for name, f in (("JWTs against the served JWKS: every case", t_jwt_cases),
                    ("key rotation, publisher failures, fetch counts", t_rotation_and_failures),
                    ("token endpoint: form checks, errors, long tokens", t_token_endpoint),
                    ("connector auth: issued, revoked, expired tokens", t_connector_auth),
                    ("create conversation, send, update, reply, delete, members", t_roundtrip),
                    ("scripted 429/412/502/504/404/403, hang, drop", t_scripted),
                    ("percent-encoded conversation ids", t_encoded_ids),
                    ("rate accounting and enforcement", t_rate),
                    ("activity builders and post_activity", t_activities)):
        t0 = time.monotonic()
        try:
            f()
            print("ok - %s (%.1f s)" % (name, time.monotonic() - t0))
        except Exception as e:
            failed += 1
            print("not ok - %s: %s: %s" % (name, type(e).__name__, e))
    print("fake-teams-selftest-result failed=%d" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
