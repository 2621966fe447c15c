"""Issue 4: rotations with versions, the team schedule, overrides, human times, the chain."""

import json
import re
import time

from harness import ORG, check, check_eq, check_re, test

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
K = "wk:{%s}" % ORG


def rotations(w):
    out = {}
    for rid in w.r("SMEMBERS", K + ":team_rotations:default"):
        rot = json.loads(w.r("GET", K + ":rotation:" + rid))
        out[rot["name"]] = rot
    return out


def everything(reply):
    return json.dumps(reply)


@test("rotation create: options are read, shown and stored; bad ones refused with a sentence")
def _(w):
    w.team_mode(ALICE)
    t = w.oncall("rotation create ops every 2d handoff 08:30 tz America/Chicago priority 5", ALICE)["text"]
    check_re(r"Created rotation `ops` \(every 2 days, handoff 08:30 America/Chicago, priority 5\)", t, "reply")
    v = rotations(w)["ops"]["versions"][-1]
    check_eq((v["unit"], v["length"], v["handoff"], v["tz"]), ("days", 2, "08:30", "America/Chicago"), "stored")
    check_re(r"already a rotation `ops`", w.oncall("rotation create OPS", ALICE)["text"], "duplicate name")
    check_re(r"shift length", w.oncall("rotation create x every 3x", ALICE)["text"], "bad length")
    check_re(r"IANA", w.oncall("rotation create x tz Mars/Base", ALICE)["text"], "bad zone")
    check_re(r"mon-fri 08:00-18:00", w.oncall("rotation create x hours someday 8-6", ALICE)["text"], "bad hours")
    check("x" not in rotations(w), "a refused rotation was created")
    check_re(r"needs the \*admin\* role", (w.add_member(BOB) or w.oncall("rotation create y", BOB))["text"],
             "developer creates")


@test("an edit keeps the shift in progress; the new order starts at the next handoff")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.add_member(CAROL)
    w.oncall("rotation create main every 1d handoff 09:00", ALICE)
    w.oncall("add <@%s>" % ALICE, ALICE)          # empty rotation: applies at once
    check_re(r"On call now:\* <@%s>" % ALICE, w.oncall("", BOB)["text"], "alice on call")
    reply = w.oncall("add <@%s>" % BOB, ALICE)
    check_re(r"next handoff", everything(reply), "reply says when it starts")
    versions = rotations(w)["main"]["versions"]
    check_eq(len(versions), 2, "versions after adding bob")
    check(versions[1]["from"] > time.time(), "the new version starts in the future: %r" % versions[1])
    check_eq(versions[1]["members"], [ALICE, BOB], "new order")
    check_eq(versions[1]["first"], 1, "the first new shift goes to the one after alice")
    w.oncall("add <@%s>" % CAROL, ALICE)            # folds into the same pending version
    versions = rotations(w)["main"]["versions"]
    check_eq(len(versions), 2, "a second edit before the handoff does not add a version")
    check_eq(versions[1]["members"], [ALICE, BOB, CAROL], "order after carol")
    check_re(r"On call now:\* <@%s>" % ALICE, w.oncall("", BOB)["text"], "alice still on call")
    check_re(r"takes effect at the next handoff", everything(w.oncall("list", BOB)), "list shows the pending order")
    sched = everything(w.oncall("schedule 4", BOB))
    order = re.findall(r"<@(U0[A-Z]+)>", sched)
    check_eq(order[:4], [ALICE, BOB, CAROL, ALICE], "the next four days: %s" % sched[:300])


@test("the chain: primary, 1st and 2nd backup are the ones before in the rotation")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.add_member(CAROL)
    t = w.oncall("rotation create main every 1d members <@%s> <@%s> <@%s>" % (ALICE, BOB, CAROL), ALICE)["text"]
    check_re(r"with 3 people", t, "created with members")
    text = everything(w.oncall("", BOB))
    check_re(r"On call now:\* <@%s>" % ALICE, text, "primary")
    check_re(r"1st backup: <@%s>; 2nd backup: <@%s>" % (CAROL, BOB), text, "backups")


