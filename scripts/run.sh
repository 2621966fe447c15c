#!/usr/bin/env bash
# run.sh - run by `make run` after building build/watchkeeper: a private Redis under
# build/run/, then the daemon in the foreground.
#   - WK_SLACK_SIGNING_SECRET unset: `--console` (type commands on stdin; the HTTP server
#     runs too), for trying the bot without Slack.
#   - set: the daemon alone, for a real Slack app pointed at WK_PUBLIC_URL.
# WK_LISTEN defaults to 127.0.0.1:8080; WK_CONFIG to config/watchkeeper.example.json.
# Redis is stopped when the daemon exits (or on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${WK_BINARY:-build/watchkeeper}
CONFIG=${WK_CONFIG:-config/watchkeeper.example.json}
RUNDIR=$PWD/build/run

[ -x "$BIN" ] || { echo "run.sh: $BIN not built (make all)" >&2; exit 1; }
[ -f "$CONFIG" ] || { echo "run.sh: no config file $CONFIG" >&2; exit 1; }

mkdir -p "$RUNDIR"
trap 'scripts/redis.sh stop "$RUNDIR"' EXIT
WK_REDIS_URL=$(scripts/redis.sh start "$RUNDIR")
export WK_REDIS_URL
export WK_LISTEN=${WK_LISTEN:-127.0.0.1:8080}
echo "run.sh: redis at $WK_REDIS_URL (port $(cat "$RUNDIR/redis.port")), HTTP on $WK_LISTEN" >&2

args=(-c "$CONFIG")
if [ -z "${WK_SLACK_SIGNING_SECRET:-}" ]; then
	echo "run.sh: WK_SLACK_SIGNING_SECRET unset: console mode (try: /oncall join, /oncall; Ctrl-D quits)" >&2
	args+=(--console)
fi
# Not exec: the EXIT trap must run after the daemon exits. Ctrl-C reaches the daemon too
# (same process group); this shell only notes it (a handler, not SIG_IGN, so the daemon
# keeps the default disposition), waits for the daemon, then stops Redis.
trap ':' INT
status=0
"$BIN" "${args[@]}" || status=$?
exit "$status"
