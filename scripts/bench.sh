#!/usr/bin/env bash
# bench.sh - run by `make bench` after `make all`: throughput and latency of signed `/oncall`
# slash commands against the release daemon (build/watchkeeper) and a private Redis.
#
# Seeds an org (team T0BENCH) whose rotation has 3 members (invited, then `/oncall join`),
# then runs wrk with scripts/bench_oncall.lua at 1, 16 and 64 connections (10 s each,
# --latency) and prints req/s, p50, p99 and non-2xx counts, plus the daemon's idle RSS
# (VmRSS before load) and peak RSS (VmHWM after). Everything stays on 127.0.0.1.
# Logs and wrk output: build/bench/. Another load on the machine skews the figures.
# Environment: WK_BENCH_DURATION (default 10s), WK_BENCH_CONNS (default "1 16 64").
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${WK_BINARY:-build/watchkeeper}
CONFIG=${WK_CONFIG:-config/watchkeeper.example.json}
DIR=$PWD/build/bench
DURATION=${WK_BENCH_DURATION:-10s}
CONNS=${WK_BENCH_CONNS:-1 16 64}
PY=/usr/bin/python3
SECRET=bench_signing_secret_not_real
TEAM=T0BENCH

[ -x "$BIN" ] || { echo "bench.sh: $BIN not built (make all)" >&2; exit 1; }
[ -f "$CONFIG" ] || { echo "bench.sh: no config file $CONFIG" >&2; exit 1; }
mkdir -p "$DIR"
RDIR=$(mktemp -d /tmp/wk-bench-XXXXXX)   # per run: two benches never share a Redis

