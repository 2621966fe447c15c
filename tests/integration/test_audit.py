"""Audit log: the Lua SHA-256 and wk_audit (AUDIT_LUA), the hash chain written by operator
actions, `watchkeeper audit verify` naming the first bad entry for each kind of tampering, and
`watchkeeper audit export` CSV.

The hash of an entry (bot/audit.c):
  sha256_hex(prev + "\\n" + for each of ts, actor, platform, action, resource, before, after:
             str(len(bytes)) + ":" + bytes + "\\n")
Python recomputes it independently from the stream; the daemon's tests never trust its own
answer. Entries are counted relative to what exists after the org was created, since the
daemon may write audit entries of its own (they must chain just the same).
"""

import csv
import hashlib
import io
import random
import re
import time

from harness import ORG, RespError, TestFailure, check, check_eq, check_re, run_cli, short, test

K = "wk:{%s}" % ORG
STREAM = K + ":audit"
TIP = K + ":audit:tip"
ZERO = "0" * 64
HASHED = ("ts", "actor", "platform", "action", "resource", "before", "after")
FIELDS = HASHED + ("prev", "hash")

VECTORS = [
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
]


# ---------------------------------------------------------------- helpers

def cli(w, *args):
    """Run `watchkeeper ARGS` with the World's environment: (rc, stdout, stderr)."""
    return run_cli(list(args), w.env)


_LUA = {}


def audit_lua(w):
    """AUDIT_LUA's text, from the hidden `watchkeeper audit lua`."""
    if "src" not in _LUA:
        rc, out, err = cli(w, "audit", "lua")
        check_eq(rc, 0, "`audit lua` exit code (stderr %r)" % short(err))
        check("local function wk_audit" in out and "wk_sha256" in out, "`audit lua` printed %r" % short(out))
        _LUA["src"] = out
    return _LUA["src"]


def lua_sha(w, data):
    """wk_sha256(data) computed by Redis, through EVALSHA of AUDIT_LUA + a return."""
    sha = w.r("SCRIPT", "LOAD", audit_lua(w) + "\nreturn wk_sha256(ARGV[1])")
    return w.r("EVALSHA", sha, 0, data)


def b(s):
    return s if isinstance(s, bytes) else s.encode("utf-8", "surrogateescape")


def entry_hash(prev, fields):
    """The chain hash of one entry, from its fields (dict of str)."""
    msg = b(prev) + b"\n"
    for name in HASHED:
        v = b(fields[name])
        msg += str(len(v)).encode() + b":" + v + b"\n"
    return hashlib.sha256(msg).hexdigest()


def entries(w):
    """[(id, {field: value})] oldest first, field order kept as a list under '_order'."""
    out = []
    for eid, flat in w.r("XRANGE", STREAM, "-", "+"):
        d = dict(zip(flat[0::2], flat[1::2]))
        d["_order"] = flat[0::2]
        out.append((eid, d))
    return out


def rebuild(w, items):
    """Replace the stream with items [(id, fields)], keeping explicit ids (the tip untouched)."""
    w.r("DEL", STREAM)
    for eid, f in items:
        args = []
        for name in FIELDS:
            args += [name, f[name]]
        w.r("XADD", STREAM, eid, *args)


def make_org(w):
    """Create ORG by a signed /oncall from its first user."""
    w.oncall("", "U0ALICE")
    check(w.r("EXISTS", K + ":org") == 1, "the org was not created by the first /oncall")


def toggle(w, times):
    """Suspend / activate the org alternately `times` times, each one audit entry."""
    for i in range(times):
        sub = "suspend" if i % 2 == 0 else "activate"
        rc, out, err = cli(w, "orgs", sub, ORG)
        check_eq(rc, 0, "orgs %s exit code (stderr %r)" % (sub, short(err)))


def chained_org(w, toggles=6):
    """An org whose log has at least `toggles` operator entries; returns the entries."""
    make_org(w)
    toggle(w, toggles)
    return entries(w)


def verify(w):
    return cli(w, "audit", "verify", "--org", ORG)


def check_broken(w, pattern, what):
    rc, out, err = verify(w)
    check_eq(rc, 1, "%s: verify exit code (stdout %r, stderr %r)" % (what, short(out), short(err)))
    check_re(pattern, out, "%s: verify report" % what)
    return out


