"""Outbound calls end to end: email invites over SMTP, GitHub org sync, Slack users.info.

The daemon runs against fakes that speak the real protocols (fakes.py): FakeSMTP (plain SMTP,
reached as smtp+insecure://), FakeGitHub (REST API with Link pagination), and the harness's
FakePeer as the Slack Web API. Tests that need SMTP or GitHub configured start a World of their
own; the others use the module's shared World (no SMTP, no GitHub token).

The org is put in team mode straight in Redis after the owner's first command, so these tests
don't depend on the team-mode button.
"""

import email
import email.policy
import email.utils
import hashlib
import json
import re
import time

from fakes import FakeGitHub, FakeSMTP
from harness import everything, ORG, TEAM, check, check_eq, check_re, own_world, short, test

ALICE, BOB = "U0ALICE", "U0BOB"
K = "wk:{%s}" % ORG
CODE = r"[a-z2-7]{32}"
FROM = "Watchkeeper <oncall@example.com>"
SMTP_PASSWORD = "smtp-pass-not-real-7f3a"
GH_TOKEN = "ghp_integration_test"


# ---------------------------------------------------------------- helpers

def invite(w, text, user=ALICE, timeout=40):
    """Run `/invite text` as user; return the final reply dict. A command that takes longer
    than slack.ack_after_ms is acknowledged and answered at response_url: follow it there."""
    path = "/commands/%s/%d" % (TEAM, int(time.monotonic() * 1e6))
    resp = w.command(text, user, command="/invite", response_url=w.peer.url + path, timeout=10)
    check(resp.status == 200, "/invite %s: HTTP %d %r" % (text, resp.status, short(resp.body)))
    js = resp.json()
    if js.get("blocks") and "the result follows here" not in everything(js):
        return js
    # Acknowledged, or a GitHub sync answered at once ("Reading the members ...") whose
    # outcome follows at response_url.
    got = w.peer.wait_for(1, timeout=timeout, path_prefix=path)
    check(got, "/invite %s: acknowledged (%r) but no answer at response_url" % (text, js.get("text")))
    js = got[0]["json"]
    check(isinstance(js, dict) and js.get("text"), "/invite %s: late answer %r" % (text, got[0]["body"]))
    return js


def invite_mailing(w, text, user=ALICE, timeout=40):
    """`/invite email ...` with SMTP set up: the answer comes at once ("mailing the invite
    now", no code in it) and the outcome of the mail at response_url once the SMTP server
    answered. Returns (the immediate reply, the late one)."""
    path = "/commands/%s/mail%d" % (TEAM, int(time.monotonic() * 1e6))
    t0 = time.monotonic()
    resp = w.command(text, user, command="/invite", response_url=w.peer.url + path, timeout=10)
    took = time.monotonic() - t0
    check_eq(resp.status, 200, "HTTP status")
    first = resp.json()
    check_re(r"mailing the invite now", everything(first), "the immediate answer")
    check(took < 1.5, "the answer waited %.1f s for the mail server" % took)
    got = w.peer.wait_for(1, timeout=timeout, path_prefix=path)
    check(got, "no answer at response_url after the mail server answered")
    return first, got[0]["json"]


def claim_answer(w, user, text="", timeout=15):
    """A command from a non-member while email invites are pending: the answer comes at once
    ("Checking whether you have an invite"), the command's real answer at response_url once
    users.info answered. Returns that late reply."""
    path = "/commands/%s/claim%d" % (TEAM, int(time.monotonic() * 1e6))
    resp = w.command(text, user, response_url=w.peer.url + path)
    check_eq(resp.status, 200, "HTTP status")
    check_re(r"Checking whether you have an invite", everything(resp.json()), "the immediate answer")
    got = w.peer.wait_for(1, timeout=timeout, path_prefix=path)
    check(got, "no answer at response_url after users.info")
    return got[0]["json"]


def team_org(w):
    """The org with U0ALICE as owner, in team mode."""
    w.oncall("", ALICE)
    w.r("HSET", K + ":org", "mode", "team")


