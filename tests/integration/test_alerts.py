"""Issue 11: services, alert integrations and the webhooks of Alertmanager, Grafana, Sentry
and our generic JSON, end to end against the real daemon, real Redis and the fake Slack.

Fixtures are the ones of shared/protocols/alert-webhooks.md. A refusal (bad token, bad
signature, malformed or oversized body, Redis down) must leave Redis exactly as it was;
an accepted alert is recorded before the 2xx goes out.
"""

import base64
import hashlib
import hmac
import harness
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

from harness import (ORG, check, check_eq, check_re, check_reply, everything, free_port, own_world, short,
                     test, wait_until)
from fakes import FakeSlack

ALICE, BOB, CAROL, DAVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"
K = "wk:{%s}" % ORG
SECRET_KEY = base64.b64encode(b"k" * 32).decode()

AM_FIXTURE = {
    "version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0, "status": "firing",
    "receiver": "oncall-bot", "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "service": "api", "severity": "critical"},
    "commonAnnotations": {"summary": "5xx ratio above 5% for 10m"},
    "externalURL": "http://alertmanager.example:9093",
    "alerts": [{"status": "firing", "labels": {"alertname": "HighErrorRate", "service": "api",
                                               "severity": "critical", "instance": "api-1:8080"},
                "annotations": {"summary": "5xx ratio above 5% for 10m",
                                "runbook_url": "https://runbooks.example/api-5xx"},
                "startsAt": "2023-11-14T22:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr=job%3Aerrors%3Aratio5m+%3E+0.05",
                "fingerprint": "a1b2c3d4e5f60718"}]}

SENTRY_BODY = (b'{"action":"triggered","installation":{"uuid":"00000000-0000-0000-0000-000000000001"},"data":'
               b'{"event":{"issue_id":"42","title":"ReferenceError: x is not defined","level":"error",'
               b'"web_url":"https://sentry.example/issues/42/"},"triggered_rule":"page-oncall"},"actor":'
               b'{"type":"application","id":"sentry","name":"Sentry"}}')
SENTRY_SECRET = "fixture_client_secret"
SENTRY_SIG = "208f6859e270dbb3787135e892a8693306a487d98837b3b8f7d2756c6b0d5b4c"


def incident(w, text, user=ALICE, **kw):
    return check_reply(w.command(text, user, command="/incident", **kw), "/incident %s (as %s)" % (text, user))


def pages_to(slack, user):
    with slack.lock:
        return [m["text"] for m in slack.messages.get("D" + user, []) if "INC-" in m["text"]]


def chain(w):
    t = everything(w.oncall("", ALICE))
    ids = re.findall(r"On call now:\*? <@(U0\w+)>.*?1st backup: <@(U0\w+)>.*?2nd backup: <@(U0\w+)>", t)
    check(ids, "no full chain in %r" % short(t, 600))
    return ids[0]


class team:
    """A daemon with a fake Slack, a rotation of Alice, Bob and Carol, and service `api`."""

    def __init__(self, **env):
        self.env = dict(WK_INCIDENTS_STEP_DELAYS_S="0,30,60", WK_SECRET_KEY=SECRET_KEY)
        self.env.update(env)

    def __enter__(self):
        self.ctx = own_world(**self.env)
        w = self.ctx.__enter__()
        w.slack = FakeSlack(w.peer)
        w.add_member(BOB, "developer")
        w.add_member(CAROL, "developer")
        w.add_member(DAVE, "viewer")
        w.oncall("rotation create ops every 1d handoff 09:00 members <@%s> <@%s> <@%s>" % (ALICE, BOB, CAROL))
        w.chain = chain(w)
        check_re(r"Made service \*api\*", incident(w, "service create api")["text"], "service create")
        return w

    def __exit__(self, *exc):
        return self.ctx.__exit__(*exc)


def integration(w, source, service="api"):
    """(id, path) of a new integration."""
    made = incident(w, "integration create %s service=%s" % (source, service))
    text = everything(made)
    m = re.search(r"/hooks/%s/([a-z2-7]{32})" % source, text)
    check(m, "no URL in %r" % short(text, 500))
    i = re.search(r"integration (\d+)", made["text"])
    return int(i.group(1)), "/hooks/%s/%s" % (source, m.group(1))


