"""test_teams.py - the Microsoft Teams adapter end to end: the real daemon behind a fake Bot
Framework identity provider (OpenID metadata, JWKS, client-credentials tokens) and a fake Bot
Connector, both speaking teams.md's wire protocol on loopback (fake_teams.py)."""

import contextlib
import re
import json
import time

from harness import TEAM, check, check_eq, check_re, http_request, own_world, test, wait_until
from fakes import FakeSMTP
import fake_teams as ft

TENANT = ft.TENANT_ID
ORG = "wk:{teams:%s}" % TENANT
ALICE = ft.USER["aadObjectId"]
BOB_USER = {"id": "29:1fixtureBobId", "name": "Bob Roe", "aadObjectId": "00000000-0000-0000-0000-0000000000a2"}


@contextlib.contextmanager
def teams_world(**env):
    """A daemon with Teams on, its identity provider and connector fakes; waits until the
    daemon has loaded the signing keys."""
    idp = ft.FakeTeamsIdentity()
    conn = ft.FakeTeamsConnector(idp)
    try:
        with own_world(**dict(idp.env(), **env)) as w:
            w.idp, w.conn = idp, conn
            check(wait_until(lambda: len(idp.keys_fetches) >= 1, 10),
                  "the daemon never fetched the key set from %s" % idp.jwks_uri)
            time.sleep(0.1)   # the set is parsed and installed right after the fetch
            yield w
    finally:
        conn.close()
        idp.close()


def post(w, activity, **kw):
    return ft.post_activity(w.daemon.port, activity, identity=w.idp, **kw)


def posts(w, conv):
    """The connector's records of the POSTs into conv (send or reply), in order."""
    return [r for r in w.conn.requests if r.get("conversation") == conv and r["method"] == "POST"]


def texts_when(w, conv, n=1, timeout=5.0):
    """The texts of the activities posted into conv once there are at least n."""
    check(wait_until(lambda: len(w.conn.texts(conv)) >= n, timeout),
          "no %d message(s) posted to %s; connector saw %s" % (n, conv, [r["path"] for r in w.conn.requests]))
    return w.conn.texts(conv)


@test("teams: a personal `oncall` message is answered in that chat with an Adaptive Card, as a reply "
      "to the message; the tenant becomes an org and the sender its owner", world=False)
def _():
    with teams_world() as w:
        a = ft.personal_message("oncall", service_url=w.conn.url)
        status, _, body = post(w, a)
        check_eq(status, 200, "HTTP status for a message activity")
        texts = texts_when(w, "a:1fixtureConversationId")
        check_re(r"(?i)on call", texts[0], "the answer")
        sent = posts(w, "a:1fixtureConversationId")[0]
        check_eq(sent["activity"], a["id"], "the answer replies to the message (activity id in the path)")
        att = sent["json"]["attachments"][0]
        check_eq(att["contentType"], ft.CARD, "the answer's attachment")
        check_eq(att["content"]["version"], "1.5", "Adaptive Card version")
        auth = {k.lower(): v for k, v in sent["headers"].items()}.get("authorization", "")
        check(auth.startswith("Bearer ") and auth[7:] in w.idp.issued, "the post carries the bot's token")
        check_eq(len(w.idp.token_requests), 1, "token requests")
        check_eq(w.r("HGET", ORG + ":member:" + ALICE, "role"), "owner", "the sender's role")
        check_eq(w.r("HGET", ORG + ":teams_user:" + ALICE, "id"), ft.USER["id"], "the sender's Teams id")
        # A second command reuses the bot's token.
        post(w, ft.personal_message("/oncall help", service_url=w.conn.url))
        texts = texts_when(w, "a:1fixtureConversationId", 2)
        check_re(r"oncall", texts[1], "help")
        check_eq(len(w.idp.token_requests), 1, "token requests after two answers")


@test("teams: in a channel the bot's @mention is cut out and the rest runs as the command", world=False)
def _():
    with teams_world() as w:
        a = ft.channel_message("help", service_url=w.conn.url)
        status, _, _ = post(w, a)
        check_eq(status, 200, "HTTP status")
        conv = a["conversation"]["id"]
        texts = texts_when(w, conv)
        check_re(r"(?i)help|commands|oncall", texts[0], "the help answer")
        check_eq(posts(w, conv)[0]["activity"], a["id"], "threaded under the message")