def members_where(w, **fields):
    """Member ids whose hash has all the given field values."""
    out = []
    for key in w.r.keys(K + ":member:*"):
        if w.r("TYPE", key) != "hash":
            continue
        h = w.r.hgetall(key)
        if all(h.get(k) == v for k, v in fields.items()):
            out.append(key[len(K + ":member:"):])
    return sorted(out)


def code_in(text, public_url):
    """The invite code and the join URL in text (both must be there)."""
    codes = re.findall(r"(?<![a-z2-7])(%s)(?![a-z2-7])" % CODE, text)
    check(codes, "no 32-character invite code in %r" % short(text, 600))
    code = codes[0]
    check(public_url + "/join/" + code in text,
          "join URL %s/join/%s missing from %r" % (public_url, code, short(text, 600)))
    return code


def invite_key(code):
    return K + ":invite:" + hashlib.sha256(code.encode()).hexdigest()


def state(w):
    """Redis state without streams (the audit log records refusals too)."""
    return {k: v for k, v in w.r.snapshot().items() if v[0] != "stream"}


def smtp_world(smtp, **extra):
    env = dict(WK_SMTP_URL=smtp.url, WK_SMTP_FROM=FROM)
    env.update(extra)
    return own_world(**env)


# ---------------------------------------------------------------- email

@test("outbound: email invite: one RFC 5322 multipart mail over SMTP with the code and join URL", world=False)
def _():
    smtp = FakeSMTP()
    try:
        with smtp_world(smtp, WK_SMTP_USER="watchkeeper", WK_SMTP_PASSWORD=SMTP_PASSWORD) as w:
            public = w.env["WK_PUBLIC_URL"]
            team_org(w)
            t0 = time.time()
            first, reply = invite_mailing(w, "email alice@example.com developer")
            text = everything(reply)
            check_re(r"mailed|sent", text, "reply")
            check(not re.search(r"fail", text, re.I), "reply says something failed: %r" % short(text))
            msgs = smtp.wait_for(1)
            check_eq(len(msgs), 1, "messages at the SMTP server")
            m = msgs[0]
            check_eq(m["rcpts"], ["alice@example.com"], "RCPT TO")
            check_eq(m["mail_from"], "oncall@example.com", "MAIL FROM")
            check(m["auth"] and m["auth"]["user"] == "watchkeeper" and m["auth"]["password"] == SMTP_PASSWORD,
                  "AUTH credentials: %r" % m["auth"])

            raw = m["data"]
            check(b"\n" not in raw.replace(b"\r\n", b""), "a line does not end in CRLF")
            check(all(len(line) <= 998 for line in raw.split(b"\r\n")), "a line is longer than 998 bytes")
            head = raw.split(b"\r\n\r\n", 1)[0]
            check(all(b < 0x80 for b in head), "raw 8-bit bytes in the header: %r" % head)
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            for h in ("Date", "From", "To", "Subject", "Message-ID", "MIME-Version"):
                check(msg[h], "header %s missing: %r" % (h, short(head)))
            check_eq(str(msg["To"]), "alice@example.com", "To")
            check_eq(msg["From"].addresses[0].addr_spec, "oncall@example.com", "From address")
            check_eq(msg["From"].addresses[0].display_name, "Watchkeeper", "From name")
            check_eq(str(msg["MIME-Version"]), "1.0", "MIME-Version")
            check(re.fullmatch(r"<[0-9a-f]{32}@example\.com>", str(msg["Message-ID"]).strip()),
                  "Message-ID %r is not <32 hex@domain of From>" % str(msg["Message-ID"]))
            date = email.utils.parsedate_to_datetime(str(msg["Date"]))
            check(date.utcoffset().total_seconds() == 0, "Date is not UTC: %r" % str(msg["Date"]))
            check(abs(date.timestamp() - t0) < 300, "Date %r is not now" % str(msg["Date"]))
            subject = str(msg["Subject"])
            raw_subject = re.search(rb"(?im)^Subject:(.*(?:\r\n[ \t].*)*)", head).group(1)
            if any(ord(c) > 127 for c in subject):
                check(b"=?UTF-8?B?" in raw_subject.upper().replace(b"?b?", b"?B?"),
                      "non-ASCII subject not RFC 2047-encoded: %r" % raw_subject)
            else:
                check_eq(raw_subject.strip().decode(), subject, "plain ASCII subject")

            check_eq(msg.get_content_type(), "multipart/alternative", "Content-Type")
            parts = list(msg.iter_parts())
            check_eq([p.get_content_type() for p in parts], ["text/plain", "text/html"], "parts")
            for p in parts:
                check_eq((p.get_content_charset() or "").lower(), "utf-8", "%s charset" % p.get_content_type())
            plain, html = parts[0].get_content(), parts[1].get_content()
            code = code_in(plain, public)
            check(public + "/join/" + code in html, "the HTML part lacks the join URL: %r" % short(html))
            check("<br>" in html, "the HTML part does not turn newlines into <br>: %r" % short(html))
            check(code not in text and code not in everything(first),
                  "a reply shows the code although it was mailed: %r" % short(text))

            ph = members_where(w, email="alice@example.com", placeholder="1")
            check_eq(len(ph), 1, "placeholder members for alice@example.com")
            check(w.r("EXISTS", invite_key(code)) == 1, "no invite stored under sha256(code)")
            check(SMTP_PASSWORD not in w.daemon.stderr_text(), "the SMTP password reached the log")
    finally:
        smtp.close()


