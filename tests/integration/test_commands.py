"""Issue 10 items 2, 10 and 11: how commands are found and read.

- Free text after a command's fixed arguments is one argument, as typed (a page message, an
  override or swap reason); long member lists fit, and too many arguments are refused with
  the bound, never the whole help.
- `/oncall TEAM` runs `/oncall now TEAM`; unique prefixes work for both words of a two-word
  subcommand; a typo gets "did you mean" and one short usage line.
- Every command is a subcommand of the main one (`/oncall invite ...`), the registered Slack
  names are configurable (slack.commands / WK_SLACK_COMMANDS), and the Slack manifest is
  generated from the command table: the committed one is exactly that output and registers
  no name Slack keeps for itself (config/slack-reserved-commands.txt).
"""

import json
import os
import re
import subprocess

from harness import (ORG, ROOT, Redis, check, check_eq, check_re, daemon_binary, daemon_env,
                     everything, free_port, own_world, run_cli, short, test)

ALICE, BOB, CAROL, DAVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"
K = "wk:{%s}" % ORG
MANIFEST = os.path.join(ROOT, "config", "slack-app-manifest.yml")
RESERVED = os.path.join(ROOT, "config", "slack-reserved-commands.txt")
EXAMPLE_URL = "https://watchkeeper.example.com"


def m(user):
    return "<@%s>" % user


def cli_env(w, **changes):
    env = dict(w.env)
    env["WK_LISTEN"] = "127.0.0.1:%d" % free_port()
    env.update(changes)
    return env


def reserved_names():
    with open(RESERVED, encoding="utf-8") as f:
        lines = [l.strip() for l in f]
    check(lines and lines[0].startswith("#") and "shared/protocols/slack.md" in " ".join(lines[:6]),
          "%s must start with a comment naming its source" % RESERVED)
    names = [l for l in lines if l and not l.startswith("#")]
    check(all(re.fullmatch(r"/[a-z0-9_-]+", n) for n in names), "malformed names: %r" % names)
    return {n[1:] for n in names}


def manifest_commands(text):
    """[(command, usage_hint)] of features.slash_commands, read line by line."""
    out = []
    for cmd, hint in re.findall(r"- command: /(\S+)\n(?:.*\n)*?\s+usage_hint: \"([^\"]*)\"", text):
        out.append((cmd, hint))
    return out


def short_reply(reply, what):
    """A refusal that is not the whole help: one or two lines, no list of every subcommand."""
    text = everything(reply)
    check("Subcommands:" not in text, "%s: the whole help came back: %r" % (what, short(reply["text"], 500)))
    check(len(reply["text"]) < 400, "%s: long reply %r" % (what, short(reply["text"], 500)))


# ---------------------------------------------------------------- item 2: free text

@test("page: a 40-word message with a stray quote goes out whole, as typed")
def _(w):
    w.add_member(BOB, "developer")
    words = " ".join("w%d" % i for i in range(40))
    msg = 'the "db is down %s' % words
    reply = w.oncall("page %s %s" % (m(ALICE), msg), BOB)
    check_re(r"\(#\d+\)", reply["text"], "page reply")
    keys = [k for k in w.r("KEYS", K + ":notification:n*") if not k.endswith(":events")]
    check(keys, "no notification stored")
    stored = json.dumps([w.r.hgetall(k) for k in keys])
    check(json.dumps(msg)[1:-1] in stored, "the message was not kept whole: %r" % short(stored, 600))


@test("override: a long reason is kept as typed (quotes, spacing); /oncall overrides shows it")
def _(w):
    w.add_member(BOB, "developer")
    reason = 'covering  "for" ' + " ".join(chr(97 + i % 26) for i in range(34)) + " end"
    check(len(reason.split()) > 32 and len(reason) < 128, "the reason must pass the old 32-word cap")
    reply = w.oncall("override %s now +2h %s" % (m(BOB), reason), ALICE)
    check_re(r"Override `o\d+`", reply["text"], "override reply")
    shown = w.oncall("overrides", ALICE)["text"] + json.dumps(w.oncall("overrides", ALICE))
    check(reason in shown, "reason not shown whole, as typed: %r" % short(shown, 600))


@test("override: a reason longer than its field is refused with the bound, nothing written")
def _(w):
    w.add_member(BOB, "developer")
    w.oncall("", ALICE)
    before = w.r.snapshot()
    reply = w.oncall("override %s now +2h %s" % (m(BOB), "x" * 200), ALICE)
    check_re(r"longer than 127 bytes", reply["text"], "refusal")
    check_eq(w.r.snapshot(), before, "Redis after the refusal")