@test("teams: forged, expired and misaddressed tokens are refused with 401/403 and nothing is done", world=False)
def _():
    with teams_world() as w:
        # Publish the keys the cases need, then let one unknown kid make the daemon refetch.
        for name, (setup, _, _) in ft.CASES.items():
            if setup:
                setup(w.idp)
        fetches = len(w.idp.keys_fetches)
        post(w, ft.personal_message("oncall", service_url=w.conn.url), token=w.idp.mint(
            serviceurl=w.conn.url, kid="not-published-yet"))
        check(wait_until(lambda: len(w.idp.keys_fetches) > fetches, 5), "no refetch after an unknown kid")
        time.sleep(0.2)
        before = w.r.snapshot("*")
        for name in ft.CASES:
            token, expected = w.idp.case(name, serviceurl=w.conn.url)
            if name == "RS384":
                expected = 401   # RS256 only: the algorithm the metadata names
            if expected == "ok":
                continue
            status, _, body = post(w, ft.personal_message("oncall", service_url=w.conn.url), token=token)
            check_eq(status, expected, "status for %s (%s)" % (name, body[:120]))
        for what, kw in (("no Authorization header", {"token": False}),
                         ("Basic scheme", {"token": False, "extra_headers": {"Authorization": "Basic eDp5"}})):
            status, _, _ = post(w, ft.personal_message("oncall", service_url=w.conn.url), **kw)
            check_eq(status, 401, "status with %s" % what)
        # A good token for another serviceUrl than the activity's.
        tok = w.idp.mint(serviceurl="https://smba.trafficmanager.net/emea/")
        status, _, _ = post(w, ft.personal_message("oncall", service_url=w.conn.url), token=tok)
        check_eq(status, 401, "status for a serviceUrl other than the token's")
        time.sleep(0.3)
        check_eq(len(w.conn.requests), 0, "requests at the connector after refused activities")
        check_eq(w.r.snapshot("*"), before, "Redis after refused activities")


@test("teams: tokens within the clock skew are accepted", world=False)
def _():
    with teams_world() as w:
        for name in ("expired within skew", "not yet valid within skew", "audience array with app id"):
            token, _ = w.idp.case(name, serviceurl=w.conn.url)
            status, _, _ = post(w, ft.personal_message("oncall", service_url=w.conn.url), token=token)
            check_eq(status, 200, "status for %s" % name)
        texts_when(w, "a:1fixtureConversationId", 3)


@test("teams: an unknown kid refetches the keys once (then at most every 5 minutes); a new key "
      "published meanwhile is accepted", world=False)
def _():
    with teams_world() as w:
        fetches = len(w.idp.keys_fetches)
        w.idp.add_key("key-2")
        tok = w.idp.mint(serviceurl=w.conn.url, key="key-2")
        status, _, _ = post(w, ft.personal_message("oncall", service_url=w.conn.url), token=tok)
        check_eq(status, 401, "a kid the daemon does not know yet")
        check(wait_until(lambda: len(w.idp.keys_fetches) == fetches + 1, 5), "no refetch after an unknown kid")
        time.sleep(0.2)
        status, _, _ = post(w, ft.personal_message("oncall", service_url=w.conn.url), token=tok)
        check_eq(status, 200, "the new key after the refetch")
        # A flood of made-up kids: no more fetches.
        for i in range(20):
            bad = w.idp.mint(serviceurl=w.conn.url, kid="made-up-%d" % i)
            status, _, _ = post(w, ft.personal_message("oncall", service_url=w.conn.url), token=bad)
            check_eq(status, 401, "made-up kid")
        time.sleep(0.5)
        check_eq(len(w.idp.keys_fetches), fetches + 1, "key set fetches after 20 made-up kids")


@test("teams: bad bodies are refused: not JSON 400, too large 413, another tenant 403, "
      "another channel 403", world=False)
