"""Issue 11: incidents and their escalation, end to end through signed Slack requests.

The default policy pages the team's primary at once, the 1st backup after a delay and the
2nd backup after another (shortened here to 2 s and 4 s with WK_INCIDENTS_STEP_DELAYS_S);
acknowledging, by command, button or the page's own button, stops it; resolving stops it;
escalating runs the next step at once. What the people got is counted at the fake Slack.
"""

import json
import re
import threading
import time

from harness import (ORG, check, check_eq, check_re, check_reply, everything, own_world, short, test,
                     wait_until)
from fakes import FakeSlack

ALICE, BOB, CAROL, DAVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"
K = "wk:{%s}" % ORG
DELAYS = "0,2,4"


def incident(w, text, user=ALICE):
    return check_reply(w.command(text, user, command="/incident"), "/incident %s (as %s)" % (text, user))


def number(reply):
    m = re.search(r"INC-(\d+)", reply["text"])
    check(m, "no incident number in %r" % short(reply["text"]))
    return int(m.group(1))


def chain(w):
    """(primary, 1st backup, 2nd backup) as /oncall names them."""
    t = everything(w.oncall("", ALICE))
    ids = re.findall(r"On call now:\*? <@(U0\w+)>.*?1st backup: <@(U0\w+)>.*?2nd backup: <@(U0\w+)>", t)
    check(ids, "no full chain in %r" % short(t, 600))
    return ids[0]


def pages_to(slack, user, n=None):
    """The incident DMs user got (texts), for incident n or any."""
    tag = "INC-%d " % n if n else "INC-"
    with slack.lock:
        return [m["text"] for m in slack.messages.get("D" + user, []) if tag in m["text"]]


def wait_for(cond, timeout, what):
    v = wait_until(cond, timeout)
    check(v, "timed out waiting for " + what)
    return v


class team:
    """A daemon with a fake Slack and a rotation of Alice, Bob and Carol (Dave: viewer)."""

    def __init__(self, **env):
        self.env = env

    def __enter__(self):
        self.ctx = own_world(WK_INCIDENTS_STEP_DELAYS_S=DELAYS, **self.env)
        w = self.ctx.__enter__()
        w.slack = FakeSlack(w.peer)
        w.add_member(BOB, "developer")
        w.add_member(CAROL, "developer")
        w.add_member(DAVE, "viewer")
        made = w.oncall("rotation create ops every 1d handoff 09:00 members <@%s> <@%s> <@%s>"
                        % (ALICE, BOB, CAROL))
        check_re(r"ops", made["text"], "rotation create")
        w.chain = chain(w)
        return w

    def __exit__(self, *exc):
        return self.ctx.__exit__(*exc)


@test("an incident pages the primary at once, the 1st backup after 2 s, the 2nd after 4 s; timeline "
      "and Redis say so", world=False)
def _():
    with team() as w:
        primary, backup1, backup2 = w.chain
        incident(w, "service create checkout")  # service= must name an existing service
        t0 = time.time()
        opened = incident(w, "open The checkout API returns 500 sev=error service=checkout", BOB)
        n = number(opened)
        check_re(r"Opened \*INC-%d\* triggered \[error\] The checkout API returns 500 \(service checkout\)" % n,
                 opened["text"], "the open reply")
        check_re(r"whoever is on call, at once.*1st backup, after 2 s.*2nd backup, after 4 s",
                 everything(opened), "the policy in the reply")
        check("incident.ack" in json.dumps(opened), "no Acknowledge button on %r" % short(everything(opened)))
        first = wait_for(lambda: pages_to(w.slack, primary), 3, "the primary's page")
        check_re(r"You are on call: INC-%d \[error\] The checkout API returns 500" % n, first[0],
                 "the primary's DM")
        check(time.time() - t0 < 2.0, "the primary was paged only after %.1f s" % (time.time() - t0))
        check_eq(pages_to(w.slack, backup1), [], "the 1st backup before 2 s")
        got = wait_for(lambda: pages_to(w.slack, backup1), 5, "the 1st backup's page")
        check(time.time() - t0 >= 1.8, "the 1st backup was paged after only %.1f s" % (time.time() - t0))
        check_re(r"You are 1st backup for [^:]+: INC-%d" % n, got[0], "the 1st backup's DM, naming the primary")
        got = wait_for(lambda: pages_to(w.slack, backup2), 5, "the 2nd backup's page")
        check_re(r"You are 2nd backup for [^:]+: INC-%d" % n, got[0], "the 2nd backup's DM")
        time.sleep(1.0)
        for u in (primary, backup1, backup2):
            check_eq(len(pages_to(w.slack, u)), 1, "pages to %s" % u)
        check_eq(w.r("HGET", K + ":inc:%d" % n, "state"), "triggered", "state in Redis")
        shown = everything(incident(w, "show INC-%d" % n, DAVE))
        for who, step in ((primary, 1), (backup1, 2), (backup2, 3)):
            check_re(r"step %d: paged <@%s>" % (step, who), shown, "the timeline")
        check_re(r"nobody acknowledged after 1 round", shown, "the end of the policy in the timeline")
        # What became of each page, as the outbox recorded it.
        for who in (primary, backup1, backup2):
            check_re(r"Deliveries:.*<@%s>: chat sent" % who, shown, "delivery of %s's page" % who)


