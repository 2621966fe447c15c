#!/usr/bin/env bash
# bundle_test.sh - `make bundle-test` (root only; not part of `make test`): installs the
# offline bundle in a fresh minimal Debian 12 root with no network and checks it works.
#
# 1. The base: `debootstrap --variant=minbase bookworm`, made once and cached as
#    build/bundle-test/debian12-minbase.tar.gz (the only step that downloads; WK_DEBIAN_MIRROR).
# 2. Timed from here: the base unpacked into build/bundle-test/root, then, in new network,
#    mount and PID namespaces (unshare: only a loopback interface, nothing reachable) and
#    chrooted there: the bundle's install.sh, then as the user `watchkeeper`:
#    `watchkeeper --version`, `--check-config`, the daemon against the bundled redis-server
#    (a private one on a Unix socket) answering GET /healthz and /readyz with 200, exit 0 on
#    SIGTERM; then uninstall.sh (binary and unit gone, env kept).
# There is no systemd in the chroot: the unit is checked by tests/integration/test_install.py
# (systemd-analyze verify and security), not started here.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "bundle-test: needs root (debootstrap, chroot, unshare)" >&2; exit 1; }
tarball=$(ls -t build/watchkeeper-*-debian12-amd64.tar.gz 2>/dev/null | head -n 1)
[ -n "$tarball" ] || { echo "bundle-test: no bundle (make bundle)" >&2; exit 1; }
dir=build/bundle-test
base=$dir/debian12-minbase.tar.gz
root=$dir/root
mkdir -p "$dir"

if [ ! -s "$base" ]; then
	command -v debootstrap >/dev/null || { echo "bundle-test: apt-get install debootstrap" >&2; exit 1; }
	echo "bundle-test: making the minimal Debian 12 base (once; cached in $base)"
	t0=$(date +%s.%N)
	rm -rf "$dir/base"
	debootstrap --variant=minbase bookworm "$dir/base" "${WK_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$dir/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$dir/debootstrap.log" >&2; exit 1; }
	apt_lists=$(find "$dir/base/var/lib/apt/lists" -type f -name '*_Packages' | wc -l)
	rm -rf "$dir/base/var/cache/apt/archives/"*.deb
	tar -C "$dir/base" -czf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf "$dir/base"
	echo "bundle-test: base made in $(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {printf "%.1f", t1 - t0}') s ($apt_lists apt lists; $(du -k "$base" | cut -f1) KiB)"
fi

t0=$(date +%s.%N)
echo "bundle-test: unpacking the base"
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xzf "$base"
cp "$tarball" "$root/tmp/bundle.tar.gz"
# As in any chroot: no service starts from a package's maintainer scripts.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

cat >"$root/tmp/check.sh" <<'EOF'
#!/bin/bash
# Runs inside the chroot, in its own network namespace.
set -euo pipefail
t0=$(date +%s.%N)
step() { echo "bundle-test: [$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {printf "%5.1f s", t1 - t0}')] $*"; }
fail() { echo "bundle-test: FAILED: $*" >&2; exit 1; }
ifaces=$(awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}' /proc/net/dev | tr '\n' ' ')
[ "$ifaces" = "lo " ] || fail "network interfaces other than lo: $ifaces"
step "no network (interfaces: $ifaces)"
if apt-get -q -o Acquire::Retries=0 -o Acquire::http::Timeout=3 update >/tmp/apt.log 2>&1 &&
	! grep -q '^W: \|^Err:' /tmp/apt.log; then
	fail "apt-get update worked: the network is reachable"
fi
step "apt-get update fails"
cd /tmp
tar -xzf bundle.tar.gz
cd watchkeeper-*-debian12-amd64
./install.sh
step "installed"
id watchkeeper >/dev/null || fail "no user watchkeeper"
[ "$(getent passwd watchkeeper | cut -d: -f7)" = /usr/sbin/nologin ] || fail "watchkeeper has a login shell"
[ "$(stat -c %a /etc/watchkeeper/env)" = 600 ] || fail "env is not 0600"
[ "$(stat -c %a /usr/local/bin/watchkeeper)" = 755 ] || fail "binary is not 0755"
grep -qx 'ExecStart=/usr/local/bin/watchkeeper -c /etc/watchkeeper/watchkeeper.json' \
	/usr/local/lib/systemd/system/watchkeeper.service || fail "unit's ExecStart"