def _():
    with teams_world() as w:
        tok = w.idp.mint(serviceurl=w.conn.url)
        status, _, _ = post(w, None, token=tok, raw_body=b"{not json")
        check_eq(status, 400, "not JSON")
        status, _, _ = post(w, None, token=tok, raw_body=b"x" * 70000)
        check_eq(status, 413, "too large")
        a = ft.personal_message("oncall", service_url=w.conn.url, tenant="11111111-2222-3333-4444-555555555555")
        status, _, body = post(w, a)
        check_eq(status, 403, "another tenant (%s)" % body[:100])
        a = ft.personal_message("oncall", service_url=w.conn.url, channelId="skype")
        status, _, _ = post(w, a)
        check_eq(status, 403, "another channel")
        time.sleep(0.3)
        check_eq(len(w.conn.requests), 0, "requests at the connector")
        check_eq(w.r.keys("wk:{teams:*"), [], "Teams keys in Redis")


@test("teams: the bot added to a chat greets once, however often Teams says so", world=False)
def _():
    with teams_world() as w:
        for _ in range(3):
            status, _, _ = post(w, ft.conversation_update(service_url=w.conn.url))
            check_eq(status, 200, "HTTP status for conversationUpdate")
        texts = texts_when(w, "a:1fixtureConversationId")
        time.sleep(0.5)
        check_eq(len(w.conn.texts("a:1fixtureConversationId")), 1, "greetings")
        check_re(r"Watchkeeper", texts[0], "the greeting")


@test("teams: a card button (Action.Execute) runs the same action as Slack's and answers the invoke; "
      "Action.Submit runs it too", world=False)
def _():
    with teams_world() as w:
        conv = "a:1fixtureConversationId"
        post(w, ft.personal_message("oncall", service_url=w.conn.url))
        texts_when(w, conv)
        card = w.conn.messages(conv)[0]["attachments"][0]["content"]
        actions = card.get("actions") or []
        check(actions, "the /oncall card has buttons: %s" % json.dumps(card)[:300])
        act = actions[0]
        check_eq(act["type"], "Action.Execute", "button type")
        check_eq(act["fallback"]["type"], "Action.Submit", "fallback for older clients")
        check_eq(act["fallback"]["data"], act["data"], "the fallback carries the same data")
        status, _, body = post(w, ft.invoke_action(act["verb"], act["data"], service_url=w.conn.url))
        check_eq(status, 200, "invoke status")
        ans = json.loads(body)
        check_eq(ans.get("statusCode"), 200, "invoke response statusCode (%s)" % body[:200])
        check(ans.get("type") in ("application/vnd.microsoft.card.adaptive",
                                  "application/vnd.microsoft.activity.message"), "invoke response type")
        # The same button through Action.Submit.
        n = len(w.conn.texts(conv))
        status, _, _ = post(w, ft.submit_action(act["data"], service_url=w.conn.url))
        check_eq(status, 200, "submit status")
        texts_when(w, conv, n + 1)
        # Something that is not our card.
        status, _, _ = post(w, ft.invoke_action("x", {"action": "nope"}, service_url=w.conn.url))
        check_eq(status, 400, "an action that is not ours")


@test("teams: without teams.app_id /teams/messages answers 404")
def _(w):
    r = http_request(w.daemon.port, "POST", "/teams/messages", body=b"{}",
                     headers={"Content-Type": "application/json"})
    check_eq(r.status, 404, "status")
    check_re(r"WK_TEAMS_APP_ID", r.body.decode(), "the reason names the setting")


