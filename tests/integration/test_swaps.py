"""Issue 4: shift swaps. Every path of the state machine and its races, through signed Slack
requests and clicks against the real daemon and Redis; DMs checked at the fake Slack API."""

import json
import re
import threading
import time

from harness import ORG, check, check_eq, check_re, own_world, test, wait_until

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
K = "wk:{%s}" % ORG


def setup(w, policy=None):
    """Alice (owner), Bob and Carol (developers) in a daily rotation, in that order."""
    w.team_mode(ALICE)
    w.add_member(BOB)
    w.add_member(CAROL)
    w.oncall("rotation create main every 1d members <@%s> <@%s> <@%s>" % (ALICE, BOB, CAROL), ALICE)
    if policy:
        w.oncall("swap policy " + policy, ALICE)
    w.peer.clear()          # drops recorded requests and canned answers
    w.peer.route("/api/conversations.open", body=b'{"ok":true,"channel":{"id":"D0DM"}}')
    w.peer.route("/api/chat.postMessage", body=b'{"ok":true,"channel":"D0DM","ts":"1.2"}')


def next_shift(w, user):
    """The id of user's next shift that hasn't started (from /oncall when)."""
    text = w.oncall("when", user)["text"] + json.dumps(w.oncall("when", user))
    ids = re.findall(r"`(r\d+\.-?\d+)`", text)
    check(ids, "no future shifts for %s: %s" % (user, text[:300]))
    return ids[0]        # the shift under way is listed without an id


def dms(w):
    return [r["json"] for r in w.peer.requests if r["path"].startswith("/api/chat.postMessage")]


def swap_id(text):
    m = re.search(r"swap cancel (s\d+)", text)
    check(m, "no swap id in %r" % text)
    return m.group(1)


def state(w, sid):
    return w.r("HGET", K + ":swap:" + sid, "state")


def overrides(w):
    return sorted(w.r("ZRANGE", "%s:overrides:default" % K, 0, -1))


@test("cover, policy peer: the peer gets a DM with buttons, accepts, the schedule changes, undo restores")
def _(w):
    setup(w)
    shift = next_shift(w, ALICE)
    t = w.oncall("cover %s by <@%s> dentist" % (shift, BOB), ALICE)["text"]
    check_re(r"Asked <@%s> to cover" % BOB, t, "request reply")
    sid = swap_id(t)
    check_eq(state(w, sid), "requested", "state")
    got = w.peer.wait_for(1, timeout=5, path_prefix="/api/chat.postMessage")
    check(got, "no DM to the peer")
    msg = got[0]["json"]
    buttons = [e for b in msg.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]
    check_eq([(b["action_id"], b["value"]) for b in buttons],
             [("oncall.swap_accept", sid), ("oncall.swap_decline", sid)], "DM buttons")
    check_re(r"asks you to cover.*dentist", json.dumps(msg), "DM text")
    check_eq(got[0]["headers"].get("authorization"), "Bearer xoxb-integration-test", "bot token")
    js = w.click("oncall.swap_accept", BOB, value=sid)
    check_re(r"now \*approved\*", js["text"], "click answer")
    check_eq(js.get("replace_original"), True, "the DM is replaced with the outcome")
    check_eq(state(w, sid), "approved", "state after accept")
    ov = overrides(w)
    check_eq(len(ov), 1, "one override for a cover")
    h = w.r.hgetall(K + ":override:" + ov[0])
    check_eq((h["member"], h["replaces"], h["source"], h["swap_id"]), (BOB, ALICE, "swap", sid), "override")
    sched = json.dumps(w.oncall("schedule 5", ALICE))
    check_re(r"<@%s>  \(swap\)" % BOB, sched, "schedule shows the swap")
    check_re(r"now \*undone\*", w.oncall("swap undo " + sid, BOB)["text"], "undo by the peer")
    check_eq(overrides(w), [], "overrides after undo")
    check_re(r"already \*undone\*", w.oncall("swap undo " + sid, ALICE)["text"], "undo twice")
    actions = [dict(zip(e[1][0::2], e[1][1::2]))["action"] for e in w.r("XRANGE", K + ":audit", "-", "+")]
    for a in ("swap.request", "swap.accept", "swap.undo"):
        check(a in actions, "no %s in the audit log %r" % (a, actions))


