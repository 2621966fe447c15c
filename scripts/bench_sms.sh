#!/usr/bin/env bash
# bench_sms.sh - run by `make bench`: SMS fan-out through the outbox to a fast fake Twilio.
#
# Starts a private Redis, build/fake_twilio (a C fake of the Messages API on loopback) and
# the release daemon with SMS configured against it, then build/bench_sms queues
# WK_BENCH_SMS (default 20000) notifications for as many people and reports the sustained
# send rate, the peak number of connections to the fake (the courier caps in-flight
# requests well below 64) and the daemon's RSS. Logs: build/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${WK_BINARY:-build/watchkeeper}
CONFIG=${WK_CONFIG:-config/watchkeeper.example.json}
DIR=$PWD/build/bench
N=${WK_BENCH_SMS:-20000}
SID=AC0123456789abcdef0123456789abcdef
TOKEN=bench_twilio_token_not_real
ORG=slack:T0SMSBENCH

mkdir -p "$DIR"
RDIR=$(mktemp -d /tmp/wk-bench-sms-XXXXXX)
. scripts/bench_common.sh
daemon_pid=
fake_pid=
cleanup() {
	bench_stop "$daemon_pid" "$fake_pid"
	scripts/redis.sh stop "$RDIR" || true
	rm -rf "$RDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

redis_url=$(scripts/redis.sh start "$RDIR")
build/fake_twilio 0 "$SID" "$TOKEN" >"$RDIR/fake.out" 2>"$DIR/fake_twilio.log" &
fake_pid=$!
for _ in $(seq 1 100); do [ -s "$RDIR/fake.out" ] && break; sleep 0.05; done
fake_port=$(head -n 1 "$RDIR/fake.out")
[ -n "$fake_port" ] || { echo "bench_sms.sh: fake Twilio did not start" >&2; exit 1; }

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
env -u WK_CONFIG \
	WK_LISTEN="127.0.0.1:$port" WK_PUBLIC_URL="$base" WK_REDIS_URL="$redis_url" \
	WK_SLACK_SIGNING_SECRET=bench_signing_secret_not_real WK_LOG_LEVEL=warn \
	WK_TWILIO_ACCOUNT_SID=$SID WK_TWILIO_AUTH_TOKEN=$TOKEN WK_TWILIO_FROM=+15005550006 \
	WK_TWILIO_API_URL="http://127.0.0.1:$fake_port" WK_NOTIFY_SENDERS=${WK_BENCH_SENDERS:-16} WK_TWILIO_MAX_IN_FLIGHT=16 \
	"$BIN" -c "$CONFIG" </dev/null >"$DIR/daemon-sms.log" 2>&1 &
daemon_pid=$!
bench_wait_ready "$daemon_pid" "$base" "$DIR/daemon-sms.log"

echo
echo "watchkeeper bench: SMS fan-out, $N notifications to $N people through the outbox"
build/bench_sms "$redis_url" "$ORG" "http://127.0.0.1:$fake_port/stats" "$daemon_pid" "$N"
kill -0 "$daemon_pid" 2>/dev/null || { echo "bench_sms.sh: daemon died; log:" >&2; tail -n 20 "$DIR/daemon-sms.log" >&2; exit 1; }
