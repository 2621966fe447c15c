"""Issue 3: roles checked from the command tables, invites, isolation, owners, profiles, teams.

The role matrix is generated from `watchkeeper --commands`, so a new subcommand is covered
without touching this file: every subcommand of every command is run by a non-member and by
each role, and must either run or be refused with a sentence naming the role it needs.
"""

import hashlib
import json
import re
import subprocess
import threading
import time

from harness import (ORG, check, everything, check_eq, check_re, daemon_binary, short, test)

ALICE, BOB, CAROL, DAVE, EVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0EVE"
K = "wk:{%s}" % ORG
ROLES = ["viewer", "developer", "admin", "owner"]
RANK = {"none": 0, "viewer": 1, "developer": 2, "admin": 3, "owner": 4}


def state(w):
    """Everything but the audit stream (refusals write nothing, but we compare it too)."""
    return {k: v for k, v in w.r.snapshot().items()}


def code_of(reply):
    codes = re.findall(r"join ([a-z2-7]{32})", json.dumps(reply))
    check(codes, "no invite code in %r" % short(reply.get("text", "")))
    return codes[0]


def table():
    out = subprocess.run([daemon_binary(), "--commands"], capture_output=True, timeout=10)
    check_eq(out.returncode, 0, "watchkeeper --commands exit status")
    return [e for e in json.loads(out.stdout) if "subcommand" in e]


def text_of(reply):
    return reply["text"]


@test("role matrix: every subcommand x every role (and a non-member), from the command tables")
def _(w):
    entries = table()
    check(len(entries) >= 30, "only %d subcommands listed" % len(entries))
    users = {"viewer": "U0VIEWER", "developer": "U0DEV", "admin": "U0ADMIN", "owner": ALICE}
    target = "U0TARGET"
    failures = []
    for e in entries:
        for role in ["none"] + ROLES:
            w.reset()
            w.team_mode(ALICE)
            for r, u in users.items():
                if u != ALICE:
                    w.add_member(u, r)
            w.add_member(target, "developer")
            args = e["example"].replace("@user", "<@%s>" % target)
            text = ("%s %s" % (e["subcommand"], args)).strip()
            user = users.get(role, "U0STRANGER")
            reply = w.command(text, user, command="/" + e["command"])
            check_eq(reply.status, 200, "/%s %s as %s" % (e["command"], text, role))
            t = reply.json()["text"]
            allowed = RANK[role] >= RANK[e["min_role"]] and (role != "none" or e["min_role"] == "none")
            refused_role = re.search(r"needs the \*%s\* role" % e["min_role"], t)
            refused_member = re.search(r"not a member of this workspace's Watchkeeper yet", t)
            if allowed and (refused_role or refused_member or "needs the *" in t):
                failures.append("/%s %s as %s was refused: %s" % (e["command"], text, role, t))
            if not allowed and role == "none" and not refused_member:
                failures.append("/%s %s as a non-member: %s" % (e["command"], text, t))
            if not allowed and role != "none" and not refused_role:
                failures.append("/%s %s as %s should name the %s role: %s"
                                % (e["command"], text, role, e["min_role"], t))
    check(not failures, "%d problems:\n  %s" % (len(failures), "\n  ".join(failures[:15])))


@test("role matrix: refusals change nothing in Redis (audit log included)")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB, "viewer")
    w.add_member(CAROL, "developer")
    before = state(w)
    for e in table():
        if RANK[e["min_role"]] <= RANK["viewer"]:
            continue
        args = e["example"].replace("@user", "<@%s>" % CAROL)
        w.command(("%s %s" % (e["subcommand"], args)).strip(), BOB, command="/" + e["command"])
    check_eq(state(w), before, "Redis after a viewer tried every admin subcommand")


