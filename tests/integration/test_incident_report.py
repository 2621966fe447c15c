"""Issue 11: `/incident report [service S] [FROM] [TO]` end to end.

Incidents are opened, paged (to a fake Slack), acknowledged and resolved through signed
commands; then their instants are moved in Redis to known values, so the figures in the
reply (nearest-rank median and 90th percentile, who acknowledged, pages per channel) and
the CSV behind the link can be checked exactly.
"""

import csv
import io
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from harness import ORG, check, check_eq, check_re, everything, own_world, short, test, wait_until
from fakes import FakeSlack
from test_incidents import incident, number

ALICE, BOB, DAVE = "U0ALICE", "U0BOB", "U0DAVE"
K = "wk:{%s}" % ORG
CSV_RE = r"CSV: http://127\.0\.0\.1:\d+/export/([0-9a-f]{48})\.csv"
HEADER = ["number", "opened", "severity", "service", "type", "acknowledged_by", "time_to_ack_s",
          "time_to_resolve_s", "pages", "delivered"]
BERLIN = ZoneInfo("Europe/Berlin")


def page_notifications(w):
    """Statuses of the notifications pages sent."""
    out = []
    for k in w.r.keys(K + ":notification:n*"):
        if k.endswith(":events"):
            continue
        if w.r("HGET", k, "page"):
            out.append(w.r("HGET", k, "status"))
    return out


def csv_rows(w, reply):
    tok = re.search(CSV_RE, everything(reply))
    check(tok, "no CSV link in %s" % short(everything(reply), 600))
    r = w.http("GET", "/export/%s.csv" % tok.group(1))
    check_eq(r.status, 200, "GET the CSV")
    check_eq(r.header("content-type"), "text/csv; charset=utf-8", "CSV Content-Type")
    check_eq(r.header("content-disposition"), 'attachment; filename="incident-report.csv"', "Content-Disposition")
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    check_eq(rows[0], HEADER, "CSV header")
    return rows[1:]


