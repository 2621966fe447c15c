#!/usr/bin/env bash
# run.sh - run by `make run` after building build/watchkeeper: a private Redis under
# build/run/ (WK_RUN_DIR), then the daemon in the foreground.
#   - neither WK_SLACK_SIGNING_SECRET nor WK_SLACK_APP_TOKEN set: `--console` (type
#     commands on stdin; the HTTP server runs too), for trying the bot without Slack.
#   - WK_SLACK_APP_TOKEN set: Socket Mode; the daemon dials out to Slack, no public URL.
#   - WK_SLACK_SIGNING_SECRET set: the daemon alone, for a Slack app pointed at WK_PUBLIC_URL.
# WK_LISTEN defaults to 127.0.0.1:8080; WK_CONFIG to config/watchkeeper.example.json.
#
# One `make run` per directory: a lock (DIR/run.lock) held for the whole run makes a second
# one stop at once with a sentence, before it touches the first one's Redis. The data is
# kept in DIR (Redis's append-only file) from one run to the next; deleting DIR starts
# afresh. Redis is stopped when the daemon exits (or on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${WK_BINARY:-build/watchkeeper}
CONFIG=${WK_CONFIG:-config/watchkeeper.example.json}
RUNDIR=${WK_RUN_DIR:-$PWD/build/run}
export WK_LISTEN=${WK_LISTEN:-127.0.0.1:8080}

[ -x "$BIN" ] || { echo "run.sh: $BIN not built (make all)" >&2; exit 1; }
[ -f "$CONFIG" ] || { echo "run.sh: no config file $CONFIG" >&2; exit 1; }

mkdir -p "$RUNDIR"
RUNDIR=$(cd "$RUNDIR" && pwd)
exec 9>>"$RUNDIR/run.lock"
if ! flock -n 9; then
	echo "make run: another \`make run\` is already running from $RUNDIR" \
		"(HTTP on $(cat "$RUNDIR/listen" 2>/dev/null || echo '?'), pid $(cat "$RUNDIR/run.pid" 2>/dev/null || echo '?'))." \
		"Use that one, or quit it first (Ctrl-D or \`quit\` in its console). To run a second" \
		"one beside it, give it its own directory and port:" \
		"WK_RUN_DIR=/tmp/wk2 WK_LISTEN=127.0.0.1:8081 make run" >&2
	exit 1
fi
echo "$$" >"$RUNDIR/run.pid"
echo "$WK_LISTEN" >"$RUNDIR/listen"

# Redis daemonizes: it must not inherit the lock, or the lock would outlive this run.
trap 'scripts/redis.sh stop "$RUNDIR" 9>&-; rm -f "$RUNDIR/run.pid" "$RUNDIR/listen"' EXIT
kept=no
[ -d "$RUNDIR/appendonlydir" ] && kept=yes
WK_REDIS_URL=$(scripts/redis.sh start "$RUNDIR" --keep 9>&-)
export WK_REDIS_URL
echo "run.sh: redis at $WK_REDIS_URL (port $(cat "$RUNDIR/redis.port")), HTTP on $WK_LISTEN" >&2
if [ "$kept" = yes ]; then
	echo "run.sh: carrying on with the data kept in $RUNDIR (delete that directory to start afresh)" >&2
else
	echo "run.sh: your data is kept in $RUNDIR between runs (delete that directory to start afresh)" >&2
fi
echo "run.sh: operator commands reach this Redis with WK_REDIS_URL=$WK_REDIS_URL" >&2

args=(-c "$CONFIG")
if [ -n "${WK_SLACK_APP_TOKEN:-}" ]; then
	echo "run.sh: WK_SLACK_APP_TOKEN set: Socket Mode (the daemon connects to Slack; no public URL needed)" >&2
elif [ -z "${WK_SLACK_SIGNING_SECRET:-}" ]; then
	echo "run.sh: neither WK_SLACK_SIGNING_SECRET nor WK_SLACK_APP_TOKEN set: console mode" \
		"(try: /oncall join, /oncall; Ctrl-D quits)" >&2
	args+=(--console)
fi
# Not exec: the EXIT trap must run after the daemon exits. Ctrl-C reaches the daemon too
# (same process group); this shell only notes it (a handler, not SIG_IGN, so the daemon
# keeps the default disposition), waits for the daemon, then stops Redis.
trap ':' INT
status=0
"$BIN" "${args[@]}" || status=$?
exit "$status"