@test("solo orgs: team features are offered behind a confirmation; the rotation keeps working")
def _(w):
    w.oncall("join", ALICE)
    check_eq(w.r("HGET", K + ":org", "mode"), "solo", "a new org's mode")
    reply = w.invite("link", ALICE)
    check_re(r"solo", reply["text"], "/invite link in a solo org")
    buttons = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    check(buttons and buttons[0]["action_id"] == "invite.team_mode", "no team-mode button: %r" % buttons)
    check_eq(w.r("HGET", K + ":org", "mode"), "solo", "mode before confirming")
    js = w.click("invite.team_mode", ALICE)
    check_re(r"now in \*team\* mode", js["text"], "confirmation answer")
    check_eq(js.get("replace_original"), True, "the offer message is replaced")
    check_eq(w.r("HGET", K + ":org", "mode"), "team", "mode after confirming")
    check_eq(w.rotation(), [ALICE], "rotation kept")
    entries = w.r("XRANGE", K + ":audit", "-", "+")
    check(any("org.mode" in e[1] for e in entries), "no org.mode audit entry: %r" % entries)


@test("invite link: expiry, uses, revoke, reuse, wrong codes rate-limited")
def _(w):
    w.team_mode(ALICE)
    # uses
    code = code_of(w.invite("link viewer uses 2", ALICE))
    check_re(r"Welcome.*\*viewer\*", w.invite("join " + code, BOB)["text"], "first use")
    check_re(r"already a member", w.invite("join " + code, BOB)["text"], "reuse by the same person")
    check_re(r"Welcome", w.invite("join " + code, CAROL)["text"], "second use")
    check_re(r"used as many times", w.invite("join " + code, DAVE)["text"], "third use")
    check_eq(w.role(DAVE), None, "dave after a used-up code")
    # expiry: move the stored deadline into the past
    code = code_of(w.invite("link expires 1h", ALICE))
    h = hashlib.sha256(code.encode()).hexdigest()
    check_eq(w.r("EXISTS", K + ":invite:" + h), 1, "invite stored under the code's SHA-256")
    check(code not in json.dumps(w.r.snapshot()), "the code itself is stored somewhere")
    w.r("HSET", K + ":invite:" + h, "expires_ms", int(time.time() * 1000) - 1)
    check_re(r"expired", w.invite("join " + code, DAVE)["text"], "expired code")
    # revoke by id, then by code
    reply = w.invite("link", ALICE)
    code, iid = code_of(reply), hashlib.sha256(code_of(reply).encode()).hexdigest()[:10]
    check_re(r"Revoked", w.invite("revoke " + iid, ALICE)["text"], "revoke by id")
    check_re(r"already revoked", w.invite("revoke " + code, ALICE)["text"], "revoke by code")
    check_re(r"revoked", w.invite("join " + code, DAVE)["text"], "revoked code")
    listing = w.invite("list", ALICE)["text"]
    check_re(iid + r".*revoked", listing, "invite list shows the revoked invite")
    # a pasted URL works
    code = code_of(w.invite("link", ALICE))
    check_re(r"Welcome", w.invite("join http://127.0.0.1/join/" + code.upper(), EVE)["text"], "URL, upper case")
    # brute force: 5 wrong codes, then refused even with a right one
    good = code_of(w.invite("link", ALICE))
    for i in range(5):
        t = w.invite("join " + ("b" * 31) + "%s" % "abcde"[i], DAVE)["text"]
        check_re(r"not valid", t, "wrong code %d" % i)
    check_re(r"Too many wrong invite codes", w.invite("join " + good, DAVE)["text"], "after 5 wrong codes")
    check_eq(w.role(DAVE), None, "dave while rate-limited")
    ttl = w.r("TTL", K + ":joinfail:" + DAVE)
    check(0 < ttl <= 900, "rate-limit window %r" % ttl)
    check_re(r"Welcome", w.invite("join " + good, "U0FRANK")["text"], "another user is not limited")
    # audit: creations, uses, revocation
    actions = [e[1][e[1].index("action") + 1] for e in w.r("XRANGE", K + ":audit", "-", "+")]
    for a in ("invite.create", "invite.use", "invite.revoke"):
        check(a in actions, "no %s audit entry in %r" % (a, actions))