def opened(ms):
    return datetime.fromtimestamp(ms // 1000, BERLIN).isoformat()


# (service, severity, ack: (who, after s) or None, resolved after s or None)
PLAN = [
    ("api", "critical", (ALICE, 240), 4320),
    ("api", "error", (BOB, 600), None),
    ("db", "warning", None, 1800),     # below db's paging threshold: pages nobody
    ("", "critical", None, None),
]


@test("/incident report: counts by service and severity, nearest-rank times, ackers, pages per "
      "channel and delivery, the CSV through its link; service filter, periods, refusals", world=False)
def _():
    # Later escalation steps far off: each paging incident pages its primary once.
    with own_world(WK_INCIDENTS_STEP_DELAYS_S="0,300,600") as w:
        w.slack = FakeSlack(w.peer)
        w.add_member(BOB, "developer")
        w.add_member(DAVE, "viewer")
        check_re(r"ops", w.oncall("rotation create ops every 1d handoff 09:00 members <@%s> <@%s>"
                                  % (ALICE, BOB))["text"], "rotation create")
        check_re(r"Europe/Berlin", everything(w.oncall("org tz Europe/Berlin", ALICE)), "org tz")
        for svc in ("api", "db"):
            incident(w, "service create " + svc)
        nums = []
        for svc, sev, _, _ in PLAN:
            nums.append(number(incident(w, "open something broke sev=%s%s" % (
                sev, " service=" + svc if svc else ""), BOB)))
        # every page's Slack DM is sent before anyone acknowledges (no message cancelled)
        got = wait_until(lambda: (lambda s: len(s) == 3 and all(x == "sent" for x in s))(page_notifications(w)),
                         10)
        check(got, "page messages: %r" % page_notifications(w))
        for n, (svc, sev, ack, res) in zip(nums, PLAN):
            if ack:
                check_re(r"You acknowledged", incident(w, "ack %d" % n, ack[0])["text"], "ack")
            if res:
                check_re(r"You resolved", incident(w, "resolve %d" % n, ALICE)["text"], "resolve")
        # known instants: two days ago, an hour apart
        base = (int(time.time()) - 2 * 86400) * 1000
        created = {}
        for i, (n, (svc, sev, ack, res)) in enumerate(zip(nums, PLAN)):
            c = base + i * 3600 * 1000
            created[n] = c
            w.r("HSET", K + ":inc:%d" % n, "created_ms", str(c))
            w.r("ZADD", K + ":incs", str(c), str(n))
            if ack:
                w.r("HSET", K + ":inc:%d" % n, "acked_ms", str(c + ack[1] * 1000))
            if res:
                w.r("HSET", K + ":inc:%d" % n, "resolved_ms", str(c + res * 1000))

        reply = incident(w, "report", DAVE)   # viewers may run it
        text = everything(reply)
        check_re(r"Incident report, .* \(Europe/Berlin\)", reply["text"], "headline in the reader's zone")
        check_re(r"\*4 incidents\*: 2 critical, 1 error, 1 warning, 0 info", text, "by severity")
        check_re(r"• api: 2 \(critical 1, error 1\)", text, "service api")
        check_re(r"• db: 1 \(warning 1\)", text, "service db")
        check_re(r"• no service: 1 \(critical 1\)", text, "no service")
        # to acknowledge: 240 s, 600 s -> median rank 1, p90 rank 2
        check_re(r"Time to acknowledge:\* median 4 min, 90th percentile 10 min \(2 acknowledged, 2 not\)", text,
                 "time to acknowledge")
        # to resolve: 1800 s, 4320 s
        check_re(r"Time to resolve:\* median 30 min, 90th percentile 1 h 12 min \(2 resolved, 2 not\)", text,
                 "time to resolve")
        check_re(r"Acknowledged by:\* <@%s> 1, <@%s> 1" % (ALICE, BOB), text, "ackers")
        check_re(r"\*Pages:\* 3\.", text, "pages")
        check_re(r"slack: 3 messages, 3 delivered \(100%\)", text, "delivery by channel")
        check_re(r"nearest-rank", text, "the percentile footnote")

        rows = csv_rows(w, reply)
        want = []
        for n, (svc, sev, ack, res) in zip(nums, PLAN):
            want.append(["INC-%d" % n, opened(created[n]), sev, svc, "manual", ack[0] if ack else "",
                         str(ack[1]) if ack else "", str(res) if res else "", "0" if sev == "warning" else "1",
                         "0" if sev == "warning" else "1"])
        check_eq(rows, want, "CSV rows")

        # one service
        reply = incident(w, "report service api", DAVE)
        check_re(r"for service api", reply["text"], "service headline")
        check_re(r"\*2 incidents\*", everything(reply), "api's incidents")
        check_eq([r[0] for r in csv_rows(w, reply)], ["INC-%d" % nums[0], "INC-%d" % nums[1]], "api's CSV")

        # a period with none of them
        reply = incident(w, "report 2020-01-01 2020-01-31", DAVE)
        text = everything(reply)
        check_re(r"\*0 incidents\*", text, "an empty period")
        check_re(r"Time to acknowledge:\* none was acknowledged", text, "no times")
        check_eq(csv_rows(w, reply), [], "an empty CSV")

        # refusals name the way
        for args, pattern in (("report 2026-13-01", r"Usage: `/(oncall )?incident report \[service S\] \[FROM\] \[TO\]`"),
                              ("report 2026-03-01 2026-02-01", r"before"),
                              ("report service nosuch", r"no service `nosuch`"),
                              ("report service", r"Name the service")):
            check_re(pattern, everything(incident(w, args, DAVE)), args)


@test("/incident report over 10,050 incidents reads only the newest 2,000, says so, and answers "
      "at once")
def _(w):
    now = int(time.time() * 1000)
    # written straight into Redis (one script): opening 10,050 through commands would take minutes
    w.r("EVAL", "for i = 1, tonumber(ARGV[2]) do\n"
                "  local c = tonumber(ARGV[1]) - i * 1000\n"
                "  redis.call('HSET', KEYS[1] .. i, 'n', i, 'created_ms', c, 'acked_ms', c + 60000,\n"
                "             'acked_by', 'U0ALICE', 'severity', 'error', 'service', 'api', 'type', 'manual')\n"
                "  redis.call('ZADD', KEYS[2], c, i)\n"
                "end\n", "2", K + ":inc:", K + ":incs", str(now), "10050")
    t0 = time.monotonic()
    reply = incident(w, "report", ALICE)
    took = time.monotonic() - t0
    text = everything(reply)
    check_re(r"\*2000 incidents\*", text, "the counted incidents")
    check_re(r"This period has 10050 incidents; only the newest 2000 were counted", text, "the cap said")
    check_re(r"median 1 min, 90th percentile 1 min \(2000 acknowledged, 0 not\)", text, "times")
    check(took < 2.0, "the report took %.2f s" % took)
    rows = csv_rows(w, reply)
    check_eq(len(rows), 2000, "CSV rows")
    check_eq(rows[-1][0], "INC-1", "the newest last")