def check_intact(w, n):
    rc, out, err = verify(w)
    check_eq(rc, 0, "verify exit code (stdout %r, stderr %r)" % (short(out), short(err)))
    want = "audit log of %s: %d %s, chain intact" % (ORG, n, "entry" if n == 1 else "entries")
    check_eq(out.strip(), want, "verify output")


def lua_audit(w, *fields):
    """Append one entry through wk_audit directly (fields: ts, actor, ... after)."""
    src = audit_lua(w) + "\nreturn wk_audit(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], " \
                         "ARGV[5], ARGV[6], ARGV[7])"
    return w.r("EVAL", src, 2, STREAM, TIP, *fields)


# ---------------------------------------------------------------- Lua SHA-256

@test("audit lua: wk_sha256 matches the FIPS 180 vectors")
def _(w):
    for data, want in VECTORS:
        check_eq(lua_sha(w, data), want, "wk_sha256(%r)" % data)
        check_eq(hashlib.sha256(data).hexdigest(), want, "the vector itself (%r)" % data)


@test("audit lua: wk_sha256 of 1000 bytes, one million 'a's, UTF-8 text and all byte values")
def _(w):
    samples = [b"a" * 1000, bytes(range(256)) * 4, b"a" * 1000000,
               "Grüße, 東京 — ✓ 🚨 incident".encode(), b"\x00\xff\x80\x7f"]
    for data in samples:
        check_eq(lua_sha(w, data), hashlib.sha256(data).hexdigest(), "wk_sha256 of %d bytes" % len(data))


@test("audit lua: wk_sha256 matches hashlib for every length 0..300 (random bytes)")
def _(w):
    rng = random.Random(20261122)
    sha = w.r("SCRIPT", "LOAD", audit_lua(w) + "\nreturn wk_sha256(ARGV[1])")
    for n in range(0, 301):
        data = bytes(rng.randrange(256) for _ in range(n))
        got = w.r("EVALSHA", sha, 0, data)
        check_eq(got, hashlib.sha256(data).hexdigest(), "wk_sha256 of %d random bytes %r" % (n, data[:16]))


@test("audit lua: wk_audit writes the fields in order, chains prev, updates the tip")
def _(w):
    rows = [
        ("1700000000000", "U0ALICE", "slack", "member.role", "member:U0BOB", "developer", "admin"),
        ("1700000000001", "operator", "operator", "org.suspend", "org:x", "", ""),
        ("1700000000002", "U0ÄÖ", "teams", "a:b\nc", "r,\"q\"", "{\"k\": [1, 2]}", "x" * 500),
    ]
    prev = ZERO
    for i, row in enumerate(rows):
        h = lua_audit(w, *row)
        want = entry_hash(prev, dict(zip(HASHED, row)))
        check_eq(h, want, "hash returned for entry %d" % (i + 1))
        eid, f = entries(w)[-1]
        check_eq(f["_order"], list(FIELDS), "field order of entry %d" % (i + 1))
        check_eq([f[n] for n in HASHED], list(row), "fields of entry %d" % (i + 1))
        check_eq(f["prev"], prev, "prev of entry %d" % (i + 1))
        check_eq(f["hash"], want, "hash of entry %d" % (i + 1))
        check_eq(w.r.hgetall(TIP), {"hash": want, "count": str(i + 1)}, "tip after entry %d" % (i + 1))
        prev = want
    check_intact(w, len(rows))


@test("audit lua: wk_audit refuses a non-numeric ts and writes nothing")
def _(w):
    try:
        lua_audit(w, "yesterday", "U0A", "slack", "x.y", "r", "", "")
    except RespError as e:
        check_re(r"wk_audit: ts must be milliseconds", str(e), "error")
    else:
        raise TestFailure("wk_audit accepted ts 'yesterday'")
    check_eq(w.r("EXISTS", STREAM, TIP), 0, "keys written")


# ---------------------------------------------------------------- the chain