@test("invite texts read as sentences: expiry, uses, the list; two roles are refused")
def _(w):
    w.team_mode(ALICE)
    one = everything(w.invite("link uses 1 expires 1d", ALICE))
    check_re(r"One person can use it, until \w{3} \d+ \w{3}( \d{4})? \d\d:\d\d", one, "one use with an expiry")
    many = everything(w.invite("link uses 5 expires never", ALICE))
    check_re(r"Up to 5 people can use it; it never expires\.", many, "five uses, no expiry")
    anyone = everything(w.invite("link", ALICE))
    check_re(r"Any number of people can use it until \w{3} \d+", anyone, "default link")
    for t in (one, many, anyone):
        check(not re.search(r"Expires ,|expires, \.|It works 1 time", t), "broken sentence in %r" % t)
    listing = everything(w.invite("list", ALICE))
    check_re(r"link, \*developer\*, used 0 of 5, active", listing, "listing of a 5-use link")
    check(not re.search(r"link , |used 00", listing), "broken listing: %r" % listing)
    before = w.r.snapshot()
    t = w.invite("link developer admin", ALICE)["text"]
    check_re(r"one role", t, "two roles refused")
    # A word that is no role or option gets one usage line, not the whole help.
    bad = everything(w.invite("link developer 3 uses", ALICE))
    check_re(r"`3` is not a role\..*Usage: `/oncall invite link \[role\] \[expires 7d\] \[uses 10\]`", bad,
             "a stray word in /invite link")
    check("team create" not in bad, "the whole help for one stray word: %r" % short(bad))
    check_eq(w.r.snapshot(), before, "nothing written for a refused invite")


@test("invites can't make owners; the /join page explains the code; junk codes answer clearly")
def _(w):
    w.team_mode(ALICE)
    check_re(r"can't make owners", w.invite("link owner", ALICE)["text"], "owner invite")
    code = code_of(w.invite("link", ALICE))
    page = w.http("GET", "/join/" + code)
    check_eq(page.status, 200, "/join/<code>")
    check("text/html" in page.header("content-type"), "content type %r" % page.header("content-type"))
    check("/oncall invite join " + code in page.text, "page lacks the command: %r" % short(page.text))
    check_eq(w.http("GET", "/join/<script>").status, 404, "/join/<script>")
    check_eq(w.http("GET", "/join/").status, 404, "/join/")
    check_re(r"not an invite code", w.invite("join nope", BOB)["text"], "junk code")


@test("email invite without SMTP gives the code; claim by code keeps the invited role")
def _(w):
    w.team_mode(ALICE)
    reply = w.invite("email Bob@Example.com admin", ALICE)
    check_re(r"not set up.*forward", reply["text"], "reply without SMTP")
    code = code_of(reply)
    ph = w.r("HGET", K + ":invited_emails", "bob@example.com")
    check(ph and ph.startswith("p-"), "placeholder for bob@example.com: %r" % ph)
    check_eq(w.r("HGET", K + ":member:" + ph, "placeholder"), "1", "placeholder flag")
    check_re(r"already has a pending invite", w.invite("email bob@example.com", ALICE)["text"], "again")
    # Bob is not a member and an email invite is pending: the answer says it checks his
    # Slack email first (users.info), and the join's own answer follows at response_url.
    path = "/commands/claim/%d" % int(time.monotonic() * 1e6)
    first = w.command("join " + code, BOB, command="/invite", response_url=w.peer.url + path)
    check_re(r"Checking whether you have an invite", first.text, "first answer")
    late = w.peer.wait_for(1, timeout=10, path_prefix=path)
    check(late, "no answer at response_url")
    check_re(r"Welcome.*\*admin\*", late[0]["json"]["text"], "claim by code")
    check_eq(w.role(BOB), "admin", "bob's role")
    check_eq(w.r("EXISTS", K + ":member:" + ph), 0, "placeholder gone")
    check_eq(w.r("HGET", K + ":member:" + BOB, "email"), "bob@example.com", "email carried over")
    check_eq(w.r("HEXISTS", K + ":invited_emails", "bob@example.com"), 0, "email index cleared")
    check(ph not in w.members() and BOB in w.members(), "members %r" % w.members())
    check_re(r"already", w.invite("join " + code, CAROL)["text"] + " already", "code used")
    check_eq(w.role(CAROL), None, "carol with a used email code")


