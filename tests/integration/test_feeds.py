"""Calendar feeds and the fairness report (bot/feeds.c, bot/ical.c, bot/report.c).

  /oncall ical            private .ics URLs: my shifts, and each team I am in
  /oncall ical reset      new URLs; the old ones 404 at once
  GET /ical/<token>.ics   RFC 5545, parsed here with Debian's python3-icalendar
  /oncall report [team] [FROM] [TO]    per-member hours, a 15-minute CSV link
  GET /export/<token>.csv

Schedules are made two ways: through the rotation and override commands (as people do),
and, where exact numbers matter, by writing a rotation in its stored JSON form (the shape
bot/schedule.c reads) with a start in the past, so expected events and hours can be
computed here independently with zoneinfo. Every test name starts with "feeds:" so that
`run.py -k feeds` selects them.
"""

import csv
import io
import json
import harness
import re
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

try:
    import icalendar
except ImportError:  # reported by the tests that need it; scripts/setup.sh installs it
    icalendar = None

from harness import ORG, check, check_eq, check_re, short, test

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
K = "wk:{%s}" % ORG
BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc
FEED_RE = r"\*(Your shifts|Team [^*:]+):\* http://127\.0\.0\.1:\d+/ical/([0-9a-f]{48})\.ics"
CSV_RE = r"CSV: http://127\.0\.0\.1:\d+/export/([0-9a-f]{48})\.csv"
PAST, FUTURE = 7 * 86400, 60 * 86400


def need_icalendar():
    check(icalendar is not None, "python3-icalendar is not installed (scripts/setup.sh installs it)")


def everything(reply):
    return json.dumps(reply)


def feeds_in(reply):
    """{'Your shifts': token, 'Team default': token} from an /oncall ical reply."""
    return dict(re.findall(FEED_RE, everything(reply)))


def three_members(w):
    w.add_member(BOB, "developer")
    w.add_member(CAROL, "developer")


# ---------------------------------------------------------------- schedules by hand

def local(d, hh=9, mm=0, tz=BERLIN):
    return int(datetime(d.year, d.month, d.day, hh, mm, tzinfo=tz).timestamp())


def put_rotation(w, rid, members, start, tz="Europe/Berlin", name="ops", team="default"):
    """A daily 09:00 rotation in its stored JSON form, in force from its shift 0 on."""
    frm = local(start, tz=ZoneInfo(tz))
    rot = {"id": rid, "name": name, "team": team, "priority": 10, "rev": 1, "versions": [{
        "from": frm, "tz": tz, "start": start.isoformat(), "handoff": "09:00", "unit": "days",
        "length": 1, "members": members, "first": 0, "windows": []}]}
    w.r("SET", K + ":rotation:" + rid, json.dumps(rot))
    w.r("SADD", K + ":team_rotations:" + team, rid)
    w.r("HSET", K + ":rotation_names:" + team, name.lower(), rid)
    return frm


def put_override(w, oid, start, end, member, source="override", replaces="", reason="",
                 team="default", created_ms=None):
    w.r("HSET", K + ":override:" + oid, "id", oid, "start", start, "end", end, "member", member,
        "replaces", replaces, "source", source, "reason", reason, "created_by", ALICE,
        "created_ms", created_ms or int(time.time() * 1000))
    w.r("ZADD", K + ":overrides:" + team, end, oid)


def expected(members, start, frm, to, overrides, tz=BERLIN):
    """Segments [(start, end, member, source, shift, override id)] of a daily 09:00
    rotation from `start` (shift 0), overrides on top (later ones win), over [frm, to)."""
    shifts = []
    k = 0
    while True:
        d = start + timedelta(days=k)
        s, e = local(d, tz=tz), local(d + timedelta(days=1), tz=tz)
        if s >= to:
            break
        if e > frm:
            shifts.append((s, e, members[k % len(members)], k))
        k += 1
    bounds = {frm, to}
    for s, e, _, _ in shifts:
        bounds |= {max(s, frm), min(e, to)}
    for o in overrides:
        bounds |= {b for b in (o["start"], o["end"]) if frm < b < to}
    bounds = sorted(bounds)
    out = []
    for a, b in zip(bounds, bounds[1:]):
        seg = ["", "rotation", None, ""]
        for s, e, m, k in shifts:
            if s <= a < e:
                seg = [m, "rotation", k, ""]
        for o in reversed(overrides):
            if o["start"] <= a and o["end"] >= b and (not o.get("replaces") or o["replaces"] == seg[0]):
                seg = [o["member"], o.get("source", "override"), seg[2], o["id"]]
                break
        if out and out[-1][1] == a and list(out[-1][2:]) == seg:
            out[-1] = (out[-1][0], b) + tuple(seg)
        else:
            out.append((a, b) + tuple(seg))
    return out


