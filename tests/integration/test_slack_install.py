"""Issue 15: installing the Slack app in many workspaces (OAuth v2), each workspace's own bot token.

The daemon runs with slack.client_id/client_secret, a fake authorize URL (never fetched: the test
plays the browser and Slack), secrets.key, and the harness's FakePeer as Slack's Web API: its
oauth.v2.access answers codes as Slack does (slack.md 1.6 shape), and conversations.open /
chat.postMessage answer any bearer, recording which one came. The state is checked in Python with
the daemon's own derivation (adapters/slack_oauth.h), so an expired state is one signed with an
old timestamp, not a test knob.
"""

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.parse

import harness
from harness import (check, check_eq, check_re, http_request, own_world, run_cli, short, slack_command, test,
                     wait_until)

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-not-real-5e0c"
OAUTH_URL = "https://slack.example/oauth/v2/authorize"
KEY1 = base64.b64encode(b"1" * 32).decode()
KEY2 = base64.b64encode(b"2" * 32).decode()
FALLBACK = "xoxb-integration-test"  # harness: slack.bot_token
TOKENS = {"T0ONE": "xoxb-1001-one-aaaaaaaaaaaa", "T0TWO": "xoxb-1002-two-bbbbbbbbbbbb",
          "T0ENT": "xoxb-1003-ent-cccccccccccc", "T0ROT": "xoxb-1004-rot-dddddddddddd"}
NAMES = {"T0ONE": "Acme <One> & Co", "T0TWO": "Beta Two", "T0ENT": "Grid Org", "T0ROT": "Rotating"}
ALICE = "U0ALICE"
ENV = dict(WK_SLACK_CLIENT_ID=CLIENT_ID, WK_SLACK_CLIENT_SECRET=CLIENT_SECRET, WK_SLACK_OAUTH_URL=OAUTH_URL,
           WK_SECRET_KEY=KEY1)

_shared = {}


def world():
    """The module's daemon with installs on (started on first use, stopped by the last test)."""
    w = _shared.get("w")
    if w is None:
        w = _shared["w"] = harness.World(**ENV)
    w.reset()
    fake_slack(w)
    return w


# ---------------------------------------------------------------- Slack's side

def fake_slack(w):
    """oauth.v2.access by code ("good-<team>", "ent-<team>"), plus DMs for any bearer."""
    def access(req):
        form = urllib.parse.parse_qs(req["body"].decode())
        one = {k: v[0] for k, v in form.items()}
        if one.get("client_id") != CLIENT_ID or one.get("client_secret") != CLIENT_SECRET:
            return {"ok": False, "error": "invalid_client_id"}
        if one.get("redirect_uri") != w.env["WK_PUBLIC_URL"] + "/slack/oauth/callback":
            return {"ok": False, "error": "bad_redirect_uri"}
        m = re.match(r"(good|ent)-(T0\w+)$", one.get("code", ""))
        if not m:
            return {"ok": False, "error": "invalid_code"}
        team = m.group(2)
        ent = m.group(1) == "ent"
        return {"ok": True, "access_token": TOKENS[team], "token_type": "bot",
                "scope": "commands,chat:write,im:write", "bot_user_id": "U0BOT" + team[2:], "app_id": "A0APP",
                "team": {"id": team, "name": NAMES[team]},
                "enterprise": {"id": "E0GRID", "name": "Grid"} if ent else None,
                "is_enterprise_install": ent,
                "authed_user": {"id": ALICE, "scope": "", "access_token": "xoxp-user-token-not-stored",
                                "token_type": "user"}}
    w.peer.route("/api/oauth.v2.access", body=access)
    w.peer.route("/api/conversations.open", body=lambda req: {
        "ok": True, "channel": {"id": "D" + urllib.parse.parse_qs(req["body"].decode()).get("users", ["X"])[0]}})
    w.peer.route("/api/chat.postMessage", body=lambda req: {
        "ok": True, "channel": (req["json"] or {}).get("channel", ""), "ts": "%.6f" % time.time()})


def state_key(material):
    return hmac.new(material.encode(), b"watchkeeper slack oauth state v1", hashlib.sha256).digest()


