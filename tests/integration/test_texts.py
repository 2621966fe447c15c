"""Issue 10, texts and inputs: times in the reader's zone (their own, else the org's) with the
year only when it is not this one; zone names shown as typed; phone numbers as people write
them; override times that would be a guess; typos of day words and units; the config's handoff
read like chat's; --help says only what exists."""

import datetime
import re

from harness import CONFIG, ORG, check, check_eq, check_re, everything, free_port, run_cli, test

ALICE, BOB, CAROL, DAVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"
K = "wk:{%s}" % ORG


def state(w):
    return w.r.snapshot()


def shown(reply):
    return everything(reply)


def said(w, text, user=ALICE):
    """The first line of /oncall's answer (a new org's welcome follows on its own line)."""
    return w.oncall(text, user)["text"].split("\n")[0]


# ---------------------------------------------------------------- item 13: zones, years

@test("a person without a zone reads times in the org's zone (`/oncall org tz`), not a rotation's")
def _(w):
    w.team_mode(ALICE)
    w.oncall("rotation create tokyo tz Asia/Tokyo members <@%s>" % ALICE, ALICE)
    # Before: the only rotation's zone (Asia/Tokyo) leaked into everyone's replies.
    t = w.oncall("schedule 2", ALICE)["text"]
    check_re(r"\(Europe/Berlin\)", t, "schedule without any zone set: the configured one")
    org = shown(w.oncall("org", ALICE))
    check_re(r"Europe/Berlin \(the configured default\)", org, "/oncall org before")
    t = w.oncall("org tz america/new_york", ALICE)["text"]
    check_eq(t, "The workspace's time zone is now America/New_York.", "org tz reply")
    check_eq(w.r("HGET", K + ":org", "tz"), "America/New_York", "stored")
    check_re(r"America/New_York", shown(w.oncall("org", ALICE)), "/oncall org after")
    t = shown(w.oncall("schedule 2", ALICE))
    check_re(r"\(America/New_York\)", t, "schedule in the org's zone")
    check_re(r"E[SD]T", t, "times in the org's zone")
    check_re(r"not set: times are shown in America/New_York", shown(w.oncall("me", ALICE)), "/oncall me says which")
    w.oncall("me tz Asia/Kolkata", ALICE)
    check_re(r"\(Asia/Kolkata\)", w.oncall("schedule 2", ALICE)["text"], "the person's own zone wins")
    audit = shown(w.invite("audit 3", ALICE))
    check_re(r"set the workspace's time zone to America/New_York \(was not set\)", audit, "audited")


@test("org tz and org phone_region: admins only, bad values refused and nothing written")
def _(w):
    w.add_member(BOB, "developer")
    before = state(w)
    check_re(r"needs the \*admin\* role", w.oncall("org tz Europe/Paris", BOB)["text"], "developer")
    check_re(r"not an IANA time zone", w.oncall("org tz Mars/Base", ALICE)["text"], "bad zone")
    check_re(r"not one I know.*US", w.oncall("org phone_region XX", ALICE)["text"], "bad region")
    check_eq(state(w), before, "refusals wrote something")
    check_re(r"viewer|Time zone", shown(w.oncall("org", BOB)), "a developer may look")


@test("invites and audit entries are shown in the reader's zone, not always UTC")
def _(w):
    w.team_mode(ALICE)
    w.oncall("me tz America/New_York", ALICE)
    t = shown(w.invite("link developer expires 7d", ALICE))
    check_re(r"until \w{3} \d+ \w{3}( \d{4})? \d\d:\d\d E[SD]T", t, "invite expiry in New York time")
    check("UTC" not in t, "invite still in UTC: %r" % t)
    listed = shown(w.invite("list", ALICE))
    check_re(r"expires \w{3} \d+ \w{3}( \d{4})? \d\d:\d\d E[SD]T", listed, "invite list")
    audit = shown(w.invite("audit 5", ALICE))
    check_re(r"\w{3} \d+ \w{3}( \d{4})? \d\d:\d\d E[SD]T: <@U0ALICE> created invite `", audit, "audit")
    check("UTC" not in audit, "audit still in UTC: %r" % audit)


@test("times show the year only when it is not the current one")
def _(w):
    w.add_member(BOB, "developer")
    year = datetime.datetime.now(datetime.timezone.utc).year
    t = w.oncall("override <@%s> %d-06-01 09:00 +2h" % (BOB, year + 1), ALICE)["text"]
    day = datetime.date(year + 1, 6, 1).strftime("%a")
    check_re(r"from %s 1 Jun %d 09:00 CEST to %s 1 Jun %d 11:00 CEST" % (day, year + 1, day, year + 1), t,
             "next year's override")
    t = w.oncall("override <@%s> now +2h" % BOB, ALICE)["text"]
    check(str(year) not in t, "this year's times carry the year: %r" % t)
    listed = shown(w.oncall("overrides", ALICE))
    check_re(r"Jun %d 09:00" % (year + 1), listed, "overrides list")


@test("a zone name with an underscore is shown as typed (America/New_York, not New'York)")
def _(w):
    w.oncall("", ALICE)   # the org exists: a first contact's answer leads with the welcome
    t = said(w, "me tz America/New_York")
    check_eq(t, "Your time zone is now America/New_York.", "me tz reply")
    t = said(w, "me name _Alice_ Example_")
    check_eq(t, "Your name is now 'Alice' Example'.", "underscores at a word's edge still can't make italics")


# ---------------------------------------------------------------- item 14: phone numbers

