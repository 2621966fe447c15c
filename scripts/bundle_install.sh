#!/usr/bin/env bash
# install.sh of the offline bundle (scripts/bundle.sh copies this file into the tarball).
# Installs Watchkeeper on Debian 12 amd64 with no network: the bundled .debs (each only when
# it is missing or older here, so nothing is downgraded), the system user, the files
# (files/scripts/install.sh, as `make install`), then enables and starts the services when
# systemd runs. Running it again upgrades; the config and /etc/watchkeeper/env are kept.
#
#   sudo ./install.sh [--no-redis] [--no-start] [--prefix /usr/local] [--force]
#     --no-redis   skip the bundled redis-server (use WK_REDIS_URL in /etc/watchkeeper/env)
#     --no-start   install, but do not enable or start anything
#     --force      install on something that is not Debian 12 amd64
set -euo pipefail
cd "$(dirname "$0")"

redis=1
start=1
force=0
prefix=/usr/local
while [ $# -gt 0 ]; do
	case $1 in
	--no-redis) redis=0; shift ;;
	--no-start) start=0; shift ;;
	--force) force=1; shift ;;
	--prefix) prefix=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed -e '/^set -e/d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
done

[ "$(id -u)" -eq 0 ] || { echo "install: run as root (sudo ./install.sh)" >&2; exit 1; }
. /etc/os-release
if [ "$force" -eq 0 ] && { [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ] || [ "$(dpkg --print-architecture)" != amd64 ]; }; then
	echo "install: this bundle is for Debian 12 amd64, not ${PRETTY_NAME:-?} $(dpkg --print-architecture) (--force to try anyway)" >&2
	exit 1
fi
sha256sum --quiet -c SHA256SUMS || { echo "install: the bundle is damaged (SHA256SUMS)" >&2; exit 1; }

# The .debs to install: those whose package is not installed, or installed older.
debs=()
dirs=(debs)
[ "$redis" -eq 1 ] && dirs+=(debs-redis)
for dir in "${dirs[@]}"; do
	for deb in "$dir"/*.deb; do
		[ -e "$deb" ] || continue
		pkg=$(dpkg-deb -f "$deb" Package)
		ver=$(dpkg-deb -f "$deb" Version)
		have=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$pkg" 2>/dev/null || true)
		if [ "${have%% *}" = installed ] && dpkg --compare-versions "${have#* }" ge "$ver"; then
			continue
		fi
		debs+=("$deb")
	done
done
if [ ${#debs[@]} -gt 0 ]; then
	echo "install: dpkg -i ${#debs[@]} packages"
	# No questions (debconf's defaults); dpkg orders unpacking and configuring itself.
	DEBIAN_FRONTEND=noninteractive dpkg -i "${debs[@]}"
else
	echo "install: every bundled package is already installed"
fi

files/scripts/install.sh --source files --binary files/bin/watchkeeper --prefix "$prefix"

if [ "$start" -eq 0 ]; then
	echo "install: not started (--no-start): systemctl enable --now watchkeeper"
elif [ ! -d /run/systemd/system ]; then
	echo "install: systemd is not running here: start $prefix/bin/watchkeeper -c /etc/watchkeeper/watchkeeper.json yourself"
else
	[ "$redis" -eq 1 ] && systemctl enable --now redis-server.service
	systemctl enable watchkeeper.service
	# restart, not start: after an upgrade the new binary must run.
	systemctl restart watchkeeper.service
	for _ in $(seq 50); do
		systemctl is-active --quiet watchkeeper.service && break
		sleep 0.2
	done
	if systemctl is-active --quiet watchkeeper.service; then
		echo "install: watchkeeper is running (journalctl -u watchkeeper)"
	else
		journalctl -u watchkeeper.service -n 20 --no-pager >&2 || true
		echo "install: watchkeeper did not start; see above, fix /etc/watchkeeper/*, then systemctl restart watchkeeper" >&2
		exit 1
	fi
fi
