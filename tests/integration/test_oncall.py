"""/oncall: membership on first contact, the rotation, owner-only changes, help and prefixes.

Each test starts from an empty Redis; users: U0ALICE (first: owner), U0BOB (developer),
U0CAROL / U0DAVE (added by mention).
"""

import harness
import json
import re
import threading
import time

from harness import ORG, TEAM, check, check_eq, check_re, check_reply, test

ALICE, BOB, CAROL, DAVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"
K = "wk:{%s}" % ORG


def state(w):
    """The Redis state a command could change, streams (audit log) left out."""
    return {k: v for k, v in w.r.snapshot().items() if v[0] != "stream"}


def mention(user):
    return "<@%s>" % user


@test("first user in a team becomes its owner (org, member, members, wk:orgs)")
def _(w):
    t0 = int(time.time() * 1000)
    w.oncall("", ALICE)
    check(w.r("SISMEMBER", "wk:orgs", ORG) == 1, "wk:orgs lacks %s: %r" % (ORG, w.r("SMEMBERS", "wk:orgs")))
    org = w.r.hgetall(K + ":org")
    check_eq(org.get("id"), ORG, "org.id")
    check_eq(org.get("platform"), "slack", "org.platform")
    check_eq(org.get("external_id"), TEAM, "org.external_id")
    check_eq(org.get("owner"), ALICE, "org.owner")
    created = org.get("created_ms", "")
    check(created.isdigit() and abs(int(created) - t0) < 60000,
          "org.created_ms %r is not a current epoch in ms" % created)
    check_eq(w.role(ALICE), "owner", "alice's role")
    check_eq(w.members(), [ALICE], "members")


@test("status with an empty rotation says nobody is on call and suggests /oncall join")
def _(w):
    reply = w.oncall("", ALICE)
    check_re(r"nobody|no one|no-one", reply["text"], "status text")
    check_re(r"/oncall join", reply["text"], "status text")


@test("join appends me; list and status mention me")
def _(w):
    reply = w.oncall("join", ALICE)
    check_re(r"join|added|rotation", reply["text"], "join reply")
    check_eq(w.rotation(), [ALICE], "rotation")
    text = w.oncall("list", ALICE)["text"]
    check(mention(ALICE) in text, "list text lacks <@U0ALICE>: %r" % text)
    status = w.oncall("", ALICE)["text"]
    check(mention(ALICE) in status, "status text lacks <@U0ALICE>: %r" % status)


@test("joining twice does not duplicate and says I'm already in it")
def _(w):
    w.oncall("join", ALICE)
    reply = w.oncall("join", ALICE)
    check_re(r"already", reply["text"], "second join reply")
    check_eq(w.rotation(), [ALICE], "rotation")


@test("an invited developer joins; list keeps join order")
def _(w):
    w.oncall("join", ALICE)
    w.add_member(BOB, "developer")
    w.oncall("join", BOB)
    check_eq(w.role(BOB), "developer", "bob's role")
    check_eq(w.role(ALICE), "owner", "alice's role")
    check_eq(w.members(), sorted([ALICE, BOB]), "members")
    check_eq(w.r.hgetall(K + ":org").get("owner"), ALICE, "org.owner")
    check_eq(w.rotation(), [ALICE, BOB], "rotation")
    text = w.oncall("list", BOB)["text"]
    a, b = text.find(mention(ALICE)), text.find(mention(BOB))
    check(0 <= a < b, "list text should name alice before bob: %r" % text)


@test("someone who is not a member is told how to join, and nothing is written")
def _(w):
    w.oncall("join", ALICE)
    before = state(w)
    for text in ("", "join", "list", "me"):
        reply = w.oncall(text, BOB)
        check_re(r"not a member.*`/oncall invite join CODE`", reply["text"], "/oncall %s as a stranger" % text)
    check_eq(state(w), before, "Redis state")
    check_eq(w.role(BOB), None, "bob's role")


