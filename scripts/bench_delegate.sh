#!/usr/bin/env bash
# bench_delegate.sh - run by `make bench`: the cost of finding who an incident pages.
#
# Starts a private Redis and runs build/bench_delegate against it: an org of 2,000 members,
# 200 services and 100 delegation rules; routing plus the first step's people, per incident,
# as daemon time (p50/p99) and Redis round trips, by kind of rule target.
set -euo pipefail
cd "$(dirname "$0")/.."

RDIR=$(mktemp -d /tmp/wk-bench-deleg-XXXXXX)
cleanup() {
	scripts/redis.sh stop "$RDIR" >/dev/null 2>&1 || true
	rm -rf "$RDIR"
}
trap cleanup EXIT
build/bench_delegate "$(scripts/redis.sh start "$RDIR")"
