#!/bin/bash
# Run every test suite and end with the plain line "N passed, N failed".
# Tests are cmocka binaries speaking TAP; cases are counted from the TAP
# lines meson records, so the total counts test cases, not binaries.
#
# Four passes, all counted in the final line:
#  1. the whole suite on the gcc build ($1, default build);
#  2. the whole suite again on build-asan: clang (so clang -Werror is
#     proven too) with AddressSanitizer + UndefinedBehaviorSanitizer,
#     leaks detected, the first UB report fatal;
#  3. the unit tests of pass 1 under valgrind memcheck: any error or any
#     leak (of any kind) fails the test;
#  4. each libFuzzer target for FUZZ_SECONDS/4 (default 60 s in all),
#     one counted case per target.
# CHECK_FAST=1 runs pass 1 only.
set -uo pipefail
build="${1:-build}"
asan="${ASAN_BUILD:-build-asan}"
status=0
passed=0 failed=0 skipped=0

# Add one meson test log's TAP cases to the totals.
count_log() {
  local log="$1" rc="$2" p s f dead
  p=$(grep -cE '^ok [0-9]+' "$log" || true)
  s=$(grep -cE '^ok [0-9]+ .*# SKIP' "$log" || true)
  f=$(grep -cE '^not ok [0-9]+' "$log" || true)
  # A binary that died before reporting its cases still counts as a failure.
  dead=$(grep -cE '^[0-9]+/[0-9]+ .* (FAIL|ERROR|TIMEOUT) ' "$log" || true)
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=$((dead > 0 ? dead : 1)); fi
  passed=$((passed + p - s)); skipped=$((skipped + s)); failed=$((failed + f))
}

# meson names the log <logbase>.txt, or <logbase>-<wrapper>.txt with
# --wrapper; the caller gives the name it will get.
run_meson_tests() { # label builddir logbase logname [meson test args...]
  local label="$1" dir="$2" logbase="$3" logname="$4" rc=0 t0=$SECONDS
  shift 4
  echo "== $label" >&2
  meson test -C "$dir" --print-errorlogs --num-processes 2 \
    --logbase "$logbase" "$@" || rc=1
  [ "$rc" -eq 0 ] || status=1
  count_log "$dir/meson-logs/$logname.txt" "$rc"
  echo "== $label: $((SECONDS - t0)) s" >&2
}

run_meson_tests "gcc: whole suite" "$build" testlog testlog

if [ "${CHECK_FAST:-0}" != 1 ]; then
  # 2. clang + ASan + UBSan
  if [ ! -f "$asan/build.ninja" ]; then
    CC=clang meson setup "$asan" -Db_sanitize=address,undefined \
      -Db_lundef=false -Dfuzz=true >/dev/null || status=1
  fi
  if ninja -C "$asan" >/dev/null; then
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
      run_meson_tests "clang ASan+UBSan: whole suite" "$asan" testlog-asan testlog-asan \
        --timeout-multiplier 3
  else
    echo "check: clang build in $asan failed" >&2
    status=1; failed=$((failed + 1))
  fi

  # 3. valgrind memcheck on the unit tests of the gcc build
  run_meson_tests "valgrind: unit tests" "$build" testlog-valgrind testlog-valgrind-valgrind \
    --suite unit --timeout-multiplier 10 \
    --wrapper "valgrind --quiet --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=1 --track-fds=no"

  # 4. fuzzing, about a minute in all
  echo "== fuzz" >&2
  t0=$SECONDS
  fuzz_out=$(FUZZ_BUILD="$asan" scripts/fuzz.sh "${FUZZ_SECONDS:-60}")
  frc=$?
  echo "$fuzz_out" >&2
  ok=$(grep -c ': .* executions in .*, no crash$' <<<"$fuzz_out" || true)
  bad=$(grep -c 'FAILED' <<<"$fuzz_out" || true)
  passed=$((passed + ok)); failed=$((failed + bad))
  if [ "$frc" -ne 0 ]; then status=1; [ "$bad" -gt 0 ] || failed=$((failed + 1)); fi
  echo "== fuzz: $((SECONDS - t0)) s" >&2
fi

echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
