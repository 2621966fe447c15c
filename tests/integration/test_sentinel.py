"""Issue 16, Redis Sentinel: the daemon with a redis+sentinel:// URL against one primary, one
replica and three sentinels (real processes on loopback, tests/integration/sentinel.py).

Pages go out one after another (each to a person of its own) while the primary changes: a
reply with a page number is a page the user was told about, "nothing was changed" is retried
(it must have changed nothing), "may or may not have been applied" is counted as unknown and
not retried. Afterwards every person told "paged" has exactly one DM and every person never
paged has none. The times printed are from the failover's start (SENTINEL FAILOVER sent, or
the kill -9) to the first page that worked after the outage."""

import contextlib
import re
import threading
import time

import harness
import sentinel
import test_handoff as th
from fakes import FakeSlack
from harness import check, check_eq, test

ALICE = "U0ALICE"
K = "wk:{%s}" % harness.ORG
SET = {}  # "s": the module's SentinelSet, started by the first test, destroyed by the last


def sentinels():
    if "s" not in SET:
        SET["s"] = sentinel.SentinelSet().start()
    return SET["s"]


class SentinelWorld(harness.World):
    """harness.World's helpers over a daemon whose Redis is the sentinel set: w.r runs on the
    current primary."""

    def __init__(self, s, **env):  # pylint: disable=super-init-not-called
        self.redis = s
        self.peer = harness.FakePeer()
        self.env = harness.daemon_env(s.url(), self.peer.url + "/api", **env)
        self.daemon = harness.Daemon(self.env)
        self.daemon.start()
        self.port = self.daemon.port
        armed = harness.wait_until(lambda: s.r("EXISTS", harness.BACKGROUND_TIMER_KEYS[0]), 15.0)
        check(armed, "the engine did not arm its sweep timer through the sentinels")


@contextlib.contextmanager
def sentinel_world(**env):
    s = sentinels()
    check(s.healthy(40), "the sentinel set is not healthy: %s" % s.describe())
    s.r("FLUSHALL")
    w = SentinelWorld(s, **env)
    try:
        yield w
    except BaseException as e:
        tail = w.daemon.stderr_tail(20)
        try:
            w.daemon.stop()
        except harness.TestFailure as e2:
            raise harness.TestFailure("%s\nalso at shutdown: %s" % (e, e2)) from e
        finally:
            w.peer.close()
        raise harness.TestFailure("%s\ndaemon stderr tail:\n%s" % (e, tail)) from e
    try:
        w.daemon.stop()     # exit 0, no sanitizer report
    finally:
        w.peer.close()


def page(w, user, text):
    """One page: 'ok', 'retry' (nothing was changed), 'unknown' or what else came back."""
    path = "/commands/%s/%d" % (harness.TEAM, int(time.monotonic() * 1e6))
    body, headers = harness.slack_command("page <@%s> %s" % (user, text), user_id=ALICE,
                                          response_url=w.peer.url + path)
    try:
        r = harness.http_request(w.port, "POST", "/slack/commands", body, headers, timeout=10)
    except OSError as e:
        return "http error %s" % e
    text = r.text if r.status == 200 else ""
    if r.status == 200 and not re.search(r"\(#\d+\)|nothing was changed|may or may not", text):
        got = w.peer.wait_for(1, timeout=10, path_prefix=path)    # acknowledged: the answer follows
        text = (got[0]["json"] or {}).get("text", "") if got else ""
    if re.search(r"\(#\d+\)", text):
        return "ok"
    if "nothing was changed" in text:
        return "retry"
    if "may or may not" in text:
        return "unknown"
    return "status %d: %r" % (r.status, text[:200])