@test("overrides: add with human times, shown in /oncall and the schedule, listed, removed")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.oncall("join", ALICE)
    t = w.oncall("override <@%s> now +2h covering the release" % BOB, ALICE)["text"]
    m = re.search(r"Override `(o\d+)`: <@%s> is on call from" % BOB, t)
    check(m, "override reply: %r" % t)
    oid = m.group(1)
    h = w.r.hgetall(K + ":override:" + oid)
    check_eq((h["member"], h["reason"], h["source"]), (BOB, "covering the release", "override"), "stored")
    check_eq(int(h["end"]) - int(h["start"]), 7200, "two hours")
    check_re(r"On call now:\* <@%s>" % BOB, w.oncall("", ALICE)["text"], "bob on call now")
    check_re(r"\(override\)", everything(w.oncall("schedule 1", ALICE)), "schedule marks it")
    check_re(oid + r".*covering the release", everything(w.oncall("overrides", ALICE)), "listed")
    check_re(r"Removed override", w.oncall("override remove " + oid, ALICE)["text"], "removed")
    check_re(r"On call now:\* <@%s>" % ALICE, w.oncall("", ALICE)["text"], "alice back")
    check_re(r"no override `o999`", w.oncall("override remove o999", ALICE)["text"].lower(), "unknown id")
    # The number alone works too (people type what they see without the o).
    t = w.oncall("override <@%s> now +1h again" % BOB, ALICE)["text"]
    oid = re.search(r"Override `(o\d+)`", t).group(1)
    check_re(r"Removed override `%s`" % oid, w.oncall("override remove " + oid[1:], ALICE)["text"], "by number")
    check_eq(w.r("EXISTS", K + ":override:" + oid), 0, "the override is gone")
    actions = [dict(zip(e[1][0::2], e[1][1::2]))["action"] for e in w.r("XRANGE", K + ":audit", "-", "+")]
    check("override.create" in actions and "override.remove" in actions, "audit %r" % actions)


@test("times: strict but human; DST-ambiguous and nonexistent wall times are refused with an example")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.oncall("join", ALICE)
    cases = [
        ("2026-10-25 02:30 +1h", r"happens twice"),          # Berlin falls back that night
        ("2027-03-28 02:30 +1h", r"does not exist"),         # Berlin springs forward
        ("12/24 +1h", r"without guessing.*2026-12-24 08:00"),
        ("today 8am +1h", r"24-hour time|needs a time"),
        ("now soon", r"without guessing"),
        ("now now", r"end must come after"),
        ("now +400d", r"duration|at most 90 days"),
    ]
    for text, want in cases:
        t = w.oncall("override <@%s> %s" % (BOB, text), ALICE)["text"]
        check_re(want, t, "override %s" % text)
    check_eq(w.r("KEYS", K + ":override:*"), [], "nothing written by refused overrides")
    t = w.oncall("override <@%s> tomorrow 09:00 tomorrow 17:00" % BOB, ALICE)["text"]
    check_re(r"from \w+ \d+ \w+ 09:00 CE[S]?T to \w+ \d+ \w+ 17:00 CE[S]?T", t, "tomorrow 09:00-17:00 Berlin")


@test("business hours rotation over an after-hours one; /oncall when lists my shifts")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.oncall("rotation create day every 1w hours mon-fri 08:00-18:00 priority 1", ALICE)
    w.oncall("rotation create night every 1w priority 2", ALICE)
    w.oncall("add <@%s> day" % ALICE, ALICE)
    w.oncall("add <@%s> night" % BOB, ALICE)
    sched = everything(w.oncall("schedule 7", ALICE))
    check(("<@%s>" % ALICE) in sched and ("<@%s>" % BOB) in sched, "both in a week: %s" % sched[:400])
    lines = [l for l in json.loads(sched)["text"].split("\n") if "→" in l]
    check(len(lines) >= 9, "a week of day/night handoffs has at least 9 lines: %r" % lines)
    for l in lines:
        if "<@%s>" % ALICE in l:
            check_re(r"(Mon|Tue|Wed|Thu|Fri) \d+ \w+ (08:00|\d\d:\d\d) CE", l, "alice works weekdays: " + l)
    check_re(r"Next shifts of <@%s>" % BOB, w.oncall("when <@%s>" % BOB, ALICE)["text"], "/oncall when")
    check_re(r"Next shifts of <@%s>" % ALICE, w.oncall("when", ALICE)["text"], "/oncall when (me)")
    t = w.oncall("schedule 120", ALICE)["text"]
    check_re(r"days is 1 to 90 \(not 120\)", t, "too many days is not a team name")
    check_re(r"next 1 day \(", w.oncall("schedule 1", ALICE)["text"], "one day, singular")
    check_re(r"next 7 days \(", w.oncall("schedule 7", ALICE)["text"], "seven days")
    t = w.oncall("when <@U0NOBODY>", ALICE)["text"]
    check_re(r"<@U0NOBODY> is not a member", t, "/oncall when for someone not in the org")
    check(not re.search(r"no shifts", t), "called a stranger free: %r" % t)