def make_state(nonce, ts, material=KEY1):
    """The daemon's state for nonce, made at ts: "v1.<ts>.<h>.<mac>"."""
    h = hashlib.sha256(nonce.encode()).hexdigest()[:32]
    body = "v1.%d.%s" % (ts, h)
    return body + "." + hmac.new(state_key(material), body.encode(), hashlib.sha256).hexdigest()


def start_install(w):
    """GET /slack/install: (the parsed Location query, the cookie nonce, the Set-Cookie value)."""
    r = w.http("GET", "/slack/install")
    check_eq(r.status, 302, "GET /slack/install status (%r)" % short(r.body))
    loc = r.header("location")
    check(loc.startswith(OAUTH_URL + "?"), "Location %r does not go to slack.oauth_url" % loc)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query, strict_parsing=True)
    cookie = r.header("set-cookie")
    m = re.match(r"wk_slack_oauth=([0-9a-f]{32});", cookie)
    check(m, "Set-Cookie %r" % cookie)
    return {k: v[0] for k, v in q.items()}, m.group(1), cookie


def callback(w, query, nonce=None, cookie_header=None, port=None):
    headers = {}
    if cookie_header is not None:
        headers["Cookie"] = cookie_header
    elif nonce is not None:
        headers["Cookie"] = "theme=dark; wk_slack_oauth=%s" % nonce
    path = "/slack/oauth/callback?" + urllib.parse.urlencode(query)
    return http_request(port or w.port, "GET", path, headers=headers, timeout=15)


def install(w, team, code=None):
    q, nonce, _ = start_install(w)
    return callback(w, {"code": code or "good-" + team, "state": q["state"]}, nonce)


def all_redis_text(r):
    """Every key and every value of every type in Redis, SCANned, as one list of strings."""
    out, cursor = [], "0"
    while True:
        cursor, keys = r("SCAN", cursor, "COUNT", "1000")
        for k in keys:
            out.append(k)
            t = r("TYPE", k)
            if t == "string":
                out.append(r("GET", k) or "")
            elif t == "hash":
                out.extend(r("HGETALL", k))
            elif t == "list":
                out.extend(r("LRANGE", k, 0, -1))
            elif t == "set":
                out.extend(r("SMEMBERS", k))
            elif t == "zset":
                out.extend(r("ZRANGE", k, 0, -1))
            elif t == "stream":
                for _id, fields in r("XRANGE", k, "-", "+"):
                    out.extend(fields)
        if cursor == "0":
            return out


def check_no_token_in_redis(w):
    texts = all_redis_text(w.r)
    leaks = [t for t in texts if "xoxb-" in t or "xoxp-" in t or CLIENT_SECRET in t]
    check(not leaks, "a token in Redis: %r" % [short(t, 80) for t in leaks])
    # response_urls are credentials of their own (Slack's, one per command), never a bot token:
    # the loop above already proved none carries one.


def check_log_clean(w):
    log = w.daemon.stderr_text()
    for secret in list(TOKENS.values()) + [CLIENT_SECRET, "xoxp-user-token-not-stored"]:
        check(secret not in log, "the daemon log shows %r" % secret[:12])


def me_test_bearer(w, team, user=ALICE, port=None):
    """`/oncall` then `/oncall me test` in team; the bearer of the DM's chat.postMessage."""
    port = port or w.port
    w.peer.clear()
    fake_slack(w)
    for text in ("", "me test"):
        body, headers = slack_command(text, user_id=user, team_id=team,
                                      response_url=w.peer.url + "/commands/%s/%s" % (team, text or "first"))
        r = http_request(port, "POST", "/slack/commands", body, headers, timeout=10)
        check_eq(r.status, 200, "/oncall %s in %s" % (text, team))

    def posted():
        return [p for p in w.peer.requests if p["path"].startswith("/api/chat.postMessage")
                and (p["json"] or {}).get("channel") == "D" + user
                and "test page" in (p["json"] or {}).get("text", "")]
    got = wait_until(posted, 10)
    check(got, "no test DM in %s; requests %r" % (team, [p["path"] for p in w.peer.requests]))
    opened = [p for p in w.peer.requests if p["path"].startswith("/api/conversations.open")]
    return got[-1]["headers"].get("authorization"), opened[-1]["headers"].get("authorization") if opened else None