class Pager(threading.Thread):
    """Pages each user once, one after another, retrying "nothing was changed"."""

    def __init__(self, w, users, text, gap=0.2):
        super().__init__(daemon=True)
        self.w, self.users, self.text, self.gap = w, users, text, gap
        self.outcome = {}       # user -> ok / unknown / given up
        self.attempts = []      # (start, end, result)
        self.started_pages = threading.Event()

    def run(self):
        for i, u in enumerate(self.users):
            if i == 3:
                self.started_pages.set()
            deadline = time.monotonic() + 30
            while True:
                t = time.monotonic()
                res = page(self.w, u, self.text)
                self.attempts.append((t, time.monotonic(), res))
                if res != "retry" or time.monotonic() > deadline:
                    self.outcome[u] = res
                    break
                time.sleep(0.1)
            time.sleep(self.gap)
        self.started_pages.set()

    def back_after(self, t0):
        """Seconds from t0 to the first page that worked after the last failure since t0, and
        how many attempts failed meanwhile."""
        bad = [a for a in self.attempts if a[1] >= t0 and a[2] != "ok"]
        if not bad:
            ok = [a for a in self.attempts if a[0] >= t0 and a[2] == "ok"]
            return (ok[0][1] - t0 if ok else None), 0
        last_bad = bad[-1][1]
        ok = [a for a in self.attempts if a[0] >= last_bad and a[2] == "ok"]
        return (ok[0][1] - t0 if ok else None), len(bad)


class Readyz(threading.Thread):
    """GET /readyz every 100 ms: (time, status)."""

    def __init__(self, w):
        super().__init__(daemon=True)
        self.w, self.seen, self.stop = w, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                st = self.w.http("GET", "/readyz", timeout=2).status
            except OSError:
                st = 0
            self.seen.append((time.monotonic(), st))
            time.sleep(0.1)

    def summary(self, t0):
        after = [(t - t0, st) for t, st in self.seen if t >= t0]
        down = [t for t, st in after if st != 200]
        up_again = [t for t, st in after if st == 200 and down and t > down[0]]
        return down, up_again


def add_people(w, prefix, n):
    users = ["U0%s%02d" % (prefix, i) for i in range(n)]
    for u in users:
        w.add_member(u)
    return users


def delivered(w, fs, pager, users, timeout, strict, t0):
    """Each person told 'paged' gets one DM; unknown ones 0 or 1; the rest none. strict: check,
    else only print what went wrong. Returns (lost, doubled)."""
    ok = [u for u in users if pager.outcome.get(u) == "ok"]
    harness.wait_until(lambda: all(fs.posted("D" + u) >= 1 for u in ok), timeout, 0.1)
    print("# every page told 'paged' was delivered %.2f s after the failover began (the last page "
          "was answered at %.2f s)" % (time.monotonic() - t0, pager.attempts[-1][1] - t0), flush=True)
    time.sleep(2)   # a second DM would be on its way by now
    counts = {u: fs.posted("D" + u) for u in users}
    lost = [u for u in ok if counts[u] == 0]
    doubled = [u for u in users if counts[u] > 1]
    stray = [u for u in users if pager.outcome.get(u) not in ("ok", "unknown") and counts[u]]
    unknown = [u for u in users if pager.outcome.get(u) == "unknown"]
    print("# %d pages told 'paged', %d unknown (%d of them delivered), lost %r, doubled %r"
          % (len(ok), len(unknown), sum(1 for u in unknown if counts[u]), lost, doubled), flush=True)
    if strict:
        check(not lost, "pages the user was told about but never delivered: %r (outcomes %r)"
              % (lost, pager.outcome))
        check(not doubled, "pages delivered more than once: %r" % {u: counts[u] for u in doubled})
        check(not stray, "pages refused as 'nothing was changed' were delivered: %r" % stray)
        given_up = [u for u in users if pager.outcome.get(u) not in ("ok", "unknown")]
        check(not given_up, "pages that never worked: %r" % {u: pager.outcome.get(u) for u in given_up})
    return lost, doubled


@test("sentinel: a bad redis+sentinel:// URL or a password set twice is refused at start with a sentence naming the key", world=False)
def _():
    env = harness.daemon_env("redis://127.0.0.1:1/0", "http://127.0.0.1:1/api")
    bad = ["redis+sentinel://h1:26379,h2:26379", "redis+sentinel://h1:0/mymaster",
           "redis+sentinel://h1,,h2/mymaster", "redis+sentinel://:pw@h1/my master",
           "redis+sentinel://h1/mymaster/x"]
    for url in bad:
        env["WK_REDIS_URL"] = url
        rc, out, err = harness.run_cli(["--check-config"], env)
        check_eq(rc, 2, "exit status for %s" % url)
        check("WK_REDIS_URL" in err and "Sentinel URL" in err, "no sentence naming the key for %s: %r"
              % (url, err))
        check("pw" not in err, "the sentinel password is repeated: %r" % err)
    env["WK_REDIS_URL"] = "redis+sentinel://:sp@h1:26379,h2/mymaster/0"
    env["WK_REDIS_SENTINEL_PASSWORD"] = "other"
    rc, _, err = harness.run_cli(["--check-config"], env)
    check_eq(rc, 2, "sentinel password twice")
    check("WK_REDIS_SENTINEL_PASSWORD" in err, "sentence: %r" % err)
    del env["WK_REDIS_SENTINEL_PASSWORD"]
    env["WK_REDIS_PASSWORD"] = "data"
    env["WK_REDIS_WAIT_REPLICAS"] = "1"
    rc, out, err = harness.run_cli(["--check-config"], env)
    check_eq(rc, 0, "a good sentinel URL: %r" % err)
    check("data" not in out and "sp@" not in out, "a password shown by --check-config: %r" % out)


