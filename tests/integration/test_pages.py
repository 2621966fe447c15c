"""Issue 5: contact rules and pages. A page follows the person's rules ("chat now, SMS after
2 s, email after 4 s") until they acknowledge it; a permanent failure moves to the next channel
at once; piled-up messages for one person go out as one; SMS floods are held back."""

import contextlib
import email
import json
import re
import time

from harness import ORG, check, check_eq, check_re, own_world, test
from harness import wait_until as harness_wait
from fakes import FakeSMTP
from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio, signed_post, sms_params

ALICE, BOB = "U0ALICE", "U0BOB"
PHONE = "+15555550123"
K = "wk:{%s}" % ORG


def note_keys(w):
    """The notification records (not their :events streams)."""
    return [k for k in w.r("KEYS", K + ":notification:n*") if not k.endswith(":events")]


@contextlib.contextmanager
def paging_world(**env):
    """A daemon with Slack, fake Twilio and fake SMTP; Alice (owner) has a phone and an email,
    Bob is a developer."""
    smtp, tw = FakeSMTP(), FakeTwilio()
    try:
        env.setdefault("WK_NOTIFY_SMS_MIN_GAP_S", "0")
        with own_world(WK_SMTP_URL="smtp+insecure://127.0.0.1:%d" % smtp.port,
                       WK_SMTP_FROM="Watchkeeper <oncall@example.com>",
                       WK_TWILIO_ACCOUNT_SID=ACCOUNT_SID, WK_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                       WK_TWILIO_FROM=FROM, WK_TWILIO_API_URL=tw.url, **env) as w:
            w.add_member(BOB, "developer")
            w.oncall("me phone " + PHONE, ALICE)
            w.oncall("me email alice@example.com", ALICE)
            w.oncall("me name Alice", ALICE)
            w.oncall("me name Bob", BOB)
            w.peer.clear()
            w.peer.route("/api/conversations.open", body=b'{"ok":true,"channel":{"id":"D0DM"}}')
            w.peer.route("/api/chat.postMessage", body=b'{"ok":true,"channel":"D0DM","ts":"1.2"}')
            w.smtp, w.tw = smtp, tw
            yield w
    finally:
        smtp.close()
        tw.close()


def dms(w):
    return [p["json"] for p in w.peer.requests if p["path"].startswith("/api/chat.postMessage")]


def texts(w):
    return [r for r in w.tw.requests if r.get("path", "").endswith("/Messages.json")]


def sms_body(rec):
    return rec["form"]["Body"][0]


def page(w, text="the database is down", target=ALICE, user=BOB):
    t = w.oncall("page <@%s> %s" % (target, text), user)["text"]
    m = re.search(r"\(#(\d+)\)", t)
    check(m, "no page number in %r" % t)
    return m.group(1), t


