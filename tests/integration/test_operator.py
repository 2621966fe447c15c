"""Operator tools: `watchkeeper orgs list|show|suspend|activate` and their usage, id and
configuration errors, run as one-shot processes against the World's Redis.

Orgs are created the way users create them (a signed /oncall from the first user); extra
members, roles and names are written straight into Redis in the documented model (org.h),
since inviting people is another command's business.
"""

import re
import threading

from harness import (ORG, TEAM, check, check_eq, check_re, free_port, run_cli, short, test,
                     TestFailure)

K = "wk:{%s}" % ORG
ALICE = "U0ALICE"


def cli(w, *args, **env_changes):
    env = dict(w.env)
    env["WK_LISTEN"] = "127.0.0.1:%d" % free_port()
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return run_cli(list(args), env)


def make_org(w, team=TEAM, user=ALICE):
    w.oncall("", user, team)
    org = "slack:" + team
    check(w.r("EXISTS", "wk:{%s}:org" % org) == 1, "org %s not created" % org)
    return org


def add_member(w, org, mid, role, name=None):
    k = "wk:{%s}" % org
    fields = ["role", role, "platform", "slack", "chat_id", mid, "created_ms", "1700000000000"]
    if name:
        fields += ["name", name]
    w.r("HSET", "%s:member:%s" % (k, mid), *fields)
    w.r("SADD", k + ":members", mid)


def audit_len(w, org=ORG):
    return w.r("XLEN", "wk:{%s}:audit" % org)


def state(w):
    return w.r.snapshot()


# ---------------------------------------------------------------- list / show

@test("orgs list: one line per org, sorted, with mode, status and member count")
def _(w):
    zed = make_org(w, "T0ZED", "U0ZED")
    make_org(w, TEAM, ALICE)
    aaa = make_org(w, "T0AAA", "U0AAA")
    add_member(w, ORG, "U0BOB", "developer")
    add_member(w, ORG, "U0CAROL", "viewer")
    w.r("HSET", K + ":org", "mode", "team")
    w.r("HSET", "wk:{%s}:org" % zed, "suspended", "1")
    rc, out, err = cli(w, "orgs", "list")
    check_eq(rc, 0, "exit code (stderr %r)" % short(err))
    check_eq(out.splitlines(), [
        "%s  mode=solo  status=active  members=1" % aaa,
        "%s  mode=team  status=active  members=3" % ORG,
        "%s  mode=solo  status=suspended  members=1" % zed,
    ], "orgs list")


@test("orgs list: no orgs prints nothing on stdout and exits 0")
def _(w):
    rc, out, err = cli(w, "orgs", "list")
    check_eq((rc, out), (0, ""), "exit code and stdout")


@test("orgs show: the org's fields, members by role, owners, teams and audit count")
def _(w):
    make_org(w)
    add_member(w, ORG, "U0BOB", "admin", "Bob \x1b[31mRed")
    add_member(w, ORG, "U0CAROL", "developer")
    add_member(w, ORG, "U0DAVE", "developer")
    add_member(w, ORG, "U0EVE", "owner", "Eve")
    add_member(w, ORG, "U0FRED", "viewer")
    before = state(w)
    rc, out, err = cli(w, "orgs", "show", ORG)
    check_eq(rc, 0, "exit code (stderr %r)" % short(err))
    check_eq(state(w), before, "Redis after show")
    check_re(r"^org %s$" % ORG, out.splitlines()[0], "first line")
    for pattern in (r"(?m)^\s+status\s+active$", r"(?m)^\s+id\s+%s$" % ORG, r"(?m)^\s+platform\s+slack$",
                    r"(?m)^\s+external_id\s+%s$" % TEAM, r"(?m)^\s+owner\s+%s$" % ALICE,
                    r"(?m)^\s+mode\s+solo$", r"(?m)^\s+created_ms\s+\d{13} \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$",
                    r"(?m)^members\s+6: owner 2, admin 1, developer 2, viewer 1$",
                    r"(?m)^owners\s+%s, U0EVE \(Eve\)$" % ALICE,
                    r"(?m)^teams\s+.*default",
                    r"(?m)^audit log\s+0 entries$"):
        check_re(pattern, out, "orgs show output")
    check("\x1b" not in out, "a control character from Redis reached the terminal: %r" % short(out))