@test("outbound: email invite without SMTP configured: the reply carries the code and join URL")
def _(w):
    team_org(w)
    reply = invite(w, "email alice@example.com developer")
    code = code_in(everything(reply), w.env["WK_PUBLIC_URL"])
    check_eq(len(members_where(w, email="alice@example.com", placeholder="1")), 1, "placeholders")
    check(w.r("EXISTS", invite_key(code)) == 1, "no invite stored under sha256(code)")


@test("outbound: email invite, SMTP refuses the recipient (550): reply says so and gives the code", world=False)
def _():
    smtp = FakeSMTP(rcpt_reply="550 5.1.1 <alice@example.com>: recipient unknown")
    try:
        with smtp_world(smtp) as w:
            team_org(w)
            before = set(state(w))
            first, reply = invite_mailing(w, "email alice@example.com developer")
            text = everything(reply)
            check_re(r"fail", text, "reply")
            check_re(r"550", text, "reply (the SMTP code)")
            code = code_in(text, w.env["WK_PUBLIC_URL"])
            check_eq(smtp.messages, [], "messages accepted")
            check(any(c.upper().startswith("RCPT TO:") for c in smtp.commands), "RCPT never tried")
            # What stays is exactly the invite and its placeholder (and their indexes):
            # the code in the reply still works.
            check_eq(len(members_where(w, email="alice@example.com", placeholder="1")), 1, "placeholders")
            check(w.r("EXISTS", invite_key(code)) == 1, "no invite stored under sha256(code)")
            new = sorted(set(state(w)) - before)
            ph = members_where(w, email="alice@example.com", placeholder="1")[0]
            check(K + ":member:" + ph in new and invite_key(code) in new,
                  "new keys %r lack the placeholder or the invite" % new)
    finally:
        smtp.close()


@test("outbound: smtp:// requires STARTTLS: a server without it gets no MAIL and no AUTH", world=False)
def _():
    smtp = FakeSMTP()
    try:
        url = "smtp://127.0.0.1:%d" % smtp.port
        with smtp_world(smtp, WK_SMTP_URL=url, WK_SMTP_USER="watchkeeper",
                        WK_SMTP_PASSWORD=SMTP_PASSWORD) as w:
            team_org(w)
            _, reply = invite_mailing(w, "email alice@example.com developer")
            text = everything(reply)
            check_re(r"fail", text, "reply")
            check_re(r"STARTTLS", text, "reply")
            code_in(text, w.env["WK_PUBLIC_URL"])
            check_eq(smtp.messages, [], "messages")
            sent = [c.split(" ")[0].upper() for c in smtp.commands]
            check("EHLO" in sent, "the daemon never spoke to the server: %r" % sent)
            check("AUTH" not in sent and "MAIL" not in sent,
                  "credentials or mail went out without TLS: %r" % sent)
    finally:
        smtp.close()


