#!/usr/bin/env bash
# cold-build.sh — proves the cold path: builds everything the machine needs into an EMPTY cache,
# with an empty Go module cache and build cache, RUNS times in a row, and prints each run's wall
# time and peak RSS (the figures in docs/machine.md). Nothing of the default cache is touched.
#
#   scripts/cold-build.sh [RUNS]        (default 2; a run takes 15-25 minutes on 2 cores)
#
# Keep the temporary caches for inspection with KEEP=1.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-2}
work=$(mktemp -d /var/tmp/cold-build.XXXXXX)
cleanup() { [[ ${KEEP:-0} == 1 ]] || rm -rf "$work"; }
trap cleanup EXIT
command -v /usr/bin/time >/dev/null || { echo "cold-build.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

for run in $(seq 1 "$runs"); do
  dir=$work/run-$run
  mkdir -p "$dir/cache" "$dir/gomodcache" "$dir/gocache"
  start=$(date +%s)
  rc=0
  BOOK_CACHE=$dir/cache GOMODCACHE=$dir/gomodcache GOCACHE=$dir/gocache \
    /usr/bin/time -v -o "$dir/time.txt" "$here/vagrant/build-offline.sh" >"$dir/out.log" 2>&1 || rc=$?
  wall=$(( $(date +%s) - start ))
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time.txt")
  if [[ $rc -ne 0 ]]; then
    tail -n 20 "$dir/out.log" >&2
    echo "run $run: FAILED (exit $rc) after ${wall}s" >&2
    exit 1
  fi
  printf 'run %s: ok, wall %s s (%s min), peak RSS %s MB; steps:\n' "$run" "$wall" "$(( wall / 60 ))" "$(( ${rss:-0} / 1024 ))"
  awk -F'\t' 'NR > 1 { printf "  %-28s %5s s  %6d MB\n", $2, $3, $4 / 1024 }' "$dir/cache/logs/timings.tsv"
  # Each run starts from nothing again.
  rm -rf "$dir"
done