def wait_until(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    check(False, "timed out waiting for " + what)


def ack_buttons(dm):
    out = []
    for b in dm.get("blocks", []):
        for e in b.get("elements", []):
            if e.get("action_id") == "oncall.page_ack":
                out.append(e["value"])
    return out


@test("me notify: shows the built-in default, sets and validates rules, writes nothing on bad input", world=False)
def _():
    with own_world() as w:
        w.add_member(BOB, "developer")
        t = w.oncall("me notify", BOB)["text"]
        check_re(r"built-in default.*chat now, SMS after 2 min, email after 5 min", t, "default")
        skipped = json.dumps(w.oncall("me notify", BOB))
        check_re(r"SMS is skipped", skipped, "no phone: SMS skipped")
        check_re(r"email is skipped", skipped, "no email: email skipped")
        key = K + ":member:" + BOB
        t = w.oncall("me notify chat now, sms after 90s, email after 1h", BOB)["text"]
        check_re(r"chat now, SMS after 90 s, email after 1 h", t, "set reply")
        check_eq(w.r("HGET", key, "notify_rules"), "chat:0,sms:90,email:3600", "stored rules")
        for bad, why in (("pigeon now", r"`pigeon` is not a way to reach you"),
                         ("sms 5m chat 1m", r"go in order"),
                         ("sms after", r"not a delay"),
                         ("sms 25h", r"not a delay"),
                         ("chat now chat 2m", r"appears twice")):
            t = w.oncall("me notify " + bad, BOB)["text"]
            check_re(r"I did not change how you are paged: .*" + why, t, bad)
            check_eq(w.r("HGET", key, "notify_rules"), "chat:0,sms:90,email:3600", "after " + bad)
        # "if not acknowledged" reads naturally and changes nothing
        w.oncall("me notify email now then sms 2m if not acknowledged", BOB)
        check_eq(w.r("HGET", key, "notify_rules"), "email:0,sms:120", "with filler words")
        # Back to the default; an admin changes the org's default; Bob follows it.
        w.oncall("me notify default", BOB)
        check_eq(w.r("HEXISTS", key, "notify_rules"), 0, "own rules dropped")
        check_re(r"needs the \*admin\* role", w.oncall("notify default email now", BOB)["text"], "developer refused")
        t = w.oncall("notify default sms now, email after 10m", ALICE)["text"]
        check_re(r"SMS now, email after 10 min", t, "org default set")
        check_eq(w.r("HGET", K + ":settings", "notify_rules"), "sms:0,email:600", "stored default")
        check_re(r"the org's default rules\): SMS now, email after 10 min", w.oncall("me notify", BOB)["text"],
                 "member follows the org default")
        check_re(r"set the workspace's default contact rules to SMS now, email after 10 min",
                 json.dumps(w.invite("audit 3", ALICE)), "audit entry")


@test("page: chat now, SMS after 2 s, email after 4 s, each with how to acknowledge", world=False)
def _():
    with paging_world() as w:
        w.oncall("me notify chat now, sms after 2s, email after 4s", ALICE)
        t0 = time.time()
        n, t = page(w)
        check_re(r"Paging <@%s> \(#%s\): chat now, SMS after 2 s, email after 4 s" % (ALICE, n), t, "reply")
        dm = wait_until(lambda: dms(w), 3, "the chat DM")[0]
        check_re(r"Bob paged you: the database is down", dm["text"], "DM text")
        check_eq(ack_buttons(dm), ["p" + n], "Acknowledge button")
        sms = wait_until(lambda: texts(w), 5, "the SMS")[0]
        t_sms = time.time() - t0
        check(t_sms >= 1.9, "SMS came too early: %.2f s" % t_sms)
        check_re(r"Bob paged you: the database is down\nReply ACK %s to acknowledge\." % n, sms_body(sms), "SMS")
        check_eq(sms["form"]["To"][0], PHONE, "SMS To")
        mails = w.smtp.wait_for(1, timeout=6)
        t_mail = time.time() - t0
        check(mails, "no email")
        check(t_mail >= 3.9, "email came too early: %.2f s" % t_mail)
        msg = email.message_from_bytes(mails[0]["data"] if isinstance(mails[0]["data"], bytes)
                                       else mails[0]["data"].encode())
        check_eq(str(msg["Subject"]), "Page from Bob", "subject")
        check_eq(mails[0]["rcpts"], ["alice@example.com"], "rcpt")
        check_eq(len(dms(w)), 1, "one DM")
        check_eq(len(texts(w)), 1, "one SMS")


@test("page: the Acknowledge button stops the later steps; only the paged person may press it", world=False)
def _():
    with paging_world() as w:
        w.oncall("me notify chat now, sms after 2s, email after 3s", ALICE)
        n, _ = page(w)
        dm = wait_until(lambda: dms(w), 3, "the chat DM")[0]
        pid = ack_buttons(dm)[0]
        other = w.click("oncall.page_ack", BOB, value=pid)
        check_re(r"sent to someone else", json.dumps(other), "Bob can't acknowledge Alice's page")
        ack = w.click("oncall.page_ack", ALICE, value=pid)
        check_re(r"You acknowledged page #%s" % n, json.dumps(ack), "ack reply")
        check(ack.get("replace_original") is True, "the DM is updated: %r" % ack)
        h = w.r.hgetall(K + ":page:" + pid)
        check_eq((h.get("acked_by"), h.get("acked_via")), (ALICE, "chat"), "page record")
        time.sleep(4)
        check_eq(texts(w), [], "SMS after the ack")
        check_eq(w.smtp.messages, [], "email after the ack")
        again = w.click("oncall.page_ack", ALICE, value=pid)
        check_re(r"already acknowledged", json.dumps(again), "second press")


@test("page: an SMS reply ACK <n> acknowledges; the email step never goes", world=False)
def _():
    with paging_world() as w:
        w.oncall("me notify sms now, email after 3s", ALICE)
        n, _ = page(w, "disk full on db1")
        sms = wait_until(lambda: texts(w), 3, "the SMS")[0]
        check_re(r"Reply ACK %s to acknowledge" % n, sms_body(sms), "SMS hint")
        r = signed_post(w.http, w.env["WK_PUBLIC_URL"], "/twilio/sms", sms_params(PHONE, "ack %s" % n))
        check_eq(r.status, 200, "inbound SMS")
        check_re(r"<Message>Acknowledged #%s\. Nothing more will be sent for it\.</Message>" % n,
                 r.body.decode() if isinstance(r.body, bytes) else r.text, "TwiML")
        check_eq(w.r("HGET", K + ":page:p" + n, "acked_via"), "sms", "acked by SMS")
        time.sleep(4)
        check_eq(w.smtp.messages, [], "email after the SMS ack")


@test("page: Twilio 21211 (bad number) fails over to email at once, not after its delay", world=False)
def _():
    with paging_world() as w:
        w.oncall("me notify sms now, email after 60s", ALICE)
        w.tw.fail_next("21211")
        n, _ = page(w)
        mails = w.smtp.wait_for(1, timeout=5)
        check(mails, "no email within 5 s of a permanent SMS failure")
        wait_until(lambda: "sent" in [w.r("HGET", k, "status") for k in note_keys(w)],
                   3, "the email record to say sent")
        recs = [w.r.hgetall(k) for k in note_keys(w)]
        sms = [h for h in recs if h["channel"] == "sms"]
        mail = [h for h in recs if h["channel"] == "email"]
        check_eq((len(sms), sms[0]["status"], sms[0]["attempts"]), (1, "failed", "1"), "SMS record")
        check_re(r"21211", sms[0]["error"], "SMS error names Twilio's code")
        check_eq(mail[0]["status"], "sent", "email record")
        # The 60 s step for email will find this one and send nothing more.
        check_eq(w.r("GET", K + ":notify_dedupe:page:p%s:email" % n), mail[0]["id"], "dedupe key")


@test("flood: SMS that pile up inside the gap go out as one message; the hourly cap holds the rest", world=False)
def _():
    with paging_world(WK_NOTIFY_SMS_MIN_GAP_S="3", WK_NOTIFY_SMS_PER_HOUR="2") as w:
        w.oncall("me notify sms now", ALICE)
        nums = [page(w, "alert 0")[0]]
        wait_until(lambda: texts(w), 3, "the first SMS")
        nums += [page(w, "alert %d" % i)[0] for i in (1, 2, 3)]  # inside the 3 s gap
        two = wait_until(lambda: len(texts(w)) >= 2 and texts(w), 6, "the bundled SMS")
        body = sms_body(two[1])
        check_re(r"^3 notifications from Watchkeeper:", body, "bundle headline")
        for i in (1, 2, 3):
            check_re(r"alert %d" % i, body, "bundle holds alert %d" % i)
        check_re(r"Reply ACK %s, %s, %s with each number to acknowledge\." % tuple(nums[1:]), body, "bundle hint")
        # The records are finished right after Twilio answers: let that land.
        harness_wait(lambda: sorted(w.r.hgetall(k)["status"] for k in note_keys(w)) == ["sent"] * 4, 3)
        statuses = [w.r.hgetall(k) for k in note_keys(w)]
        check_eq(sorted(h["status"] for h in statuses), ["sent"] * 4, "every notification sent")
        # The cap (2 an hour) is reached: a fifth page waits, it is not dropped or failed.
        page(w, "alert 4")
        time.sleep(4)
        check_eq(len(texts(w)), 2, "SMS sent past the hourly cap")
        waiting = [h for h in (w.r.hgetall(k) for k in note_keys(w))
                   if h["status"] != "sent"]
        check_eq([h["status"] for h in waiting], ["queued"], "the fifth waits its turn")
        check(w.r("ZCARD", "wk:{timers}") >= 1, "a timer holds its turn")


@test("bundling in Slack: pages that pile up within the one-second pace become one DM with a button each", world=False)
def _():
    with paging_world() as w:
        w.oncall("me notify chat now", ALICE)
        nums = [page(w, "alert 0")[0]]
        wait_until(lambda: dms(w), 3, "the first DM")
        nums += [page(w, "alert %d" % i)[0] for i in (1, 2)]    # inside the 1 s pace
        both = wait_until(lambda: len(dms(w)) >= 2 and dms(w), 5, "two DMs")
        time.sleep(1.5)
        check_eq(len(dms(w)), 2, "DMs for three pages")
        check_re(r"^2 notifications from Watchkeeper:", both[1]["text"], "bundled DM")
        check_eq(ack_buttons(both[1]), ["p" + nums[1], "p" + nums[2]], "a button per page")
        labels = [e["text"]["text"] for b in both[1]["blocks"] for e in b.get("elements", [])
                  if e.get("action_id") == "oncall.page_ack"]
        check_eq(labels, ["Acknowledge #%s" % nums[1], "Acknowledge #%s" % nums[2]], "button labels")


@test("page: refused for non-members, and for someone nothing can reach", world=False)
def _():
    with own_world() as w:
        w.add_member(BOB, "developer")
        check_re(r"not a member here yet", w.oncall("page <@U0NOBODY> hello", BOB)["text"], "non-member")
        check_re(r"Usage|usage", json.dumps(w.oncall("page <@%s>" % ALICE, BOB)), "no message")
        # No Slack token, no phone, no email in this world: nothing can reach Alice.
        w.oncall("me notify sms now", ALICE)
        before = w.r("KEYS", K + ":page:*")
        check_re(r"can't page <@%s>: none of their contact methods" % ALICE,
                 w.oncall("page <@%s> hello" % ALICE, BOB)["text"], "unreachable")
        check_eq(w.r("KEYS", K + ":page:*"), before, "no page written")


@test("Twilio rate across the org: with twilio.max_per_second=1 three people's SMS go out in three different seconds", world=False)
def _():
    with paging_world(WK_TWILIO_MAX_PER_SECOND="1") as w:
        carol = "U0CAROL"
        w.add_member(carol, "developer")
        for i, who in enumerate((BOB, carol)):
            w.oncall("me phone +1555555099%d" % i, who)
        for who in (ALICE, BOB, carol):
            w.oncall("me notify sms now", who)
            page(w, "rate check", target=who, user=ALICE)
        sent = wait_until(lambda: len(texts(w)) >= 3 and texts(w), 6, "three SMS")
        seconds = sorted(int(r["t"]) for r in sent)
        check_eq(len(set(seconds)), 3, "distinct seconds of the three sends: %r" % seconds)
        check_eq(sorted(r["form"]["To"][0] for r in sent),
                 sorted([PHONE, "+15555550990", "+15555550991"]), "one SMS each")


@test("Twilio hangs: the request times out; Twilio had taken it, so the retry finds it in Twilio's list and texts nothing more", world=False)
def _():
    with paging_world(WK_TWILIO_TIMEOUT_MS="1000") as w:
        w.oncall("me notify sms now", ALICE)
        w.tw.fail_next("hang")
        page(w, "slow carrier")
        wait_until(lambda: any(w.r("HGET", k, "status") == "sent" for k in note_keys(w)), 15, "the SMS sent")
        h = w.r.hgetall(note_keys(w)[0])
        check_eq((h["status"], h["error"]), ("sent", "found at the provider after an unknown outcome"), "record")
        errors = " ".join(e[1][e[1].index("error") + 1] for e in w.r("XRANGE", note_keys(w)[0] + ":events", "-", "+")
                          if "error" in e[1])
        check_re(r"(?i)tim(ed|e) ?out|Operation timed out|timeout", errors, "the history names the timeout")
        check_eq(len(texts(w)), 1, "SMS requests at Twilio")
        check_eq(w.tw.count_to(PHONE), 1, "messages Twilio created for Alice")
        check(w.tw.lists >= 1, "Twilio's list was never read")
        check_re(r"\nRef r\d+-[0-9a-f]{4}$", sms_body(texts(w)[0]), "the SMS carries its reference")


@test("faults: 30 % random Twilio failures (500, 429, 21211): each page ends as one SMS, or one email after a bad number; none lost, none doubled", world=False)
def _():
    with paging_world() as w:
        people = ["U0P%d" % i for i in range(6)]
        for i, u in enumerate(people):
            w.add_member(u, "developer")
            w.oncall("me phone +1555555020%d" % i, u)
            w.oncall("me email p%d@example.com" % i, u)
            w.oncall("me notify sms now, email after 60s", u)
        w.tw.random_failures = (0.3, ["500", "429", "21211"])
        for u in people:
            page(w, "fault drill", target=u, user=ALICE)

        def settled():
            recs = [w.r.hgetall(k) for k in note_keys(w)]
            sms_done = [h for h in recs if h["channel"] == "sms" and h["status"] in ("sent", "failed")]
            mails_due = sum(1 for h in sms_done if h["status"] == "failed")
            return len(sms_done) == len(people) and len(w.smtp.messages) >= mails_due
        wait_until(settled, 60, "every page to settle")
        time.sleep(1)
        accepted = [r["form"]["To"][0] for r in texts(w) if r.get("status") == 201]
        failed_sms = [w.r.hgetall(k) for k in note_keys(w)
                      if w.r("HGET", k, "channel") == "sms" and w.r("HGET", k, "status") == "failed"]
        mailed = sorted(m["rcpts"][0] for m in w.smtp.messages)
        check_eq(len(accepted), len(set(accepted)), "an SMS accepted twice: %r" % accepted)
        for h in failed_sms:
            check_re(r"21211", h["error"], "only a bad number fails for good")
        check_eq(len(accepted) + len(mailed), len(people), "each page ended exactly once: sms %r, mail %r"
                 % (accepted, mailed))
        check_eq(len(mailed), len(failed_sms), "one email per failed SMS")
        check_eq(len(mailed), len(set(mailed)), "an email sent twice")
        statuses = [r.get("status") for r in texts(w)]
        check(any(st in (500, 429) for st in statuses) and 400 in statuses,
              "the drill had no retryable or no permanent failure: %r" % statuses)


@test("page: a person without a phone skips the SMS step; the email keeps its own delay", world=False)
def _():
    with paging_world() as w:
        w.oncall("me email bob@example.com", BOB)
        w.oncall("me notify sms now, email after 2s", BOB)
        t0 = time.time()
        n, t = page(w, "no phone here", target=BOB, user=ALICE)
        check_re(r"Paging <@%s> \(#%s\): email after 2 s, until they acknowledge" % (BOB, n), t, "the plan")
        mails = w.smtp.wait_for(1, timeout=5)
        check(mails and time.time() - t0 >= 1.9, "email after %.2f s" % (time.time() - t0))
        check_eq(mails[0]["rcpts"], ["bob@example.com"], "rcpt")
        check_eq(texts(w), [], "SMS to someone without a phone")