@test("isolation: codes, members and changes of one org never reach another")
def _(w):
    w.team_mode(ALICE)
    code = code_of(w.invite("link admin", ALICE))
    w.oncall("", "U0OTHER", team="T0OTHER")     # another workspace, its own owner
    check_re(r"not valid", w.invite("join " + code, BOB, team="T0OTHER")["text"],
             "T0TEST's code typed in T0OTHER")
    check_eq(w.r("EXISTS", "wk:{slack:T0OTHER}:member:" + BOB), 0, "bob joined T0OTHER")
    w.invite("join " + code, BOB)
    other = "wk:{slack:T0OTHER}"
    check_eq(w.r("EXISTS", other + ":member:" + BOB), 0, "bob in T0OTHER")
    # the owner of T0OTHER can't see or change T0TEST's people, whatever ids are typed
    w.click("invite.team_mode", "U0OTHER", team="T0OTHER")
    t = w.invite("role <@%s> viewer" % BOB, "U0OTHER", team="T0OTHER")["text"]
    check_re(r"not a member", t, "cross-org role change")
    check_eq(w.role(BOB), "admin", "bob's role in T0TEST")
    t = w.invite("members", "U0OTHER", team="T0OTHER")["text"] + json.dumps(w.invite("members", "U0OTHER", team="T0OTHER"))
    check(BOB not in t and ALICE not in t, "T0OTHER's member list shows T0TEST people: %s" % short(t))
    keys = w.r("KEYS", "wk:{slack:T0OTHER}:*")
    # Only his wrong-code counter there (he did type a wrong code in T0OTHER).
    check(all(BOB not in k or ":joinfail:" in k for k in keys), "T0OTHER keys mention bob: %r" % keys)


@test("the last owner can't be demoted or removed, even by two owners at the same moment")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB, "owner")
    check_eq(sorted(w.r("SMEMBERS", K + ":owners")), [ALICE, BOB], "owners")
    for rnd in range(10):
        results = {}

        def go(actor, target):
            results[actor] = w.invite("role <@%s> admin" % target, actor)["text"]
        t1 = threading.Thread(target=go, args=(ALICE, BOB))
        t2 = threading.Thread(target=go, args=(BOB, ALICE))
        t1.start(); t2.start(); t1.join(10); t2.join(10)
        owners = w.r("SMEMBERS", K + ":owners")
        roles = [w.role(ALICE), w.role(BOB)]
        check_eq(len(owners), 1, "owners after round %d (%r, replies %r)" % (rnd, owners, results))
        check_eq(roles.count("owner"), 1, "owner roles after round %d: %r" % (rnd, roles))
        check(any("last owner" in t for t in results.values()) or
              any("Only an *owner*" in t for t in results.values()),
              "nobody was told why: %r" % results)
        survivor = owners[0]
        other = BOB if survivor == ALICE else ALICE
        check_re(r"now \*owner\*", w.invite("role <@%s> owner" % other, survivor)["text"], "re-promote")
    check_re(r"last owner", w.invite("remove <@%s>" % BOB, BOB)["text"] if False else
             (w.invite("role <@%s> admin" % BOB, ALICE), w.invite("remove <@%s>" % ALICE, ALICE))[1]["text"],
             "removing the last owner")
    check_eq(w.role(ALICE), "owner", "alice still owner")


