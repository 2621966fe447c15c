"""Slash-command form parsing: malformed input is refused clearly and changes nothing."""

from harness import check, check_eq, check_re, check_reply, short, slack_form, test


def form_with_text(raw_text_value):
    """A full slash-command form whose text= value is the given raw (already encoded) bytes."""
    body = slack_form("PLACEHOLDER")
    return body.replace(b"text=PLACEHOLDER", b"text=" + raw_text_value)


@test("form: bad percent escape (text=%G1) -> 400, nothing written")
def _(w):
    r = w.post_signed(form_with_text(b"%G1"))
    check_eq(r.status, 400, "status")
    check_eq(w.r.snapshot("*"), {}, "Redis (every key but the background sweep timer)")


@test("form: truncated percent escape (text=%4) -> 400, nothing written")
def _(w):
    body = slack_form("x") + b"&text2=%4"
    r = w.post_signed(body)
    check_eq(r.status, 400, "status")
    check_eq(w.r.snapshot("*"), {}, "Redis (every key but the background sweep timer)")


@test("form: repeated field (text twice) -> 400, nothing written")
def _(w):
    r = w.post_signed(slack_form("join") + b"&text=leave")
    check_eq(r.status, 400, "status")
    check_eq(w.r.snapshot("*"), {}, "Redis (every key but the background sweep timer)")


@test("form: repeated user_id -> 400, nothing written")
def _(w):
    r = w.post_signed(slack_form("join") + b"&user_id=U0MALLORY")
    check_eq(r.status, 400, "status")
    check_eq(w.r.snapshot("*"), {}, "Redis (every key but the background sweep timer)")


@test("form: empty text -> the /oncall status answer")
def _(w):
    reply = check_reply(w.post_signed(form_with_text(b"")))
    check_re(r"nobody|no one|no-one", reply["text"], "status text with an empty rotation")
    check_re(r"/oncall join", reply["text"], "status text suggests /oncall join")


@test("form: 10 KB text -> 200 with a too-long sentence, nothing written")
def _(w):
    reply = check_reply(w.post_signed(form_with_text(b"join+" + b"x" * 10240)))
    check_re(r"too long|longer than|too large|too big|exceeds|limit", reply["text"], "reply text")
    check_eq(w.r.snapshot("*"), {}, "Redis (every key but the background sweep timer)")


@test("form: invalid UTF-8 (text=%C0%AF) -> 400 or a 200 error sentence, no crash")
def _(w):
    r = w.post_signed(form_with_text(b"join+%C0%AF"))
    check(r.status in (200, 400), "status %d, want 400 or 200: %r" % (r.status, short(r.body)))
    if r.status == 200:
        reply = check_reply(r)  # JSON must itself be valid UTF-8
        check_re(r"utf|encod|invalid|character", reply["text"], "error sentence")
        check_eq(w.rotation(), [], "rotation after an invalid-UTF-8 join")
    else:
        check_eq(w.r.snapshot("*"), {}, "Redis after 400 (every key but the background sweep timer)")
    check_eq(w.http("GET", "/healthz").status, 200, "healthz afterwards")


@test("form: NUL and control bytes in text are answered safely")
def _(w):
    r = w.post_signed(form_with_text(b"add+%00%01%1B%5B31m+%3Cscript%3E"))
    check(r.status in (200, 400), "status %d" % r.status)
    if r.status == 200:
        reply = check_reply(r)
        check("\x00" not in reply["text"], "reply text contains a NUL byte")
    check_eq(w.rotation(), [], "rotation")
    check_eq(w.http("GET", "/healthz").status, 200, "healthz afterwards")


@test("form: missing user_id -> 400, nothing written")
def _(w):
    body = b"&".join(p for p in slack_form("join").split(b"&") if not p.startswith(b"user_id="))
    r = w.post_signed(body)
    check_eq(r.status, 400, "status")
    check_eq(w.r.snapshot("*"), {}, "Redis (every key but the background sweep timer)")


@test("form: unicode text round-trips into the usage answer without mangling JSON")
def _(w):
    reply = check_reply(w.post_signed(slack_form("bogus-\u00e9\u2603")))
    check_re(r"Usage", reply["text"], "reply text")
