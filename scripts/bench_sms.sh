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
. scripts/bench_common.sh   # BIN, CONFIG, DIR

N=${WK_BENCH_SMS:-20000}
SID=AC0123456789abcdef0123456789abcdef
TOKEN=bench_twilio_token_not_real
ORG=slack:T0SMSBENCH

mkdir -p "$DIR"
RDIR=$(mktemp -d /tmp/wk-bench-sms-XXXXXX)
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
bench_start_fake "$RDIR/fake.out" "$DIR/fake_twilio.log" build/fake_twilio 0 "$SID" "$TOKEN"
fake_pid=$FAKE_PID
fake_port=$FAKE_PORT

port=$(bench_free_port)
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