def hours_by_member(segs, frm, to, tz=BERLIN):
    """{member: [seconds, weekday, weekend, shifts, overrides, swaps]}, weekend split at
    local midnights, plus the gap under ''."""
    res = {}
    for a, b, m, src, k, oid in segs:
        a, b = max(a, frm), min(b, to)
        if a >= b:
            continue
        r = res.setdefault(m, [0, 0, 0, set(), set(), set()])
        r[0] += b - a
        t = a
        while t < b:
            d = datetime.fromtimestamp(t, tz).date() + timedelta(days=1)
            nxt = min(local(d, 0, 0, tz), b)
            r[2 if datetime.fromtimestamp(t, tz).weekday() >= 5 else 1] += nxt - t
            t = nxt
        r[3].add(k)
        if src == "override":
            r[4].add(oid)
        elif src == "swap":
            r[5].add(oid)
    return {m: [v[0], v[1], v[2], len(v[3]), len(v[4]), len(v[5])] for m, v in res.items()}


# ---------------------------------------------------------------- the .ics checks

def fetch(w, token, ext="ics", kind="ical"):
    return w.http("GET", "/%s/%s.%s" % (kind, token, ext))


def check_calendar(resp, what):
    """200, text/calendar, CRLF everywhere, lines <= 75 octets, parses; returns the
    parsed calendar and the list of VEVENTs."""
    need_icalendar()
    check(resp.status == 200, "%s: HTTP %d %r" % (what, resp.status, short(resp.body)))
    check_eq(resp.header("content-type"), "text/calendar; charset=utf-8", what + " Content-Type")
    body = resp.body
    check(body.endswith(b"\r\n"), what + ": does not end in CRLF")
    lines = body.split(b"\r\n")[:-1]
    for i, line in enumerate(lines):
        check(b"\n" not in line and b"\r" not in line, "%s: bare CR or LF in line %d" % (what, i))
        check(len(line) <= 75, "%s: line %d is %d octets: %r" % (what, i, len(line), line))
        line.decode("utf-8")  # a fold never splits a UTF-8 sequence
    cal = icalendar.Calendar.from_ical(body)
    check_eq(str(cal.get("VERSION")), "2.0", what + " VERSION")
    check_eq(str(cal.get("PRODID")), "-//Watchkeeper//On-call//EN", what + " PRODID")
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    for ev in events:
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            check(ev.get(prop) is not None, "%s: an event lacks %s" % (what, prop))
        for prop in ("DTSTAMP", "DTSTART", "DTEND"):
            dt = ev.decoded(prop)
            check(isinstance(dt, datetime) and dt.tzinfo is not None and dt.utcoffset() == timedelta(0),
                  "%s: %s %r is not UTC" % (what, prop, dt))
        check(ev.decoded("DTSTART") < ev.decoded("DTEND"), what + ": an event ends before it starts")
    for prop in ("DTSTAMP", "DTSTART", "DTEND"):
        raw = re.findall(rb"\r\n" + prop.encode() + rb"[:;]([^\r]*)", body)
        check(len(raw) == len(events) and all(re.fullmatch(rb"\d{8}T\d{6}Z", v) for v in raw),
              "%s: %s not in UTC form: %r" % (what, prop, raw[:3]))
    uids = [str(ev.get("UID")) for ev in events]
    check_eq(len(set(uids)), len(uids), what + ": UIDs are unique")
    return cal, events