@test("status names who is on call now and who is next")
def _(w):
    w.oncall("join", ALICE)
    w.add_member(BOB)
    w.oncall("join", BOB)
    text = w.oncall("", BOB)["text"]
    check(mention(ALICE) in text and mention(BOB) in text, "status should name both: %r" % text)
    check_re(r"[Nn]ext", text, "status text")


@test("leave removes only me; leaving again changes nothing")
def _(w):
    w.oncall("join", ALICE)
    w.add_member(BOB)
    w.oncall("join", BOB)
    w.oncall("leave", BOB)
    check_eq(w.rotation(), [ALICE], "rotation after bob leaves")
    reply = w.oncall("leave", BOB)
    check_re(r"not|n't", reply["text"], "second leave reply")
    check_eq(w.rotation(), [ALICE], "rotation after bob leaves again")
    check_eq(w.role(BOB), "developer", "bob is still a member")


@test("owner adds a member <@U0CAROL> to the rotation")
def _(w):
    w.oncall("join", ALICE)
    w.add_member(CAROL)
    reply = w.oncall("add %s" % mention(CAROL), ALICE)
    check(mention(CAROL) in reply["text"], "add reply should name carol: %r" % reply["text"])
    check_eq(w.rotation(), [ALICE, CAROL], "rotation")
    check_eq(w.role(CAROL), "developer", "carol's role")


@test("adding someone who is not a member says to invite them; nothing written")
def _(w):
    w.oncall("join", ALICE)
    before = state(w)
    reply = w.oncall("add <@%s|dave>" % DAVE, ALICE)
    check_re(r"not a member.*[Ii]nvite", reply["text"], "reply")
    check_eq(state(w), before, "Redis state")


@test("owner adds <@U0DAVE|dave> (mention with a label)")
def _(w):
    w.oncall("", ALICE)
    w.add_member(DAVE)
    w.oncall("add <@%s|dave>" % DAVE, ALICE)
    check_eq(w.rotation(), [DAVE], "rotation")


@test("owner adding someone already in the rotation does not duplicate")
def _(w):
    w.oncall("join", ALICE)
    w.add_member(BOB)
    w.oncall("join", BOB)
    reply = w.oncall("add %s" % mention(BOB), ALICE)
    check_re(r"already", reply["text"], "reply")
    check_eq(w.rotation(), [ALICE, BOB], "rotation")


@test("owner removes <@U0BOB>")
def _(w):
    w.oncall("join", ALICE)
    for u in (BOB, CAROL):
        w.add_member(u)
        w.oncall("join", u)
    reply = w.oncall("remove %s" % mention(BOB), ALICE)
    check(mention(BOB) in reply["text"], "remove reply should name bob: %r" % reply["text"])
    check_eq(w.rotation(), [ALICE, CAROL], "rotation")


@test("developer's add is refused naming the admin role; Redis unchanged")
def _(w):
    w.oncall("join", ALICE)
    w.add_member(BOB)
    w.add_member(CAROL)
    before = state(w)
    reply = w.oncall("add %s" % mention(CAROL), BOB)
    check_re(r"needs the \*admin\* role", reply["text"], "refusal")
    check_eq(state(w), before, "Redis state")


@test("developer's remove is refused naming the admin role; Redis unchanged")
def _(w):
    w.oncall("join", ALICE)
    w.add_member(BOB)
    before = state(w)
    reply = w.oncall("remove %s" % mention(ALICE), BOB)
    check_re(r"needs the \*admin\* role", reply["text"], "refusal")
    check_eq(state(w), before, "Redis state")


@test("plain @bob is explained as not a user; Redis unchanged")
def _(w):
    w.oncall("join", ALICE)
    before = state(w)
    reply = w.oncall("add @bob", ALICE)
    check("@bob" in reply["text"], "reply should quote @bob: %r" % reply["text"])
    check_re(r"(not|n't)\b.*\buser|\buser\b.*\b(not|n't)", reply["text"], "reply")
    check_eq(state(w), before, "Redis state")


