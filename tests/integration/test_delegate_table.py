"""Issue 12: a generated table of delegation policies x incidents -> who is paged, at which minute.

Each case is an org of its own on one daemon: an owner, two developers, an admin and a viewer
(or a solo owner), a rotation, a service and its owners, the targeting mode, viewers, each
member's own switch, a priority list with its gap, a delegation rule, and sometimes the
operators' WK_INCIDENT_NOTIFY_USER_IDS. A small model in this file (the oracle, written from the
README's five steps, not from the C code) says who must be paged at which minute. Then, for
every case, the same answer must come from both:
  - `/delegate test` (the dry run, which pages nobody), and
  - a real incident, whose pages are counted at the fake Slack while Redis's clock for the
    timers is moved forward a minute at a time (test builds only), so ten minutes of
    escalation take seconds.
"""

import random
import re
import threading
import time

from harness import check, check_eq, check_reply, everything, own_world, set_clock_offset, test
from fakes import FakeSlack

CASES = 220
DELAYS = (0, 5, 10)          # minutes: the built-in default policy, primary / 1st / 2nd backup
LAST_MINUTE = 14
SEED = 12


def ids(i):
    t = "T0C%03d" % i
    return t, {k: "U%03d%s" % (i, k) for k in ("O", "D1", "D2", "A", "V")}


def generate():
    """The cases. The first 60 sweep what orders people inside one step (a role target reaching
    both developers) over every targeting mode, priority list and switch; the rest are a
    deterministic sample of the product of all the dimensions, with some solo orgs."""
    rnd = random.Random(SEED)
    priorities = [([], 0), (["D2", "D1"], 1), (["D1"], 2), (["A", "O"], 2), (["V", "D2"], 1)]
    sweep = [(mode, prio, off) for mode in ("users_with_services", "all_members", "specific_users")
             for prio in priorities for off in ([], ["D1"], ["D2"], ["D1", "D2"])]
    cases = []
    for i in range(CASES):
        team, u = ids(i)
        solo = i >= len(sweep) and i % 23 == 0
        c = {"i": i, "team": team, "u": u, "solo": solo}
        if i < len(sweep):
            mode, (prio, gap), off = sweep[i]
            c.update(rotation=["O", "D1", "D2"], owners=["D1", "D2"] if i % 2 else ["D1"], mode=mode,
                     viewers=False, off=off, priority=prio, gap=gap, target="role:developer", env=False)
        elif solo:
            c.update(rotation=[], owners=[], mode="users_with_services", viewers=False, off=[], priority=[],
                     gap=0, target="", env=False)
        else:
            c["rotation"] = rnd.choice([[], ["O"], ["D1", "D2"], ["O", "D1", "D2"], ["D1", "A", "V"]])
            c["owners"] = rnd.choice([[], ["D1"], ["D1", "D2"], ["D2", "A"]])
            c["mode"] = rnd.choice(["users_with_services", "all_members", "specific_users"])
            c["viewers"] = rnd.random() < 0.3
            c["off"] = rnd.choice([[], [], ["D1"], ["D2", "A"], ["O", "D1", "D2", "A", "V"]])
            c["priority"], c["gap"] = rnd.choice(priorities)
            c["target"] = rnd.choice(["", "", "member:D1", "member:V", "member:O", "role:developer", "role:developer",
                                      "role:admin", "role:viewer", "channel"])
            c["env"] = rnd.random() < 0.15
        cases.append(c)
    return cases


ROLE = {"O": "owner", "D1": "developer", "D2": "developer", "A": "admin", "V": "viewer"}