# ---------------------------------------------------------------- tests

@test("install: /slack/install redirects to slack.oauth_url with client_id, the manifest's scopes, the "
      "callback as redirect_uri and a signed state bound to an HttpOnly cookie", world=False)
def _():
    w = world()
    q, nonce, cookie = start_install(w)
    check_eq(q["client_id"], CLIENT_ID, "client_id")
    check_eq(q["redirect_uri"], w.env["WK_PUBLIC_URL"] + "/slack/oauth/callback", "redirect_uri")
    rc, manifest, err = run_cli(["manifest", "slack"], dict(w.env))
    check_eq(rc, 0, "manifest exit (%r)" % short(err))
    bot = re.search(r"\n    bot:\n((?:      - \S+\n)+)", manifest)
    check(bot, "no bot scopes in the manifest")
    check_eq(q["scope"].split(","), re.findall(r"- (\S+)", bot.group(1)), "scope vs the manifest's bot scopes")
    m = re.match(r"v1\.(\d+)\.([0-9a-f]{32})\.([0-9a-f]{64})$", q["state"])
    check(m, "state shape %r" % q["state"])
    check(abs(int(m.group(1)) - time.time()) < 30, "state time %s" % m.group(1))
    check_eq(q["state"], make_state(nonce, int(m.group(1))), "the state as signed with the derivation")
    for part in ("HttpOnly", "SameSite=Lax", "Path=/slack/oauth", "Max-Age=600"):
        check(part in cookie, "Set-Cookie %r lacks %s" % (cookie, part))
    check("Secure" not in cookie, "Secure on an http public_url: %r" % cookie)
    check_eq(w.r.snapshot(), {}, "Redis after /slack/install (nothing stored)")


@test("callback: tampered, expired, cookie-less, other-cookie, malformed and missing states are 400 with "
      "a page, nothing in Redis and no call to Slack", world=False)
def _():
    w = world()
    q, nonce, _ = start_install(w)
    good = q["state"]
    now = int(time.time())
    other = "0" * 32
    bad_mac = good[:-1] + ("0" if good[-1] != "0" else "1")
    cases = [
        ("tampered MAC", {"code": "good-T0ONE", "state": bad_mac}, nonce, r"not signed"),
        ("tampered time", {"code": "good-T0ONE", "state": good.replace("v1.%s" % good.split(".")[1],
                                                                        "v1.%d" % (now + 1), 1)}, nonce,
         r"not signed"),
        ("expired", {"code": "good-T0ONE", "state": make_state(nonce, now - 601)}, nonce, r"expired"),
        ("from the future", {"code": "good-T0ONE", "state": make_state(nonce, now + 3600)}, nonce, r"expired"),
        ("signed with another key", {"code": "good-T0ONE", "state": make_state(nonce, now, KEY2)}, nonce,
         r"not signed"),
        ("no cookie", {"code": "good-T0ONE", "state": good}, None, r"no install cookie"),
        ("another browser's cookie", {"code": "good-T0ONE", "state": good}, other, r"another browser"),
        ("malformed", {"code": "good-T0ONE", "state": "v1.x.y"}, nonce, r"malformed"),
        ("missing", {"code": "good-T0ONE"}, nonce, r"malformed"),
        ("a code with markup", {"code": "<script>", "state": good}, nonce, r"unexpected characters"),
    ]
    for what, query, n, why in cases:
        r = callback(w, query, n)
        check_eq(r.status, 400, "%s: status (%r)" % (what, short(r.body)))
        check(r.header("content-type").startswith("text/html"), "%s: content type" % what)
        check_re(why, r.text, "%s: the page" % what)
        check_re(r"Nothing was stored", r.text, "%s: the page" % what)
        check("<script>" not in r.text, "%s: markup echoed" % what)
    # a cookie header with our name but another shape counts as none
    r = callback(w, {"code": "good-T0ONE", "state": good}, cookie_header="wk_slack_oauth=%s" % nonce.upper())
    check_eq(r.status, 400, "an upper-case nonce")
    check_eq(w.r.snapshot(), {}, "Redis after the refusals")
    check_eq([p["path"] for p in w.peer.requests if "oauth" in p["path"]], [], "calls to oauth.v2.access")