@test("audit chain: suspend, activate, suspend, activate = 4 entries Python can recompute")
def _(w):
    make_org(w)
    base = len(entries(w))
    t0 = int(time.time() * 1000)
    toggle(w, 4)
    es = entries(w)
    check_eq(len(es), base + 4, "entries after 4 operator actions")
    prev = es[base - 1][1]["hash"] if base else ZERO
    for i, (eid, f) in enumerate(es):
        check_eq(f["_order"], list(FIELDS), "field order of %s" % eid)
        want_prev = ZERO if i == 0 else es[i - 1][1]["hash"]
        check_eq(f["prev"], want_prev, "prev of entry %d" % (i + 1))
        check_eq(f["hash"], entry_hash(f["prev"], f), "hash of entry %d" % (i + 1))
    for j, (eid, f) in enumerate(es[base:]):
        suspend = j % 2 == 0
        check_eq((f["actor"], f["platform"], f["action"], f["resource"], f["before"], f["after"]),
                 ("operator", "operator", "org.suspend" if suspend else "org.activate", "org:" + ORG,
                  "active" if suspend else "suspended", "suspended" if suspend else "active"),
                 "operator entry %d" % (j + 1))
        check(abs(int(f["ts"]) - t0) < 60000, "ts %r is not now in ms" % f["ts"])
        check_eq(f["prev"], prev, "prev of operator entry %d" % (j + 1))
        prev = f["hash"]
    check_eq(w.r.hgetall(TIP), {"hash": es[-1][1]["hash"], "count": str(len(es))}, "tip")
    check_intact(w, len(es))


@test("audit verify: an org without audit entries is intact with 0 entries")
def _(w):
    make_org(w)
    w.r("DEL", STREAM, TIP)
    check_intact(w, 0)


@test("audit verify/export: unknown org exits 1, bad id exits 2, missing --org exits 2")
def _(w):
    for sub in ("verify", "export"):
        rc, out, err = cli(w, "audit", sub, "--org", "slack:T0NOBODY")
        check_eq(rc, 1, "%s unknown org exit code" % sub)
        check_re(r"no org with id slack:T0NOBODY", err, "%s stderr" % sub)
        rc, out, err = cli(w, "audit", sub, "--org", "wk:{x}")
        check_eq(rc, 2, "%s bad id exit code" % sub)
        rc, out, err = cli(w, "audit", sub)
        check_eq(rc, 2, "%s without --org exit code" % sub)
        check_re(r"usage", err, "%s without --org stderr" % sub)


@test("audit verify: 1200 entries are read in pages and checked across page boundaries")
def _(w):
    make_org(w)
    base = len(entries(w))
    src = audit_lua(w) + (
        "\nfor i = 1, tonumber(ARGV[1]) do\n"
        "  wk_audit(KEYS[1], KEYS[2], ARGV[2] + i, 'U0BULK', 'console', 'bulk.test', 'n:' .. i, '', i)\n"
        "end\nreturn 1\n")
    w.r("EVAL", src, 2, STREAM, TIP, 1200 - base, "1700000000000")
    check_eq(w.r("XLEN", STREAM), 1200, "XLEN")
    check_intact(w, 1200)
    es = [e[0] for e in entries(w)]
    # entry 501 is the first of the second page: its prev is checked against entry 500
    w.r("XDEL", STREAM, es[500])
    check_broken(w, r"^audit log of %s: chain broken: entry 501 \(%s\): prev does not match entry 500 "
                 r"\(deleted or reordered\?\)$" % (re.escape(ORG), es[501]), "entry 501 deleted")
    rc, out, err = cli(w, "audit", "export", "--org", ORG)
    check_eq(rc, 0, "export exit code")
    check_eq(len(list(csv.reader(io.StringIO(out, newline="")))), 1 + 1199, "CSV rows (with header)")


# ---------------------------------------------------------------- tampering

@test("audit tamper: an edited field is named as entry N whose hash does not match")
def _(w):
    es = chained_org(w)
    items = [(eid, dict(f)) for eid, f in es]
    items[2][1]["after"] = "active"  # entry 3 now claims a different outcome
    items[2][1]["before"] = "whatever"
    rebuild(w, items)
    check_broken(w, r"entry 3 \(%s\): hash does not match its contents \(edited\?\)" % es[2][0], "edit")


@test("audit tamper: a deleted middle entry is named as the next entry's broken prev")
def _(w):
    es = chained_org(w)
    w.r("XDEL", STREAM, es[2][0])
    check_broken(w, r"entry 3 \(%s\): prev does not match entry 2 \(deleted or reordered\?\)" % es[3][0],
                 "delete")