def expected(c, chain):
    """The oracle: [(member key, minute)] in the order they are paged, from the README's rules.
    chain: {"primary": key or None, "backup1": ..., "backup2": ...} as /oncall shows it."""
    if c["solo"]:
        return [("O", m) for m in DELAYS]
    members = list(ROLE)
    if not c["target"]:          # no rule: the team's (default) policy
        steps = [(DELAYS[0], ["primary"]), (DELAYS[1], ["backup1"]), (DELAYS[2], ["backup2"])]
    elif c["target"] == "channel":   # posted there, and the primary with it
        steps = [(0, ["primary"])]
    else:                        # one step, at once
        steps = [(0, [c["target"]])]

    def why_not(k, by_name):
        if k in c["off"]:
            return "opted out"
        if ROLE[k] == "viewer" and not c["viewers"]:
            return "viewer"
        if by_name:
            return None
        if c["env"]:
            return None if k == "D2" else "not listed"
        if c["mode"] == "all_members":
            return None
        if c["mode"] == "users_with_services":
            return None if k in c["owners"] else "no service"
        return None if k == "D2" or ROLE[k] == "admin" else "not listed"   # specific_users: @D2, role admin

    out, t = [], steps[0][0]
    for idx, (delay, targets) in enumerate(steps):
        if idx:
            t += delay - steps[idx - 1][0]
        people = []
        for target in targets:
            if target in ("primary", "backup1", "backup2"):
                k = chain.get(target)
                if k and k not in [p for p, _ in people] and not why_not(k, True):
                    people.append((k, True))
            elif target.startswith("member:"):
                k = target[7:]
                if not why_not(k, True):
                    people.append((k, True))
            elif target.startswith("role:"):
                for k in members:
                    if ROLE[k] == target[5:] and k not in [p for p, _ in people] and not why_not(k, False):
                        people.append((k, False))
        ordered = [k for k in c["priority"] if k in [p for p, _ in people]]
        rest = [p for p, _ in people if p not in ordered]
        for n, k in enumerate(ordered):
            out.append((k, t + n * c["gap"]))
        for k in rest:
            out.append((k, t + len(ordered) * c["gap"]))
        if not people and idx + 1 < len(steps):
            t -= steps[idx + 1][0] - delay      # nobody here: the next step runs at once
    if not out:
        out = [("O", t)]                         # never page no one: the owner, even opted out
    return out


def setup(w, c):
    team, u = c["team"], c["u"]
    w.oncall("", u["O"], team)
    if c["solo"]:
        return
    for k in ("D1", "D2", "A", "V"):
        w.add_member(u[k], ROLE[k], owner=u["O"], team=team)
    if c["rotation"]:
        handoff = time.strftime("%H:00", time.gmtime(time.time() + 12 * 3600))
        w.oncall("rotation create ops every 1d handoff %s members %s"
                 % (handoff, " ".join("<@%s>" % u[k] for k in c["rotation"])), u["O"], team)
    cmd(w, c, "/incident", "service create api")
    for k in c["owners"]:
        cmd(w, c, "/incident", "service owner api <@%s>" % u[k])
    if c["mode"] == "specific_users":
        cmd(w, c, "/delegate", "mode specific_users <@%s> role admin" % u["D2"])
    elif c["mode"] != "users_with_services":
        cmd(w, c, "/delegate", "mode " + c["mode"])
    if c["viewers"]:
        cmd(w, c, "/delegate", "viewers on")
    if c["priority"]:
        cmd(w, c, "/delegate", "priority %s every %dm" % (" ".join("<@%s>" % u[k] for k in c["priority"]),
                                                          c["gap"]))
    t = c["target"]
    if t == "channel":
        cmd(w, c, "/delegate", "severity critical to channel:<#C0C%03d|ops>" % c["i"])
    elif t.startswith("member:"):
        cmd(w, c, "/delegate", "service api to <@%s>" % u[t[7:]])
    elif t.startswith("role:"):
        cmd(w, c, "/delegate", "service api to " + t)
    for k in c["off"]:
        check_reply(w.command("me incidents off", u[k], team), "me incidents off")


def cmd(w, c, command, text):
    return check_reply(w.command(text, c["u"]["O"], c["team"], command=command),
                       "%s %s in case %d" % (command, text, c["i"]))


def read_chain(w, c):
    """{position: member key} from /oncall, None where nobody."""
    t = everything(w.oncall("", c["u"]["O"], c["team"]))
    back = {v: k for k, v in c["u"].items()}
    out = {}
    for pos, pat in (("primary", r"On call now:\*? <@(\w+)>"), ("backup1", r"1st backup:\*? <@(\w+)>"),
                     ("backup2", r"2nd backup:\*? <@(\w+)>")):
        m = re.search(pat, t)
        out[pos] = back.get(m.group(1)) if m else None
    return out