class Person:
    """One Teams user talking to the bot in their own 1:1 chat."""

    def __init__(self, w, user, conversation):
        self.w, self.user, self.conv = w, user, conversation

    def say(self, text, entities=None):
        """Send text; returns the text of the bot's answer in this chat."""
        n = len(self.w.conn.texts(self.conv))
        extra = {"entities": entities} if entities else {}
        status, _, body = post(self.w, ft.personal_message(text, user=self.user, conversation_id=self.conv,
                                                           service_url=self.w.conn.url, **extra))
        check_eq(status, 200, "status for %r (%s)" % (text, body[:100]))
        return texts_when(self.w, self.conv, n + 1)[n]

    def click(self, action, value=""):
        """Press a card button (Action.Execute): the invoke response."""
        status, _, body = post(self.w, ft.invoke_action(action, {"action": action, "value": value},
                                                        user=self.user, conversation_id=self.conv,
                                                        service_url=self.w.conn.url))
        check_eq(status, 200, "invoke status for %s (%s)" % (action, body[:100]))
        return json.loads(body)

    def mention(self):
        at = "<at>%s</at>" % self.user["name"]
        return at, {"type": "mention", "text": at, "mentioned": {"id": self.user["id"], "name": self.user["name"]}}


def alice_and_bob(w):
    """Alice makes the org (owner) and switches it to team mode; Bob joins with her invite code."""
    alice = Person(w, ft.USER, "a:1fixtureConversationId")
    bob = Person(w, BOB_USER, "a:1fixtureBobConversation")
    alice.say("oncall")
    alice.click("invite.team_mode")
    check_eq(w.r("HGET", ORG + ":org", "mode"), "team", "team mode")
    link = alice.say("oncall invite link developer")
    codes = re.findall(r"join ([a-z2-7]{32})", link)
    check(codes, "no invite code in %r" % link)
    check_re(r"Welcome", bob.say("oncall invite join " + codes[0]), "Bob joins")
    check_eq(w.r("HGET", ORG + ":member:" + BOB_USER["aadObjectId"], "role"), "developer", "Bob's role")
    return alice, bob


@test("teams: a page reaches the person in their 1:1 chat as a card with Acknowledge; pressing it "
      "acknowledges the page and replaces the card", world=False)
def _():
    with teams_world() as w:
        alice, bob = alice_and_bob(w)
        at, ent = bob.mention()
        reply = alice.say("oncall page %s the database is down" % at, entities=[ent])
        m = re.search(r"\(#(\d+)\)", reply)
        check(m, "no page number in %r" % reply)
        check(wait_until(lambda: any("database is down" in t for t in w.conn.texts(bob.conv)), 5),
              "no page in Bob's chat: %s" % w.conn.texts(bob.conv))
        page = [a for a in w.conn.messages(bob.conv) if "database is down" in ft.activity_text(a)][-1]
        acts = page["attachments"][0]["content"]["actions"]
        ack = [a for a in acts if a["data"]["action"] == "oncall.page_ack"]
        check(ack, "no Acknowledge button on the page: %s" % acts)
        ans = bob.click("oncall.page_ack", ack[0]["data"]["value"])
        check_eq(ans.get("type"), "application/vnd.microsoft.card.adaptive", "the card is replaced")
        check_re(r"You acknowledged page #%s" % m.group(1), json.dumps(ans), "ack card")
        h = w.r.hgetall(ORG + ":page:" + ack[0]["data"]["value"])
        check_eq(h.get("acked_by"), BOB_USER["aadObjectId"], "page acknowledged by Bob")


@test("teams: an invite code asked for in a channel goes to the asker's 1:1 chat, with a note in the "
      "channel; for someone who never chatted with the bot the chat is opened with the answer", world=False)
def _():
    with teams_world() as w:
        alice = Person(w, ft.USER, "a:1fixtureConversationId")
        alice.say("oncall")
        alice.click("invite.team_mode")
        a = ft.channel_message("oncall invite link developer", service_url=w.conn.url)
        post(w, a)
        conv = a["conversation"]["id"]
        note = texts_when(w, conv)[0]
        check_re(r"1:1 chat", note, "the note in the channel")
        check(not re.search(r"[a-z2-7]{32}", note), "the code leaked into the channel: %r" % note)
        check(wait_until(lambda: any(re.search(r"join [a-z2-7]{32}", t) for t in w.conn.texts(alice.conv)), 5),
              "no code in Alice's 1:1 chat: %s" % w.conn.texts(alice.conv))
        # Someone who never chatted with the bot: the chat is opened with the answer in it.
        b = ft.channel_message("oncall help", user=BOB_USER, service_url=w.conn.url)
        post(w, b)
        check_re(r"1:1 chat", texts_when(w, b["conversation"]["id"])[0], "the note for Bob")
        check(wait_until(lambda: any(r.get("op") == "create" and r["status"] in (200, 201) for r in w.conn.requests), 5),
              "no 1:1 chat opened for Bob: %s" % [(r["method"], r["path"]) for r in w.conn.requests])
        made = [r for r in w.conn.requests if r.get("op") == "create"][-1]["json"]
        check_eq(made["members"], [{"id": BOB_USER["id"]}], "the chat's member")
        check_re(r"oncall", ft.activity_text(made["activity"]), "the answer is the chat's first message")


