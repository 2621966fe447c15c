"""`/delegate`: who receives which incidents, in what order (bot/delegate.h).

Admins change the targeting mode, viewers switch, priority list, rules and each team's
escalation policy; everyone from viewer up reads them and dry-runs them with `test`, which
pages nobody. Each subcommand's happy path and its refusals, through signed Slack requests,
and what Redis holds afterwards (keys as bot/delegate.h names them).
"""

import json
import re

from harness import ORG, check, check_eq, check_re, check_reply, everything, short, test
from test_audit import verify

ALICE, BOB, CAROL, DAVE, ERIN = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN"
OTHER_TEAM, EVE = "T0OTHER", "U0EVE"
K = "wk:{%s}" % ORG


def d(w, text, user=ALICE):
    """`/delegate text` as user: the checked reply."""
    return check_reply(w.command(text, user, command="/delegate"), "/delegate %s (as %s)" % (text, user))


def setup(w):
    """Alice owner, Erin admin, Bob and Carol developers, Dave viewer; service api."""
    w.team_mode(ALICE)
    w.add_member(ERIN, "admin")
    w.add_member(BOB, "developer")
    w.add_member(CAROL, "developer")
    w.add_member(DAVE, "viewer")
    made = check_reply(w.command("service create api", ALICE, command="/incident"), "service create")
    check_re(r"Made service", made["text"], "service create api")


def body(reply):
    """The reply's text and every block's text, one line per line (for line-wise checks)."""
    texts = [reply.get("text", "")]
    for b in reply.get("blocks", []):
        t = b.get("text")
        texts.append(t.get("text", "") if isinstance(t, dict) else "")
    return "\n".join(texts)


def rules(w):
    return {k: json.loads(v) for k, v in w.r.hgetall(K + ":deleg:rules").items()}


@test("/delegate show: the whole policy on one screen, for viewers too; also /oncall delegate")
def _(w):
    setup(w)
    t = everything(d(w, "show", DAVE))
    for needle in ("users_with_services", "Viewers:", "Priority:", "Rules:", "Team default",
                   "built-in default"):
        check(needle in t, "show lacks %r: %s" % (needle, short(t, 900)))
    t2 = everything(check_reply(w.command("delegate show", DAVE), "/oncall delegate show"))
    check("users_with_services" in t2, "/oncall delegate show: %s" % short(t2))
    check("users_with_services" in everything(d(w, "", DAVE)), "/delegate alone shows")


@test("/delegate mode: the three modes; specific_users needs someone; viewers are refused, naming admin")
def _(w):
    setup(w)
    check_re(r"\*all_members\*", d(w, "mode all_members")["text"], "all_members")
    check_eq(w.r("HGET", K + ":deleg", "mode"), "all_members", "mode in Redis")
    t = d(w, "mode specific_users")["text"]
    check_re(r"at least one @user or a role", t, "specific_users alone")
    check_re(r"\*specific_users\*", d(w, "mode specific_users <@%s> role developer" % BOB, ERIN)["text"],
             "specific_users with a user and a role")
    check_eq((w.r("HGET", K + ":deleg", "users"), w.r("HGET", K + ":deleg", "roles")), (BOB, "developer"),
             "users and roles in Redis")
    t = everything(d(w, "show"))
    check("<@%s>" % BOB in t and "role developer" in t, "show lists them: %s" % short(t, 900))
    check_re(r"needs the \*admin\* role", d(w, "mode all_members", BOB)["text"], "developer refused")
    check_re(r"needs the \*admin\* role", d(w, "mode all_members", DAVE)["text"], "viewer refused")
    check_re(r"not a targeting mode", d(w, "mode everyone")["text"], "unknown mode")
    check_re(r"Only specific_users", d(w, "mode all_members <@%s>" % BOB)["text"], "people with another mode")
    t = d(w, "mode specific_users <@%s>" % EVE)["text"]
    check_re(r"not a member here", t, "a stranger listed")
    check_re(r"not a role", d(w, "mode specific_users role chef")["text"], "bad role")


