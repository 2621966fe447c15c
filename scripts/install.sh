#!/usr/bin/env bash
# install.sh - put Watchkeeper's files in place: `make install` and the offline bundle's
# install.sh both call it. Idempotent: running it again is the upgrade (binary, unit and the
# reference example are replaced; the config and the env file are never overwritten).
#
#   install.sh [--prefix /usr/local] [--destdir DIR] [--sysconfdir /etc] [--unitdir DIR]
#              [--binary build/watchkeeper] [--source DIR]
#   install.sh --env-template        print the commented env file and exit
#
# Installs (paths under DESTDIR when given):
#   PREFIX/bin/watchkeeper                          0755, replaced atomically (rename)
#   UNITDIR/watchkeeper.service                     0644, ExecStart/config paths rewritten
#                                                   (default UNITDIR: PREFIX/lib/systemd/system)
#   PREFIX/share/watchkeeper/watchkeeper.example.json  0644, the reference config, always replaced
#   SYSCONFDIR/watchkeeper/watchkeeper.json         0644, from the example, only when absent
#   SYSCONFDIR/watchkeeper/env                      0600, commented keys, only when absent
# As root without DESTDIR it also creates the system user `watchkeeper` and, when systemd is
# running, reloads it. It never enables or starts the service (the bundle's install.sh does).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/usr/local
DESTDIR=
SYSCONFDIR=/etc
UNITDIR=
BINARY=
USER_NAME=watchkeeper

# The secrets: every key config/README.md marks "secret" (test_install checks the list).
env_template() {
	cat <<'EOF'
# Watchkeeper's secrets, read by systemd (as root) into the daemon's environment.
# Keep this file mode 0600. Upgrades and uninstall never touch it. Every key of
# watchkeeper.json can be set here too (see config/README.md); these are the secret ones.
#WK_SLACK_SIGNING_SECRET=
#WK_SLACK_BOT_TOKEN=xoxb-...
#WK_SLACK_APP_TOKEN=xapp-...
#WK_SLACK_CLIENT_SECRET=
#WK_TEAMS_APP_PASSWORD=
#WK_SMTP_PASSWORD=
#WK_GITHUB_TOKEN=
#WK_TWILIO_AUTH_TOKEN=
# make one with: openssl rand -base64 32
#WK_SECRET_KEY=
#WK_SECRET_KEY_PREVIOUS=
# a Redis URL with a password belongs here, not in watchkeeper.json
#WK_REDIS_URL=redis://:password@127.0.0.1:6379/0
# or through Redis Sentinel, with the passwords kept apart:
#WK_REDIS_URL=redis+sentinel://host1:26379,host2:26379,host3:26379/mymaster
#WK_REDIS_PASSWORD=
#WK_REDIS_SENTINEL_PASSWORD=
EOF
}

die() { echo "install: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--prefix) PREFIX=$2; shift 2 ;;
	--destdir) DESTDIR=$2; shift 2 ;;
	--sysconfdir) SYSCONFDIR=$2; shift 2 ;;
	--unitdir) UNITDIR=$2; shift 2 ;;
	--binary) BINARY=$2; shift 2 ;;
	--source) SRC=$2; shift 2 ;;
	--env-template) env_template; exit 0 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed -e '/^set -e/d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (try --help)" ;;
	esac
done

case $PREFIX in /*) ;; *) die "--prefix must be an absolute path: $PREFIX" ;; esac
case $SYSCONFDIR in /*) ;; *) die "--sysconfdir must be an absolute path: $SYSCONFDIR" ;; esac
PREFIX=${PREFIX%/}
SYSCONFDIR=${SYSCONFDIR%/}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
BINARY=${BINARY:-$SRC/build/watchkeeper}
[ -x "$BINARY" ] || die "no executable at $BINARY (build it first: make)"
[ -f "$SRC/config/watchkeeper.service" ] || die "no config/watchkeeper.service under $SRC"

bindir=$PREFIX/bin
sharedir=$PREFIX/share/watchkeeper
confdir=$SYSCONFDIR/watchkeeper
D=${DESTDIR%/}
live=0 # installing onto this machine as root: create the user, reload systemd
if [ -z "$D" ] && [ "$(id -u)" -eq 0 ]; then live=1; fi

# A file is written beside its destination and renamed over it, so a running daemon keeps
# its old binary and nobody ever reads a half-written unit.
put() { # put MODE SOURCE DEST
	local tmp
	tmp=$(mktemp "$3.XXXXXX")
	cat "$2" >"$tmp"
	chmod "$1" "$tmp"
	mv -f "$tmp" "$3"
}

if [ "$live" -eq 1 ] && ! getent passwd "$USER_NAME" >/dev/null; then
	group=(--user-group)
	if getent group "$USER_NAME" >/dev/null; then group=(--gid "$USER_NAME"); fi
	useradd --system "${group[@]}" --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "Watchkeeper on-call bot" "$USER_NAME"
	echo "install: created system user $USER_NAME"
fi

install -d -m 0755 "$D$bindir" "$D$UNITDIR" "$D$sharedir" "$D$confdir"

put 0755 "$BINARY" "$D$bindir/watchkeeper"
echo "install: $D$bindir/watchkeeper"

unit_tmp=$(mktemp)
trap 'rm -f "$unit_tmp"' EXIT
sed -e "s|/usr/local/bin/watchkeeper|$bindir/watchkeeper|g" \
	-e "s|/etc/watchkeeper/|$confdir/|g" \
	-e "s|^User=watchkeeper$|User=$USER_NAME|" -e "s|^Group=watchkeeper$|Group=$USER_NAME|" \
	"$SRC/config/watchkeeper.service" >"$unit_tmp"
put 0644 "$unit_tmp" "$D$UNITDIR/watchkeeper.service"
echo "install: $D$UNITDIR/watchkeeper.service"

put 0644 "$SRC/config/watchkeeper.example.json" "$D$sharedir/watchkeeper.example.json"
if [ -e "$D$confdir/watchkeeper.json" ]; then
	if ! cmp -s "$D$confdir/watchkeeper.json" "$D$sharedir/watchkeeper.example.json"; then
		echo "install: kept $D$confdir/watchkeeper.json (compare with $D$sharedir/watchkeeper.example.json)"
	fi
else
	put 0644 "$SRC/config/watchkeeper.example.json" "$D$confdir/watchkeeper.json"
	echo "install: $D$confdir/watchkeeper.json (from the example)"
fi

if [ -e "$D$confdir/env" ]; then
	mode=$(stat -c %a "$D$confdir/env")
	[ "$mode" = 600 ] || echo "install: warning: $D$confdir/env is mode $mode, not 600 (it holds secrets)" >&2
	echo "install: kept $D$confdir/env"
else
	(umask 077 && env_template >"$D$confdir/env")
	chmod 0600 "$D$confdir/env"
	echo "install: $D$confdir/env (0600, put the secrets here)"
fi

if [ "$live" -eq 1 ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	echo "install: done. Start it: systemctl enable --now watchkeeper (after an upgrade: systemctl restart watchkeeper)"
else
	echo "install: done"
fi