@test("orgs show: an org's status reads suspended after orgs suspend")
def _(w):
    make_org(w)
    cli(w, "orgs", "suspend", ORG)
    rc, out, err = cli(w, "orgs", "show", ORG)
    check_eq(rc, 0, "exit code")
    check_re(r"(?m)^\s+status\s+suspended$", out, "orgs show output")
    check_re(r"(?m)^audit log\s+1 entry$", out, "orgs show output")


@test("orgs show/suspend/activate of an unknown org exit 1 and write nothing")
def _(w):
    make_org(w)
    before = state(w)
    for sub in ("show", "suspend", "activate"):
        rc, out, err = cli(w, "orgs", sub, "slack:T0NOBODY")
        check_eq(rc, 1, "orgs %s exit code" % sub)
        check_re(r"no org with id slack:T0NOBODY", err, "orgs %s stderr" % sub)
        check_eq(out, "", "orgs %s stdout" % sub)
    check_eq(state(w), before, "Redis after unknown-org commands")


# ---------------------------------------------------------------- suspend / activate

@test("orgs suspend/activate: one audit entry per change; repeats say so and change nothing")
def _(w):
    make_org(w)
    n0 = audit_len(w)
    rc, out, err = cli(w, "orgs", "suspend", ORG)
    check_eq(rc, 0, "suspend exit code (stderr %r)" % short(err))
    check_re(r"%s is now suspended" % ORG, out, "suspend stdout")
    check_eq(w.r("HGET", K + ":org", "suspended"), "1", "suspended field")
    check_eq(audit_len(w), n0 + 1, "audit entries after suspend")

    before = state(w)
    rc, out, err = cli(w, "orgs", "suspend", ORG)
    check_eq(rc, 0, "second suspend exit code")
    check_re(r"already suspended; nothing changed", out, "second suspend stdout")
    check_eq(state(w), before, "Redis after a repeated suspend")

    rc, out, err = cli(w, "orgs", "activate", ORG)
    check_eq(rc, 0, "activate exit code (stderr %r)" % short(err))
    check_re(r"%s is active again" % ORG, out, "activate stdout")
    check(w.r("HGET", K + ":org", "suspended") in (None, "0"), "suspended field not cleared")
    check_eq(audit_len(w), n0 + 2, "audit entries after activate")
    last = w.r("XREVRANGE", K + ":audit", "+", "-", "COUNT", 1)[0][1]
    f = dict(zip(last[0::2], last[1::2]))
    check_eq((f["actor"], f["platform"], f["action"], f["resource"], f["before"], f["after"]),
             ("operator", "operator", "org.activate", "org:" + ORG, "suspended", "active"), "activate entry")

    before = state(w)
    rc, out, err = cli(w, "orgs", "activate", ORG)
    check_eq(rc, 0, "second activate exit code")
    check_re(r"already active; nothing changed", out, "second activate stdout")
    check_eq(state(w), before, "Redis after a repeated activate")


@test("orgs suspend: eight at once change the org once and write one audit entry")
def _(w):
    make_org(w)
    n0 = audit_len(w)
    results = []
    lock = threading.Lock()

    def one():
        try:
            r = cli(w, "orgs", "suspend", ORG)
        except TestFailure as e:
            r = (-1, "", str(e))
        with lock:
            results.append(r)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    check_eq(sorted(r[0] for r in results), [0] * 8, "exit codes (%r)" % [short(r[2]) for r in results])
    changed = [r for r in results if "now suspended" in r[1]]
    check_eq(len(changed), 1, "processes that suspended the org")
    check_eq(audit_len(w), n0 + 1, "audit entries")
    rc, out, err = cli(w, "audit", "verify", "--org", ORG)
    check_eq(rc, 0, "verify exit code (%r)" % short(out))