def member_of(ev):
    m = re.search(r"Member id: (\S+)", str(ev.get("DESCRIPTION")))
    check(m, "no member id in DESCRIPTION %r" % str(ev.get("DESCRIPTION")))
    return m.group(1)


def ts(ev, prop):
    return int(ev.decoded(prop).timestamp())


def match_events(events, segs, lo, hi, only=None, what="feed"):
    """The events are exactly the member segments of segs inside the window [lo, hi) (the
    window's edges known to a few seconds), in order."""
    want = [s for s in segs if s[2] and (only is None or s[2] == only)]
    got = sorted(events, key=lambda e: ts(e, "DTSTART"))
    check_eq(len(got), len(want), "%s: number of events" % what)
    for ev, (a, b, m, src, _, oid) in zip(got, want):
        gs, ge = ts(ev, "DTSTART"), ts(ev, "DTEND")
        ok_start = gs == a or (a == lo and abs(gs - lo) <= 10)
        ok_end = ge == b or (b == hi and abs(ge - hi) <= 10)
        check(ok_start and ok_end and member_of(ev) == m,
              "%s: event %s-%s %s, want %s-%s %s" % (what, gs, ge, member_of(ev), a, b, m))
        summary = str(ev.get("SUMMARY"))
        if src == "override":
            check(summary.endswith("(override)"), "%s: summary %r" % (what, summary))
        else:
            check("(" not in summary, "%s: summary %r" % (what, summary))


# ---------------------------------------------------------------- tests

@test("feeds: rotation of three and an override made with commands; /oncall ical URLs serve RFC 5545")
def _(w):
    need_icalendar()
    three_members(w)
    check_re(r"Created rotation", w.oncall("rotation create ops every 1d handoff 09:00 tz Europe/Berlin")["text"],
             "rotation create")
    for u in (ALICE, BOB, CAROL):
        w.oncall("add <@%s> ops" % u)
    tomorrow = (datetime.now(BERLIN) + timedelta(days=1)).date()
    reason = "dentist; back at 3, promise"
    text = w.oncall("override <@%s> %s 12:00 +6h %s" % (CAROL, tomorrow.isoformat(), reason))["text"]
    check_re(r"Override `(o\w+)`", text, "override")
    oid = re.search(r"Override `(\w+)`", text).group(1)
    ov = w.r.hgetall(K + ":override:" + oid)
    check_eq(ov.get("reason"), reason, "the override's reason as stored")
    reply = w.oncall("ical", BOB)
    feeds = feeds_in(reply)
    check_eq(sorted(feeds), ["Team default", "Your shifts"], "feeds offered: %s" % short(everything(reply)))

    team_cal, team_events = check_calendar(fetch(w, feeds["Team default"]), "team feed")
    check(str(team_cal.get("X-WR-CALNAME")).startswith("On call: team default"),
          "X-WR-CALNAME %r" % str(team_cal.get("X-WR-CALNAME")))
    check_eq({member_of(e) for e in team_events}, {ALICE, BOB, CAROL}, "members in the team feed")
    ovs = [e for e in team_events if str(e.get("SUMMARY")).endswith("(override)")]
    check_eq(len(ovs), 1, "override events")
    check_eq((member_of(ovs[0]), ts(ovs[0], "DTSTART"), ts(ovs[0], "DTEND")),
             (CAROL, int(ov["start"]), int(ov["end"])), "the override's event")
    check_eq(ts(ovs[0], "DTEND") - ts(ovs[0], "DTSTART"), 6 * 3600, "override length")
    check(reason in str(ovs[0].get("DESCRIPTION")), "reason %r not in %r" % (reason, str(ovs[0].get("DESCRIPTION"))))
    unfolded = fetch(w, feeds["Team default"]).body.replace(b"\r\n ", b"")
    check(b"dentist\\; back at 3\\, promise" in unfolded, "reason TEXT-escaped")
    # Who /oncall says is on call now is the member of the event containing now.
    now = time.time()
    current = [e for e in team_events if ts(e, "DTSTART") <= now < ts(e, "DTEND")]
    check_eq(len(current), 1, "events containing now")
    check("<@%s>" % member_of(current[0]) in w.oncall("", ALICE)["text"],
          "/oncall names someone else than the feed (%s)" % member_of(current[0]))

    _, mine = check_calendar(fetch(w, feeds["Your shifts"]), "member feed")
    check(mine and all(member_of(e) == BOB for e in mine), "member feed has only Bob's shifts")
    check_eq(sorted(str(e.get("UID")) for e in mine),
             sorted(str(e.get("UID")) for e in team_events if member_of(e) == BOB),
             "member feed UIDs = Bob's team feed UIDs")