@test("/delegate viewers on|off and priority @a @b every 2m / clear")
def _(w):
    setup(w)
    check_re(r"Viewers are now paged", d(w, "viewers on")["text"], "viewers on")
    check(w.r("HGET", K + ":deleg", "viewers") in ("1", "on"), "viewers in Redis: %r"
          % w.r("HGET", K + ":deleg", "viewers"))
    check_re(r"never paged", d(w, "viewers off")["text"], "viewers off")
    check_re(r"Usage", everything(d(w, "viewers maybe")), "viewers maybe")
    t = d(w, "priority <@%s> <@%s> every 2m" % (BOB, CAROL))["text"]
    check_re(r"<@%s>, <@%s>" % (BOB, CAROL), t, "priority order")
    check_re(r"2 min after the previous", t, "priority gap")
    check_eq((w.r("HGET", K + ":deleg", "priority"), w.r("HGET", K + ":deleg", "gap_s")),
             ("%s,%s" % (BOB, CAROL), "120"), "priority in Redis")
    check("<@%s>, <@%s>" % (BOB, CAROL) in everything(d(w, "show", DAVE)), "show has the priority")
    check_re(r"every", everything(d(w, "priority <@%s> every soon" % BOB)), "bad gap")
    check_re(r"Name the people", everything(d(w, "priority every 2m")), "nobody listed")
    check_re(r"no priority list", d(w, "priority clear")["text"], "priority clear")
    check_re(r"needs the \*admin\* role", d(w, "priority clear", DAVE)["text"], "viewer refused")


@test("/delegate rules: service, severity, type, combined in any order; targets; ids; remove")
def _(w):
    setup(w)
    t = d(w, "service api to <@%s>" % BOB)["text"]
    m = re.search(r"Rule #(\d+) service api -> <@%s>" % BOB, t)
    check(m, "service rule: %r" % t)
    first = m.group(1)
    check_re(r"Rule #\d+ severity critical -> team default", d(w, "severity critical to team:default")["text"],
             "severity rule to a team")
    check_re(r"Rule #\d+ type sentry -> everyone with role developer",
             d(w, "type sentry to role:developer")["text"], "type rule to a role")
    t = d(w, "severity critical type sentry service api to <@%s>" % CAROL)["text"]
    check_re(r"service api, severity critical, type sentry -> <@%s>" % CAROL, t, "combined, any order")
    check_re(r"-> <#C0OPS>", d(w, "severity error to channel:<#C0OPS|ops>")["text"], "channel target")
    check_re(r"-> <#C0OPS>", d(w, "severity warning to <#C0OPS|ops>")["text"], "bare channel link")
    check_re(r"-> <#C0TEST>", d(w, "type grafana to channel:here")["text"], "the channel typed in")
    stored = sorted(r["target"] for r in rules(w).values())
    check_eq(stored, sorted(["member:" + BOB, "team:default", "role:developer", "member:" + CAROL,
                             "channel:C0OPS", "channel:C0OPS", "channel:C0TEST"]), "stored targets")
    listed = d(w, "rules", DAVE)
    lines = [l for l in body(listed).split("\n") if l.startswith("• #")]
    check(lines, "rules lists them: %s" % short(everything(listed), 900))
    check("service api, severity critical, type sentry" in lines[0],
          "the most specific rule first: %r" % lines[:2])
    check_re(r"Removed rule #%s" % first, d(w, "remove #%s" % first)["text"], "remove #N")
    check_re(r"no such rule", d(w, "remove %s" % first)["text"], "remove twice")
    check_re(r"Usage", everything(d(w, "remove first")), "remove a word")