def post(w, path, body, headers=None, timeout=10.0):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return w.http("POST", path, body, h, timeout=timeout)


def open_incidents(w):
    return w.r("ZRANGE", K + ":incs_open", "0", "-1")


@test("services: create, list, owner, channel (says to invite the bot), pages; admins only; open "
      "service= takes its team and refuses an unknown one", world=False)
def _():
    with team() as w:
        check_re(r"already", incident(w, "service create api")["text"], "a second create")
        check_re(r"needs.*admin|admin", incident(w, "service create web", BOB)["text"], "a developer creating")
        check_re(r"owns service \*api\*", incident(w, "service owner api <@%s>" % BOB)["text"], "owner")
        ch = incident(w, "service channel api here")["text"]
        check_re(r"<#C0TEST>.*/invite @Watchkeeper", ch, "channel reply")
        check_re(r"critical, error, warning; these page nobody: info",
                 incident(w, "service pages api warning")["text"], "pages reply")
        listed = everything(incident(w, "service list", DAVE))
        check_re(r"\*api\*: team default, pages from warning up, alerts in <#C0TEST>, owners <@%s>" % BOB,
                 listed, "service list")
        check_eq(w.r("HGET", K + ":service:api", "channel"), "C0TEST", "channel in Redis")
        refused = incident(w, "open the thing broke service=nope", BOB)["text"]
        check_re(r"no service `nope`.*incident service create nope", refused, "unknown service")
        check_eq(w.r("GET", K + ":inc_seq"), None, "no incident after the refusal")
        check_re(r"Deleted service \*api\*", incident(w, "service delete api")["text"], "delete")
        check_eq(w.r("EXISTS", K + ":service:api"), 0, "deleted in Redis")


@test("paging threshold: a warning incident of a service that pages from error is recorded and pages "
      "nobody; an error one pages the primary", world=False)
def _():
    with team() as w:
        primary = w.chain[0]
        quiet = incident(w, "open disk 80%% full sev=warning service=api", BOB)
        check_re(r"Nobody is paged: service api pages from error up", everything(quiet), "the reply")
        n = int(re.search(r"INC-(\d+)", quiet["text"]).group(1))
        check_eq(w.r("HGET", K + ":inc:%d" % n, "paging"), "off", "paging flag")
        check_eq(w.r("EXISTS", "wk:{timers}:t:inc:%s:%d" % (ORG, n)), 0, "no step timer")
        time.sleep(1.5)
        check_eq(pages_to(w.slack, primary), [], "pages for a warning")
        incident(w, "open api down sev=error service=api", BOB)
        check(wait_until(lambda: pages_to(w.slack, primary), 5), "the primary was not paged for an error")


@test("alertmanager fixture: opens an incident and pages the primary; the same payload again only counts "
      "a repeat; a changed set adds a timeline entry; resolved resolves", world=False)
