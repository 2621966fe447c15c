#!/usr/bin/env bash
# redis.sh - a private, throw-away redis-server for development, tests and benchmarks.
#
#   scripts/redis.sh start DIR [--keep]
#                                start redis in DIR (socket DIR/redis.sock, a free loopback
#                                TCP port in DIR/redis.port, pidfile DIR/redis.pid, log
#                                DIR/redis.log), wait for PING, print unix://DIR/redis.sock
#   scripts/redis.sh stop DIR    stop it (SHUTDOWN, then SIGTERM/SIGKILL if needed)
#   scripts/redis.sh url DIR     print the URL of a running one
#
# Without --keep nothing is persisted (--save '' --appendonly no): tests and benchmarks.
# With --keep (make run) the data lives in DIR as an append-only file, fsynced every
# second, and the next start in the same DIR loads it. DIR is created if missing.
set -euo pipefail

usage() { echo "usage: $0 start DIR [--keep] | stop DIR | url DIR" >&2; exit 2; }
[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$1" = start ] && [ "$3" = --keep ]; } || usage
cmd=$1
dir=$2
appendonly=no
[ "${3:-}" = --keep ] && appendonly=yes

free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# True while pid runs; a zombie counts as gone (PID 1 may reap daemonized children late).
alive() {
	local state
	kill -0 "$1" 2>/dev/null || return 1
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

running_pid() {
	local pid
	[ -f "$dir/redis.pid" ] || return 1
	pid=$(cat "$dir/redis.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && alive "$pid" || return 1
	echo "$pid"
}

start() {
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if running_pid >/dev/null; then
		echo "unix://$dir/redis.sock"
		return 0
	fi
	rm -f "$dir/redis.sock" "$dir/redis.pid"
	# A unix socket path is limited to 107 bytes.
	if [ ${#dir} -gt 90 ]; then
		echo "redis.sh: directory path too long for a unix socket: $dir" >&2
		exit 1
	fi
	local port tries=0
	while :; do
		port=$(free_port)
		redis-server --port "$port" --bind 127.0.0.1 \
			--unixsocket "$dir/redis.sock" --unixsocketperm 700 \
			--save '' --appendonly "$appendonly" --appendfsync everysec --dir "$dir" \
			--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
			--protected-mode yes
		# Wait up to 5 s for PING; a lost race for the port makes redis exit: retry.
		local i
		for i in $(seq 1 100); do
			if timeout 2 redis-cli -s "$dir/redis.sock" ping 2>/dev/null | grep -q PONG; then
				echo "$port" > "$dir/redis.port"
				echo "unix://$dir/redis.sock"
				return 0
			fi
			if [ "$i" -gt 10 ] && ! running_pid >/dev/null; then
				break
			fi
			sleep 0.05
		done
		tries=$((tries + 1))
		if [ "$tries" -ge 3 ]; then
			echo "redis.sh: redis-server did not answer PING; last log lines:" >&2
			tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
			exit 1
		fi
	done
}

stop() {
	[ -d "$dir" ] || return 0
	local pid i
	pid=$(running_pid) || { rm -f "$dir/redis.sock" "$dir/redis.pid"; return 0; }
	# timeout: a redis under CLIENT PAUSE would hold SHUTDOWN back. NOSAVE skips only
	# the RDB snapshot; an append-only file (--keep) is flushed and kept.
	timeout 2 redis-cli -s "$dir/redis.sock" shutdown nosave >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		alive "$pid" || break
		sleep 0.05
	done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/redis.sock" "$dir/redis.pid" "$dir/redis.port"
}

case "$cmd" in
start) start ;;
stop) stop ;;
url)
	running_pid >/dev/null || { echo "redis.sh: no redis running in $dir" >&2; exit 1; }
	echo "unix://$(cd "$dir" && pwd)/redis.sock"
	;;
*) usage ;;
esac