@test("pause and resume keep a person's place; a start date delays the first shift")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.add_member(CAROL)
    w.oncall("rotation create main every 1d members <@%s> <@%s> <@%s>" % (ALICE, BOB, CAROL), ALICE)
    check_re(r"paused in rotation `main`", w.oncall("rotation pause main <@%s>" % BOB, ALICE)["text"], "pause")
    v = rotations(w)["main"]["versions"][-1]
    check_eq((v["members"], v["paused"]), ([ALICE, CAROL], ["1:" + BOB]), "stored after pause")
    check_re(r"paused: <@%s>" % BOB, everything(w.oncall("list", ALICE)), "list shows paused")
    order = re.findall(r"<@(U0[A-Z]+)>", everything(w.oncall("schedule 4", ALICE)))
    check(BOB not in order[1:4], "bob skipped after the next handoff: %r" % order)
    check_re(r"not active", w.oncall("rotation pause main <@%s>" % BOB, ALICE)["text"], "pause twice")
    check_re(r"back in rotation", w.oncall("rotation resume main <@%s>" % BOB, ALICE)["text"], "resume")
    v = rotations(w)["main"]["versions"][-1]
    check_eq((v["members"], v["paused"]), ([ALICE, BOB, CAROL], []), "stored after resume")
    t = w.oncall("rotation create later every 1w start 2030-01-07 members <@%s>" % CAROL, ALICE)["text"]
    check_re(r"starts Mon 7 Jan", everything(w.oncall("rotation create later2 start 2030-01-07", ALICE)) + t,
             "start date shown")
    check_re(r"a date like", w.oncall("rotation create bad start 2030-02-30", ALICE)["text"], "bad date")


@test("overrides in another team stay in that team")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.invite("team create ops", ALICE)
    w.oncall("rotation create night team ops members <@%s>" % ALICE, ALICE)
    t = w.oncall("override <@%s> now +1h team ops swap test" % BOB, ALICE)["text"]
    oid = re.search(r"Override `(o\d+)`", t).group(1)
    tid = w.r("HGET", K + ":team_names", "ops")
    check_eq(w.r("ZRANGE", K + ":overrides:" + tid, 0, -1), [oid], "in ops' overrides")
    check_eq(w.r("ZRANGE", K + ":overrides:default", 0, -1), [], "not in default's")
    check_re(r"On call now:\* <@%s>" % BOB, w.oncall("now ops", ALICE)["text"], "ops now")
    check_re(r"no such|There is no team", w.oncall("override <@%s> now +1h team nosuch" % BOB, ALICE)["text"],
             "unknown team")
    check_re(r"Removed override", w.oncall("override remove " + oid, ALICE)["text"], "removed from ops")