def _():
    with team() as w:
        primary = w.chain[0]
        iid, path = integration(w, "alertmanager")
        r = post(w, path, AM_FIXTURE)
        check_eq(r.status, 200, "status (%r)" % short(r.body))
        js = r.json()
        check_eq(js.get("result"), "opened", "result")
        n = int(js["incident"].split("-")[1])
        inc = w.r.hgetall(K + ":inc:%d" % n)
        check_eq(inc.get("summary"), "5xx ratio above 5% for 10m", "summary")
        check_eq(inc.get("severity"), "critical", "severity")
        check_eq(inc.get("type"), "alertmanager", "type")
        check_eq(inc.get("service"), "api", "service")
        got = wait_until(lambda: pages_to(w.slack, primary), 5)
        check(got, "the primary was not paged")
        check_re(r"INC-%d .*5xx ratio" % n, got[0], "the page")
        tl = w.r("XLEN", K + ":inc:%d:tl" % n)

        r = post(w, path, AM_FIXTURE)
        check_eq((r.status, r.json().get("result")), (200, "repeat"), "the same payload again")
        check_eq(w.r("HGET", K + ":inc:%d" % n, "repeats"), "1", "repeats")
        check_eq(w.r("XLEN", K + ":inc:%d:tl" % n), tl, "timeline after an identical re-send")
        check(w.r("HGET", K + ":integration:%d" % iid, "x") is None, "")
        check(int(w.r("HGET", K + ":intg:%d" % iid, "last_used_ms")) > 0, "last_used_ms not set")

        changed = json.loads(json.dumps(AM_FIXTURE))
        changed["alerts"].append(dict(changed["alerts"][0], fingerprint="ffff000011112222"))
        r = post(w, path, changed)
        check_eq((r.status, r.json().get("result")), (200, "repeat"), "a changed set")
        check_eq(w.r("XLEN", K + ":inc:%d:tl" % n), tl + 1, "timeline after a changed set")

        resolved = json.loads(json.dumps(AM_FIXTURE))
        resolved["status"] = "resolved"
        resolved["alerts"][0]["status"] = "resolved"
        r = post(w, path, resolved)
        check_eq((r.status, r.json().get("result")), (200, "resolved"), "resolved")
        check_eq(w.r("HGET", K + ":inc:%d" % n, "state"), "resolved", "state")
        check_eq(w.r("HGET", K + ":inc:%d" % n, "resolved_by"), "alertmanager", "resolved_by")
        check_eq(open_incidents(w), [], "open incidents")
        shown = everything(incident(w, "show %d" % n, DAVE))
        check_re(r"resolved via alertmanager", shown, "timeline")
        # Bearer credentials on the bare path work too.
        token = path.rsplit("/", 1)[1]
        r = post(w, "/hooks/alertmanager", AM_FIXTURE, {"Authorization": "Bearer " + token})
        check_eq((r.status, r.json().get("result")), (200, "opened"), "bearer: a new incident after resolve")


@test("tokens: valid 2xx, unknown/revoked/wrong source/missing 401, with nothing written; the token "
      "never reaches the log", world=False)
def _():
    with team() as w:
        iid, path = integration(w, "generic")
        body = {"summary": "queue backlog", "severity": "error", "dedup_key": "q1"}
        before = w.r.snapshot()
        for bad in ("/hooks/generic/" + "a" * 32, "/hooks/generic/short", "/hooks/sentry/" + path[-32:],
                    "/hooks/alertmanager"):
            r = post(w, bad, body)
            check_eq(r.status, 401, "%s (%r)" % (bad[:24], short(r.body)))
            check("error" in r.json(), "no JSON error for %s" % bad[:24])
        check_eq(w.r.snapshot(), before, "Redis after refusals")
        r = post(w, path, body)
        check_eq(r.status, 200, "valid token (%r)" % short(r.body))
        check_re(r"revoked integration %d" % iid, incident(w, "integration revoke %d" % iid)["text"].lower(),
                 "revoke")
        listed = everything(incident(w, "integration list"))
        check(("*%d* generic" % iid) not in listed, "revoked integration still listed")
        # The valid alert's escalation is at work in the background: let its first step and
        # the page it queues settle before comparing.
        wait_until(lambda: w.r("HGET", "wk:{%s}:inc:1" % ORG, "step") == "1", 5)
        wait_until(lambda: not w.r("ZCARD", "wk:{timers}:leased"), 5)
        time.sleep(0.5)
        before = w.r.snapshot()
        r = post(w, path, body)
        check_eq(r.status, 401, "revoked token")
        check_eq(w.r.snapshot(), before, "Redis after a revoked token")
        check(path[-32:] not in w.daemon.stderr_text(), "the token is in the daemon's log")


@test("malformed JSON and missing fields answer 400 saying what; oversized 413; nothing written",
      world=False)
