#!/bin/bash
# bundle_check.sh MODE BUNDLE - run by bundle_test.sh INSIDE a fresh Debian 12 root that has no
# network: unpacks the bundle, runs its install.sh, checks what a user gets, runs uninstall.sh.
#   chroot    minbase in a chroot, no systemd: the daemon is started by hand as the user
#             watchkeeper against the bundled redis-server (a private one on a Unix socket)
#   systemd   minbase + systemd booted in systemd-nspawn: install.sh itself enables and starts
#             redis-server and the sandboxed unit; the running daemon's sandbox is checked
# Prints `bundle-check: [N s] step` lines; the last line is `bundle-check: PASS` or
# `bundle-check: FAILED: why`.
set -euo pipefail
mode=$1
bundle=$2
t0=$(date +%s.%N)
step() { echo "bundle-check: [$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {printf "%5.1f s", t1 - t0}')] $*"; }
fail() { echo "bundle-check: FAILED: $*"; exit 1; }

ifaces=$(awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}' /proc/net/dev | tr '\n' ' ')
[ "$ifaces" = "lo " ] || fail "network interfaces other than lo: $ifaces"
if apt-get -q -o Acquire::Retries=0 -o Acquire::http::Timeout=3 update >/tmp/apt.log 2>&1 &&
	! grep -q '^W: \|^Err:' /tmp/apt.log; then
	fail "apt-get update worked: the network is reachable"
fi
step "no network: only lo, apt-get update fails"

work=$(mktemp -d /var/tmp/bundle.XXXXXX)
tar -C "$work" -xzf "$bundle"
cd "$work"/watchkeeper-*-debian12-amd64
./install.sh
step "install.sh done"
[ "$(getent passwd watchkeeper | cut -d: -f7)" = /usr/sbin/nologin ] || fail "no system user watchkeeper with nologin"
[ "$(stat -c %a /etc/watchkeeper/env)" = 600 ] || fail "env is not 0600"
[ "$(stat -c %a /usr/local/bin/watchkeeper)" = 755 ] || fail "binary is not 0755"
grep -qx 'ExecStart=/usr/local/bin/watchkeeper -c /etc/watchkeeper/watchkeeper.json' \
	/usr/local/lib/systemd/system/watchkeeper.service || fail "unit's ExecStart"
[ -s /etc/ssl/certs/ca-certificates.crt ] || fail "no CA bundle (ca-certificates)"
step "$(setpriv --reuid=watchkeeper --regid=watchkeeper --init-groups /usr/local/bin/watchkeeper --version)"

get() { # get PATH: the status code of GET http://127.0.0.1:8080PATH, or nothing
	exec 3<>/dev/tcp/127.0.0.1/8080 || return 0
	printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3
	head -n 1 <&3 | cut -d' ' -f2
	exec 3<&-
}
wait_healthz() {
	local code=
	for _ in $(seq 150); do
		code=$(get /healthz 2>/dev/null || true)
		[ "$code" = 200 ] && break
		sleep 0.1
	done
	[ "$code" = 200 ] || fail "GET /healthz: '$code'; $1"
	code=$(get /readyz)
	[ "$code" = 200 ] || fail "GET /readyz: '$code'"
	# What listens on port 8080 (hex 1F90): only 127.0.0.1 (0100007F), as the config says.
	# A sandbox that breaks getifaddrs() makes libwebsockets bind every address instead.
	local bound
	bound=$(awk '$4 == "0A" && $2 ~ /:1F90$/ {print $2}' /proc/net/tcp /proc/net/tcp6 | tr '\n' ' ')
	if [ "$bound" = "0100007F:1F90 " ]; then
		step "GET /healthz 200, GET /readyz 200; listening on 127.0.0.1:8080 only"
	elif [ -n "${WK_BUNDLE_TEST_ALLOW_WILDCARD:-}" ]; then
		step "GET /healthz 200, GET /readyz 200; WARNING: port 8080 bound to '$bound' (every address), not 127.0.0.1 (allowed by WK_BUNDLE_TEST_ALLOW_WILDCARD)"
	else
		fail "port 8080 bound to '$bound' (every address), not only 127.0.0.1 as listen says"
	fi
}

if [ "$mode" = chroot ]; then
	redis-server --port 0 --unixsocket /tmp/redis.sock --unixsocketperm 777 --save "" --appendonly no \
		--daemonize yes --pidfile /tmp/redis.pid --logfile /tmp/redis.log
	for _ in $(seq 100); do [ -S /tmp/redis.sock ] && break; sleep 0.05; done
	[ -S /tmp/redis.sock ] || fail "the bundled redis-server did not start: $(tail -n 5 /tmp/redis.log)"
	step "$(redis-server --version | cut -d' ' -f1-3) running"
	export WK_REDIS_URL=unix:///tmp/redis.sock WK_LISTEN=127.0.0.1:8080
	setpriv --reuid=watchkeeper --regid=watchkeeper --init-groups \
		/usr/local/bin/watchkeeper -c /etc/watchkeeper/watchkeeper.json --check-config >/tmp/check-config.out 2>&1 ||
		fail "--check-config: $(tail -n 5 /tmp/check-config.out)"
	step "--check-config exit 0"
	setpriv --reuid=watchkeeper --regid=watchkeeper --init-groups \
		/usr/local/bin/watchkeeper -c /etc/watchkeeper/watchkeeper.json 2>/tmp/daemon.log &
	pid=$!
	wait_healthz "$(tail -n 5 /tmp/daemon.log)"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "daemon exit $rc on SIGTERM; $(tail -n 5 /tmp/daemon.log)"
	grep -q 'level=error' /tmp/daemon.log && fail "errors in the log: $(grep level=error /tmp/daemon.log | head -n 3)"
	step "daemon exit 0 on SIGTERM"
	kill "$(cat /tmp/redis.pid)"
