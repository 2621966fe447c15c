# bench_common.sh - sourced by the bench drivers (from the repo root, right after their cd):
# the defaults they share, starting and stopping the daemon under test and the fakes, signing
# and posting a Slack /oncall, running wrk, reading CPU and Redis figures from /proc and INFO,
# and the median / ratio / verdict arithmetic of their reports.

# Defaults: the daemon under test (WK_BINARY), its config (WK_CONFIG), logs and wrk output.
BIN=${WK_BINARY:-build/watchkeeper}
CONFIG=${WK_CONFIG:-config/watchkeeper.example.json}
DIR=$PWD/build/bench

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

# bench_start_daemon REDIS_URL SIGNING_SECRET LOG [VAR=VALUE...]: start $BIN -c $CONFIG on a
# free loopback port (without WK_CONFIG from the caller's environment) with Slack on (a bench
# bot token, the Slack API at an unreachable port), warn-level logs in LOG and the VAR=VALUEs
# given; sets DAEMON_PID (before waiting, so the caller's cleanup can stop it), BASE (its URL),
# then waits for /healthz like bench_wait_ready.
bench_start_daemon() {
	local redis=$1 secret=$2 log=$3 port
	shift 3
	port=$(bench_free_port)
	BASE=http://127.0.0.1:$port
	env -u WK_CONFIG \
		WK_LISTEN="127.0.0.1:$port" WK_PUBLIC_URL="$BASE" WK_REDIS_URL="$redis" \
		WK_SLACK_SIGNING_SECRET="$secret" WK_SLACK_BOT_TOKEN=xoxb-bench \
		WK_SLACK_API_URL=http://127.0.0.1:1/api WK_LOG_LEVEL=warn "$@" \
		"$BIN" -c "$CONFIG" </dev/null >"$log" 2>&1 &
	DAEMON_PID=$!
	bench_wait_ready "$DAEMON_PID" "$BASE" "$log"
}

# bench_start_fake OUT LOG CMD...: start a fake (build/fake_twilio, build/fake_connector) with
# stdout in OUT and stderr in LOG, wait up to 5 s for the port it prints first; sets FAKE_PID
# and FAKE_PORT, exits 1 if no port came.
bench_start_fake() {
	local out=$1 log=$2
	shift 2
	"$@" >"$out" 2>"$log" &
	FAKE_PID=$!
	for _ in $(seq 1 100); do [ -s "$out" ] && break; sleep 0.05; done
	FAKE_PORT=$(head -n 1 "$out")
	[ -n "$FAKE_PORT" ] || { echo "$0: $1 did not start; log:" >&2; cat "$log" >&2; exit 1; }
}

# bench_slack_sign SECRET TEAM USER TEXT: a `/oncall TEXT` slash command from USER in TEAM,
# signed now; exports WK_BENCH_BODY, WK_BENCH_TS, WK_BENCH_SIG and WK_BENCH_SECRET (for
# bench_oncall.lua, which signs each request itself so that each is a distinct delivery).
bench_slack_sign() {
	local out
	out=$(/usr/bin/python3 - "$@" <<'PY'
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
	WK_BENCH_SECRET=$1
	export WK_BENCH_BODY WK_BENCH_TS WK_BENCH_SIG WK_BENCH_SECRET
}

# bench_slack_post BASE_URL: POST the request bench_slack_sign made to BASE_URL/slack/commands,
# print the HTTP status; the body goes to $DIR/last_reply.json.
bench_slack_post() {
	curl -sS -o "$DIR/last_reply.json" -w '%{http_code}' --max-time 5 -X POST \
		-H 'Content-Type: application/x-www-form-urlencoded' \
		-H "X-Slack-Request-Timestamp: $WK_BENCH_TS" -H "X-Slack-Signature: $WK_BENCH_SIG" \
		--data-binary "$WK_BENCH_BODY" "$1/slack/commands"
}

# bench_rotation_members SOCKET ORG: the members of ORG's (e.g. slack:T0BENCH) default
# rotation(s) in the Redis at SOCKET, summed over their latest versions.
bench_rotation_members() {
	local rid
	for rid in $(redis-cli -s "$1" SMEMBERS "wk:{$2}:team_rotations:default"); do
		redis-cli -s "$1" GET "wk:{$2}:rotation:$rid"
	done | /usr/bin/python3 -c 'import json,sys; print(sum(len(json.loads(l)["versions"][-1]["members"]) for l in sys.stdin if l.strip()))'
}

# median NUMBER...: the median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {printf "%s", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
# bench_median_rounds FIG KEY N [DEST]: in the associative array named FIG, FIG[DEST] (default
# KEY) = the median of FIG[KEY,1] .. FIG[KEY,N], one figure's rounds.
bench_median_rounds() {
	local -n bmr_fig=$1
	local r vals=()
	for r in $(seq 1 "$3"); do vals+=("${bmr_fig[$2,$r]}"); done
	bmr_fig[${4:-$2}]=$(median "${vals[@]}")
}
# ratio A B: A / B to two decimals (0 when B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
# verdict VALUE OP TARGET (OP >=, <= or <): "OP TARGET ok" or "OP TARGET MISSED".
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
	ok = (op == ">=" ? v >= t : op == "<=" ? v <= t : v < t); printf "%s %s %s", op, t, (ok ? "ok" : "MISSED") }'; }

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

# bench_redis_stats SOCKET: "CPU_SECONDS READS COMMANDS SCRIPTS" from one INFO of the Redis
# there. READS (total_reads_processed) counts socket reads: one per client round trip on a
# kept connection, fewer when a client pipelines (several commands in one read); COMMANDS
# sums INFO commandstats, which also counts every command a Lua script runs; SCRIPTS counts
# EVALSHA and EVAL calls, the scripts clients sent (each one a wait for its sender). The
# INFO itself shows up in the next snapshot: one read, one command.
bench_redis_stats() {
	redis-cli -s "$1" INFO everything | tr -d '\r' | awk -F'[:,=]' '
		$1 == "used_cpu_sys" || $1 == "used_cpu_user" { cpu += $2 }
		$1 == "total_reads_processed" { reads = $2 }
		$1 ~ /^cmdstat_/ && $2 == "calls" { calls += $3 }
		($1 == "cmdstat_evalsha" || $1 == "cmdstat_eval") && $2 == "calls" { scripts += $3 }
		END { printf "%.6f %d %d %d\n", cpu, reads, calls, scripts }'
}

# bench_redis_pid SOCKET: the pid of the Redis listening on SOCKET.
bench_redis_pid() {
	redis-cli -s "$1" INFO server | tr -d '\r' | awk -F: '$1 == "process_id" { print $2 }'
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