# ---------------------------------------------------------------- GitHub

def gh_members(n=250):
    logins = ["dev-%03d" % i for i in range(n)]
    emails = {login: "%s@example.com" % login for login in logins[::3]}
    return logins, emails


def github_world(gh):
    return own_world(WK_GITHUB_TOKEN=GH_TOKEN, WK_GITHUB_API_URL=gh.url)


@test("outbound: github sync reads 3 pages, maps every login to a placeholder with its public email", world=False)
def _():
    logins, emails = gh_members(250)
    gh = FakeGitHub(org="acme", members=logins, emails=emails, token=GH_TOKEN)
    try:
        with github_world(gh) as w:
            team_org(w)
            reply = invite(w, "github acme developer")
            text = everything(reply)
            check_re(r"\b250\b", text, "reply (members added)")
            pages = gh.paths("/orgs/acme/members")
            check_eq(len(pages), 3, "member list pages fetched")
            check_eq(pages[0], "/orgs/acme/members?per_page=100", "first page")
            users = gh.paths("/users/")
            check_eq(len(users), 250, "user lookups")
            for r in gh.requests:
                h = r["headers"]
                check_eq(h.get("authorization"), "Bearer " + GH_TOKEN, "Authorization of " + r["path"])
                check_eq(h.get("x-github-api-version"), "2022-11-28", "API version of " + r["path"])
                check_eq(h.get("accept"), "application/vnd.github+json", "Accept of " + r["path"])
            mapping = w.r.hgetall(K + ":github")
            check_eq(sorted(mapping), sorted(logins), "logins in %s:github" % K)
            for login in (logins[0], logins[1], logins[249]):
                member = w.r.hgetall(K + ":member:" + mapping[login])
                check_eq(member.get("placeholder"), "1", "%s placeholder flag" % login)
                check_eq(member.get("role"), "developer", "%s role" % login)
                check_eq(member.get("email", ""), emails.get(login, ""), "%s email" % login)
            # The role index (member.h) has every placeholder the sync made.
            check_eq(sorted(w.r("SMEMBERS", K + ":roles:developer")), sorted(mapping.values()),
                     "the developer role index after the sync")
            check(GH_TOKEN not in w.daemon.stderr_text(), "the GitHub token reached the log")
    finally:
        gh.close()


GITHUB_FAILURES = [
    ("401", r"token", "a rejected token (401)"),
    ("404", r"no org", "an org GitHub doesn't show (404)"),
    ("ratelimit", r"rate limit", "a used-up rate limit (403, X-RateLimit-Remaining: 0)"),
]


def github_failure_test(mode, pattern, what):
    @test("outbound: github sync with %s explains it and writes nothing" % what, world=False)
    def _():
        logins, emails = gh_members(30)
        gh = FakeGitHub(org="acme", members=logins, emails=emails, token=GH_TOKEN, mode=mode)
        try:
            with github_world(gh) as w:
                team_org(w)
                before = state(w)
                reply = invite(w, "github acme developer")
                check_re(pattern, everything(reply), "reply")
                if mode == "ratelimit":
                    check_re(r"\d\d:\d\d UTC|minute", everything(reply), "reply (when to retry)")
                check_eq(state(w), before, "Redis state")
                check_eq(len(gh.requests), 1, "requests after the failure")
        finally:
            gh.close()


for _row in GITHUB_FAILURES:
    github_failure_test(*_row)


@test("outbound: github sync with one failing user lookup (502) writes nothing", world=False)
def _():
    logins, emails = gh_members(150)
    gh = FakeGitHub(org="acme", members=logins, emails=emails, token=GH_TOKEN, mode="user_error")
    try:
        with github_world(gh) as w:
            team_org(w)
            before = state(w)
            reply = invite(w, "github acme developer")
            check_re(r"502", everything(reply), "reply")
            check_eq(state(w), before, "Redis state")
    finally:
        gh.close()