@test("teams: an incident opened in a channel gets its card there, and the card is replaced in place "
      "(PUT) when it is acknowledged", world=False)
def _():
    with teams_world() as w:
        alice = Person(w, ft.USER, "a:1fixtureConversationId")
        alice.say("oncall")
        a = ft.channel_message("incident open disk full on db-1", service_url=w.conn.url)
        post(w, a)
        conv = a["conversation"]["id"]
        check(wait_until(lambda: any("disk full" in t and "INC-1" in t for t in w.conn.texts(conv)[1:]), 5),
              "no incident card in the channel: %s" % w.conn.texts(conv))
        card = [r for r in posts(w, conv) if r["activity"] is None]
        check_eq(len(card), 1, "card posts (a new message, not a reply)")
        b = ft.channel_message("incident ack 1", service_url=w.conn.url)
        post(w, b)
        check(wait_until(lambda: any(u["conversation"] == conv for u in w.conn.updates()), 5),
              "the card was not updated in place; requests: %s" % [(r["method"], r["path"]) for r in w.conn.requests])
        check(wait_until(lambda: any("acknowledged" in t.lower() and "INC-1" in t for t in w.conn.texts(conv)), 5),
              "the card does not show the acknowledgement: %s" % w.conn.texts(conv))
        check_eq(len([r for r in posts(w, conv) if r["activity"] is None]), 1, "cards posted after the update")


@test("teams: a person who blocked the bot (403 MessageWritesBlocked) is paged by email at once instead; "
      "a 429 is retried and delivered once", world=False)
def _():
    smtp = FakeSMTP()
    try:
        with teams_world(WK_SMTP_URL="smtp+insecure://127.0.0.1:%d" % smtp.port,
                         WK_SMTP_FROM="Watchkeeper <oncall@example.com>") as w:
            alice, bob = alice_and_bob(w)
            bob.say("oncall me email bob@example.com")
            bob.say("oncall me notify chat now, email after 10m")
            at, ent = bob.mention()
            w.conn.block(bob.conv)
            alice.say("oncall page %s the disk is full" % at, entities=[ent])
            mails = smtp.wait_for(1, timeout=8)
            check(mails, "no email after the chat was refused")
            check_eq(mails[0]["rcpts"], ["bob@example.com"], "email to")
            check(not any("disk is full" in t for t in w.conn.texts(bob.conv)), "posted into a blocked chat")
            # The refusal is logged with the Connector's operation id, for Microsoft's support.
            check_re(r"event=teams\.\w+ outcome=refused status=403 .*operation=\S*[0-9a-f]{8}", w.daemon.stderr_tail(400),
                     "the log line of the refusal")
            # Unblocked, a 429 on the next page: the outbox retries after Retry-After and delivers once.
            w.conn.unblock(bob.conv)
            w.conn.fail_next("429", conversation=bob.conv)
            alice.say("oncall page %s the disk is full again" % at, entities=[ent])
            check(wait_until(lambda: any("full again" in t for t in w.conn.texts(bob.conv)), 10),
                  "the page after a 429 never arrived: %s" % w.conn.texts(bob.conv))
            time.sleep(1.0)
            check_eq(len([t for t in w.conn.texts(bob.conv) if "full again" in t]), 1, "copies of the page")
    finally:
        smtp.close()


@test("teams: an email invite is claimed in Teams: the newcomer's email comes from the Bot Connector's "
      "member lookup, and they join with the invite's role", world=False)
