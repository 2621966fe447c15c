#!/usr/bin/env bash
# setup.sh - install the Debian 12 packages Watchkeeper builds, tests and benchmarks with.
# Idempotent and quiet when everything is there (it runs before every make run/test/bench).
# Never starts the system redis service: the project only runs private redis-servers.
set -euo pipefail

PACKAGES=(
	libwebsockets-dev libcurl4-openssl-dev libjansson-dev libhiredis-dev libssl-dev
	redis-server libcmocka-dev pkg-config wrk clang libclang-rt-14-dev
	python3 python3-icalendar python3-cryptography tzdata curl make gcc prometheus-alertmanager
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#PACKAGES[@]} packages present"
	exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "setup: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
	SUDO=(sudo)
fi

# policy-rc.d exit 101 forbids maintainer scripts from starting services: the postinsts of
# redis-server and prometheus-alertmanager would otherwise start system instances (tests run
# their own, on loopback). Only added when none exists, and removed again afterwards.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
	"${SUDO[@]}" chmod 755 "$policy"
	added_policy=1
fi
cleanup() { [ "$added_policy" -eq 1 ] && "${SUDO[@]}" rm -f "$policy"; return 0; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