@test("callback: the user cancelling at Slack (error=access_denied) gets a friendly page; nothing stored",
      world=False)
def _():
    w = world()
    q, nonce, _ = start_install(w)
    r = callback(w, {"error": "access_denied", "state": q["state"]}, nonce)
    check_eq(r.status, 200, "status")
    check_re(r"(?s)cancelled.*nothing was stored", r.text, "page")
    check_eq(w.r.snapshot(), {}, "Redis")
    check_eq([p for p in w.peer.requests if "oauth" in p["path"]], [], "calls to Slack")


@test("callback: a good code is exchanged (client_id, client_secret, code, redirect_uri), the token stored "
      "sealed, 'Installed in <team>'; no key or value in Redis holds a token; the log neither", world=False)
def _():
    w = world()
    r = install(w, "T0ONE")
    check_eq(r.status, 200, "status (%r)" % short(r.body))
    check_re(r"<title>Installed in Acme &lt;One&gt; &amp; Co</title>", r.text, "page title (escaped)")
    check_re(r"wk_slack_oauth=; Path=/slack/oauth; Max-Age=0", r.header("set-cookie"), "cookie cleared")
    calls = [p for p in w.peer.requests if p["path"].startswith("/api/oauth.v2.access")]
    check_eq(len(calls), 1, "oauth.v2.access calls")
    c = calls[0]
    check_eq(c["method"], "POST", "method")
    check(c["headers"].get("content-type", "").startswith("application/x-www-form-urlencoded"), "content type")
    form = {k: v[0] for k, v in urllib.parse.parse_qs(c["body"].decode(), strict_parsing=True).items()}
    check_eq(form, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": "good-T0ONE",
                    "redirect_uri": w.env["WK_PUBLIC_URL"] + "/slack/oauth/callback"}, "the exchange's form")
    check("authorization" not in c["headers"], "a bearer on oauth.v2.access")
    h = w.r.hgetall("wk:{slack:T0ONE}:slack_install")
    check(h.get("bot_token", "").startswith("s1."), "sealed token: %r" % h.get("bot_token", "")[:8])
    check_eq((h["bot_user_id"], h["team_name"], h["installer"], h["app_id"]),
             ("U0BOTONE", NAMES["T0ONE"], ALICE, "A0APP"), "what the install learned")
    check_eq(h["scopes"], "commands,chat:write,im:write", "scopes")
    check(abs(int(h["installed_ms"]) / 1000 - time.time()) < 60, "installed_ms")
    check_eq(w.r("SMEMBERS", "wk:slack_installs"), ["T0ONE"], "the index of installs")
    check_no_token_in_redis(w)
    # the same state and cookie again: the code is spent at Slack, and nothing changes
    check_log_clean(w)


@test("two workspaces: each one's DMs carry its own bearer token; a workspace never installed uses "
      "slack.bot_token; a reinstall's new token is used at once", world=False)
def _():
    w = world()
    for team in ("T0ONE", "T0TWO"):
        check_eq(install(w, team).status, 200, "install " + team)
    for team in ("T0ONE", "T0TWO"):
        post, opened = me_test_bearer(w, team)
        check_eq(post, "Bearer " + TOKENS[team], "chat.postMessage bearer in " + team)
        check_eq(opened, "Bearer " + TOKENS[team], "conversations.open bearer in " + team)
    post, _ = me_test_bearer(w, "T0NONE", user="U0NEWBIE")
    check_eq(post, "Bearer " + FALLBACK, "bearer in a workspace never installed")
    # reinstalled (another instance would do the same): the stored sealed text changes, so the
    # cached token is not used any more
    TOKENS["T0TWO"] = "xoxb-1002-two-newnewnewnew"
    try:
        check_eq(install(w, "T0TWO").status, 200, "reinstall")
        w.peer.clear()
        fake_slack(w)
        post, _ = me_test_bearer(w, "T0TWO")
        check_eq(post, "Bearer " + TOKENS["T0TWO"], "bearer after the reinstall")
    finally:
        TOKENS["T0TWO"] = "xoxb-1002-two-bbbbbbbbbbbb"
    check_no_token_in_redis(w)
    check_log_clean(w)


