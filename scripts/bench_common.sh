# bench_common.sh - sourced by the bench drivers: starting and stopping the server under test,
# running wrk and reading CPU and Redis figures from /proc and INFO.

# bench_stop PID...: SIGTERM, up to 5 s to drain, then SIGKILL.
bench_stop() {
	local pid
	for pid in "$@"; do
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# bench_wait_ready PID BASE_URL LOG: wait up to 10 s for /healthz; exit 1 (with the log's
# tail) when the server (the daemon or build/floor_lws) dies or never answers.
bench_wait_ready() {
	local pid=$1 base=$2 log=$3
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null --max-time 1 "$base/healthz" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { echo "$0: the server under test exited; log:" >&2; tail -n 20 "$log" >&2; exit 1; }
		sleep 0.1
	done
	echo "$0: /healthz never answered" >&2
	exit 1
}

# bench_free_port: a free loopback TCP port.
bench_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_to_ms VALUE: wrk's latencies (512.00us, 1.23ms, 1.00s, 2.00m) in milliseconds.
bench_to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
		printf "%.2f", n }'
}

# bench_cpu_ticks PID: the process's user + system CPU so far, all threads, in clock ticks
# (getconf CLK_TCK a second). Fields are counted after "(comm)", which may hold spaces.
bench_cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$1/stat"
}

# bench_ctx_switches PID: context switches so far (voluntary + involuntary), summed over the
# process's threads: each thread hand-off per request shows up here.
bench_ctx_switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(nonvoluntary|voluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

# bench_redis_stats SOCKET: "CPU_SECONDS READS COMMANDS" from one INFO of the Redis there.
# READS (total_reads_processed) counts socket reads, one per client round trip on a kept
# connection; COMMANDS sums INFO commandstats, which also counts every command a Lua script
# runs. The INFO itself shows up in the next snapshot: one read, one command.
bench_redis_stats() {
	redis-cli -s "$1" INFO everything | tr -d '\r' | awk -F'[:,=]' '
		$1 == "used_cpu_sys" || $1 == "used_cpu_user" { cpu += $2 }
		$1 == "total_reads_processed" { reads = $2 }
		$1 ~ /^cmdstat_/ && $2 == "calls" { calls += $3 }
		END { printf "%.6f %d %d\n", cpu, reads, calls }'
}

# bench_wrk CONNS URL LUA OUT: one wrk run (--latency, $DURATION), its output kept in OUT;
# sets W_RPS, W_P50, W_P99 (ms), W_REQS, W_BAD (non-2xx responses + socket errors).
bench_wrk() {
	local c=$1 url=$2 lua=$3 out=$4 t=2 txt non2xx errs
	[ "$c" -lt 2 ] && t=1
	txt=$(wrk -t"$t" -c"$c" -d"$DURATION" --latency -s "$lua" "$url" 2>&1) || {
		echo "$txt" >&2; echo "$0: wrk failed" >&2; exit 1; }
	echo "$txt" > "$out"
	W_RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$txt")
	W_REQS=$(awk '/ requests in / {print $1}' <<<"$txt")
	W_P50=$(bench_to_ms "$(awk '$1 == "50%" {print $2}' <<<"$txt")")
	W_P99=$(bench_to_ms "$(awk '$1 == "99%" {print $2}' <<<"$txt")")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$txt")
	errs=$({ grep 'Socket errors:' <<<"$txt" || true; } | { grep -oE '[0-9]+' || true; } | awk '{s += $1} END {print s + 0}')
	W_BAD=$(( ${non2xx:-0} + ${errs:-0} ))
}

# bench_wait_idle: wait while `make test` (scripts/test.sh) shares the machine: it would skew
# every figure. WK_BENCH_NOWAIT=1 skips the wait.
bench_wait_idle() {
	[ "${WK_BENCH_NOWAIT:-}" = 1 ] && return 0
	while pgrep -f scripts/test.sh >/dev/null; do
		echo "$0: scripts/test.sh is running; waiting 30 s" >&2
		sleep 30
	done
}