@test("outbound: github re-sync marks the two members who left the org (left_github=1)", world=False)
def _():
    logins, emails = gh_members(120)
    gh = FakeGitHub(org="acme", members=logins, emails=emails, token=GH_TOKEN)
    try:
        with github_world(gh) as w:
            team_org(w)
            invite(w, "github acme developer")
            mapping = w.r.hgetall(K + ":github")
            check_eq(len(mapping), 120, "first sync")
            gone = [logins[5], logins[77]]
            gh.members = [l for l in logins if l not in gone]
            reply = invite(w, "github acme developer")
            check_re(r"\b2 left", everything(reply), "reply")
            for login in logins:
                left = w.r("HGET", K + ":member:" + mapping[login], "left_github")
                if login in gone:
                    check_eq(left, "1", "%s left_github" % login)
                else:
                    check(left in (None, "0", ""), "%s marked left: %r" % (login, left))
    finally:
        gh.close()


@test("outbound: github sync never follows a Link to another host with the token", world=False)
def _():
    logins, emails = gh_members(250)
    gh = FakeGitHub(org="acme", members=logins, emails=emails, token=GH_TOKEN, mode="evil_link")
    try:
        with github_world(gh) as w:
            team_org(w)
            reply = invite(w, "github acme developer")
            check_re(r"\b100\b", everything(reply), "reply (the first page only)")
            check_eq(len(gh.paths("/orgs/")), 1, "member pages fetched")
    finally:
        gh.close()


# ---------------------------------------------------------------- Slack users.info

@test("outbound: a Slack user whose profile email matches an email invite claims it on first contact")
def _(w):
    team_org(w)
    invite(w, "email bob@example.com developer")
    ph = members_where(w, email="bob@example.com", placeholder="1")
    check_eq(len(ph), 1, "placeholder for bob")
    w.peer.route("/api/users.info", body={"ok": True, "user": {"id": BOB, "profile": {"email": "bob@example.com"}}})
    late = claim_answer(w, BOB)
    check_re(r"Welcome: your email invite matched.*\*developer\*", everything(late), "the late answer")
    check_eq(w.r.hgetall(K + ":member:" + BOB).get("role"), "developer", "bob's role")
    check_eq(w.r("EXISTS", K + ":member:" + ph[0]), 0, "the placeholder hash is gone")
    check(BOB in w.members(), "bob not in the members set: %r" % w.members())
    calls = w.peer.wait_for(1, path_prefix="/api/users.info")
    check(calls, "users.info was never called")
    check_eq(calls[0]["method"], "GET", "users.info method")
    check_eq(calls[0]["headers"].get("authorization"), "Bearer xoxb-integration-test", "users.info auth")
    check(re.search(r"[?&]user=U0BOB(&|$)", calls[0]["path"]), "users.info path %r" % calls[0]["path"])


@test("outbound: a Slack profile without email, or users.info failing, claims nothing")
def _(w):
    team_org(w)
    invite(w, "email bob@example.com developer")
    ph = members_where(w, email="bob@example.com", placeholder="1")
    for body, status in (({"ok": True, "user": {"id": BOB, "profile": {}}}, 200),
                         ({"ok": False, "error": "missing_scope"}, 200),
                         ({"ok": False, "error": "ratelimited"}, 429),
                         ("<html>oops", 502)):
        w.peer.route("/api/users.info", status=status, body=body,
                     headers={"Content-Type": "application/json", "Retry-After": "3"})
        late = claim_answer(w, BOB)
        check_re(r"not a member", everything(late), "the late answer with users.info %r" % (body,))
        check_eq(w.r("EXISTS", K + ":member:" + BOB), 0, "bob became a member with users.info %r" % (body,))
        check_eq(members_where(w, email="bob@example.com", placeholder="1"), ph, "placeholder")