@test("audit tamper: two swapped entries are named as a broken prev")
def _(w):
    es = chained_org(w)
    items = [(eid, dict(f)) for eid, f in es]
    items[1] = (es[1][0], dict(es[2][1]))
    items[2] = (es[2][0], dict(es[1][1]))
    rebuild(w, items)
    check_broken(w, r"entry 2 \(%s\): prev does not match entry 1 \(deleted or reordered\?\)" % es[1][0],
                 "reorder")


@test("audit tamper: a deleted last entry is caught by the tip's count")
def _(w):
    es = chained_org(w)
    n = len(es)
    w.r("XDEL", STREAM, es[-1][0])
    check_broken(w, r"the log ends at entry %d but the tip says %d entries \(entries removed from the end\?\)"
                 % (n - 1, n), "delete last")


@test("audit tamper: an edit with a recomputed hash breaks the next entry's prev")
def _(w):
    es = chained_org(w)
    items = [(eid, dict(f)) for eid, f in es]
    f = items[2][1]
    f["actor"] = "U0MALLORY"
    f["hash"] = entry_hash(f["prev"], f)
    rebuild(w, items)
    check_broken(w, r"entry 4 \(%s\): prev does not match entry 3 \(deleted or reordered\?\)" % es[3][0],
                 "consistent edit")


@test("audit tamper: an edit of the last entry with a recomputed hash is caught by the tip")
def _(w):
    es = chained_org(w)
    n = len(es)
    items = [(eid, dict(f)) for eid, f in es]
    f = items[-1][1]
    f["after"] = f["after"] + " (edited)"
    f["hash"] = entry_hash(f["prev"], f)
    rebuild(w, items)
    check_broken(w, r"entry %d \(%s\): hash differs from the one the tip recorded" % (n, es[-1][0]),
                 "consistent edit of the last entry")


@test("audit tamper: a deleted first entry, a deleted tip, a forged entry without the tip")
def _(w):
    es = chained_org(w)
    n = len(es)
    w.r("XDEL", STREAM, es[0][0])
    check_broken(w, r"entry 1 \(%s\): prev is not 64 zeros.*removed from the start" % es[1][0], "delete first")

    w.reset()
    es = chained_org(w)
    w.r("DEL", TIP)
    check_broken(w, r"the log has %d entries but no tip" % len(es), "tip deleted")

    w.reset()
    es = chained_org(w)
    n = len(es)
    f = {"ts": str(int(time.time() * 1000)), "actor": "U0MALLORY", "platform": "slack",
         "action": "member.role", "resource": "member:U0MALLORY", "before": "viewer", "after": "owner",
         "prev": es[-1][1]["hash"]}
    f["hash"] = entry_hash(f["prev"], f)
    args = []
    for name in FIELDS:
        args += [name, f[name]]
    w.r("XADD", STREAM, "*", *args)
    check_broken(w, r"the log has %d entries but the tip says %d" % (n + 1, n), "forged append")


@test("audit tamper: a missing field and an extra field are named")
def _(w):
    es = chained_org(w)
    items = [(eid, dict(f)) for eid, f in es]
    rebuild(w, items[:1])
    w.r("XADD", STREAM, es[1][0], "ts", es[1][1]["ts"], "actor", "x")
    check_broken(w, r"entry 2 \(%s\) lacks its platform field" % es[1][0], "missing field")

    w.reset()
    es = chained_org(w)
    items = [(eid, dict(f)) for eid, f in es]
    rebuild(w, items[:2])
    args = []
    for name in FIELDS:
        args += [name, es[2][1][name]]
    w.r("XADD", STREAM, es[2][0], *(args + ["note", "unhashed text"]))
    check_broken(w, r"entry 3 \(%s\) has a field that is not part of an audit entry" % es[2][0],
                 "extra field")


# ---------------------------------------------------------------- export

