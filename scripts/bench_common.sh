# bench_common.sh - sourced by the bench drivers: starting and stopping the daemon under test.

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
# tail) when the daemon dies or never answers.
bench_wait_ready() {
	local pid=$1 base=$2 log=$3
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null --max-time 1 "$base/healthz" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { echo "$0: daemon exited; log:" >&2; tail -n 20 "$log" >&2; exit 1; }
		sleep 0.1
	done
	echo "$0: /healthz never answered" >&2
	exit 1
}