@test("feeds: events match a known schedule exactly; UIDs and events stable between fetches")
def _(w):
    need_icalendar()
    three_members(w)
    today = datetime.now(BERLIN).date()
    start = today - timedelta(days=20)
    put_rotation(w, "r900", [ALICE, BOB, CAROL], start)
    now = int(time.time())
    o1 = {"id": "o901", "start": local(today + timedelta(days=2), 12), "end": local(today + timedelta(days=3), 15),
          "member": ALICE, "source": "override"}
    put_override(w, o1["id"], o1["start"], o1["end"], ALICE, reason="covering")
    feeds = feeds_in(w.oncall("ical", CAROL))
    first = fetch(w, feeds["Team default"])
    _, events = check_calendar(first, "team feed")
    segs = expected([ALICE, BOB, CAROL], start, now - PAST, now + FUTURE, [o1])
    match_events(events, segs, now - PAST, now + FUTURE, what="team feed")
    _, mine = check_calendar(fetch(w, feeds["Your shifts"]), "Carol's feed")
    match_events(mine, segs, now - PAST, now + FUTURE, only=CAROL, what="Carol's feed")
    # The override spans a handoff: two pieces, two UIDs, both naming the override.
    pieces = [e for e in events if str(e.get("SUMMARY")).endswith("(override)")]
    check_eq(len(pieces), 2, "override pieces")
    check(all("o901" in str(e.get("UID")) for e in pieces), "override id in UIDs")

    # Two Redis round trips a feed, team or person: its record, then one script.
    for name in ("Team default", "Your shifts"):
        delta = harness.roundtrip_delta(w, lambda: check_eq(fetch(w, feeds[name]).status, 200, name))
        check_eq((delta.get("GET"), delta.get("feeds_read")), (1.0, 1.0), "%s: round trips %r" % (name, delta))
        check_eq(delta.get("schedule_load", 0) + delta.get("member_list", 0) + delta.get("team_list", 0), 0,
                 "%s: reads of their own %r" % (name, delta))

    time.sleep(1.1)
    second = fetch(w, feeds["Team default"])
    _, again = check_calendar(second, "team feed, second fetch")
    check_eq([str(e.get("UID")) for e in again], [str(e.get("UID")) for e in events], "UIDs between fetches")
    # All but the first and last, which the moving window cuts.
    check_eq([(ts(e, "DTSTART"), ts(e, "DTEND")) for e in again][1:-1],
             [(ts(e, "DTSTART"), ts(e, "DTEND")) for e in events][1:-1], "events between fetches")
    check(first.body != second.body, "DTSTAMP did not move (same document twice?)")


@test("feeds: a second /oncall ical keeps the links and shows no URL; only hashes are stored")
def _(w):
    first = w.oncall("ical", ALICE)
    feeds = feeds_in(first)
    check_eq(sorted(feeds), ["Team default", "Your shifts"], "first call")
    again = w.oncall("ical", ALICE)
    check_eq(feeds_in(again), {}, "second call shows no URL")
    check_re(r"already", everything(again), "second call")
    check_eq(fetch(w, feeds["Your shifts"]).status, 200, "first member link still works")
    hashes = w.r.hgetall(K + ":feeds:" + ALICE)
    check_eq(sorted(hashes), ["member", "team:default"], "per-org hash fields")
    import hashlib
    for label, field in (("Your shifts", "member"), ("Team default", "team:default")):
        sha = hashlib.sha256(feeds[label].encode()).hexdigest()
        check_eq(hashes[field], sha, "stored hash of " + label)
        rec = json.loads(w.r("GET", "wk:feed:" + sha))
        check_eq((rec["org"], rec["kind"], rec["member"]), (ORG, field.split(":")[0], ALICE), "record")
        check(isinstance(rec["created_ms"], int), "created_ms")
    dump = json.dumps(w.r.snapshot("*"))
    for tok in feeds.values():
        check(tok not in dump, "a token is stored in clear")


