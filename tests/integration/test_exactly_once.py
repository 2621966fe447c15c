"""Issue 9: a page reaches a person exactly once through SIGTERM, kill -9 and a dead
instance. The fake Slack posts a message the moment the request arrives (as Slack does), so a
daemon that dies or is cut off mid-post leaves a message whose outcome it does not know; it
must look (conversations.history with message metadata) instead of posting again."""

import re
import signal
import time

import harness
from harness import ORG, check, check_eq, own_world, test
from fakes import FakeSlack

ALICE = "U0ALICE"
K = "wk:{%s}" % ORG


def note_keys(w):
    return [k for k in w.r("KEYS", K + ":notification:n*") if not k.endswith(":events")]


def notes_for(w, users):
    want = set(users)
    return [h for h in (w.r.hgetall(k) for k in note_keys(w)) if h.get("member") in want]


def page(w, target, text, port=None):
    body, headers = harness.slack_command("page <@%s> %s" % (target, text), user_id=ALICE)
    r = harness.http_request(port or w.port, "POST", "/slack/commands", body, headers, timeout=8)
    check_eq(r.status, 200, "page %s" % target)
    check(re.search(r"\(#\d+\)", r.text), "no page number in %r" % r.text[:200])


def add_people(w, prefix, n):
    users = ["U0%s%02d" % (prefix, i) for i in range(n)]
    for u in users:
        w.add_member(u)
    return users


def all_sent(w, users, timeout):
    """Wait until each user has exactly one notification and all are sent."""
    ok = harness.wait_until(lambda: (lambda ns: len(ns) == len(users) and
                                     all(h["status"] == "sent" for h in ns))(notes_for(w, users)),
                            timeout, 0.1)
    ns = notes_for(w, users)
    check(ok, "not all sent: %r" % sorted((h["member"], h["status"], h.get("attempts")) for h in ns))


def check_once(fs, users, what):
    counts = {u: fs.posted("D" + u) for u in users}
    bad = {u: c for u, c in counts.items() if c != 1}
    check(not bad, "%s: DMs per person not exactly 1: %r" % (what, bad))


def page_round(w, prefix, n, text, post_delay):
    """n new people, a fake Slack answering posts after post_delay, and one page each."""
    users = add_people(w, prefix, n)
    w.peer.clear()
    fs = FakeSlack(w.peer, post_delay=post_delay)
    for u in users:
        page(w, u, text)
    return users, fs


def wait_posted(fs, n, timeout):
    return harness.wait_until(lambda: sum(fs.counts().values()) >= n, timeout, 0.02)


@test("SIGTERM right after 20 pages are queued: in-flight posts finish, the rest go out after the restart, each person exactly once (3 rounds)", world=False)
def _():
    with own_world() as w:
        w.team_mode(ALICE)
        for rnd in range(3):
            users, fs = page_round(w, "ST%d" % rnd, 20, "round %d" % rnd, 0.3)
            t0 = time.monotonic()
            w.daemon.stop()                 # SIGTERM; exit 0 and a clean sanitizer report
            stopped = time.monotonic() - t0
            check(stopped < 8, "the drain took %.1f s (drain_ms 10 s, posts take 0.3 s)" % stopped)
            before = sum(fs.counts().values())
            w.daemon.start()
            all_sent(w, users, 30)
            check_once(fs, users, "round %d (%d posted before the restart)" % (rnd, before))
            check_eq(fs.history_calls, 0, "history reads (a clean drain leaves no unknown outcome)")


@test("kill -9 after 8 of 30 DMs (Slack answers in 300 ms): after the restart each person got exactly one (2 rounds)", world=False)
def _():
    with own_world() as w:
        w.team_mode(ALICE)
        for rnd in range(2):
            users, fs = page_round(w, "KL%d" % rnd, 30, "round %d" % rnd, 0.3)
            check(wait_posted(fs, 8, 20), "fewer than 8 posts: %r" % fs.counts())
            w.daemon.proc.kill()
            w.daemon.proc.wait()
            before = sum(fs.counts().values())
            w.daemon.kill()
            w.daemon.start()
            all_sent(w, users, 40)
            check_once(fs, users, "round %d (%d posted before the kill)" % (rnd, before))
            h = [x for x in notes_for(w, users) if x.get("error", "").startswith("found at the provider")]
            check(h or fs.history_calls == 0, "history was read but nothing was found: %d reads"
                  % fs.history_calls)


