"""Issue 11: the incident's card in a channel, and the DMs of the people it pages.

The card is posted once in the channel the incident was opened in (for alerts: the
service's channel, else the team's announce channel) and then edited in place with
chat.update on every change, at most once a second (a burst is one update showing the
final state). What people see is read at the fake Slack: the posts, their blocks and
buttons, and each chat.update.
"""

import json
import re
import time

from harness import ORG, check, check_eq, check_re, check_reply, everything, own_world, short, test, wait_until
from fakes import FakeSlack

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
K = "wk:{%s}" % ORG
CH = "C0TEST"   # where the harness's commands come from


def incident(w, text, user=ALICE, **kw):
    return check_reply(w.command(text, user, command="/incident", **kw), "/incident %s (as %s)" % (text, user))


def number(reply):
    m = re.search(r"INC-(\d+)", reply["text"])
    check(m, "no incident number in %r" % short(reply["text"]))
    return int(m.group(1))


def wait_for(cond, timeout, what):
    v = wait_until(cond, timeout)
    check(v, "timed out waiting for " + what)
    return v


def posts(w, ch):
    with w.slack.lock:
        return [dict(m) for m in w.slack.messages.get(ch, [])]


def cards(w, ch, n):
    return [m for m in posts(w, ch) if ("*INC-%d*" % n) in m["text"] and "nobody acknowledged after" not in m["text"]]


def updates(w, ts):
    with w.slack.lock:
        return [dict(u) for u in w.slack.updates if u["ts"] == ts]


def actions(blocks):
    return [(e.get("action_id"), e.get("value")) for b in blocks for e in b.get("elements", [])
            if e.get("action_id")]


def shown(blocks):
    return json.dumps(blocks)


def quiet(w, ts, secs=1.6):
    """Wait until the card has had no update for secs; the updates so far."""
    last = None
    deadline = time.time() + 10
    while time.time() < deadline:
        u = updates(w, ts)
        if last is not None and len(u) == len(last):
            return u
        last = u
        time.sleep(secs)
    check(False, "the card of %s kept changing" % ts)


class team:
    """A daemon with a fake Slack and a rotation of Alice, Bob and Carol."""

    def __init__(self, delays="0,30,60", **env):
        self.env = dict(WK_INCIDENTS_STEP_DELAYS_S=delays, **env)

    def __enter__(self):
        self.ctx = own_world(**self.env)
        w = self.ctx.__enter__()
        w.slack = FakeSlack(w.peer)
        w.add_member(BOB, "developer")
        w.add_member(CAROL, "developer")
        w.oncall("rotation create ops every 1d handoff 09:00 members <@%s> <@%s> <@%s>" % (ALICE, BOB, CAROL))
        return w

    def __exit__(self, *exc):
        return self.ctx.__exit__(*exc)


@test("the card is posted once where the incident was opened, with its buttons; a burst (ack, note, "
      "note within 200 ms) is one chat.update showing the final state; resolve drops the buttons",
      world=False)
def _():
    with team() as w:
        n = number(incident(w, "open checkout returns 500 sev=critical", BOB))
        card = wait_for(lambda: cards(w, CH, n), 5, "the card in %s" % CH)[0]
        check_re(r"\*INC-%d\* triggered \[critical\] checkout returns 500" % n, card["text"], "the card's headline")
        v = str(n)
        check_eq(actions(card["_blocks"]), [("incident.ack", v), ("incident.resolve", v), ("incident.escalate", v)],
                 "the card's buttons")
        ts = card["ts"]
        wait_for(lambda: w.r("HGET", K + ":inc:%d" % n, "card_ts") == ts, 5, "the card's ts on the incident")
        before = quiet(w, ts)   # the first step's pages update it too
        for u0, u1 in zip(before, before[1:]):
            check(u1["t"] - u0["t"] >= 0.9, "two updates %.2f s apart" % (u1["t"] - u0["t"]))

        t0 = time.time()
        incident(w, "ack %d" % n, ALICE)
        incident(w, "note %d looking at the load balancer" % n, ALICE)
        incident(w, "note %d rolled back" % n, BOB)
        burst = time.time() - t0
        print("# burst of three changes took %.0f ms" % (burst * 1000))
        after = quiet(w, ts)
        new = after[len(before):]
        if burst < 0.2:
            check_eq(len(new), 1, "chat.updates for a burst of three changes in %.0f ms" % (burst * 1000))
        else:
            check(1 <= len(new) <= 1 + int(burst) + 1, "%d updates for a %.1f s burst" % (len(new), burst))
        last = new[-1]
        check_re(r"\*INC-%d\* acknowledged \[critical\]" % n, last["text"], "the card after the ack")
        check_re(r"Acknowledged by <@%s>" % ALICE, shown(last["blocks"]), "who acknowledged, on the card")
        check_eq(actions(last["blocks"]), [("incident.resolve", v)], "buttons of an acknowledged incident")
        if before:
            check(new[0]["t"] - before[-1]["t"] >= 0.9, "the burst's update came %.2f s after the one before"
                  % (new[0]["t"] - before[-1]["t"]))

        incident(w, "resolve %d fixed by rollback" % n, ALICE)
        done = wait_for(lambda: [u for u in updates(w, ts) if "resolved" in u["text"]], 5, "the resolved card")
        check_re(r"Resolved by <@%s>" % ALICE, shown(done[-1]["blocks"]), "who resolved, on the card")
        check_eq(actions(done[-1]["blocks"]), [], "buttons of a resolved incident")
        check_eq(len(cards(w, CH, n)), 1, "cards posted for one incident")