@test("swap: a reason past the old 32-word cap, with quotes, is stored as typed")
def _(w):
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.oncall("rotation create main every 1d members %s %s" % (m(ALICE), m(BOB)), ALICE)
    text = w.oncall("when", ALICE)["text"] + json.dumps(w.oncall("when", ALICE))
    ids = re.findall(r"`(r\d+\.-?\d+)`", text)
    check(len(ids) >= 2, "no future shifts: %r" % short(text))
    reason = 'the "kids" ' + " ".join(["x"] * 34)
    t = w.oncall("swap %s with %s %s" % (ids[1], m(BOB), reason), ALICE)["text"]
    sid = re.search(r"swap cancel (s\d+)", t)
    check(sid, "no swap made: %r" % t)
    check_eq(w.r("HGET", K + ":swap:" + sid.group(1), "reason"), reason, "stored reason")


@test("rotation create with every option of the README and four members (18 arguments) works")
def _(w):
    for u in (BOB, CAROL, DAVE):
        w.add_member(u, "developer")
    reply = w.oncall("rotation create night every 1w handoff mon 09:00 tz Europe/Berlin "
                     "hours mon-fri 08:00-18:00 team default members %s %s %s %s"
                     % (m(ALICE), m(BOB), m(CAROL), m(DAVE)), ALICE)
    check_re(r"night", reply["text"], "create reply")
    check_eq(w.rotation(name="night"), [ALICE, BOB, CAROL, DAVE], "night's members")


@test("too many arguments: the refusal names the bound and is not the whole help")
def _(w):
    w.oncall("", ALICE)
    members = " ".join(m("U0M%03d" % i) for i in range(230))
    reply = w.oncall("rotation create big members " + members, ALICE)
    check_re(r"takes at most 220 arguments; that was 232", reply["text"], "refusal")
    check("Subcommands:" not in everything(reply), "whole help in %r" % short(everything(reply), 500))
    reply = w.oncall("list " + " ".join(["x"] * 300), ALICE)
    check_re(r"too many arguments \(limit 256\)", reply["text"], "cmdline bound")
    check("Subcommands:" not in everything(reply), "whole help in %r" % short(everything(reply), 500))


# ---------------------------------------------------------------- item 10: finding commands

@test("/oncall TEAM runs /oncall now TEAM; an unknown word that is no team says both")
def _(w):
    w.team_mode()
    w.invite("team create ops", ALICE)
    w.oncall("join", ALICE)
    a = w.oncall("ops", ALICE)
    b = w.oncall("now ops", ALICE)
    check_eq(a["text"], b["text"], "/oncall ops vs /oncall now ops")
    check("no subcommand" not in a["text"], "/oncall ops: %r" % a["text"])
    r = w.oncall("opz", ALICE)
    check_re(r"no subcommand `opz`, and there is no team `opz`", r["text"], "unknown word")
    short_reply(r, "/oncall opz")


@test("unique prefixes work for both words: /oncall rot li, /invite te li; /oncall me n is ambiguous")
def _(w):
    w.team_mode()
    a, b = w.oncall("rot li", ALICE), w.oncall("rotation list", ALICE)
    check_eq(a["text"], b["text"], "/oncall rot li vs rotation list")
    a, b = w.invite("te li", ALICE), w.invite("team list", ALICE)
    check_eq(a["text"], b["text"], "/invite te li vs team list")
    r = w.oncall("me n", ALICE)
    check_re(r"could be `me name`, `me notify`", r["text"], "/oncall me n")
    short_reply(r, "/oncall me n")
    r = w.oncall("me na Alice Example", ALICE)
    check_eq(w.r("HGET", K + ":member:" + ALICE, "name"), "Alice Example", "name set through `me na`")


