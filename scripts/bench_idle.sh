#!/usr/bin/env bash
# bench_idle.sh - issue 13's idle figure: the Redis commands an idle daemon sends (no orgs, nothing
# queued), per instance, against the target of at most 5 a second. Run by `make bench` (the last
# line of bench.sh) after `make all`; or alone: scripts/bench_idle.sh.
#
# For 1 and then 2 release daemons (default settings, config/watchkeeper.example.json) on one
# private Redis: wait for /healthz, a warm-up (WK_IDLE_WARMUP_S, 3 s), then WK_IDLE_SECONDS (20 s)
# of MONITOR. The count is of the commands clients sent (the MONITOR lines whose source is a
# client, one per command whatever its reply); the commands a Lua script runs inside an
# EVALSHA/EVAL show up as source `lua` and are left out, so a script counts once, as its
# EVALSHA. INFO commandstats can't tell those apart (it counts a script's inner calls too),
# so its delta is printed beside, as is total_reads_processed (socket reads: about one per
# round trip, as the daemon never pipelines), as cross-checks. Nothing but the daemons talks
# to that Redis during the window (the INFO snapshots are taken just outside it).
# The senders block 30 s at a time and the engine up to 10 s, so a 20 s window may miss some of
# their reads: WK_IDLE_SECONDS=60 gives the long-run rate (measured: about 0.3-0.45 a second more).
# Prints, per run, `idle:` lines: the per-command breakdown (commands/s per instance), then
#   idle: N Redis commands/s per instance (target <= 5): ok|MISSED
# Runs (WK_IDLE_RUNS, default "1 2 1q"): N daemons on a Redis without a notification queue yet
# (as after a fresh start); "Nq": the same once the queue stream exists (any notification ever
# queued; here one entry without a notification, which a sender reads and acknowledges), where
# the outbox also watches it for entries of dead instances. Logs: build/bench/idle-*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench_common.sh   # BIN, CONFIG, DIR

SECONDS_=${WK_IDLE_SECONDS:-20}
WARMUP=${WK_IDLE_WARMUP_S:-3}
RUNS=${WK_IDLE_RUNS:-1 2 1q}
TARGET=5
PY=/usr/bin/python3

[ -x "$BIN" ] || { echo "bench_idle.sh: $BIN not built (make all)" >&2; exit 1; }
mkdir -p "$DIR"

RDIR=
pids=()
cleanup() {
	bench_stop "${pids[@]}" "${DAEMON_PID:-}"
	[ -z "$RDIR" ] || { scripts/redis.sh stop "$RDIR" || true; rm -rf "$RDIR"; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_daemon I: one release daemon on the Redis, its pid appended to pids.
start_daemon() {
	bench_start_daemon "$redis_url" bench_idle_not_real "$DIR/idle-$1.log"
	pids+=("$DAEMON_PID")
	DAEMON_PID=
}

# monitor SOCKET SECONDS: MONITOR for that long; prints "TOTAL" then "COMMAND COUNT" lines
# (client-sent commands only: `lua` lines are a script's inner calls).
monitor() {
	"$PY" - "$1" "$2" <<'PY'
import collections, re, socket, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(b"MONITOR\r\n")
buf, counts, ok = b"", collections.Counter(), False
line_re = re.compile(rb'^\+[0-9.]+ \[\d+ ([^\]]+)\] "([^"]*)"(?: "([^"]*)")?')
end = time.monotonic() + secs
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        data = s.recv(65536)
    except socket.timeout:
        break
    if not data:
        break
    buf += data
    *lines, buf = buf.split(b"\r\n")
    for l in lines:
        if l == b"+OK":
            ok = True
            continue
        m = line_re.match(l)
        if not m or m.group(1) == b"lua":
            continue
        name = m.group(2).decode().upper()
        if name in ("XGROUP", "CLIENT") and m.group(3):   # the subcommand says what it is
            name += " " + m.group(3).decode().upper()
        counts[name] += 1
s.close()
if not ok:
    sys.exit("bench_idle.sh: MONITOR was refused")
print(sum(counts.values()))
for name, n in counts.most_common():
    print(name, n)
PY
}

# measure N[q]: N daemons on a fresh Redis (q: with the queue stream), the window, the lines.
measure() {
	local n=${1%q} what="no notification queue yet" i before after mon total rate
	RDIR=$(mktemp -d /tmp/wk-idle-XXXXXX)
	redis_url=$(scripts/redis.sh start "$RDIR")
	if [ "$1" != "$n" ]; then
		what="the notification queue exists"
		redis-cli -s "$RDIR/redis.sock" XADD 'wk:{notify}:q' '*' bench idle >/dev/null
	fi
	for i in $(seq 1 "$n"); do start_daemon "$1-$i"; done
	sleep "$WARMUP"
	before=$(bench_redis_stats "$RDIR/redis.sock")
	mon=$(monitor "$RDIR/redis.sock" "$SECONDS_")
	after=$(bench_redis_stats "$RDIR/redis.sock")
	for i in "${!pids[@]}"; do
		kill -0 "${pids[$i]}" 2>/dev/null || { echo "bench_idle.sh: a daemon died; see $DIR/idle-$1-*.log" >&2; exit 1; }
	done
	total=$(head -n 1 <<<"$mon")
	rate=$(awk -v t="$total" -v s="$SECONDS_" -v n="$n" 'BEGIN {printf "%.2f", t / s / n}')
	echo "idle: $n instance(s) on one Redis, $what; ${SECONDS_} s after ${WARMUP} s of warm-up; client commands/s per instance (MONITOR, a script = its EVALSHA):"
	tail -n +2 <<<"$mon" | awk -v s="$SECONDS_" -v n="$n" '{ printf "idle:   %-20s %6.2f/s  (%d in %d s)\n", $1 ($3 ? " " $2 : ""), $NF / s / n, $NF, s }'
	awk -v a="$before" -v b="$after" -v s="$SECONDS_" -v n="$n" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "idle:   cross-checks per instance: socket reads %.2f/s, commandstats calls %.2f/s (scripts'"'"' inner calls included)\n",
			(y[2] - x[2]) / s / n, (y[3] - x[3]) / s / n }'
	echo "idle: $rate Redis commands/s per instance (target <= $TARGET): $(awk -v r="$rate" -v t="$TARGET" 'BEGIN {print (r <= t ? "ok" : "MISSED")}')"
	bench_stop "${pids[@]}"
	pids=()
	scripts/redis.sh stop "$RDIR" || true
	rm -rf "$RDIR"
	RDIR=
}

bench_wait_idle
for n in $RUNS; do measure "$n"; done