def _():
    with teams_world() as w:
        alice = Person(w, ft.USER, "a:1fixtureConversationId")
        bob = Person(w, BOB_USER, "a:1fixtureBobConversation")
        alice.say("oncall")
        alice.click("invite.team_mode")
        check_re(r"bob@example\.com", alice.say("invite email bob@example.com admin"), "the invite")
        w.conn.add_member(BOB_USER["id"], BOB_USER["name"], aadObjectId=BOB_USER["aadObjectId"],
                          email="bob@example.com")
        first = bob.say("oncall")
        check_re(r"Checking whether you have an invite", first, "the immediate answer")
        check(wait_until(lambda: any("Welcome" in t for t in w.conn.texts(bob.conv)), 8),
              "no welcome after the lookup: %s" % w.conn.texts(bob.conv))
        check_eq(w.r("HGET", ORG + ":member:" + BOB_USER["aadObjectId"], "role"), "admin", "Bob's role")
        looked = [r for r in w.conn.requests if r["method"] == "GET" and r.get("member")]
        check(looked, "no member lookup at the connector")


@test("teams: a tenant linked to a Slack workspace with a one-time code: the owner who made it is the same "
      "member in Teams, others are matched by email or mapped by an admin, and chat reaches people where "
      "they wrote last", world=False)
def _():
    slack_org = "wk:{slack:%s}" % TEAM
    with teams_world() as w:
        w.add_member("U0BOB", "developer")
        w.oncall("me email bob@example.com", "U0BOB")
        w.oncall("rotation create main every 1w members <@U0ALICE> <@U0BOB>", "U0ALICE")
        check_re(r"needs the \*owner\* role|Only an \*owner\*", json.dumps(w.oncall("org link", "U0BOB")),
                 "a developer may not make a code")
        made = json.dumps(w.oncall("org link", "U0ALICE"))
        codes = re.findall(r"`([a-z2-7]{32})`", made)
        check(codes, "no code in %s" % made[:300])
        check_re(r"Type that in Microsoft Teams", w.oncall("org link " + codes[0], "U0ALICE")["text"],
                 "redeeming in Slack")
        alice = Person(w, ft.USER, "a:1fixtureConversationId")
        check_re(r"Linked", alice.say("oncall org link " + codes[0]), "the link")
        check_eq(w.r("HGET", ORG + ":org", "linked_to"), "slack:" + TEAM, "the tenant's org")
        check_eq(w.r("HGET", slack_org + ":org", "teams_tenant"), TENANT, "the workspace's org")
        check_eq(w.r("HGET", slack_org + ":aliases", ALICE), "U0ALICE", "the redeemer is the code's owner")
        check_eq(w.r.keys(ORG + ":member*"), [], "members left in the tenant's own org")
        check_re(r"Link code .* unknown, used or expired|already", alice.say("oncall org link " + codes[0]),
                 "a used code")
        # Alice in Teams is U0ALICE: the workspace's rotation and her owner role.
        check_re(r"main", alice.say("oncall list"), "the workspace's rotation from Teams")
        check_re(r"On call now", alice.say("oncall"), "who is on call, from Teams")
        # Bob: his Teams email is his member email there.
        w.conn.add_member(BOB_USER["id"], BOB_USER["name"], aadObjectId=BOB_USER["aadObjectId"],
                          email="Bob@Example.com")
        bob = Person(w, BOB_USER, "a:1fixtureBobConversation")
        check_re(r"Looking you up", bob.say("oncall"), "the first answer")
        check(wait_until(lambda: any("your email matches" in t for t in w.conn.texts(bob.conv)), 8),
              "Bob was not matched: %s" % w.conn.texts(bob.conv))
        check_eq(w.r("HGET", slack_org + ":aliases", BOB_USER["aadObjectId"]), "U0BOB", "Bob's alias")
        check_eq(w.r("HGET", slack_org + ":member:U0BOB", "platform"), "teams", "Bob wrote last in Teams")
        # A page for Bob now goes to his Teams chat.
        w.oncall("page <@U0BOB> the queue is stuck", "U0ALICE")
        check(wait_until(lambda: any("queue is stuck" in t for t in w.conn.texts(bob.conv)), 8),
              "the page did not reach Bob in Teams: %s" % w.conn.texts(bob.conv))
        # Back in Slack: chat follows him there.
        w.oncall("", "U0BOB")
        check_eq(w.r("HGET", slack_org + ":member:U0BOB", "platform"), "slack", "Bob wrote last in Slack")
        # Carol (no email match) is mapped by an admin.
        carol = {"id": "29:1fixtureCarolId", "name": "Carol Poe", "aadObjectId": "00000000-0000-0000-0000-0000000000a3"}
        w.add_member("U0CAROL", "developer")
        c = Person(w, carol, "a:1fixtureCarolConversation")
        c.say("oncall")
        wait_until(lambda: len(w.conn.texts(c.conv)) >= 2, 5)
        check_eq(w.r("HGET", slack_org + ":aliases", carol["aadObjectId"]), None, "Carol unmatched")
        out = w.invite("map %s <@U0CAROL>" % carol["aadObjectId"], "U0ALICE")
        check_re(r"is now <@U0CAROL>", out["text"], "the admin's mapping")
        check_re(r"main", c.say("oncall list"), "Carol sees the workspace's rotations")
        check_eq(w.r("HGET", slack_org + ":member:U0CAROL", "platform"), "teams", "Carol wrote last in Teams")


