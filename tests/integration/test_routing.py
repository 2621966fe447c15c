"""Issue 12: how an incident finds its people, end to end through the real daemon.

Delegation rules route an incident; the org's targeting mode, the viewer rule and each
member's own switch filter who a broad target reaches; the priority list orders the people of
one step with a gap; nobody left means the owners are paged; a solo org's owner gets
everything; the operators' WK_INCIDENT_NOTIFY_USER_IDS replaces the mode. Rules are made with
`/delegate`, incidents opened with `/incident`, and what people got is counted at the fake
Slack. A gap of minutes is crossed by moving Redis's clock for the timers (test builds only).
"""

import re
import time

import harness
from harness import ORG, check, check_eq, check_re, check_reply, everything, own_world, set_clock_offset, test
from fakes import FakeSlack
from test_incidents import ALICE, BOB, CAROL, DAVE, incident, number, pages_to, wait_for

K = "wk:{%s}" % ORG


def delegate(w, text, user=ALICE):
    return check_reply(w.command(text, user, command="/delegate"), "/delegate %s (as %s)" % (text, user))


class org:
    """A daemon with a fake Slack: Alice (owner), Bob and Carol (developers), Dave (viewer), a
    rotation ops of Alice and Bob, and a service api."""

    def __init__(self, **env):
        self.env = env

    def __enter__(self):
        self.ctx = own_world(WK_INCIDENTS_STEP_DELAYS_S="0,30,60", **self.env)
        w = self.ctx.__enter__()
        w.slack = FakeSlack(w.peer)
        w.add_member(BOB, "developer")
        w.add_member(CAROL, "developer")
        w.add_member(DAVE, "viewer")
        check_re(r"ops", w.oncall("rotation create ops every 1d handoff 09:00 members <@%s> <@%s>"
                                  % (ALICE, BOB))["text"], "rotation create")
        incident(w, "service create api")
        return w

    def __exit__(self, *exc):
        return self.ctx.__exit__(*exc)


def timeline(w, n):
    return everything(incident(w, "show INC-%d" % n, DAVE))


def unrouted(w):
    text = harness.http_request(w.port, "GET", "/metrics").text
    m = re.search(r"^watchkeeper_incidents_unrouted_total (\d+)", text, re.M)
    check(m, "no watchkeeper_incidents_unrouted_total in /metrics")
    return int(m.group(1))


@test("a rule naming the service sends its incidents to the member it names, not to the on-call "
      "chain; the incident remembers the rule", world=False)
def _():
    with org() as w:
        made = delegate(w, "service api to <@%s>" % CAROL)
        rule = re.search(r"#(\d+)", made["text"])
        check(rule, "no rule id in %r" % made["text"])
        n = number(incident(w, "open api down sev=critical service=api", BOB))
        wait_for(lambda: pages_to(w.slack, CAROL, n), 5, "Carol's page")
        check_eq(w.r("HGET", K + ":inc:%d" % n, "rule"), rule.group(1), "the routing rule in Redis")
        for u in (ALICE, BOB):
            check_eq(pages_to(w.slack, u, n), [], "pages to %s (not routed to the chain)" % u)
        # Another service is not matched: the team's chain runs.
        incident(w, "service create web")
        m = number(incident(w, "open web down sev=critical service=web", BOB))
        wait_for(lambda: pages_to(w.slack, ALICE, m) or pages_to(w.slack, BOB, m), 5, "the primary's page")
        check_eq(pages_to(w.slack, CAROL, m), [], "Carol for another service")


@test("the priority list orders one step's people with its gap; acknowledging stops the ones "
      "still waiting", world=False)
def _():
    with org() as w:
        delegate(w, "mode all_members")
        delegate(w, "priority <@%s> <@%s> every 2m" % (CAROL, BOB))
        delegate(w, "service api to role:developer")
        n = number(incident(w, "open api down sev=critical service=api", ALICE))
        wait_for(lambda: pages_to(w.slack, CAROL, n), 5, "Carol's page (first on the list)")
        check_eq(pages_to(w.slack, BOB, n), [], "Bob before the 2 minute gap")
        check_eq(pages_to(w.slack, ALICE, n), [], "Alice (an owner, not a developer)")
        set_clock_offset(w, 125000)
        wait_for(lambda: pages_to(w.slack, BOB, n), 8, "Bob's page after the gap")
        check_re(r"paged <@%s>.*in 2 min unless acknowledged" % BOB, timeline(w, n), "the timeline")
        set_clock_offset(w, None)
        # The same again, acknowledged by Carol before the gap ends: Bob is never paged.
        m = number(incident(w, "open api slow sev=critical service=api", ALICE))
        wait_for(lambda: pages_to(w.slack, CAROL, m), 5, "Carol's page")
        incident(w, "ack INC-%d" % m, CAROL)
        set_clock_offset(w, 125000)
        time.sleep(2.0)
        check_eq(pages_to(w.slack, BOB, m), [], "Bob after Carol acknowledged")