[ -s /etc/ssl/certs/ca-certificates.crt ] || fail "no CA bundle (ca-certificates)"

as_wk() { setpriv --reuid=watchkeeper --regid=watchkeeper --init-groups "$@"; }
step "$(as_wk /usr/local/bin/watchkeeper --version)"

redis-server --port 0 --unixsocket /tmp/redis.sock --unixsocketperm 777 --save "" --appendonly no \
	--daemonize yes --pidfile /tmp/redis.pid --logfile /tmp/redis.log
for _ in $(seq 100); do [ -S /tmp/redis.sock ] && break; sleep 0.05; done
[ -S /tmp/redis.sock ] || fail "the bundled redis-server did not start: $(tail -n 5 /tmp/redis.log)"
step "$(redis-server --version | cut -d' ' -f1-3) running"
export WK_REDIS_URL=unix:///tmp/redis.sock WK_LISTEN=127.0.0.1:8080
as_wk /usr/local/bin/watchkeeper -c /etc/watchkeeper/watchkeeper.json --check-config >/tmp/check-config.out 2>&1 ||
	fail "--check-config: $(tail -n 5 /tmp/check-config.out)"
step "--check-config exit 0"

get() { # get PATH: the status code, or nothing
	exec 3<>/dev/tcp/127.0.0.1/8080 || return 0
	printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3
	head -n 1 <&3 | cut -d' ' -f2
	exec 3<&-
}
# setpriv itself, not the as_wk function: a function in the background is a subshell, and
# $! would be that shell rather than the daemon.
setpriv --reuid=watchkeeper --regid=watchkeeper --init-groups \
	/usr/local/bin/watchkeeper -c /etc/watchkeeper/watchkeeper.json 2>/tmp/daemon.log &
pid=$!
code=
for _ in $(seq 100); do
	code=$(get /healthz 2>/dev/null || true)
	[ "$code" = 200 ] && break
	sleep 0.1
done
[ "$code" = 200 ] || fail "GET /healthz: '$code'; $(tail -n 5 /tmp/daemon.log)"
code=$(get /readyz)
[ "$code" = 200 ] || fail "GET /readyz: '$code'"
step "GET /healthz 200, GET /readyz 200"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || fail "daemon exit $rc on SIGTERM; $(tail -n 5 /tmp/daemon.log)"
step "daemon exit 0 on SIGTERM"
kill "$(cat /tmp/redis.pid)"

echo "WK_SLACK_BOT_TOKEN=xoxb-kept" >>/etc/watchkeeper/env
./uninstall.sh
[ ! -e /usr/local/bin/watchkeeper ] && [ ! -e /usr/local/lib/systemd/system/watchkeeper.service ] ||
	fail "uninstall left the binary or the unit"
grep -q xoxb-kept /etc/watchkeeper/env || fail "uninstall lost /etc/watchkeeper/env"
step "uninstalled; /etc/watchkeeper/env kept"
EOF
chmod 755 "$root/tmp/check.sh"

# A new network namespace has only a loopback interface, down: bring it up with the host's
# ip before entering the chroot. The mount namespace keeps /proc private to this run, and the
# PID namespace ends every process started inside when the check ends.
rc=0
unshare --net --mount --pid --fork --propagation private bash -c '
	ip link set lo up
	mount -t proc proc "$1/proc"
	mount -t devpts devpts "$1/dev/pts" -o newinstance,ptmxmode=0666
	exec chroot "$1" /tmp/check.sh' _ "$(realpath "$root")" || rc=$?
seconds=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {printf "%.1f", t1 - t0}')
if [ "$rc" -ne 0 ]; then
	echo "bundle-test: FAILED (exit $rc) after ${seconds%.*} s; the root is left in $root"
	exit 1
fi
[ -n "${WK_BUNDLE_TEST_KEEP:-}" ] || rm -rf "$root"
printf "bundle-test: ok: %s (%s KiB) installed and served /healthz in a fresh Debian 12 root without network in %s s\n" \
	"$(basename "$tarball")" "$(du -k "$tarball" | cut -f1)" "$seconds"