@test("acknowledging stops the escalation: by command, by the channel button, by the page's own "
      "button; the second to press is told who was first", world=False)
def _():
    with team() as w:
        primary, backup1, backup2 = w.chain
        n = number(incident(w, "open disk full on db-1", BOB))
        wait_for(lambda: pages_to(w.slack, primary), 3, "the primary's page")
        acked = incident(w, "ack %d" % n, primary)
        check_re(r"You acknowledged INC-%d" % n, acked["text"], "ack by command")
        time.sleep(2.8)
        check_eq(pages_to(w.slack, backup1), [], "the 1st backup after an ack")
        check_eq(w.r("HGET", K + ":inc:%d" % n, "acked_by"), primary, "who acknowledged, in Redis")
        again = incident(w, "ack INC-%d" % n, CAROL)
        check_re(r"<@%s> acknowledged INC-%d first" % (primary, n), again["text"], "the second ack")

        # The channel button.
        m = number(incident(w, "open second problem", BOB))
        js = w.click("incident.ack", backup2, value=str(m))
        check_re(r"You acknowledged INC-%d" % m, json.dumps(js), "ack by button")
        check_eq(w.r("HGET", K + ":inc:%d" % m, "state"), "acknowledged", "state after the button")

        # The page's own Acknowledge button (the DM the primary got).
        k = number(incident(w, "open third problem", BOB))
        wait_for(lambda: pages_to(w.slack, primary, k), 3, "the primary's page for the third incident")
        page = w.r("SMEMBERS", K + ":inc:%d:pages" % k)
        check_eq(len(page), 1, "pages of the third incident so far")
        js = w.click("oncall.page_ack", primary, value=page[0])
        check_re(r"You acknowledged INC-%d" % k, json.dumps(js), "the page's button")
        check_eq(w.r("HGET", K + ":inc:%d" % k, "state"), "acknowledged", "the incident, acked by its page")
        time.sleep(2.8)
        check_eq(len(pages_to(w.slack, backup1)), 0, "the 1st backup after every ack")