else
	systemctl is-active --quiet redis-server.service || fail "redis-server.service is not active"
	systemctl is-enabled --quiet watchkeeper.service || fail "watchkeeper.service is not enabled"
	(set -a && . /etc/watchkeeper/env && /usr/local/bin/watchkeeper -c /etc/watchkeeper/watchkeeper.json --check-config) \
		>/tmp/check-config.out 2>&1 || fail "--check-config: $(tail -n 5 /tmp/check-config.out)"
	step "--check-config exit 0"
	wait_healthz "$(journalctl -u watchkeeper -n 5 --no-pager)"
	pid=$(systemctl show -p MainPID --value watchkeeper.service)
	status=/proc/$pid/status
	[ "$(stat -c %U "/proc/$pid")" = watchkeeper ] || fail "the daemon runs as $(stat -c %U "/proc/$pid")"
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$status" || fail "NoNewPrivs is not set"
	grep -q '^Seccomp:[[:space:]]*2$' "$status" || fail "no seccomp filter"
	grep -q '^CapEff:[[:space:]]*0*$' "$status" && grep -q '^CapBnd:[[:space:]]*0*$' "$status" ||
		fail "capabilities left: $(grep ^Cap "$status" | tr '\n' ' ')"
	ro=$(awk '$5 == "/" {print $6}' "/proc/$pid/mountinfo" | cut -d, -f1)
	[ "$ro" = ro ] || fail "/ is not read-only for the daemon (ProtectSystem=strict)"
	step "sandbox: user watchkeeper, NoNewPrivs, seccomp, no capabilities, / read-only"
	# Redis over its Unix socket, reached through the group redis (socket 770 redis:redis): the
	# unit's PrivateUsers= and ProtectSystem=strict must leave that working.
	printf 'unixsocket /run/redis/redis-server.sock\nunixsocketperm 770\n' >>/etc/redis/redis.conf
	systemctl restart redis-server.service
	usermod -a -G redis watchkeeper
	echo "WK_REDIS_URL=unix:///run/redis/redis-server.sock" >>/etc/watchkeeper/env
	systemctl restart watchkeeper.service
	wait_healthz "$(journalctl -u watchkeeper -n 5 --no-pager)"
	[ "$(journalctl -u watchkeeper --no-pager -o cat | grep 'event=daemon.start' | tail -n 1 | grep -o 'redis=[a-z]*')" = redis=unix ] ||
		fail "the restarted daemon does not use the Unix socket"
	step "the same over Redis's Unix socket (770 redis:redis, watchkeeper in the group redis)"
	# The upgrade: install.sh again restarts the daemon and keeps the config and env.
	before=$(systemctl show -p MainPID --value watchkeeper.service)
	sum=$(cat /etc/watchkeeper/env /etc/watchkeeper/watchkeeper.json | md5sum)
	./install.sh >/tmp/reinstall.log 2>&1 || fail "install.sh again: $(tail -n 5 /tmp/reinstall.log)"
	grep -q 'every bundled package is already installed' /tmp/reinstall.log || fail "install.sh again reinstalled packages"
	after=$(systemctl show -p MainPID --value watchkeeper.service)
	[ "$after" != "$before" ] && [ "$after" != 0 ] || fail "install.sh again did not restart the daemon ($before -> $after)"
	[ "$(cat /etc/watchkeeper/env /etc/watchkeeper/watchkeeper.json | md5sum)" = "$sum" ] || fail "install.sh again changed env or config"
	wait_healthz "$(journalctl -u watchkeeper -n 5 --no-pager)"
	step "install.sh again (the upgrade): no package reinstalled, daemon restarted, env and config kept"
	systemctl stop watchkeeper.service
	result=$(systemctl show -p Result --value watchkeeper.service)
	[ "$result" = success ] || fail "stop: Result=$result; $(journalctl -u watchkeeper -n 5 --no-pager)"
	journalctl -u watchkeeper --no-pager | grep -q 'level=error' &&
		fail "errors in the log: $(journalctl -u watchkeeper --no-pager | grep level=error | head -n 3)"
	step "systemctl stop: Result=success, no error in the journal"
fi

echo "WK_SLACK_BOT_TOKEN=xoxb-kept" >>/etc/watchkeeper/env
./uninstall.sh
[ ! -e /usr/local/bin/watchkeeper ] && [ ! -e /usr/local/lib/systemd/system/watchkeeper.service ] ||
	fail "uninstall left the binary or the unit"
grep -q xoxb-kept /etc/watchkeeper/env || fail "uninstall lost /etc/watchkeeper/env"
step "uninstall.sh: binary and unit gone, /etc/watchkeeper/env kept"
echo "bundle-check: PASS"
