# shellcheck shell=bash
# build-steps.sh — what build-offline.sh and build-conformance.sh share: one run of each at a time,
# the log, say/die/need, run_step and the Go environment. Sourced after versions.sh, then:
#
#   build_steps_start NAME [STEP_PREFIX]
#
# NAME (build-offline) names the lock ($BOOK_CACHE/.NAME.lock), the log ($BOOK_CACHE/logs/NAME.log)
# and say's tag; STEP_PREFIX goes before each step's name in timings.tsv. The caller's EXIT trap
# calls build_steps_cleanup: die may end the script in the middle of a step.
: "${BOOK_CACHE:?build-steps.sh needs versions.sh sourced first (BOOK_CACHE)}"

# Go environment: only the module proxy is reachable; never fetch a toolchain.
export GOTOOLCHAIN=local
export CGO_ENABLED=0
export GOFLAGS="-buildvcs=false -mod=mod"

build_name=build
step_prefix=
log=/dev/null
timings=/dev/null
# The running step's timing file, removed however the script ends.
step_tfile=

build_steps_start() {
  build_name=$1
  step_prefix=${2:-}
  local logdir=$BOOK_CACHE/logs
  log=$logdir/$build_name.log
  timings=$logdir/timings.tsv
  mkdir -p "$logdir"
  # One run at a time: a second one (another provision, a CI retry) waits, then finds the cache warm.
  exec 9>"$BOOK_CACHE/.$build_name.lock"
  if ! flock -n 9; then
    echo "[$build_name] another $build_name.sh is running; waiting for it (log: $log)"
    flock 9
  fi
  [[ -f $timings ]] || printf 'date\tstep\twall_seconds\tmax_rss_kb\n' >"$timings"
}

build_steps_cleanup() { rm -f "$step_tfile"; }

say() { printf '[%s %(%H:%M:%S)T] %s\n' "$build_name" -1 "$*" | tee -a "$log"; }
die() { say "ERROR: $*"; echo "  full log: $log" >&2; exit 1; }
need() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is missing (install it: see vagrant/provision.sh)"
  done
}

# run_step NAME CMD... — runs CMD niced, output to the log, wall time + peak RSS to timings.tsv.
run_step() {
  local name=$1; shift
  local tfile start rc=0 wall rss
  tfile=$(mktemp "${TMPDIR:-/tmp}/$build_name-time.XXXXXX")
  step_tfile=$tfile
  start=$(date +%s)
  say "  $name: running (log: $log)"
  if [[ -x /usr/bin/time ]]; then
    nice -n "${BOOK_BUILD_NICE:-10}" /usr/bin/time -v -o "$tfile" "$@" >>"$log" 2>&1 || rc=$?
  else
    nice -n "${BOOK_BUILD_NICE:-10}" "$@" >>"$log" 2>&1 || rc=$?
  fi
  wall=$(( $(date +%s) - start ))
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tfile" 2>/dev/null || true)
  rm -f "$tfile"
  printf '%s\t%s%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$step_prefix" "$name" "$wall" "${rss:-?}" >>"$timings"
  if [[ $rc -ne 0 ]]; then
    tail -n 30 "$log" >&2
    die "$name failed (exit $rc) after ${wall}s"
  fi
  say "  $name: done in ${wall}s, peak RSS ${rss:-?} kB"
}