@test("/delegate rules: refusals (role, severity, service, type, strangers, positions, no target)")
def _(w):
    setup(w)
    w.oncall("", EVE, team=OTHER_TEAM)  # Eve runs another org: she can never be named here
    check_re(r"needs the \*admin\* role", d(w, "service api to <@%s>" % BOB, DAVE)["text"], "viewer")
    check_re(r"needs the \*admin\* role", d(w, "severity critical to <@%s>" % BOB, BOB)["text"], "developer")
    check_re(r"`urgent` is not a severity", d(w, "severity urgent to <@%s>" % BOB)["text"], "bad severity")
    check_re(r"There is no service `web`", d(w, "service web to <@%s>" % BOB)["text"], "unknown service")
    check_re(r"not an incident type", d(w, "type pagerduty to <@%s>" % BOB)["text"], "bad type")
    check_re(r"<@%s> is not a member here" % EVE, d(w, "service api to <@%s>" % EVE)["text"], "another org")
    check_re(r"There is no team", d(w, "service api to team:nosuch")["text"], "unknown team")
    check_re(r"not a role", d(w, "service api to role:chef")["text"], "unknown role")
    check_re(r"not a position|positions belong", d(w, "service api to primary")["text"], "position in a rule")
    check_re(r"to @user", everything(d(w, "service api severity critical")), "no `to`")
    check_re(r"one target", everything(d(w, "service api to <@%s> <@%s>" % (BOB, CAROL))), "two targets")
    check_re(r"Name the severity once", d(w, "severity critical severity error to <@%s>" % BOB)["text"],
             "a key twice")
    check_eq(rules(w), {}, "nothing stored by refusals")


@test("/delegate rules: a target the mode filters out gets a warning naming why and the fix")
def _(w):
    setup(w)
    d(w, "mode all_members")  # so that only being a viewer or opting out filters anyone
    d(w, "viewers off")
    check_re(r"off", w.oncall("me incidents off", CAROL)["text"], "Carol opts out")
    t = everything(d(w, "service api to <@%s>" % CAROL))
    check_re(r"Warning.*<@%s> would not be paged.*incident notifications off" % CAROL, t, "opted-out warning")
    t = everything(d(w, "severity info to role:viewer"))
    check_re(r"Warning.*viewers on", t, "viewers off warning")
    t = everything(d(w, "show"))
    check_re(r"filtered out", t, "show flags them")


@test("/oncall me incidents on|off: the member's own switch, shown in /oncall me")
def _(w):
    setup(w)
    check_re(r"\*off\*", w.oncall("me incidents off", BOB)["text"], "off")
    check_eq(w.r("HGET", K + ":member:" + BOB, "incidents"), "off", "stored off")
    check_re(r"Incident notifications.*off", everything(w.oncall("me", BOB)), "/oncall me shows it")
    check_re(r"\*on\*", w.oncall("me incidents on", BOB)["text"], "on")
    check_eq(w.r("HEXISTS", K + ":member:" + BOB, "incidents"), 0, "on is the field's absence")
    check_re(r"say `on` or `off`", w.oncall("me incidents maybe", BOB)["text"], "bad switch")
    # Viewers too: with `/delegate viewers on` incidents may reach them, and their own switch wins.
    check_re(r"\*off\*", w.oncall("me incidents off", DAVE)["text"], "a viewer's own switch")
    check_eq(w.r("HGET", K + ":member:" + DAVE, "incidents"), "off", "a viewer's switch stored")


