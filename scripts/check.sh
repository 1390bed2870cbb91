#!/bin/bash
# Run every test suite and end with the plain line "N passed, N failed".
# Tests are cmocka binaries speaking TAP; cases are counted from the TAP
# lines meson records, so the total counts test cases, not binaries.
set -uo pipefail
build="${1:-build}"
log="$build/meson-logs/testlog.txt"
status=0

meson test -C "$build" --print-errorlogs --num-processes 2 || status=1

passed=$(grep -cE '^ok [0-9]+' "$log" || true)
skipped=$(grep -cE '^ok [0-9]+ .*# SKIP' "$log" || true)
failed=$(grep -cE '^not ok [0-9]+' "$log" || true)
# A binary that died before reporting its cases still counts as a failure.
dead=$(grep -cE '^[0-9]+/[0-9]+ .* (FAIL|ERROR|TIMEOUT) ' "$log" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=$((dead > 0 ? dead : 1)); fi
passed=$((passed - skipped))
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