def dry_run(w, c):
    """[(member key, minute)] from `/delegate test` for this case's incident."""
    reply = cmd(w, c, "/delegate", "test sev=critical service=api")
    t = "\n".join(b["text"]["text"] for b in reply["blocks"] if isinstance(b.get("text"), dict))
    back = {v: k for k, v in c["u"].items()}
    out = []
    for m in re.finditer(r"• at (once|min (\d+)|(\d+) s): <@(\w+)>", t):
        minute = 0 if m.group(1) == "once" else int(m.group(2)) if m.group(2) else int(m.group(3)) / 60
        if m.group(4) in back:
            out.append((back[m.group(4)], minute))
    return out


def pages(w, c, n):
    """{member key: number of pages for INC-n} as the fake Slack received them."""
    tag = re.compile(r"INC-%d \[" % n)
    got = {}
    with w.slack.lock:
        for k, uid in c["u"].items():
            cnt = sum(len(tag.findall(m.get("text", ""))) for m in w.slack.messages.get("D" + uid, []))
            if cnt:
                got[k] = cnt
    return got


class Locked:
    """A Redis client callable from several threads, one command at a time."""

    def __init__(self, client):
        self.client, self.lock = client, threading.Lock()

    def __call__(self, *args):
        with self.lock:
            return self.client(*args)

    def __getattr__(self, name):
        return getattr(self.client, name)


def counts(exp, upto):
    out = {}
    for k, m in exp:
        if m <= upto:
            out[k] = out.get(k, 0) + 1
    return out


@test("%d generated policies x incidents: the oracle, /delegate test and real pages at the fake Slack "
      "agree on who is paged at which minute" % CASES, world=False)
def _():
    cases = generate()
    env_ids = ",".join("slack:%s:%s" % (c["team"], c["u"]["D2"]) for c in cases if c["env"])
    with own_world(WK_INCIDENTS_STEP_DELAYS_S=",".join(str(m * 60) for m in DELAYS),
                   WK_INCIDENT_NOTIFY_USER_IDS=env_ids) as w:
        w.slack = FakeSlack(w.peer)
        errors = []
        w.redis._client = Locked(w.redis.r)   # the setup threads share the harness's connection

        def prepare(part):
            try:
                for c in part:
                    setup(w, c)
                    c["chain"] = read_chain(w, c) if not c["solo"] else {}
                    c["want"] = expected(c, c["chain"])
                    if not c["solo"]:
                        c["dry"] = dry_run(w, c)
            except Exception as e:   # noqa: BLE001 - reported below with the case
                errors.append(e)
        threads = [threading.Thread(target=prepare, args=(cases[k::6],)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(not errors, "setting the cases up: %s" % (errors[:1],))
        for c in cases:
            if "dry" in c:
                check_eq(sorted(c["dry"]), sorted(c["want"]), "case %d: /delegate test vs the oracle (%r)"
                         % (c["i"], {k: v for k, v in c.items() if k not in ("u", "dry")}))
        for c in cases:
            opened = check_reply(w.command("open outage sev=critical service=api" if not c["solo"] else
                                           "open outage sev=critical", c["u"]["O"], c["team"],
                                           command="/incident"), "open in case %d" % c["i"])
            c["n"] = int(re.search(r"INC-(\d+)", opened["text"]).group(1))
        for minute in range(LAST_MINUTE + 1):
            set_clock_offset(w, minute * 60000 + 1500)
            deadline = time.monotonic() + 15
            pending = list(cases)
            while pending and time.monotonic() < deadline:
                pending = [c for c in pending if pages(w, c, c["n"]) != counts(c["want"], minute)]
                if pending:
                    time.sleep(0.1)
            # An engine notices a moved clock within its longest sleep (1 s): what is due later
            # than this minute must not have come meanwhile.
            time.sleep(1.3)
            for c in cases:
                check_eq(pages(w, c, c["n"]), counts(c["want"], minute),
                         "case %d at minute %d: pages vs the oracle (%r)"
                         % (c["i"], minute, {k: v for k, v in c.items() if k != "u"}))