@test("/delegate policy: show, step add/remove, repeat, reset, per team; limits and refusals")
def _(w):
    setup(w)
    t = everything(d(w, "policy", DAVE))
    check_re(r"built-in default", t, "default policy")
    t = everything(d(w, "policy step add 4 after 15m <@%s> channel:<#C0OPS|ops>" % BOB))
    check_re(r"4\. <@%s> and <#C0OPS>, after 15 min" % BOB, t, "a 4th step")
    stored = w.r("GET", K + ":team_policy:default")
    check(stored and "900:member:%s,channel:C0OPS" % BOB in stored, "stored policy %r" % stored)
    check("primary" in stored and "backup1" in stored, "the default's steps kept: %r" % stored)
    t = everything(d(w, "policy team default step add 2 after 2m 1st-backup rotation:nosuch primary"))
    check_re(r"no rotation `nosuch`", t, "unknown rotation")
    t = everything(d(w, "policy team default repeat 2"))
    check_re(r"up to 2 more times", t, "repeat")
    check_re(r"must run no earlier", everything(d(w, "policy step add 2 after 1h primary")), "out of order")
    check_re(r"Say where the step goes", everything(d(w, "policy step add 9 after 1m primary")), "bad N")
    check_re(r"not a target", everything(d(w, "policy step add 5 after 20m nobody")), "bad target")
    check_re(r"needs the \*admin\* role", d(w, "policy step add 5 after 20m primary", DAVE)["text"],
             "viewer, policy step")
    check_re(r"needs the \*admin\* role",
             d(w, "policy team default step add 5 after 20m primary", BOB)["text"], "developer, with a team")
    check_re(r"There is no team", d(w, "policy team nosuch")["text"], "unknown team")
    t = everything(d(w, "policy step remove 4"))
    check("<@%s>" % BOB not in t.split("Admins change")[0], "step 4 removed: %s" % short(t, 600))
    for n in range(4, 9):
        d(w, "policy step add %d after %dm primary" % (n, 10 + n))
    check_re(r"at most 8 steps", everything(d(w, "policy step add 9 after 1h primary")), "8 steps at most")
    targets = " ".join(["primary"] * 9)
    d(w, "policy step remove 8")
    check_re(r"at most 8 targets", everything(d(w, "policy step add 8 after 1h " + targets)), "targets")
    check_re(r"Back to the built-in default", d(w, "policy reset")["text"], "reset")
    check(not w.r("GET", K + ":team_policy:default"), "reset removes the stored text")


@test("/delegate test: a dry run naming who at which minute, how, and who not and why; pages nobody")
def _(w):
    setup(w)
    d(w, "mode all_members")
    d(w, "viewers off")
    rule = d(w, "service api severity critical to <@%s>" % BOB)["text"]
    rid = re.search(r"Rule #(\d+)", rule).group(1)
    before = len(w.peer.requests)
    t = everything(d(w, "test sev=critical service=api", DAVE))
    check_re(r"Dry run, nobody is paged", t, "dry run")
    check_re(r"Routed by rule #%s" % rid, t, "the rule that routed it")
    check_re(r"<@%s>" % BOB, t, "Bob is paged")
    check_re(r"chat now", t, "with his channels")
    check_re(r"Not paged:.*<@%s>: viewer" % DAVE, t, "Dave left out as a viewer")
    check_re(r"not in any step|no service", t, "others left out with a reason")
    t = everything(d(w, "test sev=warning"))
    check_re(r"No rule matched: team default's escalation policy", t, "no rule")
    d(w, "severity error to role:developer")
    d(w, "priority <@%s> <@%s> every 2m" % (CAROL, BOB))
    t = body(d(w, "test sev=error"))
    check_re(r"at once: <@%s>" % CAROL, t, "the first of the priority list at once")
    check_re(r"at min 2: <@%s>" % BOB, t, "the next one a gap later")
    check_re(r"not a severity", d(w, "test sev=bogus")["text"], "bad severity")
    check_re(r"There is no service", d(w, "test service=nope")["text"], "unknown service")
    check_re(r"Usage", everything(d(w, "test critical")), "not key=value")
    check_eq(len(w.peer.requests), before, "nothing sent to Slack by a dry run")
    check_eq(w.r("KEYS", K + ":inc:*"), [], "no incident made")


@test("every /delegate change is one audited step: /invite audit reads it as a sentence and the "
      "chain still verifies")
def _(w):
    setup(w)
    d(w, "mode all_members")
    d(w, "viewers on")
    d(w, "priority <@%s> <@%s> every 2m" % (CAROL, BOB))
    rule = re.search(r"#(\d+)", d(w, "service api to <@%s>" % BOB)["text"]).group(1)
    d(w, "remove " + rule)
    d(w, "policy step remove 3")
    shown = everything(w.invite("audit 10", ALICE))
    for pat in (r"set who may receive incidents to .*all_members",
                r"turned incidents for viewers .*on",
                r"set the order incidents page people in to",
                r"added a delegation rule: .*service api",
                r"removed a delegation rule: .*service api",
                r"changed an escalation policy"):
        check_re(pat, shown, "/invite audit")
    rc, out, err = verify(w)
    check_eq(rc, 0, "audit verify: %s %s" % (out, err))