def uninstall_event(w, team, kind):
    """A signed app_uninstalled / tokens_revoked (bot) event for team to /slack/events."""
    event = {"type": kind, "event_ts": "%.6f" % time.time()}
    if kind == "tokens_revoked":
        event["tokens"] = {"oauth": [], "bot": ["U0BOT" + team[2:]]}
    body = json.dumps({"token": "legacyTok", "team_id": team, "api_app_id": "A0APP", "type": "event_callback",
                       "event": event, "event_id": "Ev%s%s%d" % (kind[:3], team, int(time.time() * 1000)),
                       "event_time": int(time.time())}).encode()
    ts = int(time.time())
    return w.http("POST", "/slack/events", body, {"Content-Type": "application/json",
                                                  "X-Slack-Request-Timestamp": str(ts),
                                                  "X-Slack-Signature": harness.slack_sign(harness.SECRET, ts, body)})


@test("app_uninstalled and tokens_revoked forget the workspace's token: it is gone from Redis, and the next "
      "message uses slack.bot_token, not the old one", world=False)
def _():
    w = world()
    for team, kind in (("T0ONE", "app_uninstalled"), ("T0TWO", "tokens_revoked")):
        check_eq(install(w, team).status, 200, "install " + team)
        post, _ = me_test_bearer(w, team)
        check_eq(post, "Bearer " + TOKENS[team], "bearer before %s" % kind)
        key = "wk:{slack:%s}:slack_install" % team
        check(w.r("EXISTS", key), "no install record for " + team)
        check_eq(uninstall_event(w, team, kind).status, 200, kind)
        check(wait_until(lambda: not w.r("EXISTS", key), 5), "%s left the install record: %r" % (kind, w.r.hgetall(key)))
        post, _ = me_test_bearer(w, team)
        check_eq(post, "Bearer " + FALLBACK, "bearer after %s" % kind)
    check_log_clean(w)


@test("an Enterprise Grid org-wide install is refused with a page and nothing stored", world=False)
def _():
    w = world()
    r = install(w, "T0ENT", code="ent-T0ENT")
    check_eq(r.status, 403, "status (%r)" % short(r.body))
    check_re(r"(?s)Org-wide installs are not supported.*nothing was stored", r.text, "page")
    check_eq(w.r.snapshot(), {}, "Redis")


@test("Slack refusing the code (invalid_code) is a 400 page naming the code; nothing stored", world=False)
def _():
    w = world()
    q, nonce, _ = start_install(w)
    r = callback(w, {"code": "spent-code", "state": q["state"]}, nonce)
    check_eq(r.status, 400, "status")
    check_re(r"Slack said invalid_code", r.text, "page")
    check_eq(w.r.snapshot(), {}, "Redis")
    check_re(r"event=slack\.api .*method=oauth\.v2\.access error=invalid_code", w.daemon.stderr_text(),
             "the ok:false log line")