def _():
    with team() as w:
        _, am = integration(w, "alertmanager")
        _, gen = integration(w, "generic")
        before = w.r.snapshot()
        cases = [(am, b"{not json", r"not JSON"), (am, b"[]", r"not a JSON object"),
                 (am, {"status": "firing", "alerts": []}, r"missing groupKey"),
                 (gen, {"severity": "error"}, r"missing summary"),
                 (gen, {"summary": "x", "severity": "loud"}, r"severity must be"),
                 (gen, {"action": "resolve"}, r"missing dedup_key"),
                 (gen, {"summary": "x", "service": "other"}, r"for service api")]
        for path, body, why in cases:
            r = post(w, path, body)
            check_eq(r.status, 400, "%r -> %r" % (body, short(r.body)))
            check_re(why, r.json().get("error", ""), "error for %r" % (body,))
        r = post(w, am, b'{"x":"' + b"a" * 70000 + b'"}')
        check_eq(r.status, 413, "oversized")
        check_eq(w.r.snapshot(), before, "Redis after 400s and 413")


@test("sentry: secret only in a DM and only with a secrets.key; valid signature opens (level error), "
      "invalid and missing are 401 with nothing written", world=False)
def _():
    with team() as w:
        primary = w.chain[0]
        iid, path = integration(w, "sentry")
        hdr = {"Sentry-Hook-Resource": "event_alert", "Sentry-Hook-Signature": SENTRY_SIG}
        before = w.r.snapshot()
        r = post(w, path, SENTRY_BODY, hdr)
        check_eq(r.status, 401, "before a secret is stored")
        check_re(r"integration secret", r.json()["error"], "why")
        refused = incident(w, "integration secret %d %s" % (iid, SENTRY_SECRET))["text"]
        check_re(r"direct message", refused, "a secret in a channel")
        check_eq(w.r.snapshot(), before, "Redis after the refusals")
        ok = incident(w, "integration secret %d %s" % (iid, SENTRY_SECRET), channel_id="D0ALICE")["text"]
        check_re(r"Stored the signing secret", ok, "a secret in a DM")
        sealed = w.r("HGET", K + ":intg:%d" % iid, "secret")
        check(sealed.startswith("s1.") and SENTRY_SECRET not in sealed, "stored sealed: %r" % sealed[:12])
        before = w.r.snapshot()
        for sig in ("0" * 64, None, SENTRY_SIG.upper()[:-1]):
            h = dict(hdr)
            if sig is None:
                del h["Sentry-Hook-Signature"]
            else:
                h["Sentry-Hook-Signature"] = sig
            r = post(w, path, SENTRY_BODY, h)
            check_eq(r.status, 401, "signature %r" % sig)
        r = post(w, path, SENTRY_BODY[:-1] + b' }', hdr)
        check_eq(r.status, 401, "a body changed after signing")
        check_eq(w.r.snapshot(), before, "Redis after bad signatures")
        r = post(w, path, SENTRY_BODY, hdr)
        check_eq(r.status, 200, "the fixture (%r)" % short(r.body))
        n = int(r.json()["incident"].split("-")[1])
        inc = w.r.hgetall(K + ":inc:%d" % n)
        check_eq((inc["severity"], inc["type"], inc["dedup"]), ("error", "sentry", "sentry:42"), "incident")
        check(wait_until(lambda: pages_to(w.slack, primary), 5), "the primary was not paged")


@test("sentry secret without secrets.key is refused naming the key", world=False)
def _():
    with team(WK_SECRET_KEY=None) as w:
        iid, _ = integration(w, "sentry")
        t = incident(w, "integration secret %d abc" % iid, channel_id="D0ALICE")["text"]
        check_re(r"secrets\.key.*WK_SECRET_KEY", t, "the refusal")


@test("grafana: with a stored HMAC secret the signature (with timestamp) is required", world=False)
def _():
    with team() as w:
        iid, path = integration(w, "grafana")
        body = json.dumps({"receiver": "oncall-bot", "status": "firing", "version": "1", "groupKey": "g1",
                           "title": "[FIRING:1] CPU", "commonLabels": {"severity": "warning"},
                           "alerts": [{"status": "firing", "fingerprint": "f1"}]}).encode()
        incident(w, "integration secret %d fixture_grafana_secret" % iid, channel_id="D0ALICE")
        before = w.r.snapshot()
        r = post(w, path, body)
        check_eq(r.status, 401, "unsigned")
        check_eq(w.r.snapshot(), before, "Redis after the refusal")
        sig = hmac.new(b"fixture_grafana_secret", b"1700000000:" + body, hashlib.sha256).hexdigest()
        r = post(w, path, body, {"X-Grafana-Alerting-Signature": sig, "X-Grafana-Alerting-Timestamp": "1700000000"})
        check_eq(r.status, 200, "signed (%r)" % short(r.body))
        check_eq(r.json()["pages"], False, "a warning pages nobody")
        n = int(r.json()["incident"].split("-")[1])
        check_eq(w.r("HGET", K + ":inc:%d" % n, "summary"), "[FIRING:1] CPU", "summary from title")