@test("a paged person's DM carries the incident's Acknowledge / Resolve / Escalate buttons", world=False)
def _():
    with team() as w:
        n = number(incident(w, "open queue backlog sev=error", BOB))

        def dm():
            for u in (ALICE, BOB, CAROL):
                got = [m for m in posts(w, "D" + u) if "INC-%d" % n in m["text"]]
                if got:
                    return got[0]
            return None
        m = wait_for(dm, 5, "the page's DM")
        v = str(n)
        check_eq(actions(m["_blocks"]), [("incident.ack", v), ("incident.resolve", v), ("incident.escalate", v)],
                 "the DM's buttons")


@test("warning and info incidents post the card to the channel only: nobody is paged", world=False)
def _():
    with team() as w:
        incident(w, "service create web")
        incident(w, "service pages web error")
        n = number(incident(w, "open slow pages sev=warning service=web", BOB))
        card = wait_for(lambda: cards(w, CH, n), 5, "the card")[0]
        check_re(r"\[warning\]", card["text"], "the card's severity")
        check_re(r"Pages nobody", shown(card["_blocks"]), "the card says nobody is paged")
        time.sleep(1.0)
        dms = {ch: c for ch, c in w.slack.counts().items() if ch.startswith("D")}
        check_eq(dms, {}, "DMs for a warning")


@test("an alert's card goes to its service's channel, else to its team's announce channel", world=False)
def _():
    with team() as w:
        incident(w, "service create api")
        incident(w, "service channel api here", ALICE, channel_id="C0ALERTS")
        made = everything(incident(w, "integration create generic service=api"))
        path = "/hooks/generic/" + re.search(r"/hooks/generic/([a-z2-7]{32})", made).group(1)
        r = w.http("POST", path, json.dumps({"summary": "disk 95% on db-1", "severity": "critical",
                                             "service": "api", "dedup_key": "disk-db-1"}).encode(),
                   {"Content-Type": "application/json"})
        check(r.status in (200, 201, 202), "the alert: %d %r" % (r.status, short(r.body)))
        n = int(w.r("ZRANGE", K + ":incs_open", "0", "-1")[0])
        card = wait_for(lambda: cards(w, "C0ALERTS", n), 5, "the card in the service's channel")[0]
        check_re(r"disk 95% on db-1 \(service api\)", card["text"], "the alert's card")
        check_eq(cards(w, CH, n), [], "cards elsewhere")

        # A service without a channel: the team's announce channel.
        check_reply(w.command("announce here", ALICE, channel_id="C0ANNOUNCE"), "/oncall announce here")
        incident(w, "service create db")
        made = everything(incident(w, "integration create generic service=db"))
        path = "/hooks/generic/" + re.search(r"/hooks/generic/([a-z2-7]{32})", made).group(1)
        r = w.http("POST", path, json.dumps({"summary": "replica lag", "severity": "error", "service": "db",
                                             "dedup_key": "lag"}).encode(), {"Content-Type": "application/json"})
        check(r.status in (200, 201, 202), "the second alert: %d %r" % (r.status, short(r.body)))
        m = max(int(x) for x in w.r("ZRANGE", K + ":incs_open", "0", "-1"))
        card = wait_for(lambda: cards(w, "C0ANNOUNCE", m), 5, "the card in the team's announce channel")[0]
        check_re(r"replica lag \(service db\)", card["text"], "the second alert's card")


