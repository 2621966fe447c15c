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