@test("sentinel: SENTINEL FAILOVER during pages and a handoff: commands get 'try again' for a moment, nothing lost or doubled; /readyz", world=False)
def _():
    s = sentinels()
    with sentinel_world() as w:
        fs = FakeSlack(w.peer)
        w.team_mode(ALICE)
        rot = th.build_team(w)
        users = add_people(w, "FO", 16)
        # The rotation armed its next handoff (the next full hour); the test moves the
        # daemon's clock so it falls due just after the failover begins.
        payload = s.r("HGET", th.K_TIMER + th.HANDOFF_ID, "payload")
        check(payload, "no handoff armed by the rotation")
        boundary = int(payload.split()[1])
        old = s.primary()
        ready = Readyz(w)
        ready.start()
        pager = Pager(w, users, "planned failover")
        pager.start()
        check(pager.started_pages.wait(20), "the first pages did not go out")
        # The handoff falls due 1 s after the failover begins.
        harness.set_clock_offset(w, th.offset_for(boundary, 1.0))
        t0 = time.monotonic()
        check_eq(sentinel.ask(s.sentinel_ports[0], "SENTINEL", "FAILOVER", sentinel.NAME), "OK", "SENTINEL FAILOVER")
        switched = harness.wait_until(lambda: s.primary() not in (None, old), 20, 0.02)
        t_switch = time.monotonic() - t0
        check(switched, "the sentinels did not switch: %s" % s.describe())
        pager.join(90)
        ready.stop.set()
        ready.join()
        back, failed = pager.back_after(t0)
        print("# SENTINEL FAILOVER: sentinels switched after %.2f s; pages worked again %s s after "
              "the failover began (%d attempts refused with 'try again' meanwhile)"
              % (t_switch, "%.2f" % back if back is not None else "never", failed), flush=True)
        check(back is not None, "pages never worked again: %r" % pager.attempts[-5:])
        down, up = ready.summary(t0)
        print("# /readyz: %d non-200 answers from %.2f s to %.2f s after the failover began, 200 again at %s"
              % (len(down), down[0] if down else 0, down[-1] if down else 0,
                 "%.2f s" % up[0] if up else "never"), flush=True)
        check(ready.seen and ready.seen[-1][1] == 200, "/readyz at the end: %r" % ready.seen[-3:])
        check(not [a for a in pager.attempts if a[2] not in ("ok", "retry")],
              "a page got neither a page number nor 'nothing was changed': %r"
              % [a for a in pager.attempts if a[2] not in ("ok", "retry")])
        delivered(w, fs, pager, users, 30, strict=True, t0=t0)
        th.check_handoff_dms(w, rot, boundary)
        log = w.daemon.stderr_text()
        check("store.sentinel_switch" in log, "the daemon never logged the switch")
        check("store.sentinel_failover" in log, "the daemon never saw the failover begin (the fence)")
        # Help the old primary become a replica now instead of in ~10 s (the sentinels would).
        new = s.primary()
        sentinel.ask(old[1], "REPLICAOF", new[0], str(new[1]))


def oncall_text(port):
    body, headers = harness.slack_command("", user_id=ALICE)
    r = harness.http_request(port, "POST", "/slack/commands", body, headers, timeout=10)
    check_eq(r.status, 200, "/oncall status")
    return r.text


