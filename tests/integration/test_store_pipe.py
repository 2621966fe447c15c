"""The loop thread's pipelined Redis connection (bot/store_pipe.h, issue 13): a bare `/oncall`
is answered on the HTTP loop thread, its one script sent over the loop's own connection
(named watchkeeper-loop in CLIENT LIST) instead of a worker's. Whenever that connection can't
serve (killed, Redis restarted, scripts flushed, Redis paused past the timeout) the request
still gets its right answer, exactly once, and the connection comes back."""

import json
import re
import socket
import time

from harness import TEAM, check, check_eq, check_re, own_world, slack_command, test, wait_until

ALICE = "U0ALICE"
K = "wk:{slack:%s}" % TEAM
PIPE = "watchkeeper-loop"


def pipe_client(w):
    """CLIENT LIST's fields of the loop's connection, or None."""
    for line in w.r("CLIENT", "LIST").splitlines():
        f = dict(x.split("=", 1) for x in line.split() if "=" in x)
        if f.get("name") == PIPE:
            return f
    return None


def on_loop(w):
    """watchkeeper_commands_on_loop_total from /metrics."""
    m = re.search(rb"^watchkeeper_commands_on_loop_total (\d+)$", w.http("GET", "/metrics").body, re.M)
    check(m, "no watchkeeper_commands_on_loop_total in /metrics")
    return int(m.group(1))


def on_call_now(w, who=ALICE):
    reply = w.oncall("")
    check_re(r"On call now:\* <@%s>" % who, reply["text"], "bare /oncall")
    return reply


def loop_ready(w):
    """Wait until bare /oncall is served on the loop again (the connection is back)."""
    def served():
        before = on_loop(w)
        on_call_now(w)
        return on_loop(w) == before + 1
    check(wait_until(served, 10), "bare /oncall not served on the loop again within 10 s")


@test("a bare /oncall is answered on the loop: its script goes over the loop's own named connection, "
      "no worker; a command that writes still runs on a worker, and its answer is the same")
def _(w):
    check_re(r"You joined", w.oncall("join")["text"], "/oncall join")
    check(wait_until(lambda: pipe_client(w), 5), "no Redis client named %s" % PIPE)
    before = on_loop(w)
    for _ in range(3):
        on_call_now(w)
    check_eq(on_loop(w), before + 3, "commands answered on the loop")
    check_eq(pipe_client(w)["cmd"], "evalsha", "the loop connection's last command")
    # A write needs the store after its org lookup: the touch goes through the loop, the
    # rest through a worker, and it runs once.
    before = on_loop(w)
    check_re(r"already in rotation", w.oncall("join")["text"], "/oncall join again")
    check_eq(on_loop(w), before, "commands answered on the loop (a join is not)")
    check_eq(w.rotation(), [ALICE], "the rotation after two joins")
    # Help and usage need no Redis at all: answered at once on the loop.
    before = on_loop(w)
    check_re(r"/oncall", w.oncall("help")["text"], "/oncall help")
    check_eq(on_loop(w), before + 1, "commands answered on the loop (help)")


@test("the loop's connection killed, then Redis's scripts flushed: every /oncall still answers right, "
      "and the loop serves again once it is back")
def _(w):
    w.oncall("join")
    loop_ready(w)
    check(wait_until(lambda: pipe_client(w), 5), "no %s connection" % PIPE)
    w.r("CLIENT", "KILL", "ID", pipe_client(w)["id"])
    for _ in range(3):
        on_call_now(w)
    loop_ready(w)
    # NOSCRIPT: the request runs on a worker (which sends the script's text); the loop
    # loads the script for the ones after it.
    w.r("SCRIPT", "FLUSH")
    on_call_now(w)
    loop_ready(w)
    check_eq(w.rotation(), [ALICE], "the rotation")


@test("Redis restarted under the loop's connection: /oncall answers right and the loop serves again",
      world=False)