@test("a typo gets 'did you mean' and one usage line, not the whole help")
def _(w):
    w.oncall("", ALICE)
    r = w.oncall("rotaton", ALICE)
    check_re(r"Did you mean `/oncall rotation`\?", everything(r), "/oncall rotaton")
    check_re(r"/oncall rotation list\|create", everything(r), "the group's line")
    short_reply(r, "/oncall rotaton")
    r = w.oncall("scedule", ALICE)
    check_re(r"Did you mean `/oncall schedule`\?", everything(r), "/oncall scedule")
    r = w.oncall("rotation lsit", ALICE)
    check_re(r"Did you mean `/oncall rotation list`\?", everything(r), "/oncall rotation lsit")
    r = w.oncall("swap cancle s1", ALICE)
    check_re(r"Did you mean `/oncall swap cancel`\?", everything(r), "/oncall swap cancle s1")
    short_reply(r, "/oncall swap cancle s1")
    r = w.oncall("me nmae Alice", ALICE)
    check_re(r"`/oncall me` takes no arguments\. Did you mean `/oncall me name`\?", everything(r),
             "/oncall me nmae Alice")
    r = w.invite("memebrs", ALICE)
    check_re(r"Did you mean `/oncall invite members`\?", everything(r), "/invite memebrs")
    r = w.oncall("xyzzy", ALICE)
    check_re(r"Usage: `/oncall SUBCOMMAND \.\.\.`, one of: now, list, .*`/oncall help` explains them",
             everything(r), "no near word")
    short_reply(r, "/oncall xyzzy")


# ---------------------------------------------------------------- item 11: one main command

@test("/oncall invite ... is /invite ...: links, members, help; hints name /oncall invite")
def _(w):
    w.oncall("", ALICE)
    r = w.oncall("invite team-mode", ALICE)
    check(any(b.get("type") == "actions" for b in r.get("blocks", [])) or "team" in r["text"],
          "team-mode offer: %r" % r["text"])
    w.team_mode()
    r = w.oncall("invite link", ALICE)
    codes = re.findall(r"join ([a-z2-7]{32})", everything(r))
    check(codes, "no code in %r" % short(everything(r)))
    check_re(r"`/oncall invite join [a-z2-7]{32}`", everything(r), "hint names /oncall invite")
    joined = w.oncall("invite join " + codes[0], BOB)
    check("Welcome" in joined["text"], "join through /oncall invite: %r" % joined["text"])
    check_eq(w.role(BOB), "developer", "bob's role")
    r = w.oncall("inv mem", ALICE)
    check(m(BOB) in everything(r), "/oncall inv mem lists members: %r" % short(everything(r)))
    h = everything(w.oncall("help", ALICE))
    check_re(r"`/oncall invite \.\.\.` members, roles", h, "/oncall help names /oncall invite")
    for text in ("invite help", "help invite"):
        h = everything(w.oncall(text, ALICE))
        check_re(r"`/oncall invite link \[role\]", h, "/oncall %s" % text)
    r = w.oncall("", "U0STRANGER")
    check_re(r"`/oncall invite join CODE`", r["text"], "non-member hint")


@test("console: plain `invite ...` and `/oncall invite ...` both work; hints keep the plain words",
      world=False)
def _():
    redis = Redis().start()
    try:
        env = daemon_env(redis.url, "http://127.0.0.1:9/api", WK_SLACK_SIGNING_SECRET=None)
        p = subprocess.run([daemon_binary(), "-c", "config/watchkeeper.example.json", "--console"],
                           input=b"/oncall\ninvite team-mode\n1\n/oncall invite link\ninvite members\n"
                                 b"/oncall rot li\n/oncall rotaton\n",
                           env=env, cwd=ROOT, capture_output=True, timeout=30)
        out, err = p.stdout.decode(), p.stderr.decode()
        check_eq(p.returncode, 0, "exit status (stderr: %s)" % short(err, 600))
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            check(bad not in err, "sanitizer report: %s" % short(err, 800))
        check_re(r"now in \*team\* mode", out, "plain `invite team-mode`")
        check_re(r"`/invite join [a-z2-7]{32}`", out, "`/oncall invite link` in the console, plain hint")
        check_re(r"@you.*owner", out, "plain `invite members`")
        check_re(r"Did you mean `/oncall rotation`\?", out, "did you mean in the console")
    finally:
        redis.destroy()


@test("team create refuses subcommand names and their prefixes, so /oncall TEAM stays a team")
def _(w):
    w.team_mode()
    for name, meaning in (("rotation", "rotation"), ("rot", "rotation"), ("invite", "invite"),
                          ("Schedule", "schedule"), ("help", "help")):
        r = w.invite("team create " + name, ALICE)
        check_re(r"`/oncall %s` already means `/oncall %s`" % (re.escape(name), meaning), r["text"],
                 "team create " + name)
    check(w.r("EXISTS", K + ":team_name:rotation") == 0, "a team `rotation` was made")
    r = w.invite("team create ops", ALICE)
    check_re(r"Created team `ops`", r["text"], "ops")


