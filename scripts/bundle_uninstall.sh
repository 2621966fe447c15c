#!/usr/bin/env bash
# uninstall.sh of the offline bundle (scripts/bundle.sh copies this file into the tarball).
# Stops and removes the daemon, its unit and the unchanged example config
# (files/scripts/uninstall.sh, as `make uninstall`). Keeps /etc/watchkeeper/env (the
# secrets), a changed config, the system user, and the Debian packages: the libraries may
# serve other programs, and redis-server holds the on-call state. Remove them by hand:
#   apt-get purge redis-server redis-tools   (deletes /var/lib/redis: back it up first)
#
#   sudo ./uninstall.sh [--prefix /usr/local]
set -euo pipefail
cd "$(dirname "$0")"
prefix=/usr/local
while [ $# -gt 0 ]; do
	case $1 in
	--prefix) prefix=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed -e '/^set -e/d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "uninstall: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "uninstall: run as root (sudo ./uninstall.sh)" >&2; exit 1; }
files/scripts/uninstall.sh --prefix "$prefix"
echo "uninstall: the Debian packages stay installed (see README)"