@test("feeds: /oncall ical reset revokes the old URLs (404) and the new ones work")
def _(w):
    need_icalendar()
    w.add_member(BOB, "viewer")
    old = feeds_in(w.oncall("ical", BOB))
    check_eq(len(old), 2, "feeds before reset")
    for tok in old.values():
        check_eq(fetch(w, tok).status, 200, "old link before reset")
    reply = w.oncall("ical reset", BOB)
    check_re(r"no longer work", reply["text"], "reset reply")
    new = feeds_in(reply)
    check_eq(sorted(new), sorted(old), "feeds after reset")
    for label, tok in old.items():
        r = fetch(w, tok)
        check_eq(r.status, 404, "old %s link after reset" % label)
        check_re(r"reset|no such", r.text, "404 sentence")
    for label, tok in new.items():
        check(tok not in old.values(), "reset made a new token")
        check_calendar(fetch(w, tok), "new %s link" % label)
    check_eq(len(w.r.keys("wk:feed:*")), 2, "old records deleted")
    # Someone else's links are untouched by Bob's reset.
    alice = feeds_in(w.oncall("ical", ALICE))
    w.oncall("ical reset", BOB)
    check_eq(fetch(w, alice["Your shifts"]).status, 200, "Alice's link after Bob's reset")


@test("feeds: a feed stops when its owner leaves the org, or the hash no longer names it")
def _(w):
    w.add_member(BOB, "developer")
    feeds = feeds_in(w.oncall("ical", BOB))
    check_eq(fetch(w, feeds["Your shifts"]).status, 200, "before")
    w.r("HSET", K + ":feeds:" + BOB, "member", "0" * 64)
    check_eq(fetch(w, feeds["Your shifts"]).status, 404, "record without the hash naming it")
    check_eq(fetch(w, feeds["Team default"]).status, 200, "the other feed")
    w.invite("remove <@%s>" % BOB, ALICE)
    check_eq(fetch(w, feeds["Team default"]).status, 404, "after the owner left")


@test("feeds: junk tokens are 404 before any lookup")
def _(w):
    feeds = feeds_in(w.oncall("ical", ALICE))
    tok = feeds["Your shifts"]
    junk = [
        "/ical/../x.ics", "/ical/%2e%2e/x.ics", "/ical/" + tok + "0.ics", "/ical/" + tok[:-1] + ".ics",
        "/ical/" + tok.upper() + ".ics", "/ical/" + tok[:-1] + "g.ics", "/ical/" + tok,
        "/ical/" + tok + ".csv", "/ical/" + tok + ".ics/x",
        "/ical/x" * 300, "/ical/" + "a" * 48 + ".ics", "/export/" + tok + ".ics",
        "/export/" + "0" * 48 + ".csv", "/ical/%20" + tok[1:] + ".ics",
    ]
    for path in junk:
        r = w.http("GET", path)
        check_eq(r.status, 404, "GET %s" % path[:80])
    # libwebsockets itself drops a request whose path decodes to a NUL; any answer must not be 200.
    try:
        check(w.http("GET", "/ical/" + tok + ".ics%00").status != 200, "NUL in the path")
    except (ConnectionError, OSError):
        pass
    check(w.daemon.alive(), "daemon alive after a NUL in the path")
    r = w.http("POST", "/ical/" + tok + ".ics", b"")
    check_eq(r.status, 405, "POST")
    check_eq(w.http("GET", "/ical/" + tok + ".ics?x=1").status, 200, "a query string is ignored")


# A known past week: daily 09:00 Berlin rotation of three from Tuesday 2026-03-24 (so the
# Monday before 09:00 on the 24th is a gap), across the spring-forward weekend.
WEEK = (date(2026, 3, 23), date(2026, 3, 29))


