#!/usr/bin/env bash
# uninstall.sh - remove what scripts/install.sh put in place (`make uninstall`; the offline
# bundle's uninstall.sh calls it too). Takes the same --prefix, --destdir, --sysconfdir and
# --unitdir as install.sh.
#
# Removes the binary, the unit and the reference example; the config only when it is still
# identical to that example. Keeps SYSCONFDIR/watchkeeper/env (the secrets), a changed config
# and the system user `watchkeeper` (Debian never reuses a removed user's id safely:
# `userdel watchkeeper` by hand). As root without DESTDIR, a running service is stopped and
# disabled first and systemd reloaded after.
set -euo pipefail

PREFIX=/usr/local
DESTDIR=
SYSCONFDIR=/etc
UNITDIR=

die() { echo "uninstall: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--prefix) PREFIX=$2; shift 2 ;;
	--destdir) DESTDIR=$2; shift 2 ;;
	--sysconfdir) SYSCONFDIR=$2; shift 2 ;;
	--unitdir) UNITDIR=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed -e '/^set -e/d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (try --help)" ;;
	esac
done

PREFIX=${PREFIX%/}
SYSCONFDIR=${SYSCONFDIR%/}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
D=${DESTDIR%/}
bin=$D$PREFIX/bin/watchkeeper
unit=$D$UNITDIR/watchkeeper.service
sharedir=$D$PREFIX/share/watchkeeper
example=$sharedir/watchkeeper.example.json
confdir=$D$SYSCONFDIR/watchkeeper
live=0
if [ -z "$D" ] && [ "$(id -u)" -eq 0 ] && [ -d /run/systemd/system ]; then live=1; fi

if [ "$live" -eq 1 ] && [ -e "$unit" ]; then
	systemctl disable --now watchkeeper.service 2>/dev/null || true
fi

remove() { if [ -e "$1" ]; then rm -f "$1" && echo "uninstall: removed $1"; fi; }

if [ -e "$confdir/watchkeeper.json" ]; then
	if [ -e "$example" ] && cmp -s "$confdir/watchkeeper.json" "$example"; then
		remove "$confdir/watchkeeper.json"
	else
		echo "uninstall: kept $confdir/watchkeeper.json (changed from the example)"
	fi
fi
remove "$bin"
remove "$unit"
remove "$example"
rmdir "$sharedir" 2>/dev/null || true
[ -e "$confdir/env" ] && echo "uninstall: kept $confdir/env (secrets; remove it by hand)"
rmdir "$confdir" 2>/dev/null || true

if [ "$live" -eq 1 ]; then systemctl daemon-reload; fi
if [ -z "$D" ] && getent passwd watchkeeper >/dev/null; then
	echo "uninstall: kept the system user watchkeeper (userdel watchkeeper to remove it)"
fi
echo "uninstall: done"