@test("three instances, one killed mid-send: the others take its sends over within seconds, each person exactly once", world=False)
def _():
    with own_world() as w:
        w.team_mode(ALICE)
        others = []
        try:
            for _ in range(2):
                others.append(w.another_daemon())
            users, fs = page_round(w, "TI", 24, "three instances", 1.0)
            victim = others[0]
            pid = str(victim.proc.pid)

            def victim_sending():
                for k in note_keys(w):
                    h = w.r.hgetall(k)
                    if h.get("status") == "sending" and (":%s:" % pid) in h.get("owner", ""):
                        return k
                return None
            held = harness.wait_until(victim_sending, 15, 0.02) and victim_sending()
            check(held, "the victim never held a send")
            victim.proc.kill()
            victim.proc.wait()
            t_kill = time.monotonic()
            ok = harness.wait_until(lambda: w.r("HGET", held, "status") == "sent", 20, 0.05)
            took = time.monotonic() - t_kill
            check(ok, "its send was not taken over: %r" % w.r.hgetall(held))
            print("# takeover: %s sent %.2f s after kill -9 of its holder (lease 3 s, post 1 s)"
                  % (held.rsplit(":", 1)[-1], took))
            check(took < 10, "takeover took %.1f s" % took)
            all_sent(w, users, 40)
            check_once(fs, users, "three instances")
        finally:
            for d in others:
                if d.alive():
                    d.stop()
                else:
                    d.kill()


@test("verification unavailable longer than notify.verify_max_wait_s: the page is sent anyway and counted as unverified", world=False)
def _():
    with own_world(WK_NOTIFY_VERIFY_MAX_WAIT_S=2) as w:
        w.team_mode(ALICE)
        users = add_people(w, "VF", 1)
        w.peer.clear()
        fs = FakeSlack(w.peer, post_delay=3.0)
        fs.history_fail = "429"
        page(w, users[0], "cannot check")
        check(wait_posted(fs, 1, 10), "no post")
        w.daemon.proc.kill()                # mid-post: the outcome is unknown
        w.daemon.proc.wait()
        w.daemon.kill()
        w.peer.clear()
        fs2 = FakeSlack(w.peer, post_delay=0)
        fs2.messages = fs.messages          # the same Slack, answering fast now
        fs2.history_fail = "429"
        w.daemon.start()
        all_sent(w, users, 30)
        check(fs2.history_calls >= 1, "history was never asked")
        check_eq(fs2.posted("D" + users[0]), 2, "posts (the check never worked: a duplicate beats a loss)")
        m = w.http("GET", "/metrics").text
        check(re.search(r"(?m)^watchkeeper_notify_unverified_total 1$", m),
              "unverified counter: %r" % re.findall(r"(?m)^watchkeeper_notify_unverified.*$", m))


@test("SIGTERM while a post takes 2 s: /readyz answers 503 during the drain, the post is recorded sent, nothing is sent twice", world=False)
def _():
    with own_world() as w:
        w.team_mode(ALICE)
        users = add_people(w, "DR", 1)
        w.peer.clear()
        fs = FakeSlack(w.peer, post_delay=2.0)
        page(w, users[0], "slow slack")
        check(wait_posted(fs, 1, 10), "no post started")
        w.daemon.signal(signal.SIGTERM)
        time.sleep(0.3)
        try:
            r = w.http("GET", "/readyz", timeout=2)
            status = r.status
        except OSError as e:
            status = "no answer (%s)" % e
        check_eq(status, 503, "/readyz during the drain")
        w.daemon.stop()
        h = notes_for(w, users)
        check_eq([x["status"] for x in h], ["sent"], "the record after the drain")
        check_eq(fs.posted("D" + users[0]), 1, "posts")
        w.daemon.start()
        time.sleep(1.5)
        check_eq(fs.posted("D" + users[0]), 1, "posts after the restart")


@test("kill -9 while Twilio holds an SMS request: after the restart Twilio's list shows it was created; each person texted exactly once (2 rounds)", world=False)
def _():
    from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio
    tw = FakeTwilio()
    try:
        with own_world(WK_TWILIO_ACCOUNT_SID=ACCOUNT_SID, WK_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                       WK_TWILIO_FROM=FROM, WK_TWILIO_API_URL=tw.url, WK_NOTIFY_SMS_MIN_GAP_S=0) as w:
            w.team_mode(ALICE)
            for rnd in range(2):
                users = add_people(w, "SM%d" % rnd, 6)
                phones = {u: "+1555555%02d%02d" % (rnd, i) for i, u in enumerate(users)}
                for u in users:
                    w.oncall("me phone " + phones[u], u)
                    w.oncall("me notify sms now", u)
                tw.hang_s = 3.0
                for _ in users:
                    tw.fail_next("hang")    # each is created at once, answered after 3 s
                for u in users:
                    page(w, u, "sms round %d" % rnd)
                check(harness.wait_until(lambda: sum(tw.count_to(p) for p in phones.values()) >= 2, 10, 0.02),
                      "no SMS reached Twilio")
                w.daemon.proc.kill()
                w.daemon.proc.wait()
                w.daemon.kill()
                w.daemon.start()
                all_sent(w, users, 40)
                counts = {u: tw.count_to(p) for u, p in phones.items()}
                check(all(c == 1 for c in counts.values()), "round %d: SMS per person %r" % (rnd, counts))
    finally:
        tw.close()


