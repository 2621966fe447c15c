"""Button clicks (POST /slack/actions) and the shell console's numbered choices.

A click is acknowledged with an empty 200 at once; the command module that made the button
answers through response_url with replace_original, and the change is in Redis.
"""

import json
import re
import subprocess
import time
import urllib.parse

from harness import (ORG, TEAM, Redis, check, check_eq, check_re, daemon_binary, daemon_env,
                     short, test, new_trigger_id)

K = "wk:{%s}" % ORG


def click(w, action_id, user="U0BOB", team=TEAM, value="", path="/actions/T0TEST/1/xyz",
          secret=None):
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A0TEST", "token": "legacyTok",
        "container": {"type": "message", "message_ts": "1700000001.000100",
                      "channel_id": "C0TEST", "is_ephemeral": True},
        "trigger_id": new_trigger_id(),
        "team": {"id": team, "domain": "acme"},
        "channel": {"id": "C0TEST", "name": "incidents"},
        "response_url": w.peer.url + path,
        "actions": [{"type": "button", "block_id": "wk_actions", "action_id": action_id,
                     "value": value, "text": {"type": "plain_text", "text": "Join"},
                     "action_ts": "1700000005.123456"}],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    if secret:
        return w.post_signed(body, path="/slack/actions", secret=secret)
    return w.post_signed(body, path="/slack/actions")


@test("a Join button in the /oncall reply adds the clicker; the message is replaced")
def _(w):
    reply = w.oncall("", "U0ALICE")          # alice owns the org; the rotation is empty
    elements = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    check(elements and elements[0]["action_id"] == "oncall.join",
          "no oncall.join button in %r" % short(json.dumps(reply["blocks"])))
    w.add_member("U0BOB")                    # bob joins with an invite
    w.peer.clear()
    r = click(w, "oncall.join", user="U0BOB")
    check_eq(r.status, 200, "click acknowledgement status")
    got = w.peer.wait_for(1, timeout=5, path_prefix="/actions/")
    check(got, "nothing POSTed to the click's response_url")
    js = got[0]["json"]
    check_eq(js.get("replace_original"), True, "replace_original")
    check_re(r"joined rotation `main`", js.get("text", ""), "click reply")
    check_eq(w.rotation(), ["U0BOB"], "rotation after the click")


@test("a click with a bad signature is refused and changes nothing")
def _(w):
    w.oncall("", "U0ALICE")
    before = w.rotation()
    r = click(w, "oncall.join", user="U0BOB", secret="not-the-secret")
    check_eq(r.status, 401, "status")
    time.sleep(0.3)
    check_eq(len(w.peer.wait_for(1, timeout=0, path_prefix="/actions/")), 0, "posts to response_url")
    check_eq(w.rotation(), before, "rotation")


@test("an unknown action or junk payload answers clearly, never crashes")
def _(w):
    r = click(w, "oncall.selfdestruct", user="U0BOB")
    check_eq(r.status, 200, "unknown action acknowledged")
    got = w.peer.wait_for(1, timeout=5, path_prefix="/actions/")
    check(got and "no longer supported" in got[0]["json"].get("text", ""),
          "unknown action reply %r" % (got and got[0]["json"]))
    for body in ("payload=%7Bnot+json", "payload=%5B%5D", "nopayload=1",
                 "payload=" + urllib.parse.quote(json.dumps({"type": "block_actions", "actions": []}))):
        r = w.post_signed(body, path="/slack/actions")
        check_eq(r.status, 400, "junk payload %r" % body)
    check_eq(w.http("GET", "/healthz").status, 200, "daemon alive after junk")


@test("console: commands as a local user, buttons as numbered choices, Ctrl-D exits 0", world=False)
def _():
    redis = Redis().start()
    try:
        env = daemon_env(redis.url, "http://127.0.0.1:9/api", WK_SLACK_SIGNING_SECRET=None)

        def console(lines):
            p = subprocess.run([daemon_binary(), "-c", "config/watchkeeper.example.json", "--console"],
                               input="".join(l + "\n" for l in lines).encode(), env=env,
                               capture_output=True, timeout=30)
            out, err = p.stdout.decode(), p.stderr.decode()
            check_eq(p.returncode, 0, "exit status at end of input (stderr: %s)" % short(err, 600))
            for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                check(bad not in err, "sanitizer report: %s" % short(err, 800))
            return out

        out = console(["/oncall", "1", "/invite team-mode", "1", "/invite link"])
        check_re(r"Nobody is on call", out, "status with an empty rotation")
        check_re(r"\[1\] Join the rotation", out, "the button as a numbered choice")
        check_re(r"You joined rotation `main` at position 1", out, "choosing 1 clicks the button")
        check_re(r"\[1\] Switch to team mode", out, "team mode offered as a choice")
        check_re(r"now in \*team\* mode", out, "choosing 1 switches to team mode")
        codes = re.findall(r"/invite join ([a-z2-7]{32})", out)
        check(codes, "no invite code in the console output: %s" % short(out, 800))

        out = console(["/as bob", "/oncall", "/invite join " + codes[0], "/as you", "/oncall add @bob",
                       "/oncall li", "9", "/nosuch"])
        check_re(r"You are now @bob", out, "/as bob")
        check_re(r"not a member", out, "bob before joining")
        check_re(r"Welcome! You joined .* as \*developer\*", out, "bob joins with the code")
        check_re(r"Added @bob to rotation `main` at position 2", out, "/oncall add @bob")
        check_re(r"1\. @you.*\n2\. @bob", out, "list order")
        check_re(r"nothing to choose from|Choose a number", out, "a number with no button")
        check_re(r"don't know the command `/nosuch`", out, "unknown command")
        c = redis.client()
        rid = sorted(c("SMEMBERS", "wk:{console:local}:team_rotations:default"))[0]
        check_eq(json.loads(c("GET", "wk:{console:local}:rotation:" + rid))["versions"][-1]["members"], ["you", "bob"],
                 "the console org's rotation in Redis")
        check_eq(c.hgetall("wk:{console:local}:member:you").get("role"), "owner", "console user's role")
        check_eq(c.hgetall("wk:{console:local}:member:bob").get("role"), "developer", "bob's role")
        c.close()
    finally:
        redis.destroy()
