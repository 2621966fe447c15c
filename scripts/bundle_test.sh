#!/usr/bin/env bash
# bundle_test.sh - `make bundle-test` (root only; not part of `make test`): installs the newest
# build/watchkeeper-*-debian12-amd64.tar.gz in fresh Debian 12 roots with no network and checks
# it works there (scripts/bundle_check.sh, run inside each root):
#   1. chroot   debootstrap --variant=minbase bookworm, in new network, mount and PID namespaces
#               (unshare: only a loopback interface); no systemd, the daemon started by hand.
#   2. systemd  the same plus systemd, booted with systemd-nspawn --private-network: install.sh
#               starts the real sandboxed unit. Skipped, saying so, without systemd-nspawn
#               (apt-get install systemd-container) or with WK_BUNDLE_TEST_SYSTEMD=0.
# Each base is made once with debootstrap (the only step that downloads; WK_DEBIAN_MIRROR) and
# cached as build/bundle-test/*.tar.gz. Each stage is timed from unpacking its base to the
# check's last line. WK_BUNDLE_TEST_KEEP=1 keeps the roots. The daemon must listen on
# 127.0.0.1 only, as the example config says; WK_BUNDLE_TEST_ALLOW_WILDCARD=1 only warns when
# it binds every address instead.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "bundle-test: needs root (debootstrap, chroot, unshare)" >&2; exit 1; }
tarball=$(ls -t build/watchkeeper-*-debian12-amd64.tar.gz 2>/dev/null | head -n 1)
[ -n "$tarball" ] || { echo "bundle-test: no bundle (make bundle)" >&2; exit 1; }
dir=build/bundle-test
mkdir -p "$dir"

now() { date +%s.%N; }
since() { awk -v t0="$1" -v t1="$(now)" 'BEGIN {printf "%.1f", t1 - t0}'; }

base() { # base NAME [--include=...]: the cached tarball of a fresh debootstrap
	local name=$1 t0
	shift
	if [ ! -s "$dir/$name.tar.gz" ]; then
		command -v debootstrap >/dev/null || { echo "bundle-test: apt-get install debootstrap" >&2; exit 1; }
		echo "bundle-test: making the $name base (once; cached in $dir/$name.tar.gz)" >&2
		t0=$(now)
		rm -rf "$dir/base"
		debootstrap --variant=minbase "$@" bookworm "$dir/base" "${WK_DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
			>"$dir/debootstrap-$name.log" 2>&1 || { tail -n 20 "$dir/debootstrap-$name.log" >&2; exit 1; }
		rm -f "$dir/base/var/cache/apt/archives/"*.deb
		tar -C "$dir/base" -czf "$dir/$name.tar.gz.tmp" . && mv "$dir/$name.tar.gz.tmp" "$dir/$name.tar.gz"
		rm -rf "$dir/base"
		echo "bundle-test: $name base made in $(since "$t0") s ($(du -k "$dir/$name.tar.gz" | cut -f1) KiB)" >&2
	fi
	echo "$dir/$name.tar.gz"
}

unpack() { # unpack BASE ROOT: a fresh root with the bundle and the check script in /root
	rm -rf "$2"
	mkdir -p "$2"
	tar -C "$2" -xzf "$1"
	cp "$tarball" "$2/root/bundle.tar.gz"
	install -m 0755 scripts/bundle_check.sh "$2/root/bundle_check.sh"
}

verdict() { # verdict NAME LOG T0 ROOT
	local seconds
	seconds=$(since "$3")
	if tail -n 1 "$2" | grep -qx 'bundle-check: PASS'; then
		echo "bundle-test: $1: ok in $seconds s"
		[ -n "${WK_BUNDLE_TEST_KEEP:-}" ] || rm -rf "$4"
		return 0
	fi
	echo "bundle-test: $1: FAILED after $seconds s (log $2; root kept in $4)"
	return 1
}

failed=0
echo "bundle-test: $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"

# 1. chroot: a new network namespace has only a loopback interface, down: the host's ip brings
# it up before the chroot. The mount namespace keeps /proc private to this run; the PID
# namespace ends whatever the check started when it ends.
b=$(base debian12-minbase)
root=$dir/root-chroot
log=$dir/chroot.log
t0=$(now)
unpack "$b" "$root"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" # as in any chroot: no service starts
chmod 755 "$root/usr/sbin/policy-rc.d"
unshare --net --mount --pid --fork --propagation private bash -c '
	ip link set lo up
	mount -t proc proc "$1/proc"
	mount -t devpts devpts "$1/dev/pts" -o newinstance,ptmxmode=0666
	exec chroot "$1" /root/bundle_check.sh chroot /root/bundle.tar.gz' _ "$(realpath "$root")" >"$log" 2>&1 || true
grep '^bundle-check: ' "$log" | sed 's/^/  /'
verdict "chroot (minbase, no systemd)" "$log" "$t0" "$root" || failed=1

# 2. systemd: booted in systemd-nspawn; a oneshot unit runs the check after multi-user.target
# and powers the container off. --keep-unit and --register=no: the host need not run systemd.
if [ "${WK_BUNDLE_TEST_SYSTEMD:-1}" = 0 ]; then
	echo "bundle-test: systemd stage skipped (WK_BUNDLE_TEST_SYSTEMD=0): the unit was not started"
elif ! command -v systemd-nspawn >/dev/null; then
	echo "bundle-test: systemd stage skipped: no systemd-nspawn (apt-get install systemd-container): the unit was not started"
else
	b=$(base debian12-minbase-systemd --include=systemd,systemd-sysv,dbus)
	root=$dir/root-systemd
	log=$dir/systemd.log
	t0=$(now)
	unpack "$b" "$root"
	cat >"$root/etc/systemd/system/bundle-check.service" <<EOF
[Unit]
Description=Install and check the Watchkeeper bundle
After=multi-user.target
[Service]
Type=oneshot
Environment=WK_BUNDLE_TEST_ALLOW_WILDCARD=${WK_BUNDLE_TEST_ALLOW_WILDCARD:-}
ExecStart=/bin/sh -c '/root/bundle_check.sh systemd /root/bundle.tar.gz >/root/bundle-check.log 2>&1'
ExecStopPost=/bin/systemctl poweroff --no-block
[Install]
WantedBy=multi-user.target
EOF
	ln -s /etc/systemd/system/bundle-check.service "$root/etc/systemd/system/multi-user.target.wants/"
	timeout 300 systemd-nspawn -D "$root" --boot --private-network --register=no --keep-unit \
		>"$dir/systemd-console.log" 2>&1 || true
	cp "$root/root/bundle-check.log" "$log" 2>/dev/null || echo "bundle-check: FAILED: no log (see $dir/systemd-console.log)" >"$log"
	grep '^bundle-check: ' "$log" | sed 's/^/  /'
	verdict "systemd-nspawn (minbase + systemd, booted)" "$log" "$t0" "$root" || failed=1
fi
exit "$failed"
