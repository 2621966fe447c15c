#!/usr/bin/env bash
# bench.sh - run by `make bench` after `make all build/floor_lws`: issue 13's hot path. Three
# servers side by side against one private Redis, all posting the same signed `/oncall` slash
# command (scripts/bench_oncall.lua), measured one at a time with wrk at 1, 16 and 64
# connections (--latency):
#   bare floor   build/floor_lws: libwebsockets, a hand-off to a worker thread, a small JSON reply
#   Redis floor  build/floor_lws --evalsha: the same plus one EVALSHA (one HGET) per request,
#                sent by the worker on its own connection and waited for
#   daemon       build/watchkeeper, an org (team T0BENCH) whose rotation has 3 members (invited,
#                then `/oncall join`): the status of that rotation, answered on the loop
#                thread through its pipelined Redis connection (bot/store_pipe.h)
# For each: req/s and p99 per connection count; at c=64 (after the smaller runs warmed it up,
# WK_BENCH_ROUNDS rounds of bare, Redis floor, daemon in turn; medians) server CPU per request
# (/proc/PID/stat), Redis CPU per request (INFO cpu), round trips (rt: scripts sent, each a
# wait for the request), Redis socket reads (fewer than round trips when a client pipelines)
# and commands (commandstats, Lua's included) per request, context switches per request (all
# threads, /proc/PID/task/*/status), and peak RSS (VmHWM).
# Then the daemon's ratios to the floors against issue 13's targets. Lines start `hotpath:`.
# Every request is a distinct signed delivery (bench_oncall.lua signs each one), so the daemon
# runs the command rather than refusing a replay; the floors get the very same requests. The
# daemon's background Redis traffic (timers, heartbeats) is in its per-request figures: about
# 0.01 round trips a request at these rates (the round-trip verdict rounds to 0.1).
# Logs and wrk output: build/bench/. Another load on the machine skews the figures, so it
# waits while scripts/test.sh runs (WK_BENCH_NOWAIT=1: don't).
# Environment: WK_BENCH_DURATION (default 10s), WK_BENCH_CONNS (default "1 16 64"),
# WK_BENCH_WORKERS (the floors' pool, default 4 like the daemon), WK_BENCH_DAEMON_ENV (more
# VAR=VALUE settings for the daemon), WK_BENCH_ROUNDS (default 5),
# WK_BENCH_PERF=FILE (perf record the daemon's c=64 runs into FILE, the Redis floor's into
# FILEredis; WK_BENCH_PERF_OPTS, default
# "-F 4000 -g"); WK_BENCH_PERF_REDIS=FILE (perf record Redis during the Redis floor's and the
# daemon's c=64 runs into FILE.redis and FILE.daemon).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench_common.sh   # BIN, CONFIG, DIR

FLOOR=${WK_FLOOR_BINARY:-build/floor_lws}
DURATION=${WK_BENCH_DURATION:-10s}
CONNS=${WK_BENCH_CONNS:-1 16 64}
WORKERS=${WK_BENCH_WORKERS:-4}
ROUNDS=${WK_BENCH_ROUNDS:-5}
PY=/usr/bin/python3
SECRET=bench_signing_secret_not_real
TEAM=T0BENCH

[ -x "$BIN" ] || { echo "bench.sh: $BIN not built (make all)" >&2; exit 1; }
[ -x "$FLOOR" ] || { echo "bench.sh: $FLOOR not built (make build/floor_lws)" >&2; exit 1; }
[ -f "$CONFIG" ] || { echo "bench.sh: no config file $CONFIG" >&2; exit 1; }
mkdir -p "$DIR"
RDIR=$(mktemp -d /tmp/wk-bench-XXXXXX)   # per run: two benches never share a Redis