@test("teams: a tenant with on-call data of its own is never merged into a workspace", world=False)
def _():
    with teams_world() as w:
        w.oncall("", "U0ALICE")
        code = re.findall(r"`([a-z2-7]{32})`", json.dumps(w.oncall("org link", "U0ALICE")))[0]
        alice = Person(w, ft.USER, "a:1fixtureConversationId")
        alice.say("oncall join")
        before = w.r.snapshot(ORG + ":*")
        check_re(r"never merged", alice.say("oncall org link " + code), "the refusal")
        check_eq(w.r("HEXISTS", ORG + ":org", "linked_to"), 0, "linked_to")
        check_eq(w.r.snapshot(ORG + ":*"), before, "the tenant's org after the refusal")
        check(w.r.keys("wk:{links}:code:*"), "a refused link must not use up the code")


@test("teams: an activity delivered again with another token (another expiry) runs once; the copy gets "
      "200 and no answer", world=False)
def _():
    with teams_world() as w:
        conv = "a:1fixtureConversationId"
        Person(w, ft.USER, conv).say("oncall")          # the org exists
        a = ft.personal_message("oncall join", service_url=w.conn.url)
        n = len(w.conn.texts(conv))
        status, _, _ = post(w, a, token=w.idp.mint(serviceurl=w.conn.url, exp_in=3600))
        check_eq(status, 200, "first delivery")
        first = texts_when(w, conv, n + 1)[n]
        check(re.search(r"(?i)join|rotation", first), "the first delivery ran: %r" % first)
        # The Connector's tokens live about an hour; a copy sent later carries a newer one.
        status, _, _ = post(w, dict(a), token=w.idp.mint(serviceurl=w.conn.url, exp_in=1800))
        check_eq(status, 200, "the copy")
        time.sleep(1.0)
        check_eq(w.conn.texts(conv)[n:], [first], "answers in the chat after the copy")
        own = [k for k in w.r.keys(ORG + ":replay:*") if len(k.rsplit(":", 1)[1]) == 32]
        check_eq(len(own), 2, "replay records kept by id (the first `oncall` and the join)")


@test("teams: a token that verified is taken again without a new RS256 check, but a key removed from the "
      "set stops its tokens at the next refresh", world=False)
