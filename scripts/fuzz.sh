#!/bin/bash
# Run every libFuzzer target for SECONDS in all (SECONDS/4 each, default
# 300) and print the executions per target. Builds $FUZZ_BUILD (default
# build-fuzz) with clang and -Dfuzz=true when needed. Each target starts
# from its committed seed corpus (tests/fuzz/corpus/<name>, read only);
# what it finds goes to $FUZZ_BUILD/corpus/<name>, crashes to
# $FUZZ_BUILD/crashes/. Exit 1 when any target finds a crash.
set -uo pipefail
cd "$(dirname "$0")/.."
total="${1:-300}"
dir="${FUZZ_BUILD:-build-fuzz}"
targets="fuzz_timefmt fuzz_duration fuzz_config fuzz_cron"
per=$((total / 4))
[ "$per" -ge 1 ] || per=1

if [ ! -f "$dir/build.ninja" ]; then
  CC=clang meson setup "$dir" -Dfuzz=true >/dev/null || exit 1
elif ! grep -q "fuzz_timefmt" "$dir/build.ninja"; then
  meson configure "$dir" -Dfuzz=true >/dev/null || exit 1
fi
ninja -C "$dir" $(for t in $targets; do echo "tests/fuzz/$t"; done) >/dev/null || {
  echo "fuzz: build failed in $dir" >&2; exit 1; }

status=0
mkdir -p "$dir/crashes"
for t in $targets; do
  name="${t#fuzz_}"
  work="$dir/corpus/$name"
  mkdir -p "$work"
  log="$dir/fuzz-$name.log"
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}" \
    "$dir/tests/fuzz/$t" -max_total_time="$per" -print_final_stats=1 \
      -artifact_prefix="$dir/crashes/$name-" -timeout=10 -rss_limit_mb=2048 \
      "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "$t: FAILED after ${runs:-?} executions (log: $log)"
    grep -m5 -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | sed 's/^/  /'
  else
    echo "$t: ${runs:-?} executions in ${per}s, no crash"
  fi
done
exit $status