@test("roles: admins can't make or unmake owners; owners can; changes are audited")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB, "admin")
    w.add_member(CAROL, "developer")
    check_re(r"Only an \*owner\*", w.invite("role <@%s> owner" % CAROL, BOB)["text"], "admin makes owner")
    check_re(r"Only an \*owner\*", w.invite("role <@%s> admin" % ALICE, BOB)["text"], "admin demotes owner")
    check_re(r"now \*viewer\*", w.invite("role <@%s> viewer" % CAROL, BOB)["text"], "admin demotes developer")
    check_eq(w.role(CAROL), "viewer", "carol")
    check_re(r"needs the \*admin\* role", w.invite("role <@%s> admin" % ALICE, CAROL)["text"], "viewer")
    check_re(r"Removed", w.invite("remove <@%s>" % CAROL, BOB)["text"], "admin removes viewer")
    check_eq(w.role(CAROL), None, "carol removed")
    check(CAROL not in w.members(), "carol still in members")
    last = w.r("XREVRANGE", K + ":audit", "+", "-", "COUNT", 1)[0][1]
    fields = dict(zip(last[0::2], last[1::2]))
    check_eq((fields["action"], fields["actor"], fields["resource"], fields["before"]),
             ("member.remove", BOB, "member:" + CAROL, "viewer"), "last audit entry")
    check_re(r"<@U0BOB> removed <@U0CAROL> \(who was viewer\)", w.invite("audit 5", ALICE)["text"] +
             json.dumps(w.invite("audit 5", ALICE)), "/invite audit")


@test("/oncall me: profile fields, validation naming what is wrong, viewers read only")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB, "viewer")
    check_re(r"phone is now \+15555550123", w.oncall("me phone +15555550123", ALICE)["text"], "phone")
    check_re(r"E\.164", w.oncall("me phone 555-1234", ALICE)["text"], "bad phone")
    check_re(r"time zone is now Europe/Berlin", w.oncall("me tz Europe/Berlin", ALICE)["text"], "tz")
    check_re(r"not an IANA time zone", w.oncall("me tz Mars/Base", ALICE)["text"], "bad tz")
    w.oncall("me tz america/new_YORK", ALICE)
    check_eq(w.r("HGET", K + ":member:" + ALICE, "tz"), "America/New_York",
             "a zone typed in another case is found and stored in its own spelling")
    check_re(r"time zone is now Europe/Berlin", w.oncall("me tz europe/BERLIN", ALICE)["text"], "case")
    check_re(r"not an IANA time zone", w.oncall("me tz europe/../../etc/passwd", ALICE)["text"], "no escape")
    check_re(r"email is now", w.oncall("me email alice@example.com", ALICE)["text"], "email")
    check_re(r"not an email address", w.oncall("me email alice@", ALICE)["text"], "bad email")
    check_re(r"off", w.oncall("me incidents off", ALICE)["text"], "notifications off")
    check_re(r"say `on` or `off`", w.oncall("me incidents maybe", ALICE)["text"], "bad switch")
    check_re(r"name is now Alice Example", w.oncall('me name "Alice Example"', ALICE)["text"], "name")
    m = w.r.hgetall(K + ":member:" + ALICE)
    check_eq((m.get("phone"), m.get("tz"), m.get("email"), m.get("incidents"), m.get("name")),
             ("+15555550123", "Europe/Berlin", "alice@example.com", "off", "Alice Example"), "profile")
    shown = json.dumps(w.oncall("me", ALICE))
    check("+15555550123" in shown and "Europe/Berlin" in shown, "/oncall me: %s" % short(shown))
    check_re(r"needs the \*developer\* role", w.oncall("me phone +15555550124", BOB)["text"], "viewer edit")
    check(w.oncall("me", BOB)["text"].startswith("Your profile"), "viewer reads own profile")