@test("audit export: CSV with a header, one row per entry, quoting and formulas neutralised")
def _(w):
    make_org(w)
    toggle(w, 2)
    tricky = ("1700000000123", "@U0EVIL", "slack", "=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0",
              "a,\"b\"\nc\r\nd", "-2+3")
    lua_audit(w, *tricky)
    es = entries(w)
    rc, out, err = cli(w, "audit", "export", "--org", ORG)
    check_eq(rc, 0, "export exit code (stderr %r)" % short(err))
    check(out.startswith("id,ts,time_utc,actor,platform,action,resource,before,after,prev,hash\r\n"),
          "header row: %r" % short(out, 120))
    rows = list(csv.reader(io.StringIO(out, newline="")))
    check_eq(rows[0], ["id", "ts", "time_utc", "actor", "platform", "action", "resource", "before",
                       "after", "prev", "hash"], "header")
    check_eq(len(rows) - 1, len(es), "data rows")
    for row, (eid, f) in zip(rows[1:], es):
        check_eq(row[0], eid, "id column")
        check_eq(row[1], f["ts"], "ts column")
        want_time = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(f["ts"]) // 1000)) \
            + ".%03dZ" % (int(f["ts"]) % 1000)
        check_eq(row[2], want_time, "time_utc column")
        check_eq(row[9], f["prev"], "prev column")
        check_eq(row[10], f["hash"], "hash column")
    last = rows[-1]
    check_eq(last[2], "2023-11-14T22:13:20.123Z", "time_utc of the tricky entry")
    check_eq(last[3], "'@U0EVIL", "actor starting with @ (neutralised)")
    check_eq(last[4], "slack", "platform")
    check_eq(last[5], "'=HYPERLINK(\"http://x\")", "action starting with = (neutralised)")
    check_eq(last[6], "'+cmd|' /C calc'!A0", "resource starting with + (neutralised)")
    check_eq(last[7], "a,\"b\"\nc\r\nd", "before with comma, quotes, LF and CRLF (round trip)")
    check_eq(last[8], "'-2+3", "after starting with - (neutralised)")
    check("\"a,\"\"b\"\"\nc\r\nd\"" in out, "RFC 4180 quoting of the tricky field: %r" % short(out[-400:]))
    check_intact(w, len(es))


@test("audit export: an org with an empty log prints only the header")
def _(w):
    make_org(w)
    w.r("DEL", STREAM, TIP)
    rc, out, err = cli(w, "audit", "export", "--org", ORG)
    check_eq(rc, 0, "exit code")
    check_eq(out, "id,ts,time_utc,actor,platform,action,resource,before,after,prev,hash\r\n", "output")


# ---------------------------------------------------------------- /invite audit reads as sentences

@test("/invite audit: entries read as sentences with names and the position a move really got")
def _(w):
    from harness import everything
    alice, bob, carol, dave = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"
    for u in (bob, carol, dave):
        w.add_member(u, "developer", alice)
    w.oncall("rotation create night members <@%s> <@%s> <@%s> <@%s>" % (alice, bob, carol, dave), alice)
    w.oncall("rotation move night <@%s> 9" % dave, alice)
    w.oncall("rotation move night <@%s> 1" % dave, alice)
    w.oncall("rotation pause night <@%s>" % carol, alice)
    w.invite("role <@%s> admin" % bob, alice)
    w.oncall("org tz America/New_York", alice)
    shown = everything(w.invite("audit 6", alice))
    check_re(r"<@U0ALICE> moved <@U0DAVE> to position 4 in rotation \*night\*", shown, "a move past the end")
    check_re(r"<@U0ALICE> moved <@U0DAVE> to position 1 in rotation \*night\*", shown, "a move to the top")
    check_re(r"<@U0ALICE> paused <@U0CAROL> in rotation \*night\*", shown, "pause")
    check_re(r"<@U0ALICE> changed <@U0BOB>'s role from \*developer\* to \*admin\*", shown, "role")
    check_re(r"\w{3} \d+ \w{3}( \d{4})? \d\d:\d\d E[SD]T: <@U0ALICE> set the workspace's time zone to "
             r"America/New_York \(was not set\)\.", shown, "org tz, in the reader's (org's) zone")
    check(not re.search(r"rotation:r\d|member:U0|`rotation\.", shown), "internal ids shown: %r" % shown)
    # the stored detail records the real position too (export and verify see the same)
    moves = [f["after"] for _, f in entries(w) if f["action"] == "rotation.move"]
    check_eq(moves, ["member:U0DAVE to 4", "member:U0DAVE to 1"], "stored move details")