@test("users_with_services (the default) reaches only service owners through a broad target; the "
      "others are listed as left out", world=False)
def _():
    with org() as w:
        incident(w, "service owner api <@%s>" % CAROL)
        delegate(w, "service api to role:developer")
        n = number(incident(w, "open api down sev=critical service=api", ALICE))
        wait_for(lambda: pages_to(w.slack, CAROL, n), 5, "Carol's page (she owns api)")
        time.sleep(0.5)
        check_eq(pages_to(w.slack, BOB, n), [], "Bob (owns no service)")
        check_re(r"left out <@%s> \(no service\)" % BOB, timeline(w, n), "why Bob was left out")


@test("a member's own switch wins; when filtering leaves nobody the owners are paged, the incident "
      "says why and /metrics counts it", world=False)
def _():
    with org() as w:
        delegate(w, "service api to <@%s>" % BOB)
        w.oncall("me incidents off", BOB)
        before = unrouted(w)
        n = number(incident(w, "open api down sev=critical service=api", CAROL))
        wait_for(lambda: pages_to(w.slack, ALICE, n), 5, "the owner's page")
        check_eq(pages_to(w.slack, BOB, n), [], "Bob, who opted out")
        shown = timeline(w, n)
        check_re(r"left out <@%s> \(opted out\)" % BOB, shown, "why Bob was left out")
        check_re(r"paging the org's owners", shown, "why the owner was paged")
        check_eq(unrouted(w), before + 1, "watchkeeper_incidents_unrouted_total")


@test("viewers receive incidents only with `/delegate viewers on`", world=False)
def _():
    with org() as w:
        delegate(w, "service api to <@%s>" % DAVE)
        check_re(r"This rule is filtered out.*viewer", everything(delegate(w, "test sev=critical service=api")),
                 "/delegate test flags the rule")
        check_re(r"filtered out", everything(delegate(w, "show")), "/delegate show flags the rule")
        n = number(incident(w, "open api down sev=critical service=api", CAROL))
        wait_for(lambda: pages_to(w.slack, ALICE, n), 5, "the owner's page instead of the viewer's")
        check_eq(pages_to(w.slack, DAVE, n), [], "Dave, a viewer")
        delegate(w, "viewers on")
        m = number(incident(w, "open api slow sev=critical service=api", CAROL))
        wait_for(lambda: pages_to(w.slack, DAVE, m), 5, "Dave's page with viewers on")


@test("a channel target posts there and pages the team's primary too (a channel cannot "
      "acknowledge)", world=False)
def _():
    with org() as w:
        delegate(w, "severity critical to channel:<#C0OPS|ops>")
        primary = re.findall(r"On call now:\*? <@(U0\w+)>", everything(w.oncall("", ALICE)))[0]
        n = number(incident(w, "open api down sev=critical service=api", CAROL))
        wait_for(lambda: pages_to(w.slack, primary, n), 5, "the primary's page")

        def posted():
            with w.slack.lock:
                return [m for m in w.slack.messages.get("C0OPS", []) if "INC-%d" % n in m.get("text", "")]
        wait_for(posted, 5, "the post in the rule's channel")


@test("WK_INCIDENT_NOTIFY_USER_IDS replaces the targeting mode for the org it names", world=False)
def _():
    with org(WK_INCIDENT_NOTIFY_USER_IDS="%s:%s,slack:T0OTHER:U0X" % (ORG, BOB)) as w:
        delegate(w, "mode all_members")
        delegate(w, "service api to role:developer")
        check_re(r"WK_INCIDENT_NOTIFY_USER_IDS", everything(delegate(w, "show", DAVE)), "/delegate show")
        n = number(incident(w, "open api down sev=critical service=api", ALICE))
        wait_for(lambda: pages_to(w.slack, BOB, n), 5, "Bob's page (listed)")
        time.sleep(0.5)
        check_eq(pages_to(w.slack, CAROL, n), [], "Carol (a developer, not listed)")


@test("a solo org's owner gets every incident, rotation or not", world=False)
def _():
    with own_world(WK_INCIDENTS_STEP_DELAYS_S="0,30,60") as w:
        w.slack = FakeSlack(w.peer)
        n = number(incident(w, "open everything is down sev=critical", ALICE))
        wait_for(lambda: pages_to(w.slack, ALICE, n), 5, "the owner's page")