daemon_pid=
declare -A FPID URL
cleanup() {
	bench_stop "${DAEMON_PID:-}" "${FPID[bare]:-}" "${FPID[redis]:-}"
	scripts/redis.sh stop "$RDIR" || true
	rm -rf "$RDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

redis_url=$(scripts/redis.sh start "$RDIR")

rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
clk_tck=$(getconf CLK_TCK)
rsock=$RDIR/redis.sock
declare -A RPS P99 CPU RCPU RT READS CMDS CS PEAK
bad=0

# measure NAME PID URL C KEY: one wrk run (a fresh signature) with the server's CPU, Redis's CPU,
# round trips, commands and context switches per request; figures stored under KEY.
measure() {
	local name=$1 pid=$2 url=$3 c=$4 key=$5 t0 t1 r0 r1 x0 x1 perf_pid=
	bench_slack_sign "$SECRET" "$TEAM" U0BENCH1 ""   # fresh timestamp for each run
	t0=$(bench_cpu_ticks "$pid"); r0=$(bench_redis_stats "$rsock"); x0=$(bench_ctx_switches "$pid")
	if [ -n "${WK_BENCH_PERF:-}" ] && [ "$name" != bare ] && [ "$c" = "$big" ]; then
		perf record ${WK_BENCH_PERF_OPTS:--F 4000 -g} -p "$pid" -o "$WK_BENCH_PERF${name/#daemon/}" \
			>/dev/null 2>&1 &
		perf_pid=$!
	fi
	if [ -n "${WK_BENCH_PERF_REDIS:-}" ] && [ "$c" = "$big" ] && [ "$name" != bare ]; then
		perf record ${WK_BENCH_PERF_OPTS:--F 4000 -g} -p "$(bench_redis_pid "$rsock")" \
			-o "$WK_BENCH_PERF_REDIS.$name" >/dev/null 2>&1 &
		perf_pid="$perf_pid $!"
	fi
	bench_wrk "$c" "$url" scripts/bench_oncall.lua "$DIR/wrk-$name-c$c.txt"
	[ -z "$perf_pid" ] || { kill -INT $perf_pid; wait $perf_pid || true; }
	t1=$(bench_cpu_ticks "$pid"); r1=$(bench_redis_stats "$rsock"); x1=$(bench_ctx_switches "$pid")
	[ "$W_BAD" = 0 ] || { bad=1; echo "bench.sh: $name c=$c: $W_BAD non-2xx or socket errors" >&2; }
	kill -0 "$pid" 2>/dev/null || { echo "bench.sh: $name died during the run" >&2; exit 1; }
	RPS[$key]=$W_RPS
	P99[$key]=$W_P99
	read -r CPU[$key] RCPU[$key] RT[$key] READS[$key] CMDS[$key] CS[$key] < <(awk -v t0="$t0" -v t1="$t1" \
		-v hz="$clk_tck" -v n="$W_REQS" -v r0="$r0" -v r1="$r1" -v x0="$x0" -v x1="$x1" 'BEGIN {
		split(r0, a, " "); split(r1, b, " "); n = (n > 0 ? n : 1)
		# minus the snapshots themselves: 2 reads and 1 command between two of them
		printf "%.1f %.1f %.2f %.2f %.2f %.2f\n", (t1 - t0) * 1e6 / hz / n, (b[1] - a[1]) * 1e6 / n,
			(b[4] - a[4]) / n, (b[2] - a[2] - 2) / n, (b[3] - a[3] - 1) / n, (x1 - x0) / n }')
}

# start_floor NAME [FLOOR_ARGS...]: start build/floor_lws; sets FPID[NAME] and URL[NAME].
start_floor() {
	local name=$1 fport
	shift
	fport=$(bench_free_port)
	"$FLOOR" --port "$fport" --workers "$WORKERS" "$@" </dev/null >"$DIR/$name.log" 2>&1 &
	FPID[$name]=$!
	bench_wait_ready "${FPID[$name]}" "http://127.0.0.1:$fport" "$DIR/$name.log"
	URL[$name]="http://127.0.0.1:$fport/slack/commands"
}

start_floor bare
start_floor redis --evalsha --redis "$redis_url"

# The floors run every request on any of their $WORKERS workers. The daemon runs commands on
# at most workers - 1 (each class of work leaves one worker for clicks, feeds and webhooks) and
# one workspace on at most workers_max_per_org (default half the workers, for fairness between
# workspaces); with its defaults the bench's one workspace would get 2 workers against the
# floors' 4, and Redis would see fewer requests at once (more sleeps and wake-ups per request).
# So the daemon gets one worker more than the floors and the one-workspace setting the README
# gives: commands run on $WORKERS workers at once, as the floors' requests do.
bench_start_daemon "$redis_url" "$SECRET" "$DIR/daemon.log" WK_WORKERS=$((WORKERS + 1)) \
	WK_WORKERS_MAX_PER_ORG="$WORKERS" 	${WK_BENCH_DAEMON_ENV:-}
daemon_pid=$DAEMON_PID base=$BASE
URL[daemon]=$base/slack/commands

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
rot_len=$(bench_rotation_members "$rsock" "slack:$TEAM")
[ "$rot_len" = 3 ] || { echo "bench.sh: rotation has $rot_len members after seeding, want 3" >&2; exit 1; }

bench_slack_sign "$SECRET" "$TEAM" U0BENCH1 ""
code=$(bench_slack_post "$base")
[ "$code" = 200 ] || { echo "bench.sh: /oncall answered $code: $(cat "$DIR/last_reply.json")" >&2; exit 1; }
echo "sample reply: $(head -c 300 "$DIR/last_reply.json")"

idle_kb=$(rss_kb "$daemon_pid" VmRSS)
FPID[daemon]=$daemon_pid
big=64; case " $CONNS " in *" 64 "*) ;; *) big=${CONNS##* } ;; esac
# The three servers stay up side by side (idle while another is measured). Each connection
# count runs bare floor, Redis floor, daemon in turn; the big one runs $ROUNDS rounds, and
# the figures are the medians, each ratio the median of the ratios within one round: a
# shared, noisy machine shifts all three servers of a round alike.
bench_wait_idle
for c in $CONNS; do
	rounds=1
	[ "$c" = "$big" ] && rounds=$ROUNDS
	for r in $(seq 1 "$rounds"); do
		for name in bare redis daemon; do
			measure "$name" "${FPID[$name]}" "${URL[$name]}" "$c" "$name,$c,$r"
		done
	done
	for name in bare redis daemon; do
		for fig in RPS P99; do bench_median_rounds "$fig" "$name,$c" "$rounds"; done
	done
done
for name in bare redis daemon; do
	for fig in CPU RCPU RT READS CMDS CS; do bench_median_rounds "$fig" "$name,$big" "$ROUNDS" "$name"; done
	PEAK[$name]=$(rss_kb "${FPID[$name]}" VmHWM)
done

# The table, then the daemon's ratios to the floors against issue 13's targets.
mb() { awk -v kb="$1" 'BEGIN {printf "%.1f", kb / 1024}'; }
cols=""
for c in $CONNS; do cols+=$(printf ' %9s %7s' "c=$c:req/s" p99_ms); done
big=64; case " $CONNS " in *" 64 "*) ;; *) big=${CONNS##* } ;; esac
echo
echo "hotpath: signed /oncall, $DURATION per run, wrk --latency; c=$big: median of $ROUNDS rounds, per request; floors with $WORKERS workers"
echo "hotpath: the daemon: $((WORKERS + 1)) workers, workers_max_per_org=$WORKERS: commands run on $WORKERS at once, like the floors"
printf 'hotpath: %-8s%s %8s %8s %6s %6s %6s %6s %7s\n' server "$cols" cpu_us rds_us rt reads cmds cs peak_MB
for name in bare redis daemon; do
	row=""
	for c in $CONNS; do row+=$(printf ' %9s %7s' "${RPS[$name,$c]}" "${P99[$name,$c]}"); done
	printf 'hotpath: %-8s%s %8s %8s %6s %6s %6s %6s %7s\n' "$name" "$row" "${CPU[$name]}" "${RCPU[$name]}" \
		"${RT[$name]}" "${READS[$name]}" "${CMDS[$name]}" "${CS[$name]}" "$(mb "${PEAK[$name]}")"
done
# ratio_median NUM_FIG DEN_NAME FIG...: the median over the rounds of daemon/DEN for one figure.
ratio_median() {
	local fig=$1 den=$2 r vals=()
	declare -n arr=$fig
	for r in $(seq 1 "$ROUNDS"); do vals+=("$(ratio "${arr[daemon,$big,$r]}" "${arr[$den,$big,$r]}")"); done
	median "${vals[@]}"
}
r_redis=$(ratio_median RPS redis)
r_bare=$(ratio_median RPS bare)
r_cpu=$(ratio_median CPU redis)
r_rcpu=$(ratio_median RCPU redis)
r_p99=$(ratio_median P99 redis)
echo "hotpath: daemon/redis-floor req/s $r_redis ($(verdict "$r_redis" ">=" 0.85)), daemon/bare-floor req/s $r_bare"
echo "hotpath: daemon/redis-floor CPU/req $r_cpu ($(verdict "$r_cpu" "<=" 1.3)), Redis CPU/req $r_rcpu ($(verdict "$r_rcpu" "<=" 1.5))"
echo "hotpath: daemon c=$big p99 ${P99[daemon,$big]} ms ($(verdict "${P99[daemon,$big]}" "<" 5); the Redis floor's ${P99[redis,$big]} ms, ratio $r_p99), round trips/req ${RT[daemon]} ($(verdict "$(printf '%.1f' "${RT[daemon]}")" "<=" 2)), peak RSS $(mb "${PEAK[daemon]}") MB ($(verdict "$(mb "${PEAK[daemon]}")" "<" 16)), idle RSS $(mb "$idle_kb") MB"
if [ "$bad" -ne 0 ]; then
	echo "bench.sh: some responses were not 2xx or sockets failed (see $DIR/wrk-*.txt, $DIR/*.log)" >&2
	exit 1
fi
scripts/bench_idle.sh   # issue 13: idle Redis commands per instance
