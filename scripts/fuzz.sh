#!/usr/bin/env bash
# Run libFuzzer targets for a bounded time each and summarise.
#
#   scripts/fuzz.sh build/fuzz/fuzz_form build/fuzz/fuzz_cmdline
#
# Each target runs for FUZZ_SECONDS (default 30) on a corpus kept under
# build/fuzz/corpus/<name>, seeded from tests/fuzz/seeds/<name>/ and using the
# dictionary tests/fuzz/seeds/<name>.dict when those exist. The full log goes
# to build/fuzz/<name>.log and crash inputs to build/fuzz/artifacts/. Prints
# one line per target; exits 1 if any target crashed, leaked, timed out or
# could not run.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-30}
out=$root/build/fuzz
status=0

if [ $# -eq 0 ]; then
	echo "usage: $0 FUZZ_BINARY..." >&2
	exit 2
fi
mkdir -p "$out/artifacts"

for bin in "$@"; do
	name=$(basename "$bin")
	corpus=$out/corpus/$name
	seeds=$root/tests/fuzz/seeds/$name
	dict=$root/tests/fuzz/seeds/$name.dict
	log=$out/$name.log

	if [ ! -x "$bin" ]; then
		echo "$name: FAIL (not an executable: $bin)"
		status=1
		continue
	fi
	mkdir -p "$corpus"
	# -n: never overwrite what earlier runs found under the same name.
	[ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null
	args=(-max_total_time="$seconds" -max_len=8192 -timeout=10
	      -artifact_prefix="$out/artifacts/$name-" -print_final_stats=1)
	[ -f "$dict" ] && args+=(-dict="$dict")

	"$bin" "${args[@]}" "$corpus" >"$log" 2>&1
	rc=$?

	# The last status line looks like "#123 DONE cov: 45 ft: 67 corp: ... exec/s: 890 ...".
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	corp=$(find "$corpus" -type f | wc -l | tr -d ' ')
	# UBSan built without -fno-sanitize-recover only prints; count that as a crash.
	if [ "$rc" -eq 0 ] && grep -q 'runtime error:' "$log"; then
		rc=99
	fi
	if [ "$rc" -eq 0 ]; then
		echo "$name: ok runs=${runs:-?} exec/s=${eps:-?} cov=${cov:-?} ft=${ft:-?} corpus=$corp (${seconds}s)"
	else
		what=$(grep -m 1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error|check failed' "$log")
		artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		echo "$name: CRASH rc=$rc ${what:-see log} artifact=${artifact:-none} log=$log"
		status=1
	fi
done
exit $status