@test("two people acknowledge at the same instant: one ack, the other is told who won", world=False)
def _():
    with team() as w:
        n = number(incident(w, "open race", BOB))
        out = {}

        def ack(u):
            out[u] = incident(w, "ack %d" % n, u)["text"]

        ts = [threading.Thread(target=ack, args=(u,)) for u in (BOB, CAROL)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        won = [u for u, t in out.items() if t.startswith("You acknowledged")]
        check_eq(len(won), 1, "winners among %r" % out)
        lost = [u for u in out if u not in won][0]
        check_re(r"<@%s> acknowledged INC-%d first" % (won[0], n), out[lost], "the loser's reply")
        acks = [e for e in w.r("XRANGE", K + ":inc:%d:tl" % n, "-", "+") if "ack" in e[1]]
        check_eq(len(acks), 1, "ack entries in the timeline")


@test("escalate runs the next step at once; resolve stops everything; notes and reassign; viewers "
      "read but can't act", world=False)
def _():
    with team() as w:
        primary, backup1, backup2 = w.chain
        n = number(incident(w, "open slow queries", BOB))
        wait_for(lambda: pages_to(w.slack, primary), 3, "the primary's page")
        t0 = time.time()
        esc = incident(w, "escalate %d" % n, BOB)
        check_re(r"Escalated INC-%d: step 2 of its policy runs now" % n, esc["text"], "escalate")
        wait_for(lambda: pages_to(w.slack, backup1), 1.5, "the 1st backup right after escalate")
        check(time.time() - t0 < 1.5, "escalate took %.1f s" % (time.time() - t0))
        refused = w.command("ack %d" % n, DAVE, command="/incident").json()
        check_re(r"developer", refused["text"], "a viewer's ack names the role it needs")
        check_eq(w.r("HGET", K + ":inc:%d" % n, "state"), "triggered", "a viewer's ack changed nothing")
        incident(w, "note %d rolled back the deploy" % n, CAROL)
        res = incident(w, "resolve %d the index was missing" % n, CAROL)
        check_re(r"You resolved INC-%d" % n, res["text"], "resolve")
        time.sleep(4.5)
        check_eq(pages_to(w.slack, backup2), [], "the 2nd backup after a resolve")
        shown = everything(incident(w, "show %d" % n, DAVE))
        check_re(r"rolled back the deploy", shown, "the note in the timeline")
        check_re(r"resolved: the index was missing", shown, "the resolve note")
        check_re(r"There is no INC-999", incident(w, "show 999", DAVE)["text"], "a missing incident")
        check_re(r"is resolved already", incident(w, "ack %d" % n, BOB)["text"], "ack after resolve")
        check_eq(w.r("ZSCORE", K + ":incs_open", str(n)), None, "no longer open in Redis")
        open_list = incident(w, "list", DAVE)["text"]
        check_re(r"No open incidents", open_list, "the open list after resolve")
        check_re(r"INC-%d" % n, everything(incident(w, "list all", DAVE)), "list all")

        m = number(incident(w, "open needs an expert", BOB))
        wait_for(lambda: pages_to(w.slack, primary, m), 3, "the primary's page for the second incident")
        who = CAROL if primary != CAROL else BOB
        ra = incident(w, "reassign %d <@%s>" % (m, who), ALICE)
        check_re(r"INC-%d is now <@%s>'s" % (m, who), ra["text"], "reassign")
        got = wait_for(lambda: pages_to(w.slack, who, m), 3, "the new assignee's page")
        check_re(r"You were asked to handle this: INC-%d" % m, got[0], "the assignee's DM")
        check_eq(w.r("HGET", K + ":inc:%d" % m, "assignee"), who, "the assignee in Redis")
        check_re(r"not an incident number", incident(w, "show banana", DAVE)["text"], "a bad id")


def request_to(port, text, user, command="/incident"):
    """A signed command to a given instance (the World's helpers talk to the first one)."""
    from harness import http_request, slack_command
    body, headers = slack_command(text, user_id=user, command=command,
                                  response_url="http://127.0.0.1:9/unused")
    return http_request(port, "POST", "/slack/commands", body, headers, 5.0)


@test("clocks: one instance 10 minutes ahead and one 10 minutes behind; every step fires on time "
      "by Redis's clock, none early, none late", world=False)
def _():
    # The rotation is made on the instance that runs behind, so that it exists at every
    # instance's idea of now.
    with team(WK_TEST_LOCAL_SKEW_MS="-600000") as w:
        ahead = w.another_daemon(WK_TEST_LOCAL_SKEW_MS="600000")
        try:
            primary, backup1, backup2 = w.chain
            for via in (ahead.port, w.port):   # opened on either instance
                t0 = time.time()
                r = request_to(via, "open clocks disagree", BOB)
                check_eq(r.status, 200, "open on port %d" % via)
                n = number(r.json())
                wait_for(lambda: pages_to(w.slack, primary, n), 3, "the primary's page for INC-%d" % n)
                check(time.time() - t0 < 2.0, "the primary was paged %.1f s late" % (time.time() - t0))
                got = wait_for(lambda: pages_to(w.slack, backup1, n), 6, "the 1st backup's page for INC-%d" % n)
                took = time.time() - t0
                check(1.8 <= took <= 3.5, "the 1st backup was paged after %.1f s, not about 2 s" % took)
                wait_for(lambda: pages_to(w.slack, backup2, n), 6, "the 2nd backup's page for INC-%d" % n)
                took = time.time() - t0
                check(3.8 <= took <= 5.5, "the 2nd backup was paged after %.1f s, not about 4 s" % took)
                for u in (primary, backup1, backup2):
                    check_eq(len(pages_to(w.slack, u, n)), 1, "pages to %s for INC-%d" % (u, n))
        finally:
            ahead.stop()


@test("the auditor: a step timer that was lost is armed again once overdue (same epoch), and the "
      "step pages once; /metrics counts it", world=False)
def _():
    with team(WK_TEST_SWEEP_MS="1000") as w:   # the auditor runs every second, grace 1 s
        primary, backup1, backup2 = w.chain
        n = number(incident(w, "open timers get lost", BOB))
        wait_for(lambda: pages_to(w.slack, primary, n), 3, "the primary's page")
        tid = "inc:%s:%d" % (ORG, n)
        wait_for(lambda: w.r("ZSCORE", "wk:{timers}", tid), 2, "the 2nd step's timer")
        w.r("DEL", "wk:{timers}:t:" + tid)          # lost: as if a bad restore or a bug dropped it
        w.r("ZREM", "wk:{timers}", tid)
        got = wait_for(lambda: pages_to(w.slack, backup1, n), 8, "the 1st backup's page after the audit")
        check_re(r"You are 1st backup for [^:]+: INC-%d" % n, got[0], "the audited step's page")
        wait_for(lambda: pages_to(w.slack, backup2, n), 8, "the 2nd backup's page")
        time.sleep(1.5)
        for u in (primary, backup1, backup2):
            check_eq(len(pages_to(w.slack, u, n)), 1, "pages to %s" % u)
        m = w.http("GET", "/metrics").text
        got = re.search(r"watchkeeper_escalation_rescheduled_total (\d+)", m)
        check(got and int(got.group(1)) >= 1, "the metric: %r" % (got and got.group(0)))
        check_re(r'watchkeeper_timer_lateness_seconds_count\{kind="inc_step"\} [1-9]', m, "lateness histogram")


@test("kill -9 in the middle of 100 escalations, restart: every step runs, none twice (each of 300 "
      "pages once)", world=False)
def _():
    with team() as w:
        primary, backup1, backup2 = w.chain
        numbers = []
        for i in range(100):
            numbers.append(number(incident(w, "open outage %d" % i, BOB)))
        time.sleep(1.0)          # the primaries are being paged; the backups' steps are ahead
        w.daemon.proc.kill()     # kill -9
        w.daemon.proc.wait()
        w.daemon.kill()
        w.daemon.start()
        expect = {(n, u) for n in numbers for u in (primary, backup1, backup2)}

        def all_paged():
            got = {}
            for u in (primary, backup1, backup2):
                for text in pages_to(w.slack, u):   # piled-up pages come bundled in one DM
                    for m in re.findall(r": INC-(\d+) \[", text):
                        got[(int(m), u)] = got.get((int(m), u), 0) + 1
            return got if set(got) >= expect else None

        got = wait_until(all_paged, 40)
        check(got, "not every step ran after the restart")
        time.sleep(2)
        got = all_paged()
        doubled = {k: v for k, v in got.items() if v != 1}
        check_eq(doubled, {}, "steps that paged someone more than once")
        check_eq(len(got), 300, "pages")


@test("two daemons on one Redis: each of 30 escalations pages each person once", world=False)
def _():
    with team() as w:
        other = w.another_daemon()
        try:
            primary, backup1, backup2 = w.chain
            numbers = [number(incident(w, "open twice %d" % i, BOB)) for i in range(30)]

            def counts():
                got = {}
                for u in (primary, backup1, backup2):
                    for text in pages_to(w.slack, u):   # piled-up pages come bundled
                        for m in re.findall(r": INC-(\d+) \[", text):
                            got[(int(m), u)] = got.get((int(m), u), 0) + 1
                return got

            wait_until(lambda: len(counts()) >= 90, 20)
            time.sleep(2)
            got = counts()
            check_eq(len(got), 90, "(incident, person) pairs paged")
            check_eq({k: v for k, v in got.items() if v != 1}, {}, "pages sent more than once")
            check(set(n for n, _u in got) == set(numbers), "incidents paged")
        finally:
            other.stop()