@test("a dead instance's claimed timers are taken over by another within seconds (3 s leases, renewed while held)", world=False)
def _():
    with own_world() as w:
        other = w.another_daemon()
        try:
            other.signal(signal.SIGSTOP)        # only the victim claims for now
            victim_pid = ":%d:" % w.daemon.proc.pid
            held = []
            due = int(time.time() * 1000) + 300
            for i in range(400):                # notify_retry timers for notifications that are gone
                tid = "notify:%s:x%d" % (ORG, i)
                w.r("HSET", "wk:{timers}:t:" + tid, "kind", "notify_retry", "org", ORG, "payload",
                    "x%d" % i, "due_ms", str(due), "attempts", "0", "fence", "0")
                w.r("ZADD", "wk:{timers}", str(due), tid)
            harness.wake_engines(w)             # written behind the engines' back

            def victim_holds():
                ids = w.r("ZRANGE", "wk:{timers}:leased", "0", "-1")
                return [t for t in ids if victim_pid in (w.r("HGET", "wk:{timers}:t:" + t, "lease_owner") or "")]
            # Freeze the victim while it holds leases, so the kill finds some held: between
            # seeing a lease and a kill it may otherwise finish its last batch.
            for _ in range(20):
                check(harness.wait_until(lambda: victim_holds(), 10, 0.001), "the victim never held a timer")
                w.daemon.signal(signal.SIGSTOP)
                held = victim_holds()
                if held:
                    break
                w.daemon.signal(signal.SIGCONT)
            w.daemon.proc.kill()
            w.daemon.proc.wait()
            t_kill = time.monotonic()
            other.signal(signal.SIGCONT)
            check(held, "nothing was leased to the victim when it died")
            ok = harness.wait_until(lambda: w.r("ZCARD", "wk:{timers}:leased") == 0 and
                                    w.r("ZCARD", "wk:{timers}") <= len(harness.BACKGROUND_TIMERS), 15, 0.05)
            # (the shared sweeps stay)
            took = time.monotonic() - t_kill
            print("# timer takeover: %d timers held by the killed instance all ran %.2f s after kill -9"
                  % (len(held), took))
            check(ok, "timers left: due %r leased %r" % (w.r("ZCARD", "wk:{timers}"), w.r("ZCARD", "wk:{timers}:leased")))
            check(took < 8, "takeover took %.1f s" % took)
        finally:
            if other.alive():
                other.signal(signal.SIGCONT)
                other.stop()
            w.daemon.kill()
            w.daemon.start()    # own_world stops it at the end


@test("an instance frozen mid-send (SIGSTOP) is taken over; when it wakes, its late answer changes nothing and nobody gets a second DM", world=False)
def _():
    with own_world() as w:
        w.team_mode(ALICE)
        frozen = w.another_daemon()
        try:
            users, fs = page_round(w, "FZ", 16, "frozen instance", 1.0)
            pid = ":%d:" % frozen.proc.pid

            def frozen_sending():
                for k in note_keys(w):
                    h = w.r.hgetall(k)
                    if h.get("status") == "sending" and pid in h.get("owner", ""):
                        return k
                return None
            check(harness.wait_until(frozen_sending, 15, 0.01), "the frozen instance never held a send")
            frozen.signal(signal.SIGSTOP)
            held = frozen_sending()
            check(held, "lost the send before freezing it")
            ok = harness.wait_until(lambda: w.r("HGET", held, "status") == "sent", 20, 0.05)
            check(ok, "not taken over: %r" % w.r.hgetall(held))
            owner = w.r("HGET", held, "owner")
            check(pid not in owner, "the frozen instance still owns it: %r" % owner)
            frozen.signal(signal.SIGCONT)
            all_sent(w, users, 30)
            time.sleep(2)                       # its late answer arrives and is fenced off
            check_once(fs, users, "frozen instance")
            check_eq(w.r("HGET", held, "owner"), owner, "owner after the wake-up (the late finish wrote nothing)")
        finally:
            if frozen.alive():
                frozen.signal(signal.SIGCONT)
                frozen.stop()