@test("trade, policy admin: accept, then admins approve with buttons; a developer can't approve")
def _(w):
    setup(w, policy="admin")
    shift = next_shift(w, CAROL)
    sid = swap_id(w.oncall("swap %s with <@%s>" % (shift, BOB), CAROL)["text"])
    w.peer.wait_for(1, timeout=5, path_prefix="/api/chat.postMessage")
    w.peer.requests.clear()
    js = w.click("oncall.swap_accept", BOB, value=sid)
    check_re(r"now \*accepted\*", js["text"], "accept under admin policy")
    got = w.peer.wait_for(3, timeout=5, path_prefix="/api/chat.postMessage")
    texts = [json.dumps(g["json"]) for g in got]
    check(any("oncall.swap_approve" in t for t in texts), "no approval DM to an admin: %r" % texts)
    check_re(r"needs the \*admin\* role", w.click("oncall.swap_approve", CAROL, value=sid)["text"], "developer")
    check_eq(state(w, sid), "accepted", "still accepted")
    check_re(r"now \*approved\*", w.click("oncall.swap_approve", ALICE, value=sid)["text"], "admin approves")
    ov = [w.r.hgetall(K + ":override:" + o) for o in overrides(w)]
    check_eq(sorted((o["member"], o["replaces"]) for o in ov), sorted([(BOB, CAROL), (CAROL, BOB)]),
             "a trade makes two overrides")
    check_re(r"can't|already", w.click("oncall.swap_reject", ALICE, value=sid)["text"], "reject after approve")


@test("policy admin: an admin can't approve a swap they asked for; another admin can")
def _(w):
    setup(w, policy="admin")
    shift = next_shift(w, ALICE)
    sid = swap_id(w.oncall("cover %s by <@%s>" % (shift, BOB), ALICE)["text"])
    js = w.click("oncall.swap_accept", BOB, value=sid)
    check_re(r"now \*accepted\*", js["text"], "peer accepts")
    check_re(r"waits for an admin to approve it", json.dumps(js), "the peer is told what happens next")
    t = w.click("oncall.swap_approve", ALICE, value=sid)["text"]
    check_re(r"is yours: another \*admin\* approves it", t, "the requester approving her own swap")
    check_eq(state(w, sid), "accepted", "still waiting for another admin")
    check_eq(overrides(w), [], "nothing applied")
    w.invite("role <@%s> admin" % CAROL, ALICE)
    check_re(r"now \*approved\*", w.click("oncall.swap_approve", CAROL, value=sid)["text"], "another admin")


@test("decline, cancel, wrong person, unknown id: one clear answer each, nothing applied")
def _(w):
    setup(w)
    shift = next_shift(w, ALICE)
    sid = swap_id(w.oncall("cover %s by <@%s>" % (shift, BOB), ALICE)["text"])
    check_re(r"not yours", w.click("oncall.swap_accept", CAROL, value=sid)["text"], "someone else clicks")
    check_re(r"already has an open swap", w.oncall("cover %s by <@%s>" % (shift, CAROL), ALICE)["text"],
             "a second request for the same shift")
    check_re(r"now \*declined\*", w.click("oncall.swap_decline", BOB, value=sid)["text"], "decline")
    check_re(r"already \*declined\*", w.click("oncall.swap_accept", BOB, value=sid)["text"], "accept after decline")
    sid2 = swap_id(w.oncall("cover %s by <@%s>" % (shift, CAROL), ALICE)["text"])
    check_re(r"not yours", w.oncall("swap cancel " + sid2, BOB)["text"], "cancel by someone else")
    check_re(r"now \*cancelled\*", w.oncall("swap cancel " + sid2, ALICE)["text"], "cancel")
    check_re(r"already \*cancelled\*", w.click("oncall.swap_accept", CAROL, value=sid2)["text"], "late accept")
    check_re(r"no swap `s999`", w.click("oncall.swap_accept", BOB, value="s999")["text"].lower(), "unknown")
    check_eq(overrides(w), [], "no overrides")


