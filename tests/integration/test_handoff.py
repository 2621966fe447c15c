"""test_handoff.py - handoff DMs and daily reminders, fired by the engine's durable timers.

Each test runs its own daemon with WK_TEST_CLOCK_OFFSET_MS (test only) so that the engine's
clock stands a few seconds before a chosen instant: a rotation boundary (handoff) or a
reminder's minute. State is built the way people build it (invites, `/oncall rotation
create`, `/oncall add`, `/oncall me tz`); the Slack Web API is the FakePeer, which gives each
user their own DM channel "D<user id>" so every message can be traced to its recipient.

Timers live in Redis (bot/timers.h): wk:{timers} (due zset), wk:{timers}:leased and
wk:{timers}:t:<id> (hash). Where the command that arms a timer is not wired yet, the test
arms it with exactly what handoff_reschedule()/handoff_set_reminder() write and says so in
a '# note' line; the rest of the path (claim, fire, deliver, re-arm) is the real one.
"""

import json
import time
import urllib.parse
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import harness
from harness import check, check_eq, check_re, own_world, test

ORG = harness.ORG
TEAM_ID = "default"
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
HANDOFF_ID = "handoff:%s:%s" % (ORG, TEAM_ID)
REMINDER_ID = "reminder:%s:%s" % (ORG, TEAM_ID)
K_DUE, K_LEASED, K_TIMER = "wk:{timers}", "wk:{timers}:leased", "wk:{timers}:t:"


def note(text):
    print("# note: " + text, flush=True)