def _():
    with teams_world() as w:
        tok = w.idp.mint(serviceurl=w.conn.url)
        for _ in range(3):
            status, _, _ = post(w, ft.personal_message("oncall", service_url=w.conn.url), token=tok)
            check_eq(status, 200, "the same token again")
        # Rotation: key-1 goes, key-2 comes; a token of key-2 makes the daemon refetch.
        w.idp.add_key("key-2")
        w.idp.remove_key("key-1")
        fetches = len(w.idp.keys_fetches)
        status, _, _ = post(w, ft.personal_message("oncall", service_url=w.conn.url),
                            token=w.idp.mint(serviceurl=w.conn.url, key="key-2"))
        check_eq(status, 401, "a kid not known yet")
        check(wait_until(lambda: len(w.idp.keys_fetches) > fetches, 5), "no refetch")
        time.sleep(0.3)
        status, _, _ = post(w, ft.personal_message("oncall", service_url=w.conn.url), token=tok)
        check_eq(status, 401, "a remembered token whose key left the set")
        status, _, _ = post(w, ft.personal_message("oncall", service_url=w.conn.url),
                            token=w.idp.mint(serviceurl=w.conn.url, key="key-2"))
        check_eq(status, 200, "the new key's token")


@test("teams: notifications into one tenant keep to teams.max_per_second across people", world=False)
def _():
    with teams_world(WK_TEAMS_MAX_PER_SECOND="1") as w:
        alice, bob = alice_and_bob(w)
        others = [bob]
        link = alice.say("oncall invite link developer")
        code = re.findall(r"join ([a-z2-7]{32})", link)[0]
        for n in (3, 4):
            user = {"id": "29:1fixtureUser%d" % n, "name": "User %d" % n,
                    "aadObjectId": "00000000-0000-0000-0000-00000000000%d" % n}
            p = Person(w, user, "a:1fixtureConversation%d" % n)
            check_re(r"Welcome", p.say("oncall invite join " + code), "user %d joins" % n)
            others.append(p)
        for p in others:
            at, ent = p.mention()
            alice.say("oncall page %s the disk is full" % at, entities=[ent])
        check(wait_until(lambda: all(any("disk is full" in t for t in w.conn.texts(p.conv)) for p in others), 10),
              "not every page arrived")
        times = sorted(min(r["t"] for r in w.conn.requests if r.get("conversation") == p.conv and r["method"] == "POST"
                           and "disk is full" in json.dumps(r.get("json")))
                       for p in others)
        check(times[-1] - times[0] >= 1.0, "three pages at 1 a second went out within %.2f s" % (times[-1] - times[0]))


@test("teams: people added with the bot are remembered, so a page reaches the 1:1 chat Teams opened at "
      "install even if they never wrote there", world=False)
def _():
    with teams_world() as w:
        dan = {"id": "29:1fixtureDanId", "name": "Dan Loe", "aadObjectId": "00000000-0000-0000-0000-0000000000d4"}
        conv = "a:1fixtureDanConversation"
        status, _, _ = post(w, ft.conversation_update(members_added=["28:" + ft.APP_ID, {"id": dan["id"],
                                                                                      "aadObjectId": dan["aadObjectId"]}],
                                                      conversation_id=conv, service_url=w.conn.url))
        check_eq(status, 200, "HTTP status")
        check(wait_until(lambda: w.r("HGET", ORG + ":teams_user:" + dan["aadObjectId"], "conversation") == conv, 5),
              "Dan's chat was not remembered")
        check_eq(w.r("HGET", ORG + ":teams_ids", dan["id"]), dan["aadObjectId"], "Dan's Teams id")
        alice = Person(w, ft.USER, "a:1fixtureConversationId")
        alice.say("oncall")
        alice.click("invite.team_mode")
        code = re.findall(r"join ([a-z2-7]{32})", alice.say("oncall invite link developer"))[0]
        post(w, ft.channel_message("oncall invite join " + code, user=dan, service_url=w.conn.url))
        check(wait_until(lambda: w.r("HGET", ORG + ":member:" + dan["aadObjectId"], "role") == "developer", 5),
              "Dan did not join")
        at = "<at>Dan Loe</at>"
        alice.say("oncall page %s the build is red" % at,
                  entities=[{"type": "mention", "text": at, "mentioned": {"id": dan["id"], "name": "Dan Loe"}}])
        check(wait_until(lambda: any("build is red" in t for t in w.conn.texts(conv)), 8),
              "the page did not reach Dan's chat: %s" % [(r["method"], r["path"]) for r in w.conn.requests][-5:])