@test("help and an unknown subcommand both answer Usage")
def _(w):
    check_re(r"Usage", w.oncall("help", ALICE)["text"], "/oncall help")
    before = state(w)
    check_re(r"Usage", w.oncall("bogus", ALICE)["text"], "/oncall bogus")
    check_eq(state(w), before, "Redis state after /oncall bogus")
    check_eq(w.rotation(), [], "rotation")


@test("unique prefixes: /oncall li = list, /oncall jo = join")
def _(w):
    w.oncall("jo", ALICE)
    check_eq(w.rotation(), [ALICE], "rotation after /oncall jo")
    check_eq(w.oncall("li", ALICE)["text"], w.oncall("list", ALICE)["text"], "/oncall li vs /oncall list")


@test("subcommands are case-insensitive or answer Usage, never crash")
def _(w):
    reply = w.oncall("JOIN", ALICE)
    if w.rotation() != [ALICE]:
        check_re(r"Usage", reply["text"], "/oncall JOIN")


@test("teams are separate orgs")
def _(w):
    w.oncall("join", ALICE)
    w.oncall("join", BOB, team="T0OTHER")
    check_eq(w.rotation(), [ALICE], "T0TEST rotation")
    check_eq(w.rotation("T0OTHER"), [BOB], "T0OTHER rotation")
    check_eq(w.role(BOB, "T0OTHER"), "owner", "bob's role in T0OTHER")
    check_eq(w.r.hgetall("wk:{slack:T0OTHER}:org").get("owner"), BOB, "T0OTHER owner")
    check_eq(w.role(BOB), None, "bob is no member of T0TEST")
    check_eq(sorted(w.r("SMEMBERS", "wk:orgs")), sorted([ORG, "slack:T0OTHER"]), "wk:orgs")


