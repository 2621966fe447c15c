"""test_parity.py - Slack and Teams run the same commands: every scenario file in scenarios/ is
played through the Slack adapter (org slack:T0TEST) and the Teams adapter (org teams:<tenant>)
of one daemon. Both orgs must end with the same Redis state, once ids, times and secrets are
masked, and every step must give the same answer, once each platform's markup is read back."""

import datetime
import glob
import json
import math
import os
import re
import time

from harness import BACKGROUND_TIMERS, TEAM, TIMER_QUEUES, check, check_eq, test, wait_until
import fake_teams as ft
from test_teams import BOB_USER, Person, teams_world

HERE = os.path.dirname(os.path.abspath(__file__))
SLACK_IDS = {"alice": "U0ALICE", "bob": "U0BOB"}
TEAMS_USERS = {"alice": ft.USER, "bob": BOB_USER}
TEAMS_CONVS = {"alice": "a:1fixtureConversationId", "bob": "a:1fixtureBobConversation"}


def steps(path):
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^(\w+)(:| click) (.*)$", line)
        check(m, "%s:%d: not a step: %r" % (path, n, line))
        yield n, m.group(1), m.group(2) == " click", m.group(3)


def same_text(s, ids):
    """An answer as words: markup, mentions and spacing of either platform made alike."""
    for person, pid in ids.items():
        s = s.replace("<@%s>" % pid, "@" + person)
    for person, user in TEAMS_USERS.items():
        s = s.replace("<at>%s</at>" % user["name"], "@" + person)
    s = re.sub(r"&amp;", "&", s)
    s = re.sub(r"[*]", "", s)
    s = re.sub(r"\b(Slack|Teams)\b", "<platform>", s)
    # Slack reaches other commands through /oncall (Slack keeps /invite); Teams by their names.
    s = re.sub(r"/oncall (invite|incident|delegate)\b", r"/\1", s)
    s = re.sub(r"\b[a-z2-7]{32}\b", "<code>", s)
    s = re.sub(r"\b[0-9a-f]{10}\b", "<invite>", s)
    return " ".join(s.split())


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
CLOCK = re.compile(r"\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{1,2}) (%s) )?(\d{2}):(\d{2})\b" % "|".join(MONTHS))


