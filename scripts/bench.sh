#!/bin/bash
# make bench: every benchmark, one after the other, with the machine named.
set -euo pipefail
build="${1:-build}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "== bench/sweep";   bench/sweep "$build"
echo "== bench/daemon";  bench/daemon "$build"
echo "== bench/cleanup"; bench/cleanup 1000000 "$build"
echo "== bench/cron";    bench/cron "$build"