def buttons(reply):
    return [(e["text"]["text"], e["action_id"], e.get("value", ""))
            for b in reply.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


@test("issue 10 item 4: with several rotations, bare join/leave/add/remove ask which; every reply names it")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.add_member(CAROL)
    w.oncall("rotation create day every 1w hours mon-fri 08:00-18:00 priority 1", ALICE)
    w.oncall("rotation create night every 1w priority 2", ALICE)
    before = w.r.snapshot()
    reply = w.oncall("join", BOB)
    check_re(r"There are 2 rotations; which one\? Nothing was changed", reply["text"], "bare join asks")
    text = everything(reply)
    check_re(r"rotation `day`, priority 1.*rotation `night`, priority 2", text, "lists them in order")
    check_re(r"/oncall join day", text, "the exact command")
    check_eq(buttons(reply), [("Join day", "oncall.join", "day"), ("Join night", "oncall.join", "night")],
             "a button per rotation")
    check_eq(w.r.snapshot(), before, "a question writes nothing")
    js = w.click("oncall.join", BOB, value="night")
    check_re(r"You joined rotation `night` at position 1", js["text"], "the button joins that one")
    check_re(r"You joined rotation `day` at position 1", w.oncall("join day", BOB)["text"], "join by name")
    reply = w.oncall("join", BOB)
    check_re(r"You are already in all 2 rotations; nothing was changed", reply["text"], "in all of them")
    check_re(r"you are number 1", everything(reply), "says where I already am")
    check_eq(buttons(reply), [], "no button for rotations I am in")
    # leave: asks when in several, acts on the only one, names it every time
    before = w.r.snapshot()
    reply = w.oncall("leave", BOB)
    check_re(r"You are in 2 rotations; which one do you want to leave\?", reply["text"], "bare leave asks")
    check_eq(buttons(reply), [("Leave day", "oncall.leave", "day"), ("Leave night", "oncall.leave", "night")],
             "leave buttons")
    check_eq(w.r.snapshot(), before, "asking writes nothing")
    js = w.click("oncall.leave", BOB, value="night")
    check_re(r"You left rotation `night`", js["text"], "the leave button")
    check_re(r"You left rotation `day`\.", w.oncall("leave", BOB)["text"], "in exactly one: that one, named")
    check_eq(rotations(w)["day"]["versions"][-1]["members"], [], "bob left day")
    check_re(r"You are not in any rotation", w.oncall("leave", BOB)["text"], "in none")
    check_re(r"You are not in rotation `day`", w.oncall("leave day", BOB)["text"], "named, not in it")
    # add/remove by an admin
    reply = w.oncall("add <@%s>" % CAROL, ALICE)
    check_re(r"which one\?", reply["text"], "bare add asks")
    check_re(r"/oncall add <@%s> day" % CAROL, everything(reply), "the exact command with the person")
    check_re(r"Added <@%s> to rotation `night` at position 1" % CAROL,
             w.oncall("add <@%s> night" % CAROL, ALICE)["text"], "add names the rotation")
    check_re(r"<@%s> is already in rotation `night`, at position 1" % CAROL,
             w.oncall("add <@%s> night" % CAROL, ALICE)["text"], "already in names it")
    check_re(r"Removed <@%s> from rotation `night`" % CAROL, w.oncall("remove <@%s>" % CAROL, ALICE)["text"],
             "bare remove acts on the only one she is in")
    check_re(r"<@%s> is not in any rotation" % CAROL, w.oncall("remove <@%s>" % CAROL, ALICE)["text"], "in none")


@test("issue 10 item 4: one rotation (or none) needs no name; another team's rotation is named with its team")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    check_re(r"You joined rotation `main` at position 1", w.oncall("join", ALICE)["text"], "first join makes main")
    check_re(r"You are already in rotation `main`, at position 1", w.oncall("join", ALICE)["text"], "again")
    check_re(r"Added <@%s> to rotation `main` at position 2" % BOB, w.oncall("add <@%s>" % BOB, ALICE)["text"],
             "add to the only rotation")
    w.invite("team create ops", ALICE)
    w.oncall("rotation create pager team ops", ALICE)
    check_re(r"You joined rotation `pager` \(team `ops`\) at position 1", w.oncall("join pager", BOB)["text"],
             "team named")


@test("issue 10 item 5: priority is shown, settable at once, ordered by; a hidden rotation is explained")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.oncall("join", ALICE)                                   # auto-created main, priority 10
    t = everything(w.oncall("rotation create night every 48h members <@%s>" % BOB, ALICE))
    check_re(r"Note: `night` \(priority 10\) never comes up: `main` \(priority 10, the same, and made first\) "
             r"covers all its hours", t, "create warns it is hidden")
    check_re(r"To put it first: `/oncall rotation set night priority 9`", t, "and says how to fix it")
    lst = everything(w.oncall("list", ALICE))
    check_re(r"\*main\* \(priority 10;.*\*night\* \(priority 10;", lst, "list shows priorities, in order")
    check_re(r"never comes up", lst, "list warns too")
    check_re(r"<@%s>  \(on call now\)" % ALICE, lst, "main's person is on call now")
    check(not re.search(r"<@%s>  \(on call now\)" % BOB, lst), "night's shift is not on call: %s" % lst[:600])
    check_re(r"never comes up", everything(w.oncall("schedule 3", ALICE)), "the schedule says why night is missing")
    t = everything(w.oncall("rotation set night priority 5", ALICE))
    check_re(r"Rotation `night` has priority 5 from now on", t, "set priority: at once, and says so")
    check_re(r"`main` \(priority 10\) never comes up: `night` \(priority 5\)", t, "now main is hidden, said")
    rot = rotations(w)["night"]
    check_eq((rot["priority"], rot["versions"][-1]["priority"]), (5, 5), "stored priority")
    check(rot["versions"][-1]["from"] <= time.time(), "in force now: %r" % rot["versions"][-1])
    check_re(r"On call now:\* <@%s>" % BOB, w.oncall("", ALICE)["text"], "/oncall follows the new priority")
    lst = everything(w.oncall("list", ALICE))
    check_re(r"\*night\* \(priority 5;.*\*main\* \(priority 10;", lst, "list in priority order")
    check_re(r"<@%s>  \(on call now\)" % BOB, lst, "list agrees with /oncall")
    check(not re.search(r"<@%s>  \(on call now\)" % ALICE, lst), "only one person on call now: %s" % lst[:600])
    check_re(r"already has priority 5", w.oncall("rotation set night priority 5", ALICE)["text"], "no change")
    check_re(r"priority is a number from 1", w.oncall("rotation set night priority 0", ALICE)["text"], "bounds")
    check_re(r"`priority` needs a value", w.oncall("rotation set night every 1d priority", ALICE)["text"], "no value")
    check_eq(rotations(w)["night"]["priority"], 5, "a refused set changes nothing")
    # both at once: priority now, the rest at the next handoff
    t = w.oncall("rotation set night priority 3 every 1d", ALICE)["text"]
    check_re(r"priority 3 from now on.*is now every 1 day", t, "priority and settings together")


@test("issue 10 item 5: /oncall list marks the person /oncall names, also under an override")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.oncall("join", ALICE)
    w.oncall("override <@%s> now +2h covering" % BOB, ALICE)
    check_re(r"On call now:\* <@%s>" % BOB, w.oncall("", ALICE)["text"], "/oncall names bob")
    lst = everything(w.oncall("list", ALICE))
    check(not re.search(r"<@%s>  \(on call now\)" % ALICE, lst), "list calls alice on call: %s" % lst[:500])
    check_re(r"On call now instead: <@%s> \(override\)" % BOB, lst, "list names bob")


@test("issue 10 item 16: the pause reply prints the real resume command with the person")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.oncall("rotation create day every 1d members <@%s> <@%s>" % (ALICE, BOB), ALICE)
    t = w.oncall("rotation pause day <@%s>" % BOB, ALICE)["text"]
    check_re(r"skipped until /oncall rotation resume day <@%s>" % BOB, t, "the command to resume bob")
    check("@user" not in t, "placeholder in %r" % t)


def put_daily(w, rid, name, members, days_ago):
    """A daily 09:00 UTC rotation in its stored form, in force since days_ago days."""
    start = time.gmtime(time.time() - days_ago * 86400)
    frm = int(time.mktime(time.struct_time((start.tm_year, start.tm_mon, start.tm_mday, 9, 0, 0, 0, 0, 0)))
              - time.timezone)
    rot = {"id": rid, "name": name, "team": "default", "priority": 10, "rev": 1, "versions": [{
        "from": frm, "tz": "UTC", "start": time.strftime("%Y-%m-%d", start), "handoff": "09:00",
        "unit": "days", "length": 1, "members": members, "first": 0, "windows": []}]}
    w.r("SET", K + ":rotation:" + rid, json.dumps(rot, separators=(",", ":")))  # compact, as stored
    w.r("SADD", K + ":team_rotations:default", rid)
    w.r("HSET", K + ":rotation_names:default", name, rid)
    return frm


@test("issue 10 item 5: a priority change splits the version in force at now; the past keeps its priority")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.add_member(CAROL)
    frm = put_daily(w, "r1", "main", [ALICE, BOB], 3)
    put_daily(w, "r2", "night", [CAROL], 3)
    check_re(r"On call now:\* <@U0(ALICE|BOB)>", w.oncall("", ALICE)["text"], "main first (made first)")
    t = w.oncall("rotation set night priority 5", ALICE)["text"]
    check_re(r"priority 5 from now on.*On call now: <@%s>" % CAROL, t, "the reply says who is on call now")
    now = time.time()
    v = rotations(w)["night"]["versions"]
    check_eq(len(v), 2, "the version in force is split at now: %r" % v)
    check_eq((v[0]["from"], v[0]["priority"]), (frm, 10), "the past keeps its priority")
    check(abs(v[1]["from"] - now) < 10 and v[1]["priority"] == 5, "from now on: %r" % v[1])
    check_eq((v[1]["members"], v[1]["first"]), ([CAROL], 0), "same people, same shift")
    check_eq((rotations(w)["main"]["priority"], rotations(w)["main"]["rev"]), (10, 1), "main untouched")
    check_re(r"On call now:\* <@%s>" % CAROL, w.oncall("", ALICE)["text"], "/oncall: night now")