def clock_minutes(m):
    """A shown time as minutes: since the epoch when it carries a date, else within a day."""
    day, mon, hh, mm = m.groups()
    if not day:
        return int(hh) * 60 + int(mm), 1440
    now = datetime.datetime.now()
    # The year nearest to now: an answer near New Year may name either one.
    at = min((datetime.datetime(y, MONTHS.index(mon) + 1, int(day), int(hh), int(mm))
              for y in (now.year - 1, now.year, now.year + 1)), key=lambda d: abs(d - now))
    return int(at.timestamp() // 60), None


def same_but_clock(teams, slack, minutes):
    """The Teams answer with the times it shows taken as Slack's wherever they are at most
    `minutes` later or earlier: a time relative to now ("until Sun 13 Dec 00:22") may cross a
    minute while the scenario is played again through Teams."""
    a, b = list(CLOCK.finditer(teams)), list(CLOCK.finditer(slack))
    if len(a) != len(b):
        return teams
    out, last = [], 0
    for x, y in zip(a, b):
        (tx, wrap), (ty, _) = clock_minutes(x), clock_minutes(y)
        d = abs(tx - ty) if wrap is None else min(abs(tx - ty), wrap - abs(tx - ty))
        out.append(teams[last:x.start()])
        out.append(y.group(0) if d <= minutes and (x.group(1) is None) == (y.group(1) is None) else x.group(0))
        last = x.end()
    out.append(teams[last:])
    return "".join(out)


def masked(snap, org, ids):
    """A snapshot of one org's keys with what must differ between platforms masked."""
    out = {}
    subst = [(org, "<org>"), (org.split(":", 1)[1], "<external>")] + [(pid, "<%s>" % p) for p, pid in ids.items()]

    def fix(v):
        if isinstance(v, str):
            for a, b in subst:
                v = v.replace(a, b)
            v = re.sub(r"\b(slack|teams)(?=\b|_)", "<platform>", v)
            v = re.sub(r"\b(C0TEST|tc[0-9a-f]{16})\b", "<place>", v)  # a Slack channel, a Teams chat
            v = re.sub(r"\b\d{13}(-\d+)?\b", "<ms>", v)
            v = re.sub(r"\b[0-9a-f]{64}\b", "<hash>", v)
            v = re.sub(r"\b[a-z2-7]{32}\b", "<code>", v)
            v = re.sub(r"\b[0-9a-f]{10}\b", "<invite>", v)
            v = re.sub(r"\b[\w.-]+:\d+:\d+:[0-9a-f]{8}\b", "<sender>", v)   # which sender took it
            v = re.sub(r"\br\d+-[0-9a-f]{4}\b", "<ref>", v)                   # an attempt's reference
            return v
        if isinstance(v, (list, tuple)):
            return [fix(x) for x in v]
        if isinstance(v, dict):
            return {fix(k): fix(x) for k, x in v.items()}
        return v

    for k, v in snap.items():
        # Left out: each platform's own records (teams_*, Slack DM ids) and the pace keys (a
        # per-person send gap that expires within a second or two, so timing decides them).
        if not k.startswith("wk:{%s}" % org) or re.search(r":(teams_\w+|dm|pace):", k + ":"):
            continue
        if v[0] == "hash":
            # Where each platform keeps its own message: Slack's ts and lookup reference,
            # Teams' activity id; and the place itself (a Slack channel, a Teams handle).
            h = {f: x for f, x in v[1].items() if f not in ("card_ts", "card_ref", "teams_card")}
            if "card_ch" in h:
                h["card_ch"] = "<place>"
            v = (v[0], h)
        out[fix(k)] = fix(v)
    return out


def settle(w):
    """Wait until what a step set off in the background is done: timers due now have fired
    (an incident's first escalation step) and every notification has its outcome, so both
    platforms record the same events in the same order."""
    def quiet():
        now_ms = int(w.r("TIME")[0]) * 1000 + 2500   # a card update waits up to a second or two
        due, leased = TIMER_QUEUES   # leased ones are being run: their score is the lease's end
        busy = w.r("ZRANGEBYSCORE", due, "-inf", now_ms) + w.r("ZRANGE", leased, 0, -1)
        return not any(m not in BACKGROUND_TIMERS for m in busy)
    check(wait_until(quiet, 5), "timers due now still waiting")
    w.notifications_settled()


def slack_words(reply):
    """What a person reads in a Slack answer: its sections and fields (the top-level text is
    only the notification fallback when there are blocks)."""
    out = []
    for b in reply.get("blocks") or []:
        if b.get("type") == "section":
            if b.get("text"):
                out.append(b["text"]["text"])
            for f in b.get("fields") or []:
                out.append(f["text"])
    return " ".join(out) if out else reply.get("text", "")


def play_slack(w, path):
    answers, code = [], ""
    for n, person, click, text in steps(path):
        text = text.replace("{code}", code)
        for p, pid in SLACK_IDS.items():
            text = text.replace("@" + p, "<@%s>" % pid)
        if click:
            action, _, value = text.partition(" ")
            reply = w.click(action, SLACK_IDS[person], value=value)
        else:
            cmd, _, rest = text.partition(" ")
            reply = w.command(rest, SLACK_IDS[person], command="/" + cmd)
            reply = json.loads(reply.body)
        body = slack_words(reply)
        codes = re.findall(r"join ([a-z2-7]{32})", body)
        code = codes[0] if codes else code
        answers.append((n, body, time.time()))
        settle(w)
    return answers


def play_teams(w, path):
    people = {p: Person(w, TEAMS_USERS[p], TEAMS_CONVS[p]) for p in TEAMS_USERS}
    answers, code = [], ""
    for n, person, click, text in steps(path):
        text = text.replace("{code}", code)
        if click:
            action, _, value = text.partition(" ")
            ans = people[person].click(action, value)
            body = " ".join(ft.card_texts(ans["value"])) if isinstance(ans.get("value"), dict) else str(ans.get("value"))
        else:
            entities = []
            for p in TEAMS_USERS:
                if "@" + p in text:
                    at, ent = people[p].mention()
                    text = text.replace("@" + p, at)
                    entities.append(ent)
            body = people[person].say(text, entities=entities or None)
        codes = re.findall(r"join ([a-z2-7]{32})", body)
        code = codes[0] if codes else code
        answers.append((n, body, time.time()))
        settle(w)
    return answers


def parity(path):
    with teams_world() as w:
        w.peer.route("/api/conversations.open", body=b'{"ok":true,"channel":{"id":"D0DM"}}')
        w.peer.route("/api/chat.postMessage", body=b'{"ok":true,"channel":"D0DM","ts":"1.2"}')
        slack = play_slack(w, path)
        teams = play_teams(w, path)
        ids_slack = dict(SLACK_IDS)
        ids_teams = {p: u["aadObjectId"] for p, u in TEAMS_USERS.items()}
        check_eq(len(teams), len(slack), "answers through Teams and through Slack")
        for (n, a, at), (_, b, bt) in zip(slack, teams):
            b = same_but_clock(b, a, math.ceil(abs(bt - at) / 60) + 1)
            check_eq(same_text(b, ids_teams), same_text(a, ids_slack),
                     "%s line %d: the Teams answer against Slack's" % (os.path.basename(path), n))
        snap = w.r.snapshot("*")
        s = masked(snap, "slack:" + TEAM, ids_slack)
        t = masked(snap, "teams:" + ft.TENANT_ID, ids_teams)
        check(len(s) >= 10, "only %d keys compared: %s" % (len(s), sorted(s)))
        for k in sorted(set(s) | set(t)):
            check_eq(t.get(k), s.get(k), "%s: Redis key %s after the scenario" % (os.path.basename(path), k))


for _path in sorted(glob.glob(os.path.join(HERE, "scenarios", "*.scn"))):
    test("parity: scenarios/%s gives the same state and answers through Slack and Teams"
         % os.path.basename(_path), world=False)(lambda _p=_path: parity(_p))