def ceil_hour(t):
    return (int(t) // 3600 + 1) * 3600


def offset_for(instant_s, lead_s):
    """WK_TEST_CLOCK_OFFSET_MS that puts the daemon's clock lead_s before instant_s now."""
    return int(instant_s * 1000 - lead_s * 1000 - time.time() * 1000)


# A DM to someone without a zone of their own reads in the org's zone, else the configured
# rotation.timezone (the harness sets Europe/Berlin), like their /oncall does; not the rotation's.
NO_ZONE = "Europe/Berlin"


def fmt(t, zone):
    """What handoff.c prints: 'Mon 2 Mar 09:00 CET'."""
    d = datetime.fromtimestamp(t, ZoneInfo(zone))
    return "%s %d %s %s" % (d.strftime("%a"), d.day, d.strftime("%b"), d.strftime("%H:%M %Z"))


def fake_slack(peer, open_delay=0, post_status=200, post_body=None):
    """conversations.open answers D<user>; chat.postMessage answers ok (or as given)."""
    def open_answer(req):
        form = urllib.parse.parse_qs((req["body"] or b"").decode())
        return {"ok": True, "channel": {"id": "D" + form.get("users", [""])[0]}}
    peer.route("/api/conversations.open", body=open_answer, delay=open_delay)
    peer.route("/api/chat.postMessage", status=post_status,
               body=post_body or {"ok": True, "channel": "D", "ts": "1.2"})


def posts(peer, needle=""):
    """(channel, text) of every chat.postMessage whose text contains needle."""
    out = []
    for r in list(peer.requests):
        if r["path"] == "/api/chat.postMessage" and isinstance(r["json"], dict):
            if needle in r["json"].get("text", ""):
                out.append((r["json"].get("channel"), r["json"].get("text")))
    return out


def reminder_command_wired(w):
    return any(c.get("command") == "oncall" and c.get("subcommand") == "reminder"
               for c in json.loads(harness.run_cli(["--commands"], w.env)[1]))


def build_team(w, every="1h", bob_tz="America/New_York", reminders=False):
    """Alice (owner), Bob and Carol in rotation `ops` of the default team, in that order.
    reminders=False turns the team's daily reminder off first, so a default 08:00 reminder
    can never mix into a handoff test's messages."""
    w.add_member(BOB)
    w.add_member(CAROL)
    if not reminders:
        if reminder_command_wired(w):
            w.oncall("reminder off")
        else:
            w.r("HSET", "wk:{%s}:team_settings:%s" % (ORG, TEAM_ID), "reminder", "off")
    if bob_tz:
        w.oncall("me tz " + bob_tz, user=BOB)
    reply = w.oncall("rotation create ops every %s handoff 00:00 tz UTC" % every)
    check("Created rotation" in reply["text"], "rotation create: %r" % reply["text"])
    for u in (ALICE, BOB, CAROL):
        w.oncall("add <@%s> ops" % u)
    rid = w.r("HGET", "wk:{%s}:rotation_names:%s" % (ORG, TEAM_ID), "ops")
    rot = json.loads(w.r("GET", "wk:{%s}:rotation:%s" % (ORG, rid)))
    check_eq(rot["versions"][-1]["members"], [ALICE, BOB, CAROL], "rotation order")
    return rot


def chain_at(rot, t):
    """(primary, secondary, tertiary) of an hourly/daily UTC rotation handing off at 00:00,
    computed independently of the daemon from the rotation's stored versions."""
    v = [x for x in rot["versions"] if x["from"] <= t][-1]
    length = v["length"] * (3600 if v["unit"] == "hours" else 86400)
    y, m, d = (int(x) for x in v["start"].split("-"))
    anchor = int(datetime(y, m, d, tzinfo=timezone.utc).timestamp())
    k = (t - anchor) // length
    k0 = (v["from"] - anchor) // length
    n = len(v["members"])
    i = (v["first"] + k - k0) % n
    return v["members"][i], v["members"][(i - 1) % n], v["members"][(i - 2) % n]


def arm_handoff(w, boundary):
    """The handoff timer for `boundary`: armed by the rotation commands once they call
    handoff_reschedule(); until then armed here with what that function writes."""
    key = K_TIMER + HANDOFF_ID
    if w.r("EXISTS", key):
        return
    note("rotation commands do not arm handoffs yet; arming %s as handoff_reschedule() would"
         % HANDOFF_ID)
    w.r("HSET", key, "kind", "handoff", "org", ORG, "payload", "%s %d" % (TEAM_ID, boundary),
        "due_ms", boundary * 1000, "attempts", 0)
    w.r("ZADD", K_DUE, boundary * 1000, HANDOFF_ID)
    harness.wake_engines(w)


def wait_posts(w, needle, count, timeout):
    harness.wait_until(lambda: len(posts(w.peer, needle)) >= count, timeout)
    return posts(w.peer, needle)


def check_handoff_dms(w, rot, boundary):
    """Exactly one 'on call' DM to the right primary and one per backup, with the right times."""
    primary, second, third = chain_at(rot, boundary)
    zone = {BOB: "America/New_York"}
    got = wait_posts(w, "You are", 3, 15)
    time.sleep(3)  # anything duplicated would arrive by now
    got = posts(w.peer, "You are")
    oncall = [p for p in got if "You are on call" in p[1]]
    first = [p for p in got if "1st backup" in p[1]]
    second_b = [p for p in got if "2nd backup" in p[1]]
    check_eq(len(got), 3, "handoff DMs (all: %r)" % got)
    check_eq(oncall, [("D" + primary, "You are on call from %s to %s (default)"
                       % (fmt(boundary, zone.get(primary, NO_ZONE)),
                          fmt(boundary + 3600, zone.get(primary, NO_ZONE))))], "primary DM")
    check_eq(first, [("D" + second, "You are 1st backup for <@%s> until %s (default)"
                      % (primary, fmt(boundary + 3600, zone.get(second, NO_ZONE))))], "1st backup DM")
    check_eq(second_b, [("D" + third, "You are 2nd backup for <@%s> until %s (default)"
                         % (primary, fmt(boundary + 3600, zone.get(third, NO_ZONE))))], "2nd backup DM")
    return primary


def check_rearmed(w, boundary):
    """After firing, the handoff timer waits for the next boundary (the next hour)."""
    nxt = boundary + 3600
    got = harness.wait_until(lambda: w.r("ZSCORE", K_DUE, HANDOFF_ID) == str(nxt * 1000), 5)
    check(got, "handoff timer not re-armed for %d: zset %r, hash %r"
          % (nxt, w.r("ZRANGE", K_DUE, 0, -1, "WITHSCORES"), w.r.hgetall(K_TIMER + HANDOFF_ID)))
    check_eq(w.r("HGET", K_TIMER + HANDOFF_ID, "payload"), "%s %d" % (TEAM_ID, nxt), "next payload")
    check_eq(w.r("ZCARD", K_LEASED), 0, "leases left behind")


@test("handoff: the incoming primary and both backups get one DM each, then the next is armed",
      world=False)
def handoff_fires_once():
    boundary = ceil_hour(time.time()) + 2 * 3600
    with own_world(WK_TEST_CLOCK_OFFSET_MS=offset_for(boundary, 10)) as w:
        fake_slack(w.peer)
        rot = build_team(w)
        arm_handoff(w, boundary)
        check_handoff_dms(w, rot, boundary)
        check_rearmed(w, boundary)
        # one dedupe key per recipient, each naming a notification that was sent, and DM
        # channels cached for next time
        sent = w.r.keys("wk:{%s}:notify_dedupe:sent:%s:*" % (ORG, HANDOFF_ID))
        check_eq(len(sent), 3, "dedupe keys %r" % sent)
        check(all(w.r("HGET", "wk:{%s}:notification:%s" % (ORG, w.r("GET", k)), "status") == "sent"
                  for k in sent), "notifications not sent")
        check_eq(w.r("GET", "wk:{%s}:dm:%s" % (ORG, BOB)), "D" + BOB, "cached DM channel")


@test("handoff: two daemons on one Redis still send each DM once", world=False)
def handoff_two_daemons():
    boundary = ceil_hour(time.time()) + 2 * 3600
    with own_world(WK_TEST_CLOCK_OFFSET_MS=offset_for(boundary, 12)) as w:
        fake_slack(w.peer)
        second = w.another_daemon()
        try:
            rot = build_team(w)
            arm_handoff(w, boundary)
            check_handoff_dms(w, rot, boundary)
            check_rearmed(w, boundary)
            check(second.alive(), "the second daemon died")
        finally:
            second.stop()


@test("handoff: a daemon killed while the handoff DMs are being sent delivers each once after a restart",
      world=False)
def handoff_survives_kill():
    boundary = ceil_hour(time.time()) + 2 * 3600
    with own_world(WK_TEST_CLOCK_OFFSET_MS=offset_for(boundary, 10),
                   WK_TEST_TIMER_LEASE_MS=1500, WK_TEST_NOTIFY_LEASE_MS=1500) as w:
        fake_slack(w.peer, open_delay=3)  # conversations.open hangs: the kill lands in it

        def sending():
            return [k for k in w.r("KEYS", "wk:{%s}:notification:n*" % ORG)
                    if not k.endswith(":events") and w.r("HGET", k, "kind") == "handoff"
                    and w.r("HGET", k, "status") == "sending"]
        rot = build_team(w)
        arm_handoff(w, boundary)
        check(harness.wait_until(sending, 20), "no handoff DM was ever being sent")
        time.sleep(0.5)
        w.daemon.proc.kill()  # SIGKILL while DMs are being opened
        w.daemon.proc.wait()
        check_eq(posts(w.peer, "You are"), [], "handoff posts before the kill")
        fake_slack(w.peer)  # Slack answers at once again
        w.daemon.kill()  # close the old process's bookkeeping
        w.daemon.start()
        primary = check_handoff_dms(w, rot, boundary)
        check_rearmed(w, boundary)
        check(primary, "no primary")


@test("handoff: the daily reminder fires once at the team's local time and is re-armed 24 h later",
      world=False)
def reminder_fires_once():
    # Half past an hour: no hourly or daily handoff anywhere near it.
    when = ceil_hour(time.time()) + 3 * 3600 + 30 * 60
    hhmm = datetime.fromtimestamp(when, timezone.utc).strftime("%H:%M")
    with own_world(WK_TEST_CLOCK_OFFSET_MS=offset_for(when, 12)) as w:
        fake_slack(w.peer)
        rot = build_team(w, every="1d", bob_tz=None, reminders=True)
        if reminder_command_wired(w):
            reply = w.oncall("reminder %s" % hhmm)
            check(hhmm in reply["text"], "/oncall reminder: %r" % reply["text"])
            check_re(r"set the daily reminder of team \*default\* to %s" % hhmm, json.dumps(w.invite("audit 3")),
                     "the change is audited")
        else:
            note("no `/oncall reminder` command yet; writing what handoff_set_reminder() writes")
            w.r("HSET", "wk:{%s}:team_settings:%s" % (ORG, TEAM_ID), "reminder", hhmm, "tz", "UTC")
            w.r("HSET", K_TIMER + REMINDER_ID, "kind", "reminder", "org", ORG, "payload", TEAM_ID,
                "due_ms", when * 1000, "attempts", 0)
            w.r("ZADD", K_DUE, when * 1000, REMINDER_ID)
            harness.wake_engines(w)
        check_eq(w.r("ZSCORE", K_DUE, REMINDER_ID), str(when * 1000), "reminder armed for %s" % hhmm)
        primary = chain_at(rot, when)[0]
        got = wait_posts(w, "Reminder:", 1, 20)
        time.sleep(2)
        got = posts(w.peer, "Reminder:")
        day_end = (when // 86400 + 1) * 86400
        check_eq(got, [("D" + primary, "Reminder: you are on call until %s (default)"
                        % fmt(day_end, NO_ZONE))], "reminder DMs")
        nxt = harness.wait_until(lambda: w.r("ZSCORE", K_DUE, REMINDER_ID), 5)
        check_eq(nxt, str((when + 86400) * 1000), "reminder re-armed for tomorrow")


@test("handoff: a stale cached DM channel is dropped and the DM opened afresh", world=False)
def handoff_stale_dm_channel():
    boundary = ceil_hour(time.time()) + 2 * 3600

    def post_answer(req):
        if (req["json"] or {}).get("channel") == "DGONE":
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": "D", "ts": "1.2"}

    with own_world(WK_TEST_CLOCK_OFFSET_MS=offset_for(boundary, 10)) as w:
        fake_slack(w.peer, post_body=post_answer)
        rot = build_team(w)
        for u in (ALICE, BOB, CAROL):
            w.r("SET", "wk:{%s}:dm:%s" % (ORG, u), "DGONE")
        arm_handoff(w, boundary)
        primary, _, _ = chain_at(rot, boundary)
        harness.wait_until(lambda: len(posts(w.peer, "You are on call")) >= 2, 15)
        got = posts(w.peer, "You are on call")
        check_eq([c for c, _ in got], ["DGONE", "D" + primary], "post, then post after reopening")
        check_eq(w.r("GET", "wk:{%s}:dm:%s" % (ORG, primary)), "D" + primary, "cache refreshed")
        opens = [r for r in w.peer.requests if r["path"] == "/api/conversations.open"]
        check(any(r["body"] == ("users=" + primary).encode() for r in opens),
              "no conversations.open for %s: %r" % (primary, [r["body"] for r in opens]))
        o = opens[0]
        check_eq(o["headers"].get("content-type"), "application/x-www-form-urlencoded", "open content type")
        check_eq(o["headers"].get("authorization"), "Bearer xoxb-integration-test", "open auth")
        p = [r for r in w.peer.requests if r["path"] == "/api/chat.postMessage"][0]
        check_eq(p["headers"].get("content-type"), "application/json; charset=utf-8", "post content type")


@test("handoff: Slack 429 on chat.postMessage is retried after Retry-After, then sent once",
      world=False)
def handoff_rate_limited():
    boundary = ceil_hour(time.time()) + 2 * 3600
    seen = []

    def status(req):  # only the very first post is rate limited
        seen.append(req)
        req["_limited"] = len(seen) == 1   # posts run side by side: decide once per request
        return 429 if req["_limited"] else 200

    def body(req):
        if req.get("_limited"):
            return {"ok": False, "error": "ratelimited"}
        return {"ok": True, "channel": "D", "ts": "1.2"}

    with own_world(WK_TEST_CLOCK_OFFSET_MS=offset_for(boundary, 10)) as w:
        fake_slack(w.peer, post_status=status, post_body=body)
        w.peer.routes["/api/chat.postMessage"][2]["Retry-After"] = "2"
        rot = build_team(w)
        arm_handoff(w, boundary)
        first = w.peer.wait_for(1, timeout=15, path_prefix="/api/chat.postMessage")
        check(first, "no chat.postMessage at all")
        t429 = first[0]["time"]
        limited = (seen[0]["json"] or {}).get("channel")
        check_handoff_dms_after_429(w, rot, boundary, limited)
        retried = [r for r in w.peer.requests if r["path"] == "/api/chat.postMessage"
                   and r["time"] > t429 and (r["json"] or {}).get("channel") == limited]
        check(retried and retried[0]["time"] - t429 >= 1.5,
              "retried before Retry-After: %r" % [r["time"] - t429 for r in retried])


def check_handoff_dms_after_429(w, rot, boundary, limited):
    """The 429'd first attempt (to `limited`, whichever DM got there first: the three go out
    side by side) is in the log too: count the posts per recipient."""
    primary, second, third = chain_at(rot, boundary)
    harness.wait_until(lambda: len(posts(w.peer, "You are")) >= 4, 15)
    time.sleep(2)
    got = posts(w.peer, "You are")
    by = {}
    for ch, text in got:
        by.setdefault(ch, []).append(text)
    # The retry resends the 429'd one only (the others were sent).
    check_eq(sorted(by), sorted("D" + u for u in (primary, second, third)), "recipients %r" % got)
    for ch in by:
        check_eq(len(by[ch]), 2 if ch == limited else 1,
                 "%s: %s" % (ch, "the 429'd attempt and the retry" if ch == limited else "once"))
    check_eq(len(got), 4, "posts %r" % got)
    return primary


@test("handoff: `/oncall announce here` posts each handoff into that channel once; refusals write nothing",
      world=False)
def handoff_announce():
    boundary = ceil_hour(time.time()) + 2 * 3600
    with own_world(WK_TEST_CLOCK_OFFSET_MS=offset_for(boundary, 10)) as w:
        fake_slack(w.peer)
        rot = build_team(w)
        key = "wk:{%s}:team_settings:%s" % (ORG, TEAM_ID)
        for bad in ("nowhere", "<#D0DIRECT|dm>"):
            check_re(r"Say `here` for this channel", w.oncall("announce " + bad)["text"], bad)
        check_re(r"needs the \*admin\* role", w.oncall("announce here", user=BOB)["text"], "developer")
        check_eq(w.r("HGET", key, "announce"), None, "nothing written by refusals")
        t = w.oncall("announce here")["text"]
        check_re(r"announced in <#C0TEST>", t, "reply")
        check_eq(w.r("HGET", key, "announce"), "C0TEST", "stored channel")
        arm_handoff(w, boundary)
        check_handoff_dms(w, rot, boundary)
        primary, second, third = chain_at(rot, boundary)
        got = [p for p in posts(w.peer, "On call now") if p[0] == "C0TEST"]
        check_eq(len(got), 1, "announcements %r" % got)
        check_re(r"On call now for \*default\*: <@%s> until .*1st backup <@%s>, 2nd backup <@%s>\."
                 % (primary, second, third), got[0][1], "announcement text")
        check_re(r"set where handoffs of team \*default\* are announced to C0TEST", json.dumps(w.invite("audit 5")),
                 "audited")
        w.oncall("announce off")
        check_eq(w.r("HGET", key, "announce"), None, "off")


@test("sweep: a handoff timer that was lost (dropped, or never armed) is armed again by the periodic sweep",
      world=False)
def handoff_sweep():
    with own_world(WK_TEST_SWEEP_MS=1000) as w:
        fake_slack(w.peer)
        build_team(w)
        due = harness.wait_until(lambda: w.r("ZSCORE", K_DUE, HANDOFF_ID), 5)
        check(due, "no handoff timer after building the team")
        check(w.r("ZSCORE", K_DUE, "sweep:handoffs"), "the sweep timer is not armed")
        # Lose it the way a dropped timer is lost: gone from the queue and its hash.
        w.r("ZREM", K_DUE, HANDOFF_ID)
        w.r("DEL", K_TIMER + HANDOFF_ID)
        back = harness.wait_until(lambda: w.r("ZSCORE", K_DUE, HANDOFF_ID), 5)
        check_eq(back, due, "the handoff timer after the sweep")
        check_eq(w.r("HGET", K_TIMER + HANDOFF_ID, "kind"), "handoff", "its kind")
        check(harness.wait_until(lambda: "event=handoff.sweep orgs=1 teams=1 failed=0" in w.daemon.stderr_text(), 5),
              "no sweep log line")