@test("sentinel: passwords: the sentinels' in the URL, Redis's in WK_REDIS_PASSWORD; a wrong one is 'nothing was changed' and /readyz 503", world=False)
def _():
    s = sentinel.SentinelSet(password="data-pw", sentinel_password="sentinel-pw").start()
    peer = harness.FakePeer()
    try:
        for data_pw, works in (("data-pw", True), ("wrong-pw", False)):
            env = harness.daemon_env(s.url(password="sentinel-pw"), peer.url + "/api",
                                     WK_REDIS_PASSWORD=data_pw)
            d = harness.Daemon(env).start()
            try:
                ready = harness.wait_until(
                    lambda: harness.http_request(d.port, "GET", "/readyz").status == 200, 15 if works else 2)
                check_eq(ready, works, "/readyz 200 with the %s password" % data_pw)
                text = oncall_text(d.port)
                if works:
                    check("nothing was changed" not in text and "may or may not" not in text,
                          "/oncall through the sentinels: %r" % text[:200])
                    check_eq(s.r("EXISTS", "%s:org" % K), 1, "the org written through the sentinels")
                else:
                    check("nothing was changed" in text, "/oncall with a wrong password: %r" % text[:200])
                log = d.stderr_text()
                check("data-pw" not in log and "sentinel-pw" not in log, "a password in the log")
            finally:
                d.stop()
    finally:
        peer.close()
        s.destroy()


def kill_round(wait_replicas, strict):
    s = sentinels()
    with sentinel_world(WK_REDIS_WAIT_REPLICAS=wait_replicas) as w:
        fs = FakeSlack(w.peer)
        w.team_mode(ALICE)
        users = add_people(w, "KW%d" % wait_replicas, 16)
        # The setup must be on the replica before the kill, or the promoted replica starts
        # without the org: a write of the test's own, then WAIT until a replica has it (and so
        # everything written before it). A fixed pause was not always enough under load.
        s.r("SET", "test:setup_replicated", "1")
        check(int(s.r("WAIT", 1, 10000)) >= 1, "no replica took the setup within 10 s: %s" % s.describe())
        s.r("DEL", "test:setup_replicated")
        old = s.primary()
        ready = Readyz(w)
        ready.start()
        pager = Pager(w, users, "kill -9 of the primary")
        pager.start()
        check(pager.started_pages.wait(20), "the first pages did not go out")
        t0 = time.monotonic()
        killed = s.kill_primary()
        switched = harness.wait_until(lambda: s.primary() not in (None, old), 30, 0.05)
        t_switch = time.monotonic() - t0
        check(switched, "the sentinels did not promote the replica: %s" % s.describe())
        s.restart_as_replica(killed)    # as an operator would; WAIT needs a replica again
        pager.join(90)
        ready.stop.set()
        ready.join()
        back, failed = pager.back_after(t0)
        outcomes = {}
        for a in pager.attempts:
            if a[1] >= t0:
                outcomes[a[2]] = outcomes.get(a[2], 0) + 1
        print("# kill -9 (wait_replicas=%d): replica promoted after %.2f s; pages worked again %s s "
              "after the kill; answers since the kill: %r"
              % (wait_replicas, t_switch, "%.2f" % back if back is not None else "never", outcomes), flush=True)
        check(back is not None, "pages never worked again: %r" % pager.attempts[-5:])
        down, up = ready.summary(t0)
        print("# /readyz: non-200 from %.2f s to %.2f s after the kill, 200 again at %s"
              % (down[0] if down else 0, down[-1] if down else 0, "%.2f s" % up[0] if up else "never"),
              flush=True)
        check(down and up, "/readyz did not go 503 then 200 around the kill: %r"
              % [(round(t - t0, 2), st) for t, st in ready.seen if t >= t0][:60])
        lost, doubled = delivered(w, fs, pager, users, 40, strict, t0)
        log = w.daemon.stderr_text()
        print("# claims held back until a replica had them (WAIT): %d notification, %d timer"
              % (log.count("outbox.claim_unreplicated"), log.count("engine.claim_unreplicated")), flush=True)
        return lost, doubled


@test("sentinel: kill -9 of the primary with redis.wait_replicas=1: the replica is promoted, commands work again, nothing lost or doubled; /readyz 503 then 200", world=False)
def _():
    kill_round(1, strict=True)


@test("sentinel: kill -9 of the primary without wait_replicas: commands work again; duplicates or losses are reported, not asserted", world=False)
def _():
    try:
        kill_round(0, strict=False)
    finally:
        s = SET.pop("s", None)
        if s:
            s.destroy()