@test("Redis refusing writes or down: 503 with Retry-After and nothing half-written", world=False)
def _():
    with team() as w:
        _, path = integration(w, "alertmanager")
        before = w.r.snapshot()
        w.r("CONFIG", "SET", "min-replicas-to-write", "1")
        try:
            r = post(w, path, AM_FIXTURE)
        finally:
            w.r("CONFIG", "SET", "min-replicas-to-write", "0")
        check_eq(r.status, 503, "writes refused (%r)" % short(r.body))
        check(r.header("retry-after"), "no Retry-After")
        check_eq(w.r.snapshot(), before, "Redis after the 503")
        w.redis.drop_client()
        w.redis.stop()
        try:
            r = post(w, path, AM_FIXTURE)
            check_eq(r.status, 503, "Redis down (%r)" % short(r.body))
        finally:
            w.redis.start()


@test("a storm of 1,000 alerts: at most max_new_per_minute incidents plus one storm incident; each "
      "person is paged a bounded number of times", world=False)
def _():
    with team(WK_INCIDENTS_MAX_NEW_PER_MINUTE="5", WK_INCIDENTS_STEP_DELAYS_S="0,2,4") as w:
        _, path = integration(w, "generic")
        results, lock = [], threading.Lock()

        def send(lo, hi):
            for i in range(lo, hi):
                r = post(w, path, {"summary": "host %d down" % i, "dedup_key": "h%d" % i, "severity": "critical"})
                with lock:
                    results.append(r.status)

        t0 = time.time()
        threads = [threading.Thread(target=send, args=(i * 50, i * 50 + 50)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.time() - t0
        check_eq(sorted(set(results)), [200], "statuses")
        check_eq(len(results), 1000, "answers")
        n = len(w.r("ZRANGE", K + ":incs", "0", "-1"))
        check_eq(n, 6, "incidents (5 + the storm) after 1,000 alerts in %.1f s" % took)
        storm = [k for k in range(1, n + 1) if w.r("HGET", K + ":inc:%d" % k, "summary") == "alert storm on api"]
        check_eq(len(storm), 1, "storm incidents")
        check_eq(w.r("HGET", K + ":inc:%d" % storm[0], "repeats"), str(1000 - 6), "alerts joined to the storm")
        time.sleep(6)
        for u in w.chain:
            got = len(pages_to(w.slack, u))
            check(0 < got <= 6, "%s got %d pages" % (u, got))


def alertmanager_binary():
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


@test("the real Prometheus Alertmanager posts to the daemon and the incident appears", world=False)
def _():
    binary = alertmanager_binary()
    check(binary, "prometheus-alertmanager is not installed (scripts/setup.sh installs it)")
    with team() as w:
        _, path = integration(w, "alertmanager")
        tmp = tempfile.mkdtemp(prefix="wk-am-")
        port, cport = free_port(), free_port()
        with open(os.path.join(tmp, "am.yml"), "w") as f:
            f.write("route:\n  receiver: wk\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n"
                    "receivers:\n- name: wk\n  webhook_configs:\n  - url: http://127.0.0.1:%d%s\n"
                    "    send_resolved: true\n" % (w.port, path))
        proc = subprocess.Popen([binary, "--config.file=" + os.path.join(tmp, "am.yml"),
                                 "--storage.path=" + tmp, "--web.listen-address=127.0.0.1:%d" % port,
                                 "--cluster.listen-address=", "--log.level=warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            url = "http://127.0.0.1:%d" % port

            def ready():
                try:
                    return urllib.request.urlopen(url + "/-/ready", timeout=1).status == 200
                except OSError:
                    return False
            check(wait_until(ready, 15, 0.2), "alertmanager did not become ready")
            alert = [{"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
                      "annotations": {"summary": "disk full on db-1"}}]
            req = urllib.request.Request(url + "/api/v2/alerts", data=json.dumps(alert).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
            check_eq(urllib.request.urlopen(req, timeout=5).status, 200, "alertmanager API")
            check(wait_until(lambda: open_incidents(w), 15, 0.2), "no incident from alertmanager")
            n = int(open_incidents(w)[0])
            inc = w.r.hgetall(K + ":inc:%d" % n)
            check_eq((inc["summary"], inc["severity"], inc["type"]), ("disk full on db-1", "critical",
                                                                      "alertmanager"), "incident")
            check(inc["dedup"].startswith("am:{}:{alertname=\"DiskFull\"}") or inc["dedup"].startswith("am:{}"),
                  "dedup %r" % inc["dedup"])
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            shutil.rmtree(tmp, ignore_errors=True)


def incident_via(w, daemon, text, user=ALICE):
    """/incident on another instance (a Daemon from w.another_daemon())."""
    body, headers = harness.slack_command(text, user_id=user, command="/incident",
                                          response_url=w.peer.url + "/commands/%s/1/abc" % harness.TEAM)
    return check_reply(harness.http_request(daemon.port, "POST", "/slack/commands", body, headers),
                       "/incident %s on the second instance" % text)


@test("alerts from an integration its worker knows are one Redis round trip; a service change and a "
      "revoke made on another instance apply to the very next alert on every worker", world=False)
def _():
    with team() as w:
        iid, path = integration(w, "generic")
        body = {"summary": "disk full", "severity": "error", "dedup_key": "d1"}
        workers = 8     # twice the pool: every worker answers at least once
        for i in range(workers):
            r = post(w, path, body)
            check_eq(r.status, 200, "alert %d (%r)" % (i + 1, short(r.body)))
        got = []
        delta = harness.roundtrip_delta(w, lambda: got.append(post(w, path, body)))
        r = got[0]
        check_eq((r.status, r.json().get("result")), (200, "repeat"), "a repeat")
        check_eq(delta.get("incident_open"), 1.0, "incident_open round trips (%r)" % delta)
        check_eq(delta.get("integration_by_token", 0), 0, "integration reads for a known token (%r)" % delta)
        # A resolve by the same token: one step too, found by its dedup key. (An info alert
        # pages nobody: no escalation runs in the background while this counts.)
        other_key = dict(body, dedup_key="r1", severity="info")
        r = post(w, path, other_key)
        check_eq((r.status, r.json().get("pages")), (200, False), "an alert to resolve")
        got = []
        delta = harness.roundtrip_delta(w, lambda: got.append(post(w, path, dict(other_key, action="resolve"))))
        check_eq((got[0].status, got[0].json().get("result")), (200, "resolved"), "the resolve (%r)" % short(got[0].body))
        # (Its count may include the script's first load on that worker's connection.) The
        # resolve wakes the outbox and the engine, whose round trips on their own threads may
        # land inside the window on a fast machine: they are not the request's.
        mine = sorted(k for k in delta if not k.startswith(("outbox_", "XREADGROUP", "XACK", "XAUTOCLAIM")))
        check_eq(mine, ["incident_change"], "the resolve's round trips (%r)" % delta)

        other = w.another_daemon()
        try:
            check_re(r"pages people for critical", incident_via(w, other, "service pages api critical")["text"],
                     "threshold raised elsewhere")
            for i in range(workers):
                r = post(w, path, dict(body, dedup_key="d%d" % (i + 2)))
                check_eq((r.status, r.json().get("pages")), (200, False), "after the change, alert %d" % (i + 1))
            check_re(r"revoked integration", incident_via(w, other, "integration revoke %d" % iid)["text"].lower(),
                     "revoked elsewhere")
            for i in range(workers):
                r = post(w, path, body)
                check_eq(r.status, 401, "after the revoke, alert %d (%r)" % (i + 1, short(r.body)))
        finally:
            other.stop()