def _():
    with own_world() as w:
        w.oncall("join")
        loop_ready(w)
        w.redis.drop_client()
        w.redis.stop()
        w.redis.start()   # empty: the org starts again with alice's first contact
        check(wait_until(lambda: w.http("GET", "/readyz").status == 200, 10), "/readyz after the restart")
        check_re(r"Nobody is on call", w.oncall("")["text"], "bare /oncall on the new Redis")
        check_re(r"You joined", w.oncall("join")["text"], "/oncall join on the new Redis")
        for _ in range(3):
            on_call_now(w)
        loop_ready(w)
        check_eq(w.rotation(), [ALICE], "the rotation after the restart")


@test("Redis paused past redis.timeout_ms with /oncall waiting on the loop: Slack gets its "
      "acknowledgement, and the answer at response_url says the outcome is unknown; then "
      "commands work again", world=False)
def _():
    with own_world(WK_REDIS_TIMEOUT_MS="1000") as w:
        w.oncall("join")
        loop_ready(w)
        w.peer.clear()
        w.r("CLIENT", "PAUSE", "3500", "ALL")
        t0 = time.monotonic()
        r = w.command("", ALICE, response_url=w.peer.url + "/commands/%s/paused" % TEAM)
        check_eq(r.status, 200, "status while Redis is paused")
        check(time.monotonic() - t0 < 3.0, "the answer took %.1f s (Slack's limit is 3 s)" % (time.monotonic() - t0))
        body = r.body.decode()
        if "database" not in body:
            # Acknowledged: the outcome follows at response_url.
            got = w.peer.wait_for(1, timeout=8, path_prefix="/commands/%s/paused" % TEAM)
            check(got, "nothing at response_url after the pause")
            body = got[0]["json"]["text"]
        check_re(r"database did not answer in time", body, "the answer about the paused Redis")
        check(wait_until(lambda: time.monotonic() - t0 > 3.6, 5), "the pause")
        on_call_now(w)
        loop_ready(w)


def burst(w, requests):
    """Send every (body, headers) at once, each on a connection of its own (all connected
    first, then written back to back from one thread, so the loop reads many in one turn);
    returns each one's (status, JSON body)."""
    socks = [socket.create_connection(("127.0.0.1", w.port), timeout=20) for _ in requests]
    for s, (body, headers) in zip(socks, requests):
        head = "".join("%s: %s\r\n" % kv for kv in headers.items())
        s.sendall(("POST /slack/commands HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n"
                   "Connection: close\r\n%s\r\n" % (len(body), head)).encode() + body)
    out = []
    for s in socks:
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split()[1]) if head else 0
        n = re.search(rb"(?i)content-length:\s*(\d+)", head)
        out.append((status, json.loads(body[:int(n.group(1))] if n else body) if status == 200 else body))
    return out


@test("pipelined answers go to their own requests: 120 bare /oncall at once from two workspaces, "
      "each answered with its own workspace's person on call, each recorded once")
def _(w):
    other, bob = "T0OTHER", "U0BOB"
    w.oncall("join")
    w.oncall("", bob, team=other)
    w.oncall("join", bob, team=other)
    loop_ready(w)

    def recorded(team):
        return sum(w.r("SCARD", k) - 1 for k in w.r("KEYS", "wk:{slack:%s}:replay:*" % team))
    was = {t: recorded(t) for t in (TEAM, other)}
    before = on_loop(w)
    who = [(TEAM, ALICE) if i % 2 else (other, bob) for i in range(120)]
    requests = []
    for team, user in who:
        body, headers = slack_command("", user_id=user, team_id=team,
                                      response_url=w.peer.url + "/commands/%s/1/abc" % team)
        requests.append((body if isinstance(body, bytes) else body.encode(), headers))
    for i, ((team, user), (status, reply)) in enumerate(zip(who, burst(w, requests))):
        check_eq(status, 200, "request %d's status" % i)
        check_re(r"On call now:\* <@%s>" % user, reply["text"], "request %d's answer (%s's workspace)" % (i, user))
    check(on_loop(w) - before >= 100, "only %d of 120 answered on the loop" % (on_loop(w) - before))
    for team in (TEAM, other):
        check_eq(recorded(team) - was[team], 60, "%s: replay records made by its 60 deliveries" % team)
