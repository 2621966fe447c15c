#!/usr/bin/env bash
# test.sh - run by `make test` after `make san`: every unit test binary build/san/tests/test_*
# (cmocka), then the integration suite (tests/integration/run.py) against
# build/san/watchkeeper. Ends with one line `N passed, N failed` (totals) and exits non-zero
# when anything failed, crashed, leaked, or was missing.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
PY=/usr/bin/python3
BIN=${WK_BINARY:-build/san/watchkeeper}
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"

passed=0
failed=0
sanitizer_re='AddressSanitizer|LeakSanitizer|runtime error:'

# Unit tests: a source without a binary is a failure (the build did not make it).
for src in tests/unit/test_*.c; do
	[ -e "$src" ] || continue
	bin=build/san/tests/$(basename "$src" .c)
	if [ ! -x "$bin" ]; then
		echo "not ok - $bin: missing (not built)"
		failed=$((failed + 1))
	fi
done
for bin in build/san/tests/test_*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
	name=$(basename "$bin")
	log=$LOGDIR/$name.log
	echo "== $name"
	timeout 300 "$bin" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -aE '^\[  PASSED  \] [0-9]+ test\(s\)\.' "$log" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
	f=$(grep -aE '^\[  FAILED  \] [0-9]+ test\(s\), listed below:' "$log" | grep -oE '[0-9]+' | head -n 100 |
		awk '{s+=$1} END {print s+0}')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name: no cmocka summary (exit $rc): crashed or ran no test"
		failed=$((failed + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name: exit $rc although no test failed (sanitizer, leak or crash at exit)"
		failed=$((failed + 1))
	elif [ "$f" -eq 0 ] && grep -qaE "$sanitizer_re" "$log"; then
		echo "not ok - $name: sanitizer report in the output"
		failed=$((failed + 1))
	fi
done

# The fake Teams peers check themselves (their tokens against their own JWKS, forgeries
# failing): a fake that drifted from the protocol would make the Teams tests prove nothing.
echo "== fake peers"
if timeout 120 "$PY" tests/integration/fake_teams_selftest.py > "$LOGDIR/fake_teams_selftest.log" 2>&1; then
	echo "ok - fake_teams self-test"
	passed=$((passed + 1))
else
	tail -n 20 "$LOGDIR/fake_teams_selftest.log"
	echo "not ok - fake_teams self-test"
	failed=$((failed + 1))
fi

# Integration suite.
echo "== integration ($BIN)"
ilog=$LOGDIR/integration.log
if [ ! -x "$BIN" ]; then
	echo "not ok - $BIN: missing (not built)"
	failed=$((failed + 1))
else
	timeout 1800 "$PY" tests/integration/run.py --binary "$BIN" 2>&1 | tee "$ilog"
	rc=${PIPESTATUS[0]}
	line=$(grep -aE '^integration-result passed=[0-9]+ failed=[0-9]+$' "$ilog" | tail -n 1)
	if [ -z "$line" ]; then
		echo "not ok - integration suite: no result line (exit $rc)"
		failed=$((failed + 1))
	else
		ip=$(echo "$line" | sed -E 's/.*passed=([0-9]+).*/\1/')
		if_=$(echo "$line" | sed -E 's/.*failed=([0-9]+).*/\1/')
		passed=$((passed + ip))
		failed=$((failed + if_))
		if [ "$rc" -ne 0 ] && [ "$if_" -eq 0 ]; then
			echo "not ok - integration suite: exit $rc with no failed test"
			failed=$((failed + 1))
		fi
	fi
fi

# CI shows only the head and tail of this output: name every failure once more.
if [ "$failed" -ne 0 ]; then
	grep -ahE '^(# failed: |\[  FAILED  \] [^0-9])' "$LOGDIR"/*.log | head -n 40
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