@test("teams: create, rename, delete, add and remove members; default team protected")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    check(BOB in w.r("SMEMBERS", K + ":team:default"), "new members join the default team")
    check_re(r"Created team `ops`", w.invite("team create ops", ALICE)["text"], "create")
    check_re(r"already a team", w.invite("team create OPS", ALICE)["text"], "duplicate, other case")
    check_re(r"Added", w.invite("team add ops <@%s>" % BOB, ALICE)["text"], "add")
    tid = w.r("HGET", K + ":team_names", "ops")
    check_eq(w.r("SMEMBERS", K + ":team:" + tid), [BOB], "ops members")
    check_re(r"Renamed", w.invite("team rename ops platform", ALICE)["text"], "rename")
    check_eq(w.r("HGET", K + ":teams", tid), "platform", "renamed")
    check_re(r"ops.*platform|platform", json.dumps(w.invite("team list", BOB)), "list as developer")
    check_re(r"can't be renamed or deleted", w.invite("team delete default", ALICE)["text"], "default")
    check_re(r"only members|not a member", w.invite("team add platform <@U0NOBODY>", ALICE)["text"], "stranger")
    check_re(r"Removed", w.invite("team remove platform <@%s>" % BOB, ALICE)["text"], "remove")
    check_re(r"Deleted", w.invite("team delete platform", ALICE)["text"], "delete")
    check_eq(w.r("EXISTS", K + ":team:" + tid), 0, "team set gone")
    check_eq(w.role(BOB), "developer", "bob still a member")
    check_re(r"needs the \*admin\* role", w.invite("team create x", BOB)["text"], "developer creates")


@test("rotation edits are audited and the chain verifies")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.oncall("join", ALICE)
    w.oncall("add <@%s>" % BOB, ALICE)
    w.oncall("remove <@%s>" % BOB, ALICE)
    entries = [dict(zip(e[1][0::2], e[1][1::2])) for e in w.r("XRANGE", K + ":audit", "-", "+")]
    got = [(e["action"], e["actor"], e["after"] or e["before"]) for e in entries if e["action"].startswith("rotation.")]
    check_eq(got, [("rotation.create", ALICE, "main"), ("rotation.add", ALICE, "member:" + ALICE),
                   ("rotation.add", ALICE, "member:" + BOB), ("rotation.remove", ALICE, "member:" + BOB)],
             "rotation audit entries")
    out = subprocess.run([daemon_binary(), "audit", "verify", "--org", ORG], env=w.env,
                         capture_output=True, timeout=20)
    check_eq(out.returncode, 0, "audit verify: %s %s" % (out.stdout.decode(), out.stderr.decode()))
    check_re(r"chain intact", out.stdout.decode(), "audit verify output")


def role_index(w, what):
    """The role index (member.h: wk:{org}:roles:<role>) names exactly the members with that role."""
    for role in ("viewer", "developer", "admin", "owner"):
        want = sorted(m for m in w.members() if w.role(m) == role)
        check_eq(sorted(w.r("SMEMBERS", K + ":roles:" + role)), want, "%s: the %s index" % (what, role))


@test("the role index /delegate's role targets read follows joins, role changes, email invites, claims, "
      "revokes and removals")
def _(w):
    w.team_mode(ALICE)
    role_index(w, "a new org")
    w.add_member(BOB, "developer")
    w.add_member(CAROL, "viewer")
    role_index(w, "after two joins")
    w.invite("role <@%s> admin" % BOB, ALICE)
    role_index(w, "after a role change")
    code = code_of(w.invite("email dave@example.com admin", ALICE))
    reply = w.invite("email erin@example.com developer", ALICE)
    role_index(w, "with two placeholders")
    path = "/commands/claim/%d" % int(time.monotonic() * 1e6)
    w.command("join " + code, "U0DAVE", command="/invite", response_url=w.peer.url + path)
    check(w.peer.wait_for(1, timeout=10, path_prefix=path), "no answer to the claim")
    check_eq(w.role("U0DAVE"), "admin", "dave's role after the claim")
    role_index(w, "after a claim")
    check_re(r"Revoked", w.invite("revoke " + code_of(reply), ALICE)["text"], "revoke erin's invite")
    role_index(w, "after revoking an email invite")
    w.invite("remove <@%s>" % CAROL, ALICE)
    role_index(w, "after a removal")