@test("429 on chat.postMessage with Retry-After: no second call to it before that time", world=False)
def _():
    w = world()
    check_eq(install(w, "T0ONE").status, 200, "install")
    w.oncall("", ALICE, "T0ONE")
    w.add_member("U0BOB", "developer", owner=ALICE, team="T0ONE")
    w.peer.clear()
    fake_slack(w)
    calls = []

    def limited(req):
        calls.append(time.monotonic())
        return 429 if len(calls) == 1 else 200
    w.peer.route("/api/chat.postMessage", status=limited, body=lambda req: (
        {"ok": False, "error": "ratelimited"} if len(calls) == 1 else
        {"ok": True, "channel": (req["json"] or {}).get("channel", ""), "ts": "1.2"}),
        headers={"Content-Type": "application/json", "Retry-After": "4"})
    for user in (ALICE, "U0BOB"):  # two people: the outbox's own per-person pace plays no part
        body, headers = slack_command("me test", user_id=user, team_id="T0ONE",
                                      response_url=w.peer.url + "/commands/T0ONE/" + user)
        check_eq(http_request(w.port, "POST", "/slack/commands", body, headers, timeout=10).status, 200, "me test")
    check(wait_until(lambda: calls, 5), "no chat.postMessage")
    time.sleep(3.0)
    # The two DMs go out on two sender threads: the other may have left together with the first,
    # before the 429 was known. No call may start after the 429 was answered and before its time.
    first = calls[0]
    together = [t for t in calls[1:] if t < first + 0.3]
    early = [round(t - first, 2) for t in calls[1:] if first + 0.3 <= t < first + 3.9]
    check_eq(early, [], "chat.postMessage calls after the 429 and before its Retry-After: 4 (s after it)")
    check(wait_until(lambda: any(t >= first + 3.9 for t in calls), 20),
          "the limited DM was not sent after the limit: %d calls" % len(calls))
    log = w.daemon.stderr_text()
    if not together:
        check_re(r"rate limiting chat\.postMessage for this workspace; retry in \d s \(no call made\)", log,
                 "the other DM held back without a call")
    check_re(r"method=chat\.postMessage team=T0ONE status=429 retry_after=4", log, "the 429 log line")


@test("channel posts are paced to about one a second per channel (three incident cards opened at once), each "
      "with the workspace's token", world=False)
def _():
    w = world()
    check_eq(install(w, "T0TWO").status, 200, "install")
    w.oncall("", ALICE, "T0TWO")
    w.peer.clear()
    fake_slack(w)
    for i in range(3):
        body, headers = slack_command("open card %d is broken sev=critical" % i, team_id="T0TWO", command="/incident",
                                      channel_id="C0CARDS")
        check_re(r"INC-", http_request(w.port, "POST", "/slack/commands", body, headers).text, "open %d" % i)

    def cards():
        return [p for p in w.peer.requests if p["path"].startswith("/api/chat.postMessage")
                and (p["json"] or {}).get("channel") == "C0CARDS"]
    got = wait_until(lambda: len(cards()) >= 3 and cards(), 15)
    check(got, "cards posted: %d" % len(cards()))
    times = sorted(p["time"] for p in got)
    for a, b in zip(times, times[1:]):
        check(b - a >= 0.9, "two posts to one channel %.2f s apart" % (b - a))
    check_eq({p["headers"].get("authorization") for p in got}, {"Bearer " + TOKENS["T0TWO"]}, "bearers")


@test("without secrets.key the callback refuses, naming WK_SECRET_KEY; without client id and secret both "
      "routes are 404 naming the keys", world=False)
def _():
    with own_world(**dict(ENV, WK_SECRET_KEY=None)) as w:
        fake_slack(w)
        q, nonce, _ = start_install(w)
        r = callback(w, {"code": "good-T0ONE", "state": make_state(nonce, int(time.time()), CLIENT_SECRET)}, nonce)
        check_eq(r.status, 503, "status (%r)" % short(r.body))
        check_re(r"WK_SECRET_KEY", r.text, "page")
        check_eq(w.r.snapshot(), {}, "Redis")
        check_eq([p for p in w.peer.requests if "oauth" in p["path"]], [], "calls to Slack")
        check_eq(q["state"].split(".")[3],
                 make_state(nonce, int(q["state"].split(".")[1]), CLIENT_SECRET).split(".")[3],
                 "the state's key comes from slack.client_secret without secrets.key")
    with own_world() as w:
        for path in ("/slack/install", "/slack/oauth/callback?code=x&state=y"):
            r = w.http("GET", path)
            check_eq(r.status, 404, path)
            check_re(r"slack\.client_id.*slack\.client_secret", r.text, path)