@test("8 concurrent first contacts: exactly one owner; the others are told how to join")
def _(w):
    users = ["U0CONC%d" % i for i in range(8)]
    results = {}

    def go(u):
        try:
            results[u] = w.command("join", u, timeout=10)
        except Exception as e:  # reported below
            results[u] = e
    threads = [threading.Thread(target=go, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    for u in users:
        res = results.get(u)
        check(res is not None and not isinstance(res, Exception), "join as %s: %s" % (u, res))
        check_reply(res, "join as %s" % u)
    roles = {u: w.role(u) for u in users}
    owners = [u for u, r in roles.items() if r == "owner"]
    check_eq(len(owners), 1, "number of owners (roles %r)" % roles)
    check_eq(w.r.hgetall(K + ":org").get("owner"), owners[0], "org.owner")
    check(all(r is None for u, r in roles.items() if u != owners[0]), "roles %r" % roles)
    check_eq(w.members(), owners, "members")
    check_eq(w.rotation(), owners, "rotation")
    for u in users:
        if u != owners[0]:
            check_re(r"not a member", results[u].json()["text"], "reply to %s" % u)


@test("Slack entities: &amp; typed by the user comes back escaped once, never twice")
def _(w):
    reply = w.oncall("bogus&amp;x", "U0ALICE")   # Slack's form of the typed text "bogus&x"
    check_re(r"`bogus&amp;x`", reply["text"], "fallback text")
    check("&amp;amp;" not in json.dumps(reply), "double-escaped: %r" % reply["text"])
    section = reply["blocks"][0]["text"]["text"]
    check_re(r"`bogus&amp;x`", section, "section mrkdwn")


@test("a bare /oncall costs one Redis round trip (org, caller and schedule in one script), /oncall TEAM "
      "two (the team's name first); /metrics counts round trips by command and the daemon's time per request")
def _(w):
    w.team_mode("U0ALICE")
    w.oncall("rotation create ops every 1d members <@U0ALICE>", "U0ALICE")
    check_re(r"backend", w.invite("team create backend", "U0ALICE")["text"], "team create")
    for text in ("", "backend"):
        replies = []
        delta = harness.roundtrip_delta(w, lambda: replies.append(w.oncall(text, "U0ALICE")))
        reply = replies[0]
        check_eq(delta.get("org_touch"), 1, "org_touch round trips for /oncall %s (%r)" % (text, delta))
        check_eq(delta.get("schedule_load", 0), 0, "schedule reads of their own (%r)" % delta)
        if text:
            check(delta.get("HGET", 0) >= 1, "the team's name looked up (%r)" % delta)
        check_re(r"On call now:\*? <@U0ALICE>" if not text else r"Nobody is on call", reply["text"],
                 "the answer to /oncall %s" % text)
    daemon = harness.metric_counts(w, "watchkeeper_http_daemon_seconds_count")
    check(daemon.get('route="slack_commands"', 0) >= 2, "daemon time histogram: %r" % daemon)


def oncall_via(w, daemon, text, user):
    """/oncall on another instance (a Daemon from w.another_daemon())."""
    import harness
    body, headers = harness.slack_command(text, user_id=user,
                                          response_url=w.peer.url + "/commands/%s/1/abc" % harness.TEAM)
    return check_reply(harness.http_request(daemon.port, "POST", "/slack/commands", body, headers),
                       "/oncall %s on the second instance" % text)


def redis_calls(w, command):
    """How many times Redis ran command (INFO commandstats, scripts' calls included)."""
    info = w.r("INFO", "commandstats")
    import re
    m = re.search(r"cmdstat_%s:calls=(\d+)" % command, info)
    return int(m.group(1)) if m else 0


@test("each worker keeps the schedule it read, and never shows it after a change: overrides, rotation "
      "edits and deletes made on another instance show in the very next /oncall on every worker")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.add_member(CAROL)
    w.oncall("rotation create ops every 1d members <@%s> <@%s>" % (ALICE, BOB), ALICE)
    workers = 8     # twice the pool: every worker answers at least once (round-robin is not promised)

    def all_say(pattern, what):
        for i in range(workers):
            check_re(pattern, w.oncall("", BOB)["text"], "%s (request %d)" % (what, i + 1))

    all_say(r"On call now:\* <@%s>" % ALICE, "warm-up")
    # Warm: a bare /oncall no longer reads the rotations (no SMEMBERS of team_rotations).
    before = redis_calls(w, "smembers")
    all_say(r"On call now:\* <@%s>" % ALICE, "warm")
    check_eq(redis_calls(w, "smembers") - before, 0, "rotation reads by warm /oncall")

    other = w.another_daemon()
    try:
        t = oncall_via(w, other, "override <@%s> now +2h release" % CAROL, ALICE)["text"]
        oid = re.search(r"Override `(o\d+)`", t).group(1)
        all_say(r"On call now:\* <@%s>" % CAROL, "after an override made elsewhere")
        oncall_via(w, other, "override remove " + oid, ALICE)
        all_say(r"On call now:\* <@%s>" % ALICE, "after the override was removed elsewhere")
        # A new order takes effect at the next handoff: the "Next" line shows it.
        all_say(r"Next:\* <@%s>" % BOB, "before the edit")
        oncall_via(w, other, "add <@%s> ops" % CAROL, ALICE)
        check_re(r"Removed|took|out of", oncall_via(w, other, "remove <@%s> ops" % BOB, ALICE)["text"], "remove")
        all_say(r"Next:\* <@%s>" % CAROL, "after rotation edits made elsewhere")
        # Removing a member from the workspace rewrites rotations in a script of its own.
        import harness
        body, headers = harness.slack_command("remove <@%s>" % CAROL, user_id=ALICE, command="/invite",
                                              response_url=w.peer.url + "/commands/%s/1/abc" % harness.TEAM)
        check_re(r"Removed <@%s>" % CAROL, check_reply(harness.http_request(
            other.port, "POST", "/slack/commands", body, headers), "/invite remove")["text"], "member removed")
        all_say(r"(?s)\A(?!.*%s)" % CAROL, "after a member was removed elsewhere (no longer next)")
        oncall_via(w, other, "rotation delete ops", ALICE)
        all_say(r"Nobody is on call", "after the rotation was deleted elsewhere")
    finally:
        other.stop()