def known_week(w):
    three_members(w)
    start = date(2026, 3, 24)
    put_rotation(w, "r77", [ALICE, BOB, CAROL], start)
    o = [
        {"id": "o70", "start": local(date(2026, 3, 25), 12), "end": local(date(2026, 3, 25), 18),
         "member": CAROL, "source": "override"},
        # a swap: Carol takes Bob's Saturday shift (shift 4 = 2026-03-28) while Bob is on
        {"id": "o71", "start": local(date(2026, 3, 28), 9), "end": local(date(2026, 3, 29), 9),
         "member": CAROL, "source": "swap", "replaces": BOB},
    ]
    put_override(w, "o70", o[0]["start"], o[0]["end"], CAROL, reason="covering", created_ms=1)
    put_override(w, "o71", o[1]["start"], o[1]["end"], CAROL, source="swap", replaces=BOB,
                 created_ms=2)
    frm, to = local(WEEK[0], 0), local(WEEK[1] + timedelta(days=1), 0)
    return hours_by_member(expected([ALICE, BOB, CAROL], start, frm, to, o), frm, to), frm, to


def rows_of(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    check_eq(rows[0], ["member", "shifts", "hours", "weekday_hours", "weekend_hours", "overrides", "swaps"],
             "CSV header")
    return {r[0]: r[1:] for r in rows[1:]}


@test("feeds: /oncall report numbers for a known week (DST weekend, override, swap, gap); CSV parses")
def _(w):
    want, frm, to = known_week(w)
    check_eq(to - frm, (7 * 24 - 1) * 3600, "the week has 167 hours")
    reply = w.oncall("report %s %s" % (WEEK[0].isoformat(), WEEK[1].isoformat()), ALICE)
    text = everything(reply)
    check_re(r"report for team \*default\*", reply["text"], "headline")
    check_re(r"Mon 23 Mar( 2026)? 00:00 CET to Mon 30 Mar( 2026)? 00:00 CEST \(Europe/Berlin\)", text, "period")
    tok = re.search(CSV_RE, text)
    check(tok, "no CSV link in %s" % short(text))
    r = fetch(w, tok.group(1), "csv", "export")
    check_eq(r.status, 200, "GET CSV")
    check_eq(r.header("content-type"), "text/csv; charset=utf-8", "CSV Content-Type")
    check_eq(r.header("content-disposition"), 'attachment; filename="oncall-report.csv"', "Content-Disposition")
    check(b"\r\n" in r.body and b"\n" not in r.body.replace(b"\r\n", b""), "CSV lines end CRLF")
    rows = rows_of(r.text)
    check_eq(sorted(rows), sorted([ALICE, BOB, CAROL, "(nobody)"]), "CSV rows")
    for m in (ALICE, BOB, CAROL):
        secs, wd, we, shifts, ovs, swaps = want[m]
        check_eq(rows[m], [str(shifts), "%.2f" % (secs / 3600), "%.2f" % (wd / 3600), "%.2f" % (we / 3600),
                           str(ovs), str(swaps)], "CSV row of " + m)
        check("%.2f" % (secs / 3600) in text, "reply lacks %s's hours" % m)
    check_eq(rows["(nobody)"][1], "%.2f" % (want[""][0] / 3600), "gap hours")
    check_eq(want[""][0], 33 * 3600, "the gap before the rotation began (Monday, Tuesday to 09:00)")
    check_eq(want[CAROL][5], 1, "Carol's swap")
    check_eq(want[CAROL][4], 1, "Carol's override")
    check_eq(want[BOB][2], 0, "Bob's Saturday went to Carol")
    order = [m for m in rows if m != "(nobody)"]
    check_eq(order, sorted(order, key=lambda m: (-want[m][0], m)), "rows by hours, most first")
    total = sum(float(v[1]) for v in rows.values())
    check(abs(total - 167) < 0.05, "hours sum to the period: %r" % total)
    # the same with the team named, and the member column never a formula
    reply2 = w.oncall("report default %s %s" % (WEEK[0].isoformat(), WEEK[1].isoformat()), BOB)
    tok2 = re.search(CSV_RE, everything(reply2)).group(1)
    check_eq(rows_of(fetch(w, tok2, "csv", "export").text), rows, "report by team name")


@test("feeds: CSV links expire (TTL 900 s; deleted key 404 with a sentence)")
def _(w):
    reply = w.oncall("report", ALICE)
    tok = re.search(CSV_RE, everything(reply)).group(1)
    keys = w.r.keys("wk:export:*")
    check_eq(len(keys), 1, "export keys")
    ttl = w.r("TTL", keys[0])
    check(0 < ttl <= 900, "TTL %r" % ttl)
    check(tok not in keys[0] and tok not in w.r("GET", keys[0]), "export token stored in clear")
    check_eq(fetch(w, tok, "csv", "export").status, 200, "before expiry")
    w.r("DEL", keys[0])
    r = fetch(w, tok, "csv", "export")
    check_eq(r.status, 404, "after expiry")
    check_re(r"expired", r.text, "404 sentence")


@test("feeds: /oncall report refuses bad arguments with a sentence")
def _(w):
    cases = [
        ("report 2026-13-01", r"not a date"),
        ("report 2026-02-30", r"not a date"),
        ("report 2026-01-01 2026-02-30", r"Usage"),
        ("report 2026-03-01 2026-02-01", r"before"),
        ("report 2024-01-01 2025-12-31", r"at most 366 days"),
        ("report nosuchteam", r"no team"),
        ("report 2026-01-01 2026-01-02 2026-01-03", r"Usage"),
        ("report 9999-12-30", r"future"),
    ]
    for text, pattern in cases:
        reply = w.oncall(text, ALICE)
        check_re(pattern, reply["text"], text)
        check(not re.search(CSV_RE, everything(reply)), "%s: a CSV link anyway" % text)
    check(re.search(CSV_RE, everything(w.oncall("report 2024-01-01 2024-12-31", ALICE))),
          "366 days (a leap year, both ends included) are accepted")


@test("feeds: a shift gained by a cover says who asked for it and why (issue 10 item 18)")
def _(w):
    need_icalendar()
    three_members(w)
    w.peer.route("/api/conversations.open", body=b'{"ok":true,"channel":{"id":"D0DM"}}')
    w.peer.route("/api/chat.postMessage", body=b'{"ok":true,"channel":"D0DM","ts":"1.2"}')
    w.oncall("me name Alice Example", ALICE)
    w.oncall("me name Bob Example", BOB)
    w.oncall("rotation create main every 1d members <@%s> <@%s> <@%s>" % (ALICE, BOB, CAROL), ALICE)
    when = everything(w.oncall("when", ALICE))
    shifts = re.findall(r"`(r\d+\.-?\d+)`", when)
    check(len(shifts) >= 2, "alice's shifts: %s" % short(when))
    t = w.oncall("cover %s by <@%s> dentist, then school pickup" % (shifts[1], BOB), ALICE)["text"]
    sid = re.search(r"swap cancel (s\d+)", t)
    check(sid, "no swap id in %r" % t)
    sid = sid.group(1)
    js = w.click("oncall.swap_accept", BOB, value=sid)
    check_re(r"approved", js["text"], "bob accepts")
    feeds = feeds_in(w.oncall("ical", CAROL))
    _, events = check_calendar(fetch(w, feeds["Team default"]), "team feed")
    swaps = [e for e in events if str(e.get("SUMMARY")).endswith("(swap)")]
    check_eq(len(swaps), 1, "one event gained by the cover")
    d = str(swaps[0].get("DESCRIPTION"))
    check_eq(member_of(swaps[0]), BOB, "the cover's event is bob's")
    check_re(r"^Cover %s in rotation main\." % sid, d, "says it is a cover, which one")
    check_re(r"Asked by: Alice Example", d, "who asked")
    check_re(r"Reason: dentist, then school pickup", d, "why")
    check_re(r"Takes over from: Alice Example", d, "whose shift")
    check_re(r"Approved by: Bob Example", d, "who agreed")