. scripts/bench_common.sh
daemon_pid=
cleanup() {
	bench_stop "$daemon_pid"
	scripts/redis.sh stop "$RDIR" || true
	rm -rf "$RDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

redis_url=$(scripts/redis.sh start "$RDIR")
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

env -u WK_CONFIG \
	WK_LISTEN="127.0.0.1:$port" WK_PUBLIC_URL="$base" WK_REDIS_URL="$redis_url" \
	WK_SLACK_SIGNING_SECRET=$SECRET WK_SLACK_BOT_TOKEN=xoxb-bench \
	WK_SLACK_API_URL=http://127.0.0.1:1/api WK_LOG_LEVEL=warn \
	"$BIN" -c "$CONFIG" </dev/null >"$DIR/daemon.log" 2>&1 &
daemon_pid=$!
bench_wait_ready "$daemon_pid" "$base" "$DIR/daemon.log"

# sign USER TEXT -> exports WK_BENCH_BODY, WK_BENCH_TS, WK_BENCH_SIG
sign() {
	local out
	out=$("$PY" - "$SECRET" "$TEAM" "$1" "$2" <<'PY'
import hashlib, hmac, sys, time, urllib.parse
secret, team, user, text = sys.argv[1:5]
body = urllib.parse.urlencode([
    ("token", "legacyTok"), ("team_id", team), ("team_domain", "bench"), ("channel_id", "C0BENCH"),
    ("channel_name", "bench"), ("user_id", user), ("user_name", user.lower()), ("command", "/oncall"),
    ("text", text), ("api_app_id", "A0BENCH"), ("is_enterprise_install", "false"),
    ("response_url", "http://127.0.0.1:1/commands/%s/1/bench" % team), ("trigger_id", "1.2.bench")])
ts = str(int(time.time()))
sig = "v0=" + hmac.new(secret.encode(), ("v0:%s:%s" % (ts, body)).encode(), hashlib.sha256).hexdigest()
print(body); print(ts); print(sig)
PY
)
	WK_BENCH_BODY=$(sed -n 1p <<<"$out")
	WK_BENCH_TS=$(sed -n 2p <<<"$out")
	WK_BENCH_SIG=$(sed -n 3p <<<"$out")
	export WK_BENCH_BODY WK_BENCH_TS WK_BENCH_SIG
}

# post: send the signed request, print the HTTP status; the body goes to $DIR/last_reply.json
post() {
	curl -sS -o "$DIR/last_reply.json" -w '%{http_code}' --max-time 5 -X POST \
		-H 'Content-Type: application/x-www-form-urlencoded' \
		-H "X-Slack-Request-Timestamp: $WK_BENCH_TS" -H "X-Slack-Signature: $WK_BENCH_SIG" \
		--data-binary "$WK_BENCH_BODY" "$base/slack/commands"
}

# Seed through the product's own paths: U0BENCH1 creates the org, switches it to team
# mode with the button, makes an invite link; U0BENCH2 and 3 join with its code; all three
# join the rotation.
"$PY" - "$SECRET" "$TEAM" "$base" <<'PY' || { echo "bench.sh: seeding failed" >&2; exit 1; }
import hashlib, hmac, json, re, sys, time, urllib.parse, urllib.request
secret, team, base = sys.argv[1:4]

def post(path, body):
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(secret.encode(), ("v0:%s:%s" % (ts, body)).encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(base + path, body.encode(), {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read().decode()

def command(user, cmd, text):
    return json.loads(post("/slack/commands", urllib.parse.urlencode([
        ("team_id", team), ("user_id", user), ("command", cmd), ("text", text),
        ("channel_id", "C0BENCH"), ("response_url", "http://127.0.0.1:1/bench")])))

command("U0BENCH1", "/oncall", "join")
post("/slack/actions", urllib.parse.urlencode({"payload": json.dumps({
    "type": "block_actions", "user": {"id": "U0BENCH1"}, "team": {"id": team},
    "response_url": "http://127.0.0.1:1/bench",
    "actions": [{"action_id": "invite.team_mode", "value": ""}]})}))
for _ in range(50):                       # the click is answered at once, applied by a worker
    reply = command("U0BENCH1", "/invite", "link")
    codes = re.findall(r"join ([a-z2-7]{32})", json.dumps(reply))
    if codes:
        break
    time.sleep(0.05)
else:
    sys.exit("no invite code: %r" % reply)
for user in ("U0BENCH2", "U0BENCH3"):
    command(user, "/invite", "join " + codes[0])
    command(user, "/oncall", "join")
PY
rot_len=$(for rid in $(redis-cli -s "$RDIR/redis.sock" SMEMBERS "wk:{slack:$TEAM}:team_rotations:default"); do
	redis-cli -s "$RDIR/redis.sock" GET "wk:{slack:$TEAM}:rotation:$rid"
done | "$PY" -c 'import json,sys; print(sum(len(json.loads(l)["versions"][-1]["members"]) for l in sys.stdin if l.strip()))')
[ "$rot_len" = 3 ] || { echo "bench.sh: rotation has $rot_len members after seeding, want 3" >&2; exit 1; }

sign U0BENCH1 ""
code=$(post)
[ "$code" = 200 ] || { echo "bench.sh: /oncall answered $code: $(cat "$DIR/last_reply.json")" >&2; exit 1; }
echo "sample reply: $(head -c 300 "$DIR/last_reply.json")"

rss_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$daemon_pid/status"; }
mb() { awk -v kb="$1" 'BEGIN {printf "%.1f", kb / 1024}'; }
idle_kb=$(rss_kb VmRSS)

# wrk prints latencies as 512.00us, 1.23ms, 1.00s, 2.00m: to milliseconds
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
		printf "%.2f", n }'
}

rows=()
c64_rps=""
c64_p99=""
bad=0
for c in $CONNS; do
	t=2; [ "$c" -lt 2 ] && t=1
	sign U0BENCH1 ""   # fresh timestamp for each run
	out=$(wrk -t"$t" -c"$c" -d"$DURATION" --latency -s scripts/bench_oncall.lua "$base/slack/commands" 2>&1) || {
		echo "$out" >&2; echo "bench.sh: wrk failed" >&2; exit 1; }
	echo "$out" > "$DIR/wrk-c$c.txt"
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
	non2xx=${non2xx:-0}
	errs=$({ grep 'Socket errors:' <<<"$out" || true; } | { grep -oE '[0-9]+' || true; } | awk '{s += $1} END {print s + 0}')
	errs=${errs:-0}
	[ "$non2xx" = 0 ] && [ "$errs" = 0 ] || bad=1
	rows+=("$(printf '%11s %12s %10s %10s %8s %9s' "$c" "$rps" "$p50" "$p99" "$non2xx" "$errs")")
	if [ "$c" = 64 ]; then c64_rps=$rps; c64_p99=$p99; fi
done
kill -0 "$daemon_pid" 2>/dev/null || { echo "bench.sh: daemon died during the run; log:" >&2; tail -n 20 "$DIR/daemon.log" >&2; exit 1; }
peak_kb=$(rss_kb VmHWM)

verdict() { if [ "$1" = 1 ]; then echo "ok"; else echo "MISSED"; fi; }
echo
echo "watchkeeper bench: signed /oncall (status of a 3-member rotation), $DURATION per run, wrk --latency"
printf '%11s %12s %10s %10s %8s %9s\n' connections req/s p50_ms p99_ms non-2xx sock_errs
printf '%s\n' "${rows[@]}"
echo
echo "idle RSS (VmRSS before load): $(mb "$idle_kb") MB   target < 16 MB: $(verdict "$(awk -v k="$idle_kb" 'BEGIN {print (k < 16384)}')")"
echo "peak RSS (VmHWM after load):  $(mb "$peak_kb") MB"
if [ -n "$c64_rps" ]; then
	echo "c=64 req/s: $c64_rps   target >= 20000: $(verdict "$(awk -v r="$c64_rps" 'BEGIN {print (r >= 20000)}')")"
	echo "c=64 p99:   $c64_p99 ms   target < 10 ms: $(verdict "$(awk -v p="$c64_p99" 'BEGIN {print (p < 10)}')")"
fi
if [ "$bad" -ne 0 ]; then
	echo "bench.sh: some responses were not 2xx or sockets failed (see $DIR/wrk-c*.txt, $DIR/daemon.log)" >&2
	exit 1
fi
