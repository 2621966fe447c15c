"""The console and `make run`: where people first try the product (issue 10, items 8, 9, 20).

The console shows what each person would receive instead of pretending to send it, and a
second `make run` stops before it can touch the first one's Redis; the data of `make run`
outlives a restart.
"""

import fcntl
import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time

from harness import (CONFIG, ROOT, Redis, check, check_eq, check_re, daemon_binary, daemon_env,
                     free_port, short, test)

SANITIZER = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


def console_env(redis):
    env = daemon_env(redis.url, "http://127.0.0.1:9/api", WK_SLACK_SIGNING_SECRET=None,
                     WK_SLACK_BOT_TOKEN=None)
    for k in ("WK_TWILIO_ACCOUNT_SID", "WK_TWILIO_AUTH_TOKEN", "WK_SMTP_URL"):
        env.pop(k, None)
    return env


class Console:
    """The daemon with --console on pipes: type a line, read until a pattern shows."""

    def __init__(self, env, args=None):
        self.p = subprocess.Popen(args or [daemon_binary(), "-c", CONFIG, "--console"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, cwd=ROOT)
        fcntl.fcntl(self.p.stdout, fcntl.F_SETFL, os.O_NONBLOCK)
        self.out = ""

    def type(self, line):
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()

    def wait_for(self, pattern, timeout=10.0):
        """Everything printed so far once pattern shows in it; fails after timeout."""
        deadline = time.time() + timeout
        while not re.search(pattern, self.out):
            left = deadline - time.time()
            check(left > 0, "the console never printed %r; it printed: %s" % (pattern, short(self.out, 1500)))
            ready, _, _ = select.select([self.p.stdout], [], [], min(left, 0.2))
            if ready:
                chunk = self.p.stdout.read()
                if chunk:
                    self.out += chunk.decode()
        return self.out

    def quit(self, timeout=20.0):
        self.p.stdin.close()
        rc = self.p.wait(timeout)
        err = self.p.stderr.read().decode()
        rest = self.p.stdout.read()
        self.out += rest.decode() if rest else ""
        for bad in SANITIZER:
            check(bad not in err, "sanitizer report: %s" % short(err, 800))
        return rc, err

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


@test("console: `me test` shows the SMS and email it would send, says they are not configured here, "
      "records `shown`", world=False)
def _():
    redis = Redis().start()
    con = Console(console_env(redis))
    try:
        con.type("/oncall join")
        con.type("/oncall me phone +15555550123")
        con.type("/oncall me email you@example.com")
        con.type("/oncall me test")
        out = con.wait_for(r"Showing a test page")
        check(not re.search(r"no way to reach you", out), "me test said there is no way to reach: %s" % short(out, 800))
        check_re(r"\(would send by SMS to \+15555550123:\)\nThis is a test page", con.wait_for(r"by SMS"),
                 "the SMS shown")
        check_re(r"\(would send by email to you@example.com:\)\nThis is a test page", con.wait_for(r"by email"),
                 "the email shown")
        out = con.wait_for(r"sms: .*\n(.*\n)*.*email: ")
        check_re(r"sms: not configured here; shown in the console", out, "the results of me test")
        check_re(r"email: not configured here; shown in the console", out, "the results of me test")
        c = redis.client()
        statuses = {c("HGET", k, "channel"): c("HGET", k, "status")
                    for k in c("KEYS", "wk:{console:local}:notification:*") if not k.endswith(":events")}
        check_eq(statuses.get("sms"), "shown", "the SMS record's status (nothing was sent)")
        check_eq(statuses.get("email"), "shown", "the email record's status")
        c.close()
        rc, err = con.quit()
        check_eq(rc, 0, "exit status (stderr %s)" % short(err, 600))
    finally:
        con.kill()
        redis.destroy()


@test("console: a page shows as the chat message its person would get; yours brings an Acknowledge choice",
      world=False)
def _():
    redis = Redis().start()
    con = Console(console_env(redis))
    try:
        con.type("/oncall join")
        con.type("/oncall page @you the disk is full")
        out = con.wait_for(r"\(would send by chat to @you:\)\n.*the disk is full\n\s*\[1\] Acknowledge")
        con.type("1")
        out = con.wait_for(r"You acknowledged page")
        # Another person's message is shown too, marked with whom it is for.
        con.type("/oncall page @bob hello bob")
        out = con.wait_for(r"not a member|\(would send by chat to @bob:\)")
        con.type("3")
        out = con.wait_for(r"nothing to choose from|Choose a number from")
        rc, err = con.quit()
        check_eq(rc, 0, "exit status (stderr %s)" % short(err, 600))
    finally:
        con.kill()
        redis.destroy()


@test("console: the welcome comes before the first answer; a number after a reply without choices "
      "explains itself; `announce off` works here", world=False)
def _():
    redis = Redis().start()
    con = Console(console_env(redis))
    try:
        con.type("/oncall me")
        out = con.wait_for(r"Your profile")
        lines = [l for l in out.splitlines() if l.strip()]
        check(len(lines) >= 3 and lines[1].startswith("Welcome to Watchkeeper") and
              lines[2].startswith("Your profile"),
              "the welcome is not the first thing after the banner: %s" % short(out, 600))
        con.type("1")
        check_re(r"The last reply had nothing to choose from\. Type a command",
                 con.wait_for(r"nothing to choose"), "a number without choices")
        con.type("/oncall announce off")
        out = con.wait_for(r"no longer announced|Slack")
        check_re(r"Handoffs are no longer announced", out, "announce off in the console")
        con.type("/oncall announce here")
        check_re(r"`/oncall announce off` works anywhere", con.wait_for(r"works anywhere"),
                 "announce here in the console says where it works")
        rc, err = con.quit()
        check_eq(rc, 0, "exit status")
    finally:
        con.kill()
        redis.destroy()


@test("console: a daemon that cannot listen exits 1 without opening a console", world=False)
def _():
    redis = Redis().start()
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    env = console_env(redis)
    env["WK_LISTEN"] = "127.0.0.1:%d" % holder.getsockname()[1]
    try:
        p = subprocess.run([daemon_binary(), "-c", CONFIG, "--console"], input=b"/oncall join\n", env=env,
                           capture_output=True, timeout=20)
        check_eq(p.returncode, 1, "exit status with the port taken")
        check(b"Watchkeeper console" not in p.stdout and b"joined" not in p.stdout,
              "the console opened anyway: %s" % short(p.stdout.decode(), 400))
        check_re(r"cannot listen", p.stderr.decode(), "stderr names the problem")
        check_eq(redis.client()("KEYS", "wk:{console:*"), [], "no org written by a daemon that could not start")
    finally:
        holder.close()
        redis.destroy()


def run_env(rundir, port):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("WK_"):
            del env[k]
    env.update({"WK_BINARY": daemon_binary(), "WK_RUN_DIR": rundir, "WK_LISTEN": "127.0.0.1:%d" % port})
    return env


@test("make run: a second one stops at once and leaves the first working; the data survives a restart",
      world=False)
def _():
    rundir = tempfile.mkdtemp(prefix="wkrun", dir="/tmp")
    port = free_port()
    first = Console(run_env(rundir, port), args=[os.path.join(ROOT, "scripts", "run.sh")])
    try:
        first.type("/oncall join")
        first.wait_for(r"You joined (the )?rotation")
        second = subprocess.run([os.path.join(ROOT, "scripts", "run.sh")], input=b"/oncall leave\n",
                                env=run_env(rundir, free_port()), capture_output=True, timeout=30)
        check_eq(second.returncode, 1, "the second make run's exit status")
        check_re(r"another `make run` is already running", second.stderr.decode(), "what the second one says")
        check(b"Watchkeeper console" not in second.stdout, "the second one opened a console")
        first.type("/oncall")
        out = first.wait_for(r"(?i)on call now:\W*@you|database")
        check(not re.search(r"[Dd]atabase", out), "the first one lost its Redis: %s" % short(out, 800))
        rc, err = first.quit()
        check_eq(rc, 0, "first run's exit status (stderr %s)" % short(err, 600))
        check_re(r"kept in", err, "make run says where the data is kept")

        again = Console(run_env(rundir, free_port()), args=[os.path.join(ROOT, "scripts", "run.sh")])
        try:
            again.type("/oncall list")
            out = again.wait_for(r"1\. @you|Nobody|no rotation")
            check_re(r"1\. @you", out, "the rotation joined in the first run")
            rc, err = again.quit()
            check_eq(rc, 0, "exit status")
            check_re(r"carrying on with the data kept in", err, "the restart says it kept the data")
        finally:
            again.kill()
    finally:
        first.kill()
        subprocess.run([os.path.join(ROOT, "scripts", "redis.sh"), "stop", rundir], timeout=20)
        shutil.rmtree(rundir, ignore_errors=True)