@test("races: accept and decline at the same moment, and double clicks, give exactly one outcome")
def _(w):
    setup(w)
    for rnd in range(5):
        shift = next_shift(w, ALICE)
        sid = swap_id(w.oncall("cover %s by <@%s>" % (shift, BOB), ALICE)["text"])
        answers = []

        def go(action):
            answers.append(w.click(action, BOB, value=sid)["text"])
        threads = [threading.Thread(target=go, args=(a,)) for a in
                   ("oncall.swap_accept", "oncall.swap_decline", "oncall.swap_accept", "oncall.swap_accept")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        final = state(w, sid)
        check(final in ("approved", "declined"), "final state %r" % final)
        done = [a for a in answers if "is now" in a]
        check_eq(len(done), 1, "exactly one click took effect (round %d): %r" % (rnd, answers))
        check_eq(len(overrides(w)), 1 if final == "approved" else 0, "overrides after round %d" % rnd)
        if final == "approved":
            w.oncall("swap undo " + sid, ALICE)
        check_eq(overrides(w), [], "clean after round %d" % rnd)


@test("refusals: not my shift, a shift in progress, myself", world=True)
def _(w):
    setup(w)
    bob_shift = next_shift(w, BOB)
    check_re(r"not one of your shifts", w.oncall("cover %s by <@%s>" % (bob_shift, CAROL), ALICE)["text"],
             "someone else's shift")
    check_re(r"already started|not one of your", w.oncall("cover now by <@%s>" % BOB, ALICE)["text"],
             "the shift in progress")
    check_re(r"other than yourself", w.oncall("cover %s by <@%s>" % (next_shift(w, ALICE), ALICE), ALICE)["text"],
             "myself")
    check_eq(w.r("KEYS", K + ":swap:*"), [], "nothing written")


@test("expiry: an unanswered request expires after swap.expire_s; a late click says so", world=False)
def _():
    with own_world(WK_SWAP_EXPIRE_S=2) as w:
        setup(w)
        sid = swap_id(w.oncall("cover %s by <@%s>" % (next_shift(w, ALICE), BOB), ALICE)["text"])
        deadline = int(w.r("HGET", K + ":swap:" + sid, "deadline"))
        check(deadline - time.time() <= 3, "deadline %d s away" % (deadline - time.time()))
        w.peer.wait_for(1, timeout=5, path_prefix="/api/chat.postMessage")   # the request DM
        w.peer.requests.clear()
        # Nobody clicks: the durable timer expires it and tells both people.
        end = time.time() + (deadline - time.time()) + 5
        while time.time() < end and state(w, sid) != "expired":
            time.sleep(0.2)
        check_eq(state(w, sid), "expired", "state after the deadline, without a click")
        got = w.peer.wait_for(2, timeout=5, path_prefix="/api/chat.postMessage")
        texts = [json.dumps(g["json"]) for g in got]
        check_eq(sum("is now *expired*" in t for t in texts), 2, "expiry DMs to both people: %r" % texts)
        check_re(r"expired", w.click("oncall.swap_accept", BOB, value=sid)["text"], "late accept")
        check_eq(state(w, sid), "expired", "state")
        check_eq(overrides(w), [], "nothing applied")


@test("a rotation change that moves an approved swap's shift tells both people, once")
def _(w):
    setup(w)
    shift = next_shift(w, ALICE)
    sid = swap_id(w.oncall("cover %s by <@%s>" % (shift, BOB), ALICE)["text"])
    w.click("oncall.swap_accept", BOB, value=sid)
    check_eq(state(w, sid), "approved", "approved")
    w.notifications_settled()                   # the request and the approval have gone out
    w.peer.requests.clear()
    w.oncall("remove <@%s>" % ALICE, ALICE)     # from the next handoff on, Alice has no shifts
    # Only the stale notices count: a late approval notice may still arrive in this window.
    def stale():
        return [t for t in (json.dumps(r.get("json")) for r in list(w.peer.requests)
                            if r["path"].startswith("/api/chat.postMessage")) if "no longer applies" in t]
    wait_until(lambda: len(stale()) >= 2, 5)
    time.sleep(0.3)                             # a third would be a double
    check_eq(len(stale()), 2, "stale notices: %r" % stale())
    check_eq(w.r("HGET", K + ":swap:" + sid, "stale"), "1", "marked stale")
    w.peer.requests.clear()
    w.oncall("rotation set main every 1d", ALICE)    # another edit: no second notice
    time.sleep(0.5)
    check_eq([r for r in w.peer.requests if "no longer applies" in json.dumps(r.get("json"))], [],
             "told only once")


@test("swaps in another team: a shift id `/oncall when` lists is found in its own team, with or without "
      "`team NAME`, and the swap writes that team's override")
def _(w):
    setup(w)
    w.invite("team create ops2", ALICE)
    w.oncall("rotation create second every 1d team ops2 members <@%s> <@%s>" % (ALICE, CAROL), ALICE)
    tid = [k for k, v in w.r.hgetall(K + ":teams").items() if v == "ops2"]
    check_eq(len(tid), 1, "team ops2 exists")
    text = json.dumps(w.oncall("when", ALICE))
    ids = re.findall(r"`(r\d+\.-?\d+)`[^`]*team ops2", text)
    check(ids, "no ops2 shift for Alice in /oncall when: %s" % text[:400])
    # Without `team`: the id names its rotation, and so its team (issue 10 item 7).
    t = w.oncall("cover %s by <@%s>" % (ids[-1], CAROL), ALICE)["text"]
    first = swap_id(t)
    check_eq(w.r("HGET", K + ":swap:" + first, "team"), tid[0], "the team found from the shift id")
    w.oncall("swap cancel %s" % first, ALICE)
    t = w.oncall("cover %s by <@%s> team ops2 holiday" % (ids[-1], CAROL), ALICE)["text"]
    sid = swap_id(t)
    check_eq(w.r("HGET", K + ":swap:" + sid, "team"), tid[0], "the swap's team")
    check_eq(w.r("HGET", K + ":swap:" + sid, "reason"), "holiday", "the reason after the team option")
    w.click("oncall.swap_accept", CAROL, value=sid)
    check_eq(state(w, sid), "approved", "approved")
    ov = w.r("ZRANGE", "%s:overrides:%s" % (K, tid[0]), 0, -1)
    check_eq(len(ov), 1, "the override is in ops2")
    check_eq(overrides(w), [], "nothing in the default team")
    check_re(r"There is no team `nosuch`",
             w.oncall("cover %s by <@%s> team nosuch" % (ids[-1], CAROL), ALICE)["text"], "unknown team")


@test("the request's reply shows its real expiry (swap.expire_s), not the shift's start", world=False)
def _():
    from datetime import datetime
    from zoneinfo import ZoneInfo
    with own_world(WK_SWAP_EXPIRE_S=3600) as w:
        setup(w)
        shift = next_shift(w, ALICE)
        t = w.oncall("cover %s by <@%s> dentist" % (shift, BOB), ALICE)["text"]
        sid = swap_id(t)
        m = re.search(r"your shift (.+?)–(.+?)\. .*it expires (.+?)\. ", t)
        check(m, "no shift and expiry in %r" % t)
        deadline = int(w.r("HGET", K + ":swap:" + sid, "deadline"))
        local = datetime.fromtimestamp(deadline, ZoneInfo("Europe/Berlin"))
        want = "%s %d %s %02d:%02d %s" % (local.strftime("%a"), local.day, local.strftime("%b"), local.hour,
                                          local.minute, local.tzname())
        check_eq(m.group(3), want, "expiry shown (deadline %d, an hour from now)" % deadline)
        check(m.group(3) != m.group(1), "the expiry repeats the shift's start: %r" % t)


def buttons_of(msg):
    return [(e["text"]["text"], e["action_id"], e["value"])
            for b in msg.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


@test("issue 10 item 6: removing one override of an approved swap is refused and points to swap undo")
def _(w):
    setup(w, policy=None)
    sid = swap_id(w.oncall("swap %s with <@%s>" % (next_shift(w, CAROL), BOB), CAROL)["text"])
    w.click("oncall.swap_accept", BOB, value=sid)
    check_eq(state(w, sid), "approved", "approved")
    ov = overrides(w)
    check_eq(len(ov), 2, "a trade has two overrides")
    w.notifications_settled()                   # the approval's DMs land before the snapshot
    before = w.r.snapshot()
    t = w.oncall("override remove " + ov[0], ALICE)["text"]
    check_re(r"part of swap `%s`.*half applied.*Nothing was removed" % sid, t, "refusal names the swap")
    check_re(r"/oncall swap undo %s" % sid, json.dumps(w.oncall("override remove " + ov[0], ALICE)),
             "points to swap undo")
    check_eq(w.r.snapshot(), before, "nothing written")
    check_eq(state(w, sid), "approved", "the swap is untouched")
    check_re(r"now \*undone\*", w.oncall("swap undo " + sid, ALICE)["text"], "undo as pointed to")
    check_eq(overrides(w), [], "both overrides gone with the undo")


@test("issue 10 item 16: Approve/Reject and Accept/Decline say which swap (id, who, which shift)")
def _(w):
    setup(w, policy="admin")
    w.invite("role <@%s> admin" % CAROL, ALICE)
    s1 = swap_id(w.oncall("cover %s by <@%s>" % (next_shift(w, ALICE), BOB), ALICE)["text"])
    got = w.peer.wait_for(1, timeout=5, path_prefix="/api/chat.postMessage")
    check_eq([b[0] for b in buttons_of(got[0]["json"])], ["Accept " + s1, "Decline " + s1], "DM button labels")
    w.peer.requests.clear()
    w.click("oncall.swap_accept", BOB, value=s1)
    got = w.peer.wait_for(2, timeout=5, path_prefix="/api/chat.postMessage")
    asks = [g["json"] for g in got if "oncall.swap_approve" in json.dumps(g["json"])]
    check(asks, "no approval DM: %r" % [json.dumps(g["json"])[:200] for g in got])
    check_eq([b[0] for b in buttons_of(asks[0])], ["Approve " + s1, "Reject " + s1], "approval DM labels")
    check_re(r"accepted swap `%s` \(cover: <@%s> takes <@%s>'s shift \w{3} \d+ \w{3} \d\d:\d\d" % (s1, BOB, ALICE),
             json.dumps(asks[0]), "the approval DM names who and which shift")
    # A second pending swap: the list's buttons say which one they answer.
    s2 = swap_id(w.oncall("swap %s with <@%s>" % (next_shift(w, BOB), CAROL), BOB)["text"])
    w.click("oncall.swap_accept", CAROL, value=s2)
    js = w.oncall("swaps", CAROL)
    labels = [b[0] for b in buttons_of(js)] if "blocks" in js else []
    text = json.dumps(js)
    check(labels in (["Approve " + s1, "Reject " + s1], ["Approve " + s2, "Reject " + s2]),
          "list buttons name a swap: %r" % labels)
    shown = labels[0].split()[1]
    check_re(r"The buttons answer swap `%s` \((cover|trade): " % shown, text, "the line above the buttons")


def when_ids(w, user):
    return re.findall(r"`((?:r\d+\.-?\d+)|(?:o\d+))`", w.oncall("when", user)["text"] +
                      json.dumps(w.oncall("when", user).get("blocks", [])))


@test("issue 10 item 7: every shift /oncall when lists (override hours, a shift gained by a swap) "
      "can be passed on with swap/cover")
def _(w):
    setup(w)
    # Bob gets hours through an admin override, and Alice's next shift through a cover.
    t = w.oncall("override <@%s> tomorrow 20:00 tomorrow 22:00 release" % BOB, ALICE)["text"]
    o_admin = re.search(r"Override `(o\d+)`", t).group(1)
    s1 = swap_id(w.oncall("cover %s by <@%s>" % (next_shift(w, ALICE), BOB), ALICE)["text"])
    w.click("oncall.swap_accept", BOB, value=s1)
    check_eq(state(w, s1), "approved", "Alice's shift went to Bob")
    o_swap = [o for o in overrides(w) if w.r("HGET", K + ":override:" + o, "swap_id") == s1][0]
    listed = w.oncall("when", BOB)["text"] + json.dumps(w.oncall("when", BOB))
    check_re(r"`%s` \(override\)" % o_admin, listed, "the override's hours are listed by its id")
    check_re(r"`%s` \(swap\)" % o_swap, listed, "the shift gained by the swap is listed by its id")
    # Every id listed is accepted; the shift under way (Alice's, now) is listed without one.
    check_re(r"^Next shifts of <@%s>:\n[^`\n]*\(under way\)\n" % ALICE, w.oncall("when", ALICE)["text"],
             "the shift under way has no id to pass on")
    for sid in dict.fromkeys(when_ids(w, BOB)):
        t = w.oncall("cover %s by <@%s>" % (sid, CAROL), BOB)["text"]
        check_re(r"^Asked <@%s> to cover" % CAROL, t, "`cover %s` accepted" % sid)
        m = re.search(r"swap cancel (s\d+)", t)
        if m and sid not in (o_admin, o_swap):
            w.oncall("swap cancel " + m.group(1), BOB)
    # Carol accepts the cover of the swap-gained shift: she is on call there, on top of Bob's swap.
    s2 = [s for s in w.r("ZRANGE", K + ":swaps", 0, -1)
          if w.r("HGET", K + ":swap:" + s, "give_rotation") == o_swap][0]
    w.click("oncall.swap_accept", CAROL, value=s2)
    check_eq(state(w, s2), "approved", "passed on")
    start = int(w.r("HGET", K + ":override:" + o_swap, "start"))
    carol = w.oncall("when", CAROL)["text"] + json.dumps(w.oncall("when", CAROL))
    check_re(r"\(swap\)", carol, "Carol has the passed-on shift: %s" % carol)
    check(o_swap not in json.dumps(w.oncall("when", BOB)), "Bob no longer has it")
    s3 = [s for s in w.r("ZRANGE", K + ":swaps", 0, -1)
          if w.r("HGET", K + ":swap:" + s, "give_rotation") == o_admin][0]
    w.click("oncall.swap_accept", CAROL, value=s3)
    check_re(r"\(swap\)", json.dumps(w.oncall("when", CAROL)), "Carol has the override's hours")
    # Undoing the first swap takes the ground from under the second: it no longer applies.
    w.peer.requests.clear()
    check_re(r"now \*undone\*", w.oncall("swap undo " + s1, ALICE)["text"], "undo the first swap")
    got = w.peer.wait_for(4, timeout=5, path_prefix="/api/chat.postMessage")
    check(any("no longer applies" in json.dumps(g["json"]) for g in got), "second swap marked stale")
    check_re(r"<@%s>" % ALICE, json.dumps(w.oncall("schedule 5", ALICE)), "Alice has her shift back")
    check(start > 0, "start read")