@test("WK_SLACK_COMMANDS=oncall-prod: /oncall-prod runs /oncall, replies name /oncall-prod", world=False)
def _():
    with own_world(WK_SLACK_COMMANDS="oncall-prod,invite-prod=invite") as w:
        r = w.command("", command="/oncall-prod")
        check_eq(r.status, 200, "status")
        text = everything(r.json())
        check_re(r"Welcome to Watchkeeper.*`/oncall-prod help`", text, "welcome names the configured command")
        h = everything(w.command("help", command="/oncall-prod").json())
        check_re(r"`/oncall-prod list", h, "help lines use the registered name")
        check_re(r"`/invite-prod \.\.\.`", h, "invite under its own registered name")
        r = w.command("team-mode", command="/invite-prod").json()
        check_re(r"team", everything(r), "/invite-prod team-mode")
        r = w.command("", user="U0STRANGER", command="/oncall-prod").json()
        check_re(r"`/invite-prod join CODE`", r["text"], "hint for a stranger")
        # Hints written with the table's names anywhere in a reply read as typed here.
        r = everything(w.command("list", command="/oncall-prod").json())
        check(not re.search(r"`/oncall[ `]", r), "a literal /oncall hint in a renamed install: %s" % short(r, 600))
        r = everything(w.command("incident open the db is down", command="/oncall-prod").json())
        check_re(r"Opened \*INC-1\*", r, "/oncall-prod incident open")
        r = everything(w.command("incident show banana", command="/oncall-prod").json())
        check_re(r"`/oncall-prod incident list` shows them", r, "an /incident hint reads as typed")
        rc, out, err = run_cli(["manifest", "slack"], cli_env(w, WK_PUBLIC_URL="https://x.example"))
        check_eq(rc, 0, "manifest exit (stderr %r)" % short(err))
        check_eq([c for c, _h in manifest_commands(out)], ["oncall-prod", "invite-prod"], "registered")
        check("url: https://x.example/slack/commands" in out, "public_url not used: %r" % short(out))


@test("a reserved or malformed slash command name stops the daemon's config with the key named")
def _(w):
    for value, pattern in (("invite", r"WK_SLACK_COMMANDS.*Slack keeps /invite"),
                           ("oncall,who=invite", r"Slack keeps /who"),
                           ("On Call", r"WK_SLACK_COMMANDS.*not a slash command name"),
                           ("oncall,x=nosuch", r"WK_SLACK_COMMANDS.*=COMMAND"),
                           ("oncall,oncall2=oncall", r"named twice")):
        rc, out, err = run_cli(["--check-config"], cli_env(w, WK_SLACK_COMMANDS=value))
        check_eq(rc, 2, "exit code for %r (stderr %r)" % (value, short(err)))
        check_re(pattern, err, "stderr for %r" % value)


@test("the committed manifest is `watchkeeper manifest slack`, keeps scopes and URLs, registers no reserved name")
def _(w):
    rc, out, err = run_cli(["manifest", "slack"], cli_env(w, WK_PUBLIC_URL=EXAMPLE_URL,
                                                           WK_SLACK_COMMANDS="oncall"))
    check_eq(rc, 0, "exit code (stderr %r)" % short(err))
    with open(MANIFEST, encoding="utf-8") as f:
        committed = f.read()
    check(committed == out, "config/slack-app-manifest.yml differs from `watchkeeper manifest slack`; "
          "regenerate it with WK_PUBLIC_URL=%s" % EXAMPLE_URL)
    for needle in ("request_url: %s/slack/actions" % EXAMPLE_URL, "url: %s/slack/commands" % EXAMPLE_URL,
                   "users:read.email", "im:history", "channels:history", "groups:history",
                   "socket_mode_enabled: false", "should_escape: true"):
        check(needle in out, "manifest lacks %r" % needle)
    reserved = reserved_names()
    check("invite" in reserved and "who" in reserved, "reserved list lacks /invite or /who")
    cmds = manifest_commands(out)
    check_eq([c for c, _h in cmds], ["oncall"], "registered commands")
    check(not {c for c, _h in cmds} & reserved, "reserved names registered: %r" % cmds)
    # the usage hint is the table: every first word of /oncall's rows, and the other commands
    rc, js, err = run_cli(["--commands"], cli_env(w))
    rows = json.loads(js)
    firsts = {r["subcommand"].split()[0] for r in rows if r["command"] == "oncall" and "subcommand" in r}
    others = {r["command"] for r in rows} - {"oncall"}
    hint = {h.split()[0] for h in cmds[0][1].strip("[]").split("|")}
    check_eq(hint, firsts | others, "usage hint vs the command table")