@test("a suspended org's members hear that it is suspended; activate restores /oncall")
def _(w):
    make_org(w)
    cli(w, "orgs", "suspend", ORG)
    reply = w.oncall("", ALICE)
    check_re(r"suspended", reply["text"], "/oncall reply in a suspended org")
    cli(w, "orgs", "activate", ORG)
    reply = w.oncall("", ALICE)
    check(not re.search(r"suspended", reply["text"], re.I),
          "/oncall still says suspended after activate: %r" % short(reply["text"]))


# ---------------------------------------------------------------- errors

BAD_IDS = ["nocolon", "slack:T{1}", "slack:T 1", "", "slack:T1\n", "slack:ä", "wk:{slack:T1}:org",
           "slack:" + "x" * 91, "slack:T1;DEL"]


@test("bad org ids exit 2 naming the id, for every subcommand, and write nothing")
def _(w):
    make_org(w)
    before = state(w)
    for bad in BAD_IDS:
        for args in (["orgs", "show", bad], ["orgs", "suspend", bad], ["orgs", "activate", bad],
                     ["audit", "verify", "--org", bad], ["audit", "export", "--org", bad]):
            rc, out, err = cli(w, *args)
            check_eq(rc, 2, "exit code of %r" % args)
            check_re(r"not an org id", err, "stderr of %r" % args)
    check_eq(state(w), before, "Redis after bad ids")
    # 96 characters is the longest id accepted: unknown (1), not malformed (2)
    rc, out, err = cli(w, "orgs", "show", "slack:" + "x" * 90)
    check_eq(rc, 1, "exit code for a 96-character id")


USAGE_ERRORS = [
    ["orgs"], ["orgs", "frob"], ["orgs", "show"], ["orgs", "suspend"], ["orgs", "list", ORG],
    ["orgs", "show", ORG, "extra"], ["orgs", "list", "--bogus"], ["orgs", "list", "-c"],
    ["audit"], ["audit", "verify"], ["audit", "verify", ORG], ["audit", "frob", "--org", ORG],
    ["audit", "verify", "--org"], ["audit", "verify", "--org", ORG, "--org", ORG],
    ["orgs", "show", "--org", ORG],
]


@test("usage errors exit 2 with the usage text on stderr")
def _(w):
    for args in USAGE_ERRORS:
        rc, out, err = cli(w, *args)
        check_eq(rc, 2, "exit code of %r (stderr %r)" % (args, short(err)))
        check_re(r"usage: watchkeeper orgs", err, "stderr of %r" % args)
        check_eq(out, "", "stdout of %r" % args)


@test("orgs --help and audit --help print the usage (naming audit lua) and exit 0")
def _(w):
    for tool in ("orgs", "audit"):
        rc, out, err = cli(w, tool, "--help")
        check_eq(rc, 0, "%s --help exit code" % tool)
        for words in ("orgs list", "orgs show", "orgs suspend", "orgs activate", "audit verify",
                      "audit export", "audit lua"):
            check(words in out, "%s --help lacks %r: %r" % (tool, words, short(out)))


@test("configuration errors exit 2; Redis unreachable exits 1")
def _(w):
    make_org(w)
    rc, out, err = cli(w, "orgs", "list", WK_LOG_LEVEL="loud")
    check_eq(rc, 2, "exit code with WK_LOG_LEVEL=loud")
    check_re(r"log.?level", err, "stderr")
    rc, out, err = cli(w, "orgs", "list", "-c", "/nonexistent/watchkeeper.json")
    check_eq(rc, 2, "exit code with a missing config file")
    check_re(r"/nonexistent/watchkeeper\.json", err, "stderr")
    rc, out, err = cli(w, "orgs", "list", WK_REDIS_URL="ftp://nowhere/0")
    check_eq(rc, 2, "exit code with a bad Redis URL")
    for args in (["orgs", "list"], ["orgs", "show", ORG], ["orgs", "suspend", ORG],
                 ["audit", "verify", "--org", ORG], ["audit", "export", "--org", ORG]):
        rc, out, err = cli(w, *args, WK_REDIS_URL="unix:///nonexistent/redis.sock")
        check_eq(rc, 1, "exit code of %r with Redis unreachable" % args)
        check_re(r"redis", err, "stderr of %r" % args)
    check(w.r("HGET", K + ":org", "suspended") is None, "suspended with Redis unreachable?")