@test("when the last repeat ends unacknowledged the card says so and the channel is told", world=False)
def _():
    with team(delays="0,1") as w:
        n = number(incident(w, "open payments failing sev=critical", BOB))
        card = wait_for(lambda: cards(w, CH, n), 5, "the card")[0]
        told = wait_for(lambda: [m for m in posts(w, CH) if "nobody acknowledged after" in m["text"]], 8,
                        "the channel being told")
        check_re(r"\*INC-%d\* payments failing: nobody acknowledged after 1 round" % n, told[0]["text"],
                 "the notice")
        check(("incident.ack", str(n)) in actions(told[0]["_blocks"]), "no Acknowledge on the notice")
        got = wait_for(lambda: [u for u in updates(w, card["ts"]) if "Nobody acknowledged" in shown(u["blocks"])],
                       5, "the card saying nobody acknowledged")
        check_re(r"triggered", got[-1]["text"], "the card's state")
        time.sleep(1.5)
        check_eq(len([m for m in posts(w, CH) if "nobody acknowledged after" in m["text"]]), 1, "notices")


@test("a card deleted in Slack is posted anew at the next change", world=False)
def _():
    with team() as w:
        n = number(incident(w, "open cache misses", BOB))
        card = wait_for(lambda: cards(w, CH, n), 5, "the card")[0]
        quiet(w, card["ts"])
        w.slack.delete(CH, card["ts"])
        incident(w, "ack %d" % n, CAROL)
        again = wait_for(lambda: cards(w, CH, n), 5, "the card posted again")
        check_eq(len(again), 1, "cards after the delete")
        check(again[0]["ts"] != card["ts"], "the same ts after a delete")
        check_re(r"acknowledged", again[0]["text"], "the new card's state")
        # Slack has the message before the daemon has its answer: the ts is recorded a moment later.
        wait_for(lambda: w.r("HGET", K + ":inc:%d" % n, "card_ts") == again[0]["ts"], 5,
                 "the new ts on the incident (%r)" % again[0]["ts"])


@test("a card the app may not post says so; the next open there says to invite the app first", world=False)
def _():
    with team() as w:
        w.slack.not_in_channel.add("C0PRIV")
        n = number(incident(w, "open first sev=info", BOB, channel_id="C0PRIV"))
        wait_for(lambda: "invite the app" in everything(incident(w, "show %d" % n)), 5, "the timeline entry")
        second = incident(w, "open second sev=info", BOB, channel_id="C0PRIV")
        check_re(r"invite me first", everything(second), "the open reply")
        first = incident(w, "open elsewhere sev=info", BOB)
        check("invite me" not in everything(first), "the invite hint in a channel the app is in")


@test("kill -9 while the card's post waits for Slack's answer: after the restart the card is found "
      "(not posted twice) and the next change updates it", world=False)
def _():
    with team() as w:
        w.peer.clear()
        slow = w.slack = FakeSlack(w.peer, post_delay=3.0)
        n = number(incident(w, "open lost answers sev=critical", BOB))
        card = wait_for(lambda: cards(w, CH, n), 5, "the card reaching Slack")
        w.daemon.proc.kill()                # mid-post: the outcome is unknown
        w.daemon.proc.wait()
        w.daemon.kill()
        w.peer.clear()
        w.slack = FakeSlack(w.peer)         # the same Slack, answering fast now
        w.slack.messages = slow.messages
        check_eq(w.r("HGET", K + ":inc:%d" % n, "card_ts"), None, "a card ts before the restart")
        w.daemon.start()
        time.sleep(1.0)
        incident(w, "ack %d" % n, CAROL)
        got = wait_for(lambda: [u for u in updates(w, card[0]["ts"]) if "acknowledged" in u["text"]], 10,
                       "the found card updated")
        check_re(r"Acknowledged by <@%s>" % CAROL, shown(got[-1]["blocks"]), "the updated card")
        time.sleep(1.5)
        check_eq(len(cards(w, CH, n)), 1, "cards for one incident")
        check_eq(w.r("HGET", K + ":inc:%d" % n, "card_ts"), card[0]["ts"], "the found ts on the incident")