@test("`/oncall me phone +1 (555) 555-0123` is stored and echoed as +15555550123")
def _(w):
    w.oncall("", ALICE)   # the org exists: a first contact's answer leads with the welcome
    t = said(w, "me phone +1 (555) 555-0123")
    check_eq(t, "Your phone is now +15555550123.", "reply")
    check_eq(w.r("HGET", K + ":member:" + ALICE, "phone"), "+15555550123", "stored")
    t = w.oncall("me phone 0044 (0)20 7946 0958", ALICE)["text"]
    check_eq(t, "Your phone is now +442079460958.", "00 and (0)")


@test("a national number needs the org's phone_region; without it, refused with an E.164 example")
def _(w):
    w.team_mode(ALICE)
    w.oncall("me phone +15555550123", ALICE)
    before = state(w)
    t = w.oncall("me phone (555) 555-0123", ALICE)["text"]
    check_re(r"I did not change your phone: .*without \+.*`\+15555550123`.*`/oncall org phone_region US`", t,
             "refusal")
    check_re(r"no extensions", w.oncall("me phone +1 555 555 0123 x12", ALICE)["text"], "extension")
    check_eq(state(w), before, "refusals wrote something")
    t = w.oncall("org phone_region us", ALICE)["text"]
    check_eq(t, "The workspace's phone region is now US (United States, +1).", "org phone_region")
    check_re(r"US \(United States, \+1\)", shown(w.oncall("org", ALICE)), "/oncall org shows it")
    check_eq(w.oncall("me phone (555) 555-0199", ALICE)["text"], "Your phone is now +15555550199.",
             "national number read in US")
    w.oncall("org phone_region DE", ALICE)
    check_eq(w.oncall("me phone 030 1234567", ALICE)["text"], "Your phone is now +49301234567.",
             "trunk 0 dropped in DE")


# ---------------------------------------------------------------- item 15: override times

@test("`override @bob tomorrow +2h` is refused asking for a time, not read as 00:00-02:00")
def _(w):
    w.add_member(BOB, "developer")
    before = state(w)
    t = w.oncall("override <@%s> tomorrow +2h" % BOB, ALICE)["text"]
    check_re(r"I did not add the override: `tomorrow` is a whole day; say at what time, e\.g\. "
             r"`tomorrow 09:00`", t, "reply")
    t = w.oncall("override <@%s> 2030-01-02 2030-01-03" % BOB, ALICE)["text"]
    check_re(r"`2030-01-02` is a whole day", t, "bare dates")
    check_eq(state(w), before, "a refused override wrote something")
    t = w.oncall("override <@%s> tomorrow 09:00 +2h" % BOB, ALICE)["text"]
    check_re(r"from \w{3} \d+ \w{3} 09:00 CES?T to \w{3} \d+ \w{3} 11:00 CES?T", t, "with a time")


@test("typos of day words and units get \"did you mean\"")
def _(w):
    w.add_member(BOB, "developer")
    before = state(w)
    for typed, meant in [("tomorow 09:00 +2h", "tomorrow"), ("tmrw 09:00 +2h", "tomorrow"),
                         ("tody 18:00 +1h", "today"), ("now +2hrs", "+2h"), ("now +3days", "+3d"),
                         ("now 2h", "+2h"), ("nwo +2h", "now")]:
        t = w.oncall("override <@%s> %s" % (BOB, typed), ALICE)["text"]
        check_re(r"did you mean `%s`\?" % re.escape(meant), t, typed)
    check_eq(state(w), before, "a refused override wrote something")


# ---------------------------------------------------------------- item 19: config and CLI

def env_for(w, **changes):
    env = dict(w.env)
    env["WK_LISTEN"] = "127.0.0.1:%d" % free_port()
    env.update(changes)
    return env


@test("WK_ROTATION_HANDOFF takes what chat takes: 'mon 09:00', 'Monday 09:00'; refusals name the key")
def _(w):
    for value in ("mon 09:00", "Monday 09:00", "  fri   17:30 "):
        rc, out, err = run_cli(["-c", CONFIG, "--check-config"], env_for(w, WK_ROTATION_HANDOFF=value))
        check_eq(rc, 0, "%r refused: %s" % (value, err.strip()))
    rc, out, err = run_cli(["-c", CONFIG, "--check-config"], env_for(w, WK_ROTATION_HANDOFF="09:00"))
    check_eq(rc, 2, "a handoff without a weekday (the configured rotation is weekly)")
    check_re(r"WK_ROTATION_HANDOFF.*\"mon 09:00\"", err, "error names the key and the short form")


@test("--help says what exists (Slack and Teams, the operator tools) and how to reach make run's Redis")
def _(w):
    rc, out, err = run_cli(["--help"], env_for(w))
    check_eq(rc, 0, "exit code")
    check_re(r"Slack and Microsoft Teams", out, "--help names both platforms")
    for tool in ("secrets rotate", "backup FILE", "restore FILE", "manifest slack [--socket-mode]"):
        check(tool in out, "--help does not name `%s`: %r" % (tool, out))
    check_re(r"WK_REDIS_URL", out, "--help names WK_REDIS_URL for the operator commands")


@test("operator commands that can't reach Redis say where they looked and how to reach make run's")
def _(w):
    rc, out, err = run_cli(["orgs", "list"], env_for(w, WK_REDIS_URL="unix:///nonexistent/redis.sock",
                                                     WK_REDIS_TIMEOUT_MS="200"))
    check_eq(rc, 1, "exit code (stderr %r)" % err)
    check_re(r"looked for Redis at unix:///nonexistent/redis\.sock", err, "where")
    check_re(r"WK_REDIS_URL=\$\(scripts/redis\.sh url build/run\)", err, "how")
    rc, out, err = run_cli(["orgs", "list"], env_for(w))
    check_eq(rc, 0, "with the daemon's WK_REDIS_URL (stderr %r)" % err)