@test("secrets rotate: re-seals installed tokens and integration secrets under the new key, idempotent, "
      "counts what does not open; the daemon then sends with the re-sealed token", world=False)
def _():
    with own_world(**ENV) as w:
        fake_slack(w)
        check_eq(install(w, "T0ROT").status, 200, "install")
        # an integration secret, sealed by /incident integration secret in a DM
        w.oncall("", ALICE, "T0ROT")
        body, headers = slack_command("service create api", team_id="T0ROT", command="/incident")
        check_re(r"Made service", http_request(w.port, "POST", "/slack/commands", body, headers).text, "service")
        body, headers = slack_command("integration create sentry service=api", team_id="T0ROT", command="/incident")
        made = http_request(w.port, "POST", "/slack/commands", body, headers).text
        iid = int(re.search(r"integration (\d+)", made).group(1))
        body, headers = slack_command("integration secret %d fixture_client_secret" % iid, team_id="T0ROT",
                                      command="/incident", channel_id="D0ALICE")
        check_re(r"Stored the signing secret", http_request(w.port, "POST", "/slack/commands", body, headers).text,
                 "secret")
        tok_key, intg_key = "wk:{slack:T0ROT}:slack_install", "wk:{slack:T0ROT}:intg:%d" % iid
        before = (w.r("HGET", tok_key, "bot_token"), w.r("HGET", intg_key, "secret"))
        env = dict(w.env, WK_SECRET_KEY=KEY2, WK_SECRET_KEY_PREVIOUS=KEY1)
        rc, out, err = run_cli(["secrets", "rotate"], env)
        check_eq(rc, 0, "exit (stderr %r)" % short(err))
        check_re(r"re-sealed 2, already current 0, not openable 0", out, "first run")
        after = (w.r("HGET", tok_key, "bot_token"), w.r("HGET", intg_key, "secret"))
        check(after[0] != before[0] and after[1] != before[1], "values not re-sealed")
        check(after[0].split(".")[1] != before[0].split(".")[1], "the key id did not change")
        rc, out, err = run_cli(["secrets", "rotate"], env)
        check_eq(rc, 0, "second exit")
        check_re(r"re-sealed 0, already current 2, not openable 0", out, "second run (idempotent)")
        check_eq((w.r("HGET", tok_key, "bot_token"), w.r("HGET", intg_key, "secret")), after, "unchanged")
        # a daemon that knows only the new key sends with the workspace's token (the old one,
        # which knows only the old key, is stopped first, as an operator restarts every instance
        # with the new keys: it shares the notification queue and could take the DM)
        w.daemon.stop()
        d = w.another_daemon(WK_SECRET_KEY=KEY2, WK_SECRET_KEY_PREVIOUS="")
        try:
            w.peer.clear()
            fake_slack(w)
            post, _ = me_test_bearer(w, "T0ROT", port=d.port)
            check_eq(post, "Bearer " + TOKENS["T0ROT"], "bearer after the rotation")
        finally:
            d.stop()
            w.daemon.start()
        # something sealed under a key neither knows is counted and fails the run
        w.r("HSET", "wk:{slack:T0BAD}:slack_install", "bot_token", before[0].replace(before[0].split(".")[1],
                                                                                     "00000000"))
        w.r("SADD", "wk:slack_installs", "T0BAD")
        rc, out, err = run_cli(["secrets", "rotate"], env)
        check_eq(rc, 1, "exit with a value that does not open")
        check_re(r"re-sealed 0, already current 2, not openable 1", out, "third run")
        check_re(r"workspace T0BAD opens under neither", err, "names it")
        rc, out, err = run_cli(["secrets", "rotate"], {k: v for k, v in env.items() if k != "WK_SECRET_KEY"})
        check_eq(rc, 2, "without secrets.key")
        check_re(r"WK_SECRET_KEY", err, "says which key")
        check_no_token_in_redis(w)
        check_log_clean(w)


@test("test_slack_install: daemon exits 0 on SIGTERM with a clean sanitizer report", world=False)
def _():
    w = _shared.pop("w", None)
    if w is None:
        w = harness.World(**ENV)
    check_log_clean(w)
    w.close()
